"""The one driver loop: :func:`evaluate` (stopping, counting, non-finite handling, traces, prefixes)."""

from __future__ import annotations

import operator

import jax
import jax.numpy as jnp
import numpy as np

from ._sharding import shard_problem
from ._solution import Solution, Status
from ._solvers import DEER, AbstractSolver, Sequential, shift

__all__ = ["evaluate", "merit_terms"]

_RUNNING = -1


def merit_terms(f, s0, states, inputs):
    """Per-step halves of squared residuals ``½‖s_t − f(s_{t−1}, u_t)‖²``, shape ``(T,)``.

    The merit is ``L(s) = Σ_t`` of these (PAPER.md §1).
    """
    r = states - jax.vmap(f)(shift(s0, states), inputs)
    return 0.5 * jnp.sum(r * r, axis=-1)


def _is_tracer(x) -> bool:
    return isinstance(x, jax.core.Tracer)


def _fmt_shape(x):
    return getattr(x, "shape", None)


def _check_arguments(f, s0, inputs, solver, init, tol, max_iters, lengths):
    if not isinstance(solver, AbstractSolver):
        raise TypeError(
            "solver: expected a solver object such as solvers.DEER() or solvers.QuasiDEER(), "
            f"got {solver!r} of type {type(solver).__name__}"
        )
    if not callable(f):
        raise TypeError(f"f: expected a callable f(s_prev, u_t) -> s_t, got {f!r}")
    s0 = jnp.asarray(s0)
    if s0.ndim != 1:
        raise ValueError(f"s0: expected a 1-D state of shape (D,), got shape {s0.shape}")
    if not jnp.issubdtype(s0.dtype, jnp.floating):
        raise TypeError(f"s0: expected a floating dtype (float32 or float64), got {s0.dtype}")
    if s0.shape[0] < 1:
        raise ValueError(f"s0: expected D >= 1, got shape {s0.shape}")
    leaves = jax.tree_util.tree_leaves(inputs)
    if not leaves:
        raise ValueError("inputs: expected an array or pytree of arrays with leading axis T, got no arrays")
    lead = [(_fmt_shape(x)[0] if getattr(x, "ndim", 0) >= 1 else None) for x in leaves]
    if any(n is None for n in lead):
        raise ValueError(
            f"inputs: every leaf needs a leading time axis; got leaf shapes {[_fmt_shape(x) for x in leaves]}"
        )
    if len(set(lead)) != 1:
        raise ValueError(f"inputs: all leaves must share the leading length T, got lengths {lead}")
    T = lead[0]
    if T < 1:
        raise ValueError(f"inputs: expected T >= 1 time steps, got T = {T}")
    D = s0.shape[0]
    u1 = jax.tree_util.tree_map(lambda x: x[0], inputs)
    try:
        out = jax.eval_shape(f, s0, u1)
    except Exception as exc:  # the user's function failed to trace: say where
        raise ValueError(f"f: calling f(s0, inputs[0]) failed: {type(exc).__name__}: {exc}") from exc
    if not hasattr(out, "shape") or out.shape != s0.shape or out.dtype != s0.dtype:
        raise ValueError(
            f"f: expected f(s_prev, u_t) to return shape {s0.shape} and dtype {s0.dtype} like s0, "
            f"got {getattr(out, 'shape', type(out).__name__)} {getattr(out, 'dtype', '')}".rstrip()
        )
    if init is None:
        init = jnp.broadcast_to(s0, (T, D))
    else:
        init = jnp.asarray(init)
        if init.shape != (T, D):
            raise ValueError(f"init: expected shape (T, D) = {(T, D)}, got {init.shape}")
        if init.dtype != s0.dtype:
            raise TypeError(f"init: expected dtype {s0.dtype} (the dtype of s0), got {init.dtype}")
    if not _is_tracer(tol):
        tol_value = np.asarray(tol)
        if tol_value.shape != () or not np.isfinite(tol_value) or float(tol_value) <= 0:
            raise ValueError(f"tol: expected a finite number > 0, got {tol!r}")
    if max_iters is None:
        max_iters = 0 if isinstance(solver, Sequential) else solver.default_max_iters(T)
    try:
        max_iters = operator.index(max_iters)
    except TypeError:
        raise TypeError(f"max_iters: expected a non-negative integer, got {max_iters!r}") from None
    if max_iters < 0:
        raise ValueError(f"max_iters: expected a non-negative integer, got {max_iters}")
    if lengths is not None:
        if not solver.causal:
            raise ValueError(
                f"lengths: prefix counts need a causal solver; {type(solver).__name__} is not "
                "causal (its update at s_t depends on later residuals). Solve each prefix "
                "separately instead."
            )
        arr = np.asarray(lengths)
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"lengths: expected a non-empty 1-D sequence of integers, got {lengths!r}")
        if not np.issubdtype(arr.dtype, np.integer):
            if not (np.issubdtype(arr.dtype, np.floating) and np.all(arr == np.round(arr))):
                raise TypeError(f"lengths: expected integers, got {lengths!r}")
            arr = arr.astype(np.int64)
        if arr.min() < 1 or arr.max() > T:
            raise ValueError(f"lengths: expected integers in [1, T] = [1, {T}], got {arr.tolist()}")
        if np.any(np.diff(arr) <= 0):
            raise ValueError(f"lengths: expected strictly increasing integers, got {arr.tolist()}")
        lengths = jnp.asarray(arr, dtype=jnp.int32)
    for name, value in (("s0", s0), ("inputs", inputs), ("init", init)):
        for leaf in jax.tree_util.tree_leaves(value):
            if _is_tracer(leaf) or not jnp.issubdtype(jnp.asarray(leaf).dtype, jnp.inexact):
                continue
            if not np.all(np.isfinite(np.asarray(leaf))):
                raise ValueError(f"{name}: expected finite values, got NaN or inf")
    return s0, init, T, max_iters, lengths


