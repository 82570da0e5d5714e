"""`s2s.check_grad`: the generated gradient against central finite differences, and forward
mode against reverse mode.

    report = s2s.check_grad(loss, params, x, y, wrt="params")
    print(report)          # worst relative error per argument, and pass / FAIL
    assert report.ok

Finite differences are taken in float64 (the `wrt` arguments are converted), one coordinate at
a time, so this is for checking, on small inputs, not for training.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .backends.runtime import record_fields, replace_fields
from .errors import S2SError

__all__ = ["ArgumentCheck", "GradCheckError", "GradCheckReport", "check_grad"]


class GradCheckError(S2SError):
    """`check_grad(..., raise_on_failure=True)` found a gradient that disagrees."""


# -- trees of floats and float arrays -------------------------------------------------------------


def _leaves(tree: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    if isinstance(tree, dict):
        for k in tree:
            yield from _leaves(tree[k], path + (k,))
    elif isinstance(tree, (list, tuple)):
        for i, v in enumerate(tree):
            yield from _leaves(v, path + (i,))
    elif _is_record(tree):
        for name in record_fields(tree):
            yield from _leaves(getattr(tree, name), path + (name,))
    else:
        yield path, tree


def _is_record(tree: Any) -> bool:
    """A record: a dataclass instance or an object of a class of the user's (`record_fields`)."""
    return record_fields(tree) is not None


def _map(tree: Any, fn: Callable[[tuple, Any], Any], path: tuple = ()) -> Any:
    if isinstance(tree, dict):
        return type(tree)((k, _map(v, fn, path + (k,))) for k, v in tree.items())
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return type(tree)(*(_map(v, fn, path + (i,)) for i, v in enumerate(tree)))
    if isinstance(tree, (list, tuple)):
        return type(tree)(_map(v, fn, path + (i,)) for i, v in enumerate(tree))
    if _is_record(tree):
        names = record_fields(tree)
        return replace_fields(tree, {k: _map(getattr(tree, k), fn, path + (k,)) for k in names})
    return fn(path, tree)


def _get(tree: Any, path: tuple) -> Any:
    for p in path:
        tree = getattr(tree, p) if _is_record(tree) else tree[p]
    return tree


