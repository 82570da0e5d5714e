"""Issue 2: `if`/`elif`/`else` on data, ternaries, chained comparisons, `and`/`or`/`not`; `for`
over `range` (start/stop/step from data), array rows, lists, `enumerate`, `zip`, `reversed`;
`while` on data; `break`, `continue`, early `return`; nested loops.

Inputs are kept away from branch points (`apart`), so finite differences never straddle one.
"""

import numpy as np
import pytest
from fd import assert_grad_matches
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import apart, arrays, matrices, reals, shift_sum, sides

import s2s

vectors = arrays(sides(1, 6))


def same_shape(n, lo=-2.0, hi=2.0):
    return sides(1, 5).flatmap(lambda size: st.tuples(*(arrays(size, lo, hi) for _ in range(n))))


# --- branches -------------------------------------------------------------------------------------


def branch_elif(x):
    if np.sum(x) > 0:
        y = np.sin(x) * 2.0
    elif np.sum(x) > -1.0:
        y = x * x
    else:
        y = np.exp(x) * x
    return np.sum(y * x)


def branch_floats(x, y):
    if x > y:
        z = x * y
    else:
        z = np.sin(x) + y
    if not x > 0:
        z = z * 2.0
    return z * z


def branch_no_else(x):
    y = x * 1.5
    if np.max(x) > 1.0:
        y = y * np.cos(x)
    return np.sum(y)


def ternary(x, y):
    a = np.sin(x) if x > 0 else x * x
    b = a * y if a > 0.5 else (a - y if y > 0 else a + y * y)
    return a * b


def ternary_arrays(x):
    scale = 2.0 if np.mean(x) > 0 else -1.0
    return np.sum(scale * x * x) if np.max(x) > 1.0 else np.sum(np.sin(x) * scale)


def chained_comparisons(x, y):
    if -1.0 < x < 1.0:
        z = x * y
    elif y < x <= 2.0 * y:
        z = np.sin(x * y)
    else:
        z = x + y * y
    if 0.0 < x * y < 1.0 < y:
        z = z * x
    return z


def boolean_operators(x, y):
    if x > 0 and y > 0:
        z = x * y
    elif x > 0 or not y > -0.5:
        z = np.sin(x) - y
    else:
        z = x * x * y
    flag = x > y and not y > 1.0
    if flag or x < -1.5:
        z = z * x
    return z


# --- for loops ------------------------------------------------------------------------------------


def design_example(x, n):
    y = 0.0
    for i in range(n):
        y = y + np.sin(x) * i
    return y * y


def range_len(x):
    s = 0.0
    for i in range(len(x)):
        s = s * 0.5 + x[i] * np.sin(s + x[i])
    return s


def range_start_stop_step(x):
    lo = len(x) // 3
    hi = x.shape[0]
    step = 1 + int(x[0] > 0)
    s = 0.0
    for i in range(lo, hi, step):
        s = s + np.sin(x[i]) * x[(i + 1) % hi]
    return s


def range_negative_step(x, n):
    s = x * 0.0
    for i in range(n, 0, -2):
        s = s * np.cos(x) + x * i
    return np.sum(s)


def range_from_data(x):
    n = int(np.sum(x > 0))
    s = 1.0
    for i in range(n, len(x)):
        s = s * x[i] + np.tanh(x[i - n])
    return s


def recurrence(x, n):
    y = x
    for _ in range(n):
        y = np.sin(y) * x + 0.1 * y * y
    return np.sum(y)


def loop_rows(x):
    acc = np.zeros(x.shape[1])
    for row in x:
        acc = np.tanh(acc * row + row)
    return np.sum(acc * acc)


def loop_list_literal(x, y):
    total = 0.0
    for v in [x, y, x * y, np.sin(x)]:
        total = total * 0.5 + np.sum(v * v)
    return total


def loop_list_parameter(xs):
    total = 0.0
    for v in xs:
        total = np.sin(total) + np.sum(v * v * v)
    return total


def loop_enumerate(x):
    s = 0.0
    for i, row in enumerate(x):
        s = s * 0.9 + np.sum(np.sin(row * (i + 1)))
    for i, v in enumerate(x[0], 1):
        s = s + v * i * s
    return s * s


