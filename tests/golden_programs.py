"""The functions whose generated derivatives `tests/test_golden.py` pins byte for byte in
`tests/golden/<name>.py`. The golden files name lines of this file: edit it only together
with `S2S_UPDATE_GOLDEN=1 pytest tests/test_golden.py`."""

import dataclasses

import numpy as np


def mlp_loss(params, x, y):
    """A 2-layer MLP with a squared error, parameters in a dict."""
    h = np.tanh(x @ params["W1"] + params["b1"])
    out = h @ params["W2"] + params["b2"]
    return np.mean((out - y) ** 2)


def fill_rows(x, w):
    """A loop with a branch and subscript writes (a row filled in a loop, then one entry
    incremented under an `if`)."""
    out = np.zeros_like(x)
    for i in range(x.shape[0]):
        out[i] = np.sin(x[i] * w)
        if np.sum(out[i]) > 0.0:
            out[i, 0] += w * x[i, 0]
    return np.sum(out * out)


def power(x, n):
    """A recursive function."""
    if n == 0:
        return 1.0
    return x * power(x, n - 1)


def newton_sqrt(a, tol):
    """A while loop that ends with a data-dependent `break`."""
    r = a
    steps = 0
    while steps < 50:
        step = 0.5 * (r - a / r)
        r = r - step
        steps += 1
        if abs(step) < tol:
            break
    return r


def dict_layers(params, x):
    """Loops over `.values()` and `.items()` of a nested parameter dict."""
    h = x
    penalty = 0.0
    for layer in params.values():
        h = np.tanh(h @ layer["w"] + layer["b"])
        for key, value in layer.items():
            penalty = penalty + np.sum(value * value) * len(key)
    return np.sum(h) + 0.01 * penalty


def extremes(xs, y):
    """Builtin max/min with several arguments and of one list."""
    return max(xs) * y - min(xs[0], y, 0.5)


def logistic_loss(w, X, y):
    """A sigmoid and its binary cross-entropy, written out: each one op to s2s."""
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


@dataclasses.dataclass
class Dense:
    """A layer whose `__call__` s2s differentiates (the annotation says what `layer` is)."""

    W: np.ndarray
    b: np.ndarray

    def __call__(self, x):
        return np.tanh(x @ self.W + self.b)


def layers_loss(layers: list[Dense], x, y):
    """Methods of the user's classes: a list of layers, each called in a loop."""
    h = x
    for layer in layers:
        h = layer(h)
    return np.mean((h - y) ** 2)


def rnn_cell(h, x, W, U, act):
    return act(h @ W + x @ U)


def local_rnn_loss(W, U, xs, act=np.tanh):
    """Functions as values: a function passed down (`act`, its default checked), a local
    `def` reading the parameters, and a lambda."""
    sq = lambda v: v * v  # noqa: E731

    def step(h, x):
        return rnn_cell(h, x, W, U, act)

    h = np.zeros(W.shape[0])
    for x in xs:
        h = step(h, x)
    return np.sum(sq(h))


def rk4_step(f, y, dt):
    k1 = f(y)
    k2 = f(y + 0.5 * dt * k1)
    k3 = f(y + 0.5 * dt * k2)
    k4 = f(y + dt * k3)
    return y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def ode_loss(W, b, y0):
    """Closures: a local right-hand side reading W and b, passed to an integrator."""

    def rhs(y):
        return np.tanh(W @ y + b) - y

    y = y0
    for _ in range(4):
        y = rk4_step(rhs, y, 0.1)
    return np.sum(y**2)
