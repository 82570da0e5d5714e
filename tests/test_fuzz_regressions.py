"""Issue 9: the bugs the program fuzzer (tests/test_fuzz.py) found, each pinned by the minimal
program it shrank to. Each test states the correct behaviour; the ones that live in the lead's
files (reverse.py, analyze.py, normalize.py, optimize.py) were marked xfail(strict=True) with the
reason until fixed; all are fixed now.
"""

import copy

import numpy as np
import pytest
from fd import numerical_grad
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import arrays

import s2s

X = np.array([0.7, -1.3, 0.4])


# --- 1. `a = x * 1.0` is folded to `a = x`: the copy is lost, writes into `a` reach `x` --------


def copy_then_write(x):
    a = x * 1.0
    a[1] = 0.0
    return np.sum(a) + np.sum(x * x)


def test_multiply_by_one_keeps_the_copy():
    x = X.copy()
    want_value = copy_then_write(x.copy())
    value, g = s2s.value_and_grad(copy_then_write)(x)
    np.testing.assert_array_equal(x, X)  # the caller's array is not written
    assert value == pytest.approx(want_value)
    np.testing.assert_allclose(g, numerical_grad(copy_then_write, (X.copy(),)), rtol=1e-6)


# --- 2. a written-into array that does not reach the output: vjp's backward sweep names it -------


def dead_array_written(x):
    a = np.cumsum(x) * 0.5
    a[1] = 0.0
    return np.sum(x * x)


def test_dead_array_written_vjp():
    value, pullback = s2s.vjp(dead_array_written)(X.copy())
    np.testing.assert_allclose(pullback(1.0), 2 * X)


def test_dead_array_written_grad():  # the one-function form is right
    np.testing.assert_allclose(s2s.grad(dead_array_written)(X.copy()), 2 * X)


# --- 3. unreachable statements after `break` ----------------------------------------------------


def code_after_break(x, s, n):
    for _ in range(n):
        break
        return s
    return np.exp(np.tanh(np.sum(x)))


def test_unreachable_return_after_break():
    """Was TypeError (Namespace.lookup(None)): statements after a jump are now dropped."""
    g = s2s.grad(code_after_break, wrt=0)(X.copy(), 0.5, 2)
    np.testing.assert_allclose(g, numerical_grad(code_after_break, (X.copy(), 0.5, 2)), rtol=1e-6)


def code_after_continue_and_return(x, n):
    for _ in range(n):
        x = np.tanh(x)
        continue
        x = x * 100.0
    return np.sum(x * x)
    return 0.0


def test_unreachable_after_continue_and_return():
    for n in (0, 2):
        g = s2s.grad(code_after_continue_and_return)(X.copy(), n)
        want = numerical_grad(code_after_continue_and_return, (X.copy(), n))
        np.testing.assert_allclose(g, want, rtol=1e-6)
        _, t = s2s.jvp(code_after_continue_and_return)(X.copy(), n, np.ones(3))
        assert t == pytest.approx(float(np.sum(want)), rel=1e-6)


# --- 4. a list of `c * op(x)` appended in a loop, then stacked: zero gradient -------------------


def append_scaled_op(x):
    out = []
    for _ in range(2):
        out.append(0.5 * np.tanh(x))
    t = np.stack(out)
    return np.sum(t * t)


def append_op(x):  # without the scale it is right
    out = []
    for _ in range(2):
        out.append(np.tanh(x))
    t = np.stack(out)
    return np.sum(t * t)


def test_append_scaled_op_gradient():
    g = s2s.grad(append_scaled_op)(X.copy())
    np.testing.assert_allclose(g, numerical_grad(append_scaled_op, (X.copy(),)), rtol=1e-6)


def test_append_op_gradient():
    g = s2s.grad(append_op)(X.copy())
    np.testing.assert_allclose(g, numerical_grad(append_op, (X.copy(),)), rtol=1e-6)


def test_append_scaled_op_forward_mode():  # forward mode is right
    t = np.array([0.3, -0.2, 0.9])
    _, tout = s2s.jvp(append_scaled_op)(X.copy(), t)
    want = numerical_grad(append_scaled_op, (X.copy(),)) @ t
    assert tout == pytest.approx(want, rel=1e-6)


