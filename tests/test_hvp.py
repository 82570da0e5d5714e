"""Issue 4, towards forward over reverse: generated code is readable by `inspect`, the first
step of differentiating a generated gradient again (s2s reads a function's source)."""

from __future__ import annotations

import inspect

import numpy as np

from s2s.api import _generated


def quadratic(x):
    return np.sum(np.tanh(x) ** 2)


def test_generated_gradient_source_is_readable():
    gen = _generated(quadratic, 0, "grad")[0]
    fn = gen.entry[0]
    text = inspect.getsource(fn)
    assert text.strip().startswith("def grad_quadratic(x):")
    for line in gen.source.strip().splitlines():
        assert line in text
    x = np.array([0.3, -0.5])
    np.testing.assert_allclose(fn(x), 2 * np.tanh(x) * (1 - np.tanh(x) ** 2), rtol=1e-14)


def test_same_name_different_code_gets_its_own_source():
    def make(which):
        if which:

            def quadratic(x):
                return np.sum(np.tanh(x) ** 2)

        else:

            def quadratic(x):
                return np.sum(np.sin(x) * x)

        return quadratic

    a = _generated(make(True), 0, "grad")[0].entry[0]
    b = _generated(make(False), 0, "grad")[0].entry[0]
    assert a.__code__.co_filename != b.__code__.co_filename
    assert "np.tanh" in inspect.getsource(a) and "np.sin" in inspect.getsource(b)
