"""Products: dot, matmul, inner, outer, vdot, tensordot, einsum, kron, cross, trace."""
# ruff: noqa: F821  (templates name the runtime helpers that generated code binds)

import operator

import numpy as np

from .registry import adjoint, d, present, tangent


@adjoint(operator.matmul, np.matmul, np.linalg.matmul)
def matmul(z, x, y):
    d[x] = matmul_grad_a(d[z], x, y)
    d[y] = matmul_grad_b(d[z], x, y)


@tangent(operator.matmul, np.matmul, np.linalg.matmul)
def matmul_t(z, x, y):
    d[z] = d[x] @ y + x @ d[y]


@adjoint(np.dot)
def dot(z, a, b, out=None):
    d[a] = dot_grad_a(d[z], a, b)
    d[b] = dot_grad_b(d[z], a, b)


@tangent(np.dot)
def dot_t(z, a, b, out=None):
    d[z] = np.dot(d[a], b) + np.dot(a, d[b])


@adjoint(np.outer, np.linalg.outer)
def outer(z, a, b, out=None):
    d[a] = np.reshape(d[z] @ np.ravel(b), np.shape(a))
    d[b] = np.reshape(np.ravel(a) @ d[z], np.shape(b))


@tangent(np.outer, np.linalg.outer)
def outer_t(z, a, b, out=None):
    d[z] = np.outer(d[a], b) + np.outer(a, d[b])


@adjoint(np.inner)
def inner(z, a, b):
    d[a] = inner_grad(d[z], a, b)
    d[b] = inner_grad_b(d[z], a, b)


@tangent(np.inner)
def inner_t(z, a, b):
    d[z] = np.inner(d[a], b) + np.inner(a, d[b])


@adjoint(np.vdot)
def vdot(z, a, b):
    d[a] = np.reshape(d[z] * np.ravel(b), np.shape(a))
    d[b] = np.reshape(d[z] * np.ravel(a), np.shape(b))


@tangent(np.vdot)
def vdot_t(z, a, b):
    d[z] = np.vdot(d[a], b) + np.vdot(a, d[b])


@adjoint(np.tensordot, np.linalg.tensordot, notes="every axes form")
def tensordot(z, a, b, axes=2):
    d[a] = tensordot_grad_a(d[z], a, b, axes)
    d[b] = tensordot_grad_b(d[z], a, b, axes)


@tangent(np.tensordot, np.linalg.tensordot)
def tensordot_t(z, a, b, axes=2):
    d[z] = np.tensordot(d[a], b, axes) + np.tensordot(a, d[b], axes)


@adjoint(np.einsum, notes="any subscripts (repeated, '...'), up to 4 operands")
def einsum(y, subscripts, a, b=None, c=None, e=None, *, out=None, optimize=False):
    d[a] = einsum_grad(d[y], subscripts, 0, a, b, c, e)
    d[b] = einsum_grad(d[y], subscripts, 1, a, b, c, e)
    d[c] = einsum_grad(d[y], subscripts, 2, a, b, c, e)
    d[e] = einsum_grad(d[y], subscripts, 3, a, b, c, e)


@tangent(np.einsum)
def einsum_t(y, subscripts, a, b=None, c=None, e=None, *, out=None, optimize=False):
    d[y] = einsum_tangent(subscripts, (a, b, c, e), (d[a], d[b], d[c], d[e]))


@adjoint(np.kron)
def kron(z, a, b):
    d[a] = kron_grad(d[z], a, b, 0)
    d[b] = kron_grad(d[z], a, b, 1)


@tangent(np.kron)
def kron_t(z, a, b):
    d[z] = np.kron(d[a], b) + np.kron(a, d[b])


@adjoint(np.cross)
def cross(z, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    d[a] = cross_grad(d[z], a, b, 0, axisa, axisb, axisc, axis)
    d[b] = cross_grad(d[z], a, b, 1, axisa, axisb, axisc, axis)


@tangent(np.cross)
def cross_t(z, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    d[z] = np.cross(d[a], b, axisa, axisb, axisc, axis) + np.cross(
        a, d[b], axisa, axisb, axisc, axis
    )


@adjoint(np.trace)
def trace(y, a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    d[a] = trace_grad(d[y], a, offset, axis1, axis2)


@tangent(np.trace)
def trace_t(y, a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    d[y] = np.trace(d[a], offset, axis1, axis2)


@adjoint(*present(np, "vecdot"), *present(np.linalg, "vecdot"))
def vecdot(y, x1, x2, axis=-1):
    d[x1] = unbroadcast(np.expand_dims(d[y], axis) * x2, x1)
    d[x2] = unbroadcast(np.expand_dims(d[y], axis) * x1, x2)


@tangent(*present(np, "vecdot"), *present(np.linalg, "vecdot"))
def vecdot_t(y, x1, x2, axis=-1):
    d[y] = np.sum(d[x1] * x2 + x1 * d[x2], axis=axis)


@adjoint(*present(np.linalg, "cross"))
def linalg_cross(z, x1, x2, axis=-1):
    d[x1] = cross_grad(d[z], x1, x2, 0, axis=axis)
    d[x2] = cross_grad(d[z], x1, x2, 1, axis=axis)


@tangent(*present(np.linalg, "cross"))
def linalg_cross_t(z, x1, x2, axis=-1):
    d[z] = np.cross(d[x1], x2, axis=axis) + np.cross(x1, d[x2], axis=axis)


@adjoint(*present(np.linalg, "trace"), notes="over the last two axes")
def linalg_trace(y, x, offset=0, dtype=None):
    d[x] = trace_grad(d[y], x, offset, -2, -1)


@tangent(*present(np.linalg, "trace"))
def linalg_trace_t(y, x, offset=0, dtype=None):
    d[y] = np.trace(d[x], offset, -2, -1)


@adjoint(np.linalg.multi_dot)
def multi_dot(y, arrays, out=None):
    d[arrays] = multi_dot_grad(d[y], arrays)


@tangent(np.linalg.multi_dot)
def multi_dot_t(y, arrays, out=None):
    d[y] = multi_dot_tangent(arrays, d[arrays])


@adjoint(np.convolve)
def convolve(z, a, v, mode="full"):
    d[a] = convolve_grad(d[z], a, v, mode, 0)
    d[v] = convolve_grad(d[z], a, v, mode, 1)


@tangent(np.convolve)
def convolve_t(z, a, v, mode="full"):
    d[z] = np.convolve(d[a], v, mode) + np.convolve(a, d[v], mode)


@adjoint(np.correlate)
def correlate(z, a, v, mode="valid"):
    d[a] = correlate_grad(d[z], a, v, mode, 0)
    d[v] = correlate_grad(d[z], a, v, mode, 1)


@tangent(np.correlate)
def correlate_t(z, a, v, mode="valid"):
    d[z] = np.correlate(d[a], v, mode) + np.correlate(a, d[v], mode)


@adjoint(np.polyval)
def polyval(y, p, x):
    d[p] = polyval_grad_p(d[y], p, x)
    d[x] = unbroadcast(d[y] * np.polyval(polyder(p), x), x)


@tangent(np.polyval)
def polyval_t(y, p, x):
    d[y] = np.polyval(d[p], x) + d[x] * np.polyval(polyder(p), x)


@adjoint(*present(np.linalg, "diagonal"), notes="of the last two axes")
def linalg_diagonal(y, x, offset=0):
    d[x] = diagonal_grad(d[y], x, offset, -2, -1)


@tangent(*present(np.linalg, "diagonal"))
def linalg_diagonal_t(y, x, offset=0):
    d[y] = np.diagonal(d[x], offset, -2, -1)
