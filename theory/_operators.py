"""The residual Jacobian J = I − N of length T: dense form and matrix-free products.

``J`` is TD×TD, block lower bidiagonal: identity blocks on the diagonal and ``−J_t`` at block
(t, t−1) for t = 2..T (``J_1`` never appears: it multiplies the fixed ``s_0``). Its inverse has
block (t, j) = ``J_t J_{t−1} ⋯ J_{j+1}`` for t ≥ j, so ``J⁻¹ r`` is the solution of the linear
recursion ``x_t = J_t x_{t−1} + r_t`` from ``x_0 = 0``, and ``J⁻ᵀ w`` the reverse-time one
``y_t = w_t + J_{t+1}ᵀ y_{t+1}`` from ``y_{T+1} = 0``.

References: PAPER.md §1 (residual Jacobian and its inverse).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from solvers import solve_affine

from ._validate import as_float_array, as_jacobians, check_finite, pytree_dataclass

__all__ = ["residual_jacobian", "ResidualOperator", "residual_operator", "jacobians_along"]


def residual_jacobian(jacobians):
    """Dense residual Jacobian ``J`` (TD×TD) of a Jacobian sequence.

    ``J = I − N`` with ``N`` holding ``J_t`` at block (t, t−1), t = 2..T.

    Args:
        jacobians: ``(T, D, D)``, ``jacobians[t-1] = J_t``.

    Returns:
        Array ``(T·D, T·D)``.

    Raises:
        ValueError / TypeError: bad shape or non-finite values.

    References: PAPER.md §1.
    """
    jacobians = as_jacobians(jacobians)
    T, D, _ = jacobians.shape
    idx = jnp.arange(T)
    blocks = jnp.zeros((T, T, D, D), jacobians.dtype)
    blocks = blocks.at[idx, idx].set(jnp.eye(D, dtype=jacobians.dtype))
    blocks = blocks.at[idx[1:], idx[:-1]].set(-jacobians[1:])
    return blocks.transpose(0, 2, 1, 3).reshape(T * D, T * D)


@pytree_dataclass(meta=("parallel",))
class ResidualOperator:
    """Matrix-free residual Jacobian: products with J, Jᵀ, J⁻¹ and J⁻ᵀ on ``(T, D)`` arrays.

    With ``parallel=False`` (default) the inverse products are sequential ``lax.scan`` recursions,
    O(T·D²) work each; with ``parallel=True`` they use the associative scan
    (:func:`solvers.solve_affine`, O(log T) depth, O(T·D³) work).

    Attributes:
        jacobians: ``(T, D, D)``.
        parallel: which recursion solves with J and Jᵀ.

    References: PAPER.md §1–2.
    """

    jacobians: jax.Array
    parallel: bool = False

    @property
    def shape(self):
        T, D, _ = self.jacobians.shape
        return (T * D, T * D)

    def matvec(self, v):
        """``(J v)_t = v_t − J_t v_{t−1}`` (t ≥ 2), ``(J v)_1 = v_1``."""
        v = jnp.asarray(v, self.jacobians.dtype)
        Jv = jnp.einsum("tij,tj->ti", self.jacobians[1:], v[:-1])
        return v.at[1:].add(-Jv)

    def rmatvec(self, w):
        """``(Jᵀ w)_t = w_t − J_{t+1}ᵀ w_{t+1}`` (t < T), ``(Jᵀ w)_T = w_T``."""
        w = jnp.asarray(w, self.jacobians.dtype)
        JTw = jnp.einsum("tji,tj->ti", self.jacobians[1:], w[1:])
        return w.at[:-1].add(-JTw)

    def solve(self, r):
        """``J⁻¹ r``: the recursion ``x_t = J_t x_{t−1} + r_t``, ``x_0 = 0``."""
        r = jnp.asarray(r, self.jacobians.dtype)
        if self.parallel:
            return solve_affine(self.jacobians, r, jnp.zeros_like(r[0]))

        def step(x, inp):
            J, rt = inp
            x = J @ x + rt
            return x, x

        _, xs = jax.lax.scan(step, jnp.zeros_like(r[0]), (self.jacobians, r))
        return xs

    def rsolve(self, w):
        """``J⁻ᵀ w``: the reverse-time recursion ``y_t = w_t + J_{t+1}ᵀ y_{t+1}``, ``y_{T+1} = 0``."""
        w = jnp.asarray(w, self.jacobians.dtype)
        JT = jnp.swapaxes(self.jacobians, -1, -2)
        # Step t uses J_{t+1}^T; the last step (t = T) has no successor.
        A = jnp.concatenate([JT[1:], jnp.zeros_like(JT[:1])], axis=0)
        if self.parallel:
            return solve_affine(A[::-1], w[::-1], jnp.zeros_like(w[0]))[::-1]

        # Reverse scan: y_t = w_t + A_t y_{t+1}, where A_t multiplies the later y.
        def rstep(y_next, inp):
            At, wt = inp
            y = wt + At @ y_next
            return y, y

        _, ys = jax.lax.scan(rstep, jnp.zeros_like(w[0]), (A, w), reverse=True)
        return ys


def residual_operator(jacobians, *, parallel: bool = False) -> ResidualOperator:
    """Build a validated :class:`ResidualOperator` from a Jacobian sequence ``(T, D, D)``.

    References: PAPER.md §1.
    """
    return ResidualOperator(as_jacobians(jacobians), bool(parallel))


def jacobians_along(f, s0, states, inputs):
    """Dynamics Jacobians ``J_t = ∂f/∂s (s_{t−1}, u_t)`` along given states.

    Args:
        f: step function ``f(s_prev, u_t) -> s_t``.
        s0: initial state ``(D,)``.
        states: ``(..., T, D)``: ``s_1 … s_T`` (leading dimensions, e.g. the iterates of a
            traced solve, are mapped over).
        inputs: leading time axis of length T.

    Returns:
        ``(..., T, D, D)`` with ``[..., t-1, :, :] = J_t`` evaluated at ``(s_{t−1}, u_t)``.

    Raises:
        ValueError / TypeError: bad shapes or non-finite states.

    References: PAPER.md §1 (dynamics Jacobians).
    """
    if not callable(f):
        raise TypeError(f"f: expected a callable f(s_prev, u_t), got {type(f).__name__}")
    s0 = check_finite(as_float_array(s0, "s0"), "s0")
    states = check_finite(as_float_array(states, "states", s0.dtype), "states")
    if s0.ndim != 1:
        raise ValueError(f"s0: expected shape (D,), got shape {s0.shape}")
    if states.ndim < 2 or states.shape[-1] != s0.shape[0]:
        raise ValueError(f"states: expected shape (..., T, {s0.shape[0]}), got shape {states.shape}")
    T = states.shape[-2]
    for leaf in jax.tree_util.tree_leaves(inputs):
        if jnp.ndim(leaf) < 1 or jnp.shape(leaf)[0] != T:
            raise ValueError(f"inputs: expected a leading time axis of length T = {T}, got shape {jnp.shape(leaf)}")
    flat = states.reshape((-1, T, s0.shape[0]))
    out = _jacobians_core(f, s0, flat, inputs)
    return out.reshape(states.shape[:-2] + (T, s0.shape[0], s0.shape[0]))


@functools.partial(jax.jit, static_argnums=0)
def _jacobians_core(f, s0, flat, inputs):
    jac = jax.jacfwd(f, argnums=0)

    def one(traj):
        prev = jnp.concatenate([s0[None], traj[:-1]], axis=0)
        return jax.vmap(jac)(prev, inputs)

    return jax.vmap(one)(flat)
