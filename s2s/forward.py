"""Stage 4 (forward): forward mode. Turns a core function into its JVP: the user's statements
in order, each active one followed by its tangent statement(s), instantiated from the op's
`@tangent` template. No tape: forward mode only carries `t_x` beside `x`.

Static state tracked along the walk:
  N  the active names whose tangent is (possibly) nonzero: a tangent variable exists; every
     other tangent is known to be zero, so no `t_v = 0.0 * ...` is ever written;
  O  the names whose tangent is an owned container/array (made by `zeros_tangent` or
     `owned_tangent`), so `t_x[i] = t_v` may write into it;
  D  the names that are definitely assigned (a zero tangent is materialized from them).
Branches merge by union (N) / intersection (O, D), loops iterate to a fixpoint, and a tangent
that is zero on one path and not on another is materialized on the zero path.
"""

from __future__ import annotations

import dataclasses
import inspect
import operator
import os
import re
from dataclasses import dataclass, field
from typing import Any

import gast

from s2s import adjoints
from s2s.backends import tangents as _tangents  # noqa: F401  (registers the helpers)

from . import analyze as A
from . import emit, idioms
from .classes import display_name, is_namedtuple, unit_name
from .errors import NoRuleError, UnsupportedSyntaxError
from .functions import callee_functions, check_closure_uses
from .nodes import blocks, calls, children, copy_tree, walk
from .nodes import names as name_nodes
from .normalize import CoreFunction, assign, const, load_copy, name, normalize, store
from .optimize import optimize
from .parse import parse_function

_VIEW_FREE_BINOPS = (
    gast.Add,
    gast.Sub,
    gast.Mult,
    gast.Div,
    gast.MatMult,
    gast.Pow,
    gast.Mod,
    gast.FloorDiv,
)


def _call(fn: str, *args: Any, **kwargs: Any) -> gast.Call:
    return gast.Call(
        func=name(fn),
        args=list(args),
        keywords=[gast.keyword(arg=k, value=v) for k, v in kwargs.items()],
    )


class _Zero(gast.AST):
    """A tangent known to be zero, while a template is being simplified."""

    _fields = ()

    def __init__(self, scalar: bool) -> None:
        super().__init__()
        self.scalar = scalar


@dataclass
class State:
    N: set[str] = field(default_factory=set)
    O: set[str] = field(default_factory=set)  # noqa: E741
    D: set[str] = field(default_factory=set)
    P: set[str] = field(default_factory=set)  # names holding a Python number right now

    def copy(self) -> State:
        return State(set(self.N), set(self.O), set(self.D), set(self.P))


@dataclass
class Unit:
    fn: Any
    name: str
    defs: list = field(default_factory=list)
    tparams: dict = field(default_factory=dict)
    positional: bool = False  # its tangent parameters follow its own, by position


class ForwardProgram:
    """Every JVP function one request generates: the entry, and one `jvp_g` per (user function,
    active parameters) it calls, each made once (so recursion works)."""

    def __init__(self, pure_calls: set[str], optimize: bool = True) -> None:
        self.units: dict[tuple, Unit] = {}
        self.order: list[tuple] = []
        self.used_names: set[str] = set()
        self.pure_calls = pure_calls
        self.optimize = optimize
        self.assumed: set[tuple[int, str]] = set()
        self.assumed_dicts: dict[int, dict] = {}
        #: a gradient must come from reverse mode: the code holds an `insert_grad_of` block or
        #: uses a custom rule (see `transform.generate`'s forward-mode gradients)
        self.reverse_only = False

    def unique(self, base: str) -> str:
        out = base
        k = 2
        while out in self.used_names:
            out = f"{base}_{k}"
            k += 1
        self.used_names.add(out)
        return out

    def assume(self, core: CoreFunction, names: set[str]) -> None:
        """Record that the code assumes these module globals of `core` hold Python numbers."""
        g = core.namespace.globals
        self.assumed_dicts[id(g)] = g
        self.assumed |= {(id(g), n) for n in names}

    def assumptions(self) -> list[tuple[dict, str]]:
        return [(self.assumed_dicts[i], n) for i, n in sorted(self.assumed)]

    def request(
        self,
        fn: Any,
        active: tuple[str, ...],
        numbers: frozenset = frozenset(),
        ones: frozenset = frozenset(),
        method: Any = None,
        functions: frozenset = frozenset(),
    ) -> tuple[str, dict[str, str], bool]:
        """The name of the JVP of `fn` in `active` (specialized to the parameters `numbers`
        that hold Python numbers, and to those of `ones` whose tangent is the number 1.0), the
        names of the tangent parameters it takes, and whether they may be passed by position
        (after the call's own positional arguments)."""
        self_class = method.cls if method is not None and not method.static else None
        key = (fn, active, numbers, ones, self_class, functions)
        if key in self.units:
            u = self.units[key]
            return u.name, u.tparams, u.positional
        unit = Unit(fn=fn, name=self.unique(f"jvp_{unit_name(fn, method, functions)}"))
        core = normalize(parse_function(fn), self_class, dict(functions))
        fwd = Forward(core, list(active), self, numbers, ones)
        args = core.args
        unit.positional = not (args.defaults or args.kwonlyargs or args.posonlyargs)
        unit.tparams = {p: fwd.t(p) for p in active if p not in fwd.ones}
        self.units[key] = unit
        self.order.append(key)
        unit.defs = [fwd.build(unit.name, entry=False)]
        return unit.name, unit.tparams, unit.positional


