"""Issue 2: the public API of DESIGN.md. `wrt` as position, name or tuple; `value_and_grad`;
`vjp`; `@s2s.differentiate` with and without `wrt`; `s2s.source`; dtype preservation; caching."""

import copy

import numpy as np
import pytest
from fd import assert_grad_matches, assert_tree_close, assert_vjp_matches, numerical_grad
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, reals, sides

import s2s


def same_shape(n, lo=-2.0, hi=2.0):
    return sides(1, 5).flatmap(lambda size: st.tuples(*(arrays(size, lo, hi) for _ in range(n))))


def three_args(x, y, z):
    hidden = np.tanh(x * y) + z
    total = np.sum(hidden * hidden * x)
    return total


def with_default(x, scale=2.0):
    return np.sum(np.sin(x * scale)) * scale


def with_mode(x, mode):
    if mode == "square":
        return np.sum(x * x)
    return np.sum(np.sin(x))


def scalar_function(x, y):
    return np.sin(x) * y


def vector_valued(x, y):
    return np.sin(x) * x[::-1] + y * x


def matrix_valued(w, x):
    return np.tanh(x @ w)


def loop_and_branch(x, n):
    acc = 0.0
    for i in range(n):
        if np.sum(x) > 0:
            acc = acc + np.sin(x * i)
        else:
            acc = acc * x
    return np.sum(acc * acc)


@s2s.differentiate
def decorated(x, y):
    return np.sum(np.sin(x) * y)


@s2s.differentiate(wrt="params")
def decorated_params(x, params):
    out = np.tanh(x @ params["w"] + params["b"])
    return np.sum(out * out)


def plain_decorated(x, y):
    return np.sum(np.sin(x) * y)


def plain_decorated_params(x, params):
    out = np.tanh(x @ params["w"] + params["b"])
    return np.sum(out * out)


def as_text(source_attr):
    return source_attr() if callable(source_attr) else source_attr


# --- wrt ------------------------------------------------------------------------------------------


@given(same_shape(3))
def test_wrt_default_is_first_argument(xyz):
    g = s2s.grad(three_args)(*copy.deepcopy(xyz))
    assert_tree_close(g, numerical_grad(three_args, xyz, 0), xyz[0])


@given(same_shape(3))
def test_wrt_position(xyz):
    assert_grad_matches(three_args, *xyz, wrt=1)
    assert_grad_matches(three_args, *xyz, wrt=2)


@given(same_shape(3))
def test_wrt_name(xyz):
    assert_grad_matches(three_args, *xyz, wrt="y")
    assert_grad_matches(three_args, *xyz, wrt="x")


@given(same_shape(3))
def test_wrt_tuple_mixing_positions_and_names_keeps_order(xyz):
    assert_grad_matches(three_args, *xyz, wrt=(2, "x"))
    assert_grad_matches(three_args, *xyz, wrt=("y", 0, "z"))
    single = s2s.grad(three_args, wrt=("y",))(*copy.deepcopy(xyz))
    assert isinstance(single, tuple) and len(single) == 1


@given(arrays(sides(1, 4)), reals())
def test_defaulted_argument_can_be_omitted_or_differentiated(x, scale):
    g = s2s.grad(with_default)(x.copy())
    assert_tree_close(g, numerical_grad(with_default, (x, 2.0), 0), x)
    assert_grad_matches(with_default, x, scale, wrt="scale")


@given(arrays(sides(1, 4)), st.sampled_from(["square", "sine"]))
def test_non_array_arguments_pass_through(x, mode):
    assert_grad_matches(with_mode, x, mode)


def test_generated_gradient_is_reusable_across_shapes():
    df = s2s.grad(loop_and_branch)
    rng = np.random.default_rng(0)
    for shape, n in [((3,), 2), ((5,), 4), ((2, 3), 3), ((3,), 0)]:
        x = rng.uniform(-1.0, 1.0, size=shape)
        g = df(x.copy(), n)
        assert_tree_close(g, numerical_grad(loop_and_branch, (x, n), 0), x)


