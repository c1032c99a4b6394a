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

**The noise floor.** With a few dozen worlds, inputs that cannot matter
correlate with the margin by chance about as strongly as real ones (lever
costs, which never enter the simulation, reached ρ ≈ 0.5 over 20 worlds).
So the table carries inputs known to be inert — a permuted copy of some inputs
(``placebo:…``), and the lever costs when the KPI is not a cost — and a floor:
the |ρ| that the largest of the real inputs' correlations with the margin
exceeds in only 5 % of random pairings of the same worlds (a permutation
test over every input at once, family-wise). Only inputs above the floor
are *named* (``named``); below it, no input can be told from noise.
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
#: Inputs copied, permuted over the worlds, as placebos (the first ones of the table: parameters, then levers).
PLACEBOS = 3
#: Random pairings of inputs and margin behind the noise floor, and the floor's level (family-wise).
FLOOR_PERMUTATIONS = 2000
FLOOR_LEVEL = 0.95
_FLOOR_KEY = 0x766F69  # keys the floor's and the placebos' draws apart from the worlds' own


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
    voi = value_of_information(per_world, world_inputs(worlds, lever_ids), summary, sign, seed=plan.seed,
                               costs_enter=kpi == "fiscal_cost" or kpi.startswith("yuan_"))
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


def noise_floor(X: pd.DataFrame, target: pd.Series, seed: int, permutations: int = FLOOR_PERMUTATIONS,
                level: float = FLOOR_LEVEL) -> float:
    """The |Spearman ρ| that the largest correlation of any column of ``X`` with ``target`` exceeds in only
    ``1 − level`` of random pairings (``target`` permuted over the rows, keyed by ``seed``): what chance alone
    gives the best of this many inputs over this many worlds. NaN with fewer than 3 rows or nothing to test."""
    n = len(target)
    if n < 3 or X.shape[1] == 0 or target.std() == 0:
        return np.nan
    # Spearman's ρ is Pearson's r of the ranks (ties at their mean rank, as scipy's spearmanr)
    rx = stats.rankdata(X.to_numpy(), axis=0)
    rx = (rx - rx.mean(axis=0)) / rx.std(axis=0)
    ry = stats.rankdata(target.to_numpy())
    ry = (ry - ry.mean()) / ry.std()
    rng = np.random.default_rng(np.random.SeedSequence([seed, _FLOOR_KEY, n]))
    shuffled = ry[np.argsort(rng.random((permutations, n)), axis=1)]
    best = np.abs(shuffled @ rx / n).max(axis=1)
    return float(np.quantile(best, level))


def named_inputs(voi: pd.DataFrame) -> pd.DataFrame:
    """The rows of a value-of-information table whose association with the margin is above its noise floor
    (inputs that enter the simulation; placebos and inert costs never), strongest first."""
    return voi[voi["named"]] if "named" in voi.columns else voi


def value_of_information(per_world: pd.DataFrame, inputs: pd.DataFrame, summary: pd.DataFrame,
                         sign: float, seed: int = 0, costs_enter: bool = False) -> pd.DataFrame:
    """Which uncertain inputs move the leader's margin over the runner-up (and its gain) most across worlds.

    Besides every input: ``PLACEBOS`` permuted copies (``placebo:…``, kind ``placebo``), and a column
    ``enters``: False for the placebos and, unless ``costs_enter`` (a cost KPI), for the lever costs. The
    noise floor (:func:`noise_floor` over the inputs that enter; ``attrs["floor"]``) decides ``named``:
    |rho_margin| above it, for an input that enters. ``attrs["placebos_above"]`` counts inert inputs above it
    (expected 5 % of the time).
    """
    wide = per_world.pivot(index="world", columns="scenario", values="diff")
    leader = summary.index[0]
    runner = summary.index[1] if len(summary) > 1 else None
    margin = sign * (wide[leader] - (wide[runner] if runner is not None else 0.0))
    X = inputs.loc[wide.index]
    X = X.loc[:, X.std(ddof=0) > 0]  # inputs that did not vary (a lever absent, one parameter set) say nothing
    rng = np.random.default_rng(np.random.SeedSequence([seed, _FLOOR_KEY]))
    for col in list(X.columns[:PLACEBOS]):
        X[f"placebo:{col}"] = X[col].to_numpy()[rng.permutation(len(X))]
    rows = []
    for col in X.columns:
        rho_m = stats.spearmanr(X[col], margin).statistic if margin.std() > 0 else np.nan
        rho_g = stats.spearmanr(X[col], sign * wide[leader]).statistic if wide[leader].std() > 0 else np.nan
        kind = ("placebo" if col.startswith("placebo:") else "effect" if col.startswith("effect:")
                else "cost" if col.startswith("cost:") else "parameter")
        enters = kind in ("effect", "parameter") or (kind == "cost" and costs_enter)
        rows.append({"input": col, "kind": kind, "enters": enters, "rho_margin": float(rho_m),
                     "rho_leader_gain": float(rho_g)})
    out = pd.DataFrame(rows, columns=["input", "kind", "enters", "rho_margin", "rho_leader_gain"])
    real = [r["input"] for r in rows if r["enters"]]
    floor = noise_floor(X[real], margin, seed)
    out["named"] = out["enters"] & (out["rho_margin"].abs() > floor)
    if len(X) > len(real) + 2 and margin.std() > 0:
        Z = (X[real] - X[real].mean()) / X[real].std(ddof=0)
        coef, *_ = np.linalg.lstsq(np.column_stack([np.ones(len(Z)), Z.to_numpy()]),
                                   ((margin - margin.mean()) / margin.std(ddof=0)).to_numpy(), rcond=None)
        out["src_margin"] = out["input"].map(dict(zip(real, coef[1:], strict=True)))
    else:
        out["src_margin"] = np.nan
    out.attrs.update({"leader": leader, "runner_up": runner, "floor": floor, "worlds": len(X),
                      "placebos_above": int(((~out["enters"]) & (out["rho_margin"].abs() > floor)).sum())})
    # named inputs first, then by strength: a reader who takes the top rows takes only what is above the floor
    key = out["rho_margin"].abs().fillna(0.0) + 2.0 * out["named"]
    return out.reindex(key.sort_values(ascending=False).index).reset_index(drop=True)
