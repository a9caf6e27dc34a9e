"""The affine scan primitives against plain loops (PAPER.md §2: the DEER recursion and its scan).

Oracles: a Python/numpy loop ``s_t = A_t s_{t-1} + b_t`` and explicit products ``A_t ⋯ A_1``.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import solvers

LENGTHS = [1, 2, 3, 5, 17, 100]
RTOL = {np.float32: 2e-5, np.float64: 1e-12}

# Jitted once: eager associative scans dispatch every small op separately and are slow.
_affine_scan = jax.jit(solvers.affine_scan, static_argnames="diagonal")
_solve_affine = jax.jit(solvers.solve_affine, static_argnames=("diagonal", "method", "chunk_size"))
# The parallel methods of solve_affine ("auto" picks one per backend; all must agree with a loop).
METHODS = ["associative", "vector", "chunked", "sequential"]
_solve_affine_pcr = jax.jit(solvers.solve_affine_pcr)


def _random_pair(rng, batch, T, D, diagonal, dtype):
    # Scale so that products stay O(1) over 100 steps (a contracting-ish recurrence).
    if diagonal:
        A = rng.uniform(-1.0, 1.0, batch + (T, D))
    else:
        A = rng.normal(size=batch + (T, D, D)) / np.sqrt(D)
    b = rng.normal(size=batch + (T, D))
    return A.astype(dtype), b.astype(dtype)


def _dense(A, diagonal):
    return np.einsum("...i,ij->...ij", A, np.eye(A.shape[-1])) if diagonal else A


def _loop_prefixes(A, b):
    """Oracle: ``P_t = A_t ⋯ A_1`` and ``c_t = A_t c_{t-1} + b_t`` (c_0 = 0), per batch entry."""
    A = np.asarray(A, np.float64)
    b = np.asarray(b, np.float64)
    T, D = b.shape[-2:]
    P = np.empty(A.shape)
    c = np.empty(b.shape)
    Pt = np.broadcast_to(np.eye(D), A.shape[:-3] + (D, D))
    ct = np.zeros(b.shape[:-2] + (D,))
    for t in range(T):
        Pt = A[..., t, :, :] @ Pt
        ct = np.einsum("...ij,...j->...i", A[..., t, :, :], ct) + b[..., t, :]
        P[..., t, :, :] = Pt
        c[..., t, :] = ct
    return P, c


def _loop_solve(A, b, s0):
    A = np.asarray(A, np.float64)
    s = np.asarray(s0, np.float64)
    out = []
    for t in range(b.shape[-2]):
        s = np.einsum("...ij,...j->...i", A[..., t, :, :], s) + b[..., t, :]
        out.append(s)
    return np.stack(out, axis=-2)


@pytest.mark.parametrize("T", LENGTHS)
@pytest.mark.parametrize("diagonal", [False, True], ids=["dense", "diagonal"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_affine_scan_matches_loop(T, diagonal, dtype):
    # With a batch dimension (2, 2) in front of the time axis: every entry its own recurrence.
    batch = (2, 2)
    rng = np.random.default_rng(T + 7 * diagonal)
    D = 3
    A, b = _random_pair(rng, batch, T, D, diagonal, dtype)
    P, c = _affine_scan(jnp.asarray(A), jnp.asarray(b), diagonal=diagonal)
    assert P.shape == A.shape and c.shape == b.shape
    assert P.dtype == dtype and c.dtype == dtype
    P_ref, c_ref = _loop_prefixes(_dense(A, diagonal), b)
    if diagonal:
        P_ref = np.diagonal(P_ref, axis1=-2, axis2=-1)
    scale = 1.0 + np.abs(c_ref).max()
    np.testing.assert_allclose(np.asarray(P, np.float64), P_ref, rtol=0, atol=RTOL[dtype] * 10)
    np.testing.assert_allclose(
        np.asarray(c, np.float64), c_ref, rtol=0, atol=RTOL[dtype] * 10 * scale
    )


# float64 at every length, float32 at two; batched at one (affine_scan is tested batched).
_SOLVE_CASES = [
    pytest.param(
        T,
        diagonal,
        dtype,
        batch,
        id=f"T{T}-{'diag' if diagonal else 'dense'}-"
        f"{np.dtype(dtype).name}-{'batch3' if batch else 'unbatched'}",
    )
    for diagonal in (False, True)
    for dtype in (np.float32, np.float64)
    for T, batch in [(T, ()) for T in LENGTHS] + [(17, (3,))]
    if dtype == np.float64 or T in (3, 17)
]


@pytest.mark.parametrize("T, diagonal, dtype, batch", _SOLVE_CASES)
def test_solve_affine_matches_loop(T, diagonal, dtype, batch):
    _check_solve_affine(T, diagonal, dtype, batch, "associative")


@pytest.mark.parametrize("method", ["auto"] + METHODS[1:])
@pytest.mark.parametrize("T", [1, 5, 17, 100])
@pytest.mark.parametrize("diagonal", [False, True], ids=["dense", "diagonal"])
def test_solve_affine_methods_match_loop(method, T, diagonal):
    _check_solve_affine(T, diagonal, np.float64, (), method, chunk_size=4)


@pytest.mark.parametrize("method", METHODS[1:])
def test_solve_affine_methods_batched_float32(method):
    _check_solve_affine(17, False, np.float32, (3,), method, chunk_size=4)


def _check_solve_affine(T, diagonal, dtype, batch, method, chunk_size=64):
    rng = np.random.default_rng(100 + T + 7 * diagonal)
    D = 4
    A, b = _random_pair(rng, batch, T, D, diagonal, dtype)
    s0 = rng.normal(size=batch + (D,)).astype(dtype)
    states = _solve_affine(
        jnp.asarray(A),
        jnp.asarray(b),
        jnp.asarray(s0),
        diagonal=diagonal,
        method=method,
        chunk_size=chunk_size,
    )
    assert states.shape == b.shape and states.dtype == dtype
    expected = _loop_solve(_dense(A, diagonal), b, s0)
    scale = 1.0 + np.abs(expected).max()
    np.testing.assert_allclose(
        np.asarray(states, np.float64), expected, rtol=0, atol=RTOL[dtype] * 10 * scale
    )


def test_solve_affine_docstring_example():
    A = jnp.full((3, 1), 2.0)
    b = jnp.ones((3, 1))
    for method in ["auto"] + METHODS:
        got = solvers.solve_affine(A, b, jnp.zeros(1), diagonal=True, method=method)
        assert got[:, 0].tolist() == [1.0, 3.0, 7.0]


@pytest.mark.parametrize("T", LENGTHS)
def test_solve_affine_pcr_equals_solve_affine_and_loop(T):
    rng = np.random.default_rng(200 + T)
    D = 3
    A, b = _random_pair(rng, (), T, D, False, np.float64)
    s0 = rng.normal(size=D)
    pcr = np.asarray(_solve_affine_pcr(jnp.asarray(A), jnp.asarray(b), jnp.asarray(s0)))
    scan = np.asarray(
        _solve_affine(jnp.asarray(A), jnp.asarray(b), jnp.asarray(s0), method="associative")
    )
    expected = _loop_solve(A, b, s0)
    scale = 1.0 + np.abs(expected).max()
    np.testing.assert_allclose(pcr, scan, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(pcr, expected, rtol=0, atol=1e-12 * scale)


def _apply(pair, x):
    A, b = (np.asarray(v, np.float64) for v in pair)
    return (A * x if A.ndim == x.ndim else A @ x) + b


@pytest.mark.parametrize("seed", range(5))
def test_compose_affine_is_composition_and_associative(seed):
    rng = np.random.default_rng(seed)
    D = 4
    e = [(rng.normal(size=(D, D)), rng.normal(size=D)) for _ in range(3)]
    e = [(jnp.asarray(A), jnp.asarray(b)) for A, b in e]
    x = rng.normal(size=D)
    # (A_i, b_i) • (A_j, b_j) applies (A_i, b_i) first.
    np.testing.assert_allclose(
        _apply(solvers.compose_affine(e[0], e[1]), x), _apply(e[1], _apply(e[0], x)), atol=1e-12
    )
    left = solvers.compose_affine(solvers.compose_affine(e[0], e[1]), e[2])
    right = solvers.compose_affine(e[0], solvers.compose_affine(e[1], e[2]))
    for a, b in zip(left, right, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-12)
    # The docstring's closed form: (A_3 A_2 A_1, A_3 A_2 b_1 + A_3 b_2 + b_3).
    (A1, b1), (A2, b2), (A3, b3) = [(np.asarray(A), np.asarray(b)) for A, b in e]
    np.testing.assert_allclose(np.asarray(left[0]), A3 @ A2 @ A1, atol=1e-12)
    np.testing.assert_allclose(np.asarray(left[1]), A3 @ A2 @ b1 + A3 @ b2 + b3, atol=1e-12)


@given(seed=st.integers(0, 2**31 - 1), batch=st.sampled_from([(), (3,), (2, 2)]))
@settings(max_examples=20, deadline=None)
def test_compose_affine_diagonal_is_associative_and_matches_dense(seed, batch):
    rng = np.random.default_rng(seed)
    D = 3
    e = [
        (jnp.asarray(rng.normal(size=batch + (D,))), jnp.asarray(rng.normal(size=batch + (D,))))
        for _ in range(3)
    ]
    left = solvers.compose_affine_diagonal(solvers.compose_affine_diagonal(e[0], e[1]), e[2])
    right = solvers.compose_affine_diagonal(e[0], solvers.compose_affine_diagonal(e[1], e[2]))
    for a, b in zip(left, right, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-12)
    dense = [(jnp.asarray(_dense(np.asarray(a), True)), b) for a, b in e]
    d = solvers.compose_affine(solvers.compose_affine(dense[0], dense[1]), dense[2])
    np.testing.assert_allclose(np.asarray(d[0]), _dense(np.asarray(left[0]), True), atol=1e-12)
    np.testing.assert_allclose(np.asarray(d[1]), np.asarray(left[1]), atol=1e-12)


@given(T=st.integers(1, 40), seed=st.integers(0, 2**31 - 1))
@settings(max_examples=3, deadline=None)
def test_solve_affine_matches_loop_any_length(T, seed):
    rng = np.random.default_rng(seed)
    A, b = _random_pair(rng, (), T, 2, False, np.float64)
    s0 = rng.normal(size=2)
    got = _solve_affine(jnp.asarray(A), jnp.asarray(b), jnp.asarray(s0), method="associative")
    expected = _loop_solve(A, b, s0)
    np.testing.assert_allclose(
        np.asarray(got), expected, rtol=0, atol=1e-12 * (1 + np.abs(expected).max())
    )


def test_scan_under_jit_and_vmap():
    rng = np.random.default_rng(3)
    A, b = _random_pair(rng, (4,), 9, 2, False, np.float64)
    s0 = rng.normal(size=(4, 2))
    solve = lambda A, b, s0: solvers.solve_affine(A, b, s0, method="associative")  # noqa: E731
    batched = jax.jit(jax.vmap(solve))(jnp.asarray(A), jnp.asarray(b), jnp.asarray(s0))
    np.testing.assert_allclose(np.asarray(batched), _loop_solve(A, b, s0), atol=1e-12)


@pytest.mark.parametrize(
    "A_shape, b_shape, diagonal, match",
    [
        ((5, 3, 3), (5, 2), False, "A: expected"),
        ((5, 3), (5, 3), False, "A: expected"),
        ((5, 3, 3), (5, 3), True, "A: expected"),
        ((3,), (3,), True, "b: expected"),
        ((0, 2, 2), (0, 2), False, "b: expected at least one time step"),
    ],
)
def test_scan_bad_shapes(A_shape, b_shape, diagonal, match):
    with pytest.raises(ValueError, match=match):
        solvers.affine_scan(jnp.zeros(A_shape), jnp.zeros(b_shape), diagonal=diagonal)


def test_solve_affine_bad_s0():
    with pytest.raises(ValueError, match="s0"):
        solvers.solve_affine(jnp.zeros((4, 2, 2)), jnp.zeros((4, 2)), jnp.zeros(3))


def test_solve_affine_bad_method():
    with pytest.raises(ValueError, match="method: expected one of"):
        solvers.solve_affine(jnp.zeros((4, 2, 2)), jnp.zeros((4, 2)), jnp.zeros(2), method="fft")
