"""Stage 4: reverse mode. Turns a core function into its forward sweep and backward sweep.

Passes (see docs/architecture.md):
  A. for each active statement, instantiate its op's adjoint template: the *contributions* it
     makes to the adjoints of its operands and the primal names it reads;
  B. the to-be-recorded dataflow (analyze.to_be_recorded) decides which overwritten values
     are pushed;
  C. the backward sweep is written in reverse order, tracking which adjoints are known to be
     zero, so the first contribution is an assignment and no zeros are allocated needlessly;
  D. the forward sweep is the primal core plus exactly the pushes the backward sweep pops.
"""

from __future__ import annotations

import inspect
import operator
from dataclasses import dataclass, field
from typing import Any

import gast

from s2s import adjoints
from s2s.adjoints import elementwise

from . import analyze as A
from . import idioms
from . import shapes as S
from .checkpoint import segment_loops, uses_markers
from .classes import is_namedtuple
from .errors import NoRuleError, UnsupportedSyntaxError
from .functions import callee_functions, check_closure_uses
from .nodes import children, clone, is_temporary, walk
from .nodes import names as name_nodes
from .normalize import CoreFunction, assign, const, is_atom, load_copy, name, store
from .uniform import Reductions


def call(fn: str, *args: Any, **kwargs: Any) -> gast.Call:
    return gast.Call(
        func=name(fn) if isinstance(fn, str) else fn,
        args=list(args),
        keywords=[gast.keyword(arg=k, value=v) for k, v in kwargs.items()],
    )


def method(obj: Any, meth: str, *args: Any) -> gast.Call:
    return gast.Call(
        func=gast.Attribute(value=obj, attr=meth, ctx=gast.Load()), args=list(args), keywords=[]
    )


def expr_stmt(value: Any) -> gast.Expr:
    return gast.Expr(value=value)


def push(value: Any, tape: str = "tape") -> gast.Expr:
    return expr_stmt(method(name(tape), "append", value))


def pop(tape: str = "tape") -> gast.Call:
    return method(name(tape), "pop")


def tape_name(core: CoreFunction) -> str:
    """`tape`, or `tape2`, `tape3`... when the function has a `tape` of its own (a generated
    gradient differentiated again: its tape is a list like any other)."""
    taken = set(core.locals) | set(core.params)
    if "tape" not in taken:
        return "tape"
    k = 2
    while f"tape{k}" in taken:
        k += 1
    return f"tape{k}"


@dataclass
class Contribution:
    var: str
    value: Any
    index: Any = None  # accumulate at this index (getitem adjoint)


@dataclass
class Spec:
    """The adjoint of one primal statement."""

    pre: list = field(default_factory=list)  # temporaries, computed before contributions
    contribs: list[Contribution] = field(default_factory=list)
    zero_index: Any = None  # setitem: zero d_x at this index after reading it
    side_effect: bool = False  # must run even if the result's adjoint is zero
    reads: set[str] = field(default_factory=set)
    shape_reads: set[str] = field(default_factory=set)  # read only for shape and dtype


@dataclass
class UserCall:
    """A call to a user function that is differentiated in turn."""

    fn: Any
    active_params: tuple[str, ...]


_SHAPE_FREE_HELPERS = {"unbroadcast", "unreduce", "add", "add_at"}  # take a Python 0.0 adjoint


def _shaped(value: Any) -> bool:
    """`unreduce(g, x, ...)` / `unbroadcast(g, x)`: x's shape even when g is a Python 0.0."""
    return (
        isinstance(value, gast.Call)
        and isinstance(value.func, gast.Name)
        and value.func.id in ("unreduce", "unbroadcast")
    )


def _shape_free(stmts: list, d_y: str, contribs: set[str]) -> bool:
    """Whether adjoint code `stmts` runs when `d_y` is a Python 0.0 rather than an array: `d_y`
    (and temporaries computed from it) is only copied, combined by `+ - * /`, or handed to a
    helper that broadcasts a number (`unreduce`, ...); never reshaped, indexed or a matmul."""
    parents: dict[int, Any] = {}
    for st in stmts:
        for node in walk(st):
            for child in children(node):
                parents[id(child)] = node
    todo, seen = [d_y], set()
    while todo:
        var = todo.pop()
        seen.add(var)
        for st in stmts:
            for node in walk(st):
                if not (isinstance(node, gast.Name) and node.id == var):
                    continue
                if isinstance(node.ctx, gast.Store):
                    continue
                child, up = node, parents.get(id(node))
                while isinstance(up, gast.UnaryOp) or (
                    isinstance(up, gast.BinOp)
                    and isinstance(up.op, (gast.Add, gast.Sub, gast.Mult, gast.Div))
                ):
                    child, up = up, parents.get(id(up))
                if isinstance(up, gast.Assign) and isinstance(up.targets[0], gast.Name):
                    target = up.targets[0].id
                    if target not in contribs and target not in seen:
                        todo.append(target)  # a temporary: check its uses too
                    continue
                if (isinstance(up, gast.Dict) and any(child is v for v in up.values)) or (
                    isinstance(up, gast.Assign)
                    and isinstance(up.targets[0], gast.Subscript)
                    and child is up.value
                ):  # an entry of a dict adjoint (`{'b': d_y}`, `d_p['b'] = d_y`): any value
                    continue
                ok = (
                    isinstance(up, gast.Call)
                    and isinstance(up.func, gast.Name)
                    and up.func.id in _SHAPE_FREE_HELPERS
                    and any(child is a for a in up.args)
                    and not (up.func.id == "add_at" and child is up.args[1])
                    and not (up.func.id in ("unbroadcast", "unreduce") and child is not up.args[0])
                )
                if not ok:
                    return False
    return True


