"""Stage 3: facts about a core function that the transformers need.

* `classify`: what each statement does (copy, op call, user call, subscript, setitem, append...)
* `activity`: the names that depend on the differentiated inputs and reach the output
* `def_sites`: where each name is assigned, to tell names that never change after their one
  assignment ("stable": a branch or loop bound that the backward sweep can simply re-read)
* `kinds`: a light inference of which names are arrays/scalars, containers, or unknown
* `to_be_recorded`: the forward dataflow deciding which overwritten values the backward sweep
  reads, so that exactly those are pushed (see docs/architecture.md)
"""

from __future__ import annotations

import builtins
import os
from dataclasses import dataclass, field
from typing import Any

import gast

from s2s import adjoints
from s2s.adjoints import registry

from . import classes
from .classes import is_user_function
from .functions import is_closure_class
from .nodes import names, walk
from .normalize import CoreFunction, const, is_atom, name
from .parse import MISSING

NONDIFF_ATTRS = {"shape", "ndim", "size", "dtype", "itemsize", "nbytes", "strides"}
#: array methods that mean the NumPy function of the same name, receiver first
ARRAY_METHODS: dict[str, Any] = {}
#: array attributes that mean a NumPy function of the array (`x.mT`: NumPy 2's transpose of
#: the last two axes)
_ARRAY_ATTRS: dict[str, Any] = {}


def _init_methods() -> None:
    import numpy as np

    for meth in (
        "sum",
        "mean",
        "max",
        "min",
        "prod",
        "reshape",
        "transpose",
        "ravel",
        "squeeze",
        "dot",
        "copy",
        "cumsum",
        "cumprod",
        "var",
        "std",
        "clip",
        "flatten",
        "swapaxes",
        "repeat",
        "take",
        "trace",
        "diagonal",
        "conj",
        "round",
        "argmax",
        "argmin",
        "argsort",
        "nonzero",
        "all",
        "any",
        "ptp",
    ):
        fn = getattr(np, meth, None)
        if meth == "flatten":
            fn = np.ravel
        if fn is not None:
            ARRAY_METHODS[meth] = fn
    _ARRAY_ATTRS["imag"] = np.imag
    if hasattr(np, "matrix_transpose"):
        _ARRAY_ATTRS["mT"] = np.matrix_transpose


_init_methods()

# statement kinds
#: `with s2s.insert_grad_of(x) as dx:` (its block runs in the backward sweep)
HOOK = "hook"

COPY, OP, USER, GETITEM, SETITEM, APPEND, BUILD, NONDIFF, CONST, ATTR = (
    "copy",
    "op",
    "user",
    "getitem",
    "setitem",
    "append",
    "build",
    "nondiff",
    "const",
    "attr",
)


@dataclass
class StmtInfo:
    kind: str
    target: str | None = None  # the name (fully) defined
    partial: str | None = None  # the name mutated in place (setitem, append)
    operands: list[str] = field(default_factory=list)  # local names the op reads
    op: Any = None  # resolved callable for OP/USER
    args: list = field(default_factory=list)  # atoms, for OP/USER (receiver first)
    keywords: dict = field(default_factory=dict)
    #: USER: `recv.attr(...)` of a class of the user's (`classes.Method`), receiver `args[0]`
    method: Any = None


def atom_names(node: Any, local: set[str]) -> list[str]:
    cls = node.__class__
    if cls is gast.Name and node.annotation is None:  # (most atoms: no walk)
        return [node.id] if node.id in local else []
    if cls is gast.Constant:
        return []
    out = []
    for n in walk(node):
        if isinstance(n, gast.Name) and n.id in local and n.id not in out:
            out.append(n.id)
    return out


