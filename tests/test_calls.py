"""Issue 2: calls into the user's own functions (keyword arguments, defaults, nesting, tuple
results, loops around calls), recursion, and calls of functions in another module of the user's."""

import helper_module
import helper_module as hm
import numpy as np
from fd import assert_grad_matches
from helper_module import softplus as sp
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import apart, arrays, matrices, reals, sides


def same_shape(n, lo=-2.0, hi=2.0):
    return sides(1, 5).flatmap(lambda size: st.tuples(*(arrays(size, lo, hi) for _ in range(n))))


# --- the user's helpers ---------------------------------------------------------------------------


def scaled_sin(x, scale=2.0, shift=0.0):
    return np.sin(x * scale + shift)


def inner(a):
    return a * np.tanh(a)


def middle(a, b):
    return inner(a) + inner(b * a)


def sum_and_difference(a, b):
    return a * b, a - b


def damp(x, steps):
    for _ in range(steps):
        x = x * 0.9 + 0.1 * np.sin(x)
    return x


def clipped_square(v, limit=1.0):
    if v > limit:
        return limit * (2.0 * v - limit)
    return v * v


def count_positive(x):
    return int(np.sum(x > 0))


def cell(h, x, w):
    return np.tanh(h * w + x)


def power(x, n):
    return 1.0 if n == 0 else x * power(x, n - 1)


def tree_sum(t):
    if isinstance(t, (list, tuple)):
        total = 0.0
        for child in t:
            total = total + tree_sum(child)
        return total
    return np.sum(np.sin(t) * t)


def two_branch_recursion(x, n):
    if n <= 1:
        return x
    return two_branch_recursion(x, n - 1) * 0.5 + np.sin(two_branch_recursion(x, n - 2))


def ping(x, n):
    return x if n == 0 else pong(x * 1.1, n - 1)


def pong(x, n):
    return np.sin(ping(x, n)) + x * 0.5


# --- functions under test -------------------------------------------------------------------------


def keyword_arguments(x, y):
    a = scaled_sin(x)
    b = scaled_sin(x, shift=y)
    c = scaled_sin(y, 0.5)
    d = scaled_sin(scale=y, x=x)
    return np.sum(a * b + c * d)


def nested_calls(x, y):
    return np.sum(middle(inner(x), y) + inner(inner(y)))


def tuple_result(x, y):
    p, q = sum_and_difference(x, y)
    r = sum_and_difference(p, np.sin(q))[0]
    return np.sum(p * q + r)


def helper_with_loop(x, n):
    return np.sum(damp(x, n) * x)


def helper_with_early_return(x):
    total = 0.0
    for v in x:
        total = total + clipped_square(v) + clipped_square(v * 0.5, limit=0.25)
    return total


def helper_for_loop_bound(x):
    s = 0.0
    for i in range(count_positive(x) + 1):
        s = s + np.sum(np.sin(x * i))
    return s


def rnn_with_cell(xs, w):
    h = np.zeros(xs.shape[1])
    for x in xs:
        h = cell(h, x, w)
    return np.sum(h * h)


def power_of_array(x, n):
    return np.sum(power(x, n))


def other_module(w, b, x):
    z = helper_module.affine(w, b, x)
    a = sp(z) + hm.softplus(-z) * helper_module.RATE
    return hm.smooth_norm(helper_module.decay(a, steps=2)) + np.sum(hm.decay(z))


def other_module_tuple(x):
    a, b = hm.split_scale(x, scale=3.0)
    c, d = helper_module.split_scale(a * b)
    return np.sum(a * d + b * c)


# --- tests ----------------------------------------------------------------------------------------


@given(same_shape(2))
def test_keyword_arguments_and_defaults(xy):
    assert_grad_matches(keyword_arguments, *xy, wrt=(0, 1))


@given(same_shape(2))
def test_nested_calls(xy):
    assert_grad_matches(nested_calls, *xy, wrt=(0, 1))


@given(same_shape(2, -1.0, 1.0))
def test_function_returning_a_tuple(xy):
    assert_grad_matches(tuple_result, *xy, wrt=(0, 1))


@given(arrays(sides(1, 5)), st.integers(0, 5))
def test_callee_with_a_loop_that_rebinds_its_parameter(x, n):
    assert_grad_matches(helper_with_loop, x, n)


@given(arrays(sides(1, 5)))
def test_callee_with_early_return_and_default(x):
    assume(apart(x - 1.0, x * 0.5 - 0.25))
    assert_grad_matches(helper_with_early_return, x)


@given(arrays(sides(1, 5)))
def test_callee_result_as_loop_bound(x):
    assert_grad_matches(helper_for_loop_bound, x)


@given(matrices(sides(1, 5), sides(1, 3), -1.0, 1.0), reals(-1.0, 1.0))
def test_callee_inside_a_loop(xs, w):
    assert_grad_matches(rnn_with_cell, xs, w, wrt=(0, 1))


@given(reals(), st.integers(0, 6))
def test_recursion_power(x, n):
    assert_grad_matches(power, x, n)


@given(arrays(sides(1, 4)), st.integers(0, 4))
def test_recursion_power_on_arrays(x, n):
    assert_grad_matches(power_of_array, x, n)


trees = st.recursive(
    arrays(sides(1, 3)),
    lambda children: st.lists(children, min_size=1, max_size=3) | st.tuples(children, children),
    max_leaves=5,
)


@given(trees)
def test_recursion_over_a_nested_structure(t):
    assert_grad_matches(tree_sum, t)


@given(reals(-1.0, 1.0), st.integers(0, 5))
def test_recursion_with_two_recursive_calls(x, n):
    assert_grad_matches(two_branch_recursion, x, n)


@given(reals(), st.integers(0, 5))
def test_mutual_recursion(x, n):
    assert_grad_matches(ping, x, n)


@given(
    st.tuples(sides(), sides()).flatmap(
        lambda mk: st.tuples(
            arrays((mk[0], mk[1]), -1.0, 1.0), arrays(mk[0], -1.0, 1.0), arrays(mk[1], -1.0, 1.0)
        )
    )
)
def test_calls_into_another_module(wbx):
    assert_grad_matches(other_module, *wbx, wrt=(0, 1, 2))


@given(arrays(sides(1, 5), -1.0, 1.0))
def test_tuple_result_from_another_module(x):
    assert_grad_matches(other_module_tuple, x)
