"""Work-efficient solvers of ``s_t = A_t s_{t-1} + b_t`` with ``s_0`` known.

The generic associative scan (:func:`solvers.affine_scan`) forms every prefix composition
``(A_t ⋯ A_1, c_t)``: about 2·T dense matrix products. DEER needs only the states, and ``s_0`` is
known, so the work can be split in two:

* **vector scan** (``method="vector"``): an odd–even (Blelloch-style) recursion. The up-sweep
  composes neighbouring pairs,

      (A_{2k-1}, b_{2k-1}) • (A_{2k}, b_{2k}) = (A_{2k} A_{2k-1}, A_{2k} b_{2k-1} + b_{2k}),

  which halves the sequence (T/2 + T/4 + … ≈ T matrix products in all) and solves the half-length
  system for the even states ``s_2, s_4, …`` recursively. The down-sweep recovers the odd states
  from state vectors only, ``s_{2k+1} = A_{2k+1} s_{2k} + b_{2k+1}`` (matrix–vector work,
  O(T·D²)). Depth O(log T), any T (an odd last element is carried up unpaired).
* **chunked** (``method="chunked"``): T is cut into chunks of ``chunk_size`` steps. Inside each
  chunk a sequential loop (vectorised over chunks) forms the chunk's composite map (C matrix
  products per chunk, T in all); the chunk boundary states are solved by the vector scan over the
  T/C composites; a second sequential loop (matrix–vector only) fills each chunk from its start
  state. Depth O(C + log(T/C)); few, large kernels, which suits CPUs.
* **sequential** (``method="sequential"``): one ``lax.scan`` of matrix–vector steps, O(T·D²) work
  and O(T) depth. The least work of all; fastest on a CPU when D is small.

All variants take dense ``A`` (``(..., T, D, D)``) or diagonal ``A`` (``(..., T, D)``) with
leading batch dimensions, and equal the generic scan up to rounding (tested).

References: PAPER.md §2 (the DEER recursion and its scan); Blelloch (1990), "Prefix sums and their
applications".
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

__all__ = [
    "solve_affine_vector",
    "solve_affine_chunked",
    "solve_affine_sequential",
    "block_composite",
]


def _apply(A, x, diagonal):
    return A * x if diagonal else jnp.einsum("...ij,...j->...i", A, x)


def _compose(a_first, b_first, a_second, b_second, diagonal):
    # (A_i, b_i) • (A_j, b_j) = (A_j A_i, A_j b_i + b_j)
    a = a_second * a_first if diagonal else a_second @ a_first
    return a, _apply(a_second, b_first, diagonal) + b_second


def _time_first(A, b, s0, diagonal):
    """Move the time axis to the front and broadcast ``s0`` to the batch shape."""
    axis = b.ndim - 2
    A = jnp.moveaxis(A, axis, 0)
    b = jnp.moveaxis(b, axis, 0)
    s0 = jnp.broadcast_to(s0, b.shape[1:]).astype(b.dtype)
    return A, b, s0, axis


def _interleave(odd, even, T):
    """Positions 0, 2, 4, … from ``odd`` and 1, 3, 5, … from ``even``, length T (time first)."""
    n = even.shape[0]
    both = jnp.stack([odd[:n], even], axis=1).reshape((2 * n,) + even.shape[1:])
    if T > 2 * n:
        both = jnp.concatenate([both, odd[n:]], axis=0)
    return both


def _vector_time_first(A, b, s0, diagonal):
    T = b.shape[0]
    if T == 1:
        return (_apply(A[0], s0, diagonal) + b[0])[None]
    n = T // 2
    # Up-sweep: compose pairs (positions 2k, 2k+1 in 0-based time), the only matrix products.
    pa, pb = _compose(
        A[0 : 2 * n : 2], b[0 : 2 * n : 2], A[1 : 2 * n : 2], b[1 : 2 * n : 2], diagonal
    )
    even = _vector_time_first(pa, pb, s0, diagonal)  # s_2, s_4, …, s_{2n}
    # Down-sweep: odd states from the previous even state, matrix–vector only.
    prev = jnp.concatenate([s0[None], even], axis=0)[: T - n]
    odd = _apply(A[0::2], prev, diagonal) + b[0::2]  # s_1, s_3, …
    return _interleave(odd, even, T)


def solve_affine_vector(A, b, s0, *, diagonal: bool = False):
    """Solve ``s_t = A_t s_{t-1} + b_t`` by the work-efficient odd–even scan (see module doc).

    Pair composites in the up-sweep (≈ T matrix products), state vectors in the down-sweep
    (matrix–vector work); depth O(log T).

    Args:
        A: dense ``(..., T, D, D)`` or, with ``diagonal=True``, ``(..., T, D)``.
        b: offsets ``(..., T, D)``.
        s0: initial state, broadcastable to ``(..., D)``.
        diagonal: whether ``A`` holds diagonals.

    Returns:
        The states ``s_1 … s_T``, shape ``(..., T, D)``.
    """
    A, b, s0, axis = _time_first(A, b, s0, diagonal)
    return jnp.moveaxis(_vector_time_first(A, b, s0, diagonal), 0, axis)


def _sequential_time_first(A, b, s0, diagonal):
    def step(s, ab):
        a_t, b_t = ab
        s = _apply(a_t, s, diagonal) + b_t
        return s, s

    _, states = jax.lax.scan(step, s0, (A, b))
    return states


def solve_affine_sequential(A, b, s0, *, diagonal: bool = False):
    """Solve ``s_t = A_t s_{t-1} + b_t`` by one sequential loop of matrix–vector steps.

    O(T·D²) work (O(T·D) diagonal), O(T) depth. Same arguments and result as
    :func:`solve_affine_vector`.
    """
    A, b, s0, axis = _time_first(A, b, s0, diagonal)
    return jnp.moveaxis(_sequential_time_first(A, b, s0, diagonal), 0, axis)


def _chunked_time_first(A, b, s0, diagonal, chunk_size):
    T = b.shape[0]
    C = max(1, min(int(chunk_size), T))
    n = math.ceil(T / C)
    if n == 1:
        return _sequential_time_first(A, b, s0, diagonal)
    pad = n * C - T
    if pad:
        # Identity maps (A = I, b = 0) after the end leave the real states untouched.
        eye = (
            jnp.ones(b.shape[1:], A.dtype)
            if diagonal
            else jnp.broadcast_to(jnp.eye(b.shape[-1], dtype=A.dtype), A.shape[1:])
        )
        A = jnp.concatenate([A, jnp.broadcast_to(eye, (pad,) + A.shape[1:])], axis=0)
        b = jnp.concatenate([b, jnp.zeros((pad,) + b.shape[1:], b.dtype)], axis=0)
    # (n·C, …) -> (C, n, …): the loops run over C, vectorised over the n chunks.
    A = jnp.swapaxes(A.reshape((n, C) + A.shape[1:]), 0, 1)
    b = jnp.swapaxes(b.reshape((n, C) + b.shape[1:]), 0, 1)
    # Phase 1: each chunk's composite map (P, x) from a zero start; P accumulates the products.
    eye = (
        jnp.ones(b.shape[1:], A.dtype)
        if diagonal
        else jnp.broadcast_to(jnp.eye(b.shape[-1], dtype=A.dtype), A.shape[1:])
    )

    def compose_step(carry, ab):
        P, x = carry
        a_t, b_t = ab
        return _compose(P, x, a_t, b_t, diagonal), None

    (P, x), _ = jax.lax.scan(compose_step, (eye, jnp.zeros_like(b[0])), (A[:-1], b[:-1]))
    P, x = _compose(P, x, A[-1], b[-1], diagonal)
    # Phase 2: chunk end states e_k = P_k e_{k-1} + x_k, e_0 = s0, by the vector scan.
    ends = _vector_time_first(P, x, s0, diagonal)
    starts = jnp.concatenate([s0[None], ends[:-1]], axis=0)
    # Phase 3: fill every chunk from its start state, matrix–vector only.
    states = _sequential_time_first(A, b, starts, diagonal)  # (C, n, …)
    states = jnp.swapaxes(states, 0, 1).reshape((n * C,) + b.shape[2:])
    return states[:T]


def solve_affine_chunked(A, b, s0, *, diagonal: bool = False, chunk_size: int = 64):
    """Solve ``s_t = A_t s_{t-1} + b_t`` sequentially inside chunks, in parallel across them.

    Phase 1 forms each chunk's composite map (≈ T matrix products, vectorised over chunks),
    phase 2 solves the chunk boundary states by the vector scan, phase 3 fills the chunks with
    matrix–vector steps. Depth O(chunk_size + log(T / chunk_size)). ``chunk_size >= T`` is the
    sequential loop. Same arguments and result as :func:`solve_affine_vector`.
    """
    if int(chunk_size) < 1:
        raise ValueError(f"chunk_size: expected an integer >= 1, got {chunk_size!r}")
    A, b, s0, axis = _time_first(A, b, s0, diagonal)
    return jnp.moveaxis(_chunked_time_first(A, b, s0, diagonal, chunk_size), 0, axis)


def block_composite(A, b, *, diagonal: bool = False):
    """The composite of all maps of a block, ``(A_1, b_1) • … • (A_T, b_T)``, by a pairwise tree.

    Returns ``(A_T ⋯ A_1, Σ_j A_T ⋯ A_{j+1} b_j)``: T − 1 matrix products, depth ⌈log₂ T⌉. Time is
    the leading axis (``A``: ``(T, …, D, D)`` or ``(T, …, D)``; ``b``: ``(T, …, D)``).
    """
    while b.shape[0] > 1:
        T = b.shape[0]
        n = T // 2
        pa, pb = _compose(
            A[0 : 2 * n : 2], b[0 : 2 * n : 2], A[1 : 2 * n : 2], b[1 : 2 * n : 2], diagonal
        )
        if T % 2:  # the unpaired last map stays last
            pa = jnp.concatenate([pa, A[-1:]], axis=0)
            pb = jnp.concatenate([pb, b[-1:]], axis=0)
        A, b = pa, pb
    return A[0], b[0]
