"""Figure 7: steps and wall-clock vs λ for sequential, DEER, quasi-DEER and gradient descent.

Mean-field RNN at tol 1e-4 (the paper's optimiser comparison). Gradient descent uses, per gain,
the best step size from the paper's list (most seeds converged, then fewest median steps).
Steps are measured batched over seeds; wall-clock is measured per (gain, seed) with the solve
compiled once per solver, as the minimum over a few repeats for short runs, on the hardware
named in the panel.

Observation: the mean-field RNN has ``W_ii = 0``, so ``diag(J_t) = 0`` and quasi-DEER
(``A_t = diag J_t``) coincides with Jacobi (``A_t = 0``) on this system.

References: PAPER.md §6 (Fig 7), §2 (the family).
"""

from __future__ import annotations

import functools
import time

import jax
import jax.numpy as jnp
import numpy as np

import solvers

from . import _cache, _common, _style

NAME = "fig7_solvers"
DATA_VERSION = 2
SOLVERS = ("sequential", "deer", "quasi", "gd")
PAPER = {"speedup_predictable": 10, "slowdown_chaotic": (10, 100), "hardware": "NVIDIA H100"}
GD_STEPS = [0.01, 0.1, 0.25, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]

PRESETS = {
    "paper": dict(D=100, T=1000, seeds=5, g_min=0.5, g_max=2.0, num_gains=16, tol=1e-4,
                  gd_step_sizes=GD_STEPS, gd_max_iters=10_000, repeats=3, lle_burn_in=100),
    "quick": dict(D=32, T=300, seeds=3, g_min=0.5, g_max=2.0, num_gains=8, tol=1e-4,
                  gd_step_sizes=GD_STEPS, gd_max_iters=3000, repeats=3, lle_burn_in=100),
    "tiny": dict(D=16, T=64, seeds=3, g_min=0.5, g_max=2.5, num_gains=3, tol=1e-4,
                 gd_step_sizes=[0.1, 0.5], gd_max_iters=640, repeats=1, lle_burn_in=8),
}
PAPER_COST = ("16 gains × 5 seeds × 4 solvers at D = 100, T = 1000, with 9 gradient-descent step "
              "sizes of up to 10 000 iterations each: tens of minutes on a GPU; hours on 2 CPU cores.")


def _solver(kind, step):
    if kind == "gd":
        return solvers.GradientDescent(step)
    return {"deer": solvers.DEER, "quasi": solvers.QuasiDEER}[kind]()


@functools.partial(jax.jit, static_argnames=("D", "T"))
def _problem(key, g, *, D, T):
    d = _common.mean_field_rnn_data(key, g, D, T, _common.float_dtype())
    init = jax.random.uniform(jax.random.fold_in(key, 1), (T, D), d["s0"].dtype, -1.0, 1.0)
    return d["W"], d["s0"], d["inputs"], init


def _f(W):
    return lambda s, u: W @ jnp.tanh(s) + u


@functools.partial(jax.jit, static_argnames=("max_iters",))
def _solve_one(W, s0, inputs, init, tol, solver, *, max_iters):
    sol = solvers.evaluate(_f(W), s0, inputs, solver, init=init, tol=tol, max_iters=max_iters,
                           reset_nonfinite=True)
    return sol.states, sol.num_iters, sol.converged


@jax.jit
def _sequential_one(W, s0, inputs):
    return solvers.evaluate(_f(W), s0, inputs, solvers.Sequential()).states


def _timed(fn, repeats, warm: set, kind: str):
    """Seconds of one call; short calls are repeated and the minimum taken. The first call of each
    kind compiles and is not timed."""
    if kind not in warm:
        jax.block_until_ready(fn())
        warm.add(kind)
    t0 = time.perf_counter()
    out = jax.block_until_ready(fn())
    best = time.perf_counter() - t0
    for _ in range(repeats - 1 if best < 0.2 else 0):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - t0)
    return best, out