def _set(tree: Any, path: tuple, value: Any) -> Any:
    """`tree` with the leaf at `path` replaced (containers along the path copied)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(tree, dict):
        out = type(tree)(tree)
        out[head] = _set(tree[head], rest, value)
        return out
    if _is_record(tree):
        return replace_fields(tree, {head: _set(getattr(tree, head), rest, value)})
    items = list(tree)
    items[head] = _set(items[head], rest, value)
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return type(tree)(*items)
    return type(tree)(items)


def _to_float64(path: tuple, leaf: Any) -> Any:
    if isinstance(leaf, np.ndarray) and leaf.dtype.kind == "f":
        return leaf.astype(np.float64)
    if isinstance(leaf, (float, np.floating)):
        return float(leaf)
    return leaf


def _differentiable(leaf: Any) -> bool:
    return (isinstance(leaf, np.ndarray) and leaf.dtype.kind == "f") or isinstance(
        leaf, (float, np.floating)
    )


def _path_text(name: str, path: tuple, index: tuple | None = None, tree: Any = None) -> str:
    """`params['W1']`, `model.layers[0].W` (a record's field as an attribute: `tree` is the
    argument the path is in)."""
    text = name
    for p in path:
        if tree is not None and _is_record(tree):
            text += f".{p}"
            tree = getattr(tree, p)
        else:
            text += f"[{p!r}]"
            tree = tree[p] if tree is not None else None
    if index:
        text += "[" + ", ".join(str(i) for i in index) + "]"
    return text


# -- the report -----------------------------------------------------------------------------------


@dataclass
class ArgumentCheck:
    """One `wrt` argument: the worst relative error of the reverse gradient against finite
    differences, and where it is."""

    name: str
    max_rel_error: float
    worst: str  # the leaf and element, e.g. "params['W'][1, 2]"
    gradient: float  # s2s's value there
    numerical: float  # the finite difference there
    size: int  # number of coordinates checked
    passed: bool


@dataclass
class GradCheckReport:
    """What `check_grad` found. `ok` is True when every check passed; `str(report)` is a table."""

    function: str
    arguments: list[ArgumentCheck]
    forward_rel_error: float | None  # None: forward mode not checked (see forward_note)
    forward_passed: bool
    forward_note: str = ""
    tolerance: float = 1e-5
    details: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(a.passed for a in self.arguments) and self.forward_passed

    def __bool__(self) -> bool:
        return self.ok

    @property
    def max_rel_error(self) -> float:
        return max((a.max_rel_error for a in self.arguments), default=0.0)

    def __str__(self) -> str:
        head = f"check_grad({self.function}): {'pass' if self.ok else 'FAIL'} "
        head += f"(tolerance {self.tolerance:g} relative)"
        lines = [head]
        width = max([len(a.name) for a in self.arguments] + [8])
        for a in self.arguments:
            mark = "ok  " if a.passed else "FAIL"
            line = (
                f"  {mark} {a.name:<{width}}  reverse vs finite differences: worst relative "
                f"error {a.max_rel_error:.2e} over {a.size} coordinates"
            )
            if not a.passed or a.max_rel_error > 0:
                line += f", at {a.worst}: s2s {a.gradient:.6g}, numerical {a.numerical:.6g}"
            lines.append(line)
        if self.forward_rel_error is None:
            lines.append(f"  --   forward vs reverse: not checked ({self.forward_note})")
        else:
            mark = "ok  " if self.forward_passed else "FAIL"
            lines.append(
                f"  {mark} {'':<{width}}  forward vs reverse (dot-product test): "
                f"relative error {self.forward_rel_error:.2e}"
            )
        return "\n".join(lines)

    __repr__ = __str__


def _rel(a: float, b: float, floor: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), floor)


def check_grad(
    fn: Callable,
    *args: Any,
    wrt: Any = 0,
    tolerance: float = 1e-5,
    eps: float = 1e-6,
    floor: float = 1e-6,
    forward: bool = True,
    seed: int = 0,
    raise_on_failure: bool = False,
    **kwargs: Any,
) -> GradCheckReport:
    """Check `s2s.grad(fn, wrt)` at `args` against central finite differences (float64, step
    `eps`), and `s2s.jvp` against it on a random direction (the dot-product test
    `jvp(u) == <grad, u>`).

    The relative error of one coordinate is `|g - n| / max(|g|, |n|, floor)`; a check passes
    when the worst is at most `tolerance`. Returns a `GradCheckReport`; raises
    `GradCheckError` with the report when `raise_on_failure` and a check failed.
    """
    from . import api

    fn = api._unwrap(fn)
    sig = inspect.signature(fn)
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError as exc:
        raise S2SError(f"check_grad: the arguments do not fit {fn.__name__}: {exc}") from None
    bound.apply_defaults()
    params = list(sig.parameters)
    is_tuple = isinstance(wrt, (tuple, list))
    names = []
    for w in list(wrt) if is_tuple else [wrt]:
        names.append(params[w] if isinstance(w, int) and not isinstance(w, bool) else w)
    values = dict(bound.arguments)
    for n in names:
        if n not in values:
            raise S2SError(
                f"check_grad: wrt={n!r} names no parameter of {fn.__name__}",
                hint=f"its parameters: {', '.join(params)}",
            )
        values[n] = _map(values[n], _to_float64)

    def call(vals: dict) -> float:
        b = inspect.BoundArguments(sig, copy.deepcopy(vals))  # type: ignore[arg-type]
        out = fn(*b.args, **b.kwargs)
        return float(np.asarray(out).reshape(()))

    def call_s2s(make: Callable, *extra: Any) -> Any:
        b = inspect.BoundArguments(sig, copy.deepcopy(values))  # type: ignore[arg-type]
        return make(*b.args, *extra, **b.kwargs)

    grads = call_s2s(api.grad(fn, wrt=wrt))
    grads = grads if is_tuple else (grads,)

    checks: list[ArgumentCheck] = []
    for n, g in zip(names, grads, strict=True):
        worst = (-1.0, "", 0.0, 0.0)
        size = 0
        for path, leaf in _leaves(values[n]):
            if not _differentiable(leaf):
                continue
            g_leaf = _get(g, path)
            if isinstance(leaf, np.ndarray):
                g_arr = np.asarray(g_leaf, dtype=np.float64)
                for index in np.ndindex(leaf.shape):
                    num = _central(call, values, n, path, leaf, index, eps)
                    err = _rel(float(g_arr[index]), num, floor)
                    size += 1
                    if err > worst[0]:
                        worst = (
                            err,
                            _path_text(n, path, index, values[n]),
                            float(g_arr[index]),
                            num,
                        )
            else:
                num = _central(call, values, n, path, leaf, None, eps)
                err = _rel(float(g_leaf), num, floor)
                size += 1
                if err > worst[0]:
                    worst = (err, _path_text(n, path, None, values[n]), float(g_leaf), num)
        err = max(worst[0], 0.0)
        checks.append(
            ArgumentCheck(
                name=n,
                max_rel_error=err,
                worst=worst[1] or n,
                gradient=worst[2],
                numerical=worst[3],
                size=size,
                passed=err <= tolerance,
            )
        )

    fwd_err: float | None = None
    fwd_ok = True
    note = ""
    if forward:
        rng = np.random.default_rng(seed)
        dirs = [_map(values[n], lambda p, leaf: _direction(leaf, rng)) for n in names]
        try:
            fj = api.jvp(fn, wrt=wrt)
        except S2SError as exc:
            note = f"no forward mode: {exc.message}"
        else:
            _, t_out = call_s2s(fj, tuple(dirs) if is_tuple else dirs[0])
            want = sum(_inner(g, u) for g, u in zip(grads, dirs, strict=True))
            fwd_err = _rel(float(np.asarray(t_out).reshape(())), want, floor)
            fwd_ok = fwd_err <= tolerance
    else:
        note = "forward=False"
    report = GradCheckReport(
        function=getattr(fn, "__qualname__", repr(fn)),
        arguments=checks,
        forward_rel_error=fwd_err,
        forward_passed=fwd_ok,
        forward_note=note,
        tolerance=tolerance,
    )
    if raise_on_failure and not report.ok:
        raise GradCheckError(
            f"the gradient of {report.function} disagrees\n{report}",
            hint="a custom rule (@s2s.adjoint / @s2s.tangent) may be wrong",
        )
    return report


def _central(
    call: Callable, values: dict, n: str, path: tuple, leaf: Any, index: tuple | None, eps: float
) -> float:
    def at(delta: float) -> float:
        if index is None:
            new = leaf + delta
        else:
            new = leaf.copy()
            new[index] += delta
        vals = dict(values)
        vals[n] = _set(values[n], path, new)
        return call(vals)

    return (at(eps) - at(-eps)) / (2.0 * eps)


def _direction(leaf: Any, rng: np.random.Generator) -> Any:
    if isinstance(leaf, np.ndarray) and leaf.dtype.kind == "f":
        return rng.standard_normal(leaf.shape)
    if isinstance(leaf, (float, np.floating)):
        return float(rng.standard_normal())
    return leaf  # an integer leaf: passed through, as the tangent of a non-float


def _inner(g: Any, u: Any) -> float:
    total = 0.0
    for (_, leaf), (_, gl) in zip(_leaves(u), _leaves(g), strict=True):
        if _differentiable(leaf):
            total += float(np.sum(np.asarray(gl, dtype=np.float64) * leaf))
    return total
