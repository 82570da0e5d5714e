"""Stage 6: gast -> Python source text, with comments naming primal lines, temporaries
renumbered in order of appearance, and compilation into live functions."""

from __future__ import annotations

import ast
import re
from typing import Any

import gast

from .nodes import clone, names, node_fields

_MARK = "__s2s_comment__:"
_TEMP = re.compile(r"^([dt])?_(\d+)$")


def comment(text: str) -> gast.Expr:
    return gast.Expr(value=gast.Constant(value=_MARK + text, kind=None))


def add_comments(stmts: list, lines: Any, *, top: bool = True) -> list:
    """Head each run of statements from one primal line with `# <that line>`."""
    out: list = []
    last = object()
    for s in stmts:
        line = getattr(s, "s2s_line", None)
        if isinstance(s, (gast.If, gast.For, gast.While)):
            s.body = add_comments(s.body, lines, top=False)
            if getattr(s, "orelse", None):
                s.orelse = add_comments(s.orelse, lines, top=False)
        if line is not None and line != last:
            text = lines(line)
            if text:
                out.append(comment(text))
        if line is not None:  # (a push or pop of no line leaves the run going on)
            last = line
        out.append(s)
    return out


def renumber(fns: list[gast.FunctionDef], keep: list | None = None) -> list[list[gast.Name]]:
    """Rename temporaries `_k` (and their adjoints `d_k`) to `_1, _2, ...` in order of first
    appearance, across the given functions. `keep[i]`: names of the source of `fns[i]` that
    look like temporaries but are its own (a generated gradient differentiated again): their
    numbers stay, new temporaries are numbered after them. Returns the `Name` nodes of each
    function."""
    seen: set[int] = set()  # ids of the Name nodes of the functions before
    all_found = []
    for fn in fns:
        found = names(fn)
        ids = {id(n) for n in found}
        if len(ids) < len(found) or not ids.isdisjoint(seen):
            # a node shared with another function (or twice in this one) would be renamed
            # twice: this function gets its own copy, before any is renamed
            fn.args = clone(fn.args)
            fn.body = clone(fn.body)
            found = names(fn)
            ids = {id(n) for n in found}
        seen |= ids
        all_found.append(found)
    for i, (fn, found) in enumerate(zip(fns, all_found, strict=True)):
        fixed = {m.group(2) for v in (keep[i] if keep else ()) if (m := _TEMP.match(v))}
        mapping: dict[str, str] = {k: k for k in fixed}
        last = max((int(k) for k in fixed), default=0)
        seen_ids: set[str] = set()  # (a name seen again adds nothing to the mapping)
        for node in _ordered_names(fn):
            if node in seen_ids:
                continue
            seen_ids.add(node)
            m = _TEMP.match(node)
            if m and m.group(2) not in mapping:
                last += 1
                mapping[m.group(2)] = str(last)
        renamed: dict[str, str | None] = {}  # old name -> new name (None: not a temporary)
        for n in found:
            new = renamed.get(n.id, "")
            if new == "":
                m = _TEMP.match(n.id)
                new = renamed[n.id] = f"{m.group(1) or ''}_{mapping[m.group(2)]}" if m else None
            if new is not None:
                n.id = new
    return all_found


def _ordered_names(fn: Any):
    """Names in source order (ast.walk is breadth-first; this is depth-first, textual)."""
    out = []

    def visit(node: Any) -> None:
        cls = node.__class__
        if cls is gast.Name:
            out.append(node.id)
            return
        if cls is gast.Assign:
            visit(node.value)  # the value is written after the target, but read first
            for t in node.targets:
                visit(t)
            return
        for field in node_fields(cls):  # (operators and contexts hold no name)
            value = getattr(node, field, None)
            if isinstance(value, gast.AST):
                visit(value)
            elif value.__class__ is list:
                for x in value:
                    if isinstance(x, gast.AST):
                        visit(x)

    # statements in order; within an assignment the target first, as it reads
    def visit_stmt(node: Any) -> None:
        if isinstance(node, gast.Assign):
            for t in node.targets:
                visit(t)
            visit(node.value)
            return
        if isinstance(node, (gast.If, gast.While)):
            visit(node.test)
            for s in node.body:
                visit_stmt(s)
            for s in node.orelse:
                visit_stmt(s)
            return
        if isinstance(node, gast.For):
            visit(node.target)
            visit(node.iter)
            for s in node.body:
                visit_stmt(s)
            return
        visit(node)

    visit(fn.args)
    for s in fn.body:
        visit_stmt(s)
    return out


