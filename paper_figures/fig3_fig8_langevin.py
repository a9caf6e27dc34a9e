"""Figures 3 and 8: DEER on the two-well Langevin sampler (a predictable system, λ < 0).

Figure 3: DEER steps vs T (median and range over seeds) — they grow sublinearly (the paper: at
most about 35 at T = 10 000 over 20 seeds). Figure 8: for one run, the LLE of the dynamics
linearised along every DEER iterate (negative after the first iteration although the standard
normal guess starts in the unstable region) and the merit per iteration (one spike, then a fall).

Steps of every T come from one run at the longest T per seed (DEER is causal, PAPER.md §2):
the first T' steps of a run driven by i.i.d. noise are a sampler run of length T'.

References: PAPER.md §6 (two-well Langevin, Figs 3 and 8), §3 (Algorithm 1).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

import solvers
import theory
from verification.systems import two_well_langevin

from . import _common, _style

NAME = "fig3_fig8_langevin"
DATA_VERSION = 2
PAPER = {"lle": -0.0145, "max_steps": 35, "T_max": 10_000}

PRESETS = {
    "paper": dict(seeds=20, eps=0.01, T_min=10, T_max=10_000, num_T=30, tol=1e-10, lle_burn_in=100,
                  fig8_T=10_000, fig8_seed=0, fig8_max_iters=80),
    "quick": dict(seeds=20, eps=0.01, T_min=10, T_max=10_000, num_T=20, tol=1e-10, lle_burn_in=100,
                  fig8_T=10_000, fig8_seed=0, fig8_max_iters=80),
    "tiny": dict(seeds=3, eps=0.01, T_min=8, T_max=64, num_T=4, tol=1e-10, lle_burn_in=8,
                 fig8_T=64, fig8_seed=0, fig8_max_iters=20),
}
PAPER_COST = ("20 seeds of DEER at D = 2, T = 10 000 plus one traced run: under a minute on a "
              "2-core CPU (the quick preset is the paper's size with a coarser T grid).")


@functools.cache
def _step(eps: float):
    """The sampler's step ``f(s, w)`` (independent of T and seed: the noise is the input)."""
    return two_well_langevin(T=1, seed=0, eps=eps, dtype=_common.float_dtype()).f


def _problem(seed, T):
    key = jax.random.key(seed)
    dtype = _common.float_dtype()
    noise = jax.random.normal(key, (T, 2), dtype)  # as verification.systems.two_well_langevin
    init = jax.random.normal(jax.random.fold_in(key, 1), (T, 2), dtype)  # standard normal guess
    return jnp.zeros(2, dtype), noise, init


@functools.partial(jax.jit, static_argnames=("f", "T", "lengths", "burn_in"))
def _steps_and_lle(seeds, tol, *, f, T, lengths, burn_in):
    def one(seed):
        s0, noise, init = _problem(seed, T)
        sol = solvers.evaluate(f, s0, noise, solvers.DEER(), init=init, tol=tol, lengths=lengths,
                               reset_nonfinite=True)
        seq = solvers.evaluate(f, s0, noise, solvers.Sequential()).states
        lam = theory.lle(_jacobians(f, s0, seq, noise), key=jax.random.fold_in(jax.random.key(seed), 2),
                         burn_in=burn_in)
        prefix_iters, prefix_converged = _common.exact_prefix_counts(
            f, s0, noise, sol, lengths, tol, solvers.DEER())
        return prefix_iters, prefix_converged, sol.num_iters, lam

    return jax.vmap(one)(seeds)


def _jacobians(f, s0, states, inputs):
    return solvers.jacobians(f, solvers.shift(s0, states), inputs)[1]


@functools.partial(jax.jit, static_argnames=("f", "T", "max_iters", "burn_in"))
def _traced_run(seed, tol, *, f, T, max_iters, burn_in):
    s0, noise, init = _problem(seed, T)
    sol = solvers.evaluate(f, s0, noise, solvers.DEER(), init=init, tol=tol, trace="states",
                           max_iters=max_iters, reset_nonfinite=True)
    key = jax.random.fold_in(jax.random.key(seed), 2)

    def iterate_lle(states):
        # NaN-padded iterates after convergence give NaN and are masked by the caller.
        return theory.lle(_jacobians(f, s0, states, noise), key=key, burn_in=burn_in)

    return sol.merit_trace, jax.lax.map(iterate_lle, sol.states_trace), sol.num_iters


