"""Random programs over arrays of many shapes, for the shape specialization (`s2s/shapes.py`).

`tests/fuzz_programs.py` draws control flow over arrays of one shape. Here the arguments are
matrices and vectors whose lengths are drawn from 1 to 3 (so length-1 axes broadcast), and the
statements are the ones the shape rules follow or must refuse to follow: ufuncs and arithmetic
between broadcastable operands, `@` and `np.dot` of matrices and vectors, `.T`, an int index,
parts of an axis (`a[:, 1:A.shape[0]]`, whose adjoints may be assigned, not added),
reductions with and without an axis, `np.zeros((a.shape[0], ...))` and
`np.zeros_like(a, shape=(a.shape[0], ...))`, a dict argument's entries, augmented assignment,
loops over `range`, and branches that give a name one shape or two.

`check(seed)` generates a program with `Program(random.Random(seed))` and compares, for each
argument: the gradient of the call (the code specialized to the arguments' shape patterns)
with the generic generated code on the same arguments (equal to rounding), with the gradient
with every loop cut into checkpointed segments (`checkpoint_loops="sqrt"`), with central
differences at two step sizes (skipped where they disagree), and the value of
`value_and_grad` with the plain call.

The driver: `python tests/fuzz_shapes.py 0 5000` prints every failure and a summary.
"""

from __future__ import annotations

import copy
import os
import random
import sys
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fuzz_programs import drive, load  # noqa: E402

import s2s  # noqa: E402
from s2s.transform import generate  # noqa: E402

_UNARY = ("np.tanh({})", "np.sin({})", "np.exp(-{0} * {0})", "({0} * {0})", "(-{})")
_BINARY = ("({} + {})", "({} * {})", "({} - {})", "({} / (1.5 + {} * {}))")


