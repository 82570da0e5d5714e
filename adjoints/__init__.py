"""The op library: reverse and forward templates, by family."""

from . import builtins, elementwise, reductions, shape  # noqa: F401  (registration)
from .registry import NONDIFF, RULES, Rule, adjoint, is_nondiff, lookup, nondiff, tangent

__all__ = ["NONDIFF", "RULES", "Rule", "adjoint", "is_nondiff", "lookup", "nondiff", "tangent"]
