"""s2s: source-to-source automatic differentiation for NumPy Python.

``s2s.grad(f)`` is the gradient of ``f`` as generated Python, and
``s2s.source(f)`` is that Python, to read.
"""

from .api import differentiate, grad, jvp, source, value_and_grad, vjp
from .check import GradCheckError, GradCheckReport, check_grad
from .custom import RuleError, adjoint, d, stop_gradient, tangent
from .debug import NonFiniteGradientError
from .errors import (
    ArgumentError,
    ComplexValueError,
    NameResolutionError,
    NonScalarOutputError,
    NoRuleError,
    S2SError,
    SourceUnavailableError,
    UnsupportedSyntaxError,
    WrtError,
)
from .higher import hessian, hvp, jacobian
from .markers import checkpoint, checkpointed, insert_grad_of

__version__ = "0.1.0"

__all__ = [
    "ArgumentError",
    "ComplexValueError",
    "GradCheckError",
    "GradCheckReport",
    "NameResolutionError",
    "NoRuleError",
    "NonFiniteGradientError",
    "NonScalarOutputError",
    "RuleError",
    "S2SError",
    "SourceUnavailableError",
    "UnsupportedSyntaxError",
    "WrtError",
    "adjoint",
    "check_grad",
    "checkpoint",
    "checkpointed",
    "d",
    "differentiate",
    "grad",
    "hessian",
    "hvp",
    "insert_grad_of",
    "jacobian",
    "jvp",
    "source",
    "stop_gradient",
    "tangent",
    "value_and_grad",
    "vjp",
]
