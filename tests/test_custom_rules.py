"""Issue 4, custom rules and gradient surgery: `@s2s.adjoint(fn)`, `@s2s.tangent(fn)`,
`s2s.stop_gradient(x)`.

* The straight-through estimator: `np.sum(np.floor(a) ** 3)` has a zero gradient; with a custom
  rule on a user function `floor_ste` its gradient is `3 * floor(a) ** 2`, exactly.
* A custom rule replaces the body (which s2s could not differentiate), checked against finite
  differences, in reverse and forward mode (dot-product test).
* Registering a rule after a gradient was made invalidates the cached code.
* `stop_gradient`: the gradient equals the finite difference of the function with the stopped
  value frozen at its current value.
"""

from __future__ import annotations

import numpy as np
import pytest
from fd import assert_grad_matches, numerical_grad
from hypothesis import given
from strategies import arrays, reals

import s2s
from s2s import d

# -- the straight-through estimator --------------------------------------------------------------


def floor_ste(x):
    return np.floor(x)


@s2s.adjoint(floor_ste)
def floor_ste_adjoint(y, x):
    d[x] = d[y]


@s2s.tangent(floor_ste)
def floor_ste_tangent(y, x):
    d[y] = d[x]


def cube_of_floor(a):
    return np.sum(np.floor(a) ** 3)


def cube_of_floor_ste(a):
    return np.sum(floor_ste(a) ** 3)


@given(arrays(5, lo=-3.0, hi=3.0))
def test_floor_has_zero_gradient(a):
    np.testing.assert_array_equal(s2s.grad(cube_of_floor)(a), np.zeros(5))


@given(arrays(5, lo=-3.0, hi=3.0))
def test_straight_through_estimator(a):
    got = s2s.grad(cube_of_floor_ste)(a)
    np.testing.assert_allclose(got, 3.0 * np.floor(a) ** 2, rtol=1e-14)
    value, t_out = s2s.jvp(cube_of_floor_ste)(a, np.ones_like(a))
    assert value == cube_of_floor_ste(a)
    np.testing.assert_allclose(t_out, np.sum(3.0 * np.floor(a) ** 2), rtol=1e-12)


def test_generated_code_calls_the_user_function():
    text = s2s.source(cube_of_floor_ste)
    assert "floor_ste(a)" in text
    assert "np.floor" not in text  # the body was not inlined or differentiated


# -- a rule replaces a body s2s cannot differentiate ----------------------------------------------


def soft_clip(x, limit):
    # a try block: s2s cannot differentiate this body, only the rule below
    try:
        y = limit * np.tanh(x / limit)
    except FloatingPointError:
        y = x
    return y


@s2s.adjoint(soft_clip)
def soft_clip_adjoint(y, x, limit):
    t = y / limit
    d[x] = d[y] * (1.0 - t * t)
    d[limit] = unbroadcast(d[y] * (t - x / limit * (1.0 - t * t)), limit)  # noqa: F821


@s2s.tangent(soft_clip)
def soft_clip_tangent(y, x, limit):
    t = y / limit
    d[y] = d[x] * (1.0 - t * t) + d[limit] * (t - x / limit * (1.0 - t * t))


def clipped_loss(w, x, limit):
    h = soft_clip(x @ w, limit)
    return np.sum(h * h) + 0.5 * limit


def _dot(a, b):
    return float(np.sum(np.asarray(a) * np.asarray(b)))


@given(arrays(3), arrays((4, 3)), reals(0.5, 2.0, min_mag=0.5))
def test_custom_rule_against_finite_differences(w, x, limit):
    assert_grad_matches(clipped_loss, w, x, limit, wrt=(0, 2))


@given(arrays(3), arrays((4, 3)), reals(0.5, 2.0, min_mag=0.5), arrays(3), reals())
def test_custom_rule_forward_and_reverse_agree(w, x, limit, u, ul):
    gw, gl = s2s.grad(clipped_loss, wrt=(0, 2))(w, x, limit)
    _, t_out = s2s.jvp(clipped_loss, wrt=(0, 2))(w, x, limit, (u, ul))
    np.testing.assert_allclose(t_out, _dot(gw, u) + gl * ul, rtol=1e-10, atol=1e-12)


def test_body_without_rule_is_an_error():
    def no_rule(x):
        try:
            y = x * 2.0
        except ValueError:
            y = x
        return y

    def f(a):
        return np.sum(no_rule(a))

    with pytest.raises(s2s.UnsupportedSyntaxError, match="try"):
        s2s.grad(f)


# -- rules through user subroutines and with keyword arguments -----------------------------------


