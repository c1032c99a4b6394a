"""Oracle tests of the money: levers in the parameter table, lever costs from each lever's start, the city fund
when it binds, the county top-up, and equal-budget variants (sim/budget.py).

MODEL.md 3.7: a lever changes one parameter from its first year (``add``,
``multiply`` or ``set``, phased in linearly over ``phase_in_years``); fiscal
cost counts declared lever costs. MODEL.md 1.3 step 4 and 1.2: subsidies,
awards and rewards are paid from the year's fund only while it holds them; the
county top-up (10 % in 随县, 广水, 曾都) is paid on top and not limited.
README: equal-budget variants scale each paid lever with its cost, rounding
whole-number capacities first, so the total is the budget exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim import layout as L
from sim.analysis.compare import compare
from sim.analysis.paired import lever_cost_myuan
from sim.budget import equal_budget
from sim.engines.fast import run_fast
from sim.engines.reference import run_reference
from sim.scenario import Scenario, scenario_from_dict
from sim.table import PIDX, build_table
from tests.conftest import lever, variant

YEARS = list(range(2015, 2028))


def _row(sc: Scenario, name: str) -> dict[int, float]:
    P = build_table(sc).P
    return {y: float(P[PIDX[name], i]) for i, y in enumerate(YEARS)}


def _phased(lid: str, param: str, mode: str, value: float, start: int, years: int, cost: float = 0.0
            ) -> dict[str, object]:
    return {**lever(param, mode, value, start=start, cost=cost, lid=lid), "phase_in_years": years}


def test_add_multiply_and_set_levers_phase_in_linearly_from_their_start(baseline: Scenario) -> None:
    sc = variant(baseline, levers=[
        _phased("more_brokers", "meeting.brokers", "add", 4.0, 2024, 2),
        _phased("platform", "supply.platform_offers_per_year", "multiply", 1.5, 2023, 2),
        _phased("ip", "contract.ip_protection", "set", 0.7, 2025, 4),
    ])
    brokers = _row(sc, "meeting.brokers")
    assert [brokers[y] for y in (2022, 2023, 2024, 2025, 2027)] == pytest.approx([8, 8, 10, 12, 12])
    platform = _row(sc, "supply.platform_offers_per_year")
    assert [platform[y] for y in (2022, 2023, 2024, 2027)] == pytest.approx([40, 50, 60, 60])
    ip = _row(sc, "contract.ip_protection")
    assert [ip[y] for y in (2024, 2025, 2026, 2027)] == pytest.approx([0.3, 0.4, 0.5, 0.6])
    untouched = _row(baseline, "contract.ip_protection")
    assert all(untouched[y] == 0.3 for y in YEARS)


def test_a_lever_without_start_year_starts_with_the_policy(baseline: Scenario) -> None:
    lv = {**lever("meeting.brokers", "add", 2.0, cost=1e6), "start_year": None}
    sc = variant(baseline, levers=[lv])
    brokers = _row(sc, "meeting.brokers")
    assert brokers[2022] == 8 and brokers[2023] == 10
    assert sc.yearly_cost(2022) == 0 and sc.yearly_cost(2023) == 1e6


def test_lever_costs_are_charged_from_each_levers_start_year(baseline: Scenario) -> None:
    """A lever costs its yearly cost in every year from its start on, and nothing before."""
    sc = variant(baseline, levers=[lever("meeting.brokers", "add", 2.0, start=2025, cost=1e6, lid="late"),
                                   lever("pilot.public_slots", "add", 1.0, start=2023, cost=3e5, lid="early"),
                                   lever("supply.events_per_year", "add", 2.0, start=2027, cost=5e4, lid="last")])
    assert [sc.yearly_cost(y) for y in range(2021, 2028)] == pytest.approx(
        [0, 0, 3e5, 3e5, 1.3e6, 1.3e6, 1.35e6])
    assert lever_cost_myuan(sc, 2023, 2027) == pytest.approx((3e6 + 5 * 3e5 + 5e4) / 1e6)
    assert lever_cost_myuan(sc, 2023, 2024) == pytest.approx(0.6)
    assert lever_cost_myuan(sc, 2026, 2027) == pytest.approx((2e6 + 6e5 + 5e4) / 1e6)


def test_money_added_to_the_fund_is_charged_as_it_is_paid_out(baseline: Scenario) -> None:
    """加大财政投入: the declared money is the lever's budget, but the fiscal cost counts it only through the
    payouts it makes (counting both would charge a yuan paid out twice); other levers are charged as declared."""
    sc = variant(baseline, levers=[lever("subsidy.fund_yuan_per_year", "add", 5e6, start=2024, cost=5e6, lid="fund"),
                                   lever("meeting.brokers", "add", 2.0, start=2023, cost=1e6, lid="brokers")])
    assert sc.yearly_cost(2024) == pytest.approx(6e6)  # the budget still holds the fund's money
    assert lever_cost_myuan(sc, 2023, 2027) == pytest.approx(5.0)  # only the brokers
    c = compare(baseline, [sc], reps=3, seed=3, follow_up=0)
    arm = c.arms[0].frame()
    assert c.arms[0].lever_cost_myuan == pytest.approx(5.0)
    assert arm["fiscal_cost"].to_numpy() == pytest.approx(5.0 + arm["payouts"].to_numpy())
    assert (arm["payouts"] > 0).all()


# ---- the city fund and the county top-up in whole runs ------------------------------------------


def _money(R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    paid = R[L.R_M_SUBSIDY_CITY] + R[L.R_M_AWARDS] + R[L.R_M_HIGHTECH]
    return paid, R[L.R_M_FUND_LEFT]


def test_a_tiny_fund_binds_and_is_never_overspent(baseline: Scenario) -> None:
    """With 150,000 yuan a year the fund runs out every year: subsidies are refused, no 0.5 M award is ever
    paid, and money paid + money left = the fund, year by year, in both engines."""
    fund = 150_000.0
    table = build_table(variant(baseline, params={"subsidy": {"fund_yuan_per_year": fund}}))
    fast, _ = run_fast(table, 5, list(range(40)))
    records = [*fast, run_reference(table, 5, 0), run_reference(table, 5, 1)]
    denied = 0.0
    for R in records:
        paid, left = _money(R)
        assert np.all(paid <= fund + 1e-6), paid.max()
        assert np.all(left >= -1e-6)
        assert paid + left == pytest.approx(np.full(len(YEARS), fund))
        assert R[L.R_AWARDS].sum() == 0 and R[L.R_M_AWARDS].sum() == 0
        denied += R[L.R_SUBSIDY_DENIED].sum()
        # each subsidy paid is 20 % of a contract value and no claim pays twice
        assert R[L.R_M_SUBSIDY_CITY].sum() <= 0.2 * R[L.R_CONTRACT_VALUE].sum() + 1e-6
    assert denied > 0, "the fund never bound: the test would prove nothing"
    assert np.array_equal(fast[0], records[-2]) and np.array_equal(fast[1], records[-1])


def test_the_county_top_up_is_recorded_as_paid(baseline: Scenario) -> None:
    """The top-up is half the city's 20 % in three of five counties: recorded, and never above half the city's."""
    recs, _ = run_fast(build_table(baseline), 3, list(range(30)))
    county = np.array([R[L.R_M_SUBSIDY_COUNTY].sum() for R in recs])
    city = np.array([R[L.R_M_SUBSIDY_CITY].sum() for R in recs])
    assert np.all(county <= 0.5 * city + 1e-6)
    assert county.mean() > 0.3 * city.mean()  # 曾都, 随县, 广水 hold 83 % of firms
    # and no top-up at all when the county rate is zero
    zero = build_table(variant(baseline, params={"subsidy": {"county_rate": 0.0}}))
    recs0, _ = run_fast(zero, 3, list(range(5)))
    assert all(R[L.R_M_SUBSIDY_COUNTY].sum() == 0 for R in recs0)


# ---- equal-budget variants (sim/budget.py) ------------------------------------------------------


def _group() -> Scenario:
    return scenario_from_dict({"scenario": {"id": "g", "name_en": "g", "name_zh": "g", "group": "platforms"},
                               "levers": [
                                   lever("meeting.brokers", "add", 2.0, cost=1e6, lid="brokers"),
                                   lever("supply.platform_offers_per_year", "multiply", 1.5, cost=2e6, lid="platform"),
                                   lever("contract.ip_protection", "set", 0.5, cost=1e6, lid="ip"),
                                   lever("contract.evaluation_level", "add", 0.1, cost=0.0, lid="free"),
                               ]})


def test_equal_budget_scales_paid_levers_with_cost_whole_capacities_first() -> None:
    """Budget 8 M for levers costing 4 M: twice the size everywhere (4 brokers; ×2.0 platform; set 0.3 → 0.7);
    the free lever is left out; costs add up to the budget."""
    sc = _group()
    out = {lv.id: lv for lv in equal_budget(sc, 8e6, sc.params)}
    assert set(out) == {"brokers", "platform", "ip"}
    assert out["brokers"].value == 4.0 and out["brokers"].yearly_cost_yuan == pytest.approx(2e6)
    assert out["platform"].value == pytest.approx(2.0) and out["platform"].yearly_cost_yuan == pytest.approx(4e6)
    assert out["ip"].value == pytest.approx(0.7) and out["ip"].yearly_cost_yuan == pytest.approx(2e6)
    assert out["platform"].mode == "multiply" and out["ip"].mode == "set"


def test_equal_budget_rounds_brokers_and_the_continuous_levers_absorb_the_rest() -> None:
    """Budget 1 M: a quarter of the size would be half a broker; at least one broker is bought (0.5 M) and the
    other levers share the remaining 0.5 M in proportion to their costs (factor 1/6)."""
    sc = _group()
    out = {lv.id: lv for lv in equal_budget(sc, 1e6, sc.params)}
    assert out["brokers"].value == 1.0 and out["brokers"].yearly_cost_yuan == pytest.approx(5e5)
    assert out["platform"].value == pytest.approx(1 + 0.5 / 6) and out["ip"].value == pytest.approx(0.3 + 0.2 / 6)
    assert sum(lv.yearly_cost_yuan for lv in out.values()) == pytest.approx(1e6)
