"""The catalog of built-in systems (PAPER.md §6) and small reference maps.

Every factory returns a :class:`verification.System`. Random draws come from ``seed`` through
``jax.random.key(seed)``; arrays use JAX's default float dtype unless ``dtype`` is given (float64
when x64 is enabled, as the paper's experiments and the command line do). JAX's samplers consume
different bits per dtype, so one seed draws a *different* system in float32 than in float64: to
study precision alone, build the float64 system and cast its arrays (``System`` fields) yourself.
"""

from __future__ import annotations

import math
import re

import jax
import jax.numpy as jnp

from ._system import System

__all__ = [
    "mean_field_rnn",
    "mean_field_rnn_data",
    "two_well_langevin",
    "two_well_potential",
    "chaotic_flow",
    "flow_observer",
    "flow_vector_field",
    "FLOWS",
    "OBSERVED_COORDINATES",
    "linear",
    "logistic",
    "henon",
    "CATALOG",
    "build",
]


def _dtype(dtype):
    return jnp.zeros(()).dtype if dtype is None else jnp.dtype(dtype)


def _check_T(T):
    if not isinstance(T, int) or isinstance(T, bool) or T < 1:
        raise ValueError(f"T: expected an integer >= 1, got {T!r}")


# --------------------------------------------------------------------------- mean-field RNN


def mean_field_rnn_data(key, g, D, T, dtype=None):
    """The random draws of the mean-field RNN (traceable, so sweeps can ``vmap`` over keys and g).

    ``W_ij ~ N(0, g²/D)`` with ``W_ii = 0``; ``u_t = A ⊙ sin(ω t + φ)`` with per-unit
    ``A ~ U[0, 0.2]``, ``ω ~ U[0.5, 3]``, ``φ ~ U[0, 2π]``; ``s_0 ~ U[−1, 1]^D``.

    Returns:
        dict with ``W (D, D)``, ``s0 (D,)``, ``inputs (T, D)``.

    References: PAPER.md §6 (mean-field RNN).
    """
    dtype = _dtype(dtype)
    kW, kA, kw, kp, ks = jax.random.split(key, 5)
    W = jax.random.normal(kW, (D, D), dtype) * (g / math.sqrt(D))
    W = W * (1 - jnp.eye(D, dtype=dtype))
    amp = jax.random.uniform(kA, (D,), dtype, 0.0, 0.2)
    omega = jax.random.uniform(kw, (D,), dtype, 0.5, 3.0)
    phase = jax.random.uniform(kp, (D,), dtype, 0.0, 2 * math.pi)
    t = jnp.arange(1, T + 1, dtype=dtype)[:, None]
    inputs = amp * jnp.sin(omega * t + phase)
    s0 = jax.random.uniform(ks, (D,), dtype, -1.0, 1.0)
    return {"W": W, "s0": s0, "inputs": inputs}


def mean_field_rnn(g: float, D: int = 100, T: int = 1000, seed: int = 0, dtype=None) -> System:
    """Mean-field RNN ``s_t = W tanh(s_{t−1}) + u_t`` with gain ``g`` (PAPER.md §6).

    Predictable for small g, chaotic beyond g ≈ 1.2 (where the LLE crosses 0). Initial guess for
    parallel solvers: uniform on [−1, 1].
    """
    _check_T(T)
    if not isinstance(D, int) or D < 1:
        raise ValueError(f"D: expected an integer >= 1, got {D!r}")
    if not (float(g) >= 0):
        raise ValueError(f"g: expected a gain >= 0, got {g!r}")
    data = mean_field_rnn_data(jax.random.key(seed), g, D, T, dtype)
    W = data["W"]

    def f(s, u):
        return W @ jnp.tanh(s) + u

    return System(
        name="mean_field_rnn",
        f=f,
        s0=data["s0"],
        inputs=data["inputs"],
        params={"g": float(g), "D": D, "T": T, "seed": seed},
        description=f"mean-field RNN s_t = W tanh(s_(t-1)) + u_t, g = {g}, D = {D}",
        guess="uniform",
    )


# --------------------------------------------------------------------------- two-well Langevin

_WELL_WEIGHTS = (0.49, 0.51)
_WELL_MEANS = ((-1.4, 0.0), (1.6, 0.0))
_WELL_VARIANCES = ((0.45, 0.45), (0.54, 0.45))


