"""Assemble the written gradient module: header, imports, constants, generated functions."""

from __future__ import annotations

import ast
import builtins
import hashlib
import sys
from dataclasses import dataclass, field
from typing import Any

import gast
from s2s.backends.runtime import HELPERS

from s2s import __version__
from s2s.errors import NameResolutionError, S2SError, UnsupportedSyntaxError
from s2s.functions import is_closure_class
from s2s.nodes import copy_tree
from s2s.parse import closure_vars
from s2s.static import Binding, Loader, StaticModule, static_source
from s2s.transform import generate

from .format import layout


@dataclass
class Target:
    path: str  # as given
    function: str


@dataclass
class Piece:
    """One generated function, and the module whose names it reads."""

    name: str
    text: str
    owner: StaticModule
    #: the objects the generated function reads from its closure (a local function of the
    #: user's function, lifted, or the class of its closures: `s2s/functions.py`)
    objects: dict[str, Any] = field(default_factory=dict)


@dataclass
class Built:
    text: str  # the module source
    files: dict[str, str]  # display path -> sha256 of each user file read
    pieces: list[Piece] = field(default_factory=list)
    targets: list[tuple[Target, Any]] = field(default_factory=list)  # (target, stand-in fn)


def _split_defs(source: str) -> list[tuple[str, str]]:
    lines = source.splitlines()
    out = []
    for node in ast.parse(source).body:
        assert isinstance(node, ast.FunctionDef)
        out.append((node.name, "\n".join(lines[node.lineno - 1 : node.end_lineno]) + "\n"))
    return out


def _free_names(text: str) -> list[str]:
    tree = ast.parse(text)
    bound: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.FunctionDef):
            bound.add(n.name)
            a = n.args
            bound |= {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs}
        elif isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            bound.add(n.id)
    loads = sorted(
        (n for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)),
        key=lambda n: (n.lineno, n.col_offset),
    )
    out: list[str] = []
    for n in loads:
        if n.id not in bound and n.id not in out:
            out.append(n.id)
    return out


def _is_stdlib(statement: str) -> bool:
    mod = statement.split()[1].split(".")[0]
    return mod in getattr(sys, "stdlib_module_names", {"math"})


