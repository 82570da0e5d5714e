"""GPU benchmark: s2s's generated gradient on CuPy arrays vs a hand-written CuPy gradient vs
PyTorch CUDA eager autograd, for a 2-layer MLP (widths 1024-8192) and an LSTM.

    python -m benchmarks.gpu [--dtype float32|float64] [--quick] [--reps N]

Every gradient includes its forward pass (the generated one runs the forward sweep; torch runs
forward and `backward`). Times are CUDA-event times per call, the median of 11 rounds of
`--reps` calls each (the three taking turns round by round), after a warm-up; the generated
gradient's ratio to the hand-written CuPy one is the issue's target (<= 1.1x). Exits with a
message and status 2 where CuPy finds no CUDA device.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.models import make_lstm, make_mlp, mlp_loss

MLP_WIDTHS = (1024, 2048, 4096, 8192)
LSTM_STEPS = (30, 100)


def lstm_loss(params, xs, y):
    """benchmarks.models.lstm_loss with its state made like an input (on the input's device)."""
    H = params["U"].shape[0]
    h = np.zeros_like(xs[0], shape=(xs.shape[1], H))
    c = np.zeros_like(h)
    for t in range(xs.shape[0]):
        z = xs[t] @ params["W"] + h @ params["U"] + params["b"]
        i = 1.0 / (1.0 + np.exp(-z[:, :H]))
        f = 1.0 / (1.0 + np.exp(-z[:, H : 2 * H]))
        o = 1.0 / (1.0 + np.exp(-z[:, 2 * H : 3 * H]))
        g = np.tanh(z[:, 3 * H :])
        c = f * c + i * g
        h = o * np.tanh(c)
    return np.mean((h - y) ** 2)


def mlp_grad_cupy(params: dict, x: Any, y: Any) -> dict:
    """Hand-written MLP gradient, CuPy (the same code as benchmarks.models.mlp_loss_grad, whose
    NumPy calls dispatch to CuPy)."""
    W2 = params["W2"]
    h = np.tanh(x @ params["W1"] + params["b1"])
    d_out = h @ W2 + params["b2"] - y
    d_out *= 2.0 / d_out.size
    d_h = d_out @ W2.T
    d_h *= 1.0 - h * h
    return {"W1": x.T @ d_h, "b1": d_h.sum(axis=0), "W2": h.T @ d_out, "b2": d_out.sum(axis=0)}


def lstm_grad_cupy(params: dict, xs: Any, y: Any) -> dict:
    """Hand-written LSTM gradient (backprop through time), CuPy, buffers made on the device."""
    import cupy as cp

    W, U, b = params["W"], params["U"], params["b"]
    H = U.shape[0]
    B = xs.shape[1]
    h = cp.zeros((B, H), dtype=xs.dtype)
    c = cp.zeros((B, H), dtype=xs.dtype)
    saved = []
    for t in range(xs.shape[0]):
        z = xs[t] @ W + h @ U + b
        i = 1.0 / (1.0 + cp.exp(-z[:, :H]))
        f = 1.0 / (1.0 + cp.exp(-z[:, H : 2 * H]))
        o = 1.0 / (1.0 + cp.exp(-z[:, 2 * H : 3 * H]))
        g = cp.tanh(z[:, 3 * H :])
        c_prev = c
        c = f * c + i * g
        tanh_c = cp.tanh(c)
        saved.append((h, c_prev, i, f, o, g, tanh_c))
        h = o * tanh_c
    d_h = h - y
    d_h *= 2.0 / d_h.size
    d_c = cp.zeros_like(c)
    d_W, d_U, d_b = cp.zeros_like(W), cp.zeros_like(U), cp.zeros_like(b)
    d_z = cp.empty((B, 4 * H), dtype=xs.dtype)
    for t in range(xs.shape[0] - 1, -1, -1):
        h_prev, c_prev, i, f, o, g, tanh_c = saved[t]
        d_c += d_h * o * (1.0 - tanh_c * tanh_c)
        d_z[:, :H] = d_c * g * i * (1.0 - i)
        d_z[:, H : 2 * H] = d_c * c_prev * f * (1.0 - f)
        d_z[:, 2 * H : 3 * H] = d_h * tanh_c * o * (1.0 - o)
        d_z[:, 3 * H :] = d_c * i * (1.0 - g * g)
        d_c *= f
        d_W += xs[t].T @ d_z
        d_U += h_prev.T @ d_z
        d_b += d_z.sum(axis=0)
        d_h = d_z @ U.T
    return {"W": d_W, "U": d_U, "b": d_b}


def _torch_grad(name: str, args: tuple, torch: Any) -> Callable[[], Any]:
    """PyTorch eager forward + backward on CUDA tensors holding the same values."""
    params, x, y = args

    def tensor(a: Any, grad: bool = False) -> Any:
        return torch.as_tensor(a.get(), device="cuda").requires_grad_(grad)

    p = {k: tensor(v, True) for k, v in params.items()}
    tx, ty = tensor(x), tensor(y)

    if name == "mlp":

        def loss() -> Any:
            h = torch.tanh(tx @ p["W1"] + p["b1"])
            return torch.mean((h @ p["W2"] + p["b2"] - ty) ** 2)

    else:
        H = p["U"].shape[0]

        def loss() -> Any:
            h = torch.zeros(tx.shape[1], H, device="cuda", dtype=tx.dtype)
            c = torch.zeros_like(h)
            for t in range(tx.shape[0]):
                z = tx[t] @ p["W"] + h @ p["U"] + p["b"]
                i, f, o = (torch.sigmoid(z[:, k * H : (k + 1) * H]) for k in range(3))
                c = f * c + i * torch.tanh(z[:, 3 * H :])
                h = o * torch.tanh(c)
            return torch.mean((h - ty) ** 2)

    def run() -> Any:
        return torch.autograd.grad(loss(), list(p.values()))

    return run


def time_cuda(fns: dict[str, Callable[[], Any]], reps: int, rounds: int = 11) -> dict[str, float]:
    """Median milliseconds per call of each function, timed with CUDA events: `rounds` rounds
    of `reps` calls each, the functions taking turns round by round, each round begun by the
    next (the host's state drifts: measured back to back, the same gradient's time moved by
    1.5x), after a warm-up."""
    import cupy as cp

    for fn in fns.values():
        for _ in range(3):
            fn()
    cp.cuda.Device().synchronize()
    times: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:  # each goes first
            fn = fns[name]
            start, end = cp.cuda.Event(), cp.cuda.Event()
            start.record()
            for _ in range(reps):
                fn()
            end.record()
            end.synchronize()
            times[name].append(cp.cuda.get_elapsed_time(start, end) / reps)
    return {name: statistics.median(t) for name, t in times.items()}


def _max_rel_err(got: dict, want: dict) -> float:
    import cupy as cp

    err = 0.0
    for k in want:
        w = cp.asnumpy(want[k]).astype(float)
        g = cp.asnumpy(got[k]).astype(float)
        err = max(err, float(np.max(np.abs(g - w)) / (np.max(np.abs(w)) + 1e-30)))
    return err


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.gpu", description=__doc__)
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    ap.add_argument("--reps", type=int, default=20, help="calls per timed round")
    ap.add_argument("--quick", action="store_true", help="smallest size of each model only")
    opts = ap.parse_args(argv)

    from s2s.backends import cupy_backend

    if not cupy_backend.available():
        print(
            "benchmarks.gpu: no GPU: CuPy is not installed or finds no CUDA device "
            "(pip install 's2s[cuda]' on a machine with an NVIDIA GPU)",
            file=sys.stderr,
        )
        return 2
    import cupy as cp

    import s2s

    try:
        import torch

        if not torch.cuda.is_available():
            torch = None
    except ImportError:
        torch = None

    dtype = np.dtype(opts.dtype)
    dev = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)
    print(f"device: {dev['name'].decode()}, dtype {dtype}, CuPy {cp.__version__}", end="")
    print(f", PyTorch {torch.__version__}" if torch is not None else ", no PyTorch CUDA")

    cases = [("mlp", w, make_mlp, mlp_loss, mlp_grad_cupy) for w in MLP_WIDTHS]
    cases += [("lstm", t, make_lstm, lstm_loss, lstm_grad_cupy) for t in LSTM_STEPS]
    if opts.quick:
        cases = [cases[0], cases[len(MLP_WIDTHS)]]
    header = f"{'model':<6} {'size':>6} {'s2s ms':>9} {'hand ms':>9} {'ratio':>6} {'torch ms':>9}"
    print(header + "  max rel err (s2s vs hand)")
    for name, size, make, primal, hand in cases:
        host = make(size, 0)
        args = tuple(
            {k: cp.asarray(v, dtype=dtype) for k, v in a.items()}
            if isinstance(a, dict)
            else cp.asarray(a, dtype=dtype)
            for a in host
        )
        generated = s2s.grad(primal)
        err = _max_rel_err(generated(*args), hand(*args))
        fns = {"s2s": lambda: generated(*args), "hand": lambda: hand(*args)}  # noqa: B023
        if torch is not None:
            fns["torch"] = _torch_grad(name, args, torch)
        t = time_cuda(fns, opts.reps)
        t_gen, t_hand, t_torch = t["s2s"], t["hand"], t.get("torch")
        torch_text = f"{t_torch:9.3f}" if t_torch is not None else f"{'-':>9}"
        print(
            f"{name:<6} {size:>6} {t_gen:9.3f} {t_hand:9.3f} {t_gen / t_hand:6.2f} "
            f"{torch_text}  {err:.1e}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
