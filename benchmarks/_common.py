"""Shared set-up of the benchmark scripts: x64 on (an application may), import path, output."""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
# The scripts' own folder holds benchmarks/solvers.py, which would shadow the solvers package:
# import packages from the repository root instead.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]
sys.path.insert(0, ROOT)


def enable_x64():
    """These scripts measure float64 (the paper's setting): switch x64 on for this process."""
    import jax

    jax.config.update("jax_enable_x64", True)
