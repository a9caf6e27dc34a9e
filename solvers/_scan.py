"""Parallel scans for affine recurrences ``s_t = A_t s_{t-1} + b_t``.

An affine map ``x -> A x + b`` is stored as the pair ``(A, b)``. Applying ``(A_i, b_i)`` first and
``(A_j, b_j)`` second gives

    (A_i, b_i) • (A_j, b_j) = (A_j A_i, A_j b_i + b_j),

and this composition is associative:
``((e_1 • e_2) • e_3) = (e_1 • (e_2 • e_3))``, both equal to
``(A_3 A_2 A_1, A_3 A_2 b_1 + A_3 b_2 + b_3)``. ``jax.lax.associative_scan`` can therefore
form every prefix composition ``e_1 • … • e_t`` in O(log T) depth. The offset of the t-th prefix,
after ``s_0`` has been folded into ``b_1`` (``b_1 <- A_1 s_0 + b_1``), is exactly ``s_t``.

``A`` is either dense (``(..., T, D, D)``) or diagonal (``(..., T, D)``, the diagonal entries);
with diagonal ``A`` the products are elementwise and the memory is O(T·D).

References: PAPER.md §2 (the DEER recursion and its scan).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from . import _scan_variants as variants

__all__ = [
    "compose_affine",
    "compose_affine_diagonal",
    "affine_scan",
    "solve_affine",
    "default_scan_method",
    "SCAN_METHODS",
]


def compose_affine(earlier, later):
    """Compose dense affine maps: ``(A_i, b_i) • (A_j, b_j) = (A_j A_i, A_j b_i + b_j)``.

    Args:
        earlier: pair ``(A_i, b_i)`` with shapes ``(..., D, D)`` and ``(..., D)``, applied first.
        later: pair ``(A_j, b_j)`` of the same shapes, applied second.

    Returns:
        The pair of the composed map, ``x -> A_j (A_i x + b_i) + b_j``.
    """
    a_i, b_i = earlier
    a_j, b_j = later
    return a_j @ a_i, jnp.einsum("...ij,...j->...i", a_j, b_i) + b_j


def compose_affine_diagonal(earlier, later):
    """Compose diagonal affine maps: ``(a_i, b_i) • (a_j, b_j) = (a_j ⊙ a_i, a_j ⊙ b_i + b_j)``.

    Same equation as :func:`compose_affine` with ``A = diag(a)``; shapes ``(..., D)``.
    """
    a_i, b_i = earlier
    a_j, b_j = later
    return a_j * a_i, a_j * b_i + b_j


def _check_pair(A, b, diagonal: bool):
    A = jnp.asarray(A)
    b = jnp.asarray(b)
    if b.ndim < 2:
        raise ValueError(f"b: expected shape (..., T, D) with at least 2 dimensions, got shape {b.shape}")
    want = b.shape if diagonal else b.shape + b.shape[-1:]
    if A.shape != want:
        kind = "diagonal (..., T, D)" if diagonal else "dense (..., T, D, D)"
        raise ValueError(f"A: expected {kind} shape {want} matching b, got shape {A.shape}")
    if b.shape[-2] < 1:
        raise ValueError(f"b: expected at least one time step (T >= 1), got shape {b.shape}")
    return A, b


def affine_scan(A, b, *, diagonal: bool = False):
    """All prefix compositions of the affine maps ``(A_t, b_t)``, t = 1..T, in O(log T) depth.

    Returns ``(P, c)`` with ``(P_t, c_t) = (A_1, b_1) • … • (A_t, b_t)``, i.e.
    ``P_t = A_t ⋯ A_1`` and ``c_t = Σ_{j≤t} A_t ⋯ A_{j+1} b_j``.

    Args:
        A: dense ``(..., T, D, D)`` or, with ``diagonal=True``, ``(..., T, D)``.
        b: offsets ``(..., T, D)``. Leading dimensions are batch dimensions.
        diagonal: whether ``A`` holds diagonals.

    Returns:
        ``(P, c)`` with the shapes of ``(A, b)``.
    """
    A, b = _check_pair(A, b, diagonal)
    compose = compose_affine_diagonal if diagonal else compose_affine
    # The time axis is b.ndim - 2 for A as well (dense A has one more trailing axis).
    # associative_scan wants one scan axis for all leaves: move time to the front.
    axis = b.ndim - 2
    P, c = jax.lax.associative_scan(
        compose, (jnp.moveaxis(A, axis, 0), jnp.moveaxis(b, axis, 0)), axis=0
    )
    return jnp.moveaxis(P, 0, axis), jnp.moveaxis(c, 0, axis)


SCAN_METHODS = ("auto", "associative", "vector", "chunked", "sequential")


def default_scan_method(backend: str | None = None) -> str:
    """The method ``method="auto"`` picks: ``"sequential"`` on CPU, ``"vector"`` elsewhere.

    Measured on a 2-core CPU (docs/performance.md): the sequential matrix–vector loop (O(T·D²)
    work) took 0.02–0.8 of the generic scan's time for D = 1 … 100, T = 10³ … 10⁶, dense and
    diagonal, because a CPU has too few cores to repay the scan's extra O(T·D³) matrix products.
    On accelerators the O(log T)-depth work-efficient scan (``"vector"``: ≈ T matrix products
    instead of ≈ 2·T) is chosen. Override per call with ``method=`` or per solver with
    ``DEER(scan=...)``.
    """
    backend = jax.default_backend() if backend is None else backend
    return "sequential" if backend == "cpu" else "vector"


def solve_affine(A, b, s0, *, diagonal: bool = False, method: str = "auto", chunk_size: int = 64):
    """Solve ``s_t = A_t s_{t-1} + b_t`` for t = 1..T given ``s_0``, by a parallel scan.

    Args:
        A: dense ``(..., T, D, D)`` or diagonal ``(..., T, D)`` coefficients.
        b: offsets ``(..., T, D)``.
        s0: initial state ``(..., D)``.
        diagonal: whether ``A`` holds diagonals.
        method: ``"associative"`` (the generic prefix scan, :func:`affine_scan`), ``"vector"``
            (work-efficient: pair composites up, state vectors down), ``"chunked"`` (sequential
            inside chunks of ``chunk_size``, parallel across them), ``"sequential"`` (one
            matrix–vector loop), or ``"auto"`` (:func:`default_scan_method`: the fastest measured
            for the backend). All give the same states up to rounding.
        chunk_size: chunk length for ``method="chunked"``.

    Returns:
        The states ``s_1 … s_T``, shape ``(..., T, D)``.

    Example:
        >>> import jax.numpy as jnp
        >>> A = jnp.full((3, 1), 2.0); b = jnp.ones((3, 1))
        >>> solve_affine(A, b, jnp.zeros(1), diagonal=True)[:, 0].tolist()
        [1.0, 3.0, 7.0]
    """
    A, b = _check_pair(A, b, diagonal)
    s0 = jnp.asarray(s0)
    if s0.shape[-1:] != b.shape[-1:]:
        raise ValueError(f"s0: expected trailing dimension D = {b.shape[-1]}, got shape {s0.shape}")
    if method not in SCAN_METHODS:
        raise ValueError(f"method: expected one of {SCAN_METHODS}, got {method!r}")
    if method == "auto":
        method = default_scan_method()
    if method != "associative":
        if method == "vector":
            return variants.solve_affine_vector(A, b, s0, diagonal=diagonal)
        if method == "sequential":
            return variants.solve_affine_sequential(A, b, s0, diagonal=diagonal)
        return variants.solve_affine_chunked(A, b, s0, diagonal=diagonal, chunk_size=chunk_size)
    A1 = A[..., 0, :] if diagonal else A[..., 0, :, :]
    first = (A1 * s0 if diagonal else jnp.einsum("...ij,...j->...i", A1, s0)) + b[..., 0, :]
    b = b.at[..., 0, :].set(first)
    _, states = affine_scan(A, b, diagonal=diagonal)
    return states
