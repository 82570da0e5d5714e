"""Issue 6, checkpointing: `with s2s.checkpoint():`, `s2s.checkpointed(steps)` and
`checkpoint_loops="sqrt"`.

A checkpointed gradient must equal the plain one to rounding (the same operations run, some of
them twice) and central finite differences; forward mode ignores the markers; the tape of a
sqrt-checkpointed T-step loop holds O(sqrt(T)) values.
"""

from __future__ import annotations

import numpy as np
import pytest
from fd import numerical_grad
from fuzz_programs import Builder, RandomChooser, draw_args, load
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import arrays, matrices

import s2s
from benchmarks.checkpointing import peak_bytes

# -- a checkpointed block ------------------------------------------------------------------------


def rnn_block(x, W, n):
    h = x
    for _ in range(n):
        with s2s.checkpoint():
            z = h @ W
            h = np.tanh(z)
    return np.sum(h**2)


def rnn_plain(x, W, n):
    h = x
    for _ in range(n):
        z = h @ W
        h = np.tanh(z)
    return np.sum(h**2)


@settings(max_examples=30)
@given(matrices(2, 3, lo=-1, hi=1), matrices(3, 3, lo=-0.8, hi=0.8), st.integers(0, 6))
def test_block_in_a_loop(x, W, n):
    got = s2s.grad(rnn_block, wrt=(0, 1))(x, W, n)
    want = s2s.grad(rnn_plain, wrt=(0, 1))(x, W, n)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    fd = numerical_grad(rnn_block, (x, W, n), wrt=1)
    np.testing.assert_allclose(got[1], fd, rtol=1e-5, atol=1e-8)


def overwrites_what_earlier_adjoints_read(x):
    a = np.sin(x)
    b = a * x
    with s2s.checkpoint():
        a = np.cos(b)  # b's adjoint reads the old a
        c = a * a
        if np.sum(c) > 1.0:
            c = c * b
        else:
            c = c - b
    return np.sum(c + b * a)


def mutates_in_place(x, n):
    y = np.zeros(len(x)) + x
    acc = []
    for i in range(n):
        with s2s.checkpoint():
            y[i % len(x)] = y[i % len(x)] * np.sin(y[(i + 1) % len(x)])
            acc.append(y * x)
    return np.sum(np.stack(acc)) if acc else np.sum(y)


def helper(v, w):
    return np.tanh(v * w) + v


def calls_a_subroutine(x, w, n):
    h = x
    for _ in range(n):
        with s2s.checkpoint():
            h = helper(h, w)
            with s2s.checkpoint():  # nested
                h = h * np.cos(h)
    return np.sum(h)


@given(arrays(3, lo=-1, hi=1))
def test_block_overwriting_what_earlier_adjoints_read(x):
    got = s2s.grad(overwrites_what_earlier_adjoints_read)(x)
    np.testing.assert_allclose(
        got, numerical_grad(overwrites_what_earlier_adjoints_read, (x,)), rtol=1e-5, atol=1e-8
    )


@given(arrays(3, lo=-1, hi=1), st.integers(0, 5))
def test_block_writing_into_an_array_it_did_not_make(x, n):
    got = s2s.grad(mutates_in_place)(x, n)
    np.testing.assert_allclose(got, numerical_grad(mutates_in_place, (x, n)), rtol=1e-5, atol=1e-8)


@given(arrays(3, lo=-1, hi=1), st.floats(0.3, 1.2), st.integers(0, 4))
def test_nested_blocks_and_subroutines(x, w, n):
    got = s2s.grad(calls_a_subroutine, wrt=(0, 1))(x, w, n)
    fd = numerical_grad(calls_a_subroutine, (x, w, n), wrt=(0, 1))
    np.testing.assert_allclose(got[0], fd[0], rtol=1e-5, atol=1e-8)
    assert got[1] == pytest.approx(fd[1], rel=1e-5, abs=1e-8)


