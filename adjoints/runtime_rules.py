"""Forward-mode (tangent) rules for the runtime helpers that generated gradients call.

They let forward mode run over a generated gradient (forward over reverse: `s2s.hvp`). They are
kept out of the op library on purpose: they are not registered in `registry.RULES` (so
`docs/ops.md`, `library_rules()` and the per-op test tables do not see them, and they need no
reverse template), and the registry's version is not bumped. Forward mode asks `lookup` here
for an op the library has no rule for.

Most adjoint helpers are linear in the incoming adjoint `g` and read the other arguments for
their shapes, indices or piecewise-constant masks only: their tangent applies the same helper to
`d[g]`, and the other arguments are listed in `zero` (a zero derivative, on purpose). Helpers
that are bilinear (`matmul_grad_a`, ...) get the product rule. A template whose body is only a
docstring says the helper's result carries no tangent (`seed`, `reduction_count`).

The tape needs no rule: forward mode keeps a parallel list `t_tape` (`tape = []` gives
`t_tape = []`, `tape.append(v)` gives `t_tape.append(t_v)`, `v = tape.pop()` gives
`t_v = t_tape.pop()`; see `s2s/forward.py`), so pushes and pops stay paired.
"""
# ruff: noqa: F821  (templates name the runtime helpers that generated code binds)

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from s2s.backends import op_helpers as oh
from s2s.backends import runtime as rt
from s2s.backends.runtime import HELPERS, _is_zero, add_at, zeros_like

from .registry import Rule, Template, _qualname, d

#: id(helper) -> its tangent-only rule
RUNTIME_RULES: dict[int, Rule] = {}


def lookup(op: Any) -> Rule | None:
    """The tangent rule of runtime helper `op`, or None."""
    return RUNTIME_RULES.get(id(op))


def _rule(op: Any, zero: tuple = ()) -> Callable:
    def register(fn: Callable) -> Callable:
        tpl = Template.from_function(fn)
        tpl.zero = tuple(zero)
        RUNTIME_RULES[id(op)] = Rule(op=op, name=_qualname(op), family="runtime", tangent=tpl)
        return fn

    return register


def add_at_tangent(td: Any, d: Any, index: Any, tg: Any) -> Any:
    """Tangent of `add_at(d, index, g)`: `tg` accumulated into `td` (a zero `td` becomes an
    owned zero with the structure of `d`)."""
    if _is_zero(td) and not _is_zero(d):
        td = zeros_like(d)
    if _is_zero(tg):
        return td
    return add_at(td, index, tg)


HELPERS["add_at_tangent"] = add_at_tangent


# -- no tangent ---------------------------------------------------------------------------------


@_rule(rt.seed, zero=("y", "where"))
def seed_t(z, y, where):
    """The seed 1.0 is a constant."""


@_rule(rt.is_zero, zero=("g",))
def is_zero_t(z, g):
    """A test."""


@_rule(rt.reduction_count, zero=("x", "axis"))
def reduction_count_t(z, x, axis=None):
    """An element count."""


@_rule(oh.clip_mask, zero=("a", "a_min", "a_max", "closed"))
def clip_mask_t(z, a, a_min, a_max, closed=True):
    """A boolean mask."""


@_rule(oh.nan_mask, zero=("a",))
def nan_mask_t(z, a):
    """A boolean mask."""


@_rule(rt.zeros_like, zero=("x",))
def zeros_like_t(z, x):
    d[z] = zeros_like(x)  # an owned zero: the tangent of an accumulator add_at writes into


# -- linear in the adjoint ----------------------------------------------------------------------


@_rule(rt.unbroadcast, zero=("x",))
def unbroadcast_t(z, g, x):
    d[z] = unbroadcast(d[g], x)


@_rule(rt.unreduce, zero=("x", "axis", "keepdims"))
def unreduce_t(z, g, x, axis=None, keepdims=False):
    d[z] = unreduce(d[g], x, axis, keepdims)


