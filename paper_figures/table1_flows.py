"""Table 1 and Figure 9: nine chaotic flows and their observers.

For each flow (forward-Euler map, Δt = 0.01, the paper's start point) and its observer (driven
by the flow's true trajectory): the continuous-time LLE (``theory.lle`` with ``dt``, along the
sequential rollout — the same discretised map, start and window as the DEER run) and DEER's
steps from a standard-normal guess, with non-finite iterate entries reset to the guess (the
paper's choice: chaotic maps from a random guess overflow). Figure 9: steps vs T for every flow,
from the prefix counts of the same run (DEER is causal, PAPER.md §2).

References: PAPER.md §6 (chaotic flows and observers, Table 1).
"""

from __future__ import annotations

import functools

import jax
import numpy as np

import solvers
import theory
from verification.systems import FLOWS, chaotic_flow, flow_observer

from . import _common, _style

NAME = "table1_flows"
DATA_VERSION = 2

#: Table 1 of the paper: LLE system, LLE observer (continuous time), DEER steps system, observer (T = 30 000)
PAPER = {
    "ABC": (0.16, -0.08, 4243, 3),
    "Chua": (0.02, -1.37, 697, 14),
    "KawczynskiStrizhak": (0.01, -3.08, 29396, 2),
    "Lorenz": (1.02, -6.28, 30000, 3),
    "NoseHoover": (0.02, -0.13, 29765, 3),
    "Rossler": (0.01, -0.07, 29288, 7),
    "SprottB": (0.2, -0.39, 29486, 2),
    "Thomas": (0.01, -3.07, 12747, 7),
    "VallisElNino": (0.58, -2.48, 30000, 3),
}
PAPER_T = 30_000

PRESETS = {
    "paper": dict(flows=list(FLOWS), T=30_000, dt=0.01, T_min=100, num_T=16, tol=1e-10, lle_burn_in=0,
                  observer_seed=0, guess_seed=0),
    "quick": dict(flows=list(FLOWS), T=5000, dt=0.01, T_min=100, num_T=10, tol=1e-10, lle_burn_in=0,
                  observer_seed=0, guess_seed=0),
    "tiny": dict(flows=["Lorenz"], T=400, dt=0.01, T_min=50, num_T=3, tol=1e-10, lle_burn_in=0,
                 observer_seed=0, guess_seed=0),
}
PAPER_COST = ("9 flows × (system + observer) at T = 30 000, D = 3; the chaotic systems need up to "
              "T DEER iterations each: about 10 minutes on a GPU, an hour or more on 2 CPU cores.")


@functools.partial(jax.jit, static_argnames=("f", "lengths", "burn_in", "dt"))
def _run(s0, inputs, init, tol, key, *, f, lengths, burn_in, dt):
    sol = solvers.evaluate(f, s0, inputs, solvers.DEER(), init=init, tol=tol, lengths=lengths,
                           reset_nonfinite=True)
    seq = solvers.evaluate(f, s0, inputs, solvers.Sequential()).states
    jac = solvers.jacobians(f, solvers.shift(s0, seq), inputs)[1]
    lam = theory.lle(jac, key=key, burn_in=burn_in, dt=dt)
    prefix_iters, _ = _common.exact_prefix_counts(f, s0, inputs, sol, lengths, tol, solvers.DEER())
    return sol.num_iters, sol.converged, prefix_iters, lam


def _measure(system, key, c, Ts):
    init = system.initial_guess(jax.random.fold_in(key, 1))
    n, conv, prefix, lam = jax.device_get(_run(
        system.s0, system.inputs, init, c["tol"], jax.random.fold_in(key, 2), f=system.f,
        lengths=tuple(int(t) for t in Ts), burn_in=c["lle_burn_in"], dt=float(system.dt)))
    return int(n), bool(conv), prefix, float(lam)