class Reverse:
    """Reverse-mode transformer for one core function."""

    def __init__(
        self,
        core: CoreFunction,
        wrt: list[str],
        ctx: Any,
        *,
        split: bool,
        numbers: Any = frozenset(),
        shapes: Any = (),
    ) -> None:
        self.core = core
        self.numbers = frozenset(numbers)  # parameters the call passes Python numbers for
        self.wrt = wrt
        self.ctx = ctx  # the Program: names generated user-call functions
        self.split = split  # subroutine form: fwd and bwd functions sharing a tape
        every_loop = getattr(ctx, "checkpoint_loops", None) == "sqrt"
        if every_loop or uses_markers(core):
            segment_loops(core, every_loop)
        self.infos: dict[int, A.StmtInfo] = {}
        #: `v = xs.pop()` on a local list, and runtime helpers that update their first argument
        #: in place (`add_at(d_x, i, g)` in a generated gradient): ids of those statements
        self.pops: set[int] = set()
        self.inplace: set[int] = set()
        _name_bare_pops(core)
        for s in A.walk_stmts(core.body):
            info = self.infos[id(s)] = A.classify(core, s)
            if _is_list_pop(info, core):
                info.partial = info.args[0].id
                self.pops.add(id(s))
            elif info.target is None and _updates_first_argument(info, core):
                info.partial = info.args[0].id
                self.inplace.add(id(s))
        check_closure_uses(core, self.infos)
        self.tape = tape_name(core)  # the name of this function's own tape
        #: a function s2s generated (reverse over reverse): its `tape` is always active, and a
        #: `tape` parameter (of `fwd_g`/`bwd_g`) is the caller's list, updated in place, whose
        #: adjoint the backward pair takes from the caller and updates in place too
        inner = "tape" if is_generated(core) and "tape" in core.locals | set(core.params) else None
        self.inner_tape = inner
        self.inout = {inner} & set(core.params) if inner else set()
        self.active = A.activity(core, wrt + ([inner] if inner else []), self.infos)
        if inner:
            self.active.add(inner)
        self.kinds = A.kinds(core, self.infos, self.numbers)
        self.stable = A.stable_names(core)
        self.scalars = A.scalar_names(core, self.infos, self.numbers)
        #: the shape pattern of names the call's argument patterns determine (`shapes.py`)
        self.shapes = S.infer(core, dict(shapes))
        for n in self.shapes:  # a name with a shape pattern holds an array or a number
            if self.kinds.get(n) == "unknown":
                self.kinds[n] = "array"
        self.assumed_globals = A.number_globals(core)  # the caller must check they still are
        self.invariant = A.loop_invariants(core, self.infos)
        self._number_invariants: dict[int, list] | None = None
        self._mentions: dict[str, int] | None = None  # mentions of each name in the core
        self._hoisted_numbers: set[int] = set()
        self.retested: set[str] = set()  # comparisons the backward sweep tests again
        self.hoisted: dict[int, list] = {}  # id(loop) -> invariant statements, in body order
        self.specs: dict[int, Spec] = {}
        #: written-out sigmoids and their log-likelihoods (`idioms.py`), by their last
        #: statement: its adjoint is the idiom's (`d_u = d_p * p * (1 - p)`, `d_u = d_S * (y -
        #: p)`), the chain's other statements get none
        self.idioms = idioms.find(core.body, self.infos, "adjoint", self.active)
        self.absorbed = idioms.absorbed(self.idioms)
        self.reductions: Reductions | None = None  # with shape facts: see `uniform.py`
        self.indexed: set[str] = set()
        #: adjoints of parameter dicts made `{}` in the backward sweep's top level: the keys
        #: given an entry since, in that top level (`accumulate`); `nested` counts the
        #: branches and loops the sweep is inside
        self.entries: dict[str, set[str]] = {}
        self.nested = 0
        # adjoints that may hold the Python 0.0 a branch or loop materialized (shapeless): the
        # adjoint of their defining statement runs only when they are not that zero
        self.maybe_zero: set[str] = set()
        self.counter = core.counter
        self.adj_names: dict[str, str] = {}
        taken = set(core.locals) | set(core.params)
        self.taken = taken
        self.mutated_params = self._mutated_params()
        # dicts: made by a display here, or written at a string key (a parameter, `p.copy()`),
        # whose written keys may be new: saved and restored with save_item / restore_item
        self.dicts = {
            s.targets[0].id
            for s in A.walk_stmts(core.body)
            if isinstance(s, gast.Assign)
            and isinstance(s.targets[0], gast.Name)
            and isinstance(s.value, gast.Dict)
        } | {
            s.targets[0].value.id
            for s in A.walk_stmts(core.body)
            if isinstance(s, gast.Assign)
            and isinstance(s.targets[0], gast.Subscript)
            and isinstance(s.targets[0].value, gast.Name)
            and isinstance(s.targets[0].slice, gast.Constant)
            and isinstance(s.targets[0].slice.value, str)
        }

    # -- names -----------------------------------------------------------------------------
    def fresh(self) -> str:
        self.counter += 1
        return f"_{self.counter}"

    def d(self, var: str) -> str:
        if var not in self.adj_names:
            base = f"d{var}" if var.startswith("_") and var[1:].isdigit() else f"d_{var}"
            given = set(self.adj_names.values())  # `d_1_` may be the adjoint of `d_1` already
            while base in self.taken or base in given:
                base = base + "_"
            self.adj_names[var] = base
        return self.adj_names[var]

    def error(self, cls: type, node: Any, message: str, hint: str | None = None) -> Exception:
        return self.core.info.error(cls, node, message, hint)

    def _mutated_params(self) -> set[str]:
        out: set[str] = set()
        for s in A.walk_stmts(self.core.body):
            info = self.infos[id(s)]
            if info.partial in self.core.params:
                out.add(info.partial)
        return out - self.inout

    # -- pass A: adjoint specs --------------------------------------------------------------
    def build_specs(self) -> None:
        for s in A.walk_stmts(self.core.body):
            info = self.infos[id(s)]
            if info.kind == A.HOOK:
                hook = s.s2s_hook
                if hook.var in self.active:  # the block sees `var` and what it reads
                    self.specs[id(s)] = Spec(side_effect=True, reads=set(info.operands))
                continue
            dest = info.target or info.partial
            if id(s) in self.pops and info.partial in self.active:
                dest = info.partial  # the pops of an active list mirror its appends
            if (
                info.kind == A.USER
                and self.inner_tape is not None
                and any(isinstance(a, gast.Name) and a.id == self.inner_tape for a in info.args)
            ):
                # a generated `fwd_g`/`bwd_g` pushes onto or pops the tape: its adjoint must run
                # even when its results carry no gradient, to keep the tape's adjoint in step
                dest = self.inner_tape
            if dest is None or dest not in self.active or id(s) in self.absorbed:
                continue
            spec = self.spec_for(s, info)
            if spec is not None:
                self.specs[id(s)] = spec

    def spec_for(self, s: Any, info: A.StmtInfo) -> Spec | None:
        kind = info.kind
        active = self.active
        if id(s) in self.pops:
            # `v = xs.pop()`: its adjoint pushes d_v back onto d_xs (the mirror of append's
            # `d_xs.pop()`); it reads v (to put it back on xs) and xs (d_xs starts as
            # zeros_like(xs), which must have the length xs had)
            self.indexed.add(info.partial)
            sp = Spec(side_effect=True)
            sp.reads = {info.partial, info.target}
            return sp
        if id(s) in self.inplace:
            return self.spec_inplace(s, info)
        if kind == A.ATTR:  # `v = p.W`: a field of a NamedTuple or a dataclass
            base = s.value.value
            if not (isinstance(base, gast.Name) and base.id in active):
                return None
            self.indexed.add(base.id)
            key = call(
                "field_key",
                name(base.id),
                const(s.value.attr),
                const(A.field_location(self.core, s)),
            )
            sp = Spec(contribs=[Contribution(base.id, name(self.d(info.target)), index=key)])
            sp.reads = {base.id}
            return sp
        if kind == A.COPY:
            src = info.operands[0]
            sp = Spec(
                contribs=[Contribution(src, name(self.d(info.target)))] if src in active else []
            )
            return sp
        if kind == A.GETITEM:
            value = s.value
            base = value.value
            if not (isinstance(base, gast.Name) and base.id in active):
                return None
            self.indexed.add(base.id)
            idx = _index_expr(value.slice)
            sp = Spec(contribs=[Contribution(base.id, name(self.d(info.target)), index=idx)])
            sp.reads = set(A.atom_names(value.slice, self.core.locals))
            return sp
        if kind == A.SETITEM:
            tgt = s.targets[0]
            x = tgt.value.id
            self.indexed.add(x)
            idx = _index_expr(tgt.slice)
            sp = Spec(zero_index=idx)
            v = s.value
            if isinstance(v, gast.Name) and v.id in active:
                if x in self.dicts:
                    got = method(name(self.d(x)), "get", clone(idx), const(0.0))
                else:
                    got = call(
                        "copy_value",
                        gast.Subscript(value=name(self.d(x)), slice=idx, ctx=gast.Load()),
                    )
                sp.contribs.append(Contribution(v.id, call("unbroadcast", got, name(v.id))))
                sp.shape_reads.add(v.id)
            sp.reads |= set(A.atom_names(tgt.slice, self.core.locals))
            return sp
        if kind == A.APPEND:
            x = info.partial
            self.indexed.add(x)
            v = info.args[0] if info.args else None
            sp = Spec(side_effect=True)
            got = method(name(self.d(x)), "pop")
            if isinstance(v, gast.Name) and v.id in active:
                tmp = self.fresh()
                sp.pre.append(assign(tmp, got, None))
                sp.contribs.append(Contribution(v.id, name(tmp)))
            else:
                sp.pre.append(expr_stmt(got))
            return sp
        if kind == A.BUILD:
            return self.spec_build(s, info)
        if kind == A.OP:
            return self.spec_op(s, info)
        if kind == A.USER:
            return self.spec_user(s, info)
        return None

    def spec_build(self, s: Any, info: A.StmtInfo) -> Spec:
        """`y = {k: v}`, `(a, b)`, `[a, b]` or `State(h, c=c)`: each item's adjoint is its
        entry of d_y, read by key (a dict's, a dataclass's: `d_y.get(k, 0.0)`) or by position
        (a tuple's, a list's, a NamedTuple's: `d_y[i]`)."""
        value = s.value
        if info.op is not None:  # a constructor (`analyze`): its fields, bound by name
            by_key = not is_namedtuple(info.op)
            fields = info.op._fields if not by_key else ()
            items = [(const(k if by_key else fields.index(k)), v) for k, v in info.keywords.items()]
        elif isinstance(value, gast.Dict):
            by_key = True
            items = [(load_copy(k), v) for k, v in zip(value.keys, value.values, strict=True)]
        else:
            by_key = False
            items = [(const(i), v) for i, v in enumerate(value.elts)]
        dy = self.d(info.target)
        sp = Spec()
        for key, v in items:
            if isinstance(v, gast.Name) and v.id in self.active:
                if by_key:
                    got = method(name(dy), "get", key, const(0.0))
                else:
                    got = gast.Subscript(value=name(dy), slice=key, ctx=gast.Load())
                sp.contribs.append(Contribution(v.id, got))
        return sp

    def spec_op(self, s: Any, info: A.StmtInfo) -> Spec | None:
        op = info.op
        if not any(o in self.active for o in info.operands):
            return None
        if op is operator.add and any(
            isinstance(a, gast.Name) and self.kinds.get(a.id) == "container" for a in info.args
        ):
            return self.spec_concat(info)
        rule = adjoints.lookup(op) if not isinstance(op, tuple) else None
        if (rule is None or rule.adjoint is None) and not isinstance(op, tuple):
            from s2s.adjoints import runtime_adjoints  # a runtime helper in a generated gradient

            rule = runtime_adjoints.lookup(op) or rule
        if rule is None or rule.adjoint is None:
            raise self._no_rule(s, info)
        tpl = rule.adjoint
        idiom = self.idioms.get(id(s))
        if idiom is not None:
            if not isinstance(idiom.arg, gast.Name) or idiom.arg.id not in self.active:
                return None
            return self.instantiate(idiom.templates()[0], s, idiom.info(info))
        if tpl.fn is elementwise.div and op in elementwise.DIVIDE and _nonzero_number(info.args):
            tpl = elementwise.RECIPROCAL  # `1.0 / y`: its adjoint reads the result only
        return self.instantiate(tpl, s, info)

    def spec_inplace(self, s: Any, info: A.StmtInfo) -> Spec | None:
        """`add_at(acc, index, g)` for its effect: acc's adjoint flows through unchanged, g
        gets acc's adjoint at `index` (summed to g's shape)."""
        from s2s.adjoints import runtime_adjoints  # noqa: F401  (binds take_adjoint)

        if len(info.args) != 3 or info.keywords:
            raise self._no_rule(s, info)
        _, index, g = info.args
        if not (isinstance(g, gast.Name) and g.id in self.active):
            return None
        value = call("take_adjoint", name(self.d(info.partial)), load_copy(index), name(g.id))
        sp = Spec(contribs=[Contribution(g.id, value)])
        sp.reads = set(A.atom_names(index, self.core.locals)) | {g.id}
        return sp

    def spec_concat(self, info: A.StmtInfo) -> Spec:
        """`y = a + b` on lists or tuples: each side gets its slice of d_y."""
        a, b = info.args
        dy = self.d(info.target)
        sp = Spec()
        split = call("len", load_copy(a))
        if isinstance(a, gast.Name) and a.id in self.active:
            sp.contribs.append(
                Contribution(
                    a.id,
                    call(
                        "list",
                        gast.Subscript(
                            value=name(dy),
                            slice=gast.Slice(lower=None, upper=split, step=None),
                            ctx=gast.Load(),
                        ),
                    ),
                )
            )
        if isinstance(b, gast.Name) and b.id in self.active:
            sp.contribs.append(
                Contribution(
                    b.id,
                    call(
                        "list",
                        gast.Subscript(
                            value=name(dy),
                            slice=gast.Slice(lower=clone(split), upper=None, step=None),
                            ctx=gast.Load(),
                        ),
                    ),
                )
            )
        sp.reads = set(A.atom_names(a, self.core.locals))
        return sp

    def _no_rule(self, s: Any, info: A.StmtInfo) -> Exception:
        op = info.op
        if isinstance(op, tuple) and op[0] == "method":
            exc = self.error(NoRuleError, s, *A.method_refusal(self.core, s, op[1]))
            if op[1] == "__call__" and getattr(s.value.func.value, "id", None) in self.core.params:
                exc.s2s_function_parameter = True  # (`api`: the code for a call may be made)
            return exc
        if isinstance(op, tuple) and op[0] == "missing":
            return self.error(
                NoRuleError,
                s,
                "cannot resolve the called function",
                "call module-level functions by name",
            )
        qual = adjoints.registry._qualname(op)
        return self.error(
            NoRuleError,
            s,
            f"no derivative rule for `{qual}`",
            f"register one with @s2s.adjoint({qual}), or use "
            "s2s.stop_gradient if its output needs no gradient",
        )

    def instantiate(self, tpl: Any, s: Any, info: A.StmtInfo) -> Spec:
        """Inline a reverse template for statement `s`."""
        params = tpl.params
        try:
            bound = tpl.signature.bind(None, *info.args, **info.keywords)
        except TypeError as exc:
            raise self.error(
                UnsupportedSyntaxError,
                s,
                f"the call does not match {tpl.fn.__name__}'s signature: {exc}",
            ) from None
        bound.apply_defaults()
        env: dict[str, Any] = {}
        for p in params[1:]:
            v = bound.arguments[p]
            if isinstance(v, gast.AST):
                env[p] = v
            else:
                env[p] = const(v)
        result = params[0]
        y = info.target
        env[result] = name(y)
        given = {
            stmt.targets[0].slice.id
            for stmt in tpl.body
            if isinstance(stmt, gast.Assign) and _is_d(stmt.targets[0])
        }
        for p in params[1:]:
            atom = env[p]
            if (
                isinstance(atom, gast.Name)
                and atom.id in self.active
                and p not in given
                and p not in tpl.zero
            ):
                qual = (
                    adjoints.registry._qualname(info.op)
                    if not isinstance(info.op, tuple)
                    else info.op[1]
                )
                raise self.error(
                    NoRuleError,
                    s,
                    f"`{qual}` has no derivative with respect to its argument "
                    f"{p!r}, and {atom.id!r} depends on the differentiated "
                    "input",
                    f"pass s2s.stop_gradient({atom.id}) if no gradient "
                    "should flow there, or register a rule that gives "
                    f"d[{p}] with @s2s.adjoint",
                )
        local_renames: dict[str, str] = {}
        sp = Spec()
        for stmt in tpl.body:
            if not isinstance(stmt, gast.Assign):
                raise TypeError(f"template {tpl.fn.__name__}: only assignments allowed")
            tgt = stmt.targets[0]
            value = _Subst(env, local_renames, self.d(y), result).visit(stmt.value)
            if _is_d(tgt):
                pname = tgt.slice.id
                atom = env.get(pname)
                if isinstance(atom, gast.Name) and atom.id in self.active:
                    sp.contribs.append(Contribution(atom.id, value))
            else:
                new = self.fresh()
                local_renames[tgt.id] = new
                sp.pre.append(assign(new, value, None))
        for c in sp.contribs:
            c.value = self._elide_unbroadcast(c.value, c.var, info)
        if self.shapes:
            products = _MatmulByShape(self.shapes)
            sp.pre = [products.visit(p) for p in sp.pre]
            for c in sp.contribs:
                c.value = products.visit(c.value)
        # keep only temporaries that contributions use
        sp.pre = _live_pre(sp.pre, sp.contribs)
        sp.reads, sp.shape_reads = _split_reads(
            sp.pre + [c.value for c in sp.contribs], self.core.locals
        )
        return sp

    def _is_scalar(self, a: Any) -> bool:
        if isinstance(a, gast.Constant):
            return type(a.value) in (int, float)
        return isinstance(a, gast.Name) and a.id in self.scalars

    def _elide_unbroadcast(self, value: Any, var: str, info: A.StmtInfo) -> Any:
        """`unbroadcast(g, x)` is `g` when every other operand is a Python number: the result
        then has the shape of `x`."""
        if not (
            isinstance(value, gast.Call)
            and isinstance(value.func, gast.Name)
            and value.func.id == "unbroadcast"
            and len(value.args) == 2
        ):
            return value
        target = value.args[1]
        if not (isinstance(target, gast.Name) and target.id == var):
            return value
        x, y = self.shapes.get(var), self.shapes.get(info.target)
        if S.same_shape(x, y) and self._zero_keeps_shape(value.args[0], info, x):
            return value.args[0]  # the call's shapes prove it: `var` has the result's shape
        axes = S.leading_axes(x, y)
        if axes:  # `var` was broadcast along leading axes only: the sum over them
            axis = (
                const(axes[0])
                if len(axes) == 1
                else gast.Tuple(elts=[const(a) for a in axes], ctx=gast.Load())
            )
            return gast.Call(
                func=gast.Attribute(value=value.args[0], attr="sum", ctx=gast.Load()),
                args=[],
                keywords=[gast.keyword(arg="axis", value=axis)],
            )
        others = [a for a in info.args if not (isinstance(a, gast.Name) and a.id == var)]
        return value.args[0] if all(self._is_scalar(a) for a in others) else value

    def _zero_keeps_shape(self, g: Any, info: A.StmtInfo, x: Any) -> bool:
        """Whether adjoint expression `g` (of the result of `info`) still has the shape of the
        operand with pattern `x`, or is a Python number, when the result's adjoint is the
        shapeless 0.0 a branch or loop leaves: the other arrays it reads broadcast to `x`'s
        pattern (`0.0 * b` has b's shape, and `unbroadcast` would have fixed a smaller one)."""
        d_y = self.d(info.target)
        others = []
        for n in walk(g):
            if isinstance(n, gast.Name) and n.id != d_y and n.id not in self.scalars:
                if n.id not in self.shapes:
                    return False
                others.append(self.shapes[n.id])
        return not others or S.broadcast(*others) == x

    def spec_user(self, s: Any, info: A.StmtInfo) -> Spec | None:
        fn = info.op
        sig_params = _user_params(fn)
        try:
            bound = inspect.signature(fn).bind(*info.args, **info.keywords)
        except TypeError as exc:
            raise self.error(
                UnsupportedSyntaxError, s, f"bad call of {fn.__name__}: {exc}"
            ) from None
        active_params = tuple(
            p
            for p in sig_params
            if isinstance(bound.arguments.get(p), gast.Name)
            and bound.arguments[p].id in self.active
        )
        if not active_params:
            return None
        numbers = A.callee_numbers(fn, info.args, info.keywords, self._is_scalar)
        functions = callee_functions(self.core, fn, bound.arguments)
        fwd_name, bwd_name = self.ctx.request(
            fn, active_params, s, self.core.info, numbers, info.method, functions
        )
        sp = Spec(side_effect=True)
        # (the names of the pair, and what the forward sweep writes before and for the call)
        sp.user = (fwd_name, bwd_name, A.method_guard(self.core, s, info), info.args)  # type: ignore[attr-defined]
        # the tape of a generated `fwd_g(tape, ...)`: its adjoint list is passed and updated
        inout = [bound.arguments[p].id for p in active_params if p == "tape" and _generated_fn(fn)]
        sp.inout = inout  # type: ignore[attr-defined]
        self.indexed.update(inout)  # its adjoint starts as zeros_like(tape), a list
        active_params = tuple(p for p in active_params if not (p == "tape" and inout))
        outs = [self.fresh() for _ in active_params]
        args = [load_copy(a) for a in info.args]
        kws = [gast.keyword(arg=k, value=load_copy(v)) for k, v in info.keywords.items()]
        # a result with no gradient (the call runs only for its tape) gets a zero adjoint
        d_result = (
            name(self.d(info.target))
            if info.target is not None and info.target in self.active
            else const(0.0)
        )
        d_inout = [name(self.d(v)) for v in inout]
        tape_arg = bound.arguments.get("tape")
        if not inout and _generated_fn(fn) and isinstance(tape_arg, gast.Name):
            # a generated pair's backward function takes its tape's adjoint: a tape with no
            # derivative (`fwd_g([], ...)`, a plain run that keeps nothing) has a zero one
            d_inout = [call("zeros_like", load_copy(tape_arg))]
        lead = [name(self.tape), d_result] + d_inout
        bwd_call = gast.Call(func=name(bwd_name), args=lead + args, keywords=kws)
        if not outs:
            sp.pre.append(expr_stmt(bwd_call))
        elif len(outs) == 1:
            sp.pre.append(assign(outs[0], bwd_call, None))
        else:
            tup = gast.Tuple(elts=[store(o) for o in outs], ctx=gast.Store())
            sp.pre.append(gast.Assign(targets=[tup], value=bwd_call, type_comment=None))
        for p, o in zip(active_params, outs, strict=True):
            sp.contribs.append(Contribution(bound.arguments[p].id, name(o)))
        sp.reads = set(A.atom_names(s.value, self.core.locals))
        return sp

    # -- pass B -----------------------------------------------------------------------------
    def join_shapes(self) -> dict[int, set[str]]:
        """For each branch and loop: the adjoints accumulated at an index inside it, which the
        backward sweep may make `zeros_like(v)` where paths join (a read of v's shape there)."""
        out = {}
        for s in A.walk_stmts(self.core.body):
            if not isinstance(s, (gast.If, gast.For, gast.While)):
                continue
            inner = s.body + (s.orelse if isinstance(s, gast.If) else [])
            names = set()
            for t in A.walk_stmts(inner):
                sp = self.specs.get(id(t))
                if sp is not None:
                    names |= {c.var for c in sp.contribs if c.var in self.indexed}
                info = self.infos.get(id(t))
                if info is not None and info.partial in self.indexed:
                    names.add(info.partial)
            names &= self.active
            if names:
                out[id(s)] = names
        return out

    def control_reads(self) -> dict[int, set[str]]:
        out = {}
        for s in A.walk_stmts(self.core.body):
            if (
                isinstance(s, gast.If)
                and isinstance(s.test, gast.Name)
                and s.test.id in self.stable
            ):
                out[id(s)] = {s.test.id}
            elif isinstance(s, gast.For):
                names = set(A.atom_names(s.iter, self.core.locals))
                if names <= self.stable:
                    out[id(s)] = names
        return out

    def analyze(self) -> None:
        self.build_specs()
        if self.shapes:
            # an idiom's statement is the one op its rule differentiates (`idioms.py`)
            infos = self.infos
            if self.idioms:
                infos = dict(infos)
                for sid, idiom in self.idioms.items():
                    infos[sid] = idiom.info(infos[sid])
            self.reductions = reductions = Reductions(
                self.core, infos, self.shapes, self.scalars, self.d
            )
            for sid, sp in self.specs.items():
                if reductions.rewrite(sid, sp, self.specs, self.indexed):
                    sp.reads, sp.shape_reads = _split_reads(
                        sp.pre + [c.value for c in sp.contribs], self.core.locals
                    )
        reads, shape_reads = {}, {}
        for sid, sp in self.specs.items():
            info = self.infos[sid]
            # an adjoint accumulated at an index starts as zeros_like(x): that reads x's shape
            shaped = sp.shape_reads | {c.var for c in sp.contribs if c.var in self.indexed}
            shaped -= sp.reads
            own = {info.target} & sp.reads if info.target else set()
            reads[sid] = (sp.reads - own, own)
            own = {info.target} & shaped if info.target else set()
            shape_reads[sid] = (shaped - own, own)
        self.flow = A.to_be_recorded(
            self.core,
            self.infos,
            reads,
            self.control_reads(),
            set(self.invariant),
            shape_reads,
            self.join_shapes(),
            {id(h) for hs in self.number_invariants().values() for h in hs},
        )
        self.plan_hoisting()

    def plan_hoisting(self) -> None:
        """Invariant statements whose adjoint reads only names fixed before the function's
        first loop get their adjoint summed over the iterations and propagated once, after
        the reversed loop (a weight read inside a loop gets one accumulation, not one per
        step)."""
        fixed = set(self.core.params) | {
            s.targets[0].id
            for s in self.core.body
            if isinstance(s, gast.Assign)
            and isinstance(s.targets[0], gast.Name)
            and s.targets[0].id in self.stable
        }
        # a checkpointed block's adjoint runs with its recomputation: an adjoint of the block
        # is not moved out of it, past a loop around the block, but to the end of the
        # outermost loop around it inside the block (a segment's loop: once per segment)
        inner = _loops_in_blocks(self.core.body)
        loops: dict[int, Any] = {}
        for sid, loop in self.invariant.items():
            if sid in inner:
                loop = inner[sid]
                if loop is None:
                    continue
            loops[id(loop)] = loop
            sp = self.specs.get(sid)
            info = self.infos[sid]
            if sp is None or sp.side_effect or info.kind not in (A.OP, A.GETITEM, A.COPY):
                continue
            # an adjoint accumulated at an index starts as zeros_like(x): a read of x's shape
            indexed = {c.var for c in sp.contribs if c.var in self.indexed}
            if sp.reads | sp.shape_reads | indexed <= fixed:
                self.hoisted.setdefault(id(loop), []).append(sid)
        # a hoisted adjoint feeds its operands' adjoints after the loop: an operand computed by
        # another statement of the loop must then be hoisted too, or nothing would propagate it
        for loop_id, sids in self.hoisted.items():
            loop = loops[loop_id]
            defined = {}
            for st in A.walk_stmts(loop.body):
                info = self.infos.get(id(st))
                if info is not None and (info.target or info.partial):
                    defined.setdefault(info.target or info.partial, set()).add(id(st))
            keep = set(sids)
            changed = True
            while changed:
                changed = False
                for sid in list(keep):
                    ops = {c.var for c in self.specs[sid].contribs}
                    if any(defined.get(o, set()) - keep for o in ops):
                        keep.discard(sid)
                        changed = True
            sids[:] = [sid for sid in sids if sid in keep]

    # -- pass C: backward sweep -------------------------------------------------------------
    def backward(self, stmts: list, Z: set[str]) -> tuple[list, set[str]]:
        """The adjoint of `stmts`, and the names whose adjoint is zero before them. `Z`: those
        after them, a set of the caller's own that the statements update in place (copies of
        it, as long as the function, would make the sweep quadratic)."""
        out: list = []
        for s in reversed(stmts):
            code, Z = self.backward_stmt(s, Z)
            out.extend(code)
        return out, Z

    def materialize(self, var: str, line: int | None) -> gast.Assign:
        if var in self.indexed:
            node = assign(self.d(var), call("zeros_like", name(var)), line)
            # an array of zeros: `optimize` may assign the first contributions at disjoint
            # basic indices instead of adding them to zeros
            # (every value real: a complex contribution would be cast, not refused)
            node.s2s_zeros = (
                (self.kinds.get(var) == "array" or bool(self.shapes.get(var)))
                and self.reductions is not None
                and self.reductions.all_real()
            )
        else:
            node = assign(self.d(var), const(0.0), line)
        return node

    def shapeless(self, names: set[str]) -> set[str]:
        """The names of `names` that `materialize` zeroes with a Python 0.0."""
        return {v for v in names if v not in self.indexed}

    def backward_stmt(self, s: Any, Z: set[str]) -> tuple[list, set[str]]:
        info = self.infos.get(id(s))
        if (
            isinstance(s, gast.If | gast.For | gast.While)
            or A.is_checkpoint(s)
            or info is None
            or info.kind == A.HOOK
        ):
            self.nested += 1  # inside, an entry of a parameter dict's adjoint may be there or not
            try:
                return self._backward_stmt(s, Z)
            finally:
                self.nested -= 1
        return self._backward_stmt(s, Z)

    def _backward_stmt(self, s: Any, Z: set[str]) -> tuple[list, set[str]]:
        line = getattr(s, "s2s_line", None)
        if A.is_checkpoint(s):
            return self.backward_checkpoint(s, Z, line)
        if isinstance(s, gast.If):
            M0 = set(self.maybe_zero)
            then, Z1 = self.backward(s.body, set(Z))
            M1, self.maybe_zero = self.maybe_zero, M0
            orelse, Z2 = self.backward(s.orelse, set(Z))
            Zafter = Z1 & Z2
            self.maybe_zero |= M1 | self.shapeless((Z1 | Z2) - Zafter)
            then += [self.materialize(v, line) for v in sorted(Z1 - Zafter)]
            orelse += [self.materialize(v, line) for v in sorted(Z2 - Zafter)]
            if not then and not orelse:
                s.s2s_reversed = False
                return [], Zafter
            s.s2s_reversed = True
            if isinstance(s.test, gast.Name) and s.test.id in self.stable:
                test: Any = name(s.test.id)
                s.s2s_push_test = False
            else:
                test = pop(self.tape)
                s.s2s_push_test = True
            if not then:
                test = gast.UnaryOp(op=gast.Not(), operand=test)
                then, orelse = orelse, []
            node = gast.If(test=test, body=then, orelse=orelse)
            node.s2s_line = line
            return [node], Zafter
        if isinstance(s, (gast.For, gast.While)):
            return self.backward_loop(s, Z)
        sp = self.specs.get(id(s))
        info = self.infos.get(id(s))
        out: list = []
        if info is not None and info.kind == A.HOOK:
            return self.backward_hook(s, sp, Z, line)
        if getattr(s, "s2s_hoisted", False):
            return [], Z  # its adjoint runs once, after the reversed loop
        if sp is not None and id(s) in self.pops:
            out, Z = self.backward_pop(info, Z, line)
        elif sp is not None:
            y = info.target
            dest = y or info.partial
            zero = dest in Z
            if zero and not sp.side_effect and info.kind != A.SETITEM:
                pass
            elif info.kind == A.SETITEM and zero:
                pass
            else:
                if zero:  # a call whose backward must run (it pops the tape)
                    out.append(self.materialize(dest, line))
                    Z.discard(dest)
                for v in getattr(sp, "inout", ()):  # the callee updates this adjoint in place
                    if v in Z:
                        out.append(self.materialize(v, line))
                        Z.discard(v)
                maybe_zero = (zero or dest in self.maybe_zero) and dest not in self.scalars
                out.extend(clone(sp.pre))
                made: set[str] = set()  # the adjoints the contributions make (were zero)
                for c in sp.contribs:
                    out.extend(self.accumulate(c, Z, line))
                    if c.var in Z:
                        made.add(c.var)
                        Z.discard(c.var)
                if sp.zero_index is not None:
                    tgt = gast.Subscript(
                        value=name(self.d(dest)),
                        slice=clone(sp.zero_index),
                        ctx=gast.Store(),
                    )
                    out.append(gast.Assign(targets=[tgt], value=const(0.0), type_comment=None))
                if sp.side_effect:  # a user function's backward may return a 0.0 adjoint
                    self.maybe_zero |= self.shapeless(made)
                elif not maybe_zero:
                    self.maybe_zero -= {c.var for c in sp.contribs}
                else:  # d_dest may be a materialized 0.0: its adjoints may be 0.0 too
                    shaped = {c.var for c in sp.contribs if _shaped(c.value)}
                    self.maybe_zero |= self.shapeless(made - shaped)
                    contribs = {self.d(c.var) for c in sp.contribs}
                    if not sp.side_effect and not _shape_free(out, self.d(dest), contribs):
                        # a template that reshapes or indexes d_dest: skip it when d_dest is 0.0
                        orelse = [self.materialize(v, line) for v in sorted(made)]
                        for node in out + orelse:  # commented once, at the `if`
                            node.s2s_line = None
                        d_dest = call("is_zero", name(self.d(dest)))
                        test = gast.UnaryOp(op=gast.Not(), operand=d_dest)
                        out = [gast.If(test=test, body=out, orelse=orelse)]
            if y is not None:
                Z.add(y)
                self.maybe_zero.discard(y)
        elif info is not None and info.target is not None:
            Z.add(info.target)
        if id(s) in self.flow.restore:
            out.extend(self.restore(s, info))
        for node in out:
            node.s2s_line = line
        return out, Z

    def backward_checkpoint(self, s: Any, Z: set[str], line: int | None) -> tuple[list, set[str]]:
        """Back to the values the block started from, the block again (now pushing what its
        adjoint reads), then its adjoint."""
        code, Z = self.backward(s.body, Z)
        s.s2s_reversed = bool(code)
        if not code:
            return [], Z
        saved, _, _ = self.flow.checkpoints[id(s)]
        out: list = []
        if saved:
            out.append(_unpack(saved, pop(self.tape), line))
        out += self.forward(s.body)
        out += code
        return out, Z

    def first_run(self, s: Any) -> list:
        """A checkpointed block's first run, pushing nothing, with temporaries of its own.

        The block's code appears twice (this run, and its rerun before its adjoint). The
        temporaries (`_k`) that nothing outside the block mentions get fresh names in this
        run, so that each name is assigned in one place and the optimizer may inline it
        and follow its value (as in code that is not checkpointed). Nothing else reads them:
        after the block, the adjoint reads what the rerun computes; before it, such a name
        holds nothing yet, since the analysis (`analyze.to_be_recorded`) never counts this
        run's assignments as done when the rerun pushes a name."""
        out = self.plain(s.body)
        if self._mentions is None:
            self._mentions = _name_counts(self.core.body)
        inside = _name_counts(s.body)
        fresh: dict[str, str] = {}
        for node in out:
            for n in name_nodes(node):
                v = n.id
                if v not in fresh:
                    if not is_temporary(v) or self._mentions.get(v, 0) != inside.get(v, 0):
                        continue
                    fresh[v] = self.fresh()
                n.id = fresh[v]
        return out

    def plain(self, stmts: list) -> list:
        """The primal statements alone, pushing nothing (a checkpointed block's first run)."""
        out: list = []
        for s in stmts:
            line = getattr(s, "s2s_line", None)
            if isinstance(s, gast.If):
                if A.is_checkpoint(s):
                    out += self.plain(s.body)
                    continue
                node: Any = gast.If(
                    test=clone(s.test), body=self.plain(s.body), orelse=self.plain(s.orelse)
                )
            elif isinstance(s, gast.For):
                node = gast.For(
                    target=store(s.target.id),
                    iter=clone(s.iter),
                    body=self.plain(s.body),
                    orelse=[],
                    type_comment=None,
                )
            elif isinstance(s, gast.While):
                node = gast.While(test=clone(s.test), body=self.plain(s.body), orelse=[])
            else:
                info = self.infos.get(id(s))
                if info is not None and info.kind == A.HOOK:
                    continue
                node = clone(s)
                sp = self.specs.get(id(s))
                if sp is not None and getattr(sp, "user", None) is not None:
                    # the callee's forward sweep, its pushes dropped with the scratch tape
                    fwd_name, _, guard, args = sp.user
                    node.value = gast.Call(
                        func=name(fwd_name),
                        args=[gast.List(elts=[], ctx=gast.Load())] + [load_copy(a) for a in args],
                        keywords=clone(s.value.keywords),
                    )
                    if guard is not None:
                        out.append(clone(guard))
                node.s2s_primal = True
            node.s2s_line = line
            out.append(node)
        return out

    def backward_hook(
        self, s: Any, sp: Spec | None, Z: set[str], line: int | None
    ) -> tuple[list, set[str]]:
        """`dx = d_x`, the user's block, `d_x = dx`: the block sees the gradient of `x` at this
        point and what it leaves in `dx` flows on."""
        if sp is None:  # `x` carries no gradient: there is nothing for the block to see
            return [], Z
        hook = s.s2s_hook
        dv = self.d(hook.var)
        start = call("zeros_like", name(hook.var)) if hook.var in Z else name(dv)
        out = [assign(hook.grad, start, line)]
        out += clone(hook.body)
        out.append(assign(dv, name(hook.grad), line))
        for node in out:
            for n in walk(node):
                if isinstance(n, gast.stmt):
                    n.s2s_line = line
        Z.discard(hook.var)
        return out, Z

    def backward_pop(self, info: A.StmtInfo, Z: set[str], line: int | None) -> tuple[list, set]:
        """The adjoint of `v = xs.pop()`: `d_xs.append(d_v)`, then xs gets v back."""
        xs, v = info.partial, info.target
        out: list = []
        if xs in Z:
            out.append(self.materialize(xs, line))
            Z.discard(xs)
        dv = name(self.d(v)) if v in self.active and v not in Z else const(0.0)
        out.append(expr_stmt(method(name(self.d(xs)), "append", dv)))
        out.append(expr_stmt(method(name(xs), "append", name(v))))
        Z.add(v)
        return out, Z

    def restore(self, s: Any, info: A.StmtInfo) -> list:
        if id(s) in self.inplace:
            return [assign(info.partial, pop(self.tape), None)]
        if info.kind == A.SETITEM:
            tgt = s.targets[0]
            if tgt.value.id in self.dicts:
                return [
                    expr_stmt(
                        call(
                            "restore_item",
                            name(tgt.value.id),
                            _index_expr(tgt.slice),
                            pop(self.tape),
                        )
                    )
                ]
            sub = gast.Subscript(
                value=name(tgt.value.id), slice=_index_expr(tgt.slice), ctx=gast.Store()
            )
            return [gast.Assign(targets=[sub], value=pop(self.tape), type_comment=None)]
        if info.kind == A.APPEND:
            return [expr_stmt(method(name(info.partial), "pop"))]
        return [assign(info.target, pop(self.tape), None)]

    def accumulate(self, c: Contribution, Z: set[str], line: int | None) -> list:
        var = c.var
        dv = self.d(var)
        out: list = []
        if c.index is not None:
            key = c.index.value if isinstance(c.index, gast.Constant) else None
            if var in Z and not self.nested and var in self.shapes.dicts and type(key) is str:
                # a parameter dict's adjoint, made here with its first entry
                self.entries[var] = {key}
                entry = gast.Dict(keys=[const(key)], values=[clone(c.value)])
                return [assign(dv, entry, line)]
            if var in Z:
                out.append(self.materialize(var, line))
            known = self.entries.get(var)
            if known is not None and not self.nested and type(key) is str and key not in known:
                known.add(key)  # not there yet
                tgt = gast.Subscript(value=name(dv), slice=const(key), ctx=gast.Store())
                out.append(gast.Assign(targets=[tgt], value=clone(c.value), type_comment=None))
                return out
            self.entries.pop(var, None)
            out.append(expr_stmt(call("add_at", name(dv), _index_value(c.index), clone(c.value))))
            return out
        if var in Z:
            if var in self.indexed:
                out.append(self.materialize(var, line))
                out.append(assign(dv, call("add", name(dv), clone(c.value)), line))
            else:
                out.append(assign(dv, clone(c.value), line))
            return out
        if self.kinds.get(var) == "array" and var not in self.indexed:
            out.append(
                assign(dv, gast.BinOp(left=name(dv), op=gast.Add(), right=clone(c.value)), line)
            )
        else:
            out.append(assign(dv, call("add", name(dv), clone(c.value)), line))
        return out

    def backward_loop(self, s: Any, Z: set[str]) -> tuple[list, set[str]]:
        line = getattr(s, "s2s_line", None)
        body = s.body
        mine = self.hoisted.get(id(s), ())
        hoisted = [h for h in A.walk_stmts(body) if id(h) in mine]
        for h in hoisted:
            h.s2s_hoisted = True
        code, Z = self._backward_loop(s, Z, line, body)
        for h in hoisted:
            h.s2s_hoisted = False
        self.nested -= 1  # their adjoints run once, after the reversed loop, at its level
        for h in reversed(hoisted):
            more, Z = self.backward_stmt(h, Z)
            code.extend(more)
        self.nested += 1
        return code, Z

    def _backward_loop(
        self, s: Any, Z: set[str], line: int | None, body: list
    ) -> tuple[list, set[str]]:
        Zstart = set(Z)
        Min = set(self.maybe_zero)
        Mstart = set(Min)
        while True:
            # at the body's start: zeroed before the loop, or at the end of the last iteration
            Mstart |= self.shapeless(Z - Zstart)
            self.maybe_zero = set(Mstart)
            code, Zend = self.backward(body, set(Zstart))
            Mend = self.maybe_zero | self.shapeless(Zend - Zstart)
            if Zstart <= Zend and Mend <= Mstart:
                break
            Zstart &= Zend
            Mstart |= Mend
        self.maybe_zero = Mstart
        if not code and not Zend - Zstart:
            s.s2s_reversed = False
            self.maybe_zero = Min
            return [], Z
        # a name the body assigns has a zero adjoint before it, but only if the loop ran
        s.s2s_reversed = True
        code += [self.materialize(v, line) for v in sorted(Zend - Zstart)]
        before = [self.materialize(v, line) for v in sorted(Z - Zstart)]
        out: list = []
        if isinstance(s, gast.For):
            has_break = bool(body) and _is_break_tail(body[-1])
            names = set(A.atom_names(s.iter, self.core.locals))
            s.s2s_has_break = has_break
            if not has_break and names <= self.stable:
                s.s2s_push_range = False
                it = call("reversed", clone(s.iter))
            else:
                s.s2s_push_range = True
                it = call("reversed", pop(self.tape))
            loop = gast.For(
                target=store(s.target.id), iter=it, body=code, orelse=[], type_comment=None
            )
            loop.s2s_line = line
            # the body's adjoint comes first in reverse; the loop statement itself has none
            # so the header of the reversed body shows the loop line
            out = before + [loop]
            if id(s) in self.flow.loopvar_restore:
                out.append(assign(s.target.id, pop(self.tape), line))
        else:
            loop = gast.For(
                target=store("_"),
                iter=call("range", pop(self.tape)),
                body=code,
                orelse=[],
                type_comment=None,
            )
            loop.s2s_line = line
            out = before + [loop]
        for node in before:
            node.s2s_line = line
        return out, Zstart

    # -- pass D: forward sweep ----------------------------------------------------------------
    def forward(self, stmts: list) -> list:
        out: list = []
        for s in stmts:
            for h in self.number_invariants().get(id(s), ()):
                out.extend(self.forward_stmt(h, hoisting=True))
            out.extend(self.forward_stmt(s))
        return out

    def number_invariants(self) -> dict[int, list]:
        """Loop-invariant arithmetic of Python numbers that cannot raise (`-k`, `a * b`,
        `a + b`, `a - b`), by the id of the outermost loop it is invariant in: the forward
        sweep computes it once, before that loop (the backward sweep reads it as before)."""
        if self._number_invariants is None:
            safe = {operator.neg, operator.pos, operator.add, operator.sub, operator.mul}
            out: dict[int, list] = {}
            inside: dict[int, set[str]] = {}  # names assigned in each loop, but the hoisted
            for st in A.walk_stmts(self.core.body):
                loop = self.invariant.get(id(st))
                info = self.infos[id(st)]
                if loop is None:
                    continue
                if id(loop) not in inside:
                    inside[id(loop)] = A.assigned_in(loop.body, self.infos)
                if (
                    info.kind == A.OP
                    and info.op in safe
                    and not info.keywords
                    and info.target in self.scalars
                    and all(self._is_scalar(a) for a in info.args)
                    and not set(info.operands) & inside[id(loop)]
                ):
                    out.setdefault(id(loop), []).append(st)
                    inside[id(loop)].discard(info.target)
            self._number_invariants = out
            self._hoisted_numbers = {id(h) for hs in out.values() for h in hs}
        return self._number_invariants

    def forward_stmt(self, s: Any, hoisting: bool = False) -> list:
        if not hoisting and self.number_invariants() and id(s) in self._hoisted_numbers:
            return []  # computed before its loop
        line = getattr(s, "s2s_line", None)
        if A.is_checkpoint(s):
            if not getattr(s, "s2s_reversed", False):
                return self.plain(s.body)
            saved, mutated, shaped = self.flow.checkpoints[id(s)]
            values = [
                call("shape_of", name(v))
                if v in shaped
                else call("copy_value", name(v))
                if v in mutated
                else name(v)
                for v in saved
            ]
            out = []
            if values:
                value = values[0] if len(values) == 1 else gast.Tuple(elts=values, ctx=gast.Load())
                out.append(push(value, self.tape))
                out[0].s2s_line = line
            return out + self.first_run(s)
        if isinstance(s, gast.If):
            body = self.forward(s.body)
            orelse = self.forward(s.orelse)
            if getattr(s, "s2s_reversed", False) and getattr(s, "s2s_push_test", False):
                # the branch taken is the last thing pushed, so it is the first popped
                body.append(push(const(True), self.tape))
                orelse.append(push(const(False), self.tape))
            node = gast.If(test=clone(s.test), body=body, orelse=orelse)
            node.s2s_line = line
            return [node]
        if isinstance(s, gast.For):
            return self.forward_for(s, line)
        if isinstance(s, gast.While):
            body = self.forward(s.body)
            node = gast.While(test=clone(s.test), body=body, orelse=[])
            node.s2s_line = line
            if not getattr(s, "s2s_reversed", False):
                return [node]
            n = self.fresh()
            inc = assign(n, gast.BinOp(left=name(n), op=gast.Add(), right=const(1)), line)
            if body and _is_break_tail(body[-1]):
                body.insert(len(body) - 1, inc)
            else:
                body.append(inc)
            return [assign(n, const(0), line), node, push(name(n), self.tape)]
        info = self.infos.get(id(s))
        out = []
        if info is not None and info.kind == A.HOOK:
            return []  # the block runs in the backward sweep only
        if getattr(s, "s2s_guard", False) and set(info.operands) <= self.scalars:
            return []  # `v += ...` on a Python number: a rebinding, as the core has it
        if id(s) in self.flow.restore:
            if info.kind == A.SETITEM:
                tgt = s.targets[0]
                if tgt.value.id in self.dicts:
                    out.append(
                        push(
                            call("save_item", name(tgt.value.id), _index_expr(tgt.slice)), self.tape
                        )
                    )
                else:
                    sub = gast.Subscript(
                        value=name(tgt.value.id), slice=_index_expr(tgt.slice), ctx=gast.Load()
                    )
                    out.append(push(call("copy_value", sub), self.tape))
            elif info.kind == A.APPEND:
                pass
            elif id(s) in self.flow.shape_restore and info.target not in self.scalars:
                # the backward sweep reads only its shape (a Python number is pushed as is)
                out.append(push(call("shape_of", name(info.target)), self.tape))
            elif id(s) in self.inplace:  # `add_at(d_x, ...)` writes into d_x: save a copy
                out.append(push(call("copy_value", name(info.partial)), self.tape))
            else:
                out.append(push(name(info.target), self.tape))
        sp = self.specs.get(id(s))
        if sp is not None and getattr(sp, "user", None) is not None:
            fwd_name, _, guard, args = sp.user
            if guard is not None:
                out.append(clone(guard))
            newcall = gast.Call(
                func=name(fwd_name),
                args=[name(self.tape)] + [load_copy(a) for a in args],
                keywords=clone(s.value.keywords),
            )
            node = clone(s)
            node.value = newcall
            node.s2s_line = line
            out.append(node)
            return out
        node = clone(s)
        node.s2s_line = line
        node.s2s_primal = True  # the user's own statement: `x * 1.0` here is a copy, keep it
        if info is not None and info.target in self.retested:
            # the backward sweep tests it again: a Python bool, not a 0-d device array whose
            # every test is a device-to-host read
            node.value = gast.Call(func=name("bool"), args=[node.value], keywords=[])
        out.append(node)
        return out

    def forward_for(self, s: gast.For, line: int | None) -> list:
        body = self.forward(s.body)
        out: list = []
        if id(s) in self.flow.loopvar_restore and getattr(s, "s2s_reversed", False):
            out.append(push(name(s.target.id), self.tape))
        if not getattr(s, "s2s_reversed", False):
            node = gast.For(
                target=store(s.target.id),
                iter=clone(s.iter),
                body=body,
                orelse=[],
                type_comment=None,
            )
            node.s2s_line = line
            return out + [node]
        if not getattr(s, "s2s_push_range", False):
            node = gast.For(
                target=store(s.target.id),
                iter=clone(s.iter),
                body=body,
                orelse=[],
                type_comment=None,
            )
            node.s2s_line = line
            return out + [node]
        r = self.fresh()
        out.append(assign(r, clone(s.iter), line))
        node = gast.For(
            target=store(s.target.id), iter=name(r), body=body, orelse=[], type_comment=None
        )
        node.s2s_line = line
        if getattr(s, "s2s_has_break", False):
            n = self.fresh()
            out.append(assign(n, const(0), line))
            body.insert(
                len(body) - 1,
                assign(n, gast.BinOp(left=name(n), op=gast.Add(), right=const(1)), line),
            )
            out.append(node)
            sl = gast.Subscript(
                value=name(r),
                slice=gast.Slice(lower=None, upper=name(n), step=None),
                ctx=gast.Load(),
            )
            out.append(push(sl, self.tape))
        else:
            out.append(node)
            out.append(push(name(r), self.tape))
        return out

    # -- assembling -------------------------------------------------------------------------
    def run(self) -> None:
        for w in self.wrt:
            if w not in self.core.params:
                raise ValueError(w)
        self.analyze()
        Z0 = set(self.active) - {self.core.result} - self.inout
        if self.split:  # a caller passes a 0.0 for a result adjoint it materialized
            self.maybe_zero = self.shapeless({self.core.result})
        self.bwd, self.Zfinal = self.backward(self.core.body, Z0)
        self.retested = self._retested_comparisons()
        self.fwd = self.forward(self.core.body)

    def _retested_comparisons(self) -> set[str]:
        """Temporaries holding a comparison that serve only as branch tests the backward sweep
        tests again (stable, not pushed)."""
        tests: set[str] = set()
        for s in A.walk_stmts(self.core.body):
            if (
                isinstance(s, gast.If)
                and getattr(s, "s2s_reversed", False)
                and not getattr(s, "s2s_push_test", True)
                and isinstance(s.test, gast.Name)
            ):
                tests.add(s.test.id)
        made_by_compare = set()
        for s in A.walk_stmts(self.core.body) if tests else ():
            info = self.infos.get(id(s))
            if info is None or isinstance(s, (gast.If, gast.For, gast.While)):
                continue
            if (
                info.target in tests
                and isinstance(s.value, gast.Compare)
                and is_temporary(info.target)
            ):
                made_by_compare.add(info.target)
            else:
                tests -= set(info.operands) | ({info.partial} if info.partial else set())
        return tests & made_by_compare

    def prologue(self) -> list:
        out = []
        undefined = self.flow.maybe_undefined | (self.flow.end_undefined if self.split else set())
        for v in sorted(undefined):
            if v not in self.core.params:
                out.append(assign(v, const(None), None))
        for p in self.core.params:
            if p in self.mutated_params:
                out.append(assign(p, call("copy_value", name(p)), None))
        return out

    def grads(self, params: list[str]) -> list:
        params = [p for p in params if p not in self.inout]  # updated in place
        return [
            name(self.d(p)) if p not in self.Zfinal and p in self.active else const(0.0)
            for p in params
        ]


