"""`--html`: a self-contained review page, each primal line beside the code that reverses it."""

from __future__ import annotations

import html
from typing import Any

from s2s.static import static_source

from .module import Built, Piece

_CSS = """
body { font-family: sans-serif; margin: 1.5em; color: #222; background: #fff; }
h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin-top: 2em; }
table.review { border-collapse: collapse; width: 100%; table-layout: fixed; }
table.review th { text-align: left; background: #eef; padding: 4px 8px; }
table.review td { vertical-align: top; border-top: 1px solid #ddd; padding: 2px 8px; }
th.no, td.no { width: 3em; color: #888; text-align: right; font-family: monospace; }
pre { margin: 0; font-family: monospace; font-size: 13px; white-space: pre-wrap; }
td pre { background: transparent; line-height: 1.35; }
td.primal { background: #fafaf5; } td.adjoint { background: #f5f8fc; }
tr.matched td.primal { background: #fff6d5; }
p.note { color: #555; font-size: 0.9em; }
"""


def _highlighter() -> tuple[Any, str]:
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return (lambda code: html.escape(code)), ""
    fmt = HtmlFormatter(nowrap=True)
    lexer = PythonLexer()
    return (lambda code: highlight(code, lexer, fmt).rstrip("\n")), fmt.get_style_defs("pre")


def _blocks(text: str) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """Split a generated function into its leading part and (comment, lines) blocks."""
    lines = text.rstrip("\n").splitlines()
    lead: list[str] = []
    blocks: list[tuple[str, list[str]]] = []
    i = 0
    while i < len(lines):
        s = lines[i].strip()
        if s.startswith("# ") and not s.startswith("#     "):
            head = s[2:]
            i += 1
            while i < len(lines) and lines[i].strip().startswith("#     "):
                head += " " + lines[i].strip()[6:]
                i += 1
            blocks.append((head, []))
            continue
        (blocks[-1][1] if blocks else lead).append(lines[i])
        i += 1
    return lead, blocks


def _primal_of(piece: Piece) -> Any:
    name = piece.name
    for prefix in ("grad_", "fwd_", "bwd_", "value_and_grad_", "jvp_"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    for cand in (name, name.rsplit("_", 1)[0]):
        if cand in piece.owner.function_names():
            return static_source(piece.owner.function(cand))
    return None


def _section(piece: Piece, hl: Any) -> str:
    info = _primal_of(piece)
    lead, blocks = _blocks(piece.text)
    out = [f"<h2>{html.escape(piece.name)}</h2>"]
    if info is None:
        out.append(f"<pre>{hl(piece.text)}</pre>")
        return "\n".join(out)
    primal = info.source.rstrip("\n").splitlines()
    by_line: dict[int, list[str]] = {}
    unmatched: list[str] = []
    last = len(primal) + 1
    for head, body in blocks:
        cands = [k for k, line in enumerate(primal, start=1) if line.strip() == head]
        if not cands:
            unmatched += ["# " + head, *body]
            continue
        below = [k for k in cands if k <= last]
        k = max(below) if below else max(cands)
        last = k
        by_line.setdefault(k, []).extend(["# " + head, *body])
    out.append(
        '<table class="review"><tr><th class="no"></th>'
        f"<th>primal: {html.escape(info.filename)}</th>"
        f"<th>{html.escape(piece.name)}: the code that reverses each line</th></tr>"
    )
    first = lead + unmatched
    if first:
        out.append(
            '<tr><td class="no"></td><td class="primal"><pre><i>(forward sweep and '
            f'setup)</i></pre></td><td class="adjoint"><pre>{hl(_dedent(first))}'
            "</pre></td></tr>"
        )
    for k, line in enumerate(primal, start=1):
        adj = by_line.get(k)
        cls = ' class="matched"' if adj else ""
        right = hl(_dedent(adj)) if adj else ""
        out.append(
            f'<tr{cls}><td class="no">{info.first_lineno + k - 1}</td>'
            f'<td class="primal"><pre>{hl(line) if line.strip() else ""}</pre></td>'
            f'<td class="adjoint"><pre>{right}</pre></td></tr>'
        )
    out.append("</table>")
    return "\n".join(out)


def _dedent(lines: list[str]) -> str:
    indents = [len(x) - len(x.lstrip()) for x in lines if x.strip()]
    cut = min(indents) if indents else 0
    return "\n".join(x[cut:] for x in lines)


def review_page(builts: list[Built]) -> str:
    """The HTML page for every generated function of `builts` (no scripts, no network)."""
    hl, style = _highlighter()
    sections = [_section(p, hl) for b in builts for p in b.pieces]
    title = "s2s-grad review: " + ", ".join(
        f"{t.path}:{t.function}" for b in builts for t, _ in b.targets
    )
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}\n{style}</style></head>\n<body>"
        f'<h1>{html.escape(title)}</h1>\n<p class="note">Left: the primal function. Right: '
        "the generated code; each adjoint block sits beside the primal line it reverses."
        "</p>\n" + "\n".join(sections) + "\n</body></html>\n"
    )


__all__ = ["review_page"]
