"""The hand-written benchmark gradients are right: checked against central finite differences.

The baseline part does not import s2s. The last test runs the benchmark CLI and is skipped
when s2s cannot be imported.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.models import MODELS, Model  # noqa: E402

EPS = 1e-6
SEEDS = (0, 1, 2)


def _wrt_positions(model: Model) -> tuple[int, ...]:
    return model.wrt if isinstance(model.wrt, tuple) else (model.wrt,)


def _leaves(tree, path=()):
    """(path, value) for each float or array leaf of a nested dict/list/tuple."""
    if isinstance(tree, dict):
        for key in sorted(tree):
            yield from _leaves(tree[key], path + (key,))
    elif isinstance(tree, (list, tuple)):
        for i, item in enumerate(tree):
            yield from _leaves(item, path + (i,))
    else:
        yield path, tree


def _get(tree, path):
    for key in path:
        tree = tree[key]
    return tree


def _set(tree, path, value):
    if not path:
        return value
    if isinstance(tree, tuple):  # (a NamedTuple too: rebuilt, as tuples cannot be written)
        items = list(tree)
        items[path[0]] = _set(items[path[0]], path[1:], value)
        return type(tree)(*items) if hasattr(tree, "_fields") else tuple(items)
    tree[path[0]] = _set(tree[path[0]], path[1:], value)
    return tree


def _eval(model: Model, args: tuple, wrt_values: list) -> float:
    args = list(args)
    for pos, value in zip(_wrt_positions(model), wrt_values, strict=True):
        args[pos] = value
    return float(model.primal(*args))


def _as_list(model: Model, grad) -> list:
    return list(grad) if isinstance(model.wrt, tuple) else [grad]


def _coordinates(value, rng: np.random.Generator, limit: int = 12) -> list:
    """A few flat indices of an array leaf (all of them when small), or [None] for a float."""
    if isinstance(value, float):
        return [None]
    size = np.asarray(value).size
    if size <= limit:
        return list(range(size))
    return sorted(rng.choice(size, limit, replace=False).tolist())


def _shifted(tree, path, index, delta):
    tree = copy.deepcopy(tree)
    leaf = _get(tree, path)
    if index is None:
        return _set(tree, path, leaf + delta)
    leaf = np.array(leaf, dtype=np.float64)
    leaf.flat[index] += delta
    return _set(tree, path, leaf)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_hand_written_gradient_structure(name: str, seed: int) -> None:
    model = MODELS[name]
    args = model.make(model.test_size, seed)
    grads = _as_list(model, model.grad(*args))
    assert len(grads) == len(_wrt_positions(model))
    for pos, grad in zip(_wrt_positions(model), grads, strict=True):
        arg_leaves = list(_leaves(args[pos]))
        grad_leaves = list(_leaves(grad))
        assert [p for p, _ in arg_leaves] == [p for p, _ in grad_leaves]
        for (_, a), (_, g) in zip(arg_leaves, grad_leaves, strict=True):
            if isinstance(a, float):
                assert isinstance(g, float)
            else:
                assert g.shape == a.shape and g.dtype == a.dtype


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_hand_written_gradient_entries(name: str, seed: int) -> None:
    """Selected partial derivatives match central differences."""
    model = MODELS[name]
    rng = np.random.default_rng(100 + seed)
    args = model.make(model.test_size, seed)
    wrt_values = [args[p] for p in _wrt_positions(model)]
    grads = _as_list(model, model.grad(*args))
    for k, (value, grad) in enumerate(zip(wrt_values, grads, strict=True)):
        for path, leaf in _leaves(value):
            g_leaf = _get(grad, path)
            for index in _coordinates(leaf, rng):
                plus, minus = list(wrt_values), list(wrt_values)
                plus[k] = _shifted(value, path, index, EPS)
                minus[k] = _shifted(value, path, index, -EPS)
                fd = (_eval(model, args, plus) - _eval(model, args, minus)) / (2 * EPS)
                got = g_leaf if index is None else np.asarray(g_leaf).flat[index]
                np.testing.assert_allclose(
                    got, fd, rtol=1e-5, atol=1e-8, err_msg=f"{path}[{index}]"
                )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_hand_written_gradient_directional(name: str, seed: int) -> None:
    """<grad, v> matches a central difference along random directions v over all entries."""
    model = MODELS[name]
    rng = np.random.default_rng(200 + seed)
    args = model.make(model.test_size, seed)
    wrt_values = [args[p] for p in _wrt_positions(model)]
    grads = _as_list(model, model.grad(*args))
    for _ in range(3):
        plus, minus = [copy.deepcopy(v) for v in wrt_values], [copy.deepcopy(v) for v in wrt_values]
        expected = 0.0
        for k, (value, grad) in enumerate(zip(wrt_values, grads, strict=True)):
            for path, leaf in _leaves(value):
                v = rng.standard_normal(np.shape(leaf))
                v = float(v) if isinstance(leaf, float) else v
                expected += float(np.sum(_get(grad, path) * v))
                plus[k] = _set(plus[k], path, leaf + EPS * v)
                minus[k] = _set(minus[k], path, leaf - EPS * v)
        fd = (_eval(model, args, plus) - _eval(model, args, minus)) / (2 * EPS)
        np.testing.assert_allclose(expected, fd, rtol=1e-5, atol=1e-8)


def test_models_are_plain_module_functions() -> None:
    """Primals take positional args and do not depend on s2s."""
    import benchmarks.models as models

    source = Path(models.__file__).read_text()
    assert "import s2s" not in source and "from s2s" not in source
    for model in MODELS.values():
        assert model.primal.__module__ == models.__name__
        assert model.grad.__module__ == models.__name__


@pytest.mark.skipif(importlib.util.find_spec("s2s") is None, reason="s2s is not importable")
def test_benchmark_cli_quick_runs() -> None:
    try:
        import s2s  # noqa: F401
    except Exception as exc:  # the transformer is being built; a broken import is a skip here
        pytest.skip(f"import s2s failed: {exc!r}")
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "logreg"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "logreg" in proc.stdout