def classify(core: CoreFunction, s: Any) -> StmtInfo:
    """What statement `s` does, with its operands resolved."""
    local = core.locals
    if isinstance(s, gast.Assign):
        tgt = s.targets[0]
        value = s.value
        if isinstance(tgt, gast.Subscript):
            return StmtInfo(
                SETITEM,
                partial=tgt.value.id,
                operands=atom_names(value, local) + atom_names(tgt.slice, local),
            )
        target = tgt.id
        ops = atom_names(value, local)
        if isinstance(value, gast.Name) and value.id in local:
            return StmtInfo(COPY, target=target, operands=ops)
        if isinstance(value, gast.Constant) or (is_atom(value) and not ops):
            return StmtInfo(CONST, target=target)
        if isinstance(value, gast.BinOp):
            op = _BINOPS.get(type(value.op))
            return StmtInfo(OP, target=target, operands=ops, op=op, args=[value.left, value.right])
        if isinstance(value, gast.UnaryOp):
            if isinstance(value.op, gast.Not):
                return StmtInfo(NONDIFF, target=target, operands=ops)
            op = _UNOPS.get(type(value.op))
            return StmtInfo(OP, target=target, operands=ops, op=op, args=[value.operand])
        if isinstance(value, (gast.Compare, gast.JoinedStr, gast.BoolOp)):
            return StmtInfo(NONDIFF, target=target, operands=ops)
        if isinstance(value, gast.Subscript):
            return StmtInfo(GETITEM, target=target, operands=ops)
        if isinstance(value, gast.Attribute):
            if value.attr in NONDIFF_ATTRS:
                return StmtInfo(NONDIFF, target=target, operands=ops)
            if value.attr == "T":
                import numpy as np

                return StmtInfo(
                    OP, target=target, operands=ops, op=np.transpose, args=[value.value]
                )
            if value.attr in ("real",):
                return StmtInfo(COPY, target=target, operands=ops)
            op = _ARRAY_ATTRS.get(value.attr)
            if op is not None:  # `x.mT`, `x.imag`: the NumPy function of the same meaning
                return StmtInfo(OP, target=target, operands=ops, op=op, args=[value.value])
            return StmtInfo(ATTR, target=target, operands=ops)
        if isinstance(value, (gast.Tuple, gast.List, gast.Dict)):
            return StmtInfo(BUILD, target=target, operands=ops)
        if isinstance(value, gast.Call):
            return _classify_call(core, value, target)
        return StmtInfo(NONDIFF, target=target, operands=ops)
    if getattr(s, "s2s_guard", False):  # `alias_guard(v, where)`: a check, no derivative
        return StmtInfo(NONDIFF, operands=atom_names(s, local))
    hook = getattr(s, "s2s_hook", None)
    if hook is not None:
        return StmtInfo(HOOK, operands=[hook.var] + [r for r in hook.reads if r != hook.var])
    if isinstance(s, gast.Expr) and isinstance(s.value, gast.Call):
        call = s.value
        f = call.func
        if (
            isinstance(f, gast.Attribute)
            and isinstance(f.value, gast.Name)
            and f.value.id in local
            and f.attr == "append"
        ):
            return StmtInfo(
                APPEND, partial=f.value.id, operands=atom_names(call, local), args=list(call.args)
            )
        info = _classify_call(core, call, None)
        return info
    return StmtInfo(NONDIFF, operands=atom_names(s, local))


def _classify_call(core: CoreFunction, call: gast.Call, target: str | None) -> StmtInfo:
    local = core.locals
    f = call.func
    ops = atom_names(call, local)
    keywords = {k.arg: k.value for k in call.keywords}
    if isinstance(f, gast.Attribute) and not getattr(f, "s2s_global", False):
        # a method of a local value
        recv = f.value
        m = classes.method_of(classes.classes(core).get(getattr(recv, "id", None)), f.attr)
        if m is not None:  # a method of a class of the user's: differentiated like a function
            return StmtInfo(
                USER,
                target=target,
                operands=ops,
                op=m.fn,
                args=([] if m.static else [recv]) + list(call.args),
                keywords=keywords,
                method=m,
            )
        if f.attr in ARRAY_METHODS:
            fn = ARRAY_METHODS[f.attr]
            args = list(call.args)
            if f.attr in ("reshape", "transpose") and len(args) > 1:
                args = [gast.Tuple(elts=args, ctx=gast.Load())]
            if f.attr == "transpose" and len(args) == 1:
                keywords = {"axes": args[0], **keywords}
                args = []
            if f.attr == "reshape" and len(args) == 1:
                keywords = {"shape": args[0], **keywords}
                args = []
            return StmtInfo(
                OP, target=target, operands=ops, op=fn, args=[recv] + args, keywords=keywords
            )
        if f.attr == "astype":
            return StmtInfo(
                COPY if target else NONDIFF, target=target, operands=atom_names(recv, local)
            )
        if f.attr == "keys" and not call.args and not keywords:
            # a dict's keys carry no derivative (loops over dict views are lowered to them)
            return StmtInfo(NONDIFF, target=target, operands=ops)
        if f.attr in ("item", "tolist", "__float__"):
            return StmtInfo(
                COPY if target else NONDIFF, target=target, operands=atom_names(recv, local)
            )
        return StmtInfo(
            OP,
            target=target,
            operands=ops,
            op=("method", f.attr),
            args=[recv] + list(call.args),
            keywords=keywords,
        )
    obj = core.namespace.resolve(f)
    if isinstance(f, gast.Name) and "s2s_value" in f.__dict__ and f.id in core.params:
        # `act(z)`, the parameter act known to hold the function (`functions.py`): read like
        # a call of it by name (act itself is no operand of the value)
        ops = atom_names(
            gast.Tuple(elts=list(call.args) + [k.value for k in call.keywords], ctx=gast.Load()),
            local,
        )
    # a gradient s2s made (`df = s2s.grad(f)`) is differentiated through the code it runs
    obj = getattr(obj, "__s2s_generated__", obj)
    if obj is MISSING:
        return StmtInfo(
            OP,
            target=target,
            operands=ops,
            op=("missing", f),
            args=list(call.args),
            keywords=keywords,
        )
    if adjoints.is_nondiff(obj):
        return StmtInfo(NONDIFF, target=target, operands=ops, op=obj)
    fields = classes.constructor_fields(obj, call.args, keywords)
    if fields is not None:  # `State(h, c)`: a NamedTuple or a dataclass, made of its fields
        return StmtInfo(BUILD, target=target, operands=ops, op=obj, keywords=fields)
    rule = adjoints.lookup(obj)
    if rule is not None and (rule.adjoint is not None or rule.tangent is not None):
        return StmtInfo(
            OP, target=target, operands=ops, op=obj, args=list(call.args), keywords=keywords
        )
    if is_user_function(obj):
        return StmtInfo(
            USER, target=target, operands=ops, op=obj, args=list(call.args), keywords=keywords
        )
    if (
        obj in _SPECIAL_NONDIFF_TYPES
        or getattr(obj, "__module__", "") in ("numpy.random", "random")
        or _is_random(obj)
    ):
        return StmtInfo(NONDIFF, target=target, operands=ops, op=obj)
    return StmtInfo(
        OP, target=target, operands=ops, op=obj, args=list(call.args), keywords=keywords
    )


