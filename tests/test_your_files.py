"""Nothing a user owns is ever deleted, and every bad option is one line before any work.

One test per problem found by trying the tool as a new user would (issue
"Nothing a user owns is ever deleted"). ``no_work`` replaces every entry into
simulation with a sentinel, so a test proves a check ran *before* any work.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis.compare import paired
from sim.cli import main
from sim.store import MARKER, check_output_dir, foreign_files
from tests.conftest import BASELINE, ROOT


class SimulationStartedError(Exception):
    """Raised by the stubs below: the command got past every check."""


def _stop(*args: object, **kwargs: object) -> None:
    raise SimulationStartedError


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every way into the engines or the compiler raises :class:`SimulationStartedError`."""
    import sim.analysis.compare
    import sim.engines.reference
    import sim.experiment
    import sim.sweep.runner

    monkeypatch.setattr(sim.experiment, "engine_ready", _stop)  # the compiler: every job loads it through here
    monkeypatch.setattr(sim.experiment, "_records", _stop)
    monkeypatch.setattr(sim.experiment, "_run_arrays", _stop)
    monkeypatch.setattr(sim.experiment, "_mean_records", _stop)
    monkeypatch.setattr(sim.engines.reference, "trace_reference", _stop)
    monkeypatch.setattr(sim.sweep.runner, "run_sweep", _stop)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working directory holding a copy of the shipped scenarios and a file of the user's."""
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def _snapshot(d: Path) -> dict[str, bytes]:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def _one_line_error(capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    assert err.startswith("convsim"), err
    for n in needles:
        assert n in err, (n, err)
    return err


# -- 1. output folders: never delete what convsim did not write ------------------------------------------------


def test_run_refuses_a_folder_holding_a_users_file(workdir: Path, capsys: pytest.CaptureFixture[str],
                                                   no_work: None) -> None:
    d = workdir / "d"
    d.mkdir()
    (d / "notes.txt").write_text("x", encoding="utf-8")
    assert main(["run", "scenarios/baseline.toml", "--reps", "5", "--out", "d"]) == 2
    _one_line_error(capsys, "d", "--out", "did not write")
    assert (d / "notes.txt").read_text(encoding="utf-8") == "x"


@pytest.mark.parametrize("out", [".", "..", "scenarios/.."])
def test_the_working_directory_and_its_parents_are_refused(workdir: Path, out: str,
                                                           capsys: pytest.CaptureFixture[str], no_work: None) -> None:
    before = _snapshot(workdir)
    assert main(["run", "scenarios/baseline.toml", "--out", out]) == 2
    _one_line_error(capsys, "--out", "working in")
    assert _snapshot(workdir) == before


def test_a_runs_folder_of_other_runs_is_not_wiped(workdir: Path, capsys: pytest.CaptureFixture[str],
                                                  no_work: None) -> None:
    (workdir / "runs" / "old").mkdir(parents=True)
    (workdir / "runs" / "old" / "records.parquet").write_bytes(b"earlier")
    assert main(["compare", "--report", "runs", "--reps", "2"]) == 2
    _one_line_error(capsys, "runs", "--report")
    assert (workdir / "runs" / "old" / "records.parquet").read_bytes() == b"earlier"


def test_an_earlier_convsim_output_is_replaced_and_the_user_is_told(workdir: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "scenarios/baseline.toml", "--reps", "2", "--out", "r", "--quiet"]) == 0
    marker = json.loads((workdir / "r" / MARKER).read_text(encoding="utf-8"))
    assert marker["kind"] == "run" and set(marker["files"]) == {"records.parquet", "manifest.json"}
    capsys.readouterr()
    assert main(["run", "scenarios/baseline.toml", "--reps", "3", "--out", "r"]) == 0
    assert "replacing the earlier convsim output" in capsys.readouterr().err
    assert pd.read_parquet(workdir / "r" / "records.parquet")["rep"].nunique() == 3
    # a file the user put into the output folder blocks the next replacement, and survives it
    (workdir / "r" / "my_figure.png").write_bytes(b"png")
    assert main(["run", "scenarios/baseline.toml", "--reps", "2", "--out", "r", "--quiet"]) == 2
    _one_line_error(capsys, "my_figure.png")
    assert (workdir / "r" / "my_figure.png").read_bytes() == b"png"
    assert pd.read_parquet(workdir / "r" / "records.parquet")["rep"].nunique() == 3
    # nothing hidden is left beside it
    assert sorted(p.name for p in workdir.iterdir()) == ["notes.txt", "r", "scenarios"]


