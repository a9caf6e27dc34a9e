"""The building blocks of :func:`verification.verify`: check records, growth classes, rate fits,
analytic constants of the catalog systems and the fixed-shape numerical kernels.

The kernels are ``jit``-compiled on arrays only (never on the user's step function), padded to
the largest length, so one compilation serves every prefix length and every system of the same
``(T, D)``.

References: PAPER.md §3 (eq. 10), §4 (Theorems 2–5), §5 (iteration counts).
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

import theory

__all__ = [
    "Check",
    "HOLDS",
    "VIOLATED",
    "AGREES",
    "DEVIATION",
    "SKIPPED",
    "rigorous_check",
    "estimate_check",
    "skipped_check",
    "classify_growth",
    "predicted_growth",
    "fit_linear_rate",
    "known_constants",
    "prefix_burn_in",
    "prefix_sigma_min",
]

HOLDS = "holds"
VIOLATED = "violated"
AGREES = "agrees"
DEVIATION = "deviation"
SKIPPED = "skipped"

RIGOROUS = "rigorous"
ESTIMATE = "estimate"


@dataclasses.dataclass(frozen=True)
class Check:
    """One comparison of a prediction of the theory with a measurement.

    Attributes:
        name: short identifier (``"theorem2_solution"``, ``"iteration_bound"``, …).
        theorem: what in PAPER.md it checks (``"Theorem 2"``, …).
        kind: ``"rigorous"`` (a bound that must hold when its hypotheses do) or ``"estimate"``.
        T: the length it is about (``None`` for system-wide checks).
        status: ``"holds"`` / ``"violated"`` (rigorous), ``"agrees"`` / ``"deviation"``
            (estimates, and rigorous checks whose hypotheses could not all be verified),
            ``"skipped"``.
        predicted: the predicted value or bound (a number, or ``[lower, upper]``).
        measured: the measured value.
        ratio: measured / predicted where meaningful (``None`` otherwise).
        hypotheses_verified: whether every hypothesis was checked on the states the bound is
            about (only then can a failure be a violation).
        hypotheses: the hypotheses in words, each saying whether it was verified.
        detail: one line on how the numbers were obtained or why the check was skipped.
    """

    name: str
    theorem: str
    kind: str
    T: int | None
    status: str
    predicted: object = None
    measured: object = None
    ratio: float | None = None
    hypotheses_verified: bool = False
    hypotheses: tuple[str, ...] = ()
    detail: str = ""

    @property
    def is_violation(self) -> bool:
        return self.status == VIOLATED

    @property
    def is_deviation(self) -> bool:
        return self.status == DEVIATION


def rigorous_check(name, theorem, T, ok, *, verified, hypotheses, predicted, measured, ratio=None,
                   detail=""):
    """A rigorous check: a failure is a violation only when every hypothesis was verified."""
    if ok:
        status = HOLDS
    else:
        status = VIOLATED if verified else DEVIATION
    return Check(name, theorem, RIGOROUS, T, status, predicted, measured, ratio, bool(verified),
                 tuple(hypotheses), detail)


def estimate_check(name, theorem, T, ok, *, predicted, measured, ratio=None, hypotheses=(), detail=""):
    """An estimate: a miss is a deviation (with its ratio), never a violation."""
    return Check(name, theorem, ESTIMATE, T, AGREES if ok else DEVIATION, predicted, measured, ratio,
                 False, tuple(hypotheses), detail)


def skipped_check(name, theorem, T, reason, kind=RIGOROUS):
    return Check(name, theorem, kind, T, SKIPPED, detail=reason)


# --------------------------------------------------------------------------- growth classes

FLAT = "flat"
LOGARITHMIC = "logarithmic"
LINEAR = "linear"
BOUNDED = "flat or logarithmic"
MARGINAL = "marginal (no prediction)"


def classify_growth(lengths, counts) -> str:
    """Growth class of measured iteration counts against T: flat, logarithmic or linear.

    Flat: the counts change by at most ``max(2, 25%)`` over the lengths. Otherwise the log-log
    slope ``p`` of count against T between the first and the last length decides: ``p ≥ 0.5``
    (power-law growth, as O(T)) is linear, below it logarithmic.
    """
    lengths = np.asarray(lengths, float)
    counts = np.maximum(np.asarray(counts, float), 1.0)
    if lengths.size < 2:
        return FLAT
    lo, hi = counts.min(), counts.max()
    if hi - lo <= max(2.0, 0.25 * lo):
        return FLAT
    p = math.log(counts[-1] / counts[0]) / math.log(lengths[-1] / lengths[0])
    return LINEAR if p >= 0.5 else LOGARITHMIC


def predicted_growth(lam: float, T_max: int) -> str:
    """What the sign of λ predicts (PAPER.md §4–5): bounded counts (flat or O(log T)) for
    ``λ T_max < −1``, linear growth for ``λ T_max > 1``, no prediction in between (the
    transition at λ = 0 needs ``|λ| T ≫ 1`` to show)."""
    x = lam * T_max
    if x < -1.0:
        return BOUNDED
    if x > 1.0:
        return LINEAR
    return MARGINAL


def growth_agrees(measured: str, predicted: str) -> bool | None:
    if predicted == MARGINAL:
        return None
    if predicted == BOUNDED:
        return measured in (FLAT, LOGARITHMIC)
    return measured == predicted


# --------------------------------------------------------------------------- Theorem 4 fit


def fit_linear_rate(errors, floor):
    """Fit ``‖e^(i)‖ ≈ χ β^i ‖e^(0)‖``: β from a least-squares line through ``log ‖e^(i)‖`` over
    the iterates above ``floor``; χ = ``max_i ‖e^(i)‖ / (β^i ‖e^(0)‖)`` (the overshoot, ≥ 1).

    Returns ``(beta, chi, n_used)``; ``(None, None, n)`` when fewer than two usable iterates.
    """
    e = np.asarray(errors, float)
    idx = np.nonzero(np.isfinite(e) & (e > floor))[0]
    if idx.size < 2 or e[0] <= 0 or not np.isfinite(e[0]):
        return None, None, int(idx.size)
    slope = np.polyfit(idx.astype(float), np.log(e[idx]), 1)[0]
    beta = float(np.exp(slope))
    ratio = e[idx] / (e[0] * beta ** idx.astype(float))
    return beta, float(max(1.0, np.max(ratio))), int(idx.size)


# --------------------------------------------------------------------------- analytic constants

_TANH_CURVATURE = 4.0 / (3.0 * math.sqrt(3.0))  # max_s |d/ds sech²(s)| = max |2 sech² tanh|


def _spectral(M):
    return float(np.linalg.norm(np.asarray(M), 2))


def known_constants(system, jacobians):
    """Rigorous global constants of catalog systems, confirmed against their Jacobians.

    Returns a dict with optional ``lipschitz`` and ``rho`` entries ``(value, reason)``:
    ``lipschitz`` bounds ``‖J_t(x) − J_t(y)‖ ≤ L ‖x − y‖`` for all x, y (Theorem 3), ``rho`` bounds
    ``‖J_t(s)‖`` for every state s (Theorem 4). A constant is used only if the system's Jacobians
    along its trajectory have the structure the derivation assumes (so a user system that merely
    shares a catalog name gets none).

    - mean-field RNN ``J_t(s) = W diag(sech² s)``: ρ = ‖W‖₂, L = ‖W‖₂ · 4/(3√3);
    - linear map: L = 0, ρ = ‖A‖₂;
    - logistic ``J = r(1 − 2s)``: L = 2|r|; Hénon ``J = [[−2ax, 1], [b, 0]]``: L = 2|a|;
    - Lorenz (Euler map ``I + Δt DF``, DF affine in x with unit coefficients) and its observer:
      L = Δt √2.
    """
    name = system.name
    J = np.asarray(jacobians)
    s0 = np.asarray(system.s0)
    out = {}
    p = dict(system.params)
    try:
        if name == "mean_field_rnn":
            u1 = jax.tree_util.tree_map(lambda x: x[0], system.inputs)
            W = np.asarray(jax.jacfwd(system.f)(jnp.zeros_like(system.s0), u1))
            predicted = W * (1.0 / np.cosh(s0) ** 2)[None, :]
            if np.allclose(predicted, J[0], rtol=1e-6, atol=1e-9):
                nW = _spectral(W)
                out["rho"] = (nW, "||J_t(s)|| = ||W diag(sech^2 s)|| <= ||W||_2 for every s")
                out["lipschitz"] = (nW * _TANH_CURVATURE,
                                    "||W||_2 * max|d sech^2/ds| = ||W||_2 * 4/(3 sqrt 3), for all states")
        elif name == "linear":
            if np.allclose(J, J[0][None], rtol=1e-12, atol=1e-12):
                out["lipschitz"] = (0.0, "linear map: constant Jacobian")
                out["rho"] = (_spectral(J[0]), "linear map: ||J_t|| = ||A||_2 everywhere")
        elif name == "logistic" and "r" in p:
            out["lipschitz"] = (2.0 * abs(float(p["r"])), "J(s) = r(1 - 2s): L = 2|r|")
        elif name == "henon" and "a" in p:
            out["lipschitz"] = (2.0 * abs(float(p["a"])), "J = [[-2 a x, 1], [b, 0]]: L = 2|a|")
        elif name in ("Lorenz", "Lorenz_observer") and "dt" in p:
            out["lipschitz"] = (float(p["dt"]) * math.sqrt(2.0),
                                "Euler map I + dt DF(x), DF affine in x with +-1 coefficients: L = dt sqrt 2")
    except Exception:  # noqa: BLE001 - an unexpected structure simply gives no analytic constant
        return {}
    return out


# --------------------------------------------------------------------------- kernels


def _spectral_norms(X):
    # Largest singular value of each D×D block (batched SVD values only).
    return jnp.linalg.svd(X, compute_uv=False)[..., 0]


@jax.jit
def _window_log_extremes(jacobians, lam):
    """For every end index e (0-based into J_2 … J_T), the max and min over windows
    ``J_e ⋯ J_i`` (2 ≤ i ≤ e) of ``log ‖J_e ⋯ J_i‖ − λ (e − i + 1)``."""
    Js = jacobians[1:]
    n, D, _ = Js.shape
    idx = jnp.arange(n)

    def step(carry, k):
        Q, logs, hi_e, lo_e = carry
        end = idx + k - 1
        nxt = Js[jnp.minimum(end, n - 1)]
        X = nxt @ Q
        nrm = _spectral_norms(X)
        Q = X / jnp.where(nrm > 0, nrm, 1)[:, None, None]
        logs = logs + jnp.log(nrm)
        ratio = logs - lam * k
        valid = end < n
        e = jnp.minimum(end, n - 1)
        hi_e = hi_e.at[e].max(jnp.where(valid, ratio, -jnp.inf))
        lo_e = lo_e.at[e].min(jnp.where(valid, ratio, jnp.inf))
        return (Q, logs, hi_e, lo_e), None

    Q0 = jnp.broadcast_to(jnp.eye(D, dtype=Js.dtype), (n, D, D))
    init = (Q0, jnp.zeros((n,), Js.dtype), jnp.full((n,), -jnp.inf, Js.dtype),
            jnp.full((n,), jnp.inf, Js.dtype))
    (_, _, hi_e, lo_e), _ = jax.lax.scan(step, init, jnp.arange(1, n + 1))
    return hi_e, lo_e


def prefix_burn_in(jacobians, lam, lengths):
    """Exact burn-in constants a, b of eq. (10) for every prefix length, from one pass.

    For a prefix of length T' the windows are those inside ``J_2 … J_{T'}`` (as in Theorem 2 and
    :func:`theory.burn_in_constants` with ``start=2``); the empty window gives a ≥ 1 ≥ b. All
    O(T²) products are formed once (renormalised, in log space) and the extremes are accumulated
    by end index, so the constants of every prefix follow by a running max/min.

    Returns:
        ``(log_a, log_b)`` numpy arrays of shape ``(len(lengths),)``.
    """
    J = jnp.asarray(jacobians)
    lengths = np.asarray(lengths, int)
    if J.shape[0] < 2:
        z = np.zeros(lengths.shape)
        return z, z
    hi_e, lo_e = _window_log_extremes(J, jnp.asarray(lam, J.dtype))
    hi = np.maximum.accumulate(np.asarray(hi_e))
    lo = np.minimum.accumulate(np.asarray(lo_e))
    log_a = np.zeros(lengths.shape)
    log_b = np.zeros(lengths.shape)
    for j, Tp in enumerate(lengths):
        if Tp >= 2:
            log_a[j] = max(0.0, hi[Tp - 2])
            log_b[j] = min(0.0, lo[Tp - 2])
    return log_a, log_b


@jax.jit
def _sigma_min_lanczos(jacobians, key):
    est = theory.sigma_min(jacobians, method="lanczos", key=key)
    return est.value, est.accuracy


@jax.jit
def _sigma_min_dense(jacobians):
    est = theory.sigma_min(jacobians, method="dense")
    return est.value, est.accuracy


_DENSE_LIMIT = 160  # a dense SVD beyond this is slower than Lanczos on CPU


def prefix_sigma_min(jacobians, lengths, *, key):
    """σ_min of the residual Jacobian of every prefix ``J_1 … J_{T'}`` (:func:`theory.sigma_min`).

    Dense SVD when ``T'·D ≤ 160``; otherwise Lanczos on the full-length sequence with
    ``J_t = 0`` for t > T': the residual Jacobian is then block diagonal ``diag(J_{T'}, I)`` and,
    because ``σ_min(J_{T'}) ≤ 1`` (its inverse has identity diagonal blocks), its σ_min is that of
    the prefix — one compilation serves every length.

    Returns:
        ``(values, accuracies)`` numpy arrays (NaN where the computation failed).
    """
    J = jnp.asarray(jacobians)
    T, D, _ = J.shape
    vals, accs = [], []
    for j, Tp in enumerate(np.asarray(lengths, int)):
        if Tp * D <= _DENSE_LIMIT:
            v, a = _sigma_min_dense(J[:Tp])
        else:
            mask = (jnp.arange(T) < Tp)[:, None, None]
            v, a = _sigma_min_lanczos(jnp.where(mask, J, 0.0), jax.random.fold_in(key, j))
        vals.append(float(v))
        accs.append(float(a))
    return np.asarray(vals), np.asarray(accs)
