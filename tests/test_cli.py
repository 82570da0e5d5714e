"""The `s2s-grad` command: static resolution, the written module, --check, --html, errors."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from fd import assert_tree_close, numerical_grad
from hypothesis import given
from hypothesis import strategies as st
from s2s.cli.format import layout
from s2s.cli.main import main

import s2s

LAYERS = """\
import numpy as np

from .consts import EPS

open(__file__ + ".MARKER", "w").write("imported")


def dense(w, x):
    return np.tanh(x @ w) + EPS * x


def scale_of(x):
    return x.shape[0]
"""

CONSTS = "EPS = 0.25\nNAMES = ('a', 'b')\n"

MODEL = '''\
"""A model in a package: its import would write a marker file."""

import math

import numpy as np

from . import layers
from .layers import dense, scale_of

open(__file__ + ".MARKER", "w").write("imported")
SCALE = 0.5


def penalty(w):
    return SCALE * np.sum(w * w)


def loss(w, b, x):
    n = scale_of(x)
    h = dense(w, x) + b
    z = layers.dense(w, h)
    return np.sum(h * h) / n + math.exp(-1.0) * np.sum(z) + penalty(w)


def single(w, b):
    y = np.sin(w) * SCALE + b
    return np.sum(y * y)
'''


def _make_project(root: Path) -> Path:
    pkg = root / "proj" / "pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "layers.py").write_text(LAYERS)
    (pkg / "consts.py").write_text(CONSTS)
    (pkg / "model.py").write_text(MODEL)
    return root / "proj"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return _make_project(tmp_path)


def _markers(root: Path) -> list[Path]:
    return list(root.rglob("*.MARKER"))


def _import_file(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _cli(cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    exe = shutil.which("s2s-grad")
    cmd = [exe, *args] if exe else [sys.executable, "-m", "s2s.cli", *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=120)


def _run(monkeypatch, cwd: Path, *args: str) -> int:
    monkeypatch.chdir(cwd)
    return main(list(args))


def _loss_np(w, b, x):
    h = np.tanh(x @ w) + 0.25 * x + b
    z = np.tanh(h @ w) + 0.25 * h
    return np.sum(h * h) / x.shape[0] + np.exp(-1.0) * np.sum(z) + 0.5 * np.sum(w * w)


# -- the written module ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The module written for two functions, imported from a directory of its own."""
    root = tmp_path_factory.mktemp("written")
    project = _make_project(root)
    out = root / "clean" / "grad_model.py"
    cwd = os.getcwd()
    os.chdir(project)
    try:
        assert (
            main(["pkg/model.py:loss", "pkg/model.py:single", "--wrt", "w,b", "-o", str(out)]) == 0
        )
    finally:
        os.chdir(cwd)
    assert not _markers(project), "the model file must never be imported"
    return _import_file(out, "grad_model_written")


def test_written_module_imports_nothing_of_the_user(written):
    text = Path(written.__file__).read_text()
    assert "pkg" not in {
        line.split()[1].split(".")[0]
        for line in text.splitlines()
        if line.startswith(("import ", "from "))
    }
    assert "from s2s.backends.runtime import" in text
    assert "EPS = 0.25" in text and "SCALE = 0.5" in text
    assert "proj" not in text
    assert "# Regenerate with:" in text and "s2s-grad pkg/model.py:loss" in text
    assert "sha256" in text and s2s.__version__ in text
    assert all(len(line) <= 100 for line in text.splitlines())


@given(seed=st.integers(0, 2**32 - 1))
def test_written_gradient_matches_finite_differences(written, seed):
    rng = np.random.default_rng(seed)
    w, b, x = rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=(4, 3))
    gw, gb = written.grad_loss(w, b, x)
    want = numerical_grad(_loss_np, (w, b, x), wrt=(0, 1))
    assert_tree_close((gw, gb), want, (w, b), rtol=1e-5, atol=1e-6)


