"""What to measure next, which orderings survive, and how the calibration scores and proposes: known answers.

What is specified (sim/analysis/uncertainty.py, sim/analysis/worlds.py, sim/calibration/model.py and kernel.py):

- value of information: across worlds, each uncertain input that varied is set against the leading scenario's
  margin over the runner-up, in the KPI's good direction (Spearman's rank correlation) and, with more worlds than
  inputs + 2, the standardised regression coefficients of the margin on every input at once;
- over worlds, ``world_p05`` / ``world_p95`` are the 5 % and 95 % points of a scenario's differences (linear
  interpolation), ``p_gain`` the share of worlds whose paired interval shows a gain (not merely a positive mean),
  and P(row beats column) a strict comparison (a tie is not a win);
- an ordering *survives* when P(it beats the next) is at least 0.95; the last scenario is set against the baseline;
- a world's lever draws are the quantiles ``world_inputs`` reports: effect through its triangular range;
- a target's distance is its distance from its band's centre in half-widths; a floor scores 0 at or above it and
  1 + the shortfall in tenths of it below; a band that reaches a cap is mirrored about the cap;
- the proposal is a normal on the logit scale with the weighted mean and ``scale`` × the weighted covariance of
  the last generation; its density includes the Jacobian of the logit map.

Every expected number is worked out here by hand (or from a textbook formula), never read from the code tested.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.analysis.uncertainty import (
    PLACEBOS,
    SURVIVES,
    named_inputs,
    noise_floor,
    over_worlds,
    survives,
    value_of_information,
    world_plan,
)
from sim.analysis.worlds import draw_worlds, lever_in_world, triangular, world_inputs
from sim.calibration.model import band_distances, centres, distance, particle_seed, scoring_bands, split_key, target_key
from sim.experiment import RecordArrays
from sim.layout import RECORD_ROWS
from sim.scenario import Lever, Scenario, with_horizon
from tests.conftest import lever, variant

# ---- value of information on a planted dependence ------------------------------------------------------------

# Eight worlds; two inputs, centred and uncorrelated: x1 = 1 … 8, x2 = ±1 (their products sum to 0).
X1 = np.arange(1.0, 9.0)
X2 = np.array([1.0, -1.0, -1.0, 1.0, 1.0, -1.0, -1.0, 1.0])


def _planted(sign: float) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The leader's margin over the runner-up, in the good direction, is 2·x1 − 0.5·x2 + 10 in every world."""
    margin = 2.0 * X1 - 0.5 * X2 + 10.0
    rows = []
    for w in range(8):
        rows += [{"world": w, "scenario": "lead", "diff": sign * (margin[w] + 1.0)},
                 {"world": w, "scenario": "next", "diff": sign * 1.0}]
    inputs = pd.DataFrame({"effect:x1": X1, "parameter.x2": X2, "cost:fixed": 0.3},
                          index=pd.Index(range(8), name="world"))
    return pd.DataFrame(rows), inputs, pd.DataFrame(index=["lead", "next"])


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_value_of_information_recovers_a_planted_dependence(sign: float) -> None:
    pw, inputs, summary = _planted(sign)
    v = value_of_information(pw, inputs, summary, sign).set_index("input")
    # the margin rises with x1 in every world (2 per step against at most ±0.5): rank correlation 1
    assert v.loc["effect:x1", "rho_margin"] == pytest.approx(1.0)
    # x2's ranks (2.5 for −1, 6.5 for +1) against the margin's ranks 1 … 8: Σ (±2)(rank − 4.5) = 0 → 0
    assert v.loc["parameter.x2", "rho_margin"] == pytest.approx(0.0, abs=1e-12)
    # standardised coefficients of an exact fit on uncorrelated inputs: b·sd(x)/sd(margin), with
    # var(x1) = 5.25, var(x2) = 1, var(margin) = 4 · 5.25 + 0.25 · 1 = 21.25
    assert v.loc["effect:x1", "src_margin"] == pytest.approx(2.0 * math.sqrt(5.25) / math.sqrt(21.25))
    assert v.loc["parameter.x2", "src_margin"] == pytest.approx(-0.5 / math.sqrt(21.25))
    real = v[v["kind"] != "placebo"]
    assert list(real.index) == ["effect:x1", "parameter.x2"]  # largest |ρ| first; the constant cost said nothing
    assert dict(real["kind"]) == {"effect:x1": "effect", "parameter.x2": "parameter"}
    # the placebos: the two inputs, each permuted over the worlds
    assert sorted(v.index[v["kind"] == "placebo"]) == ["placebo:effect:x1", "placebo:parameter.x2"]


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_the_leaders_gain_counts_in_the_kpis_good_direction(sign: float) -> None:
    pw, inputs, summary = _planted(sign)
    # the leader's gain in the good direction is margin + 1 = 2·x1 − 0.5·x2 + 11: it rises with x1 in every world
    v = value_of_information(pw, inputs, summary, sign).set_index("input")
    assert v.loc["effect:x1", "rho_leader_gain"] == pytest.approx(1.0)


