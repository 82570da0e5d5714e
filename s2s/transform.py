"""Drives the pipeline for one request: parse -> normalize -> reverse -> optimize -> emit.

A `Program` is everything generated for one (function, mode, wrt): the entry function and
the forward/backward pair of every user function it calls, each made once (so recursion works).
"""

from __future__ import annotations

import gc
import math
import os
from dataclasses import dataclass, field
from typing import Any

import gast
import numpy as np

from s2s.backends.runtime import HELPERS

from . import analyze as A
from . import dtypes, emit, nodes
from .analyze import def_sites
from .classes import display_name, unit_name
from .dtypes import argument_facts
from .errors import WrtError
from .nodes import is_call
from .normalize import CoreFunction, assign, const, name, normalize
from .optimize import is_pop, optimize
from .parse import closure_vars, parse_function
from .reverse import Reverse, call, is_generated, push

PURE_HELPERS = set(HELPERS) - {
    "add_at",
    "check_finite",
    "alias_guard",
    "item_guard",
    "arg_guard",
} | {
    "len",
    "range",
    "reversed",
    "min",
    "max",
    "float",
    "zip",
}


@dataclass
class Unit:
    fn: Any
    fwd_name: str
    bwd_name: str
    defs: list = field(default_factory=list)


class Program:
    def __init__(self) -> None:
        self.units: dict[tuple, Unit] = {}
        self.used_names: set[str] = set()
        self.order: list[tuple] = []
        #: (globals dict, name) of module globals the code assumes hold Python numbers
        self.assumed: set[tuple[int, str]] = set()
        self.assumed_dicts: dict[int, dict] = {}
        self.optimize = True  # False: the code as reverse writes it (s2s-grad --no-optimize)
        self.debug = False  # True: a finiteness check after every adjoint statement
        self.checkpoint_loops: str | None = None  # "sqrt": every outermost loop in segments

    def assume(self, rev: Reverse) -> None:
        g = rev.core.namespace.globals
        self.assumed_dicts[id(g)] = g
        self.assumed |= {(id(g), n) for n in rev.assumed_globals}

    def assumptions(self) -> list[tuple[dict, str]]:
        return [(self.assumed_dicts[i], n) for i, n in sorted(self.assumed)]

    def _unique(self, base: str) -> str:
        name_ = base
        k = 2
        while name_ in self.used_names:
            name_ = f"{base}_{k}"
            k += 1
        self.used_names.add(name_)
        return name_

    def request(
        self,
        fn: Any,
        active: tuple[str, ...],
        node: Any,
        info: Any,
        numbers: frozenset = frozenset(),
        method: Any = None,
        functions: frozenset = frozenset(),
    ) -> tuple[str, str]:
        """The names of the forward/backward pair of user function `fn` (a method of a class
        of the user's for `method`, a `classes.Method`; `functions`: the functions the call
        passes, `functions.callee_functions`), made once per key."""
        self_class = method.cls if method is not None and not method.static else None
        key = (fn, active, numbers, self_class, functions)
        if key in self.units:
            u = self.units[key]
            return u.fwd_name, u.bwd_name
        base = unit_name(fn, method, functions)
        unit = Unit(
            fn=fn, fwd_name=self._unique(f"fwd_{base}"), bwd_name=self._unique(f"bwd_{base}")
        )
        self.units[key] = unit
        self.order.append(key)
        core = normalize(parse_function(fn), self_class, dict(functions))
        rev = Reverse(core, list(active), self, split=True, numbers=numbers)
        self.assume(rev)
        rev.run()
        unit.defs = build_split(rev, unit.fwd_name, unit.bwd_name)
        return unit.fwd_name, unit.bwd_name


def _arguments(core: CoreFunction, leading: list[str]) -> gast.arguments:
    return nodes.leading_arguments(core.args, leading)


_funcdef = nodes.funcdef


def _where(core: CoreFunction) -> str:
    fname = os.path.basename(core.info.filename)
    line = core.info.def_line or core.info.first_lineno
    return f"{display_name(core)} ({fname}:{line})"


def _lines(core: CoreFunction):
    def get(line: int) -> str:
        return core.info.line(line).strip()

    return get


