"""convsim optimise --risk regret: the 90th-percentile regret against the shipped scenarios and single levers.

What is specified (docs/optimise.md, ``sim.optimise.robust``): a mix's regret in a world is the best outcome among
doing nothing more (0) and the comparison set (the shipped scenarios within the budget, every single lever at the
largest intensity the budget affords) minus the mix's own paired Δ, each on the world's same replications; the
search minimises its 90th percentile over the worlds (numpy's linear interpolation); an alternative runs once per
(world, replication), never again for another trial.

The oracle is a hand-made table of ten worlds and three candidates A, B, C, each the best in some worlds. Every
expected number is worked out below by hand. The last test runs the command end to end on the real model.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.analysis.robustness import regret as table_regret
from sim.analysis.worlds import World
from sim.cli import main
from sim.jobs.optimise import OptimiseConfig
from sim.optimise.evaluate import Request
from sim.optimise.robust import WorldEvaluator, comparison_set, regret_value, reported, single_levers
from sim.optimise.search import Search, SearchConfig
from sim.optimise.space import Space
from sim.scenario import InputError, Scenario, baseline_scenario, scenario_from_dict
from tests.conftest import BASELINE

#: Gain of each candidate (alone, at intensity 1) in worlds 0 … 9. A wins worlds 0–5 (mean 7.2, the best mean), B
#: worlds 6–7, C worlds 8–9; D, not a member of the comparison set, never wins against the best of them but is
#: close to it everywhere.
GAIN = {"a": [12.0] * 6 + [0.0] * 4,
        "b": [7.0] * 8 + [2.0] * 2,
        "c": [0.0] * 6 + [5.0, 5.0, 9.0, 9.0],
        "d": [8.0] * 10}
#: Best of doing nothing (0), A, B and C in each world: 12 in worlds 0–5, 7 in 6–7, 9 in 8–9.
BEST = [12.0] * 6 + [7.0, 7.0, 9.0, 9.0]
#: Regret sorted, and its 90th percentile: position 0.9 × 9 = 8.1 between the 9th and 10th smallest.
#: A: 0 ×6, 7, 7, 9, 9                → 9 + 0.1 × (9 − 9)  = 9
#: B: 5 ×6, 0, 0, 7, 7  → 0 0 5 5 5 5 5 5 7 7 → 7 + 0.1 × 0 = 7
#: C: 12 ×6, 2, 2, 0, 0 → 0 0 2 2 12 ×6       → 12
#: D: 4 ×6, −1, −1, 1, 1 → −1 −1 1 1 4 ×6     → 4   (negative where D beats every alternative)
P90 = {"a": 9.0, "b": 7.0, "c": 12.0, "d": 4.0}


def _cand(lid: str) -> dict[str, Any]:
    return {"id": lid, "name_en": lid, "name_zh": lid, "group": "finance", "param": "finance.guarantee_approval",
            "mode": "add", "value": 0.01, "effect_source": "ASM test", "effect_low": 0.0, "effect_high": 0.01,
            "yearly_cost_yuan": 1e6, "cost_source": "ASM test", "cost_low": 1e6, "cost_high": 1e6,
            "max_intensity": 1.0, "max_intensity_source": "ASM test"}


def _space(ids: Sequence[str] = ("a", "b", "c")) -> Space:
    g = scenario_from_dict({"scenario": {"id": "cands", "name_en": "c", "name_zh": "c", "group": "finance"},
                            "levers": [_cand(i) for i in ids]})
    return Space([g], baseline_scenario())


class Table(WorldEvaluator):
    """Paired Δ from :data:`GAIN`, linear in each lever's intensity (read back from its cost), plus the replication
    number: a mix and an alternative compared on different replications would be off by their difference."""

    def __init__(self, risk: str, n: int = 10) -> None:
        worlds = [World(i, -1, {}, 0) for i in range(n)]
        select = [World(500_000 + i, -1, {}, 0) for i in range(n)]
        super().__init__(baseline_scenario(), "industrialised", 0, worlds, select, risk)
        self.asked: list[tuple[str, int, int]] = []

    def deltas(self, requests: Sequence[Request]) -> list[np.ndarray]:
        out = []
        for sc, world, reps in requests:
            key = "+".join(sorted(lv.id for lv in sc.levers))
            self.asked += [(key, world, r) for r in reps]
            g = sum(GAIN[lv.id][world % 500_000] * lv.yearly_cost_yuan / 1e6 for lv in sc.levers)
            out.append(np.array([g + r for r in reps], dtype=float))
        return out


def _alone(lid: str) -> Scenario:
    return _space(("a", "b", "c", "d")).scenario({lid: 1.0})


def _diffs(lid: str, reps: Sequence[int]) -> dict[int, np.ndarray]:
    return {w: np.array([GAIN[lid][w] + r for r in reps]) for w in range(10)}


def test_the_90th_percentile_regret_by_hand() -> None:
    for lid, p in P90.items():
        assert regret_value(np.array(GAIN[lid]), np.array(BEST)) == pytest.approx(p), lid
    # a world without a value is left out: A's regret without world 9 is 0 ×6, 7, 7, 9 → 7 + 0.2 × 2 = 7.4
    assert regret_value(np.array([*GAIN["a"][:9], np.nan]), np.array(BEST)) == pytest.approx(7.4)
    assert np.isnan(regret_value(np.array([np.nan]), np.array([1.0])))
    # the reported figure is the regret itself (less is better); mean and p10 keep the KPI's direction
    assert reported(-7.0, "regret", False) == 7.0 and reported(3.0, "p10", False) == -3.0


def test_the_objective_is_minus_the_regret_against_the_set_on_the_same_replications() -> None:
    ev = Table("regret").against([(f"single:{i}", _alone(i)) for i in ("a", "b", "c")])
    for lid, p in P90.items():
        assert ev.objective(_diffs(lid, range(3))) == pytest.approx(-p), lid
    # the selection's replications 9 … 11: the alternatives are run on those, not on the search's 0 … 2
    assert ev.objective(_diffs("b", range(9, 12)), first=9) == pytest.approx(-7.0)
    # every alternative once per (world, replication), however many candidates asked
    assert sorted(ev.asked) == sorted((k, w, r) for k in "abc" for w in range(10) for r in [0, 1, 2, 9, 10, 11])
    # a member of the set: the regret of `compare --worlds` (sim.analysis.robustness) on the same table
    per_world = pd.DataFrame([{"world": w, "scenario": k, "diff": GAIN[k][w]} for k in "abc" for w in range(10)])
    assert table_regret(per_world, 1.0).quantile(0.9).to_dict() == pytest.approx({k: P90[k] for k in "abc"})
    # the mean would rank A first: the two objectives disagree on this table
    assert Table("mean").objective(_diffs("a", [0])) > Table("mean").objective(_diffs("b", [0]))
    with pytest.raises(ValueError, match="comparison set"):
        Table("regret").objective(_diffs("a", [0]))


def test_a_lower_is_better_kpi_counts_its_regret_downwards() -> None:
    ev = Table("regret")
    ev.higher_is_better = False  # a waiting time: each Δ counts as −Δ, so C is the best choice and A the worst
    ev = ev.against([(i, _alone(i)) for i in "abc"])
    # signed gains: A −12 ×6, 0 ×4; B −7 ×8, −2 ×2; C 0 ×6, −5 −5 −9 −9; best (doing nothing = 0 included): 0
    # regret A: 12 ×6, 0 ×4 → 12; B: 7 ×8, 2 ×2 → 7; C: 0 ×6, 5 5 9 9 → 9
    assert [ev.objective(_diffs(i, [0])) for i in "abc"] == pytest.approx([-12.0, -7.0, -9.0])


@pytest.mark.parametrize(("risk", "chosen"), [("regret", "b"), ("mean", "a")])
def test_the_search_chooses_the_least_regret_where_the_mean_chooses_the_best_average(risk: str, chosen: str,
                                                                                    tmp_path: Path) -> None:
    """Three trials: each candidate alone at the whole budget (the planned single levers), raced over worlds ×
    replications, the finalists re-run in the selection worlds."""
    space = _space()
    ev = Table(risk)
    judge = ev.against(comparison_set(space, [], 1e6)) if risk == "regret" else ev
    res = Search(space, judge, SearchConfig(1e6, 9, 3, 0, "industrialised", f"-{risk}"), tmp_path / "s.db").run()
    assert res.best_mix == {"a": 0.0, "b": 0.0, "c": 0.0, chosen: 1.0}
    assert res.single_id == chosen
    expected = -P90[chosen] if risk == "regret" else float(np.mean(GAIN[chosen]))
    assert res.best_score == pytest.approx(expected + (0 if risk == "regret" else 4.0))  # Δ holds the rep: mean 4
    assert res.selection_score == pytest.approx(expected + (0 if risk == "regret" else 13.0))  # reps 9 … 17
    if risk == "regret":  # each (world, replication) of a candidate twice: as a trial, and once as an alternative
        assert set(Counter(ev.asked).values()) == {2}


def test_the_comparison_set_is_the_shipped_scenarios_within_budget_and_every_single_lever() -> None:
    space = _space()
    cheap = scenario_from_dict({"scenario": {"id": "cheap", "name_en": "c", "name_zh": "c", "group": "finance"},
                                "levers": [_cand("a")]})
    dear = scenario_from_dict({"scenario": {"id": "dear", "name_en": "d", "name_zh": "d", "group": "finance"},
                               "levers": [{**_cand("b"), "yearly_cost_yuan": 3e6, "cost_low": 3e6,
                                           "cost_high": 3e6}]})
    keys = [k for k, _ in comparison_set(space, [cheap, dear], 2e6)]
    assert keys == ["cheap", "single:a:2000000", "single:b:2000000", "single:c:2000000"]
    # at 0.5 M each lever is bought at half its intensity
    assert [sc.levers[0].yearly_cost_yuan for _, sc in single_levers(space, 5e5)] == [5e5] * 3


@pytest.mark.parametrize(("worlds", "needle"), [(0, "--risk regret: only with --worlds"),
                                                (5, "--risk regret needs --worlds 10")])
def test_regret_needs_ten_worlds(worlds: int, needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        OptimiseConfig(budget=1e6, worlds=worlds, risk="regret").checked()


@pytest.mark.slow
def test_optimise_regret_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "opt"
    args = ["optimise", "--budget", "3000000", "--reps", "9", "--trials", "3", "--confirm-reps", "4", "--worlds",
            "10", "--world-reps", "3", "--confirm-worlds", "3", "--risk", "regret", "--out", str(out),
            "--baseline", str(BASELINE), "--quiet"]
    assert main(args) == 0
    r = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert r["risk"] == "regret" and r["worlds"] == 10
    comparison = r["regret_comparison"]
    within = [row["id"] for row in r["shipped"] if row["within_budget"]]
    assert comparison[:len(within)] == within and all(k.startswith("single:") for k in comparison[len(within):])
    # every alternative is in the set, so the mix's regret against it can be negative but no shipped scenario's
    assert all(row["world_objective"] >= 0 for row in r["shipped"] if row["within_budget"])
    best = r["best_shipped_world_id"]
    assert r["best_shipped_world_objective"] == min(row["world_objective"] for row in r["shipped"]
                                                    if row["within_budget"])
    assert best in within
    text = (out / "summary.txt").read_text(encoding="utf-8")
    assert "90th-percentile regret" in text and "optimistic" in text


def test_doing_nothing_is_an_alternative_in_every_world() -> None:
    """On a lower-is-better KPI the only alternative, A, is worse than doing nothing in worlds 0–5 (−12 signed) and
    equal to it elsewhere (0): the best choice is doing nothing, 0, in every world."""
    ev = Table("regret")
    ev.higher_is_better = False
    ev = ev.against([("a", _alone("a"))])
    assert list(ev.best_alternative({w: [0] for w in range(10)})) == [0.0] * 10


def _shipped(sid: str, lid: str, cost: float) -> Scenario:
    return scenario_from_dict({"scenario": {"id": sid, "name_en": sid, "name_zh": sid, "group": "finance"},
                               "levers": [{**_cand(lid), "yearly_cost_yuan": cost, "cost_low": cost,
                                           "cost_high": cost}]})


def test_a_shipped_scenario_costing_exactly_the_budget_is_an_alternative() -> None:
    keys = [k for k, _ in comparison_set(_space(), [_shipped("exact", "a", 1e6)], 1e6)]
    assert keys[0] == "exact"


def test_each_frontier_budget_is_judged_against_its_own_comparison_set() -> None:
    from sim.jobs.optimise import _Inputs, _judge

    shipped = [_shipped("cheap", "a", 1e6), _shipped("dear", "b", 3e6)]
    inp = _Inputs(OptimiseConfig(budget=1e6, frontier=(3e6,), worlds=10, risk="regret"), BASELINE,
                  baseline_scenario(), _space(), shipped, None, None, Table("regret"))
    for budget, expected in [(1e6, ["cheap"]), (3e6, ["cheap", "dear"])]:
        judge = _judge(inp, budget)
        assert isinstance(judge, WorldEvaluator)
        keys = [k for k, _ in judge.comparison]
        assert keys == [*expected, *(f"single:{i}:{budget:.0f}" for i in "abc")]


#: Fresh worlds 0–2: each arm's per-world paired Δ, signed so that more is better. Best of doing nothing (0) and
#: the comparison set (S1, S2, each lever alone): 3 in world 0 (S1), 2 in world 1 (S2), 0 in world 2 (doing
#: nothing: every alternative loses there).
FRESH = {"mix:1000000": [2.0, 1.0, -3.0], "s1": [3.0, -1.0, -2.0], "s2": [1.0, 2.0, -1.0],
         "single:a:1000000": [-1.0, -1.0, -1.0], "single:b:1000000": [-2.0, -2.0, -2.0],
         "single:c:1000000": [-0.5, -0.5, -3.0]}
#: 90th-percentile regret over the three worlds (position 0.9 × 2 = 1.8 in the sorted regrets):
#: mix: 1, 1, 3 → 1 + 0.8 × 2 = 2.6;  S1: 0, 3, 2 → 2 + 0.8 × 1 = 2.8;  S2: 2, 0, 1 → 1 + 0.8 × 1 = 1.8
FRESH_P90 = {"mix": 2.6, "s1": 2.8, "s2": 1.8}


@pytest.mark.parametrize("higher_is_better", [True, False])
def test_fresh_worlds_regret_and_the_best_shipped_scenario_by_hand(higher_is_better: bool) -> None:
    """The re-estimate in fresh worlds: the mix's and each shipped scenario's 90th-percentile regret against the
    same comparison set, doing nothing included; the best shipped scenario is the one with the least regret. A
    lower-is-better KPI has the raw Δ of the opposite sign and the same regrets."""
    from sim.optimise.search import SearchResult
    from sim.optimise.world_confirm import FreshWorlds, world_fields

    sign = 1.0 if higher_is_better else -1.0

    class HandFresh(FreshWorlds):
        def values(self, key: str, sc: Scenario) -> np.ndarray:
            base = np.array([[10.0, 11.0]] * 3)  # two replications; the paired Δ is the same in both
            return base if key == "<baseline>" else base + sign * np.array(FRESH[key])[:, None]

    ev = Table("regret")
    ev.higher_is_better = higher_is_better
    fw = HandFresh(ev, [World(1_000_000 + i, -1, {}, 0) for i in range(3)], 2,
                   [_shipped("s1", "a", 1e6), _shipped("s2", "b", 1e6)])
    mix = {"a": 0.5, "b": 0.5, "c": 0.0}
    res = SearchResult(mix, -2.0, -2.5, 0, "tpe", "", {}, 0.0, 3, 0, 9)
    rows: list[dict[str, Any]] = [{"id": "s1", "within_budget": True}, {"id": "s2", "within_budget": True}]
    out = world_fields(_space(), fw, res, 1e6, rows)
    assert out["world_objective"] == pytest.approx(FRESH_P90["mix"])
    assert [r["world_objective"] for r in rows] == pytest.approx([FRESH_P90["s1"], FRESH_P90["s2"]])
    assert out["best_shipped_world_id"] == "s2"
    assert out["best_shipped_world_objective"] == pytest.approx(FRESH_P90["s2"])
    assert out["regret_comparison"] == ["s1", "s2", *(f"single:{i}:1000000" for i in "abc")]
    assert out["world_delta_mean"] == pytest.approx(sign * 0.0)  # raw Δ: 2, 1, −3 (signed) → mean 0
    # the mix beats S2 (its raw Δ better) in world 0 only
    assert out["p_beats_best_shipped"] == pytest.approx(1 / 3)
