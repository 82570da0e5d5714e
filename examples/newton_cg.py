"""Newton-CG on the n-dimensional Rosenbrock function with SciPy, fed by s2s.

    python examples/newton_cg.py [--quick]

`scipy.optimize.minimize(method="Newton-CG", jac=..., hessp=...)` needs the gradient and
Hessian-vector products. `jac` is `s2s.grad(rosenbrock)`; `hessp` is `s2s.hvp(rosenbrock)`
(forward over reverse) when this s2s has it, otherwise it is left out and SciPy approximates
Hessian-vector products by finite differences of `jac` (the script says which it used).
The gradient s2s writes is in examples/grad_newton_cg.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def main(argv: Sequence[str] | None = None) -> float:
    from _util import parse_args
    from scipy.optimize import minimize

    import s2s

    args = parse_args(argv, __doc__.splitlines()[0], plot=False)
    n = 5 if args.quick else 30
    x0 = np.random.default_rng(args.seed).uniform(-1.0, 1.0, n)
    options = {"jac": s2s.grad(rosenbrock)}
    if hasattr(s2s, "hvp"):
        options["hessp"] = s2s.hvp(rosenbrock)
        print("hessp: s2s.hvp (exact Hessian-vector products, forward over reverse)")
    else:
        print("hessp: not given (this s2s has no s2s.hvp): SciPy uses finite differences of jac")
    result = minimize(rosenbrock, x0, method="Newton-CG", options={"xtol": 1e-10}, **options)
    err = float(np.max(np.abs(result.x - 1.0)))
    print(
        f"n={n}: f={result.fun:.3e} after {result.nit} Newton iterations, "
        f"{result.njev} gradients; max |x - 1| = {err:.2e}"
    )
    return err


if __name__ == "__main__":
    main()
