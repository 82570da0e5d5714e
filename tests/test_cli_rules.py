"""`s2s-grad` with functions of installed modules, `--rules`, and custom-rule templates that read
their own module's constants (issues 4 and 5)."""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from fd import assert_tree_close, numerical_grad
from hypothesis import given
from hypothesis import strategies as st

import s2s


def _cli(cwd: Path, *args: str, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    # the console script of the Python running the tests (not another install's on PATH)
    exe = Path(sys.executable).parent / "s2s-grad"
    cmd = [str(exe), *args] if exe.exists() else [sys.executable, "-m", "s2s.cli", *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=120)


def _import_file(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))


def _away_from_integers(rng: np.random.Generator, n: int) -> np.ndarray:
    """Points where floor is locally constant, so finite differences see its zero slope."""
    return rng.integers(-3, 3, size=n) + 0.1 + 0.8 * rng.random(n)


# -- 1. a function of an installed module with no rule: its body is differentiated ------------
LIB = {
    "s2s_cli_testlib/__init__.py": "",
    "s2s_cli_testlib/_scale.py": "SCALE = 0.5\n",
    "s2s_cli_testlib/ops.py": """\
        import numpy as np

        from ._scale import SCALE

        TABLE = np.ones(3)


        def floor_ste(x):
            return np.floor(x)


        def smooth(x):
            return np.sin(x) * SCALE


        def uses_table(x):
            return x * TABLE


        def _make():
            def inner(x):
                return x * 2.0

            return inner


        doubled = _make()
        """,
}

LIB_MODEL = """\
    import numpy as np
    import s2s_cli_testlib.ops as ops
    from s2s_cli_testlib.ops import floor_ste


    def loss(a):
        return np.sum(floor_ste(a) ** 3 + ops.smooth(a) * a)
    """


@pytest.fixture(scope="module")
def lib_project(tmp_path_factory):
    root = tmp_path_factory.mktemp("libcase")
    _write(root / "lib", LIB)
    _write(root / "proj", {"m3.py": LIB_MODEL})
    out = root / "clean"
    out.mkdir()
    for name, extra in [("opt", []), ("noopt", ["--no-optimize"]), ("fwd", ["--mode", "forward"])]:
        path = str(out / f"g_{name}.py")
        r = _cli(root / "proj", "m3.py:loss", "-o", path, *extra, pythonpath=root / "lib")
        assert r.returncode == 0, r.stderr
    sys.path.insert(0, str(root / "lib"))
    try:
        live = _import_file(root / "proj" / "m3.py", "s2s_cli_rules_m3")
    finally:
        sys.path.remove(str(root / "lib"))
    written = {n: _import_file(out / f"g_{n}.py", f"s2s_cli_rules_g_{n}") for n in LIB_NAMES}
    return root, live, written


LIB_NAMES = ("opt", "noopt", "fwd")


def test_installed_function_is_read_statically(lib_project):
    root, _, written = lib_project
    text = Path(written["opt"].__file__).read_text()
    assert "def bwd_floor_ste(" in text and "def bwd_smooth(" in text
    assert "s2s_cli_testlib" not in text.split("sha256")[-1]  # the library is not imported
    assert "# s2s_cli_testlib/ops.py sha256 " in text  # hashed, by its module path
    assert "SCALE = 0.5" in text
    assert str(root / "lib") not in text  # no machine-specific path to the library


