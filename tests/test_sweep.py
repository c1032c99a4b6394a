"""Parameter sweeps: designs, bad input, point-by-point files, resuming, backends, sensitivity."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.experiment import run_records
from sim.scenario import InputError
from sim.store import lock_file
from sim.sweep import load_sweep, read_points, run_sweep
from sim.sweep.design import design, point_scenario, point_values
from sim.table import build_table
from tests.conftest import BASELINE

GRID = f"""
[sweep]
id = "tiny"
name_en = "Tiny grid"
name_zh = "小网格"
scenario = "{BASELINE.as_posix()}"
design = "grid"
reps = 6
seed = 3
kpi = "industrialised"

[[factors]]
param = "meeting.brokers"
values = [4.0, 12.0]

[[factors]]
param = "pilot.public_slots"
values = [1.0, 6.0]
"""


def write(tmp_path: Path, text: str, name: str = "sweep.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def records_by_point(out: Path) -> dict[int, pd.DataFrame]:
    _, rec, _ = read_points(out)
    return {int(k): g.drop(columns=["point", "arm"]).reset_index(drop=True) for k, g in rec.groupby("point")}


def test_grid_sweep_writes_every_point_and_matches_direct_runs(tmp_path: Path) -> None:
    sw = load_sweep(write(tmp_path, GRID))
    out = run_sweep(sw, tmp_path / "out")
    points, rec, man = read_points(out)
    assert len(points) == 4 and man["points"] == 4 and man["digest"] == sw.digest()
    assert sorted(rec["point"].unique()) == [0, 1, 2, 3]
    summ = pd.read_csv(out / "summary.csv", index_col="point")
    assert list(summ["reps"]) == [6] * 4
    assert (out / "sweep.png").stat().st_size > 10_000
    sens = pd.read_csv(out / "sensitivity.csv")
    assert set(sens["factor"]) == {"meeting.brokers", "pilot.public_slots"} and (sens["method"] == "src").all()
    # a point's records are those of its scenario run directly, with the same seed and replications
    k = 3
    sc = point_scenario(sw, point_values(points, k))
    assert sc.params.meeting.brokers == 12.0 and sc.params.pilot.public_slots == 6.0
    direct = run_records(build_table(sc), 3, range(6), engine="fast")
    pd.testing.assert_frame_equal(records_by_point(out)[k], direct, check_dtype=False)
    # more brokers, more industrialisations (brokers are the baseline's bottleneck)
    assert summ.loc[2, "industrialised_mean"] > summ.loc[0, "industrialised_mean"]


def test_an_interrupted_sweep_resumes_and_gives_the_same_result(tmp_path: Path) -> None:
    sw = load_sweep(write(tmp_path, GRID))
    whole = run_sweep(sw, tmp_path / "whole")
    out = tmp_path / "interrupted"
    seen = {"reps": 0}

    def stop_after_two_points(n: int) -> None:
        seen["reps"] += n
        if seen["reps"] >= 12:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(sw, out, progress=stop_after_two_points)
    parts = sorted(str(p.parent) for p in (out / "records").glob("*/*/part.parquet"))
    assert len(parts) in (1, 2)  # the interrupted point left nothing behind
    assert not (out / "summary.csv").exists()
    sizes: list[tuple[int, int]] = []
    run_sweep(sw, out, on_start=lambda n, todo: sizes.append((n, todo)))
    assert sizes == [(4, 4 - len(parts))]
    a, b = records_by_point(whole), records_by_point(out)
    for k in range(4):
        pd.testing.assert_frame_equal(a[k], b[k])
    pd.testing.assert_frame_equal(pd.read_csv(whole / "summary.csv"), pd.read_csv(out / "summary.csv"))


def test_a_folder_of_another_spec_is_refused_unless_fresh(tmp_path: Path) -> None:
    sw = load_sweep(write(tmp_path, GRID))
    out = run_sweep(sw, tmp_path / "out")
    other = load_sweep(write(tmp_path, GRID.replace("reps = 6", "reps = 4"), "other.toml"))
    with pytest.raises(InputError, match="another spec"):
        run_sweep(other, out)
    run_sweep(other, out, fresh=True)
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["reps_per_point"] == 4
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff" / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match="something other than a convsim sweep"):
        run_sweep(sw, tmp_path / "stuff", fresh=True)
    assert (tmp_path / "stuff" / "notes.txt").exists()


def test_dask_backend_gives_the_local_records(tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    sw = load_sweep(write(tmp_path, GRID))
    local = run_sweep(sw, tmp_path / "local")
    dask = run_sweep(sw, tmp_path / "dask", backend="dask", workers=2, dask_processes=False)
    a, b = records_by_point(local), records_by_point(dask)
    for k in range(4):
        pd.testing.assert_frame_equal(a[k], b[k])


def test_sobol_design_gives_indices_for_every_factor(tmp_path: Path) -> None:
    text = GRID.replace('design = "grid"', 'design = "sobol"\nsamples = 4').replace("reps = 6", "reps = 3")
    text = text.replace("values = [4.0, 12.0]", "min = 4.0\nmax = 12.0").replace("values = [1.0, 6.0]",
                                                                              "min = 1.0\nmax = 6.0")
    sw = load_sweep(write(tmp_path, text))
    points = design(sw)
    assert len(points) == 4 * (2 + 2)
    assert (points == np.round(points)).all().all()  # both are capacities: whole numbers
    out = run_sweep(sw, tmp_path / "out")
    sens = pd.read_csv(out / "sensitivity.csv")
    assert list(sens["factor"]) == ["meeting.brokers", "pilot.public_slots"]
    assert np.isfinite(sens[["S1", "ST", "S1_conf95", "ST_conf95"]].to_numpy()).all()


def test_lhs_points_stay_in_range_and_depend_only_on_the_spec(tmp_path: Path) -> None:
    text = GRID.replace('design = "grid"', 'design = "lhs"\nsamples = 10')
    text = text.replace('param = "pilot.public_slots"\nvalues = [1.0, 6.0]',
                        'param = "contract.base_logit"\nmin = -2.0\nmax = -1.0')
    text = text.replace("values = [4.0, 12.0]", "min = 4.0\nmax = 12.0")
    sw = load_sweep(write(tmp_path, text))
    a, b = design(sw), design(sw)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 10 and a["contract.base_logit"].between(-2.0, -1.0).all()
    assert (a["meeting.brokers"] == np.round(a["meeting.brokers"])).all()
    assert a["contract.base_logit"].nunique() == 10


@pytest.mark.parametrize(("edit", "message"), [
    (("reps = 6", "reps = 6\ncolour = 1"), "key 'sweep.colour': unknown key"),
    (("reps = 6", 'reps = "six"'), "key 'sweep.reps'"),
    (("values = [4.0, 12.0]", "values = [4.0, 1200.0]"), "outside meeting.brokers's allowed range"),
    (('param = "meeting.brokers"', 'param = "meeting.brokerz"'), "unknown parameter 'meeting.brokerz'"),
    (('param = "meeting.brokers"', 'param = "time.horizon_year"'), "cannot be swept"),
    (('design = "grid"', 'design = "sobol"\nsamples = 6'), "power of two"),
    (('kpi = "industrialised"', 'kpi = "happiness"'), "unknown KPI 'happiness'"),
    (("values = [1.0, 6.0]", "min = 1.0\nmax = 6.0"), "a grid needs `values`"),
    (("baseline.toml", "nowhere.toml"), "key 'sweep.scenario'"),
    (("[sweep]", "[sweep\n"), "malformed TOML"),
])
def test_bad_sweep_files_get_one_line_and_exit_2(tmp_path: Path, capsys, edit: tuple[str, str],
                                                  message: str) -> None:
    spec = write(tmp_path, GRID.replace(*edit))
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(spec) in err and message in err, err
    assert not out.exists()


def test_missing_sweep_file_exits_2(tmp_path: Path, capsys) -> None:
    assert main(["sweep", str(tmp_path / "none.toml"), "--quiet"]) == 2
    assert "file not found" in capsys.readouterr().err


def test_shipped_sweeps_are_valid() -> None:
    for p in sorted((BASELINE.parents[1] / "sweeps").glob("*.toml")):
        sw = load_sweep(p)
        assert len(design(sw)) >= 4
        for k in range(len(design(sw))):
            for a in range(len(sw.arms)):
                build_table(point_scenario(sw, point_values(design(sw), k), a))


def test_cli_sweep_prints_the_range_and_resumes(tmp_path: Path, capsys) -> None:
    spec = write(tmp_path, GRID)
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--quiet"]) == 0
    first = capsys.readouterr().out
    assert "industrialised 2023–2027 (baseline): from" in first and "SRC" in first
    shutil.rmtree(out / "records" / "point=00001")
    assert main(["sweep", str(spec), "--out", str(out)]) == 0
    assert "resuming: 3 of 4 runs already in" in capsys.readouterr().err


def test_a_folder_being_written_by_another_run_is_refused(tmp_path: Path) -> None:
    import subprocess
    import sys

    sw = load_sweep(write(tmp_path, GRID))
    out = tmp_path / "out"
    lock = lock_file(out.resolve())  # where sim.store keeps the folder's writer lock (an flock, as filelock's)
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from filelock import FileLock; "
                               f"l = FileLock({str(lock)!r}); l.acquire(); print('held', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(InputError, match="another convsim command is writing this folder"):
            run_sweep(sw, out)
        assert not out.exists()
    finally:
        holder.kill()
        holder.wait()
    # a lock whose process is gone (killed) is free again: the operating system released it
    run_sweep(sw, out)
    assert (out / "summary.csv").exists()


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_the_sweep_resumes(tmp_path: Path) -> None:
    """A real SIGINT while the compiled engine runs: exit 130, one line, finished points kept, no traceback."""
    import signal
    import subprocess
    import sys
    import time

    spec = write(tmp_path, GRID.replace("reps = 6", "reps = 3000"))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sim.cli", "sweep", str(spec), "--out", str(out)]
    p = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert p.stderr is not None
    seen = ""
    deadline = time.time() + 300
    while "rep/s" not in seen and time.time() < deadline:  # the progress bar moves: compiled code is running
        seen += p.stderr.read(1)
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    rest = p.communicate(timeout=120)[1]
    assert p.returncode == 130, seen + rest
    assert "Traceback" not in rest and "interrupted; every finished point is saved" in rest
    assert not list((out / "records").glob("*/*/.part*"))  # no half-written point


def test_compared_scenarios_get_paired_differences_at_every_point(tmp_path: Path) -> None:
    from sim.analysis.kpi import kpis

    g4 = BASELINE.parent / "g4_intermediaries.toml"
    g3 = BASELINE.parent / "g3_talent.toml"
    text = GRID.replace('kpi = "industrialised"', f'kpi = "industrialised"\ncompare = ["{g4.as_posix()}", '
                        f'"{g3.as_posix()}"]')
    sw = load_sweep(write(tmp_path, text))
    assert [a.id for a in sw.arms] == ["baseline", "g4_intermediaries", "g3_talent"]
    out = run_sweep(sw, tmp_path / "out")
    per_point = pd.read_csv(out / "robustness.csv")
    rob = pd.read_csv(out / "robustness_summary.csv")
    assert len(per_point) == 4 * 2 and set(rob["scenario"]) == {"g4_intermediaries", "g3_talent"}
    assert np.isclose(rob["share_best"].sum(), 1.0) and (out / "robustness.png").stat().st_size > 10_000
    # point 2's difference is the paired difference of the two scenarios run directly at that point
    points = design(sw)
    runs = [run_records(build_table(point_scenario(sw, point_values(points, 2), a)), 3, range(6), engine="fast")
            for a in (0, 1)]
    k = [kpis(r, 2023, 2027)["industrialised"] for r in runs]
    row = per_point[(per_point["point"] == 2) & (per_point["scenario"] == "g4_intermediaries")].iloc[0]
    assert np.isclose(row["diff_mean"], (k[1] - k[0]).mean())
    # resuming works per (point, scenario)
    shutil.rmtree(out / "records" / "point=00001" / "arm=g3_talent")
    sizes: list[tuple[int, int]] = []
    run_sweep(sw, out, on_start=lambda n, todo: sizes.append((n, todo)))
    assert sizes == [(12, 1)]
    pd.testing.assert_frame_equal(pd.read_csv(out / "robustness.csv"), per_point)


def test_compared_scenarios_must_share_the_calendar(tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text(f'[scenario]\nid = "later"\nname_en = "x"\nname_zh = "x"\nbase = "{BASELINE.as_posix()}"\n'
                     "[params.time]\nhorizon_year = 2030\n", encoding="utf-8")
    text = GRID.replace('kpi = "industrialised"', f'kpi = "industrialised"\ncompare = ["{other.as_posix()}"]')
    with pytest.raises(InputError, match="another calendar"):
        load_sweep(write(tmp_path, text))


def test_table_design_takes_its_points_from_a_csv(tmp_path: Path) -> None:
    pd.DataFrame({"meeting.brokers": [4.0, 9.6], "pilot.public_slots": [2.0, 5.0], "other": [1, 2]}).to_csv(
        tmp_path / "pts.csv", index=False)
    text = GRID.replace('design = "grid"', 'design = "table"\npoints_file = "pts.csv"')
    text = text.replace("values = [4.0, 12.0]\n", "").replace("values = [1.0, 6.0]\n", "")
    sw = load_sweep(write(tmp_path, text))
    points = design(sw)
    assert points.to_dict("list") == {"meeting.brokers": [4.0, 10.0], "pilot.public_slots": [2.0, 5.0]}
    pd.DataFrame({"meeting.brokers": [4.0, -1.0], "pilot.public_slots": [2.0, 5.0]}).to_csv(
        tmp_path / "pts.csv", index=False)
    with pytest.raises(InputError, match=r"row 2, column meeting\.brokers: '-1\.0' is not a number in the allowed"):
        load_sweep(write(tmp_path, text))
    pd.DataFrame({"meeting.brokers": [4.0]}).to_csv(tmp_path / "pts.csv", index=False)
    with pytest.raises(InputError, match=r"no column for pilot\.public_slots"):
        load_sweep(write(tmp_path, text))


def test_calibration_accepts_exactly_the_points_within_every_target(tmp_path: Path, capsys) -> None:
    from sim.analysis.targets import report_targets
    from sim.sweep.calibrate import miss

    assert miss(5.0, 4.0, 6.0) == 0.0 and miss(3.0, 4.0, 6.0) == 0.25 and miss(7.5, 4.0, 6.0) == 0.25
    text = GRID.replace('kpi = "industrialised"', 'kpi = "contracts"\nfirst_year = 2018\nlast_year = 2022')
    text = text.replace('param = "meeting.brokers"\nvalues = [4.0, 12.0]',
                        'param = "contract.base_logit"\nvalues = [-1.6, -0.6]').replace("reps = 6", "reps = 8")
    spec = write(tmp_path, text)
    out = tmp_path / "cal"
    assert main(["calibrate", str(spec), "--out", str(out), "--quiet", "--tolerance", "0.1"]) == 0
    printed = capsys.readouterr().out
    scored = pd.read_csv(out / "calibration.csv", index_col="point")
    for k, (lo, hi) in report_targets().items():
        assert np.allclose(scored[f"miss_{k}"], [miss(v, lo, hi) for v in scored[k]])
    assert (scored["accepted"] == (scored["worst_miss"] <= 0.1)).all()
    # a contract logit of −0.6 gives far too many contracts: those points are rejected
    assert not scored.loc[scored["contract.base_logit"] == -0.6, "accepted"].any()
    accepted = pd.read_csv(out / "accepted.csv")
    assert list(accepted.columns) == ["contract.base_logit", "pilot.public_slots"]
    assert len(accepted) == int(scored["accepted"].sum()) and f"{len(accepted)} of 4 points" in printed
    assert (out / "calibration.png").stat().st_size > 10_000
    # the report's figures are for 2018–2022: another window is refused
    assert main(["calibrate", str(write(tmp_path, GRID)), "--out", str(tmp_path / "x"), "--quiet"]) == 2
    assert "first_year = 2018" in capsys.readouterr().err
