"""Functions as values: which function each local name holds, for calls through a name.

`act(z)`, where `act` is a parameter or a local name, is a call s2s differentiates once it
knows which function `act` holds. It knows that statically, never by guessing from a value:

* a name assigned a module-level function, a NumPy function or ufunc, a builtin, or any
  callable the module binds (`act = np.tanh`, `f = relu`), or another such name;
* a parameter: the function the caller passes (a call from a differentiated function passes
  it by name, and the callee's derivative is made for that function: one pair per function),
  the parameter's default (`act=np.tanh`; code any call may run checks that the call passed
  that very function, `check_function`), or, for the function `s2s.grad` differentiates, the
  function the call passes (the dispatcher looks the code up by it);
* a local function, a nested `def g(...)` or a `lambda`: it is *lifted* (`lift`), made a
  function of its own, `loss_g`, whose first parameters are the enclosing function's names
  it reads (its *environment*: Python's free variables, and those of the local functions it
  calls), and each call `g(x)` becomes `loss_g(s, x)`. Python reads a free variable when the
  call runs; passing its value at the call is the same. Local functions calling each other,
  or themselves, call each other's lifted functions the same way;
* a local function with an environment passed to a function of the user's (`odeint(rhs, y0,
  dt)`): a *closure* made where it is passed, a NamedTuple of the environment's values whose
  `__call__` runs the body (`closure_class`); the callee's derivative is made for its class,
  and `check_closure_uses` refuses any other use of it (returned, stored, given to a library
  function), where the values it read would no longer be those of the call.

A call through a name none of these says is refused with what to write. `lift` runs on the
source tree before anything else; `bind` on the core, after `normalize`, rewrites each call
`act(...)` through a name with a known function: it keeps its text (the name holds that very
function when the code runs) and its Name node carries the function (`s2s_value`) for the
stages that resolve callees.
"""

from __future__ import annotations

import ast
import collections
import dataclasses
import inspect
import re
import types
from dataclasses import dataclass
from typing import Any

import gast
import numpy as np

from .errors import UnsupportedSyntaxError
from .nodes import copy_tree, funcdef, leading_arguments, walk
from .parse import ParsedFunction, SourceInfo


@dataclass(frozen=True)
class Lifted:
    """What `parse.parse_function` reads for a lifted local function (attached to the function
    object made for it, as `__s2s_lifted__`)."""

    tree: Any  # the gast FunctionDef: environment parameters first
    info: SourceInfo
    namespace: Any


#: the types of the values `is_function_value` accepts (np.sum's: a Python function before
#: NumPy 1.25, a `_ArrayFunctionDispatcher` since)
FUNCTION_TYPES = frozenset((types.FunctionType, types.BuiltinFunctionType, np.ufunc, type(np.sum)))


def is_function_value(obj: Any) -> bool:
    """A callable s2s can take a derivative through when a name holds it: a Python function,
    a builtin, a NumPy function or ufunc (not a class, whose call makes an object, nor an
    object with a `__call__`, which `classes.py` reads from annotations)."""
    return type(obj) in FUNCTION_TYPES


# -- lifting ---------------------------------------------------------------------------------

_COMPREHENSIONS = (gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp)


def _params(args: gast.arguments) -> list[str]:
    out = [a.id for a in list(args.posonlyargs) + list(args.args) + list(args.kwonlyargs)]
    return out + [a.id for a in (args.vararg, args.kwarg) if a is not None]


def _defaults_of(args: gast.arguments) -> list:
    return list(args.defaults) + [k for k in args.kw_defaults if k is not None]


def _loaded(n: Any) -> bool:
    return isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)


def scope_names(scope: Any) -> tuple[set[str], set[str]]:
    """(free, bound) names of a `def` or `lambda`: the names it reads from enclosing scopes
    (Python's free variables, its own nested scopes' included) and those it binds."""
    bound = set(_params(scope.args))
    loads: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, gast.Name):
            (loads if isinstance(node.ctx, gast.Load) else bound).add(node.id)
        elif isinstance(node, (gast.FunctionDef, gast.Lambda)):
            if isinstance(node, gast.FunctionDef):
                bound.add(node.name)
            for d in _defaults_of(node.args):
                visit(d)
            loads.update(scope_names(node)[0])
        elif isinstance(node, gast.Nonlocal):
            loads.update(node.names)
        elif isinstance(node, _COMPREHENSIONS):
            visit(node.generators[0].iter)  # (evaluated in the enclosing scope)
            own: set[str] = set()
            parts: list = []
            for k, gen in enumerate(node.generators):
                own |= {n.id for n in walk(gen.target) if isinstance(n, gast.Name)}
                parts += ([gen.iter] if k else []) + list(gen.ifs)
            parts += [node.key, node.value] if isinstance(node, gast.DictComp) else [node.elt]
            loads.update({n.id for p in parts for n in walk(p) if _loaded(n)} - own)
        else:
            for child in gast.iter_child_nodes(node):
                visit(child)

    for s in scope.body if isinstance(scope.body, list) else [scope.body]:
        visit(s)
    return loads - bound, bound