def two_well_potential(x):
    """``ϕ(x) = −log Σ_k w_k N(x; m_k, diag(v_k))`` of the two-well mixture (PAPER.md §6)."""
    w = jnp.asarray(_WELL_WEIGHTS, x.dtype)
    m = jnp.asarray(_WELL_MEANS, x.dtype)
    v = jnp.asarray(_WELL_VARIANCES, x.dtype)
    log_norm = -0.5 * jnp.sum(jnp.log(2 * math.pi * v), axis=-1)
    log_comp = log_norm - 0.5 * jnp.sum((x - m) ** 2 / v, axis=-1)
    return -jax.nn.logsumexp(log_comp + jnp.log(w))


def two_well_langevin(T: int = 1000, seed: int = 0, eps: float = 0.01, dtype=None) -> System:
    """Unadjusted Langevin ``s_{t+1} = s_t − ε∇ϕ(s_t) + √(2ε) w_t`` on the two-well potential.

    ``s_0 = 0``; the noise ``w_t`` (standard normal, from ``seed``) is the input. Initial guess for
    parallel solvers: standard normal (the all-zero guess sits in the unstable region). LLE about
    −0.0145 per step (paper).

    References: PAPER.md §6 (two-well Langevin).
    """
    _check_T(T)
    if not (float(eps) > 0):
        raise ValueError(f"eps: expected a step size > 0, got {eps!r}")
    dtype = _dtype(dtype)
    noise = jax.random.normal(jax.random.key(seed), (T, 2), dtype)
    grad = jax.grad(two_well_potential)
    scale = math.sqrt(2 * eps)

    def f(s, w):
        return s - eps * grad(s) + scale * w

    return System(
        name="two_well_langevin",
        f=f,
        s0=jnp.zeros(2, dtype),
        inputs=noise,
        params={"eps": float(eps), "T": T, "seed": seed},
        description=f"two-well Langevin sampler, eps = {eps}",
        guess="normal",
    )


# --------------------------------------------------------------------------- chaotic flows


def _abc(x, p):
    a, b, c = p["a"], p["b"], p["c"]
    return jnp.stack([a * jnp.sin(x[2]) + c * jnp.cos(x[1]),
                      b * jnp.sin(x[0]) + a * jnp.cos(x[2]),
                      c * jnp.sin(x[1]) + b * jnp.cos(x[0])])


def _chua(x, p):
    diode = p["m1"] * x[0] + 0.5 * (p["m0"] - p["m1"]) * (jnp.abs(x[0] + 1) - jnp.abs(x[0] - 1))
    return jnp.stack([p["alpha"] * (x[1] - x[0] - diode), x[0] - x[1] + x[2], -p["beta"] * x[1]])


def _kawczynski_strizhak(x, p):
    g, mu = p["gamma"], p["mu"]
    return jnp.stack([g * (x[1] - x[0] ** 3 + 3 * mu * x[0]),
                      -2 * mu * x[0] - x[1] - x[2] + p["beta"],
                      p["kappa"] * (x[0] - x[2])])


def _lorenz(x, p):
    return jnp.stack([p["sigma"] * (x[1] - x[0]),
                      x[0] * (p["rho"] - x[2]) - x[1],
                      x[0] * x[1] - p["beta"] * x[2]])


def _nose_hoover(x, p):
    return jnp.stack([x[1], -x[0] + x[1] * x[2], p["a"] - x[1] ** 2])


def _rossler(x, p):
    return jnp.stack([-x[1] - x[2], x[0] + p["a"] * x[1], p["b"] + x[2] * (x[0] - p["c"])])


def _sprott_b(x, p):
    return jnp.stack([x[1] * x[2], x[0] - x[1], 1 - x[0] * x[1]])


def _thomas(x, p):
    a, b = p["a"], p["b"]
    return jnp.stack([-a * x[0] + b * jnp.sin(x[1]),
                      -a * x[1] + b * jnp.sin(x[2]),
                      -a * x[2] + b * jnp.sin(x[0])])


def _vallis(x, p):
    return jnp.stack([p["b"] * x[1] - p["c"] * (x[0] + p["p"]),
                      -x[1] + x[0] * x[2],
                      -x[2] - x[0] * x[1] + 1])


