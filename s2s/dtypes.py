"""Dtype facts: what a call's NumPy dtypes prove about its generated gradient.

A gradient call is specialized to the dtypes of its NumPy array arguments too (exact
`numpy.ndarray`s, and CuPy's arrays, which follow NumPy's dtype rules and in-place
operators: `namespace.is_device_array_type`; another array library's type promotion is its
own). With them and the shape patterns of `shapes.py`, `finish` follows the straight-line
part of a generated gradient (its top-level statements, after the optimizer) and learns, for
each name it can, what the name holds: a NumPy array or NumPy scalar of a known floating
dtype and shape pattern, a Python number, or a dict of such entries. It uses what it proves
twice:

* **No `grad_like` where it has nothing to do.** `grad_like(d_w, w)` gives each gradient the
  structure, shape and dtype of its argument. Where `d_w` is proven an array of `w`'s dtype
  and pattern (rank at least 1), it is `d_w` itself: the adjoint's value broadcasts to `w`'s
  shape, and with the same rank and the same axes of length 1 that is `w`'s very shape. A
  dict's gradient is the adjoint dict when every entry is so proven (written as a dict in the
  argument's key order where the adjoint's order differs).
* **Products in place.** `d = c * e`, where `e` is a new array nothing else holds (an
  arithmetic result, or a name assigned one that nothing reads again nor holds: no view,
  tape or container took it) and the result has `e`'s dtype and shape, becomes `d = e` and
  `d *= c`, as a hand-written gradient scales `d_out *= 2 / n`: no second array is made.
  Sums, differences and quotients alike (`e - c`, `e / c`, and `c + e` for an `e` on either
  side, since a product or sum of two floats is the same either way round).

Everything here is proven or left alone: a name the pass cannot follow has no fact, and
nothing is rewritten that reads it. Floating dtypes only (a Python number with an integer
array promotes by value in NumPy 1); each result dtype is NumPy's own, computed on empty
arrays of the operands' dtypes.
"""

from __future__ import annotations

import functools
import operator
from typing import Any

import gast
import numpy as np

from s2s.backends.namespace import is_device_array_type

from .nodes import names, walk
from .normalize import assign, name, store
from .shapes import broadcast, matmul

#: a fact: ("array", dtype, pattern) for a NumPy array or scalar, ("npscalar", dtype) for the
#: NumPy scalar (on CuPy, 0-d array) a full reduction gives (only `seed` reads it),
#: ("number", type) for a Python int or float, ("dict", {key: fact}) for a dict with those entries
Fact = tuple

_OPS = {
    gast.Add: operator.add,
    gast.Sub: operator.sub,
    gast.Mult: operator.mul,
    gast.Div: operator.truediv,
    gast.Pow: operator.pow,
}
#: attributes of an array that read no element (no view of it escapes)
_SHAPE_ATTRS = frozenset(("shape", "ndim", "dtype", "size"))
#: NumPy's reductions of one array (a new array or a NumPy scalar)
_REDUCTIONS = frozenset(("sum", "mean", "max", "min", "prod"))
#: methods of an array that return a new array or a number (reductions), never a view
_FRESH_METHODS = _REDUCTIONS | {"copy"}
#: helpers that read their arguments' shapes or values and return no view of them
_READING_HELPERS = frozenset(("reduction_count", "zeros_like"))


def dtype_of(value: Any) -> Any:
    """What of an argument's dtype the generated code may be specialized to: a NumPy (or
    CuPy) array's dtype, a Python number's type, a dict's keys with its values' (None where
    one has none), else None."""
    t = type(value)
    if t is np.ndarray or is_device_array_type(t):
        return value.dtype
    if t in (int, float):
        return t
    if t is dict:
        return ("dict", tuple((k, dtype_of(v)) for k, v in value.items()))
    return None


def argument_facts(patterns: dict[str, Any], dtypes: dict[str, Any]) -> dict[str, Fact]:
    """The fact of each parameter with both a shape pattern (`shapes.pattern_of`) and a dtype
    (`dtype_of`)."""
    out = {}
    for p, d in dtypes.items():
        f = _argument_fact(patterns.get(p), d)
        if f is not None:
            out[p] = f
    return out


