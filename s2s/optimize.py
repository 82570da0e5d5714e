"""Stage 5: make generated code read like a careful person wrote it.

Conservative, local rewrites on a finished function body:
* a temporary used once, in the very next statement, is substituted into it (the forward
  sweep gets the user's expressions back where the backward sweep does not need the parts);
* `1.0 * e`, `e * 1.0`, `e / 1.0`, `0.0 + e`, `e + 0.0`, `-(-e)` fold away;
* after a copy `d_a = d_b` between generated names, later reads of `d_a` in the same block
  read `d_b` (until either is assigned again), and `d_a = d_a` goes;
* assignments whose name is never read, and that have no side effect, are removed.
"""

from __future__ import annotations

import ast
import math
import re
from typing import Any

import gast

from .emit import to_ast
from .nodes import (
    blocks,
    calls,
    clone,
    is_call,
    is_temporary,
    names,
    node_fields,
    statements,
    walk,
)
from .normalize import assign, const, name, store
from .textlen import length_bound

_INLINABLE = re.compile(r"^d?_\d+$")  # temporaries and their adjoints
_IMPURE_METHODS = {"pop", "append", "insert", "extend"}
_IMPURE_FUNCS = {"add_at", "print"}


def optimize(fn: gast.FunctionDef, pure_calls: set[str]) -> gast.FunctionDef:
    for round_ in range(6):
        changed = _fold(fn)
        changed |= _propagate_copies(fn)
        changed |= _inline_single_use(fn, pure_calls)
        if round_ and not changed:
            # `_dead_code` ran last, on this very tree, and would remove nothing more: the
            # statements it removes add nothing to liveness, so a second run finds the same
            # live names everywhere (the passes above change nothing when they report so)
            break
        changed |= _dead_code(fn, pure_calls)
        if not changed:
            break
    _assign_into_zeros(fn)
    _recompute_lengths(fn)
    _accumulate_in_place(fn)
    _unused_loop_variables(fn)
    _loop_tapes(fn)
    for block in _blocks(fn):
        # debug mode's `check_finite(1.0, ...)` of a seed propagated: a finite number
        block[:] = [s for s in block if not _checks_a_number(s)]
    for block in _blocks(fn):
        _drop_dangling_comments(block)
    for block in _blocks(fn):
        if not block or all(_is_comment(s) for s in block):
            block.append(gast.Pass())
    for block in _blocks(fn):
        for s in block:
            if isinstance(s, gast.If) and len(s.orelse) == 1 and isinstance(s.orelse[0], gast.Pass):
                s.orelse = []
            if isinstance(s, (gast.If, gast.While)) and is_call(s.test, "bool", 1):
                s.test = s.test.args[0]  # `if bool(c):` is `if c:`
    return fn


def _stored(node: Any) -> set[str]:
    return {
        n.id
        for n in names(node)
        if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Del))
    }


def _stores_of(block: list) -> Any:
    """`stores(j)`: the names `block[j]` stores, found once, when first asked for (for a pass
    that changes no assignment of the block)."""
    stored: list[set[str] | None] = [None] * len(block)

    def stores(j: int) -> set[str]:
        found = stored[j]
        if found is None:
            found = stored[j] = _stored(block[j])
        return found

    return stores


def _propagate_copies(fn: Any) -> bool:
    changed = False
    for block in _blocks(fn):
        keep = []
        for s in block:
            if (
                isinstance(s, gast.Assign)
                and isinstance(s.targets[0], gast.Name)
                and isinstance(s.value, gast.Name)
                and s.targets[0].id == s.value.id
            ):
                changed = True  # `d_a = d_a`
                continue
            keep.append(s)
        block[:] = keep
        stores = _stores_of(block)  # the pass renames reads only: stores stay as they are
        for i, s in enumerate(block):
            if (
                isinstance(s, gast.Assign)
                and isinstance(s.targets[0], gast.Name)
                and isinstance(s.value, gast.Constant)
                and type(s.value.value) is float
                and _removable(s.targets[0].id)
            ):
                changed |= _propagate_number(block, i + 1, stores, s.targets[0].id, s.value.value)
                continue
            if not (
                isinstance(s, gast.Assign)
                and isinstance(s.targets[0], gast.Name)
                and isinstance(s.value, gast.Name)
                and _removable(s.targets[0].id)
            ):
                continue
            src, dst = s.value.id, s.targets[0].id
            for j in range(i + 1, len(block)):
                later = block[j]
                stored_j = stores(j)
                stops = src in stored_j or dst in stored_j
                if stops and not isinstance(later, gast.Assign):
                    break  # a loop or branch that rebinds one of them
                parts = [later.value] if stops else [later]
                for part in parts:
                    for n in names(part):
                        if (
                            isinstance(n, gast.Name)
                            and n.id == dst
                            and isinstance(n.ctx, gast.Load)
                        ):
                            n.id = src
                            changed = True
                if stops:
                    break
    return changed


def _propagate_number(block: list, start: int, stores: Any, dst: str, value: float) -> bool:
    """After `d_3 = 1.0` (a seed), later reads of `d_3` in the block (`block[start:]`) read
    `1.0` (which then folds: `1.0 * y` is `y`), up to the first statement that assigns it
    again. `stores(j)`: the names `block[j]` stores."""
    changed = False
    for j in range(start, len(block)):
        s = block[j]
        stops = dst in stores(j)
        if stops and not isinstance(s, gast.Assign):
            break
        part = s.value if stops else s
        if _mentions(part, dst):
            _ReplaceByNumber(dst, const(value)).visit(part)
            changed = True
        if stops:
            break
    return changed


def _statements(fn: Any) -> list[tuple[Any, tuple]]:
    """Every statement in textual order, each with the loops around it (outermost first)."""
    out: list[tuple[Any, tuple]] = []

    def walk(block: list, loops: tuple) -> None:
        for s in block:
            out.append((s, loops))
            if isinstance(s, gast.If):
                walk(s.body, loops)
                walk(s.orelse, loops)
            elif isinstance(s, (gast.For, gast.While)):
                walk(s.body, loops + (s,))

    walk(fn.body, ())
    return out