def test_block_code_reads_as_a_recomputation():
    text = s2s.source(rnn_block, wrt=1)
    # the forward sweep saves the block's start and pushes nothing inside it
    assert "        tape.append(h)\n        z = h @ W\n        h = np.tanh(z)\n" in text
    # the backward sweep restores it, runs the block again (pushing), then its adjoint
    assert "# with s2s.checkpoint():\n        h = tape.pop()\n" in text


def rnn_one_line(x, W, n):
    h = x
    for _ in s2s.checkpointed(range(n)):
        h = np.tanh(h @ W + x)  # one line: three core statements, pushes between them
    return np.sum(h**2)


def test_a_recomputed_line_is_headed_once():
    """The recomputation pushes between the statements of one user line; the pushes (no line
    of their own) do not end the line's run, so its comment heads it once."""
    text = s2s.source(rnn_one_line, wrt=1)
    line = "# h = np.tanh(h @ W + x)  # one line: three core statements, pushes between them"
    segment = text.split("in reversed(checkpoint_segments(")[1]  # a segment's backward sweep
    rerun = segment.split("for _ in reversed(")[0]  # its steps run again, pushing
    assert rerun.count("tape.append(") == 2, text
    assert rerun.count(line) == 1, text


# -- loops in segments -----------------------------------------------------------------------------


def rnn_marked(x, W, n):
    h = x
    for _ in s2s.checkpointed(range(n)):
        z = h @ W
        h = np.tanh(z)
    return np.sum(h**2)


def many_loops(xs, w):
    total = 0.0
    for i, row in enumerate(xs):  # an enumerate loop
        total = total + np.sum(np.sin(row * w)) * (i + 1)
    h = w
    for r in reversed(range(1, len(xs), 2)):  # a reversed range with a step
        h = np.cos(h * xs[r, 0]) + h
    k = 0
    while k < 3:  # while loops are not cut (their trip count is unknown up front)
        h = h * 0.9 + np.sum(xs[k % len(xs)]) * 0.01
        k = k + 1
    for a, b in zip(xs[:, 0], xs[:, 1]):  # noqa: B905  (an early exit: left whole)
        if a * b > 1.5:
            break
        total = total + a * b * w
    return total + np.sum(h)


@settings(max_examples=30)
@given(matrices(2, 3, lo=-1, hi=1), matrices(3, 3, lo=-0.8, hi=0.8), st.integers(0, 12))
def test_sqrt_segments_equal_the_plain_gradient(x, W, n):
    want = s2s.grad(rnn_plain, wrt=(0, 1))(x, W, n)
    for got in (
        s2s.grad(rnn_marked, wrt=(0, 1))(x, W, n),
        s2s.grad(rnn_plain, wrt=(0, 1), checkpoint_loops="sqrt")(x, W, n),
    ):
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@settings(max_examples=30)
@given(matrices(st.integers(1, 7), 2, lo=-1, hi=1), st.floats(0.2, 1.3))
def test_sqrt_segments_over_every_loop_form(xs, w):
    f = s2s.grad(many_loops, wrt=(0, 1), checkpoint_loops="sqrt")
    got = f(xs, w)
    want = s2s.grad(many_loops, wrt=(0, 1))(xs, w)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12, atol=1e-14)
    assert got[1] == pytest.approx(want[1], rel=1e-12, abs=1e-14)
    assert "checkpoint_segments" in s2s.source(many_loops, wrt=(0, 1), checkpoint_loops="sqrt")


def test_value_and_grad_and_vjp_take_the_option():
    rng = np.random.default_rng(0)
    x, W = rng.normal(size=(2, 3)), rng.normal(size=(3, 3)) * 0.5
    value, g = s2s.value_and_grad(rnn_plain, wrt=1, checkpoint_loops="sqrt")(x, W, 9)
    assert value == pytest.approx(rnn_plain(x, W, 9), rel=1e-14)
    np.testing.assert_allclose(g, s2s.grad(rnn_plain, wrt=1)(x, W, 9), rtol=1e-12)
    value, pullback = s2s.vjp(rnn_plain, wrt=1, checkpoint_loops="sqrt")(x, W, 9)
    np.testing.assert_allclose(pullback(2.0), 2 * g, rtol=1e-12)