def _pushed_first(stmts: list, tape: str) -> set[str]:
    """The names `stmts` push to `tape` to restore them (`tape.append(v)`,
    `tape.append(shape_of(v))`) where they may not be assigned yet: before every statement
    that surely assigns them, in the order of the text (an assignment inside a branch or a
    loop counts inside it only)."""
    out: set[str] = set()

    def visit(block: list, seen: set[str]) -> None:
        for s in block:
            vs = _pushed_names(s, tape)
            if vs:
                out.update(v for v in vs if v not in seen)
                continue
            if isinstance(s, (gast.If, gast.While)):
                visit(s.body, set(seen))
                visit(s.orelse, set(seen))
                continue
            if isinstance(s, gast.For):
                visit(s.body, seen | {n.id for n in nodes.names(s.target)})
                continue
            seen.update(n.id for n in nodes.names(s) if not isinstance(n.ctx, gast.Load))

    visit(stmts, set())
    return out


def _uses_tape(stmts: list, tape: str = "tape") -> bool:
    return any(n.id == tape for s in stmts for n in nodes.names(s))


def build_split(rev: Reverse, fwd_name: str, bwd_name: str) -> list:
    core = rev.core
    counts, _ = def_sites(core)
    end = sorted(v for v in rev.flow.end_state if not (v in core.params and counts.get(v, 0) <= 1))
    fwd_body = rev.prologue() + rev.fwd
    ret = fwd_body.pop()  # the single return
    if end:
        # (an array an operation made, that the backward sweep reads only for its shape and
        # dtype: a stand-in of them, and the array is freed; one read out of an argument
        # lives on in it anyway)
        kinds: dict[str, set] = {}
        for info in rev.infos.values():
            if info.target in rev.flow.end_shaped:
                kinds.setdefault(info.target, set()).add(info.kind)
        shaped = {v for v, k in kinds.items() if k <= {A.OP, A.USER}} - rev.scalars
        values = [call("shape_of", name(v)) if v in shaped else name(v) for v in end]
        value = values[0] if len(values) == 1 else gast.Tuple(elts=values, ctx=gast.Load())
        fwd_body.append(push(value, rev.tape))
    fwd_body.append(ret)
    doc = (
        f"Forward sweep of {_where(core)}: the primal, saving what the backward sweep "
        "reads. Generated by s2s."
    )
    fwd = _funcdef(fwd_name, _arguments(core, [rev.tape]), [gast.Expr(value=const(doc))] + fwd_body)
    bwd_body: list = []
    if end:
        if len(end) == 1:
            bwd_body.append(assign(end[0], call_expr_pop(rev.tape), None))
        else:
            tgt = gast.Tuple(
                elts=[
                    gast.Name(id=v, ctx=gast.Store(), annotation=None, type_comment=None)
                    for v in end
                ],
                ctx=gast.Store(),
            )
            bwd_body.append(
                gast.Assign(targets=[tgt], value=call_expr_pop(rev.tape), type_comment=None)
            )
    backward = _backward(rev)
    # a checkpointed block run again in the backward sweep pushes the names it assigns, the
    # first time with whatever they held; in a function of its own they hold nothing yet
    pushed = sorted(_pushed_first(backward, rev.tape) - set(core.params) - set(end))
    bwd_body += [assign(v, const(None), None) for v in pushed]
    bwd_body += emit.add_comments(backward, _lines(core))
    grads = rev.grads(rev.wrt)
    bwd_body.append(
        gast.Return(value=grads[0] if len(grads) == 1 else gast.Tuple(elts=grads, ctx=gast.Load()))
    )
    doc = f"Backward sweep of {_where(core)}: adjoints of {', '.join(rev.wrt)}. Generated by s2s."
    bwd = _funcdef(
        bwd_name,
        _arguments(core, [rev.tape, rev.d(core.result)] + [rev.d(v) for v in sorted(rev.inout)]),
        [gast.Expr(value=const(doc))] + bwd_body,
    )
    for f in (fwd, bwd):
        if rev.ctx.optimize:
            optimize(f, PURE_HELPERS)
    return [fwd, bwd]


def _backward(rev: Reverse, head: list | None = None) -> list:
    """The backward sweep, with debug mode's checks when asked for (`s2s/debug.py`)."""
    stmts = (head or []) + rev.bwd
    if getattr(rev.ctx, "debug", False):
        from .debug import instrument

        stmts = instrument(stmts, rev.core)
    return stmts


