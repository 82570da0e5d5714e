"""Functions as values: a function passed as an argument, held in a local name, or defined in
the function (`def` and `lambda`, which s2s lifts to functions of their own).

s2s knows which function a name holds statically (`s2s/functions.py`): from the call that
passes it (the derivative is made for that function), from a parameter's default (checked
when the code runs), from an assignment, or from a local `def`/`lambda`, whose free
variables become parameters. Each gradient is checked against central differences on
hypothesis inputs, forward mode against reverse mode (the dot-product test), and what s2s
cannot know is refused with the construct named.
"""

import numpy as np
import pytest
from fd import assert_grad_matches, numerical_grad, random_direction, tree_dot
from golden_programs import rk4_step
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import arrays, matrices, sides

import s2s
from s2s.errors import ArgumentError, NoRuleError, UnsupportedSyntaxError

# --- a function passed down a chain of calls -------------------------------------------------


def relu_ish(z):
    return np.where(z > 0.0, z, 0.1 * z)


def softplus(z):
    return np.log1p(np.exp(z))


def layer(h, W, b, act):
    return act(h @ W + b)


def mlp(params, x, act, out_act):
    h = x
    for W, b in zip(params["Ws"], params["bs"], strict=True):
        h = layer(h, W, b, act)
    return out_act(h)


def loss(params, x, act, out_act=np.sin):
    return np.mean(mlp(params, x, act, out_act) ** 2)


ACTIVATIONS = [np.tanh, np.sin, relu_ish, softplus]


@st.composite
def models(draw):
    widths = draw(st.lists(sides(1, 4), min_size=2, max_size=4))
    Ws = [draw(matrices(a, b)) / 2 for a, b in zip(widths, widths[1:], strict=False)]
    bs = [draw(arrays((b,))) for b in widths[1:]]
    x = draw(matrices(draw(sides()), widths[0]))
    return {"Ws": Ws, "bs": bs}, x


@given(models(), st.sampled_from(ACTIVATIONS), st.sampled_from(ACTIVATIONS))
@settings(max_examples=25, deadline=None)
def test_a_function_passed_down_a_chain_of_calls(model, act, out_act):
    """`loss(params, x, act)` passes `act` to `mlp`, which passes it to `layer`: the gradient,
    made for the very functions the call passes, equals central differences for each."""
    params, x = model
    g = assert_grad_matches(loss, params, x, act, out_act)
    gx = assert_grad_matches(loss, params, x, act, out_act, wrt="x")
    value, g2 = s2s.value_and_grad(loss, wrt=(0, 1))(params, x, act, out_act)
    np.testing.assert_allclose(value, loss(params, x, act, out_act), rtol=1e-12)
    for a, b in zip(g["Ws"], g2[0]["Ws"], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gx, g2[1], rtol=1e-12, atol=1e-14)
    value, pullback = s2s.vjp(loss, wrt="x")(params, x, act, out_act)
    np.testing.assert_allclose(pullback(1.0), gx, rtol=1e-12, atol=1e-14)


def loss_tanh(params, x):
    return np.mean(mlp(params, x, np.tanh, softplus) ** 2)


@given(models())
@settings(max_examples=15, deadline=None)
def test_forward_mode_agrees_with_reverse_mode(model):
    """The dot-product test <J u, v> = <u, J^T v> through the chain: `jvp_layer_tanh` against
    `bwd_layer_tanh`; hvp against differences of the gradient."""
    params, x = model
    g = assert_grad_matches(loss_tanh, params, x)
    rng = np.random.default_rng(int(abs(x).sum() * 1000) % 2**32)
    u = random_direction(params, rng)
    _, t = s2s.jvp(loss_tanh)(params, x, u)
    np.testing.assert_allclose(t, tree_dot(g, u), rtol=1e-9, atol=1e-12)
    ux = rng.standard_normal(x.shape)
    gx = s2s.grad(loss_tanh, wrt="x")(params, x)
    _, tx = s2s.jvp(loss_tanh, wrt="x")(params, x, ux)
    np.testing.assert_allclose(tx, np.sum(gx * ux), rtol=1e-9, atol=1e-12)
    hx = s2s.hvp(loss_tanh, wrt="x")(params, x, ux)
    eps = 1e-6
    plus = s2s.grad(loss_tanh, wrt="x")(params, x + eps * ux)
    minus = s2s.grad(loss_tanh, wrt="x")(params, x - eps * ux)
    np.testing.assert_allclose(hx, (plus - minus) / (2 * eps), rtol=1e-4, atol=1e-6)