def _is_random(obj: Any) -> bool:
    mod = getattr(obj, "__module__", "") or ""
    qual = getattr(obj, "__qualname__", "") or ""
    return mod.startswith("numpy.random") or "Generator" in qual or "RandomState" in qual


_SPECIAL_NONDIFF_TYPES: tuple = ()


_BINOPS: dict = {}
_UNOPS: dict = {}


def _init_ops() -> None:
    import operator

    _BINOPS.update(
        {
            gast.Add: operator.add,
            gast.Sub: operator.sub,
            gast.Mult: operator.mul,
            gast.Div: operator.truediv,
            gast.Pow: operator.pow,
            gast.MatMult: operator.matmul,
            gast.FloorDiv: operator.floordiv,
            gast.Mod: operator.mod,
            gast.BitAnd: operator.and_,
            gast.BitOr: operator.or_,
            gast.BitXor: operator.xor,
            gast.LShift: operator.lshift,
            gast.RShift: operator.rshift,
        }
    )
    _UNOPS.update({gast.USub: operator.neg, gast.UAdd: operator.pos, gast.Invert: operator.invert})
    registry.nondiff(
        operator.and_,
        operator.or_,
        operator.xor,
        operator.lshift,
        operator.rshift,
        operator.invert,
        reason="bitwise",
    )


_init_ops()


def field_location(core: CoreFunction, s: Any) -> str:
    """`'model.py:12'`, the place of the attribute read `v = p.W` (statement `s`), for the
    generated `field_key(p, 'W', 'model.py:12')`: the key of the field in the adjoint (or
    tangent) of `p` (`backends/runtime.py`). A NamedTuple's or a dataclass's field is
    differentiated; any other attribute is refused when the code runs, naming this place (the
    object's type is known only then)."""
    line = core.info.file_line(getattr(s, "lineno", None) or getattr(s, "s2s_line", None))
    return f"{os.path.basename(core.info.filename)}:{line}"


#: s2s's functions that make a derivative (`s2s.grad(f)`), by name
_DERIVATIVE_MAKERS = frozenset(
    ("grad", "value_and_grad", "vjp", "jvp", "hvp", "hessian", "jacobian")
)


def _derivative_maker(core: CoreFunction, local: str | None) -> tuple[str | None, str]:
    """The name of s2s's function (`grad`, ...) whose result the local `local` is assigned
    (`g = s2s.grad(f)(x)` reads `_1 = s2s.grad(f)`), or None; and the name of the function it
    was given (`f`, where it is a name)."""
    if local is None:
        return None, "f"
    for st in core.body:
        for n in walk(st):
            if (
                isinstance(n, gast.Assign)
                and isinstance(n.value, gast.Call)
                and any(isinstance(t, gast.Name) and t.id == local for t in n.targets)
            ):
                made = core.namespace.resolve(n.value.func)
                if (
                    getattr(made, "__module__", None) == "s2s.api"
                    and getattr(made, "__name__", None) in _DERIVATIVE_MAKERS
                ):
                    args = n.value.args
                    of = args[0].id if args and isinstance(args[0], gast.Name) else "f"
                    return made.__name__, of
    return None, "f"


def method_refusal(core: CoreFunction, s: Any, attr: str) -> tuple[str, str]:
    """The message and hint refusing the call of method `attr` (statement `s`), which has no
    rule: s2s reads a method of a class of the user's only where it knows the class."""
    f = s.value.func
    recv = getattr(f.value, "id", None)
    cls = classes.classes(core).get(recv)
    said = f"calling {recv!r}" if getattr(f, "s2s_implicit_call", False) else f"`.{attr}()`"
    if recv in core.params and cls is None and getattr(f, "s2s_implicit_call", False):
        return (
            f"calling the parameter {recv!r}: s2s differentiates a call through a parameter "
            "once it knows the function it holds: the one a call passes (s2s.grad(f)(x, "
            "np.tanh), or a call from a function s2s differentiates), or its default "
            f"({recv}=np.tanh); for an object, the class its annotation says",
            "pass the function at the call, or give the parameter a default (s2s.source "
            "shows the code for the default; df.s2s_source_for(*args) the code for a call); "
            "for an object, annotate the parameter with its class (def loss(model: MLP, x))",
        )
    maker, of = _derivative_maker(core, recv)
    if maker in ("grad", "value_and_grad"):
        return (
            f"calling s2s.{maker}({of}) made inside the function: s2s differentiates a "
            "derivative s2s made (grad of grad, jvp of grad) through a name it finds in the "
            "module, not one made in the function it reads",
            f"make it once at module level, d{of} = s2s.{maker}({of}), and call d{of}(...) here",
        )
    if maker is not None:
        return (
            f"calling s2s.{maker}({of}) made inside the function: s2s differentiates only "
            "the derivatives s2s.grad and s2s.value_and_grad make",
            f"make d{of} = s2s.grad({of}) at module level and call d{of}(...) here "
            f"(s2s.hvp({of}) gives Hessian-vector products, s2s.hessian({of}) the Hessian)",
        )
    if recv is not None and cls is None and getattr(f, "s2s_implicit_call", False):
        return (
            f"calling the local value {recv!r}: s2s differentiates a call through a name once "
            "it knows the function the name holds (a function of the module, a NumPy "
            "function, a local def or lambda, each bound to the name once), or, for an "
            "object, its class from the annotations",
            "call the function by its name, or assign it to the name once; for an object, "
            "annotate the parameter it comes from with its class (def loss(model: MLP, x))",
        )
    if recv is not None and cls is None:
        return (
            f"{said}: s2s differentiates a method of your class once it knows the class of "
            f"{recv!r} from the annotations, and they do not say it",
            "annotate the parameter it comes from with its class (def loss(model: MLP, x)), "
            "and a dataclass's fields with theirs (layers: list[Linear]); for a NumPy array "
            "method, use the function form np.<name>(x, ...)",
        )
    if isinstance(cls, type):
        return (
            f"{said}: {cls.__name__} has no plain method {attr!r} s2s can read",
            "s2s differentiates the plain methods and staticmethods of your classes (not "
            "classmethods or properties); call a module-level function instead",
        )
    return (
        f"no derivative rule for the method `.{attr}()`",
        "use the NumPy function form (np.<name>(x, ...)) if it has a rule",
    )


