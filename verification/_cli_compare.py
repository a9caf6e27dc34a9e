"""``predictability compare``: every solver on the built-in mean-field RNN, side by side."""

from __future__ import annotations

import statistics
import time

from .cli import UsageError, enable_precision

SOLVER_NAMES = ("sequential", "deer", "quasi", "quasi-hutchinson", "damped", "deeppcr", "picard", "jacobi", "gd")


def add_parser(sub):
    p = sub.add_parser(
        "compare",
        help="evaluate the mean-field RNN with every solver",
        description=(
            "Evaluate the built-in mean-field RNN s_t = W tanh(s_(t-1)) + u_t (PAPER.md §6) with "
            "each solver and print iterations, max deviation from the sequential rollout, status, "
            "median time and compile time. float64 runs switch JAX's x64 mode on for this process."
        ),
    )
    p.add_argument("--D", type=int, default=16, help="state dimension (default 16)")
    p.add_argument("--T", type=int, default=1000, help="sequence length (default 1000)")
    p.add_argument("--g", type=float, default=0.8, help="gain; the LLE crosses 0 near g = 1.2 (default 0.8)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--solvers", default=",".join(SOLVER_NAMES),
                   help=f"comma-separated subset of {','.join(SOLVER_NAMES)}")
    p.add_argument("--precision", default="float64", choices=("float32", "float64"))
    p.add_argument("--tol", type=float, default=None, help="merit tolerance L/T (default 1e-10 float64, 1e-8 float32)")
    p.add_argument("--repeats", type=int, default=3, help="timed repeats after the compile call (default 3)")
    p.add_argument("--gd-step", type=float, default=0.25, help="gradient-descent step size (default 0.25)")
    p.set_defaults(run=run)


def make_solver(name: str, *, key, gd_step: float = 0.25):
    import solvers as S

    table = {
        "sequential": lambda: S.Sequential(),
        "deer": lambda: S.DEER(),
        "quasi": lambda: S.QuasiDEER(),
        "quasi-hutchinson": lambda: S.QuasiDEER("hutchinson", key=key, num_samples=4),
        "damped": lambda: S.DampedDEER(0.5),
        "deeppcr": lambda: S.DeepPCR(),
        "picard": lambda: S.Picard(),
        "jacobi": lambda: S.Jacobi(),
        "gd": lambda: S.GradientDescent(gd_step),
    }
    if name not in table:
        raise UsageError(f"--solvers: unknown solver {name!r}; expected names from {', '.join(SOLVER_NAMES)}")
    return table[name]()


def run(args) -> int:
    for opt in ("D", "T", "repeats"):
        if getattr(args, opt) < 1:
            raise UsageError(f"--{opt}: expected an integer >= 1, got {getattr(args, opt)}")
    if args.g < 0:
        raise UsageError(f"--g: expected a gain >= 0, got {args.g}")
    names = [n.strip() for n in args.solvers.split(",") if n.strip()]
    if not names:
        raise UsageError("--solvers: expected at least one solver name")
    enable_precision(args.precision)

    import jax
    import jax.numpy as jnp

    import solvers as S

    from .systems import mean_field_rnn

    dtype = jnp.float64 if args.precision == "float64" else jnp.float32
    tol = args.tol if args.tol is not None else (1e-10 if dtype == jnp.float64 else 1e-8)
    system = mean_field_rnn(args.g, D=args.D, T=args.T, seed=args.seed, dtype=dtype)
    key = jax.random.key(args.seed)
    solvers = [make_solver(n, key=jax.random.fold_in(key, 1), gd_step=args.gd_step) for n in names]
    init = system.initial_guess(jax.random.fold_in(key, 2))
    reference = system.trajectory()

    print(f"mean-field RNN: D={args.D} T={args.T} g={args.g} seed={args.seed} {args.precision} tol={tol:g} "
          f"backend={jax.default_backend()}")
    header = f"{'solver':<17} {'iters':>6} {'max |s - s_seq|':>16} {'status':<16} {'median s':>10} {'compile s':>10}"
    print(header)
    print("-" * len(header))
    for name, solver in zip(names, solvers, strict=True):
        def call(solver=solver):
            sol = S.evaluate(system.f, system.s0, system.inputs, solver, init=init, tol=tol)
            jax.block_until_ready(sol.states)
            return sol

        t0 = time.perf_counter()
        sol = call()
        first = time.perf_counter() - t0
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            call()
            times.append(time.perf_counter() - t0)
        median = statistics.median(times)
        dev = float(jnp.max(jnp.abs(sol.states - reference)))
        status = S.Status(int(sol.status)).name.lower()
        print(f"{name:<17} {int(sol.num_iters):>6} {dev:>16.3e} {status:<16} {median:>10.4f} {max(first - median, 0.0):>10.3f}")
    return 0