@dataclass
class _Local:
    """A local function of the function being lifted."""

    node: Any  # the FunctionDef or Lambda
    local: str  # the name it is bound to ("lambda" for one passed directly)
    fname: str  # the lifted function's name
    static: bool  # its name is bound by this definition only: calls of it are rewritten
    env: set = dataclasses.field(default_factory=set)
    bound: set = dataclasses.field(default_factory=set)  # the names it binds
    fn: Any = None
    #: a lambda written as an argument of a call (`rk4(lambda y: -k * y, y0)`)
    argument: bool = False
    #: the class of its closures (`closure_class`), where it reads the enclosing function's
    #: names and is passed to a call as a value
    closure: Any = None


_MADE: dict[Any, dict[tuple, Any]] = {}


def lift(parsed: ParsedFunction) -> bool:
    """Lift each local function of `parsed.tree` (module docstring), in place. Whether the
    function now makes closures (`closure_class`)."""
    if not any(
        isinstance(n, (gast.FunctionDef, gast.Lambda)) for s in parsed.tree.body for n in walk(s)
    ):  # (most functions; a lifted one that makes closures says so)
        return getattr(parsed.tree, "s2s_closures", False)
    lifter = _Lifter(parsed, scope_names(parsed.tree)[1])
    lifter.run()
    return getattr(parsed.tree, "s2s_closures", False) or any(
        kind == "closure" for _, _, kind in lifter.refs
    )


