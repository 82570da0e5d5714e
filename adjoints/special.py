"""SciPy: special functions and scipy.linalg.expm (an optional extra).

Registered lazily: s2s does not import SciPy itself; the registry loads this module the first
time it is asked about an op while SciPy is imported (see registry._load_lazy).
"""
# ruff: noqa: F821  (templates name the runtime helpers that generated code binds)

import math

import numpy as np
import scipy.linalg
import scipy.special as sp

from .registry import adjoint, d, rule_for, tangent


@adjoint(sp.erf)
def erf(y, x):
    d[x] = d[y] * (2.0 / math.sqrt(math.pi)) * np.exp(-x * x)


@tangent(sp.erf)
def erf_t(y, x):
    d[y] = d[x] * (2.0 / math.sqrt(math.pi)) * np.exp(-x * x)


@adjoint(sp.erfc)
def erfc(y, x):
    d[x] = -d[y] * (2.0 / math.sqrt(math.pi)) * np.exp(-x * x)


@tangent(sp.erfc)
def erfc_t(y, x):
    d[y] = -d[x] * (2.0 / math.sqrt(math.pi)) * np.exp(-x * x)


@adjoint(sp.erfinv)
def erfinv(y, x):
    d[x] = d[y] * (math.sqrt(math.pi) / 2.0) * np.exp(y * y)


@tangent(sp.erfinv)
def erfinv_t(y, x):
    d[y] = d[x] * (math.sqrt(math.pi) / 2.0) * np.exp(y * y)


@adjoint(sp.gammaln)
def gammaln(y, x):
    d[x] = d[y] * digamma(x)


@tangent(sp.gammaln)
def gammaln_t(y, x):
    d[y] = d[x] * digamma(x)


@adjoint(sp.gamma)
def gamma(y, x):
    d[x] = d[y] * y * digamma(x)


@tangent(sp.gamma)
def gamma_t(y, x):
    d[y] = d[x] * y * digamma(x)


@adjoint(sp.digamma)
def digamma_(y, x):
    d[x] = d[y] * trigamma(x)


@tangent(sp.digamma)
def digamma_t(y, x):
    d[y] = d[x] * trigamma(x)


@adjoint(sp.expit)
def expit(y, x):
    d[x] = d[y] * y * (1.0 - y)


@tangent(sp.expit)
def expit_t(y, x):
    d[y] = d[x] * y * (1.0 - y)


@adjoint(sp.logit)
def logit(y, x):
    d[x] = d[y] / (x * (1.0 - x))


@tangent(sp.logit)
def logit_t(y, x):
    d[y] = d[x] / (x * (1.0 - x))


@adjoint(sp.log_expit)
def log_expit(y, x):
    d[x] = d[y] * (1.0 - np.exp(y))


@tangent(sp.log_expit)
def log_expit_t(y, x):
    d[y] = d[x] * (1.0 - np.exp(y))


@adjoint(sp.ndtr)
def ndtr(y, x):
    d[x] = d[y] * np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


@tangent(sp.ndtr)
def ndtr_t(y, x):
    d[y] = d[x] * np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


@adjoint(sp.log_ndtr)
def log_ndtr(y, x):
    d[x] = d[y] * np.exp(-0.5 * x * x - y) / math.sqrt(2.0 * math.pi)


@tangent(sp.log_ndtr)
def log_ndtr_t(y, x):
    d[y] = d[x] * np.exp(-0.5 * x * x - y) / math.sqrt(2.0 * math.pi)


@adjoint(sp.xlogy)
def xlogy(z, x, y):
    d[x] = unbroadcast(d[z] * np.log(y), x)
    d[y] = unbroadcast(d[z] * x / y, y)


@tangent(sp.xlogy)
def xlogy_t(z, x, y):
    d[z] = d[x] * np.log(y) + d[y] * x / y


@adjoint(sp.logsumexp, notes="axis, b, keepdims")
def logsumexp(y, a, axis=None, b=None, keepdims=False, return_sign=False):
    d[a] = logsumexp_grad(d[y], a, y, axis, b, keepdims)
    d[b] = unbroadcast(logsumexp_grad(d[y], a, y, axis, None, keepdims), b)


@tangent(sp.logsumexp)
def logsumexp_t(y, a, axis=None, b=None, keepdims=False, return_sign=False):
    d[y] = np.sum(
        d[a] * logsumexp_grad(np.ones_like(y), a, y, axis, b, keepdims)
        + d[b] * logsumexp_grad(np.ones_like(y), a, y, axis, None, keepdims),
        axis=axis,
        keepdims=keepdims,
    )


@adjoint(sp.softmax)
def softmax(y, x, axis=None):
    d[x] = softmax_grad(d[y], y, axis)


@tangent(sp.softmax)
def softmax_t(y, x, axis=None):
    d[y] = y * (d[x] - np.sum(d[x] * y, axis=axis, keepdims=True))


@adjoint(sp.log_softmax)
def log_softmax(y, x, axis=None):
    d[x] = log_softmax_grad(d[y], y, axis)


@tangent(sp.log_softmax)
def log_softmax_t(y, x, axis=None):
    d[y] = d[x] - np.sum(np.exp(y) * d[x], axis=axis, keepdims=True)


@adjoint(scipy.linalg.expm)
def expm(y, A):
    d[A] = expm_grad(A, d[y])


@tangent(scipy.linalg.expm)
def expm_t(y, A):
    d[y] = expm_tangent(A, d[A])


# SciPy's ufuncs carry no module name: name them for error messages and docs/ops.md
for _op in (
    sp.erf,
    sp.erfc,
    sp.erfinv,
    sp.gammaln,
    sp.gamma,
    sp.digamma,
    sp.expit,
    sp.logit,
    sp.log_expit,
    sp.ndtr,
    sp.log_ndtr,
    sp.xlogy,
):
    rule_for(_op).name = "scipy.special." + _op.__name__
for _op in (sp.logsumexp, sp.softmax, sp.log_softmax):
    rule_for(_op).name = "scipy.special." + _op.__name__
rule_for(scipy.linalg.expm).name = "scipy.linalg.expm"
