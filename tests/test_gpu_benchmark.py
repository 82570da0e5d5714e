"""`python -m benchmarks.gpu` end to end on a stand-in for CuPy, on every CI run.

The script runs only where a GPU is lent, for minutes of device time: a mistake in it (a CuPy
call spelled wrong, a hand-written gradient that disagrees with s2s's) must show here first.
The stand-in is the strict double (`strict_array.py`) behind the few `cupy` names the script
uses, with wall-clock time for CUDA events."""

from __future__ import annotations

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


def test_gpu_benchmark_says_no_gpu(monkeypatch, capsys):
    from s2s.backends import cupy_backend

    from benchmarks import gpu

    monkeypatch.setattr(cupy_backend, "available", lambda: False)
    assert gpu.main(["--quick"]) == 2
    assert "no GPU" in capsys.readouterr().err


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
