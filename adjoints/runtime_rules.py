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

from typing import Any

import numpy as np
from s2s.backends import op_helpers as oh
from s2s.backends import runtime as rt
from s2s.backends.runtime import HELPERS, _is_zero, add_at, unbroadcast, unreduce, zeros_like

from .registry import Rule, d, side_table_decorator

#: id(helper) -> its tangent-only rule
RUNTIME_RULES: dict[int, Rule] = {}


def lookup(op: Any) -> Rule | None:
    """The tangent rule of runtime helper `op`, or None."""
    return RUNTIME_RULES.get(id(op))


_rule = side_table_decorator(RUNTIME_RULES, "tangent")


def add_at_tangent(td: Any, d: Any, index: Any, tg: Any) -> Any:
    """Tangent of `add_at(d, index, g)`: `tg` accumulated into `td` (a zero `td` becomes an
    owned zero with the structure of `d`)."""
    if _is_zero(td) and not _is_zero(d):
        td = zeros_like(d)
    if _is_zero(tg):
        return td
    return add_at(td, index, tg)


HELPERS["add_at_tangent"] = add_at_tangent


# -- tangent helpers: product rules the templates cannot spell with one call -------------------


def _plus(out: Any, term: Any) -> Any:
    return term if _is_zero(out) else out + term


def other_operand_tangent(
    helper: Any, which: int, g: Any, a: Any, b: Any, dg: Any, da: Any, db: Any, *rest: Any
) -> Any:
    """Tangent of `helper(g, a, b, *rest)`, the adjoint of `a` (which=0) or `b` (which=1) of a
    bilinear op: linear in `g` and in the other operand, the own operand read for its shape."""
    out: Any = 0.0
    if not _is_zero(dg):
        out = helper(dg, a, b, *rest)
    if which == 0 and not _is_zero(db):
        out = _plus(out, helper(g, a, db, *rest))
    if which == 1 and not _is_zero(da):
        out = _plus(out, helper(g, da, b, *rest))
    return out


def einsum_grad_tangent(
    g: Any, subscripts: str, i: int, operands: tuple, dg: Any, tangents: tuple
) -> Any:
    """Tangent of `einsum_grad(g, subscripts, i, *operands)`: linear in `g` and in every
    operand but the i-th (read for its shape)."""
    out: Any = 0.0
    if not _is_zero(dg):
        out = oh.einsum_grad(dg, subscripts, i, *operands)
    for j, t in enumerate(tangents):
        if j == i or operands[j] is None or _is_zero(t):
            continue
        swapped = list(operands)
        swapped[j] = t
        out = _plus(out, oh.einsum_grad(g, subscripts, i, *swapped))
    return out


def multi_dot_grad_tangent(g: Any, arrays: Any, dg: Any, tangents: Any) -> list:
    """Tangent of `multi_dot_grad(g, arrays)`: the k-th adjoint is linear in `g` and in every
    array but the k-th."""
    n = len(arrays)
    out: list = [0.0] * n
    if not _is_zero(dg):
        out = list(oh.multi_dot_grad(dg, arrays))
    for j in range(n):
        t = 0.0 if _is_zero(tangents) else tangents[j]
        if _is_zero(t):
            continue
        swapped = list(arrays)
        swapped[j] = t
        part = oh.multi_dot_grad(g, swapped)
        out = [o if k == j else _plus(o, part[k]) for k, o in enumerate(out)]
    return [zeros_like(x) if _is_zero(o) else o for o, x in zip(out, arrays, strict=True)]


def average_grad_tangent(
    g: Any, a: Any, axis: Any, weights: Any, keepdims: bool, dg: Any, dw: Any
) -> Any:
    """Tangent of `average_grad(g, a, axis, weights, keepdims)`: `g` and the weights."""
    out: Any = 0.0
    if not _is_zero(dg):
        out = oh.average_grad(dg, a, axis, weights, keepdims)
    if weights is not None and not _is_zero(dw):
        w = oh._weights_like(weights, a, axis)
        tw = oh._weights_like(dw, a, axis)
        total = np.sum(w, axis=axis, keepdims=True)
        dtotal = np.sum(tw, axis=axis, keepdims=True)
        gu = unreduce(g, a, axis, keepdims)
        out = _plus(out, gu * (tw / total - w * dtotal / (total * total)))
    return out


def average_weights_grad_tangent(
    g: Any,
    y: Any,
    a: Any,
    axis: Any,
    weights: Any,
    keepdims: bool,
    dg: Any,
    dy: Any,
    da: Any,
    dw: Any,
) -> Any:
    """Tangent of `average_weights_grad(g, y, a, axis, weights, keepdims)`."""
    w = oh._weights_like(weights, a, axis)
    total = np.sum(w, axis=axis, keepdims=True)
    gu = unreduce(g, a, axis, keepdims)
    centered = a - unreduce(y, a, axis, keepdims)
    t: Any = 0.0
    if not _is_zero(dg):
        t = unreduce(dg, a, axis, keepdims) * centered / total
    if not _is_zero(da):
        t = _plus(t, gu * da / total)
    if not _is_zero(dy):
        t = _plus(t, -gu * unreduce(dy, a, axis, keepdims) / total)
    if not _is_zero(dw):
        dtotal = np.sum(oh._weights_like(dw, a, axis), axis=axis, keepdims=True)
        t = _plus(t, -gu * centered * dtotal / (total * total))
    if _is_zero(t):
        return zeros_like(weights)
    t = t * np.ones_like(a)
    if np.ndim(weights) == np.ndim(a):
        return unbroadcast(t, weights)
    other = tuple(i for i in range(np.ndim(a)) if i != axis % np.ndim(a))
    return np.sum(t, axis=other)