# --- 5. `return` inside a for loop: value_and_grad returns the restored (stale) result ---------


def return_in_loop(x, b):
    for _ in x:
        return np.tanh(b * x[1])
    return b


def test_return_in_loop_value():
    value, g = s2s.value_and_grad(return_in_loop, wrt=1)(X.copy(), 0.5)
    assert value == pytest.approx(return_in_loop(X.copy(), 0.5))
    assert g == pytest.approx(X[1] * (1 - np.tanh(0.5 * X[1]) ** 2))


def test_return_in_loop_gradient():  # the gradient itself is right
    g = s2s.grad(return_in_loop, wrt=1)(X.copy(), 0.5)
    assert g == pytest.approx(X[1] * (1 - np.tanh(0.5 * X[1]) ** 2))


def test_fixtures_are_not_mutated():
    x = X.copy()
    for fn in (dead_array_written, append_op, return_in_loop):
        args = (x, 0.5) if fn is return_in_loop else (x,)
        fn(*copy.deepcopy(args))
    np.testing.assert_array_equal(x, X)


# --- 6-10. further shrunk programs, in the fuzzer's signature f(x, s, p, n) -----------------------

ARGS = {
    132: (
        np.array([0.8894233674688804, 0.20033904654372361, -0.7699036311444227]),
        -1.1157242731317059,
        {
            "w": np.array([1.1692631951500914, 0.25741556829091494, -0.3357068943495193]),
            "b": 1.3803064719325622,
        },
        3,
    ),
    173: (
        np.array([-0.46682207907475204, 0.2379212889163249, -0.9293082354470374]),
        0.47281130265113835,
        {
            "w": np.array([-1.1720925848590762, -0.8659289550255448, -0.3263290902821149]),
            "b": 1.3350876463825374,
        },
        1,
    ),
    193: (
        np.array([1.3636357868723061, 1.2127041246367147, -0.620224161459257]),
        0.6249156059592275,
        {
            "w": np.array([0.6616234385622501, 0.6920399584503741, -0.26677377826775805]),
            "b": -0.8416592450954297,
        },
        3,
    ),
    290: (
        np.array([-1.202148139585714, 1.2025484229400123, -0.9359947130475279]),
        1.0418749810749997,
        {
            "w": np.array([0.9079673221716831, -0.4694522100782298, 0.5241556026581364]),
            "b": 0.660713513079956,
        },
        2,
    ),
    270: (
        np.array([-0.43395979185797096, 0.7161016979559107, 1.158306754330412]),
        -1.3444015248715437,
        {
            "w": np.array([-0.5374387390668399, 0.8463874897873661, 0.10969408211049268]),
            "b": 1.471756508439841,
        },
        1,
    ),
}


def seed132(x, s, p, n):  # a name bound in one branch, read under another test
    if np.dot(p["w"], x) >= 0.25:
        a2 = np.cumsum(np.maximum(p["w"], x)) * 0.5 + 0.0
    if np.mean(p["w"]) <= 0.25:
        return np.sum(a2)
    return p["b"]


def seed173(x, s, p, n):
    out = []
    for _ in range(3):
        out.append(np.tanh((p["w"] + x) / (1.5 + np.tanh(np.exp(np.tanh(x))))))
    t = np.stack(out)
    v = np.sum(t * t)
    return np.log1p(v * v)


def seed193(x, s, p, n):  # a loop-invariant statement in a loop of n trips
    for _ in range(n):
        a8 = np.arctan(np.cumsum(p["w"][::-1]) * 0.5) + 0.0
    return np.mean(a8)


def seed290(x, s, p, n):
    a1 = np.maximum(x, np.tanh(p["w"]))
    a2 = 1.5 * x
    for _ in range(3):
        a2 += np.tanh(np.cumsum(s * a1) * 0.5)
        a2 = np.sin(a2)
    return (np.dot(x, a1) / (1.5 + np.tanh(np.dot(x, a2)))) - p["b"]