def compute(config) -> dict:
    """Steps, convergence and seconds ``(4, G, S)`` for the four solvers; LLEs ``(G, S)``."""
    c = config
    D, T = c["D"], c["T"]
    gains = _common.gain_grid(c["g_min"], c["g_max"], c["num_gains"])
    seeds = np.arange(c["seeds"])
    G, S = len(gains), len(seeds)
    steps = np.zeros((4, G, S), int)
    conv = np.zeros((4, G, S), bool)
    secs = np.zeros((4, G, S))
    lle = np.zeros((G, S))
    gd_all = np.zeros((len(c["gd_step_sizes"]), G, S), int)
    gd_conv = np.zeros_like(gd_all, bool)
    gd_best = np.zeros(G)
    keys = _common.seed_keys(seeds)
    warm = set()
    for i, g in enumerate(gains):
        lle[i] = _common.mf_sequential_lle(seeds, g, D=D, T=T, burn_in=c["lle_burn_in"])[1]
        steps[0, i], conv[0, i] = T, True
        for j, kind in enumerate(("deer", "quasi"), start=1):
            r = _common.mf_solve(seeds, g, D=D, T=T, solver=_solver(kind, None), tol=c["tol"])
            steps[j, i], conv[j, i] = r["num_iters"], r["converged"]
        for k, step in enumerate(c["gd_step_sizes"]):
            r = _common.mf_solve(seeds, g, D=D, T=T, solver=solvers.GradientDescent(step), tol=c["tol"],
                                 max_iters=c["gd_max_iters"])
            gd_all[k, i], gd_conv[k, i] = r["num_iters"], r["converged"]
        # Best step size: most seeds converged, then fewest median steps.
        best = min(range(len(c["gd_step_sizes"])),
                   key=lambda k: (-gd_conv[k, i].sum(), np.median(gd_all[k, i])))
        gd_best[i] = c["gd_step_sizes"][best]
        steps[3, i], conv[3, i] = gd_all[best, i], gd_conv[best, i]
        # Wall-clock, one problem at a time (the compiled solve is shared by every call).
        for s in range(S):
            W, s0, inputs, init = _problem(keys[s], jnp.asarray(g, _common.float_dtype()), D=D, T=T)
            secs[0, i, s], _ = _timed(functools.partial(_sequential_one, W, s0, inputs), c["repeats"],
                                      warm, "sequential")
            for j, kind in enumerate(("deer", "quasi", "gd"), start=1):
                mi = c["gd_max_iters"] if kind == "gd" else T
                solver = _solver(kind, jnp.asarray(gd_best[i], _common.float_dtype()))
                secs[j, i, s], _ = _timed(
                    functools.partial(_solve_one, W, s0, inputs, init, c["tol"], solver, max_iters=mi),
                    c["repeats"], warm, kind)
    hw = _cache.hardware()
    return dict(
        gains=gains, lle=lle, solvers=np.asarray(SOLVERS), steps=steps, converged=conv, seconds=secs,
        gd_step=gd_best, gd_step_sizes=np.asarray(c["gd_step_sizes"]), gd_steps_all=gd_all,
        gd_converged_all=gd_conv, D=D, T=T, tol=c["tol"], hardware=_style.hardware_label(hw),
        caption=(f"Mean-field RNN, D = {D}, T = {T}, {c['num_gains']} gains × {c['seeds']} seeds, tol L/T ≤ "
                 f"{c['tol']:g}, float64; gradient descent with the best step size per gain from "
                 f"{c['gd_step_sizes']} (at most {c['gd_max_iters']} steps; where none converges, the first); "
                 "hollow markers: not converged. "
                 f"Wall-clock on {_style.hardware_label(hw)}. quasi-DEER coincides with Jacobi here "
                 "(W_ii = 0 makes diag J_t = 0). Paper: D = 100, T = 1000, 16 gains × 5 seeds, H100."),
    )


