"""Speed and memory measurements of the solvers on the machine at hand (``predictability bench``).

Every suite returns plain rows (lists of dicts) that :func:`markdown_table` prints and
:func:`write_json` stores atomically. Times are medians of interleaved repetitions (the compared
calls alternate, so load from other processes hits them alike and the ratios from one run stay
meaningful); the first call of each is timed apart and reported as compile time. Benchmarks
print figures; they never assert them.

Suites:

* :func:`scan_suite`: the linear solvers of ``solve_affine`` (``method=``) against the generic
  associative scan, dense and diagonal.
* :func:`deer_iteration_suite`: DEER's time per iteration against one batched f+Jacobian
  evaluation plus one scan (issue 6, target 1).
* :func:`sweep_suite`: a seeds × gains sweep solved by one ``vmap`` against a Python loop,
  predictable-only and mixed batches.
* :func:`memory_suite`: peak resident memory of dense DEER and quasi-DEER, each in a fresh
  subprocess, against the Jacobian storage T·D²·itemsize.
* :func:`rnn_comparison`: sequential vs DEER vs quasi-DEER on a mean-field RNN over T (the GPU
  script ``benchmarks/gpu.py``).

This module is an application layer: it never changes global JAX configuration. Float64 rows
need x64 switched on by the caller (the command line does so and says so).

References: issue 6 (performance and scale); PAPER.md §2.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time

import jax
import jax.numpy as jnp
import numpy as np

from ._evaluate import evaluate
from ._jacobian import auto_mode, jacobian_costs, jacobians
from ._scan import solve_affine
from ._solvers import DEER, QuasiDEER, Sequential, shift

__all__ = [
    "time_calls",
    "markdown_table",
    "write_json",
    "scan_suite",
    "deer_iteration_suite",
    "sweep_suite",
    "memory_suite",
    "rnn_comparison",
    "run",
]

SCAN_COMPARED = ("associative", "vector", "chunked", "sequential")


# --------------------------------------------------------------------------------------------
# Timing and output
# --------------------------------------------------------------------------------------------


def time_calls(calls, reps=5):
    """Median wall time of each zero-argument call, interleaved over ``reps`` rounds.

    Returns ``{name: {"median_s", "compile_s", "times_s"}}``; ``compile_s`` is the first call's
    time less the median (tracing and compilation).
    """
    first = {}
    for name, call in calls.items():
        t = time.perf_counter()
        jax.block_until_ready(call())
        first[name] = time.perf_counter() - t
    times = {name: [] for name in calls}
    for _ in range(reps):
        for name, call in calls.items():
            t = time.perf_counter()
            jax.block_until_ready(call())
            times[name].append(time.perf_counter() - t)
    out = {}
    for name in calls:
        med = float(np.median(times[name]))
        out[name] = {
            "median_s": med,
            "compile_s": max(0.0, first[name] - med),
            "times_s": times[name],
        }
    return out


def markdown_table(rows, columns=None, digits=3):
    """A Markdown table of ``rows`` (dicts) over ``columns`` (default: all keys, first seen first)."""
    if not rows:
        return "(no rows)"
    if columns is None:  # every key of every row, in order of first appearance
        columns = list(dict.fromkeys(k for r in rows for k in r))

    def fmt(v):
        if isinstance(v, float):
            return f"{v:.{digits}g}"
        return "" if v is None else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(fmt(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def write_json(path, data):
    """Write ``data`` as JSON to ``path`` atomically (temporary file in the same folder, rename)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2, default=_json_default)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def _json_default(x):
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    if isinstance(x, (np.ndarray, jax.Array)):
        return np.asarray(x).tolist()
    return str(x)


def machine():
    """A short description of the backend and devices the figures were measured on."""
    devices = jax.devices()
    return {
        "backend": jax.default_backend(),
        "devices": f"{len(devices)} × {devices[0].device_kind}",
        "cpu_count": os.cpu_count(),
        "jax": jax.__version__,
        "x64": bool(jax.config.jax_enable_x64),
    }


def _dtype(name):
    if name == "float64" and not jax.config.jax_enable_x64:
        raise ValueError("dtype: float64 needs jax_enable_x64 switched on by the application")
    return jnp.dtype(name)


# --------------------------------------------------------------------------------------------
# Problems
# --------------------------------------------------------------------------------------------


