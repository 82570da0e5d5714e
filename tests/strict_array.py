"""A strict duck-array test double that behaves like a CuPy array with no GPU behind it.

`StrictArray` wraps a NumPy array ("device memory") and takes part in NumPy's dispatch
protocols: `np.tanh(x)`, `np.sum(x)`, `x @ w`, `x[i] = v` all work and return StrictArrays,
as they return CuPy arrays for CuPy. Everything CuPy refuses, it refuses too, and every
conversion CuPy allows only by copying a value back to the host, it counts.

Refused (TypeError, as CuPy does):
  * implicit conversion to NumPy: `np.asarray(x)`, `np.array(x)`, any NumPy function that does
    not dispatch (`__array__` raises; there is no buffer protocol or `__array_interface__`);
  * mixing with NumPy arrays: a ufunc or dispatched function that receives a StrictArray and a
    `numpy.ndarray` (of any shape) raises, as CuPy raises "Unsupported type numpy.ndarray";
    NumPy scalars (`np.float64(2.0)`) and Python numbers are accepted, as in CuPy;
    `x[...] = ndarray` raises too; NumPy index arrays are accepted, as in CuPy (in
    subscripts, `ufunc.at`, and as the `indices` of `np.take` and `np.take_along_axis`);
  * a Python or NumPy scalar as an operand of `np.dot`, `np.vdot`, `np.inner`, `np.outer` or
    `np.tensordot` (CuPy's read both operands as arrays), and `ufunc.at` with a tuple of
    indices (CuPy's `__array_ufunc__` returns NotImplemented for it; scatter-adds go through
    the backend this module registers, which does what `cupyx.scatter_add` does);
  * `operator.index(x)` (`range(x)`, `lst[x]`): CuPy arrays are not Python integers;
  * `float()`, `int()`, `complex()`, `bool()` of an array with more than one element;
  * a NumPy function or ufunc method CuPy does not implement, or arguments CuPy's version does
    not take (`np.polyder(p)`, `np.maximum.reduce(x)`, `np.sum(x, where=m)`): every dispatched
    call is checked against `cupy_api.json`, the table of what CuPy implements that
    `cupy_api.py` writes from an installed CuPy (no GPU needed), and raises what NumPy or CuPy
    raise for a CuPy array.

Where CuPy differs from NumPy, as CuPy: `np.zeros_like(x, shape=())` (any like-maker given an
empty shape) has x's shape; `x.device` compares but is not hashable.

Counted as device-to-host transfers (allowed, as CuPy allows them with a synchronising copy):
`float()`, `int()`, `complex()` and `bool()` of a one-element array, `.item()`, `.tolist()`
and `.get()`. Reductions return 0-d StrictArrays (as CuPy does, where NumPy returns scalars),
so `float(np.sum(x))` is a transfer here exactly when it is one on a GPU. `len(x)`, `.shape`,
iteration over rows and `repr` are metadata or debugging and are not counted. Use
`transfers()` to record the transfers made inside a block, and `to_device`/`to_host` to move
whole argument trees (dicts, lists, tuples of arrays) across without counting.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
from cupy_api import TABLE, parameters
from s2s.backends.namespace import register_backend

_CUPY = json.loads(TABLE.read_text())

_EVENTS: list[str] = []


def _transfer(kind: str, a: np.ndarray) -> None:
    _EVENTS.append(f"{kind} of a {a.dtype} array of shape {a.shape}")


@contextlib.contextmanager
def transfers() -> Iterator[list[str]]:
    """Record the device-to-host transfers made inside the block (a list of descriptions)."""
    start = len(_EVENTS)
    record: list[str] = []
    try:
        yield record
    finally:
        record.extend(_EVENTS[start:])
        del _EVENTS[start:]


def _mixing_error(what: str) -> TypeError:
    return TypeError(
        f"StrictArray: {what} received a numpy.ndarray; like CuPy, a device array does not mix "
        "with host arrays (move it with to_device first)"
    )


def _unwrap(obj: Any, what: str) -> Any:
    """The NumPy data behind `obj` (recursively through lists, tuples and dicts)."""
    if isinstance(obj, StrictArray):
        return obj._a
    if isinstance(obj, np.ndarray):
        raise _mixing_error(what)
    if isinstance(obj, (list, tuple)):
        return _rebuild(obj, [_unwrap(o, what) for o in obj])
    if isinstance(obj, dict):
        return {k: _unwrap(v, what) for k, v in obj.items()}
    return obj


@functools.cache
def _cupy_signature(key: str) -> inspect.Signature | None:
    spelled = _CUPY["functions"][key]
    return None if spelled is None else parameters(spelled)


# CuPy's products read their two operands as CuPy arrays (`a.dot(b)`, `a.ndim`, `a.ravel()`):
# a Python or NumPy scalar there raises AttributeError (TypeError here).
_ARRAY_OPERANDS = {f"numpy.{n}" for n in "dot vdot inner outer tensordot".split()}

# CuPy's like-makers take an empty `shape` for "no shape given" (`shape if shape else a.shape`):
# `cupy.zeros_like(x, shape=())` has x's shape, not shape ().
_LIKE_MAKERS = {f"numpy.{n}" for n in "zeros_like ones_like empty_like full_like".split()}


def _array_operands(key: str, args: tuple) -> None:
    for i, item in enumerate(args[:2]):
        if not isinstance(item, (StrictArray, np.ndarray)):  # an ndarray: the mixing error
            raise TypeError(
                f"{key.replace('numpy', 'cupy')} takes CuPy arrays: its operand {i} is a "
                f"{type(item).__name__} (CuPy raises AttributeError: "
                f"'{type(item).__name__}' object has no attribute 'ndim')"
            )


def _as_cupy_function(func: Any, args: tuple, kwargs: dict) -> None:
    """Raise the TypeError NumPy or CuPy raise for a CuPy array where CuPy has no `func`, or
    where CuPy's `func` does not take these arguments."""
    key = f"{func.__module__}.{func.__name__}"
    cupy_name = "cupy" + key.removeprefix("numpy")
    if key not in _CUPY["functions"]:
        raise TypeError(
            f"no implementation found for '{key}' on types that implement __array_function__: "
            f"[StrictArray] (CuPy {_CUPY['cupy']} has no {cupy_name}, so NumPy refuses it for "
            "a CuPy array)"
        )
    if key in _ARRAYS_ONLY:
        _arrays_only(key, args)
    if key in _ARRAY_OPERANDS:
        _array_operands(key, args)
    sig = _cupy_signature(key)
    if sig is None:
        return
    try:
        sig.bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError(
            f"{cupy_name}() of CuPy {_CUPY['cupy']} does not take these arguments "
            f"({cupy_name}({_CUPY['functions'][key]})): {e}"
        ) from None