def seed270(x, s, p, n):  # `return` inside a while loop
    a1 = (s * p["b"]) * np.exp(np.tanh(p["w"]))
    j = 0
    while j < n:
        return (0.5 / (1.5 + np.tanh(np.sum(a1)))) - s
    return s


def _check_against_fd(fn, seed, wrt):
    args = ARGS[seed]
    pos = {"x": 0, "s": 1, "p": 2}[wrt]
    g = s2s.grad(fn, wrt=wrt)(*copy.deepcopy(args))
    want = numerical_grad(fn, copy.deepcopy(args), wrt=pos)
    if wrt == "p":
        np.testing.assert_allclose(g["w"], want["w"], rtol=1e-5, atol=1e-8)
        assert g["b"] == pytest.approx(want["b"], rel=1e-5, abs=1e-8)
    else:
        np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-8)


def test_seed132_branch_bound_name():
    """The adjoint of a name read under one branch only is a materialized 0.0 on the other path:
    the reshaping adjoint of np.cumsum is skipped then (was: ValueError from reshape)."""
    _check_against_fd(seed132, 132, "x")


# --- seed 30192 of the long run: a `return` inside a loop over an array, the array reshaped ----


def return_in_array_loop(x, w):
    a1 = np.cumsum(w) * 0.5
    for _ in a1:
        return w[0] * np.sum(x)
    return np.mean(a1)


def return_in_range_loop(x, w):  # the same through range(): d_a1 is 0.0 on the returning path
    a1 = np.cumsum(w)
    for _ in range(2):
        return np.tanh(w[0])
    return np.mean(a1)


@pytest.mark.parametrize("fn", [return_in_array_loop, return_in_range_loop])
@given(w=st.lists(st.floats(-2, 2), min_size=3, max_size=3))
@settings(max_examples=20, deadline=None)
def test_seed30192_return_in_loop_then_reshaping_adjoint(fn, w):
    args = (X.copy(), np.array(w))
    g = s2s.grad(fn, wrt=1)(*copy.deepcopy(args))
    np.testing.assert_allclose(g, numerical_grad(fn, args, wrt=1), rtol=1e-6, atol=1e-9)
    _, t_out = s2s.jvp(fn, wrt=1)(*copy.deepcopy(args), np.array([0.3, -0.2, 0.9]))
    assert t_out == pytest.approx(float(g @ [0.3, -0.2, 0.9]), rel=1e-9, abs=1e-12)


def reshaped_in_branch(x, c):  # the materialized zero in a loop: matmul and reshape adjoints
    m = np.reshape(x, (2, 2))
    out = 0.0
    for k in range(2):
        if c > k:
            out = out + np.sum(m @ m.T)
    return out + np.sum(x)


@given(c=st.floats(-1, 3), x=st.lists(st.floats(-2, 2), min_size=4, max_size=4))
@settings(max_examples=20, deadline=None)
def test_materialized_zero_into_matmul_and_reshape(c, x):
    args = (np.array(x), c)
    g = s2s.grad(reshaped_in_branch)(*copy.deepcopy(args))
    np.testing.assert_allclose(g, numerical_grad(reshaped_in_branch, args), rtol=1e-6, atol=1e-8)


def test_seed173_append_nested():
    _check_against_fd(seed173, 173, "x")


def test_seed193_loop_invariant_dict_slice():
    _check_against_fd(seed193, 193, "p")


def test_seed290_augassign_in_loop():
    _check_against_fd(seed290, 290, "x")


def test_seed270_return_in_while():
    _check_against_fd(seed270, 270, "p")


# --- 11. a parameter overwritten in a loop by a value that does not depend on it ---------------


def overwritten_in_loop(x, s, n):
    for _ in range(n):
        s = np.cos(x[2])
    return np.sin(s)


def test_parameter_overwritten_in_loop():
    assert s2s.grad(overwritten_in_loop, wrt=1)(X.copy(), 0.5, 2) == 0.0


