"""Paired comparison of scenarios against a baseline, on common random numbers.

Every scenario is run with the same seed and replication numbers as the
baseline, so replication ``r`` of a scenario and of the baseline share every
draw the policy does not touch. The difference of a KPI is then computed
replication by replication, and its mean has a far narrower confidence
interval than the difference of two independent means.

Honest uncertainty: a difference counts as a *gain* only when its whole 95 %
interval lies on the good side of zero; scenarios whose paired difference from
the next in the ranking has an interval that crosses zero are reported as
indistinguishable.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.analysis.kpi import KPI_BY_KEY
from sim.analysis.paired import (
    FOLLOW_UP,
    HEADLINE,
    HEADLINES,
    SHORT_YEARS,
    SUMMARISED,
    higher_is_better,
    lever_cost_myuan,
    paired,
    window_kpis,
)
from sim.experiment import Run, RunPlan, results
from sim.scenario import InputError, Scenario, with_horizon
from sim.table import Table, build_table

if TYPE_CHECKING:
    from sim.analysis.uncertainty import WorldComparison

LABELS = {"fiscal_cost": ("Fiscal cost (levers + extra payouts)", "财政成本(措施+新增补贴奖励)", "M yuan")}


#: Every key ``compare`` can rank by: every KPI of :mod:`sim.analysis.kpi` and the fiscal cost.
RANKABLE: tuple[str, ...] = (*KPI_BY_KEY, "fiscal_cost")


def label(key: str, lang: str = "en") -> str:
    if key in LABELS:
        return LABELS[key][1] if lang == "zh" else LABELS[key][0]
    meta = KPI_BY_KEY[key]
    return meta.zh if lang == "zh" else meta.en


def unit(key: str) -> str:
    return LABELS[key][2] if key in LABELS else KPI_BY_KEY[key].unit


@dataclass
class Arm:
    """One scenario's replications: per-replication KPIs and yearly series."""

    scenario: Scenario
    table: Table
    source: str
    lever_cost_myuan: float
    #: the scenario as run: its horizon moved on by the follow-up (``scenario`` when there is none)
    run_scenario: Scenario | None = None
    kpis: list[pd.DataFrame] = field(default_factory=list)
    cumulative: list[np.ndarray] = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        return pd.concat(self.kpis).sort_index()

    def cum(self) -> np.ndarray:
        return np.concatenate(self.cumulative)


@dataclass
class Comparison:
    """The outcome of ``compare``: arms, window and the tidy summary."""

    baseline: Arm
    arms: list[Arm]
    window: tuple[int, int]
    reps: int
    seed: int
    engine: str
    summary: pd.DataFrame
    ranking: pd.DataFrame
    kpi: str = HEADLINE
    long: Comparison | None = None  # the same runs judged over the long window, when the horizon allows
    worlds: WorldComparison | None = None  # the same scenarios in worlds of uncertainty (sim.analysis.uncertainty)
    #: the ranking by each headline measure (:data:`sim.analysis.paired.HEADLINES`), same columns as ``ranking``
    rankings: dict[str, pd.DataFrame] = field(default_factory=dict)
    follow_up: int = 0  # years the runs went on past the horizon, for the cohort KPIs


def names(c: Comparison, lang: str = "en") -> dict[str, str]:
    """Full name of the baseline and every scenario in ``lang``, by id."""
    return {a.scenario.id: (a.scenario.scenario.name_zh if lang == "zh" else a.scenario.scenario.name_en)
            for a in [c.baseline, *c.arms]}


def _verdict(gain: bool, loss: bool) -> str:
    return "gain" if gain else ("loss" if loss else "no clear gain")


