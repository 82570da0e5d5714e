"""Gradient clipping for an RNN whose gradients explode.

    python examples/rnn_clipping.py [--quick] [--plot loss.png]

The recurrent weights start large, so backpropagation through 30 time steps multiplies the
gradient by them 30 times: early gradients are large (the script prints the largest norm) and
plain SGD takes erratic steps. Three runs from the same start are compared:

* no clipping;
* the whole gradient's global norm clipped after it is computed (what most frameworks'
  `clip_grad_norm` does);
* clipping *inside* the backward sweep, at every time step, with s2s's surgery API:
  `with s2s.insert_grad_of(h) as dh:` runs its block on the gradient flowing back into each
  hidden state (`loss_clipped` below), so no step can pass an exploded gradient to the one
  before it.

The gradients s2s writes for `loss` and `loss_clipped` are in examples/grad_rnn_clipping.py:
the clipping block sits in the reversed loop, headed by the line it comes from.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import s2s

#: the bound on each element of the gradient reaching a hidden state
STEP_CLIP = 0.05


def loss(params, xs, ys):
    h = np.zeros((xs.shape[1], params["Wh"].shape[0]))
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ params["Wx"] + h @ params["Wh"] + params["b"])
    pred = h @ params["Wo"] + params["bo"]
    return np.mean((pred - ys) ** 2)


def loss_clipped(params, xs, ys):
    """`loss`, with the gradient reaching each hidden state clipped in the backward sweep."""
    h = np.zeros((xs.shape[1], params["Wh"].shape[0]))
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ params["Wx"] + h @ params["Wh"] + params["b"])
        with s2s.insert_grad_of(h) as dh:
            dh = np.clip(dh, -STEP_CLIP, STEP_CLIP)
    pred = h @ params["Wo"] + params["bo"]
    return np.mean((pred - ys) ** 2)


def init(rng, hidden):
    return {
        "Wx": rng.normal(size=(1, hidden)),
        "Wh": 2.0 * rng.normal(size=(hidden, hidden)) / np.sqrt(hidden),
        "b": np.zeros(hidden),
        "Wo": rng.normal(size=(hidden, 1)) / np.sqrt(hidden),
        "bo": np.zeros(1),
    }


def batch_of(rng, steps, size):
    xs = rng.uniform(-1.0, 1.0, size=(steps, size, 1))
    return xs, np.mean(xs[-5:], axis=0)  # the mean of the last five inputs


def train(iters, clip, seed, value_and_grad, quiet=False):
    from _util import clip_by_global_norm, global_norm, progress, sgd

    rng = np.random.default_rng(seed)
    params = init(rng, 16)
    losses, largest = [], 0.0
    for it in range(1, iters + 1):
        xs, ys = batch_of(rng, 30, 32)
        value, grads = value_and_grad(params, xs, ys)
        largest = max(largest, global_norm(grads))
        if clip is not None:
            grads = clip_by_global_norm(grads, clip)
        params = sgd(params, grads, 0.1)
        losses.append(value)
        if not quiet and it % max(iters // 5, 1) == 0:
            progress(it, iters, value, f"  largest |grad| so far {largest:.2e}")
    xs, ys = batch_of(rng, 30, 500)
    return float(np.mean(loss(params, xs, ys))), losses


def main(argv: Sequence[str] | None = None) -> float:
    from _util import parse_args, save_plot

    args = parse_args(argv, __doc__.splitlines()[0])
    iters = 10 if args.quick else 600
    value_and_grad = s2s.value_and_grad(loss, wrt="params")
    print("without clipping:")
    plain, _ = train(iters, None, args.seed, value_and_grad)
    print("with the global gradient norm clipped to 1:")
    clipped, _ = train(iters, 1.0, args.seed, value_and_grad)
    print(f"with the gradient clipped to +-{STEP_CLIP} at every step (s2s.insert_grad_of):")
    stepwise = s2s.value_and_grad(loss_clipped, wrt="params")
    per_step, losses = train(iters, None, args.seed, stepwise)
    print(
        f"held-out mean squared error: without clipping {plain:.4f}, global norm {clipped:.4f}, "
        f"per step {per_step:.4f}"
    )
    save_plot(losses, args.plot, "RNN with the gradient clipped at every step")
    return per_step


if __name__ == "__main__":
    main()