def rnn_weights(D, seed=0, dtype="float64"):
    """Mean-field RNN coupling ``W_ij ~ N(0, 1/D)``, ``W_ii = 0`` (numpy generator ``seed``)."""
    W = np.random.default_rng(seed).normal(size=(D, D)) / np.sqrt(D)
    return jnp.asarray(W * (1 - np.eye(D)), dtype)


def rnn_step(W, gain):
    """The mean-field RNN ``f(s, u) = gain · W tanh(s) + u`` (PAPER.md §6): predictable for small
    gain, chaotic beyond gain ≈ 1.2."""
    return lambda s, u: gain * (W @ jnp.tanh(s)) + u


def _inputs(T, D, seed, dtype, scale=0.5):
    return jnp.asarray(np.random.default_rng(seed + 1).normal(size=(T, D)) * scale, dtype)


# --------------------------------------------------------------------------------------------
# Suites
# --------------------------------------------------------------------------------------------


def scan_suite(sizes, *, dtype="float64", reps=5, chunk_size=64):
    """Every ``solve_affine`` method on random systems; times and ratios to the generic scan.

    Args:
        sizes: iterable of ``(D, T, diagonal)``.
    """
    _dtype(dtype)
    return [_scan_row(D, T, diagonal, dtype, reps, chunk_size) for D, T, diagonal in sizes]


def _scan_row(D, T, diagonal, dtype, reps, chunk_size):
    dt = jnp.dtype(dtype)
    rng = np.random.default_rng(0)
    shape = (T, D) if diagonal else (T, D, D)
    A = jnp.asarray(rng.normal(size=shape) * (0.9 if diagonal else 0.9 / np.sqrt(D)), dt)
    b = jnp.asarray(rng.normal(size=(T, D)), dt)
    s0 = jnp.zeros(D, dt)

    def jitted(method):
        fn = jax.jit(
            lambda A, b, s0: solve_affine(
                A, b, s0, diagonal=diagonal, method=method, chunk_size=chunk_size
            )
        )
        return lambda: fn(A, b, s0)

    res = time_calls({m: jitted(m) for m in SCAN_COMPARED}, reps=reps)
    base = res["associative"]["median_s"]
    row = {"A": "diagonal" if diagonal else "dense", "D": D, "T": T, "dtype": dtype}
    for m in SCAN_COMPARED:
        row[f"{m}_ms"] = 1e3 * res[m]["median_s"]
    for m in SCAN_COMPARED[1:]:
        row[f"{m}/assoc"] = res[m]["median_s"] / base
    return row


def deer_iteration_suite(dims, *, T=1000, dtype="float64", reps=9, iters=(1, 17), scan="auto"):
    """DEER's time per iteration vs one batched f+Jacobian evaluation plus one scan.

    Per iteration = ``(t(k₂) − t(k₁)) / (n₂ − n₁)`` from two jitted solves stopped at ``max_iters``
    k₁ and k₂, where n₁, n₂ are the updates they applied (an unreachable tolerance keeps them
    iterating). The reference is one
    jitted ``vmap`` of f with its Jacobian plus one ``solve_affine`` of the same method. The
    per-call overhead of the eager ``evaluate`` (argument checks, tracing f for its shape) is
    reported apart, as ``evaluate(k₁)`` eager minus jitted.
    """
    _dtype(dtype)
    return [_deer_iteration_row(D, T, dtype, reps, iters, scan) for D in dims]