class _Lifter:
    def __init__(self, parsed: ParsedFunction, local_names: set[str]) -> None:
        self.parsed = parsed
        self.info = parsed.info
        self.locals = local_names
        self.found: list[_Local] = []
        #: name nodes to point at the functions (kind "function") or closure classes ("closure")
        self.refs: list[tuple[gast.Name, _Local, str]] = []

    def error(self, node: Any, message: str, hint: str) -> Exception:
        return self.info.error(UnsupportedSyntaxError, node, message, hint)

    def run(self) -> None:
        body = self.parsed.tree.body
        self.collect(body)
        bindings = _bindings(body)
        used: dict[str, int] = {}
        outer = self.parsed.name
        for loc in self.found:
            k = used[loc.local] = used.get(loc.local, 0) + 1
            loc.fname = f"{outer}_{loc.local}" + (f"_{k}" if k > 1 else "")
            loc.static = loc.local != "lambda" and bindings.get(loc.local, 0) == 1
        self.statics = {loc.local: loc for loc in self.found if loc.static}
        self.valued: set[str] = set()  # the static local functions some code reads as values
        self.environments()
        self.valued |= {n.id for s in body for n in _outer_value_reads(s) if n.id in self.statics}
        for loc in self.found:
            if loc.env and not loc.static and not loc.argument:
                reads = f"reads {', '.join(sorted(loc.env))} of {outer}"
                if loc.local == "lambda":
                    raise self.error(
                        loc.node,
                        f"a lambda that {reads} is neither assigned to a name nor passed to "
                        "a call, so s2s cannot tell where it runs",
                        "assign it to a name of its own (`g = lambda ...`) and call it, or "
                        "pass it to a function of yours",
                    )
                raise self.error(
                    loc.node,
                    f"the local function {loc.local!r} {reads}, and its name is bound more "
                    "than once, so s2s cannot tell which function a call runs",
                    "give each local function a name of its own, bound once",
                )
        self.make()
        self.rewrite_block(body)
        for ref, loc, kind in self.refs:
            ref.s2s_object = loc.closure if kind == "closure" else loc.fn
        # `g = <f>_g` where nothing reads g any more (every call of it is rewritten) goes
        read = {n.id for s in body for n in walk(s) if _loaded(n)}
        read |= {e for loc in self.found for e in loc.env}
        dead = {loc.local for loc in self.found if loc.static and loc.local not in read}
        if dead:
            _drop_assignments(body, dead)

    def collect(self, stmts: list) -> None:
        """The local functions, in the order of the text (each `def`, and each `lambda`, named
        after the name it is assigned to)."""
        for s in stmts:
            if isinstance(s, gast.FunctionDef):
                self.found.append(_Local(s, s.name, "", False))
                continue
            if isinstance(s, gast.With) and self._is_hook(s):
                continue  # (a hook block refuses local functions itself)
            named = (
                s.targets[0].id
                if isinstance(s, gast.Assign)
                and len(s.targets) == 1
                and isinstance(s.targets[0], gast.Name)
                and isinstance(s.value, gast.Lambda)
                else None
            )
            for field, value in gast.iter_fields(s):
                if field in ("body", "orelse", "finalbody", "handlers"):
                    continue
                for n in walk(value) if isinstance(value, gast.AST) else ():
                    bad = isinstance(n, _COMPREHENSIONS) and next(
                        (m for m in walk(n) if isinstance(m, gast.Lambda)), None
                    )
                    if bad:
                        raise self.error(
                            bad,
                            "a lambda inside a comprehension cannot be differentiated",
                            "define the function before the comprehension (`g = lambda v: "
                            "...`, or a `def`) and call it there",
                        )
                lambdas = (
                    [n for n in walk(value) if isinstance(n, gast.Lambda)]
                    if isinstance(value, gast.AST)
                    else []
                )
                arguments = (
                    {id(a) for n in walk(value) for a in _call_arguments(n)} if lambdas else set()
                )
                for lam in lambdas:
                    if not any(lam in walk(o) for o in lambdas if o is not lam):
                        name_ = named if lam is s.value else "lambda"
                        loc = _Local(lam, name_, "", False, argument=id(lam) in arguments)
                        self.found.append(loc)
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(s, field, None)
                if isinstance(inner, list):
                    self.collect(inner)

    def _is_hook(self, s: gast.With) -> bool:
        from . import markers

        ce = s.items[0].context_expr if len(s.items) == 1 else None
        return (
            isinstance(ce, gast.Call)
            and self.parsed.namespace.resolve(ce.func) is markers.insert_grad_of
        )

    def environments(self) -> None:
        """Each local function's environment: the enclosing function's names it reads, where
        a call of a static local function, or a read of one as a value, reads that function's
        environment instead (a least fixpoint, for functions that call each other)."""
        calls_of: dict[int, set[str]] = {}
        for loc in self.found:
            free, bound = scope_names(loc.node)
            loc.bound = bound
            called = {
                n.func.id
                for part in _body(loc.node)
                for n in walk(part)
                if isinstance(n, gast.Call)
                and isinstance(n.func, gast.Name)
                and n.func.id in self.statics
                and n.func.id not in bound
            }
            values = {
                n.id
                for part in _body(loc.node)
                for n in _value_reads(part)
                if n.id in self.statics and n.id not in bound
            }
            # (a static local function read as a value is made there: `rewrite`)
            calls_of[id(loc)] = called | values
            self.valued |= values
            loc.env = (free & self.locals) - called - values
        changed = True
        while changed:
            changed = False
            for loc in self.found:
                new = set(loc.env)
                for g in calls_of[id(loc)]:
                    new |= self.statics[g].env
                if new != loc.env:
                    loc.env = new
                    changed = True

    def make(self) -> None:
        """The function objects: made once per enclosing function (so the derivatives made
        for them are found again), all in one module so that they can call each other."""
        made = _MADE.setdefault(self.parsed.fn, {})
        keys = [(loc.node.lineno, loc.node.col_offset, loc.fname) for loc in self.found]
        if all(k in made for k in keys):
            for loc, k in zip(self.found, keys, strict=True):
                loc.fn = made[k]
                loc.closure = made.get((*k, "closure"))
            return
        for loc in self.found:
            for d in _defaults_of(loc.node.args):
                if not _constant(d):
                    raise self.error(
                        d,
                        "a default value of a local function that is not a constant (it is "
                        "computed when the `def` runs, which s2s does not follow)",
                        "pass the value as an argument at each call",
                    )
            if isinstance(loc.node, gast.FunctionDef) and loc.node.decorator_list:
                raise self.error(
                    loc.node,
                    f"the local function {loc.local!r} is decorated",
                    "define it at module level",
                )
            for n in walk(loc.node):
                if isinstance(n, (gast.Nonlocal, gast.Global)):
                    word = "nonlocal" if isinstance(n, gast.Nonlocal) else "global"
                    raise self.error(
                        n,
                        f"`{word}` declarations cannot be differentiated (a local function "
                        "that writes a variable of another scope has a side effect s2s "
                        "cannot reverse)",
                        "return the value instead of writing the variable",
                    )
        trees = [self.lifted_tree(loc) for loc in self.found]
        closures = [
            loc
            for loc in self.found
            if loc.env and (loc.argument if not loc.static else loc.local in self.valued)
        ]
        calls = [self.call_tree(loc) for loc in closures]
        fns = _compile(trees + calls, self.parsed)
        qual = (getattr(self.parsed.fn, "__qualname__", "") or self.parsed.name).replace(
            ".<locals>", ""
        )

        def describe(fn: Any, tree: Any, loc: _Local) -> None:
            """What docstrings and `parse.parse_function` read of a function made here."""
            info = dataclasses.replace(self.info, def_line=self.info.file_line(loc.node.lineno))
            fn.__qualname__ = f"{qual}.{loc.local}"
            fn.__s2s_lifted__ = Lifted(tree=tree, info=info, namespace=self.parsed.namespace)

        key = {id(loc): k for loc, k in zip(self.found, keys, strict=True)}
        for loc, tree in zip(self.found, trees, strict=True):
            loc.fn = made[key[id(loc)]] = fns[loc.fname]
            describe(loc.fn, tree, loc)
        module = getattr(self.parsed.fn, "__module__", None)
        for loc, tree in zip(closures, calls, strict=True):
            fn = fns[tree.name]
            tree.name = fn.__name__ = "__call__"
            describe(fn, tree, loc)
            loc.closure = made[(*key[id(loc)], "closure")] = closure_class(
                loc.fname, sorted(loc.env), fn, module
            )

    def lifted_tree(self, loc: _Local) -> gast.FunctionDef:
        node = loc.node
        args = leading_arguments(node.args, sorted(loc.env))
        if isinstance(node, gast.Lambda):
            ret = gast.Return(value=copy_tree(node.body))
            body = [gast.copy_location(ret, node)]
        else:
            body = copy_tree(node.body)
        before = len(self.refs)
        for s in body:
            self.rewrite(s, loc.bound, lifted=True)
        tree = funcdef(loc.fname, args, body)
        # (what `lift` says of the lifted function, when it is read in turn)
        tree.s2s_closures = any(kind == "closure" for _, _, kind in self.refs[before:])
        return gast.copy_location(tree, node)

    def call_tree(self, loc: _Local) -> gast.FunctionDef:
        """The `__call__` method of the class of `loc`'s closures (`closure_class`): its
        environment read from the object's fields, then its body."""
        node = loc.node
        taken = loc.bound | loc.env
        recv = next(r for r in ("self", "closure", "closure_") if r not in taken)
        prologue = [
            gast.copy_location(
                gast.Assign(
                    targets=[gast.Name(id=e, ctx=gast.Store(), annotation=None, type_comment=None)],
                    value=gast.Attribute(value=_name(recv), attr=f, ctx=gast.Load()),
                    type_comment=None,
                ),
                node,
            )
            for e, f in zip(sorted(loc.env), closure_fields(sorted(loc.env)), strict=True)
        ]
        tree = self.lifted_tree(loc)
        tree.args = leading_arguments(node.args, [recv])
        tree.body = prologue + tree.body
        tree.name = f"{loc.fname}__call__"
        return tree

    def rewrite(self, node: Any, shadowed: set[str], lifted: bool = False) -> None:
        """Calls of static local functions in `node` (not of a name `shadowed` rebinds) become
        calls of their lifted functions, their environments first; a read of one as a value,
        where it has an environment, an argument of a call, becomes a closure made there
        (`closure_class`), and in a `lifted` body, where it has none, its lifted function."""
        for n in walk(node):
            if (
                isinstance(n, gast.Call)
                and isinstance(n.func, gast.Name)
                and n.func.id in self.statics
                and n.func.id not in shadowed
            ):
                loc = self.statics[n.func.id]
                ref = gast.copy_location(
                    gast.Name(id=loc.fname, ctx=gast.Load(), annotation=None, type_comment=None),
                    n.func,
                )
                self.refs.append((ref, loc, "function"))
                n.func = ref
                n.args = [
                    gast.copy_location(
                        gast.Name(id=e, ctx=gast.Load(), annotation=None, type_comment=None), n
                    )
                    for e in sorted(loc.env)
                ] + list(n.args)
        reads = [n for n in _value_reads(node) if n.id in self.statics and n.id not in shadowed]
        if not reads:
            return
        arguments = {id(a) for n in walk(node) for a in _call_arguments(n)}
        for n in reads:
            loc = self.statics[n.id]
            if loc.env and id(n) not in arguments:
                raise self.error(
                    n,
                    f"the local function {n.id!r} reads {', '.join(sorted(loc.env))} of "
                    f"{self.parsed.name}: s2s differentiates it where it is called, or where "
                    "it is passed to a function as an argument, not where it is used as "
                    "another value",
                    f"call it (`{n.id}(...)`), or pass it to a function (`h({n.id}, ...)`)",
                )
            if loc.env:
                _replace(node, n, self.closure(loc, n))
            elif lifted:
                _replace(node, n, self.ref(loc, n))

    def rewrite_block(self, stmts: list) -> None:
        """The enclosing function: each `def g` becomes `g = <f>_g`, each lambda the name of
        its function, and calls of static local functions are rewritten (`rewrite`)."""
        by_node = {id(loc.node): loc for loc in self.found}
        for i, s in enumerate(stmts):
            loc = by_node.get(id(s))
            if loc is not None:
                stmts[i] = gast.copy_location(
                    gast.Assign(
                        targets=[
                            gast.Name(
                                id=loc.local, ctx=gast.Store(), annotation=None, type_comment=None
                            )
                        ],
                        value=self.ref(loc, s),
                        type_comment=None,
                    ),
                    s,
                )
                continue
            if isinstance(s, gast.With) and self._is_hook(s):
                continue
            for field, value in gast.iter_fields(s):
                if field in ("body", "orelse", "finalbody"):
                    self.rewrite_block(value)
                    continue
                parts = [
                    self.replace_lambdas(v, by_node)
                    for v in (value if isinstance(value, list) else [value])
                ]
                for v in parts:
                    if isinstance(v, gast.AST):
                        self.rewrite(v, set())
                setattr(s, field, parts if isinstance(value, list) else parts[0])

    def ref(self, loc: _Local, at: Any) -> gast.Name:
        ref = gast.Name(id=loc.fname, ctx=gast.Load(), annotation=None, type_comment=None)
        self.refs.append((ref, loc, "function"))
        return gast.copy_location(ref, at)

    def closure(self, loc: _Local, at: Any) -> gast.Call:
        """`loss_f_closure(theta)`: a closure of `loc`, made of its environment's values."""
        cls = _name(closure_name(loc.fname))
        self.refs.append((cls, loc, "closure"))
        call = gast.Call(func=cls, args=[_name(e) for e in sorted(loc.env)], keywords=[])
        for n in walk(call):
            gast.copy_location(n, at)
        return call

    def replace_lambdas(self, node: Any, by_node: dict) -> Any:
        if not isinstance(node, gast.AST):
            return node
        loc = by_node.get(id(node))
        if loc is not None:
            closure = loc.closure is not None and not loc.static  # (a lambda passed as is)
            return self.closure(loc, node) if closure else self.ref(loc, node)
        for field, value in gast.iter_fields(node):
            if isinstance(value, list):
                setattr(node, field, [self.replace_lambdas(v, by_node) for v in value])
            elif isinstance(value, gast.AST):
                setattr(node, field, self.replace_lambdas(value, by_node))
        return node


