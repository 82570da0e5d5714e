"""Which names may share an array, a list or a dict, and the writes s2s refuses because of it.

s2s differentiates values: after `a = X[0]` the derivative rules follow the value `a` was given.
NumPy and Python share storage instead: `a` is a view of X's memory, so a later `X[0] = ...`
changes `a` as well. The two readings agree until something writes into storage that another
name still read later shares. This module finds such writes before anything runs:

* `check_writes_through_views`: a write into a name that may itself be a view or an alias
  (`v = x[:2]; v[0] = ...`, `e = d; e['w'] = ...`), which would change the other name's value;
* `check_shared_writes`: a write into an array, list or dict while another name that may share
  it (a view, the same object, an element updated in place, a list holding it) is read later.

Both refuse with an `UnsupportedSyntaxError` naming the line and what to write instead, or, where
only the run time can tell (`v += ...` is a rebinding for a number and a write for an array),
mark the statement for a guard that `normalize` emits.

`check_shared_writes` is a small points-to analysis over the source tree, flow-sensitive and
run before normalization. Each place that makes a value (an expression, a parameter) stands for
an abstract object; the most recent object a place made is kept apart from the older ones it made
in earlier loop iterations (the "recency" abstraction), so `prev = buf; buf = np.zeros(n)` does
not confuse the two buffers. Two kinds of edges relate objects: *view* (two objects share
memory: `X[0]`, `X.T`, `X.reshape(...)`) and *element* (a list, dict or tuple holds an object).
A write reaches every object sharing memory with its target; a later-read name is affected when
its objects lead to one of those (through views either way, or from a holder to what it holds).
Liveness ("is it read later?") comes from a backward pass over the same tree.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import math
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import gast
import numpy as np

from .errors import S2SError, UnsupportedSyntaxError
from .nodes import walk
from .parse import MISSING, Namespace, SourceInfo, parse_function

MUTATING_METHODS = {
    "append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault", "popitem",
    "sort", "reverse", "add", "discard", "fill", "resize", "put", "itemset", "setflags",
}  # fmt: skip
# the mutating methods of NumPy arrays (the others are a list's, a dict's or a set's)
ARRAY_MUTATORS = {"fill", "resize", "put", "itemset", "setflags", "sort"}

# Calls whose result may share memory with their first argument (NumPy returns views).
VIEW_FUNCS = {
    "reshape", "ravel", "transpose", "view", "squeeze", "swapaxes", "moveaxis", "diagonal",
    "expand_dims", "broadcast_to", "atleast_1d", "atleast_2d", "atleast_3d", "asarray",
    "asanyarray", "real", "imag", "flip", "fliplr", "flipud", "rollaxis", "matrix_transpose",
    "permute_dims",
}  # fmt: skip
_VIEW_ATTRS = {"T", "mT", "real", "imag", "flat"}
# attributes and methods whose value is new (or a number): they share nothing
_FRESH_ATTRS = {"shape", "ndim", "size", "dtype", "itemsize", "nbytes", "strides"}
_FRESH_METHODS = {
    "sum", "mean", "prod", "std", "var", "max", "min", "argmax", "argmin", "cumsum", "cumprod",
    "dot", "astype", "clip", "round", "all", "any", "item", "trace", "conj", "conjugate",
    "nonzero", "argsort", "repeat", "flatten", "count", "index", "tolist", "__len__",
}  # fmt: skip
_FRESH_BUILTINS = {
    builtins.abs, builtins.bool, builtins.float, builtins.int, builtins.len, builtins.range,
    builtins.round, builtins.isinstance, builtins.print, builtins.sum, builtins.str,
    builtins.repr, builtins.any, builtins.all, builtins.divmod, builtins.pow,
}  # fmt: skip


def target_names(target: Any) -> set[str]:
    return {n.id for n in walk(target) if isinstance(n, gast.Name)}


def may_alias(value: Any) -> bool:
    """Whether `v = value` may make `v` share memory with another array (an alias or a view)."""
    if isinstance(value, (gast.Name, gast.Subscript)):
        return True
    if isinstance(value, gast.IfExp):
        return may_alias(value.body) or may_alias(value.orelse)
    if isinstance(value, gast.Attribute):
        return value.attr in _VIEW_ATTRS
    if isinstance(value, gast.Call) and isinstance(value.func, (gast.Attribute, gast.Name)):
        fname = value.func.attr if isinstance(value.func, gast.Attribute) else value.func.id
        return fname in VIEW_FUNCS
    return False


def _is_view(value: Any) -> bool:
    """`x[a:b]`, `x.reshape(...)`, `x.T`: a view for sure when `x` is an array (not a mere alias,
    and not an element)."""
    if isinstance(value, gast.Subscript):
        return any(isinstance(n, gast.Slice) for n in walk(value.slice))
    return may_alias(value) and not isinstance(value, gast.Name)


def containers(nodes: Iterable[Any]) -> dict[str, str]:
    """The names known to hold a dict or a list ("dict" / "list"), for the words of the alias
    refusal: every assignment to the name (wherever it is) a display, a comprehension, a
    `.copy()` or a slice of such a name, or such a name itself. Loop and comprehension targets,
    parameters and anything else: unknown (absent). `nodes`: every node of the body."""
    values: dict[str, list] = {}
    for n in nodes:
        if isinstance(n, gast.Assign):
            for t in n.targets:
                if isinstance(t, gast.Name):
                    values.setdefault(t.id, []).append(n.value)
                elif isinstance(t, (gast.Tuple, gast.List)):
                    for v in target_names(t):
                        values.setdefault(v, []).append(None)
        elif isinstance(n, (gast.For, gast.comprehension)):
            for v in target_names(n.target):
                values.setdefault(v, []).append(None)

    kinds: dict[str, str] = {}

    def kind(value: Any) -> str | None:
        if isinstance(value, (gast.Dict, gast.DictComp)):
            return "dict"
        if isinstance(value, (gast.List, gast.ListComp)):
            return "list"
        if isinstance(value, gast.Name):
            return kinds.get(value.id)
        if (
            isinstance(value, gast.Call)
            and isinstance(value.func, gast.Attribute)
            and value.func.attr == "copy"
            and not value.args
        ):
            return kind(value.func.value)
        if isinstance(value, gast.Subscript) and isinstance(value.slice, gast.Slice):
            return "list" if kind(value.value) == "list" else None
        return None

    changed = True
    while changed:
        changed = False
        for v, vals in values.items():
            found = {kind(x) for x in vals}
            if len(found) == 1 and None not in found and v not in kinds:
                kinds[v] = found.pop()
                changed = True
    return kinds


def check_writes_through_views(
    stmts: list,
    views: set[str],
    info: SourceInfo,
    iterated: frozenset = frozenset(),
    kinds: dict[str, str] | None = None,
) -> set[str]:
    """Refuse an in-place write (`v[i] = ...`, `v[i] += ...`, `v.append(...)` and the other
    mutating methods) into a name that may be an alias or a view of another array, dict or list
    (`v = x`, `v = x[:2]`, `v = x.reshape(...)`, `for v in x`): the write would change the other
    one too, which s2s does not track. Returns the names that may be views after `stmts` (a
    forward walk; loop bodies twice, for what the next iteration sees). `iterated`: the names
    enclosing loops iterate over (`for e in a:`), whose `a += ...` would change the array the
    loop reads its next rows from: guarded like an alias's. `kinds`: `containers(stmts)`
    (computed at the top), which words the refusal for dicts and lists."""
    if kinds is None:
        kinds = containers(walk(gast.Module(body=stmts, type_ignores=[])))

    def refuse(node: Any, base: str) -> Exception:
        index = node.slice if isinstance(node, gast.Subscript) else None
        keyed = isinstance(index, gast.Constant) and isinstance(index.value, str)
        kind = "dict" if keyed else kinds.get(base)
        if kind is None and isinstance(node, gast.Attribute) and node.attr not in ARRAY_MUTATORS:
            kind = "dict" if node.attr in ("update", "setdefault", "popitem") else "list"
        if kind is None:
            return info.error(
                UnsupportedSyntaxError,
                node,
                f"writing into {base!r}, which may be a view of (or the same array as) another "
                "array: the write would change that array too, which s2s cannot differentiate",
                f"make {base!r} its own array first: {base} = <expression>.copy()",
            )
        return info.error(
            UnsupportedSyntaxError,
            node,
            f"writing into {base!r}, which may be the same {kind} as another name (an "
            f"assignment or a loop copies no {kind}): the write would change that {kind} too, "
            "which s2s cannot differentiate",
            f"make {base!r} its own {kind} first: {base} = <{kind}>.copy()",
        )

    def check(body: list, seen: set[str], inner: frozenset) -> set[str]:
        return check_writes_through_views(body, seen, info, inner, kinds)

    for s in stmts:
        for c in walk(s.value) if isinstance(s, (gast.Expr, gast.Assign)) else ():
            # `v.append(...)`, `v.update(...)`, `w = v.pop()`: a write into what `v` holds
            if (
                isinstance(c, gast.Call)
                and isinstance(c.func, gast.Attribute)
                and isinstance(c.func.value, gast.Name)
                and c.func.value.id in views
                and c.func.attr in MUTATING_METHODS
            ):
                raise refuse(c.func, c.func.value.id)
        if isinstance(s, (gast.Assign, gast.AugAssign)):
            targets = s.targets if isinstance(s, gast.Assign) else [s.target]
            for t in targets:
                if (
                    isinstance(t, gast.Subscript)
                    and isinstance(t.value, gast.Name)
                    and t.value.id in views
                ):
                    raise refuse(t, t.value.id)
            if (
                isinstance(s, gast.AugAssign)
                and isinstance(s.target, gast.Name)
                and s.target.id + "[:]" in views
            ):
                raise refuse(s.target, s.target.id)  # NumPy's `+=` writes into the view
            if isinstance(s, gast.AugAssign) and isinstance(s.target, gast.Name):
                # `v = x; v += 1.0`: a rebinding for numbers, a write into x's array for arrays;
                # which one is known only at run time (see `Normalizer.aug_assign`)
                s.s2s_alias_guard = s.target.id in views or s.target.id in iterated
            if isinstance(s, gast.Assign):
                for t in targets:
                    if isinstance(t, gast.Subscript):
                        continue
                    for n in target_names(t):
                        views.discard(n + "[:]")
                        if isinstance(t, gast.Name) and (may_alias(s.value) or len(targets) > 1):
                            views.add(n)
                            if _is_view(s.value):
                                views.add(n + "[:]")
                        elif isinstance(t, (gast.Tuple, gast.List)) and not isinstance(
                            s.value, (gast.Tuple, gast.List)
                        ):
                            views.add(n)  # rows of an array
                        else:
                            views.discard(n)
        elif isinstance(s, gast.For):
            iterates_range = (
                isinstance(s.iter, gast.Call)
                and isinstance(s.iter.func, gast.Name)
                and s.iter.func.id == "range"
            )
            inner = iterated
            if not iterates_range:  # (a range is made once: its bounds may change freely)
                inner = inner | {n.id for n in walk(s.iter) if isinstance(n, gast.Name)}
            for _ in range(2):
                views |= set() if iterates_range else target_names(s.target)
                views |= check(s.body, set(views), inner)
            views |= check(s.orelse, set(views), iterated)
        elif isinstance(s, gast.While):
            for _ in range(2):
                views |= check(s.body, set(views), iterated)
            views |= check(s.orelse, set(views), iterated)
        elif isinstance(s, gast.If):
            views |= check(s.body, set(views), iterated) | check(s.orelse, set(views), iterated)
    return views


# ---------------------------------------------------------------------------------------------
# liveness: which names a later statement may still read


def _reads(node: Any) -> set[str]:
    return {
        n.id
        for n in walk(node)
        if isinstance(n, gast.Name) and not isinstance(n.ctx, (gast.Store, gast.Del))
    }


def _reads_outside(stmt: Any, node: Any) -> set[str]:
    """The names `stmt` reads outside `node`, one of its parts."""
    inside = {id(n) for n in walk(node)}
    return {
        n.id
        for n in walk(stmt)
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and id(n) not in inside
    }


def _kills(s: Any) -> set[str]:
    """The names a simple statement surely rebinds (not `+=`: it reads the name first)."""
    if isinstance(s, gast.Assign):
        return {n for t in s.targets for n in _bound(t)}
    if isinstance(s, gast.AnnAssign) and s.value is not None:
        return _bound(s.target)
    return set()


def _bound(target: Any) -> set[str]:
    if isinstance(target, gast.Name):
        return {target.id}
    if isinstance(target, (gast.Tuple, gast.List)):
        return {n for e in target.elts for n in _bound(e)}
    if isinstance(target, gast.Starred):
        return _bound(target.value)
    return set()  # a subscript or an attribute: a write, not a rebinding


class _Liveness:
    """`after[id(s)]`: the names that may be read after statement `s` runs, before being bound
    again (a backward pass; loops to a fixed point; `break` and `continue` jump)."""

    def __init__(self, body: list) -> None:
        self.after: dict[int, frozenset[str]] = {}
        self.read: dict[int, set[str]] = {}
        self.block(body, set(), set(), set())

    def reads(self, node: Any) -> set[str]:
        found = self.read.get(id(node))
        if found is None:
            found = self.read[id(node)] = _reads(node)
        return found

    def block(self, stmts: list, out: set[str], brk: set[str], cont: set[str]) -> set[str]:
        live = set(out)
        for s in reversed(stmts):
            self.after[id(s)] = frozenset(live)
            live = self.stmt(s, live, brk, cont)
        return live

    def stmt(self, s: Any, live: set[str], brk: set[str], cont: set[str]) -> set[str]:
        if isinstance(s, (gast.For, gast.While)):
            header = s.iter if isinstance(s, gast.For) else s.test
            head = self.block(s.orelse, live, brk, cont) | self.reads(header)
            bound = _bound(s.target) if isinstance(s, gast.For) else set()
            while True:  # the body runs again (its target bound anew) from its end or `continue`
                new = head | (self.block(s.body, head, live, head) - bound)
                if new == head:
                    return head
                head = new
        if isinstance(s, gast.If):
            both = self.block(s.body, live, brk, cont) | self.block(s.orelse, live, brk, cont)
            return both | self.reads(s.test)
        if isinstance(s, gast.With):
            return self.block(s.body, live, brk, cont) | _reads(gast.Module(s.items, []))
        if isinstance(s, gast.Break):
            return set(brk)
        if isinstance(s, gast.Continue):
            return set(cont)
        if isinstance(s, (gast.Return, gast.Raise)):
            return self.reads(s)
        blocks = [getattr(s, f, None) for f in ("body", "orelse", "finalbody", "handlers")]
        if any(isinstance(b, list) and b for b in blocks):  # try, a nested def: everything
            every = live | self.reads(s)
            for b in blocks:
                for inner in b if isinstance(b, list) else ():
                    if isinstance(inner, gast.stmt):
                        self.block([inner], every, every, every)
                    else:  # an except handler
                        self.block(inner.body, every, every, every)
            return every
        return (live - _kills(s)) | self.reads(s)


# ---------------------------------------------------------------------------------------------
# the points-to state


class _State:
    """What each name may hold (`env`: name -> abstract objects) and how objects relate:
    `view` (pairs sharing memory, both orders stored) and `elem` (holder, held)."""

    __slots__ = ("env", "view", "elem")

    def __init__(self, env: dict, view: set, elem: set) -> None:
        self.env: dict[str, frozenset[int]] = env
        self.view: set[tuple[int, int]] = view
        self.elem: set[tuple[int, int]] = elem

    def copy(self) -> _State:
        return _State(dict(self.env), set(self.view), set(self.elem))

    def join(self, other: _State) -> None:
        for n, objs in other.env.items():
            self.env[n] = self.env.get(n, frozenset()) | objs
        self.view |= other.view
        self.elem |= other.elem

    def same(self, other: _State) -> bool:
        return self.env == other.env and self.view == other.view and self.elem == other.elem


_MAX_DEPTH = 3  # an element of an element of an element: past that, the object stands for itself


class _Shared(Exception):
    def __init__(
        self,
        stmt: Any,
        base: str,
        other: str,
        relation: str,
        node: Any,
        callee: tuple[str, str] | None,
    ) -> None:
        self.stmt, self.base, self.other, self.relation = stmt, base, other, relation
        self.node, self.callee = node, callee


class _Sharing:
    """The forward walk of `check_shared_writes`."""

    def __init__(
        self,
        body: list,
        info: SourceInfo,
        namespace: Namespace | None,
        summarizing: dict | None = None,
        params: list[str] | None = None,
        nodes: list | None = None,
    ) -> None:
        self.info = info
        self.namespace = namespace
        # `params` given: summarize the function (does its result share an argument's storage?)
        # instead of checking it; `summarizing`: the functions being summarized (recursion)
        self.summarizing = summarizing or {}
        self.params = params
        self.returns_shared = False
        self.writes: set[str] = set()  # (summarizing) the parameters written into in place
        self.augments: set[str] = set()  # (summarizing) the parameters `p += ...`
        self.array_sites: set[int] = set()
        # `v = a[i]` of an array: a number (1-D) or a row, a view (2-D); only the run time knows.
        # object -> the statement that binds it
        self.maybe_numbers: dict[int, Any] = {}
        self.mixed_sites: set[int] = set()
        if nodes is None:
            nodes = list(walk(gast.Module(body=body, type_ignores=[])))
        self.kinds = containers(nodes)
        for n in nodes:  # `d['w']`: `d` is a dict
            if (
                isinstance(n, gast.Subscript)
                and isinstance(n.value, gast.Name)
                and isinstance(n.slice, gast.Constant)
                and isinstance(n.slice.value, str)
            ):
                self.kinds.setdefault(n.value.id, "dict")
        self.liveness = _Liveness(body)
        self.assigns = [n for n in nodes if isinstance(n, gast.Assign)]
        self.keys: dict[tuple, int] = {}
        self.derived: dict[int, list[int]] = {}  # a site's object -> it and its elements' objects
        self.key_of: list[tuple] = []
        self.allocated: set[int] = set()
        self.loops: list[tuple[list[_State], list[_State]]] = []
        self.stmt: Any = None
        self.calling: Any = None  # the call whose effects are being checked

    def made_by(self, n: str) -> str | None:
        """The source of the one assignment that binds `n`, if there is exactly one."""
        found = [
            s.value
            for s in self.assigns
            if any(isinstance(t, gast.Name) and t.id == n for t in s.targets)
        ]
        return _text(found[0]) if len(found) == 1 else None

    # objects -------------------------------------------------------------------------------
    def obj(self, key: tuple) -> int:
        o = self.keys.get(key)
        if o is None:
            o = self.keys[key] = len(self.key_of)
            self.key_of.append(key)
            root = _root(key)
            if root[0] == "site":  # (what `_age` renames)
                self.derived.setdefault(self.obj(root), []).append(o)
        return o

    def is_array(self, o: int) -> bool:
        """Made by NumPy (or a number): it holds no other object."""
        key = self.key_of[o]
        return key[0] in ("site", "old") and key[1] in self.array_sites - self.mixed_sites

    def fresh_array(self, node: Any, st: _State, array: bool = True) -> frozenset[int]:
        """A new object; `array`: NumPy made it (a site that once makes something else, in a
        later pass over a loop, is never taken for an array again)."""
        (self.array_sites if array else self.mixed_sites).add(id(node))
        return frozenset({self.fresh(node, st)})

    def elem_obj(self, o: int) -> int:
        """The unknown elements of `o` (a parameter's items, a list built out of sight)."""
        key = self.key_of[o]
        depth = 0
        k = key
        while k[0] == "elem":
            depth += 1
            k = k[1]
        return o if depth >= _MAX_DEPTH else self.obj(("elem", key))

    def fresh(self, node: Any, st: _State) -> int:
        """The object `node` makes now. What it made before (an earlier loop iteration) is
        renamed to the site's "old" object, in the names and the edges that hold it."""
        o = self.obj(("site", id(node)))
        if o in self.allocated:
            self._age(o, st)
        self.allocated.add(o)
        return o

    def _age(self, o: int, st: _State) -> None:
        site = self.key_of[o]
        older = {
            x: self.obj(_reroot(self.key_of[x], site, ("old", site[1])))
            for x in self.derived.get(o, [o])
        }
        young = older.keys()
        for n, objs in st.env.items():
            if not young.isdisjoint(objs):
                st.env[n] = frozenset(older.get(x, x) for x in objs)
        for edges in (st.view, st.elem):
            moved = [e for e in edges if e[0] in older or e[1] in older]
            for a, b in moved:
                edges.discard((a, b))
                edges.add((older.get(a, a), older.get(b, b)))

    def link_view(self, st: _State, a: int, bs: Iterable[int]) -> None:
        for b in bs:
            if a != b:
                st.view.add((a, b))
                st.view.add((b, a))

    def memory(self, objs: Iterable[int], st: _State) -> set[int]:
        """`objs` and every object sharing memory with one of them."""
        seen = set(objs)
        todo = list(seen)
        adj: dict[int, list[int]] = {}
        for a, b in st.view:
            adj.setdefault(a, []).append(b)
        while todo:
            for b in adj.get(todo.pop(), ()):
                if b not in seen:
                    seen.add(b)
                    todo.append(b)
        return seen

    def elements(self, objs: Iterable[int], st: _State) -> set[int]:
        """What the objects (or anything sharing memory with them) may hold."""
        mem = self.memory(objs, st)
        out = {e for c, e in st.elem if c in mem}
        return out | {self.elem_obj(p) for p in mem if not self.is_array(p)}

    def leading_to(self, written: set[int], st: _State) -> set[int]:
        """The objects whose value includes a written one: sharing memory with it, or holding
        it (a list, a dict, a tuple, an object of unknown elements)."""
        back: dict[int, list[int]] = {}
        for a, b in st.view:
            back.setdefault(b, []).append(a)
        for c, e in st.elem:
            back.setdefault(e, []).append(c)
        seen = set(written)
        todo = list(seen)
        while todo:
            x = todo.pop()
            key = self.key_of[x]
            up = list(back.get(x, ()))
            if key[0] == "elem":
                up.append(self.obj(key[1]))
            for y in up:
                if y not in seen:
                    seen.add(y)
                    todo.append(y)
        return seen

    # expressions ---------------------------------------------------------------------------
    def value(self, node: Any, st: _State) -> frozenset[int]:
        """The objects `node` may evaluate to (walking it for writes in calls)."""
        if isinstance(node, gast.Name):
            objs = st.env.get(node.id)
            return objs if objs is not None else frozenset({self.obj(("global", node.id))})
        if isinstance(node, (gast.BoolOp,)):
            return frozenset().union(*(self.value(v, st) for v in node.values))
        if isinstance(node, gast.IfExp):
            self.value(node.test, st)
            return self.value(node.body, st) | self.value(node.orelse, st)
        if isinstance(node, gast.Subscript):
            base = self.value(node.value, st)
            self.value(node.slice, st)
            return self.item(node, base, st)
        if isinstance(node, gast.Attribute):
            base = self.value(node.value, st)
            if node.attr in _FRESH_ATTRS:
                return self.fresh_array(node, st)
            if self._is_module(node.value):  # `np.pi`
                return frozenset({self.fresh(node, st)})
            if node.attr in _VIEW_ATTRS:
                return self.view_of(node, base, st)
            return frozenset(self.elements(base, st))  # `self.W`: what the object holds
        if isinstance(node, (gast.Tuple, gast.List, gast.Set)):
            return self.holder(node, node.elts, st)
        if isinstance(node, gast.Dict):
            return self.holder(node, [v for v in node.values] + [k for k in node.keys if k], st)
        if isinstance(node, gast.Starred):
            return frozenset(self.elements(self.value(node.value, st), st))
        if isinstance(node, (gast.ListComp, gast.SetComp, gast.GeneratorExp, gast.DictComp)):
            return self.comprehension(node, st)
        if isinstance(node, gast.Call):
            return self.call(node, st)
        if isinstance(node, gast.NamedExpr):
            objs = self.value(node.value, st)
            st.env[node.target.id] = objs
            return objs
        # numbers, operators, comparisons: new, and an array or a number, but for `+` and `*`
        # of lists, tuples or strings (concatenation): those hold what they combine
        parts = [self.value(c, st) for c in gast.iter_child_nodes(node) if isinstance(c, gast.expr)]
        arrays = [all(self.is_array(o) for o in p) for p in parts]
        if isinstance(node, gast.BinOp) and isinstance(node.op, (gast.Add, gast.Mult)):
            array = any(a and p for a, p in zip(arrays, parts, strict=True))
        else:
            array = isinstance(node, (gast.Constant, gast.BinOp, gast.UnaryOp, gast.Compare))
        objs = self.fresh_array(node, st, array)
        if not array:  # `L + [v]`: a new list holding the items of both
            st.elem.update(
                (o, e) for o in objs for e in self.elements(frozenset().union(*parts), st)
            )
        return objs

    def view_of(self, node: Any, bases: Iterable[int], st: _State) -> frozenset[int]:
        bases = list(bases)
        array = bool(bases) and all(self.is_array(b) for b in bases)
        (self.array_sites if array else self.mixed_sites).add(id(node))
        v = self.fresh(node, st)
        self.link_view(st, v, bases)
        return frozenset({v})

    def holder(self, node: Any, elts: list, st: _State) -> frozenset[int]:
        c = self.fresh(node, st)
        for e in elts:
            for o in self.value(e, st):
                st.elem.add((c, o))
        return frozenset({c})

    def root(self, node: Any) -> str | None:
        while isinstance(node, (gast.Subscript, gast.Attribute)):
            node = node.value
        return node.id if isinstance(node, gast.Name) else None

    def kind(self, node: Any) -> str | None:
        """ "list" / "dict" when `node` (the value of a subscript) surely holds one."""
        if isinstance(node, gast.Name):
            return self.kinds.get(node.id)
        return None

    def item(self, node: Any, base: frozenset[int], st: _State) -> frozenset[int]:
        """`base[k]`: an element of a list or dict; a view (or a number) of an array."""
        keyed = isinstance(node.slice, gast.Constant) and isinstance(node.slice.value, str)
        kind = "dict" if keyed else self.kind(node.value)
        if base and all(self.is_array(b) for b in base):
            objs = self.view_of(node, base, st)
            if not any(isinstance(n, gast.Slice) for n in walk(node.slice)):
                self.maybe_numbers[next(iter(objs))] = self.stmt  # a number or a row
            return objs
        items = self.elements(base, st)
        if kind == "dict" or (kind == "list" and not isinstance(node.slice, gast.Slice)):
            return frozenset(items)
        if kind == "list":  # a slice of a list: a new list of the same elements
            c = self.fresh(node, st)
            st.elem.update((c, e) for e in items)
            return frozenset({c})
        return self.view_of(node, base, st) | items

    def _is_module(self, node: Any) -> bool:
        if self.namespace is None or not isinstance(node, (gast.Name, gast.Attribute)):
            return False
        return type(self.namespace.resolve(node)).__name__ == "module"

    def _fresh_callee(self, func: Any) -> bool:
        """A library function whose result is new: NumPy's (but its views), math's, and the
        builtins that return numbers."""
        if self.namespace is None or not isinstance(func, (gast.Name, gast.Attribute)):
            return False
        f = self.namespace.resolve(func)
        if f is MISSING:
            return False
        if isinstance(f, np.ufunc):
            return True
        try:
            if f in _FRESH_BUILTINS:
                return True
        except TypeError:  # unhashable
            return False
        module = getattr(f, "__module__", None) or ""
        fname = getattr(f, "__name__", "")
        if module == "math" or getattr(math, fname, None) is f:
            return True
        return module.split(".")[0] == "numpy" and fname not in VIEW_FUNCS and fname != "copyto"

    def call(self, node: Any, st: _State) -> frozenset[int]:
        func = node.func
        args = [self.value(a, st) for a in node.args]
        args += [self.value(k.value, st) for k in node.keywords]
        if isinstance(func, gast.Attribute) and not self._is_module(func.value):
            recv = self.value(func.value, st)
            meth = func.attr
            if meth in MUTATING_METHODS:
                return self.method_write(node, func, recv, args, st)
            if meth in VIEW_FUNCS:
                return self.view_of(node, recv, st)
            if meth in _FRESH_METHODS or (meth == "copy" and all(map(self.is_array, recv))):
                return self.fresh_array(node, st)
            if meth == "copy" and not node.args:  # a list's or dict's copy holds the same items
                return self.holder_of(node, self.elements(recv, st), st)
            if meth == "get":
                return frozenset(self.elements(recv, st)).union(*args[1:])
            return self.view_of(node, recv.union(*args), st)  # unknown: may share anything
        if isinstance(func, gast.Name) and func.id in st.env:  # `m(x)`: m's `__call__`
            return self.view_of(node, self.value(func, st).union(*args), st)
        if self._fresh_callee(func):
            return self.fresh_array(node, st)
        self.value(func, st)
        callee = self._callee(func)
        if callee is None:  # not a Python function s2s can read: its result may share anything
            return self.view_of(node, frozenset().union(*args), st)
        fname = func.attr if isinstance(func, gast.Attribute) else func.id
        self.calling = node
        given = [(i, a) for i, a in enumerate(node.args)]
        given += [(k.arg, k.value) for k in node.keywords if k.arg is not None]
        for (position, arg), objs in zip(given, args, strict=False):
            p = callee.param(position)
            if isinstance(arg, gast.Starred) or p is None:
                p = next(iter(callee.writes), None) or next(iter(callee.augments), None)
                if p is None:
                    continue
            if p in callee.writes:
                mem = self.memory(objs, st)
                items = self.memory(self.elements(objs, st), st)
                self.written(arg, self.root(arg), mem | items, st, (fname, p))
                # nobody reads it later, but the backward sweep may read what it held before:
                # the function gets a copy (`normalize.Normalizer.call`)
                copied = node.__dict__.setdefault("s2s_copied_args", [])
                if position not in copied:
                    copied.append(position)
            if p in callee.augments and self.shared_later(self.memory(objs, st), st):
                guards = node.__dict__.setdefault("s2s_arg_guards", [])
                if (position, fname, p) not in guards:
                    guards.append((position, fname, p))
        if not callee.shares:
            return frozenset({self.fresh(node, st)})
        return self.view_of(node, frozenset().union(*args), st)  # a user function, a view

    def _callee(self, func: Any) -> Summary | None:
        return _callee(func, self.namespace, self.summarizing)

    def holder_of(self, node: Any, items: Iterable[int], st: _State) -> frozenset[int]:
        c = self.fresh(node, st)
        st.elem.update((c, e) for e in items)
        return frozenset({c})

    def comprehension(self, node: Any, st: _State) -> frozenset[int]:
        inner = st.copy()
        for gen in node.generators:
            self.bind(
                gen.target, self.unpacked(gen.target, self.value(gen.iter, inner), inner), inner
            )
            for cond in gen.ifs:
                self.value(cond, inner)
        if isinstance(node, gast.DictComp):
            held = self.value(node.key, inner) | self.value(node.value, inner)
        else:
            held = self.value(node.elt, inner)
        st.view |= inner.view
        st.elem |= inner.elem
        return self.holder_of(node, held, st)

    def unpacked(self, target: Any, objs: frozenset[int], st: _State) -> frozenset[int]:
        """What a loop or an unpacking gives its target: an item, or a row (a view)."""
        return self.view_of(target, objs, st) | self.elements(objs, st)

    def bind(self, target: Any, objs: frozenset[int], st: _State) -> None:
        if isinstance(target, gast.Name):
            st.env[target.id] = objs
        elif isinstance(target, (gast.Tuple, gast.List)):
            for e in target.elts:
                self.bind(e, self.unpacked(e, objs, st), st)
        elif isinstance(target, gast.Starred):
            self.bind(target.value, self.holder_of(target, self.elements(objs, st), st), st)

    # writes --------------------------------------------------------------------------------
    def method_write(
        self, node: Any, func: Any, recv: frozenset[int], args: list, st: _State
    ) -> frozenset[int]:
        """`v.append(x)`, `v.update(d)`, `v.fill(0.0)`, `w = v.pop()`: a write into `v`."""
        self.written(func, self.root(func.value), self.memory(recv, st), st)
        held = frozenset().union(*args)
        if func.attr in ("extend", "update"):
            held = held | self.elements(held, st)
        st.elem.update((c, e) for c in recv for e in held)
        if func.attr in ("pop", "popitem", "setdefault"):
            return frozenset(self.elements(recv, st)) | held
        return frozenset({self.fresh(node, st)})

    def written(
        self,
        node: Any,
        base: str | None,
        objs: set[int],
        st: _State,
        callee: tuple[str, str] | None = None,
    ) -> None:
        """Refuse when a name other than `base`, read after this statement, may hold one of the
        written objects `objs`. `callee` (a function's name, its parameter): the write is a
        called function's, and every name counts, `base` too, read later in the statement too.
        While summarizing: note the parameters written into instead."""
        if not objs:
            return
        if self.params is not None:
            self.writes |= self.rooted_params(objs)
            return
        names = self.readers(objs, st, None if callee else base, self.calling if callee else None)
        if not callee:
            names = [n for n in names if not self.guarded_number(n, objs, st)]
        if names:
            relation = "callee" if callee else self.relation(names[0], base, objs, st)
            raise _Shared(self.stmt, base or "?", names[0], relation, node, callee)

    def readers(
        self, objs: set[int], st: _State, exclude: str | None, call: Any = None
    ) -> list[str]:
        """The names, but `exclude`, read after this statement that may hold one of `objs`.
        `call`: the write is this call's, and a name read elsewhere in the statement counts."""
        reaching = self.leading_to(objs, st)
        live = self.liveness.after.get(id(self.stmt), frozenset())
        if call is not None:
            live = live | _reads_outside(self.stmt, call)
        return [n for n in sorted(live) if n != exclude and st.env.get(n, set()) & reaching]

    def guarded_number(self, n: str, objs: set[int], st: _State) -> bool:
        """Whether `n` shares the written `objs` only as `n = a[i]` may (a number for a 1-D
        `a`, then nothing is shared; a row of a 2-D one): if so, its binding statement checks
        at run time that it holds a number (`number_guard`), and the write is fine."""
        held = st.env[n] & self.leading_to(objs, st)
        binders = [self.maybe_numbers.get(o) for o in held]
        if not binders or not all(
            (
                isinstance(b, gast.Assign)
                and len(b.targets) == 1
                and isinstance(b.targets[0], gast.Name)
                and b.targets[0].id == n
                and isinstance(b.value, gast.Subscript)
            )
            or (isinstance(b, gast.For) and isinstance(b.target, gast.Name) and b.target.id == n)
            for b in binders
        ):
            return False
        for b in binders:  # `v = a[i]`, or `for v in a:` (checked where the loop binds v)
            read = b.value if isinstance(b, gast.Assign) else b.iter
            if isinstance(read, gast.Call) and len(read.args) == 1:
                read = read.args[0]  # `for v in reversed(a):`
            b.s2s_number_guard = self.root(read) or "?"
        return True

    def rooted_params(self, objs: Iterable[int]) -> set[str]:
        roots = (_root(self.key_of[o]) for o in objs)
        return {r[1] for r in roots if r[0] == "param"}

    def shared_later(self, mem: set[int], st: _State, exclude: str | None = None) -> bool:
        """Whether `v += ...` into `mem` (a called function's or this one's, on `exclude`) needs
        the run-time guard: a name read later may share it. While summarizing: note the
        parameters instead."""
        if self.params is not None:
            self.augments |= self.rooted_params(mem)
            return False
        return bool(self.readers(mem, st, exclude, self.calling if exclude is None else None))

    def relation(self, n: str, base: str | None, objs: set[int], st: _State) -> str:
        held = st.env[n]
        if base is not None and held & st.env.get(base, frozenset()):
            return "same"
        if held & objs:
            return "view" if held & self.memory(st.env.get(base, ()), st) else "element"
        return "holder"

    def subscript_write(self, s: Any, target: Any, st: _State, augmented: bool) -> None:
        base = self.value(target.value, st)
        self.value(target.slice, st)
        mem = self.memory(base, st)
        name = self.root(target)
        self.written(target, name, mem, st)
        if augmented:  # `L[0] += x` on a list of arrays changes the array itself
            items = self.memory(self.elements(base, st), st) - mem
            keyed = isinstance(target.slice, gast.Constant) and isinstance(target.slice.value, str)
            if keyed or self.kind(target.value) is not None or self.params is not None:
                self.written(target, name, items, st)
            elif self.readers(items, st, name):
                # an array (nothing to fear) or a list: only the run time knows
                s.s2s_item_guard = True

    # statements ----------------------------------------------------------------------------
    def block(self, stmts: list, st: _State) -> _State:
        for s in stmts:
            self.stmt = s
            st = self.statement(s, st)
        return st

    def statement(self, s: Any, st: _State) -> _State:
        if isinstance(s, gast.Assign):
            objs = self.value(s.value, st)
            for t in s.targets:
                self.assign(s, t, objs, st)
        elif isinstance(s, gast.AnnAssign):
            if s.value is not None:
                self.assign(s, s.target, self.value(s.value, st), st)
        elif isinstance(s, gast.AugAssign):
            value = self.value(s.value, st)
            if isinstance(s.target, gast.Name):
                held = st.env.get(s.target.id, frozenset())
                # `v += x` writes into v's array (or list): guarded at run time
                if self.shared_later(self.memory(held, st), st, s.target.id):
                    s.s2s_alias_guard = True
                st.elem.update((c, e) for c in held for e in self.elements(value, st))
                st.env[s.target.id] = held | {self.fresh(s, st)}
            elif isinstance(s.target, gast.Subscript):
                self.subscript_write(s, s.target, st, augmented=True)
            else:
                self.value(s.target.value, st)
        elif isinstance(s, (gast.Expr, gast.Return)):
            if s.value is not None:
                objs = self.value(s.value, st)
                if isinstance(s, gast.Return) and self.params is not None:
                    self.returned(objs, st)
        elif isinstance(s, gast.Delete):
            for t in s.targets:
                if isinstance(t, gast.Name):
                    st.env.pop(t.id, None)
                elif isinstance(t, gast.Subscript):
                    self.subscript_write(s, t, st, augmented=False)
        elif isinstance(s, gast.If):
            self.value(s.test, st)
            other = self.block(s.orelse, st.copy())
            st = self.block(s.body, st)
            st.join(other)
        elif isinstance(s, (gast.For, gast.While)):
            st = self.loop(s, st)
        elif isinstance(s, gast.With):
            for item in s.items:
                self.value(item.context_expr, st)
                if item.optional_vars is not None:
                    self.bind(item.optional_vars, frozenset({self.fresh(item, st)}), st)
            st = self.block(s.body, st)
        elif isinstance(s, gast.Break):
            self.loops[-1][0].append(st.copy())
        elif isinstance(s, gast.Continue):
            self.loops[-1][1].append(st.copy())
        elif isinstance(s, (gast.Raise, gast.Assert)):
            for child in gast.iter_child_nodes(s):
                self.value(child, st)
        return st

    def assign(self, s: Any, target: Any, objs: frozenset[int], st: _State) -> None:
        if isinstance(target, gast.Subscript):
            self.subscript_write(s, target, st, augmented=False)
            for c in self.value(target.value, st):  # the list or dict now holds the value
                st.elem.update((c, o) for o in objs)
        elif isinstance(target, gast.Attribute):
            holder = self.value(target.value, st)
            self.written(target, self.root(target), self.memory(holder, st), st)
            st.elem.update((c, o) for c in holder for o in objs)
        elif (
            isinstance(target, (gast.Tuple, gast.List))
            and isinstance(s.value, (gast.Tuple, gast.List))
            and len(target.elts) == len(s.value.elts)
            and not any(isinstance(e, gast.Starred) for e in target.elts + s.value.elts)
        ):
            for t, v in zip(target.elts, s.value.elts, strict=True):
                self.assign(s, t, self.value(v, st), st)
        else:
            self.bind(target, objs, st)

    def returned(self, objs: frozenset[int], st: _State) -> None:
        """While summarizing: does the returned value lead to a parameter's storage?"""
        params = {("param", p) for p in self.params or ()}
        mine = {o for o, key in enumerate(self.key_of) if _root(key) in params}
        if objs & self.leading_to(mine, st):
            self.returns_shared = True

    def loop(self, s: Any, st: _State) -> _State:
        header = s.iter if isinstance(s, gast.For) else s.test
        head = st.copy()
        while True:
            self.loops.append(([], []))
            body = head.copy()
            self.stmt = s
            it = self.value(header, body)
            if isinstance(s, gast.For):
                objs = self.unpacked(s.target, it, body)
                if isinstance(s.target, gast.Name) and it and all(map(self.is_array, it)):
                    for o in objs:  # an item of an array: a number or a row
                        self.maybe_numbers[o] = s
                self.bind(s.target, objs, body)
            body = self.block(s.body, body)
            breaks, continues = self.loops.pop()
            new = head.copy()
            new.join(body)
            for c in continues:
                new.join(c)
            if new.same(head):
                break
            head = new
        self.stmt = s
        out = self.block(s.orelse, head.copy())
        for b in breaks:
            out.join(b)
        return out


def _root(key: tuple) -> tuple:
    while key[0] == "elem":
        key = key[1]
    return key


_SUMMARIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Summary:
    """What a call to a Python function does to the storage of its arguments, read from its
    source: `shares`, its result may share an argument's storage (it returns one, a view or an
    item of one, a list holding one); `writes`, the parameters it writes into in place
    (`p[i] = ...`, `p.append(...)`, through a view of `p` too); `augments`, the parameters it
    `p += ...` (a write into an array, a new value for a number: only the run time knows).
    `positional`: its positional parameters in order; `star`, `kwargs`: `*args` and `**kw`;
    `named`: its keyword-only parameters."""

    shares: bool
    writes: frozenset[str] = frozenset()
    augments: frozenset[str] = frozenset()
    positional: tuple[str, ...] = ()
    star: str | None = None
    kwargs: str | None = None
    named: tuple[str, ...] = ()

    def param(self, position: int | str) -> str | None:
        """The parameter an argument binds: a position, or a keyword's name."""
        if isinstance(position, int):
            return self.positional[position] if position < len(self.positional) else self.star
        return position if position in self.all + self.named else self.kwargs

    @property
    def all(self) -> tuple[str, ...]:
        return self.positional + tuple(p for p in (self.star, self.kwargs) if p)


def _callee(func: Any, namespace: Namespace | None, summarizing: dict) -> Summary | None:
    """The `Summary` of a call's function when it is a Python function of the user's."""
    if namespace is None or not isinstance(func, (gast.Name, gast.Attribute)):
        return None
    f = namespace.resolve(func)
    library = (getattr(f, "__module__", None) or "").split(".")[0] in ("numpy", "s2s")
    if not inspect.isfunction(f) or library:
        return None
    return _summary(f, summarizing)


def _calls_writer(node: Any, namespace: Namespace | None) -> bool:
    """Whether `node` calls a function of the user's that writes into an argument."""
    if not isinstance(node, gast.Call):
        return False
    callee = _callee(node.func, namespace, {})
    return callee is not None and bool(callee.writes or callee.augments)


_UNREAD = Summary(shares=True)  # no source to read (a rule-only function): no writes either


def _summary(fn: Any, summarizing: dict) -> Summary:
    """`fn`'s `Summary`, read from its source once (cached). Recursion: the functions being
    summarized stand for their current guess, from "shares and writes nothing" upwards until
    the guesses hold (a least fixed point; after six rounds, every parameter written)."""
    if fn in summarizing:
        return summarizing[fn]
    hit = _SUMMARIES.get(fn)
    if hit is not None:
        return hit
    try:
        parsed = parse_function(fn)
    except S2SError:
        return _UNREAD
    a = parsed.tree.args
    positional = tuple(x.id for x in a.posonlyargs + a.args)
    star = a.vararg.id if a.vararg is not None else None
    kwargs = a.kwarg.id if a.kwarg is not None else None
    named = tuple(x.id for x in a.kwonlyargs)
    guess = Summary(False, positional=positional, star=star, kwargs=kwargs, named=named)
    params = list(guess.all + named)
    for _ in range(6):
        walker = _Sharing(
            parsed.tree.body, parsed.info, parsed.namespace, {**summarizing, fn: guess}, params
        )
        st = _State({p: frozenset({walker.obj(("param", p))}) for p in params}, set(), set())
        walker.block(parsed.tree.body, st)
        found = Summary(
            walker.returns_shared,
            frozenset(walker.writes),
            frozenset(walker.augments),
            positional,
            star,
            kwargs,
            named,
        )
        if found == guess:
            break
        guess = found
    else:
        every = frozenset(params)
        guess = Summary(True, every, every, positional, star, kwargs, named)
    if not summarizing:  # (inside a recursion the guesses of others were not final)
        _SUMMARIES[fn] = guess
    return guess


def _reroot(key: tuple, site: tuple, new: tuple) -> tuple:
    if key == site:
        return new
    return ("elem", _reroot(key[1], site, new))


def check_shared_writes(
    body: list,
    params: list[str],
    info: SourceInfo,
    namespace: Namespace | None,
    nodes: list | None = None,
) -> None:
    """Refuse a write into an array, list or dict while another name that may share it is read
    later (see the module's doc). Marks `v += ...` statements whose `v` may be shared with a
    later-read name for the run-time `alias_guard`, and `v[k] += ...` where `v` may be a list
    whose item another name holds for the run-time `item_guard`. `nodes`: every node of
    `body`, if the caller has them."""
    if nodes is None:
        nodes = list(walk(gast.Module(body=body, type_ignores=[])))
    if not any(_writes(n) or _calls_writer(n, namespace) for n in nodes):
        return  # (most numeric code: nothing to check)
    walker = _Sharing(body, info, namespace, nodes=nodes)
    st = _State({p: frozenset({walker.obj(("param", p))}) for p in params}, set(), set())
    try:
        walker.block(body, st)
    except _Shared as e:
        raise _refusal(e, walker, info) from None


def _writes(node: Any) -> bool:
    """Whether `node` may write into an existing array, list or dict."""
    if isinstance(node, (gast.Subscript, gast.Attribute)):
        return isinstance(node.ctx, (gast.Store, gast.Del))
    if isinstance(node, gast.Call):
        return isinstance(node.func, gast.Attribute) and node.func.attr in MUTATING_METHODS
    return isinstance(node, gast.AugAssign)


def _text(node: Any) -> str:
    return ast.unparse(gast.gast_to_ast(node))


def _refusal(e: _Shared, walker: _Sharing, info: SourceInfo) -> Exception:
    base, other = e.base, e.other
    kind = walker.kinds.get(base, "array")
    made = walker.made_by(other)
    copied = f"{other} = {made}.copy()" if made else f"{other} = <expression>.copy()"
    target = _text(e.node) if isinstance(e.node, (gast.Subscript, gast.Name)) else base
    if e.relation == "callee":
        fname, param = e.callee
        shown = _text(e.node)
        sharing = "" if other == base else ", which shares it,"
        return info.error(
            UnsupportedSyntaxError,
            e.node,
            f"{fname} writes into its argument `{shown}` in place (its parameter {param!r}), and "
            f"{other!r}{sharing} is read later: s2s differentiates a call as a function of its "
            "arguments' values, and would not see the write",
            f"have {fname} return the new value and assign it here, or pass it a copy: "
            f"{shown}.copy()",
        )
    if e.relation == "same":
        what = f"{other!r} may be the same {kind} as {base!r} (an assignment copies no {kind})"
        hint = f"make {other!r} its own {kind} where it is made: {other} = {base}.copy()"
    elif e.relation == "view":
        what = (
            f"{other!r} may be a view of {base!r} (indexing, `.T`, `reshape` and the like share "
            "memory)"
        )
        hint = (
            f"make {other!r} its own array where it is made ({copied}), or finish reading "
            f"{other!r} before writing into {base!r}"
        )
    elif e.relation == "element":
        op = _text(e.stmt).split(" ", 2)[1] if isinstance(e.stmt, gast.AugAssign) else "+="
        what = (
            f"{other!r} may be the item that `{_text(e.stmt)}` changes in place (on an array, "
            f"`{op}` changes the array itself)"
        )
        hint = (
            f"write `{target} = {target} + ...` (a new value, which {other!r} does not see), or "
            f"make {other!r} its own array where it is made: {copied}"
        )
    else:
        what = (
            f"{other!r} may hold {base!r} or a part of it (a list, a dict or a tuple keeps the "
            "array itself, not a copy)"
        )
        hint = (
            f"give {other!r} a copy ({base}.copy()) where it takes {base!r}, or write into "
            f"{base!r} before {other!r} takes it"
        )
    return info.error(
        UnsupportedSyntaxError,
        e.node,
        f"writing into {base!r} while {what}, and {other!r} is read later: the write would "
        f"change {other!r} too, which s2s cannot differentiate",
        hint,
    )
