"""Linear algebra (numpy.linalg): inverses, determinants, solves, factorizations, norms.

Factorizations that return several arrays (slogdet, qr, eigh, svd, lstsq) get the adjoint of the
whole result, `d[y]`, as a list with one entry per part (0.0 for a part that is not used).
Matrices are the last two axes; leading axes are batches.
"""
# ruff: noqa: F821  (templates name the runtime helpers that generated code binds)

import numpy as np

from .registry import adjoint, d, nondiff, present, tangent


@adjoint(np.linalg.inv)
def inv(y, a):
    yt = np.swapaxes(y, -1, -2)
    d[a] = -(yt @ d[y] @ yt)


@tangent(np.linalg.inv)
def inv_t(y, a):
    d[y] = -(y @ d[a] @ y)


@adjoint(np.linalg.pinv, notes="full rank")
def pinv(y, a, rcond=None, hermitian=False):
    d[a] = pinv_grad(y, a, d[y])


@tangent(np.linalg.pinv)
def pinv_t(y, a, rcond=None, hermitian=False):
    d[y] = pinv_tangent(y, a, d[a])


@adjoint(np.linalg.det)
def det(y, a):
    d[a] = np.expand_dims(d[y] * y, (-2, -1)) * np.swapaxes(np.linalg.inv(a), -1, -2)


@tangent(np.linalg.det)
def det_t(y, a):
    d[y] = y * np.trace(np.linalg.solve(a, d[a]), axis1=-2, axis2=-1)


@adjoint(np.linalg.slogdet, notes="w.r.t. logabsdet (the sign is piecewise constant)")
def slogdet(y, a):
    d[a] = np.expand_dims(d[y][1], (-2, -1)) * np.swapaxes(np.linalg.inv(a), -1, -2)


@tangent(np.linalg.slogdet)
def slogdet_t(y, a):
    d[y] = (np.zeros_like(y[0]), np.trace(np.linalg.solve(a, d[a]), axis1=-2, axis2=-1))


@adjoint(np.linalg.solve)
def solve(x, a, b):
    g_b = solve_like(np.swapaxes(a, -1, -2), d[x], b)
    d[a] = unbroadcast(-outer_like(g_b, x, b), a)
    d[b] = unbroadcast(g_b, b)


@tangent(np.linalg.solve)
def solve_t(x, a, b):
    d[x] = solve_like(a, d[b] - matvec_like(d[a], x, b), b)


@adjoint(np.linalg.cholesky, notes="symmetric gradient")
def cholesky(y, a, upper=False):
    d[a] = cholesky_grad(y, d[y])


@tangent(np.linalg.cholesky)
def cholesky_t(y, a, upper=False):
    d[y] = cholesky_tangent(y, d[a])


@adjoint(np.linalg.qr, notes="mode='reduced', rows >= columns")
def qr(y, a, mode="reduced"):
    d[a] = qr_grad(y[0], y[1], d[y][0], d[y][1])


@tangent(np.linalg.qr)
def qr_t(y, a, mode="reduced"):
    d[y] = qr_tangent(y[0], y[1], d[a])


@adjoint(np.linalg.eigh, notes="values and vectors; distinct eigenvalues; symmetric gradient")
def eigh(y, a, UPLO="L"):
    d[a] = eigh_grad(y[0], y[1], d[y][0], d[y][1])


@tangent(np.linalg.eigh)
def eigh_t(y, a, UPLO="L"):
    d[y] = eigh_tangent(y[0], y[1], d[a])


@adjoint(np.linalg.eigvalsh, notes="distinct eigenvalues; symmetric gradient")
def eigvalsh(y, a, UPLO="L"):
    d[a] = eigvalsh_grad(d[y], a)


@tangent(np.linalg.eigvalsh)
def eigvalsh_t(y, a, UPLO="L"):
    d[y] = eigvalsh_tangent(a, d[a])


@adjoint(np.linalg.svd, notes="values and vectors; distinct nonzero singular values")
def svd(y, a, full_matrices=True, compute_uv=True, hermitian=False):
    d[a] = svd_grad(a, y, d[y], full_matrices, compute_uv)


@tangent(np.linalg.svd)
def svd_t(y, a, full_matrices=True, compute_uv=True, hermitian=False):
    d[y] = svd_tangent(a, d[a], full_matrices, compute_uv)


@adjoint(np.linalg.lstsq, notes="full rank; through the solution and the residuals")
def lstsq(y, a, b, rcond=None):
    d[a] = lstsq_grad(d[y], a, b, 0)
    d[b] = lstsq_grad(d[y], a, b, 1)


@tangent(np.linalg.lstsq)
def lstsq_t(y, a, b, rcond=None):
    d[y] = lstsq_tangent(y, a, b, d[a], d[b])


@adjoint(np.linalg.matrix_power)
def matrix_power(y, a, n):
    d[a] = matrix_power_grad(d[y], a, n)


@tangent(np.linalg.matrix_power)
def matrix_power_t(y, a, n):
    d[y] = matrix_power_tangent(a, d[a], n)


@adjoint(np.linalg.norm, notes="ord None/fro/nuc/1/2/inf/-1/-2/-inf/p, axis; ties share")
def norm(y, x, ord=None, axis=None, keepdims=False):
    d[x] = norm_grad(d[y], x, y, ord, axis, keepdims)


@tangent(np.linalg.norm)
def norm_t(y, x, ord=None, axis=None, keepdims=False):
    d[y] = norm_tangent(d[x], x, y, ord, axis, keepdims)


@adjoint(*present(np.linalg, "svdvals"), notes="distinct nonzero singular values")
def svdvals(y, x):
    d[x] = svd_grad(x, y, d[y], False, False)


@tangent(*present(np.linalg, "svdvals"))
def svdvals_t(y, x):
    d[y] = svd_tangent(x, d[x], False, False)


@adjoint(*present(np.linalg, "vector_norm"), notes="ord 1/2/inf/-inf/p, axis; ties share")
def vector_norm(y, x, axis=None, keepdims=False, ord=2):
    d[x] = vector_norm_grad(d[y], x, y, ord, axis, keepdims)


@tangent(*present(np.linalg, "vector_norm"))
def vector_norm_t(y, x, axis=None, keepdims=False, ord=2):
    d[y] = np.sum(
        d[x] * vector_norm_grad(np.ones_like(y), x, y, ord, axis, keepdims),
        axis=axis,
        keepdims=keepdims,
    )


@adjoint(*present(np.linalg, "matrix_norm"), notes="ord fro/nuc/1/2/inf/-1/-2/-inf")
def matrix_norm(y, x, keepdims=False, ord="fro"):
    d[x] = norm_grad(d[y], x, y, ord, (-2, -1), keepdims)


@tangent(*present(np.linalg, "matrix_norm"))
def matrix_norm_t(y, x, keepdims=False, ord="fro"):
    d[y] = norm_tangent(d[x], x, y, ord, (-2, -1), keepdims)


@adjoint(np.cov, notes="rows are variables (rowvar), ddof")
def cov(c, m, y=None, rowvar=True, bias=False, ddof=None):
    d[m] = cov_grad(d[c], m, y, rowvar, bias, ddof)


@tangent(np.cov)
def cov_t(c, m, y=None, rowvar=True, bias=False, ddof=None):
    d[c] = cov_tangent(d[m], m, y, rowvar, bias, ddof)


nondiff(np.linalg.matrix_rank, np.linalg.cond, reason="integer or condition number")
