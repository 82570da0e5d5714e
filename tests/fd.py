"""Finite-difference references for s2s's gradients, and leafwise comparisons against them.

`numerical_grad` is the reference: central differences in float64, one coordinate at a time, for a
wrt argument that is a Python float, an ndarray of any shape (0-d included), or a nested
dict/list/tuple of those. The gradient comes back in the same structure: floats give floats,
arrays give float64 arrays of the same shape.

`assert_grad_matches` / `assert_vjp_matches` call s2s through its public API only and compare
with the reference leafwise, checking on the way that the structure, shapes, leaf types and dtypes
of the gradient are exactly those of the argument (the "grads have the structure of params"
promise), and that the gradient call has no side effects on its arguments that the plain call
does not have.

Every call of the user function gets deep copies of the arguments, so functions that write into
the arrays they receive are measured at the values the caller passed.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = [
    "assert_grad_matches",
    "assert_specialized_matches",
    "assert_tree_close",
    "assert_tree_equal",
    "assert_vjp_matches",
    "is_float_leaf",
    "leaves",
    "numerical_grad",
    "random_direction",
    "resolve_wrt",
    "tree_dot",
]

Path = tuple


# ---------------------------------------------------------------------------------------------
# Trees: dicts, lists and tuples (namedtuples included) of floats and arrays.


def is_float_leaf(value: Any) -> bool:
    """A real scalar that is not an array: Python float or a NumPy floating scalar."""
    return isinstance(value, (float, np.floating))


def leaves(tree: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Yield (path, leaf) for every leaf, in container order."""
    if isinstance(tree, dict):
        for key in tree:
            yield from leaves(tree[key], path + (key,))
    elif isinstance(tree, (list, tuple)):
        for i, item in enumerate(tree):
            yield from leaves(item, path + (i,))
    elif _is_record(tree):
        for name in _fields(tree):
            yield from leaves(getattr(tree, name), path + (name,))
    else:
        yield path, tree


def random_direction(tree: Any, rng: np.random.Generator) -> Any:
    """A tree of the same structure and types with standard normal arrays and floats (other
    leaves, a str field, kept): a direction for the dot-product test."""
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return type(tree)(*(random_direction(v, rng) for v in tree))
    if isinstance(tree, (list, tuple)):
        return type(tree)(random_direction(v, rng) for v in tree)
    if isinstance(tree, dict):
        return {k: random_direction(v, rng) for k, v in tree.items()}
    if _is_record(tree):
        out = copy.copy(tree)
        for name in _fields(tree):
            object.__setattr__(out, name, random_direction(getattr(tree, name), rng))
        return out
    if isinstance(tree, np.ndarray):
        return rng.standard_normal(tree.shape)
    return float(rng.standard_normal()) if isinstance(tree, float) else tree


def tree_dot(a: Any, b: Any) -> float:
    """The sum of the leafwise products of two trees of one structure (str leaves skipped)."""
    return sum(
        float(np.sum(x * y))
        for (_, x), (_, y) in zip(leaves(a), leaves(b), strict=True)
        if not isinstance(x, str)
    )


def _fields(tree: Any) -> list[str]:
    """The fields of a record: a dataclass's, or the attributes of an object of a class of
    the tests (`self.W = W`)."""
    if dataclasses.is_dataclass(tree):
        return [f.name for f in dataclasses.fields(tree)]
    return list(vars(tree))


def _is_record(tree: Any) -> bool:
    """A record: a dataclass instance, or a plain object of a class of the tests."""
    if dataclasses.is_dataclass(tree):
        return not isinstance(tree, type)
    return (
        hasattr(tree, "__dict__")
        and not isinstance(tree, (type, np.ndarray))
        and not hasattr(tree, "__code__")
        and type(tree).__module__.partition(".")[0] not in ("numpy", "builtins", "strict_array")
    )


