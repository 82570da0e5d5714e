"""Stage 2: desugar a function to the small core that the transformers read.

The core (see docs/architecture.md):

* every expression's operands are *atoms*: a local name, a constant, or a dotted name rooted at a
  global (``np.pi``); each statement does one operation;
* the target of an assignment never appears among its own operands;
* ``for`` loops iterate over ``range(...)`` (possibly sliced); loops over arrays, lists,
  ``enumerate``, ``zip`` and ``reversed`` are rewritten to index loops; ``while`` tests are names
  recomputed at the end of the body;
* ``break``, ``continue`` and early ``return`` become flags; a loop that can break ends its body
  with ``if flag: break``, the only ``break`` the core has; the function ends in one ``return``;
* augmented assignment, tuple unpacking, ternaries, ``and``/``or``, chained comparisons and
  comprehensions become plain statements.

Every statement keeps ``s2s_line``, the primal line it came from, for comments and errors.
"""

from __future__ import annotations

import ast
import builtins
import re
import types
from dataclasses import dataclass, field
from typing import Any

import gast

from . import markers
from .aliasing import (
    MUTATING_METHODS,
    check_shared_writes,
    check_writes_through_views,
    containers,
    target_names,
)
from .errors import NameResolutionError, UnsupportedSyntaxError
from .nodes import HOLDS_STATEMENTS, copy_tree, statements, walk
from .nodes import names as name_nodes
from .parse import MISSING, ParsedFunction, SourceInfo