def evaluate(
    f,
    s0,
    inputs,
    solver=None,
    *,
    init=None,
    tol=1e-10,
    max_iters=None,
    lengths=None,
    trace=False,
    reset_nonfinite=False,
    throw=False,
    devices=None,
):
    """Evaluate ``s_t = f(s_{t-1}, u_t)``, t = 1..T, with a parallel (or sequential) solver.

    The iterative solvers minimise the merit ``L(s) = ½ Σ_t ‖s_t − f(s_{t−1}, u_t)‖²`` and stop at
    the first iterate with ``L(s)/T ≤ tol``. ``num_iters`` counts the updates applied to the
    initial guess before that iterate (0 if the guess already meets the tolerance); no update is
    applied after convergence.

    Args:
        f: step function ``f(s_prev, u_t) -> s_t`` on a single time step, ``s_prev`` of shape (D,).
        s0: initial state ``(D,)``, float32 or float64 (sets the working dtype).
        inputs: array or pytree of arrays with leading axis T (``inputs[t-1]`` is ``u_t``).
        solver: a solver object (default :class:`DEER`).
        init: initial guess ``(T, D)`` for ``s_1 … s_T``; default ``s0`` repeated at every step
            (deterministic, no key needed).
        tol: tolerance on ``L(s)/T`` (default 1e-10, the paper's float64 setting).
        max_iters: iteration limit (default T for scan solvers, which are exact after T
            iterations; 10·T for gradient descent). Static under ``jit``.
        lengths: increasing prefix lengths ``T' ≤ T``; ``prefix_iters`` then holds the count of
            each prefix from this one run (causal solvers only).
        trace: ``True`` records the merit of every iterate (``merit_trace``, length
            ``max_iters + 1``); ``"states"`` also records every iterate (``states_trace``, memory
            ``(max_iters + 1)·T·D`` floats: set ``max_iters`` accordingly).
        reset_nonfinite: reset non-finite entries of an iterate to ``init`` and continue (the
            paper's choice) instead of stopping with status ``NONFINITE``.
        devices: shard the time axis over several devices: an int (the first n of
            ``jax.devices()``), a sequence of devices or a 1-D ``jax.sharding.Mesh``. T must be a
            multiple of their number. Newton-family solvers then solve each block on its device
            and combine block summaries across devices (:class:`solvers.ShardedScan`); the
            states come back as one array sharded over the devices. Same result as one device
            up to rounding (docs/performance.md).
        throw: raise ``RuntimeError`` with the status message when the solve did not converge
            (eager calls only).

    Returns:
        A :class:`Solution`.

    Raises:
        TypeError, ValueError: bad arguments, naming the argument, what was expected and what was
            given. Numerical failure is a status, never an exception (unless ``throw=True``).

    Example:
        >>> import jax.numpy as jnp
        >>> from solvers import evaluate, DEER
        >>> f = lambda s, u: 0.5 * jnp.tanh(s) + u
        >>> sol = evaluate(f, jnp.zeros(2), jnp.ones((50, 2)), DEER())
        >>> bool(sol.converged)
        True

    References: PAPER.md §1–2; DESIGN.md (contracts).
    """
    if solver is None:
        solver = DEER()
    if trace not in (False, True, "states"):
        raise ValueError(f"trace: expected False, True or 'states', got {trace!r}")
    s0, init, T, max_iters, lengths = _check_arguments(
        f, s0, inputs, solver, init, tol, max_iters, lengths
    )
    if devices is not None:
        if isinstance(solver, Sequential):
            raise ValueError("devices: the sequential rollout runs on one device; use devices=None")
        solver, s0, inputs, init, _ = shard_problem(solver, s0, inputs, init, devices)
    if isinstance(solver, Sequential):
        if trace:
            raise ValueError("trace: the sequential rollout has no iterates to trace; use trace=False")
        sol = _sequential_jit(f, s0, inputs, jnp.asarray(tol, s0.dtype), lengths)
    else:
        trace_len = (max_iters + 1) if trace else 0
        sol = _solve(
            f,
            solver,
            s0,
            inputs,
            init,
            jnp.asarray(tol, s0.dtype),
            jnp.asarray(max_iters, jnp.int32),
            lengths,
            trace_len=trace_len,
            trace_states=trace == "states",
            reset_nonfinite=bool(reset_nonfinite),
        )
    if throw and not _is_tracer(sol.status) and np.any(np.asarray(sol.status) != Status.CONVERGED):
        raise RuntimeError(sol.message)
    return sol


