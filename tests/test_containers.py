"""Issue 2: tuples, lists (built, indexed, appended to in loops, then `np.stack`ed), dicts with
string keys; parameters that are nested dicts/lists/tuples of arrays, whose gradient has exactly
their structure (keys, lengths, container types, leaf kinds, shapes, dtypes); unused parameters
get zeros of their shape. NamedTuples and dataclasses read by field (`p.W`): their gradient is
an object of the same type."""

import copy
import dataclasses
from typing import NamedTuple

import numpy as np
import pytest
from fd import assert_grad_matches, leaves, random_direction, tree_dot
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, matrices, reals, sides

import s2s


def same_shape(n, lo=-2.0, hi=2.0):
    return sides(1, 5).flatmap(lambda size: st.tuples(*(arrays(size, lo, hi) for _ in range(n))))


# --- local containers -----------------------------------------------------------------------------


def tuple_ops(x, y):
    t = (x, y * 2.0, x * y)
    a, b, c = t
    u = t + (np.sin(x),)
    return np.sum(t[0] * t[2]) + np.sum(b**2) + np.sum(u[-1] * a) + np.sum(c) * len(u)


def list_append_then_stack(x):
    hs = []
    h = np.zeros(x.shape[1])
    for i in range(x.shape[0]):
        h = np.tanh(h + x[i])
        hs.append(h)
    stacked = np.stack(hs)
    return np.sum(stacked * stacked) + np.sum(hs[-1]) * np.sum(hs[0]) + np.sum(np.stack(hs, 1))


def list_indexed_and_written(x, y):
    ys = [x, y * 2.0, x * y]
    ys[0] = ys[0] * ys[1]
    ys[2] = np.sin(ys[2])
    total = 0.0
    for i in range(len(ys)):
        total = total + np.sum(ys[i] * ys[i - 1])
    return total


def list_of_floats(x):
    vals = []
    for i in range(len(x)):
        vals.append(x[i] * (i + 1.0))
    vals.append(np.sum(x))
    arr = np.array(vals)
    return np.sum(arr * arr) + vals[0] * vals[-1]


def dict_local(x, y):
    d = {"a": x * y, "b": np.sin(x)}
    d["c"] = d["a"] + d["b"] * y
    d["a"] = d["a"] * 2.0
    return np.sum(d["a"] * d["c"]) + np.sum(d["b"])


def dict_items_iteration(params):
    total = 0.0
    for name, value in params.items():
        total = total + np.sum(value * value * value) * len(name)
    for value in params.values():
        total = total * 0.5 + np.sum(np.sin(value))
    return total


def dict_keys_loops(params, x):
    h = x
    for k in params:
        h = np.sin(h * params[k]) + params[k]
    total = 0.0
    for k in params.keys():
        total = total + np.sum(params[k] * h) * len(k)
    return total


def enumerated_dict_views(params, x):
    h = x
    for i, v in enumerate(params.values()):
        h = np.sin(h * v) * (i + 1.0)
    total = np.sum(h)
    for j, (k, v) in enumerate(params.items(), 1):
        total = total + np.sum(v * v) * j * len(k)
    return total


def nested_dict_items(params, x):
    h = x
    reg = 0.0
    for name, layer in params.items():
        h = np.tanh(h @ layer["w"] + layer["b"])
        for pname, p in layer.items():
            reg = reg + np.sum(p * p) * (len(name) + len(pname))
    return np.sum(h * h) + 0.01 * reg


def dict_built_then_iterated(x, y):
    d = {"a": x * y, "b": np.sin(x)}
    d["c"] = d["a"] * d["b"] + y
    squares = {k: v * v for k, v in d.items()}
    scaled = {}
    for k in d:
        scaled[k] = d[k] * np.sum(squares[k])
    total = 0.0
    for v in scaled.values():
        total = total + np.sum(np.cos(v))
    return total + sum(np.sum(v) for v in squares.values())


# --- structured parameters ------------------------------------------------------------------------


def mlp_dict(params, x):
    h = np.tanh(x @ params["w1"] + params["b1"])
    return np.sum((h @ params["w2"] + params["b2"]) ** 2)