def test_an_empty_folder_may_be_used(workdir: Path) -> None:
    (workdir / "empty").mkdir()
    assert check_output_dir(workdir / "empty") == "empty"
    assert check_output_dir(workdir / "new" / "deeper") == "new"


def test_a_file_added_while_running_is_not_lost(workdir: Path) -> None:
    """The swap re-checks the folder: a user file that appeared during the run makes it fail, not vanish."""
    from sim.errors import InputError
    from sim.store import atomic_folder

    with atomic_folder(workdir / "o") as tmp:
        (tmp / "a.csv").write_text("1", encoding="utf-8")
    with pytest.raises(InputError, match="did not write"), atomic_folder(workdir / "o") as tmp:
        (tmp / "a.csv").write_text("2", encoding="utf-8")
        (workdir / "o" / "late.txt").write_text("mine", encoding="utf-8")
    assert (workdir / "o" / "late.txt").exists() and (workdir / "o" / "a.csv").read_text(encoding="utf-8") == "1"
    assert foreign_files(workdir / "o") == ["late.txt"]
    assert not [p for p in workdir.iterdir() if p.name.startswith(".o.")]


def test_compare_report_folder_follows_the_same_rule(workdir: Path, capsys: pytest.CaptureFixture[str],
                                                     no_work: None) -> None:
    (workdir / "rep").mkdir()
    (workdir / "rep" / "keep.md").write_text("x", encoding="utf-8")
    assert main(["compare", "--reps", "2", "--report", "rep"]) == 2
    _one_line_error(capsys, "--report")
    assert (workdir / "rep" / "keep.md").exists()


def test_trace_never_overwrites_a_users_file(workdir: Path, capsys: pytest.CaptureFixture[str],
                                             no_work: None) -> None:
    (workdir / "t.csv").write_text("my,data\n1,2\n", encoding="utf-8")
    assert main(["trace", "scenarios/baseline.toml", "--out", "t.csv"]) == 2
    _one_line_error(capsys, "t.csv", "did not write")
    assert (workdir / "t.csv").read_text(encoding="utf-8") == "my,data\n1,2\n"


# -- 2 / 4. options and paths are checked before any work; bounds -------------------------------------------


@pytest.mark.parametrize("argv, needles", [
    (["compare", "--precision", "0"], ["--precision", "above 0"]),
    (["compare", "--precision", "nan"], ["--precision", "finite"]),
    (["compare", "--precision", "-1"], ["--precision"]),
    (["compare", "--precision", "inf"], ["--precision", "finite"]),
    (["compare", "--reps", "1"], ["--reps", "2"]),
    (["compare", "--max-reps", "1", "--precision", "1"], ["--max-reps"]),
    (["run", "scenarios/baseline.toml", "--reps", "1000000000"], ["--reps", "GiB"]),
    (["compare", "--reps", "100000000"], ["--reps", "GiB"]),
    (["run", "scenarios/baseline.toml", "--reps", "0"], ["--reps"]),
    (["run", "scenarios/baseline.toml", "--out", "notes.txt"], ["notes.txt", "existing file"]),
    (["run", "scenarios/baseline.toml", "--out", "notes.txt/sub"], ["notes.txt", "below"]),
    (["run", "scenarios/baseline.toml", "--out", "/proc/convsim-out"], ["cannot write"]),
    (["compare", "--report", "/proc/convsim-out", "--reps", "2"], ["--report", "cannot write"]),
    (["trace", "scenarios/baseline.toml", "--out", "/proc/x.csv"], ["cannot write"]),
    (["sweep", str(ROOT / "sweeps" / "bottlenecks.toml"), "--out", "."], ["working in"]),
    (["sweep", str(ROOT / "sweeps" / "bottlenecks.toml"), "--scheduler", "tcp://h:1"], ["--backend dask"]),
    (["sweep", str(ROOT / "sweeps" / "bottlenecks.toml"), "--backend", "dask", "--scheduler", "not an address"],
     ["--scheduler", "tcp://host:8786"]),
    (["calibrate", str(ROOT / "calibration" / "priors.toml"), "--out", "notes.txt"], ["notes.txt"]),
])
def test_bad_options_are_one_line_before_any_work(workdir: Path, argv: list[str], needles: list[str],
                                                  capsys: pytest.CaptureFixture[str], no_work: None) -> None:
    before = _snapshot(workdir)
    assert _code(argv) == 2
    _one_line_error(capsys, *needles)
    assert _snapshot(workdir) == before


