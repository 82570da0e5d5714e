"""Time s2s gradients against hand-written NumPy gradients, interleaved in one process.

For each model and size: the s2s gradient is generated once (outside timing) and checked once
against the hand-written one; then the two callables are timed alternately, each sample a loop
long enough to take at least ``--min-time`` seconds, and the median per-call time of each is
reported with the ratio s2s / hand-written. Peers (HIPS autograd, JAX) get a column each when
installed, each measured against the hand-written gradient in its own subprocess.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from benchmarks.models import MODELS, Model
from benchmarks.peers import available_peers, run_peer_subprocess

RTOL = 1e-6
ATOL = 1e-10


@dataclass
class Row:
    """One line of the table."""

    model: str
    size: int
    size_label: str
    hand_s: float | None = None
    s2s_s: float | None = None
    ratio: float | None = None
    check: str = "-"
    error: str | None = None
    peers: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Checking


def compare(ref: Any, got: Any, strict: bool = True, path: str = "") -> str | None:
    """None when ``got`` matches ``ref`` in structure and value, else what differs."""
    if isinstance(ref, dict):
        if not isinstance(got, dict) or set(got) != set(ref):
            return f"{path or 'gradient'}: expected dict with keys {sorted(ref)}, got {_kind(got)}"
        for key in sorted(ref):
            diff = compare(ref[key], got[key], strict, f"{path}[{key!r}]")
            if diff:
                return diff
        return None
    if isinstance(ref, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(ref):
            return f"{path or 'gradient'}: expected {_kind(ref)}, got {_kind(got)}"
        for i, (r, g) in enumerate(zip(ref, got, strict=True)):
            diff = compare(r, g, strict, f"{path}[{i}]")
            if diff:
                return diff
        return None
    where = path or "gradient"
    if strict and isinstance(ref, float) != isinstance(got, float):
        return f"{where}: expected {_kind(ref)}, got {_kind(got)}"
    try:
        r, g = np.asarray(ref, dtype=np.float64), np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return f"{where}: expected {_kind(ref)}, got {_kind(got)}"
    if r.shape != g.shape:
        return f"{where}: shape {g.shape}, expected {r.shape}"
    if not np.allclose(g, r, rtol=RTOL, atol=ATOL):
        err = np.max(np.abs(g - r)) / max(np.max(np.abs(r)), 1e-300)
        return f"{where}: max error {err:.1e} (relative to the largest entry)"
    return None


def _kind(x: Any) -> str:
    if isinstance(x, (tuple, list, dict)):
        return f"{type(x).__name__} of {len(x)}"
    shape = getattr(x, "shape", None)
    return f"{type(x).__name__}{list(shape) if shape is not None else ''}"


def _error_text(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")


# --------------------------------------------------------------------------------------------
# Timing


def _sample(fn: Callable[..., Any], args: tuple, number: int) -> float:
    """Seconds per call over ``number`` calls, with the garbage collector off (as timeit)."""
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(number):
            fn(*args)
        return (time.perf_counter() - start) / number
    finally:
        if gc_was_on:
            gc.enable()


def measure(
    fns: dict[str, Callable[..., Any]], args: tuple, repeats: int, min_time: float
) -> dict[str, float]:
    """Median seconds per call of each callable, sampled alternately (order flips each repeat)."""
    single = {}
    for name, fn in fns.items():
        fn(*args)  # warm caches
        single[name] = min(_sample(fn, args, 1) for _ in range(3))
    number = max(1, math.ceil(min_time / max(min(single.values()), 1e-9)))
    samples: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    for r in range(repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            samples[name].append(_sample(fns[name], args, number))
    return {name: statistics.median(s) for name, s in samples.items()}


# --------------------------------------------------------------------------------------------
# Running


def _load_s2s() -> tuple[Any, str | None]:
    try:
        import s2s
    except Exception as exc:  # the transformer may not import yet: report and go on
        return None, f"import s2s failed: {_error_text(exc)}"
    return s2s, None


def run_one(
    model: Model,
    size: int,
    s2s: Any,
    s2s_error: str | None,
    opts: argparse.Namespace,
    peers: Sequence[str],
) -> Row:
    """Check and time one model at one size."""
    row = Row(model.name, size, model.size_label)
    args = model.make(size, 0)
    ref = model.grad(*args)
    fns: dict[str, Callable[..., Any]] = {"hand": model.grad}
    if s2s_error:
        row.error = s2s_error
    else:
        try:
            generated = s2s.grad(model.primal, wrt=model.wrt)
            got = generated(*args)
        except Exception as exc:
            row.error = f"s2s failed: {_error_text(exc)}"
        else:
            diff = compare(ref, got)
            if compare(model.make(size, 0), args) is not None:
                diff = "the s2s gradient modified its inputs" + (f"; {diff}" if diff else "")
            row.check = f"MISMATCH: {diff}" if diff else "ok"
            fns["s2s"] = generated
    times = measure(fns, args, opts.repeats, opts.min_time)
    row.hand_s = times["hand"]
    if "s2s" in times:
        row.s2s_s = times["s2s"]
        row.ratio = row.s2s_s / row.hand_s
    for peer in peers if model.peers else ():
        row.peers[peer] = run_peer_subprocess(peer, model.name, size, opts.repeats, opts.min_time)
    return row


def _fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _fmt_peer(result: dict[str, Any] | None) -> str:
    if not result or result.get("ratio") is None:
        return "error" if result and result.get("error") else "-"
    return f"{result['ratio']:.2f}x" + ("" if result.get("ok", True) else " !!")


class Table:
    """Prints rows as they are measured."""

    def __init__(self, peers: Sequence[str]) -> None:
        self.peers = list(peers)
        self.columns = [
            ("model", 12),
            ("size", 14),
            ("hand-written", 12),
            ("s2s", 12),
            ("s2s/hand", 9),
        ] + [(f"{p}/hand", 13) for p in self.peers]

    def header(self) -> str:
        cells = [f"{name:<{w}}" for name, w in self.columns] + ["check"]
        line = " ".join(cells)
        return f"{line}\n{'-' * len(line)}"

    def line(self, row: Row) -> str:
        ratio = "-" if row.ratio is None else f"{row.ratio:.2f}x"
        values = [
            row.model,
            f"{row.size_label}={row.size}",
            _fmt_time(row.hand_s),
            _fmt_time(row.s2s_s),
            ratio,
        ] + [_fmt_peer(row.peers.get(p)) for p in self.peers]
        cells = [f"{v:<{w}}" for v, (_, w) in zip(values, self.columns, strict=True)]
        note = f"!!! {row.check} !!!" if row.check.startswith("MISMATCH") else row.check
        if row.error:
            note = row.error if len(row.error) <= 160 else row.error[:157] + "..."
        return " ".join(cells + [note])


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes and few repeats (CI)")
    p.add_argument(
        "--memory",
        action="store_true",
        help="peak memory (tracemalloc) of s2s vs hand-written gradients: RNN, LSTM, MLP",
    )
    p.add_argument(
        "--top",
        type=int,
        default=0,
        metavar="N",
        help="with --memory: the N generated-code lines holding the most at the peak",
    )
    p.add_argument(
        "--transform",
        action="store_true",
        help="time to generate the gradient of synthetic 25-400-statement functions",
    )
    p.add_argument("--only", default="", help="comma-separated model names: " + ",".join(MODELS))
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("--repeats", type=int, help="samples per callable (default 31, quick 5)")
    p.add_argument("--min-time", type=float, help="seconds per sample (default 2e-3, quick 1e-3)")
    p.add_argument(
        "--peers",
        action=argparse.BooleanOptionalAction,
        help="autograd/JAX columns when installed (default: on, off with --quick)",
    )
    opts = p.parse_args(argv)
    if opts.repeats is None:
        opts.repeats = 5 if opts.quick else 31
    if opts.peers is None:
        opts.peers = not opts.quick
    if opts.min_time is None:
        opts.min_time = 1e-3 if opts.quick else 2e-3
    unknown = [n for n in opts.only.split(",") if n and n not in MODELS]
    if unknown:
        p.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODELS)}")
    return opts


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite, print the table; exit status 1 when a gradient mismatches."""
    opts = parse_args(argv)
    if opts.memory or opts.transform:
        return _main_extra(opts)
    names = [n for n in opts.only.split(",") if n] or list(MODELS)
    peers: list[str] = []
    if opts.peers:
        peers = available_peers()
    s2s, s2s_error = _load_s2s()
    table = Table(peers)
    print(
        f"s2s gradient vs hand-written NumPy gradient; median of {opts.repeats} interleaved "
        f"samples of >= {opts.min_time * 1e3:g} ms each; Python {platform.python_version()}, "
        f"NumPy {np.__version__}"
    )
    print(table.header(), flush=True)
    rows = []
    for name in names:
        model = MODELS[name]
        for size in model.quick_sizes if opts.quick else model.sizes:
            row = run_one(model, size, s2s, s2s_error, opts, peers)
            rows.append(row)
            print(table.line(row), flush=True)
    mismatches = [r for r in rows if r.check.startswith("MISMATCH")]
    if mismatches:
        print(f"\n!!! {len(mismatches)} s2s gradient(s) do not match the hand-written ones !!!")
    if opts.json:
        meta = {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "machine": platform.platform(),
            "quick": opts.quick,
            "repeats": opts.repeats,
            "min_time_s": opts.min_time,
            "peers": peers,
        }
        with open(opts.json, "w") as fh:
            json.dump({"meta": meta, "rows": [asdict(r) for r in rows]}, fh, indent=2)
            fh.write("\n")
    return 1 if mismatches else 0


def _main_extra(opts: argparse.Namespace) -> int:
    """``--memory`` and ``--transform``: their tables, and the JSON file when asked."""
    from benchmarks import memory, transform

    s2s, s2s_error = _load_s2s()
    if s2s_error:
        print(s2s_error)
        return 1
    out: dict[str, Any] = {}
    head = f"Python {platform.python_version()}, NumPy {np.__version__}"
    if opts.memory:
        print(f"peak memory (tracemalloc) of one gradient call above its inputs; {head}")
        print(memory.MEMORY_HEADER, flush=True)
        only = [n for n in opts.only.split(",") if n]
        rows = memory.run_memory(opts.quick, only, opts.top, s2s)
        out["memory"] = [asdict(r) for r in rows]
    if opts.transform:
        if opts.memory:
            print()
        print(f"time to generate a gradient (s2s.transform.generate), best of repeats; {head}")
        print(transform.TRANSFORM_HEADER, flush=True)
        out["transform"] = [asdict(r) for r in transform.run_transform(opts.quick)]
    if opts.json:
        with open(opts.json, "w") as fh:
            json.dump(out, fh, indent=2)
            fh.write("\n")
    errors = [r for rows in out.values() for r in rows if r.get("error")]
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