def test_parameter_overwritten_straight_line():
    def f(x, s):
        s = np.cos(x[2])
        return np.sin(s)

    assert s2s.grad(f, wrt=1)(X.copy(), 0.5) == 0.0


def test_multiply_by_one_keeps_the_copy_in_forward_mode():
    x = X.copy()
    t = np.array([0.3, -0.2, 0.9])
    value, tout = s2s.jvp(copy_then_write)(x, t)
    np.testing.assert_array_equal(x, X)
    assert value == pytest.approx(copy_then_write(X.copy()))
    assert tout == pytest.approx(numerical_grad(copy_then_write, (X.copy(),)) @ t, rel=1e-6)


@pytest.mark.parametrize("c", [-0.5, 0.5, 2.5])
def test_materialized_zero_guard_under_hvp(c):
    """Forward over reverse runs through the `if not is_zero(d_m):` guard."""
    x, v = np.array([0.3, -0.5, 0.8, 1.1]), np.array([0.2, 0.1, -0.4, 0.7])
    hv = s2s.hvp(reshaped_in_branch)(x, c, v)
    hv = hv[1] if isinstance(hv, tuple) else hv
    grad = s2s.grad(reshaped_in_branch)
    eps = 1e-6
    want = (grad(x + eps * v, c) - grad(x - eps * v, c)) / (2 * eps)
    np.testing.assert_allclose(hv, want, rtol=1e-6, atol=1e-8)


# --- a user function's backward sweep passed the 0.0 its caller materialized ------------------


def reshaped_by_callee(x):
    return np.reshape(x, (2, 2))


def result_used_in_one_branch(x, c):
    m = reshaped_by_callee(x)
    if c > 0:
        return np.sum(m @ m)
    return c


@pytest.mark.parametrize("c", [1.0, -1.0])
def test_callee_backward_given_a_materialized_zero(c):
    """Was ValueError (reshape of 0.0) in bwd_reshaped_by_callee when the branch was not taken."""
    x = np.array([0.3, -0.5, 0.8, 1.1])
    g = s2s.grad(result_used_in_one_branch)(x.copy(), c)
    np.testing.assert_allclose(
        g, numerical_grad(result_used_in_one_branch, (x.copy(), c)), atol=1e-8
    )
    _, pullback = s2s.vjp(result_used_in_one_branch)(x.copy(), c)
    np.testing.assert_allclose(pullback(1.0), g)


def square_sum_or_c(y, c):
    if c > 0:
        return np.sum(y * y)
    return c


def reshaped_into_callee(x, c):  # the callee's backward returns a 0.0 adjoint when c <= 0
    y = np.reshape(x, (2, 2))
    return square_sum_or_c(y, c)


@pytest.mark.parametrize("c", [1.0, -1.0])
def test_callee_backward_returns_a_materialized_zero(c):
    x = np.array([0.3, -0.5, 0.8, 1.1])
    g = s2s.grad(reshaped_into_callee)(x.copy(), c)
    np.testing.assert_allclose(g, numerical_grad(reshaped_into_callee, (x.copy(), c)), atol=1e-8)
    assert g.shape == (4,)


# --- seed 40687 of the long driver run: vjp's backward read a name its forward never saved ----
# An adjoint accumulated at an index (`a[0] += v`) is zero on the early-return path and made
# `zeros_like(a)` where the paths join; that read of `a` was not known to the to-be-recorded
# analysis, so bwd_f's end state lacked `a` (UnboundLocalError). Minimized by hand.


def early_return_then_indexed(x, w, n):
    a = 1.5 * w
    for _ in range(3):
        if np.dot(a, x) <= 2.0:
            a = 1.5 * np.tanh(x)
        for _ in range(n):
            return x[1]
    v = np.dot(w, a)
    a[0] += v
    a = a - w
    return v


@pytest.mark.parametrize("n", [0, 1, 2])
def test_seed40687_join_of_an_indexed_adjoint_reads_its_shape(n):
    x, w = np.array([0.3, 0.4, 0.5]), np.array([0.1, 0.2, 0.3])
    want = numerical_grad(early_return_then_indexed, (x, w, n))
    np.testing.assert_allclose(s2s.grad(early_return_then_indexed)(x, w, n), want, atol=1e-8)
    value, pullback = s2s.vjp(early_return_then_indexed)(x, w, n)
    np.testing.assert_allclose(pullback(1.0), want, atol=1e-8)


