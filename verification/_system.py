"""A state space model bundled with its data: :class:`System`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp

from solvers import jacobians, shift

__all__ = ["System", "GUESSES"]

GUESSES = ("s0", "zeros", "normal", "uniform")


@dataclasses.dataclass(frozen=True, eq=False)
class System:
    """A nonlinear SSM ``s_t = f(s_{t-1}, u_t)`` with its initial state and inputs.

    Attributes:
        name: short identifier (used in reports).
        f: step function ``f(s_prev, u_t) -> s_t`` on one time step.
        s0: initial state ``(D,)``.
        inputs: array or pytree with leading axis T.
        dt: time step of the underlying flow (continuous-time exponent = discrete / dt); 1 for maps.
        params: the parameters that define the system (reported, not used by the solvers).
        description: one line for reports.
        guess: the paper's initial guess for parallel solvers: ``"s0"`` (s0 repeated), ``"zeros"``,
            ``"normal"`` (standard normal) or ``"uniform"`` (U[−1, 1]).
    """

    name: str
    f: Callable
    s0: jax.Array
    inputs: Any
    dt: float = 1.0
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    description: str = ""
    guess: str = "s0"

    def __post_init__(self):
        s0 = jnp.asarray(self.s0)
        if s0.ndim != 1:
            raise ValueError(f"s0: expected shape (D,), got shape {s0.shape}")
        object.__setattr__(self, "s0", s0)
        if self.guess not in GUESSES:
            raise ValueError(f"guess: expected one of {GUESSES}, got {self.guess!r}")
        if not callable(self.f):
            raise TypeError(f"f: expected a callable f(s_prev, u_t) -> s_t, got {self.f!r}")
        if not (float(self.dt) > 0):
            raise ValueError(f"dt: expected a number > 0, got {self.dt!r}")
        leaves = jax.tree_util.tree_leaves(self.inputs)
        if not leaves or any(getattr(x, "ndim", 0) < 1 for x in leaves):
            raise ValueError("inputs: expected an array or pytree of arrays with a leading time axis")

    @property
    def T(self) -> int:
        return int(jax.tree_util.tree_leaves(self.inputs)[0].shape[0])

    @property
    def D(self) -> int:
        return int(self.s0.shape[0])

    def truncate(self, T: int) -> System:
        """The same system on its first ``T`` steps."""
        if not 1 <= T <= self.T:
            raise ValueError(f"T: expected an integer in [1, {self.T}], got {T!r}")
        inputs = jax.tree_util.tree_map(lambda x: x[:T], self.inputs)
        return dataclasses.replace(self, inputs=inputs)

    def trajectory(self) -> jax.Array:
        """The sequential rollout ``s_1 … s_T``, shape ``(T, D)``."""
        return _rollout(self.f, self.s0, self.inputs)

    def jacobians(self, states: jax.Array | None = None) -> jax.Array:
        """``J_t = ∂f/∂s`` at ``(s_{t-1}, u_t)`` for t = 1..T, shape ``(T, D, D)``.

        Args:
            states: the trajectory to linearise along (default: the sequential rollout).
        """
        if states is None:
            states = self.trajectory()
        return _jacobians(self.f, self.s0, states, self.inputs)

    def initial_guess(self, key: jax.Array | None = None) -> jax.Array:
        """The system's initial guess ``(T, D)`` for parallel solvers (see ``guess``)."""
        shape, dtype = (self.T, self.D), self.s0.dtype
        if self.guess == "s0":
            return jnp.broadcast_to(self.s0, shape)
        if self.guess == "zeros":
            return jnp.zeros(shape, dtype)
        if key is None:
            raise ValueError(f"key: the '{self.guess}' initial guess of {self.name} needs a PRNG key")
        if self.guess == "normal":
            return jax.random.normal(key, shape, dtype)
        return jax.random.uniform(key, shape, dtype, -1.0, 1.0)


def _rollout_core(f, s0, inputs):
    def step(s, u):
        nxt = f(s, u)
        return nxt, nxt

    return jax.lax.scan(step, s0, inputs)[1]


def _jacobians_core(f, s0, states, inputs):
    return jacobians(f, shift(s0, states), inputs)[1]


_rollout = jax.jit(_rollout_core, static_argnums=0)
_jacobians = jax.jit(_jacobians_core, static_argnums=0)
