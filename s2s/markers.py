"""Markers a differentiated function may use, recognised by the transformer.

Run as plain Python (the function called directly, not differentiated), they are close to
no-ops: `insert_grad_of(x)` gives its block a zero gradient to work on, `checkpoint()` does
nothing, `checkpointed(iterable)` is the iterable itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

from s2s.backends.runtime import zeros_like

__all__ = ["checkpoint", "checkpointed", "insert_grad_of"]


@contextlib.contextmanager
def insert_grad_of(x: Any) -> Iterator[Any]:
    """`with s2s.insert_grad_of(x) as dx:` runs its block in the backward sweep, on the
    gradient of `x` at that point (everything later in the function has contributed to it);
    what the block leaves in `dx` is the gradient that flows on, to the code before it.

    Called as plain Python, where there is no gradient, the block runs once on a zero `dx`
    (shaped like `x`) and its result is dropped.
    """
    yield zeros_like(x)


@contextlib.contextmanager
def checkpoint() -> Iterator[None]:
    """`with s2s.checkpoint():` stores none of its block's intermediate values for the backward
    sweep: only the values the block starts from are kept, and the block runs a second time, in
    the backward sweep, right before its own adjoint. Memory for time."""
    yield


def checkpointed(iterable: Iterable) -> Iterable:
    """`for t in s2s.checkpointed(range(T)):` marks one loop for binomial checkpointing:
    its T steps run in segments of about sqrt(T), and only each segment's starting values are
    kept, so the tape holds about 2 sqrt(T) steps instead of T."""
    return iterable
