"""The random programs of tests/fuzz_programs.py, rewritten as methods of a class.

Each program `f(x, s, p, n)` reads its dict parameter as `p['w']` and `p['b']`. Here its body
becomes a method of a class `Params` holding `w` and `b` (`self.w`, `self.b`), and `f` calls
it through an annotated parameter:

    class Params(NamedTuple):          # or a dataclass, or a plain class with an __init__
        w: np.ndarray
        b: float

        def run(self, x, s, n):        # or __call__, called as p(x, s, n)
            ... the body, p['w'] -> self.w ...

    def f(x, s, p: Params, n):
        return p.run(x, s, n)

The checks are fuzz_programs' (`check_program` with a record for `p`): value, reverse mode
against central differences, checkpointed segments, forward mode (the dot-product test),
vjp; the helpers the body calls stay module functions.

    python tests/fuzz_classes.py 0 500
"""

from __future__ import annotations

import ast
import os
import sys
from typing import Any

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fuzz_programs import Builder, RandomChooser, check_program, drive  # noqa: E402

KINDS = ("namedtuple", "dataclass", "plain")

_HEADS = {
    "namedtuple": "class Params(NamedTuple):\n    w: np.ndarray\n    b: float\n",
    "dataclass": "@dataclasses.dataclass\nclass Params:\n    w: np.ndarray\n    b: float\n",
    "plain": (
        "class Params:\n    def __init__(self, w: np.ndarray, b: float):\n"
        "        self.w = w\n        self.b = b\n"
    ),
}


def as_class(source: str, kind: str, call: bool) -> str:
    """`source` with `f`'s body moved into a method of `Params` (`__call__` when `call`)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    f = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "f")
    body = lines[f.body[0].lineno - 1 : f.end_lineno]
    body = [line.replace("p['w']", "self.w").replace("p['b']", "self.b") for line in body]
    method = "__call__" if call else "run"
    head = "\n".join(lines[: f.lineno - 1]).rstrip()
    imports = "import dataclasses\nfrom typing import NamedTuple\n\n"
    cls = (
        _HEADS[kind]
        + f"\n    def {method}(self, x, s, n):\n"
        + "\n".join("    " + line if line else line for line in body)
    )
    target = "p(x, s, n)" if call else "p.run(x, s, n)"
    entry = f"def f(x, s, p: Params, n):\n    return {target}\n"
    return f"{imports}{head}\n\n\n{cls}\n\n\n{entry}"


def make_params(mod: Any, p: dict) -> Any:
    return mod.Params(w=p["w"], b=p["b"])


def program(seed: int) -> tuple[str, Any, RandomChooser]:
    ch = RandomChooser(seed)
    source, wrt = Builder(ch).program()
    kind = KINDS[seed % len(KINDS)]
    return as_class(source, kind, call=seed % 2 == 1), wrt, ch


def main(argv: list[str]) -> int:
    lo, hi = int(argv[0]), int(argv[1])
    counts = {"ok": 0, "skip": 0, "known": 0, "fail": 0}

    def run(seed: int) -> None:
        source, wrt, ch = program(seed)
        counts[check_program(source, wrt, ch, record=make_params)] += 1

    def describe(seed: int) -> tuple[str, str]:
        source, wrt, _ = program(seed)
        return f" wrt={wrt!r}", source

    drive(lo, hi, counts, run, describe)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
