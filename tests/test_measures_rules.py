"""Each measure of the report acts as the report describes it: the rule, and the lever's direction.

Rule tests call the compiled rules on hand-made firms and offers; direction tests run every lever
of the group files alone against the baseline (paired, few replications) and check the indicator
the mechanism acts on moves the right way.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sim import layout as L
from sim.analysis.compare import compare
from sim.analysis.levers import single_lever_scenarios
from sim.rng import rep_key
from sim.rules.pidx import BROKERS, FIN_REF, PILOT_FIN
from sim.rules.pilot import choose_pilot, pilot_finance_prob
from sim.rules.supply import create_offer
from sim.scenario import Scenario
from sim.table import PIDX, build_table
from tests.conftest import ROOT, lever, variant


def _table(baseline: Scenario, **levers: tuple[str, float]):  # type: ignore[no-untyped-def]
    lv = [lever(p, "set", v, start=2018 + 0, lid=k) for k, (p, v) in levers.items()]
    data = baseline.model_dump(mode="python")
    data["params"]["time"]["policy_start_year"] = 2018  # let the lever act from the first reported year
    sc = Scenario.model_validate({**data, "levers": lv})
    return build_table(sc).P


def test_the_pilot_finance_gate_falls_with_the_cost_the_firm_bears(baseline_table) -> None:
    P = baseline_table.P
    y = 5
    ref = P[FIN_REF, y]
    assert pilot_finance_prob(P, y, ref) == pytest.approx(P[PILOT_FIN, y])
    costs = ref * np.array([0.1, 0.5, 1.0, 2.0, 5.0])
    probs = [pilot_finance_prob(P, y, c) for c in costs]
    assert all(a > b for a, b in itertools.pairwise(probs))  # dearer ⇒ harder to finance
    assert pilot_finance_prob(P, y, 0.0) == 1.0  # a pilot that costs the firm nothing is always financed


def _pilot_world(P: np.ndarray, fund: float, subsidy: float = 0.0):  # type: ignore[no-untyped-def]
    F = np.zeros((1, L.N_FCOL))
    O = np.zeros((1, L.N_OCOL))
    O[0, L.O_KEY], O[0, L.O_FIRM], O[0, L.O_TRL], O[0, L.O_VALUE] = 12345, 0, 3, 250_000.0
    O[0, L.O_SUBSIDY] = subsidy
    W = np.zeros(L.N_W)
    W[L.W_FUND] = fund
    R = np.zeros((L.N_ROWS, P.shape[1]))
    return F, O, W, R


def test_matching_funds_are_paid_from_the_fund_for_public_base_pilots_only_while_it_holds_them(baseline) -> None:
    P = _table(baseline, m=("subsidy.pilot_matching_share", 0.3))
    passed = 0
    for seed in range(60):
        F, O, W, R = _pilot_world(P, fund=1e9)
        route = choose_pilot(P, F, O, W, R, 0, 5.5, P.shape[1], True, 0, np.uint64(rep_key(seed, 0)))
        if route == L.PR_PUBLIC:
            passed += 1
            paid = R[L.R_M_MATCHING].sum()
            assert paid == pytest.approx(0.3 * O[0, L.O_PILOT_COST]) and W[L.W_FUND] == pytest.approx(1e9 - paid)
        else:
            assert route == -1 and R[L.R_M_MATCHING].sum() == 0.0  # refused: nothing paid
    assert passed > 0
    F, O, W, R = _pilot_world(P, fund=1.0)  # an empty fund pays nothing
    choose_pilot(P, F, O, W, R, 0, 5.5, P.shape[1], True, 0, np.uint64(rep_key(0, 0)))
    assert R[L.R_M_MATCHING].sum() == 0.0 and W[L.W_FUND] == 1.0


def test_matching_funds_and_a_subsidy_received_let_more_firms_finance_their_pilot(baseline) -> None:
    def passes(P: np.ndarray, subsidy: float) -> int:
        n = 0
        for seed in range(300):
            F, O, W, R = _pilot_world(P, fund=1e9, subsidy=subsidy)
            n += choose_pilot(P, F, O, W, R, 0, 5.5, P.shape[1], True, 0, np.uint64(rep_key(seed, 0))) >= 0
        return n
    plain = _table(baseline)
    matched = _table(baseline, m=("subsidy.pilot_matching_share", 0.5))
    assert passes(matched, 0.0) > passes(plain, 0.0)
    assert passes(plain, 75_000.0) > passes(plain, 0.0)  # the city's 20 % and the county's 10 % are money too


def test_an_agency_brings_intermediary_capacity(baseline) -> None:
    more = build_table(variant(baseline, levers=[lever("supply.agencies", "add", 3.0)])).P
    base = build_table(baseline).P
    y2023 = 2023 - 2015
    assert base[BROKERS, y2023] == base[PIDX["meeting.brokers"], y2023]
    assert more[BROKERS, y2023] == base[BROKERS, y2023] + 3.0 * base[PIDX["meeting.brokers_per_agency"], 0]
    assert np.array_equal(more[BROKERS, :y2023], base[BROKERS, :y2023])


def test_demand_led_results_come_from_institutes_more_mature_and_always_meet(baseline) -> None:
    from sim.rules.meeting import decide_meeting

    P = _table(baseline, d=("supply.demand_led_share", 1.0))
    base = build_table(baseline).P
    O = np.zeros((4, L.N_OCOL))
    W = np.zeros(L.N_W)
    R = np.zeros((L.N_ROWS, P.shape[1]))
    for k, ch in enumerate((L.CH_INSTITUTE, L.CH_PLATFORM)):
        i = create_offer(P, O, W, R, 5000 + k, ch, 5.5, P.shape[1], np.uint64(rep_key(3, 0)))
        assert O[i, L.O_DEMAND_LED] == (1.0 if ch == L.CH_INSTITUTE else 0.0)
    j = create_offer(base, O, W, R, 5000, L.CH_INSTITUTE, 5.5, P.shape[1], np.uint64(rep_key(3, 0)))
    assert O[0, L.O_TRL] == min(O[j, L.O_TRL] + 1, 9)  # the same result, one level more mature
    assert R[L.R_OFFERS_DEMAND_LED].sum() == 1.0
    # it meets whatever the matching function says, as long as the sector has a firm
    F = np.zeros((3, L.N_FCOL))
    F[:, L.F_AWARE] = 0.5
    W2 = np.zeros(L.N_W)
    s = int(O[0, L.O_SECTOR])
    W2[L.W_AWARE_SUM + s], W2[L.W_AWARE_MAX + s], W2[L.W_OPEN + s] = 1.5, 0.5, 1000.0
    W2[L.W_SECTOR_START + s], W2[L.W_SECTOR_START + s + 1] = 0, 3
    W2[L.W_AWARE_MUL:L.W_AWARE_MUL + L.N_SECTORS] = 1.0
    P2 = P.copy()
    P2[PIDX["meeting.efficiency_broker"]] = 1e-9
    assert decide_meeting(P2, F, O, W2, R, 0, 5.5, L.MM_BROKER, P.shape[1], np.uint64(rep_key(3, 0))) == 1


@pytest.fixture(scope="module")
def alone(baseline: Scenario):  # type: ignore[no-untyped-def]
    """Every lever of g1–g5 alone against the baseline, 40 paired replications."""
    singles = single_lever_scenarios(baseline, ROOT / "scenarios")
    c = compare(baseline, [(s.scenario, s.source) for s in singles], reps=40, seed=11, engine="fast")
    frames = {a.scenario.id: _with_stocks(a) for a in [*c.arms, c.baseline]}
    return c.summary.set_index(["scenario", "kpi"]), frames, frames[c.baseline.scenario.id]


def _with_stocks(arm):  # type: ignore[no-untyped-def]
    """The arm's KPIs plus two counts of the year's-end measures (2027) and the fund left unspent (2023–27)."""
    from sim.experiment import run_records

    k = arm.frame()
    rec = run_records(arm.table, 11, range(40), "fast")
    last = rec[rec["year"] == 2027].set_index("rep").sort_index()
    win = rec[rec["year"] >= 2023].groupby("rep").sum(numeric_only=True).sort_index()
    k["rd_working_end"] = last["firms_with_working_rd"].to_numpy()
    k["vp_on_problem"] = win["vp_placed_on_problem"].to_numpy()
    k["fund_unspent"] = win["yuan_fund_unspent"].to_numpy()
    return k


@pytest.mark.parametrize(("lever_id", "kpi", "sign"), [
    ("subsidy_publicity", "subsidised", 1), ("exchange_visits", "introduced_converted", 1),
    ("demand_led_results", "introduced_converted", 1), ("institute_maturation", "industrialised", 1),
    ("pilot_matching", "yuan_pilot_matching", 1), ("pilot_matching", "pilots", 1),
    ("more_fiscal_money", "fund_unspent", 1), ("transfer_agencies", "meetings", 1), ("county_topup", "pilots", 1),
    ("pilot_bases", "pilots_public", 1), ("platform_review", "rd_working_end", 1),
    ("platform_support", "rd_working_end", 1), ("vp_problem_oriented", "vp_on_problem", 1),
    ("more_vice_presidents", "industrialised", 1),
])
@pytest.mark.slow
def test_each_measure_moves_what_it_acts_on(alone, lever_id: str, kpi: str, sign: int) -> None:
    _, arms, base = alone
    d = (arms[lever_id][kpi] - base[kpi]).to_numpy()
    assert sign * d.mean() > 0, (lever_id, kpi, d.mean())


@pytest.mark.slow
def test_no_lever_can_only_do_harm(alone) -> None:
    s, _, _ = alone
    ind = s.xs("industrialised", level="kpi")
    assert (ind["hi"].fillna(0.0) >= 0).all(), ind[ind["hi"] < 0]


def _firm_world(n: int = 1):  # type: ignore[no-untyped-def]
    F = np.zeros((n, L.N_FCOL))
    R = np.zeros((L.N_ROWS, 13))
    return F, R


def test_the_review_judges_idle_platforms_on_conversion(baseline) -> None:
    from sim.rng import rep_key
    from sim.rules.year_end import review_platform

    P = build_table(baseline).P  # review_upgrade = 0.5 for a firm without a team idle just idle_years (3)
    outcomes = {"working_kept": 0, "upgraded": 0, "delisted": 0}
    for seed in range(200):
        F, R = _firm_world(2)
        F[:, L.F_RD] = 1.0
        F[0, L.F_RD_WORKING] = 1.0  # working, idle
        F[:, L.F_LAST_USE] = 5.0  # last contract three years before the review at t = 8
        F[:, L.F_VP_UNTIL] = -1.0
        rk = np.uint64(rep_key(seed, 0))
        for f in range(2):
            review_platform(P, F, R, f, 7, 8.0, rk)
        outcomes["working_kept"] += F[0, L.F_RD] == 1.0 and F[0, L.F_RD_WORKING] == 1.0
        outcomes["upgraded"] += F[1, L.F_RD] == 1.0 and F[1, L.F_RD_WORKING] == 1.0
        outcomes["delisted"] += F[1, L.F_RD] == 0.0
        assert R[L.R_RD_UPGRADED].sum() + R[L.R_DELISTED].sum() == 1.0
    assert outcomes["working_kept"] == 200 and outcomes["upgraded"] + outcomes["delisted"] == 200
    assert 60 < outcomes["upgraded"] < 140


def test_support_and_review_act_on_title_only_institutions_at_the_year_end(baseline) -> None:
    from sim.experiment import run_records

    def stocks(sc: Scenario):  # type: ignore[no-untyped-def]
        rec = run_records(build_table(sc), 5, range(6), "fast")
        late = rec[rec["year"] >= 2023]
        return late["rd_upgraded"].sum(), late["rd_delisted"].sum(), \
            rec[rec["year"] == 2027]["firms_with_working_rd"].mean()
    base = stocks(baseline)
    sup = stocks(variant(baseline, levers=[lever("platforms.support_rate", "add", 0.2, lid="support")]))
    rev = stocks(variant(baseline, levers=[lever("platforms.review_prob_idle", "set", 0.5, lid="review")]))
    assert base[0] == 0 and base[1] == 0  # neither support nor review today
    assert sup[0] > 0 and sup[1] == 0 and sup[2] > base[2]
    assert rev[0] > 0 and rev[1] > 0 and rev[2] > base[2]  # title-only idle ones start to work or lose the title


def test_oriented_vice_presidents_go_to_firms_with_a_technical_problem(baseline) -> None:
    from sim.rng import rep_key
    from sim.rules.year_end import place_vice_president

    P = _table(baseline, v=("talent.vp_targeting", 1.0))
    plain = build_table(baseline).P
    F, R = _firm_world(400)
    F[::5, L.F_LAST_USE] = 7.6  # one firm in five signed a contract within the past year
    W = np.zeros(L.N_W)
    W[L.W_SECTOR_START + 1:L.W_SECTOR_START + L.N_SECTORS + 1] = 400  # all 400 firms alive, in sector 0
    rk = np.uint64(rep_key(3, 0))
    oriented = [place_vice_president(P, F, W, R, 7, 8.0, j, rk) for j in range(200)]
    random_ = [place_vice_president(plain, F, W, R, 7, 8.0, j, rk) for j in range(200)]
    assert all(f % 5 == 0 for f in oriented)
    assert sum(f % 5 == 0 for f in random_) < 80 and R[L.R_VP_ON_PROBLEM].sum() == 200


def test_a_title_only_institution_brings_no_absorptive_capacity_and_no_in_house_pilot(baseline) -> None:
    from sim.rules.contract import decide_contract

    P = build_table(baseline).P
    signed = {0.0: 0, 1.0: 0}
    for working in (0.0, 1.0):
        for seed in range(300):
            F = np.zeros((1, L.N_FCOL))
            F[0, L.F_RD], F[0, L.F_RD_WORKING], F[0, L.F_VP_UNTIL] = 1.0, working, -1.0
            O = np.zeros((1, L.N_OCOL))
            O[0, L.O_KEY], O[0, L.O_VALUE] = 777, 250_000.0
            W = np.zeros(L.N_W)
            R = np.zeros((L.N_ROWS, P.shape[1]))
            signed[working] += decide_contract(P, F, O, W, R, 0, 5.5, P.shape[1], np.uint64(rep_key(seed, 0)))
    assert signed[1.0] > signed[0.0]
