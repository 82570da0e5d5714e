"""Shape facts: what a call's array arguments tell about the shapes inside the function.

A gradient call is specialized to the *pattern* of its arguments' shapes: for each array its
rank and which of its axes have length 1 (a dict of arrays: the pattern of each entry). That
is all NumPy broadcasting looks at: two axes of length other than 1 that broadcast together
are equal, or the primal itself raises. So from patterns alone the pattern of every
intermediate the rules below can follow is known, and the reverse transformer uses it to drop
helpers whose work is then known to be nothing:

* `unbroadcast(g, x)` where `x` has the pattern of the result is `g` (and `x` need not be kept
  for its shape);
* `matmul_grad_a(g, a, b)` of two matrices is `g @ b.T`, `matmul_grad_b(g, a, b)` is
  `a.T @ g`.

A pattern is a tuple of booleans, one per axis, True where the axis has length 1 (`()`: a
Python number or a 0-d array). A name the rules cannot follow has no pattern, and keeps the
generic helper: facts are only ever used where they are proven. Different lengths with one
pattern (a batch of 32, then of 16) share the generated code.

While inferring, an axis may also be None: its length may or may not be 1 (a part of an axis,
`z[:, :k]`, or two assignments that disagree). Such an axis still helps: broadcast with an
axis whose length is not 1 it gives that axis (`f * c`, c's axis not 1, has c's pattern). The
facts handed on are whole patterns only.
"""

from __future__ import annotations

from typing import Any

import gast
import numpy as np

from .analyze import walk_stmts
from .nodes import children, loop_items, walk
from .normalize import CoreFunction

Pattern = tuple  # tuple[bool, ...] (tuple[bool | None, ...] while inferring)
_TOP = "top"  # not yet known (the fixpoint starts here)

#: full reductions: one array argument, no axis, gives a 0-d result
_FULL_REDUCTIONS = {np.sum, np.mean, np.max, np.min, np.prod, np.amax, np.amin}
_LIKE = {np.zeros_like, np.ones_like, np.empty_like}
_FILLED = {np.zeros, np.ones, np.empty}


def pattern_of(value: Any) -> Any:
    """The pattern of a call's argument: a tuple for an array, `("dict", ((key, pattern),
    ...))` for a dict with string keys whose values all have one, else None."""
    shape = getattr(value, "shape", None)
    if type(shape) is tuple:
        return tuple(d == 1 for d in shape)
    if type(value) in (int, float):
        return ()
    if type(value) is dict:
        items = []
        for k, v in value.items():
            if type(k) is not str:
                return None
            p = pattern_of(v)
            if p is None or p[:1] == ("dict",):
                return None
            items.append((k, p))
        return ("dict", tuple(items))
    return None


def _array(v: Any) -> Any:
    """The pattern of a value used as an operand: an int (`("dim", ...)`) is a number; a
    shape tuple (`("shape", ...)`) is not followed."""
    if isinstance(v, tuple) and v[:1] == ("dim",):
        return ()
    if isinstance(v, tuple) and v[:1] == ("shape",):
        return None
    return v


def broadcast(*shapes: Any) -> Any:
    """The pattern of the broadcast of operands with these patterns (None if one is unknown)."""
    shapes = tuple(_array(s) for s in shapes)
    if any(s is None for s in shapes):
        return None
    if any(s is _TOP for s in shapes):
        return _TOP
    rank = max(len(s) for s in shapes)
    out = []
    for axis in range(rank):
        ones = [s[axis - rank + len(s)] for s in shapes if axis - rank + len(s) >= 0]
        # an axis of length other than 1 gives the result its length (or the primal raises)
        out.append(False if False in ones else None if None in ones else True)
    return tuple(out)


def _is_pattern(v: Any) -> bool:
    return isinstance(v, tuple) and all(a is True or a is False or a is None for a in v)


def _join(a: Any, b: Any) -> Any:
    """What two assignments of one name have in common: equal patterns, or one rank with the
    axes they disagree on unknown; else nothing (None)."""
    if a == b:
        return a
    if _is_pattern(a) and _is_pattern(b) and len(a) == len(b):
        return tuple(x if x == y else None for x, y in zip(a, b, strict=True))
    return None


