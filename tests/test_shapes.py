"""Shape specialization (`s2s/shapes.py`): a gradient call runs code specialized to the shape
patterns of its arrays (rank, and which axes have length 1). The facts may only ever drop work
that is provably nothing: every test here compares the specialized gradient with central
differences, and with the generic code (`s2s.source`) run on the same arguments."""

from __future__ import annotations

import numpy as np
import pytest
from fd import numerical_grad
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import arrays

import s2s
from s2s.shapes import broadcast, leading_axes, pattern_of


def _generic(f, wrt):
    """The generic generated gradient (no shape facts), to compare with."""
    from s2s.transform import generate

    gen, _, _ = generate(f, wrt, "grad")
    return gen.entry[0]


def _check(f, args, wrt=0, atol=1e-6):
    g = s2s.grad(f, wrt=wrt)(*args)
    np.testing.assert_allclose(g, numerical_grad(f, args, wrt), atol=atol, rtol=1e-6)
    np.testing.assert_allclose(g, _generic(f, wrt)(*args), rtol=1e-12, atol=1e-14)
    return g


# --- patterns ---------------------------------------------------------------------------------


def test_patterns_of_arguments():
    assert pattern_of(np.zeros((3, 1, 4))) == (False, True, False)
    assert pattern_of(np.float64(2.0)) == ()
    assert pattern_of(2.0) == ()
    assert pattern_of({"W": np.zeros((2, 3)), "b": np.zeros(3)}) == (
        "dict",
        (("W", (False, False)), ("b", (False,))),
    )
    assert pattern_of([np.zeros(3)]) is None
    assert pattern_of({"W": {"nested": np.zeros(2)}}) is None
    assert pattern_of({1: np.zeros(2)}) is None


def test_broadcast_and_leading_axes():
    assert broadcast((False, True), (True, False)) == (False, False)
    assert broadcast((False,), (False, False)) == (False, False)
    assert broadcast((), (True,)) == (True,)
    assert broadcast(None, (False,)) is None
    assert leading_axes((False,), (False, False)) == (0,)
    assert leading_axes((False,), (False, True, False)) == (0, 1)
    assert leading_axes((True,), (False, False)) == ()  # a length-1 axis broadcast: keepdims
    assert leading_axes((), (False,)) == ()  # a 0-d operand: left to unbroadcast


# --- the code it makes --------------------------------------------------------------------------


def rnn(params, xs, y):
    h = np.zeros((xs.shape[1], params["Wh"].shape[0]))
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ params["Wx"] + h @ params["Wh"] + params["b"])
    return np.mean((h - y) ** 2)


def _rnn_args(T, batch, rng):
    params = {
        "Wx": rng.standard_normal((3, 4)) / 2,
        "Wh": rng.standard_normal((4, 4)) / 2,
        "b": rng.standard_normal(4),
    }
    return params, rng.standard_normal((T, batch, 3)), rng.standard_normal((batch, 4))


def test_rnn_specialized_code_is_the_hand_written_one():
    rng = np.random.default_rng(0)
    args = _rnn_args(5, 2, rng)
    df = s2s.grad(rnn, wrt="params")
    code = df.s2s_source_for(*args)
    for helper in ("unbroadcast", "shape_of", "matmul_grad_a", "matmul_grad_b"):
        assert helper not in code, code
    assert ".sum(axis=0)" in code
    assert "unbroadcast" in df.s2s_source  # the generic code keeps its helpers
    # lengths change, the pattern does not: the same generated code
    other = _rnn_args(7, 3, rng)
    assert df.s2s_source_for(*other) == code
    # a bias row (1, 4) is another pattern: summing into it keeps the axis, by the helper
    params, xs, y = _rnn_args(5, 2, rng)
    params["b"] = params["b"][None, :]
    assert "unbroadcast(" in df.s2s_source_for(params, xs, y)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 4), st.integers(1, 3), st.integers(0, 2**31))
