"""Benchmark models: plain NumPy primals, hand-written gradients and input factories.

Each primal is written the way a user writes it. Each ``<name>_grad`` is the gradient a careful
engineer writes by hand for speed: the forward sweep is the primal's own computation (saving
what the backward sweep reads), the backward sweep is written out op by op with in-place
accumulation. It returns what ``s2s.grad(primal, wrt=...)`` returns: the gradient with the
structure of the chosen argument, or a tuple of them for a tuple ``wrt``.

``make_<name>(size, seed)`` returns the argument tuple; ``size`` is the model's main dimension
(see ``MODELS``). Everything is float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

# --------------------------------------------------------------------------------------------
# 2-layer MLP: x (batch, width) -> tanh(x W1 + b1) (batch, width) -> W2 (width, 10), MSE.

MLP_BATCH = 64
MLP_OUT = 10


def mlp_loss(params, x, y):
    h = np.tanh(x @ params["W1"] + params["b1"])
    out = h @ params["W2"] + params["b2"]
    return np.mean((out - y) ** 2)


def mlp_loss_grad(params: dict, x: np.ndarray, y: np.ndarray) -> dict:
    """Hand-written gradient of ``mlp_loss`` w.r.t. ``params``."""
    W2 = params["W2"]
    h = np.tanh(x @ params["W1"] + params["b1"])
    out = h @ W2 + params["b2"]
    d_out = out - y
    d_out *= 2.0 / d_out.size
    d_h = d_out @ W2.T
    d_h *= 1.0 - h * h
    return {
        "W1": x.T @ d_h,
        "b1": d_h.sum(axis=0),
        "W2": h.T @ d_out,
        "b2": d_out.sum(axis=0),
    }


def make_mlp(size: int, seed: int = 0) -> tuple:
    """Width ``size``: x (64, size), W1 (size, size), W2 (size, 10)."""
    rng = np.random.default_rng(seed)
    params = {
        "W1": rng.standard_normal((size, size)) / np.sqrt(size),
        "b1": 0.1 * rng.standard_normal(size),
        "W2": rng.standard_normal((size, MLP_OUT)) / np.sqrt(size),
        "b2": 0.1 * rng.standard_normal(MLP_OUT),
    }
    x = rng.standard_normal((MLP_BATCH, size))
    y = rng.standard_normal((MLP_BATCH, MLP_OUT))
    return params, x, y


# --------------------------------------------------------------------------------------------
# The same MLP written as classes (NamedTuples with a `__call__`), the way a PyTorch user writes
# a model: s2s differentiates the methods (docs/classes.md). The hand-written gradient is the
# dict MLP's, put in the model's structure.


class Dense(NamedTuple):
    W: np.ndarray
    b: np.ndarray

    def __call__(self, x):
        return x @ self.W + self.b


class TwoLayer(NamedTuple):
    hidden: Dense
    out: Dense

    def __call__(self, x):
        return self.out(np.tanh(self.hidden(x)))


def mlp_classes_loss(model: TwoLayer, x, y):
    return np.mean((model(x) - y) ** 2)


def mlp_classes_loss_grad(model: TwoLayer, x: np.ndarray, y: np.ndarray) -> TwoLayer:
    """Hand-written gradient of ``mlp_classes_loss`` w.r.t. ``model``."""
    params = {"W1": model.hidden.W, "b1": model.hidden.b, "W2": model.out.W, "b2": model.out.b}
    g = mlp_loss_grad(params, x, y)
    return TwoLayer(Dense(g["W1"], g["b1"]), Dense(g["W2"], g["b2"]))


def make_mlp_classes(size: int, seed: int = 0) -> tuple:
    """`make_mlp`'s arrays, in a `TwoLayer`."""
    params, x, y = make_mlp(size, seed)
    model = TwoLayer(Dense(params["W1"], params["b1"]), Dense(params["W2"], params["b2"]))
    return model, x, y


# --------------------------------------------------------------------------------------------
# Vanilla tanh RNN over T steps, MSE on the final hidden state.

RNN_BATCH = 16
RNN_IN = 32
RNN_HIDDEN = 64


def rnn_loss(params, xs, y):
    h = np.zeros((xs.shape[1], params["Wh"].shape[0]))
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ params["Wx"] + h @ params["Wh"] + params["b"])
    return np.mean((h - y) ** 2)


