"""The command line ``python -m paper_figures NAME [NAME ...] --preset quick|paper|tiny``.

Exit status 0 on success, 2 on bad input (unknown figure or preset, unwritable output folder),
reported in one line. A missing, stale or corrupt cache is not an error: the data are recomputed
and a line says why. float64 (the paper's setting) is switched on here, at application start —
never when the library is imported.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

from . import _cache

__all__ = ["FIGURES", "MODULES", "PRESETS", "main", "run", "UsageError", "default_out"]

#: figure/table name on the command line -> module (Figures 3 and 8 share one, Table 1 and Fig 9 too)
FIGURES = {
    "fig2": "fig2_threshold",
    "fig3": "fig3_fig8_langevin",
    "fig5": "fig5_lle",
    "fig6": "fig6_chaotic_deviation",
    "fig7": "fig7_solvers",
    "fig8": "fig3_fig8_langevin",
    "table1": "table1_flows",
    "fig9": "table1_flows",
}

#: every module, cheapest first (the order of ``all`` and of SUMMARY.md)
MODULES = (
    "fig5_lle",
    "fig3_fig8_langevin",
    "fig2_threshold",
    "fig6_chaotic_deviation",
    "table1_flows",
    "fig7_solvers",
)

PRESETS = ("quick", "paper", "tiny")


class UsageError(Exception):
    """Bad input: one line on stderr, exit status 2."""


def default_out(preset: str) -> Path:
    return Path("figures_out") / preset


def _module(name):
    return importlib.import_module(f"paper_figures.{name}")


def _resolve(names):
    valid = ["all", *FIGURES, *MODULES]
    modules = []
    for name in names:
        if name == "all":
            wanted = list(MODULES)
        elif name in FIGURES:
            wanted = [FIGURES[name]]
        elif name in MODULES:
            wanted = [name]
        else:
            raise UsageError(f"unknown figure {name!r}; valid names: {', '.join(valid)}")
        modules += [m for m in wanted if m not in modules]
    return [m for m in MODULES if m in modules]


def _writable(out: Path) -> Path:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"--out: cannot write to {str(out)!r}: {exc.strerror or exc}") from None
    return out


def _log(line: str) -> None:
    print(f"paper_figures: {line}", file=sys.stderr, flush=True)


def enable_float64() -> None:
    """The paper's experiments run in float64: the application (not the library) switches x64 on."""
    import jax

    jax.config.update("jax_enable_x64", True)


def run(names, preset: str = "quick", out=None, force: bool = False, log=_log) -> list[Path]:
    """Compute (or load) and plot the named figures; write SUMMARY.md. Returns the written paths.

    Raises:
        UsageError: unknown names or preset, unwritable output folder.
    """
    if preset not in PRESETS:
        raise UsageError(f"unknown preset {preset!r}; valid presets: {', '.join(PRESETS)}")
    if not names:
        raise UsageError(f"no figure named; valid names: {', '.join(['all', *FIGURES])}")
    modules = _resolve(names)
    out = _writable(Path(out) if out is not None else default_out(preset))
    enable_float64()
    from . import _style, _summary

    written = []
    for name in modules:
        mod = _module(name)
        config = mod.PRESETS[preset]
        data, meta, computed = _cache.load_or_compute(
            name, config, mod.compute, out, data_version=mod.DATA_VERSION, force=force, log=log
        )
        t0 = time.perf_counter()
        paths = []
        for stem, fig in mod.plots(data).items():
            paths += _style.save(fig, out, stem)
        if hasattr(mod, "write_extra"):
            paths += mod.write_extra(data, meta, out)
        how = f"computed in {meta['compute_seconds']:.1f} s" if computed else "cached data"
        log(f"{name}: wrote {', '.join(p.name for p in paths)} ({how}; plotted in {time.perf_counter() - t0:.1f} s)")
        written += paths
    summary = _summary.write(out, preset, {m: _module(m) for m in MODULES})
    log(f"wrote {summary}")
    return [*written, summary]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit status 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser(prog: str = "python -m paper_figures") -> argparse.ArgumentParser:
    p = _Parser(
        prog=prog,
        description=(
            "Regenerate the paper's figures and Table 1 (PAPER.md §6) with a comparison to the "
            "paper's numbers in SUMMARY.md. Runs in float64 (switches JAX's x64 mode on for this "
            "process). Data are cached as NAME.npz + NAME.json in the output folder and "
            "recomputed when missing, stale or corrupt, or with --force."
        ),
    )
    p.add_argument("names", nargs="+", metavar="NAME",
                   help=f"figures to make: all, or any of {', '.join(FIGURES)}")
    p.add_argument("--preset", default="quick", choices=PRESETS,
                   help="quick: reduced sizes, minutes on a laptop CPU (default); paper: the "
                        "paper's exact sizes (meant for a GPU); tiny: seconds, for tests")
    p.add_argument("--out", default=None, help="output folder (default figures_out/PRESET)")
    p.add_argument("--force", action="store_true", help="recompute even when cached data are current")
    return p


def main(argv=None, prog: str = "python -m paper_figures") -> int:
    args = build_parser(prog).parse_args(argv)
    try:
        run(args.names, args.preset, args.out, args.force)
    except UsageError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    return 0