def _argument_fact(pattern: Any, d: Any) -> Fact | None:
    if pattern is None or d is None:
        return None
    if isinstance(d, np.dtype):
        return ("array", d, pattern) if d.kind == "f" else None
    if d in (int, float):
        return ("number", d) if pattern == () else None
    if d[:1] == ("dict",) and pattern[:1] == ("dict",) and len(d[1]) == len(pattern[1]):
        entries = {}
        for (k, dk), (k2, pk) in zip(d[1], pattern[1], strict=True):
            f = _argument_fact(pk, dk) if k == k2 else None
            if f is None or f[0] == "dict":
                return None
            entries[k] = f
        return ("dict", entries)
    return None


@functools.cache
def _result_dtype(op: Any, a: Any, b: Any) -> Any:
    """The dtype NumPy gives `op(a, b)` for operands of these dtypes (a Python type: a number
    of that type); None for anything but a floating result."""
    try:
        x = np.empty(0, a) if isinstance(a, np.dtype) else a(0)
        y = np.empty(0, b) if isinstance(b, np.dtype) else b(1)
        r = op(x, y)
    except Exception:
        return None
    d = getattr(r, "dtype", None)
    return d if d is not None and d.kind == "f" else None


@functools.cache
def _unary_dtype(f: Any, a: np.dtype) -> Any:
    try:
        d = f(np.empty(0, a)).dtype
    except Exception:
        return None
    return d if d.kind == "f" else None


@functools.cache
def _reduced_dtype(name: str, a: np.dtype) -> Any:
    """The dtype of NumPy's full reduction `name` of an array of dtype `a` (floating only)."""
    try:
        d = getattr(np, name)(np.ones(1, a)).dtype
    except Exception:
        return None
    return d if d.kind == "f" else None


