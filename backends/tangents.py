"""Runtime helpers of forward mode (tangents), registered beside the reverse helpers.

Same rules as ``runtime.py``: arrays are made "like" an existing one, nothing is converted to
NumPy implicitly, so tangents computed on a device stay there.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .runtime import (
    _ABSENT,
    _SCALARS,
    HELPERS,
    _float_dtype,
    copy_value,
    field_key,
    like_sequence,
    map_fields,
    record_fields,
)


def zeros_tangent(x: Any) -> Any:
    """A zero tangent with the structure of `x`: owned float arrays, 0.0 for numbers, and the
    same containers (every dict key present) for containers."""
    if isinstance(x, dict):
        return {k: zeros_tangent(v) for k, v in x.items()}
    if isinstance(x, list):
        return [zeros_tangent(v) for v in x]
    if isinstance(x, tuple):
        return like_sequence(x, [zeros_tangent(v) for v in x])
    if record_fields(x) is not None:
        return map_fields(x, lambda k, v: zeros_tangent(v))
    if type(x) in _SCALARS or not hasattr(x, "shape"):
        return 0.0
    return np.zeros_like(x, dtype=_float_dtype(x))


def field_tangent(t: Any, x: Any, attr: str, where: str) -> Any:
    """The tangent of the attribute read `x.attr` (a NamedTuple's or a dataclass's field; see
    `field_key`), from the tangent `t` of `x`: the same field of `t`."""
    key = field_key(x, attr, where)
    if type(t) in _SCALARS and t == 0:
        return 0.0
    if isinstance(key, str) and key not in record_fields(x):
        return 0.0  # a class-level constant (`eps = 1e-5` in the class body): no tangent
    if isinstance(t, dict):
        return t.get(key, 0.0)
    if isinstance(t, (list, tuple)):
        return t[key]
    return getattr(t, attr)


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
        return like_sequence(y, [tangent_like(a, b) for a, b in zip(tl, y, strict=True)])
    if record_fields(y) is not None:
        return map_fields(
            y,
            lambda k, v: tangent_like(
                t.get(k, 0.0) if isinstance(t, dict) else getattr(t, k, 0.0), v
            ),
        )
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


def save_item_tangent(td: Any, d: dict, key: Any) -> Any:
    """Tangent of `save_item(d, key)` (the item of `d` about to be overwritten): the item's
    tangent, or the same no-such-key marker. A dict's tangent holds every key of the dict, or
    is a zero (0.0) whose every item is zero."""
    if key not in d:
        return _ABSENT
    return copy_value(td[key]) if isinstance(td, dict) else 0.0


def restore_item_tangent(td: Any, d: dict, key: Any, old: Any) -> Any:
    """Tangent of `restore_item(d, key, old)`: a tangent of `d` of its own (`owned_tangent`)
    with the item's saved tangent put back, or the key removed where `d` had none."""
    td = owned_tangent(td, d)
    if old is _ABSENT:
        td.pop(key, None)
    else:
        td[key] = old
    return td


def get_tangent(t: Any, d: dict, key: Any, t_default: Any) -> Any:
    """Tangent of `d.get(key, default)` for a dict `d` (a generated gradient's adjoint dict;
    its tangent `t` holds every key of `d`, or is a zero 0.0): the entry's tangent, or the
    default's where `d` has no such key."""
    if key not in d:
        return t_default
    return t[key] if isinstance(t, dict) else 0.0


TANGENT_HELPERS: dict[str, Any] = {
    "get_tangent": get_tangent,
    "save_item_tangent": save_item_tangent,
    "restore_item_tangent": restore_item_tangent,
    "zeros_tangent": zeros_tangent,
    "item_tangent": item_tangent,
    "owned_tangent": owned_tangent,
    "expand_tangent": expand_tangent,
    "tangent_like": tangent_like,
    "field_tangent": field_tangent,
}
HELPERS.update(TANGENT_HELPERS)