def test_value_of_information_reads_the_leaders_margin_over_the_runner_up_not_over_the_last() -> None:
    pw, inputs, _ = _planted(1.0)
    # a third scenario whose difference falls with x1: the margin is over the runner-up ("next"), not over it
    third = pd.DataFrame({"world": range(8), "scenario": "third", "diff": -X1})
    v = value_of_information(pd.concat([pw, third]), inputs, pd.DataFrame(index=["lead", "next", "third"]), 1.0)
    assert (v.attrs["leader"], v.attrs["runner_up"]) == ("lead", "next")
    assert v.set_index("input").loc["effect:x1", "src_margin"] == pytest.approx(2.0 * math.sqrt(5.25 / 21.25))


def test_with_too_few_worlds_there_are_no_regression_coefficients() -> None:
    pw, inputs, summary = _planted(1.0)
    few = pw[pw["world"] < 4]
    # 4 worlds, 2 inputs that varied: 4 > 2 + 2 fails
    v = value_of_information(few, inputs, summary, 1.0)
    assert v["src_margin"].isna().all() and v.set_index("input").loc["effect:x1", "rho_margin"] == pytest.approx(1.0)


def test_world_inputs_report_the_quantiles_the_levers_are_drawn_at() -> None:
    lv = variant_lever()
    worlds = draw_worlds(5, 11, None)
    table = world_inputs(worlds, [lv.id])
    effect, cost = table[f"effect:{lv.id}"].to_dict(), table[f"cost:{lv.id}"].to_dict()
    for w in worlds:
        qe, qc = float(effect[w.index]), float(cost[w.index])
        drawn = lever_in_world(lv, w)
        # effect range 1–5 with the mode at 2, cost range 1–3 M with the mode at 1.5 M
        assert drawn.value == pytest.approx(triangular(qe, 1.0, 2.0, 5.0))
        assert drawn.yearly_cost_yuan == pytest.approx(triangular(qc, 1e6, 1.5e6, 3e6))


def variant_lever() -> Lever:
    return Lever.model_validate({**lever("meeting.brokers", "add", 2.0, cost=1.5e6, lid="brokers"),
                                 "effect_low": 1.0, "effect_high": 5.0, "cost_low": 1e6, "cost_high": 3e6})


