"""Methods of the user's classes, and NamedTuples and dataclasses made inside the function.

`model(x)` and `model.apply(x)` are differentiated as calls of the class's Python functions once
the class of `model` is known from annotations (`s2s/classes.py`): a parameter's, a dataclass
field's (`layers: list[Linear]`), `self` in a method, a constructor call, a return annotation.
Each gradient is checked against central differences (hypothesis shapes), forward mode against
reverse mode (the dot-product test), hvp against differences of the gradient. Annotations are
strings here (`from __future__ import annotations`), as in most typed code.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from typing import NamedTuple

import numpy as np
import pytest
from fd import assert_grad_matches, leaves, numerical_grad, random_direction, tree_dot
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import arrays, matrices, sides

import s2s

# --- a model made of layers -------------------------------------------------------------------


@dataclasses.dataclass
class Linear:
    W: np.ndarray
    b: np.ndarray

    def __call__(self, x):
        return x @ self.W + self.b


@dataclasses.dataclass
class MLP:
    layers: list[Linear]

    def __call__(self, x):
        for layer in self.layers[:-1]:
            x = np.tanh(layer(x))
        return self.layers[-1](x)


def mse(model: MLP, x, y):
    return np.mean((model(x) - y) ** 2)


@st.composite
def mlps(draw):
    widths = draw(st.lists(sides(1, 4), min_size=2, max_size=4))
    layers = [
        Linear(draw(matrices(a, b)) / 2, draw(arrays((b,))))
        for a, b in zip(widths, widths[1:], strict=False)
    ]
    batch = draw(sides())
    x = draw(matrices(batch, widths[0]))
    y = draw(matrices(batch, widths[-1]))
    return MLP(layers), x, y


def _shifted(tree, direction, eps):
    flat = [u + eps * v for (_, u), (_, v) in zip(leaves(tree), leaves(direction), strict=True)]
    it = iter(flat)

    def rebuild(t):
        if isinstance(t, tuple) and hasattr(t, "_fields"):
            return type(t)(*(rebuild(v) for v in t))
        if isinstance(t, list):
            return [rebuild(v) for v in t]
        if dataclasses.is_dataclass(t):
            return dataclasses.replace(
                t, **{f.name: rebuild(getattr(t, f.name)) for f in dataclasses.fields(t)}
            )
        return next(it)

    return rebuild(tree)


@given(mlps())
@settings(max_examples=15, deadline=None)
def test_a_model_of_layers(args):
    """`model(x)` with `model: MLP`, whose `layers: list[Linear]` are called in a loop: the
    gradient is an `MLP` of `Linear`s (central differences), forward mode agrees (the
    dot-product test), and hvp equals the differences of the gradient."""
    model, x, y = args
    g = assert_grad_matches(mse, model, x, y)
    assert type(g) is MLP and all(type(layer) is Linear for layer in g.layers)
    gx = assert_grad_matches(mse, model, x, y, wrt="x")
    rng = np.random.default_rng(int(abs(x).sum() * 1000) % 2**32)
    u = random_direction(model, rng)
    _, t = s2s.jvp(mse)(model, x, y, u)
    np.testing.assert_allclose(t, tree_dot(g, u), rtol=1e-9, atol=1e-12)
    ux = rng.standard_normal(x.shape)
    _, tx = s2s.jvp(mse, wrt="x")(model, x, y, ux)
    np.testing.assert_allclose(tx, np.sum(gx * ux), rtol=1e-9, atol=1e-12)
    h = s2s.hvp(mse)(model, x, y, u)
    eps = 1e-6
    plus = s2s.grad(mse)(_shifted(model, u, eps), x, y)
    minus = s2s.grad(mse)(_shifted(model, u, -eps), x, y)
    assert type(h) is MLP
    for (_, a), (_, b), (_, c) in zip(leaves(h), leaves(plus), leaves(minus), strict=True):
        np.testing.assert_allclose(a, (b - c) / (2 * eps), rtol=1e-4, atol=1e-6)


def test_the_generated_code_names_the_classes_and_checks_them():
    """One `fwd_`/`bwd_` pair per method (`fwd_MLP_call`, `bwd_Linear_call`), documented as
    `MLP.__call__`; before each differentiated method call, `check_method`; a call with no
    derivative to take stays `model(x)`."""
    text = s2s.source(mse)
    assert "check_method(model, MLP, '__call__', 'test_classes.py:50')" in text
    assert "def fwd_MLP_call(tape, self, x):" in text
    assert "def bwd_Linear_call(tape, d_1, self, x):" in text
    assert "Forward sweep of MLP.__call__ (test_classes.py:43)" in text
    assert "__call__(" not in text.replace("'__call__'", "")
    plain = s2s.source(mse, wrt="y")
    assert "= model(x)" in plain and "check_method" not in plain
    assert "jvp_Linear_call" in s2s.source(mse, mode="forward")
    assert s2s.source(mse) == text  # deterministic


# --- methods calling methods, staticmethods, keyword arguments -------------------------------


@dataclasses.dataclass
class Gated:
    W: np.ndarray
    scale: float = 1.0

    @staticmethod
    def squash(z, power=2.0):
        return z / (1.0 + np.abs(z) ** power) ** (1.0 / power)

    def gate(self, z):
        return 1.0 / (1.0 + np.exp(-z))

    def apply(self, x, shift=0.0):
        z = x @ self.W * self.scale + shift
        return self.squash(z, power=3.0) * self.gate(z)


def gated_loss(m: Gated, x, shift):
    return np.sum(m.apply(x, shift=shift) ** 2) + np.sum(m.apply(x))


@given(st.data())
@settings(max_examples=15, deadline=None)
def test_methods_calling_methods(data):
    """A method calling a method and a staticmethod of `self`, with keyword arguments: the
    gradient in the dataclass (its float field too) and in each argument."""
    n, k, batch = data.draw(sides()), data.draw(sides()), data.draw(sides())
    m = Gated(data.draw(matrices(n, k)), float(data.draw(st.floats(0.5, 2.0))))
    x = data.draw(matrices(batch, n))
    shift = float(data.draw(st.floats(-1.0, 1.0)))
    g = assert_grad_matches(gated_loss, m, x, shift)
    assert type(g) is Gated and isinstance(g.scale, float)
    gx = assert_grad_matches(gated_loss, m, x, shift, wrt="x")
    assert_grad_matches(gated_loss, m, x, shift, wrt="shift")
    u = random_direction(m, np.random.default_rng(7))
    _, t = s2s.jvp(gated_loss)(m, x, shift, u)
    np.testing.assert_allclose(t, tree_dot(g, u), rtol=1e-9, atol=1e-12)
    ux = np.random.default_rng(8).standard_normal(x.shape)
    _, tx = s2s.jvp(gated_loss, wrt="x")(m, x, shift, ux)
    np.testing.assert_allclose(tx, np.sum(gx * ux), rtol=1e-9, atol=1e-12)


# --- an LSTM cell whose state is a NamedTuple made in the method ------------------------------


class State(NamedTuple):
    h: np.ndarray
    c: np.ndarray


@dataclasses.dataclass
class Cell:
    W: np.ndarray
    b: np.ndarray

    def __call__(self, state: State, x) -> State:
        H = state.h.shape[1]
        z = np.concatenate([x, state.h], axis=1) @ self.W + self.b
        i = 1.0 / (1.0 + np.exp(-z[:, :H]))
        g = np.tanh(z[:, H:])
        c = state.c * i + g * (1.0 - i)
        return State(np.tanh(c) * i, c=c)


def run_cell(cell: Cell, xs, h0):
    state = State(h0, h0 * 0.5)
    for x in xs:
        state = cell(state, x)
    return np.sum(state.h**2) + np.sum(state.c)


def run_cell_checkpointed(cell: Cell, xs, h0):
    state = State(h0, h0 * 0.5)
    for x in s2s.checkpointed(xs):
        state = cell(state, x)
    return np.sum(state.h**2) + np.sum(state.c)


@st.composite
def cells(draw):
    batch, n_in, hidden, steps = draw(sides()), draw(sides()), draw(sides()), draw(sides(1, 5))
    cell = Cell(draw(matrices(n_in + hidden, 2 * hidden)) / 2, draw(arrays((2 * hidden,))))
    xs = np.stack([draw(matrices(batch, n_in)) for _ in range(steps)])
    h0 = draw(matrices(batch, hidden))
    return cell, xs, h0


@given(cells())
@settings(max_examples=15, deadline=None)
def test_a_cell_whose_state_is_made_in_the_method(args):
    """`State(h, c=c)` made in the cell and carried through a loop: the gradients in the cell,
    the inputs and the initial state (central differences); checkpointed, the same gradient;
    forward mode agrees (the dot-product test)."""
    cell, xs, h0 = args
    g = assert_grad_matches(run_cell, cell, xs, h0)
    assert type(g) is Cell
    gh = assert_grad_matches(run_cell, cell, xs, h0, wrt="h0")
    assert_grad_matches(run_cell, cell, xs, h0, wrt="xs")
    gc = s2s.grad(run_cell_checkpointed)(cell, xs, h0)
    np.testing.assert_allclose(gc.W, g.W, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gc.b, g.b, rtol=1e-12, atol=1e-14)
    u = np.random.default_rng(3).standard_normal(h0.shape)
    _, t = s2s.jvp(run_cell, wrt="h0")(cell, xs, h0, u)
    np.testing.assert_allclose(t, np.sum(gh * u), rtol=1e-9, atol=1e-12)
    v = random_direction(cell, np.random.default_rng(4))
    _, t = s2s.jvp(run_cell)(cell, xs, h0, v)
    np.testing.assert_allclose(t, tree_dot(g, v), rtol=1e-9, atol=1e-12)


# --- constructors -----------------------------------------------------------------------------


@dataclasses.dataclass
class Pair:
    a: np.ndarray
    b: float = 2.0
    label: str = "pair"


class Triple(NamedTuple):
    x: np.ndarray
    y: np.ndarray
    z: float = 0.5


def constructed(x, s):
    p = Pair(x * s, b=s * s)
    q = Pair(p.a * p.b)  # b and label: the defaults
    t = Triple(np.sin(x), y=p.a)
    u = Triple(*[t.y, t.x])  # noqa: F841  (a star-argument: refused by the normalizer, unused)
    return np.sum(q.a * q.b) + np.sum(t.x * t.y * t.z) + np.sum(t[1])


def constructed_returns(x, s):
    return Triple(x * s, np.cos(x), z=s)


def constructed_ok(x, s):
    p = Pair(x * s, b=s * s)
    q = Pair(p.a * p.b)
    t = Triple(np.sin(x), y=p.a)
    return np.sum(q.a * q.b) + np.sum(t.x * t.y * t.z) + np.sum(t[1]) + q.b


@given(arrays((3,)), st.floats(-2.0, 2.0))
@settings(max_examples=20, deadline=None)
def test_namedtuples_and_dataclasses_made_in_the_function(x, s):
    """`Pair(x * s, b=...)` and `Triple(..., y=...)`, made from positional and keyword
    arguments with defaults left out, read by field and by position: central differences in
    each argument, and forward mode; a function returning a NamedTuple gets a tangent of its
    type."""
    s = float(s)
    gx = assert_grad_matches(constructed_ok, x, s)
    gs = assert_grad_matches(constructed_ok, x, s, wrt="s")
    u = np.random.default_rng(1).standard_normal(3)
    _, t = s2s.jvp(constructed_ok)(x, s, u)
    np.testing.assert_allclose(t, np.sum(gx * u), rtol=1e-9, atol=1e-12)
    _, t = s2s.jvp(constructed_ok, wrt="s")(x, s, 1.0)
    np.testing.assert_allclose(t, gs, rtol=1e-9, atol=1e-12)
    value, t = s2s.jvp(constructed_returns)(x, s, u)
    assert type(value) is Triple and type(t) is Triple
    np.testing.assert_allclose(t.x, u * s, rtol=1e-12)
    np.testing.assert_allclose(t.y, -np.sin(x) * u, rtol=1e-12)
    assert t.z == 0.0
    cot = Triple(np.ones(3), np.full(3, 2.0), 3.0)
    value, pullback = s2s.vjp(constructed_returns, wrt=("x", "s"))(x, s)
    dx, ds = pullback(cot)
    np.testing.assert_allclose(dx, s - 2.0 * np.sin(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ds, np.sum(x) + 3.0, rtol=1e-12, atol=1e-12)


def test_star_arguments_to_a_constructor_are_refused():
    with pytest.raises(s2s.S2SError, match="star-arguments"):
        s2s.grad(constructed)(np.ones(3), 0.5)


@dataclasses.dataclass
class Checked:
    a: np.ndarray

    def __post_init__(self):
        self.a = self.a * 2.0


def post_init(x):
    return np.sum(Checked(x).a)


def test_a_dataclass_that_runs_code_when_made_is_not_a_constructor():
    """`__post_init__` runs code s2s does not read: the call is not taken for a plain build
    (it has no rule, so it is refused)."""
    with pytest.raises(s2s.S2SError, match="Checked"):
        s2s.grad(post_init)(np.ones(3))


# --- containers of objects in annotations -----------------------------------------------------


@dataclasses.dataclass
class Encoder:
    W: np.ndarray

    def encode(self, x):
        return np.tanh(x @ self.W)


@dataclasses.dataclass
class Decoder:
    W: np.ndarray

    def decode(self, h):
        return h @ self.W


def autoencode(parts: tuple[Encoder, Decoder], x):
    enc, dec = parts
    return np.sum((dec.decode(enc.encode(x)) - x) ** 2)


def by_name(layers: dict[str, Linear], x):
    h = layers["first"](x)
    for name in ["second", "third"]:
        h = np.tanh(layers[name](h))
    return np.sum(h)


@given(st.data())
@settings(max_examples=10, deadline=None)
def test_tuple_and_dict_annotations(data):
    """`tuple[Encoder, Decoder]` unpacked, and `dict[str, Linear]` read by key: each item has
    its class, so its methods are differentiated."""
    n, k, batch = data.draw(sides()), data.draw(sides()), data.draw(sides())
    parts = (Encoder(data.draw(matrices(n, k))), Decoder(data.draw(matrices(k, n))))
    x = data.draw(matrices(batch, n))
    g = assert_grad_matches(autoencode, parts, x)
    assert [type(p) for p in g] == [Encoder, Decoder]
    layers = {
        "first": Linear(data.draw(matrices(n, k)), data.draw(arrays((k,)))),
        "second": Linear(data.draw(matrices(k, k)), data.draw(arrays((k,)))),
        "third": Linear(data.draw(matrices(k, 2)), data.draw(arrays((2,)))),
    }
    g = assert_grad_matches(by_name, layers, x)
    assert all(type(v) is Linear for v in g.values())


# --- recursion through a method ---------------------------------------------------------------


@dataclasses.dataclass
class Repeated:
    W: np.ndarray

    def apply(self, x, n: int):
        if n == 0:
            return x
        return self.apply(np.tanh(x @ self.W), n - 1)


def repeated(m: Repeated, x, n):
    return np.sum(m.apply(x, n) ** 2)


@pytest.mark.parametrize("n", [0, 1, 4])
def test_a_recursive_method(n):
    rng = np.random.default_rng(n)
    m, x = Repeated(rng.standard_normal((3, 3)) / 2), rng.standard_normal((2, 3))
    g = assert_grad_matches(repeated, m, x, n)
    u = random_direction(m, rng)
    _, t = s2s.jvp(repeated)(m, x, n, u)
    np.testing.assert_allclose(t, tree_dot(g, u), rtol=1e-9, atol=1e-12)


# --- plain classes: attributes set in `__init__` ---------------------------------------------


class Norm:
    eps = 1e-5  # a class-level constant: read, no derivative

    def __init__(self, gain):
        self.gain = gain
        self.label = "norm"  # a str attribute: kept as it is

    def __call__(self, x):
        mu = np.mean(x, axis=-1, keepdims=True)
        var = np.mean((x - mu) ** 2, axis=-1, keepdims=True)
        return self.gain * (x - mu) / np.sqrt(var + self.eps)


class Block:
    layers: list[Linear]  # a class-level annotation says what the attribute holds

    def __init__(self, layers, norm: Norm):
        self.layers = layers
        self.norm = norm

    def __call__(self, x):
        for layer in self.layers:
            x = np.tanh(self.norm(layer(x)))
        return x

    @property
    def first(self):
        return self.layers[0]


def block_loss(block: Block, x):
    return np.sum(block(x) ** 2)


def through_a_property(block: Block, x):
    return np.sum(block.first(x))


@given(st.data())
@settings(max_examples=10, deadline=None)
def test_plain_classes(data):
    """Objects of plain classes (attributes set in `__init__`, a class-level constant, a str
    attribute, `layers: list[Linear]` annotated in the class body): the gradient is an object
    of the same class holding the gradient of each attribute (central differences), and
    forward mode agrees."""
    n, batch = data.draw(sides(2, 4)), data.draw(sides())
    layers = [Linear(data.draw(matrices(n, n)) / 2, data.draw(arrays((n,)))) for _ in range(2)]
    block = Block(layers, Norm(data.draw(arrays((n,)))))
    x = data.draw(matrices(batch, n))
    g = assert_grad_matches(block_loss, block, x)
    assert type(g) is Block and type(g.norm) is Norm and g.norm.label == "norm"
    assert [type(p) for p in g.layers] == [Linear, Linear]
    u = random_direction(block, np.random.default_rng(2))
    _, t = s2s.jvp(block_loss)(block, x, u)
    np.testing.assert_allclose(t, tree_dot(g, u), rtol=1e-9, atol=1e-12)


def test_a_property_is_refused():
    """A property computes its value from the object: s2s does not read it, and says so."""
    rng = np.random.default_rng(0)
    block = Block([Linear(rng.standard_normal((2, 2)), np.zeros(2))], Norm(np.ones(2)))
    with pytest.raises(s2s.S2SError, match="first"):
        s2s.grad(through_a_property)(block, np.ones((1, 2)))


# --- what is refused --------------------------------------------------------------------------


@dataclasses.dataclass
class Doubled(Linear):
    def __call__(self, x):
        return 2.0 * (x @ self.W) + self.b


@dataclasses.dataclass
class Renamed(Linear):
    pass


def test_an_object_of_another_class_than_annotated_is_refused():
    """Python does not check annotations: before each differentiated method call, the generated
    code checks that the object's class has the function s2s differentiated. A subclass that
    overrides `__call__` is refused, naming the line; one that does not is differentiated."""
    rng = np.random.default_rng(0)
    W, b, x, y = (rng.standard_normal(s) for s in [(3, 2), (2,), (4, 3), (4, 2)])
    model = MLP([Doubled(W, b)])
    for call in (
        lambda: s2s.grad(mse)(model, x, y),
        lambda: s2s.jvp(mse)(model, x, y, copy.deepcopy(model)),
    ):
        with pytest.raises(s2s.ArgumentError) as info:
            call()
        text = str(info.value)
        assert "test_classes.py:46" in text and "Linear.__call__" in text and "Doubled" in text
    g = assert_grad_matches(mse, MLP([Renamed(W, b)]), x, y)
    assert type(g.layers[0]) is Renamed


def unannotated(model, x):
    return np.sum(model(x))


def unannotated_method(model, x):
    return np.sum(model.apply(x))


def test_a_method_of_an_unknown_class_is_refused_with_what_to_write():
    m = Linear(np.ones((2, 2)), np.ones(2))
    for fn, what in (
        (unannotated, "calling the parameter 'model'"),
        (unannotated_method, "`.apply()`"),
    ):
        with pytest.raises(s2s.NoRuleError) as info:
            s2s.grad(fn)(m, np.ones((1, 2)))
        text = str(info.value)
        assert what in text and "annotate the parameter" in text
        assert os.path.basename(__file__) in text


def through_a_variable(x):
    act = np.tanh if x.shape[0] > 1 else np.sin
    return np.sum(act(x))


def test_a_function_called_through_a_variable_is_refused():
    with pytest.raises(s2s.NoRuleError, match="calling the local value 'act'"):
        s2s.grad(through_a_variable)(np.ones(3))


# --- on the device double ---------------------------------------------------------------------


def test_on_the_strict_device_double():
    """The model of layers and the cell, on arrays that refuse implicit conversion to NumPy
    (as CuPy's do): the same gradients, and no transfer to the host."""
    from strict_array import StrictArray, transfers

    rng = np.random.default_rng(5)
    layers = [Linear(rng.standard_normal((3, 4)), rng.standard_normal(4))]
    layers.append(Linear(rng.standard_normal((4, 2)), rng.standard_normal(2)))
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    want = s2s.grad(mse)(MLP(layers), x, y)
    on = MLP([Linear(StrictArray(p.W), StrictArray(p.b)) for p in layers])
    with transfers() as made:
        got = s2s.grad(mse)(on, StrictArray(x), StrictArray(y))
    assert made == []
    for (_, a), (_, b) in zip(leaves(got), leaves(want), strict=True):
        assert isinstance(a, StrictArray)
        np.testing.assert_allclose(a._a, b, rtol=1e-12)
    cell = Cell(rng.standard_normal((5, 4)) / 2, rng.standard_normal(4))
    xs, h0 = rng.standard_normal((3, 2, 3)), rng.standard_normal((2, 2))
    want = s2s.grad(run_cell)(cell, xs, h0)
    with transfers() as made:
        got = s2s.grad(run_cell)(
            Cell(StrictArray(cell.W), StrictArray(cell.b)), StrictArray(xs), StrictArray(h0)
        )
    assert made == []
    np.testing.assert_allclose(got.W._a, want.W, rtol=1e-12)


def test_numerical_reference_sees_the_classes():
    """The test's own reference works on these structures (a guard against a vacuous test)."""
    rng = np.random.default_rng(0)
    model = MLP([Linear(rng.standard_normal((2, 2)), rng.standard_normal(2))])
    x, y = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    num = numerical_grad(mse, (model, x, y), 0)
    assert type(num) is MLP and np.abs(num.layers[0].W).sum() > 0


def test_check_grad_names_fields_as_attributes():
    """`s2s.check_grad` on a model of classes passes, and names a coordinate the way the
    model is read: `model.layers[0].W[0, 1]`."""
    rng = np.random.default_rng(1)
    model = MLP([Linear(rng.standard_normal((2, 3)), rng.standard_normal(3))])
    report = s2s.check_grad(mse, model, rng.standard_normal((4, 2)), rng.standard_normal((4, 3)))
    assert report.ok, str(report)
    assert "at model.layers[0]." in str(report)


def test_the_argument_check_looks_inside_objects():
    """Arrays of two libraries in one call, or an array of object dtype, inside a model of
    classes are refused before the gradient runs, naming where they are."""
    from strict_array import StrictArray

    rng = np.random.default_rng(2)
    W, b, x, y = (rng.standard_normal(s) for s in [(3, 2), (2,), (4, 3), (4, 2)])
    mixed = MLP([Linear(StrictArray(W), b)])
    with pytest.raises(s2s.ArgumentError, match=r"model\.layers\[0\]\.W"):
        s2s.grad(mse)(mixed, x, y)
    objects = MLP([Linear(W.astype(object), b)])
    with pytest.raises(s2s.ArgumentError, match=r"model\.layers\[0\]\.W is an array of dtype"):
        s2s.grad(mse)(objects, x, y)


class Node:
    def __init__(self, W, parent=None):
        self.W = W
        self.parent = parent
        self.children = []


def node_loss(x, node):
    return np.sum(np.tanh(x @ node.W))


def test_objects_referring_to_each_other_as_arguments():
    """A non-differentiated argument whose objects refer to each other in a cycle (a tree with
    parent links): the argument check walks each object once. Differentiated with respect to
    such an argument: refused (a gradient takes the argument's structure, which is no tree)."""
    rng = np.random.default_rng(4)
    root = Node(rng.standard_normal((3, 2)))
    child = Node(rng.standard_normal((3, 2)), parent=root)
    root.children.append(child)
    x = rng.standard_normal((2, 3))
    g = s2s.grad(node_loss)(x, child)
    want = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += 1e-6
        down[i] -= 1e-6
        want[i] = (node_loss(up, child) - node_loss(down, child)) / 2e-6
    np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-8)
    with pytest.raises(s2s.ArgumentError, match="refers back to itself"):
        s2s.grad(node_loss, wrt="node")(x, child)
    lone = Node(rng.standard_normal((3, 2)))
    assert type(assert_grad_matches(node_loss, x, lone, wrt="node")) is Node
