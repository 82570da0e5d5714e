"""Stage 1: read a function's source into a gast tree, and resolve the names it uses."""

from __future__ import annotations

import builtins
import inspect
import textwrap
from dataclasses import dataclass, field
from typing import Any

import gast

from .errors import NameResolutionError, SourceUnavailableError, UnsupportedSyntaxError

_MISSING = object()


@dataclass
class SourceInfo:
    """Where a function's source came from, for error messages and comments."""

    filename: str
    first_lineno: int  # line number in the file of the tree's line 1
    lines: list[str]  # the dedented source lines
    #: the file line of the `def` (or `lambda`) of a local function s2s lifted (`functions.py`)
    def_line: int | None = None

    def file_line(self, lineno: int | None) -> int | None:
        return None if lineno is None else lineno + self.first_lineno - 1

    def line(self, lineno: int | None) -> str:
        if lineno is None or not (1 <= lineno <= len(self.lines)):
            return ""
        return self.lines[lineno - 1]

    def error(self, cls: type, node: Any, message: str, hint: str | None = None) -> Exception:
        lineno = getattr(node, "lineno", None) or getattr(node, "s2s_line", None)
        col = getattr(node, "col_offset", None) if hasattr(node, "lineno") else None
        return cls(
            message,
            filename=self.filename,
            lineno=self.file_line(lineno),
            col=col,
            source_line=self.line(lineno),
            hint=hint,
        )


@dataclass
class Namespace:
    """Resolves the free names of one function to live Python objects."""

    globals: dict[str, Any]
    closure: dict[str, Any] = field(default_factory=dict)

    def lookup(self, name: str) -> Any:
        if name in self.closure:
            return self.closure[name]
        if name in self.globals:
            return self.globals[name]
        if hasattr(builtins, name):
            return getattr(builtins, name)
        return _MISSING

    def resolve(self, node: Any) -> Any:
        """The object a Name or dotted Attribute chain refers to, or _MISSING. A Name the
        pipeline made or rewrote carries it: `s2s_value` (a local name known to hold that
        function, `functions.bind`) or `s2s_object` (a name bound for the generated code)."""
        if isinstance(node, gast.Name):
            known = node.__dict__.get("s2s_value") or node.__dict__.get("s2s_object")
            if known is not None:
                return known
            return self.lookup(node.id)
        if isinstance(node, gast.Attribute):
            base = self.resolve(node.value)
            if base is _MISSING:
                return _MISSING
            return getattr(base, node.attr, _MISSING)
        return _MISSING


@dataclass
class ParsedFunction:
    fn: Any
    name: str
    tree: gast.FunctionDef
    info: SourceInfo
    namespace: Namespace


def closure_vars(fn: Any) -> dict[str, Any]:
    """The values `fn` reads from its closure cells, by name (an empty cell, a name the
    enclosing scope assigns later, has none; nor has an object that is not a function)."""
    code = getattr(fn, "__code__", None)
    cells = getattr(fn, "__closure__", None) or ()
    out = {}
    for name, cell in zip(code.co_freevars if code else (), cells, strict=False):
        try:
            out[name] = cell.cell_contents
        except ValueError:  # empty cell: defined later in the enclosing scope
            continue
    return out


def parse_function(fn: Any) -> ParsedFunction:
    """Parse `fn`'s source into a gast FunctionDef with its name-resolution namespace."""
    fn = inspect.unwrap(fn)
    name = getattr(fn, "__name__", repr(fn))
    lifted = getattr(fn, "__s2s_lifted__", None)
    if lifted is not None:  # a local function s2s lifted (`functions.py`)
        from .nodes import copy_tree

        return ParsedFunction(
            fn=fn,
            name=name,
            tree=copy_tree(lifted.tree),
            info=lifted.info,
            namespace=lifted.namespace,
        )
    if not inspect.isfunction(fn):
        raise SourceUnavailableError(
            f"cannot read the source of {name!r}: it is not a Python function "
            f"(a builtin or C-extension function has no source to transform)",
            hint="differentiate a Python function that calls it, and register a rule for it "
            "with @s2s.adjoint if it has none",
        )
    static = getattr(fn, "__s2s_static__", None)  # read from a file, never run (s2s.static)
    try:
        if static is not None:
            filename, lines, first = static.filename, [static.source], static.first_lineno
        else:
            filename = inspect.getsourcefile(fn) or fn.__code__.co_filename
            lines, first = inspect.getsourcelines(fn)
    except (OSError, TypeError) as exc:
        raise SourceUnavailableError(
            f"cannot read the source of function {name!r} "
            f"(defined in {fn.__code__.co_filename!r}): {exc}",
            hint="define the function in a .py file (functions typed into a bare REPL or "
            "made by exec have no source for s2s to read)",
        ) from None
    source = textwrap.dedent("".join(lines))
    try:
        module = gast.parse(source)
    except SyntaxError as exc:
        raise SourceUnavailableError(
            f"cannot parse the source of function {name!r}: {exc.msg}",
            filename=filename,
            lineno=(exc.lineno or 1) + first - 1,
        ) from None
    info = SourceInfo(filename=filename, first_lineno=first, lines=source.splitlines())
    if not module.body or not isinstance(module.body[0], (gast.FunctionDef, gast.AsyncFunctionDef)):
        raise SourceUnavailableError(
            f"the source of {name!r} is not a plain `def` statement (lambdas are not supported)",
            filename=filename,
            lineno=first,
            source_line=info.line(1),
            hint="write the function with `def`",
        )
    tree = module.body[0]
    if isinstance(tree, gast.AsyncFunctionDef):
        raise info.error(
            UnsupportedSyntaxError,
            tree,
            "`async def` cannot be differentiated",
            hint="write a plain `def` function",
        )
    tree.decorator_list = []
    if static is not None:
        namespace = static.namespace
    else:
        namespace = Namespace(globals=fn.__globals__, closure=closure_vars(fn))
    return ParsedFunction(fn=fn, name=name, tree=tree, info=info, namespace=namespace)


def unresolved(info: SourceInfo, node: Any, name: str) -> Exception:
    return info.error(
        NameResolutionError,
        node,
        f"name {name!r} is not defined",
        hint="define it before differentiating, or pass it as an argument",
    )


MISSING = _MISSING
