"""Runtime helpers that the op library's templates call (see adjoints/).

Each is a small function of the adjoint (or tangent) and the op's operands. Like the core helpers
in runtime.py they are written against NumPy's dispatching function API only (np.* functions
and array methods, arrays created from existing ones with *_like), so that the same generated
code runs on CuPy arrays.
"""

from __future__ import annotations

import numbers
import string
from typing import Any

import numpy as np

from .namespace import namespace_of

# -- small utilities ---------------------------------------------------------------------------


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, numbers.Integral):
        axis = (axis,)
    return tuple(a % ndim for a in axis) if ndim else ()


def _mT(a: Any) -> Any:
    return np.swapaxes(a, -1, -2)


def _is_zero(g: Any) -> bool:
    return type(g) in (float, int) and g == 0


def _array_like(g: Any, like: Any) -> Any:
    """A Python-number adjoint as a 0-d array of `like`'s kind (for shape functions)."""
    if hasattr(g, "shape"):
        return g
    from .runtime import scalar_like

    return scalar_like(like, g)


def scatter_add(out: Any, index: Any, g: Any) -> None:
    """`out[index] += g` in place, repeated indices adding up, by `out`'s backend (on CuPy,
    `np.add.at` refuses a tuple of indices through NumPy's dispatch)."""
    namespace_of(out).scatter_add(out, index, g)


def _or_zeros(g: Any, like: Any) -> Any:
    """An adjoint that may be the scalar 0.0 (a part of a tuple result nobody used)."""
    return np.zeros_like(like) if _is_zero(g) else g


# -- elementwise -------------------------------------------------------------------------------


def sinc_derivative(x: Any, y: Any) -> Any:
    """d/dx sinc(x) = (cos(pi x) - sinc(x)) / x, and 0 at x == 0."""
    safe = np.where(x == 0, 1.0, x)
    return np.where(x == 0, 0.0, (np.cos(np.pi * x) - y) / safe)


def clip_mask(a: Any, a_min: Any, a_max: Any, closed: bool = True) -> Any:
    """Where a_min <= a <= a_max (closed) or a_min < a < a_max: where np.clip passes `a`
    through; a bound of None is no bound."""
    inside = np.ones_like(a, dtype=bool)
    if a_min is not None:
        inside = inside & ((a >= a_min) if closed else (a > a_min))
    if a_max is not None:
        inside = inside & ((a <= a_max) if closed else (a < a_max))
    return inside


# -- reductions --------------------------------------------------------------------------------


def reverse_cumsum(g: Any, a: Any, axis: Any = None) -> Any:
    """Adjoint of np.cumsum(a, axis): the cumulative sum from the end."""
    if axis is None:
        g = np.ravel(g)
        return np.reshape(np.flip(np.cumsum(np.flip(g)), 0), np.shape(a))
    return np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis)


def average_grad(g: Any, a: Any, axis: Any, weights: Any, keepdims: bool) -> Any:
    """Adjoint of `a` in np.average(a, axis, weights)."""
    from .runtime import reduction_count, unreduce

    if weights is None:
        return unreduce(g, a, axis, keepdims) / reduction_count(a, axis)
    w = _weights_like(weights, a, axis)
    return unreduce(g, a, axis, keepdims) * w / np.sum(w, axis=axis, keepdims=True)


def average_weights_grad(g: Any, y: Any, a: Any, axis: Any, weights: Any, keepdims: bool) -> Any:
    """Adjoint of `weights` in np.average(a, axis, weights)."""
    from .runtime import unbroadcast, unreduce

    w = _weights_like(weights, a, axis)
    total = np.sum(w, axis=axis, keepdims=True)
    gw = unreduce(g, a, axis, keepdims) * (a - unreduce(y, a, axis, keepdims)) / total
    if np.ndim(weights) == np.ndim(a):
        return unbroadcast(gw, weights)
    other = tuple(i for i in range(np.ndim(a)) if i != axis % np.ndim(a))
    return np.sum(gw, axis=other)


def average_tangent(
    da: Any, dw: Any, y: Any, a: Any, axis: Any, weights: Any, keepdims: bool
) -> Any:
    """Tangent of np.average(a, axis, weights)."""
    from .runtime import unreduce

    out = np.average(da, axis=axis, weights=weights, keepdims=keepdims)
    if weights is None or _is_zero(dw):
        return out
    w = _weights_like(weights, a, axis)
    dw = _weights_like(dw, a, axis)
    centered = a - unreduce(y, a, axis, keepdims)
    total = np.sum(np.broadcast_to(w, np.shape(a)), axis=axis, keepdims=keepdims)
    return out + np.sum(centered * dw, axis=axis, keepdims=keepdims) / total


def _weights_like(weights: Any, a: Any, axis: Any) -> Any:
    """1-D weights along `axis` reshaped to broadcast against `a`."""
    if np.ndim(weights) == np.ndim(a):
        return weights
    shape = [1] * np.ndim(a)
    shape[axis % np.ndim(a)] = np.shape(weights)[0]
    return np.reshape(weights, tuple(shape))


def diff_grad(g: Any, n: int = 1, axis: int = -1) -> Any:
    """Adjoint of np.diff(a, n, axis): minus the difference with zero padding, n times."""
    for _ in range(n):
        g = -np.diff(g, axis=axis, prepend=0.0, append=0.0)
    return g


def nan_mask(a: Any) -> Any:
    """1.0 where `a` is a number, 0.0 where it is NaN (what np.nansum and np.nanmean skip)."""
    return ~np.isnan(a)


# -- shape and assembly ------------------------------------------------------------------------


def rollaxis_grad(g: Any, a: Any, axis: int, start: int = 0) -> Any:
    """Adjoint of np.rollaxis(a, axis, start)."""
    n = np.ndim(a)
    axis = axis % n
    start = start % (n + 1) if start < 0 else start
    dest = start - 1 if axis < start else start
    return np.moveaxis(g, dest, axis)


def unsplit(g: Any, pieces: Any, axis: int) -> Any:
    """Adjoint of np.split and friends: the pieces' adjoints joined back along `axis`."""
    return np.concatenate([_or_zeros(gi, p) for gi, p in zip(g, pieces, strict=True)], axis=axis)


def unstack_like(g: Any, arrays: Any, axis: int, ndmin: int = 1) -> list:
    """Adjoint of concatenating `arrays` along `axis` after np.atleast_<ndmin>d-style promotion
    (np.hstack, np.vstack, np.dstack, np.column_stack): each input's slice, in its own shape."""
    out = []
    start = 0
    for x in arrays:
        n = _promoted_shape(np.shape(x), ndmin, axis)[axis]
        idx = [slice(None)] * np.ndim(g)
        idx[axis] = slice(start, start + n)
        out.append(np.reshape(g[tuple(idx)], np.shape(x)))
        start += n
    return out


def _promoted_shape(shape: tuple, ndmin: int, axis: int) -> tuple:
    if ndmin == -1:  # column_stack: 1-D arrays become columns
        return (shape[0], 1) if len(shape) == 1 else shape
    if len(shape) >= ndmin:
        return shape
    if ndmin == 2:
        return (1,) * (2 - len(shape)) + shape
    # ndmin == 3: like np.atleast_3d
    if len(shape) == 0:
        return (1, 1, 1)
    if len(shape) == 1:
        return (1, shape[0], 1)
    return shape + (1,)


def hstack_grad(g: Any, tup: Any) -> list:
    axis = 0 if np.ndim(g) == 1 else 1
    return unstack_like(g, tup, axis, 1)