def method_guard(core: CoreFunction, s: Any, info: StmtInfo) -> Any:
    """`check_method(m, MLP, '__call__', 'model.py:12')`, written before the differentiated call
    of a method (`info.method`) of the user's class: the object must have that very function
    (`backends/runtime.py`); None for any other call. The class is referred to by its name,
    bound by the compiler where the module does not bind it (`s2s_object`)."""
    m = info.method
    if m is None or is_closure_class(m.cls):
        return None  # (a closure's class is known from the call that made it, never assumed)
    cls = name(m.cls.__name__)
    cls.s2s_object = m.cls
    args = [name(s.value.func.value.id), cls, const(m.attr), const(field_location(core, s))]
    node = gast.Expr(value=gast.Call(func=name("check_method"), args=args, keywords=[]))
    node.s2s_line = getattr(s, "s2s_line", None)
    return node


def walk_stmts(stmts: list):
    for s in stmts:
        yield s
        if isinstance(s, gast.If):
            yield from walk_stmts(s.body)
            yield from walk_stmts(s.orelse)
        elif isinstance(s, (gast.For, gast.While)):
            yield from walk_stmts(s.body)


def propagates(info: StmtInfo) -> bool:
    """Does a gradient flow from this statement's operands to its target? (An attribute read
    `p.W` does: a NamedTuple's or a dataclass's field, see `field_location`.)"""
    if info.kind in (NONDIFF, CONST, HOOK):
        return False
    if info.kind == OP and adjoints.is_nondiff(info.op):
        return False
    return True


def activity(core: CoreFunction, wrt: list[str], infos: dict[int, StmtInfo]) -> set[str]:
    """Names that depend on `wrt` (varied) and influence the result (useful)."""
    stmts = [s for s in walk_stmts(core.body)]
    varied = set(wrt)
    changed = True
    while changed:
        changed = False
        for s in stmts:
            info = infos[id(s)]
            if not propagates(info):
                continue
            dest = info.target or info.partial
            if dest and dest not in varied and any(o in varied for o in info.operands if o != dest):
                varied.add(dest)
                changed = True
    useful = {core.result}
    code = getattr(core.fn, "__code__", None)
    if "tape" in core.params and code is not None and code.co_filename.startswith("<s2s "):
        # a generated `fwd_g(tape, ...)`: what it pushes is popped by the caller, an output
        useful.add("tape")
    changed = True
    while changed:
        changed = False
        for s in reversed(stmts):  # usefulness flows backwards: one pass per loop level
            info = infos[id(s)]
            if not propagates(info):
                continue
            dest = info.target or info.partial
            if dest in useful:
                for o in info.operands:
                    if o not in useful:
                        useful.add(o)
                        changed = True
    return varied & useful


def def_sites(core: CoreFunction) -> tuple[dict[str, int], set[str]]:
    """How many times each name is assigned, and the names assigned inside a loop."""
    counts: dict[str, int] = {p: 1 for p in core.params}
    in_loop: set[str] = set()

    def visit(stmts: list, loop: bool) -> None:
        for s in stmts:
            names: list[str] = []
            if isinstance(s, gast.Assign):
                t = s.targets[0]
                names = [t.value.id] if isinstance(t, gast.Subscript) else [t.id]
            elif isinstance(s, gast.Expr) and isinstance(s.value, gast.Call):
                f = s.value.func
                if isinstance(f, gast.Attribute) and isinstance(f.value, gast.Name):
                    names = [f.value.id]
            elif isinstance(s, gast.For):
                names = [s.target.id]
            for n in names:
                counts[n] = counts.get(n, 0) + 1
                if loop:
                    in_loop.add(n)
            if isinstance(s, gast.If):
                visit(s.body, loop)
                visit(s.orelse, loop)
            elif isinstance(s, (gast.For, gast.While)):
                visit(s.body, True)

    visit(core.body, False)
    return counts, in_loop


