"""``predictability diagnose MODULE:FACTORY``: λ, regime, predicted iterations and a recommendation
for a user's own system."""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import json
import sys
from pathlib import Path

from .cli import UsageError, enable_precision


def add_parser(sub):
    p = sub.add_parser(
        "diagnose",
        help="diagnose your own system: LLE, regime, predicted iterations, recommendation",
        description=(
            "Load a factory returning a verification.System from MODULE:FACTORY (an importable module "
            "such as mypkg.models:make, or a file path such as ./model.py:make), estimate its largest "
            "Lyapunov exponent along the sequential trajectory, say whether it is predictable, predict "
            "the DEER iterations as T grows, measure them once, and recommend DEER, quasi-DEER or "
            "sequential evaluation with the reasons. float64 runs switch JAX's x64 mode on."
        ),
    )
    p.add_argument("target", metavar="MODULE:FACTORY", help="module (or .py file) and factory name")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="keyword argument for the factory, repeatable")
    p.add_argument("--precision", default="float64", help="float64 (default) or float32")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--no-measure", action="store_true", help="skip the measuring DEER run")
    p.add_argument("--json", action="store_true", help="print the diagnosis as JSON")
    p.set_defaults(run=run)


def load_factory(target: str):
    """Resolve ``MODULE:FACTORY`` (module name or ``.py`` path) to a callable; UsageError otherwise."""
    module_name, sep, attr = target.rpartition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"MODULE:FACTORY: expected e.g. mypkg.models:make or ./model.py:make, got {target!r}")
    try:
        if module_name.endswith(".py") or "/" in module_name or "\\" in module_name:
            path = Path(module_name)
            if not path.is_file():
                raise UsageError(f"MODULE:FACTORY: no such file {module_name!r}")
            spec = importlib.util.spec_from_file_location(f"_predictability_user_{path.stem}", path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
        else:
            if "" not in sys.path and "." not in sys.path:
                sys.path.insert(0, "")
            module = importlib.import_module(module_name)
    except UsageError:
        raise
    except Exception as exc:  # noqa: BLE001 - the user's module: one line, no traceback
        raise UsageError(f"cannot import {module_name!r}: {type(exc).__name__}: {_first_line(exc)}") from None
    factory = getattr(module, attr, None)
    if factory is None:
        raise UsageError(f"{module_name!r} has no attribute {attr!r}")
    if not callable(factory):
        raise UsageError(f"{target!r} is not callable (got {type(factory).__name__})")
    return factory


def _first_line(exc) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else ""


def call_factory(factory, params, target):
    from ._system import System

    try:
        system = factory(**params)
    except Exception as exc:  # noqa: BLE001 - the user's code
        raise UsageError(f"{target} raised {type(exc).__name__}: {_first_line(exc)}") from None
    if not isinstance(system, System):
        raise UsageError(f"{target} must return a verification.System, got {type(system).__name__}")
    return system


def run(args) -> int:
    from ._cli_verify import parse_params

    if args.precision not in ("float32", "float64"):
        raise UsageError(f"--precision: expected float32 or float64, got {args.precision!r}")
    params = parse_params(args.param)
    enable_precision(args.precision)
    factory = load_factory(args.target)
    system = call_factory(factory, params, args.target)

    import jax

    from ._verify import diagnose

    try:
        d = diagnose(system, key=jax.random.key(args.seed), measure=not args.no_measure)
    except (ValueError, TypeError) as exc:
        raise UsageError(_first_line(exc)) from None
    if args.json:
        print(json.dumps(dataclasses.asdict(d), indent=2, ensure_ascii=False))
    else:
        print(d.summary())
    return 0
