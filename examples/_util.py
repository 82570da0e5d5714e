"""Helpers shared by the example scripts: options, data, progress, plots. Not differentiated."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np


def parse_args(
    argv: Sequence[str] | None, description: str, plot: bool = True
) -> argparse.Namespace:
    """`--quick` (a few iterations, for CI), `--plot FILE.png` (a loss curve), `--seed N`."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="a few iterations only (used by tests)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    if plot:
        p.add_argument(
            "--plot",
            metavar="FILE.png",
            help="save the loss curve to FILE.png (needs matplotlib: pip install 's2s[examples]')",
        )
    return p.parse_args(argv)


def one_hot(labels: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros((len(labels), n))
    out[np.arange(len(labels)), labels] = 1.0
    return out


def load_digits(
    seed: int = 0, n_train: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 digits (1,797 images, shipped inside the package: no download),
    scaled to [0, 1] and split 75/25. Without scikit-learn: a synthetic 10-class data set of the
    same shape, with a message saying so."""
    try:
        from sklearn.datasets import load_digits as _load
    except ImportError:
        print(
            "scikit-learn is not installed (pip install 's2s[examples]'): "
            "using a synthetic 10-class data set of 8x8 'images' instead of the digits"
        )
        rng = np.random.default_rng(1234)
        centers = rng.random((10, 64))
        labels = rng.integers(0, 10, 1797)
        x = np.clip(centers[labels] + 0.25 * rng.normal(size=(1797, 64)), 0.0, 1.0)
    else:
        data = _load()
        x, labels = data.data / 16.0, data.target
    order = np.random.default_rng(seed).permutation(len(x))
    x, labels = x[order], labels[order]
    cut = int(0.75 * len(x))
    x_train, y_train, x_test, y_test = x[:cut], labels[:cut], x[cut:], labels[cut:]
    if n_train is not None:
        x_train, y_train = x_train[:n_train], y_train[:n_train]
    return x_train, y_train, x_test, y_test


def progress(step: int, total: int, loss: float, extra: str = "", width: int = 24) -> None:
    """One line per call: a text progress bar, the step and the loss."""
    done = int(width * step / max(total, 1))
    bar = "#" * done + "." * (width - done)
    print(f"[{bar}] {step:5d}/{total}  loss {loss:.5f}{extra}")
    sys.stdout.flush()


def sgd(params: dict, grads: dict, lr: float) -> dict:
    """One plain SGD step on a dict of arrays (the gradient has the same structure)."""
    return {k: params[k] - lr * grads[k] for k in params}


def global_norm(grads: dict) -> float:
    return float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))


def clip_by_global_norm(grads: dict, max_norm: float) -> dict:
    """Scale the whole gradient down so that its global L2 norm is at most max_norm."""
    norm = global_norm(grads)
    if norm <= max_norm:
        return grads
    return {k: g * (max_norm / norm) for k, g in grads.items()}


def save_plot(losses: Sequence[float], path: str | None, title: str) -> None:
    """Save a loss curve when asked (`--plot FILE.png`) and matplotlib is installed."""
    if not path:
        return
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install 's2s[examples]'): no plot written")
        return
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(np.arange(len(losses)), losses)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"loss curve written to {path}")