class Forward:
    """Forward-mode transformer for one core function."""

    def __init__(
        self,
        core: CoreFunction,
        wrt: list[str],
        program: ForwardProgram,
        numbers: Any = frozenset(),
        ones: Any = frozenset(),
    ) -> None:
        self.core = core
        self.wrt = wrt
        self.program = program
        self.numbers = frozenset(numbers)  # parameters the call passes Python numbers for
        self.infos: dict[int, A.StmtInfo] = {}
        for s in A.walk_stmts(core.body):
            info = self.infos[id(s)] = A.classify(core, s)
            if info.target is None and _writes_first_argument(info):
                info.target = info.args[0].id  # `add_at(d_x, i, g)` updates d_x
        check_closure_uses(core, self.infos)
        #: s2s made this function (forward over reverse): its `tape` carries tangents
        self.tape = "tape" if _is_generated(core) and "tape" in core.locals else None
        seeds = wrt + [self.tape] if self.tape and self.tape not in wrt else wrt
        self.active = A.activity(core, seeds, self.infos)
        if self.tape:
            # what a forward sweep pushes is an output too (its backward sweep pops it)
            as_output = dataclasses.replace(core, result=self.tape)
            self.active |= A.activity(as_output, seeds, self.infos)
            self.active.add(self.tape)
        self.kinds = A.kinds(core, self.infos)
        self.scalars = A.scalar_names(core, self.infos, self.numbers)
        #: written-out sigmoids and their log-likelihoods (`idioms.py`), by their last
        #: statement: its tangent is the idiom's (`t_u * p * (1 - p)`, `t_u * (y - p)`), the
        #: chain's other statements get none
        self.idioms = idioms.find(core.body, self.infos, "tangent", self.active)
        self.absorbed = idioms.absorbed(self.idioms)
        #: parameters whose tangent is the number 1.0 (a forward-mode gradient's `wrt`, and
        #: what a caller passes it on to) that the function never assigns: their tangent is
        #: that constant throughout, not a parameter (`t_x * a` folds to `a`)
        assigned = A.assigned_in(core.body, self.infos)
        indexed = {  # on a path a number never takes: `1.0[i]` would not compile
            s.value.value.id
            for s in A.walk_stmts(core.body)
            if isinstance(s, gast.Assign)
            and isinstance(s.value, gast.Subscript)
            and isinstance(s.value.value, gast.Name)
        }
        self.ones = frozenset(
            p for p in ones if p in wrt and p in self.scalars and p not in assigned | indexed
        )
        program.assume(core, A.number_globals(core))  # the caller checks they still are
        self.counter = core.counter
        self.taken = set(core.locals) | set(core.params)
        self.t_names: dict[str, str] = {}
        self.dry = 0
        self.popped: set[str] = set()  # names whose tangent came off the tape
        self._liveness()

    def _reads_of(self, s: Any) -> list[str]:
        if isinstance(s, gast.If):
            return A.atom_names(s.test, self.core.locals)
        if isinstance(s, gast.For):
            return A.atom_names(s.iter, self.core.locals)
        if isinstance(s, gast.While):
            return A.atom_names(s.test, self.core.locals)
        if isinstance(s, gast.Return):
            return A.atom_names(s, self.core.locals)
        info = self.infos.get(id(s))
        if info is None:
            return []
        return list(info.operands) + ([info.partial] if info.partial else [])

    def _exposed(self, stmts: list, defined: set[str]) -> tuple[set[str], set[str]]:
        """Names read before being assigned in `stmts`, and the names surely assigned after."""
        exposed: set[str] = set()
        defined = set(defined)
        for t in stmts:
            exposed |= set(self._reads_of(t)) - defined
            if isinstance(t, gast.If):
                e1, d1 = self._exposed(t.body, defined)
                e2, d2 = self._exposed(t.orelse, defined)
                exposed |= e1 | e2
                defined = d1 & d2
            elif isinstance(t, (gast.For, gast.While)):
                start = defined | ({t.target.id} if isinstance(t, gast.For) else set())
                exposed |= self._exposed(t.body, start)[0]
            else:
                info = self.infos.get(id(t))
                if info is not None and info.target:
                    defined.add(info.target)
        return exposed, defined

    def _liveness(self) -> None:
        """For each branch and loop: the names read outside it, and (loops) the names its body
        reads before assigning them. A tangent is materialized only where it can be read."""
        from collections import Counter

        total: Counter = Counter()
        for s in A.walk_stmts(self.core.body):
            total.update(self._reads_of(s))
        self.outside: dict[int, set[str]] = {}
        self.exposed: dict[int, set[str]] = {}
        for s in A.walk_stmts(self.core.body):
            if not isinstance(s, (gast.If, gast.For, gast.While)):
                continue
            inside: Counter = Counter()
            for t in A.walk_stmts([s]):
                inside.update(self._reads_of(t))
            self.outside[id(s)] = {v for v, c in total.items() if c > inside.get(v, 0)}
            if isinstance(s, (gast.For, gast.While)):
                start = {s.target.id} if isinstance(s, gast.For) else set()
                exposed = set(self._reads_of(s)) | self._exposed(s.body, start)[0]
                self.exposed[id(s)] = exposed

    # -- names -----------------------------------------------------------------------------
    def t(self, var: str) -> str:
        if var not in self.t_names:
            base = f"t{var}" if var.startswith("_") and var[1:].isdigit() else f"t_{var}"
            while base in self.taken:
                base = base + "_"
            self.t_names[var] = base
        return self.t_names[var]

    def fresh(self) -> str:
        self.counter += 1
        return f"_{self.counter}"

    def error(self, cls: type, node: Any, message: str, hint: str | None = None) -> Exception:
        return self.core.info.error(cls, node, message, hint)

    def _is_scalar(self, a: Any) -> bool:
        if isinstance(a, gast.Constant):
            return type(a.value) in (int, float, bool) or a.value is None
        return isinstance(a, gast.Name) and a.id in self.scalars

    def _is_number(self, a: Any) -> bool:
        """`a` holds a Python int or float (not None, a bool, an array)."""
        if isinstance(a, gast.Constant):
            return type(a.value) in (int, float)
        return isinstance(a, gast.Name) and a.id in self.scalars

    def zero_of(self, atom: Any, st: State) -> Any:
        """A zero tangent for the value `atom` (an element of a container, a written item)."""
        if self._is_scalar(atom) or not isinstance(atom, gast.Name):
            return const(0.0)
        return _call("zeros_tangent", name(atom.id))

    def tangent_of(self, atom: Any, st: State) -> Any:
        """`t_v` for an atom with a nonzero tangent, else None."""
        if isinstance(atom, gast.Name) and atom.id in st.N:
            if atom.id in self.ones:
                one = const(1.0)
                one.s2s_tangent = True  # a tangent all the same (`_simplify`)
                return one
            return name(self.t(atom.id))
        return None

    def materialize(self, var: str, st: State, line: int | None) -> gast.Assign:
        if var in self.scalars or var in st.P or var not in st.D:
            node = assign(self.t(var), const(0.0), line)
        else:
            node = assign(self.t(var), _call("zeros_tangent", name(var)), line)
            st.O.add(var)
        st.N.add(var)
        node.s2s_tangent = True
        return node

    # -- the walk ---------------------------------------------------------------------------
    def block(self, stmts: list, st: State) -> list:
        out: list = []
        for s in stmts:
            out.extend(self.stmt(s, st))
        return out

    def stmt(self, s: Any, st: State) -> list:
        line = getattr(s, "s2s_line", None)
        if A.is_checkpoint(s):
            return self.block(s.body, st)  # checkpointing is reverse mode's affair
        if isinstance(s, gast.If):
            return self.if_stmt(s, st, line)
        if isinstance(s, (gast.For, gast.While)):
            return self.loop(s, st, line)
        if isinstance(s, (gast.Break, gast.Continue, gast.Pass)):
            return [copy_tree(s)]
        if isinstance(s, gast.Return):
            return []
        info = self.infos[id(s)]
        if info.kind == A.HOOK:
            self.program.reverse_only = True  # a gradient made in forward mode would skip it
            return []  # `with s2s.insert_grad_of(x)` acts on reverse mode's gradients only
        if getattr(s, "s2s_guard", False) and set(info.operands) <= self.scalars:
            return []  # `v += ...` on a Python number: a rebinding, as the core has it
        primal = copy_tree(s)
        primal.s2s_line = line
        primal.s2s_primal = True  # the user's statement: never folded (`x * 1.0` is a copy)
        if info.target is not None:
            v = getattr(s, "value", None)
            if (
                info.kind == A.CONST
                and isinstance(v, gast.Constant)
                and type(v.value) in (int, float)
            ):
                st.P.add(info.target)
            else:
                st.P.discard(info.target)
        if _is_pop(info) and info.args[0].id in st.N:
            return [primal] + self.pop_tangent(s, info, st, line)
        dest = info.target or info.partial
        if self._pushes_or_pops_tape(info):
            # a generated `fwd_g`/`bwd_g` pushes onto or pops the tape: its tangent version
            # must run even when its results carry no tangent, to keep the tangent tape in step
            dest = self.tape
        if dest is None or dest not in self.active or id(s) in self.absorbed:
            if info.target is not None:
                st.N.discard(info.target)
                st.O.discard(info.target)
                st.D.add(info.target)
            return [primal]
        before, after, primal = self.tangent_stmts(s, info, st, primal, line)
        primal.s2s_primal = True
        if info.target is not None:
            st.D.add(info.target)
        for node in before + after:
            node.s2s_line = line
            node.s2s_tangent = True
        return before + [primal] + after

    def set_tangent(
        self, y: str, value: Any, st: State, aliases: set[str] | None = None, owned: bool = False
    ) -> list:
        """`t_y = value` (value None: the tangent is zero)."""
        st.O.discard(y)
        if aliases:
            st.O -= aliases
        if value is None:
            st.N.discard(y)
            return []
        st.N.add(y)
        if owned:
            st.O.add(y)
        return [assign(self.t(y), value, None)]

    def tangent_stmts(
        self, s: Any, info: A.StmtInfo, st: State, primal: Any, line: int | None
    ) -> tuple[list, list, Any]:
        kind = info.kind
        y = info.target
        if kind == A.COPY:
            return [], self.set_tangent(y, self.copy_tangent(s.value, st), st), primal
        if kind == A.ATTR and isinstance(s.value.value, gast.Name):
            t = self.tangent_of(s.value.value, st)
            if t is not None:  # `v = p.W`: a field of a NamedTuple or a dataclass
                where = A.field_location(self.core, s)
                value = _call(
                    "field_tangent", t, name(s.value.value.id), const(s.value.attr), const(where)
                )
                return [], self.set_tangent(y, value, st), primal
        if kind in (A.CONST, A.NONDIFF, A.ATTR):
            return [], self.set_tangent(y, None, st), primal
        if kind == A.GETITEM:
            base = s.value.value
            t = self.tangent_of(base, st)
            if t is None:
                value = None
            elif isinstance(base, gast.Name) and base.id in self.popped:
                # a tangent taken off the tape may be the 0.0 of a range or container
                value = gast.Call(
                    func=name("item_tangent"), args=[t, _index_value_of(s.value.slice)], keywords=[]
                )
            else:
                value = gast.Subscript(value=t, slice=_index(s.value.slice), ctx=gast.Load())
            return [], self.set_tangent(y, value, st), primal
        if kind == A.BUILD:
            value = s.value
            if info.op is not None:
                return [], self.set_tangent(y, self.build_tangent(value, st, info), st), primal
            if not (value.values if isinstance(value, gast.Dict) else value.elts):
                return [], self.set_tangent(y, copy_tree(value), st, owned=True), primal
            return [], self.set_tangent(y, self.build_tangent(s.value, st), st), primal
        if kind == A.SETITEM:
            tgt = s.targets[0]
            x = tgt.value.id
            tv = self.tangent_of(s.value, st)
            if tv is None and x not in st.N:
                return [], [], primal
            before = self.own(x, st, line)
            value = tv if tv is not None else self.zero_of(s.value, st)
            sub = gast.Subscript(value=name(self.t(x)), slice=_index(tgt.slice), ctx=gast.Store())
            return before, [gast.Assign(targets=[sub], value=value, type_comment=None)], primal
        if kind == A.APPEND:
            x = info.partial
            v = info.args[0]
            tv = self.tangent_of(v, st)
            if tv is None and x not in st.N:
                return [], [], primal
            before = self.own(x, st, line)
            value = tv if tv is not None else self.zero_of(v, st)
            app = gast.Expr(
                value=gast.Call(
                    func=gast.Attribute(value=name(self.t(x)), attr="append", ctx=gast.Load()),
                    args=[value],
                    keywords=[],
                )
            )
            return before, [app], primal
        if kind == A.OP:
            return [], self.op_tangent(s, info, st), primal
        if kind == A.USER:
            return self.user_call(s, info, st, primal)
        return [], self.set_tangent(y, None, st), primal

    def own(self, x: str, st: State, line: int | None) -> list:
        """Make `t_x` an owned tangent before `x` is written in place."""
        if x in st.O:
            return []
        if x in st.N:
            node = assign(self.t(x), _call("owned_tangent", name(self.t(x)), name(x)), line)
        else:
            node = assign(self.t(x), _call("zeros_tangent", name(x)), line)
        st.N.add(x)
        st.O.add(x)
        return [node]

    def copy_tangent(self, value: Any, st: State) -> Any:
        """`y = x`, `y = x.real`, `y = x.astype(...)`, `y = x.item()`: the tangent of `x`,
        converted the same way."""
        if isinstance(value, gast.Name):
            return self.tangent_of(value, st)
        if isinstance(value, gast.Attribute):  # x.real
            t = self.tangent_of(value.value, st)
            return (
                None
                if t is None
                else gast.Call(
                    func=gast.Attribute(value=name("np"), attr="real", ctx=gast.Load()),
                    args=[t],
                    keywords=[],
                )
            )
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute):
            t = self.tangent_of(value.func.value, st)
            if t is None:
                return None
            meth = value.func.attr
            if meth == "__float__":
                return _call("float", t)
            wrapped = gast.Call(
                func=gast.Attribute(value=name("np"), attr="asarray", ctx=gast.Load()),
                args=[t],
                keywords=[],
            )
            return gast.Call(
                func=gast.Attribute(value=wrapped, attr=meth, ctx=gast.Load()),
                args=[copy_tree(a) for a in value.args],
                keywords=copy_tree(value.keywords),
            )
        raise TypeError(f"unexpected copy form {gast.dump(value)}")

    def build_tangent(self, value: Any, st: State, info: A.StmtInfo | None = None) -> Any:
        if info is not None and info.op is not None:
            return self.constructor_tangent(info, st)
        if isinstance(value, gast.Dict):
            vals = value.values
        else:
            vals = value.elts
        ts = [self.tangent_of(v, st) for v in vals]
        if all(t is None for t in ts):
            return None
        elts = [t if t is not None else self.zero_of(v, st) for t, v in zip(ts, vals, strict=True)]
        if isinstance(value, gast.Dict):
            return gast.Dict(keys=[copy_tree(k) for k in value.keys], values=elts)
        if isinstance(value, gast.Tuple):
            return gast.Tuple(elts=elts, ctx=gast.Load())
        return gast.List(elts=elts, ctx=gast.Load())

    def constructor_tangent(self, info: A.StmtInfo, st: State) -> Any:
        """The tangent of `State(h, c)`: a tuple of the fields' tangents, in order, for a
        NamedTuple; a dict of them by name for a dataclass (as `field_tangent` reads them)."""
        given = info.keywords
        ts = {k: self.tangent_of(v, st) for k, v in given.items()}
        if all(t is None for t in ts.values()):
            return None
        if not is_namedtuple(info.op):
            keys = [k for k in given if ts[k] is not None]
            return gast.Dict(keys=[const(k) for k in keys], values=[ts[k] for k in keys])
        elts = [
            ts[k]
            if ts.get(k) is not None
            else (self.zero_of(given[k], st) if k in given else const(0.0))
            for k in info.op._fields
        ]
        return gast.Tuple(elts=elts, ctx=gast.Load())

    # -- ops: template instantiation --------------------------------------------------------
    def op_tangent(self, s: Any, info: A.StmtInfo, st: State) -> list:
        y = info.target
        op = info.op
        idiom = self.idioms.get(id(s))
        if idiom is not None:
            info = idiom.info(info)
        if not any(isinstance(a, gast.Name) and a.id in st.N for a in _atoms(info)):
            return self.set_tangent(y, None, st) if y else []
        if op is operator.add and any(
            isinstance(a, gast.Name) and self.kinds.get(a.id) == "container" for a in info.args
        ):
            # list/tuple concatenation: each side's tangent, zeros of the right length
            a, b = info.args
            ta = self.tangent_of(a, st) or self.zero_of(a, st)
            tb = self.tangent_of(b, st) or self.zero_of(b, st)
            return self.set_tangent(y, gast.BinOp(left=ta, op=gast.Add(), right=tb), st)
        if (
            op == ("method", "get")
            and 2 <= len(info.args) <= 3
            and y is not None
            and _is_generated(self.core)
        ):
            # a generated gradient's `d_d.get(key, 0.0)` of an adjoint dict (forward over
            # reverse): the entry's tangent, or the default's (user code's `.get` has no
            # reverse rule, so forward mode does not take it either)
            recv, key = info.args[0], info.args[1]
            default = info.args[2] if len(info.args) == 3 else const(None)
            value = _call(
                "get_tangent",
                self.tangent_of(recv, st) or const(0.0),
                copy_tree(recv),
                copy_tree(key),
                self.tangent_of(default, st) or const(0.0),
            )
            return self.set_tangent(y, value, st)
        rule = adjoints.lookup(op) if not isinstance(op, tuple) else None
        if rule is None and not isinstance(op, tuple):
            from s2s.adjoints import runtime_rules  # helpers a generated gradient calls

            rule = runtime_rules.lookup(op)
        if rule is None or rule.tangent is None:
            raise self._no_rule(s, info, rule)
        if rule.family == "custom":
            self.program.reverse_only = True  # the user's adjoint defines its gradient
        tpl = rule.tangent if idiom is None else idiom.templates()[1]
        zero = rule.adjoint.zero if rule.adjoint is not None and idiom is None else tpl.zero
        try:
            bound = tpl.signature.bind(None, *info.args, **info.keywords)
        except TypeError as exc:
            raise self.error(
                UnsupportedSyntaxError,
                s,
                f"the call does not match {tpl.fn.__name__}'s signature: {exc}",
            ) from exc
        bound.apply_defaults()
        env: dict[str, Any] = {}
        for p in tpl.params[1:]:
            v = bound.arguments[p]
            env[p] = v if isinstance(v, gast.AST) else const(v)
        result = tpl.params[0]
        read = {
            n.slice.id
            for stmt in tpl.body
            for n in walk(stmt.value)
            if _is_d(n) and isinstance(n.slice, gast.Name)
        }
        for p in tpl.params[1:]:
            atom = env[p]
            if isinstance(atom, gast.Name) and atom.id in st.N and p not in read and p not in zero:
                raise self.error(
                    NoRuleError,
                    s,
                    f"`{adjoints.registry._qualname(op)}` has no tangent with respect to its "
                    f"argument {p!r}, and {atom.id!r} depends on the differentiated input",
                    f"pass s2s.stop_gradient({atom.id}) if no derivative should flow there, "
                    f"or register a tangent rule that reads d[{p}] with @s2s.tangent",
                )
        env[result] = name(y) if y else const(None)
        renames: dict[str, Any] = {}
        pre: list = []
        out_value = None
        for stmt in tpl.body:
            if not isinstance(stmt, gast.Assign):
                raise TypeError(f"template {tpl.fn.__name__}: only assignments allowed")
            tgt = stmt.targets[0]
            sub = _Subst(self, env, renames, result, st)
            value = sub.visit(copy_tree(stmt.value))
            value, kind = _simplify(value)
            if _is_d(tgt):
                if tgt.slice.id != result:
                    raise TypeError(f"tangent template {tpl.fn.__name__} writes d[{tgt.slice.id}]")
                if kind == "zero":
                    out_value = None
                else:
                    if kind == "tangent" and _narrowed(value):
                        others = [
                            a
                            for a in _atoms(info)
                            if not (isinstance(a, gast.Name) and a.id in st.N)
                        ]
                        if not all(self._is_scalar(a) for a in others):
                            value = _call("expand_tangent", _strip(value), name(y))
                    out_value = _strip(value)
            else:
                if kind == "zero":
                    renames[tgt.id] = _Zero(False)
                else:
                    new = self.fresh()
                    renames[tgt.id] = name(new)
                    pre.append(assign(new, _strip(value), None))
        if y is None:
            return []
        if out_value is None:
            return self.set_tangent(y, None, st)
        used = {n.id for n in name_nodes(out_value)}
        pre = [p for p in pre if p.targets[0].id in used]
        return pre + self.set_tangent(y, out_value, st, aliases=_aliases(out_value, self))

    def pop_tangent(self, s: Any, info: A.StmtInfo, st: State, line: int | None) -> list:
        """`y = xs.pop()` on a list with a tangent (a generated gradient's tape): the tangent
        list is popped in step, `t_y = t_xs.pop()`, whether or not `y` is active, so that the
        tangent of every later pop is the one pushed with its value."""
        xs = info.args[0].id
        y = info.target
        if len(info.args) != 1 or info.keywords:
            raise self._no_rule(s, info, None)
        pop = gast.Call(
            func=gast.Attribute(value=name(self.t(xs)), attr="pop", ctx=gast.Load()),
            args=[],
            keywords=[],
        )
        if y is not None:
            st.D.add(y)
            st.P.discard(y)
        if y is not None and y in self.active:
            self.popped.add(y)
            out = self.set_tangent(y, pop, st)
        else:
            if y is not None:
                st.N.discard(y)
                st.O.discard(y)
            out = [gast.Expr(value=pop)]
        for node in out:
            node.s2s_line = line
            node.s2s_tangent = True
        return out

    def _no_rule(self, s: Any, info: A.StmtInfo, rule: Any) -> Exception:
        op = info.op
        if isinstance(op, tuple) and op[0] == "method":
            return self.error(NoRuleError, s, *A.method_refusal(self.core, s, op[1]))
        if isinstance(op, tuple) and op[0] == "missing":
            return self.error(
                NoRuleError,
                s,
                "cannot resolve the called function",
                "call module-level functions by name",
            )
        qual = adjoints.registry._qualname(op)
        if rule is not None and rule.adjoint is not None:
            return self.error(
                NoRuleError,
                s,
                f"no forward-mode (tangent) rule for `{qual}`",
                f"register one with @s2s.tangent({qual}), or use reverse mode",
            )
        return self.error(
            NoRuleError,
            s,
            f"no derivative rule for `{qual}`",
            f"register one with @s2s.tangent({qual}), or use "
            "s2s.stop_gradient if its output needs no derivative",
        )

    # -- user functions ---------------------------------------------------------------------
    def _pushes_or_pops_tape(self, info: A.StmtInfo) -> bool:
        return (
            info.kind == A.USER
            and self.tape is not None
            and any(isinstance(a, gast.Name) and a.id == self.tape for a in info.args)
        )

    def user_call(self, s: Any, info: A.StmtInfo, st: State, primal: Any) -> tuple:
        fn = info.op
        y = info.target
        try:
            bound = inspect.signature(fn).bind(*info.args, **info.keywords)
        except TypeError as exc:
            raise self.error(
                UnsupportedSyntaxError, s, f"bad call of {fn.__name__}: {exc}"
            ) from exc
        params = list(inspect.signature(fn).parameters)
        active = tuple(
            p
            for p in params
            if isinstance(bound.arguments.get(p), gast.Name) and bound.arguments[p].id in st.N
        )
        if not active:
            return [], self.set_tangent(y, None, st) if y else [], primal
        if y is None:
            if not self._pushes_or_pops_tape(info):
                return [], [], primal  # result unused: the call's tangent is not needed
            y = self.fresh()  # run for its tape: the result and its tangent go unused
        args_t = {p: bound.arguments[p].id for p in active}
        functions = callee_functions(self.core, fn, bound.arguments)
        if self.dry:
            jname = f"jvp_{unit_name(fn, info.method, functions)}"
            tparams, positional = {p: f"t_{p}" for p in active}, False
        else:
            numbers = A.callee_numbers(fn, info.args, info.keywords, self._is_number)
            ones = frozenset(p for p in active if args_t[p] in self.ones)
            jname, tparams, positional = self.program.request(
                fn, active, numbers, ones, info.method, functions
            )
        call = primal.value
        passed = [p for p in active if p in tparams]  # (a tangent 1.0 the callee knows)
        tangents = [self.tangent_of(name(args_t[p]), st) for p in passed]
        if positional and not call.keywords:
            args, keywords = [load_copy(a) for a in info.args] + tangents, []
        else:
            args = [load_copy(a) for a in info.args]
            keywords = copy_tree(call.keywords) + [
                gast.keyword(arg=tparams[p], value=t) for p, t in zip(passed, tangents, strict=True)
            ]
        newcall = gast.Call(func=name(jname), args=args, keywords=keywords)
        tgt = gast.Tuple(elts=[store(y), store(self.t(y))], ctx=gast.Store())
        node = gast.Assign(targets=[tgt], value=newcall, type_comment=None)
        node.s2s_line = getattr(s, "s2s_line", None)
        node.s2s_tangent = True
        # the tangent tape stays owned: the callee appends to and pops the one list in place
        st.O -= (set(args_t.values()) | {y}) - {self.tape}
        st.N.add(y)
        guard = A.method_guard(self.core, s, info)
        return [guard] if guard is not None else [], [], node

    # -- control flow -----------------------------------------------------------------------
    def if_stmt(self, s: gast.If, st: State, line: int | None) -> list:
        s1, s2 = st.copy(), st.copy()
        body = self.block(s.body, s1)
        orelse = self.block(s.orelse, s2)
        N = s1.N | s2.N
        live = self.outside.get(id(s), set())
        for branch, bst in ((body, s1), (orelse, s2)):
            for v in sorted(N - bst.N):
                if v in self.active and v in live:
                    branch.append(self.materialize(v, bst, line))
        st.N = s1.N | s2.N
        st.O = s1.O & s2.O
        st.D = s1.D & s2.D
        st.P = s1.P & s2.P
        node = gast.If(test=copy_tree(s.test), body=body, orelse=orelse)
        node.s2s_line = line
        return [node]

    def _written_in_place(self, stmts: list) -> set[str]:
        out = set()
        for s in A.walk_stmts(stmts):
            info = self.infos.get(id(s))
            if info is not None and info.partial and info.partial in self.active:
                out.add(info.partial)
        return out

    def loop(self, s: Any, st: State, line: int | None) -> list:
        var = s.target.id if isinstance(s, gast.For) else None
        H = {x for x in self._written_in_place(s.body) if x in st.D}
        live = self.exposed.get(id(s), set()) | self.outside.get(id(s), set())
        Ps = set(st.P)
        while True:
            Ns, Os = set(st.N) | H, set(st.O) | H
            while True:
                probe = State(
                    set(Ns), set(Os), set(st.D) | ({var} if var else set()), set(st.P) & set(Ps)
                )
                if var:
                    probe.N.discard(var)
                self.dry += 1
                try:
                    self.block(s.body, probe)
                finally:
                    self.dry -= 1
                if probe.N <= Ns and Os <= probe.O and Ps <= probe.P:
                    break
                Ns |= probe.N
                Os &= probe.O
                Ps &= probe.P
            if H <= Os:
                break
            H &= Os
        before: list = []
        pre = st.copy()
        for v in sorted(H):
            before.extend(self.own(v, pre, line))
        for v in sorted(Ns - pre.N):
            if v in live:
                before.append(self.materialize(v, pre, line))
        for node in before:
            node.s2s_line = line
            node.s2s_tangent = True
        body_state = State(set(Ns), set(Os), set(st.D) | ({var} if var else set()), set(Ps))
        if var:
            body_state.N.discard(var)
        body = self.block(s.body, body_state)
        tail = []
        if body and _is_break_tail(s.body[-1] if s.body else None):
            tail = [body.pop()]
        for v in sorted(Ns - body_state.N):
            if v in live:
                body.append(self.materialize(v, body_state, line))
        body += tail
        st.N = set(Ns)
        st.O = set(Os)
        st.P = set(Ps)
        if isinstance(s, gast.For):
            node = gast.For(
                target=store(var),
                iter=copy_tree(s.iter),
                body=body,
                orelse=[],
                type_comment=None,
            )
        else:
            node = gast.While(test=copy_tree(s.test), body=body, orelse=[])
        node.s2s_line = line
        return before + [node]

    # -- assembling -------------------------------------------------------------------------
    def build(self, fname: str, *, entry: bool, grad: str | None = None) -> gast.FunctionDef:
        """The JVP function; with `grad` ("grad" or "value_and_grad"), for one `wrt` parameter
        that holds a Python number, the gradient instead: the tangent 1.0 carried forward
        (one pass, no tape), the output checked to be a real scalar."""
        core = self.core
        st = State(N={w for w in self.wrt if w in self.active}, D=set(core.params))
        if self.tape in self.wrt:
            st.O.add(self.tape)  # the caller's tangent tape, appended to and popped in place
        body = self.block(core.body, st)
        result = core.result
        tres: Any = (
            self.tangent_of(name(result), st)
            if result in st.N
            else _call("zeros_tangent", name(result))
        )
        file = os.path.basename(core.info.filename)
        where = f"{display_name(core)} ({file}:{core.info.def_line or core.info.first_lineno})"
        if grad:
            (w,) = self.wrt
            if result in self.scalars:  # a Python number out (a real scalar), a float back
                g = _call("float", tres if result in st.N else const(0.0))
            else:  # the output is checked to be a real scalar; the gradient is like `w`
                body = body + [gast.Expr(value=_call("seed", name(result), const(where)))]
                g = _call("grad_like", tres, name(w))
            value = gast.Tuple(elts=[name(result), g], ctx=gast.Load()) if grad != "grad" else g
            if w not in self.ones:
                body = [assign(self.t(w), const(1.0), None)] + body
            ret = gast.Return(value=value)
        else:
            if entry:
                tres = _call("tangent_like", tres, name(result))
            ret = gast.Return(value=gast.Tuple(elts=[name(result), tres], ctx=gast.Load()))
        body = body + [ret]
        _sink_tangent_temps(body)
        body = _comments(body[:-1], _lines(core)) + [body[-1]]
        if grad:
            what = "Gradient" if grad == "grad" else "Value and gradient"
            doc = (
                f"{what} of {where} with respect to {self.wrt[0]}, in forward mode (a number: "
                f"its tangent 1.0 is carried forward). Generated by s2s; do not edit."
            )
        else:
            ones = f" (the tangent of {', '.join(sorted(self.ones))}: 1.0)" if self.ones else ""
            doc = (
                f"Forward mode (JVP) of {where} with respect to {', '.join(self.wrt)}{ones}: "
                "returns (value, tangent). Generated by s2s; do not edit."
            )
        args = copy_tree(core.args)
        for a in list(args.posonlyargs) + list(args.args) + list(args.kwonlyargs):
            a.annotation = None
        tparams = [
            gast.Name(id=self.t(w), ctx=gast.Param(), annotation=None, type_comment=None)
            for w in self.wrt
            if w not in self.ones
        ]
        if grad:
            tparams = []  # the gradient takes the primal's parameters only
        if args.defaults or args.kwonlyargs:
            args.kwonlyargs = list(args.kwonlyargs) + tparams
            args.kw_defaults = list(args.kw_defaults) + [None] * len(tparams)
        else:
            args.args = list(args.args) + tparams
        fn = gast.FunctionDef(
            name=fname,
            args=args,
            body=[gast.Expr(value=const(doc))] + body,
            decorator_list=[],
            returns=None,
            type_comment=None,
            type_params=[],
        )
        if self.program.optimize:
            optimize(fn, self.program.pure_calls)
        return fn