def _dotted(node: Any) -> str:
    if isinstance(node, gast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return getattr(node, "id", "?")


# ---------------------------------------------------------------------------------------------
# small tree helpers


def name(id_: str, ctx: Any = None) -> gast.Name:
    return gast.Name(id=id_, ctx=ctx or gast.Load(), annotation=None, type_comment=None)


def store(id_: str) -> gast.Name:
    return name(id_, gast.Store())


def const(value: Any) -> gast.Constant:
    return gast.Constant(value=value, kind=None)


def assign(target: str | Any, value: Any, line: int | None) -> gast.Assign:
    tgt = store(target) if isinstance(target, str) else target
    node = gast.Assign(targets=[tgt], value=value, type_comment=None)
    node.s2s_line = line
    return node


def tag(node: Any, line: int | None) -> Any:
    node.s2s_line = line
    return node


def is_atom(node: Any) -> bool:
    if isinstance(node, (gast.Name, gast.Constant)):
        return True
    return isinstance(node, gast.Attribute) and getattr(node, "s2s_global", False)


def load_copy(node: Any) -> Any:
    """A fresh Load copy of an atom."""
    if isinstance(node, gast.Name):
        return _known_object(name(node.id), node)
    if isinstance(node, gast.Constant):
        return const(node.value)
    if isinstance(node, gast.Attribute):
        out = gast.Attribute(value=load_copy(node.value), attr=node.attr, ctx=gast.Load())
        out.s2s_global = getattr(node, "s2s_global", False)
        return out
    if isinstance(node, (gast.Tuple, gast.List)):  # e.g. x.transpose(2, 1, 0)'s axes
        return type(node)(elts=[load_copy(e) for e in node.elts], ctx=gast.Load())
    raise TypeError(node)


_UNSUPPORTED_STMT = {
    gast.Try: (
        "`try` statements cannot be differentiated",
        "remove the try/except, or move it outside the differentiated function",
    ),
    gast.With: (
        "`with` blocks cannot be differentiated (only s2s's own context managers)",
        "move the `with` outside the differentiated function",
    ),
    gast.AsyncWith: ("`async with` cannot be differentiated", "use plain code"),
    gast.AsyncFor: ("`async for` cannot be differentiated", "use a plain `for` loop"),
    gast.Global: (
        "`global` declarations cannot be differentiated (writes to globals are side "
        "effects s2s cannot reverse)",
        "return the value instead of writing a global",
    ),
    gast.Nonlocal: (
        "`nonlocal` declarations cannot be differentiated",
        "return the value instead of writing an enclosing variable",
    ),
    gast.ClassDef: (
        "class definitions inside a differentiated function are not supported",
        "define the class at module level",
    ),
    gast.FunctionDef: (
        "nested function definitions are not supported",
        "define the helper at module level and call it",
    ),
    gast.AsyncFunctionDef: ("nested async functions are not supported", "use module-level code"),
    gast.Delete: ("`del` is not supported", "rebind the name instead"),
    gast.Import: (
        "`import` inside a differentiated function is not supported",
        "import at module level",
    ),
    gast.ImportFrom: (
        "`import` inside a differentiated function is not supported",
        "import at module level",
    ),
}

_UNSUPPORTED_EXPR = {
    gast.Lambda: (
        "lambda expressions cannot be differentiated",
        "define a module-level function with `def` and call it",
    ),
    gast.Yield: ("`yield` (generators) cannot be differentiated", "return a list instead"),
    gast.YieldFrom: ("`yield from` cannot be differentiated", "return a list instead"),
    gast.Await: ("`await` cannot be differentiated", "use plain code"),
    gast.NamedExpr: ("the walrus operator `:=` is not supported", "assign on its own line"),
    gast.SetComp: ("set comprehensions are not supported", "use a list comprehension"),
    gast.Set: ("sets are not supported", "use a list or tuple"),
    gast.Starred: ("star-arguments (`*args`) are not supported", "pass arguments one by one"),
}

_UNSUPPORTED_EXPR_CLASSES = tuple(_UNSUPPORTED_EXPR)


@dataclass
class Hook:
    """`with s2s.insert_grad_of(var) as grad: body`: `body` runs in the backward sweep on the
    adjoint of `var`; `reads` are the function's own names it reads."""

    var: str
    grad: str
    body: list
    reads: list[str]


_NOT_IN_HOOK = (
    gast.Return,
    gast.Break,
    gast.Continue,
    gast.Yield,
    gast.YieldFrom,
    gast.With,
    gast.FunctionDef,
    gast.Lambda,
    gast.Global,
    gast.Nonlocal,
)


@dataclass
class LoopCtx:
    brk: str | None = None  # break flag name, created on demand
    cnt: str | None = None  # continue flag name, created on demand
    depth: int = 1


@dataclass
class Normalizer:
    info: SourceInfo
    namespace: Any
    locals: set[str]
    counter: int = 0
    ret_flag: str | None = None
    ret_value: str = "_result"
    needs_ret_value: bool = False
    line: int | None = None
    flag_names: dict[str, int] = field(default_factory=dict)

    # -- names ---------------------------------------------------------------------------------
    def fresh(self) -> str:
        self.counter += 1
        self.locals.add(f"_{self.counter}")
        return f"_{self.counter}"

    def flag(self, base: str) -> str:
        n = self.flag_names.get(base, 0) + 1
        self.flag_names[base] = n
        flag = f"_{base}" if n == 1 else f"_{base}{n}"
        self.locals.add(flag)
        return flag

    def error(self, node: Any, message: str, hint: str | None = None) -> Exception:
        return self.info.error(UnsupportedSyntaxError, node, message, hint)

    def is_local(self, node: Any) -> bool:
        return isinstance(node, gast.Name) and node.id in self.locals

    def is_global_ref(self, node: Any) -> bool:
        """A Name or dotted chain rooted at a non-local name."""
        while isinstance(node, gast.Attribute):
            node = node.value
        return isinstance(node, gast.Name) and node.id not in self.locals

    def resolves_to(self, node: Any, obj: Any) -> bool:
        return self.is_global_ref(node) and self.namespace.resolve(node) is obj

    # -- s2s's own context managers ----------------------------------------------------------
    def with_kind(self, s: Any) -> str | None:
        """ "hook" for `with s2s.insert_grad_of(x) as dx:`, "checkpoint" for
        `with s2s.checkpoint():`, None for any other `with`."""
        if not isinstance(s, gast.With) or len(s.items) != 1:
            return None
        ce = s.items[0].context_expr
        if isinstance(ce, gast.Call):
            if self.resolves_to(ce.func, markers.insert_grad_of):
                return "hook"
            if self.resolves_to(ce.func, markers.checkpoint):
                return "checkpoint"
        return None

    def check_withs(self, tree: Any) -> None:
        """Refuse every `with` but s2s's own, and hook blocks that could not run on their own
        in the backward sweep; record the hooks' names."""
        self.hook_names: dict[int, tuple[set[str], list[str]]] = {}
        if not any(isinstance(s, (gast.With, gast.AsyncWith)) for s in statements(tree)):
            return  # (most functions: no walk of the expressions, nor of the names)
        withs = [s for s in walk(tree) if isinstance(s, (gast.With, gast.AsyncWith))]
        hooks = [s for s in withs if self.with_kind(s) == "hook"]
        inside: set[int] = set()
        for h in hooks:  # the blocks and their `as` names are the backward sweep's own
            inside |= {id(n) for b in h.body for n in walk(b)}
            inside.add(id(h.items[0].optional_vars))
        # (a set for membership only: its order, which the walk sets, does not matter)
        outside = {n.id for n in name_nodes(tree) if id(n) not in inside}
        for s in withs:
            kind = self.with_kind(s)
            if kind is None:
                msg, hint = _UNSUPPORTED_STMT[type(s)]
                raise self.error(s, msg, hint)
            item = s.items[0]
            call = item.context_expr
            if kind == "checkpoint":
                if call.args or call.keywords or item.optional_vars is not None:
                    raise self.error(
                        s,
                        "s2s.checkpoint() takes no arguments and binds no name",
                        "write `with s2s.checkpoint():`",
                    )
                continue
            if len(call.args) != 1 or call.keywords or not self.is_local(call.args[0]):
                raise self.error(
                    s,
                    "s2s.insert_grad_of takes one variable of the function",
                    "write `with s2s.insert_grad_of(h) as dh:` with h a local variable",
                )
            var = call.args[0].id
            ov = item.optional_vars
            if not isinstance(ov, gast.Name):
                raise self.error(
                    s,
                    "s2s.insert_grad_of needs `as NAME` for the gradient it gives the block",
                    f"write `with s2s.insert_grad_of({var}) as d{var}:`",
                )
            body = gast.Module(body=s.body, type_ignores=[])
            for n in walk(body):
                if isinstance(n, _NOT_IN_HOOK):
                    raise self.error(
                        n,
                        f"`{type(n).__name__.lower()}` cannot be used inside an "
                        "s2s.insert_grad_of block (it runs on its own in the backward sweep)",
                        "compute a new value for the gradient name and let the block end",
                    )
            stored = {
                n.id
                for n in walk(body)
                if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)
            }
            clash = sorted((stored | {ov.id}) & outside)
            if clash:
                raise self.error(
                    s,
                    f"the insert_grad_of block binds {clash[0]!r}, a name the function "
                    "also uses outside the block",
                    "give the gradient and the block's temporaries names of their own (the "
                    "block runs in the backward sweep, where the function's names hold their "
                    "values at this point)",
                )
            reads = []
            for n in walk(body):
                if (
                    isinstance(n, gast.Name)
                    and isinstance(n.ctx, gast.Load)
                    and n.id in outside
                    and n.id in self.locals
                    and n.id not in reads
                ):
                    reads.append(n.id)
            self.hook_names[id(s)] = (stored | {ov.id}, reads)

    def hook_stmt(self, s: gast.With) -> Any:
        """The core form of a hook: `insert_grad_of(x)` as a statement carrying the block."""
        item = s.items[0]
        call = item.context_expr
        _, reads = self.hook_names[id(s)]
        node = gast.Expr(
            value=gast.Call(
                func=load_copy_chain(call.func), args=[name(call.args[0].id)], keywords=[]
            )
        )
        body = [copy_tree(b) for b in s.body]
        for b in body:
            for n in walk(b):
                if isinstance(n, gast.stmt):
                    n.s2s_line = self.line
        node.s2s_hook = Hook(
            var=call.args[0].id, grad=item.optional_vars.id, body=body, reads=reads
        )
        return node

    # -- pass 1: jumps (break / continue / return) -----------------------------------------------
    def lower_jumps(self, stmts: list, ctx: LoopCtx | None, tail: bool) -> list:
        out: list = []
        for idx, s in enumerate(stmts):
            rest = stmts[idx + 1 :]
            last = tail and not rest
            line = getattr(s, "lineno", None)
            if self.with_kind(s) == "checkpoint":  # in the core: `if True:`, marked
                block = tag(gast.If(test=const(True), body=s.body, orelse=[]), line)
                block.s2s_checkpoint = True
                s = block
            if isinstance(s, gast.Return):
                value = s.value if s.value is not None else const(None)
                if last and ctx is None:
                    out.append(tag(gast.Return(value=value), line))
                    return out
                self.needs_ret_value = True
                out.append(assign(self.ret_value, value, line))
                if not (tail and ctx is None and not rest):
                    if ctx is not None:
                        if self.ret_flag is None:
                            self.ret_flag = self.flag("return")
                        out.append(assign(self.ret_flag, const(True), line))
                        if ctx.brk is None:
                            ctx.brk = self.flag("break")
                        out.append(assign(ctx.brk, const(True), line))
                    elif not last:
                        if self.ret_flag is None:
                            self.ret_flag = self.flag("return")
                        out.append(assign(self.ret_flag, const(True), line))
                return out
            if isinstance(s, gast.Break):
                if ctx is None:
                    raise self.error(s, "`break` outside a loop")
                if ctx.brk is None:
                    ctx.brk = self.flag("break")
                out.append(assign(ctx.brk, const(True), line))
                return out
            if isinstance(s, gast.Continue):
                if ctx is None:
                    raise self.error(s, "`continue` outside a loop")
                if ctx.cnt is None:
                    ctx.cnt = self.flag("continue")
                out.append(assign(ctx.cnt, const(True), line))
                return out
            if isinstance(s, gast.If) and ctx is None and rest and not _is_checkpoint_with(s):
                ends = _returns_always(s.body), _returns_always(s.orelse)
                if any(ends):  # a guard clause: what follows runs only in the other branch
                    body = s.body if ends[0] else s.body + rest
                    orelse = s.orelse if ends[1] else s.orelse + rest
                    guarded = gast.If(test=s.test, body=body, orelse=orelse)
                    out += self.lower_jumps([tag(guarded, line)], ctx, tail)
                    return out
            if isinstance(s, gast.If):
                before = self._jump_state(ctx)
                new = gast.If(
                    test=s.test,
                    body=self.lower_jumps(s.body, ctx, last),
                    orelse=self.lower_jumps(s.orelse, ctx, last),
                )
                new.s2s_checkpoint = getattr(s, "s2s_checkpoint", False)
                out.append(tag(new, line))
                guard = self._jump_guard(ctx, before, s)
                if guard is not None and rest:
                    out.append(
                        tag(
                            gast.If(test=guard, body=self.lower_jumps(rest, ctx, tail), orelse=[]),
                            line,
                        )
                    )
                    return out
                continue
            if isinstance(s, (gast.For, gast.While)):
                if s.orelse:
                    raise self.error(
                        s,
                        "`else` clauses on loops are not supported",
                        "use a flag set before `break`",
                    )
                inner = LoopCtx(depth=(ctx.depth + 1) if ctx else 1)
                body = self.lower_jumps(s.body, inner, False)
                if inner.cnt is not None:
                    body.insert(0, assign(inner.cnt, const(False), line))
                if inner.brk is not None:
                    body.append(
                        tag(
                            gast.If(
                                test=name(inner.brk), body=[tag(gast.Break(), line)], orelse=[]
                            ),
                            line,
                        )
                    )
                    out.append(assign(inner.brk, const(False), line))
                if isinstance(s, gast.For):
                    loop = gast.For(
                        target=s.target, iter=s.iter, body=body, orelse=[], type_comment=None
                    )
                    loop.s2s_number_guard = getattr(s, "s2s_number_guard", None)  # aliasing
                else:
                    loop = gast.While(test=s.test, body=body, orelse=[])
                out.append(tag(loop, line))
                has_ret = self._contains_return(s)
                if has_ret and rest:
                    if ctx is not None:
                        if ctx.brk is None:
                            ctx.brk = self.flag("break")
                        out.append(
                            tag(
                                gast.If(
                                    test=name(self.ret_flag),
                                    body=[assign(ctx.brk, const(True), line)],
                                    orelse=[],
                                ),
                                line,
                            )
                        )
                    guard = gast.UnaryOp(op=gast.Not(), operand=name(self.ret_flag))
                    out.append(
                        tag(
                            gast.If(test=guard, body=self.lower_jumps(rest, ctx, tail), orelse=[]),
                            line,
                        )
                    )
                    return out
                if has_ret and ctx is not None:
                    if ctx.brk is None:
                        ctx.brk = self.flag("break")
                    out.append(
                        tag(
                            gast.If(
                                test=name(self.ret_flag),
                                body=[assign(ctx.brk, const(True), line)],
                                orelse=[],
                            ),
                            line,
                        )
                    )
                continue
            out.append(s)
        return out

    def _contains_return(self, node: Any) -> bool:
        return any(isinstance(n, gast.Return) for n in statements(node))

    def _jump_state(self, ctx: LoopCtx | None) -> tuple:
        return (ctx.brk if ctx else None, ctx.cnt if ctx else None, self.ret_flag)

    def _jump_guard(self, ctx: LoopCtx | None, before: tuple, s: Any) -> Any:
        """The test under which the statements after `s` still run, or None if `s` never
        jumps."""
        if not _jumps_same_loop(s):
            return None
        flags = []
        if ctx is not None:
            if ctx.brk:
                flags.append(ctx.brk)
            if ctx.cnt:
                flags.append(ctx.cnt)
        elif self.ret_flag:
            flags.append(self.ret_flag)
        if not flags:
            return None
        if len(flags) == 1:
            return gast.UnaryOp(op=gast.Not(), operand=name(flags[0]))
        return gast.UnaryOp(
            op=gast.Not(), operand=gast.BoolOp(op=gast.Or(), values=[name(f) for f in flags])
        )

    # -- pass 2: one operation per statement -----------------------------------------------------
    def block(self, stmts: list) -> list:
        out: list = []
        for s in stmts:
            self.line = getattr(s, "s2s_line", None) or getattr(s, "lineno", None) or self.line
            self.stmt(s, out)
        return out

    def emit(self, out: list, node: Any) -> None:
        node.s2s_line = self.line
        out.append(node)

    def stmt(self, s: Any, out: list) -> None:
        if isinstance(s, gast.With) and self.with_kind(s) == "hook":
            self.emit(out, self.hook_stmt(s))
            return
        for cls, (msg, hint) in _UNSUPPORTED_STMT.items():
            if isinstance(s, cls):
                raise self.error(s, msg, hint)
        if isinstance(s, gast.Assign):
            if len(s.targets) == 1:
                self.assign_to(s.targets[0], s.value, out)
                if getattr(s, "s2s_number_guard", None):  # `v = a[i]`: see aliasing
                    read = ast.unparse(gast.gast_to_ast(s.value))
                    self.emit(out, self.number_guard(s.s2s_number_guard, s.targets[0].id, read))
            else:
                atom = self.atom(s.value, out)
                for t in s.targets:
                    self.assign_to(t, atom, out)
        elif isinstance(s, gast.AnnAssign):
            if s.value is not None:
                self.assign_to(s.target, s.value, out)
        elif isinstance(s, gast.AugAssign):
            self.aug_assign(s, out)
        elif isinstance(s, gast.Expr):
            if isinstance(s.value, gast.Constant):
                return  # docstring or bare constant
            value = self.expr(s.value, out)
            if isinstance(value, gast.Call):
                self.emit(out, gast.Expr(value=value))
        elif isinstance(s, gast.If):
            test = self.atom(s.test, out)
            node = gast.If(test=test, body=self.block(s.body), orelse=self.block(s.orelse))
            node.s2s_checkpoint = getattr(s, "s2s_checkpoint", False)
            self.line = getattr(s, "s2s_line", None) or getattr(s, "lineno", None)
            self.emit(out, node)
        elif isinstance(s, gast.For):
            self.for_loop(s, out)
        elif isinstance(s, gast.While):
            self.while_loop(s, out)
        elif isinstance(s, gast.Break):
            self.emit(out, gast.Break())
        elif isinstance(s, gast.Return):
            value = self.atom(s.value, out) if s.value is not None else const(None)
            self.emit(out, gast.Return(value=value))
        elif isinstance(s, gast.Pass):
            return
        elif isinstance(s, gast.Assert):
            test = self.atom(s.test, out)
            msg = self.atom(s.msg, out) if s.msg is not None else None
            self.emit(out, gast.Assert(test=test, msg=msg))
        elif isinstance(s, gast.Raise):
            exc = self.expr(s.exc, out) if s.exc is not None else None
            self.emit(out, gast.Raise(exc=exc, cause=None))
        else:
            raise self.error(s, f"`{type(s).__name__}` statements are not supported")

    # assignment -------------------------------------------------------------------------------
    def assign_to(self, target: Any, value: Any, out: list) -> None:
        if isinstance(target, gast.Name):
            expr = self.expr(value, out) if not is_atom(value) else load_copy(value)
            if target.id in _atom_names(expr) and not isinstance(expr, gast.Name):
                tmp = self.fresh()
                self.emit(out, assign(tmp, expr, self.line))
                expr = name(tmp)
            if isinstance(expr, gast.Name) and expr.id == target.id:
                return
            self.emit(out, assign(target.id, expr, self.line))
        elif isinstance(target, (gast.Tuple, gast.List)):
            self.unpack(target, value, out)
        elif isinstance(target, gast.Subscript):
            base = target.value
            if not isinstance(base, gast.Name):
                raise self.error(
                    target,
                    "assignment into a nested subscript is not supported",
                    "index with one subscript, as in x[i, j] = v, or build the inner value "
                    "first and assign it whole",
                )
            if base.id not in self.locals:
                raise self.error(
                    target,
                    f"assignment into the global {base.id!r} is not supported "
                    "(mutating a global is a side effect s2s cannot reverse)",
                    f"copy it first: {base.id}_local = {base.id}.copy()",
                )
            index = self.index(target.slice, out)
            atom = self.atom(value, out)
            sub = gast.Subscript(value=name(base.id), slice=index, ctx=gast.Store())
            node = gast.Assign(targets=[sub], value=atom, type_comment=None)
            self.emit(out, node)
        elif isinstance(target, gast.Attribute):
            raise self.error(
                target,
                "assignment to an attribute is not supported",
                "keep the value in a local variable or a dict",
            )
        elif isinstance(target, gast.Starred):
            raise self.error(
                target, "starred assignment targets are not supported", "unpack element by element"
            )
        else:
            raise self.error(target, "unsupported assignment target")

    def unpack(self, target: Any, value: Any, out: list) -> None:
        elts = target.elts
        if any(isinstance(e, gast.Starred) for e in elts):
            raise self.error(
                target, "starred assignment targets are not supported", "unpack element by element"
            )
        if isinstance(value, (gast.Tuple, gast.List)) and len(value.elts) == len(elts):
            atoms = [self.atom(v, out) for v in value.elts]
            targets = target_names(target)
            safe = []
            for a in atoms:
                if isinstance(a, gast.Name) and a.id in targets:
                    tmp = self.fresh()
                    self.emit(out, assign(tmp, a, self.line))
                    a = name(tmp)
                safe.append(a)
            for t, a in zip(elts, safe, strict=True):
                self.assign_to(t, a, out)
            return
        atom = self.atom(value, out)
        if isinstance(atom, gast.Name) and atom.id in target_names(target):
            tmp = self.fresh()
            self.emit(out, assign(tmp, atom, self.line))
            atom = name(tmp)
        for i, t in enumerate(elts):
            item = gast.Subscript(value=load_copy(atom), slice=const(i), ctx=gast.Load())
            self.assign_to(t, item, out)

    def guard(self, helper: str, args: list) -> Any:
        """`alias_guard(v, 'model.py:12')`: a run-time check that refuses what only the run
        time can tell apart (see backends/runtime.py); no derivative."""
        base = self.info.filename.replace("\\", "/").rsplit("/", 1)[-1]
        where = f"{base}:{self.info.file_line(self.line)}"
        guard = gast.Expr(
            value=gast.Call(func=name(helper), args=[*args, const(where)], keywords=[])
        )
        guard.s2s_guard = True
        return guard

    def number_guard(self, array: str, item: str, read: str) -> Any:
        """`number_guard(v, 'a|v|<read>', ...)`: `v`, read from `array` (which is written into
        later) by `read`, must be a number, not a view of `array` (see aliasing)."""
        return self.guard("number_guard", [name(item), const(f"{array}|{item}|{read}")])

    def aug_assign(self, s: gast.AugAssign, out: list) -> None:
        target = s.target
        if isinstance(target, gast.Name):
            if target.id not in self.locals:
                raise self.error(s, f"augmented assignment to the global {target.id!r}")
            if getattr(s, "s2s_alias_guard", False):
                self.emit(out, self.guard("alias_guard", [name(target.id)]))
            rhs = self.atom(s.value, out)
            expr = gast.BinOp(left=name(target.id), op=s.op, right=rhs)
            self.assign_to(store(target.id), expr, out)
        elif isinstance(target, gast.Subscript):
            if not isinstance(target.value, gast.Name):
                raise self.error(
                    s,
                    "augmented assignment into a nested subscript is not supported",
                    "index with one subscript, as in x[i, j] += v",
                )
            if target.value.id not in self.locals:
                raise self.error(
                    s,
                    f"augmented assignment into the global {target.value.id!r} is not supported",
                    "copy the global into a local first",
                )
            index = self.index(target.slice, out)
            rhs = self.atom(s.value, out)
            old = self.fresh()
            self.emit(
                out,
                assign(
                    old,
                    gast.Subscript(
                        value=name(target.value.id), slice=_copy_index(index), ctx=gast.Load()
                    ),
                    self.line,
                ),
            )
            if getattr(s, "s2s_item_guard", False):
                self.emit(out, self.guard("item_guard", [name(target.value.id), name(old)]))
            new = self.fresh()
            self.emit(out, assign(new, gast.BinOp(left=name(old), op=s.op, right=rhs), self.line))
            sub = gast.Subscript(
                value=name(target.value.id), slice=_copy_index(index), ctx=gast.Store()
            )
            self.emit(out, gast.Assign(targets=[sub], value=name(new), type_comment=None))
        else:
            raise self.error(s, "unsupported augmented-assignment target")

    # loops ------------------------------------------------------------------------------------
    def for_loop(self, s: gast.For, out: list) -> None:
        self._for_loop(s, out)
        if getattr(s, "s2s_number_guard", None):  # a loop form that binds no item to guard
            raise self.error(
                s,
                f"writing into {s.s2s_number_guard!r} while the item {s.target.id!r} of this "
                "loop may be a view of it (a row), and is read later: s2s cannot differentiate "
                "that",
                f"loop over a copy ({s.target.id} in {s.s2s_number_guard}.copy()), or finish "
                f"reading {s.target.id!r} before writing into {s.s2s_number_guard!r}",
            )

    def _for_loop(self, s: gast.For, out: list) -> None:
        it = s.iter
        if isinstance(it, gast.Call) and self.resolves_to(it.func, markers.checkpointed):
            if len(it.args) != 1 or it.keywords:
                raise self.error(
                    s,
                    "s2s.checkpointed takes the loop's iterable",
                    "write `for t in s2s.checkpointed(range(T)):`",
                )
            plain = gast.For(
                target=s.target, iter=it.args[0], body=s.body, orelse=[], type_comment=None
            )
            plain.lineno = getattr(s, "lineno", None)
            plain.s2s_line = getattr(s, "s2s_line", None)
            self.for_loop(plain, out)
            out[-1].s2s_checkpoint_loop = True  # cut into segments by s2s/checkpoint.py
            return
        line = self.line
        target = s.target
        call = it if isinstance(it, gast.Call) else None
        fn = call.func if call is not None else None

        def body_with(prefix: list) -> list:
            self.line = line
            inner = prefix + self.block(s.body)
            self.line = line
            return inner

        if call is not None and self.resolves_to(fn, range) and not call.keywords:
            args = [self.atom(a, out) for a in call.args]
            loop_var = self._loop_var(target)
            prefix: list = []
            if not isinstance(target, gast.Name):
                self.line = line
                self.assign_to(target, name(loop_var), prefix)
            rng = gast.Call(func=name("range"), args=args, keywords=[])
            self.emit_for(out, loop_var, rng, body_with(prefix), line)
            return
        if call is not None and self.resolves_to(fn, reversed) and len(call.args) == 1:
            inner = call.args[0]
            if (
                isinstance(inner, gast.Call)
                and self.resolves_to(inner.func, range)
                and not inner.keywords
            ):
                args = [self.atom(a, out) for a in inner.args]
                rng = gast.Subscript(
                    value=gast.Call(func=name("range"), args=args, keywords=[]),
                    slice=gast.Slice(lower=None, upper=None, step=const(-1)),
                    ctx=gast.Load(),
                )
                loop_var = self._loop_var(target)
                prefix = []
                if not isinstance(target, gast.Name):
                    self.assign_to(target, name(loop_var), prefix)
                self.emit_for(out, loop_var, rng, body_with(prefix), line)
                return
            seq = self._loop_sequence(self.atom(inner, out), s, out)
            idx = self.fresh()
            n = self.fresh()
            self.emit(
                out,
                assign(n, gast.Call(func=name("len"), args=[load_copy(seq)], keywords=[]), line),
            )
            last = self.fresh()
            self.emit(
                out, assign(last, gast.BinOp(left=name(n), op=gast.Sub(), right=const(1)), line)
            )
            rng = gast.Call(
                func=name("range"), args=[name(last), const(-1), const(-1)], keywords=[]
            )
            prefix = []
            self.line = line
            self.assign_to(
                target,
                gast.Subscript(value=load_copy(seq), slice=name(idx), ctx=gast.Load()),
                prefix,
            )
            self._item_guard(s, prefix)
            self.emit_for(out, idx, rng, body_with(prefix), line)
            return
        if call is not None and self.resolves_to(fn, enumerate):
            if len(call.args) != 1 or call.keywords:
                start = call.args[1] if len(call.args) > 1 else call.keywords[0].value
            else:
                start = None
            if not (isinstance(target, gast.Tuple) and len(target.elts) == 2):
                raise self.error(s, "unpack `enumerate` as `for i, x in enumerate(xs):`")
            view = self._dict_view(call.args[0], None, [])
            if view is not None:  # enumerate(d.items()): the dict loop's index is the count
                self._dict_loop(
                    s, view, target.elts[1], out, body_with, line, target.elts[0], start
                )
                return
            seq = self._loop_sequence(self.atom(call.args[0], out), s, out)
            i_target, x_target = target.elts
            idx = (
                i_target.id if (isinstance(i_target, gast.Name) and start is None) else self.fresh()
            )
            prefix = []
            self.line = line
            if idx != getattr(i_target, "id", None):
                if start is not None:
                    start_atom = self.atom(start, out)
                    self.assign_to(
                        i_target,
                        gast.BinOp(left=name(idx), op=gast.Add(), right=start_atom),
                        prefix,
                    )
                else:
                    self.assign_to(i_target, name(idx), prefix)
            self.assign_to(
                x_target,
                gast.Subscript(value=load_copy(seq), slice=name(idx), ctx=gast.Load()),
                prefix,
            )
            n = gast.Call(func=name("len"), args=[load_copy(seq)], keywords=[])
            rng = gast.Call(func=name("range"), args=[n], keywords=[])
            self.emit_for(out, idx, rng, body_with(prefix), line)
            return
        if call is not None and self.resolves_to(fn, zip) and _zip_strictness(call) is None:
            raise self._zip_keywords_error(call)
        if call is not None and self.resolves_to(fn, zip):
            seqs = [self._loop_sequence(self.atom(a, out), s, out) for a in call.args]
            if not (isinstance(target, gast.Tuple) and len(target.elts) == len(seqs)):
                raise self.error(s, "unpack `zip` into as many names as it has arguments")
            idx = self.fresh()
            if _zip_strictness(call) and len(seqs) > 1:  # zip(a, b, strict=True)
                n = self.fresh()
                call_n = gast.Call(
                    func=name("zip_length"), args=[load_copy(a) for a in seqs], keywords=[]
                )
                self.emit(out, assign(n, call_n, line))
                n_expr = name(n)
            elif len(seqs) == 1:
                n_expr = gast.Call(func=name("len"), args=[load_copy(seqs[0])], keywords=[])
            else:
                n = self.fresh()
                lens = [gast.Call(func=name("len"), args=[load_copy(a)], keywords=[]) for a in seqs]
                self.emit(out, assign(n, gast.Call(func=name("min"), args=lens, keywords=[]), line))
                n_expr = name(n)
            prefix = []
            self.line = line
            for t, a in zip(target.elts, seqs, strict=True):
                self.assign_to(
                    t, gast.Subscript(value=load_copy(a), slice=name(idx), ctx=gast.Load()), prefix
                )
            rng = gast.Call(func=name("range"), args=[n_expr], keywords=[])
            self.emit_for(out, idx, rng, body_with(prefix), line)
            return
        view = self._dict_view(it, target, s.body)
        if view is not None:
            self._dict_loop(s, view, target, out, body_with, line)
            return
        seq = self._loop_sequence(self.atom(it, out), s, out)
        idx = self.fresh()
        prefix = []
        self.line = line
        self.assign_to(
            target, gast.Subscript(value=load_copy(seq), slice=name(idx), ctx=gast.Load()), prefix
        )
        self._item_guard(s, prefix)
        n = gast.Call(func=name("len"), args=[load_copy(seq)], keywords=[])
        rng = gast.Call(func=name("range"), args=[n], keywords=[])
        self.emit_for(out, idx, rng, body_with(prefix), line)

    def _item_guard(self, s: gast.For, prefix: list) -> None:
        """`number_guard` of the item of `for v in a:` (or `reversed(a)`) where aliasing asks
        for it (`a` written into while `v` is read): after the loop binds `v`, each step."""
        if getattr(s, "s2s_number_guard", None):
            read = f"for {s.target.id} in {ast.unparse(gast.gast_to_ast(s.iter))}"
            self.emit(prefix, self.number_guard(s.s2s_number_guard, s.target.id, read))
            s.s2s_number_guard = None  # placed

    def _zip_keywords_error(self, call: gast.Call) -> Exception:
        """The refusal of a loop over `zip(...)` whose keywords are not one constant `strict=`:
        s2s writes the loop out when it generates the code, so it must know then whether the
        lengths are checked (`strict=True`: the steps counted by `zip_length`) or not."""
        unknown = [k for k in call.keywords if k.arg != "strict"]
        kw = unknown[0] if unknown else call.keywords[-1]
        written = f"{kw.arg}={ast.unparse(gast.gast_to_ast(kw.value))}"
        if unknown:
            message = (
                f"`zip(..., {written})`: `zip` takes no keyword {kw.arg!r} (its one keyword is "
                "`strict`)"
            )
        elif isinstance(kw.value, gast.Constant):
            message = f"`zip(..., {written})`: `strict` must be the constant True or False"
        else:
            message = (
                f"`zip(..., {written})`: s2s writes a loop over `zip` out when it generates the "
                "code, so `strict` must be the constant True or False there, not a value known "
                "only when the function runs"
            )
        return self.error(
            kw.value,
            message,
            "write `zip(a, b, strict=True)` (lengths must match: a ValueError where they "
            "differ) or `zip(a, b, strict=False)` with the constant written out, or plain "
            "`zip(a, b)` (stops at the shortest)",
        )

    def _dict_view(self, it: Any, target: Any, body: list) -> tuple | None:
        """(dict expression, "items" | "keys" | "values") when the loop runs over a dict:
        `d.items()`, `d.keys()`, `d.values()`, or `for k in d:` whose body reads `d[k]`."""
        if (
            isinstance(it, gast.Call)
            and isinstance(it.func, gast.Attribute)
            and it.func.attr in ("items", "keys", "values")
            and not it.args
            and not it.keywords
        ):
            recv = it.func.value
            if not self.is_global_ref(recv) or isinstance(self.namespace.resolve(recv), dict):
                return recv, it.func.attr
            return None
        if isinstance(it, gast.Name) and self.is_global_ref(it):
            return (it, "keys") if isinstance(self.namespace.resolve(it), dict) else None
        if not (isinstance(it, gast.Name) and isinstance(target, gast.Name)):
            return None
        for n in walk(gast.Module(body=body, type_ignores=[])):
            if (
                isinstance(n, gast.Subscript)
                and isinstance(n.value, gast.Name)
                and n.value.id == it.id
                and isinstance(n.slice, gast.Name)
                and n.slice.id == target.id
            ):
                return it, "keys"
        return None

    def _dict_loop(
        self,
        s: Any,
        view: tuple,
        target: Any,
        out: list,
        body_with: Any,
        line: int | None,
        count: Any = None,
        start: Any = None,
    ) -> None:
        """`for k, v in d.items():` is an index loop over the keys the dict has when the loop
        starts (known only at run time): `k = keys[i]`, `v = d[k]`, so that both modes treat
        `d[k]` as any other subscript and the gradient keeps the dict's structure. `count`
        is the target of `enumerate(d.items(), start)`'s counter."""
        dct, kind = view
        d_atom = self.atom(dct, out)
        self.line = line
        view_call = gast.Call(
            func=gast.Attribute(value=load_copy(d_atom), attr="keys", ctx=gast.Load()),
            args=[],
            keywords=[],
        )
        keys = self.atom(gast.Call(func=name("list"), args=[view_call], keywords=[]), out)
        idx = self.fresh()
        prefix: list = []
        key_of = gast.Subscript(value=load_copy(keys), slice=name(idx), ctx=gast.Load())
        if count is not None:
            counter = name(idx)
            if start is not None:
                counter = gast.BinOp(left=name(idx), op=gast.Add(), right=self.atom(start, out))
            self.line = line
            self.assign_to(count, counter, prefix)
        if kind == "items":
            if not (isinstance(target, gast.Tuple) and len(target.elts) == 2):
                raise self.error(s, "unpack `.items()` as `for key, value in d.items():`")
            k_target, v_target = target.elts
        elif kind == "keys":
            k_target, v_target = target, None
        else:
            k_target, v_target = None, target
        if isinstance(k_target, gast.Name):
            key = k_target.id
            self.assign_to(k_target, key_of, prefix)
        else:
            key = self.fresh()
            self.emit(prefix, assign(key, key_of, line))
            if k_target is not None:
                self.assign_to(k_target, name(key), prefix)
        if v_target is not None:
            self.assign_to(
                v_target,
                gast.Subscript(value=load_copy(d_atom), slice=name(key), ctx=gast.Load()),
                prefix,
            )
        n = gast.Call(func=name("len"), args=[load_copy(keys)], keywords=[])
        rng = gast.Call(func=name("range"), args=[n], keywords=[])
        self.emit_for(out, idx, rng, body_with(prefix), line)

    def _loop_sequence(self, seq: Any, loop: gast.For, out: list) -> Any:
        """What the loop iterates over, fixed at the loop's start: Python's `for` holds on to the
        object it began with, so a body that rebinds the name (`for e in a: a = ...`) still
        iterates the old one. The index loop reads a copy of the name then."""
        if not isinstance(seq, gast.Name):
            return seq
        rebound = any(
            isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store) and n.id == seq.id
            for b in loop.body
            for n in walk(b)
        )
        if not rebound:
            return seq
        tmp = self.fresh()
        self.emit(out, assign(tmp, name(seq.id), self.line))
        return name(tmp)

    def _loop_var(self, target: Any) -> str:
        if isinstance(target, gast.Name):
            return target.id
        return self.fresh()

    def emit_for(self, out: list, var: str, rng: Any, body: list, line: int | None) -> None:
        # atomize what the range expression computes (len(xs) -> a name)
        rng = self._atomize_range(rng, out, line)
        node = gast.For(target=store(var), iter=rng, body=body, orelse=[], type_comment=None)
        node.s2s_line = line
        out.append(node)

    def _atomize_range(self, rng: Any, out: list, line: int | None) -> Any:
        if isinstance(rng, gast.Subscript):
            rng.value = self._atomize_range(rng.value, out, line)
            return rng
        args = []
        for a in rng.args:
            if is_atom(a):
                args.append(a)
            else:
                tmp = self.fresh()
                self.line = line
                self.emit(out, assign(tmp, a, line))
                args.append(name(tmp))
        rng.args = args
        return rng

    def while_loop(self, s: gast.While, out: list) -> None:
        line = self.line
        cond = self.fresh()
        self.emit(out, assign(cond, self.expr(s.test, out), line))
        body = self.block(s.body)
        self.line = line
        brk = None
        if body and _is_break_tail(body[-1]):
            brk = body.pop()
        self.emit(body, assign(cond, self.expr(s.test, body), line))
        if brk is not None:
            body.append(brk)
        node = gast.While(test=name(cond), body=body, orelse=[])
        node.s2s_line = line
        out.append(node)

    # expressions ------------------------------------------------------------------------------
    def atom(self, node: Any, out: list) -> Any:
        """Flatten `node` to an atom, emitting statements for its parts."""
        if is_atom(node) and not (isinstance(node, gast.Name) and not self._known(node)):
            return load_copy(node)
        if isinstance(node, gast.Attribute) and self.is_global_ref(node):
            atom = load_copy_chain(node)
            return atom
        expr = self.expr(node, out)
        if is_atom(expr):
            return expr
        tmp = self.fresh()
        self.emit(out, assign(tmp, expr, self.line))
        return name(tmp)

    def _known(self, node: gast.Name) -> bool:
        if node.id in self.locals:
            return True
        if self.namespace.resolve(node) is MISSING:
            raise self.info.error(
                NameResolutionError,
                node,
                f"name {node.id!r} is not defined",
                "define it at module level or pass it as an argument",
            )
        return True

    def expr(self, node: Any, out: list) -> Any:
        """Flatten the children of `node` to atoms; return the one-operation expression."""
        if isinstance(node, _UNSUPPORTED_EXPR_CLASSES):
            for cls, (msg, hint) in _UNSUPPORTED_EXPR.items():
                if isinstance(node, cls):
                    raise self.error(node, msg, hint)
        if isinstance(node, gast.Name):
            self._known(node)
            return name(node.id)
        if isinstance(node, gast.Constant):
            return const(node.value)
        if isinstance(node, gast.Attribute):
            if self.is_global_ref(node):
                return load_copy_chain(node)
            return gast.Attribute(value=self.atom(node.value, out), attr=node.attr, ctx=gast.Load())
        if isinstance(node, gast.BinOp):
            left = self.atom(node.left, out)
            right = self.atom(node.right, out)
            return gast.BinOp(left=left, op=node.op, right=right)
        if isinstance(node, gast.UnaryOp):
            if isinstance(node.op, gast.Not):
                return gast.UnaryOp(op=node.op, operand=self.atom(node.operand, out))
            if (
                isinstance(node.op, gast.USub)
                and isinstance(node.operand, gast.Constant)
                and isinstance(node.operand.value, (int, float))
            ):
                return const(-node.operand.value)
            return gast.UnaryOp(op=node.op, operand=self.atom(node.operand, out))
        if isinstance(node, gast.Call):
            return self.call(node, out)
        if isinstance(node, gast.Subscript):
            value = self.atom(node.value, out)
            return gast.Subscript(value=value, slice=self.index(node.slice, out), ctx=gast.Load())
        if isinstance(node, (gast.Tuple, gast.List)):
            elts = [self.atom(e, out) for e in node.elts]
            cls = gast.Tuple if isinstance(node, gast.Tuple) else gast.List
            return cls(elts=elts, ctx=gast.Load())
        if isinstance(node, gast.Dict):
            if any(k is None for k in node.keys):
                raise self.error(node, "`**` in dict displays is not supported")
            keys = [self.atom(k, out) for k in node.keys]
            values = [self.atom(v, out) for v in node.values]
            return gast.Dict(keys=keys, values=values)
        if isinstance(node, gast.Compare):
            return self.compare(node, out)
        if isinstance(node, gast.BoolOp):
            return name(self.boolop(node, out))
        if isinstance(node, gast.IfExp):
            tmp = self.fresh()
            test = self.atom(node.test, out)
            body: list = []
            self.assign_to(store(tmp), node.body, body)
            orelse: list = []
            self.assign_to(store(tmp), node.orelse, orelse)
            self.emit(out, gast.If(test=test, body=body, orelse=orelse))
            self.locals.add(tmp)
            return name(tmp)
        if isinstance(node, (gast.ListComp, gast.GeneratorExp)):
            return name(self.comprehension(node, out))
        if isinstance(node, gast.DictComp):
            return name(self.comprehension(node, out))
        if isinstance(node, gast.JoinedStr):
            values = []
            for v in node.values:
                if isinstance(v, gast.FormattedValue):
                    values.append(
                        gast.FormattedValue(
                            value=self.atom(v.value, out),
                            conversion=v.conversion,
                            format_spec=v.format_spec,
                        )
                    )
                else:
                    values.append(v)
            return gast.JoinedStr(values=values)
        if isinstance(node, gast.Slice):
            return self.index(node, out)
        raise self.error(node, f"`{type(node).__name__}` expressions are not supported")

    def call(self, node: gast.Call, out: list) -> Any:
        for a in node.args:
            if isinstance(a, gast.Starred):
                raise self.error(
                    a, "star-arguments (`*args`) are not supported", "pass the arguments one by one"
                )
        for k in node.keywords:
            if k.arg is None:
                raise self.error(
                    k.value,
                    "`**kwargs` arguments are not supported",
                    "pass keyword arguments by name",
                )
        func = node.func
        if isinstance(func, gast.Attribute) and not self.is_global_ref(func):
            func = gast.Attribute(value=self.atom(func.value, out), attr=func.attr, ctx=gast.Load())
        elif self.is_global_ref(func):
            self._check_callable(func)
            self._check_global_mutation(func)
            func = load_copy_chain(func)
        else:
            # `m(x)` on a local object (or `self.layers[-1](x)`) is its method `__call__`
            # (`classes.py`); emit writes it back as `m(x)`
            func = gast.Attribute(value=self.atom(func, out), attr="__call__", ctx=gast.Load())
            func.s2s_implicit_call = True
        args = [self.atom(a, out) for a in node.args]
        keywords = [gast.keyword(arg=k.arg, value=self.atom(k.value, out)) for k in node.keywords]
        for position in getattr(node, "s2s_copied_args", ()):
            # the function writes into this argument: it gets its own copy (`aliasing`)
            if isinstance(position, int):
                args[position] = self.copied(args[position], out)
            else:
                keywords = [
                    gast.keyword(arg=k.arg, value=self.copied(k.value, out))
                    if k.arg == position
                    else k
                    for k in keywords
                ]
        for position, fname, param in getattr(node, "s2s_arg_guards", ()):
            # the function does `param += ...`, a write into the caller's array if it is one
            given = {k.arg: k.value for k in keywords}
            atom = args[position] if isinstance(position, int) else given[position]
            if isinstance(atom, gast.Name):
                self.emit(out, self.guard("arg_guard", [atom, const(f"{fname}:{param}")]))
        if (
            len(args) > 2
            and not keywords
            and (self.resolves_to(func, max) or self.resolves_to(func, min))
        ):
            # max(a, b, c) is max(max(a, b), c): the same first extremum, one rule of two
            # operands per step
            acc = args[0]
            for a in args[1:-1]:
                tmp = self.fresh()
                pair = gast.Call(func=load_copy(func), args=[acc, a], keywords=[])
                self.emit(out, assign(tmp, pair, self.line))
                acc = name(tmp)
            args = [acc, args[-1]]
        return gast.Call(func=func, args=args, keywords=keywords)

    def copied(self, atom: Any, out: list) -> Any:
        if not isinstance(atom, gast.Name):
            return atom
        tmp = self.fresh()
        method = gast.Attribute(value=name(atom.id), attr="copy", ctx=gast.Load())
        self.emit(out, assign(tmp, gast.Call(func=method, args=[], keywords=[]), self.line))
        return name(tmp)

    def _check_callable(self, func: Any) -> None:
        root = func
        while isinstance(root, gast.Attribute):
            root = root.value
        if self.namespace.resolve(root) is MISSING:
            raise self.info.error(
                NameResolutionError,
                func,
                f"name {root.id!r} is not defined",
                "define or import it at module level",
            )

    def _check_global_mutation(self, func: Any) -> None:
        """`LOG.append(v)` on a module-level list (dict, set, array) mutates a global."""
        if not (isinstance(func, gast.Attribute) and func.attr in MUTATING_METHODS):
            return
        owner = self.namespace.resolve(func.value)
        if owner is MISSING or isinstance(owner, (types.ModuleType, type)):
            return
        text = f"{_dotted(func.value)}.{func.attr}"
        raise self.error(
            func,
            f"`{text}(...)` mutates the global {_dotted(func.value)!r} (a side effect s2s "
            "cannot reverse)",
            "keep the values in a local list and return them, or log outside the function",
        )

    def index(self, node: Any, out: list) -> Any:
        if isinstance(node, gast.Slice):
            parts = [
                None if p is None else self.atom(p, out)
                for p in (node.lower, node.upper, node.step)
            ]
            return gast.Slice(lower=parts[0], upper=parts[1], step=parts[2])
        if isinstance(node, gast.Tuple):
            return gast.Tuple(elts=[self.index(e, out) for e in node.elts], ctx=gast.Load())
        return self.atom(node, out)

    def compare(self, node: gast.Compare, out: list) -> Any:
        left = self.atom(node.left, out)
        if len(node.ops) == 1:
            return gast.Compare(
                left=left, ops=node.ops, comparators=[self.atom(node.comparators[0], out)]
            )
        result = self.fresh()
        self.locals.add(result)
        rights = node.comparators
        first = self.atom(rights[0], out)
        self.emit(
            out,
            assign(
                result, gast.Compare(left=left, ops=[node.ops[0]], comparators=[first]), self.line
            ),
        )
        prev = first
        tail_holder = out
        for op, right in zip(node.ops[1:], rights[1:], strict=True):
            body: list = []
            r = self.atom(right, body)
            body.append(
                assign(
                    result, gast.Compare(left=load_copy(prev), ops=[op], comparators=[r]), self.line
                )
            )
            self.emit(tail_holder, gast.If(test=name(result), body=body, orelse=[]))
            tail_holder = body
            prev = r
        return name(result)

    def boolop(self, node: gast.BoolOp, out: list) -> str:
        result = self.fresh()
        self.locals.add(result)
        first = self.atom(node.values[0], out)
        self.emit(out, assign(result, first, self.line))
        holder = out
        for v in node.values[1:]:
            body: list = []
            atom = self.atom(v, body)
            body.append(assign(result, atom, self.line))
            test: Any = name(result)
            if isinstance(node.op, gast.Or):
                test = gast.UnaryOp(op=gast.Not(), operand=test)
                tmp = self.fresh()
                self.emit(holder, assign(tmp, test, self.line))
                test = name(tmp)
            self.emit(holder, gast.If(test=test, body=body, orelse=[]))
            holder = body
        return result

    def comprehension(self, node: Any, out: list) -> str:
        result = self.fresh()
        self.locals.add(result)
        is_dict = isinstance(node, gast.DictComp)
        self.emit(
            out,
            assign(
                result,
                gast.Dict(keys=[], values=[]) if is_dict else gast.List(elts=[], ctx=gast.Load()),
                self.line,
            ),
        )
        # rename comprehension variables: they do not leak in Python 3
        renames: dict[str, str] = {}
        for gen in node.generators:
            # in the order of the text (a set's order would follow the strings' hashes, and
            # the temporaries' numbers with it: different code in different processes)
            for t in dict.fromkeys(n.id for n in walk(gen.target) if isinstance(n, gast.Name)):
                renames[t] = self.fresh()
                self.locals.add(renames[t])
        node = _Renamer(renames).visit(node)
        if is_dict:
            key, value = node.key, node.value
            inner_body = [
                gast.Assign(
                    targets=[gast.Subscript(value=name(result), slice=key, ctx=gast.Store())],
                    value=value,
                    type_comment=None,
                )
            ]
        else:
            call = gast.Call(
                func=gast.Attribute(value=name(result), attr="append", ctx=gast.Load()),
                args=[node.elt],
                keywords=[],
            )
            inner_body = [gast.Expr(value=call)]
        for gen in reversed(node.generators):
            if gen.is_async:
                raise self.error(node, "async comprehensions are not supported")
            for cond in reversed(gen.ifs):
                inner_body = [gast.If(test=cond, body=inner_body, orelse=[])]
            inner_body = [
                gast.For(
                    target=gen.target, iter=gen.iter, body=inner_body, orelse=[], type_comment=None
                )
            ]
        for s in inner_body:
            _set_line(s, self.line)
        saved = self.line
        for s in inner_body:
            self.stmt(s, out)
        self.line = saved
        return result


