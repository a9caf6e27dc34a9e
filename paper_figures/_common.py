"""Shared computations: batched mean-field RNN solves and exponents, grids, crossings.

Everything is batched with ``vmap`` over seeds (one gain at a time: a vmapped ``while_loop``
runs until its slowest member converges, so mixing gains would make every predictable run wait
for the chaotic ones). The compiled functions are module-level ``jit`` s with static sizes, so
figures of the same size share compilations.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

import solvers
import theory
from verification.systems import mean_field_rnn_data

__all__ = [
    "float_dtype",
    "seed_keys",
    "gain_grid",
    "length_grid",
    "mf_solve",
    "mf_sequential_lle",
    "zero_crossing",
    "chunks",
    "exact_prefix_counts",
]


def float_dtype():
    """float64 when the application switched x64 on (the paper's setting), else float32."""
    return jnp.zeros(()).dtype


def seed_keys(seeds) -> jax.Array:
    """``jax.random.key(seed)`` for each seed: the same draws as ``verification.systems``."""
    return jnp.stack([jax.random.key(int(s)) for s in seeds])


def gain_grid(lo: float, hi: float, n: int) -> np.ndarray:
    return np.linspace(lo, hi, n)


def length_grid(lo: int, hi: int, n: int, include=()) -> np.ndarray:
    """About ``n`` log-spaced integer lengths in [lo, hi] (duplicates removed), plus ``include``."""
    grid = np.unique(np.round(np.geomspace(lo, hi, n)).astype(int))
    return np.unique(np.concatenate([grid, np.asarray(include, int), [hi]])).astype(int)


def chunks(n: int, size: int):
    """Slices ``[0, size), [size, 2 size), …`` covering ``range(n)`` (memory-bounded batches)."""
    size = max(1, min(size or n, n))
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def exact_prefix_counts(f, s0, inputs, sol, lengths, tol, solver, extra: int = 4):
    """Prefix counts by the separate-run rule, also for prefixes the full run left unfinished.

    The driver stops when the whole sequence meets ``L/T ≤ tol``; a prefix whose own
    ``L(s_1..s_T')/T'`` is still above tol at that moment only gets a lower bound. Iterating on
    from the final iterate (the update depends on the current iterate only, so these are the
    iterates the full run would have produced next) for ``extra`` more steps and checking each
    prefix's merit gives the exact count whenever it is reached within them.

    Returns ``(prefix_iters, prefix_converged)``.
    """
    L = jnp.asarray(lengths)
    more = solvers.evaluate(f, s0, inputs, solver, init=sol.states, tol=jnp.finfo(sol.states.dtype).tiny,
                            max_iters=extra, trace="states")

    def prefix_merits(states):
        return jnp.cumsum(solvers.merit_terms(f, s0, states, inputs))[L - 1] / L

    ok = jax.vmap(prefix_merits)(more.states_trace[1:]) <= tol  # NaN rows (stopped early) are False
    late = ~sol.prefix_converged & ok.any(axis=0)
    iters = jnp.where(late, sol.num_iters + 1 + jnp.argmax(ok, axis=0), sol.prefix_iters)
    return iters, sol.prefix_converged | late


def _mf_problem(key, g, D, T):
    d = mean_field_rnn_data(key, g, D, T, float_dtype())
    W = d["W"]

    def f(s, u):
        return W @ jnp.tanh(s) + u

    # The paper's DEER guess: uniform on [-1, 1], drawn from a key independent of the system's.
    init = jax.random.uniform(jax.random.fold_in(key, 1), (T, D), d["s0"].dtype, -1.0, 1.0)
    return f, d["s0"], d["inputs"], init


def _mf_solve(keys, g, tol, solver, *, D, T, lengths, max_iters):
    def one(key):
        f, s0, inputs, init = _mf_problem(key, g, D, T)
        # The paper resets non-finite entries of an iterate to the guess and carries on.
        sol = solvers.evaluate(
            f, s0, inputs, solver, init=init, tol=tol, lengths=lengths, max_iters=max_iters,
            reset_nonfinite=True,
        )
        if lengths is None:
            return sol, None, None
        return sol, *exact_prefix_counts(f, s0, inputs, sol, lengths, tol, solver)

    return jax.vmap(one)(keys)


_mf_solve_jit = jax.jit(_mf_solve, static_argnames=("D", "T", "lengths", "max_iters"))


def mf_solve(seeds, g, *, D, T, solver, tol, lengths=None, max_iters=None, seed_chunk=None):
    """Solve the mean-field RNN of gain ``g`` for every seed (vmapped, in chunks of seeds).

    Non-finite entries of an iterate are reset to the guess (``reset_nonfinite=True``, the
    paper's choice). Returns a dict of NumPy arrays with a leading seed axis: ``num_iters``,
    ``converged``, ``merit``, ``status``, ``states`` and, with ``lengths``, ``prefix_iters`` / ``prefix_converged``.
    """
    lengths = None if lengths is None else tuple(int(x) for x in lengths)
    keys = seed_keys(seeds)
    g = jnp.asarray(g, float_dtype())
    tol = jnp.asarray(tol, float_dtype())
    parts = []
    for sl in chunks(len(seeds), seed_chunk):
        sol, prefix_iters, prefix_converged = _mf_solve_jit(
            keys[sl], g, tol, solver, D=D, T=T, lengths=lengths, max_iters=max_iters)
        part = {
            "num_iters": sol.num_iters,
            "converged": sol.converged,
            "merit": sol.merit,
            "status": sol.status,
            "states": sol.states,
        }
        if lengths is not None:
            part["prefix_iters"] = prefix_iters
            part["prefix_converged"] = prefix_converged
        parts.append(jax.device_get(part))
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _mf_sequential_lle(keys, g, *, D, T, burn_in, num_vectors):
    def one(key):
        f, s0, inputs, _ = _mf_problem(key, g, D, T)
        states = solvers.evaluate(f, s0, inputs, solvers.Sequential()).states
        jac = solvers.jacobians(f, solvers.shift(s0, states), inputs)[1]
        lam = theory.lle(jac, key=jax.random.fold_in(key, 2), num_vectors=num_vectors, burn_in=burn_in)
        return states, lam

    return jax.vmap(one)(keys)


_mf_sequential_lle_jit = jax.jit(_mf_sequential_lle, static_argnames=("D", "T", "burn_in", "num_vectors"))


def mf_sequential_lle(seeds, g, *, D, T, burn_in=0, num_vectors=3, seed_chunk=None):
    """Sequential trajectories ``(S, T, D)`` and per-step LLEs ``(S,)`` (``theory.lle`` along
    the sequential rollout, ``num_vectors`` random start vectors, ``burn_in`` steps discarded)."""
    keys = seed_keys(seeds)
    g = jnp.asarray(g, float_dtype())
    states, lams = [], []
    for sl in chunks(len(seeds), seed_chunk):
        s, lam = jax.device_get(
            _mf_sequential_lle_jit(keys[sl], g, D=D, T=T, burn_in=burn_in, num_vectors=num_vectors)
        )
        states.append(s)
        lams.append(lam)
    return np.concatenate(states), np.concatenate(lams)


def zero_crossing(x, y) -> float:
    """First ``x`` where ``y`` goes from negative to non-negative (linear interpolation), or NaN."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    for i in range(len(y) - 1):
        if y[i] < 0 <= y[i + 1]:
            return float(x[i] + (x[i + 1] - x[i]) * (-y[i]) / (y[i + 1] - y[i]))
    return math.nan


def describe_range(values) -> str:
    v = np.asarray(values)
    return f"{v.min():g}–{v.max():g}" if v.size else "—"
