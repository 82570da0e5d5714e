"""Fast tree utilities for the hot paths of the pipeline.

`copy.deepcopy` and `ast.walk` are general and slow on gast trees (a memo dict, `__reduce_ex__`
and a generator per node). `clone` and `walk` do the same work for syntax trees: `walk`
yields the same nodes in the same (breadth-first) order as `ast.walk`; `clone` copies every
node and list of the tree, with the extra attributes the pipeline sets (`s2s_line`, ...);
`copy_tree` makes exactly `copy.deepcopy`'s copy. `names`, `calls` and `statements` find
some nodes only, without looking into the rest (operators, contexts, expressions).

Their orders differ from `ast.walk`'s: a set of names built from `names` may iterate in
another order than one built from `walk` (where hashes collide, a set's order follows its
insertions), so where code iterates such a set, the set is built from `walk`.
"""

from __future__ import annotations

import copy
import re
from collections import deque
from collections.abc import Iterator
from operator import attrgetter
from typing import Any

import gast

_AST = gast.AST
_IMMUTABLE = frozenset((str, int, float, complex, bool, bytes, type(None), type(Ellipsis)))


def clone(node: Any) -> Any:
    """A deep copy of a syntax tree, a list of them, or an atom (returned as is).

    Unlike `copy.deepcopy`, a node that appears twice in the tree is copied twice."""
    cls = node.__class__
    if cls is list:
        return [x if x.__class__ in _IMMUTABLE else clone(x) for x in node]
    if isinstance(node, _AST):
        new = cls.__new__(cls)
        fields = new.__dict__
        for k, v in node.__dict__.items():  # atoms and lists inline: most fields are
            c = v.__class__
            if c in _IMMUTABLE:
                fields[k] = v
            elif c is list:
                fields[k] = [x if x.__class__ in _IMMUTABLE else clone(x) for x in v]
            else:
                fields[k] = clone(v)
        return new
    if cls in _IMMUTABLE:
        return node
    return copy.deepcopy(node)


class _Shared(Exception):
    """A tree holds an object twice (or one `clone` does not copy): `copy.deepcopy` it."""


def copy_tree(node: Any) -> Any:
    """The very copy `copy.deepcopy` makes of a syntax tree (or a list of them), several times
    faster: where the tree holds a node or a list twice (the copy shares it too) or another
    mutable object, `copy.deepcopy` makes it."""
    try:
        return _copy(node, set())
    except _Shared:
        return copy.deepcopy(node)


def _copy(node: Any, seen: set[int]) -> Any:
    cls = node.__class__
    if cls in _IMMUTABLE:
        return node
    if id(node) in seen:
        raise _Shared
    seen.add(id(node))  # (the tree keeps its objects alive meanwhile: no id is reused)
    if cls is list:
        return [x if x.__class__ in _IMMUTABLE else _copy(x, seen) for x in node]
    if not isinstance(node, _AST):
        raise _Shared
    new = cls.__new__(cls)
    fields = new.__dict__
    for k, v in node.__dict__.items():
        fields[k] = v if v.__class__ in _IMMUTABLE else _copy(v, seen)
    return new


def children(node: Any) -> list[Any]:
    """The child nodes of `node`, in the order of `ast.iter_child_nodes`."""
    out = []
    for field in node._fields:
        value = getattr(node, field, None)
        if isinstance(value, _AST):
            out.append(value)
        elif isinstance(value, list):
            out.extend([x for x in value if isinstance(x, _AST)])
    return out


def walk(node: Any) -> Iterator[Any]:
    """The nodes of a tree, `node` first, in the order of `ast.walk`."""
    todo = deque([node])
    pop, push, extend = todo.popleft, todo.append, todo.extend
    while todo:
        node = pop()
        for field in node._fields:
            value = getattr(node, field, None)
            if isinstance(value, _AST):
                push(value)
            elif isinstance(value, list):
                extend([x for x in value if isinstance(x, _AST)])
        yield node


#: fields that never hold a name: operators, contexts, identifiers and other strings
_NO_NAMES = frozenset({"ctx", "op", "ops", "id", "attr", "type_comment", "kind"})
#: class -> (the fields `names` looks into, a function giving their values as a tuple), made
#: on first sight of the class; a constant's value and a keyword's argument name are no nodes
_NAME_FIELDS: dict[type, tuple[tuple[str, ...], Any]] = {}


def _name_fields(cls: type) -> tuple[tuple[str, ...], Any]:
    if cls is gast.Constant:
        fields: tuple[str, ...] = ()
    elif cls is gast.keyword:
        fields = ("value",)
    else:
        fields = tuple(f for f in cls._fields if f not in _NO_NAMES)
    if not fields:
        return fields, lambda node: ()
    get = attrgetter(*fields)  # one call for all the fields
    if len(fields) == 1:
        return fields, lambda node: (get(node),)
    return fields, get