def matmul(a: Any, b: Any) -> Any:
    a, b = _array(a), _array(b)
    if a is None or b is None:
        return None
    if a is _TOP or b is _TOP:
        return _TOP
    if len(a) == 2 and len(b) == 2:
        return (a[0], b[1])
    if len(a) == 1 and len(b) == 2:
        return (b[1],)
    if len(a) == 2 and len(b) == 1:
        return (a[0],)
    if len(a) == 1 and len(b) == 1:
        return ()
    return None


class _Inference:
    def __init__(self, core: CoreFunction, facts: dict[str, Any]) -> None:
        self.core = core
        self.local = set(core.locals) | set(core.params)
        self.dicts: dict[str, dict[str, Pattern]] = {}
        self.env: dict[str, Any] = {}
        self.ints: set[str] = set()  # names that always hold a Python int (range loop vars)
        defs: dict[str, list] = {}
        handled: set[int] = set()  # ids of the Name nodes whose assignment `defs` follows
        for s in walk_stmts(core.body):
            if isinstance(s, gast.For) and isinstance(s.target, gast.Name):
                it = loop_items(s)
                is_range = (
                    isinstance(it, gast.Call)
                    and isinstance(it.func, gast.Name)
                    and it.func.id not in self.local
                    and core.namespace.resolve(it.func) is range
                )
                defs.setdefault(s.target.id, []).append("int" if is_range else None)
                handled.add(id(s.target))
            elif (
                isinstance(s, gast.Assign)
                and len(s.targets) == 1
                and isinstance(s.targets[0], gast.Name)
            ):
                defs.setdefault(s.targets[0].id, []).append(s.value)
                handled.add(id(s.targets[0]))
        # any other binding of a name (unpacking, ...) is one the rules do not follow
        parents: dict[int, Any] = {}
        for s in core.body:
            for node in walk(s):
                for child in children(node):
                    parents[id(child)] = node
                if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
                    if id(node) not in handled:
                        defs.setdefault(node.id, []).append(None)
                if isinstance(node, gast.Attribute) and (
                    isinstance(node.ctx, gast.Store) or node.attr == "resize"
                ):
                    # `x.shape = ...` / `x.resize(...)` reshape an array in place (and its
                    # aliases): no facts at all
                    self.defs, self.env = {}, {}
                    return
        self.parents = parents
        for p in core.params:
            fact = facts.get(p)
            if isinstance(fact, tuple) and fact[:1] == ("dict",):
                if p not in defs and self.only_read_by_key(p):
                    self.dicts[p] = dict(fact[1])
                defs.setdefault(p, []).append(None)
            else:
                defs.setdefault(p, []).append(("fact", fact))
        self.ints = {n for n, ds in defs.items() if ds and all(d == "int" for d in ds)}
        self.defs = defs
        self.env = {n: _TOP for n in defs}

    def only_read_by_key(self, p: str) -> bool:
        """Whether dict parameter `p` is only ever read as `p["key"]`: never written into,
        never handed to a call or another name (which could write into it)."""
        for s in self.core.body:
            for node in walk(s):
                if not (isinstance(node, gast.Name) and node.id == p):
                    continue
                up = self.parents.get(id(node))
                if not (
                    isinstance(up, gast.Subscript)
                    and up.value is node
                    and isinstance(up.ctx, gast.Load)
                    and isinstance(up.slice, gast.Constant)
                    and type(up.slice.value) is str
                ):
                    return False
        return True

    def run(self) -> dict[str, Pattern]:
        changed = True
        while changed:
            changed = False
            for n, ds in self.defs.items():
                new: Any = _TOP
                for d in ds:
                    v = self.define(d)
                    if v is _TOP:
                        continue
                    new = v if new is _TOP else _join(new, v)
                    if new is None:
                        break
                if new != self.env[n]:
                    self.env[n] = new
                    changed = True
        out = {n: _array(v) for n, v in self.env.items() if v is not _TOP}
        # facts are whole patterns: an axis whose length may or may not be 1 (`z[:, :k]`) only
        # helps infer others (`f * c`, where c's axis is not 1)
        return {n: v for n, v in out.items() if v is not None and None not in v}

    def define(self, d: Any) -> Any:
        if d is None:
            return None
        if d == "int":
            return ()
        if isinstance(d, tuple) and d[:1] == ("fact",):
            return d[1]
        return self.expr(d)

    # -- expressions -----------------------------------------------------------------------
    def expr(self, e: Any) -> Any:
        if isinstance(e, gast.Constant):
            if type(e.value) is int:
                return ("dim", e.value == 1)
            return () if type(e.value) in (float, bool) else None
        if isinstance(e, gast.Name):
            return self.env.get(e.id) if e.id in self.local else None
        if isinstance(e, gast.Tuple):
            dims = [self.expr(el) for el in e.elts]
            if any(d is _TOP for d in dims):
                return _TOP
            if all(isinstance(d, tuple) and d[:1] == ("dim",) for d in dims):
                return ("shape", tuple(d[1] for d in dims))
            return None
        if isinstance(e, gast.BinOp):
            left, right = self.expr(e.left), self.expr(e.right)
            if isinstance(e.op, gast.MatMult):
                return matmul(left, right)
            if isinstance(e.op, (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.Pow)):
                return broadcast(left, right)
            return None
        if isinstance(e, gast.UnaryOp) and isinstance(e.op, (gast.USub, gast.UAdd)):
            return broadcast(self.expr(e.operand))
        if isinstance(e, gast.Attribute):
            inner = _array(self.expr(e.value))
            if inner is None or inner is _TOP:
                return inner
            if e.attr == "T":
                return inner[::-1]
            if e.attr == "shape":
                return ("shape", inner)
            return None
        if isinstance(e, gast.Subscript):
            return self.subscript(e)
        if isinstance(e, gast.Call):
            return self.call(e)
        return None

    def subscript(self, e: gast.Subscript) -> Any:
        value, index = e.value, e.slice
        if isinstance(value, gast.Name) and value.id in self.dicts:
            if isinstance(index, gast.Constant) and type(index.value) is str:
                return self.dicts[value.id].get(index.value)
            return None
        inner = self.expr(value)
        if isinstance(inner, tuple) and inner[:1] == ("shape",):
            if isinstance(index, gast.Constant) and type(index.value) is int:
                k, axes = index.value, inner[1]
                return ("dim", axes[k]) if -len(axes) <= k < len(axes) else None
            return None
        inner = _array(inner)
        if inner is None or inner is _TOP:
            return inner
        parts = index.elts if isinstance(index, gast.Tuple) else [index]
        if len(parts) > len(inner):
            return None
        out = []
        for axis, part in zip(inner, parts, strict=False):
            if self.is_int(part):
                continue  # the axis goes
            if not isinstance(part, gast.Slice):
                return None  # an array, None, ...: not followed
            k = part.upper
            if isinstance(k, gast.Name) and self.env.get(k.id) is _TOP:
                return _TOP  # its bound not yet known (the fixpoint comes back)
            whole = part.lower is None and part.upper is None and part.step is None
            if whole or (axis is False and self.leading_part(part)):
                out.append(axis)
            else:
                out.append(None)  # a part of an axis: of unknown length
        return tuple(out) + inner[len(parts) :]

    def leading_part(self, part: gast.Slice) -> bool:
        """`:k` with k a length other than 1 (a `.shape[j]` of pattern False) or an integer
        written in the source, 0 or at least 2: of an axis whose length is not 1 either, it
        takes min(k, length), which is not 1."""
        if part.step is not None or part.upper is None:
            return False
        lower = part.lower
        if lower is not None and not (isinstance(lower, gast.Constant) and lower.value == 0):
            return False
        k = part.upper
        if isinstance(k, gast.Constant):
            return type(k.value) is int and k.value >= 0 and k.value != 1
        if not (isinstance(k, gast.Name) and k.id in self.local):
            return False
        defs = self.defs.get(k.id) or [None]
        return self.env.get(k.id) == ("dim", False) and all(self.is_length(d) for d in defs)

    def is_length(self, d: Any) -> bool:
        """`d` is `s[j]` with `s` a shape (`x.shape`): a length, never negative."""
        if not (isinstance(d, gast.Subscript) and isinstance(d.slice, gast.Constant)):
            return False
        inner = self.expr(d.value)
        return isinstance(inner, tuple) and inner[:1] == ("shape",)

    def is_int(self, e: Any) -> bool:
        if isinstance(e, gast.Constant):
            return type(e.value) is int
        return isinstance(e, gast.Name) and e.id in self.ints

    def call(self, e: gast.Call) -> Any:
        f = e.func
        if isinstance(f, gast.Name) and f.id in self.local and "s2s_value" not in f.__dict__:
            return None  # (a name known to hold a function resolves to it: `functions`)
        if isinstance(f, gast.Attribute) and not getattr(f, "s2s_global", False):
            return None  # a method of a local value
        obj = self.core.namespace.resolve(f)
        args = e.args
        if isinstance(obj, np.ufunc):
            if e.keywords or len(args) != obj.nin or obj.nout != 1:
                return None
            return broadcast(*(self.expr(a) for a in args))
        try:
            hashable = hash(obj) is not None
        except TypeError:
            hashable = False
        if not hashable:
            return None
        if obj in _FULL_REDUCTIONS and len(args) == 1 and not e.keywords:
            inner = _array(self.expr(args[0]))
            return inner if inner is None or inner is _TOP else ()
        if obj in _LIKE and len(args) == 1:
            keywords = {k.arg: k.value for k in e.keywords}
            if set(keywords) <= {"dtype"}:
                return _array(self.expr(args[0]))
            if set(keywords) <= {"dtype", "shape"}:  # made like x (on its device), shaped
                return self.dims(keywords["shape"])
        if obj in _FILLED and len(args) == 1 and all(k.arg == "dtype" for k in e.keywords):
            return self.dims(args[0])
        if obj is np.dot and len(args) == 2 and not e.keywords:
            a, b = _array(self.expr(args[0])), _array(self.expr(args[1]))
            if a in (None, _TOP) or b in (None, _TOP):
                return None if None in (a, b) else _TOP
            return matmul(a, b) if len(a) in (1, 2) and len(b) in (1, 2) else None
        if obj is np.outer and len(args) == 2 and not e.keywords:
            a, b = _array(self.expr(args[0])), _array(self.expr(args[1]))
            if a is None or b is None:
                return None
            if a is _TOP or b is _TOP:
                return _TOP
            return (a[0], b[0]) if len(a) == 1 and len(b) == 1 else None
        if obj is np.matmul and len(args) == 2 and not e.keywords:
            return matmul(self.expr(args[0]), self.expr(args[1]))
        return None

    def dims(self, e: Any) -> Any:
        """The pattern of an array made with shape `e` (an int or a tuple of ints)."""
        v = self.expr(e)
        if v is _TOP:
            return v
        if isinstance(v, tuple) and v[:1] == ("shape",):
            return v[1]
        if isinstance(v, tuple) and v[:1] == ("dim",):
            return (v[1],)
        return None


