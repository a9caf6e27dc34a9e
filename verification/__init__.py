"""Cross-check the theory against measurement on built-in systems and on any system a user brings."""

from . import systems
from ._checks import Check
from ._report import LengthResult, Report, SystemReport
from ._sweep import SweepResult, sweep
from ._system import System
from ._verify import Diagnosis, assert_bounds_hold, assert_parallelizable, diagnose, verify

__all__ = [
    "System",
    "systems",
    "verify",
    "Report",
    "SystemReport",
    "LengthResult",
    "Check",
    "sweep",
    "SweepResult",
    "diagnose",
    "Diagnosis",
    "assert_bounds_hold",
    "assert_parallelizable",
]
