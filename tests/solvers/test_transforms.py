"""``evaluate`` under ``jax.jit`` and ``jax.vmap`` gives the answers of eager single calls.

Batches of inputs, of initial guesses, and of parameters closed over by ``f``; float32 too.
Oracles: eager calls (every field, member by member) and, for the states, the numpy rollout.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from solver_problems import as_jax, mean_field_weights, problem, rollout_np, sinusoidal_inputs

import solvers

Status = solvers.Status
B = 3  # batch size

SOLVERS = [
    pytest.param(solvers.DEER(), id="deer"),
    pytest.param(solvers.QuasiDEER(), id="quasi_exact"),
    pytest.param(solvers.Jacobi(), id="jacobi"),
]

FIELDS = ("states", "num_iters", "converged", "status", "merit")


def _assert_same(batched, singles, atol):
    for name in FIELDS:
        got = np.asarray(getattr(batched, name))
        want = np.stack([np.asarray(getattr(s, name)) for s in singles])
        if got.dtype.kind == "f":
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=atol, err_msg=name)
        else:
            np.testing.assert_array_equal(got, want, err_msg=name)


@pytest.mark.parametrize("solver", SOLVERS)
def test_jit_equals_eager(solver):
    p = problem("tanh_rnn_small_gain")
    s0, inputs, init = as_jax(p.s0), as_jax(p.inputs), as_jax(p.init)
    eager = solvers.evaluate(
        p.f, s0, inputs, solver, init=init, tol=1e-20, lengths=[5, 32], trace=True
    )
    jitted = jax.jit(
        lambda s0, inputs, init, tol: solvers.evaluate(
            p.f, s0, inputs, solver, init=init, tol=tol, lengths=[5, 32], trace=True
        )
    )(s0, inputs, init, 1e-20)
    _assert_same(jax.tree_util.tree_map(lambda x: x[None], jitted), [eager], atol=1e-14)
    np.testing.assert_array_equal(np.asarray(jitted.prefix_iters), np.asarray(eager.prefix_iters))
    np.testing.assert_allclose(
        np.asarray(jitted.merit_trace), np.asarray(eager.merit_trace), rtol=1e-6, atol=1e-30
    )


def test_jit_with_pytree_inputs():
    p = problem("pytree")
    s0, inputs = as_jax(p.s0), as_jax(p.inputs)
    eager = solvers.evaluate(p.f, s0, inputs, tol=1e-20)
    jitted = jax.jit(lambda inputs: solvers.evaluate(p.f, s0, inputs, tol=1e-20))(inputs)
    _assert_same(jax.tree_util.tree_map(lambda x: x[None], jitted), [eager], atol=1e-14)


@pytest.mark.parametrize("solver", SOLVERS)
def test_vmap_over_inputs(solver):
    p = problem("tanh_rnn_small_gain")
    rng = np.random.default_rng(11)
    batch = np.stack([sinusoidal_inputs(p.T, p.D, rng) for _ in range(B)])
    s0 = as_jax(p.s0)
    run = lambda u: solvers.evaluate(p.f, s0, u, solver, tol=1e-20)  # noqa: E731
    batched = jax.vmap(run)(as_jax(batch))
    singles = [run(as_jax(u)) for u in batch]
    _assert_same(batched, singles, atol=1e-14)
    for b in range(B):
        np.testing.assert_allclose(
            np.asarray(batched.states[b]), rollout_np(p.f_np, p.s0, batch[b]), atol=1e-10
        )


@pytest.mark.parametrize("solver", SOLVERS)
def test_vmap_over_initial_guesses(solver, keys):
    # Different guesses need different iteration counts: members stop at their own count and
    # are not updated after converging while the others run on.
    p = problem("tanh_rnn_small_gain")
    s0, inputs = as_jax(p.s0), as_jax(p.inputs)
    inits = jnp.stack(
        [jnp.asarray(rollout_np(p.f_np, p.s0, p.inputs))]  # already converged: 0 iterations
        + [3.0 * jax.random.normal(k, (p.T, p.D)) for k in keys[:2]]
    )
    run = lambda init: solvers.evaluate(p.f, s0, inputs, solver, init=init, tol=1e-20)  # noqa: E731
    batched = jax.vmap(run)(inits)
    singles = [run(i) for i in inits]
    _assert_same(batched, singles, atol=1e-14)
    assert int(batched.num_iters[0]) == 0


@pytest.mark.parametrize("jit_outer", [False, True], ids=["vmap", "jit_vmap"])
def test_vmap_over_parameters_closed_over_by_f(jit_outer):
    rng = np.random.default_rng(5)
    T, D = 30, 4
    gains = [0.3, 0.6, 0.9]
    Ws = np.stack([mean_field_weights(D, g, rng) for g in gains])
    u = sinusoidal_inputs(T, D, rng)
    s0 = rng.uniform(-1, 1, D)

    def run(W):
        f = lambda s, x: W @ jnp.tanh(s) + x  # noqa: E731 - closes over a (batched) W
        return solvers.evaluate(
            f, as_jax(s0), as_jax(u), solvers.DEER(), tol=1e-20, lengths=[10, T]
        )

    batch_run = jax.vmap(run)
    batched = (jax.jit(batch_run) if jit_outer else batch_run)(as_jax(Ws))
    # Single calls: one eager, and all of them through one jitted function (compiled once; a
    # new closure per W would otherwise recompile every eager call).
    eager = run(as_jax(Ws[0]))
    singles = [jax.jit(run)(as_jax(W)) for W in Ws]
    _assert_same(jax.tree_util.tree_map(lambda x: x[None], eager), singles[:1], atol=1e-14)
    _assert_same(batched, singles, atol=1e-14)
    np.testing.assert_array_equal(
        np.asarray(batched.prefix_iters), np.stack([np.asarray(s.prefix_iters) for s in singles])
    )
    for W, states in zip(Ws, np.asarray(batched.states), strict=True):
        expected = rollout_np(lambda s, x, W=W: W @ np.tanh(s) + x, s0, u)
        np.testing.assert_allclose(states, expected, atol=1e-10)


@pytest.mark.parametrize(
    "solver",
    SOLVERS
    + [
        pytest.param(solvers.Picard(), id="picard"),
        pytest.param(solvers.DeepPCR(), id="deeppcr"),
        pytest.param(solvers.Sequential(), id="sequential"),
    ],
)
def test_float32(solver):
    p = problem("tanh_rnn_small_gain")
    f32 = p.make_f(jnp.float32)
    s0, inputs = as_jax(p.s0, jnp.float32), as_jax(p.inputs, jnp.float32)
    sol = solvers.evaluate(f32, s0, inputs, solver, tol=1e-10)
    assert sol.states.dtype == jnp.float32
    assert sol.merit.dtype == jnp.float32
    assert int(sol.status) == Status.CONVERGED
    np.testing.assert_allclose(
        np.asarray(sol.states, np.float64), rollout_np(p.f_np, p.s0, p.inputs), rtol=0, atol=1e-5
    )
    batched = jax.vmap(lambda u: solvers.evaluate(f32, s0, u, solver, tol=1e-10))(
        jnp.stack([inputs, 0.5 * inputs])
    )
    assert batched.states.dtype == jnp.float32
    # Batched and single runs may round differently and so stop one iteration apart; both meet
    # tol = 1e-10, i.e. residuals of about 1e-5.
    np.testing.assert_allclose(np.asarray(batched.states[0]), np.asarray(sol.states), atol=1e-4)


def test_status_under_vmap_is_per_member():
    p = problem("tanh_rnn_large_gain")
    s0, inputs = as_jax(p.s0), as_jax(p.inputs)
    inits = jnp.stack([jnp.asarray(rollout_np(p.f_np, p.s0, p.inputs)), as_jax(p.init)])
    sol = jax.vmap(lambda i: solvers.evaluate(p.f, s0, inputs, init=i, tol=1e-20, max_iters=2))(
        inits
    )
    assert np.asarray(sol.status).tolist() == [Status.CONVERGED, Status.ITERATION_LIMIT]
    assert np.asarray(sol.num_iters).tolist() == [0, 2]
