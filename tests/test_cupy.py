"""Issue 7 on a real GPU: the model-shaped gradients of test_backends on CuPy arrays equal those
on NumPy arrays, stay on the device, and keep float32. Skipped where CuPy or a device is
missing (`pip install 's2s[cuda]'` on a CUDA machine to run them)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from s2s.backends import cupy_backend

if not cupy_backend.available():
    pytest.skip("CuPy is not installed or finds no CUDA device", allow_module_level=True)

import cupy as cp  # noqa: E402
from op_cases import CASES  # noqa: E402
from strict_array import leaves  # noqa: E402
from test_backends import MODELS, _device_case, _direction, _wrt_args  # noqa: E402

import s2s  # noqa: E402


def _to_gpu(tree, dtype=None):
    if isinstance(tree, np.ndarray):
        cast = dtype is not None and tree.dtype.kind == "f"
        return cp.asarray(tree.astype(dtype) if cast else tree)
    if isinstance(tree, dict):
        return {k: _to_gpu(v, dtype) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_to_gpu(v, dtype) for v in tree)
    return tree


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_gradient_on_cupy_equals_numpy(name):
    fn, make, wrt = MODELS[name]
    args = make(np.random.default_rng(0))
    want = s2s.grad(fn, wrt=wrt)(*copy.deepcopy(args))
    gargs = _to_gpu(args)
    got = s2s.grad(fn, wrt=wrt)(*gargs)
    like = _wrt_args(gargs, wrt)
    for g, w, lk in zip(leaves(got), leaves(want), leaves(like), strict=True):
        if isinstance(lk, cp.ndarray):
            assert isinstance(g, cp.ndarray) and g.dtype == lk.dtype and g.shape == lk.shape
            g = cp.asnumpy(g)
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_float32_stays_float32_on_cupy(name):
    fn, make, wrt = MODELS[name]
    args = make(np.random.default_rng(1))
    want = s2s.grad(fn, wrt=wrt)(*copy.deepcopy(args))
    gargs = _to_gpu(args, np.float32)
    got = s2s.grad(fn, wrt=wrt)(*gargs)
    for g, w, lk in zip(leaves(got), leaves(want), leaves(_wrt_args(gargs, wrt)), strict=True):
        if isinstance(lk, cp.ndarray) and lk.dtype.kind == "f":
            assert isinstance(g, cp.ndarray) and g.dtype == cp.float32
            g = cp.asnumpy(g).astype(float)
        np.testing.assert_allclose(g, w, rtol=2e-3, atol=2e-4)


def test_add_at_on_cupy_accumulates_repeats():
    from s2s.backends import runtime

    d = cp.zeros(4)
    runtime.add_at(d, cp.asarray([1, 1, 3]), cp.asarray([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(cp.asnumpy(d), [0.0, 3.0, 0.0, 3.0])


def test_mixing_numpy_and_cupy_is_an_error():
    from s2s.backends.namespace import MixedArraysError

    from benchmarks.models import make_mlp, mlp_loss

    params, x, y = make_mlp(4)
    with pytest.raises(MixedArraysError, match=r"params\['W1'\] is a cupy array"):
        s2s.grad(mlp_loss)(_to_gpu(params), x, y)


def _to_host(tree):
    if isinstance(tree, cp.ndarray):
        return cp.asnumpy(tree)
    if isinstance(tree, dict):
        return {k: _to_host(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_to_host(v) for v in tree)
    return tree


def _assert_close_on_gpu(got, want, like, where):
    """`got` equals `want` leaf by leaf, and is a CuPy array wherever `like` (the GPU call's
    arguments or value) has one."""
    for g, w, lk in zip(leaves(got), leaves(want), leaves(like), strict=True):
        if isinstance(lk, cp.ndarray):
            assert isinstance(g, cp.ndarray), f"{where}: left the GPU as {type(g).__name__}"
        np.testing.assert_allclose(_to_host(g), w, rtol=1e-9, atol=1e-11, err_msg=where)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_op_case_on_cupy(case):
    """Every op case whose primal runs on CuPy: the vjp and the jvp on CuPy arrays equal those
    on NumPy arrays (what test_backends checks through the double, here on the GPU)."""
    rng = np.random.default_rng(0)
    refused = (TypeError, NotImplementedError, ValueError)
    args, wrt, gargs = _device_case(case, None, rng, _to_gpu, refused)
    value, pullback = s2s.vjp(case.fn, wrt=wrt)(*copy.deepcopy(args))
    cot = rng.standard_normal(np.shape(value)) if np.ndim(value) else 1.0
    gvalue, gpullback = s2s.vjp(case.fn, wrt=wrt)(*copy.deepcopy(gargs))
    gcot = _to_gpu(cot) if isinstance(gvalue, cp.ndarray) else cot
    _assert_close_on_gpu(gpullback(gcot), pullback(cot), _wrt_args(gargs, wrt), "vjp")
    u = _direction(_wrt_args(args, wrt), rng)
    _, want = s2s.jvp(case.fn, wrt=wrt)(*copy.deepcopy(args), u)
    gvalue, got = s2s.jvp(case.fn, wrt=wrt)(*copy.deepcopy(gargs), _to_gpu(u))
    _assert_close_on_gpu(got, want, gvalue, "jvp")
