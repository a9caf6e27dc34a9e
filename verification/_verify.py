"""Predicted vs measured on one system: :func:`verify`, :func:`diagnose` and the assertions for
users' own test suites.

References: PAPER.md §2 (causality, ≤ T exactness), §3 (LLE, eq. 10), §4 (Theorems 2, 4, 5),
§5 (iteration counts), §7 (guidance).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import operator
import time

import jax
import jax.numpy as jnp
import numpy as np

import solvers
import theory

from . import _checks as C
from ._report import LengthResult, Report, SystemReport
from ._system import System

__all__ = ["verify", "assert_bounds_hold", "assert_parallelizable", "diagnose", "Diagnosis",
           "default_lengths", "check_system"]

_DENSE_BURN_IN_BUDGET = 3e9  # T²·D³ up to which eq. (10) is evaluated over every window


def default_lengths(T: int) -> tuple[int, ...]:
    """Log-spaced prefix lengths 10, 30, 100, 300, … below T, and T itself."""
    out = [n for n in (10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000) if n < T]
    return tuple(out + [T])


def _check_lengths(lengths, T):
    if lengths is None:
        return default_lengths(T)
    try:
        values = [operator.index(n) for n in lengths]
    except TypeError:
        raise TypeError(f"lengths: expected a sequence of integers, got {lengths!r}") from None
    if not values:
        raise ValueError("lengths: expected at least one length, got none")
    if any(n < 2 for n in values) or any(b <= a for a, b in itertools.pairwise(values)):
        raise ValueError(f"lengths: expected strictly increasing integers >= 2, got {values}")
    if values[-1] > T:
        raise ValueError(f"lengths: expected lengths <= the system's T = {T}, got {values}")
    return tuple(values)


def check_system(system) -> System:
    """Validate a user's system: a :class:`System` whose step function runs and returns ``(D,)``.

    Raises:
        TypeError: not a System.
        ValueError: the step function fails, returns the wrong shape or dtype, or the sequential
            trajectory is not finite.
    """
    if not isinstance(system, System):
        raise TypeError(f"system: expected a verification.System, got {type(system).__name__}")
    u1 = jax.tree_util.tree_map(lambda x: x[0], system.inputs)
    try:
        out = jax.eval_shape(system.f, system.s0, u1)
    except Exception as exc:  # noqa: BLE001 - the user's function: report it, do not crash
        raise ValueError(f"system {system.name}: calling f(s0, inputs[0]) failed: "
                         f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from exc
    if getattr(out, "shape", None) != system.s0.shape or getattr(out, "dtype", None) != system.s0.dtype:
        raise ValueError(f"system {system.name}: f(s_prev, u_t) must return shape {system.s0.shape} and dtype "
                         f"{system.s0.dtype} like s0, got {getattr(out, 'shape', type(out).__name__)} "
                         f"{getattr(out, 'dtype', '')}".rstrip())
    return system


def _trajectory(system):
    states = system.trajectory()
    if not bool(jnp.all(jnp.isfinite(states))):
        bad = int(np.argmax(~np.all(np.isfinite(np.asarray(states)), axis=1))) + 1
        raise ValueError(f"system {system.name}: the sequential trajectory is not finite (first at t = {bad}); "
                         "nothing can be verified on a diverging rollout")
    return states


def _spectral_norms(J):
    return np.asarray(jnp.linalg.svd(J, compute_uv=False)[..., 0])


def _precision_floor(system, states):
    # The merit rounding floor of solvers.evaluate: residuals cannot resolve below a few ulps.
    fs = jax.vmap(system.f)(solvers.shift(system.s0, states), system.inputs)
    eps = float(jnp.finfo(states.dtype).eps)
    scale = np.abs(np.asarray(states)) + np.abs(np.asarray(fs))
    return 0.5 * float(np.sum((8 * eps * scale) ** 2)) / states.shape[0], float(np.linalg.norm(scale))


def _solver_name(solver):
    return type(solver).__name__


def verify(system, lengths=None, *, solver=None, key, tol=1e-10, burn_in=None, num_vectors=3,
           lipschitz=None, rho=None, beta=0.5, reset_nonfinite=True, max_sampled_iterates=6,
           max_trace_bytes=2**28, progress=None) -> Report:
    """Measure parallel evaluation of ``system`` as T grows and check every prediction of the theory.

    Along the sequential trajectory: the LLE λ (with burn-in), the burn-in constants a, b of
    eq. (10), max‖J_t‖. One traced solve at the largest length gives the measured iteration count
    of every prefix length (causality). Per length:

    - Theorem 2: ``(1/a)(e^λ−1)/(e^{λT}−1) ≤ σ_min(J) ≤ min(e^{−λ(T−1)}/b, 1)`` at the solution, and
      at the iterate of smallest σ_min among the sampled iterates — each time with a, b measured
      exactly (all windows) on *those* states, so a failure is a violation, not an artefact of
      mixing constants from different states;
    - ≤ T exactness: the prefix count is at most T' (causal solvers);
    - the rigorous :func:`theory.iteration_bound` and the :func:`theory.two_phase_estimate`;

    and along the trace (DEER only): Theorem 5's quadratic contraction at every checked iterate
    inside the basin ``‖r‖ < 2σ_min(J(s^(i)))²/L``, Theorem 4's fitted rate and overshoot and its
    weighted-norm bound; finally the growth class of the counts against T versus the sign of λ.

    A rigorous check whose hypotheses were all verified and which fails is a *violation*; an
    estimate that misses (or a bound with unverified hypotheses) is a *deviation*. The report says
    which hypotheses were verified.

    Args:
        system: a :class:`verification.System` (truncated to the largest length).
        lengths: increasing prefix lengths ≥ 2 (default :func:`default_lengths` of ``system.T``).
        solver: a causal solver (default ``solvers.DEER()``).
        key: JAX PRNG key (initial guess, LLE start vectors, Lanczos, Lipschitz sampling).
        tol: merit tolerance ``L(s)/T`` (default 1e-10).
        burn_in: LLE transient steps discarded (default T // 10).
        num_vectors: LLE start vectors averaged.
        lipschitz: a rigorous Lipschitz constant of the J_t if you know one (makes Theorem 5 and
            the iteration bound rigorous); otherwise an analytic one for catalog systems, or a
            sampled estimate (checks then report deviations, not violations).
        rho: a rigorous bound on ‖J_t(s)‖ over all states, if known (Theorem 4).
        beta: the rate used for Theorem 4's bound and the iteration bound.
        reset_nonfinite: reset non-finite iterate entries to the guess (the paper's choice).
        max_sampled_iterates: iterates at which σ_min(J) is computed (all of them when fewer).
        max_trace_bytes: memory allowed for the trace of every iterate; beyond it only the
            sampled iterates are recomputed (Theorem 4 then fits the sampled errors).
        progress: optional callable receiving a short stage name.

    Returns:
        A :class:`Report` with one :class:`SystemReport`.

    Raises:
        TypeError / ValueError: bad arguments, a failing step function, a diverging rollout.

    References: PAPER.md §2–5.
    """
    t_start = time.perf_counter()
    say = progress or (lambda stage: None)
    if solver is None:
        solver = solvers.DEER()
    if not isinstance(solver, solvers.AbstractSolver):
        raise TypeError(f"solver: expected a solver object such as solvers.DEER(), got {solver!r}")
    if not solver.causal or isinstance(solver, solvers.Sequential):
        raise ValueError(f"solver: verify needs a causal parallel solver (DEER family, Picard, Jacobi) "
                         f"for prefix counts, got {_solver_name(solver)}")
    if key is None:
        raise ValueError("key: a JAX PRNG key is required (initial guess, LLE), e.g. jax.random.key(0)")
    check_system(system)
    lengths = _check_lengths(lengths, system.T)
    T = lengths[-1]
    if T < system.T:
        system = system.truncate(T)
    tol = float(tol)
    if not (tol > 0 and math.isfinite(tol)):
        raise ValueError(f"tol: expected a finite number > 0, got {tol!r}")
    if burn_in is None:
        burn_in = T // 10
    k_guess, k_lle, k_sig, k_lip, k_sig2 = jax.random.split(key, 5)
    is_newton = isinstance(solver, solvers.DEER)  # DampedDEER/QuasiDEER are not Newton steps
    notes = []

    # ---------------------------------------------------------------- along the solution
    say("trajectory")
    s_star = _trajectory(system)
    J_star = system.jacobians(s_star)
    if not bool(jnp.all(jnp.isfinite(J_star))):
        raise ValueError(f"system {system.name}: the Jacobians along the trajectory are not finite")
    D = system.D
    dtype = str(s_star.dtype)
    say("lle")
    lam = float(theory.lle(J_star, key=k_lle, num_vectors=num_vectors, burn_in=burn_in))
    norms = _spectral_norms(J_star)
    max_norm = float(norms.max())
    exact_burn_in = T * T * D**3 <= _DENSE_BURN_IN_BUDGET
    say("burn-in constants")
    if exact_burn_in:
        log_a, log_b = C.prefix_burn_in(J_star, lam, lengths)
    else:
        window = max(1, int(math.sqrt(_DENSE_BURN_IN_BUDGET / D**3) // 4))
        log_a, log_b = [], []
        for Tp in lengths:
            bc = theory.burn_in_constants(J_star[:Tp], lam, max_window=window)
            log_a.append(float(bc.log_a))
            log_b.append(float(bc.log_b))
        log_a, log_b = np.asarray(log_a), np.asarray(log_b)
        notes.append(f"eq. (10) constants from windows of length <= {window} only (T^2 D^3 too large for all "
                     "windows): Theorem 2 checks are then estimates")
    if isinstance(solver, solvers.QuasiDEER) and bool(jnp.all(jnp.diagonal(J_star, axis1=-2, axis2=-1) == 0)):
        notes.append("diag(J_t) = 0 along the trajectory: quasi-DEER coincides with Jacobi here")

    known = C.known_constants(system, J_star)
    if lipschitz is not None:
        L_val, L_method, L_rig = float(lipschitz), "given by the caller", True
    elif "lipschitz" in known:
        (L_val, L_method), L_rig = known["lipschitz"], True
    else:
        say("lipschitz")
        est = theory.jacobian_lipschitz(system.f, system.s0, s_star, system.inputs, key=k_lip, num_samples=8)
        L_val = float(est.value)
        L_method, L_rig = "sampled along the solution (theory.jacobian_lipschitz), a lower estimate", False
    if rho is not None:
        rho_val, rho_method, rho_rig = float(rho), "given by the caller", True
    elif "rho" in known:
        (rho_val, rho_method), rho_rig = known["rho"], True
    else:
        rho_val, rho_method, rho_rig = None, "", False

    # ---------------------------------------------------------------- one traced solve
    say("solve")
    init = system.initial_guess(k_guess)
    trace_bytes = (T + 1) * T * D * s_star.dtype.itemsize
    traced_states = trace_bytes <= max_trace_bytes
    sol = solvers.evaluate(system.f, system.s0, system.inputs, solver, init=init, tol=tol,
                           lengths=list(lengths), trace="states" if traced_states else True,
                           reset_nonfinite=reset_nonfinite)
    status = solvers.Status(int(sol.status)).name.lower()
    n_total = int(sol.num_iters)
    counts = [int(x) for x in np.asarray(sol.prefix_iters)]
    conv = [bool(x) for x in np.asarray(sol.prefix_converged)]
    merits = np.asarray(sol.merit_trace)[: n_total + 1]
    residual_trace = np.sqrt(2.0 * T * np.maximum(merits, 0.0))
    terms0 = np.asarray(solvers.merit_terms(system.f, system.s0, init, system.inputs))
    residual0 = [math.sqrt(2.0 * float(np.sum(terms0[:Tp]))) for Tp in lengths]
    floor, _ = _precision_floor(system, s_star)

    last = {"i": 0, "states": init}  # the latest recomputed iterate, to continue from

    def iterate(i):
        if traced_states:
            return sol.states_trace[i]
        if i == n_total:
            return sol.states
        # Continue from the last recomputed iterate (the update only depends on the current one);
        # accept only if its merit equals the traced one, else redo from the guess (a reset of
        # non-finite entries targets the guess, so continuing would differ).
        if 0 < last["i"] <= i:
            cont = solvers.evaluate(system.f, system.s0, system.inputs, solver, init=last["states"],
                                    tol=tol, max_iters=i - last["i"], reset_nonfinite=reset_nonfinite)
            m, ref = float(cont.merit), float(merits[i])
            if int(cont.num_iters) == i - last["i"] and abs(m - ref) <= 1e-6 * abs(ref) + 1e-300:
                last.update(i=i, states=cont.states)
                return cont.states
        states = solvers.evaluate(system.f, system.s0, system.inputs, solver, init=init, tol=tol,
                                  max_iters=i, reset_nonfinite=reset_nonfinite).states
        last.update(i=i, states=states)
        return states

    # sampled iterates: evenly spaced, plus the candidates for Theorem 5 (small residual)
    if n_total + 1 <= max_sampled_iterates:
        sampled = list(range(n_total + 1))
    else:
        sampled = sorted(set(np.linspace(0, n_total, max_sampled_iterates).round().astype(int).tolist()))
    basin_cap = 2.0 / L_val if L_val > 0 else math.inf  # σ_min ≤ 1, so the basin is inside ‖r‖ < 2/L
    candidates = []
    if is_newton:
        candidates = [i for i in range(n_total) if residual_trace[i] < basin_cap][-8:]
    all_idx = sorted(set(sampled) | set(candidates))
    say("iterates")
    it_states, it_jac = {}, {}
    for i in all_idx:
        s_i = iterate(i)
        J_i = system.jacobians(s_i)
        if bool(jnp.all(jnp.isfinite(J_i))):
            it_states[i], it_jac[i] = s_i, J_i
    sigma_it = {}  # i -> (values per length, accuracies per length) for lengths whose run includes i
    for i in sampled:
        if i not in it_jac:
            continue
        sel = [j for j, n in enumerate(counts) if i <= n]
        if not sel:
            continue
        v, a = C.prefix_sigma_min(it_jac[i], [lengths[j] for j in sel], key=jax.random.fold_in(k_sig2, i))
        sigma_it[i] = {j: (float(vv), float(aa)) for j, vv, aa in zip(sel, v, a, strict=True)}

    # ---------------------------------------------------------------- per length
    say("theorem 2")
    s_sol, s_acc = C.prefix_sigma_min(J_star, lengths, key=k_sig)
    checks, per_length = [], []
    iterate_burn_in = {}
    for j, Tp in enumerate(lengths):
        a_j, b_j = _exp(log_a[j]), _exp(log_b[j])
        llo, lhi = _log_bounds(lam, Tp, log_a[j], log_b[j])
        lo_s, hi_s = math.exp(0.5 * llo), math.exp(0.5 * lhi)
        hyp_ab = (f"a = {a_j:.4g}, b = {b_j:.4g} of eq. (10) measured on J_2..J_{Tp} of the solution "
                  + ("over every window (verified)" if exact_burn_in else "over short windows only (not verified)"))
        checks.append(_theorem2_check("theorem2_solution", Tp, s_sol[j], s_acc[j], llo, lhi,
                                      exact_burn_in, hyp_ab, "at the solution (sequential trajectory)"))
        # min over the iterates of this prefix's run, with a, b measured on that iterate's states
        vals = [(sigma_it[i][j][0], sigma_it[i][j][1], i) for i in sigma_it if j in sigma_it[i]]
        vals = [v for v in vals if math.isfinite(v[0])]
        s_iter = None
        if vals:
            s_iter, acc_i, i_min = min(vals)
            if i_min not in iterate_burn_in and exact_burn_in:
                iterate_burn_in[i_min] = C.prefix_burn_in(it_jac[i_min], lam, lengths)
            if exact_burn_in:
                la_i, lb_i = iterate_burn_in[i_min][0][j], iterate_burn_in[i_min][1][j]
                llo_i, lhi_i = _log_bounds(lam, Tp, la_i, lb_i)
                hyp = (f"log a = {la_i:.4g}, log b = {lb_i:.4g} of eq. (10) measured on the Jacobians "
                       f"of iterate {i_min} over every window (verified)")
                checks.append(_theorem2_check("theorem2_iterates", Tp, s_iter, acc_i, llo_i, lhi_i, True, hyp,
                                              f"at iterate {i_min}, the smallest sigma_min of "
                                              f"{len(vals)} sampled iterates"))
            else:
                checks.append(C.skipped_check("theorem2_iterates", "Theorem 2", Tp,
                                              "eq. (10) constants too costly to measure exactly"))
        # ≤ T exactness (causality)
        floor_ok = tol >= 100 * floor
        if not conv[j] and status == "nonfinite":
            checks.append(C.skipped_check("exactness", "causality (§2)", Tp,
                                          "the solve stopped on non-finite values before this prefix "
                                          "converged (use reset_nonfinite=True)"))
        elif not conv[j] and counts[j] < Tp:
            # L(s)/T <= tol for the whole sequence does not imply it for every prefix: the run may stop
            # before a prefix meets its own tolerance, and exactness only promises T' iterations.
            checks.append(C.skipped_check("exactness", "causality (§2)", Tp,
                                          f"the solve stopped after {counts[j]} < T' iterations, before this "
                                          "prefix met its own tolerance"))
        else:
            checks.append(C.rigorous_check(
                "exactness", "causality (§2)", Tp, counts[j] <= Tp and conv[j], verified=floor_ok,
                hypotheses=("causal scan solver: exact after at most T iterations (verified: "
                            f"{_solver_name(solver)} is causal)",
                            f"tol = {tol:g} at least 100x the rounding floor of the merit ({floor:.2g}): "
                            + ("verified" if floor_ok else "NOT satisfied")),
                predicted=Tp, measured=counts[j], ratio=counts[j] / Tp,
                detail=f"prefix count {counts[j]} {'<=' if counts[j] <= Tp else '>'} T = {Tp}"
                       + ("" if conv[j] else " (prefix did not converge)")))
        # rigorous iteration bound and the two-phase estimate (Newton only)
        bound_iters = est_steps = None
        if is_newton:
            mus = [max(s_sol[j] - s_acc[j], 0.0) ** 2]
            mus += [max(v[0] - v[1], 0.0) ** 2 for v in vals]
            mu_j = min(mus)
            all_sampled = all(i in sigma_it and j in sigma_it[i] for i in range(counts[j] + 1))
            rho_j = rho_val
            if rho_j is None:
                rho_j = max([max_norm] + [float(_spectral_norms(it_jac[i][1:Tp]).max()) for i in sigma_it
                                          if j in sigma_it[i] and Tp > 1])
            try:
                ib = theory.iteration_bound(Tp, residual0=residual0[j], tol=tol, rho=rho_j, beta=beta,
                                            mu=mu_j if mu_j > 0 else None,
                                            lipschitz=L_val)
                bound_iters = int(ib.iterations)
                verified = rho_rig and L_rig and all_sampled and mu_j > 0
                hyps = (f"rho = {rho_j:.4g} bounds ||J_t|| at every state met: "
                        + (f"verified ({rho_method})" if rho_rig else "measured on the solution and sampled iterates only"),
                        f"L = {L_val:.4g}: " + ("verified (" + L_method + ")" if L_rig else "an estimate"),
                        f"mu = {mu_j:.4g} <= sigma_min(J(s^(i)))^2: "
                        + (f"verified at all {counts[j] + 1} iterates" if all_sampled else "checked at sampled iterates only"))
                if not conv[j] and counts[j] <= bound_iters:
                    checks.append(C.skipped_check(
                        "iteration_bound", "Theorems 2, 4, 5 (iteration_bound)", Tp,
                        f"prefix did not converge: its count {counts[j]} is only a lower bound (bound {bound_iters})"))
                else:
                    checks.append(C.rigorous_check(
                        "iteration_bound", "Theorems 2, 4, 5 (iteration_bound)", Tp, counts[j] <= bound_iters,
                        verified=verified, hypotheses=hyps, predicted=bound_iters, measured=counts[j],
                        ratio=counts[j] / max(bound_iters, 1),
                        detail=f"bound min(T, linear {ib.linear_only}, two-phase {ib.two_phase})"))
            except (ValueError, TypeError) as exc:
                checks.append(C.skipped_check("iteration_bound", "Theorems 2, 4, 5 (iteration_bound)", Tp,
                                              f"not computable: {exc}"))
            try:
                if not conv[j]:
                    raise ValueError("the prefix did not converge (its count is only a lower bound)")
                if L_val > 0 and residual0[j] > 0:
                    est = theory.two_phase_estimate(lam, Tp, residual0=residual0[j], lipschitz=L_val,
                                                    beta=beta, a=1.0)
                    est_steps = float(est.steps)
                else:
                    est_steps = 1.0 if residual0[j] > 0 else 0.0
                ok = abs(counts[j] - est_steps) <= 3 or (est_steps / 3 <= counts[j] <= 3 * est_steps)
                checks.append(C.estimate_check(
                    "two_phase_estimate", "§5 two-phase model (K.1)", Tp, ok, predicted=est_steps,
                    measured=counts[j], ratio=counts[j] / est_steps if est_steps > 0 else None,
                    detail=f"beta = {beta:g}, chi = 1, a = 1 (the paper's mu~), L = {L_val:.3g}; agreement = within "
                           "a factor 3 or 3 iterations"))
            except (ValueError, TypeError) as exc:
                checks.append(C.skipped_check("two_phase_estimate", "§5 two-phase model (K.1)", Tp,
                                              f"not computable: {exc}", kind=C.ESTIMATE))
        per_length.append(LengthResult(
            T=Tp, iterations=counts[j], converged=conv[j], a=a_j, b=b_j, burn_in_exact=exact_burn_in,
            sigma_min_solution=float(s_sol[j]), sigma_min_iterates=s_iter, iterates_sampled=len(vals),
            sqrt_mu_lower=lo_s, sqrt_mu_upper=hi_s, log_mu_lower=llo, log_mu_upper=lhi,
            residual0=residual0[j], iteration_bound=bound_iters, two_phase_estimate=est_steps))

    # ---------------------------------------------------------------- along the trace (Newton)
    rate_fit = {}
    if is_newton:
        say("theorems 4, 5")
        checks.append(_theorem5(system, s_star, it_states, it_jac, candidates, residual_trace, L_val, L_rig,
                                L_method, T, floor, k_lip))
        err_idx = list(range(n_total + 1)) if traced_states else sorted(it_states)
        errs = [float(jnp.linalg.norm(iterate(i) - s_star)) for i in err_idx] if traced_states else \
            [float(jnp.linalg.norm(it_states[i] - s_star)) for i in err_idx]
        err_floor = 1e3 * float(jnp.finfo(s_star.dtype).eps) * float(jnp.linalg.norm(s_star))
        b_fit, chi_fit, used = C.fit_linear_rate(_dense_errors(err_idx, errs), err_floor)
        rate_fit = {"beta": b_fit, "chi": chi_fit, "points": used,
                    "sequence": "errors ||s^(i) - s*|| of " + ("every iterate" if traced_states else "sampled iterates")}
        checks.append(_theorem4(err_idx, errs, rho_val if rho_rig else None, it_jac, max_norm, T, beta, rho_method,
                                err_floor))
    else:
        for name, thm in (("theorem5", "Theorem 5"), ("theorem4", "Theorem 4"),
                          ("iteration_bound", "Theorems 2, 4, 5 (iteration_bound)")):
            checks.append(C.skipped_check(name, thm, None, f"applies to DEER (Newton) steps, not "
                                                           f"{_solver_name(solver)}"))

    # ---------------------------------------------------------------- growth
    growth_m = C.classify_growth(lengths, counts)
    growth_p = C.predicted_growth(lam, T)
    agree = C.growth_agrees(growth_m, growth_p)
    if not all(conv):
        checks.append(C.skipped_check("growth", "§4 sharp transition at λ = 0", None,
                                      "some prefix did not converge: its count is only a lower bound",
                                      kind=C.ESTIMATE))
    elif agree is None:
        checks.append(C.skipped_check("growth", "§4 sharp transition at λ = 0", None,
                                      f"|λ| T = {abs(lam) * T:.2g} < 1: no prediction", kind=C.ESTIMATE))
    else:
        checks.append(C.estimate_check("growth", "§4 sharp transition at λ = 0", None, agree,
                                       predicted=growth_p, measured=growth_m,
                                       detail=f"lambda T = {lam * T:.3g}; counts {counts} at T = {list(lengths)}"))
    if reset_nonfinite:
        notes.append("non-finite iterate entries are reset to the initial guess (the paper's choice)")

    sys_report = SystemReport(
        name=system.name, description=system.description, params=_plain(dict(system.params)), T=T, D=D,
        dt=float(system.dt), solver=_solver_name(solver), tol=tol, dtype=dtype, lengths=tuple(lengths),
        iterations=tuple(counts), converged=tuple(conv), status=status, lle=lam,
        lle_continuous=lam / float(system.dt), burn_in=int(burn_in), a=_exp(log_a[-1]), b=_exp(log_b[-1]),
        max_jacobian_norm=max_norm, lipschitz=L_val, lipschitz_method=L_method, lipschitz_rigorous=L_rig,
        rho=rho_val, rho_method=rho_method or "none known", regime="predictable" if lam < 0 else "unpredictable",
        growth_measured=growth_m, growth_predicted=growth_p, rate_fit=rate_fit, per_length=tuple(per_length),
        checks=tuple(checks), seconds=time.perf_counter() - t_start, notes=tuple(notes))
    return Report((sys_report,), True, environment())


def environment() -> dict:
    import importlib.metadata
    import platform

    try:
        version = importlib.metadata.version("predictability")
    except importlib.metadata.PackageNotFoundError:  # running from a source tree
        version = "unknown"
    return {"predictability": version, "jax": jax.__version__, "backend": jax.default_backend(), "python": platform.python_version(),
            "x64": bool(jax.config.jax_enable_x64)}


def _plain(params):
    out = {}
    for k, v in params.items():
        if isinstance(v, (bool, int, float, str)) or v is None:
            out[k] = v
        elif isinstance(v, (tuple, list)):
            out[k] = [x if isinstance(x, (bool, int, float, str)) else str(x) for x in v]
        else:
            try:
                out[k] = float(v)
            except (TypeError, ValueError):
                out[k] = str(v)
    return out


def _dense_errors(idx, errs):
    """Errors on 0..max(idx) with NaN where an iterate was not sampled (for the fit)."""
    out = np.full(max(idx) + 1, np.nan)
    out[np.asarray(idx)] = errs
    return out


def _exp(x):
    return math.exp(x) if x < 700 else math.inf


def _log_bounds(lam, Tp, log_a, log_b):
    """Theorem 2's ``(log μ_lower, log μ_upper)`` with a, b given by their logarithms (no overflow).

    ``log μ_lower = −2 log a + log μ_lower(a = 1)`` (:func:`theory.log_pl_constant_bounds`);
    ``log μ_upper = 2 min(−λ(T − 1) − log b, 0)``.
    """
    llo, _ = theory.log_pl_constant_bounds(lam, Tp, 1.0, 1.0)
    lhi = 2.0 * min(-lam * (Tp - 1) - float(log_b), 0.0) if Tp > 1 else 0.0
    return float(llo) - 2.0 * float(log_a), lhi


def _theorem2_check(name, Tp, sigma, acc, llo, lhi, verified, hyp_ab, where):
    if not (math.isfinite(sigma) and math.isfinite(acc)):
        return C.skipped_check(name, "Theorem 2", Tp, f"sigma_min {where} not computable (overflow or no convergence)")
    hi_ok = math.log(max(sigma - acc, 1e-300)) <= 0.5 * lhi + 1e-9
    lo_ok = math.log(sigma + acc) >= 0.5 * llo - 1e-9
    lo_s, hi_s = math.exp(0.5 * llo), math.exp(0.5 * lhi)
    ratio = sigma / lo_s if lo_s > 0 else None
    return C.rigorous_check(
        name, "Theorem 2", Tp, hi_ok and lo_ok, verified=verified,
        hypotheses=(hyp_ab, f"sigma_min accurate to +-{acc:.2g} (dense SVD or Lanczos residual): verified"),
        predicted=[lo_s, hi_s], measured=sigma, ratio=ratio,
        detail=f"sqrt(mu) {where}: {lo_s:.4g} <= {sigma:.4g} <= {hi_s:.4g}"
               + ("" if lo_ok else " FAILS the lower bound") + ("" if hi_ok else " FAILS the upper bound"))


def _theorem5(system, s_star, it_states, it_jac, candidates, residual_trace, L, L_rig, L_method, T, floor, key):
    """Theorem 5 at every checked iterate inside the basin ‖r‖ < 2μ_i/L, μ_i = σ_min(J(s^(i)))²."""
    checked, fails, worst = 0, [], 0.0
    allowance = 100 * math.sqrt(2 * T * floor)  # the residual cannot resolve below rounding
    Ls_used = []
    for i in candidates:
        if i not in it_jac or i + 1 >= residual_trace.size:
            continue
        v, a = C.prefix_sigma_min(it_jac[i], [T], key=jax.random.fold_in(key, i))
        sigma = float(v[0]) - float(a[0])
        if not (sigma > 0 and math.isfinite(sigma)):
            continue
        mu = sigma**2
        L_i = L
        if not L_rig:  # re-estimate around this iterate: the step's segment lies near it
            radius = float(jnp.max(jnp.linalg.norm(it_states[i] - s_star, axis=-1)))
            est = theory.jacobian_lipschitz(system.f, system.s0, it_states[i], system.inputs,
                                            key=jax.random.fold_in(key, 1000 + i), radius=radius, num_samples=8)
            L_i = max(L, float(est.value))
        Ls_used.append(L_i)
        r_i, r_next = float(residual_trace[i]), float(residual_trace[i + 1])
        basin = float(theory.basin_radius(mu, L_i)) if L_i > 0 else math.inf
        if not r_i < basin:
            continue
        checked += 1
        rhs = (L_i / (2 * mu)) * r_i**2 if L_i > 0 else 0.0
        worst = max(worst, r_next / max(rhs + allowance, 1e-300))
        if r_next > rhs + allowance:
            fails.append(f"iterate {i}: ||r+|| = {r_next:.3g} > (L/2mu)||r||^2 = {rhs:.3g}")
    if checked == 0:
        return C.skipped_check("theorem5", "Theorem 5", T,
                               f"no checked iterate lies inside the basin 2 mu/L (L = {L:.3g}; candidates {candidates})")
    return C.rigorous_check(
        "theorem5", "Theorem 5", T, not fails, verified=L_rig,
        hypotheses=(f"L = {max(Ls_used):.4g} bounds the Lipschitz constant of the J_t on each step's segment: "
                    + (f"verified ({L_method})" if L_rig else "sampled estimate (not verified)"),
                    "mu_i = (sigma_min - accuracy)^2 of J at the iterate itself: verified"),
        predicted=1.0, measured=worst, ratio=worst,
        detail=f"{checked} iterate(s) inside the basin; worst ||r+|| / ((L/2mu)||r||^2 + rounding) = {worst:.3g}"
               + ("; " + "; ".join(fails[:2]) if fails else ""))


def _theorem4(idx, errs, rho_rig, it_jac, max_norm, T, beta, rho_method, err_floor):
    """Theorem 4's weighted-norm bound ``‖e^(i)‖ ≤ χ_w β^i ‖e^(0)‖`` on the measured errors."""
    errs = np.asarray(errs, float)
    if errs.size == 0 or not (errs[0] > 0 and np.isfinite(errs[0])):
        return C.skipped_check("theorem4", "Theorem 4", T, "initial error is zero or not finite")
    if not np.all(np.isfinite(errs)):
        return C.skipped_check("theorem4", "Theorem 4", T,
                               "iterates overflowed (non-finite entries were reset to the guess): Theorem 4 "
                               "describes plain Newton steps, not reset ones")
    if rho_rig is not None:
        rho, verified = rho_rig, True
        hyp = f"rho = {rho:.4g} bounds ||J_t(s)|| for every state s: verified ({rho_method})"
    else:
        rho = max([max_norm] + [float(_spectral_norms(J[1:]).max()) for J in it_jac.values()])
        verified = False
        hyp = (f"rho = {rho:.4g} = max ||J_t|| on the solution and sampled iterates; "
               "the segments between them are not covered (not verified)")
    c = theory.linear_convergence_constants(rho, T, beta)
    log_chi = float(c.log_chi)
    idx = np.asarray(idx, float)
    with np.errstate(divide="ignore"):
        log_ratio = np.log(np.maximum(errs, 1e-300)) - (np.log(errs[0]) + idx * math.log(beta))
    measured = float(np.max(log_ratio))
    ok = measured <= log_chi + 1e-9 or bool(np.all(errs[1:] <= err_floor))
    return C.rigorous_check(
        "theorem4", "Theorem 4", T, ok, verified=verified, hypotheses=(hyp,),
        predicted=log_chi, measured=measured,
        detail=f"log max_i ||e^(i)|| / (beta^i ||e^(0)||) = {measured:.4g} vs log chi_w = {log_chi:.4g} "
               f"(beta = {beta:g}, w = {float(c.w):.4g})")


# --------------------------------------------------------------------------- assertions


def assert_bounds_hold(report: Report) -> Report:
    """Raise ``AssertionError`` with the report's summary when any theorem check is violated.

    Example (in a user's test suite)::

        report = verification.verify(my_system(), key=jax.random.key(0))
        verification.assert_bounds_hold(report)
    """
    if not isinstance(report, Report):
        raise TypeError(f"report: expected a verification.Report, got {type(report).__name__}")
    if report.violations:
        raise AssertionError("theorem check violated:\n" + report.summary())
    return report


def assert_parallelizable(system, lengths=None, *, key, solver=None, **kwargs) -> Report:
    """Raise ``AssertionError`` unless ``system`` is predictable and parallel evaluation is fast.

    Runs :func:`verify` and requires: no violation, λ < 0, every prefix converged, and iteration
    counts that do not grow linearly in T. Returns the report otherwise.
    """
    report = verify(system, lengths, key=key, solver=solver, **kwargs)
    s = report.systems[0]
    reasons = []
    if report.violations:
        reasons.append("a theorem check is violated")
    if not s.lle < 0:
        reasons.append(f"largest Lyapunov exponent {s.lle:.4g} >= 0 (unpredictable)")
    if not all(s.converged):
        reasons.append("some prefix did not converge")
    if s.growth_measured == C.LINEAR:
        reasons.append("iteration counts grow linearly in T")
    if reasons:
        raise AssertionError(f"{s.name} is not parallelizable: " + "; ".join(reasons) + "\n" + report.summary())
    return report


# --------------------------------------------------------------------------- diagnose


@dataclasses.dataclass(frozen=True)
class Diagnosis:
    """What :func:`diagnose` concludes about a system.

    Attributes:
        name, T, D: the system.
        lle, lle_continuous: λ per step and per unit time.
        regime: ``"predictable"``, ``"unpredictable"`` or ``"marginal"``.
        predicted: ``{T: estimated DEER iterations}`` (the two-phase estimate, PAPER.md §5).
        measured: ``{T: measured DEER iterations}`` from one run (empty when not measured).
        recommendation: ``"DEER"``, ``"quasi-DEER"`` or ``"sequential"``.
        reasons: why, in sentences.
    """

    name: str
    T: int
    D: int
    lle: float
    lle_continuous: float
    regime: str
    predicted: dict
    measured: dict
    recommendation: str
    reasons: tuple[str, ...]

    def summary(self) -> str:
        lines = [f"system: {self.name} (T = {self.T}, D = {self.D})",
                 f"largest Lyapunov exponent: {self.lle:.5g} per step ({self.lle_continuous:.5g} per unit time)",
                 f"regime: {self.regime}",
                 "predicted DEER iterations (estimate, PAPER.md §5): "
                 + ", ".join(f"T={T}: {n:.0f}" for T, n in self.predicted.items())]
        if self.measured:
            lines.append("measured DEER iterations: " + ", ".join(f"T={T}: {n}" for T, n in self.measured.items()))
        lines.append(f"recommendation: {self.recommendation}")
        lines += [f"  - {r}" for r in self.reasons]
        return "\n".join(lines)


def diagnose(system, *, key, horizons=(100, 1000, 10000, 100000), measure=True, max_measure_T=1000) -> Diagnosis:
    """λ, the regime, predicted iterations as T grows and a recommendation for ``system``.

    The LLE comes from the sequential trajectory (burn-in T // 10). Predicted iterations use the
    two-phase estimate with the measured initial residual per step (scaled as √T) and a sampled
    Lipschitz estimate. With ``measure`` one DEER run on the first ``min(T, max_measure_T)`` steps
    gives measured prefix counts. Recommendation: sequential when λ ≥ 0 (PAPER.md §7); otherwise
    DEER, or quasi-DEER when the dense Jacobians would be large (D > 64: O(T D²) memory).
    """
    check_system(system)
    if key is None:
        raise ValueError("key: a JAX PRNG key is required, e.g. jax.random.key(0)")
    T, D = system.T, system.D
    if T < 2:
        raise ValueError(f"system {system.name}: expected T >= 2 steps, got {T}")
    k_lle, k_guess, k_lip = jax.random.split(key, 3)
    s_star = _trajectory(system)
    lam = float(theory.lle_along(system.f, system.s0, system.inputs, key=k_lle, burn_in=T // 10))
    lam_c = lam / float(system.dt)
    margin = 1.0 / T
    regime = "predictable" if lam < -margin else ("unpredictable" if lam > margin else "marginal")
    init = system.initial_guess(k_guess)
    r0 = math.sqrt(2.0 * float(jnp.sum(solvers.merit_terms(system.f, system.s0, init, system.inputs))))
    Tl = min(T, 200)
    est = theory.jacobian_lipschitz(system.f, system.s0, s_star[:Tl], jax.tree_util.tree_map(lambda x: x[:Tl], system.inputs),
                                    key=k_lip, num_samples=4)
    L = max(float(est.value), 1e-12)
    # eq. (10)'s overshoot a on the first steps (O(T²D³): capped): large a means a long transient
    Ta = min(T, 300)
    log_a = float(C.prefix_burn_in(system.jacobians(s_star)[:Ta], lam, [Ta])[0][0])
    a = _exp(log_a)
    predicted = {}
    for H in horizons:
        r0_H = max(r0 * math.sqrt(H / T), 1e-300)
        predicted[int(H)] = float(theory.two_phase_estimate(lam, H, residual0=r0_H, lipschitz=L,
                                                            a=min(a, 1e300)).steps)
    measured = {}
    if measure:
        Tm = min(T, max_measure_T)
        sub = system.truncate(Tm)
        lens = list(default_lengths(Tm))
        sol = solvers.evaluate(sub.f, sub.s0, sub.inputs, solvers.DEER(), init=init[:Tm], lengths=lens,
                               reset_nonfinite=True)
        measured = {int(n): int(c) for n, c in zip(lens, np.asarray(sol.prefix_iters), strict=True)}
    reasons = [f"largest Lyapunov exponent lambda = {lam:.4g} per step along the sequential trajectory "
               f"({'negative' if lam < 0 else 'non-negative'})"]
    if regime == "unpredictable":
        rec = "sequential"
        reasons.append("lambda > 0: the residual Jacobian's PL constant decays like exp(-2 lambda T) (Theorem 2), "
                       "so DEER needs O(T) iterations as T grows; evaluate sequentially (or make the model "
                       "predictable, e.g. with an observer or a contracting parameterisation, PAPER.md §7)")
    elif regime == "marginal":
        rec = "sequential"
        reasons.append(f"|lambda| T = {abs(lam) * T:.2g} < 1: too close to the threshold to count on few "
                       "iterations; measure with `predictability verify` before parallelising")
    else:
        rec = "DEER" if D <= 64 else "quasi-DEER"
        reasons.append("lambda < 0: the PL constant is bounded below independently of T (Theorem 2), so DEER "
                       "converges in O(log T) iterations (PAPER.md §5)")
        if rec == "quasi-DEER":
            reasons.append(f"D = {D} > 64: dense DEER stores T*D^2 Jacobian entries; quasi-DEER stores T*D "
                           "(check its counts with `predictability verify --solver quasi`)")
        else:
            reasons.append(f"D = {D} is small enough for dense Jacobians (memory O(T D^2))")
    if measured:
        last_T, last_n = list(measured.items())[-1]
        growth = C.classify_growth(list(measured), list(measured.values()))
        reasons.append(f"measured: DEER took {last_n} iterations at T = {last_T} (growth in T: {growth})")
        if rec != "sequential" and growth == C.LINEAR:
            rec = "sequential"
            reasons.append(f"although lambda < 0, the measured counts grow linearly in T: lambda is close to 0 "
                           f"relative to the transient (eq. (10) overshoot a = {a:.3g} on the first {Ta} steps), "
                           "so the T-independent conditioning of Theorem 2 only sets in at much larger T")
    return Diagnosis(system.name, T, D, lam, lam_c, regime, predicted, measured, rec, tuple(reasons))
