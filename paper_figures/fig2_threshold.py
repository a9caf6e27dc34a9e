"""Figure 2: the mean-field RNN threshold — DEER steps jump where the LLE crosses 0.

Left: ``−log μ̃(λ, T)`` with ``μ̃ = ((e^λ − 1)/(e^{λT} − 1))²``, Theorem 2's lower bound on the PL
constant with a = 1 (``theory.log_pl_constant_bounds``). Centre: measured DEER steps over (λ, T)
(mean over seeds). Right: steps vs λ at the highlighted T for every seed.

One DEER run per (gain, seed) at the longest T gives the counts of every shorter T: DEER is
causal, so the first T' states of an iterate do not depend on later ones (PAPER.md §2). A
prefix whose own merit is still above tol when the full run stops is finished by a few more
iterations from the final iterate (``_common.exact_prefix_counts``), so every count follows the
separate-run rule.

References: PAPER.md §5 (the "theory" panel), §6 (mean-field RNN, Fig 2), Theorem 2.
"""

from __future__ import annotations

import numpy as np

import solvers
import theory

from . import _common, _style

NAME = "fig2_threshold"
DATA_VERSION = 2
PAPER = {"lle_crossing_gain": 1.2}

PRESETS = {
    "paper": dict(D=100, seeds=20, g_min=0.5, g_max=2.0, num_gains=50, T_min=10, T_max=10_000,
                  num_T=50, T_highlight=1000, tol=1e-10, lle_burn_in=100, seed_chunk=10),
    "quick": dict(D=32, seeds=4, g_min=0.5, g_max=2.0, num_gains=16, T_min=10, T_max=500,
                  num_T=12, T_highlight=500, tol=1e-10, lle_burn_in=100, seed_chunk=None),
    "tiny": dict(D=16, seeds=3, g_min=0.5, g_max=2.5, num_gains=3, T_min=8, T_max=64,
                 num_T=4, T_highlight=64, tol=1e-10, lle_burn_in=8, seed_chunk=None),
}
#: cost of the paper preset (documented in docs/figures.md)
PAPER_COST = ("50 gains × 20 seeds of dense DEER at D = 100, T = 10 000 (chaotic gains need "
              "thousands of iterations): hours on an H100/H200-class GPU, 32 GB+ of memory per "
              "batch of 10 seeds; not feasible on a CPU.")


def compute(config) -> dict:
    """Steps ``(G, S, nT)`` of DEER for every gain, seed and T, and LLEs ``(G, S)``."""
    c = config
    gains = _common.gain_grid(c["g_min"], c["g_max"], c["num_gains"])
    Ts = _common.length_grid(c["T_min"], c["T_max"], c["num_T"], include=[c["T_highlight"]])
    seeds = np.arange(c["seeds"])
    steps, conv, lams = [], [], []
    for g in gains:
        sol = _common.mf_solve(seeds, g, D=c["D"], T=c["T_max"], solver=solvers.DEER(), tol=c["tol"],
                               lengths=Ts, seed_chunk=c["seed_chunk"])
        _, lam = _common.mf_sequential_lle(seeds, g, D=c["D"], T=c["T_max"], burn_in=c["lle_burn_in"],
                                           seed_chunk=c["seed_chunk"])
        steps.append(sol["prefix_iters"])
        conv.append(sol["prefix_converged"])
        lams.append(lam)
    lams = np.asarray(lams)
    lam_grid = np.linspace(min(lams.min(), -0.05), max(lams.max(), 0.05), 121)
    log_lower, _ = theory.log_pl_constant_bounds(lam_grid[:, None], Ts[None, :].astype(float), a=1.0)
    return dict(
        gains=gains, T=Ts, steps=np.asarray(steps), converged=np.asarray(conv), lle=lams,
        lam_grid=lam_grid, neg_log_mu=-np.asarray(log_lower), T_highlight=c["T_highlight"],
        D=c["D"], tol=c["tol"],
        caption=_caption(c),
    )


def _caption(c):
    return (f"Mean-field RNN, D = {c['D']}, {c['num_gains']} gains g ∈ [{c['g_min']}, {c['g_max']}], "
            f"{c['seeds']} seeds, {c['num_T']} log-spaced T ∈ [{c['T_min']}, {c['T_max']}], float64, "
            f"tol L/T ≤ {c['tol']:g}; LLE along the sequential rollout of length {c['T_max']} "
            f"(burn-in {c['lle_burn_in']}). Paper: D = 100, 50 gains, 20 seeds, T ≤ 10 000.")