def call_expr_pop(tape: str = "tape") -> gast.Call:
    return gast.Call(
        func=gast.Attribute(value=name(tape), attr="pop", ctx=gast.Load()), args=[], keywords=[]
    )


def _seed(rev: Reverse, body: list, with_value: bool) -> gast.Call:
    """`seed(result, where)`; in a gradient (the value is not returned) of a function ending in
    `np.sum(x)` or `np.mean(x)` of an array whose shape pattern the call gives (negated or
    scaled by a number, maybe), `seed_of(x, where)`: the 1.0 without the reduction, which is
    then dead code."""
    core = rev.core
    plain = call("seed", name(core.result), const(_where(core)))
    if with_value:
        return plain
    if (
        rev.reductions is not None
        and (rev.shapes.get(core.result) == () or core.result in rev.scalars)
        and rev.reductions.real(core.result)
    ):
        return const(1.0)  # a real number (or 0-d array): nothing to refuse
    target, k = core.result, len(body) - 1
    while k >= 0:
        last = body[k]
        if not (
            isinstance(last, gast.Assign)
            and isinstance(last.targets[0], gast.Name)
            and last.targets[0].id == target
        ):
            return plain
        v = last.value
        if isinstance(v, gast.UnaryOp) and isinstance(v.op, gast.USub):
            operand = v.operand
        elif isinstance(v, gast.BinOp) and isinstance(v.op, (gast.Mult, gast.Div)):
            number = [
                isinstance(x, gast.Constant) and type(x.value) in (int, float)
                for x in (v.left, v.right)
            ]
            if number == [False, True]:
                operand = v.left
            elif number == [True, False] and isinstance(v.op, gast.Mult):
                operand = v.right
            else:
                return plain
        else:
            break
        if not isinstance(operand, gast.Name):
            return plain
        target, k = operand.id, k - 1
    else:
        return plain
    v = body[k].value
    if not (
        isinstance(v, gast.Call)
        and len(v.args) == 1
        and not v.keywords
        and isinstance(v.args[0], gast.Name)
        and rev.shapes.get(v.args[0].id, ()) != ()
        and getattr(v.func, "s2s_global", isinstance(v.func, gast.Name))
        and core.namespace.resolve(v.func) in (np.sum, np.mean)
    ):
        return plain
    x = v.args[0].id
    if rev.reductions is not None:
        if rev.reductions.real(x):
            return const(1.0)  # no complex value to refuse: x need not even be made
        x = rev.reductions.twin(x, id(core.body[-1]), same_kind=True) or x  # as complex as x
    return call("seed_of", name(x), const(_where(core)))


def build_grad(
    rev: Reverse,
    fname: str,
    with_value: bool,
    as_tuple: bool = False,
    facts: dict | None = None,
) -> gast.FunctionDef:
    core = rev.core
    body = rev.prologue() + rev.fwd
    ret = body.pop()
    result = core.result
    seed = assign(
        rev.d(result),
        _seed(rev, body, with_value),
        getattr(ret, "s2s_line", None),
    )
    if result not in rev.active:  # a constant output: still checked to be a scalar
        seed = gast.Expr(value=seed.value)
        seed.s2s_line = getattr(ret, "s2s_line", None)
    value = result
    if with_value:  # the backward sweep may restore `result` to an earlier value: keep it
        value = rev.fresh()
        body.append(assign(value, name(result), None))
    backward = _backward(rev, [seed])
    like = _arguments_as_passed(body, backward, rev.wrt, rev.tape, rev.fresh)
    body += emit.add_comments(backward, _lines(core))
    grads = [
        call("grad_like", g, name(like.get(p, p)))
        for g, p in zip(rev.grads(rev.wrt), rev.wrt, strict=True)
    ]
    g = grads[0] if len(grads) == 1 and not as_tuple else gast.Tuple(elts=grads, ctx=gast.Load())
    if with_value:
        g = gast.Tuple(elts=[name(value), g], ctx=gast.Load())
    body.append(gast.Return(value=g))
    if _uses_tape(body, rev.tape):
        body.insert(0, assign(rev.tape, gast.List(elts=[], ctx=gast.Load()), None))
    what = "Value and gradient" if with_value else "Gradient"
    doc = (
        f"{what} of {_where(core)} with respect to {', '.join(rev.wrt)}. "
        "Generated by s2s; do not edit."
    )
    fn = _funcdef(fname, _arguments(core, []), [gast.Expr(value=const(doc))] + body)
    if rev.ctx.optimize:
        optimize(fn, PURE_HELPERS)
        if facts and not rev.ctx.debug:
            dtypes.finish(fn, facts)
    return fn


