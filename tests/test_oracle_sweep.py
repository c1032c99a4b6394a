"""Oracle tests of sweep resume (sim/sweep/runner.py): exactly the missing points run again.

README "Interrupted?": each point is written whole or not at all; the same
command resumes with the missing ones and gives the same files as an
uninterrupted run. A point counts as done only when its part file is there:
a point folder left by a hard kill mid-write (a temporary file, no
``part.parquet``) or an empty one is a missing point.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import sim.sweep.runner as runner
from sim.experiment import run_records
from sim.sweep import load_sweep, read_points, run_sweep
from sim.table import build_table
from tests.conftest import BASELINE

GRID = f"""
[sweep]
id = "tiny"
name_en = "Tiny grid"
name_zh = "小网格"
scenario = "{BASELINE.as_posix()}"
design = "grid"
reps = 2
seed = 7
kpi = "industrialised"

[[factors]]
param = "meeting.brokers"
values = [4.0, 12.0]

[[factors]]
param = "pilot.public_slots"
values = [1.0, 6.0]
"""


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sweep file and an uninterrupted run of it (4 points × 2 replications)."""
    d = tmp_path_factory.mktemp("sweep")
    spec = d / "tiny.toml"
    spec.write_text(GRID, encoding="utf-8")
    return spec, run_sweep(load_sweep(spec), d / "whole")


def _resume(spec: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[tuple[int, int]], list[int]]:
    sizes: list[tuple[int, int]] = []
    written: list[int] = []
    real = runner._write_part

    def spy(o: Path, point: int, arm: str, records: pd.DataFrame) -> None:
        written.append(point)
        real(o, point, arm, records)

    monkeypatch.setattr(runner, "_write_part", spy)
    run_sweep(load_sweep(spec), out, on_start=lambda n, todo: sizes.append((n, todo)))
    return sizes, written


def _same_result(a: Path, b: Path) -> None:
    _, ra, _ = read_points(a)
    _, rb, _ = read_points(b)
    pd.testing.assert_frame_equal(ra, rb)
    for f in ("summary.csv", "sensitivity.csv", "design.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(a / f), pd.read_csv(b / f))


def test_resume_reruns_exactly_the_missing_points(finished: tuple[Path, Path], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Point 0: folder left by a hard kill mid-write (a temporary file, no part); point 2: no folder at all;
    point 3: an empty folder. Resuming runs points 0, 2 and 3, nothing else, and gives the uninterrupted files."""
    spec, whole = finished
    out = tmp_path / "out"
    shutil.copytree(whole, out)
    (out / "summary.csv").unlink()
    p0 = runner.part_path(out, 0, "baseline")
    p0.unlink()
    (p0.parent / f".part.{12345}.tmp.parquet").write_bytes(b"PAR1 half a file")
    shutil.rmtree(out / "records" / "point=00002")
    p3 = runner.part_path(out, 3, "baseline")
    p3.unlink()
    sizes, written = _resume(spec, out, monkeypatch)
    assert sizes == [(4, 3)] and sorted(written) == [0, 2, 3]
    _same_result(whole, out)


def test_resuming_a_finished_sweep_runs_nothing(finished: tuple[Path, Path], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    spec, whole = finished
    out = tmp_path / "out"
    shutil.copytree(whole, out)
    sizes, written = _resume(spec, out, monkeypatch)
    assert sizes == [(4, 0)] and written == []
    _same_result(whole, out)


def test_a_crash_mid_point_keeps_the_finished_points_and_no_half_file(finished: tuple[Path, Path],
                                                                      tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The third point's Parquet writer dies half-way through its file: two points are kept whole, the third
    leaves no part file (at most an empty folder), and the resume runs the last two."""
    spec, whole = finished
    out = tmp_path / "out"
    real = pd.DataFrame.to_parquet
    calls = {"n": 0}

    def dies_on_third(self: pd.DataFrame, path: Any, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            Path(path).write_bytes(b"PAR1 half a file")
            raise OSError("disk full")
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", dies_on_third)
    from sim.store import WriteError

    with pytest.raises(WriteError, match="disk full"):  # the write's OS error, as one line naming the file
        run_sweep(load_sweep(spec), out)
    monkeypatch.undo()
    parts = sorted(p.parent.parent.name for p in (out / "records").glob("*/*/part.parquet"))
    assert parts == ["point=00000", "point=00001"]
    assert not [p for p in (out / "records").rglob("*") if p.is_file() and p.name != "part.parquet"]
    sizes, written = _resume(spec, out, monkeypatch)
    assert sizes == [(4, 2)] and sorted(written) == [2, 3]
    _same_result(whole, out)


def test_read_points_refuses_a_missing_point(finished: tuple[Path, Path], tmp_path: Path) -> None:
    _, whole = finished
    out = tmp_path / "out"
    shutil.copytree(whole, out)
    runner.part_path(out, 1, "baseline").unlink()
    with pytest.raises(FileNotFoundError):
        read_points(out)



def test_read_points_numbers_points_as_the_design_does(finished: tuple[Path, Path]) -> None:
    """Point k's records are the records of point k's scenario run directly (same seed, replications)."""
    from sim.sweep.design import point_scenario, point_values

    spec, whole = finished
    sw = load_sweep(spec)
    points, rec, _ = read_points(whole)
    assert sorted(rec["point"].unique()) == list(points.index) == [0, 1, 2, 3]
    sc = point_scenario(sw, point_values(points, 3))
    assert (sc.params.meeting.brokers, sc.params.pilot.public_slots) == (12.0, 6.0)
    direct = run_records(build_table(sc), 7, range(2), engine="fast")
    got = rec[rec["point"] == 3].drop(columns=["point", "arm"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, direct, check_dtype=False)


def test_a_point_out_of_range_is_refused_before_anything_runs(tmp_path: Path) -> None:
    """A factor value that, with the scenario's lever on top, leaves the parameter's range is an input error
    before the first point runs: nothing is written."""
    from sim.scenario import InputError

    sc = tmp_path / "more.toml"
    sc.write_text(f"""[scenario]
id = "more"
name_en = "m"
name_zh = "m"
base = "{BASELINE.as_posix()}"

[[levers]]
id = "brokers"
name_en = "b"
name_zh = "b"
group = "intermediaries"
param = "meeting.brokers"
mode = "add"
value = 5.0
effect_source = "ASM test"
effect_low = 5.0
effect_high = 5.0
yearly_cost_yuan = 0.0
cost_source = "ASM test"
cost_low = 0.0
cost_high = 0.0
""", encoding="utf-8")
    spec = tmp_path / "s.toml"
    spec.write_text(GRID.replace(BASELINE.as_posix(), sc.as_posix()).replace("values = [4.0, 12.0]",
                                                                            "values = [4.0, 998.0]"),
                    encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(InputError, match=r"meeting\.brokers"):
        run_sweep(load_sweep(spec), out)
    assert not (out / "records").exists()
