"""The library side of ``verification``: verify, sweep, assertions, report and check helpers.

Oracles: brute-force numpy products and SVDs (not the theory package), affine recurrences (one
Newton step), known exponents, hand-built count sequences.
"""

from __future__ import annotations

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import solvers
import verification as V
from verification import _checks as C
from verification import systems
from verification._sweep import SweepInterrupted, mean_field_rnn_factory

# --------------------------------------------------------------------------- numerical kernels


def _residual_matrix(J):
    """Dense residual Jacobian built with numpy (identity blocks, −J_t below the diagonal, t ≥ 2)."""
    T, D, _ = J.shape
    M = np.eye(T * D)
    for t in range(1, T):
        M[t * D:(t + 1) * D, (t - 1) * D:t * D] = -J[t]
    return M


def test_prefix_burn_in_matches_brute_force():
    rng = np.random.default_rng(0)
    J = rng.normal(size=(9, 2, 2)) * 0.8
    lam = 0.1
    lengths = [2, 5, 9]
    log_a, log_b = C.prefix_burn_in(jnp.asarray(J), lam, lengths)
    for j, Tp in enumerate(lengths):
        ratios = [0.0]  # the empty window
        for i in range(1, Tp):  # windows inside J_2 … J_T' (0-based 1 … T'-1)
            P = np.eye(2)
            for e in range(i, Tp):
                P = J[e] @ P
                ratios.append(math.log(np.linalg.norm(P, 2)) - lam * (e - i + 1))
        assert log_a[j] == pytest.approx(max(ratios), abs=1e-10)
        assert log_b[j] == pytest.approx(min(ratios), abs=1e-10)


