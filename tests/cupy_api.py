"""What CuPy implements of NumPy's API, as CuPy's own dispatch sees it.

The strict double (`strict_array.py`) checks every call dispatched to it against this table,
so a gradient that calls a NumPy function CuPy does not have (or a keyword CuPy's version does
not take) fails on every CI run, not only on a machine with a GPU.

`python tests/cupy_api.py` rewrites `tests/cupy_api.json` from the CuPy installed here. It needs
CuPy and SciPy but no GPU (`pip install cupy-cuda12x scipy`; CuPy imports without a device).

CuPy's rules, which the table follows:

- `__array_function__` looks up NumPy's `f` as the attribute `f.__name__` of the CuPy module
  named like `f.__module__` (`numpy.linalg.norm` -> `cupy.linalg.norm`); none, or NumPy's own
  function re-exported, is "not implemented" and NumPy raises TypeError. The CuPy function is
  called with the same arguments, so its signature must accept them. The table keeps, for each
  NumPy function CuPy implements, CuPy's parameters (`a, axis=, dtype=, out=, keepdims=`: a
  name with `=` has a default), or null where CuPy's function has no signature to read.
- `__array_ufunc__` looks up a ufunc by name in `cupy`, then in `cupyx.scipy.special`. Its
  methods other than a call (`reduce`, `accumulate`, `at`, `outer`, `reduceat`) exist on every
  CuPy ufunc but most raise NotImplementedError: the table keeps the ones that do not, found by
  calling each on small NumPy arrays (an unsupported method raises before touching a device).
  A CuPy ufunc's call takes the keywords `out`, `dtype` and `casting` only.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

TABLE = Path(__file__).with_name("cupy_api.json")
NUMPY_MODULES = ("numpy", "numpy.linalg", "numpy.fft")
UFUNC_METHODS = ("reduce", "accumulate", "at", "outer", "reduceat")
UFUNC_KEYWORDS = ["out", "dtype", "casting"]


def _parameters(fn: Any) -> str | None:
    """CuPy's parameters spelled `x1, x2, /, out=, *, casting=` (a name with `=` has a
    default), or None where the function has no signature to read."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    plain = [
        p.replace(default=0 if p.default is not p.empty else p.empty, annotation=p.empty)
        for p in sig.parameters.values()
    ]
    return str(sig.replace(parameters=plain, return_annotation=sig.empty))[1:-1].replace("=0", "=")


def parameters(spelled: str) -> inspect.Signature:
    """The signature `_parameters` spelled (defaults are placeholders)."""
    params: list[inspect.Parameter] = []
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    for token in filter(None, spelled.split(", ")):
        if token == "/":
            params = [p.replace(kind=inspect.Parameter.POSITIONAL_ONLY) for p in params]
        elif token == "*":
            kind = inspect.Parameter.KEYWORD_ONLY
        elif token.startswith("**"):
            params.append(inspect.Parameter(token[2:], inspect.Parameter.VAR_KEYWORD))
        elif token.startswith("*"):
            params.append(inspect.Parameter(token[1:], inspect.Parameter.VAR_POSITIONAL))
            kind = inspect.Parameter.KEYWORD_ONLY
        else:
            name, eq, _ = token.partition("=")
            default = None if eq else inspect.Parameter.empty
            params.append(inspect.Parameter(name, kind, default=default))
    return inspect.Signature(params)


def _numpy_functions() -> dict[str, Any]:
    """Every public NumPy function that dispatches through `__array_function__`, by the key
    `module.name` that CuPy's lookup uses."""
    import importlib

    found: dict[str, Any] = {}
    for modname in NUMPY_MODULES:
        mod = importlib.import_module(modname)
        for name in dir(mod):
            f = getattr(mod, name)
            if name.startswith("_") or not hasattr(f, "_implementation"):
                continue
            found[f"{f.__module__}.{f.__name__}"] = f
    return found


def _probe(method: Any, name: str) -> bool:
    """Whether a CuPy ufunc method is implemented: the unsupported ones raise
    NotImplementedError before they look at their arguments' device."""
    small, index = np.ones(3), np.array([0, 1])
    calls = {
        "reduce": lambda: method(small),
        "accumulate": lambda: method(small),
        "at": lambda: method(np.zeros(3), index, np.ones(2)),
        "outer": lambda: method(small, small),
        "reduceat": lambda: method(small, index),
    }
    try:
        calls[name]()
    except NotImplementedError:
        return False
    except Exception:  # needs a device, or CuPy data: implemented
        return True
    return True


def snapshot() -> dict[str, Any]:
    import cupy
    import cupyx.scipy.special
    import scipy
    import scipy.special

    functions: dict[str, Any] = {}
    for key, f in sorted(_numpy_functions().items()):
        try:
            module = functools.reduce(getattr, f.__module__.split(".")[1:], cupy)
            cf = getattr(module, f.__name__)
        except AttributeError:
            continue
        if cf is f:
            continue
        functions[key] = _parameters(cf)
    names = {n for n in dir(np) if isinstance(getattr(np, n), np.ufunc)}
    names |= {n for n in dir(scipy.special) if isinstance(getattr(scipy.special, n), np.ufunc)}
    ufuncs: dict[str, Any] = {}
    for name in sorted(names):
        cf = getattr(cupy, name, None) or getattr(cupyx.scipy.special, name, None)
        if cf is None or not callable(cf):
            continue
        methods = [m for m in UFUNC_METHODS if hasattr(cf, m) and _probe(getattr(cf, m), m)]
        if isinstance(cf, cupy.ufunc):
            keywords: list[str] | None = UFUNC_KEYWORDS
        else:
            spelled = _parameters(cf)
            sig = None if spelled is None else parameters(spelled)
            kinds = [] if sig is None else [p.kind for p in sig.parameters.values()]
            keywords = None
            if sig is not None and inspect.Parameter.VAR_KEYWORD not in kinds:
                keywords = [
                    p.name
                    for p in sig.parameters.values()
                    if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                ]
        ufuncs[name] = {"methods": methods, "keywords": keywords}
    return {
        "cupy": cupy.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "functions": functions,
        "ufuncs": ufuncs,
    }


def main() -> int:
    table = snapshot()
    TABLE.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    print(
        f"{TABLE.name}: CuPy {table['cupy']}: {len(table['functions'])} NumPy functions and "
        f"{len(table['ufuncs'])} ufuncs implemented"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