def trapezoid_grad_tangent(
    g: Any, y: Any, x: Any, dx: Any, axis: int, which: int, dg: Any, ty: Any, tx: Any, tdx: Any
) -> Any:
    """Tangent of `trapezoid_grad(g, y, x, dx, axis, which)`: linear in `g`; the adjoint of y
    is linear in the spacing (x, or dx), those of x and dx linear in y."""
    out: Any = 0.0
    if not _is_zero(dg):
        out = oh.trapezoid_grad(dg, y, x, dx, axis, which)
    if which == 0:
        if x is not None and not _is_zero(tx):
            out = _plus(out, oh.trapezoid_grad(g, y, tx, dx, axis, 0))
        if x is None and not _is_zero(tdx):
            out = _plus(out, oh.trapezoid_grad(g, y, None, tdx, axis, 0))
    elif not _is_zero(ty):
        out = _plus(out, oh.trapezoid_grad(g, ty, x, dx, axis, which))
    return out


def polyval_grad_p_tangent(g: Any, p: Any, x: Any, dg: Any, dx: Any) -> Any:
    """Tangent of `polyval_grad_p(g, p, x)` (the sums of g * x**k)."""
    out: Any = 0.0
    if not _is_zero(dg):
        out = oh.polyval_grad_p(dg, p, x)
    if not _is_zero(dx):
        n = np.shape(p)[0]
        gx = g * dx * np.ones_like(x)
        terms = [
            np.sum(gx * (k * x ** (k - 1))) if k else np.sum(gx * 0.0) for k in range(n - 1, -1, -1)
        ]
        out = _plus(out, np.stack(terms))
    return out


def sinc_derivative_tangent(x: Any, y: Any, dx: Any, dy: Any) -> Any:
    """Tangent of `sinc_derivative(x, y) = (cos(pi x) - y) / x` (y = sinc(x)); at 0 the
    second derivative of sinc, -pi**2 / 3, along dx."""
    at0 = x == 0
    safe = np.where(at0, 1.0, x)
    s = oh.sinc_derivative(x, y)
    out: Any = 0.0
    if not _is_zero(dx):
        dsdx = np.where(at0, -(np.pi**2) / 3.0, (-np.pi * np.sin(np.pi * x) - s) / safe)
        out = dsdx * dx
    if not _is_zero(dy):
        out = _plus(out, np.where(at0, 0.0, -1.0 / safe) * dy)
    return out


def tetragamma(x: Any) -> Any:
    """The second derivative of digamma, the tangent factor of `trigamma`."""
    return oh.polygamma(2, x)


def logsumexp_grad_tangent(
    g: Any,
    a: Any,
    y: Any,
    axis: Any,
    b: Any,
    keepdims: bool,
    dg: Any,
    da: Any,
    dy: Any,
    db: Any,
) -> Any:
    """Tangent of `logsumexp_grad(g, a, y, axis, b, keepdims) = g * b * exp(a - y)`."""
    e = np.exp(a - unreduce(y, a, axis, keepdims))
    w = e if b is None else e * b
    gu = unreduce(g, a, axis, keepdims)
    out: Any = 0.0
    if not _is_zero(dg):
        out = unreduce(dg, a, axis, keepdims) * w
    if not _is_zero(da):
        out = _plus(out, gu * w * da)
    if not _is_zero(dy):
        out = _plus(out, -gu * w * unreduce(dy, a, axis, keepdims))
    if b is not None and not _is_zero(db):
        out = _plus(out, gu * e * db)
    return out


def interp_slope_tangent(x: Any, xp: Any, fp: Any, dxp: Any, dfp: Any) -> Any:
    """Tangent of `interp_slope(x, xp, fp)` (piecewise constant in x): the slope of the
    segment moves with its knots and values."""
    i = oh._interp_cell(x, xp)
    h = xp[i + 1] - xp[i]
    slope = (fp[i + 1] - fp[i]) / h
    out: Any = 0.0
    if not _is_zero(dfp):
        out = (dfp[i + 1] - dfp[i]) / h
    if not _is_zero(dxp):
        out = _plus(out, -slope * (dxp[i + 1] - dxp[i]) / h)
    inside = (x >= xp[0]) & (x <= xp[-1])
    return np.where(inside, out, 0.0)


def interp_fp_grad_tangent(g: Any, x: Any, xp: Any, fp: Any, dg: Any, dx: Any, dxp: Any) -> Any:
    """Tangent of `interp_fp_grad(g, x, xp, fp)`: linear in `g`; the weights `t` of the two
    knots move with x and with the knots (inside a segment: clipped weights do not)."""
    out: Any = 0.0
    if not _is_zero(dg):
        out = oh.interp_fp_grad(dg, x, xp, fp)
    if _is_zero(dx) and _is_zero(dxp):
        return out
    i = np.ravel(oh._interp_cell(x, xp))
    xf = np.ravel(x)
    gf = np.ravel(g * np.ones_like(x))
    h = xp[i + 1] - xp[i]
    t = (xf - xp[i]) / h
    dt: Any = 0.0
    if not _is_zero(dx):
        dt = np.ravel(dx * np.ones_like(x)) / h
    if not _is_zero(dxp):
        dt = _plus(dt, (-dxp[i] - t * (dxp[i + 1] - dxp[i])) / h)
    dt = np.where((t > 0.0) & (t < 1.0), dt, 0.0)
    part = np.zeros_like(fp)
    oh.scatter_add(part, i, -gf * dt)
    oh.scatter_add(part, i + 1, gf * dt)
    return _plus(out, part)