# --- value_and_grad / vjp -------------------------------------------------------------------------


@given(same_shape(3))
def test_value_and_grad(xyz):
    value, g = s2s.value_and_grad(three_args, wrt=(0, "z"))(*copy.deepcopy(xyz))
    np.testing.assert_allclose(value, three_args(*xyz), rtol=1e-12)
    want = numerical_grad(three_args, xyz, (0, 2))
    assert isinstance(g, tuple) and len(g) == 2
    assert_tree_close(g[0], want[0], xyz[0])
    assert_tree_close(g[1], want[1], xyz[2])


@given(reals(), reals())
def test_value_and_grad_on_floats(x, y):
    value, g = s2s.value_and_grad(scalar_function, wrt=(0, 1))(x, y)
    np.testing.assert_allclose(value, scalar_function(x, y), rtol=1e-12)
    assert isinstance(g, tuple) and all(isinstance(gi, float) for gi in g)
    np.testing.assert_allclose(g, [np.cos(x) * y, np.sin(x)], rtol=1e-10, atol=1e-12)


@given(same_shape(2), st.data())
def test_vjp_vector_valued(xy, data):
    v = data.draw(arrays(xy[0].shape))
    assert_vjp_matches(vector_valued, *xy, cotangent=v, wrt=(0, 1))
    assert_vjp_matches(vector_valued, *xy, cotangent=v, wrt="y")


@given(
    st.tuples(sides(), sides(), sides()).flatmap(
        lambda nkm: st.tuples(
            arrays(nkm[1:], -1.0, 1.0), arrays(nkm[:2], -1.0, 1.0), arrays((nkm[0], nkm[2]))
        )
    )
)
def test_vjp_matrix_valued(wxv):
    w, x, v = wxv
    assert_vjp_matches(matrix_valued, w, x, cotangent=v, wrt=(0, 1))


@given(same_shape(3))
def test_vjp_of_scalar_function_is_the_gradient(xyz):
    value, pullback = s2s.vjp(three_args)(*copy.deepcopy(xyz))
    np.testing.assert_allclose(value, three_args(*xyz), rtol=1e-12)
    g = pullback(1.0)
    assert_tree_close(g, numerical_grad(three_args, xyz, 0), xyz[0])


# --- @s2s.differentiate ---------------------------------------------------------------------------


@given(same_shape(2))
def test_differentiate_plain_call_is_unchanged(xy):
    assert decorated(*xy) == plain_decorated(*xy)
    assert decorated.__name__ == "decorated"


@given(same_shape(2))
def test_differentiate_grad_value_and_grad_vjp(xy):
    want = numerical_grad(plain_decorated, xy, 0)
    assert_tree_close(decorated.grad(*copy.deepcopy(xy)), want, xy[0])
    value, g = decorated.value_and_grad(*copy.deepcopy(xy))
    np.testing.assert_allclose(value, plain_decorated(*xy), rtol=1e-12)
    assert_tree_close(g, want, xy[0])
    value, pullback = decorated.vjp(*copy.deepcopy(xy))
    np.testing.assert_allclose(value, plain_decorated(*xy), rtol=1e-12)
    assert_tree_close(pullback(1.0), want, xy[0])


@st.composite
def dense(draw):
    n, d, h = draw(sides(1, 3)), draw(sides(1, 3)), draw(sides(1, 3))
    params = {"w": draw(arrays((d, h), -1.0, 1.0)), "b": draw(arrays(h, -1.0, 1.0))}
    return draw(arrays((n, d), -1.0, 1.0)), params


@given(dense())
def test_differentiate_with_wrt_name(xp):
    x, params = xp
    assert decorated_params(x, params) == plain_decorated_params(x, params)
    want = numerical_grad(plain_decorated_params, xp, 1)
    g = decorated_params.grad(x.copy(), copy.deepcopy(params))
    assert_tree_close(g, want, params)
    value, g = decorated_params.value_and_grad(x.copy(), copy.deepcopy(params))
    np.testing.assert_allclose(value, plain_decorated_params(x, params), rtol=1e-12)
    assert_tree_close(g, want, params)
    value, pullback = decorated_params.vjp(x.copy(), copy.deepcopy(params))
    assert_tree_close(pullback(1.0), want, params)