def rnn_loss_grad(params: dict, xs: np.ndarray, y: np.ndarray) -> dict:
    """Hand-written gradient of ``rnn_loss`` w.r.t. ``params`` (backprop through time)."""
    Wx, Wh, b = params["Wx"], params["Wh"], params["b"]
    h = np.zeros((xs.shape[1], Wh.shape[0]))
    hs = [h]
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ Wx + h @ Wh + b)
        hs.append(h)
    d_h = h - y
    d_h *= 2.0 / d_h.size
    d_Wx = np.zeros_like(Wx)
    d_Wh = np.zeros_like(Wh)
    d_b = np.zeros_like(b)
    for t in range(xs.shape[0] - 1, -1, -1):
        h = hs[t + 1]
        d_z = d_h * (1.0 - h * h)
        d_Wx += xs[t].T @ d_z
        d_Wh += hs[t].T @ d_z
        d_b += d_z.sum(axis=0)
        d_h = d_z @ Wh.T
    return {"Wx": d_Wx, "Wh": d_Wh, "b": d_b}


def make_rnn(size: int, seed: int = 0) -> tuple:
    """``size`` time steps: xs (size, 16, 32), hidden 64."""
    rng = np.random.default_rng(seed)
    params = {
        "Wx": rng.standard_normal((RNN_IN, RNN_HIDDEN)) / np.sqrt(RNN_IN),
        "Wh": 0.9 * rng.standard_normal((RNN_HIDDEN, RNN_HIDDEN)) / np.sqrt(RNN_HIDDEN),
        "b": 0.1 * rng.standard_normal(RNN_HIDDEN),
    }
    xs = rng.standard_normal((size, RNN_BATCH, RNN_IN))
    y = 0.5 * rng.standard_normal((RNN_BATCH, RNN_HIDDEN))
    return params, xs, y


# --------------------------------------------------------------------------------------------
# LSTM over T steps (gates packed in one matmul, order i, f, o, g), MSE on the final h.

LSTM_BATCH = 16
LSTM_IN = 32
LSTM_HIDDEN = 64


def lstm_loss(params, xs, y):
    H = params["U"].shape[0]
    h = np.zeros((xs.shape[1], H))
    c = np.zeros((xs.shape[1], H))
    for t in range(xs.shape[0]):
        z = xs[t] @ params["W"] + h @ params["U"] + params["b"]
        i = 1.0 / (1.0 + np.exp(-z[:, :H]))
        f = 1.0 / (1.0 + np.exp(-z[:, H : 2 * H]))
        o = 1.0 / (1.0 + np.exp(-z[:, 2 * H : 3 * H]))
        g = np.tanh(z[:, 3 * H :])
        c = f * c + i * g
        h = o * np.tanh(c)
    return np.mean((h - y) ** 2)


def lstm_loss_grad(params: dict, xs: np.ndarray, y: np.ndarray) -> dict:
    """Hand-written gradient of ``lstm_loss`` w.r.t. ``params`` (backprop through time)."""
    W, U, b = params["W"], params["U"], params["b"]
    H = U.shape[0]
    h = np.zeros((xs.shape[1], H))
    c = np.zeros((xs.shape[1], H))
    saved = []
    for t in range(xs.shape[0]):
        z = xs[t] @ W + h @ U + b
        i = 1.0 / (1.0 + np.exp(-z[:, :H]))
        f = 1.0 / (1.0 + np.exp(-z[:, H : 2 * H]))
        o = 1.0 / (1.0 + np.exp(-z[:, 2 * H : 3 * H]))
        g = np.tanh(z[:, 3 * H :])
        c_prev = c
        c = f * c + i * g
        tanh_c = np.tanh(c)
        saved.append((h, c_prev, i, f, o, g, tanh_c))
        h = o * tanh_c
    d_h = h - y
    d_h *= 2.0 / d_h.size
    d_c = np.zeros_like(c)
    d_W = np.zeros_like(W)
    d_U = np.zeros_like(U)
    d_b = np.zeros_like(b)
    d_z = np.empty((xs.shape[1], 4 * H))
    for t in range(xs.shape[0] - 1, -1, -1):
        h_prev, c_prev, i, f, o, g, tanh_c = saved[t]
        d_c += d_h * o * (1.0 - tanh_c * tanh_c)
        d_z[:, :H] = d_c * g * i * (1.0 - i)
        d_z[:, H : 2 * H] = d_c * c_prev * f * (1.0 - f)
        d_z[:, 2 * H : 3 * H] = d_h * tanh_c * o * (1.0 - o)
        d_z[:, 3 * H :] = d_c * i * (1.0 - g * g)
        d_c *= f
        d_W += xs[t].T @ d_z
        d_U += h_prev.T @ d_z
        d_b += d_z.sum(axis=0)
        d_h = d_z @ U.T
    return {"W": d_W, "U": d_U, "b": d_b}


