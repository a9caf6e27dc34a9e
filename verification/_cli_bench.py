"""``predictability bench``: the CPU benchmark suite of ``solvers.benchmark`` on this machine."""

from __future__ import annotations

import os

from .cli import UsageError, enable_precision


def add_parser(sub):
    p = sub.add_parser(
        "bench",
        help="measure where parallel evaluation pays off on this machine",
        description=(
            "Time the linear solvers of the Newton step (generic, work-efficient, chunked and "
            "sequential scans), DEER's time per iteration against one f+Jacobian evaluation plus "
            "one scan, and a seeds x gains sweep batched with vmap against a Python loop; with "
            "--full also larger sizes and peak memory in subprocesses. Prints Markdown tables "
            "(medians of interleaved repeats; compile time apart) and writes them as JSON. "
            "Runs in float64: switches JAX's x64 mode on for this process."
        ),
    )
    p.add_argument(
        "--full",
        action="store_true",
        help="all sizes (many minutes); default: quick (about a minute)",
    )
    p.add_argument(
        "--out",
        default="predictability-bench.json",
        help="JSON file to write (atomically; default predictability-bench.json)",
    )
    p.set_defaults(run=run)


def run(args) -> int:
    folder = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise UsageError(f"--out: folder {folder!r} does not exist or is not writable")
    enable_precision("float64")
    from solvers import benchmark

    benchmark.run(full=args.full, out=args.out)
    return 0
