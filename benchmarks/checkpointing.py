"""The memory/time trade-off of checkpointing: peak memory (tracemalloc) and time of the RNN and
LSTM gradients over T steps, hand-written, s2s plain, and s2s with `checkpoint_loops="sqrt"`.

    python -m benchmarks.checkpointing            # T = 100, 300, 1000, 3000
    python -m benchmarks.checkpointing --quick    # T = 30, 100 (CI)

Peak memory is what the gradient call allocates beyond its inputs (the tape, the saved states,
the adjoints); time is the median of interleaved repeats, as a ratio to the hand-written
gradient. The hand-written gradients keep every step's state, as backprop through time does.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import s2s
from benchmarks import models


def peak_bytes(fn: Callable, args: tuple) -> int:
    """Peak bytes allocated during one call of `fn(*args)`."""
    fn(*args)  # warm: generation and caches are not what is measured
    tracemalloc.start()
    try:
        fn(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def median_times(fns: Sequence[Callable], args: tuple, repeats: int) -> list[float]:
    """Median seconds per call of each of `fns`, interleaved."""
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn(*args)
            samples[k].append(time.perf_counter() - t0)
    return [statistics.median(s) for s in samples]


def rows(steps: Sequence[int], repeats: int) -> list[dict[str, Any]]:
    out = []
    for model, loss, hand, make in (
        ("rnn", models.rnn_loss, models.rnn_loss_grad, models.make_rnn),
        ("lstm", models.lstm_loss, models.lstm_loss_grad, models.make_lstm),
    ):
        plain = s2s.grad(loss)
        sqrt = s2s.grad(loss, checkpoint_loops="sqrt")
        for T in steps:
            args = make(T)
            want = hand(*args)
            for got in (plain(*args), sqrt(*args)):
                for k in want:
                    np.testing.assert_allclose(got[k], want[k], rtol=1e-9, atol=1e-12)
            mem = [peak_bytes(fn, args) for fn in (hand, plain, sqrt)]
            t_hand, t_plain, t_sqrt = median_times((hand, plain, sqrt), args, repeats)
            out.append(
                {
                    "model": model,
                    "T": T,
                    "hand_kib": mem[0] // 1024,
                    "s2s_kib": mem[1] // 1024,
                    "sqrt_kib": mem[2] // 1024,
                    "s2s_time": t_plain / t_hand,
                    "sqrt_time": t_sqrt / t_hand,
                }
            )
    return out


def table(results: list[dict[str, Any]]) -> str:
    head = (
        "| model | T | hand-written peak | s2s peak | s2s sqrt peak | s2s time | s2s sqrt time |\n"
        "|---|---:|---:|---:|---:|---:|---:|"
    )
    lines = [head]
    for r in results:
        lines.append(
            f"| {r['model']} | {r['T']} | {r['hand_kib']:,} KiB | {r['s2s_kib']:,} KiB | "
            f"{r['sqrt_kib']:,} KiB | {r['s2s_time']:.2f}x | {r['sqrt_time']:.2f}x |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.checkpointing")
    parser.add_argument("--quick", action="store_true", help="T = 30, 100 and 3 repeats")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args(argv)
    steps = (30, 100) if args.quick else (100, 300, 1000, 3000)
    repeats = args.repeats or (3 if args.quick else 7)
    print(table(rows(steps, repeats)))
    print("time: median of interleaved repeats, as a ratio to the hand-written gradient")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