def _deer_iteration_row(D, T, dtype, reps, iters, scan):
    dt = jnp.dtype(dtype)
    k1, k2 = iters
    W = rnn_weights(D, 0, dtype)
    f = rnn_step(W, 0.9)  # predictable; tol = 1e-300 keeps it iterating (checked)
    s0 = jnp.zeros(D, dt)
    x = _inputs(T, D, 0, dt)
    init = jnp.broadcast_to(s0, (T, D))
    solver = DEER(scan=scan)

    @jax.jit
    def reference(states, x):
        sp = shift(s0, states)
        fs, J = jacobians(f, sp, x, solver.jacobian)
        # the Newton step in the correction form DEER uses: δ_t = J_t δ_{t-1} + (f_t − s_t)
        return states + solve_affine(J, fs - states, jnp.zeros_like(s0), method=scan)

    @jax.jit
    def jacobians_only(states, x):
        return jacobians(f, shift(s0, states), x, solver.jacobian)

    def solve_k(k):
        return jax.jit(lambda x: evaluate(f, s0, x, solver, tol=1e-300, max_iters=k).num_iters)

    runs = {k: solve_k(k) for k in (k1, k2)}
    calls = {
        "k1": lambda: runs[k1](x),
        "k2": lambda: runs[k2](x),
        "ref": lambda: reference(init, x),
        "jac": lambda: jacobians_only(init, x),
        "eager_k1": lambda: evaluate(f, s0, x, solver, tol=1e-300, max_iters=k1).states,
    }
    res = time_calls(calls, reps=reps)
    n1, n2 = int(runs[k1](x)), int(runs[k2](x))  # the updates actually applied
    if n2 <= n1:
        raise RuntimeError(f"the benchmark problem stopped after {n2} iterations; cannot time one")
    per_iter = (res["k2"]["median_s"] - res["k1"]["median_s"]) / (n2 - n1)
    ref = res["ref"]["median_s"]
    return {
        "D": D,
        "T": T,
        "scan": scan,
        "per_iter_ms": 1e3 * per_iter,
        "f+J+scan_ms": 1e3 * ref,
        "f+J_ms": 1e3 * res["jac"]["median_s"],
        "per_iter/(f+J+scan)": per_iter / ref,
        "eager_overhead_ms": 1e3 * (res["eager_k1"]["median_s"] - res["k1"]["median_s"]),
        "compile_s": res["k2"]["compile_s"],
    }


#: step functions of the Jacobian-mode comparison: (name, f built from W)
JACOBIAN_FORMS = (
    ("W tanh(s) + u", lambda W: lambda s, u: W @ jnp.tanh(s) + u),
    ("tanh(W s + u)", lambda W: lambda s, u: jnp.tanh(W @ s + u)),
)


def jacobian_suite(dims, *, T=1000, dtype="float64", reps=7, iters=4):
    """Jacobians of a whole trajectory by forward, reverse and ``"auto"`` mode, and DEER solves
    (``iters`` iterations) with each, for both RNN forms: ms, and ratios to forward mode.

    Returns one row per (form, D) with the mode ``"auto"`` chose and the estimated operations.
    """
    rows = []
    dt = _dtype(dtype)
    for form, make in JACOBIAN_FORMS:
        for D in dims:
            f = make(rnn_weights(D, 0, dtype) * 0.9)
            x = _inputs(T, D, 0, dt)
            s0 = jnp.zeros(D, dt)
            sp = x  # any trajectory of the right shape: costs do not depend on values
            calls = {}
            for mode in ("forward", "reverse", "auto"):
                jac = jax.jit(functools.partial(jacobians, f, mode=mode))
                solve = jax.jit(
                    lambda b, f=f, s0=s0, m=mode: evaluate(
                        f, s0, b, DEER(jacobian=m), tol=1e-300, max_iters=iters
                    ).states
                )
                calls[f"J_{mode}"] = functools.partial(jac, sp, x)
                calls[f"deer_{mode}"] = functools.partial(solve, x)
            timed = time_calls(calls, reps=reps)
            costs = jacobian_costs(f, sp, x)
            chosen = auto_mode(f, sp, x)
            med = {k: v["median_s"] * 1e3 for k, v in timed.items()}
            rows.append(
                {
                    "f": form,
                    "D": D,
                    "T": T,
                    "auto picks": chosen,
                    "est. flops fwd/rev": costs["forward"] / costs["reverse"],
                    "J fwd ms": med["J_forward"],
                    "J rev ms": med["J_reverse"],
                    "J auto ms": med["J_auto"],
                    "J fwd/auto": med["J_forward"] / med["J_auto"],
                    f"DEER {iters} it fwd ms": med["deer_forward"],
                    f"DEER {iters} it auto ms": med["deer_auto"],
                    "DEER fwd/auto": med["deer_forward"] / med["deer_auto"],
                }
            )
    return rows


def _sweep_solver(solver, tol, reset_nonfinite=False):
    def one(W, gain, s0, x):
        sol = evaluate(rnn_step(W, gain), s0, x, solver, tol=tol, reset_nonfinite=reset_nonfinite)
        return sol.states, sol.num_iters

    return one


