"""Time to generate a gradient (``python -m benchmarks --transform``).

A synthetic function of N statements (``synthetic_source``) is written to a temporary module:
straight-line NumPy arithmetic and ufuncs on arrays, an ``if`` on a data-dependent test and a
``for`` loop every nine statements, a scalar accumulator. For each N the table gives the time of
``s2s.transform.generate`` (parse, normalize, analyze, reverse, optimize, emit, compile: what
the first call of ``s2s.grad(f)`` pays), the best of several repeats, the time per statement,
then the first call of ``s2s.grad(f)(x, w, 3)`` (generation included) and the median of later
calls (the cached gradient's run time only). Targets: <= 20 ms at 100 statements, linear
growth, later calls free of the transformation.

The ``floor`` column is what the tools alone take (``floor_time``): parsing the source with
gast, ``ast.unparse`` of the generated code and compiling it, with no analysis at all; the
generated code has about ten lines per statement of the source (the tape, both sweeps).
"""

from __future__ import annotations

import ast
import functools
import gc
import importlib.util
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SIZES = (25, 50, 100, 200, 400)
QUICK_SIZES = (25, 50)

_UNIT = """\
    b = np.sin(a) * w + x
    c = b * b - 0.5 * a
    a = np.tanh(c + x) / (1.0 + w * w)
    if np.sum(a) > {k}.0:
        a = a + 0.1 * np.cos(b)
    else:
        a = a - 0.1 * np.exp(-c * c)
    for i in range(n):
        a = np.tanh(a * w + b)
        s = s + 0.01 * np.sum(a * b)
"""
_FILLERS = (
    "    a = a * w + np.sin(x)",
    "    b = np.exp(-a * a) + b",
    "    s = s + np.mean(a * x)",
)


def synthetic_source(n: int, name: str = "synthetic") -> str:
    """Source of ``name(x, w, n)`` with ``n`` statements (as ``count_statements`` counts
    them: every statement, compound ones and the ones in their bodies, the ``return`` too)."""
    if n < 4:
        raise ValueError("at least 4 statements")
    lines = [f"def {name}(x, w, n):", "    a = x * w", "    b = x + w", "    s = 0.0"]
    left = n - 4  # the three above and the return
    unit_len = count_statements("def f():\n" + _UNIT.format(k=0))
    k = 0
    while left >= unit_len:
        lines.append(_UNIT.format(k=k % 5 - 2).rstrip("\n"))
        left -= unit_len
        k += 1
    for j in range(left):
        lines.append(_FILLERS[j % len(_FILLERS)])
    lines.append("    return s + np.sum(a * b)")
    return "\n".join(lines) + "\n"


def count_statements(source: str) -> int:
    """Statements inside the (first) function of ``source``."""
    fn = ast.parse(source).body[0]
    return sum(isinstance(node, ast.stmt) for node in ast.walk(fn)) - 1


