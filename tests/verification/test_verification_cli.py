"""End to end: ``predictability verify`` and ``predictability diagnose``, success and every bad input.

Oracles are independent of the code under test: the JSON schema written here, PNG magic bytes,
known exponents (logistic r = 4: ln 2; a map with |f'| ≤ 1/2: λ ≤ ln ½), exit statuses.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import textwrap

import pytest

import theory
from verification import Report, assert_bounds_hold
from verification import _verify as verify_module
from verification.cli import main

CHECK_STATUSES = {"holds", "violated", "agrees", "deviation", "skipped"}
SYSTEM_KEYS = {"name", "description", "params", "T", "D", "dt", "solver", "tol", "dtype", "lengths",
               "iterations", "converged", "status", "lle", "lle_continuous", "burn_in", "a", "b",
               "max_jacobian_norm", "lipschitz", "lipschitz_method", "lipschitz_rigorous", "rho",
               "rho_method", "regime", "growth_measured", "growth_predicted", "rate_fit", "per_length",
               "checks", "seconds", "notes", "violations", "deviations"}
CHECK_KEYS = {"name", "theorem", "kind", "T", "status", "predicted", "measured", "ratio",
              "hypotheses_verified", "hypotheses", "detail"}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny")
    rc = main(["verify", "--suite", "tiny", "--out", str(out)])
    return rc, out


def test_quick_suite_end_to_end(tiny_run, capsys):
    rc, out = tiny_run
    assert rc == 0
    data = json.loads((out / "report.json").read_text())
    assert data["schema"] == "predictability.verify" and data["schema_version"] == 1
    assert data["complete"] is True and data["summary"]["violations"] == 0 and data["summary"]["ok"] is True
    assert len(data["systems"]) == 3
    for s in data["systems"]:
        assert SYSTEM_KEYS <= set(s), SYSTEM_KEYS - set(s)
        assert len(s["iterations"]) == len(s["lengths"]) == len(s["per_length"])
        assert all(n <= T for n, T in zip(s["iterations"], s["lengths"], strict=True))  # ≤ T exactness
        for c in s["checks"]:
            assert CHECK_KEYS <= set(c) and c["status"] in CHECK_STATUSES
            assert c["kind"] in ("rigorous", "estimate")
            if c["status"] == "violated":
                assert c["kind"] == "rigorous" and c["hypotheses_verified"]
    by = {(s["name"], s["params"].get("g")): s for s in data["systems"]}
    g05, g2 = by[("mean_field_rnn", 0.5)], by[("mean_field_rnn", 2.0)]
    assert g05["growth_measured"] == "flat" and g05["lle"] < 0
    assert g2["growth_measured"] == "linear" and g2["lle"] > 0
    assert by[("Lorenz_observer", None)]["lle"] < 0
    pngs = sorted(out.glob("*.png"))
    assert len(pngs) == 3
    for p in pngs:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (out / "report.md").read_text()
    assert md.startswith("# Verification report") and "| check | theorem |" in md
    assert not [p for p in out.iterdir() if p.name.startswith(".tmp-")]  # atomic write cleaned up
    report = Report.from_dict(data)  # the schema round-trips
    assert report.ok and report.to_dict() == data


def test_wrong_theory_bound_gives_exit_1(monkeypatch, tmp_path, capsys):
    """A Theorem 2 lower bound made e^5 too large must be caught as a violation (exit 1)."""
    real = theory.log_pl_constant_bounds

    def wrong(lam, T, a=1.0, b=1.0, **kw):
        lo, hi = real(lam, T, a, b, **kw)
        return lo + 10.0, hi

    monkeypatch.setattr(theory, "log_pl_constant_bounds", wrong)
    rc = main(["verify", "--system", "mean_field_rnn", "--param", "g=0.5", "--param", "D=4",
               "--lengths", "10,30", "--out", str(tmp_path), "--no-plots"])
    assert rc == 1
    out = capsys.readouterr().out
    assert "VIOLATION" in out and "Theorem 2" in out
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["summary"]["violations"] >= 1 and not data["summary"]["ok"]
    with pytest.raises(AssertionError, match="theorem check violated"):
        assert_bounds_hold(Report.from_dict(data))


def test_verify_json_flag(tmp_path, capsys):
    rc = main(["verify", "--system", "mean_field_rnn", "--param", "g=0.5", "--param", "D=4",
               "--lengths", "10,20", "--solver", "quasi", "--json", "--no-plots", "--out", str(tmp_path)])
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    s = data["systems"][0]
    assert s["solver"] == "QuasiDEER" and s["lengths"] == [10, 20] and s["lle"] < 0
    # W_ii = 0 makes diag(J_t) = 0: quasi-DEER is Jacobi here, and the report says so
    assert any("coincides with Jacobi" in n for n in s["notes"])
    skipped = {c["name"] for c in s["checks"] if c["status"] == "skipped"}
    assert {"theorem4", "theorem5"} <= skipped  # Newton-only theorems are not claimed for quasi-DEER


def test_interrupted_suite_keeps_finished_systems(tiny_run, monkeypatch, tmp_path, capsys):
    _, out = tiny_run
    first = Report.from_dict(json.loads((out / "report.json").read_text()))
    calls = []

    def fake_verify(system, lengths, **kw):
        calls.append(system.name)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return Report(first.systems[:1])

    monkeypatch.setattr(verify_module, "verify", fake_verify)
    rc = main(["verify", "--suite", "tiny", "--out", str(tmp_path), "--no-plots"])
    assert rc == 130
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["complete"] is False and len(data["systems"]) == 1
    assert "interrupted" in capsys.readouterr().err


# --------------------------------------------------------------------------- diagnose

PREDICTABLE = """
import jax.numpy as jnp
from verification import System

