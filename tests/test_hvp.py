"""Issue 4, forward over reverse: generated code is readable by `inspect` (s2s reads a
function's source), so forward mode runs over a generated gradient: `s2s.hvp`, and with it
`s2s.hessian`; `s2s.jacobian` in both modes."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, reals, sides

import s2s
from s2s.api import _generated


def quadratic(x):
    return np.sum(np.tanh(x) ** 2)


def test_generated_gradient_source_is_readable():
    gen = _generated(quadratic, 0, "grad")[0]
    fn = gen.entry[0]
    text = inspect.getsource(fn)
    assert text.strip().startswith("def grad_quadratic(x):")
    for line in gen.source.strip().splitlines():
        assert line in text
    x = np.array([0.3, -0.5])
    np.testing.assert_allclose(fn(x), 2 * np.tanh(x) * (1 - np.tanh(x) ** 2), rtol=1e-14)


def test_same_name_different_code_gets_its_own_source():
    def make(which):
        if which:

            def quadratic(x):
                return np.sum(np.tanh(x) ** 2)

        else:

            def quadratic(x):
                return np.sum(np.sin(x) * x)

        return quadratic

    a = _generated(make(True), 0, "grad")[0].entry[0]
    b = _generated(make(False), 0, "grad")[0].entry[0]
    assert a.__code__.co_filename != b.__code__.co_filename
    assert "np.tanh" in inspect.getsource(a) and "np.sin" in inspect.getsource(b)


# -- s2s.hvp: forward over reverse ---------------------------------------------------------------
# Each case is checked twice: against central differences of s2s's own gradient, and against a
# Hessian written by hand (so a gradient and an hvp wrong in the same way still fail).


def fd_hvp(f, args, v, wrt=0, eps=1e-5):
    """Central differences of s2s's gradient along `v` (arrays, floats or dicts of arrays)."""
    g = s2s.grad(f, wrt)

    def shifted(h):
        a = list(args)
        x = a[wrt]
        a[wrt] = {k: x[k] + h * v[k] for k in x} if isinstance(x, dict) else x + h * v
        return g(*a)

    gp, gm = shifted(eps), shifted(-eps)
    if isinstance(gp, dict):
        return {k: (gp[k] - gm[k]) / (2 * eps) for k in gp}
    return (gp - gm) / (2 * eps)


def quadratic_form(x, A):
    return 0.5 * (x @ A @ x)


def mlp_piece(x, W):
    return np.sum(np.tanh(W @ x))


def mlp_hessian(x, W):
    t = np.tanh(W @ x)
    return W.T @ np.diag(-2.0 * t * (1.0 - t * t)) @ W


def scalar_loop(x, n):
    y = 0.0
    for i in range(n):
        y = y + math.sin(x) * i
    return y * y


def branchy(x):
    if np.sum(x) > 0:
        y = np.sum(np.sin(x) * x)
    else:
        y = np.sum(x**3)
    return y


def branchy_hessian(x):
    if np.sum(x) > 0:
        return np.diag(2.0 * np.cos(x) - x * np.sin(x))
    return np.diag(6.0 * x)


def dict_param(p, x):
    return np.sum(np.tanh(p["W"] @ x + p["b"]) ** 2)


def cubic_helper(a):
    return a * a * a


def calls_user_function(x):
    return np.sum(cubic_helper(x) * x)  # sum x**4


def while_loop(x):
    y = x
    k = 0
    while k < 3:
        y = np.sin(y) * x
        k += 1
    return np.sum(y)


def matrices(n, m):
    return arrays((n, m), -1.0, 1.0, min_mag=0.0)


@given(arrays(sides(1, 5), -1.0, 1.0, min_mag=0.0), st.data())
def test_hvp_quadratic_form(x, data):
    n = x.shape[0]
    A, v = data.draw(matrices(n, n)), data.draw(arrays(n))
    hv = s2s.hvp(quadratic_form)(x, A, v)
    np.testing.assert_allclose(hv, 0.5 * (A + A.T) @ v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hv, fd_hvp(quadratic_form, (x, A), v), rtol=1e-6, atol=1e-8)


