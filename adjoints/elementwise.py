"""Elementwise ops: Python's arithmetic operators and NumPy's unary and binary ufuncs."""
# ruff: noqa: F821  (templates name the runtime helpers that generated code binds)

import math
import operator

import numpy as np

from .registry import Template, adjoint, d, nondiff, tangent

# -- operators ------------------------------------------------------------------------------


@adjoint(operator.add, np.add)
def add(z, x, y):
    d[x] = unbroadcast(d[z], x)
    d[y] = unbroadcast(d[z], y)


@tangent(operator.add, np.add)
def add_t(z, x, y):
    d[z] = d[x] + d[y]


@adjoint(operator.sub, np.subtract)
def sub(z, x, y):
    d[x] = unbroadcast(d[z], x)
    d[y] = unbroadcast(-d[z], y)


@tangent(operator.sub, np.subtract)
def sub_t(z, x, y):
    d[z] = d[x] - d[y]


@adjoint(operator.mul, np.multiply)
def mul(z, x, y):
    d[x] = unbroadcast(d[z] * y, x)
    d[y] = unbroadcast(d[z] * x, y)


@tangent(operator.mul, np.multiply)
def mul_t(z, x, y):
    d[z] = d[x] * y + x * d[y]


@adjoint(
    operator.truediv,
    np.divide,
    np.true_divide,
    notes="`c / y` with c a nonzero number written in the source: `-g * z * z / c` (reads z, "
    "not y)",
)
def div(z, x, y):
    d[x] = unbroadcast(d[z] / y, x)
    d[y] = unbroadcast(-d[z] * z / y, y)


def _reciprocal(z, x, y):
    # `c / y` with c a nonzero number: -g * c / y**2 is -g * z * z / c, which reads the
    # result only (a sigmoid `1.0 / (1.0 + np.exp(-a))` then keeps neither sum nor exp's input)
    d[y] = unbroadcast(-d[z] * z * z / x, y)


#: the adjoint of `div` where the numerator is a nonzero number (`Reverse.spec_op` picks it)
RECIPROCAL = Template.from_function(_reciprocal)
DIVIDE = (operator.truediv, np.divide, np.true_divide)


def _sigmoid(z, x):
    # `z = 1 / (1 + exp(-x))`, the logistic sigmoid, written out (`s2s/idioms.py` finds it):
    # its derivative z * (1 - z) reads the result only, and stays 0 where exp(-x) overflows
    d[x] = d[z] * z * (1.0 - z)


def _sigmoid_t(z, x):
    d[z] = d[x] * z * (1.0 - z)


def _sigmoid_of_negative(z, x):
    # `z = 1 / (1 + exp(x))`: the sigmoid of -x
    d[x] = -d[z] * z * (1.0 - z)


def _sigmoid_of_negative_t(z, x):
    d[z] = -d[x] * z * (1.0 - z)


#: the adjoint and tangent of a written-out sigmoid, by whether exp's argument is negated
SIGMOID = {
    True: (Template.from_function(_sigmoid), Template.from_function(_sigmoid_t)),
    False: (
        Template.from_function(_sigmoid_of_negative),
        Template.from_function(_sigmoid_of_negative_t),
    ),
}


def _log_likelihood(z, x, p, a, b):
    # `z = a * log(p) + b * log(1 - p)` with `p = 1 / (1 + exp(-x))` (`s2s/idioms.py`):
    # d log(p)/dx is 1 - p and d log(1 - p)/dx is -p, finite where p saturates
    d[x] = unbroadcast(d[z] * (a * (1.0 - p) - b * p), x)


def _log_likelihood_t(z, x, p, a, b):
    d[z] = d[x] * (a * (1.0 - p) - b * p)


def _binary_cross_entropy(z, x, y, p):
    # the same with a = y and b = 1 - y: y * (1 - p) - (1 - y) * p is y - p
    d[x] = unbroadcast(d[z] * (y - p), x)


def _binary_cross_entropy_t(z, x, y, p):
    d[z] = d[x] * (y - p)


def _log_likelihood_minus(z, x, p, a, b):
    # `z = a * log(p) - b * log(1 - p)`
    d[x] = unbroadcast(d[z] * (a * (1.0 - p) + b * p), x)


