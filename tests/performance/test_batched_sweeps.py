"""A batched (vmap) sweep equals the same solves in a Python loop (issue 6, target 4).

Under ``vmap`` the driver's while-loop runs until its slowest member stops, but a member that
has stopped is never updated again, so every member's states and iteration count equal its own
unbatched solve: for predictable-only batches and for mixed (predictable + chaotic) batches.
"""

import numpy as np
import pytest

import solvers
from solvers import benchmark


@pytest.mark.parametrize(
    "gains",
    [(0.4, 0.8), (0.5, 1.6, 2.5)],
    ids=["predictable", "mixed"],
)
def test_vmap_sweep_equals_python_loop(gains):
    configs = benchmark.sweep_configs(D=3, T=40, seeds=range(2), gains=gains)
    for solver in (solvers.DEER(), solvers.QuasiDEER()):
        # Mixed: non-finite iterates reset (the paper's choice), so chaotic members run long.
        reset = len(gains) == 3
        states_b, iters_b = benchmark.solve_sweep(
            configs, solver, reset_nonfinite=reset, batched=True
        )
        states_l, iters_l = benchmark.solve_sweep(
            configs, solver, reset_nonfinite=reset, batched=False
        )
        np.testing.assert_array_equal(np.asarray(iters_b), np.asarray(iters_l))
        np.testing.assert_allclose(np.asarray(states_b), np.asarray(states_l), rtol=0, atol=1e-12)
        states_c, iters_c = benchmark.solve_sweep(
            configs, solver, reset_nonfinite=reset, batch_size=4
        )
        np.testing.assert_array_equal(np.asarray(iters_c), np.asarray(iters_l))
        np.testing.assert_allclose(np.asarray(states_c), np.asarray(states_l), rtol=0, atol=1e-12)
        if len(gains) == 3:  # a mixed batch really mixes iteration counts
            assert int(np.max(iters_b)) > 2 * int(np.min(iters_b))


def test_sweep_configs_layout():
    W, g, s0, x = benchmark.sweep_configs(D=2, T=5, seeds=[7, 8], gains=(0.1, 0.2, 0.3))
    assert (
        benchmark.sweep_batch_size(T=1000, D=8) == 4 and benchmark.sweep_batch_size(10**6, 100) == 1
    )
    assert W.shape == (6, 2, 2) and g.shape == (6,) and s0.shape == (6, 2) and x.shape == (6, 5, 2)
    np.testing.assert_array_equal(np.asarray(g), [0.1, 0.2, 0.3] * 2)
    np.testing.assert_array_equal(np.asarray(W[0]), np.asarray(W[2]))  # seeds outer


def test_gains_outer_is_the_same_configurations_reordered():
    a = benchmark.sweep_configs(D=2, T=5, seeds=[7, 8], gains=(0.1, 0.2, 0.3))
    b = benchmark.sweep_configs(D=2, T=5, seeds=[7, 8], gains=(0.1, 0.2, 0.3), gains_outer=True)
    np.testing.assert_array_equal(np.asarray(b[1]), [0.1, 0.1, 0.2, 0.2, 0.3, 0.3])
    perm = [0, 3, 1, 4, 2, 5]  # (seed, gain) pairs in gains-outer order, indexed seeds-outer
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(np.asarray(x)[perm], np.asarray(y))
    assert benchmark.sweep_batch_size(T=10, D=2) == 8  # capped: small chunks waste least