class _ReturnToAssign(gast.NodeTransformer):
    def __init__(self, target: str) -> None:
        self.target = target

    def visit_Return(self, node: gast.Return) -> Any:
        value = node.value if node.value is not None else const(None)
        return assign(self.target, value, getattr(node, "s2s_line", None))


def _always_assigns(stmts: list, target: str) -> bool:
    for s in stmts:
        if (
            isinstance(s, gast.Assign)
            and isinstance(s.targets[0], gast.Name)
            and s.targets[0].id == target
        ):
            return True
        if (
            isinstance(s, gast.If)
            and _always_assigns(s.body, target)
            and _always_assigns(s.orelse, target)
        ):
            return True
    return False


def _known_object(out: gast.Name, node: gast.Name) -> gast.Name:
    """`out`, a copy of the Name `node`, with the object `node` is known to name, if any
    (`s2s_object`, `s2s_value`: see `parse.Namespace.resolve`)."""
    if node.__dict__.keys() & _KNOWN:
        for k in _KNOWN:
            if k in node.__dict__:
                setattr(out, k, node.__dict__[k])
    return out


_KNOWN = ("s2s_object", "s2s_value")


def load_copy_chain(node: Any) -> Any:
    if isinstance(node, gast.Name):
        return _known_object(name(node.id), node)
    out = gast.Attribute(value=load_copy_chain(node.value), attr=node.attr, ctx=gast.Load())
    out.s2s_global = True
    return out


