"""Which choice holds up whatever the truth turns out to be: regret and satisficing over worlds.

Robust decision making (Lempert et al. 2003, *Shaping the Next One Hundred
Years*, RAND MR-1626; the EMA Workbench's robustness metrics) judges a choice
in every plausible world, not at the expected one:

- **regret** of a choice in a world: the best choice's outcome in that world
  minus its own (0 for the world's best). The choices are the compared
  scenarios and doing nothing more (the baseline, whose gain is 0). A choice
  with a small *largest* (or 90th-percentile) regret is never far from the
  best, whichever world comes true.
- **regret per yuan**: the same on gain per million yuan of extra fiscal cost,
  among the choices that cost more than the baseline in that world.
- **satisficing**: the share of worlds in which a choice meets a goal the
  planner sets (e.g. +20 % industrialised projects over the baseline).

The outcome of a choice in a world is its paired difference from the baseline
on the comparison's KPI (``per_world`` of :mod:`sim.analysis.uncertainty`), in
the KPI's good direction (a fiscal cost or a waiting time counts down).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.errors import InputError

#: Columns of :func:`robustness` (after the scenario id).
COLUMNS = ("regret_mean", "regret_p90", "regret_max", "regret_per_myuan_mean", "regret_per_myuan_p90", "p_goal")


@dataclass(frozen=True)
class Goal:
    """A goal a choice should meet in a world: at least ``value`` more than the baseline (``relative``: a share
    of the baseline's own level in that world)."""

    value: float
    relative: bool

    @classmethod
    def parse(cls, text: str | float) -> Goal:
        """``"20%"`` (20 % above the baseline in each world) or ``"5"`` (5 more, in the KPI's unit)."""
        if isinstance(text, int | float):
            return cls(float(text), False)
        m = re.fullmatch(r"\s*([+-]?\d+(?:\.\d*)?|[+-]?\.\d+)\s*(%?)\s*", text)
        if m is None:
            raise InputError(f"--goal: a number (e.g. 5, in the KPI's unit) or a percentage of the baseline "
                             f"(e.g. 20%), got {text!r}")
        v = float(m.group(1))
        return cls(v / 100 if m.group(2) else v, bool(m.group(2)))

    def label(self) -> str:
        return f"{100 * self.value:+g} %" if self.relative else f"{self.value:+g}"


def regret(per_world: pd.DataFrame, sign: float) -> pd.DataFrame:
    """Regret of every scenario in every world (rows: worlds; columns: scenarios), the baseline a choice too."""
    wide = sign * per_world.pivot(index="world", columns="scenario", values="diff")
    best = np.maximum(wide.max(axis=1), 0.0)  # doing nothing more (the baseline) gains 0
    return wide.rsub(best, axis=0)


def regret_per_myuan(per_world: pd.DataFrame, sign: float) -> pd.DataFrame:
    """Regret on gain per million yuan of extra fiscal cost, among the choices that cost more in that world
    (NaN for a choice that costs nothing more: its gain per yuan is not defined)."""
    wide = sign * per_world.pivot(index="world", columns="scenario", values="diff")
    cost = per_world.pivot(index="world", columns="scenario", values="fiscal_cost_diff")
    eff = (wide / cost).where(cost > 0)
    return eff.rsub(eff.max(axis=1), axis=0)


def meets_goal(per_world: pd.DataFrame, sign: float, goal: Goal) -> pd.DataFrame:
    """Whether each scenario meets the goal in each world (rows: worlds; columns: scenarios)."""
    wide = sign * per_world.pivot(index="world", columns="scenario", values="diff")
    if not goal.relative:
        return wide >= goal.value
    base = per_world.pivot(index="world", columns="scenario", values="base").iloc[:, 0]
    return wide.ge(goal.value * base.abs(), axis=0)


def robustness(per_world: pd.DataFrame, sign: float, goal: Goal | None = None) -> pd.DataFrame:
    """One row per scenario: mean, 90th-percentile and largest regret (on the KPI and per million yuan) and,
    with a goal, the share of worlds that meet it."""
    r = regret(per_world, sign)
    ry = regret_per_myuan(per_world, sign)
    out = pd.DataFrame({"regret_mean": r.mean(), "regret_p90": r.quantile(0.9), "regret_max": r.max(),
                        "regret_per_myuan_mean": ry.mean(), "regret_per_myuan_p90": ry.quantile(0.9)})
    out["p_goal"] = meets_goal(per_world, sign, goal).mean() if goal is not None else np.nan
    out.index.name = "scenario"
    return out