def _bindings(stmts: list) -> dict[str, int]:
    """How many times the function whose body is `stmts` binds each name (its nested scopes'
    own bindings apart)."""
    out: dict[str, int] = {}

    def visit(node: Any) -> None:
        if isinstance(node, gast.Name):
            if not isinstance(node.ctx, gast.Load):
                out[node.id] = out.get(node.id, 0) + 1
            return
        if isinstance(node, gast.FunctionDef):
            out[node.name] = out.get(node.name, 0) + 1
            return
        if isinstance(node, (gast.Lambda, *_COMPREHENSIONS)):
            return
        for child in gast.iter_child_nodes(node):
            visit(child)

    for s in stmts:
        visit(s)
    return out


def _drop_assignments(stmts: list, dead: set[str]) -> None:
    """Remove, in place, the assignments `g = <f>_g` of the names `dead`."""
    keep = []
    for s in stmts:
        if (
            isinstance(s, gast.Assign)
            and len(s.targets) == 1
            and isinstance(s.targets[0], gast.Name)
            and s.targets[0].id in dead
            and "s2s_object" in s.value.__dict__
        ):
            continue
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(s, field, None)
            if isinstance(inner, list) and inner:
                _drop_assignments(inner, dead)
                if not inner:
                    inner.append(gast.copy_location(gast.Pass(), s))
        keep.append(s)
    stmts[:] = keep


