"""The log-likelihood of a sigmoid written out, `a * log(p) + b * log(1 - p)` (`s2s/idioms.py`).

With p = 1 / (1 + exp(-u)) its derivative is taken as a whole: `a * (1 - p) - b * p`, and
`y - p` for the binary cross-entropy (a = y, b = 1 - y). Every form is checked against central
differences, the generic code and forward mode (the dot-product test); where p saturates the
derivative stays finite; the forms that are not the idiom (an active weight, u reassigned in
between, a user's rule for `np.log`) keep the op-by-op derivative, checked the same way.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from fd import assert_specialized_matches, numerical_grad
from hypothesis import given, settings
from s2s.adjoints import registry
from strategies import arrays, reals

import s2s
from s2s import d


def bce(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def bce_swapped(w, X, y):
    p = 1 / (1 + np.exp(-(X @ w)))
    return -np.sum(np.log(1 - p) * (1 - y) + np.log(p) * y)


def bce_log1p(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    n = len(y)
    return -np.sum(y * np.log(p) + (1.0 - y) * np.log1p(-p)) / n


def textbook(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return np.mean(-y * np.log(p) - (1.0 - y) * np.log(1.0 - p))


def subtracted(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return np.sum(y * np.log(p) - 2.0 * np.log(1.0 - p))


def weighted(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return -np.mean(3.0 * y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def constant_weights(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return np.sum(y) * np.sum(0.25 * np.log(p) + 0.75 * np.log(1.0 - p))


def broadcast_labels(w, X, Y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))  # (n,), labels (2, n)
    return -np.sum(Y * np.log(p) + (1.0 - Y) * np.log(1.0 - p))


def scalar(w, x, y):
    p = 1.0 / (1.0 + math.exp(-(w * x)))
    return -(y * math.log(p) + (1.0 - y) * math.log(1.0 - p))


def in_a_loop(w, X, y):
    s = 0.0
    for i in range(len(y)):
        p = 1.0 / (1.0 + np.exp(-(X[i] @ w)))
        s = s - (y[i] * np.log(p) + (1.0 - y[i]) * np.log(1.0 - p))
    return s


def _data(w, X, y):
    return w, X.reshape(6, 3), y


@given(arrays(3, lo=-2.0, hi=2.0), arrays(18, lo=-2.0, hi=2.0), arrays(6, lo=0.0, hi=1.0))
@settings(max_examples=20, deadline=None)
def test_written_out_log_likelihoods(w, X, y):
    for f in (bce, bce_swapped, bce_log1p, textbook, subtracted, weighted, constant_weights):
        assert_specialized_matches(f, _data(w, X, y))
    assert_specialized_matches(in_a_loop, _data(w, X, y))


@given(arrays(3, lo=-2.0, hi=2.0), arrays(18, lo=-2.0, hi=2.0), arrays(12, lo=0.0, hi=1.0))
@settings(max_examples=15, deadline=None)
def test_labels_that_broadcast(w, X, Y):
    assert_specialized_matches(broadcast_labels, (w, X.reshape(6, 3), Y.reshape(2, 6)))


@given(reals(-2.0, 2.0), reals(-2.0, 2.0), reals(0.0, 1.0))
@settings(max_examples=25, deadline=None)
def test_scalar_log_likelihood(w, x, y):
    assert_specialized_matches(scalar, (w, x, y))


def _backward(src: str) -> str:
    """The backward sweep's code: the lines after the first `# return` comment, but comments."""
    lines = src.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.strip().startswith("# return"))
    return "\n".join(ln for ln in lines[start:] if not ln.strip().startswith("#"))


def test_the_derivative_is_y_minus_p():
    """The backward sweep reads y and p only: no log, no quotient, nothing kept for them."""
    src = s2s.source(bce)
    backward = _backward(src)
    assert "(y - p)" in backward and "np.log" not in backward and " / p" not in backward, src
    assert "(y - p)" in s2s.source(bce, mode="forward")
    assert "t_p" not in s2s.source(bce, mode="forward")  # p's own tangent is not needed
    w, X, y = np.zeros(3), np.ones((6, 3)), np.ones(6)
    specialized = s2s.grad(bce).s2s_source_for(w, X, y)
    code = [ln for ln in specialized.splitlines() if not ln.strip().startswith("#")]
    assert not any("np.log" in ln for ln in code), specialized  # the loss is not computed
    assert "* (1.0 - p) - " in _backward(s2s.source(weighted))
    assert "(p - y)" in _backward(s2s.source(textbook))
    assert "* (1.0 - p) + 2.0 * p" in _backward(s2s.source(subtracted))
    assert "(y - p)" not in s2s.source(in_a_loop)  # y[i] read twice: the weighted form
    assert "* (1.0 - p) - " in _backward(s2s.source(in_a_loop))


def test_no_nan_where_p_saturates():
    """Logits of +-40 make p exactly 1.0 or 5e-18: op by op, `b / (1 - p)` is inf and
    `inf * 0` nan; the derivative itself is `mean(y - p) * x`, finite."""
    X = np.array([[40.0, 1.0], [-40.0, 2.0], [0.5, -1.0], [45.0, 0.0]])
    w = np.array([1.0, 0.5])
    y = np.array([0.0, 1.0, 1.0, 0.3])
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    want = X.T @ (p - y) / len(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # log(0) in the loss itself
        g = s2s.grad(bce)(w, X, y)
        _, t = s2s.jvp(bce)(w, X, y, np.array([1.0, -1.0]))
    np.testing.assert_allclose(g, want, rtol=1e-12)
    np.testing.assert_allclose(t, want[0] - want[1], rtol=1e-12)


# -- what is not the idiom keeps the op-by-op derivative ---------------------------------------


def entropy(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))  # the weights p and 1 - p carry a derivative
    return -np.sum(p * np.log(p) + (1.0 - p) * np.log(1.0 - p)) + 0.0 * np.sum(y)