# -- template substitution and simplification --------------------------------------------------


class _Subst(gast.NodeTransformer):
    def __init__(self, fwd: Forward, env: dict, renames: dict, result: str, st: State) -> None:
        super().__init__()
        self.fwd = fwd
        self.env = env
        self.renames = renames
        self.result = result
        self.st = st

    def visit_Subscript(self, node: gast.Subscript) -> Any:
        if _is_d(node):
            p = node.slice.id
            if p == self.result:
                raise TypeError("a tangent template reads the tangent of its own result")
            atom = self.env.get(p)
            t = self.fwd.tangent_of(atom, self.st)
            if t is not None:
                t.s2s_tangent = True
                return t
            return _Zero(self.fwd._is_scalar(atom))
        return self.generic_visit(node)

    def visit_Name(self, node: gast.Name) -> Any:
        if node.id in self.env:
            return load_copy(self.env[node.id])
        if node.id in self.renames:
            r = self.renames[node.id]
            return copy_tree(r)
        return node


def _simplify(node: Any) -> tuple[Any, str]:
    """Fold zero tangents out of a linear tangent expression. Returns (node, kind), kind one of
    "zero", "tangent" (reads a nonzero tangent), "primal"."""
    if isinstance(node, _Zero):
        return node, "zero"
    if isinstance(node, gast.Name | gast.Constant):
        return node, "tangent" if getattr(node, "s2s_tangent", False) else "primal"
    if isinstance(node, gast.BinOp):
        left, lk = _simplify(node.left)
        right, rk = _simplify(node.right)
        op = node.op
        if isinstance(op, (gast.Add, gast.Sub)):
            if lk == "zero" and rk == "zero":
                return left, "zero"
            if rk == "zero":
                return _mark_narrowed(left, right), lk
            if lk == "zero":
                out = (
                    right
                    if isinstance(op, gast.Add)
                    else gast.UnaryOp(op=gast.USub(), operand=right)
                )
                return _mark_narrowed(out, left), rk
        elif isinstance(op, (gast.Mult, gast.MatMult)):
            if lk == "zero" or rk == "zero":
                return _Zero(False), "zero"
            if isinstance(op, gast.Mult) and _is_one(right):
                return left, lk
            if isinstance(op, gast.Mult) and _is_one(left):
                return right, rk
        elif isinstance(op, gast.Div):
            if lk == "zero":
                return _Zero(False), "zero"
            if _is_one(right):
                return left, lk
        node.left, node.right = left, right
        return node, _combine(lk, rk)
    if isinstance(node, gast.UnaryOp):
        operand, k = _simplify(node.operand)
        if k == "zero":
            return operand, "zero"
        node.operand = operand
        return node, k
    if isinstance(node, gast.Call):
        kinds = []
        args = []
        for a in node.args:
            a2, k = _simplify(a)
            args.append(a2)
            kinds.append(k)
        kws = []
        for kw in node.keywords:
            v, k = _simplify(kw.value)
            kws.append(gast.keyword(arg=kw.arg, value=v))
            kinds.append(k)
        node.args = args
        node.keywords = kws
        if "tangent" in kinds:
            node.args = [_zero_const(a) for a in node.args]
            for kw in node.keywords:
                kw.value = _zero_const(kw.value)
            return node, "tangent"
        if "zero" in kinds:
            return _Zero(False), "zero"  # linear in its tangent arguments, all zero
        return node, "primal"
    if isinstance(node, gast.IfExp):
        body, bk = _simplify(node.body)
        orelse, ok = _simplify(node.orelse)
        if bk == "zero" and ok == "zero":
            return body, "zero"
        node.body, node.orelse = _zero_const(body), _zero_const(orelse)
        return node, _combine(bk, ok)
    kinds = []
    for fld, value in gast.iter_fields(node):
        if isinstance(value, list):
            new = []
            for v in value:
                if isinstance(v, gast.AST):
                    v, k = _simplify(v)
                    kinds.append(k)
                new.append(v)
            setattr(node, fld, new)
        elif isinstance(value, gast.AST):
            v, k = _simplify(value)
            kinds.append(k)
            setattr(node, fld, v)
    if (
        "zero" in kinds
        and "tangent" not in kinds
        and isinstance(node, (gast.Subscript, gast.Attribute))
    ):
        return _Zero(False), "zero"
    for fld, value in gast.iter_fields(node):
        if isinstance(value, _Zero):
            setattr(node, fld, const(0.0))
        elif isinstance(value, list):
            setattr(node, fld, [_zero_const(v) for v in value])
    return node, "tangent" if "tangent" in kinds else "primal"


