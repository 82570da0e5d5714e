"""A hierarchical ("tree") loss: the ten digits sit in a small class taxonomy, and a wrong
guess inside the right family earns partial credit.

    python examples/tree_loss.py [--quick] [--plot loss.png]

The model is a linear softmax classifier. The probability of an inner node of the taxonomy is
the sum of its leaves' probabilities (`p @ members`); the loss is the cross-entropy at the
leaves plus a weighted cross-entropy at every level above them, so confusing a 3 with a 5 (both
"curly") costs less than confusing a 3 with a 1. The loss is written once, in NumPy; the
gradient s2s writes for it is in examples/grad_tree_loss.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# leaf -> family -> group. Families: 0 "round" {0, 6, 8, 9}, 1 "straight" {1, 4, 7},
# 2 "curly" {2, 3, 5}. Groups: 0 {round}, 1 {straight, curly}.
FAMILY_OF_DIGIT = [0, 1, 2, 2, 1, 2, 0, 1, 0, 0]
GROUP_OF_FAMILY = [0, 1, 1]


def membership(parent_of: Sequence[int], n_parents: int) -> np.ndarray:
    """members[i, j] = 1 when child i belongs to parent j."""
    m = np.zeros((len(parent_of), n_parents))
    m[np.arange(len(parent_of)), parent_of] = 1.0
    return m


def softmax(z):
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


def loss(params, x, y, levels, weights):
    """y: one-hot leaf labels (batch, 10). levels: membership matrices leaf -> ancestor, one per
    level above the leaves. weights: the weight of each level's cross-entropy."""
    p = softmax(x @ params["W"] + params["b"])
    total = -np.mean(np.sum(y * np.log(p), axis=1))
    for k in range(len(levels)):
        p_up = p @ levels[k]
        y_up = y @ levels[k]
        total = total - weights[k] * np.mean(np.sum(y_up * np.log(p_up), axis=1))
    return total


def main(argv: Sequence[str] | None = None) -> float:
    from _util import load_digits, one_hot, parse_args, progress, save_plot, sgd

    import s2s

    args = parse_args(argv, __doc__.splitlines()[0])
    steps, batch = (20, 64) if args.quick else (600, 64)
    x_train, y_train, x_test, y_test = load_digits(args.seed)
    leaf_to_family = membership(FAMILY_OF_DIGIT, 3)
    leaf_to_group = leaf_to_family @ membership(GROUP_OF_FAMILY, 2)
    levels = [leaf_to_family, leaf_to_group]
    weights = [0.5, 0.25]
    rng = np.random.default_rng(args.seed)
    params = {"W": 0.01 * rng.normal(size=(64, 10)), "b": np.zeros(10)}
    value_and_grad = s2s.value_and_grad(loss, wrt="params")
    losses = []
    for step in range(1, steps + 1):
        idx = rng.integers(0, len(x_train), batch)
        y = one_hot(y_train[idx], 10)
        value, grads = value_and_grad(params, x_train[idx], y, levels, weights)
        params = sgd(params, grads, 0.5)
        losses.append(value)
        if step % max(steps // 10, 1) == 0:
            progress(step, steps, value)
    guess = np.argmax(x_test @ params["W"] + params["b"], axis=1)
    family = np.asarray(FAMILY_OF_DIGIT)
    leaf_acc = float(np.mean(guess == y_test))
    family_acc = float(np.mean(family[guess] == family[y_test]))
    print(f"test accuracy: digit {leaf_acc:.3f}, family {family_acc:.3f}")
    save_plot(losses, args.plot, "tree loss on digits")
    return leaf_acc


if __name__ == "__main__":
    main()