def _loop_tapes(fn: Any) -> None:
    """A loop that saves one value per iteration, and its reversed loop that restores it first:

        for t in range(n):              tape_x = []
            ...                         for t in range(n):
            tape.append(x)                  ...
            x = x + dt * v       ->         tape_x.append(x)
        ...                                 x = x + dt * v
        for _ in reversed(range(n)):    ...
            x = tape.pop()              for x in reversed(tape_x):
            ...                             ...

    The values go to a list of their own, which the reversed loop iterates: no pop per
    iteration. Only where it is provably the same: the loops iterate one `range(n)` (n not
    assigned between), in one block, with no break, continue or return; the forward loop's
    one tape operation is that push, directly in its body; the reversed loop's one is the pop,
    with no mention of x before it; nothing between the loops touches the tape."""
    taken: set[str] | None = None  # the names of `fn`, once a loop qualifies
    for block in list(_blocks(fn)):
        k = 0
        while k < len(block):
            b = block[k]
            found = _restoring_loop(b)
            if found is None:
                k += 1
                continue
            pop, x, tape, n = found
            j = k - 1
            while j >= 0 and not _mentions(block[j], tape):
                j -= 1
            push = _saving_loop(block[j], tape, x, n) if j >= 0 else None
            if push is None or any(n in _stored(s) for s in block[j : k + 1]):
                k += 1
                continue
            if taken is None:
                taken = {m.id for m in names(fn)}
            own = f"tape_{x}"
            while own in taken:
                own += "_"
            taken.add(own)
            push.value.func.value = name(own)
            b.target = store(x)
            b.iter = gast.Call(func=name("reversed"), args=[name(own)], keywords=[])
            b.body.remove(pop)
            block.insert(j, assign(own, gast.List(elts=[], ctx=gast.Load()), None))
            k += 2
    if taken is None:
        return  # nothing rewritten
    # a tape the function made and no longer uses goes
    params = {a.id for a in names(fn.args) if isinstance(a, gast.Name)}
    used: dict[str, int] = {}
    for n in names(fn):
        used[n.id] = used.get(n.id, 0) + 1
    fn.body[:] = [
        s
        for s in fn.body
        if not (
            isinstance(s, gast.Assign)
            and isinstance(s.targets[0], gast.Name)
            and s.targets[0].id.startswith("tape")
            and s.targets[0].id not in params
            and isinstance(s.value, gast.List)
            and not s.value.elts
            and used.get(s.targets[0].id) == 1
        )
    ]


def _range_of(it: Any, wrapper: str | None) -> str | None:
    """n of `range(n)` (`wrapper(range(n))` with a wrapper), n a name."""
    if wrapper is not None:
        if not is_call(it, wrapper, 1):
            return None
        it = it.args[0]
    if is_call(it, "range", 1) and isinstance(it.args[0], gast.Name):
        return it.args[0].id
    return None


def _jumps(loop: Any) -> bool:
    return any(isinstance(n, (gast.Break, gast.Continue, gast.Return)) for n in statements(loop))


def _restoring_loop(b: Any) -> tuple | None:
    """(the pop, x, the tape, n) of `for _ in reversed(range(n)): ...; x = tape.pop(); ...`
    whose other statements never mention the tape, nor x before the pop; None for any
    other statement."""
    if not (
        isinstance(b, gast.For)
        and isinstance(b.target, gast.Name)
        and b.target.id == "_"
        and not b.orelse
    ):
        return None
    n = _range_of(b.iter, "reversed")
    pops = [s for s in b.body if is_pop(s)]
    if n is None or len(pops) != 1 or _jumps(b):
        return None
    pop = pops[0]
    tape, x = pop.value.func.value.id, pop.targets[0].id
    before = b.body[: b.body.index(pop)]
    if any(_mentions(s, x) for s in before) or any(
        _mentions(s, tape) for s in b.body if s is not pop
    ):
        return None  # (the pop restores x first of all: as the loop's target would)
    return pop, x, tape, n


def _saving_loop(f: Any, tape: str, x: str, n: str) -> Any:
    """The push `tape.append(x)` of `for t in range(n): ...` when it is the loop's only
    mention of the tape, a statement of its body; else None."""
    if not (isinstance(f, gast.For) and not f.orelse and _range_of(f.iter, None) == n):
        return None
    if _jumps(f) or sum(1 for m in names(f) if m.id == tape) != 1:
        return None
    for s in f.body:
        if (
            _is_push(s)
            and s.value.func.value.id == tape
            and len(s.value.args) == 1
            and isinstance(s.value.args[0], gast.Name)
            and s.value.args[0].id == x
        ):
            return s
    return None


def _checks_a_number(s: Any) -> bool:
    """`check_finite(1.0, ...)`: a check of a finite number written in the code."""
    return (
        isinstance(s, gast.Expr)
        and isinstance(s.value, gast.Call)
        and isinstance(s.value.func, gast.Name)
        and s.value.func.id == "check_finite"
        and bool(s.value.args)
        and isinstance(s.value.args[0], gast.Constant)
        and type(s.value.args[0].value) in (int, float)
        and math.isfinite(s.value.args[0].value)
    )


def _own_parts(s: Any) -> list:
    """What a statement evaluates itself: an `if`'s or `while`'s test, a `for`'s target and
    iterable; a simple statement whole."""
    if isinstance(s, (gast.If, gast.While)):
        return [s.test]
    if isinstance(s, gast.For):
        return [s.target, s.iter]
    return [s]


def _unused_loop_variables(fn: Any) -> None:
    """`for t in reversed(...)` whose body never reads `t` (and nothing after it does, nor
    an enclosing loop) becomes `for _ in reversed(...)`."""
    seq = _statements(fn)
    loaded: dict[int, set[str]] = {}  # id(statement) -> names its subtree loads (memo)

    def loads(x: Any, t: str) -> bool:
        found = loaded.get(id(x))
        if found is None:
            found = loaded[id(x)] = {n.id for n in names(x) if isinstance(n.ctx, gast.Load)}
        return t in found

    last: dict[str, int] | None = None  # name -> the last statement (position in seq) that
    # reads it; found at the first candidate loop (none in most functions)
    for i, (s, loops) in enumerate(seq):
        if not (
            isinstance(s, gast.For)
            and isinstance(s.target, gast.Name)
            and isinstance(s.iter, gast.Call)
            and isinstance(s.iter.func, gast.Name)
            and s.iter.func.id == "reversed"
            and s.target.id != "_"
        ):
            continue
        t = s.target.id
        if last is None:
            last = _last_reads(seq)
        inside = {id(x) for x in statements(s)}
        end = i  # seq[i : end + 1] is the loop and the statements inside it
        while end + 1 < len(seq) and id(seq[end + 1][0]) in inside:
            end += 1
        scopes = list(s.body) + [x for outer in loops for x in outer.body]
        if last.get(t, -1) <= end and not any(loads(x, t) for x in scopes):
            s.target = store("_")