def plot(data):
    """The three panels of Figure 2."""
    from matplotlib.colors import LogNorm

    gains, Ts, steps, lle = data["gains"], data["T"], data["steps"], data["lle"]
    lam_med = np.median(lle, axis=1)
    order = np.argsort(lam_med)
    with _style.style_context():
        fig, (a0, a1, a2) = _style.figure(3, height=2.3)
        neg = np.maximum(data["neg_log_mu"], 1e-3)
        m0 = a0.pcolormesh(data["lam_grid"], Ts, neg.T, shading="nearest",
                           norm=LogNorm(vmin=neg.min(), vmax=neg.max()), rasterized=True)
        fig.colorbar(m0, ax=a0, label=r"$-\log\tilde\mu$")
        a0.set_title(r"theory: $-\log\tilde\mu(\lambda, T)$ (Thm 2, $a = 1$)")
        mean_steps = np.maximum(steps.mean(axis=1), 1)[order]
        m1 = a1.pcolormesh(lam_med[order], Ts, mean_steps.T, shading="nearest",
                           norm=LogNorm(vmin=1, vmax=max(Ts.max(), 2)), rasterized=True)
        fig.colorbar(m1, ax=a1, label="DEER steps (mean over seeds)")
        a1.set_title("measured DEER steps")
        for ax in (a0, a1):
            ax.set_yscale("log")
            _style.plain_log(ax.yaxis)
            ax.set_xlabel(r"LLE $\lambda$ (per step)")
            ax.set_ylabel("sequence length $T$ (steps)")
            ax.axvline(0, color="w", lw=0.8, ls="--")
            ax.set_xlim(data["lam_grid"].min(), data["lam_grid"].max())
        k = int(np.flatnonzero(Ts == int(data["T_highlight"]))[0])
        sc = a2.scatter(lle.ravel(), np.maximum(steps[:, :, k].ravel(), 0.8),
                        c=np.repeat(gains, lle.shape[1]), s=6, cmap="viridis", lw=0)
        fig.colorbar(sc, ax=a2, label="gain $g$")
        a2.axvline(0, color=_style.COLORS["grey"], lw=0.8, ls="--")
        T_hl = int(data["T_highlight"])
        a2.axhline(T_hl, color=_style.COLORS["red"], lw=0.8, ls=":")
        a2.annotate(f"T = {T_hl} (sequential steps)", xy=(0.03, T_hl), xycoords=("axes fraction", "data"),
                    va="bottom", fontsize=6, color=_style.COLORS["red"])
        a2.set_yscale("log")
        a2.set_ylim(0.6, T_hl * 3)
        _style.plain_log(a2.yaxis)
        a2.set_xlabel(r"LLE $\lambda$ (per step)")
        a2.set_ylabel("DEER steps to tol")
        a2.set_title(f"every seed, T = {int(data['T_highlight'])}")
        _style.caption(fig, "Figure 2. " + str(data["caption"]))
    return fig


def plots(data) -> dict:
    return {NAME: plot(data)}


def summary(data, meta) -> str:
    lle, steps, Ts = data["lle"], data["steps"], data["T"]
    k = int(np.flatnonzero(Ts == int(data["T_highlight"]))[0])
    pred, chaos = lle < 0, lle >= 0
    g0 = _common.zero_crossing(data["gains"], np.median(lle, axis=1))
    med = lambda m: f"{np.median(steps[:, :, k][m]):.0f}" if m.any() else "—"  # noqa: E731
    return (
        f"- Figure 2 (D = {int(data['D'])}, T ≤ {int(Ts.max())}): gain where the median LLE crosses 0: "
        f"**{g0:.3f}** (paper ≈ {PAPER['lle_crossing_gain']}); median DEER steps at T = {int(data['T_highlight'])}: "
        f"{med(pred)} when λ < 0, {med(chaos)} when λ ≥ 0.\n"
    )


def main(preset: str = "quick", out=None, force: bool = False) -> int:
    """Make Figure 2 (``python -m paper_figures.fig2_threshold [--preset ...]``)."""
    from ._runner import main as _main

    return _main(["fig2", "--preset", preset, *(["--out", str(out)] if out else []),
                  *(["--force"] if force else [])])


if __name__ == "__main__":
    import sys

    from ._runner import main as _main

    sys.exit(_main(["fig2", *sys.argv[1:]]))
