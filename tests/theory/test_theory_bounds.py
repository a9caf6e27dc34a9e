"""Closed-form bounds: edge cases (λ = 0, huge |λ|T), vectorisation, Theorem 4's constants
against dense operator norms, basins, iteration estimates."""

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from theory_oracles import dense_residual_jacobian

import theory


def test_lambda_zero_values_and_continuity():
    for T, a, b in [(1, 1.0, 1.0), (10, 1.0, 1.0), (7, 2.5, 0.3)]:
        lo, hi = theory.pl_constant_bounds(0.0, T, a, b)
        np.testing.assert_allclose([lo, hi], [1 / (a * T) ** 2, 1.0], rtol=1e-14)
        for eps in (1e-300, 1e-12, -1e-12, 1e-7, -1e-7):
            lo_e, hi_e = theory.pl_constant_bounds(eps, T, a, b)
            np.testing.assert_allclose([lo_e, hi_e], [lo, hi], rtol=3 * abs(eps) * T + 1e-13)
    # The Frobenius form at λ = 0: 2D/(b²(T+1)) when that is below 1.
    _, hi = theory.pl_constant_bounds(0.0, 99, 1.0, 0.5, D=3)
    np.testing.assert_allclose(hi, 2 * 3 / (0.25 * 100), rtol=1e-13)


def test_closed_forms_against_direct_sums():
    for lam in (-1.3, -0.2, 0.05, 0.9):
        for T in (1, 2, 5, 30):
            for a, b in ((1.0, 1.0), (1.7, 0.4)):
                lo, hi = theory.pl_constant_bounds(lam, T, a, b)
                lower = 1 / (a * sum(np.exp(lam * k) for k in range(T)))
                upper = min(np.exp(-lam * (T - 1)) / b, 1.0)
                np.testing.assert_allclose([lo, hi], [lower**2, upper**2], rtol=1e-12)
                _, hi_f = theory.pl_constant_bounds(lam, T, a, b, D=2)
                frob = T * 2 / (b**2 * sum((T - k) * np.exp(2 * lam * k) for k in range(T)))
                assert float(hi_f) <= min(upper**2, frob) * (1 + 1e-12)
                assert float(hi_f) >= min(upper**2, frob) * (1 - 1e-4)


def test_huge_lambda_T_is_finite_in_log_space():
    log_lo, log_hi = theory.log_pl_constant_bounds(1.0, 1e6)
    np.testing.assert_allclose(log_lo, 2 * ((1 - 1e6) + np.log1p(-np.exp(-1.0))), rtol=1e-14)
    np.testing.assert_allclose(log_hi, -2 * (1e6 - 1), rtol=1e-14)
    log_lo, log_hi = theory.log_pl_constant_bounds(-1.0, 1e6)
    np.testing.assert_allclose([log_lo, log_hi], [2 * np.log1p(-np.exp(-1.0)), 0.0], atol=1e-14)
    lo, hi = theory.pl_constant_bounds(1.0, 1e6)
    assert float(lo) == 0.0 and float(hi) == 0.0  # underflow, not NaN
    lam = np.array([-50.0, -1.0, -1e-300, 0.0, 1e-300, 1e-8, 1.0, 50.0])[:, None]
    T = np.array([1, 2, 1e3, 1e6, 1e9])
    for D in (None, 4):
        for out in theory.log_pl_constant_bounds(lam, T, 3.0, 0.2, D=D):
            assert out.shape == (8, 5) and np.all(np.isfinite(out))
    k_lo, k_hi = theory.condition_number_bounds(50.0, 1e6, 2.0)
    assert float(k_hi) == np.inf and float(k_lo) == np.inf and not np.isnan(k_hi)


def test_float32_bounds_stay_float32_and_finite():
    lam = jnp.asarray([-1.0, 0.0, 1e-7, 1.0], jnp.float32)
    lo, hi = theory.log_pl_constant_bounds(lam, 1e6, D=3)
    assert lo.dtype == jnp.float32 and np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))


def test_contraction_variant_special_values():
    out = theory.contraction_pl_lower_bound(np.array([0.0, 0.5, 1.0, 2.0]), 5)
    want = [1.0, ((1 - 0.5) / (1 - 0.5**5)) ** 2, 1 / 25, ((2 - 1) / (2**5 - 1)) ** 2]
    np.testing.assert_allclose(out, want, rtol=1e-13)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.integers(1, 6), st.integers(1, 3), st.floats(0.0, 2.0), st.floats(0.05, 0.95),
       st.integers(0, 2**31 - 1))
