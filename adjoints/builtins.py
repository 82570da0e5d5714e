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


@adjoint(builtins.max)
def max_(y, a, b):
    d[a] = binary_extremum_grad(d[y], a, b, True)
    d[b] = binary_extremum_grad(d[y], b, a, True)


@tangent(builtins.max)
def max_t(y, a, b):
    d[y] = d[a] if a >= b else d[b]


@adjoint(builtins.min)
def min_(y, a, b):
    d[a] = binary_extremum_grad(d[y], a, b, False)
    d[b] = binary_extremum_grad(d[y], b, a, False)


@tangent(builtins.min)
def min_t(y, a, b):
    d[y] = d[a] if a <= b else d[b]


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