def stable_names(core: CoreFunction) -> set[str]:
    """Names assigned once, outside any loop: their value never changes after it is set."""
    counts, in_loop = def_sites(core)
    return {n for n, c in counts.items() if c == 1 and n not in in_loop}


def assigned_in(stmts: list, infos: dict[int, StmtInfo]) -> set[str]:
    """Every name assigned or mutated in place anywhere in `stmts` (loop variables included)."""
    out: set[str] = set()
    for s in walk_stmts(stmts):
        if isinstance(s, gast.For):
            out.add(s.target.id)
            continue
        info = infos.get(id(s))
        if info is not None:
            out |= {n for n in (info.target, info.partial) if n}
    return out


_PURE_KINDS = (OP, GETITEM, NONDIFF, CONST, COPY, ATTR)


def loop_invariants(core: CoreFunction, infos: dict[int, StmtInfo]) -> dict[int, Any]:
    """Statements that give their name the same value every time they run.

    `v = op(atoms)` directly in a loop body is invariant when `v` has no other assignment and
    is never mutated in place, `op` is pure, and, for every loop around it, each operand is
    either not assigned anywhere in that loop or the name of an earlier invariant statement.
    Its value is then the same in every iteration of every enclosing loop (and after them):
    the forward sweep need not save it, and its adjoint can be summed over all iterations and
    propagated once, after the outermost loop. Returns {id(statement): outermost loop}.
    """
    counts, _ = def_sites(core)
    partial = {i.partial for i in infos.values() if i.partial}
    out: dict[int, Any] = {}
    invariant: set[str] = set()

    def visit(stmts: list, loops: list[tuple[Any, set[str]]]) -> None:
        for s in stmts:
            if isinstance(s, (gast.For, gast.While)):
                changing = assigned_in(s.body, infos)
                if isinstance(s, gast.For):
                    changing.add(s.target.id)
                visit(s.body, loops + [(s, changing)])
                continue
            if isinstance(s, gast.If):
                visit(s.body, loops)
                visit(s.orelse, loops)
                continue
            if not loops or not any(s is b for b in loops[-1][0].body):
                continue
            info = infos.get(id(s))
            if info is None or info.target is None:
                continue
            if info.kind not in _PURE_KINDS and not (
                info.kind == BUILD and is_closure_class(info.op)
            ):  # (a closure of a local function: a tuple of its environment's values)
                continue
            v = info.target
            if counts.get(v, 0) != 1 or v in partial or v in core.params:
                continue
            if info.kind in (OP, NONDIFF) and (
                isinstance(info.op, tuple) or is_user_function(info.op) or _is_random(info.op)
            ):
                continue
            if all(o in invariant or all(o not in ch for _, ch in loops) for o in info.operands):
                invariant.add(v)
                out[id(s)] = loops[0][0]

    visit(core.body, [])
    return out


def kinds(
    core: CoreFunction, infos: dict[int, StmtInfo], numbers: Any = frozenset()
) -> dict[str, str]:
    """'array' (NumPy values and scalars: + adds), 'container' (list/tuple/dict) or 'unknown'.

    `numbers`: parameters known to be Python numbers (the call's own arguments).
    """
    seen: dict[str, set[str]] = {}
    for s in walk_stmts(core.body):
        info = infos[id(s)]
        if info.target is None:
            continue
        value = s.value
        if info.kind in (OP,) and not isinstance(info.op, tuple):
            k = "container" if getattr(info.op, "__name__", "") in _CONTAINER_RESULTS else "array"
        elif info.kind == NONDIFF:
            k = "array" if isinstance(value, (gast.Compare, gast.UnaryOp)) else "unknown"
        elif info.kind == BUILD:
            k = "container"
        elif info.kind == CONST:
            v = getattr(value, "value", None)
            k = "array" if isinstance(v, (int, float)) and not isinstance(v, bool) else "unknown"
        else:
            k = "unknown"
        seen.setdefault(info.target, set()).add(k)
    out = {n: (ks.pop() if len(ks) == 1 else "unknown") for n, ks in seen.items()}
    for n in scalar_names(core, infos, numbers):
        out[n] = "array"
    # parameters used as arithmetic operands are arrays or scalars
    for s in walk_stmts(core.body):
        if isinstance(s, gast.Assign) and isinstance(s.value, (gast.BinOp, gast.UnaryOp)):
            for n in atom_names(s.value, core.locals):
                if n in core.params and n not in seen:
                    out[n] = "array"
    # an operand of `@`, or of arithmetic with an array or number, is an array or a number
    # (lists do not support `@`; list + array is an array)
    changed = True
    while changed:
        changed = False
        for s in walk_stmts(core.body):
            if not (isinstance(s, gast.Assign) and isinstance(s.value, gast.BinOp)):
                continue
            left, right = s.value.left, s.value.right
            sides = [
                a.id
                for a in (left, right)
                if isinstance(a, gast.Name)
                and a.id in core.locals
                and out.get(a.id, "unknown") == "unknown"
            ]
            if not sides:
                continue
            if isinstance(s.value.op, gast.Mult):  # list * int repeats the list
                known = any(
                    isinstance(a, gast.Constant) and type(a.value) is float for a in (left, right)
                )
            else:
                known = isinstance(s.value.op, gast.MatMult) or any(
                    isinstance(a, gast.Constant)
                    and type(a.value) in (int, float)
                    or isinstance(a, gast.Name)
                    and out.get(a.id) == "array"
                    for a in (left, right)
                )
            if known:
                for n in sides:
                    out[n] = "array"
                    changed = True
        if (
            isinstance(s, gast.Assign)
            and isinstance(s.value, gast.Attribute)
            and isinstance(s.value.value, gast.Name)
            and s.value.attr in ("T", "shape", "ndim")
        ):
            n = s.value.value.id
            if n in core.params and n not in seen:
                out[n] = "array"
    return out


