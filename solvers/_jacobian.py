"""Jacobians of the step function along a trajectory, by forward or reverse mode.

A D×D Jacobian costs D Jacobian–vector products (forward mode) or D vector–Jacobian products
(reverse mode), and which is cheaper depends on where f's linear maps sit:

* ``f(s) = tanh(W s + u)``: forward mode pushes the basis through ``W`` first; ``W @ I`` does not
  depend on the time step, so after batching over T it is computed once and each step only
  scales it (O(T·D²)). Reverse mode scales the cotangents first and then multiplies by ``W`` at
  every step (O(T·D³)).
* ``f(s) = W tanh(s) + u`` (the paper's mean-field RNN): the other way round; reverse mode is
  O(T·D²), forward mode O(T·D³).

``mode="auto"`` traces both batched programs (no compilation, no evaluation) and picks the one
with fewer estimated floating-point operations (:func:`jacobian_costs`); ties go to forward
mode. Both give the same Jacobians up to rounding.

References: PAPER.md §2 (the Jacobians of the DEER step); DESIGN.md (Jacobian sequences).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.extend import core as jex_core

__all__ = ["JACOBIAN_MODES", "value_and_jacobian", "jacobians", "jacobian_costs", "auto_mode"]

JACOBIAN_MODES = ("auto", "forward", "reverse")


def _check_mode(mode, allowed=JACOBIAN_MODES):
    if mode not in allowed:
        raise ValueError(f"jacobian: expected one of {allowed}, got {mode!r}")


def value_and_jacobian(f, s_prev, u, mode="forward"):
    """``(f(s_prev, u), ∂f/∂s_prev)`` at one time step: one primal and D tangents (or cotangents).

    Args:
        f: step function ``f(s_prev, u) -> s``.
        s_prev: state ``(D,)``.
        u: the step's input (any pytree).
        mode: ``"forward"`` (D Jacobian–vector products) or ``"reverse"`` (D vector–Jacobian
            products). ``"auto"`` needs the whole trajectory: use :func:`jacobians`.

    Returns:
        ``(value (D,), jacobian (D, D))`` with ``jacobian[i, j] = ∂f_i/∂s_prev_j``.
    """
    _check_mode(mode, ("forward", "reverse"))
    basis = jnp.eye(s_prev.shape[-1], dtype=s_prev.dtype)
    if mode == "forward":

        def push(v):
            return jax.jvp(lambda s: f(s, u), (s_prev,), (v,))

        value, columns = jax.vmap(push, out_axes=(None, -1))(basis)
        return value, columns
    value, pull = jax.vjp(lambda s: f(s, u), s_prev)
    (rows,) = jax.vmap(pull)(basis)
    return value, rows


def _batched(f, mode):
    return jax.vmap(lambda s, u: value_and_jacobian(f, s, u, mode))


def jacobians(f, s_prev, inputs, mode="auto"):
    """``f`` and its Jacobian at every time step: ``(fs (T, D), J (T, D, D))``.

    ``fs[t-1] = f(s_prev[t-1], inputs[t-1])`` and ``J[t-1] = ∂f/∂s`` there. ``mode="auto"``
    picks forward or reverse mode by :func:`jacobian_costs` at trace time (the choice depends on
    shapes and on f's structure, never on values, so it does not recompile).
    """
    _check_mode(mode)
    if mode == "auto":
        mode = auto_mode(f, s_prev, inputs)
    return _batched(f, mode)(s_prev, inputs)


def auto_mode(f, s_prev, inputs):
    """The mode ``"auto"`` picks: the one of lower :func:`jacobian_costs`, forward on a tie."""
    costs = jacobian_costs(f, s_prev, inputs)
    return "reverse" if costs["reverse"] < costs["forward"] else "forward"


def jacobian_costs(f, s_prev, inputs):
    """Estimated floating-point operations of :func:`jacobians` in each mode, for these shapes.

    Counted on the traced (not compiled) batched program: ``2·m·n·k`` per matrix product (times
    its batch size), the output size for every other operation, loop bodies times their trip
    count. Products that do not depend on the time step are not batched by ``vmap`` and count
    once, which is exactly the difference between the modes. An estimate for choosing, not a
    measurement: compiled programs may fuse or fold further.

    Returns:
        ``{"forward": flops, "reverse": flops}``.
    """
    return {
        mode: _jaxpr_cost(jax.make_jaxpr(_batched(f, mode))(s_prev, inputs).jaxpr)
        for mode in ("forward", "reverse")
    }


def _size(aval):
    shape = getattr(aval, "shape", ())
    return math.prod(shape) if shape else 1


def _sub_jaxprs(params):
    for value in params.values():
        items = value if isinstance(value, (tuple, list)) else (value,)
        for item in items:
            if isinstance(item, jex_core.ClosedJaxpr):
                yield item.jaxpr
            elif isinstance(item, jex_core.Jaxpr):
                yield item


def _jaxpr_cost(jaxpr) -> float:
    total = 0.0
    for eqn in jaxpr.eqns:
        subs = list(_sub_jaxprs(eqn.params))
        if subs:
            trips = eqn.params.get("length", 1) if eqn.primitive.name == "scan" else 1
            total += trips * sum(_jaxpr_cost(j) for j in subs)
            continue
        out = sum(_size(v.aval) for v in eqn.outvars)
        if eqn.primitive.name == "dot_general":
            (lhs_contract, _), _ = eqn.params["dimension_numbers"]
            lhs_shape = eqn.invars[0].aval.shape
            k = math.prod(lhs_shape[d] for d in lhs_contract) if lhs_contract else 1
            total += 2.0 * out * k
        else:
            total += out
    return total
