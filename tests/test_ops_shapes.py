"""Every smooth elementwise ufunc in the registry, on shapes hypothesis draws: 0-d arrays,
size-1 axes and broadcasting pairs, in float64 and float32.

`tests/test_ops.py` checks each rule on the fixed shapes of its case in `tests/op_cases.py`;
this adds the shapes where broadcasting rules go wrong (`unbroadcast` summing the right axes, a
0-d argument getting a 0-d gradient). Values are drawn from the op's own case, so they stay in
its domain. Each check: the reverse gradient against central finite differences, and forward
mode against reverse mode (the dot-product test <J u, v> = <u, J^T v>).
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from fd import assert_grad_matches
from hypothesis import given, settings
from hypothesis import strategies as st
from op_cases import OP_CASES
from s2s.adjoints.doc import library_rules

import s2s

#: kinks inside the case's value range, or a derivative that is zero on purpose
NON_SMOOTH = {
    "maximum",
    "minimum",
    "fmax",
    "fmin",
    "mod",
    "fmod",
    "remainder",
    "copysign",
    "floor_divide",
    "heaviside",
    "absolute",
    "fabs",
    "sign",
}

UNARY_SHAPES = [(), (1,), (3,), (2, 3), (1, 3), (2, 1, 2)]
BINARY_SHAPES = [
    ((), (3,)),
    ((3,), ()),
    ((2, 1), (1, 3)),
    ((2, 3), (3,)),
    ((1,), (4,)),
    ((2, 3), (2, 3)),
    ((), ()),
    ((3, 1, 2), (4, 1)),
]


def _ufunc_cases() -> list:
    out = []
    for rule in library_rules():
        op = rule.op
        if not isinstance(op, np.ufunc) or op.nout != 1 or op.nin not in (1, 2) or op.signature:
            continue
        if op.__name__ in NON_SMOOTH or getattr(np, op.__name__, None) is not op:
            continue
        for c in OP_CASES.get(id(op), []):
            args = c.make_args(np.random.default_rng(0))
            if len(args) == op.nin and all(
                isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in args
            ):
                out.append((op.__name__, op.nin, c))
                break
    return sorted(out, key=lambda t: t[0])


CASES = _ufunc_cases()
_DIR = Path(tempfile.mkdtemp(prefix="s2s_ufunc_shapes_"))


def _module():
    """The functions under test, written to a file so that s2s can read their source."""
    lines = ["import numpy as np", ""]
    for name, nin, _ in CASES:
        args = "x" if nin == 1 else "x, y"
        lines += [f"def f_{name}({args}, w):", f"    return np.sum(np.{name}({args}) * w)", ""]
    path = _DIR / "s2s_ufunc_shapes_under_test.py"
    path.write_text("\n".join(lines))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = mod
    spec.loader.exec_module(mod)
    return mod


MOD = _module()


def test_the_broadcasting_check_covers_the_elementwise_family():
    names = {n for n, _, _ in CASES}
    assert len(names) >= 40, sorted(names)
    assert {"exp", "log", "tanh", "add", "multiply", "divide", "power", "arctan2"} <= names


def _draw(rng: np.random.Generator, source: np.ndarray, shape: tuple) -> np.ndarray:
    return np.asarray(rng.choice(source.ravel(), size=shape))


@pytest.mark.parametrize(("name", "nin", "case"), CASES, ids=[c[0] for c in CASES])
@settings(max_examples=6)
@given(shapes=st.data(), seed=st.integers(0, 2**31 - 1))
def test_ufunc_on_broadcast_shapes(name, nin, case, shapes, seed):
    rng = np.random.default_rng(seed)
    base = case.make_args(rng)
    pair = shapes.draw(st.sampled_from(UNARY_SHAPES if nin == 1 else BINARY_SHAPES))
    shape_list = [pair] if nin == 1 else list(pair)
    inputs = [_draw(rng, b, s) for b, s in zip(base, shape_list, strict=True)]
    out_shape = np.broadcast_shapes(*shape_list)
    w = np.asarray(rng.uniform(-1.0, 1.0, size=out_shape))
    f = getattr(MOD, f"f_{name}")
    wrt = tuple(range(nin))
    assert_grad_matches(f, *inputs, w, wrt=wrt, rtol=1e-5, atol=1e-7)

    # forward against reverse: <J u, 1> == <u, J^T 1> for the scalar output
    us = tuple(np.asarray(rng.standard_normal(a.shape)) for a in inputs)
    _, jv = s2s.jvp(f, wrt=wrt)(*inputs, w, us)
    grads = s2s.grad(f, wrt=wrt)(*inputs, w)
    want = sum(float(np.sum(u * g)) for u, g in zip(us, grads, strict=True))
    assert np.isclose(float(jv), want, rtol=1e-9, atol=1e-12)

    # float32 in, float32 out, close to float64
    grads32 = s2s.grad(f, wrt=wrt)(*[a.astype(np.float32) for a in inputs], w.astype(np.float32))
    for g32, g64, a in zip(grads32, grads, inputs, strict=True):
        assert g32.dtype == np.float32 and g32.shape == a.shape
        np.testing.assert_allclose(g32, g64, rtol=2e-3, atol=2e-3)
