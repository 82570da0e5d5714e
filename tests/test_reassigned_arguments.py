"""A differentiated argument the function assigns to: the gradient has the shape, dtype and
structure of the argument as passed, not of what the name holds when the function returns.

`grad_like(d_x, x)` shapes each gradient like its argument. Where the backward sweep never
restores `x` (nothing it reads needs the old value: `x = np.tanh(x)[None, :] * ones`), the
name holds the new value at the return, so the generated code keeps the argument under a name
of its own (`_1 = x`). Before that, such gradients came out broadcast to the new shape, or in the
new value's dtype: silently wrong.

Each case is checked against central differences (with the argument's exact structure, shapes,
leaf types and dtypes: `fd.assert_grad_matches`), in `value_and_grad` and `vjp` too, and forward
mode against reverse mode (the dot-product test).
"""

from __future__ import annotations

import numpy as np
from fd import assert_grad_matches, assert_vjp_matches
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import arrays

import s2s


def broadcast_up(x):
    x = np.tanh(x)[None, :] * np.ones((2, 1))
    return np.sum(x * x)


def summed_then_grown(x):
    x = np.sin(x)
    x = np.sum(x) * np.ones(4)
    return np.sum(x * np.arange(4.0))


def in_a_loop(x, n):
    for _ in range(n):
        x = np.tanh(x)[None] * np.ones((2,) + (1,) * np.ndim(x))
    return np.sum(x)


def in_a_branch(x, flag):
    if flag:
        x = np.tanh(x)[None, :] * np.array([[1.0], [2.0]])
    return np.sum(x * x)


def cast_up(x):
    x = np.tanh(x).astype(np.float64)
    return np.sum(x * x)


def two_arguments(x, w):
    x = np.tanh(x)[None, :] * w[:, None]
    return np.sum(x * x)


def dict_entries(p):
    p = {"a": np.tanh(p["a"])[None, :] * np.ones((3, 1)), "b": p["b"]}
    return np.sum(p["a"] * p["b"])


def number_to_array(s):
    s = np.tanh(s) * np.ones(3)
    return np.sum(s * np.arange(1.0, 4.0))


def unpacked(x):
    x, y = np.tanh(x)[None, :] * np.ones((2, 1)), x
    return np.sum(x) + np.sum(y * y)


def restored_by_the_tape(x):
    x = np.exp(np.sum(x))  # the backward sweep pops x back: no copy of the argument is kept
    return x


vectors = arrays((3,))


def _dot_product(f, args, wrt=0):
    """Forward against reverse: <J u, 1> = <u, grad>, for a random direction u."""
    g = s2s.grad(f, wrt=wrt)(*args)
    u = np.random.default_rng(5).standard_normal(np.shape(args[wrt]))
    if not np.shape(args[wrt]):
        u = float(u)
    _, t = s2s.jvp(f, wrt=wrt)(*args, u)
    np.testing.assert_allclose(t, np.sum(u * np.asarray(g)), rtol=1e-9, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(vectors)
def test_an_argument_broadcast_to_a_larger_shape(x):
    g = assert_grad_matches(broadcast_up, x)
    assert g.shape == (3,)
    assert s2s.value_and_grad(broadcast_up)(x)[1].shape == (3,)
    assert_vjp_matches(broadcast_up, x, cotangent=1.0)
    _dot_product(broadcast_up, (x,))


@settings(max_examples=15, deadline=None)
@given(vectors)
def test_an_argument_reduced_then_grown(x):
    assert_grad_matches(summed_then_grown, x)
    _dot_product(summed_then_grown, (x,))


@settings(max_examples=10, deadline=None)
@given(vectors, st.integers(1, 3))
def test_an_argument_reassigned_in_a_loop(x, n):
    g = assert_grad_matches(in_a_loop, x, n)
    assert g.shape == (3,)
    _dot_product(in_a_loop, (x, n))


@settings(max_examples=10, deadline=None)
@given(vectors, st.booleans())
def test_an_argument_reassigned_in_one_branch(x, flag):
    assert_grad_matches(in_a_branch, x, flag)
    _dot_product(in_a_branch, (x, flag))


@settings(max_examples=10, deadline=None)
@given(vectors)
def test_the_gradient_keeps_the_arguments_dtype(x):
    x32 = x.astype(np.float32)
    g = s2s.grad(cast_up)(x32)
    assert g.dtype == np.float32
    want = 2 * np.tanh(x) * (1 - np.tanh(x) ** 2)
    np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-6)
    assert_grad_matches(cast_up, x)
    _dot_product(cast_up, (x,))


