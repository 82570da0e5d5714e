"""The function docs/how-it-works.md walks through the pipeline (see docs/gen_walkthrough.py)."""

import numpy as np


def model(x, w, n):
    total = 0.0
    for i in range(n):
        h = np.tanh(x * w)
        if i % 2 == 0:
            total = total + np.sum(h)
        else:
            total = total - 0.5 * np.sum(h * h)
        x = h
    return total