def loop_zip(x, y):
    s = 0.0
    for a, b in zip(x, y):  # noqa: B905
        s = s * b + a * np.sin(b)
    for a, b, c in zip(x, y[::-1], range(len(x))):  # noqa: B905
        s = s + a * b * c
    return s


def loop_zip_strict(x, y):
    s = 0.0
    for a, b in zip(x, y, strict=True):
        s = s * b + a * np.sin(b)
    pairs = [a * b for a, b in zip(x, y[::-1], strict=True)]
    for a, b in zip(x, y, strict=False):  # as zip(x, y): up to the shorter
        s = s + a * b
    return s + np.sum(np.stack(pairs))


def loop_reversed(x):
    h = np.zeros(x.shape[1])
    for row in reversed(x):
        h = np.tanh(h * 0.5 + row)
    s = 0.0
    for i in reversed(range(x.shape[1])):
        s = s * h[i] + x[0, i]
    for v in reversed([h, x[-1]]):
        s = s * 0.5 + np.sum(v * h)
    return s


def loop_with_branch(x):
    s = 1.0
    for v in x:
        if v > 0:
            s = s * v + np.sin(s)
        else:
            s = np.tanh(s * v)
    return s


# --- while ----------------------------------------------------------------------------------------


def while_sqrt(x):
    y = x * x + 1.0
    n = 0
    while y > 1.05:
        y = np.sqrt(y)
        n = n + 1
    return y * x + n


def while_index(x):
    i = 0
    s = 0.0
    while i < len(x) and x[i] > -1.0:
        s = s + x[i] * np.exp(s * 0.1)
        i += 1
    return s


def while_true_break(x):
    stop = 2 + int(np.sum(x > 0))
    y = x
    k = 0
    while True:
        y = np.sin(y) * x + 0.5 * y
        k += 1
        if k >= stop:
            break
    return np.sum(y)


# --- break, continue, early return ----------------------------------------------------------------


def loop_break(x):
    s = 0.0
    for i in range(len(x)):
        if x[i] < 0:
            break
        s = s * x[i] + np.sin(x[i]) * (i + 1)
    return s + x[0]


def loop_continue(x):
    s = 0.0
    for v in x:
        if v < 0:
            continue
        s = s * 0.5 + v * np.exp(-v * s)
    return s + np.sum(x) * 0.1


def while_break_continue(x):
    i = -1
    s = 0.0
    while i < len(x) - 1:
        i += 1
        if x[i] < -1.0:
            continue
        if x[i] > 1.5:
            break
        s = s * np.cos(x[i]) + x[i]
    return s


def nested_break_continue(x):
    s = 0.0
    for i in range(x.shape[0]):
        if i % 2 == 1 and x[i, 0] < 0:
            continue
        for j in range(x.shape[1]):
            if x[i, j] > 1.5:
                break
            s = s + x[i, j] * np.cos(s)
    return s


def early_return_loop(x):
    s = 0.0
    for i in range(len(x)):
        s = s + x[i] * x[i]
        if x[i] < 0:
            return s * np.sin(x[i])
    return s + 1.0


def early_return_partial_sum(x):
    s = 0.0
    for v in x:
        s = s + v * v
        if s > 2.0:
            return s * v
    return -s


def early_return_nested(x):
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            if x[i, j] > 1.5:
                return x[i, j] * np.sum(x[i])
    return np.sum(x * x)


def early_return_branch(x, y):
    if x > y:
        return x * np.sin(y)
    z = x * y
    if z > 0:
        return z * z
    return z - y


def early_return_while(x):
    y = x
    while True:
        y = y * 0.5 + np.sin(y)
        if np.sum(y * y) > 1.0:
            return np.sum(y) * 2.0
        if np.sum(np.abs(y)) < 1e-3:
            return 0.0


def nested_triangular(x):
    s = 0.0
    for i in range(x.shape[0]):
        t = 1.0
        for j in range(i, x.shape[1]):
            t = t * x[i, j] + 0.5
        s = s + t * t
    return s


