"""Shape and assembly ops: reshape, transpose, stack, concatenate, array of lists."""
# ruff: noqa: F821  (templates name the runtime helpers that generated code binds)

import numpy as np

from .registry import adjoint, d, nondiff, tangent


@adjoint(np.reshape)
def reshape(y, a, shape=None, order="C"):
    d[a] = np.reshape(d[y], np.shape(a))


@tangent(np.reshape)
def reshape_t(y, a, shape=None, order="C"):
    d[y] = np.reshape(d[a], np.shape(y))


@adjoint(np.ravel)
def ravel(y, a, order="C"):
    d[a] = np.reshape(d[y], np.shape(a))


@tangent(np.ravel)
def ravel_t(y, a, order="C"):
    d[y] = np.ravel(d[a])


@adjoint(np.transpose)
def transpose(y, a, axes=None):
    d[a] = transpose_grad(d[y], axes)


@tangent(np.transpose)
def transpose_t(y, a, axes=None):
    d[y] = np.transpose(d[a], axes)


@adjoint(np.squeeze)
def squeeze(y, a, axis=None):
    d[a] = np.reshape(d[y], np.shape(a))


@tangent(np.squeeze)
def squeeze_t(y, a, axis=None):
    d[y] = np.reshape(d[a], np.shape(y))


@adjoint(np.expand_dims)
def expand_dims(y, a, axis):
    d[a] = np.reshape(d[y], np.shape(a))


@tangent(np.expand_dims)
def expand_dims_t(y, a, axis):
    d[y] = np.reshape(d[a], np.shape(y))


@adjoint(np.copy)
def copy(y, a, order="K", subok=False):
    d[a] = d[y]


@tangent(np.copy)
def copy_t(y, a, order="K", subok=False):
    d[y] = d[a]


@adjoint(np.stack)
def stack(y, arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    d[arrays] = unstack(d[y], len(arrays), axis)


@tangent(np.stack)
def stack_t(y, arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    d[y] = np.stack(d[arrays], axis=axis)


@adjoint(np.array, np.asarray)
def array(y, object, dtype=None, copy=True, order="K", subok=False, ndmin=0, like=None):
    d[object] = array_grad(d[y], object)


@tangent(np.array, np.asarray)
def array_t(y, object, dtype=None, copy=True, order="K", subok=False, ndmin=0, like=None):
    d[y] = np.array(d[object])


@adjoint(np.concatenate)
def concatenate(y, arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    d[arrays] = concatenate_grad(d[y], arrays, axis)


@tangent(np.concatenate)
def concatenate_t(y, arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    d[y] = np.concatenate(d[arrays], axis=axis)


@adjoint(np.dot)
def dot(z, a, b, out=None):
    d[a] = dot_grad_a(d[z], a, b)
    d[b] = dot_grad_b(d[z], a, b)


@tangent(np.dot)
def dot_t(z, a, b, out=None):
    d[z] = np.dot(d[a], b) + np.dot(a, d[b])


@adjoint(np.outer)
def outer(z, a, b, out=None):
    d[a] = np.reshape(d[z] @ np.ravel(b), np.shape(a))
    d[b] = np.reshape(np.ravel(a) @ d[z], np.shape(b))


@tangent(np.outer)
def outer_t(z, a, b, out=None):
    d[z] = np.outer(d[a], b) + np.outer(a, d[b])


@adjoint(np.where)
def where(y, condition, x, z):
    d[x] = unbroadcast(np.where(condition, d[y], 0.0), x)
    d[z] = unbroadcast(np.where(condition, 0.0, d[y]), z)


@tangent(np.where)
def where_t(y, condition, x, z):
    d[y] = np.where(condition, d[x], d[z])


nondiff(
    np.shape, np.ndim, np.size, np.argmax, np.argmin, np.argsort, np.nonzero, np.zeros,
    np.ones, np.empty, np.full, np.zeros_like, np.ones_like, np.empty_like, np.full_like,
    np.arange, np.linspace, np.eye, np.identity,
    reason="returns indices, shapes or fresh constants",
)
