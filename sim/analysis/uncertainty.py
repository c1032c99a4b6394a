"""How sure are we: every scenario compared with the baseline in many worlds, and what to measure next.

In each world (:mod:`sim.analysis.worlds`) the baseline and every scenario run
on the same replication numbers, so each scenario's difference from the
baseline is paired within the world; a world's *gain* is a paired 95 %
interval wholly on the good side of zero, as at the defaults. Across worlds:

- ``world_p05`` … ``world_p95``: the range of a scenario's mean difference
  over worlds (what the unknowns do to the answer);
- ``p_gain``: the share of worlds where the scenario gains;
- ``p_best``, ``mean_rank``: the share of worlds where it ranks first, and its
  average rank (1 = best);
- pairwise: P(row beats column) = the share of worlds where the row's
  difference is better than the column's.

**What to measure next** (value of information): across worlds, each
uncertain input (a calibrated parameter, a lever's effect, an assumed cost)
is set against the leading scenario's margin over the runner-up and against
its gain (Spearman rank correlation, and standardised regression coefficients
when there are enough worlds). The inputs that move the margin most are where
a survey or a pilot study would sharpen the decision most.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from sim.analysis.paired import SHORT_YEARS, higher_is_better, paired, run_kpis
from sim.analysis.robustness import Goal, robustness
from sim.analysis.worlds import World, scenario_in_world, world_inputs
from sim.scenario import Scenario

if TYPE_CHECKING:
    from sim.experiment import RunPlan

#: P(row beats the next scenario) at or above which an ordering "survives the uncertainty" (ASM convention).
SURVIVES = 0.95


@dataclass
class WorldComparison:
    """The comparison over worlds: per world, per scenario, pairwise and what to measure next."""

    kpi: str
    worlds: list[World]
    reps: int
    per_world: pd.DataFrame
    summary: pd.DataFrame
    pairwise: pd.DataFrame
    voi: pd.DataFrame
    robustness: pd.DataFrame | None = None
    """Regret and satisficing per scenario (:mod:`sim.analysis.robustness`)."""
    goal: Goal | None = None


def world_plan(baseline: Scenario, scenarios: Sequence[Scenario], worlds: list[World], reps: int, seed: int,
               engine: str = "auto") -> RunPlan:
    """The run plan of a comparison over worlds: every (world, scenario) on replications 0 … reps − 1, keyed
    ``(world, arm)``, reduced to its KPIs over the comparison's main window where it runs. Each scenario is
    placed and range-checked in its world here: input errors come before anything runs."""
    from sim.experiment import Run, RunPlan
    from sim.table import build_table

    t = baseline.params.time
    first = t.policy_start_year
    last = min(t.horizon_year, first + SHORT_YEARS - 1)  # the comparison's main window
    runs = []
    for w in worlds:
        for a, sc in enumerate([baseline, *scenarios]):
            sw = scenario_in_world(sc, w)
            build_table(sw, f"{sc.source} (world {w.index})")
            runs.append(Run(sw, range(reps), (w.index, a)))
    return RunPlan(tuple(runs), seed, engine, window=(first, last), reduce=run_kpis, in_order=False)


def compare_worlds(baseline: Scenario, scenarios: Sequence[Scenario], worlds: list[World], plan: RunPlan,
                   kpi: str, backend: str = "local", scheduler: str | None = None,
                   progress: Callable[[int], None] | None = None,
                   ex: cf.Executor | None = None, goal: Goal | None = None) -> WorldComparison:
    """Run the plan of :func:`world_plan` (paired within each world) and summarise over worlds.

    ``ex``: an executor already open for ``backend`` (the comparison's own), else one is opened here.
    """
    from contextlib import nullcontext

    from sim.executor import executor
    from sim.experiment import execute

    reps = len(plan.runs[0].reps)
    results: dict[tuple[int, int], pd.DataFrame] = {}
    with (nullcontext(ex) if ex is not None else executor(backend, scheduler)) as ex:
        for run, k in execute(plan, ex, progress):
            results[run.key] = k
    better = higher_is_better(kpi)
    rows = []
    for w in worlds:
        base = results[(w.index, 0)]
        for a, sc in enumerate(scenarios, start=1):
            k = results[(w.index, a)]
            st = paired(base[kpi].to_numpy(), k[kpi].to_numpy(), better)
            cost = paired(base["fiscal_cost"].to_numpy(), k["fiscal_cost"].to_numpy(), False)
            rows.append({"world": w.index, "param_set": w.param_set, "scenario": sc.id, "diff": st["diff"],
                         "lo": st["lo"], "hi": st["hi"], "gain": st["gain"], "fiscal_cost_diff": cost["diff"],
                         "base": st["base_mean"]})
    sign = 1.0 if better else -1.0
    per_world, summary, pair = over_worlds(pd.DataFrame(rows), baseline.id, [s.id for s in scenarios], better)
    lever_ids = sorted({lv.id for sc in scenarios for lv in sc.levers})
    voi = value_of_information(per_world, world_inputs(worlds, lever_ids), summary, sign)
    rob = robustness(per_world, sign, goal).reindex(summary.index)
    return WorldComparison(kpi, worlds, reps, per_world, summary, pair, voi, rob, goal)


def over_worlds(per_world: pd.DataFrame, baseline_id: str, ids: list[str],
                better: bool) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """From the per-world differences (columns ``world``, ``scenario``, ``diff``, ``gain``): the table with each
    scenario's rank in its world (1 = best, in the KPI's good direction), the summary over worlds (mean,
    5–95 %, P(gain), P(best), mean rank; best first) and P(row beats column) with the baseline as a choice."""
    per_world = per_world.copy()
    per_world["rank"] = per_world.groupby("world")["diff"].rank(ascending=not better, method="min")
    summary = _summary(per_world, ids)
    return per_world, summary, _pairwise(per_world, 1.0 if better else -1.0, [baseline_id, *ids])


def _summary(per_world: pd.DataFrame, ids: list[str]) -> pd.DataFrame:
    g = per_world.groupby("scenario")
    out = pd.DataFrame({
        "world_mean": g["diff"].mean(),
        "world_p05": g["diff"].quantile(0.05),
        "world_p95": g["diff"].quantile(0.95),
        "p_gain": g["gain"].mean(),
        "p_best": g["rank"].apply(lambda r: float(np.mean(r == 1))),
        "mean_rank": g["rank"].mean(),
        "worlds": g["diff"].size(),
    })
    return out.reindex(ids).sort_values("mean_rank")


def _pairwise(per_world: pd.DataFrame, sign: float, ids: list[str]) -> pd.DataFrame:
    """P(row beats column) over worlds; the baseline's difference is 0 in every world."""
    wide = per_world.pivot(index="world", columns="scenario", values="diff")
    wide.insert(0, ids[0], 0.0)
    out = pd.DataFrame(index=ids, columns=ids, dtype=float)
    for r in ids:
        for c in ids:
            out.loc[r, c] = np.nan if r == c else float(np.mean(sign * (wide[r] - wide[c]) > 0))
    return out


