"""The op registry: what s2s knows about each function it can meet.

A *rule* pairs an op (a Python callable such as ``numpy.tanh``, or an ``operator`` function for
Python's operators) with a reverse template (``@adjoint``) and a forward template (``@tangent``).
Templates are short Python functions whose body is inlined into generated code; in them
``d[x]`` is the adjoint (reverse) or tangent (forward) of ``x``. The first parameter is the op's
result, the rest are the op's own parameters, with its defaults.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gast


@dataclass
class Template:
    fn: Callable
    params: list[str]
    signature: inspect.Signature
    body: list  # gast statements
    filename: str
    zero: tuple = ()  # parameters with a zero derivative (no d[p] line on purpose)

    @classmethod
    def from_function(cls, fn: Callable) -> Template:
        source = textwrap.dedent(inspect.getsource(fn))
        tree = gast.parse(source).body[0]
        body = [
            s
            for s in tree.body
            if not (isinstance(s, gast.Expr) and isinstance(s.value, gast.Constant))
        ]
        sig = inspect.signature(fn)
        return cls(
            fn=fn,
            params=list(sig.parameters),
            signature=sig,
            body=body,
            filename=inspect.getsourcefile(fn) or "<template>",
        )


@dataclass
class Rule:
    op: Any
    name: str
    family: str = ""
    adjoint: Template | None = None
    tangent: Template | None = None
    notes: str = ""
    extra: dict = field(default_factory=dict)


RULES: dict[int, Rule] = {}
#: ops with no derivative: their results are constants to the transformer
NONDIFF: dict[int, str] = {}
#: keep the op objects alive so that their ids stay unique
_KEEP: list[Any] = []
#: bumped by every registration: part of the API's cache key, so code generated before a rule
#: was registered is made again
VERSION = [0]


def version() -> int:
    """The registry's version: changes whenever a rule or a non-differentiable op is added."""
    return VERSION[0]


def _qualname(op: Any) -> str:
    mod = getattr(op, "__module__", None) or ""
    name = getattr(op, "__qualname__", None) or getattr(op, "__name__", repr(op))
    if mod in ("builtins", "_operator"):
        mod = "operator" if mod == "_operator" else ""
    if mod.startswith("numpy"):
        mod = "numpy" + mod[len("numpy") :].replace("._core", "").replace(".core", "")
        if mod.startswith("numpy.fromnumeric") or mod.startswith("numpy.numeric"):
            mod = "numpy"
    if isinstance(op, type(abs)) and mod == "" and name in dir(__builtins__):
        return name
    return f"{mod}.{name}" if mod else name


def rule_for(op: Any) -> Rule:
    key = id(op)
    if key not in RULES:
        _KEEP.append(op)
        RULES[key] = Rule(op=op, name=_qualname(op))
    return RULES[key]


def adjoint(*ops: Any, family: str = "", notes: str = "", zero: tuple = ()) -> Callable:
    """Register the decorated template as the reverse rule of each of `ops`.

    `zero` names the parameters whose derivative is zero wherever it exists (the sign in
    copysign): a template that gives no `d[p]` for a parameter not listed there is refused
    when an active value reaches that parameter, instead of silently giving it no gradient.
    """

    def register(fn: Callable) -> Callable:
        tpl = Template.from_function(fn)
        tpl.zero = tuple(zero)
        for op in ops:
            rule = rule_for(op)
            rule.adjoint = tpl
            rule.family = family or rule.family or fn.__module__.rsplit(".", 1)[-1]
            if notes:
                rule.notes = notes
        VERSION[0] += 1
        return fn

    return register


def tangent(*ops: Any, family: str = "", notes: str = "") -> Callable:
    """Register the decorated template as the forward rule of each of `ops`."""

    def register(fn: Callable) -> Callable:
        tpl = Template.from_function(fn)
        for op in ops:
            rule = rule_for(op)
            rule.tangent = tpl
            rule.family = family or rule.family or fn.__module__.rsplit(".", 1)[-1]
        VERSION[0] += 1
        return fn

    return register


def present(module: Any, *names: str) -> tuple:
    """The functions of `module` among `names` that this NumPy version has (for decorators)."""
    return tuple(getattr(module, n) for n in names if hasattr(module, n))


def nondiff(*ops: Any, reason: str = "no derivative") -> None:
    """Mark `ops` as non-differentiable: their results carry no gradient."""
    for op in ops:
        _KEEP.append(op)
        NONDIFF[id(op)] = reason
    VERSION[0] += 1


#: op-library modules for optional dependencies: loaded the first time the registry is asked
#: about an op it does not know while that dependency is imported (s2s never imports it)
LAZY: dict[str, str] = {"scipy": "s2s.adjoints.special"}
_LOADED: set[str] = set()


def load_lazy(force: bool = False) -> None:
    """Register the rules of every optional dependency that is imported (or importable, with
    `force`)."""
    import importlib
    import sys

    for dep, module in LAZY.items():
        if dep in _LOADED or not (force or dep in sys.modules):
            continue
        try:
            importlib.import_module(module)
        except ImportError:
            continue
        _LOADED.add(dep)


def lookup(op: Any) -> Rule | None:
    rule = RULES.get(id(op))
    if rule is None and len(_LOADED) < len(LAZY):
        load_lazy()
        rule = RULES.get(id(op))
    return rule


def is_nondiff(op: Any) -> bool:
    if id(op) not in NONDIFF and len(_LOADED) < len(LAZY):
        load_lazy()
    return id(op) in NONDIFF


class _D:
    """The `d` in templates; templates are never called, this only keeps linters quiet."""

    def __getitem__(self, item: Any) -> Any:  # pragma: no cover
        raise RuntimeError("templates are inlined by s2s, not called")

    def __setitem__(self, item: Any, value: Any) -> None:  # pragma: no cover
        raise RuntimeError("templates are inlined by s2s, not called")


d = _D()


def side_table_decorator(table: dict[int, Rule], kind: str) -> Callable:
    """`@rule(op, zero=(...))` registering a template as `op`'s `kind` ("adjoint" or "tangent")
    in `table` (keyed by `id(op)`), outside `RULES`: for the runtime helpers that generated code
    calls (`runtime_rules.py`, `runtime_adjoints.py`), which are not ops of the library."""

    def rule(op: Any, zero: tuple = ()) -> Callable:
        def register(fn: Callable) -> Callable:
            tpl = Template.from_function(fn)
            tpl.zero = tuple(zero)
            table[id(op)] = Rule(op=op, name=_qualname(op), family="runtime", **{kind: tpl})
            return fn

        return register

    return rule
