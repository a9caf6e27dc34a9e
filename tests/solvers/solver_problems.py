"""Test problems for the solvers tests, each with an independent numpy oracle.

Every problem holds a JAX step function ``f`` (what the solvers evaluate) and a numpy step
function ``f_np`` written separately (the oracle: its rollout is a plain Python loop and never
touches the code under test), plus ``s0`` and ``inputs`` (an array or a dict of arrays).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import solvers


@dataclasses.dataclass(frozen=True)
class Problem:
    name: str
    f: Callable
    f_np: Callable
    jac_np: Callable | None  # ∂f/∂s_prev in numpy, where a hand-written Newton step needs it
    s0: np.ndarray
    inputs: Any
    easy: bool  # contracting: gradient descent and the slow solvers converge quickly
    init: np.ndarray | None = None  # an initial guess the paper would use (None: the default)
    make_f: Callable | None = None  # make_f(dtype) -> f with its parameters in that dtype

    @property
    def T(self) -> int:
        return jax.tree_util.tree_leaves(self.inputs)[0].shape[0]

    @property
    def D(self) -> int:
        return self.s0.shape[0]


def input_at(inputs, t):
    """``u_{t+1}`` in numpy: the t-th entry (0-based) of every leaf."""
    return jax.tree_util.tree_map(lambda x: np.asarray(x)[t], inputs)


def rollout_np(f_np, s0, inputs):
    """The sequential rollout as a plain numpy loop: ``(T, D)`` states ``s_1 … s_T``."""
    T = jax.tree_util.tree_leaves(inputs)[0].shape[0]
    s = np.asarray(s0, dtype=np.float64)
    out = []
    for t in range(T):
        s = np.asarray(f_np(s, input_at(inputs, t)), dtype=np.float64)
        out.append(s)
    return np.stack(out)


def residual_np(f_np, s0, states, inputs):
    states = np.asarray(states, dtype=np.float64)
    prev = np.concatenate([np.asarray(s0, np.float64)[None], states[:-1]])
    fs = np.stack([f_np(prev[t], input_at(inputs, t)) for t in range(states.shape[0])])
    return states - fs


def merit_np(f_np, s0, states, inputs):
    """``L(s)/T = ½ Σ_t ‖s_t − f(s_{t−1}, u_t)‖² / T`` computed in numpy."""
    r = residual_np(f_np, s0, states, inputs)
    return 0.5 * np.sum(r * r) / r.shape[0]


# ---------------------------------------------------------------------------------------------
# Problems


def affine(T=24, D=3, seed=0, rho=0.6):
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(D, D))
    M *= rho / np.linalg.norm(M, 2)
    b = rng.normal(size=(T, D))
    s0 = rng.normal(size=D)
    Mj = jnp.asarray(M)
    return Problem(
        name="affine",
        f=lambda s, u: Mj @ s + u,
        f_np=lambda s, u: M @ s + u,
        jac_np=lambda s, u: M,
        s0=s0,
        inputs=b,
        easy=True,
    )


def mean_field_weights(D, g, rng):
    W = rng.normal(size=(D, D)) * g / np.sqrt(D)
    np.fill_diagonal(W, 0.0)
    return W


def sinusoidal_inputs(T, D, rng):
    A = rng.uniform(0, 0.2, D)
    om = rng.uniform(0.5, 3, D)
    ph = rng.uniform(0, 2 * np.pi, D)
    t = np.arange(1, T + 1)[:, None]
    return A * np.sin(om * t + ph)


def tanh_rnn(T=32, D=4, g=0.5, seed=0, name=None):
    """Mean-field RNN ``s_t = W tanh(s_{t-1}) + u_t`` (PAPER.md §6)."""
    rng = np.random.default_rng(seed)
    W = mean_field_weights(D, g, rng)
    u = sinusoidal_inputs(T, D, rng)
    s0 = rng.uniform(-1, 1, D)
    Wj = jnp.asarray(W)
    return Problem(
        name=name or f"tanh_rnn_g{g}",
        f=lambda s, u: Wj @ jnp.tanh(s) + u,
        f_np=lambda s, u: W @ np.tanh(s) + u,
        jac_np=lambda s, u: W * (1.0 - np.tanh(s) ** 2)[None, :],
        s0=s0,
        inputs=u,
        easy=g < 1,
        init=rng.uniform(-1, 1, (T, D)),
        make_f=lambda dtype: _rnn_step(jnp.asarray(W, dtype)),
    )


def _rnn_step(W):
    return lambda s, u: W @ jnp.tanh(s) + u


_WELLS = dict(
    weights=np.array([0.49, 0.51]),
    means=np.array([[-1.4, 0.0], [1.6, 0.0]]),
    variances=np.array([[0.45, 0.45], [0.54, 0.45]]),
)


def _neg_log_density_jax(x):
    w, m, v = (jnp.asarray(_WELLS[k]) for k in ("weights", "means", "variances"))
    log_comp = -0.5 * jnp.sum((x - m) ** 2 / v + jnp.log(2 * jnp.pi * v), axis=-1)
    return -jax.scipy.special.logsumexp(log_comp, b=w)


def _grad_potential_np(x):
    # ∇(−log p) = Σ_k π_k(x) (x − m_k)/v_k with responsibilities π_k ∝ w_k N_k(x).
    w, m, v = _WELLS["weights"], _WELLS["means"], _WELLS["variances"]
    log_comp = np.log(w) - 0.5 * np.sum((x - m) ** 2 / v + np.log(2 * np.pi * v), axis=-1)
    resp = np.exp(log_comp - log_comp.max())
    resp /= resp.sum()
    return np.sum(resp[:, None] * (x - m) / v, axis=0)


def langevin(T=64, seed=0, eps=0.01):
    """Two-well Langevin step ``s_{t+1} = s_t − ε∇ϕ(s_t) + √(2ε) w_t`` (PAPER.md §6).

    The noise ``w_t`` is drawn here and supplied as the inputs, so the map is deterministic.
    """
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=(T, 2))
    grad = jax.grad(_neg_log_density_jax)
    scale = np.sqrt(2 * eps)
    return Problem(
        name="langevin",
        f=lambda s, w: s - eps * grad(s) + scale * w,
        f_np=lambda s, w: s - eps * _grad_potential_np(s) + scale * w,
        jac_np=None,
        s0=np.zeros(2),
        inputs=noise,
        easy=False,
        init=rng.normal(size=(T, 2)),
    )


def pytree_inputs(T=20, D=3, seed=0):
    """``s_t = gain_t · tanh(W s_{t-1}) + drive_t`` with inputs ``{"drive": (T, D), "gain": (T,)}``."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(D, D)) / np.sqrt(D)
    inputs = {"drive": rng.normal(size=(T, D)), "gain": rng.uniform(0.1, 0.5, T)}
    s0 = rng.normal(size=D)
    Wj = jnp.asarray(W)
    return Problem(
        name="pytree",
        f=lambda s, u: u["gain"] * jnp.tanh(Wj @ s) + u["drive"],
        f_np=lambda s, u: u["gain"] * np.tanh(W @ s) + u["drive"],
        jac_np=None,
        s0=s0,
        inputs=inputs,
        easy=True,
    )