#: name -> (vector field F(x, params), parameters, initial condition, display name)
FLOWS = {
    "ABC": (_abc, {"a": 1.73205, "b": 1.41421, "c": 1.0},
            (-0.78450179, -0.62887672, -0.17620268), "ABC"),
    "Chua": (_chua, {"alpha": 15.6, "beta": 28.0, "m0": -1.142857, "m1": -0.71429},
             (1.1262351, -0.11386474, -0.78324421), "Chua"),
    "KawczynskiStrizhak": (_kawczynski_strizhak, {"beta": -0.4, "gamma": 0.49, "kappa": 0.2, "mu": 2.1},
                           (-1.160501, 5.8636902, -1.2031947), "Kawczynski–Strizhak"),
    "Lorenz": (_lorenz, {"beta": 8.0 / 3.0, "rho": 28.0, "sigma": 10.0},
               (-9.7869288, -15.03852, 20.533978), "Lorenz"),
    "NoseHoover": (_nose_hoover, {"a": 1.5}, (-1.9758582, 0.24647527, 0.79024299), "Nosé–Hoover"),
    "Rossler": (_rossler, {"a": 0.2, "b": 0.2, "c": 5.7}, (6.5134412, 0.4772013, 0.34164294), "Rössler"),
    "SprottB": (_sprott_b, {}, (1.6878282, 1.4848132, -0.53706628), "SprottB"),
    "Thomas": (_thomas, {"a": 1.85, "b": 10.0}, (2.199442, 2.3634225, 3.220197), "Thomas"),
    "VallisElNino": (_vallis, {"b": 102.0, "c": 3.0, "p": 0.0},
                     (-6.99286331487343, 0.023254276622294345, -0.1658177563067799), "Vallis El Niño"),
}

#: coordinates of the observer's estimate overwritten by the measured state (PAPER.md §6)
OBSERVED_COORDINATES = {
    "ABC": (0, 2),
    "Chua": (1,),
    "KawczynskiStrizhak": (0, 1),
    "Lorenz": (1,),
    "NoseHoover": (0, 2),
    "Rossler": (),
    "SprottB": (1,),
    "Thomas": (1,),
    "VallisElNino": (1,),
}


def _canonical_flow(name: str) -> str:
    wanted = re.sub(r"[^a-z]", "", str(name).lower())
    for key in FLOWS:
        if re.sub(r"[^a-z]", "", key.lower()) == wanted:
            return key
    aliases = {"rossler": "Rossler", "rssler": "Rossler", "noshoover": "NoseHoover", "kawczynskistrizhak": "KawczynskiStrizhak"}
    if wanted in aliases:
        return aliases[wanted]
    raise ValueError(f"name: expected one of {sorted(FLOWS)}, got {name!r}")


def flow_vector_field(name: str):
    """``(F, params)`` of a Table-1 flow, ``ẋ = F(x, params)``."""
    key = _canonical_flow(name)
    field, params, _, _ = FLOWS[key]
    return field, dict(params)


def _check_dt(dt):
    if not (float(dt) > 0):
        raise ValueError(f"dt: expected a time step > 0, got {dt!r}")


def chaotic_flow(name: str, T: int = 1000, dt: float = 0.01, dtype=None) -> System:
    """A Table-1 flow as the forward-Euler map ``x ← x + Δt F(x)`` from the paper's start point.

    Initial guess for parallel solvers: standard normal. Its continuous-time LLE is the discrete
    one divided by ``dt`` (use ``System.dt``).

    References: PAPER.md §6 (chaotic flows, Table 1).
    """
    _check_T(T)
    _check_dt(dt)
    key = _canonical_flow(name)
    field, params, x0, display = FLOWS[key]
    dtype = _dtype(dtype)
    p = {k: jnp.asarray(v, dtype) for k, v in params.items()}

    def f(x, u):
        return x + dt * field(x, p)

    return System(
        name=key,
        f=f,
        s0=jnp.asarray(x0, dtype),
        inputs=jnp.zeros((T,), dtype),
        dt=float(dt),
        params={"dt": float(dt), "T": T, **params},
        description=f"{display} flow, forward Euler with dt = {dt}",
        guess="normal",
    )


