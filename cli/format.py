"""Lay out generated source the way `ruff format` (line length 100) leaves it.

`ast.unparse` output is already close: this fixes quotes (double, unless that needs escapes),
wraps long docstrings and `# <primal line>` comments, and splits the rare statement longer than
100 columns with a magic trailing comma, a layout ruff keeps as it is. Deterministic and
independent of whether ruff is installed.
"""

from __future__ import annotations

import ast
import io
import keyword
import textwrap
import tokenize

LINE = 100


def double_quotes(source: str) -> str:
    """Single-quoted one-line strings become double-quoted when that adds no escape."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    lines = source.splitlines(keepends=True)
    edits: list[tuple[int, int, int, str]] = []
    for tok in tokens:
        if tok.type != tokenize.STRING:
            continue
        text = tok.string
        prefix_len = len(text) - len(text.lstrip("rbuRBU"))
        prefix, body = text[:prefix_len], text[prefix_len:]
        if body.startswith("'''") or not body.startswith("'") or tok.start[0] != tok.end[0]:
            continue
        inner = body[1:-1]
        if '"' in inner or "\\'" in inner:
            continue
        edits.append((tok.start[0], tok.start[1], tok.end[1], f'{prefix}"{inner}"'))
    for row, c0, c1, new in sorted(edits, reverse=True):
        line = lines[row - 1]
        lines[row - 1] = line[:c0] + new + line[c1:]
    return "".join(lines)


def _simple_power_operands(source: str) -> str:
    """`a ** 2` -> `a**2` where both operands are simple (names, numbers, attribute chains)."""
    toks = list(tokenize.generate_tokens(io.StringIO(source).readline))
    edits = []
    for i, tok in enumerate(toks):
        if tok.type != tokenize.OP or tok.string != "**":
            continue
        j = i - 1
        if toks[j].type not in (tokenize.NAME, tokenize.NUMBER) or keyword.iskeyword(
            toks[j].string
        ):
            continue
        while toks[j - 1].string == "." and toks[j - 2].type == tokenize.NAME:
            j -= 2
        if toks[j - 1].string == "." or toks[j - 1].type == tokenize.NUMBER:
            continue
        k = i + 1
        if toks[k].string == "-":
            k += 1
        if toks[k].type not in (tokenize.NAME, tokenize.NUMBER) or keyword.iskeyword(
            toks[k].string
        ):
            continue
        while toks[k + 1].string == "." and toks[k + 2].type == tokenize.NAME:
            k += 2
        if toks[k + 1].string in ("(", "[", "."):
            continue
        if tok.start[0] == toks[i - 1].end[0] == toks[i + 1].start[0]:
            edits.append((tok.start[0], toks[i - 1].end[1], toks[i + 1].start[1]))
    lines = source.splitlines(keepends=True)
    for row, c0, c1 in sorted(edits, reverse=True):
        line = lines[row - 1]
        lines[row - 1] = line[:c0] + "**" + line[c1:]
    return "".join(lines)


def _is_simple(tokens: list) -> bool:
    """A slice bound ruff writes without spaces: a name or number, possibly negated."""
    body = tokens[1:] if tokens and tokens[0].string in ("-", "+", "~") else tokens
    return len(body) <= 1 and all(t.type in (tokenize.NAME, tokenize.NUMBER) for t in body)


def _slice_spaces(source: str) -> str:
    """`x[: len(t)]`: ruff spaces a slice's colons when a bound is not a name or number."""
    toks = [
        t
        for t in tokenize.generate_tokens(io.StringIO(source).readline)
        if t.type not in (tokenize.NL, tokenize.COMMENT)
    ]
    edits = []
    stack: list[tuple[int, list[int]]] = []  # (index of a bracket, its top-level separators)
    for i, t in enumerate(toks):
        if t.type != tokenize.OP:
            continue
        if t.string in "([{":
            stack.append((i, []))
        elif t.string in ")]}" and stack:
            start, seps = stack.pop()
            if t.string != "]" or not any(toks[c].string == ":" for c in seps):
                continue
            elements: list[list[int]] = [[start]]
            for c in seps:
                if toks[c].string == ",":
                    elements[-1].append(c)
                    elements.append([c])
                else:
                    elements[-1].append(c)
            elements[-1].append(i)
            for bounds in elements:
                colons = bounds[1:-1]
                if not colons:
                    continue
                parts = [toks[a + 1 : b] for a, b in zip(bounds, bounds[1:], strict=False)]
                if all(_is_simple(p) for p in parts):
                    continue
                for c in colons:
                    before = toks[c - 1].string not in ("[", ":", ",")
                    after = toks[c + 1].string not in ("]", ":", ",")
                    text = (" " if before else "") + ":" + (" " if after else "")
                    edits.append((toks[c - 1].end, toks[c + 1].start, text))
        elif t.string in (":", ",") and stack and toks[stack[-1][0]].string == "[":
            stack[-1][1].append(i)
    lines = source.splitlines(keepends=True)
    for (r0, c0), (r1, c1), text in sorted(edits, reverse=True):
        if r0 == r1:
            lines[r0 - 1] = lines[r0 - 1][:c0] + text + lines[r0 - 1][c1:]
    return "".join(lines)


