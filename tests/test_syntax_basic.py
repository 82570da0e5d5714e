"""Issue 2: assignment, augmented assignment, unpacking and swapping, chained expressions,
arithmetic operators (`+ - * / @ **`, unary minus), module-level constants and arrays."""

import numpy as np
from fd import assert_grad_matches, numerical_grad
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import arrays, matrices, positive, positive_arrays, reals, sides

import s2s

SCALE = 1.7
SHIFT = -0.4
N_REPEAT = 3
OFFSET = np.array([0.3, -1.2, 0.8])
WEIGHTS = np.array([[0.5, -1.0], [1.5, 0.25], [-0.75, 2.0]])

vectors = arrays(sides(1, 5))


def same_shape(n, lo=-2.0, hi=2.0, min_mag=0.1):
    return sides(1, 5).flatmap(
        lambda size: st.tuples(*(arrays(size, lo, hi, min_mag) for _ in range(n)))
    )


# --- user functions -------------------------------------------------------------------------------


def assign_chain(x):
    a = x * 2.0
    b = a + 1.0
    c = b * a - x
    d = c
    c = d * x
    return np.sum(c + d * a)


def rebinding_reads_old_value(x, y):
    z = x * y
    z = np.sin(z) + z * x
    z = z * z - y
    return np.sum(z)


def fan_out(x):
    return np.sum(x * x * x + np.sin(x) * x - x)


def aug_arrays(x, y):
    z = x * y
    z += x
    z -= 0.5 * y
    z *= x + 2.5
    z /= y * y + 1.0
    z **= 2
    return np.sum(z)


def aug_floats(x, y):
    z = x
    z += y
    z *= x
    z -= 0.5 * y
    z /= 1.5 + y * y
    z **= 2
    z += z * x
    return z


def aug_float_exponents(x):
    z = x + 1.0
    z **= 1.5
    z **= x
    z *= z
    return z


def aug_on_float_parameter(x, y):
    x += y * y
    x *= y
    y -= x
    return x * y


def aug_received_array(x, y):
    x += y
    x *= y
    return np.sum(x * x)


def unpack_swap(x, y):
    a, b = x * 2.0, np.sin(y)
    a, b = b, a
    a, b = a * b, a - b
    (c, d), e = (a, b), x * y
    return np.sum(c * d + e * a)


def unpack_rows(x):
    top, bottom = x
    m, n = x.shape
    s, c = np.sin(top), np.cos(bottom)
    return np.sum(top * np.exp(bottom) - s * c) * m + np.sum(bottom) * n


def rotate_loop(x, y):
    a, b = x, y
    for _ in range(4):
        a, b = b, a * 0.5 + b * np.sin(a)
    return a + b * b


def chained_expression(x, y):
    return np.sum(np.tanh(x * y + 1.0) * np.exp(-x) / (1.0 + y * y) - (x - y) * (x + 2.0 * y))


def arithmetic(x, y):
    return np.sum(x + y - x * y + x / y - 3.0 / (1.0 + x * x) + (2.0 - x) * (y - 1.0) + 1.5 / y)


def float_and_array(s, x):
    return np.sum(s * x + x / s - s) + s * s


def matmul_ops(a, b, v):
    c = a @ b
    w = c @ v
    u = v @ b.T
    return np.sum(w * w) + u @ u


def matmul_vectors(x, y):
    return (x @ y) * (x @ x) + np.sum(np.outer(x, y) @ y)


def power_int(x):
    return np.sum(x**3 - 2.0 * x**2 + x**1 + x**0 + x**-2)


def power_float(x):
    return np.sum(x**2.5 + x**0.5 - x**-1.5)


def power_variable(x, y):
    return np.sum(x**y + 2.0**y + y**2)


def power_scalars(x, y):
    return x**y + y**3 + 1.5**x + x**-1


def unary(x, y):
    a = -x
    b = -(x * y)
    c = -np.sum(a * b * y)
    return -c + np.sum(+x * -y) - -np.sum(np.sin(-a))


def uses_globals(x):
    y = SCALE * x + OFFSET
    for _ in range(N_REPEAT):
        y = np.tanh(y) + SHIFT
    return np.sum(WEIGHTS.T @ y) + SCALE * np.sum(x * OFFSET)


# --- tests ----------------------------------------------------------------------------------------


@given(vectors)
def test_assignment_chain(x):
    assert_grad_matches(assign_chain, x)


@given(same_shape(2))
def test_rebinding_reads_old_value(xy):
    assert_grad_matches(rebinding_reads_old_value, *xy, wrt=(0, 1))