def _log_likelihood_minus_t(z, x, p, a, b):
    d[z] = d[x] * (a * (1.0 - p) + b * p)


def _binary_cross_entropy_minus(z, x, y, p):
    # `z = -y * log(p) - (1 - y) * log(1 - p)`: -y * (1 - p) + (1 - y) * p is p - y
    d[x] = unbroadcast(d[z] * (p - y), x)


def _binary_cross_entropy_minus_t(z, x, y, p):
    d[z] = d[x] * (p - y)


def _pair(adjoint_fn, tangent_fn) -> tuple:
    pair = Template.from_function(adjoint_fn), Template.from_function(tangent_fn)
    for tpl in pair:
        tpl.zero = ("p",)  # p = sigmoid(x): its part of the derivative is x's
    return pair


#: the adjoint and tangent of a sigmoid's log-likelihood, by (whether the terms are
#: subtracted, whether the weights are y and 1 - y)
LOG_LIKELIHOOD = {
    (False, False): _pair(_log_likelihood, _log_likelihood_t),
    (False, True): _pair(_binary_cross_entropy, _binary_cross_entropy_t),
    (True, False): _pair(_log_likelihood_minus, _log_likelihood_minus_t),
    (True, True): _pair(_binary_cross_entropy_minus, _binary_cross_entropy_minus_t),
}


@tangent(operator.truediv, np.divide, np.true_divide)
def div_t(z, x, y):
    d[z] = (d[x] - z * d[y]) / y


@adjoint(operator.pow, np.power)
def pow_(z, x, y):
    d[x] = unbroadcast(d[z] * y * x ** (y - 1), x)
    d[y] = unbroadcast(d[z] * z * np.log(x), y)


@tangent(operator.pow, np.power)
def pow_t(z, x, y):
    d[z] = d[x] * y * x ** (y - 1) + d[y] * z * np.log(x)


@adjoint(operator.neg, np.negative)
def neg(y, x):
    d[x] = -d[y]


@tangent(operator.neg, np.negative)
def neg_t(y, x):
    d[y] = -d[x]


@adjoint(operator.pos, np.positive)
def pos(y, x):
    d[x] = d[y]


@tangent(operator.pos, np.positive)
def pos_t(y, x):
    d[y] = d[x]


@adjoint(operator.mod, np.mod, np.remainder)
def mod(z, x, y):
    d[x] = unbroadcast(d[z], x)
    d[y] = unbroadcast(-d[z] * np.floor_divide(x, y), y)


@tangent(operator.mod, np.mod, np.remainder)
def mod_t(z, x, y):
    d[z] = d[x] - d[y] * np.floor_divide(x, y)


# -- NumPy unary ---------------------------------------------------------------------------


@adjoint(
    np.exp,
    notes="a sigmoid written out, `1 / (1 + exp(-u))`, is differentiated whole: "
    "`d[u] = d[p] * p * (1 - p)` (reads p only; `s2s/idioms.py`)",
)
def exp(y, x):
    d[x] = d[y] * y


@tangent(np.exp)
def exp_t(y, x):
    d[y] = d[x] * y


@adjoint(
    np.log,
    notes="a sigmoid's log-likelihood written out, `a * log(p) + b * log(1 - p)` with "
    "`p = 1 / (1 + exp(-u))`, is differentiated whole: `d[u] = d[S] * (a * (1 - p) - b * p)`, "
    "`d[S] * (y - p)` for a = y, b = 1 - y (`s2s/idioms.py`)",
)
def log(y, x):
    d[x] = d[y] / x


@tangent(np.log)
def log_t(y, x):
    d[y] = d[x] / x


@adjoint(np.sin)
def sin(y, x):
    d[x] = d[y] * np.cos(x)


@tangent(np.sin)
def sin_t(y, x):
    d[y] = d[x] * np.cos(x)


@adjoint(np.cos)
def cos(y, x):
    d[x] = -d[y] * np.sin(x)


@tangent(np.cos)
def cos_t(y, x):
    d[y] = -d[x] * np.sin(x)


@adjoint(np.tan)
def tan(y, x):
    d[x] = d[y] * (1.0 + y * y)


