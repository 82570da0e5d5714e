"""Reverse-mode (adjoint) rules for the runtime helpers that generated gradients call.

They let reverse mode run over a generated gradient (reverse over reverse:
`s2s.grad(s2s.grad(f))`, or a user function that calls a gradient s2s made). Like
`runtime_rules.py` (their forward-mode counterparts), they are kept out of the op library: not
in `registry.RULES` (so `docs/ops.md`, `library_rules()` and the per-op test tables do not see
them) and the registry's version is not bumped. `Reverse.spec_op` asks `lookup` here for an op
the library has no rule for.

Most helpers are linear in the incoming adjoint `g` and read their other arguments for shapes,
indices or piecewise-constant masks only: the adjoint with respect to `g` is the transposed
helper (a sum where the helper broadcast, a broadcast where it summed), and the other arguments
are listed in `zero`. The bilinear ones (`matmul_grad_a`, ...) also give the adjoint of the
other factor. A template whose body is only a docstring says the helper's result carries no
derivative (`seed`, `zeros_like`, `reduction_count`).

The tape and `add_at(d_x, index, g)` (an in-place update) need no template: reverse mode turns
`v = xs.pop()` into `d_xs.append(d_v)` (the mirror of `xs.append(v)`, whose adjoint is
`d_xs.pop()`), and gives `add_at`'s `g` the adjoint at `index` through `take_adjoint` (see
`s2s/reverse.py`).
"""
# ruff: noqa: F821  (templates name the runtime helpers that generated code binds)

from __future__ import annotations

from typing import Any

import numpy as np
from s2s.backends import op_helpers as oh
from s2s.backends import runtime as rt
from s2s.backends.runtime import HELPERS, _is_zero, add_at, unbroadcast, unreduce, zeros_like

from .registry import Rule, d, side_table_decorator

#: id(helper) -> its adjoint-only rule
RUNTIME_ADJOINTS: dict[int, Rule] = {}

_SCALARS = (float, int, bool, complex)


def lookup(op: Any) -> Rule | None:
    """The reverse rule of runtime helper `op`, or None."""
    return RUNTIME_ADJOINTS.get(id(op))


_rule = side_table_decorator(RUNTIME_ADJOINTS, "adjoint")


# -- helpers the adjoints call --------------------------------------------------------------------


def sum_to(g: Any, x: Any) -> Any:
    """`g` summed or broadcast to the shape of `x` (the adjoint of a shape change that was a
    broadcast or a sum); a Python number `x` gets a number (or a 0-d array)."""
    if _is_zero(g):
        return g
    if type(x) in _SCALARS or not hasattr(x, "shape"):
        return g.sum() if getattr(g, "ndim", 0) else g
    gshape = getattr(g, "shape", ())
    if gshape == x.shape:
        return g
    if np.broadcast_shapes(gshape, x.shape) == x.shape:
        return np.broadcast_to(g, x.shape)
    return unbroadcast(g, x)