def _combine(a: str, b: str) -> str:
    return "tangent" if "tangent" in (a, b) else ("zero" if "zero" in (a, b) else "primal")


def _zero_const(node: Any) -> Any:
    return const(0.0) if isinstance(node, _Zero) else node


def _mark_narrowed(node: Any, dropped: _Zero) -> Any:
    if not dropped.scalar:
        node.s2s_narrowed = True
    return node


def _narrowed(node: Any) -> bool:
    return any(getattr(n, "s2s_narrowed", False) for n in walk(node))


def _strip(node: Any) -> Any:
    """Remove the simplifier's marks (so a later deepcopy does not carry them)."""
    for n in walk(node):
        for attr in ("s2s_narrowed",):
            if hasattr(n, attr):
                delattr(n, attr)
    return node


def _is_one(node: Any) -> bool:
    return isinstance(node, gast.Constant) and type(node.value) is float and node.value == 1.0


def _aliases(expr: Any, fwd: Forward) -> set[str]:
    """Tangent variables whose storage the value of `expr` may share (then writing into them
    in place would change it): arithmetic makes fresh values, the rest may be views."""
    if isinstance(expr, gast.Name):
        inv = {v: k for k, v in fwd.t_names.items()}
        return {inv[expr.id]} if expr.id in inv else set()
    if isinstance(expr, (gast.BinOp, gast.UnaryOp)) and not isinstance(
        getattr(expr, "op", None), gast.UAdd
    ):
        return set()
    out: set[str] = set()
    for child in children(expr):
        out |= _aliases(child, fwd)
    return out


