"""Gradients with respect to one Python number are made in forward mode
(`transform._generate_forward_grad`): the tangent 1.0 carried through one pass, no tape.

* The gradient equals central differences and the reverse-mode (generic) code's, and the code
  a call runs says it is forward mode; `value_and_grad` returns the primal's value.
* Reverse mode makes every gradient forward mode must not: several or array `wrt`, a `wrt`
  the function assigns, debug mode, an `insert_grad_of` block, a custom rule (the user's
  adjoint defines the gradient, even where the tangent rule disagrees).
* A non-scalar output is the same error; module globals the code assumed hold numbers are
  re-checked on every call (and in `s2s.jvp`, which did not re-check them before).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from fd import numerical_grad
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import reals

import s2s
from s2s import d
from s2s.errors import NonScalarOutputError
from s2s.transform import generate

GAIN = 2.0  # a module global the code is specialized to while it holds a number


def power_series(x, n):
    if n == 0:
        return 1.0
    return 1.0 + x * power_series(x, n - 1) / n


def spring(x0, v0, k, steps):
    x, v = x0, v0
    for _ in range(steps):
        a = -k * math.sin(x) - 0.1 * v
        v = v + 0.05 * a
        x = x + 0.05 * v
    return (x - 1.0) ** 2


def scaled_arrays(s, A):
    if s > 0.5:
        return np.sum(np.tanh(A * s) ** 2)
    return np.mean(np.exp(-A * s)) * GAIN


def shifted(s, A):
    return np.sum((A + s) ** 2) + np.sum(np.zeros(3) + s) * s


def halve_then(x, n):
    x = x * 0.5 + n  # the callee assigns its parameter: its tangent is passed, not assumed
    return x * x


def calls_halve(x):
    return halve_then(x, 2) + x * power_series(x, 2)


def _reverse(f, wrt):
    return generate(f, wrt, "grad")[0].entry[0]


def _check_forward(f, args, wrt=0):
    df = s2s.grad(f, wrt=wrt)
    got = df(*args)
    assert type(got) is float
    assert "in forward mode" in df.s2s_source_for(*args)
    assert got == pytest.approx(numerical_grad(f, args, wrt), rel=1e-6, abs=1e-8)
    assert got == pytest.approx(_reverse(f, wrt)(*args), rel=1e-10, abs=1e-13)
    value, g = s2s.value_and_grad(f, wrt=wrt)(*args)
    assert value == f(*args) and g == got
    return got


def test_the_gradient_alone_computes_no_value():
    """grad's entry returns the tangent only: the value (`_result`) is not computed there;
    value_and_grad's is, and the recursive jvp needs it."""
    code = s2s.grad(power_series).s2s_source_for(0.5, 3)
    entry, callee = code.split("def jvp_power_series")
    assert " _result =" not in entry and " _result =" in callee, code
    assert " _result =" in s2s.value_and_grad(power_series).s2s_source_for(0.5, 3)


@settings(max_examples=25, deadline=None)
@given(reals(-1.5, 1.5), st.integers(0, 6))
def test_recursion(x, n):
    _check_forward(power_series, (x, n))
    if n == 3:  # an int for the number: the gradient is a float all the same
        assert s2s.grad(power_series)(2, n) == pytest.approx(1 / 3 + 2 / 3 + 2**2 / 2)


@settings(max_examples=25, deadline=None)
@given(reals(-1.0, 1.0), reals(-1.0, 1.0), st.integers(0, 5))
def test_loops_and_each_number_in_turn(x0, v0, steps):
    for wrt in (0, 1, "k"):
        _check_forward(spring, (x0, v0, 1.3, steps), wrt)


