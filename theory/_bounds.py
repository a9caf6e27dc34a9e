"""Closed-form bounds of PAPER.md §4: PL constant vs LLE, contraction and Lemma-1 forms,
σ_max and the condition number, basin of quadratic convergence, Theorem-4 constants.

Everything is vectorised over arrays (broadcasting) and computed in log space: ``exp`` is taken
last, so huge ``|λ|·T`` gives 0 or ``inf`` (documented), never NaN.

References: PAPER.md §4 (Proposition 1, Theorems 2–6, Lemma 1).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ._validate import (
    as_float_array,
    as_jacobians,
    check_int,
    check_range,
    float_dtype,
    is_concrete,
    pytree_dataclass,
)

__all__ = [
    "log_pl_constant_bounds",
    "pl_constant_bounds",
    "contraction_pl_lower_bound",
    "inverse_norm_bound",
    "pl_constant_lower_bound",
    "metric_condition",
    "sigma_max_bounds",
    "condition_number_bounds",
    "basin_radius",
    "basin_radius_lle",
    "sigma_min_near_solution",
    "LinearConvergenceConstants",
    "linear_convergence_constants",
    "no_overshoot_condition",
    "no_overshoot_condition_general",
]

# |z|·T below which Σ_k (T−k) e^{zk} is bounded from below by Jensen's inequality instead of the
# closed form (whose difference of nearly equal terms loses accuracy there).
_SMALL_ZT = 1e-2


def _log_geometric(lam, T):
    """``log Σ_{k=0}^{T−1} e^{λk} = log((e^{λT} − 1)/(e^λ − 1))``, stable for all λ ∈ [−inf, inf].

    λ = 0 gives log T; λ = −inf gives 0 (only the k = 0 term); T = 1 gives 0.
    """
    pos = lam > 0
    neg = lam < 0
    lp = jnp.where(pos, lam, 1.0)
    ln = jnp.where(neg, lam, -1.0)
    # λ > 0: e^{λ(T−1)} (1 − e^{−λT}) / (1 − e^{−λ}); λ < 0: (1 − e^{λT}) / (1 − e^{λ}).
    with jax.numpy_dtype_promotion("standard"):
        big = lp * (T - 1) + jnp.log(-jnp.expm1(-lp * T)) - jnp.log(-jnp.expm1(-lp))
        small = jnp.log(-jnp.expm1(ln * T)) - jnp.log(-jnp.expm1(ln))
    # Near λ = 0 the cumulant series of k ~ Uniform{0..T−1} (third cumulant 0; the next term is
    # λ⁴(T⁴−1)/2880 < 1e-15 here) is exact to rounding and keeps derivatives right at λ = 0.
    tiny = jnp.abs(lam) * T < 1e-3
    lt = jnp.where(tiny, lam, 0.0)
    series = jnp.log(T) + lt * (T - 1) / 2 + lt**2 * (T**2 - 1) / 24
    out = jnp.where(tiny, series, jnp.where(pos, big, small))
    return jnp.where(T == 1, 0.0, out)


def _log_weighted_sum(z, T):
    """A lower bound on ``log S``, ``S = Σ_{k=0}^{T−1} (T − k) e^{zk}``, exact except for
    ``|z|T < 1e-2`` where Jensen's ``S ≥ (T(T+1)/2) e^{z(T−1)/3}`` (relative slack < 2e-5) is used."""
    logG = _log_geometric(z, T)
    pos = z > 0
    zs = jnp.where(z == 0, 1.0, z)
    # S = (e^z G − T)/(e^z − 1) with G = Σ_{k<T} e^{zk}.
    u = zs + logG  # log(e^z G)
    logT = jnp.log(T)
    exact_pos = u + jnp.log1p(-jnp.exp(logT - u)) - (zs + jnp.log(-jnp.expm1(-zs)))
    exact_neg = logT + jnp.log1p(-jnp.exp(u - logT)) - jnp.log(-jnp.expm1(zs))
    exact = jnp.where(pos, exact_pos, exact_neg)
    jensen = jnp.log(T) + jnp.log(T + 1.0) - jnp.log(2.0) + z * (T - 1.0) / 3.0
    small = jnp.abs(z) * T < _SMALL_ZT
    out = jnp.where(small, jensen, exact)
    return jnp.where(T == 1, 0.0, out)


