"""Static name resolution: functions read from a file without running it (for `s2s-grad`).

`load(path, name)` reads `path`, finds the top-level `def name`, and resolves each name the
function reads from the file's own imports and top-level definitions:

* `import numpy as np`, `from math import exp`: library modules are imported (they are not
  the user's code), so the op registry, keyed by op objects, works unchanged;
* `def helper` in the same file, `from .layers import dense`, `from . import layers` and sibling
  modules of the same package: read from their files, statically, in turn;
* a plain Python function of an installed module with no rule (`from mylib.ops import f`):
  read from its file statically too, so its body is differentiated, as the Python API does;
* a function of the user's files that a `--rules` module gave a rule: the live function the
  rule is registered on (matched by file and name), so that the rule applies;
* a module-level literal (`SCALE = 0.5`): its value, which the written module copies;
* anything else (a computed module constant, a class, a name bound twice or not at all) is a
  `NameResolutionError` naming it and the line.

The result is a stand-in: a real Python function object with the primal's name and signature
(whose body only raises), carrying a `StaticSource` as `__s2s_static__`. `parse.parse_function`
reads the source and namespace from it, so the rest of the pipeline treats it like the live
function; nothing of the user's file is imported or executed.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import importlib.util
import inspect
import os
from dataclasses import dataclass, field
from typing import Any

import gast

from .errors import NameResolutionError, S2SError, SourceUnavailableError
from .nodes import walk
from .parse import MISSING, Namespace, SourceInfo


@dataclass(frozen=True)
class Binding:
    """How a module-level name of a user file is bound, and what the written module needs."""

    kind: str  # "import", "function", "literal", "module"
    value: Any
    statement: str = ""  # the import statement that binds it, for the written module
    owner: Any = None  # the StaticModule it is bound in


@dataclass
class StaticSource:
    """A function read from a file: what `parse_function` needs instead of `inspect`."""

    name: str
    source: str  # the `def` (with its decorators), dedented
    filename: str  # the path as shown to the user
    first_lineno: int
    namespace: Namespace
    module: StaticModule
    free: dict[str, Binding] = field(default_factory=dict)  # the names it reads


@dataclass
class StaticNamespace(Namespace):
    """The namespace of a function read from a file: what a call resolves to is checked.

    A function of an installed module (`from mylib.ops import floor_ste`) that has no rule is
    read from its file statically, like a sibling module's, so that the gradient written is the
    one of its body; a function of the user's files that a `--rules` module gave a rule is
    replaced by the object the rule is registered on."""

    source: StaticSource | None = None

    def resolve(self, node: Any) -> Any:
        obj = super().resolve(node)
        if obj is MISSING or self.source is None:
            return obj
        return self.source.module.loader.callee(obj, self.source, node)


def _stub_def(tree: ast.FunctionDef, where: str) -> ast.FunctionDef:
    """A copy of `tree`'s signature with a body that only raises: never the user's code."""
    args = ast.arguments(
        posonlyargs=[ast.arg(arg=a.arg) for a in tree.args.posonlyargs],
        args=[ast.arg(arg=a.arg) for a in tree.args.args],
        vararg=ast.arg(arg=tree.args.vararg.arg) if tree.args.vararg else None,
        kwonlyargs=[ast.arg(arg=a.arg) for a in tree.args.kwonlyargs],
        kw_defaults=[
            None if d is None else ast.Constant(value=None) for d in tree.args.kw_defaults
        ],
        kwarg=ast.arg(arg=tree.args.kwarg.arg) if tree.args.kwarg else None,
        defaults=[ast.Constant(value=None) for _ in tree.args.defaults],
    )
    msg = f"{tree.name} ({where}) was read statically by s2s; it cannot be called"
    body = [
        ast.Raise(
            exc=ast.Call(
                func=ast.Name(id="RuntimeError", ctx=ast.Load()),
                args=[ast.Constant(value=msg)],
                keywords=[],
            ),
            cause=None,
        )
    ]
    fn = ast.FunctionDef(
        name=tree.name, args=args, body=body, decorator_list=[], returns=None, type_comment=None
    )
    if hasattr(ast.FunctionDef, "type_params"):
        fn.type_params = []  # type: ignore[attr-defined]
    return fn


def _module_name(path: str) -> str:
    stem = os.path.splitext(os.path.basename(path))[0]
    # not "numpy..." / "s2s..." / "scipy...": analyze treats those prefixes as library code
    return f"user_file.{stem}"


class StaticModule:
    """One user file, parsed and never run. Attribute access resolves its top-level names."""

    def __init__(
        self,
        loader: Loader,
        path: str,
        display: str,
        package: str | None,
        library: str | None = None,
    ) -> None:
        self._loader = loader
        self._library = library  # an installed module's dotted name: not the user's code
        self._path = path  # absolute
        self._display = display  # as shown to the user
        self._package = package  # the package directory it belongs to, or None
        try:
            with open(path, encoding="utf-8") as f:
                self._text = f.read()
        except OSError as exc:
            raise SourceUnavailableError(
                f"cannot read {display}: {exc.strerror}", filename=display
            ) from None
        try:
            self._tree = ast.parse(self._text, filename=display)
        except SyntaxError as exc:
            raise SourceUnavailableError(
                f"syntax error: {exc.msg}",
                filename=display,
                lineno=exc.lineno,
                col=(exc.offset - 1) if exc.offset else None,
                source_line=exc.text or "",
                hint="fix the syntax error; s2s-grad reads the file without running it",
            ) from None
        self._lines = self._text.splitlines()
        self.globals: dict[str, Any] = {"__name__": _module_name(path), "__builtins__": builtins}
        self._defs: dict[str, list[tuple[ast.stmt, ast.AST | None]]] = {}
        self._star: list[ast.ImportFrom] = []
        self._resolved: dict[str, Binding] = {}
        self._functions: dict[str, Any] = {}
        self._collect(self._tree.body)

    # -- what the file binds at module level ----------------------------------------------------
    def _collect(self, stmts: list) -> None:
        for s in stmts:
            if isinstance(s, (ast.Import, ast.ImportFrom)):
                for alias in s.names:
                    if alias.name == "*":
                        self._star.append(s)  # type: ignore[arg-type]
                        continue
                    bound = alias.asname or alias.name.split(".")[0]
                    self._defs.setdefault(bound, []).append((s, alias))
            elif isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self._defs.setdefault(s.name, []).append((s, None))
            elif isinstance(s, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = s.targets if isinstance(s, ast.Assign) else [s.target]
                for t in targets:
                    for n in ast.walk(t):
                        if isinstance(n, ast.Name):
                            self._defs.setdefault(n.id, []).append((s, n))
            elif isinstance(s, (ast.For, ast.With, ast.AsyncFor, ast.While)):
                if isinstance(s, (ast.For, ast.AsyncFor)):
                    for n in ast.walk(s.target):
                        if isinstance(n, ast.Name):
                            self._defs.setdefault(n.id, []).append((s, n))
                self._collect(s.body)
                self._collect(getattr(s, "orelse", []))
            elif isinstance(s, ast.If):
                if _is_main_guard(s.test):
                    continue  # runs only as a script: never part of what s2s-grad reads
                self._collect(s.body)
                self._collect(s.orelse)
            elif isinstance(s, ast.Try) or type(s).__name__ == "TryStar":
                self._collect(s.body)
                for h in s.handlers:
                    self._collect(h.body)
                self._collect(s.orelse)
                self._collect(s.finalbody)

    def error(
        self, lineno: int | None, message: str, hint: str | None = None, col: int | None = None
    ) -> NameResolutionError:
        line = self._lines[lineno - 1] if lineno and 0 < lineno <= len(self._lines) else ""
        return NameResolutionError(
            message, filename=self._display, lineno=lineno, col=col, source_line=line, hint=hint
        )

    @property
    def display(self) -> str:
        return self._display

    @property
    def loader(self) -> Loader:
        return self._loader

    @property
    def library(self) -> str | None:
        return self._library

    @property
    def path(self) -> str:
        return self._path

    @property
    def text(self) -> str:
        return self._text

    # -- resolution ---------------------------------------------------------------------------
    def binding(self, name: str) -> Binding | None:
        """How `name` is bound here, or None when it is not (a builtin, or undefined).

        Raises NameResolutionError when it is bound in a way that cannot be read statically."""
        if name in self._resolved:
            return self._resolved[name]
        defs = self._defs.get(name)
        if not defs:
            if self._star:
                s = self._star[0]
                raise self.error(
                    s.lineno,
                    f"cannot tell whether {name!r} comes from `from {s.module} import *`",
                    "import the names you use explicitly",
                )
            return None
        if len(defs) > 1:
            lines = ", ".join(str(s.lineno) for s, _ in defs)
            raise self.error(
                defs[-1][0].lineno,
                f"{name!r} is bound more than once at module level (lines {lines})",
                "s2s-grad reads the file without running it: bind each name it uses once",
            )
        stmt, node = defs[0]
        b = self._bind(name, stmt, node)
        self._resolved[name] = b
        return b

    def _bind(self, name: str, stmt: ast.stmt, node: Any) -> Binding:
        if isinstance(stmt, ast.FunctionDef):
            return Binding("function", self.function(name), owner=self)
        if isinstance(stmt, (ast.AsyncFunctionDef, ast.ClassDef)):
            if isinstance(stmt, ast.ClassDef):
                raise self.error(
                    stmt.lineno,
                    f"{name!r} is a class, and s2s-grad does not read classes yet",
                    "write plain functions of arrays for s2s-grad, or use the Python API "
                    "(s2s.grad, s2s.source), which differentiates the methods of your classes",
                )
            raise self.error(
                stmt.lineno,
                f"{name!r} is an async function, which s2s-grad cannot differentiate through",
                "call plain functions and pass arrays",
            )
        if isinstance(stmt, ast.Import):
            return self._bind_import(name, stmt, node)
        if isinstance(stmt, ast.ImportFrom):
            return self._bind_from(name, stmt, node)
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
        ):
            try:
                value = ast.literal_eval(stmt.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                pass
            else:
                return Binding("literal", value, statement=ast.unparse(stmt.value), owner=self)
        raise self.error(
            stmt.lineno,
            f"module-level name {name!r} is not a literal constant",
            "s2s-grad does not run your file, so it can only copy literal "
            "constants (numbers, strings, tuples); pass this value as an argument",
        )

    def _bind_import(self, name: str, stmt: ast.Import, alias: ast.alias) -> Binding:
        target = alias.name if alias.asname else alias.name.split(".")[0]
        local = self._loader.find_local(self, alias.name, 0)
        if local is not None:
            mod = local if alias.asname else self._loader.find_local(self, target, 0)
            return Binding("module", mod, owner=self)
        self._loader.check_library(self, alias.name, stmt)
        try:
            importlib.import_module(alias.name)
            value = importlib.import_module(target)
        except Exception as exc:  # noqa: BLE001 - any failure to import a library
            raise self.error(stmt.lineno, f"cannot import {alias.name!r}: {exc}") from None
        text = f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
        return Binding("import", value, statement=text, owner=self)

    def _bind_from(self, name: str, stmt: ast.ImportFrom, alias: ast.alias) -> Binding:
        modname = stmt.module or ""
        if stmt.level and not modname:  # from . import layers
            sub = self._loader.find_local(self, alias.name, stmt.level)
            if sub is not None:
                return Binding("module", sub, owner=self)
        local = self._loader.find_local(self, modname, stmt.level)
        if local is None and stmt.level:
            raise self.error(
                stmt.lineno,
                f"cannot find the module {'.' * stmt.level + modname!r} next to {self._display}",
            )
        if local is not None:
            sub = self._loader.find_local(local, alias.name, 1) if local.is_package() else None
            if sub is not None and alias.name not in local._defs:
                return Binding("module", sub, owner=self)
            b = local.binding(alias.name)
            if b is None:
                raise self.error(stmt.lineno, f"{local.display} defines no {alias.name!r}")
            return b
        if modname == "__future__":
            raise self.error(stmt.lineno, f"{name!r} is a __future__ feature, not a value")
        self._loader.check_library(self, modname, stmt)
        try:
            mod = importlib.import_module(modname)
            value = getattr(mod, alias.name, None)
            if value is None:
                value = importlib.import_module(f"{modname}.{alias.name}")
        except Exception as exc:  # noqa: BLE001
            raise self.error(
                stmt.lineno, f"cannot import {alias.name!r} from {modname!r}: {exc}"
            ) from None
        text = f"from {modname} import {alias.name}" + (
            f" as {alias.asname}" if alias.asname else ""
        )
        return Binding("import", value, statement=text, owner=self)

    def is_package(self) -> bool:
        return os.path.basename(self._path) == "__init__.py"

    @property
    def directory(self) -> str:
        return os.path.dirname(self._path)

    @property
    def package_dir(self) -> str | None:
        return self._package

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        b = self.binding(attr)
        if b is None:
            raise AttributeError(attr)
        return b.value

    def __repr__(self) -> str:
        return f"<file {self._display}, read statically>"

    # -- functions ------------------------------------------------------------------------------
    def function(self, name: str) -> Any:
        """The stand-in function object for the top-level `def name`."""
        if name in self._functions:
            return self._functions[name]
        defs = [s for s, _ in self._defs.get(name, [])]
        if not defs:
            raise SourceUnavailableError(
                f"{self._display} defines no function {name!r}",
                filename=self._display,
                hint=f"functions defined there: {', '.join(self.function_names()) or 'none'}",
            )
        stmt = defs[0]
        if not isinstance(stmt, ast.FunctionDef) or len(defs) > 1:
            self.binding(name)  # raises the right error
            raise self.error(stmt.lineno, f"{name!r} is not a function")
        first = min([stmt.lineno] + [d.lineno for d in stmt.decorator_list])
        source = "\n".join(self._lines[first - 1 : stmt.end_lineno]) + "\n"
        stub_tree = ast.Module(body=[_stub_def(stmt, f"{self._display}:{first}")], type_ignores=[])
        code = compile(ast.fix_missing_locations(stub_tree), f"<s2s static {name}>", "exec")
        scope: dict[str, Any] = {}
        exec(code, self.globals, scope)  # noqa: S102 - the stub above, not the user's code
        stub = scope[name]
        info = StaticSource(
            name=name,
            source=source,
            filename=self._display,
            first_lineno=first,
            namespace=StaticNamespace(globals=self.globals),
            module=self,
        )
        info.namespace.source = info  # type: ignore[attr-defined]
        stub.__s2s_static__ = info
        self._functions[name] = stub
        self._resolve_free(info, stmt)
        return stub

    def function_names(self) -> list[str]:
        return [
            n for n, d in self._defs.items() if len(d) == 1 and isinstance(d[0][0], ast.FunctionDef)
        ]

    def _resolve_free(self, info: StaticSource, stmt: ast.FunctionDef) -> None:
        tree = gast.parse(info.source).body[0]
        from .normalize import local_names

        locs = local_names(tree) | {
            n.id
            for n in walk(tree)
            if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Param, gast.Store))
        }
        locs |= {n.name for n in walk(tree) if isinstance(n, gast.FunctionDef)}  # local defs
        sinfo = SourceInfo(
            filename=info.filename, first_lineno=info.first_lineno, lines=info.source.splitlines()
        )
        seen: set[str] = set()
        for n in _ordered_loads(tree):
            if n.id in locs or n.id in seen:
                continue
            seen.add(n.id)
            try:
                b = self.binding(n.id)
            except NameResolutionError as exc:
                raise sinfo.error(
                    NameResolutionError,
                    n,
                    f"cannot resolve {n.id!r} statically: {exc.message} "
                    f"({exc.filename}:{exc.lineno})",
                    exc.hint,
                ) from None
            if b is None:
                if hasattr(builtins, n.id):
                    continue
                raise sinfo.error(
                    NameResolutionError,
                    n,
                    f"name {n.id!r} is not defined in {self._display}",
                    "s2s-grad resolves names from the file's imports and top-level "
                    "definitions: import or define it there, or pass it as an argument",
                )
            self.globals[n.id] = b.value
            info.free[n.id] = b


def _ordered_loads(tree: Any) -> list[Any]:
    out = [
        n
        for n in walk(tree)
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and hasattr(n, "lineno")
    ]
    return sorted(out, key=lambda n: (n.lineno, n.col_offset))


def _is_main_guard(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


class Loader:
    """Reads user files statically, each once; finds sibling modules relative to the file."""

    def __init__(self) -> None:
        self.modules: dict[str, StaticModule] = {}

    def module(
        self, path: str, display: str | None = None, library: str | None = None
    ) -> StaticModule:
        key = os.path.realpath(path)
        if key not in self.modules:
            directory = os.path.dirname(key)
            package = directory if os.path.exists(os.path.join(directory, "__init__.py")) else None
            self.modules[key] = StaticModule(self, key, display or path, package, library)
        return self.modules[key]

    # -- what a call in a file read statically resolves to --------------------------------------
    def callee(self, obj: Any, where: StaticSource, node: Any) -> Any:
        """`obj` as the transformation should see it, for a call in `where` at `node`.

        * a stand-in of the user's files that a `--rules` module gave a rule (the rule is
          registered on the live function, which that module imported): the live function, so
          that the rule applies;
        * a Python function of an installed module, with no rule: the stand-in read from its
          file, so that its body is differentiated statically (and written out);
        * anything else: unchanged."""
        from s2s.adjoints import registry

        from .analyze import is_user_function

        info = static_source(obj)
        if info is not None:
            ruled = _ruled_function(info)
            return obj if ruled is None else ruled
        if getattr(obj, "__s2s_lifted__", None) is not None:
            return obj  # a local function of a function read here (`functions.lift`)
        if not is_user_function(obj) or registry.is_nondiff(obj):
            return obj
        rule = registry.lookup(obj)
        if rule is not None and (rule.adjoint is not None or rule.tangent is not None):
            return obj
        return self.library_function(inspect.unwrap(obj), where, node)

    def library_function(self, fn: Any, where: StaticSource, node: Any) -> Any:
        """The stand-in for `fn`, a function of an installed module, read from its file."""
        mod = getattr(fn, "__module__", None) or ""
        qual = getattr(fn, "__qualname__", fn.__name__)
        sinfo = SourceInfo(
            filename=where.filename,
            first_lineno=where.first_lineno,
            lines=where.source.splitlines(),
        )
        path = fn.__code__.co_filename
        why = None
        if qual != fn.__name__:
            why = "it is not a top-level function of its module"
        elif not mod or not path.endswith(".py") or not os.path.isfile(path):
            why = "its source file cannot be found"
        if why is None:
            top = os.path.basename(path) == "__init__.py"
            display = mod.replace(".", "/") + ("/__init__.py" if top else ".py")
            try:
                stub = self.module(path, display, library=mod).function(fn.__name__)
            except S2SError as exc:
                where_ = f" ({exc.filename}:{exc.lineno})" if exc.filename else ""
                why = f"{exc.message}{where_}"
            else:
                return stub
        raise sinfo.error(
            NameResolutionError,
            _located(node, where.source),
            f"cannot differentiate {mod}.{qual}, a function of an installed module with no "
            f"derivative rule: s2s-grad reads its body statically, and {why}",
            "register a rule for it with @s2s.adjoint in a module loaded with --rules, or "
            "wrap the call in s2s.stop_gradient if no gradient should flow through it",
        )

    def _display(self, origin: StaticModule, path: str) -> str:
        rel = os.path.relpath(path, origin.directory)
        return os.path.normpath(os.path.join(os.path.dirname(origin.display), rel)).replace(
            os.sep, "/"
        )

    def _file_for(self, base: str, dotted: str) -> str | None:
        parts = [p for p in dotted.split(".") if p]
        path = os.path.join(base, *parts) if parts else base
        if parts and os.path.isfile(path + ".py"):
            return path + ".py"
        if os.path.isfile(os.path.join(path, "__init__.py")):
            return os.path.join(path, "__init__.py")
        return None

    def _root(self, origin: StaticModule) -> str:
        """The directory holding the top-level package `origin` belongs to (or its own)."""
        d = origin.directory
        while os.path.exists(os.path.join(d, "__init__.py")):
            parent = os.path.dirname(d)
            if parent == d:
                break
            d = parent
        return d

    def find_local(self, origin: StaticModule, dotted: str, level: int) -> StaticModule | None:
        """The user module `dotted` (relative with `level` dots) as seen from `origin`."""
        if origin.library is not None:  # an installed module: only its own package is read
            return self._find_in_library(origin, dotted, level)
        if level:
            base = origin.directory
            for _ in range(level - 1):
                base = os.path.dirname(base)
            path = self._file_for(base, dotted)
        else:
            path = self._file_for(origin.directory, dotted) or self._file_for(
                self._root(origin), dotted
            )
        if path is None:
            return None
        return self.module(path, self._display(origin, path))

    def _find_in_library(
        self, origin: StaticModule, dotted: str, level: int
    ) -> StaticModule | None:
        name = origin.library or ""
        package = name if origin.is_package() else name.rpartition(".")[0]
        if level:
            parts = package.split(".") if package else []
            if level - 1 > len(parts):
                return None
            base_name = ".".join(parts[: len(parts) - (level - 1)])
            full = ".".join(p for p in (base_name, dotted) if p)
        else:
            full = dotted
        top = name.split(".")[0]
        if not full or full.split(".")[0] != top:
            return None  # another installed module: imported, not read
        root = origin.directory  # the directory holding the top-level package
        for _ in range(name.count(".") + (1 if origin.is_package() else 0)):
            root = os.path.dirname(root)
        path = self._file_for(root, full)
        if path is None:
            return None
        rel = os.path.relpath(path, root).replace(os.sep, "/")
        return self.module(path, rel, library=full)

    def check_library(self, origin: StaticModule, dotted: str, stmt: ast.stmt) -> None:
        """Refuse to import a module that lives in the user's project (that would run it)."""
        top = dotted.split(".")[0]
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            raise origin.error(
                stmt.lineno,
                f"cannot find the module {dotted!r}",
                "install it, or put the file next to the model file",
            )
        if origin.library is not None:
            return  # imported by an installed module: a library too
        root = os.path.realpath(self._root(origin))
        for loc in [spec.origin or ""] + list(spec.submodule_search_locations or []):
            real = os.path.realpath(loc) if loc else ""
            installed = any(p in ("site-packages", "dist-packages") for p in real.split(os.sep))
            if real.startswith(root + os.sep) and not installed:
                raise origin.error(
                    stmt.lineno,
                    f"{dotted!r} is part of your project, not a "
                    "library: s2s-grad would have to run it to import it",
                    "import it relative to the file (`from . import ...`)",
                )


