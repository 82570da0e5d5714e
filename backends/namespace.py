"""Which array library a call's arrays live in, and the error for mixing them.

Generated code and the runtime helpers are written against NumPy's function API; NumPy hands
each call to the library that owns the arrays (`__array_ufunc__`, `__array_function__`), so the
same code runs on NumPy, on CuPy and on any array type implementing those protocols. The few
operations dispatch cannot express (scatter-add at repeated indices) are looked up here, in the
backend module of the library that owns the array: `numpy_backend`, `cupy_backend`, or
`array_api` for other libraries implementing the Python array API standard, or a module
registered for a library with `register_backend`.
"""

from __future__ import annotations

import dataclasses
from types import ModuleType
from typing import Any

import numpy as np

from s2s.errors import ArgumentError


class MixedArraysError(ArgumentError):
    """One call received arrays of two array libraries (say NumPy and CuPy)."""


_HOST_SCALARS = (float, int, bool, complex, str, bytes, type(None))

#: the top-level packages whose classes are not the user's: their objects are never records
#: (their attributes are not fields), and s2s does not read their methods (`s2s/classes.py`)
_LIBRARY_PACKAGES = frozenset(
    ("builtins", "numpy", "cupy", "scipy", "s2s", "random", "types", "typing", "collections")
)


def is_library_class(t: type) -> bool:
    """`t` is a class of a library or of Python's, not of the user's."""
    return (getattr(t, "__module__", "") or "").partition(".")[0] in _LIBRARY_PACKAGES


#: type -> its dataclass field names, _PLAIN (a plain class of the user's: the instance's
#: attributes), or None (not a record); decided once per type
_RECORD_TYPES: dict[type, Any] = {}
_PLAIN, _UNSEEN = object(), object()


def _record_kind(t: type) -> Any:
    if dataclasses.is_dataclass(t):
        return tuple(f.name for f in dataclasses.fields(t))
    if (
        issubclass(t, type)
        or callable(getattr(t, "__array_function__", None))
        or hasattr(t, "shape")
        or hasattr(t, "__code__")
        or is_library_class(t)
    ):
        return None
    return _PLAIN


def record_fields(x: Any) -> tuple[str, ...] | None:
    """The field names of a record: a dataclass instance, or an object of a class of the user's
    that keeps its attributes in `__dict__` (`self.W = W` in `__init__`); None for anything
    else (an array, a container, a module, a function, a library's object)."""
    t = type(x)
    kind = _RECORD_TYPES.get(t, _UNSEEN)
    if kind is _UNSEEN:
        kind = _RECORD_TYPES[t] = _record_kind(t)
    if kind is _PLAIN:
        attrs = getattr(x, "__dict__", None)
        return None if attrs is None else tuple(attrs)
    return kind


def library_of(x: Any) -> str | None:
    """The name of the array library owning `x` ('numpy', 'cupy', ...), or None for Python and
    NumPy scalars and for non-arrays."""
    if isinstance(x, np.ndarray):
        return "numpy"
    if type(x) in _HOST_SCALARS or isinstance(x, np.generic):
        return None
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return type(x).__module__.split(".", 1)[0]
    return None


def _libraries(tree: Any, found: set[str], seen: set[int] | None = None) -> None:
    """The libraries of the arrays in `tree`; `seen`: the records walked (objects may refer to
    each other in a cycle)."""
    if isinstance(tree, dict):
        for v in tree.values():
            _libraries(v, found, seen)
    elif isinstance(tree, (list, tuple)):
        for v in tree:
            _libraries(v, found, seen)
    elif type(tree) not in _HOST_SCALARS and record_fields(tree) is not None:
        seen = set() if seen is None else seen
        if id(tree) not in seen:
            seen.add(id(tree))
            for k in record_fields(tree):
                _libraries(getattr(tree, k), found, seen)
    elif type(tree) not in _HOST_SCALARS:
        lib = library_of(tree)
        if lib is not None:
            found.add(lib)


def _where(tree: Any, path: str, out: dict[str, str], seen: set[int] | None = None) -> None:
    """First path (`params['W1']`, `xs[0]`, `model.layers[0].W`) at which each library
    appears."""
    if isinstance(tree, dict):
        for k, v in tree.items():
            _where(v, f"{path}[{k!r}]", out, seen)
    elif isinstance(tree, (list, tuple)):
        for i, v in enumerate(tree):
            _where(v, f"{path}[{i}]", out, seen)
    elif record_fields(tree) is not None:
        seen = set() if seen is None else seen
        if id(tree) not in seen:
            seen.add(id(tree))
            for k in record_fields(tree):
                _where(getattr(tree, k), f"{path}.{k}", out, seen)
    else:
        lib = library_of(tree)
        if lib is not None and lib not in out:
            out[lib] = path


