"""A vanilla RNN learns to sum a sequence (target: 0.1 * the sum).
h_t = tanh(x_t Wx + h_{t-1} Wh + b), prediction h_T Wo + bo, trained with SGD. The loop
over time steps is plain Python.

    python examples/rnn.py [--quick] [--plot loss.png]

The gradient s2s writes for `loss` is in examples/grad_rnn.py: the forward sweep pushes each
step's `h` (it is overwritten and the backward sweep needs it), the backward sweep runs the
time loop in reverse.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def predict(params, xs):
    """xs has shape (time, batch, features); returns (batch, 1)."""
    h = np.zeros((xs.shape[1], params["Wh"].shape[0]))
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ params["Wx"] + h @ params["Wh"] + params["b"])
    return h @ params["Wo"] + params["bo"]


def loss(params, xs, ys):
    return np.mean((predict(params, xs) - ys) ** 2)


def batch_of(rng, steps, size):
    xs = rng.uniform(-1.0, 1.0, size=(steps, size, 1))
    return xs, 0.1 * xs.sum(axis=0)


def init(rng, hidden):
    return {
        "Wx": rng.normal(size=(1, hidden)),
        "Wh": 0.3 * rng.normal(size=(hidden, hidden)) / np.sqrt(hidden),
        "b": np.zeros(hidden),
        "Wo": rng.normal(size=(hidden, 1)) / np.sqrt(hidden),
        "bo": np.zeros(1),
    }


def main(argv: Sequence[str] | None = None) -> float:
    from _util import parse_args, progress, save_plot, sgd

    import s2s

    args = parse_args(argv, __doc__.splitlines()[0])
    iters, seq = (15, 10) if args.quick else (1500, 10)
    rng = np.random.default_rng(args.seed)
    params = init(rng, 16)
    value_and_grad = s2s.value_and_grad(loss, wrt="params")
    losses = []
    for it in range(1, iters + 1):
        xs, ys = batch_of(rng, seq, 32)
        value, grads = value_and_grad(params, xs, ys)
        params = sgd(params, grads, 0.1)
        losses.append(value)
        if it % max(iters // 10, 1) == 0:
            progress(it, iters, value)
    xs, ys = batch_of(rng, seq, 500)
    err = float(loss(params, xs, ys))
    print(f"held-out mean squared error {err:.5f} (predicting 0: {float(np.mean(ys**2)):.5f})")
    save_plot(losses, args.plot, "RNN: sum of a sequence")
    return err


if __name__ == "__main__":
    main()
