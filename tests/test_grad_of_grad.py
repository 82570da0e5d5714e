"""Issue 4, reverse over reverse: a gradient s2s made is itself differentiable, to any depth.

`s2s.grad(s2s.grad(f))` (and `value_and_grad` / `vjp` / `jvp` of a gradient) differentiates the
generated code of the gradient; a user function may call a gradient s2s made (`df =
s2s.grad(f)` at module level, `np.sum(df(x) * v)`: a Hessian-vector product by reverse over
reverse). Runtime helpers get adjoints from `adjoints/runtime_adjoints.py`; the tape (`v =
tape.pop()` on a list) gets an adjoint list that mirrors it.

Every second derivative here is compared with central finite differences of the first gradient
(float64, random inputs and directions), and with `s2s.hvp` (forward over reverse).
"""

from __future__ import annotations

import numpy as np
import pytest
from fd import numerical_grad
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import arrays, reals

import s2s


def assert_hvp_by_reverse_over_reverse(f, x, v, *rest, rtol=1e-6, atol=1e-7):
    """grad of <grad f(x), v> = H v, against finite differences of grad f and against hvp."""
    df = s2s.grad(f)

    def inner(x, v, *rest):
        return np.sum(df(x, *rest) * v)

    fd = numerical_grad(inner, (x, v) + rest, wrt=0)
    # reverse over reverse: the vjp of the generated gradient, with v as the cotangent
    _, pullback = s2s.vjp(df)(x, *rest)
    got = pullback(v)
    np.testing.assert_allclose(got, fd, rtol=rtol, atol=atol)
    np.testing.assert_allclose(got, s2s.hvp(f)(x, *rest, v), rtol=1e-9, atol=1e-10)
    return got


# -- the shapes of code the core supports -----------------------------------------------------


def for_loop(x, n):
    y = x
    for i in range(n):
        y = np.sin(y) * x + 0.1 * i * y
    return np.sum(y * y)


def while_loop(x, n):
    y = x
    k = 0
    while k < n:
        y = np.tanh(y) * 1.5 + x * y
        k = k + 1
    return np.sum(y)


def branch_on_data(x):
    s = np.sum(x)
    if s > 0:
        y = np.exp(x) * s
    else:
        y = np.cos(x) * x
    return np.sum(y**2)


def subscripts_in_a_loop(x):
    y = np.zeros_like(x)
    for i in range(x.shape[0]):
        y[i] = x[i] * x[i - 1] + np.sin(x[i])
    return np.sum(y * x)


def subroutine(a, b):
    return np.tanh(a) * b + a


def calls_a_subroutine(x):
    z = subroutine(x, x)
    return np.sum(subroutine(z, x) * x)


def calls_a_subroutine_in_a_loop(x, n):
    y = x
    for _ in range(n):
        y = subroutine(y, x)
        if np.sum(y) > 0:
            y = y * 0.9
    return np.sum(y * y)


@given(arrays(3), arrays(3), st.integers(1, 3))
def test_for_loop(x, v, n):
    assert_hvp_by_reverse_over_reverse(for_loop, x, v, n)


@given(arrays(3, -1.0, 1.0), arrays(3), st.integers(0, 3))
def test_while_loop(x, v, n):
    assert_hvp_by_reverse_over_reverse(while_loop, x, v, n)


@given(arrays(3), arrays(3))
def test_branch_on_data(x, v):
    assume(abs(np.sum(x)) > 1e-3)
    assert_hvp_by_reverse_over_reverse(branch_on_data, x, v)


@given(arrays(4), arrays(4))
def test_subscripts_written_in_a_loop(x, v):
    assert_hvp_by_reverse_over_reverse(subscripts_in_a_loop, x, v)


@given(arrays(3), arrays(3))
def test_user_subroutine(x, v):
    # the subroutine's forward sweep pushes a tuple that only its backward sweep reads: the
    # tape of a generated `fwd_g` is an output (hvp, forward over reverse, missed it too)
    assert_hvp_by_reverse_over_reverse(calls_a_subroutine, x, v)


@given(arrays(3, -1.0, 1.0), arrays(3), st.integers(1, 3))
def test_user_subroutine_in_a_loop(x, v, n):
    y = x
    for _ in range(n):  # stay away from the branch's switching point
        y = subroutine(y, x)
        assume(abs(np.sum(y)) > 1e-3)
        y = y * 0.9 if np.sum(y) > 0 else y
    assert_hvp_by_reverse_over_reverse(calls_a_subroutine_in_a_loop, x, v, n)


# -- grad of grad of a scalar function, to depth 3 and 4 ----------------------------------------


def scalar_loop(x):
    y = x
    for _ in range(3):
        y = np.sin(y) * x + y * y * 0.1
    return y


def central(f, x, eps=1e-5):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


@given(reals(-1.5, 1.5))
def test_grad_of_grad_of_a_scalar_function(x):
    d1 = s2s.grad(scalar_loop)
    d2 = s2s.grad(d1)
    assert isinstance(d2(x), float)
    assert d2(x) == pytest.approx(central(d1, x), rel=1e-6, abs=1e-7)
    assert s2s.value_and_grad(d1)(x) == pytest.approx((d1(x), d2(x)), rel=1e-12)


