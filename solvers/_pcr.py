"""Parallel cyclic reduction (PCR) for the block lower-bidiagonal Newton system.

The system ``s_t − A_t s_{t−1} = b_t`` (t = 1..T, ``s_0`` known) is reduced by doubling: after
level k every equation couples ``s_t`` to ``s_{t−2^k}``,

    s_t = A_t^{(k)} s_{t−2^k} + b_t^{(k)},
    A_t^{(k+1)} = A_t^{(k)} A_{t−2^k}^{(k)},   b_t^{(k+1)} = A_t^{(k)} b_{t−2^k}^{(k)} + b_t^{(k)},

until no coupling is left (⌈log2 T⌉ levels, O(T log T) block products). ``s_0`` is folded into
the first equation first, so couplings that reach before t = 1 are zero.

References: PAPER.md §2; Danieli et al. (2023), DeepPCR.
"""

from __future__ import annotations

import math

import jax.numpy as jnp

__all__ = ["solve_affine_pcr"]


def solve_affine_pcr(A, b, s0):
    """Solve ``s_t = A_t s_{t-1} + b_t`` (dense ``A`` of shape ``(T, D, D)``) by cyclic reduction."""
    T = b.shape[0]
    b = b.at[0].add(A[0] @ s0)
    A = A.at[0].set(jnp.zeros_like(A[0]))
    for level in range(math.ceil(math.log2(T)) if T > 1 else 0):
        d = 2**level
        A_far = jnp.concatenate([jnp.zeros_like(A[:d]), A[:-d]], axis=0)
        b_far = jnp.concatenate([jnp.zeros_like(b[:d]), b[:-d]], axis=0)
        b = jnp.einsum("tij,tj->ti", A, b_far) + b
        A = A @ A_far
    return b