class _Renamer(gast.NodeTransformer):
    def __init__(self, renames: dict[str, str]) -> None:
        self.renames = renames

    def visit_Name(self, node: gast.Name) -> Any:
        if node.id in self.renames:
            return gast.Name(
                id=self.renames[node.id], ctx=node.ctx, annotation=None, type_comment=None
            )
        return node


def _set_line(node: Any, line: int | None) -> None:
    for n in statements(node):  # (no expression holds a statement)
        if isinstance(n, gast.stmt):
            n.s2s_line = line


def _jumps_same_loop(node: Any) -> bool:
    """`node` holds a break, continue or return, not looking into nested loops for break and
    continue (they are their own); returns inside nested loops still count."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, (gast.Break, gast.Continue, gast.Return)):
            return True
        for f in n._fields:
            value = getattr(n, f, None)
            if value.__class__ is not list:
                continue
            for child in value:
                if isinstance(child, (gast.For, gast.While)):
                    if any(isinstance(m, gast.Return) for m in statements(child)):
                        return True
                elif isinstance(child, HOLDS_STATEMENTS):
                    stack.append(child)
    return False


def _returns_always(stmts: list) -> bool:
    """Every path through `stmts` ends in a `return` (its last statement is one, or an `if`
    both of whose branches always return)."""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, gast.Return):
        return True
    return (
        isinstance(last, gast.If)
        and not _is_checkpoint_with(last)
        and _returns_always(last.body)
        and _returns_always(last.orelse)
    )


def _is_checkpoint_with(s: Any) -> bool:
    return bool(getattr(s, "s2s_checkpoint", False))


def _is_break_tail(s: Any) -> bool:
    return (
        isinstance(s, gast.If)
        and len(s.body) == 1
        and isinstance(s.body[0], gast.Break)
        and not s.orelse
    )


def _zip_strictness(call: gast.Call) -> bool | None:
    """For `zip(...)`'s keywords: False for none (or `strict=False`), True for
    `strict=True`, None for anything else (not a loop s2s writes out)."""
    if not call.keywords:
        return False
    (kw,) = call.keywords if len(call.keywords) == 1 else (None,)
    if (
        kw is not None
        and kw.arg == "strict"
        and isinstance(kw.value, gast.Constant)
        and type(kw.value.value) is bool
    ):
        return kw.value.value
    return None


def _atom_names(expr: Any) -> set[str]:
    return {n.id for n in walk(expr) if isinstance(n, gast.Name)}


def _copy_index(index: Any) -> Any:
    if isinstance(index, gast.Slice):
        return gast.Slice(
            lower=index.lower and load_copy(index.lower),
            upper=index.upper and load_copy(index.upper),
            step=index.step and load_copy(index.step),
        )
    if isinstance(index, gast.Tuple):
        return gast.Tuple(elts=[_copy_index(e) for e in index.elts], ctx=gast.Load())
    return load_copy(index)


def local_names(tree: gast.FunctionDef) -> set[str]:
    """Parameters and every name the body binds (Python's own scoping rule)."""
    names = {a.id for a in tree.args.args}
    names |= {a.id for a in tree.args.kwonlyargs}
    for n in walk(tree):
        if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Del)):
            names.add(n.id)
    return names