def test_seed40687_program():
    from fuzz_programs import Builder, RandomChooser, _check_program

    ch = RandomChooser(40687)
    source, wrt = Builder(ch).program()
    with np.errstate(all="ignore"):
        assert _check_program(source, wrt, ch) in ("ok", "skip")


# --- found by the second-order fuzz check (seed 100): hvp indexed a tape tangent that was 0.0 --
# A loop over an array that can return early pushes the range it ran; forward mode over the
# gradient pops that range's tangent (the zero 0.0) and indexed it (`t_26[_28]`): a TypeError.


def loop_over_array_with_return(x, n):
    s = 0.0
    for e in x:
        for i in range(n):
            s = s + np.sin(e) * x[i]
        if s > 10.0:
            return s * e
    return s * s


@given(st.integers(0, 3))
def test_hvp_through_a_pushed_range(n):
    x, v = np.array([0.3, 0.5, 0.9]), np.array([1.0, -0.5, 0.25])
    g = s2s.grad(loop_over_array_with_return)
    eps = 1e-6
    want = (g(x + eps * v, n) - g(x - eps * v, n)) / (2 * eps)
    np.testing.assert_allclose(s2s.hvp(loop_over_array_with_return)(x, n, v), want, atol=1e-6)


# --- seed 102210 of the long driver run: a join zero read a name the run never assigned --------
# `p["w"][j]` inside a loop that an earlier `return` always skips: `_k = p["w"]` is never
# assigned, yet the zero made for its adjoint where the paths join read it (UnboundLocalError).


def never_reached_subscript(x, p, n):
    for _ in range(n):
        for i in range(2):
            return x[i]
        for j in range(2):
            return -p["w"][j]
    return np.sum(p["w"]) * p["b"]


@pytest.mark.parametrize("n", [0, 1, 2])
def test_seed102210_join_zero_of_a_name_never_assigned(n):
    x, p = np.array([0.3, 0.4]), {"w": np.array([1.0, 2.0]), "b": 0.5}
    gx, gp = s2s.grad(never_reached_subscript, wrt=(0, 1))(x, p, n)
    np.testing.assert_allclose(gx, numerical_grad(never_reached_subscript, (x, p, n)), atol=1e-8)
    want = numerical_grad(never_reached_subscript, (x, p, n), wrt=1)
    np.testing.assert_allclose(gp["w"], want["w"], atol=1e-8)
    assert gp["b"] == pytest.approx(want["b"], abs=1e-8)
    _, pullback = s2s.vjp(never_reached_subscript, wrt=(0, 1))(x, p, n)
    np.testing.assert_allclose(pullback(1.0)[0], gx, atol=1e-12)


# --- seed 400175 of the long driver run: a hoisted loop-invariant adjoint read, for its shape
# only, a name assigned in the loop after an early return, so never assigned in that run. An
# adjoint is moved out of its loop only when everything it reads, shapes included, is fixed
# before the loop.


def test_seed400175_hoisted_adjoint_reads_only_fixed_names():
    from fuzz_programs import Builder, RandomChooser, _check_program

    ch = RandomChooser(400175)
    source, wrt = Builder(ch).program()
    with np.errstate(all="ignore"):
        assert _check_program(source, wrt, ch) in ("ok", "skip")


def test_seed301147_hoisted_index_adjoint_of_a_loop_local_array():
    """`_k = p['w']` and `_m = _k[-1]` are loop invariants; the second's adjoint accumulates into
    `zeros_like(_k)`, a read of a name assigned in the loop after an early return: it stays in
    the loop (crashed with `'float' object is not subscriptable` when hoisted)."""
    from fuzz_programs import Builder, RandomChooser, _check_program

    ch = RandomChooser(301147)
    source, wrt = Builder(ch).program()
    with np.errstate(all="ignore"):
        assert _check_program(source, wrt, ch) in ("ok", "skip")


