"""Peer columns: HIPS autograd and JAX (eager, jit), each timed in its own subprocess.

The peer differentiates the same primal source with ``np`` and ``math`` rebound to its own
NumPy module, and is timed interleaved with the hand-written gradient in that process.
Run as ``python -m benchmarks.peers PEER MODEL SIZE REPEATS MIN_TIME``; prints one JSON line.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

PEERS = {"autograd": "autograd", "jax": "jax", "jax.jit": "jax"}


def available_peers() -> list[str]:
    """Peers whose package is installed."""
    return [p for p, mod in PEERS.items() if importlib.util.find_spec(mod) is not None]


def run_peer_subprocess(
    peer: str, model: str, size: int, repeats: int, min_time: float
) -> dict[str, Any]:
    """Ratio peer / hand-written from a fresh process, or the error it reported."""
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.peers",
        peer,
        model,
        str(size),
        str(repeats),
        str(min_time),
    ]
    try:
        root = Path(__file__).resolve().parents[1]
        proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return {"error": "timed out"}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(lines[-1])


def _rebind(fn: Callable[..., Any], np_module: Any) -> Callable[..., Any]:
    """A copy of ``fn`` (and of its module's functions, for recursion) using ``np_module``."""
    env = dict(fn.__globals__, np=np_module, math=np_module)
    for name, obj in list(env.items()):
        if isinstance(obj, types.FunctionType) and obj.__module__ == fn.__module__:
            env[name] = types.FunctionType(obj.__code__, env, name, obj.__defaults__)
    return env[fn.__name__]


def _peer_grad(peer: str, primal: Callable[..., Any], wrt: Any, args: tuple):
    if peer == "autograd":
        import autograd
        import autograd.numpy as anp

        return autograd.grad(_rebind(primal, anp), wrt)
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    g = jax.grad(_rebind(primal, jnp), wrt)
    if peer == "jax.jit":
        static = tuple(i for i, a in enumerate(args) if isinstance(a, int))
        g = jax.jit(g, static_argnums=static)
    return lambda *a: jax.block_until_ready(g(*a))


def _to_numpy(tree: Any) -> Any:
    import numpy as np

    if isinstance(tree, dict):
        return {k: _to_numpy(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_to_numpy(v) for v in tree)
    return np.asarray(tree)


def main(argv: list[str]) -> int:
    """Measure one peer on one model and size; print a JSON line."""
    from benchmarks.harness import compare, measure
    from benchmarks.models import MODELS

    peer, name, size, repeats, min_time = argv
    model = MODELS[name]
    args = model.make(int(size), 0)
    try:
        g = _peer_grad(peer, model.primal, model.wrt, args)
        ok = compare(model.grad(*args), _to_numpy(g(*args)), strict=False) is None
        times = measure({"hand": model.grad, "peer": g}, args, int(repeats), float(min_time))
        result = {"ratio": times["peer"] / times["hand"], "time_s": times["peer"], "ok": ok}
    except Exception as exc:
        result = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