# --- tests: branches ------------------------------------------------------------------------------


@given(vectors, st.sampled_from([0.8, -0.5, -1.7]))
def test_if_elif_else_on_data(x, target):
    assert_grad_matches(branch_elif, shift_sum(x, target))


@given(reals(), reals())
def test_if_on_floats(x, y):
    assume(apart(x - y))
    assert_grad_matches(branch_floats, x, y, wrt=(0, 1))


@given(vectors)
def test_if_without_else(x):
    assume(apart(np.max(x) - 1.0))
    assert_grad_matches(branch_no_else, x)


@given(reals(), reals())
def test_ternary(x, y):
    a = np.sin(x) if x > 0 else x * x
    assume(apart(a - 0.5))
    assert_grad_matches(ternary, x, y, wrt=(0, 1))


@given(vectors)
def test_ternary_on_arrays(x):
    assume(apart(np.mean(x), np.max(x) - 1.0))
    assert_grad_matches(ternary_arrays, x)


@given(reals(), reals())
def test_chained_comparisons(x, y):
    assume(apart(abs(x) - 1.0, y - x, x - 2.0 * y, x * y, x * y - 1.0, y - 1.0))
    assert_grad_matches(chained_comparisons, x, y, wrt=(0, 1))


@given(reals(), reals())
def test_and_or_not(x, y):
    assume(apart(y + 0.5, x - y, y - 1.0, x + 1.5))
    assert_grad_matches(boolean_operators, x, y, wrt=(0, 1))


# --- tests: for -----------------------------------------------------------------------------------


@given(reals(), st.integers(0, 6))
def test_design_md_example(x, n):
    assert_grad_matches(design_example, x, n)


@given(vectors)
def test_for_range_len(x):
    assert_grad_matches(range_len, x)


@given(vectors)
def test_for_range_start_stop_step_from_data(x):
    assert_grad_matches(range_start_stop_step, x)


@given(vectors, st.integers(0, 7))
def test_for_range_negative_step(x, n):
    assert_grad_matches(range_negative_step, x, n)


@given(vectors)
def test_for_range_bounds_from_values(x):
    assert_grad_matches(range_from_data, x)


@given(arrays(sides(1, 4), -1.0, 1.0), st.integers(0, 6))
def test_for_recurrence_overwrites_what_the_adjoint_reads(x, n):
    assert_grad_matches(recurrence, x, n)


@given(matrices())
def test_for_over_array_rows(x):
    assert_grad_matches(loop_rows, x)


@given(same_shape(2))
def test_for_over_list_literal(xy):
    assert_grad_matches(loop_list_literal, *xy, wrt=(0, 1))


@given(st.lists(arrays(sides(1, 3), -1.0, 1.0), min_size=1, max_size=4))
def test_for_over_list_parameter(xs):
    assert_grad_matches(loop_list_parameter, xs)


@given(matrices(lo=-1.0, hi=1.0))
def test_for_enumerate(x):
    assert_grad_matches(loop_enumerate, x)


@given(same_shape(2))
def test_for_zip(xy):
    assert_grad_matches(loop_zip, *xy, wrt=(0, 1))


@given(same_shape(2))
def test_for_zip_strict(xy):
    assert_grad_matches(loop_zip_strict, *xy, wrt=(0, 1))
    x, y = xy
    _, t = s2s.jvp(loop_zip_strict, wrt=0)(x, y, np.ones_like(x))
    np.testing.assert_allclose(t, np.sum(s2s.grad(loop_zip_strict)(x, y)), rtol=1e-9)


def test_zip_strict_raises_as_python_does():
    x, y = np.ones((3, 2)), np.ones((2, 2))
    with pytest.raises(ValueError, match="zip\\(\\) argument 2 is shorter than argument 1"):
        loop_zip_strict(x, y)
    with pytest.raises(ValueError, match="zip\\(\\) argument 2 is shorter than argument 1"):
        s2s.grad(loop_zip_strict)(x, y)


@given(matrices())
def test_for_reversed(x):
    assert_grad_matches(loop_reversed, x)


