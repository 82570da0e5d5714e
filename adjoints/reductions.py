"""Reductions: sum, mean, max/min, prod, var/std, cumulative sums and products, average, ptp,
nansum/nanmean, diff."""
# ruff: noqa: F821  (templates name the runtime helpers that generated code binds)

import numpy as np

from .registry import adjoint, d, present, tangent


@adjoint(np.sum)
def sum_(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] = unreduce(d[y], a, axis, keepdims)


@tangent(np.sum)
def sum_t(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[y] = np.sum(d[a], axis=axis, keepdims=keepdims)


@adjoint(np.mean)
def mean(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] = unreduce(d[y] / reduction_count(a, axis), a, axis, keepdims)


@tangent(np.mean)
def mean_t(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[y] = np.mean(d[a], axis=axis, keepdims=keepdims)


@adjoint(np.max, np.amax, np.nanmax)
def max_(y, a, axis=None, out=None, keepdims=False):
    d[a] = extremum_grad(d[y], a, y, axis, keepdims)


@tangent(np.max, np.amax, np.nanmax)
def max_t(y, a, axis=None, out=None, keepdims=False):
    d[y] = np.sum(
        d[a] * extremum_grad(np.ones_like(y), a, y, axis, keepdims), axis=axis, keepdims=keepdims
    )


@adjoint(np.min, np.amin, np.nanmin)
def min_(y, a, axis=None, out=None, keepdims=False):
    d[a] = extremum_grad(d[y], a, y, axis, keepdims)


@tangent(np.min, np.amin, np.nanmin)
def min_t(y, a, axis=None, out=None, keepdims=False):
    d[y] = np.sum(
        d[a] * extremum_grad(np.ones_like(y), a, y, axis, keepdims), axis=axis, keepdims=keepdims
    )


@adjoint(np.prod)
def prod(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] = unreduce(d[y] * y, a, axis, keepdims) / a


@tangent(np.prod)
def prod_t(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[y] = np.sum(d[a] * unreduce(y, a, axis, keepdims) / a, axis=axis, keepdims=keepdims)


@adjoint(np.var, notes="ddof")
def var(y, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    centered = a - np.mean(a, axis=axis, keepdims=True)
    d[a] = unreduce(d[y], a, axis, keepdims) * 2.0 * centered / (reduction_count(a, axis) - ddof)


@tangent(np.var)
def var_t(y, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    centered = a - np.mean(a, axis=axis, keepdims=True)
    d[y] = np.sum(2.0 * centered * d[a], axis=axis, keepdims=keepdims) / (
        reduction_count(a, axis) - ddof
    )


@adjoint(np.std, notes="ddof")
def std(y, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    centered = a - np.mean(a, axis=axis, keepdims=True)
    d[a] = unreduce(d[y] / y, a, axis, keepdims) * centered / (reduction_count(a, axis) - ddof)


@tangent(np.std)
def std_t(y, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    centered = a - np.mean(a, axis=axis, keepdims=True)
    d[y] = np.sum(centered * d[a], axis=axis, keepdims=keepdims) / (
        y * (reduction_count(a, axis) - ddof)
    )


@adjoint(np.cumsum)
def cumsum(y, a, axis=None, dtype=None, out=None):
    d[a] = reverse_cumsum(d[y], a, axis)


@tangent(np.cumsum)
def cumsum_t(y, a, axis=None, dtype=None, out=None):
    d[y] = np.cumsum(d[a], axis=axis)


@adjoint(np.cumprod, notes="nonzero entries")
def cumprod(y, a, axis=None, dtype=None, out=None):
    d[a] = np.reshape(reverse_cumsum(d[y] * y, y, axis), np.shape(a)) / a


@tangent(np.cumprod)
def cumprod_t(y, a, axis=None, dtype=None, out=None):
    d[y] = y * np.cumsum(d[a] / a, axis=axis)


@adjoint(np.average, notes="weights (w.r.t. both)")
def average(y, a, axis=None, weights=None, returned=False, keepdims=False):
    d[a] = average_grad(d[y], a, axis, weights, keepdims)
    d[weights] = average_weights_grad(d[y], y, a, axis, weights, keepdims)


@tangent(np.average)
def average_t(y, a, axis=None, weights=None, returned=False, keepdims=False):
    d[y] = average_tangent(d[a], d[weights], y, a, axis, weights, keepdims)


@adjoint(np.ptp, notes="ties share the gradient")
def ptp(y, a, axis=None, out=None, keepdims=False):
    hi = np.max(a, axis=axis, keepdims=keepdims)
    lo = np.min(a, axis=axis, keepdims=keepdims)
    d[a] = extremum_grad(d[y], a, hi, axis, keepdims) - extremum_grad(d[y], a, lo, axis, keepdims)


@tangent(np.ptp)
def ptp_t(y, a, axis=None, out=None, keepdims=False):
    hi = np.max(a, axis=axis, keepdims=keepdims)
    lo = np.min(a, axis=axis, keepdims=keepdims)
    d[y] = np.sum(
        d[a]
        * (
            extremum_grad(np.ones_like(hi), a, hi, axis, keepdims)
            - extremum_grad(np.ones_like(lo), a, lo, axis, keepdims)
        ),
        axis=axis,
        keepdims=keepdims,
    )


@adjoint(np.nansum, notes="NaN entries get no gradient")
def nansum(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] = unreduce(d[y], a, axis, keepdims) * nan_mask(a)


@tangent(np.nansum)
def nansum_t(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[y] = np.nansum(d[a] * nan_mask(a), axis=axis, keepdims=keepdims)


@adjoint(np.nanmean, notes="NaN entries get no gradient")
def nanmean(y, a, axis=None, dtype=None, out=None, keepdims=False):
    kept = nan_mask(a)
    d[a] = unreduce(d[y], a, axis, keepdims) * kept / np.sum(kept, axis=axis, keepdims=True)


@tangent(np.nanmean)
def nanmean_t(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[y] = np.nanmean(np.where(nan_mask(a), d[a], np.nan), axis=axis, keepdims=keepdims)


@adjoint(np.diff)
def diff(y, a, n=1, axis=-1):
    d[a] = diff_grad(d[y], n, axis)


@tangent(np.diff)
def diff_t(y, a, n=1, axis=-1):
    d[y] = np.diff(d[a], n, axis)


@adjoint(np.nanprod, notes="NaN entries get no gradient; nonzero entries")
def nanprod(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] = np.where(nan_mask(a), unreduce(d[y] * y, a, axis, keepdims) / a, 0.0)


@tangent(np.nanprod)
def nanprod_t(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[y] = y * np.nansum(np.where(nan_mask(a), d[a] / a, 0.0), axis=axis, keepdims=keepdims)


@adjoint(np.nanvar, notes="NaN entries get no gradient; ddof")
def nanvar(y, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    kept = nan_mask(a)
    centered = np.where(kept, a - np.nanmean(a, axis=axis, keepdims=True), 0.0)
    n = np.sum(kept, axis=axis, keepdims=True) - ddof
    d[a] = unreduce(d[y], a, axis, keepdims) * 2.0 * centered / n


@tangent(np.nanvar)
def nanvar_t(y, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    kept = nan_mask(a)
    centered = np.where(kept, a - np.nanmean(a, axis=axis, keepdims=True), 0.0)
    n = np.sum(kept, axis=axis, keepdims=keepdims) - ddof
    d[y] = np.sum(2.0 * centered * np.where(kept, d[a], 0.0), axis=axis, keepdims=keepdims) / n


@adjoint(np.nanstd, notes="NaN entries get no gradient; ddof")
def nanstd(y, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    kept = nan_mask(a)
    centered = np.where(kept, a - np.nanmean(a, axis=axis, keepdims=True), 0.0)
    n = np.sum(kept, axis=axis, keepdims=True) - ddof
    d[a] = unreduce(d[y] / y, a, axis, keepdims) * centered / n


@tangent(np.nanstd)
def nanstd_t(y, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    kept = nan_mask(a)
    centered = np.where(kept, a - np.nanmean(a, axis=axis, keepdims=True), 0.0)
    n = np.sum(kept, axis=axis, keepdims=keepdims) - ddof
    d[y] = np.sum(centered * np.where(kept, d[a], 0.0), axis=axis, keepdims=keepdims) / (y * n)


@adjoint(np.nancumsum, notes="NaN entries get no gradient")
def nancumsum(y, a, axis=None, dtype=None, out=None):
    d[a] = reverse_cumsum(d[y], a, axis) * nan_mask(a)


@tangent(np.nancumsum)
def nancumsum_t(y, a, axis=None, dtype=None, out=None):
    d[y] = np.cumsum(np.where(nan_mask(a), d[a], 0.0), axis=axis)


@adjoint(np.nancumprod, notes="NaN entries get no gradient; nonzero entries")
def nancumprod(y, a, axis=None, dtype=None, out=None):
    kept = nan_mask(a)
    d[a] = np.where(kept, np.reshape(reverse_cumsum(d[y] * y, y, axis), np.shape(a)) / a, 0.0)


@tangent(np.nancumprod)
def nancumprod_t(y, a, axis=None, dtype=None, out=None):
    d[y] = y * np.cumsum(np.where(nan_mask(a), d[a] / a, 0.0), axis=axis)


@adjoint(*present(np, "cumulative_sum"))
def cumulative_sum(y, x, axis=None, dtype=None, out=None, include_initial=False):
    d[x] = reverse_cumsum(drop_initial(d[y], axis, include_initial), x, axis)


@tangent(*present(np, "cumulative_sum"))
def cumulative_sum_t(y, x, axis=None, dtype=None, out=None, include_initial=False):
    d[y] = np.cumulative_sum(d[x], axis=axis, include_initial=include_initial)


@adjoint(*present(np, "cumulative_prod"), notes="nonzero entries")
def cumulative_prod(y, x, axis=None, dtype=None, out=None, include_initial=False):
    kept = drop_initial(y, axis, include_initial)
    d[x] = reverse_cumsum(drop_initial(d[y], axis, include_initial) * kept, x, axis) / x


@tangent(*present(np, "cumulative_prod"))
def cumulative_prod_t(y, x, axis=None, dtype=None, out=None, include_initial=False):
    d[y] = y * np.cumulative_sum(d[x] / x, axis=axis, include_initial=include_initial)


@adjoint(np.median, notes="the middle element(s); ties take either")
def median(y, a, axis=None, out=None, overwrite_input=False, keepdims=False):
    d[a] = median_grad(d[y], a, axis, keepdims)


@tangent(np.median)
def median_t(y, a, axis=None, out=None, overwrite_input=False, keepdims=False):
    d[y] = np.sum(
        d[a] * median_grad(np.ones_like(y), a, axis, keepdims), axis=axis, keepdims=keepdims
    )


@adjoint(np.trapezoid if hasattr(np, "trapezoid") else np.trapz, notes="w.r.t. y, x and dx")
def trapezoid(z, y, x=None, dx=1.0, axis=-1):
    d[y] = trapezoid_grad(d[z], y, x, dx, axis, 0)
    d[x] = trapezoid_grad(d[z], y, x, dx, axis, 1)
    d[dx] = trapezoid_grad(d[z], y, x, dx, axis, 2)


@tangent(np.trapezoid if hasattr(np, "trapezoid") else np.trapz)
def trapezoid_t(z, y, x=None, dx=1.0, axis=-1):
    d[z] = trapezoid_tangent(d[y], d[x], d[dx], y, x, dx, axis)


@adjoint(np.ediff1d)
def ediff1d(y, ary, to_end=None, to_begin=None):
    d[ary] = np.reshape(diff_grad(ediff1d_core(d[y], to_end, to_begin)), np.shape(ary))


@tangent(np.ediff1d)
def ediff1d_t(y, ary, to_end=None, to_begin=None):
    d[y] = ediff1d_tangent(d[ary], to_end, to_begin)
