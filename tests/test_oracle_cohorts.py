"""Oracle tests of the cohort rows: ``finalise`` on hand-built offers, and the cohort KPIs on hand-made records.

Every expected count below is worked out by hand from the offers' dates, not by the code under test.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import layout as L
from sim.analysis.kpi import kpis
from sim.analysis.paired import higher_is_better, paired
from sim.rules import finalise

N_YEARS = 8
ROW = {name: k for k, name in enumerate(L.RECORD_ROWS)}


def offer(O: np.ndarray, i: int, arrive: float, stage: int, reason: int = L.RE_NONE, meet: float = 0.0,
          contract: float = 0.0, route: int = L.PR_NONE, pilot_end: float = 0.0, financed: float = 0.0,
          end: float = 0.0) -> None:
    O[i, L.O_T_ARRIVE] = arrive
    O[i, L.O_STAGE] = stage
    O[i, L.O_REASON] = reason
    O[i, L.O_T_MEET] = meet
    O[i, L.O_T_CONTRACT] = contract
    O[i, L.O_ROUTE] = route
    O[i, L.O_T_PILOT_END] = pilot_end
    O[i, L.O_T_FINANCED] = financed
    O[i, L.O_T_END] = end


def hand_state() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    O = np.zeros((16, L.N_OCOL))
    done = L.ST_DONE
    # 0: year 0, never met
    offer(O, 0, 0.5, done, L.RE_NO_MATCH, end=0.9)
    # 1: year 1, the whole pipeline through a public pilot base, production 2.8 years after arrival
    offer(O, 1, 1.2, done, L.RE_INDUSTRIALISED, meet=1.3, contract=1.8, route=L.PR_PUBLIC, pilot_end=2.5,
          financed=3.0, end=4.0)
    # 2: year 1, mature (no pilot), financed 3.5 and produced 4.7 years after arrival: beyond 3 years
    offer(O, 2, 1.5, done, L.RE_INDUSTRIALISED, meet=1.5, contract=2.0, financed=5.0, end=6.2)
    # 3: year 3, the pilot test failed
    offer(O, 3, 3.0, done, L.RE_PILOT_FAILED, meet=3.2, contract=3.5, route=L.PR_PUBLIC, pilot_end=4.0, end=4.0)
    # 4: year 4 (followed 4 years: 3-year counts complete, 5-year censored), mature, still seeking finance
    offer(O, 4, 4.1, L.ST_FINANCE, meet=4.2, contract=4.5)
    # 5: year 2, its firm exited during the negotiation
    offer(O, 5, 2.0, done, L.RE_FIRM_EXIT, meet=2.5, end=2.7)
    # 6: year 0, met at time 0 (a real date), still negotiating
    offer(O, 6, 0.0, L.ST_NEGOTIATION, meet=0.0)
    # 7: year 5 (followed 3 years: every k censored), signed in year 6, could not pay for the pilot test
    offer(O, 7, 5.5, done, L.RE_PILOT_NO_FINANCE, meet=5.6, contract=6.0, end=6.0)
    # 8: year 6, in a pilot test at the horizon
    offer(O, 8, 6.5, L.ST_PILOT, meet=6.6, contract=7.0, route=L.PR_PUBLIC)
    # 9: year 2, mature, its firm exited while it sought finance: it passed the pilot stage
    offer(O, 9, 2.2, done, L.RE_FIRM_EXIT, meet=2.3, contract=2.6, end=3.1)
    # 10: year 0, produced exactly 3 years after its contract (the boundary counts as within 3 years)
    offer(O, 10, 0.2, done, L.RE_INDUSTRIALISED, meet=0.5, contract=1.0, route=L.PR_INHOUSE, pilot_end=2.0,
          financed=2.5, end=4.0)
    W = np.zeros(L.N_W)
    W[L.W_N_OFFERS] = 11
    R = np.zeros((L.N_ROWS, N_YEARS))
    return O, W, R


def expected() -> dict[tuple[str, int], float]:
    e: dict[tuple[str, int], float] = {}

    def add(name: str, y: int, v: float = 1.0) -> None:
        e[(name, y)] = e.get((name, y), 0.0) + v

    def reached(prefix: str, stage: str, y: int, spans: str) -> None:
        for w in spans.split():
            add(f"{prefix}_{stage}_{w}", y)

    o = "cohort_offers"
    c = "cohort_contracts"
    for y, n in ((0, 3), (1, 2), (2, 2), (3, 1), (4, 1), (5, 1), (6, 1)):
        add(o, y, n)
    # offer 1 (year 1): everything within 3 years
    for s in ("met", "contracted", "piloted", "financed", "industrialised"):
        reached(o, s, 1, "3y 5y horizon")
    add(f"{o}_time_to_production_years", 1, 2.8)
    add(c, 1)
    for s in ("piloted", "financed", "industrialised"):
        reached(c, s, 1, "3y 5y horizon")
    add(f"{c}_time_to_production_years", 1, 2.2)
    # offer 2 (year 1): piloted at signing (0.5), financed 3.5, produced 4.7 after arrival; contract year 2
    for s in ("met", "contracted", "piloted"):
        reached(o, s, 1, "3y 5y horizon")
    reached(o, "financed", 1, "5y horizon")
    reached(o, "industrialised", 1, "5y horizon")
    add(f"{o}_time_to_production_years", 1, 4.7)
    add(c, 2)
    reached(c, "piloted", 2, "3y 5y horizon")
    reached(c, "financed", 2, "3y 5y horizon")
    reached(c, "industrialised", 2, "5y horizon")
    add(f"{c}_time_to_production_years", 2, 4.2)
    # offer 3 (year 3, followed 5 years: 5-year counts censored): met, signed; its contract cohort reaches nothing
    reached(o, "met", 3, "3y horizon")
    reached(o, "contracted", 3, "3y horizon")
    add(c, 3)
    # offer 4 (year 4): 5-year counts censored
    for s in ("met", "contracted", "piloted"):
        reached(o, s, 4, "3y horizon")
    add(c, 4)
    reached(c, "piloted", 4, "3y horizon")
    # offer 5 (year 2): met only
    reached(o, "met", 2, "3y 5y horizon")
    # offer 6 (year 0): met at 0
    reached(o, "met", 0, "3y 5y horizon")
    # offer 7 (year 5): every k censored; contract cohort year 6, every k censored, no pilot
    reached(o, "met", 5, "horizon")
    reached(o, "contracted", 5, "horizon")
    add(c, 6)
    # offer 8 (year 6): met and signed in year 7
    reached(o, "met", 6, "horizon")
    reached(o, "contracted", 6, "horizon")
    add(c, 7)
    # offer 9 (year 2): met, signed, passed the (absent) pilot; contract cohort year 2
    for s in ("met", "contracted", "piloted"):
        reached(o, s, 2, "3y 5y horizon")
    add(c, 2)
    reached(c, "piloted", 2, "3y 5y horizon")
    # offer 10 (year 0): production 3.8 years after arrival, exactly 3 after signing (year 1)
    for s in ("met", "contracted", "piloted", "financed"):
        reached(o, s, 0, "3y 5y horizon")
    reached(o, "industrialised", 0, "5y horizon")
    add(f"{o}_time_to_production_years", 0, 3.8)
    add(c, 1)
    for s in ("piloted", "financed", "industrialised"):
        reached(c, s, 1, "3y 5y horizon")
    add(f"{c}_time_to_production_years", 1, 3.0)
    for y in range(N_YEARS):
        e[("cohort_followup_years", y)] = float(N_YEARS - y)
    return e


def test_finalise_fills_every_cohort_row_by_hand() -> None:
    O, W, R = hand_state()
    finalise(O, W, R, N_YEARS)
    want = np.zeros_like(R)
    for (name, y), v in expected().items():
        want[ROW[name], y] = v
    # the pipeline's in-progress count at the horizon is finalise's older duty: offers 4, 6 and 8
    want[L.R_TERM + L.RE_NONE, N_YEARS - 1] = 3.0
    want[L.R_WIP + L.ST_FINANCE, N_YEARS - 1] = 1.0
    want[L.R_WIP + L.ST_NEGOTIATION, N_YEARS - 1] = 1.0
    want[L.R_WIP + L.ST_PILOT, N_YEARS - 1] = 1.0
    rows, years = np.nonzero(~np.isclose(R, want))
    wrong = [(L.RECORD_ROWS[r], y, R[r, y], want[r, y]) for r, y in zip(rows, years, strict=True)]
    assert not wrong, wrong


def test_censoring_rule_follows_the_horizon() -> None:
    """The same offer, followed one year less, loses its 5-year counts (censored), never its horizon counts."""
    O, W, R = hand_state()
    W[L.W_N_OFFERS] = 2  # offers 0 and 1, both over before 6 years
    finalise(O, W, R, 6)  # cohort year 1 is followed 5 years now: 3-year counts complete, 5-year censored
    assert R[ROW["cohort_offers_industrialised_3y"], 1] == 1.0
    assert R[ROW["cohort_offers_industrialised_5y"], 1] == 0.0
    assert R[ROW["cohort_offers_industrialised_horizon"], 1] == 1.0
    assert R[ROW["cohort_contracts_industrialised_5y"], 1] == 0.0
    assert R[ROW["cohort_followup_years"], 1] == 5.0
    assert R[ROW["cohort_followup_years"], 0] == 6.0
    assert R[ROW["cohort_offers_industrialised_5y"], 0] == 0.0  # offer 0 never met: nothing to censor


@pytest.mark.parametrize("k", L.COHORT_K)
def test_k_year_rows_zero_exactly_when_followup_is_short(k: int) -> None:
    O, W, R = hand_state()
    finalise(O, W, R, N_YEARS)
    short = R[ROW["cohort_followup_years"]] < k + 1
    for s in L.COHORT_OFFER_STAGES:
        assert not R[ROW[f"cohort_offers_{s}_{k}y"], short].any()


def hand_records(cohort: dict[int, tuple[float, float]], followup_end: float) -> pd.DataFrame:
    """Records of two replications over 2023–2025: per year, results offered into the cohort and those of them
    industrialised within 5 years (replication 1 has twice replication 0's cohort, same successes)."""
    rows = []
    for rep in (0, 1):
        for year, (size, ind) in cohort.items():
            r = dict.fromkeys(L.RECORD_ROWS, 0.0)
            r.update({"rep": rep, "year": year, "cohort_offers": size * (1 + rep),
                      "cohort_offers_industrialised_5y": ind, "cohort_offers_industrialised_horizon": ind,
                      "cohort_offers_time_to_production_years": 2.0 * ind,
                      "cohort_followup_years": followup_end + 2025 - year})
            rows.append(r)
    return pd.DataFrame(rows)


def test_cohort_share_pools_the_window_cohorts_per_replication() -> None:
    rec = hand_records({2023: (10, 1), 2024: (20, 2), 2025: (10, 2)}, followup_end=6)
    k = kpis(rec, 2023, 2025)
    # replication 0: (1 + 2 + 2) / (10 + 20 + 10), not the mean of the yearly shares (0.1 + 0.1 + 0.2) / 3
    assert k["cohort_industrialised_5y"].tolist() == pytest.approx([5 / 40, 5 / 80])
    assert k["cohort_industrialised_horizon"].tolist() == pytest.approx([5 / 40, 5 / 80])
    assert k["cohort_time_to_production"].tolist() == pytest.approx([2.0, 2.0])
    # a window's first years alone: its last cohort (2024) is followed 7 years
    assert kpis(rec, 2023, 2024)["cohort_industrialised_5y"].tolist() == pytest.approx([3 / 30, 3 / 60])


def test_cohort_share_censored_when_the_last_cohort_is_followed_too_little() -> None:
    rec = hand_records({2023: (10, 1), 2024: (20, 3), 2025: (10, 2)}, followup_end=5)  # 2025 followed 5 years
    k = kpis(rec, 2023, 2025)
    assert k["cohort_industrialised_5y"].isna().all()
    assert k["cohort_industrialised_horizon"].notna().all()  # by the horizon is never censored, only unequal
    assert kpis(rec, 2023, 2024)["cohort_industrialised_5y"].notna().all()  # 2024 is followed 6 years


def test_cohort_share_paired_between_scenarios() -> None:
    """Δ = the mean over replications of (scenario's share − baseline's share), the t interval around it."""
    base = kpis(hand_records({2023: (10, 1), 2024: (20, 3)}, followup_end=6), 2023, 2024)
    arm = kpis(hand_records({2023: (10, 2), 2024: (20, 5)}, followup_end=6), 2023, 2024)
    st = paired(base["cohort_industrialised_5y"].to_numpy(), arm["cohort_industrialised_5y"].to_numpy(),
                higher_is_better("cohort_industrialised_5y"))
    d = np.array([7 / 30 - 4 / 30, 7 / 60 - 4 / 60])
    assert st["diff"] == pytest.approx(d.mean())
    half = 12.706204736174707 * d.std(ddof=1) / np.sqrt(2)  # t(0.975, 1 degree of freedom)
    assert (st["lo"], st["hi"]) == pytest.approx((d.mean() - half, d.mean() + half))
    assert st["n"] == 2 and not higher_is_better("cohort_time_to_production")
    censored = kpis(hand_records({2023: (10, 1), 2024: (20, 3)}, followup_end=4), 2023, 2024)
    none = paired(censored["cohort_industrialised_5y"].to_numpy(), arm["cohort_industrialised_5y"].to_numpy(), True)
    assert none["n"] == 0 and np.isnan(none["diff"])  # no verdict on a censored share, never a 0


@pytest.mark.parametrize("name", ["baseline", "firm_turnover"])
def test_cohorts_of_a_run_account_for_every_flow(name: str, baseline) -> None:
    """Over a whole run, the cohorts hold every offer, contract and industrialisation the flow rows count once:
    a result enters its offer cohort at arrival and its contract cohort at signing, whatever the years between."""
    from sim.engines.fast import run_fast
    from sim.table import build_table
    from tests.conftest import variant
    from tests.test_engine_agreement import SCENARIOS

    params, levers = SCENARIOS[name]
    rec, _ = run_fast(build_table(variant(baseline, params=params, levers=levers)), 5, range(4))
    total = rec.sum(axis=2)
    for flow, cohort in (("offers", "cohort_offers"), ("contracts", "cohort_contracts"),
                         ("meetings", "cohort_offers_met_horizon"), ("contracts", "cohort_offers_contracted_horizon"),
                         ("financed", "cohort_offers_financed_horizon"),
                         ("industrialised", "cohort_offers_industrialised_horizon"),
                         ("industrialised", "cohort_contracts_industrialised_horizon"),
                         ("time_to_production_years", "cohort_offers_time_to_production_years")):
        assert total[:, ROW[flow]] == pytest.approx(total[:, ROW[cohort]]), (flow, cohort)
    # passing the pilot stage: tests passed, and mature results that went on to finance (at most the contracts)
    assert (total[:, ROW["cohort_offers_piloted_horizon"]] >= total[:, ROW["pilots_succeeded"]]).all()
    for c in ("offers", "contracts"):
        stages = L.COHORT_OFFER_STAGES if c == "offers" else L.COHORT_CONTRACT_STAGES
        for a, b in itertools.pairwise(stages):
            for w in ("3y", "5y", "horizon"):
                assert (rec[:, ROW[f"cohort_{c}_{a}_{w}"]] >= rec[:, ROW[f"cohort_{c}_{b}_{w}"]]).all()
        full = rec[0, ROW["cohort_followup_years"]] >= 6  # cohort years followed 5 years: none censored
        assert full.any()
        assert (rec[:, ROW[f"cohort_{c}_industrialised_3y"]][:, full]
                <= rec[:, ROW[f"cohort_{c}_industrialised_5y"]][:, full]).all()
        assert (rec[:, ROW[f"cohort_{c}_industrialised_5y"]] <= rec[:, ROW[f"cohort_{c}_industrialised_horizon"]]).all()


def test_compare_follows_the_cohorts_without_changing_the_window() -> None:
    """With follow-up the 5-year cohort share exists and is ranked; without it, it is censored (NaN, no rank);
    every other KPI of the window is the same bit for bit, and 转化 and 产业化 each carry their own rank."""
    from sim.analysis.compare import compare
    from sim.analysis.terminal import ranking_text
    from sim.scenario import load_scenario

    here = Path(__file__).resolve().parents[1] / "scenarios"
    base = load_scenario(here / "baseline.toml")
    arms = [load_scenario(here / f) for f in ("g4_intermediaries.toml", "g5_finance.toml")]
    with_fu = compare(base, arms, reps=4, seed=1, engine="fast")
    without = compare(base, arms, reps=4, seed=1, engine="fast", follow_up=0)
    for a, b in zip([with_fu.baseline, *with_fu.arms], [without.baseline, *without.arms], strict=True):
        fa, fb = a.frame(), b.frame()
        assert fa["cohort_industrialised_5y"].notna().all() and fb["cohort_industrialised_5y"].isna().all()
        for k in fa.columns:
            if not k.startswith("cohort_"):
                assert np.array_equal(fa[k].to_numpy(), fb[k].to_numpy(), equal_nan=True), k
    assert set(with_fu.rankings) == {"introduced_converted", "industrialised", "cohort_industrialised_5y"}
    assert "cohort_industrialised_5y" not in without.rankings
    assert "cohort rates censored" in ranking_text(without) and "censored" not in ranking_text(with_fu)
    conv = with_fu.rankings["introduced_converted"].set_index("scenario")["rank"]
    d = with_fu.summary[with_fu.summary.kpi == "introduced_converted"].set_index("scenario")["diff"]
    assert list(conv.sort_values().index) == list(d.sort_values(ascending=False).index)