def _arguments_as_passed(
    forward: list, backward: list, params: list[str], tape: str, fresh: Any
) -> dict[str, str]:
    """For each of `params` that may hold another value at the end of the backward sweep, a
    new name bound to the argument as passed (`_1 = x`, put first in `forward`): `grad_like`
    gives each gradient the structure, shape and dtype of the argument, not of what the name
    holds at the return (after `x = np.tanh(x)[None] * o`, nothing in the backward sweep
    reads the old x, so nothing restores it; a checkpointed block assigns it again).

    A name needs none where the forward sweep pushes it before each of its assignments and
    the backward sweep assigns it only by popping: each pop restores the value before one
    assignment, the first assignment's last, and that value is the argument (or its stand-in
    of the same shape and dtype, `shape_of`)."""
    # a name neither sweep assigns is restored and only popped (vacuously): found in one walk
    # of each sweep, not one per statement and parameter
    in_forward, in_backward = _assigned(forward), _assigned(backward)
    kept = {
        p: fresh()
        for p in params
        if not (
            (p not in in_forward or _restored(forward, p, tape))
            and (p not in in_backward or _only_popped(backward, p, tape))
        )
    }
    forward[:0] = [assign(kept[p], name(p), None) for p in params if p in kept]
    return kept


def _assigned(stmts: list) -> set[str]:
    """The names `stmts` assign anywhere (what `_stores` looks for, for every name at once)."""
    return {n.id for s in stmts for n in nodes.names(s) if not isinstance(n.ctx, gast.Load)}


def _stores(s: Any, p: str) -> bool:
    return any(n.id == p and not isinstance(n.ctx, gast.Load) for n in nodes.names(s))


def _only_popped(backward: list, p: str, tape: str) -> bool:
    """Whether every statement of `backward` that assigns `p` is `p = tape.pop()`."""
    for block in nodes.blocks(backward):
        for s in block:
            if isinstance(s, (gast.If, gast.While)):
                continue  # their own blocks are looked at in turn
            if isinstance(s, gast.For):
                if any(n.id == p for n in nodes.names(s.target)):
                    return False
                continue
            if _stores(s, p) and not is_pop(s, tape):
                return False
    return True


def _restored(forward: list, p: str, tape: str) -> bool:
    """Whether `p` is pushed to `tape` before each statement of `forward` that assigns it: a
    plain assignment, with the push earlier in its block and no other assignment of `p` in
    between."""
    for block in nodes.blocks(forward):
        pushed = False
        for s in block:
            if _pushed(s, tape) == p:
                pushed = True
                continue
            stores = _stores(s, p)
            if isinstance(s, (gast.If, gast.While, gast.For)):
                # their own blocks are looked at in turn; a loop's target is not pushed
                if isinstance(s, gast.For) and any(n.id == p for n in nodes.names(s.target)):
                    return False
                pushed = pushed and not stores
                continue
            if not stores or _copies(s, p):
                continue
            plain = (
                isinstance(s, gast.Assign)
                and len(s.targets) == 1
                and isinstance(s.targets[0], gast.Name)
            )
            if not (plain and pushed):
                return False
            pushed = False
    return True


def _copies(s: Any, p: str) -> bool:
    """`s` is `p = copy_value(p)`: a copy of the argument to write into, of its shape and dtype."""
    return (
        isinstance(s, gast.Assign)
        and len(s.targets) == 1
        and isinstance(s.targets[0], gast.Name)
        and s.targets[0].id == p
        and is_call(s.value, "copy_value", 1)
        and isinstance(s.value.args[0], gast.Name)
        and s.value.args[0].id == p
    )


