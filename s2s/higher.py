"""Second derivatives and dense Jacobians: `hvp`, `hessian`, `jacobian`.

`hvp` is forward over reverse: s2s writes the gradient of `f` (a plain generated function, its
source registered in `linecache`), reads that gradient's source back and runs forward mode over
it. Forward mode knows the runtime helpers a gradient calls through their tangent rules
(`adjoints/runtime_rules.py`) and carries the tape as a parallel list of tangents, so the result
is one generated function, `jvp_grad_f(x, ..., t_x) -> (gradient, H @ t_x)`, that
`s2s.source(f, mode="hvp")` shows.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from s2s.adjoints.registry import version as rules_version

from .errors import ArgumentError, S2SError, WrtError
from .transform import Generated, generate

_CACHE: dict[tuple, tuple[Generated, list[str], bool]] = {}
_LOCK = threading.RLock()


def _hvp_generated(fn: Any, wrt: Any) -> tuple[Generated, list[str], bool]:
    """The generated forward-over-reverse code of `fn` (cached like the API's other modes)."""
    from .api import _generated, _key

    key = _key(fn, wrt, "hvp")
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is None:
            gen, wrt_names, is_tuple = _generated(fn, wrt, "grad")
            inner = tuple(wrt_names) if is_tuple else wrt_names[0]
            out, _, _ = generate(gen.entry[0], inner, "jvp")
            hit = _CACHE[key] = (out, wrt_names, is_tuple)
        return hit


def hvp(fn: Callable, wrt: Any = 0) -> Callable:
    """Hessian-vector products, forward over reverse: `hvp(fn)(*args, vector)` returns the
    product of the Hessian of scalar-valued `fn` (with respect to `wrt`) at `args` with `vector`.

    `vector` and the result have the structure of the `wrt` argument (a tuple of them, in
    order, when `wrt` is a tuple): a dict of arrays gives a dict of arrays, a float a float.
    """
    from .api import _argument_checker, _named_after, _unwrap

    fn = _unwrap(fn)
    gen, wrt_names, is_tuple = _hvp_generated(fn, wrt)
    tparams = gen.tangent_params  # type: ignore[attr-defined]
    check = _argument_checker(fn)
    current = {"version": rules_version(), "entry": gen.entry[0]}

    @_named_after(fn)
    def hv(*args: Any, **kwargs: Any) -> Any:
        if current["version"] != rules_version():  # a rule was registered: generate again
            current["entry"] = _hvp_generated(fn, wrt)[0].entry[0]
            current["version"] = rules_version()
        if not args:
            raise TypeError(
                f"hvp of {fn.__name__}() needs the vector as its last positional argument"
            )
        *primals, vector = args
        check(tuple(primals), kwargs)
        if is_tuple:
            if not isinstance(vector, (tuple, list)) or len(vector) != len(tparams):
                raise TypeError(
                    f"wrt is a tuple of {len(tparams)} arguments: pass a tuple of "
                    f"{len(tparams)} vectors"
                )
            tangents = dict(zip(tparams, vector, strict=True))
        else:
            tangents = {tparams[0]: vector}
        _, product = current["entry"](*primals, **kwargs, **tangents)
        return product

    hv.__name__ = gen.names[0]
    hv.__qualname__ = gen.names[0]
    hv.s2s_source = gen.source  # type: ignore[attr-defined]
    return hv


def _single_wrt(fn: Any, wrt: Any, what: str) -> None:
    if isinstance(wrt, (tuple, list)):
        raise WrtError(
            f"s2s.{what} takes one argument to differentiate, not a tuple {wrt!r}",
            hint=f"call s2s.{what} once per argument, or pack them in one array",
        )


def _argument(fn: Any, wrt: Any, args: tuple, kwargs: dict) -> Any:
    """The value of the `wrt` argument of the call `fn(*args, **kwargs)`."""
    bound = inspect.signature(fn).bind(*args, **kwargs)
    bound.apply_defaults()
    names = list(inspect.signature(fn).parameters)
    key = names[wrt] if isinstance(wrt, int) else wrt
    return bound.arguments[key]


def _dense_input(fn: Any, x: Any, what: str) -> tuple[tuple, np.ndarray]:
    """The shape of `x` (a float or a float array) and its basis vectors, one per element."""
    if isinstance(x, bool) or not (isinstance(x, (float, int)) or hasattr(x, "shape")):
        raise ArgumentError(
            f"s2s.{what} needs the differentiated argument to be a float or an "
            f"array, not {type(x).__name__}",
            hint="use s2s.hvp / s2s.vjp for dicts, lists and tuples",
        )
    shape = tuple(np.shape(x))
    n = int(np.prod(shape)) if shape else 1
    return shape, np.eye(n, dtype=np.float64)


def _shaped(e: np.ndarray, shape: tuple, like: Any) -> Any:
    """A basis vector with the shape of `like` (a Python float for a float)."""
    if not shape and not hasattr(like, "shape"):
        return float(e[0])
    return e.reshape(shape).astype(
        like.dtype if getattr(like.dtype, "kind", "f") in "fc" else np.float64
    )


def hessian(fn: Callable, wrt: Any = 0) -> Callable:
    """The dense Hessian of scalar-valued `fn` with respect to one float or array argument:
    `hessian(fn)(*args)` has shape `x.shape + x.shape` (a float for a float), built from one
    Hessian-vector product per element of `x`."""
    from .api import _named_after, _unwrap

    fn = _unwrap(fn)
    _single_wrt(fn, wrt, "hessian")
    hv = hvp(fn, wrt)

    @_named_after(fn)
    def hess(*args: Any, **kwargs: Any) -> Any:
        x = _argument(fn, wrt, args, kwargs)
        shape, basis = _dense_input(fn, x, "hessian")
        if not shape and not hasattr(x, "shape"):
            return float(hv(*args, 1.0, **kwargs))
        cols = [np.reshape(hv(*args, _shaped(e, shape, x), **kwargs), -1) for e in basis]
        return np.stack(cols, axis=-1).reshape(shape + shape)

    hess.__name__ = f"hessian_{getattr(fn, '__name__', 'f')}"
    return hess


def jacobian(fn: Callable, wrt: Any = 0, mode: str = "reverse") -> Callable:
    """The dense Jacobian of `fn` with respect to one float or array argument:
    `jacobian(fn)(*args)` has shape `out.shape + x.shape`. `mode="reverse"` makes one
    vector-Jacobian product per output element, `mode="forward"` one Jacobian-vector product
    per input element (cheaper when `x` is small)."""
    from .api import _named_after, _unwrap, jvp, vjp

    if mode not in ("reverse", "forward"):
        raise S2SError(f"unknown jacobian mode {mode!r}: use 'reverse' or 'forward'")
    fn = _unwrap(fn)
    _single_wrt(fn, wrt, "jacobian")
    fv = vjp(fn, wrt) if mode == "reverse" else None
    fj = jvp(fn, wrt) if mode == "forward" else None

    @_named_after(fn)
    def jac(*args: Any, **kwargs: Any) -> Any:
        x = _argument(fn, wrt, args, kwargs)
        in_shape, in_basis = _dense_input(fn, x, "jacobian")
        if fj is not None:
            cols = []
            out = None
            for e in in_basis:
                out, t = fj(*args, _shaped(e, in_shape, x), **kwargs)
                cols.append(np.reshape(np.asarray(t, dtype=np.float64), -1))
            out_shape = tuple(np.shape(out))
            full = np.stack(cols, axis=-1).reshape(out_shape + in_shape)
        else:
            out, pullback = fv(*args, **kwargs)  # type: ignore[misc]
            out_shape, out_basis = _dense_input(fn, out, "jacobian")
            rows = [
                np.reshape(np.asarray(pullback(_shaped(e, out_shape, out)), dtype=np.float64), -1)
                for e in out_basis
            ]
            full = np.stack(rows, axis=0).reshape(out_shape + in_shape)
        if not full.shape and not hasattr(x, "shape") and not hasattr(out, "shape"):
            return float(full)
        return full

    jac.__name__ = f"jacobian_{getattr(fn, '__name__', 'f')}"
    return jac


__all__ = ["hessian", "hvp", "jacobian"]
