"""One small differentiable use of every op in the registry, with inputs inside its domain.

`tests/test_forward.py::test_every_rule_has_an_op_case` fails for any op in
`s2s.adjoints.RULES` that has both an `@adjoint` and a `@tangent` template but no entry here, so
no rule escapes the forward/reverse dot-product check. To add an op, append one entry:

    @case(np.sinh, args=lambda r: (vec(r, 3),))
    def np_sinh(x):
        return np.sinh(x)

* `case(op, ...)` registers the decorated module-level function (s2s reads its source) as a use
  of `op`; one function may cover several ops (`case(np.max, np.amax, ...)`), and an op may
  have several cases (e.g. with and without `axis`).
* `args` is a function of a `numpy.random.Generator` returning the argument tuple; keep values
  inside the op's domain and away from its kinks (ties for max/min, zero for abs).
* `wrt` is the position(s) differentiated; by default every argument that is a float, a float
  array, or a list/tuple/dict of them.

`CASES` is the list of all entries; `OP_CASES` maps `id(op)` to its entries.
"""

from __future__ import annotations

import builtins
import math
import operator
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class OpCase:
    ops: tuple
    fn: Callable
    args: Callable[[np.random.Generator], tuple]
    wrt: Any = None

    @property
    def name(self) -> str:
        return self.fn.__name__

    def make_args(self, rng: np.random.Generator) -> tuple:
        return tuple(self.args(rng))

    def wrt_for(self, args: tuple) -> tuple:
        if self.wrt is not None:
            return self.wrt if isinstance(self.wrt, tuple) else (self.wrt,)
        return tuple(i for i, a in enumerate(args) if _differentiable(a))


def _differentiable(a: Any) -> bool:
    if isinstance(a, dict):
        return bool(a) and all(_differentiable(v) for v in a.values())
    if isinstance(a, (list, tuple)):
        return bool(a) and all(_differentiable(v) for v in a)
    if isinstance(a, np.ndarray):
        return a.dtype.kind == "f"
    return isinstance(a, float)


CASES: list[OpCase] = []
OP_CASES: dict[int, list[OpCase]] = {}


def case(*ops: Any, args: Callable[[np.random.Generator], tuple], wrt: Any = None) -> Callable:
    def register(fn: Callable) -> Callable:
        c = OpCase(ops=ops, fn=fn, args=args, wrt=wrt)
        CASES.append(c)
        for op in ops:
            OP_CASES.setdefault(id(op), []).append(c)
        return fn

    return register


# -- input makers ----------------------------------------------------------------------------


def vec(
    r: np.random.Generator, n: int = 3, lo: float = 0.3, hi: float = 1.5, signed: bool = True
) -> np.ndarray:
    """Values with magnitude in [lo, hi], random signs when `signed`."""
    v = r.uniform(lo, hi, size=n)
    if signed:
        v = v * r.choice([-1.0, 1.0], size=n)
    return v


def pos(r: np.random.Generator, n: Any = 3, lo: float = 0.5, hi: float = 2.0) -> np.ndarray:
    return r.uniform(lo, hi, size=n)


def mat(r: np.random.Generator, m: int = 2, n: int = 3) -> np.ndarray:
    return r.uniform(-1.5, 1.5, size=(m, n))


def num(r: np.random.Generator, lo: float = 0.3, hi: float = 1.5, signed: bool = True) -> float:
    v = float(r.uniform(lo, hi))
    return v * float(r.choice([-1.0, 1.0])) if signed else v


def distinct(r: np.random.Generator, shape: Any) -> np.ndarray:
    """Values pairwise at least 0.1 apart (no ties for max/min), in random order."""
    size = int(np.prod(shape))
    v = np.linspace(-1.5, 1.5, size) + r.uniform(-0.02, 0.02, size)
    return r.permutation(v).reshape(shape)