def make(T=200):
    # |d/ds 0.5 tanh(s)| <= 1/2 everywhere: a contraction, lambda <= ln(1/2)
    return System(name="contracting", f=lambda s, u: 0.5 * jnp.tanh(s) + u,
                  s0=jnp.zeros(3), inputs=jnp.sin(jnp.arange(T * 3.0)).reshape(T, 3))
"""

CHAOTIC = """
import jax.numpy as jnp
from verification import System

def make(T=200):
    # logistic map r = 4: lambda = ln 2
    return System(name="logistic4", f=lambda s, u: 4.0 * s * (1.0 - s),
                  s0=jnp.array([0.3]), inputs=jnp.zeros(T), guess="uniform")

def not_a_system():
    return 42

def raises():
    raise RuntimeError("boom")

def bad_step():
    def f(s, u):
        raise ZeroDivisionError("inside f")
    return System(name="bad", f=f, s0=jnp.zeros(2), inputs=jnp.zeros((10, 2)))

def wrong_shape():
    return System(name="wrong", f=lambda s, u: jnp.concatenate([s, s]), s0=jnp.zeros(2),
                  inputs=jnp.zeros((10, 2)))

NOT_CALLABLE = 3
"""


def _lam(text):
    return float(re.search(r"largest Lyapunov exponent: (\S+) per step", text).group(1))


def test_diagnose_predictable_and_chaotic(tmp_path, capsys, monkeypatch):
    (tmp_path / "good_model.py").write_text(textwrap.dedent(PREDICTABLE))
    (tmp_path / "chaos_model.py").write_text(textwrap.dedent(CHAOTIC))
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["diagnose", "good_model:make"]) == 0  # importable-module form
    good = capsys.readouterr().out
    assert "regime: predictable" in good and "recommendation: DEER" in good
    assert _lam(good) <= math.log(0.5) + 1e-9
    assert main(["diagnose", f"{tmp_path / 'chaos_model.py'}:make", "--param", "T=300"]) == 0  # file form
    bad = capsys.readouterr().out
    assert "regime: unpredictable" in bad and "recommendation: sequential" in bad
    assert _lam(bad) == pytest.approx(math.log(2.0), abs=0.1)


def test_verify_accepts_a_users_factory(tmp_path, capsys, monkeypatch):
    (tmp_path / "good_model.py").write_text(textwrap.dedent(PREDICTABLE))
    monkeypatch.syspath_prepend(str(tmp_path))
    rc = main(["verify", "--system", "good_model:make", "--param", "T=40", "--lengths", "10,40",
               "--no-plots", "--out", str(tmp_path / "out")])
    assert rc == 0
    s = json.loads((tmp_path / "out" / "report.json").read_text())["systems"][0]
    assert s["name"] == "contracting" and s["lengths"] == [10, 40] and s["lle"] <= math.log(0.5) + 1e-9
    assert s["growth_measured"] == "flat"
    assert _usage(capsys, ["verify", "--system", "good_model:nothing", "--out", str(tmp_path)], "no attribute")


# --------------------------------------------------------------------------- bad input


def _usage(capsys, argv, *fragments):
    rc = main(argv)
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for frag in fragments:
        assert frag in err, err
    return err


@pytest.mark.parametrize("argv, fragments", [
    (["verify", "--system", "nope"], ["unknown system", "mean_field_rnn", "lorenz"]),
    (["verify", "--system", "logistic", "--solver", "newton"], ["unknown solver", "deer", "quasi"]),
    (["verify", "--system", "logistic", "--param", "r"], ["--param", "NAME=VALUE"]),
    (["verify", "--system", "logistic", "--param", "=3"], ["--param"]),
    (["verify", "--system", "logistic", "--param", "r="], ["--param"]),
    (["verify", "--system", "logistic", "--param", "bogus=1"], ["--param", "bogus"]),
    (["verify", "--system", "logistic", "--lengths", "10,abc"], ["--lengths"]),
    (["verify", "--system", "logistic", "--lengths", "100,10"], ["--lengths", "increasing"]),
    (["verify", "--system", "logistic", "--lengths", "1"], ["--lengths"]),
    (["verify", "--system", "logistic", "--param", "T=50", "--lengths", "10,100"], ["lengths", "50"]),
    (["verify", "--suite", "huge"], ["--suite", "quick"]),
    (["verify", "--param", "g=1"], ["--system"]),
    (["verify", "--system", "logistic", "--precision", "float16"], ["--precision"]),
    (["verify", "--system", "logistic", "--tol", "-1"], ["--tol"]),
])
def test_verify_bad_input(argv, fragments, capsys, tmp_path):
    _usage(capsys, argv + ["--out", str(tmp_path)], *fragments)


def test_verify_unwritable_out(capsys, tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    _usage(capsys, ["verify", "--system", "logistic", "--out", str(blocker / "sub")], "--out", "cannot write")


@pytest.mark.parametrize("target, fragments", [
    ("no_colon", ["MODULE:FACTORY"]),
    ("surely_missing_module_xyz:make", ["cannot import", "surely_missing_module_xyz"]),
    ("MISSING_FILE.py:make", ["no such file"]),
    ("chaos_model:absent", ["no attribute", "absent"]),
    ("chaos_model:NOT_CALLABLE", ["not callable"]),
    ("chaos_model:not_a_system", ["must return a verification.System", "int"]),
    ("chaos_model:raises", ["RuntimeError", "boom"]),
    ("chaos_model:bad_step", ["f(s0, inputs[0]) failed", "ZeroDivisionError"]),
    ("chaos_model:wrong_shape", ["must return shape (2,)"]),
    ("broken_model:make", ["cannot import", "SyntaxError"]),
])
def test_diagnose_bad_input(target, fragments, capsys, tmp_path, monkeypatch):
    (tmp_path / "chaos_model.py").write_text(textwrap.dedent(CHAOTIC))
    (tmp_path / "broken_model.py").write_text("def make(:\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    _usage(capsys, ["diagnose", target], *fragments)


def test_console_script_reports_one_line(tmp_path):
    """Through the real entry point: exit 2 and one stderr line, no traceback."""
    proc = subprocess.run([sys.executable, "-m", "verification.cli", "verify", "--system", "nope",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if "error" in ln]
    assert len(lines) == 1 and "Traceback" not in proc.stderr
