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

Names a template reads besides its parameters are looked up where the differentiated function
lives (its module globals), plus `np`, `math` and the runtime helpers.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from s2s.adjoints import registry
from s2s.adjoints.registry import d

from .errors import S2SError

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


def adjoint(fn: Callable) -> Callable[[F], F]:
    """Register the decorated template as `fn`'s reverse rule (`d[x] = ... d[y] ...`).

    Every gradient generated afterwards uses it for calls of `fn` (cached gradients are made
    again). Returns the template unchanged.
    """

    def register(template: F) -> F:
        _check("adjoint", fn, template)
        return registry.adjoint(fn, family="custom")(template)

    return register


def tangent(fn: Callable) -> Callable[[F], F]:
    """Register the decorated template as `fn`'s forward rule (`d[y] = ... d[x] ...`)."""

    def register(template: F) -> F:
        _check("tangent", fn, template)
        return registry.tangent(fn, family="custom")(template)

    return register


def stop_gradient(x: Any) -> Any:
    """`x` itself; to s2s, a value with no derivative: no gradient flows through it, in reverse
    or forward mode."""
    return x


registry.nondiff(stop_gradient, reason="s2s.stop_gradient: its result carries no gradient")