def _rebuild(tree: Any, fn: Callable[[Path, Any], Any], path: Path = ()) -> Any:
    """The same structure (same container types), each leaf replaced by fn(path, leaf)."""
    if isinstance(tree, dict):
        return type(tree)((key, _rebuild(value, fn, path + (key,))) for key, value in tree.items())
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):  # namedtuple
        return type(tree)(*(_rebuild(v, fn, path + (i,)) for i, v in enumerate(tree)))
    if isinstance(tree, (list, tuple)):
        return type(tree)(_rebuild(v, fn, path + (i,)) for i, v in enumerate(tree))
    if _is_record(tree):  # a copy with each field rebuilt (frozen ones too)
        out = copy.copy(tree)
        for name in _fields(tree):
            object.__setattr__(out, name, _rebuild(getattr(tree, name), fn, path + (name,)))
        return out
    return fn(path, tree)


def _to_float64(path: Path, leaf: Any) -> Any:
    if isinstance(leaf, np.ndarray):
        if leaf.dtype.kind != "f":
            raise TypeError(f"leaf {path} is an array of dtype {leaf.dtype}; cannot differentiate")
        return leaf.astype(np.float64)  # always a copy
    if is_float_leaf(leaf):
        return float(leaf)
    if isinstance(leaf, (str, type(None))):
        return leaf  # a record's str or None field: no gradient, kept as it is
    raise TypeError(f"leaf {path} is {type(leaf).__name__}; only floats and float arrays")


def _fresh(path: Path, leaf: Any) -> Any:
    return leaf.copy() if isinstance(leaf, np.ndarray) else leaf


def _as_scalar(out: Any) -> float:
    if isinstance(out, np.ndarray):
        if out.shape != ():
            raise ValueError(f"function returned an array of shape {out.shape}, not a scalar")
        return float(out)
    if isinstance(out, (bool, np.bool_)):
        raise TypeError("function returned a bool")
    if isinstance(out, (int, float, np.integer, np.floating)):
        return float(out)
    raise TypeError(f"function returned {type(out).__name__}, not a scalar")


# ---------------------------------------------------------------------------------------------
# The reference.


def resolve_wrt(f: Callable, wrt: Any, nargs: int | None = None) -> int | tuple:
    """Turn `wrt` (a position, a parameter name, or a tuple of them) into positions."""
    if isinstance(wrt, tuple):
        return tuple(resolve_wrt(f, w, nargs) for w in wrt)
    if isinstance(wrt, bool):
        raise TypeError("wrt must be an int, a str or a tuple of them")
    if isinstance(wrt, int):
        pos = wrt
    elif isinstance(wrt, str):
        names = list(inspect.signature(f).parameters)
        if wrt not in names:
            raise ValueError(f"{wrt!r} is not a parameter of {f!r}: {names}")
        pos = names.index(wrt)
    else:
        raise TypeError("wrt must be an int, a str or a tuple of them")
    if pos < 0 or (nargs is not None and pos >= nargs):
        raise IndexError(f"wrt position {pos} is out of range for {nargs} arguments")
    return pos


def numerical_grad(f: Callable, args: Any, wrt: Any = 0, eps: float = 1e-6) -> Any:
    """Central finite-difference gradient of the scalar `f(*args)` with respect to `args[wrt]`.

    `wrt` is a position, a parameter name or a tuple of them (then a tuple of gradients comes
    back). The computation is in float64 whatever the argument's dtype; the result has the
    argument's structure, with Python floats for float leaves and float64 arrays for array leaves.
    """
    args = tuple(args)
    pos = resolve_wrt(f, wrt, len(args))
    if isinstance(pos, tuple):
        return tuple(_numerical_grad_one(f, args, p, eps) for p in pos)
    return _numerical_grad_one(f, args, pos, eps)


