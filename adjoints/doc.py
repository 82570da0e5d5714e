"""Write docs/ops.md, the table of every rule in the registry: `python -m s2s.adjoints.doc`.

`--check` exits 1 when the file differs from what the registry gives (for CI); the test suite
runs the same comparison.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys

import gast

from . import registry

FAMILIES = [
    ("elementwise", "Elementwise: operators, ufuncs, `math`"),
    ("reductions", "Reductions"),
    ("shape", "Shape and assembly"),
    ("indexing", "Indexing and selection"),
    ("products", "Products"),
    ("linalg", "Linear algebra"),
    ("special", "SciPy (optional extra, registered when SciPy is imported)"),
    ("builtins", "Python builtins"),
]


def _code(tpl: registry.Template | None) -> str:
    if tpl is None:
        return "—"
    lines = [ast.unparse(gast.gast_to_ast(s)) for s in tpl.body]
    text = "; ".join(" ".join(line.split()) for line in lines)
    return "`" + text.replace("|", "\\|") + "`"


def library_rules() -> list[registry.Rule]:
    """The rules of the op library itself (not those users register with @s2s.adjoint)."""
    registry.load_lazy(force=True)

    def ours(r: registry.Rule) -> bool:
        tpl = r.adjoint or r.tangent
        return tpl is not None and tpl.fn.__module__.startswith(__package__ or "s2s.adjoints")

    return [r for r in registry.RULES.values() if ours(r)]


def render() -> str:
    """The whole of docs/ops.md."""
    rules = library_rules()
    both = [r for r in rules if r.adjoint is not None and r.tangent is not None]
    out = [
        "# Differentiable operations",
        "",
        "Generated from the registry (`adjoints/`) by `python -m s2s.adjoints.doc`; do not edit.",
        "",
        "In a template `d[x]` is the adjoint of `x` (reverse) or its tangent (forward); the",
        "first parameter is the op's result (`y` or `z`). Helpers such as `unbroadcast` and",
        "`unreduce` are in `backends/runtime.py` and `backends/op_helpers.py`. Factorizations",
        "that return several arrays get `d[y]` as a list with one entry per part.",
        "",
        f"**{len(rules)} operations** have rules ({len(both)} with both a reverse and a forward",
        f"template), of which {sum(r.name.startswith('numpy') for r in rules)} NumPy functions;",
        f"{len(registry.NONDIFF)} operations are non-differentiable.",
        "",
    ]
    known = {f for f, _ in FAMILIES}
    for fam, title in FAMILIES + [("", "Other")]:
        group = sorted(
            (r for r in rules if (r.family == fam if fam else r.family not in known)),
            key=lambda r: r.name,
        )
        if not group:
            continue
        out += [f"## {title}", "", "| op | reverse | forward | notes |", "|---|---|---|---|"]
        for r in group:
            out.append(f"| `{r.name}` | {_code(r.adjoint)} | {_code(r.tangent)} | {r.notes} |")
        out.append("")
    out += ["## Non-differentiable (results carry no gradient)", ""]
    by_reason: dict[str, list[str]] = {}
    seen: set[int] = set()
    for op in registry._KEEP:
        if id(op) in registry.NONDIFF and id(op) not in seen:
            seen.add(id(op))
            by_reason.setdefault(registry.NONDIFF[id(op)], []).append(registry._qualname(op))
    for reason in sorted(by_reason):
        names = ", ".join(f"`{n}`" for n in sorted(set(by_reason[reason])))
        out += [f"- *{reason}*: {names}"]
    out += ["- and every function of `numpy.random` and `random`", ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if docs/ops.md is stale")
    parser.add_argument("-o", "--output", default=os.path.join("docs", "ops.md"))
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        try:
            with open(args.output, encoding="utf-8") as fh:
                current = fh.read()
        except FileNotFoundError:
            current = ""
        if current != text:
            print(f"{args.output} is stale: run python -m s2s.adjoints.doc", file=sys.stderr)
            return 1
        return 0
    with open(args.output, "w", encoding="utf-8") as fh:
        fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
