"""Lyapunov exponents along a trajectory and the burn-in constants of eq. (10).

All products of Jacobians are renormalised at every step and their growth is accumulated as a
sum of logarithms, so nothing overflows however long the sequence or large the exponent.

References: PAPER.md §3 (definition, Algorithm 1, burn-in condition eq. (10)).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ._validate import (
    as_float_array,
    as_jacobians,
    check_dt,
    check_finite,
    check_int,
    check_key,
    is_concrete,
    pytree_dataclass,
)

__all__ = ["lle", "lle_along", "lyapunov_spectrum", "burn_in_constants", "BurnInConstants"]


def _unit_vectors(key, num_vectors: int, D: int, dtype):
    u = jax.random.normal(key, (num_vectors, D), dtype=dtype)
    return u / jnp.linalg.norm(u, axis=-1, keepdims=True)


def _renormalise(V):
    """Rows of V scaled to unit norm, and log of their norms (-inf for a zero row, never NaN)."""
    g = jnp.linalg.norm(V, axis=-1)
    safe = jnp.where(g > 0, g, 1)
    return V / safe[..., None], jnp.log(g)


@functools.partial(jax.jit, static_argnums=(3,))
def _lle_core(jacobians, key, dt, num_vectors, burn_in, lengths):
    T, D, _ = jacobians.shape
    U0 = _unit_vectors(key, num_vectors, D, jacobians.dtype)
    return _average_rate(_growth_logs(jacobians, U0), T, burn_in, dt, lengths)


@functools.partial(jax.jit, static_argnums=(0, 5))
def _along_core(f, s0, key, inputs, dt, num_vectors, burn_in, lengths):
    T = jax.tree_util.tree_leaves(inputs)[0].shape[0]
    U0 = _unit_vectors(key, num_vectors, s0.shape[0], s0.dtype)
    return _average_rate(_along_logs(f, s0, U0, inputs), T, burn_in, dt, lengths)


@functools.partial(jax.jit, static_argnums=(4,))
def _spectrum_core(jacobians, Q0, dt, burn_in, k):
    T = jacobians.shape[0]
    logs = _qr_logs(jacobians, Q0)
    logs = jnp.where((jnp.arange(T) >= burn_in)[:, None], logs, 0.0)
    rates = jnp.sum(logs, axis=0) / ((T - burn_in) * dt)
    return jnp.sort(rates)[::-1][:k]


def _growth_logs(jacobians, U0):
    """log ‖J_t u_{t−1}‖ for every step and start vector, ``(T, num_vectors)``."""

    def step(U, J):
        return _renormalise(U @ J.T)

    return jax.lax.scan(step, U0, jacobians)[1]


def _qr_logs(jacobians, Q0):
    """log |diag R_t| of the QR recursion ``Q_t R_t = J_t Q_{t−1}``, ``(T, k)``."""

    def step(Q, J):
        Q, R = jnp.linalg.qr(J @ Q)
        return Q, jnp.log(jnp.abs(jnp.diagonal(R)))

    return jax.lax.scan(step, Q0, jacobians)[1]


def _along_logs(f, s0, U0, inputs):
    def step(carry, u):
        s, U = carry
        s_next, jvp = jax.linearize(lambda x: f(x, u), s)
        U, logg = _renormalise(jax.vmap(jvp)(U))
        return (s_next, U), logg

    return jax.lax.scan(step, (s0, U0), inputs)[1]


def _check_lengths(lengths, T: int, burn_in: int):
    if lengths is None:
        return None
    arr = np.asarray(lengths) if is_concrete(lengths) else None
    if arr is None:
        raise TypeError("lengths: expected concrete integers (not traced values)")
    if arr.ndim > 1 or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"lengths: expected an integer or a 1-D sequence of integers, got {lengths!r}")
    if np.any(arr <= burn_in) or np.any(arr > T):
        raise ValueError(
            f"lengths: expected every length in ({burn_in}, {T}] (burn_in < length <= T), got {arr.tolist()}"
        )
    return arr


def _average_rate(logs, T: int, burn_in: int, dt, lengths):
    """Mean over vectors of (Σ_{burn_in < t ≤ T'} log g_t) / ((T' − burn_in) dt)."""
    mask = jnp.arange(T) >= burn_in
    logs = jnp.where(mask[:, None], logs, 0.0)
    if lengths is None:
        total = jnp.sum(logs, axis=0)
        return jnp.mean(total) / ((T - burn_in) * dt)
    cum = jnp.cumsum(logs, axis=0)  # (T, k); prefix sums give every length from one pass
    idx = lengths - 1
    rates = cum[idx] / ((lengths - burn_in)[..., None] * dt)
    return jnp.mean(rates, axis=-1)


def lle(jacobians, *, key, num_vectors: int = 3, burn_in: int = 0, dt=1.0, lengths=None):
    """Largest Lyapunov exponent of a Jacobian sequence (Algorithm 1, in log space).

    ``λ ≈ (1/((T − B) dt)) Σ_{t=B+1}^{T} log ‖J_t u_{t−1}‖`` with ``u_t = J_t u_{t−1}/‖J_t u_{t−1}‖``
    started from random unit vectors ``u_0`` (the estimate is averaged over them), B = ``burn_in``
    discarded transient steps. With ``dt`` the value is the continuous-time exponent
    ``λ_discrete / dt``. All of ``J_1 … J_T`` are used.

    A step that maps the vector to zero (a singular product) gives ``−inf``, never NaN.

    Args:
        jacobians: ``(T, D, D)``, ``jacobians[t-1] = J_t``.
        key: JAX PRNG key for the random start vectors (required).
        num_vectors: number of random start vectors averaged (≥ 1).
        burn_in: number of leading steps whose growth is discarded (0 ≤ burn_in < T).
        dt: time step of the discretisation; the result is divided by it.
        lengths: optional integer or sequence of prefix lengths T' (burn_in < T' ≤ T); the
            estimates for all of them come from one pass.

    Returns:
        A scalar array, or an array of shape ``(len(lengths),)`` when ``lengths`` is given.

    Raises:
        ValueError / TypeError: bad shapes, non-finite Jacobians, missing key, bad burn_in,
        dt or lengths.

    References: PAPER.md §3, Algorithm 1 and the discrete/continuous relation.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> J = jnp.tile(jnp.diag(jnp.array([0.5, 2.0])), (100, 1, 1))
        >>> round(float(lle(J, key=jax.random.key(0), burn_in=10)), 4)  # log 2
        0.6931
    """
    jacobians = as_jacobians(jacobians)
    key = check_key(key)
    num_vectors = check_int(num_vectors, "num_vectors", minimum=1)
    T, D, _ = jacobians.shape
    burn_in = check_int(burn_in, "burn_in", minimum=0, maximum=T - 1)
    dt = check_dt(dt)
    scalar_length = lengths is not None and np.ndim(lengths) == 0
    lengths = _check_lengths(lengths, T, burn_in)
    lengths = None if lengths is None else jnp.asarray(np.atleast_1d(lengths), jnp.int32)
    out = _lle_core(jacobians, key, dt, num_vectors, burn_in, lengths)
    return out.reshape(()) if scalar_length else out


def lle_along(f, s0, inputs, *, key, num_vectors: int = 3, burn_in: int = 0, dt=1.0, lengths=None):
    """Largest Lyapunov exponent along the sequential trajectory of ``s_t = f(s_{t−1}, u_t)``.

    Same estimate as :func:`lle` with ``J_t = ∂f/∂s (s_{t−1}, u_t)``, but the Jacobians are never
    stored: each step pushes the tangent vectors through a Jacobian-vector product, so memory is
    O(D · num_vectors) however long the sequence.

    Args:
        f: step function ``f(s_prev, u_t) -> s_t`` with ``s_prev`` of shape ``(D,)``.
        s0: initial state ``(D,)``.
        inputs: inputs with a leading time axis of length T (``inputs[t-1] = u_t``).
        key, num_vectors, burn_in, dt, lengths: as in :func:`lle`.

    Returns:
        As :func:`lle`.

    Raises:
        ValueError / TypeError: as :func:`lle`, and for a non-finite ``s0`` or an ``f`` whose
        output shape differs from ``(D,)``.

    References: PAPER.md §3, Algorithm 1.
    """
    if not callable(f):
        raise TypeError(f"f: expected a callable f(s_prev, u_t), got {type(f).__name__}")
    s0 = check_finite(as_float_array(s0, "s0"), "s0")
    if s0.ndim != 1:
        raise ValueError(f"s0: expected shape (D,), got shape {s0.shape}")
    leaves = jax.tree_util.tree_leaves(inputs)
    if not leaves or any(jnp.ndim(x) < 1 for x in leaves):
        raise ValueError("inputs: expected arrays with a leading time axis of length T >= 1")
    T = int(jnp.shape(leaves[0])[0])
    if T < 1 or any(jnp.shape(x)[0] != T for x in leaves):
        raise ValueError(
            f"inputs: expected every leaf to have the same leading time length T >= 1, got "
            f"{[jnp.shape(x)[0] for x in leaves]}"
        )
    key = check_key(key)
    num_vectors = check_int(num_vectors, "num_vectors", minimum=1)
    burn_in = check_int(burn_in, "burn_in", minimum=0, maximum=T - 1)
    dt = check_dt(dt)
    scalar_length = lengths is not None and np.ndim(lengths) == 0
    lengths = _check_lengths(lengths, T, burn_in)
    out_shape = jax.eval_shape(f, s0, jax.tree_util.tree_map(lambda x: x[0], inputs))
    if getattr(out_shape, "shape", None) != s0.shape:
        raise ValueError(
            f"f: expected f(s_prev, u_t) to return shape {s0.shape}, got {getattr(out_shape, 'shape', out_shape)}"
        )
    lengths = None if lengths is None else jnp.asarray(np.atleast_1d(lengths), jnp.int32)
    out = _along_core(f, s0, key, inputs, dt, num_vectors, burn_in, lengths)
    return out.reshape(()) if scalar_length else out


def lyapunov_spectrum(jacobians, k=None, *, burn_in: int = 0, dt=1.0, key=None):
    """The k leading Lyapunov exponents by repeated QR (the Benettin method), largest first.

    ``Q_t R_t = J_t Q_{t−1}``; ``λ_i ≈ (1/((T − B) dt)) Σ_{t>B} log |(R_t)_{ii}|``. Without a
    ``key`` the full orthonormal frame (``Q_0 = I``, D columns) is propagated and the k largest
    of the D rates are returned — deterministic, O(T D³). With a ``key`` and ``k < D`` only a
    random k-frame is propagated (O(T D² k)). The sum of all D exponents equals the mean of
    ``log |det J_t|``. A singular step gives ``−inf`` entries, never NaN.

    Args:
        jacobians: ``(T, D, D)``.
        k: number of exponents (1 ≤ k ≤ D); default D.
        burn_in: leading steps discarded (0 ≤ burn_in < T).
        dt: time step; the exponents are divided by it.
        key: optional PRNG key for a random k-frame.

    Returns:
        Array of shape ``(k,)``, sorted in decreasing order.

    Raises:
        ValueError / TypeError: bad shapes, non-finite values, bad k, burn_in or dt.

    References: PAPER.md §3 (Lyapunov exponents; the LLE is the first entry).
    """
    jacobians = as_jacobians(jacobians)
    T, D, _ = jacobians.shape
    k = D if k is None else check_int(k, "k", minimum=1, maximum=D)
    burn_in = check_int(burn_in, "burn_in", minimum=0, maximum=T - 1)
    dt = check_dt(dt)
    if key is not None and k < D:
        key = check_key(key)
        Q0, _ = jnp.linalg.qr(jax.random.normal(key, (D, k), dtype=jacobians.dtype))
    else:
        Q0 = jnp.eye(D, dtype=jacobians.dtype)
    return _spectrum_core(jacobians, Q0, dt, burn_in, k)


@pytree_dataclass(meta=("exact", "max_window", "start"))
class BurnInConstants:
    """The constants a ≥ 1 ≥ b > 0 of eq. (10) for a given λ, and how they were obtained.

    Attributes:
        a: ``max ‖J_{t+k−1} ⋯ J_t‖ e^{−λk}`` over the windows checked (may be ``inf`` on overflow).
        b: ``min ‖J_{t+k−1} ⋯ J_t‖ e^{−λk}`` over the windows checked (0 for singular products).
        log_a, log_b: their logarithms (finite whenever the products are representable in log form).
        exact: True when every window (all t ≥ start, all lengths k) was checked.
        max_window: the longest window length k checked.
        start: the first time index t of the windows (2 for eq. (10), as in Theorem 2).
    """

    a: jax.Array
    b: jax.Array
    log_a: jax.Array
    log_b: jax.Array
    exact: bool
    max_window: int
    start: int


def burn_in_constants(jacobians, lam, *, max_window=None, start: int = 2):
    """Exact burn-in constants a, b of eq. (10): extremes of ``‖J_{t+k−1}⋯J_t‖ e^{−λk}``.

    ``a = max_{t ≥ start, k ≥ 0} ‖J_{t+k−1} ⋯ J_t‖ e^{−λk}``, ``b = min`` of the same, over all
    windows inside ``J_start … J_T`` (k = 0, the empty product I, gives a ≥ 1 ≥ b). With
    ``start = 2`` (the default, as eq. (10) and Theorem 2) these are exactly the constants that
    make Theorem 2 hold for the residual Jacobian of this sequence. All O(T²) products are formed
    by a ``lax.scan`` over the window length, each renormalised in log space: O(T² D³) work,
    O(T D²) memory. With ``max_window`` only windows of length ≤ max_window are checked — an
    estimate, reported by ``exact=False``.

    Args:
        jacobians: ``(T, D, D)``.
        lam: the exponent λ (scalar, finite).
        max_window: optional longest window length (≥ 1).
        start: first time index t of the windows, 1 or 2 (default 2).

    Returns:
        :class:`BurnInConstants`.

    Raises:
        ValueError / TypeError: bad shapes, non-finite values, bad max_window or start.

    References: PAPER.md §3, eq. (10); used by Theorem 2.
    """
    jacobians = as_jacobians(jacobians)
    lam = check_finite(as_float_array(lam, "lam", jacobians.dtype), "lam")
    if lam.ndim != 0:
        raise ValueError(f"lam: expected a scalar, got shape {lam.shape}")
    start = check_int(start, "start", minimum=1, maximum=2)
    Js = jacobians[start - 1 :]
    n = Js.shape[0]
    if max_window is not None:
        max_window = check_int(max_window, "max_window", minimum=1)
    K = n if max_window is None else min(max_window, n)
    exact = K >= n
    dtype = jacobians.dtype
    if n == 0 or K == 0:
        one = jnp.ones((), dtype)
        zero = jnp.zeros((), dtype)
        return BurnInConstants(one, one, zero, zero, exact, 0, start)
    log_a, log_b = _window_extremes(Js, lam, K)
    return BurnInConstants(jnp.exp(log_a), jnp.exp(log_b), log_a, log_b, exact, K, start)


@functools.partial(jax.jit, static_argnums=2)
def _window_extremes(Js, lam, K: int):
    """max and min over windows of length 0..K of ``log ‖J_{i+k−1}⋯J_i‖ − λk``."""
    n, D, _ = Js.shape
    dtype = Js.dtype
    idx = jnp.arange(n)

    def step(carry, k):
        Q, logs, hi, lo = carry
        # Window of length k starting at i: J_{i+k-1} (J_{i+k-2} ⋯ J_i); only i + k - 1 < n exist.
        nxt = Js[jnp.minimum(idx + k - 1, n - 1)]
        X = nxt @ Q
        nrm = jnp.linalg.norm(X, ord=2, axis=(-2, -1))
        Q = X / jnp.where(nrm > 0, nrm, 1)[:, None, None]
        logs = logs + jnp.log(nrm)
        valid = idx + k - 1 < n
        ratio = logs - lam * k
        hi = jnp.maximum(hi, jnp.max(jnp.where(valid, ratio, -jnp.inf)))
        lo = jnp.minimum(lo, jnp.min(jnp.where(valid, ratio, jnp.inf)))
        return (Q, logs, hi, lo), None

    Q0 = jnp.broadcast_to(jnp.eye(D, dtype=dtype), (n, D, D))
    zero = jnp.zeros((), dtype)  # k = 0: the empty product has norm 1, ratio 1
    init = (Q0, jnp.zeros((n,), dtype), zero, zero)
    (_, _, log_a, log_b), _ = jax.lax.scan(step, init, jnp.arange(1, K + 1))
    return log_a, log_b
