"""The op library: reverse and forward templates, by family."""

from . import (  # noqa: F401  (registration)
    builtins,
    elementwise,
    indexing,
    linalg,
    products,
    reductions,
    shape,
)
from .registry import NONDIFF, RULES, Rule, adjoint, is_nondiff, lookup, nondiff, tangent

__all__ = ["NONDIFF", "RULES", "Rule", "adjoint", "is_nondiff", "lookup", "nondiff", "tangent"]