def interp_xp_grad_tangent(
    g: Any, x: Any, xp: Any, fp: Any, dg: Any, dx: Any, dxp: Any, dfp: Any
) -> Any:
    """Tangent of `interp_xp_grad(g, x, xp, fp)`: with A = g (fp[i+1] - fp[i]) / h, the knot
    adjoints are A (t - 1) and -A t, every factor moving."""
    i = np.ravel(oh._interp_cell(x, xp))
    xf = np.ravel(x)
    gf = np.ravel(g * np.ones_like(x))
    tg = 0.0 if _is_zero(dg) else np.ravel(dg * np.ones_like(x))
    tx = 0.0 if _is_zero(dx) else np.ravel(dx * np.ones_like(x))
    txp = zeros_like(xp) if _is_zero(dxp) else dxp
    tfp = zeros_like(fp) if _is_zero(dfp) else dfp
    h = xp[i + 1] - xp[i]
    df = fp[i + 1] - fp[i]
    t = (xf - xp[i]) / h
    dh = txp[i + 1] - txp[i]
    dA = (tg * df + gf * (tfp[i + 1] - tfp[i]) - gf * df * dh / h) / h
    A = gf * df / h
    dt = (tx - txp[i] - t * dh) / h
    inside = (xf >= xp[0]) & (xf <= xp[-1])
    out = np.zeros_like(xp)
    oh.scatter_add(out, i, np.where(inside, dA * (t - 1.0) + A * dt, 0.0))
    oh.scatter_add(out, i + 1, np.where(inside, -dA * t - A * dt, 0.0))
    return out


def _second_derivative(f: Any, X: Any, E: Any, F: Any) -> Any:
    """The second derivative D^2 f(X)[E, F] of a matrix function, exactly: the corner block of
    f of the block bidiagonal matrix [[X, E, 0], [0, X, F], [0, 0, X]] is the term with E
    before F; the other order is added."""
    n = np.shape(X)[-1]
    Z = np.zeros_like(X)

    def corner(P: Any, Q: Any) -> Any:
        M = np.concatenate(
            [
                np.concatenate([X, P, Z], axis=-1),
                np.concatenate([Z, X, Q], axis=-1),
                np.concatenate([Z, Z, X], axis=-1),
            ],
            axis=-2,
        )
        return f(M)[..., :n, 2 * n :]

    return corner(E, F) + corner(F, E)


def matrix_power_grad_tangent(g: Any, a: Any, n: int, dg: Any, da: Any) -> Any:
    """Tangent of `matrix_power_grad(g, a, n)`, the derivative of X**n at a^T applied to g."""
    out: Any = 0.0
    if not _is_zero(dg):
        out = oh.matrix_power_grad(dg, a, n)
    if not _is_zero(da) and n not in (0, 1):
        power = lambda M: np.linalg.matrix_power(M, n)  # noqa: E731
        out = _plus(out, _second_derivative(power, oh._mT(a), g, oh._mT(da)))
    return out


def expm_grad_tangent(a: Any, g: Any, da: Any, dg: Any) -> Any:
    """Tangent of `expm_grad(a, g)`, the derivative of expm at a^T applied to g."""
    from scipy.linalg import expm

    out: Any = 0.0
    if not _is_zero(dg):
        out = oh.expm_grad(a, dg)
    if not _is_zero(da):
        out = _plus(out, _second_derivative(expm, oh._mT(a), g, oh._mT(da)))
    return out


def pinv_grad_tangent(p: Any, a: Any, g: Any, dp: Any, da: Any, dg: Any) -> Any:
    """Tangent of `pinv_grad(p, a, g)`: the product rule on each of its three terms."""
    T = oh._mT
    dp = zeros_like(p) if _is_zero(dp) else dp
    da = zeros_like(a) if _is_zero(da) else da
    dg = zeros_like(g) if _is_zero(dg) else dg
    pT, gT, dpT, dgT = T(p), T(g), T(dp), T(dg)
    out = -(dpT @ g @ pT + pT @ dg @ pT + pT @ g @ dpT)
    q = gT - a @ (p @ gT)
    dq = dgT - da @ p @ gT - a @ dp @ gT - a @ p @ dgT
    out = out + dq @ p @ pT + q @ dp @ pT + q @ p @ dpT
    r = gT - (gT @ p) @ a
    dr = dgT - dgT @ p @ a - gT @ dp @ a - gT @ p @ da
    return out + dpT @ p @ r + pT @ dp @ r + pT @ p @ dr


def norm_grad_tangent(
    g: Any, x: Any, y: Any, ord: Any, axis: Any, keepdims: bool, dg: Any, dx: Any, dy: Any
) -> Any:
    """Tangent of `norm_grad(g, x, y, ord, axis, keepdims)`. The 1-, inf- and 0-norms (vector
    and matrix) have a piecewise constant adjoint: only `g` moves it."""
    out: Any = 0.0
    if not _is_zero(dg):
        out = oh.norm_grad(dg, x, y, ord, axis, keepdims)
    nd = np.ndim(x)
    matrix = (nd == 2 and ord is not None) if axis is None else len(oh._axes(axis, nd)) == 2
    if ord in (None, "fro", "f") or (not matrix and ord == 2):
        p = 2.0
    elif not matrix and ord not in (1, 0, np.inf, -np.inf):
        p = float(ord)
    elif ord in (1, -1, 0, np.inf, -np.inf):
        return out
    elif ord in ("nuc", 2, -2):
        if _is_zero(dx):
            return out
        return _plus(out, matrix_norm_svd_tangent(g, x, ord, axis, keepdims, dx))
    else:
        raise NotImplementedError(
            f"s2s: no second derivative for np.linalg.norm(ord={ord!r}) of a matrix"
        )
    # the adjoint is g / y**(p-1) * sign(x) |x|**(p-1)
    dy = 0.0 if _is_zero(dy) else dy
    dx = 0.0 if _is_zero(dx) else dx
    scale = unreduce(g / y ** (p - 1), x, axis, keepdims)
    dscale = unreduce(-(p - 1) * g * dy / y**p, x, axis, keepdims)
    shape = np.sign(x) * np.abs(x) ** (p - 1)
    return _plus(out, dscale * shape + scale * (p - 1) * np.abs(x) ** (p - 2) * dx)