def node_fields(cls: type) -> tuple[str, ...]:
    """The fields of the node class `cls` that may hold nodes other than operators and
    contexts (a transformer that rewrites expressions need not look into the others)."""
    spec = _NAME_FIELDS.get(cls)
    if spec is None:
        spec = _NAME_FIELDS[cls] = _name_fields(cls)
    return spec[0]


def names(node: Any) -> list[gast.Name]:
    """Every `Name` node of a tree (depth-first; for counts and membership, not for order)."""
    return _collect(node, gast.Name)


def calls(node: Any) -> list[gast.Call]:
    """Every `Call` node of a tree, nested calls included (in no particular order)."""
    return _collect(node, gast.Call)  # (no call is an operator, a context or a string)


def _collect(node: Any, kind: type) -> list[Any]:
    """Every node of class `kind` (`Name` or `Call`) of a tree, looking only into the fields
    that may hold names (`_name_fields`)."""
    out = []
    todo = [node]
    pop, push, extend = todo.pop, todo.append, todo.extend
    fields_of = _NAME_FIELDS
    while todo:
        node = pop()
        cls = node.__class__
        if cls is gast.Name:
            if kind is gast.Name:
                out.append(node)
            if node.annotation is not None:  # an argument's annotation
                push(node.annotation)
            continue
        if cls is kind:
            out.append(node)
        spec = fields_of.get(cls)
        if spec is None:
            if not isinstance(node, _AST):
                continue  # not a node: a string field, an item of a list that is no node
            spec = fields_of[cls] = _name_fields(cls)
        try:
            values = spec[1](node)
        except AttributeError:  # a node made without one of its fields
            values = tuple(getattr(node, f, None) for f in spec[0])
        for value in values:
            if value.__class__ is list:
                extend(value)
            elif value is not None:
                push(value)
    return out


#: the nodes statements are found in: statements, `except` handlers, `match` cases (no
#: expression holds a statement)
HOLDS_STATEMENTS = (gast.stmt, gast.excepthandler, gast.match_case)


def statements(node: Any) -> list[Any]:
    """`node` and every statement inside it, nested ones included (in no particular order):
    a `break` or a `return` is found without a walk of the expressions."""
    out = []
    todo = [node]
    pop, extend = todo.pop, todo.extend
    while todo:
        node = pop()
        out.append(node)
        for field in node._fields:
            value = getattr(node, field, None)
            if value.__class__ is list:
                extend([x for x in value if isinstance(x, HOLDS_STATEMENTS)])
    return out


def loop_items(loop: Any) -> Any:
    """The expression whose items the `for` loop `loop` binds: its `iter`, or, for the inner
    loop of a checkpointed segment (`for t in _seg:`, `checkpoint.py`), the iterable of the
    loop the user wrote, which gives the same items (a segment of a range is a range)."""
    return getattr(loop, "s2s_items_of", None) or loop.iter


def blocks(body: list) -> Iterator[list]:
    """Every statement list of a function body: `body`, then those of its `if`s (both
    branches) and loops, nested ones included. Each list is yielded before the lists inside
    it are looked for, so a caller may change it on the way."""
    stack = [body]
    while stack:
        block = stack.pop()
        yield block
        for s in block:
            if isinstance(s, gast.If):
                stack.append(s.body)
                stack.append(s.orelse)
            elif isinstance(s, (gast.For, gast.While)):
                stack.append(s.body)


def is_call(node: Any, fname: str, nargs: int) -> bool:
    """`node` is `fname(a1, ..., a_nargs)`: a call of a plain name, no keywords."""
    return (
        isinstance(node, gast.Call)
        and isinstance(node.func, gast.Name)
        and node.func.id == fname
        and len(node.args) == nargs
        and not node.keywords
    )


_TEMPORARY = re.compile(r"_\d+")


def is_temporary(v: str) -> bool:
    """Whether `v` is the name of a temporary (`_12`: `Normalizer.fresh` makes them, past any
    number the source uses), not of an adjoint, a tangent or a name of the user's."""
    return _TEMPORARY.fullmatch(v) is not None


def leading_arguments(args: gast.arguments, leading: list[str]) -> gast.arguments:
    """A copy of `args` without annotations and with the parameters `leading` first."""
    args = copy_tree(args)
    for a in list(args.posonlyargs) + list(args.args) + list(args.kwonlyargs):
        a.annotation = None
    lead = [gast.Name(id=n, ctx=gast.Param(), annotation=None, type_comment=None) for n in leading]
    if args.posonlyargs:
        args.posonlyargs = lead + list(args.posonlyargs)
    else:
        args.args = lead + list(args.args)
    return args


def funcdef(fname: str, args: gast.arguments, body: list) -> gast.FunctionDef:
    """A plain `def fname(args): body`."""
    return gast.FunctionDef(
        name=fname,
        args=args,
        body=body,
        decorator_list=[],
        returns=None,
        type_comment=None,
        type_params=[],
    )
