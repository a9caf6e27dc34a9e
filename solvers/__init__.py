"""Evaluate nonlinear state space models ``s_t = f(s_{t-1}, u_t)`` in parallel over time.

The DEER family (PAPER.md §2) and the sequential rollout behind one entry point,
:func:`evaluate`, which returns a :class:`Solution`. The parallel affine scans the Newton
family is built on are public too.
"""

from ._evaluate import evaluate, merit_terms
from ._jacobian import JACOBIAN_MODES, jacobian_costs, jacobians, value_and_jacobian
from ._pcr import solve_affine_pcr
from ._scan import (
    SCAN_METHODS,
    affine_scan,
    compose_affine,
    compose_affine_diagonal,
    default_scan_method,
    solve_affine,
)
from ._scan_variants import solve_affine_chunked, solve_affine_sequential, solve_affine_vector
from ._sharding import ShardedScan, time_mesh
from ._solution import Solution, Status
from ._solvers import (
    DEER,
    AbstractSolver,
    DampedDEER,
    DeepPCR,
    GradientDescent,
    Jacobi,
    Picard,
    QuasiDEER,
    Sequential,
    shift,
)

__all__ = [
    "evaluate",
    "merit_terms",
    "Solution",
    "Status",
    "AbstractSolver",
    "DEER",
    "QuasiDEER",
    "DampedDEER",
    "DeepPCR",
    "Picard",
    "Jacobi",
    "GradientDescent",
    "Sequential",
    "affine_scan",
    "solve_affine",
    "solve_affine_vector",
    "solve_affine_chunked",
    "solve_affine_sequential",
    "default_scan_method",
    "SCAN_METHODS",
    "ShardedScan",
    "time_mesh",
    "solve_affine_pcr",
    "compose_affine",
    "compose_affine_diagonal",
    "shift",
    "value_and_jacobian",
    "jacobians",
    "jacobian_costs",
    "JACOBIAN_MODES",
]