def vector_norm_grad_tangent(
    g: Any, x: Any, y: Any, ord: Any, axis: Any, keepdims: bool, dg: Any, dx: Any, dy: Any
) -> Any:
    """Tangent of `vector_norm_grad` (axis None: all entries as one vector)."""
    if axis is not None:
        return norm_grad_tangent(g, x, y, ord, axis, keepdims, dg, dx, dy)
    flat = norm_grad_tangent(
        np.reshape(g, ()),
        np.ravel(x),
        np.reshape(y, ()),
        ord,
        0,
        False,
        dg if _is_zero(dg) else np.reshape(dg, ()),
        dx if _is_zero(dx) else np.ravel(dx),
        dy if _is_zero(dy) else np.reshape(dy, ()),
    )
    return flat if _is_zero(flat) else np.reshape(flat, np.shape(x))


# -- matrix decompositions: their adjoint helpers are built from the factors, whose tangents the
# ops' own forward rules give (oh.eigh_tangent, oh.svd_tangent, ...); zero tangents become arrays


def _pair_F_tangent(w: Any, dw: Any) -> Any:
    """Tangent of `_pair_F(w)`, F[i, j] = 1 / (w[j] - w[i]): -F[i, j]**2 (dw[j] - dw[i])."""
    F = oh._pair_F(w)
    return -F * F * (dw[..., None, :] - dw[..., :, None])


def _sym(X: Any) -> Any:
    return 0.5 * (X + oh._mT(X))


def _lower_copied_up(M: Any) -> Any:
    """The lower triangle of M mirrored into the upper one (as `qr_grad` builds it)."""
    return np.tril(M) + oh._mT(np.tril(M, -1))


def cholesky_grad_tangent(L: Any, g: Any, dL: Any, dg: Any) -> Any:
    """Tangent of `cholesky_grad(L, g) = sym(L^-T Phi(L^T g) L^-1)`."""
    T, Z = oh._mT, oh._or_zeros
    dL, dg = Z(dL, L), Z(dg, g)
    Lt = T(L)
    P = oh._phi(Lt @ g)
    dP = oh._phi(T(dL) @ g + Lt @ dg)
    X = np.linalg.solve(Lt, T(np.linalg.solve(Lt, T(P))))  # L^-T P L^-1
    # d(L^-T P L^-1) = L^-T (dP L^-1 - dL^T X) - X dL L^-1
    left = np.linalg.solve(Lt, T(np.linalg.solve(Lt, T(dP))) - T(dL) @ X)
    right = T(np.linalg.solve(Lt, T(X @ dL)))
    return _sym(left - right)


def qr_grad_tangent(q: Any, r: Any, gq: Any, gr: Any, dq: Any, dr: Any, dgq: Any, dgr: Any) -> Any:
    """Tangent of `qr_grad(q, r, gq, gr) = (gq + q copyltu(M)) r^-T`, M = r gr^T - gq^T q."""
    T, Z = oh._mT, oh._or_zeros
    gq, gr = Z(gq, q), Z(gr, r)
    dq, dr, dgq, dgr = Z(dq, q), Z(dr, r), Z(dgq, q), Z(dgr, r)
    M = _lower_copied_up(r @ T(gr) - T(gq) @ q)
    dM = _lower_copied_up(dr @ T(gr) + r @ T(dgr) - T(dgq) @ q - T(gq) @ dq)
    out = T(np.linalg.solve(r, T(gq + q @ M)))
    # out r^T = rhs, so d(out) = (d(rhs) - out dr^T) r^-T
    drhs = dgq + dq @ M + q @ dM
    return T(np.linalg.solve(r, T(drhs - out @ T(dr))))


def eigh_grad_tangent(
    w: Any, v: Any, gw: Any, gv: Any, dw: Any, dv: Any, dgw: Any, dgv: Any
) -> Any:
    """Tangent of `eigh_grad(w, v, gw, gv) = sym(v (diag(gw) + F o v^T gv) v^T)`."""
    T, Z = oh._mT, oh._or_zeros
    gw, gv, dw, dv, dgw, dgv = Z(gw, w), Z(gv, v), Z(dw, w), Z(dv, v), Z(dgw, w), Z(dgv, v)
    F = oh._pair_F(w)
    vg = T(v) @ gv
    inner = oh._diag_embed(gw) + F * vg
    dinner = oh._diag_embed(dgw) + _pair_F_tangent(w, dw) * vg + F * (T(dv) @ gv + T(v) @ dgv)
    return _sym(dv @ inner @ T(v) + v @ dinner @ T(v) + v @ inner @ T(dv))


def eigvalsh_grad_tangent(g: Any, a: Any, dg: Any, da: Any) -> Any:
    """Tangent of `eigvalsh_grad(g, a)`: the eigenvectors move with a (eigh's forward rule)."""
    w, v = np.linalg.eigh(a)
    dw, dv = (0.0, 0.0) if _is_zero(da) else oh.eigh_tangent(w, v, da)
    return eigh_grad_tangent(w, v, g, 0.0, dw, dv, dg, 0.0)