def _check_T(T, dtype):
    T = as_float_array(T, "T", dtype)
    check_range(T, "T", low=1)
    return T


def _check_ab(a, b, dtype):
    a = as_float_array(a, "a", dtype)
    b = as_float_array(b, "b", dtype)
    check_range(a, "a", low=1)
    check_range(b, "b", low=0, high=1, low_open=True)
    return a, b


def log_pl_constant_bounds(lam, T, a=1.0, b=1.0, *, D=None):
    """Logarithms of Theorem 2's bounds on the PL constant μ = σ_min(J)², finite for any |λ|T.

    ``log μ_lower = −2 log a − 2 log Σ_{k<T} e^{λk}``  (= 2 log((1/a)(e^λ − 1)/(e^{λT} − 1)), and
    −2 log(aT) at λ = 0);
    ``log μ_upper = 2 min(−λ(T − 1) − log b, 0)``; with ``D`` also the Frobenius bound
    ``μ ≤ T·D / (b² Σ_{k<T} (T − k) e^{2λk})`` (= 2D/(b²(T+1)) at λ = 0) is included in the min.

    Args:
        lam: LLE λ (finite), any shape.
        T: sequence length(s) ≥ 1, broadcasting with ``lam``.
        a, b: burn-in constants of eq. (10), a ≥ 1, 0 < b ≤ 1.
        D: optional state dimension (integer ≥ 1) enabling the Frobenius upper bound.

    Returns:
        ``(log_mu_lower, log_mu_upper)`` broadcast arrays.

    Raises:
        ValueError / TypeError: non-finite λ, T < 1, a < 1, b ∉ (0, 1], bad D.

    References: PAPER.md §4, Theorem 2 (and its λ = 0 and Frobenius variants; see
    docs/theory.md for the derivation).
    """
    dtype = float_dtype(lam, T, a, b)
    lam = as_float_array(lam, "lam", dtype)
    check_range(lam, "lam")
    T = _check_T(T, dtype)
    a, b = _check_ab(a, b, dtype)
    return _log_bounds(lam, T, a, b, D)


def _log_bounds(lam, T, a, b, D=None):
    if D is not None:
        D = check_int(D, "D", minimum=1)
    return _log_bounds_core(lam, T, a, b, D)


@functools.partial(jax.jit, static_argnums=4)
def _log_bounds_core(lam, T, a, b, D):
    log_lower = -2.0 * (jnp.log(a) + _log_geometric(lam, T))
    with jax.numpy_dtype_promotion("standard"):
        spectral = jnp.where(T == 1, 0.0, -lam * (T - 1)) - jnp.log(b)
    log_upper = 2.0 * jnp.minimum(spectral, 0.0)
    if D is not None:
        frob = jnp.log(T) + np.log(D) - 2.0 * jnp.log(b) - _log_weighted_sum(2.0 * lam, T)
        log_upper = jnp.minimum(log_upper, frob)
    return jnp.broadcast_arrays(log_lower, log_upper)


def pl_constant_bounds(lam, T, a=1.0, b=1.0, *, D=None):
    """Theorem 2's bounds on the PL constant μ = σ_min(J)² (squares of the bounds on √μ).

    ``((1/a)(e^λ − 1)/(e^{λT} − 1))² ≤ μ ≤ min(e^{−λ(T−1)}/b, 1)²`` for λ ≠ 0, and at λ = 0 the
    limits ``1/(aT)² ≤ μ ≤ 1`` (continuous across λ = 0). With ``D`` the upper bound also uses the
    Frobenius argument ``μ ≤ T D/(b² Σ_{k<T}(T − k) e^{2λk})`` (``2D/(b²(T+1))`` at λ = 0).
    Computed in log space: for huge |λ|T the results underflow to 0 rather than becoming NaN.

    Args:
        lam, T, a, b, D: as :func:`log_pl_constant_bounds`.

    Returns:
        ``(mu_lower, mu_upper)``.

    Raises:
        ValueError / TypeError: as :func:`log_pl_constant_bounds`.

    References: PAPER.md §4, Theorem 2.

    Example:
        >>> lo, hi = pl_constant_bounds(0.0, 10)  # 1/(aT)² and 1 at λ = 0
        >>> round(float(lo), 6), round(float(hi), 6)
        (0.01, 1.0)
    """
    lo, hi = log_pl_constant_bounds(lam, T, a, b, D=D)
    return jnp.exp(lo), jnp.exp(hi)


