"""An estimate of the Lipschitz constant of the dynamics Jacobians (Theorem 3).

References: PAPER.md §4, Theorem 3 (J(·) inherits the Lipschitz constant of the J_t(·)).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from ._validate import (
    as_float_array,
    check_finite,
    check_int,
    check_key,
    check_range,
    is_concrete,
    pytree_dataclass,
)

__all__ = ["LipschitzEstimate", "jacobian_lipschitz"]


@pytree_dataclass(meta=("num_samples", "method"))
class LipschitzEstimate:
    """Sampled Lipschitz constant of ``s ↦ ∂f/∂s (s, u_t)`` along states.

    Attributes:
        value: ``max_t`` of ``per_step`` — the estimate of L for Theorems 3 and 5.
        per_step: ``(T,)`` the largest ``‖∂J_t/∂s · v‖₂`` found near ``s_{t−1}``.
        radius: radius of the balls sampled around each state.
        num_samples: points (and directions) per step.
        method: how it was computed, in words.

    The sampled maximum is a *lower* estimate of the supremum over the balls; a user who needs a
    rigorous L should supply an analytic constant (e.g. ``‖W‖₂ · max|tanh''|`` for a tanh RNN).
    """

    value: jax.Array
    per_step: jax.Array
    radius: jax.Array
    num_samples: int
    method: str


def jacobian_lipschitz(f, s0, states, inputs, *, key, radius=0.0, num_samples: int = 16):
    """Estimate L with ``‖J_t(x) − J_t(y)‖ ≤ L ‖x − y‖`` near the states ``s_0 … s_{T−1}``.

    For each t, at ``num_samples`` points ``x`` drawn uniformly in the ball of radius ``radius``
    around ``s_{t−1}`` (the point itself when radius = 0) and random unit directions ``v``,
    computes the spectral norm of the directional derivative ``∂J_t(x)/∂s · v`` (a forward-mode
    derivative of the Jacobian). By the mean-value theorem the supremum of this quantity over
    the ball and all unit v is the Lipschitz constant of J_t there; the sampled maximum
    estimates it from below. By Theorem 3 the residual Jacobian J(·) has the same constant.

    Args:
        f: step function ``f(s_prev, u_t) -> s_t``.
        s0: initial state ``(D,)``.
        states: ``(T, D)`` trajectory ``s_1 … s_T`` (only ``s_1 … s_{T−1}`` are used as
            evaluation points, with ``s_0``: the points where ``J_1 … J_T`` are taken).
        inputs: leading time axis of length T.
        key: PRNG key (required).
        radius: ball radius ≥ 0 (e.g. the distance the iterates may stray from the states).
        num_samples: points and directions per step (≥ 1).

    Returns:
        :class:`LipschitzEstimate`.

    Raises:
        ValueError / TypeError: bad shapes, non-finite values, negative radius, missing key.

    References: PAPER.md §4, Theorem 3.
    """
    if not callable(f):
        raise TypeError(f"f: expected a callable f(s_prev, u_t), got {type(f).__name__}")
    key = check_key(key)
    num_samples = check_int(num_samples, "num_samples", minimum=1)
    s0 = check_finite(as_float_array(s0, "s0"), "s0")
    if s0.ndim != 1:
        raise ValueError(f"s0: expected shape (D,), got shape {s0.shape}")
    states = check_finite(as_float_array(states, "states", s0.dtype), "states")
    D = s0.shape[0]
    if states.ndim != 2 or states.shape[1] != D or states.shape[0] < 1:
        raise ValueError(f"states: expected shape (T, {D}) with T >= 1, got shape {states.shape}")
    T = states.shape[0]
    for leaf in jax.tree_util.tree_leaves(inputs):
        if jnp.ndim(leaf) < 1 or jnp.shape(leaf)[0] != T:
            raise ValueError(f"inputs: expected a leading time axis of length T = {T}, got shape {jnp.shape(leaf)}")
    radius = as_float_array(radius, "radius", s0.dtype)
    check_range(radius, "radius", low=0)
    if radius.ndim != 0:
        raise ValueError(f"radius: expected a scalar, got shape {radius.shape}")

    per_step = _lipschitz_core(f, s0, states, inputs, key, radius, num_samples)
    method = (
        f"max over {num_samples} random points in the ball of radius "
        f"{float(radius) if is_concrete(radius) else 'r'} around each "
        "s_{t-1} and random unit directions v of ||dJ_t/ds . v||_2 (a sampled lower estimate)"
    )
    return LipschitzEstimate(jnp.max(per_step), per_step, radius, num_samples, method)


@functools.partial(jax.jit, static_argnums=(0, 6))
def _lipschitz_core(f, s0, states, inputs, key, radius, num_samples):
    T, D = states.shape
    prev = jnp.concatenate([s0[None], states[:-1]], axis=0)
    jac = jax.jacfwd(f, argnums=0)
    k1, k2, k3 = jax.random.split(key, 3)
    dirs = jax.random.normal(k1, (T, num_samples, D), s0.dtype)
    dirs = dirs / jnp.linalg.norm(dirs, axis=-1, keepdims=True)
    offs = jax.random.normal(k2, (T, num_samples, D), s0.dtype)
    offs = offs / jnp.linalg.norm(offs, axis=-1, keepdims=True)
    # Uniform in the ball: radius · U^{1/D} along a uniform direction.
    scale = radius * jax.random.uniform(k3, (T, num_samples, 1), s0.dtype) ** (1.0 / D)
    points = prev[:, None, :] + scale * offs

    def one(x, v, u):
        _, dJ = jax.jvp(lambda y: jac(y, u), (x,), (v,))
        return jnp.linalg.norm(dJ, ord=2)

    per_sample = jax.vmap(lambda xs, vs, u: jax.vmap(lambda x, v: one(x, v, u))(xs, vs))(points, dirs, inputs)
    return jnp.max(per_sample, axis=1)