def _atoms(info: A.StmtInfo) -> list:
    return list(info.args) + list(info.keywords.values())


def _is_d(node: Any) -> bool:
    return (
        isinstance(node, gast.Subscript)
        and isinstance(node.value, gast.Name)
        and node.value.id == "d"
        and isinstance(node.slice, gast.Name)
    )


def _index(index: Any) -> Any:
    if isinstance(index, gast.Slice):
        return gast.Slice(
            lower=index.lower and load_copy(index.lower),
            upper=index.upper and load_copy(index.upper),
            step=index.step and load_copy(index.step),
        )
    if isinstance(index, gast.Tuple):
        return gast.Tuple(elts=[_index(e) for e in index.elts], ctx=gast.Load())
    if isinstance(index, (gast.Name, gast.Constant)) or isinstance(index, gast.Attribute):
        return load_copy(index)
    return copy_tree(index)


def _index_value_of(index: Any) -> Any:
    """A subscript's index as a value (slices as `slice(...)` calls), to pass to a helper."""
    if isinstance(index, gast.Slice):
        parts = [index.lower, index.upper, index.step]
        return gast.Call(
            func=name("slice"),
            args=[load_copy(p) if p is not None else const(None) for p in parts],
            keywords=[],
        )
    if isinstance(index, gast.Tuple):
        return gast.Tuple(elts=[_index_value_of(e) for e in index.elts], ctx=gast.Load())
    return _index(index)


