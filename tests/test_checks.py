"""The Python API checks its arguments as the command line does, before any work (sim.checks)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
import pytest

import sim
from sim.checks import check_memory, check_window, memory_bytes
from sim.jobs.options import KEY_LIMIT, key, reps
from sim.jobs.options import scenario_list as check_scenarios
from tests.conftest import ROOT

BASE = ROOT / "scenarios" / "baseline.toml"
G4 = ROOT / "scenarios" / "g4_intermediaries.toml"


class SimulationStartedError(Exception):
    """Raised by the stubs: the call got past every check."""


def _stop(*args: object, **kwargs: object) -> None:
    raise SimulationStartedError


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    import sim.analysis.compare
    import sim.engines.reference
    import sim.experiment

    monkeypatch.setattr(sim.experiment, "_records", _stop)
    monkeypatch.setattr(sim.experiment, "_run_arrays", _stop)
    monkeypatch.setattr(sim.engines.reference, "trace_reference", _stop)


def test_run_refuses_more_replications_than_memory_holds_before_any_work(no_work: None) -> None:
    total = memory_bytes()
    if total is None:
        pytest.skip("this system does not say how much memory it has")
    with pytest.raises(sim.InputError, match=r"reps 1,000,000,000: .* GiB of memory"):
        sim.run(BASE, reps=10**9)
    with pytest.raises(sim.InputError, match="reps 100,000,000"):
        sim.compare(BASE, [G4], reps=10**8)
    with pytest.raises(SimulationStartedError):  # a modest number passes the check
        sim.run(BASE, reps=10)


@pytest.mark.parametrize("kwargs, error, needle", [
    ({"reps": 0}, sim.InputError, "reps: 1 or more"),
    ({"reps": 2.5}, TypeError, "reps: a whole number"),
    ({"reps": True}, TypeError, "reps: a whole number"),
    ({"reps": "10"}, TypeError, "reps"),
    ({"seed": -1}, sim.InputError, "seed"),
    ({"seed": 2**40}, sim.InputError, "2\\*\\*32"),
    ({"seed": 1.0}, TypeError, "seed"),
])
def test_run_checks_reps_and_seed(kwargs: dict[str, object], error: type[Exception], needle: str,
                                  no_work: None) -> None:
    with pytest.raises(error, match=needle):
        sim.run(BASE, **kwargs)  # type: ignore[arg-type]


def test_compare_and_trace_check_seeds_and_lists(no_work: None) -> None:
    with pytest.raises(sim.InputError, match="seed"):
        sim.compare(BASE, [G4], reps=4, seed=2**40)
    with pytest.raises(TypeError, match=r"scenarios: a list .*g4_intermediaries"):
        sim.compare(BASE, str(G4), reps=4)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="scenarios: a list"):
        sim.compare(BASE, sim.load_scenario(G4), reps=4)  # type: ignore[arg-type]
    with pytest.raises(sim.InputError, match="rep"):
        sim.trace(BASE, rep=-1)
    with pytest.raises(SimulationStartedError):
        sim.compare(BASE, (G4,), reps=4, seed=KEY_LIMIT - 1)


def _records(years: range) -> pd.DataFrame:
    from sim.layout import RECORD_ROWS

    rows = [{"rep": r, "year": y, **dict.fromkeys(RECORD_ROWS, 1.0)} for r in range(2) for y in years]
    return pd.DataFrame(rows)


def test_kpis_refuse_a_window_beyond_the_records() -> None:
    rec = _records(range(2018, 2028))
    with pytest.raises(sim.InputError, match=r"2026–2040 .* 2018–2027"):
        sim.kpis(rec, 2026, 2040)
    with pytest.raises(sim.InputError, match="empty"):
        sim.kpis(rec, 2025, 2024)
    with pytest.raises(TypeError, match="first"):
        sim.kpis(rec, 2023.5, 2027)  # type: ignore[arg-type]
    k = sim.kpis(rec, 2026, 2027)
    assert len(k) == 2


def test_the_checks_themselves() -> None:
    assert reps(np.int64(5), "reps") == 5 and key(np.uint32(7), "seed") == 7
    with pytest.raises(sim.InputError, match="between 2 and 10"):
        reps(11, "reps", 2, 10)
    assert check_window(_records(range(2020, 2023)), 2020, 2022) == (2020, 2022)
    assert check_scenarios([BASE, G4]) == [BASE, G4]
    with pytest.raises(TypeError):
        check_scenarios(BASE)
    with pytest.raises(TypeError):
        check_scenarios(None)
    check_memory(1, 13)


# -- input files: every way reading one can fail is one line ------------------------------------------------------


def _one_line(err: str, *needles: str) -> None:
    err = err.strip()
    assert "\n" not in err and "Traceback" not in err and err.startswith("convsim"), err
    for n in needles:
        assert n in err, (n, err)


@pytest.mark.parametrize("command", [["validate"], ["run"], ["trace"], ["sweep"], ["calibrate"]])
def test_unreadable_input_files_are_one_line(command: list[str], tmp_path: Path, no_work: None,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    for path, needles in [(deep, ["nested too deeply"]), (tmp_path, ["not a file but a folder"]),
                          (tmp_path / ("x" * 300 + ".toml"), ["cannot read it", "too long"]),
                          (tmp_path / "missing.toml", ["file not found"])]:
        assert _code([*command, str(path)]) == 2
        _one_line(capsys.readouterr().err, *needles)


def _code(argv: list[str]) -> int:
    from sim.cli import main

    try:
        return main(argv)
    except SystemExit as ex:
        return int(ex.code or 0)


def test_a_file_the_user_may_not_read_is_one_line(tmp_path: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("needs root to become a user without read permission")
    from tests.test_files_on_real_machines import _as_nobody

    d = Path(tempfile.mkdtemp(dir="/tmp"))
    try:
        d.chmod(0o755)
        f = d / "secret.toml"
        f.write_text(BASE.read_text(encoding="utf-8"), encoding="utf-8")
        f.chmod(0o600)
        code, err = _as_nobody(["validate", str(f)])
        assert code == 2
        _one_line(err, "secret.toml", "cannot read it", "Permission denied")
    finally:
        shutil.rmtree(d)
    with pytest.raises(sim.InputError, match="not a file"):
        sim.load_scenario(tmp_path)


# -- posterior files ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rows, needle", [
    ("meeting.brokers,weight\n5,1\n6,inf\n", "row 2: weights must be finite"),
    ("meeting.brokers,weight\n5,1e308\n6,1e308\n", "sum to inf"),
    ("meeting.attempts,weight\n2,1\n2.5,1\n", "row 2, column meeting.attempts: 2.5 is not a whole number"),
    ("time.start_year,weight\n2018,1\n", "calendar parameter"),
    ("meeting.brokers,weight\n5,0\n", "sum to 0"),
])
def test_posterior_files_are_checked_beyond_their_ranges(rows: str, needle: str, tmp_path: Path, no_work: None,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from sim.calibration.predictive import read_posterior

    f = tmp_path / "post.csv"
    f.write_text(rows, encoding="utf-8")
    with pytest.raises(sim.InputError, match=re.escape(needle)):
        read_posterior(f)
    assert _code(["compare", "--baseline", str(BASE), str(G4), "--reps", "2", "--worlds", "2", "--posterior", str(f),
                  "--report", str(tmp_path / "rep")]) == 2
    _one_line(capsys.readouterr().err, "post.csv", needle)
    assert not (tmp_path / "rep").exists()


@pytest.mark.parametrize("command", [["optimise", "--budget", "3e6"], ["levers"], ["targets"]])
def test_every_command_refuses_a_seed_beyond_32_bits_before_creating_anything(
        command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o"
    assert _code([*command, "--seed", str(2**40), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "--seed" in err and "2**32" in err and "\n" not in err
    assert not out.exists()


# -- the environment -----------------------------------------------------------------------------------------------


def _convsim(args: str, env: dict[str, str] | None = None, stdout: IO[str] | None = None,
             cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``convsim args`` through a shell (so a test can remove its working directory first)."""
    return subprocess.run(["sh", "-c", args], stdout=stdout if stdout is not None else subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=300, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


PY = f"{sys.executable} -m sim.cli"


def test_stdout_on_a_full_device_is_one_line_exit_74() -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    with open("/dev/full", "w") as full:
        done = _convsim(f"{PY} params", stdout=full)
    assert done.returncode == 74
    _one_line(done.stderr, "could not write", "No space left on device")


def test_a_deleted_working_directory_is_one_line(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    done = _convsim(f"cd {gone} && rmdir {gone} && exec {PY} validate {BASE}")
    assert done.returncode == 2
    _one_line(done.stderr, "working directory no longer exists")


@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_a_bad_numba_num_threads_is_one_line(value: str) -> None:
    done = _convsim(f"{PY} validate {BASE}", env={"NUMBA_NUM_THREADS": value})
    assert done.returncode == 2
    _one_line(done.stderr, "NUMBA_NUM_THREADS", "1 or more")


def test_a_console_that_cannot_print_chinese_gets_escapes(tmp_path: Path) -> None:
    done = _convsim(f"{PY} run {BASE} --reps 2 --engine simpy --lang zh --quiet --out {tmp_path / 'r'}",
                    env={"PYTHONIOENCODING": "ascii", "LC_ALL": "C"})
    assert done.returncode == 0, done.stderr
    assert "\\u6b21" in done.stdout and (tmp_path / "r" / "records.parquet").is_file()


# -- designs too large to check or to hold ------------------------------------------------------------------------


@pytest.mark.parametrize("design, factors", [
    ("grid", "".join(f'[[factors]]\nparam = "{p}"\nvalues = [{", ".join(str(1.0 + k / 1000) for k in range(1000))}]\n'
                     for p in ("meeting.brokers", "supply.agencies", "supply.workstations", "meeting.attempts"))),
    ("lhs", '[[factors]]\nparam = "meeting.brokers"\nmin = 1.0\nmax = 9.0\n'),
])
def test_a_design_too_large_is_refused_with_its_size_at_once(design: str, factors: str, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    import time

    f = tmp_path / "big.toml"
    f.write_text(f'[sweep]\nid = "big"\nname_en = "b"\nname_zh = "b"\nscenario = "{BASE.as_posix()}"\nreps = 2\n'
                 f'design = "{design}"\nsamples = 100000\n\n{factors}', encoding="utf-8")
    t0 = time.monotonic()
    for command in ("validate", "sweep"):
        assert _code([command, str(f)]) == 2
        _one_line(capsys.readouterr().err, "big.toml", "runs; at most 20,000")
    assert time.monotonic() - t0 < 10
