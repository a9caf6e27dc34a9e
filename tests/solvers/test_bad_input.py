"""Bad arguments raise at once, naming the argument, the expectation and the value (issue 2)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import solvers

T, D = 6, 2


def f(s, u):
    return 0.5 * jnp.tanh(s) + u


S0 = jnp.zeros(D)
INPUTS = jnp.ones((T, D))


def _evaluate(**overrides):
    kwargs = dict(f=f, s0=S0, inputs=INPUTS, solver=solvers.DEER())
    kwargs.update(overrides)
    return solvers.evaluate(
        kwargs.pop("f"), kwargs.pop("s0"), kwargs.pop("inputs"), kwargs.pop("solver"), **kwargs
    )


@pytest.mark.parametrize(
    "s0, match",
    [
        (jnp.zeros((2, 2)), r"s0: expected a 1-D state.*\(2, 2\)"),
        (jnp.asarray(1.0), r"s0: expected a 1-D state.*\(\)"),
    ],
    ids=["2d", "scalar"],
)
def test_s0_not_1d(s0, match):
    with pytest.raises(ValueError, match=match):
        _evaluate(s0=s0)


def test_s0_integer_dtype():
    with pytest.raises(TypeError, match=r"s0: expected a floating dtype.*int"):
        _evaluate(s0=jnp.zeros(D, jnp.int32), f=lambda s, u: s)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_s0_not_finite(bad):
    with pytest.raises(ValueError, match="s0: expected finite values"):
        _evaluate(s0=jnp.array([0.0, bad]))


def test_inputs_with_no_time_steps():
    with pytest.raises(ValueError, match=r"inputs: expected T >= 1.*T = 0"):
        _evaluate(inputs=jnp.ones((0, D)))


def test_inputs_pytree_leaves_of_different_lengths():
    inputs = {"a": jnp.ones((T, D)), "b": jnp.ones((T + 1,))}
    with pytest.raises(
        ValueError, match=r"inputs: all leaves must share the leading length T.*6.*7"
    ):
        _evaluate(inputs=inputs, f=lambda s, u: s + u["a"] + u["b"])


def test_inputs_without_time_axis():
    with pytest.raises(ValueError, match="inputs: every leaf needs a leading time axis"):
        _evaluate(inputs={"a": jnp.ones((T, D)), "b": jnp.asarray(1.0)}, f=lambda s, u: s + u["a"])


def test_inputs_empty_pytree():
    with pytest.raises(ValueError, match="inputs: expected an array or pytree"):
        _evaluate(inputs={})


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_inputs_not_finite(bad):
    with pytest.raises(ValueError, match="inputs: expected finite values"):
        _evaluate(inputs=INPUTS.at[3, 1].set(bad))


def test_inputs_pytree_not_finite():
    inputs = {"a": jnp.ones((T, D)), "b": jnp.ones((T,)).at[0].set(jnp.nan)}
    with pytest.raises(ValueError, match="inputs: expected finite values"):
        _evaluate(inputs=inputs, f=lambda s, u: s + u["a"] * u["b"])


@pytest.mark.parametrize(
    "init, match",
    [
        (jnp.zeros((T - 1, D)), r"init: expected shape \(T, D\) = \(6, 2\), got \(5, 2\)"),
        (jnp.zeros((T, D + 1)), r"init: expected shape \(T, D\) = \(6, 2\), got \(6, 3\)"),
        (jnp.zeros((T * D,)), r"init: expected shape .*got \(12,\)"),
    ],
    ids=["short", "wide", "flat"],
)
def test_init_wrong_shape(init, match):
    with pytest.raises(ValueError, match=match):
        _evaluate(init=init)


def test_init_wrong_dtype():
    with pytest.raises(TypeError, match=r"init: expected dtype float64.*float32"):
        _evaluate(init=jnp.zeros((T, D), jnp.float32))


def test_init_not_finite():
    with pytest.raises(ValueError, match="init: expected finite values"):
        _evaluate(init=jnp.zeros((T, D)).at[2, 0].set(jnp.nan))


@pytest.mark.parametrize(
    "bad_f, match",
    [
        (lambda s, u: jnp.concatenate([s, u]), r"f: expected .*shape \(2,\).*got \(4,\)"),
        (lambda s, u: jnp.sum(s + u), r"f: expected .*shape \(2,\).*got \(\)"),
        (lambda s, u: (s + u).astype(jnp.float32), r"f: expected .*dtype float64.*float32"),
        (lambda s, u: (s, u), r"f: expected .*got tuple"),
    ],
    ids=["longer", "scalar", "float32", "tuple"],
)
def test_f_returns_wrong_shape_or_dtype(bad_f, match):
    with pytest.raises(ValueError, match=match):
        _evaluate(f=bad_f)


def test_f_not_callable():
    with pytest.raises(TypeError, match="f: expected a callable"):
        _evaluate(f=3.0)


def test_f_that_fails_to_trace():
    def broken(s, u):
        return s @ jnp.ones((D + 1, D + 1))

    with pytest.raises(ValueError, match="f: calling f"):
        _evaluate(f=broken)


@pytest.mark.parametrize("tol", [0.0, -1e-10, np.nan, np.inf])
def test_tol_not_positive(tol):
    with pytest.raises(ValueError, match=r"tol: expected a finite number > 0, got"):
        _evaluate(tol=tol)


@pytest.mark.parametrize("max_iters", [-1, -100])
def test_max_iters_negative(max_iters):
    with pytest.raises(
        ValueError, match=rf"max_iters: expected a non-negative integer, got {max_iters}"
    ):
        _evaluate(max_iters=max_iters)


@pytest.mark.parametrize("max_iters", [2.5, "3"])
def test_max_iters_not_integer(max_iters):
    with pytest.raises(TypeError, match="max_iters: expected a non-negative integer"):
        _evaluate(max_iters=max_iters)


@pytest.mark.parametrize(
    "lengths, error, match",
    [
        ([], ValueError, r"lengths: expected a non-empty 1-D sequence"),
        ([3, 2], ValueError, r"lengths: expected strictly increasing integers, got \[3, 2\]"),
        ([2, 2], ValueError, r"lengths: expected strictly increasing"),
        ([1.5, 3], TypeError, r"lengths: expected integers, got \[1.5, 3\]"),
        ([0, 3], ValueError, r"lengths: expected integers in \[1, T\] = \[1, 6\], got \[0, 3\]"),
        ([3, 7], ValueError, r"lengths: expected integers in \[1, T\] = \[1, 6\], got \[3, 7\]"),
        ([[1, 2]], ValueError, r"lengths: expected a non-empty 1-D sequence"),
    ],
    ids=["empty", "unsorted", "repeated", "non_integer", "below_one", "above_T", "2d"],
)
def test_lengths_bad(lengths, error, match):
    with pytest.raises(error, match=match):
        _evaluate(lengths=lengths)


def test_lengths_whole_floats_are_accepted():
    sol = _evaluate(lengths=[2.0, 6.0])
    assert np.asarray(sol.prefix_iters).shape == (2,)


def test_lengths_refused_for_gradient_descent():
    with pytest.raises(
        ValueError, match="lengths: prefix counts need a causal solver; GradientDescent"
    ):
        _evaluate(solver=solvers.GradientDescent(0.1), lengths=[2, 6])


@pytest.mark.parametrize("damping", [-0.1, 1.5, np.nan])
def test_damping_outside_unit_interval(damping):
    with pytest.raises(ValueError, match=r"damping: expected a number in \[0, 1\], got"):
        solvers.DampedDEER(damping)


@pytest.mark.parametrize("damping", [0.0, 1.0])
def test_damping_at_the_ends_is_accepted(damping):
    assert solvers.DampedDEER(damping).damping == damping


@pytest.mark.parametrize("step_size", [0.0, -0.5, np.inf])
def test_step_size_not_positive(step_size):
    with pytest.raises(ValueError, match=r"step_size: expected a finite number > 0, got"):
        solvers.GradientDescent(step_size)


def test_quasi_deer_options():
    with pytest.raises(
        ValueError, match=r"diagonal: expected one of .*'exact'.*'hutchinson'.*got 'lanczos'"
    ):
        solvers.QuasiDEER("lanczos")
    with pytest.raises(ValueError, match="key: the Hutchinson diagonal needs a PRNG key"):
        solvers.QuasiDEER("hutchinson")
    with pytest.raises(ValueError, match="num_samples: expected an integer >= 1, got 0"):
        solvers.QuasiDEER("hutchinson", key=jax.random.key(0), num_samples=0)


@pytest.mark.parametrize(
    "solver",
    ["deer", solvers.DEER, object(), None.__class__],
    ids=["string", "class", "object", "type"],
)
def test_not_a_solver(solver):
    with pytest.raises(TypeError, match="solver: expected a solver object"):
        _evaluate(solver=solver)


def test_trace_bad_value():
    with pytest.raises(ValueError, match="trace: expected False, True or 'states'"):
        _evaluate(trace="merits")


def test_trace_refused_for_sequential():
    with pytest.raises(ValueError, match="trace: the sequential rollout has no iterates"):
        _evaluate(solver=solvers.Sequential(), trace=True)


def test_nonfinite_values_under_jit_become_a_status():
    # Under jit the values are not concrete: no exception, the non-finite status instead.
    @jax.jit
    def run(s0, inputs):
        return solvers.evaluate(f, s0, inputs, solvers.DEER()).status

    assert int(run(S0.at[0].set(jnp.nan), INPUTS)) == solvers.Status.NONFINITE
    assert int(run(S0, INPUTS.at[2, 0].set(jnp.inf))) == solvers.Status.NONFINITE
    assert int(run(S0, INPUTS)) == solvers.Status.CONVERGED


def test_shape_checks_still_apply_under_jit():
    with pytest.raises(ValueError, match="init: expected shape"):
        jax.jit(lambda s0: solvers.evaluate(f, s0, INPUTS, init=jnp.zeros((T + 1, D))).states)(S0)