_ATOMS = frozenset((str, int, float, complex, bool, bytes, type(None), type(Ellipsis)))


@dataclass
class _Subst(gast.NodeTransformer):
    """A copy of a template expression with its names bound (the template stays as it is)."""

    env: dict[str, Any]
    renames: dict[str, str]
    dy: str
    result: str

    def __post_init__(self) -> None:
        super().__init__()

    def visit(self, node: Any) -> Any:
        """`NodeVisitor.visit` without the lookup of a method by name for every node."""
        cls = node.__class__
        if cls is gast.Name:
            return self.visit_Name(node)
        if cls is gast.Subscript:
            return self.visit_Subscript(node)
        return self.generic_visit(node)

    def generic_visit(self, node: Any) -> Any:
        new = node.__class__.__new__(node.__class__)
        fields = new.__dict__
        for k, v in node.__dict__.items():
            if v.__class__ in _ATOMS:
                pass  # (its own copy)
            elif isinstance(v, gast.AST) and k in node._fields:
                v = self.visit(v)
            elif isinstance(v, list) and k in node._fields:
                v = [self.visit(x) if isinstance(x, gast.AST) else clone(x) for x in v]
            else:
                v = clone(v)
            fields[k] = v
        return new

    def visit_Subscript(self, node: gast.Subscript) -> Any:
        if _is_d(node):
            p = node.slice.id
            if p == self.result:
                return name(self.dy)
            raise TypeError(f"reverse template reads d[{p}]")
        return self.generic_visit(node)

    def visit_Name(self, node: gast.Name) -> Any:
        if node.id in self.env:
            return load_copy(self.env[node.id])
        if node.id in self.renames:
            return name(self.renames[node.id])
        return clone(node)


