"""Benchmarks: s2s gradients against hand-written NumPy gradients (``python -m benchmarks``)."""
