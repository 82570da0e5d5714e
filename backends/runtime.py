"""The handful of helpers generated gradients call.

They are written against NumPy's function API, which dispatches to CuPy (and other array
libraries implementing ``__array_ufunc__`` / ``__array_function__``) for their arrays. Rules every
helper keeps, so that an adjoint computed on a device stays there:

* new arrays are made "like" an existing one (``np.zeros_like``, ``np.full_like``,
  ``np.broadcast_to``), never from a shape alone (``np.zeros(shape)`` would allocate on the host)
  unless the array it is like is an exact ``numpy.ndarray`` (``zeros_like``'s fast path);
* no implicit conversion to NumPy (``np.asarray`` of an argument's array) and no host value of an
  array (``float``, ``int``, ``bool``, ``.item()``), except where the result must be a Python
  float because the user's argument was one (``grad_like``);
* what dispatch cannot route (scatter-add at repeated indices) goes to the backend module of the
  array's library, found by ``namespace_of`` (see ``namespace.py``).

``tests/strict_array.py`` holds a test double that enforces these rules on every CI run.
"""

from __future__ import annotations

import copy
import math
import numbers
import re
import threading
from typing import Any

import numpy as np

from .namespace import namespace_of, record_fields

_SCALARS = (float, int, bool, complex)


