"""Shared helpers for the tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from sim.scenario import Scenario, load_scenario, scenario_from_dict
from sim.table import Table, build_table

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"


@pytest.fixture(scope="session")
def baseline() -> Scenario:
    return load_scenario(BASELINE)


@pytest.fixture(scope="session")
def baseline_table(baseline: Scenario) -> Table:
    return build_table(baseline)


def variant(sc: Scenario, params: dict[str, dict[str, Any]] | None = None,
            levers: list[dict[str, Any]] | None = None) -> Scenario:
    """A copy of ``sc`` with some parameters overridden and levers added."""
    data = copy.deepcopy(sc.model_dump(mode="python"))
    for g, kv in (params or {}).items():
        data["params"][g].update(kv)
    data["levers"] = list(data.get("levers", [])) + list(levers or [])
    return scenario_from_dict(data)


def lever(param: str, mode: str, value: float, start: int = 2023, cost: float = 0.0,
          lid: str = "test_lever") -> dict[str, Any]:
    return {"id": lid, "name_en": lid, "name_zh": lid, "group": "platforms", "param": param, "mode": mode,
            "value": value, "effect_source": "ASM test", "effect_low": min(value, 0.0) if mode == "add" else value,
            "effect_high": max(value, 0.0) if mode == "add" else value, "cost_low": cost, "cost_high": cost,
            "start_year": start, "yearly_cost_yuan": cost, "cost_source": "ASM test"}


@pytest.fixture
def rules(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Switch the rulebook to plain Python with chosen uniforms (tests/oracle.py: ``Draws``, ``interpret``) for
    the oracle tests; returns ``use(chosen, default)``, which installs them and returns the draw log. The
    replication's key is that of seed 0, replication 0, as the oracle files' ``RK``."""
    from sim.rng import rep_key
    from tests.oracle import Draws, interpret

    def use(chosen: dict[int, object] | None = None, default: float | None = None) -> Draws:
        d = Draws(chosen, default, rk=rep_key(0, 0))  # type: ignore[arg-type]
        interpret(monkeypatch, d)
        return d

    return use