def check_arguments(where: str, names: tuple[str, ...], args: tuple, kwargs: dict) -> None:
    """Raise MixedArraysError when the arguments of one call hold arrays of two libraries.

    `where` names the function (`f (model.py:3)`), `names` its positional parameter names.
    Costs one walk over the argument structures; says nothing about scalars."""
    found: set[str] = set()
    _libraries(args, found)
    _libraries(kwargs, found)
    if len(found) < 2:
        return
    first: dict[str, str] = {}
    for i, a in enumerate(args):
        _where(a, names[i] if i < len(names) else f"argument {i}", first)
    for k, v in kwargs.items():
        _where(v, k, first)
    parts = [f"{path} is a {lib} array" for lib, path in first.items()]
    raise MixedArraysError(
        f"{where}: one call mixes arrays of different libraries: " + ", ".join(parts),
        hint="move every array argument to one library first (cupy.asarray(...) for the GPU, "
        "cupy.asnumpy(...) back to the host)",
    )


#: library name -> its backend module, for libraries registered with `register_backend`
_REGISTERED: dict[str, ModuleType] = {}


def register_backend(library: str, module: ModuleType) -> None:
    """Use `module` for the arrays of `library` (the top-level package of their type, as
    `library_of` names it). The module defines what the built-in backends define:
    `scatter_add(d, index, g)`, adding `g` into `d[index]` in place, repeated indices adding
    up. For an array library whose dispatch cannot express that (CuPy's `__array_ufunc__`
    refuses `np.add.at` with a tuple of indices)."""
    _REGISTERED[library] = module
    _DEVICE_TYPES.clear()


#: array type -> whether it is a device array type (`is_device_array_type`), decided once
_DEVICE_TYPES: dict[type, bool] = {}


def is_device_array_type(t: type) -> bool:
    """`t` is CuPy's array type, or that of a library registered with `register_backend`:
    arrays that NumPy's API reaches by dispatch and that follow NumPy's dtype rules and
    in-place operators, as a NumPy array does."""
    known = _DEVICE_TYPES.get(t)
    if known is None:
        lib = (getattr(t, "__module__", "") or "").partition(".")[0]
        known = _DEVICE_TYPES[t] = (
            (lib == "cupy" or lib in _REGISTERED)
            and hasattr(t, "__array_ufunc__")
            and hasattr(t, "shape")
            and hasattr(t, "dtype")
        )
    return known


def namespace_of(*arrays: Any) -> ModuleType:
    """The backend module for the arrays given (Python and NumPy scalars are neutral).

    NumPy arrays, scalars, and array types that implement NumPy's dispatch protocols without
    a backend of their own give `numpy_backend`; CuPy arrays give `cupy_backend`; other arrays
    implementing `__array_namespace__` give `array_api`. Two libraries at once raise
    MixedArraysError."""
    libs = {lib for lib in map(library_of, arrays) if lib is not None}
    if len(libs) > 1:
        raise MixedArraysError(
            "arrays of different libraries meet in one operation: " + ", ".join(sorted(libs)),
            hint="move every array to one library first",
        )
    lib = libs.pop() if libs else "numpy"
    if lib in _REGISTERED:
        return _REGISTERED[lib]
    if lib == "numpy":
        from . import numpy_backend

        return numpy_backend
    if lib == "cupy":
        from . import cupy_backend

        return cupy_backend
    x = next(a for a in arrays if library_of(a) == lib)
    if not hasattr(x, "__array_function__") and hasattr(x, "__array_namespace__"):
        from . import array_api

        return array_api
    from . import numpy_backend

    return numpy_backend


def argument_checker(fn: Any) -> Any:
    """`check(args, kwargs)` for calls of the derivative of `fn`: `check_arguments` with the
    function's name, file, line and parameter names filled in."""
    import inspect
    import os

    code = getattr(fn, "__code__", None)
    name = getattr(fn, "__name__", "function")
    where = name
    if code is not None:
        where = f"{name} ({os.path.basename(code.co_filename)}:{code.co_firstlineno})"
    try:
        names = tuple(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        names = ()

    def check(args: tuple, kwargs: dict) -> None:
        check_arguments(where, names, args, kwargs)

    return check
