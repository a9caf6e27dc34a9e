"""The ``predictability`` command line.

Each subcommand lives in its own module exposing ``add_parser(subparsers)`` and ``run(args) -> int``;
this module only dispatches. Exit status: 0 success, 1 a theorem check violated (``verify``),
2 usage errors (bad names, malformed options, unwritable folders), reported in one line.
"""

from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["main", "UsageError", "enable_precision"]

#: (module, subcommand) pairs; modules are imported lazily so that ``--help`` stays fast.
_COMMANDS = (
    ("verification._cli_compare", "compare"),
    ("verification._cli_verify", "verify"),
    ("verification._cli_diagnose", "diagnose"),
    ("verification._cli_figures", "figures"),
    ("verification._cli_bench", "bench"),
)


class UsageError(Exception):
    """A user mistake: reported as one line on stderr with exit status 2."""


def enable_precision(precision: str) -> None:
    """Applications (not the library) switch x64 on for float64 runs; say so in ``--help``."""
    import jax

    if precision not in ("float32", "float64"):
        raise UsageError(f"--precision: expected float32 or float64, got {precision!r}")
    jax.config.update("jax_enable_x64", precision == "float64")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit status 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="predictability",
        description="Can this nonlinear state space model be evaluated in parallel over time, how fast, and why?",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module_name, _ in _COMMANDS:
        importlib.import_module(module_name).add_parser(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except UsageError as exc:
        print(f"predictability {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"predictability {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    # `python -m verification.cli` runs this file as __main__, a second copy of the module whose
    # UsageError the subcommands do not raise: dispatch through the imported module instead.
    from verification.cli import main as _main

    sys.exit(_main())
