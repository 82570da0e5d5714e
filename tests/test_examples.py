"""The example scripts: each runs in --quick mode, each loss's gradient matches finite
differences, each generated gradient module (examples/grad_*.py) is up to date and computes the
same gradient as s2s.grad."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from fd import assert_grad_matches, assert_tree_close

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SCRIPTS = [
    "logistic_regression",
    "mlp_digits",
    "autoencoder",
    "rnn",
    "lstm",
    "rnn_clipping",
    "tree_loss",
    "recursion_and_while",
    "newton_cg",
    "physics",
]


def load(name: str, monkeypatch: pytest.MonkeyPatch):
    """Import examples/<name>.py (its directory on sys.path, as when run as a script)."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"s2s_example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # s2s resolves calls through it
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------------------------
# Every script runs in quick mode and reports a sensible result.


@pytest.mark.parametrize("name", SCRIPTS)
def test_quick_mode_runs(name, monkeypatch, capsys):
    if name == "newton_cg":
        pytest.importorskip("scipy", reason="newton_cg.py drives scipy.optimize (extra: examples)")
    module = load(name, monkeypatch)
    start = time.perf_counter()
    result = module.main(["--quick"])
    elapsed = time.perf_counter() - start
    out = capsys.readouterr().out
    assert np.isfinite(result), out
    assert out.strip(), "the example printed nothing"
    # < 5 s each on an idle machine; the bound is loose so a busy CI machine does not flake
    assert elapsed < 20.0, f"{name} --quick took {elapsed:.1f} s"


def test_recursion_and_while_agree_with_hand_derivatives(monkeypatch, capsys):
    module = load("recursion_and_while", monkeypatch)
    assert module.main(["--quick"]) < 1e-9


def test_newton_cg_converges(monkeypatch, capsys):
    pytest.importorskip("scipy", reason="newton_cg.py drives scipy.optimize (extra: examples)")
    module = load("newton_cg", monkeypatch)
    assert module.main(["--quick"]) < 1e-6