def to_source(node: Any) -> str:
    text = ast.unparse(to_ast(node))
    out_lines = []
    for line in text.splitlines():
        if _MARK not in line:  # (no comment on this line: the test below is False)
            out_lines.append(line)
            continue
        stripped = line.strip()
        if stripped.startswith(("'" + _MARK, '"' + _MARK)):
            indent = line[: len(line) - len(line.lstrip())]
            body = _string_value(stripped)[len(_MARK) :]
            out_lines.append(f"{indent}# {body}")
        else:
            out_lines.append(line)
    return "\n".join(out_lines) + "\n"


def _string_value(literal: str) -> str:
    """The string a string literal written by `ast.unparse` stands for: `ast.literal_eval`'s
    value, read directly where the literal is one quote, plain text (no backslash, no other
    quote of its kind), the same quote."""
    quote = literal[0]
    inner = literal[1:-1]
    if len(literal) >= 2 and literal[-1] == quote and quote not in inner and "\\" not in inner:
        return inner
    return ast.literal_eval(literal)


_CONTEXTS = {gast.Load: ast.Load(), gast.Store: ast.Store(), gast.Del: ast.Del()}
_ATOMS = frozenset((str, int, float, complex, bool, bytes, type(None), type(Ellipsis)))
_MISSING = object()
#: gast class -> (its `ast` class, that class's fields, whether it has a line number)
_AST_OF: dict[type, tuple[type, tuple[str, ...], bool]] = {}


def to_ast(node: Any) -> Any:
    """The `ast` tree of a gast tree, for `ast.unparse` only: what `gast.gast_to_ast` makes,
    several times faster (a `Param` name becomes an `arg`, a handler's name a string); every
    statement and expression gets line 1 (unparsing reads the line only to find type
    comments; the text has no locations)."""
    cls = node.__class__
    if cls in _ATOMS:
        return node
    if cls is list:
        return [to_ast(x) for x in node]
    if not isinstance(node, gast.AST):
        return [to_ast(x) for x in node] if isinstance(node, list) else node
    if cls is gast.Name:
        if isinstance(node.ctx, gast.Param):
            new = ast.arg(
                arg=node.id, annotation=to_ast(node.annotation), type_comment=node.type_comment
            )
        else:
            new = ast.Name(id=node.id, ctx=_CONTEXTS[type(node.ctx)])
        new.lineno = 1
        return new
    if cls is gast.Call and getattr(node.func, "s2s_implicit_call", False):
        # `m.__call__(x)` is how the core spells `m(x)` of a local object (`normalize`)
        new = ast.Call(
            func=to_ast(node.func.value), args=to_ast(node.args), keywords=to_ast(node.keywords)
        )
        new.lineno = 1
        return new
    spec = _AST_OF.get(cls)
    if spec is None:
        target = getattr(ast, cls.__name__)
        spec = _AST_OF[cls] = (target, target._fields, "lineno" in target._attributes)
    target, fields, lined = spec
    new = target.__new__(target)
    for field in fields:
        value = getattr(node, field, _MISSING)
        if value is not _MISSING:
            setattr(new, field, value if value.__class__ in _ATOMS else to_ast(value))
    if isinstance(node, gast.ExceptHandler) and node.name is not None:
        new.name = node.name.id
    if lined:
        new.lineno = 1
    return new


def compile_functions(
    source: str, names: list[str], globals_: dict, closure: dict, filename: str
) -> dict[str, Any]:
    """Compile `source` (function definitions) so that the functions read the user's module
    globals live and `closure` names (helpers, other generated functions) from cells."""
    free = sorted(closure)
    header = "def __s2s_factory__():\n"
    if free:
        header += "    " + " = ".join(free) + " = None\n"
    body = "".join("    " + line + "\n" if line else "\n" for line in source.splitlines())
    ret = "    return (" + "".join(f"{n}, " for n in names) + ")\n"
    text = header + body + ret
    filename = _register_source(filename, text)
    code = compile(text, filename, "exec")
    scope: dict[str, Any] = {}
    exec(code, globals_, scope)  # noqa: S102 - this is the compiler's job
    fns = scope["__s2s_factory__"]()
    out = dict(zip(names, fns, strict=True))
    for fn in fns:
        cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or (), strict=True))
        for n, cell in cells.items():
            if n in closure:
                cell.cell_contents = closure[n]
    return out


def _register_source(filename: str, text: str) -> str:
    """Put the generated text in `linecache`, so that `inspect.getsource` reads generated
    functions (tracebacks show their lines; s2s can differentiate them again: higher order).
    A filename already holding other text gets a suffix (`<s2s grad_f #2>`)."""
    import linecache

    base, k = filename, 1
    while True:
        entry = linecache.cache.get(filename)
        if entry is None or "".join(entry[2]) == text:
            break
        k += 1
        filename = f"{base[:-1]} #{k}>" if base.endswith(">") else f"{base} #{k}"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    return filename