def apart_pair(r: np.random.Generator, n: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Two arrays that differ by at least 0.2 everywhere (no ties for maximum/minimum)."""
    x = vec(r, n)
    return x, x + vec(r, n, 0.2, 1.0)


# -- Python operators ------------------------------------------------------------------------


@case(operator.add, args=lambda r: (vec(r), vec(r)))
def op_add(x, y):
    return x + y


@case(operator.add, args=lambda r: (vec(r), num(r)))
def op_add_scalar(x, s):
    return s + x


@case(operator.sub, args=lambda r: (mat(r), vec(r)))
def op_sub_broadcast(x, y):
    return x - y


@case(operator.mul, args=lambda r: (vec(r), vec(r)))
def op_mul(x, y):
    return x * y


@case(operator.mul, args=lambda r: (mat(r, 3, 1), vec(r, 2)))
def op_mul_broadcast(x, y):
    return x * y


@case(operator.truediv, args=lambda r: (vec(r), vec(r)))
def op_div(x, y):
    return x / y


@case(operator.pow, args=lambda r: (pos(r), vec(r)))
def op_pow(x, y):
    return x**y


@case(operator.pow, args=lambda r: (vec(r),))
def op_pow_const(x):
    return x**3


@case(operator.neg, args=lambda r: (vec(r),))
def op_neg(x):
    return -x


@case(operator.pos, args=lambda r: (vec(r),))
def op_pos(x):
    return +x


@case(operator.matmul, args=lambda r: (mat(r, 2, 3), mat(r, 3, 2)))
def op_matmul(a, b):
    return a @ b


@case(operator.matmul, args=lambda r: (mat(r, 2, 3), vec(r, 3)))
def op_matmul_vec(a, v):
    return a @ v


@case(
    operator.mod,
    args=lambda r: (pos(r, 3, 0.1, 0.9) + 2.0 * r.integers(-2, 3, 3), pos(r, 3, 2.2, 2.4)),
)
def op_mod(x, y):
    return x % y


# -- NumPy binary ----------------------------------------------------------------------------


@case(np.add, args=lambda r: (vec(r), vec(r)))
def np_add(x, y):
    return np.add(x, y)


@case(np.subtract, args=lambda r: (vec(r), vec(r)))
def np_subtract(x, y):
    return np.subtract(x, y)


@case(np.multiply, args=lambda r: (vec(r), vec(r)))
def np_multiply(x, y):
    return np.multiply(x, y)


@case(np.divide, args=lambda r: (vec(r), vec(r)))
def np_divide(x, y):
    return np.divide(x, y)


@case(np.power, args=lambda r: (pos(r), vec(r)))
def np_power(x, y):
    return np.power(x, y)


@case(np.matmul, args=lambda r: (mat(r, 2, 3), mat(r, 3, 4)))
def np_matmul(a, b):
    return np.matmul(a, b)


@case(
    np.remainder,
    args=lambda r: (pos(r, 3, 0.1, 0.9) + 2.0 * r.integers(-2, 3, 3), pos(r, 3, 2.2, 2.4)),
)
def np_remainder(x, y):
    return np.remainder(x, y)


@case(np.maximum, args=lambda r: apart_pair(r))
def np_maximum(x, y):
    return np.maximum(x, y)


@case(np.fmax, args=lambda r: apart_pair(r))
def np_fmax(x, y):
    return np.fmax(x, y)


@case(np.minimum, args=lambda r: apart_pair(r))
def np_minimum(x, y):
    return np.minimum(x, y)


@case(np.fmin, args=lambda r: apart_pair(r))
def np_fmin(x, y):
    return np.fmin(x, y)


# -- NumPy unary -----------------------------------------------------------------------------


@case(np.negative, args=lambda r: (vec(r),))
def np_negative(x):
    return np.negative(x)


@case(np.positive, args=lambda r: (vec(r),))
def np_positive(x):
    return np.positive(x)


@case(np.exp, args=lambda r: (vec(r),))
def np_exp(x):
    return np.exp(x)


@case(np.log, args=lambda r: (pos(r),))
def np_log(x):
    return np.log(x)


@case(np.sin, args=lambda r: (vec(r),))
def np_sin(x):
    return np.sin(x)


@case(np.cos, args=lambda r: (vec(r),))
def np_cos(x):
    return np.cos(x)


@case(np.tan, args=lambda r: (vec(r, 3, 0.1, 1.2),))
def np_tan(x):
    return np.tan(x)


@case(np.tanh, args=lambda r: (vec(r),))
def np_tanh(x):
    return np.tanh(x)


@case(np.sqrt, args=lambda r: (pos(r),))
def np_sqrt(x):
    return np.sqrt(x)


@case(np.square, args=lambda r: (vec(r),))
def np_square(x):
    return np.square(x)


@case(np.absolute, args=lambda r: (vec(r),))
def np_abs(x):
    return np.abs(x)


@case(np.fabs, args=lambda r: (vec(r),))
def np_fabs(x):
    return np.fabs(x)


# -- math and builtins on Python floats ------------------------------------------------------


@case(math.sin, args=lambda r: (num(r),))
def math_sin(x):
    return math.sin(x)


@case(math.cos, args=lambda r: (num(r),))
def math_cos(x):
    return math.cos(x)


@case(math.tan, args=lambda r: (num(r, 0.1, 1.2),))
def math_tan(x):
    return math.tan(x)


@case(math.exp, args=lambda r: (num(r),))
def math_exp(x):
    return math.exp(x)


@case(math.log, args=lambda r: (num(r, 0.5, 2.0, signed=False),))
def math_log(x):
    return math.log(x)


@case(math.log, args=lambda r: (num(r, 0.5, 2.0, signed=False),))
def math_log_base(x):
    return math.log(x, 10.0)


@case(math.sqrt, args=lambda r: (num(r, 0.5, 2.0, signed=False),))
def math_sqrt(x):
    return math.sqrt(x)


@case(math.tanh, args=lambda r: (num(r),))
def math_tanh(x):
    return math.tanh(x)


@case(math.pow, args=lambda r: (num(r, 0.5, 2.0, signed=False), num(r)))
def math_pow(x, y):
    return math.pow(x, y)


@case(math.fabs, args=lambda r: (num(r),))
def math_fabs(x):
    return math.fabs(x)


@case(builtins.abs, args=lambda r: (num(r),))
def builtin_abs(x):
    return abs(x)


@case(builtins.abs, args=lambda r: (vec(r),))
def builtin_abs_array(x):
    return abs(x)


@case(builtins.float, args=lambda r: (np.array(num(r)),))
def builtin_float(x):
    return float(x)


@case(builtins.max, args=lambda r: (num(r), num(r) + 2.0))
def builtin_max(a, b):
    return max(a, b)


@case(builtins.min, args=lambda r: (num(r), num(r) + 2.0))
def builtin_min(a, b):
    return min(a, b)


@case(builtins.max, args=lambda r: ([float(v) for v in distinct(r, 4)],))
def builtin_max_of_list(xs):
    return max(xs)


@case(builtins.min, args=lambda r: (distinct(r, 5),))
def builtin_min_of_array(x):
    return min(x)


@case(builtins.max, builtins.min, args=lambda r: tuple(float(v) for v in distinct(r, 4)))
def builtin_max_min_of_four(a, b, c, e):
    return max(a, b, c, e) * min(a, b, c, e) + max(a * b, 0.5, e)


@case(builtins.sum, args=lambda r: ([vec(r), vec(r), vec(r)],))
def builtin_sum(xs):
    return sum(xs)


@case(builtins.sum, args=lambda r: (num(r), num(r), vec(r)))
def builtin_sum_start(a, b, s):
    return sum([a, b * a], s)


# -- reductions ------------------------------------------------------------------------------


@case(np.sum, args=lambda r: (mat(r),))
def np_sum(x):
    return np.sum(x)


@case(np.sum, args=lambda r: (mat(r),))
def np_sum_axis(x):
    return np.sum(x, axis=1)


@case(np.sum, args=lambda r: (mat(r),))
def np_sum_keepdims(x):
    return np.sum(x, axis=0, keepdims=True)


@case(np.mean, args=lambda r: (mat(r),))
def np_mean(x):
    return np.mean(x)


@case(np.mean, args=lambda r: (mat(r, 3, 4),))
def np_mean_axis(x):
    return np.mean(x, axis=0)


@case(np.max, args=lambda r: (distinct(r, (2, 3)),))
def np_max(x):
    return np.max(x)


@case(np.max, args=lambda r: (distinct(r, (2, 3)),))
def np_max_axis(x):
    return np.max(x, axis=1)


@case(np.amax, args=lambda r: (distinct(r, (3, 2)),))
def np_amax(x):
    return np.amax(x, axis=0)


@case(np.min, args=lambda r: (distinct(r, (2, 3)),))
def np_min(x):
    return np.min(x)


@case(np.min, args=lambda r: (distinct(r, (2, 3)),))
def np_min_axis(x):
    return np.min(x, axis=0, keepdims=True)


@case(np.amin, args=lambda r: (distinct(r, (3, 2)),))
def np_amin(x):
    return np.amin(x, axis=1)


@case(np.prod, args=lambda r: (vec(r, 4),))
def np_prod(x):
    return np.prod(x)


@case(np.prod, args=lambda r: (mat(r),))
def np_prod_axis(x):
    return np.prod(x, axis=1)


# -- shape and assembly ----------------------------------------------------------------------


@case(np.reshape, args=lambda r: (mat(r),))
def np_reshape(x):
    return np.reshape(x, (3, 2))


@case(np.ravel, args=lambda r: (mat(r),))
def np_ravel(x):
    return np.ravel(x)


@case(np.transpose, args=lambda r: (mat(r),))
def np_transpose(x):
    return np.transpose(x)


@case(np.transpose, args=lambda r: (r.uniform(-1, 1, (2, 3, 4)),))
def np_transpose_axes(x):
    return np.transpose(x, (1, 2, 0))


@case(np.squeeze, args=lambda r: (r.uniform(-1, 1, (2, 1, 3)),))
def np_squeeze(x):
    return np.squeeze(x)


@case(np.expand_dims, args=lambda r: (mat(r),))
def np_expand_dims(x):
    return np.expand_dims(x, 1)


@case(np.copy, args=lambda r: (vec(r),))
def np_copy(x):
    return np.copy(x)


@case(np.stack, args=lambda r: (vec(r), vec(r)))
def np_stack(x, y):
    return np.stack([x, y * x])


@case(np.stack, args=lambda r: (vec(r), vec(r)))
def np_stack_axis(x, y):
    return np.stack([x, y], axis=1)


@case(np.array, args=lambda r: (num(r), num(r)))
def np_array(a, b):
    return np.array([a, b, a * b])


@case(np.asarray, args=lambda r: (vec(r),))
def np_asarray(x):
    return np.asarray(x)


@case(np.concatenate, args=lambda r: (vec(r, 2), vec(r, 3)))
def np_concatenate(x, y):
    return np.concatenate([x, y])


@case(np.concatenate, args=lambda r: (mat(r, 2, 3), mat(r, 2, 2)))
def np_concatenate_axis(x, y):
    return np.concatenate([x, y], axis=1)


@case(np.dot, args=lambda r: (vec(r), vec(r)))
def np_dot(a, b):
    return np.dot(a, b)


@case(np.dot, args=lambda r: (mat(r, 2, 3), mat(r, 3, 2)))
def np_dot_matrices(a, b):
    return np.dot(a, b)


@case(np.outer, args=lambda r: (vec(r, 2), vec(r, 3)))
def np_outer(a, b):
    return np.outer(a, b)


@case(np.where, args=lambda r: (vec(r, 4), vec(r, 4)))
def np_where(x, y):
    return np.where(x > 0, x * y, y)


# == the op library (issue 3): every family ====================================================
# Cases below were added with adjoints/indexing.py, products.py, linalg.py and special.py.


def sym(r: np.random.Generator, n: int = 3, lo: float = 0.5, gap: float = 0.7) -> np.ndarray:
    """Half of a symmetric matrix with well-separated eigenvalues (a + a.T has them)."""
    q, _ = np.linalg.qr(r.standard_normal((n, n)))
    w = lo + gap * np.arange(n) + r.uniform(0.0, 0.1, n)
    w = w * r.choice([-1.0, 1.0], size=n)
    return 0.5 * (q * w) @ q.T


def spd(r: np.random.Generator, n: int = 3) -> np.ndarray:
    """Half of a symmetric positive-definite matrix."""
    q, _ = np.linalg.qr(r.standard_normal((n, n)))
    w = 0.5 + 0.7 * np.arange(n) + r.uniform(0.0, 0.1, n)
    return 0.5 * (q * w) @ q.T


def well_conditioned(r: np.random.Generator, m: int = 3, n: int = 3) -> np.ndarray:
    """A matrix with well-separated singular values in [0.5, 2.5]."""
    u, _ = np.linalg.qr(r.standard_normal((m, m)))
    v, _ = np.linalg.qr(r.standard_normal((n, n)))
    k = min(m, n)
    s = 0.6 + 0.7 * np.arange(k)[::-1] + r.uniform(0.0, 0.1, k)
    return (u[:, :k] * s) @ v[:, :k].T


def unit(r: np.random.Generator, n: Any = 3, lo: float = 0.1, hi: float = 0.8) -> np.ndarray:
    """Values inside (-1, 1), away from 0."""
    return vec(r, n, lo, hi)


# -- elementwise: NumPy unary ---------------------------------------------------------------


@case(np.exp2, args=lambda r: (vec(r),))
def np_exp2(x):
    return np.exp2(x)


@case(np.expm1, args=lambda r: (vec(r),))
def np_expm1(x):
    return np.expm1(x)


@case(np.log2, args=lambda r: (pos(r),))
def np_log2(x):
    return np.log2(x)


@case(np.log10, args=lambda r: (pos(r),))
def np_log10(x):
    return np.log10(x)


@case(np.log1p, args=lambda r: (pos(r, 3, 0.1, 1.0) - 0.5,))
def np_log1p(x):
    return np.log1p(x)


@case(np.cbrt, args=lambda r: (vec(r),))
def np_cbrt(x):
    return np.cbrt(x)


@case(np.reciprocal, args=lambda r: (vec(r),))
def np_reciprocal(x):
    return np.reciprocal(x)


@case(np.arcsin, args=lambda r: (unit(r),))
def np_arcsin(x):
    return np.arcsin(x)


@case(np.arccos, args=lambda r: (unit(r),))
def np_arccos(x):
    return np.arccos(x)


@case(np.arctan, args=lambda r: (vec(r),))
def np_arctan(x):
    return np.arctan(x)


@case(np.sinh, args=lambda r: (vec(r),))
def np_sinh(x):
    return np.sinh(x)


@case(np.cosh, args=lambda r: (vec(r),))
def np_cosh(x):
    return np.cosh(x)


@case(np.arcsinh, args=lambda r: (vec(r),))
def np_arcsinh(x):
    return np.arcsinh(x)


@case(np.arccosh, args=lambda r: (pos(r, 3, 1.2, 3.0),))
def np_arccosh(x):
    return np.arccosh(x)


@case(np.arctanh, args=lambda r: (unit(r),))
def np_arctanh(x):
    return np.arctanh(x)


@case(np.sinc, args=lambda r: (vec(r),))
def np_sinc(x):
    return np.sinc(x)


@case(np.deg2rad, np.radians, args=lambda r: (vec(r),))
def np_deg2rad(x):
    return np.deg2rad(x) + np.radians(x * x)


@case(np.rad2deg, np.degrees, args=lambda r: (vec(r),))
def np_rad2deg(x):
    return np.rad2deg(x) + np.degrees(x * x)


@case(np.real, np.conjugate, args=lambda r: (vec(r),))
def np_real(x):
    return np.real(x) * np.conjugate(x) + np.conj(x)


@case(np.nan_to_num, args=lambda r: (vec(r),))
def np_nan_to_num(x):
    return np.nan_to_num(np.log(x))


@case(np.clip, args=lambda r: (vec(r, 6, 0.05, 1.5),))
def np_clip(x):
    return np.clip(x, -0.5, 0.8)


@case(
    np.clip,
    args=lambda r: (vec(r, 6, 0.05, 1.5), -0.5 - r.uniform(0, 0.2, 6), 0.7 + r.uniform(0, 0.2, 6)),
)
def np_clip_active_bounds(x, lo, hi):
    return np.clip(x, lo, hi)


@case(np.clip, args=lambda r: (vec(r, 6, 0.05, 1.5),))
def np_clip_upper_only(x):
    return np.clip(x, None, 0.6)


# -- elementwise: NumPy binary --------------------------------------------------------------


@case(
    np.fmod, args=lambda r: (pos(r, 3, 0.1, 0.9) + 2.0 * r.integers(0, 3, 3), pos(r, 3, 2.2, 2.4))
)
def np_fmod(x, y):
    return np.fmod(x, y)


@case(np.float_power, args=lambda r: (pos(r), vec(r)))
def np_float_power(x, y):
    return np.float_power(x, y)


@case(np.arctan2, args=lambda r: (vec(r), mat(r, 2, 3) + 2.0))
def np_arctan2(y, x):
    return np.arctan2(y, x)


@case(np.hypot, args=lambda r: (vec(r), vec(r)))
def np_hypot(x, y):
    return np.hypot(x, y)


@case(np.logaddexp, args=lambda r: (vec(r), mat(r, 2, 3)))
def np_logaddexp(x, y):
    return np.logaddexp(x, y)


@case(np.logaddexp2, args=lambda r: (vec(r), vec(r)))
def np_logaddexp2(x, y):
    return np.logaddexp2(x, y)


@case(np.copysign, args=lambda r: (vec(r), vec(r)))
def np_copysign(x, y):
    return np.copysign(x, y)


@case(np.true_divide, args=lambda r: (mat(r, 2, 3), vec(r)))
def np_true_divide(x, y):
    return np.true_divide(x, y)


@case(np.maximum, args=lambda r: (vec(r, 4),))
def np_maximum_ties(x):
    return np.maximum(x, x) + np.minimum(x, x)


@case(np.fmax, np.fmin, args=lambda r: (vec(r, 4),))
def np_fmax_fmin_ties(x):
    return np.fmax(x, x) * 2.0 + np.fmin(x, x)


# -- elementwise: math ----------------------------------------------------------------------


@case(math.asin, math.acos, math.atan, args=lambda r: (num(r, 0.1, 0.8),))
def math_inverse_trig(x):
    return math.asin(x) + 2.0 * math.acos(x) + 3.0 * math.atan(x)


@case(math.atan2, args=lambda r: (num(r), num(r)))
def math_atan2(y, x):
    return math.atan2(y, x)


@case(math.sinh, math.cosh, args=lambda r: (num(r),))
def math_hyperbolic(x):
    return math.sinh(x) + 2.0 * math.cosh(x)


@case(math.asinh, math.acosh, math.atanh, args=lambda r: (num(r, 0.1, 0.8, signed=False),))
def math_inverse_hyperbolic(x):
    return math.asinh(x) + 2.0 * math.acosh(x + 1.5) + 3.0 * math.atanh(x)


@case(
    math.log2, math.log10, math.log1p, math.expm1, args=lambda r: (num(r, 0.5, 2.0, signed=False),)
)
def math_logs(x):
    return math.log2(x) + 2.0 * math.log10(x) + 3.0 * math.log1p(x) + math.expm1(x)


@case(math.hypot, args=lambda r: (num(r), num(r)))
def math_hypot(x, y):
    return math.hypot(x, y)


@case(math.erf, math.erfc, args=lambda r: (num(r),))
def math_erf(x):
    return math.erf(x) + 2.0 * math.erfc(x)


@case(math.radians, math.degrees, args=lambda r: (num(r),))
def math_angles(x):
    return math.radians(x) + math.degrees(x * x)


@case(math.copysign, args=lambda r: (num(r), num(r)))
def math_copysign(x, y):
    return math.copysign(x, y)


@case(
    math.fmod,
    args=lambda r: (
        num(r, 0.1, 0.9, signed=False) + 2.0 * int(r.integers(0, 3)),
        num(r, 2.2, 2.4, signed=False),
    ),
)
def math_fmod(x, y):
    return math.fmod(x, y)


# -- reductions -----------------------------------------------------------------------------


@case(np.var, args=lambda r: (mat(r, 3, 4),))
def np_var(x):
    return np.var(x)


@case(np.var, args=lambda r: (mat(r, 3, 4),))
def np_var_axis_ddof(x):
    return np.var(x, axis=0, ddof=1)


@case(np.std, args=lambda r: (mat(r, 3, 4),))
def np_std(x):
    return np.std(x)


@case(np.std, args=lambda r: (mat(r, 3, 4),))
def np_std_axis_keepdims(x):
    return np.std(x, axis=1, ddof=1, keepdims=True)


@case(np.cumsum, args=lambda r: (mat(r, 3, 4),))
def np_cumsum(x):
    return np.cumsum(x)


@case(np.cumsum, args=lambda r: (mat(r, 3, 4),))
def np_cumsum_axis(x):
    return np.cumsum(x, axis=1)


@case(np.cumprod, args=lambda r: (vec(r, 4),))
def np_cumprod(x):
    return np.cumprod(x)


@case(np.cumprod, args=lambda r: (r.uniform(0.5, 1.5, (3, 2)),))
def np_cumprod_axis(x):
    return np.cumprod(x, axis=0)


@case(np.average, args=lambda r: (mat(r, 3, 4),))
def np_average(x):
    return np.average(x, axis=1)


@case(np.average, args=lambda r: (mat(r, 3, 4), pos(r, (3, 4))))
def np_average_weights(x, w):
    return np.average(x, weights=w)


@case(np.average, args=lambda r: (mat(r, 3, 4), pos(r, 4)))
def np_average_weights_axis(x, w):
    return np.average(x, axis=1, weights=w)


@case(np.ptp, args=lambda r: (distinct(r, (3, 4)),))
def np_ptp(x):
    return np.ptp(x, axis=0)


@case(np.ptp, args=lambda r: (distinct(r, (3, 4)),))
def np_ptp_all(x):
    return np.ptp(x)


@case(np.max, args=lambda r: (vec(r, 2),))
def np_max_ties(x):
    return np.max(np.concatenate([x, x]))


@case(np.nansum, np.nanmean, args=lambda r: (mat(r, 3, 4),))
def np_nansum(x):
    y = np.where(x > 1.0, np.nan, x)
    return np.nansum(y, axis=0) + np.nanmean(y)


@case(np.diff, args=lambda r: (mat(r, 3, 4),))
def np_diff(x):
    return np.diff(x)


@case(np.diff, args=lambda r: (mat(r, 4, 3),))
def np_diff_n_axis(x):
    return np.diff(x, n=2, axis=0)


# -- shape and assembly ---------------------------------------------------------------------


@case(np.swapaxes, args=lambda r: (r.uniform(-1, 1, (2, 3, 4)),))
def np_swapaxes(x):
    return np.swapaxes(x, 0, 2)


@case(np.moveaxis, args=lambda r: (r.uniform(-1, 1, (2, 3, 4)),))
def np_moveaxis(x):
    return np.moveaxis(x, 0, -1)


@case(np.rollaxis, args=lambda r: (r.uniform(-1, 1, (2, 3, 4)),))
def np_rollaxis(x):
    return np.rollaxis(x, 2) + np.transpose(np.rollaxis(x, 1, 0), (2, 1, 0)) * 2.0


@case(np.rollaxis, args=lambda r: (r.uniform(-1, 1, (2, 3, 4)),))
def np_rollaxis_start(x):
    return np.rollaxis(x, 0, 3)


@case(np.atleast_1d, np.atleast_2d, np.atleast_3d, args=lambda r: (vec(r),))
def np_atleast(x):
    return np.atleast_1d(x) + np.ravel(np.atleast_2d(x)) * np.ravel(np.atleast_3d(x))


@case(np.ascontiguousarray, np.asfortranarray, args=lambda r: (mat(r),))
def np_contiguous(x):
    return np.ascontiguousarray(x) * np.asfortranarray(x)


@case(np.broadcast_to, args=lambda r: (vec(r),))
def np_broadcast_to(x):
    return np.broadcast_to(x, (2, 3))


@case(np.hstack, args=lambda r: (vec(r, 2), vec(r, 3)))
def np_hstack(x, y):
    return np.hstack([x, y])


@case(np.hstack, np.vstack, args=lambda r: (mat(r, 2, 3), mat(r, 2, 2), vec(r, 3)))
def np_hstack_vstack(a, b, c):
    return np.vstack([np.hstack([a, b])[:, :3], c])


@case(np.dstack, args=lambda r: (mat(r, 2, 3), mat(r, 2, 3)))
def np_dstack(a, b):
    return np.dstack([a, b])


@case(np.column_stack, args=lambda r: (vec(r, 3), mat(r, 3, 2)))
def np_column_stack(a, b):
    return np.column_stack([a, b])


@case(np.split, args=lambda r: (vec(r, 6),))
def np_split(x):
    a, b, c = np.split(x, 3)
    return a * c + b


@case(np.split, args=lambda r: (mat(r, 3, 4),))
def np_split_indices_unused(x):
    parts = np.split(x, [1, 3], axis=1)
    return parts[1] * 2.0


@case(np.array_split, args=lambda r: (vec(r, 5),))
def np_array_split(x):
    a, b = np.array_split(x, 2)
    return np.sum(a) * b


@case(np.hsplit, np.vsplit, args=lambda r: (mat(r, 2, 4),))
def np_hsplit_vsplit(x):
    a, b = np.hsplit(x, 2)
    c, e = np.vsplit(a * b, 2)
    return c - 2.0 * e


@case(np.dsplit, args=lambda r: (r.uniform(-1, 1, (2, 2, 4)),))
def np_dsplit(x):
    a, b = np.dsplit(x, 2)
    return a * b


@case(np.tile, args=lambda r: (mat(r, 2, 3),))
def np_tile(x):
    return np.tile(x, (2, 1, 3))


@case(np.tile, args=lambda r: (vec(r, 3),))
def np_tile_int(x):
    return np.tile(x, 2)


@case(np.repeat, args=lambda r: (mat(r, 2, 3),))
def np_repeat(x):
    return np.repeat(x, 2)


@case(np.repeat, args=lambda r: (mat(r, 2, 3),))
def np_repeat_axis(x):
    return np.repeat(x, 3, axis=1)


@case(np.repeat, args=lambda r: (mat(r, 3, 2),))
def np_repeat_counts(x):
    return np.repeat(x, [2, 0, 1], axis=0)


@case(np.flip, args=lambda r: (mat(r, 2, 3),))
def np_flip(x):
    return np.flip(x) + np.flip(x, axis=1)


@case(np.fliplr, np.flipud, args=lambda r: (mat(r, 2, 3),))
def np_fliplr_flipud(x):
    return np.fliplr(x) * np.flipud(x)


@case(np.roll, args=lambda r: (mat(r, 2, 3),))
def np_roll(x):
    return np.roll(x, 2) + np.roll(x, -1, axis=1)


@case(np.roll, args=lambda r: (mat(r, 3, 3),))
def np_roll_tuple(x):
    return np.roll(x, (1, 2), axis=(0, 1))


@case(np.rot90, args=lambda r: (mat(r, 2, 3),))
def np_rot90(x):
    return np.rot90(x)


@case(np.rot90, args=lambda r: (r.uniform(-1, 1, (2, 3, 4)),))
def np_rot90_axes(x):
    return np.rot90(x, 3, axes=(1, 2))


@case(np.pad, args=lambda r: (mat(r, 2, 3),))
def np_pad_constant(x):
    return np.pad(x, ((1, 2), (0, 1)))


@case(np.pad, args=lambda r: (mat(r, 2, 3), num(r)))
def np_pad_constant_value(x, c):
    return np.pad(x, 1, constant_values=c)


@case(np.pad, args=lambda r: (mat(r, 3, 4),))
def np_pad_edge(x):
    return np.pad(x, ((2, 1), (1, 3)), mode="edge")


@case(np.pad, args=lambda r: (mat(r, 3, 4),))
def np_pad_reflect(x):
    return np.pad(x, ((2, 1), (1, 3)), mode="reflect")


@case(np.pad, args=lambda r: (mat(r, 3, 4),))
def np_pad_symmetric(x):
    return np.pad(x, ((2, 3), (1, 2)), mode="symmetric")


@case(np.append, args=lambda r: (mat(r, 2, 3), vec(r, 2)))
def np_append(x, v):
    return np.append(x, v)


@case(np.append, args=lambda r: (mat(r, 2, 3), mat(r, 1, 3)))
def np_append_axis(x, v):
    return np.append(x, v, axis=0)


@case(np.concatenate, args=lambda r: (mat(r, 2, 3), mat(r, 2, 3)))
def np_concatenate_negative_axis(x, y):
    return np.concatenate([x, y, x], axis=-1)


@case(np.squeeze, args=lambda r: (r.uniform(-1, 1, (2, 1, 3, 1)),))
def np_squeeze_axis(x):
    return np.squeeze(x, axis=1)


@case(np.expand_dims, args=lambda r: (vec(r),))
def np_expand_dims_tuple(x):
    return np.expand_dims(x, (0, 2))


# -- indexing and selection -----------------------------------------------------------------


@case(np.where, args=lambda r: (vec(r, 3), mat(r, 2, 3)))
def np_where_broadcast(x, y):
    return np.where(y > 0, x, y)


@case(np.where, args=lambda r: (vec(r, 3), num(r)))
def np_where_scalar(x, s):
    return np.where(x > 0, s, x)


@case(np.select, args=lambda r: (vec(r, 6), vec(r, 6), num(r)))
def np_select(x, y, s):
    return np.select([x > 0.5, x < 0.0], [x * y, y], s)


@case(np.tril, np.triu, args=lambda r: (mat(r, 3, 3),))
def np_tril_triu(x):
    return np.tril(x) + 2.0 * np.triu(x, 1) + np.tril(x, -1)


@case(np.diag, args=lambda r: (vec(r, 3),))
def np_diag_vector(x):
    return np.diag(x, 1)


@case(np.diag, args=lambda r: (mat(r, 3, 4),))
def np_diag_matrix(x):
    return np.diag(x) + np.diag(x, -1)[0]


@case(np.diagflat, args=lambda r: (mat(r, 2, 2),))
def np_diagflat(x):
    return np.diagflat(x, -1)


@case(np.diagonal, args=lambda r: (r.uniform(-1, 1, (3, 2, 4)),))
def np_diagonal(x):
    return np.diagonal(x, 1, 0, 2)


@case(np.take, args=lambda r: (vec(r, 5),))
def np_take(x):
    return np.take(x, [0, 3, 3, 1])


@case(np.take, args=lambda r: (mat(r, 3, 4),))
def np_take_axis(x):
    return np.take(x, np.array([2, 0, 2]), axis=1)


@case(np.take_along_axis, args=lambda r: (mat(r, 3, 4),))
def np_take_along_axis(x):
    idx = np.array([[0, 1], [3, 3], [2, 0]])
    return np.take_along_axis(x, idx, axis=1)


@case(np.sort, args=lambda r: (distinct(r, (3, 4)),))
def np_sort(x):
    return np.sort(x) + np.sort(x, axis=0)


@case(np.sort, args=lambda r: (distinct(r, (3, 4)),))
def np_sort_flat(x):
    return np.sort(x, axis=None)


@case(np.partition, args=lambda r: (distinct(r, 6),))
def np_partition(x):
    return np.partition(x, 2)


# -- products -------------------------------------------------------------------------------


@case(np.matmul, args=lambda r: (r.uniform(-1, 1, (2, 2, 3)), mat(r, 3, 2)))
def np_matmul_batched(a, b):
    return np.matmul(a, b)


@case(np.dot, args=lambda r: (r.uniform(-1, 1, (2, 3, 4)), r.uniform(-1, 1, (2, 4, 2))))
def np_dot_nd(a, b):
    return np.dot(a, b)


@case(np.dot, args=lambda r: (num(r), vec(r)))
def np_dot_scalar(s, b):
    return np.dot(s, b)


@case(np.inner, args=lambda r: (vec(r), vec(r)))
def np_inner(a, b):
    return np.inner(a, b)


@case(np.inner, args=lambda r: (mat(r, 2, 3), r.uniform(-1, 1, (4, 2, 3))))
def np_inner_nd(a, b):
    return np.inner(a, b)


@case(np.outer, args=lambda r: (mat(r, 2, 2), vec(r, 3)))
def np_outer_matrix(a, b):
    return np.outer(a, b)


@case(np.vdot, args=lambda r: (mat(r, 2, 3), mat(r, 3, 2)))
def np_vdot(a, b):
    return np.vdot(a, b)


@case(np.tensordot, args=lambda r: (r.uniform(-1, 1, (2, 3, 4)), r.uniform(-1, 1, (3, 4, 2))))
def np_tensordot(a, b):
    return np.tensordot(a, b)


@case(np.tensordot, args=lambda r: (r.uniform(-1, 1, (2, 3, 4)), r.uniform(-1, 1, (4, 2, 5))))
def np_tensordot_pairs(a, b):
    return np.tensordot(a, b, axes=([0, 2], [1, 0]))


@case(np.tensordot, args=lambda r: (mat(r, 2, 3), vec(r, 4)))
def np_tensordot_zero(a, b):
    return np.tensordot(a, b, 0)


@case(np.tensordot, args=lambda r: (mat(r, 2, 3), mat(r, 3, 4)))
def np_tensordot_int(a, b):
    return np.tensordot(a, b, axes=1)


@case(np.einsum, args=lambda r: (mat(r, 2, 3), mat(r, 3, 4)))
def np_einsum_matmul(a, b):
    return np.einsum("ij,jk->ik", a, b)


@case(np.einsum, args=lambda r: (mat(r, 3, 3), vec(r, 3)))
def np_einsum_repeated(a, v):
    return np.einsum("ii,i->i", a, v) + np.einsum("ii", a)


@case(np.einsum, args=lambda r: (mat(r, 2, 3),))
def np_einsum_sum_one(a):
    return np.einsum("ij->j", a)


@case(np.einsum, args=lambda r: (r.uniform(-1, 1, (2, 3, 4)), r.uniform(-1, 1, (4, 2))))
def np_einsum_ellipsis(a, b):
    return np.einsum("...j,jk->...k", a, b)


@case(np.einsum, args=lambda r: (vec(r, 3), vec(r, 4), vec(r, 2)))
def np_einsum_three_implicit(a, b, c):
    return np.einsum("i,j,k", a, b, c)


@case(np.kron, args=lambda r: (mat(r, 2, 3), mat(r, 2, 2)))
def np_kron(a, b):
    return np.kron(a, b)


@case(np.kron, args=lambda r: (vec(r, 2), mat(r, 2, 3)))
def np_kron_mixed(a, b):
    return np.kron(a, b)


@case(np.cross, args=lambda r: (mat(r, 2, 3), vec(r, 3)))
def np_cross(a, b):
    return np.cross(a, b)


def _crosses_2d() -> bool:
    """Whether this NumPy takes 2-element vectors in np.cross (deprecated in NumPy 2.0, refused
    with ValueError since 2.5)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            np.cross(np.ones(2), np.ones(2))
    except ValueError:
        return False
    return True


if _crosses_2d():

    @case(np.cross, args=lambda r: (mat(r, 4, 2), mat(r, 4, 2)))
    def np_cross_2d(a, b):
        return np.cross(a, b)


@case(np.cross, args=lambda r: (mat(r, 3, 2), mat(r, 3, 2)))
def np_cross_axis(a, b):
    return np.cross(a, b, axis=0)


@case(np.trace, args=lambda r: (mat(r, 3, 3),))
def np_trace(a):
    return np.trace(a)


@case(np.trace, args=lambda r: (r.uniform(-1, 1, (3, 2, 4)),))
def np_trace_offset(a):
    return np.trace(a, 1, 0, 2)


# -- linear algebra -------------------------------------------------------------------------


@case(np.linalg.inv, args=lambda r: (well_conditioned(r),))
def linalg_inv(a):
    return np.linalg.inv(a)


@case(np.linalg.inv, args=lambda r: (np.stack([well_conditioned(r), well_conditioned(r)]),))
def linalg_inv_batched(a):
    return np.linalg.inv(a)


@case(np.linalg.pinv, args=lambda r: (well_conditioned(r, 4, 2),))
def linalg_pinv_tall(a):
    return np.linalg.pinv(a)


@case(np.linalg.pinv, args=lambda r: (well_conditioned(r, 2, 3),))
def linalg_pinv_wide(a):
    return np.linalg.pinv(a)


@case(np.linalg.det, args=lambda r: (well_conditioned(r),))
def linalg_det(a):
    return np.linalg.det(a)


@case(np.linalg.det, args=lambda r: (np.stack([well_conditioned(r), well_conditioned(r)]),))
def linalg_det_batched(a):
    return np.linalg.det(a)


@case(np.linalg.slogdet, args=lambda r: (well_conditioned(r),))
def linalg_slogdet(a):
    sign, logdet = np.linalg.slogdet(a)
    return sign * logdet


@case(np.linalg.solve, args=lambda r: (well_conditioned(r), vec(r, 3)))
def linalg_solve(a, b):
    return np.linalg.solve(a, b)


@case(np.linalg.solve, args=lambda r: (well_conditioned(r), mat(r, 3, 2)))
def linalg_solve_matrix(a, b):
    return np.linalg.solve(a, b)


@case(np.linalg.cholesky, args=lambda r: (spd(r),))
def linalg_cholesky(a):
    return np.linalg.cholesky(a + a.T)


@case(np.linalg.qr, args=lambda r: (well_conditioned(r, 4, 3),))
def linalg_qr(a):
    q, r = np.linalg.qr(a)
    return np.concatenate([np.ravel(q), np.ravel(r)])


@case(np.linalg.qr, args=lambda r: (well_conditioned(r, 3, 3),))
def linalg_qr_r_only(a):
    q, r = np.linalg.qr(a)
    return r


@case(np.linalg.eigh, args=lambda r: (sym(r),))
def linalg_eigh(a):
    w, v = np.linalg.eigh(a + a.T)
    return np.concatenate([w, np.ravel(v * v)])


@case(np.linalg.eigh, args=lambda r: (sym(r),))
def linalg_eigh_values(a):
    w, v = np.linalg.eigh(a + a.T)
    return w


@case(np.linalg.eigvalsh, args=lambda r: (sym(r),))
def linalg_eigvalsh(a):
    return np.linalg.eigvalsh(a + a.T)


@case(np.linalg.svd, args=lambda r: (well_conditioned(r, 4, 3),))
def linalg_svd_tall(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.concatenate([s, np.ravel(u * u), np.ravel(vh * vh)])


@case(np.linalg.svd, args=lambda r: (well_conditioned(r, 2, 4),))
def linalg_svd_wide(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.concatenate([s, np.ravel(u * u), np.ravel(vh * vh)])


@case(np.linalg.svd, args=lambda r: (well_conditioned(r, 3, 2),))
def linalg_svd_values(a):
    return np.linalg.svd(a, compute_uv=False)


@case(np.linalg.lstsq, args=lambda r: (well_conditioned(r, 4, 2), vec(r, 4)))
def linalg_lstsq(a, b):
    x, res, rank, sv = np.linalg.lstsq(a, b)
    return np.concatenate([x, res])


@case(np.linalg.matrix_power, args=lambda r: (mat(r, 3, 3),))
def linalg_matrix_power(a):
    return np.linalg.matrix_power(a, 3)


@case(np.linalg.matrix_power, args=lambda r: (well_conditioned(r),))
def linalg_matrix_power_negative(a):
    return np.linalg.matrix_power(a, -2)


@case(np.linalg.norm, args=lambda r: (mat(r, 3, 4),))
def linalg_norm(x):
    return np.linalg.norm(x)


@case(np.linalg.norm, args=lambda r: (mat(r, 3, 4),))
def linalg_norm_axis(x):
    return np.linalg.norm(x, axis=1) + np.linalg.norm(x, 1, axis=1)


@case(np.linalg.norm, args=lambda r: (distinct(r, (3, 4)),))
def linalg_norm_inf(x):
    return np.linalg.norm(x, np.inf, axis=0, keepdims=True)


@case(np.linalg.norm, args=lambda r: (vec(r, 4),))
def linalg_norm_p(x):
    return np.linalg.norm(x, 3)


@case(np.linalg.norm, args=lambda r: (well_conditioned(r, 3, 4),))
def linalg_norm_matrix(x):
    return np.linalg.norm(x, "fro") + 2.0 * np.linalg.norm(x, "nuc") + 3.0 * np.linalg.norm(x, 2)


@case(np.linalg.norm, args=lambda r: (distinct(r, (3, 3)),))
def linalg_norm_matrix_1_inf(x):
    return np.linalg.norm(x, 1) + 2.0 * np.linalg.norm(x, np.inf)


# -- SciPy (an optional extra: these cases exist when SciPy is installed) -------------------

try:
    import scipy.linalg as sla
    import scipy.special as sps
except ImportError:  # pragma: no cover - SciPy is optional
    sla = sps = None


def scipy_case(
    *names: str, args: Callable[[np.random.Generator], tuple], wrt: Any = None
) -> Callable:
    """`case` for SciPy ops named like "special.erf" or "linalg.expm"; a no-op without SciPy."""
    if sps is None:  # pragma: no cover
        return lambda fn: fn
    mods = {"special": sps, "linalg": sla}
    ops = tuple(getattr(mods[n.split(".")[0]], n.split(".")[1]) for n in names)
    return case(*ops, args=args, wrt=wrt)


@scipy_case("special.erf", "special.erfc", args=lambda r: (vec(r),))
def sp_erf(x):
    return sps.erf(x) + 2.0 * sps.erfc(x)


@scipy_case("special.erfinv", args=lambda r: (unit(r),))
def sp_erfinv(x):
    return sps.erfinv(x)


@scipy_case("special.gammaln", "special.gamma", "special.digamma", args=lambda r: (pos(r),))
def sp_gamma(x):
    return sps.gammaln(x) + sps.gamma(x) * sps.digamma(x)


@scipy_case("special.expit", "special.log_expit", args=lambda r: (vec(r),))
def sp_expit(x):
    return sps.expit(x) + sps.log_expit(x)


@scipy_case("special.logit", args=lambda r: (pos(r, 3, 0.1, 0.9),))
def sp_logit(x):
    return sps.logit(x)


@scipy_case("special.ndtr", "special.log_ndtr", args=lambda r: (vec(r),))
def sp_ndtr(x):
    return sps.ndtr(x) + sps.log_ndtr(x)


@scipy_case("special.xlogy", args=lambda r: (vec(r), pos(r)))
def sp_xlogy(x, y):
    return sps.xlogy(x, y)


@scipy_case("special.logsumexp", args=lambda r: (mat(r, 3, 4),))
def sp_logsumexp(x):
    return sps.logsumexp(x, axis=1) + sps.logsumexp(x)


@scipy_case("special.logsumexp", args=lambda r: (mat(r, 3, 4), pos(r, (3, 4))))
def sp_logsumexp_b(x, b):
    return sps.logsumexp(x, axis=0, b=b, keepdims=True)


@scipy_case("special.softmax", "special.log_softmax", args=lambda r: (mat(r, 3, 4),))
def sp_softmax(x):
    return sps.softmax(x, axis=1) + sps.log_softmax(x, axis=0) + sps.softmax(x)


@scipy_case("linalg.expm", args=lambda r: (mat(r, 3, 3),))
def sla_expm(a):
    return sla.expm(a)


# -- NumPy 2 names, nan-reductions and the rest ------------------------------------------------


def np2(*names: str) -> tuple:
    """The functions among `names` ("vecdot", "linalg.svdvals") this NumPy version has."""
    out = []
    for n in names:
        obj: Any = np
        for part in n.split("."):
            obj = getattr(obj, part, None)
        if obj is not None:
            out.append(obj)
    return tuple(out)


@case(*np2("linalg.matmul"), args=lambda r: (mat(r, 2, 3), mat(r, 3, 2)))
def np_linalg_matmul(a, b):
    return np.linalg.matmul(a, b)


@case(*np2("linalg.outer"), args=lambda r: (vec(r, 2), vec(r, 3)))
def np_linalg_outer(a, b):
    return np.linalg.outer(a, b)


@case(*np2("linalg.tensordot"), args=lambda r: (mat(r, 2, 3), mat(r, 3, 4)))
def np_linalg_tensordot(a, b):
    return np.linalg.tensordot(a, b, axes=1)


@case(*np2("linalg.trace"), args=lambda r: (r.uniform(-1, 1, (2, 3, 3)),))
def np_linalg_trace(a):
    return np.linalg.trace(a, offset=1)


@case(*np2("linalg.diagonal"), args=lambda r: (r.uniform(-1, 1, (2, 3, 3)),))
def np_linalg_diagonal(a):
    return np.linalg.diagonal(a)


@case(*np2("linalg.cross"), args=lambda r: (mat(r, 2, 3), vec(r, 3)))
def np_linalg_cross(a, b):
    return np.linalg.cross(a, b)


@case(*np2("vecdot", "linalg.vecdot"), args=lambda r: (mat(r, 2, 3), vec(r, 3)))
def np_vecdot(a, b):
    return np.vecdot(a, b) + np.linalg.vecdot(a, b)


@case(
    *np2("matrix_transpose", "linalg.matrix_transpose"),
    args=lambda r: (r.uniform(-1, 1, (2, 3, 4)),),
)
def np_matrix_transpose(x):
    return np.matrix_transpose(x) * np.linalg.matrix_transpose(x)


@case(np.linalg.multi_dot, args=lambda r: (vec(r, 2), mat(r, 2, 3), mat(r, 3, 4), vec(r, 4)))
def np_multi_dot(a, b, c, e):
    return np.linalg.multi_dot([a, b, c, e])


@case(np.linalg.multi_dot, args=lambda r: (mat(r, 2, 3), mat(r, 3, 4), mat(r, 4, 2)))
def np_multi_dot_matrices(a, b, c):
    return np.linalg.multi_dot([a, b, c])


@case(np.convolve, args=lambda r: (vec(r, 5), vec(r, 3)))
def np_convolve(a, v):
    return np.convolve(a, v)


@case(np.convolve, args=lambda r: (vec(r, 5), vec(r, 2)))
def np_convolve_modes(a, v):
    return np.concatenate([np.convolve(a, v, "same"), np.convolve(v, a, "valid")])


@case(np.correlate, args=lambda r: (vec(r, 5), vec(r, 3)))
def np_correlate(a, v):
    return np.concatenate(
        [np.correlate(a, v), np.correlate(a, v, "full"), np.correlate(a, v, "same")]
    )


@case(np.polyval, args=lambda r: (vec(r, 3), mat(r, 2, 2)))
def np_polyval(p, x):
    return np.polyval(p, x)


@case(*np2("linalg.svdvals"), args=lambda r: (well_conditioned(r, 3, 2),))
def np_linalg_svdvals(x):
    return np.linalg.svdvals(x)


@case(*np2("linalg.vector_norm"), args=lambda r: (mat(r, 3, 4),))
def np_linalg_vector_norm(x):
    return np.linalg.vector_norm(x) + np.linalg.vector_norm(x, axis=0, ord=1)


@case(*np2("linalg.matrix_norm"), args=lambda r: (r.uniform(-1, 1, (2, 3, 3)),))
def np_linalg_matrix_norm(x):
    return np.linalg.matrix_norm(x) + np.linalg.matrix_norm(x, ord="nuc", keepdims=True)[:, 0, 0]


@case(np.cov, args=lambda r: (mat(r, 2, 5),))
def np_cov(m):
    return np.cov(m)


@case(np.cov, args=lambda r: (mat(r, 5, 3),))
def np_cov_columns(m):
    return np.cov(m, rowvar=False, ddof=0)


@case(np.nanmax, np.nanmin, args=lambda r: (distinct(r, (3, 4)),))
def np_nanmax_nanmin(x):
    y = np.where(x > 1.2, np.nan, x)
    return np.nanmax(y, axis=1) + np.nanmin(y, axis=1)


@case(np.nanprod, np.nanvar, np.nanstd, args=lambda r: (mat(r, 3, 4),))
def np_nanprod_var_std(x):
    y = np.where(np.arange(12).reshape(3, 4) % 5 == 1, np.nan, x)
    return np.nanprod(y, axis=0) + np.nanvar(y, axis=0) + np.nanstd(y, axis=0, ddof=1)


@case(np.nanvar, np.nanstd, args=lambda r: (mat(r, 3, 4),))
def np_nanvar_all(x):
    y = np.where(np.arange(12).reshape(3, 4) % 5 == 1, np.nan, x)
    return np.nanvar(y) + np.nanstd(y, axis=1, keepdims=True)


@case(np.nancumsum, np.nancumprod, args=lambda r: (mat(r, 3, 4),))
def np_nancumsum_prod(x):
    y = np.where(x > 1.2, np.nan, x)
    return np.nancumsum(y, axis=1) + np.nancumprod(y, axis=1)


@case(*np2("cumulative_sum", "cumulative_prod"), args=lambda r: (mat(r, 3, 4),))
def np_cumulative(x):
    return np.cumulative_sum(x, axis=1) + np.cumulative_prod(x, axis=1)


@case(*np2("cumulative_sum", "cumulative_prod"), args=lambda r: (vec(r, 4),))
def np_cumulative_initial(x):
    return np.cumulative_sum(x, include_initial=True) * np.cumulative_prod(x, include_initial=True)


@case(np.median, args=lambda r: (distinct(r, (3, 4)),))
def np_median(x):
    return np.median(x, axis=0) * np.median(x, axis=1, keepdims=True)


@case(np.median, args=lambda r: (distinct(r, 5),))
def np_median_odd(x):
    return np.median(x)


@case(*np2("trapezoid"), args=lambda r: (mat(r, 2, 4), np.cumsum(pos(r, 4))))
def np_trapezoid(y, x):
    return np.trapezoid(y, x) + np.sum(np.trapezoid(y, dx=0.5, axis=0))


@case(*np2("trapezoid"), args=lambda r: (mat(r, 2, 4), num(r, 0.2, 1.0, signed=False)))
def np_trapezoid_dx(y, dx):
    return np.trapezoid(y, dx=dx)


@case(np.ediff1d, args=lambda r: (mat(r, 2, 3),))
def np_ediff1d(x):
    return np.ediff1d(x) + np.sum(np.ediff1d(x, to_begin=[1.0], to_end=[2.0, 3.0]))


@case(np.asanyarray, np.real_if_close, args=lambda r: (vec(r),))
def np_asanyarray(x):
    return np.asanyarray(x) * np.real_if_close(x)


@case(*np2("unstack"), args=lambda r: (mat(r, 3, 2),))
def np_unstack(x):
    a, b = np.unstack(x, axis=1)
    return a * 2.0


@case(np.resize, args=lambda r: (mat(r, 2, 2),))
def np_resize(x):
    return np.resize(x, (3, 3))


@case(np.delete, args=lambda r: (mat(r, 3, 4),))
def np_delete(x):
    return np.delete(x, [0, 2], axis=1) + np.sum(np.delete(x, 1, axis=0))


@case(np.delete, args=lambda r: (mat(r, 2, 3),))
def np_delete_flat(x):
    return np.delete(x, 4)


@case(np.compress, np.extract, args=lambda r: (mat(r, 3, 4),))
def np_compress_extract(x):
    return np.compress([True, False, True], x, axis=0) * np.sum(np.extract(x[:2] > 0.0, x[1:]))


@case(np.choose, args=lambda r: (vec(r, 4), vec(r, 4), num(r)))
def np_choose(a, b, s):
    return np.choose(np.array([0, 1, 2, 1]), [a, b, s])


@case(np.interp, args=lambda r: (r.uniform(0.1, 2.9, 5), np.array([0.0, 1.0, 2.0, 3.0]), vec(r, 4)))
def np_interp(x, xp, fp):
    return np.interp(x, xp, fp)


@case(np.interp, args=lambda r: (r.uniform(0.1, 2.9, 5), vec(r, 4)), wrt=1)
def np_interp_knots(x, fp):
    xp = np.array([0.0, 1.0, 2.0, 3.0]) + x[0] * 0.0
    return np.interp(x, xp, fp)


@case(np.ldexp, args=lambda r: (vec(r),))
def np_ldexp(x):
    return np.ldexp(x, np.array([1, -2, 3]))


@case(
    np.divmod, args=lambda r: (pos(r, 3, 0.1, 0.9) + 2.0 * r.integers(0, 3, 3), pos(r, 3, 2.2, 2.4))
)
def np_divmod(x, y):
    q, m = np.divmod(x, y)
    return m * q


@case(np.modf, args=lambda r: (pos(r, 3, 0.1, 0.9) + r.integers(0, 3, 3),))
def np_modf(x):
    frac, whole = np.modf(x)
    return frac * whole
