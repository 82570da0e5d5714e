"""Backend for array libraries that implement the Python array API standard but not NumPy's
dispatch protocols, through `array-api-compat` (optional: `pip install array-api-compat`).

User code written with `np.` does not run on such arrays (`np.tanh` converts them to NumPy), so
this backend only serves helpers that are handed such arrays directly."""

from __future__ import annotations

from typing import Any

name = "array_api"


def namespace(*arrays: Any) -> Any:
    """The array API namespace of `arrays` (array-api-compat's when it is installed)."""
    try:
        from array_api_compat import array_namespace
    except ImportError:
        return arrays[0].__array_namespace__()
    return array_namespace(*arrays)


def scatter_add(d: Any, index: Any, g: Any) -> None:
    """`d[index] += g` in place for a 1-D integer index array along axis 0 (the standard has no
    scatter-add: a one-hot matrix sums the rows of `g` that share an index, on the device)."""
    xp = namespace(d)
    if isinstance(index, tuple) or getattr(index, "ndim", None) != 1:
        raise TypeError(
            "array API backend: accumulation at an index is supported for one 1-D integer "
            "index array along axis 0"
        )
    onehot = xp.astype(index[:, None] == xp.arange(d.shape[0], device=d.device)[None, :], d.dtype)
    g = xp.broadcast_to(xp.asarray(g, dtype=d.dtype), (index.shape[0], *d.shape[1:]))
    d[...] = d + xp.tensordot(onehot, g, axes=([0], [0]))
