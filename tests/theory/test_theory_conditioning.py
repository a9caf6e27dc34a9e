"""Conditioning of the residual Jacobian: dense oracles (numpy) against the bounds and the
matrix-free / iterative computations."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from theory_oracles import dense_residual_jacobian, exact_ab, window_max

import theory

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)


@st.composite
def jacobian_sequences(draw, T=(1, 7), D=(1, 3)):
    T = draw(st.integers(*T))
    D = draw(st.integers(*D))
    seed = draw(st.integers(0, 2**31 - 1))
    kind = draw(st.sampled_from(["gaussian", "orthogonal", "triangular"]))
    # log scale: exactly 0, tiny (λ near 0), or a broad range (contracting to expanding)
    log_scale = draw(st.one_of(st.just(0.0), st.floats(-1e-6, 1e-6), st.floats(-2.0, 1.0)))
    rng = np.random.default_rng(seed)
    G = rng.normal(size=(T, D, D))
    if kind == "orthogonal":
        G = np.stack([np.linalg.qr(g)[0] for g in G])
    elif kind == "triangular":
        G = np.triu(G) / np.sqrt(D)
    else:
        G = G / np.sqrt(D)
    return G * np.exp(log_scale)


lams = st.one_of(st.just(0.0), st.floats(-1e-9, 1e-9), st.floats(-2.0, 2.0))


@SETTINGS
@given(jacobian_sequences(), lams)
def test_theorem2_bounds_bracket_exact_sigma_min(J, lam):
    T, D, _ = J.shape
    smin = np.linalg.svd(dense_residual_jacobian(J), compute_uv=False)[-1]
    a, b = exact_ab(J, lam)
    lo, hi = theory.pl_constant_bounds(lam, T, a, b)
    assert float(lo) * (1 - 1e-9) <= smin**2 <= float(hi) * (1 + 1e-9)
    lo_f, hi_f = theory.pl_constant_bounds(lam, T, a, b, D=D)  # with the Frobenius bound
    assert float(lo_f) == float(lo)
    assert smin**2 <= float(hi_f) * (1 + 1e-9) and float(hi_f) <= float(hi)


@SETTINGS
@given(jacobian_sequences())
def test_sigma_max_bounds_and_condition_number_bounds(J):
    T, D, _ = J.shape
    s = np.linalg.svd(dense_residual_jacobian(J), compute_uv=False)
    rho = max([np.linalg.norm(j, 2) for j in J[1:]], default=0.0)
    lo, hi = theory.sigma_max_bounds(jnp.asarray(J))
    assert 1.0 <= float(lo) * (1 - 1e-12) + 1e-12
    assert float(lo) * (1 - 1e-10) <= s[0] <= float(hi) * (1 + 1e-10)
    np.testing.assert_allclose([lo, hi], [np.sqrt(1 + rho**2), 1 + rho], rtol=1e-12)
    lam = float(np.log(max(rho, 1e-300))) if T > 1 else 0.0
    a, b = exact_ab(J, lam)
    klo, khi = theory.condition_number_bounds(lam, T, rho, a, b)
    kappa = s[0] / s[-1]
    assert float(klo) * (1 - 1e-9) <= kappa <= float(khi) * (1 + 1e-9)


@SETTINGS
@given(jacobian_sequences())
def test_contraction_and_lemma1_variants_hold(J):
    T = J.shape[0]
    smin = np.linalg.svd(dense_residual_jacobian(J), compute_uv=False)[-1]
    rho = max([np.linalg.norm(j, 2) for j in J[1:]], default=0.0)
    assert smin**2 >= float(theory.contraction_pl_lower_bound(rho, T)) * (1 - 1e-9)
    g = window_max(J)
    G = float(theory.inverse_norm_bound(g, T))
    np.testing.assert_allclose(G, g.sum(), rtol=1e-12)
    assert 1.0 / smin <= G * (1 + 1e-9)
    assert smin**2 >= float(theory.pl_constant_lower_bound(g, T)) * (1 - 1e-9)
    # g as a callable: g(j) = rho^j
    assert 1.0 / smin <= float(theory.inverse_norm_bound(lambda j: rho**j, T)) * (1 + 1e-9)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(st.integers(2, 6), st.integers(1, 3), st.floats(0.1, 2.0), st.integers(0, 2**31 - 1))
def test_lemma1_metric_form(T, D, rho, seed):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(T, D, D))
    M = A @ np.swapaxes(A, -1, -2) + 0.3 * np.eye(D)
    w, V = np.linalg.eigh(M)
    half = V * np.sqrt(w)[:, None, :] @ np.swapaxes(V, -1, -2)
    ihalf = V / np.sqrt(w)[:, None, :] @ np.swapaxes(V, -1, -2)
    J = np.zeros((T, D, D))
    for t in range(1, T):
        C = rng.normal(size=(D, D))
        C *= rho * rng.uniform() / np.linalg.norm(C, 2)
        J[t] = ihalf[t] @ C @ half[t - 1]  # ‖M_t^{1/2} J_t M_{t−1}^{−1/2}‖ ≤ ρ
    kappa = float(theory.metric_condition(jnp.asarray(M)))
    np.testing.assert_allclose(kappa, np.sqrt(w.max() / w.min()), rtol=1e-10)
    inv_norm = np.linalg.norm(np.linalg.inv(dense_residual_jacobian(J)), 2)
    assert inv_norm <= float(theory.inverse_norm_bound(lambda j: rho**j, T, metric_condition=kappa)) * (1 + 1e-9)


def test_metric_condition_is_global_not_per_step():
    """κ must be max_t ‖M_t^{1/2}‖ · max_t ‖M_t^{−1/2}‖: per-step condition numbers (all 1 for
    scalar metrics) would wrongly give ‖J⁻¹‖ ≤ G(T)."""
    M = np.array([[[100.0]], [[1.0]]])  # M_1 = 100, M_2 = 1 (scalar metrics)
    rho = 0.5
    J = np.array([[[0.0]], [[rho * np.sqrt(100.0)]]])  # ‖M_2^{1/2} J_2 M_1^{−1/2}‖ = ρ
    inv_norm = np.linalg.norm(np.linalg.inv(dense_residual_jacobian(J)), 2)
    G = float(theory.inverse_norm_bound(lambda j: rho**j, 2))
    assert inv_norm > G  # the per-step reading fails
    kappa = float(theory.metric_condition(jnp.asarray(M)))
    assert kappa == pytest.approx(10.0)
    assert inv_norm <= float(theory.inverse_norm_bound(lambda j: rho**j, 2, metric_condition=kappa))


LANCZOS_SHAPE = (40, 2)  # T·D = 80 > krylov_dim = 40: restarts are exercised; one compilation


@settings(max_examples=12, deadline=None, derandomize=True)
@given(st.integers(0, 2**31 - 1), st.floats(-1.0, 0.7))
def test_iterative_sigma_min_and_max_match_dense(seed, log_scale):
    T, D = LANCZOS_SHAPE
    rng = np.random.default_rng(seed)
    J = jnp.asarray(rng.normal(size=(T, D, D)) / np.sqrt(D) * np.exp(log_scale))
    s = np.linalg.svd(dense_residual_jacobian(np.asarray(J)), compute_uv=False)
    key = jax.random.key(seed)
    lo = theory.sigma_min(J, method="lanczos", key=key)
    hi = theory.sigma_max(J, method="lanczos", key=key)
    assert lo.method == hi.method == "lanczos"
    # the reported accuracy is honest, and the values agree with the dense SVD
    assert abs(float(lo.value) - s[-1]) <= float(lo.accuracy) + 1e-9 * s[-1]
    assert abs(float(hi.value) - s[0]) <= float(hi.accuracy) + 1e-9 * s[0]
    np.testing.assert_allclose([lo.value, hi.value], [s[-1], s[0]], rtol=1e-8)


def test_lanczos_wrappers_and_auto_choice(key):
    T, D = LANCZOS_SHAPE
    rng = np.random.default_rng(11)
    J = jnp.asarray(rng.normal(size=(T, D, D)) * 0.6)
    s = np.linalg.svd(dense_residual_jacobian(np.asarray(J)), compute_uv=False)
    k1, k2 = jax.random.split(key)
    np.testing.assert_allclose(theory.condition_number(J, method="lanczos", key=k1), s[0] / s[-1], rtol=1e-8)
    np.testing.assert_allclose(theory.pl_constant(J, method="lanczos", key=k2), s[-1] ** 2, rtol=1e-8)
    dense = theory.sigma_min(J)  # T·D = 80 ≤ 1024: auto picks the dense SVD
    assert dense.method == "dense"
    np.testing.assert_allclose(dense.value, s[-1], rtol=1e-12)
    np.testing.assert_allclose(theory.condition_number(J), s[0] / s[-1], rtol=1e-10)
    # few Lanczos vectors and no restart: a poorer value, but the reported accuracy covers it
    rough = theory.sigma_min(J, method="lanczos", key=key, krylov_dim=6, max_restarts=0)
    assert abs(float(rough.value) - s[-1]) <= float(rough.accuracy) * (1 + 1e-9)


def test_matrix_free_products_match_dense():
    rng = np.random.default_rng(12)
    T, D = 9, 3
    J = rng.normal(size=(T, D, D))
    M = dense_residual_jacobian(J)
    np.testing.assert_array_equal(np.asarray(theory.residual_jacobian(jnp.asarray(J))), M)
    v = rng.normal(size=(T, D))
    for parallel in (False, True):
        op = theory.residual_operator(jnp.asarray(J), parallel=parallel)
        assert op.shape == (T * D, T * D)
        np.testing.assert_allclose(np.asarray(op.matvec(v)).ravel(), M @ v.ravel(), atol=1e-12)
        np.testing.assert_allclose(np.asarray(op.rmatvec(v)).ravel(), M.T @ v.ravel(), atol=1e-12)
        np.testing.assert_allclose(np.asarray(op.solve(v)).ravel(), np.linalg.solve(M, v.ravel()), rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(np.asarray(op.rsolve(v)).ravel(), np.linalg.solve(M.T, v.ravel()), rtol=1e-9, atol=1e-9)


def test_inverse_blocks_are_jacobian_products():
    rng = np.random.default_rng(13)
    J = rng.normal(size=(4, 2, 2))
    Minv = np.linalg.inv(np.asarray(theory.residual_jacobian(jnp.asarray(J))))
    for t, j in itertools.product(range(4), range(4)):
        blk = Minv[2 * t:2 * t + 2, 2 * j:2 * j + 2]
        want = np.zeros((2, 2))
        if t >= j:
            want = np.eye(2)
            for s in range(j + 1, t + 1):
                want = J[s] @ want
        np.testing.assert_allclose(blk, want, atol=1e-10)


def test_pl_constant_is_min_over_a_set_of_states():
    rng = np.random.default_rng(14)
    Js = rng.normal(size=(3, 5, 2, 2))
    want = min(np.linalg.svd(dense_residual_jacobian(J), compute_uv=False)[-1] ** 2 for J in Js)
    np.testing.assert_allclose(theory.pl_constant(jnp.asarray(Js)), want, rtol=1e-10)


def test_jacobians_along_matches_analytic_tanh_rnn():
    rng = np.random.default_rng(15)
    W = rng.normal(size=(3, 3))
    f = lambda s, u: jnp.asarray(W) @ jnp.tanh(s) + u  # noqa: E731
    s0 = rng.normal(size=3)
    states = rng.normal(size=(2, 4, 3))  # two sets of states
    u = rng.normal(size=(4, 3))
    J = np.asarray(theory.jacobians_along(f, jnp.asarray(s0), jnp.asarray(states), jnp.asarray(u)))
    assert J.shape == (2, 4, 3, 3)
    for k in range(2):
        prev = np.vstack([s0, states[k, :-1]])
        for t in range(4):
            np.testing.assert_allclose(J[k, t], W * (1 - np.tanh(prev[t]) ** 2)[None, :], rtol=1e-12)


def test_float32_without_x64_promotion():
    J = jnp.asarray(np.random.default_rng(16).normal(size=(6, 2, 2)), dtype=jnp.float32)
    assert theory.sigma_min(J).value.dtype == jnp.float32
    assert theory.lle(J, key=jax.random.key(0)).dtype == jnp.float32
    assert theory.burn_in_constants(J, 0.0).a.dtype == jnp.float32
    s = np.linalg.svd(dense_residual_jacobian(np.asarray(J, np.float64)), compute_uv=False)
    np.testing.assert_allclose(theory.sigma_min(J).value, s[-1], rtol=1e-5)


@pytest.mark.parametrize("T", [1, 2])
def test_short_sequences(T):
    J = jnp.asarray(np.random.default_rng(17).normal(size=(T, 2, 2)))
    s = np.linalg.svd(dense_residual_jacobian(np.asarray(J)), compute_uv=False)
    np.testing.assert_allclose(theory.sigma_min(J).value, s[-1], rtol=1e-12)
    if T == 1:
        assert float(theory.sigma_min(J).value) == 1.0
        assert [float(x) for x in theory.sigma_max_bounds(J)] == [1.0, 1.0]
