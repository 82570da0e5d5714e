"""Write (or, with --check, verify) the gradient module `s2s-grad` makes for each example.

    python examples/regenerate.py           # rewrite examples/grad_*.py
    python examples/regenerate.py --check   # exit 1 when one is stale (what the tests run)

Run from the repository root: the generated files name their source as examples/<name>.py.
Each line of TARGETS is one `s2s-grad` command; the file header of each grad_*.py repeats it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

# (model file, functions, --wrt, output file)
TARGETS: list[tuple[str, list[str], str, str]] = [
    ("examples/mlp.py", ["loss"], "params", "examples/grad_mlp.py"),
    ("examples/logistic_regression.py", ["loss"], "params", "examples/grad_logistic_regression.py"),
    ("examples/mlp_digits.py", ["loss"], "params", "examples/grad_mlp_digits.py"),
    ("examples/autoencoder.py", ["loss"], "params", "examples/grad_autoencoder.py"),
    ("examples/rnn.py", ["loss"], "params", "examples/grad_rnn.py"),
    ("examples/lstm.py", ["loss"], "params", "examples/grad_lstm.py"),
    (
        "examples/rnn_clipping.py",
        ["loss", "loss_clipped"],
        "params",
        "examples/grad_rnn_clipping.py",
    ),
    ("examples/tree_loss.py", ["loss"], "params", "examples/grad_tree_loss.py"),
    (
        "examples/recursion_and_while.py",
        ["polynomial", "kepler"],
        "0",
        "examples/grad_recursion_and_while.py",
    ),
    ("examples/newton_cg.py", ["rosenbrock"], "0", "examples/grad_newton_cg.py"),
    ("examples/physics.py", ["loss"], "v0", "examples/grad_physics.py"),
]


def command(model: str, functions: list[str], wrt: str, out: str) -> list[str]:
    """The `s2s-grad` arguments for one target."""
    args = [f"{model}:{fn}" for fn in functions]
    if wrt != "0":
        args += ["--wrt", wrt]
    return [*args, "-o", out]


def main(argv: Sequence[str] | None = None) -> int:
    from s2s.cli.main import main as s2s_grad

    check = "--check" in (sys.argv[1:] if argv is None else argv)
    status = 0
    for target in TARGETS:
        args = command(*target)
        code = s2s_grad([*args, "--check"] if check else args)
        if not check and code == 0:
            print("wrote", target[3])
        status = max(status, code)
    return status


if __name__ == "__main__":
    sys.exit(main())