def test_one_derivative_per_function_passed():
    """`layer` called with np.tanh and with softplus gets two pairs, named after both; the
    code is the same text every time."""
    text = s2s.source(loss_tanh)
    assert "def fwd_layer_tanh(tape, h, W, b, act):" in text
    assert "def fwd_mlp_tanh_softplus(tape, params, x, act, out_act):" in text
    assert "d_2 * (1.0 - _1 * _1)" in text or "(1.0 - " in text  # tanh's own derivative
    assert "fwd_softplus(" in text
    assert s2s.source(loss_tanh) == text
    assert "jvp_layer_tanh" in s2s.source(loss_tanh, mode="forward")
    df = s2s.grad(loss)
    params, x = {"Ws": [np.eye(2)], "bs": [np.zeros(2)]}, np.ones((1, 2))
    assert "fwd_layer_sin" in df.s2s_source_for(params, x, np.sin)
    assert "fwd_layer_relu_ish" in df.s2s_source_for(params, x, relu_ish)


# --- a parameter's default -------------------------------------------------------------------


def scaled(x, w, act=np.tanh):
    return np.sum(act(w * x) ** 2)


@given(arrays((3,)), st.floats(0.2, 2.0))
@settings(max_examples=20, deadline=None)
def test_a_default_function(x, w):
    """`act=np.tanh`: `s2s.source` and `s2s.jvp` make the code for the default and check, when
    it runs, that the call passed that one; `s2s.grad` makes the code for any function the
    call passes."""
    for args in ((x, w), (x, w, np.tanh), (x, w, np.sin)):
        g = assert_grad_matches(scaled, *args, wrt=1)
        _, t = s2s.jvp(scaled, wrt=1)(*args[:2], 1.0) if len(args) == 2 else (None, g)
        np.testing.assert_allclose(t, g, rtol=1e-9, atol=1e-12)
    text = s2s.source(scaled)
    line = scaled.__code__.co_firstlineno
    assert f"check_function(act, np.tanh, 'act', 'test_functions.py:{line}')" in text
    with pytest.raises(ArgumentError, match="act is sin, but this derivative was made for tanh"):
        s2s.jvp(scaled, wrt=1)(x, w, np.sin, 1.0)


# --- local functions: def and lambda ---------------------------------------------------------


def with_local_functions(x, W, k):
    """A local def reading parameters, a lambda, a local function calling another, and one
    calling itself."""
    square = lambda v: v * v  # noqa: E731

    def cell(h):
        return np.tanh(h @ W) * k

    def deep(h, n):
        if n == 0:
            return h
        return deep(cell(h), n - 1)

    act = np.sin
    return np.sum(square(act(deep(x, 3)))) + np.sum(cell(x))


@given(st.data())
@settings(max_examples=25, deadline=None)
def test_local_functions(data):
    n = data.draw(sides(1, 4))
    x = data.draw(matrices(data.draw(sides()), n))
    W = data.draw(matrices(n, n)) / 2
    k = data.draw(st.floats(0.3, 1.5))
    for wrt in (0, 1, 2):
        assert_grad_matches(with_local_functions, x, W, k, wrt=wrt)
    gW = s2s.grad(with_local_functions, wrt=1)(x, W, k)
    u = np.random.default_rng(n).standard_normal(W.shape)
    _, t = s2s.jvp(with_local_functions, wrt=1)(x, W, k, u)
    np.testing.assert_allclose(t, np.sum(gW * u), rtol=1e-9, atol=1e-12)


def test_local_functions_are_lifted_with_their_environment():
    """`cell` reads W and k of the enclosing function: it is `with_local_functions_cell(W, k,
    h)`; `deep` calls `cell` and itself, so it takes W and k too; `square` reads nothing."""
    text = s2s.source(with_local_functions, wrt=1)
    assert "def fwd_with_local_functions_cell(tape, W, k, h):" in text
    assert "def fwd_with_local_functions_deep(tape, W, k, h, n):" in text
    assert "def fwd_with_local_functions_square(tape, v):" in text
    assert "Forward sweep of with_local_functions.cell (test_functions.py:" in text
    assert "lambda" not in text.replace("# square = lambda v: v * v", "")
    assert s2s.source(with_local_functions, wrt=1) == text