def test_rnn_gradient_every_length_and_batch(T, batch, seed):
    args = _rnn_args(T, batch, np.random.default_rng(seed))
    g = s2s.grad(rnn, wrt="params")(*args)
    ref = numerical_grad(rnn, args, "params")
    generic = _generic(rnn, "params")(*args)
    for k in ref:
        np.testing.assert_allclose(g[k], ref[k], atol=1e-7, rtol=1e-6)
        np.testing.assert_allclose(g[k], generic[k], rtol=1e-12, atol=1e-14)


def test_state_made_like_an_input_with_a_shape_is_specialized_too():
    """`np.zeros_like(x, shape=s)` (how device code makes arrays) has the pattern of `s` and
    real values: the RNN's code is the one `np.zeros(s)` gets, and the LSTM's gate adjoint is
    assigned part by part into `empty_like` instead of added to zeros."""
    from test_backends import lstm_loss as lstm_like
    from test_backends import rnn_loss as rnn_like

    args = _rnn_args(5, 2, np.random.default_rng(0))
    like = s2s.grad(rnn_like).s2s_source_for(*args).split("\n")[2:]  # after the docstring
    plain = s2s.grad(rnn).s2s_source_for(*args).split("\n")[2:]
    made = "np.zeros_like(xs[0], shape=(xs.shape[1], params['Wh'].shape[0]))"
    same = "np.zeros((xs.shape[1], params['Wh'].shape[0]))"
    assert [line.replace(made, same) for line in like] == plain
    rng = np.random.default_rng(1)
    H = 3
    params = {
        "W": rng.standard_normal((4, 4 * H)) / 2,
        "U": rng.standard_normal((H, 4 * H)) / 2,
        "b": rng.standard_normal(4 * H),
    }
    args = (params, rng.standard_normal((5, 2, 4)), rng.standard_normal((2, H)))
    code = s2s.grad(lstm_like).s2s_source_for(*args)
    assert "d_z = empty_like(z)" in code and "d_z[:, 3 * H:] = " in code, code
    for helper in ("add_at(d_z", "matmul_grad", "zeros_like(z)"):
        assert helper not in code, code
    g = s2s.grad(lstm_like)(*args)
    ref = numerical_grad(lstm_like, args, 0)
    generic = _generic(lstm_like, 0)(*args)
    for k in ref:
        np.testing.assert_allclose(g[k], ref[k], atol=1e-7, rtol=1e-6)
        np.testing.assert_allclose(g[k], generic[k], rtol=1e-12, atol=1e-14)


# --- broadcasting, every pattern ------------------------------------------------------------


def two_operands(x, y):
    z = np.sin(x) * y + x / (2.0 + y * y) - y
    w = np.tanh(z) ** 2 + np.exp(-x)
    return np.sum(w * z)


@st.composite
def broadcastable(draw):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3))
    x = draw(arrays(shapes.input_shapes[0], lo=-1.0, hi=1.0))
    y = draw(arrays(shapes.input_shapes[1], lo=-1.0, hi=1.0))
    return x, y


@settings(max_examples=60, deadline=None)
@given(broadcastable(), st.sampled_from([0, 1]))
def test_broadcasting_operands_of_every_pattern(xy, wrt):
    _check(two_operands, xy, wrt)


def matmuls(a, b, c):
    return np.sum(np.tanh(a @ b + c) @ b.T)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(0, 2), st.integers(0, 2**31))
def test_matrix_products_and_a_broadcast_row(n, m, crank, seed):
    rng = np.random.default_rng(seed)
    c_shape = [(), (m,), (1, m), (n, m)][crank + (crank == 2 and rng.random() < 0.5)]
    args = (rng.standard_normal((n, m)), rng.standard_normal((m, m)), rng.standard_normal(c_shape))
    for wrt in (0, 1, 2):
        _check(matmuls, args, wrt)