def flow_observer(name: str, T: int = 1000, dt: float = 0.01, seed: int = 0, dtype=None) -> System:
    """The observer of a Table-1 flow, driven by the flow's true trajectory (PAPER.md §6).

    ``x̂_{t+1} = x̂'_t + Δt [F(x̂'_t) + K (C x_t − C x̂'_t)]`` where ``x̂'_t`` is ``x̂_t`` with the
    coordinates of :data:`OBSERVED_COORDINATES` overwritten by the measured ``x_t``;
    ``C ∈ R^{1×3}`` standard normal, ``K = Cᵀ``; ``x̂_0 = x_0 + N(0, I)``. The input at step t is
    the true state ``x_{t−1}``. Initial guess: standard normal.
    """
    _check_T(T)
    _check_dt(dt)
    key = _canonical_flow(name)
    flow = chaotic_flow(key, T, dt, dtype)
    dtype = flow.s0.dtype
    truth = jnp.concatenate([flow.s0[None], flow.trajectory()[:-1]], axis=0)
    kC, k0 = jax.random.split(jax.random.key(seed))
    C = jax.random.normal(kC, (1, 3), dtype)
    K = C.T
    field, params, _, display = FLOWS[key]
    p = {k: jnp.asarray(v, dtype) for k, v in params.items()}
    observed = jnp.asarray(OBSERVED_COORDINATES[key], jnp.int32)
    mask = jnp.zeros(3, bool).at[observed].set(True) if len(OBSERVED_COORDINATES[key]) else jnp.zeros(3, bool)

    def f(xhat, x):
        xhat = jnp.where(mask, x, xhat)
        return xhat + dt * (field(xhat, p) + K @ (C @ x - C @ xhat))

    return System(
        name=f"{key}_observer",
        f=f,
        s0=flow.s0 + jax.random.normal(k0, (3,), dtype),
        inputs=truth,
        dt=float(dt),
        params={"dt": float(dt), "T": T, "seed": seed, "observed": OBSERVED_COORDINATES[key], **params},
        description=f"observer of the {display} flow (dt = {dt})",
        guess="normal",
    )


# --------------------------------------------------------------------------- reference maps


def linear(A, T: int = 100, s0=None, inputs=None, dtype=None) -> System:
    """Linear map ``s_t = A s_{t−1} + u_t`` (zero inputs by default; LLE = log spectral radius)."""
    _check_T(T)
    dtype = _dtype(dtype)
    A = jnp.asarray(A, dtype)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"A: expected a square matrix (D, D), got shape {A.shape}")
    D = A.shape[0]
    s0 = jnp.ones(D, dtype) if s0 is None else jnp.asarray(s0, dtype)
    inputs = jnp.zeros((T, D), dtype) if inputs is None else jnp.asarray(inputs, dtype)

    def f(s, u):
        return A @ s + u

    return System(name="linear", f=f, s0=s0, inputs=inputs, params={"T": T},
                  description=f"linear map, D = {D}", guess="zeros")


def logistic(r: float = 4.0, T: int = 100, x0: float = 0.3, dtype=None) -> System:
    """Logistic map ``x_t = r x_{t−1} (1 − x_{t−1})`` (D = 1; LLE = ln 2 at r = 4)."""
    _check_T(T)
    dtype = _dtype(dtype)

    def f(s, u):
        return r * s * (1 - s)

    return System(name="logistic", f=f, s0=jnp.asarray([x0], dtype), inputs=jnp.zeros((T,), dtype),
                  params={"r": float(r), "T": T}, description=f"logistic map, r = {r}", guess="uniform")


def henon(a: float = 1.4, b: float = 0.3, T: int = 100, dtype=None) -> System:
    """Hénon map ``(x, y) → (1 − a x² + y, b x)`` (λ₁ + λ₂ = ln |b|)."""
    _check_T(T)
    dtype = _dtype(dtype)

    def f(s, u):
        return jnp.stack([1 - a * s[0] ** 2 + s[1], b * s[0]])

    return System(name="henon", f=f, s0=jnp.asarray([0.1, 0.1], dtype), inputs=jnp.zeros((T,), dtype),
                  params={"a": float(a), "b": float(b), "T": T}, description=f"Hénon map a = {a}, b = {b}",
                  guess="uniform")


#: names accepted by :func:`build` (the command line's ``--system``)
CATALOG = {
    "mean_field_rnn": mean_field_rnn,
    "two_well_langevin": two_well_langevin,
    "logistic": logistic,
    "henon": henon,
    **{f"{k.lower()}": (lambda T=1000, dt=0.01, _k=k, **kw: chaotic_flow(_k, T, dt, **kw)) for k in FLOWS},
    **{f"{k.lower()}_observer": (lambda T=1000, dt=0.01, seed=0, _k=k, **kw: flow_observer(_k, T, dt, seed, **kw)) for k in FLOWS},
}


def build(name: str, **params) -> System:
    """Build a catalog system by name with keyword parameters (e.g. ``build("mean_field_rnn", g=1.2)``)."""
    if name not in CATALOG:
        raise ValueError(f"system: expected one of {sorted(CATALOG)}, got {name!r}")
    try:
        return CATALOG[name](**params)
    except TypeError as exc:
        raise ValueError(f"params: {name} does not accept {sorted(params)}: {exc}") from exc
