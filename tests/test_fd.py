"""The finite-difference reference itself, checked against gradients known in closed form.

These run without s2s: if they fail, every other failure in the suite is suspect.
"""

import math

import numpy as np
import pytest
from fd import assert_tree_close, numerical_grad, resolve_wrt
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, reals


def cube_sum(x):
    return np.sum(x**3)


def weighted(x, w):
    return np.sum(np.sin(x) * w)


def tree_loss(params, scale):
    layers = params["layers"]
    total = params["bias"] * scale
    for w, b in layers:
        total = total + np.sum(w * w) * b
    return total + np.sum(params["extra"][0] ** 2)


def mutates_input(x):
    x[0] = x[0] * 3.0
    return np.sum(x * x)


@given(arrays(st.sampled_from([(), (3,), (2, 3), (2, 1, 2)])))
def test_arrays_of_any_shape(x):
    g = numerical_grad(cube_sum, (x,), 0)
    assert isinstance(g, np.ndarray) and g.shape == x.shape and g.dtype == np.float64
    np.testing.assert_allclose(g, 3 * x**2, rtol=1e-7, atol=1e-8)


@given(reals())
def test_float_gives_float(x):
    g = numerical_grad(lambda v: math.sin(v) * v, (x,), 0)
    assert type(g) is float
    assert math.isclose(g, math.cos(x) * x + math.sin(x), rel_tol=1e-7, abs_tol=1e-8)


@given(arrays(3), arrays(3))
def test_tuple_and_named_wrt(x, w):
    gx, gw = numerical_grad(weighted, (x, w), ("x", 1))
    np.testing.assert_allclose(gx, np.cos(x) * w, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(gw, np.sin(x), rtol=1e-7, atol=1e-8)


@given(arrays((2, 2)), arrays(3), reals(), reals())
def test_nested_structure(w, e, b, scale):
    params = {"layers": [(w, b), (w * 2.0, b)], "bias": 0.5, "extra": (e,)}
    g = numerical_grad(tree_loss, (params, scale), 0)
    want = {
        "layers": [(2 * w * b, float(np.sum(w * w))), (4 * w * b, float(np.sum(4 * w * w)))],
        "bias": scale,
        "extra": (2 * e,),
    }
    assert_tree_close(g, want, params, rtol=1e-6, atol=1e-7)


@given(arrays(3, dtype=np.float32))
def test_float32_is_differenced_in_float64(x):
    g = numerical_grad(cube_sum, (x,), 0)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, 3 * x.astype(np.float64) ** 2, rtol=1e-7, atol=1e-8)


def test_mutating_function_sees_the_callers_values():
    x = np.array([1.0, 2.0, -1.5])
    g = numerical_grad(mutates_input, (x,), 0)
    np.testing.assert_array_equal(x, [1.0, 2.0, -1.5])
    np.testing.assert_allclose(g, [18.0, 4.0, -3.0], rtol=1e-7)


def test_structure_mismatches_are_caught():
    like = {"a": np.zeros(2), "b": [1.0, np.zeros((1, 2))]}
    good = {"a": np.ones(2), "b": [2.0, np.ones((1, 2))]}
    assert_tree_close(good, good, like)
    bad = [
        {"a": np.ones(2)},  # missing key
        {"a": np.ones(3), "b": [2.0, np.ones((1, 2))]},  # shape
        {"a": np.ones(2, np.float32), "b": [2.0, np.ones((1, 2))]},  # dtype
        {"a": np.ones(2), "b": (2.0, np.ones((1, 2)))},  # tuple for list
        {"a": np.ones(2), "b": [np.array(2.0), np.ones((1, 2))]},  # 0-d array for a float
        {"a": np.ones(2), "b": [2.0, np.ones((1, 2)), 1.0]},  # length
        {"a": np.ones(2) * 1.001, "b": [2.0, np.ones((1, 2))]},  # value
    ]
    for got in bad:
        with pytest.raises(AssertionError):
            assert_tree_close(got, good, like)


def test_resolve_wrt():
    assert resolve_wrt(weighted, 0, 2) == 0
    assert resolve_wrt(weighted, "w", 2) == 1
    assert resolve_wrt(weighted, ("w", 0), 2) == (1, 0)
    with pytest.raises(ValueError):
        resolve_wrt(weighted, "nope", 2)
    with pytest.raises(IndexError):
        resolve_wrt(weighted, 2, 2)