def _wrap_comment(line: str) -> list[str]:
    indent = line[: len(line) - len(line.lstrip())]
    text = line.strip()[2:]
    width = LINE - len(indent) - 2
    parts = textwrap.wrap(
        text, width=width, subsequent_indent="    ", break_long_words=False, break_on_hyphens=False
    )
    return [f"{indent}# {p}" for p in parts] or [line]


def _wrap_docstring(line: str) -> list[str]:
    indent = line[: len(line) - len(line.lstrip())]
    body = line.strip()[3:-3]
    parts = textwrap.wrap(
        body, width=LINE - len(indent) - 6, break_long_words=False, break_on_hyphens=False
    )
    parts[0] = '"""' + parts[0]
    parts[-1] = parts[-1] + '"""'
    return [indent + p for p in parts]


def _arg_texts(line: str, call: ast.Call) -> list[str]:
    texts = []
    for a in list(call.args) + list(call.keywords):
        texts.append(line[a.col_offset : a.end_col_offset])
    return texts


def _split_statement(line: str) -> list[str] | None:
    """A long simple statement laid out over several lines, or None."""
    indent = line[: len(line) - len(line.lstrip())]
    code = line.strip()
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    if len(tree.body) != 1:
        return None
    stmt = tree.body[0]
    value = getattr(stmt, "value", None)
    if not isinstance(stmt, (ast.Assign, ast.Return, ast.Expr, ast.AugAssign)) or value is None:
        return None
    inner = indent + "    "
    last = value
    while True:
        if isinstance(last, ast.BinOp):
            last = last.right
        elif isinstance(last, ast.UnaryOp):
            last = last.operand
        elif isinstance(last, ast.Compare):
            last = last.comparators[-1]
        elif isinstance(last, ast.BoolOp):
            last = last.values[-1]
        else:
            break
    if (
        isinstance(stmt, ast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], ast.Tuple)
        and code[stmt.targets[0].col_offset] != "("
    ):  # a, b, ... = value: the targets in parentheses, one per line
        elts = [code[e.col_offset : e.end_col_offset] for e in stmt.targets[0].elts]
        tail = ") = " + code[value.col_offset :]
        if all(len(inner + e) < LINE for e in elts) and len(indent + tail) <= LINE:
            return [indent + "("] + [f"{inner}{e}," for e in elts] + [indent + tail]
    if (
        isinstance(last, ast.Call)
        and last.end_col_offset == len(code)
        and len(last.args) == 1
        and not last.keywords
        and isinstance(last.args[0], ast.Tuple)
        and code[last.args[0].col_offset] == "("
    ):  # f((a, b, ...)): the tuple on its own lines inside the call's
        head = code[: last.func.end_col_offset] + "("
        inner2 = inner + "    "
        elts = [code[e.col_offset : e.end_col_offset] for e in last.args[0].elts]
        if len(indent + head) <= LINE and all(len(inner2 + e) < LINE for e in elts):
            return (
                [indent + head, inner + "("]
                + [f"{inner2}{e}," for e in elts]
                + [inner + ")", indent + ")"]
            )
    if (
        isinstance(last, ast.Call)
        and last.end_col_offset == len(code)
        and (last.args or last.keywords)
    ):
        head = code[: last.func.end_col_offset] + "("
        args = _arg_texts(code, last)
        if len(indent + head) <= LINE and all(len(inner + a) < LINE for a in args):
            return [indent + head] + [f"{inner}{a}," for a in args] + [indent + ")"]
    if isinstance(value, ast.Tuple) and code.endswith(")") and code[value.col_offset] == "(":
        head = code[: value.col_offset + 1]
        elts = [code[e.col_offset : e.end_col_offset] for e in value.elts]
        if all(len(inner + e) < LINE for e in elts):
            return [indent + head] + [f"{inner}{e}," for e in elts] + [indent + ")"]
    rhs = code[value.col_offset : value.end_col_offset]
    if value.end_col_offset == len(code) and len(inner + rhs) <= LINE and value.col_offset > 0:
        return [indent + code[: value.col_offset] + "(", inner + rhs, indent + ")"]
    return None


def layout(source: str) -> str:
    """`source` (generated code) laid out for line length 100, ruff-format style."""
    source = _slice_spaces(_simple_power_operands(double_quotes(source)))
    out: list[str] = []
    for line in source.splitlines():
        stripped = line.strip()
        if len(line) <= LINE:
            out.append(line)
        elif stripped.startswith("#"):
            out.extend(_wrap_comment(line))
        elif line.startswith("from ") and " import " in line and "(" not in line:
            head, names = line.split(" import ", 1)
            out.append(f"{head} import (")
            out.extend(f"    {n.strip()}," for n in names.split(","))
            out.append(")")
        elif stripped.startswith('"""') and stripped.endswith('"""') and len(stripped) > 6:
            out.extend(_wrap_docstring(line))
        else:
            out.extend(_split_statement(line) or [line])
    return "\n".join(out) + "\n"


__all__ = ["LINE", "double_quotes", "layout"]