class _Pass:
    def __init__(self, fn: gast.FunctionDef, facts: dict[str, Fact]) -> None:
        self.fn = fn
        self.body = list(fn.body)
        self.env: dict[str, Fact] = dict(facts)
        self.params = {a.id for a in fn.args.args if isinstance(a, gast.Name)}
        # one walk of each top-level statement: the names it mentions, those whose facts it
        # may change (`_disturbed`), and whether it holds a function of its own
        self.uses: list[set[str]] = []
        self.disturbed: dict[int, set[str]] = {}
        self.stores: dict[str, int] = {}  # how many times each name is assigned
        self.nested = False
        for s in self.body:
            used: set[str] = set()
            tree = list(walk(s))
            for n in tree:
                if isinstance(n, gast.Name):
                    used.add(n.id)
                    if not isinstance(n.ctx, gast.Load):
                        self.stores[n.id] = self.stores.get(n.id, 0) + 1
                elif isinstance(n, (gast.Lambda, gast.FunctionDef)):
                    self.nested = True
            self.uses.append(used)
            self.disturbed[id(s)] = _disturbed(s, tree)
        # `np` is NumPy and the helpers are s2s's unless the function binds those names
        self.local = set(self.stores) | self.params
        self.dict_ok = {
            p
            for p, f in facts.items()
            if f[0] == "dict" and p not in self.stores and self.used_by_key_only(p)
        }

    def forget(self, s: Any, keep: str | None = None) -> None:
        """Forget the facts of the names `s` may change (but `keep`)."""
        changed = self.disturbed.get(id(s))
        for n in changed if changed is not None else _disturbed(s):
            if n != keep:
                self.env.pop(n, None)

    # -- facts of expressions ---------------------------------------------------------------
    def fact(self, e: Any) -> Fact | None:
        if isinstance(e, gast.Constant):
            return ("number", type(e.value)) if type(e.value) in (int, float) else None
        if isinstance(e, gast.Name):
            f = self.env.get(e.id)
            return f if f is None or f[0] != "dict" else None  # a dict only by key
        if isinstance(e, gast.BinOp):
            return self.binop(type(e.op), self.fact(e.left), self.fact(e.right))
        if isinstance(e, gast.UnaryOp) and isinstance(e.op, (gast.USub, gast.UAdd)):
            return self.fact(e.operand)
        if isinstance(e, gast.Subscript):
            v, k = e.value, e.slice
            if isinstance(v, gast.Name) and isinstance(k, gast.Constant):
                d = self.env.get(v.id)
                if d is not None and d[0] == "dict":
                    return d[1].get(k.value)
            return None
        if isinstance(e, gast.Attribute) and e.attr == "T":
            f = self.fact(e.value)
            return ("array", f[1], f[2][::-1]) if f is not None and f[0] == "array" else None
        if isinstance(e, gast.Call):
            return self.call(e)
        return None

    def binop(self, op: type, a: Fact | None, b: Fact | None) -> Fact | None:
        if a is None or b is None or "npscalar" in (a[0], b[0]):
            return None
        if a[0] == "array" and b[0] == "array" and a[1] != b[1] and () in (a[2], b[2]):
            return None  # a 0-d array of another dtype: NumPy 1 promotes it by its value
        if a[0] == "number" and b[0] == "number":
            if op not in _OPS:
                return None
            if op is gast.Div or (op is not gast.Pow and float in (a[1], b[1])):
                return ("number", float)
            return ("number", int) if op in (gast.Add, gast.Sub, gast.Mult) else None
        if op is gast.MatMult:
            if a[0] != "array" or b[0] != "array":
                return None
            pattern = matmul(a[2], b[2])
            d = _result_dtype(operator.matmul, a[1], b[1]) if pattern is not None else None
            return ("array", d, pattern) if d is not None else None
        f = _OPS.get(op)
        if f is None:
            return None
        pattern = broadcast(a[2] if a[0] == "array" else (), b[2] if b[0] == "array" else ())
        d = _result_dtype(f, a[1], b[1]) if _whole(pattern) else None
        return ("array", d, pattern) if d is not None else None

    def _unary(self, op: np.ufunc, e: gast.Call) -> Fact | None:
        """`op(a)` of a one-argument ufunc: an array of the dtype NumPy gives."""
        if op.nin != 1 or op.nout != 1 or len(e.args) != 1 or e.keywords:
            return None
        a = self.fact(e.args[0])
        if a is None or a[0] != "array":
            return None
        d = _unary_dtype(op, a[1])
        return ("array", d, a[2]) if d is not None else None

    def call(self, e: gast.Call) -> Fact | None:
        f = e.func
        known = f.__dict__.get("s2s_value") if isinstance(f, gast.Name) else None
        if isinstance(known, np.ufunc):  # `act(z)`, act known to hold np.tanh (`functions`)
            return self._unary(known, e)
        if isinstance(f, gast.Name) and f.id not in self.local:
            if f.id == "reduction_count":
                return ("number", int)
            if f.id == "seed" and len(e.args) == 2 and not e.keywords:
                y = self.fact(e.args[0])  # a NumPy scalar's cotangent is the number 1.0
                return ("number", float) if y is not None and y[0] == "npscalar" else None
            return None
        if (
            isinstance(f, gast.Attribute)
            and isinstance(f.value, gast.Name)
            and f.value.id == "np"
            and "np" not in self.local
        ):
            op = getattr(np, f.attr, None)
            if isinstance(op, np.ufunc):
                got = self._unary(op, e)
                if got is not None:
                    return got
            if f.attr in _REDUCTIONS and len(e.args) == 1 and not e.keywords:
                a = self.fact(e.args[0])
                if a is not None and a[0] == "array":
                    d = _reduced_dtype(f.attr, a[1])
                    return ("npscalar", d) if d is not None else None
            return None
        if isinstance(f, gast.Attribute) and f.attr == "sum":
            a = self.fact(f.value)
            if a is None or a[0] != "array":
                return None
            axis = _axis(e)
            if axis is None:
                return None
            if axis == "all":
                return ("npscalar", a[1])
            r = len(a[2])
            if not -r <= axis < r:
                return None
            k = axis % r
            return ("array", a[1], a[2][:k] + a[2][k + 1 :])
        return None

    # -- statements --------------------------------------------------------------------------
    def run(self) -> None:
        if self.nested:
            return
        body = self.body
        # where each name is assigned (a top-level `v = ...`) and the last statement that
        # mentions it: what `fresh` asks
        self.last: dict[str, int] = {}
        self.defined: dict[str, int] = {}
        for i, (s, used) in enumerate(zip(body, self.uses, strict=True)):
            for v in used:
                self.last[v] = i
            if (
                isinstance(s, gast.Assign)
                and len(s.targets) == 1
                and isinstance(s.targets[0], gast.Name)
            ):
                self.defined.setdefault(s.targets[0].id, i)
        out = []
        for i, s in enumerate(body):
            if isinstance(s, gast.Return):
                if i == len(body) - 1 and s.value is not None:
                    s.value = self.returned(s.value)
                out += body[i:]
                break
            new = self.in_place(i)
            for t in new or [s]:
                self.step(t)
                out.append(t)
        self.fn.body = out

    def step(self, s: Any) -> None:
        """Learn what `s` assigns; forget what it may change."""
        if isinstance(s, gast.Expr) and isinstance(s.value, gast.Constant):
            return  # a comment or the docstring
        if isinstance(s, gast.Assign) and len(s.targets) == 1:
            t = s.targets[0]
            if isinstance(t, gast.Name):
                f = self.fact(s.value) if not isinstance(s.value, gast.Dict) else self.dict(s)
                self.forget(s)
                if f is not None:
                    self.env[t.id] = f
                return
            if self.entry_store(s, None):
                return
        if isinstance(s, gast.AugAssign):
            t = s.target
            if isinstance(t, gast.Name):
                old = self.env.get(t.id)
                new = None
                if old is not None and old[0] != "dict":
                    new = self.binop(type(s.op), old, self.fact(s.value))
                    if old[0] == "array" and new != old:
                        new = None  # in place it keeps its dtype and shape, or raises
                self.forget(s)
                if new is not None:
                    self.env[t.id] = new
                return
            if self.entry_store(s, type(s.op)):
                return
        self.forget(s)

    def dict(self, s: gast.Assign) -> Fact | None:
        """`d = {'k': e, ...}` with constant string keys, of a name used only by key (and
        returned through `grad_like`)."""
        v = s.value
        if not all(isinstance(k, gast.Constant) and type(k.value) is str for k in v.keys):
            return None
        t = s.targets[0].id
        if self.stores.get(t) != 1 or not self.used_by_key_only(t):
            return None
        entries = {}
        for k, e in zip(v.keys, v.values, strict=True):
            f = self.fact(e)
            if f is None:
                return None
            entries[k.value] = f
        self.dict_ok.add(t)
        return ("dict", entries)

    def used_by_key_only(self, d: str) -> bool:
        """Every use of the name `d` is a constant key's entry, its one assignment, or an
        argument of `grad_like` in the final return."""
        ret = self.fn.body[-1]
        final = (
            {id(a) for c in walk(ret) if _is_grad_like(c) for a in c.args}
            if isinstance(ret, gast.Return)
            else set()
        )
        keyed = set()
        for n in walk(self.fn):
            if (
                isinstance(n, gast.Subscript)
                and isinstance(n.value, gast.Name)
                and n.value.id == d
                and isinstance(n.slice, gast.Constant)
                and type(n.slice.value) is str
            ):
                keyed.add(id(n.value))
        for n in names(self.fn):
            if n.id == d and id(n) not in keyed and id(n) not in final:
                if isinstance(n.ctx, gast.Store):
                    continue  # its one assignment (counted by the caller)
                return False
        return True

    def entry_store(self, s: Any, op: type | None) -> bool:
        """`d['k'] = e` (or `d['k'] op= e`) into a dict with facts; False for another target."""
        t = s.targets[0] if op is None else s.target
        if not (
            isinstance(t, gast.Subscript)
            and isinstance(t.value, gast.Name)
            and isinstance(t.slice, gast.Constant)
        ):
            return False
        d = self.env.get(t.value.id)
        if d is None or d[0] != "dict" or t.value.id not in self.dict_ok:
            return False
        f = self.fact(s.value)
        if op is not None:
            old = d[1].get(t.slice.value)
            new = self.binop(op, old, f) if old is not None else None
            f = new if new == old or (old is not None and old[0] == "number") else None
        self.forget(s, keep=t.value.id)
        entries = dict(d[1])
        if f is None:
            entries.pop(t.slice.value, None)
        else:
            entries[t.slice.value] = f
        self.env[t.value.id] = ("dict", entries)
        return True

    # -- the final return --------------------------------------------------------------------
    def returned(self, e: Any) -> Any:
        if isinstance(e, gast.Tuple):
            e.elts = [self.returned(x) for x in e.elts]
            return e
        if not _is_grad_like(e) or "grad_like" in self.local:
            return e
        g, x = e.args
        if not (isinstance(g, gast.Name) and isinstance(x, gast.Name)):
            return e
        fg, fx = self.env.get(g.id), self.env.get(x.id)
        if fg is None or fx is None:
            return e
        if fx[0] == "array":
            return name(g.id) if _same_array(fg, fx) else e
        if fx[0] != "dict" or fg[0] != "dict" or g.id not in self.dict_ok:
            return e
        if not all(_same_array(fg[1].get(k), f) for k, f in fx[1].items()):
            return e
        if list(fg[1]) == list(fx[1]):
            return name(g.id)
        keys = list(fx[1])
        return gast.Dict(
            keys=[gast.Constant(value=k, kind=None) for k in keys],
            values=[
                gast.Subscript(
                    value=name(g.id), slice=gast.Constant(value=k, kind=None), ctx=gast.Load()
                )
                for k in keys
            ],
        )

    # -- products in place -------------------------------------------------------------------
    def in_place(self, i: int, s: Any = None, after: Any = None) -> list | None:
        """`[t = e, t op= c]` for the statement `t = e op c` (see the module docstring), and
        `e` itself in place where it is again such an operation of a new array (`d = p - y`
        of a `p` nothing reads again: `d = p; d -= y`). `s`: the statement, if not body[i];
        `after`: what the statement reads after `s` (the `c` of the outer operation)."""
        s = self.body[i] if s is None else s
        if not (
            isinstance(s, gast.Assign)
            and len(s.targets) == 1
            and isinstance(s.targets[0], gast.Name)
            and isinstance(s.value, gast.BinOp)
            and type(s.value.op) in (gast.Add, gast.Sub, gast.Mult, gast.Div)
        ):
            return None
        t, v = s.targets[0].id, s.value
        result = self.fact(v)
        if result is None or result[0] != "array":
            return None
        sides = [(v.left, v.right)]
        if isinstance(v.op, (gast.Add, gast.Mult)):
            sides.append((v.right, v.left))
        for fresh, other in sides:
            if self.fact(fresh) != result or any(n.id == t for n in names(other)):
                continue
            reads = other if after is None else gast.Tuple(elts=[other, after], ctx=gast.Load())
            if self.fresh(fresh, i, reads):
                first = assign(t, fresh, getattr(s, "s2s_line", None))
                second = gast.AugAssign(target=store(t), op=v.op, value=other)
                second.s2s_line = getattr(s, "s2s_line", None)
                self.stores[t] = self.stores.get(t, 0) + 1
                return (self.in_place(i, first, reads) or [first]) + [second]
        return None

    def fresh(self, e: Any, i: int, other: Any) -> bool:
        """Whether `e` (an operand of the statement `i`) is an array that nothing else holds
        and nothing reads after statement `i`."""
        if not isinstance(e, gast.Name):
            return _new_array(e)
        v = e.id
        if v in self.params or self.stores.get(v) != 1 or any(n.id == v for n in names(other)):
            return False
        j = self.defined.get(v)
        if j is None or j >= i or not _new_array(self.body[j].value):
            return False
        if self.last[v] > i:
            return False  # read again
        return all(_reads_only(self.body[k], v) for k in range(j + 1, i) if v in self.uses[k])