def _appended(s: Any, tape: str) -> Any:
    """The one argument of the statement `s` if it is `tape.append(...)`, else None."""
    if (
        isinstance(s, gast.Expr)
        and isinstance(s.value, gast.Call)
        and isinstance(s.value.func, gast.Attribute)
        and s.value.func.attr == "append"
        and isinstance(s.value.func.value, gast.Name)
        and s.value.func.value.id == tape
        and len(s.value.args) == 1
    ):
        return s.value.args[0]
    return None


def _saved_name(v: Any) -> str | None:
    """The name a pushed value restores: `v`, `shape_of(v)` or `copy_value(v)`."""
    if is_call(v, "shape_of", 1) or is_call(v, "copy_value", 1):
        v = v.args[0]
    return v.id if isinstance(v, gast.Name) else None


def _pushed(s: Any, tape: str) -> str | None:
    """The name `s` pushes to `tape` to restore it later (`tape.append(v)`,
    `tape.append(shape_of(v))`, `tape.append(copy_value(v))`), or None."""
    v = _appended(s, tape)
    return None if v is None else _saved_name(v)


def _pushed_names(s: Any, tape: str) -> list[str]:
    """The names `s` pushes to `tape`: `_pushed`'s one name, or each name in a pushed tuple (a
    checkpointed block saves what it reads and assigns as one tuple)."""
    v = _appended(s, tape)
    if v is None:
        return []
    values = v.elts if isinstance(v, gast.Tuple) else [v]
    return [n for n in map(_saved_name, values) if n is not None]


@dataclass
class Generated:
    source: str
    entry: Any  # the callable(s)
    names: list[str]
    functions: dict[str, Any]
    #: module globals the code assumes hold Python numbers: (globals dict, name)
    assumed: list = field(default_factory=list)

    def still_valid(self) -> bool:
        """The module globals the code was specialized to still hold Python numbers."""
        return all(type(g.get(n)) in (int, float) for g, n in self.assumed)


def resolve_wrt(core: CoreFunction, wrt: Any) -> tuple[list[str], bool]:
    """Parameter names for `wrt` (int, str or tuple of them), and whether it was a tuple."""
    is_tuple = isinstance(wrt, (tuple, list))
    items = list(wrt) if is_tuple else [wrt]
    out = []
    for w in items:
        if isinstance(w, bool) or not isinstance(w, (int, str)):
            raise WrtError(f"wrt must be an argument position or name, not {w!r}")
        if isinstance(w, int):
            if not -len(core.params) <= w < len(core.params):
                raise WrtError(
                    f"wrt={w} is out of range: {core.name} has {len(core.params)} parameters "
                    f"({', '.join(core.params)})",
                    filename=core.info.filename,
                    lineno=core.info.first_lineno,
                    source_line=core.info.line(1),
                )
            out.append(core.params[w])
        else:
            if w not in core.params:
                raise WrtError(
                    f"wrt={w!r} names no parameter of {core.name} "
                    f"(its parameters: {', '.join(core.params)})",
                    filename=core.info.filename,
                    lineno=core.info.first_lineno,
                    source_line=core.info.line(1),
                )
            out.append(w)
    if len(set(out)) != len(out):
        raise WrtError(f"wrt names a parameter twice: {wrt!r}")
    return out, is_tuple