def _prefix_merits(terms, lengths):
    if lengths is None:
        return None
    return jnp.cumsum(terms)[lengths - 1] / lengths.astype(terms.dtype)


def _precision_floor(states, fs):
    # Rounding floor of the merit: residuals cannot resolve below a few ulps of the states.
    eps = jnp.finfo(states.dtype).eps
    scale = jnp.abs(states) + jnp.abs(fs) + jnp.finfo(states.dtype).tiny
    return 0.5 * jnp.sum((8 * eps * scale) ** 2) / states.shape[0]


def _sequential_core(f, s0, inputs, tol, lengths):
    def step(s, u):
        nxt = f(s, u)
        return nxt, nxt

    _, states = jax.lax.scan(step, s0, inputs)
    T = states.shape[0]
    terms = merit_terms(f, s0, states, inputs)
    merit = jnp.sum(terms) / T
    finite = jnp.all(jnp.isfinite(states))
    status = jnp.where(finite, Status.CONVERGED, Status.NONFINITE).astype(jnp.int32)
    prefix_iters = prefix_converged = None
    if lengths is not None:
        prefix_iters = lengths
        prefix_converged = jnp.broadcast_to(finite, lengths.shape)
    return Solution(
        states=states,
        num_iters=jnp.asarray(T, jnp.int32),
        converged=finite,
        status=status,
        merit=merit,
        prefix_iters=prefix_iters,
        prefix_converged=prefix_converged,
    )


_sequential_jit = jax.jit(_sequential_core, static_argnums=0)


