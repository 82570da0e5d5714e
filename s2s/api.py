"""The public API: grad, value_and_grad, vjp, source, differentiate."""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any

from .errors import S2SError
from .transform import Generated, generate

_CACHE: dict[tuple, tuple[Generated, list[str], bool]] = {}
_LOCK = threading.RLock()


def _key(fn: Any, wrt: Any, mode: str) -> tuple:
    wrt_key = tuple(wrt) if isinstance(wrt, (list, tuple)) else wrt
    code = getattr(fn, "__code__", None)
    return (fn, code, wrt_key, mode)


def _generated(fn: Any, wrt: Any, mode: str) -> tuple[Generated, list[str], bool]:
    key = _key(fn, wrt, mode)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is None:
            hit = _CACHE[key] = generate(fn, wrt, mode)
        return hit


def _unwrap(fn: Any) -> Any:
    return fn.__wrapped__ if isinstance(fn, Differentiable) else fn


def grad(fn: Callable, wrt: Any = 0) -> Callable:
    """The gradient of scalar-valued `fn` with respect to the argument(s) `wrt`.

    `wrt` is a position, a parameter name, or a tuple of them (then gradients come as a tuple).
    Each gradient has the structure, shape and dtype of its argument.
    """
    fn = _unwrap(fn)
    gen, _, _ = _generated(fn, wrt, "grad")
    entry = gen.entry[0]

    @functools.wraps(fn)
    def df(*args: Any, **kwargs: Any) -> Any:
        return entry(*args, **kwargs)

    df.__name__ = gen.names[0]
    df.__qualname__ = gen.names[0]
    df.s2s_source = gen.source  # type: ignore[attr-defined]
    return df


def value_and_grad(fn: Callable, wrt: Any = 0) -> Callable:
    """Like `grad`, but returns `(value, gradient)`."""
    fn = _unwrap(fn)
    gen, _, _ = _generated(fn, wrt, "value_and_grad")
    entry = gen.entry[0]

    @functools.wraps(fn)
    def vg(*args: Any, **kwargs: Any) -> Any:
        return entry(*args, **kwargs)

    vg.__name__ = gen.names[0]
    return vg


def vjp(fn: Callable, wrt: Any = 0) -> Callable:
    """`vjp(fn)(*args)` returns `(value, pullback)`; `pullback(cotangent)` is the
    vector-Jacobian product, with the structure of the `wrt` argument(s)."""
    from s2s.backends.runtime import grad_like

    fn = _unwrap(fn)
    gen, wrt_names, is_tuple = _generated(fn, wrt, "vjp")
    fwd, bwd = gen.entry
    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def f_vjp(*args: Any, **kwargs: Any) -> Any:
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
            grads = tuple(grad_like(g, bound.arguments[p])
                          for g, p in zip(raws, wrt_names, strict=True))
            return grads if is_tuple else grads[0]

        return value, pullback

    return f_vjp


def source(fn: Callable, mode: str = "reverse", wrt: Any = 0) -> str:
    """The generated Python source of `fn`'s derivative, as a string."""
    fn = _unwrap(fn)
    if mode == "reverse":
        gen, _, _ = _generated(fn, wrt, "grad")
        return gen.source
    if mode == "vjp":
        gen, _, _ = _generated(fn, wrt, "vjp")
        return gen.source
    if mode == "value_and_grad":
        gen, _, _ = _generated(fn, wrt, "value_and_grad")
        return gen.source
    if mode == "forward":
        raise S2SError("forward mode (s2s.jvp) is not built yet",
                       hint="use mode='reverse' for now")
    raise S2SError(f"unknown mode {mode!r}: use 'reverse' or 'forward'")


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

    def source(self, mode: str = "reverse") -> str:
        return source(self.__wrapped__, mode=mode, wrt=self._wrt)


def differentiate(fn: Callable | None = None, *, wrt: Any = 0) -> Any:
    """Decorator: `@s2s.differentiate` or `@s2s.differentiate(wrt="params")`."""
    if fn is None:
        return lambda f: Differentiable(f, wrt)
    return Differentiable(fn, wrt)
