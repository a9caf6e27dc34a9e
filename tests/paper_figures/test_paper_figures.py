"""End-to-end tests of ``paper_figures`` on the ``tiny`` preset (seconds per module).

One module-scoped run of ``all --preset tiny`` feeds the data, image and summary checks; the
cache and bad-input tests then reuse its compiled functions and output folder (copied where a
test changes it).
"""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from paper_figures import MODULES, _cache, _runner, main

STEMS = {
    "fig2_threshold": ["fig2_threshold"],
    "fig5_lle": ["fig5_lle"],
    "fig6_chaotic_deviation": ["fig6_chaotic_deviation"],
    "fig7_solvers": ["fig7_solvers"],
    "fig3_fig8_langevin": ["fig3_langevin_steps", "fig8_langevin_iterates"],
    "table1_flows": ["fig9_flows_steps"],
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny")
    lines = []
    paths = _runner.run(["all"], "tiny", out, log=lines.append)
    return out, paths, lines


def data_of(out, name):
    data, meta = _cache.load(out, name)
    assert data is not None, meta
    return data, meta


def tiny_config(name):
    return _runner._module(name).PRESETS["tiny"]


# ----------------------------------------------------------------------------- outputs


def test_every_module_writes_png_pdf_and_cache(tiny):
    out, paths, lines = tiny
    for name in MODULES:
        for stem in STEMS[name]:
            png, pdf = out / f"{stem}.png", out / f"{stem}.pdf"
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert pdf.read_bytes()[:5] == b"%PDF-"
            assert png in paths and pdf in paths
        assert (out / f"{name}.npz").exists() and (out / f"{name}.json").exists()
        assert any(line.startswith(f"{name}: computing") for line in lines)
    assert (out / "table1.md").read_text().count("\n") >= 3


def test_metadata_records_config_version_and_hardware(tiny):
    out, _, _ = tiny
    for name in MODULES:
        meta = json.loads((out / f"{name}.json").read_text())
        assert meta["config"] == _cache.normalise(tiny_config(name))
        assert meta["package_version"] == _cache.package_version()
        assert meta["hardware"]["platform"] and meta["hardware"]["device_kind"]
        assert meta["hardware"]["x64"] is True
        assert meta["compute_seconds"] >= 0


def test_summary_compares_with_the_paper(tiny):
    out, _, _ = tiny
    text = (out / "SUMMARY.md").read_text()
    for needle in ("paper ≈ 1.2", "-0.0145", "paper ≈ 35", "H100", "| system | LLE system",
                   "Lorenz", "DEER/sequential wall-clock ratio", "computed on "):
        assert needle in text, needle
    assert "Not computed yet" not in text


# ----------------------------------------------------------------------------- data


def test_fig2_shapes_finiteness_and_threshold(tiny):
    out, _, _ = tiny
    d, _ = data_of(out, "fig2_threshold")
    c = tiny_config("fig2_threshold")
    G, S, nT = c["num_gains"], c["seeds"], len(d["T"])
    assert d["steps"].shape == (G, S, nT) and d["lle"].shape == (G, S)
    assert d["T"][-1] == c["T_max"] and np.all(np.diff(d["T"]) > 0)
    assert np.all(np.isfinite(d["lle"])) and np.all(np.isfinite(d["neg_log_mu"]))
    assert d["converged"].all()
    # Sign pattern: the smallest gain is predictable and fast, the largest chaotic and slow.
    assert np.all(d["lle"][0] < 0) and np.median(d["lle"][-1]) > 0
    assert d["steps"][0, :, -1].max() <= 5
    assert np.median(d["steps"][-1, :, -1]) >= 4 * d["steps"][0, :, -1].max()
    # Scan solvers are exact after T iterations. (Counts need not grow monotonically with T:
    # L/T averages over the sequence, so a longer one can meet tol an iteration sooner.)
    assert np.all(d["steps"] <= d["T"])
    # Theorem-2 panel: −log μ̃ grows with T for λ > 0.
    pos = d["lam_grid"] > 0
    assert np.all(np.diff(d["neg_log_mu"][pos], axis=-1) > 0)


def test_fig5_lle_grid(tiny):
    out, _, _ = tiny
    d, _ = data_of(out, "fig5_lle")
    c = tiny_config("fig5_lle")
    assert d["lle"].shape == (c["num_gains"], c["seeds"]) and np.all(np.isfinite(d["lle"]))
    assert np.median(d["lle"][0]) < 0 < np.median(d["lle"][-1])
    assert c["g_min"] < float(d["crossing_gain"]) < c["g_max"]


def test_fig6_converged_but_wrong(tiny):
    out, _, _ = tiny
    d, _ = data_of(out, "fig6_chaotic_deviation")
    c = tiny_config("fig6_chaotic_deviation")
    assert d["deviation"].shape == (c["seeds"], c["T"])
    assert np.all(np.isfinite(d["deviation"])) and d["converged"].all()
    assert np.all(d["merit"] <= c["tol"])
    # Chaotic: the deviation grows by orders of magnitude along t although the merit met tol;
    # predictable: it stays at the level the tolerance allows.
    dev = d["deviation"]
    assert np.median(dev[:, -1]) > 1e3 * max(np.median(dev[:, :4]), 1e-16)
    assert d["deviation_predictable"].max() < 1e-4


def test_fig7_steps_and_times(tiny):
    out, _, _ = tiny
    d, _ = data_of(out, "fig7_solvers")
    c = tiny_config("fig7_solvers")
    G, S = c["num_gains"], c["seeds"]
    assert d["steps"].shape == d["seconds"].shape == d["converged"].shape == (4, G, S)
    assert list(d["solvers"]) == ["sequential", "deer", "quasi", "gd"]
    assert np.all(d["seconds"] > 0) and np.all(np.isfinite(d["seconds"]))
    assert np.all(d["steps"][0] == c["T"])
    deer = d["steps"][1]
    assert deer[0].max() <= 5 and np.median(deer[-1]) > 4 * deer[0].max()
    # W_ii = 0: quasi-DEER is Jacobi; it never beats DEER.
    assert np.all(d["steps"][2] >= deer)
    assert set(d["gd_step"]) <= set(c["gd_step_sizes"])
    assert str(d["hardware"])


def test_langevin_predictable(tiny):
    out, _, _ = tiny
    d, _ = data_of(out, "fig3_fig8_langevin")
    c = tiny_config("fig3_fig8_langevin")
    assert d["steps"].shape == (c["seeds"], len(d["T"])) and d["converged"].all()
    assert np.all(d["lle"] < 0) and np.all(np.isfinite(d["lle"]))
    assert d["steps"].max() <= 10
    n = len(d["fig8_merit"])
    assert d["fig8_lle"].shape == (n,) and np.all(np.isfinite(d["fig8_lle"]))
    assert d["fig8_merit"][-1] <= c["tol"] < d["fig8_merit"][0]


def test_flows_table(tiny):
    out, _, _ = tiny
    d, _ = data_of(out, "table1_flows")
    c = tiny_config("table1_flows")
    F = len(c["flows"])
    assert d["prefix_system"].shape == d["prefix_observer"].shape == (F, len(d["T"]))
    for key in ("lle_system", "lle_observer"):
        assert np.all(np.isfinite(d[key]))
    # Lorenz: chaotic, its observer predictable and fast.
    assert np.all(d["lle_system"] > 0) and np.all(d["lle_observer"] < 0)
    assert np.all(d["steps_observer"] <= 5) and np.all(d["steps_system"] > 10 * d["steps_observer"])


def test_exact_prefix_counts_equal_separate_runs():
    """Oracle: the prefix counts of one run equal separate runs on each prefix (causality)."""
    import jax.numpy as jnp

    import solvers
    from paper_figures import _common, fig3_fig8_langevin

    # Seed 1 of the tiny Langevin run: the full run stops (3 steps) while the prefixes of length
    # 16 and 32 are still above tol by their own merit.
    T, lengths, tol = 64, (8, 16, 32, 64), 1e-10
    f = fig3_fig8_langevin._step(0.01)
    s0, noise, init = fig3_fig8_langevin._problem(1, T)
    sol = solvers.evaluate(f, s0, noise, solvers.DEER(), init=init, tol=tol, lengths=lengths)
    assert not bool(jnp.all(sol.prefix_converged))  # the case this helper exists for
    iters, conv = _common.exact_prefix_counts(f, s0, noise, sol, lengths, tol, solvers.DEER())
    assert bool(jnp.all(conv))
    for k, n in enumerate(lengths):
        ref = solvers.evaluate(f, s0, noise[:n], solvers.DEER(), init=init[:n], tol=tol)
        assert int(iters[k]) == int(ref.num_iters), (n, iters, ref.num_iters)


# ----------------------------------------------------------------------------- cache


@pytest.fixture
def copy_of(tiny, tmp_path):
    out, _, _ = tiny
    dst = tmp_path / "out"
    shutil.copytree(out, dst)
    return dst


def test_cache_is_reused(copy_of):
    before = (copy_of / "fig5_lle.npz").stat().st_mtime_ns
    lines = []
    _runner.run(["fig5"], "tiny", copy_of, log=lines.append)
    assert not any("comput" in line for line in lines), lines
    assert (copy_of / "fig5_lle.npz").stat().st_mtime_ns == before


def test_stale_cache_is_recomputed(copy_of):
    js = copy_of / "fig5_lle.json"
    meta = json.loads(js.read_text())
    meta["config"]["seeds"] = 99
    js.write_text(json.dumps(meta))
    lines = []
    _runner.run(["fig5"], "tiny", copy_of, log=lines.append)
    assert any("stale" in line and "seeds 99 -> 3" in line and "recomputing" in line for line in lines), lines
    assert json.loads(js.read_text())["config"]["seeds"] == 3


def test_stale_package_version_is_recomputed(copy_of):
    js = copy_of / "fig5_lle.json"
    meta = json.loads(js.read_text())
    meta["package_version"] = "0.0.0-old"
    js.write_text(json.dumps(meta))
    lines = []
    _runner.run(["fig5"], "tiny", copy_of, log=lines.append)
    assert any("stale" in line and "package_version" in line for line in lines), lines


@pytest.mark.parametrize("damage", ["npz", "json", "keys"])
def test_corrupt_cache_is_recomputed(copy_of, damage):
    if damage == "npz":
        (copy_of / "fig5_lle.npz").write_bytes(b"not a zip file")
    elif damage == "json":
        (copy_of / "fig5_lle.json").write_text("{truncated")
    else:
        np.savez(copy_of / "fig5_lle.npz", gains=np.zeros(3))
    lines = []
    _runner.run(["fig5"], "tiny", copy_of, log=lines.append)
    assert any("corrupt" in line and "recomputing" in line for line in lines), lines
    data, meta = _cache.load(copy_of, "fig5_lle")
    assert data is not None and "lle" in data


def test_force_recomputes(copy_of):
    lines = []
    _runner.run(["fig5"], "tiny", copy_of, force=True, log=lines.append)
    assert any("--force" in line for line in lines)


# ----------------------------------------------------------------------------- bad input


def _one_error_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_unknown_figure_lists_valid_names(tmp_path, capsys):
    assert main(["fig4", "--preset", "tiny", "--out", str(tmp_path)]) == 2
    line = _one_error_line(capsys)
    assert "unknown figure 'fig4'" in line and "fig2" in line and "table1" in line and "all" in line


def test_unknown_preset_lists_valid_presets(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["fig5", "--preset", "huge", "--out", str(tmp_path)])
    assert exc.value.code == 2
    line = _one_error_line(capsys)
    assert "huge" in line and "quick" in line and "paper" in line


def test_missing_names_is_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--preset", "tiny"])
    assert exc.value.code == 2
    _one_error_line(capsys)


def test_unwritable_output_folder(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["fig5", "--preset", "tiny", "--out", str(blocker / "sub")]) == 2
    line = _one_error_line(capsys)
    assert "--out" in line and "cannot write" in line


def test_run_rejects_unknown_preset(tmp_path):
    with pytest.raises(_runner.UsageError, match="valid presets: quick, paper, tiny"):
        _runner.run(["fig5"], "huge", tmp_path)


def test_predictability_figures_forwards_exit_status(tmp_path):
    r = subprocess.run([sys.executable, "-m", "verification.cli", "figures", "nope", "--preset", "tiny",
                        "--out", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "unknown figure 'nope'" in r.stderr


def test_importing_the_package_leaves_jax_configuration_alone():
    code = ("import jax, paper_figures, paper_figures.fig2_threshold, paper_figures.fig7_solvers; "
            "assert not jax.config.jax_enable_x64")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_presets_are_complete_and_paper_sizes_match_the_paper():
    for name in MODULES:
        mod = _runner._module(name)
        assert set(mod.PRESETS) == set(_runner.PRESETS)
        assert set(mod.PRESETS["tiny"]) == set(mod.PRESETS["quick"]) == set(mod.PRESETS["paper"])
        assert callable(mod.compute) and callable(mod.plot) and callable(mod.main)
    p = _runner._module("fig2_threshold").PRESETS["paper"]
    assert (p["D"], p["seeds"], p["num_gains"], p["T_max"], p["num_T"]) == (100, 20, 50, 10_000, 50)
    p = _runner._module("fig7_solvers").PRESETS["paper"]
    assert (p["D"], p["T"], p["seeds"], p["num_gains"], p["tol"]) == (100, 1000, 5, 16, 1e-4)
    assert _runner._module("table1_flows").PRESETS["paper"]["T"] == 30_000
