"""Dtype facts (`s2s/dtypes.py`): a gradient call is specialized to its NumPy arguments'
dtypes too, and what they prove drops `grad_like` and makes products in place. Both may only
ever change where the result is provably the same: every test compares the gradient with
central differences and with the generic code, checks the gradient's exact type, dtype, shape
and key order, and checks that no argument was written into."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from fd import assert_grad_matches, leaves, numerical_grad
from hypothesis import given, settings
from hypothesis import strategies as st

import s2s
from s2s.dtypes import argument_facts, dtype_of


def _generic(f, wrt=0):
    from s2s.transform import generate

    return generate(f, wrt, "grad")[0].entry[0]


def _assert_like(g, x):
    """`g` has `x`'s structure, key order, type, dtype and shape."""
    if isinstance(x, dict):
        assert list(g) == list(x)
        for k in x:
            _assert_like(g[k], x[k])
        return
    assert type(g) is type(x)
    if isinstance(x, np.ndarray):
        assert g.dtype == x.dtype and g.shape == x.shape


def _check(f, args, wrt=0, rtol=1e-6, atol=1e-8):
    """The specialized gradient against central differences (float64 arguments) or the
    float64 gradient (others), against the generic code, with the argument's very form; no
    argument written into."""
    before = copy.deepcopy(args)
    g = s2s.grad(f, wrt=wrt)(*args)
    for a, b in zip(args, before, strict=True):
        if isinstance(a, dict):
            for k in a:
                np.testing.assert_array_equal(a[k], b[k], strict=True)
        else:
            np.testing.assert_array_equal(a, b, strict=True)
    _assert_like(g, args[wrt])
    generic = _generic(f, wrt)(*copy.deepcopy(args))
    wide = _to64(args)
    want = numerical_grad(f, wide, wrt)
    for path, got in leaves(g):
        ref, gen = _at(want, path), _at(generic, path)
        exact = got.dtype == np.float64 and all(_all64(a) for a in args)
        tol = dict(rtol=rtol, atol=atol) if exact else dict(rtol=2e-3, atol=2e-3)
        np.testing.assert_allclose(got, ref, **tol)
        np.testing.assert_allclose(got, gen, rtol=1e-6 if not exact else 1e-13, atol=1e-12)
    return g


def _to64(args):
    def f(a):
        if isinstance(a, dict):
            return {k: f(v) for k, v in a.items()}
        return a.astype(np.float64) if isinstance(a, np.ndarray) else a

    return tuple(f(a) for a in args)


def _all64(a):
    if isinstance(a, dict):
        return all(_all64(v) for v in a.values())
    return not isinstance(a, np.ndarray) or a.dtype == np.float64


def _at(tree, path):
    for k in path:
        tree = tree[k]
    return tree


# --- the facts of arguments --------------------------------------------------------------------


def test_dtype_facts_of_arguments():
    assert dtype_of(np.zeros(3, np.float32)) == np.float32
    assert dtype_of(2.0) is float and dtype_of(3) is int
    assert dtype_of({"w": np.zeros(2), "n": 1}) == ("dict", (("w", np.float64), ("n", int)))
    assert dtype_of(np.float64(1.0)) is None  # a NumPy scalar: not followed
    assert dtype_of([np.zeros(2)]) is None
    facts = argument_facts(
        {"x": (False,), "p": ("dict", (("w", (False, True)),)), "i": (False,)},
        {
            "x": np.dtype(np.float32),
            "p": ("dict", (("w", np.dtype(np.float64)),)),
            "i": np.dtype(np.int64),
        },
    )
    assert facts == {
        "x": ("array", np.float32, (False,)),
        "p": ("dict", {"w": ("array", np.float64, (False, True))}),
    }  # an integer array has no fact: a Python number promotes it by value in NumPy 1


# --- the MLP: in place and no grad_like, with every mix of dtypes -------------------------------


def mlp(params, x, y):
    h = np.tanh(x @ params["W1"] + params["b1"])
    out = h @ params["W2"] + params["b2"]
    return np.mean((out - y) ** 2)


