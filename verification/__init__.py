"""Cross-check the theory against measurement on built-in systems and on any system a user brings."""

from . import systems
from ._system import System

__all__ = ["System", "systems"]
