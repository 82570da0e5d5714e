"""Issue 9, concurrency: gradients generated and called from several threads at once give the
results one thread gives, and the cache holds one entry per (function, options)."""

from __future__ import annotations

import threading

import numpy as np

import s2s
from s2s import api


def loop_model(x, w, n):
    h = x
    for _ in range(n):
        h = np.tanh(h * w) + h
    return np.sum(h**2)


def branch_model(x, s):
    if np.sum(x) > 0:
        y = np.sin(x) * s
    else:
        y = np.cos(x) * s
    return np.sum(y * x)


def recursive_model(x, n):
    if n == 0:
        return np.sum(x)
    return np.sum(np.sin(x)) + recursive_model(x * 0.5, n - 1)


MODELS = [
    (loop_model, lambda r: (r.normal(size=4), 0.7, 3), (0, 1)),
    (branch_model, lambda r: (r.normal(size=3), 1.3), (0, 1)),
    (recursive_model, lambda r: (r.normal(size=5), 4), 0),
]


def _entries(fn):
    return [k for k in api._CACHE if k[0] is fn]


def _flat(g):
    parts = g if isinstance(g, tuple) else (g,)
    return np.concatenate([np.ravel(p) for p in parts])


def test_threads_generate_and_call_gradients_at_once():
    rng = np.random.default_rng(0)
    inputs = [[make(rng) for _ in range(4)] for _, make, _ in MODELS]
    for fn, _, _ in MODELS:  # nothing generated yet: the threads race to generate
        for k in _entries(fn):
            del api._CACHE[k]
    threads_n, rounds = 8, 5
    barrier = threading.Barrier(threads_n)
    results: dict[tuple, list] = {}
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            barrier.wait()
            for r in range(rounds):
                for m in range(len(MODELS)):
                    k = (t + r + m) % len(MODELS)  # each thread in its own order
                    fn, _, wrt = MODELS[k]
                    for i, args in enumerate(inputs[k]):
                        g = s2s.grad(fn, wrt=wrt)(*args)
                        results.setdefault((k, i), []).append(_flat(g))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(threads_n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    for (k, i), got in results.items():
        fn, _, wrt = MODELS[k]
        want = _flat(s2s.grad(fn, wrt=wrt)(*inputs[k][i]))
        assert len(got) == threads_n * rounds
        for g in got:
            np.testing.assert_array_equal(g, want)
    # one cache entry per (function, wrt, mode, specialization): the generic code, plus one
    # per set of parameters passed Python numbers
    assert len(_entries(loop_model)) == 2  # generic; w a float and n an int
    assert len(_entries(branch_model)) == 2  # generic; s a float
    assert len(_entries(recursive_model)) == 2  # generic; n an int


def test_source_is_the_same_from_every_thread():
    texts: list[str] = []

    def work() -> None:
        texts.append(s2s.source(loop_model, wrt=(0, 1)))

    threads = [threading.Thread(target=work) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(texts) == 6 and len(set(texts)) == 1
