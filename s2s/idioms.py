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
chain's input is not reassigned between them), p is not u itself (`u = 1 / (1 + exp(-u))`:
to the transformers the rule's `d[u]` would be the adjoint of the result), and every op in it
has s2s's own rules (a rule the user registered for `np.exp` is never bypassed). The
transformers then give the last statement the sigmoid's rule, with u as its operand, and the
others none: their values reach nothing but p.

The second idiom builds on the first: the log-likelihood of a label under a sigmoid, the
binary cross-entropy written out (PyTorch's `BCEWithLogitsLoss`, optax's
`sigmoid_binary_cross_entropy`),

    S = a * np.log(p) + b * np.log(1.0 - p)        (either term first, `log(p) * a`, and
                                                     `np.log1p(-p)` for `np.log(1.0 - p)`)
    S = a * np.log(p) - b * np.log(1.0 - p)        (the textbook `-y * log(p) - (1 - y) * ...`)

with p a sigmoid of u. Since d log(p)/du = 1 - p and d log(1 - p)/du = -p, its derivative is
`dS/du = a * (1 - p) - b * p` (`+ b * p` for the difference), and `y - p` where b is `1 - a`
(a = y, the usual loss; `p - y` for the difference with a = -y). Op by
op it is `d_p = a / p - b / (1 - p)` times `p * (1 - p)`: eight array operations where the
whole takes two, and `0 * inf = nan` where p saturates to 0 or 1 (log's argument is 0), where
the derivative itself is finite. `log_likelihoods` finds S when the weights a and b carry no
derivative, every temporary between p and S is read once, and the statements from p's to S's
are consecutive in one block, each a pure operation that reassigns neither u nor p, nor a
weight after S's term reads it, and S itself is none of u, p and the weights. S's statement
then gets the rule `d_u += d_S * (y - p)`; the log, product and `1 - p` statements get none.
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

from .analyze import ATTR, CONST, COPY, GETITEM, NONDIFF, OP, StmtInfo, walk_stmts
from .nodes import blocks, names

_DIV = (operator.truediv, np.divide, np.true_divide)
_ADD = (operator.add, np.add)
_EXP = (np.exp, math.exp)
_NEG = (operator.neg, np.negative)
_MUL = (operator.mul, np.multiply)
_SUB = (operator.sub, np.subtract)
_LOG = (np.log, math.log)
_LOG1P = (np.log1p, math.log1p)
#: statements that may stand between p and S: operations that assign one name and mutate nothing
_PURE = (OP, COPY, GETITEM, CONST, ATTR, NONDIFF)


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


def find(
    body: list, infos: dict[int, StmtInfo], mode: str, active: set[str]
) -> dict[int, Sigmoid | LogLikelihood]:
    """The idioms of a core function's `body` (sigmoids and their log-likelihoods), by the id
    of their last statement. `mode`: "adjoint" or "tangent", the rules that must be s2s's own;
    `active`: the names that carry a derivative."""
    reads: list[Counter] = []  # counted once, and only where a chain is a candidate

    def count() -> Counter:
        if not reads:
            reads.append(_reads(body))
        return reads[0]

    found: dict[int, Any] = sigmoids(body, infos, mode, count)
    found.update(log_likelihoods(body, infos, mode, active, found, count))
    return found


def absorbed(found: dict[int, Any]) -> set[int]:
    """The ids of the statements whose derivative the idioms in `found` take over."""
    return {sid for idiom in found.values() for sid in idiom.absorbed}


def sigmoids(
    body: list, infos: dict[int, StmtInfo], mode: str, count: Any = None
) -> dict[int, Sigmoid]:
    """The written-out sigmoids of a core function's `body`, by the id of their last
    statement. `mode`: "adjoint" or "tangent", the rules that must be s2s's own; `count`: a
    function giving the reads of every name (`_reads`)."""
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
    reads = count() if count is not None else _reads(body)
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
    negated = _defines(neg, arg, reads) and _is_op(neg, _NEG, mode) and len(neg.args) == 1
    if negated:
        absorbed.append(id(block[i - 3]))
        arg = neg.args[0]
    if isinstance(arg, gast.Name) and arg.id == div.target:
        return None  # `u = 1 / (1 + exp(-u))`: the rule's d[u] would be the result's adjoint
    return Sigmoid(arg, negated, absorbed)


@dataclass
class LogLikelihood:
    """`S = a * log(p) + b * log(1 - p)` (`minus`: `a * log(p) - b * log(1 - p)`) with
    `p = 1 / (1 + exp(-arg))`; `label` is the y of `b = 1 - y` where `a` is y (`minus`: where
    `a` is `-y`), the derivative then being `y - p` (`p - y`), else None."""

    arg: gast.Name
    p: gast.Name
    weights: tuple  # (a, b): atoms
    label: Any
    minus: bool
    absorbed: list[int]

    def templates(self) -> tuple:
        """(adjoint, tangent) templates, in `z, x, ...` form (`info`'s args after x)."""
        return elementwise.LOG_LIKELIHOOD[self.minus, self.label is not None]

    def info(self, info: StmtInfo) -> StmtInfo:
        """`info` of S's statement as one op of `arg` (reading the label or weights, and p)."""
        rest = [self.label, self.p] if self.label is not None else [self.p, *self.weights]
        return StmtInfo(
            OP, target=info.target, operands=[self.arg.id], op=info.op, args=[self.arg, *rest]
        )


def log_likelihoods(
    body: list,
    infos: dict[int, StmtInfo],
    mode: str,
    active: set[str],
    found: dict[int, Sigmoid],
    count: Any = None,
) -> dict[int, LogLikelihood]:
    """The written-out sigmoid log-likelihoods of `body` (see the module's docstring), by the
    id of their last statement. `found`: the body's sigmoids (`sigmoids`); `active`: the
    names that carry a derivative (a weight must not); `count` as for `sigmoids`."""
    if not found:
        return {}
    out: dict[int, LogLikelihood] = {}
    reads = count() if count is not None else _reads(body)
    for block in blocks(body):
        starts = {
            _target(s): i
            for i, s in enumerate(block)
            if id(s) in found and found[id(s)].negated and _target(s) is not None
        }
        if not starts:
            continue
        index: dict[str, int] = {}  # name -> position of its last definition before k
        for k, s in enumerate(block):
            info = infos.get(id(s))
            if _is_op(info, _ADD + _SUB, mode) and len(info.args) == 2:
                got = _log_likelihood(block, k, index, infos, reads, mode, active, starts, found)
                if got is not None:
                    out[id(s)] = got
            if info is not None and info.target is not None:
                index[info.target] = k
    return out


def _log_likelihood(
    block: list,
    k: int,
    index: dict[str, int],
    infos: dict[int, StmtInfo],
    reads: Counter,
    mode: str,
    active: set[str],
    starts: dict[str, int],
    found: dict[int, Sigmoid],
) -> LogLikelihood | None:
    """S = `block[k]`, if it is the idiom (`index`: the position of each name's last
    definition before S; `starts`: the position of each sigmoid's statement, by its target)."""
    s = infos[id(block[k])]
    terms = [_term(t, block, index, infos, reads, mode) for t in s.args]
    if any(t is None for t in terms):
        return None
    (kind_a, p, a, used_a), (kind_b, q, b, used_b) = terms
    minus = s.op in _SUB
    if minus and (kind_a, kind_b) != ("p", "q"):
        return None  # `b * log(1 - p) - a * log(p)`: not followed
    if (kind_a, kind_b) == ("q", "p"):
        (kind_a, p, a, used_a), (kind_b, q, b, used_b) = terms[::-1]
    if (kind_a, kind_b) != ("p", "q") or p != q or p not in starts:
        return None
    start = starts[p]
    u = found[id(block[start])].arg
    if not (isinstance(u, gast.Name) and u.id in active):
        return None
    if not (_inactive(a, active) and _inactive(b, active)):
        return None
    used = used_a + used_b
    if min(used) <= start:
        return None
    label, label_read = _label(a, b, block, index, infos, mode, start, minus)
    # the rule reads u, p, the weights (or the label) as they are before S: S must not be
    # one of them (its statement's reads of its own target are of the result)
    read = {u.id, p} | {w.id for w in (a, b, label) if isinstance(w, gast.Name)}
    if s.target in read:
        return None
    # from p's statement to S's: pure operations, none reassigning u or p, nor a weight (or
    # the label) at or after the statement that reads it
    last_read = {u.id: start, p: start}
    for w, reader in ((a, max(used_a)), (b, max(used_b))):
        if isinstance(w, gast.Name):
            last_read[w.id] = min(last_read.get(w.id, reader), reader)
    if label is not None:
        last_read[label.id] = min(last_read.get(label.id, k), label_read)
    for i in range(start + 1, k):
        info = infos.get(id(block[i]))
        if not (
            isinstance(block[i], gast.Assign)
            and info is not None
            and info.kind in _PURE
            and info.partial is None
            and info.target is not None
        ):
            return None
        if info.target in last_read and i >= last_read[info.target]:
            return None
    p_name = gast.Name(id=p, ctx=gast.Load(), annotation=None, type_comment=None)
    return LogLikelihood(u, p_name, (a, b), label, minus, [id(block[i]) for i in used])


def _term(t: Any, block: list, index: dict, infos: dict, reads: Counter, mode: str) -> tuple | None:
    """`t = w * log(p)` ("p") or `w * log(1 - p)`, `w * log1p(-p)` ("q"), either factor
    first, each temporary read once: (which, p, w, positions of the statements)."""
    mul = _definition(t, block, index, infos, reads)
    if not (_is_op(mul, _MUL, mode) and len(mul.args) == 2):
        return None
    for lg, w in (mul.args, mul.args[::-1]):
        got = _log_of(lg, block, index, infos, reads, mode)
        if got is not None:
            which, p, used = got
            return which, p, w, [*used, index[t.id]]
    return None


def _log_of(
    lg: Any, block: list, index: dict, infos: dict, reads: Counter, mode: str
) -> tuple | None:
    """`lg = log(p)`, `log(1 - p)` or `log1p(-p)`, temporaries read once: (which, p,
    positions of the statements)."""
    info = _definition(lg, block, index, infos, reads)
    if info is None or len(info.args) != 1 or not isinstance(info.args[0], gast.Name):
        return None
    x = info.args[0]
    inner = _definition(x, block, index, infos, reads)
    if _is_op(info, _LOG, mode):
        if _is_op(inner, _SUB, mode) and len(inner.args) == 2 and _one(inner.args[0]):
            p = inner.args[1]
            if isinstance(p, gast.Name):
                return "q", p.id, [index[lg.id], index[x.id]]
            return None
        return "p", x.id, [index[lg.id]]
    if _is_op(info, _LOG1P, mode) and _is_op(inner, _NEG, mode) and len(inner.args) == 1:
        p = inner.args[0]
        if isinstance(p, gast.Name):
            return "q", p.id, [index[lg.id], index[x.id]]
    return None


def _label(
    a: Any, b: Any, block: list, index: dict, infos: dict, mode: str, start: int, minus: bool
) -> tuple:
    """(y, the first position reading it) where the weights are y and `1 - y` (`minus`: `-y`
    and `1 - y`), the temporaries defined in the block after p; else (None, None)."""
    if not (isinstance(a, gast.Name) and isinstance(b, gast.Name)):
        return None, None
    reads = []
    if minus:
        neg = infos.get(id(block[index[a.id]])) if index.get(a.id, -1) > start else None
        if not (_is_op(neg, _NEG, mode) and len(neg.args) == 1):
            return None, None
        y = neg.args[0]
        reads.append(index[a.id])
    else:
        y = a
    sub = infos.get(id(block[index[b.id]])) if index.get(b.id, -1) > start else None
    if (
        isinstance(y, gast.Name)
        and _is_op(sub, _SUB, mode)
        and len(sub.args) == 2
        and _one(sub.args[0])
        and isinstance(sub.args[1], gast.Name)
        and sub.args[1].id == y.id
    ):
        return y, min([*reads, index[b.id]])
    return None, None


def _definition(t: Any, block: list, index: dict, infos: dict, reads: Counter) -> Any:
    """The info of the statement of `block` defining `t`, a temporary read once, or None."""
    if not (isinstance(t, gast.Name) and reads[t.id] == 1 and t.id in index):
        return None
    return infos.get(id(block[index[t.id]]))


def _inactive(w: Any, active: set[str]) -> bool:
    """A weight: a number, or a name that carries no derivative."""
    if isinstance(w, gast.Constant):
        return type(w.value) in (int, float)
    return isinstance(w, gast.Name) and w.id not in active


def _target(s: Any) -> str | None:
    if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
        return s.targets[0].id
    return None


def _reads(body: list) -> Counter:
    """How many times each name is read in the function."""
    return Counter(
        n.id for s in walk_stmts(body) for n in names(_loads_of(s)) if isinstance(n.ctx, gast.Load)
    )


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