def _numerical_grad_one(f: Callable, args: tuple, pos: int, eps: float) -> Any:
    base = _rebuild(args[pos], _to_float64)

    def value_at(path: Path, leaf_value: Any) -> float:
        call_args = list(copy.deepcopy(args))
        call_args[pos] = _rebuild(
            base, lambda p, leaf: leaf_value if p == path else _fresh(p, leaf)
        )
        return _as_scalar(f(*call_args))

    def grad_leaf(path: Path, leaf: Any) -> Any:
        if isinstance(leaf, (str, type(None))):
            return leaf
        if isinstance(leaf, float):
            return (value_at(path, leaf + eps) - value_at(path, leaf - eps)) / (2.0 * eps)
        out = np.zeros_like(leaf)
        for idx in np.ndindex(leaf.shape):
            plus = leaf.copy()
            plus[idx] += eps
            minus = leaf.copy()
            minus[idx] -= eps
            out[idx] = (value_at(path, plus) - value_at(path, minus)) / (2.0 * eps)
        return out

    return _rebuild(base, grad_leaf)


# ---------------------------------------------------------------------------------------------
# Comparisons.


def assert_tree_close(
    got: Any,
    want: Any,
    like: Any,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    where: str = "grad",
) -> None:
    """`got` has exactly the structure of `like` (container types, dict keys, lengths, leaf kinds,
    array shapes and dtypes) and its leaves are close to those of `want`."""
    if isinstance(like, dict):
        assert type(got) is type(like), (
            f"{where}: expected {type(like).__name__}, got {type(got).__name__}"
        )
        assert set(got) == set(like), f"{where}: keys {sorted(map(repr, got))} != " + str(
            sorted(map(repr, like))
        )
        for key in like:
            assert_tree_close(
                got[key], want[key], like[key], rtol=rtol, atol=atol, where=f"{where}[{key!r}]"
            )
    elif isinstance(like, (list, tuple)):
        assert type(got) is type(like), (
            f"{where}: expected {type(like).__name__}, got {type(got).__name__}"
        )
        assert len(got) == len(like), f"{where}: length {len(got)} != {len(like)}"
        for i, (g, w, lk) in enumerate(zip(got, want, like, strict=True)):
            assert_tree_close(g, w, lk, rtol=rtol, atol=atol, where=f"{where}[{i}]")
    elif _is_record(like):
        assert type(got) is type(like), (
            f"{where}: expected {type(like).__name__}, got {type(got).__name__}"
        )
        for name in _fields(like):
            assert_tree_close(
                getattr(got, name),
                getattr(want, name),
                getattr(like, name),
                rtol=rtol,
                atol=atol,
                where=f"{where}.{name}",
            )
    elif isinstance(like, np.ndarray):
        assert isinstance(got, np.ndarray), (
            f"{where}: expected an ndarray of shape {like.shape}, got {type(got).__name__}"
        )
        assert got.shape == like.shape, f"{where}: shape {got.shape} != {like.shape}"
        assert got.dtype == like.dtype, f"{where}: dtype {got.dtype} != {like.dtype}"
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=where)
    elif is_float_leaf(like):
        assert isinstance(got, float) and not isinstance(got, np.ndarray), (
            f"{where}: a float argument needs a float gradient, got {type(got).__name__}"
        )
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=where)
    elif isinstance(like, (str, type(None))):
        assert got == like, f"{where}: a str or None field is kept as it is, got {got!r}"
    else:
        raise TypeError(f"{where}: cannot compare against a {type(like).__name__} argument")


