"""The time axis sharded over devices equals the single-device solve (issue 6, target 6).

Several CPU devices exist only if XLA is told before JAX starts, so the multi-device checks run
in a subprocess with ``XLA_FLAGS=--xla_force_host_platform_device_count=4``.
"""

import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import solvers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CHILD = textwrap.dedent(
    """
    import jax, jax.numpy as jnp, numpy as np
    jax.config.update("jax_enable_x64", True)
    import solvers
    assert len(jax.devices()) == 4, jax.devices()

    rng = np.random.default_rng(0)
    D, T = 4, 32
    W = jnp.asarray(rng.normal(size=(D, D)) * 0.8 / np.sqrt(D))
    f = lambda s, u: jnp.tanh(W @ s + u)
    s0 = jnp.asarray(rng.normal(size=D))
    x = jnp.asarray(rng.normal(size=(T, D)) * 0.5)
    cases = [solvers.DEER(), solvers.QuasiDEER(scan="vector"), solvers.Jacobi()]
    for solver in cases:
        lengths = [5, 17, 32] if solver.causal else None
        one = solvers.evaluate(f, s0, x, solver, lengths=lengths)
        many = solvers.evaluate(f, s0, x, solver, lengths=lengths, devices=4)
        name = type(solver).__name__
        assert len(many.states.sharding.device_set) == 4, (name, many.states.sharding)
        assert int(many.num_iters) == int(one.num_iters), name
        assert bool(many.converged) and bool(one.converged), name
        np.testing.assert_allclose(np.asarray(many.states), np.asarray(one.states), rtol=0, atol=1e-12)
        np.testing.assert_array_equal(np.asarray(many.prefix_iters), np.asarray(one.prefix_iters))

    # The sharded linear solve itself, dense and diagonal, any block length.
    for devices in (2, 4):
        mesh = solvers.time_mesh(devices)
        for diagonal in (False, True):
            for T in (4, 12):
                A = rng.normal(size=(T, D) if diagonal else (T, D, D)) / np.sqrt(D)
                b = rng.normal(size=(T, D))
                got = solvers.ShardedScan(mesh).solve(A, b, s0, diagonal=diagonal)
                ref = solvers.solve_affine(A, b, s0, diagonal=diagonal, method="associative")
                np.testing.assert_allclose(np.asarray(got), np.asarray(ref), rtol=1e-12, atol=1e-12)

    # A mesh or a list of devices work like an int; T must split evenly.
    sol = solvers.evaluate(f, s0, x, devices=jax.devices()[:2])
    assert len(sol.states.sharding.device_set) == 2
    try:
        solvers.evaluate(f, s0, x[:30], devices=4)
    except ValueError as exc:
        assert "devices" in str(exc)
    else:
        raise AssertionError("T = 30 over 4 devices should raise")
    print("SHARDING-OK")
    """
)


@pytest.mark.slow  # a fresh JAX with 4 host devices: ~10 s on an idle 2-core machine, more under load
def test_sharded_solves_equal_single_device_in_a_4_device_subprocess():
    env = dict(os.environ)
    env["XLA_FLAGS"] = (
        env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4"
    ).strip()
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run(
        [sys.executable, "-c", CHILD],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    assert "SHARDING-OK" in out.stdout


def test_devices_one_and_bad_arguments():
    f = lambda s, u: 0.5 * jnp.tanh(s) + u  # noqa: E731
    s0, x = jnp.zeros(2), jnp.ones((8, 2))
    one = solvers.evaluate(f, s0, x)
    sharded = solvers.evaluate(f, s0, x, devices=1)
    np.testing.assert_allclose(
        np.asarray(sharded.states), np.asarray(one.states), rtol=0, atol=1e-14
    )
    with pytest.raises(ValueError, match="devices"):
        solvers.evaluate(f, s0, x, devices=len(jax.devices()) + 1)
    with pytest.raises(TypeError, match="devices"):
        solvers.evaluate(f, s0, x, devices="gpu")
    with pytest.raises(ValueError, match="devices"):
        solvers.evaluate(f, s0, x, solvers.Sequential(), devices=1)
    with pytest.raises(ValueError, match="inner"):
        solvers.ShardedScan(solvers.time_mesh(1), inner="fast")
