"""How many DEER iterations: a bound that combines Theorems 2, 4 and 5 with the ≤ T exactness,
and the paper's two estimates (the K.1 two-phase model, gradient descent to the basin).

References: PAPER.md §2 (causality), §4 (Theorems 4 and 5), §5 (complexity, K.1).
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from ._bounds import _check_beta, _check_mu_L, _check_T, _log_bounds, _log_bounds_core
from ._conditioning import _dense
from ._validate import (
    as_float_array,
    as_jacobians,
    check_int,
    check_range,
    float_dtype,
    pytree_dataclass,
)

__all__ = ["IterationBound", "iteration_bound", "StepEstimate", "two_phase_estimate", "gd_steps_to_basin"]


@dataclasses.dataclass(frozen=True)
class IterationBound:
    """An upper bound on the DEER iterations needed to reach ``L(s)/T ≤ tol``.

    Attributes:
        iterations: the bound (the smallest of the bounds that apply).
        exactness: T — DEER is exact after T iterations whatever the start (causality).
        linear_only: iterations by Theorem 4's linear rate alone (None if not applicable).
        two_phase: linear iterations to half the basin radius plus quadratic ones (Theorems 4
            and 5), or quadratic ones alone when the start is already in the basin (None if not
            applicable).
        assumed: hypotheses the bound relies on, in words.
        checked: hypotheses checked numerically on the supplied Jacobians, with the numbers.
        violated: hypotheses found false on the supplied Jacobians (their phases were dropped).
    """

    iterations: int
    exactness: int
    linear_only: int | None
    two_phase: int | None
    assumed: tuple[str, ...]
    checked: tuple[str, ...]
    violated: tuple[str, ...]


def _positive_scalar(x, name, *, allow_zero=False):
    arr = as_float_array(x, name)
    if arr.ndim != 0:
        raise ValueError(f"{name}: expected a scalar, got shape {arr.shape}")
    check_range(arr, name, low=0, low_open=not allow_zero)
    return float(arr)


def _log_geometric_np(lam: float, T: int) -> float:
    """``log Σ_{k<T} e^{λk}`` for Python floats (same formula as the array version)."""
    if T == 1 or lam == -math.inf:
        return 0.0
    if lam == 0:
        return math.log(T)
    if lam > 0:
        return lam * (T - 1) + math.log(-math.expm1(-lam * T)) - math.log(-math.expm1(-lam))
    return math.log(-math.expm1(lam * T)) - math.log(-math.expm1(lam))


def _best_weight(rho, T, beta):
    """Theorem 4's weight w ≥ 1 and (log rate, log χ_w) minimising the linear-phase count.

    For weight w the certified W-norm rate is ``c(w) = (2ρ/w) Σ_{k<T} (ρ/w)^k`` and
    ``χ_w = w^{T−1}``. With ``beta`` given, ``w = max(1, ρ(2 + β)/β)`` (the paper's choice);
    otherwise w is chosen on a grid to minimise ``(T − 1) log w / (−log c(w))``. None if no w
    gives c(w) < 1.
    """
    def rate_chi(w):
        q = rho / w
        log_c = math.log(2.0 * q) + _log_geometric_np(math.log(q), T) if q > 0 else -math.inf
        return log_c, (T - 1) * math.log(w)

    if rho == 0:
        return 1.0, -math.inf, 0.0
    if beta is not None:
        w = max(1.0, rho * (2.0 + beta) / beta)
        log_c, log_chi = rate_chi(w)
        return (w, log_c, log_chi) if log_c < 0 else None
    grid = np.unique(np.concatenate([[1.0], np.geomspace(max(1.0, rho * (1 + 1e-6)), max(2.0, 50 * rho), 400)]))
    best, best_cost = None, math.inf
    for w in grid:
        log_c, log_chi = rate_chi(float(w))
        if log_c < 0:
            cost = (log_chi + 1.0) / -log_c  # iterations per unit of log-reduction, plus the χ offset
            if cost < best_cost:
                best, best_cost = (float(w), log_c, log_chi), cost
    return best


def iteration_bound(T, *, residual0=None, tol=1e-10, rho=None, beta=None, mu=None, lam=None,
                    a=1.0, lipschitz=None, jacobians=None) -> IterationBound:
    """Upper bound on DEER iterations: ``min(T, linear phase, linear-to-basin + quadratic)``.

    With ``r_tol = sqrt(2 T tol)`` (``L/T ≤ tol ⇔ ‖r‖ ≤ r_tol``):

    * exactness: ≤ T iterations always (PAPER.md §2, causality; exact arithmetic).
    * linear phase (Theorem 4, needs ``rho``, ``residual0``): ``‖r^{(i)}‖ ≤ (1 + ρ) χ_w β^i G_ρ ‖r^{(0)}‖``
      with ``G_ρ = Σ_{k<T} ρ^k`` (``‖e^{(0)}‖ ≤ G_ρ ‖r^{(0)}‖`` by the contraction variant of
      Theorem 2 applied to the averaged Jacobian, ``‖r‖ ≤ (1 + ρ)‖e‖`` by the σ_max bound).
    * quadratic phase (Theorem 5, needs ``lipschitz`` and ``mu`` or ``lam``): once
      ``q‖r‖ ≤ 1/2`` (``q = L/(2μ)``), ``q‖r^{(i+k)}‖ ≤ (q‖r^{(i)}‖)^{2^k}``.

    Args:
        T: sequence length (integer ≥ 1).
        residual0: ``‖r(s^{(0)})‖`` of the initial guess (≥ 0).
        tol: merit tolerance per step (> 0), as in ``solvers.evaluate``.
        rho: bound on ``‖J_t‖`` over every state met (Theorem 4's hypothesis).
        beta: Theorem 4 rate, 0 < β < 1, giving ``w = max(1, ρ(2 + β)/β)``; by default (None)
            the weight w ≥ 1 is chosen to minimise the linear-phase count (any w with a
            certified rate ``(2ρ/w) Σ_{k<T}(ρ/w)^k < 1`` gives a valid bound).
        mu: PL constant valid at every iterate (> 0); or give ``lam`` (and ``a``) to use
            Theorem 2's lower bound ``μ ≥ ((e^λ−1)/(a(e^{λT}−1)))²``.
        lam, a: LLE and burn-in constant a ≥ 1 (used only when ``mu`` is None).
        lipschitz: Lipschitz constant L ≥ 0 of the dynamics Jacobians.
        jacobians: optional ``(..., T, D, D)`` Jacobians at states the iterates visit; when
            given, ``ρ ≥ max_{t≥2} ‖J_t‖`` and ``μ ≤ min σ_min(J)²`` (dense, T·D ≤ 1024) are
            checked numerically and a phase whose hypothesis fails is dropped.

    Returns:
        :class:`IterationBound`.

    Raises:
        ValueError / TypeError: bad arguments (T < 1, tol ≤ 0, ρ < 0, β ∉ (0, 1), μ ≤ 0, L < 0,
        a < 1, non-finite values, jacobians of another length).

    References: PAPER.md §2 (≤ T exactness), §4 Theorems 2, 4, 5.
    """
    T = check_int(T, "T", minimum=1)
    tol = _positive_scalar(tol, "tol")
    r_tol = math.sqrt(2.0 * T * tol)
    assumed = ["exact arithmetic; a causal Newton (DEER) update: exact after at most T iterations"]
    checked, violated = [], []
    if beta is not None:
        beta = float(_check_beta(beta, float_dtype(beta)))
    r0 = None if residual0 is None else _positive_scalar(residual0, "residual0", allow_zero=True)
    if rho is not None:
        rho = _positive_scalar(rho, "rho", allow_zero=True)
    if lipschitz is not None:
        lipschitz = _positive_scalar(lipschitz, "lipschitz", allow_zero=True)
    if mu is not None:
        mu = _positive_scalar(mu, "mu")
    elif lam is not None:
        lam_arr = as_float_array(lam, "lam")
        check_range(lam_arr, "lam")
        a_arr = as_float_array(a, "a")
        check_range(a_arr, "a", low=1)
        log_mu, _ = _log_bounds(lam_arr, jnp.asarray(float(T), lam_arr.dtype), a_arr, jnp.ones(()))
        mu = float(jnp.exp(log_mu))
        assumed.append(f"eq. (10) holds with lam = {float(lam):g}, a = {float(a):g} at every iterate, "
                       f"so mu >= {mu:.3g} (Theorem 2)")
        if mu <= 0:
            mu = None  # underflow: no quadratic phase can be certified

    if jacobians is not None:
        J = as_jacobians(jacobians, batch=True)
        if J.shape[-3] != T:
            raise ValueError(f"jacobians: expected time length T = {T}, got shape {J.shape}")
        flat = J.reshape((-1,) + J.shape[-3:])
        if rho is not None and T > 1:
            rmax = float(jnp.max(jnp.linalg.norm(flat[:, 1:], ord=2, axis=(-2, -1))))
            msg = f"rho = {rho:g} >= max_t ||J_t|| = {rmax:.6g} on the {flat.shape[0]} supplied Jacobian sequence(s)"
            (checked if rmax <= rho else violated).append(msg)
            if rmax > rho:
                rho = None
        if mu is not None:
            if T * J.shape[-1] <= 1024:
                smin = float(jnp.min(jax.vmap(lambda x: _dense(x, "min").value)(flat)))
                msg = f"mu = {mu:.6g} <= min sigma_min(J)^2 = {smin**2:.6g} on the supplied Jacobians"
                (checked if mu <= smin**2 * (1 + 1e-12) else violated).append(msg)
                if mu > smin**2 * (1 + 1e-12):
                    mu = None
            else:
                checked.append("mu not checked: T*D > 1024 (too large for a dense SVD here)")

    if r0 is not None and r0 <= r_tol:
        return IterationBound(0, T, 0, 0, tuple(assumed), tuple(checked), tuple(violated))

    linear_only = two_phase = None
    lin_factor = None
    rate = None
    if rho is not None and r0 is not None:
        best = _best_weight(rho, T, beta)
        if best is not None:
            w, log_rate, log_chi = best
            log_G = _log_geometric_np(math.log(rho) if rho > 0 else -math.inf, T)
            lin_factor = math.log1p(rho) + log_chi + log_G + math.log(r0)  # log of (1+ρ)χ G r0
            rate = -log_rate
            linear_only = max(0, math.ceil((lin_factor - math.log(r_tol)) / rate))
            assumed.append(f"||J_t|| <= rho = {rho:g} at every state met (iterates, solution, segments "
                           f"between them); Theorem 4 in the weighted norm with w = {w:.6g}: rate "
                           f"{math.exp(log_rate):.6g}, chi = exp({log_chi:.6g})")
    if mu is not None and lipschitz is not None:
        if lipschitz == 0:
            two_phase = 1  # linear dynamics: one Newton step is exact
        else:
            q = lipschitz / (2.0 * mu)
            log_q = math.log(q)
            def quad_steps(log_qr):  # noqa: E306
                target = log_q + math.log(r_tol)
                if target >= 0:  # the basin lies inside the tolerance ball
                    return 0
                return max(0, math.ceil(math.log2(target / log_qr)))
            if r0 is not None and log_q + math.log(r0) <= -math.log(2.0):
                two_phase = quad_steps(log_q + math.log(r0))
            elif lin_factor is not None:
                n1 = max(0, math.ceil((lin_factor - (math.log(0.5) - log_q)) / rate))
                two_phase = n1 + quad_steps(-math.log(2.0))
        if two_phase is not None:
            assumed.append(f"mu = {mu:.6g} <= sigma_min(J(s))^2 at every iterate and L = {lipschitz:g} "
                           "bounds the Lipschitz constant of the J_t on the segments between iterates (Theorem 5)")
    candidates = [T] + [n for n in (linear_only, two_phase) if n is not None]
    return IterationBound(int(min(candidates)), T, linear_only, two_phase, tuple(assumed),
                          tuple(checked), tuple(violated))


@pytree_dataclass(meta=("label",))
class StepEstimate:
    """An *estimate* (not a bound) of a number of iterations.

    Attributes:
        steps: the estimate (broadcast array, float).
        linear_steps: the part spent in the linear phase.
        quadratic_steps: the part spent in the quadratic phase.
        label: what model produced it.
    """

    steps: jax.Array
    linear_steps: jax.Array
    quadratic_steps: jax.Array
    label: str


def two_phase_estimate(lam, T, *, residual0, lipschitz=1.0, beta=0.5, chi=1.0, a=1.0,
                       quadratic_steps=2):
    """The K.1 two-phase model: a linear phase to the basin, then a few quadratic steps.

    ``steps ≈ min(T, max(0, log(χ L ‖r^{(0)}‖ / (2 μ̃)) / log(1/β)) + quadratic_steps)`` with
    ``μ̃ = ((e^λ − 1)/(a(e^{λT} − 1)))²`` (Theorem 2's lower bound) and the basin ``2μ̃/L``
    (Theorem 5). The paper writes ``log(χ L‖r^{(0)}‖/μ)``; the factor 2 only shifts the estimate
    by ``log 2/log(1/β)``. An estimate, not a bound: χ and β are model parameters. Vectorised.

    Args:
        lam: λ (finite); T: length(s) ≥ 1; residual0: ``‖r^{(0)}‖ > 0``; lipschitz: L > 0;
        beta: 0 < β < 1; chi: χ ≥ 1; a: a ≥ 1; quadratic_steps: ≥ 0.

    Returns:
        :class:`StepEstimate`.

    Raises:
        ValueError / TypeError: bad arguments.

    References: PAPER.md §5 (empirical two-phase model K.1; Figure 2's −log μ̃).
    """
    dtype = float_dtype(lam, T, residual0, lipschitz, beta, chi, a)
    lam = as_float_array(lam, "lam", dtype)
    check_range(lam, "lam")
    T = _check_T(T, dtype)
    r0 = as_float_array(residual0, "residual0", dtype)
    check_range(r0, "residual0", low=0, low_open=True)
    L = as_float_array(lipschitz, "lipschitz", dtype)
    check_range(L, "lipschitz", low=0, low_open=True)
    beta = _check_beta(beta, dtype)
    chi = as_float_array(chi, "chi", dtype)
    check_range(chi, "chi", low=1)
    a = as_float_array(a, "a", dtype)
    check_range(a, "a", low=1)
    quad = as_float_array(quadratic_steps, "quadratic_steps", dtype)
    check_range(quad, "quadratic_steps", low=0)
    steps, lin, quad = _two_phase_core(lam, T, r0, L, beta, chi, a, quad)
    return StepEstimate(steps, lin, quad, "estimate (PAPER.md §5, two-phase model K.1), not a bound")


@jax.jit
def _two_phase_core(lam, T, r0, L, beta, chi, a, quad):
    log_mu, _ = _log_bounds_core(lam, T, a, jnp.ones((), a.dtype), None)
    lin = jnp.maximum(0.0, (jnp.log(chi) + jnp.log(L) + jnp.log(r0) - jnp.log(2.0) - log_mu) / -jnp.log(beta))
    steps = jnp.minimum(T, lin + quad)
    return tuple(jnp.broadcast_arrays(steps, lin, quad))


def gd_steps_to_basin(mu, smoothness, lipschitz, residual0):
    """Gradient-descent steps (step 1/L_s) to reach the basin ``‖r‖ < 2μ/L`` under the PL inequality.

    ``L(s_k) ≤ (1 − μ/L_s)^k L(s_0)`` gives ``k = 2 log(L‖r^{(0)}‖/(2μ)) / (−log(1 − μ/L_s))
    ≤ (L_s/μ) · 2 log(L‖r^{(0)}‖/(2μ))`` — the paper's ``O((L_s/μ) log(L‖r^{(0)}‖/μ))``. It is a
    bound only if μ is a PL constant along the whole path and L_s the smoothness of L there, which
    are rarely known: reported as an estimate. 0 when already in the basin; vectorised.

    Args:
        mu: PL constant μ > 0; smoothness: L_s ≥ μ; lipschitz: L ≥ 0; residual0: ``‖r^{(0)}‖ ≥ 0``.

    Returns:
        :class:`StepEstimate` (all steps linear).

    Raises:
        ValueError / TypeError: μ ≤ 0, L_s < μ, L < 0, non-finite values.

    References: PAPER.md §5 (gradient descent to the basin, standard PL form).
    """
    dtype = float_dtype(mu, smoothness, lipschitz, residual0)
    mu, L = _check_mu_L(mu, lipschitz, dtype)
    Ls = as_float_array(smoothness, "smoothness", dtype)
    check_range(Ls, "smoothness", low=0, low_open=True)
    if np.any(np.asarray(mu) > np.asarray(Ls)):
        raise ValueError(f"smoothness: expected L_s >= mu (a PL constant never exceeds the smoothness), "
                         f"got L_s = {np.asarray(Ls).tolist()}, mu = {np.asarray(mu).tolist()}")
    r0 = as_float_array(residual0, "residual0", dtype)
    check_range(r0, "residual0", low=0)
    with np.errstate(divide="ignore"):
        log_ratio = jnp.log(L) + jnp.log(r0) - jnp.log(2.0 * mu)
    rate = -jnp.log1p(-mu / Ls)
    steps = jnp.where(log_ratio > 0, 2.0 * log_ratio / rate, 0.0)
    steps = jnp.where(rate == jnp.inf, jnp.where(log_ratio > 0, 1.0, 0.0), steps)  # μ = L_s: one step
    zero = jnp.zeros_like(steps)
    return StepEstimate(steps, steps, zero, "estimate (PAPER.md §5, gradient descent under PL), not a bound")
