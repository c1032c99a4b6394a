"""Property-based fuzzing of every input a user gives convsim (hypothesis).

Each shipped scenario, sweep and calibration file is mutated — keys dropped,
added or renamed, values given another type or an extreme value, bytes
corrupted — and checked with ``convsim validate``; command-line options are
drawn from valid and invalid values. Whatever the input, the outcome is either
normal (exit 0, or the command gets past every check into the simulation,
which a stub stops) or exactly one line on stderr with exit status 2: never a
traceback, never a file deleted or changed.

Examples are derandomised (the same cases on every run), so the test is
deterministic; together they are more than 500 cases and take a few seconds.
"""

from __future__ import annotations

import contextlib
import io
import math
import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import tomli_w
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sim.cli import main
from tests.conftest import ROOT

SHIPPED = sorted([*(ROOT / "scenarios").glob("*.toml"), *(ROOT / "sweeps").glob("*.toml"),
                  ROOT / "calibration" / "priors.toml", ROOT / "calibration" / "smc.toml"])
#: Values a fuzzed key may get: other types and extremes.
EXTREMES: list[Any] = [-1, 0, 1, 2, 2**31, 2**63, -(2**63), 1e308, -1e308, 1e-320, math.nan, math.inf, -math.inf,
                       "", "x", "nan", "1e999", "../../etc/passwd", True, False, [], [1, "a"], {}, {"k": 1}]
