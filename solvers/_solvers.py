"""The DEER family: solver objects that hold settings only.

Every solver plugs into the one driver loop of :func:`solvers.evaluate` through two methods:

* ``linearize(f, s_prev, inputs, states, iteration) -> (fs, aux)`` evaluates ``f`` once at every
  time step (``fs[t-1] = f(s_{t-1}, u_t)``) together with whatever the update needs (the
  Jacobians ``A_t`` for the Newton family, the gradient for gradient descent). The driver reuses
  ``fs`` for the residual and the merit, so ``f`` is evaluated once per iteration.
* ``update(s0, states, fs, aux) -> new_states`` applies one iteration.

The Newton family shares one update: ``s_t = A_t s_{t-1} + (f_t(s^{(i)}_{t-1}) − A_t s^{(i)}_{t-1})``,
solved for all t by the parallel affine scan in correction form (``δ_t = s_t − s^{(i)}_t`` obeys
``δ_t = A_t δ_{t-1} − r_t``, ``δ_0 = 0``, with the residual ``r_t = s^{(i)}_t − f_t``); members
differ only in how they build ``A_t``.

References: PAPER.md §2 (table of the family).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from ._jacobian import JACOBIAN_MODES, jacobians
from ._pcr import solve_affine_pcr
from ._scan import SCAN_METHODS, solve_affine
from ._sharding import ShardedScan

__all__ = [
    "AbstractSolver",
    "DEER",
    "QuasiDEER",
    "DampedDEER",
    "Picard",
    "Jacobi",
    "GradientDescent",
    "DeepPCR",
    "Sequential",
    "shift",
]


def shift(s0, states):
    """The previous states ``(s_0, s_1, …, s_{T-1})`` of a trajectory ``(s_1, …, s_T)``."""
    return jnp.concatenate([s0[None], states[:-1]], axis=0)


def _is_concrete_number(x) -> bool:
    if isinstance(x, (bool, int, float, np.number)):
        return True
    return isinstance(x, (np.ndarray, jax.Array)) and not isinstance(x, jax.core.Tracer)


def _check_jacobian(jacobian):
    if jacobian not in JACOBIAN_MODES:
        raise ValueError(f"jacobian: expected one of {JACOBIAN_MODES}, got {jacobian!r}")


def _check_scan(scan):
    # The linear solver of the Newton step (solvers.solve_affine's method); "auto" = fastest
    # measured for the backend (see solvers.default_scan_method).
    if not (isinstance(scan, ShardedScan) or scan in SCAN_METHODS):
        raise ValueError(f"scan: expected one of {SCAN_METHODS} or a ShardedScan, got {scan!r}")


def _register(cls, data=(), meta=()):
    jax.tree_util.register_dataclass(cls, data_fields=list(data), meta_fields=list(meta))
    return cls


class AbstractSolver:
    """Base class of every solver. Subclasses hold settings only, never the user's function.

    Attributes:
        causal: after k iterations the first k states are exact, so one run gives the iteration
            count of every prefix (PAPER.md §2, causality).
    """

    causal: ClassVar[bool] = True
    name: ClassVar[str] = "abstract"

    def linearize(self, f, s_prev, inputs, states, iteration):  # pragma: no cover - interface
        raise NotImplementedError

    def update(self, s0, states, fs, aux):  # pragma: no cover - interface
        raise NotImplementedError

    def default_max_iters(self, T: int) -> int:
        """A scan solver is exact after T iterations (causality)."""
        return T


class _NewtonFamily(AbstractSolver):
    """Shared update: ``s_t = A_t s_{t-1} + (fs_t − A_t s^{(i)}_{t-1})``, solved by a parallel scan
    in correction form (see :meth:`update`)."""

    diagonal_coefficients: ClassVar[bool] = False

    def solve_linear(self, A, b, s0):
        scan = getattr(self, "scan", "auto")
        if isinstance(scan, ShardedScan):
            return scan.solve(A, b, s0, diagonal=self.diagonal_coefficients)
        return solve_affine(A, b, s0, diagonal=self.diagonal_coefficients, method=scan)

    def update(self, s0, states, fs, A):
        # The step in correction form: with δ_t = s_t − s^{(i)}_t the recursion
        # s_t = A_t s_{t−1} + (fs_t − A_t s^{(i)}_{t−1}) reads δ_t = A_t δ_{t−1} + (fs_t − s^{(i)}_t),
        # δ_0 = 0. Same iterate; no A_t s^{(i)}_{t−1} products (T·D² work saved), and the
        # Jacobians have a single consumer, the scan (a batched solve then needs no extra copy of them).
        delta = self.solve_linear(A, fs - states, jnp.zeros_like(s0))
        return states + delta


@dataclasses.dataclass(frozen=True)
class DEER(_NewtonFamily):
    """Parallel Newton (DEER): ``A_t = J_t(s^{(i)}_{t-1})``, dense Jacobians by forward mode.

    Quadratic convergence near the solution, exact after at most T iterations.
    Memory O(T·D²), work O(T·D³) per iteration.

    ``scan`` chooses the linear solver of each Newton step (``solvers.solve_affine``'s
    ``method``): ``"auto"`` (the fastest measured for the backend, see
    ``solvers.default_scan_method``), ``"associative"``, ``"vector"``, ``"chunked"`` or
    ``"sequential"``; :class:`DampedDEER` and :class:`QuasiDEER` take the same setting.

    ``jacobian`` chooses how the Jacobians are formed: ``"forward"`` (D Jacobian–vector
    products per step), ``"reverse"`` (D vector–Jacobian products) or ``"auto"`` (the one with
    fewer estimated operations for this f and these shapes, decided at trace time by
    ``solvers.jacobian_costs``; e.g. reverse for the mean-field RNN ``W tanh(s) + u``, forward
    for ``tanh(W s + u)``). Same Jacobians up to rounding; docs/performance.md has the timings.

    References: PAPER.md §2; Lim et al. (2024), DEER.
    """

    scan: str = "auto"
    jacobian: str = "auto"
    name: ClassVar[str] = "deer"

    def __post_init__(self):
        _check_scan(self.scan)
        _check_jacobian(self.jacobian)

    def linearize(self, f, s_prev, inputs, states, iteration):
        return jacobians(f, s_prev, inputs, self.jacobian)


@dataclasses.dataclass(frozen=True)
class DampedDEER(_NewtonFamily):
    """Damped DEER: ``A_t = (1 − damping) J_t`` with ``0 ≤ damping ≤ 1`` (1 gives Jacobi).

    ``scan`` and ``jacobian`` as for :class:`DEER`.

    References: PAPER.md §2 (table).
    """

    damping: float = 0.5
    scan: str = "auto"
    jacobian: str = "auto"
    name: ClassVar[str] = "damped"

    def __post_init__(self):
        _check_scan(self.scan)
        _check_jacobian(self.jacobian)
        if _is_concrete_number(self.damping):
            d = np.asarray(self.damping)
            if d.shape != () or not np.isfinite(d) or not 0.0 <= float(d) <= 1.0:
                raise ValueError(f"damping: expected a number in [0, 1], got {self.damping!r}")

    def linearize(self, f, s_prev, inputs, states, iteration):
        fs, J = DEER.linearize(self, f, s_prev, inputs, states, iteration)
        return fs, (1.0 - self.damping) * J


_DIAGONALS = ("exact", "hutchinson")


@dataclasses.dataclass(frozen=True)
class QuasiDEER(_NewtonFamily):
    """Quasi-DEER: ``A_t = diag(J_t)``, memory O(T·D).

    ``diagonal="exact"`` forms the diagonal from D forward-mode products of one coordinate each,
    over blocks of time steps in turn (at most 2^18 tangent entries at once), so no (T, D, D)
    array is held: memory O(T·D) (docs/performance.md). ``diagonal="hutchinson"`` estimates it as
    ``mean_k v_k ⊙ (J_t v_k)`` over ``num_samples`` Rademacher vectors ``v_k`` (unbiased), with a
    fresh draw per iteration from ``fold_in(key, iteration)``; it never builds a D×D matrix
    (memory O(T·D·num_samples), tested on the jaxpr).
    Both converge to the same trajectory (every choice of ``A_t`` has the same fixed point).

    Raises:
        ValueError: unknown ``diagonal``, missing ``key`` for Hutchinson, ``num_samples < 1``.

    References: PAPER.md §2 (table); Gonzalez et al. (2024), quasi-DEER.
    """

    diagonal: str = "exact"
    key: jax.Array | None = None
    num_samples: int = 1
    scan: str = "auto"
    diagonal_coefficients: ClassVar[bool] = True
    name: ClassVar[str] = "quasi"

    def __post_init__(self):
        _check_scan(self.scan)
        if self.diagonal not in _DIAGONALS:
            raise ValueError(f"diagonal: expected one of {_DIAGONALS}, got {self.diagonal!r}")
        if self.diagonal == "hutchinson" and self.key is None:
            raise ValueError(
                "key: the Hutchinson diagonal needs a PRNG key, e.g. "
                "QuasiDEER('hutchinson', key=jax.random.key(0)); got None"
            )
        if not isinstance(self.num_samples, int) or self.num_samples < 1:
            raise ValueError(f"num_samples: expected an integer >= 1, got {self.num_samples!r}")

    def linearize(self, f, s_prev, inputs, states, iteration):
        if self.diagonal == "exact":
            # Blocks of time steps in turn: the D one-hot tangents of a block are pushed together
            # (XLA may hold them as (block, D, D)), so memory is O(2^18 + T·D), not O(T·D²).
            T, D = s_prev.shape
            block = min(T, max(1, _DIAGONAL_BLOCK_ELEMENTS // (D * D)))
            step = lambda a: _exact_diagonal(f, *a)  # noqa: E731
            return jax.lax.map(step, (s_prev, inputs), batch_size=block)
        key = jax.random.fold_in(self.key, iteration)
        probes = jax.random.rademacher(key, (self.num_samples,) + s_prev.shape, s_prev.dtype)
        return _hutchinson_diagonal(f, s_prev, inputs, probes)


_DIAGONAL_BLOCK_ELEMENTS = 2**18


def _exact_diagonal(f, s_prev, u):
    D = s_prev.shape[-1]

    def push(i):
        v = jax.nn.one_hot(i, D, dtype=s_prev.dtype)
        value, jv = jax.jvp(lambda s: f(s, u), (s_prev,), (v,))
        return value, jv[i]

    value, diag = jax.vmap(push, out_axes=(None, 0))(jnp.arange(D))
    return value, diag


def _hutchinson_diagonal(f, s_prev, inputs, probes):
    fbatch = jax.vmap(f)

    def push(v):
        return jax.jvp(lambda s: fbatch(s, inputs), (s_prev,), (v,))

    fs, jv = jax.vmap(push, out_axes=(None, 0))(probes)
    return fs, jnp.mean(probes * jv, axis=0)


@dataclasses.dataclass(frozen=True)
class Picard(_NewtonFamily):
    """Picard iteration: ``A_t = I``, so the update is a cumulative sum.

    References: PAPER.md §2 (table).
    """

    diagonal_coefficients: ClassVar[bool] = True
    name: ClassVar[str] = "picard"

    def linearize(self, f, s_prev, inputs, states, iteration):
        return jax.vmap(f)(s_prev, inputs), None

    def update(self, s0, states, fs, aux):
        return s0 + jnp.cumsum(fs - shift(s0, states), axis=0)


@dataclasses.dataclass(frozen=True)
class Jacobi(AbstractSolver):
    """Jacobi iteration: ``A_t = 0``, i.e. ``s_t ← f(s_{t-1}, u_t)`` for all t at once (no scan).

    References: PAPER.md §2 (table).
    """

    name: ClassVar[str] = "jacobi"

    def linearize(self, f, s_prev, inputs, states, iteration):
        return jax.vmap(f)(s_prev, inputs), None

    def update(self, s0, states, fs, aux):
        return fs


@dataclasses.dataclass(frozen=True)
class GradientDescent(AbstractSolver):
    """Gradient descent on the merit: ``s ← s − step_size · ∇L(s)``, ``∇L = J(s)ᵀ r(s)``.

    Not causal (the gradient at s_t involves r_{t+1}), so prefix counts (``lengths``) are refused.
    Default iteration limit ``10·T``.

    References: PAPER.md §2 (table), §5.
    """

    step_size: float = 0.1
    causal: ClassVar[bool] = False
    name: ClassVar[str] = "gd"

    def __post_init__(self):
        if _is_concrete_number(self.step_size):
            a = np.asarray(self.step_size)
            if a.shape != () or not np.isfinite(a) or float(a) <= 0:
                raise ValueError(
                    f"step_size: expected a finite number > 0, got {self.step_size!r}"
                )

    def default_max_iters(self, T: int) -> int:
        return 10 * T

    def linearize(self, f, s_prev, inputs, states, iteration):
        fs, pullback = jax.vjp(lambda sp: jax.vmap(f)(sp, inputs), s_prev)
        r = states - fs
        (back,) = pullback(r)
        # ∂L/∂s_t = r_t − J_{t+1}ᵀ r_{t+1}; back[t] is the pull-back through s_prev[t] = s_t.
        grad = r - jnp.concatenate([back[1:], jnp.zeros_like(back[:1])], axis=0)
        return fs, grad

    def update(self, s0, states, fs, grad):
        return states - self.step_size * grad


@dataclasses.dataclass(frozen=True)
class DeepPCR(DEER):
    """DEER's Newton step with the block-bidiagonal system solved by parallel cyclic reduction.

    Same iterates as :class:`DEER` up to rounding; PCR does O(T log T) block products instead of
    the scan's O(T).

    References: PAPER.md §2; Danieli et al. (2023), DeepPCR.
    """

    name: ClassVar[str] = "deeppcr"

    def solve_linear(self, A, b, s0):
        return solve_affine_pcr(A, b, s0)


@dataclasses.dataclass(frozen=True)
class Sequential(AbstractSolver):
    """The sequential ``lax.scan`` rollout; reported converged with ``num_iters = T`` (its steps).

    References: PAPER.md §2 (table).
    """

    name: ClassVar[str] = "sequential"


_register(DEER, meta=("scan", "jacobian"))
_register(DeepPCR, meta=("scan", "jacobian"))
_register(DampedDEER, data=("damping",), meta=("scan", "jacobian"))
_register(QuasiDEER, data=("key",), meta=("diagonal", "num_samples", "scan"))
_register(Picard)
_register(Jacobi)
_register(GradientDescent, data=("step_size",))
_register(Sequential)
