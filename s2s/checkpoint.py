"""Binomial (sqrt) checkpointing of loops, as a rewrite of the core before reverse mode.

A loop `for t in steps: body` marked with `s2s.checkpointed(steps)`, or every outermost loop
under `checkpoint_loops="sqrt"`, becomes

    for _seg in checkpoint_segments(steps):    # about sqrt(T) segments of about sqrt(T) steps
        with s2s.checkpoint():                 # in the core: `if True:`, marked
            for t in _seg:
                body

Reverse mode saves only what each segment starts from (`analyze.to_be_recorded`); in the
backward sweep a segment runs again, pushing its steps' values, right before its adjoint
(`Reverse.backward_checkpoint`). The tape then holds about sqrt(T) segment starts plus one
segment's sqrt(T) steps, for one more forward run of the loop.
"""

from __future__ import annotations

from typing import Any

import gast

from .errors import UnsupportedSyntaxError
from .nodes import statements
from .normalize import CoreFunction, name, store

#: the values `checkpoint_loops=` accepts
MODES = (None, "sqrt")


def segment_loops(core: CoreFunction, every_loop: bool) -> None:
    """Rewrite `core.body` in place: marked loops (and, with `every_loop`, each outermost
    `for` loop) run in checkpointed segments."""
    core.body = _segment(core, core.body, every_loop)


def _segment(core: CoreFunction, stmts: list, every_loop: bool) -> list:
    out: list = []
    for s in stmts:
        if isinstance(s, gast.For):
            marked = getattr(s, "s2s_checkpoint_loop", False)
            if (marked or every_loop) and _can_break(s):
                if marked:
                    raise core.info.error(
                        UnsupportedSyntaxError,
                        s,
                        "a loop that can `break` or `return` cannot be checkpointed in "
                        "segments yet",
                        "checkpoint its body instead: `with s2s.checkpoint():` inside the loop",
                    )
                s.body = _segment(core, s.body, False)
                out.append(s)
                continue
            if marked or every_loop:
                s.body = _segment(core, s.body, False)
                out.append(_segmented(core, s))
                continue
            s.body = _segment(core, s.body, every_loop)
        elif isinstance(s, gast.If):
            s.body = _segment(core, s.body, every_loop)
            s.orelse = _segment(core, s.orelse, every_loop)
        elif isinstance(s, gast.While):
            s.body = _segment(core, s.body, every_loop)
        out.append(s)
    return out


def _can_break(loop: gast.For) -> bool:
    return any(isinstance(n, gast.Break) for n in statements(loop))


def _segmented(core: CoreFunction, loop: gast.For) -> gast.For:
    line = getattr(loop, "s2s_line", None)
    seg = core.fresh()
    inner = gast.For(
        target=loop.target, iter=name(seg), body=loop.body, orelse=[], type_comment=None
    )
    inner.s2s_items_of = loop.iter  # its items are the user's loop's (`nodes.loop_items`)
    block = gast.If(test=gast.Constant(value=True, kind=None), body=[inner], orelse=[])
    block.s2s_checkpoint = True
    segments = gast.Call(func=name("checkpoint_segments"), args=[loop.iter], keywords=[])
    outer = gast.For(target=store(seg), iter=segments, body=[block], orelse=[], type_comment=None)
    for node in (inner, block, outer):
        node.s2s_line = line
    return outer


def uses_markers(core: CoreFunction) -> bool:
    # (the mark is a statement's: no expression need be looked into)
    module = gast.Module(core.body, [])
    return any(getattr(n, "s2s_checkpoint_loop", False) for n in statements(module))


def check_mode(value: Any) -> None:
    if value not in MODES:
        from .errors import S2SError

        raise S2SError(
            f"checkpoint_loops={value!r} is not a checkpointing scheme",
            hint='use checkpoint_loops="sqrt" (segments of about sqrt(T) steps) or None',
        )
