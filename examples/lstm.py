"""An LSTM learns to remember: after reading a sequence of 12 numbers it must output the first
one. Written as a plain loop over time steps with NumPy gates, trained with SGD.

    python examples/lstm.py [--quick] [--plot loss.png]

The gradient s2s writes for `loss` is in examples/grad_lstm.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def predict(params, xs):
    """xs has shape (time, batch, features); returns (batch, 1)."""
    n = params["Wf"].shape[1]
    h = np.zeros((xs.shape[1], n))
    c = np.zeros((xs.shape[1], n))
    for t in range(xs.shape[0]):
        z = np.concatenate([xs[t], h], axis=1)
        forget = sigmoid(z @ params["Wf"] + params["bf"])
        inp = sigmoid(z @ params["Wi"] + params["bi"])
        out = sigmoid(z @ params["Wo"] + params["bo"])
        cand = np.tanh(z @ params["Wg"] + params["bg"])
        c = forget * c + inp * cand
        h = out * np.tanh(c)
    return h @ params["Wy"] + params["by"]


def loss(params, xs, ys):
    return np.mean((predict(params, xs) - ys) ** 2)


def init(rng, n_in, hidden):
    params = {}
    for gate in "figo":
        params["W" + gate] = rng.normal(size=(n_in + hidden, hidden)) / np.sqrt(n_in + hidden)
        params["b" + gate] = np.zeros(hidden)
    params["bf"] = params["bf"] + 1.0  # remember by default
    params["Wy"] = rng.normal(size=(hidden, 1)) / np.sqrt(hidden)
    params["by"] = np.zeros(1)
    return params


def batch_of(rng, steps, size):
    xs = rng.uniform(-1.0, 1.0, size=(steps, size, 1))
    return xs, xs[0]


def main(argv: Sequence[str] | None = None) -> float:
    from _util import clip_by_global_norm, parse_args, progress, save_plot, sgd

    import s2s

    args = parse_args(argv, __doc__.splitlines()[0])
    iters, seq = (10, 12) if args.quick else (800, 12)
    rng = np.random.default_rng(args.seed)
    params = init(rng, 1, 16)
    value_and_grad = s2s.value_and_grad(loss, wrt="params")
    losses = []
    for it in range(1, iters + 1):
        xs, ys = batch_of(rng, seq, 32)
        value, grads = value_and_grad(params, xs, ys)
        grads = clip_by_global_norm(grads, 1.0)  # after the gradient: see rnn_clipping.py
        params = sgd(params, grads, 0.3)
        losses.append(value)
        if it % max(iters // 10, 1) == 0:
            progress(it, iters, value)
    xs, ys = batch_of(rng, seq, 500)
    err = float(loss(params, xs, ys))
    print(f"held-out mean squared error {err:.5f} (predicting 0: {float(np.mean(ys**2)):.5f})")
    save_plot(losses, args.plot, "LSTM: recall the first input")
    return err


if __name__ == "__main__":
    main()
