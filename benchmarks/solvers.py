"""Benchmark every solver on the mean-field RNN: compile time, time per solve, iterations.

The system is PAPER.md §6's mean-field RNN ``s_t = W tanh(s_{t-1}) + u_t`` (``W_ij ~ N(0, g²/D)``,
``W_ii = 0``, ``u_t = A ⊙ sin(ωt + φ)``, ``s_0 ~ U[−1, 1]^D``, uniform random initial guess), built by
``verification.systems.mean_field_rnn``. For every size (D, T) and every solver the script reports

* compile time: the first call minus the steady (median) time,
* the median wall time of one solve over ``--repeats`` calls (``block_until_ready``),
* iterations, status, time per iteration, and the largest deviation from the sequential rollout,

and, per size, DEER's time per iteration divided by the time of one batched f+Jacobian
evaluation plus one linear solve of the same kind (``solve_affine`` with DEER's method). The
target is at most 1.3: the Newton loop should waste no work beyond its two essential parts. That
ratio is measured on a fixed number of iterations (``--ratio-iters``; the tolerance is set out of
reach), so that the one extra linearisation of the initial guess is amortised as in a long run,
against the same number of bare passes (f+Jacobian, then the solve, fed back) in one compiled
loop: the ratio is the cost of the driver's bookkeeping (merit, status, selects) per iteration.

Dense solvers (DEER, DampedDEER, DeepPCR) store T·D² Jacobian entries; a size with
``T·D² > --max-elements`` is skipped for them with a note. Gradient descent is capped at
``--gd-max-iters`` iterations (it is reported with its status; its default 10·T is far too slow),
and ``--iter-cap`` caps the others (default: their own default, T).

Benchmarks print figures, never assertions. This script switches JAX to float64
(``jax_enable_x64``) at start, as the paper's experiments are in float64.

Usage::

    python benchmarks/solvers.py --quick                      # < 1 minute
    python benchmarks/solvers.py --D 4 32 100 --T 100 1000 10000 --out bench.json

References: PAPER.md §2 (the family), §6 (mean-field RNN); issue 2 (benchmarks).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)  # the paper's setting; said so in the docstring

import jax.numpy as jnp  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install

import solvers  # noqa: E402
from solvers import jacobians, shift  # noqa: E402
from verification.systems import mean_field_rnn  # noqa: E402

DENSE = ("deer", "damped", "deeppcr")


def make_solvers(args, key):
    """Every solver, by the names used in the table and in ``--solvers``."""
    return {
        "sequential": solvers.Sequential(),
        "deer": solvers.DEER(),
        "quasi": solvers.QuasiDEER(),
        "quasi_hutch": solvers.QuasiDEER("hutchinson", key=key),
        "damped": solvers.DampedDEER(args.damping),
        "picard": solvers.Picard(),
        "jacobi": solvers.Jacobi(),
        "gd": solvers.GradientDescent(args.gd_step),
        "deeppcr": solvers.DeepPCR(),
    }


def _block(tree):
    for leaf in jax.tree_util.tree_leaves(tree):
        leaf.block_until_ready()
    return tree


def timed(fn, repeats):
    """(first-call seconds, median seconds of ``repeats`` further calls, last result)."""
    t0 = time.perf_counter()
    out = _block(fn())
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = _block(fn())
        times.append(time.perf_counter() - t0)
    return first, statistics.median(times), out


def bench_solver(name, solver, system, init, reference, args):
    kwargs = dict(tol=args.tol)
    if name != "sequential":
        kwargs["init"] = init
    if name == "gd":
        kwargs["max_iters"] = args.gd_max_iters
    elif name != "sequential" and args.iter_cap is not None:
        kwargs["max_iters"] = min(system.T, args.iter_cap)

    def run():
        return solvers.evaluate(system.f, system.s0, system.inputs, solver, **kwargs)

    first, median, sol = timed(run, args.repeats)
    iters = int(sol.num_iters)
    deviation = float(jnp.max(jnp.abs(sol.states - reference)))
    return {
        "solver": name,
        "iters": iters,
        "status": solvers.Status(int(sol.status)).name.lower(),
        "compile_s": max(first - median, 0.0),
        "median_s": median,
        "per_iter_s": median / max(iters, 1),
        "max_dev": deviation,
    }


def deer_ratio(system, init, args):
    """DEER's time per iteration over one batched f+Jacobian evaluation plus one linear solve.

    The calls are timed in alternation (7 to 50 rounds) so that load from other processes hits
    them alike; the ratio of medians is reported.
    """
    f, s0, inputs = system.f, system.s0, system.inputs
    k = min(args.ratio_iters, system.T)

    def deer_k():
        return solvers.evaluate(f, s0, inputs, solvers.DEER(), init=init, tol=1e-300, max_iters=k)

    def one_pass(states):
        s_prev = shift(s0, states)
        fs, J = jacobians(f, s_prev, inputs)  # the mode DEER() uses ("auto")
        # the Newton step in DEER's correction form, δ_t = J_t δ_{t-1} + (f_t − s_t)
        delta = solvers.solve_affine(J, fs - states, jnp.zeros_like(s0))  # DEER()'s "auto"
        return states + delta

    # k bare passes in one compiled loop, so that neither side pays a dispatch per pass.
    passes_k = jax.jit(lambda states: jax.lax.fori_loop(0, k, lambda _, s: one_pass(s), states))

    # The whole call under jit as well: the eager call also pays evaluate's argument checks
    # (tracing f once for its output shape, finiteness checks on the host) on every call.
    deer_k_jit = jax.jit(
        lambda init: solvers.evaluate(
            f, s0, inputs, solvers.DEER(), init=init, tol=1e-300, max_iters=k
        )
    )
    calls = {"eager": deer_k, "jit": lambda: deer_k_jit(init), "passes": lambda: passes_k(init)}
    sol = _block(deer_k())  # compile all first
    for fn in calls.values():
        _block(fn())
    # Small sizes are microseconds per iteration and noisy: take more pairs there (about 2 s of
    # DEER time in all, between 7 and 50 pairs).
    t0 = time.perf_counter()
    _block(calls["jit"]())
    pairs = int(min(50, max(7, args.repeats, 2.0 / max(time.perf_counter() - t0, 1e-9))))
    times = {name: [] for name in calls}
    for _ in range(pairs):
        for name, fn in calls.items():
            t0 = time.perf_counter()
            _block(fn())
            times[name].append(time.perf_counter() - t0)
    med = {name: statistics.median(t) for name, t in times.items()}
    n = int(sol.num_iters)
    pass_time = med["passes"] / k
    return {
        "ratio_rounds": pairs,
        "ratio_iters": n,
        "deer_per_iter_s": med["jit"] / n,
        "f_jac_scan_s": pass_time,
        "ratio": med["jit"] / n / pass_time,
        "eager_call_overhead_s": med["eager"] - med["jit"],
        "ratio_eager": med["eager"] / n / pass_time,
    }


def sequential_reference(system):
    """The rollout by a plain ``lax.scan`` of this script (not ``solvers``), for the deviations."""

    def step(s, u):
        s = system.f(s, u)
        return s, s

    return jax.jit(lambda s0, u: jax.lax.scan(step, s0, u)[1])(system.s0, system.inputs)


def run_size(D, T, args, names):
    system = mean_field_rnn(args.g, D=D, T=T, seed=args.seed)
    key = jax.random.key(args.seed)
    init = system.initial_guess(jax.random.fold_in(key, 1))
    reference = sequential_reference(system)
    all_solvers = make_solvers(args, jax.random.fold_in(key, 2))
    rows, notes = [], []
    dense_ok = T * D * D <= args.max_elements
    for name in names:
        if name in DENSE and not dense_ok:
            notes.append(f"D={D} T={T}: {name} skipped (T·D² = {T * D * D:.2g} > --max-elements)")
            continue
        row = bench_solver(name, all_solvers[name], system, init, reference, args)
        row.update(D=D, T=T, g=args.g)
        rows.append(row)
        print(_format_row(row), flush=True)
    ratio = None
    if "deer" in names and dense_ok:
        ratio = dict(D=D, T=T, g=args.g, **deer_ratio(system, init, args))
        print(
            f"    DEER per iteration / (f+Jacobian + solve): {ratio['ratio']:.2f} under jit "
            f"({ratio['deer_per_iter_s'] * 1e3:.3g} ms / {ratio['f_jac_scan_s'] * 1e3:.3g} ms, "
            f"{ratio['ratio_iters']} iterations), {ratio['ratio_eager']:.2f} eager "
            f"(+{ratio['eager_call_overhead_s'] * 1e3:.2g} ms per call)",
            flush=True,
        )
    for note in notes:
        print("    note: " + note, flush=True)
    return rows, ratio, notes


HEADER = (
    f"{'D':>4} {'T':>6} {'solver':<12} {'iters':>6} {'status':<16} {'compile s':>9} "
    f"{'median ms':>10} {'ms/iter':>9} {'max dev':>9}"
)


def _format_row(r):
    return (
        f"{r['D']:>4} {r['T']:>6} {r['solver']:<12} {r['iters']:>6} {r['status']:<16} "
        f"{r['compile_s']:>9.2f} {r['median_s'] * 1e3:>10.3g} {r['per_iter_s'] * 1e3:>9.3g} "
        f"{r['max_dev']:>9.1e}"
    )


def markdown(rows, ratios):
    lines = [
        "| D | T | solver | iters | status | compile s | median ms | ms/iter | max dev |",
        "|---:|---:|---|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['D']} | {r['T']} | {r['solver']} | {r['iters']} | {r['status']} | "
            f"{r['compile_s']:.2f} | {r['median_s'] * 1e3:.3g} | {r['per_iter_s'] * 1e3:.3g} | "
            f"{r['max_dev']:.1e} |"
        )
    if ratios:
        lines += [
            "",
            "| D | T | DEER ms/iter (jit) | f+Jacobian+solve ms | ratio (jit) | ratio (eager) "
            "| eager call overhead ms |",
            "|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for q in ratios:
            lines.append(
                f"| {q['D']} | {q['T']} | {q['deer_per_iter_s'] * 1e3:.3g} | "
                f"{q['f_jac_scan_s'] * 1e3:.3g} | {q['ratio']:.2f} | {q['ratio_eager']:.2f} | "
                f"{q['eager_call_overhead_s'] * 1e3:.2g} |"
            )
    return "\n".join(lines)


def write_json_atomic(path, payload):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(payload, fh, indent=2)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes (finishes in under a minute)")
    p.add_argument("--D", type=int, nargs="+", default=[4, 32, 100], help="state dimensions")
    p.add_argument("--T", type=int, nargs="+", default=[100, 1000, 10000], help="sequence lengths")
    p.add_argument("--g", type=float, default=0.8, help="gain of W (LLE < 0 below about 1.2)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tol", type=float, default=1e-10, help="tolerance on L(s)/T")
    p.add_argument("--repeats", type=int, default=5, help="timed calls after the first")
    p.add_argument("--solvers", nargs="+", default=None, help="subset of solver names")
    p.add_argument(
        "--max-elements", type=float, default=2e7, help="skip dense solvers where T·D² exceeds this"
    )
    p.add_argument("--damping", type=float, default=0.5)
    p.add_argument("--gd-step", type=float, default=0.25)
    p.add_argument("--gd-max-iters", type=int, default=2000)
    p.add_argument(
        "--iter-cap",
        type=int,
        default=None,
        help="cap max_iters of the scan solvers (default T: exact after T iterations)",
    )
    p.add_argument(
        "--ratio-iters",
        type=int,
        default=16,
        help="DEER iterations timed for the per-iteration ratio",
    )
    p.add_argument("--out", default=None, help="write the rows as JSON to this file")
    args = p.parse_args(argv)
    if args.quick:
        args.D, args.T = [4, 32], [200]
        args.repeats = min(args.repeats, 3)
    return args


def main(argv=None):
    args = parse_args(argv)
    names = list(make_solvers(args, jax.random.key(0)))
    if args.solvers:
        unknown = sorted(set(args.solvers) - set(names))
        if unknown:
            raise SystemExit(f"--solvers: unknown {unknown}; choose from {names}")
        names = [n for n in names if n in args.solvers]
    device = jax.devices()[0]
    print(
        f"# mean-field RNN, g = {args.g}, tol = {args.tol:g}, float64, backend {jax.default_backend()} "
        f"({device.device_kind}), jax {jax.__version__}, repeats {args.repeats}"
    )
    print(HEADER)
    rows, ratios, notes = [], [], []
    started = time.perf_counter()
    for D in args.D:
        for T in args.T:
            r, q, n = run_size(D, T, args, names)
            rows += r
            notes += n
            if q is not None:
                ratios.append(q)
    print(f"# total {time.perf_counter() - started:.1f} s")
    print()
    print(markdown(rows, ratios))
    if args.out:
        payload = {
            "command": " ".join([Path(sys.argv[0]).name] + (argv or sys.argv[1:])),
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "backend": jax.default_backend(),
            "device": device.device_kind,
            "jax": jax.__version__,
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "args": {k: v for k, v in vars(args).items() if k != "out"},
            "rows": rows,
            "deer_ratio": ratios,
            "notes": notes,
        }
        write_json_atomic(args.out, payload)
        print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
