"""Issue 6, transformation time: the fast tree helpers (`s2s/nodes.py`) do what the slow ones
they replace did, the optimizer's rewritten passes decide as before, generation pauses the
cyclic garbage collector and restores it, and the benchmark's per-stage pipeline makes the
same code as `generate`. (No timing assertions: timings are in docs/performance.md.)"""

import ast
import copy
import gc
import inspect
import sys
from pathlib import Path

import gast
import numpy as np
import pytest
from fd import assert_grad_matches
from hypothesis import given, settings
from hypothesis import strategies as st

import s2s
from s2s import emit, nodes
from s2s.transform import generate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks import transform as bench  # noqa: E402

ROOT = Path(s2s.__file__).resolve().parent
SOURCES = sorted(ROOT.glob("*.py"))


def _tree(path: Path) -> gast.AST:
    tree = gast.parse(path.read_text())
    for k, n in enumerate(ast.walk(tree)):
        n.s2s_line = k  # an attribute the pipeline sets: clones must carry it
    return tree


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_walk_is_ast_walk(path):
    tree = _tree(path)
    fast, slow = list(nodes.walk(tree)), list(ast.walk(tree))
    assert len(fast) == len(slow)
    assert all(a is b for a, b in zip(fast, slow, strict=True))
    for node in slow[:200]:
        assert nodes.children(node) == list(ast.iter_child_nodes(node))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_names_are_the_name_nodes(path):
    tree = _tree(path)
    expected = sorted(id(n) for n in ast.walk(tree) if isinstance(n, gast.Name))
    assert sorted(id(n) for n in nodes.names(tree)) == expected


@pytest.mark.parametrize("path", SOURCES[:6], ids=lambda p: p.name)
def test_clone_is_a_deep_copy(path):
    tree = _tree(path)
    twin = nodes.clone(tree)
    assert ast.dump(gast.gast_to_ast(twin)) == ast.dump(gast.gast_to_ast(copy.deepcopy(tree)))
    old, new = list(ast.walk(tree)), list(ast.walk(twin))
    assert [n.s2s_line for n in new] == [n.s2s_line for n in old]
    assert not {id(n) for n in old} & {id(n) for n in new}  # nothing shared
    for n in new:
        if isinstance(n, gast.Name):
            n.id = "renamed"
    assert not any(isinstance(n, gast.Name) and n.id == "renamed" for n in old)


STDLIB = [
    Path(m.__file__)
    for m in (ast, copy, inspect, __import__("argparse"), __import__("dataclasses"))
]


@pytest.mark.parametrize("path", SOURCES + STDLIB, ids=lambda p: p.name)
def test_to_ast_unparses_like_gast_to_ast(path):
    for node in gast.parse(path.read_text()).body:
        slow = ast.unparse(ast.fix_missing_locations(gast.gast_to_ast(node)))
        assert ast.unparse(emit.to_ast(node)) == slow


def test_clone_copies_a_shared_node_twice():
    leaf = gast.Name(id="x", ctx=gast.Load(), annotation=None, type_comment=None)
    pair = gast.Tuple(elts=[leaf, leaf], ctx=gast.Load())
    twin = nodes.clone(pair)
    assert twin.elts[0] is not twin.elts[1] and twin.elts[0].id == "x"
    assert nodes.clone([1, "a", None]) == [1, "a", None]


def test_generate_pauses_and_restores_the_collector(tmp_path):
    fn = bench.load_function(bench.synthetic_source(12, "syn12"), "syn12", str(tmp_path))
    assert gc.isenabled()
    generate(fn, 0, "grad")
    assert gc.isenabled()
    with pytest.raises(s2s.S2SError):
        generate(fn, 7, "grad")  # no such parameter
    assert gc.isenabled()
    gc.disable()
    try:
        generate(fn, 0, "grad")
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


@pytest.mark.parametrize("n", [12, 40])
def test_stage_pipeline_makes_the_same_code(tmp_path, n):
    fn = bench.load_function(bench.synthetic_source(n, f"syn{n}"), f"syn{n}", str(tmp_path))
    times, source = bench.stage_times(fn)
    assert set(times) == set(bench.STAGES) and all(t >= 0 for t in times.values())
    assert source == generate(fn, 0, "grad")[0].source


# `_unused_loop_variables`: a reversed loop's variable is `_` only where nothing reads it later.


def loop_var_indexes(x, n):
    s = x[0] * 1.0
    for i in range(n):
        s = np.sin(s) * x[i]
    return s


def loop_var_of_outer_loop(x, n):
    s = x[0] * 1.0
    for k in range(n):
        for i in range(2):  # noqa: B007 - unused on purpose
            s = np.tanh(s * x[k])
    return s


def loop_var_read_by_later_loop(x, n):
    s = x[0] * 1.0
    for i in range(n):
        s = s * x[i]
    for i in range(n):  # noqa: B007 - unused on purpose
        s = np.sin(s)
    return s


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(1, 3))
def test_loop_variables_gradients(seed, n):
    x = np.random.default_rng(seed).standard_normal(4)
    for f in (loop_var_indexes, loop_var_of_outer_loop, loop_var_read_by_later_loop):
        assert_grad_matches(f, x, n)


def test_loop_variable_names():
    assert "for i in reversed(" in s2s.source(loop_var_indexes)
    outer = s2s.source(loop_var_of_outer_loop)
    assert "for k in reversed(" in outer and "for _ in reversed(range(2))" in outer
    # the backward sweep of the first loop, which comes later, reads `i`: both keep it
    assert s2s.source(loop_var_read_by_later_loop).count("for i in reversed(") == 2


def test_sources_are_python_files():
    assert SOURCES and all(inspect.getmodulename(str(p)) for p in SOURCES)
