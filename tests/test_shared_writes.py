"""Writes into shared storage (`s2s/aliasing.py`, `check_shared_writes`).

`a = X[0]` makes `a` a view of X's memory; `a = L[0]` makes `a` the very array the list holds;
`M = L` makes `M` the same list. A later write into X (or `L[0] += ...`, or `L.append(...)`)
changes `a` or `M` too, which s2s's value semantics does not follow: these programs used to
give silently wrong gradients (or an internal error). Each is now refused before anything runs
when the other name is read after the write, with the line, the two names and what to write
instead. Where the other name is no longer read, or holds its own copy, the program is
differentiated, and checked against central differences and forward mode."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from fd import assert_specialized_matches, numerical_grad
from fuzz_programs import load
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import arrays

import s2s

# --- refused: each was a silently wrong gradient (or an internal ValueError) ------------------


def view_row_then_base_set(x):
    X = np.outer(x, x)
    a = X[0]
    X[0] = x  # <- 'X' 'a' row
    return np.sum(a * a)


def slice_then_base_set(x):
    y = x * 2.0
    a = y[:2]
    y[0] = np.sin(x[1])  # <- 'y' 'a' view
    return np.sum(a * a)


def view_row_then_base_incremented(x):
    X = np.outer(x, x)
    a = X[0]
    X[0] += x  # <- 'X' 'a' row
    return np.sum(a * a)


def transpose_then_base_set(x):
    X = np.outer(x, x)
    a = X.T
    X[1, 2] = 0.0  # <- 'X' 'a' view
    return np.sum(a * X)


def reshape_in_loop_then_base_set(x):
    X = np.outer(x, x) + 0.0
    s = 0.0
    for t in range(2):
        v = X.reshape(-1)
        X[t] = x * 3.0  # <- 'X' 'v' view
        s = s + np.sum(v * v)
    return s


def dict_item_incremented(x):
    d = {"w": x * 1.0}
    a = d["w"]
    d["w"] += x  # <- 'd' 'a' element
    return np.sum(a * a)


def list_item_incremented(x):
    L = [x * 1.0]
    a = L[0]
    L[0] += x  # <- 'L' 'a' element
    return np.sum(a)


def list_alias_appended_through_base(x):
    L = [x * 1.0]
    M = L
    L.append(x * 3.0)  # <- 'L' 'M' same
    return np.sum(M[1])


def list_holding_array_then_array_set(x):
    X = np.outer(x, x)
    L = [X]
    X[0] = x  # <- 'X' 'L' holder
    return np.sum(L[0])


def array_in_list_then_written(x):
    a = x * 1.0
    L = [a]
    a[0] = 5.0  # <- 'a' 'L' holder
    return np.sum(L[0] * x)


def dict_param_item_incremented(p, x):
    a = p["w"]
    p["w"] += x  # <- 'p' 'a' element
    return np.sum(a * x)


def read_after_loop(x):
    H = np.zeros((3, 3))
    h = H[0]
    for t in range(3):
        H[t] = np.sin(x * t)  # <- 'H' 'h' row
    return np.sum(h * x)


def read_on_the_next_iteration(x):
    H = np.outer(x, x)
    s = 0.0
    h = H[2]
    for t in range(3):
        s = s + np.sum(h * x)
        H[t] = np.tanh(H[t])  # <- 'H' 'h' row
    return s


def read_after_break(x):
    H = np.outer(x, x)
    a = x * 1.0
    for t in range(3):
        a = H[t]
        if t == 1:
            break
    H[1] = x  # <- 'H' 'a' row
    return np.sum(a * x)


REFUSED = [
    view_row_then_base_set,
    slice_then_base_set,
    view_row_then_base_incremented,
    transpose_then_base_set,
    reshape_in_loop_then_base_set,
    dict_item_incremented,
    list_item_incremented,
    list_alias_appended_through_base,
    list_holding_array_then_array_set,
    array_in_list_then_written,
    dict_param_item_incremented,
    read_after_loop,
    read_on_the_next_iteration,
    read_after_break,
]
WORDS = {
    "view": "may be a view of",
    "element": "may be the item that",
    "same": "may be the same list as",
    "holder": "may hold",
}


def _marked(fn):
    """The line marked `# <- base other relation` and what it names."""
    lines, first = inspect.getsourcelines(fn)
    for i, line in enumerate(lines):
        if "# <-" in line:
            base, other, relation = line.split("# <-")[1].split()
            return first + i, line.split("  # <-")[0].strip(), base.strip("'"), other, relation
    raise AssertionError("no marked line")


def _args(fn):
    x = np.array([0.5, -1.25, 2.0])
    if fn is dict_param_item_incremented:
        return ({"w": np.array([1.0, 2.0, 3.0])}, x)
    return (x,)


@pytest.mark.parametrize("fn", REFUSED, ids=lambda f: f.__name__)
def test_write_into_shared_storage_read_later_is_refused(fn):
    line, code, base, other, relation = _marked(fn)
    args = _args(fn)
    if relation == "row":
        _check_row_refused_at_run_time(fn, line, base, other.strip("'"), args)
        return
    calls = [lambda: s2s.grad(fn)(*args), lambda: s2s.vjp(fn)(*args), lambda: s2s.source(fn)]
    for call in calls:
        with pytest.raises(s2s.UnsupportedSyntaxError) as err:
            call()
        text = str(err.value)
        assert err.value.lineno == line, text
        assert code in text, text
        other = other.strip("'")
        assert f"writing into {base!r} while {other!r} {WORDS[relation]}" in text, text
        assert f"and {other!r} is read later: the write would change {other!r} too" in text, text
        assert "hint: " in text, text


def _check_row_refused_at_run_time(fn, line, base, other, args):
    """`a = X[i]` of an array: a number for a 1-D `X` (nothing shared) or a row, a view of a
    2-D one. The line that binds it checks which (`number_guard`), and refuses a row."""
    lines, first = inspect.getsourcelines(fn)
    (bound,) = [
        first + i for i, t in enumerate(lines) if t.strip().startswith(f"{other} = {base}[")
    ]
    assert f"number_guard({other}, '{base}|{other}|{base}[" in s2s.source(fn)
    for call in (lambda: s2s.grad(fn)(*args), lambda: s2s.vjp(fn)(*args)):
        with pytest.raises(s2s.UnsupportedSyntaxError) as err:
            call()
        text = str(err.value)
        assert err.value.lineno == bound, text
        assert (
            f"{other!r} is a ndarray here, a view of {base!r} (a row of it), and {base!r} is "
            f"written into while {other!r} is still read: the write would change {other!r} too"
        ) in text, text


def test_the_hint_names_the_copy_to_make():
    with pytest.raises(s2s.UnsupportedSyntaxError) as err:
        s2s.grad(slice_then_base_set)(np.ones(3))
    assert str(err.value).endswith(
        "hint: make 'a' its own array where it is made (a = y[:2].copy()), or finish reading "
        "'a' before writing into 'y'"
    )
    with pytest.raises(s2s.UnsupportedSyntaxError) as err:
        s2s.grad(list_alias_appended_through_base)(np.ones(3))
    assert str(err.value).endswith("hint: make 'M' its own list where it is made: M = L.copy()")


def test_the_refused_programs_are_really_wrong_under_value_semantics():
    """The refusal is not over-cautious here: NumPy's answer differs from what s2s would compute
    if it read `a` as a copy (the gradient of the copy reading, by central differences)."""
    x = np.array([0.5, -1.25, 2.0])

    def copied(x):
        X = np.outer(x, x)
        a = X[0].copy()
        X[0] = x
        return np.sum(a * a)

    shared = numerical_grad(view_row_then_base_set, (x,), 0)
    assert not np.allclose(shared, numerical_grad(copied, (x,), 0))


# --- a called function that writes into its argument ----------------------------------------


def set_first_row(X, v):
    X[0] = v
    return 0.0


def push(items, v):
    items.append(v)
    return 0.0


def set_through_a_view(X, v):
    row = X[1]
    row[:] = v
    return 1.0


def forwards_the_write(X, v):
    return set_first_row(X, v) + 1.0


def row_set_by_a_call(x):
    X = np.outer(x, x)
    set_first_row(X, np.sin(x))  # <- 'X' 'X' callee
    return np.sum(X * X)


def list_appended_by_a_call(x):
    L = [x * 1.0]
    push(L, np.sin(x))  # <- 'L' 'L' callee
    return np.sum(L[-1] * x)


def view_of_what_a_call_writes(x):
    X = np.outer(x, x)
    a = X[0]
    s = forwards_the_write(X, np.sin(x))  # <- 'X' 'a' callee
    return s + np.sum(a * x)


def set_named_row(v, *, into):
    into[0] = v
    return 0.0


def keyword_argument_written_by_a_call(x):
    X = np.outer(x, x)
    set_named_row(np.sin(x), into=X)  # <- 'X' 'X' callee
    return np.sum(X)


def read_in_the_same_statement(x):
    X = np.outer(x, x)
    return set_first_row(X, np.sin(x)) + np.sum(X)  # <- 'X' 'X' callee


CALLEES = {  # the function called, its parameter written into
    row_set_by_a_call: ("set_first_row", "X"),
    list_appended_by_a_call: ("push", "items"),
    view_of_what_a_call_writes: ("forwards_the_write", "X"),
    read_in_the_same_statement: ("set_first_row", "X"),
    keyword_argument_written_by_a_call: ("set_named_row", "into"),
}


@pytest.mark.parametrize("fn", list(CALLEES), ids=lambda f: f.__name__)
def test_a_call_writing_into_an_argument_read_later_is_refused(fn):
    """These were silently wrong: s2s differentiates a call as a function of its arguments'
    values (the callee works on its own copy), so the write never reached the caller."""
    line, _, base, other, _ = _marked(fn)
    fname, param = CALLEES[fn]
    other = other.strip("'")
    x = np.array([0.5, -1.25, 2.0])
    for call in (lambda: s2s.grad(fn)(x), lambda: s2s.source(fn)):
        with pytest.raises(s2s.UnsupportedSyntaxError) as err:
            call()
        text = str(err.value)
        assert err.value.lineno == line, text
        assert f"{fname} writes into its argument `{base}` in place (its parameter {param!r})" in (
            text
        )
        shares = "" if other == base else ", which shares it,"
        assert f"and {other!r}{shares} is read later: s2s differentiates a call" in text, text
        assert text.endswith(f"pass it a copy: {base}.copy()"), text


def writes_a_copy(X, v):
    X = X.copy()
    X[0] = v
    return np.sum(X * X)


def view_written_by_a_call(x):
    X = np.outer(x, x)
    row = X[2]
    s = set_through_a_view(X, np.cos(x))
    return s + np.sum(row * x)


def call_writes_what_is_not_read_again(x):
    X = np.outer(x, x)
    s = np.sum(X * x)
    set_first_row(X, x)
    return s + writes_a_copy(np.outer(x, x) * 2.0, np.sin(x))


def test_a_write_through_a_view_in_the_callee_counts():
    with pytest.raises(s2s.UnsupportedSyntaxError, match="set_through_a_view writes into its"):
        s2s.grad(view_written_by_a_call)(np.ones(3))


@settings(max_examples=10, deadline=None)
@given(x=arrays((3,)))
def test_a_call_that_copies_first_or_whose_write_nobody_reads_is_differentiated(x):
    assert_specialized_matches(call_writes_what_is_not_read_again, (x,))


def add_into(h, v):
    h += v
    return np.sum(h * h)


def array_added_into_by_a_call(x):
    h = x * 1.0
    s = add_into(h, x)
    return s + np.sum(h)


def number_added_into_by_a_call(x):
    t = np.sum(x)
    s = add_into(t, np.sin(x[0]))
    return s * t


def test_a_call_augmenting_an_array_argument_is_refused_at_run_time():
    assert "arg_guard(h, 'add_into:h', " in s2s.source(array_added_into_by_a_call)
    with pytest.raises(s2s.UnsupportedSyntaxError) as err:
        s2s.grad(array_added_into_by_a_call)(np.array([0.5, -1.25, 2.0]))
    text = str(err.value)
    assert "add_into does `h += ...` (or another augmented assignment) on its parameter 'h'" in text
    assert "which is given a ndarray here" in text and err.value.lineno is not None


@settings(max_examples=10, deadline=None)
@given(x=arrays((3,)))
def test_a_call_augmenting_a_number_argument_passes_the_guard(x):
    assert_specialized_matches(number_added_into_by_a_call, (x,))


# --- run-time guards: only the values tell -----------------------------------------------------


def view_then_base_augmented(X, x):
    a = X[0]
    X += x  # an array: a write into a's memory; a number: a new value
    return np.sum(a * x) + np.sum(X)


def copy_then_item_incremented(X, x):
    Y = X.copy()
    X[0] += x  # an array: numbers written; a list of arrays: the held array changed
    return np.sum(Y[0] * X[0])


def test_augmented_assignment_into_a_shared_array_is_refused_at_run_time():
    x = np.array([0.5, -1.25, 2.0])
    with pytest.raises(s2s.UnsupportedSyntaxError, match="may be shared with another name"):
        s2s.grad(view_then_base_augmented, wrt=1)(np.outer(x, x), x)
    assert "alias_guard(X, " in s2s.source(view_then_base_augmented, wrt=1)


def test_item_incremented_in_a_list_is_refused_at_run_time_and_fine_in_an_array():
    x = np.array([0.5, -1.25, 2.0])
    source = s2s.source(copy_then_item_incremented, wrt=1)
    assert "item_guard(X, _1, 'test_shared_writes.py:" in source
    with pytest.raises(s2s.UnsupportedSyntaxError) as err:
        s2s.grad(copy_then_item_incremented, wrt=1)([x * 1.0, x * 2.0], x)
    assert "on an item of a list changes the ndarray it holds in place" in str(err.value)
    assert err.value.filename == "test_shared_writes.py"


@settings(max_examples=15, deadline=None)
@given(x=arrays((3,)))
def test_item_incremented_in_an_array_passes_the_guard(x):
    assert_specialized_matches(copy_then_item_incremented, (np.outer(x, x) + 1.0, x), wrt=1)


# --- accepted: the other name is not read after the write, or holds its own value -------------


def view_read_before_the_write(x):
    X = np.outer(x, x)
    a = X[0]
    s = np.sum(a * a)
    X[0] = x
    return s + np.sum(X * X)


def view_rebound_before_the_write(x):
    X = np.outer(x, x)
    a = X[0]
    a = a * 2.0
    X[0] = x
    return np.sum(a * X[1])


def copied_before_the_write(x):
    X = np.outer(x, x)
    a = X[0].copy()
    X[0] = np.sin(x)
    Y = X.copy()
    X[1] += x
    return np.sum(a * X[0]) + np.sum(Y * X)


def previous_row_in_a_loop(x):
    h = np.zeros(3)
    h[0] = x[0]
    for t in range(1, 3):
        prev = h[t - 1]
        h[t] = np.sin(prev) * x[t]
    return np.sum(h * h)


def previous_buffer_in_a_loop(x):
    s = 0.0
    prev = x * 1.0
    for t in range(3):
        b = np.zeros(3)
        b[0] = x[t]
        b[1] = np.cos(x[t])
        s = s + np.sum(b * prev)
        prev = b
    return s


def rows_written_then_appended(x):
    out = []
    for t in range(3):
        row = np.zeros(3)
        row[t] = x[t] * 2.0
        out.append(row)
    return np.sum(np.stack(out) ** 2)


def list_item_replaced(x):
    L = [x * 1.0]
    a = L[0]
    L[0] = x * 5.0  # a new item: `a` keeps the old one
    return np.sum(a * L[0])


def dict_item_replaced(x):
    d = {"w": x * 1.0, "b": np.sin(x)}
    w = d["w"]
    d["w"] = d["w"] * 3.0
    d["b"] = d["b"] + w
    return np.sum(w * d["w"] + d["b"])


def item_of_a_vector_then_written(x):
    a = np.sin(x) * 1.0
    v = a[1]  # a number: the guard lets it through
    s = 0.0
    for t in range(2):
        a[0] = np.arctan(v * a[2] + s + t)
        s = s + v * a[0]
    return s + np.sum(a * a)


def loop_item_of_a_vector_then_written(x):
    a = np.sin(x) * 1.0
    s = 0.0
    for e in a:  # a number each step: the guard where the loop binds it lets it through
        a[0] = np.tanh(a[0] + e * x[1])
        s = s + e * a[0]
    return s + np.sum(a * a)


ACCEPTED = [
    item_of_a_vector_then_written,
    loop_item_of_a_vector_then_written,
    view_read_before_the_write,
    view_rebound_before_the_write,
    copied_before_the_write,
    previous_row_in_a_loop,
    previous_buffer_in_a_loop,
    rows_written_then_appended,
    list_item_replaced,
    dict_item_replaced,
]


@pytest.mark.parametrize("fn", ACCEPTED, ids=lambda f: f.__name__)
@settings(max_examples=10, deadline=None)
@given(x=arrays((3,)))
def test_writes_nothing_later_reads_through_another_name_are_differentiated(fn, x):
    assert_specialized_matches(fn, (x,))


def loop_row_then_written(x):
    A = np.outer(x, x)
    s = 0.0
    for e in A:  # a row: a view of A, which the write below changes
        A[0] = np.sin(A[0])
        s = s + np.sum(e * x)
    return s


def reversed_loop_row_then_written(x):
    A = np.outer(x, x)
    s = 0.0
    for e in reversed(A):  # a row too
        A[0] = np.sin(A[0])
        s = s + np.sum(e * x)
    return s


def reversed_loop_item_of_a_vector(x):
    a = np.sin(x) * 1.0
    s = 0.0
    for e in reversed(a):  # a number each step
        a[0] = np.tanh(a[0] + e * x[1])
        s = s + e * a[0]
    return s + np.sum(a * a)


@settings(max_examples=10, deadline=None)
@given(x=arrays((3,)))
def test_a_reversed_loop_item_is_checked_too(x):
    assert_specialized_matches(reversed_loop_item_of_a_vector, (x,))
    with pytest.raises(s2s.UnsupportedSyntaxError) as err:
        s2s.grad(reversed_loop_row_then_written)(x)
    assert str(err.value).endswith(
        "hint: loop over a copy (for e in reversed(A.copy()):), or finish reading 'e' before "
        "writing into 'A'"
    ), str(err.value)


def test_a_loop_over_a_matrix_written_into_is_refused_at_run_time():
    """`for e in A:` binds a row of a 2-D `A` (a number of a 1-D one, accepted above): the
    loop checks each item it binds, and refuses a row the write changes while it is read."""
    lines, first = inspect.getsourcelines(loop_row_then_written)
    (loop_line,) = [first + i for i, t in enumerate(lines) if t.strip().startswith("for e in A")]
    assert "number_guard(e, 'A|e|for e in A'" in s2s.source(loop_row_then_written)
    x = np.array([0.5, -1.25, 2.0])
    for call in (
        lambda: s2s.grad(loop_row_then_written)(x),
        lambda: s2s.vjp(loop_row_then_written)(x),
    ):
        with pytest.raises(s2s.UnsupportedSyntaxError) as err:
            call()
        text = str(err.value)
        assert err.value.lineno == loop_line, text
        assert "'e' is a ndarray here, a view of 'A' (a row of it)" in text, text
        assert text.endswith(
            "hint: loop over a copy (for e in A.copy():), or finish reading 'e' before writing "
            "into 'A'"
        ), text


def number_aliased_then_incremented(x):
    s = np.sum(x)
    t = s
    s += 1.0  # a float: a new value, `t` keeps the old one
    return t * s


@settings(max_examples=10, deadline=None)
@given(x=arrays((3,)))
def test_augmented_number_with_an_alias_passes_the_guard(x):
    assert_specialized_matches(number_aliased_then_incremented, (x,))


# --- random programs of views, aliases, items and writes: refused, or right -------------------

_MAKE = [
    "{v} = X[{r}]",
    "{v} = X[:, {r}]",
    "{v} = X[{r}:]",
    "{v} = X.T",
    "{v} = X.reshape(-1)",
    "{v} = X",
    "{v} = X[{r}].copy()",
    "{v} = L[{j}]",
    "{v} = L",
    "{v} = L[{j}] * 1.0",
    "{v} = np.tanh(X[{r}])",
    "{v} = first(L)",
    "{v} = same(X)",
]
_WRITE = [
    "X[{r}] = np.sin(x)",
    "X[{r}] += x",
    "X[{r}, {r}] = x[{r}] * 2.0",
    "X *= 0.5",
    "L[{j}] = x * 3.0",
    "L[{j}] += x",
    "L.append(x * 0.5)",
    "{v}[{r}] = 1.5",
    "set_row(X, {r}, np.sin(x))",
    "s = s + set_row({v}, {r}, x * 0.5)",
    "append_to(L, x * 0.25)",
    "s = s + bump({v}, x)",
]
_HEAD = """import numpy as np