def make_lstm(size: int, seed: int = 0) -> tuple:
    """``size`` time steps: xs (size, 16, 32), hidden 64."""
    rng = np.random.default_rng(seed)
    H = LSTM_HIDDEN
    params = {
        "W": rng.standard_normal((LSTM_IN, 4 * H)) / np.sqrt(LSTM_IN),
        "U": rng.standard_normal((H, 4 * H)) / np.sqrt(H),
        "b": 0.1 * rng.standard_normal(4 * H),
    }
    xs = rng.standard_normal((size, LSTM_BATCH, LSTM_IN))
    y = 0.5 * rng.standard_normal((LSTM_BATCH, H))
    return params, xs, y


# --------------------------------------------------------------------------------------------
# Logistic regression: mean negative log likelihood.

LOGREG_SAMPLES = 1000


def logreg_loss(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def logreg_loss_grad(w: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Hand-written gradient of ``logreg_loss`` w.r.t. ``w``."""
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    p -= y
    return (p @ X) / y.size


def make_logreg(size: int, seed: int = 0) -> tuple:
    """``size`` features: X (1000, size), labels in {0, 1}."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((LOGREG_SAMPLES, size)) / np.sqrt(size)
    w = rng.standard_normal(size)
    y = (rng.random(LOGREG_SAMPLES) < 0.5).astype(float)
    return w, X, y


# --------------------------------------------------------------------------------------------
# Scalar physics: damped pendulum, semi-implicit Euler, Python floats and `math`.

DAMPING = 0.1
TARGET = 0.5


def physics_loss(x0, v0, k, dt, steps):
    x = x0
    v = v0
    for _ in range(steps):
        a = -k * math.sin(x) - DAMPING * v
        v = v + dt * a
        x = x + dt * v
    return (x - TARGET) ** 2


def physics_loss_grad(x0: float, v0: float, k: float, dt: float, steps: int) -> tuple:
    """Hand-written gradient of ``physics_loss`` w.r.t. ``(x0, v0)``."""
    x = x0
    v = v0
    xs = []
    for _ in range(steps):
        xs.append(x)
        a = -k * math.sin(x) - DAMPING * v
        v = v + dt * a
        x = x + dt * v
    d_x = 2.0 * (x - TARGET)
    d_v = 0.0
    for x in reversed(xs):
        d_v += dt * d_x
        d_a = dt * d_v
        d_x -= k * math.cos(x) * d_a
        d_v -= DAMPING * d_a
    return d_x, d_v


def make_physics(size: int, seed: int = 0) -> tuple:
    """``size`` time steps of length 0.01, random initial angle and velocity."""
    rng = np.random.default_rng(seed)
    x0 = float(rng.uniform(-1.0, 1.0))
    v0 = float(rng.uniform(-1.0, 1.0))
    return x0, v0, 4.0, 0.01, int(size)


# --------------------------------------------------------------------------------------------
# Neural ODE: a local right-hand side reading the parameters (a closure), passed to a
# module-level RK4 step, 20 steps on a batch of 16 states.


def ode_rk4(f, y, dt):
    k1 = f(y)
    k2 = f(y + 0.5 * dt * k1)
    k3 = f(y + 0.5 * dt * k2)
    k4 = f(y + dt * k3)
    return y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def neural_ode_loss(params, y0):
    W, b = params["W"], params["b"]

    def rhs(y):
        return np.tanh(y @ W + b)

    y = y0
    for _ in range(20):
        y = ode_rk4(rhs, y, 0.1)
    return np.sum(y**2)


def neural_ode_loss_grad(params: dict, y0: np.ndarray) -> dict:
    """Hand-written gradient of ``neural_ode_loss`` w.r.t. ``params``: the stages of each step
    kept, then the step's adjoint written out, stage by stage."""
    W, b, dt = params["W"], params["b"], 0.1
    steps = []
    y = y0
    for _ in range(20):
        a1 = y
        k1 = np.tanh(a1 @ W + b)
        a2 = y + 0.5 * dt * k1
        k2 = np.tanh(a2 @ W + b)
        a3 = y + 0.5 * dt * k2
        k3 = np.tanh(a3 @ W + b)
        a4 = y + dt * k3
        k4 = np.tanh(a4 @ W + b)
        steps.append(((a1, k1), (a2, k2), (a3, k3), (a4, k4)))
        y = y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    d_y = 2.0 * y
    d_W = np.zeros_like(W)
    d_b = np.zeros_like(b)
    for stages in reversed(steps):
        d_k = [dt / 6.0 * d_y, dt / 3.0 * d_y, dt / 3.0 * d_y, dt / 6.0 * d_y]
        d_y = d_y.copy()
        for i in (3, 2, 1, 0):
            a, k = stages[i]
            d_z = d_k[i] * (1.0 - k * k)
            d_W += a.T @ d_z
            d_b += d_z.sum(axis=0)
            d_a = d_z @ W.T
            d_y += d_a
            if i:
                d_k[i - 1] += (dt if i == 3 else 0.5 * dt) * d_a
    return {"W": d_W, "b": d_b}


def make_neural_ode(size: int, seed: int = 0) -> tuple:
    """State width ``size``, a batch of 16."""
    rng = np.random.default_rng(seed)
    params = {
        "W": rng.standard_normal((size, size)) / np.sqrt(size),
        "b": rng.standard_normal(size) * 0.1,
    }
    return params, rng.standard_normal((16, size))


# --------------------------------------------------------------------------------------------
# Recursive scalar function: truncated exp(x) series in Horner form, one call per term.


def power_series(x, n):
    if n == 0:
        return 1.0
    return 1.0 + x * power_series(x, n - 1) / n


def _power_series_value_and_grad(x: float, n: int) -> tuple[float, float]:
    if n == 0:
        return 1.0, 0.0
    p, d_p = _power_series_value_and_grad(x, n - 1)
    return 1.0 + x * p / n, (p + x * d_p) / n


def power_series_grad(x: float, n: int) -> float:
    """Hand-written gradient of ``power_series`` w.r.t. ``x`` (same recursion, value and slope)."""
    return _power_series_value_and_grad(x, n)[1]


def make_recursive(size: int, seed: int = 0) -> tuple:
    """Recursion depth ``size``."""
    rng = np.random.default_rng(seed)
    return float(rng.uniform(-1.0, 1.0)), int(size)


# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Model:
    """One benchmark: primal, hand-written gradient, input factory, ``wrt`` and sizes."""

    name: str
    primal: Callable[..., Any]
    grad: Callable[..., Any]
    make: Callable[[int, int], tuple]
    wrt: int | tuple[int, ...]
    sizes: tuple[int, ...]
    quick_sizes: tuple[int, ...]
    test_size: int
    size_label: str
    peers: bool = True  # autograd and JAX can run it (they cannot trace a user's methods)


MODELS: dict[str, Model] = {
    m.name: m
    for m in [
        Model(
            "mlp",
            mlp_loss,
            mlp_loss_grad,
            make_mlp,
            wrt=0,
            sizes=(64, 256, 1024, 4096),
            quick_sizes=(64,),
            test_size=3,
            size_label="width",
        ),
        Model(
            "mlp_classes",
            mlp_classes_loss,
            mlp_classes_loss_grad,
            make_mlp_classes,
            wrt=0,
            sizes=(64, 256, 1024),
            quick_sizes=(64,),
            test_size=3,
            size_label="width",
            peers=False,
        ),
        Model(
            "rnn",
            rnn_loss,
            rnn_loss_grad,
            make_rnn,
            wrt=0,
            sizes=(30, 100),
            quick_sizes=(30,),
            test_size=4,
            size_label="steps",
        ),
        Model(
            "lstm",
            lstm_loss,
            lstm_loss_grad,
            make_lstm,
            wrt=0,
            sizes=(30, 100),
            quick_sizes=(30,),
            test_size=3,
            size_label="steps",
        ),
        Model(
            "logreg",
            logreg_loss,
            logreg_loss_grad,
            make_logreg,
            wrt=0,
            sizes=(64, 1024),
            quick_sizes=(64,),
            test_size=5,
            size_label="features",
        ),
        Model(
            "physics",
            physics_loss,
            physics_loss_grad,
            make_physics,
            wrt=(0, 1),
            sizes=(200,),
            quick_sizes=(200,),
            test_size=200,
            size_label="steps",
        ),
        Model(
            "neural_ode",
            neural_ode_loss,
            neural_ode_loss_grad,
            make_neural_ode,
            wrt=0,
            sizes=(32, 256),
            quick_sizes=(32,),
            test_size=3,
            size_label="width",
        ),
        Model(
            "recursive",
            power_series,
            power_series_grad,
            make_recursive,
            wrt=0,
            sizes=(50,),
            quick_sizes=(50,),
            test_size=50,
            size_label="depth",
        ),
    ]
}
