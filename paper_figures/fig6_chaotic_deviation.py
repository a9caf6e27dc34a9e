"""Figure 6: a "converged" DEER answer for a chaotic gain is not the sequential rollout.

At g = 1.85 (λ > 0) DEER stops when ``L(s)/T ≤ tol``; its states nevertheless drift from the
sequential rollout like ``e^{λt}``: the tiny residuals left at convergence are amplified by the
unstable dynamics. A predictable gain (λ < 0) is shown for contrast: there the deviation stays at the
level the tolerance allows.

References: PAPER.md §6 (Fig 6), §7 ("a numerically zero merit does not mean the right trajectory").
"""

from __future__ import annotations

import numpy as np

import solvers

from . import _common, _style

NAME = "fig6_chaotic_deviation"
DATA_VERSION = 1

PRESETS = {
    "paper": dict(D=100, g=1.85, g_predictable=0.8, T=1000, seeds=5, tol=1e-10, lle_burn_in=100),
    "quick": dict(D=32, g=1.85, g_predictable=0.8, T=1000, seeds=3, tol=1e-10, lle_burn_in=100),
    "tiny": dict(D=16, g=2.5, g_predictable=0.5, T=64, seeds=3, tol=1e-10, lle_burn_in=8),
}
PAPER_COST = ("5 seeds of dense DEER at D = 100, T = 1000 for a chaotic gain (hundreds of "
              "iterations): about a minute on a GPU, an hour on 2 CPU cores.")


def _deviation(seeds, g, c):
    sol = _common.mf_solve(seeds, g, D=c["D"], T=c["T"], solver=solvers.DEER(), tol=c["tol"])
    seq, lam = _common.mf_sequential_lle(seeds, g, D=c["D"], T=c["T"], burn_in=c["lle_burn_in"])
    dev = np.max(np.abs(sol["states"] - seq), axis=-1)
    return dev, sol, lam


def compute(config) -> dict:
    """``|s_DEER,t − s_seq,t|_∞`` over t ``(S, T)`` for the chaotic and the predictable gain."""
    c = config
    seeds = np.arange(c["seeds"])
    dev, sol, lam = _deviation(seeds, c["g"], c)
    dev_p, sol_p, lam_p = _deviation(seeds, c["g_predictable"], c)
    return dict(
        t=np.arange(1, c["T"] + 1), deviation=dev, merit=sol["merit"], num_iters=sol["num_iters"],
        converged=sol["converged"], status=sol["status"], lle=lam, g=c["g"],
        deviation_predictable=dev_p, merit_predictable=sol_p["merit"],
        num_iters_predictable=sol_p["num_iters"], lle_predictable=lam_p, g_predictable=c["g_predictable"],
        D=c["D"], tol=c["tol"],
        caption=(f"Mean-field RNN, D = {c['D']}, T = {c['T']}, {c['seeds']} seeds, float64; DEER stopped "
                 f"at L(s)/T ≤ {c['tol']:g}; deviation = max over units of |s_DEER − s_seq|. "
                 f"Paper: D = 100, g = 1.85, T = 1000."),
    )


def plot(data):
    t = data["t"]
    with _style.style_context():
        fig, ax = _style.figure(1, height=2.4)
        floor = 1e-17
        for i, dev in enumerate(data["deviation_predictable"]):
            ax.plot(t, np.maximum(dev, floor), color=_style.COLORS["grey"], lw=0.8,
                    label=f"g = {float(data['g_predictable']):g} (λ < 0)" if i == 0 else None)
        for i, dev in enumerate(data["deviation"]):
            ax.plot(t, np.maximum(dev, floor), color=_style.COLORS["red"], lw=0.9, alpha=0.85,
                    label=f"g = {float(data['g']):g} (λ > 0)" if i == 0 else None)
        lam = float(np.median(data["lle"]))
        dev = np.median(data["deviation"], axis=0)
        ok = (dev > 1e-14) & (dev < 1e-2)
        if ok.sum() > 2 and lam > 0:
            c = np.median(np.log(dev[ok]) - lam * t[ok])
            ref = np.exp(c + lam * t)
            keep = ref < 10
            ax.plot(t[keep], ref[keep], color=_style.COLORS["black"], ls="--", lw=0.8,
                    label=rf"$\propto e^{{\lambda t}}$, $\lambda$ = {lam:.3f}")
        ax.set_yscale("log")
        ax.set_xlabel("time step $t$")
        ax.set_ylabel(r"$\max_i |s^{\rm DEER}_{t,i} - s^{\rm seq}_{t,i}|$")
        merit = float(np.max(data["merit"]))
        ax.set_title(f"DEER 'converged' (max L/T = {merit:.1e}) yet wrong", fontsize=8)
        ax.legend(loc="lower right")
        _style.caption(fig, "Figure 6. " + str(data["caption"]))
    return fig


def plots(data) -> dict:
    return {NAME: plot(data)}


def summary(data, meta) -> str:
    dev = data["deviation"]
    return (f"- Figure 6 (D = {int(data['D'])}, T = {dev.shape[1]}, g = {float(data['g']):g}, "
            f"{dev.shape[0]} seeds): DEER stopped after {int(np.median(data['num_iters']))} iterations "
            f"(median) with L/T ≤ {float(np.max(data['merit'])):.1e}, yet its largest deviation from the "
            f"sequential rollout is {dev.max():.2e} (median over seeds of the final-step deviation "
            f"{np.median(dev[:, -1]):.2e}); LLE {np.median(data['lle']):.3f}/step. At "
            f"g = {float(data['g_predictable']):g} (LLE {np.median(data['lle_predictable']):.3f}) the "
            f"largest deviation is {data['deviation_predictable'].max():.1e}. Paper: the deviation "
            "grows exponentially in t.\n")


def main(preset: str = "quick", out=None, force: bool = False) -> int:
    """Make Figure 6."""
    from ._runner import main as _main

    return _main(["fig6", "--preset", preset, *(["--out", str(out)] if out else []),
                  *(["--force"] if force else [])])


if __name__ == "__main__":
    import sys

    from ._runner import main as _main

    sys.exit(_main(["fig6", *sys.argv[1:]]))