FUZZ = dict(derandomize=True, deadline=None, database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


class SimulationStartedError(Exception):
    """Raised by stubs: the command passed every check and is about to work."""


def _stop(*args: object, **kwargs: object) -> None:
    raise SimulationStartedError


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the shipped input folders; sweep designs shrunk to ≤ 8 samples so each check takes milliseconds."""
    root = tmp_path_factory.mktemp("fuzz")
    for d in ("scenarios", "sweeps", "calibration"):
        shutil.copytree(ROOT / d, root / d)
    for f in [*(root / "sweeps").glob("*.toml"), root / "calibration" / "priors.toml"]:
        data = tomllib.loads(f.read_text(encoding="utf-8"))
        data["sweep"]["samples"] = min(int(data["sweep"].get("samples", 8)), 8)
        for fac in data["factors"]:
            if "values" in fac:
                fac["values"] = fac["values"][:3]
        f.write_text(tomli_w.dumps(data), encoding="utf-8")
    return root


def _snapshot(d: Path) -> dict[str, bytes]:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key path of a parsed TOML document (list items by index)."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield (*prefix, i)
            yield from _paths(v, (*prefix, i))


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for p in path[:-1]:
        data = data[p]
    return data


def _mutate(data: dict[str, Any], draw: st.DrawFn) -> dict[str, Any]:
    paths = list(_paths(data))
    path = draw(st.sampled_from(paths))
    parent, key = _parent(data, path), path[-1]
    kind = draw(st.sampled_from(["drop", "add", "rename", "value", "value", "value"]))
    if kind == "drop":
        del parent[key]
    elif kind == "add":
        target = parent[key] if isinstance(parent[key], dict) else (parent if isinstance(parent, dict) else data)
        target[draw(st.sampled_from(["extra", "Id", "levers2", "валюта", "value "]))] = draw(st.sampled_from(EXTREMES))
    elif kind == "rename" and isinstance(parent, dict):
        parent[key + draw(st.sampled_from(["_", "s", "X"]))] = parent.pop(key)
    else:
        parent[key] = draw(st.sampled_from(EXTREMES) | st.floats(allow_nan=True) | st.integers(-(2**70), 2**70)
                           | st.text(max_size=5))
    return data


def _toml(data: dict[str, Any]) -> str | None:
    try:
        return tomli_w.dumps(data)
    except (TypeError, ValueError, OverflowError):  # e.g. an integer TOML cannot hold: write it as text instead
        return None


def _check_outcome(code: int, err: str) -> None:
    assert code in (0, 2), (code, err)
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("convsim"), err
        assert "Traceback" not in err


def _validate(path: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", str(path)])
    return code, err.getvalue()


@pytest.mark.slow
@settings(max_examples=420, **FUZZ)  # type: ignore[arg-type]
@given(data=st.data())
def test_mutated_files_are_valid_or_one_line(tree: Path, data: st.DataObject) -> None:
    shipped = data.draw(st.sampled_from(SHIPPED))
    rel = shipped.relative_to(ROOT)
    original = tree / rel
    text = original.read_text(encoding="utf-8")
    if data.draw(st.booleans()):  # structural mutation through the parsed document
        doc = _mutate(tomllib.loads(text), data.draw)
        new = _toml(doc)
        if new is None:
            return
        raw = new.encode("utf-8")
    else:  # corrupted bytes
        raw = bytearray(text.encode("utf-8"))
        for _ in range(data.draw(st.integers(1, 4))):
            i = data.draw(st.integers(0, len(raw) - 1))
            op = data.draw(st.sampled_from(["flip", "delete", "insert"]))
            if op == "flip":
                raw[i] ^= 1 << data.draw(st.integers(0, 7))
            elif op == "delete":
                del raw[i:i + data.draw(st.integers(1, 40))]
            else:
                raw[i:i] = data.draw(st.sampled_from([b"\x00", b"\xff\xfe", b"=", b"[", b"\n[[levers]]\n", b'"']))
        raw = bytes(raw)
    mutant = original.with_name(f"mutant_{original.name}")
    mutant.write_bytes(raw)
    try:
        before = _snapshot(tree)
        code, err = _validate(mutant)
        event(f"exit {code}")
        _check_outcome(code, err)
        assert _snapshot(tree) == before
    finally:
        mutant.unlink()


OPTION_VALUES = ["0", "1", "2", "3", "-1", "nan", "inf", "1e999", "2.5", "x", "", "9999999999999", "4"]
PATHS = [".", "..", "new/out", "mine", "mine/notes.txt", "mine/notes.txt/below", "/proc/convsim", "scenarios",
         "empty"]


@st.composite
def argvs(draw: st.DrawFn) -> list[str]:
    cmd = draw(st.sampled_from(["run", "compare", "trace", "sweep", "calibrate"]))
    argv = [cmd]
    if cmd in ("run", "trace"):
        argv.append(draw(st.sampled_from(["scenarios/baseline.toml", "scenarios/g4_intermediaries.toml",
                                          "missing.toml", "mine/notes.txt", "scenarios"])))
    elif cmd in ("sweep", "calibrate"):
        argv.append(draw(st.sampled_from(["sweeps/bottlenecks.toml", "calibration/priors.toml", "missing.toml",
                                          *(["calibration/smc.toml"] if cmd == "calibrate" else [])])))
    options = {
        "run": ["--reps", "--seed", "--out", "--engine", "--lang"],
        "compare": ["--reps", "--precision", "--max-reps", "--seed", "--report", "--engine", "--baseline"],
        "trace": ["--rep", "--seed", "--out"],
        "sweep": ["--out", "--backend", "--scheduler", "--workers"],
        "calibrate": ["--out", "--tolerance", "--backend", "--workers", "--method", "--export", "--predictive-sets"],
    }[cmd]
    for opt in draw(st.lists(st.sampled_from(options), max_size=3, unique=True)):
        if opt in ("--out", "--report"):
            value = draw(st.sampled_from(PATHS + (["t.csv", "mine/notes.txt"] if cmd == "trace" else [])))
        elif opt == "--engine":
            value = draw(st.sampled_from(["auto", "fast", "simpy", "warp"]))
        elif opt == "--method":
            value = draw(st.sampled_from(["auto", "smc", "rejection", "mcmc"]))
        elif opt == "--export":
            value = draw(st.sampled_from(PATHS))
        elif opt == "--lang":
            value = draw(st.sampled_from(["en", "zh", "fr"]))
        elif opt == "--backend":
            value = draw(st.sampled_from(["local", "dask", "mpi"]))
        elif opt == "--scheduler":
            value = draw(st.sampled_from(["tcp://", "nonsense", "http://x"]))
        elif opt == "--baseline":
            value = draw(st.sampled_from(["scenarios/baseline.toml", "missing.toml", "mine/notes.txt"]))
        else:
            value = draw(st.sampled_from(OPTION_VALUES))
        argv += [opt, value]
    if draw(st.booleans()):
        argv.append("--quiet")
    return argv


@pytest.mark.slow
@settings(max_examples=160, **FUZZ)  # type: ignore[arg-type]
@given(argv=argvs())
def test_options_are_checked_before_any_work(tree: Path, argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import sim.analysis.compare
    import sim.calibration.smc
    import sim.engines.reference
    import sim.experiment
    import sim.sweep.runner

    monkeypatch.chdir(tree)
    (tree / "mine").mkdir(exist_ok=True)
    (tree / "mine" / "notes.txt").write_text("mine", encoding="utf-8")
    (tree / "empty").mkdir(exist_ok=True)
    before = _snapshot(tree)
    out, err = io.StringIO(), io.StringIO()
    with (mock.patch.object(sim.experiment, "engine_ready", _stop),
          mock.patch.object(sim.experiment, "_records", _stop),
          mock.patch.object(sim.experiment, "_mean_records", _stop),
          mock.patch.object(sim.experiment, "_run_arrays", _stop),
          mock.patch.object(sim.engines.reference, "trace_reference", _stop),
          mock.patch.object(sim.sweep.runner, "run_sweep", _stop),
          mock.patch.object(sim.calibration.smc, "run_smc", _stop),
          contextlib.redirect_stdout(out), contextlib.redirect_stderr(err)):
        try:
            code = main(argv)
        except SystemExit as ex:  # argparse's own checks
            code = int(ex.code or 0)
        except SimulationStartedError:
            code = 0
            event("passed every check")
    event(f"exit {code}")
    _check_outcome(code, err.getvalue())
    assert _snapshot(tree) == before, argv