def _is_pop(info: A.StmtInfo) -> bool:
    return (
        isinstance(info.op, tuple)
        and info.op == ("method", "pop")
        and bool(info.args)
        and isinstance(info.args[0], gast.Name)
    )


def _writes_first_argument(info: A.StmtInfo) -> bool:
    """A runtime helper called for its effect on its first argument (`add_at`,
    `restore_item`): forward mode treats the call as assigning that argument."""
    from s2s.backends import runtime

    return (
        info.kind == A.OP
        and (info.op is runtime.add_at or info.op is runtime.restore_item)
        and bool(info.args)
        and isinstance(info.args[0], gast.Name)
    )


def _is_generated(core: CoreFunction) -> bool:
    """`core` is a derivative s2s generated (its source lives in `linecache` as `<s2s ...>`)."""
    code = getattr(core.fn, "__code__", None)
    return code is not None and code.co_filename.startswith("<s2s ")


def _is_break_tail(s: Any) -> bool:
    return (
        isinstance(s, gast.If)
        and len(s.body) == 1
        and isinstance(s.body[0], gast.Break)
        and not s.orelse
    )


_TANGENT_TEMP = re.compile(r"^t_\d+$")


def _sink_tangent_temps(body: list) -> None:
    """Substitute a tangent temporary `t_K = E`, read once, into the statement that reads it,
    when nothing in between writes what `E` reads: the tangent of `y = y + np.sin(x) * i`
    becomes one line, `t_y = t_y + t_x * np.cos(x) * i`, not four."""
    changed = True
    while changed:
        changed = False
        loads: dict[str, int] = {}
        stores: dict[str, int] = {}
        for n in name_nodes(gast.Module(body=body, type_ignores=[])):
            table = stores if isinstance(n.ctx, gast.Store) else loads
            table[n.id] = table.get(n.id, 0) + 1
        for block in blocks(body):
            i = 0
            while i < len(block):
                s = block[i]
                if (
                    isinstance(s, gast.Assign)
                    and isinstance(s.targets[0], gast.Name)
                    and _TANGENT_TEMP.match(s.targets[0].id)
                    and loads.get(s.targets[0].id) == 1
                    and stores.get(s.targets[0].id) == 1
                    and _sink_one(block, i)
                ):
                    changed = True
                    continue
                i += 1