class _MatmulByShape(gast.NodeTransformer):
    """`matmul_grad_a(g, a, b)` / `matmul_grad_b(g, a, b)` of vectors and matrices (by the
    call's shapes) as the products they are: `g @ b.T` / `a.T @ g` for two matrices."""

    def __init__(self, shapes: dict[str, Any]) -> None:
        self.shapes = shapes

    def visit_Call(self, node: gast.Call) -> Any:
        self.generic_visit(node)
        f = node.func
        if not (
            isinstance(f, gast.Name)
            and f.id in ("matmul_grad_a", "matmul_grad_b")
            and len(node.args) == 3
            and not node.keywords
        ):
            return node
        g, a, b = node.args
        if not (isinstance(a, gast.Name) and isinstance(b, gast.Name)):
            return node
        ra, rb = (len(self.shapes.get(x.id, (0,) * 3)) for x in (a, b))
        if not (ra in (1, 2) and rb in (1, 2)):
            return node
        # the products `matmul_grad_a/b` compute for vectors and matrices (no batch axes)
        if f.id == "matmul_grad_a":
            if rb == 2:
                return _matmul(g, _transposed(b)) if ra == 2 else _matmul(name(b.id), g)
            return _mult(_new_axis(g, 1) if ra == 2 else g, name(b.id))
        if ra == 2:
            return _matmul(_transposed(a), g)
        # (an outer product: `g` indexed, so that a shapeless 0.0 adjoint is never multiplied)
        return _mult(_new_axis(name(a.id), 1), _new_axis(g, 0)) if rb == 2 else _mult(g, name(a.id))