def _solve_core(
    f, solver, s0, inputs, init, tol, max_iters, lengths, *, trace_len, trace_states, reset_nonfinite
):
    T = init.shape[0]
    dtype = init.dtype

    def linearize(states, iteration):
        s_prev = shift(s0, states)
        fs, aux = solver.linearize(f, s_prev, inputs, states, iteration)
        r = states - fs
        terms = 0.5 * jnp.sum(r * r, axis=-1)
        merit = jnp.sum(terms) / T
        # aux (the Jacobians) is not checked: a non-finite A_t makes the next update non-finite
        # (NaN·x is NaN for every x), which this test then rejects, one read of T·D² numbers saved.
        finite = jnp.isfinite(merit) & jnp.all(jnp.isfinite(states))
        return fs, aux, merit, _prefix_merits(terms, lengths), finite

    def classify(merit, finite, i):
        status = jnp.where(i >= max_iters, Status.ITERATION_LIMIT, _RUNNING)
        status = jnp.where(merit <= tol, Status.CONVERGED, status)
        return jnp.where(finite | reset_nonfinite, status, Status.NONFINITE).astype(jnp.int32)

    fs, aux, merit, pmerits, finite = linearize(init, 0)
    i0 = jnp.asarray(0, jnp.int32)
    carry = dict(
        i=i0,
        states=init,
        fs=fs,
        aux=aux,
        merit=merit,
        status=classify(merit, finite, i0),
    )
    if lengths is not None:
        done = pmerits <= tol
        carry["prefix_done"] = done
        carry["prefix_iters"] = jnp.zeros(lengths.shape, jnp.int32)
    if trace_len:
        carry["merit_trace"] = jnp.full((trace_len,), jnp.nan, dtype).at[0].set(merit)
        if trace_states:
            carry["states_trace"] = jnp.full((trace_len, T, init.shape[1]), jnp.nan, dtype).at[0].set(init)

    def cond(c):
        return c["status"] == _RUNNING

    def body(c):
        new = solver.update(s0, c["states"], c["fs"], c["aux"])
        if reset_nonfinite:
            new = jnp.where(jnp.isfinite(new), new, init)
        i = c["i"] + 1
        fs, aux, merit, pmerits, finite = linearize(new, i)
        accept = finite | reset_nonfinite

        def pick(a, b):
            return jnp.where(accept, a, b)

        out = dict(
            i=pick(i, c["i"]),
            states=pick(new, c["states"]),
            fs=pick(fs, c["fs"]),
            # A rejected (non-finite) iterate ends the loop and aux is not returned, so the new aux
            # is kept as is: selecting it would copy T·D² Jacobians every iteration.
            aux=aux,
            merit=pick(merit, c["merit"]),
            status=classify(merit, finite, i),
        )
        if lengths is not None:
            newly = accept & ~c["prefix_done"] & (pmerits <= tol)
            out["prefix_done"] = c["prefix_done"] | newly
            out["prefix_iters"] = jnp.where(newly | ~out["prefix_done"], i, c["prefix_iters"])
            out["prefix_iters"] = jnp.where(accept, out["prefix_iters"], c["prefix_iters"])
        if trace_len:
            out["merit_trace"] = c["merit_trace"].at[i].set(jnp.where(accept, merit, jnp.nan))
            if trace_states:
                out["states_trace"] = c["states_trace"].at[i].set(jnp.where(accept, new, jnp.nan))
        return out

    c = jax.lax.while_loop(cond, body, carry)
    status = c["status"]
    floor = _precision_floor(c["states"], c["fs"])
    precision_limited = (
        (status == Status.ITERATION_LIMIT)
        & jnp.isfinite(floor)
        & (c["merit"] <= 100 * floor)
        & (tol < 100 * floor)
    )
    status = jnp.where(precision_limited, Status.PRECISION_LIMIT, status).astype(jnp.int32)
    return Solution(
        states=c["states"],
        num_iters=c["i"],
        converged=status == Status.CONVERGED,
        status=status,
        merit=c["merit"],
        prefix_iters=c.get("prefix_iters"),
        prefix_converged=c.get("prefix_done"),
        merit_trace=c.get("merit_trace"),
        states_trace=c.get("states_trace"),
    )


_solve = jax.jit(
    _solve_core,
    static_argnums=0,
    static_argnames=("trace_len", "trace_states", "reset_nonfinite"),
)
