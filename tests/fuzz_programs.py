"""Random valid s2s-subset programs, as source text, and the checks run on each.

`Builder(chooser).program()` writes a module: a few helper functions (one recursive with a depth
bound) and `f(x, s, p, n)` with `x` a float array of shape (3,), `s` a float, `p` a dict
`{"w": array (3,), "b": float}` and `n` an int in 1..3 (loop bounds only). The body mixes
straight-line arithmetic over scalars and arrays, nested if/elif/else on data, `for` loops over
ranges and over arrays, `while` loops with a counter, `break`/`continue`, early returns,
subscript reads and writes of local arrays, lists appended then `np.stack`ed, reads of the dict
parameter, and calls into the helpers. Ops are smooth and bounded (tanh, sin, exp of a tanh...),
and every value reassigned inside a loop passes through a bounded op, so nothing overflows.

The chooser is anything with `int(lo, hi)`, `pick(seq)`, `real(lo, hi)`: hypothesis draws in
tests/test_fuzz.py (so failures shrink to a minimal program), `random.Random` in the command-line
driver below, which runs many seeds and keeps going past failures:

    python tests/fuzz_programs.py 0 10000        # seeds 0..9999, prints a summary

`check_program(source, chooser)` imports the module from a temporary file (so
`inspect.getsource` works) and runs the checks; it returns "ok", or "skip" where finite
differences are unstable (a branch tie or a kink within the step), and raises AssertionError on a
wrong gradient.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import os
import random
import sys
import tempfile
from typing import Any

import numpy as np

if __name__ == "__main__":  # run as a script: the s2s of this checkout (a worktree's too)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import s2s  # noqa: E402

# ---------------------------------------------------------------------------------------------
# Choosers.


class RandomChooser:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def int(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def pick(self, seq: Any) -> Any:
        return seq[self.rng.randrange(len(seq))]

    def real(self, lo: float, hi: float) -> float:
        return self.rng.uniform(lo, hi)


class DrawChooser:
    """Hypothesis-backed chooser: `DrawChooser(data.draw)`."""

    def __init__(self, draw: Any) -> None:
        from hypothesis import strategies as st

        self.draw, self.st = draw, st

    def int(self, lo: int, hi: int) -> int:
        return self.draw(self.st.integers(lo, hi))

    def pick(self, seq: Any) -> Any:
        return self.draw(self.st.sampled_from(list(seq)))

    def real(self, lo: float, hi: float) -> float:
        return self.draw(self.st.floats(lo, hi, allow_nan=False, allow_infinity=False))


# ---------------------------------------------------------------------------------------------
# Programs.

UNARY = [
    "np.tanh({})",
    "np.sin({})",
    "np.cos({})",
    "np.arctan({})",
    "np.exp(np.tanh({}))",
    "np.log1p({0} * {0})",
    "np.sqrt(1.0 + {0} * {0})",
    "({0} * {0})",
    "np.square({})",
    "(-{})",
    "(1.0 / (1.0 + np.exp(-{})))",
]
BOUNDED = ["np.tanh({})", "np.sin({})", "np.cos({})", "np.arctan({})", "(0.5 * np.tanh({}))"]
BINARY = [
    "({} + {})",
    "({} - {})",
    "({} * {})",
    "({} / (1.5 + np.tanh({})))",
    "np.maximum({}, {})",
    "np.hypot({}, 1.0 + 0.0 * {})",
]
CONSTS = ["0.5", "1.5", "-0.75", "2.0", "0.25"]


class Env:
    def __init__(self, scalars: list[str], arrays: list[str], owned: set[str]) -> None:
        self.scalars, self.arrays, self.owned = scalars, arrays, owned
        self.index: list[str] = []  # loop indices known to be in 0..2
        # arrays an enclosing `for e in a:` iterates: `a += ...` there would change the rows the
        # loop reads next (s2s refuses it: tests/test_fuzz_regressions.py, seed 7500590)
        self.iterated: set[str] = set()

    def copy(self) -> Env:
        e = Env(list(self.scalars), list(self.arrays), set(self.owned))
        e.index = list(self.index)
        e.iterated = set(self.iterated)
        return e


class Builder:
    def __init__(self, ch: Any, max_stmts: int = 6, max_depth: int = 2, calls: bool = True) -> None:
        self.ch, self.max_stmts, self.max_depth, self.calls = ch, max_stmts, max_depth, calls
        self.bounds = ["3", "n", "2", "1"] if calls else ["3", "2", "1"]
        self.counter = 0
        self.helpers: list[tuple[str, str, str]] = []  # (name, kind of 2nd arg, result kind)
        self.uses_rec = False
        self.result = "s"  # what an early `return` returns: "a" in an array helper

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}{self.counter}"

    # --- expressions ------------------------------------------------------------------------
    def scalar(self, env: Env, depth: int = 2) -> str:
        ch = self.ch
        k = ch.int(0, 9) if depth > 0 else ch.int(0, 4)
        if k == 0 or (k == 1 and not env.arrays):
            return ch.pick(env.scalars) if env.scalars else ch.pick(CONSTS)
        if k == 1:
            a = ch.pick(env.arrays)
            idx = ch.pick(env.index + ["0", "1", "2", "-1"])
            return f"{a}[{idx}]"
        if k == 2 and env.arrays:
            return f"{ch.pick(['np.sum', 'np.mean'])}({ch.pick(env.arrays)})"
        if k == 3 and env.arrays:
            return f"np.dot({ch.pick(env.arrays)}, {ch.pick(env.arrays)})"
        if k == 4:
            return ch.pick(CONSTS) if ch.int(0, 3) == 0 else ch.pick(env.scalars or CONSTS)
        if k in (5, 6):
            return ch.pick(UNARY).format(self.scalar(env, depth - 1))
        if k == 7 and env.arrays and depth > 1:
            return f"np.sum({self.array(env, depth - 1)})"
        return ch.pick(BINARY).format(self.scalar(env, depth - 1), self.scalar(env, depth - 1))

    def array(self, env: Env, depth: int = 2) -> str:
        ch = self.ch
        if not env.arrays:
            return f"({self.scalar(env, depth)} * np.ones(3))"
        k = ch.int(0, 7) if depth > 0 else 0
        if k == 0:
            return ch.pick(env.arrays)
        if k == 1:
            return f"({self.scalar(env, depth - 1)} * {self.array(env, depth - 1)})"
        if k == 2:
            return f"{ch.pick(env.arrays)}[::-1]"
        if k in (3, 4):
            return ch.pick(UNARY).format(self.array(env, depth - 1))
        if k == 5:
            return f"np.cumsum({self.array(env, depth - 1)}) * 0.5"
        return ch.pick(BINARY).format(self.array(env, depth - 1), self.array(env, depth - 1))

    def bounded(self, expr: str) -> str:
        return self.ch.pick(BOUNDED).format(expr)

    def cond(self, env: Env) -> str:
        op = self.ch.pick([">", "<", ">=", "<="])
        return f"{self.scalar(env, 1)} {op} {self.ch.pick(CONSTS)}"

    # --- statements -------------------------------------------------------------------------
    def block(
        self, env: Env, indent: int, depth: int, loop: bool, fn_ret: bool, count: int | None = None
    ) -> list[str]:
        n = count if count is not None else self.ch.int(1, max(1, self.max_stmts - 2 * depth))
        out: list[str] = []
        for _ in range(n):
            lines = self.stmt(env, indent, depth, loop, fn_ret)
            out += lines
            if lines[-1].strip().split(" ")[0] in ("break", "continue", "return"):
                break  # nothing unreachable (tested in tests/test_fuzz_regressions.py)
        return out

    def stmt(self, env: Env, ind: int, depth: int, loop: bool, fn_ret: bool) -> list[str]:
        ch, pad = self.ch, "    " * ind
        kinds = ["new_s", "new_a", "re_s", "re_a", "aug", "setitem", "likelihood"]
        kinds += ["call"] * self.calls
        if depth < self.max_depth:
            kinds += ["if", "for_range", "for_array", "while", "list", "checkpoint"]
        if loop:
            kinds += ["break", "continue"]
        if fn_ret and depth > 0:
            kinds += ["return"]
        kind = ch.pick(kinds)

        def wrap(e: str) -> str:
            return self.bounded(e) if loop else e

        if kind == "new_s" or (kind == "re_s" and not env.scalars):
            v = self.fresh("v")
            line = f"{pad}{v} = {wrap(self.scalar(env))}"
            env.scalars.append(v)
            return [line]
        if kind == "new_a" or (kind in ("re_a", "setitem") and not env.owned):
            v = self.fresh("a")
            e = self.array(env)
            if e in env.arrays or e.endswith("[::-1]"):  # a name or a view would alias
                e = f"1.5 * {e}"  # not `* 1.0`: folded away (tests/test_fuzz_regressions.py)
            line = f"{pad}{v} = {wrap(e)}"
            env.arrays.append(v)
            env.owned.add(v)
            return [line]
        if kind == "likelihood":  # a sigmoid and its log-likelihood (s2s/idioms.py)
            p, v = self.fresh("p"), self.fresh("v")
            a = ch.pick(
                ["0.25", "0.75"]
                + [f"(0.5 + 0.25 * np.tanh({s}))" for s in env.scalars]
                + [s for s in env.scalars if "[" not in s]
            )
            form = ch.pick(
                [
                    "{a} * np.log({p}) + (1.0 - {a}) * np.log(1.0 - {p})",
                    "-{a} * np.log({p}) - (1.0 - {a}) * np.log(1.0 - {p})",
                    "np.log1p(-{p}) * (1.0 - {a}) + np.log({p}) * {a}",
                    "{a} * np.log({p}) - 0.5 * np.log(1.0 - {p})",
                ]
            )
            lines = [
                f"{pad}{p} = 1.0 / (1.0 + np.exp(-(2.0 * np.tanh({self.array(env)}))))",
                f"{pad}{v} = {wrap('np.sum(' + form.format(a=a, p=p) + ')')}",
            ]
            env.arrays.append(p)
            env.scalars.append(v)
            return lines
        if kind == "re_s":
            v = ch.pick(env.scalars)
            if "[" in v:  # p['b']: never written (the caller's dict)
                return self.stmt(env, ind, depth, loop, fn_ret)
            return [f"{pad}{v} = {wrap(self.scalar(env))}"]
        if kind == "re_a":
            v = ch.pick(sorted(env.owned))
            return [f"{pad}{v} = 1.5 * {wrap(self.array(env))}"]  # fresh, never a view
        if kind == "aug":
            if env.scalars and ch.int(0, 1) and "[" not in (v := ch.pick(env.scalars)):
                pass
            elif env.owned - env.iterated:
                v = ch.pick(sorted(env.owned - env.iterated))
            else:
                return self.stmt(env, ind, depth, loop, fn_ret)
            op = ch.pick(["+=", "-=", "*="])
            rhs = self.scalar(env) if v in env.scalars else self.array(env)
            if op == "*=" or loop:
                rhs = self.bounded(rhs)
            if loop and op != "*=":
                return [f"{pad}{v} {op} {rhs}", f"{pad}{v} = {self.bounded(v)}"]
            return [f"{pad}{v} {op} {rhs}"]
        if kind == "setitem":
            # (into an array an enclosing `for e in a:` iterates too: `e`, read after the
            # write, is a number for a 1-D `a`, which `number_guard` checks where the loop
            # binds it: tests/test_shared_writes.py)
            v = ch.pick(sorted(env.owned))
            idx = ch.pick(env.index + ["0", "1", "2", "-1"])
            op = ch.pick(["=", "+="])
            return [f"{pad}{v}[{idx}] {op} {self.bounded(self.scalar(env))}"]
        if kind == "call":
            return self.call(env, pad, loop)
        if kind == "if":
            lines = [f"{pad}if {self.cond(env)}:"]
            lines += self.block(env.copy(), ind + 1, depth + 1, loop, fn_ret)
            for _ in range(ch.int(0, 1)):
                lines.append(f"{pad}elif {self.cond(env)}:")
                lines += self.block(env.copy(), ind + 1, depth + 1, loop, fn_ret)
            if ch.int(0, 1):
                lines.append(f"{pad}else:")
                lines += self.block(env.copy(), ind + 1, depth + 1, loop, fn_ret)
            return lines
        if kind == "checkpoint":  # recomputed in the backward sweep (s2s/checkpoint.py)
            # the block always runs: what it defines is defined after it (unless it jumps, and
            # then nothing after it runs)
            inner = self.block(env, ind + 1, depth + 1, loop, fn_ret)
            return [f"{pad}with s2s.checkpoint():"] + inner
        if kind == "for_range":
            i = self.fresh("i")
            bound = ch.pick(self.bounds)
            inner = env.copy()
            inner.index.append(i)
            return [f"{pad}for {i} in range({bound}):"] + self.block(
                inner, ind + 1, depth + 1, True, fn_ret
            )
        if kind == "for_array":
            e = self.fresh("e")
            arr = ch.pick(env.arrays) if env.arrays else "np.ones(3)"
            inner = env.copy()
            inner.scalars.append(e)
            inner.iterated.add(arr)
            return [f"{pad}for {e} in {arr}:"] + self.block(inner, ind + 1, depth + 1, True, fn_ret)
        if kind == "while":
            j = self.fresh("j")
            inner = env.copy()
            head = [
                f"{pad}{j} = 0",
                f"{pad}while {j} < {ch.pick(self.bounds[:3])}:",
                f"{pad}    {j} = {j} + 1",
            ]
            return head + self.block(inner, ind + 1, depth + 1, True, fn_ret)
        if kind == "list":
            lst, i, t = self.fresh("L"), self.fresh("i"), self.fresh("t")
            inner = env.copy()
            inner.index.append(i)
            # not `0.5 * op(...)`: known bug 4 (tests/test_fuzz_regressions.py)
            item = ch.pick(BOUNDED[:4]).format(
                self.array(inner) if ch.int(0, 1) else self.scalar(inner)
            )
            lines = [
                f"{pad}{lst} = []",
                f"{pad}for {i} in range({ch.pick(self.bounds[:3])}):",
                f"{pad}    {lst}.append({item})",
            ]
            lines += self.block(inner, ind + 1, depth + 1, True, fn_ret, count=ch.int(0, 2))
            v = self.fresh("v")
            lines.append(f"{pad}{t} = np.stack({lst})")
            lines.append(f"{pad}{v} = {wrap(f'np.sum({t} * {t})')}")
            env.scalars.append(v)
            return lines
        if kind == "return":
            if self.result == "a":  # an array helper returns a (3,) array on every path
                return [f"{pad}return {self.array(env)} + 0.0 * np.ones(3)"]
            return [f"{pad}return {self.scalar(env)}"]
        return [f"{pad}{kind}"]  # break / continue

    def call(self, env: Env, pad: str, loop: bool) -> list[str]:
        ch = self.ch
        if ch.int(0, 3) == 0:
            self.uses_rec = True
            v = self.fresh("v")
            line = f"{pad}{v} = rec({self.scalar(env, 1)}, {ch.pick(['n', '2', '0', '3'])})"
            env.scalars.append(v)
            return [line]
        if not self.helpers or (len(self.helpers) < 3 and ch.int(0, 1)):
            name = f"h{len(self.helpers)}"
            self.helpers.append((name, ch.pick(["s", "a"]), ch.pick(["s", "a"])))
        name, second, result = ch.pick(self.helpers)
        arg2 = self.scalar(env, 1) if second == "s" else self.array(env, 1)
        call = f"{name}({self.scalar(env, 1)}, {arg2})"
        v = self.fresh("v" if result == "s" else "a")
        if result == "s":
            env.scalars.append(v)
            return [f"{pad}{v} = {self.bounded(call) if loop else call}"]
        env.arrays.append(v)
        env.owned.add(v)
        return [f"{pad}{v} = {self.bounded(call) if loop else call} + 0.0"]

    def helper_def(self, name: str, second: str, result: str) -> list[str]:
        env = Env(["u"] + (["w"] if second == "s" else []), ["w"] if second == "a" else [], set())
        sub = Builder(self.ch, max_stmts=3, max_depth=1, calls=False)
        sub.counter = 100 * (int(name[1:]) + 1) + self.counter
        sub.result = result
        body = sub.block(env, 1, 0, False, True)
        ret = sub.scalar(env) if result == "s" else f"{sub.array(env)} + 0.0 * w"
        if result == "a" and second == "s":
            ret = f"{sub.array(env)} + 0.0 * np.ones(3)"
        return [f"def {name}(u, w):"] + body + [f"    return {ret}"]

    def program(self) -> tuple[str, Any]:
        env = Env(["s", "p['b']"], ["x", "p['w']"], set())
        body = self.block(env, 1, 0, False, True, count=self.ch.int(1, self.max_stmts))
        ret = f"    return {self.scalar(env)}"
        lines = ["import numpy as np", "import s2s", ""]
        i = 0
        while i < len(self.helpers):  # a helper's body may call nothing: no new helpers
            lines += self.helper_def(*self.helpers[i]) + [""]
            i += 1
        if self.uses_rec:
            lines += [
                "def rec(v, d):",
                "    if d <= 0:",
                "        return v",
                "    return rec(np.tanh(v) * 0.9 + 0.1, d - 1)",
                "",
            ]
        lines += ["def f(x, s, p, n):"] + body + [ret, ""]
        wrt = self.ch.pick(["x", "s", "p", ("x", "s"), ("x", "p"), ("s", "p"), ("x", "s", "p")])
        return "\n".join(lines), wrt


# ---------------------------------------------------------------------------------------------
# Checks.

_DIR = tempfile.mkdtemp(prefix="s2s_fuzz_")


def load(source: str) -> Any:
    """Import `source` from a file, so inspect.getsource works on its functions."""
    digest = hashlib.sha1(source.encode()).hexdigest()[:16]
    name = f"s2s_fuzz_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    path = os.path.join(_DIR, name + ".py")
    with open(path, "w") as fh:
        fh.write(source)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def draw_args(ch: Any) -> tuple:
    def val() -> float:
        v = ch.real(0.1, 1.5)
        return v if ch.int(0, 1) else -v

    x = np.array([val() for _ in range(3)])
    p = {"w": np.array([val() for _ in range(3)]), "b": val()}
    return x, val(), p, ch.int(1, 3)


_POS = {"x": 0, "s": 1, "p": 2}


def _field(p: Any, key: str) -> Any:
    """`p['w']` of the dict parameter, or `p.w` where it is a record (tests/fuzz_classes.py)."""
    return p[key] if isinstance(p, dict) else getattr(p, key)


def _with_b(p: Any, value: float) -> Any:
    """`p` with its field `b` set to `value` (a NamedTuple is made again)."""
    if isinstance(p, dict):
        p["b"] = value
        return p
    if isinstance(p, tuple):
        return p._replace(b=value)
    object.__setattr__(p, "b", value)
    return p


def _flat(tree: Any) -> np.ndarray:
    if hasattr(tree, "w") and hasattr(tree, "b") and not isinstance(tree, dict):
        return _flat([tree.w, tree.b])  # a record parameter
    if isinstance(tree, dict):
        return np.concatenate([_flat(tree[k]) for k in sorted(tree)])
    if isinstance(tree, (tuple, list)):
        return np.concatenate([_flat(t) for t in tree]) if tree else np.zeros(0)
    return np.atleast_1d(np.asarray(tree, dtype=np.float64)).ravel()


def _fd(f: Any, args: tuple, wrt: Any, eps: float) -> np.ndarray:
    names = wrt if isinstance(wrt, tuple) else (wrt,)
    base = [copy.deepcopy(a) for a in args]
    out = []
    for name in names:
        pos = _POS[name]
        leaves = (
            [(None, None)]
            if pos == 1
            else (
                [(None, k) for k in range(3)]
                if pos == 0
                else [("w", k) for k in range(3)] + [("b", None)]
            )
        )
        for key, k in leaves:
            vals = []
            for sign in (1.0, -1.0):
                a = copy.deepcopy(base)
                if pos == 1:
                    a[1] = a[1] + sign * eps
                elif pos == 0:
                    a[0][k] += sign * eps
                elif key == "w":
                    _field(a[2], "w")[k] += sign * eps
                else:
                    a[2] = _with_b(a[2], _field(a[2], "b") + sign * eps)
                vals.append(float(f(*a)))
            out.append((vals[0] - vals[1]) / (2 * eps))
    return np.array(out)


def _tangent(ch: Any, wrt: Any) -> Any:
    def one(name: str) -> Any:
        if name == "x":
            return np.array([ch.real(-1, 1) for _ in range(3)])
        if name == "s":
            return ch.real(-1, 1)
        return {"w": np.array([ch.real(-1, 1) for _ in range(3)]), "b": ch.real(-1, 1)}

    return tuple(one(n) for n in wrt) if isinstance(wrt, tuple) else one(wrt)


def _flat_named(tree: Any, wrt: Any) -> np.ndarray:
    """Flatten a gradient/tangent in the order _fd uses (dict: w then b)."""
    parts = tree if isinstance(wrt, tuple) else (tree,)
    names = wrt if isinstance(wrt, tuple) else (wrt,)
    out = []
    for name, part in zip(names, parts, strict=True):
        if name == "p":
            w, b = _field(part, "w"), _field(part, "b")
            out.append(np.concatenate([np.asarray(w, float).ravel(), [float(b)]]))
        else:
            out.append(np.atleast_1d(np.asarray(part, dtype=np.float64)).ravel())
    return np.concatenate(out)


class KnownBug(Exception):
    """A failure matching a bug pinned in tests/test_fuzz_regressions.py."""


def check_program(source: str, wrt: Any, ch: Any, record: Any = None) -> str:
    """`record`: a function making the dict parameter `p` (and its tangent) the record the
    program takes instead (tests/fuzz_classes.py), or None."""
    return _check_program(source, wrt, ch, record)


def _check_program(source: str, wrt: Any, ch: Any, record: Any = None) -> str:
    mod = load(source)
    f = mod.f
    args = draw_args(ch)
    if record is not None:
        args = (*args[:2], record(mod, args[2]), *args[3:])
    with np.errstate(all="ignore"):
        plain = f(*copy.deepcopy(args))
    if not np.isfinite(plain) or abs(plain) > 1e6:
        return "skip"
    np.asarray(plain).item()  # a scalar

    # The primal value is unchanged; the caller's arguments are not written.
    before = copy.deepcopy(args)
    value, grads = s2s.value_and_grad(f, wrt=wrt)(*args)
    _same(args, before)
    assert np.allclose(value, plain, rtol=1e-12, atol=1e-12), (value, plain)
    g = _flat_named(grads, wrt)

    # Reverse vs central differences at two step sizes (skip where they disagree).
    fd1 = _fd(f, args, wrt, 1e-6)
    fd2 = _fd(f, args, wrt, 1e-4)
    if not np.allclose(fd1, fd2, rtol=1e-4, atol=1e-6):
        return "skip"
    assert np.allclose(g, fd1, rtol=1e-4, atol=1e-6), f"reverse {g} != fd {fd1}"

    # Every outermost loop in checkpointed segments: the same gradient.
    g_seg = _flat_named(s2s.grad(f, wrt=wrt, checkpoint_loops="sqrt")(*args), wrt)
    assert np.allclose(g_seg, g, rtol=1e-10, atol=1e-12), f"segmented {g_seg} != {g}"

    # Forward vs reverse: <grad, t> == jvp(t); the pullback of 1.0 is the gradient.
    t = _tangent(ch, wrt)
    if record is not None and "p" in (wrt if isinstance(wrt, tuple) else (wrt,)):
        t = tuple(
            record(mod, v) if n == "p" else v
            for n, v in zip(
                wrt if isinstance(wrt, tuple) else (wrt,),
                t if isinstance(wrt, tuple) else (t,),
                strict=True,
            )
        )
        t = t if isinstance(wrt, tuple) else t[0]
    v_fwd, t_out = s2s.jvp(f, wrt=wrt)(*args, t)
    _same(args, before)
    assert np.allclose(v_fwd, plain, rtol=1e-12, atol=1e-12), (v_fwd, plain)
    v_rev, pullback = s2s.vjp(f, wrt=wrt)(*args)
    assert np.allclose(v_rev, plain, rtol=1e-12, atol=1e-12), (v_rev, plain)
    g2 = _flat_named(pullback(1.0), wrt)
    assert np.allclose(g2, g, rtol=1e-10, atol=1e-12), f"vjp {g2} != grad {g}"
    dot = float(g2 @ _flat_named(t, wrt))
    assert np.isclose(float(t_out), dot, rtol=1e-8, atol=1e-8), f"jvp {t_out} != <vjp, t> {dot}"

    # The forward/backward pair of vjp, with every outermost loop in checkpointed segments: the
    # same value, and the pullback of a random cotangent is plain vjp's and cotangent * grad.
    ct = ch.real(0.5, 2.0) * (1.0 if ch.int(0, 1) else -1.0)
    v_seg, pb_seg = s2s.vjp(f, wrt=wrt, checkpoint_loops="sqrt")(*args)
    _same(args, before)
    assert np.allclose(v_seg, plain, rtol=1e-12, atol=1e-12), (v_seg, plain)
    g3 = _flat_named(pb_seg(ct), wrt)
    _same(args, before)
    g4 = _flat_named(pullback(ct), wrt)
    assert np.allclose(g4, ct * g, rtol=1e-10, atol=1e-12), f"vjp({ct}) {g4} != {ct} * {g}"
    assert np.allclose(g3, g4, rtol=1e-10, atol=1e-12), f"segmented vjp({ct}) {g3} != {g4}"
    return "ok"


def check_second_order(source: str, wrt: Any, ch: Any) -> str:
    """Grad of grad on a program: the Hessian-vector product by reverse over reverse (s2s.grad of
    a function calling `s2s.grad(f)`) equals central differences of the gradient along `v` and
    forward over reverse (`s2s.hvp`). Programs differentiated with respect to `x` or `s`."""
    if wrt not in ("x", "s"):
        return "skip"
    f = load(source).f
    args = draw_args(ch)
    v = _tangent(ch, wrt)
    with np.errstate(all="ignore"):
        plain = f(*copy.deepcopy(args))
    if not np.isfinite(plain) or abs(plain) > 1e6:
        return "skip"
    wrapper = load(
        source + "\n\nimport s2s as _s2s\n\n_df = _s2s.grad(f, wrt=" + repr(wrt) + ")\n\n\n"
        "def _gdot(x, s, p, n, _v):\n    return np.sum(_df(x, s, p, n) * _v)\n"
    )
    pos = _POS[wrt]
    g = s2s.grad(f, wrt=wrt)

    def g_at(eps: float) -> np.ndarray:
        moved = [copy.deepcopy(a) for a in args]
        moved[pos] = moved[pos] + eps * v
        return np.atleast_1d(np.asarray(g(*moved), dtype=float))

    fd = [(g_at(e) - g_at(-e)) / (2 * e) for e in (1e-6, 1e-4)]
    if not np.allclose(fd[0], fd[1], rtol=1e-3, atol=1e-5):
        return "skip"  # a branch flips or a kink lies inside the step
    try:
        rr = np.atleast_1d(np.asarray(s2s.grad(wrapper._gdot, wrt=wrt)(*args, v), dtype=float))
    except s2s.NoRuleError:
        return "refused"  # a clear refusal (e.g. a helper with no second-order rule)
    assert np.allclose(rr, fd[0], rtol=1e-4, atol=1e-6), f"grad of grad {rr} != fd {fd[0]}"
    fr = np.atleast_1d(np.asarray(s2s.hvp(f, wrt=wrt)(*args, v), dtype=float))
    assert np.allclose(rr, fr, rtol=1e-8, atol=1e-10), f"grad of grad {rr} != hvp {fr}"
    return "ok"


def _same(a: Any, b: Any) -> None:
    fa, fb = _flat(a[:3]), _flat(b[:3])
    assert np.array_equal(fa, fb), "the gradient call wrote into its arguments"


def drive(
    lo: int, hi: int, counts: dict, run: Any, describe: Any, known: tuple = (KnownBug,)
) -> dict:
    """The drivers' loop: `run(seed)` for each seed (it updates `counts`), every failure
    counted and printed with `describe(seed)` (a header and the program); a summary every 500
    seeds and at the end. Exceptions in `known` count as known bugs."""
    import traceback

    counts.setdefault("fail", 0)
    for seed in range(lo, hi):
        try:
            with np.errstate(all="ignore"):
                run(seed)
        except known:
            counts["known"] = counts.get("known", 0) + 1
        except Exception as exc:  # noqa: BLE001 - the driver reports every failure
            counts["fail"] += 1
            header, source = describe(seed)
            print(f"=== seed {seed}{header}: {type(exc).__name__}: {str(exc)[:400]}")
            print(source)
            if not isinstance(exc, AssertionError):
                traceback.print_exc(limit=-3)
            sys.stdout.flush()
        if (seed - lo) % 500 == 0:
            print(f"... seed {seed} {counts}", flush=True)
    print(f"done seeds {lo}..{hi - 1}: {counts}")
    return counts


def main(argv: list[str]) -> int:
    lo, hi = int(argv[0]), int(argv[1])
    second = "--no-second-order" not in argv[2:]
    counts = {"ok": 0, "skip": 0, "known": 0, "fail": 0}

    def run(seed: int) -> None:
        ch = RandomChooser(seed)
        source, wrt = Builder(ch).program()
        counts[check_program(source, wrt, ch)] += 1
        again = RandomChooser(seed)
        Builder(again).program()  # the same program; then its own draws of inputs
        if second and check_second_order(source, wrt, again) == "ok":
            counts["second order"] = counts.get("second order", 0) + 1

    def describe(seed: int) -> tuple[str, str]:
        source, wrt = Builder(RandomChooser(seed)).program()
        return f" wrt={wrt!r}", source

    drive(lo, hi, counts, run, describe)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    raise SystemExit(main(sys.argv[1:]))
