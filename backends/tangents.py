"""Runtime helpers of forward mode (tangents), registered beside the reverse helpers.

Same rules as ``runtime.py``: arrays are made "like" an existing one, nothing is converted to
NumPy implicitly, so tangents computed on a device stay there.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .runtime import _SCALARS, HELPERS, _float_dtype


def zeros_tangent(x: Any) -> Any:
    """A zero tangent with the structure of `x`: owned float arrays, 0.0 for numbers, and the
    same containers (every dict key present) for containers."""
    if isinstance(x, dict):
        return {k: zeros_tangent(v) for k, v in x.items()}
    if isinstance(x, list):
        return [zeros_tangent(v) for v in x]
    if isinstance(x, tuple):
        return tuple(zeros_tangent(v) for v in x)
    if type(x) in _SCALARS or not hasattr(x, "shape"):
        return 0.0
    return np.zeros_like(x, dtype=_float_dtype(x))


def owned_tangent(t: Any, x: Any) -> Any:
    """A fresh tangent of `x` holding `t`'s values, that may be written in place: arrays get
    `x`'s full shape, lists and dicts are copied (their items are shared, as in the primal)."""
    if isinstance(x, dict):
        return dict(t) if isinstance(t, dict) else zeros_tangent(x)
    if isinstance(x, list):
        return list(t) if isinstance(t, (list, tuple)) else zeros_tangent(x)
    if type(x) in _SCALARS or not hasattr(x, "shape"):
        return t
    dtype = _float_dtype(x)
    if type(t) in _SCALARS or not hasattr(t, "shape"):
        return np.full_like(x, t, dtype=dtype)
    out = np.broadcast_to(t, x.shape).copy()
    return out if out.dtype == dtype else out.astype(dtype)


def expand_tangent(t: Any, y: Any) -> Any:
    """`t` broadcast to the shape of `y` (a tangent that lost a broadcast operand)."""
    shape = getattr(y, "shape", None)
    if shape is None or getattr(t, "shape", None) == shape:
        return t
    return np.broadcast_to(t, shape)


def tangent_like(t: Any, y: Any) -> Any:
    """The output tangent for the value `y`: the structure, shape and dtype of `y`."""
    if isinstance(y, dict):
        td = t if isinstance(t, dict) else {}
        return {k: tangent_like(td.get(k, 0.0), v) for k, v in y.items()}
    if isinstance(y, (list, tuple)):
        tl = t if isinstance(t, (list, tuple)) else [0.0] * len(y)
        out = [tangent_like(a, b) for a, b in zip(tl, y, strict=True)]
        return tuple(out) if isinstance(y, tuple) else out
    if type(y) in _SCALARS or not hasattr(y, "shape"):
        return float(t) if type(t) in _SCALARS or getattr(t, "shape", None) == () else t
    if isinstance(y, np.generic):  # a NumPy scalar: the same scalar type
        return y.dtype.type(t) if y.dtype.kind in "fc" else float(t)
    dtype = _float_dtype(y)
    if type(t) in _SCALARS or not hasattr(t, "shape"):
        return np.full_like(y, t, dtype=dtype)
    if t.shape != y.shape:
        t = np.broadcast_to(t, y.shape).copy()
    if t.dtype != dtype:
        t = t.astype(dtype)
    if isinstance(y, np.ndarray) and not isinstance(t, np.ndarray):
        t = np.asarray(t, dtype=dtype)  # a NumPy scalar for a 0-d array
    return t


def item_tangent(t: Any, index: Any) -> Any:
    """`t[index]`, where `t` may be the zero tangent 0.0 of a container or a range (what a
    tape keeps for values that carry no tangent): then the item's tangent is zero too."""
    if type(t) in _SCALARS and t == 0:
        return 0.0
    return t[index]


TANGENT_HELPERS: dict[str, Any] = {
    "zeros_tangent": zeros_tangent,
    "item_tangent": item_tangent,
    "owned_tangent": owned_tangent,
    "expand_tangent": expand_tangent,
    "tangent_like": tangent_like,
}
HELPERS.update(TANGENT_HELPERS)
