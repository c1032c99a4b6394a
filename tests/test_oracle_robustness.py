"""Regret and satisficing (sim.analysis.robustness) on hand-made worlds whose answers are worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.analysis.robustness import Goal, meets_goal, regret, regret_per_myuan, robustness
from sim.errors import InputError


def worlds(rows: list[tuple[int, str, float, float, float]]) -> pd.DataFrame:
    """(world, scenario, Δ KPI, Δ fiscal cost in M yuan, baseline level) rows as compare_worlds writes them."""
    return pd.DataFrame(rows, columns=["world", "scenario", "diff", "fiscal_cost_diff", "base"])


# Three worlds, two scenarios. A is steady, B is great in world 0 and bad in worlds 1 and 2.
TOY = worlds([
    (0, "A", 4.0, 2.0, 100.0), (0, "B", 10.0, 5.0, 100.0),
    (1, "A", 3.0, 2.0, 80.0), (1, "B", -2.0, 5.0, 80.0),
    (2, "A", 5.0, 2.0, 50.0), (2, "B", 1.0, 1.0, 50.0),
])


def test_regret_is_the_best_choice_of_the_world_minus_ones_own() -> None:
    r = regret(TOY, 1.0)
    # world 0: best is B (10): A 6, B 0; world 1: best is A (3): A 0, B 5; world 2: best is A (5): A 0, B 4
    assert r.loc[0].tolist() == [6.0, 0.0] and r.loc[1].tolist() == [0.0, 5.0] and r.loc[2].tolist() == [0.0, 4.0]
    s = robustness(TOY, 1.0)
    assert s.loc["A", "regret_mean"] == pytest.approx(2.0) and s.loc["B", "regret_mean"] == pytest.approx(3.0)
    assert s.loc["A", "regret_max"] == 6.0 and s.loc["B", "regret_max"] == 5.0
    # 90th percentile, linear interpolation over three values: A (0, 0, 6) → 4.8; B (0, 4, 5) → 4.8
    assert s.loc["A", "regret_p90"] == pytest.approx(4.8) and s.loc["B", "regret_p90"] == pytest.approx(4.8)
    assert math.isnan(s.loc["A", "p_goal"])


def test_doing_nothing_is_a_choice_so_regret_is_never_against_a_loss() -> None:
    bad = worlds([(0, "A", -3.0, 1.0, 10.0), (0, "B", -1.0, 1.0, 10.0)])
    # the best choice of this world is the baseline itself (gain 0): A regrets 3, B regrets 1
    assert regret(bad, 1.0).loc[0].tolist() == [3.0, 1.0]


def test_lower_is_better_kpis_turn_the_direction() -> None:
    waits = worlds([(0, "A", -0.5, 1.0, 2.0), (0, "B", 0.25, 1.0, 2.0)])  # A shortens the wait, B lengthens it
    r = regret(waits, -1.0)
    assert r.loc[0].tolist() == [0.0, 0.75]


def test_regret_per_million_yuan_among_the_choices_that_cost_more() -> None:
    r = regret_per_myuan(TOY, 1.0)
    # gains per M yuan: world 0: A 2, B 2 → 0, 0; world 1: A 1.5, B -0.4 → 0, 1.9; world 2: A 2.5, B 1 → 0, 1.5
    assert r.loc[0].tolist() == [0.0, 0.0]
    assert r.loc[1].tolist() == pytest.approx([0.0, 1.9]) and r.loc[2].tolist() == pytest.approx([0.0, 1.5])
    free = worlds([(0, "A", 2.0, 0.0, 1.0), (0, "B", 1.0, 0.5, 1.0)])
    rf = regret_per_myuan(free, 1.0)
    assert np.isnan(rf.loc[0, "A"]) and rf.loc[0, "B"] == 0.0  # A costs nothing more: no gain per yuan


def test_satisficing_counts_the_worlds_that_meet_the_goal() -> None:
    # +5 % of the baseline: world 0 needs 5, world 1 needs 4, world 2 needs 2.5
    g = Goal.parse("5%")
    assert g == Goal(0.05, True)
    met = meets_goal(TOY, 1.0, g)
    assert met["A"].tolist() == [False, False, True] and met["B"].tolist() == [True, False, False]
    s = robustness(TOY, 1.0, g)
    assert s.loc["A", "p_goal"] == pytest.approx(1 / 3) and s.loc["B", "p_goal"] == pytest.approx(1 / 3)
    absolute = robustness(TOY, 1.0, Goal.parse("3"))  # 3 more in every world: A 3/3, B 1/3
    assert absolute.loc["A", "p_goal"] == 1.0 and absolute.loc["B", "p_goal"] == pytest.approx(1 / 3)


@pytest.mark.parametrize("text", ["", "abc", "5 %%", "1e"])
def test_a_goal_that_is_not_a_number_or_a_percentage_is_refused(text: str) -> None:
    with pytest.raises(InputError, match="--goal"):
        Goal.parse(text)