def vstack_grad(g: Any, tup: Any) -> list:
    return unstack_like(g, tup, 0, 2)


def dstack_grad(g: Any, tup: Any) -> list:
    return unstack_like(g, tup, 2, 3)


def column_stack_grad(g: Any, tup: Any) -> list:
    return unstack_like(g, tup, 1, -1)


def append_grad(g: Any, arr: Any, values: Any, axis: Any, which: int) -> Any:
    """Adjoint of `arr` (which=0) or `values` (which=1) in np.append(arr, values, axis)."""
    x = (arr, values)[which]
    if axis is None:
        flat = np.ravel(g)
        n = int(np.size(arr))
        part = flat[:n] if which == 0 else flat[n:]
        return np.reshape(part, np.shape(x))
    n = np.shape(arr)[axis]
    k = np.shape(g)[axis]
    return _take(g, axis, 0, n) if which == 0 else _take(g, axis, n, k)


def tile_grad(g: Any, a: Any, reps: Any) -> Any:
    """Adjoint of np.tile(a, reps): the sum of the tiles."""
    reps = (reps,) if isinstance(reps, numbers.Integral) else tuple(reps)
    shape = np.shape(a)
    n = max(len(shape), len(reps))
    shape_n = (1,) * (n - len(shape)) + tuple(shape)
    reps_n = (1,) * (n - len(reps)) + reps
    interleaved = []
    for r, s in zip(reps_n, shape_n, strict=True):
        interleaved += [r, s]
    g = np.reshape(g, tuple(interleaved))
    g = np.sum(g, axis=tuple(range(0, 2 * n, 2)))
    return np.reshape(g, shape)


def repeat_grad(g: Any, a: Any, repeats: Any, axis: Any = None) -> Any:
    """Adjoint of np.repeat(a, repeats, axis): each element gets the sum over its copies."""
    shape = np.shape(a)
    if axis is None:
        flat_shape = (int(np.prod(shape)),)
        return np.reshape(repeat_grad(g, np.reshape(a, flat_shape), repeats, 0), shape)
    axis = axis % len(shape)
    if isinstance(repeats, numbers.Integral) or np.ndim(repeats) == 0:
        r = int(repeats)
        new = shape[:axis] + (shape[axis], r) + shape[axis + 1 :]
        return np.sum(np.reshape(g, new), axis=axis + 1)
    # per-element counts: differences of the running sum at each element's last copy
    ends = [int(e) for e in np.cumsum(repeats)]
    starts = [0] + ends[:-1]
    zero = np.zeros_like(np.take(g, [0], axis=axis))
    running = np.concatenate([zero, np.cumsum(g, axis=axis)], axis=axis)
    return np.take(running, ends, axis=axis) - np.take(running, starts, axis=axis)


def unroll(g: Any, shift: Any, axis: Any = None) -> Any:
    """Adjoint of np.roll(a, shift, axis): roll back."""
    back = -shift if isinstance(shift, numbers.Integral) else tuple(-s for s in shift)
    return np.roll(g, back, axis)


def _pad_widths(pad_width: Any, ndim: int) -> list[tuple[int, int]]:
    if isinstance(pad_width, numbers.Integral):
        return [(int(pad_width), int(pad_width))] * ndim
    pw = list(pad_width)
    if pw and isinstance(pw[0], numbers.Integral):
        if len(pw) == 1:
            return [(int(pw[0]), int(pw[0]))] * ndim
        return [(int(pw[0]), int(pw[1]))] * ndim
    if len(pw) == 1:
        return [tuple(int(v) for v in pw[0])] * ndim  # type: ignore[misc]
    return [tuple(int(v) for v in p) for p in pw]  # type: ignore[misc]


def _take(g: Any, axis: int, start: int, stop: int | None, step: int = 1) -> Any:
    idx = [slice(None)] * np.ndim(g)
    idx[axis] = slice(start, stop, step)
    return g[tuple(idx)]


def pad_grad(g: Any, array: Any, pad_width: Any, mode: str = "constant") -> Any:
    """Adjoint of np.pad(array, pad_width, mode) for modes constant, edge, reflect, symmetric:
    axis by axis, fold each padded border back onto the entries it copies."""
    widths = _pad_widths(pad_width, np.ndim(array))
    for axis, (before, after) in enumerate(widths):
        n = np.shape(g)[axis] - before - after
        mid = _take(g, axis, before, before + n)
        if mode == "constant" or (before == 0 and after == 0):
            g = mid
            continue
        head = _take(g, axis, 0, before)
        tail = _take(g, axis, before + n, before + n + after)
        parts = [mid]
        if mode == "edge":
            add_first = np.sum(head, axis=axis, keepdims=True)
            add_last = np.sum(tail, axis=axis, keepdims=True)
            mid = mid + _edge_vector(mid, axis, add_first, add_last)
            g = mid
            continue
        if mode in ("reflect", "symmetric"):
            skip = 1 if mode == "reflect" else 0
            if before + skip > n or after + skip > n:
                raise NotImplementedError(
                    f"s2s: the adjoint of np.pad(mode={mode!r}) supports pad widths up to the "
                    "axis length"
                )
            # head[i] copies mid[before - i - 1 + skip]; tail[i] copies mid[n - 1 - skip - i]
            lead = np.flip(head, axis)
            trail = np.flip(tail, axis)
            zeros = np.zeros_like(mid)
            parts = [mid]
            if before:
                parts.append(_place(zeros, lead, axis, skip))
            if after:
                parts.append(_place(zeros, trail, axis, n - after - skip))
            g = sum(parts[1:], parts[0])
            continue
        raise NotImplementedError(f"s2s: no adjoint for np.pad(mode={mode!r})")
    return g


def _edge_vector(mid: Any, axis: int, first: Any, last: Any) -> Any:
    zeros = np.zeros_like(mid)
    n = np.shape(mid)[axis]
    out = _place(zeros, first, axis, 0)
    return out + _place(zeros, last, axis, n - 1)


def _place(zeros: Any, block: Any, axis: int, start: int) -> Any:
    """`zeros` with `block` added at offset `start` along `axis`."""
    n = np.shape(zeros)[axis]
    k = np.shape(block)[axis]
    widths = [(0, 0)] * np.ndim(zeros)
    widths[axis] = (start, n - start - k)
    return np.pad(block, widths)


def pad_constant_grad(g: Any, array: Any, pad_width: Any) -> Any:
    """Adjoint of a scalar `constant_values` in np.pad: the sum over the padding."""
    return np.sum(g) - np.sum(pad_grad(g, array, pad_width, "constant"))


