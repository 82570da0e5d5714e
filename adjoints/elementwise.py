"""Elementwise ops: Python's arithmetic operators and NumPy's unary and binary ufuncs."""
# ruff: noqa: F821  (templates name the runtime helpers that generated code binds)

import math
import operator

import numpy as np

from .registry import adjoint, d, nondiff, tangent

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


@adjoint(operator.truediv, np.divide, np.true_divide)
def div(z, x, y):
    d[x] = unbroadcast(d[z] / y, x)
    d[y] = unbroadcast(-d[z] * z / y, y)


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


@adjoint(operator.matmul, np.matmul)
def matmul(z, x, y):
    d[x] = matmul_grad_a(d[z], x, y)
    d[y] = matmul_grad_b(d[z], x, y)


@tangent(operator.matmul, np.matmul)
def matmul_t(z, x, y):
    d[z] = d[x] @ y + x @ d[y]


@adjoint(operator.mod, np.mod, np.remainder)
def mod(z, x, y):
    d[x] = unbroadcast(d[z], x)
    d[y] = unbroadcast(-d[z] * np.floor_divide(x, y), y)


@tangent(operator.mod, np.mod, np.remainder)
def mod_t(z, x, y):
    d[z] = d[x] - d[y] * np.floor_divide(x, y)


# -- NumPy unary ---------------------------------------------------------------------------


@adjoint(np.exp)
def exp(y, x):
    d[x] = d[y] * y


@tangent(np.exp)
def exp_t(y, x):
    d[y] = d[x] * y


@adjoint(np.log)
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


@adjoint(math.exp)
def mexp(y, x):
    d[x] = d[y] * y


@tangent(math.exp)
def mexp_t(y, x):
    d[y] = d[x] * y


@adjoint(math.log)
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


nondiff(
    operator.floordiv, np.floor_divide, np.floor, np.ceil, np.round, np.rint, np.trunc,
    np.sign, math.floor, math.ceil, math.trunc, round, operator.not_, operator.eq,
    operator.ne, operator.lt, operator.le, operator.gt, operator.ge, np.greater, np.less,
    np.equal, np.not_equal, np.greater_equal, np.less_equal, np.isfinite, np.isnan, np.isinf,
    np.logical_and, np.logical_or, np.logical_not,
    reason="piecewise constant or boolean",
)