def _last_reads(seq: list[tuple[Any, tuple]]) -> dict[str, int]:
    """Each name a statement of `seq` reads -> the position of the last such statement."""
    last: dict[str, int] = {}
    for j, (x, _) in enumerate(seq):
        # a compound statement's own parts: the statements inside come later in `seq`
        for part in _own_parts(x):
            for n in names(part):
                if isinstance(n.ctx, gast.Load):
                    last[n.id] = j
    return last


def _accumulate_in_place(fn: Any) -> None:
    """`d_v = d_v + c` becomes `d_v += c` where `d_v` provably owns its array.

    That holds when every assignment to `d_v` is a zero (`0.0`, `zeros_like(...)`) or such an
    accumulation (so its value is a Python number or an array made by `+`), `d_v` is not a
    parameter, and every read of `d_v` that could keep a reference to it (anything but an
    operand of arithmetic) comes after all its accumulations and outside any loop holding one.
    """
    params = {a.id for a in names(fn.args) if isinstance(a, gast.Name)}
    order = _statements(fn)

    def self_acc(s: Any) -> str | None:
        if (
            isinstance(s, gast.Assign)
            and isinstance(s.targets[0], gast.Name)
            and isinstance(s.value, gast.BinOp)
            and isinstance(s.value.op, (gast.Add, gast.Sub))
            and isinstance(s.value.left, gast.Name)
            and s.value.left.id == s.targets[0].id
            and not _mentions(s.value.right, s.targets[0].id)
        ):
            return s.targets[0].id
        return None

    def zero(s: Any) -> bool:
        v = s.value
        return _is_const(v, 0.0) or (
            isinstance(v, gast.Call) and isinstance(v.func, gast.Name) and v.func.id == "zeros_like"
        )

    ok: dict[str, bool] = {}
    zeros: dict[str, list[int]] = {}  # where each name is set to a zero
    accs: dict[str, list[int]] = {}
    acc_of: dict[int, str | None] = {}  # id(statement) -> what it accumulates into
    names_of: dict[int, list] = {}  # id(simple statement) -> its names (read again below)
    for i, (s, _loops) in enumerate(order):
        if isinstance(s, (gast.If, gast.For, gast.While)):
            continue
        acc = acc_of[id(s)] = self_acc(s)
        if acc is not None:
            accs.setdefault(acc, []).append(i)
            ok.setdefault(acc, acc.startswith("d") and acc not in params)
            continue
        found = names_of[id(s)] = names(s)
        if isinstance(s, gast.Assign) and zero(s):
            if isinstance(s.targets[0], gast.Name):
                zeros.setdefault(s.targets[0].id, []).append(i)
            continue
        for n in found:
            if isinstance(n.ctx, (gast.Store, gast.Del)):
                ok[n.id] = False
    if not accs:
        return  # no accumulation to rewrite
    last_acc = {v: max(ix) for v, ix in accs.items()}
    acc_loops = {v: {id(lp) for j in ix for lp in order[j][1]} for v, ix in accs.items()}

    def zeroed_each_pass(v: str, loops: tuple) -> bool:
        """A read after all of `v`'s accumulations, in a loop holding them: it may keep a
        reference only if each pass of that loop sets `v` to a new zero before any of
        them (`d_W = 0.0; for ...: d_W = d_W + ...; add_at(d, 'W', d_W)` in a loop of
        segments), and no accumulation lies outside that loop."""
        inner = [lp for lp in loops if id(lp) in acc_loops[v]][-1]
        first = min(accs[v])
        if not all(any(lp is inner for lp in order[j][1]) for j in accs[v]):
            return False
        return any(
            z < first and any(order[z][0] is x for x in inner.body) for z in zeros.get(v, ())
        )

    for i, (s, loops) in enumerate(order):
        parts = (
            [s.test]
            if isinstance(s, (gast.If, gast.While))
            else ([s.iter] if isinstance(s, gast.For) else [s])
        )
        acc = acc_of.get(id(s))
        loop_ids = {id(lp) for lp in loops}
        for part in parts:
            # the reads that would keep a reference if they were no operand of arithmetic:
            # only they need the (slower) walk that finds the operands
            found = [
                n
                for n in (names_of.get(id(part)) or names(part))
                if isinstance(n.ctx, gast.Load)
                and n.id in accs
                and ok.get(n.id)
                and (
                    i <= last_acc[n.id]
                    or acc_loops[n.id] & loop_ids
                    and not zeroed_each_pass(n.id, loops)
                )
            ]
            if not found:
                continue
            arithmetic = set()  # ids of the operands of arithmetic in `part`
            for node in walk(part):
                if isinstance(node, gast.BinOp):
                    arithmetic |= {id(node.left), id(node.right)}
                elif isinstance(node, gast.UnaryOp):
                    arithmetic.add(id(node.operand))
            for n in found:
                if id(n) in arithmetic or (acc == n.id and n is s.value.left):
                    continue
                ok[n.id] = False
    for block in _blocks(fn):
        for k, s in enumerate(block):
            acc = acc_of.get(id(s))
            if acc is not None and ok.get(acc):
                node = gast.AugAssign(target=s.targets[0], op=s.value.op, value=s.value.right)
                if hasattr(s, "s2s_line"):
                    node.s2s_line = s.s2s_line
                block[k] = node


