"""Figure 5: gain g vs the largest Lyapunov exponent of the mean-field RNN (median and range over
seeds), and the gain where it crosses 0 (the paper: about g = 1.2).

The LLE of each (g, seed) comes from ``theory.lle`` (Algorithm 1, 3 random start vectors) on the
Jacobians along the sequential rollout, after a burn-in.

References: PAPER.md §3 (Algorithm 1), §6 (mean-field RNN, Fig 5).
"""

from __future__ import annotations

import numpy as np

from . import _common, _style

NAME = "fig5_lle"
DATA_VERSION = 1
PAPER = {"lle_crossing_gain": 1.2}

PRESETS = {
    "paper": dict(D=100, seeds=20, g_min=0.5, g_max=2.0, num_gains=50, T=10_000, lle_burn_in=100,
                  seed_chunk=5),
    "quick": dict(D=100, seeds=10, g_min=0.5, g_max=2.0, num_gains=31, T=1000, lle_burn_in=100,
                  seed_chunk=5),
    "tiny": dict(D=16, seeds=3, g_min=0.5, g_max=2.5, num_gains=3, T=64, lle_burn_in=8,
                 seed_chunk=None),
}
PAPER_COST = ("50 gains × 20 seeds of sequential rollouts with Jacobians at D = 100, T = 10 000: "
              "minutes on a GPU, about an hour on 2 CPU cores (memory: 4 GB per batch of 5 seeds).")


def compute(config) -> dict:
    """LLEs ``(G, S)`` per step, the gains, and the gain where the median crosses 0."""
    c = config
    gains = _common.gain_grid(c["g_min"], c["g_max"], c["num_gains"])
    seeds = np.arange(c["seeds"])
    lams = np.asarray([
        _common.mf_sequential_lle(seeds, g, D=c["D"], T=c["T"], burn_in=c["lle_burn_in"],
                                  seed_chunk=c["seed_chunk"])[1]
        for g in gains
    ])
    return dict(
        gains=gains, lle=lams, D=c["D"], T=c["T"],
        crossing_gain=_common.zero_crossing(gains, np.median(lams, axis=1)),
        caption=(f"Mean-field RNN, D = {c['D']}, {c['num_gains']} gains, {c['seeds']} seeds; LLE "
                 f"(per step) along the sequential rollout of length T = {c['T']} after a burn-in of "
                 f"{c['lle_burn_in']} steps, 3 random start vectors, float64. "
                 "Paper: D = 100, 50 gains, 20 seeds."),
    )


def plot(data):
    gains, lle = data["gains"], data["lle"]
    g0 = float(data["crossing_gain"])
    with _style.style_context():
        fig, ax = _style.figure(1, height=2.3)
        ax.fill_between(gains, lle.min(axis=1), lle.max(axis=1), color=_style.COLORS["sky"], alpha=0.35,
                        lw=0, label="range over seeds")
        ax.plot(gains, np.median(lle, axis=1), color=_style.COLORS["blue"], label="median")
        ax.axhline(0, color=_style.COLORS["grey"], lw=0.8, ls="--")
        if np.isfinite(g0):
            ax.axvline(g0, color=_style.COLORS["red"], lw=0.8, ls=":", label=f"λ = 0 at g = {g0:.2f}")
        ax.axvline(PAPER["lle_crossing_gain"], color=_style.COLORS["grey"], lw=0.8, ls=":",
                   label="paper: g ≈ 1.2")
        ax.set_xlabel("gain $g$")
        ax.set_ylabel(r"LLE $\lambda$ (per step)")
        ax.legend(loc="upper left")
        _style.caption(fig, "Figure 5. " + str(data["caption"]))
    return fig


def plots(data) -> dict:
    return {NAME: plot(data)}


def summary(data, meta) -> str:
    g0 = float(data["crossing_gain"])
    return (f"- Figure 5 (D = {int(data['D'])}, T = {int(data['T'])}, {data['lle'].shape[1]} seeds × "
            f"{data['lle'].shape[0]} gains): median LLE crosses 0 at g = **{g0:.3f}** "
            f"(paper ≈ {PAPER['lle_crossing_gain']}); LLE range {data['lle'].min():.3f} … "
            f"{data['lle'].max():.3f} per step.\n")


def main(preset: str = "quick", out=None, force: bool = False) -> int:
    """Make Figure 5."""
    from ._runner import main as _main

    return _main(["fig5", "--preset", preset, *(["--out", str(out)] if out else []),
                  *(["--force"] if force else [])])


if __name__ == "__main__":
    import sys

    from ._runner import main as _main

    sys.exit(_main(["fig5", *sys.argv[1:]]))