def scaled_floor(x, scale=2.0):
    return scale * np.floor(x)


@s2s.adjoint(scaled_floor)
def scaled_floor_adjoint(y, x, scale=2.0):
    d[x] = d[y] * scale


@s2s.tangent(scaled_floor)
def scaled_floor_tangent(y, x, scale=2.0):
    d[y] = d[x] * scale


def inner(a):
    return np.sin(scaled_floor(a, scale=3.0))


def outer(a):
    s = 0.0
    for i in range(2):
        s = s + np.sum(inner(a * (i + 1)))
    return s


@given(arrays(4, lo=-3.0, hi=3.0))
def test_rule_inside_a_user_subroutine_with_keywords(a):
    want = sum(np.cos(3.0 * np.floor(a * k)) * 3.0 * k for k in (1, 2))
    np.testing.assert_allclose(s2s.grad(outer)(a), want, rtol=1e-12)
    u = np.linspace(-1.0, 1.0, 4)
    _, t_out = s2s.jvp(outer)(a, u)
    np.testing.assert_allclose(t_out, _dot(want, u), rtol=1e-10, atol=1e-12)


# -- registration after a gradient was made -------------------------------------------------------


def test_registering_a_rule_invalidates_cached_gradients():
    def late(x):
        return np.round(x)

    def f(a):
        return np.sum(late(a) * a)

    a = np.array([0.4, 1.6, -2.2])
    df = s2s.grad(f)
    fj = s2s.jvp(f)
    np.testing.assert_allclose(df(a), np.round(a))
    before = s2s.source(f)

    @s2s.adjoint(late)
    def late_adjoint(y, x):
        d[x] = d[y]

    @s2s.tangent(late)
    def late_tangent(y, x):
        d[y] = d[x]

    np.testing.assert_allclose(df(a), np.round(a) + a)  # the same function object
    np.testing.assert_allclose(s2s.grad(f)(a), np.round(a) + a)
    np.testing.assert_allclose(fj(a, np.ones(3))[1], np.sum(np.round(a) + a))
    assert s2s.source(f) != before


# -- errors ---------------------------------------------------------------------------------------


def test_template_that_does_not_fit_the_function():
    def two(x, y):
        return x * y

    with pytest.raises(s2s.RuleError, match=r"does not fit .*two\(x, y\)") as info:

        @s2s.adjoint(two)
        def bad(out, x):
            d[x] = d[out]

    assert "test_custom_rules.py" in str(info.value)
    assert "hint:" in str(info.value)


def test_rule_for_something_not_callable():
    with pytest.raises(s2s.RuleError, match="must be the function"):

        @s2s.adjoint(3.0)
        def bad(out, x):
            d[x] = d[out]


def adjoint_only(x):
    return x * x


@s2s.adjoint(adjoint_only)
def adjoint_only_adjoint(y, x):
    d[x] = d[y] * 2.0 * x


def test_forward_mode_without_tangent_rule_says_so():
    def f(a):
        return np.sum(adjoint_only(a))

    a = np.array([1.0, 2.0])
    np.testing.assert_allclose(s2s.grad(f)(a), 2.0 * a)
    with pytest.raises(s2s.NoRuleError, match="tangent"):
        s2s.jvp(f)


# -- stop_gradient --------------------------------------------------------------------------------


def stopped_normalize(x):
    norm = s2s.stop_gradient(np.sqrt(np.sum(x * x)))
    return np.sum(np.tanh(x) * x) / norm


def _frozen_normalize(norm):
    def f(x):
        return np.sum(np.tanh(x) * x) / norm

    return f


@given(arrays(5))
def test_stop_gradient_against_finite_differences_of_frozen_function(x):
    got = s2s.grad(stopped_normalize)(x)
    norm = np.sqrt(np.sum(x * x))
    want = numerical_grad(_frozen_normalize(norm), (x,), 0)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
    full = numerical_grad(lambda x: np.sum(np.tanh(x) * x) / np.sqrt(np.sum(x * x)), (x,), 0)
    assert not np.allclose(got, full, rtol=1e-3, atol=1e-6)  # the stop does change it
    _, t_out = s2s.jvp(stopped_normalize)(x, np.ones_like(x))
    np.testing.assert_allclose(t_out, np.sum(want), rtol=1e-6, atol=1e-8)


def stopped_scalar(a, b):
    c = a * b
    k = s2s.stop_gradient(c)
    return c * k + b


