"""Issue 2: subscripts. Reading with ints, negative ints, slices with steps, tuples of them, `None`
and integer arrays (repeated indices included); writing `x[i] = v`, `x[i, j] += v`,
`x[a:b] = v` into arrays the function created, copied or received, with overwritten values
restored correctly in the backward sweep (Tangent issue 69)."""

import numpy as np
from fd import assert_grad_matches
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import arrays, matrices, reals, separated, shift_sum, sides

IDX = np.array([2, 0, 0, 1, 2])
ROWS = [0, 1, 1]
COLS = np.array([2, 0, 2])


# --- reading --------------------------------------------------------------------------------------


def read_ints(x):
    return x[0, 1] * x[1, 2] + np.sin(x[1, 0]) * x[0][2] + x[1][1] ** 2


def read_negative_ints(x):
    return x[-1, -2] * x[-2, -1] + x[-1][-1] ** 3 - np.sin(x[0, -3])


def read_slices(x):
    a = x[::2]
    b = x[1::2]
    c = x[::-1]
    d = x[1:-1:2]
    e = x[-2::-3]
    return np.sum(a * a) + np.sum(b * np.sin(b)) + np.sum(c * x * x) + np.sum(d) * np.sum(e)


def read_tuples(x):
    a = x[1:, ::2]
    b = x[:, 0]
    c = x[-1, 1:3]
    d = x[::-1, ::-2]
    e = x[0, :]
    return np.sum(a * a) + np.sum(b * np.cos(b)) + np.sum(c) ** 2 + np.sum(d * x[:, ::2]) + e @ e


def read_none(x, w):
    outer = x[:, None] * x[None, :]
    col = x[None, :, None]
    return np.sum(outer * w) + np.sum(col * col * col) + np.sum(x[None] * x)


def read_integer_arrays(x):
    a = x[IDX]
    b = x[IDX[::-1]]
    return np.sum(a * b * b) + np.sum(x[[1, 1, 0]] * x[:3])


def read_integer_array_pairs(x):
    picked = x[ROWS, COLS]
    rows = x[ROWS]
    return np.sum(picked * np.sin(picked)) + np.sum(rows * rows[::-1])


def read_integer_array_from_data(x):
    order = np.argsort(x)
    y = x[order]
    return np.sum(y * np.arange(len(x)) * y)


# --- writing --------------------------------------------------------------------------------------


def write_into_zeros(x):
    y = np.zeros(len(x) + 1)
    for i in range(len(x)):
        y[i] = x[i] * x[i]
    y[-1] = np.sum(x)
    return np.sum(np.sin(y) * y)


def write_augmented_2d(x):
    m, n = x.shape
    y = np.zeros((m, n))
    for i in range(m):
        for j in range(n):
            y[i, j] += x[i, j] * x[(i + 1) % m, j]
            y[i, j] += np.sin(x[i, j])
            y[i, j] *= x[i, j]
    return np.sum(y * y)


def write_overwrites_what_is_read(x):
    y = x.copy()
    for i in range(len(x)):
        y[i] = np.sin(y[i]) * y[(i + 1) % len(x)]
    return np.sum(y * y)


def write_same_entry_repeatedly(x):
    y = np.zeros(2)
    for v in x:
        y[0] = y[0] * v + np.sin(y[1])
        y[1] = y[0] * y[1] + v
    return y[0] + y[1] * y[1]


def write_slices(x):
    n = len(x)
    y = np.zeros(2 * n)
    y[:n] = x * x
    y[n:] = np.sin(x)
    y[1:3] = y[1:3] * 2.0 + x[0]
    y[::2] = y[::2] * y[1::2]
    return np.sum(y * y)


def write_on_copy(x):
    y = x.copy()
    y[0] = y[0] * y[-1]
    y[1:] = y[1:] * 2.0 + y[:-1]
    y[-1] += np.sum(y)
    return np.sum(y * x)