@given(vectors)
def test_fan_out_accumulates(x):
    assert_grad_matches(fan_out, x)


@given(same_shape(2))
def test_augmented_assignment_arrays(xy):
    assert_grad_matches(aug_arrays, *xy, wrt=(0, 1))


@given(reals(), reals())
def test_augmented_assignment_floats(x, y):
    assert_grad_matches(aug_floats, x, y, wrt=(0, 1))


@given(positive(0.5, 1.5))
def test_augmented_power_with_float_and_variable_exponent(x):
    assert_grad_matches(aug_float_exponents, x)


@given(reals(), reals())
def test_augmented_assignment_rebinds_float_parameters(x, y):
    assert_grad_matches(aug_on_float_parameter, x, y, wrt=(0, 1))


@given(same_shape(2))
def test_augmented_assignment_into_received_array(xy):
    assert_grad_matches(aug_received_array, *xy, wrt=(0, 1))


@given(same_shape(2))
def test_tuple_unpacking_and_swap(xy):
    assert_grad_matches(unpack_swap, *xy, wrt=(0, 1))


@given(matrices(2, sides(1, 4), lo=-1.0, hi=1.0))
def test_unpacking_array_rows_and_shape(x):
    assert_grad_matches(unpack_rows, x)


@given(reals(-1.0, 1.0), reals(-1.0, 1.0))
def test_swap_in_a_loop(x, y):
    assert_grad_matches(rotate_loop, x, y, wrt=(0, 1))


@given(same_shape(2))
def test_chained_expression(xy):
    assert_grad_matches(chained_expression, *xy, wrt=(0, 1))


@given(sides(1, 5).flatmap(lambda n: st.tuples(arrays(n), arrays(n, min_mag=0.5))))
def test_arithmetic_operators(xy):
    assert_grad_matches(arithmetic, *xy, wrt=(0, 1))


@given(reals(min_mag=0.3), vectors)
def test_float_mixed_with_array_gives_float_gradient(s, x):
    assert_grad_matches(float_and_array, s, x, wrt=(0, 1))


@given(
    st.tuples(sides(), sides(), sides()).flatmap(
        lambda mkn: st.tuples(
            arrays((mkn[0], mkn[1]), -1.0, 1.0),
            arrays((mkn[1], mkn[2]), -1.0, 1.0),
            arrays(mkn[2], -1.0, 1.0),
        )
    )
)
def test_matmul(abv):
    assert_grad_matches(matmul_ops, *abv, wrt=(0, 1, 2))


@given(same_shape(2, -1.0, 1.0))
def test_matmul_of_vectors(xy):
    assert_grad_matches(matmul_vectors, *xy, wrt=(0, 1))


@given(arrays(sides(1, 5), min_mag=0.4))
def test_power_int_exponents(x):
    assert_grad_matches(power_int, x)


@given(positive_arrays(sides(1, 5)))
def test_power_float_exponents(x):
    assert_grad_matches(power_float, x)


@given(sides(1, 5).flatmap(lambda n: st.tuples(positive_arrays(n), arrays(n))))
def test_power_variable_exponent(xy):
    assert_grad_matches(power_variable, *xy, wrt=(0, 1))


@given(positive(), reals())
def test_power_scalars(x, y):
    assert_grad_matches(power_scalars, x, y, wrt=(0, 1))


@given(same_shape(2))
def test_unary_minus(xy):
    assert_grad_matches(unary, *xy, wrt=(0, 1))


@given(arrays(3))
def test_module_level_constants_and_arrays(x):
    assert_grad_matches(uses_globals, x)
    np.testing.assert_array_equal(OFFSET, [0.3, -1.2, 0.8])


def matrix_transposes(x):
    return np.sum(np.sin(x.mT @ x) + x.imag * x + x.real)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 4))
def test_array_attributes_mT_real_imag(seed, n):
    """`x.mT` is `np.matrix_transpose(x)`, `.real` the value, `.imag` a constant zero (real
    arguments): checked against central differences and forward mode."""
    x = np.random.default_rng(seed).standard_normal((2, n, n))
    g = s2s.grad(matrix_transposes)(x)
    np.testing.assert_allclose(g, numerical_grad(matrix_transposes, (x,), 0), rtol=1e-6, atol=1e-8)
    u = np.random.default_rng(seed + 1).standard_normal(x.shape)
    _, t = s2s.jvp(matrix_transposes)(x, u)
    np.testing.assert_allclose(t, np.sum(g * u), rtol=1e-10, atol=1e-12)