@given(reals(), reals())
def test_stop_gradient_scalars(a, b):
    ga, gb = s2s.grad(stopped_scalar, wrt=(0, 1))(a, b)
    k = a * b
    want = numerical_grad(lambda a, b: a * b * k + b, (a, b), (0, 1))
    np.testing.assert_allclose((ga, gb), want, rtol=1e-6, atol=1e-8)
    assert s2s.stop_gradient(a) is a


def test_stop_gradient_of_everything_gives_zero():
    def f(x):
        return np.sum(s2s.stop_gradient(x) ** 2)

    np.testing.assert_array_equal(s2s.grad(f)(np.array([1.0, 2.0])), np.zeros(2))


def squared_with_tangent_rule(x):
    return x * x


@s2s.tangent(squared_with_tangent_rule)
def _squared_tangent(y, x):
    d[y] = 100.0 * d[x]  # deliberately not 2x: shows that the rule, not the body, is used


def uses_tangent_only_rule(a):
    return np.sum(squared_with_tangent_rule(a))


def test_a_tangent_only_rule_is_used_by_jvp_and_refused_by_reverse_mode():
    # a rule replaces the body in the mode it is written for; the other mode does not silently
    # fall back to the body (the rule may differ from it on purpose, as a straight-through
    # estimator does)
    a = np.array([1.0, -2.0, 0.5])
    u = np.array([0.3, 0.1, -1.0])
    _, t = s2s.jvp(uses_tangent_only_rule)(a, u)
    assert np.isclose(t, 100.0 * np.sum(u))
    with pytest.raises(s2s.NoRuleError, match="squared_with_tangent_rule"):
        s2s.grad(uses_tangent_only_rule)


# -- rules for NumPy's own functions ----------------------------------------------------------


@pytest.fixture
def restore_rules():
    """Put back the registry's rules (and non-differentiable marks) for the ufuncs a test
    gives a rule of its own."""
    from s2s.adjoints import registry

    ops = (np.floor, np.arctan2)
    saved = {op: registry.lookup(op) for op in ops}
    saved_rules = {op: (r.adjoint, r.tangent, r.family) for op, r in saved.items() if r}
    nondiff = {op: registry.NONDIFF[id(op)] for op in ops if id(op) in registry.NONDIFF}
    yield
    for op in ops:
        if op in saved_rules:
            rule = registry.lookup(op)
            rule.adjoint, rule.tangent, rule.family = saved_rules[op]
        elif registry.lookup(op) is not None:
            del registry.RULES[id(op)]
        if op in nondiff:
            registry.NONDIFF[id(op)] = nondiff[op]
    registry.VERSION[0] += 1


def test_a_rule_for_a_ufunc_names_its_inputs_only(restore_rules):
    """`np.floor(x, /, out=None, *, where=True, ...)`: the template is `(y, x)`, the ufunc's
    inputs; s2s holds floor to have no derivative, the rule gives it one, in both modes."""

    @s2s.adjoint(np.floor)
    def floor_straight_through(y, x):
        d[x] = d[y]

    @s2s.tangent(np.floor)
    def floor_straight_through_t(y, x):
        d[y] = d[x]

    a = np.array([0.5, 1.7, -2.2])
    np.testing.assert_allclose(s2s.grad(cube_of_floor)(a), 3.0 * np.floor(a) ** 2, rtol=1e-12)
    _, t = s2s.jvp(cube_of_floor)(a, np.ones(3))
    np.testing.assert_allclose(t, np.sum(3.0 * np.floor(a) ** 2), rtol=1e-12)


def test_a_rule_for_a_binary_ufunc(restore_rules):
    @s2s.adjoint(np.arctan2)
    def arctan2_halved(z, x1, x2):
        d[x1] = unbroadcast(0.5 * d[z] * x2 / (x1 * x1 + x2 * x2), x1)  # noqa: F821
        d[x2] = unbroadcast(-0.5 * d[z] * x1 / (x1 * x1 + x2 * x2), x2)  # noqa: F821

    def f(a, b):
        return np.sum(np.arctan2(a, b))

    a, b = np.array([0.3, -1.0]), np.array([2.0, 0.7])
    g = s2s.grad(f, wrt=(0, 1))(a, b)
    np.testing.assert_allclose(g[0], 0.5 * b / (a * a + b * b), rtol=1e-12)
    np.testing.assert_allclose(g[1], -0.5 * a / (a * a + b * b), rtol=1e-12)


def test_a_ufunc_rule_with_the_wrong_inputs_is_refused():
    with pytest.raises(s2s.RuleError, match=r"does not fit .*\(x1, x2\)"):

        @s2s.adjoint(np.arctan2)
        def bad(z, x):
            d[x] = d[z]