@given(arrays(sides(1, 4), -1.0, 1.0), st.data())
def test_hvp_mlp_piece(x, data):
    W = data.draw(matrices(3, x.shape[0]))
    v = data.draw(arrays(x.shape[0]))
    hv = s2s.hvp(mlp_piece)(x, W, v)
    np.testing.assert_allclose(hv, mlp_hessian(x, W) @ v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hv, fd_hvp(mlp_piece, (x, W), v), rtol=1e-6, atol=1e-8)


@given(reals(), st.integers(0, 4), reals())
def test_hvp_scalar_loop_pushes_and_pops_tangents(x, n, v):
    hv = s2s.hvp(scalar_loop)(x, n, v)
    s = n * (n - 1) / 2  # y = s * sin(x), f = s**2 sin(x)**2, f'' = 2 s**2 cos(2x)
    assert isinstance(hv, float)
    assert hv == pytest.approx(2 * s * s * math.cos(2 * x) * v, rel=1e-10, abs=1e-12)
    assert hv == pytest.approx(fd_hvp(scalar_loop, (x, n), v), rel=1e-6, abs=1e-7)


@given(arrays(sides(1, 4)), st.booleans(), st.data())
def test_hvp_branch(x, positive, data):
    x = np.abs(x) if positive else -np.abs(x)
    v = data.draw(arrays(x.shape[0]))
    hv = s2s.hvp(branchy)(x, v)
    np.testing.assert_allclose(hv, branchy_hessian(x) @ v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hv, fd_hvp(branchy, (x,), v), rtol=1e-6, atol=1e-8)


@given(arrays(3, -1.0, 1.0), st.data())
def test_hvp_dict_parameter(x, data):
    p = {"W": data.draw(matrices(2, 3)), "b": data.draw(arrays(2, -1.0, 1.0))}
    v = {"W": data.draw(matrices(2, 3)), "b": data.draw(arrays(2, -1.0, 1.0))}
    hv = s2s.hvp(dict_param)(p, x, v)
    assert set(hv) == {"W", "b"} and hv["W"].shape == (2, 3) and hv["b"].shape == (2,)
    # by hand: f = sum(t**2), t = tanh(z), z = W x + b; f'' along dz = sum((2 - 8 t^2 + 6 t^4) dz^2)
    t = np.tanh(p["W"] @ x + p["b"])
    dz = v["W"] @ x + v["b"]
    c = (2.0 - 8.0 * t**2 + 6.0 * t**4) * dz
    np.testing.assert_allclose(hv["b"], c, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hv["W"], np.outer(c, x), rtol=1e-10, atol=1e-12)  # x is fixed
    want = fd_hvp(dict_param, (p, x), v)
    for k in p:
        np.testing.assert_allclose(hv[k], want[k], rtol=1e-6, atol=1e-8)


@given(arrays(sides(1, 4)), st.data())
def test_hvp_through_a_user_function(x, data):
    v = data.draw(arrays(x.shape[0]))
    hv = s2s.hvp(calls_user_function)(x, v)
    np.testing.assert_allclose(hv, 12.0 * x**2 * v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hv, fd_hvp(calls_user_function, (x,), v), rtol=1e-6, atol=1e-8)


@given(arrays(sides(1, 4), -1.0, 1.0), st.data())
def test_hvp_while_loop(x, data):
    v = data.draw(arrays(x.shape[0]))
    hv = s2s.hvp(while_loop)(x, v)
    np.testing.assert_allclose(hv, fd_hvp(while_loop, (x,), v), rtol=1e-6, atol=1e-7)


def recursive(x, n):
    if n == 0:
        return x
    return np.sin(recursive(x, n - 1)) * x