def test_tape_memory_grows_like_sqrt_of_the_steps():
    rng = np.random.default_rng(1)
    x, W = rng.normal(size=(8, 64)), rng.normal(size=(64, 64)) * 0.1
    plain = s2s.grad(rnn_plain, wrt=1)
    ckpt = s2s.grad(rnn_plain, wrt=1, checkpoint_loops="sqrt")
    plain(x, W, 4), ckpt(x, W, 4)  # generate first
    step = x.nbytes
    for T in (100, 400):
        p, c = peak_bytes(plain, (x, W, T)), peak_bytes(ckpt, (x, W, T))
        assert p > T * step  # the plain tape holds every step
        assert c < 4 * (np.sqrt(T) + 1) * step + 6 * W.nbytes, (T, p, c)


# -- forward mode, second order, the CLI ------------------------------------------------------


@given(matrices(2, 3, lo=-1, hi=1), matrices(3, 3, lo=-0.8, hi=0.8), st.integers(0, 5))
def test_forward_mode_ignores_the_markers(x, W, n):
    u = np.ones_like(W)
    for f in (rnn_block, rnn_marked):
        value, tangent = s2s.jvp(f, wrt=1)(x, W, n, u)
        v0, t0 = s2s.jvp(rnn_plain, wrt=1)(x, W, n, u)
        assert value == pytest.approx(v0, rel=1e-14)
        assert tangent == pytest.approx(t0, rel=1e-12, abs=1e-14)


@settings(max_examples=15)
@given(matrices(2, 3, lo=-1, hi=1), matrices(3, 3, lo=-0.8, hi=0.8), st.integers(0, 5))
def test_hvp_through_a_recomputation(x, W, n):
    v = np.linspace(-1, 1, 9).reshape(3, 3)
    np.testing.assert_allclose(
        s2s.hvp(rnn_marked, wrt=1)(x, W, n, v),
        s2s.hvp(rnn_plain, wrt=1)(x, W, n, v),
        rtol=1e-10,
        atol=1e-12,
    )


@pytest.mark.parametrize("seed", range(40))
def test_random_programs_under_sqrt_checkpointing(seed):
    """Every fuzz program's gradient is the same with each loop cut into segments."""
    ch = RandomChooser(seed)
    source, wrt = Builder(ch).program()
    f = load(source).f
    args = draw_args(ch)
    with np.errstate(all="ignore"):
        try:
            want = s2s.grad(f, wrt=wrt)(*args)
        except Exception:  # a program the plain transformation already refuses or fails on
            pytest.skip("the plain gradient fails")
        got = s2s.grad(f, wrt=wrt, checkpoint_loops="sqrt")(*args)
    flat = lambda g: np.concatenate(  # noqa: E731
        [np.ravel(v) for v in (g.values() if isinstance(g, dict) else [g])]
    )
    want = want if isinstance(wrt, tuple) else (want,)
    got = got if isinstance(wrt, tuple) else (got,)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(flat(a), flat(b), rtol=1e-10, atol=1e-12, err_msg=source)


# -- what is refused ---------------------------------------------------------------------------


def breaks_in_marked_loop(x, n):
    for _ in s2s.checkpointed(range(n)):
        x = x * 2.0
        if np.sum(x) > 10:
            break
    return np.sum(x)


def checkpoint_with_arguments(x):
    with s2s.checkpoint(3):
        x = x * 2.0
    return np.sum(x)


