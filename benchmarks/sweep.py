"""A Figure-2-style sweep (seeds × gains at fixed T): one vmap vs a Python loop (issue 6, target 4).

    python benchmarks/sweep.py            # D = 4, T = 200 (mixed too) and D = 8, T = 1000; 16 seeds

Three batches: predictable gains only; predictable and chaotic gains mixed in one vmap (the
while-loop runs until its slowest member stops, so chaotic members hold the batch hostage); and
the mixed set batched per gain. Equal results are asserted in tests/performance, not here.
Switches JAX's x64 mode on. Writes benchmarks/results/sweep_cpu.json.
"""

import argparse
import os

from _common import RESULTS, enable_x64


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--seeds", type=int, default=16)
    p.add_argument("--solver", choices=("deer", "quasi"), default="deer")
    p.add_argument("--out", default=os.path.join(RESULTS, "sweep_cpu.json"))
    args = p.parse_args(argv)
    enable_x64()
    import solvers
    from solvers import benchmark

    solver = solvers.DEER() if args.solver == "deer" else solvers.QuasiDEER()
    seeds = range(args.seeds)
    rows = []
    # Small problems (dispatch-bound), predictable and mixed; a larger one (compute-bound).
    rows += benchmark.sweep_suite(D=4, T=200, seeds=seeds, solver=solver)
    rows += benchmark.sweep_suite(D=8, T=1000, seeds=seeds, solver=solver, chaotic=())
    print(benchmark.markdown_table(rows))
    benchmark.write_json(
        args.out, {"machine": benchmark.machine(), "solver": args.solver, "rows": rows}
    )


if __name__ == "__main__":
    main()