class Program:
    """One random program `f(A, v, W, c, p)` and its arguments."""

    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd
        m, n, k = (rnd.choice((1, 2, 3)) for _ in range(3))
        b_shape = rnd.choice([(n,), (1, n), ()])
        self.shapes: dict[str, tuple] = {
            "A": (m, n),
            "v": rnd.choice([(n,), (1,)]) if n > 1 else (n,),
            "W": (n, n),
            "c": (),
            'p["b"]': b_shape,
            'p["U"]': (n, k),
        }
        self.pool: dict[str, tuple] = dict(self.shapes)
        self.lines: list[str] = []
        self.count = 0

    def fresh(self) -> str:
        self.count += 1
        return f"t{self.count}"

    def pick(self, rank: int | None = None) -> str:
        names = [e for e, s in self.pool.items() if rank is None or len(s) == rank]
        return self.rnd.choice(names) if names else self.rnd.choice(list(self.pool))

    def broadcastable_pair(self) -> tuple[str, str, tuple]:
        for _ in range(20):
            a, b = self.rnd.choice(list(self.pool)), self.rnd.choice(list(self.pool))
            try:
                return a, b, np.broadcast_shapes(self.pool[a], self.pool[b])
            except ValueError:
                continue
        a = self.pick()
        return a, "0.5", self.pool[a]

    def expr(self, depth: int = 2) -> tuple[str, tuple]:
        """An expression and its shape."""
        r = self.rnd.random()
        if depth == 0 or r < 0.25:
            a = self.pick()
            return a, self.pool[a]
        if r < 0.45:
            inner, shape = self.expr(depth - 1)
            return self.rnd.choice(_UNARY).format(inner), shape
        if r < 0.65:
            a, b, shape = self.broadcastable_pair()
            return self.rnd.choice(_BINARY).format(a, b, b), shape
        if r < 0.8:
            a = self.pick()
            if self.pool[a]:
                return self.part(a, self.pool[a])
        if r < 0.9:
            return self.product()
        a = self.pick()
        shape = self.pool[a]
        if len(shape) == 2 and self.rnd.random() < 0.5:
            return f"{a}.T", shape[::-1]
        if shape and self.rnd.random() < 0.5:
            i = self.rnd.randrange(-shape[0], shape[0])
            return f"{a}[{i}]", shape[1:]
        if shape and self.rnd.random() < 0.6:
            return self.part(a, shape)
        return f"(2.0 * {a})", shape

    def bound(self) -> tuple[str, Any]:
        """A slice bound: none, a small integer, or a length of an argument (times 2)."""
        r = self.rnd.random()
        if r < 0.3:
            return "", None
        if r < 0.55:
            k = self.rnd.randint(0, 3)
            return str(k), k
        name = self.rnd.choice(["A", "W", "v"])
        j = self.rnd.randrange(len(self.shapes[name]))
        k = self.shapes[name][j]
        if self.rnd.random() < 0.3:
            return f"2 * {name}.shape[{j}]", 2 * k
        return f"{name}.shape[{j}]", k

    def part(self, a: str, shape: tuple) -> tuple[str, tuple]:
        """`a[lo:hi]` or `a[:, lo:hi]`: a part of one axis (never empty), whose length the
        shape rules cannot know."""
        for _ in range(10):
            axis = self.rnd.randrange(len(shape))
            (lo, lo_v), (hi, hi_v) = self.bound(), self.bound()
            length = len(range(shape[axis])[slice(lo_v, hi_v)])
            if length:
                index = ", ".join([":"] * axis + [f"{lo}:{hi}"])
                return f"{a}[{index}]", shape[:axis] + (length,) + shape[axis + 1 :]
        return a, shape

    def product(self) -> tuple[str, tuple]:
        options = []
        for a, sa in self.pool.items():
            for b, sb in self.pool.items():
                if 1 <= len(sa) <= 2 and 1 <= len(sb) <= 2 and sa[-1] == sb[0]:
                    options.append((a, b, sa[:-1] + sb[1:]))
        if not options:
            a = self.pick()
            return a, self.pool[a]
        a, b, shape = self.rnd.choice(options)
        form = self.rnd.choice(("({} @ {})", "np.dot({}, {})"))
        return form.format(a, b), shape

    def stmt(self, ind: str) -> None:
        r = self.rnd.random()
        t = self.fresh()
        if r < 0.06:
            # the number argument given a new value, of any shape: its gradient still has
            # the argument's (a float), whatever the name holds at the return
            e, shape = self.expr()
            if not (_fits(shape, self.pool["c"]) or _fits(self.pool["c"], shape)):
                e, shape = "c", self.pool["c"]
            self.lines.append(f"{ind}c = np.tanh({e}) * c")
            self.pool["c"] = np.broadcast_shapes(shape, self.pool["c"])
            return
        if r < 0.5:
            e, shape = self.expr()
            self.lines.append(f"{ind}{t} = {e}")
        elif r < 0.6:
            a = self.pick(2)
            shape = self.pool[a]
            if len(shape) != 2:
                e, shape = self.expr()
                self.lines.append(f"{ind}{t} = {e}")
            else:
                made = (
                    f"np.zeros_like({a}, shape=({a}.shape[0], {a}.shape[1]))"
                    if self.rnd.random() < 0.5
                    else f"np.zeros(({a}.shape[0], {a}.shape[1]))"
                )
                self.lines.append(f"{ind}{t} = {made} + {a}")
        elif r < 0.7:
            a = self.pick()
            shape = self.pool[a]
            if shape:
                axis = self.rnd.randrange(len(shape))
                keep = self.rnd.random() < 0.3
                fn = self.rnd.choice(("np.sum", "np.mean"))
                self.lines.append(f"{ind}{t} = {fn}({a}, axis={axis}, keepdims={keep})")
                shape = shape[:axis] + ((1,) if keep else ()) + shape[axis + 1 :]
            else:
                self.lines.append(f"{ind}{t} = np.sum({a})")
        elif r < 0.8:
            e, shape = self.expr(1)
            self.lines.append(f"{ind}{t} = {e} * 1.0")
            others = [b for b, sb in self.pool.items() if _fits(sb, shape)]
            if others:
                self.lines.append(f"{ind}{t} += {self.rnd.choice(others)}")
        elif r < 0.9:
            e1, s1 = self.expr()
            e2, s2 = self.expr()
            test = f"np.sum({self.pick()}) > 0.0"
            self.lines += [f"{ind}if {test}:", f"{ind}    {t} = {e1}", f"{ind}else:"]
            if s1 == s2 or self.rnd.random() < 0.5:
                e2, s2 = (e2, s2) if s1 == s2 else (f"({e1}) * 0.5", s1)
                self.lines.append(f"{ind}    {t} = {e2}")
                shape = s1
            else:  # two shapes: only reduced afterwards
                self.lines.append(f"{ind}    {t} = {e2}")
                self.lines.append(f"{ind}{t} = np.sum({t})")
                shape = ()
        else:
            self.loop(ind, t)
            return
        self.pool[t] = shape

    def loop(self, ind: str, t: str) -> None:
        squares = [a for a, s in self.pool.items() if len(s) == 2 and s[0] == s[1]]
        h, sh = self.pick(), None
        sh = self.pool[h]
        steps = self.rnd.randint(1, 3)
        self.lines.append(f"{ind}{t} = {h} * 1.0")
        self.lines.append(f"{ind}for i in range({steps}):")
        body = ind + "    "
        if squares and sh and sh[-1] == self.pool[squares[0]][0] and self.rnd.random() < 0.7:
            M = self.rnd.choice([s for s in squares if self.pool[s][0] == sh[-1]])
            self.lines.append(f"{body}{t} = np.tanh({t} @ {M} * 0.5 + 0.1 * {h})")
        else:
            a, b, shape = self.broadcastable_pair()
            if shape == sh:
                self.lines.append(f"{body}{t} = np.sin({t}) * 0.5 + {a} * {b}")
            else:
                self.lines.append(f"{body}{t} = np.sin({t}) * 0.9")
        self.pool[t] = sh

    def source(self) -> str:
        for _ in range(self.rnd.randint(3, 8)):
            self.stmt("    ")
        temps = [t for t in self.pool if t.startswith("t")]
        picks = temps[-2:] + [self.pick() for _ in range(self.rnd.randint(0, 2))]
        terms = [f"np.sum(np.tanh({a}) * {a})" for a in picks]
        final = self.rnd.choice(("{}", "-0.5 * ({}) / 3"))
        total = "np.mean(np.sin(" + picks[0] + "))" if self.rnd.random() < 0.3 else None
        ret = final.format(" + ".join(terms)) if total is None else total
        head = ["import numpy as np", "", "", "def f(A, v, W, c, p):"]
        return "\n".join(head + self.lines + [f"    return {ret}", ""])

    def args(self) -> tuple:
        def arr(shape: tuple) -> Any:
            a = np.array([self.rnd.uniform(-1.0, 1.0) for _ in range(int(np.prod(shape)))])
            return a.reshape(shape)

        s = self.shapes
        p = {"b": arr(s['p["b"]']), "U": arr(s['p["U"]'])}
        return arr(s["A"]), arr(s["v"]), arr(s["W"]), self.rnd.uniform(-1.0, 1.0), p


