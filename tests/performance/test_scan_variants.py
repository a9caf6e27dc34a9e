"""The work-efficient scan variants equal the generic associative scan (issue 6, target 2).

Oracle: ``solvers.solve_affine(..., method="associative")`` (itself tested against plain loops in
tests/solvers/test_scan.py). Every variant, dense and diagonal, float32 and float64, many T
(powers of two and not), with and without batch dimensions.
"""

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import solvers

LENGTHS = [1, 2, 3, 5, 8, 13, 100]
TOL = {np.float32: 3e-5, np.float64: 1e-12}
VARIANTS = ["vector", "chunked", "sequential"]


@functools.partial(jax.jit, static_argnames=("diagonal", "method", "chunk_size"))
def _solve(A, b, s0, *, diagonal, method, chunk_size=5):
    return solvers.solve_affine(A, b, s0, diagonal=diagonal, method=method, chunk_size=chunk_size)


def _random_system(rng, batch, T, D, diagonal, dtype):
    if diagonal:
        A = rng.uniform(-1.0, 1.0, batch + (T, D))
    else:
        A = rng.normal(size=batch + (T, D, D)) / np.sqrt(D)
    b = rng.normal(size=batch + (T, D))
    s0 = rng.normal(size=batch + (D,))
    return A.astype(dtype), b.astype(dtype), s0.astype(dtype)


def _loop(A, b, s0, diagonal):
    """Oracle for one system (no batch): the float64 loop ``s_t = A_t s_{t-1} + b_t``."""
    s, out = np.asarray(s0, np.float64), []
    for a_t, b_t in zip(np.asarray(A, np.float64), np.asarray(b, np.float64), strict=True):
        s = (a_t * s if diagonal else a_t @ s) + b_t
        out.append(s)
    return np.stack(out)


def _check(out, ref, dtype):
    assert out.shape == ref.shape and out.dtype == ref.dtype
    scale = 1.0 + np.max(np.abs(np.asarray(ref, np.float64)))
    np.testing.assert_allclose(
        np.asarray(out), np.asarray(ref), rtol=TOL[dtype], atol=TOL[dtype] * scale
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("diagonal", [False, True], ids=["dense", "diagonal"])
@pytest.mark.parametrize("method", VARIANTS)
def test_variant_equals_generic_scan_for_many_lengths(method, diagonal, dtype):
    # The generic scan equals this loop (tests/solvers/test_scan.py), so the loop is the
    # oracle here: one compile per length instead of two.
    rng = np.random.default_rng(6)
    for T in LENGTHS:
        A, b, s0 = _random_system(rng, (), T, 3, diagonal, dtype)
        out = _solve(A, b, s0, diagonal=diagonal, method=method)
        _check(out, _loop(A, b, s0, diagonal).astype(dtype), dtype)


@pytest.mark.parametrize("diagonal", [False, True], ids=["dense", "diagonal"])
@pytest.mark.parametrize("method", VARIANTS)
def test_variant_with_batch_dimensions(method, diagonal):
    rng = np.random.default_rng(7)
    A, b, s0 = _random_system(rng, (2, 3), 21, 4, diagonal, np.float64)
    ref = _solve(A, b, s0, diagonal=diagonal, method="associative")
    _check(_solve(A, b, s0, diagonal=diagonal, method=method), ref, np.float64)
    # A shared s0 broadcasts over the batch.
    ref = _solve(A, b, s0[0, 0], diagonal=diagonal, method="associative")
    _check(_solve(A, b, s0[0, 0], diagonal=diagonal, method=method), ref, np.float64)


@pytest.mark.parametrize("chunk_size", [1, 3, 64])
def test_chunked_any_chunk_size(chunk_size):
    # Chunk sizes that do not divide T, exceed it (the sequential loop) or equal 1.
    rng = np.random.default_rng(8)
    for diagonal in (False, True):
        A, b, s0 = _random_system(rng, (2,), 37, 3, diagonal, np.float64)
        ref = _solve(A, b, s0, diagonal=diagonal, method="associative")
        out = _solve(A, b, s0, diagonal=diagonal, method="chunked", chunk_size=chunk_size)
        _check(out, ref, np.float64)


def test_auto_rule_is_documented_and_overridable():
    assert solvers.default_scan_method("cpu") == "sequential"
    assert solvers.default_scan_method("gpu") == "vector"
    assert solvers.default_scan_method() == solvers.default_scan_method(jax.default_backend())
    rng = np.random.default_rng(9)
    A, b, s0 = _random_system(rng, (), 10, 2, False, np.float64)
    _check(
        _solve(A, b, s0, diagonal=False, method="auto"),
        _solve(A, b, s0, diagonal=False, method="associative"),
        np.float64,
    )


def test_unknown_method_and_bad_chunk_size_raise():
    A, b, s0 = jnp.ones((4, 2)), jnp.ones((4, 2)), jnp.zeros(2)
    with pytest.raises(ValueError, match="method"):
        solvers.solve_affine(A, b, s0, diagonal=True, method="fast")
    with pytest.raises(ValueError, match="chunk_size"):
        solvers.solve_affine_chunked(A, b, s0, diagonal=True, chunk_size=0)
    with pytest.raises(ValueError, match="scan"):
        solvers.DEER(scan="fast")
    with pytest.raises(ValueError, match="scan"):
        solvers.QuasiDEER(scan="fast")


@pytest.mark.parametrize(
    "solver, methods",
    [(solvers.DEER(), ["vector"]), (solvers.QuasiDEER(), ["vector"])],
    ids=["deer", "quasi"],
)
def test_solver_scan_setting_gives_the_same_solve(solver, methods):
    # The linear solver changes neither the trajectory nor the iteration count ("auto", i.e.
    # "sequential" on CPU, is the default of tests/solvers; "chunked" is covered above).
    f = lambda s, u: 0.8 * jnp.tanh(s) + u  # noqa: E731
    rng = np.random.default_rng(10)
    s0 = jnp.asarray(rng.normal(size=3))
    inputs = jnp.asarray(rng.normal(size=(45, 3)))
    ref = solvers.evaluate(f, s0, inputs, dataclasses.replace(solver, scan="associative"))
    for method in methods:
        sol = solvers.evaluate(f, s0, inputs, dataclasses.replace(solver, scan=method))
        assert bool(sol.converged) and int(sol.num_iters) == int(ref.num_iters)
        np.testing.assert_allclose(
            np.asarray(sol.states), np.asarray(ref.states), rtol=0, atol=1e-9
        )