def nested_params(params, x):
    h = x
    for layer in params["layers"]:
        h = np.tanh(h @ layer["w"] + layer["b"])
    a, b = params["pair"]
    out = np.sum(h * a) * params["scale"] + np.sum(b * b)
    return out + params["extras"][0] * params["extras"][1]


def tuple_parameter(p, x):
    w, b = p
    return np.sum(np.sin(x * w + b))


def list_of_tuples(pairs):
    total = 0.0
    for w, b in pairs:
        total = total + np.sum(w * b) * np.sum(w)
    return total


def unused_parameter(x, y):
    return np.sum(x * x)


def partly_used(params, x):
    return np.sum(params["used"] * x) + params["scalar_used"] * np.sum(x)


# --- strategies -----------------------------------------------------------------------------------


@st.composite
def mlp_params(draw):
    d, h, o = draw(sides(1, 3)), draw(sides(1, 3)), draw(sides(1, 2))
    params = {
        "w1": draw(arrays((d, h), -1.0, 1.0)),
        "b1": draw(arrays(h, -1.0, 1.0)),
        "w2": draw(arrays((h, o), -1.0, 1.0)),
        "b2": draw(arrays(o, -1.0, 1.0)),
    }
    x = draw(arrays((draw(sides(1, 3)), d), -1.0, 1.0))
    return params, x


@st.composite
def nested(draw):
    widths = draw(st.lists(sides(1, 3), min_size=2, max_size=3))
    layers = [
        {"w": draw(arrays((a, b), -1.0, 1.0)), "b": draw(arrays(b, -1.0, 1.0))}
        for a, b in zip(widths[:-1], widths[1:], strict=True)
    ]
    params = {
        "layers": layers,
        "pair": (draw(arrays(widths[-1])), draw(arrays((2, 2)))),
        "scale": draw(reals()),
        "extras": [draw(reals()), draw(arrays(()))],
    }
    return params, draw(arrays(widths[0], -1.0, 1.0))


# --- tests ----------------------------------------------------------------------------------------


@given(same_shape(2))
def test_tuples(xy):
    assert_grad_matches(tuple_ops, *xy, wrt=(0, 1))


@given(matrices())
def test_list_appended_in_loop_then_stacked(x):
    assert_grad_matches(list_append_then_stack, x)


@given(same_shape(2, -1.0, 1.0))
def test_list_indexed_and_written(xy):
    assert_grad_matches(list_indexed_and_written, *xy, wrt=(0, 1))


@given(arrays(sides(1, 5)))
def test_list_of_floats_to_array(x):
    assert_grad_matches(list_of_floats, x)


@given(same_shape(2))
def test_dict_with_string_keys(xy):
    assert_grad_matches(dict_local, *xy, wrt=(0, 1))


def new_key_in_a_copied_dict(p, x):
    q = p.copy()
    q["w"] = q["w"] * x
    q["v"] = np.sin(q["w"])  # a key p does not have
    return np.sum(q["w"] * p["w"] + q["v"] * x)


def new_key_in_the_parameter(p, x):
    p["v"] = np.tanh(p["w"] * x)  # written into the argument (s2s works on a copy)
    p["w"] = p["w"] * p["v"]
    return np.sum(p["w"] + p["v"])


@given(same_shape(1), reals(-1.5, 1.5))
def test_copied_dict_written_at_a_new_key(xs, x):
    """Was a KeyError in the forward sweep: a dict s2s did not see built (a parameter,
    `p.copy()`) had its overwritten entry saved as `copy_value(q['v'])`, which fails for a new
    key; a string key marks a dict, saved with save_item (the absence restored too)."""
    (w,) = xs
    assert_grad_matches(new_key_in_a_copied_dict, {"w": w}, x, wrt=(0, 1))


@given(same_shape(1), reals(-1.5, 1.5))
def test_dict_parameter_written_at_a_new_key(xs, x):
    """As above, for the parameter itself (the gradient works on a copy of it)."""
    (w,) = xs
    assert_grad_matches(new_key_in_the_parameter, {"w": w}, x, wrt=(0, 1))