def _assign_into_zeros(fn: Any) -> None:
    """`d_z = zeros_like(z)` then `add_at(d_z, (slice(None), slice(a, b)), g)`: the first
    contributions, at basic indices that provably do not overlap, are assigned
    (`d_z[:, a:b] = g`) rather than added to zeros: one pass over the region instead of three.

    Exact: adding to a zero region gives the contribution, cast to the adjoint's dtype as
    assignment casts it. The indices must be slices with bounds and integers whose values are
    linear in lengths (`len(x)`, `x.shape[k]`) with nonnegative coefficients (`_int_forms`),
    and every pair must be apart along one axis for every value of those lengths. Tracking
    stops at the first other statement that mentions `d_z`."""
    blocks = [b for b in _blocks(fn) if any(getattr(s, "s2s_zeros", False) for s in b)]
    if not blocks:
        return
    forms = _int_forms(fn)
    for block in blocks:
        regions: dict[str, list] = {}  # adjoint -> the regions assigned so far
        zeros: dict[str, Any] = {}  # adjoint -> its `zeros_like` statement, while all assigned

        for k, s in enumerate(block):
            if getattr(s, "s2s_zeros", False) and isinstance(s.targets[0], gast.Name):
                if s.targets[0].id in regions:
                    _done(s.targets[0].id, regions, zeros)
                regions[s.targets[0].id] = []
                zeros[s.targets[0].id] = s
                continue
            target = _add_at_target(s)
            if target in regions:
                index, g = s.value.args[1], s.value.args[2]
                region = _region(index, forms)
                if (
                    region is not None
                    and not _mentions(g, target)
                    and all(_apart(region, r) for r in regions[target])
                ):
                    sub = gast.Subscript(
                        value=s.value.args[0], slice=_index_syntax(index), ctx=gast.Store()
                    )
                    node = gast.Assign(targets=[sub], value=g, type_comment=None)
                    if hasattr(s, "s2s_line"):
                        node.s2s_line = s.s2s_line
                    block[k] = node
                    regions[target].append(region)
                    continue
                if region is not None and not _mentions(g, target):
                    regions[target].append(region)  # added: later parts must be apart from it
                    zeros.pop(target, None)  # and they read the zeros
                    continue
            for v in [v for v in regions if _mentions(s, v)]:
                _done(v, regions, zeros)
        for v in list(regions):
            _done(v, regions, zeros)


def _done(v: str, regions: dict[str, list], zeros: dict[str, Any]) -> None:
    """Stop tracking the adjoint `v`; if the parts assigned to it cover it, every element was
    assigned before any was read, and its zeros are never seen: `empty_like`."""
    z = zeros.pop(v, None)
    if z is not None and _covers(regions[v]):
        z.value.func.id = "empty_like"
    del regions[v]


#: a whole axis: from 0 to the end
_FULL = (((), 0), None)


def _covers(regions: list) -> bool:
    """Whether the boxes `regions` (of `_region`) together select every element of an array.

    They do when all but one axis are whole in each and, along that axis, their intervals
    chain from 0 to the end: `[0, a)`, `[a, b)`, `[b, end)`. That holds for any values of the
    bounds: NumPy clamps each to the axis's length, the same form to the same value, and a
    point `p` lies in `[x_i, x_i+1)` for the last `x_i <= p` of the chain."""
    if not regions:
        return False
    width = max(len(r) for r in regions)
    boxes = [r + (_FULL,) * (width - len(r)) for r in regions]
    for k in range(width):
        if not all(p == _FULL for b in boxes for j, p in enumerate(b) if j != k):
            continue
        stops: dict[Any, list] = {}
        for b in boxes:
            stops.setdefault(b[k][0], []).append(b[k][1])
        seen: set = set()
        todo: list = [((), 0)]
        while todo:
            x = todo.pop()
            if x is _INF:
                return True
            if x not in seen:
                seen.add(x)
                todo.extend(stops.get(x, ()))
        return False
    return False


def _add_at_target(s: Any) -> str | None:
    """`d` of a statement `add_at(d, index, g)`."""
    if (
        isinstance(s, gast.Expr)
        and is_call(s.value, "add_at", 3)
        and isinstance(s.value.args[0], gast.Name)
    ):
        return s.value.args[0].id
    return None


#: a linear form over lengths: ((name, coefficient), ...) sorted, and a constant
Form = tuple[tuple[tuple[str, int], ...], int]


def _is_length(e: Any) -> bool:
    """`len(x)` or `x.shape[k]`."""
    return is_call(e, "len", 1) or (
        isinstance(e, gast.Subscript)
        and isinstance(e.value, gast.Attribute)
        and e.value.attr == "shape"
        and isinstance(e.slice, gast.Constant)
        and type(e.slice.value) is int
    )


def _int_forms(fn: Any) -> dict[str, Form]:
    """The names of `fn` that hold one nonnegative integer for the whole call, as linear forms
    with nonnegative coefficients over lengths.

    A length is a name assigned once, at the top level of the body, from `len(x)` or
    `x.shape[k]`; a form is a name assigned once (anywhere: each execution gives the same
    value) from integers, lengths, forms, `+` and `*` by a nonnegative integer."""
    stores: dict[str, int] = {}
    for n in names(fn):
        if not isinstance(n.ctx, gast.Load):
            stores[n.id] = stores.get(n.id, 0) + 1
    defs: dict[str, tuple[Any, bool]] = {}
    top = {id(s) for s in fn.body}
    for block in _blocks(fn):
        for s in block:
            if (
                isinstance(s, gast.Assign)
                and len(s.targets) == 1
                and isinstance(s.targets[0], gast.Name)
                and stores.get(s.targets[0].id) == 1
            ):
                defs[s.targets[0].id] = (s.value, id(s) in top)
    forms: dict[str, Form] = {}

    for v, (e, at_top) in defs.items():
        if at_top and _is_length(e):
            forms[v] = (((v, 1),), 0)
    changed = True
    while changed:
        changed = False
        for v, (e, _) in defs.items():
            if v not in forms:
                f = _form(e, forms)
                if f is not None:
                    forms[v] = f
                    changed = True
    return forms