def _matmul(x: Any, y: Any) -> gast.BinOp:
    return gast.BinOp(left=x, op=gast.MatMult(), right=y)


def _mult(x: Any, y: Any) -> gast.BinOp:
    return gast.BinOp(left=x, op=gast.Mult(), right=y)


def _new_axis(x: Any, at: int) -> gast.Subscript:
    """`x[:, None]` (a column, `at` 1) or `x[None, :]` (a row, `at` 0) of a vector `x`."""
    elts: list = [gast.Slice(lower=None, upper=None, step=None)]
    elts.insert(at, const(None))
    return gast.Subscript(value=x, slice=gast.Tuple(elts=elts, ctx=gast.Load()), ctx=gast.Load())


def _transposed(x: gast.Name) -> gast.Attribute:
    return gast.Attribute(value=name(x.id), attr="T", ctx=gast.Load())


def _is_d(node: Any) -> bool:
    return (
        isinstance(node, gast.Subscript)
        and isinstance(node.value, gast.Name)
        and node.value.id == "d"
        and isinstance(node.slice, gast.Name)
    )


def _live_pre(pre: list, contribs: list) -> list:
    used = set()
    for c in contribs:
        used |= {n.id for n in name_nodes(c.value)}
    kept = []
    for s in reversed(pre):
        tgt = s.targets[0].id if isinstance(s, gast.Assign) else None
        if tgt is None or tgt in used:
            kept.append(s)
            used |= {n.id for n in name_nodes(s.value)}
    return list(reversed(kept))