def test_theorem4_weighted_norm_constants(T, D, rho, beta, seed):
    """‖W J⁻¹ (J − B) W⁻¹‖ ≤ contraction ≤ β for any blocks with norms ≤ ρ; ‖x‖ ≤ χ_w ‖x‖_W."""
    rng = np.random.default_rng(seed)

    def blocks():
        G = rng.normal(size=(T, D, D))
        scale = rho * rng.uniform(size=T) / np.linalg.norm(G, 2, axis=(1, 2))
        return G * scale[:, None, None]

    Jt, Bt = blocks(), blocks()
    J = dense_residual_jacobian(Jt)
    B = dense_residual_jacobian(Bt)
    c = theory.linear_convergence_constants(rho, T, beta)
    w = float(c.w)
    np.testing.assert_allclose(w, max(1.0, rho * (2 + beta) / beta), rtol=1e-14)
    Wd = np.repeat(w ** -np.arange(T, dtype=float), D)
    op = (Wd[:, None] * (np.linalg.solve(J, J - B))) / Wd[None, :]
    assert np.linalg.norm(op, 2) <= float(c.contraction) * (1 + 1e-9) + 1e-15
    assert float(c.contraction) <= beta * (1 + 1e-12)
    assert np.linalg.norm(((Wd[:, None] * (J - B)) / Wd[None, :]), 2) <= 2 * rho / w * (1 + 1e-9) + 1e-15
    np.testing.assert_allclose(c.chi, w ** (T - 1), rtol=1e-12)
    x = rng.normal(size=T * D)
    assert np.linalg.norm(x) <= float(c.chi) * np.linalg.norm(Wd * x) * (1 + 1e-12)
    assert bool(c.no_overshoot) == (rho <= beta / (2 + beta))
    assert bool(theory.no_overshoot_condition(rho, beta)) == (2 * rho / (1 - rho) <= beta if rho < 1 else False)


def test_no_overshoot_general_condition():
    assert bool(theory.no_overshoot_condition_general(lambda j: 0.1**j, 10, 0.5))  # 2·0.1·1.111 ≤ 0.5
    assert not bool(theory.no_overshoot_condition_general(lambda j: 0.3**j, 10, 0.5))
    assert bool(theory.no_overshoot_condition_general(np.array([1.0, 0.2, 0.04]), 2, 0.5))


def test_basin_radius_forms():
    np.testing.assert_allclose(theory.basin_radius(0.3, 1.5), 0.4, rtol=1e-15)
    assert float(theory.basin_radius(0.3, 0.0)) == np.inf
    out = theory.basin_radius(np.array([0.1, 0.2]), np.array([[1.0], [2.0]]))
    assert out.shape == (2, 2)
    lam, T, L, a = -0.3, 50, 2.0, 1.5
    mu_lo, _ = theory.pl_constant_bounds(lam, T, a)
    np.testing.assert_allclose(theory.basin_radius_lle(lam, T, L, a), 2 * mu_lo / L, rtol=1e-13)
    direct = (2 / (a**2 * L)) * ((np.exp(lam) - 1) / (np.exp(lam * T) - 1)) ** 2
    np.testing.assert_allclose(theory.basin_radius_lle(lam, T, L, a), direct, rtol=1e-12)
    assert float(theory.basin_radius_lle(1.0, 1e6, 1.0)) == 0.0


def test_two_phase_and_gd_estimates():
    lam = np.linspace(-1, 0.5, 7)
    est = theory.two_phase_estimate(lam, 1000, residual0=10.0)
    assert "estimate" in est.label and est.steps.shape == (7,)
    assert np.all(np.diff(np.asarray(est.steps)) >= 0) and float(est.steps.max()) <= 1000
    mu = float(theory.pl_constant_bounds(-0.5, 1000)[0])
    want = np.log(10.0 / (2 * mu)) / np.log(2) + 2
    np.testing.assert_allclose(theory.two_phase_estimate(-0.5, 1000, residual0=10.0).steps, want, rtol=1e-12)
    gd = theory.gd_steps_to_basin(0.1, 4.0, 1.0, 10.0)
    np.testing.assert_allclose(gd.steps, 2 * np.log(10 / 0.2) / -np.log1p(-0.1 / 4.0), rtol=1e-13)
    assert float(gd.steps) <= (4.0 / 0.1) * 2 * np.log(10 / 0.2)
    assert float(theory.gd_steps_to_basin(0.1, 4.0, 1.0, 0.1).steps) == 0.0  # already inside


