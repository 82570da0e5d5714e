"""Debug mode (`s2s.grad(f, debug=True)`): a finiteness check after every adjoint statement.

A post-pass over the backward sweep that `s2s/reverse.py` wrote: after each statement that
assigns or accumulates an adjoint `d_x`, it inserts

    check_finite(d_x, 'x', '/path/model.py', 12, 'y = np.sqrt(x - x)')

(the helper is `s2s.backends.runtime.check_finite`). The first adjoint holding a NaN or an
infinity raises `NonFiniteGradientError`, naming the primal line whose adjoint block computed it
and the variable. The checks cost one host read of a bool per adjoint statement, so debug mode
is for finding a bad line, not for training.
"""

from __future__ import annotations

import ast
from typing import Any

import gast

from .errors import S2SError
from .nodes import copy_tree, is_temporary, walk

__all__ = ["NonFiniteGradientError", "instrument"]


def _temporaries(body: list) -> dict[str, Any]:
    """Each normalizer temporary `_k` of the core, mapped to the expression it stands for."""
    defs: dict[str, Any] = {}
    for node in body:
        for s in walk(node):
            if (
                isinstance(s, gast.Assign)
                and len(s.targets) == 1
                and isinstance(s.targets[0], gast.Name)
                and is_temporary(s.targets[0].id)
            ):
                defs.setdefault(s.targets[0].id, s.value)
    return defs


class _Expand(gast.NodeTransformer):
    def __init__(self, defs: dict[str, Any], depth: int = 0) -> None:
        self.defs, self.depth = defs, depth

    def visit_Name(self, node: gast.Name) -> Any:
        if node.id in self.defs and self.depth < 8:
            return _Expand(self.defs, self.depth + 1).visit(copy_tree(self.defs[node.id]))
        return node


def _describe(temp: str, defs: dict[str, Any]) -> str:
    """The source text of the expression temporary `temp` holds (`x - x`), or ''."""
    if temp not in defs:
        return ""
    try:
        tree = _Expand(defs).visit(copy_tree(defs[temp]))
        return ast.unparse(gast.gast_to_ast(tree))
    except Exception:  # noqa: BLE001 - a description only
        return ""


class NonFiniteGradientError(S2SError):
    """Debug mode: an adjoint became NaN or infinite. Names the primal line and variable."""

    def __init__(self, message: str, *, variable: str = "", **kwargs: Any) -> None:
        self.variable = variable
        super().__init__(message, **kwargs)


def _const(v: Any) -> gast.Constant:
    return gast.Constant(value=v, kind=None)


def _check(adjoint: str, info: Any, line: int | None, defs: dict[str, Any]) -> gast.Expr:
    var = adjoint[2:]
    if var.isdigit():  # `d_4` is the adjoint of the temporary `_4`
        var = "_" + var
    # a temporary (renumbered later): named by the expression it holds
    shown = _describe(var, defs) if is_temporary(var) else var
    call = gast.Call(
        func=gast.Name(id="check_finite", ctx=gast.Load(), annotation=None, type_comment=None),
        args=[
            gast.Name(id=adjoint, ctx=gast.Load(), annotation=None, type_comment=None),
            _const(shown),
            _const(info.filename),
            _const(info.file_line(line)),
            _const(info.line(line).strip()),
        ],
        keywords=[],
    )
    node = gast.Expr(value=call)
    if line is not None:
        node.s2s_line = line
    return node


def _adjoint_written(s: Any) -> str | None:
    """The adjoint `s` assigns or accumulates into, if any."""
    if isinstance(s, gast.Assign) and len(s.targets) == 1:
        t = s.targets[0]
        if isinstance(t, gast.Subscript):
            t = t.value
        if isinstance(t, gast.Name) and t.id.startswith("d_"):
            return t.id
    if (
        isinstance(s, gast.AugAssign)
        and isinstance(s.target, gast.Name)
        and s.target.id.startswith("d_")
    ):
        return s.target.id
    if isinstance(s, gast.Expr) and isinstance(s.value, gast.Call):
        f, args = s.value.func, s.value.args
        if (
            isinstance(f, gast.Name)
            and f.id == "add_at"
            and args
            and isinstance(args[0], gast.Name)
            and args[0].id.startswith("d_")
        ):
            return args[0].id
    return None


def instrument(stmts: list, core: Any) -> list:
    """`stmts` (a backward sweep of `core`, a `CoreFunction`) with a `check_finite` after each
    adjoint statement. Statements without `s2s_line` take the line of the statement before
    them (their adjoint block's)."""
    return _instrument(stmts, core.info, _temporaries(core.body), None)


def _instrument(stmts: list, info: Any, defs: dict[str, Any], line: int | None) -> list:
    out: list = []
    for s in stmts:
        line = getattr(s, "s2s_line", None) or line
        if isinstance(s, (gast.If, gast.For, gast.While)):
            s.body = _instrument(s.body, info, defs, line)
            if getattr(s, "orelse", None):
                s.orelse = _instrument(s.orelse, info, defs, line)
            out.append(s)
            continue
        out.append(s)
        adj = _adjoint_written(s)
        if adj is not None:
            out.append(_check(adj, info, line, defs))
    return out