DTYPES = st.sampled_from([np.float64, np.float32])


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 4), st.integers(1, 5), st.integers(1, 3), DTYPES, DTYPES, st.integers(0, 2**31)
)
def test_mlp_with_every_mix_of_dtypes(batch, width, outs, pdtype, xdtype, seed):
    rng = np.random.default_rng(seed)
    params = {
        "W1": (rng.standard_normal((3, width)) / 2).astype(pdtype),
        "b1": rng.standard_normal(width).astype(pdtype),
        "W2": (rng.standard_normal((width, outs)) / 2).astype(pdtype),
        "b2": rng.standard_normal(outs).astype(pdtype),
    }
    x = rng.standard_normal((batch, 3)).astype(xdtype)
    y = rng.standard_normal((batch, outs))
    g = _check(mlp, (params, x, y))
    before = copy.deepcopy((params, x))
    value, g2 = s2s.value_and_grad(mlp)(params, x, y)
    assert value == pytest.approx(mlp(*before, y), rel=1e-6)
    _assert_like(g2, params)
    for k in g:
        np.testing.assert_array_equal(g2[k], g[k])
        np.testing.assert_array_equal(params[k], before[0][k])
    np.testing.assert_array_equal(x, before[1])
    code = s2s.grad(mlp).s2s_source_for(params, x, y)
    ones = batch == 1 or width == 1 or outs == 1
    if pdtype == xdtype == np.float64 and not ones:
        assert "grad_like" not in code and "d_2 *= " in code, code
        code = s2s.value_and_grad(mlp).s2s_source_for(params, x, y)
        assert "grad_like" not in code and "d_2 *= seed(" in code, code
    if pdtype == np.float32:
        # float64 data makes float64 adjoints: grad_like casts them back
        assert "grad_like(d_params, params)" in code, code


def test_mlp_dict_comes_in_the_parameters_order():
    rng = np.random.default_rng(0)
    params = {"b2": rng.standard_normal(2), "W2": rng.standard_normal((4, 2))}
    params = {"W1": rng.standard_normal((3, 4)), "b1": rng.standard_normal(4), **params}
    params = dict(reversed(list(params.items())))  # b1, W1, W2, b2 order
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    g = _check(mlp, (params, x, y))
    assert list(g) == list(params)


# --- logistic regression: a fresh difference scaled in place ------------------------------------


