"""Peak resident memory of DEER and quasi-DEER (exact and Hutchinson diagonal), each solve in a
fresh subprocess (issue 6, target 5).

    python benchmarks/memory.py            # T·D² up to 1e8 float64 elements (0.8 GB of Jacobians)

Prints the growth of the process's peak RSS during a 2-iteration solve and its ratio to the
Jacobian storage T·D²·8 bytes (and to T·D·8 bytes, the quasi-DEER scale). float64.
Writes benchmarks/results/memory_cpu.json.
"""

import argparse
import os

from _common import RESULTS


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--max-elements", type=float, default=1e8, help="largest T·D² for dense DEER")
    p.add_argument("--out", default=os.path.join(RESULTS, "memory_cpu.json"))
    args = p.parse_args(argv)
    from solvers import benchmark

    sizes = []
    for D in (32, 100):
        for T in (1000, 10000, 100000):
            if T * D * D <= args.max_elements:
                sizes.append(("deer", T, D))
            sizes += [("quasi", T, D), ("hutchinson", T, D)]  # both O(T·D)
    rows = benchmark.memory_suite(sizes)
    print(benchmark.markdown_table(rows))
    benchmark.write_json(args.out, {"machine": benchmark.machine(), "rows": rows})


if __name__ == "__main__":
    main()