def test_mlp_script_still_trains():
    """examples/mlp.py, the README's main job: prints the gradient source and a falling loss."""
    proc = subprocess.run(
        [sys.executable, "examples/mlp.py"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "def grad_loss(params, x, y):" in proc.stdout
    losses = [
        float(line.split()[-1]) for line in proc.stdout.splitlines() if line.startswith("step ")
    ]
    assert len(losses) == 5 and losses[-1] < 0.5 * losses[0]


def test_digits_fall_back_without_sklearn(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    module = load("logistic_regression", monkeypatch)
    acc = module.main(["--quick"])
    out = capsys.readouterr().out
    assert "scikit-learn is not installed" in out and "synthetic" in out
    assert 0.0 <= acc <= 1.0


def test_plot_written_when_asked(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    module = load("physics", monkeypatch)
    png = tmp_path / "loss.png"
    module.main(["--quick", "--plot", str(png)])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    module = load("physics", monkeypatch)
    png = tmp_path / "loss.png"
    module.main(["--quick", "--plot", str(png)])
    assert "matplotlib is not installed" in capsys.readouterr().out
    assert not png.exists()


def test_no_plot_unless_asked(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    module = load("rnn", monkeypatch)
    module.main(["--quick"])
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# Each example's loss: s2s's gradient against central finite differences (float64, random
# inputs, small sizes), and the generated module examples/grad_<name>.py against s2s.grad.


def _onehot(rng, n, k):
    y = np.zeros((n, k))
    y[np.arange(n), rng.integers(0, k, n)] = 1.0
    return y


def _problem(name, module, rng):
    """(function, args, wrt) at a small size."""
    if name == "logistic_regression":
        p = {"W": rng.normal(size=(4, 3)), "b": rng.normal(size=3)}
        return module.loss, (p, rng.normal(size=(5, 4)), _onehot(rng, 5, 3), 0.01), "params"
    if name in ("mlp_digits", "mlp"):
        p = {
            "W1": rng.normal(size=(4, 6)),
            "b1": rng.normal(size=6),
            "W2": rng.normal(size=(6, 3)),
            "b2": rng.normal(size=3),
        }
        y = _onehot(rng, 5, 3) if name == "mlp_digits" else rng.normal(size=(5, 3))
        return module.loss, (p, rng.normal(size=(5, 4)), y), "params"
    if name == "autoencoder":
        p = {"W": rng.normal(size=(4, 3)), "b_hidden": rng.normal(size=3)}
        p["b_visible"] = rng.normal(size=4)
        return module.loss, (p, rng.random((5, 4)), 0.01), "params"
    if name in ("rnn", "rnn_clipping"):
        xs, ys = module.batch_of(rng, 4, 3)
        return module.loss, (module.init(rng, 3), xs, ys), "params"
    if name == "lstm":
        xs, ys = module.batch_of(rng, 4, 3)
        return module.loss, (module.init(rng, 1, 3), xs, ys), "params"
    if name == "tree_loss":
        fam = module.membership(module.FAMILY_OF_DIGIT, 3)
        levels = [fam, fam @ module.membership(module.GROUP_OF_FAMILY, 2)]
        p = {"W": rng.normal(size=(4, 10)), "b": rng.normal(size=10)}
        return (
            module.loss,
            (p, rng.normal(size=(6, 4)), _onehot(rng, 6, 10), levels, [0.5, 0.3]),
            ("params"),
        )
    if name == "newton_cg":
        return module.rosenbrock, (rng.uniform(-1.0, 1.0, 5),), 0
    if name == "physics":
        v0 = rng.uniform(3.0, 6.0, 2)
        return module.loss, (v0, np.array([5.0, 0.0]), 0.01, 50, 0.1), "v0"
    raise AssertionError(name)


FD_CASES = [s for s in SCRIPTS if s != "recursion_and_while"] + ["mlp"]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name", FD_CASES)
def test_example_loss_gradient_matches_finite_differences(name, seed, monkeypatch):
    module = load(name, monkeypatch)
    f, args, wrt = _problem(name, module, np.random.default_rng(seed))
    assert_grad_matches(f, *args, wrt=wrt, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("seed", [0, 1])
def test_recursion_and_while_gradients_match_finite_differences(seed, monkeypatch):
    module = load("recursion_and_while", monkeypatch)
    rng = np.random.default_rng(seed)
    assert_grad_matches(module.polynomial, float(rng.uniform(-2, 2)), rng.normal(size=5))
    m, e = float(rng.uniform(0.2, 3.0)), float(rng.uniform(0.1, 0.8))
    assert_grad_matches(module.kepler, m, e, 1e-13, wrt=(0, 1), rtol=1e-6)


def _generated(name: str):
    spec = importlib.util.spec_from_file_location(f"s2s_grad_{name}", EXAMPLES / f"grad_{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", FD_CASES)
def test_generated_module_matches_live_gradient(name, monkeypatch):
    import s2s

    module = load(name, monkeypatch)
    f, args, wrt = _problem(name, module, np.random.default_rng(7))
    generated = getattr(_generated(name), f"grad_{f.__name__}")
    want = s2s.grad(f, wrt=wrt)(*args)
    assert_tree_close(generated(*args), want, want, rtol=1e-12, atol=1e-14)


def test_generated_recursion_and_while_match_live_gradient(monkeypatch):
    import s2s

    module = load("recursion_and_while", monkeypatch)
    generated = _generated("recursion_and_while")
    c = np.array([0.5, -1.0, 2.0, 0.25])
    assert generated.grad_polynomial(0.7, c) == pytest.approx(s2s.grad(module.polynomial)(0.7, c))
    assert generated.grad_kepler(1.1, 0.5, 1e-13) == pytest.approx(
        s2s.grad(module.kepler)(1.1, 0.5, 1e-13)
    )


# ---------------------------------------------------------------------------------------------
# The generated files are up to date: `s2s-grad ... --check` on each.


def _targets():
    sys.path.insert(0, str(EXAMPLES))
    try:
        spec = importlib.util.spec_from_file_location("s2s_regen", EXAMPLES / "regenerate.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(EXAMPLES))
    return module


REGEN = _targets()


@pytest.mark.parametrize("target", REGEN.TARGETS, ids=[t[3] for t in REGEN.TARGETS])
def test_generated_gradient_file_is_up_to_date(target, monkeypatch, capsys):
    from s2s.cli.main import main

    monkeypatch.chdir(ROOT)
    args = REGEN.command(*target)
    code = main([*args, "--check"])
    err = capsys.readouterr().err
    assert code == 0, f"{err.strip()}\n(regenerate them all: python examples/regenerate.py)"


def test_every_example_has_a_generated_file():
    listed = {Path(t[0]).stem for t in REGEN.TARGETS}
    assert listed == set(SCRIPTS) | {"mlp"}
    assert {p.name for p in EXAMPLES.glob("grad_*.py")} == {f"grad_{n}.py" for n in listed}


def test_check_fails_when_an_example_changes(tmp_path, monkeypatch, capsys):
    """The --check test above can fail: an edited model makes its grad file stale."""
    from s2s.cli.main import main

    (tmp_path / "examples").mkdir()
    src = (EXAMPLES / "newton_cg.py").read_text()
    (tmp_path / "examples" / "newton_cg.py").write_text(src.replace("100.0", "50.0"))
    (tmp_path / "examples" / "grad_newton_cg.py").write_text(
        (EXAMPLES / "grad_newton_cg.py").read_text()
    )
    monkeypatch.chdir(tmp_path)
    assert main(REGEN.command(*REGEN.TARGETS[-2]) + ["--check"]) == 1
    assert "stale" in capsys.readouterr().err