def _recompute_lengths(fn: Any) -> None:
    """A temporary holding a sum or product of integers and lengths (`_6 = 2 * H`: a bound of
    the user's `z[:, H:2 * H]`) is written where it is read, forward and backward, and its
    assignment goes: the user's own expression comes back, and no name is kept for it.

    Exact: such a temporary is one of `_int_forms` (assigned once; each execution gives the
    same integer), and so is every name its expression reads; an integer product costs less
    than the name it replaces is worth to the reader."""
    candidates = [
        (block, s)
        for block in _blocks(fn)
        for s in block
        if isinstance(s, gast.Assign)
        and isinstance(s.targets[0], gast.Name)
        and is_temporary(s.targets[0].id)
        and isinstance(s.value, gast.BinOp)
        and isinstance(s.value.op, (gast.Add, gast.Mult))
        and all(
            isinstance(n, gast.Name) or (isinstance(n, gast.Constant) and type(n.value) is int)
            for n in (s.value.left, s.value.right)
        )
    ]
    if not candidates:
        return
    # names that may hold integers (statements only, no walk of expressions): without one
    # among the candidates' operands there is nothing to recompute
    ints: set[str] = set()
    for block in _blocks(fn):
        for s in block:
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
                v = s.value
                if _is_length(v) or (isinstance(v, gast.Constant) and type(v.value) is int):
                    ints.add(s.targets[0].id)
    kept: list = []
    for _ in range(2):  # `_7 = 2 * H` before `_8 = _7 + 1`: in order, and once more
        for block, s in candidates:
            if s.targets[0].id not in ints and all(
                isinstance(n, gast.Constant) or n.id in ints for n in (s.value.left, s.value.right)
            ):
                ints.add(s.targets[0].id)
                kept.append((block, s))
    candidates = kept
    if not candidates:
        return
    forms = _int_forms(fn)
    values = {}
    for block, s in candidates:
        t = s.targets[0].id
        if t in forms and all(
            isinstance(n, gast.Constant) or n.id in forms for n in (s.value.left, s.value.right)
        ):
            values[t] = s.value
            block.remove(s)
    if not values:
        return

    class Expand(gast.NodeTransformer):
        def visit_Name(self, node: gast.Name) -> Any:
            if isinstance(node.ctx, gast.Load) and node.id in values:
                return self.visit(clone(values[node.id]))
            return node

    Expand().visit(fn)


_INF = None  # an interval's open upper end


def _region(index: Any, forms: dict[str, Form]) -> tuple | None:
    """The box an index selects, one interval `(start, stop)` of forms per leading axis (stop
    `_INF`: to the end); None unless every part is a step-less slice or an integer form."""
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    out = []
    for p in parts:
        if is_call(p, "slice", 1) or is_call(p, "slice", 2):
            bounds = p.args if len(p.args) == 2 else [const(None), *p.args]
            lo, hi = bounds
            if isinstance(lo, gast.Constant) and lo.value is None:
                start: Form | None = ((), 0)
            else:
                start = _form(lo, forms)
            if isinstance(hi, gast.Constant) and hi.value is None:
                stop: Any = _INF
            else:
                stop = _form(hi, forms)
                if stop is None:
                    return None
            if start is None:
                return None
            out.append((start, stop))
            continue
        f = _form(p, forms)
        if f is None:
            return None
        out.append((f, (f[0], f[1] + 1)))
    return tuple(out)


def _form(e: Any, forms: dict[str, Form]) -> Form | None:
    """`e` as a linear form over lengths with nonnegative coefficients (`_int_forms`): a
    nonnegative integer, a name of `forms`, their sums and products by an integer."""
    if isinstance(e, gast.Constant):
        return ((), e.value) if type(e.value) is int and e.value >= 0 else None
    if isinstance(e, gast.Name):
        return forms.get(e.id)
    if isinstance(e, gast.BinOp) and isinstance(e.op, (gast.Add, gast.Mult)):
        a, b = _form(e.left, forms), _form(e.right, forms)
        if a is None or b is None:
            return None
        if isinstance(e.op, gast.Add):
            terms = dict(a[0])
            for v, c in b[0]:
                terms[v] = terms.get(v, 0) + c
            return tuple(sorted(terms.items())), a[1] + b[1]
        if a[0] and b[0]:
            return None  # not linear
        (k, (terms, c)) = (a[1], b) if not a[0] else (b[1], a)
        return tuple(sorted((v, k * x) for v, x in terms if k * x)), k * c
    return None


def _apart(r1: tuple, r2: tuple) -> bool:
    """Two boxes provably share no element: along some axis one interval ends where or before
    the other starts, for every value of the lengths (clipping to the axis keeps that)."""
    return any(_at_most(a[1], b[0]) or _at_most(b[1], a[0]) for a, b in zip(r1, r2, strict=False))


def _at_most(x: Any, y: Form) -> bool:
    """x <= y for all nonnegative lengths (x `_INF`: never)."""
    if x is _INF:
        return False
    terms = dict(y[0])
    for v, c in x[0]:
        terms[v] = terms.get(v, 0) - c
    return all(c >= 0 for c in terms.values()) and y[1] - x[1] >= 0


def _index_syntax(index: Any) -> Any:
    """`slice(a, b)` parts of an index value back as `a:b` syntax."""
    if isinstance(index, gast.Tuple):
        return gast.Tuple(elts=[_index_syntax(e) for e in index.elts], ctx=gast.Load())
    if (
        isinstance(index, gast.Call)
        and isinstance(index.func, gast.Name)
        and index.func.id == "slice"
    ):
        args = list(index.args)
        if len(args) == 1:
            args = [None, args[0]]
        lo, hi = (None if isinstance(a, gast.Constant) and a.value is None else a for a in args)
        return gast.Slice(lower=lo, upper=hi, step=None)
    return index


def _is_comment(s: Any) -> bool:
    return (
        isinstance(s, gast.Expr)
        and isinstance(s.value, gast.Constant)
        and isinstance(s.value.value, str)
        and s.value.value.startswith("__s2s_comment__:")
    )


def _drop_dangling_comments(block: list) -> None:
    """A comment heading nothing (its statements were optimized away) goes too."""
    keep = []
    for i, s in enumerate(block):
        if _is_comment(s) and (
            i + 1 == len(block)
            or _is_comment(block[i + 1])
            or isinstance(block[i + 1], gast.Return)
        ):
            continue
        keep.append(s)
    block[:] = keep


def _loads(node: Any) -> set[str]:
    """The names `node` reads."""
    return {n.id for n in names(node) if isinstance(n.ctx, gast.Load)}


def _reads(node: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for n in names(node):
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load):
            counts[n.id] = counts.get(n.id, 0) + 1
    return counts


def _is_pure(expr: Any, pure_calls: set[str]) -> bool:
    for n in calls(expr):
        f = n.func
        if isinstance(f, gast.Attribute) and f.attr in _IMPURE_METHODS:
            return False
        if isinstance(f, gast.Name) and f.id not in pure_calls:
            return False
        if isinstance(f, gast.Attribute) and not _is_module_chain(f):
            return False
    return True


