"""An upper bound on the length of an expression's text, without writing the text.

The optimizer asks whether a line stays short enough (`optimize._fits`) for every temporary
it could inline, and the answer is nearly always yes by a wide margin: `length_bound` says so
from the tree alone, and only a line that may be near the limit is unparsed exactly.

The bound counts every identifier and number as `ast.unparse` writes it, and for every node
the most punctuation `ast.unparse` can write around it: its operator or separators with their
spaces, and a pair of parentheses, whether its precedence asks for them or not. Nodes it does
not know (strings, comprehensions, lambdas, f-strings, ...) give None: no bound.
"""

from __future__ import annotations

import sys
from typing import Any

import gast

_INFSTR = "1e" + repr(sys.float_info.max_10_exp + 1)  # `ast.unparse`'s infinity (as `ast`)

#: node class -> punctuation written around it: a fixed part, and one per item of the list
#: field that `_ITEMS` names (the separator ", " or an operator with its spaces); each includes
#: a pair of parentheses
_FIXED = {
    gast.BinOp: 4 + 2,  # " ** "
    gast.UnaryOp: 4 + 2,  # "not "
    gast.Attribute: 2 + 2,  # "." and the space after an integer: "1 .real"
    gast.Subscript: 2 + 2,  # "[]"
    gast.Starred: 1 + 2,  # "*"
    gast.Slice: 2 + 2,  # "::"
    gast.IfExp: 10 + 2,  # " if ", " else "
    gast.Call: 2 + 2,  # "()"
    gast.Tuple: 3 + 2,  # "(,)" of a one-element tuple; parentheses around a slice's
    gast.List: 2 + 2,  # "[]"
    gast.BoolOp: 2,
    gast.Compare: 2,
    gast.keyword: 2 + 2,  # "=" or "**"
}
_ITEMS = {
    gast.Call: 2,  # ", " per argument and keyword
    gast.Tuple: 2,
    gast.List: 2,
    gast.BoolOp: 5,  # " and "
    gast.Compare: 8,  # " not in "
}


def length_bound(node: Any) -> int | None:
    """At least the length of `ast.unparse` of the expression `node` (a gast tree), or None
    where a part of it is not one this bound knows."""
    cls = node.__class__
    if cls is gast.Name:
        return len(node.id) if node.annotation is None else None
    if cls is gast.Constant:
        return _constant_length(node.value)
    fixed = _FIXED.get(cls)
    if fixed is None:
        return None
    total = fixed
    if cls is gast.Attribute:
        total += len(node.attr)
    elif cls is gast.keyword:
        total += len(node.arg or "")
    per_item = _ITEMS.get(cls, 0)
    for field in _FIELDS[cls]:
        value = getattr(node, field)
        if value is None:
            continue
        if value.__class__ is list:
            total += per_item * len(value)
            for x in value:
                n = length_bound(x)
                if n is None:
                    return None
                total += n
        else:
            n = length_bound(value)
            if n is None:
                return None
            total += n
    return total


#: the fields holding expressions (operators write at most what `_FIXED` counts)
_FIELDS = {
    gast.BinOp: ("left", "right"),
    gast.UnaryOp: ("operand",),
    gast.Attribute: ("value",),
    gast.Subscript: ("value", "slice"),
    gast.Starred: ("value",),
    gast.Slice: ("lower", "upper", "step"),
    gast.IfExp: ("test", "body", "orelse"),
    gast.Call: ("func", "args", "keywords"),
    gast.Tuple: ("elts",),
    gast.List: ("elts",),
    gast.BoolOp: ("values",),
    gast.Compare: ("left", "comparators"),
    gast.keyword: ("value",),
}


def _constant_length(value: Any) -> int | None:
    """The length of a number, a bool or None as `ast.unparse` writes it (what it writes for
    an infinity and a NaN too); None for other constants (strings, bytes, ...)."""
    cls = value.__class__
    if cls in (int, bool) or value is None:
        return len(repr(value))
    if cls in (float, complex):
        return len(repr(value).replace("inf", _INFSTR).replace("nan", f"({_INFSTR}-{_INFSTR})"))
    return None
