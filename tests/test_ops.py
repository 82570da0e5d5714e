"""The op library against finite differences: every rule in the registry, one case at least.

`test_every_rule_has_a_case` fails for a rule with no entry in `op_cases.py`, so no rule can be
added untested. `test_reverse_matches_finite_differences` runs every case: hypothesis draws the
seed of the input maker (values inside the op's domain, the shapes and axis/keepdims variants
the case names) and a random cotangent; the pullback must equal the central finite-difference
gradient of <f(x), cotangent> in float64. The forward rules are checked against these reverse
rules by the dot-product test in test_forward.py, on the same cases.
"""

from __future__ import annotations

import copy
import os

import numpy as np
import pytest
from fd import assert_vjp_matches
from hypothesis import given, settings
from hypothesis import strategies as st
from op_cases import CASES, OP_CASES
from s2s.adjoints import NONDIFF, RULES
from s2s.adjoints.doc import library_rules

import s2s

LIBRARY = library_rules()  # with the SciPy rules when SciPy is installed; not users' rules

#: examples per case: the `ci` profile keeps the ~300 cases fast, `long` explores
EXAMPLES = 2 if os.environ.get("HYPOTHESIS_PROFILE", "ci") == "ci" else 30


def test_every_rule_has_a_case() -> None:
    missing = sorted(r.name for r in LIBRARY if id(r.op) not in OP_CASES)
    assert not missing, f"rules with no case in tests/op_cases.py: {missing}"


def test_every_rule_has_both_templates() -> None:
    one_sided = sorted(r.name for r in LIBRARY if r.adjoint is None or r.tangent is None)
    assert not one_sided, f"rules missing a reverse or a forward template: {one_sided}"


def test_no_op_is_both_differentiable_and_not() -> None:
    both = sorted(RULES[k].name for k in RULES if k in NONDIFF)
    assert not both


def test_registry_size() -> None:
    numpy_ops = [r for r in LIBRARY if r.name.startswith("numpy")]
    assert len(numpy_ops) >= 180, len(numpy_ops)


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::RuntimeWarning")
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@settings(max_examples=EXAMPLES)
@given(seed=st.integers(0, 2**32 - 1))
def test_reverse_matches_finite_differences(case, seed: int) -> None:
    rng = np.random.default_rng(seed)
    args = case.make_args(rng)
    out = case.fn(*copy.deepcopy(args))
    if np.ndim(out):
        cotangent = rng.standard_normal(np.shape(out))
    else:
        cotangent = float(rng.standard_normal())
    wrt = case.wrt_for(args)
    assert_vjp_matches(
        case.fn,
        *args,
        cotangent=cotangent,
        wrt=wrt[0] if len(wrt) == 1 else wrt,
        rtol=1e-5,
        atol=1e-7,
    )


def _no_rule(x):
    return np.sum(np.unwrap(x))


def test_missing_rule_names_the_numpy_function() -> None:
    with pytest.raises(s2s.S2SError, match=r"numpy\.unwrap"):
        s2s.grad(_no_rule)(np.ones(3))


def _einsum_five(x):
    return np.sum(np.einsum("i,i,i,i,i->i", x, x, x, x, x))


def test_einsum_with_more_operands_than_the_rule_takes_is_an_error() -> None:
    with pytest.raises(s2s.S2SError, match="einsum"):
        s2s.grad(_einsum_five)(np.ones(3))


def test_docs_ops_md_is_up_to_date() -> None:
    pytest.importorskip("scipy")  # the table lists SciPy's rules too
    from s2s.adjoints import doc

    path = os.path.join(os.path.dirname(__file__), "..", "docs", "ops.md")
    with open(path, encoding="utf-8") as fh:
        current = fh.read()
    assert current == doc.render(), (
        "docs/ops.md is stale: run `python -m s2s.adjoints.doc` to regenerate it"
    )


def _to_float32(a):
    if isinstance(a, np.ndarray) and a.dtype == np.float64:
        return a.astype(np.float32)
    if isinstance(a, list):
        return [_to_float32(v) for v in a]
    if isinstance(a, tuple):
        return tuple(_to_float32(v) for v in a)
    return a


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::RuntimeWarning")
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_float32_inputs_give_float32_gradients(case) -> None:
    """Every rule runs on float32 inputs, gives float32 gradients, and agrees with float64."""
    rng = np.random.default_rng(0)
    args = case.make_args(rng)
    wrt = case.wrt_for(args)
    wrt = wrt[0] if len(wrt) == 1 else wrt
    out = case.fn(*copy.deepcopy(args))
    cotangent = rng.standard_normal(np.shape(out)) if np.ndim(out) else 1.0
    want = s2s.vjp(case.fn, wrt=wrt)(*copy.deepcopy(args))[1](cotangent)
    args32 = _to_float32(args)
    cot32 = _to_float32(cotangent)
    got = s2s.vjp(case.fn, wrt=wrt)(*copy.deepcopy(args32))[1](cot32)
    pairs = zip(got, want, strict=True) if isinstance(wrt, tuple) else [(got, want)]
    for g, w in pairs:
        for gl, wl in zip(_leaves(g), _leaves(w), strict=True):
            if isinstance(wl, np.ndarray):
                assert gl.dtype == np.float32, (case.name, gl.dtype)
            np.testing.assert_allclose(np.asarray(gl, np.float64), wl, rtol=2e-3, atol=2e-4)


def _leaves(t):
    if isinstance(t, (list, tuple)):
        return [x for v in t for x in _leaves(v)]
    return [t]
