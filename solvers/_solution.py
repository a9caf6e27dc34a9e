"""The result of a solve: :class:`Solution` and its :class:`Status`."""

from __future__ import annotations

import dataclasses
import enum

import jax
import numpy as np

__all__ = ["Status", "Solution"]


class Status(enum.IntEnum):
    """Why a solve stopped. Stored in :class:`Solution` as an int32 array (works under jit/vmap);
    compare with ``solution.status == Status.CONVERGED`` or convert with ``Status(int(...))``."""

    CONVERGED = 0
    ITERATION_LIMIT = 1
    NONFINITE = 2
    PRECISION_LIMIT = 3

    @property
    def message(self) -> str:
        return _MESSAGES[self]


_MESSAGES = {
    Status.CONVERGED: "converged: the merit L(s)/T met the tolerance.",
    Status.ITERATION_LIMIT: (
        "iteration limit reached before the merit met the tolerance: raise max_iters, loosen tol, "
        "or check whether the system is unpredictable (largest Lyapunov exponent >= 0), in which "
        "case parallel evaluation is not expected to converge quickly; a scan solver is exact "
        "after T iterations."
    ),
    Status.NONFINITE: (
        "non-finite values (NaN/inf) appeared; the last finite iterate is returned: try "
        "reset_nonfinite=True, DampedDEER or QuasiDEER, a better initial guess, or float64."
    ),
    Status.PRECISION_LIMIT: (
        "iteration limit reached with the merit at the rounding floor of this dtype: tol is "
        "below what this precision resolves; loosen tol or use float64."
    ),
}


@dataclasses.dataclass(frozen=True)
class Solution:
    """Outcome of :func:`solvers.evaluate`.

    Attributes:
        states: ``(T, D)`` trajectory ``s_1 … s_T``: the converged iterate, the last iterate at the
            iteration limit (so ``max_iters=k`` returns exactly the k-th iterate), or the last finite
            iterate after a non-finite failure.
        num_iters: updates applied to the initial guess before the first iterate meeting the
            tolerance (0 if the guess meets it); otherwise the updates applied to ``states``.
        converged: whether ``merit <= tol``.
        status: int32 code of a :class:`Status`.
        merit: ``L(states)/T`` with ``L = ½ Σ_t ‖s_t − f(s_{t−1}, u_t)‖²``.
        prefix_iters: with ``lengths``, the iteration count of each prefix ``s_1 … s_{T'}`` by the
            same rule (from the same run); for an entry whose prefix never met the tolerance it holds
            the updates applied (a lower bound) and ``prefix_converged`` is False. Else None.
        prefix_converged: boolean per entry of ``lengths``, or None.
        merit_trace: with ``trace=True``/``"states"``, ``(max_iters + 1,)`` merits of iterates
            0 … num_iters (entry 0 = initial guess), NaN after the last iterate. Else None.
        states_trace: with ``trace="states"``, ``(max_iters + 1, T, D)`` iterates, NaN-padded
            (memory ``(max_iters + 1)·T·D`` floats). Else None.
    """

    states: jax.Array
    num_iters: jax.Array
    converged: jax.Array
    status: jax.Array
    merit: jax.Array
    prefix_iters: jax.Array | None = None
    prefix_converged: jax.Array | None = None
    merit_trace: jax.Array | None = None
    states_trace: jax.Array | None = None

    @property
    def message(self) -> str:
        """The human message of the status (concrete, unbatched solutions only)."""
        codes = np.unique(np.asarray(self.status))
        return " | ".join(Status(int(c)).message for c in codes)

    def __repr__(self) -> str:
        try:
            status = Status(int(self.status)).name.lower()
            return (
                f"Solution(T={self.states.shape[-2]}, D={self.states.shape[-1]}, "
                f"num_iters={int(self.num_iters)}, status={status}, merit={float(self.merit):.3e})"
            )
        except (TypeError, jax.errors.ConcretizationTypeError):
            return f"Solution(states={self.states!r}, status={self.status!r})"


_FIELDS = [f.name for f in dataclasses.fields(Solution)]
jax.tree_util.register_dataclass(Solution, data_fields=_FIELDS, meta_fields=[])
