"""Issue 2: calls with no derivative (`print`, `len`, `np.shape`, `np.argmax`, `np.floor`,
comparisons, `isinstance`, logging) pass through; a value that flows only through them gets a
zero gradient, not an error."""

import logging
import warnings

import numpy as np
from fd import assert_grad_matches
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import apart, arrays, matrices, reals, separated, sides

import s2s

LOGGER = logging.getLogger(__name__)


def with_print(x):
    y = x * x
    print("y =", y, len(x))
    return np.sum(np.sin(y))


def with_logging(x):
    y = np.tanh(x)
    LOGGER.debug("y sums to %s", np.sum(y))
    logging.getLogger("s2s.tests").info("shape %s", y.shape)
    return np.sum(y * x)


def mixed(x):
    n = len(x)
    rows, cols = np.shape(x)
    k = np.argmax(x[0])
    steps = np.floor(x * 2.0)
    big = x > 0.5
    scale = 2.0 if isinstance(x, np.ndarray) else 1.0
    return np.sum(x * steps) / n + x[0, k] * scale + np.sum(big * x) + rows * cols


def comparisons_as_values(x, y):
    mask = x < y
    count = np.sum(mask)
    return np.sum(mask * x * y + ~mask * x) * 0.5 + np.sum(mask * y) + count


def only_nondiff(x, y):
    k = np.argmax(x)
    fl = np.floor(y)
    return float(k) + np.sum(fl) + np.sum(x > 0) * 1.0 + len(x) + np.shape(y)[0]


def only_nondiff_float(x):
    return float(x > 0.0) + np.floor(x * 3.0) + int(x)


def isinstance_dispatch(x):
    if isinstance(x, float):
        return x * x
    if isinstance(x, (list, tuple)):
        return sum(v * v for v in x)
    return np.sum(x * x * x)


@given(arrays(sides(1, 4)))
def test_print_passes_through(x):
    assert_grad_matches(with_print, x)


@given(arrays(sides(1, 4)))
def test_logging_passes_through(x):
    assert_grad_matches(with_logging, x)


@given(matrices())
def test_len_shape_argmax_floor_comparisons_isinstance(x):
    assume(separated(x[0]) and apart(x * 2.0 - np.round(x * 2.0), x - 0.5))
    assert_grad_matches(mixed, x)


@given(sides(1, 5).flatmap(lambda n: st.tuples(arrays(n), arrays(n))))
def test_comparisons_as_values(xy):
    x, y = xy
    assume(apart(x - y))
    assert_grad_matches(comparisons_as_values, x, y, wrt=(0, 1))


@given(arrays(sides(1, 4)), arrays(sides(1, 4)))
def test_value_only_through_nondiff_calls_gets_zero_gradient(x, y):
    assume(separated(x) and apart(y - np.round(y)))
    gx, gy = assert_grad_matches(only_nondiff, x, y, wrt=(0, 1))
    assert np.all(gx == 0.0) and np.all(gy == 0.0)


@given(reals())
def test_float_only_through_nondiff_calls_gets_zero_float(x):
    assume(apart(x * 3.0 - np.round(x * 3.0), x - np.round(x)))
    g = assert_grad_matches(only_nondiff_float, x)
    assert g == 0.0 and isinstance(g, float)


@given(st.one_of(reals(), st.lists(reals(), min_size=1, max_size=3), arrays(sides(1, 3))))
def test_isinstance_dispatch(x):
    assert_grad_matches(isinstance_dispatch, x)


def test_a_number_specialization_compiles_without_warnings():
    """Specialized to a float x, the list branch's `t_x[i]` keeps the name: the tangent 1.0
    written in its place, `1.0[i]`, was a SyntaxWarning printed when the code compiled."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", SyntaxWarning)
        g = s2s.grad(isinstance_dispatch)(0.7)
    assert type(g) is float and abs(g - 1.4) < 1e-12
