"""Issue 4, debug mode: `s2s.grad(f, debug=True)` (and value_and_grad, vjp) checks every adjoint
statement; the first NaN or infinity raises `NonFiniteGradientError` naming the primal line
(file, line, text) and the variable (or the expression of a temporary)."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
from fd import numerical_grad
from hypothesis import given
from strategies import arrays
from strict_array import to_device, to_host, transfers

import s2s


def _line_of(fn, text):
    lines, first = inspect.getsourcelines(fn)
    for i, line in enumerate(lines):
        if text in line:
            return first + i
    raise AssertionError(text)


def planted(x, n):
    y = np.tanh(x)
    s = 0.0
    for i in range(n):
        s = s + np.sum(y * i)
    z = np.sqrt(x - x)
    w = np.log(x * x + 1.0)
    return s + np.sum(z) + np.sum(w)


def log_helper(z):
    w = np.log(z)
    return w * 2.0


def through_helper(x):
    q = log_helper(x - x)
    return np.sum(q) * 2.0


def smooth(x, n):
    y = np.tanh(x)
    s = 0.0
    for i in range(n):
        s = s + np.sum(y * i) * x[0]
    return s + np.sum(np.log(x * x + 1.0))


def _raises(call, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(s2s.NonFiniteGradientError) as info:
            call(*args)
    return info.value


def test_planted_nan_names_the_line_and_the_expression():
    x = np.array([0.5, -1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert np.all(np.isnan(s2s.grad(planted)(x, 3)))  # silently NaN without debug
    err = _raises(s2s.grad(planted, debug=True), x, 3)
    assert err.lineno == _line_of(planted, "np.sqrt(x - x)")
    assert err.filename == inspect.getsourcefile(planted)
    assert err.source_line == "z = np.sqrt(x - x)"
    assert err.variable == "x - x"
    text = str(err)
    assert f"test_debug.py:{err.lineno}" in text and "z = np.sqrt(x - x)" in text
    assert "infinity" in text and "`x - x`" in text


def test_variable_named_inside_a_user_subroutine():
    x = np.array([0.5, 2.0])
    for make in (s2s.grad, s2s.value_and_grad):
        err = _raises(make(through_helper, debug=True), x)
        assert err.variable == "z"
        assert err.lineno == _line_of(log_helper, "w = np.log(z)")
        assert "w = np.log(z)" in str(err)


def test_vjp_debug():
    value, pullback = s2s.vjp(through_helper, debug=True)(np.array([0.5, 2.0]))
    err = _raises(pullback, 1.0)
    assert err.variable == "z" and err.source_line == "w = np.log(z)"


def test_nan_in_a_loop_names_the_loop_line():
    def f(x, n):
        s = 0.0
        for i in range(n):
            r = np.sqrt(x - i)
            s = s + np.sum(r)
        return s

    x = np.array([1.0, 3.0])  # i == 1 hits sqrt(0) at x[0]
    err = _raises(s2s.grad(f, debug=True), x, 3)
    assert err.source_line == "r = np.sqrt(x - i)"
    assert err.variable == "x - i"


def test_infinite_seed():
    def f(x):
        return np.sum(np.exp(x))

    err = _raises(s2s.grad(f, debug=True), np.array([1000.0]))
    assert err.source_line == "return np.sum(np.exp(x))"


@given(arrays(3, lo=0.2, hi=2.0))
def test_debug_gradient_is_the_gradient(x):
    got = s2s.grad(smooth, debug=True)(x, 3)
    np.testing.assert_array_equal(got, s2s.grad(smooth)(x, 3))
    want = numerical_grad(smooth, (x, 3), 0)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


def test_debug_is_part_of_the_cache_key():
    plain = s2s.source(smooth)
    checked = s2s.source(smooth, debug=True)
    assert "check_finite" not in plain and "check_finite" in checked
    assert "check_finite(d_x, 'x', " in checked
    assert s2s.source(smooth) == plain
    assert s2s.source(smooth, debug=True) == checked  # deterministic


def test_one_bool_read_per_check_on_a_device_array():
    def f(x):
        y = np.tanh(x)
        return np.sum(y * y)

    x = np.array([0.1, 0.5, -0.3])
    df = s2s.grad(f, debug=True)
    xd = to_device(x)
    code = df.s2s_source_for(xd)  # the code the call runs
    # a seed that is the Python 1.0 (the loss is not computed, and it is real) reads no device
    # value, and is not checked: the number 1.0 is finite (see `uniform.py`)
    assert "check_finite(1.0" not in code and "= np.sum(" not in code, code
    n_checks = code.count("check_finite(")
    assert n_checks >= 2
    with transfers() as record:
        g = df(xd)
    assert len(record) == n_checks and all(r.startswith("bool") for r in record)
    np.testing.assert_allclose(to_host(g), s2s.grad(f)(x), rtol=1e-14)