def _call_arguments(node: Any) -> list:
    """The argument expressions of `node`, where it is a call."""
    if not isinstance(node, gast.Call):
        return []
    return list(node.args) + [k.value for k in node.keywords]


def _replace(root: Any, old: Any, new: Any) -> None:
    """Put `new` in place of `old`, a node below `root`."""
    for n in walk(root):
        for field, value in gast.iter_fields(n):
            if value is old:
                setattr(n, field, new)
                return
            if isinstance(value, list):
                for i, v in enumerate(value):
                    if v is old:
                        value[i] = new
                        return


def _outer_value_reads(node: Any) -> list:
    """`_value_reads` of a statement of the enclosing function, the bodies of the local
    functions it defines apart."""
    if isinstance(node, (gast.FunctionDef, gast.Lambda)):
        return [n for d in _defaults_of(node.args) for n in _value_reads(d)]
    func = node.func if isinstance(node, gast.Call) else None
    out = []
    for child in gast.iter_child_nodes(node):
        if not _loaded(child):
            out += _outer_value_reads(child)
        elif child is not func:
            out.append(child)
    return out


# -- closures --------------------------------------------------------------------------------


def closure_fields(env: list[str]) -> list[str]:
    """The field names of a closure class for the environment `env` (a NamedTuple's may not
    start with an underscore: `_x` is held in `v_x`)."""
    out: list[str] = []
    for e in env:
        f = e if not e.startswith("_") else "v" + e
        while f in out or (f != e and f in env):
            f += "_"
        out.append(f)
    return out