@_rule(rt.grad_like, zero=("x",))
def grad_like_t(z, g, x):
    d[z] = grad_like(d[g], x)


@_rule(rt.add)
def add_t(z, a, b):
    d[z] = add(d[a], d[b])


@_rule(rt.add_at, zero=("index",))
def add_at_t(z, acc, index, g):  # add_at's first parameter is `d`, which templates reserve
    d[z] = add_at_tangent(d[acc], acc, index, d[g])


@_rule(rt.copy_value)
def copy_value_t(z, v):
    d[z] = copy_value(d[v])


@_rule(rt.unstack, zero=("n", "axis"))
def unstack_t(z, g, n, axis=0):
    d[z] = unstack(d[g], n, axis)


@_rule(rt.extremum_grad, zero=("x", "y", "axis", "keepdims"))
def extremum_grad_t(z, g, x, y, axis=None, keepdims=False):
    d[z] = extremum_grad(d[g], x, y, axis, keepdims)


@_rule(rt.binary_extremum_grad, zero=("x", "other", "greater"))
def binary_extremum_grad_t(z, g, x, other, greater):
    d[z] = binary_extremum_grad(d[g], x, other, greater)


@_rule(rt.sum_list_grad, zero=("xs",))
def sum_list_grad_t(z, g, xs):
    d[z] = sum_list_grad(d[g], xs)


@_rule(rt.transpose_grad, zero=("axes",))
def transpose_grad_t(z, g, axes=None):
    d[z] = transpose_grad(d[g], axes)


@_rule(rt.array_grad, zero=("obj",))
def array_grad_t(z, g, obj):
    d[z] = array_grad(d[g], obj)


@_rule(rt.concatenate_grad, zero=("arrays", "axis"))
def concatenate_grad_t(z, g, arrays, axis=0):
    d[z] = concatenate_grad(d[g], arrays, axis)


@_rule(oh.reverse_cumsum, zero=("a", "axis"))
def reverse_cumsum_t(z, g, a, axis=None):
    d[z] = reverse_cumsum(d[g], a, axis)


@_rule(oh.diff_grad, zero=("n", "axis"))
def diff_grad_t(z, g, n=1, axis=-1):
    d[z] = diff_grad(d[g], n, axis)


@_rule(oh.rollaxis_grad, zero=("a", "axis", "start"))
def rollaxis_grad_t(z, g, a, axis, start=0):
    d[z] = rollaxis_grad(d[g], a, axis, start)


@_rule(oh.unsplit, zero=("pieces", "axis"))
def unsplit_t(z, g, pieces, axis):
    d[z] = unsplit(d[g], pieces, axis)


# -- bilinear: the product rule -----------------------------------------------------------------


@_rule(rt.matmul_grad_a, zero=("a",))
def matmul_grad_a_t(z, g, a, b):
    d[z] = matmul_grad_a(d[g], a, b) + matmul_grad_a(g, a, d[b])


@_rule(rt.matmul_grad_b, zero=("b",))
def matmul_grad_b_t(z, g, a, b):
    d[z] = matmul_grad_b(d[g], a, b) + matmul_grad_b(g, d[a], b)


@_rule(rt.dot_grad_a, zero=("a",))
def dot_grad_a_t(z, g, a, b):
    d[z] = dot_grad_a(d[g], a, b) + dot_grad_a(g, a, d[b])


@_rule(rt.dot_grad_b, zero=("b",))
def dot_grad_b_t(z, g, a, b):
    d[z] = dot_grad_b(d[g], a, b) + dot_grad_b(g, d[a], b)


@_rule(oh.softmax_grad, zero=("axis",))
def softmax_grad_t(z, g, y, axis=None):
    d[z] = (
        softmax_grad(d[g], y, axis)
        + d[y] * (g - np.sum(g * y, axis=axis, keepdims=True))
        - y * np.sum(g * d[y], axis=axis, keepdims=True)
    )


__all__ = ["RUNTIME_RULES", "add_at_tangent", "lookup"]
