"""The public API: grad, value_and_grad, vjp, jvp, source, differentiate."""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from s2s.adjoints.registry import VERSION as _RULES_VERSION
from s2s.adjoints.registry import version as rules_version
from s2s.backends.namespace import argument_checker, is_device_array_type, record_fields

from .checkpoint import check_mode
from .dtypes import dtype_of
from .errors import ArgumentError, S2SError, WrtError
from .functions import FUNCTION_TYPES, is_function_value
from .shapes import pattern_of
from .transform import Generated, NotForForwardMode, generate

_CACHE: dict[tuple, tuple[Generated, list[str], bool]] = {}
_LOCK = threading.RLock()


def _key(
    fn: Any,
    wrt: Any,
    mode: str,
    numbers: frozenset = frozenset(),
    debug: bool = False,
    checkpoint_loops: str | None = None,
    shapes: tuple = (),
    dtypes: tuple = (),
    functions: tuple | None = None,
) -> tuple:
    wrt_key = tuple(wrt) if isinstance(wrt, (list, tuple)) else wrt
    code = getattr(fn, "__code__", None)
    # a rule registered since (s2s.adjoint, s2s.tangent) changes what is generated
    return (
        fn,
        code,
        wrt_key,
        mode,
        numbers,
        debug,
        checkpoint_loops,
        shapes,
        dtypes,
        functions,
        rules_version(),
    )