def closure_name(fname: str) -> str:
    """The name of the class of the closures of the local function lifted to `fname`."""
    return f"{fname}_closure"


def closure_class(fname: str, env: list[str], call: Any, module: str | None) -> type:
    """The class of the closures of the local function lifted to `fname`, which reads the
    enclosing function's names `env`: a NamedTuple of their values whose `__call__` (`call`)
    runs the function's body. `rk4(f, y, dt)`, where `f` reads `theta`, passes
    `loss_f_closure(theta)`: `rk4`'s derivative is made for that class (its `f(y)` a method
    call, `classes.py`), and the gradient with respect to the closure is one of the same
    class, `theta`'s gradient in its field."""
    cls = collections.namedtuple(closure_name(fname), closure_fields(env), module=module)
    cls.__call__ = call
    cls.__s2s_closure__ = fname
    cls.__s2s_env__ = tuple(env)
    cls.__doc__ = f"A closure of {call.__qualname__}: the values of {', '.join(env)}."
    return cls


def is_closure_class(obj: Any) -> bool:
    return isinstance(obj, type) and "__s2s_closure__" in vars(obj)


def _body(node: Any) -> list:
    return node.body if isinstance(node.body, list) else [node.body]


def _value_reads(node: Any) -> list:
    """The loads of a name in `node` other than as the function of a call."""
    called = {id(n.func) for n in walk(node) if isinstance(n, gast.Call)}
    return [n for n in walk(node) if _loaded(n) and id(n) not in called]


def _constant(node: Any) -> bool:
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
        node = node.operand
    return isinstance(node, gast.Constant)


