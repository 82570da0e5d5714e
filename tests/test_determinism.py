"""Issue 2: generated code is deterministic to the byte. The same functions are generated in two
subprocesses with different PYTHONHASHSEED (so set and dict-of-str iteration orders differ) and
in this process; all three texts must be identical."""

import os
import subprocess
import sys

import numpy as np

import s2s

# Each case: function name -> the wrt values to generate it for.
CASES = {
    "loops": (0, "x"),
    "branches": (0, (0, "y")),
    "calls": (0, "params"),
    "many_names": ((0, 1, 2),),
    "comprehensions": (0,),
}


def _cell(h, x, w):
    return np.tanh(h * w + x)


def loops(x, n):
    acc = x * 0.0
    hs = []
    for i in range(n):
        acc = acc * np.cos(x) + np.sin(x * i)
        hs.append(acc)
    j = 0
    while j < len(hs) and np.sum(hs[j]) > -1.0:
        acc = acc + hs[j] * hs[j]
        j += 1
    return np.sum(acc)


def branches(x, y):
    if np.sum(x) > 0 and np.sum(y) < 1.0:
        z = x * y
    elif not np.max(x) > 2.0:
        z = np.exp(x) - y
    else:
        return np.sum(x)
    z = z if np.mean(z) > 0 else -z
    return np.sum(z * z)


def calls(x, params):
    h = x
    for layer in params["layers"]:
        h = _cell(h, layer["b"], layer["w"])
    return np.sum(h * params["scale"])


def many_names(alpha, beta, gamma):
    delta = alpha * beta
    epsilon = np.sin(delta) + gamma
    zeta, eta = epsilon * alpha, epsilon - beta
    theta = {"a": zeta, "b": eta, "c": delta}
    iota = theta["a"] * theta["b"] + theta["c"]
    kappa = [iota, zeta, eta]
    return np.sum(np.stack(kappa) ** 2)


def comprehensions(x, y):
    d = {"first": x * y, "second": np.sin(x)}
    squares = {key: value * value for key, value in d.items()}
    pairs = [left * right for left, right in zip(x, y, strict=True)]
    return np.sum(squares["first"]) + np.sum(np.stack(pairs))


def generate_all():
    out = []
    for name, wrts in CASES.items():
        for wrt in wrts:
            out.append(f"#### {name} wrt={wrt!r}\n")
            out.append(s2s.source(globals()[name], wrt=wrt))
            out.append("\n")
    return "".join(out)


_SCRIPT = """
import sys
sys.path[:0] = {paths!r}
import test_determinism
sys.stdout.write(test_determinism.generate_all())
"""


def _generate_in_subprocess(hashseed):
    here = os.path.dirname(os.path.abspath(__file__))
    paths = [here] + [p for p in sys.path if p]
    env = dict(os.environ, PYTHONHASHSEED=str(hashseed), PYTHONIOENCODING="utf-8")
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT.format(paths=paths)],
        capture_output=True,
        env=env,
        cwd=here,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc.stdout


def test_same_bytes_across_hash_seeds_and_processes():
    # a comprehension's two names come in one order or the other with a set's iteration:
    # one seed in two could give the same order, four seeds leave one chance in eight
    first = _generate_in_subprocess(0)
    assert first, "nothing was generated"
    for seed in (1, 2, 4242):
        assert _generate_in_subprocess(seed) == first, f"PYTHONHASHSEED={seed}"
    assert generate_all().encode() == first


def test_same_text_when_generated_twice_in_one_process():
    assert generate_all() == generate_all()
