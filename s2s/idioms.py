"""Expressions whose derivative is simpler as a whole than as the chain of their ops.

The one idiom found here is the logistic sigmoid written out, `p = 1.0 / (1.0 + np.exp(-u))`
(or with `math.exp`, or `exp(u)` for the sigmoid of `-u`). Differentiated op by op, its adjoint
is `d_p * p * p * e` with `e = exp(-u)`, which keeps `e` on the tape and gives `0 * inf = nan`
where `exp(-u)` overflows (u below about -709), although p is then 0 and so is the derivative.
As a whole, `dp/du = p * (1 - p)` reads p only, and is 0 there.

After normalization the expression is a chain of statements, each defining a temporary the next
one reads, the sigmoid's own statement last:

    _1 = -u                 (optional: without it the sigmoid is of -_1's argument)
    _2 = np.exp(_1)
    _3 = 1.0 + _2           (or `_2 + 1.0`)
    p = 1.0 / _3

`sigmoids` finds such chains where each temporary is read exactly once in the whole function
(by the next statement of the chain), the statements are consecutive in one block (so the
chain's input is not reassigned between them), and every op in it has s2s's own rules (a rule
the user registered for `np.exp` is never bypassed). The transformers then give the last
statement the sigmoid's rule, with u as its operand, and the others none: their values reach
nothing but p.
"""

from __future__ import annotations

import math
import operator
from collections import Counter
from dataclasses import dataclass
from typing import Any

import gast
import numpy as np

from s2s import adjoints
from s2s.adjoints import elementwise

from .analyze import OP, StmtInfo, walk_stmts
from .nodes import blocks, names

_DIV = (operator.truediv, np.divide, np.true_divide)
_ADD = (operator.add, np.add)
_EXP = (np.exp, math.exp)
_NEG = (operator.neg, np.negative)


@dataclass
class Sigmoid:
    """`p = 1 / (1 + exp(-arg))` (`negated`), or `p = 1 / (1 + exp(arg))`."""

    arg: Any  # the atom the chain starts from
    negated: bool
    absorbed: list[int]  # ids of the chain's other statements

    def templates(self) -> tuple:
        """(adjoint, tangent) templates, in `z, x` form."""
        return elementwise.SIGMOID[self.negated]

    def info(self, info: StmtInfo) -> StmtInfo:
        """`info` of the sigmoid's statement as one op of `arg`."""
        operands = [self.arg.id] if isinstance(self.arg, gast.Name) else []
        return StmtInfo(OP, target=info.target, operands=operands, op=info.op, args=[self.arg])


def sigmoids(body: list, infos: dict[int, StmtInfo], mode: str) -> dict[int, Sigmoid]:
    """The written-out sigmoids of a core function's `body`, by the id of their last
    statement. `mode`: "adjoint" or "tangent", the rules that must be s2s's own."""
    candidates = [
        (block, i)
        for block in blocks(body)
        for i, s in enumerate(block)
        if i >= 2
        and _is_op(infos.get(id(s)), _DIV, mode)
        and len(infos[id(s)].args) == 2
        and _one(infos[id(s)].args[0])
    ]
    if not candidates:
        return {}
    reads: Counter = Counter(
        n.id for s in walk_stmts(body) for n in names(_loads_of(s)) if isinstance(n.ctx, gast.Load)
    )
    out: dict[int, Sigmoid] = {}
    for block, i in candidates:
        found = _chain(block, i, infos, reads, mode)
        if found is not None:
            out[id(block[i])] = found
    return out


def _chain(
    block: list, i: int, infos: dict[int, StmtInfo], reads: Counter, mode: str
) -> Sigmoid | None:
    div = infos[id(block[i])]
    total = div.args[1]
    add = infos.get(id(block[i - 1]))
    if not (_defines(add, total, reads) and _is_op(add, _ADD, mode)):
        return None
    a, b = add.args
    e = b if _one(a) else a if _one(b) else None
    ex = infos.get(id(block[i - 2]))
    if not (_defines(ex, e, reads) and _is_op(ex, _EXP, mode)) or len(ex.args) != 1:
        return None
    arg = ex.args[0]
    absorbed = [id(block[i - 1]), id(block[i - 2])]
    neg = infos.get(id(block[i - 3])) if i >= 3 else None
    if _defines(neg, arg, reads) and _is_op(neg, _NEG, mode) and len(neg.args) == 1:
        absorbed.append(id(block[i - 3]))
        return Sigmoid(neg.args[0], True, absorbed)
    return Sigmoid(arg, False, absorbed)


def _defines(info: StmtInfo | None, atom: Any, reads: Counter) -> bool:
    """`info`'s statement defines the name `atom`, which is read once in the function."""
    return (
        info is not None
        and isinstance(atom, gast.Name)
        and info.target == atom.id
        and reads[atom.id] == 1
    )


def _is_op(info: StmtInfo | None, ops: tuple, mode: str) -> bool:
    """An op call among `ops`, no keywords, with s2s's own rule for `mode`."""
    if info is None or info.kind != OP or info.keywords or info.op not in ops:
        return False
    rule = adjoints.lookup(info.op)
    tpl = getattr(rule, mode, None) if rule is not None else None
    return tpl is not None and tpl.fn.__module__ == elementwise.__name__


def _one(atom: Any) -> bool:
    return isinstance(atom, gast.Constant) and type(atom.value) in (int, float) and atom.value == 1


def _loads_of(s: Any) -> Any:
    """What statement `s` itself reads (a compound statement: its test or iterable only; its
    body's statements are walked on their own)."""
    if isinstance(s, gast.If | gast.While):
        return s.test
    if isinstance(s, gast.For):
        return s.iter
    return s