def svd_grad_tangent(
    a: Any, y: Any, g: Any, full_matrices: bool, compute_uv: bool, da: Any, dy: Any, dg: Any
) -> Any:
    """Tangent of `svd_grad(a, y, g, full_matrices, compute_uv)`: the product rule through every
    factor of its formula. Without compute_uv the factors are recomputed from `a`, and move
    with it by svd's forward rule."""
    T, Z, D = oh._mT, oh._or_zeros, oh._diag_embed
    if not compute_uv:
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        du, ds, dvh = (0.0,) * 3 if _is_zero(da) else oh.svd_tangent(a, da, False, True)
        gu, gs, gvh = 0.0, g, 0.0
        dgu, dgs, dgvh = 0.0, dg, 0.0
    else:
        u, s, vh = y
        du, ds, dvh = (0.0,) * 3 if _is_zero(dy) else dy
        gu, gs, gvh = g
        dgu, dgs, dgvh = (0.0,) * 3 if _is_zero(dg) else dg
    m, n = np.shape(a)[-2:]
    k = min(m, n)
    u, vh = u[..., :, :k], vh[..., :k, :]
    du, gu, dgu = (Z(x, u)[..., :, :k] for x in (du, gu, dgu))
    dvh, gvh, dgvh = (Z(x, vh)[..., :k, :] for x in (dvh, gvh, dgvh))
    ds, gs, dgs = Z(ds, s), Z(gs, s), Z(dgs, s)
    v, dv, gv, dgv = T(vh), T(dvh), T(gvh), T(dgvh)
    S, dS = D(s), D(ds)
    F, dF = oh._pair_F(s * s), _pair_F_tangent(s * s, 2.0 * s * ds)
    ug, vg = T(u) @ gu, T(v) @ gv
    J, K = F * ug, F * vg
    dJ = dF * ug + F * (T(du) @ gu + T(u) @ dgu)
    dK = dF * vg + F * (T(dv) @ gv + T(v) @ dgv)
    inner = D(gs) + (J + T(J)) @ S + S @ (K + T(K))
    dinner = D(dgs) + (dJ + T(dJ)) @ S + (J + T(J)) @ dS + dS @ (K + T(K)) + S @ (dK + T(dK))
    out = du @ inner @ vh + u @ dinner @ vh + u @ inner @ dvh
    if m > k:  # the part of gu outside span(u)
        A = gu - u @ ug
        dA = dgu - du @ ug - u @ (T(du) @ gu + T(u) @ dgu)
        sr = s[..., None, :]
        out = out + (dA / sr - A * ds[..., None, :] / (sr * sr)) @ vh + (A / sr) @ dvh
    if n > k:  # the part of gv outside span(v)
        B = T(gv - v @ vg)
        dB = T(dgv - dv @ vg - v @ (T(dv) @ gv + T(v) @ dgv))
        sc = s[..., :, None]
        out = out + du @ (B / sc) + u @ (dB / sc - B * ds[..., :, None] / (sc * sc))
    return out


def lstsq_grad_tangent(g: Any, a: Any, b: Any, which: int, dg: Any, da: Any, db: Any) -> Any:
    """Tangent of `lstsq_grad(g, a, b, which)` (x = pinv(a) b, r = a x - b)."""
    Z = oh._or_zeros
    da, db = Z(da, a), Z(db, b)
    p = np.linalg.pinv(a)
    x = p @ b
    r = a @ x - b
    gx, gres = Z(g[0], x), g[1]
    dgx, dgres = (0.0, 0.0) if _is_zero(dg) else (dg[0], dg[1])
    dgx = Z(dgx, x)
    dp = oh.pinv_tangent(p, a, da)
    dx = dp @ b + p @ db
    dr = da @ x + a @ dx - db
    with_res = not _is_zero(gres) and np.size(gres) > 0
    dgres = Z(dgres, gres) if with_res else 0.0
    if which == 1:
        out = oh._mT(dp) @ gx + oh._mT(p) @ dgx
        return out - 2.0 * (dr * gres + r * dgres) if with_res else out
    gp = oh.outer_like(gx, b, b)
    dgp = oh.outer_like(dgx, b, b) + oh.outer_like(gx, db, b)
    out = pinv_grad_tangent(p, a, gp, dp, da, dgp)
    if with_res:
        out = out + 2.0 * (
            oh.outer_like(dr * gres + r * dgres, x, b) + oh.outer_like(r * gres, dx, b)
        )
    return out


def matrix_norm_svd_tangent(g: Any, x: Any, ord: Any, axis: Any, keepdims: bool, dx: Any) -> Any:
    """The part of the tangent of `norm_grad` for the nuclear and (-)2-norms of a matrix that
    moves with x: the adjoint is g u vh (nuclear) or g u_k vh_k (k the largest or smallest
    singular value), and the singular vectors move by svd's forward rule."""
    nd = np.ndim(x)
    axes = tuple(range(nd)) if axis is None else oh._axes(axis, nd)
    r, c = axes
    xm = np.moveaxis(x, (r, c), (-2, -1))
    dxm = np.moveaxis(dx * np.ones_like(x), (r, c), (-2, -1))
    gm = unreduce(g, x, axes, keepdims)
    gm = np.moveaxis(gm, (r, c), (-2, -1))[..., :1, :1][..., 0, 0]
    u, _, vh = np.linalg.svd(xm, full_matrices=False)
    du, _, dvh = oh.svd_tangent(xm, dxm, False, True)
    if ord != "nuc":
        k = slice(0, 1) if ord == 2 else slice(-1, None)
        u, vh, du, dvh = u[..., :, k], vh[..., k, :], du[..., :, k], dvh[..., k, :]
    out = (du @ vh + u @ dvh) * gm[..., None, None]
    return np.moveaxis(out, (-2, -1), (r, c))


for _helper in (
    other_operand_tangent,
    einsum_grad_tangent,
    multi_dot_grad_tangent,
    average_grad_tangent,
    average_weights_grad_tangent,
    trapezoid_grad_tangent,
    polyval_grad_p_tangent,
    sinc_derivative_tangent,
    tetragamma,
    logsumexp_grad_tangent,
    interp_slope_tangent,
    interp_fp_grad_tangent,
    interp_xp_grad_tangent,
    matrix_power_grad_tangent,
    expm_grad_tangent,
    pinv_grad_tangent,
    norm_grad_tangent,
    vector_norm_grad_tangent,
    cholesky_grad_tangent,
    qr_grad_tangent,
    eigh_grad_tangent,
    eigvalsh_grad_tangent,
    svd_grad_tangent,
    lstsq_grad_tangent,
    matrix_norm_svd_tangent,
):
    HELPERS[_helper.__name__] = _helper


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