@given(st.dictionaries(st.sampled_from(["a", "b", "w", "zeta"]), arrays(sides(1, 3)), min_size=1))
def test_dict_items_and_values_iteration(params):
    g = assert_grad_matches(dict_items_iteration, params)
    assert list(g) == list(params)


@given(
    sides(1, 3).flatmap(
        lambda n: st.tuples(
            st.dictionaries(
                st.sampled_from(["a", "bb", "w", "zeta"]), arrays(n, -1.0, 1.0), min_size=1
            ),
            arrays(n, -1.0, 1.0),
        )
    )
)
def test_dict_keys_loops(px):
    g = assert_grad_matches(dict_keys_loops, *px, wrt=(0, 1))
    assert list(g[0]) == list(px[0])


@given(
    sides(1, 3).flatmap(
        lambda n: st.tuples(
            st.dictionaries(st.sampled_from(["a", "bb", "w"]), arrays(n, -1.0, 1.0), min_size=1),
            arrays(n, -1.0, 1.0),
        )
    )
)
def test_enumerate_over_dict_views(px):
    assert_grad_matches(enumerated_dict_views, *px, wrt=(0, 1))


@st.composite
def layer_dicts(draw):
    widths = draw(st.lists(sides(1, 3), min_size=2, max_size=4))
    params = {
        f"layer{i}": {"w": draw(arrays((a, b), -1.0, 1.0)), "b": draw(arrays(b, -1.0, 1.0))}
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True))
    }
    return params, draw(arrays(widths[0], -1.0, 1.0))


@given(layer_dicts())
def test_nested_dict_items(px):
    g = assert_grad_matches(nested_dict_items, *px)
    assert [p for p, _ in leaves(g)] == [p for p, _ in leaves(px[0])]


@given(same_shape(2, -1.0, 1.0))
def test_dict_built_in_the_function_then_iterated(xy):
    assert_grad_matches(dict_built_then_iterated, *xy, wrt=(0, 1))


def items_unpacked_badly(params):
    total = 0.0
    for item in params.items():
        total = total + np.sum(item)
    return total


def test_items_loop_must_unpack_key_and_value():
    with pytest.raises(s2s.S2SError, match=r"\.items\(\)") as exc:
        s2s.grad(items_unpacked_badly)({"a": np.ones(2)})
    assert "test_containers.py" in str(exc.value)


@given(mlp_params())
def test_dict_parameter_gradient_is_a_dict(px):
    g = assert_grad_matches(mlp_dict, *px)
    assert list(g) == list(px[0])


@given(nested())
def test_nested_parameter_gradient_has_the_same_structure(px):
    params, x = px
    g = assert_grad_matches(nested_params, params, x, wrt="params")
    # assert_grad_matches checked the structure leaf by leaf; spell the promise out once more.
    assert [p for p, _ in leaves(g)] == [p for p, _ in leaves(params)]
    assert isinstance(g["pair"], tuple) and isinstance(g["layers"], list)
    assert type(g["scale"]) is not np.ndarray and isinstance(g["scale"], float)
    assert isinstance(g["extras"][1], np.ndarray) and g["extras"][1].shape == ()


@given(sides(1, 4).flatmap(lambda n: st.tuples(st.tuples(arrays(n), arrays(n)), arrays(n))))
def test_tuple_parameter(px):
    assert_grad_matches(tuple_parameter, *px)


@given(st.lists(sides(1, 3).flatmap(lambda n: st.tuples(arrays(n), arrays(n))), max_size=3))
def test_list_of_tuples_parameter(pairs):
    assert_grad_matches(list_of_tuples, pairs)


@given(arrays(sides(1, 4)), arrays(st.sampled_from([(), (2,), (2, 3)])))
def test_unused_parameter_gets_zeros_of_its_shape(x, y):
    g = assert_grad_matches(unused_parameter, x, y, wrt=1)
    assert np.all(g == 0.0)