@functools.cache
def standard_problems():
    """Built once per session so that jit caches (keyed on ``f``) are shared between tests."""
    return (
        affine(),
        tanh_rnn(g=0.5, name="tanh_rnn_small_gain"),
        tanh_rnn(T=40, D=16, g=3.0, seed=1, name="tanh_rnn_large_gain"),
        langevin(),
        pytree_inputs(),
    )


def problem(name):
    return {p.name: p for p in standard_problems()}[name]


# ---------------------------------------------------------------------------------------------
# Solvers


def scan_solvers():
    """The causal solvers (exact after T iterations), as (id, solver) pairs."""
    return [
        ("deer", solvers.DEER()),
        ("quasi_exact", solvers.QuasiDEER()),
        ("quasi_hutchinson", solvers.QuasiDEER("hutchinson", key=jax.random.key(7), num_samples=2)),
        ("damped", solvers.DampedDEER(0.3)),
        ("picard", solvers.Picard()),
        ("jacobi", solvers.Jacobi()),
        ("deeppcr", solvers.DeepPCR()),
        # "auto" picks the sequential matrix–vector loop on CPU: cover the parallel scans too.
        ("deer_associative", solvers.DEER(scan="associative")),
        ("quasi_vector", solvers.QuasiDEER(scan="vector")),
    ]


def as_jax(tree, dtype=jnp.float64):
    return jax.tree_util.tree_map(lambda x: jnp.asarray(x, dtype), tree)


def fd_jacobian_np(f_np, s, u, h=1e-6):
    """Central finite-difference Jacobian ``∂f/∂s`` of a numpy step function (error O(h²))."""
    s = np.asarray(s, dtype=np.float64)
    cols = []
    for j in range(s.shape[0]):
        e = np.zeros_like(s)
        e[j] = h
        cols.append((np.asarray(f_np(s + e, u)) - np.asarray(f_np(s - e, u))) / (2 * h))
    return np.stack(cols, axis=-1)
