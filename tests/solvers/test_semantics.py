"""Exact semantics of ``evaluate`` (DESIGN.md contracts; PAPER.md §2 causality).

Oracles: numpy rollouts, a hand-written dense Newton step ``s ← s − M(A)^{-1} r`` with
``M(A) = I − subdiag(A_2 … A_T)`` (one line of numpy linear algebra for every member of the family),
and merits computed in numpy from the returned states.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from solver_problems import (
    as_jax,
    input_at,
    merit_np,
    problem,
    residual_np,
    rollout_np,
    tanh_rnn,
)

import solvers

Status = solvers.Status


def _guess(key, p, scale=1.0):
    return scale * jax.random.normal(key, (p.T, p.D), jnp.float64)


# ---------------------------------------------------------------------------------------------
# Affine recurrences: Newton is exact in one step


@given(seed=st.integers(0, 2**31 - 1), scale=st.floats(1e-3, 1e3))
@settings(max_examples=25, deadline=None)
def test_affine_converges_in_one_deer_iteration_from_any_guess(seed, scale):
    p = problem("affine")
    init = _guess(jax.random.key(seed), p, scale)
    sol = solvers.evaluate(
        p.f, as_jax(p.s0), as_jax(p.inputs), solvers.DEER(), init=init, tol=1e-20
    )
    assert int(sol.num_iters) == 1
    assert int(sol.status) == Status.CONVERGED
    np.testing.assert_allclose(
        np.asarray(sol.states), rollout_np(p.f_np, p.s0, p.inputs), rtol=0, atol=1e-12
    )


# ---------------------------------------------------------------------------------------------
# Causality: after k iterations the first k states are exact


PREFIX_SOLVERS = [
    pytest.param(solvers.DEER(), id="deer"),
    pytest.param(solvers.QuasiDEER(), id="quasi_exact"),
    pytest.param(solvers.DampedDEER(0.3), id="damped"),
    pytest.param(solvers.Picard(), id="picard"),
    pytest.param(solvers.Jacobi(), id="jacobi"),
    pytest.param(solvers.DeepPCR(), id="deeppcr"),
]


@pytest.mark.parametrize("solver", PREFIX_SOLVERS)
def test_prefix_exactness_after_k_iterations(solver, keys):
    # The large-gain RNN: a slow, badly conditioned case where the exact prefix is the only
    # progress some iterations make.
    p = problem("tanh_rnn_large_gain")
    expected = rollout_np(p.f_np, p.s0, p.inputs)
    s0, inputs = as_jax(p.s0), as_jax(p.inputs)
    for key in keys[:3]:
        init = _guess(key, p)
        for k in (1, 3, 10, 25):
            sol = solvers.evaluate(p.f, s0, inputs, solver, init=init, tol=1e-300, max_iters=k)
            states = np.asarray(sol.states)
            np.testing.assert_allclose(states[:k], expected[:k], rtol=0, atol=1e-9)
            if k == 1:
                # Not vacuous: the rest of the trajectory is still far from the truth.
                assert np.max(np.abs(states[1:] - expected[1:])) > 1e-3


@pytest.mark.parametrize("solver", [PREFIX_SOLVERS[i] for i in (0, 4)])  # DEER, Jacobi
def test_prefix_iters_equal_separate_prefix_solves(solver, keys):
    p = problem("tanh_rnn_small_gain")
    s0, inputs = as_jax(p.s0), as_jax(p.inputs)
    init = _guess(keys[0], p)
    lengths = [3, 19, p.T]
    tol = 1e-12
    sol = solvers.evaluate(p.f, s0, inputs, solver, init=init, tol=tol, lengths=lengths)
    assert sol.prefix_iters.shape == (len(lengths),)
    assert bool(np.all(np.asarray(sol.prefix_converged)))
    separate = []
    for n in lengths:
        part = solvers.evaluate(p.f, s0, inputs[:n], solver, init=init[:n], tol=tol)
        assert bool(part.converged)
        separate.append(int(part.num_iters))
    assert np.asarray(sol.prefix_iters).tolist() == separate
    assert separate[-1] == int(sol.num_iters)
    # Causality also bounds every prefix count by its length.
    assert all(c <= n for c, n in zip(separate, lengths, strict=True))


def test_prefix_iters_of_the_sequential_rollout_are_the_lengths():
    p = problem("affine")
    sol = solvers.evaluate(
        p.f, as_jax(p.s0), as_jax(p.inputs), solvers.Sequential(), lengths=[1, 7, 24]
    )
    assert np.asarray(sol.prefix_iters).tolist() == [1, 7, 24]
    assert bool(np.all(np.asarray(sol.prefix_converged)))


def test_prefix_iters_not_converged_is_flagged():
    p = problem("tanh_rnn_large_gain")
    sol = solvers.evaluate(
        p.f,
        as_jax(p.s0),
        as_jax(p.inputs),
        solvers.Jacobi(),
        init=_guess(jax.random.key(3), p),
        max_iters=5,
        lengths=[3, 40],
    )
    converged = np.asarray(sol.prefix_converged).tolist()
    assert converged == [True, False]  # Jacobi is exact on the first 3 steps after 3 iterations
    assert int(sol.prefix_iters[0]) <= 3
    assert int(sol.prefix_iters[1]) == 5  # the updates applied: a lower bound


# ---------------------------------------------------------------------------------------------
# DeepPCR and Hutchinson quasi-DEER


def test_deer_and_deeppcr_iterates_agree(keys):
    p = problem("tanh_rnn_small_gain")
    s0, inputs = as_jax(p.s0), as_jax(p.inputs)
    init = _guess(keys[1], p, 2.0)
    kw = dict(init=init, tol=1e-24, max_iters=12, trace="states")
    deer = solvers.evaluate(p.f, s0, inputs, solvers.DEER(), **kw)
    pcr = solvers.evaluate(p.f, s0, inputs, solvers.DeepPCR(), **kw)
    assert int(deer.num_iters) == int(pcr.num_iters) >= 3
    n = int(deer.num_iters)
    a, b = np.asarray(deer.states_trace), np.asarray(pcr.states_trace)
    assert a.shape == (13, p.T, p.D)
    np.testing.assert_allclose(a[: n + 1], b[: n + 1], rtol=0, atol=1e-10)
    assert np.all(np.isnan(a[n + 1 :])) and np.all(np.isnan(b[n + 1 :]))
    np.testing.assert_allclose(
        np.asarray(deer.merit_trace[: n + 1]),
        np.asarray(pcr.merit_trace[: n + 1]),
        rtol=1e-6,
        atol=1e-28,
    )


@pytest.mark.parametrize("num_samples", [1, 4])
def test_hutchinson_quasi_deer_converges_to_the_same_trajectory(num_samples, keys):
    p = problem("tanh_rnn_small_gain")
    s0, inputs = as_jax(p.s0), as_jax(p.inputs)
    expected = rollout_np(p.f_np, p.s0, p.inputs)
    runs = []
    for key in keys[:2]:
        solver = solvers.QuasiDEER("hutchinson", key=key, num_samples=num_samples)
        sol = solvers.evaluate(
            p.f, s0, inputs, solver, init=as_jax(p.init), tol=1e-24, trace="states"
        )
        assert int(sol.status) == Status.CONVERGED
        np.testing.assert_allclose(np.asarray(sol.states), expected, rtol=0, atol=1e-10)
        runs.append(sol)
    # The keys matter (different estimates, different first iterates) but not the answer...
    assert not np.allclose(np.asarray(runs[0].states_trace[1]), np.asarray(runs[1].states_trace[1]))
    # ...and a key reproduces its run exactly.
    again = solvers.evaluate(
        p.f,
        s0,
        inputs,
        solvers.QuasiDEER("hutchinson", key=keys[0], num_samples=num_samples),
        init=as_jax(p.init),
        tol=1e-24,
        trace="states",
    )
    np.testing.assert_array_equal(np.asarray(again.states_trace), np.asarray(runs[0].states_trace))


def test_hutchinson_estimate_is_unbiased_for_the_diagonal():
    # E[v ⊙ Jv] = diag(J) for Rademacher v; with 4000 probes each entry's error is about
    # Σ_j|J_ij|/√4000 ≈ 0.02 here. Compare one step against the exact diagonal's step.
    p = tanh_rnn(T=5, D=3, g=0.8, seed=4)
    s0, inputs = as_jax(p.s0), as_jax(p.inputs)
    init = as_jax(p.init)
    exact = solvers.evaluate(
        p.f, s0, inputs, solvers.QuasiDEER(), init=init, max_iters=1, tol=1e-300
    )
    est = solvers.evaluate(
        p.f,
        s0,
        inputs,
        solvers.QuasiDEER("hutchinson", key=jax.random.key(5), num_samples=4000),
        init=init,
        max_iters=1,
        tol=1e-300,
    )
    np.testing.assert_allclose(np.asarray(est.states), np.asarray(exact.states), rtol=0, atol=0.05)


# ---------------------------------------------------------------------------------------------
# Counting and stopping


@pytest.mark.parametrize(
    "solver",
    PREFIX_SOLVERS + [pytest.param(solvers.GradientDescent(0.4), id="gd")],
)
def test_num_iters_zero_when_the_guess_meets_tol(solver):
    p = problem("tanh_rnn_small_gain")
    exact = rollout_np(p.f_np, p.s0, p.inputs)
    sol = solvers.evaluate(
        p.f, as_jax(p.s0), as_jax(p.inputs), solver, init=as_jax(exact), tol=1e-20
    )
    assert int(sol.num_iters) == 0
    assert int(sol.status) == Status.CONVERGED
    np.testing.assert_array_equal(np.asarray(sol.states), exact)  # untouched: no update applied


@pytest.mark.parametrize(
    "solver",
    PREFIX_SOLVERS + [pytest.param(solvers.GradientDescent(0.4), id="gd")],
)
def test_no_update_after_convergence(solver):
    p = problem("tanh_rnn_small_gain")
    tol = 1e-14
    max_iters = 300 if isinstance(solver, solvers.GradientDescent) else p.T
    sol = solvers.evaluate(
        p.f,
        as_jax(p.s0),
        as_jax(p.inputs),
        solver,
        init=as_jax(p.init),
        tol=tol,
        trace=True,
        max_iters=max_iters,
    )
    n = int(sol.num_iters)
    trace = np.asarray(sol.merit_trace)
    assert trace.shape == (max_iters + 1,)
    assert int(sol.status) == Status.CONVERGED and n >= 1
    assert trace[n] <= tol < trace[n - 1]  # the first iterate meeting tol, and no later one
    assert np.all(trace[:n] > tol)
    assert np.all(np.isnan(trace[n + 1 :]))
    assert float(sol.merit) == trace[n]
    # The recorded merits are the merits of the iterates: entry 0 is the guess's, entry n the answer's.
    np.testing.assert_allclose(trace[0], merit_np(p.f_np, p.s0, p.init, p.inputs), rtol=1e-10)
    np.testing.assert_allclose(
        trace[n], merit_np(p.f_np, p.s0, sol.states, p.inputs), rtol=1e-6, atol=1e-28
    )


# A small system for the hand-written iterations.
SMALL = tanh_rnn(T=6, D=3, g=1.5, seed=3, name="small")


def _M(A_blocks):
    """``M(A) = I − subdiag(A_2, …, A_T)`` as a dense (TD, TD) matrix."""
    T, D = A_blocks.shape[0], A_blocks.shape[1]
    M = np.eye(T * D)
    for t in range(1, T):
        M[t * D : (t + 1) * D, (t - 1) * D : t * D] = -A_blocks[t]
    return M


def _hand_step(name, s, p):
    prev = np.concatenate([p.s0[None], s[:-1]])
    r = residual_np(p.f_np, p.s0, s, p.inputs).reshape(-1)
    J = np.stack([p.jac_np(prev[t], input_at(p.inputs, t)) for t in range(p.T)])
    if name == "gd":
        grad = _M(J).T @ r  # ∇L = J(s)ᵀ r(s)
        return s - 0.3 * grad.reshape(s.shape)
    A = {
        "deer": J,
        "quasi_exact": np.einsum("tii->ti", J)[:, :, None] * np.eye(p.D),
        "damped": (1 - 0.3) * J,
        "picard": np.broadcast_to(np.eye(p.D), J.shape),
        "jacobi": np.zeros_like(J),
    }[name]
    return s - np.linalg.solve(_M(A), r).reshape(s.shape)


@pytest.mark.parametrize(
    "name, solver",
    [
        ("deer", solvers.DEER()),
        ("quasi_exact", solvers.QuasiDEER()),
        ("damped", solvers.DampedDEER(0.3)),
        ("picard", solvers.Picard()),
        ("jacobi", solvers.Jacobi()),
        ("deer", solvers.DeepPCR()),
        ("gd", solvers.GradientDescent(0.3)),
    ],
    ids=["deer", "quasi_exact", "damped", "picard", "jacobi", "deeppcr", "gd"],
)
def test_max_iters_k_returns_the_kth_iterate(name, solver):
    p = SMALL
    s0, inputs, init = as_jax(p.s0), as_jax(p.inputs), as_jax(p.init)
    s = np.asarray(p.init, np.float64)
    for k in range(5):
        sol = solvers.evaluate(p.f, s0, inputs, solver, init=init, tol=1e-300, max_iters=k)
        assert int(sol.num_iters) == k
        np.testing.assert_allclose(np.asarray(sol.states), s, rtol=1e-10, atol=1e-12)
        # The reported merit is ½Σ‖r‖²/T of the returned states, computed independently.
        # (absolute slack: residuals near convergence carry ~1e-16 rounding of the states)
        np.testing.assert_allclose(
            float(sol.merit), merit_np(p.f_np, p.s0, sol.states, p.inputs), rtol=1e-9, atol=1e-24
        )
        if k > 0:
            assert int(sol.status) in (Status.ITERATION_LIMIT, Status.PRECISION_LIMIT)
        s = _hand_step(name, s, p)


def test_merit_terms_is_half_squared_residuals():
    p = SMALL
    states = np.asarray(p.init)
    terms = solvers.merit_terms(p.f, as_jax(p.s0), as_jax(states), as_jax(p.inputs))
    r = residual_np(p.f_np, p.s0, states, p.inputs)
    np.testing.assert_allclose(np.asarray(terms), 0.5 * np.sum(r * r, axis=-1), rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# Status codes


def _square_map(s, u):
    return s * s + u  # the true trajectory overflows float32 within a dozen steps


def _square_map_np(s, u):
    return s * s + u


def _diverging_float32():
    s0 = jnp.array([1.5, 1.2], jnp.float32)
    inputs = jnp.full((12, 2), 0.5, jnp.float32)
    return s0, inputs


@pytest.mark.parametrize(
    "solver",
    [
        pytest.param(solvers.DEER(), id="deer"),
        pytest.param(solvers.Picard(), id="picard"),
        pytest.param(solvers.Jacobi(), id="jacobi"),
    ],
)
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_nonfinite_status_keeps_the_last_finite_iterate(solver):
    s0, inputs = _diverging_float32()
    sol = solvers.evaluate(_square_map, s0, inputs, solver, trace="states")
    n = int(sol.num_iters)
    assert int(sol.status) == Status.NONFINITE
    assert not bool(sol.converged)
    assert sol.states.dtype == jnp.float32
    assert np.all(np.isfinite(np.asarray(sol.states)))
    assert np.isfinite(float(sol.merit))
    # states is the n-th iterate (the trace's entry n), and the (n+1)-th iterate, which was not
    # finite, was not accepted: NaN in the trace from there on.
    np.testing.assert_array_equal(np.asarray(sol.states), np.asarray(sol.states_trace[n]))
    assert np.all(np.isnan(np.asarray(sol.states_trace[n + 1 :])))
    assert np.isnan(float(sol.merit_trace[n + 1])) and np.isfinite(float(sol.merit_trace[n]))
    # Causality still holds up to there: the first n states are the (float64) rollout's.
    exact = rollout_np(_square_map_np, np.asarray(s0), np.asarray(inputs))
    np.testing.assert_allclose(np.asarray(sol.states[:n], np.float64), exact[:n], rtol=1e-5)


def _exp_map(s, u):
    return 0.5 * s + u + 0.1 * jnp.exp(s)


def _exp_map_np(s, u):
    return 0.5 * s + u + 0.1 * np.exp(s)


def test_reset_nonfinite_continues_and_converges():
    # Bounded true trajectory, but Newton steps from the guess 20 (where J ≈ 5e7) overflow float32.
    T = 30
    s0 = jnp.zeros(2, jnp.float32)
    inputs = jnp.full((T, 2), 0.1, jnp.float32)
    init = jnp.full((T, 2), 20.0, jnp.float32)
    stopped = solvers.evaluate(_exp_map, s0, inputs, solvers.DEER(), init=init, tol=1e-8)
    assert int(stopped.status) == Status.NONFINITE
    assert int(stopped.num_iters) == 0
    np.testing.assert_array_equal(np.asarray(stopped.states), np.asarray(init))  # the last finite
    reset = solvers.evaluate(
        _exp_map, s0, inputs, solvers.DEER(), init=init, tol=1e-8, reset_nonfinite=True
    )
    assert int(reset.status) == Status.CONVERGED
    assert 0 < int(reset.num_iters) <= T
    exact = rollout_np(_exp_map_np, np.zeros(2), np.full((T, 2), 0.1))
    # L/T <= 1e-8 allows residuals up to sqrt(2·T·1e-8) ≈ 8e-4 in all; the last step has no
    # later step to correct it, so its error is its own residual.
    np.testing.assert_allclose(np.asarray(reset.states, np.float64), exact, rtol=0, atol=2e-4)
    assert float(reset.merit) <= 1e-8


def test_reset_nonfinite_runs_to_the_limit_when_the_truth_overflows():
    s0, inputs = _diverging_float32()
    sol = solvers.evaluate(_square_map, s0, inputs, solvers.Jacobi(), reset_nonfinite=True)
    assert int(sol.status) != Status.NONFINITE
    assert int(sol.num_iters) == inputs.shape[0]
    assert np.all(np.isfinite(np.asarray(sol.states)))  # non-finite entries were reset to init


def test_iteration_limit_status_and_throw():
    p = problem("tanh_rnn_large_gain")
    args = (p.f, as_jax(p.s0), as_jax(p.inputs), solvers.DEER())
    sol = solvers.evaluate(*args, init=as_jax(p.init), max_iters=3)
    assert int(sol.status) == Status.ITERATION_LIMIT
    assert not bool(sol.converged)
    assert int(sol.num_iters) == 3
    assert "iteration limit" in sol.message
    with pytest.raises(RuntimeError, match="iteration limit"):
        solvers.evaluate(*args, init=as_jax(p.init), max_iters=3, throw=True)
    # throw=True is silent when the solve converges.
    ok = solvers.evaluate(*args, init=as_jax(p.init), throw=True)
    assert bool(ok.converged)


def test_throw_on_nonfinite():
    s0, inputs = _diverging_float32()
    with pytest.raises(RuntimeError, match="non-finite"):
        solvers.evaluate(_square_map, s0, inputs, solvers.DEER(), throw=True)


def test_precision_limit_in_float32():
    # float32 cannot resolve a merit of 1e-30: gradient steps shrink below an ulp of the states
    # and the run ends at the rounding floor.
    p = problem("tanh_rnn_small_gain")
    args = (p.make_f(jnp.float32), as_jax(p.s0, jnp.float32), as_jax(p.inputs, jnp.float32))
    sol = solvers.evaluate(*args, solvers.GradientDescent(0.5), tol=1e-30)
    assert int(sol.status) == Status.PRECISION_LIMIT
    assert "precision" in sol.message
    assert 0 < float(sol.merit) < 1e-12
    exact = rollout_np(p.f_np, p.s0, p.inputs)
    np.testing.assert_allclose(np.asarray(sol.states, np.float64), exact, rtol=0, atol=1e-5)
    # DEER's Newton corrections δ_t = A_t δ_{t-1} − r_t vanish exactly at a floating-point fixed
    # point, so it lands on one (merit exactly 0) instead of stalling at the floor.
    for scan in ("associative", "sequential"):
        deer = solvers.evaluate(*args, solvers.DEER(scan=scan), tol=1e-30)
        assert int(deer.status) == Status.CONVERGED and float(deer.merit) == 0.0, scan
        np.testing.assert_allclose(np.asarray(deer.states, np.float64), exact, rtol=0, atol=1e-5)


def test_status_members_and_messages():
    assert [s.name for s in Status] == [
        "CONVERGED",
        "ITERATION_LIMIT",
        "NONFINITE",
        "PRECISION_LIMIT",
    ]
    for s in Status:
        assert isinstance(s.message, str) and len(s.message) > 20
    assert "max_iters" in Status.ITERATION_LIMIT.message  # says what to try
    assert "reset_nonfinite" in Status.NONFINITE.message


def test_solution_is_a_pytree_and_repr():
    p = problem("affine")
    sol = solvers.evaluate(p.f, as_jax(p.s0), as_jax(p.inputs))
    leaves, treedef = jax.tree_util.tree_flatten(sol)
    assert len(leaves) == 5  # None fields (no lengths, no trace) are empty subtrees
    rebuilt = jax.tree_util.tree_unflatten(treedef, leaves)
    np.testing.assert_array_equal(np.asarray(rebuilt.states), np.asarray(sol.states))
    assert "converged" in repr(sol) and "T=24" in repr(sol)
    assert sol.prefix_iters is None and sol.merit_trace is None and sol.states_trace is None


def test_nonfinite_jacobian_with_finite_f_stops_at_the_last_finite_iterate():
    # f is finite at the guess 0 but its Jacobian (of sqrt|s|) is infinite there: the Newton
    # update is non-finite and is not accepted; the guess itself is returned.
    def f(s, u):
        return jnp.sqrt(jnp.abs(s)) + u

    T = 6
    s0, inputs = jnp.zeros(2), jnp.full((T, 2), 0.5)
    init = jnp.zeros((T, 2))
    sol = solvers.evaluate(f, s0, inputs, solvers.DEER(), init=init)
    assert int(sol.status) == Status.NONFINITE and int(sol.num_iters) == 0
    np.testing.assert_array_equal(np.asarray(sol.states), np.asarray(init))
    assert np.isfinite(float(sol.merit))