@tangent(np.tan)
def tan_t(y, x):
    d[y] = d[x] * (1.0 + y * y)


@adjoint(np.tanh)
def tanh(y, x):
    d[x] = d[y] * (1.0 - y * y)


@tangent(np.tanh)
def tanh_t(y, x):
    d[y] = d[x] * (1.0 - y * y)


@adjoint(np.sqrt)
def sqrt(y, x):
    d[x] = d[y] * 0.5 / y


@tangent(np.sqrt)
def sqrt_t(y, x):
    d[y] = d[x] * 0.5 / y


@adjoint(np.square)
def square(y, x):
    d[x] = d[y] * 2.0 * x


@tangent(np.square)
def square_t(y, x):
    d[y] = d[x] * 2.0 * x


@adjoint(np.abs, np.absolute, np.fabs)
def abs_(y, x):
    d[x] = d[y] * np.sign(x)


@tangent(np.abs, np.absolute, np.fabs)
def abs_t(y, x):
    d[y] = d[x] * np.sign(x)


@adjoint(np.maximum, np.fmax)
def maximum(z, x, y):
    d[x] = binary_extremum_grad(d[z], x, y, True)
    d[y] = binary_extremum_grad(d[z], y, x, True)


@tangent(np.maximum, np.fmax)
def maximum_t(z, x, y):
    d[z] = np.where(x >= y, d[x], d[y])


@adjoint(np.minimum, np.fmin)
def minimum(z, x, y):
    d[x] = binary_extremum_grad(d[z], x, y, False)
    d[y] = binary_extremum_grad(d[z], y, x, False)


@tangent(np.minimum, np.fmin)
def minimum_t(z, x, y):
    d[z] = np.where(x <= y, d[x], d[y])


@adjoint(np.fmod)
def fmod(z, x, y):
    d[x] = unbroadcast(d[z], x)
    d[y] = unbroadcast(-d[z] * np.trunc(x / y), y)


@tangent(np.fmod)
def fmod_t(z, x, y):
    d[z] = d[x] - d[y] * np.trunc(x / y)


@adjoint(np.float_power)
def float_power(z, x, y):
    d[x] = unbroadcast(d[z] * y * np.float_power(x, y - 1), x)
    d[y] = unbroadcast(d[z] * z * np.log(x), y)


@tangent(np.float_power)
def float_power_t(z, x, y):
    d[z] = d[x] * y * np.float_power(x, y - 1) + d[y] * z * np.log(x)


@adjoint(np.arctan2)
def arctan2(z, x1, x2):
    d[x1] = unbroadcast(d[z] * x2 / (x1 * x1 + x2 * x2), x1)
    d[x2] = unbroadcast(-d[z] * x1 / (x1 * x1 + x2 * x2), x2)


@tangent(np.arctan2)
def arctan2_t(z, x1, x2):
    d[z] = (d[x1] * x2 - d[x2] * x1) / (x1 * x1 + x2 * x2)


@adjoint(np.hypot)
def hypot(z, x1, x2):
    d[x1] = unbroadcast(d[z] * x1 / z, x1)
    d[x2] = unbroadcast(d[z] * x2 / z, x2)


@tangent(np.hypot)
def hypot_t(z, x1, x2):
    d[z] = (d[x1] * x1 + d[x2] * x2) / z


@adjoint(np.logaddexp)
def logaddexp(z, x1, x2):
    d[x1] = unbroadcast(d[z] * np.exp(x1 - z), x1)
    d[x2] = unbroadcast(d[z] * np.exp(x2 - z), x2)


@tangent(np.logaddexp)
def logaddexp_t(z, x1, x2):
    d[z] = d[x1] * np.exp(x1 - z) + d[x2] * np.exp(x2 - z)


@adjoint(np.logaddexp2)
def logaddexp2(z, x1, x2):
    d[x1] = unbroadcast(d[z] * np.exp2(x1 - z), x1)
    d[x2] = unbroadcast(d[z] * np.exp2(x2 - z), x2)


@tangent(np.logaddexp2)
def logaddexp2_t(z, x1, x2):
    d[z] = d[x1] * np.exp2(x1 - z) + d[x2] * np.exp2(x2 - z)