def integrate(y0, W, k, dt, steps):
    """Runge-Kutta 4 on dy/dt = -k y + tanh(W y): a local right-hand side read four times per
    step."""

    def rhs(y):
        return -k * y + np.tanh(W @ y)

    y = y0
    for _ in range(steps):
        k1 = rhs(y)
        k2 = rhs(y + 0.5 * dt * k1)
        k3 = rhs(y + 0.5 * dt * k2)
        k4 = rhs(y + dt * k3)
        y = y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return np.sum(y**2)


@given(st.data())
@settings(max_examples=15, deadline=None)
def test_an_integrator_with_a_local_right_hand_side(data):
    n = data.draw(sides(1, 4))
    y0, W = data.draw(arrays((n,))), data.draw(matrices(n, n)) / 2
    k = data.draw(st.floats(0.1, 1.0))
    for wrt in (0, 1, 2):
        assert_grad_matches(integrate, y0, W, k, 0.1, 5, wrt=wrt)
    gW = s2s.grad(integrate, wrt=1)(y0, W, k, 0.1, 5)
    u = np.random.default_rng(n).standard_normal(W.shape)
    _, t = s2s.jvp(integrate, wrt=1)(y0, W, k, 0.1, 5, u)
    np.testing.assert_allclose(t, np.sum(gW * u), rtol=1e-9, atol=1e-12)


def apply_twice(f, x):
    return f(f(x))


def passes_a_lambda(x):
    return np.sum(apply_twice(lambda v: np.sin(v) * 2.0, x)) + np.sum(apply_twice(np.cos, x))


@given(arrays((3,)))
@settings(max_examples=20, deadline=None)
def test_a_lambda_passed_to_a_function(x):
    """A lambda that reads no local name is a function like any other: `apply_twice` gets a
    derivative made for it (and another for np.cos)."""
    g = assert_grad_matches(passes_a_lambda, x)
    u = np.random.default_rng(0).standard_normal(3)
    _, t = s2s.jvp(passes_a_lambda)(x, u)
    np.testing.assert_allclose(t, np.sum(g * u), rtol=1e-9, atol=1e-12)
    text = s2s.source(passes_a_lambda)
    assert "fwd_apply_twice_passes_a_lambda_lambda" in text and "fwd_apply_twice_cos" in text


# --- closures: a local function passed to a function of yours --------------------------------


def odeint(f, y, dt, steps):
    for _ in range(steps):
        y = rk4_step(f, y, dt)
    return y


def ode_loss(W, b, y0, k):
    """A neural ODE: the right-hand side reads W, b and k of the enclosing function, and is
    passed to a module-level integrator, which passes it on."""

    def rhs(y):
        return np.tanh(W @ y + b) - k * y

    return np.sum(odeint(rhs, y0, 0.1, 3) ** 2)


def scan(f, h, xs):
    for x in xs:
        h = f(h, x)
    return h


def scan_loss(W, U, h0, xs):
    """A recurrent net as `scan` over a lambda written at the call, by keyword as well."""
    h = scan(lambda h, x: np.tanh(h @ W + x @ U), h0, xs)
    return np.sum(scan(f=lambda h, x: h * np.cos(x @ U), h=h, xs=xs) ** 2)


def late_binding(x, s):
    """Python reads `s` when `g` runs, not when it is defined: the second call sees 3 s."""
    g = lambda v: np.sin(v) * s  # noqa: E731
    a = rk4_step(g, x, 0.5)
    s = s * 3.0
    return np.sum(a * rk4_step(g, x, 0.5))


def nested_closures(p, x):
    """A closure calling another local function, and a local function passing a closure: the
    environments (p, the dict of parameters) travel through both."""

    def inner(v):
        return np.sin(v) * p["s"]

    def rhs(y):
        return inner(p["W"] @ y)

    def flow(y):
        return odeint(rhs, y, 0.1, 2)

    return np.sum(flow(x) ** 2) + np.sum(rk4_step(flow, x, 0.2))


def private_names(x, s):
    """A closure reading `_s` and `v_s` (a NamedTuple field may not start with an underscore:
    `_s` is held in a field of another name, which must not be `v_s`'s)."""
    _s = s * 2.0
    v_s = np.cos(s)
    return np.sum(rk4_step(lambda y: np.sin(y) * _s + v_s * y, x, 0.3))


