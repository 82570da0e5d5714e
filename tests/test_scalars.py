"""Issue 2: Python floats and ints throughout; `math.sin/cos/exp/log/sqrt/tanh`; builtins `abs`,
`min`, `max`, `sum`, `len`, `float`, `int`; list comprehensions and generator expressions inside
`sum(...)`, `np.array([...])` and `np.stack([...])`."""

import math

import numpy as np
import pytest
from fd import assert_grad_matches
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import apart, arrays, matrices, positive, reals, separated, sides

import s2s

floats_list = st.lists(reals(), min_size=1, max_size=5)


# --- user functions -------------------------------------------------------------------------------


def math_functions(x, y):
    a = math.sin(x) * math.cos(y)
    b = math.exp(0.5 * x) + math.log(1.5 + y * y)
    c = math.sqrt(x * x + y * y + 0.5)
    d = math.tanh(x - y)
    return a * b + c * d


def int_arithmetic(x, n):
    total = 0.0
    for i in range(n):
        total = total + x * (i // 2) + (i % 3) * x * x + 2**i * 0.1 - float(i) / (i + 1)
    return total * x


def physics(v0, angle, drag):
    px = 0.0
    py = 0.0
    vx = v0 * math.cos(angle)
    vy = v0 * math.sin(angle)
    dt = 0.01
    for _ in range(50):
        speed = math.sqrt(vx * vx + vy * vy)
        vx = vx - drag * speed * vx * dt
        vy = vy - (9.81 + drag * speed * vy) * dt
        px = px + vx * dt
        py = py + vy * dt
    return px + 0.5 * py


def builtin_abs(x, y):
    return abs(x) * y + abs(x * y - 0.05) + abs(math.sin(x))


def builtin_min_max(x, y):
    return min(x, y) * max(x, y, 0.5) + max([x * y, x - y]) - min(x * x, 1.0)


def min_max_many(xs, y):
    a, b, c = xs[0], xs[1], xs[2]
    top = max(a * y, b, c * c, 0.5)
    low = min(xs)
    return top * low + max(xs) * y - min(a, b, c) + max([v * v for v in xs])


def min_max_array(v, y):
    return max(v) * y + min(v) * min(v) + max(np.sin(v)) - min(v[0], y, 0.5)


def max_of(xs):
    return max(xs)


def max_of_three(a, b, c):
    return max(a, b, c)


def max_with_key(xs):
    return max(xs, key=abs)


def builtin_sum_len(xs):
    return sum(xs) * len(xs) + sum(xs) / len(xs) + sum([v * v for v in xs])


def builtin_float_int(x, y):
    k = int(x * 2.0)
    a = float(np.sum(y * y))
    return x * k + a * x + float(k) * a


def generator_in_sum(x, n):
    return sum(math.sin(x * i) for i in range(n)) + sum(x**i for i in range(1, n + 1))


def generator_over_list(xs):
    return sum(v * v * v for v in xs if v > 0) + sum(math.exp(-v) * i for i, v in enumerate(xs))


def nested_generator(xs, ys):
    total = sum(a * b for a in xs for b in ys)
    return total + sum(math.sin(a - b) for a, b in zip(xs, ys))  # noqa: B905


def comprehension_to_array(x, y):
    v = np.array([x * i + y for i in range(4)])
    w = np.array([x, y, x * y])
    return np.sum(v * v) + np.sum(np.sin(w)) * v[-1]


def comprehension_to_stack(x):
    rows = np.stack([np.sin(row) * row for row in x])
    cols = np.stack([x[:, j] * j for j in range(x.shape[1])], axis=1)
    return np.sum(rows * cols) + np.sum(np.stack([np.sum(r * r) for r in x]))


def list_comprehension_with_condition(x):
    picked = [v * v for v in x if v > 0]
    return sum(picked) + np.sum(np.array([v * 2.0 for v in x]) * x)


def floats_with_numpy(x, y):
    return np.sin(x) * np.exp(y) + np.tanh(x * y)


# --- tests ----------------------------------------------------------------------------------------


@given(reals(), reals())
def test_math_module(x, y):
    assert_grad_matches(math_functions, x, y, wrt=(0, 1))


@given(reals(), st.integers(0, 6))
def test_int_arithmetic_with_float(x, n):
    assert_grad_matches(int_arithmetic, x, n)


@given(positive(5.0, 15.0), positive(0.2, 1.3), positive(0.01, 0.2))
def test_scalar_physics_loop(v0, angle, drag):
    assert_grad_matches(physics, v0, angle, drag, wrt=(0, 1, 2))


@given(reals(), reals())
def test_abs(x, y):
    assume(apart(x * y - 0.05, math.sin(x)))
    assert_grad_matches(builtin_abs, x, y, wrt=(0, 1))


@given(reals(), reals())
def test_min_max(x, y):
    assume(separated([x, y, 0.5]) and apart(x * y - (x - y), x * x - 1.0))
    assert_grad_matches(builtin_min_max, x, y, wrt=(0, 1))


@given(st.lists(reals(), min_size=3, max_size=6), reals())
def test_min_max_of_many_arguments_and_of_a_list(xs, y):
    assume(separated(xs + [y, 0.5]))
    assume(separated([v * y for v in xs] + [0.5]) and separated([v * v for v in xs]))
    g = assert_grad_matches(min_max_many, xs, y, wrt=(0, 1))
    assert isinstance(g[0], list) and len(g[0]) == len(xs)


@given(arrays(sides(1, 6), unique=True), reals())
def test_min_max_of_an_array(v, y):
    assume(separated(list(v) + [y]) and separated(list(np.sin(v))))
    assert_grad_matches(min_max_array, v, y, wrt=(0, 1))


def test_min_max_ties_share_the_gradient():
    np.testing.assert_array_equal(s2s.grad(max_of)(np.array([1.0, 3.0, 3.0])), [0.0, 0.5, 0.5])
    assert s2s.grad(max_of)([3.0, 1.0, 3.0, 3.0]) == [1 / 3, 0.0, 1 / 3, 1 / 3]
    assert s2s.grad(max_of_three, wrt=(0, 1, 2))(2.0, 2.0, 1.0) == (0.5, 0.5, 0.0)


def test_min_max_with_a_key_is_refused():
    with pytest.raises(s2s.S2SError, match="signature"):
        s2s.grad(max_with_key)([1.0, 2.0])


@given(floats_list)
def test_sum_and_len_of_a_list(xs):
    assert_grad_matches(builtin_sum_len, xs)


@given(reals(), arrays(sides(1, 4)))
def test_float_and_int(x, y):
    assume(apart(x * 2.0 - round(x * 2.0)))
    assert_grad_matches(builtin_float_int, x, y, wrt=(0, 1))


@given(reals(), st.integers(0, 5))
def test_generator_expression_in_sum(x, n):
    assert_grad_matches(generator_in_sum, x, n)


@given(floats_list)
def test_generator_with_condition_and_enumerate(xs):
    assert_grad_matches(generator_over_list, xs)


@given(
    sides(1, 4).flatmap(
        lambda n: st.tuples(
            st.lists(reals(), min_size=n, max_size=n), st.lists(reals(), min_size=n, max_size=n)
        )
    )
)
def test_nested_generator_and_zip(xsys):
    assert_grad_matches(nested_generator, *xsys, wrt=(0, 1))


@given(reals(), reals())
def test_list_comprehension_in_np_array(x, y):
    assert_grad_matches(comprehension_to_array, x, y, wrt=(0, 1))


@given(matrices())
def test_list_comprehension_in_np_stack(x):
    assert_grad_matches(comprehension_to_stack, x)


@given(arrays(sides(1, 5)))
def test_list_comprehension_with_condition(x):
    assert_grad_matches(list_comprehension_with_condition, x)


@given(reals(), reals(-1.0, 1.0))
def test_numpy_functions_on_python_floats_give_floats(x, y):
    assert_grad_matches(floats_with_numpy, x, y, wrt=(0, 1))