def _whole(pattern: Any) -> bool:
    return isinstance(pattern, tuple) and all(a is True or a is False for a in pattern)


def _same_array(f: Fact | None, x: Fact) -> bool:
    """`f`, an adjoint's fact, proves it is an array of `x`'s dtype and shape."""
    return (
        f is not None
        and f[0] == "array"
        and x[0] == "array"
        and f[1] == x[1]
        and _whole(f[2])
        and f[2] == x[2]
        and len(x[2]) >= 1
    )


def _is_grad_like(e: Any) -> bool:
    return (
        isinstance(e, gast.Call)
        and isinstance(e.func, gast.Name)
        and e.func.id == "grad_like"
        and len(e.args) == 2
        and not e.keywords
    )


def _axis(e: gast.Call) -> Any:
    """The constant axis of `a.sum(axis=k)` / `a.sum(k)`, "all" for `a.sum()`, else None."""
    if len(e.args) + len(e.keywords) == 0:
        return "all"
    if len(e.args) == 1 and not e.keywords:
        k = e.args[0]
    elif not e.args and len(e.keywords) == 1 and e.keywords[0].arg == "axis":
        k = e.keywords[0].value
    else:
        return None
    return k.value if isinstance(k, gast.Constant) and type(k.value) is int else None


def _new_array(e: Any) -> bool:
    """`e` makes a new array: arithmetic, or a NumPy ufunc of one argument."""
    if isinstance(e, gast.BinOp):
        return True
    if isinstance(e, gast.UnaryOp):
        return isinstance(e.op, (gast.USub, gast.UAdd))
    return isinstance(e, gast.Call) and _pure_numpy(e)


