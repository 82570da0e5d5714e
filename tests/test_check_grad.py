"""Issue 4, `s2s.check_grad`: passes on correct gradients (nested parameters, floats, keyword
arguments, tuple wrt), and catches a deliberately wrong custom rule in either template."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from strategies import arrays, reals

import s2s
from s2s import d


def mlp(params, x, scale=1.0):
    h = np.tanh(x @ params["W"] + params["b"])
    return scale * np.sum(h * h) + params["c"] ** 2


def _params(rng):
    return {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(2), "c": 0.7}


@given(arrays((4, 3)), reals(0.5, 2.0))
def test_correct_gradient_passes(x, scale):
    params = _params(np.random.default_rng(0))
    report = s2s.check_grad(mlp, params, x, scale=scale)
    assert report.ok and bool(report)
    (arg,) = report.arguments
    assert arg.name == "params" and arg.size == 6 + 2 + 1
    assert arg.max_rel_error < 1e-7
    assert report.forward_rel_error is not None and report.forward_rel_error < 1e-10
    assert "pass" in str(report) and "params" in str(report)


def test_tuple_wrt_and_names():
    rng = np.random.default_rng(1)
    params, x = _params(rng), rng.standard_normal((4, 3))
    report = s2s.check_grad(mlp, params, x, 2.0, wrt=("params", 1, "scale"))
    assert [a.name for a in report.arguments] == ["params", "x", "scale"]
    assert [a.size for a in report.arguments] == [9, 12, 1]
    assert report.ok, str(report)


def test_float32_arguments_are_checked_in_float64():
    x = np.linspace(-1.0, 1.0, 5).astype(np.float32)
    report = s2s.check_grad(lambda_free_square, x)
    assert report.ok, str(report)


def lambda_free_square(x):
    return np.sum(np.sin(x) * x)


# -- planted wrong rules --------------------------------------------------------------------------


def wrong_sin(x):
    return np.sin(x)


@s2s.adjoint(wrong_sin)
def wrong_sin_adjoint(y, x):
    d[x] = d[y] * np.cos(x) * 1.001  # wrong by 0.1 %


@s2s.tangent(wrong_sin)
def wrong_sin_tangent(y, x):
    d[y] = d[x] * np.cos(x)  # right


def right_cube(x):
    return x**3


@s2s.adjoint(right_cube)
def right_cube_adjoint(y, x):
    d[x] = d[y] * 3.0 * x * x  # right


@s2s.tangent(right_cube)
def right_cube_tangent(y, x):
    d[y] = d[x] * 2.0 * x * x  # wrong


def uses_wrong_adjoint(x):
    return np.sum(wrong_sin(x) * x)


def uses_wrong_tangent(x):
    return np.sum(right_cube(x))


@given(arrays(4))
def test_wrong_adjoint_is_caught(x):
    report = s2s.check_grad(uses_wrong_adjoint, x)
    assert not report.ok
    (arg,) = report.arguments
    assert not arg.passed and arg.max_rel_error > 1e-4
    assert not report.forward_passed  # the tangent rule is right: forward disagrees with reverse
    text = str(report)
    assert "FAIL" in text and "x[" in text


@given(arrays(4))
def test_wrong_tangent_is_caught(x):
    report = s2s.check_grad(uses_wrong_tangent, x)
    assert report.arguments[0].passed  # reverse is right
    assert not report.forward_passed and not report.ok
    assert "forward vs reverse" in str(report)


def test_raise_on_failure():
    x = np.array([0.3, -1.2, 0.8])
    with pytest.raises(s2s.GradCheckError, match="disagrees") as info:
        s2s.check_grad(uses_wrong_adjoint, x, raise_on_failure=True)
    assert isinstance(info.value, s2s.S2SError)
    assert "custom rule" in str(info.value)
    s2s.check_grad(lambda_free_square, x, raise_on_failure=True)  # passes: no error


def only_adjoint(x):
    return x * 2.0


@s2s.adjoint(only_adjoint)
def only_adjoint_adjoint(y, x):
    d[x] = d[y] * 2.0


def test_forward_not_available_is_reported_not_failed():
    def f(x):
        return np.sum(only_adjoint(x))

    report = s2s.check_grad(f, np.array([1.0, 2.0]))
    assert report.ok and report.forward_rel_error is None
    assert "not checked" in str(report)
    assert s2s.check_grad(f, np.array([1.0]), forward=False).forward_note == "forward=False"


def test_bad_wrt():
    with pytest.raises(s2s.S2SError, match="names no parameter"):
        s2s.check_grad(mlp, {}, np.zeros(3), wrt="nope")


def test_dataclass_and_namedtuple_arguments_are_checked_field_by_field():
    """Every float field of a dataclass (and of a NamedTuple) is a checked coordinate: 9 + 3
    entries and the float `scale` (the str field is not one)."""
    from test_containers import Affine, Scaled, affine_loss
    from test_containers import scaled_loss as loss

    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3))
    report = s2s.check_grad(loss, Scaled(rng.standard_normal((3, 3)), rng.standard_normal(3)), x)
    assert report.ok and "over 13 coordinates" in str(report), str(report)
    report = s2s.check_grad(
        affine_loss, Affine(rng.standard_normal((3, 3)), rng.standard_normal(3)), x
    )
    assert report.ok and "over 12 coordinates" in str(report), str(report)