@adjoint(np.copysign, notes="w.r.t. the magnitude only", zero=("x2",))
def copysign(z, x1, x2):
    d[x1] = unbroadcast(d[z] * np.sign(x1) * np.copysign(1.0, x2), x1)


@tangent(np.copysign)
def copysign_t(z, x1, x2):
    d[z] = d[x1] * np.sign(x1) * np.copysign(1.0, x2)


@adjoint(np.ldexp, notes="w.r.t. the mantissa")
def ldexp(y, x1, x2):
    d[x1] = unbroadcast(d[y] * np.exp2(x2), x1)


@tangent(np.ldexp)
def ldexp_t(y, x1, x2):
    d[y] = d[x1] * np.exp2(x2)


@adjoint(np.divmod, notes="w.r.t. the remainder's operands (the quotient is an integer)")
def divmod_(y, x1, x2):
    d[x1] = unbroadcast(d[y][1], x1)
    d[x2] = unbroadcast(-d[y][1] * np.floor_divide(x1, x2), x2)


@tangent(np.divmod)
def divmod_t(y, x1, x2):
    d[y] = (np.zeros_like(y[0]), d[x1] - d[x2] * np.floor_divide(x1, x2))


@adjoint(np.modf)
def modf(y, x):
    d[x] = d[y][0]


@tangent(np.modf)
def modf_t(y, x):
    d[y] = (d[x], np.zeros_like(y[1]))


# -- NumPy unary, continued ----------------------------------------------------------------


@adjoint(np.exp2)
def exp2(y, x):
    d[x] = d[y] * y * math.log(2.0)


@tangent(np.exp2)
def exp2_t(y, x):
    d[y] = d[x] * y * math.log(2.0)


@adjoint(np.expm1)
def expm1(y, x):
    d[x] = d[y] * (y + 1.0)


@tangent(np.expm1)
def expm1_t(y, x):
    d[y] = d[x] * (y + 1.0)


@adjoint(np.log2)
def log2(y, x):
    d[x] = d[y] / (x * math.log(2.0))


@tangent(np.log2)
def log2_t(y, x):
    d[y] = d[x] / (x * math.log(2.0))


@adjoint(np.log10)
def log10(y, x):
    d[x] = d[y] / (x * math.log(10.0))


@tangent(np.log10)
def log10_t(y, x):
    d[y] = d[x] / (x * math.log(10.0))


@adjoint(
    np.log1p,
    notes="a sigmoid's log-likelihood written out, `a * log(p) + b * log(1 - p)` with "
    "`p = 1 / (1 + exp(-u))`, is differentiated whole: `d[u] = d[S] * (a * (1 - p) - b * p)`, "
    "`d[S] * (y - p)` for a = y, b = 1 - y (`s2s/idioms.py`)",
)
def log1p(y, x):
    d[x] = d[y] / (1.0 + x)


@tangent(np.log1p)
def log1p_t(y, x):
    d[y] = d[x] / (1.0 + x)


@adjoint(np.cbrt)
def cbrt(y, x):
    d[x] = d[y] / (3.0 * y * y)


@tangent(np.cbrt)
def cbrt_t(y, x):
    d[y] = d[x] / (3.0 * y * y)


@adjoint(np.reciprocal)
def reciprocal(y, x):
    d[x] = -d[y] * y * y


@tangent(np.reciprocal)
def reciprocal_t(y, x):
    d[y] = -d[x] * y * y


@adjoint(np.arcsin)
def arcsin(y, x):
    d[x] = d[y] / np.sqrt(1.0 - x * x)


@tangent(np.arcsin)
def arcsin_t(y, x):
    d[y] = d[x] / np.sqrt(1.0 - x * x)


@adjoint(np.arccos)
def arccos(y, x):
    d[x] = -d[y] / np.sqrt(1.0 - x * x)


@tangent(np.arccos)
def arccos_t(y, x):
    d[y] = -d[x] / np.sqrt(1.0 - x * x)


@adjoint(np.arctan)
def arctan(y, x):
    d[x] = d[y] / (1.0 + x * x)


@tangent(np.arctan)
def arctan_t(y, x):
    d[y] = d[x] / (1.0 + x * x)


@adjoint(np.sinh)
def sinh(y, x):
    d[x] = d[y] * np.cosh(x)