def compute(config) -> dict:
    """Per flow: continuous LLEs, DEER steps at T and at every T of the Fig-9 grid."""
    c = config
    dtype = _common.float_dtype()
    Ts = _common.length_grid(c["T_min"], c["T"], c["num_T"])
    out = {k: [] for k in ("lle_system", "lle_observer", "steps_system", "steps_observer",
                           "converged_system", "converged_observer", "prefix_system", "prefix_observer")}
    key = jax.random.key(c["guess_seed"])
    for i, name in enumerate(c["flows"]):
        k = jax.random.fold_in(key, i)
        system = chaotic_flow(name, T=c["T"], dt=c["dt"], dtype=dtype)
        observer = flow_observer(name, T=c["T"], dt=c["dt"], seed=c["observer_seed"], dtype=dtype)
        for which, sysm, kk in (("system", system, k), ("observer", observer, jax.random.fold_in(k, 7))):
            n, conv, prefix, lam = _measure(sysm, kk, c, Ts)
            out[f"steps_{which}"].append(n)
            out[f"converged_{which}"].append(conv)
            out[f"prefix_{which}"].append(prefix)
            out[f"lle_{which}"].append(lam)
    return dict(
        flows=np.asarray(c["flows"]), T=Ts, T_max=c["T"], dt=c["dt"],
        **{k: np.asarray(v) for k, v in out.items()},
        caption=(f"{len(c['flows'])} flows as forward-Euler maps (Δt = {c['dt']}) and their observers, "
                 f"T = {c['T']}, DEER from a standard-normal guess with non-finite entries reset to it, tol "
                 f"L/T ≤ {c['tol']:g}, float64; steps at {len(Ts)} log-spaced T from the prefix counts of one "
                 f"run. Paper: T = {PAPER_T}."),
    )


def table(data) -> str:
    """Table 1 as Markdown, ours next to the paper's."""
    T = int(data["T_max"])
    rows = [
        f"| system | LLE system (ours / paper) | LLE observer (ours / paper) | steps system at T = {T} "
        f"(ours) / at T = {PAPER_T} (paper) | steps observer (ours / paper) |",
        "|---|---|---|---|---|",
    ]
    for i, name in enumerate(data["flows"]):
        name = str(name)
        p = PAPER.get(name, (np.nan,) * 4)
        mark = lambda ok: "" if ok else " (not converged)"  # noqa: E731
        rows.append(
            f"| {FLOWS[name][3]} | {data['lle_system'][i]:.3f} / {p[0]} | {data['lle_observer'][i]:.3f} / {p[1]} "
            f"| {int(data['steps_system'][i])}{mark(data['converged_system'][i])} / {p[2]} "
            f"| {int(data['steps_observer'][i])}{mark(data['converged_observer'][i])} / {p[3]} |"
        )
    return "\n".join(rows) + "\n"


def plot(data):
    """Figure 9: DEER steps vs T, system and observer, one panel per flow."""
    flows, Ts = data["flows"], data["T"]
    n = len(flows)
    ncols = min(3, n)
    nrows = -(-n // ncols)
    with _style.style_context():
        fig, axes = _style.figure(ncols, nrows, width=_style.FULL if n > 1 else _style.COLUMN,
                                  height=1.7, squeeze=False, sharex=True, sharey=True)
        for ax, i in zip(axes.ravel(), range(n), strict=False):
            name = str(flows[i])
            ax.plot(Ts, Ts, color=_style.COLORS["grey"], ls=":", lw=0.8, label="T (sequential)")
            ax.plot(Ts, np.maximum(data["prefix_system"][i], 0.8), color=_style.COLORS["red"], marker="o",
                    label="system")
            ax.plot(Ts, np.maximum(data["prefix_observer"][i], 0.8), color=_style.COLORS["blue"], marker="s",
                    label="observer")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(f"{FLOWS[name][3]} (λ = {data['lle_system'][i]:.2f} / {data['lle_observer'][i]:.2f})")
        for ax in axes.ravel()[n:]:
            ax.set_visible(False)
        for ax in axes[-1]:
            ax.set_xlabel("sequence length $T$ (steps)")
            _style.plain_log(ax.xaxis)
        for ax in axes[:, 0]:
            ax.set_ylabel("DEER steps")
            _style.plain_log(ax.yaxis)
        axes[0, 0].legend(loc="upper left")
        _style.caption(fig, "Figure 9. " + str(data["caption"]) +
                       " Titles: continuous-time LLE of system / observer.")
    return fig


def plots(data) -> dict:
    return {"fig9_flows_steps": plot(data)}


def write_extra(data, meta, out_dir):
    from pathlib import Path

    path = Path(out_dir) / "table1.md"
    path.write_text("# Table 1: chaotic flows and their observers\n\n" + table(data))
    return [path]


def summary(data, meta) -> str:
    return (f"Table 1 at T = {int(data['T_max'])} (paper: T = {PAPER_T}); continuous-time LLEs along the "
            f"sequential rollout of the same Euler map and window:\n\n" + table(data))


def main(preset: str = "quick", out=None, force: bool = False) -> int:
    """Make Table 1 and Figure 9."""
    from ._runner import main as _main

    return _main(["table1", "--preset", preset, *(["--out", str(out)] if out else []),
                  *(["--force"] if force else [])])


if __name__ == "__main__":
    import sys

    from ._runner import main as _main

    sys.exit(_main(["table1", *sys.argv[1:]]))