def test_refusals():
    with pytest.raises(s2s.UnsupportedSyntaxError, match="cannot be checkpointed in segments"):
        s2s.grad(breaks_in_marked_loop)(np.ones(2), 3)
    with pytest.raises(s2s.UnsupportedSyntaxError, match="takes no arguments"):
        s2s.grad(checkpoint_with_arguments)(np.ones(2))
    with pytest.raises(s2s.S2SError, match="not a checkpointing scheme"):
        s2s.grad(rnn_plain, checkpoint_loops="log")


def test_primal_runs_unchanged():
    rng = np.random.default_rng(2)
    x, W = rng.normal(size=(2, 3)), rng.normal(size=(3, 3))
    assert rnn_block(x, W, 3) == rnn_plain(x, W, 3) == rnn_marked(x, W, 3)


def test_the_trade_off_benchmark_runs():
    from benchmarks.checkpointing import rows, table

    results = rows((6,), repeats=1)  # checks both gradients against the hand-written ones
    assert {r["model"] for r in results} == {"rnn", "lstm"}
    assert "s2s sqrt peak" in table(results)


CLI_MODEL = """
import numpy as np


def loss(x, W, n):
    h = x
    for _ in range(n):
        h = np.tanh(h @ W)
    return np.sum(h**2)
"""