def test_world_plans_charge_the_short_window_and_levers_from_their_start(baseline: Scenario) -> None:
    base = with_horizon(baseline, 2032)
    sc = variant(base, levers=[lever("meeting.brokers", "add", 2.0, start=2025, cost=1e6, lid="late")])
    plan = world_plan(base, [sc], draw_worlds(2, 0, None), reps=3, seed=0)
    assert [r.key for r in plan.runs] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert plan.window == (2023, 2027)  # the comparison's main window
    assert all(r.reps == range(3) for r in plan.runs)
    # the reduction (where each run runs) charges its levers over the window: 2025–27 at 1 M; no payouts here
    zero = RecordArrays(np.array([0]), np.arange(2018, 2033), np.zeros((1, len(RECORD_ROWS), 15))).frame()
    assert plan.reduce is not None
    cost = [plan.reduce(r, zero, plan.window)["fiscal_cost"].iloc[0] for r in plan.runs]
    assert cost == pytest.approx([0.0, 3.0, 0.0, 3.0])


# ---- statistics over worlds -------------------------------------------------------------------------------------

def test_the_spread_over_worlds_is_the_interpolated_5_and_95_percent_points() -> None:
    # 21 worlds: A's differences are 0 … 20, so its 5 % and 95 % points are 1 and 19; A gains (interval above
    # zero) only in the 5 worlds with a difference above 15, though its mean difference is positive in 20
    rows = [{"world": w, "scenario": "A", "diff": float(w), "gain": w > 15} for w in range(21)]
    rows += [{"world": w, "scenario": "B", "diff": 100.0 - w, "gain": True} for w in range(21)]
    _, s, pair = over_worlds(pd.DataFrame(rows), "base", ["A", "B"], better=True)
    assert s.loc["A", "world_p05"] == pytest.approx(1.0) and s.loc["A", "world_p95"] == pytest.approx(19.0)
    assert s.loc["B", "world_p05"] == pytest.approx(81.0) and s.loc["B", "world_p95"] == pytest.approx(99.0)
    assert s.loc["A", "p_gain"] == pytest.approx(5 / 21) and s.loc["B", "p_gain"] == 1.0
    assert s.loc["A", "worlds"] == 21
    # A's difference is 0 in world 0: it does not beat the baseline there (a tie is not a win)
    assert pair.loc["A", "base"] == pytest.approx(20 / 21) and pair.loc["base", "A"] == 0.0


def test_a_scenario_survives_when_it_beats_the_next_in_at_least_95_percent_of_worlds() -> None:
    summary = pd.DataFrame(index=["b", "a", "c"])  # the worlds' ranking, best first
    ids = ["base", "b", "a", "c"]
    pair = pd.DataFrame(np.nan, index=ids, columns=ids)
    pair.loc["b", "a"], pair.loc["a", "c"], pair.loc["c", "base"] = SURVIVES, 0.9, 0.97
    pair.loc["b", "c"], pair.loc["a", "base"], pair.loc["b", "base"] = 0.1, 0.2, 0.3  # not the next: ignored
    sv = survives(summary, pair).set_index("scenario")
    assert SURVIVES == 0.95
    assert sv.loc["b", "next"] == "a" and sv.loc["b", "survives"]  # exactly 0.95 survives
    assert sv.loc["a", "next"] == "c" and not sv.loc["a", "survives"]
    assert sv.loc["c", "next"] == "base" and sv.loc["c", "p_beats_next"] == pytest.approx(0.97)
    assert sv.loc["c", "survives"]


# ---- the calibration's scoring ------------------------------------------------------------------------------------

def test_band_distances_in_half_widths_and_floors_by_their_shortfall() -> None:
    bands = {"contracts": (10.0, 20.0), "fund": (200.0, math.inf)}
    # 18 is 3 from the centre 15, half-width 5: 0.6; 25 is 10 away: 2
    assert band_distances({"contracts": 18.0, "fund": 250.0}, bands) == pytest.approx({"contracts": 0.6, "fund": 0.0})
    assert band_distances({"contracts": 25.0, "fund": 200.0}, bands) == pytest.approx({"contracts": 2.0, "fund": 0.0})
    # 160 is 40 below the floor 200, two tenths of it: 1 + 2 = 3
    d = band_distances({"contracts": 10.0, "fund": 160.0}, bands)
    assert d == pytest.approx({"contracts": 1.0, "fund": 3.0})
    assert distance({"contracts": 10.0, "fund": 160.0}, bands) == pytest.approx(3.0)
    assert band_distances({"fund": 199.0}, {"fund": bands["fund"]})["fund"] == pytest.approx(1.05)  # just below
    assert distance({"contracts": 14.0, "fund": 300.0}, bands) == pytest.approx(0.2)
    assert band_distances({"contracts": math.nan, "fund": 300.0}, bands)["contracts"] == math.inf
    assert centres(bands) == {"contracts": 15.0, "fund": 200.0}