def generate(
    fn: Any,
    wrt: Any,
    mode: str,
    do_optimize: bool = True,
    numbers: frozenset = frozenset(),
    debug: bool = False,
    checkpoint_loops: str | None = None,
    shapes: tuple = (),
    dtypes: tuple = (),
    functions: tuple | None = None,
) -> tuple[Generated, list[str], bool]:
    """Generate and compile the derivative code of `fn` (see `_generate`).

    The pipeline makes hundreds of thousands of short-lived tree nodes and no garbage cycles
    worth collecting: the cyclic garbage collector is paused meanwhile, whose full passes over
    every live object otherwise make generation time grow faster than the function's size."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _generate(
            fn, wrt, mode, do_optimize, numbers, debug, checkpoint_loops, shapes, dtypes, functions
        )
    finally:
        if enabled:
            gc.enable()


def _generate(
    fn: Any,
    wrt: Any,
    mode: str,
    do_optimize: bool = True,
    numbers: frozenset = frozenset(),
    debug: bool = False,
    checkpoint_loops: str | None = None,
    shapes: tuple = (),
    dtypes: tuple = (),
    functions: tuple | None = None,
) -> tuple[Generated, list[str], bool]:
    """Generate and compile the derivative code of `fn`.

    mode: "grad", "value_and_grad" (one function) or "vjp" (forward/backward pair).
    numbers: parameters the call passes Python numbers (float, int) for; the code is then
    specialized to them (no broadcasting helpers where every operand is a number).
    shapes: (parameter, pattern) pairs, the shape patterns of the call's arguments
    (`shapes.pattern_of`); the code is specialized to them too (reverse modes).
    dtypes: (parameter, dtype) pairs (`dtypes.dtype_of`): with the shapes, what `dtypes.finish`
    proves of the gradient (`grad` and `value_and_grad`).
    debug: a finiteness check after every adjoint statement (reverse modes; `s2s/debug.py`).
    checkpoint_loops: "sqrt" runs every outermost loop in checkpointed segments (reverse
    modes; `s2s/checkpoint.py`).
    functions: (parameter, function) pairs, the functions the call passes (`functions.py`);
    None for code any call may run, which takes a parameter's function from its default and
    checks that the call passed that one.
    """
    parsed = parse_function(fn)
    core = normalize(parsed, None, dict(functions or ()), guard_defaults=functions is None)
    wrt_names, is_tuple = resolve_wrt(core, wrt)
    if mode == "jvp":
        return _generate_jvp(core, wrt_names, is_tuple, do_optimize, numbers)
    if mode in ("grad_forward", "value_and_grad_forward"):
        return _generate_forward_grad(core, wrt_names, is_tuple, do_optimize, numbers, mode)
    program = Program()
    program.optimize = do_optimize
    program.debug = debug
    program.checkpoint_loops = checkpoint_loops
    if mode == "vjp":
        fwd_name = program._unique(f"fwd_{core.name}")
        bwd_name = program._unique(f"bwd_{core.name}")
        rev = Reverse(core, wrt_names, program, split=True, numbers=numbers, shapes=shapes)
        program.assume(rev)
        rev.run()
        main_defs = build_split(rev, fwd_name, bwd_name)
        entry_names = [fwd_name, bwd_name]
    else:
        fname = program._unique(
            ("value_and_grad_" if mode == "value_and_grad" else "grad_") + core.name
        )
        rev = Reverse(core, wrt_names, program, split=False, numbers=numbers, shapes=shapes)
        program.assume(rev)
        rev.run()
        facts = argument_facts(dict(shapes), dict(dtypes)) if dtypes else None
        main_defs = [build_grad(rev, fname, mode == "value_and_grad", is_tuple, facts)]
        entry_names = [fname]
    all_defs = list(main_defs)
    owners = [fn] * len(main_defs)
    for key in program.order:
        unit = program.units[key]
        all_defs += unit.defs
        owners += [unit.fn] * len(unit.defs)
    # a generated gradient differentiated again keeps its own `_k` (the comments quote them)
    found = emit.renumber(all_defs, [_own_temporaries(o) for o in owners])
    texts = [emit.to_source(d) for d in all_defs]
    source = "\n\n".join(texts)
    functions = _compile(all_defs, texts, owners, found)
    return (
        Generated(
            source=source,
            entry=[functions[n] for n in entry_names],
            names=entry_names,
            functions=functions,
            assumed=program.assumptions(),
        ),
        wrt_names,
        is_tuple,
    )


class NotForForwardMode(Exception):
    """A gradient that forward mode does not give: the caller generates reverse mode's."""


def _generate_forward_grad(
    core: CoreFunction,
    wrt_names: list[str],
    is_tuple: bool,
    do_optimize: bool,
    numbers: frozenset,
    mode: str,
) -> tuple[Generated, list[str], bool]:
    """The gradient with respect to one parameter the call passes a Python number for, in
    forward mode: its tangent 1.0 carried through one pass, no tape (with one input, forward
    mode does the least work). Raises `NotForForwardMode` where reverse mode must make it:
    several or non-number `wrt`, a `wrt` the function assigns, an `insert_grad_of` block or
    a custom rule (which define reverse mode's gradient), a gradient s2s generated."""
    (w,) = wrt_names if len(wrt_names) == 1 and not is_tuple else (None,)
    if w is None or w not in numbers or is_generated(core):
        raise NotForForwardMode
    infos = {id(s): A.classify(core, s) for s in A.walk_stmts(core.body)}
    if w in A.assigned_in(core.body, infos):
        raise NotForForwardMode
    grad = "grad" if mode == "grad_forward" else "value_and_grad"
    gen, _, _ = _generate_jvp(core, wrt_names, is_tuple, do_optimize, numbers, grad)
    return gen, wrt_names, is_tuple