# --- grad of grad through a user subroutine whose call is active only through a later write
# (seeds 300763 and 301113 of the second-order run). Its results carry no gradient, so reverse
# over reverse skipped the adjoint of `bwd_g(tape, ...)`: the tape's adjoint was never pushed,
# and the adjoint of `fwd_g(tape, ...)` popped it when empty (IndexError). A call that pushes
# onto or pops the tape now always gets its adjoint, with a zero for a result without one.


def constant_layer(u, w):
    return w * np.ones(3)


def active_only_through_a_later_write(x, s):
    a = constant_layer(s, s) + 0.0
    s = s + np.mean(a)
    a[-1] = np.dot(x, x)
    return s * np.sum(a)


def test_grad_of_grad_through_a_call_active_only_by_name():
    df = s2s.grad(active_only_through_a_later_write)
    x, v = np.array([0.3, 0.5, 0.7]), np.array([1.0, -0.5, 0.25])
    eps = 1e-6
    want = (df(x + eps * v, 0.8) - df(x - eps * v, 0.8)) / (2 * eps)
    np.testing.assert_allclose(_GDOT(x, v, 0.8), want, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(
        s2s.hvp(active_only_through_a_later_write)(x, 0.8, v), want, rtol=1e-6, atol=1e-8
    )


_DF = s2s.grad(active_only_through_a_later_write)


def _gdot_of_df(x, v, s):
    return np.sum(_DF(x, s) * v)


_GDOT = s2s.grad(_gdot_of_df)


@pytest.mark.parametrize("seed", [300763, 301113])
def test_second_order_through_an_active_subroutine_call(seed):
    from fuzz_programs import Builder, RandomChooser, check_second_order

    ch = RandomChooser(seed)
    source, wrt = Builder(ch).program()
    with np.errstate(all="ignore"):
        assert check_second_order(source, wrt, ch) in ("ok", "skip")


# --- seed 501424 of the long run: a loop over an array whose body rebinds the array's name.
# Python's `for` keeps iterating the object it started with; the index loop read the rebound
# name (a wrong value and gradient). The loop now reads a copy of the name made at its start.


def rebinds_what_it_iterates(x):
    a = x * 1.5
    total = 0.0
    for e in a:
        a = np.sin(a) + e
        total = total + e * np.sum(a)
    for i, e in enumerate(a):
        a = a * 0.5
        total = total + i * e
    return total


@given(arrays(3, lo=-1.0, hi=1.0))
def test_seed501424_loop_over_a_rebound_name(x):
    value, g = s2s.value_and_grad(rebinds_what_it_iterates)(x)
    assert value == pytest.approx(rebinds_what_it_iterates(x), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(g, numerical_grad(rebinds_what_it_iterates, (x,)), atol=1e-7)
    v = np.array([0.5, -1.0, 0.25])
    _, t = s2s.jvp(rebinds_what_it_iterates)(x, v)
    assert t == pytest.approx(float(g @ v), rel=1e-9, abs=1e-12)


# --- seed 600759 of the second-order run (minimized): reverse over reverse of a gradient whose
# backward sweep restores `a2[i5] = tape.pop()` in a reversed loop while `a2` carries no
# adjoint. The outer backward sweep restored the slice at `i5`, a name it never restored itself
# (NameError). A restored slice now counts its index names as read.


def _restores_slice_at_loop_index(x, s):
    j = 0
    while j < 2:
        j = j + 1
        a = _returns_from_a_while(x)
        for i in range(2):
            a[i] += s
            break
    return np.sum(np.sin(x)) * s * s


def _returns_from_a_while(w):
    while True:
        return w + 0.0


_d_restores = s2s.grad(_restores_slice_at_loop_index, wrt="s")


def _grad_restores(x, s):
    return _d_restores(x, s)


@given(arrays(3, lo=-1.0, hi=1.0), st.floats(-1.0, 1.0))
@settings(max_examples=10, deadline=None)
def test_seed600759_second_order_restore_in_a_reversed_loop(x, s):
    got = s2s.grad(_grad_restores, wrt="s")(x, s)
    assert got == pytest.approx(2.0 * np.sum(np.sin(x)), rel=1e-12, abs=1e-12)
    fd = (_d_restores(x, s + 1e-5) - _d_restores(x, s - 1e-5)) / 2e-5
    assert got == pytest.approx(fd, rel=1e-6, abs=1e-8)


# --- seed 4000735 of the final long run (minimized): forward over reverse (hvp) of a gradient
# whose subroutine result is overwritten before use. The call's result carried no tangent, so
# its tangent version did not run and pushed nothing onto the tangent tape, and the tangent
# version of its backward sweep popped an empty list (IndexError). A generated call that
# pushes onto or pops the tape now always runs in its tangent version.


def _discarded_subroutine(u, w):
    a = np.maximum(w, u) * np.ones(3)
    return np.sqrt(1.0 + a * a)


def discards_a_subroutine_result(x, s):
    a = _discarded_subroutine(s, np.sum(x)) + 0.0
    a = 1.5 * s * np.ones(3)
    return a[-1] * s


@given(arrays(3, lo=-1.0, hi=1.0), st.floats(0.1, 1.0), arrays(3, lo=-1.0, hi=1.0))
@settings(max_examples=10, deadline=None)
def test_seed4000735_hvp_through_a_discarded_subroutine_result(x, s, v):
    got = s2s.hvp(discards_a_subroutine_result, wrt=0)(x, s, v)
    np.testing.assert_array_equal(got, np.zeros(3))  # f does not depend on x
    got_s = s2s.hvp(discards_a_subroutine_result, wrt=1)(x, s, 1.0)
    assert got_s == pytest.approx(3.0, rel=1e-12)  # f = 1.5 s**2


# --- seed 7300303 (session 5, first run after gradients with respect to one number moved to
# forward mode): `return s` of the `wrt` number itself. Its tangent is the constant 1.0, no
# variable, and the gradient's return read `t_s`, never assigned (NameError). The output's
# tangent is now taken like every other read of a tangent.


def returns_the_number(x, s, p, n):
    for _ in range(3):
        a2 = 0.5 * np.tanh(np.cumsum(np.cumsum(p["w"]) * 0.5) * 0.5)  # noqa: F841
        for _ in range(n):
            break
    return s


@given(st.floats(-1.0, 1.0))
@settings(max_examples=10, deadline=None)
def test_seed7300303_the_output_is_the_wrt_number(s):
    p = {"w": np.array([0.1, 0.2, 0.3]), "b": 0.5}
    args = (np.zeros(3), s, p, 2)
    assert s2s.value_and_grad(returns_the_number, wrt="s")(*args) == (s, 1.0)
    assert s2s.grad(returns_the_number, wrt=("x", "s"))(*args)[1] == 1.0


# --- seed 7500590 (session 5; the bug is older): `a *= t` inside `for e in a:`. NumPy's `*=`
# writes into the array the loop is reading its rows from, so later rows see the new values;
# the core's `a = a * t` made a new array and the loop read the old rows: a wrong value and
# gradient. The iterated name's augmented assignment is now guarded like an alias's: a
# number rebinds as before, an array is refused with the way out (`a = a * t`).


def scales_what_it_iterates(x):
    a = x * 1.5
    for e in a:
        a *= np.tanh(e)
    return np.sum(a)


def rebinds_what_it_iterates_by_product(x):
    a = x * 1.5
    for e in a:
        a = a * np.tanh(e)
    return np.sum(a)


def test_seed7500590_augmented_assignment_to_the_iterated_array_is_refused():
    x = np.array([0.3, -0.2, 0.5])
    with pytest.raises(s2s.S2SError, match="the array a loop iterates over"):
        s2s.grad(scales_what_it_iterates)(x)
    g = s2s.grad(rebinds_what_it_iterates_by_product)(x)
    np.testing.assert_allclose(
        g, numerical_grad(rebinds_what_it_iterates_by_product, (x,)), rtol=1e-6, atol=1e-8
    )