@tangent(np.sinh)
def sinh_t(y, x):
    d[y] = d[x] * np.cosh(x)


@adjoint(np.cosh)
def cosh(y, x):
    d[x] = d[y] * np.sinh(x)


@tangent(np.cosh)
def cosh_t(y, x):
    d[y] = d[x] * np.sinh(x)


@adjoint(np.arcsinh)
def arcsinh(y, x):
    d[x] = d[y] / np.sqrt(x * x + 1.0)


@tangent(np.arcsinh)
def arcsinh_t(y, x):
    d[y] = d[x] / np.sqrt(x * x + 1.0)


@adjoint(np.arccosh)
def arccosh(y, x):
    d[x] = d[y] / np.sqrt(x * x - 1.0)


@tangent(np.arccosh)
def arccosh_t(y, x):
    d[y] = d[x] / np.sqrt(x * x - 1.0)


@adjoint(np.arctanh)
def arctanh(y, x):
    d[x] = d[y] / (1.0 - x * x)


@tangent(np.arctanh)
def arctanh_t(y, x):
    d[y] = d[x] / (1.0 - x * x)


@adjoint(np.sinc)
def sinc(y, x):
    d[x] = d[y] * sinc_derivative(x, y)


@tangent(np.sinc)
def sinc_t(y, x):
    d[y] = d[x] * sinc_derivative(x, y)


@adjoint(np.deg2rad, np.radians)
def deg2rad(y, x):
    d[x] = d[y] * (math.pi / 180.0)


@tangent(np.deg2rad, np.radians)
def deg2rad_t(y, x):
    d[y] = d[x] * (math.pi / 180.0)


@adjoint(np.rad2deg, np.degrees)
def rad2deg(y, x):
    d[x] = d[y] * (180.0 / math.pi)


@tangent(np.rad2deg, np.degrees)
def rad2deg_t(y, x):
    d[y] = d[x] * (180.0 / math.pi)


@adjoint(np.real, np.conjugate, notes="real inputs")
def real(y, val):
    d[val] = d[y]


@tangent(np.real, np.conjugate)
def real_t(y, val):
    d[y] = d[val]


@adjoint(np.nan_to_num, notes="NaN and infinite entries get no gradient")
def nan_to_num(y, x, copy=True, nan=0.0, posinf=None, neginf=None):
    d[x] = d[y] * np.isfinite(x)


@tangent(np.nan_to_num)
def nan_to_num_t(y, x, copy=True, nan=0.0, posinf=None, neginf=None):
    d[y] = d[x] * np.isfinite(x)


@adjoint(np.clip, notes="w.r.t. the bounds where they clip")
def clip(y, a, a_min=None, a_max=None, out=None):
    d[a] = d[y] * clip_mask(a, a_min, a_max)
    d[a_min] = unbroadcast(d[y] * (a < a_min), a_min)
    d[a_max] = unbroadcast(d[y] * (a > a_max), a_max)


@tangent(np.clip)
def clip_t(y, a, a_min=None, a_max=None, out=None):
    d[y] = (
        d[a] * clip_mask(a, a_min, a_max)
        + d[a_min] * clip_mask(a, None, a_min, False)
        + d[a_max] * clip_mask(a, a_max, None, False)
    )


# -- math (Python floats) ------------------------------------------------------------------


@adjoint(math.sin)
def msin(y, x):
    d[x] = d[y] * math.cos(x)


@tangent(math.sin)
def msin_t(y, x):
    d[y] = d[x] * math.cos(x)


@adjoint(math.cos)
def mcos(y, x):
    d[x] = -d[y] * math.sin(x)


@tangent(math.cos)
def mcos_t(y, x):
    d[y] = -d[x] * math.sin(x)


@adjoint(math.tan)
def mtan(y, x):
    d[x] = d[y] * (1.0 + y * y)


@tangent(math.tan)
def mtan_t(y, x):
    d[y] = d[x] * (1.0 + y * y)


@adjoint(
    math.exp,
    notes="a sigmoid written out, `1 / (1 + exp(-u))`, is differentiated whole: "
    "`d[u] = d[p] * p * (1 - p)` (reads p only; `s2s/idioms.py`)",
)
def mexp(y, x):
    d[x] = d[y] * y