def callee_numbers(fn: Any, args: list, keywords: dict, is_scalar: Any) -> frozenset:
    """The parameters of user function `fn` that a call with these atoms passes Python
    numbers for (by argument, or by a default left in place)."""
    import inspect

    try:
        bound = inspect.signature(fn).bind(*args, **keywords)
    except TypeError:
        return frozenset()
    out = set()
    for p, param in inspect.signature(fn).parameters.items():
        if p in bound.arguments:
            if is_scalar(bound.arguments[p]):
                out.add(p)
        elif type(param.default) in (int, float):
            out.add(p)
    return frozenset(out)


_RETURNS_NUMBER: dict[tuple, bool] = {}
_IN_PROGRESS: set[tuple] = set()


def returns_number(fn: Any, numbers: frozenset) -> bool:
    """Does user function `fn` always return a Python number when the parameters `numbers`
    are numbers? Recursive calls are assumed to (the greatest fixpoint: by induction on the
    depth of the recursion, a base case gives a number)."""
    from .normalize import normalize
    from .parse import parse_function

    key = (fn, getattr(fn, "__code__", None), numbers)
    if key in _RETURNS_NUMBER:
        return _RETURNS_NUMBER[key]
    if key in _IN_PROGRESS:
        return True
    _IN_PROGRESS.add(key)
    try:
        core = normalize(parse_function(fn))
        infos = {id(s): classify(core, s) for s in walk_stmts(core.body)}
        # the callee's own number globals are not re-checked on each call: do not rely on them
        result = core.result in scalar_names(core, infos, numbers, use_globals=False)
    except Exception:  # anything it cannot analyze is simply not known to be a number
        result = False
    finally:
        _IN_PROGRESS.discard(key)
    if not _IN_PROGRESS:  # answers found under an assumption are not kept
        _RETURNS_NUMBER[key] = result
    return result


def number_globals(core: CoreFunction) -> set[str]:
    """Module globals the function reads that hold a Python number now (`DAMPING = 0.1`).

    Code is specialized to them; the API checks on every call that they still hold numbers,
    and generates the code again when one does not.
    """
    out = set()
    local = set(core.locals) | set(core.params)
    for s in core.body:  # each statement's tree holds the statements nested in it
        for n in names(s):
            if (
                isinstance(n.ctx, gast.Load)
                and n.id not in local
                and n.id not in core.namespace.closure
                and type(core.namespace.globals.get(n.id)) in (int, float)
            ):
                out.add(n.id)
    return out


def scalar_names(
    core: CoreFunction,
    infos: dict[int, StmtInfo],
    numbers: Any = frozenset(),
    use_globals: bool = True,
) -> set[str]:
    """Names that always hold a Python number: every assignment gives a number.

    `numbers`: parameters known to be Python numbers (the call's own arguments).
    """
    import math

    defs: dict[str, list] = {}
    for s in walk_stmts(core.body):
        if isinstance(s, gast.For):
            defs.setdefault(s.target.id, []).append(("range", None))
            continue
        info = infos.get(id(s))
        if info is None or info.target is None:
            if info is not None and info.partial:
                defs.setdefault(info.partial, []).append(("other", None))
            continue
        defs.setdefault(info.target, []).append((info.kind, s))
    for p in core.params:
        defs.setdefault(p, []).append(("range", None) if p in numbers else ("param", None))
    scalar_fns = {len, int, float, abs, round, min, max} | {
        getattr(math, n) for n in dir(math) if callable(getattr(math, n))
    }
    fixed = number_globals(core) if use_globals else set()
    # greatest fixpoint: assume every name is a number, then drop the names with an
    # assignment that may give something else (so `x = x + dt * v` in a loop stays a number)
    scalars: set[str] = fixed | set(defs)

    def is_scalar_atom(a: Any) -> bool:
        if isinstance(a, gast.Constant):
            return type(a.value) in (int, float)
        return isinstance(a, gast.Name) and a.id in scalars

    def gives_number(kind: str, s: Any) -> bool:
        if kind == "range":
            return True
        if kind == "param" or s is None:
            return False
        v = s.value
        if kind == CONST:
            if isinstance(v, gast.Constant) and v.value is None and s.targets[0].id == core.result:
                # `_result = None` before early returns: if it were ever returned, the primal
                # itself would fail on it (in the seed, or in the caller's arithmetic)
                return True
            return isinstance(v, gast.Constant) and type(v.value) in (int, float)
        if kind == COPY:
            return is_scalar_atom(v)
        if kind == OP and isinstance(v, gast.BinOp):
            return is_scalar_atom(v.left) and is_scalar_atom(v.right)
        if kind == OP and isinstance(v, gast.UnaryOp):
            return is_scalar_atom(v.operand)
        if kind == USER and isinstance(v, gast.Call):
            info = infos[id(s)]
            return returns_number(
                info.op, callee_numbers(info.op, info.args, info.keywords, is_scalar_atom)
            )
        if kind in (OP, NONDIFF) and isinstance(v, gast.Call):
            obj = (
                core.namespace.resolve(v.func)
                if getattr(v.func, "s2s_global", isinstance(v.func, gast.Name))
                else None
            )
            return obj in scalar_fns and (obj is len or all(is_scalar_atom(a) for a in v.args))
        return False

    changed = True
    while changed:
        changed = False
        for n, ds in defs.items():
            if n in scalars and n not in fixed and not all(gives_number(k, s) for k, s in ds):
                scalars.discard(n)
                changed = True
    return scalars


