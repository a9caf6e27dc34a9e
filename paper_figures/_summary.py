"""``SUMMARY.md``: our numbers next to the paper's, each with the size and hardware it came from."""

from __future__ import annotations

import datetime
from pathlib import Path

from . import _cache, _style

__all__ = ["write"]


def write(out_dir, preset: str, modules: dict) -> Path:
    """Write ``out_dir/SUMMARY.md`` from whatever cached data the folder holds."""
    out_dir = Path(out_dir)
    lines = [
        f"# Paper figures: our numbers vs the paper ({preset} preset)",
        "",
        f"Generated {datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds')} by "
        f"`python -m paper_figures` (package version {_cache.package_version()}), float64. "
        "Each line states the size it was computed at; the paper's sizes are in PAPER.md §6. "
        "Reduced presets (quick, tiny) use smaller state dimensions, fewer seeds and shorter "
        "sequences, so their numbers are estimates of the paper's, not reproductions.",
        "",
    ]
    missing = []
    for name, mod in modules.items():
        data, meta = _cache.load(out_dir, name)
        if data is None:
            missing.append(name)
            continue
        hw = _style.hardware_label(meta.get("hardware", {}))
        lines.append(f"## {name}")
        lines.append("")
        lines.append(mod.summary(data, meta).rstrip())
        lines.append(f"- computed on {hw} in {meta.get('compute_seconds', float('nan')):.1f} s "
                     f"({meta.get('created', '?')}); config: `{meta.get('config')}`")
        lines.append("")
    if missing:
        lines.append("## Not computed yet")
        lines.append("")
        lines += [f"- {m}: run `python -m paper_figures {m} --preset {preset}`" for m in missing]
        lines.append("")
    path = out_dir / "SUMMARY.md"
    path.write_text("\n".join(lines))
    return path