@given(arrays((3,)), st.floats(0.2, 1.5))
@settings(max_examples=20, deadline=None)
def test_a_closure_reading_underscored_names(x, s):
    for wrt in (0, 1):
        assert_grad_matches(private_names, x, s, wrt=wrt)
    g = s2s.grad(private_names, wrt=1)(x, s)
    _, t = s2s.jvp(private_names, wrt=1)(x, s, 1.0)
    np.testing.assert_allclose(t, g, rtol=1e-9, atol=1e-12)


@st.composite
def odes(draw):
    n = draw(sides(1, 4))
    W = draw(matrices(n, n)) / 2
    b, y0 = draw(arrays((n,))), draw(arrays((n,)))
    return W, b, y0, draw(st.floats(0.1, 1.0))


@given(odes())
@settings(max_examples=20, deadline=None)
def test_a_closure_passed_to_an_integrator(ode):
    """Reverse mode against central differences for each argument; forward mode against
    reverse mode (the dot-product test); the Hessian-vector product against differences of
    the gradient."""
    W, b, y0, k = ode
    for wrt in (0, 1, 2, 3):
        assert_grad_matches(ode_loss, W, b, y0, k, wrt=wrt)
    g = s2s.grad(ode_loss, wrt=(0, 1, 2, 3))(W, b, y0, k)
    rng = np.random.default_rng(W.shape[0])
    u = (rng.standard_normal(W.shape), rng.standard_normal(b.shape), rng.standard_normal(b.shape))
    _, t = s2s.jvp(ode_loss, wrt=(0, 1, 2))(W, b, y0, k, u)
    np.testing.assert_allclose(t, tree_dot(g[:3], u), rtol=1e-9, atol=1e-12)
    hv = s2s.hvp(ode_loss)(W, b, y0, k, u[0])
    eps = 1e-6
    gp = s2s.grad(ode_loss)(W + eps * u[0], b, y0, k)
    gm = s2s.grad(ode_loss)(W - eps * u[0], b, y0, k)
    np.testing.assert_allclose(hv, (gp - gm) / (2 * eps), rtol=1e-5, atol=1e-7)


def test_a_closure_is_a_tuple_of_its_environment():
    """`odeint(rhs, ...)` passes `ode_loss_rhs_closure(W, b, k)`, made where it is passed: the
    integrator's derivative is made for that class, its `f(y)` the closure's `__call__`, and
    the gradient with respect to the closure has W's, b's and k's in its fields."""
    text = s2s.source(ode_loss, wrt=(0, 1, 3))
    assert "= ode_loss_rhs_closure(W, b, k)" in text
    assert "def fwd_odeint_ode_loss_rhs(tape, f, y, dt, steps):" in text
    assert "def fwd_ode_loss_rhs_call(tape, self, y):" in text
    assert "W = self.W" in text and "check_method" not in text
    assert "Forward sweep of ode_loss.rhs (test_functions.py:" in text
    assert s2s.source(ode_loss, wrt=(0, 1, 3)) == text


@given(st.data())
@settings(max_examples=20, deadline=None)
def test_lambdas_passed_where_they_are_written(data):
    n, m = data.draw(sides(1, 3)), data.draw(sides(1, 3))
    W, U = data.draw(matrices(n, n)) / 2, data.draw(matrices(m, n)) / 2
    h0, xs = data.draw(arrays((n,))), data.draw(matrices(data.draw(sides(1, 3)), m))
    for wrt in (0, 1, 2, 3):
        assert_grad_matches(scan_loss, W, U, h0, xs, wrt=wrt)
    g = s2s.grad(scan_loss, wrt=(0, 1))(W, U, h0, xs)
    u = random_direction((W, U), np.random.default_rng(n))
    _, t = s2s.jvp(scan_loss, wrt=(0, 1))(W, U, h0, xs, u)
    np.testing.assert_allclose(t, tree_dot(g, u), rtol=1e-9, atol=1e-12)


@given(arrays((3,)), st.floats(0.2, 1.5))
@settings(max_examples=20, deadline=None)
def test_a_closure_reads_its_variables_when_it_runs(x, s):
    for wrt in (0, 1):
        assert_grad_matches(late_binding, x, s, wrt=wrt)