def _compile(trees: list, parsed: ParsedFunction) -> dict[str, Any]:
    """Python functions for the lifted `trees`, in the enclosing function's module, made in one
    enclosing function of their own (so they call each other) that takes the names the
    enclosing function reads from its closure: what runs for a call the derivative does not
    need, and what `inspect.signature` reads."""
    closure = dict(parsed.namespace.closure)
    defs = [gast.gast_to_ast(copy_tree(t)) for t in trees]
    for d in defs:
        for a in ast.walk(d):
            if isinstance(a, ast.arg):
                a.annotation = None
    names = [d.name for d in defs]
    ret = ast.Return(
        value=ast.Tuple(elts=[ast.Name(id=n, ctx=ast.Load()) for n in names], ctx=ast.Load())
    )
    outer = ast.FunctionDef(
        name="__s2s_local_functions__",
        args=ast.arguments(
            posonlyargs=[],
            args=[ast.arg(arg=k) for k in closure],
            vararg=None,
            kwonlyargs=[],
            kw_defaults=[],
            kwarg=None,
            defaults=[],
        ),
        body=[*defs, ret],
        decorator_list=[],
        returns=None,
        type_comment=None,
    )
    if hasattr(ast.FunctionDef, "type_params"):
        outer.type_params = []  # type: ignore[attr-defined]
    module = ast.Module(body=[outer], type_ignores=[])
    ast.fix_missing_locations(module)
    ast.increment_lineno(module, parsed.info.first_lineno - 1)
    globals_ = getattr(parsed.fn, "__globals__", None)
    if globals_ is None:
        globals_ = parsed.namespace.globals
    made: dict[str, Any] = {}
    exec(compile(module, parsed.info.filename, "exec"), globals_, made)  # noqa: S102
    return dict(zip(names, made["__s2s_local_functions__"](*closure.values()), strict=True))


# -- binding calls through names -------------------------------------------------------------

_TOP = object()


def bind(core: Any, given: dict | None, guard_defaults: bool = False) -> None:
    """Which function each local name of `core` holds (`core.functions`), and each call
    through such a name rewritten (module docstring). `given`: the functions the caller
    passes, by parameter; `guard_defaults`: take a parameter's function from its default as
    well, and write a check that the call passed that very function (`check_function`), for
    code that any call may run (`s2s.source`, `s2s.jvp`)."""
    from .analyze import walk_stmts
    from .normalize import is_atom

    facts: dict[str, Any] = {}
    core.given_classes = {}
    for p, v in (given or {}).items():
        if is_closure_class(v):  # (read by `classes.py`: `f(y)` calls its `__call__`)
            core.given_classes[p] = v
        else:
            facts[p] = v
    if core.given_classes:
        core.closures = True
        core.classes = None  # (computed again, with these)
    guards = []
    if guard_defaults:
        for p, d in _defaults(core).items():
            if p not in facts and _global_ref(core, d):
                obj = core.namespace.resolve(d)
                if is_function_value(obj):
                    facts[p] = obj
                    guards.append((p, d))
    calls = _implicit_calls(core)
    if not calls and not guards:
        core.functions = facts
        return
    assigns = []
    for s in walk_stmts(core.body):
        if isinstance(s, gast.For):
            for n in walk(s.target):
                if isinstance(n, gast.Name):
                    facts[n.id] = _TOP
        elif isinstance(s, gast.Assign):
            for t in s.targets:
                if isinstance(t, gast.Name):
                    assigns.append((t.id, s.value))
                else:
                    for n in walk(t):
                        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                            facts[n.id] = _TOP
    changed = True
    while changed:
        changed = False
        for target, value in assigns:
            if isinstance(value, gast.Name) and value.id in core.locals:
                fact = facts.get(value.id)
                if fact is None:
                    continue
            elif is_atom(value) and _global_ref(core, value):
                obj = core.namespace.resolve(value)
                fact = obj if is_function_value(obj) else _TOP
            else:
                fact = _TOP
            old = facts.get(target)
            new = fact if old is None or old is fact else _TOP
            if new is not old:
                facts[target] = new
                changed = True
    facts = {k: v for k, v in facts.items() if v is not _TOP}
    core.functions = facts
    for call in calls:
        recv = call.func.value
        fn = facts.get(recv.id)
        if fn is not None:
            ref = _name(recv.id)
            ref.s2s_value = fn
            call.func = ref
    for p, d in reversed(guards):
        core.body.insert(0, _guard(core, p, d))


def _name(v: str) -> gast.Name:
    return gast.Name(id=v, ctx=gast.Load(), annotation=None, type_comment=None)


def _defaults(core: Any) -> dict[str, Any]:
    args = core.args
    if args is None:
        return {}
    out = {}
    positional = list(args.posonlyargs) + list(args.args)
    for a, d in zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True):
        out[a.id] = d
    for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        if d is not None:
            out[a.id] = d
    return out


def _global_ref(core: Any, node: Any) -> bool:
    if getattr(node, "s2s_object", None) is not None:
        return True
    while isinstance(node, gast.Attribute):
        node = node.value
    return isinstance(node, gast.Name) and node.id not in core.locals


