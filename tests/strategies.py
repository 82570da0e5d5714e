"""Hypothesis strategies shared by the gradient tests.

Arrays are drawn element by element (`fill=st.nothing()`), so hypothesis does not hand us arrays
that are mostly one repeated value: a transposed or mis-indexed gradient would go unnoticed on
those. By default values stay at least 0.1 away from zero, so a gradient that is wrong by a factor
of x is never tested only at x == 0.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


def reals(
    lo: float = -2.0, hi: float = 2.0, min_mag: float = 0.1, width: int = 64
) -> st.SearchStrategy[float]:
    """Floats in [lo, hi] with magnitude at least `min_mag`."""
    if width == 32:
        lo, hi, min_mag = (float(np.float32(v)) for v in (lo, hi, min_mag))
    parts = []
    if hi >= min_mag:
        parts.append(st.floats(max(lo, min_mag), hi, width=width))
    if lo <= -min_mag:
        parts.append(st.floats(lo, min(hi, -min_mag), width=width))
    if not parts:
        raise ValueError(f"no floats in [{lo}, {hi}] with magnitude >= {min_mag}")
    return st.one_of(*parts)


def positive(lo: float = 0.5, hi: float = 2.0) -> st.SearchStrategy[float]:
    return st.floats(lo, hi)


def arrays(
    shape,
    lo: float = -2.0,
    hi: float = 2.0,
    min_mag: float = 0.1,
    dtype=np.float64,
    unique: bool = False,
) -> st.SearchStrategy[np.ndarray]:
    """Float arrays of `shape` (an int, a tuple, or a strategy for either), every element drawn
    from `reals(lo, hi, min_mag)`."""
    width = np.dtype(dtype).itemsize * 8
    return hnp.arrays(
        dtype,
        shape,
        elements=reals(lo, hi, min_mag, width=width),
        fill=st.nothing(),
        unique=unique,
    )


def positive_arrays(shape, lo: float = 0.5, hi: float = 2.0) -> st.SearchStrategy[np.ndarray]:
    return arrays(shape, lo, hi, min_mag=0.0)


def sides(lo: int = 1, hi: int = 4) -> st.SearchStrategy[int]:
    return st.integers(lo, hi)


def matrices(
    rows=None,
    cols=None,
    lo: float = -2.0,
    hi: float = 2.0,
    min_mag: float = 0.1,
    unique: bool = False,
) -> st.SearchStrategy[np.ndarray]:
    """2-D arrays; `rows` / `cols` are ints or strategies (default 1..4)."""
    rows = sides() if rows is None else rows
    cols = sides() if cols is None else cols
    shape = st.tuples(
        rows if isinstance(rows, st.SearchStrategy) else st.just(rows),
        cols if isinstance(cols, st.SearchStrategy) else st.just(cols),
    )
    return arrays(shape, lo, hi, min_mag, unique=unique)


def separated(values, gap: float = 1e-3) -> bool:
    """All values pairwise at least `gap` apart (no ties for max/min/argmax)."""
    flat = np.sort(np.ravel(np.asarray(values, dtype=np.float64)))
    return bool(np.all(np.diff(flat) > gap))


def apart(*distances: float, gap: float = 1e-3) -> bool:
    """Every quantity is at least `gap` from zero: keeps finite differences off branch points."""
    return all(np.all(np.abs(np.asarray(d, dtype=np.float64)) > gap) for d in distances)


def shift_sum(x: np.ndarray, target: float) -> np.ndarray:
    """`x` moved by a constant so that its elements sum to about `target` (to pick a branch)."""
    return x - np.mean(x) + target / x.size
