"""Reductions: sum, mean, max/min, prod."""
# ruff: noqa: F821  (templates name the runtime helpers that generated code binds)

import numpy as np

from .registry import adjoint, d, tangent


@adjoint(np.sum)
def sum_(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] = unreduce(d[y], a, axis, keepdims)


@tangent(np.sum)
def sum_t(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[y] = np.sum(d[a], axis=axis, keepdims=keepdims)


@adjoint(np.mean)
def mean(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] = unreduce(d[y], a, axis, keepdims) / reduction_count(a, axis)


@tangent(np.mean)
def mean_t(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[y] = np.mean(d[a], axis=axis, keepdims=keepdims)


@adjoint(np.max, np.amax)
def max_(y, a, axis=None, out=None, keepdims=False):
    d[a] = extremum_grad(d[y], a, y, axis, keepdims)


@tangent(np.max, np.amax)
def max_t(y, a, axis=None, out=None, keepdims=False):
    d[y] = np.sum(d[a] * extremum_grad(1.0, a, y, axis, keepdims), axis=axis,
                  keepdims=keepdims)


@adjoint(np.min, np.amin)
def min_(y, a, axis=None, out=None, keepdims=False):
    d[a] = extremum_grad(d[y], a, y, axis, keepdims)


@tangent(np.min, np.amin)
def min_t(y, a, axis=None, out=None, keepdims=False):
    d[y] = np.sum(d[a] * extremum_grad(1.0, a, y, axis, keepdims), axis=axis,
                  keepdims=keepdims)


@adjoint(np.prod)
def prod(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] = unreduce(d[y] * y, a, axis, keepdims) / a


@tangent(np.prod)
def prod_t(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[y] = np.sum(d[a] * unreduce(y, a, axis, keepdims) / a, axis=axis, keepdims=keepdims)