def test_cli_writes_a_checkpointed_module(tmp_path, monkeypatch):
    import importlib.util

    from s2s.cli.main import main

    (tmp_path / "model.py").write_text(CLI_MODEL)
    monkeypatch.chdir(tmp_path)
    args = ["model.py:loss", "--wrt", "W", "--checkpoint-loops", "sqrt", "-o", "grad_model.py"]
    assert main(args) == 0
    text = (tmp_path / "grad_model.py").read_text()
    assert "for _1 in checkpoint_segments(range(n)):" in text
    assert "--checkpoint-loops sqrt" in text  # the regenerate command in the header
    assert main([*args, "--check"]) == 0
    spec = importlib.util.spec_from_file_location("grad_model_ckpt", tmp_path / "grad_model.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rng = np.random.default_rng(3)
    x, W = rng.normal(size=(2, 3)), rng.normal(size=(3, 3)) * 0.5
    np.testing.assert_allclose(
        mod.grad_loss(x, W, 7), s2s.grad(rnn_plain, wrt=1)(x, W, 7), rtol=1e-12
    )


def scalar_marked(x, n):
    y = x
    for _ in s2s.checkpointed(range(n)):
        y = np.sin(y) * x
    return y


def scalar_plain(x, n):
    y = x
    for _ in range(n):
        y = np.sin(y) * x
    return y


@settings(max_examples=20)
@given(st.floats(-1.5, 1.5), st.integers(0, 7))
def test_grad_of_a_checkpointed_gradient(x, n):
    want = s2s.grad(s2s.grad(scalar_plain))(x, n)
    assert s2s.grad(s2s.grad(scalar_marked))(x, n) == pytest.approx(want, rel=1e-12, abs=1e-14)
    sqrt = s2s.grad(s2s.grad(scalar_plain, checkpoint_loops="sqrt"))(x, n)
    assert sqrt == pytest.approx(want, rel=1e-12, abs=1e-14)
    eps = 1e-6
    g = s2s.grad(scalar_plain)
    assert want == pytest.approx((g(x + eps, n) - g(x - eps, n)) / (2 * eps), rel=1e-5, abs=1e-7)


# -- a block in a forward/backward pair (s2s.vjp, and the user's functions it calls) ----------


def reads_a_name_set_once(x, w):
    scale = np.sum(w)  # assigned once: the recomputation reads it live, not from the tape
    with s2s.checkpoint():
        z = np.sin(x) * scale
    return np.sum(z * z)


def returns_from_a_loop_in_a_block(x, w):
    with s2s.checkpoint():
        a = np.sin(x) * w
        for i in range(2):
            return np.hypot(np.sum(a), 1.0 + 0.5 * x[i])  # pushes names it assigns next
    return np.dot(x, a)


def calls(x, w):
    return reads_a_name_set_once(x * 0.5, w) + returns_from_a_loop_in_a_block(x, w)


@settings(max_examples=10, deadline=None)
@given(arrays((3,)), arrays((3,)))
def test_blocks_in_a_forward_backward_pair(x, w):
    """The backward function of a pair runs the block again on its own: the names the block
    reads live come with the pair's end state, and the names it pushes before assigning them
    start as None there (they were a NameError and an UnboundLocalError)."""
    for f in (reads_a_name_set_once, returns_from_a_loop_in_a_block, calls):
        for wrt in (0, 1):
            want = numerical_grad(f, (x, w), wrt)
            np.testing.assert_allclose(s2s.grad(f, wrt=wrt)(x, w), want, rtol=1e-6, atol=1e-8)
            value, pullback = s2s.vjp(f, wrt=wrt)(x, w)
            assert value == f(x, w)
            np.testing.assert_allclose(pullback(1.0), want, rtol=1e-6, atol=1e-8)
            np.testing.assert_allclose(pullback(2.0), 2.0 * want, rtol=1e-6, atol=1e-8)


def invariant_number_in_segments(u, w):
    for _ in range(3):
        p = np.tanh(w * u * np.maximum(w - w, 2.0))  # `w - w`: computed once, before the loop
    return np.sum(p)


def calls_segmented(x, s):
    return invariant_number_in_segments(x[0], s) * x[1]


@settings(max_examples=5, deadline=None)
@given(arrays((2,)), st.floats(0.3, 1.5))
def test_a_number_computed_before_a_segmented_loop_in_a_called_function(x, s):
    """Under checkpoint_loops="sqrt", the backward function of the pair runs each segment
    again; the loop-invariant number the forward sweep computed once before the loop comes
    with the pair's end state (it was a NameError)."""
    want = numerical_grad(calls_segmented, (x, s), 0)
    got = s2s.grad(calls_segmented, checkpoint_loops="sqrt")(x, s)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(got, s2s.grad(calls_segmented)(x, s), rtol=1e-12)


def keeps_nothing(u, w):
    with s2s.checkpoint():
        u = np.sum(w)  # noqa: F841  (a block whose value nothing reads)
    return np.cumsum(w) * 0.5


def block_around_a_call(x):
    with s2s.checkpoint():
        a = keeps_nothing(np.dot(x, x), x * 2.0) + 0.0
    return np.sum(a * x)


_d_block_around_a_call = s2s.grad(block_around_a_call)


def gradient_along(x, v):
    return np.sum(_d_block_around_a_call(x) * v)


@settings(max_examples=5, deadline=None)
@given(arrays((3,)), arrays((3,)))
def test_grad_of_a_gradient_with_a_checkpointed_call(x, v):
    """The gradient runs the call once plainly (`fwd_g([], ...)`, a tape it throws away) and
    once again for its adjoint; differentiated again, the plain run's tape has a zero adjoint
    (the backward function of `fwd_g` was called without one: a TypeError)."""
    want = numerical_grad(gradient_along, (x, v), 0)
    np.testing.assert_allclose(s2s.grad(gradient_along)(x, v), want, rtol=1e-5, atol=1e-7)


# -- a block saved as a tuple, again in the backward function of a pair ------------------------


def block_in_a_loop_in_a_block(p, s, n):
    a = 1.5 * p["w"][::-1]
    with s2s.checkpoint():
        for _ in range(2):
            with s2s.checkpoint():  # saves (`p["w"]`'s temporary, s): the former not yet assigned
                for _ in range(n):
                    s = s - np.tanh(np.sum(p["w"][::-1]))
    a[1] = np.tanh(np.exp(np.tanh(s)))
    return np.sum(np.cumsum(a) * 0.5)


def segmented_loop_in_a_block(p, s, n):
    a = 1.5 * p["w"][::-1]
    with s2s.checkpoint():
        for _ in range(n):  # checkpoint_loops="sqrt": segments, each a block, inside this one
            s = s - np.tanh(np.sum(p["w"][::-1]))
    a[1] = np.tanh(np.exp(np.tanh(s)))
    return np.sum(np.cumsum(a) * 0.5)


def calls_a_block_in_a_loop_in_a_block(p, s, n):
    return block_in_a_loop_in_a_block(p, s * 0.5, n) * s


@settings(max_examples=10, deadline=None)
@given(arrays((3,)), st.floats(-1.5, 1.5), st.integers(1, 5))
@pytest.mark.parametrize(
    ("f", "mode"),
    [
        (block_in_a_loop_in_a_block, None),
        (segmented_loop_in_a_block, "sqrt"),
        (calls_a_block_in_a_loop_in_a_block, None),
    ],
    ids=["nested blocks", "segments in a block", "in a called function"],
)
def test_a_block_run_again_in_a_backward_function_saves_a_tuple(f, mode, w, s, n):
    """Fuzz seed 1255 (s2s.vjp with checkpoint_loops="sqrt"). The backward function of a pair
    runs an outer block again, and with it the inner block's save, `tape.append((_9, s))`, made
    before the loop first assigns `_9 = p['w']`: the names a backward function pushes before
    assigning them start as None there, but a name inside a pushed tuple was not counted (an
    UnboundLocalError in the pullback, and in `grad` of a caller)."""
    p = {"w": w}
    for wrt in (0, 1):
        want = numerical_grad(f, (p, s, n), wrt)
        got = s2s.grad(f, wrt=wrt, checkpoint_loops=mode)(p, s, n)
        value, pullback = s2s.vjp(f, wrt=wrt, checkpoint_loops=mode)(p, s, n)
        assert value == f(p, s, n)
        back = pullback(-1.5)
        if wrt == 0:
            got, back, want = got["w"], back["w"], want["w"]
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(back, -1.5 * want, rtol=1e-6, atol=1e-8)


# -- checkpointed segments specialized to the call's shapes ----------------------------------------


def rnn_params(params, xs, y):
    h = np.zeros((xs.shape[1], params["Wh"].shape[0]))
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ params["Wx"] + h @ params["Wh"] + params["b"])
    return np.mean((h - y) ** 2)


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 4),
    st.integers(2, 4),
    st.integers(2, 4),
    st.integers(0, 11),
    st.integers(0, 2**31 - 1),
)
def test_segments_are_specialized_to_the_shapes(batch, inp, hidden, steps, seed):
    """The loop variable of a segment of a range is an int, so the segment's code gets the
    shape facts the plain loop gets: no `unbroadcast` or `matmul_grad_*`, the weights'
    adjoints summed in local accumulators and added to the dict once per segment. The
    gradient equals the plain one to rounding and central differences."""
    rng = np.random.default_rng(seed)
    params = {
        "Wx": rng.normal(size=(inp, hidden)) * 0.5,
        "Wh": rng.normal(size=(hidden, hidden)) * 0.5,
        "b": rng.normal(size=hidden),
    }
    xs, y = rng.normal(size=(steps, batch, inp)), rng.normal(size=(batch, hidden))
    df = s2s.grad(rnn_params, checkpoint_loops="sqrt")
    got = df(params, xs, y)
    want = s2s.grad(rnn_params)(params, xs, y)
    for k in params:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-12, atol=1e-14)
    fd = numerical_grad(rnn_params, (params, xs, y), wrt=0)
    for k in params:
        np.testing.assert_allclose(got[k], fd[k], rtol=1e-5, atol=1e-8)
    # the dot-product test against forward mode, in a random direction
    u = {k: rng.normal(size=v.shape) for k, v in params.items()}
    _, tangent = s2s.jvp(rnn_params)(params, xs, y, u)
    assert tangent == pytest.approx(
        sum(np.sum(got[k] * u[k]) for k in params), rel=1e-10, abs=1e-12
    )
    if batch > 1 and hidden > 1 and inp > 1:  # (an axis of 1 keeps what broadcasts it)
        src = df.s2s_source_for(params, xs, y)
        assert "checkpoint_segments" in src
        for generic in ("unbroadcast(", "matmul_grad_a(", "matmul_grad_b("):
            assert generic not in src, src
        # the first run of a segment computes the step on one line, as the plain loop does
        assert "h = np.tanh(xs[t] @ params['Wx'] + h @ params['Wh'] + params['b'])" in src
        assert src.count("add_at(d_params, 'Wh', ") == 1
        assert " += h.T @ " in src, src