def _index_expr(index: Any) -> Any:
    """A Load-context copy of a core index (atoms, slices, tuples)."""
    if isinstance(index, gast.Slice):
        return gast.Slice(
            lower=index.lower and load_copy(index.lower),
            upper=index.upper and load_copy(index.upper),
            step=index.step and load_copy(index.step),
        )
    if isinstance(index, gast.Tuple):
        return gast.Tuple(elts=[_index_expr(e) for e in index.elts], ctx=gast.Load())
    if is_atom(index):
        return load_copy(index)
    return clone(index)


def _nonzero_number(args: list) -> bool:
    """The first of two arguments is a nonzero number written in the source."""
    return (
        len(args) == 2
        and isinstance(args[0], gast.Constant)
        and type(args[0].value) in (int, float)
        and args[0].value != 0
    )


def _index_value(index: Any) -> Any:
    """An index as a value that can be passed to a function: slices become slice(...)."""
    if isinstance(index, gast.Slice):
        parts = [
            p if p is not None else const(None) for p in (index.lower, index.upper, index.step)
        ]
        while len(parts) > 2 and isinstance(parts[-1], gast.Constant) and parts[-1].value is None:
            parts.pop()
        if (
            all(isinstance(p, gast.Constant) and p.value is None for p in parts[:1])
            and isinstance(parts[1], gast.Constant)
            and parts[1].value is None
            and len(parts) == 2
        ):
            parts = [const(None)]
        return call("slice", *[clone(p) for p in parts])
    if isinstance(index, gast.Tuple):
        return gast.Tuple(elts=[_index_value(e) for e in index.elts], ctx=gast.Load())
    return clone(index)


