"""Linear solvers of the Newton step: generic associative scan vs vector, chunked, sequential.

    python benchmarks/scan.py            # prints a Markdown table, writes benchmarks/results/scan_cpu.json

Switches JAX's x64 mode on (float64 rows). Times are medians of interleaved repeats.
"""

import argparse
import os

from _common import RESULTS, enable_x64


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--out", default=os.path.join(RESULTS, "scan_cpu.json"))
    p.add_argument("--reps", type=int, default=5)
    args = p.parse_args(argv)
    enable_x64()
    from solvers import benchmark

    sizes = [
        (D, T, diag)
        for diag in (False, True)
        for D in (2, 8, 32, 100)
        for T in (1000, 10000, 100000)
        if T * D * D <= (1e8 if diag else 1e7)
    ]
    rows = benchmark.scan_suite(sizes, reps=args.reps)
    print(benchmark.markdown_table(rows))
    benchmark.write_json(args.out, {"machine": benchmark.machine(), "rows": rows})


if __name__ == "__main__":
    main()