# CuPy's joins take CuPy arrays only: `concatenate` raises "Only cupy arrays can be
# concatenated" for anything else, and the others reach it through `expand_dims` or
# `atleast_nd`, which refuse a Python or NumPy scalar ("Unsupported type").
_ARRAYS_ONLY = {
    f"numpy.{n}"
    for n in "concatenate stack hstack vstack dstack column_stack atleast_1d atleast_2d "
    "atleast_3d".split()
}


def _arrays_only(key: str, args: tuple) -> None:
    items = args[0] if key.endswith(("concatenate", "stack")) and args else args
    for item in items if isinstance(items, (list, tuple)) else (items,):
        if not isinstance(item, (StrictArray, np.ndarray)):  # an ndarray: the mixing error
            raise TypeError(
                f"Only cupy arrays can be concatenated: {key} received a "
                f"{type(item).__name__} beside device arrays (CuPy does not convert it)"
            )


def _as_cupy_ufunc(ufunc: Any, method: str, kwargs: dict) -> None:
    """Raise what NumPy or CuPy raise for a CuPy array where CuPy has no such ufunc, method or
    keyword."""
    name = ufunc.__name__
    entry = _CUPY["ufuncs"].get(name)
    if entry is None:
        raise TypeError(
            f"operand type(s) all returned NotImplemented from __array_ufunc__({name}, "
            f"{method!r}): CuPy {_CUPY['cupy']} has no ufunc {name!r}"
        )
    if method != "__call__" and method not in entry["methods"]:
        raise NotImplementedError(f"`cupy.{name}.{method}` is not supported (CuPy {_CUPY['cupy']})")
    keywords = entry["keywords"]
    if method == "__call__" and keywords is not None and set(kwargs) - set(keywords):
        raise TypeError(
            f"Wrong arguments {sorted(set(kwargs) - set(keywords))} for cupy.{name} "
            f"(CuPy {_CUPY['cupy']} takes {', '.join(keywords)})"
        )


