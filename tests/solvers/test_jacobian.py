"""Jacobians by forward, reverse and automatically chosen mode (solvers.jacobians).

Oracles: hand-written numpy Jacobians of the tanh maps, central finite differences in numpy for
the others, and the analytic operation counts of the two modes for the two RNN forms.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from solver_problems import fd_jacobian_np

import solvers


def _weights(D, seed):
    return np.random.default_rng(seed).normal(size=(D, D)) / np.sqrt(D)


FORMS = {
    # name: (jax f(W), numpy f(W), numpy Jacobian(W) or None)
    "W_tanh": (
        lambda W: lambda s, u: W @ jnp.tanh(s) + u,
        lambda W: lambda s, u: W @ np.tanh(s) + u,
        lambda W: lambda s, u: W * (1 - np.tanh(s) ** 2)[None, :],
    ),
    "tanh_W": (
        lambda W: lambda s, u: jnp.tanh(W @ s + u),
        lambda W: lambda s, u: np.tanh(W @ s + u),
        lambda W: lambda s, u: (1 - np.tanh(W @ s + u) ** 2)[:, None] * W,
    ),
    "mixed": (
        lambda W: lambda s, u: s + 0.1 * (jnp.sin(W @ s) * s[::-1] + u),
        lambda W: lambda s, u: s + 0.1 * (np.sin(W @ s) * s[::-1] + u),
        None,
    ),
}


@settings(max_examples=25, deadline=None)
@given(
    form=st.sampled_from(sorted(FORMS)),
    D=st.integers(1, 6),
    T=st.integers(1, 7),
    seed=st.integers(0, 2**16),
)
def test_every_mode_matches_the_numpy_jacobian(form, D, T, seed):
    f_jax, f_np, jac_np = FORMS[form]
    W = _weights(D, seed)
    rng = np.random.default_rng(seed + 1)
    s_prev, u = rng.normal(size=(T, D)), rng.normal(size=(T, D))
    want_f = np.stack([f_np(W)(s_prev[t], u[t]) for t in range(T)])
    if jac_np is not None:
        want_J = np.stack([jac_np(W)(s_prev[t], u[t]) for t in range(T)])
        atol = 1e-12
    else:
        want_J = np.stack([fd_jacobian_np(f_np(W), s_prev[t], u[t]) for t in range(T)])
        atol = 1e-6
    for mode in solvers.JACOBIAN_MODES:
        fs, J = solvers.jacobians(f_jax(jnp.asarray(W)), jnp.asarray(s_prev), jnp.asarray(u), mode)
        np.testing.assert_allclose(np.asarray(fs), want_f, atol=1e-12, err_msg=mode)
        np.testing.assert_allclose(np.asarray(J), want_J, atol=atol, err_msg=mode)


def test_value_and_jacobian_modes_agree_at_one_step():
    W = jnp.asarray(_weights(5, 3))
    f = FORMS["mixed"][0](W)
    s, u = jnp.linspace(-1, 1, 5), jnp.ones(5)
    v_f, J_f = solvers.value_and_jacobian(f, s, u, mode="forward")
    v_r, J_r = solvers.value_and_jacobian(f, s, u, mode="reverse")
    np.testing.assert_allclose(v_f, v_r, atol=1e-14)
    np.testing.assert_allclose(J_f, J_r, atol=1e-14)
    np.testing.assert_allclose(J_f, np.asarray(jax.jacfwd(f)(s, u)), atol=1e-14)


@pytest.mark.parametrize("D, T", [(16, 50), (40, 7)])
def test_costs_follow_the_analytic_operation_counts(D, T):
    """``W tanh(s)``: forward mode multiplies W by a scaled basis at every step (≥ 2·T·D³ flops),
    reverse mode multiplies the basis by W once (2·D³) and scales per step (O(T·D²)).
    ``tanh(W s)`` is the mirror image."""
    W = jnp.asarray(_weights(D, 0))
    s, u = jnp.zeros((T, D)), jnp.zeros((T, D))
    per_step_products = 2.0 * T * D**3
    small = 2.0 * D**3 + 20.0 * T * D**2
    c = solvers.jacobian_costs(FORMS["W_tanh"][0](W), s, u)
    assert c["forward"] >= per_step_products and c["reverse"] <= small, c
    c = solvers.jacobian_costs(FORMS["tanh_W"][0](W), s, u)
    assert c["reverse"] >= per_step_products and c["forward"] <= small, c


def _jaxpr_text(f, s, u, mode):
    return str(jax.make_jaxpr(lambda s, u: solvers.jacobians(f, s, u, mode))(s, u))


@pytest.mark.parametrize("form, cheaper", [("W_tanh", "reverse"), ("tanh_W", "forward")])
def test_auto_traces_the_cheaper_program(form, cheaper):
    W = jnp.asarray(_weights(12, 1))
    f = FORMS[form][0](W)
    s, u = jnp.zeros((30, 12)), jnp.zeros((30, 12))
    assert _jaxpr_text(f, s, u, "auto") == _jaxpr_text(f, s, u, cheaper)
    other = "forward" if cheaper == "reverse" else "reverse"
    assert _jaxpr_text(f, s, u, "auto") != _jaxpr_text(f, s, u, other)


def test_costs_count_loops_inside_f():
    """An f with an inner fixed-trip loop (sub-steps of an integrator) is costed through its body."""

    def substeps(n):
        def f(s, u):
            return jax.lax.fori_loop(0, n, lambda i, x: x + 0.1 * jnp.tanh(x + u), s)

        return f

    s, u = jnp.zeros((10, 3)), jnp.zeros((10, 3))
    c1, c4 = solvers.jacobian_costs(substeps(1), s, u), solvers.jacobian_costs(substeps(4), s, u)
    for mode in ("forward", "reverse"):
        assert np.isfinite(c4[mode]) and c4[mode] > c1[mode] > 0
    rng = np.random.default_rng(0)
    s, u = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))

    def f_np(x, u):
        for _ in range(4):
            x = x + 0.1 * np.tanh(x + u)
        return x

    want = np.stack([fd_jacobian_np(f_np, s[t], u[t]) for t in range(4)])
    _, J = solvers.jacobians(substeps(4), jnp.asarray(s), jnp.asarray(u), "auto")
    np.testing.assert_allclose(np.asarray(J), want, atol=1e-6)


def test_auto_works_under_jit_and_vmap_with_traced_parameters():
    """The sweep case: W is a traced (batched) argument closed over by f."""
    Ws = jnp.asarray(np.stack([_weights(4, k) for k in range(3)]))
    s, u = jnp.asarray(np.random.default_rng(2).normal(size=(2, 6, 4)))

    @jax.jit
    @jax.vmap
    def batched(W):
        return solvers.jacobians(FORMS["W_tanh"][0](W), s, u, "auto")[1]

    want = np.stack(
        [np.stack([FORMS["W_tanh"][2](np.asarray(W))(np.asarray(s[t]), None) for t in range(6)]) for W in Ws]
    )
    np.testing.assert_allclose(np.asarray(batched(Ws)), want, atol=1e-12)


@pytest.mark.parametrize("solver_cls", [solvers.DEER, solvers.DampedDEER, solvers.DeepPCR])
def test_deer_family_gives_the_same_solve_in_every_mode(solver_cls):
    W = jnp.asarray(_weights(6, 4) * 0.7)
    f = FORMS["W_tanh"][0](W)
    u = jnp.asarray(np.random.default_rng(5).normal(size=(40, 6)) * 0.3)
    sols = {m: solvers.evaluate(f, jnp.zeros(6), u, solver_cls(jacobian=m)) for m in solvers.JACOBIAN_MODES}
    ref = sols["forward"]
    assert bool(ref.converged)
    for m, sol in sols.items():
        assert int(sol.num_iters) == int(ref.num_iters), m
        np.testing.assert_allclose(np.asarray(sol.states), np.asarray(ref.states), atol=1e-12, err_msg=m)


@pytest.mark.parametrize("cls", [solvers.DEER, solvers.DampedDEER, solvers.DeepPCR])
def test_bad_jacobian_mode_is_named(cls):
    with pytest.raises(ValueError, match=r"jacobian: expected one of .*'sideways'"):
        cls(jacobian="sideways")
    with pytest.raises(ValueError, match="jacobian"):
        solvers.jacobians(lambda s, u: s, jnp.zeros((2, 1)), jnp.zeros((2, 1)), "sideways")
    with pytest.raises(ValueError, match="jacobian"):
        solvers.value_and_jacobian(lambda s, u: s, jnp.zeros(1), jnp.zeros(1), mode="auto")