def test_a_band_reaching_a_cap_is_scored_from_the_cap_down() -> None:
    bands = {"awards": (24.0, 25.0), "wide": (20.0, 30.0), "below": (10.0, 12.0), "at_low": (25.0, 27.0)}
    caps = {"awards": 25.0, "wide": 22.0, "below": 30.0, "at_low": 25.0}
    out = scoring_bands(bands, caps)
    assert out["awards"] == (24.0, 26.0)  # a cap at the band's top: centre 25 (the cap), half-width 1
    assert out["wide"] == (20.0, 24.0)  # a cap inside the band
    assert out["below"] == (10.0, 12.0) and out["at_low"] == (25.0, 27.0)  # a cap above, or at the low end
    assert band_distances({"awards": 25.0}, {"awards": out["awards"]}) == {"awards": 0.0}
    assert band_distances({"awards": 24.0}, {"awards": out["awards"]}) == {"awards": 1.0}


def test_target_keys_and_particle_seeds() -> None:
    assert target_key("contracts", 2018, 2022) == "contracts"
    assert target_key("hightech_applications", 2022, 2022) == "hightech_applications@2022-2022"
    assert split_key("hightech_applications@2020-2022") == ("hightech_applications", 2020, 2022)
    assert split_key("contracts") == ("contracts", 2018, 2022)
    a = particle_seed(3, {"x.a": 1.0, "x.b": 2.0})
    assert a == particle_seed(3, {"x.b": 2.0, "x.a": 1.0})  # a set, not an ordered list
    assert a != particle_seed(4, {"x.a": 1.0, "x.b": 2.0}) and a != particle_seed(3, {"x.a": 1.0, "x.b": 2.5})
    assert a != particle_seed(3, {"x.a": 1.0, "x.b": 2.0}, "predictive")
    assert 0 <= a < 2**32


def test_the_proposal_is_the_weighted_logit_normal_with_its_jacobian() -> None:
    from scipy.special import expit

    from sim.calibration.kernel import LogitNormalProposal

    k = LogitNormalProposal({"p.x": (0.0, 10.0)}, scale=1.5)
    # particles at logit −1, 0 and 1 of the range with weights 1, 1, 2 (normalised: 1/4, 1/4, 1/2)
    xs = pd.DataFrame({"p.x": 10.0 * expit(np.array([-1.0, 0.0, 1.0]))})
    k.fit(xs, np.array([1.0, 1.0, 2.0]))
    mean = 0.25 * -1 + 0.25 * 0 + 0.5 * 1  # 0.25
    # weighted covariance, unbiased for normalised weights: Σ w (z − m)² / (1 − Σ w²)
    spread = 0.25 * 1.25**2 + 0.25 * 0.25**2 + 0.5 * 0.75**2
    var = 1.5 * spread / (1 - (0.25**2 + 0.25**2 + 0.5**2))
    for x in (5.0, 2.0, 9.5):
        u = x / 10.0
        z = math.log(u / (1 - u))
        normal = math.exp(-((z - mean) ** 2) / (2 * var)) / math.sqrt(2 * math.pi * var)
        # the density of x: the normal's at z times dz/dx = 1 / (10 u (1 − u))
        assert k.pdf(pd.Series({"p.x": x})) == pytest.approx(normal / (10.0 * u * (1 - u)), rel=1e-6)
    many = np.asarray(k.pdf(pd.DataFrame({"p.x": [5.0, 2.0]})))
    assert many.shape == (2,) and many[0] == pytest.approx(k.pdf(pd.Series({"p.x": 5.0})))


