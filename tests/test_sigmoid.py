"""The logistic sigmoid written out, `1.0 / (1.0 + np.exp(-u))` (`s2s/idioms.py`).

Its derivative is taken as a whole, `p * (1 - p)`, which reads the result only: exp's value is
not kept, the forward line stays the user's one line, and where exp(-u) overflows (p is 0) the
derivative is 0, not `0 * inf = nan`. Every form is checked against central differences, the
generic code and forward mode (the dot-product test); the forms that are not the idiom, a
temporary read twice, and a rule the user registered for `np.exp` keep the op-by-op derivative.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from fd import assert_specialized_matches
from hypothesis import given, settings
from s2s.adjoints import registry
from strategies import arrays, reals

import s2s
from s2s import d


def sigmoid(x):
    return np.sum(x * (1.0 / (1.0 + np.exp(-x))))


def sigmoid_ints(x):
    return np.sum(x * (1 / (1 + np.exp(-x))))


def sigmoid_sum_swapped(x):
    return np.sum(np.sin(x) / (np.exp(-x) + 1.0) + 1.0 / (np.exp(-x) + 1.0))


def sigmoid_of_negative(x):
    return np.sum(x * x / (1.0 + np.exp(x)) + 1.0 / (1.0 + np.exp(x)))


def sigmoid_in_steps(x):
    e = np.exp(-2.0 * x)
    p = 1.0 / (1.0 + e)
    return np.sum(p * p)


def sigmoid_of_product(w, X):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return np.sum(p * np.log(p))


def scalar_sigmoid(x):
    return x * x / (1.0 + math.exp(-3.0 * x)) + 1.0 / (1.0 + math.exp(-x))


def sigmoid_loop(h, w, n):
    for _ in range(n):
        h = 1.0 / (1.0 + np.exp(-(h * w)))
    return np.sum(h)


@given(arrays(4, lo=-5.0, hi=5.0))
@settings(max_examples=25, deadline=None)
def test_written_out_sigmoids(x):
    for f in (sigmoid, sigmoid_ints, sigmoid_sum_swapped, sigmoid_of_negative, sigmoid_in_steps):
        assert_specialized_matches(f, (x,))


@given(arrays(3, lo=-2.0, hi=2.0), arrays(15, lo=-2.0, hi=2.0))
@settings(max_examples=20, deadline=None)
def test_sigmoid_of_a_product(w, X):
    assert_specialized_matches(sigmoid_of_product, (w, X.reshape(5, 3)))


@given(reals(-4.0, 4.0))
@settings(max_examples=25, deadline=None)
def test_scalar_sigmoid(x):
    assert_specialized_matches(scalar_sigmoid, (x,))


@given(arrays(3, lo=-2.0, hi=2.0), arrays(3, lo=-2.0, hi=2.0))
@settings(max_examples=15, deadline=None)
def test_sigmoid_in_a_loop(h, w):
    assert_specialized_matches(sigmoid_loop, (h, w, 4), wrt=1)
    assert_specialized_matches(sigmoid_loop, (h, w, 4), wrt=0)


def test_the_derivative_reads_the_result_only():
    """exp's value is computed once, on the user's line, and is neither kept nor pushed."""
    for f, count in (
        (sigmoid, 1),
        (sigmoid_loop, 1),
        (scalar_sigmoid, 2),
    ):
        for src in (s2s.source(f), s2s.source(f, mode="forward")):
            code = [
                ln for ln in src.splitlines() if "exp(" in ln and not ln.strip().startswith("#")
            ]
            assert len(code) == count, src
            assert " * (1.0 - " in src, src
    assert s2s.source(sigmoid_loop).count("tape.append") == 1  # h only
    assert "p = 1.0 / (1.0 + np.exp(-(X @ w)))" in s2s.source(sigmoid_of_product)


def test_no_nan_where_exp_overflows():
    """p is 0 where exp(-x) overflows: so is its derivative (the op-by-op chain gives nan)."""
    x = np.array([-800.0, -30.0, 0.0, 30.0, 800.0])
    p = 1.0 / (1.0 + np.exp(-np.clip(x, -700, 700)))
    want = p + x * p * (1.0 - p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # exp overflows in the primal too
        g = s2s.grad(sigmoid)(x)
        _, t = s2s.jvp(sigmoid)(x, np.ones_like(x))
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(t, np.sum(want), rtol=1e-12)


# -- what is not the idiom keeps the op-by-op derivative ---------------------------------------


def exp_read_twice(x):
    e = np.exp(-x)
    p = 1.0 / (1.0 + e)
    return np.sum(p * e)


def scaled(x):
    return np.sum(2.0 / (1.0 + np.exp(-x)))


def shifted(x):
    return np.sum(1.0 / (2.0 + np.exp(-x)))


def reassigned_between(x):
    u = -x
    e = np.exp(u)
    x = x * 3.0
    p = 1.0 / (1.0 + e)
    return np.sum(p * x)


@given(arrays(4, lo=-4.0, hi=4.0))
@settings(max_examples=20, deadline=None)
def test_near_misses_are_differentiated_op_by_op(x):
    for f in (exp_read_twice, scaled, shifted, reassigned_between):
        assert_specialized_matches(f, (x,))
    assert "(1.0 - p)" not in s2s.source(exp_read_twice)


def test_a_users_rule_for_exp_is_not_bypassed():
    """With another (here deliberately doubled) rule for np.exp, registered in the registry as
    s2s.adjoint would for a function whose signature it can read, the sigmoid's derivative is
    the chain through that rule."""
    rule = registry.lookup(np.exp)
    saved = rule.adjoint, rule.tangent, rule.family
    x = np.array([-0.5, 0.25, 1.0])
    p = 1.0 / (1.0 + np.exp(-x))
    try:

        @registry.adjoint(np.exp)
        def doubled_exp(y, x):
            d[x] = 2.0 * d[y] * y

        @registry.tangent(np.exp)
        def doubled_exp_t(y, x):
            d[y] = 2.0 * d[x] * y

        g = s2s.grad(sigmoid)(x)
        _, t = s2s.jvp(sigmoid)(x, np.ones(3))
    finally:
        rule.adjoint, rule.tangent, rule.family = saved
        registry.VERSION[0] += 1
    want = p + 2.0 * x * p * (1.0 - p)
    np.testing.assert_allclose(g, want, rtol=1e-12)
    np.testing.assert_allclose(t, np.sum(want), rtol=1e-12)
    np.testing.assert_allclose(s2s.grad(sigmoid)(x), p + x * p * (1.0 - p), rtol=1e-12)


def test_stop_gradient_inside_is_respected():
    """`1.0 / (1.0 + np.exp(-stop_gradient(x)))`: no idiom crosses a stopped value."""

    def g(x):
        return np.sum(x * (1.0 / (1.0 + np.exp(-s2s.stop_gradient(x)))))

    x = np.array([0.3, -1.2])
    p = 1.0 / (1.0 + np.exp(-x))
    np.testing.assert_allclose(s2s.grad(g)(x), p, rtol=1e-12)


def onto_its_input(x):
    x = 1.0 / (1.0 + np.exp(-x))  # the result takes the input's name
    return np.sum(x * x)


def onto_its_input_in_a_loop(x, n):
    for _ in range(n):
        x = 1.0 / (1.0 + np.exp(x))
    return np.sum(x * x)


@given(arrays(3, lo=-2.0, hi=2.0))
@settings(max_examples=15, deadline=None)
def test_a_sigmoid_assigned_to_its_input_is_differentiated_op_by_op(x):
    """`x = 1 / (1 + exp(-x))`: to the transformers the rule's d[x] would be the adjoint of the
    result (session 7's idiom gave a zero gradient here)."""
    assert_specialized_matches(onto_its_input, (x,))
    assert_specialized_matches(onto_its_input_in_a_loop, (x, 3))