def scenario_summary(c: Comparison) -> pd.DataFrame:
    """One row per scenario, best first: the ranking KPI's paired Δ [95 %], P(better), verdict, the other KPIs'
    Δ, M yuan per extra industrialised project and, with worlds, world_p05, world_p95, p_gain, p_best, mean_rank,
    regret (mean, 90th percentile, largest, per M yuan) and p_goal (the share of worlds meeting the goal)."""
    long = c.summary
    head = long[long["kpi"] == c.kpi].set_index("scenario")
    ind = long[long["kpi"] == HEADLINE].set_index("scenario")
    wide = long.pivot(index="scenario", columns="kpi", values="diff")
    rank = c.ranking.set_index("scenario")
    out = pd.DataFrame({
        "rank": rank["rank"], "name_en": head["name_en"], "name_zh": head["name_zh"], "kpi": c.kpi,
        "base": head["base_mean"], "value": head["mean"], "delta": head["diff"], "delta_lo": head["lo"],
        "delta_hi": head["hi"], "p_better": head["p_beat"],
        "verdict": [_verdict(g, x) for g, x in zip(head["gain"], head["loss"], strict=True)],
        "tied_with_previous": rank["tied_with_previous"],
    }, index=head.index)
    for key in ("introduced_converted", "industrialised", "cohort_industrialised_5y", "cohort_contracted_5y",
                "cohort_signed_industrialised_5y", "meetings", "pilots", "rate_overall", "time_to_production",
                "fiscal_cost"):
        if key != c.kpi and key in wide.columns:
            out[f"delta_{key}"] = wide[key]
    # the rank each headline measure gives, side by side (the report's 转化, 产业化, the cohort rate)
    for key, r in c.rankings.items():
        out[f"rank_{key}"] = r.set_index("scenario")["rank"]
    out["myuan_per_extra_industrialised"] = ind["cost_per_extra_industrialisation_myuan"]
    cols = ["world_mean", "world_p05", "world_p95", "p_gain", "p_best", "mean_rank"]
    robust = ["regret_mean", "regret_p90", "regret_max", "regret_per_myuan_mean", "p_goal"]
    if c.worlds is not None:
        out = out.join(c.worlds.summary[cols])
        if c.worlds.robustness is not None:
            out = out.join(c.worlds.robustness[robust])
    for col in [*cols, *robust]:
        if col not in out.columns:
            out[col] = np.nan
    out["reps"] = c.reps
    out["worlds"] = 0 if c.worlds is None else len(c.worlds.worlds)
    out["window"] = f"{c.window[0]}-{c.window[1]}"
    return out.sort_values("rank")


def _cumulative(rec: pd.DataFrame, first: int, last: int) -> np.ndarray:
    w = rec[(rec["year"] >= first) & (rec["year"] <= last)].pivot(index="rep", columns="year",
                                                                   values="industrialised").sort_index()
    return np.cumsum(w.to_numpy(), axis=1)


def batch_plan(arms: list[Arm], seed: int, reps: list[int], engine: str, remote: bool) -> RunPlan:
    """The run plan of one batch: every arm on replications ``reps``, as tidy records.

    ``remote``: for an executor of other processes or a cluster, each arm is sent as its scenario (built into
    its table there) and runs single-threaded (a Dask worker core runs one task); here, on its table.
    """
    runs = tuple(Run((arm.run_scenario or arm.scenario) if remote else arm.table, tuple(reps), k, arm.source)
                 for k, arm in enumerate(arms))
    return RunPlan(runs, seed, engine, threads=1 if remote else None, in_order=not remote)


def _batch_records(arms: list[Arm], seed: int, reps: list[int], engine: str,
                   progress: Callable[[int], None] | None, ex: cf.Executor | None) -> list[pd.DataFrame]:
    """Every arm's records of one batch: here one arm after another, or side by side on the executor."""
    return results(batch_plan(arms, seed, reps, engine, ex is not None), ex, progress)


def _add_batch(arm: Arm, rec: pd.DataFrame, first: int, last: int, long: tuple[Arm, int] | None = None) -> None:
    """One batch of an arm's records into its KPIs; ``long``: the arm's twin for the long window and its last
    year."""
    arm.kpis.append(window_kpis(rec, first, last, arm.lever_cost_myuan))
    arm.cumulative.append(_cumulative(rec, first, last))
    if long is not None:
        twin, long_last = long
        twin.kpis.append(window_kpis(rec, first, long_last, twin.lever_cost_myuan))
        twin.cumulative.append(_cumulative(rec, first, long_last))