@settings(max_examples=10, deadline=None)
@given(vectors, arrays((2,)))
def test_two_arguments_one_reassigned(x, w):
    gx, gw = assert_grad_matches(two_arguments, x, w, wrt=(0, 1))
    assert gx.shape == (3,) and gw.shape == (2,)
    _dot_product(two_arguments, (x, w), wrt=0)
    _dot_product(two_arguments, (x, w), wrt=1)


@settings(max_examples=10, deadline=None)
@given(vectors, st.floats(0.5, 2.0))
def test_a_dict_argument_rebound(a, b):
    g = assert_grad_matches(dict_entries, {"a": a, "b": b})
    assert g["a"].shape == (3,) and type(g["b"]) is float


@settings(max_examples=10, deadline=None)
@given(st.floats(-1.5, 1.5))
def test_a_number_argument_rebound_to_an_array(s):
    g = assert_grad_matches(number_to_array, s)
    assert type(g) is float
    _dot_product(number_to_array, (s,))


@settings(max_examples=10, deadline=None)
@given(vectors)
def test_an_argument_reassigned_by_unpacking(x):
    assert_grad_matches(unpacked, x)
    _dot_product(unpacked, (x,))


def test_the_argument_is_kept_only_where_the_sweep_does_not_restore_it():
    kept = s2s.source(broadcast_up)
    assert "    _1 = x\n" in kept.split('"""')[2].split("\n", 2)[1] + "\n"
    assert kept.rstrip().endswith("return grad_like(d_x, _1)")
    restored = s2s.source(restored_by_the_tape)
    assert "= x\n" not in restored
    assert restored.rstrip().endswith("return grad_like(d_x, x)")
    assert_grad_matches(restored_by_the_tape, np.array([0.1, -0.2, 0.3]))


def written_into(x, w):
    w[1] = x[0] * 3.0
    return np.sum(w * x)


@settings(max_examples=10, deadline=None)
@given(vectors, vectors)
def test_an_argument_written_into_keeps_its_name(x, w):
    # the copy the function writes into (`w = copy_value(w)`) has the argument's shape and
    # dtype: the gradient is shaped like it, no other name is kept
    assert_grad_matches(written_into, x, w, wrt=1)
    _dot_product(written_into, (x, w), wrt=1)
    code = s2s.source(written_into, wrt=1)
    assert "= w\n" not in code and code.rstrip().endswith("return grad_like(d_w, w)")


def checkpointed(x):
    with s2s.checkpoint():
        x = np.tanh(x)[None, :] * np.ones((2, 1))
        y = np.sin(x)
    return np.sum(y * x)


def looped(x, n):
    for _ in range(n):
        x = np.sin(x) * 1.1
    return np.sum(x * x)


@settings(max_examples=10, deadline=None)
@given(vectors)
def test_an_argument_assigned_again_where_a_checkpoint_recomputes(x):
    # the block is pushed x and popped back, then run again in the backward sweep: x ends
    # holding the block's value
    g = assert_grad_matches(checkpointed, x)
    assert g.shape == (3,)
    _dot_product(checkpointed, (x,))


@settings(max_examples=5, deadline=None)
@given(vectors, st.integers(1, 9))
def test_an_argument_assigned_in_checkpointed_loop_segments(x, n):
    g = s2s.grad(looped, checkpoint_loops="sqrt")(x, n)
    np.testing.assert_allclose(g, s2s.grad(looped)(x, n), rtol=1e-12)
    assert_grad_matches(looped, x, n)