def _code(argv: list[str]) -> int:
    """Exit status of ``convsim argv``, whether argparse or the command gives it."""
    try:
        return main(argv)
    except SystemExit as ex:
        return int(ex.code or 0)


def test_argparse_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["run"], ["nope"], ["compare", "--bogus"], ["run", "x.toml", "--engine", "warp"]):
        with pytest.raises(SystemExit) as ex:
            main(argv)
        assert ex.value.code == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and "usage:" not in err and "--help" in err, err


def test_compare_needs_two_replications_and_zero_width_is_no_gain() -> None:
    """With identical differences in every replication there is no interval, so no verdict."""
    base = np.array([10.0, 12.0])
    st = paired(base, base + 3.0, True)
    assert st["diff"] == 3.0 and not st["gain"] and math.isnan(st["lo"]) and math.isnan(st["p_beat"])
    one = paired(np.array([1.0]), np.array([5.0]), True)
    assert not one["gain"] and math.isnan(one["lo"])


def test_a_lever_may_not_start_before_the_policy_period(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    g4 = (workdir / "scenarios" / "g4_intermediaries.toml").read_text(encoding="utf-8")
    lever = ('\n[[levers]]\nid = "early"\nname_en = "e"\nname_zh = "e"\ngroup = "finance"\nparam = "meeting.brokers"\n'
             'mode = "add"\nvalue = 1.0\neffect_source = "ASM t"\neffect_low = 0\neffect_high = 1\n'
             'cost_low = 1\ncost_high = 1\nstart_year = 2010\nyearly_cost_yuan = 1.0\ncost_source = "ASM test"\n')
    f = workdir / "scenarios" / "early.toml"
    f.write_text(g4.replace('id = "g4_intermediaries"', 'id = "early"') + lever, encoding="utf-8")
    assert main(["validate", str(f)]) == 2
    _one_line_error(capsys, "early.toml", "start_year", "policy_start_year")


# -- 3. variants ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("budget", ["nan", "-1000000", "0", "inf", "1e12"])
def test_variants_refuses_a_bad_budget_and_writes_nothing(workdir: Path, budget: str,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    before = _snapshot(workdir)
    assert _code(["variants", "--dir", "scenarios", "--budget", budget]) == 2
    _one_line_error(capsys, "--budget")
    assert _snapshot(workdir) == before


def test_variants_that_cannot_be_met_write_nothing(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _snapshot(workdir)
    assert main(["variants", "--dir", "scenarios", "--budget", "1"]) == 2
    _one_line_error(capsys, "--budget")
    assert main(["variants", "--dir", "scenarios", "--budget", "1e10"]) == 2  # a lever leaves its range
    _one_line_error(capsys, "--budget", "invalid")
    assert _snapshot(workdir) == before


def test_variants_never_overwrite_a_hand_written_file(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = workdir / "scenarios" / "all_five.toml"
    mine.write_text("# my own all-five scenario\n", encoding="utf-8")
    before = _snapshot(workdir)
    assert main(["variants", "--dir", "scenarios"]) == 2
    _one_line_error(capsys, "all_five.toml", "not written by")
    assert _snapshot(workdir) == before


def test_variants_rewrite_their_own_files_identically(workdir: Path) -> None:
    before = _snapshot(workdir / "scenarios")
    assert main(["variants", "--dir", "scenarios"]) == 0
    assert _snapshot(workdir / "scenarios") == before


# -- 5. a broken pipe keeps the records -----------------------------------------------------------------------


def test_a_broken_pipe_still_leaves_the_records(tmp_path: Path) -> None:
    out = tmp_path / "r"
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "run", str(BASELINE), "--reps", "2", "--out", str(out),
                             "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    assert proc.stdout is not None
    proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    proc.wait(timeout=300)
    assert proc.returncode == 0
    assert pd.read_parquet(out / "records.parquet")["rep"].nunique() == 2


# -- messages that name the right place -----------------------------------------------------------------------


def test_an_offer_rate_above_its_ceiling_in_params_is_blamed_on_params(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    text = BASELINE.read_text(encoding="utf-8").replace("[params.supply]", "[params.supply]\nthinning_ceiling = 1.0")
    text = text.replace("agencies = 7.0", "agencies = 14.0")
    f = tmp_path / "b.toml"
    f.write_text(text, encoding="utf-8")
    assert main(["validate", str(f)]) == 2
    err = _one_line_error(capsys, "b.toml")
    assert "'params.supply'" in err and "'levers'" not in err


def _sweep(tmp_path: Path, factor: str) -> Path:
    f = tmp_path / "s.toml"
    g4 = ROOT / "scenarios" / "g4_intermediaries.toml"
    f.write_text(f'[sweep]\nid = "s"\nname_en = "s"\nname_zh = "s"\nscenario = "{g4}"\nreps = 2\n\n'
                 f'[[factors]]\n{factor}\n', encoding="utf-8")
    return f


def test_a_nan_in_a_sweep_is_blamed_on_its_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = _sweep(tmp_path, 'param = "meeting.brokers"\nvalues = [4.0, nan]')
    assert main(["validate", str(f)]) == 2
    _one_line_error(capsys, "s.toml", "factors[0].values", "finite")


def test_a_point_that_pushes_a_lever_out_of_range_names_the_scenario_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # g4 adds 3 agencies; at 25 + 3 the agency channel's effort (28 × 4 results × the pool's gain 1.10) passes its
    # thinning ceiling (4 × 7 agencies × 4 results), while 25 alone stays under it
    f = _sweep(tmp_path, 'param = "supply.agencies"\nvalues = [7.0, 25.0]')
    assert main(["validate", str(f)]) == 2
    err = _one_line_error(capsys, "s.toml", "point 1", "g4_intermediaries.toml", "'levers'")
    assert err.index("s.toml") < err.index("g4_intermediaries.toml")


@pytest.mark.slow
def test_an_unreachable_scheduler_is_one_line_and_leaves_nothing(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("dask.distributed")
    out = tmp_path / "sw"
    t0 = time.monotonic()
    code = main(["sweep", str(ROOT / "sweeps" / "bottlenecks.toml"), "--backend", "dask",
                 "--scheduler", "tcp://127.0.0.1:9", "--out", str(out), "--quiet"])
    assert code == 2 and time.monotonic() - t0 < 25
    _one_line_error(capsys, "--scheduler", "nothing was written")
    assert not out.exists() and not list(tmp_path.iterdir())


# -- 7. the docs ----------------------------------------------------------------------------------------------


def test_docs_say_where_sweep_parts_are_and_cite_nothing_outside() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "records/point=NNNNN/arm=<id>/part.parquet" in readme
    for doc in [ROOT / "README.md", ROOT / "MODEL.md", *ROOT.glob("*/README.md")]:
        text = doc.read_text(encoding="utf-8")
        assert "DESIGN.md" not in text and "../shared" not in text, doc
    assert "Bad input and your files" in readme
    assert os.path.basename(MARKER) in readme
