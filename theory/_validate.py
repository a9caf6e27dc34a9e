"""Argument checks shared by the theory modules.

Every check raises at once with a message naming the argument, what was expected and what was
given (DESIGN.md, "Contracts"). Value checks (finiteness, ranges) run only on concrete arrays;
under ``jit`` the arguments are tracers and only the static checks (ranks, shapes) apply.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np


def pytree_dataclass(cls=None, *, meta=()):
    """Freeze ``cls`` as a dataclass and register it as a JAX pytree.

    Fields named in ``meta`` are static (hashable Python values such as method names); the
    others are array leaves.
    """

    def wrap(c):
        c = dataclasses.dataclass(frozen=True)(c)
        names = [f.name for f in dataclasses.fields(c)]
        data = [n for n in names if n not in meta]
        return jax.tree_util.register_dataclass(c, data_fields=data, meta_fields=list(meta))

    return wrap if cls is None else wrap(cls)


def is_concrete(*xs) -> bool:
    """Whether all of ``xs`` hold concrete values (not tracers inside ``jit``/``vmap``)."""
    return not any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(xs))


def float_dtype(*xs):
    """The floating dtype results should have: that of the inputs, at least the default float."""
    # Python scalars are weakly typed: they do not promote float32 arrays to float64.
    try:
        vals = [x if isinstance(x, (int, float)) or hasattr(x, "dtype") else jnp.asarray(x) for x in xs]
        dt = jnp.result_type(*vals, float)
    except (TypeError, ValueError):  # non-numeric input: the per-argument check names it
        return jnp.result_type(float)
    return dt if jnp.issubdtype(dt, jnp.floating) else jnp.result_type(float)


def as_float_array(x, name: str, dtype=None):
    """``x`` as a floating JAX array; TypeError for non-numeric input."""
    try:
        arr = jnp.asarray(x)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name}: expected a numeric array, got {type(x).__name__} ({err})") from None
    if not (jnp.issubdtype(arr.dtype, jnp.floating) or jnp.issubdtype(arr.dtype, jnp.integer)
            or arr.dtype == jnp.bool_):
        raise TypeError(f"{name}: expected a real numeric array, got dtype {arr.dtype}")
    return arr.astype(dtype or float_dtype(arr))


def check_finite(arr, name: str):
    """ValueError if a concrete ``arr`` holds NaN or ±inf."""
    if is_concrete(arr) and not bool(jnp.all(jnp.isfinite(arr))):
        bad = int(jnp.size(arr) - jnp.sum(jnp.isfinite(arr)))
        raise ValueError(f"{name}: expected finite values, got {bad} non-finite entries (NaN or inf)")
    return arr


def as_jacobians(jacobians, name: str = "jacobians", *, batch: bool = False):
    """Validate a Jacobian sequence ``(T, D, D)`` (or ``(..., T, D, D)`` when ``batch``)."""
    arr = as_float_array(jacobians, name)
    if batch:
        ok = arr.ndim >= 3
        want = "(..., T, D, D)"
    else:
        ok = arr.ndim == 3
        want = "(T, D, D)"
    if not ok or arr.shape[-1] != arr.shape[-2]:
        raise ValueError(f"{name}: expected shape {want} with square D×D blocks, got shape {arr.shape}")
    if arr.shape[-3] < 1:
        raise ValueError(f"{name}: expected at least one time step (T >= 1), got shape {arr.shape}")
    if arr.shape[-1] < 1:
        raise ValueError(f"{name}: expected state dimension D >= 1, got shape {arr.shape}")
    return check_finite(arr, name)


def check_key(key, name: str = "key"):
    """A PRNG key is required: ValueError if it is missing, TypeError if it is not a key."""
    if key is None:
        raise ValueError(
            f"{name}: a JAX PRNG key is required here (randomness is used), got None; "
            "pass e.g. key=jax.random.key(0)"
        )
    arr = key
    is_typed = hasattr(arr, "dtype") and jnp.issubdtype(arr.dtype, jax.dtypes.prng_key)
    is_raw = hasattr(arr, "dtype") and arr.dtype == jnp.uint32 and arr.shape == (2,)
    if not (is_typed or is_raw):
        raise TypeError(
            f"{name}: expected a JAX PRNG key (jax.random.key or jax.random.PRNGKey), got "
            f"{type(key).__name__} with dtype {getattr(key, 'dtype', None)}"
        )
    return key


def check_int(value, name: str, *, minimum=None, maximum=None):
    """A Python integer within [minimum, maximum]; TypeError/ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name}: expected an integer <= {maximum}, got {value}")
    return value


def check_range(arr, name: str, *, low=None, high=None, low_open=False, high_open=False,
                allow_inf=False):
    """ValueError if a concrete ``arr`` leaves the interval or holds NaN (or inf unless allowed)."""
    if not is_concrete(arr):
        return arr
    a = np.asarray(arr)
    if np.any(np.isnan(a)) or (not allow_inf and not np.all(np.isfinite(a))):
        raise ValueError(f"{name}: expected finite values, got {a if a.size <= 8 else 'an array with non-finite entries'}")
    bad = np.zeros(a.shape, bool)
    if low is not None:
        bad |= (a <= low) if low_open else (a < low)
    if high is not None:
        bad |= (a >= high) if high_open else (a > high)
    if np.any(bad):
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        interval = f"{lo}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi}"
        shown = a[bad].ravel()[:4].tolist()
        raise ValueError(f"{name}: expected values in {interval}, got {shown}")
    return arr


def check_dt(dt):
    """Time step ``dt > 0`` (finite)."""
    if not is_concrete(dt):
        return dt
    try:
        val = float(dt)
    except (TypeError, ValueError):
        raise TypeError(f"dt: expected a positive scalar, got {dt!r}") from None
    if not np.isfinite(val) or val <= 0:
        raise ValueError(f"dt: expected a finite value > 0, got {val}")
    return dt
