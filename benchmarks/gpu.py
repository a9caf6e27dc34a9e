"""Sequential vs DEER vs quasi-DEER on the mean-field RNN, T from 10³ to 10⁶ (issue 6, target 7).

    python benchmarks/gpu.py --time-limit 500          # on a GPU: D = 100 and D = 8
    python benchmarks/gpu.py --tiny --out-dir /tmp/x   # seconds, on CPU (tested)

Runs float64 by default (switches JAX's x64 mode on), or ``--dtype float32``, which uses the
highest matmul precision for the dense scans (TF32 would change iteration counts). Dense DEER is
skipped where its Jacobians (T·D²·itemsize) exceed a quarter of --max-bytes; configurations
after --time-limit seconds are marked skipped. Writes gpu_<backend>_<dtype>.json and .md.
"""

import argparse
import os
import time

from _common import RESULTS


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--dtype", choices=("float32", "float64"), default="float64")
    p.add_argument(
        "--time-limit", type=float, default=500.0, help="seconds before remaining sizes are skipped"
    )
    p.add_argument("--max-bytes", type=float, default=8e9, help="memory budget for dense DEER")
    p.add_argument("--tiny", action="store_true", help="tiny CPU sizes (a smoke test)")
    p.add_argument("--out-dir", default=RESULTS)
    args = p.parse_args(argv)
    import jax

    if args.dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    from solvers import benchmark

    if args.tiny:
        dims, lengths, reps = (2,), (50, 100), 1
    else:
        dims, lengths, reps = (100, 8), (1000, 10000, 100000, 1000000), 3
    start = time.perf_counter()
    rows = benchmark.rnn_comparison(
        dims,
        lengths,
        dtype=args.dtype,
        time_limit=args.time_limit,
        max_bytes=args.max_bytes,
        reps=reps,
    )
    info = benchmark.machine()
    name = f"gpu_{info['backend']}_{args.dtype}" + ("_tiny" if args.tiny else "")
    os.makedirs(args.out_dir, exist_ok=True)
    data = {
        "machine": info,
        "dtype": args.dtype,
        "matmul_precision": "highest" if args.dtype == "float32" else "default",
        "gain": 0.5,
        "wall_s": time.perf_counter() - start,
        "rows": rows,
    }
    benchmark.write_json(os.path.join(args.out_dir, name + ".json"), data)
    table = benchmark.markdown_table(rows)
    header = (
        f"# Mean-field RNN: sequential vs DEER vs quasi-DEER\n\n"
        f"Hardware: {info['devices']} ({info['backend']}), jax {info['jax']}; dtype {args.dtype}"
        f" (matmul precision {data['matmul_precision']}); times are medians in seconds.\n\n"
    )
    with open(os.path.join(args.out_dir, name + ".md"), "w") as fh:
        fh.write(header + table + "\n")
    print(header + table)
    return data


if __name__ == "__main__":
    main()