def test_temporaries_of_the_first_run_are_its_own():
    """The block's first run gets fresh temporaries (`Reverse.first_run`); the rerun keeps
    the ones its adjoint reads, so the optimizer inlines the first run's into one line."""
    src = s2s.source(rnn_one_line, wrt=(0, 1))
    forward = src.split("tape.pop()")[0]
    assert "        for _ in _2:\n            h = np.tanh(h @ W + x)\n" in forward, src


def _accumulated(code: str) -> str:
    """`code` (a function) after `optimize._accumulate_in_place`."""
    import gast

    from s2s import emit, optimize

    fn = gast.parse(code).body[0]
    optimize._accumulate_in_place(fn)
    return emit.to_source(fn)


_ZEROED_EACH_SEGMENT = """\
def f(d, g, n, m):
    for s in range(n):
        d_w = 0.0
        for k in range(m):
            d_w = d_w + g * k
        add_at(d, 'w', d_w)
    return d
"""
_ZEROED_ONCE = """\
def f(d, g, n, m):
    d_w = 0.0
    for s in range(n):
        for k in range(m):
            d_w = d_w + g * k
        add_at(d, 'w', d_w)
    return d
"""
_ALSO_ACCUMULATED_OUTSIDE = """\
def f(d, g, n, m):
    d_w = 0.0
    for s in range(n):
        d_w = 0.0
        for k in range(m):
            d_w = d_w + g * k
        add_at(d, 'w', d_w)
    d_w = d_w + g
    return d, d_w
"""


