"""Slices of a packed array (an LSTM's four gates from one product, a vector cut in parts).

Three things make their gradients fast, and each may only drop work that is provably nothing:

* shape inference follows a part of an axis (`z[:, :k]`) as an axis whose length may or may
  not be 1, which still gives `f * c` the pattern of `c` when c's axis is not 1;
* `optimize` assigns the first contributions to a fresh adjoint of zeros at basic indices that
  provably do not overlap (`d_z[:, a:b] = g` instead of adding g to zeros), and adds the rest;
* a single-use temporary is substituted into its use across the tape pops between them.

Every test compares the gradient with central differences, and with forward mode (the
dot-product test), at lengths where the parts are empty, of length 1, overlapping or apart.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from fd import numerical_grad
from hypothesis import given, settings
from hypothesis import strategies as st

import s2s
from s2s.transform import generate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.models import lstm_loss as lstm_cells  # noqa: E402  (gates cut from z)


def _generic(f, wrt):
    gen, _, _ = generate(f, wrt, "grad")
    return gen.entry[0]


def _check(f, args, wrt=0):
    """The gradient against central differences, the generic code, and forward mode."""
    g = s2s.grad(f, wrt=wrt)(*args)
    ref = numerical_grad(f, args, wrt)
    generic = _generic(f, wrt)(*args)
    leaves = g.items() if isinstance(g, dict) else [(None, g)]
    for k, v in leaves:
        want = ref[k] if k is not None else ref
        np.testing.assert_allclose(v, want, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(v, generic[k] if k is not None else generic, rtol=1e-12)
    # <J u, 1> = <u, grad>: one jvp in a random direction
    rng = np.random.default_rng(7)
    x = args[wrt]
    if isinstance(x, dict):
        u = {k: rng.standard_normal(np.shape(v)) for k, v in x.items()}
        dot = sum(np.sum(u[k] * g[k]) for k in x)
    else:
        u = rng.standard_normal(np.shape(x))
        dot = np.sum(u * g)
    _, t = s2s.jvp(f, wrt=wrt)(*args, u)
    np.testing.assert_allclose(t, dot, rtol=1e-9, atol=1e-10)
    return g


# --- an LSTM cell: four gates cut from one product ----------------------------------------------


def _lstm_args(T, batch, H, n_in, rng):
    params = {
        "W": rng.standard_normal((n_in, 4 * H)) / 2,
        "U": rng.standard_normal((H, 4 * H)) / 2,
        "b": rng.standard_normal(4 * H) / 2,
    }
    return params, rng.standard_normal((T, batch, n_in)), rng.standard_normal((batch, H))


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(0, 99)
)
def test_lstm_cells_every_length(T, batch, H, n_in, seed):
    """H = 1 makes every gate a column: the gates' patterns must not be taken for c's."""
    _check(lstm_cells, _lstm_args(T, batch, H, n_in, np.random.default_rng(seed)))


def test_lstm_code_assigns_the_gates_and_folds_the_signs():
    args = _lstm_args(3, 4, 5, 2, np.random.default_rng(0))
    code = s2s.grad(lstm_cells).s2s_source_for(*args)
    # z's parts are assigned, not added to zeros; the sigmoid's adjoint has no negation left
    for part in (
        "d_z[:, :H] = ",
        "d_z[:, H:2 * H] = ",
        "d_z[:, 2 * H:3 * H] = ",
        "d_z[:, 3 * H:] =",
    ):
        assert part in code, code
    # the bounds are written where they are read, as the user wrote them, and the sigmoids
    # are the user's lines (their derivative reads the result only)
    assert "= 2 * H\n" not in code and "= 3 * H\n" not in code, code
    assert "    f = 1.0 / (1.0 + np.exp(-z[:, H:2 * H]))\n" in code, code
    assert "d_z[:, H:2 * H] = d_f * f * (1.0 - f)\n" in code, code
    assert "add_at(" not in code, code
    assert "d_z = empty_like(z)" in code, code  # the four parts cover z
    assert "-d_" not in code and "unbroadcast(d_z" not in code, code
    # z, and `f * c`, have known patterns: the helpers of the product go; the gates, whose
    # axis may be of length 1, keep theirs (the tests above run H = 1)
    assert "matmul_grad" not in code and "d_z @ " in code, code
    assert code.count("unbroadcast(") <= 7 and code.count("shape_of(") <= 2, code


# --- a vector cut in parts ------------------------------------------------------------------


def three_parts(x, w):
    n = w.shape[0]
    a = x[:n] * w
    b = x[n : 2 * n] * w
    c = x[2 * n :]
    return np.sum(a * b) + np.sum(np.sin(c)) + np.sum(a)


def overlapping_parts(x, w):
    n = w.shape[0]
    a = x[: n + 1]
    b = x[n:]
    return np.sum(a * a) + np.sum(np.cos(b))


def entries(x, w):
    n = w.shape[0]
    return x[n] * 3.0 + x[0] * x[1] + np.sum(x[2:] ** 2)


def negative_and_stepped(x, w):
    return x[-1] * x[0] + np.sum(x[::2] * 2.0) + np.sum(np.sin(x[1::2]))


def bound_from_an_argument(x, k):
    return np.sum(x[:k] ** 2) + np.sum(np.tanh(x[k:]))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(0, 3), st.integers(0, 99))
def test_parts_of_a_vector_every_length(n, extra, seed):
    """Parts that are empty, clipped at the end, of length 1, adjacent or overlapping."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(3 * n + extra - 1 if 3 * n + extra > 3 else 3)
    w = rng.standard_normal(n)
    for f in (three_parts, overlapping_parts, entries, negative_and_stepped):
        _check(f, (x, w))
    k = int(rng.integers(0, len(x) + 1))
    _check(bound_from_an_argument, (x, k))