# Parameters that CuPy reads on the host as sequences of Python ints (axes, shapes): a NumPy
# integer array passed there is accepted, as CuPy accepts it, and handed over as a tuple.
_HOST_PARAMETERS = {"axes", "axis", "shape", "newshape", "source", "destination", "reps"}
_SIGNATURES: dict[Any, Any] = {}
# Functions whose `indices` CuPy accepts as a NumPy integer array: `cupy.take` copies it to the
# device (`core.array(indices)`), `cupy.take_along_axis` indexes with it (`a[...]`).
_INDEX_FUNCTIONS = (np.take, np.take_along_axis)


def _host_parameters(func: Any, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    def host(v: Any) -> Any:
        if isinstance(v, np.ndarray) and v.dtype.kind in "iu" and v.ndim <= 1:
            return tuple(int(i) for i in v.reshape(-1)) if v.ndim else int(v)
        if isinstance(v, (list, tuple)) and any(isinstance(i, np.ndarray) for i in v):
            return type(v)(host(i) for i in v)
        return v

    if not any(isinstance(a, (np.ndarray, list, tuple)) for a in (*args, *kwargs.values())):
        return args, kwargs
    if func not in _SIGNATURES:
        try:
            _SIGNATURES[func] = inspect.signature(func)
        except (TypeError, ValueError):
            _SIGNATURES[func] = None
    sig = _SIGNATURES[func]
    if sig is None:
        return args, kwargs
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError:
        return args, kwargs
    for name in _HOST_PARAMETERS & set(bound.arguments):
        bound.arguments[name] = host(bound.arguments[name])
    index = bound.arguments.get("indices")
    if func in _INDEX_FUNCTIONS and isinstance(index, np.ndarray) and index.dtype.kind in "iu":
        bound.arguments["indices"] = StrictArray(index)  # copied to the device, as CuPy does
    return bound.args, bound.kwargs


def _unwrap_index(index: Any) -> Any:
    if isinstance(index, StrictArray):
        return index._a
    if isinstance(index, tuple):
        return tuple(_unwrap_index(i) for i in index)
    return index


def _wrap(obj: Any) -> Any:
    """Results back on the device: arrays and NumPy scalars become StrictArrays."""
    if isinstance(obj, np.ndarray):
        return StrictArray(obj)
    if isinstance(obj, np.generic):
        return StrictArray(np.asarray(obj))
    if isinstance(obj, (list, tuple)):
        return _rebuild(obj, [_wrap(o) for o in obj])
    return obj


class _Device:
    """What `.device` gives: like CuPy's `cupy.cuda.Device`, it compares equal to the same
    device and is not hashable (`__eq__` without `__hash__`)."""

    id = 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Device) and other.id == self.id

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<StrictArray Device {self.id}>"


_DEVICE = _Device()


def scatter_add(d: StrictArray, index: Any, g: Any) -> None:
    """The double's backend (`register_backend` below): `cupyx.scatter_add(d, index, g)`, which
    takes any index `d[index]` takes, tuples of slices and arrays included."""
    np.add.at(d._a, _unwrap_index(index), _unwrap(g, "cupyx.scatter_add"))


