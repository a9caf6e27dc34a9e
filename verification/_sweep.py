"""Sweeps over parameters and seeds, batched with ``vmap``: :func:`sweep` and :class:`SweepResult`.

References: PAPER.md §6 (Figure 2: steps over (λ, T); the threshold at λ = 0, near g ≈ 1.2).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import jax
import numpy as np

import solvers
import theory

from ._system import System
from .systems import mean_field_rnn_data

__all__ = ["sweep", "SweepResult", "SweepInterrupted", "mean_field_rnn_factory"]


@dataclasses.dataclass(frozen=True)
class SweepResult:
    """Measured LLEs and iteration counts over a parameter grid × seeds × prefix lengths.

    Attributes:
        points: the parameter points, one dict per row.
        seeds: the seeds (columns).
        lengths: the prefix lengths.
        lle: ``(P, S)`` per-step LLE along each sequential trajectory (NaN where not run).
        iterations: ``(P, S, L)`` measured iteration counts (prefix counts of one run; -1 not run).
        converged: ``(P, S, L)``.
        complete: False when the sweep was interrupted (finished points are kept).
        lle_threshold: ``{name: value}`` where the median λ crosses 0 (linear interpolation in
            the first parameter), or None.
        iteration_jump: ``{name: value}`` where the median count at the largest length first
            reaches the geometric mean of its smallest and largest values (when they differ by at
            least 3×), or None.
        batched: whether each point ran as one ``vmap`` over the seeds.
        seconds: wall time.
    """

    points: tuple[dict, ...]
    seeds: tuple[int, ...]
    lengths: tuple[int, ...]
    lle: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    complete: bool
    lle_threshold: dict | None
    iteration_jump: dict | None
    batched: bool
    seconds: float

    def median_lle(self):
        return np.nanmedian(self.lle, axis=1)

    def to_dict(self) -> dict:
        def clean(x):
            return [[None if isinstance(v, float) and math.isnan(v) else v for v in row] for row in x]

        return {
            "schema": "predictability.sweep", "schema_version": 1,
            "points": list(self.points), "seeds": list(self.seeds), "lengths": list(self.lengths),
            "lle": clean(np.asarray(self.lle, float).tolist()),
            "iterations": np.asarray(self.iterations).tolist(),
            "converged": np.asarray(self.converged).tolist(),
            "complete": self.complete, "lle_threshold": self.lle_threshold,
            "iteration_jump": self.iteration_jump, "batched": self.batched, "seconds": self.seconds,
        }

    def summary(self) -> str:
        lines = [f"{'point':<24} {'median lambda':>14}  median iterations at T = {list(self.lengths)}"]
        for p, lam, its in zip(self.points, self.median_lle(), self.iterations, strict=True):
            med = np.median(its, axis=0)
            lines.append(f"{_fmt_point(p):<24} {lam:>14.4f}  {med.astype(int).tolist()}")
        lines.append(f"lambda crosses 0 at: {self.lle_threshold}; iterations jump at: {self.iteration_jump}"
                     + ("" if self.complete else " (INTERRUPTED: partial)"))
        return "\n".join(lines)


class SweepInterrupted(KeyboardInterrupt):
    """Raised when a sweep is interrupted; ``.partial`` holds the :class:`SweepResult` so far."""

    def __init__(self, partial: SweepResult):
        super().__init__("sweep interrupted; the finished points are in .partial")
        self.partial = partial


def mean_field_rnn_factory(D: int = 16, T: int = 1000) -> Callable[..., System]:
    """A traceable factory ``(key, g) -> System`` of the mean-field RNN for :func:`sweep`.

    Built on :func:`verification.systems.mean_field_rnn_data`, so one ``vmap`` covers the seeds.
    """

    def factory(key, g):
        data = mean_field_rnn_data(key, g, D, T)
        W = data["W"]

        def f(s, u):
            return W @ jax.numpy.tanh(s) + u

        return System(name="mean_field_rnn", f=f, s0=data["s0"], inputs=data["inputs"],
                      params={"D": D, "T": T}, description="mean-field RNN (sweep)", guess="uniform")

    return factory


def _fmt_point(p):
    return ", ".join(f"{k}={v:g}" if isinstance(v, (int, float)) else f"{k}={v}" for k, v in p.items())


def _grid_points(grid) -> list[dict]:
    if isinstance(grid, Mapping):
        if not grid:
            raise ValueError("grid: expected at least one parameter, got an empty mapping")
        names = list(grid)
        values = []
        for n in names:
            v = grid[n]
            if isinstance(v, (str, bytes)) or not isinstance(v, Sequence | np.ndarray) or len(v) == 0:
                raise ValueError(f"grid: expected a non-empty sequence of values for {n!r}, got {v!r}")
            values.append([float(x) if isinstance(x, (int, float, np.number)) else x for x in v])
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]
    points = list(grid)
    if not points or not all(isinstance(p, Mapping) for p in points):
        raise ValueError("grid: expected a mapping name -> values or a non-empty list of dicts")
    return [dict(p) for p in points]


def _one_run(factory, solver, lengths, T, tol, burn_in, num_vectors, reset_nonfinite):
    def run(key, point):
        system = factory(key, **point)
        if not isinstance(system, System):
            raise TypeError(f"factory: expected a verification.System, got {type(system).__name__}")
        inputs = jax.tree_util.tree_map(lambda x: x[:T], system.inputs)
        k_lle, k_guess = jax.random.split(jax.random.fold_in(key, 1))
        lam = theory.lle_along(system.f, system.s0, inputs, key=k_lle, num_vectors=num_vectors, burn_in=burn_in)
        sysT = dataclasses.replace(system, inputs=inputs)
        init = sysT.initial_guess(k_guess)
        sol = solvers.evaluate(system.f, system.s0, inputs, solver, init=init, tol=tol, lengths=list(lengths),
                               reset_nonfinite=reset_nonfinite)
        return lam, sol.prefix_iters, sol.prefix_converged

    return run


def _crossing(xs, ys, level):
    """First x where ys crosses ``level`` (linear interpolation), or None."""
    for (x0, y0), (x1, y1) in itertools.pairwise(zip(xs, ys, strict=True)):
        if not (np.isfinite(y0) and np.isfinite(y1)):
            continue
        if (y0 - level) * (y1 - level) <= 0 and y0 != y1:
            return float(x0 + (level - y0) * (x1 - x0) / (y1 - y0))
        if y0 == level:
            return float(x0)
    return None


def _thresholds(points, lle, iters):
    names = list(points[0]) if points else []
    if not names or not all(isinstance(p[names[0]], float) for p in points):
        return None, None
    name = names[0]
    xs = np.array([p[name] for p in points])
    order = np.argsort(xs, kind="stable")
    xs = xs[order]
    done = ~np.all(np.isnan(lle), axis=1)[order]
    xs = xs[done]
    if xs.size < 2:
        return None, None
    lam_med = np.nanmedian(lle[order][done], axis=1)
    cross = _crossing(xs, lam_med, 0.0)
    counts = np.median(np.maximum(iters[order][done][:, :, -1], 1), axis=1).astype(float)
    jump = None
    if counts.max() >= 3 * counts.min():
        level = math.log(math.sqrt(counts.max() * counts.min()))
        jump = _crossing(xs, np.log(counts), level)
    return ({name: cross} if cross is not None else None), ({name: jump} if jump is not None else None)


def _save(path, result: SweepResult):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(result.to_dict(), fh, indent=1)
    os.replace(tmp, path)


def sweep(factory, grid, seeds, lengths, *, solver=None, tol=1e-10, burn_in=None, num_vectors=3,
          reset_nonfinite=True, batch=True, checkpoint=None, progress=None) -> SweepResult:
    """LLE and measured iteration counts over a parameter grid × seeds, and the thresholds.

    Each grid point runs as one ``jit(vmap(...))`` over the seeds (the factory must then be
    traceable in its key and parameters, like :func:`mean_field_rnn_factory`); batching is per
    point because a ``vmap``-ed solve runs until its slowest member finishes — one chaotic member
    would hold a batch over gains hostage. A factory that cannot be traced falls back to a loop
    over seeds (``batched=False``). The prefix counts of every length come from one solve.

    Args:
        factory: ``factory(key, **point) -> System`` with ``T >= max(lengths)``.
        grid: ``{name: values}`` (cartesian product) or a list of ``{name: value}`` dicts.
        seeds: integer seeds (``jax.random.key(seed)`` is passed to the factory).
        lengths: increasing prefix lengths; the largest is the solved length.
        solver: causal solver (default DEER).
        tol, reset_nonfinite: as :func:`solvers.evaluate` (the paper resets non-finite entries).
        burn_in: LLE transient steps (default max(lengths) // 10); num_vectors: LLE start vectors.
        batch: False forces the loop over seeds.
        checkpoint: optional JSON path rewritten atomically after every finished point.
        progress: optional callable ``(done, total)``.

    Returns:
        :class:`SweepResult`.

    Raises:
        SweepInterrupted: on KeyboardInterrupt, carrying ``.partial`` (also written to
            ``checkpoint``).
        ValueError / TypeError: bad grid, seeds or lengths.

    References: PAPER.md §6 (Figures 2 and 5).
    """
    points = _grid_points(grid)
    seeds = tuple(int(s) for s in seeds)
    if not seeds:
        raise ValueError("seeds: expected at least one seed")
    lengths = tuple(int(n) for n in lengths)
    if not lengths or any(n < 2 for n in lengths) or any(b <= a for a, b in itertools.pairwise(lengths)):
        raise ValueError(f"lengths: expected strictly increasing integers >= 2, got {list(lengths)}")
    solver = solvers.DEER() if solver is None else solver
    T = lengths[-1]
    burn_in = T // 10 if burn_in is None else int(burn_in)
    P, S, L = len(points), len(seeds), len(lengths)
    lle = np.full((P, S), np.nan)
    iters = np.full((P, S, L), -1, dtype=int)
    conv = np.zeros((P, S, L), dtype=bool)
    keys = jax.numpy.stack([jax.random.key(s) for s in seeds])
    run = _one_run(factory, solver, lengths, T, tol, burn_in, num_vectors, reset_nonfinite)
    batched_run = jax.jit(jax.vmap(run, in_axes=(0, None)))
    batched = bool(batch)
    t0 = time.perf_counter()
    finished = 0

    def result(complete):
        lt, jump = _thresholds(points[:finished] if not complete else points, lle[: max(finished, 0)] if not complete else lle,
                               iters[:finished] if not complete else iters)
        return SweepResult(tuple(points), seeds, lengths, lle.copy(), iters.copy(), conv.copy(), complete, lt, jump,
                           batched, time.perf_counter() - t0)

    try:
        for p, point in enumerate(points):
            out = None
            if batched:
                try:
                    out = batched_run(keys, {k: np.asarray(v) for k, v in point.items()})
                except (jax.errors.ConcretizationTypeError, jax.errors.TracerBoolConversionError,
                        jax.errors.TracerIntegerConversionError, jax.errors.TracerArrayConversionError,
                        TypeError):
                    batched = False
            if out is None:
                rows = [run(k, point) for k in keys]
                out = tuple(np.stack([np.asarray(r[i]) for r in rows]) for i in range(3))
            lle[p] = np.asarray(out[0])
            iters[p] = np.asarray(out[1])
            conv[p] = np.asarray(out[2])
            finished = p + 1
            if checkpoint is not None:
                _save(checkpoint, result(finished == P))
            if progress is not None:
                progress(finished, P)
    except KeyboardInterrupt:
        partial = result(False)
        if checkpoint is not None:
            _save(checkpoint, partial)
        raise SweepInterrupted(partial) from None
    return result(True)