def load_function(source: str, name: str, directory: str) -> Any:
    """Write ``source`` to ``directory/<name>.py`` and import ``name`` from it."""
    path = Path(directory) / f"{name}.py"
    path.write_text("import numpy as np\n\n\n" + source)
    spec = importlib.util.spec_from_file_location(f"_s2s_bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return getattr(module, name)


def synthetic_args(size: int = 8, n: int = 3, seed: int = 0) -> tuple:
    """Arguments for a synthetic function: x and w of ``size`` floats, ``n`` loop steps."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal(size), 0.5 * rng.standard_normal(size), n


@dataclass
class TransformRow:
    """One line of the transformation-time table."""

    statements: int
    generate_s: float | None = None
    per_statement_s: float | None = None
    first_call_s: float | None = None
    cached_s: float | None = None
    #: seconds per pipeline stage (``stage_times``), best of the repeats
    stages: dict[str, float] | None = None
    #: lines of the generated source, and the floor the tools set (``floor_time``)
    generated_lines: int | None = None
    floor_s: float | None = None
    error: str | None = None


STAGES = ("parse", "normalize", "analyze", "reverse", "optimize", "emit", "compile")


def stage_times(fn: Any, pause_gc: bool = True) -> tuple[dict[str, float], str]:
    """Seconds spent in each stage of ``s2s.grad``'s pipeline for ``fn`` (wrt its first
    parameter), and the generated source, which must equal ``generate``'s.

    The stages are those of ``s2s.transform._generate`` in grad mode, run one by one:
    ``analyze`` is ``Reverse(...)`` (classification, activity, kinds, scalars), ``reverse``
    is ``Reverse.run`` (to-be-recorded analysis, templates, both sweeps) and the assembly of
    the function, ``emit`` is ``renumber`` and ``to_source``. ``pause_gc``: as ``generate``
    does (False to time a version of s2s that did not)."""
    from s2s import emit
    from s2s import transform as T
    from s2s.normalize import normalize
    from s2s.parse import parse_function
    from s2s.reverse import Reverse

    times = dict.fromkeys(STAGES, 0.0)

    def timed(stage: str, f: Any, *args: Any) -> Any:
        start = time.perf_counter()
        out = f(*args)
        times[stage] += time.perf_counter() - start
        return out

    enabled = gc.isenabled()
    if pause_gc:
        gc.disable()
    try:
        core = timed("normalize", normalize, timed("parse", parse_function, fn))
        program = T.Program()
        program.optimize = False  # optimized below, as its own stage
        rev = timed("analyze", lambda: Reverse(core, core.params[:1], program, split=False))
        program.assume(rev)
        timed("reverse", rev.run)
        entry = timed("reverse", T.build_grad, rev, f"grad_{core.name}", False)
        defs, owners = [entry], [fn]
        for key in program.order:
            defs += program.units[key].defs
            owners += [program.units[key].fn] * len(program.units[key].defs)
        for d in defs:
            timed("optimize", T.optimize, d, T.PURE_HELPERS)
        keep = [T._own_temporaries(o) for o in owners]
        timed("emit", emit.renumber, defs, keep)
        texts = timed("emit", lambda: [emit.to_source(d) for d in defs])
        timed("compile", T._compile, defs, texts, owners)
    finally:
        if enabled:
            gc.enable()
    return times, "\n\n".join(texts)


def floor_time(source: str, generated: str, repeats: int = 5) -> float:
    """Seconds that no pipeline built on gast and `ast.unparse` can go below: `gast.parse` of
    the function's source, `ast.unparse` of the generated code's tree, and `compile` of its
    text (each the best of `repeats`; the tree is parsed outside the timing)."""
    import gast

    tree = ast.parse(generated)
    return (
        _best(lambda: gast.parse(source), repeats)
        + _best(lambda: ast.unparse(tree), repeats)
        + _best(lambda: compile(generated, "<s2s floor>", "exec"), repeats)
    )


def _best(fn: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def run_transform(quick: bool, repeats: int | None = None) -> list[TransformRow]:
    """Generate the gradient of each synthetic function, print and return the rows."""
    import s2s
    from s2s.transform import generate

    repeats = repeats or (2 if quick else 3)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in QUICK_SIZES if quick else SIZES:
            name = f"synthetic_{n}"
            source = synthetic_source(n, name)
            row = TransformRow(count_statements(source))
            try:
                fn = load_function(source, name, tmp)
                row.generate_s = _best(lambda fn=fn: generate(fn, 0, "grad"), repeats)
                row.per_statement_s = row.generate_s / row.statements
                for _ in range(repeats):
                    times, generated = stage_times(fn)
                    if row.stages is None or sum(times.values()) < sum(row.stages.values()):
                        row.stages = times
                row.generated_lines = generated.count("\n") + 1
                row.floor_s = floor_time(source, generated)
                args = synthetic_args()
                call = functools.partial(s2s.grad(fn), *args)
                row.first_call_s = _best(call, 1)  # generates and caches
                row.cached_s = statistics.median(_best(call, 1) for _ in range(9))
            except Exception as exc:
                row.error = f"{type(exc).__name__}: {exc}".splitlines()[0]
            rows.append(row)
            print(transform_line(row), flush=True)
    print()
    print(STAGES_HEADER)
    for row in rows:
        print(stages_line(row), flush=True)
    return rows


TRANSFORM_HEADER = (
    f"{'statements':<11} {'generate':<10} {'per stmt':<10} {'1st call':<10} {'later calls':<11} "
    f"{'lines out':<10} {'floor':<9}\n" + "-" * 77
)


STAGES_HEADER = "statements  " + " ".join(f"{s:<9}" for s in STAGES) + "\n" + "-" * 82


def stages_line(row: TransformRow) -> str:
    """One printed line of the per-stage table."""
    cells = [f"{_fmt((row.stages or {}).get(s)):<9}" for s in STAGES]
    return f"{row.statements:<11} " + " ".join(cells)


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds >= 1.0:
        return f"{seconds:.3g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} us"


def transform_line(row: TransformRow) -> str:
    """One printed line of the transformation-time table."""
    cells = [
        f"{row.statements:<11}",
        f"{_fmt(row.generate_s):<10}",
        f"{_fmt(row.per_statement_s):<10}",
        f"{_fmt(row.first_call_s):<10}",
        f"{_fmt(row.cached_s):<11}",
        f"{row.generated_lines if row.generated_lines is not None else '-':<10}",
        f"{_fmt(row.floor_s):<9}",
    ]
    return " ".join(cells) + (f" {row.error}" if row.error else "")