class Facts(dict):
    """The pattern of each name (see `infer`); `dicts` names the dict parameters that the
    function only ever reads by key (never rebinds, writes into or hands on)."""

    dicts: frozenset = frozenset()


def infer(core: CoreFunction, facts: dict[str, Any]) -> Facts:
    """The pattern of each name that holds one fixed pattern wherever it is assigned, given the
    patterns of the parameters (`facts`; see `pattern_of`)."""
    if not facts:
        return Facts()
    inference = _Inference(core, facts)
    out = Facts(inference.run())
    out.dicts = frozenset(inference.dicts)
    return out


def same_shape(x: Any, y: Any) -> bool:
    """Whether an operand with pattern `x` of a broadcast with result pattern `y` has the
    result's very shape (axes other than 1 broadcast only with equal or length-1 axes)."""
    return x is not None and y is not None and x == y


def leading_axes(x: Any, y: Any) -> tuple[int, ...]:
    """The axes an operand with pattern `x` (an array, not 0-d) was broadcast along to give the
    result pattern `y`, when they are all leading axes (its own axes have the result's
    shape): summing over them undoes the broadcast. Otherwise ()."""
    if not x or y is None or len(y) <= len(x) or y[len(y) - len(x) :] != x:
        return ()
    return tuple(range(len(y) - len(x)))