def test_written_single_matches_live_grad_and_source(written, tmp_path):
    live_file = tmp_path / "live" / "model.py"
    live_file.parent.mkdir()
    live_file.write_text(
        "import numpy as np\n"
        + "\n" * 9
        + "SCALE = 0.5\n\n\n"
        + MODEL[MODEL.index("def penalty") :]
    )
    # same line numbers as pkg/model.py, so the docstrings match
    assert live_file.read_text().splitlines()[25:28] == MODEL.splitlines()[25:28]
    live = _import_file(live_file, "live_model")
    w, b = np.random.default_rng(1).normal(size=(2, 5))
    got = written.grad_single(w, b)
    want = s2s.grad(live.single, wrt=("w", "b"))(w, b)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    text = Path(written.__file__).read_text()
    assert layout(s2s.source(live.single, wrt=("w", "b"))) in text


# -- byte-identical output, --check ---------------------------------------------------------
def test_deterministic_across_processes(project):
    outs = []
    for seed in ("0", "1"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        r = _cli(project, "pkg/model.py:loss", "--wrt", "w,b", env=env)
        assert r.returncode == 0, r.stderr
        outs.append(r.stdout)
    assert outs[0] == outs[1]
    assert not _markers(project)


def test_check_missing_stale_up_to_date(project, monkeypatch, capsys):
    args = ["pkg/model.py:loss", "-o", "grad_model.py"]
    assert _run(monkeypatch, project, *args, "--check") == 1
    err = capsys.readouterr().err
    assert "missing" in err and err.count("\n") == 1
    assert _run(monkeypatch, project, *args) == 0
    assert _run(monkeypatch, project, *args, "--check") == 0
    model = project / "pkg" / "model.py"
    model.write_text(model.read_text().replace("SCALE = 0.5", "SCALE = 0.75"))
    capsys.readouterr()
    assert _run(monkeypatch, project, *args, "--check") == 1
    err = capsys.readouterr().err
    assert "stale" in err and "pkg/model.py changed" in err and err.count("\n") == 1
    r = _cli(project, *args, "--check")  # the console script too
    assert r.returncode == 1 and "stale" in r.stderr
    assert not _markers(project)


def test_ruff_format_is_a_no_op(project, tmp_path, monkeypatch):
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    out = tmp_path / "fmt" / "grad_model.py"
    assert (
        _run(
            monkeypatch,
            project,
            "pkg/model.py:loss",
            "pkg/model.py:single",
            "--wrt",
            "w,b",
            "-o",
            str(out),
        )
        == 0
    )
    r = subprocess.run(
        [ruff, "format", "--check", "--diff", "--line-length", "100", "--isolated", str(out)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_layout_long_lines_are_ruff_fixed_points(tmp_path):
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    src = textwrap.dedent('''\
        def grad_f(x):
            """Gradient of a_function_with_a_rather_long_name (some_module_file.py:12) with respect to x. Generated by s2s; do not edit."""
            d_a_very_long_name_for_x = d_a_very_long_name_for_x + unbroadcast(d_y_long_name * SCALE_FACTOR_LONGER, x_input)
            _4, _5 = bwd_helper(tape, d_a_very_long_name_for_x, x_input_long_name_here, w_input_long_name_here)
            d_a_very_long_name_for_x = d_a_very_long_name_for_x * d_y_long_name_for_the_y_thing + SCALE_FACTOR * x_input
            # return something_long(a_long_argument_name, another_long_argument_name) + another_function(x)
            y = x[1:n + 1] ** 2 + x[:len(x)] + x['key']
            return (grad_like(d_a_very_long_name_for_x, x_input_long), grad_like(d_w_long_name, w_long_name))
        ''')  # noqa: E501
    out = tmp_path / "long.py"
    out.write_text(layout(src))
    assert all(len(line) <= 100 for line in out.read_text().splitlines())
    r = subprocess.run(
        [ruff, "format", "--check", "--diff", "--line-length", "100", "--isolated", str(out)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr


# -- options -------------------------------------------------------------------------------
def test_out_dir_multiple_files_and_no_optimize(project, tmp_path, monkeypatch):
    (project / "other.py").write_text(
        "import numpy as np\n\n\ndef g(v):\n    return np.sum(np.exp(v) * v)\n"
    )
    gen = tmp_path / "gen"
    assert (
        _run(
            monkeypatch,
            project,
            "pkg/model.py:single",
            "other.py:g",
            "--out-dir",
            str(gen),
            "--no-optimize",
        )
        == 0
    )
    assert sorted(p.name for p in gen.iterdir()) == ["grad_model.py", "grad_other.py"]
    other = _import_file(gen / "grad_other.py", "grad_other_written")
    v = np.random.default_rng(2).normal(size=4)
    g = lambda v: np.sum(np.exp(v) * v)  # noqa: E731
    assert_tree_close(other.grad_g(v), numerical_grad(g, (v,)), v, rtol=1e-6, atol=1e-8)
    optimized = tmp_path / "opt.py"
    assert _run(monkeypatch, project, "other.py:g", "-o", str(optimized)) == 0
    assert optimized.read_text() != (gen / "grad_other.py").read_text()
    assert "--no-optimize" in (gen / "grad_other.py").read_text()


def test_html_review_page(project, tmp_path, monkeypatch):
    page = tmp_path / "review.html"
    assert (
        _run(
            monkeypatch,
            project,
            "pkg/model.py:single",
            "--html",
            str(page),
            "-o",
            str(tmp_path / "g.py"),
        )
        == 0
    )
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and "<script" not in text and "http" not in text
    assert "single" in text and "seed" in text and "sin" in text and "cos" in text
    assert 'class="matched"' in text


def test_examples_mlp(monkeypatch, capsys):
    root = Path(__file__).resolve().parent.parent
    assert _run(monkeypatch, root, "examples/mlp.py:loss", "--wrt", "params") == 0
    text = capsys.readouterr().out
    assert "def grad_loss(params, x, y):" in text


def test_help_and_python_m(project):
    r = subprocess.run(
        [sys.executable, "-m", "s2s.cli", "--help"], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0
    for opt in (
        "--wrt",
        "--mode",
        "-o",
        "--out-dir",
        "--check",
        "--no-optimize",
        "--html",
        "--rules",
        "examples:",
    ):
        assert opt in r.stdout


# -- errors: exit 2, one message with file:line:column, never a traceback --------------------------
@pytest.mark.parametrize(
    "body, expect",
    [
        (
            "def f(x):\n    return np.sum(x * undefined_thing)\n",
            "model2.py:6:23: name 'undefined_thing'",
        ),
        (
            "def f(x):\n    g = lambda v: v * x\n    gs = [g]\n    return gs[0](x)\n",
            "model2.py:7:11: the local function 'g' reads x",
        ),
        ("def f(x):\n    return np.sum(x * TABLE)\n", "'TABLE' is not a literal"),
        ("def f(x):\n    return np.sum(x\n", "syntax error"),
    ],
)
def test_errors_exit_2(project, monkeypatch, capsys, body, expect):
    (project / "model2.py").write_text("import numpy as np\nTABLE = np.ones(3)\n\n\n" + body)
    assert _run(monkeypatch, project, "model2.py:f") == 2
    err = capsys.readouterr().err
    assert expect in err and "Traceback" not in err


@pytest.mark.parametrize(
    "args, expect",
    [
        (["pkg/model.py:nothere"], "defines no function 'nothere'"),
        (["pkg/missing.py:f"], "cannot read pkg/missing.py"),
        (["pkg/model.py:loss", "--wrt", "q"], "names no parameter"),
        (["pkg/model.py"], "FILE.py:FUNCTION"),
        (["pkg/model.py:loss", "--check"], "--check needs"),
        (["pkg/model.py:loss", "--rules", "no_such_rules_module"], "cannot import"),
    ],
)
def test_bad_invocations_exit_2(project, monkeypatch, capsys, args, expect):
    assert _run(monkeypatch, project, *args) == 2
    err = capsys.readouterr().err
    assert expect in err and "Traceback" not in err
    assert not _markers(project)


def test_console_script_error_has_no_traceback(project):
    (project / "bad.py").write_text("import numpy as np\n\n\ndef f(x):\n    return x * nope\n")
    r = _cli(project, "bad.py:f")
    assert r.returncode == 2
    assert "bad.py:5:16: " in r.stderr and "'nope'" in r.stderr and "Traceback" not in r.stderr


@given(seed=st.integers(0, 2**32 - 1))
def test_forward_mode_module_matches_reverse(written, forward_written, seed):
    rng = np.random.default_rng(seed)
    w, b, x = rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=(4, 3))
    tw, tb = rng.normal(size=(3, 3)), rng.normal(size=3)
    value, tangent = forward_written.jvp_loss(w, b, x, tw, tb)
    gw, gb = written.grad_loss(w, b, x)
    np.testing.assert_allclose(value, _loss_np(w, b, x), rtol=1e-12)
    np.testing.assert_allclose(tangent, np.sum(gw * tw) + np.sum(gb * tb), rtol=1e-9)


@pytest.fixture(scope="module")
def forward_written(tmp_path_factory):
    root = tmp_path_factory.mktemp("forward")
    project = _make_project(root)
    out = root / "clean" / "jvp_model.py"
    cwd = os.getcwd()
    os.chdir(project)
    try:
        args = ["pkg/model.py:loss", "--wrt", "w,b", "--mode", "forward", "-o", str(out)]
        assert main(args) == 0
    finally:
        os.chdir(cwd)
    assert not _markers(project)
    return _import_file(out, "jvp_model_written")


LOCAL = """\
import numpy as np


def rk4(f, y, dt):
    k1 = f(y)
    k2 = f(y + 0.5 * dt * k1)
    k3 = f(y + 0.5 * dt * k2)
    k4 = f(y + dt * k3)
    return y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def twice(f, y):
    return f(f(y))


def loss(W, k, y):
    def rhs(v):
        return np.tanh(W @ v) - k * v

    for _ in range(2):
        y = rk4(rhs, y, 0.1)
    y = twice(lambda v: np.sin(v) * 2.0, y)
    return np.sum(rk4(lambda v: -k * v**3, y, 0.2) ** 2)
"""


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_written_module_with_local_functions_and_closures(tmp_path, monkeypatch, mode):
    """The written module defines what the generated code reads of the local functions: a
    lambda lifted (`loss_lambda`), and the class of each closure (`class
    loss_rhs_closure(NamedTuple)` with its `__call__`); it computes what s2s.grad and s2s.jvp
    compute."""
    (tmp_path / "ode.py").write_text(LOCAL)
    out = tmp_path / "written" / "grad_ode.py"
    assert (
        _run(monkeypatch, tmp_path, "ode.py:loss", "--wrt", "W,k", "--mode", mode, "-o", str(out))
        == 0
    )
    text = out.read_text()
    assert "class loss_rhs_closure(NamedTuple):" in text and "def loss_lambda(v):" in text
    written = _import_file(out, f"grad_ode_{mode}")
    live = _import_file(tmp_path / "ode.py", f"ode_live_{mode}")
    rng = np.random.default_rng(3)
    W, y = rng.normal(size=(3, 3)) / 2, rng.normal(size=3)
    if mode == "reverse":
        got = written.grad_loss(W, 0.7, y)
        want = s2s.grad(live.loss, wrt=("W", "k"))(W, 0.7, y)
    else:
        tW = rng.normal(size=(3, 3))
        got = written.jvp_loss(W, 0.7, y, tW, 1.0)
        want = s2s.jvp(live.loss, wrt=("W", "k"))(W, 0.7, y, (tW, 1.0))
        np.testing.assert_allclose(got, want, rtol=1e-12)
        return
    assert_tree_close(got, want, (W, 0.7), rtol=1e-12, atol=1e-14)