def _sink_one(block: list, i: int) -> bool:
    s = block[i]
    tk = s.targets[0].id
    needs = {n.id for n in name_nodes(s.value)}
    for j in range(i + 1, len(block)):
        u = block[j]
        if isinstance(u, (gast.If, gast.For, gast.While)):
            return False
        if (
            isinstance(u, gast.Expr)
            and not _is_comment(u)
            or isinstance(u, gast.Assign)
            and not isinstance(u.targets[0], gast.Name)
            and not any(n.id == tk for n in name_nodes(u.value))
        ):
            return False  # an in-place write: views read by the tangent may change
        if any(n.id == tk for n in name_nodes(u)):
            if not isinstance(u, (gast.Assign, gast.Return)) or u.value is None:
                return False
            if isinstance(u, gast.Assign) and any(n.id == tk for n in name_nodes(u.targets[0])):
                return False
            u.value = _ReplaceName(tk, s.value).visit(u.value)
            u.s2s_tangent = True
            del block[i]
            return True
        if _writes(u) & needs:
            return False
    return False


def _is_comment(s: Any) -> bool:
    return (
        isinstance(s, gast.Expr)
        and isinstance(s.value, gast.Constant)
        and isinstance(s.value.value, str)
    )


def _writes(s: Any) -> set[str]:
    out = set()
    if isinstance(s, gast.Assign):
        for n in name_nodes(s.targets[0]):
            out.add(n.id)
    for n in calls(s):
        if isinstance(n.func, gast.Attribute) and isinstance(n.func.value, gast.Name):
            out.add(n.func.value.id)  # a method may mutate its receiver
    return out