def _rebuild(seq: list | tuple, items: list) -> Any:
    if isinstance(seq, tuple) and hasattr(seq, "_fields"):  # a namedtuple (np.linalg results)
        return type(seq)(*items)
    return type(seq)(items)


# Methods that compute on the device and give device results (the rest are refused).
_METHODS = (
    "sum mean max min prod std var argmax argmin any all cumsum cumprod clip round conj "
    "reshape ravel flatten squeeze transpose swapaxes repeat take copy astype dot "
    "nonzero argsort sort diagonal trace fill"
).split()


class StrictArray(np.lib.mixins.NDArrayOperatorsMixin):
    """A NumPy array "on a device": dispatches like CuPy, refuses and counts like CuPy."""

    __slots__ = ("_a",)

    def __init__(self, data: Any) -> None:
        if isinstance(data, StrictArray):
            data = data._a
        self._a = np.asarray(data)

    # --- dispatch protocols -----------------------------------------------------------------
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        what = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        _as_cupy_ufunc(ufunc, method, kwargs)
        if method == "at":  # ufunc.at(a, index, b): the index is an index, as in a[index]
            if not isinstance(inputs[1], (StrictArray, np.ndarray, int, np.integer)):
                # CuPy's __array_ufunc__ takes arrays and scalars only: a tuple of indices
                # (`np.add.at(d, (slice(None), i), g)`) makes NumPy raise this
                raise TypeError(
                    f"operand type(s) all returned NotImplemented from __array_ufunc__"
                    f"({ufunc!r}, 'at', ...): 'StrictArray', "
                    f"{type(inputs[1]).__name__!r}, ... (CuPy takes no tuple of indices here; "
                    "cupyx.scatter_add does)"
                )
            args = [_unwrap(inputs[0], what), _unwrap_index(inputs[1])]
            args += [_unwrap(i, what) for i in inputs[2:]]
        else:
            args = [_unwrap(i, what) for i in inputs]
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(_unwrap(o, what) for o in out)
        result = getattr(ufunc, method)(*args, **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        what = f"np.{func.__name__}"
        _as_cupy_function(func, args, kwargs)
        args, kwargs = _host_parameters(func, args, kwargs)
        shape = kwargs.get("shape")
        if (
            isinstance(shape, (tuple, list))
            and not shape
            and f"numpy.{func.__name__}" in _LIKE_MAKERS
        ):
            kwargs = {k: v for k, v in kwargs.items() if k != "shape"}  # as CuPy reads it
        return _wrap(func(*_unwrap(args, what), **_unwrap(kwargs, what)))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TypeError(
            "StrictArray: implicit conversion to a NumPy array is not allowed (as in CuPy); "
            "use .get() or to_host() explicitly"
        )

    # --- attributes ---------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self._a.shape

    @property
    def ndim(self) -> int:
        return self._a.ndim

    @property
    def size(self) -> int:
        return self._a.size

    @property
    def dtype(self) -> np.dtype:
        return self._a.dtype

    @property
    def itemsize(self) -> int:
        return self._a.itemsize

    @property
    def nbytes(self) -> int:
        return self._a.nbytes

    @property
    def T(self) -> StrictArray:
        return StrictArray(self._a.T)

    @property
    def device(self) -> _Device:
        return _DEVICE

    @property
    def real(self) -> StrictArray:
        return StrictArray(self._a.real)

    @property
    def imag(self) -> StrictArray:
        return StrictArray(self._a.imag)

    def __getattr__(self, name: str) -> Any:
        if name in _METHODS:
            method = getattr(self._a, name)

            def call(*args: Any, **kwargs: Any) -> Any:
                what = f"StrictArray.{name}"
                return _wrap(method(*_unwrap(args, what), **_unwrap(kwargs, what)))

            return call
        raise AttributeError(f"StrictArray has no attribute {name!r} (CuPy-like double)")

    # --- indexing -----------------------------------------------------------------------------
    def __getitem__(self, index: Any) -> StrictArray:
        return StrictArray(self._a[_unwrap_index(index)])

    def __setitem__(self, index: Any, value: Any) -> None:
        self._a[_unwrap_index(index)] = _unwrap(value, "x[...] = value")

    def __len__(self) -> int:
        if self._a.ndim == 0:
            raise TypeError("len() of unsized object")
        return len(self._a)

    def __iter__(self) -> Iterator[StrictArray]:
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (StrictArray(row) for row in self._a)

    # --- conversions to the host ----------------------------------------------------------------
    def _scalar(self, kind: str) -> Any:
        if self._a.size != 1:
            raise TypeError(
                f"{kind} of a StrictArray of shape {self._a.shape}: only "
                "one-element arrays can be converted to Python scalars"
            )
        _transfer(kind, self._a)
        return self._a.reshape(()).item()

    def __float__(self) -> float:
        return float(self._scalar("float()"))

    def __int__(self) -> int:
        return int(self._scalar("int()"))

    def __complex__(self) -> complex:
        return complex(self._scalar("complex()"))

    def __bool__(self) -> bool:
        if self._a.size != 1:
            raise ValueError("The truth value of an array with more than one element is ambiguous")
        return bool(self._scalar("bool()"))

    def __index__(self) -> int:
        raise TypeError(
            "StrictArray: a device array is not a Python integer (as in CuPy); "
            "use int(x) to copy it to the host"
        )

    def item(self) -> Any:
        return self._scalar(".item()")

    def tolist(self) -> Any:
        _transfer(".tolist()", self._a)
        return self._a.tolist()

    def get(self) -> np.ndarray:
        """The data as a NumPy array (an explicit copy to the host, as `cupy.ndarray.get`)."""
        _transfer(".get()", self._a)
        return self._a.copy()

    def __repr__(self) -> str:
        return f"StrictArray({self._a!r})"

    __hash__ = None  # type: ignore[assignment]

    def __copy__(self) -> StrictArray:
        return StrictArray(self._a.copy())

    def __deepcopy__(self, memo: dict) -> StrictArray:
        return StrictArray(self._a.copy())


def to_device(tree: Any, dtype: Any = None) -> Any:
    """The same structure with every NumPy array (and NumPy scalar) leaf wrapped, uncounted;
    with `dtype`, floating arrays are cast to it (integer index arrays stay integers).

    Python floats and ints stay what they are, as they do when a user moves arrays with
    `cupy.asarray`."""
    if isinstance(tree, (np.ndarray, np.generic)):
        a = np.asarray(tree)
        cast = dtype is not None and a.dtype.kind == "f"
        return StrictArray(a.astype(dtype) if cast else a.copy())
    if isinstance(tree, dict):
        return {k: to_device(v, dtype) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return _rebuild(tree, [to_device(v, dtype) for v in tree])
    return tree


def to_host(tree: Any) -> Any:
    """The same structure with every StrictArray leaf unwrapped to NumPy, uncounted."""
    if isinstance(tree, StrictArray):
        return tree._a.copy()
    if isinstance(tree, dict):
        return {k: to_host(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return _rebuild(tree, [to_host(v) for v in tree])
    return tree


def leaves(tree: Any) -> Iterator[Any]:
    """Every non-container leaf of a (dict / list / tuple) tree."""
    if isinstance(tree, dict):
        for v in tree.values():
            yield from leaves(v)
    elif isinstance(tree, (list, tuple)):
        for v in tree:
            yield from leaves(v)
    else:
        yield tree


# Like CuPy (`cupy_backend`), the double has a backend of its own for what NumPy's dispatch
# cannot express for it: scatter-add with a tuple of indices.
register_backend(StrictArray.__module__.partition(".")[0], sys.modules[__name__])