@given(seed=st.integers(0, 2**32 - 1))
def test_installed_function_gradient_matches_fd_and_api(lib_project, seed):
    _, live, written = lib_project
    rng = np.random.default_rng(seed)
    a = _away_from_integers(rng, 5)
    want = numerical_grad(live.loss, (a,))
    for name in ("opt", "noopt"):
        got = written[name].grad_loss(a)
        assert_tree_close(got, want, a, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(got, s2s.grad(live.loss)(a), rtol=1e-12)
    u = rng.normal(size=5)
    value, tangent = written["fwd"].jvp_loss(a, u)
    assert value == pytest.approx(live.loss(a))
    assert tangent == pytest.approx(np.dot(written["opt"].grad_loss(a), u))


@pytest.mark.parametrize(
    "call, expect, why",
    [
        ("ops.uses_table(a)", "s2s_cli_testlib.ops.uses_table", "'TABLE' is not a literal"),
        ("ops.doubled(a)", "s2s_cli_testlib.ops._make.<locals>.inner", "not a top-level"),
    ],
)
def test_installed_function_that_cannot_be_read_is_refused(lib_project, call, expect, why):
    root, _, _ = lib_project
    (root / "proj" / "bad.py").write_text(
        f"import numpy as np\nimport s2s_cli_testlib.ops as ops\n\n\ndef f(a):\n"
        f"    return np.sum({call})\n"
    )
    for extra in ([], ["--no-optimize"]):
        r = _cli(root / "proj", "bad.py:f", *extra, pythonpath=root / "lib")
        assert r.returncode == 2
        assert "bad.py:6:19: " in r.stderr and expect in r.stderr and why in r.stderr, r.stderr
        assert "Traceback" not in r.stderr and "internal error" not in r.stderr


# -- 2 and 4. --rules for a function of the model's own file or of a sibling module --------------
RULES_BODY = """\
    import s2s
    from s2s import d

    from {module} import floor_ste

    SLOPE = 0.5


    @s2s.adjoint(floor_ste)
    def floor_ste_adjoint(y, x):
        d[x] = SLOPE * d[y]


    @s2s.tangent(floor_ste)
    def floor_ste_tangent(y, x):
        d[y] = SLOPE * d[x]
    """

FLOOR = textwrap.dedent(
    """\
    import numpy as np


    def floor_ste(x):
        return np.floor(x)
    """
)

LAYOUTS = {
    "own": {
        "ste_own_model.py": FLOOR + "\n\ndef loss(a):\n    return np.sum(floor_ste(a) ** 3 * a)\n",
        "ste_own_rules.py": RULES_BODY.format(module="ste_own_model"),
    },
    "sibling": {
        "ste_pkg/__init__.py": "",
        "ste_pkg/ops.py": FLOOR,
        "ste_pkg/model.py": """\
            import numpy as np

            from .ops import floor_ste


            def loss(a):
                return np.sum(floor_ste(a) ** 3 * a)
            """,
        "ste_pkg_rules.py": RULES_BODY.format(module="ste_pkg.ops"),
    },
}
TARGETS = {
    "own": ("ste_own_model.py:loss", "ste_own_rules", "ste_own_model"),
    "sibling": ("ste_pkg/model.py:loss", "ste_pkg_rules", "ste_pkg.model"),
}


@pytest.fixture(scope="module")
def rules_projects(tmp_path_factory):
    """For each layout: the modules written with and without --rules, and the live model with
    the rule registered in this process."""
    out = {}
    for layout, files in LAYOUTS.items():
        root = tmp_path_factory.mktemp(layout)
        _write(root / "proj", files)
        target, rules, model = TARGETS[layout]
        mods = {}
        for name, extra in [
            ("plain", []),
            ("rules", ["--rules", rules]),
            ("fwd", ["--rules", rules, "--mode", "forward"]),
        ]:
            path = root / "clean" / f"g_{layout}_{name}.py"
            r = _cli(root / "proj", target, "-o", str(path), *extra)
            assert r.returncode == 0, r.stderr
            mods[name] = _import_file(path, f"s2s_cli_rules_{layout}_{name}")
        sys.path.insert(0, str(root / "proj"))
        try:
            importlib.import_module(rules)
            live = importlib.import_module(model)
        finally:
            sys.path.remove(str(root / "proj"))
        out[layout] = (mods, live)
    return out


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_rules_change_the_written_gradient(rules_projects, layout):
    mods, _ = rules_projects[layout]
    plain = Path(mods["plain"].__file__).read_text()
    ruled = Path(mods["rules"].__file__).read_text()
    assert "--rules" in ruled and plain != ruled
    a = np.array([1.5, -0.5, 2.25])
    # the body's gradient (floor has slope 0) versus the rule's (slope 0.5)
    np.testing.assert_allclose(mods["plain"].grad_loss(a), np.floor(a) ** 3)
    np.testing.assert_allclose(
        mods["rules"].grad_loss(a), np.floor(a) ** 3 + 1.5 * np.floor(a) ** 2 * a
    )
    assert "0.5 *" in ruled and "SLOPE" not in ruled  # the rule module's constant, copied


@pytest.mark.parametrize("layout", list(LAYOUTS))
@given(seed=st.integers(0, 2**32 - 1))
def test_rules_written_gradient_equals_api(rules_projects, layout, seed):
    mods, live = rules_projects[layout]
    rng = np.random.default_rng(seed)
    a = _away_from_integers(rng, 4)
    want = s2s.grad(live.loss)(a)
    np.testing.assert_allclose(mods["rules"].grad_loss(a), want, rtol=1e-12)
    # without the rule, the written gradient is the body's: finite differences agree
    assert_tree_close(mods["plain"].grad_loss(a), numerical_grad(live.loss, (a,)), a)
    u = rng.normal(size=4)
    value, tangent = mods["fwd"].jvp_loss(a, u)
    assert value == pytest.approx(live.loss(a))
    assert tangent == pytest.approx(np.dot(want, u))


# -- 3. a template that reads its own module's globals (the Python API) ------------------------
def test_template_constant_of_its_own_module_api(tmp_path, monkeypatch):
    _write(
        tmp_path,
        {
            "tplconst_rules.py": """\
                import numpy as np

                import s2s
                from s2s import d

                GAIN = 2.0
                PAIR = (1.0, -1.0)


                def clipped(x):
                    return np.clip(x, -1.0, 1.0)


                @s2s.adjoint(clipped)
                def clipped_adjoint(y, x):
                    d[x] = GAIN * PAIR[0] * d[y]
                """,
            "tplconst_model.py": """\
                import numpy as np

                from tplconst_rules import clipped

                GAIN = 100.0  # not the template's GAIN


                def loss(x):
                    return np.sum(clipped(x) * x)
                """,
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    model = importlib.import_module("tplconst_model")
    x = np.array([0.5, -3.0, 2.0])
    np.testing.assert_allclose(s2s.grad(model.loss)(x), 2.0 * x + np.clip(x, -1, 1))
    source = s2s.source(model.loss)
    assert "GAIN" not in source and "PAIR" not in source and "2.0" in source


def test_template_reading_a_non_constant_global_is_a_rule_error(tmp_path, monkeypatch):
    _write(
        tmp_path,
        {
            "tplbad_rules.py": """\
                import numpy as np

                import s2s
                from s2s import d

                WEIGHTS = np.ones(3)


                def f(x):
                    return x


                @s2s.adjoint(f)
                def f_adjoint(y, x):
                    d[x] = WEIGHTS * d[y]
                """
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(s2s.RuleError) as err:
        importlib.import_module("tplbad_rules")
    msg = str(err.value)
    assert "tplbad_rules.py:15" in msg and "'WEIGHTS'" in msg and "ndarray" in msg