def vectors(a, M):
    v = M @ a
    u = a @ M
    return np.sum(v * u) + np.dot(a, a) + np.sum(M.T @ v)


@given(st.integers(1, 3), st.integers(0, 2**31))
@settings(max_examples=20, deadline=None)
def test_matrix_vector_products(n, seed):
    rng = np.random.default_rng(seed)
    args = (rng.standard_normal(n), rng.standard_normal((n, n)))
    _check(vectors, args, 0)
    _check(vectors, args, 1)


# --- what the facts must not follow ---------------------------------------------------------


def changes_shape_in_a_loop(x, b):
    h = x
    for _ in range(2):
        h = np.sum(h * b, axis=0)
        h = h + b
    return np.sum(h)


def test_a_name_whose_shape_changes_keeps_the_helpers():
    rng = np.random.default_rng(1)
    args = (rng.standard_normal((3, 3)), rng.standard_normal(3))
    _check(changes_shape_in_a_loop, args, 0)
    _check(changes_shape_in_a_loop, args, 1)


def rebinds_a_dict_entry(p, x):
    p["b"] = np.sum(p["b"]) * np.ones((1, 1))
    return np.sum(np.tanh(x @ p["W"] + p["b"]))


def test_a_dict_written_in_the_function_has_no_facts():
    rng = np.random.default_rng(2)
    p = {"W": rng.standard_normal((3, 3)), "b": rng.standard_normal(3)}
    x = rng.standard_normal((2, 3))
    df = s2s.grad(rebinds_a_dict_entry, wrt=1)
    g = df(dict(p), x)
    np.testing.assert_allclose(g, numerical_grad(lambda x: rebinds_a_dict_entry(dict(p), x), (x,)))
    assert "unbroadcast" in df.s2s_source_for(dict(p), x)


def index_and_transpose(xs, w):
    total = 0.0
    for t in range(xs.shape[0]):
        row = xs[t]
        total = total + np.sum((row.T * w) ** 2)
    return total + np.sum(np.zeros_like(w) + w)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.booleans(), st.integers(0, 2**31))
def test_rows_of_an_array_and_transposes(n, m, w_row, seed):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((1, n) if w_row else (m, n))
    args = (rng.standard_normal((2, n, m)), w)
    _check(index_and_transpose, args, 0)
    _check(index_and_transpose, args, 1)


def zero_length(x, y):
    return np.sum(x * y) + np.sum(y)


def test_empty_axes():
    args = (np.zeros((0, 3)), np.ones(3))
    g = s2s.grad(zero_length, wrt=1)(*args)
    np.testing.assert_array_equal(g, np.ones(3))
    g = s2s.grad(zero_length, wrt=0)(*args)
    assert g.shape == (0, 3)


def test_value_and_grad_and_vjp_run_specialized_code_too():
    rng = np.random.default_rng(3)
    args = _rnn_args(3, 2, rng)
    value, g = s2s.value_and_grad(rnn, wrt="params")(*args)
    assert value == pytest.approx(rnn(*args))
    v2, pullback = s2s.vjp(rnn, wrt="params")(*args)
    g2 = pullback(1.0)
    for k in g:
        np.testing.assert_allclose(g[k], g2[k], rtol=1e-12)
    assert "unbroadcast" not in s2s.value_and_grad(rnn, wrt="params").s2s_source_for(*args)


def scaled_loss(x, W):
    v = W @ x
    u = x @ W
    return -2.0 * np.sum(v * u + np.outer(x, v) @ x) / 3


