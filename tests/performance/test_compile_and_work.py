"""Compile once, no wasted work (issue 6, targets 1 and 3).

Compilations are counted with JAX's own monitoring events (one ``backend_compile`` event per XLA
compilation), never by timing. Work is checked on the traced program (jaxpr): the Hutchinson
quasi-DEER never forms a D×D array.
"""

import dataclasses

import jax
import jax.extend
import jax.numpy as jnp
import numpy as np
import pytest

import solvers
from solvers import _evaluate

_COMPILES = {"n": 0}


def _on_event(event, duration, **kwargs):
    if "backend_compile" in event:
        _COMPILES["n"] += 1


jax.monitoring.register_event_duration_secs_listener(_on_event)


def _compiles_during(fn):
    before = _COMPILES["n"]
    fn()
    return _COMPILES["n"] - before


def _rnn(D, gain, seed=0):
    W = jnp.asarray(np.random.default_rng(seed).normal(size=(D, D)) * gain / np.sqrt(D))
    return lambda s, u: jnp.tanh(W @ s + u)


@pytest.mark.parametrize("solver", [solvers.DEER(), solvers.QuasiDEER()], ids=["deer", "quasi"])
def test_repeated_calls_and_new_tol_lengths_max_iters_do_not_recompile(solver):
    f = _rnn(3, 0.7)
    s0 = jnp.zeros(3)
    inputs = jnp.asarray(np.random.default_rng(1).normal(size=(40, 3)))
    other_inputs = inputs + 0.1
    first = solvers.evaluate(f, s0, inputs, solver, lengths=[5, 20])  # warm-up: compiles
    calls = [
        lambda: solvers.evaluate(f, s0, inputs, solver, lengths=[5, 20]),
        lambda: solvers.evaluate(f, s0, other_inputs, solver, lengths=[5, 20]),
        lambda: solvers.evaluate(f, s0, inputs, solver, lengths=[7, 33]),  # other values
        lambda: solvers.evaluate(f, s0, inputs, solver, lengths=[1, 40], tol=1e-6),
        lambda: solvers.evaluate(f, s0, inputs, solver, lengths=[2, 3], tol=3e-12),
        lambda: solvers.evaluate(f, s0, inputs, solver, lengths=[5, 20], max_iters=3),
    ]
    for k, call in enumerate(calls):
        assert _compiles_during(lambda c=call: jax.block_until_ready(c())) == 0, f"call {k}"
    # Same cache entry, same answer.
    again = solvers.evaluate(f, s0, inputs, solver, lengths=[5, 20])
    np.testing.assert_array_equal(np.asarray(first.states), np.asarray(again.states))


def test_new_shapes_compile_once_each():
    # Documented: the *number* of lengths, T, D, dtype, the solver and f are static.
    f = _rnn(2, 0.5)
    s0 = jnp.zeros(2)
    inputs = jnp.ones((30, 2))
    solvers.evaluate(f, s0, inputs, lengths=[3])
    size = _evaluate._solve._cache_size()
    solvers.evaluate(f, s0, inputs, lengths=[3, 9])  # two lengths: a new shape
    assert _evaluate._solve._cache_size() == size + 1
    solvers.evaluate(f, s0, inputs, lengths=[4, 10])  # same shape, new values
    assert _evaluate._solve._cache_size() == size + 1


def _avals(jaxpr):
    """Every intermediate aval of a jaxpr, sub-jaxprs (while, scan, pjit, …) included."""
    out = []
    for eqn in jaxpr.eqns:
        out.extend(v.aval for v in eqn.outvars)
        for param in eqn.params.values():
            subs = param if isinstance(param, (tuple, list)) else (param,)
            for sub in subs:
                if isinstance(sub, jax.extend.core.ClosedJaxpr):
                    out.extend(_avals(sub.jaxpr))
                elif isinstance(sub, jax.extend.core.Jaxpr):
                    out.extend(_avals(sub))
    return out


def _solve_jaxpr(solver, D, T=16):
    f = _rnn(D, 0.5)
    s0 = jnp.zeros(D)
    inputs = jnp.ones((T, D))

    def run(s0, inputs):
        return solvers.evaluate(f, s0, inputs, solver, max_iters=3).states

    return jax.make_jaxpr(run)(s0, inputs).jaxpr


def _has_square(jaxpr, D):
    return any(getattr(a, "shape", ())[-2:] == (D, D) for a in _avals(jaxpr))


def test_hutchinson_quasi_deer_never_builds_a_DxD_matrix():
    D = 64
    hutch = solvers.QuasiDEER("hutchinson", key=jax.random.key(0), num_samples=2)
    for scan in ("sequential", "vector", "associative"):
        assert not _has_square(_solve_jaxpr(dataclasses.replace(hutch, scan=scan), D), D)
    # The check can fail: dense DEER does build (…, D, D) Jacobians.
    assert _has_square(_solve_jaxpr(solvers.DEER(), D), D)


def test_exact_quasi_deer_diagonal_never_holds_T_by_D_by_D():
    # The exact diagonal pushes one-hot tangents for blocks of time steps in turn: no
    # intermediate reaches T·D² elements (dense DEER's Jacobians do).
    D, T = 64, 256

    def largest(solver):
        return max(
            int(np.prod(getattr(a, "shape", ()))) for a in _avals(_solve_jaxpr(solver, D, T))
        )

    assert largest(solvers.QuasiDEER()) < T * D * D // 2
    assert largest(solvers.DEER()) >= T * D * D


def test_hutchinson_estimate_is_unbiased_within_its_accuracy():
    # Hutchinson's diagonal mean_k v_k ⊙ (J v_k) has variance Σ_{j≠i} J_ij² / num_samples per
    # entry; with many samples it meets the exact diagonal within a few standard errors.
    D, T, K = 6, 5, 4000
    f = _rnn(D, 0.9)
    rng = np.random.default_rng(3)
    s_prev = jnp.asarray(rng.normal(size=(T, D)))
    inputs = jnp.asarray(rng.normal(size=(T, D)))
    exact_fs, exact = solvers.QuasiDEER().linearize(f, s_prev, inputs, s_prev, 0)
    hutch = solvers.QuasiDEER("hutchinson", key=jax.random.key(5), num_samples=K)
    fs, est = hutch.linearize(f, s_prev, inputs, s_prev, 0)
    np.testing.assert_allclose(np.asarray(fs), np.asarray(exact_fs), rtol=1e-12)
    J = jax.vmap(lambda s, u: jax.jacfwd(f)(s, u))(s_prev, inputs)
    off = np.asarray(J) * (1 - np.eye(D))
    stderr = np.sqrt(np.sum(off**2, axis=-1) / K)
    assert np.all(np.abs(np.asarray(est) - np.asarray(exact)) <= 5 * stderr + 1e-12)