def _is_module_chain(f: Any) -> bool:
    while isinstance(f, gast.Attribute):
        f = f.value
    return isinstance(f, gast.Name) and f.id in ("np", "numpy", "math")


def _blocks(fn: Any) -> Any:
    """Every statement list in the function."""
    return blocks(fn.body)


def _inline_single_use(fn: Any, pure_calls: set[str]) -> bool:
    reads: dict[str, int] = {}
    stores: dict[str, int] = {}
    for n in names(fn):
        if isinstance(n.ctx, gast.Load):
            reads[n.id] = reads.get(n.id, 0) + 1
        elif isinstance(n.ctx, gast.Store):
            stores[n.id] = stores.get(n.id, 0) + 1
    changed = False
    for block in _blocks(fn):
        i = 0
        while i < len(block) - 1:
            s = block[i]
            nxt = block[i + 1]
            if (
                isinstance(s, gast.Assign)
                and isinstance(s.targets[0], gast.Name)
                and _INLINABLE.match(s.targets[0].id)
                and reads.get(s.targets[0].id) == 1
                and stores.get(s.targets[0].id) == 1
            ):
                tmp = s.targets[0].id
                if (
                    i + 2 < len(block)
                    and _is_push(nxt)
                    and not _mentions(nxt, tmp)
                    and _is_pure(s.value, pure_calls)
                    and not _has_pop(s.value)
                    and _use_slot(block[i + 2], tmp) is not None
                ):
                    # `_2 = x + dt * v; tape.append(x); x = _2`: the push may come first (the
                    # temporary's expression changes nothing it pushes), then `_2` inlines
                    block[i], block[i + 1] = nxt, s
                    changed = True
                    continue
                j = i + 1
                while j < len(block) - 1 and is_pop(block[j]):
                    j += 1
                if j > i + 1 and _inline_past_pops(block, i, j, tmp, pure_calls):
                    # `d_5 = d_4 * _3; _3 = tape.pop(); f(d_5)`: the pops wait one statement
                    changed = True
                    continue
                slot = _use_slot(nxt, tmp)
                if (
                    slot is not None
                    and _safe_to_move(s.value, slot, pure_calls)
                    and _fits(nxt, tmp, s.value)
                ):
                    _Replace(tmp, s.value).visit(slot)
                    _put_slot(nxt, slot.value)
                    nxt.s2s_line = getattr(nxt, "s2s_line", None) or getattr(s, "s2s_line", None)
                    del block[i]
                    changed = True
                    continue
            i += 1
    return changed


def _inline_past_pops(block: list, i: int, j: int, tmp: str, pure_calls: set[str]) -> bool:
    """Substitute the single-use temporary assigned by `block[i]` into its use in `block[j]`,
    where the statements between are pops (`y = tape.pop()`) that `block[j]` does not
    mention: the pops move after `block[j]`, the value is read before them as it was.
    Only arithmetic moves (`d_o * o / _7`: signs fold across it); helper calls stay on their
    own line, unnested."""
    s, use = block[i], block[j]
    popped = [p.targets[0].id for p in block[i + 1 : j]]
    slot = _use_slot(use, tmp)
    if (
        slot is None
        or bool(calls(s.value))
        or not _is_pure(use, pure_calls | {"add_at", "slice"})  # a callee pops the tape too
        or _has_pop(use)
        or not _is_pure(s.value, pure_calls)
        or _has_pop(s.value)
        or any(_mentions(use, y) for y in popped)
        or not _safe_to_move(s.value, slot, pure_calls)
        or not _fits(use, tmp, s.value)
    ):
        return False
    _Replace(tmp, s.value).visit(slot)
    _put_slot(use, slot.value)
    use.s2s_line = getattr(use, "s2s_line", None) or getattr(s, "s2s_line", None)
    block[i : j + 1] = [use, *block[i + 1 : j]]
    return True


def is_pop(s: Any, tape: str | None = None) -> bool:
    """`y = tape.pop()` (from the list `tape`, or from any tape: `tape`, `tape2`, `tape_x`)."""
    return (
        isinstance(s, gast.Assign)
        and len(s.targets) == 1
        and isinstance(s.targets[0], gast.Name)
        and isinstance(s.value, gast.Call)
        and not s.value.args
        and isinstance(s.value.func, gast.Attribute)
        and s.value.func.attr == "pop"
        and isinstance(s.value.func.value, gast.Name)
        and (
            s.value.func.value.id == tape
            if tape is not None
            else s.value.func.value.id.startswith("tape")
        )
    )


MAX_LINE = 88  # inlining stops where the line would get longer than this (before indent)


def _fits(stmt: Any, tmp: str, value: Any) -> bool:
    """Substituting `value` for `tmp` in `stmt` keeps the line readable: the text of the
    statement's parts and of `value`, less `tmp`, is at most `MAX_LINE` long. The texts are
    written only where `length_bound` (which nearly always answers) cannot tell."""
    if isinstance(stmt, gast.For):
        parts, extra = [stmt.iter], 10
    elif isinstance(stmt, (gast.If, gast.While)):
        parts, extra = [stmt.test], 10
    elif isinstance(stmt, gast.Assign):
        parts, extra = [stmt.targets[0], stmt.value], 3
    elif stmt.value is not None:
        parts, extra = [stmt.value], 7
    else:
        parts, extra = [], 0
    parts.append(value)
    bound = extra - len(tmp)
    for part in parts:
        n = length_bound(part)
        if n is None:
            break
        bound += n
    else:
        if bound <= MAX_LINE:
            return True  # (the texts are no longer than their bounds)
    length = extra - len(tmp) + sum(len(ast.unparse(to_ast(part))) for part in parts)
    return length <= MAX_LINE


def _safe_to_move(value: Any, slot: Any, pure_calls: set[str]) -> bool:
    """Moving `value` into `slot` keeps the order of every side effect."""
    mutated = set()
    for n in calls(slot):
        if isinstance(n.func, gast.Name) and n.func.id == "add_at":
            if n.args and isinstance(n.args[0], gast.Name):
                mutated.add(n.args[0].id)
    if mutated and mutated & _loads(value):
        return False
    return (
        _is_pure(slot, pure_calls | {"add_at"})
        or _is_pure(value, pure_calls)
        and not _has_pop(slot)
    )


def _has_pop(node: Any) -> bool:
    return any(
        isinstance(n.func, gast.Attribute) and n.func.attr in _IMPURE_METHODS for n in calls(node)
    )