@tangent(math.exp)
def mexp_t(y, x):
    d[y] = d[x] * y


@adjoint(
    math.log,
    notes="a sigmoid's log-likelihood written out, `a * log(p) + b * log(1 - p)` with "
    "`p = 1 / (1 + exp(-u))`, is differentiated whole: `d[u] = d[S] * (a * (1 - p) - b * p)`, "
    "`d[S] * (y - p)` for a = y, b = 1 - y (`s2s/idioms.py`)",
)
def mlog(y, x, base=math.e):
    d[x] = d[y] / (x * math.log(base))


@tangent(math.log)
def mlog_t(y, x, base=math.e):
    d[y] = d[x] / (x * math.log(base))


@adjoint(math.sqrt)
def msqrt(y, x):
    d[x] = d[y] * 0.5 / y


@tangent(math.sqrt)
def msqrt_t(y, x):
    d[y] = d[x] * 0.5 / y


@adjoint(math.tanh)
def mtanh(y, x):
    d[x] = d[y] * (1.0 - y * y)


@tangent(math.tanh)
def mtanh_t(y, x):
    d[y] = d[x] * (1.0 - y * y)


@adjoint(math.pow)
def mpow(z, x, y):
    d[x] = d[z] * y * x ** (y - 1)
    d[y] = d[z] * z * math.log(x)


@tangent(math.pow)
def mpow_t(z, x, y):
    d[z] = d[x] * y * x ** (y - 1) + d[y] * z * math.log(x)


@adjoint(math.fabs, abs)
def babs(y, x):
    d[x] = d[y] * np.sign(x)


@tangent(math.fabs, abs)
def babs_t(y, x):
    d[y] = d[x] * np.sign(x)


@adjoint(math.asin)
def masin(y, x):
    d[x] = d[y] / math.sqrt(1.0 - x * x)


@tangent(math.asin)
def masin_t(y, x):
    d[y] = d[x] / math.sqrt(1.0 - x * x)


@adjoint(math.acos)
def macos(y, x):
    d[x] = -d[y] / math.sqrt(1.0 - x * x)


@tangent(math.acos)
def macos_t(y, x):
    d[y] = -d[x] / math.sqrt(1.0 - x * x)


@adjoint(math.atan)
def matan(y, x):
    d[x] = d[y] / (1.0 + x * x)


@tangent(math.atan)
def matan_t(y, x):
    d[y] = d[x] / (1.0 + x * x)


@adjoint(math.atan2)
def matan2(z, y, x):
    d[y] = d[z] * x / (x * x + y * y)
    d[x] = -d[z] * y / (x * x + y * y)


@tangent(math.atan2)
def matan2_t(z, y, x):
    d[z] = (d[y] * x - d[x] * y) / (x * x + y * y)


@adjoint(math.sinh)
def msinh(y, x):
    d[x] = d[y] * math.cosh(x)


@tangent(math.sinh)
def msinh_t(y, x):
    d[y] = d[x] * math.cosh(x)


@adjoint(math.cosh)
def mcosh(y, x):
    d[x] = d[y] * math.sinh(x)


@tangent(math.cosh)
def mcosh_t(y, x):
    d[y] = d[x] * math.sinh(x)


@adjoint(math.asinh)
def masinh(y, x):
    d[x] = d[y] / math.sqrt(x * x + 1.0)


@tangent(math.asinh)
def masinh_t(y, x):
    d[y] = d[x] / math.sqrt(x * x + 1.0)


@adjoint(math.acosh)
def macosh(y, x):
    d[x] = d[y] / math.sqrt(x * x - 1.0)


@tangent(math.acosh)
def macosh_t(y, x):
    d[y] = d[x] / math.sqrt(x * x - 1.0)


@adjoint(math.atanh)
def matanh(y, x):
    d[x] = d[y] / (1.0 - x * x)


@tangent(math.atanh)
def matanh_t(y, x):
    d[y] = d[x] / (1.0 - x * x)


@adjoint(math.log2)
def mlog2(y, x):
    d[x] = d[y] / (x * math.log(2.0))


@tangent(math.log2)
def mlog2_t(y, x):
    d[y] = d[x] / (x * math.log(2.0))


