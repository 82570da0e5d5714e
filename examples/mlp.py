"""A 2-layer network's loss, written in plain NumPy. Run `s2s-grad` or `python -m s2s` on it."""

import numpy as np


def loss(params, x, y):
    h = np.tanh(x @ params["W1"] + params["b1"])
    out = h @ params["W2"] + params["b2"]
    return np.mean((out - y) ** 2)


if __name__ == "__main__":
    import s2s

    rng = np.random.default_rng(0)
    params = {
        "W1": rng.normal(size=(4, 8)) * 0.5,
        "b1": np.zeros(8),
        "W2": rng.normal(size=(8, 1)) * 0.5,
        "b2": np.zeros(1),
    }
    x = rng.normal(size=(32, 4))
    y = np.sin(x.sum(axis=1, keepdims=True))
    print(s2s.source(loss, wrt="params"))
    value_and_grad = s2s.value_and_grad(loss, wrt="params")
    for step in range(201):
        value, grads = value_and_grad(params, x, y)
        for k in params:
            params[k] = params[k] - 0.1 * grads[k]
        if step % 50 == 0:
            print(f"step {step:3d}  loss {value:.5f}")
