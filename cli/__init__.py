"""`s2s-grad`: write gradient modules from model files, statically, for review and CI."""

from .main import main

__all__ = ["main"]
