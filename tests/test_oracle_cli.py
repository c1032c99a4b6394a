"""Oracle tests of the command line: exit 130 on Ctrl-C for run, compare, sweep and calibrate (nothing half
written), ``validate`` and ``variants`` on a temporary copy of scenarios/ (the shipped files are never touched).

README: bad input → one line, exit 2, nothing written; an interrupted sweep
keeps its finished points; ``convsim variants [--budget YUAN]`` regenerates
``all_five.toml`` (every lever of g1–g5) and the equal-budget files (each group's
paid levers resized to cost the budget a year); ``convsim validate`` checks files
without running them.
"""

from __future__ import annotations

import hashlib
import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import sim.experiment as experiment
from sim.cli import main
from sim.scenario import load_scenario
from sim.store import lock_file
from tests.conftest import BASELINE, ROOT
from tests.oracle import FakeRuns, half_width, noise

SCEN = ROOT / "scenarios"
GROUPS = ("g1_awareness", "g2_platforms", "g3_talent", "g4_intermediaries", "g5_finance")


def _interrupt(*_: Any, **__: Any) -> Any:
    raise KeyboardInterrupt


def test_run_interrupted_exits_130_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(experiment, "_run_arrays", _interrupt)
    out = tmp_path / "run"
    assert main(["run", str(BASELINE), "--reps", "2", "--out", str(out), "--quiet"]) == 130
    assert "interrupted" in capsys.readouterr().err and not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_compare_interrupted_exits_130_and_writes_no_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(experiment, "_records", _interrupt)
    out = tmp_path / "report"
    assert main(["compare", str(SCEN / "g4_intermediaries.toml"), "--baseline", str(BASELINE), "--reps", "2",
                 "--report", str(out), "--quiet"]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err and not out.exists()


@pytest.mark.parametrize("command", ["sweep", "calibrate"])
def test_sweep_and_calibrate_interrupted_exit_130(command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "cal.toml"
    spec.write_text(f"""
[sweep]
id = "cal"
name_en = "c"
name_zh = "c"
scenario = "{BASELINE.as_posix()}"
design = "grid"
reps = 2
kpi = "contracts"
first_year = 2018
last_year = 2022

[[factors]]
param = "contract.base_logit"
values = [-1.6, -1.2]
""", encoding="utf-8")
    monkeypatch.setattr(experiment, "_records", _interrupt)
    out = tmp_path / "out"
    assert main([command, str(spec), "--out", str(out), "--quiet"]) == 130
    err = capsys.readouterr().err
    assert "interrupted; every finished point is saved" in err and "Traceback" not in err
    assert not list((out / "records").glob("*/*/part.parquet")) if (out / "records").exists() else True
    assert not (out / "summary.csv").exists() and not (out / "calibration.csv").exists()
    _lock_is_free(lock_file(out.resolve()))


@pytest.fixture
def scenario_copy(tmp_path: Path) -> Iterator[Path]:
    """A copy of the shipped scenarios/ folder; the test checks the shipped files stay as they were."""
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in SCEN.glob("*.toml")}
    d = tmp_path / "scenarios"
    shutil.copytree(SCEN, d)
    yield d
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in SCEN.glob("*.toml")}
    assert after == before


def test_validate_reports_every_file(scenario_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(scenario_copy.glob("*.toml"))
    assert main(["validate", *map(str, files)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(files) == 12
    for f, line in zip(files, lines, strict=True):
        data = tomllib.loads(f.read_text(encoding="utf-8"))
        n = len(data.get("levers", []))  # shipped files build on baseline.toml, which has no levers
        assert line == f"{f}: ok — {data['scenario']['id']}, {n} lever(s), 13 simulated years", line
    bad = scenario_copy / "bad.toml"
    bad.write_text((scenario_copy / "baseline.toml").read_text(encoding="utf-8").replace("city_rate = 0.20",
                                                                                         "city_rate = 2.0"),
                   encoding="utf-8")
    assert main(["validate", str(files[0]), str(bad)]) == 2
    captured = capsys.readouterr()
    assert "bad.toml" in captured.err and "city_rate" in captured.err and captured.err.count("\n") == 1


def test_variants_regenerates_all_five_and_equal_budget_files(scenario_copy: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    for f in ("all_five.toml", *(f"eq_{g.split('_', 1)[1]}.toml" for g in GROUPS)):
        (scenario_copy / f).unlink()
    assert main(["variants", "--dir", str(scenario_copy), "--budget", "2000000"]) == 0
    printed = capsys.readouterr().out
    group_levers = [lv.id for g in GROUPS for lv in load_scenario(scenario_copy / f"{g}.toml").levers]
    every = load_scenario(scenario_copy / "all_five.toml")
    assert [lv.id for lv in every.levers] == group_levers
    for g in GROUPS:
        eq = load_scenario(scenario_copy / f"eq_{g.split('_', 1)[1]}.toml")
        paid = [lv for lv in load_scenario(scenario_copy / f"{g}.toml").levers if lv.yearly_cost_yuan > 0]
        assert [lv.id for lv in eq.levers] == [lv.id for lv in paid]
        for y in range(2023, 2028):
            assert eq.yearly_cost(y) == pytest.approx(2_000_000.0, rel=1e-9), (g, y)
        assert f"eq_{g.split('_', 1)[1]}.toml: {len(paid)} lever(s), 2,000,000 yuan/year" in printed


@pytest.mark.slow
def test_compare_precision_says_reached_when_the_target_is_met_at_the_cap(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`--precision H --max-reps N`: the message says the precision was reached whenever every headline
    half-width is at most H, even when that happens exactly at N (engines replaced by hand-made records)."""
    monkeypatch.setattr(experiment, "_records", FakeRuns({0: 0.0, 2: 3.0}))
    d = np.array([3.0 * noise(r) for r in range(400)])
    h200, h400 = half_width(d[:200]), half_width(d[:400])
    target = (h200 + h400) / 2  # missed after the first batch of 200, met after 400
    assert h400 < target < h200 and 200 * (h200 / target) ** 2 <= 400  # so the second batch ends at the cap
    sc = tmp_path / "k2.toml"
    sc.write_text(f"""[scenario]
id = "k2"
name_en = "k2"
name_zh = "k2"
base = "{BASELINE.as_posix()}"

[[levers]]
id = "brokers"
name_en = "b"
name_zh = "b"
group = "intermediaries"
param = "meeting.brokers"
mode = "add"
value = 2.0
effect_source = "ASM test"
effect_low = 2.0
effect_high = 2.0
yearly_cost_yuan = 0.0
cost_source = "ASM test"
cost_low = 0.0
cost_high = 0.0
""", encoding="utf-8")
    assert main(["compare", str(sc), "--baseline", str(BASELINE), "--precision", f"{target:.6f}", "--max-reps",
                 "400", "--worlds", "0", "--report", str(tmp_path / "r"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "reached with 400 replications" in out and "stopped at --max-reps" not in out, out
    assert main(["compare", str(sc), "--baseline", str(BASELINE), "--precision", f"{h400 / 2:.6f}", "--max-reps",
                 "400", "--worlds", "0", "--report", str(tmp_path / "r2"), "--quiet"]) == 0
    assert "stopped at --max-reps 400" in capsys.readouterr().out


def _lock_is_free(path: Path) -> None:
    """The sweep's lock file may stay on disk (filelock keeps it, on purpose), but nobody holds it any more."""
    from filelock import FileLock

    with FileLock(path, timeout=0):
        pass
