"""Custom rules and gradient surgery: `@s2s.adjoint(fn)`, `@s2s.tangent(fn)`,
`s2s.stop_gradient(x)`.

A custom rule is a template in the op library's style (see `s2s.adjoints.registry`): its first
parameter is the function's result, the others are the function's own parameters, and `d[x]` is
the adjoint (reverse) or the tangent (forward) of `x`. A call of `fn` inside a differentiated
function then uses the template instead of differentiating `fn`'s body::

    def floor_ste(x):
        return np.floor(x)

    @s2s.adjoint(floor_ste)
    def _(y, x):
        d[x] = d[y]          # straight through

    @s2s.tangent(floor_ste)
    def _(y, x):
        d[y] = d[x]

Besides its parameters and `d`, a template may read `np`, `math`, the runtime helpers and
literal constants of its own module (numbers, strings, tuples of them): those are copied into the
template, as their values when the rule is registered, since its body is inlined into the
differentiated function, whose module does not see the template's. Any other global is a
`RuleError` at registration.
"""

from __future__ import annotations

import builtins
import inspect
import math
from collections.abc import Callable
from typing import Any, TypeVar

import gast
import numpy as np

from s2s.adjoints import registry
from s2s.adjoints.registry import d
from s2s.backends.runtime import HELPERS

from .errors import S2SError
from .nodes import walk

__all__ = ["RuleError", "adjoint", "d", "stop_gradient", "tangent"]

F = TypeVar("F", bound=Callable[..., Any])


class RuleError(S2SError):
    """A custom rule that cannot be registered (its template does not fit the function)."""


def _check(kind: str, fn: Any, template: Callable) -> None:
    where = inspect.getsourcefile(template) if inspect.isfunction(template) else None
    line = template.__code__.co_firstlineno if inspect.isfunction(template) else None
    name = getattr(fn, "__qualname__", repr(fn))
    if not callable(fn):
        raise RuleError(
            f"@s2s.{kind}({fn!r}): the argument must be the function the rule is for",
            filename=where,
            lineno=line,
            hint=f"write @s2s.{kind}(my_function) above the template",
        )
    try:
        tpl_params = list(inspect.signature(template).parameters)
    except (TypeError, ValueError):  # pragma: no cover - templates are plain functions
        return
    if not tpl_params:
        raise RuleError(
            f"the {kind} template {template.__name__} for {name} has no parameters",
            filename=where,
            lineno=line,
            hint="its first parameter is the result, then the function's parameters",
        )
    try:
        fn_params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return  # a builtin without a signature: the call sites are checked when inlined
    if isinstance(fn, np.ufunc):
        # its inputs: `out=`, `where=`, `dtype=` and the like take no derivative (a call that
        # passes one does not fit the template and is refused where it is inlined)
        fn_params = fn_params[: fn.nin]
    if tpl_params[1:] != fn_params:
        raise RuleError(
            f"the {kind} template {template.__name__}({', '.join(tpl_params)}) does not fit "
            f"{name}({', '.join(fn_params)})",
            filename=where,
            lineno=line,
            hint=f"write def {template.__name__}(result, {', '.join(fn_params)}): the result "
            "first, then the function's parameters by the same names",
        )
    try:
        inspect.getsource(template)
    except (OSError, TypeError):
        raise RuleError(
            f"the source of the {kind} template {template.__name__} cannot be read",
            filename=where,
            lineno=line,
            hint="define templates in a file, not at an interactive prompt",
        ) from None


_LITERAL_TYPES = (bool, int, float, complex, str, bytes, type(None))


def _is_literal(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(_is_literal(v) for v in value)
    return type(value) in _LITERAL_TYPES


class _Constants(gast.NodeTransformer):
    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def visit_Name(self, node: Any) -> Any:
        if isinstance(node.ctx, gast.Load) and node.id in self.values:
            return gast.copy_location(_constant(self.values[node.id]), node)
        return node


def _constant(value: Any) -> Any:
    if isinstance(value, tuple):
        return gast.Tuple(elts=[_constant(v) for v in value], ctx=gast.Load())
    return gast.Constant(value=value, kind=None)


def _own_globals(kind: str, fn: Any, template: Callable) -> dict[str, Any]:
    """The literal constants of its own module that `template` reads (copied into its body);
    a RuleError for any other global that the differentiated code could not see."""
    tpl = registry.Template.from_function(template)
    where = inspect.getsourcefile(template)
    first = template.__code__.co_firstlineno
    local = set(tpl.params) | {
        t.id for s in tpl.body for t in getattr(s, "targets", []) if isinstance(t, gast.Name)
    }
    provided = {"np": np, "math": math, "d": d, **HELPERS}
    found: dict[str, Any] = {}
    for stmt in tpl.body:
        for node in walk(stmt):
            if not isinstance(node, gast.Name) or not isinstance(node.ctx, gast.Load):
                continue
            name = node.id
            if name in local or name in found:
                continue
            line = first + getattr(node, "lineno", 1) - 1
            if name not in template.__globals__:
                if name in provided or hasattr(builtins, name):
                    continue
                raise RuleError(
                    f"the {kind} template {template.__name__} reads {name!r}, which is not defined",
                    filename=where,
                    lineno=line,
                    hint="templates read their parameters, d[...], np, math, the runtime "
                    "helpers and literal constants of their module",
                )
            value = template.__globals__[name]
            if name in provided and provided[name] is value:
                continue
            if _is_literal(value):
                found[name] = value
                continue
            raise RuleError(
                f"the {kind} template {template.__name__} reads {name!r}, a global of its "
                f"module that is a {type(value).__name__}: the template is inlined into the "
                "differentiated function, where that name is not its module's",
                filename=where,
                lineno=line,
                hint="templates read their parameters, d[...], np, math, the runtime helpers "
                "and literal constants (numbers, strings) of their module; pass anything else "
                "to the function as an argument",
            )
    return found


def _register(kind: str, fn: Callable, template: Any) -> Any:
    _check(kind, fn, template)
    constants = _own_globals(kind, fn, template)
    # an op s2s holds to be without derivative (`np.floor`, `np.sign`) gets one from its rule
    registry.NONDIFF.pop(id(fn), None)
    add = registry.adjoint if kind == "adjoint" else registry.tangent
    add(fn, family="custom")(template)
    if constants:
        tpl = getattr(registry.lookup(fn), kind)
        tpl.body = [_Constants(constants).visit(s) for s in tpl.body]
    return template


def adjoint(fn: Callable) -> Callable[[F], F]:
    """Register the decorated template as `fn`'s reverse rule (`d[x] = ... d[y] ...`).

    Every gradient generated afterwards uses it for calls of `fn` (cached gradients are made
    again). Returns the template unchanged.
    """

    def register(template: F) -> F:
        return _register("adjoint", fn, template)

    return register


def tangent(fn: Callable) -> Callable[[F], F]:
    """Register the decorated template as `fn`'s forward rule (`d[y] = ... d[x] ...`)."""

    def register(template: F) -> F:
        return _register("tangent", fn, template)

    return register


def stop_gradient(x: Any) -> Any:
    """`x` itself; to s2s, a value with no derivative: no gradient flows through it, in reverse
    or forward mode."""
    return x


registry.nondiff(stop_gradient, reason="s2s.stop_gradient: its result carries no gradient")
