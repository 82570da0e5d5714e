"""Shared pytest configuration: hypothesis profiles.

`ci` (the default) keeps the suite fast and reproducible: few examples, no deadline (the first
call of a gradient generates code), derandomized so a failure reproduces on every machine, and no
shrinking, so a suite with many failing tests still finishes quickly (the failing example is
still printed). `long` explores much more and shrinks failures to minimal examples:
`HYPOTHESIS_PROFILE=long pytest tests`.
"""

import os
import sys

from hypothesis import HealthCheck, Phase, settings

# The helpers (fd.py, strategies.py, helper_module.py) sit next to the tests and are imported
# by name; pytest's default rootdir-relative import mode already puts this folder on sys.path,
# but make it explicit so `python -m pytest` from anywhere behaves the same.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

settings.register_profile(
    "ci",
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "long",
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _no_broadcast_compare() -> None:
    """`np.testing.assert_allclose` broadcasts: a gradient of shape (2, 3) with equal rows
    passes against a (3,) reference, and a wrong gradient of the right values in the wrong
    shape is still wrong. In these tests, two arrays compared have the same shape (0-d arrays
    and numbers still compare with anything: a gradient against a scalar is a fill)."""
    import numpy as np

    close = np.testing.assert_allclose

    def assert_allclose(actual, desired, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        sa, sd = np.shape(actual), np.shape(desired)
        if sa and sd and sa != sd:
            raise AssertionError(f"shapes differ: {sa} (actual) and {sd} (desired)")
        return close(actual, desired, *args, **kwargs)

    np.testing.assert_allclose = assert_allclose


_no_broadcast_compare()