@given(vectors)
def test_branch_inside_loop(x):
    assert_grad_matches(loop_with_branch, x)


# --- tests: while ---------------------------------------------------------------------------------


def _sqrt_iterates(x):
    y = x * x + 1.0
    out = [y]
    while y > 1.05:
        y = np.sqrt(y)
        out.append(y)
    return np.array(out)


@given(reals(-3.0, 3.0))
def test_while_data_dependent_condition(x):
    assume(apart(_sqrt_iterates(x) - 1.05, gap=1e-4))
    assert_grad_matches(while_sqrt, x)


@given(vectors)
def test_while_with_compound_condition(x):
    assume(apart(x + 1.0))
    assert_grad_matches(while_index, x)


@given(arrays(sides(1, 4), -1.0, 1.0))
def test_while_true_with_break(x):
    assert_grad_matches(while_true_break, x)


def _early_while_sums(x):
    y = x
    out = []
    for _ in range(200):
        y = y * 0.5 + np.sin(y)
        out.append(np.sum(y * y))
        if out[-1] > 1.0:
            break
    return np.array(out)


@given(arrays(sides(1, 4), -1.0, 1.0))
def test_early_return_inside_while(x):
    sums = _early_while_sums(x)
    assume(sums[-1] > 1.0 and apart(sums - 1.0, gap=1e-4))
    assert_grad_matches(early_return_while, x)


# --- tests: break / continue / return -------------------------------------------------------------


@given(vectors)
def test_break(x):
    assert_grad_matches(loop_break, x)


@given(vectors)
def test_continue(x):
    assert_grad_matches(loop_continue, x)


@given(vectors)
def test_break_and_continue_in_while(x):
    assume(apart(x + 1.0, x - 1.5))
    assert_grad_matches(while_break_continue, x)


@given(matrices())
def test_break_and_continue_in_nested_loops(x):
    assume(apart(x - 1.5))
    assert_grad_matches(nested_break_continue, x)


@given(vectors)
def test_early_return_inside_loop(x):
    assert_grad_matches(early_return_loop, x)


@given(vectors)
def test_early_return_on_running_sum(x):
    assume(apart(np.cumsum(x * x) - 2.0, gap=1e-4))
    assert_grad_matches(early_return_partial_sum, x)


@given(matrices())
def test_early_return_from_nested_loops(x):
    assume(apart(x - 1.5))
    assert_grad_matches(early_return_nested, x)


@given(reals(), reals())
def test_early_return_inside_branches(x, y):
    assume(apart(x - y))
    assert_grad_matches(early_return_branch, x, y, wrt=(0, 1))


@given(matrices(lo=-1.0, hi=1.0))
def test_nested_loops_inner_range_depends_on_outer(x):
    assert_grad_matches(nested_triangular, x)


# -- guard clauses: `if c: return a` followed by more code is an if/else (no `_return` flag) ------


def guard_clauses(x, k):
    if k == 0:
        return np.sum(x)
    elif k == 1:
        y = np.sin(x)
        if np.sum(y) > 10.0:
            return np.sum(y * y)
        return np.sum(y * x)
    total = 0.0
    for i in range(k):
        if i == 2:
            return total + np.sum(np.tanh(x))  # a return in a loop: still a flag
        total = total + np.sum(x * i)
    return total * np.sum(x)


@given(arrays(3, lo=-1.0, hi=1.0), st.integers(0, 4))
def test_guard_clauses(x, k):
    assert_grad_matches(guard_clauses, x, k)
    v = np.array([0.3, -0.2, 0.7])
    value, t = s2s.jvp(guard_clauses)(x, k, v)
    assert value == pytest.approx(guard_clauses(x, k), rel=1e-12, abs=1e-12)
    assert t == pytest.approx(float(s2s.grad(guard_clauses)(x, k) @ v), rel=1e-9, abs=1e-12)


def test_a_guard_clause_needs_no_return_flag():
    code = s2s.source(guard_clauses)
    # the flag is set only by the return in the loop; the guards are if / elif / else
    assert code.count("_return = True") == 1, code
    assert "    if _5:\n        _result = np.sum(x)\n    else:" in code, code