def calls_recursive(x):
    return np.sum(recursive(x, 3))


def indexed_loop(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        s = s + x[i] * x[i + 1] ** 2
    return s


def indexed_loop_hessian(x):
    n = x.shape[0]
    H = np.zeros((n, n))
    for i in range(n - 1):  # s_i = x_i x_{i+1}^2
        H[i, i + 1] += 2 * x[i + 1]
        H[i + 1, i] += 2 * x[i + 1]
        H[i + 1, i + 1] += 2 * x[i]
    return H


def list_param(xs):
    return np.sum(xs[0] * xs[1] ** 2)


@given(arrays(sides(1, 3), -1.0, 1.0), st.data())
def test_hvp_recursion_shares_one_tangent_tape(x, data):
    v = data.draw(arrays(x.shape[0]))
    hv = s2s.hvp(calls_recursive)(x, v)
    np.testing.assert_allclose(hv, fd_hvp(calls_recursive, (x,), v), rtol=1e-6, atol=1e-7)
    src = s2s.source(calls_recursive, mode="hvp")
    # one tangent tape, made once and handed down every recursive call
    assert src.count("t_tape = []") == 1
    assert "jvp_fwd_recursive_2(tape, x, _1, t_tape, t_x)" in src, src


@given(arrays(sides(2, 5)), st.data())
def test_hvp_indexing_in_a_loop(x, data):
    v = data.draw(arrays(x.shape[0]))
    hv = s2s.hvp(indexed_loop)(x, v)
    np.testing.assert_allclose(hv, indexed_loop_hessian(x) @ v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hv, fd_hvp(indexed_loop, (x,), v), rtol=1e-6, atol=1e-8)


@given(arrays(3), arrays(3), arrays(3), arrays(3))
def test_hvp_list_parameter(a, b, va, vb):
    ha, hb = s2s.hvp(list_param)([a, b], [va, vb])
    # f = sum(a b^2): H [va, vb] = [2 b vb, 2 b va + 2 a vb]
    np.testing.assert_allclose(ha, 2 * b * vb, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hb, 2 * b * va + 2 * a * vb, rtol=1e-10, atol=1e-12)


def writes_a_dict_entry(x):
    d = {"a": x}
    d["a"] = d["a"] * x
    return np.sum(d["a"] ** 2)


def adds_a_dict_key(x):
    d = {"a": x}
    d["b"] = np.sin(d["a"])  # a key the dict did not have: the backward sweep removes it
    return np.sum(d["a"] * d["b"])


def overwritten_unread(x):
    d = {"a": x, "b": x * 2.0}
    d["b"] = np.sin(x) * 3.0  # never read again: its adjoint entry is d_d.get("b", 0.0), absent
    return np.sum(d["a"] * d["a"] * x)


def dict_entry_in_a_loop(x, n):
    d = {"h": x, "c": 0.5}
    for _ in range(n):
        d["h"] = np.tanh(d["h"] * d["c"] + x)
    return np.sum(d["h"] ** 2)


def dict_parameter_written(p, x):
    p["w"] = p["w"] * x  # (into the gradient's own copy of p)
    return np.sum(p["w"] ** 2) + np.sum(p["b"] * p["w"])


def _second_differences(f, x, v, h=1e-4):
    """v' H v by central second differences of f alone (no gradient of s2s's)."""
    return (f(x + h * v) - 2.0 * f(x) + f(x - h * v)) / (h * h)


@given(arrays(sides(1, 4), -1.5, 1.5), st.data())
def test_hvp_of_functions_writing_dict_entries(x, data):
    """The gradient saves and restores the dict entries it overwrites (`save_item`,
    `restore_item`, `d.get(key, 0.0)` of the adjoint dict); forward mode carries their
    tangents: an entry's tangent saved and put back, a new key removed again."""
    v = data.draw(arrays(x.shape[0]))
    hv = s2s.hvp(writes_a_dict_entry)(x, v)  # sum(x ** 4)
    np.testing.assert_allclose(hv, 12.0 * x**2 * v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hv, fd_hvp(writes_a_dict_entry, (x,), v), rtol=1e-6, atol=1e-6)
    hv = s2s.hvp(adds_a_dict_key)(x, v)  # sum(x sin x)
    want = (2.0 * np.cos(x) - x * np.sin(x)) * v
    np.testing.assert_allclose(hv, want, rtol=1e-10, atol=1e-12)
    hv = s2s.hvp(overwritten_unread)(x, v)  # sum(x ** 3): the default's tangent, 0.0
    np.testing.assert_allclose(hv, 6.0 * x * v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hv, fd_hvp(overwritten_unread, (x,), v), rtol=1e-6, atol=1e-6)
    n = data.draw(st.integers(0, 3))
    hv = s2s.hvp(dict_entry_in_a_loop)(x, n, v)
    np.testing.assert_allclose(hv, fd_hvp(dict_entry_in_a_loop, (x, n), v), rtol=1e-6, atol=1e-7)
    vhv = _second_differences(lambda y: dict_entry_in_a_loop(y, n), x, v)
    np.testing.assert_allclose(v @ hv, vhv, rtol=1e-4, atol=1e-5)


@given(arrays(3, -1.0, 1.0), st.data())
def test_hvp_of_a_dict_parameter_written_into(x, data):
    p = {"w": data.draw(arrays(3, -1.0, 1.0)), "b": data.draw(arrays(3, -1.0, 1.0))}
    v = {"w": data.draw(arrays(3, -1.0, 1.0)), "b": data.draw(arrays(3, -1.0, 1.0))}
    before = {k: a.copy() for k, a in p.items()}
    hv = s2s.hvp(dict_parameter_written)(p, x, v)
    for k in p:
        np.testing.assert_array_equal(p[k], before[k])  # the caller's dict is left alone
    # f = sum(w^2 x^2) + sum(b w x): H [vw, vb] = [2 x^2 vw + x vb, x vw]
    np.testing.assert_allclose(hv["w"], 2 * x**2 * v["w"] + x * v["b"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hv["b"], x * v["w"], rtol=1e-10, atol=1e-12)


def test_jvp_of_grad_is_forward_over_reverse():
    rng = np.random.default_rng(0)
    x, A, v = rng.normal(size=3), rng.normal(size=(3, 3)), rng.normal(size=3)
    g, hv = s2s.jvp(s2s.grad(quadratic_form))(x, A, v)
    np.testing.assert_allclose(g, 0.5 * (A + A.T) @ x, rtol=1e-12)
    np.testing.assert_allclose(hv, 0.5 * (A + A.T) @ v, rtol=1e-12)
    np.testing.assert_allclose(hv, s2s.hvp(quadratic_form)(x, A, v), rtol=1e-12)


def test_hvp_tuple_wrt():
    rng = np.random.default_rng(0)
    x, W = rng.normal(size=3), rng.normal(size=(2, 3))
    vx, vW = rng.normal(size=3), rng.normal(size=(2, 3))
    hx, hW = s2s.hvp(mlp_piece, wrt=(0, 1))(x, W, (vx, vW))
    eps = 1e-5
    g = s2s.grad(mlp_piece, wrt=(0, 1))
    gp, gm = g(x + eps * vx, W + eps * vW), g(x - eps * vx, W - eps * vW)
    np.testing.assert_allclose(hx, (gp[0] - gm[0]) / (2 * eps), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(hW, (gp[1] - gm[1]) / (2 * eps), rtol=1e-6, atol=1e-8)


def test_hvp_source_shows_the_tangent_tape():
    text = s2s.source(scalar_loop, mode="hvp")
    assert text.startswith("def jvp_grad_scalar_loop(x, n, t_x):")
    assert "t_tape.append(" in text and "t_tape.pop()" in text
    assert text == s2s.source(scalar_loop, mode="hvp")  # deterministic
    assert s2s.hvp(scalar_loop).s2s_source == text


# -- s2s.hessian ----------------------------------------------------------------------------------


@given(arrays(sides(1, 4), -1.0, 1.0), st.data())
def test_hessian_mlp_is_symmetric_and_matches_by_hand(x, data):
    W = data.draw(matrices(3, x.shape[0]))
    H = s2s.hessian(mlp_piece)(x, W)
    assert H.shape == (x.shape[0], x.shape[0])
    np.testing.assert_allclose(H, H.T, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(H, mlp_hessian(x, W), rtol=1e-10, atol=1e-12)


@given(arrays((2, 2), -1.0, 1.0))
def test_hessian_of_a_matrix_argument(X):
    def f(X):
        return np.sum(X**3) + X[0, 1] * X[1, 0]

    H = s2s.hessian(f)(X)
    want = np.zeros((2, 2, 2, 2))
    for i in range(2):
        for j in range(2):
            want[i, j, i, j] = 6.0 * X[i, j]
    want[0, 1, 1, 0] = want[1, 0, 0, 1] = 1.0
    np.testing.assert_allclose(H, want, rtol=1e-10, atol=1e-12)


def test_hessian_of_a_float():
    h = s2s.hessian(scalar_loop)(0.3, 3)
    assert isinstance(h, float)
    assert h == pytest.approx(2 * 9 * math.cos(0.6), rel=1e-12)


def test_hessian_refuses_a_tuple_wrt_and_a_dict():
    with pytest.raises(s2s.WrtError):
        s2s.hessian(mlp_piece, wrt=(0, 1))
    with pytest.raises(s2s.ArgumentError):
        s2s.hessian(dict_param)({"W": np.ones((2, 3)), "b": np.ones(2)}, np.ones(3))


# -- s2s.jacobian ---------------------------------------------------------------------------------


def layer(x, W):
    return np.tanh(W @ x) * x[0]


def fd_jacobian(f, x, *rest, eps=1e-6):
    cols = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = eps
        e = e.reshape(x.shape)
        cols.append(
            np.ravel((np.asarray(f(x + e, *rest)) - np.asarray(f(x - e, *rest))) / (2 * eps))
        )
    out_shape = np.shape(f(x, *rest))
    return np.stack(cols, axis=-1).reshape(out_shape + x.shape)


@given(arrays(sides(1, 4), -1.0, 1.0), st.data())
def test_jacobian_both_modes_agree_with_finite_differences(x, data):
    W = data.draw(matrices(3, x.shape[0]))
    Jr = s2s.jacobian(layer, mode="reverse")(x, W)
    Jf = s2s.jacobian(layer, mode="forward")(x, W)
    assert Jr.shape == Jf.shape == (3, x.shape[0])
    np.testing.assert_allclose(Jr, Jf, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(Jr, fd_jacobian(layer, x, W), rtol=1e-6, atol=1e-8)


@given(arrays((2, 3), -1.0, 1.0))
def test_jacobian_shape_is_out_shape_plus_in_shape(X):
    def f(X):
        return np.sin(X).T * 2.0

    for mode in ("reverse", "forward"):
        J = s2s.jacobian(f, mode=mode)(X)
        assert J.shape == (3, 2, 2, 3)
        np.testing.assert_allclose(J, fd_jacobian(f, X), rtol=1e-6, atol=1e-8)


def test_jacobian_of_float_to_float_is_a_float():
    for mode in ("reverse", "forward"):
        j = s2s.jacobian(scalar_loop, mode=mode)(0.3, 3)
        assert isinstance(j, float)
        assert j == pytest.approx(2 * 9 * math.sin(0.3) * math.cos(0.3), rel=1e-12)


def test_jacobian_unknown_mode():
    with pytest.raises(s2s.S2SError, match="unknown jacobian mode"):
        s2s.jacobian(layer, mode="sideways")