def _reads_only(s: Any, v: str) -> bool:
    """Every occurrence of the name `v` in `s` reads its elements into a new value (an operand
    of arithmetic or a comparison, an argument of a NumPy ufunc or reduction, the receiver of
    a reduction, a shape read): no view, alias, container or call keeps it."""
    for parent in walk(s):
        for field, child in _fields(parent):
            if not (isinstance(child, gast.Name) and child.id == v):
                continue
            if not _reading(parent, field):
                return False
    return True


def _fields(node: Any) -> list[tuple[str, Any]]:
    out = []
    for f in node._fields:
        x = getattr(node, f, None)
        if isinstance(x, list):
            out += [(f, y) for y in x]
        elif x is not None:
            out.append((f, x))
    return out


def _reading(parent: Any, field: str) -> bool:
    if isinstance(parent, (gast.BinOp, gast.UnaryOp, gast.Compare)):
        return True
    if isinstance(parent, gast.Attribute):
        return parent.attr in _SHAPE_ATTRS or parent.attr in _FRESH_METHODS
    if isinstance(parent, gast.Call) and field == "args":
        return _pure_call(parent)
    return False


def _pure_numpy(e: gast.Call) -> bool:
    """`np.f(a, ...)`: a NumPy ufunc with its inputs only (no `out`), or a reduction."""
    f = e.func
    if not (
        isinstance(f, gast.Attribute) and isinstance(f.value, gast.Name) and f.value.id == "np"
    ):
        return False
    op = getattr(np, f.attr, None)
    if isinstance(op, np.ufunc):
        return len(e.args) == op.nin and op.nout == 1 and not e.keywords
    return f.attr in _REDUCTIONS and all(k.arg in ("axis", "keepdims") for k in e.keywords)