def like_adjoint(g: Any, x: Any) -> Any:
    """The adjoint of `x` in `add(x, ...)` or `grad_like(x, ...)`: `g` taken to the structure
    and shape of `x`. A Python zero standing for a container gets no adjoint."""
    if isinstance(x, dict):
        gd = g if isinstance(g, dict) else {}
        return {k: like_adjoint(gd.get(k, 0.0), v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        if not isinstance(g, (list, tuple)):
            return [0.0] * len(x)
        return [like_adjoint(a, b) for a, b in zip(g, x, strict=True)]
    if isinstance(g, (dict, list, tuple)):
        return 0.0  # x was the zero of a container (0.0 + [...])
    return sum_to(g, x)


def reduce_adjoint(g: Any, r: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """The adjoint of `r` in `unreduce(r, x, axis, keepdims)`: `g` (shaped like `x`) summed
    over the reduced axes."""
    if _is_zero(g) or type(x) in _SCALARS:
        return g
    return sum_to(np.sum(g, axis=axis, keepdims=keepdims), r)


def take_adjoint(acc: Any, index: Any, g: Any) -> Any:
    """The adjoint of `g` in `add_at(d_x, index, g)`: `d_x`'s adjoint `acc` at `index`, summed
    to the shape of `g`."""
    if _is_zero(acc):
        return 0.0
    if isinstance(acc, dict):
        return like_adjoint(acc.get(index, 0.0), g)
    return like_adjoint(acc[index], g)


def put_adjoint(g: Any, acc: Any, index: Any) -> Any:
    """The adjoint of `acc` in `take_adjoint(acc, index, ...)`: `g` put at `index` of a zero
    with the structure of `acc`."""
    if _is_zero(g):
        return 0.0
    out = zeros_like(acc)
    if isinstance(out, dict):
        out[index] = g
        return out
    if isinstance(out, list):
        return add_at(out, index, g)
    return add_at(out, index, sum_to(g, out[index]))


def spread_adjoint(g: Any, xs: Any) -> list:
    """The adjoint of the list `xs` in `sum_list_adjoint(xs, x)`: `g` taken to each shape."""
    return [sum_to(g, x) for x in xs]


def restack(g: Any, x: Any, axis: int = 0) -> Any:
    """The adjoint of `x` in `unstack(x, n, axis)`: the list of adjoints `g` stacked back."""
    out = np.zeros_like(x)
    for i, gi in enumerate(g):
        if not _is_zero(gi):
            index = [slice(None)] * out.ndim
            index[axis] = i
            out[tuple(index)] += gi
    return out


def sum_list_adjoint(g: Any, x: Any) -> Any:
    """The adjoint of `x` in `sum_list_grad(x, xs)`: the list `g` summed to `x`'s shape."""
    out: Any = 0.0
    for gi in g:
        if not _is_zero(gi):
            out = out + sum_to(gi, x)
    return out


def extremum_adjoint(
    g: Any, r: Any, x: Any, y: Any, axis: Any = None, keepdims: bool = False
) -> Any:
    """The adjoint of `r` in `extremum_grad(r, x, y, axis, keepdims)` (linear in `r`)."""
    mask = x == unreduce(y, x, axis, keepdims)
    count = np.sum(mask, axis=axis, keepdims=True)
    return reduce_adjoint(g * mask / count, r, x, axis, keepdims)


def binary_extremum_adjoint(g: Any, r: Any, x: Any, other: Any, greater: bool) -> Any:
    """The adjoint of `r` in `binary_extremum_grad(r, x, other, greater)`."""
    win = (x > other) if greater else (x < other)
    weight = win + 0.5 * (x == other)
    shape = np.broadcast_shapes(np.shape(r), np.shape(weight))
    full = np.broadcast_to(g, shape) if hasattr(g, "shape") or shape else g
    return sum_to(full * weight, r)


HELPERS.update(
    {
        "sum_to": sum_to,
        "like_adjoint": like_adjoint,
        "reduce_adjoint": reduce_adjoint,
        "take_adjoint": take_adjoint,
        "put_adjoint": put_adjoint,
        "spread_adjoint": spread_adjoint,
        "restack": restack,
        "sum_list_adjoint": sum_list_adjoint,
        "extremum_adjoint": extremum_adjoint,
        "binary_extremum_adjoint": binary_extremum_adjoint,
    }
)


# -- no derivative --------------------------------------------------------------------------------


@_rule(rt.seed, zero=("y", "where"))
def seed_adjoint(z, y, where):
    """The seed 1.0 is a constant."""


@_rule(rt.reduction_count, zero=("x", "axis"))
def reduction_count_adjoint(z, x, axis=None):
    """An element count."""


@_rule(rt.field_key, zero=("x", "attr", "where"))
def field_key_adjoint(z, x, attr, where):
    """The key of a field (a position or a name)."""


@_rule(rt.zeros_like, zero=("x",))
def zeros_like_adjoint(z, x):
    """A zero."""


@_rule(rt.shape_of, zero=("x",))
def shape_of_adjoint(z, x):
    """A stand-in read only for its shape and dtype."""


@_rule(rt.checkpoint_segments, zero=("steps",))
def checkpoint_segments_adjoint(z, steps):
    """Ranges of loop steps."""


# -- linear in the adjoint ------------------------------------------------------------------------


@_rule(rt.unbroadcast, zero=("x",))
def unbroadcast_adjoint(z, g, x):
    d[g] = sum_to(d[z], g)


@_rule(rt.unreduce, zero=("x", "axis", "keepdims"))
def unreduce_adjoint(z, g, x, axis=None, keepdims=False):
    d[g] = reduce_adjoint(d[z], g, x, axis, keepdims)


@_rule(rt.grad_like, zero=("x",))
def grad_like_adjoint(z, g, x):
    d[g] = like_adjoint(d[z], g)


@_rule(rt.add)
def add_adjoint(z, a, b):
    d[a] = like_adjoint(d[z], a)
    d[b] = like_adjoint(d[z], b)


@_rule(rt.copy_value)
def copy_value_adjoint(z, v):
    d[v] = d[z]


@_rule(rt.unstack, zero=("n", "axis"))
def unstack_adjoint(z, g, n, axis=0):
    d[g] = restack(d[z], g, axis)


@_rule(rt.transpose_grad, zero=("axes",))
def transpose_grad_adjoint(z, g, axes=None):
    d[g] = np.transpose(d[z], axes)


@_rule(rt.sum_list_grad, zero=("xs",))
def sum_list_grad_adjoint(z, g, xs):
    d[g] = sum_list_adjoint(d[z], g)


@_rule(rt.builtin_extremum_grad, zero=("x", "other", "greater"))
def builtin_extremum_grad_adjoint(z, g, x, other, greater):
    d[g] = builtin_extremum_tangent(d[z], x, other, greater)


@_rule(rt.builtin_extremum_tangent, zero=("x", "other", "greater"))
def builtin_extremum_tangent_adjoint(z, t, x, other, greater):
    d[t] = builtin_extremum_grad(d[z], x, other, greater)


@_rule(rt.extremum_grad, zero=("x", "y", "axis", "keepdims"))
def extremum_grad_adjoint(z, g, x, y, axis=None, keepdims=False):
    d[g] = extremum_adjoint(d[z], g, x, y, axis, keepdims)


@_rule(rt.binary_extremum_grad, zero=("x", "other", "greater"))
def binary_extremum_grad_adjoint(z, g, x, other, greater):
    d[g] = binary_extremum_adjoint(d[z], g, x, other, greater)


# -- bilinear: the adjoints of both factors -------------------------------------------------------


@_rule(rt.matmul_grad_a, zero=("a",))
def matmul_grad_a_adjoint(z, g, a, b):
    d[g] = sum_to(np.matmul(d[z], b), g)
    d[b] = matmul_grad_b(g, d[z], b)


@_rule(rt.matmul_grad_b, zero=("b",))
def matmul_grad_b_adjoint(z, g, a, b):
    d[g] = sum_to(np.matmul(a, d[z]), g)
    d[a] = matmul_grad_a(g, a, d[z])


@_rule(rt.dot_grad_a, zero=("a",))
def dot_grad_a_adjoint(z, g, a, b):
    d[g] = sum_to(np.dot(d[z], b), g)
    d[b] = dot_grad_b(g, d[z], b)


@_rule(rt.dot_grad_b, zero=("b",))
def dot_grad_b_adjoint(z, g, a, b):
    d[g] = sum_to(np.dot(a, d[z]), g)
    d[a] = dot_grad_a(g, a, d[z])


# -- op library helpers ---------------------------------------------------------------------------


@_rule(oh.reverse_cumsum, zero=("a", "axis"))
def reverse_cumsum_adjoint(z, g, a, axis=None):
    d[g] = np.reshape(np.cumsum(d[z], axis=axis), np.shape(g))


# -- the helpers above, for a third derivative (each is linear in its first argument) -----------


@_rule(sum_to, zero=("x",))
def sum_to_adjoint(z, g, x):
    d[g] = sum_to(d[z], g)


@_rule(like_adjoint, zero=("x",))
def like_adjoint_adjoint(z, g, x):
    d[g] = like_adjoint(d[z], g)


@_rule(reduce_adjoint, zero=("r", "x", "axis", "keepdims"))
def reduce_adjoint_adjoint(z, g, r, x, axis=None, keepdims=False):
    d[g] = unreduce(d[z], x, axis, keepdims)


@_rule(take_adjoint, zero=("index", "g"))
def take_adjoint_adjoint(z, acc, index, g):
    d[acc] = put_adjoint(d[z], acc, index)


@_rule(put_adjoint, zero=("acc", "index"))
def put_adjoint_adjoint(z, g, acc, index):
    d[g] = take_adjoint(d[z], index, g)


@_rule(restack, zero=("x", "axis"))
def restack_adjoint(z, g, x, axis=0):
    d[g] = unstack(d[z], len(g), axis)


@_rule(sum_list_adjoint, zero=("x",))
def sum_list_adjoint_adjoint(z, g, x):
    d[g] = spread_adjoint(d[z], g)


@_rule(spread_adjoint, zero=("xs",))
def spread_adjoint_adjoint(z, g, xs):
    d[g] = sum_list_adjoint(d[z], g)


@_rule(extremum_adjoint, zero=("r", "x", "y", "axis", "keepdims"))
def extremum_adjoint_adjoint(z, g, r, x, y, axis=None, keepdims=False):
    d[g] = extremum_grad(d[z], x, y, axis, keepdims)


@_rule(binary_extremum_adjoint, zero=("r", "x", "other", "greater"))
def binary_extremum_adjoint_adjoint(z, g, r, x, other, greater):
    d[g] = binary_extremum_grad(d[z], x, other, greater)


__all__ = ["RUNTIME_ADJOINTS", "lookup", "put_adjoint", "take_adjoint"]
