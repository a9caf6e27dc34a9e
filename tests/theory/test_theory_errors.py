"""Bad input raises at once, naming the argument; numerical edge cases return values, not NaN."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import theory

J = jnp.asarray(np.random.default_rng(0).normal(size=(5, 2, 2)))
KEY = jax.random.key(0)
f = lambda s, u: jnp.tanh(s) + u  # noqa: E731
S0 = jnp.zeros(2)
U = jnp.zeros((5, 2))
STATES = jnp.ones((5, 2))
NAN_J = J.at[2, 0, 0].set(jnp.nan)

CASES = [
    # (callable, exception, text the message must contain)
    (lambda: theory.lle(J[0], key=KEY), ValueError, "jacobians"),
    (lambda: theory.lle(jnp.zeros((5, 2, 3)), key=KEY), ValueError, "jacobians"),
    (lambda: theory.lle(jnp.zeros((0, 2, 2)), key=KEY), ValueError, "T >= 1"),
    (lambda: theory.lle(NAN_J, key=KEY), ValueError, "finite"),
    (lambda: theory.lle(J, key=None), ValueError, "key"),
    (lambda: theory.lle(J, key=3), TypeError, "key"),
    (lambda: theory.lle(J, key=KEY, num_vectors=0), ValueError, "num_vectors"),
    (lambda: theory.lle(J, key=KEY, burn_in=5), ValueError, "burn_in"),
    (lambda: theory.lle(J, key=KEY, dt=0.0), ValueError, "dt"),
    (lambda: theory.lle(J, key=KEY, dt=-1.0), ValueError, "dt"),
    (lambda: theory.lle(J, key=KEY, lengths=[0, 3]), ValueError, "lengths"),
    (lambda: theory.lle(J, key=KEY, lengths=[6]), ValueError, "lengths"),
    (lambda: theory.lle(J, key=KEY, burn_in=2, lengths=[2]), ValueError, "lengths"),
    (lambda: theory.lle(J, key=KEY, lengths=[1.5]), TypeError, "lengths"),
    (lambda: theory.lle("abc", key=KEY), TypeError, "jacobians"),
    (lambda: theory.lle_along(f, S0, U, key=None), ValueError, "key"),
    (lambda: theory.lle_along(f, jnp.zeros((2, 2)), U, key=KEY), ValueError, "s0"),
    (lambda: theory.lle_along(f, S0.at[0].set(jnp.inf), U, key=KEY), ValueError, "s0"),
    (lambda: theory.lle_along(lambda s, u: s[:1], S0, U, key=KEY), ValueError, "f"),
    (lambda: theory.lle_along(3, S0, U, key=KEY), TypeError, "f"),
    (lambda: theory.lyapunov_spectrum(J, 3), ValueError, "k"),
    (lambda: theory.lyapunov_spectrum(J, 0), ValueError, "k"),
    (lambda: theory.lyapunov_spectrum(NAN_J), ValueError, "finite"),
    (lambda: theory.burn_in_constants(J, jnp.nan), ValueError, "lam"),
    (lambda: theory.burn_in_constants(J, 0.0, max_window=0), ValueError, "max_window"),
    (lambda: theory.burn_in_constants(J, 0.0, start=3), ValueError, "start"),
    (lambda: theory.residual_jacobian(jnp.zeros((3, 2))), ValueError, "jacobians"),
    (lambda: theory.sigma_min(J, method="svd"), ValueError, "method"),
    (lambda: theory.sigma_min(J, method="lanczos"), ValueError, "key"),
    (lambda: theory.sigma_min(jnp.zeros((600, 2, 2))), ValueError, "method='auto' uses Lanczos"),
    (lambda: theory.sigma_max(J, method="lanczos", key=KEY, krylov_dim=1), ValueError, "krylov_dim"),
    (lambda: theory.sigma_min(J, method="lanczos", key=KEY, tol=0.0), ValueError, "tol"),
    (lambda: theory.pl_constant(jnp.zeros((2, 2))), ValueError, "jacobians"),
    (lambda: theory.condition_number(NAN_J), ValueError, "finite"),
    (lambda: theory.jacobians_along(f, S0, jnp.ones((5, 3)), U), ValueError, "states"),
    (lambda: theory.jacobians_along(f, S0, STATES, jnp.zeros((4, 2))), ValueError, "inputs"),
    (lambda: theory.pl_constant_bounds(0.1, 0), ValueError, "T"),
    (lambda: theory.pl_constant_bounds(0.1, [5, 0.5]), ValueError, "T"),
    (lambda: theory.pl_constant_bounds(0.1, 5, a=0.5), ValueError, "a"),
    (lambda: theory.pl_constant_bounds(0.1, 5, b=0.0), ValueError, "b"),
    (lambda: theory.pl_constant_bounds(0.1, 5, b=1.5), ValueError, "b"),
    (lambda: theory.pl_constant_bounds(jnp.nan, 5), ValueError, "lam"),
    (lambda: theory.pl_constant_bounds(jnp.inf, 5), ValueError, "lam"),
    (lambda: theory.pl_constant_bounds(0.1, jnp.inf), ValueError, "T"),
    (lambda: theory.pl_constant_bounds(0.1, 5, D=0), ValueError, "D"),
    (lambda: theory.pl_constant_bounds("x", 5), TypeError, "lam"),
    (lambda: theory.log_pl_constant_bounds(0.1, -3), ValueError, "T"),
    (lambda: theory.contraction_pl_lower_bound(-0.1, 5), ValueError, "rho"),
    (lambda: theory.inverse_norm_bound([0.5, 0.1], 2), ValueError, "g"),
    (lambda: theory.inverse_norm_bound([1.0, 0.1], 3), ValueError, "g"),
    (lambda: theory.inverse_norm_bound(lambda j: 1.0 + 0 * j, 0), ValueError, "T"),
    (lambda: theory.inverse_norm_bound([1.0, 0.1], 2, metric_condition=0.5), ValueError, "metric_condition"),
    (lambda: theory.metric_condition(-jnp.eye(2)), ValueError, "metrics"),
    (lambda: theory.sigma_max_bounds(NAN_J), ValueError, "finite"),
    (lambda: theory.condition_number_bounds(0.1, 5, -1.0), ValueError, "rho"),
    (lambda: theory.basin_radius(0.0, 1.0), ValueError, "mu"),
    (lambda: theory.basin_radius(-1.0, 1.0), ValueError, "mu"),
    (lambda: theory.basin_radius(0.1, -1.0), ValueError, "lipschitz"),
    (lambda: theory.basin_radius(jnp.nan, 1.0), ValueError, "mu"),
    (lambda: theory.basin_radius_lle(0.1, 5, -1.0), ValueError, "lipschitz"),
    (lambda: theory.basin_radius_lle(0.1, 5, 1.0, a=0.9), ValueError, "a"),
    (lambda: theory.sigma_min_near_solution(-0.1, 1.0, 1.0), ValueError, "sigma_min_star"),
    (lambda: theory.linear_convergence_constants(0.5, 10, 1.0), ValueError, "beta"),
    (lambda: theory.linear_convergence_constants(-0.5, 10, 0.5), ValueError, "rho"),
    (lambda: theory.no_overshoot_condition(0.1, 0.0), ValueError, "beta"),
    (lambda: theory.jacobian_lipschitz(f, S0, STATES, U, key=None), ValueError, "key"),
    (lambda: theory.jacobian_lipschitz(f, S0, STATES, U, key=KEY, radius=-1.0), ValueError, "radius"),
    (lambda: theory.jacobian_lipschitz(f, S0, STATES[:, :1], U, key=KEY), ValueError, "states"),
    (lambda: theory.iteration_bound(0), ValueError, "T"),
    (lambda: theory.iteration_bound(10, tol=0.0), ValueError, "tol"),
    (lambda: theory.iteration_bound(10, residual0=1.0, mu=-1.0, lipschitz=1.0), ValueError, "mu"),
    (lambda: theory.iteration_bound(10, residual0=1.0, rho=0.5, lipschitz=-1.0), ValueError, "lipschitz"),
    (lambda: theory.iteration_bound(10, residual0=1.0, lam=0.1, a=0.5, lipschitz=1.0), ValueError, "a"),
    (lambda: theory.iteration_bound(10, residual0=1.0, rho=0.5, jacobians=J), ValueError, "jacobians"),
    (lambda: theory.two_phase_estimate(0.1, 10, residual0=0.0), ValueError, "residual0"),
    (lambda: theory.two_phase_estimate(0.1, 10, residual0=1.0, chi=0.5), ValueError, "chi"),
    (lambda: theory.gd_steps_to_basin(0.5, 0.1, 1.0, 1.0), ValueError, "smoothness"),
    (lambda: theory.gd_steps_to_basin(0.0, 1.0, 1.0, 1.0), ValueError, "mu"),
]


@pytest.mark.parametrize("call, exc, text", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_bad_input_raises_naming_the_argument(call, exc, text):
    with pytest.raises(exc, match=text):
        call()


def test_edge_cases_return_values_not_nan():
    lo, hi = theory.pl_constant_bounds(0.0, 1)
    assert float(lo) == 1.0 and float(hi) == 1.0
    for lam in (-700.0, 700.0):
        for x in theory.log_pl_constant_bounds(lam, 1e6):
            assert np.isfinite(float(x))
    assert float(theory.basin_radius(1.0, 0.0)) == np.inf
    c = theory.linear_convergence_constants(0.0, 10, 0.5)
    assert float(c.contraction) == 0.0 and float(c.chi) == 1.0 and bool(c.no_overshoot)
    big = theory.linear_convergence_constants(1e3, 1e6, 0.5)
    assert float(big.chi) == np.inf and np.isfinite(float(big.log_chi))