@given(st.integers(1, 3), st.integers(0, 2**31))
@settings(max_examples=15, deadline=None)
def test_a_scaled_reduction_is_not_computed_and_vector_products_are_inlined(n, seed):
    rng = np.random.default_rng(seed)
    args = (rng.standard_normal(n), rng.standard_normal((n, n)))
    _check(scaled_loss, args, 0)
    _check(scaled_loss, args, 1)
    code = s2s.grad(scaled_loss, wrt=(0, 1)).s2s_source_for(*args)
    assert "seed_of(" in code and "np.sum(" not in code.split("# return")[0]
    assert "matmul_grad" not in code
    # the value is returned by value_and_grad: computed there
    value, _ = s2s.value_and_grad(scaled_loss, wrt=(0, 1))(*args)
    assert value == pytest.approx(scaled_loss(*args), rel=1e-12)


def bias_layer(p, x):
    return np.sum(np.tanh(x @ p["W"] + p["b"]) ** 2)


def test_calls_with_other_patterns_get_their_own_code():
    """The dispatcher keys calls by exact shapes, types and dict keys: each call below runs code
    for its own pattern, also when the patterns alternate (cached)."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3))
    calls = [
        {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)},
        {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal((1, 2))},
        {"W": rng.standard_normal((3, 1)), "b": rng.standard_normal(1)},
        {"b": rng.standard_normal(2), "W": rng.standard_normal((3, 2))},
        {"W": rng.standard_normal((3, 2)), "b": 0.5},
        {"W": rng.standard_normal((3, 2)), "b": np.float64(0.5)},  # not a fast key
    ]
    df = s2s.grad(bias_layer, wrt=0)
    for _ in range(2):
        for p in calls:
            g = df(p, x)
            ref = numerical_grad(lambda q: bias_layer(q, x), (p,))
            assert set(g) == set(p)
            for k in p:
                np.testing.assert_allclose(g[k], ref[k], rtol=1e-6, atol=1e-8)
    with pytest.raises(s2s.S2SError, match="object"):
        df({"W": np.array([[1.0, 2.0]], dtype=object).T, "b": 0.5}, x[:, :2])


# --- seed 10218 of the shape fuzzer (minimized): an adjoint that is the shapeless 0.0 a branch
# leaves (`d_t` when the branch that reads `t` was not taken) times a smaller array (`b`, a row)
# has the row's shape, not the operand's: `unbroadcast` is kept there.


def zero_adjoint_times_a_row(A, v, W, p):
    t1 = v + A
    t3 = W * 1.0
    for _ in range(2):
        t3 = np.sin(t3) * 0.5 + p["b"] * A
    t5 = v * 1.0
    for _ in range(3):
        t5 = np.sin(t5) * 0.9
    t6 = p["U"] * 1.0
    for _ in range(1):
        t6 = np.sin(t6) * 0.9
    if np.sum(A) > 0.0:
        t7 = (t3 + t3) * (t3 + t3)
    else:
        t7 = t1
    return np.sum(np.tanh(t6) * t6) + np.sum(np.tanh(t7) * t7)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_seed10218_zero_adjoint_of_a_branch_times_a_row(sign):
    rng = np.random.default_rng(7)
    A = sign * np.abs(rng.standard_normal((2, 2)))
    p = {"b": rng.standard_normal(2), "U": rng.standard_normal((2, 1))}
    args = (A, rng.standard_normal(1), rng.standard_normal((2, 2)), p)
    for wrt in (0, 1, 2):
        _check(zero_adjoint_times_a_row, args, wrt)


def outer_product_adjoint(a, B, s):
    y = a @ B
    if s > 0:
        out = np.sum(y * y)
    else:
        out = s * 2.0
    return out


@pytest.mark.parametrize("s", [0.5, -0.5])
def test_outer_product_adjoint_of_a_vector_times_a_matrix(s):
    """`a @ B`'s adjoint for B is an outer product: written so that the shapeless 0.0 adjoint a
    branch leaves is never multiplied into an array of the wrong shape (a column)."""
    rng = np.random.default_rng(8)
    args = (rng.standard_normal(2), rng.standard_normal((2, 3)), s)
    _check(outer_product_adjoint, args, 0)
    _check(outer_product_adjoint, args, 1)
    code = s2s.grad(outer_product_adjoint, wrt=1).s2s_source_for(*args)
    assert "a[:, None] * d_y[None, :]" in code and "is_zero(d_y)" in code


def test_a_dict_entry_that_is_a_list_is_not_mistaken_for_a_number():
    """A dict entry holding a list has no pattern (the dict gets no facts); the dispatcher must
    not reuse code made for the same dict holding a number there."""
    rng = np.random.default_rng(9)
    x = rng.standard_normal((4, 2))
    W = rng.standard_normal((2, 2))
    df = s2s.grad(bias_layer, wrt=0)
    df({"W": W, "b": 0.5}, x)
    p = {"W": W, "b": [0.25, -0.5]}
    g = df(p, x)
    assert df.s2s_source_for(p, x) != df.s2s_source_for({"W": W, "b": 0.5}, x)
    ref = numerical_grad(lambda W: bias_layer({"W": W, "b": np.array(p["b"])}, x), (W,))
    np.testing.assert_allclose(g["W"], ref, rtol=1e-6, atol=1e-8)


# --- reductions: uniform adjoints and shape twins (`s2s/uniform.py`) -------------------------


def _check_dict(f, args, wrt=0):
    g = s2s.grad(f, wrt=wrt)(*args)
    generic = _generic(f, wrt)(*args)
    numeric = numerical_grad(f, args, wrt)
    assert set(g) == set(args[wrt]) == set(generic)
    for k in g:
        assert type(g[k]) is type(args[wrt][k])
        np.testing.assert_allclose(g[k], numeric[k], atol=1e-6, rtol=1e-6)
        np.testing.assert_allclose(g[k], generic[k], rtol=1e-12, atol=1e-14)
    return g


def mlp(params, x, y):
    h = np.tanh(x @ params["W1"] + params["b1"])
    out = h @ params["W2"] + params["b2"]
    return np.mean((out - y) ** 2)


def _mlp_args(batch, width, rng):
    params = {
        "W1": rng.standard_normal((3, width)) / 2,
        "b1": rng.standard_normal(width),
        "W2": rng.standard_normal((width, 2)) / 2,
        "b2": rng.standard_normal(2),
    }
    return params, rng.standard_normal((batch, 3)), rng.standard_normal((batch, 2))


@settings(max_examples=15, deadline=None)
@given(st.integers(2, 4), st.integers(2, 5), st.integers(0, 2**31))
def test_mlp_specialized_code_is_the_hand_written_one(batch, width, seed):
    args = _mlp_args(batch, width, np.random.default_rng(seed))
    _check_dict(mlp, args)
    value, g = s2s.value_and_grad(mlp)(*args)
    assert value == pytest.approx(mlp(*args), rel=1e-12)
    code = s2s.grad(mlp).s2s_source_for(*args)
    lines = "\n".join(ln for ln in code.splitlines() if not ln.strip().startswith("#"))
    # the mean's adjoint is a number times the residual: no filled array, no square computed
    assert "unreduce" not in code and "** 2" not in lines, code
    # scaled in place, as the hand-written gradient's `d_out *= 2 / n` (dtypes.py)
    assert "d_2 = _2\n    d_2 *= 1.0 / reduction_count(out, None) * 2\n" in code, code
    assert "d_3 = d_h\n    d_3 *= 1.0 - h * h\n" in code, code
    # every entry proven of its parameter's dtype and shape: no grad_like, params' key order
    assert code.rstrip().endswith(
        "return {'W1': d_params['W1'], 'b1': d_params['b1'], 'W2': d_params['W2'], "
        "'b2': d_params['b2']}"
    ), code
    # the parameter dict's adjoint is built as a dict, entry by entry
    assert "d_params = {'b2': " in code and "d_params['W1'] = x.T @ " in code, code
    for helper in ("zeros_like", "add_at", "unbroadcast", "matmul_grad"):
        assert helper not in code, code


def two_sums(a, b):
    t = a * b
    return np.sum(t) + np.mean(t * a, keepdims=True)[0, 0]


def row_times(a, r):
    return np.sum(a * r)  # r is a row: a * r's adjoint for `a` is not a's shape without a's


def of_a_parameter(a):
    return np.sum(a) + np.sum(a * a)


def sum_of_ufunc(a):
    t = np.sin(a) * 3.0
    return np.mean(np.exp(-t) / 2.0)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**31))
def test_uniform_adjoints_where_proven_and_the_filled_array_elsewhere(n, m, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((n, m)), rng.standard_normal((n, m))
    r = rng.standard_normal(m)
    for f, args in (
        (two_sums, (a, b)),
        (row_times, (a, r)),
        (of_a_parameter, (a,)),
        (sum_of_ufunc, (a,)),
    ):
        for wrt in range(len(args)):
            _check(f, args, wrt)
    # products of operands of the result's shape: a number (or a (1, 1) array, keepdims)
    # suffices for both sums, and `t` accumulates the two
    code = s2s.grad(two_sums, wrt=(0, 1)).s2s_source_for(a, b)
    assert "unreduce(" not in code, code
    # a row operand: its adjoint would be a row, so the sum's adjoint stays an array
    if m > 1 and n > 1:
        assert "unreduce(" in s2s.grad(row_times, wrt=(0, 1)).s2s_source_for(a, r)
    # a parameter may be assigned in place by the caller's code: its adjoint stays an array
    assert "unreduce(" in s2s.grad(of_a_parameter).s2s_source_for(a)
    code = s2s.grad(sum_of_ufunc).s2s_source_for(a)
    assert "unreduce(" not in code, code


PHASES = np.exp(np.array([0.5, 1.0]) * 1j)  # a complex global


def complex_square(x):
    z = x * PHASES
    return np.sum(z**2)


def real_square(x):
    z = x * 2.0
    return np.sum(z**2)


def test_the_seed_of_a_real_or_maybe_complex_reduction():
    from s2s.errors import NonScalarOutputError

    x = np.array([1.0, -2.0])
    with pytest.raises(NonScalarOutputError, match="complex"):
        s2s.grad(complex_square)(x)
    _check(real_square, (x,))
    # a real argument times a real number: real, so the seed is the number 1.0, z need not be
    # made for it (only for its adjoint)
    code = s2s.grad(real_square).s2s_source_for(x)
    assert "seed" not in code.split('"""')[2] and "z ** 2" not in code, code


