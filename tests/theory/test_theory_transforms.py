"""The theory functions under jit, vmap and grad."""

import jax
import jax.numpy as jnp
import numpy as np
from theory_oracles import dense_residual_jacobian

import theory

JS = jnp.asarray(np.random.default_rng(0).normal(size=(3, 10, 2, 2)) * 0.7)


def test_vmap_and_jit_over_jacobian_sequences(key):
    lams = jax.vmap(lambda j: theory.lle(j, key=key))(JS)
    np.testing.assert_allclose(lams, [theory.lle(j, key=key) for j in JS], rtol=1e-12)
    smin = jax.jit(jax.vmap(lambda j: theory.sigma_min(j).value))(JS)
    want = [np.linalg.svd(dense_residual_jacobian(np.asarray(j)), compute_uv=False)[-1] for j in JS]
    np.testing.assert_allclose(smin, want, rtol=1e-10)
    a = jax.vmap(lambda j: theory.burn_in_constants(j, 0.0).a)(JS)
    np.testing.assert_allclose(a, [theory.burn_in_constants(j, 0.0).a for j in JS], rtol=1e-12)


def test_grad_of_the_log_bounds_is_right_at_and_near_zero():
    T = 10.0
    g = jax.grad(lambda lam: theory.log_pl_constant_bounds(lam, T)[0])
    # d/dλ of −2 log Σ_k e^{λk} at λ = 0 is −2 · mean(k) = −(T − 1).
    np.testing.assert_allclose(g(0.0), -(T - 1), rtol=1e-12)
    lam = 0.3
    k = np.arange(10)
    want = -2 * np.sum(k * np.exp(lam * k)) / np.sum(np.exp(lam * k))
    np.testing.assert_allclose(g(lam), want, rtol=1e-10)


def test_jit_of_bounds_with_traced_arguments():
    f = jax.jit(lambda lam, T: theory.pl_constant_bounds(lam, T, 1.5, 0.5))
    np.testing.assert_allclose(f(0.2, 7.0), theory.pl_constant_bounds(0.2, 7, 1.5, 0.5), rtol=1e-13)