_CONTAINER_RESULTS = {"split", "array_split", "hsplit", "vsplit", "dsplit"}


@dataclass
class Flow:
    """Result of the to-be-recorded analysis."""

    restore: set[int] = field(default_factory=set)  # ids of statements whose target is pushed
    #: the subset of `restore` whose target the backward sweep reads only for its shape and
    #: dtype: a stand-in (`shape_of(v)`) is pushed, not the array
    shape_restore: set[int] = field(default_factory=set)
    loopvar_restore: set[int] = field(default_factory=set)  # ids of For loops pushing their var
    end_state: set[str] = field(default_factory=set)  # names the backward reads at the end
    #: the subset of `end_state` the backward sweep reads only for shape and dtype (a forward
    #: pair pushes a stand-in of them, `shape_of(v)`)
    end_shaped: set[str] = field(default_factory=set)
    maybe_undefined: set[str] = field(default_factory=set)  # pushed before any assignment
    end_undefined: set[str] = field(default_factory=set)  # end state maybe never assigned
    # id(checkpoint block) -> (names saved at its start, those of them it mutates in place,
    # those of them saved for their shape only)
    checkpoints: dict[int, tuple[list[str], set[str], set[str]]] = field(default_factory=dict)


def to_be_recorded(
    core: CoreFunction,
    infos: dict[int, StmtInfo],
    reads: dict[int, tuple[set[str], set[str]]],
    control_reads: dict[int, set[str]],
    invariant: Any = frozenset(),
    shape_reads: dict[int, tuple[set[str], set[str]]] | None = None,
    join_shapes: dict[int, set[str]] | None = None,
    hoisted: Any = frozenset(),
) -> Flow:
    """Forward dataflow: R = names read by the backward sweep since their last assignment.

    A statement that assigns `v` while `v` is in R overwrites a value the backward sweep still
    needs, so the old value is pushed before it and popped after its adjoint.
    `reads[id(s)]` is (names read as operands, names read as the statement's own result);
    `control_reads[id(s)]` are names an `if`/`for` re-reads at its end in the backward sweep.
    Statements in `invariant` (see `loop_invariants`) write the value their name already
    holds, so they never need a push; those in `hoisted` run once, before their loop, in
    the forward sweep only (a checkpointed block run again reads their names live).
    `shape_reads[id(s)]` are (operands, own result) the adjoint reads only for their shape and
    dtype (`unbroadcast(g, x)`, `zeros_like(x)`): R holds them as `"v.shape"`, and overwriting
    `v` while only `"v.shape"` is in R pushes a stand-in of v's shape, not its value.
    """
    flow = Flow()
    params = set(core.params)
    stable = stable_names(core) if any(is_checkpoint(c) for c in walk_stmts(core.body)) else set()
    shape_reads = shape_reads or {}
    join_shapes = join_shapes or {}
    whole: set[int] = set()  # pushed whole on some path (loops visit a statement many times)

    def step(s: Any, R: set[str], D: set[str]) -> tuple[set[str], set[str]]:
        info = infos.get(id(s))
        arg_reads, own_reads = reads.get(id(s), (set(), set()))
        if is_checkpoint(s):
            # The block runs twice: plainly in the forward sweep, and again, pushing what its
            # adjoint reads, right before its adjoint. What it starts from is saved at its
            # start: the names it reads before assigning, and the names it assigns whose old
            # value earlier adjoints read (the recomputation pushes them again, for its own
            # backward sweep to restore). After the block, nothing it assigns is needed live.
            assigned, partial = assigned_names(s.body, infos)
            needed = {v for v in assigned if v in R or _shape(v) in R}
            exposed = exposed_reads(s.body, infos, core.locals, set())
            saved = exposed | needed
            # an earlier adjoint that reads only the shape of a name the block assigns gets a
            # stand-in of that shape (`shape_of`), unless the block itself reads the value or
            # writes into it
            shaped = {v for v in needed if v not in R} - exposed - partial
            # a name assigned once, outside loops, keeps its value: the recomputation reads
            # it live (a read of the backward sweep: the end state of a forward/backward pair)
            live = (saved & stable) - partial
            saved -= live
            live |= {infos[id(c)].target for c in walk_stmts(s.body) if id(c) in hoisted}
            flow.checkpoints[id(s)] = (sorted(saved), partial & saved, shaped & saved)
            flow.maybe_undefined |= saved - D
            R1, D1 = block(s.body, set(R), set(D))
            return (R - assigned - {_shape(v) for v in assigned}) | live, D1
        arg_shapes, own_shapes = shape_reads.get(id(s), (set(), set()))
        # an adjoint that is zero on one path is made `zeros_like(v)` where the paths join
        joins = {_shape(v) for v in join_shapes.get(id(s), ())}
        # such a name may be assigned only on paths the run did not take: None stands for it
        flow.maybe_undefined |= {v for v in join_shapes.get(id(s), ()) if v not in D}
        if isinstance(s, gast.If):
            R1, D1 = block(s.body, R | joins, set(D))
            R2, D2 = block(s.orelse, R | joins, set(D))
            return R1 | R2 | control_reads.get(id(s), set()), D1 & D2
        if isinstance(s, gast.For):
            var = s.target.id
            if var in R or _shape(var) in R:
                flow.loopvar_restore.add(id(s))
                if var not in D:
                    flow.maybe_undefined.add(var)
            back: set[str] = set()
            while True:
                Rb, _ = block(s.body, (R | back | joins) - {var, _shape(var)}, D | {var})
                if Rb <= back:
                    break
                back |= Rb
            return R | back | joins | control_reads.get(id(s), set()), D
        if isinstance(s, gast.While):
            back = set()
            while True:
                Rb, _ = block(s.body, R | back | joins, set(D))
                if Rb <= back:
                    break
                back |= Rb
            return R | back | joins, D
        # R and D are the caller's own (see `block`): a simple statement updates them in place
        # (copies of them, as long as the function, would make the pass quadratic)
        R |= arg_reads
        R.update([_shape(v) for v in arg_shapes])
        if info is not None:
            if info.target is not None:
                shaped = info.target not in R and _shape(info.target) in R
                if (info.target in R or shaped) and id(s) not in invariant:
                    flow.restore.add(id(s))
                    (flow.shape_restore if shaped else whole).add(id(s))
                    if info.target not in D:
                        flow.maybe_undefined.add(info.target)
                R.discard(info.target)
                R.discard(_shape(info.target))
                D.add(info.target)
            elif info.partial is not None:
                if info.partial in R or _shape(info.partial) in R or info.kind == SETITEM:
                    flow.restore.add(id(s))
                    if info.kind == SETITEM:  # restoring the slice writes into the array,
                        # at the index the statement wrote (its names are read again then)
                        index = atom_names(s.targets[0].slice, core.locals)
                        own_reads = own_reads | {info.partial, *index}
        R |= own_reads
        R.update([_shape(v) for v in own_shapes])
        return R, D

    def block(stmts: list, R: set[str], D: set[str]) -> tuple[set[str], set[str]]:
        """`R` and `D`: sets of the caller's to update (every caller passes its own copies)."""
        for s in stmts:
            R, D = step(s, R, D)
        return R, D

    R, D = block(core.body, set(), set(params))
    flow.shape_restore -= whole
    flow.end_shaped = {v.removesuffix(".shape") for v in R if v.endswith(".shape")} - R
    R = {v.removesuffix(".shape") for v in R}
    flow.end_state = R
    flow.end_undefined = R - D
    return flow


