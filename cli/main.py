"""The `s2s-grad` command: parse options, build each output module, write, check or review."""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import sys
from collections.abc import Sequence

from s2s.errors import S2SError
from s2s.static import Loader

from .module import Built, Target, build

EPILOG = """\
examples:
  s2s-grad examples/mlp.py:loss --wrt params              print the gradient module
  s2s-grad model.py:loss --wrt W,b -o grad_model.py        write it (wrt two parameters)
  s2s-grad model.py:loss model.py:reg -o grad_model.py     several functions, one module
  s2s-grad pkg/a.py:f pkg/b.py:g --out-dir gen             gen/grad_a.py and gen/grad_b.py
  s2s-grad model.py:loss -o grad_model.py --check          exit 1 when grad_model.py is stale
  s2s-grad model.py:loss -o grad_model.py --html review.html   also a page for reviewers
  s2s-grad model.py:loss --no-optimize                     the code before optimization
  s2s-grad model.py:loss --checkpoint-loops sqrt           loops recomputed in segments
  s2s-grad model.py:loss --rules myproject.rules           load @s2s.adjoint rules first

The model file is read, never run: names resolve from its imports and top-level definitions
(library modules such as numpy are imported; files of your project are read as text).
Exit status: 0 success, 1 --check found a stale or missing file, 2 error.
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="s2s-grad",
        description="Write the gradient of Python/NumPy functions as a readable Python module.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "targets",
        nargs="+",
        metavar="FILE.py:FUNCTION",
        help="the function to differentiate, e.g. examples/mlp.py:loss",
    )
    p.add_argument(
        "--wrt",
        default="0",
        metavar="NAMES",
        help="parameters to differentiate with respect to: names or positions, "
        "comma-separated (e.g. --wrt W,b gives a tuple of gradients); default: 0, "
        "the first parameter",
    )
    p.add_argument(
        "--mode",
        choices=["reverse", "forward"],
        default="reverse",
        help="reverse (grad_<fn>, the default) or forward (jvp_<fn>)",
    )
    out = p.add_mutually_exclusive_group()
    out.add_argument(
        "-o",
        "--output",
        metavar="OUT.py",
        help="write the module here (default: print it), e.g. -o grad_model.py",
    )
    out.add_argument(
        "--out-dir",
        metavar="DIR",
        help="write DIR/grad_<file>.py for each model file, e.g. --out-dir gen",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 with a one-line reason when the output file is "
        "missing or differs from what would be written (for CI and pre-commit)",
    )
    p.add_argument(
        "--no-optimize",
        action="store_true",
        help="skip the optimizer (inlining, folding, dead code): the code as the "
        "reverse pass writes it, e.g. to study the transformation",
    )
    p.add_argument(
        "--checkpoint-loops",
        choices=["sqrt"],
        default=None,
        help="run every outermost loop in checkpointed segments of about sqrt(T) steps: "
        "tape memory like sqrt(T) for one more forward run (reverse mode)",
    )
    p.add_argument(
        "--html",
        metavar="REVIEW.html",
        help="also write a self-contained review page: each primal line beside "
        "the adjoint code that reverses it, e.g. --html review.html",
    )
    p.add_argument(
        "--rules",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first so its @s2s.adjoint rules apply (the only user "
        "code s2s-grad ever runs; opt-in), e.g. --rules myproject.rules",
    )
    return p


def _targets(specs: list[str]) -> list[Target]:
    out = []
    for spec in specs:
        path, sep, fn = spec.rpartition(":")
        if not sep or not path or not fn.isidentifier():
            raise S2SError(
                f"{spec!r} is not FILE.py:FUNCTION",
                hint="name the file and the function, e.g. examples/mlp.py:loss",
            )
        out.append(Target(path=path, function=fn))
    return out


def _wrt(text: str) -> object:
    items = [w.strip() for w in text.split(",")]
    if not all(items):
        raise S2SError(f"--wrt {text!r}: empty name", hint="e.g. --wrt W,b or --wrt 0")
    vals: list[object] = [int(w) if w.lstrip("-").isdigit() else w for w in items]
    return tuple(vals) if len(vals) > 1 else vals[0]


def _command(args: argparse.Namespace, targets: list[str], output: str | None) -> str:
    words = ["s2s-grad", *targets]
    if args.wrt != "0":
        words += ["--wrt", args.wrt]
    if args.mode != "reverse":
        words += ["--mode", args.mode]
    if args.no_optimize:
        words.append("--no-optimize")
    if args.checkpoint_loops:
        words += ["--checkpoint-loops", args.checkpoint_loops]
    for r in args.rules:
        words += ["--rules", r]
    if args.out_dir:
        words += ["--out-dir", args.out_dir]
    elif output:
        words += ["-o", output]
    return shlex.join(words)


def _jobs(args: argparse.Namespace) -> list[tuple[str | None, list[Target]]]:
    targets = _targets(args.targets)
    if not args.out_dir:
        return [(args.output, targets)]
    groups: dict[str, list[Target]] = {}
    for t in targets:
        groups.setdefault(t.path, []).append(t)
    jobs = []
    for path, ts in groups.items():
        stem = os.path.splitext(os.path.basename(path))[0]
        jobs.append((os.path.join(args.out_dir, f"grad_{stem}.py"), ts))
    return jobs


def _check(out: str, built: Built, command: str) -> str | None:
    """Why `out` is not up to date, or None."""
    if not os.path.exists(out):
        return f"{out} is missing; run: {command}"
    with open(out, encoding="utf-8") as f:
        old = f.read()
    if old == built.text:
        return None
    for path, digest in sorted(built.files.items()):
        if f"# {path} sha256 {digest}" not in old:
            return f"{out} is stale: {path} changed since it was generated; run: {command}"
    return f"{out} is stale: it differs from what s2s-grad writes now; run: {command}"


def run(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.check and not (args.output or args.out_dir):
        raise S2SError("--check needs the file to check: give -o OUT.py or --out-dir DIR")
    wrt = _wrt(args.wrt)
    for module in args.rules:
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        try:
            importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - report any failure as one line
            raise S2SError(
                f"--rules {module}: cannot import it: {type(exc).__name__}: {exc}"
            ) from None
    loader = Loader()
    status = 0
    html_parts = []
    for out, targets in _jobs(args):
        command = _command(args, args.targets, args.output)
        built = build(
            targets,
            wrt,
            not args.no_optimize,
            command,
            loader,
            mode=args.mode,
            checkpoint_loops=args.checkpoint_loops,
        )
        html_parts.append(built)
        if args.check:
            reason = _check(out, built, command)  # type: ignore[arg-type]
            if reason:
                print(reason, file=sys.stderr)
                status = 1
        elif out:
            d = os.path.dirname(out)
            if d:
                os.makedirs(d, exist_ok=True)
            with open(out, "w", encoding="utf-8", newline="\n") as f:
                f.write(built.text)
        else:
            sys.stdout.write(built.text)
    if args.html:
        from .html import review_page

        with open(args.html, "w", encoding="utf-8", newline="\n") as f:
            f.write(review_page(html_parts))
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: exit 0 (done), 1 (--check: stale or missing), 2 (error)."""
    try:
        return run(argv)
    except S2SError as exc:
        print(f"s2s-grad: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"s2s-grad: {exc.filename or ''}: {exc.strerror}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # argparse: --help (0) and usage errors (2)
        return int(exc.code or 0)
    except Exception as exc:  # a bug in s2s: one line, unless S2S_DEBUG asks for the traceback
        if os.environ.get("S2S_DEBUG"):
            raise
        print(
            f"s2s-grad: internal error: {type(exc).__name__}: {exc} (set S2S_DEBUG=1 for "
            "the traceback, and please report it)",
            file=sys.stderr,
        )
        return 2


__all__ = ["main", "run"]
