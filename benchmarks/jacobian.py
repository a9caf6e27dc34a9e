"""Jacobians by forward, reverse and automatically chosen mode (issue 6, target 1: no wasted work).

    python benchmarks/jacobian.py            # D in {8, 32, 100}, T = 1000, both RNN forms

For ``W tanh(s) + u`` (the paper's mean-field RNN) reverse mode avoids a D×D product per step;
for ``tanh(W s + u)`` forward mode does. ``"auto"`` (DEER's default) picks by a traced operation
count. Times the Jacobians alone and DEER solves of 4 iterations with each mode, interleaved.
Switches JAX's x64 mode on. Writes benchmarks/results/jacobian_cpu.json.
"""

import argparse
import os

from _common import RESULTS, enable_x64


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--D", type=int, nargs="+", default=[8, 32, 100])
    p.add_argument("--T", type=int, default=1000)
    p.add_argument("--out", default=os.path.join(RESULTS, "jacobian_cpu.json"))
    args = p.parse_args(argv)
    enable_x64()
    from solvers import benchmark

    rows = benchmark.jacobian_suite(args.D, T=args.T)
    print(benchmark.markdown_table(rows))
    benchmark.write_json(args.out, {"machine": benchmark.machine(), "rows": rows})


if __name__ == "__main__":
    main()