def _fits(small: tuple, big: tuple) -> bool:
    try:
        return np.broadcast_shapes(small, big) == big
    except ValueError:
        return False


def _assert_like(g: Any, x: Any, pos: int) -> None:
    """The gradient has the argument's structure (a dict's key order too), types, shapes and
    dtypes."""
    if isinstance(x, dict):
        assert isinstance(g, dict) and list(g) == list(x), f"wrt {pos}: {g!r} for {x!r}"
        for k in x:
            _assert_like(g[k], x[k], pos)
    elif isinstance(x, float):
        assert type(g) is float, f"wrt {pos}: a {type(g).__name__} gradient for a float"
    else:
        assert type(g) is np.ndarray and g.shape == x.shape and g.dtype == x.dtype, (
            f"wrt {pos}: gradient {type(g).__name__} {np.shape(g)} for an array {x.shape}"
        )


def _flat(tree: Any) -> np.ndarray:
    if isinstance(tree, dict):
        return np.concatenate([_flat(tree[k]) for k in sorted(tree)])
    return np.atleast_1d(np.asarray(tree, dtype=np.float64)).ravel()


def _fd(f: Any, args: tuple, pos: int, eps: float) -> np.ndarray:
    base = copy.deepcopy(args)
    flat = _flat(base[pos])
    out = np.zeros(flat.size)
    for i in range(flat.size):
        vals = []
        for sign in (1, -1):
            moved = copy.deepcopy(base)
            x = moved[pos]
            if isinstance(x, dict):
                k = 0
                for key in sorted(x):
                    n = np.size(x[key])
                    if k <= i < k + n:
                        leaf = np.array(x[key], dtype=float)
                        leaf.reshape(-1)[i - k] += sign * eps
                        x[key] = leaf
                    k += n
            elif isinstance(x, float):
                moved = moved[:pos] + (x + sign * eps,) + moved[pos + 1 :]
            else:
                x.reshape(-1)[i] += sign * eps
            vals.append(f(*moved))
        out[i] = (vals[0] - vals[1]) / (2 * eps)
    return out


