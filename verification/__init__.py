"""Cross-check the theory against measurement on built-in systems and on any system a user brings."""

from . import systems
from ._checks import Check
from ._report import LengthResult, Report, SystemReport
from ._sweep import SweepInterrupted, SweepResult, mean_field_rnn_factory, sweep
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
    "SweepInterrupted",
    "mean_field_rnn_factory",
    "diagnose",
    "Diagnosis",
    "assert_bounds_hold",
    "assert_parallelizable",
]