def plot(data):
    lam = np.median(data["lle"], axis=1)
    order = np.argsort(lam)
    with _style.style_context():
        fig, (a0, a1) = _style.figure(2, height=2.4)
        for j, kind in enumerate(SOLVERS):
            st = _style.SOLVER_STYLE[kind]
            for ax, values in ((a0, data["steps"][j]), (a1, data["seconds"][j])):
                med = np.median(values, axis=1)[order]
                lo, hi = values.min(axis=1)[order], values.max(axis=1)[order]
                ax.errorbar(lam[order], med, yerr=[med - lo, hi - med], color=st["color"], marker=st["marker"],
                            label=st["label"], capsize=1.5, lw=1.0, elinewidth=0.6)
                bad = ~data["converged"][j].all(axis=1)[order]
                if bad.any():
                    ax.scatter(lam[order][bad], med[bad], s=30, facecolors="none", edgecolors=st["color"], lw=0.8)
        for ax in (a0, a1):
            ax.set_yscale("log")
            ax.axvline(0, color=_style.COLORS["grey"], ls="--", lw=0.8)
            ax.set_xlabel(r"LLE $\lambda$ (per step, median over seeds)")
        _style.plain_log(a0.yaxis)
        a0.set_ylabel("steps to tol (median, range)")
        a1.set_ylabel("wall-clock (s)")
        a1.set_title(f"wall-clock on {data['hardware']}")
        lo, hi = a0.get_ylim()
        a0.set_ylim(lo, hi * 12)  # room for the legend above the curves
        a0.legend(loc="upper left", ncols=2)
        _style.caption(fig, "Figure 7. " + str(data["caption"]))
    return fig


def plots(data) -> dict:
    return {NAME: plot(data)}


def time_ratios(data):
    """Median DEER/sequential time ratio over the (gain, seed) runs with λ < 0 and with λ ≥ 0."""
    ratio = data["seconds"][1] / data["seconds"][0]
    lle = data["lle"]
    pick = lambda m: float(np.median(ratio[m])) if m.any() else float("nan")  # noqa: E731
    return pick(lle < 0), pick(lle >= 0)


def summary(data, meta) -> str:
    pred, chaos = time_ratios(data)
    lle = data["lle"]

    def words(r):
        if not np.isfinite(r):
            return "no runs"
        return f"{1 / r:.1f}× faster" if r < 1 else f"{r:.1f}× slower"

    quasi_eq = bool(np.all(data["steps"][2] >= 1))
    return (
        f"- Figure 7 (D = {int(data['D'])}, T = {int(data['T'])}, {lle.shape[0]} gains × {lle.shape[1]} seeds, "
        f"tol {float(data['tol']):g}, on {data['hardware']}): DEER/sequential wall-clock ratio, median over "
        f"runs: **{pred:.3g}** when λ < 0 (DEER {words(pred)}), **{chaos:.3g}** when λ ≥ 0 (DEER {words(chaos)}). "
        f"Paper (D = 100, T = 1000, {PAPER['hardware']}): about {PAPER['speedup_predictable']}× faster when "
        f"predictable, {PAPER['slowdown_chaotic'][0]}–{PAPER['slowdown_chaotic'][1]}× slower when chaotic. "
        "A CPU runs the scan's O(T D³) work without the parallel hardware it is designed for, so on a CPU "
        "DEER is expected to lose to the O(T D²) sequential rollout even when it needs few iterations.\n"
        f"- Median steps, λ < 0 vs λ ≥ 0: DEER {np.median(data['steps'][1][lle < 0]) if (lle < 0).any() else '—'} vs "
        f"{np.median(data['steps'][1][lle >= 0]) if (lle >= 0).any() else '—'}; quasi-DEER "
        f"{np.median(data['steps'][2][lle < 0]) if (lle < 0).any() else '—'} vs "
        f"{np.median(data['steps'][2][lle >= 0]) if (lle >= 0).any() else '—'} "
        f"(quasi-DEER = Jacobi here: W_ii = 0 so diag J_t = 0{'' if quasi_eq else ''}); gradient descent "
        f"step sizes chosen per gain: {', '.join(f'{s:g}' for s in data['gd_step'])}.\n"
    )


def main(preset: str = "quick", out=None, force: bool = False) -> int:
    """Make Figure 7."""
    from ._runner import main as _main

    return _main(["fig7", "--preset", preset, *(["--out", str(out)] if out else []),
                  *(["--force"] if force else [])])


if __name__ == "__main__":
    import sys

    from ._runner import main as _main

    sys.exit(_main(["fig7", *sys.argv[1:]]))
