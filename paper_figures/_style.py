"""One shared look for every figure: sizes, fonts, colours, captions and saving (PNG + PDF).

Sizes follow a two-column paper: ``COLUMN`` (3.4 in) for one-panel figures, ``FULL`` (7.0 in)
for multi-panel ones; fonts are 8 pt so text stays readable when printed at column width.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib as mpl
from matplotlib.figure import Figure

# Bare ``Figure`` objects (no pyplot): no GUI backend is involved and importing this module never
# changes matplotlib's global backend.

__all__ = ["COLUMN", "FULL", "COLORS", "SOLVER_STYLE", "figure", "caption", "save", "plain_log", "hardware_label",
           "style_context"]

COLUMN = 3.4
FULL = 7.0

#: colour-blind safe palette (Okabe–Ito)
COLORS = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "red": "#D55E00",
    "purple": "#CC79A7",
    "sky": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
    "grey": "#7F7F7F",
}

SOLVER_STYLE = {
    "sequential": dict(color=COLORS["black"], marker="s", label="sequential"),
    "deer": dict(color=COLORS["blue"], marker="o", label="DEER"),
    "quasi": dict(color=COLORS["orange"], marker="^", label="quasi-DEER"),
    "gd": dict(color=COLORS["green"], marker="D", label="gradient descent"),
}

_RC = {
    "font.size": 8,
    "axes.labelsize": 8,
    "axes.titlesize": 8,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "lines.linewidth": 1.2,
    "lines.markersize": 3.5,
    "legend.frameon": False,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.03,
    "pdf.fonttype": 42,  # embed TrueType: editable text in the PDF
    "image.cmap": "viridis",
}


def figure(ncols: int = 1, nrows: int = 1, *, width: float | None = None, height: float = 2.3, **kwargs):
    """A new ``(fig, axes)`` in the house style; width defaults to column or full width."""
    if width is None:
        width = COLUMN if ncols == 1 else FULL
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(width, height * nrows), layout="constrained", dpi=100)
        axes = fig.subplots(nrows, ncols, **kwargs)
    return fig, axes


def style_context():
    """Context manager applying the house rcParams (wrap plotting code in it)."""
    return mpl.rc_context(_RC)


def caption(fig, text: str) -> None:
    """Attach the caption (sizes, preset, hardware) below the axes and into the file metadata."""
    fig._paper_caption = text  # read by :func:`save`
    width_in = fig.get_figwidth()
    wrapped = "\n".join(textwrap.wrap(text, width=int(width_in * 17)))
    fig.text(0.0, -0.01, wrapped, ha="left", va="top", fontsize=6, color=COLORS["grey"],
             transform=fig.transFigure)


def save(fig, out_dir: Path, stem: str) -> list[Path]:
    """Write ``stem.png`` (200 dpi) and ``stem.pdf`` into ``out_dir``; returns the paths."""
    text = getattr(fig, "_paper_caption", "")
    paths = []
    for ext, meta in (("png", {"Description": text}), ("pdf", {"Subject": text})):
        path = Path(out_dir) / f"{stem}.{ext}"
        with mpl.rc_context(_RC):
            fig.savefig(path, dpi=200, metadata=meta)
        paths.append(path)
    return paths


def plain_log(axis) -> None:
    """Log-scale ticks written as plain numbers (10, 100, 1000) rather than powers of ten."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def hardware_label(hardware: dict) -> str:
    """``"cpu (2 cores)"`` or ``"gpu: NVIDIA H200"`` from a hardware record."""
    platform = hardware.get("platform", "?")
    kind = hardware.get("device_kind", "?")
    if platform == "cpu":
        extra = "" if kind.lower() == "cpu" else f", {kind}"
        return f"CPU ({hardware.get('cpu_count', '?')} cores{extra})"
    return f"{platform.upper()}: {kind}"