class _ReplaceName(gast.NodeTransformer):
    def __init__(self, old: str, value: Any) -> None:
        super().__init__()
        self.old = old
        self.value = value

    def visit_Name(self, node: gast.Name) -> Any:
        return self.value if node.id == self.old else node


def _lines(core: CoreFunction):
    def get(line: int) -> str:
        return core.info.line(line).strip()

    return get


def _comments(stmts: list, lines: Any) -> list:
    """Head each run of statements from one primal line that carries a tangent with
    `# <that line>`."""
    out: list = []
    i = 0
    while i < len(stmts):
        s = stmts[i]
        if isinstance(s, (gast.If, gast.For, gast.While)):
            s.body = _comments(s.body, lines)
            if getattr(s, "orelse", None):
                s.orelse = _comments(s.orelse, lines)
            out.append(s)
            i += 1
            continue
        line = getattr(s, "s2s_line", None)
        j = i
        while (
            j < len(stmts)
            and not isinstance(stmts[j], (gast.If, gast.For, gast.While))
            and getattr(stmts[j], "s2s_line", None) == line
        ):
            j += 1
        run = stmts[i:j] if j > i else [s]
        if line is not None and any(getattr(r, "s2s_tangent", False) for r in run):
            text = lines(line)
            if text:
                out.append(emit.comment(text))
        out.extend(run)
        i = max(j, i + 1)
    return out


def generate_defs(
    core: CoreFunction,
    wrt: list[str],
    program: ForwardProgram,
    numbers: Any = frozenset(),
    grad: str | None = None,
) -> tuple[list, list, str]:
    """The JVP of `core` in `wrt` (with `grad`, the gradient in forward mode: see
    `Forward.build`): (definitions, owning functions, entry name)."""
    prefix = {None: "jvp_", "grad": "grad_", "value_and_grad": "value_and_grad_"}[grad]
    fname = program.unique(f"{prefix}{core.name}")
    fwd = Forward(core, wrt, program, numbers, frozenset(wrt) if grad else frozenset())
    main = fwd.build(fname, entry=True, grad=grad)
    defs = [main]
    owners = [core.fn]
    for key in program.order:
        unit = program.units[key]
        defs += unit.defs
        owners += [unit.fn] * len(unit.defs)
    program.entry_tparams = [fwd.t(w) for w in wrt]  # type: ignore[attr-defined]
    return defs, owners, fname


__all__ = ["Forward", "ForwardProgram", "generate_defs"]
