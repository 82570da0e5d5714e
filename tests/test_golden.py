"""Golden files: the generated code of a few representative functions, pinned byte for byte.

Each case is `s2s.source(fn, ...)` of a function of `tests/golden_programs.py`, kept in
`tests/golden/<case>.py`. A change to the code generator that changes one of them fails here
with the diff; when the change is intended, rewrite them all and review the diff:

    S2S_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py

(the golden files are outputs, not modules: ruff leaves them alone, see pyproject.toml).
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import golden_programs as programs
import numpy as np
import pytest
from fd import assert_grad_matches, leaves

import s2s

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("S2S_UPDATE_GOLDEN") == "1"

#: case name -> (function, keyword arguments of s2s.source)
CASES: dict[str, tuple] = {
    "mlp_loss": (programs.mlp_loss, {}),
    "fill_rows": (programs.fill_rows, {"wrt": (0, 1)}),
    "fill_rows_forward": (programs.fill_rows, {"wrt": (0, 1), "mode": "forward"}),
    "power": (programs.power, {}),
    "newton_sqrt": (programs.newton_sqrt, {}),
    "dict_layers": (programs.dict_layers, {}),
    "dict_layers_forward": (programs.dict_layers, {"mode": "forward"}),
    "extremes": (programs.extremes, {"wrt": (0, 1)}),
    "logistic_loss": (programs.logistic_loss, {}),
    "layers_loss": (programs.layers_loss, {}),
    "layers_loss_forward": (programs.layers_loss, {"mode": "forward"}),
    "local_rnn_loss": (programs.local_rnn_loss, {"wrt": (0, 1)}),
    "ode_loss": (programs.ode_loss, {"wrt": (0, 1)}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_generated_source_matches_golden(case):
    fn, options = CASES[case]
    got = s2s.source(fn, **options) + "\n"  # files end with a newline
    path = GOLDEN / f"{case}.py"
    if UPDATE:
        path.write_text(got, encoding="utf-8")
        return
    assert path.exists(), f"{path} is missing: run S2S_UPDATE_GOLDEN=1 pytest {__file__}"
    want = path.read_text(encoding="utf-8")
    if got != want:
        diff = "".join(
            difflib.unified_diff(
                want.splitlines(keepends=True),
                got.splitlines(keepends=True),
                f"tests/golden/{case}.py",
                "s2s.source now",
            )
        )
        pytest.fail(
            f"generated code of {case} changed; if intended, run "
            f"S2S_UPDATE_GOLDEN=1 pytest tests/test_golden.py and review the diff\n{diff}"
        )


def test_every_golden_file_has_a_case():
    on_disk = {p.stem for p in GOLDEN.glob("*.py")}
    assert on_disk == set(CASES), "remove stale golden files or add their cases"


def _inputs(case: str, rng: np.random.Generator) -> tuple:
    if case.startswith("mlp_loss"):
        params = {
            "W1": rng.normal(size=(3, 4)),
            "b1": rng.normal(size=4),
            "W2": rng.normal(size=(4, 2)),
            "b2": rng.normal(size=2),
        }
        return params, rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    if case.startswith("fill_rows"):
        return rng.normal(size=(4, 3)), float(rng.uniform(0.5, 1.5))
    if case == "power":
        return float(rng.uniform(0.5, 1.5)), 4
    if case == "newton_sqrt":
        return float(rng.uniform(1.0, 4.0)), 1e-10
    if case.startswith("dict_layers"):
        params = {
            "first": {"w": rng.normal(size=(3, 2)), "b": rng.normal(size=2)},
            "second": {"w": rng.normal(size=(2, 2)), "b": rng.normal(size=2)},
        }
        return params, rng.normal(size=3)
    if case.startswith("layers_loss"):
        widths = [3, 4, 2]
        layers = [
            programs.Dense(rng.normal(size=(a, b)) / 2, rng.normal(size=b))
            for a, b in zip(widths, widths[1:], strict=False)
        ]
        return layers, rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    if case == "local_rnn_loss":
        return rng.normal(size=(3, 3)) / 2, rng.normal(size=(2, 3)), rng.normal(size=(4, 2))
    if case == "ode_loss":
        return rng.normal(size=(3, 3)) / 2, rng.normal(size=3), rng.normal(size=3)
    if case == "logistic_loss":
        return rng.normal(size=3), rng.normal(size=(6, 3)), rng.uniform(0.0, 1.0, 6)
    xs = [float(v) for v in np.linspace(-1.0, 1.0, 4) + rng.uniform(-0.1, 0.1, 4)]
    return xs, float(rng.uniform(0.6, 1.0))


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("seed", range(3))
def test_golden_programs_are_right(case, seed):
    """The pinned code is what the API runs, and its derivative is right: reverse mode
    against central differences, forward mode against reverse mode."""
    fn, options = CASES[case]
    wrt = options.get("wrt", 0)
    args = _inputs(case, np.random.default_rng(seed))
    if options.get("mode") == "forward":
        assert s2s.jvp(fn, wrt=wrt).s2s_source == s2s.source(fn, **options)
        rng = np.random.default_rng(seed + 100)
        pos = wrt if isinstance(wrt, tuple) else (wrt,)
        u = tuple(_random_like(args[p], rng) for p in pos)
        _, t = s2s.jvp(fn, wrt=wrt)(*args, u if isinstance(wrt, tuple) else u[0])
        g = s2s.grad(fn, wrt=wrt)(*args)
        g = g if isinstance(wrt, tuple) else (g,)
        want = sum(_inner(a, b) for a, b in zip(u, g, strict=True))
        np.testing.assert_allclose(t, want, rtol=1e-10)
    else:
        assert s2s.grad(fn, wrt=wrt).s2s_source == s2s.source(fn, **options)
        assert_grad_matches(fn, *args, wrt=wrt)


def _random_like(tree, rng):
    if isinstance(tree, programs.Dense):
        return programs.Dense(_random_like(tree.W, rng), _random_like(tree.b, rng))
    if isinstance(tree, dict):
        return {k: _random_like(v, rng) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_random_like(v, rng) for v in tree]
    return rng.normal(size=np.shape(tree)) if isinstance(tree, np.ndarray) else rng.normal()


def _inner(a, b) -> float:
    la, lb = list(leaves(a)), list(leaves(b))
    assert [p for p, _ in la] == [p for p, _ in lb]
    return sum(float(np.sum(x * y)) for (_, x), (_, y) in zip(la, lb, strict=True))