def _summary(base: Arm, arms: list[Arm], kpi: str = HEADLINE) -> pd.DataFrame:
    bk = base.frame()
    rows = []
    keys = list(SUMMARISED) + ([kpi] if kpi not in SUMMARISED else [])
    for arm in arms:
        k = arm.frame()
        for key in keys:
            better = higher_is_better(key)
            st = paired(bk[key].to_numpy(), k[key].to_numpy(), better)
            rows.append({"scenario": arm.scenario.id, "name_en": arm.scenario.scenario.name_en,
                         "name_zh": arm.scenario.scenario.name_zh, "kpi": key, "unit": unit(key),
                         "higher_is_better": better, **st})
    df = pd.DataFrame(rows)
    cost = df[df.kpi == "fiscal_cost"].set_index("scenario")
    ind = df[df.kpi == HEADLINE].set_index("scenario")
    per = {}
    for sid in ind.index:
        gain = ind.loc[sid, "gain"]
        per[sid] = float(cost.loc[sid, "diff"] / ind.loc[sid, "diff"]) if gain else np.nan
    df["cost_per_extra_industrialisation_myuan"] = df["scenario"].map(per)
    return df


def _ranking(base: Arm, arms: list[Arm], kpi: str = HEADLINE) -> pd.DataFrame:
    """Rank by the gain in ``kpi`` (default the headline); neighbours whose paired difference crosses zero share a
    group. For a KPI where less is better (cost, time, waiting) the largest fall ranks first."""
    better = higher_is_better(kpi)
    sign = 1.0 if better else -1.0
    bk = base.frame()[kpi].to_numpy()
    vals = {a.scenario.id: a.frame()[kpi].to_numpy() for a in arms}
    order = sorted(vals, key=lambda s: -sign * float(np.nanmean(vals[s] - bk)))
    rows = []
    group = 1
    for i, sid in enumerate(order):
        st = paired(bk, vals[sid], better)
        tied = False
        if i > 0:
            vs = paired(vals[sid], vals[order[i - 1]], better)  # previous minus this one
            tied = not vs["gain"]
            if not tied:
                group += 1
        rows.append({"rank": i + 1, "group": group, "scenario": sid, "diff": st["diff"], "lo": st["lo"],
                     "hi": st["hi"], "gain": st["gain"], "tied_with_previous": tied})
    return pd.DataFrame(rows)


def pairwise(c: Comparison, key: str = HEADLINE) -> pd.DataFrame:
    """P(row scenario beats column scenario) on ``key``: the Student t probability of the mean paired difference."""
    better = higher_is_better(key)
    arms = [c.baseline, *c.arms]
    vals = {a.scenario.id: a.frame()[key].to_numpy() for a in arms}
    ids = list(vals)
    out = pd.DataFrame(index=ids, columns=ids, dtype=float)
    for r in ids:
        for col in ids:
            out.loc[r, col] = np.nan if r == col else paired(vals[col], vals[r], better)["p_beat"]
    return out


