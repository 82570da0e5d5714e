"""Issue 2: array attributes and methods (`.T`, `.shape`, `.ndim`, `.size`, `.dot`,
`.sum/.mean/.max` with axis, `.reshape`, `.copy`, `.astype(float)`), and the elementwise,
reduction, broadcasting and product ops that a 2-layer MLP, an RNN and logistic regression need."""

import numpy as np
from fd import assert_grad_matches
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import apart, arrays, matrices, reals, separated, sides

# --- attributes and methods -----------------------------------------------------------------------


def attributes(x):
    m, n = x.shape
    t = x.T
    gram = t @ x
    scale = x.size + x.ndim
    return np.sum(gram * gram) / scale + np.sum(t[0]) * m / n


def dot_method(x, w):
    v = x.dot(w)
    g = x.T.dot(x)
    return v.dot(v) + np.sum(g * g.T) * 0.1 + np.dot(w, w) * np.sum(np.dot(x, w))


def sum_mean_axis(x):
    a = x.sum(axis=0)
    b = x.sum(1)
    c = x.mean(axis=1)
    d = x.mean(0)
    return a @ a + np.sum(b * c) + np.sum(np.sin(d)) + x.sum() * x.mean()


def max_axis(x):
    a = x.max(axis=0)
    b = x.max(axis=1)
    return np.sum(a * a) + np.sum(np.sin(b)) + x.max() * 2.0


