"""The fiscal cost of the windows and the optimiser's statistics over worlds, on hand-made inputs with known answers.

What is specified (MODEL.md 3.7, README, docs/optimise.md and the modules' docstrings):

- a lever costs its yearly cost in every year from its ``start_year`` on (default: the policy's first year) and
  nothing before; the comparison's fiscal cost is the levers' costs summed over the window plus the payouts;
- ``compare`` judges the first five policy years (2023–2027) and, when the horizon lies beyond them, the same
  runs over the whole policy period in ``Comparison.long`` (2023–2032 at ``--horizon 2032``);
- the optimiser's budget binds a mix's cost in every policy year (a mix may spend at most the budget in any year);
- over worlds the optimiser maximises the mean or the 10th percentile (numpy's linear interpolation) of each
  world's mean paired Δ, signed so that more is better; its budget risk is the share of cost draws (each assumed
  cost drawn from its triangular range, mode at the stated cost) whose largest yearly cost exceeds the budget.

Every expected number is worked out here by hand (or from a textbook formula), never read from the code tested.
Engines are replaced by hand-made records, so the file takes about a second. The last tests check the folders
the optimiser (like every command) writes its results into: never one holding the working directory, and a
file a user adds meanwhile stops the swap and is kept.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import sim.analysis.compare as cmp
import sim.experiment as experiment
from sim.analysis.worlds import draw_worlds
from sim.errors import InputError
from sim.layout import RECORD_ROWS
from sim.optimise.evaluate import CENTRAL, Evaluator, Rung
from sim.optimise.report import max_cost
from sim.optimise.robust import WorldEvaluator, cost_risk, risk_value
from sim.optimise.space import Space
from sim.scenario import Scenario, with_horizon
from sim.store import atomic_folder, check_output_dir, foreign_files
from sim.table import PIDX
from tests.conftest import lever, variant


def _paid(param: str, mode: str, value: float, cost: float, start: int | None, lid: str,
          cost_range: tuple[float, float] | None = None, max_intensity: float | None = None) -> dict[str, Any]:
    lv = {**lever(param, mode, value, cost=cost, lid=lid), "start_year": start}
    if cost_range is not None:
        lv["cost_low"], lv["cost_high"] = cost_range
    if max_intensity is not None:
        lv.update(max_intensity=max_intensity, max_intensity_source="ASM test")
    return lv


def _horizon(sc: Scenario, year: int) -> Scenario:
    """``sc`` simulated to ``year``, as ``--horizon`` (and ``sim.compare(..., horizon=)``) sets it."""
    return with_horizon(sc, year)


# ---- the optimiser's budget: a mix's cost in every policy year ---------------------------------------------------

def _space(baseline: Scenario) -> Space:
    """Three paid levers: 2 brokers for 1 M a year from 2023 (whole units: 0.5 M a broker), 2 events for 0.4 M
    from 2025 (whole units: 0.2 M an event), a 10 % platform boost for 0.3 M from 2027 (continuous, up to × 2)."""
    g = variant(baseline, levers=[
        _paid("meeting.brokers", "add", 2.0, 1e6, 2023, "brokers"),
        _paid("supply.events_per_year", "add", 2.0, 4e5, 2025, "events"),
        _paid("supply.platform_offers_per_year", "multiply", 1.1, 3e5, 2027, "platform", max_intensity=2.0)])
    return Space([g], baseline)


def test_a_mix_costs_each_lever_from_its_own_start_year(baseline: Scenario) -> None:
    space = _space(baseline)
    mix = {"brokers": 1.0, "events": 0.5, "platform": 2.0}  # 2 brokers, 1 event, the boost at double size
    costs = space.yearly_costs(mix)
    # 2023–24: brokers only; 2025–26: + one event (0.2 M); 2027 (the horizon): + the boost at 2 × 0.3 M
    assert costs == pytest.approx({2023: 1e6, 2024: 1e6, 2025: 1.2e6, 2026: 1.2e6, 2027: 1.8e6})
    assert space.max_yearly_cost(mix) == pytest.approx(1.8e6)
    assert space.max_yearly_cost({"events": 1.0}) == pytest.approx(4e5)  # from 2025 on, 0.4 M a year
    long = _space(_horizon(baseline, 2032))
    assert sorted(long.yearly_costs(mix)) == list(range(2023, 2033))
    assert long.yearly_costs(mix)[2032] == pytest.approx(1.8e6)


def test_a_mix_that_fits_the_budget_exactly_is_kept_and_one_above_it_is_scaled_down(baseline: Scenario) -> None:
    space = _space(baseline)
    mix = {"brokers": 1.0, "events": 1.0, "platform": 0.0}  # 1 M + 0.4 M from 2025: 1.4 M at most
    assert space.repair(mix, 1.4e6) == {"brokers": 1.0, "events": 1.0, "platform": 0.0}
    # the boost at intensity 1.23456 costs 0.3 M × 1.23456 in 2027: a budget of exactly that keeps the mix as it
    # is (a mix scaled down would have its intensities rounded down to 1e-4: 1.2345)
    k = 1.23456
    assert space.repair({"platform": k}, 3e5 * k) == {"brokers": 0.0, "events": 0.0, "platform": k}
    # 1.1 M: a common factor just below 1 leaves one broker and one event (whole units rounded down): 0.7 M
    fixed = space.repair(mix, 1.1e6)
    assert fixed == {"brokers": 0.5, "events": 0.5, "platform": 0.0}
    assert space.max_yearly_cost(fixed) == pytest.approx(7e5)
    # the boost alone: 0.3 M × k a year from 2027, at most k = 2; 0.45 M affords k = 1.5 (bisection to 1e-9)
    assert space.single("platform", 4.5e5)["platform"] == pytest.approx(1.5, abs=1e-6)
    assert space.single("platform", 1e7)["platform"] == 2.0
    assert space.single("brokers", 9e5) == {"brokers": 0.5, "events": 0.0, "platform": 0.0}  # one broker, 0.5 M


def test_the_largest_yearly_cost_of_a_shipped_scenario_counts_every_year_to_the_horizon(baseline: Scenario) -> None:
    sc = variant(baseline, levers=[_paid("meeting.brokers", "add", 2.0, 1e6, 2023, "brokers"),
                                   _paid("supply.events_per_year", "add", 2.0, 4e5, 2027, "events")])
    assert max_cost(sc) == pytest.approx(1.4e6)  # the events start in the last year, 2027
    assert max_cost(baseline) == 0.0
    late = variant(_horizon(baseline, 2032), levers=[_paid("meeting.brokers", "add", 2.0, 1e6, 2025, "brokers"),
                                                     _paid("supply.events_per_year", "add", 2.0, 4e5, 2032, "events")])
    assert max_cost(late) == pytest.approx(1.4e6)


# ---- the fiscal cost of a window: short and long, levers starting late ---------------------------------------------

def _records(k: int, reps: list[int], last_year: int) -> pd.DataFrame:
    """Records of an arm with ``k`` extra brokers: industrialised 10 + r mod 5 + k in 2025 and 5 + k in 2030,
    a city subsidy of k × 0.1 M in 2025 and k × 1 M in 2030 with k × 0.3 M of pilot matching funds, k × 9 M in
    2022 (before the policy: never counted)."""
    rows = []
    for r in reps:
        for y in range(2015, last_year + 1):
            row: dict[str, Any] = {"rep": r, "year": y, **dict.fromkeys(RECORD_ROWS, 0.0)}
            if y == 2025:
                row.update(industrialised=10.0 + r % 5 + k, yuan_subsidy_city=k * 1e5)
            elif y == 2030:
                row.update(industrialised=5.0 + k, yuan_subsidy_city=k * 1e6, yuan_pilot_matching=k * 3e5)
            elif y == 2022:
                row.update(industrialised=100.0, yuan_subsidy_city=k * 9e6)
            rows.append(row)
    return pd.DataFrame(rows)


class _Runs:
    """Stands in for the engines: an arm is told apart by its extra brokers; records to the table's last year."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, list[int]]] = []

    def __call__(self, table: Any, seed: int, reps: Any, engine: str = "auto", progress: Any = None) -> pd.DataFrame:
        k = int(round(table.P[PIDX["meeting.brokers"], -1] - 8.0))
        reps = list(reps)
        self.calls.append((k, reps))
        return _records(k, reps, int(table.first_year + table.n_years - 1))


