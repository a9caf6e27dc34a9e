"""``predictability verify``: predicted vs measured on the built-in suite or one catalog system."""

from __future__ import annotations

import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from .cli import UsageError, enable_precision

SOLVER_NAMES = ("deer", "quasi", "damped", "deeppcr", "picard", "jacobi")

#: name -> list of (catalog system, parameters, prefix lengths); T is the largest length.
SUITES = {
    "quick": [
        ("mean_field_rnn", {"g": 0.5, "D": 16}, (10, 30, 100, 300)),
        ("mean_field_rnn", {"g": 1.0, "D": 16}, (10, 30, 100, 300)),
        ("mean_field_rnn", {"g": 1.5, "D": 16}, (10, 30, 100, 300)),
        ("mean_field_rnn", {"g": 2.0, "D": 16}, (10, 30, 100, 300)),
        ("two_well_langevin", {}, (10, 30, 100, 300, 1000)),
        ("lorenz", {}, (10, 30, 100, 300)),
        ("lorenz_observer", {}, (10, 30, 100, 300, 1000)),
    ],
    # a smaller set for the test suite and smoke checks
    "tiny": [
        ("mean_field_rnn", {"g": 0.5, "D": 16}, (10, 30, 100)),
        ("mean_field_rnn", {"g": 2.0, "D": 16}, (10, 30, 100)),
        ("lorenz_observer", {}, (10, 30, 100)),
    ],
}