@_rule(rt.field_key, zero=("x", "attr", "where"))
def field_key_t(z, x, attr, where):
    """The key of a field (a position or a name)."""


@_rule(rt.shape_of, zero=("x",))
def shape_of_t(z, x):
    """A stand-in read only for its shape and dtype."""


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


@_rule(rt.save_item, zero=("key",))
def save_item_t(z, dct, key):  # (`d` is reserved in templates)
    d[z] = save_item_tangent(d[dct], dct, key)


@_rule(rt.restore_item, zero=("key",))
def restore_item_t(z, dct, key, old):  # restore_item writes into dct: z is dct
    d[z] = restore_item_tangent(d[dct], dct, key, d[old])


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


@_rule(rt.builtin_extremum_grad, zero=("x", "other", "greater"))
def builtin_extremum_grad_t(z, g, x, other, greater):
    d[z] = builtin_extremum_grad(d[g], x, other, greater)


@_rule(rt.builtin_extremum_tangent, zero=("x", "other", "greater"))
def builtin_extremum_tangent_t(z, t, x, other, greater):
    d[z] = builtin_extremum_tangent(d[t], x, other, greater)


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


@_rule(oh.hstack_grad, zero=("tup",))
def hstack_grad_t(z, g, tup):
    d[z] = hstack_grad(d[g], tup)


@_rule(oh.vstack_grad, zero=("tup",))
def vstack_grad_t(z, g, tup):
    d[z] = vstack_grad(d[g], tup)


@_rule(oh.dstack_grad, zero=("tup",))
def dstack_grad_t(z, g, tup):
    d[z] = dstack_grad(d[g], tup)


@_rule(oh.column_stack_grad, zero=("tup",))
def column_stack_grad_t(z, g, tup):
    d[z] = column_stack_grad(d[g], tup)


@_rule(oh.stack_back, zero=("pieces", "axis"))
def stack_back_t(z, g, pieces, axis=0):
    d[z] = stack_back(d[g], pieces, axis)


@_rule(oh.tile_grad, zero=("a", "reps"))
def tile_grad_t(z, g, a, reps):
    d[z] = tile_grad(d[g], a, reps)


@_rule(oh.repeat_grad, zero=("a", "repeats", "axis"))
def repeat_grad_t(z, g, a, repeats, axis=None):
    d[z] = repeat_grad(d[g], a, repeats, axis)


@_rule(oh.unroll, zero=("shift", "axis"))
def unroll_t(z, g, shift, axis=None):
    d[z] = unroll(d[g], shift, axis)


@_rule(oh.pad_grad, zero=("array", "pad_width", "mode"))
def pad_grad_t(z, g, array, pad_width, mode="constant"):
    d[z] = pad_grad(d[g], array, pad_width, mode)


@_rule(oh.pad_constant_grad, zero=("array", "pad_width"))
def pad_constant_grad_t(z, g, array, pad_width):
    d[z] = pad_constant_grad(d[g], array, pad_width)


@_rule(oh.append_grad, zero=("arr", "values", "axis", "which"))
def append_grad_t(z, g, arr, values, axis, which):
    d[z] = append_grad(d[g], arr, values, axis, which)


@_rule(oh.resize_grad, zero=("a",))
def resize_grad_t(z, g, a):
    d[z] = resize_grad(d[g], a)


@_rule(oh.delete_grad, zero=("arr", "obj", "axis"))
def delete_grad_t(z, g, arr, obj, axis=None):
    d[z] = delete_grad(d[g], arr, obj, axis)


@_rule(oh.drop_initial, zero=("axis", "include_initial"))
def drop_initial_t(z, g, axis, include_initial):
    d[z] = drop_initial(d[g], axis, include_initial)


@_rule(oh.ediff1d_core, zero=("to_end", "to_begin"))
def ediff1d_core_t(z, g, to_end, to_begin):
    d[z] = ediff1d_core(d[g], to_end, to_begin)


@_rule(oh.median_grad, zero=("a", "axis", "keepdims"))  # `a` picks the middle: piecewise const
def median_grad_t(z, g, a, axis=None, keepdims=False):
    d[z] = median_grad(d[g], a, axis, keepdims)


@_rule(oh.select_grad, zero=("condlist", "choicelist"))
def select_grad_t(z, g, condlist, choicelist):
    d[z] = select_grad(d[g], condlist, choicelist)


@_rule(oh.select_default_grad, zero=("condlist", "default"))
def select_default_grad_t(z, g, condlist, default):
    d[z] = select_default_grad(d[g], condlist, default)


@_rule(oh.choose_grad, zero=("a", "choices"))
def choose_grad_t(z, g, a, choices):
    d[z] = choose_grad(d[g], a, choices)


@_rule(oh.compress_grad, zero=("condition", "a", "axis"))
def compress_grad_t(z, g, condition, a, axis=None):
    d[z] = compress_grad(d[g], condition, a, axis)


@_rule(oh.diag_grad, zero=("v", "k"))
def diag_grad_t(z, g, v, k=0):
    d[z] = diag_grad(d[g], v, k)


@_rule(oh.diagonal_grad, zero=("a", "offset", "axis1", "axis2"))
def diagonal_grad_t(z, g, a, offset=0, axis1=0, axis2=1):
    d[z] = diagonal_grad(d[g], a, offset, axis1, axis2)


@_rule(oh.trace_grad, zero=("a", "offset", "axis1", "axis2"))
def trace_grad_t(z, g, a, offset=0, axis1=0, axis2=1):
    d[z] = trace_grad(d[g], a, offset, axis1, axis2)


