"""Python builtins: sum, min, max, float, and the non-differentiable ones."""

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


nondiff(
    builtins.len, builtins.int, builtins.bool, builtins.print, builtins.isinstance,
    builtins.range, builtins.str, builtins.repr, builtins.type, builtins.hasattr,
    builtins.callable, builtins.id, builtins.hash, builtins.format,
    logging.debug, logging.info, logging.warning, logging.error,
    reason="no derivative",
)