# ---- the noise floor of value of information ------------------------------------------------------------------


def _worlds_with_one_real_input(n: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``n`` worlds: the margin is 3 × effect:real + noise; ten parameters and two costs are unrelated draws."""
    rng = np.random.default_rng(20231)
    real = rng.normal(size=n)
    margin = 3.0 * real + rng.normal(size=n)
    cols: dict[str, np.ndarray] = {"effect:real": real}
    cols.update({f"parameter.p{j}": rng.normal(size=n) for j in range(10)})
    cols.update({"cost:a": rng.normal(size=n), "cost:b": rng.normal(size=n)})
    rows = []
    for w in range(n):
        rows += [{"world": w, "scenario": "lead", "diff": margin[w]}, {"world": w, "scenario": "next", "diff": 0.0}]
    return pd.DataFrame(rows), pd.DataFrame(cols, index=pd.Index(range(n), name="world")), \
        pd.DataFrame(index=["lead", "next"])


def test_noise_floor_names_the_planted_input_and_no_placebo() -> None:
    pw, inputs, summary = _worlds_with_one_real_input(60)
    v = value_of_information(pw, inputs, summary, 1.0, seed=3).set_index("input")
    floor = v.attrs["floor"]
    assert v.loc["effect:real", "named"] and abs(v.loc["effect:real", "rho_margin"]) > floor
    placebo = v[v["kind"] == "placebo"]
    assert len(placebo) == PLACEBOS and not placebo["named"].any()
    # the placebo copy of the real input holds its values, shuffled: its link to the margin is gone
    assert abs(placebo.loc["placebo:effect:real", "rho_margin"]) < floor
    # costs never enter the simulation of a count KPI: never named, whatever their correlation
    assert not v.loc[["cost:a", "cost:b"], "enters"].any() and not v.loc[["cost:a", "cost:b"], "named"].any()
    assert list(named_inputs(v.reset_index())["input"]) == ["effect:real"]
    assert v.attrs["placebos_above"] == 0 and v.attrs["worlds"] == 60


def test_costs_enter_when_the_kpi_is_a_cost() -> None:
    pw, inputs, summary = _worlds_with_one_real_input(60)
    v = value_of_information(pw, inputs, summary, 1.0, costs_enter=True).set_index("input")
    assert v.loc[["cost:a", "cost:b"], "enters"].all() and not v.loc["placebo:effect:real", "enters"]


@pytest.mark.parametrize("n", [20, 50, 200])
def test_noise_floor_of_one_input_is_spearmans_critical_value(n: int) -> None:
    """With one input the floor is the two-sided 5 % critical |ρ| of Spearman's test under independence,
    ≈ 1.96 / √(n − 1) (the large-sample null of ρ); the permutation estimate is within its own noise."""
    rng = np.random.default_rng(5)
    x = pd.DataFrame({"x": rng.normal(size=n)})
    floor = noise_floor(x, pd.Series(rng.normal(size=n)), seed=1, permutations=4000)
    assert floor == pytest.approx(1.96 / math.sqrt(n - 1), rel=0.08)


def test_noise_floor_rises_with_the_number_of_inputs_and_falls_with_worlds() -> None:
    """Family-wise: the best of many unrelated inputs beats a single one's floor; more worlds lower it."""
    rng = np.random.default_rng(6)
    y = pd.Series(rng.normal(size=40))
    one = noise_floor(pd.DataFrame({"x": rng.normal(size=40)}), y, seed=2)
    many = noise_floor(pd.DataFrame(rng.normal(size=(40, 30))), y, seed=2)
    more_worlds = noise_floor(pd.DataFrame(rng.normal(size=(160, 30))), pd.Series(rng.normal(size=160)), seed=2)
    assert one < many and more_worlds < many