def _unpack(names: list[str], value: Any, line: int | None) -> gast.Assign:
    """`a = value` or `a, b = value`."""
    if len(names) == 1:
        return assign(names[0], value, line)
    tgt = gast.Tuple(elts=[store(n) for n in names], ctx=gast.Store())
    node = gast.Assign(targets=[tgt], value=value, type_comment=None)
    node.s2s_line = line
    return node


#: runtime helpers, and NumPy functions (`np.<name>`), that read the argument at these positions
#: only for its shape and dtype
_SHAPE_ARGS = {"unbroadcast": (1,), "unreduce": (1,), "reduction_count": (0,), "zeros_like": (0,)}
_NP_SHAPE_ARGS = {"shape": (0,), "ndim": (0,), "zeros_like": (0,), "ones_like": (0,)}
_SHAPE_ATTRS = {"shape", "ndim", "dtype", "size"}


def _split_reads(nodes: list, local: set[str]) -> tuple[set[str], set[str]]:
    """The local names `nodes` read: (read for their value, read only for shape and dtype)."""
    whole: set[str] = set()
    shaped: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, gast.Name):
            if node.id in local:
                whole.add(node.id)
            return
        if isinstance(node, gast.Attribute) and node.attr in _SHAPE_ATTRS:
            if isinstance(node.value, gast.Name) and node.value.id in local:
                shaped.add(node.value.id)
                return
        if isinstance(node, gast.Call):
            f = node.func
            positions: tuple = ()
            if isinstance(f, gast.Name):
                positions = _SHAPE_ARGS.get(f.id, ())
            elif isinstance(f, gast.Attribute) and isinstance(f.value, gast.Name):
                if f.value.id in ("np", "numpy"):
                    positions = _NP_SHAPE_ARGS.get(f.attr, ())
            for i, a in enumerate(node.args):
                if i in positions and isinstance(a, gast.Name) and a.id in local:
                    shaped.add(a.id)
                else:
                    visit(a)
            visit(f)
            for kw in node.keywords:
                visit(kw.value)
            return
        for child in children(node):
            visit(child)

    for node in nodes:
        visit(node)
    return whole, shaped - whole


