"""Issue 4, gradient surgery: `with s2s.insert_grad_of(x) as dx:`.

The block runs in the backward sweep on the gradient of `x` at that point (every later use of
`x` has contributed) and what it leaves in `dx` flows on. Each test states the exact gradient
the surgery must give, written out by hand in NumPy (or, for a scaling block, as a multiple of
the finite-difference gradient), on random inputs.
"""

from __future__ import annotations

import numpy as np
import pytest
from fd import numerical_grad
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import arrays, reals

import s2s

# -- a scaling block: the gradient is a multiple of the true one ---------------------------------


def scaled(x, w):
    h = np.tanh(x * w)
    with s2s.insert_grad_of(h) as dh:
        dh = 2.0 * dh
    return np.sum(h**3)


@given(arrays(4), reals(0.3, 1.5))
def test_scaling_block_doubles_the_gradient(x, w):
    got = s2s.grad(scaled, wrt=(0, 1))(x, w)
    want = numerical_grad(scaled, (x, w), wrt=(0, 1))  # the primal ignores the block
    np.testing.assert_allclose(got[0], 2.0 * want[0], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(got[1], 2.0 * want[1], rtol=1e-6, atol=1e-8)


# -- clipping --------------------------------------------------------------------------------------


def clipped(x, w):
    h = np.tanh(x * w)
    with s2s.insert_grad_of(h) as dh:
        dh = np.clip(dh, -0.1, 0.1)
    return np.sum(h**3)


@given(arrays(5), reals(0.3, 1.5))
def test_clipping_block(x, w):
    h = np.tanh(x * w)
    dh = np.clip(3 * h**2, -0.1, 0.1)
    np.testing.assert_allclose(s2s.grad(clipped)(x, w), dh * (1 - h * h) * w, rtol=1e-12)
    np.testing.assert_allclose(s2s.grad(clipped, wrt=1)(x, w), np.sum(dh * (1 - h * h) * x))


def test_the_generated_code_shows_the_block_where_it_runs():
    text = s2s.source(clipped)
    assert "    # with s2s.insert_grad_of(h) as dh:\n    dh = d_h\n" in text
    assert "dh = np.clip(dh, -0.1, 0.1)" in text
    # the block runs after every use of h was reversed, before h's own line
    assert text.index("np.clip") < text.index("# h = np.tanh(x * w)")


# -- in a loop: per-step gradient-norm clipping, as in an RNN -----------------------------------


def unrolled(x, n):
    h = x
    for _ in range(n):
        h = np.sin(h) * x
        with s2s.insert_grad_of(h) as dh:
            scale = np.maximum(1.0, np.linalg.norm(dh))
            dh = dh / scale
    return np.sum(h * h)


def unrolled_by_hand(x, n):
    hs = [x]
    for _ in range(n):
        hs.append(np.sin(hs[-1]) * x)
    g = 2 * hs[-1]
    gx = np.zeros_like(x)
    for i in reversed(range(n)):
        g = g / max(1.0, np.linalg.norm(g))  # the block, on d h_{i+1}
        gx += g * np.sin(hs[i])
        g = g * x * np.cos(hs[i])
    return gx + g


@given(arrays(3, lo=-1.5, hi=1.5), st.integers(0, 5))
def test_norm_clipping_in_a_loop(x, n):
    np.testing.assert_allclose(s2s.grad(unrolled)(x, n), unrolled_by_hand(x, n), rtol=1e-10)


# -- the block reads a value the function overwrites later ----------------------------------------


def gated(x):
    h = np.sin(x)
    with s2s.insert_grad_of(h) as dh:
        dh = dh * (h > 0)
    y = h * h
    h = np.cos(y)
    return np.sum(h + y)


@given(arrays(6))
def test_block_sees_the_values_of_its_own_point(x):
    h1 = np.sin(x)
    y = h1 * h1
    dy = 1.0 - np.sin(y)
    dh1 = dy * 2 * h1 * (h1 > 0)
    np.testing.assert_allclose(s2s.grad(gated)(x), dh1 * np.cos(x), rtol=1e-12)


# -- logging: the block runs once per backward step, in backward order ---------------------------

LOG: list = []


def logged(x, n):
    h = x
    for _ in range(n):
        h = h * x
        with s2s.insert_grad_of(h) as dh:
            LOG.append(np.linalg.norm(dh))
    return np.sum(h)


@settings(max_examples=20)
@given(arrays(3, lo=0.5, hi=1.5), st.integers(1, 4))
def test_logging_block(x, n):
    want_grad = numerical_grad(logged, (x, n))  # the primal logs zeros: clear after it
    LOG.clear()
    g = s2s.grad(logged)(x, n)
    np.testing.assert_allclose(g, want_grad, rtol=1e-6)
    # d h_k = x ** (n - k) for the k-th product, visited from k = n down to 1
    want = [np.linalg.norm(x ** (n - k)) for k in range(n, 0, -1)]
    np.testing.assert_allclose(LOG, want, rtol=1e-12)


def inactive_hook(x):
    c = np.ones(3)
    with s2s.insert_grad_of(c) as dc:
        LOG.append(dc)
    return np.sum(x * x)


def test_a_variable_without_gradient_runs_no_block():
    LOG.clear()
    np.testing.assert_allclose(s2s.grad(inactive_hook)(np.arange(3.0)), 2 * np.arange(3.0))
    assert LOG == []


# -- in a user subroutine (its own forward/backward pair) ---------------------------------------


def halving_layer(x, w):
    h = np.tanh(x * w)
    with s2s.insert_grad_of(h) as dh:
        dh = 0.5 * dh
    return h


def two_layers(x, w):
    return np.sum(halving_layer(halving_layer(x, w), w) ** 2)


@given(arrays(4), reals(0.3, 1.2))
def test_block_in_a_subroutine(x, w):
    h1 = np.tanh(x * w)
    h2 = np.tanh(h1 * w)
    db = 0.5 * 2 * h2 * (1 - h2**2)
    dw = np.sum(db * h1)
    da = 0.5 * db * w * (1 - h1**2)
    dw += np.sum(da * x)
    np.testing.assert_allclose(s2s.grad(two_layers, wrt=1)(x, w), dw, rtol=1e-10)
    np.testing.assert_allclose(s2s.grad(two_layers)(x, w), da * w, rtol=1e-10)


# -- the primal, forward mode and second order ------------------------------------------------


def test_the_primal_runs_the_block_on_a_zero_gradient():
    x = np.array([0.3, -0.7, 1.1])
    assert clipped(x, 0.8) == pytest.approx(np.sum(np.tanh(x * 0.8) ** 3))
    LOG.clear()
    logged(x, 2)
    assert LOG == [0.0, 0.0]


def plain(x, w):
    h = np.tanh(x * w)
    return np.sum(h**3)


@given(arrays(4), reals(0.3, 1.5), arrays(4))
def test_forward_mode_ignores_the_block(x, w, u):
    value, tangent = s2s.jvp(clipped)(x, w, u)
    assert value == pytest.approx(plain(x, w))
    np.testing.assert_allclose(tangent, np.dot(s2s.grad(plain)(x, w), u), rtol=1e-10)


@given(arrays(4), reals(0.3, 1.5), arrays(4))
def test_hvp_differentiates_the_surgery_gradient(x, w, v):
    got = s2s.hvp(scaled)(x, w, v)
    g = s2s.grad(scaled)
    eps = 1e-6
    want = (g(x + eps * v, w) - g(x - eps * v, w)) / (2 * eps)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


# -- what is refused ---------------------------------------------------------------------------


def returns_in_block(x):
    h = x * x
    with s2s.insert_grad_of(h) as dh:
        return dh
    return np.sum(h)


def no_as(x):
    h = x * x
    with s2s.insert_grad_of(h):
        pass
    return np.sum(h)


def expression_arg(x):
    h = x * x
    with s2s.insert_grad_of(h * 2) as dh:
        dh = dh * 2
    return np.sum(h)


def block_writes_primal(x):
    h = x * x
    with s2s.insert_grad_of(h) as dh:
        h = dh
    return np.sum(h)


def grad_name_used_outside(x):
    dh = x * 2
    with s2s.insert_grad_of(dh) as dh:
        dh = dh * 2
    return np.sum(dh)


def other_with(x):
    with open("log.txt") as fh:
        fh.write("x")
    return np.sum(x)


@pytest.mark.parametrize(
    "fn, words",
    [
        (returns_in_block, "`return` cannot be used inside an s2s.insert_grad_of block"),
        (no_as, "needs `as NAME`"),
        (expression_arg, "takes one variable of the function"),
        (block_writes_primal, "binds 'h', a name the function also uses"),
        (grad_name_used_outside, "binds 'dh', a name the function also uses"),
        (other_with, "`with` blocks cannot be differentiated"),
    ],
)
def test_refused_blocks(fn, words):
    with pytest.raises(s2s.UnsupportedSyntaxError) as err:
        s2s.grad(fn)(np.ones(2))
    text = str(err.value)
    assert words in text and "test_surgery.py" in text
    assert err.value.lineno is not None


# -- the CLI writes the block into the gradient module ------------------------------------------

CLI_MODEL = """
import numpy as np
import s2s

LIMIT = 0.25


def loss(x, w):
    h = np.tanh(x * w)
    with s2s.insert_grad_of(h) as dh:
        dh = np.clip(dh, -LIMIT, LIMIT)
    return np.sum(h**3)
"""


def test_cli_module_runs_the_block(tmp_path, monkeypatch):
    import importlib.util

    from s2s.cli.main import main

    (tmp_path / "model.py").write_text(CLI_MODEL)
    monkeypatch.chdir(tmp_path)
    assert main(["model.py:loss", "-o", "grad_model.py"]) == 0
    spec = importlib.util.spec_from_file_location("grad_model", tmp_path / "grad_model.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    x = np.array([0.4, -1.2, 0.9])
    h = np.tanh(x * 0.7)
    want = np.clip(3 * h**2, -0.25, 0.25) * (1 - h * h) * 0.7
    np.testing.assert_allclose(mod.grad_loss(x, 0.7), want, rtol=1e-12)


def doubled_scalar(x):
    h = np.sin(x)
    with s2s.insert_grad_of(h) as dh:
        dh = 2.0 * dh
    return h * h


@given(reals(-2.0, 2.0))
def test_grad_of_a_surgery_gradient(x):
    # the gradient is 2 * d(sin(x)^2)/dx = 2 sin(2x); its derivative is 4 cos(2x)
    assert s2s.grad(doubled_scalar)(x) == pytest.approx(2 * np.sin(2 * x), rel=1e-12, abs=1e-14)
    assert s2s.grad(s2s.grad(doubled_scalar))(x) == pytest.approx(
        4 * np.cos(2 * x), rel=1e-10, abs=1e-12
    )