def _implicit_calls(core: Any) -> list:
    """The calls `v(...)` of a local name `v` (the core spells them `v.__call__(...)`)."""
    from .analyze import walk_stmts

    out = []
    for s in walk_stmts(core.body):
        call = s.value if isinstance(s, (gast.Assign, gast.Expr)) else None
        f = getattr(call, "func", None)
        if (
            isinstance(call, gast.Call)
            and getattr(f, "s2s_implicit_call", False)
            and isinstance(f.value, gast.Name)
            and f.value.id in core.locals
        ):
            out.append(call)
    return out


def _guard(core: Any, p: str, default: Any) -> Any:
    """`check_function(act, np.tanh, 'act', 'model.py:3')` (`backends/runtime.py`)."""
    from .normalize import const, load_copy_chain

    base = core.info.filename.replace("\\", "/").rsplit("/", 1)[-1]
    where = f"{base}:{core.info.def_line or core.info.first_lineno}"
    call = gast.Call(
        func=_name("check_function"),
        args=[_name(p), load_copy_chain(default), const(p), const(where)],
        keywords=[],
    )
    node = gast.Expr(value=call)
    node.s2s_guard = True
    node.s2s_line = getattr(default, "lineno", None) or 1
    return node


# -- calls of functions with functions as arguments -----------------------------------------


def atom_function(core: Any, atom: Any) -> Any:
    """The function an argument atom of `core` holds (or the class of the closure it holds,
    `closure_class`), or None."""
    if isinstance(atom, gast.Name) and atom.id in core.locals:
        fn = (core.functions or {}).get(atom.id)
        if fn is None and core.closures:
            from .classes import classes

            cls = classes(core).get(atom.id)
            return cls if is_closure_class(cls) else None
        return fn
    if _global_ref(core, atom):
        obj = core.namespace.resolve(atom)
        if is_function_value(obj):
            return obj
    return None


def callee_functions(core: Any, fn: Any, arguments: dict) -> frozenset:
    """`(parameter, function)` for each parameter of `fn` that a call (its parameters bound
    to the atoms `arguments`) passes a known function for, or whose default is a function:
    part of the key of the callee's derivative."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return frozenset()
    out = []
    for p, param in params.items():
        if p in arguments:
            obj = atom_function(core, arguments[p])
            if is_closure_class(obj) and vars(obj)["__call__"] is fn:
                continue  # (a closure's own `__call__`: its class is the method's)
        elif is_function_value(param.default):
            obj = param.default
        else:
            continue
        if obj is not None:
            out.append((p, obj))
    return frozenset(out)


def check_closure_uses(core: Any, infos: dict) -> None:
    """A closure (`closure_class`) is only called, or passed to a function of the user's, which
    s2s differentiates for it: any other use (returned, stored in a list, passed to a library
    function, which would call it where s2s does not see) is refused. Python reads a local
    function's free variables when it runs; s2s makes the closure where it is passed, which is
    the same only where it is called during that call."""
    if not core.closures:
        return
    from .analyze import ATTR, USER, walk_stmts
    from .classes import classes

    held = {v: c for v, c in classes(core).items() if is_closure_class(c)}
    if not held:
        return
    for s in walk_stmts(core.body):
        if not isinstance(s, (gast.Assign, gast.Expr)):
            continue  # (a block's statements are checked themselves; its header reads none)
        info = infos[id(s)]
        used = [v for v in info.operands if v in held]
        if not used or info.kind == USER or getattr(s, "s2s_guard", False):
            continue
        if info.kind == ATTR and core.self_class is not None and used == core.params[:1]:
            continue  # (the closure's own `__call__` reading its environment)
        raise _closure_error(core, s, used[0], held[used[0]])
    if core.result in held:
        ret = next((s for s in reversed(core.body) if getattr(s, "s2s_line", None)), None)
        raise _closure_error(core, ret, core.result, held[core.result])


def _closure_error(core: Any, s: Any, v: str, cls: type) -> Exception:
    outer, _, local = cls.__call__.__qualname__.rpartition(".")
    what = f"the local function {local!r}" if local != "lambda" else "a lambda"
    what = f"{what} that reads {', '.join(cls.__s2s_env__)} of {outer}"
    what = what if re.fullmatch(r"_\d+", v) else f"{v!r}, {what},"
    return core.info.error(
        UnsupportedSyntaxError,
        s,
        f"{what} is used here other than by calling it or passing it to a function of "
        "yours: s2s differentiates such a function only there (it reads the variables when "
        "it runs)",
        "call it, or pass it to a function of yours that calls it; make what it computes "
        "the value instead",
    )