def _pure_call(e: gast.Call) -> bool:
    """A call that neither keeps nor writes into its arguments: a pure NumPy function, or a
    helper that reads shapes."""
    f = e.func
    if isinstance(f, gast.Name):
        return f.id in _READING_HELPERS
    return _pure_numpy(e)


def _disturbed(s: Any, tree: list | None = None) -> set[str]:
    """The names whose facts `s` may change: those it assigns, assigns into or deletes, and
    those it hands to a call (a helper may write into its argument). `tree`: `s`'s nodes, where
    the caller has them."""
    out = set()
    for n in walk(s) if tree is None else tree:
        if isinstance(n, gast.Name) and not isinstance(n.ctx, gast.Load):
            out.add(n.id)
        elif isinstance(n, (gast.Subscript, gast.Attribute)) and not isinstance(n.ctx, gast.Load):
            base = n.value
            while isinstance(base, (gast.Subscript, gast.Attribute)):
                base = base.value
            if isinstance(base, gast.Name):
                out.add(base.id)
        elif isinstance(n, gast.AugAssign) and isinstance(n.target, gast.Name):
            out.add(n.target.id)
        elif isinstance(n, gast.Call) and not _pure_call(n):
            for a in [*n.args, *(k.value for k in n.keywords)]:
                if isinstance(a, gast.Name):
                    out.add(a.id)
            if isinstance(n.func, gast.Attribute) and isinstance(n.func.value, gast.Name):
                if n.func.attr not in _FRESH_METHODS:
                    out.add(n.func.value.id)
    return out


def finish(fn: gast.FunctionDef, facts: dict[str, Fact]) -> None:
    """Drop `grad_like` where it has nothing to do and make products in place in the
    generated gradient `fn`, from the facts of its parameters (`argument_facts`)."""
    if facts:
        _Pass(fn, facts).run()
