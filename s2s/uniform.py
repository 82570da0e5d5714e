"""Shape-specialized adjoint contributions of reductions (used by `reverse.py` when a call's
shape patterns are known, see `shapes.py`).

* **Uniform adjoints.** The adjoint of `np.sum(x)` or `np.mean(x)` (no axis) with respect to
  `x` is one number broadcast to x's shape: `unreduce(g, x, None, False)` fills an array with
  it. Where `x` is a temporary made once by an elementwise statement (`x = r ** 2`), whose
  adjoint only multiplies, divides and adds its result's adjoint with arrays that already
  give x's shape (`d_x * 2 * r`), the number itself gives the same contributions: the filled
  array is never made.
* **Shape twins.** `reduction_count(x)` reads only x's shape. An elementwise statement's
  operand with x's pattern has x's very shape (two axes of length other than 1 that broadcast
  together are equal), so the count reads that operand instead, and `x` may then need no
  keeping at all (in a gradient, `x = r ** 2` is not computed for a final `np.mean(x)`).

Both need the same proof that, where the statement reads `x`, `x` is the value its one
definition made: the definition comes earlier in the same block, and the operand read in its
place is a parameter never assigned or a name defined once, earlier in that block.
"""

from __future__ import annotations

import operator
from typing import Any

import gast
import numpy as np

from . import analyze as A
from . import shapes as S
from .nodes import is_call, is_temporary, loop_items, walk
from .normalize import CoreFunction

#: operators that broadcast their operands elementwise
_ELEMENTWISE = {
    operator.add,
    operator.sub,
    operator.mul,
    operator.truediv,
    operator.pow,
    operator.neg,
    operator.pos,
}
#: non-differentiable calls that give real values (without keywords)
_REAL_MAKERS = {np.zeros, np.ones, np.empty, np.zeros_like, np.ones_like, np.empty_like, len}
_SHAPED_LIKE = {np.zeros_like, np.ones_like, np.empty_like}
_ARITH = (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.Pow)
#: operators and NumPy functions that give real values for real operands (ufuncs do too)
_REAL = _ELEMENTWISE | {
    operator.matmul,
    np.sum,
    np.mean,
    np.max,
    np.min,
    np.amax,
    np.amin,
    np.prod,
    np.dot,
    np.matmul,
    np.transpose,
}


def _positions(stmts: list, out: dict) -> dict[int, tuple[int, int]]:
    """id(statement) -> (id of the block it is in, its index there)."""
    for k, s in enumerate(stmts):
        out[id(s)] = (id(stmts), k)
        for block in (getattr(s, "body", None), getattr(s, "orelse", None)):
            if isinstance(block, list):
                _positions(block, out)
    return out


def _ufunc(func: Any) -> bool:
    """`np.<ufunc>` in template code."""
    return (
        isinstance(func, gast.Attribute)
        and isinstance(func.value, gast.Name)
        and func.value.id == "np"
        and isinstance(getattr(np, func.attr, None), np.ufunc)
    )


def _arithmetic_names(value: Any, ufuncs: bool) -> list[str] | None:
    """The names `value` reads when it is arithmetic (`+ - * / **`, signs) of names and int or
    float constants, and with `ufuncs` calls of NumPy ufuncs (`np` is then among the names);
    else None."""
    read = []
    for n in walk(value):
        if isinstance(n, gast.Name):
            read.append(n.id)
        elif isinstance(n, gast.Constant):
            if type(n.value) not in (int, float):
                return None
        elif isinstance(n, gast.BinOp):
            if not isinstance(n.op, _ARITH):
                return None
        elif isinstance(n, gast.UnaryOp):
            if not isinstance(n.op, gast.USub | gast.UAdd):
                return None
        elif ufuncs and isinstance(n, gast.Call):
            if not _ufunc(n.func) or n.keywords:
                return None
        elif ufuncs and isinstance(n, gast.Attribute):
            if not _ufunc(n):
                return None
        elif not isinstance(n, gast.expr_context | gast.operator | gast.unaryop):
            return None
    return read


