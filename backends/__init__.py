"""Runtime helpers that generated code calls, for NumPy and any array library that implements
NumPy's dispatch protocols (CuPy included)."""

from .runtime import HELPERS

__all__ = ["HELPERS"]
