"""Issue 7 on a real GPU: what test_backends checks through the strict double, on CuPy arrays.

The model-shaped gradients (reverse, forward, hvp, checkpointed, the file `s2s-grad` writes) and
every op case equal those on NumPy arrays, stay on the device, keep float32, and make no copy
to the host that the user's own code does not (CuPy is told to raise on any device
synchronization while they run). Skipped where CuPy or a device is missing
(`pip install 's2s[cuda]'` on a CUDA machine to run them)."""

from __future__ import annotations

import contextlib
import copy
import warnings

import numpy as np
import pytest
from s2s.backends import cupy_backend

if not cupy_backend.available():
    pytest.skip("CuPy is not installed or finds no CUDA device", allow_module_level=True)

import cupy as cp  # noqa: E402
import cupyx  # noqa: E402
from op_cases import CASES  # noqa: E402
from strict_array import _rebuild, leaves  # noqa: E402
from test_backends import (  # noqa: E402
    MODELS,
    _device_case,
    _direction,
    _wrt_args,
    hvp_case,
    rnn_loss,
    written_gradient_module,
)

import s2s  # noqa: E402


def _to_gpu(tree, dtype=None):
    if isinstance(tree, (np.ndarray, np.generic)):
        a = np.asarray(tree)
        return cp.asarray(a.astype(dtype) if dtype is not None and a.dtype.kind == "f" else a)
    if isinstance(tree, dict):
        return {k: _to_gpu(v, dtype) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return _rebuild(tree, [_to_gpu(v, dtype) for v in tree])
    return tree


def _to_host(tree):
    if isinstance(tree, cp.ndarray):
        return cp.asnumpy(tree)
    if isinstance(tree, dict):
        return {k: _to_host(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return _rebuild(tree, [_to_host(v) for v in tree])
    return tree


_ALLOW_SYNC = getattr(cupyx, "allow_synchronize", None)
_SYNCED = getattr(cupyx, "DeviceSynchronized", None)


def _no_host_copies():
    """A context in which CuPy raises `cupyx.DeviceSynchronized` on a device synchronization,
    which every copy to the host (`float(x)`, `.get()`, `bool(x)`) makes."""
    if _ALLOW_SYNC is None:  # a CuPy without it: the double's counts stand alone
        return contextlib.nullcontext()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return _ALLOW_SYNC(False)


def _reads_host(fn, *args, wrt=None) -> bool:
    """Whether the user's own function copies a device value to the host, or its gradient
    must (a Python-float argument's gradient is a Python float, read from the device)."""
    if _SYNCED is None:
        return True
    if wrt is not None and any(isinstance(v, float) for v in leaves(_wrt_args(args, wrt))):
        return True
    try:
        with _no_host_copies():
            fn(*copy.deepcopy(args))
    except _SYNCED:
        return True
    return False


def _assert_close_on_gpu(got, want, like, where, rtol=1e-9, atol=1e-11):
    """`got` equals `want` leaf by leaf, and is a CuPy array of `like`'s dtype and shape
    wherever `like` (the GPU call's arguments or value) has one."""
    for g, w, lk in zip(leaves(got), leaves(want), leaves(like), strict=True):
        if isinstance(lk, cp.ndarray):
            assert isinstance(g, cp.ndarray), f"{where}: left the GPU as {type(g).__name__}"
            assert g.shape == lk.shape, f"{where}: shape {g.shape}, want {lk.shape}"
            if lk.dtype.kind == "f":
                assert g.dtype == lk.dtype, f"{where}: dtype {g.dtype}, want {lk.dtype}"
        g = _to_host(g)
        np.testing.assert_allclose(g, w, rtol, atol, err_msg=where)


# --- the model-shaped tests -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_gradient_on_cupy_equals_numpy(name):
    fn, make, wrt = MODELS[name]
    args = make(np.random.default_rng(0))
    want = s2s.grad(fn, wrt=wrt)(*copy.deepcopy(args))
    gargs = _to_gpu(args)
    got = s2s.grad(fn, wrt=wrt)(*gargs)
    _assert_close_on_gpu(got, want, _wrt_args(gargs, wrt), "grad", rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_gradient_makes_no_host_copy_on_cupy(name):
    """Where the user's model makes no copy to the host, its gradient (forward and backward
    sweeps) makes none either: CuPy raises on the first one."""
    if _ALLOW_SYNC is None:
        pytest.skip("this CuPy has no cupyx.allow_synchronize")
    fn, make, wrt = MODELS[name]
    gargs = _to_gpu(make(np.random.default_rng(3)))
    if _reads_host(fn, *gargs, wrt=wrt):
        pytest.skip("the model, or a Python-float argument's gradient, reads the host")
    grad = s2s.grad(fn, wrt=wrt)
    grad(*copy.deepcopy(gargs))  # generated and compiled outside the guarded call
    with _no_host_copies():
        grad(*gargs)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_float32_stays_float32_on_cupy(name):
    fn, make, wrt = MODELS[name]
    args = make(np.random.default_rng(1))
    want = s2s.grad(fn, wrt=wrt)(*copy.deepcopy(args))
    gargs = _to_gpu(args, np.float32)
    got = s2s.grad(fn, wrt=wrt)(*gargs)
    like = _wrt_args(gargs, wrt)
    assert any(isinstance(lk, cp.ndarray) and lk.dtype == cp.float32 for lk in leaves(like))
    _assert_close_on_gpu(got, want, like, "float32 grad", rtol=2e-3, atol=2e-4)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_forward_mode_and_hvp_on_cupy(name):
    fn, make, wrt = MODELS[name]
    rng = np.random.default_rng(5)
    args = make(rng)
    u = _direction(_wrt_args(args, wrt), rng)
    _, want_t = s2s.jvp(fn, wrt=wrt)(*copy.deepcopy(args), u)
    want_h = s2s.hvp(fn, wrt=wrt)(*copy.deepcopy(args), u)
    gargs = _to_gpu(args)
    pvalue = fn(*copy.deepcopy(gargs))
    gvalue, got_t = s2s.jvp(fn, wrt=wrt)(*gargs, _to_gpu(u))
    assert type(gvalue) is type(pvalue)
    _assert_close_on_gpu(got_t, want_t, pvalue, "jvp")
    got_h = s2s.hvp(fn, wrt=wrt)(*gargs, _to_gpu(u))
    _assert_close_on_gpu(got_h, want_h, _wrt_args(gargs, wrt), "hvp")
    if _ALLOW_SYNC is not None and not _reads_host(fn, *gargs, wrt=wrt):
        with _no_host_copies():
            s2s.jvp(fn, wrt=wrt)(*gargs, _to_gpu(u))
            s2s.hvp(fn, wrt=wrt)(*gargs, _to_gpu(u))


@pytest.mark.parametrize("name", ["rnn", "lstm", "subscripts_in_loops"])
def test_checkpointed_gradient_on_cupy(name):
    fn, make, wrt = MODELS[name]
    args = make(np.random.default_rng(7))
    want = s2s.grad(fn, wrt=wrt)(*copy.deepcopy(args))
    gargs = _to_gpu(args)
    grad = s2s.grad(fn, wrt=wrt, checkpoint_loops="sqrt")
    _assert_close_on_gpu(grad(*gargs), want, _wrt_args(gargs, wrt), "checkpointed")
    with _no_host_copies():
        grad(*gargs)


def test_value_and_grad_and_vjp_on_cupy():
    fn, make, wrt = MODELS["mlp"]
    args = make(np.random.default_rng(3))
    gargs = _to_gpu(args)
    value, grads = s2s.value_and_grad(fn, wrt=wrt)(*gargs)
    assert isinstance(value, cp.ndarray) and value.shape == ()
    np.testing.assert_allclose(float(value), fn(*args), rtol=1e-12)
    _assert_close_on_gpu(grads, s2s.grad(fn, wrt=wrt)(*args), _wrt_args(gargs, wrt), "grad")
    rargs = MODELS["rnn"][1](np.random.default_rng(3))
    out, pullback = s2s.vjp(rnn_loss)(*_to_gpu(rargs))
    pulled = pullback(cp.asarray(2.0))
    want = {k: 2.0 * v for k, v in s2s.grad(rnn_loss)(*rargs).items()}
    _assert_close_on_gpu(pulled, want, _to_gpu(rargs[0]), "vjp")


def test_written_gradient_module_on_cupy(tmp_path, monkeypatch):
    """The file `s2s-grad` writes runs on CuPy arrays as the live gradient does."""
    written = written_gradient_module(tmp_path, monkeypatch, "grad_model_cupy")
    for name, grad in (("rnn", written.grad_rnn_loss), ("lstm", written.grad_lstm_loss)):
        fn, make, wrt = MODELS[name]
        args = make(np.random.default_rng(8))
        want = s2s.grad(fn, wrt=wrt)(*copy.deepcopy(args))
        gargs = _to_gpu(args)
        _assert_close_on_gpu(grad(*gargs), want, _wrt_args(gargs, wrt), name)
        with _no_host_copies():
            grad(*gargs)


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


# --- the op registry, case by case ------------------------------------------------------------

# what the primal may raise where it does not run on CuPy (`np.dot(2.0, x)`: AttributeError)
_REFUSED = (TypeError, NotImplementedError, ValueError, AttributeError)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_op_case_on_cupy(case):
    """Every op case whose primal runs on CuPy: the vjp and the jvp on CuPy arrays equal those
    on NumPy arrays (what test_backends checks through the double, here on the GPU)."""
    rng = np.random.default_rng(0)
    args, wrt, gargs = _device_case(case, None, rng, _to_gpu, _REFUSED)
    value, pullback = s2s.vjp(case.fn, wrt=wrt)(*copy.deepcopy(args))
    cot = rng.standard_normal(np.shape(value)) if np.ndim(value) else 1.0
    gvalue, gpullback = s2s.vjp(case.fn, wrt=wrt)(*copy.deepcopy(gargs))
    gcot = _to_gpu(cot) if isinstance(gvalue, cp.ndarray) else cot
    _assert_close_on_gpu(gpullback(gcot), pullback(cot), _wrt_args(gargs, wrt), "vjp")
    u = _direction(_wrt_args(args, wrt), rng)
    _, want = s2s.jvp(case.fn, wrt=wrt)(*copy.deepcopy(args), u)
    gvalue, got = s2s.jvp(case.fn, wrt=wrt)(*copy.deepcopy(gargs), _to_gpu(u))
    _assert_close_on_gpu(got, want, gvalue, "jvp")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_op_case_hvp_on_cupy(case):
    """Forward over reverse on CuPy arrays: the tangents of the adjoint helpers run on CuPy."""
    f, wrt, gargs, cot, v, want = hvp_case(case, None, _to_gpu, _REFUSED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        gcot = _to_gpu(cot)
        try:
            f(*copy.deepcopy(gargs), gcot)
        except _REFUSED as e:
            pytest.skip(f"sum(f(...) * cot) does not run on CuPy arrays: {e}")
        got = s2s.hvp(f, wrt=wrt)(*gargs, gcot, _to_gpu(v))
    _assert_close_on_gpu(got, want, _wrt_args(gargs, wrt), "hvp", rtol=1e-8, atol=1e-10)
