"""`python -m benchmarks.gpu` end to end on a stand-in for CuPy, on every CI run.

The script runs only where a GPU is lent, for minutes of device time: a mistake in it (a CuPy
call spelled wrong, a hand-written gradient that disagrees with s2s's) must show here first.
The stand-in is the strict double (`strict_array.py`) behind the few `cupy` names the script
uses, with wall-clock time for CUDA events."""

from __future__ import annotations

import collections
import re
import sys
import time
import types

import numpy as np
import pytest
from strict_array import StrictArray, to_host


class _Event:
    def record(self) -> None:
        self.t = time.perf_counter()

    def synchronize(self) -> None:
        pass


def _fake_cupy() -> types.ModuleType:
    cp = types.ModuleType("cupy")
    cp.__version__ = "stand-in"
    cp.ndarray = StrictArray
    cp.asarray = lambda a, dtype=None: StrictArray(np.asarray(a, dtype=dtype))
    cp.asnumpy = to_host
    cp.exp, cp.tanh, cp.zeros_like = np.exp, np.tanh, np.zeros_like  # dispatched to the double
    cp.zeros = lambda shape, dtype=float: StrictArray(np.zeros(shape, dtype))
    cp.empty = lambda shape, dtype=float: StrictArray(np.empty(shape, dtype))
    device = types.SimpleNamespace(id=0, synchronize=lambda: None)
    cp.cuda = types.SimpleNamespace(
        Event=_Event,
        Device=lambda *args: device,
        get_elapsed_time=lambda start, end: (end.t - start.t) * 1e3,
        runtime=types.SimpleNamespace(
            getDeviceProperties=lambda i: {"name": b"stand-in"}, getDeviceCount=lambda: 1
        ),
    )
    return cp


def test_gpu_benchmark_runs_on_a_cupy_stand_in(monkeypatch, capsys):
    from s2s.backends import cupy_backend

    from benchmarks import gpu

    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy())
    monkeypatch.setitem(sys.modules, "torch", None)  # the PyTorch column needs CUDA
    monkeypatch.setattr(cupy_backend, "available", lambda: True)
    assert gpu.main(["--quick", "--reps", "1", "--dtype", "float64"]) == 0
    out = capsys.readouterr().out
    assert "device: stand-in, dtype float64" in out and "no PyTorch CUDA" in out
    rows = [line.split() for line in out.splitlines() if re.match(r"(mlp|lstm) ", line)]
    assert [r[:2] for r in rows] == [["mlp", "1024"], ["lstm", "30"]]
    for row in rows:  # s2s's gradient and the hand-written one agree
        assert float(row[-1]) < 1e-12, row


#: array functions that launch no kernel: metadata, or memory taken from the pool unwritten
_NO_KERNEL = {"shape", "ndim", "size", "empty_like", "empty", "broadcast_to"}


def _kernels(monkeypatch, fn, *args) -> collections.Counter:
    """The device operations one call of `fn` launches, by name: ufunc calls and methods,
    dispatched NumPy functions and array methods that compute, and writes into arrays. Views
    (basic subscripts, `.T`, reshapes of contiguous data) launch none and are not counted."""
    counts: collections.Counter = collections.Counter()
    ufunc, function = StrictArray.__array_ufunc__, StrictArray.__array_function__
    setitem, getattr_ = StrictArray.__setitem__, StrictArray.__getattr__

    def on_ufunc(self, uf, method, *inputs, **kwargs):
        counts[uf.__name__ + ("" if method == "__call__" else "." + method)] += 1
        return ufunc(self, uf, method, *inputs, **kwargs)

    def on_function(self, func, types, a, kw):
        if func.__name__ not in _NO_KERNEL:
            counts[func.__name__] += 1
        return function(self, func, types, a, kw)

    def on_setitem(self, index, value):
        counts["setitem"] += 1
        return setitem(self, index, value)

    def on_method(self, name):
        if name in ("sum", "mean", "max", "min", "prod", "cumsum", "copy", "astype", "dot"):
            counts["." + name] += 1
        return getattr_(self, name)

    with monkeypatch.context() as m:
        m.setattr(StrictArray, "__array_ufunc__", on_ufunc)
        m.setattr(StrictArray, "__array_function__", on_function)
        m.setattr(StrictArray, "__setitem__", on_setitem)
        m.setattr(StrictArray, "__getattr__", on_method)
        fn(*args)
    return counts


@pytest.mark.parametrize("name", ["mlp", "lstm"])
def test_generated_gradient_launches_no_more_kernels_than_the_hand_written_one(name, monkeypatch):
    """On a GPU, small models are bound by kernel launches: the generated gradient must launch
    no more device operations than the hand-written CuPy one (counted, not timed)."""
    import s2s
    from benchmarks import gpu
    from benchmarks.models import make_lstm, make_mlp, mlp_loss

    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy())
    make, primal, hand = {
        "mlp": (make_mlp, mlp_loss, gpu.mlp_grad_cupy),
        "lstm": (make_lstm, gpu.lstm_loss, gpu.lstm_grad_cupy),
    }[name]
    args = tuple(
        {k: StrictArray(v) for k, v in a.items()} if isinstance(a, dict) else StrictArray(a)
        for a in make(8, 0)
    )
    generated = s2s.grad(primal)
    generated(*args)  # generate outside the count
    ours = _kernels(monkeypatch, generated, *args)
    theirs = _kernels(monkeypatch, hand, *args)
    assert sum(ours.values()) <= sum(theirs.values()), (ours - theirs, theirs - ours)


def test_gpu_benchmark_says_no_gpu(monkeypatch, capsys):
    from s2s.backends import cupy_backend

    from benchmarks import gpu

    monkeypatch.setattr(cupy_backend, "available", lambda: False)
    assert gpu.main(["--quick"]) == 2
    assert "no GPU" in capsys.readouterr().err


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
