"""The benchmark tooling runs (issue 6, target 7): the GPU script's tiny CPU mode, JSON written
atomically, tables, and the ``predictability bench`` command's wiring. No timings are asserted."""

import json
import os
import subprocess
import sys

import jax.numpy as jnp
import pytest

from solvers import benchmark

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_gpu_script_tiny_mode_on_cpu(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, "benchmarks", "gpu.py"),
            "--tiny",
            "--out-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    files = sorted(os.listdir(tmp_path))
    assert [f for f in files if f.endswith(".json")] and [f for f in files if f.endswith(".md")]
    data = json.loads((tmp_path / [f for f in files if f.endswith(".json")][0]).read_text())
    assert data["dtype"] == "float64" and data["machine"]["backend"]
    for row in data["rows"]:
        assert row["deer_converged"] and row["quasi_converged"]
        assert row["deer_iters"] >= 1 and row["sequential_s"] > 0
    assert "| D | T |" in (tmp_path / [f for f in files if f.endswith(".md")][0]).read_text()


def test_rnn_comparison_respects_time_limit_and_memory_budget():
    rows = benchmark.rnn_comparison((2,), (20, 40), time_limit=0.0, reps=1)
    # A zero limit skips every configuration, each row saying so.
    assert all(r.get("skipped") == "time limit" for r in rows)
    rows = benchmark.rnn_comparison((3,), (30,), max_bytes=1.0, reps=1)
    assert "deer_s" not in rows[0] and "quasi_s" in rows[0]


def test_write_json_is_atomic_and_round_trips(tmp_path):
    path = tmp_path / "sub" / "r.json"
    benchmark.write_json(path, {"a": 1.5, "b": jnp.arange(3), "c": [1, 2]})
    assert json.loads(path.read_text()) == {"a": 1.5, "b": [0, 1, 2], "c": [1, 2]}
    assert os.listdir(tmp_path / "sub") == ["r.json"]  # no temporary file left behind

    class Boom:
        pass

    benchmark.write_json(path, {"x": Boom()})  # unknown objects are written as strings
    with pytest.raises(TypeError):
        benchmark.write_json(path, {("tuple", "key"): 1})  # bad data: the old file survives
    assert "x" in json.loads(path.read_text())
    assert os.listdir(tmp_path / "sub") == ["r.json"]


def test_markdown_table_and_time_calls():
    res = benchmark.time_calls({"a": lambda: jnp.ones(3) + 1}, reps=2)
    assert set(res["a"]) == {"median_s", "compile_s", "times_s"} and len(res["a"]["times_s"]) == 2
    table = benchmark.markdown_table([{"x": 1, "y": 0.123456}, {"x": 2, "y": None}])
    assert table.splitlines()[0] == "| x | y |" and "0.123" in table
    assert benchmark.markdown_table([]) == "(no rows)"


def test_bench_subcommand_is_registered():
    from verification import cli

    args = cli.build_parser().parse_args(["bench", "--full", "--out", "x.json"])
    assert args.command == "bench" and args.full and args.out == "x.json"
    assert cli.main(["bench", "--out", os.path.join(ROOT, "no-such-folder", "x.json")]) == 2


def test_jacobian_suite_tiny_rows_name_the_cheaper_mode():
    rows = benchmark.jacobian_suite((6,), T=20, reps=1, iters=1)
    assert [r["f"] for r in rows] == [name for name, _ in benchmark.JACOBIAN_FORMS]
    picks = {r["f"]: r["auto picks"] for r in rows}
    # W tanh(s): forward mode multiplies W by a scaled basis at every step, reverse once.
    assert picks == {"W tanh(s) + u": "reverse", "tanh(W s + u)": "forward"}
    for r in rows:
        assert r["J fwd ms"] > 0 and r["DEER fwd/auto"] > 0