def u_reassigned(w, X, y):
    u = X @ w
    p = 1.0 / (1.0 + np.exp(-u))
    u = u * 2.0
    return np.sum(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)) + np.sum(u * u)


def label_reassigned(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    a = y * np.log(p)
    y = y * 0.5
    return np.sum(a + (1.0 - y) * np.log(1.0 - p))


def two_sigmoids(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    q = 1.0 / (1.0 + np.exp(-(X @ (0.5 * w))))
    return np.sum(y * np.log(p) + (1.0 - y) * np.log(1.0 - q))


def terms_the_other_way(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return np.sum((1.0 - y) * np.log(1.0 - p) - y * np.log(p))


def sigmoid_of_negative(w, X, y):
    p = 1.0 / (1.0 + np.exp(X @ w))
    return np.sum(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


@given(arrays(3, lo=-2.0, hi=2.0), arrays(18, lo=-2.0, hi=2.0), arrays(6, lo=0.1, hi=0.9))
@settings(max_examples=15, deadline=None)
def test_near_misses_are_differentiated_op_by_op(w, X, y):
    misses = (
        entropy,
        u_reassigned,
        label_reassigned,
        two_sigmoids,
        terms_the_other_way,
        sigmoid_of_negative,
    )
    for f in misses:
        assert_specialized_matches(f, _data(w, X, y))
    for f in misses:
        src = s2s.source(f)
        assert "(y - p)" not in src and "(p - y)" not in src and "* (1.0 - p) " not in src, src


@given(arrays(3, lo=-2.0, hi=2.0), arrays(18, lo=-2.0, hi=2.0), arrays(6, lo=0.1, hi=0.9))
@settings(max_examples=15, deadline=None)
def test_labels_and_weights_that_carry_a_derivative(w, X, y):
    """Differentiated with respect to the labels too, the sum is differentiated op by op."""
    args = _data(w, X, y)
    g = s2s.grad(bce, wrt=(0, 2))(*args)
    np.testing.assert_allclose(g[0], numerical_grad(bce, args, 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(g[1], numerical_grad(bce, args, 2), rtol=1e-6, atol=1e-8)
    assert_specialized_matches(bce, args, wrt=2)
    assert "(y - p)" not in s2s.source(bce, wrt=(0, 2))


def test_a_users_rule_for_log_is_not_bypassed():
    """With another (here deliberately doubled) rule for np.log, the derivative is the chain
    through that rule."""
    rule = registry.lookup(np.log)
    saved = rule.adjoint, rule.tangent, rule.family
    w, X, y = np.array([0.3, -0.2, 0.5]), np.arange(18.0).reshape(6, 3) / 10, np.full(6, 0.25)
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    try:

        @registry.adjoint(np.log)
        def doubled_log(z, x):
            d[x] = 2.0 * d[z] / x

        @registry.tangent(np.log)
        def doubled_log_t(z, x):
            d[z] = 2.0 * d[x] / x

        g = s2s.grad(bce)(w, X, y)
        _, t = s2s.jvp(bce)(w, X, y, np.array([1.0, 0.0, 0.0]))
    finally:
        rule.adjoint, rule.tangent, rule.family = saved
        registry.VERSION[0] += 1
    want = 2.0 * X.T @ (p - y) / len(y)
    np.testing.assert_allclose(g, want, rtol=1e-12)
    np.testing.assert_allclose(t, want[0], rtol=1e-12)
    np.testing.assert_allclose(s2s.grad(bce)(w, X, y), want / 2.0, rtol=1e-12)


def onto_p(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    p = y * np.log(p) + (1.0 - y) * np.log(1.0 - p)
    return np.sum(p)


def onto_u(w, X, y):
    u = X @ w
    p = 1.0 / (1.0 + np.exp(-u))
    u = y * np.log(p) + (1.0 - y) * np.log(1.0 - p)
    return np.sum(u * u)


def onto_the_label(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    y = y * np.log(p) + (1.0 - y) * np.log(1.0 - p)
    return np.sum(y * y)


def onto_a_weight(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    a = 0.3 * y
    a = a * np.log(p) + (1.0 - y) * np.log(1.0 - p)
    return np.sum(a * a)


@given(arrays(3, lo=-2.0, hi=2.0), arrays(18, lo=-2.0, hi=2.0), arrays(6, lo=0.1, hi=0.9))
@settings(max_examples=15, deadline=None)
def test_a_sum_assigned_to_a_name_its_rule_reads_is_differentiated_op_by_op(w, X, y):
    """S's own name is one the rule reads (p, u, the label, a weight): the rule would read the
    result there (p and u gave wrong gradients before this was refused)."""
    for f in (onto_p, onto_u, onto_the_label, onto_a_weight):
        assert_specialized_matches(f, _data(w, X, y))
        assert "(y - p)" not in s2s.source(f) and "* (1.0 - p) " not in s2s.source(f)
