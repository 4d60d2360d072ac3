"""Tests of the benchmark suite: one real ``--quick`` run, plus the harness pieces on synthetic cases.

No assertion here is about speed: timings are only checked for being present and finite.
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from benchmarks import harness, report
from benchmarks.harness import Case, Registered, Skip

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# ------------------------------------------------------------------ the one real run

@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "quick.json"
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # one thread everywhere: on a shared 2-core machine, 2-thread torch ops stall for milliseconds
    # and this run only checks that every row still runs and is right, not how fast.
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--threads", "1", "--json", str(out)],
                          capture_output=True, text=True, timeout=900, cwd=ROOT, env=env)
    assert out.exists(), f"no JSON written; rc={proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc, json.loads(out.read_text())


def test_quick_run_has_every_registered_row(quick_run):
    proc, doc = quick_run
    harness.discover()
    expected = list(harness.registry())
    names = [r["name"] for r in doc["rows"]]
    assert names == expected, f"missing: {set(expected) - set(names)}, extra: {set(names) - set(expected)}"
    for name in names:  # and the terminal table shows each of them
        assert name in proc.stdout


def test_quick_run_rows_have_time_or_reason_and_no_fail(quick_run):
    _, doc = quick_run
    fails = [f"{r['name']}: {r['reason']}" for r in doc["rows"] if r["status"] == "FAIL"]
    assert not fails, "benchmark rows FAILED (wrong answer or error):\n" + "\n".join(fails)
    for row in doc["rows"]:
        assert row["status"] in ("ok", "skipped"), row
        if row["status"] == "skipped":
            assert row["reason"].strip(), f"{row['name']} skipped without a reason"
            continue
        assert "ours" in row["sides"]
        for side_name, side in row["sides"].items():
            if side["status"] == "ok":
                for key in ("median", "q1", "q3", "min", "max"):
                    assert math.isfinite(side[key]) and side[key] >= 0, (row["name"], side_name, key)
                assert side["min"] <= side["q1"] <= side["median"] <= side["q3"] <= side["max"]
            else:
                assert side["status"] in ("skipped", "error") and side["reason"].strip(), (row["name"], side)


MODEL_STEPS = ("engine.chain1000_16x16_fwd_bwd", "nn.mlp784_step", "conv.lenet_step", "rnn.lstm_step",
               "rnn.gru_step", "gpt.train_step")


def test_quick_run_model_steps_are_isolated_with_floor_and_the_table_says_each_mode(quick_run):
    proc, doc = quick_run
    rows = {r["name"]: r for r in doc["rows"]}
    for name in MODEL_STEPS:
        row = rows[name]
        assert row["mode"] == "isolated" and row["threads"] == 1, name
        if row["status"] == "ok" and name != MODEL_STEPS[0]:
            assert row["flops"] > 0 and row["sides"]["ours"]["floor_x"] > 0, name
    assert rows["kernels.add_fwd"]["mode"] == "in-process"
    assert "isolated: each side alone" in proc.stdout and "in-process: every side in this process" in proc.stdout
    assert "200x200 float32 (--quick size)" in proc.stdout       # sizes of the kernel rows
    skipped = [r["name"] for r in doc["rows"] if r["status"] == "skipped"]
    assert skipped and not any(f"running {name} " in proc.stderr for name in skipped)


def test_quick_run_machine_line(quick_run):
    proc, doc = quick_run
    m = doc["machine"]
    assert m["numpy"] == np.__version__
    assert m["cpu"] and m["cores"] >= 1 and "blas" in m
    assert proc.stdout.startswith("machine: ")
    if m.get("torch"):  # torch threads were matched to BLAS threads
        assert m["threads"]["torch"] == m["threads"]["target"]


# ------------------------------------------------------------------ statistics

def test_summarize_median_quartiles_min_max():
    s = harness.summarize([5.0, 1.0, 4.0, 2.0, 3.0])
    assert (s["median"], s["q1"], s["q3"], s["min"], s["max"], s["n"]) == (3.0, 2.0, 4.0, 1.0, 5.0, 5)
    s = harness.summarize([4.0, 1.0, 3.0, 2.0])  # linear interpolation between order statistics
    assert s["median"] == 2.5 and s["q1"] == pytest.approx(1.75) and s["q3"] == pytest.approx(3.25)
    with pytest.raises(ValueError):
        harness.summarize([])


# ------------------------------------------------------------------ run_case on synthetic cases

def _reg(setup, name="t.case"):
    return Registered(name, "test", setup)


def test_run_case_times_checks_and_interleaves():
    calls = []
    x = np.arange(6.0)

    def setup(quick):
        def ours():
            calls.append("ours")
            return x * 2

        def ref():
            calls.append("numpy")
            return x + x

        return Case(ours=ours, refs={"numpy": ref, "torch": Skip("torch not installed")}, number=1)

    row = harness.run_case(_reg(setup), repeat=4)
    assert row["status"] == "ok"
    ours, ref = row["sides"]["ours"], row["sides"]["numpy"]
    assert ours["n"] == 4 and ref["n"] == 4
    assert ref["ratio"] == pytest.approx(ours["median"] / ref["median"])
    assert ours["compile"] >= 0
    assert row["sides"]["torch"] == {"status": "skipped", "reason": "torch not installed"}
    timed = calls[4:]  # after first calls and warm-ups: rounds rotate the side order
    assert timed == ["ours", "numpy", "numpy", "ours", "ours", "numpy", "numpy", "ours"]


def test_run_case_wrong_answer_is_fail_and_not_timed():
    n_calls = []

    def setup(quick):
        def ours():
            n_calls.append(1)
            return np.array([1.0, 2.0, 3.5])

        return Case(ours=ours, refs={"numpy": lambda: np.array([1.0, 2.0, 3.0])})

    row = harness.run_case(_reg(setup), repeat=5)
    assert row["status"] == "FAIL"
    assert "wrong answer vs numpy" in row["reason"] and "(2,)" in row["reason"]
    assert len(n_calls) == 1 and row["sides"] == {}


def test_run_case_setup_skip_import_error_and_crash():
    def skip(quick):
        raise Skip("nn.Linear not available yet")

    def missing(quick):
        import not_a_module_anywhere  # noqa: F401

    def crash(quick):
        raise ValueError("boom")

    assert harness.run_case(_reg(skip))["reason"] == "nn.Linear not available yet"
    row = harness.run_case(_reg(missing))
    assert row["status"] == "skipped" and "not_a_module_anywhere" in row["reason"]
    row = harness.run_case(_reg(crash))
    assert row["status"] == "FAIL" and "boom" in row["reason"]


def test_run_case_reference_error_and_value_kind():
    def setup(quick):
        def bad():
            raise RuntimeError("ref broke")

        return Case(ours=lambda: 1.0, refs={"numpy": bad}, number=1)

    row = harness.run_case(_reg(setup), repeat=2)
    assert row["status"] == "ok" and row["sides"]["numpy"]["status"] == "error"
    assert "ref broke" in row["sides"]["numpy"]["reason"]

    values = iter([10.0, 12.0, 11.0, 5.0, 6.0, 7.0])

    def measured(quick):
        return Case(ours=lambda: next(values), refs={"torch": lambda: 4.0}, kind="value", unit="MB")

    row = harness.run_case(_reg(measured), repeat=3)
    assert row["sides"]["ours"]["n"] == 3 and row["unit"] == "MB"
    assert row["sides"]["torch"]["ratio"] == pytest.approx(row["sides"]["ours"]["median"] / 4.0)


def test_assert_close_and_as_arrays():
    harness.assert_close([np.ones(3), 2.0], (np.ones(3) + 1e-7, 2.0))
    with pytest.raises(AssertionError, match=r"shape \(3,\) vs reference \(2,\)"):
        harness.assert_close(np.ones(3), np.ones(2))
    with pytest.raises(AssertionError, match="1 elements differ"):
        harness.assert_close(np.array([1.0, 2.0]), np.array([1.0, 2.1]))

    class FakeValue:  # micrograd-like scalar
        def __init__(self, data):
            self.data = data

    arrays = harness.as_arrays({"a": FakeValue(3.0), "b": [np.zeros((2, 2)), 1]})
    assert [a.shape for a in arrays] == [(), (2, 2), ()] and float(arrays[0]) == 3.0


def test_as_arrays_torch_tensor_with_grad():
    torch = pytest.importorskip("torch")
    t = torch.ones(2, requires_grad=True) * 3
    (arr,) = harness.as_arrays(t)
    np.testing.assert_array_equal(arr, [3.0, 3.0])


# ------------------------------------------------------------------ compare

def _row(name, samples, status="ok"):
    if status != "ok":
        return {"name": name, "status": status, "reason": "r", "sides": {}}
    return {"name": name, "status": "ok", "unit": "s", "sides": {"ours": harness.summarize(samples)}}


def test_compare_flags_regression_only_beyond_spread():
    old = [_row("a", [1.0, 1.1, 1.2, 1.3, 1.4]), _row("b", [1.0, 1.1, 1.2, 1.3, 1.4]),
           _row("c", [2.0, 2.1, 2.2]), _row("gone", [1.0])]
    new = [_row("a", [1.5, 1.6, 1.7, 1.8, 1.9]),   # whole IQR above the old one: regression
           _row("b", [1.2, 1.3, 1.35, 1.4, 1.5]),   # slower median, but IQRs overlap: same
           _row("c", [1.0, 1.05, 1.1]),             # faster beyond spread
           _row("d", [1.0])]
    items = {i["name"]: i for i in report.compare_rows(old, new)}
    assert items["a"]["flag"] == "REGRESSION"
    assert items["a"]["change"] == pytest.approx((1.7 - 1.2) / 1.2)
    assert items["b"]["flag"] == "same" and items["b"]["change"] > 0
    assert items["c"]["flag"] == "improvement"
    assert items["gone"]["flag"] == "removed" and items["d"]["flag"] == "new row"
    text = report.format_compare(list(items.values()))
    assert "1 regression(s)" in text and "+41.7%" in text


def test_compare_cli_exit_code(tmp_path):
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    report.write_json(str(old), [_row("a", [1.0, 1.1, 1.2])], {"cpu": "x"}, {})
    report.write_json(str(new), [_row("a", [2.0, 2.1, 2.2])], {"cpu": "x"}, {})
    from benchmarks.__main__ import main

    assert main(["--compare", str(old), str(new)]) == 1
    assert main(["--compare", str(old), str(old)]) == 0


# ------------------------------------------------------------------ table and plot

def test_format_table_rows_ratios_skips_and_fails():
    ok = {"name": "engine.chain", "status": "ok", "unit": "s", "notes": "",
          "sides": {"ours": {**harness.summarize([0.002, 0.002, 0.002]), "status": "ok", "compile": 0.5},
                    "torch": {**harness.summarize([0.004] * 3), "status": "ok", "ratio": 0.5},
                    "micrograd": {"status": "skipped", "reason": "micrograd not installed"}}}
    skipped = {"name": "nn.mlp", "status": "skipped", "reason": "nn.Linear not available yet", "sides": {}}
    failed = {"name": "kernels.bad", "status": "FAIL", "reason": "wrong answer vs numpy", "sides": {}}
    text = report.format_table([ok, skipped, failed], "machine: test")
    lines = text.splitlines()
    assert lines[0] == "machine: test"
    assert lines[1].split() == ["benchmark", "ours", "compile", "torch", "(ratio)", "micrograd", "(ratio)"]
    chain = next(line for line in lines if line.startswith("engine.chain"))
    assert "2 ms ±0%" in chain and "500 ms" in chain and "4 ms ±0% (0.50x)" in chain and "skipped [2]" in chain
    assert "[1] in-process: every side in this process" in text      # each row says how it was measured
    assert "[2] micrograd: micrograd not installed" in text
    assert "nn.mlp" in text and "skipped (nn.Linear not available yet)" in text
    assert "FAIL (wrong answer vs numpy)" in text


def test_fmt_value_units():
    assert report.fmt_value(2.5e-7) == "250 ns"
    assert report.fmt_value(1.5e-5) == "15 us"
    assert report.fmt_value(0.0123) == "12.3 ms"
    assert report.fmt_value(2.0) == "2 s"
    assert report.fmt_value(3.25, "MB") == "3.25 MB"


def test_plot_draws_one_bar_per_ratio(tmp_path):
    pytest.importorskip("matplotlib")
    rows = [{"name": "a", "status": "ok", "sides": {"ours": {}, "numpy": {"ratio": 0.5}, "torch": {"ratio": 2.0}}},
            {"name": "b", "status": "skipped", "reason": "x", "sides": {}}]
    path = tmp_path / "r.png"
    assert report.plot_ratios(rows, str(path)) == 2
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_require_names_missing_attribute():
    with pytest.raises(Skip, match="numpy.not_there not available yet"):
        harness.require("numpy", "not_there")
    with pytest.raises(Skip, match="not importable yet"):
        harness.require("not_a_module_anywhere")
    assert harness.require("numpy", "linalg.norm") is np


def test_gemm_fraction_of_best_rate():
    rows = [{"name": "mm.a", "status": "ok", "sides": {"ours": {"gflops": 10.0}, "numpy": {"gflops": 40.0}}},
            {"name": "mm.b", "status": "ok", "sides": {"ours": {"gflops": 20.0}}},
            {"name": "x", "status": "skipped", "sides": {}}]
    assert report.annotate_gemm_fraction(rows) == 40.0
    assert rows[0]["sides"]["ours"]["frac_of_best"] == pytest.approx(0.25)
    assert rows[1]["sides"]["ours"]["frac_of_best"] == pytest.approx(0.5)
    assert report.annotate_gemm_fraction([rows[2]]) is None


def test_discover_turns_a_broken_case_module_into_a_fail_row(tmp_path, monkeypatch):
    from benchmarks import cases

    (tmp_path / "zz_good.py").write_text(
        "from benchmarks.harness import Case, register\n"
        "@register('zz_good.row', group='t')\n"
        "def row(quick):\n    return Case(ours=lambda: 1.0)\n")
    (tmp_path / "zz_broken.py").write_text("import not_a_module_anywhere\n")
    saved = dict(harness._REGISTRY)
    monkeypatch.setattr(cases, "__path__", [str(tmp_path)])
    try:
        errors = harness.discover()
        reg = harness.registry()
        assert [m for m, _ in errors] == ["benchmarks.cases.zz_broken"]
        assert "zz_good.row" in reg and "zz_broken.import" in reg
        row = harness.run_case(reg["zz_broken.import"])
        assert row["status"] == "FAIL" and "not_a_module_anywhere" in row["reason"]
    finally:
        harness._REGISTRY.clear()
        harness._REGISTRY.update(saved)
        for mod in ("benchmarks.cases.zz_good", "benchmarks.cases.zz_broken"):
            sys.modules.pop(mod, None)