def _two_late_levers(sc: Scenario, line: bool = True) -> Scenario:
    """2 brokers for 1 M a year from 2025; a public pilot line for 0.5 M a year from 2029 (``line``)."""
    out = variant(sc, levers=[_paid("meeting.brokers", "add", 2.0, 1e6, 2025, "brokers"),
                              *([_paid("pilot.public_slots", "add", 1.0, 5e5, 2029, "line")] if line else [])])
    out.scenario.id = "late"
    return out


def test_the_long_window_charges_every_lever_from_its_start_to_2032(baseline: Scenario,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(experiment, "_records", _Runs())
    base = _horizon(baseline, 2032)
    c = cmp.compare(base, [_two_late_levers(base)], reps=5, seed=0)
    assert c.window == (2023, 2027) and c.long is not None and c.long.window == (2023, 2032)
    assert c.long.reps == c.reps == 5
    # short window: the brokers in 2025–27 (3 M), the line not yet (it starts in 2029)
    assert c.arms[0].lever_cost_myuan == pytest.approx(3.0) and c.baseline.lever_cost_myuan == 0.0
    # long window: the brokers in 2025–32 (8 × 1 M) and the line in 2029–32 (4 × 0.5 M)
    assert c.long.arms[0].lever_cost_myuan == pytest.approx(10.0)
    short = c.summary.set_index(["scenario", "kpi"])
    long = c.long.summary.set_index(["scenario", "kpi"])
    # payouts: + 2 × 0.1 M in 2025 (both windows) and + 2 × (1 + 0.3) M in 2030 (long window only); 2022 never
    assert short.loc[("late", "fiscal_cost"), "diff"] == pytest.approx(3.0 + 0.2)
    assert long.loc[("late", "fiscal_cost"), "diff"] == pytest.approx(10.0 + 0.2 + 2.6)
    assert short.loc[("late", "industrialised"), "diff"] == pytest.approx(2.0)
    assert long.loc[("late", "industrialised"), "diff"] == pytest.approx(4.0)


def test_no_long_window_at_the_default_horizon_and_a_short_one_a_year_beyond(baseline: Scenario,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(experiment, "_records", _Runs())
    c = cmp.compare(baseline, [_two_late_levers(baseline, line=False)], reps=3, seed=0)
    assert c.window == (2023, 2027) and c.long is None
    base = _horizon(baseline, 2028)
    c = cmp.compare(base, [_two_late_levers(base, line=False)], reps=3, seed=0)
    assert c.window == (2023, 2027) and c.long is not None and c.long.window == (2023, 2028)
    assert c.long.arms[0].lever_cost_myuan == pytest.approx(4.0)  # the brokers in 2025–28


def test_the_optimisers_window_is_the_whole_policy_period_with_late_levers_charged_from_their_start(
        baseline: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(experiment, "_records", _Runs())
    # to 2027: the brokers in 2025–27 (3 M) + 0.2 M paid; to 2032: 10 M of levers as above + 2.8 M paid
    for horizon, line, lever_cost, payouts in ((2027, False, 3.0, 0.2), (2032, True, 10.0, 2.8)):
        base = _horizon(baseline, horizon)
        ev = Evaluator(base, "fiscal_cost", seed=0)
        assert ev.window == (2023, horizon)
        cost = ev.frame(_two_late_levers(base, line), [0, 1])["fiscal_cost"].to_numpy()
        assert cost == pytest.approx([lever_cost + payouts] * 2)
        d = ev.delta(_two_late_levers(base, line), [0, 1, 2])
        assert d == pytest.approx([lever_cost + payouts] * 3)
        assert ev.score(d) == pytest.approx(-(lever_cost + payouts))  # less fiscal cost is better


# ---- the optimiser's statistics over worlds ---------------------------------------------------------------------

def test_risk_value_is_the_mean_or_the_interpolated_tenth_percentile_of_finite_gains() -> None:
    g = np.array([3.0, -1.0, 7.0, 2.0, np.nan])
    assert risk_value(g, "mean") == pytest.approx(11 / 4)  # the NaN world is left out
    # sorted −1, 2, 3, 7: position 0.1 × 3 = 0.3 between −1 and 2 → −1 + 0.3 × 3 = −0.1
    assert risk_value(g, "p10") == pytest.approx(-0.1)
    assert risk_value(np.arange(11.0), "p10") == pytest.approx(1.0)
    assert math.isnan(risk_value(np.array([np.nan]), "mean"))
    with pytest.raises(ValueError, match="risk"):
        risk_value(g, "p90")


def _world_evaluator(baseline: Scenario, kpi: str, risk: str, n: int = 10) -> WorldEvaluator:
    search = draw_worlds(n, 0, None)
    select = draw_worlds(2, 0, None, first=500_000)
    return WorldEvaluator(baseline, kpi, 0, search, select, risk)


def test_the_world_objective_is_the_risk_over_each_worlds_mean_signed_so_more_is_better(baseline: Scenario) -> None:
    # world w: replications w − 1, w + 1 and a NaN (a replication without a value): mean w
    diffs = {w: np.array([w - 1.0, w + 1.0, np.nan]) for w in range(10)}
    assert _world_evaluator(baseline, "industrialised", "mean").objective(diffs) == pytest.approx(4.5)
    assert _world_evaluator(baseline, "industrialised", "p10").objective(diffs) == pytest.approx(0.9)
    # a waiting time: a world's gain is −Δ, so the gains are 0 … −9 and their 10th percentile −9 + 0.9
    assert _world_evaluator(baseline, "time_to_production", "p10").objective(diffs) == pytest.approx(-8.1)
    assert _world_evaluator(baseline, "time_to_production", "mean").objective(diffs) == pytest.approx(-4.5)


def test_successive_halving_over_worlds_and_the_selection_replications(baseline: Scenario,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    ev = _world_evaluator(baseline, "industrialised", "mean")
    # a third of the 10 worlds (rounded up: 4) × a third of 9 replications, then all 10 × 3, then all 10 × 9
    assert ev.rungs(9) == [Rung(1, (0, 1, 2, 3), 3), Rung(3, tuple(range(10)), 3), Rung(9, tuple(range(10)), 9)]
    asked: list[tuple[int, list[int]]] = []

    def deltas(requests: Any) -> list[np.ndarray]:  # the evaluator's one batched way to the engine
        out = []
        for _sc, world, reps in requests:
            asked.append((world, list(reps)))
            out.append(np.full(len(list(reps)), 2.0 if world == 500_000 else 4.0))
        return out

    monkeypatch.setattr(ev, "deltas", deltas)
    assert ev.selection_score(baseline, 3) == pytest.approx(3.0)  # mean of the two selection worlds' 2 and 4
    assert asked == [(500_000, [3, 4, 5]), (500_001, [3, 4, 5])]  # never the search's replications 0–2


def test_the_stated_values_are_one_world_of_the_plain_evaluator(baseline: Scenario) -> None:
    ev = Evaluator(baseline, "time_to_production", 0)
    assert ev.objective({CENTRAL: np.array([1.0, 3.0, np.nan])}) == pytest.approx(-2.0)
    with pytest.raises(ValueError, match="no worlds"):
        ev.world_delta(baseline, 0, [0])


def test_the_budget_risk_is_the_triangular_chance_that_the_drawn_cost_exceeds_the_budget(baseline: Scenario) -> None:
    """Brokers whose assumed cost is 1–3 M a year with its mode at the stated 1.5 M, and a pilot line at a
    documented 0.5 M a year from 2026. The largest yearly cost is X + 0.5 M, X triangular (1, 1.5, 3) M."""
    sc = variant(baseline, levers=[
        _paid("meeting.brokers", "add", 2.0, 1.5e6, 2023, "brokers", cost_range=(1e6, 3e6)),
        {**_paid("pilot.public_slots", "add", 1.0, 5e5, 2026, "line"), "cost_low": None, "cost_high": None,
         "cost_source": "DOC test"}])
    n = 2000
    r = cost_risk(sc, 2.5e6, seed=7, n=n)
    a, c, b = 1.0, 1.5, 3.0  # M yuan
    # P(X > 2) = (b − 2)² / ((b − a)(b − c)) = 1 / 3 (2 lies above the mode)
    p = (b - 2.0) ** 2 / ((b - a) * (b - c))
    assert p == pytest.approx(1 / 3)
    tol = 4 * math.sqrt(p * (1 - p) / n)
    assert r["p_cost_over_budget"] == pytest.approx(p, abs=tol) and r["cost_worlds"] == n
    # mean (a + c + b) / 3 + 0.5; 95th percentile b − √(0.05 (b − a)(b − c)) + 0.5
    sd = math.sqrt((a * a + b * b + c * c - a * b - a * c - b * c) / 18)
    assert r["cost_world_mean_yuan"] / 1e6 == pytest.approx((a + b + c) / 3 + 0.5, abs=4 * sd / math.sqrt(n))
    q95 = b - math.sqrt(0.05 * (b - a) * (b - c))
    density = 2 * (b - q95) / ((b - a) * (b - c))
    q_sd = math.sqrt(0.05 * 0.95 / n) / density
    assert r["cost_world_p95_yuan"] / 1e6 == pytest.approx(q95 + 0.5, abs=4 * q_sd)
    # a budget the dearest draw cannot exceed, and one the cheapest draw already exceeds
    assert cost_risk(sc, 3.5e6, seed=7, n=200)["p_cost_over_budget"] == 0.0
    assert cost_risk(sc, 1.49e6, seed=7, n=200)["p_cost_over_budget"] == 1.0
    # a documented cost is never drawn: exactly at the budget is not over it
    fixed = variant(baseline, levers=[{**_paid("pilot.public_slots", "add", 1.0, 5e5, 2026, "line"),
                                       "cost_low": None, "cost_high": None, "cost_source": "DOC test"}])
    assert cost_risk(fixed, 5e5, seed=7, n=50) == {"cost_world_mean_yuan": 5e5, "cost_world_p95_yuan": 5e5,
                                                   "p_cost_over_budget": 0.0, "cost_worlds": 50}


# ---- where the optimiser's results go: folders convsim owns (sim/store.py) ---------------------------------------

def test_an_output_folder_may_not_hold_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "a" / "b")
    for folder in (tmp_path / "a" / "b", tmp_path / "a", tmp_path):  # the working directory and its parents
        with pytest.raises(InputError, match="working in"):
            check_output_dir(folder)
    assert check_output_dir(tmp_path / "a" / "b" / "out") == "new"
    (tmp_path / "a" / "b" / "empty").mkdir()
    assert check_output_dir(tmp_path / "a" / "b" / "empty") == "empty"


def test_a_file_a_user_adds_while_convsim_writes_stops_the_swap_and_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "o"
    with atomic_folder(out, "optimise") as tmp:
        (tmp / "result.json").write_text("1", encoding="utf-8")
    assert check_output_dir(out) == "replace" and foreign_files(out) == []
    with pytest.raises(InputError, match="did not write"), atomic_folder(out, "optimise") as tmp:
        (tmp / "result.json").write_text("2", encoding="utf-8")
        (out / "notes.txt").write_text("mine", encoding="utf-8")  # added meanwhile
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert (out / "result.json").read_text(encoding="utf-8") == "1"  # the earlier result, untouched
    assert foreign_files(out) == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]  # no temporary folder left beside it
