"""Peak memory of s2s gradients against hand-written ones (``python -m benchmarks --memory``).

Each gradient is called once to warm up, then once under ``tracemalloc`` (NumPy reports its
array buffers to it): the peak is the largest amount of memory allocated during the call above
what was allocated before it, so the arguments themselves do not count. The table gives the
peak of the hand-written gradient (``models.py``), of the s2s gradient, and their ratio (the
issue's target for the RNN: <= 1.1x). ``--top N`` also lists, per s2s gradient, the N source
lines of the generated code holding the most memory at the peak.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.models import MODELS

#: (model, sizes, quick sizes)
MEMORY_MODELS: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...] = (
    ("rnn", (30, 100), (5,)),
    ("lstm", (30, 100), (5,)),
    ("mlp", (64, 256, 1024), (16,)),
)


@dataclass
class MemoryRow:
    """One line of the memory table."""

    model: str
    size: int
    size_label: str
    hand_peak: int | None = None
    s2s_peak: int | None = None
    ratio: float | None = None
    error: str | None = None
    top: list[str] | None = None


def peak_bytes(fn: Callable[..., Any], args: tuple, top: int = 0) -> tuple[int, list[str]]:
    """Peak bytes allocated by one call of ``fn(*args)`` above what was allocated before it,
    and (when ``top``) the ``top`` largest allocation sites alive at the peak."""
    fn(*args)  # warm up: caches, lazily generated code
    gc.collect()
    tracemalloc.start(25 if top else 1)
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        if not top:
            fn(*args)
            return tracemalloc.get_traced_memory()[1] - before, []
        peak, sites = _peak_with_snapshot(fn, args, before, top)
        return peak, sites
    finally:
        tracemalloc.stop()


def _peak_with_snapshot(
    fn: Callable[..., Any], args: tuple, before: int, top: int
) -> tuple[int, list[str]]:
    """Runs ``fn`` once to find the peak, then again taking a snapshot each time the traced
    memory reaches it (profiling hook on returns), to show what is held there."""
    import sys

    fn(*args)
    peak = tracemalloc.get_traced_memory()[1]
    best: list[Any] = [None, 0]

    def hook(frame: Any, event: str, arg: Any) -> None:
        if event in ("return", "c_return"):
            current = tracemalloc.get_traced_memory()[0]
            if current > best[1]:
                best[1] = current
                if current >= 0.9 * peak:
                    best[0] = tracemalloc.take_snapshot()

    tracemalloc.reset_peak()
    sys.setprofile(hook)
    try:
        fn(*args)
    finally:
        sys.setprofile(None)
    lines = []
    if best[0] is not None:
        stats = best[0].filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
        for stat in stats.statistics("lineno")[:top]:
            frame = stat.traceback[0]
            lines.append(f"{fmt_bytes(stat.size):>9} in {stat.count:>4} blocks  {frame}")
    return peak - before, lines


def fmt_bytes(n: float | None) -> str:
    """``n`` bytes in kB / MB (powers of 1000), three significant digits."""
    if n is None:
        return "-"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.0f} B"


def run_memory(
    quick: bool, only: Sequence[str] = (), top: int = 0, s2s: Any = None
) -> list[MemoryRow]:
    """Measure every model of ``MEMORY_MODELS`` (or those in ``only``)."""
    rows = []
    for name, sizes, quick_sizes in MEMORY_MODELS:
        if only and name not in only:
            continue
        model = MODELS[name]
        for size in quick_sizes if quick else sizes:
            row = MemoryRow(name, size, model.size_label)
            args = model.make(size, 0)
            row.hand_peak, _ = peak_bytes(model.grad, args)
            try:
                generated = s2s.grad(model.primal, wrt=model.wrt)
                row.s2s_peak, row.top = peak_bytes(generated, args, top)
            except Exception as exc:
                row.error = f"{type(exc).__name__}: {exc}".splitlines()[0]
            else:
                row.ratio = row.s2s_peak / max(row.hand_peak, 1)
            rows.append(row)
            print(memory_line(row), flush=True)
            for line in row.top or ():
                print(f"    {line}", flush=True)
    return rows


MEMORY_HEADER = (
    f"{'model':<10} {'size':<14} {'hand-written':<12} {'s2s':<12} {'s2s/hand':<9}\n" + "-" * 60
)


def memory_line(row: MemoryRow) -> str:
    """One printed line of the memory table."""
    ratio = "-" if row.ratio is None else f"{row.ratio:.2f}x"
    cells = [
        f"{row.model:<10}",
        f"{row.size_label + '=' + str(row.size):<14}",
        f"{fmt_bytes(row.hand_peak):<12}",
        f"{fmt_bytes(row.s2s_peak):<12}",
        f"{ratio:<9}",
    ]
    return " ".join(cells) + (f" {row.error}" if row.error else "")