def compare(baseline: Scenario, scenarios: Sequence[Scenario | tuple[Scenario, str]], reps: int = 500,
            seed: int = 0, engine: str = "auto", precision: float | None = None, max_reps: int = 20000,
            batch: int = 200, progress: Callable[[int], None] | None = None,
            total_hint: Callable[[int], None] | None = None, baseline_source: str | None = None,
            kpi: str = HEADLINE, executor: cf.Executor | None = None, follow_up: int = FOLLOW_UP) -> Comparison:
    """Run the baseline and every scenario on common random numbers and compare them.

    With ``precision`` set, replications are added in batches until the 95 %
    half-width of every scenario's headline difference is at most ``precision``
    (or ``max_reps`` is reached); ``Comparison.reps`` says how many it took.
    ``kpi``: the indicator the ranking follows (any key of :data:`RANKABLE`).

    Windows: the main window is the first five policy years (2023–2027); when
    the horizon lies beyond it (``time.horizon_year`` = 2032, say), the same
    runs are also judged over the whole policy period (2023–2032) in
    ``Comparison.long``, for measures that act slowly.

    ``executor`` (e.g. Dask's, :func:`sim.executor.executor`): each batch runs every arm as a task of its
    own; without one, the arms run here one after another, each on every core. The records are the same.

    ``follow_up``: years every run goes on past the horizon, so that the offers and contracts of the window's
    years are followed long enough for the cohort KPIs (k-year shares need k + 1 years after the window's
    last year; 0: they are NaN, censored). The window's other KPIs are the same with or without it: nothing
    before the horizon depends on how long the run goes on (docs/kpis.md).
    """
    if kpi not in RANKABLE:
        raise InputError(f"--kpi {kpi!r}: not a KPI; one of {', '.join(RANKABLE)}")
    t = baseline.params.time
    first, horizon = t.policy_start_year, t.horizon_year
    last = min(horizon, first + SHORT_YEARS - 1)
    baseline_source = baseline_source or baseline.source

    def new_arm(sc: Scenario, src: str) -> Arm:
        run = with_horizon(sc, sc.params.time.horizon_year + follow_up, src) if follow_up else sc
        return Arm(sc, build_table(run, src), src, lever_cost_myuan(sc, first, last), run)

    base = new_arm(baseline, baseline_source)
    pairs = [item if isinstance(item, tuple) else (item, item.source) for item in scenarios]
    arms = [new_arm(sc, src) for sc, src in pairs]
    twins: dict[int, Arm] = {}
    if horizon > last:
        for a in [base, *arms]:
            twins[id(a)] = Arm(a.scenario, a.table, a.source, lever_cost_myuan(a.scenario, first, horizon),
                               a.run_scenario)
    for a in arms:
        if a.table.n_years != base.table.n_years or a.table.first_year != base.table.first_year:
            n, b = a.table.n_years - follow_up, base.table.n_years - follow_up
            raise InputError(f"{a.source}: key 'params.time': the calendar differs from the baseline's "
                             f"({a.table.first_year}–{a.table.first_year + n - 1} vs "
                             f"{base.table.first_year}–{base.table.first_year + b - 1}); "
                             "compared scenarios need the same time settings")
    done = 0
    target = reps if precision is None else min(batch, max_reps)
    while True:
        chunk = list(range(done, target))
        everyone = [base, *arms]
        for arm, rec in zip(everyone, _batch_records(everyone, seed, chunk, engine, progress, executor), strict=True):
            twin = twins.get(id(arm))
            _add_batch(arm, rec, first, last, (twin, horizon) if twin else None)
        done = target
        if precision is None:
            break
        bk = base.frame()[HEADLINE].to_numpy()
        worst = max(paired(bk, a.frame()[HEADLINE].to_numpy(), True)["half_width"] for a in arms)
        if worst <= precision or done >= max_reps:
            break
        # aim for the precision with the current spread (half-width ∝ 1/√n), at least one more batch
        need = int(np.ceil(done * (worst / precision) ** 2))
        target = min(max_reps, max(done + batch, need))
        if total_hint is not None:
            total_hint(target * (len(arms) + 1))
    long = None
    if twins:
        lb, la = twins[id(base)], [twins[id(a)] for a in arms]
        long = Comparison(lb, la, (first, horizon), done, seed, engine, _summary(lb, la, kpi), _ranking(lb, la, kpi),
                          kpi, rankings=_rankings(lb, la, kpi), follow_up=follow_up)
    return Comparison(base, arms, (first, last), done, seed, engine, _summary(base, arms, kpi),
                      _ranking(base, arms, kpi), kpi, long, rankings=_rankings(base, arms, kpi), follow_up=follow_up)


def _rankings(base: Arm, arms: list[Arm], kpi: str) -> dict[str, pd.DataFrame]:
    """The ranking by each headline measure and by ``kpi``; a measure with no value (a cohort share censored
    for want of follow-up) is left out rather than ranked on nothing."""
    out = {}
    for key in dict.fromkeys([*HEADLINES, kpi]):
        if np.isfinite(base.frame()[key].to_numpy()).any():
            out[key] = _ranking(base, arms, key)
    return out
