"""DEER's time per iteration vs one batched f+Jacobian evaluation plus one scan (issue 6, target 1).

    python benchmarks/deer_iteration.py   # D in {4, 32, 100}, T = 1000; auto and associative scans

Switches JAX's x64 mode on. Writes benchmarks/results/deer_iteration_cpu.json.
"""

import argparse
import os

from _common import RESULTS, enable_x64


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--T", type=int, default=1000)
    p.add_argument("--out", default=os.path.join(RESULTS, "deer_iteration_cpu.json"))
    args = p.parse_args(argv)
    enable_x64()
    from solvers import benchmark

    rows = []
    for scan in ("auto", "associative", "vector"):
        rows += benchmark.deer_iteration_suite((4, 32, 100), T=args.T, scan=scan)
    print(benchmark.markdown_table(rows))
    benchmark.write_json(args.out, {"machine": benchmark.machine(), "rows": rows})


if __name__ == "__main__":
    main()