def _generate_jvp(
    core: CoreFunction,
    wrt_names: list[str],
    is_tuple: bool,
    do_optimize: bool,
    numbers: frozenset = frozenset(),
    grad: str | None = None,
) -> tuple[Generated, list[str], bool]:
    """Forward mode: one `jvp_<f>` function (and one per user function it calls)."""
    from .forward import ForwardProgram, generate_defs

    program = ForwardProgram(
        PURE_HELPERS | {"zeros_tangent", "owned_tangent", "expand_tangent", "tangent_like"},
        do_optimize,
    )
    defs, owners, entry = generate_defs(core, wrt_names, program, numbers, grad)
    if grad and program.reverse_only:
        raise NotForForwardMode
    # a `_k` of the primal's own (a generated gradient's) keeps its number
    found = emit.renumber(
        defs, [set(getattr(getattr(o, "__code__", None), "co_varnames", ())) for o in owners]
    )
    texts = [emit.to_source(d) for d in defs]
    functions = _compile(defs, texts, owners, found)
    gen = Generated(
        source="\n\n".join(texts),
        entry=[functions[entry]],
        names=[entry],
        functions=functions,
        assumed=program.assumptions(),
    )
    gen.tangent_params = program.entry_tparams  # type: ignore[attr-defined]
    return gen, wrt_names, is_tuple


def _own_temporaries(fn: Any) -> set[str]:
    """The local names of `fn` if s2s generated it (they look like temporaries), else none."""
    code = getattr(fn, "__code__", None)
    if code is None or not code.co_filename.startswith("<s2s "):
        return set()
    return set(code.co_varnames)


def _compile(
    defs: list, texts: list[str], owners: list, found: list | None = None
) -> dict[str, Any]:
    """Compile the functions `defs` (texts `texts`) of their `owners`' modules. `found`: the
    `Name` nodes of each function, where `emit.renumber` has them already."""
    if found is None:
        found = [nodes.names(d) for d in defs]
    groups: dict[int, list[int]] = {}
    for i, owner in enumerate(owners):
        groups.setdefault(id(owner.__globals__), []).append(i)
    base = dict(HELPERS)
    base["np"] = np
    base["math"] = math
    all_names = [d.name for d in defs]
    functions: dict[str, Any] = {}
    pending = []
    for idxs in groups.values():
        names = [all_names[i] for i in idxs]
        source = "\n\n".join(texts[i] for i in idxs)
        closure = dict(base)
        for n in all_names:
            if n not in names:
                closure[n] = None
        g = owners[idxs[0]].__globals__
        for i in idxs:  # what the primal reads from its closure (a local function, a constant)
            for k, v in closure_vars(owners[i]).items():
                closure.setdefault(k, v)
        free = {n.id for i in idxs for n in found[i]}  # the names the source reads
        for i in idxs:  # a class a `check_method` names (`analyze.method_guard`)
            for n in found[i]:
                obj = getattr(n, "s2s_object", None)
                if obj is not None:
                    closure.setdefault(n.id, obj)
        closure = {
            k: v
            for k, v in closure.items()
            if k in free and k not in names and not _user_binds(g, k, v)
        }
        fns = emit.compile_functions(source, names, g, closure, filename=f"<s2s {names[0]}>")
        functions.update(fns)
        pending.append((fns, closure))
    for fns, closure in pending:
        for f in fns.values():
            for n, cell in zip(f.__code__.co_freevars, f.__closure__ or (), strict=True):
                if n in functions and n in closure:
                    cell.cell_contents = functions[n]
    return functions


def _user_binds(g: dict, key: str, value: Any) -> bool:
    """The user's module already binds `key` to the same object: read it as a global."""
    return (key in ("np", "math") or isinstance(value, type)) and g.get(key) is value


__all__ = ["Generated", "Program", "generate"]
