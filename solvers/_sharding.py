"""The time axis sharded over several devices: :class:`ShardedScan` and ``evaluate(devices=...)``.

A trajectory of T steps on n devices is cut into n blocks of C = T/n steps, one per device.
Everything per time step (f, its Jacobians, residuals, the merit) is computed where its block
lives; XLA moves one state across each block boundary for the shift ``s_{t-1}`` and reduces the
merit across devices. The linear solve of a Newton step runs in three phases under
``jax.shard_map``:

1. each device composes its block into one affine map ``(P_k, x_k) = (A_{kC+1}, b_{kC+1}) • … •
   (A_{(k+1)C}, b_{(k+1)C})`` (a pairwise tree, C matrix products, depth log C);
2. the n block summaries are gathered on every device (``all_gather``, n·D² numbers), which
   solves the short recursion ``e_k = P_k e_{k-1} + x_k``, ``e_0 = s_0``, for the state entering
   its block;
3. each device solves its own block from that state with the single-device method ``inner``.

The result stays sharded over the devices (``Solution.states`` is one global array; index or
``np.asarray`` it to bring it back). The same code runs on several GPUs of one host (pass
``jax.devices()``), and on several hosts after ``jax.distributed.initialize()`` (pass the global
``jax.devices()``; each process then feeds the same global arrays, see docs/performance.md).

References: PAPER.md §2 (the scan's associativity makes block summaries composable); issue 6.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from ._scan import SCAN_METHODS, solve_affine
from ._scan_variants import block_composite

__all__ = ["ShardedScan", "time_mesh", "shard_problem"]

_AXIS = "time"


@dataclasses.dataclass(frozen=True)
class ShardedScan:
    """Solve ``s_t = A_t s_{t-1} + b_t`` with the time axis split over the devices of ``mesh``.

    Use it as a Newton solver's ``scan`` setting (``DEER(scan=ShardedScan(mesh))``), or let
    ``evaluate(..., devices=...)`` set it. ``T`` must be a multiple of the number of devices.

    Attributes:
        mesh: a one-dimensional :class:`jax.sharding.Mesh` (see :func:`time_mesh`).
        inner: single-device method for each block (``solve_affine``'s ``method``).
    """

    mesh: Mesh
    inner: str = "auto"

    def __post_init__(self):
        if not isinstance(self.mesh, Mesh) or len(self.mesh.axis_names) != 1:
            raise ValueError(
                f"mesh: expected a one-dimensional jax.sharding.Mesh, got {self.mesh!r}"
            )
        if self.inner not in SCAN_METHODS:
            raise ValueError(f"inner: expected one of {SCAN_METHODS}, got {self.inner!r}")

    @property
    def axis(self):
        return self.mesh.axis_names[0]

    def solve(self, A, b, s0, *, diagonal: bool = False):
        """The states ``s_1 … s_T`` (shape ``(T, D)``), sharded over the mesh like ``b``."""
        n = self.mesh.shape[self.axis]
        T = b.shape[0]
        if b.ndim != 2 or T % n:
            raise ValueError(
                f"b: expected shape (T, D) with T a multiple of the {n} devices, got {b.shape}"
            )
        axis = self.axis
        inner = self.inner

        def local(A, b, s0):
            P_k, x_k = block_composite(A, b, diagonal=diagonal)
            Ps = jax.lax.all_gather(P_k, axis)
            xs = jax.lax.all_gather(x_k, axis)
            ends = solve_affine(Ps, xs, s0, diagonal=diagonal, method="sequential")
            k = jax.lax.axis_index(axis)
            start = jnp.where(k == 0, s0, ends[jnp.maximum(k - 1, 0)])
            return solve_affine(A, b, start, diagonal=diagonal, method=inner)

        spec = P(axis)
        return jax.shard_map(
            local, mesh=self.mesh, in_specs=(spec, spec, P()), out_specs=spec, check_vma=False
        )(A, b, s0)


def time_mesh(devices):
    """A one-dimensional mesh named ``"time"`` from an int (the first n devices), a sequence of
    devices, or a one-dimensional :class:`~jax.sharding.Mesh` (returned as is)."""
    if isinstance(devices, Mesh):
        if len(devices.axis_names) != 1:
            raise ValueError(
                f"devices: expected a one-dimensional Mesh, got axes {devices.axis_names}"
            )
        return devices
    if isinstance(devices, (int, np.integer)) and not isinstance(devices, bool):
        available = jax.devices()
        if not 1 <= devices <= len(available):
            raise ValueError(
                f"devices: expected 1 … {len(available)} (the devices JAX sees), got {devices}"
            )
        devices = available[:devices]
    try:
        devices = list(devices)
    except TypeError:
        raise TypeError(
            f"devices: expected an int, a sequence of jax devices or a 1-D Mesh, got {devices!r}"
        ) from None
    if not devices or not all(isinstance(d, jax.Device) for d in devices):
        raise TypeError(f"devices: expected a non-empty sequence of jax devices, got {devices!r}")
    return Mesh(np.array(devices), (_AXIS,))


def shard_problem(solver, s0, inputs, init, devices):
    """Place ``inputs`` and ``init`` split along time over ``devices``, ``s0`` replicated, and
    give a Newton-family solver the sharded linear solve. Returns the new
    ``(solver, s0, inputs, init, mesh)``."""
    mesh = time_mesh(devices)
    n = mesh.devices.size
    T = init.shape[0]
    if T % n:
        raise ValueError(
            f"devices: T = {T} time steps do not split evenly over {n} devices; pad the sequence "
            f"or choose a number of devices that divides T"
        )
    along_time = NamedSharding(mesh, P(mesh.axis_names[0]))
    replicated = NamedSharding(mesh, P())
    inputs = jax.tree_util.tree_map(lambda x: jax.device_put(x, along_time), inputs)
    init = jax.device_put(init, along_time)
    s0 = jax.device_put(s0, replicated)
    scan = getattr(solver, "scan", None)
    if isinstance(scan, str):
        solver = dataclasses.replace(solver, scan=ShardedScan(mesh, inner=scan))
    return solver, s0, inputs, init, mesh