def reshape_methods(x):
    flat = x.reshape(-1)
    n, m = x.shape
    back = flat.reshape(m, n)
    again = flat.reshape((m, n))
    return np.sum(back * again.T.T * np.cos(back)) + np.sum(flat[: len(flat) // 2] ** 2)


def copy_and_astype(x):
    y = x.copy()
    z = x.astype(float)
    y = y * z
    return np.sum(np.sin(y) + z * z * z)


def zero_dim(x):
    return x * x + np.sin(x) * 2.0


# --- ops ------------------------------------------------------------------------------------------


def elementwise(x):
    return np.sum(np.tanh(x) * np.exp(0.5 * x) + np.log(x * x + 1.0) - np.sqrt(x * x + 0.5))


def unary_ops(x):
    return np.sum(np.sin(x) * np.cos(x) + np.exp(-x * x) + np.log(np.abs(x)))


def maximum_of_arrays(x, y):
    return np.sum(np.maximum(x, y) * x) + np.sum(np.maximum(x, 0.0) ** 2)


def reductions(x):
    return np.sum(x, axis=0) @ np.mean(x, axis=0) + np.sum(np.max(x, axis=1)) + np.mean(x * x)


def broadcasting(m, v, c, s):
    a = m + v
    b = m * c
    d = (a - s) * b / (1.0 + v * v)
    return np.sum(d * d) + np.sum(s * v)


def np_dot_forms(a, b, v):
    ab = np.dot(a, b)
    return np.sum(ab) + np.dot(v, v) + np.sum(np.dot(a, b) @ v) * np.dot(ab[0], v)


def softmax_xent(z, y):
    shifted = z - np.max(z, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(np.sum(y * logp, axis=1))


def mlp_relu(w1, b1, w2, b2, x, y):
    hidden = np.maximum(x @ w1 + b1, 0.0)
    out = hidden @ w2 + b2
    return np.mean((out - y) ** 2)


def mlp_tanh(params, x, y):
    w1, b1, w2, b2 = params
    hidden = np.tanh(np.dot(x, w1) + b1)
    out = np.dot(hidden, w2) + b2
    return 0.5 * np.sum((out - y) ** 2) / x.shape[0]


def rnn(w, u, b, xs):
    h = np.zeros(w.shape[0])
    loss = 0.0
    for x in xs:
        h = np.tanh(w @ h + u @ x + b)
        loss = loss + np.sum(h * h)
    return loss


def logistic_regression(w, b, x, y):
    z = x @ w + b
    p = 1.0 / (1.0 + np.exp(-z))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


# --- tests: attributes and methods ----------------------------------------------------------------


@given(matrices(lo=-1.0, hi=1.0))
def test_T_shape_ndim_size(x):
    assert_grad_matches(attributes, x)


@given(
    st.tuples(sides(), sides()).flatmap(lambda mk: st.tuples(arrays(mk, -1.0, 1.0), arrays(mk[1])))
)
def test_dot_method(xw):
    assert_grad_matches(dot_method, *xw, wrt=(0, 1))


@given(matrices())
def test_sum_and_mean_with_axis(x):
    assert_grad_matches(sum_mean_axis, x)


@given(matrices(unique=True))
def test_max_with_axis(x):
    assume(separated(x))
    assert_grad_matches(max_axis, x)


@given(matrices())
def test_reshape(x):
    assert_grad_matches(reshape_methods, x)


@given(matrices())
def test_copy_and_astype_float(x):
    assert_grad_matches(copy_and_astype, x)


@given(arrays(()))
def test_zero_dim_array(x):
    assert_grad_matches(zero_dim, x)


# --- tests: ops -----------------------------------------------------------------------------------


@given(matrices())
def test_exp_log_tanh_sqrt(x):
    assert_grad_matches(elementwise, x)


@given(matrices())
def test_sin_cos_abs_log(x):
    assert_grad_matches(unary_ops, x)


@given(sides(1, 5).flatmap(lambda n: st.tuples(arrays(n), arrays(n))))
def test_maximum(xy):
    x, y = xy
    assume(apart(x - y))
    assert_grad_matches(maximum_of_arrays, x, y, wrt=(0, 1))


@given(matrices(unique=True))
def test_reductions(x):
    assume(separated(x))
    assert_grad_matches(reductions, x)


@given(
    st.tuples(sides(), sides()).flatmap(
        lambda mn: st.tuples(arrays(mn), arrays(mn[1]), arrays((mn[0], 1)), reals())
    )
)
def test_broadcasting_bias_vectors(args):
    assert_grad_matches(broadcasting, *args, wrt=(0, 1, 2, 3))


@given(
    st.tuples(sides(), sides(), sides()).flatmap(
        lambda mkn: st.tuples(
            arrays(mkn[:2], -1.0, 1.0), arrays(mkn[1:], -1.0, 1.0), arrays(mkn[2], -1.0, 1.0)
        )
    )
)
def test_np_dot(abv):
    assert_grad_matches(np_dot_forms, *abv, wrt=(0, 1, 2))


@st.composite
def classification(draw):
    n, k = draw(sides(1, 4)), draw(sides(2, 4))
    z = draw(arrays((n, k)))
    labels = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    return z, np.eye(k)[labels]


@given(classification())
def test_softmax_cross_entropy(zy):
    assert_grad_matches(softmax_xent, *zy)


@st.composite
def regression_data(draw):
    n, d, h, o = draw(sides(1, 4)), draw(sides(1, 3)), draw(sides(1, 4)), draw(sides(1, 2))
    w1 = draw(arrays((d, h), -1.0, 1.0))
    b1 = draw(arrays(h, -1.0, 1.0))
    w2 = draw(arrays((h, o), -1.0, 1.0))
    b2 = draw(arrays(o, -1.0, 1.0))
    x = draw(arrays((n, d), -1.0, 1.0))
    y = draw(arrays((n, o), -1.0, 1.0))
    return w1, b1, w2, b2, x, y


@given(regression_data())
def test_two_layer_relu_mlp(data):
    w1, b1, _, _, x, _ = data
    assume(apart(x @ w1 + b1))
    assert_grad_matches(mlp_relu, *data, wrt=(0, 1, 2, 3))


@given(regression_data())
def test_two_layer_tanh_mlp_with_tuple_parameters(data):
    assert_grad_matches(mlp_tanh, tuple(data[:4]), *data[4:])


@st.composite
def rnn_data(draw):
    h, d, t = draw(sides(1, 3)), draw(sides(1, 3)), draw(sides(1, 4))
    return (
        draw(arrays((h, h), -0.7, 0.7)),
        draw(arrays((h, d), -1.0, 1.0)),
        draw(arrays(h, -1.0, 1.0)),
        draw(arrays((t, d), -1.0, 1.0)),
    )


@given(rnn_data())
def test_rnn(data):
    assert_grad_matches(rnn, *data, wrt=(0, 1, 2, 3))


@st.composite
def logistic_data(draw):
    n, d = draw(sides(1, 5)), draw(sides(1, 3))
    w = draw(arrays(d, -1.0, 1.0))
    b = draw(reals(-1.0, 1.0))
    x = draw(arrays((n, d), -1.0, 1.0))
    y = np.array(draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=n, max_size=n)))
    return w, b, x, y


@given(logistic_data())
def test_logistic_regression(data):
    assert_grad_matches(logistic_regression, *data, wrt=(0, 1, 2))


def transpose_method_with_axes(x):
    w = np.arange(24.0).reshape(4, 3, 2)
    return np.sum(x.transpose(2, 1, 0) * w) + np.sum(x.transpose((1, 0, 2)) ** 2)


@given(arrays((2, 3, 4)))
def test_transpose_method_with_separate_axes(x):
    assert_grad_matches(transpose_method_with_axes, x)