def unbroadcast(g: Any, x: Any) -> Any:
    """Sum the adjoint `g` down to the shape of `x` (undoing NumPy broadcasting)."""
    try:  # the common case first, quickly: two arrays of one shape
        if g.shape == x.shape:
            return g
    except AttributeError:
        pass
    if type(x) in _SCALARS:
        if type(g) in _SCALARS:
            return g
        return g.sum() if getattr(g, "ndim", 0) else g
    shape = x.shape if hasattr(x, "shape") else np.shape(x)
    gshape = g.shape if hasattr(g, "shape") else ()
    if gshape == shape:
        return g
    if not hasattr(g, "shape"):  # a Python scalar adjoint of an array
        return np.full_like(x, g) if shape else g
    extra = len(gshape) - len(shape)
    if extra < 0:  # a lower-rank adjoint (a gradient given for a broadcast argument)
        return np.broadcast_to(g, shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(
        i for i, (a, b) in enumerate(zip(g.shape, shape, strict=True)) if b == 1 and a != 1
    )
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g


def unreduce(g: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Broadcast the adjoint of a reduction over `axis` back to the shape of `x`."""
    shape = np.shape(x)
    if not hasattr(g, "shape") and type(x) not in _SCALARS:
        return np.full_like(x, g, dtype=_float_dtype(x))  # a Python number: made where x lives
    if axis is not None and not keepdims and getattr(g, "ndim", 0) != len(shape):
        axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
        axes = tuple(a % len(shape) for a in axes)
        g = np.expand_dims(g, axes)
    if type(x) in _SCALARS:
        return g
    return np.broadcast_to(g, shape)


def reduction_count(x: Any, axis: Any = None) -> int:
    """How many elements a mean over `axis` averages."""
    if type(x) is np.ndarray:  # the common case first
        if axis is None:
            return x.size
        shape = x.shape
    else:
        shape = np.shape(x)
    if axis is None:
        n = 1
        for s in shape:
            n *= s
        return n
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def zeros_like(x: Any) -> Any:
    """A zero adjoint with the structure of `x`, ready for accumulation at an index (`None`, a
    name the path taken never assigned, gets 0.0: nothing flows into it)."""
    if type(x) is np.ndarray:  # the common case first: `np.zeros` is faster than `zeros_like`
        dt = x.dtype
        return np.zeros(x.shape, dt if dt.kind in "fc" else np.float64)
    if x is None:
        return 0.0
    if isinstance(x, dict):
        return {}
    if isinstance(x, (list, tuple)):
        return [0.0] * len(x)
    if type(x) in _SCALARS:
        return 0.0
    if record_fields(x) is not None:
        return {}  # by field name, as a dict's (`field_key`)
    return np.zeros_like(x, dtype=_float_dtype(x))


def _class_constant(cls: type, attr: str) -> bool:
    """`attr` is a plain value the class holds (`eps = 1e-5` in its body): no derivative."""
    for klass in cls.__mro__:
        if attr in vars(klass):
            value = vars(klass)[attr]
            return isinstance(value, (numbers.Number, str, tuple, type(None))) or hasattr(
                value, "shape"
            )
    return False


def field_key(x: Any, attr: str, where: str) -> Any:
    """Where the adjoint of the attribute read `x.attr` (at `where`, `'model.py:12'`) goes in
    the adjoint of `x`: the field's position for a NamedTuple (whose adjoint is a list, as a
    tuple's is), its name for a record, a dataclass or an object of a class of the user's
    (whose adjoint is a dict: `record_fields`). Any other attribute is refused: s2s
    differentiates no attribute of an array but .T, .mT, .real and .imag, and no attribute of
    an object that its class holds (a method, a class-level constant)."""
    names = getattr(type(x), "_fields", None) if isinstance(x, tuple) else None
    if names is not None and attr in names:
        return names.index(attr)
    names = record_fields(x)
    if names is not None and (attr in names or _class_constant(type(x), attr)):
        return attr  # (a class-level constant's adjoint is kept under its name, and dropped)
    from s2s.errors import UnsupportedSyntaxError

    raise UnsupportedSyntaxError(
        f"{where}: reading `.{attr}` of a {type(x).__name__} that depends on the differentiated "
        "input: s2s differentiates the fields of a NamedTuple, a dataclass or an object of "
        "your class (what `self.W = ...` set), and of an array only .T, .mT, .real and .imag",
        hint="for an array, use a NumPy function (np.ravel(x) for x.flat); or wrap the read in "
        "s2s.stop_gradient(...) if no derivative should flow through it",
    )


def empty_like(x: Any) -> Any:
    """`zeros_like(x)` without the zeros, for an adjoint whose every element is assigned before
    any is read (the optimizer proves that the parts assigned cover the array)."""
    if type(x) is np.ndarray:
        dt = x.dtype
        return np.empty(x.shape, dt if dt.kind in "fc" else np.float64)
    if hasattr(x, "shape") and not isinstance(x, dict):
        return np.empty_like(x, dtype=_float_dtype(x))
    return zeros_like(x)


_STAND_INS: dict[tuple, Any] = {}


def shape_of(x: Any) -> Any:
    """What the tape keeps of `x` when the backward sweep reads only its shape and dtype
    (`unbroadcast(g, x)`, `zeros_like(x)`): a read-only view of one zero broadcast to x's shape,
    made where x lives and shared by every array of the same type, shape, dtype and device.
    Numbers, 0-d arrays, containers and None are kept as they are."""
    shape = getattr(x, "shape", None)
    if not shape or type(shape) is not tuple:
        return x
    device = getattr(x, "device", None)
    key = (type(x), shape, getattr(x, "dtype", None), getattr(device, "id", device))
    try:
        stand_in = _STAND_INS.get(key)
    except TypeError:  # an unhashable device with no `id` (CuPy's has one)
        key = (*key[:3], repr(device))
        stand_in = _STAND_INS.get(key)
    if stand_in is None:
        if len(_STAND_INS) >= 256:
            _STAND_INS.clear()
        stand_in = _STAND_INS[key] = np.broadcast_to(scalar_like(x, 0), shape)
    return stand_in


def scalar_like(x: Any, value: Any) -> Any:
    """A 0-d array holding `value`, of x's dtype, where x lives. (Not `np.full_like(x, value,
    shape=())`: CuPy's like-makers read an empty shape as "x's shape".)"""
    return np.reshape(np.full_like(x, value, shape=(1,)), ())


def _float_dtype(x: Any) -> Any:
    dt = getattr(x, "dtype", None)
    if dt is not None and getattr(dt, "kind", "f") in "fc":
        return dt
    return np.float64


def add(a: Any, b: Any) -> Any:
    """Add two adjoints; 0.0 is the zero of every structure, containers add leafwise."""
    if isinstance(b, (list, tuple)):
        if isinstance(a, (list, tuple)):
            return [add(x, y) for x, y in zip(a, b, strict=True)]
        return list(b) if _is_zero(a) else b
    if isinstance(b, dict):
        if isinstance(a, dict):
            out = dict(a)
            for k, v in b.items():
                out[k] = add(out[k], v) if k in out else v
            return out
        return dict(b)
    if isinstance(a, (list, tuple, dict)):
        return a if _is_zero(b) else add(b, a)
    return a + b


def _is_zero(a: Any) -> bool:
    return type(a) in _SCALARS and a == 0


def is_zero(g: Any) -> bool:
    """True for the Python 0.0 a zero adjoint starts as (it has no shape: a template that
    reshapes or indexes its adjoint is skipped then); never true of an array."""
    return _is_zero(g)


def add_at(d: Any, index: Any, g: Any) -> Any:
    """Accumulate `g` into the adjoint `d` at `index`, in place (`d` is owned by the caller)."""
    if isinstance(d, dict):
        d[index] = add(d[index], g) if index in d else g
        return d
    if isinstance(d, list):
        # (into a zero slot, `g` itself, as into a dict: `add` would copy an array)
        d[index] = add(d[index], g) if not _is_zero(d[index]) or isinstance(index, slice) else g
        return d
    try:
        if _has_array_index(index):
            namespace_of(d).scatter_add(d, index, g)
        else:
            d[index] += g
    except TypeError:
        if getattr(getattr(g, "dtype", None), "kind", "") == "c" or type(g) is complex:
            _complex_gradient()
        raise
    return d


def _has_array_index(index: Any) -> bool:
    if isinstance(index, tuple):
        return any(_is_array_index(i) for i in index)
    return _is_array_index(index)


def _is_array_index(i: Any) -> bool:
    return (
        hasattr(i, "shape")
        and getattr(i, "dtype", None) is not None
        and i.dtype != bool
        or isinstance(i, list)
    )


def copy_value(v: Any) -> Any:
    """A copy of a value about to be overwritten in place (arrays copied, others as they are)."""
    copy = getattr(v, "copy", None)
    return (
        copy()
        if copy is not None and not isinstance(v, (list, dict))
        else (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v)
    )


def unstack(g: Any, n: int, axis: int = 0) -> list:
    """Split the adjoint of np.stack into the adjoints of its `n` inputs."""
    if axis == 0:
        return [g[i] for i in range(n)]
    return [np.take(g, i, axis=axis) for i in range(n)]


def grad_like(g: Any, x: Any) -> Any:
    """The final gradient for argument `x`: same structure, shape and dtype as `x`."""
    if (
        type(g) is np.ndarray
        and type(x) is np.ndarray
        and g.shape == x.shape
        and g.dtype == x.dtype
        and x.dtype.kind in "fc"
    ):
        return g  # the common case, quickly
    if isinstance(x, dict):
        gd = g if isinstance(g, dict) else {}
        out = {}
        for k, v in x.items():
            gk = gd.get(k, 0.0)
            if (  # the common case again, without a call
                type(gk) is np.ndarray
                and type(v) is np.ndarray
                and gk.shape == v.shape
                and gk.dtype == v.dtype
                and v.dtype.kind in "fc"
            ):
                out[k] = gk
            else:
                out[k] = grad_like(gk, v)
        return out
    if isinstance(x, (list, tuple)):
        gl = g if isinstance(g, (list, tuple)) else [0.0] * len(x)
        return like_sequence(x, [grad_like(a, b) for a, b in zip(gl, x, strict=True)])
    if type(x) in _SCALARS or isinstance(x, numbers.Number) and not hasattr(x, "shape"):
        if type(g) is complex or getattr(getattr(g, "dtype", None), "kind", "") == "c":
            _complex_gradient()
        if hasattr(g, "shape"):
            g = g.sum() if g.ndim else g
            return float(g)
        return float(g)
    if hasattr(x, "shape"):
        dtype = _float_dtype(x)
        if type(g) in _SCALARS or not hasattr(g, "shape"):
            return np.full_like(x, g, dtype=dtype)
        if g.shape != x.shape:
            g = unbroadcast(g, x)
            if g.shape != x.shape:
                g = np.broadcast_to(g, x.shape).copy()
        if g.dtype != dtype:
            if g.dtype.kind == "c" and getattr(dtype, "kind", "f") != "c":
                _complex_gradient()
            g = g.astype(dtype)
        if isinstance(x, np.ndarray) and not isinstance(g, np.ndarray):
            g = np.asarray(g, dtype=dtype)  # a NumPy scalar for a 0-d array
        return g
    if record_fields(x) is not None:  # a copy holding the gradient of each field
        gd = g if isinstance(g, dict) else {}
        return map_fields(x, lambda k, v: grad_like(gd.get(k, 0.0), v))
    return g


def like_sequence(x: Any, items: list) -> Any:
    """`items` in a sequence of `x`'s kind: a NamedTuple of its type, a tuple, or the list."""
    if isinstance(x, tuple):
        return type(x)(*items) if hasattr(type(x), "_fields") else tuple(items)
    return items


def _has_gradient(v: Any) -> bool:
    """Whether a record's field gets a gradient: numbers, arrays, containers, records."""
    return (
        isinstance(v, (numbers.Number, dict, list, tuple))
        or hasattr(v, "shape")
        or record_fields(v) is not None
    )


_MAPPING = threading.local()  # the records `map_fields` is inside of, in this thread


def map_fields(x: Any, fn: Any) -> Any:
    """A copy of the record `x` with each field `k` that gets a gradient set to `fn(k, value)`
    (a str or None field stays as it is). Objects that refer to each other in a cycle (a
    `parent` link) have no tree structure for a gradient to take: refused."""
    inside = getattr(_MAPPING, "ids", None)
    if inside is None:
        inside = _MAPPING.ids = set()
    if id(x) in inside:
        from s2s.errors import ArgumentError

        raise ArgumentError(
            f"a {type(x).__name__} refers back to itself through its fields (a cycle, such as "
            "a parent link): a gradient takes the structure of its argument, and this one is "
            "not a tree",
            hint="differentiate with respect to the parameters alone (a tree of arrays, "
            "dicts, lists and objects), and pass the rest as another argument",
        )
    inside.add(id(x))
    try:
        names = record_fields(x) or ()
        return replace_fields(
            x, {k: fn(k, getattr(x, k)) for k in names if _has_gradient(getattr(x, k))}
        )
    finally:
        inside.discard(id(x))


def replace_fields(x: Any, values: dict[str, Any]) -> Any:
    """A shallow copy of the record `x` with these fields set (frozen ones too): what
    `copy.copy` makes, made directly where the class keeps its state in `__dict__` and does
    not customize copying (`copy.copy` goes through `__reduce_ex__`, several times slower)."""
    t = type(x)
    attrs = getattr(x, "__dict__", None)
    if (
        attrs is not None
        and t.__reduce_ex__ is object.__reduce_ex__
        and t.__reduce__ is object.__reduce__
        and getattr(t, "__copy__", None) is None
        and getattr(t, "__setstate__", None) is None
        and not hasattr(t, "__slots__")
    ):
        out = t.__new__(t)
        out.__dict__.update(attrs)
        out.__dict__.update(values)
        return out
    out = copy.copy(x)
    for k, v in values.items():
        object.__setattr__(out, k, v)
    return out


def _complex_gradient() -> None:
    from s2s.errors import ComplexValueError

    raise ComplexValueError(
        "the gradient of a real argument came out complex: a complex value (a complex array "
        "read from a global or a closure, or a function returning complex numbers) is used "
        "between that argument and the output, and s2s's derivative rules assume real values",
        hint="keep complex numbers out of the differentiated function: carry the real and "
        "imaginary parts as two real arrays",
    )


def seed(y: Any, where: str) -> Any:
    """The cotangent 1.0 of a scalar output; anything else is an error."""
    if isinstance(y, complex) or getattr(getattr(y, "dtype", None), "kind", "") == "c":
        from s2s.errors import NonScalarOutputError

        fname = where.split(" ", 1)[0]
        raise NonScalarOutputError(
            f"{where}: s2s.grad({fname}) needs a real scalar output, but {fname} returned a "
            "complex number",
            hint="return a real value, e.g. np.abs(z) ** 2 or np.real(z)",
        )
    shape = getattr(y, "shape", None)
    if type(y) in _SCALARS or shape == () or (shape is not None and len(shape) == 0):
        # a number, a NumPy scalar or a 0-d array (a full reduction on CuPy): a Python 1.0 is
        # weakly typed, so float32 stays float32, and the arithmetic on it launches nothing
        return 1.0
    from s2s.errors import NonScalarOutputError

    fname = where.split(" ", 1)[0]
    if shape is None:
        raise NonScalarOutputError(
            f"{where}: s2s.grad({fname}) needs a scalar output, but {fname} returned "
            f"{type(y).__name__}",
            hint=f"use s2s.vjp({fname}) for non-scalar outputs",
        )
    raise NonScalarOutputError(
        f"{where}: s2s.grad({fname}) needs a scalar output, but {fname} returned an array of "
        "shape "
        f"{tuple(shape)}",
        hint=f"use s2s.vjp({fname}) and pass a cotangent of that shape, or "
        "reduce the output with np.sum or np.mean",
    )


def seed_of(x: Any, where: str) -> Any:
    """The cotangent 1.0 of `np.sum(x)` or `np.mean(x)` (a full reduction, a scalar by the call's
    shapes), without computing the reduction: a gradient does not return the value."""
    if getattr(getattr(x, "dtype", None), "kind", "") == "c":
        return seed(np.sum(x), where)  # raises: complex output
    return 1.0


HELPERS: dict[str, Any] = {
    "unbroadcast": unbroadcast,
    "seed_of": seed_of,
    "unreduce": unreduce,
    "reduction_count": reduction_count,
    "zeros_like": zeros_like,
    "empty_like": empty_like,
    "shape_of": shape_of,
    "add": add,
    "add_at": add_at,
    "copy_value": copy_value,
    "unstack": unstack,
    "grad_like": grad_like,
    "field_key": field_key,
    "seed": seed,
    "is_zero": is_zero,
}


def matmul_grad_a(g: Any, a: Any, b: Any) -> Any:
    """Adjoint of `a` in `a @ b`, for 1-D, 2-D and batched operands."""
    if a.ndim == 2 and b.ndim == 2:  # the common case first: no broadcasting to undo
        return g @ b.T
    if a.ndim == 1 and b.ndim == 1:
        return g * b
    if b.ndim == 1:
        out = g[..., None] * b
    elif a.ndim == 1:
        out = b @ g if b.ndim == 2 else (b @ g[..., None])[..., 0]
    elif b.ndim == 2:
        out = g @ b.T
    else:
        out = g @ np.swapaxes(b, -1, -2)
    return unbroadcast(out, a)


def matmul_grad_b(g: Any, a: Any, b: Any) -> Any:
    """Adjoint of `b` in `a @ b`, for 1-D, 2-D and batched operands."""
    if a.ndim == 2 and b.ndim == 2:  # the common case first: no broadcasting to undo
        return a.T @ g
    if a.ndim == 1 and b.ndim == 1:
        return g * a
    if a.ndim == 1:
        out = a[:, None] * g[..., None, :]
    elif b.ndim == 1:
        out = (np.swapaxes(a, -1, -2) @ g[..., None])[..., 0] if a.ndim > 2 else a.T @ g
    elif a.ndim == 2:
        out = a.T @ g
    else:
        out = np.swapaxes(a, -1, -2) @ g
    return unbroadcast(out, b)


def extremum_grad(g: Any, x: Any, y: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Adjoint of max/min over `axis`: shared equally among tied extremal entries."""
    mask = x == unreduce(y, x, axis, keepdims)
    count = np.sum(mask, axis=axis, keepdims=True)
    return unreduce(g, x, axis, keepdims) * mask / count


def binary_extremum_grad(g: Any, x: Any, other: Any, greater: bool) -> Any:
    """Adjoint of `x` in maximum(x, other) / minimum(x, other); ties share the gradient."""
    win = (x > other) if greater else (x < other)
    tie = x == other
    return unbroadcast(g * (win + 0.5 * tie), x)


def _extremum_weights(x: Any, other: Any, greater: bool) -> Any:
    """How builtin max/min (`greater` for max) route a derivative to `x`. With `other`, the
    weight of `x` in max(x, other): 1 where it wins, 1/2 on a tie. Without (`other` is None),
    `x` is the one iterable argument (a list, tuple or 1-d array) and the weights are its
    entries': the extremal entries share 1 equally."""
    if other is not None:
        win = (x > other) if greater else (x < other)
        return win + 0.5 * (x == other)
    if isinstance(x, (list, tuple)):
        best = max(x) if greater else min(x)
        hits = [bool(v == best) for v in x]
        return [h / sum(hits) for h in hits]
    mask = x == (np.max(x) if greater else np.min(x))
    return mask / np.sum(mask)


def builtin_extremum_grad(g: Any, x: Any, other: Any, greater: bool) -> Any:
    """Adjoint of `x` in builtin max/min: of max(x, other), or of max(x) when `other` is None
    (a list for a list or tuple `x`, an array for an array)."""
    w = _extremum_weights(x, other, greater)
    if other is not None:
        return unbroadcast(g * w, x)
    if isinstance(x, (list, tuple)):
        return [g * wi for wi in w]
    return g * w


def builtin_extremum_tangent(t: Any, x: Any, other: Any, greater: bool) -> Any:
    """Tangent of builtin max/min through `x` (tangent `t`): `t` times its weight, summed over
    the entries of an iterable `x` (`other` None)."""
    w = _extremum_weights(x, other, greater)
    if other is not None:
        return t * w
    if isinstance(x, (list, tuple)):
        return sum(ti * wi for ti, wi in zip(t, w, strict=True) if wi)
    return np.sum(t * w)


def sum_list_grad(g: Any, xs: Any) -> list:
    """Adjoint of the list `xs` in sum(xs)."""
    return [unbroadcast(g, x) for x in xs]


def transpose_grad(g: Any, axes: Any = None) -> Any:
    if axes is None:
        return np.transpose(g)
    inverse = [0] * len(axes)
    for i, a in enumerate(axes):
        inverse[a % len(axes)] = i
    return np.transpose(g, tuple(inverse))


HELPERS.update(
    {
        "matmul_grad_a": matmul_grad_a,
        "matmul_grad_b": matmul_grad_b,
        "extremum_grad": extremum_grad,
        "binary_extremum_grad": binary_extremum_grad,
        "builtin_extremum_grad": builtin_extremum_grad,
        "builtin_extremum_tangent": builtin_extremum_tangent,
        "sum_list_grad": sum_list_grad,
        "transpose_grad": transpose_grad,
    }
)


def array_grad(g: Any, obj: Any) -> Any:
    """Adjoint of the (nested) list `obj` in np.array(obj)."""
    if isinstance(obj, (list, tuple)):
        return [array_grad(g[i], o) for i, o in enumerate(obj)]
    return g


def concatenate_grad(g: Any, arrays: Any, axis: int = 0) -> list:
    sizes = [np.shape(a)[axis] for a in arrays]
    out = []
    start = 0
    for n in sizes:
        idx = [slice(None)] * g.ndim
        idx[axis] = slice(start, start + n)
        out.append(g[tuple(idx)])
        start += n
    return out


def dot_grad_a(g: Any, a: Any, b: Any) -> Any:
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * b, a)
    if np.ndim(b) <= 2:
        return matmul_grad_a(g, a, b)
    return np.tensordot(
        g,
        b,
        axes=(tuple(range(a.ndim - 1, g.ndim)), tuple(i for i in range(b.ndim) if i != b.ndim - 2)),
    )


def dot_grad_b(g: Any, a: Any, b: Any) -> Any:
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * a, b)
    if np.ndim(b) <= 2:
        return matmul_grad_b(g, a, b)
    ga = np.tensordot(a, g, axes=(tuple(range(a.ndim - 1)), tuple(range(a.ndim - 1))))
    return np.moveaxis(ga, 0, b.ndim - 2)


HELPERS.update(
    {
        "array_grad": array_grad,
        "concatenate_grad": concatenate_grad,
        "dot_grad_a": dot_grad_a,
        "dot_grad_b": dot_grad_b,
    }
)


_ABSENT = object()


def save_item(d: dict, key: Any) -> Any:
    """The value at `key` about to be overwritten, or a marker that there was none."""
    return copy_value(d[key]) if key in d else _ABSENT


def restore_item(d: dict, key: Any, old: Any) -> None:
    """Undo `d[key] = ...`: put back the saved value, or remove a key that was new."""
    if old is _ABSENT:
        del d[key]
    else:
        d[key] = old


HELPERS.update({"save_item": save_item, "restore_item": restore_item})


_IMMUTABLE = (int, float, complex, tuple, str, np.generic)


def _refuse_shared(where: str, message: str, hint: str) -> None:
    """Raise the guards' UnsupportedSyntaxError at `where` ('file.py:line')."""
    from s2s.errors import UnsupportedSyntaxError

    filename, _, line = where.rpartition(":")
    raise UnsupportedSyntaxError(
        message, filename=filename, lineno=int(line) if line.isdigit() else None, hint=hint
    )


def alias_guard(v: Any, where: str) -> None:
    """Before `v += ...` on a name that may share its value with another (`v = x`, a row of a
    loop over an array): for numbers and tuples `+=` rebinds `v`, as s2s assumes; for arrays and
    lists it writes into the shared value, which s2s does not follow, so it refuses."""
    if not isinstance(v, _IMMUTABLE):
        _refuse_shared(
            where,
            f"`+=` (or another augmented assignment) on a {type(v).__name__} that may be shared "
            "with another name (`v = x`, a row of a loop over an array, or the array a loop "
            "iterates over) writes into the shared value in place, which s2s does not follow",
            "write `v = v + ...` (a new value), or make it its own array first: v = x.copy()",
        )


def item_guard(holder: Any, item: Any, where: str) -> None:
    """Before `v[k] += ...` where `v` may be a list or a dict whose item another name, read
    later, holds too: into an array `v` the update writes numbers, as s2s assumes; into a list or
    dict of arrays it changes the held array in place, which that other name sees and s2s does
    not follow, so it refuses."""
    if isinstance(holder, (list, dict)) and not isinstance(item, _IMMUTABLE):
        _refuse_shared(
            where,
            f"`+=` (or another augmented assignment) on an item of a {type(holder).__name__} "
            f"changes the {type(item).__name__} it holds in place, and another name read later "
            "may hold that same item, which s2s does not follow",
            "write `v[k] = v[k] + ...` (a new value), or copy the item where the other name "
            "takes it: a = v[k].copy()",
        )


def arg_guard(v: Any, param: str, where: str) -> None:
    """Before a call to a function that does `param += ...` on this argument, which another
    name read later shares: for a number that is a new value inside the function, as s2s
    assumes; for an array or a list it writes into the caller's value, which s2s does not see
    through a call, so it refuses. `param`: 'function:parameter'."""
    if not isinstance(v, _IMMUTABLE):
        fname, _, name = param.partition(":")
        _refuse_shared(
            where,
            f"{fname} does `{name} += ...` (or another augmented assignment) on its parameter "
            f"{name!r}, which is given a {type(v).__name__} here: that writes into the caller's "
            "value in place, and a name read later shares it, which s2s does not see through a "
            "call",
            f"in {fname}, write `{name} = {name} + ...` (a new value), or pass a copy here",
        )


def number_guard(v: Any, names: str, where: str) -> None:
    """After `v = a[i]`, where `a` is written into later while `v` is still read: for a 1-D `a`
    `v` is a number, which the write leaves alone, as s2s assumes; for a 2-D one it is a row, a
    view of `a`'s memory the write would change, which s2s does not follow, so it refuses.
    `names`: 'a|v|a[i]' (the array, the item, the expression that reads it), or 'a|v|for v in a'
    for the item of a loop over `a`."""
    if not isinstance(v, _IMMUTABLE):
        base, item, read = names.split("|", 2)
        if read.startswith("for "):  # 'for v in reversed(a)': iterate over a.copy() instead
            head, _, iterable = read.partition(" in ")
            copied = re.sub(rf"\b{re.escape(base)}\b", f"{base}.copy()", iterable, count=1)
            fix = f"loop over a copy ({head} in {copied}:)"
        else:
            fix = f"make {item!r} its own array where it is read ({item} = {read}.copy())"
        _refuse_shared(
            where,
            f"{item!r} is a {type(v).__name__} here, a view of {base!r} (a row of it), and "
            f"{base!r} is written into while {item!r} is still read: the write would change "
            f"{item!r} too, which s2s cannot differentiate",
            f"{fix}, or finish reading {item!r} before writing into {base!r}",
        )


def check_method(x: Any, cls: type, attr: str, where: str) -> None:
    """Before a differentiated method call `x.attr(...)` (`x(...)` for `__call__`) at `where`:
    s2s read the call as one of `cls.attr`, `cls` being the class the annotations give `x`
    (`s2s/classes.py`). Python does not check annotations: an object whose class has another
    function under that name is refused (its derivative would be another one)."""
    got = getattr(type(x), attr, None)
    if got is not None and got is getattr(cls, attr, None):
        return
    from s2s.errors import ArgumentError

    shown = f"{cls.__qualname__}.{attr}"
    what = "another function" if got is not None else "no such method"
    filename, _, line = where.rpartition(":")
    raise ArgumentError(
        f"s2s differentiated this call as {shown} (the annotations say the object is a "
        f"{cls.__name__}), but it is a {type(x).__name__}, whose class has {what} there",
        filename=filename,
        lineno=int(line) if line.isdigit() else None,
        hint=f"annotate it with the class of the object passed (for a list of them, "
        f"list[{type(x).__name__}]), or pass a {cls.__name__}",
    )


def check_function(f: Any, expected: Any, param: str, where: str) -> None:
    """First in code made for a parameter's default function (`act=np.tanh`) that any call
    may run (`s2s.source`, `s2s.jvp`): s2s differentiated the calls through `param` as calls
    of `expected`; another function passed is refused (its derivative would be another)."""
    if f is expected:
        return
    from s2s.errors import ArgumentError

    filename, _, line = where.rpartition(":")
    shown = getattr(expected, "__name__", repr(expected))
    raise ArgumentError(
        f"{param} is {getattr(f, '__name__', type(f).__name__)}, but this derivative was made "
        f"for {shown}, the default of {param}",
        filename=filename,
        lineno=int(line) if line.isdigit() else None,
        hint="s2s.grad, s2s.value_and_grad and s2s.vjp make the code for each function "
        "passed; s2s.jvp, s2s.hvp and s2s.source only for the default",
    )


HELPERS.update(
    {
        "check_function": check_function,
        "check_method": check_method,
        "alias_guard": alias_guard,
        "item_guard": item_guard,
        "arg_guard": arg_guard,
        "number_guard": number_guard,
    }
)


def checkpoint_segments(steps: Any) -> list:
    """The steps of a checkpointed loop (a range) cut into consecutive segments of
    ceil(sqrt(T)) steps: about sqrt(T) segments, each checkpointed at its start."""
    n = len(steps)
    k = max(1, math.isqrt(n - 1) + 1) if n > 1 else 1
    return [steps[i : i + k] for i in range(0, n, k)]


HELPERS["checkpoint_segments"] = checkpoint_segments


def zip_length(*seqs: Any) -> int:
    """The number of steps of `zip(*seqs, strict=True)`: their common length, or the
    ValueError `zip` raises when one is shorter or longer than the first."""
    n = len(seqs[0])
    for k, seq in enumerate(seqs[1:], start=2):
        m = len(seq)
        if m != n:
            which = "shorter" if m < n else "longer"
            first = "argument 1" if k == 2 else f"arguments 1-{k - 1}"
            raise ValueError(f"zip() argument {k} is {which} than {first}")
    return n


HELPERS["zip_length"] = zip_length


def _finite(v: Any) -> bool:
    if v is None or isinstance(v, (bool, int)):
        return True
    if isinstance(v, (float, complex)):
        return np.isfinite(v)
    if isinstance(v, dict):
        return all(_finite(x) for x in v.values())
    if isinstance(v, (list, tuple)):
        return all(_finite(x) for x in v)
    return bool(np.all(np.isfinite(v)))  # one host read of a bool for a device array


def check_finite(g: Any, var: str, filename: str, lineno: int | None, line: str) -> None:
    """Debug mode: raise `NonFiniteGradientError` if the adjoint `g` has a NaN or an infinity.

    `var` is the primal variable whose adjoint `g` is ('' for an intermediate value of the line);
    `filename`, `lineno`, `line` name the primal line whose adjoint block computed it."""
    if _finite(g):
        return
    from s2s.debug import NonFiniteGradientError

    what = f"the gradient of `{var}`" if var else "the gradient of an intermediate value"
    bad = "NaN" if _has_nan(g) else "an infinity"
    raise NonFiniteGradientError(
        f"{what} became {bad} in the adjoint of this line",
        variable=var,
        filename=filename,
        lineno=lineno,
        source_line=line,
        hint="the derivative of this line is not finite at these inputs (e.g. sqrt or log at "
        "0, division by 0); earlier adjoints were finite",
    )


def _has_nan(v: Any) -> bool:
    if isinstance(v, dict):
        return any(_has_nan(x) for x in v.values())
    if isinstance(v, (list, tuple)):
        return any(_has_nan(x) for x in v)
    return v is not None and bool(np.any(np.isnan(v)))


HELPERS["check_finite"] = check_finite

from .op_helpers import OP_HELPERS  # noqa: E402  (the op library's helpers)

HELPERS.update(OP_HELPERS)
