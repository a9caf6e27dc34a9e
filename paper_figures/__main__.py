"""``python -m paper_figures NAME [NAME ...] --preset quick|paper|tiny [--out DIR] [--force]``.

Switches JAX's x64 mode on (float64, the paper's setting) at start — see ``_runner.run``.
"""

import sys

from ._runner import main

if __name__ == "__main__":
    sys.exit(main())