def _use_slot(stmt: Any, tmp: str) -> Any:
    """The part of `stmt` evaluated once, right away, that reads `tmp`; None if unsafe."""
    if isinstance(stmt, gast.Assign):
        part = stmt.value
        if isinstance(stmt.targets[0], gast.Subscript) and _mentions(stmt.targets[0], tmp):
            return None
    elif isinstance(stmt, gast.Expr):
        part = stmt.value
    elif isinstance(stmt, gast.Return):
        part = stmt.value
    elif isinstance(stmt, gast.If):
        part = stmt.test
    elif isinstance(stmt, gast.For):
        part = stmt.iter
    else:
        return None
    if part is None or not _mentions(part, tmp):
        return None
    holder = gast.Expr(value=part)
    return holder


def _put_slot(stmt: Any, value: Any) -> None:
    if isinstance(stmt, (gast.Assign, gast.Expr, gast.Return)):
        stmt.value = value
    elif isinstance(stmt, gast.If):
        stmt.test = value
    elif isinstance(stmt, gast.For):
        stmt.iter = value


def _mentions(node: Any, tmp: str) -> bool:
    return any(isinstance(n, gast.Name) and n.id == tmp for n in names(node))


def _visit_fields(visit: Any, node: Any, skip: str | None = None) -> Any:
    """`node` with `visit` applied to the nodes of its fields (but `skip`), each field set
    again only where its node was replaced: the generic step of the passes that only
    replace nodes (`NodeTransformer.generic_visit`, without its dispatch by name)."""
    for field in node_fields(node.__class__):
        if field == skip:
            continue
        value = getattr(node, field, None)
        if isinstance(value, gast.AST):
            new = visit(value)
            if new is not value:
                setattr(node, field, new)
        elif isinstance(value, list):
            for i, x in enumerate(value):
                if isinstance(x, gast.AST):
                    new = visit(x)
                    if new is not x:
                        value[i] = new
    return node


class _Replace(gast.NodeTransformer):
    """Every read of `tmp` becomes `value` (the one node, wherever `tmp` is read)."""

    def __init__(self, tmp: str, value: Any) -> None:
        self.tmp = tmp
        self.value = value

    def visit(self, node: Any) -> Any:
        """`NodeTransformer.visit`, for a pass that only replaces names by nodes (faster: no
        method looked up by name, fields set again only where their node was replaced)."""
        cls = node.__class__
        if cls is gast.Name:
            return self.visit_Name(node)
        if cls is gast.Constant:
            return node
        return _visit_fields(self.visit, node)

    def visit_Name(self, node: gast.Name) -> Any:
        if node.id == self.tmp and isinstance(node.ctx, gast.Load):
            return self.value
        return node


class _ReplaceByNumber(_Replace):
    """Every read of `tmp` becomes the number `value`, but where a number cannot stand:
    `tmp[i]`, `tmp.attr` and `tmp(...)` keep the name (`1.0[i]` is a SyntaxWarning; where
    `tmp` is a number such a line never runs, the primal's own `x[i]` raising first)."""

    def visit(self, node: Any) -> Any:
        cls = node.__class__
        if cls in (gast.Subscript, gast.Attribute, gast.Call):
            base = "func" if cls is gast.Call else "value"
            held = getattr(node, base)
            if held.__class__ is gast.Name and held.id == self.tmp:
                return _visit_fields(self.visit, node, skip=base)
        return super().visit(node)


def _dead_code(fn: Any, pure_calls: set[str]) -> bool:
    """Remove pure assignments to generated names whose value is never read afterwards
    (liveness over the structured body: branches join, loops iterate to a fixpoint)."""
    removed = [False]
    # Statements are only taken out of their lists here, never changed: what a node reads,
    # stores and whether a loop jumps is found once (loops are walked until their liveness
    # settles). The memos hold the nodes, so that no id is reused meanwhile.
    memo: dict[int, tuple[Any, set[str]]] = {}  # id(node) -> (node, the names it reads)
    stored: dict[int, tuple[Any, set[str]]] = {}  # id(node) -> (node, the names it stores)
    jumps: dict[int, tuple[Any, bool]] = {}  # id(loop) -> (loop, it holds a break/continue)

    def loads(node: Any) -> set[str]:
        """The names `node` reads (shared: not to be changed)."""
        if node is None:
            return set()
        found = memo.get(id(node))
        if found is None:
            found = memo[id(node)] = (node, _loads(node))
        return found[1]

    def stores(node: Any) -> set[str]:
        """The names `node` assigns (shared: not to be changed)."""
        found = stored.get(id(node))
        if found is None:
            found = stored[id(node)] = (node, _stored(node))
        return found[1]

    def block(stmts: list, live: set[str], remove: bool) -> set[str]:
        """`live`: a set of the caller's to update (what is live after `stmts`)."""
        keep = []
        for s in reversed(stmts):
            live, dead = stmt(s, live, remove)
            if dead and remove:
                removed[0] = True
                continue
            keep.append(s)
        if remove:
            stmts[:] = list(reversed(keep))
        return live

    def loop(s: Any, live_out: set[str], remove: bool) -> set[str]:
        head = loads(s.iter) if isinstance(s, gast.For) else loads(s.test)
        jump = jumps.get(id(s))
        if jump is None:
            jump = jumps[id(s)] = (
                s,
                any(isinstance(n, (gast.Break, gast.Continue)) for n in statements(s)),
            )
        if jump[1]:
            return live_out | head | loads(s)  # keep it simple where control jumps
        live_in: set[str] = set()
        while True:
            after_body = live_out | live_in | head
            new = block(s.body, set(after_body), False)
            if new <= live_in:
                break
            live_in |= new
        block(s.body, live_out | live_in | head, remove)
        return live_out | live_in | head

    def stmt(s: Any, live: set[str], remove: bool) -> tuple[set[str], bool]:
        if isinstance(s, gast.Return):
            return set(loads(s.value)), False
        if isinstance(s, gast.If):
            a = block(s.body, set(live), remove)
            b = block(s.orelse, set(live), remove)
            empty = all(_is_comment(x) or isinstance(x, gast.Pass) for x in s.body + s.orelse)
            if empty and _is_pure(s.test, pure_calls):
                return live, True
            return a | b | loads(s.test), False
        if isinstance(s, (gast.For, gast.While)):
            return loop(s, live, remove), False
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
            t = s.targets[0].id
            if t not in live and _removable(t) and _is_pure(s.value, pure_calls):
                return live, True
            live.discard(t)
            live |= loads(s.value)
            return live, False
        if isinstance(s, gast.AugAssign):
            live |= loads(s)
            live |= stores(s)
            return live, False
        live -= stores(s)
        live |= loads(s)
        return live, False

    block(fn.body, set(), True)
    return removed[0]


