"""The documentation: MkDocs builds strictly, and the generated pages match what s2s does now."""

from __future__ import annotations

import importlib.util
import re
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
        [mkdocs, "build", "--strict", "-d", str(tmp_path / "site")],
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


def _mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess:
    """`mkdocs build --strict` with this interpreter's mkdocs (the `test` extra installs it).

    Not `-q`: mkdocs 1.6 counts the warnings that fail a strict build only when they are logged,
    so `--strict -q` passes with broken links."""
    pytest.importorskip("mkdocs", reason="mkdocs is not installed (pip install -e '.[test]')")
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config)]
        + ["-d", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_mkdocs_strict_build_with_this_python(tmp_path):
    proc = _mkdocs_build(ROOT / "mkdocs.yml", tmp_path / "site")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for page in DOCS.glob("*.md"):
        name = "index.html" if page.stem == "index" else f"{page.stem}/index.html"
        assert (tmp_path / "site" / name).exists(), name


def test_strict_build_fails_on_broken_links_and_orphan_pages(tmp_path):
    """The build is strict for real: each broken link, anchor or page left out of the nav is
    reported, and the build fails."""
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs)
    bad = ["no-such-page.md", "architecture.md#no-such-heading", "/absolute/page.md"]
    links = "".join(f"\n[x]({target})\n" for target in bad)
    (docs / "index.md").write_text((DOCS / "index.md").read_text() + links)
    (docs / "orphan.md").write_text("# Orphan\n")
    config = tmp_path / "mkdocs.yml"
    config.write_text(
        (ROOT / "mkdocs.yml").read_text().replace("docs_dir: docs", f"docs_dir: {docs}")
    )
    proc = _mkdocs_build(config, tmp_path / "site")
    assert proc.returncode != 0
    for says in [*bad, "orphan.md"]:
        assert says.split("#")[-1] in proc.stdout + proc.stderr, says


def _fenced(page: str) -> list[tuple[str, str]]:
    """(language, code) of every fenced block of a Markdown page, in order."""
    return re.findall(r"^```(\w*)\n(.*?)^```$", page, flags=re.S | re.M)


def test_custom_rules_page_runs(tmp_path, monkeypatch, capsys):
    """Every block of docs/custom-rules.md is real: the `# file:` blocks are written out, the
    `s2s-grad` commands run as they are written, the other Python blocks run in order as one
    module (their asserts check the gradients the page states), and the report the page shows
    is what `check_grad` prints."""
    page = (DOCS / "custom-rules.md").read_text()
    blocks = _fenced(page)
    main, commands, texts = [], [], []
    for lang, code in blocks:
        if lang == "python" and code.startswith("# file: "):
            path = tmp_path / code.splitlines()[0][len("# file: ") :]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(code)
        elif lang == "python":
            main.append(code)
        elif lang == "sh":
            commands += [line.split() for line in code.splitlines() if line.strip()]
        else:
            assert lang == "text", f"a ```{lang} block on the page is not checked"
            texts.append(code)
    assert len(main) >= 8 and commands and texts
    script = Path(sys.executable).parent / "s2s-grad"
    for words in commands:
        assert words[0] == "s2s-grad"
        exe = [str(script)] if script.exists() else [sys.executable, "-m", "s2s.cli"]
        proc = subprocess.run(
            exe + words[1:], cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0, proc.stderr
    (tmp_path / "custom_rules_page.py").write_text("\n\n".join(main))
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        spec = importlib.util.spec_from_file_location(
            "custom_rules_page", tmp_path / "custom_rules_page.py"
        )
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    finally:
        for name in [m for m in sys.modules if m.split(".")[0] in ("mylib", "grad_model")]:
            del sys.modules[name]
    printed = capsys.readouterr().out
    for text in texts:
        for line in text.splitlines():
            assert line.split("...")[0] in printed, line


def test_classes_page_runs(tmp_path, monkeypatch, capsys):
    """docs/classes.md is real: its Python blocks run in order as one module
    (`classes_page.py`; their asserts check what the page states), and each line of the
    generated code it shows is a line of what `print(s2s.source(loss))` prints."""
    blocks = _fenced((DOCS / "classes.md").read_text())
    main = [code for lang, code in blocks if lang == "python"]
    texts = [code for lang, code in blocks if lang == "text"]
    assert {lang for lang, _ in blocks} == {"python", "text"} and len(main) >= 3 and texts
    (tmp_path / "classes_page.py").write_text("\n\n".join(main))
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        spec = importlib.util.spec_from_file_location("classes_page", tmp_path / "classes_page.py")
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    finally:
        sys.modules.pop("classes_page", None)
    printed = capsys.readouterr().out.splitlines()
    for text in texts:
        for line in text.splitlines():
            assert line in printed, line
