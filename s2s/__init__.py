"""s2s: source-to-source automatic differentiation for NumPy Python.

    df = s2s.grad(f)            # the gradient of f, as generated Python
    print(s2s.source(f))        # ...which you can read
"""

from .api import differentiate, grad, jvp, source, value_and_grad, vjp
from .errors import (
    ArgumentError,
    NameResolutionError,
    NonScalarOutputError,
    NoRuleError,
    S2SError,
    SourceUnavailableError,
    UnsupportedSyntaxError,
    WrtError,
)

__version__ = "0.1.0"

__all__ = [
    "ArgumentError",
    "NameResolutionError",
    "NoRuleError",
    "NonScalarOutputError",
    "S2SError",
    "SourceUnavailableError",
    "UnsupportedSyntaxError",
    "WrtError",
    "differentiate",
    "grad",
    "jvp",
    "source",
    "value_and_grad",
    "vjp",
]
