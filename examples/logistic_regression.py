"""Multinomial logistic regression on the 8x8 digits, trained with SGD on s2s's gradient.

    python examples/logistic_regression.py [--quick] [--plot loss.png]

The gradient s2s writes for `loss` is in examples/grad_logistic_regression.py (regenerate with
`python examples/regenerate.py`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def log_softmax(z):
    m = np.max(z, axis=1, keepdims=True)
    s = z - m
    return s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))


def loss(params, x, y, l2):
    """Mean cross-entropy of softmax(x W + b) against one-hot labels y, plus l2 * |W|^2."""
    logits = x @ params["W"] + params["b"]
    return -np.mean(np.sum(y * log_softmax(logits), axis=1)) + l2 * np.sum(params["W"] ** 2)


def accuracy(params, x, labels):
    return float(np.mean(np.argmax(x @ params["W"] + params["b"], axis=1) == labels))


def main(argv: Sequence[str] | None = None) -> float:
    from _util import load_digits, one_hot, parse_args, progress, save_plot

    import s2s

    args = parse_args(argv, __doc__.splitlines()[0])
    steps, batch = (20, 64) if args.quick else (600, 64)
    x_train, y_train, x_test, y_test = load_digits(args.seed)
    rng = np.random.default_rng(args.seed)
    params = {"W": 0.01 * rng.normal(size=(64, 10)), "b": np.zeros(10)}
    value_and_grad = s2s.value_and_grad(loss, wrt="params")
    losses = []
    for step in range(1, steps + 1):
        idx = rng.integers(0, len(x_train), batch)
        value, grads = value_and_grad(params, x_train[idx], one_hot(y_train[idx], 10), 1e-4)
        params = {k: params[k] - 0.5 * grads[k] for k in params}
        losses.append(value)
        if step % max(steps // 10, 1) == 0:
            progress(step, steps, value)
    acc = accuracy(params, x_test, y_test)
    print(f"test accuracy {acc:.3f} ({len(x_test)} held-out images)")
    save_plot(losses, args.plot, "logistic regression on digits")
    return acc


if __name__ == "__main__":
    main()
