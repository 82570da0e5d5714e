"""Python builtins: sum, min, max, float, and the non-differentiable ones."""
# ruff: noqa: F821  (templates name the runtime helpers that generated code binds)

import builtins
import logging

from .registry import adjoint, d, nondiff, tangent


@adjoint(builtins.sum)
def sum_(y, iterable, start=0):
    d[iterable] = sum_list_grad(d[y], iterable)
    d[start] = unbroadcast(d[y], start)


@tangent(builtins.sum)
def sum_t(y, iterable, start=0):
    d[y] = sum(d[iterable], d[start])


@adjoint(builtins.float)
def float_(y, x):
    d[x] = d[y]


@tangent(builtins.float)
def float_t(y, x):
    d[y] = float(d[x])


@adjoint(builtins.max, notes="max(a, b), max(xs) of a list or 1-d array; 3+ arguments nest")
def max_(y, a, b=None):
    d[a] = builtin_extremum_grad(d[y], a, b, True)
    d[b] = builtin_extremum_grad(d[y], b, a, True)


@tangent(builtins.max)
def max_t(y, a, b=None):
    d[y] = builtin_extremum_tangent(d[a], a, b, True) + builtin_extremum_tangent(d[b], b, a, True)


@adjoint(builtins.min, notes="min(a, b), min(xs) of a list or 1-d array; 3+ arguments nest")
def min_(y, a, b=None):
    d[a] = builtin_extremum_grad(d[y], a, b, False)
    d[b] = builtin_extremum_grad(d[y], b, a, False)


@tangent(builtins.min)
def min_t(y, a, b=None):
    d[y] = builtin_extremum_tangent(d[a], a, b, False) + builtin_extremum_tangent(d[b], b, a, False)


nondiff(
    builtins.len,
    builtins.int,
    builtins.bool,
    builtins.print,
    builtins.isinstance,
    builtins.range,
    builtins.str,
    builtins.repr,
    builtins.type,
    builtins.hasattr,
    builtins.callable,
    builtins.id,
    builtins.hash,
    builtins.format,
    logging.debug,
    logging.info,
    logging.warning,
    logging.error,
    reason="no derivative",
)
