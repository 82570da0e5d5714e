"""CuPy backend, used for `cupy.ndarray` arguments. CuPy is imported only when a CuPy array
is seen (it is an optional dependency: `pip install 's2s[cuda]'`)."""

from __future__ import annotations

from typing import Any

name = "cupy"


def available() -> bool:
    """Whether CuPy imports and finds at least one CUDA device."""
    try:
        import cupy
    except Exception:  # ImportError, or a CUDA library that fails to load
        return False
    try:
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def scatter_add(d: Any, index: Any, g: Any) -> None:
    """`d[index] += g` in place on the device, accumulating at repeated indices."""
    import cupyx

    cupyx.scatter_add(d, index, g)