def first(items):
    return items[0]


def same(a):
    return a


def set_row(A, i, v):
    A[i] = v
    return np.sum(v)


def append_to(items, v):
    items.append(v)
    return 0.0


def bump(a, v):
    a += v
    return np.sum(a)


def f(x):
    X = np.outer(x, x) + 1.0
    L = [x * 1.0, np.cos(x)]
    s = 0.0
"""


@st.composite
def _shared_programs(draw):
    lines, made = [], []
    for _ in range(draw(st.integers(2, 7))):
        kind = draw(st.sampled_from(["make", "make", "write", "read", "rebind"]))
        r, j = draw(st.integers(0, 2)), draw(st.integers(0, 1))
        if kind == "make" or not made:
            v = f"v{len(made)}"
            lines.append(draw(st.sampled_from(_MAKE)).format(v=v, r=r, j=j))
            made.append(v)
            continue
        v = draw(st.sampled_from(made))
        if kind == "write":
            lines.append(draw(st.sampled_from(_WRITE)).format(v=v, r=r, j=j))
        elif kind == "read":
            lines.append(f"s = s + np.sum(np.asarray({v}[{j}]) * x[{r}])")
        else:
            lines.append(f"{v} = np.tanh(np.asarray({v}))")
    reads = " + ".join(f"np.sum(np.asarray({v}[0]))" for v in made)
    body = "".join(f"    {line}\n" for line in lines)
    return _HEAD + body + f"    return s + np.sum(X * X) + np.sum(L[0]) + {reads}\n"


@settings(max_examples=150, deadline=None)
@given(source=_shared_programs(), x=arrays((3,), lo=0.3, hi=1.2))
def test_random_programs_with_shared_storage_are_refused_or_right(source, x):
    """Whatever the mix of views, aliases, list items, calls that return their argument and
    writes: s2s refuses with an UnsupportedSyntaxError (before running, or at a run-time guard)
    or its gradient is the central difference of what NumPy computes. Never a wrong number."""
    import copy

    f = load(source).f
    try:
        f(x.copy())
    except Exception:  # noqa: BLE001 - a program NumPy itself rejects (a write into `X.T`...)
        return
    try:
        g = s2s.grad(f)(x.copy())
    except s2s.UnsupportedSyntaxError:
        return
    want = numerical_grad(lambda y: f(copy.deepcopy(y)), (x,), 0)
    np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-6, err_msg=source)


def scale_first_row(X, v):
    X[0] = X[0] * v
    return np.sum(X * X)


def push_and_sum(items, v):
    items.append(np.sin(v))
    return np.sum(items[-1] * items[0])


def calls_that_write_into_arguments_read_no_more(x):
    X = np.outer(x, x)
    s = scale_first_row(X, x)
    L = [x * 2.0]
    t = push_and_sum(L, x)
    return s * t


@settings(max_examples=10, deadline=None)
@given(x=arrays((3,)))
def test_active_calls_writing_into_arguments_nobody_reads_again(x):
    """The called function writes into its own copy; the caller never sees the difference."""
    assert_specialized_matches(calls_that_write_into_arguments_read_no_more, (x,))