def _removable(name: str) -> bool:
    """A name s2s made: a temporary, an adjoint, a tangent, or the return value of a function
    with early returns (`_result`: dead in a forward-mode gradient, which returns the tangent
    only)."""
    return (
        is_temporary(name)
        or name.startswith(("d_", "t_"))
        or bool(re.match(r"^d_?\d+$", name))
        or name == "_result"
    )


def _is_push(s: Any) -> bool:
    """`tape.append(v)`."""
    return (
        isinstance(s, gast.Expr)
        and isinstance(s.value, gast.Call)
        and isinstance(s.value.func, gast.Attribute)
        and s.value.func.attr == "append"
        and isinstance(s.value.func.value, gast.Name)
        and s.value.func.value.id.startswith("tape")
    )


def _is_const(node: Any, value: float) -> bool:
    return (
        isinstance(node, gast.Constant) and type(node.value) in (int, float) and node.value == value
    )


def _is_neg(node: Any) -> bool:
    return isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub)


#: node classes with no node inside (a `Name` may hold an annotation)
_LEAVES = frozenset((gast.Constant, gast.Load, gast.Store, gast.Del))


class _Folder(gast.NodeTransformer):
    changed = False

    def visit(self, node: Any) -> Any:
        cls = node.__class__
        if cls is gast.BinOp:
            return self.visit_BinOp(node)
        if cls is gast.UnaryOp:
            return self.visit_UnaryOp(node)
        if cls in _LEAVES or (cls is gast.Name and node.annotation is None):
            return node  # nothing inside to fold
        return self.generic_visit(node)

    def generic_visit(self, node: Any) -> Any:
        """`NodeTransformer.generic_visit` for a pass that only replaces nodes (faster): a
        field is set again only where its node was replaced."""
        return _visit_fields(self.visit, node)

    def visit_BinOp(self, node: gast.BinOp) -> Any:
        self.generic_visit(node)
        if isinstance(node.op, gast.Mult):
            if _is_const(node.left, 1.0) and isinstance(node.left.value, float):
                self.changed = True
                return node.right
            if _is_const(node.right, 1.0) and isinstance(node.right.value, float):
                self.changed = True
                return node.left
        if isinstance(node.op, gast.Mult) and (_is_sub(node.left) or _is_sub(node.right)):
            # -k * (a - b) is k * (b - a) (exactly: a - b is -(b - a), rounded alike)
            sub, other = (node.right, "left") if _is_sub(node.right) else (node.left, "right")
            positive = _without_sign(getattr(node, other))
            if positive is not None:
                self.changed = True
                setattr(node, other, positive)
                sub.left, sub.right = sub.right, sub.left
                return node
        if isinstance(node.op, (gast.Add, gast.Sub)):
            positive = _without_sign(node.right)
            if positive is not None:
                # a + -b * c is a - b * c, a - -b is a + b (exactly), one pass fewer
                self.changed = True
                node.op = gast.Sub() if isinstance(node.op, gast.Add) else gast.Add()
                node.right = positive
                return node
        if isinstance(node.op, gast.Div) and _is_const(node.right, 1.0):
            self.changed = True
            return node.left
        if isinstance(node.op, gast.Pow) and _is_const(node.right, 1):
            self.changed = True
            return node.left
        if (
            isinstance(node.left, gast.Constant)
            and isinstance(node.right, gast.Constant)
            and type(node.left.value) is int
            and type(node.right.value) is int
            and isinstance(node.op, (gast.Add, gast.Sub))
        ):
            self.changed = True
            value = (
                node.left.value + node.right.value
                if isinstance(node.op, gast.Add)
                else node.left.value - node.right.value
            )
            return gast.Constant(value=value, kind=None)
        return node

    def visit_UnaryOp(self, node: gast.UnaryOp) -> Any:
        self.generic_visit(node)
        if not isinstance(node.op, gast.USub):
            return node
        # -(-a * b / c): the two negations cancel (exactly: a sign flip rounds nothing)
        positive = _without_sign(node.operand)
        if positive is not None:
            self.changed = True
            return positive
        # -(a * b / c) is -a * b / c: the sign goes to the first factor (a number, often)
        first = _first_factor_of(node.operand)
        if first is not None and isinstance(first.left, gast.Name | gast.Constant):
            first.left = gast.UnaryOp(op=gast.USub(), operand=first.left)
            self.changed = True
            return node.operand
        return node


def _is_sub(e: Any) -> bool:
    return isinstance(e, gast.BinOp) and isinstance(e.op, gast.Sub)


def _first_factor_of(e: Any) -> Any:
    """The innermost product or quotient of the chain `e` (`a * b / c`): its `.left` is the
    chain's first factor. None when `e` is no product or quotient."""
    if not (isinstance(e, gast.BinOp) and isinstance(e.op, (gast.Mult, gast.Div))):
        return None
    while isinstance(e.left, gast.BinOp) and isinstance(e.left.op, (gast.Mult, gast.Div)):
        e = e.left
    return e


def _without_sign(e: Any) -> Any:
    """`-e` without a negation, when `e` is `-a` or a product or quotient whose first factor
    is `-a` (that factor loses its sign, in place); else None."""
    if _is_neg(e):
        return e.operand
    first = _first_factor_of(e)
    if first is not None and _is_neg(first.left):
        first.left = first.left.operand
        return e
    return None


def _fold(fn: Any) -> bool:
    """Fold generated arithmetic; the user's own statements are left exactly as written
    (`a = x * 1.0` makes a copy that a later `a[i] = ...` relies on)."""
    f = _Folder()
    for block in _blocks(fn):
        for s in block:
            if isinstance(s, (gast.If, gast.While)):
                s.test = f.visit(s.test)
            elif isinstance(s, gast.For):
                s.iter = f.visit(s.iter)
            elif not getattr(s, "s2s_primal", False):
                f.visit(s)
    return f.changed