def test_only_provably_apart_parts_are_assigned():
    x, w = np.linspace(-1.0, 1.0, 9), np.ones(3)

    def body(f):
        code = s2s.grad(f).s2s_source_for(x, w)
        return code[code.index("d_x = ") :]

    code = body(three_parts)  # [0, n), [n, 2n), [2n, end): all three assigned
    assert code.count("add_at(") == 0 and code.count("d_x[") == 3, code
    # and together they cover x: no element of the adjoint is read before it is assigned
    assert code.startswith("d_x = empty_like(x)"), code
    code = body(overlapping_parts)  # [n, end), then [0, n + 1), which may overlap it: adds
    assert "d_x[n:] = " in code and code.count("add_at(") == 1, code
    assert code.startswith("d_x = zeros_like(x)"), code
    code = body(entries)  # x[2:], x[1], x[0]; then x[n], which may be any of them, adds
    assert "d_x[2:] = " in code and "d_x[1] = " in code and "d_x[0] = " in code, code
    assert code.count("add_at(") == 1, code
    assert code.startswith("d_x = zeros_like(x)"), code
    code = body(negative_and_stepped)  # x[-1] and steps: never assigned
    assert "d_x[" not in code, code
    code = s2s.grad(bound_from_an_argument).s2s_source_for(x, 4)
    assert "d_x[" not in code, code  # k may be negative: not a length
    code = s2s.grad(three_parts).s2s_source_for(x, w)  # `2 * n` is written where it is read
    assert "= x[n:2 * n]" in code and "c = x[2 * n:]" in code, code
    assert "= 2 * n\n" not in code, code


def with_a_gap(x, w):
    n = w.shape[0]
    return np.sum(x[:n] * w) + np.sum(np.sin(x[2 * n :]))  # [n, 2n) is never read


def two_halves(x, w):
    n = w.shape[0]
    return np.sum(x[:n] * w) + np.sum(np.sin(x[n:]))


def rows_and_columns(z, w):
    n = w.shape[0]
    return np.sum(z[:n, :n] * w) + np.sum(np.sin(z[:n, n:])) + np.sum(np.cos(z[n:]))


def columns_of_some_rows(z, w):
    n = w.shape[0]
    return np.sum(z[:, :n] * w) + np.sum(np.sin(z[1:, n:]))  # z[0, n:] is never read


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(0, 4), st.integers(1, 4), st.integers(0, 99))
def test_parts_that_cover_the_array_need_no_zeros(n, extra, rows, seed):
    """The adjoint of an array read in parts is made without zeros (`empty_like`) only where
    the parts, assigned before any is read, provably cover it whatever the lengths: a chain
    of slices from 0 to the end along one axis, the other axes whole. Parts that leave a gap
    (for some lengths) keep the zeros, and so do blocks cut along two axes, which the check
    does not follow (`z[:n, :n]`, `z[:n, n:]`, `z[n:]` cover z, `z[1:, n:]` leaves a gap)."""
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal(2 * n + extra), rng.standard_normal(n)
    z = rng.standard_normal((rows + n, n + extra))
    for f, args in ((with_a_gap, (x, w)), (two_halves, (x, w))):
        _check(f, args)
    for f in (rows_and_columns, columns_of_some_rows):
        if n <= z.shape[1]:
            _check(f, (z, w))
    x, w = np.linspace(-1.0, 1.0, 9), np.ones(3)
    assert "d_x = empty_like(x)" in s2s.grad(two_halves).s2s_source_for(x, w)
    code = s2s.grad(with_a_gap).s2s_source_for(x, w)
    assert "d_x = zeros_like(x)" in code and "empty_like" not in code, code
    z = np.ones((5, 4))
    for f in (rows_and_columns, columns_of_some_rows):
        code = s2s.grad(f).s2s_source_for(z, w)
        assert "d_z = zeros_like(z)" in code and "empty_like" not in code, code


