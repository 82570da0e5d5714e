"""Differentiating control flow: a recursive function and a `while` loop that runs until it
converges, each checked against the derivative worked out by hand.

    python examples/recursion_and_while.py [--quick]

1. `horner` evaluates a polynomial recursively; its derivative in `x` must equal the
   polynomial's derivative, `np.polyval(np.polyder(c), x)`.
2. `kepler` solves Kepler's equation E - e sin E = M for E by Newton's method in a `while` loop
   that stops when the step is below a tolerance (the trip count depends on the data). The
   implicit function theorem gives dE/dM = 1 / (1 - e cos E): s2s differentiates through the
   iterations and must agree.

The gradients s2s writes are in examples/grad_recursion_and_while.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def horner(c, x, i):
    """c[i] + x * (c[i+1] + x * (...)): the polynomial with coefficients c[i:], lowest first."""
    if i == len(c) - 1:
        return c[i]
    return c[i] + x * horner(c, x, i + 1)


def polynomial(x, c):
    return horner(c, x, 0)


def kepler(mean_anomaly, eccentricity, tol):
    """The eccentric anomaly E with E - e sin(E) = M, by Newton's method."""
    E = mean_anomaly
    step = 1.0
    while abs(step) > tol:
        step = (E - eccentricity * np.sin(E) - mean_anomaly) / (1.0 - eccentricity * np.cos(E))
        E = E - step
    return E


def main(argv: Sequence[str] | None = None) -> float:
    from _util import parse_args

    import s2s

    args = parse_args(argv, __doc__.splitlines()[0], plot=False)
    rng = np.random.default_rng(args.seed)
    worst = 0.0
    c = rng.normal(size=6)  # lowest degree first
    dpoly = s2s.grad(polynomial)
    for x in rng.uniform(-2.0, 2.0, 3 if args.quick else 10):
        got = dpoly(float(x), c)
        want = np.polyval(np.polyder(c[::-1]), x)
        worst = max(worst, abs(got - want))
        print(f"d/dx polynomial at x={x:+.3f}: s2s {got:+.10f}  by hand {want:+.10f}")
    dkepler = s2s.grad(kepler, wrt=("mean_anomaly", "eccentricity"))
    for m in rng.uniform(0.1, 3.0, 3 if args.quick else 10):
        e = 0.6
        E = kepler(m, e, 1e-13)
        dm, de = dkepler(float(m), e, 1e-13)
        want_dm = 1.0 / (1.0 - e * np.cos(E))
        want_de = np.sin(E) / (1.0 - e * np.cos(E))
        worst = max(worst, abs(dm - want_dm), abs(de - want_de))
        print(f"Kepler M={m:.3f}: dE/dM {dm:.10f} (by hand {want_dm:.10f}),")
        print(f"               dE/de {de:.10f} (by hand {want_de:.10f})")
    print(f"largest difference from the hand-derived derivatives: {worst:.1e}")
    return worst


if __name__ == "__main__":
    main()
