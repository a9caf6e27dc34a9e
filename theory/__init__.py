"""Theory of parallelizability: Lyapunov exponents, conditioning of the residual Jacobian, the
bounds of PAPER.md §3–5 (PL constant vs LLE, basins, iteration counts) and symbolic checks.

Everything here is pure: arrays in, arrays (or frozen dataclasses) out; no global JAX
configuration is touched and every random quantity takes a ``key``. ``theory.symbolic`` holds
the sympy certificates (import it explicitly; it never runs under ``jit``).
"""

from ._bounds import (
    LinearConvergenceConstants,
    basin_radius,
    basin_radius_lle,
    condition_number_bounds,
    contraction_pl_lower_bound,
    inverse_norm_bound,
    linear_convergence_constants,
    log_pl_constant_bounds,
    metric_condition,
    no_overshoot_condition,
    no_overshoot_condition_general,
    pl_constant_bounds,
    pl_constant_lower_bound,
    sigma_max_bounds,
    sigma_min_near_solution,
)
from ._conditioning import (
    SingularValueEstimate,
    condition_number,
    pl_constant,
    sigma_max,
    sigma_min,
)
from ._iterations import (
    IterationBound,
    StepEstimate,
    gd_steps_to_basin,
    iteration_bound,
    two_phase_estimate,
)
from ._lipschitz import LipschitzEstimate, jacobian_lipschitz
from ._lyapunov import BurnInConstants, burn_in_constants, lle, lle_along, lyapunov_spectrum
from ._operators import ResidualOperator, jacobians_along, residual_jacobian, residual_operator

__all__ = [
    # Lyapunov exponents (§3)
    "lle",
    "lle_along",
    "lyapunov_spectrum",
    "burn_in_constants",
    "BurnInConstants",
    # residual Jacobian and its conditioning (§1, §4)
    "residual_jacobian",
    "residual_operator",
    "ResidualOperator",
    "jacobians_along",
    "sigma_min",
    "sigma_max",
    "SingularValueEstimate",
    "pl_constant",
    "condition_number",
    # bounds (§4)
    "pl_constant_bounds",
    "log_pl_constant_bounds",
    "contraction_pl_lower_bound",
    "inverse_norm_bound",
    "pl_constant_lower_bound",
    "metric_condition",
    "sigma_max_bounds",
    "condition_number_bounds",
    "jacobian_lipschitz",
    "LipschitzEstimate",
    "basin_radius",
    "basin_radius_lle",
    "sigma_min_near_solution",
    "linear_convergence_constants",
    "LinearConvergenceConstants",
    "no_overshoot_condition",
    "no_overshoot_condition_general",
    # iteration counts (§4–5)
    "iteration_bound",
    "IterationBound",
    "two_phase_estimate",
    "gd_steps_to_basin",
    "StepEstimate",
]
