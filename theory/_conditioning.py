"""Singular values of the residual Jacobian: the PL constant and the condition number.

``σ_min(J)`` comes from a dense SVD for small T·D, or from Lanczos on ``(JᵀJ)⁻¹ = J⁻¹J⁻ᵀ``
(matrix-free, each product two O(T·D²) recursions) beyond; ``σ_max(J)`` likewise from Lanczos on
``JᵀJ``. The iterative answers carry an accuracy from the Lanczos residual.

References: PAPER.md §4, Proposition 1 (μ = inf σ_min(J)²) and Theorem 2.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from ._operators import ResidualOperator, residual_jacobian
from ._validate import (
    as_float_array,
    as_jacobians,
    check_int,
    check_key,
    check_range,
    pytree_dataclass,
)

__all__ = [
    "SingularValueEstimate",
    "sigma_min",
    "sigma_max",
    "pl_constant",
    "condition_number",
]

_DENSE_LIMIT = 1024  # T·D up to which method="auto" uses a dense SVD
_METHODS = ("auto", "dense", "lanczos")


@pytree_dataclass(meta=("method",))
class SingularValueEstimate:
    """An extreme singular value of the residual Jacobian and its accuracy.

    Attributes:
        value: the estimate.
        accuracy: an estimate of ``|value − exact|``: for ``"dense"`` the SVD's backward-error
            scale ``n·eps·σ_max``; for ``"lanczos"`` the bound implied by the Ritz residual
            (an eigenvalue of the operator lies within the residual of the Ritz value).
        iterations: Lanczos matrix-vector products used (0 for dense).
        method: ``"dense"`` or ``"lanczos"``.
    """

    value: jax.Array
    accuracy: jax.Array
    iterations: jax.Array
    method: str

    def __float__(self):
        return float(self.value)


def _pick_method(method, n, key):
    if method not in _METHODS:
        raise ValueError(f"method: expected one of {_METHODS}, got {method!r}")
    if method == "auto":
        method = "dense" if n <= _DENSE_LIMIT else "lanczos"
        if method == "lanczos" and key is None:
            raise ValueError(
                f"key: T·D = {n} > {_DENSE_LIMIT}, so method='auto' uses Lanczos, whose start vector "
                "is random; pass key=jax.random.key(...) (or method='dense' for an exact SVD), got None"
            )
    if method == "lanczos":
        check_key(key)
    return method


def _lanczos_top(apply, v0, krylov_dim: int, max_restarts: int, rtol):
    """Largest eigenvalue of a symmetric PSD operator by restarted Lanczos with full
    reorthogonalisation. Returns (theta, residual, matvecs); ``|θ − λ| ≤ residual`` for some
    eigenvalue λ, and θ ≤ λ_max."""
    n = v0.shape[0]
    m = krylov_dim
    dtype = v0.dtype
    eps = jnp.finfo(dtype).eps

    def lanczos(v):
        V = jnp.zeros((m + 1, n), dtype).at[0].set(v / jnp.linalg.norm(v))
        alpha = jnp.zeros((m,), dtype)
        beta = jnp.zeros((m,), dtype)
        raw = jnp.zeros((m,), dtype)  # unthresholded β_j: the Ritz residuals use them
        ends = jnp.zeros((m,), bool)  # where the tridiagonal matrix splits (breakdown)
        rows = jnp.arange(m + 1)

        def body(j, state):
            V, alpha, beta, raw, ends, scale = state
            v = V[j]
            w = apply(v)
            a = v @ w
            w = w - a * v - jnp.where(j > 0, beta[j - 1], 0.0) * V[jnp.maximum(j - 1, 0)]
            for _ in range(2):  # full reorthogonalisation, twice is enough
                c = jnp.where(rows <= j, V @ w, 0.0)
                w = w - c @ V
            b = jnp.linalg.norm(w)
            scale = jnp.maximum(scale, jnp.abs(a) + b)
            ok = b > 10 * eps * scale  # otherwise an invariant subspace was found
            V = V.at[j + 1].set(jnp.where(ok, w / jnp.where(ok, b, 1.0), 0.0))
            return (V, alpha.at[j].set(a), beta.at[j].set(jnp.where(ok, b, 0.0)), raw.at[j].set(b),
                    ends.at[j].set(~ok | (j == m - 1)), scale)

        init = (V, alpha, beta, raw, ends, jnp.zeros((), dtype))
        V, alpha, beta, raw, ends, _ = jax.lax.fori_loop(0, m, body, init)
        Tm = jnp.diag(alpha) + jnp.diag(beta[:-1], 1) + jnp.diag(beta[:-1], -1)
        evals, evecs = jnp.linalg.eigh(Tm)
        z = evecs[:, -1]
        theta = evals[-1]
        # ‖A y − θ y‖ for the Ritz vector y: the neglected couplings at every split point.
        resid = jnp.sqrt(jnp.sum(jnp.where(ends, (raw * z) ** 2, 0.0)))
        return theta, resid, V[:m].T @ z

    def cond(state):
        it, theta, resid, _ = state
        return (it == 0) | ((it < max_restarts + 1) & (resid > rtol * jnp.abs(theta)))

    def body(state):
        it, _, _, v = state
        theta, resid, v = lanczos(v)
        return it + 1, theta, resid, v

    init = (jnp.zeros((), jnp.int32), jnp.zeros((), dtype), jnp.full((), jnp.inf, dtype), v0)
    it, theta, resid, _ = jax.lax.while_loop(cond, body, init)
    return theta, resid, it * m


@functools.partial(jax.jit, static_argnums=(2, 3, 4, 6))
def _iterative(jacobians, key, which, krylov_dim, max_restarts, tol, parallel):
    op = ResidualOperator(jacobians, parallel)
    T, D, _ = jacobians.shape
    n = T * D
    dtype = jacobians.dtype
    m = min(n, krylov_dim)
    rtol = jnp.asarray(tol, dtype)
    v0 = jax.random.normal(key, (n,), dtype)
    if which == "max":
        apply = lambda v: op.rmatvec(op.matvec(v.reshape(T, D))).reshape(n)  # noqa: E731
    else:
        apply = lambda v: op.solve(op.rsolve(v.reshape(T, D))).reshape(n)  # noqa: E731
    theta, resid, iters = _lanczos_top(apply, v0, m, max_restarts, rtol)
    # Some eigenvalue lies in [θ − r, θ + r]; in relative terms for σ = θ^{±1/2} (stable for
    # tiny r/θ), never below the rounding level eps·σ.
    rel = resid / theta
    eps = jnp.finfo(dtype).eps
    if which == "max":
        value = jnp.sqrt(theta)
        accuracy = value * jnp.maximum(jnp.expm1(0.5 * jnp.log1p(rel)), eps)
    else:
        value = 1.0 / jnp.sqrt(theta)
        safe = jnp.where(rel < 1, rel, 0.0)
        accuracy = jnp.where(rel < 1, value * jnp.maximum(jnp.expm1(-0.5 * jnp.log1p(-safe)), eps), jnp.inf)
    return SingularValueEstimate(value, accuracy, iters, "lanczos")


@jax.jit
def _svals(jacobians):
    return jnp.linalg.svd(residual_jacobian(jacobians), compute_uv=False)


def _dense(jacobians, which):
    s = _svals(jacobians)
    n = s.shape[0]
    accuracy = n * jnp.finfo(s.dtype).eps * s[0]
    value = s[0] if which == "max" else s[-1]
    return SingularValueEstimate(value, accuracy, jnp.zeros((), jnp.int32), "dense")


def _sigma(jacobians, which, method, key, krylov_dim, max_restarts, tol, parallel):
    jacobians = as_jacobians(jacobians)
    T, D, _ = jacobians.shape
    method = _pick_method(method, T * D, key)
    if method == "dense":
        return _dense(jacobians, which)
    krylov_dim = check_int(krylov_dim, "krylov_dim", minimum=2)
    max_restarts = check_int(max_restarts, "max_restarts", minimum=0)
    rtol = 1e3 * float(jnp.finfo(jacobians.dtype).eps) if tol is None else tol
    check_range(as_float_array(rtol, "tol"), "tol", low=0, low_open=True)
    return _iterative(jacobians, key, which, krylov_dim, max_restarts, rtol, bool(parallel))


def sigma_min(jacobians, *, method: str = "auto", key=None, krylov_dim: int = 40,
              max_restarts: int = 30, tol=None, parallel: bool = False) -> SingularValueEstimate:
    """Smallest singular value of the residual Jacobian J of a Jacobian sequence.

    ``σ_min(J) = 1/‖J⁻¹‖``; its square is the PL constant at these states (Proposition 1).
    ``"dense"``: SVD of the TD×TD matrix. ``"lanczos"``: restarted Lanczos with full
    reorthogonalisation on ``J⁻¹J⁻ᵀ`` (largest eigenvalue ``1/σ_min²``), matrix-free, stopping when
    the Ritz residual is below ``tol`` relative (default ``1000·eps``). ``"auto"``: dense when
    T·D ≤ 1024.

    Args:
        jacobians: ``(T, D, D)``; ``J_1`` is not used (it does not enter J).
        method: ``"auto"``, ``"dense"`` or ``"lanczos"``.
        key: PRNG key for the Lanczos start vector (required when Lanczos runs).
        krylov_dim: Lanczos vectors per restart (capped at T·D).
        max_restarts: restarts after the first Lanczos run.
        tol: relative residual tolerance for Lanczos.
        parallel: use the associative-scan solves (O(log T) depth) inside Lanczos.

    Returns:
        :class:`SingularValueEstimate` (``.value``, ``.accuracy``).

    Raises:
        ValueError / TypeError: bad shapes, non-finite values, unknown method, missing key.

    References: PAPER.md §4, Proposition 1 and Theorem 2.
    """
    return _sigma(jacobians, "min", method, key, krylov_dim, max_restarts, tol, parallel)


def sigma_max(jacobians, *, method: str = "auto", key=None, krylov_dim: int = 40,
              max_restarts: int = 30, tol=None, parallel: bool = False) -> SingularValueEstimate:
    """Largest singular value of the residual Jacobian J (dense SVD or Lanczos on JᵀJ).

    ``1 ≤ sqrt(1 + max_{t≥2} ‖J_t‖²) ≤ σ_max(J) ≤ 1 + max_{t≥2} ‖J_t‖`` (see
    :func:`sigma_max_bounds`). Arguments and returns as :func:`sigma_min`.

    References: PAPER.md §4, "Largest singular value".
    """
    return _sigma(jacobians, "max", method, key, krylov_dim, max_restarts, tol, parallel)


def pl_constant(jacobians, *, method: str = "auto", key=None, **kwargs):
    """PL constant over a set of states: ``μ = min σ_min(J(s))²`` over the sequences given.

    Args:
        jacobians: ``(..., T, D, D)``; every leading index is one set of states (for example one
            iterate of a traced solve, see :func:`jacobians_along`).
        method, key, kwargs: as :func:`sigma_min` (with Lanczos, one key is split over the set).

    Returns:
        Scalar array μ.

    Raises:
        ValueError / TypeError: as :func:`sigma_min`.

    References: PAPER.md §4, Proposition 1.
    """
    jacobians = as_jacobians(jacobians, batch=True)
    T, D = jacobians.shape[-3], jacobians.shape[-1]
    flat = jacobians.reshape((-1, T, D, D))
    method = _pick_method(method, T * D, key)
    if method == "dense":
        values = jax.vmap(lambda J: _dense(J, "min").value)(flat)
    else:
        keys = jax.random.split(key, flat.shape[0])
        values = jnp.stack([sigma_min(J, method=method, key=k, **kwargs).value
                            for J, k in zip(flat, keys, strict=True)])
    return jnp.min(values) ** 2


def condition_number(jacobians, *, method: str = "auto", key=None, **kwargs):
    """Condition number ``κ(J) = σ_max(J)/σ_min(J)`` of the residual Jacobian.

    Args:
        jacobians: ``(T, D, D)``.
        method, key, kwargs: as :func:`sigma_min` (one key is split for the two Lanczos runs).

    Returns:
        Scalar array κ ≥ 1.

    Raises:
        ValueError / TypeError: as :func:`sigma_min`.

    References: PAPER.md §4 (largest singular value; condition number).
    """
    jacobians = as_jacobians(jacobians)
    T, D, _ = jacobians.shape
    method = _pick_method(method, T * D, key)
    if method == "dense":
        s = _svals(jacobians)
        return s[0] / s[-1]
    k1, k2 = jax.random.split(key)
    hi = sigma_max(jacobians, method=method, key=k1, **kwargs).value
    lo = sigma_min(jacobians, method=method, key=k2, **kwargs).value
    return hi / lo
