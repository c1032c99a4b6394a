"""The Python API checks its arguments as the command line does, before any work (sim.checks)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.checks import KEY_LIMIT, check_memory, check_reps, check_scenarios, check_seed, check_window, memory_bytes
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

    monkeypatch.setattr(sim.experiment, "run_records", _stop)
    monkeypatch.setattr(sim.analysis.compare, "run_records", _stop)
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
    assert check_reps(np.int64(5)) == 5 and check_seed(np.uint32(7)) == 7
    with pytest.raises(sim.InputError, match="2 to 10"):
        check_reps(11, least=2, most=10)
    assert check_window(_records(range(2020, 2023)), 2020, 2022) == (2020, 2022)
    assert check_scenarios([BASE, G4]) == [BASE, G4]
    with pytest.raises(TypeError):
        check_scenarios(BASE)
    with pytest.raises(TypeError):
        check_scenarios(None)
    check_memory(1, 13)
