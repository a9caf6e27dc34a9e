"""Symbolic (sympy) certificates of the algebra behind PAPER.md §2–5.

Each check returns a :class:`Certificate` (name, statement, passed, detail); :func:`run_all`
runs every check and :func:`certificates` lists them without running. Pure Python + sympy:
nothing here is traced by JAX, so never call it under ``jit``.

References: PAPER.md §1 (J⁻¹ blocks), §2 (quasi-DEER), §3 (discrete vs continuous exponents),
§4 (Theorems 2, 3, 4, 5 and their variants).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import sympy as sp

__all__ = ["Certificate", "certificates", "run_all", "run"]


@dataclasses.dataclass(frozen=True)
class Certificate:
    """Outcome of one symbolic check.

    Attributes:
        name: short identifier.
        statement: what is claimed, in words and formulas.
        passed: whether sympy verified it.
        detail: the evidence (simplified residuals, values compared).
    """

    name: str
    statement: str
    passed: bool
    detail: str


_REGISTRY: dict[str, tuple[str, Callable[[], tuple[bool, str]]]] = {}


def _check(name: str, statement: str):
    def wrap(fn):
        _REGISTRY[name] = (statement, fn)
        return fn

    return wrap


def _is_zero(expr) -> bool:
    return sp.simplify(expr) == 0


def _nonneg_for_nonneg(expr, c) -> bool:
    """Sufficient test that ``expr(c) ≥ 0`` for all c ≥ 0: numerator and denominator are
    polynomials in c with nonnegative coefficients."""
    num, den = sp.fraction(sp.cancel(sp.together(expr)))
    polys = (sp.Poly(num, c), sp.Poly(den, c))
    return all(all(co >= 0 for co in p.all_coeffs()) for p in polys) and not sp.Poly(den, c).is_zero


@_check(
    "inverse_block_structure",
    "For T = 4 with non-commuting blocks J_2, J_3, J_4: J⁻¹ has block (t, j) = J_t ⋯ J_{j+1} "
    "(I on the diagonal), i.e. J·J⁻¹ = J⁻¹·J = I.",
)
def _inverse_blocks():
    n = sp.Symbol("n", integer=True, positive=True)
    I = sp.Identity(n)
    Z = sp.ZeroMatrix(n, n)
    J2, J3, J4 = (sp.MatrixSymbol(f"J{i}", n, n) for i in (2, 3, 4))
    J = sp.BlockMatrix([[I, Z, Z, Z], [-J2, I, Z, Z], [Z, -J3, I, Z], [Z, Z, -J4, I]])
    Jinv = sp.BlockMatrix(
        [[I, Z, Z, Z], [J2, I, Z, Z], [J3 * J2, J3, I, Z], [J4 * J3 * J2, J4 * J3, J4, I]]
    )
    details = []
    ok = True
    for label, prod in (("J·J⁻¹", J * Jinv), ("J⁻¹·J", Jinv * J)):
        M = sp.block_collapse(prod)
        for r in range(4):
            for c in range(4):
                blk = sp.simplify(M.blocks[r, c])
                want = I if r == c else Z
                good = blk == want or (r != c and blk == 0) or (r == c and blk == sp.Identity(n))
                ok &= bool(good)
                if not good:
                    details.append(f"{label} block ({r + 1},{c + 1}) = {blk}")
    return ok, "all 32 blocks reduce to I / 0" if ok else "; ".join(details)


@_check(
    "geometric_sum_and_limit",
    "Σ_{k=0}^{T−1} e^{λk} = (e^{λT} − 1)/(e^λ − 1), and lim_{λ→0} (1/a)(e^λ − 1)/(e^{λT} − 1) = 1/(aT); "
    "the upper bound min(e^{−λ(T−1)}/b, 1) tends to 1 (b ≤ 1).",
)
def _geometric():
    lam, a, b = sp.symbols("lambda a b", positive=True)
    T = sp.Symbol("T", integer=True, positive=True)
    k = sp.Symbol("k", integer=True, nonnegative=True)
    x = sp.Symbol("x", positive=True)
    s = sp.summation(x**k, (k, 0, T - 1))
    if isinstance(s, sp.Piecewise):  # (T if x = 1, closed form otherwise)
        s = s.args[-1][0]
    closed = (sp.exp(lam * T) - 1) / (sp.exp(lam) - 1)
    ok_sum = _is_zero(sp.simplify(s.subs(x, sp.exp(lam)) - closed))
    ok_sum &= all(_is_zero(sum(sp.exp(lam * j) for j in range(t)) - closed.subs(T, t)) for t in range(1, 7))
    lim = sp.limit((sp.exp(lam) - 1) / (a * (sp.exp(lam * T) - 1)), lam, 0)
    ok_lim = _is_zero(lim - 1 / (a * T))
    lim_neg = sp.limit((sp.exp(-lam) - 1) / (a * (sp.exp(-lam * T) - 1)), lam, 0)
    ok_neg = _is_zero(lim_neg - 1 / (a * T))
    up = sp.limit(sp.exp(-lam * (T - 1)) / b, lam, 0)
    return ok_sum and ok_lim and ok_neg, f"sum ok: {ok_sum}; limit λ→0±: {lim}, {lim_neg}; upper → {up}/… ≥ 1 so min(·,1) → 1"


@_check(
    "scalar_linear_case",
    "Scalar J_t = c (D = 1, so a = b = 1, λ = log|c|): for T = 2..4 and several c the exact "
    "σ_min of the bidiagonal J satisfies (|c| − 1)/(|c|^T − 1) ≤ σ_min ≤ min(|c|^{−(T−1)}, 1); "
    "for T = 2 symbolically: det(JᵀJ − x I) at x = 1/(1+c)² equals (3c² + 2c³)/(1+c)⁴ ≥ 0 (c ≥ 0) "
    "and x lies left of the parabola's vertex, so x ≤ λ_min(JᵀJ).",
)
def _scalar_linear():
    c = sp.Symbol("c", nonnegative=True)
    x = sp.Symbol("x")
    details = []
    ok = True
    M2 = sp.Matrix([[1, 0], [-c, 1]])
    p = (M2.T * M2 - x * sp.eye(2)).det()
    val = sp.factor(sp.simplify(p.subs(x, 1 / (1 + c) ** 2) * (1 + c) ** 4))
    ok &= _is_zero(sp.expand(val) - (3 * c**2 + 2 * c**3))
    ok &= _nonneg_for_nonneg(val, c)
    # Vertex of p at (2 + c²)/2 ≥ 1 ≥ 1/(1 + c)²: x is left of it, hence ≤ the smaller root.
    ok &= _nonneg_for_nonneg((2 + c**2) / 2 - 1, c) and _nonneg_for_nonneg(1 - 1 / (1 + c) ** 2, c)
    details.append(f"T=2: (1+c)^4·p(1/(1+c)^2) = {sp.expand(val)}")
    for T in (2, 3, 4):
        for cv in (sp.Rational(1, 2), sp.Rational(9, 10), sp.Integer(1), sp.Rational(11, 10), sp.Integer(2), sp.Integer(-3)):
            M = sp.eye(T)
            for t in range(1, T):
                M[t, t - 1] = -cv
            ev = [sp.re(sp.N(e, 60)) for e in (M.T * M).eigenvals(multiple=True)]
            smin = sp.sqrt(min(ev))
            ac = abs(cv)
            lower = sp.Rational(1, T) if ac == 1 else (ac - 1) / (ac**T - 1)
            upper = sp.Min(ac ** (-(T - 1)), 1)
            s_n, lo_n, up_n = (sp.N(v, 40) for v in (smin, lower, upper))
            good = bool(lo_n <= s_n + sp.Float(1e-35, 40)) and bool(s_n <= up_n + sp.Float(1e-35, 40))
            ok &= good
            if not good:
                details.append(f"T={T}, c={cv}: {lo_n} <= {s_n} <= {up_n} fails")
    return ok, "; ".join(details) + "; 18 (T, c) cases checked"


@_check(
    "frobenius_upper_bound",
    "Σ_{k=0}^{T−1} (T − k) x^k = (x(x^T − 1)/(x − 1) − T)/(x − 1), which at x = 1 is T(T+1)/2, so "
    "‖J⁻¹‖² ≥ ‖J⁻¹‖_F²/(TD) ≥ b² Σ_k (T−k) e^{2λk}/(TD), giving σ_min ≤ √(2D/(T+1))/b at λ = 0.",
)
def _frobenius():
    x = sp.Symbol("x", positive=True)
    ok = True
    for T in range(1, 9):
        lhs = sum((T - k) * x**k for k in range(T))
        rhs = (x * (x**T - 1) / (x - 1) - T) / (x - 1)
        ok &= _is_zero(sp.cancel(lhs - rhs))
        ok &= _is_zero(lhs.subs(x, 1) - sp.Rational(T * (T + 1), 2))
    D, b, T = sp.symbols("D b T", positive=True)
    bound = sp.sqrt(T * D / (b**2 * T * (T + 1) / 2))
    ok &= _is_zero(bound - sp.sqrt(2 * D / (T + 1)) / b)
    return ok, "closed form verified for T = 1..8; λ = 0 value reduces to √(2D/(T+1))/b"


@_check(
    "lipschitz_one_subdiagonal",
    "Theorem 3: J(s) − J(s') has nonzero blocks only at (t, t−1), equal to −(J_t(s_{t−1}) − J_t(s'_{t−1})) "
    "(checked for T = 3, D = 2 with generic functions), so ‖J(s) − J(s')‖ = max_t ‖ΔJ_t‖ ≤ L‖s − s'‖.",
)
def _lipschitz():
    T, D = 3, 2
    s = [sp.Matrix(sp.symbols(f"s{t}_0:{D}")) for t in range(T + 1)]
    sp_ = [sp.Matrix(sp.symbols(f"p{t}_0:{D}")) for t in range(T + 1)]
    fs = [sp.Function(f"f{i}") for i in range(D)]

    def F(v):
        return sp.Matrix([fs[i](*v) for i in range(D)])

    def resid_jac(states):
        r = sp.Matrix.vstack(*[states[t] - F(states[t - 1]) for t in range(1, T + 1)])
        unknowns = sp.Matrix.vstack(*states[1:])
        return r.jacobian(unknowns)

    Delta = resid_jac(s) - resid_jac([s[0]] + sp_[1:])
    ok = True
    for bi in range(T):
        for bj in range(T):
            blk = Delta[bi * D:(bi + 1) * D, bj * D:(bj + 1) * D]
            if bi != bj + 1:
                ok &= blk == sp.zeros(D, D)
    blk = Delta[D:2 * D, 0:D]
    want = -(F(s[1]).jacobian(s[1]) - F(sp_[1]).jacobian(sp_[1]))
    ok &= sp.simplify(blk - want) == sp.zeros(D, D)
    return ok, "all blocks off the first subdiagonal vanish; block (2,1) = −ΔJ_2"


@_check(
    "theorem5_scalar_quadratic",
    "Scalar quadratic map f(s, u) = α s² + u (L = 2|α|), T = 3: after one Newton (DEER) step the "
    "residual is exactly r⁺_1 = 0, r⁺_t = −α Δ_{t−1}² with Δ = −J⁻¹ r, hence "
    "‖r⁺‖ ≤ |α|‖Δ‖² ≤ |α| ‖r‖²/σ_min² = (L/(2μ))‖r‖².",
)
def _quadratic():
    alpha = sp.Symbol("alpha", nonzero=True)
    s0 = sp.Symbol("s0")
    T = 3
    s = sp.symbols("s1:4")
    u = sp.symbols("u1:4")
    prev = [s0, *s[:-1]]
    f = [alpha * prev[t] ** 2 + u[t] for t in range(T)]
    r = sp.Matrix([s[t] - f[t] for t in range(T)])
    Jm = r.jacobian(sp.Matrix(s))
    delta = -Jm.LUsolve(r)
    s_new = [s[t] + delta[t] for t in range(T)]
    prev_new = [s0, *s_new[:-1]]
    r_new = sp.Matrix([s_new[t] - (alpha * prev_new[t] ** 2 + u[t]) for t in range(T)])
    want = sp.Matrix([0] + [-alpha * delta[t - 1] ** 2 for t in range(1, T)])
    ok = all(_is_zero(sp.expand(r_new[t] - want[t])) for t in range(T))
    # Σ Δ⁴ ≤ (Σ Δ²)² and ‖Δ‖ ≤ ‖r‖/σ_min: the standard steps after the identity.
    d = sp.symbols("d1:3", real=True)
    ok &= _is_zero(sp.expand((d[0] ** 2 + d[1] ** 2) ** 2 - (d[0] ** 4 + d[1] ** 4) - 2 * d[0] ** 2 * d[1] ** 2))
    return ok, "r⁺ = (0, −αΔ₁², −αΔ₂²) exactly"


@_check(
    "theorem4_algebra",
    "Theorem 4: 2ρ/(1 − ρ) − β = ((2 + β)ρ − β)/(1 − ρ), so for 0 ≤ ρ < 1, β > 0: "
    "2ρ/(1 − ρ) ≤ β ⇔ ρ ≤ β/(2 + β); likewise 2ρ/(w − ρ) ≤ β ⇔ w ≥ ρ(2 + β)/β (w > ρ); the "
    "weighted block (t, t−1) scales by w^{−(t−1)} w^{t−2} = 1/w and the k-th subdiagonal by w^{−k}.",
)
def _theorem4():
    rho, beta, w = sp.symbols("rho beta w", positive=True)
    t, k = sp.symbols("t k", integer=True, positive=True)
    ok = _is_zero(2 * rho / (1 - rho) - beta - ((2 + beta) * rho - beta) / (1 - rho))
    ok &= _is_zero(2 * rho / (w - rho) - beta - (rho * (2 + beta) - beta * w) / (w - rho))
    ok &= _is_zero(w ** (-(t - 1)) * w ** (t - 2) - 1 / w)
    ok &= _is_zero(w ** (-(t - 1)) * w ** (t - k - 1) - w ** (-k))
    # Check the equivalence on the boundary and on both sides numerically-exactly.
    for bv in (sp.Rational(1, 2), sp.Rational(1, 10), sp.Rational(9, 10)):
        rb = bv / (2 + bv)
        ok &= _is_zero(2 * rb / (1 - rb) - bv)
        for rv in (rb * sp.Rational(99, 100), rb * sp.Rational(101, 100)):
            ok &= bool((2 * rv / (1 - rv) <= bv) == (rv <= rb))
    return ok, "identities simplify to 0; equivalence checked at and around the boundary for β ∈ {1/10, 1/2, 9/10}"


@_check(
    "quasi_deer_equals_deer_diagonal",
    "For diagonal dynamics f(s) = (g_1(s_1), g_2(s_2)) the Jacobian is diagonal, so diag(J_t) = J_t "
    "and the quasi-DEER update equals the DEER update (one step, T = 2, symbolic).",
)
def _quasi():
    g1, g2 = sp.Function("g1"), sp.Function("g2")
    s0 = sp.Matrix(sp.symbols("a0 b0"))
    x = [sp.Matrix(sp.symbols(f"a{t} b{t}")) for t in (1, 2)]

    def F(v):
        return sp.Matrix([g1(v[0]), g2(v[1])])

    prev = [s0, x[0]]
    Js = [F(p).jacobian(p) for p in prev]
    ok = all(J[0, 1] == 0 and J[1, 0] == 0 for J in Js)
    diagJ = [sp.diag(J[0, 0], J[1, 1]) for J in Js]

    def step(A):
        new = []
        cur = s0
        for t in range(2):
            nxt = F(prev[t]) + A[t] * (cur - prev[t])
            new.append(nxt)
            cur = nxt
        return new

    d = step(Js)
    q = step(diagJ)
    ok &= all(sp.simplify(d[t] - q[t]) == sp.zeros(2, 1) for t in range(2))
    return ok, "off-diagonal Jacobian entries vanish; both updates coincide"


@_check(
    "discrete_continuous_exponent",
    "Linear flow ẋ = a x: the exact flow map over Δt has exponent log|e^{aΔt}| = aΔt per step "
    "(λ_discrete = Δt λ_continuous); the Euler map x ← (1 + Δt a) x has log|1 + aΔt|/Δt → a as Δt → 0, "
    "with error −a²Δt/2 + O(Δt²).",
)
def _discrete():
    a = sp.Symbol("a", real=True)
    dt = sp.Symbol("dt", positive=True)
    ok = _is_zero(sp.log(sp.exp(a * dt)).expand(force=True) - a * dt)
    lim = sp.limit(sp.log(1 + a * dt) / dt, dt, 0)
    ok &= _is_zero(lim - a)
    ser = sp.series(sp.log(1 + a * dt) / dt, dt, 0, 2).removeO()
    ok &= _is_zero(ser - (a - a**2 * dt / 2))
    return ok, f"limit = {lim}; series = {ser}"


@_check(
    "sigma_max_bounds",
    "For J = I − N (N one block subdiagonal with blocks J_t): ‖J‖ ≤ 1 + max‖J_t‖ and ‖J‖ ≥ ‖[I; −J_t]‖ "
    "= √(1 + ‖J_t‖²); checked exactly for T = 3, D = 1 (J_t = c): λ_max(JᵀJ) ≤ (1 + c)² and ≥ 1 + c².",
)
def _sigma_max():
    c = sp.Symbol("c", positive=True)
    ok = True
    for cv in (sp.Rational(1, 3), sp.Integer(1), sp.Integer(3)):
        M = sp.Matrix([[1, 0, 0], [-cv, 1, 0], [0, -cv, 1]])
        v = max(sp.re(sp.N(e, 50)) for e in (M.T * M).eigenvals(multiple=True))
        ok &= bool(v <= (1 + cv) ** 2) and bool(v >= 1 + cv**2)
    # The block-column norm: ‖[1; −c]‖² = 1 + c² exactly.
    ok &= _is_zero(sp.Matrix([1, -c]).norm() ** 2 - (1 + c**2))
    return ok, "checked for c ∈ {1/3, 1, 3}"


def certificates() -> tuple[tuple[str, str], ...]:
    """List every check as ``(name, statement)`` without running it."""
    return tuple((name, stmt) for name, (stmt, _) in _REGISTRY.items())


def run(name: str) -> Certificate:
    """Run one check by name.

    Raises:
        ValueError: unknown name.
    """
    if name not in _REGISTRY:
        raise ValueError(f"name: expected one of {sorted(_REGISTRY)}, got {name!r}")
    stmt, fn = _REGISTRY[name]
    try:
        passed, detail = fn()
    except Exception as err:  # a check that cannot be evaluated has not passed
        passed, detail = False, f"{type(err).__name__}: {err}"
    return Certificate(name, stmt, bool(passed), detail)


def run_all() -> tuple[Certificate, ...]:
    """Run every check; returns their :class:`Certificate`s in registration order."""
    return tuple(run(name) for name in _REGISTRY)