@_rule(oh.take_grad, zero=("a", "indices", "axis"))
def take_grad_t(z, g, a, indices, axis=None):
    d[z] = take_grad(d[g], a, indices, axis)


@_rule(oh.take_along_axis_grad, zero=("arr", "indices", "axis"))
def take_along_axis_grad_t(z, g, arr, indices, axis):
    d[z] = take_along_axis_grad(d[g], arr, indices, axis)


@_rule(oh.unpermute, zero=("order", "a", "axis"))
def unpermute_t(z, g, order, a, axis=-1):
    d[z] = unpermute(d[g], order, a, axis)


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


@_rule(oh.inner_grad, zero=("a",))
def inner_grad_t(z, g, a, b):
    d[z] = inner_grad(d[g], a, b) + inner_grad(g, a, d[b])


@_rule(oh.inner_grad_b, zero=("b",))
def inner_grad_b_t(z, g, a, b):
    d[z] = inner_grad_b(d[g], a, b) + inner_grad_b(g, d[a], b)


@_rule(oh.tensordot_grad_a, zero=("a", "axes"))
def tensordot_grad_a_t(z, g, a, b, axes=2):
    d[z] = tensordot_grad_a(d[g], a, b, axes) + tensordot_grad_a(g, a, d[b], axes)


@_rule(oh.tensordot_grad_b, zero=("b", "axes"))
def tensordot_grad_b_t(z, g, a, b, axes=2):
    d[z] = tensordot_grad_b(d[g], a, b, axes) + tensordot_grad_b(g, d[a], b, axes)


@_rule(oh.cov_grad, zero=("y", "rowvar", "bias", "ddof"))
def cov_grad_t(z, g, m, y, rowvar=True, bias=False, ddof=None):
    d[z] = cov_grad(d[g], m, y, rowvar, bias, ddof) + cov_grad(g, d[m], y, rowvar, bias, ddof)


@_rule(oh.kron_grad, zero=("which",))
def kron_grad_t(z, g, a, b, which):
    d[z] = other_operand_tangent(kron_grad, which, g, a, b, d[g], d[a], d[b], which)


@_rule(oh.cross_grad, zero=("which", "axisa", "axisb", "axisc", "axis"))
def cross_grad_t(z, g, a, b, which, axisa=-1, axisb=-1, axisc=-1, axis=None):
    d[z] = other_operand_tangent(
        cross_grad, which, g, a, b, d[g], d[a], d[b], which, axisa, axisb, axisc, axis
    )


@_rule(oh.convolve_grad, zero=("mode", "which"))
def convolve_grad_t(z, g, a, v, mode, which):
    d[z] = other_operand_tangent(convolve_grad, which, g, a, v, d[g], d[a], d[v], mode, which)


@_rule(oh.correlate_grad, zero=("mode", "which"))
def correlate_grad_t(z, g, a, v, mode, which):
    d[z] = other_operand_tangent(correlate_grad, which, g, a, v, d[g], d[a], d[v], mode, which)


@_rule(oh.einsum_grad, zero=("subscripts", "i"))
def einsum_grad_t(z, g, subscripts, i, a=None, b=None, c=None, e=None):
    d[z] = einsum_grad_tangent(g, subscripts, i, (a, b, c, e), d[g], (d[a], d[b], d[c], d[e]))


@_rule(oh.multi_dot_grad)
def multi_dot_grad_t(z, g, arrays):
    d[z] = multi_dot_grad_tangent(g, arrays, d[g], d[arrays])


@_rule(oh.average_grad, zero=("a", "axis", "keepdims"))
def average_grad_t(z, g, a, axis, weights, keepdims):
    d[z] = average_grad_tangent(g, a, axis, weights, keepdims, d[g], d[weights])


@_rule(oh.average_weights_grad, zero=("axis", "keepdims"))
def average_weights_grad_t(z, g, y, a, axis, weights, keepdims):
    d[z] = average_weights_grad_tangent(
        g, y, a, axis, weights, keepdims, d[g], d[y], d[a], d[weights]
    )


@_rule(oh.trapezoid_grad, zero=("axis", "which"))
def trapezoid_grad_t(z, g, y, x, dx, axis, which):
    d[z] = trapezoid_grad_tangent(g, y, x, dx, axis, which, d[g], d[y], d[x], d[dx])


@_rule(oh.polyder)  # the adjoint of np.polyval's x differentiates p
def polyder_t(z, p):
    d[z] = polyder(d[p])


@_rule(oh.polyval_grad_p, zero=("p",))
def polyval_grad_p_t(z, g, p, x):
    d[z] = polyval_grad_p_tangent(g, p, x, d[g], d[x])


@_rule(oh.matvec_like, zero=("b",))
def matvec_like_t(z, m, x, b):
    d[z] = matvec_like(d[m], x, b) + matvec_like(m, d[x], b)


@_rule(oh.outer_like, zero=("b",))
def outer_like_t(z, u, v, b):
    d[z] = outer_like(d[u], v, b) + outer_like(u, d[v], b)


@_rule(oh.solve_like, zero=("b",))
def solve_like_t(z, a, rhs, b):
    d[z] = solve_like(a, d[rhs] - matvec_like(d[a], z, b), b)


# -- nonlinear: the derivative itself ----------------------------------------------------------


@_rule(oh.sinc_derivative)
def sinc_derivative_t(z, x, y):
    d[z] = sinc_derivative_tangent(x, y, d[x], d[y])


@_rule(oh.digamma)
def digamma_t(z, x):
    d[z] = d[x] * trigamma(x)


@_rule(oh.trigamma)
def trigamma_t(z, x):
    d[z] = d[x] * tetragamma(x)