@dataclass
class CoreFunction:
    """A normalized function: its name, parameters, defaults and core body."""

    name: str
    params: list[str]
    defaults: list[Any]  # gast default expressions for the last len(defaults) params
    body: list
    info: SourceInfo
    namespace: Any
    result: str  # the name the final `return` returns
    locals: set[str]
    counter: int
    args: Any = None  # the original gast.arguments, for defaults
    fn: Any = None
    #: the class of the first parameter: a method read for a call on an object of this class
    self_class: Any = None
    classes: dict | None = None  # `classes.classes(core)`, once computed
    #: the function each local name known to hold one holds (`functions.bind`)
    functions: dict | None = None
    #: the class of the closure each parameter holds, by the call (`functions.bind`)
    given_classes: dict | None = None
    #: it makes or takes a closure of a local function (`functions.closure_class`)
    closures: bool = False

    def fresh(self) -> str:
        """A new temporary `_k` of the core (for a pass that adds statements to it)."""
        self.counter += 1
        self.locals.add(f"_{self.counter}")
        return f"_{self.counter}"


def normalize(
    parsed: ParsedFunction,
    self_class: Any = None,
    functions: dict | None = None,
    guard_defaults: bool = False,
) -> CoreFunction:
    """The core of `parsed`; `self_class`: the class of its first parameter, for a method read
    for a call on an object of that class (`classes.py`); `functions`: the functions the
    caller passes, by parameter, and `guard_defaults`: those of the parameters' defaults too,
    checked at run time (`functions.py`)."""
    from .functions import bind, lift  # (they read the core: import at use)

    tree = parsed.tree
    info = parsed.info
    args = tree.args
    closures = lift(parsed)
    if args.vararg is not None or args.kwarg is not None:
        node = args.vararg or args.kwarg
        raise info.error(
            UnsupportedSyntaxError,
            node if hasattr(node, "lineno") else tree,
            "functions with *args or **kwargs cannot be differentiated",
            "name each parameter",
        )
    if args.posonlyargs:
        params_nodes = list(args.posonlyargs) + list(args.args)
    else:
        params_nodes = list(args.args)
    params_nodes += list(args.kwonlyargs)
    params = [a.id for a in params_nodes]
    defaults = list(args.defaults)
    kw_defaults = list(args.kw_defaults)
    for n in walk(tree):
        if isinstance(n, _UNSUPPORTED_EXPR_CLASSES):
            for cls, (msg, hint) in _UNSUPPORTED_EXPR.items():
                if isinstance(n, cls) and cls is not gast.Starred:
                    raise info.error(UnsupportedSyntaxError, n, msg, hint)
        if isinstance(n, (gast.Yield, gast.YieldFrom)):
            raise info.error(UnsupportedSyntaxError, n, "generators cannot be differentiated")
        if isinstance(n, gast.Constant) and isinstance(n.value, complex):
            raise info.error(
                UnsupportedSyntaxError,
                n,
                "complex numbers are not supported (the derivative rules assume real values)",
                "write the real and imaginary parts as two real arrays",
            )
        if (
            isinstance(n, gast.Call)
            and isinstance(n.func, gast.Name)
            and n.func.id in ("eval", "exec")
            and parsed.namespace.lookup(n.func.id) is getattr(builtins, n.func.id)
        ):
            raise info.error(
                UnsupportedSyntaxError,
                n,
                f"`{n.func.id}` runs code s2s cannot see, so it cannot be differentiated",
                "write the code itself in the function",
            )
    _drop_unreachable(tree.body)
    locs = local_names(tree)
    if not info.filename.startswith("<s2s"):  # generated code writes only into what it owns
        nodes = list(walk(gast.Module(body=tree.body, type_ignores=[])))  # (one walk: both)
        check_writes_through_views(tree.body, set(), info, kinds=containers(nodes))
        check_shared_writes(tree.body, params, info, parsed.namespace, nodes)
    # temporaries are numbered past any `_k` the source already has (a generated derivative,
    # differentiated again, is full of them)
    taken = [int(m.group(1)) for v in locs if (m := re.match(r"^[dt]?_(\d+)$", v))]
    norm = Normalizer(
        info=info, namespace=parsed.namespace, locals=locs, counter=max(taken, default=0)
    )
    for s in tree.body:
        for n in statements(s):  # (no expression holds a statement)
            if isinstance(n, gast.stmt) and not hasattr(n, "s2s_line"):
                n.s2s_line = getattr(n, "lineno", None)
    norm.check_withs(tree)
    body = norm.lower_jumps(list(tree.body), None, True)
    returns = [  # (their number, and the one return if there is one: any order does)
        n for n in statements(gast.Module(body=body, type_ignores=[])) if isinstance(n, gast.Return)
    ]
    if returns and not (len(returns) == 1 and body[-1] is returns[0]):
        norm.needs_ret_value = True
    prologue: list = []
    if norm.ret_flag is not None:
        prologue.append(assign(norm.ret_flag, const(False), getattr(tree, "lineno", 1)))
    if norm.needs_ret_value:
        # every `return v` becomes `_result = v`; the function ends in `return _result`
        body = _ReturnToAssign(norm.ret_value).visit(gast.Module(body=body, type_ignores=[])).body
        if not _always_assigns(body, norm.ret_value):
            prologue.append(assign(norm.ret_value, const(None), getattr(tree, "lineno", 1)))
        norm.locals.add(norm.ret_value)
        body.append(tag(gast.Return(value=name(norm.ret_value)), None))
    for f in (norm.ret_flag,):
        if f:
            norm.locals.add(f)
    for n in walk(gast.Module(body=body, type_ignores=[])):
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
            norm.locals.add(n.id)
    if not body or not isinstance(body[-1], gast.Return):
        body.append(tag(gast.Return(value=const(None)), None))
    core = norm.block(prologue + body)
    # the one exit returns a name
    ret = core[-1]
    if isinstance(ret.value, gast.Constant):
        tmp = norm.fresh()
        core.insert(len(core) - 1, assign(tmp, ret.value, ret.s2s_line))
        ret.value = name(tmp)
    _check_no_python_builtins_shadowing(norm.locals, info, tree)
    out = CoreFunction(
        name=parsed.name,
        params=params,
        defaults=defaults + [d for d in kw_defaults if d],
        body=core,
        info=info,
        namespace=parsed.namespace,
        result=ret.value.id,
        locals=norm.locals,
        counter=norm.counter,
        args=tree.args,
        fn=parsed.fn,
        self_class=self_class,
        closures=closures,
    )
    from .classes import split_field_calls  # (classes reads the core: import at use)

    split_field_calls(out)
    bind(out, functions, guard_defaults)
    return out


def _check_no_python_builtins_shadowing(locs: set[str], info: SourceInfo, tree: Any) -> None:
    for reserved in ("range", "len"):
        if reserved in locs and hasattr(builtins, reserved):
            raise info.error(
                UnsupportedSyntaxError,
                tree,
                f"the function rebinds the builtin {reserved!r}",
                "rename the local variable",
            )


def _drop_unreachable(stmts: list) -> None:
    """Remove, in place, the statements after a `break`, `continue`, `return` or `raise` of the
    same block: they never run (a `return` there would still count as a return otherwise)."""
    for i, st in enumerate(stmts):
        if isinstance(st, (gast.Break, gast.Continue, gast.Return, gast.Raise)):
            del stmts[i + 1 :]
            return
        for field_name in ("body", "orelse"):
            block = getattr(st, field_name, None)
            if isinstance(block, list) and not isinstance(st, gast.FunctionDef):
                _drop_unreachable(block)
