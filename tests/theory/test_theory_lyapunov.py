"""Lyapunov exponents against known values: linear maps, rotations, logistic r = 4, Hénon."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import theory


def _rotation(theta):
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, -s], [s, c]])


def test_constant_nonnormal_map_gives_log_spectral_radius(key):
    A = np.array([[0.5, 3.0], [0.0, 0.9]])
    J = jnp.asarray(np.tile(A, (4000, 1, 1)))
    lam = theory.lle(J, key=key, burn_in=500)
    assert abs(float(lam) - np.log(0.9)) < 2e-3
    spec = theory.lyapunov_spectrum(J, burn_in=500)
    np.testing.assert_allclose(spec, [np.log(0.9), np.log(0.5)], atol=2e-3)


def test_diagonal_map_spectrum_and_lle(key):
    d = np.array([0.5, 2.0, -3.0])
    J = jnp.asarray(np.tile(np.diag(d), (300, 1, 1)))
    np.testing.assert_allclose(theory.lyapunov_spectrum(J), [np.log(3), np.log(2), np.log(0.5)], atol=1e-12)
    # A random start has components along every axis: the growth is dominated by log 3.
    assert abs(float(theory.lle(J, key=key, burn_in=50)) - np.log(3.0)) < 1e-6
    np.testing.assert_allclose(theory.lyapunov_spectrum(J, 1), [np.log(3)], atol=1e-12)


def test_random_k_frame_matches_full_frame(key):
    rng = np.random.default_rng(0)
    J = jnp.asarray(rng.normal(size=(400, 4, 4)) / 2)
    full = theory.lyapunov_spectrum(J, 2, burn_in=50)
    frame = theory.lyapunov_spectrum(J, 2, burn_in=50, key=key)
    np.testing.assert_allclose(frame, full, atol=5e-3)


def test_rotations_have_zero_exponents(key):
    rng = np.random.default_rng(1)
    J = jnp.asarray(np.stack([_rotation(t) for t in rng.uniform(0, 2 * np.pi, 200)]))
    assert abs(float(theory.lle(J, key=key))) < 1e-13
    np.testing.assert_allclose(theory.lyapunov_spectrum(J), [0.0, 0.0], atol=1e-13)


def test_logistic_map_r4_gives_log2(key):
    T = 20000
    x = np.empty(T)
    x[0] = 0.3
    for t in range(1, T):
        x[t] = 4 * x[t - 1] * (1 - x[t - 1])
    J = jnp.asarray((4 * (1 - 2 * x)).reshape(T, 1, 1))
    assert abs(float(theory.lle(J, key=key)) - np.log(2)) < 0.02
    # Same trajectory, Jacobians never stored.
    f = lambda s, u: 4 * s * (1 - s)  # noqa: E731
    along = theory.lle_along(f, jnp.array([0.3]), jnp.zeros((T, 1)), key=key)
    assert abs(float(along) - np.log(2)) < 0.02


def test_henon_sum_rule_and_leading_exponent():
    a, b, T = 1.4, 0.3, 5000
    xy = np.empty((T + 1, 2))
    xy[0] = (0.1, 0.1)
    for t in range(T):
        x, y = xy[t]
        xy[t + 1] = (1 - a * x * x + y, b * x)
    J = np.zeros((T, 2, 2))
    J[:, 0, 0] = -2 * a * xy[:-1, 0]
    J[:, 0, 1] = 1.0
    J[:, 1, 0] = b
    spec = theory.lyapunov_spectrum(jnp.asarray(J), burn_in=100)
    assert abs(float(spec.sum()) - np.log(0.3)) < 1e-10
    assert abs(float(spec[0]) - 0.419) < 0.02  # the literature value of the Hénon map


def test_sum_of_exponents_is_mean_log_abs_det():
    rng = np.random.default_rng(2)
    J = rng.normal(size=(100, 3, 3))
    spec = theory.lyapunov_spectrum(jnp.asarray(J))
    want = np.mean(np.linalg.slogdet(J)[1])
    assert abs(float(spec.sum()) - want) < 1e-10


def test_prefix_estimates_equal_separate_runs(key):
    rng = np.random.default_rng(3)
    J = jnp.asarray(rng.normal(size=(60, 3, 3)) / 1.5)
    lengths = [7, 60]
    for burn_in in (0, 5):
        together = theory.lle(J, key=key, burn_in=burn_in, lengths=lengths)
        apart = [theory.lle(J[:n], key=key, burn_in=burn_in) for n in lengths]
        np.testing.assert_allclose(together, apart, rtol=1e-12)
    assert theory.lle(J, key=key, lengths=7).shape == ()


def test_dt_scaling(key):
    rng = np.random.default_rng(4)
    J = jnp.asarray(rng.normal(size=(50, 2, 2)))
    dt = 0.01
    np.testing.assert_allclose(theory.lle(J, key=key, dt=dt), theory.lle(J, key=key) / dt, rtol=1e-12)
    np.testing.assert_allclose(theory.lle(J, key=key, dt=dt, lengths=[10, 50]),
                               theory.lle(J, key=key, lengths=[10, 50]) / dt, rtol=1e-12)
    np.testing.assert_allclose(theory.lyapunov_spectrum(J, dt=dt), theory.lyapunov_spectrum(J) / dt, rtol=1e-12)
    f = lambda s, u: jnp.tanh(1.5 * s) + u  # noqa: E731
    u = jnp.asarray(rng.normal(size=(40, 2)))
    s0 = jnp.array([0.3, -0.2])
    np.testing.assert_allclose(theory.lle_along(f, s0, u, key=key, dt=dt),
                               theory.lle_along(f, s0, u, key=key) / dt, rtol=1e-12)


def test_lle_along_matches_stored_jacobians(key):
    rng = np.random.default_rng(5)
    W = jnp.asarray(rng.normal(size=(3, 3)))
    f = lambda s, u: W @ jnp.tanh(s) + u  # noqa: E731
    u = jnp.asarray(rng.normal(size=(80, 3)) * 0.1)
    s0 = jnp.array([0.1, 0.2, -0.3])
    states = [s0]
    for t in range(80):
        states.append(f(states[-1], u[t]))
    J = theory.jacobians_along(f, s0, jnp.stack(states[1:]), u)
    np.testing.assert_allclose(theory.lle_along(f, s0, u, key=key, lengths=[10, 80]),
                               theory.lle(J, key=key, lengths=[10, 80]), rtol=1e-10)


def test_singular_step_gives_minus_inf_not_nan(key):
    J = np.tile(np.eye(2), (10, 1, 1))
    J[4] = 0.0
    assert float(theory.lle(jnp.asarray(J), key=key)) == -np.inf
    spec = theory.lyapunov_spectrum(jnp.asarray(J))
    assert np.all(spec == -np.inf)
    bc = theory.burn_in_constants(jnp.asarray(J), 0.0)
    assert float(bc.b) == 0.0 and float(bc.log_b) == -np.inf and float(bc.a) == 1.0


def _brute_force_ab(J, lam, start=2):
    Js = J[start - 1 :]
    ratios = [1.0]
    for i, k in itertools.product(range(len(Js)), range(1, len(Js) + 1)):
        if i + k <= len(Js):
            P = np.eye(J.shape[-1])
            for j in range(i, i + k):
                P = Js[j] @ P
            ratios.append(np.linalg.norm(P, 2) * np.exp(-lam * k))
    return max(ratios), min(ratios)


@pytest.mark.parametrize("start", [1, 2])
def test_burn_in_constants_match_brute_force(start):
    rng = np.random.default_rng(6)
    J = rng.normal(size=(9, 3, 3)) / 1.7
    for lam in (-0.4, 0.0, 0.3):
        bc = theory.burn_in_constants(jnp.asarray(J), lam, start=start)
        a, b = _brute_force_ab(J, lam, start)
        assert bc.exact and bc.start == start
        np.testing.assert_allclose([bc.a, bc.b], [a, b], rtol=1e-10)


def test_burn_in_window_limited_is_reported_and_inside():
    rng = np.random.default_rng(7)
    J = jnp.asarray(rng.normal(size=(12, 2, 2)))
    exact = theory.burn_in_constants(J, 0.1)
    part = theory.burn_in_constants(J, 0.1, max_window=3)
    assert exact.exact and not part.exact and part.max_window == 3
    assert float(part.a) <= float(exact.a) and float(part.b) >= float(exact.b)


def test_burn_in_constants_no_overflow_for_huge_growth():
    J = jnp.tile(10.0 * jnp.eye(2), (800, 1, 1))  # products reach 10^799
    bc = theory.burn_in_constants(J, np.log(10.0))
    np.testing.assert_allclose([bc.log_a, bc.log_b], [0.0, 0.0], atol=1e-9)
    assert abs(float(theory.lle(J, key=jax.random.key(0))) - np.log(10.0)) < 1e-12
