"""``predictability figures``: the paper's figures and Table 1 (forwards to ``python -m paper_figures``).

The layering (``paper_figures → verification``) forbids importing ``paper_figures`` here, so the
subcommand runs it as a separate process and returns its exit status.
"""

from __future__ import annotations

import argparse
import subprocess
import sys


def add_parser(sub):
    p = sub.add_parser(
        "figures",
        help="regenerate the paper's figures and Table 1 (python -m paper_figures)",
        description=(
            "Regenerate the paper's figures and Table 1 with a comparison to the paper in SUMMARY.md: "
            "predictability figures NAME [NAME ...] --preset quick|paper|tiny [--out DIR] [--force]. "
            "Same as python -m paper_figures (see its --help); runs in float64."
        ),
        add_help=False,
        prefix_chars="+",  # every option (--preset, --help, ...) belongs to paper_figures
    )
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments of python -m paper_figures")
    p.set_defaults(run=run)


def run(args) -> int:
    cmd = [sys.executable, "-m", "paper_figures", *args.args]
    return subprocess.run(cmd, check=False).returncode