def compute(config) -> dict:
    """Steps ``(S, nT)``, LLEs ``(S,)``; merit and iterate LLEs of one traced run."""
    c = config
    f = _step(float(c["eps"]))
    Ts = _common.length_grid(c["T_min"], c["T_max"], c["num_T"])
    seeds = jnp.arange(c["seeds"])
    steps, conv, iters, lam = jax.device_get(
        _steps_and_lle(seeds, c["tol"], f=f, T=c["T_max"], lengths=tuple(int(t) for t in Ts),
                       burn_in=c["lle_burn_in"]))
    merit, it_lle, n = jax.device_get(
        _traced_run(c["fig8_seed"], c["tol"], f=f, T=c["fig8_T"], max_iters=c["fig8_max_iters"],
                    burn_in=c["lle_burn_in"]))
    n = int(n)
    return dict(
        T=Ts, steps=steps, converged=conv, lle=lam,
        fig8_merit=merit[: n + 1], fig8_lle=it_lle[: n + 1], fig8_T=c["fig8_T"], tol=c["tol"],
        caption3=(f"Two-well Langevin sampler (D = 2, ε = {c['eps']}), {c['seeds']} seeds, DEER from a "
                  f"standard-normal guess, {len(Ts)} log-spaced T ∈ [{c['T_min']}, {c['T_max']}] (prefix "
                  f"counts of one run per seed), tol L/T ≤ {c['tol']:g}, float64. Paper: 20 seeds, "
                  "T ≤ 10 000."),
        caption8=(f"Two-well Langevin sampler, one run (seed {c['fig8_seed']}, T = {c['fig8_T']}): LLE "
                  f"(per step, burn-in {c['lle_burn_in']}) of the dynamics linearised along each DEER "
                  "iterate (iterate 0 = the standard-normal guess), and the merit L(s)/T."),
    )


def plot(data):
    """Figure 3: DEER steps vs T."""
    Ts, steps = data["T"], data["steps"]
    with _style.style_context():
        fig, ax = _style.figure(1, height=2.2)
        ax.fill_between(Ts, steps.min(axis=0), steps.max(axis=0), color=_style.COLORS["sky"], alpha=0.35,
                        lw=0, label="range over seeds")
        ax.plot(Ts, np.median(steps, axis=0), color=_style.COLORS["blue"], marker="o", label="median")
        ax.axhline(PAPER["max_steps"], color=_style.COLORS["grey"], ls=":", lw=0.8,
                   label=f"paper: max ≈ {PAPER['max_steps']} at T = 10 000")
        ax.set_xscale("log")
        _style.plain_log(ax.xaxis)
        ax.set_xlabel("sequence length $T$ (steps)")
        ax.set_ylabel("DEER steps to tol")
        ax.set_title(f"λ = {np.mean(data['lle']):.4f} per step (mean over seeds)")
        ax.legend(loc="upper left")
        _style.caption(fig, "Figure 3. " + str(data["caption3"]))
    return fig


def plot_fig8(data):
    """Figure 8: LLE of every DEER iterate, and the merit per iteration."""
    from matplotlib.ticker import MaxNLocator

    merit, lle = data["fig8_merit"], data["fig8_lle"]
    k = np.arange(len(merit))
    with _style.style_context():
        fig, (a0, a1) = _style.figure(2, height=2.0)
        a0.plot(k, lle, color=_style.COLORS["blue"], marker="o")
        a0.axhline(0, color=_style.COLORS["grey"], ls="--", lw=0.8)
        a0.axhline(PAPER["lle"], color=_style.COLORS["red"], ls=":", lw=0.8, label="paper: −0.0145")
        a0.set_xlabel("DEER iteration $i$")
        a0.set_ylabel(r"LLE along iterate $s^{(i)}$ (per step)")
        a0.legend(loc="upper right")
        a1.plot(k, merit, color=_style.COLORS["blue"], marker="o")
        a1.axhline(float(data["tol"]), color=_style.COLORS["grey"], ls=":", lw=0.8, label="tol")
        a1.set_yscale("log")
        a1.set_xlabel("DEER iteration $i$")
        a1.set_ylabel(r"merit $L(s^{(i)})/T$")
        a1.legend(loc="upper right")
        for ax in (a0, a1):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        _style.caption(fig, "Figure 8. " + str(data["caption8"]))
    return fig


def plots(data) -> dict:
    return {"fig3_langevin_steps": plot(data), "fig8_langevin_iterates": plot_fig8(data)}


def summary(data, meta) -> str:
    steps, Ts = data["steps"], data["T"]
    lle = data["lle"]
    it_lle = data["fig8_lle"]
    after = it_lle[1:]
    neg = "all negative" if after.size and np.all(after < 0) else "not all negative"
    return (
        f"- Figure 3 ({steps.shape[0]} seeds, T ≤ {int(Ts.max())}): LLE **{lle.mean():.4f}** per step "
        f"(range {lle.min():.4f} … {lle.max():.4f}; paper {PAPER['lle']}); maximum DEER steps at "
        f"T = {int(Ts.max())}: **{int(steps[:, -1].max())}** (median {np.median(steps[:, -1]):.0f}; paper "
        f"≈ {PAPER['max_steps']} at T = {PAPER['T_max']}).\n"
        f"- Figure 8 (T = {int(data['fig8_T'])}): {len(it_lle) - 1} DEER iterations; the LLE along iterate 0 "
        f"(the guess) is {it_lle[0]:.3f}, along iterates ≥ 1 {neg} (max {after.max() if after.size else float('nan'):.4f}); "
        f"the merit peaks at iteration {int(np.nanargmax(data['fig8_merit']))}.\n"
    )


def main(preset: str = "quick", out=None, force: bool = False) -> int:
    """Make Figures 3 and 8."""
    from ._runner import main as _main

    return _main(["fig3", "--preset", preset, *(["--out", str(out)] if out else []),
                  *(["--force"] if force else [])])


if __name__ == "__main__":
    import sys

    from ._runner import main as _main

    sys.exit(_main(["fig3", *sys.argv[1:]]))
