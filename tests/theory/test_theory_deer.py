"""Theorems 4 and 5 on the actual DEER iterates of a tanh RNN (solvers.evaluate, traced)."""

import jax.numpy as jnp
import numpy as np
import pytest
from theory_oracles import dense_residual_jacobian

import solvers
import theory

TANH2 = 4 / (3 * np.sqrt(3))  # max |tanh''|: J_t(s) = W diag(tanh'(s)) is ‖W‖·TANH2-Lipschitz


def _problem(gain, T=40, D=3, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(D, D)) * gain / np.sqrt(D)
    u = rng.normal(size=(T, D)) * 0.3
    s0 = rng.uniform(-1, 1, size=D)
    init = rng.normal(size=(T, D)) * 2.0
    return W, u, s0, init


def _numpy_residual(W, s0, states, u):
    prev = np.vstack([s0, states[:-1]])
    return states - (np.tanh(prev) @ W.T + u)


def _numpy_jacobians(W, s0, states):
    prev = np.vstack([s0, states[:-1]])
    return np.stack([W * (1 - np.tanh(p) ** 2)[None, :] for p in prev])


def _deer_iterates(W, u, s0, init, tol=1e-13):
    Wj = jnp.asarray(W)
    f = lambda s, ut: Wj @ jnp.tanh(s) + ut  # noqa: E731
    sol = solvers.evaluate(f, jnp.asarray(s0), jnp.asarray(u), solvers.DEER(), init=jnp.asarray(init),
                           tol=tol, trace="states")
    trace = np.asarray(sol.states_trace)
    n = int(sol.num_iters)
    assert np.all(np.isfinite(trace[: n + 1]))
    return f, trace[: n + 1], sol


@pytest.mark.parametrize("gain, T", [(0.8, 40), (1.6, 40), (2.5, 12)])
def test_theorem5_quadratic_step_inside_the_basin(gain, T):
    W, u, s0, init = _problem(gain, T=T)
    f, iterates, _ = _deer_iterates(W, u, s0, init, tol=1e-22)  # run on into rounding level
    L = np.linalg.norm(W, 2) * TANH2
    in_basin = 0
    for i in range(len(iterates) - 1):
        r_now = np.linalg.norm(_numpy_residual(W, s0, iterates[i], u))
        r_next = np.linalg.norm(_numpy_residual(W, s0, iterates[i + 1], u))
        J = theory.jacobians_along(f, jnp.asarray(s0), jnp.asarray(iterates[i]), jnp.asarray(u))
        mu = float(theory.pl_constant(J))
        oracle = np.linalg.svd(dense_residual_jacobian(_numpy_jacobians(W, s0, iterates[i])), compute_uv=False)[-1] ** 2
        np.testing.assert_allclose(mu, oracle, rtol=1e-10)
        radius = float(theory.basin_radius(mu, L))
        slack = 1e-12 * (1 + np.abs(iterates[i]).max()) * np.sqrt(iterates[i].size)
        # The Newton-step inequality holds at every iterate (the proof never uses the basin) ...
        assert r_next <= (L / (2 * mu)) * r_now**2 + slack
        if r_now < radius:
            # ... and inside the basin it makes the residual contract.
            in_basin += 1
            assert r_next <= r_now + slack
    assert in_basin >= 1  # the check is not vacuous


def test_theorem4_linear_rate_and_iteration_bound_for_a_contracting_rnn():
    W, u, s0, init = _problem(0.25, T=60)
    rho = np.linalg.norm(W, 2)  # |tanh'| ≤ 1, so ‖J_t‖ ≤ ρ at every state
    f, iterates, sol = _deer_iterates(W, u, s0, init, tol=1e-12)
    star = np.empty_like(init)
    s = s0
    for t in range(len(u)):
        s = W @ np.tanh(s) + u[t]
        star[t] = s
    beta = 0.9
    c = theory.linear_convergence_constants(rho, len(u), beta)
    e0 = np.linalg.norm(iterates[0] - star)
    for i, it in enumerate(iterates):
        assert np.linalg.norm(it - star) <= float(c.chi) * beta**i * e0 * (1 + 1e-9) + 1e-12
    # An upper bound on the count from hypotheses that hold globally here.
    r0 = np.linalg.norm(_numpy_residual(W, s0, iterates[0], u))
    mu = float(theory.contraction_pl_lower_bound(rho, len(u)))
    bound = theory.iteration_bound(len(u), residual0=r0, tol=1e-12, rho=rho, mu=mu,
                                   lipschitz=rho * TANH2,
                                   jacobians=_numpy_jacobians(W, s0, iterates[0]))
    assert not bound.violated and bound.checked
    assert int(sol.num_iters) <= bound.iterations < len(u)


def test_lle_sign_matches_predictability_of_the_rnn(key):
    """λ < 0 for a small gain and the PL lower bound then stays away from 0 as T grows."""
    W, u, s0, _ = _problem(0.5, T=200)
    Wj = jnp.asarray(W)
    f = lambda s, ut: Wj @ jnp.tanh(s) + ut  # noqa: E731
    lam = float(theory.lle_along(f, jnp.asarray(s0), jnp.asarray(u), key=key))
    assert lam < 0
    lo = theory.pl_constant_bounds(lam, np.array([10, 100, 1000]))[0]
    np.testing.assert_allclose(lo[-1], lo[-2], rtol=1e-3)