def _where(fn: Any) -> dict[str, Any]:
    """filename, lineno and source_line of `fn`'s `def`, for errors about the call itself."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return {}
    import linecache

    line = linecache.getline(code.co_filename, code.co_firstlineno)
    return {
        "filename": code.co_filename,
        "lineno": code.co_firstlineno,
        "source_line": line.rstrip("\n") or None,
    }


def _generate_located(fn: Any, wrt: Any, mode: str, extra: dict) -> Any:
    """`generate`, with wrt mistakes refused up front and every WrtError naming fn's file and
    line (issue 9: an empty wrt, a duplicate, a bool or a float)."""
    if isinstance(wrt, (tuple, list)) and not wrt:
        raise WrtError(
            "wrt is an empty tuple: name at least one parameter",
            **_where(fn),
            hint="e.g. wrt=0, wrt='x' or wrt=('x', 'y')",
        )
    try:
        return generate(fn, wrt, mode, **extra)
    except WrtError as exc:
        if exc.filename is not None:
            raise
        raise WrtError(exc.message, **_where(fn), hint=exc.hint) from None


def _object_arrays(tree: Any, path: str, seen: set[int] | None = None) -> str | None:
    """The path of the first NumPy array of object dtype in `tree` (or complex leaf, then the
    path ends with " (complex)"), or None."""
    if isinstance(tree, np.ndarray):
        if tree.dtype.kind == "c":
            return f"{path} (complex)"
        return path if tree.dtype == object else None
    if isinstance(tree, (complex, np.complexfloating)):
        return f"{path} (complex)"
    if isinstance(tree, dict):
        items: Any = ((f"{path}[{k!r}]", v) for k, v in tree.items())
    elif isinstance(tree, (list, tuple)):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(tree))
    elif record_fields(tree) is not None:
        seen = set() if seen is None else seen  # (objects may refer to each other in a cycle)
        if id(tree) in seen:
            return None
        seen.add(id(tree))
        items = ((f"{path}.{k}", getattr(tree, k)) for k in record_fields(tree))
    else:
        return None
    for p, v in items:
        found = _object_arrays(v, p, seen)
        if found is not None:
            return found
    return None


_PLAIN = (float, int, bool, str, type(None))


def _all_plain_numpy(tree: Any, depth: int = 0) -> bool:
    """True when `tree` holds only NumPy arrays of real or integer dtype, Python numbers (not
    complex) and plain containers of them: nothing the argument check could object to (one
    quick walk)."""
    t = type(tree)
    if t is np.ndarray:
        return tree.dtype.kind in "fiub"
    if t in _PLAIN:
        return True
    if t is dict:
        return all(_all_plain_numpy(v, depth) for v in tree.values())
    if t is list or t is tuple:
        return all(_all_plain_numpy(v, depth) for v in tree)
    if depth > 8:  # (records referring to each other: the full check walks them once each)
        return False
    if isinstance(tree, tuple) and hasattr(t, "_fields"):  # a NamedTuple
        return all(_all_plain_numpy(v, depth + 1) for v in tree)
    names = record_fields(tree)
    return names is not None and all(_all_plain_numpy(getattr(tree, k), depth + 1) for k in names)


def _argument_checker(fn: Any) -> Callable[[tuple, dict], None]:
    """The backends' argument check, plus: arrays of object dtype are refused (their
    elements are arbitrary Python objects; nothing says they are differentiable numbers)."""
    check = argument_checker(fn)
    try:
        names = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        names = []

    def full(args: tuple, kwargs: dict) -> None:
        if _all_plain_numpy(args) and (not kwargs or _all_plain_numpy(kwargs)):
            return  # the common case: one library (NumPy), no object arrays
        check(args, kwargs)
        for i, a in enumerate(args):
            bad = _object_arrays(a, names[i] if i < len(names) else f"argument {i}")
            if bad is not None:
                break
        else:
            bad = next(
                (b for k, v in kwargs.items() if (b := _object_arrays(v, k)) is not None), None
            )
        if bad is not None and bad.endswith(" (complex)"):
            raise ArgumentError(
                f"{bad[: -len(' (complex)')]} is complex, which s2s cannot differentiate (its "
                "rules are for real values)",
                **_where(fn),
                hint="pass the real and imaginary parts as two real arrays",
            )
        if bad is not None:
            raise ArgumentError(
                f"{bad} is an array of dtype object, which s2s cannot differentiate",
                **_where(fn),
                hint="convert it first, e.g. np.asarray(a, dtype=float)",
            )

    return full


def _generated(
    fn: Any,
    wrt: Any,
    mode: str,
    numbers: frozenset = frozenset(),
    debug: bool = False,
    checkpoint_loops: str | None = None,
    shapes: tuple = (),
    dtypes: tuple = (),
    functions: tuple | None = None,
) -> tuple[Generated, list[str], bool]:
    key = _key(fn, wrt, mode, numbers, debug, checkpoint_loops, shapes, dtypes, functions)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit[0].assumed and not hit[0].still_valid():
            hit = None  # a module global it was specialized to no longer holds a number
        if hit is None:
            extra: dict[str, Any] = {"debug": True} if debug else {}
            if numbers:
                extra["numbers"] = numbers
            if checkpoint_loops is not None:
                extra["checkpoint_loops"] = checkpoint_loops
            if shapes:
                extra["shapes"] = shapes
            if dtypes:
                extra["dtypes"] = dtypes
            if functions is not None:
                extra["functions"] = functions
            hit = _CACHE[key] = _generate_located(fn, wrt, mode, extra)
        return hit


_NUMBER_TYPES = (float, int)


def _wrt_names(fn: Any, wrt: Any) -> list[str]:
    """The parameter names `wrt` gives (a valid one: `transform.resolve_wrt` checked it)."""
    params = list(inspect.signature(fn).parameters)
    items = list(wrt) if isinstance(wrt, (tuple, list)) else [wrt]
    return [params[w] if isinstance(w, int) else w for w in items]


def _named_after(fn: Any) -> Callable:
    """functools.wraps without `__wrapped__`: a generated derivative must never be mistaken
    for the primal it was made from (s2s.jvp(s2s.grad(f)) would then differentiate f)."""

    def decorate(wrapper: Callable) -> Callable:
        functools.update_wrapper(wrapper, fn)
        del wrapper.__wrapped__
        wrapper.__s2s_derivative__ = True  # type: ignore[attr-defined]
        return wrapper

    return decorate


class _Specializations:
    """The generated code for each call: specialized to the parameters that the call passes
    Python numbers for (then no broadcasting helper is called where every operand is a
    number) and to the shape patterns of its arrays (rank, and which axes have length 1: see
    `shapes.py`), looked up by the argument types and shapes, so a call costs one dict
    lookup."""

    def __init__(
        self,
        fn: Any,
        wrt: Any,
        mode: str,
        debug: bool = False,
        checkpoint_loops: str | None = None,
    ) -> None:
        check_mode(checkpoint_loops)
        self.fn, self.wrt, self.mode, self.debug = fn, wrt, mode, debug
        self.checkpoint_loops = checkpoint_loops
        self.signature = inspect.signature(fn)
        try:
            self.generic = _generated(fn, wrt, mode, debug=debug, checkpoint_loops=checkpoint_loops)
        except S2SError as exc:
            if not getattr(exc, "s2s_function_parameter", False):
                raise
            # a parameter called as a function, with no default: the code is made for the
            # function each call passes (`_lookup`); what needs code for any call raises this
            self.missing = exc
            self.generic = (None, _wrt_names(fn, wrt), isinstance(wrt, (tuple, list)))
        self.table: dict[tuple, Generated] = {}
        #: generated functions by `_fast_key`: calls needing no check (cleared in place only)
        self.fast: dict[tuple, Callable] = {}
        self.version = rules_version()

    def fast_entry(self, args: tuple, key: tuple) -> Callable | None:
        """The generated function for positional arguments that are arrays of real or integer
        dtype (NumPy's, or one device library's), Python numbers and dicts of them (then the
        argument check has nothing to object to), `key` their `_fast_key`; None for any other
        call. The dispatchers look `key` up in `fast` themselves first: this is the miss."""
        if self.version != _RULES_VERSION[0] or not _fast_dtypes(args):
            return None
        entry = self.fast.get(key)
        if entry is None:
            gen = self(args, {})
            if gen.assumed:  # module globals it assumes numbers: re-checked on every call
                return gen.entry[0]
            if len(self.fast) >= 256:
                self.fast.clear()
            entry = self.fast[key] = gen.entry[0]
        return entry

    def __call__(self, args: tuple, kwargs: dict) -> Generated:
        if self.version != rules_version():  # a rule was registered: generate again
            self.table.clear()
            self.fast.clear()
            self.version = rules_version()
        key = tuple(map(type, args)) + tuple(map(_shape_key, args))
        if kwargs:
            key += tuple(sorted((k, type(v), _shape_key(v)) for k, v in kwargs.items()))
        gen = self.table.get(key)
        if gen is None or (gen.assumed and not gen.still_valid()):
            if len(self.table) >= 256:  # many lengths (sequences of every length): start over
                self.table.clear()
            gen = self.table[key] = self._lookup(args, kwargs)
        return gen

    def _lookup(self, args: tuple, kwargs: dict) -> Generated:
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError:
            return self.any_call()  # the call itself raises the user's TypeError
        bound.apply_defaults()
        numbers = frozenset(p for p, v in bound.arguments.items() if type(v) in _NUMBER_TYPES)
        functions = tuple((p, v) for p, v in bound.arguments.items() if is_function_value(v)) or (
            None if self.generic[0] is not None else ()
        )
        _, wrt_names, is_tuple = self.generic
        if (
            self.mode in ("grad", "value_and_grad")
            and not self.debug
            and not is_tuple
            and wrt_names[0] in numbers
        ):
            # one number in: forward mode does the least work (see transform.py); where it
            # cannot give the gradient, reverse mode does
            try:
                return _generated(
                    self.fn, self.wrt, self.mode + "_forward", numbers, functions=functions
                )[0]
            except (NotForForwardMode, S2SError):
                pass
        shapes: tuple = ()
        dtypes: tuple = ()
        if self.mode != "jvp":
            patterns = ((p, pattern_of(v)) for p, v in bound.arguments.items())
            shapes = tuple((p, pat) for p, pat in patterns if pat is not None)
        if self.mode in ("grad", "value_and_grad") and not self.debug:
            kinds = ((p, dtype_of(v)) for p, v in bound.arguments.items())
            dtypes = tuple((p, d) for p, d in kinds if d is not None)
        return _generated(
            self.fn,
            self.wrt,
            self.mode,
            numbers,
            self.debug,
            self.checkpoint_loops,
            shapes,
            dtypes,
            functions,
        )[0]

    def any_call(self) -> Generated:
        """The code any call may run (`s2s.source`'s)."""
        if self.generic[0] is None:
            raise self.missing
        return self.generic[0]


_FAST_SCALARS = (float, int, bool, str, type(None))
#: real and integer dtypes in native byte order (`a.dtype in _FAST_DTYPES` is one hash lookup)
_FAST_DTYPES = frozenset(np.dtype(c) for c in "?bhilqpBHILQPefdg")


def _fast_key(args: tuple) -> tuple | None:
    """See `_Specializations.fast_entry`: each argument's shape and dtype (and type, for a
    device array: CuPy's), type, or a dict's keys with its values' shapes and dtypes or
    types; None when an argument is anything else, or when NumPy and device arrays (or two
    kinds of device array) meet: the full check names them (the dtypes are checked once, by
    `_fast_dtypes`, when a key is first seen)."""
    key: list = []
    ndarray = np.ndarray
    numpy = False  # a NumPy array met
    devices: set = set()  # the device array types met
    for a in args:
        t = type(a)
        if t is ndarray:
            numpy = True
            key.append(a.shape)
            key.append(a.dtype)
        elif t in _FAST_SCALARS:
            key.append(t)
        elif t in FUNCTION_TYPES:  # the code is made for the function passed (`functions`)
            key.append(a)
        elif t is dict:
            item: list = [dict]
            for k, v in a.items():
                tv = type(v)
                item.append(k)
                if tv is ndarray:
                    numpy = True
                    item.append(v.shape)
                    item.append(v.dtype)
                elif tv in _FAST_SCALARS:
                    item.append(tv)
                elif not _device_leaf(v, item, devices):
                    return None
            key.append(tuple(item))
        elif not _device_leaf(a, key, devices):
            return None
    if devices and (numpy or len(devices) > 1):
        return None
    return tuple(key)


def _device_leaf(v: Any, key: list, devices: set) -> bool:
    """Add a device array's type, shape and dtype to `key` (and its type to `devices`);
    False for anything else."""
    t = type(v)
    if not is_device_array_type(t):
        return False
    devices.add(t)
    key.append(t)
    key.append(v.shape)
    key.append(v.dtype)
    return True


def _fast_dtypes(args: tuple) -> bool:
    """Whether every array among `args` (a `_fast_key`'s) has a real or integer dtype in
    native byte order: then the argument check has nothing to object to."""
    for a in args:
        values = a.values() if type(a) is dict else (a,)
        for v in values:
            t = type(v)
            if (t is np.ndarray or is_device_array_type(t)) and v.dtype not in _FAST_DTYPES:
                return False
    return True


def _shape_key(value: Any) -> Any:
    """What of an argument's shapes and dtypes the generated code may be specialized to (its
    shape and dtype; a dict's keys and the shapes and dtypes of its values, or their types),
    quickly; a function, itself (the code is made for the function passed: `functions.py`)."""
    if is_function_value(value):
        return value
    if type(value) is dict:
        return tuple(value) + tuple(
            (getattr(v, "shape", type(v)), getattr(v, "dtype", None)) for v in value.values()
        )
    return (getattr(value, "shape", None), getattr(value, "dtype", None))


def _unwrap(fn: Any) -> Any:
    """The function to differentiate: a `@differentiate` function's own, and for a gradient
    made by s2s (`grad`, `value_and_grad`) the generic generated code it runs (that code is
    itself differentiable: grad of grad, jvp of grad, to any depth)."""
    if getattr(fn, "__s2s_derivative__", False):
        generated = getattr(fn, "__s2s_generated__", None)
        if generated is not None:
            return generated
        raise S2SError(
            f"{getattr(fn, '__name__', 'this function')} is a derivative made by s2s whose "
            "wrapper cannot be differentiated again: only s2s.grad and s2s.value_and_grad "
            "results can (a vjp returns a closure, a jvp, hvp, hessian or jacobian rearranges "
            "its arguments)",
            hint="differentiate s2s.grad(f) instead: s2s.grad(s2s.grad(f)), "
            "s2s.jvp(s2s.grad(f)), or s2s.hvp(f) for Hessian-vector products",
        )
    return fn.__wrapped__ if isinstance(fn, Differentiable) else fn


def grad(
    fn: Callable, wrt: Any = 0, debug: bool = False, checkpoint_loops: str | None = None
) -> Callable:
    """The gradient of scalar-valued `fn` with respect to the argument(s) `wrt`.

    `wrt` is a position, a parameter name, or a tuple of them (then gradients come as a tuple).
    Each gradient has the structure, shape and dtype of its argument. `debug=True` checks every
    adjoint statement for NaN and infinity and raises `NonFiniteGradientError` naming the line.
    """
    fn = _unwrap(fn)
    pick = _Specializations(fn, wrt, "grad", debug, checkpoint_loops)
    gen = pick.generic[0]
    df = _dispatcher(fn, pick)
    df.__name__ = df.__qualname__ = f"grad_{fn.__name__}" if gen is None else gen.names[0]
    df.s2s_source_for = _source_for(pick)  # type: ignore[attr-defined]
    if gen is not None:  # (else no code runs for every call: see _Specializations)
        df.s2s_source = gen.source  # type: ignore[attr-defined]
        df.__s2s_generated__ = gen.entry[0]  # type: ignore[attr-defined]
    return df


def _dispatcher(fn: Any, pick: _Specializations) -> Callable:
    """The function `grad` and `value_and_grad` return: the generated code for each call (by
    the fast key first, for positional arrays, numbers and dicts of them)."""
    fast = pick.fast
    check = _argument_checker(fn)

    @_named_after(fn)
    def dispatch(*args: Any, **kwargs: Any) -> Any:
        if not kwargs:
            key = _fast_key(args)
            if key is not None:
                entry = fast.get(key)
                if entry is None or pick.version != _RULES_VERSION[0]:
                    entry = pick.fast_entry(args, key)
                if entry is not None:
                    return entry(*args)
        check(args, kwargs)
        return pick(args, kwargs).entry[0](*args, **kwargs)

    return dispatch


def _source_for(pick: _Specializations) -> Callable:
    def source_for(*args: Any, **kwargs: Any) -> str:
        """The code a call with these arguments runs: specialized to the ones that are Python
        numbers and to the shape patterns of its arrays."""
        return pick(args, kwargs).source

    return source_for


def value_and_grad(
    fn: Callable, wrt: Any = 0, debug: bool = False, checkpoint_loops: str | None = None
) -> Callable:
    """Like `grad`, but returns `(value, gradient)`."""
    fn = _unwrap(fn)
    pick = _Specializations(fn, wrt, "value_and_grad", debug, checkpoint_loops)
    gen = pick.generic[0]
    vg = _dispatcher(fn, pick)
    vg.__name__ = f"value_and_grad_{fn.__name__}" if gen is None else gen.names[0]
    vg.s2s_source_for = _source_for(pick)  # type: ignore[attr-defined]
    if gen is not None:
        vg.__s2s_generated__ = gen.entry[0]  # type: ignore[attr-defined]
    return vg


def vjp(
    fn: Callable, wrt: Any = 0, debug: bool = False, checkpoint_loops: str | None = None
) -> Callable:
    """`vjp(fn)(*args)` returns `(value, pullback)`; `pullback(cotangent)` is the
    vector-Jacobian product, with the structure of the `wrt` argument(s)."""
    from s2s.backends.runtime import grad_like

    fn = _unwrap(fn)
    pick = _Specializations(fn, wrt, "vjp", debug, checkpoint_loops)
    _, wrt_names, is_tuple = pick.generic
    sig = pick.signature
    check = _argument_checker(fn)

    @_named_after(fn)
    def f_vjp(*args: Any, **kwargs: Any) -> Any:
        check(args, kwargs)
        fwd, bwd = pick(args, kwargs).entry
        tape: list = []
        value = fwd(tape, *args, **kwargs)
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        state = {"tape": tape, "used": False}

        def pullback(cotangent: Any) -> Any:
            if state["used"]:
                fresh: list = []
                fwd(fresh, *args, **kwargs)
                state["tape"] = fresh
            state["used"] = True
            raw = bwd(state["tape"], cotangent, *args, **kwargs)
            raws = raw if len(wrt_names) > 1 else (raw,)
            grads = tuple(
                grad_like(g, bound.arguments[p]) for g, p in zip(raws, wrt_names, strict=True)
            )
            return grads if is_tuple else grads[0]

        return value, pullback

    return f_vjp


def jvp(fn: Callable, wrt: Any = 0) -> Callable:
    """Forward mode: `jvp(fn)(*args, tangent)` returns `(value, tangent_out)`, the
    Jacobian-vector product of `fn` at `args` in the direction `tangent`.

    `tangent` has the structure of the `wrt` argument (a tuple of them, in order, when `wrt` is a
    tuple); `tangent_out` has the structure, shapes and dtypes of `fn`'s output.
    """
    fn = _unwrap(fn)
    gen, wrt_names, is_tuple = _generated(fn, wrt, "jvp")
    tparams = gen.tangent_params  # type: ignore[attr-defined]
    check = _argument_checker(fn)
    current = {"version": rules_version(), "gen": gen}

    @_named_after(fn)
    def fj(*args: Any, **kwargs: Any) -> Any:
        made = current["gen"]
        if current["version"] != rules_version() or (made.assumed and not made.still_valid()):
            # a rule was registered, or a module global the code assumed holds a number no
            # longer does: generate again
            current["gen"] = made = _generated(fn, wrt, "jvp")[0]
            current["version"] = rules_version()
        entry = made.entry[0]
        if not args:
            raise TypeError(f"{gen.names[0]}() needs the tangent as its last positional argument")
        *primals, tangent = args
        check(tuple(primals), kwargs)
        if is_tuple:
            if not isinstance(tangent, (tuple, list)) or len(tangent) != len(tparams):
                raise TypeError(
                    f"wrt is a tuple of {len(tparams)} arguments: pass a tuple of "
                    f"{len(tparams)} tangents"
                )
            tangents = dict(zip(tparams, tangent, strict=True))
        else:
            tangents = {tparams[0]: tangent}
        return entry(*primals, **kwargs, **tangents)

    fj.__name__ = gen.names[0]
    fj.__qualname__ = gen.names[0]
    fj.s2s_source = gen.source  # type: ignore[attr-defined]
    return fj


def source(
    fn: Callable,
    mode: str = "reverse",
    wrt: Any = 0,
    debug: bool = False,
    checkpoint_loops: str | None = None,
) -> str:
    """The generated Python source of `fn`'s derivative, as a string (`debug`: with debug
    mode's checks; `checkpoint_loops`: loops in checkpointed segments; reverse modes only)."""
    fn = _unwrap(fn)
    check_mode(checkpoint_loops)
    if mode in ("reverse", "vjp", "value_and_grad"):
        kind = "grad" if mode == "reverse" else mode
        gen, _, _ = _generated(fn, wrt, kind, debug=debug, checkpoint_loops=checkpoint_loops)
        return gen.source
    if mode in ("forward", "jvp"):
        gen, _, _ = _generated(fn, wrt, "jvp")
        return gen.source
    if mode == "hvp":
        from .higher import _hvp_generated

        return _hvp_generated(fn, wrt)[0].source
    raise S2SError(f"unknown mode {mode!r}: use 'reverse', 'forward' or 'hvp'")


class Differentiable:
    """A function marked with @s2s.differentiate: callable as before, plus .grad & co."""

    def __init__(self, fn: Callable, wrt: Any = 0) -> None:
        functools.update_wrapper(self, fn)
        self.__wrapped__ = fn
        self._wrt = wrt

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.__wrapped__(*args, **kwargs)

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        return self if obj is None else functools.partial(self, obj)

    @property
    def grad(self) -> Callable:
        return grad(self.__wrapped__, self._wrt)

    @property
    def value_and_grad(self) -> Callable:
        return value_and_grad(self.__wrapped__, self._wrt)

    @property
    def vjp(self) -> Callable:
        return vjp(self.__wrapped__, self._wrt)

    @property
    def jvp(self) -> Callable:
        return jvp(self.__wrapped__, self._wrt)

    def source(self, mode: str = "reverse") -> str:
        return source(self.__wrapped__, mode=mode, wrt=self._wrt)


def differentiate(fn: Callable | None = None, *, wrt: Any = 0) -> Any:
    """Decorator: `@s2s.differentiate` or `@s2s.differentiate(wrt="params")`."""
    if fn is None:
        return lambda f: Differentiable(f, wrt)
    return Differentiable(fn, wrt)
