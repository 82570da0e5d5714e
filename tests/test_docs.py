"""The documentation: MkDocs builds strictly, and the generated pages match what s2s does now."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _generator():
    spec = importlib.util.spec_from_file_location(
        "s2s_gen_walkthrough", DOCS / "gen_walkthrough.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mkdocs_build_strict(tmp_path):
    mkdocs = shutil.which("mkdocs")
    if mkdocs is None:
        pytest.skip("mkdocs is not installed (pip install -e '.[docs]')")
    proc = subprocess.run(
        [mkdocs, "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "site" / "how-it-works" / "index.html").exists()


def test_every_page_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text()
    for page in DOCS.glob("*.md"):
        assert f": {page.name}" in nav, f"docs/{page.name} is not in mkdocs.yml's nav"


def test_generated_pages_are_up_to_date(capsys):
    status = _generator().main(["--check"])
    assert status == 0, capsys.readouterr().out


def test_walkthrough_shows_the_real_code():
    """The page's step 4 block is s2s.source of the model, byte for byte."""
    import s2s

    gen = _generator()
    model = gen._load(DOCS / "walkthrough_model.py", "walkthrough_model").model
    page = (DOCS / "how-it-works.md").read_text()
    assert gen._block(s2s.source(model)) in page
    assert gen._block(s2s.source(model, mode="forward")) in page


def test_supported_page_lists_a_real_error_for_each_construct():
    page = (DOCS / "supported.md").read_text()
    gen = _generator()
    assert page.count("` raises:") == len(gen.UNSUPPORTED)
    assert "(no error" not in page
    assert "hint:" in page


def test_docs_index_lists_every_example():
    index = (DOCS / "index.md").read_text()
    readme = (ROOT / "README.md").read_text()
    for script in (ROOT / "examples").glob("*.py"):
        if script.name.startswith(("_", "grad_")) or script.name in ("regenerate.py", "mlp.py"):
            continue
        assert script.name in index, f"docs/index.md does not mention examples/{script.name}"
        assert script.name in readme, f"README.md does not mention examples/{script.name}"


def test_generator_runs_as_a_script(tmp_path):
    proc = subprocess.run(
        [sys.executable, "docs/gen_walkthrough.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