@settings(max_examples=25, deadline=None)
@given(reals(0.0, 1.0), st.integers(0, 2**31))
def test_a_number_scaling_arrays(s, seed):
    A = np.random.default_rng(seed).standard_normal((2, 3))
    s = s if abs(s - 0.5) > 0.01 else s + 0.1  # not at the branch's kink
    _check_forward(scaled_arrays, (s, A))
    _check_forward(shifted, (s, A))  # the number's tangent 1.0 broadcast to an array
    _check_forward(calls_halve, (s,))
    # the array argument: reverse mode
    dA = s2s.grad(scaled_arrays, wrt=1)
    assert "in forward mode" not in dA.s2s_source_for(s, A)
    np.testing.assert_allclose(dA(s, A), numerical_grad(scaled_arrays, (s, A), 1), atol=1e-8)


def test_reverse_mode_where_forward_mode_must_not():
    args = (0.3, -0.2, 1.3, 4)
    for df in (
        s2s.grad(spring, wrt=(0, 1)),  # several numbers
        s2s.grad(spring, debug=True),  # debug mode checks the adjoints
    ):
        assert "in forward mode" not in df.s2s_source_for(*args)
    g = s2s.grad(spring, wrt=(0, 1))(*args)
    assert g == pytest.approx(numerical_grad(spring, args, (0, 1)), rel=1e-6)


def reassigns_x(x, y):
    x = x * y
    return x**3


def test_a_wrt_the_function_assigns_is_reverse_mode():
    df = s2s.grad(reassigns_x)
    assert "in forward mode" not in df.s2s_source_for(0.7, 2.0)
    assert df(0.7, 2.0) == pytest.approx(3 * (0.7 * 2.0) ** 2 * 2.0)


def doubled_gradient(x):
    h = math.tanh(x)
    with s2s.insert_grad_of(h) as dh:
        dh = 2.0 * dh
    return h**2


def test_gradient_surgery_is_honoured():
    df = s2s.grad(doubled_gradient)
    assert "in forward mode" not in df.s2s_source_for(0.4)
    h = math.tanh(0.4)
    assert df(0.4) == pytest.approx(2.0 * 2 * h * (1 - h * h), rel=1e-12)


def halved(x):
    return x * 1.0


@s2s.adjoint(halved)
def halved_adjoint(y, x):
    d[x] = 0.5 * d[y]  # deliberately not the derivative: the user's gradient


@s2s.tangent(halved)
def halved_tangent(y, x):
    d[y] = d[x]


def through_halved(x):
    return halved(x) ** 2


def test_a_custom_adjoint_defines_the_gradient():
    df = s2s.grad(through_halved)
    assert df(1.5) == pytest.approx(0.5 * 2 * 1.5)
    assert "in forward mode" not in df.s2s_source_for(1.5)


def returns_wrt(x, s):
    for _ in range(2):
        x = np.tanh(x * s)
    return s


def returns_a_copy(x, s):
    t = s
    return t * 1.0


def test_the_output_is_the_number_itself():  # fuzz seed 7300303
    x = np.array([0.1, 0.2])
    for f in (returns_wrt, returns_a_copy):
        df = s2s.grad(f, wrt=1)
        assert df(x, 0.3) == 1.0 and type(df(x, 0.3)) is float
        assert "in forward mode" in df.s2s_source_for(x, 0.3)
        assert s2s.value_and_grad(f, wrt=1)(x, 0.3) == (0.3, 1.0)


def vector_out(x):
    return np.array([x, 2 * x])


def test_a_non_scalar_output_is_the_same_error():
    with pytest.raises(NonScalarOutputError, match="vjp"):
        s2s.grad(vector_out)(1.0)


def with_global(x):
    y = x + GAIN
    return np.sum(y * 1.0)


def test_a_global_that_stops_holding_a_number():
    global GAIN
    df, jf = s2s.grad(with_global), s2s.jvp(with_global)
    assert df(1.5) == 1.0 and jf(1.5, 1.0)[1] == 1.0
    try:
        GAIN = np.ones(3)  # now y is an array of 3: every entry moves with x
        assert df(1.5) == pytest.approx(3.0)
        assert jf(1.5, 1.0)[1] == pytest.approx(3.0)
    finally:
        GAIN = 2.0
    assert df(1.5) == 1.0 and jf(1.5, 1.0)[1] == 1.0
