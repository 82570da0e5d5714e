"""A loop that saves one value per iteration gets a list of its own, which the reversed loop
iterates (`for x in reversed(tape_x):`) instead of popping the shared tape once per iteration
(`optimize._loop_tapes`); and the seed of a real scalar loss is the number 1.0.

Each program is checked against central differences and forward mode (the dot-product test),
with loops that run zero, one and many times, beside loops where the rewrite must not apply:
a break, a push in a branch, a callee that uses the tape, two loops over one range."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from fd import numerical_grad
from hypothesis import given, settings
from hypothesis import strategies as st

import s2s

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.models import physics_loss as pendulum  # noqa: E402


def _check(f, args, wrt):
    g = s2s.grad(f, wrt=wrt)(*args)
    ref = numerical_grad(f, args, wrt)
    np.testing.assert_allclose(g, ref, rtol=1e-6, atol=1e-8)
    # <J u, 1> = <u, grad> for a random direction u
    rng = np.random.default_rng(3)
    u = tuple(float(rng.standard_normal()) for _ in wrt)
    _, t = s2s.jvp(f, wrt=wrt)(*args, u)
    np.testing.assert_allclose(t, np.dot(u, g), rtol=1e-9, atol=1e-12)
    return s2s.grad(f, wrt=wrt).s2s_source_for(*args)


def two_loops(x, y, n):
    for _ in range(n):
        x = x * math.cos(y) + 0.1
    for _ in range(n):
        y = y + 0.5 * math.sin(x) * y
    return x * y


def with_break(x, y, n):
    for _ in range(n):
        x = x * math.cos(y) + 0.1
        if x > 2.0:
            break
    return x * y


def push_in_a_branch(x, y, n):
    for i in range(n):
        if i % 2 == 0:
            x = x * math.cos(y) + 0.1
    return x * y


def squash(x, y):
    return math.tanh(x * y)


def with_a_callee(x, y, n):
    for _ in range(n):
        x = squash(x, y) + x * 0.5
    return x * y


def nested(x, y, n):
    for _ in range(n):
        for _ in range(n):
            x = x * math.cos(y) + 0.1
        y = y * 0.9 + math.sin(x)
    return x + y


@settings(max_examples=25, deadline=None)
@given(st.floats(-1.0, 1.0), st.floats(-1.0, 1.0), st.floats(0.5, 4.0), st.integers(0, 6))
def test_a_scalar_loop_reads_its_own_list(x0, v0, k, steps):
    code = _check(pendulum, (x0, v0, k, 0.05, steps), (0, 1))
    assert "for x in reversed(tape_x):" in code and "tape_x.append(x)" in code, code
    assert "tape.pop()" not in code and "tape = []" not in code, code  # the tape is gone
    assert "seed(" not in code and "_2 ** 2" not in code, code  # a real number: seed 1.0


@settings(max_examples=25, deadline=None)
@given(st.floats(-1.0, 1.0), st.floats(-1.0, 1.0), st.integers(0, 5))
def test_loops_where_it_applies_and_where_it_must_not(x, y, n):
    for f in (two_loops, with_break, push_in_a_branch, with_a_callee, nested):
        _check(f, (x, y, n), (0, 1))


@pytest.mark.parametrize(
    "f, rewritten",
    [
        (two_loops, 2),  # each loop its own list: the second first, then the first
        (with_break, 0),  # the reversed loop does not iterate range(n)
        (push_in_a_branch, 0),  # a push that some iterations skip
        (with_a_callee, 0),  # the callee's sweeps use the tape too
    ],
)
def test_which_loops_get_their_own_list(f, rewritten):
    code = s2s.grad(f, wrt=(0, 1)).s2s_source_for(0.3, -0.2, 3)
    assert code.count("in reversed(tape_") == rewritten, code