def dict_reads_in_a_loop(p, x):
    s = np.sum(p["w"] * x)
    for i in range(3):
        s = s + np.sum(p["w"] * p["b"]) * i
    return s + np.sum(p["b"] ** 2)


def dict_reads_in_a_branch(p, x, c):
    s = np.sum(p["a"] * x)
    if c > 0:
        s = s + np.sum(p["b"] * p["a"])
    return s + np.sum(p["b"] ** 2) + np.sum(p["a"] * p["a"]) + p["k"] * 2.0


@pytest.mark.parametrize("c", [-1.0, 1.0])
def test_a_dict_adjoint_built_entry_by_entry_around_loops_and_branches(c):
    rng = np.random.default_rng(3)
    p = {"w": rng.standard_normal(3), "b": rng.standard_normal(3), "unused": np.ones(2)}
    x = rng.standard_normal(3)
    g = _check_dict(dict_reads_in_a_loop, (p, x))
    assert np.all(g["unused"] == 0)
    code = s2s.grad(dict_reads_in_a_loop).s2s_source_for(p, x)
    assert "d_p = {'b': " in code and "add_at(d_p, 'w'" in code, code
    p = {"a": rng.standard_normal(3), "b": rng.standard_normal(3), "k": 0.5}
    g = _check_dict(dict_reads_in_a_branch, (p, x, c))
    assert g["k"] == pytest.approx(2.0)