@given(st.data())
@settings(max_examples=15, deadline=None)
def test_closures_within_closures(data):
    n = data.draw(sides(1, 3))
    p = {"W": data.draw(matrices(n, n)) / 2, "s": data.draw(st.floats(0.2, 1.5))}
    x = data.draw(arrays((n,)))
    g = assert_grad_matches(nested_closures, p, x)
    assert set(g) == {"W", "s"}
    assert_grad_matches(nested_closures, p, x, wrt=1)
    u = random_direction(p, np.random.default_rng(n))
    _, t = s2s.jvp(nested_closures)(p, x, u)
    np.testing.assert_allclose(t, tree_dot(g, u), rtol=1e-9, atol=1e-12)


# --- refusals --------------------------------------------------------------------------------


def closure_as_value(x, s):
    def g(v):
        return v * s

    fs = [g]
    return np.sum(fs[0](x))


def identity(f):
    return f


def closure_returned(s, x):
    def g(v):
        return v * s

    return np.sum(apply_twice(identity(g), x))


def keeps(f, x):
    fs = [f]
    return fs[0](x)


def closure_kept(x, s):
    return np.sum(keeps(lambda v: v * s, x))


def closure_to_numpy(x, s):
    return np.sum(np.vectorize(lambda v: v * s)(x))


def lambda_in_a_list(x, s):
    fs = [lambda v: v * s]
    return np.sum(apply_twice(fs[0], x))


def bound_twice(x, s, flag):
    if flag:
        g = lambda v: v * s  # noqa: E731
    else:
        g = lambda v: v + s  # noqa: E731
    return np.sum(g(x))


def lambda_in_comprehension(x):
    return sum(np.sum((lambda v: v * k)(x)) for k in range(3))


def computed_default(x, s):
    def g(v, w=s * 2):
        return v * w

    return np.sum(g(x))


def either(x, flag):
    f = np.sin if flag else np.cos
    return np.sum(f(x))


def called_parameter(x, f):
    return np.sum(f(x))


@pytest.mark.parametrize(
    ("fn", "args", "error", "words"),
    [
        (closure_as_value, (np.ones(2), 2.0), UnsupportedSyntaxError, "local function 'g' reads s"),
        (
            closure_returned,
            (2.0, np.ones(2)),
            UnsupportedSyntaxError,
            "'f', the local function 'g'",
        ),
        (closure_kept, (np.ones(2), 2.0), UnsupportedSyntaxError, "'f', a lambda that reads s"),
        (
            closure_to_numpy,
            (np.ones(2), 2.0),
            UnsupportedSyntaxError,
            "^[^']*a lambda that reads s of closure_to_numpy is used",
        ),
        (lambda_in_a_list, (np.ones(2), 2.0), UnsupportedSyntaxError, "neither assigned"),
        (bound_twice, (np.ones(2), 2.0, True), UnsupportedSyntaxError, "bound more than once"),
        (lambda_in_comprehension, (np.ones(2),), UnsupportedSyntaxError, "inside a comprehension"),
        (computed_default, (np.ones(2), 2.0), UnsupportedSyntaxError, "not a constant"),
        (either, (np.ones(2), True), NoRuleError, "calling the local value 'f'"),
    ],
)
def test_what_s2s_cannot_know_is_refused(fn, args, error, words):
    with pytest.raises(error, match=words) as info:
        s2s.grad(fn)(*args)
    assert info.value.filename.endswith("test_functions.py") and info.value.lineno


def test_a_parameter_called_with_no_function_known():
    """With no default, the code is made for the function each call passes; `s2s.source`
    cannot know one, and says what to write."""
    with pytest.raises(NoRuleError, match="calling the parameter 'f'") as info:
        s2s.source(called_parameter)
    assert "give the parameter a default" in info.value.hint
    df = s2s.grad(called_parameter)
    x = np.linspace(0.1, 1.0, 3)
    np.testing.assert_allclose(df(x, np.sin), np.cos(x), rtol=1e-12)
    np.testing.assert_allclose(df(x, np.exp), np.exp(x), rtol=1e-12)
    with pytest.raises(NoRuleError, match="calling the parameter 'f'"):
        df(x, 3.0)


def test_numerical_gradient_helper_passes_functions_through():
    """(The finite differences perturb arrays only: a function argument is passed as is.)"""
    x = np.linspace(0.1, 1.0, 3)
    got = numerical_grad(called_parameter, (x, np.sin), 0)
    np.testing.assert_allclose(got, np.cos(x), rtol=1e-6)
