"""Indexing and selection: triangles and diagonals, take, where/select, sort and partition."""
# ruff: noqa: F821  (templates name the runtime helpers that generated code binds)

import numpy as np

from .registry import adjoint, d, nondiff, tangent


@adjoint(np.where, zero=("condition",))
def where(y, condition, x, z):
    d[x] = unbroadcast(np.where(condition, d[y], 0.0), x)
    d[z] = unbroadcast(np.where(condition, 0.0, d[y]), z)


@tangent(np.where)
def where_t(y, condition, x, z):
    d[y] = np.where(condition, d[x], d[z])


@adjoint(np.select, notes="the first true condition picks")
def select(y, condlist, choicelist, default=0):
    d[choicelist] = select_grad(d[y], condlist, choicelist)
    d[default] = select_default_grad(d[y], condlist, default)


@tangent(np.select)
def select_t(y, condlist, choicelist, default=0):
    d[y] = np.select(condlist, d[choicelist], d[default])


@adjoint(np.tril)
def tril(y, m, k=0):
    d[m] = np.tril(d[y], k)


@tangent(np.tril)
def tril_t(y, m, k=0):
    d[y] = np.tril(d[m], k)


@adjoint(np.triu)
def triu(y, m, k=0):
    d[m] = np.triu(d[y], k)


@tangent(np.triu)
def triu_t(y, m, k=0):
    d[y] = np.triu(d[m], k)


@adjoint(np.diag)
def diag(y, v, k=0):
    d[v] = diag_grad(d[y], v, k)


@tangent(np.diag)
def diag_t(y, v, k=0):
    d[y] = np.diag(d[v], k)


@adjoint(np.diagflat)
def diagflat(y, v, k=0):
    d[v] = np.reshape(np.diagonal(d[y], k), np.shape(v))


@tangent(np.diagflat)
def diagflat_t(y, v, k=0):
    d[y] = np.diagflat(d[v], k)


@adjoint(np.diagonal)
def diagonal(y, a, offset=0, axis1=0, axis2=1):
    d[a] = diagonal_grad(d[y], a, offset, axis1, axis2)


@tangent(np.diagonal)
def diagonal_t(y, a, offset=0, axis1=0, axis2=1):
    d[y] = np.diagonal(d[a], offset, axis1, axis2)


@adjoint(np.take, notes="repeated indices add up")
def take(y, a, indices, axis=None, out=None, mode="raise"):
    d[a] = take_grad(d[y], a, indices, axis)


@tangent(np.take)
def take_t(y, a, indices, axis=None, out=None, mode="raise"):
    d[y] = np.take(d[a], indices, axis)


@adjoint(np.take_along_axis, notes="repeated indices add up")
def take_along_axis(y, arr, indices, axis=-1):
    d[arr] = take_along_axis_grad(d[y], arr, indices, axis)


@tangent(np.take_along_axis)
def take_along_axis_t(y, arr, indices, axis=-1):
    d[y] = np.take_along_axis(d[arr], indices, axis)


@adjoint(np.sort, notes="values; ties take either order")
def sort(y, a, axis=-1, kind=None, order=None):
    order_ = np.argsort(a, axis=axis)
    d[a] = unpermute(d[y], order_, a, axis)


@tangent(np.sort)
def sort_t(y, a, axis=-1, kind=None, order=None):
    d[y] = permute_like(d[a], np.argsort(a, axis=axis), axis)


@adjoint(np.partition, notes="values")
def partition(y, a, kth, axis=-1, kind="introselect", order=None):
    order_ = np.argpartition(a, kth, axis=axis)
    d[a] = unpermute(d[y], order_, a, axis)


@tangent(np.partition)
def partition_t(y, a, kth, axis=-1, kind="introselect", order=None):
    d[y] = permute_like(d[a], np.argpartition(a, kth, axis=axis), axis)


@adjoint(np.compress)
def compress(y, condition, a, axis=None, out=None):
    d[a] = compress_grad(d[y], condition, a, axis)


@tangent(np.compress)
def compress_t(y, condition, a, axis=None, out=None):
    d[y] = np.compress(condition, d[a], axis)


@adjoint(np.extract)
def extract(y, condition, arr):
    d[arr] = compress_grad(d[y], np.ravel(condition), arr, None)


@tangent(np.extract)
def extract_t(y, condition, arr):
    d[y] = np.extract(condition, d[arr])


@adjoint(np.choose, notes="w.r.t. the choices")
def choose(y, a, choices, out=None, mode="raise"):
    d[choices] = choose_grad(d[y], a, choices)


@tangent(np.choose)
def choose_t(y, a, choices, out=None, mode="raise"):
    d[y] = np.choose(a, d[choices])


@adjoint(np.interp, notes="w.r.t. x, the knots xp and fp")
def interp(y, x, xp, fp, left=None, right=None, period=None):
    d[x] = d[y] * interp_slope(x, xp, fp)
    d[fp] = interp_fp_grad(d[y], x, xp, fp)
    d[xp] = interp_xp_grad(d[y], x, xp, fp)


@tangent(np.interp)
def interp_t(y, x, xp, fp, left=None, right=None, period=None):
    d[y] = (
        d[x] * interp_slope(x, xp, fp)
        + np.interp(x, xp, d[fp])
        + interp_xp_tangent(d[xp], x, xp, fp)
    )


nondiff(
    np.argpartition,
    np.argwhere,
    np.flatnonzero,
    np.searchsorted,
    np.digitize,
    np.count_nonzero,
    np.any,
    np.all,
    np.tri,
    np.tril_indices,
    np.triu_indices,
    np.diag_indices,
    np.indices,
    np.unique,
    np.bincount,
    np.histogram,
    reason="returns indices, counts or booleans",
)