def logreg(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 30), st.integers(2, 6), DTYPES, st.integers(0, 2**31))
def test_logreg(n, d, dtype, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    w = rng.standard_normal(d).astype(dtype)
    y = (rng.random(n) < 0.5).astype(dtype)
    _check(logreg, (w, X, y))
    code = s2s.grad(logreg).s2s_source_for(w, X, y)
    # p - y made in p's array (nothing reads p again), as the hand-written gradient does
    assert "d_1 = p\n    d_1 -= y\n    d_1 *= 1.0 / reduction_count(y, None)\n" in code, code
    assert code.rstrip().endswith("return d_w"), code


# --- what must not be made in place --------------------------------------------------------


def viewed(x):
    a = x * 2.0
    b = a.T  # a view of a: scaling a in place would change b
    c = a * 3.0
    return np.sum(b * c.T)


def aliased(x, w):
    a = np.tanh(x * w)
    b = a  # the same array
    c = a * 3.0
    return np.sum(b * c)


def kept(x, w):
    a = x * w
    saved = [a]  # a container holds it
    c = a * 3.0
    return np.sum(saved[0] * c)


def read_after(x, w):
    a = np.sin(x) * w
    c = a * 3.0
    return np.sum(a * c)


def in_a_loop(x, w):
    a = np.sin(x) * w
    for _ in range(2):
        a = a * w
    c = a * 3.0
    return np.sum(c * c)


def pushed(x, w):
    a = x * w
    b = np.sin(a)  # the backward sweep reads a: cos(a)
    c = a * 3.0
    return np.sum(b * c)


def broadcast_up(x, w):
    a = x * 2.0
    c = a * w  # w (3, 4) widens a (4,): the product has w's shape, not a's
    return np.sum(c * c)


def wider_dtype(x, w):
    a = x * 2.0
    c = a * w  # float32 times float64: a float64 product, not a's dtype
    return np.sum(c * c)


@pytest.mark.parametrize(
    "f", [viewed, aliased, kept, read_after, in_a_loop, pushed], ids=lambda f: f.__name__
)
def test_shared_arrays_are_not_written_into(f):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((4, 4)), rng.standard_normal(4)
    args = (x, w)[: f.__code__.co_argcount]
    assert_grad_matches(f, *args)
    _check(f, args)
    code = s2s.grad(f).s2s_source_for(*args)
    assert "c = a\n" not in code and "c *= " not in code, code


def test_broadcast_and_promotion_are_not_made_in_place():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal(4), rng.standard_normal((3, 4))
    _check(broadcast_up, (x, w))
    assert "c = a\n" not in s2s.grad(broadcast_up).s2s_source_for(x, w)
    x32, w64 = x.astype(np.float32), rng.standard_normal(4)
    _check(wider_dtype, (x32, w64))
    code = s2s.grad(wider_dtype).s2s_source_for(x32, w64)
    assert "c = a\n" not in code and "grad_like" in code, code


def logistic_tail(x):
    return np.sum(x * x / (1.0 + np.exp(x)) + 1.0 / (1.0 + np.exp(x)))


def shifted(x, y):
    p = np.exp(x) * 2.0
    return np.sum((p - y) ** 2)


def test_an_operand_made_in_place_in_turn():
    """`d = (p - y) * c`: `p - y` is made in p's array when nothing reads p again (`d = p;
    d -= y; d *= c`), and not when the outer operand reads it (`(s - 1.0) * s`, the adjoint
    of `1 / (1 + exp(x))`: `d = s; d -= 1.0; d *= s` would scale by the changed s)."""
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal(5), rng.standard_normal(5)
    assert_grad_matches(logistic_tail, x)
    _check(logistic_tail, (x,))
    code = s2s.grad(logistic_tail).s2s_source_for(x)
    lines = [ln.strip() for ln in code.splitlines()]
    for k, ln in enumerate(lines):
        if " = " in ln and lines[k + 1].startswith(ln.split(" = ")[0] + " -= 1.0"):
            shared = ln.split(" = ")[1]
            assert not lines[k + 2].endswith(f"*= {shared}"), code
    assert_grad_matches(shifted, x, y)
    _check(shifted, (x, y))
    code = s2s.grad(shifted).s2s_source_for(x, y)
    assert "_2 = p\n    _2 -= y\n" in code, code  # p - y in p's array


def negated_difference(x, y):
    d = -2.0 * (x - y)  # the user's line: its sign stays (made in place, the same numbers)
    return np.sum(d * np.sin(x))


def test_a_negated_difference_is_folded_in_generated_code_only():
    """`-k * (a - b)` is `k * (b - a)`, exactly, in the adjoints (logistic regression's
    `d_1 = p; d_1 -= y; d_1 *= 1.0 / ...` above); the user's own line stays as written."""
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal(4), rng.standard_normal(4)
    assert_grad_matches(negated_difference, x, y)
    _check(negated_difference, (x, y))
    code = s2s.grad(negated_difference).s2s_source_for(x, y)
    assert "y - x" not in code and "d = x - y\n    d *= -2.0\n" in code, code


# --- arguments the facts do not cover -------------------------------------------------------


def square_sum(x):
    return np.sum(x * x * 3.0)


@pytest.mark.parametrize(
    "x",
    [
        np.array(2.0),  # 0-d: a NumPy scalar would come back; grad_like makes the 0-d array
        np.arange(4, dtype=np.int64),  # an integer argument: a float gradient
        np.ones((1, 3)),  # an axis of length 1
        np.asfortranarray(np.ones((2, 3))),
    ],
    ids=["0-d", "int", "length-1", "fortran"],
)
def test_arguments_of_every_form(x):
    g = s2s.grad(square_sum)(x)
    want = 6.0 * x.astype(np.float64)
    assert type(g) is np.ndarray and g.shape == x.shape
    assert g.dtype == (np.float64 if x.dtype.kind != "f" else x.dtype)
    np.testing.assert_allclose(g, want)


def test_dtypes_in_the_dispatch_key():
    """float64, then float32, then float64 again: each call gets its own code."""
    g = s2s.grad(square_sum)
    x = np.linspace(-1.0, 1.0, 5)
    for dtype in (np.float64, np.float32, np.float64, np.float16):
        out = g(x.astype(dtype))
        assert out.dtype == dtype
        np.testing.assert_allclose(out, 6.0 * x, rtol=1e-2)
    with pytest.raises(s2s.S2SError):
        g(x.astype(np.complex128))  # the argument check still sees complex arrays
