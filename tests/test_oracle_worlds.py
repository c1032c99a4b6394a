"""The worlds of uncertainty, tested as the rules are: hand-made posteriors and per-world tables, known answers.

MODEL.md and sim/analysis/worlds.py say: a world draws a parameter set by its weight, and every lever's
effect (and assumed cost) from a triangular distribution with its mode at the stated value; the same
measure gets the same draw in every scenario of a world; over worlds, a lower-is-better KPI ranks the
other way round; P(best) is the share of worlds where a scenario ranks first.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.analysis.uncertainty import over_worlds
from sim.analysis.worlds import draw_worlds, lever_in_world, scenario_in_world, triangular
from sim.scenario import load_scenario
from tests.conftest import ROOT

SCEN = ROOT / "scenarios"


@pytest.mark.parametrize(("u", "expected"), [
    (0.0, 0.0), (0.1, math.sqrt(2.0)), (0.2, 2.0), (0.6, 10.0 - math.sqrt(32.0)), (1.0, 10.0)])
def test_triangular_quantiles_by_hand(u: float, expected: float) -> None:
    # low 0, mode 2, high 10: F(mode) = 0.2; below it x = √(u·10·2), above it x = 10 − √((1−u)·10·8)
    assert triangular(u, 0.0, 2.0, 10.0) == pytest.approx(expected)


def test_a_range_of_zero_width_gives_the_stated_value() -> None:
    assert triangular(0.3, 5.0, 5.0, 5.0) == 5.0


def test_parameter_sets_are_drawn_by_their_weights() -> None:
    sets = pd.DataFrame({"contract.base_logit": [-1.0, -1.2, -1.4, -1.6]})
    weights = np.array([0.7, 0.2, 0.1, 0.0])
    worlds = draw_worlds(4000, 5, (sets, weights))
    counts = np.bincount([w.param_set for w in worlds], minlength=4) / 4000
    sd = np.sqrt(weights * (1 - weights) / 4000)
    assert np.all(np.abs(counts - weights) <= 4 * sd + 1e-12), counts
    assert counts[3] == 0.0  # a set of weight 0 is never drawn
    assert all(w.params["contract.base_logit"] == sets.iloc[w.param_set, 0] for w in worlds[:50])


def test_a_world_is_the_same_whatever_the_range_it_is_drawn_in() -> None:
    sets = pd.DataFrame({"contract.base_logit": [-1.0, -1.2, -1.4]})
    post = (sets, np.array([0.5, 0.3, 0.2]))
    a, b = draw_worlds(6, 9, post)[4], draw_worlds(2, 9, post, first=4)[0]
    assert (a.index, a.param_set, a.params) == (b.index, b.param_set, b.params)
    assert a.quantiles("brokers_certified") == b.quantiles("brokers_certified")


def test_effects_are_triangular_with_their_mode_at_the_stated_value() -> None:
    g4 = load_scenario(SCEN / "g4_intermediaries.toml")
    lv = next(lv for lv in g4.levers if lv.effect_high > lv.effect_low)
    values = np.array([lever_in_world(lv, w).value for w in draw_worlds(4000, 1, None)])
    low, mode, high = lv.effect_low, lv.value, lv.effect_high
    assert values.min() >= low and values.max() <= high
    share_below = (mode - low) / (high - low)  # F(mode) of the triangular distribution
    assert np.mean(values < mode) == pytest.approx(share_below, abs=4 * math.sqrt(0.25 / 4000))
    assert values.mean() == pytest.approx((low + mode + high) / 3, abs=4 * values.std() / math.sqrt(4000))


def test_the_same_measure_gets_the_same_draw_in_every_scenario_of_a_world() -> None:
    g4, all5 = load_scenario(SCEN / "g4_intermediaries.toml"), load_scenario(SCEN / "all_five.toml")
    shared = {lv.id for lv in g4.levers} & {lv.id for lv in all5.levers}
    assert shared
    for w in draw_worlds(5, 3, None):
        a = {lv.id: lv for lv in scenario_in_world(g4, w).levers}
        b = {lv.id: lv for lv in scenario_in_world(all5, w).levers}
        for lid in shared:
            assert (a[lid].value, a[lid].yearly_cost_yuan) == (b[lid].value, b[lid].yearly_cost_yuan)
    w0, w1 = draw_worlds(2, 3, None)
    lid = sorted(shared)[0]
    assert lever_in_world(next(lv for lv in g4.levers if lv.id == lid), w0).value != \
        lever_in_world(next(lv for lv in g4.levers if lv.id == lid), w1).value  # but differs between worlds


def per_world(diffs: dict[str, list[float]]) -> pd.DataFrame:
    rows = [{"world": w, "scenario": s, "diff": d, "gain": d > 0} for s, ds in diffs.items() for w, d in enumerate(ds)]
    return pd.DataFrame(rows)


def test_p_best_mean_rank_and_pairwise_by_hand() -> None:
    # three worlds: A best in worlds 0 and 2, B best in world 1
    _, summary, pair = over_worlds(per_world({"A": [5.0, 1.0, 4.0], "B": [2.0, 3.0, -1.0]}), "base", ["A", "B"],
                                    better=True)
    assert list(summary.index) == ["A", "B"]
    assert summary.at["A", "p_best"] == pytest.approx(2 / 3) and summary.at["B", "p_best"] == pytest.approx(1 / 3)
    assert summary.at["A", "mean_rank"] == pytest.approx(4 / 3) and summary.at["B", "p_gain"] == pytest.approx(2 / 3)
    assert summary.at["A", "world_mean"] == pytest.approx(10 / 3)
    assert pair.at["A", "B"] == pytest.approx(2 / 3) and pair.at["B", "base"] == pytest.approx(2 / 3)
    assert pair.at["A", "base"] == 1.0 and pair.at["base", "A"] == 0.0


def test_a_lower_is_better_kpi_ranks_the_other_way() -> None:
    # a waiting time: A shortens it more in every world, so A is best everywhere
    pw, summary, pair = over_worlds(per_world({"A": [-0.5, -0.4], "B": [-0.1, 0.2]}), "base", ["A", "B"],
                                    better=False)
    assert pw.set_index(["world", "scenario"])["rank"].to_dict() == {(0, "A"): 1, (0, "B"): 2, (1, "A"): 1,
                                                                      (1, "B"): 2}
    assert summary.at["A", "p_best"] == 1.0 and list(summary.index) == ["A", "B"]
    assert pair.at["A", "B"] == 1.0 and pair.at["B", "base"] == 0.5  # B shortens the wait in one world of two