def contraction_pl_lower_bound(rho, T):
    """Contraction variant of Theorem 2: ``‖J_t‖ ≤ ρ`` for all t ⇒ ``μ ≥ ((1 − ρ)/(1 − ρ^T))²``.

    (``1/T²`` at ρ = 1, 1 at ρ = 0; valid for every ρ ≥ 0, also ρ > 1.) It is Theorem 2's
    lower bound with a = 1, λ = log ρ.

    Args:
        rho: bound on the Jacobian norms, ρ ≥ 0 (finite), any shape.
        T: length(s) ≥ 1.

    Returns:
        Lower bound on μ.

    Raises:
        ValueError / TypeError: ρ < 0 or non-finite, T < 1.

    References: PAPER.md §4, Theorem 2 (contraction variant).
    """
    dtype = float_dtype(rho, T)
    rho = as_float_array(rho, "rho", dtype)
    check_range(rho, "rho", low=0)
    T = _check_T(T, dtype)
    return _contraction_core(rho, T)


@jax.jit
def _contraction_core(rho, T):
    lam = jnp.where(rho > 0, jnp.log(jnp.where(rho > 0, rho, 1.0)), -jnp.inf)
    return jnp.exp(-2.0 * _log_geometric(lam, T))


def _g_values(g, T: int, dtype):
    if callable(g):
        vals = as_float_array(g(jnp.arange(T)), "g", dtype)
        if vals.shape != (T,):
            raise ValueError(f"g: expected g(arange(T)) to return shape ({T},), got {vals.shape}")
    else:
        vals = as_float_array(g, "g", dtype)
        if vals.ndim != 1 or vals.shape[0] < T:
            raise ValueError(f"g: expected a 1-D array of length >= T = {T}, got shape {vals.shape}")
        vals = vals[:T]
    check_range(vals, "g", low=0)
    if is_concrete(vals) and float(vals[0]) < 1.0:
        raise ValueError(f"g: expected g(0) >= 1 (the empty product I has norm 1), got {float(vals[0])}")
    return vals


def inverse_norm_bound(g, T: int, *, metric_condition=1.0):
    """Lemma 1: ``‖J_{k−1}⋯J_i‖ ≤ g(k − i)`` for all windows ⇒ ``‖J⁻¹‖ ≤ κ · G(T)``, G(T) = Σ_{j<T} g(j).

    With a metric ``M_t`` in which ``‖M_t^{1/2} J_t M_{t−1}^{−1/2}‖ ≤ ρ``, take g(j) = ρ^j and
    ``metric_condition = κ = max_t ‖M_t^{1/2}‖ · max_t ‖M_t^{−1/2}‖`` (see :func:`metric_condition`).

    Args:
        g: callable on integer arrays (``g(jnp.arange(T))``) or an array of length ≥ T; g(0) ≥ 1.
        T: length (integer ≥ 1).
        metric_condition: κ ≥ 1 (1 when the bound holds in the Euclidean norm).

    Returns:
        Upper bound on ``‖J⁻¹‖`` (so ``σ_min(J) ≥ 1/bound``).

    Raises:
        ValueError / TypeError: bad g, T or κ.

    References: PAPER.md §4, Lemma 1 (general form of Theorem 2).
    """
    T = check_int(T, "T", minimum=1)
    dtype = float_dtype(metric_condition)
    kappa = as_float_array(metric_condition, "metric_condition", dtype)
    check_range(kappa, "metric_condition", low=1)
    return kappa * jnp.sum(_g_values(g, T, dtype))


def pl_constant_lower_bound(g, T: int, *, metric_condition=1.0):
    """Lemma 1 as a PL bound: ``μ ≥ 1/(κ G(T))²``; arguments as :func:`inverse_norm_bound`.

    References: PAPER.md §4, Lemma 1.
    """
    return 1.0 / inverse_norm_bound(g, T, metric_condition=metric_condition) ** 2