@adjoint(math.log10)
def mlog10(y, x):
    d[x] = d[y] / (x * math.log(10.0))


@tangent(math.log10)
def mlog10_t(y, x):
    d[y] = d[x] / (x * math.log(10.0))


@adjoint(
    math.log1p,
    notes="a sigmoid's log-likelihood written out, `a * log(p) + b * log(1 - p)` with "
    "`p = 1 / (1 + exp(-u))`, is differentiated whole: `d[u] = d[S] * (a * (1 - p) - b * p)`, "
    "`d[S] * (y - p)` for a = y, b = 1 - y (`s2s/idioms.py`)",
)
def mlog1p(y, x):
    d[x] = d[y] / (1.0 + x)


@tangent(math.log1p)
def mlog1p_t(y, x):
    d[y] = d[x] / (1.0 + x)


@adjoint(math.expm1)
def mexpm1(y, x):
    d[x] = d[y] * (y + 1.0)


@tangent(math.expm1)
def mexpm1_t(y, x):
    d[y] = d[x] * (y + 1.0)


@adjoint(math.hypot)
def mhypot(z, x, y):
    d[x] = d[z] * x / z
    d[y] = d[z] * y / z


@tangent(math.hypot)
def mhypot_t(z, x, y):
    d[z] = (d[x] * x + d[y] * y) / z


@adjoint(math.erf)
def merf(y, x):
    d[x] = d[y] * 2.0 / math.sqrt(math.pi) * math.exp(-x * x)


@tangent(math.erf)
def merf_t(y, x):
    d[y] = d[x] * 2.0 / math.sqrt(math.pi) * math.exp(-x * x)


@adjoint(math.erfc)
def merfc(y, x):
    d[x] = -d[y] * 2.0 / math.sqrt(math.pi) * math.exp(-x * x)


@tangent(math.erfc)
def merfc_t(y, x):
    d[y] = -d[x] * 2.0 / math.sqrt(math.pi) * math.exp(-x * x)


@adjoint(math.radians)
def mradians(y, x):
    d[x] = d[y] * (math.pi / 180.0)


@tangent(math.radians)
def mradians_t(y, x):
    d[y] = d[x] * (math.pi / 180.0)


@adjoint(math.degrees)
def mdegrees(y, x):
    d[x] = d[y] * (180.0 / math.pi)


@tangent(math.degrees)
def mdegrees_t(y, x):
    d[y] = d[x] * (180.0 / math.pi)


@adjoint(math.copysign, notes="w.r.t. the magnitude only", zero=("y",))
def mcopysign(z, x, y):
    d[x] = d[z] * math.copysign(1.0, x) * math.copysign(1.0, y)


@tangent(math.copysign)
def mcopysign_t(z, x, y):
    d[z] = d[x] * math.copysign(1.0, x) * math.copysign(1.0, y)


@adjoint(math.fmod, notes="w.r.t. the dividend and the divisor")
def mfmod(z, x, y):
    d[x] = d[z]
    d[y] = -d[z] * math.trunc(x / y)


@tangent(math.fmod)
def mfmod_t(z, x, y):
    d[z] = d[x] - d[y] * math.trunc(x / y)


nondiff(
    operator.floordiv,
    np.floor_divide,
    np.floor,
    np.ceil,
    np.round,
    np.rint,
    np.trunc,
    np.sign,
    math.floor,
    math.ceil,
    math.trunc,
    round,
    operator.not_,
    operator.eq,
    operator.ne,
    operator.lt,
    operator.le,
    operator.gt,
    operator.ge,
    np.greater,
    np.less,
    np.equal,
    np.not_equal,
    np.greater_equal,
    np.less_equal,
    np.isfinite,
    np.isnan,
    np.isinf,
    np.logical_and,
    np.logical_or,
    np.logical_not,
    np.logical_xor,
    np.fix,
    np.signbit,
    np.isclose,
    np.allclose,
    np.array_equal,
    np.isreal,
    np.iscomplex,
    np.isneginf,
    np.isposinf,
    np.heaviside,
    np.imag,
    math.isnan,
    math.isinf,
    math.isfinite,
    math.isclose,
    reason="piecewise constant or boolean",
)