@_rule(oh.logsumexp_grad, zero=("axis", "keepdims"))
def logsumexp_grad_t(z, g, a, y, axis=None, b=None, keepdims=False):
    d[z] = logsumexp_grad_tangent(g, a, y, axis, b, keepdims, d[g], d[a], d[y], d[b])


@_rule(oh.log_softmax_grad, zero=("axis",))
def log_softmax_grad_t(z, g, y, axis=None):
    d[z] = log_softmax_grad(d[g], y, axis) - np.exp(y) * d[y] * np.sum(g, axis=axis, keepdims=True)


@_rule(oh.interp_slope, zero=("x",))  # piecewise constant in x
def interp_slope_t(z, x, xp, fp):
    d[z] = interp_slope_tangent(x, xp, fp, d[xp], d[fp])


@_rule(oh.interp_fp_grad, zero=("fp",))
def interp_fp_grad_t(z, g, x, xp, fp):
    d[z] = interp_fp_grad_tangent(g, x, xp, fp, d[g], d[x], d[xp])


@_rule(oh.interp_xp_grad)
def interp_xp_grad_t(z, g, x, xp, fp):
    d[z] = interp_xp_grad_tangent(g, x, xp, fp, d[g], d[x], d[xp], d[fp])


@_rule(oh.matrix_power_grad, zero=("n",))
def matrix_power_grad_t(z, g, a, n):
    d[z] = matrix_power_grad_tangent(g, a, n, d[g], d[a])


@_rule(oh.expm_grad)
def expm_grad_t(z, a, g):
    d[z] = expm_grad_tangent(a, g, d[a], d[g])


@_rule(oh.pinv_grad)
def pinv_grad_t(z, p, a, g):
    d[z] = pinv_grad_tangent(p, a, g, d[p], d[a], d[g])


@_rule(oh.norm_grad, zero=("ord", "axis", "keepdims"))
def norm_grad_t(z, g, x, y, ord=None, axis=None, keepdims=False):
    d[z] = norm_grad_tangent(g, x, y, ord, axis, keepdims, d[g], d[x], d[y])


@_rule(oh.vector_norm_grad, zero=("ord", "axis", "keepdims"))
def vector_norm_grad_t(z, g, x, y, ord=2, axis=None, keepdims=False):
    d[z] = vector_norm_grad_tangent(g, x, y, ord, axis, keepdims, d[g], d[x], d[y])


@_rule(oh.cholesky_grad)
def cholesky_grad_t(z, L, g):
    d[z] = cholesky_grad_tangent(L, g, d[L], d[g])


@_rule(oh.qr_grad)
def qr_grad_t(z, q, r, gq, gr):
    d[z] = qr_grad_tangent(q, r, gq, gr, d[q], d[r], d[gq], d[gr])


@_rule(oh.eigh_grad)
def eigh_grad_t(z, w, v, gw, gv):
    d[z] = eigh_grad_tangent(w, v, gw, gv, d[w], d[v], d[gw], d[gv])


@_rule(oh.eigvalsh_grad)
def eigvalsh_grad_t(z, g, a):
    d[z] = eigvalsh_grad_tangent(g, a, d[g], d[a])


@_rule(oh.svd_grad, zero=("full_matrices", "compute_uv"))
def svd_grad_t(z, a, y, g, full_matrices=True, compute_uv=True):
    d[z] = svd_grad_tangent(a, y, g, full_matrices, compute_uv, d[a], d[y], d[g])


@_rule(oh.lstsq_grad, zero=("which",))
def lstsq_grad_t(z, g, a, b, which):
    d[z] = lstsq_grad_tangent(g, a, b, which, d[g], d[a], d[b])


# -- the helpers of reverse over reverse (adjoints/runtime_adjoints.py): forward mode over a
# gradient of a gradient. Each is linear in its first argument; the others give shapes, indices
# or piecewise-constant masks.

from . import runtime_adjoints as ra  # noqa: E402  (after the rules above: one import order)


@_rule(ra.sum_to, zero=("x",))
def sum_to_t(z, g, x):
    d[z] = sum_to(d[g], x)


@_rule(ra.like_adjoint, zero=("x",))
def like_adjoint_t(z, g, x):
    d[z] = like_adjoint(d[g], x)


@_rule(ra.reduce_adjoint, zero=("r", "x", "axis", "keepdims"))
def reduce_adjoint_t(z, g, r, x, axis=None, keepdims=False):
    d[z] = reduce_adjoint(d[g], r, x, axis, keepdims)


@_rule(ra.take_adjoint, zero=("index", "g"))
def take_adjoint_t(z, acc, index, g):
    d[z] = take_adjoint(d[acc], index, g)


@_rule(ra.put_adjoint, zero=("acc", "index"))
def put_adjoint_t(z, g, acc, index):
    d[z] = put_adjoint(d[g], acc, index)


@_rule(ra.spread_adjoint, zero=("xs",))
def spread_adjoint_t(z, g, xs):
    d[z] = spread_adjoint(d[g], xs)


@_rule(ra.restack, zero=("x", "axis"))
def restack_t(z, g, x, axis=0):
    d[z] = restack(d[g], x, axis)


@_rule(ra.sum_list_adjoint, zero=("x",))
def sum_list_adjoint_t(z, g, x):
    d[z] = sum_list_adjoint(d[g], x)


@_rule(ra.extremum_adjoint, zero=("r", "x", "y", "axis", "keepdims"))
def extremum_adjoint_t(z, g, r, x, y, axis=None, keepdims=False):
    d[z] = extremum_adjoint(d[g], r, x, y, axis, keepdims)


@_rule(ra.binary_extremum_adjoint, zero=("r", "x", "other", "greater"))
def binary_extremum_adjoint_t(z, g, r, x, other, greater):
    d[z] = binary_extremum_adjoint(d[g], r, x, other, greater)


__all__ = ["RUNTIME_RULES", "add_at_tangent", "lookup"]