def metric_condition(metrics):
    """``κ = max_t ‖M_t^{1/2}‖ · max_t ‖M_t^{−1/2}‖ = sqrt(max_t λ_max(M_t) / min_t λ_min(M_t))``.

    Args:
        metrics: symmetric positive definite ``(T, D, D)`` (or one ``(D, D)``) metrics.

    Returns:
        κ ≥ 1, the factor of the weighted Lemma-1 bound.

    Raises:
        ValueError: bad shape, non-finite values, or a metric that is not positive definite.

    References: PAPER.md §4, Lemma 1 (contraction in a metric).
    """
    M = as_float_array(metrics, "metrics")
    if M.ndim == 2:
        M = M[None]
    M = as_jacobians(M, "metrics")
    ev = _eigvalsh_sym(M)
    if is_concrete(ev) and float(jnp.min(ev)) <= 0:
        raise ValueError(f"metrics: expected positive definite matrices, got smallest eigenvalue {float(jnp.min(ev))}")
    return jnp.sqrt(jnp.max(ev) / jnp.min(ev))


@jax.jit
def _eigvalsh_sym(M):
    return jnp.linalg.eigvalsh(0.5 * (M + jnp.swapaxes(M, -1, -2)))


def sigma_max_bounds(jacobians):
    """Bounds on σ_max of the residual Jacobian: ``sqrt(1 + ρ²) ≤ σ_max(J) ≤ 1 + ρ``.

    ρ = ``max_{t≥2} ‖J_t‖`` (0 when T = 1, where J = I). The lower bound is the norm of one block
    column ``[I; −J_{t+1}]``; the upper is ``‖I‖ + ‖N‖`` with N the single block subdiagonal. Both
    are independent of T.

    Args:
        jacobians: ``(T, D, D)``.

    Returns:
        ``(lower, upper)``.

    Raises:
        ValueError / TypeError: bad shapes or non-finite values.

    References: PAPER.md §4, "Largest singular value" (the paper's lower bound is 1).
    """
    return _sigma_max_core(as_jacobians(jacobians))


@jax.jit
def _sigma_max_core(jacobians):
    if jacobians.shape[0] == 1:
        rho = jnp.zeros((), jacobians.dtype)
    else:
        rho = jnp.max(jnp.linalg.norm(jacobians[1:], ord=2, axis=(-2, -1)))
    return jnp.sqrt(1.0 + rho**2), 1.0 + rho


def condition_number_bounds(lam, T, rho, a=1.0, b=1.0):
    """Bounds on κ(J) = σ_max/σ_min from Theorem 2 and the σ_max bounds.

    ``max(1, b e^{λ(T−1)}) ≤ κ(J) ≤ (1 + ρ) · a · Σ_{k<T} e^{λk}`` where ρ ≥ ‖J_t‖ (t ≥ 2).
    Overflow (huge λT) gives ``inf``, never NaN.

    Args:
        lam: LLE λ (finite); T: length(s) ≥ 1; rho: ρ ≥ 0; a, b: burn-in constants.

    Returns:
        ``(kappa_lower, kappa_upper)``.

    Raises:
        ValueError / TypeError: as :func:`log_pl_constant_bounds`, and ρ < 0.

    References: PAPER.md §4, Theorem 2 and "Largest singular value".
    """
    dtype = float_dtype(lam, T, rho, a, b)
    lam = as_float_array(lam, "lam", dtype)
    check_range(lam, "lam")
    T = _check_T(T, dtype)
    rho = as_float_array(rho, "rho", dtype)
    check_range(rho, "rho", low=0)
    a, b = _check_ab(a, b, dtype)
    return _condition_core(lam, T, rho, a, b)


@jax.jit
def _condition_core(lam, T, rho, a, b):
    log_lo, log_hi = _log_bounds_core(lam, T, a, b, None)
    upper = jnp.exp(jnp.log1p(rho) - 0.5 * log_lo)
    lower = jnp.exp(-0.5 * log_hi)
    return tuple(jnp.broadcast_arrays(lower, upper))


def _check_mu_L(mu, lipschitz, dtype):
    mu = as_float_array(mu, "mu", dtype)
    check_range(mu, "mu", low=0, low_open=True)
    L = as_float_array(lipschitz, "lipschitz", dtype)
    check_range(L, "lipschitz", low=0)
    return mu, L