def check(seed: int) -> str:
    prog = Program(random.Random(seed))
    source = prog.source()
    f = load(source).f
    args = prog.args()
    prog_has_loop = "for " in source
    with np.errstate(all="ignore"):
        plain = f(*copy.deepcopy(args))
    if not np.isfinite(plain) or abs(plain) > 1e6:
        return "skip"
    for pos in range(5):
        before = copy.deepcopy(args)
        value, g = s2s.value_and_grad(f, wrt=pos)(*args)
        assert np.array_equal(_flat(args[pos]), _flat(before[pos])), "wrote into its argument"
        assert np.allclose(value, plain, rtol=1e-12, atol=1e-12), (value, plain)
        raw = s2s.grad(f, wrt=pos)(*args)
        _assert_like(raw, args[pos], pos)
        g_call = _flat(raw)
        generic = _flat(generate(f, pos, "grad")[0].entry[0](*copy.deepcopy(args)))
        assert np.allclose(g_call, generic, rtol=1e-10, atol=1e-12), (
            f"wrt {pos}: specialized {g_call} != generic {generic}"
        )
        assert np.allclose(_flat(g), g_call, rtol=1e-10, atol=1e-12)
        if prog_has_loop:  # every loop cut into checkpointed segments, specialized too
            raw = s2s.grad(f, wrt=pos, checkpoint_loops="sqrt")(*args)
            _assert_like(raw, args[pos], pos)
            assert np.allclose(_flat(raw), g_call, rtol=1e-10, atol=1e-12), (
                f"wrt {pos}: checkpointed {_flat(raw)} != {g_call}"
            )
        fd1, fd2 = _fd(f, args, pos, 1e-6), _fd(f, args, pos, 1e-4)
        if np.allclose(fd1, fd2, rtol=1e-4, atol=1e-6):
            assert np.allclose(g_call, fd1, rtol=1e-4, atol=1e-6), (
                f"wrt {pos}: gradient {g_call} != differences {fd1}"
            )
    _check_narrowed(f, _narrowed(args, random.Random(seed + 1)))
    return "ok"


def _narrowed(args: tuple, rnd: random.Random) -> tuple:
    """`args` with some arrays (a dict's entries too) made float32: the code specialized to
    the dtypes (`s2s/dtypes.py`) must keep float32 gradients float32 and cast float64 ones."""

    def narrow(a: Any) -> Any:
        if isinstance(a, dict):
            return {k: narrow(v) for k, v in a.items()}
        if isinstance(a, np.ndarray) and rnd.random() < 0.5:
            return a.astype(np.float32)
        return a

    return tuple(narrow(a) for a in args)


def _check_narrowed(f: Any, args: tuple) -> None:
    for pos in range(5):
        before = copy.deepcopy(args)
        with np.errstate(all="ignore"):
            raw = s2s.grad(f, wrt=pos)(*args)
        assert np.array_equal(_flat(args[pos]), _flat(before[pos])), "wrote into its argument"
        _assert_like(raw, args[pos], pos)
        with np.errstate(all="ignore"):
            generic = _flat(generate(f, pos, "grad")[0].entry[0](*copy.deepcopy(args)))
        assert np.allclose(_flat(raw), generic, rtol=1e-3, atol=1e-4, equal_nan=True), (
            f"wrt {pos} (float32 arguments): specialized {_flat(raw)} != generic {generic}"
        )


def main(argv: list[str]) -> int:
    lo, hi = int(argv[0]), int(argv[1])
    counts = {"ok": 0, "skip": 0, "fail": 0}

    def run(seed: int) -> None:
        counts[check(seed)] += 1

    def describe(seed: int) -> tuple[str, str]:
        return "", Program(random.Random(seed)).source()

    drive(lo, hi, counts, run, describe, known=())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