def survives(summary: pd.DataFrame, pairwise: pd.DataFrame) -> pd.DataFrame:
    """Each scenario against the next in the worlds' ranking: P(it beats the next) and whether that survives."""
    order = list(summary.index)
    rows = []
    for i, sid in enumerate(order):
        nxt = order[i + 1] if i + 1 < len(order) else pairwise.index[0]  # the last is set against the baseline
        p = float(pairwise.loc[sid, nxt])
        rows.append({"scenario": sid, "next": nxt, "p_beats_next": p, "survives": p >= SURVIVES})
    return pd.DataFrame(rows)


def value_of_information(per_world: pd.DataFrame, inputs: pd.DataFrame, summary: pd.DataFrame,
                         sign: float) -> pd.DataFrame:
    """Which uncertain inputs move the leader's margin over the runner-up (and its gain) most across worlds."""
    wide = per_world.pivot(index="world", columns="scenario", values="diff")
    leader = summary.index[0]
    runner = summary.index[1] if len(summary) > 1 else None
    margin = sign * (wide[leader] - (wide[runner] if runner is not None else 0.0))
    X = inputs.loc[wide.index]
    X = X.loc[:, X.std(ddof=0) > 0]  # inputs that did not vary (a lever absent, one parameter set) say nothing
    rows = []
    for col in X.columns:
        rho_m = stats.spearmanr(X[col], margin).statistic if margin.std() > 0 else np.nan
        rho_g = stats.spearmanr(X[col], sign * wide[leader]).statistic if wide[leader].std() > 0 else np.nan
        kind = "effect" if col.startswith("effect:") else ("cost" if col.startswith("cost:") else "parameter")
        rows.append({"input": col, "kind": kind, "rho_margin": float(rho_m), "rho_leader_gain": float(rho_g)})
    out = pd.DataFrame(rows)
    if len(X) > len(X.columns) + 2 and margin.std() > 0:
        Z = (X - X.mean()) / X.std(ddof=0)
        coef, *_ = np.linalg.lstsq(np.column_stack([np.ones(len(Z)), Z.to_numpy()]),
                                   ((margin - margin.mean()) / margin.std(ddof=0)).to_numpy(), rcond=None)
        out["src_margin"] = coef[1:]
    else:
        out["src_margin"] = np.nan
    out.attrs.update({"leader": leader, "runner_up": runner})
    return out.reindex(out["rho_margin"].abs().sort_values(ascending=False).index).reset_index(drop=True)