def basin_radius(mu, lipschitz):
    """Radius of the basin of quadratic convergence (Theorem 5): ``‖r(s)‖ < 2μ/L``.

    Inside it a DEER step gives ``‖r(s⁺)‖ ≤ (L/(2μ)) ‖r(s)‖² < ‖r(s)‖``. L = 0 (linear dynamics)
    gives ``inf`` (one step is exact).

    Args:
        mu: PL constant μ > 0 (e.g. σ_min(J(s))² at the current iterate, or a bound).
        lipschitz: Lipschitz constant L ≥ 0 of the dynamics Jacobians (Theorem 3).

    Returns:
        ``2μ/L`` (broadcast).

    Raises:
        ValueError / TypeError: μ ≤ 0, L < 0, non-finite values.

    References: PAPER.md §4, Theorem 5 (the main text's 2μ/L, not the appendix's μ/L).
    """
    dtype = float_dtype(mu, lipschitz)
    mu, L = _check_mu_L(mu, lipschitz, dtype)
    safe = jnp.where(L > 0, L, 1.0)
    return jnp.where(L > 0, 2.0 * mu / safe, jnp.inf)


def basin_radius_lle(lam, T, lipschitz, a=1.0):
    """Theorem 5 in LLE form: ``(2/(a²L)) ((e^λ − 1)/(e^{λT} − 1))²`` (= 2 μ_lower / L).

    Args:
        lam: λ (finite); T: length(s) ≥ 1; lipschitz: L ≥ 0; a: burn-in constant a ≥ 1.

    Returns:
        The radius (``inf`` for L = 0; underflows to 0 for huge λT).

    Raises:
        ValueError / TypeError: bad λ, T, L or a.

    References: PAPER.md §4, Theorem 5 with Theorem 2.
    """
    dtype = float_dtype(lam, T, lipschitz, a)
    lam = as_float_array(lam, "lam", dtype)
    check_range(lam, "lam")
    T = _check_T(T, dtype)
    a, _ = _check_ab(a, 1.0, dtype)
    L = as_float_array(lipschitz, "lipschitz", dtype)
    check_range(L, "lipschitz", low=0)
    return _basin_lle_core(lam, T, L, a)


@jax.jit
def _basin_lle_core(lam, T, L, a):
    log_mu, _ = _log_bounds_core(lam, T, a, jnp.ones((), a.dtype), None)
    safe = jnp.where(L > 0, L, 1.0)
    return jnp.where(L > 0, jnp.exp(jnp.log(2.0) + log_mu - jnp.log(safe)), jnp.inf)


def sigma_min_near_solution(sigma_min_star, lipschitz, distance):
    """Theorem 6 (Weyl): ``|σ_min(J(s)) − σ_min(J(s*))| ≤ L ‖s − s*‖``.

    Args:
        sigma_min_star: σ_min(J(s*)) ≥ 0; lipschitz: L ≥ 0; distance: ‖s − s*‖ ≥ 0.

    Returns:
        ``(lower, upper)`` = ``(max(σ* − L d, 0), σ* + L d)``: an unpredictable system (tiny σ*)
        stays badly conditioned in the whole ball of radius ``d``.

    Raises:
        ValueError / TypeError: negative or non-finite arguments.

    References: PAPER.md §4, Theorem 6.
    """
    dtype = float_dtype(sigma_min_star, lipschitz, distance)
    s = as_float_array(sigma_min_star, "sigma_min_star", dtype)
    L = as_float_array(lipschitz, "lipschitz", dtype)
    d = as_float_array(distance, "distance", dtype)
    for x, n in ((s, "sigma_min_star"), (L, "lipschitz"), (d, "distance")):
        check_range(x, n, low=0)
    return jnp.broadcast_arrays(jnp.maximum(s - L * d, 0.0), s + L * d)


@pytree_dataclass
class LinearConvergenceConstants:
    """Theorem 4's constants: ``‖e^(i)‖ ≤ χ_w β^i ‖e^(0)‖`` for DEER.

    Attributes:
        w: weight of the norm ``‖x‖_W = ‖(w^{−(t−1)} x_t)_t‖``, ``w = max(1, ρ(2 + β)/β)``.
        beta: the rate β requested.
        contraction: the factor actually certified in the W-norm,
            ``(2ρ/w) Σ_{k<T} (ρ/w)^k ≤ 2ρ/(w − ρ) ≤ β``.
        chi: ``χ_w = w^{T−1}`` (``inf`` on overflow).
        log_chi: ``(T − 1) log w``.
        no_overshoot: whether w = 1 works, i.e. ``ρ ≤ β/(2 + β)`` (χ = 1).
    """

    w: jax.Array
    beta: jax.Array
    contraction: jax.Array
    chi: jax.Array
    log_chi: jax.Array
    no_overshoot: jax.Array