def is_generated(core: CoreFunction) -> bool:
    """`core` is a derivative s2s generated (its source lives in `linecache` as `<s2s ...>`)."""
    return _generated_fn(core.fn)


def _generated_fn(fn: Any) -> bool:
    code = getattr(fn, "__code__", None)
    return code is not None and code.co_filename.startswith("<s2s ")


def _name_bare_pops(core: CoreFunction) -> None:
    """`xs.pop()` as a statement becomes `_k = xs.pop()`: the backward sweep puts the value
    back on `xs` (a generated gradient restores its user's lists that way)."""

    def visit(stmts: list) -> None:
        for i, s in enumerate(stmts):
            if isinstance(s, gast.If):
                visit(s.body)
                visit(s.orelse)
            elif isinstance(s, (gast.For, gast.While)):
                visit(s.body)
            elif (
                isinstance(s, gast.Expr)
                and isinstance(s.value, gast.Call)
                and isinstance(s.value.func, gast.Attribute)
                and s.value.func.attr == "pop"
                and isinstance(s.value.func.value, gast.Name)
                and s.value.func.value.id in core.locals
                and not s.value.args
                and not s.value.keywords
            ):
                stmts[i] = assign(core.fresh(), s.value, getattr(s, "s2s_line", None))

    visit(core.body)


def _is_list_pop(info: A.StmtInfo, core: CoreFunction) -> bool:
    """`v = xs.pop()` on a local list `xs` (a user's list, or a generated gradient's tape)."""
    return (
        info.kind == A.OP
        and info.op == ("method", "pop")
        and info.target is not None
        and len(info.args) == 1
        and not info.keywords
        and isinstance(info.args[0], gast.Name)
        and info.args[0].id in core.locals
    )


def _updates_first_argument(info: A.StmtInfo, core: CoreFunction) -> bool:
    """`add_at(d_x, i, g)` called for its effect (in a generated gradient): it updates d_x."""
    from s2s.backends import runtime

    return (
        info.kind == A.OP
        and info.op is runtime.add_at
        and bool(info.args)
        and isinstance(info.args[0], gast.Name)
        and info.args[0].id in core.locals
    )


def _is_break_tail(s: Any) -> bool:
    return (
        isinstance(s, gast.If)
        and len(s.body) == 1
        and isinstance(s.body[0], gast.Break)
        and not s.orelse
    )


def _user_params(fn: Any) -> list[str]:
    return list(inspect.signature(fn).parameters)


def _name_counts(stmts: list) -> dict[str, int]:
    """How many times each name is mentioned in `stmts`."""
    counts: dict[str, int] = {}
    for s in stmts:
        for n in name_nodes(s):
            counts[n.id] = counts.get(n.id, 0) + 1
    return counts


def _loops_in_blocks(body: list) -> dict[int, Any]:
    """For each statement inside a checkpointed block: the outermost loop around it inside
    the innermost such block (None where no loop of the block holds it)."""
    out: dict[int, Any] = {}

    def visit(stmts: list, loop: Any, in_block: bool) -> None:
        for s in stmts:
            if in_block:
                out[id(s)] = loop
            if A.is_checkpoint(s):
                visit(s.body, None, True)
            elif isinstance(s, (gast.For, gast.While)):
                visit(s.body, s if in_block and loop is None else loop, in_block)
            elif isinstance(s, gast.If):
                visit(s.body, loop, in_block)
                visit(s.orelse, loop, in_block)

    visit(body, None, False)
    return out
