"""NumPy backend: the operations generated code needs that NumPy's dispatch cannot route by
itself. Also the backend of array types that implement NumPy's dispatch protocols
(`__array_ufunc__`, `__array_function__`) and have no module here: `np.add.at` reaches them
through `__array_ufunc__`."""

from __future__ import annotations

from typing import Any

import numpy as np

name = "numpy"


def scatter_add(d: Any, index: Any, g: Any) -> None:
    """`d[index] += g` in place, accumulating at repeated indices."""
    np.add.at(d, index, g)