def is_checkpoint(s: Any) -> bool:
    """A `with s2s.checkpoint():` block (in the core, `if True:` marked as one)."""
    return isinstance(s, gast.If) and getattr(s, "s2s_checkpoint", False)


def assigned_names(stmts: list, infos: dict[int, StmtInfo]) -> tuple[set[str], set[str]]:
    """The names `stmts` assign (loop variables included), and those they mutate in place."""
    assigned: set[str] = set()
    partial: set[str] = set()
    for s in walk_stmts(stmts):
        if isinstance(s, gast.For):
            assigned.add(s.target.id)
        info = infos.get(id(s))
        if info is None or isinstance(s, (gast.If, gast.For, gast.While)):
            continue
        if info.target:
            assigned.add(info.target)
        if info.partial:
            partial.add(info.partial)
    return assigned | partial, partial


def exposed_reads(
    stmts: list, infos: dict[int, StmtInfo], local: set[str], defined: set[str]
) -> set[str]:
    """Names `stmts` may read before assigning them (what they need from before)."""
    out: set[str] = set()
    for s in stmts:
        if isinstance(s, gast.If):
            out |= set(atom_names(s.test, local)) - defined
            out |= exposed_reads(s.body, infos, local, set(defined))
            out |= exposed_reads(s.orelse, infos, local, set(defined))
            continue
        if isinstance(s, gast.For):
            out |= set(atom_names(s.iter, local)) - defined
            out |= exposed_reads(s.body, infos, local, defined | {s.target.id})
            continue
        if isinstance(s, gast.While):
            out |= set(atom_names(s.test, local)) - defined
            out |= exposed_reads(s.body, infos, local, set(defined))
            continue
        if isinstance(s, gast.Return):
            out |= set(atom_names(s, local)) - defined
            continue
        info = infos.get(id(s))
        if info is None:
            continue
        out |= set(info.operands) - defined
        if info.partial:
            out |= {info.partial} - defined
        if info.target:
            defined.add(info.target)
    return out


def _shape(v: str) -> str:
    """How the to-be-recorded dataflow names a read of `v`'s shape and dtype only."""
    return v + ".shape"


def is_builtin_range(core: CoreFunction) -> bool:
    return core.namespace.lookup("range") is builtins.range