@given(arrays(sides(1, 4)), arrays((2, 3)), reals())
def test_unused_leaves_get_zeros_in_the_structure(x, unused, scalar_unused):
    params = {
        "used": x * 2.0,
        "unused": unused,
        "scalar_used": 1.5,
        "scalar_unused": scalar_unused,
        "nested": [unused * 2.0, (scalar_unused,)],
    }
    g = assert_grad_matches(partly_used, params, x)
    assert np.all(g["unused"] == 0.0) and g["unused"].shape == (2, 3)
    assert g["scalar_unused"] == 0.0 and isinstance(g["scalar_unused"], float)
    assert np.all(g["nested"][0] == 0.0) and g["nested"][1] == (0.0,)


@given(layer_dicts())
def test_hvp_through_dict_loops(px):
    """Forward over reverse through `.items()` loops: against central differences of the
    gradient, with the vector and the result nested dicts like the parameters."""
    params, x = px
    rng = np.random.default_rng(0)
    v = {k: {n: rng.normal(size=a.shape) for n, a in layer.items()} for k, layer in params.items()}
    got = s2s.hvp(nested_dict_items)(params, x, v)
    grad = s2s.grad(nested_dict_items)
    eps = 1e-6

    def shifted(s):
        return {k: {n: a + s * v[k][n] for n, a in layer.items()} for k, layer in params.items()}

    plus, minus = grad(shifted(eps), x), grad(shifted(-eps), x)
    for k, layer in params.items():
        for n in layer:
            want = (plus[k][n] - minus[k][n]) / (2 * eps)
            np.testing.assert_allclose(got[k][n], want, rtol=1e-5, atol=1e-6)


# --- NamedTuples and dataclasses, read by field -----------------------------------------------


class Affine(NamedTuple):
    W: np.ndarray
    b: np.ndarray


@dataclasses.dataclass(frozen=True)
class Scaled:
    W: np.ndarray
    b: np.ndarray
    scale: float = 1.5
    name: str = "layer"


def affine(p, x):
    return np.tanh(x @ p.W + p.b)


def affine_loss(p, x):
    return np.sum(affine(p, x) ** 2)


def scaled_loss(p, x):
    h = np.tanh(x @ p.W + p.b) * p.scale
    return np.sum(h * h) + np.sum(p.W**2) * p.scale


def layers_loss(layers, x):
    h = x
    for p in layers:
        h = affine(p, h)
    return np.sum(h * h)


def fields_and_positions(p, x):
    W, b = p
    return np.sum(np.tanh(x @ W + p.b)) + np.sum(p[0] * p.W)


def stopped_field(p, x):
    return np.sum(np.tanh(x @ p.W + s2s.stop_gradient(p.b)) ** 2)


@st.composite
def affine_args(draw):
    n, m, batch = draw(sides()), draw(sides()), draw(sides())
    W = draw(matrices(n, m))
    b = draw(arrays((m,)))
    x = draw(matrices(batch, n))
    return W, b, x


@given(affine_args())
def test_namedtuple_parameters(args):
    """`p.W` of a NamedTuple is differentiated: the gradient is an `Affine` (central
    differences), forward mode agrees (the dot-product test), and so does hvp with the
    differences of the gradient."""
    W, b, x = args
    p = Affine(W, b)
    g = assert_grad_matches(affine_loss, p, x)
    assert type(g) is Affine
    rng = np.random.default_rng(int(abs(W).sum() * 1000) % 2**32)
    u = random_direction(p, rng)
    _, t = s2s.jvp(affine_loss)(p, x, u)
    np.testing.assert_allclose(t, tree_dot(g, u), rtol=1e-9, atol=1e-12)
    h = s2s.hvp(affine_loss)(p, x, u)
    eps = 1e-6
    plus = s2s.grad(affine_loss)(Affine(W + eps * u.W, b + eps * u.b), x)
    minus = s2s.grad(affine_loss)(Affine(W - eps * u.W, b - eps * u.b), x)
    assert type(h) is Affine
    for k in range(2):
        np.testing.assert_allclose(h[k], (plus[k] - minus[k]) / (2 * eps), rtol=1e-4, atol=1e-6)