@given(reals(-1.5, 1.5))
def test_depth_three_and_four(x):
    d2 = s2s.grad(s2s.grad(scalar_loop))
    d3 = s2s.grad(d2)
    d4 = s2s.grad(d3)
    assert d3(x) == pytest.approx(central(d2, x), rel=1e-5, abs=1e-6)
    assert d4(x) == pytest.approx(central(d3, x), rel=1e-5, abs=1e-5)


def branchy_loop(x):
    y = x
    for _ in range(3):
        if y > 0.5:
            y = np.sin(y) * x
        else:
            y = y * y + x
    return y * x


@given(reals(-1.5, 1.5))
def test_forward_over_reverse_over_reverse(x):
    """jvp of a grad of grad: the third derivative, equal to grad of grad of grad."""
    d2 = s2s.grad(s2s.grad(branchy_loop))
    value, third = s2s.jvp(d2)(x, 1.0)
    assert value == pytest.approx(d2(x), rel=1e-12)
    assert third == pytest.approx(s2s.grad(d2)(x), rel=1e-9, abs=1e-12)
    fd, coarse = central(d2, x), central(d2, x, eps=1e-4)
    assume(fd == pytest.approx(coarse, rel=1e-3, abs=1e-4))  # no branch flips inside the step
    assert third == pytest.approx(fd, rel=1e-5, abs=1e-6)


# -- a user function that calls a gradient s2s made ---------------------------------------------


def energy(x):
    return np.sum(np.sin(x) * x) + 0.25 * np.sum(x**4)


d_energy = s2s.grad(energy)
d_for_loop = s2s.grad(for_loop)


def directional(x, v):
    return np.sum(d_energy(x) * v)


def directional_loop(x, v, n):
    return np.sum(d_for_loop(x, n) * v)


@given(arrays(4), arrays(4))
def test_user_function_calling_a_gradient_is_a_reverse_over_reverse_hvp(x, v):
    got = s2s.grad(directional)(x, v)
    np.testing.assert_allclose(got, s2s.hvp(energy)(x, v), rtol=1e-10, atol=1e-12)
    fd = numerical_grad(directional, (x, v), wrt=0)
    np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-7)
    # and with respect to v: the gradient itself
    np.testing.assert_allclose(s2s.grad(directional, wrt=1)(x, v), d_energy(x), rtol=1e-12)


@given(arrays(3), arrays(3), st.integers(1, 3))
def test_user_function_calling_a_gradient_with_a_tape(x, v, n):
    got = s2s.grad(directional_loop)(x, v, n)
    np.testing.assert_allclose(got, s2s.hvp(for_loop)(x, n, v), rtol=1e-9, atol=1e-10)
    fd = numerical_grad(directional_loop, (x, v, n), wrt=0)
    np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-7)


@given(arrays(3), arrays(3))
def test_jvp_of_grad_matches_reverse_over_reverse(x, v):
    _, forward_over_reverse = s2s.jvp(s2s.grad(energy))(x, v)
    reverse_over_reverse = s2s.grad(directional)(x, v)
    np.testing.assert_allclose(forward_over_reverse, reverse_over_reverse, rtol=1e-10)


# -- pop() on a user's list: the mirror of append -----------------------------------------------


def stack_machine(x):
    xs = []
    for i in range(3):
        xs.append(x * (i + 1.0))
    a = xs.pop()
    b = xs.pop()
    xs.append(a * b)
    xs.pop()
    xs.append(np.sin(a) * b)
    return np.sum(xs[0] * xs[1])


@given(arrays(2))
def test_user_list_pop(x):
    got = s2s.grad(stack_machine)(x)
    np.testing.assert_allclose(got, numerical_grad(stack_machine, (x,)), rtol=1e-6, atol=1e-7)


@given(arrays(2), arrays(2))
def test_user_list_pop_second_order(x, v):
    assert_hvp_by_reverse_over_reverse(stack_machine, x, v)


def test_pop_adjoint_is_an_append_on_the_adjoint_list():
    text = s2s.source(stack_machine)
    assert "d_xs.append(d_a)" in text and "d_xs.append(d_b)" in text
    assert "xs.append(a)" in text  # the list gets its value back in the backward sweep


# -- the generated code -------------------------------------------------------------------------


def test_grad_of_grad_source_is_readable_and_deterministic():
    df = s2s.grad(for_loop)
    text = s2s.source(df, wrt=0)
    assert text.startswith("def grad_grad_for_loop(x, n):")
    assert text == s2s.source(s2s.grad(for_loop), wrt=0)
    # its own tape is `tape2`; the gradient's `tape` is a list with an adjoint, `d_tape`
    assert "tape2 = []" in text and "d_tape = zeros_like(tape)" in text
    assert "d_tape.append(" in text and "d_tape.pop()" in text
    # adjoint blocks are headed by the lines of the gradient they reverse
    assert "# y = tape.pop()" in text
    # no two variables share an adjoint name (`d_1_` is not the adjoint of both d_1 and d_1_)
    d3 = s2s.source(s2s.grad(s2s.grad(scalar_loop)))
    assert "tape3 = []" in d3


def test_derivative_wrappers_that_cannot_be_differentiated_say_so():
    with pytest.raises(s2s.S2SError, match="derivative made by s2s") as info:
        s2s.grad(s2s.hvp(energy))
    assert "s2s.grad(s2s.grad(f))" in str(info.value)
