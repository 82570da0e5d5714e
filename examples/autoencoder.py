"""A tied-weight autoencoder (64 -> 16 -> 64, decoder weights = encoder weights transposed)
with an L2 penalty, trained with SGD on the 8x8 digits.

    python examples/autoencoder.py [--quick] [--plot loss.png]

The gradient s2s writes for `loss` is in examples/grad_autoencoder.py: `W` is read twice (as
`W` and `W.T`), and its adjoint sums both uses.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def reconstruct(params, x):
    W = params["W"]
    h = sigmoid(x @ W + params["b_hidden"])
    return sigmoid(h @ W.T + params["b_visible"])


def loss(params, x, l2):
    """Mean squared reconstruction error per image, plus l2 * |W|^2."""
    r = reconstruct(params, x)
    return np.mean(np.sum((r - x) ** 2, axis=1)) + l2 * np.sum(params["W"] * params["W"])


def main(argv: Sequence[str] | None = None) -> float:
    from _util import load_digits, parse_args, progress, save_plot, sgd

    import s2s

    args = parse_args(argv, __doc__.splitlines()[0])
    steps, batch = (20, 64) if args.quick else (2000, 64)
    x_train, _, x_test, _ = load_digits(args.seed)
    rng = np.random.default_rng(args.seed)
    params = {
        "W": 0.1 * rng.normal(size=(64, 16)),
        "b_hidden": np.zeros(16),
        "b_visible": np.zeros(64),
    }
    value_and_grad = s2s.value_and_grad(loss, wrt="params")
    baseline = float(np.mean(np.sum((x_test - x_train.mean(axis=0)) ** 2, axis=1)))
    losses = []
    for step in range(1, steps + 1):
        idx = rng.integers(0, len(x_train), batch)
        value, grads = value_and_grad(params, x_train[idx], 1e-4)
        params = sgd(params, grads, 0.5)
        losses.append(value)
        if step % max(steps // 10, 1) == 0:
            progress(step, steps, value)
    err = float(np.mean(np.sum((reconstruct(params, x_test) - x_test) ** 2, axis=1)))
    print(f"test reconstruction error {err:.3f} (predicting the mean image: {baseline:.3f})")
    save_plot(losses, args.plot, "tied-weight autoencoder on digits")
    return err


if __name__ == "__main__":
    main()
