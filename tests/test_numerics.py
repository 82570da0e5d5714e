"""Issue 9: numerics. NaN and Inf propagate as the primal's would; 0-d, empty and size-1
(broadcast) arrays keep their shapes; float32 stays float32; the caller's arrays are not
written. Reverse mode is checked against central differences and forward mode (jvp) against
reverse mode."""

import numpy as np
import pytest
from fd import numerical_grad
from hypothesis import given
from strategies import arrays

import s2s


def square_sum(x):
    return np.sum(x * x)


def tanh_sum(x):
    return np.sum(np.tanh(x) * 2.0)


def scaled(x, w):
    return np.sum(np.sin(x * w))


def test_nan_propagates_where_the_primal_has_it():
    x = np.array([np.nan, 1.0, -2.0])
    value, g = s2s.value_and_grad(square_sum)(x.copy())
    assert np.isnan(value) and np.isnan(square_sum(x))
    assert np.isnan(g[0]) and np.array_equal(g[1:], [2.0, -4.0])
    _, t = s2s.jvp(square_sum)(x.copy(), np.array([0.0, 1.0, 0.0]))
    assert np.isnan(t)  # 0 * nan, as the primal's arithmetic gives


def test_inf_propagates_as_the_primal_would():
    x = np.array([np.inf, 1.0])
    value, g = s2s.value_and_grad(square_sum)(x.copy())
    assert value == np.inf and g[0] == np.inf and g[1] == 2.0
    # tanh saturates: its derivative at inf is exactly 0, like the primal's slope
    value, g = s2s.value_and_grad(tanh_sum)(np.array([np.inf, -np.inf, 0.5]))
    assert value == pytest.approx(2 * np.tanh(0.5))
    np.testing.assert_allclose(g, [0.0, 0.0, 2 * (1 - np.tanh(0.5) ** 2)])


@given(x=arrays(()))
def test_zero_d_array(x):
    g = s2s.grad(tanh_sum)(x)
    assert isinstance(g, np.ndarray) and g.shape == () and g.dtype == np.float64
    np.testing.assert_allclose(g, numerical_grad(tanh_sum, (x,)), rtol=1e-6)
    _, t = s2s.jvp(tanh_sum)(x, np.array(1.0))
    assert t == pytest.approx(float(g), rel=1e-12)


def test_empty_array():
    x = np.zeros((0,))
    value, g = s2s.value_and_grad(square_sum)(x)
    assert value == 0.0 and g.shape == (0,) and g.dtype == np.float64
    _, t = s2s.jvp(square_sum)(x, np.zeros((0,)))
    assert t == 0.0


@pytest.mark.parametrize(
    "xshape, wshape", [((3,), (1,)), ((2, 3), (1, 3)), ((2, 3), (2, 1)), ((3,), ()), ((1,), (4,))]
)
@given(data=arrays(12))
def test_size_one_broadcasting(xshape, wshape, data):
    nx, nw = int(np.prod(xshape)), int(np.prod(wshape))
    x, w = data[:nx].reshape(xshape), data[nx : nx + nw].reshape(wshape)
    gx, gw = s2s.grad(scaled, wrt=(0, 1))(x, w)
    assert gx.shape == x.shape and gw.shape == w.shape
    want_x, want_w = numerical_grad(scaled, (x, w), wrt=(0, 1))
    np.testing.assert_allclose(gx, want_x, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(gw, want_w, rtol=1e-6, atol=1e-9)
    tw = np.ones_like(w)
    _, t = s2s.jvp(scaled, wrt=1)(x, w, tw)
    assert t == pytest.approx(float(np.sum(gw * tw)), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(x=arrays(4, dtype=np.float32))
def test_dtype_preserved(dtype, x):
    x = x.astype(dtype)
    value, g = s2s.value_and_grad(tanh_sum)(x)
    assert g.dtype == dtype and g.shape == x.shape
    assert np.asarray(value).dtype == np.asarray(tanh_sum(x)).dtype
    _, t = s2s.jvp(tanh_sum)(x, np.ones_like(x))
    assert np.asarray(t).dtype == dtype
    rtol = 1e-5 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(g, numerical_grad(tanh_sum, (x,)), rtol=max(rtol, 1e-6))


@given(x=arrays(3), w=arrays(3))
def test_caller_arrays_not_written(x, w):
    x0, w0 = x.copy(), w.copy()
    s2s.grad(scaled, wrt=(0, 1))(x, w)
    s2s.value_and_grad(scaled)(x, w)
    s2s.vjp(scaled)(x, w)[1](1.0)
    s2s.jvp(scaled)(x, w, np.ones(3))
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)