def _check_beta(beta, dtype):
    beta = as_float_array(beta, "beta", dtype)
    check_range(beta, "beta", low=0, high=1, low_open=True, high_open=True)
    return beta


def linear_convergence_constants(rho, T, beta=0.5):
    """Theorem 4's weighted-norm constants for global linear convergence of DEER.

    If ``‖J_t‖ ≤ ρ`` at every state met (iterates, the solution and the segments between them),
    then in the norm with weights ``w^{−(t−1)}`` on block t: ``‖J − B‖_W ≤ 2ρ/w``,
    ``‖J⁻¹‖_W ≤ Σ_{k<T} (ρ/w)^k``, so ``‖e^{(i+1)}‖_W ≤ (2ρ/(w − ρ)) ‖e^{(i)}‖_W``; the choice
    ``w = max(1, ρ(2 + β)/β)`` gives rate β and ``‖e^{(i)}‖ ≤ w^{T−1} β^i ‖e^{(0)}‖``.

    Args:
        rho: ρ ≥ 0 (finite); T: length(s) ≥ 1; beta: target rate, 0 < β < 1.

    Returns:
        :class:`LinearConvergenceConstants` (broadcast arrays).

    Raises:
        ValueError / TypeError: ρ < 0, T < 1, β ∉ (0, 1), non-finite values.

    References: PAPER.md §4, Theorem 4 (reconstructed constants, verified in docs/theory.md).
    """
    dtype = float_dtype(rho, T, beta)
    rho = as_float_array(rho, "rho", dtype)
    check_range(rho, "rho", low=0)
    T = _check_T(T, dtype)
    beta = _check_beta(beta, dtype)
    return LinearConvergenceConstants(*_linear_core(rho, T, beta))


@jax.jit
def _linear_core(rho, T, beta):
    w = jnp.maximum(1.0, rho * (2.0 + beta) / beta)
    q = rho / w
    lam = jnp.where(q > 0, jnp.log(jnp.where(q > 0, q, 1.0)), -jnp.inf)
    contraction = 2.0 * q * jnp.exp(_log_geometric(lam, T))
    log_chi = (T - 1.0) * jnp.log(w)
    rho, T, beta, w, contraction, log_chi = jnp.broadcast_arrays(rho, T, beta, w, contraction, log_chi)
    return w, beta, contraction, jnp.exp(log_chi), log_chi, rho <= beta / (2.0 + beta)


def no_overshoot_condition(rho, beta=0.5):
    """Theorem 4 without overshoot (χ = 1): ``2ρ/(1 − ρ) ≤ β ⇔ ρ ≤ β/(2 + β)``.

    Args:
        rho: ρ ≥ 0; beta: 0 < β < 1.

    Returns:
        Boolean array.

    Raises:
        ValueError / TypeError: bad ρ or β.

    References: PAPER.md §4, Theorem 4.
    """
    dtype = float_dtype(rho, beta)
    rho = as_float_array(rho, "rho", dtype)
    check_range(rho, "rho", low=0)
    beta = _check_beta(beta, dtype)
    return rho <= beta / (2.0 + beta)


def no_overshoot_condition_general(g, T: int, beta=0.5):
    """General sufficient condition for rate β with χ = 1: ``2 g(1) G(T) ≤ β``.

    ``‖J − B‖ ≤ 2 max_t ‖J_t‖ ≤ 2 g(1)`` and ``‖J⁻¹‖ ≤ G(T) = Σ_{j<T} g(j)`` (Lemma 1).

    Args:
        g: as :func:`inverse_norm_bound` (needs length ≥ max(T, 2)); T ≥ 1; beta: 0 < β < 1.

    Returns:
        Boolean scalar array.

    References: PAPER.md §4, Theorem 4 and Lemma 1.
    """
    T = check_int(T, "T", minimum=1)
    dtype = float_dtype(beta)
    beta = _check_beta(beta, dtype)
    vals = _g_values(g, max(T, 2), dtype)
    return 2.0 * vals[1] * jnp.sum(vals[:T]) <= beta
