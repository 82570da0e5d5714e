"""Issue 4: second derivatives through the matrix decompositions (cholesky, qr, eigh, eigvalsh,
svd, svdvals, lstsq, and the nuclear and 2-norms of a matrix, which go through the SVD).

Two levels, both against central differences in float64 on random well-conditioned inputs:

- the tangent of each adjoint helper (`adjoints/runtime_rules.py`), with a nonzero tangent on
  every input at once, against differences of the helper itself; the factors it reads move by
  the op's own forward rule, exactly as in a forward sweep over a generated gradient;
- `s2s.hvp` on forms `test_hvp_ops.py` does not cover (batches, a matrix right-hand side of
  lstsq, the -2-norm, norms over chosen axes, a square full SVD), against differences of
  `s2s.grad` along the same direction.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_cases import sym, well_conditioned
from s2s.adjoints import runtime_rules as rr
from s2s.backends import op_helpers as oh

import s2s

EPS = 1e-6
seeds = st.integers(0, 2**32 - 1)


def _shift(x: Any, dx: Any, h: float) -> Any:
    if isinstance(x, (list, tuple)):
        return type(x)(_shift(a, b, h) for a, b in zip(x, dx, strict=True))
    return x + h * dx


def _differences(f: Callable, xs: tuple, dxs: tuple) -> Any:
    """Central differences of f at xs along dxs (every argument moves at once)."""
    plus = f(*(_shift(x, dx, EPS) for x, dx in zip(xs, dxs, strict=True)))
    minus = f(*(_shift(x, dx, -EPS) for x, dx in zip(xs, dxs, strict=True)))
    return (plus - minus) / (2 * EPS)


def _close(got: Any, want: Any) -> None:
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def _batch(r: np.random.Generator, make: Callable, *shape: int) -> np.ndarray:
    return np.stack([make(r, *shape) for _ in range(2)])


# -- the helpers' tangents ----------------------------------------------------------------------


@settings(deadline=None)
@given(seed=seeds)
def test_cholesky_grad_tangent(seed: int) -> None:
    r = np.random.default_rng(seed)
    a = _batch(r, well_conditioned, 3, 3)
    a = a @ oh._mT(a)  # symmetric positive definite
    da = r.standard_normal(a.shape)
    da = da + oh._mT(da)
    g, dg = r.standard_normal(a.shape), r.standard_normal(a.shape)
    L = np.linalg.cholesky(a)
    got = rr.cholesky_grad_tangent(L, g, oh.cholesky_tangent(L, da), dg)
    want = _differences(lambda a, g: oh.cholesky_grad(np.linalg.cholesky(a), g), (a, g), (da, dg))
    _close(got, want)


@settings(deadline=None)
@given(seed=seeds, shape=st.sampled_from([(4, 3), (3, 3), (2, 4, 2)]))
def test_qr_grad_tangent(seed: int, shape: tuple) -> None:
    r = np.random.default_rng(seed)
    a = well_conditioned(r, *shape) if len(shape) == 2 else _batch(r, well_conditioned, *shape[1:])
    da = r.standard_normal(a.shape)
    q, rr_ = np.linalg.qr(a)
    dq, dr = oh.qr_tangent(q, rr_, da)
    gq, dgq = r.standard_normal(q.shape), r.standard_normal(q.shape)
    gr, dgr = r.standard_normal(rr_.shape), r.standard_normal(rr_.shape)
    got = rr.qr_grad_tangent(q, rr_, gq, gr, dq, dr, dgq, dgr)
    want = _differences(
        lambda a, gq, gr: oh.qr_grad(*np.linalg.qr(a), gq, gr), (a, gq, gr), (da, dgq, dgr)
    )
    _close(got, want)
    # an unused factor's adjoint is the scalar 0.0, and so is its tangent
    got = rr.qr_grad_tangent(q, rr_, 0.0, gr, dq, dr, 0.0, dgr)
    want = _differences(lambda a, gr: oh.qr_grad(*np.linalg.qr(a), 0.0, gr), (a, gr), (da, dgr))
    _close(got, want)


@settings(deadline=None)
@given(seed=seeds)
def test_eigh_and_eigvalsh_grad_tangents(seed: int) -> None:
    r = np.random.default_rng(seed)
    a = _batch(r, sym, 3) * 2.0  # symmetric, distinct eigenvalues
    da = r.standard_normal(a.shape)
    da = da + oh._mT(da)
    w, v = np.linalg.eigh(a)
    dw, dv = oh.eigh_tangent(w, v, da)
    gw, dgw = r.standard_normal(w.shape), r.standard_normal(w.shape)
    gv, dgv = r.standard_normal(v.shape), r.standard_normal(v.shape)
    got = rr.eigh_grad_tangent(w, v, gw, gv, dw, dv, dgw, dgv)
    want = _differences(
        lambda a, gw, gv: oh.eigh_grad(*np.linalg.eigh(a), gw, gv), (a, gw, gv), (da, dgw, dgv)
    )
    _close(got, want)
    got = rr.eigvalsh_grad_tangent(gw, a, dgw, da)
    _close(got, _differences(oh.eigvalsh_grad, (gw, a), (dgw, da)))


@settings(deadline=None)
@given(seed=seeds, shape=st.sampled_from([(4, 3), (2, 4), (3, 3), (2, 3, 2), (2, 2, 3)]))
def test_svd_grad_tangent(seed: int, shape: tuple) -> None:
    r = np.random.default_rng(seed)
    a = well_conditioned(r, *shape) if len(shape) == 2 else _batch(r, well_conditioned, *shape[1:])
    da = r.standard_normal(a.shape)
    y = np.linalg.svd(a, full_matrices=False)
    dy = oh.svd_tangent(a, da, False, True)
    g = [r.standard_normal(np.shape(p)) for p in y]
    dg = [r.standard_normal(np.shape(p)) for p in y]

    def vectors(a: Any, g: Any) -> Any:
        return oh.svd_grad(a, np.linalg.svd(a, full_matrices=False), g, False, True)

    _close(
        rr.svd_grad_tangent(a, y, g, False, True, da, dy, dg),
        _differences(vectors, (a, g), (da, dg)),
    )

    def values(a: Any, gs: Any) -> Any:
        return oh.svd_grad(a, None, gs, False, False)

    got = rr.svd_grad_tangent(a, y[1], g[1], False, False, da, dy[1], dg[1])
    _close(got, _differences(values, (a, g[1]), (da, dg[1])))


@settings(deadline=None)
@given(seed=seeds, columns=st.sampled_from([None, 1, 3]), which=st.sampled_from([0, 1]))
def test_lstsq_grad_tangent(seed: int, columns: int | None, which: int) -> None:
    r = np.random.default_rng(seed)
    a = well_conditioned(r, 5, 3)
    b = r.standard_normal((5,) if columns is None else (5, columns))
    da, db = r.standard_normal(a.shape), r.standard_normal(b.shape)
    y = np.linalg.lstsq(a, b)
    g = [r.standard_normal(np.shape(y[0])), r.standard_normal(np.shape(y[1])), 0.0, 0.0]
    dg = [r.standard_normal(np.shape(y[0])), r.standard_normal(np.shape(y[1])), 0.0, 0.0]
    got = rr.lstsq_grad_tangent(g, a, b, which, dg, da, db)

    def adjoint(a: Any, b: Any, g: Any) -> Any:
        return oh.lstsq_grad(g, a, b, which)

    _close(got, _differences(adjoint, (a, b, g), (da, db, dg)))


@settings(deadline=None)
@given(
    seed=seeds,
    form=st.sampled_from(
        [
            ("nuc", None, False, (3, 4)),
            (2, None, False, (4, 3)),
            (-2, None, True, (3, 3)),
            ("nuc", (-2, -1), True, (2, 3, 3)),
            (2, (0, 2), False, (3, 2, 4)),
            (-2, (2, 0), True, (3, 2, 4)),
        ]
    ),
)
def test_matrix_norm_grad_tangent(seed: int, form: tuple) -> None:
    ord, axis, keepdims, shape = form
    r = np.random.default_rng(seed)
    x, dx = r.standard_normal(shape), r.standard_normal(shape)
    y = np.linalg.norm(x, ord, axis, keepdims)
    g, dg = r.standard_normal(np.shape(y)), r.standard_normal(np.shape(y))

    def adjoint(x: Any, g: Any) -> Any:
        return oh.norm_grad(g, x, np.linalg.norm(x, ord, axis, keepdims), ord, axis, keepdims)

    # the nuclear and 2-norms' adjoints do not read y, so its tangent is not needed
    got = rr.norm_grad_tangent(g, x, y, ord, axis, keepdims, dg, dx, 0.0)
    _close(got, _differences(adjoint, (x, g), (dx, dg)))


# -- s2s.hvp over forms the op cases do not have ------------------------------------------------


def cholesky_batched(a, w):
    s = a + np.swapaxes(a, -1, -2)
    return np.sum(np.linalg.cholesky(s) * w)


def qr_batched(a, w):
    q, r = np.linalg.qr(a)
    return np.sum(q * w[0]) + np.sum(r * r)


def eigh_batched(a, w):
    vals, vecs = np.linalg.eigh(a + np.swapaxes(a, -1, -2))
    return np.sum(vals * vals) + np.sum(vecs * vecs * w)


def svd_square_full(a, w):
    u, s, vh = np.linalg.svd(a)
    return np.sum(u * u * w) + np.sum(s**3) + np.sum((vh[0] * vh[1]) ** 2)


def svd_batched_wide(a, w):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(s * s * s) + np.sum(u * u * w[..., :2, :2]) + np.sum(vh**4)


def lstsq_columns(a, b, w):
    x, res, rank, sv = np.linalg.lstsq(a, b)
    return np.sum(x * x * w) + np.sum(res * res)


def matrix_norms(x, w):
    return np.sum(np.linalg.norm(x, -2, axis=(0, 2)) * w) + np.linalg.norm(x[0], 2) ** 2


def _spd_half(r: np.random.Generator, *batch: int) -> np.ndarray:
    a = r.standard_normal(batch + (3, 3))
    return 0.5 * (a @ np.swapaxes(a, -1, -2)) + 1.5 * np.eye(3)


HVP_CASES: dict[str, tuple[Callable, Callable, Any]] = {
    "cholesky_batched": (
        cholesky_batched,
        lambda r: (_spd_half(r, 2), r.standard_normal((2, 3, 3))),
        0,
    ),
    "qr_batched": (
        qr_batched,
        lambda r: (_batch(r, well_conditioned, 4, 3), r.standard_normal((1, 2, 4, 3))),
        0,
    ),
    "eigh_batched": (eigh_batched, lambda r: (_batch(r, sym, 3), r.standard_normal((2, 3, 3))), 0),
    "svd_square_full": (
        svd_square_full,
        lambda r: (well_conditioned(r, 3, 3), r.standard_normal((3, 3))),
        0,
    ),
    "svd_batched_wide": (
        svd_batched_wide,
        lambda r: (_batch(r, well_conditioned, 2, 3), r.standard_normal((2, 2, 3))),
        0,
    ),
    "lstsq_columns": (
        lstsq_columns,
        lambda r: (well_conditioned(r, 5, 2), r.standard_normal((5, 3)), r.standard_normal((2, 3))),
        (0, 1),
    ),
    "matrix_norms": (
        matrix_norms,
        lambda r: (r.standard_normal((3, 2, 4)), r.standard_normal(2)),
        0,
    ),
}


@pytest.mark.parametrize("name", sorted(HVP_CASES))
@settings(max_examples=5, deadline=None)
@given(seed=seeds)
def test_hvp_through_decompositions(name: str, seed: int) -> None:
    fn, make, wrt = HVP_CASES[name]
    r = np.random.default_rng(seed)
    args = make(r)
    positions = wrt if isinstance(wrt, tuple) else (wrt,)
    v = tuple(r.standard_normal(np.shape(args[p])) for p in positions)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = s2s.hvp(fn, wrt=wrt)(*args, v if isinstance(wrt, tuple) else v[0])
        grad = s2s.grad(fn, wrt=wrt)

        def shifted(h: float) -> tuple:
            moved = list(args)
            for p, vp in zip(positions, v, strict=True):
                moved[p] = args[p] + h * vp
            out = grad(*moved)
            return out if isinstance(wrt, tuple) else (out,)

        plus, minus = shifted(EPS), shifted(-EPS)
    got = got if isinstance(wrt, tuple) else (got,)
    for g, p, m in zip(got, plus, minus, strict=True):
        _close(g, (p - m) / (2 * EPS))
