"""`textlen.length_bound` is never below the length of the text `ast.unparse` writes."""

import ast
import pathlib

import gast
import pytest

import s2s
from s2s.emit import to_ast
from s2s.textlen import length_bound


def _check(node: object) -> bool:
    bound = length_bound(node)
    if bound is None:
        return False
    text = ast.unparse(to_ast(node))
    assert bound >= len(text), (bound, text)
    return True


@pytest.mark.parametrize(
    "source",
    [
        "1 .real",
        "(-1).real",
        "a[1,]",
        "a[1:2, ::3]",
        "(1,)",
        "f(*a, **k, b=c)",
        "not a or b and c",
        "-a ** -b",
        "a if b else c",
        "[*a, b]",
        "a < b not in c is not d",
        "x[...]",
        "1e309 * -1e309j",
        "((a + b) * (c - d)) // (e % f) << 2",
    ],
)
def test_written_cases(source: str) -> None:
    for node in gast.walk(gast.parse(source, mode="eval")):
        if isinstance(node, (gast.expr, gast.keyword)):
            _check(node)


def test_constants_unparse_writes_otherwise() -> None:
    for value in (float("inf"), float("nan"), -1.5, complex(float("inf"), float("nan")), -2):
        assert _check(gast.Constant(value=value, kind=None))
    assert length_bound(gast.Constant(value="text", kind=None)) is None


def test_every_expression_of_s2s() -> None:
    """Every expression of s2s's own modules: bounded (where known) from above."""
    bounded = 0
    for path in sorted(pathlib.Path(s2s.__file__).parent.glob("*.py")):
        tree = gast.parse(path.read_text())
        for node in gast.walk(tree):
            if isinstance(node, (gast.expr, gast.keyword)) and not isinstance(node, gast.Name):
                bounded += _check(node)
    assert bounded > 10_000