def add_parser(sub):
    p = sub.add_parser(
        "verify",
        help="check every prediction of the theory against measurement (built-in suite or one system)",
        description=(
            "Measure how parallel (DEER-family) evaluation behaves as T grows and check it against the "
            "theory: Theorem 2 (PL constant vs LLE), Theorems 4 and 5 along the solver's trace, <= T "
            "exactness, the rigorous iteration bound, the two-phase estimate and the growth class of "
            "the iteration counts. Without --system it runs a quick built-in suite (mean-field RNN on "
            "both sides of the threshold, two-well Langevin, Lorenz and its observer). Writes "
            "report.json, report.md and PNG plots to --out (atomically). Exit status: 0 no violation, "
            "1 a theorem check violated, 2 usage error. float64 runs switch JAX's x64 mode on for "
            "this process."
        ),
    )
    p.add_argument("--system", default=None,
                   help="a catalog system (verification.systems.CATALOG) or your own factory MODULE:FACTORY "
                        "(as for diagnose); default: the built-in suite")
    p.add_argument("--suite", default="quick", help=f"built-in suite when no --system: {', '.join(SUITES)} (default quick)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="system parameter, repeatable (e.g. --param g=1.2 --param D=32)")
    p.add_argument("--lengths", default=None, help="comma-separated increasing prefix lengths (default 10,30,100,300)")
    p.add_argument("--solver", default="deer", help=f"one of {', '.join(SOLVER_NAMES)} (default deer)")
    p.add_argument("--precision", default="float64", help="float64 (default) or float32")
    p.add_argument("--tol", type=float, default=None, help="merit tolerance L/T (default 1e-10 float64, 1e-8 float32)")
    p.add_argument("--seed", type=int, default=0, help="random seed for guesses, LLE vectors, Lanczos (default 0)")
    p.add_argument("--out", default="predictability-report", help="output folder (default ./predictability-report)")
    p.add_argument("--json", action="store_true", help="print the JSON report on stdout instead of the table")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.set_defaults(run=run)


def parse_value(text: str):
    """``"3"`` → 3, ``"1.5"`` → 1.5, ``"true"`` → True, anything else stays a string."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


def parse_params(items) -> dict:
    params = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier() or not value.strip():
            raise UsageError(f"--param: expected NAME=VALUE (e.g. g=1.2), got {item!r}")
        params[name] = parse_value(value.strip())
    return params


def parse_lengths(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(x) for x in text.split(","))
    except ValueError:
        raise UsageError(f"--lengths: expected comma-separated integers such as 10,100,1000, got {text!r}") from None
    if not values or any(v < 2 for v in values) or any(b <= a for a, b in itertools.pairwise(values)):
        raise UsageError(f"--lengths: expected strictly increasing integers >= 2, got {text!r}")
    return values


def make_solver(name: str):
    import solvers as S

    table = {"deer": S.DEER, "quasi": S.QuasiDEER, "damped": lambda: S.DampedDEER(0.5),
             "deeppcr": S.DeepPCR, "picard": S.Picard, "jacobi": S.Jacobi}
    if name not in table:
        raise UsageError(f"--solver: unknown solver {name!r}; expected one of {', '.join(SOLVER_NAMES)}")
    return table[name]()


def check_writable(out) -> Path:
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise UsageError(f"--out: cannot write to {str(out)!r}: {exc.strerror or exc}") from None
    return out


def build_system(name: str, params: dict, T: int):
    from . import systems

    if name not in systems.CATALOG:
        raise UsageError(f"--system: unknown system {name!r}; expected one of {', '.join(sorted(systems.CATALOG))}")
    params = dict(params)
    params.setdefault("T", T)
    try:
        return systems.build(name, **params)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"--param: {exc}") from None


def run(args) -> int:
    if args.precision not in ("float32", "float64"):
        raise UsageError(f"--precision: expected float32 or float64, got {args.precision!r}")
    solver = make_solver(args.solver)
    params = parse_params(args.param)
    lengths = parse_lengths(args.lengths) if args.lengths is not None else None
    if args.system is None:
        if args.suite not in SUITES:
            raise UsageError(f"--suite: unknown suite {args.suite!r}; expected one of {', '.join(SUITES)}")
        if params or lengths:
            raise UsageError("--param/--lengths need --system NAME (the built-in suite has fixed settings)")
        plan = [(n, p, ls) for n, p, ls in SUITES[args.suite]]
    elif ":" in args.system:  # a user's factory, as for `predictability diagnose`
        plan = [(args.system, params, lengths)]
    else:
        plan = [(args.system, params, lengths or (10, 30, 100, 300))]
    if args.tol is not None and not (args.tol > 0):
        raise UsageError(f"--tol: expected a number > 0, got {args.tol}")
    out = check_writable(args.out)
    enable_precision(args.precision)
    tol = args.tol if args.tol is not None else (1e-10 if args.precision == "float64" else 1e-8)

    import jax
    from tqdm import tqdm

    from ._report import Report
    from ._verify import verify

    # Build (and validate) every system before the long computation starts.
    systems_ = []
    for n, p, ls in plan:
        if ":" in n:
            from ._cli_diagnose import call_factory, load_factory
            from ._verify import default_lengths

            system = call_factory(load_factory(n), p, n)
            systems_.append((system, ls or default_lengths(min(system.T, 1000))))
        else:
            systems_.append((build_system(n, p, ls[-1]), ls))
    key = jax.random.key(args.seed)
    reports = []
    t0 = time.perf_counter()
    bar = tqdm(total=len(systems_), desc="verify", unit="system", file=sys.stderr,
               disable=None if sys.stderr.isatty() else True)
    interrupted = False
    try:
        for i, (system, ls) in enumerate(systems_):
            bar.set_postfix_str(system.name)
            try:
                rep = verify(system, ls, solver=solver, key=jax.random.fold_in(key, i), tol=tol,
                             progress=lambda stage, n=system.name: bar.set_postfix_str(f"{n}: {stage}"))
            except (ValueError, TypeError) as exc:
                raise UsageError(str(exc).splitlines()[0]) from None
            reports.append(rep)
            bar.update(1)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
    report = Report.merge(reports, complete=not interrupted) if reports else Report((), not interrupted)
    try:
        report.write(out, plots=not args.no_plots)
    except OSError as exc:
        raise UsageError(f"--out: cannot write to {str(out)!r}: {exc.strerror or exc}") from None
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(report.summary())
        print(f"\nwrote {os.path.join(str(out), 'report.json')}, report.md"
              + ("" if args.no_plots else " and plots") + f" in {time.perf_counter() - t0:.0f} s")
    if interrupted:
        print("predictability verify: interrupted; the finished systems were written", file=sys.stderr)
        return 130
    return 0 if report.ok else 1