def _located(node: Any, source: str) -> Any:
    """`node`, or the first node of `source` that reads the same name (a normalized tree's
    nodes may have lost their positions)."""
    if getattr(node, "lineno", None) is not None:
        return node
    try:
        text = ast.unparse(gast.gast_to_ast(node))
    except Exception:  # noqa: BLE001 - no position is better than no error
        return node
    for n in ast.walk(ast.parse(source)):
        if isinstance(n, (ast.Name, ast.Attribute)) and ast.unparse(n) == text:
            return n
    return node


def _ruled_function(info: StaticSource) -> Any:
    """The live function a custom rule is registered on that is `info`'s function (the same
    file and name), or None."""
    from s2s.adjoints import registry

    if info.module.library is not None:
        return None
    for rule in list(registry.RULES.values()):
        op = rule.op
        if rule.family != "custom" or not inspect.isfunction(op):
            continue
        if op.__qualname__ != info.name:
            continue
        try:
            same = os.path.samefile(op.__code__.co_filename, info.module.path)
        except OSError:
            same = False
        if same:
            return op
    return None


def load(path: str, name: str, loader: Loader | None = None) -> Any:
    """The stand-in function for `def name` in the file at `path` (shown as given)."""
    loader = loader or Loader()
    return loader.module(path, path).function(name)


def static_source(fn: Any) -> StaticSource | None:
    return getattr(fn, "__s2s_static__", None)


__all__ = ["Binding", "Loader", "StaticModule", "StaticSource", "load", "static_source"]