@pytest.mark.parametrize("T, D", [(8, 3), (70, 3)])  # dense path and padded-Lanczos path
def test_prefix_sigma_min_matches_numpy_svd(T, D):
    rng = np.random.default_rng(1)
    J = rng.normal(size=(T, D, D)) * 0.5
    lengths = [5, T // 2, T]
    vals, accs = C.prefix_sigma_min(jnp.asarray(J), lengths, key=jax.random.key(0))
    for v, a, Tp in zip(vals, accs, lengths, strict=True):
        exact = np.linalg.svd(_residual_matrix(J[:Tp]), compute_uv=False)[-1]
        assert abs(v - exact) <= max(a, 1e-9 * exact) + 1e-12


@settings(max_examples=25, deadline=None)
@given(scale=st.floats(0.1, 3.0), lam=st.floats(-2.0, 2.0), seed=st.integers(0, 2**16))
def test_theorem2_check_never_violated_on_random_sequences(scale, lam, seed):
    """With a, b measured exactly on the same Jacobians, Theorem 2 holds for any λ: the check must
    never report a violation (false violations are the failure mode this guards against)."""
    from verification._verify import _log_bounds, _theorem2_check

    J = jnp.asarray(np.random.default_rng(seed).normal(size=(12, 2, 2)) * scale)
    lengths = [4, 12]
    log_a, log_b = C.prefix_burn_in(J, lam, lengths)
    vals, accs = C.prefix_sigma_min(J, lengths, key=jax.random.key(seed))
    for j, Tp in enumerate(lengths):
        llo, lhi = _log_bounds(lam, Tp, log_a[j], log_b[j])
        check = _theorem2_check("t2", Tp, vals[j], accs[j], llo, lhi, True, "exact", "here")
        assert check.status == "holds", check.detail


def test_catalog_lipschitz_constants_dominate_sampled_estimates(key):
    """An analytic (rigorous) L can never be below a sampled lower estimate of the same constant."""
    import theory

    for system in (systems.mean_field_rnn(1.5, D=6, T=40), systems.flow_observer("lorenz", T=40),
                   systems.henon(T=40)):
        states = system.trajectory()
        known = C.known_constants(system, system.jacobians(states))
        assert "lipschitz" in known, system.name
        est = theory.jacobian_lipschitz(system.f, system.s0, states, system.inputs, key=key, radius=1.0)
        assert known["lipschitz"][0] >= float(est.value) * (1 - 1e-9), system.name
        if "rho" in known:  # a global bound on ‖J_t(s)‖ also bounds it at random states
            s = jax.random.normal(key, (40, system.D)) * 3.0
            norms = np.linalg.norm(np.asarray(system.jacobians(s)), 2, axis=(-2, -1))
            assert known["rho"][0] >= norms.max() * (1 - 1e-9), system.name


def test_growth_classes_and_predictions():
    Ts = [10, 30, 100, 300, 1000]
    assert C.classify_growth(Ts, [3, 3, 4, 3, 3]) == "flat"
    assert C.classify_growth(Ts, [3, 5, 7, 9, 11]) == "logarithmic"
    assert C.classify_growth(Ts, [6, 17, 55, 160, 540]) == "linear"
    assert C.predicted_growth(-0.5, 1000) == "flat or logarithmic"
    assert C.predicted_growth(0.05, 1000) == "linear"
    assert C.predicted_growth(1e-4, 1000).startswith("marginal")


def test_fit_linear_rate_recovers_geometric_sequence():
    e = 3.0 * 0.25 ** np.arange(8)
    e[1] *= 2.0  # one overshoot of 2
    beta, chi, n = C.fit_linear_rate(e, floor=1e-14)
    assert beta == pytest.approx(0.25, rel=0.1) and chi >= 2.0 * 0.25 / beta * 0.99 and n == 8


# --------------------------------------------------------------------------- verify


def test_verify_linear_system_one_newton_step(key):
    """Affine dynamics: DEER is exact after one step at every length; λ = log ρ(A)."""
    A = jnp.diag(jnp.array([0.5, -0.3]))
    system = systems.linear(A, T=60)
    report = V.verify(system, [10, 30, 60], key=key)
    s = report.systems[0]
    assert s.iterations == (1, 1, 1) and all(s.converged)
    assert s.lle == pytest.approx(math.log(0.5), abs=1e-3)  # finite-T transient of the start vector
    assert s.lipschitz == 0.0 and s.lipschitz_rigorous
    assert report.ok and not s.violations
    names = {c.name for c in s.checks}
    assert {"theorem2_solution", "exactness", "iteration_bound", "theorem4", "theorem5", "growth"} <= names
    # σ_min of the solution's residual Jacobian equals the numpy SVD of the explicit matrix
    J = np.broadcast_to(np.asarray(A), (60, 2, 2))
    exact = np.linalg.svd(_residual_matrix(J), compute_uv=False)[-1]
    assert s.per_length[-1].sigma_min_solution == pytest.approx(exact, rel=1e-8)
    assert V.assert_bounds_hold(report) is report


def test_verify_fallback_paths(key, monkeypatch):
    """Windowed eq. (10) constants (too costly to be exact) make Theorem 2 unverifiable, and a trace
    budget of zero recomputes the sampled iterates: same counts, no violation, no crash."""
    from verification import _verify

    system = systems.linear(jnp.diag(jnp.array([0.5, -0.3])), T=30)
    full = V.verify(system, [10, 30], key=key).systems[0]
    monkeypatch.setattr(_verify, "_DENSE_BURN_IN_BUDGET", 10.0)
    s = V.verify(system, [10, 30], key=key, max_trace_bytes=0).systems[0]
    assert s.iterations == full.iterations == (1, 1)
    t2 = [c for c in s.checks if c.name == "theorem2_solution"]
    assert t2 and all(not c.hypotheses_verified and c.status in ("holds", "deviation") for c in t2)
    assert any("windows of length" in n for n in s.notes)
    assert s.rate_fit["sequence"].endswith("sampled iterates")


def test_verify_nonfinite_solve_claims_nothing_about_counts(key):
    """Without the paper's reset, DEER on Lorenz from a normal guess stops on NaN: counts are lower
    bounds, so exactness, the iteration bound, the estimate and growth are skipped, not judged."""
    s = V.verify(systems.chaotic_flow("lorenz", T=60), [10, 60], key=key, reset_nonfinite=False).systems[0]
    assert s.status == "nonfinite" and not any(s.converged)
    for c in s.checks:
        if c.name in ("exactness", "iteration_bound", "two_phase_estimate", "growth"):
            assert c.status == "skipped", c
    assert not s.violations


def test_assert_parallelizable(key):
    V.assert_parallelizable(systems.linear(jnp.eye(2) * 0.5, T=40), [10, 40], key=key)
    with pytest.raises(AssertionError, match="not parallelizable"):
        V.assert_parallelizable(systems.logistic(4.0, T=60), [10, 30, 60], key=key)


def test_verify_rejects_bad_arguments(key):
    system = systems.linear(jnp.eye(2) * 0.5, T=20)
    with pytest.raises(TypeError, match="system"):
        V.verify("not a system", key=key)
    with pytest.raises(ValueError, match="key"):
        V.verify(system, key=None)
    with pytest.raises(ValueError, match="causal"):
        V.verify(system, key=key, solver=solvers.GradientDescent(0.1))
    with pytest.raises(ValueError, match="lengths"):
        V.verify(system, [10, 5], key=key)
    with pytest.raises(ValueError, match="lengths"):
        V.verify(system, [10, 50], key=key)

    def failing(s, u):
        raise RuntimeError("user bug")

    with pytest.raises(ValueError, match="user bug"):
        V.verify(V.System("bad", failing, jnp.zeros(2), jnp.zeros((5, 2))), key=key)
    with pytest.raises(ValueError, match="shape"):
        V.verify(V.System("bad", lambda s, u: s[:1], jnp.zeros(2), jnp.zeros((5, 2))), key=key)
    with pytest.raises(ValueError, match="not finite"):
        V.verify(V.System("blowup", lambda s, u: 1e200 * s * s, jnp.ones(1), jnp.zeros(20)), key=key)


def test_report_json_round_trip_with_non_finite_values():
    check = C.Check("x", "Theorem 2", "rigorous", 10, "holds", [0.0, float("inf")], float("nan"))
    lr = V.LengthResult(10, 3, True, 1.0, 1.0, True, 0.5, None, 0, 0.1, 1.0, -4.6, 0.0, 2.0, 10, 3.0)
    sr = V.SystemReport("s", "d", {"g": 1.0}, 10, 2, 1.0, "DEER", 1e-10, "float64", (10,), (3,), (True,),
                        "converged", -0.1, -0.1, 1, 1.0, 1.0, 0.5, None, "", False, None, "", "predictable",
                        "flat", "flat or logarithmic", {}, (lr,), (check,), 0.1)
    report = V.Report((sr,))
    text = report.to_json()
    assert "NaN" not in text and "Infinity" not in text  # strict JSON
    back = V.Report.from_dict(json.loads(text))
    assert back.systems[0].checks[0].predicted[1] == math.inf
    assert math.isnan(back.systems[0].checks[0].measured)
    with pytest.raises(ValueError, match="schema"):
        V.Report.from_dict({"schema": "other", "schema_version": 1})


# --------------------------------------------------------------------------- sweep


@pytest.fixture(scope="module")
def rnn_sweep():
    return V.sweep(mean_field_rnn_factory(D=16, T=300), {"g": [0.5, 2.0]}, seeds=[0, 1],
                   lengths=(10, 30, 100, 300))


def test_iterations_flat_for_small_gain_and_growing_for_large(rnn_sweep):
    r = rnn_sweep
    assert r.batched and r.complete
    small, large = r.iterations[0], r.iterations[1]  # (seeds, lengths)
    assert np.all(r.converged)
    assert np.all(small.max(axis=1) - small.min(axis=1) <= 1)  # flat in T
    assert np.all(np.diff(large, axis=1) > 0)  # strictly growing in T
    assert np.all(large[:, -1] >= 5 * large[:, 0])
    assert np.all(large <= np.array(r.lengths))  # never more than T (causality)
    assert np.all(r.lle[0] < 0) and np.all(r.lle[1] > 0)
    assert 0.5 < r.lle_threshold["g"] < 2.0 and 0.5 < r.iteration_jump["g"] < 2.0


def test_sweep_counts_equal_individual_solves(rnn_sweep):
    """The vmapped sweep's prefix counts equal separate solves of each prefix (seed 1, g = 2)."""
    system = mean_field_rnn_factory(D=16, T=300)(jax.random.key(1), g=2.0)
    k_guess = jax.random.split(jax.random.fold_in(jax.random.key(1), 1))[1]
    init = system.initial_guess(k_guess)
    for j, T in enumerate((10, 30)):
        sub = system.truncate(T)
        sol = solvers.evaluate(sub.f, sub.s0, sub.inputs, solvers.DEER(), init=init[:T], reset_nonfinite=True)
        assert int(sol.num_iters) == rnn_sweep.iterations[1, 1, j]


def test_sweep_interrupted_keeps_finished_points(tmp_path):
    path = tmp_path / "sweep.json"

    def stop(done, total):
        if done == 1:
            raise KeyboardInterrupt

    with pytest.raises(SweepInterrupted) as info:
        V.sweep(mean_field_rnn_factory(D=4, T=20), {"g": [0.5, 0.6, 0.7]}, seeds=[0], lengths=(10, 20),
                checkpoint=path, progress=stop)
    partial = info.value.partial
    assert not partial.complete and np.all(partial.iterations[0] > 0) and np.all(partial.iterations[1:] == -1)
    saved = json.loads(path.read_text())
    assert saved["complete"] is False and saved["iterations"][0] == partial.iterations[0].tolist()


def test_sweep_rejects_bad_arguments():
    f = mean_field_rnn_factory(D=4, T=20)
    with pytest.raises(ValueError, match="grid"):
        V.sweep(f, {}, seeds=[0], lengths=(10,))
    with pytest.raises(ValueError, match="seeds"):
        V.sweep(f, {"g": [0.5]}, seeds=[], lengths=(10,))
    with pytest.raises(ValueError, match="lengths"):
        V.sweep(f, {"g": [0.5]}, seeds=[0], lengths=(20, 10))


# --------------------------------------------------------------------------- observer vs flow


def test_observer_converges_where_its_flow_does_not():
    """PAPER.md Table 1: Lorenz needs ~T DEER steps, its observer a handful (measured directly)."""
    T = 1000
    flow = systems.chaotic_flow("lorenz", T=T)
    obs = systems.flow_observer("lorenz", T=T)
    key = jax.random.key(3)
    sol_obs = solvers.evaluate(obs.f, obs.s0, obs.inputs, solvers.DEER(), init=obs.initial_guess(key),
                               reset_nonfinite=True, max_iters=50)
    sol_flow = solvers.evaluate(flow.f, flow.s0, flow.inputs, solvers.DEER(), init=flow.initial_guess(key),
                                reset_nonfinite=True, max_iters=50)
    assert bool(sol_obs.converged) and int(sol_obs.num_iters) <= 5
    assert not bool(sol_flow.converged)