def write_rows_and_columns(x, v):
    y = np.zeros((3, len(v)))
    y[0] = v * x
    y[1] = np.sum(v)
    y[:, 0] = y[:, 0] + x
    y[2, :] = y[0] * y[1]
    return np.sum(y * y)


def write_received(x):
    x[0] = x[0] * x[1]
    x[1:] = np.sin(x[1:])
    return np.sum(x * x)


def issue69(x, w):
    out = np.zeros((3, len(x)))
    for i in range(len(x)):
        out[1, i] = x[i] * w
    if np.sum(x) > 0:
        out[1, 0] += x[-1] * out[1, 0]
    return np.sum(out * out)


def issue69_rows(x):
    out = np.zeros((len(x), 2))
    for i in range(len(x)):
        out[i] = x[i] * np.array([1.0, 2.0])
    if x[0] > 0:
        out[0, 1] += out[0, 1] * x[-1]
    else:
        out[-1, 0] = out[-1, 0] * out[-1, 1]
    return np.sum(np.sin(out) * out)


# --- tests: reading -------------------------------------------------------------------------------


@given(matrices(sides(2, 4), sides(3, 4)))
def test_read_ints(x):
    assert_grad_matches(read_ints, x)


@given(matrices(sides(2, 4), sides(3, 4)))
def test_read_negative_ints(x):
    assert_grad_matches(read_negative_ints, x)


@given(arrays(sides(2, 7)))
def test_read_slices_with_steps(x):
    assert_grad_matches(read_slices, x)


@given(matrices(sides(2, 4), sides(3, 5)))
def test_read_tuples_of_ints_and_slices(x):
    assert_grad_matches(read_tuples, x)


@given(sides(1, 4).flatmap(lambda n: st.tuples(arrays(n), arrays((n, n)))))
def test_read_with_none(xw):
    assert_grad_matches(read_none, *xw, wrt=(0, 1))


@given(arrays(sides(3, 5)))
def test_read_integer_arrays_with_repeats(x):
    assert_grad_matches(read_integer_arrays, x)


@given(matrices(sides(2, 3), 3))
def test_read_integer_array_pairs(x):
    assert_grad_matches(read_integer_array_pairs, x)


@given(arrays(sides(1, 5), unique=True))
def test_read_integer_array_computed_from_data(x):
    assume(separated(x))
    assert_grad_matches(read_integer_array_from_data, x)


# --- tests: writing -------------------------------------------------------------------------------


@given(arrays(sides(1, 5)))
def test_write_ints_into_zeros(x):
    assert_grad_matches(write_into_zeros, x)


@given(matrices(lo=-1.0, hi=1.0))
def test_write_augmented_2d(x):
    assert_grad_matches(write_augmented_2d, x)


@given(arrays(sides(1, 5)))
def test_write_overwrites_values_the_adjoint_needs(x):
    assert_grad_matches(write_overwrites_what_is_read, x)


@given(arrays(sides(1, 5), -1.0, 1.0))
def test_write_same_entry_in_a_loop(x):
    assert_grad_matches(write_same_entry_repeatedly, x)


@given(arrays(sides(2, 5)))
def test_write_slices(x):
    assert_grad_matches(write_slices, x)


@given(arrays(sides(2, 5), -1.0, 1.0))
def test_write_on_a_copy(x):
    assert_grad_matches(write_on_copy, x)


@given(sides(1, 4).flatmap(lambda n: st.tuples(reals(), arrays(n))))
def test_write_rows_and_columns_with_broadcasting(xv):
    assert_grad_matches(write_rows_and_columns, *xv, wrt=(0, 1))


@given(arrays(sides(2, 5)))
def test_write_into_a_received_array(x):
    assert_grad_matches(write_received, x)


@given(arrays(sides(1, 5)), reals(), st.sampled_from([1.0, -1.0]))
def test_tangent_issue_69(x, w, sign):
    assert_grad_matches(issue69, shift_sum(x, sign), w, wrt=(0, 1))


@given(arrays(sides(1, 5)))
def test_tangent_issue_69_rows(x):
    assert_grad_matches(issue69_rows, x)