@given(affine_args(), reals())
def test_dataclass_parameters(args, scale):
    """A frozen dataclass with a float and a str field: the gradient is a `Scaled` (a copy,
    each field its gradient; the str is left as it is), checked by central differences and
    forward mode."""
    W, b, x = args
    p = Scaled(W, b, float(scale))
    g = s2s.grad(scaled_loss)(p, x)
    assert type(g) is Scaled and g.name == "layer"
    eps = 1e-6
    for field in ("W", "b"):
        want = np.zeros_like(getattr(p, field))
        for i in np.ndindex(want.shape):
            up, down = getattr(p, field).copy(), getattr(p, field).copy()
            up[i] += eps
            down[i] -= eps
            want[i] = (
                scaled_loss(dataclasses.replace(p, **{field: up}), x)
                - scaled_loss(dataclasses.replace(p, **{field: down}), x)
            ) / (2 * eps)
        np.testing.assert_allclose(getattr(g, field), want, rtol=1e-5, atol=1e-7)
    want = (
        scaled_loss(dataclasses.replace(p, scale=p.scale + eps), x)
        - scaled_loss(dataclasses.replace(p, scale=p.scale - eps), x)
    ) / (2 * eps)
    assert isinstance(g.scale, float)
    np.testing.assert_allclose(g.scale, want, rtol=1e-5, atol=1e-7)
    u = random_direction(p, np.random.default_rng(int(abs(W).sum() * 1000) % 2**32))
    _, t = s2s.jvp(scaled_loss)(p, x, u)
    np.testing.assert_allclose(t, tree_dot(g, u), rtol=1e-9, atol=1e-12)


@given(affine_args())
def test_namedtuples_in_a_list_through_a_user_function(args):
    """A list of NamedTuples, each read by field in a function called per layer; fields and
    positions of one NamedTuple mixed; a field under stop_gradient carries none."""
    W, b, x = args
    n = W.shape[0]
    layers = [Affine(W, b), Affine(np.eye(W.shape[1]) * 0.5, b * 0.3)]
    if n == W.shape[1]:
        g = assert_grad_matches(layers_loss, layers, x)
        assert [type(p) for p in g] == [Affine, Affine]
    g = assert_grad_matches(fields_and_positions, Affine(W, b), x)
    assert type(g) is Affine
    g = s2s.grad(stopped_field)(Affine(W, b), x)
    np.testing.assert_array_equal(g.b, np.zeros_like(b))
    p = Affine(W, b)
    stopped = copy.deepcopy(p)
    eps = 1e-6
    want = np.zeros_like(W)
    for i in np.ndindex(W.shape):
        up, down = W.copy(), W.copy()
        up[i] += eps
        down[i] -= eps
        want[i] = (stopped_field(Affine(up, b), x) - stopped_field(Affine(down, b), x)) / (2 * eps)
    np.testing.assert_allclose(g.W, want, rtol=1e-5, atol=1e-7)
    assert stopped == stopped  # the arguments are not written into


def loop_over_namedtuples(layers, x):
    h = x
    for p in layers:
        h = np.tanh(h @ p.W + p.b)
    return np.sum(h * h)


def test_a_loop_over_namedtuples_plain_checkpointed_and_forward():
    """`for p in layers: ... p.W ...`: the loop variable is pushed per step; the gradient
    matches central differences, the checkpointed one equals it, and forward mode agrees."""
    rng = np.random.default_rng(3)
    layers = [Affine(rng.standard_normal((3, 3)) / 2, rng.standard_normal(3)) for _ in range(5)]
    x = rng.standard_normal((2, 3))
    g = assert_grad_matches(loop_over_namedtuples, layers, x)
    cut = s2s.grad(loop_over_namedtuples, checkpoint_loops="sqrt")(layers, x)
    for a, b in zip(g, cut, strict=True):
        assert type(b) is Affine
        np.testing.assert_allclose(b.W, a.W, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(b.b, a.b, rtol=1e-12, atol=1e-14)
    u = [random_direction(p, rng) for p in layers]
    _, t = s2s.jvp(loop_over_namedtuples)(layers, x, u)
    np.testing.assert_allclose(t, tree_dot(g, u), rtol=1e-9, atol=1e-12)