def diagonal_grad(g: Any, a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """Adjoint of np.diagonal(a, offset, axis1, axis2): `g` placed on that diagonal."""
    nd = np.ndim(a)
    axis1, axis2 = axis1 % nd, axis2 % nd
    out = np.moveaxis(np.zeros_like(a), (axis1, axis2), (-2, -1))
    k = np.shape(g)[-1]
    i = list(range(max(0, -offset), max(0, -offset) + k))
    j = list(range(max(0, offset), max(0, offset) + k))
    if k:
        out[..., i, j] = g
    return np.moveaxis(out, (-2, -1), (axis1, axis2))


def diag_grad(g: Any, v: Any, k: int = 0) -> Any:
    """Adjoint of np.diag(v, k): the k-th diagonal of `g` for a 1-D `v`, `g` placed on the k-th
    diagonal for a 2-D `v`."""
    if np.ndim(v) == 1:
        return np.diagonal(g, k)
    return diagonal_grad(g, v, k)


def trace_grad(g: Any, a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """Adjoint of np.trace(a, offset, axis1, axis2)."""
    d = np.diagonal(a, offset, axis1, axis2)
    g = np.expand_dims(_array_like(g, a), -1)
    return diagonal_grad(np.broadcast_to(g, np.shape(d)), a, offset, axis1, axis2)


def take_grad(g: Any, a: Any, indices: Any, axis: Any = None) -> Any:
    """Adjoint of np.take(a, indices, axis): `g` added back at the indices (repeats add up)."""
    if axis is None:
        flat = np.zeros_like(np.ravel(a))
        scatter_add(flat, np.ravel(indices), np.ravel(g))
        return np.reshape(flat, np.shape(a))
    axis = axis % np.ndim(a)
    out = np.zeros_like(a)
    index = (slice(None),) * axis + (indices,)
    scatter_add(out, index, g)
    return out


def take_along_axis_grad(g: Any, arr: Any, indices: Any, axis: Any) -> Any:
    """Adjoint of np.take_along_axis(arr, indices, axis) (repeated indices add up)."""
    if axis is None:
        return np.reshape(take_grad(g, np.ravel(arr), indices, 0), np.shape(arr))
    nd = np.ndim(arr)
    axis = axis % nd
    out = np.zeros_like(arr)
    shape = np.shape(indices)
    index = []
    for i in range(nd):
        if i == axis:
            index.append(indices)
        else:
            s = [1] * nd
            s[i] = shape[i]
            index.append(np.reshape(np.arange(shape[i]), tuple(s)))
    scatter_add(out, tuple(index), np.broadcast_to(g, shape))
    return out


def unpermute(g: Any, order: Any, a: Any, axis: Any = -1) -> Any:
    """Adjoint of `a` sorted (or partitioned) by `order` along `axis`: put `g` back where each
    value came from."""
    if axis is None:
        out = np.zeros_like(np.ravel(a))
        np.put_along_axis(out, order, g, 0)
        return np.reshape(out, np.shape(a))
    out = np.zeros_like(a)
    np.put_along_axis(out, order, g, axis)
    return out


def permute_like(da: Any, order: Any, axis: Any = -1) -> Any:
    """The tangent of sorting (or partitioning) by `order` along `axis`."""
    if axis is None:
        return np.take_along_axis(np.ravel(da), order, 0)
    return np.take_along_axis(da, order, axis)


def select_grad(g: Any, condlist: Any, choicelist: Any) -> list:
    """Adjoints of the choices in np.select(condlist, choicelist, default)."""
    from .runtime import unbroadcast

    out = []
    taken = None
    for cond, choice in zip(condlist, choicelist, strict=True):
        mask = cond if taken is None else cond & ~taken
        out.append(unbroadcast(np.where(mask, g, 0.0), choice))
        taken = cond if taken is None else taken | cond
    return out


def select_default_grad(g: Any, condlist: Any, default: Any) -> Any:
    from .runtime import unbroadcast

    taken = condlist[0]
    for cond in condlist[1:]:
        taken = taken | cond
    return unbroadcast(np.where(taken, 0.0, g), default)


# -- products ----------------------------------------------------------------------------------


def inner_grad(g: Any, a: Any, b: Any) -> Any:
    """Adjoint of `a` in np.inner(a, b) (use inner_grad(g_T, b, a) for `b`, see the template)."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        from .runtime import unbroadcast

        return unbroadcast(g * b, a)
    na = np.ndim(a) - 1
    nb = np.ndim(b) - 1
    # g has axes a.shape[:-1] + b.shape[:-1]; contract b's leading axes (CuPy's tensordot
    # takes arrays only: a Python-number g, of two vectors' product, is made one)
    return np.tensordot(_array_like(g, b), b, axes=(tuple(range(na, na + nb)), tuple(range(nb))))


def inner_grad_b(g: Any, a: Any, b: Any) -> Any:
    """Adjoint of `b` in np.inner(a, b)."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        from .runtime import unbroadcast

        return unbroadcast(g * a, b)
    na = np.ndim(a) - 1
    return np.tensordot(_array_like(g, a), a, axes=(tuple(range(na)), tuple(range(na))))


def _tensordot_axes(axes: Any, na: int) -> tuple[list[int], list[int]]:
    if isinstance(axes, numbers.Integral):
        return list(range(na - axes, na)), list(range(axes))
    ax, bx = axes
    ax = [ax] if isinstance(ax, numbers.Integral) else list(ax)
    bx = [bx] if isinstance(bx, numbers.Integral) else list(bx)
    return ax, bx


def tensordot_grad_a(g: Any, a: Any, b: Any, axes: Any = 2) -> Any:
    """Adjoint of `a` in np.tensordot(a, b, axes)."""
    na, nb = np.ndim(a), np.ndim(b)
    ax, bx = _tensordot_axes(axes, na)
    ax = [i % na for i in ax]
    bx = [i % nb for i in bx]
    free_a = [i for i in range(na) if i not in ax]
    free_b = [i for i in range(nb) if i not in bx]
    k = len(free_a)
    # g's axes: free_a then free_b; contract g's free_b part with b's free axes
    r = np.tensordot(g, b, axes=(list(range(k, k + len(free_b))), free_b))
    # r's axes: free_a then b's contracted axes in the order bx is listed in b (sorted)
    bx_sorted = sorted(bx)
    placed = free_a + [ax[bx.index(j)] for j in bx_sorted]
    return np.transpose(r, np.argsort(placed))


def tensordot_grad_b(g: Any, a: Any, b: Any, axes: Any = 2) -> Any:
    """Adjoint of `b` in np.tensordot(a, b, axes)."""
    na, nb = np.ndim(a), np.ndim(b)
    ax, bx = _tensordot_axes(axes, na)
    ax = [i % na for i in ax]
    bx = [i % nb for i in bx]
    free_a = [i for i in range(na) if i not in ax]
    free_b = [i for i in range(nb) if i not in bx]
    k = len(free_a)
    r = np.tensordot(a, g, axes=(free_a, list(range(k))))
    # r's axes: a's contracted axes (in a's order) then free_b
    ax_sorted = sorted(ax)
    placed = [bx[ax.index(i)] for i in ax_sorted] + free_b
    return np.transpose(r, np.argsort(placed))


def _einsum_parse(subscripts: str, shapes: list[tuple]) -> tuple[list[str], str]:
    """Explicit form of an einsum spec: one letter string per operand and the output, with
    '...' replaced by unused letters."""
    spec = subscripts.replace(" ", "")
    if "->" in spec:
        ins, out = spec.split("->")
    else:
        ins, out = spec, None
    inputs = ins.split(",")
    used = set(spec) - set(".,->")
    spare = [c for c in string.ascii_letters if c not in used]
    nell = max(
        (
            len(sh) - len(t.replace("...", ""))
            for t, sh in zip(inputs, shapes, strict=True)
            if "..." in t
        ),
        default=0,
    )
    ell = "".join(spare[:nell])
    res = []
    for t, sh in zip(inputs, shapes, strict=True):
        if "..." in t:
            k = len(sh) - len(t.replace("...", ""))
            t = t.replace("...", ell[nell - k :] if k else "")
        res.append(t)
    if out is None:
        counts: dict[str, int] = {}
        for t in res:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return res, out


def einsum_grad(g: Any, subscripts: str, i: int, *operands: Any) -> Any:
    """Adjoint of operand `i` of np.einsum(subscripts, *operands): any subscripts, with repeated
    indices (diagonals), indices summed in one operand only, and '...'."""
    from .runtime import unbroadcast

    ops = [o for o in operands if o is not None]
    shapes = [np.shape(o) for o in ops]
    ins, out = _einsum_parse(subscripts, shapes)
    target = ins[i]
    x = ops[i]
    size: dict[str, int] = {}
    for t, sh in zip(ins, shapes, strict=True):
        for c, n in zip(t, sh, strict=True):
            if n != 1 or c not in size:
                size[c] = n
    # letters of operand i where it broadcasts (size 1 against a larger size) are renamed
    spare = iter(c for c in string.ascii_letters if c not in "".join(ins) + out)
    own = ""
    for c, n in zip(target, np.shape(x), strict=True):
        own += next(spare) if n == 1 and size[c] != 1 else c
    unique = "".join(dict.fromkeys(own))
    others = [t for j, t in enumerate(ins) if j != i]
    avail = set(out).union(*others) if others else set(out)
    keep = "".join(c for c in unique if c in avail)
    operand_list = [g] + [o for j, o in enumerate(ops) if j != i]
    r = np.einsum(",".join([out] + others) + "->" + keep, *operand_list)
    # letters only in operand i: broadcast
    full_shape = []
    for c in unique:
        full_shape.append(np.shape(x)[own.index(c)])
    expand = tuple(k for k, c in enumerate(unique) if c not in avail)
    if expand:
        r = np.broadcast_to(np.expand_dims(r, expand), tuple(full_shape))
    if len(unique) == len(own):
        return unbroadcast(np.einsum(unique + "->" + own, r), x)
    grad = np.zeros_like(x)
    view = np.einsum(own + "->" + unique, grad)
    view[...] = r
    return grad


def einsum_tangent(subscripts: str, operands: tuple, tangents: tuple) -> Any:
    """Tangent of np.einsum: the sum over operands of einsum with that operand's tangent."""
    ops = [o for o in operands if o is not None]
    out = 0.0
    for i, t in enumerate(tangents[: len(ops)]):
        if _is_zero(t) or t is None:
            continue
        out = out + np.einsum(subscripts, *(ops[:i] + [t] + ops[i + 1 :]))
    return out


def kron_grad(g: Any, a: Any, b: Any, which: int) -> Any:
    """Adjoint of `a` (which=0) or `b` (which=1) in np.kron(a, b)."""
    n = max(np.ndim(a), np.ndim(b))
    sa = (1,) * (n - np.ndim(a)) + tuple(np.shape(a))
    sb = (1,) * (n - np.ndim(b)) + tuple(np.shape(b))
    inter = []
    for p, q in zip(sa, sb, strict=True):
        inter += [p, q]
    g4 = np.reshape(g, tuple(inter))
    if which == 0:
        b4 = np.reshape(b, tuple(v for q in sb for v in (1, q)))
        r = np.sum(g4 * b4, axis=tuple(range(1, 2 * n, 2)))
        return np.reshape(r, np.shape(a))
    a4 = np.reshape(a, tuple(v for p in sa for v in (p, 1)))
    r = np.sum(g4 * a4, axis=tuple(range(0, 2 * n, 2)))
    return np.reshape(r, np.shape(b))


def cross_grad(
    g: Any,
    a: Any,
    b: Any,
    which: int,
    axisa: int = -1,
    axisb: int = -1,
    axisc: int = -1,
    axis: Any = None,
) -> Any:
    """Adjoint of `a` (which=0) or `b` (which=1) in np.cross(a, b, ...): b x g and g x a."""
    from .runtime import unbroadcast

    if axis is not None:
        axisa = axisb = axisc = axis
    a3 = np.moveaxis(a, axisa, -1)
    b3 = np.moveaxis(b, axisb, -1)
    na, nb = np.shape(a3)[-1], np.shape(b3)[-1]
    a3, b3 = _to3(a3), _to3(b3)
    if na == 2 and nb == 2:
        z = np.zeros_like(np.expand_dims(g, -1))
        g3 = np.concatenate([z, z, np.expand_dims(g, -1)], axis=-1)
    else:
        g3 = np.moveaxis(g, axisc, -1)
    if which == 0:
        r = np.cross(b3, g3)[..., :na]
        return unbroadcast(np.moveaxis(r, -1, axisa), a)
    r = np.cross(g3, a3)[..., :nb]
    return unbroadcast(np.moveaxis(r, -1, axisb), b)


def _to3(v: Any) -> Any:
    if np.shape(v)[-1] == 3:
        return v
    return np.concatenate([v, np.zeros_like(v[..., :1])], axis=-1)


# -- linear algebra ----------------------------------------------------------------------------


def _eye_like(a: Any, n: int) -> Any:
    """An n-by-n identity with `a`'s array type and dtype."""
    z = np.zeros_like(a, shape=(n, n))
    return z + np.diag(np.ones_like(z[0]))


def solve_like(a: Any, rhs: Any, b: Any) -> Any:
    """np.linalg.solve(a, rhs) where `rhs` is shaped like the op's `b` (a vector when b is 1-D)."""
    if np.ndim(b) == 1 and np.ndim(rhs) > 1:
        return np.linalg.solve(a, rhs[..., None])[..., 0]
    return np.linalg.solve(a, rhs)


def matvec_like(m: Any, x: Any, b: Any) -> Any:
    """m @ x with `x` shaped like the result of solve(a, b)."""
    if np.ndim(b) == 1:
        return (m @ x[..., None])[..., 0]
    return m @ x


def outer_like(u: Any, v: Any, b: Any) -> Any:
    """u @ v^T for matrices, the outer product per batch for vectors (when `b` is 1-D)."""
    if np.ndim(b) == 1:
        return u[..., :, None] * v[..., None, :]
    return u @ _mT(v)


def cholesky_grad(L: Any, g: Any) -> Any:
    """Adjoint of a in L = cholesky(a) (symmetric)."""
    P = _phi(_mT(L) @ g)
    # a_bar = L^-T P L^-1, symmetrized
    X = np.linalg.solve(_mT(L), _mT(np.linalg.solve(_mT(L), _mT(P))))
    return 0.5 * (X + _mT(X))


def cholesky_tangent(L: Any, da: Any) -> Any:
    """Tangent of L = cholesky(a): L Phi(L^-1 da L^-T)."""
    X = np.linalg.solve(L, _mT(np.linalg.solve(L, da)))
    return L @ _phi(X)


def _phi(X: Any) -> Any:
    """The lower triangle with the diagonal halved."""
    return np.tril(X) - 0.5 * _diag_embed(np.diagonal(X, 0, -2, -1))


def _diag_embed(v: Any) -> Any:
    """Batched np.diag: vectors (..., n) to diagonal matrices (..., n, n)."""
    n = np.shape(v)[-1]
    out = np.zeros_like(v, shape=np.shape(v) + (n,))
    i = list(range(n))
    out[..., i, i] = v
    return out


def det_tangent(y: Any, a: Any, da: Any) -> Any:
    return y * np.trace(np.linalg.solve(a, da), axis1=-2, axis2=-1)


def qr_grad(q: Any, r: Any, gq: Any, gr: Any) -> Any:
    """Adjoint of a in (q, r) = qr(a), reduced form with m >= n."""
    gq = _or_zeros(gq, q)
    gr = _or_zeros(gr, r)
    M = r @ _mT(gr) - _mT(gq) @ q
    M = np.tril(M) + _mT(np.tril(M, -1))
    rhs = gq + q @ M
    # rhs @ r^-T
    return _mT(np.linalg.solve(r, _mT(rhs)))


def qr_tangent(q: Any, r: Any, da: Any) -> tuple:
    """Tangent of (q, r) = qr(a)."""
    # da R^-1
    dar = _mT(np.linalg.solve(_mT(r), _mT(da)))
    C = _mT(q) @ dar
    low = np.tril(C, -1)
    omega = low - _mT(low)
    dq = q @ omega + dar - q @ C
    dr = (C - omega) @ r
    return dq, dr


def _pair_F(w: Any) -> Any:
    """F[i, j] = 1 / (w[j] - w[i]) off the diagonal, 0 on it."""
    diff = w[..., None, :] - w[..., :, None]
    eye = _diag_embed(np.ones_like(w))
    return np.where(eye == 1, 0.0, 1.0 / np.where(eye == 1, 1.0, diff))


def eigh_grad(w: Any, v: Any, gw: Any, gv: Any) -> Any:
    """Adjoint of a in (w, v) = eigh(a) (distinct eigenvalues), symmetrized."""
    inner = _diag_embed(_or_zeros(gw, w))
    if not _is_zero(gv):
        inner = inner + _pair_F(w) * (_mT(v) @ gv)
    X = v @ inner @ _mT(v)
    return 0.5 * (X + _mT(X))


def eigh_tangent(w: Any, v: Any, da: Any) -> tuple:
    P = _mT(v) @ da @ v
    return np.diagonal(P, 0, -2, -1), v @ (_pair_F(w) * P)


def eigvalsh_grad(g: Any, a: Any) -> Any:
    w, v = np.linalg.eigh(a)
    return eigh_grad(w, v, g, 0.0)


def eigvalsh_tangent(a: Any, da: Any) -> Any:
    _, v = np.linalg.eigh(a)
    return np.diagonal(_mT(v) @ da @ v, 0, -2, -1)


def svd_grad(a: Any, y: Any, g: Any, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    """Adjoint of a in np.linalg.svd(a) (distinct, nonzero singular values)."""
    if not compute_uv:
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        gu, gs, gvh = 0.0, g, 0.0
    else:
        u, s, vh = y
        gu, gs, gvh = g
    m, n = np.shape(a)[-2:]
    k = min(m, n)
    u, vh = u[..., :, :k], vh[..., :k, :]
    if not _is_zero(gu):
        gu = gu[..., :, :k]
    if not _is_zero(gvh):
        gvh = gvh[..., :k, :]
    v = _mT(vh)
    inner = _diag_embed(_or_zeros(gs, s))
    S = _diag_embed(s)
    F = _pair_F(s * s)
    extra = 0.0
    if not _is_zero(gu):
        J = F * (_mT(u) @ gu)
        inner = inner + (J + _mT(J)) @ S
        if m > k:
            extra = extra + (gu - u @ (_mT(u) @ gu)) / s[..., None, :] @ vh
    if not _is_zero(gvh):
        gv = _mT(gvh)
        K = F * (_mT(v) @ gv)
        inner = inner + S @ (K + _mT(K))
        if n > k:
            extra = extra + u @ (_mT(gv - v @ (_mT(v) @ gv)) / s[..., :, None])
    return u @ inner @ vh + extra


def svd_tangent(a: Any, da: Any, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    """Tangent of np.linalg.svd(a) (reduced or square)."""
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    v = _mT(vh)
    dP = _mT(u) @ da @ v
    ds = np.diagonal(dP, 0, -2, -1)
    if not compute_uv:
        return ds
    m, n = np.shape(a)[-2:]
    if full_matrices and m != n:
        raise NotImplementedError(
            "s2s: the tangent of svd(full_matrices=True) needs a square "
            "matrix; pass full_matrices=False"
        )
    S = _diag_embed(s)
    F = _pair_F(s * s)
    du = u @ (F * (dP @ S + S @ _mT(dP))) + (da @ v - u @ dP) / s[..., None, :]
    dv = v @ (F * (S @ dP + _mT(dP) @ S)) + (_mT(da) @ u - v @ _mT(dP)) / s[..., None, :]
    return du, ds, _mT(dv)


def pinv_grad(p: Any, a: Any, g: Any) -> Any:
    """Adjoint of a in p = pinv(a) (full rank)."""
    pT = _mT(p)
    gT = _mT(g)
    out = -pT @ g @ pT
    out = out + (gT - a @ (p @ gT)) @ (p @ pT)
    out = out + (pT @ p) @ (gT - (gT @ p) @ a)
    return out


def pinv_tangent(p: Any, a: Any, da: Any) -> Any:
    daT = _mT(da)
    out = -p @ da @ p
    out = out + p @ _mT(p) @ (daT - daT @ a @ p)
    out = out + (daT - p @ (a @ daT)) @ _mT(p) @ p
    return out


def matrix_power_grad(g: Any, a: Any, n: int) -> Any:
    """Adjoint of a in np.linalg.matrix_power(a, n)."""
    if n == 0:
        return np.zeros_like(a)
    if n < 0:
        inv = np.linalg.inv(a)
        gi = matrix_power_grad(g, inv, -n)
        return -_mT(inv) @ gi @ _mT(inv)
    aT = _mT(a)
    powers = [None] * n
    powers[0] = _eye_like(a, np.shape(a)[-1])
    for k in range(1, n):
        powers[k] = powers[k - 1] @ aT
    out = np.zeros_like(a)
    for k in range(n):
        out = out + powers[k] @ g @ powers[n - 1 - k]
    return out


def matrix_power_tangent(a: Any, da: Any, n: int) -> Any:
    if n == 0:
        return np.zeros_like(a)
    if n < 0:
        inv = np.linalg.inv(a)
        return matrix_power_tangent(inv, -inv @ da @ inv, -n)
    out = np.zeros_like(a)
    for k in range(n):
        out = out + np.linalg.matrix_power(a, k) @ da @ np.linalg.matrix_power(a, n - 1 - k)
    return out


def lstsq_grad(g: Any, a: Any, b: Any, which: int) -> Any:
    """Adjoint of a (which=0) or b (which=1) in np.linalg.lstsq(a, b), through the solution
    and the residuals (full-rank a; the rank and singular values carry no gradient here)."""
    p = np.linalg.pinv(a)
    x = p @ b
    gx = _or_zeros(g[0], x)
    gres = g[1]
    r = a @ x - b
    with_res = not _is_zero(gres) and np.size(gres) > 0
    if which == 1:
        gb = _mT(p) @ gx
        return gb - 2.0 * r * gres if with_res else gb
    gp = outer_like(gx, b, b)
    ga = pinv_grad(p, a, gp)
    if with_res:
        ga = ga + 2.0 * outer_like(r * gres, x, b)
    return ga


def lstsq_tangent(y: Any, a: Any, b: Any, da: Any, db: Any) -> tuple:
    """Tangent of np.linalg.lstsq(a, b): (dx, dresiduals, 0, 0) for a full-rank a."""
    x, res, rank, s = y
    p = np.linalg.pinv(a)
    da = _or_zeros(da, a)
    db = _or_zeros(db, b)
    dx = pinv_tangent(p, a, da) @ b + p @ db
    r = a @ x - b
    if not np.size(res):
        return dx, res, 0, np.zeros_like(s)
    dres = np.reshape(np.sum(2.0 * r * (da @ x - db), axis=0), np.shape(res))
    return dx, dres, 0, np.zeros_like(s)


def norm_grad(
    g: Any, x: Any, y: Any, ord: Any = None, axis: Any = None, keepdims: bool = False
) -> Any:
    """Adjoint of x in np.linalg.norm(x, ord, axis, keepdims)."""
    from .runtime import extremum_grad, unreduce

    nd = np.ndim(x)
    if axis is None:
        axes = tuple(range(nd))
        matrix = nd == 2 and ord is not None
    else:
        axes = _axes(axis, nd)
        matrix = len(axes) == 2
    if ord in (None, "fro", "f") or (not matrix and ord == 2):
        return unreduce(g / y, x, axis, keepdims) * x
    if not matrix:
        if ord == 1:
            return unreduce(g, x, axis, keepdims) * np.sign(x)
        if ord in (np.inf, -np.inf):
            return extremum_grad(g, np.abs(x), y, axis, keepdims) * np.sign(x)
        if ord == 0:
            return np.zeros_like(x)
        p = float(ord)
        return unreduce(g / y ** (p - 1), x, axis, keepdims) * np.sign(x) * np.abs(x) ** (p - 1)
    r, c = axes
    xm = np.moveaxis(x, (r, c), (-2, -1))
    gm = unreduce(g, x, axes, keepdims)  # broadcast over the matrix axes
    gm = np.moveaxis(gm, (r, c), (-2, -1))[..., :1, :1][..., 0, 0]
    if ord in ("nuc", 2, -2):
        u, s, vh = np.linalg.svd(xm, full_matrices=False)
        if ord == "nuc":
            out = u @ vh
        else:
            k = 0 if ord == 2 else -1
            out = (
                u[..., :, k : k + 1 if k != -1 else None]
                @ vh[..., k : k + 1 if k != -1 else None, :]
            )
        out = out * gm[..., None, None]
    elif ord in (1, -1, np.inf, -np.inf):
        row_axis = -2 if ord in (1, -1) else -1  # sum over rows for 1 (column sums)
        sums = np.sum(np.abs(xm), axis=row_axis)
        ext = (
            np.max(sums, axis=-1, keepdims=True)
            if ord in (1, np.inf)
            else np.min(sums, axis=-1, keepdims=True)
        )
        mask = sums == ext
        share = mask / np.sum(mask, axis=-1, keepdims=True)
        share = np.expand_dims(share, row_axis)
        out = np.sign(xm) * share * gm[..., None, None]
    else:
        raise NotImplementedError(f"s2s: no adjoint for np.linalg.norm(ord={ord!r})")
    return np.moveaxis(out, (-2, -1), (r, c))


def norm_tangent(
    dx: Any, x: Any, y: Any, ord: Any = None, axis: Any = None, keepdims: bool = False
) -> Any:
    """Tangent of np.linalg.norm: <adjoint with cotangent 1, dx>, reduced over `axis`."""
    ones = np.ones_like(y)
    w = norm_grad(ones, x, y, ord, axis, keepdims)
    nd = np.ndim(x)
    axes = tuple(range(nd)) if axis is None else _axes(axis, nd)
    return np.sum(w * dx, axis=axes, keepdims=keepdims)


def expm_grad(a: Any, g: Any) -> Any:
    """Adjoint of a in scipy.linalg.expm(a): the Frechet derivative at a^T applied to g."""
    from scipy.linalg import expm_frechet

    return expm_frechet(_mT(a), g, compute_expm=False)


def expm_tangent(a: Any, da: Any) -> Any:
    from scipy.linalg import expm_frechet

    return expm_frechet(a, da, compute_expm=False)


# -- special functions (SciPy) -----------------------------------------------------------------


_HOST_NUMBERS = (np.ndarray, np.generic, float, int)

# Bernoulli numbers B2, B4, ..., B16: the asymptotic series of the polygamma functions
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)


def polygamma(n: int, x: Any) -> Any:
    """The polygamma function psi^(n)(x), n = 1 or 2, elementwise.

    NumPy arguments go to `scipy.special.polygamma`. Others (CuPy arrays) get the same function
    from ufuncs and arithmetic alone, on their device: scipy's polygamma would convert them to
    NumPy, and CuPy's lookup of scipy ufuncs by name finds no Hurwitz zeta. The recurrence
    psi^(n)(x) = psi^(n)(x + 10) + (-1)^(n+1) n! sum_k (x + k)^-(n+1) moves x up to where the
    asymptotic series, to B16, is exact to rounding; x <= 0 goes through the reflection
    formula, its sine taken of x - rint(x) (exact). Agrees with scipy to 3e-15 relative for
    x > 0, and for x < 0 to 3e-15 of the reflection formula's terms (tests/test_backends.py)."""
    if isinstance(x, _HOST_NUMBERS):
        from scipy.special import polygamma as sp_polygamma

        return sp_polygamma(n, x)
    if n not in (1, 2):
        raise NotImplementedError(f"s2s: polygamma of order {n} on device arrays")
    neg = x <= 0
    y = np.where(neg, 1.0 - x, x)
    sign = 1.0 if n == 1 else -2.0  # (-1)^(n+1) n!
    near = sign * sum(1.0 / (y + k) ** (n + 1) for k in range(10))
    z = y + 10.0
    if n == 1:
        far = 1.0 / z + 0.5 / z**2 + sum(b / z ** (2 * k + 3) for k, b in enumerate(_BERNOULLI))
    else:
        far = -1.0 / z**2 - 1.0 / z**3
        far = far - sum(b * (2 * k + 3) / z ** (2 * k + 4) for k, b in enumerate(_BERNOULLI))
    value = near + far
    r = x - np.rint(x)  # exact; sin^2(pi x) and cos(pi x) / sin^3(pi x) are 1-periodic
    s = np.sin(np.pi * r)
    if n == 1:  # psi1(x) + psi1(1 - x) = pi^2 / sin^2(pi x)
        return np.where(neg, np.pi**2 / (s * s) - value, value)
    # psi2(x) - psi2(1 - x) = -2 pi^3 cos(pi x) / sin^3(pi x)
    return np.where(neg, value - 2.0 * np.pi**3 * np.cos(np.pi * r) / (s * s * s), value)


def trigamma(x: Any) -> Any:
    return polygamma(1, x)


def digamma(x: Any) -> Any:
    from scipy.special import digamma as psi

    return psi(x)


def logsumexp_grad(
    g: Any, a: Any, y: Any, axis: Any = None, b: Any = None, keepdims: bool = False
) -> Any:
    """Adjoint of a in scipy.special.logsumexp(a, axis, b, keepdims)."""
    from .runtime import unreduce

    w = np.exp(a - unreduce(y, a, axis, keepdims))
    if b is not None:
        w = w * b
    return unreduce(g, a, axis, keepdims) * w


def softmax_grad(g: Any, y: Any, axis: Any = None) -> Any:
    """Adjoint of x in y = softmax(x, axis)."""
    return y * (g - np.sum(g * y, axis=axis, keepdims=True))


def log_softmax_grad(g: Any, y: Any, axis: Any = None) -> Any:
    return g - np.exp(y) * np.sum(g, axis=axis, keepdims=True)


# -- more reductions, shapes, selections and products ------------------------------------------


def drop_initial(g: Any, axis: Any, include_initial: bool) -> Any:
    """The part of a cumulative_sum/prod result past the initial value when it is included."""
    if not include_initial:
        return g
    return _take(g, 0 if axis is None else axis, 1, None)


def median_grad(g: Any, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Adjoint of np.median: the middle element, or half to each of the two middle ones."""
    from .runtime import unreduce

    if axis is None:
        g = np.reshape(_array_like(g, a), (1,))
        return np.reshape(median_grad(g, np.ravel(a), 0, False), np.shape(a))
    if not isinstance(axis, numbers.Integral):
        raise NotImplementedError("s2s: the adjoint of np.median takes one axis or None")
    n = np.shape(a)[axis]
    order = np.argsort(a, axis=axis)
    g = unreduce(g, a, axis, keepdims)
    pick = np.zeros_like(a)
    half = _take(g, axis, 0, 1) * (0.5 if n % 2 == 0 else 1.0)
    lo, hi = (n - 1) // 2, n // 2
    for k in sorted({lo, hi}):
        np.put_along_axis(pick, _take(order, axis, k, k + 1), half, axis)
    return pick


def trapezoid_grad(g: Any, y: Any, x: Any, dx: Any, axis: int, which: int) -> Any:
    """Adjoint of y (which=0), x (1) or dx (2) in np.trapezoid(y, x, dx, axis)."""
    from .runtime import unbroadcast

    y = np.moveaxis(y, axis, -1)
    g = np.expand_dims(g, -1)
    if which == 2:
        return np.sum(g * (y[..., 1:] + y[..., :-1]) * 0.5)
    if x is None:
        h = dx * np.ones_like(y[..., 1:])
    else:
        xm = x if np.ndim(x) == 1 else np.moveaxis(x, axis, -1)
        h = xm[..., 1:] - xm[..., :-1]
    if which == 0:
        w = 0.5 * (
            np.concatenate([h, np.zeros_like(h[..., :1])], axis=-1)
            + np.concatenate([np.zeros_like(h[..., :1]), h], axis=-1)
        )
        return np.moveaxis(g * w, -1, axis)
    s = 0.5 * (y[..., 1:] + y[..., :-1])  # d z / d h
    gs = g * s
    zero = np.zeros_like(gs[..., :1])
    gx = np.concatenate([zero, gs], axis=-1) - np.concatenate([gs, zero], axis=-1)
    if np.ndim(x) == 1:
        return np.sum(np.reshape(gx, (-1, np.shape(gx)[-1])), axis=0)
    return unbroadcast(np.moveaxis(gx, -1, axis), x)


def trapezoid_tangent(dy: Any, dx_arr: Any, ddx: Any, y: Any, x: Any, dx: Any, axis: int) -> Any:
    """Tangent of np.trapezoid(y, x, dx, axis)."""
    trap = np.trapezoid if hasattr(np, "trapezoid") else np.trapz
    out = trap(_or_zeros(dy, y), x, dx, axis)
    if x is not None and not _is_zero(dx_arr):
        out = out + _trap_dx(y, dx_arr, axis)
    if x is None and not _is_zero(ddx):
        out = out + trap(y, None, 1.0, axis) * ddx
    return out


def _trap_dx(y: Any, dxs: Any, axis: int) -> Any:
    ym = np.moveaxis(y, axis, -1)
    dm = dxs if np.ndim(dxs) == 1 else np.moveaxis(dxs, axis, -1)
    return np.sum(0.5 * (ym[..., 1:] + ym[..., :-1]) * (dm[..., 1:] - dm[..., :-1]), axis=-1)


def ediff1d_core(g: Any, to_end: Any, to_begin: Any) -> Any:
    """The part of np.ediff1d's result that is the difference (without to_begin/to_end)."""
    start = 0 if to_begin is None else int(np.size(to_begin))
    stop = np.shape(g)[0] - (0 if to_end is None else int(np.size(to_end)))
    return g[start:stop]


def ediff1d_tangent(da: Any, to_end: Any, to_begin: Any) -> Any:
    """Tangent of np.ediff1d(ary, to_end, to_begin) in ary: the constant ends have zero
    tangents, made like `da` (on its device; `to_end` may be a host list)."""
    z_end = None if to_end is None else np.zeros_like(da, shape=(int(np.size(to_end)),))
    z_begin = None if to_begin is None else np.zeros_like(da, shape=(int(np.size(to_begin)),))
    return np.ediff1d(da, to_end=z_end, to_begin=z_begin)


def vector_norm_grad(
    g: Any, x: Any, y: Any, ord: Any = 2, axis: Any = None, keepdims: bool = False
) -> Any:
    """Adjoint of np.linalg.vector_norm (axis None: all entries, as one vector)."""
    if axis is None:
        gf = np.reshape(g, ())
        yf = np.reshape(y, ())
        flat = norm_grad(gf, np.ravel(x), yf, ord, 0, False)
        return np.reshape(flat, np.shape(x))
    return norm_grad(g, x, y, ord, axis, keepdims)


def stack_back(g: Any, pieces: Any, axis: int = 0) -> Any:
    """Adjoint of np.unstack: the pieces' adjoints stacked back along `axis`."""
    return np.stack([_or_zeros(gi, p) for gi, p in zip(g, pieces, strict=True)], axis=axis)


def resize_grad(g: Any, a: Any) -> Any:
    """Adjoint of np.resize(a, new_shape): the result repeats a's entries cyclically."""
    n = int(np.size(a))
    flat = np.ravel(g)
    m = np.shape(flat)[0]
    reps = -(-m // n)
    padded = np.concatenate([flat, np.zeros_like(flat, shape=(reps * n - m,))])
    return np.reshape(np.sum(np.reshape(padded, (reps, n)), axis=0), np.shape(a))


def delete_grad(g: Any, arr: Any, obj: Any, axis: Any = None) -> Any:
    """Adjoint of np.delete(arr, obj, axis): zeros where entries were deleted."""
    if axis is None:
        flat = np.ravel(arr)
        return np.reshape(delete_grad(g, flat, obj, 0), np.shape(arr))
    n = np.shape(arr)[axis]
    kept = np.delete(np.arange(n), obj)
    out = np.moveaxis(np.zeros_like(arr), axis, 0)
    out[kept] = np.moveaxis(g, axis, 0)
    return np.moveaxis(out, 0, axis)


def compress_grad(g: Any, condition: Any, a: Any, axis: Any = None) -> Any:
    """Adjoint of np.compress(condition, a, axis) and np.extract."""
    if axis is None:
        return np.reshape(compress_grad(g, condition, np.ravel(a), 0), np.shape(a))
    n = np.shape(a)[axis]
    kept = np.nonzero(condition)[0]
    kept = kept[kept < n]
    out = np.moveaxis(np.zeros_like(a), axis, 0)
    out[kept] = np.moveaxis(g, axis, 0)
    return np.moveaxis(out, 0, axis)


def choose_grad(g: Any, a: Any, choices: Any) -> list:
    """Adjoints of the choices in np.choose(a, choices)."""
    from .runtime import unbroadcast

    return [unbroadcast(np.where(a == i, g, 0.0), c) for i, c in enumerate(choices)]


def _interp_cell(x: Any, xp: Any) -> Any:
    return np.clip(np.searchsorted(xp, x, side="right") - 1, 0, np.shape(xp)[0] - 2)


def interp_slope(x: Any, xp: Any, fp: Any) -> Any:
    """d/dx np.interp(x, xp, fp): the slope of the segment x falls in (0 outside xp)."""
    i = _interp_cell(x, xp)
    slope = (fp[i + 1] - fp[i]) / (xp[i + 1] - xp[i])
    inside = (x >= xp[0]) & (x <= xp[-1])
    return np.where(inside, slope, 0.0)


def interp_fp_grad(g: Any, x: Any, xp: Any, fp: Any) -> Any:
    """Adjoint of fp in np.interp(x, xp, fp)."""
    i = np.ravel(_interp_cell(x, xp))
    xf = np.ravel(x)
    gf = np.ravel(g * np.ones_like(x))
    t = np.clip((xf - xp[i]) / (xp[i + 1] - xp[i]), 0.0, 1.0)
    out = np.zeros_like(fp)
    scatter_add(out, i, gf * (1.0 - t))
    scatter_add(out, i + 1, gf * t)
    return out


def interp_xp_grad(g: Any, x: Any, xp: Any, fp: Any) -> Any:
    """Adjoint of the knots xp in np.interp(x, xp, fp) (for x strictly inside)."""
    i = np.ravel(_interp_cell(x, xp))
    xf = np.ravel(x)
    gf = np.ravel(g * np.ones_like(x))
    h = xp[i + 1] - xp[i]
    df = fp[i + 1] - fp[i]
    t = (xf - xp[i]) / h
    inside = (xf >= xp[0]) & (xf <= xp[-1])
    # y = fp[i] + t * df with t = (x - xp[i]) / h
    d_lo = np.where(inside, gf * df * (t - 1.0) / h, 0.0)
    d_hi = np.where(inside, -gf * df * t / h, 0.0)
    out = np.zeros_like(xp)
    scatter_add(out, i, d_lo)
    scatter_add(out, i + 1, d_hi)
    return out


def interp_xp_tangent(dxp: Any, x: Any, xp: Any, fp: Any) -> Any:
    """The part of np.interp's tangent that comes from moving the knots xp."""
    i = _interp_cell(x, xp)
    h = xp[i + 1] - xp[i]
    df = fp[i + 1] - fp[i]
    t = (x - xp[i]) / h
    inside = (x >= xp[0]) & (x <= xp[-1])
    return np.where(inside, df * (dxp[i] * (t - 1.0) - dxp[i + 1] * t) / h, 0.0)


def multi_dot_grad(g: Any, arrays: Any) -> list:
    """Adjoints of the arrays in np.linalg.multi_dot(arrays)."""
    mats = list(arrays)
    first_vec = np.ndim(mats[0]) == 1
    last_vec = np.ndim(mats[-1]) == 1
    if first_vec:
        mats[0] = mats[0][None, :]
    if last_vec:
        mats[-1] = mats[-1][:, None]
    g2 = _array_like(g, mats[0])
    if first_vec:
        g2 = np.expand_dims(g2, 0)
    if last_vec:
        g2 = np.expand_dims(g2, -1)
    out = []
    for k in range(len(mats)):
        left = mats[0]
        for m in mats[1:k]:
            left = left @ m
        right = mats[-1]
        for m in reversed(mats[k + 1 : -1]):
            right = m @ right
        gk = g2
        if k > 0:
            gk = _mT(left) @ gk
        if k < len(mats) - 1:
            gk = gk @ _mT(right)
        out.append(np.reshape(gk, np.shape(arrays[k])))
    return out


def multi_dot_tangent(arrays: Any, tangents: Any) -> Any:
    out = 0.0
    for k, t in enumerate(tangents):
        if _is_zero(t):
            continue
        out = out + np.linalg.multi_dot(list(arrays[:k]) + [t] + list(arrays[k + 1 :]))
    return out


def _full_offset(na: int, nv: int, mode: str) -> int:
    """Where np.convolve's `mode` result starts inside the full convolution."""
    if mode == "full":
        return 0
    if mode == "same":
        return (min(na, nv) - 1) // 2
    return min(na, nv) - 1


def convolve_grad(g: Any, a: Any, v: Any, mode: str, which: int) -> Any:
    """Adjoint of a (which=0) or v (which=1) in np.convolve(a, v, mode)."""
    na, nv = np.shape(a)[0], np.shape(v)[0]
    start = _full_offset(na, nv, mode)
    full = np.concatenate(
        [
            np.zeros_like(g, shape=(start,)),
            g,
            np.zeros_like(g, shape=(na + nv - 1 - start - np.shape(g)[0],)),
        ]
    )
    other = v if which == 0 else a
    return np.correlate(full, other, "valid")


def correlate_grad(g: Any, a: Any, v: Any, mode: str, which: int) -> Any:
    """Adjoint of a (which=0) or v (which=1) in np.correlate(a, v, mode)."""
    na, nv = np.shape(a)[0], np.shape(v)[0]
    if mode == "same" and nv > na:
        raise NotImplementedError("s2s: np.correlate(mode='same') with len(v) > len(a)")
    vr = np.flip(v)
    if which == 0:
        return convolve_grad(g, a, vr, mode, 0)
    return np.flip(convolve_grad(g, a, vr, mode, 1))


def polyder(p: Any) -> Any:
    """`np.polyder(p)` of a 1-D coefficient array, made on p's device (CuPy has no polyder):
    the coefficients p[i] * (n - 1 - i) of the derivative (none for a constant)."""
    head = p[:-1]
    return head * np.cumsum(np.ones_like(head))[::-1]


def polyval_grad_p(g: Any, p: Any, x: Any) -> Any:
    """Adjoint of the coefficients p in np.polyval(p, x)."""
    n = np.shape(p)[0]
    gx = g * np.ones_like(x)
    return np.stack([np.sum(gx * x ** (n - 1 - i)) for i in range(n)])


def cov_grad(
    g: Any, m: Any, y: Any, rowvar: bool = True, bias: bool = False, ddof: Any = None
) -> Any:
    """Adjoint of m in np.cov(m, rowvar=..., bias=..., ddof=...)."""
    if y is not None:
        raise NotImplementedError("s2s: the adjoint of np.cov takes one data array (y=None)")
    X = m if rowvar else _mT(m)
    X2 = X if np.ndim(X) == 2 else X[None, :]
    n = np.shape(X2)[1]
    dd = (0 if bias else 1) if ddof is None else ddof
    Xc = X2 - np.mean(X2, axis=1, keepdims=True)
    G = np.reshape(g, (np.shape(X2)[0],) * 2)
    gX = (G + _mT(G)) @ Xc / (n - dd)
    gX = np.reshape(gX, np.shape(X))
    return gX if rowvar else _mT(gX)


def cov_tangent(
    dm: Any, m: Any, y: Any, rowvar: bool = True, bias: bool = False, ddof: Any = None
) -> Any:
    if y is not None:
        raise NotImplementedError("s2s: the tangent of np.cov takes one data array (y=None)")
    X = m if rowvar else _mT(m)
    dX = dm if rowvar else _mT(dm)
    X2 = X if np.ndim(X) == 2 else X[None, :]
    dX2 = dX if np.ndim(dX) == 2 else dX[None, :]
    n = np.shape(X2)[1]
    dd = (0 if bias else 1) if ddof is None else ddof
    Xc = X2 - np.mean(X2, axis=1, keepdims=True)
    dXc = dX2 - np.mean(dX2, axis=1, keepdims=True)
    out = (dXc @ _mT(Xc) + Xc @ _mT(dXc)) / (n - dd)
    return np.reshape(out, np.shape(np.cov(m, rowvar=rowvar, bias=bias, ddof=ddof)))


OP_HELPERS: dict[str, Any] = {
    name: obj
    for name, obj in list(globals().items())
    if callable(obj) and not name.startswith("_") and getattr(obj, "__module__", "") == __name__
}