def test_differentiate_source():
    for fn in (decorated, decorated_params):
        text = as_text(fn.source)
        assert isinstance(text, str) and "def " in text
        compile(text, "generated", "exec")
    assert "out" in as_text(decorated_params.source)


# --- s2s.source -----------------------------------------------------------------------------------


def test_source_is_readable_python_named_after_the_users_variables():
    text = s2s.source(three_args)
    assert isinstance(text, str)
    compile(text, "generated", "exec")
    assert "def " in text
    for name in ("hidden", "total"):
        assert name in text, f"{name!r} missing from the generated source:\n{text}"


def test_source_names_adjoints_after_variables():
    text = s2s.source(three_args, mode="reverse", wrt=0)
    assert "d_hidden" in text and "d_x" in text, text
    text_y = s2s.source(three_args, wrt="y")
    assert "d_y" in text_y, text_y


def test_source_of_loops_and_branches_compiles():
    for wrt in (0, "x"):
        text = s2s.source(loop_and_branch, wrt=wrt)
        compile(text, "generated", "exec")
        assert ("for " in text or "while " in text) and "acc" in text


def test_source_is_cached_and_stable():
    first = s2s.source(loop_and_branch)
    assert s2s.source(loop_and_branch) == first
    df1, df2 = s2s.grad(loop_and_branch), s2s.grad(loop_and_branch)
    assert s2s.source(loop_and_branch) == first
    x = np.array([0.3, -1.2, 0.7])
    np.testing.assert_array_equal(df1(x.copy(), 3), df2(x.copy(), 3))


# --- dtypes ---------------------------------------------------------------------------------------


@given(same_shape(3))
def test_float32_in_float32_out(xyz):
    xyz32 = tuple(a.astype(np.float32) for a in xyz)
    g = assert_grad_matches(three_args, *xyz32, wrt=(0, 1), rtol=2e-3, atol=2e-4)
    assert all(gi.dtype == np.float32 for gi in g)


@given(
    st.tuples(sides(), sides(), sides()).flatmap(
        lambda nkm: st.tuples(
            arrays(nkm[1:], -1.0, 1.0, dtype=np.float32),
            arrays(nkm[:2], -1.0, 1.0, dtype=np.float32),
            arrays((nkm[0], nkm[2]), dtype=np.float32),
        )
    )
)
def test_float32_vjp(wxv):
    w, x, v = wxv
    g = assert_vjp_matches(matrix_valued, w, x, cotangent=v, wrt=(0, 1), rtol=2e-3, atol=2e-4)
    assert g[0].dtype == np.float32 and g[1].dtype == np.float32


def test_a_derivative_of_a_derivative_differentiates_its_code_not_the_primal():
    def cube(x):
        return x**3

    df = s2s.grad(cube)
    assert not hasattr(df, "__wrapped__")
    # the second derivative 6x, not the first (3x^2) that differentiating `cube` would give
    assert s2s.grad(df)(2.0) == pytest.approx(12.0)
    assert s2s.value_and_grad(df)(2.0) == pytest.approx((12.0, 12.0))
    assert s2s.jvp(df)(2.0, 1.0) == pytest.approx((12.0, 12.0))
    value, pullback = s2s.vjp(df)(2.0)
    assert (value, pullback(1.0)) == pytest.approx((12.0, 12.0))
    # a vjp or jvp wrapper rearranges its arguments and results: refused, with a hint
    for inner in (s2s.vjp, s2s.jvp):
        for make in (s2s.grad, s2s.jvp, s2s.vjp, s2s.value_and_grad):
            with pytest.raises(s2s.S2SError, match="derivative made by s2s") as info:
                make(inner(cube))
            assert "s2s.grad(s2s.grad(f))" in str(info.value)