def growing_bound(x, n):
    parts = []
    s = 0.0
    for i in range(n):
        parts.append(x[i])
        s = s + np.sum(x[: 2 * len(parts)] ** 2) * parts[-1]
    return s


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 3), st.integers(0, 99))
def test_a_bound_that_changes_is_not_recomputed(n, seed):
    """`2 * len(parts)` differs from one iteration to the next: the backward sweep reads the
    value each iteration saved, not the expression again."""
    x = np.random.default_rng(seed).standard_normal(2 * n + 1)
    _check(growing_bound, (x, n))
    code = s2s.grad(growing_bound).s2s_source_for(x, n)
    assert "x[:2 * len(parts)]" not in code.split("reversed(")[1], code


# --- complex values never reach a real gradient ----------------------------------------------

PHASES = np.exp(np.array([0.5, 1.0]) * 1j)


def complex_part(x):
    z = x[:2] * PHASES
    return np.sum(np.abs(z))


def complex_whole(x):
    z = x * PHASES
    return np.sum(np.abs(z))


@pytest.mark.parametrize("f, n", [(complex_part, 3), (complex_whole, 2)])
def test_a_complex_intermediate_is_refused_not_cast(f, n):
    """A complex global makes the adjoints complex; the rules assume real values, so the real
    part would be a wrong gradient: it is an error instead."""
    x = np.array([1.0, -2.0, 3.0])[:n]
    with pytest.raises(s2s.ComplexValueError, match="real values"):
        s2s.grad(f)(x)
    code = s2s.grad(f).s2s_source_for(x)
    assert "d_x[" not in code  # not every value provably real: the contribution is added


# --- a reciprocal's adjoint reads its result ---------------------------------------------------


def reciprocals(x, w):
    s = 0.0
    for _ in range(2):
        x = 1.0 / (1.0 + np.exp(-x * w))  # a sigmoid
        s = s + np.sum(2 / (1.5 + x * x)) + np.sum(np.divide(-0.5, 2.0 + w * x))
    return s


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 4), st.integers(0, 99))
def test_a_reciprocal_reads_its_result(n, seed):
    rng = np.random.default_rng(seed)
    args = (rng.standard_normal(n), rng.standard_normal(n))
    for wrt in (0, 1):
        _check(reciprocals, args, wrt)
    code = s2s.grad(reciprocals).s2s_source_for(*args)
    # the sigmoid's adjoint reads its result only (`idioms.py`), not the kept `1.0 + e`
    assert "d_x * x * (1.0 - x)" in code, code
    assert " / 2\n" in code and " / -0.5 " in code, code  # `c / y`: -g * z * z / c


# --- a leading part `z[:, :k]` of an axis whose length is not 1 -----------------------------


def leading_parts(z, w, c):
    k = w.shape[0]
    a = np.tanh(z[:, :k]) * c  # min(k, z's length): not 1 when neither is
    b = z[:, :2] * 0.5  # an integer other than 1: the same
    return np.sum(a * a) + np.sum(b * z[:, 2:4])


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 3), st.integers(0, 5), st.integers(1, 3), st.booleans(), st.integers(0, 99))
def test_leading_parts_every_length(rows, cols, k, c_row, seed):
    """Lengths of 1 (k = 1, or z's axis of length 1) keep their helpers; the gradient is right
    at every length, parts clipped at the end included."""
    rng = np.random.default_rng(seed)
    z, w = rng.standard_normal((rows, cols)), rng.standard_normal(k)
    width = min(k, cols)
    c = rng.standard_normal((1, width) if c_row else (rows, width))
    if min(2, cols) != max(0, min(4, cols) - 2):
        return  # `b * z[:, 2:4]` would not broadcast: the primal itself raises
    _check(leading_parts, (z, w, c))


def test_a_leading_part_has_a_pattern():
    from s2s.normalize import normalize
    from s2s.parse import parse_function
    from s2s.shapes import infer, pattern_of

    core = normalize(parse_function(leading_parts))
    z, w, c = np.zeros((3, 5)), np.zeros(2), np.zeros((3, 1))  # c: a column
    facts = infer(core, {p: pattern_of(v) for p, v in zip(core.params, (z, w, c), strict=True)})
    assert facts["a"] == (False, False) and facts["b"] == (False, False), dict(facts)
    w1 = np.zeros(1)  # k = 1: the part's axis may be 1, and so a's
    facts = infer(core, {p: pattern_of(v) for p, v in zip(core.params, (z, w1, c), strict=True)})
    assert "a" not in facts and facts["b"] == (False, False), dict(facts)
