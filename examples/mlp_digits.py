"""A 2-layer network (64 -> 32 tanh -> 10 softmax) on the 8x8 digits, trained with SGD.

    python examples/mlp_digits.py [--quick] [--plot loss.png]

The gradient s2s writes for `loss` is in examples/grad_mlp_digits.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def log_softmax(z):
    m = np.max(z, axis=1, keepdims=True)
    s = z - m
    return s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))


def predict(params, x):
    h = np.tanh(x @ params["W1"] + params["b1"])
    return h @ params["W2"] + params["b2"]


def loss(params, x, y):
    """Mean cross-entropy of the network's softmax against one-hot labels y."""
    return -np.mean(np.sum(y * log_softmax(predict(params, x)), axis=1))


def main(argv: Sequence[str] | None = None) -> float:
    from _util import load_digits, one_hot, parse_args, progress, save_plot, sgd

    import s2s

    args = parse_args(argv, __doc__.splitlines()[0])
    steps, batch = (20, 64) if args.quick else (1500, 64)
    x_train, y_train, x_test, y_test = load_digits(args.seed)
    rng = np.random.default_rng(args.seed)
    params = {
        "W1": rng.normal(size=(64, 32)) / 8.0,
        "b1": np.zeros(32),
        "W2": rng.normal(size=(32, 10)) / np.sqrt(32),
        "b2": np.zeros(10),
    }
    value_and_grad = s2s.value_and_grad(loss, wrt="params")
    losses = []
    for step in range(1, steps + 1):
        idx = rng.integers(0, len(x_train), batch)
        value, grads = value_and_grad(params, x_train[idx], one_hot(y_train[idx], 10))
        params = sgd(params, grads, 0.2)
        losses.append(value)
        if step % max(steps // 10, 1) == 0:
            progress(step, steps, value)
    acc = float(np.mean(np.argmax(predict(params, x_test), axis=1) == y_test))
    print(f"test accuracy {acc:.3f} ({len(x_test)} held-out images)")
    save_plot(losses, args.plot, "2-layer network on digits")
    return acc


if __name__ == "__main__":
    main()