def test_iteration_bound_structure():
    r = theory.iteration_bound(50)
    assert r.iterations == 50 and r.linear_only is None and r.two_phase is None
    r = theory.iteration_bound(1000, residual0=10.0, rho=0.2, mu=0.3, lipschitz=1.0)
    assert r.iterations < 30 and r.linear_only is not None and r.two_phase is not None
    assert any("rho" in s for s in r.assumed) and any("Theorem 5" in s for s in r.assumed)
    assert theory.iteration_bound(100, residual0=1e-9, tol=1e-10).iterations == 0
    assert theory.iteration_bound(100, residual0=5.0, mu=0.5, lipschitz=0.0).iterations == 1
    # checked / violated on supplied Jacobians
    J = np.tile(0.5 * np.eye(2), (100, 1, 1))
    ok = theory.iteration_bound(100, residual0=10.0, rho=0.6, mu=0.1, lipschitz=1.0, jacobians=J)
    assert ok.checked and not ok.violated
    bad = theory.iteration_bound(100, residual0=10.0, rho=0.1, mu=0.9, lipschitz=1.0, jacobians=J)
    assert len(bad.violated) == 2 and bad.iterations == 100


def test_sigma_min_near_solution_weyl():
    rng = np.random.default_rng(3)
    W = rng.normal(size=(3, 3)) / np.sqrt(3)
    L = np.linalg.norm(W, 2) * 4 / (3 * np.sqrt(3))  # max |tanh''| = 4/(3√3)
    T = 6
    star = rng.normal(size=(T, 3))
    s0 = rng.normal(size=3)

    def J_at(states):
        prev = np.vstack([s0, states[:-1]])
        return np.stack([W * (1 - np.tanh(p) ** 2)[None, :] for p in prev])

    smin_star = np.linalg.svd(dense_residual_jacobian(J_at(star)), compute_uv=False)[-1]
    for _ in range(5):
        s = star + rng.normal(size=star.shape) * rng.uniform(0, 2)
        smin = np.linalg.svd(dense_residual_jacobian(J_at(s)), compute_uv=False)[-1]
        lo, hi = theory.sigma_min_near_solution(smin_star, L, np.linalg.norm(s - star))
        assert float(lo) - 1e-12 <= smin <= float(hi) + 1e-12


def test_jacobian_lipschitz_estimate():
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(4)
    W = jnp.asarray(rng.normal(size=(3, 3)))
    f = lambda s, u: W @ jnp.tanh(s) + u  # noqa: E731
    states = jnp.asarray(rng.normal(size=(8, 3)))
    u = jnp.zeros((8, 3))
    est = theory.jacobian_lipschitz(f, jnp.zeros(3), states, u, key=jax.random.key(0), radius=1.0)
    bound = float(np.linalg.norm(np.asarray(W), 2)) * 4 / (3 * np.sqrt(3))
    assert 0.2 * bound <= float(est.value) <= bound * (1 + 1e-12)
    assert est.per_step.shape == (8,) and "lower estimate" in est.method
    lin = theory.jacobian_lipschitz(lambda s, u: W @ s + u, jnp.zeros(3), states, u, key=jax.random.key(0))
    assert float(lin.value) == 0.0


@pytest.mark.parametrize("fn", ["pl", "log", "cond", "basin_lle", "two_phase"])
def test_vectorised_broadcasting(fn):
    lam = np.array([-0.5, 0.0, 0.5])[:, None]
    T = np.array([1, 10, 100])
    if fn == "pl":
        out = theory.pl_constant_bounds(lam, T)
    elif fn == "log":
        out = theory.log_pl_constant_bounds(lam, T, D=2)
    elif fn == "cond":
        out = theory.condition_number_bounds(lam, T, 0.5)
    elif fn == "basin_lle":
        out = (theory.basin_radius_lle(lam, T, 1.0),)
    else:
        out = (theory.two_phase_estimate(lam, T, residual0=1.0).steps,)
    for x in out:
        assert x.shape == (3, 3) and not np.any(np.isnan(x))