class Reductions:
    """The rewrites above, for one core function with shape facts."""

    def __init__(
        self,
        core: CoreFunction,
        infos: dict[int, A.StmtInfo],
        shapes: dict[str, Any],
        scalars: set[str],
        adjoint_name: Any,
    ) -> None:
        self.core, self.infos, self.shapes, self.scalars = core, infos, shapes, scalars
        self.d = adjoint_name
        self.defs: dict[str, list[int]] = {}
        self.stmts: dict[int, Any] = {}
        self.counters: set[str] = set()  # `for i in range(...)` targets: ints
        for s in A.walk_stmts(core.body):
            self.stmts[id(s)] = s
            if (
                isinstance(s, gast.For)
                and isinstance(s.target, gast.Name)
                and isinstance(loop_items(s), gast.Call)
                and isinstance(loop_items(s).func, gast.Name)
                and loop_items(s).func.id not in {*core.locals, *core.params}
                and core.namespace.resolve(loop_items(s).func) is range
            ):
                self.counters.add(s.target.id)
            info = infos[id(s)]
            for v in {info.target, info.partial} - {None}:
                self.defs.setdefault(v, []).append(id(s))
        self.pos = _positions(core.body, {})
        self.proven: dict[tuple[str, int], bool] = {}
        self._real: set[str] | None = None

    # -- proofs ---------------------------------------------------------------------------
    def _definition(self, x: str, at: int) -> A.StmtInfo | None:
        """The elementwise statement that made `x`, when `x` is made once, earlier in the
        block of statement `at`."""
        d = self.defs.get(x, [])
        if len(d) != 1 or x in self.core.params or not self._before(d[0], at):
            return None
        info = self.infos[d[0]]
        op = info.op
        if info.kind != A.OP or info.keywords or not info.args:
            return None
        if op in _ELEMENTWISE or isinstance(op, np.ufunc) and op.nout == 1:
            return info
        return None

    def _before(self, a: int, b: int) -> bool:
        (block_a, k_a), (block_b, k_b) = self.pos[a], self.pos[b]
        return block_a == block_b and k_a < k_b

    def _fixed_after(self, r: str, at: int) -> bool:
        """`r` holds one value from before statement `at` on: a parameter never assigned,
        or a name made once, earlier in the same block."""
        d = self.defs.get(r, [])
        if not d:
            return r in self.core.params
        return len(d) == 1 and self._before(d[0], at)

    def twin(self, x: str, at: int, same_kind: bool = False) -> str | None:
        """A name with x's very shape wherever statement `at` reads `x` (see the module doc),
        as far back as the chain of definitions goes; with `same_kind`, also complex just when
        `x` is (each step: a sum, difference, product, quotient or power with real numbers)."""
        found = None
        while (step := self._twin(x, at, same_kind)) is not None:
            found = x = step
            if not is_temporary(x):
                break  # a name of the user's: read that one
        return found

    def _twin(self, x: str, at: int, same_kind: bool) -> str | None:
        pattern = self.shapes.get(x)
        info = self._definition(x, at)
        if pattern is None or info is None:
            return None
        if same_kind and not (
            info.op in _ELEMENTWISE
            and all(
                isinstance(a, gast.Name) or type(getattr(a, "value", None)) in (int, float)
                for a in info.args
            )
            and len({a.id for a in info.args if isinstance(a, gast.Name)}) == 1
        ):
            return None
        sid = self.defs[x][0]
        found = [
            a.id
            for a in info.args
            if isinstance(a, gast.Name)
            and self.shapes.get(a.id) == pattern
            and self._fixed_after(a.id, sid)
        ]
        # a name of the user's first: the temporaries may then need no keeping
        return next((n for n in found if not is_temporary(n)), found[0] if found else None)

    def uniform(self, x: str, at: int, specs: dict, indexed: set[str]) -> bool:
        """Whether `x`'s adjoint may be a number where statement `at` makes it (see the module
        doc): every contribution of x's definition then has the shape and values it has
        when the adjoint is the filled array, or is itself such a number for an operand of
        x's shape, whose adjoint may be a number in turn."""
        key = (x, at)
        if key not in self.proven:
            self.proven[key] = False  # (definitions come earlier: no cycle, but be sure)
            self.proven[key] = self._uniform(x, at, specs, indexed)
        return self.proven[key]

    def _uniform(self, x: str, at: int, specs: dict, indexed: set[str]) -> bool:
        pattern = self.shapes.get(x)
        info = self._definition(x, at)
        if not pattern or info is None or x in indexed:
            return False
        sid = self.defs[x][0]
        spec = specs.get(sid)
        if spec is None or not spec.contribs:
            return False
        own = {info.target} | {a.id for a in info.args if isinstance(a, gast.Name)}
        d_x = self.d(x)
        for c in spec.contribs:
            if c.index is not None:
                return False
            if self._keeps_shape(c.value, c.var, d_x, own, pattern):
                continue
            if (
                self.shapes.get(c.var) == pattern
                and self._number_of(c.value, d_x)
                and self.uniform(c.var, sid, specs, indexed)
            ):
                continue
            return False
        return True

    def _number_of(self, value: Any, d_x: str) -> bool:
        """`value` is arithmetic of `d_x` with numbers: a number when `d_x` is one."""
        read = _arithmetic_names(value, ufuncs=False)
        return read is not None and all(n == d_x or n in self.scalars for n in read)

    def _keeps_shape(self, value: Any, var: str, d_x: str, own: set[str], pattern: Any) -> bool:
        """`value` (a contribution to `var`) is an elementwise expression, maybe summed to
        var's shape, of the adjoint `d_x`, numbers, and the statement's own operands and result
        whose patterns broadcast to the result's: its shape (and so its values) is the same
        whether `d_x` is a number or an array of the result's shape."""
        if is_call(value, "unbroadcast", 2):
            target = value.args[1]
            if not (isinstance(target, gast.Name) and target.id == var):
                return False
            value = value.args[0]
        elif (
            isinstance(value, gast.Call)
            and isinstance(value.func, gast.Attribute)
            and value.func.attr == "sum"
            and not value.args
            and [k.arg for k in value.keywords] == ["axis"]
            and isinstance(value.keywords[0].value, gast.Constant | gast.Tuple)
        ):
            value = value.func.value
        read = _arithmetic_names(value, ufuncs=True)
        if read is None:
            return False
        patterns: list = []
        for n in read:
            if n == d_x or n in self.scalars or n == "np":
                continue
            if n not in own or n not in self.shapes:
                return False
            patterns.append(self.shapes[n])
        return bool(patterns) and S.broadcast(*patterns) == pattern

    def real(self, x: str) -> bool:
        """Whether `x` always holds a real value: the call's arguments are real (complex ones
        are refused), and arithmetic, `@`, ufuncs, indexing and these reductions keep real
        values real (a greatest fixpoint over every assignment of every name)."""
        if self._real is None:
            reals = set(self.defs) | set(self.core.params) | self.counters
            infos = self.infos
            changed = True
            while changed:
                changed = False
                for v in sorted(reals):
                    for sid in self.defs.get(v, ()):
                        if not self._keeps_real(infos[sid], self.stmts[sid], reals):
                            reals.discard(v)
                            changed = True
                            break
            self._real = reals
        return x in self._real

    def all_real(self) -> bool:
        """Whether every name of the function always holds real values (see `real`): then so
        does every adjoint, the rules being real for real values and a real seed."""
        return all(self.real(v) for v in self.defs)

    def _keeps_real(self, info: A.StmtInfo, s: Any, reals: set[str]) -> bool:
        if info.partial is not None and info.target is None:
            return False  # written into: not followed
        if not all(o in reals for o in info.operands):
            return False
        if info.kind in (A.COPY, A.GETITEM, A.BUILD):
            return True
        if info.kind == A.NONDIFF and isinstance(s, gast.Assign):
            v = s.value
            if isinstance(v, gast.Attribute):
                return v.attr in ("shape", "ndim", "size")  # integers
            # zeros and ones of a given shape or like a real array (no dtype given, a `shape=`
            # for the like-makers: `np.zeros_like(x, shape=(n, H))`), a length
            return (
                isinstance(v, gast.Call)
                and len(v.args) == 1
                and info.op in _REAL_MAKERS
                and all(k.arg == "shape" and info.op in _SHAPED_LIKE for k in v.keywords)
            )
        if info.kind != A.OP or info.keywords:
            return False
        op = info.op
        if not (
            op in _REAL or isinstance(op, np.ufunc) or getattr(op, "__module__", None) == "math"
        ):
            return False  # (`math` functions give floats and ints: complex is `cmath`'s)
        for a in info.args:
            if isinstance(a, gast.Constant) and type(a.value) not in (int, float, bool):
                return False
            if isinstance(a, gast.Name) and a.id not in reals and a.id not in self.scalars:
                return False
        return True

    # -- the rewrite ----------------------------------------------------------------------
    def rewrite(self, sid: int, spec: Any, specs: dict, indexed: set[str]) -> bool:
        """Rewrite statement `sid`'s adjoint `spec` in place; whether anything changed."""
        changed = False
        for c in spec.contribs:
            v = c.value
            if (
                c.index is None
                and is_call(v, "unreduce", 4)
                and isinstance(v.args[1], gast.Name)
                and isinstance(v.args[2], gast.Constant)
                and v.args[2].value is None
                and self.uniform(v.args[1].id, sid, specs, indexed)
            ):
                c.value = v.args[0]
                changed = True
        for node in spec.pre + [c.value for c in spec.contribs]:
            for n in walk(node):
                if is_call(n, "reduction_count", 2) and isinstance(n.args[0], gast.Name):
                    twin = self.twin(n.args[0].id, sid)
                    if twin is not None:
                        n.args[0] = gast.Name(
                            id=twin, ctx=gast.Load(), annotation=None, type_comment=None
                        )
                        changed = True
        return changed
