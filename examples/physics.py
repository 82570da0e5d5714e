"""Fit a projectile's launch velocity so that it lands on a target: the simulation is 1,000
explicit Euler steps of gravity plus quadratic air drag, and s2s differentiates the final
position with respect to the initial velocity through every step.

    python examples/physics.py [--quick] [--plot loss.png]

The gradient s2s writes for `loss` is in examples/grad_physics.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

GRAVITY = 9.81


def simulate(v0, dt, n_steps, drag):
    """Position after n_steps of dt, starting at the origin with velocity v0 (2-vector)."""
    p = np.zeros(2)
    v = v0
    for _ in range(n_steps):
        speed = np.sqrt(np.sum(v * v))
        a = np.array([0.0, -GRAVITY]) - drag * speed * v
        v = v + dt * a
        p = p + dt * v
    return p


def loss(v0, target, dt, n_steps, drag):
    p = simulate(v0, dt, n_steps, drag)
    return np.sum((p - target) ** 2)


def main(argv: Sequence[str] | None = None) -> float:
    from _util import parse_args, progress, save_plot

    import s2s

    args = parse_args(argv, __doc__.splitlines()[0])
    iters = 5 if args.quick else 60
    dt, n_steps, drag = 0.002, 1000, 0.1  # 2 seconds of flight
    target = np.array([12.0, 0.0])
    v0 = np.array([4.0, 4.0])
    value_and_grad = s2s.value_and_grad(loss, wrt="v0")
    losses = []
    for it in range(1, iters + 1):
        value, g = value_and_grad(v0, target, dt, n_steps, drag)
        v0 = v0 - 0.2 * g  # gradient descent; the landing point is nearly linear in v0
        losses.append(value)
        if it % max(iters // 10, 1) == 0:
            progress(it, iters, value, f"  v0 = [{v0[0]:.4f}, {v0[1]:.4f}]")
    miss = float(np.sqrt(np.sum((simulate(v0, dt, n_steps, drag) - target) ** 2)))
    print(f"launch velocity {v0.round(4).tolist()} m/s lands {miss:.2e} m from {target.tolist()}")
    save_plot(losses, args.plot, "fitting a launch velocity through 1,000 steps")
    return miss


if __name__ == "__main__":
    main()