class Assembler:
    """Collects what the written module must define, refusing two meanings for one name."""

    def __init__(self) -> None:
        self.imports: dict[str, str] = {}  # bound name -> import statement
        self.helpers: set[str] = set()
        self.constants: dict[str, str] = {}  # name -> literal source
        self.primals: dict[str, str] = {}  # user functions the generated code calls as is
        self.generated: dict[str, str] = {}
        self.where: dict[str, str] = {}  # name -> what defines it, for conflict messages

    def _claim(self, name: str, what: str) -> bool:
        """Record that `what` defines `name`; False when it already did."""
        old = self.where.get(name)
        if old is None:
            self.where[name] = what
            return True
        if old == what:
            return False
        raise S2SError(
            f"the written module would bind {name!r} twice: as {old} and as {what}",
            hint="write the targets to separate files (one command each), or rename one of them",
        )

    def add_generated(self, pieces: list[Piece]) -> None:
        new = [p for p in pieces if self._claim(p.name, "generated:" + p.text)]
        for p in new:
            self.generated[p.name] = p.text
        for p in new:
            self._need(_free_names(p.text), p.owner, p.name, p.objects)

    def _need(
        self, names: list[str], owner: StaticModule, user: str, objects: dict | None = None
    ) -> None:
        for n in names:
            if n in self.generated or n in self.where and self.where[n].startswith("generated:"):
                continue
            b = owner.binding(n)
            if b is None:
                obj = (objects or {}).get(n)
                if getattr(obj, "__s2s_lifted__", None) is not None or is_closure_class(obj):
                    self._local(n, obj, owner)
                elif n in HELPERS:
                    if self._claim(n, "the s2s runtime helper"):
                        self.helpers.add(n)
                elif n == "np":
                    if self._claim(n, "import numpy as np"):
                        self.imports[n] = "import numpy as np"
                elif n == "math":
                    if self._claim(n, "import math"):
                        self.imports[n] = "import math"
                elif hasattr(builtins, n) or n == "tape":
                    continue
                else:
                    raise NameResolutionError(
                        f"the code generated for {user} reads {n!r}, "
                        f"which {owner.display} does not define"
                    )
                continue
            self._bind(n, b, owner, user)

    def _local(self, n: str, obj: Any, owner: StaticModule) -> None:
        """Write the local function `obj` of a user's function, lifted (`functions.lift`), or
        the class of its closures, as `n`."""
        fn = obj.__call__ if isinstance(obj, type) else obj
        qual = fn.__qualname__
        if not self._claim(n, f"the local function {qual}"):
            return
        tree = gast.gast_to_ast(copy_tree(fn.__s2s_lifted__.tree))
        for a in ast.walk(tree):
            if isinstance(a, ast.arg):
                a.annotation = None
        body = ast.unparse(tree)
        if isinstance(obj, type):  # `class loss_f_closure(NamedTuple)`, its `__call__` last
            self.imports["NamedTuple"] = "from typing import Any, NamedTuple"
            self.where.setdefault("Any", "from typing import Any, NamedTuple")
            fields = "".join(f"    {f}: Any\n" for f in obj._fields)
            method = "".join(f"    {line}\n" if line else "\n" for line in body.splitlines())
            text = f'class {n}(NamedTuple):\n    """{obj.__doc__}"""\n\n{fields}\n{method}'
        else:
            text = body + "\n"
        self.primals[n] = text
        self._need(_free_names(body), owner, n, closure_vars(fn))

    def _bind(self, n: str, b: Binding, owner: StaticModule, user: str) -> None:
        if n in HELPERS:
            raise UnsupportedSyntaxError(
                f"{owner.display} binds {n!r}, the name of an s2s runtime helper that the "
                "written module imports",
                filename=owner.display,
                hint=f"rename {n!r}",
            )
        if b.kind == "import":
            if self._claim(n, b.statement):
                self.imports[n] = b.statement
        elif b.kind == "literal":
            if self._claim(n, f"the constant {n} = {b.statement}"):
                self.constants[n] = b.statement
        elif b.kind == "function":
            info = static_source(b.value)
            tree = ast.parse(info.source).body[0]
            tree.decorator_list = []
            text = ast.unparse(tree) + "\n"
            if tree.name != n:
                raise UnsupportedSyntaxError(
                    f"the code generated for {user} calls {info.name} (from {info.filename}) "
                    f"under another name, {n!r}",
                    filename=owner.display,
                    hint=f"import it under its own name: `import ... {info.name}`",
                )
            if self._claim(n, f"def {n} from {info.filename}"):
                self.primals[n] = text
                self._need(_free_names(text), info.module, n)
        else:
            raise UnsupportedSyntaxError(
                f"the code generated for {user} reads {n!r}, a module of your project "
                f"({b.value.display}), which the written module cannot import",
                filename=owner.display,
                hint=f"import the names you use from it (`from .{n} import ...`)",
            )

    def render(self, header: list[str]) -> str:
        parts = ["\n".join(header) + "\n"]
        imports = sorted(set(self.imports.values()))
        std = [s for s in imports if _is_stdlib(s)]
        other = [s for s in imports if not _is_stdlib(s)]
        groups = []
        for group in (std, other):
            plain = sorted(s for s in group if s.startswith("import "))
            froms = sorted(s for s in group if s.startswith("from "))
            if plain or froms:
                groups.append("\n".join(plain + froms))
        by_module: dict[str, list[str]] = {}
        for h in sorted(self.helpers):
            mod = getattr(HELPERS[h], "__module__", None) or "s2s.backends.runtime"
            by_module.setdefault(mod, []).append(h)
        if by_module:
            groups.append(
                "\n".join(f"from {m} import {', '.join(hs)}" for m, hs in sorted(by_module.items()))
            )
        if groups:
            parts.append("\n\n".join(groups) + "\n")
        if self.constants:
            parts.append("".join(f"{k} = {v}\n" for k, v in sorted(self.constants.items())))
        text = "\n".join(parts)
        defs = [self.primals[k] for k in sorted(self.primals)] + list(self.generated.values())
        if defs:
            text += "\n\n" + "\n\n".join(defs)
        return layout(text)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build(
    targets: list[Target],
    wrt: Any,
    optimize: bool,
    command: str,
    loader: Loader | None = None,
    mode: str = "reverse",
    checkpoint_loops: str | None = None,
) -> Built:
    """Generate the module for `targets` (all written to one file)."""
    loader = loader or Loader()
    asm = Assembler()
    pieces: list[Piece] = []
    done = []
    summary = []
    for t in targets:
        from s2s.static import load

        fn = load(t.path, t.function, loader)
        gen_mode = "jvp" if mode == "forward" else "grad"
        extra = {"checkpoint_loops": checkpoint_loops} if mode != "forward" else {}
        gen, wrt_names, _ = generate(fn, wrt, gen_mode, do_optimize=optimize, **extra)
        owners = {id(m.globals): m for m in loader.modules.values()}
        made = []
        for name, text in _split_defs(gen.source):
            owner = owners.get(id(gen.functions[name].__globals__))
            if owner is None:  # every function s2s-grad differentiates is read from a file
                raise S2SError(
                    f"{name} was generated from a function that s2s-grad did not read from "
                    "a file, so it cannot write it",
                    hint="register a rule for the function it calls with --rules",
                )
            objects = closure_vars(gen.functions[name])
            made.append(Piece(name=name, text=text, owner=owner, objects=objects))
        asm.add_generated(made)
        pieces += made
        info = static_source(fn)
        what = "tangent (forward mode)" if mode == "forward" else "gradient"
        summary.append(
            f"# {gen.names[0]}: {what} of {t.function} ({info.filename}:"
            f"{info.first_lineno}) with respect to {', '.join(wrt_names)}"
        )
        done.append((t, fn))
    files = {m.display: sha256(m.text) for m in loader.modules.values()}
    header = [
        f"# Generated by s2s {__version__} from the source files below; do not edit.",
        "# Regenerate with:",
    ]
    header += _wrap_command(command)
    header += summary
    header += [f"# {path} sha256 {digest}" for path, digest in sorted(files.items())]
    text = asm.render(header)
    return Built(text=text, files=files, pieces=pieces, targets=done)


def _wrap_command(command: str) -> list[str]:
    """`command` as comment lines under 100 columns, continued shell-style with `\\`."""
    rows: list[str] = []
    cur = ""
    for w in command.split(" "):
        if cur and len("#     " + cur + " " + w + " \\") > 99:
            rows.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    rows.append(cur)
    return [
        ("#   " if i == 0 else "#     ") + r + (" \\" if i < len(rows) - 1 else "")
        for i, r in enumerate(rows)
    ]


__all__ = ["Built", "Target", "build", "sha256"]
