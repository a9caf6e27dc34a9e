"""Cached figure data: ``NAME.npz`` (arrays) with ``NAME.json`` beside it (config, versions,
hardware, timing). Data are recomputed when missing, stale (config or versions changed),
corrupt (unreadable or incomplete), or when forced — and the reason is said in one line.
"""

from __future__ import annotations

import datetime
import json
import os
import time
from importlib import metadata
from pathlib import Path

import numpy as np

__all__ = ["package_version", "hardware", "normalise", "load", "load_or_compute"]


def package_version() -> str:
    try:
        return metadata.version("predictability")
    except metadata.PackageNotFoundError:  # running from a source tree without installation
        return "unknown"


def hardware() -> dict:
    """Where the numbers were computed: the first JAX device, its platform, and the CPU count."""
    import jax

    dev = jax.devices()[0]
    return {
        "platform": dev.platform,
        "device_kind": dev.device_kind,
        "num_devices": jax.device_count(),
        "cpu_count": os.cpu_count(),
        "jax": jax.__version__,
        "x64": bool(jax.config.jax_enable_x64),
    }


def normalise(config):
    """The config as JSON would give it back (tuples become lists), for exact comparison."""
    return json.loads(json.dumps(config))


def _paths(out_dir, name):
    out_dir = Path(out_dir)
    return out_dir / f"{name}.npz", out_dir / f"{name}.json"


def _expected(name, config, data_version):
    return {
        "module": name,
        "config": normalise(config),
        "package_version": package_version(),
        "data_version": data_version,
    }


def load(out_dir, name):
    """``(data, meta)`` of a cache entry, or ``(None, reason)`` if it is missing or corrupt."""
    npz, js = _paths(out_dir, name)
    if not npz.exists():
        return None, "missing"
    try:
        meta = json.loads(js.read_text())
        if not isinstance(meta, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        return None, f"corrupt (metadata {js.name} unreadable: {type(exc).__name__})"
    try:
        with np.load(npz, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except Exception as exc:  # zip/pickle/format errors all mean the same thing here
        return None, f"corrupt ({npz.name} unreadable: {type(exc).__name__})"
    missing = sorted(set(meta.get("keys", [])) - set(data))
    if missing or not meta.get("keys"):
        return None, f"corrupt ({npz.name} lacks {', '.join(missing) or 'its key list'})"
    return data, meta


def _staleness(meta, expected):
    changes = []
    for key in ("module", "package_version", "data_version"):
        if meta.get(key) != expected[key]:
            changes.append(f"{key} {meta.get(key)!r} -> {expected[key]!r}")
    old, new = meta.get("config", {}), expected["config"]
    if not isinstance(old, dict):
        old = {}
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            changes.append(f"{key} {old.get(key)!r} -> {new.get(key)!r}")
    return changes


def load_or_compute(name, config, compute, out_dir, *, data_version: int, force: bool = False, log=print):
    """Cached ``compute(config)``: returns ``(data, meta, computed)``.

    ``log`` receives one line whenever the cache is not used, with the reason (missing, stale,
    corrupt, forced).
    """
    expected = _expected(name, config, data_version)
    if force:
        reason = "recomputing (--force)"
    else:
        data, meta = load(out_dir, name)
        if data is None:
            reason = "computing (no cached data)" if meta == "missing" else f"cached data {meta}; recomputing"
        else:
            changes = _staleness(meta, expected)
            if not changes:
                return data, meta, False
            shown = "; ".join(changes[:4]) + ("; ..." if len(changes) > 4 else "")
            reason = f"cached data stale ({shown}); recomputing"
    log(f"{name}: {reason}")
    t0 = time.perf_counter()
    data = {k: np.asarray(v) for k, v in compute(config).items()}
    seconds = time.perf_counter() - t0
    meta = dict(
        expected,
        hardware=hardware(),
        compute_seconds=round(seconds, 2),
        created=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        keys=sorted(data),
    )
    npz, js = _paths(out_dir, name)
    tmp = npz.with_name(npz.name + ".tmp.npz")
    np.savez(tmp, **data)
    os.replace(tmp, npz)
    tmpj = js.with_name(js.name + ".tmp")
    tmpj.write_text(json.dumps(meta, indent=1) + "\n")
    os.replace(tmpj, js)
    return data, meta, True
