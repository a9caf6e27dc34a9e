"""The result of :func:`verification.verify`: :class:`Report` — JSON (versioned schema),
Markdown, PNG plots, written atomically.

JSON schema (``schema = "predictability.verify"``, ``schema_version = 1``), documented in
docs/verification.md. Non-finite numbers are written as the strings ``"inf"``, ``"-inf"``,
``"nan"`` (JSON has no literal for them).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ._checks import AGREES, DEVIATION, HOLDS, SKIPPED, VIOLATED, Check

__all__ = ["Report", "SystemReport", "LengthResult", "SCHEMA", "SCHEMA_VERSION", "write_atomic"]

SCHEMA = "predictability.verify"
SCHEMA_VERSION = 1


@dataclasses.dataclass(frozen=True)
class LengthResult:
    """Measured and predicted quantities at one prefix length T (the numbers behind the plots).

    ``sigma_min_*`` are σ_min of the residual Jacobian (√μ); ``sqrt_mu_lower/upper`` Theorem 2's
    bounds on √μ from (λ, a, b, T) with a, b measured on the solution's Jacobians; ``log_*`` are
    natural logarithms (finite where the values under/overflow).
    """

    T: int
    iterations: int
    converged: bool
    a: float
    b: float
    burn_in_exact: bool
    sigma_min_solution: float
    sigma_min_iterates: float | None
    iterates_sampled: int
    sqrt_mu_lower: float
    sqrt_mu_upper: float
    log_mu_lower: float
    log_mu_upper: float
    residual0: float
    iteration_bound: int | None
    two_phase_estimate: float | None


@dataclasses.dataclass(frozen=True)
class SystemReport:
    """Everything :func:`verification.verify` found on one system."""

    name: str
    description: str
    params: dict
    T: int
    D: int
    dt: float
    solver: str
    tol: float
    dtype: str
    lengths: tuple[int, ...]
    iterations: tuple[int, ...]
    converged: tuple[bool, ...]
    status: str
    lle: float
    lle_continuous: float
    burn_in: int
    a: float
    b: float
    max_jacobian_norm: float
    lipschitz: float | None
    lipschitz_method: str
    lipschitz_rigorous: bool
    rho: float | None
    rho_method: str
    regime: str
    growth_measured: str
    growth_predicted: str
    rate_fit: dict
    per_length: tuple[LengthResult, ...]
    checks: tuple[Check, ...]
    seconds: float
    notes: tuple[str, ...] = ()

    @property
    def violations(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status == VIOLATED)

    @property
    def deviations(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status == DEVIATION)

    @property
    def predictable(self) -> bool:
        return self.lle < 0


@dataclasses.dataclass(frozen=True)
class Report:
    """A verification report over one or more systems.

    Attributes:
        systems: one :class:`SystemReport` per system, in order.
        complete: False when the run was interrupted (the finished systems are kept).
        environment: versions, backend and precision of the run.
    """

    systems: tuple[SystemReport, ...]
    complete: bool = True
    environment: dict = dataclasses.field(default_factory=dict)

    # ----------------------------------------------------------------- summaries
    @property
    def violations(self) -> tuple[tuple[str, Check], ...]:
        return tuple((s.name, c) for s in self.systems for c in s.violations)

    @property
    def deviations(self) -> tuple[tuple[str, Check], ...]:
        return tuple((s.name, c) for s in self.systems for c in s.deviations)

    @property
    def ok(self) -> bool:
        """No theorem check was violated."""
        return not self.violations

    @staticmethod
    def merge(reports, *, complete=True) -> Report:
        """One report holding the systems of several (e.g. one per :func:`verify` call)."""
        reports = list(reports)
        env = reports[0].environment if reports else {}
        systems = tuple(s for r in reports for s in r.systems)
        return Report(systems, complete and all(r.complete for r in reports), env)

    def summary(self) -> str:
        """A plain-text table: one line per system, then the violations and deviations."""
        head = (f"{'system':<30} {'lambda':>9} {'regime':<13} {'iterations (T: n)':<34} "
                f"{'growth':<12} {'checks':<22}")
        lines = [head, "-" * len(head)]
        for s in self.systems:
            its = " ".join(f"{T}:{n}{'' if c else '!'}" for T, n, c in
                           zip(s.lengths, s.iterations, s.converged, strict=True))
            counts = _count_statuses(s.checks)
            chk = f"{counts[HOLDS] + counts[AGREES]} ok, {counts[VIOLATED]} viol, {counts[DEVIATION]} dev"
            label = _label(s)
            lines.append(f"{label[:30]:<30} {s.lle:>9.4f} {s.regime:<13} {its[:34]:<34} "
                         f"{s.growth_measured:<12} {chk:<22}")
        nv, nd = len(self.violations), len(self.deviations)
        lines.append("")
        lines.append(f"{len(self.systems)} system(s); {nv} violation(s); {nd} deviation(s) from estimates"
                     + ("" if self.complete else "; INTERRUPTED (partial report)"))
        for name, c in self.violations:
            lines.append(f"  VIOLATION {name} {c.theorem} [{c.name}] T={c.T}: {c.detail}")
        groups = {}
        for name, c in self.deviations:
            groups.setdefault((name, c.name, c.theorem), []).append(c)
        for (name, cname, theorem), cs in groups.items():
            Ts = ",".join(str(c.T) for c in cs if c.T is not None)
            ratios = [c.ratio for c in cs if c.ratio is not None]
            rr = "" if not ratios else (f" ratio {min(ratios):.3g}" if len(ratios) == 1
                                        else f" ratio {min(ratios):.3g}..{max(ratios):.3g}")
            lines.append(f"  deviation {name} {theorem} [{cname}]" + (f" T={Ts}" if Ts else "") + rr)
        return "\n".join(lines)

    # ----------------------------------------------------------------- JSON
    def to_dict(self) -> dict:
        """The JSON-ready dictionary (schema documented in docs/verification.md)."""
        return _jsonable({
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "complete": self.complete,
            "environment": self.environment,
            "summary": {
                "systems": len(self.systems),
                "violations": len(self.violations),
                "deviations": len(self.deviations),
                "ok": self.ok,
            },
            "systems": [_system_dict(s) for s in self.systems],
        })

    def to_json(self, indent=2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    @staticmethod
    def from_dict(data: dict) -> Report:
        """Rebuild a report from :meth:`to_dict` output (raises ValueError on another schema)."""
        if data.get("schema") != SCHEMA or data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"data: expected schema {SCHEMA} version {SCHEMA_VERSION}, got "
                             f"{data.get('schema')!r} version {data.get('schema_version')!r}")
        data = _unjson(data)
        systems = []
        for s in data["systems"]:
            s = dict(s)
            s["per_length"] = tuple(LengthResult(**p) for p in s["per_length"])
            s["checks"] = tuple(Check(**{**c, "hypotheses": tuple(c["hypotheses"])}) for c in s["checks"])
            for k in ("lengths", "iterations", "converged", "notes"):
                s[k] = tuple(s[k])
            s.pop("violations", None)
            s.pop("deviations", None)
            systems.append(SystemReport(**s))
        return Report(tuple(systems), data["complete"], data.get("environment", {}))

    # ----------------------------------------------------------------- Markdown
    def to_markdown(self, plots: dict | None = None) -> str:
        """A human-readable report; ``plots`` maps system index to a PNG file name to embed."""
        out = ["# Verification report", ""]
        out.append(f"{len(self.systems)} system(s), **{len(self.violations)} violation(s)**, "
                   f"{len(self.deviations)} deviation(s) from estimates."
                   + ("" if self.complete else " **Interrupted: partial report.**"))
        env = ", ".join(f"{k} {v}" for k, v in self.environment.items())
        if env:
            out += ["", f"Environment: {env}."]
        out += ["", "A *violation* is a rigorous bound that failed although every hypothesis was "
                "verified on the states it is about; a *deviation* is an estimate that missed (or a "
                "bound whose hypotheses could not all be verified). See docs/verification.md.", ""]
        out += ["| system | λ (per step) | regime | iterations at T | growth (measured / predicted) | violations | deviations |",
                "|---|---|---|---|---|---|---|"]
        for s in self.systems:
            its = ", ".join(f"{T}: {n}" for T, n in zip(s.lengths, s.iterations, strict=True))
            out.append(f"| {_label(s)} | {s.lle:.4g} | {s.regime} | {its} | {s.growth_measured} / "
                       f"{s.growth_predicted} | {len(s.violations)} | {len(s.deviations)} |")
        for i, s in enumerate(self.systems):
            out += ["", f"## {_label(s)}", "", s.description or s.name, ""]
            out.append(f"- parameters: {_fmt_params(s.params)}; T = {s.T}, D = {s.D}, dt = {s.dt:g}; "
                       f"solver {s.solver}, tol {s.tol:g}, {s.dtype}; status {s.status}; {s.seconds:.1f} s")
            out.append(f"- LLE λ = {s.lle:.6g} per step ({s.lle_continuous:.6g} per unit time), burn-in "
                       f"{s.burn_in} steps; a = {_num(s.a)}, b = {_num(s.b)} (eq. 10, on the solution, "
                       f"T = {s.T}); max‖J_t‖ = {s.max_jacobian_norm:.4g}")
            out.append(f"- Lipschitz L = {_num(s.lipschitz)} ({'rigorous' if s.lipschitz_rigorous else 'estimate'}: "
                       f"{s.lipschitz_method}); ρ = {_num(s.rho)} ({s.rho_method})")
            if s.rate_fit.get("beta") is not None:
                out.append(f"- Theorem 4 fit on {s.rate_fit.get('sequence')}: rate β = {s.rate_fit['beta']:.3g}, "
                           f"overshoot χ = {s.rate_fit['chi']:.3g} ({s.rate_fit['points']} iterates)")
            for note in s.notes:
                out.append(f"- {note}")
            if plots and i in plots:
                out += ["", f"![{s.name}]({plots[i]})"]
            out += ["", "| T | iterations | σ_min(J) at solution | min σ_min over iterates | √μ lower (Thm 2) | √μ upper | a | b | iteration bound | two-phase estimate |",
                    "|---|---|---|---|---|---|---|---|---|---|"]
            for p in s.per_length:
                out.append(f"| {p.T} | {p.iterations}{'' if p.converged else ' (not converged)'} | "
                           f"{_num(p.sigma_min_solution)} | {_num(p.sigma_min_iterates)} "
                           f"({p.iterates_sampled} sampled) | {_num(p.sqrt_mu_lower)} | {_num(p.sqrt_mu_upper)} | "
                           f"{_num(p.a)} | {_num(p.b)}{'' if p.burn_in_exact else ' (windowed)'} | "
                           f"{_num(p.iteration_bound)} | {_num(p.two_phase_estimate)} |")
            out += ["", "| check | theorem | T | kind | status | predicted | measured | ratio | hypotheses verified | detail |",
                    "|---|---|---|---|---|---|---|---|---|---|"]
            for c in s.checks:
                status = f"**{c.status}**" if c.status == VIOLATED else c.status
                out.append(f"| {c.name} | {c.theorem} | {'' if c.T is None else c.T} | {c.kind} | {status} | "
                           f"{_num(c.predicted)} | {_num(c.measured)} | {_num(c.ratio)} | "
                           f"{'yes' if c.hypotheses_verified else 'no'} | {_md(c.detail)} |")
            hyps = sorted({h for c in s.checks for h in c.hypotheses})
            if hyps:
                out += ["", "Hypotheses:", ""] + [f"- {_md(h)}" for h in hyps]
        return "\n".join(out) + "\n"

    # ----------------------------------------------------------------- plots
    def plot(self, folder) -> dict:
        """One PNG per system in ``folder`` (matplotlib, Agg canvas): iterations vs T (measured,
        bound, estimate, T) and σ_min vs Theorem 2's bounds vs T. Returns ``{system index: file
        name}``."""
        # A bare Figure renders with the Agg canvas and leaves pyplot's global backend alone.
        from matplotlib.figure import Figure

        folder = Path(folder)
        names = {}
        for i, s in enumerate(self.systems):
            Ts = np.array([p.T for p in s.per_length], float)
            fig = Figure(figsize=(10, 4))
            ax1, ax2 = fig.subplots(1, 2)
            ax1.plot(Ts, [p.iterations for p in s.per_length], "o-", label="measured")
            est = [np.nan if p.two_phase_estimate is None else p.two_phase_estimate for p in s.per_length]
            bnd = [np.nan if p.iteration_bound is None else p.iteration_bound for p in s.per_length]
            ax1.plot(Ts, est, "s--", label="two-phase estimate (§5)")
            ax1.plot(Ts, bnd, "^:", label="iteration bound")
            ax1.plot(Ts, Ts, "k-", lw=0.8, label="T (exactness)")
            ax1.set_xscale("log")
            ax1.set_yscale("log")
            ax1.set_xlabel("T")
            ax1.set_ylabel("iterations")
            ax1.set_title(f"{_label(s)}: λ = {s.lle:.3g}")
            ax1.legend(fontsize=7)
            sm = [p.sigma_min_solution for p in s.per_length]
            si = [np.nan if p.sigma_min_iterates is None else p.sigma_min_iterates for p in s.per_length]
            lo = [math.exp(0.5 * p.log_mu_lower) if math.isfinite(p.log_mu_lower) else np.nan for p in s.per_length]
            hi = [math.exp(0.5 * p.log_mu_upper) if math.isfinite(p.log_mu_upper) else np.nan for p in s.per_length]
            ax2.plot(Ts, sm, "o-", label="σ_min(J) at solution")
            ref = [v for v in sm + lo + hi if v is not None and np.isfinite(v) and v > 0]
            bottom = min(ref) / 1e3 if ref else None
            off = bottom is not None and any(np.isfinite(v) and v < bottom for v in si)
            ax2.plot(Ts, np.clip(si, bottom, None) if off else si, "x-",
                     label="min σ_min over iterates" + (" (clipped: see report)" if off else ""))
            ax2.plot(Ts, lo, "v--", label="Theorem 2 lower")
            ax2.plot(Ts, hi, "^--", label="Theorem 2 upper")
            ax2.set_xscale("log")
            ax2.set_yscale("log")
            if bottom is not None:
                ax2.set_ylim(bottom=bottom, top=2.0)
            ax2.set_xlabel("T")
            ax2.set_ylabel("σ_min(J) = √μ")
            ax2.legend(fontsize=7)
            fig.tight_layout()
            name = f"{i:02d}_{_slug(_label(s))}.png"
            fig.savefig(folder / name, dpi=80)
            names[i] = name
        return names

    # ----------------------------------------------------------------- files
    def write(self, out, *, plots: bool = True) -> Path:
        """Write ``report.json``, ``report.md`` and the PNGs to folder ``out`` atomically: every
        file is written into a temporary folder next to ``out`` and moved in with ``os.replace``
        (``report.json`` last), so readers never see a half-written file.

        Raises:
            OSError: the folder cannot be created or written.
        """
        files = {}

        def produce(tmp: Path):
            names = self.plot(tmp) if plots else {}
            (tmp / "report.md").write_text(self.to_markdown(names), encoding="utf-8")
            (tmp / "report.json").write_text(self.to_json(), encoding="utf-8")
            files.update(names)

        return write_atomic(out, produce, last="report.json")


def write_atomic(out, produce, *, last=None) -> Path:
    """Call ``produce(tmp_folder)``, then move each file it wrote into ``out`` with ``os.replace``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=out))
    try:
        produce(tmp)
        names = sorted(p.name for p in tmp.iterdir() if p.is_file())
        if last in names:
            names.remove(last)
            names.append(last)
        for name in names:
            os.replace(tmp / name, out / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


# --------------------------------------------------------------------------- helpers


def _count_statuses(checks):
    counts = {HOLDS: 0, VIOLATED: 0, AGREES: 0, DEVIATION: 0, SKIPPED: 0}
    for c in checks:
        counts[c.status] += 1
    return counts


def _label(s: SystemReport) -> str:
    keep = {k: v for k, v in s.params.items() if k in ("g", "D", "r", "a", "eps")}
    return s.name + ("" if not keep else "(" + ", ".join(f"{k}={v}" for k, v in keep.items()) + ")")


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text).strip("_")


def _fmt_params(params) -> str:
    return ", ".join(f"{k} = {v}" for k, v in params.items()) or "none"


def _md(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _num(x) -> str:
    if x is None:
        return "–"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(_num(v) for v in x) + "]"
    if isinstance(x, int):
        return str(x)
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(v):
        return str(v)
    return f"{v:.4g}"


def _system_dict(s: SystemReport) -> dict:
    d = dataclasses.asdict(s)
    d["violations"] = len(s.violations)
    d["deviations"] = len(s.deviations)
    return d


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        v = float(x)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    if x is None or isinstance(x, str):
        return x
    if hasattr(x, "shape"):
        return _jsonable(np.asarray(x).tolist())
    return str(x)


_SPECIAL = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}


def _unjson(x):
    if isinstance(x, dict):
        return {k: (v if k in ("name", "description", "detail", "status", "theorem", "kind")
                    else _unjson(v)) for k, v in x.items()}
    if isinstance(x, list):
        return [_unjson(v) for v in x]
    if isinstance(x, str) and x in _SPECIAL:
        return _SPECIAL[x]
    return x