def _trees_equal(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return set(a) == set(b) and all(_trees_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_trees_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b)
    if _is_record(a):  # field by field (a dataclass's `==` compares arrays as a whole)
        return all(_trees_equal(getattr(a, name), getattr(b, name)) for name in _fields(a))
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - anything we cannot compare counts as different
        return False


def assert_tree_equal(got: Any, want: Any, where: str = "value") -> None:
    """Exact equality of structure, types, shapes, dtypes and values."""
    assert _trees_equal(got, want), f"{where}: {got!r} != {want!r}"


def _check_side_effects(original: tuple, after_primal: tuple, after_grad: tuple) -> None:
    """The derivative call leaves an argument as the caller passed it, unless the plain call
    mutates it too (then it may leave it either as the plain call does, or restored)."""
    for i, (orig, primal, grad) in enumerate(zip(original, after_primal, after_grad, strict=True)):
        if _trees_equal(primal, orig):
            assert _trees_equal(grad, orig), (
                f"argument {i} was modified by the derivative call but not by the function"
            )
        else:
            assert _trees_equal(grad, orig) or _trees_equal(grad, primal), (
                f"argument {i} was left in a state that neither the function nor the caller had"
            )


def _compare_grads(got, want, args, pos, wrt, rtol, atol) -> None:
    if isinstance(pos, tuple):
        assert isinstance(got, tuple), f"tuple wrt={wrt!r} needs a tuple of gradients, got {got!r}"
        assert len(got) == len(pos), f"wrt={wrt!r}: {len(got)} gradients for {len(pos)} arguments"
        for i, p in enumerate(pos):
            assert_tree_close(
                got[i], want[i], args[p], rtol=rtol, atol=atol, where=f"grad[{i}] (wrt {wrt[i]!r})"
            )
    else:
        assert_tree_close(got, want, args[pos], rtol=rtol, atol=atol, where=f"grad (wrt {wrt!r})")


def assert_grad_matches(
    f: Callable,
    *args: Any,
    wrt: Any = 0,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    eps: float = 1e-6,
) -> Any:
    """`s2s.grad(f, wrt=wrt)(*args)` equals the finite-difference gradient, leaf by leaf, with
    the argument's exact structure. Returns s2s's gradient."""
    import s2s

    pos = resolve_wrt(f, wrt, len(args))
    after_primal = copy.deepcopy(args)
    f(*after_primal)
    after_grad = copy.deepcopy(args)
    got = s2s.grad(f, wrt=wrt)(*after_grad)
    _check_side_effects(args, after_primal, after_grad)
    want = numerical_grad(f, args, pos, eps)
    _compare_grads(got, want, args, pos, wrt, rtol, atol)
    return got


def assert_vjp_matches(
    f: Callable,
    *args: Any,
    cotangent: Any,
    wrt: Any = 0,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    eps: float = 1e-6,
) -> Any:
    """`s2s.vjp(f, wrt=wrt)(*args)` gives f's value, and its pullback applied to `cotangent`
    equals the finite-difference gradient of `sum(f(*args) * cotangent)`. Returns the pullback's
    result."""
    import s2s

    pos = resolve_wrt(f, wrt, len(args))
    expected = f(*copy.deepcopy(args))
    value, pullback = s2s.vjp(f, wrt=wrt)(*copy.deepcopy(args))
    assert np.shape(value) == np.shape(expected), (
        f"vjp value has shape {np.shape(value)}, the function's has {np.shape(expected)}"
    )
    value_rtol = 1e-12 if np.asarray(expected).dtype == np.float64 else 1e-6
    np.testing.assert_allclose(value, expected, rtol=value_rtol, atol=0, err_msg="vjp value")
    got = pullback(copy.deepcopy(cotangent))

    def weighted(*a: Any) -> float:
        return float(np.sum(np.asarray(f(*a)) * cotangent))

    want = numerical_grad(weighted, args, pos, eps)
    _compare_grads(got, want, args, pos, wrt, rtol, atol)
    return got


def assert_specialized_matches(f: Callable, args: tuple, wrt: int = 0) -> Any:
    """For a function of arrays and numbers: the gradient (specialized to the call's shapes)
    against central differences, against the generic generated code, and against forward mode
    (the dot-product test, with a random direction). Returns the gradient."""
    import s2s
    from s2s.transform import generate

    g = s2s.grad(f, wrt=wrt)(*args)
    want = numerical_grad(f, args, wrt)
    assert type(g) is type(want), f"gradient of type {type(g)}, argument's {type(want)}"
    # strict: the same shape (no broadcasting) and dtype
    np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-8, strict=True)
    generic = generate(f, wrt, "grad")[0].entry[0](*args)
    np.testing.assert_allclose(g, generic, rtol=1e-12, atol=1e-15, strict=True)
    u = np.random.default_rng(3).standard_normal(np.shape(args[wrt]))
    if not np.shape(args[wrt]):
        u = float(u)
    _, t = s2s.jvp(f, wrt=wrt)(*args, u)
    np.testing.assert_allclose(t, np.sum(u * np.asarray(g)), rtol=1e-9, atol=1e-12)
    return g