@pytest.mark.parametrize(
    ("code", "in_place"),
    [(_ZEROED_EACH_SEGMENT, True), (_ZEROED_ONCE, False), (_ALSO_ACCUMULATED_OUTSIDE, False)],
)
def test_accumulation_in_place_where_each_pass_starts_from_a_new_zero(code, in_place):
    """`d_w += ...` may be written where `add_at` keeps a reference to `d_w` inside the loop
    only if each pass of that loop starts `d_w` from a new zero: the code before and after
    gives the same dict."""
    from backends.runtime import add_at

    out = _accumulated(code)
    assert ("d_w += g * k" in out) is in_place, out
    g = np.arange(3.0)
    results = []
    for text in (code, out):
        scope: dict = {"add_at": add_at}
        exec(text, scope)
        results.append(scope["f"]({}, g, 3, 4))
    before, after = results
    if isinstance(before, tuple):
        before, after = before[0], after[0]
    np.testing.assert_array_equal(before["w"], after["w"])


def test_a_name_whose_shape_alone_is_needed_is_saved_as_a_stand_in():
    """At a segment's start the LSTM's `z` is needed only for its shape (the zero adjoint
    where the reversed steps join): a `shape_of` stand-in is saved, not the array. `c` and
    `h`, which the segment reads, are saved whole. The gradient equals the plain one."""
    from benchmarks import models

    args = models.make_lstm(7)
    df = s2s.grad(models.lstm_loss, checkpoint_loops="sqrt")
    assert "tape.append((c, h, shape_of(z)))" in df.s2s_source_for(*args)
    got, want = df(*args), s2s.grad(models.lstm_loss)(*args)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-12, atol=1e-14)
    assert "shape_of(z)" in s2s.source(models.lstm_loss, checkpoint_loops="sqrt")
