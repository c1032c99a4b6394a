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