def sweep_configs(D, T, seeds, gains, dtype="float64", gains_outer=False):
    """Arrays ``(W, gain, s0, inputs)`` of every (seed, gain) pair: seeds outer and gains inner,
    or with ``gains_outer`` gains outer (neighbours then share a gain, so they tend to need
    similar iteration counts: the order to cut into ``vmap`` chunks)."""
    dt = _dtype(dtype)
    per_seed = {seed: (rnn_weights(D, seed, dtype), _inputs(T, D, seed, dt)) for seed in seeds}
    pairs = [(s, g) for g in gains for s in seeds] if gains_outer else [
        (s, g) for s in seeds for g in gains
    ]
    Ws = [per_seed[s][0] for s, _ in pairs]
    xs = [per_seed[s][1] for s, _ in pairs]
    gs = [g for _, g in pairs]
    s0s = [jnp.zeros(D, dt)] * len(pairs)
    return jnp.stack(Ws), jnp.asarray(gs, dt), jnp.stack(s0s), jnp.stack(xs)


def sweep_batch_size(T, D, itemsize=8, cache_bytes=2**21, cap=8):
    """Members per ``vmap`` chunk: as many as keep one chunk's Jacobians (batch·T·D²·itemsize)
    within about ``cache_bytes`` (2 MiB), and at most ``cap``. Measured on this CPU
    (docs/performance.md): one ``vmap`` over 48 configurations at D = 8, T = 1000 ran 2× slower
    than a loop (its Jacobians spill the cache), and every member of a ``vmap`` runs until the
    chunk's slowest member stops, so small chunks of configurations that converge alike (one gain)
    waste least."""
    return max(1, min(int(cap), int(cache_bytes // (T * D * D * itemsize))))


def solve_sweep(
    configs, solver=None, *, tol=1e-10, reset_nonfinite=False, batched=True, batch_size=None
):
    """Solve every configuration of :func:`sweep_configs`: one ``vmap`` or a Python loop.

    With ``batch_size``, one compiled ``lax.map`` runs ``vmap`` over chunks of that many
    configurations in turn (each chunk's while-loop runs until its own slowest member stops).
    Returns ``(states, num_iters)`` stacked over configurations. Every way gives the same numbers.
    """
    solver = DEER() if solver is None else solver
    one = _sweep_solver(solver, tol, reset_nonfinite)
    if batched:
        return _batched(one, batch_size)(*configs)
    fn = _looped(one)
    outs = [fn(*(c[i] for c in configs)) for i in range(configs[1].shape[0])]
    return jnp.stack([o[0] for o in outs]), jnp.stack([o[1] for o in outs])


def _batched(one, batch_size=None):
    if batch_size is None:
        return jax.jit(jax.vmap(one))
    return jax.jit(lambda *c: jax.lax.map(lambda a: one(*a), c, batch_size=batch_size))


def _looped(one):
    return jax.jit(one)


def sweep_suite(
    *,
    D=8,
    T=200,
    seeds=range(8),
    predictable=(0.3, 0.6, 0.9),
    chaotic=(1.5, 2.5),
    dtype="float64",
    reps=3,
    solver=None,
    reset_nonfinite=True,
):
    """A seeds × gains sweep: one ``vmap`` vs the same solves in a Python loop.

    Three batches: predictable gains only; predictable and chaotic mixed in one ``vmap`` (the
    while-loop runs until its slowest member stops); and the mixed set batched per gain
    (skipped when ``chaotic`` is empty). Non-finite iterates are reset to the initial guess (the
    paper's choice), so chaotic members run long instead of stopping at an overflow.
    """
    solver = DEER() if solver is None else solver
    one = _sweep_solver(solver, 1e-10, reset_nonfinite)
    batch_size = sweep_batch_size(T, D, jnp.dtype(dtype).itemsize)
    batched, looped, chunked = _batched(one), _looped(one), _batched(one, batch_size)
    groups = {"predictable": tuple(predictable)}
    if chaotic:
        groups["mixed"] = tuple(predictable) + tuple(chaotic)
    return [
        _sweep_row(
            label, gains, batched, looped, chunked, batch_size, D, T, list(seeds), dtype, reps
        )
        for label, gains in groups.items()
    ]


def _sweep_row(label, gains, batched, looped, chunked, batch_size, D, T, seeds, dtype, reps):
    cfg = sweep_configs(D, T, seeds, gains, dtype)
    by_gain = sweep_configs(D, T, seeds, gains, dtype, gains_outer=True)
    n = cfg[1].shape[0]
    per_gain = [sweep_configs(D, T, seeds, (g,), dtype) for g in gains]
    calls = {
        "vmap": lambda: batched(*cfg),
        "loop": lambda: [looped(*(c[i] for c in cfg)) for i in range(n)],
        "chunked": lambda: chunked(*by_gain),
    }
    if label == "mixed":
        calls["vmap_per_gain"] = lambda: [batched(*c) for c in per_gain]
    res = time_calls(calls, reps=reps)
    iters = np.asarray(batched(*cfg)[1])
    row = {
        "batch": label,
        "configs": n,
        "D": D,
        "T": T,
        "loop_s": res["loop"]["median_s"],
        "vmap_s": res["vmap"]["median_s"],
        "loop/vmap": res["loop"]["median_s"] / res["vmap"]["median_s"],
        "batch_size": batch_size,
        "chunked_s": res["chunked"]["median_s"],
        "loop/chunked": res["loop"]["median_s"] / res["chunked"]["median_s"],
        "iters_min": int(iters.min()),
        "iters_max": int(iters.max()),
        "iters_sum": int(iters.sum()),
    }
    if "vmap_per_gain" in res:
        row["vmap_per_gain_s"] = res["vmap_per_gain"]["median_s"]
        row["loop/vmap_per_gain"] = res["loop"]["median_s"] / res["vmap_per_gain"]["median_s"]
    return row


# The child process (not this module) switches x64 on for its own run.
_MEMORY_CHILD = textwrap.dedent(
    r"""
    import json, resource, sys
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np
    import solvers
    from solvers.benchmark import rnn_weights, rnn_step
    kind, T, D, iters = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    W = rnn_weights(D, 0)
    f = rnn_step(W, 0.5)
    x = jnp.asarray(np.random.default_rng(1).normal(size=(T, D)) * 0.5)
    s0 = jnp.zeros(D)
    solver = {
        "deer": solvers.DEER(),
        "quasi": solvers.QuasiDEER(),
        "hutchinson": solvers.QuasiDEER("hutchinson", key=jax.random.key(0)),
    }[kind]
    # warm the small ops on a tiny problem first
    solvers.evaluate(f, s0, x[:2], solver, max_iters=1).states.block_until_ready()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    sol = solvers.evaluate(f, s0, x, solver, max_iters=iters, tol=1e-300)
    sol.states.block_until_ready()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"base": base, "peak": peak, "iters": int(sol.num_iters)}))
    """
)


def memory_suite(sizes, *, iters=2, timeout=600):
    """Peak resident memory of one float64 solve per fresh subprocess.

    Args:
        sizes: iterable of ``(kind, T, D)`` with kind ``"deer"``, ``"quasi"`` (exact diagonal) or
            ``"hutchinson"`` (quasi-DEER with the Hutchinson diagonal, one probe).

    Each row gives the growth of the peak RSS during the solve (``peak − base``, where base is
    the peak after importing JAX and warming up) and its ratio to the Jacobian storage
    ``T·D²·8`` bytes (dense) and to ``T·D·8`` bytes.
    """
    rows = []
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    for kind, T, D in sizes:
        out = subprocess.run(
            [sys.executable, "-c", _MEMORY_CHILD, kind, str(T), str(D), str(iters)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
        if out.returncode != 0:
            rows.append(
                {"solver": kind, "T": T, "D": D, "error": out.stderr.strip().splitlines()[-1:]}
            )
            continue
        m = json.loads(out.stdout.strip().splitlines()[-1])
        grown = m["peak"] - m["base"]
        jac = T * D * D * 8
        rows.append(
            {
                "solver": kind,
                "T": T,
                "D": D,
                "T·D²": T * D * D,
                "peak_growth_MB": grown / 1e6,
                "T·D²·8_MB": jac / 1e6,
                "growth/(T·D²·8)": grown / jac,
                "growth/(T·D·8)": grown / (T * D * 8),
            }
        )
    return rows


def rnn_comparison(
    dims,
    lengths,
    *,
    dtype="float64",
    gain=0.5,
    time_limit=None,
    max_bytes=8e9,
    reps=3,
    solvers_=("sequential", "deer", "quasi"),
):
    """Sequential vs DEER vs quasi-DEER on the mean-field RNN ``gain · W tanh(s) + u``.

    float32 runs under ``jax.default_matmul_precision("highest")`` (full-precision dense scans on
    GPUs); float64 as is. Dense DEER is skipped when its Jacobians alone (T·D²·itemsize) would
    exceed ``max_bytes / 4``; every configuration after ``time_limit`` seconds is skipped.
    Returns rows with times, iterations and speedups over the sequential rollout.
    """
    dt = _dtype(dtype)
    start = time.perf_counter()
    rows = []
    precision = (
        jax.default_matmul_precision("highest") if dtype == "float32" else contextlib.nullcontext()
    )
    with precision:
        for D in dims:
            for T in lengths:
                row = {
                    "D": D,
                    "T": T,
                    "dtype": dtype,
                    "matmul_precision": "highest" if dtype == "float32" else "default",
                }
                if time_limit is not None and time.perf_counter() - start > time_limit:
                    row["skipped"] = "time limit"
                else:
                    row.update(_rnn_row(D, T, dt, gain, max_bytes, reps, solvers_))
                rows.append(row)
    return rows


def _rnn_row(D, T, dt, gain, max_bytes, reps, names):
    tol = 1e-10 if dt == jnp.float64 else 1e-7
    f = rnn_step(rnn_weights(D, 0, dt.name), gain)
    s0 = jnp.zeros(D, dt)
    x = _inputs(T, D, 0, dt)
    calls = {}
    if "sequential" in names:
        calls["sequential"] = lambda: evaluate(f, s0, x, Sequential(), tol=tol)
    if "deer" in names and T * D * D * dt.itemsize <= max_bytes / 4:
        calls["deer"] = lambda: evaluate(f, s0, x, DEER(), tol=tol)
    if "quasi" in names:
        calls["quasi"] = lambda: evaluate(f, s0, x, QuasiDEER(), tol=tol)
    res = time_calls(calls, reps=reps)
    row = {}
    for name, call in calls.items():
        sol = call()
        row[f"{name}_s"] = res[name]["median_s"]
        row[f"{name}_compile_s"] = res[name]["compile_s"]
        if name != "sequential":
            row[f"{name}_iters"] = int(sol.num_iters)
            row[f"{name}_converged"] = bool(sol.converged)
            if "sequential" in res:
                row[f"{name}_speedup"] = res["sequential"]["median_s"] / res[name]["median_s"]
    return row


# --------------------------------------------------------------------------------------------
# The suite behind `predictability bench`
# --------------------------------------------------------------------------------------------


def run(*, full=False, out=None, print_fn=print):
    """Run the CPU benchmark suite (quick by default), print its tables, write JSON to ``out``.

    Quick: small sizes, a minute or two on 2 cores. ``full=True``: the sizes of
    docs/performance.md (many minutes), memory in subprocesses included.
    """
    if full:
        scan_sizes = [
            (D, T, diag)
            for diag in (False, True)
            for D in (4, 32, 100)
            for T in (1000, 10000)
            if diag or T * D * D <= 2e7
        ]
        dims, T_iter, sweep = (4, 32, 100), 1000, dict(D=8, T=1000, seeds=range(16))
        jac_dims, T_jac = (8, 32, 100), 1000
        memory = [
            (k, T, D)
            for k in ("deer", "quasi", "hutchinson")
            for T, D in ((10000, 32), (10000, 100))
        ]
    else:
        scan_sizes = [(4, 1000, False), (32, 1000, False), (32, 1000, True)]
        dims, T_iter, sweep = (4, 32), 300, dict(D=4, T=200, seeds=range(4))
        jac_dims, T_jac = (8, 32), 300
        memory = []
    results = {"machine": machine(), "full": full}
    sections = [
        (
            "scan",
            "Linear solvers of the Newton step (ms; ratio to the generic scan)",
            lambda: scan_suite(scan_sizes),
        ),
        (
            "deer_iteration",
            "DEER time per iteration vs one f+Jacobian evaluation plus one scan",
            lambda: deer_iteration_suite(dims, T=T_iter),
        ),
        (
            "jacobian",
            "Jacobians by forward, reverse and auto mode; DEER with each (ms)",
            lambda: jacobian_suite(jac_dims, T=T_jac),
        ),
        ("sweep", "Seeds × gains sweep: one vmap vs a Python loop", lambda: sweep_suite(**sweep)),
    ]
    if memory:
        sections.append(
            ("memory", "Peak RSS growth of one solve (subprocesses)", lambda: memory_suite(memory))
        )
    for name, title, fn in sections:
        t = time.perf_counter()
        rows = fn()
        results[name] = rows
        print_fn(f"\n## {title}  ({time.perf_counter() - t:.1f} s)\n")
        print_fn(markdown_table(rows))
    if out is not None:
        write_json(out, results)
        print_fn(f"\nwrote {out}")
    return results
