"""Oracle tests of the analysis (sim/analysis/): KPI formulas, paired statistics, ranking, the precision loop,
fiscal cost and the report's figures, on small hand-made records.

MODEL.md 2 ("Observation") defines the KPIs as sums over a window of years per
replication and the conversion rates as ratios of flows in the window; 3.7
defines the paired comparison (95 % t-intervals, P(better) = Φ(mean/se),
fiscal cost = lever costs + the change in money paid) and README says a
difference is a gain only when its whole interval is above zero, that
neighbours whose paired difference crosses zero are indistinguishable, and that
``--precision H`` adds replications until *every* headline half-width is below H.
The expected values here are computed by hand or from textbook formulas.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim.analysis.compare as cmp
import sim.experiment as experiment
from sim.analysis import report
from sim.analysis.compare import HEADLINE, Arm, Comparison, paired, pairwise
from sim.analysis.kpi import kpis, summarise
from sim.scenario import Scenario, scenario_from_dict
from tests.conftest import lever, variant
from tests.oracle import FakeRuns, frame, half_width, noise

T975 = {3: 3.182446305284263, 29: 2.045229642132703}  # Student t quantiles from tables


# ---- KPIs (sim/analysis/kpi.py) ----------------------------------------------------------------


def test_kpis_are_window_sums_and_ratios_of_flows() -> None:
    cells = {
        (0, 2022): {"contracts": 999, "industrialised": 999, "offers": 999, "hightech_stock": 999},
        (0, 2023): {"offers": 100, "meetings": 30, "contracts": 10, "other_contracts": 50, "subsidised": 3,
                    "pilots_inhouse": 1, "pilots_public": 2, "industrialised": 2, "awards": 1,
                    "time_to_production_years": 6.0, "yuan_subsidy_city": 1e6, "yuan_subsidy_county": 2e5,
                    "yuan_awards": 5e5, "yuan_hightech_rewards": 88_000, "yuan_pilot_cost": 3e6,
                    "yuan_loans": 2e6, "yuan_firm_rd": 9e6, "hightech_stock": 100, "broker_busy_years": 6,
                    "broker_capacity_years": 8, "pilot_busy_years": 3, "pilot_capacity_years": 3,
                    "wait_pilot_years": 2, "served_pilot_public": 4},
        (0, 2024): {"offers": 60, "meetings": 20, "contracts": 6, "other_contracts": 40, "subsidised": 1,
                    "pilots_outside": 1, "pilots_inhouse": 1, "industrialised": 2, "awards": 2,
                    "time_to_production_years": 10.0, "yuan_subsidy_city": 5e5, "yuan_subsidy_county": 1e5,
                    "yuan_awards": 1e6, "hightech_stock": 120, "broker_busy_years": 7, "broker_capacity_years": 8,
                    "pilot_busy_years": 3, "pilot_capacity_years": 3, "wait_pilot_years": 4,
                    "served_pilot_public": 4, "firms_tech_sme": 210, "firms_above_size": 700, "end_firm_exit": 3},
        (0, 2025): {"contracts": 999, "industrialised": 999, "firms_tech_sme": 999, "end_firm_exit": 999},
        (1, 2023): {"offers": 10, "hightech_stock": 7, "wait_pilot_years": 0.5, "time_to_production_years": 2.0},
        (1, 2024): {"offers": 5, "hightech_stock": 8},
    }
    k = kpis(frame(cells, [0, 1]), 2023, 2024)
    r0 = k.loc[0]
    assert (r0["offers"], r0["meetings"], r0["contracts"], r0["all_contracts"]) == (160, 50, 16, 106)
    assert (r0["subsidised"], r0["pilots"], r0["pilots_public"], r0["industrialised"], r0["awards"]) == (4, 5, 2, 4, 3)
    assert r0["rate_contract"] == pytest.approx(16 / 160)
    assert r0["rate_industrialised"] == pytest.approx(4 / 16)  # industrialised / contracted
    assert r0["rate_overall"] == pytest.approx(4 / 160)
    assert r0["time_to_production"] == pytest.approx(16 / 4)
    assert r0["yuan_subsidy_city"] == pytest.approx(1.5) and r0["yuan_subsidy_county"] == pytest.approx(0.3)
    assert r0["yuan_fund_use"] == pytest.approx(1.5 + 1.5 + 0.088)  # the city fund: subsidy, awards, rewards
    assert (r0["yuan_pilot_cost"], r0["yuan_loans"], r0["yuan_firm_rd"]) == pytest.approx((3.0, 2.0, 9.0))
    assert r0["hightech_stock"] == 120  # the stock at the end of the window, not a sum
    assert r0["broker_utilisation"] == pytest.approx(13 / 16) and r0["pilot_utilisation"] == pytest.approx(1.0)
    assert r0["wait_pilot"] == pytest.approx(6 / 8)
    # firm stocks at the window's end, projects lost to firms' exits summed over it
    assert (r0["tech_sme_stock"], r0["above_size_stock"], r0["projects_lost_to_exit"]) == (210, 700, 3)
    r1 = k.loc[1]
    assert r1["offers"] == 15 and r1["hightech_stock"] == 8
    for undefined in ("rate_industrialised", "time_to_production", "broker_utilisation", "wait_pilot"):
        assert math.isnan(r1[undefined]), undefined  # nothing to divide by: undefined, not zero
    assert r1["rate_contract"] == 0


def test_summarise_gives_mean_and_central_interval_over_replications() -> None:
    k = pd.DataFrame({"industrialised": [1.0, 2.0, 3.0, 4.0, 100.0], "rate_overall": [0.1, np.nan, 0.3, np.nan,
                                                                                       0.2]})
    s = summarise(k, level=0.5)
    assert s.loc["industrialised", "mean"] == 22.0 and s.loc["industrialised", "n"] == 5
    assert s.loc["industrialised", "lo"] == 2.0 and s.loc["industrialised", "hi"] == 4.0
    assert s.loc["rate_overall", "mean"] == pytest.approx(0.2) and s.loc["rate_overall", "n"] == 3
    assert s.loc["industrialised", "unit"] == "projects"


# ---- paired statistics (sim/analysis/compare.py) -----------------------------------------------


def test_paired_statistics_by_hand() -> None:
    """d = b − a = (1, 2, 0, 3): mean 1.5, sd √(5/3), se sd/2, 95 % t-interval with 3 degrees of freedom."""
    a, b = np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 4.0, 3.0, 7.0])
    se = math.sqrt(5 / 3) / 2
    st = paired(a, b, True)
    assert st["diff"] == pytest.approx(1.5) and st["base_mean"] == 2.5 and st["mean"] == 4.0
    assert st["half_width"] == pytest.approx(T975[3] * se, rel=1e-9)
    assert st["lo"] == pytest.approx(1.5 - T975[3] * se) and st["hi"] == pytest.approx(1.5 + T975[3] * se)
    # P(better) from the same Student t as the interval (3 degrees of freedom), so gain ⇔ P(better) > 0.975
    assert st["p_beat"] == pytest.approx(stats.t.cdf(1.5 / se, 3), rel=1e-9)
    assert st["share_better"] == 0.75 and st["n"] == 4
    assert st["unpaired_half_width"] == pytest.approx(T975[3] * math.sqrt((5 / 3 + 14 / 3) / 4), rel=1e-9)
    assert not st["gain"] and not st["loss"]  # the interval crosses zero
    low = paired(a, b, False)  # lower is better: the same difference is bad news
    assert low["p_beat"] == pytest.approx(stats.t.cdf(-1.5 / se, 3), rel=1e-9) and low["share_better"] == 0.0
    assert not low["gain"] and not low["loss"]


def test_a_gain_needs_the_whole_interval_on_the_good_side() -> None:
    a = np.arange(10.0)
    b = a + np.array([3.0, 3.5, 2.5, 3.0, 3.2, 2.8, 3.0, 3.1, 2.9, 3.0])
    up, down = paired(a, b, True), paired(a, b, False)
    assert up["lo"] > 0 and up["gain"] and not up["loss"]
    assert down["loss"] and not down["gain"]  # more of a lower-is-better KPI: a significant loss
    worse = paired(b, a, True)
    assert worse["hi"] < 0 and worse["loss"] and not worse["gain"]


def test_constant_differences_and_missing_values() -> None:
    # a difference that never varied has no interval and gets no verdict (a zero-width interval is no evidence)
    st = paired(np.ones(3), np.full(3, 3.0), True)
    assert st["diff"] == 2 and np.isnan(st["lo"]) and np.isnan(st["hi"]) and st["half_width"] == 0
    assert not st["gain"] and not st["loss"] and np.isnan(st["p_beat"])
    same = paired(np.ones(3), np.ones(3), True)
    assert np.isnan(same["p_beat"]) and not same["gain"] and not same["loss"]
    # a replication where either side is undefined (a rate over zero contracts) is left out of the pair
    st = paired(np.array([1.0, np.nan, 3.0, 5.0]), np.array([2.0, 5.0, np.nan, 7.0]), True)
    assert st["n"] == 2 and st["diff"] == pytest.approx(1.5)


def _scenario(sid: str) -> Scenario:
    return scenario_from_dict({"scenario": {"id": sid, "name_en": sid, "name_zh": sid}})


def _arm(sid: str, values: np.ndarray, **more: np.ndarray) -> Arm:
    arm = Arm(_scenario(sid), None, sid, 0.0)  # type: ignore[arg-type]  # no table: hand-made KPIs
    arm.kpis.append(pd.DataFrame({HEADLINE: values, **more}))
    return arm


def test_ranking_groups_neighbours_whose_paired_difference_crosses_zero() -> None:
    """Ranked by mean paired gain; a scenario is tied with the one above when the paired difference of the two
    is not a significant gain. Hand-made: A ≈ B (difference ±1 around 0.1), B ≫ C, C > D."""
    n = 30
    base = 20.0 + (np.arange(n) % 5)
    wiggle = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    arms = [_arm("c", base + 2.0 + 0.1 * wiggle), _arm("a", base + 10.0 + 0.05 * wiggle), _arm("d", base.copy()),
            _arm("b", base + 9.9 + wiggle)]
    r = cmp._ranking(_arm("base", base), arms).set_index("scenario")
    assert list(r.sort_values("rank").index) == ["a", "b", "c", "d"]
    assert list(r.loc[["a", "b", "c", "d"], "group"]) == [1, 1, 2, 3]
    assert list(r.loc[["a", "b", "c", "d"], "tied_with_previous"]) == [False, True, False, False]
    assert r.loc["d", "diff"] == 0 and not r.loc["d", "gain"] and r.loc["a", "gain"]
    half = T975[29] * np.std(0.1 * wiggle + 2.0, ddof=1) / math.sqrt(n)
    assert r.loc["c", "lo"] == pytest.approx(2.0 - half) and r.loc["c", "hi"] == pytest.approx(2.0 + half)


def test_pairwise_is_the_t_probability_of_the_paired_mean_over_its_standard_error() -> None:
    n = 8
    base = np.arange(n, dtype=float)
    x = base + np.array([1.0, 2.0, 0.0, 1.0, 3.0, 1.0, 0.0, 2.0])
    y = base + np.array([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1.5])
    c = Comparison(_arm("base", base), [_arm("x", x), _arm("y", y)], (2023, 2027), n, 0, "fast",
                   pd.DataFrame(), pd.DataFrame())
    pw = pairwise(c)
    d = x - y
    want = stats.t.cdf(d.mean() / (d.std(ddof=1) / math.sqrt(n)), n - 1)
    assert pw.loc["x", "y"] == pytest.approx(want, rel=1e-9) and pw.loc["y", "x"] == pytest.approx(1 - want)
    assert pw.loc["x", "base"] == pytest.approx(stats.t.cdf((x - base).mean() / ((x - base).std(ddof=1)
                                                                                  / math.sqrt(n)), n - 1))
    assert math.isnan(pw.loc["x", "x"])


# ---- compare(): fiscal cost, cost per extra, the precision loop (with hand-made records) -------


def _arms(baseline: Scenario, ks: list[int], cost: float = 0.0, start: int = 2023) -> list[tuple[Scenario, str]]:
    out = []
    for k in ks:
        sc = variant(baseline, levers=[lever("meeting.brokers", "add", float(k), start=start, cost=cost)])
        sc.scenario.id = f"k{k}"
        sc.scenario.name_zh = f"方案{k}"
        out.append((sc, f"k{k}.toml"))
    return out


def test_fiscal_cost_is_lever_costs_from_their_start_plus_the_change_in_every_payout(
        baseline: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    """MODEL.md 3.7: fiscal cost = declared lever costs + the change in money paid (city subsidy, county top-up,
    awards, high-tech rewards). A lever costing 1 M a year from 2025 costs 3 M over 2023–2027."""
    fake = FakeRuns({0: 0.0, 2: 0.5})
    monkeypatch.setattr(experiment, "_records", fake)
    c = cmp.compare(baseline, _arms(baseline, [2], cost=1e6, start=2025), reps=12, seed=0)
    s = c.summary.set_index(["scenario", "kpi"])
    extra_payouts = 2 * (0.1 + 0.2 + 0.5 + 0.088)  # M yuan: city, county, awards, rewards
    assert s.loc[("k2", "fiscal_cost"), "diff"] == pytest.approx(3.0 + extra_payouts)
    assert s.loc[("k2", HEADLINE), "gain"]
    assert s.loc[("k2", HEADLINE), "cost_per_extra_industrialisation_myuan"] == pytest.approx(
        (3.0 + extra_payouts) / s.loc[("k2", HEADLINE), "diff"])
    assert s.loc[("k2", "rate_industrialised"), "base_mean"] == pytest.approx(np.mean([(10 + r % 5) / 40
                                                                                      for r in range(12)]))
    assert sorted(fake.calls[2]) == list(range(12)) and sorted(fake.calls[0]) == list(range(12))
    assert set(c.summary["name_zh"]) == {"方案2"}


def test_the_report_files_carry_the_comparison(baseline: Scenario, monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    """details.csv: every scenario × compared KPI with its rank, replications, seed and window; summary.csv one
    row per scenario in rank order; ranking.csv and pairwise.csv beside it; the page names every scenario."""
    monkeypatch.setattr(experiment, "_records", FakeRuns({0: 0.0, 1: 0.5, 2: 0.5}))
    c = cmp.compare(baseline, _arms(baseline, [1, 2]), reps=6, seed=4)
    out = report.write_report(c, tmp_path / "r", "zh")
    wide = pd.read_csv(out / "summary.csv")
    assert list(wide["scenario"]) == ["k2", "k1"] and list(wide["rank"]) == [1, 2] and (wide["reps"] == 6).all()
    s = pd.read_csv(out / "details.csv")
    assert len(s) == 2 * len(cmp.SUMMARISED) and set(s["kpi"]) == set(cmp.SUMMARISED)
    assert (s["reps"] == 6).all() and (s["seed"] == 4).all() and (s["window"] == "2023-2027").all()
    ranks = s[s.kpi == HEADLINE].set_index("scenario")["rank"]
    assert dict(ranks) == {"k2": 1, "k1": 2}
    assert list(pd.read_csv(out / "ranking.csv")["scenario"]) == ["k2", "k1"]
    pw = pd.read_csv(out / "pairwise.csv", index_col="scenario")
    assert list(pw.index) == ["baseline", "k1", "k2"] and pw.loc["k2", "k1"] > 0.5
    page = (out / "report.html").read_text(encoding="utf-8")
    assert all(x in page for x in ("方案1", "方案2", '<html lang="zh">'))  # names (not ids) on the page


def test_no_cost_per_extra_without_a_significant_gain(baseline: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(experiment, "_records", FakeRuns({0: 0.0, 1: 20.0}))
    c = cmp.compare(baseline, _arms(baseline, [1], cost=1e6), reps=10, seed=0)
    row = c.summary[(c.summary.kpi == HEADLINE)].iloc[0]
    assert not row["gain"] and math.isnan(row["cost_per_extra_industrialisation_myuan"])
    assert c.summary[c.summary.kpi == "fiscal_cost"].iloc[0]["diff"] == pytest.approx(5.0 + 0.1 + 0.2 + 0.5 + 0.088)


def test_precision_adds_batches_until_every_headline_half_width_is_below_the_target(
        baseline: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first batch meets the target for one scenario but not for the other: the loop must go on until both
    meet it, on consecutive replication numbers shared by every arm."""
    fake = FakeRuns({0: 0.0, 1: 0.3, 2: 3.0})
    monkeypatch.setattr(experiment, "_records", fake)
    first = np.array([3.0 * noise(r) for r in range(20)])
    assert half_width(first) > 0.8 > half_width(0.3 * first)  # what the test is about: one batch is not enough
    c = cmp.compare(baseline, _arms(baseline, [1, 2]), precision=0.8, seed=0, batch=20)
    assert c.reps > 20
    heads = c.summary[c.summary.kpi == HEADLINE].set_index("scenario")
    assert (heads["half_width"] <= 0.8).all() and (heads["n"] == c.reps).all()
    assert half_width(np.array([3.0 * noise(r) for r in range(c.reps)])) == pytest.approx(heads.loc["k2", "half_width"])
    for k in (0, 1, 2):
        assert sorted(fake.calls[k]) == list(range(c.reps)), k  # every arm, every replication once


def test_precision_stops_at_max_reps(baseline: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(experiment, "_records", FakeRuns({0: 0.0, 2: 3.0}))
    c = cmp.compare(baseline, _arms(baseline, [2]), precision=0.01, seed=0, batch=20, max_reps=50)
    assert c.reps == 50
    assert c.summary[c.summary.kpi == HEADLINE].iloc[0]["half_width"] > 0.01

# The report's figures (what they show, in which language) are checked in tests/test_report.py.
