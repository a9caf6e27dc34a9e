"""Regenerate the paper's figures and Table 1 (PAPER.md §6), side by side with the paper.

One module per figure or table, each with ``compute(config) -> data`` (batched with ``vmap``),
``plot(data) -> Figure`` and ``main(...)``; ``PRESETS`` holds the ``tiny`` (tests), ``quick``
(minutes on a laptop CPU) and ``paper`` (the paper's exact sizes, meant for a GPU) configs.
Run ``python -m paper_figures all --preset quick`` (or ``predictability figures ...``).

Importing this package never changes JAX's configuration; the command line switches float64 on.
"""

from ._runner import FIGURES, MODULES, PRESETS, UsageError, main, run

__all__ = ["FIGURES", "MODULES", "PRESETS", "UsageError", "main", "run"]
