"""The chosen mix re-estimated in fresh worlds: how sure, and what the budget risks when costs are uncertain.

The fresh worlds (numbers from :data:`~sim.optimise.robust.FRESH_WORLD_FIRST`
on) and their replications (numbers from
:data:`~sim.optimise.evaluate.FRESH_FIRST` on) were never seen by the search or
the selection. In each, the baseline, the mix, the best single lever and every
shipped scenario run on the same replication numbers, so every difference is
paired within the world; across worlds:

- ``world_delta_mean``, ``delta_world_p10``, ``delta_world_p90``: the mean and
  the 10th and 90th percentiles over worlds of the mix's mean Δ;
- ``world_objective``: the search's objective (``--risk``) on the fresh worlds
  (with ``regret``: the 90th-percentile regret against the same comparison set,
  every alternative run in the fresh worlds too; less is better);
- ``p_gain``: the share of worlds where the mix gains (its paired 95 % interval
  wholly on the good side of zero, as in ``convsim compare``);
- ``p_beats_best_shipped``, ``p_beats_best_single``: the share of worlds where
  the mix's Δ is better than that of the best shipped scenario within the
  budget (best by the same objective over these worlds) and of the best single lever.

**Budget.** The constraint holds at the stated (central) costs: the
``yearly_cost_yuan`` the files state, which the budget office sets money
against. With cost uncertainty a mix that spends the whole budget at its
stated costs will exceed it in some worlds; the report says how often and by
how much (``p_cost_over_budget``, ``cost_world_p95_yuan`` over
:data:`~sim.optimise.robust.COST_WORLDS` cost draws of the fresh worlds' kind),
so the office can hold a reserve or choose a smaller budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.analysis.paired import paired
from sim.analysis.worlds import World
from sim.optimise.evaluate import FRESH_FIRST
from sim.optimise.robust import WorldEvaluator, comparison_set, cost_risk, regret_value, reported, risk_value
from sim.optimise.search import SearchResult
from sim.optimise.space import Space
from sim.scenario import Scenario


@dataclass
class FreshWorlds:
    """Fresh worlds shared by every budget: each arm's KPI per world and replication, run once per key."""

    ev: WorldEvaluator
    worlds: list[World]
    reps: int
    shipped: list[Scenario]
    progress: Callable[[int], None] | None = None
    _kpi: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ev.add_worlds(self.worlds)

    @property
    def numbers(self) -> range:
        return range(FRESH_FIRST, FRESH_FIRST + self.reps)

    def values(self, key: str, sc: Scenario) -> np.ndarray:
        """The KPI of ``sc``: one row per fresh world, one column per fresh replication."""
        if key not in self._kpi:  # every world in one batch on the evaluator's executor
            frames = self.ev.frames([(sc, w.index, self.numbers, key) for w in self.worlds], self.progress)
            self._kpi[key] = np.array([f[self.ev.kpi].to_numpy(float) for f in frames])
        return self._kpi[key]

    def per_world(self, key: str, sc: Scenario) -> tuple[np.ndarray, np.ndarray]:
        """Per world: the mean paired Δ against the baseline, and whether the world gains (95 % interval)."""
        base = self.values("<baseline>", self.ev.baseline)
        vals = self.values(key, sc)
        stats = [paired(b, v, self.ev.higher_is_better) for b, v in zip(base, vals, strict=True)]
        return np.array([s["diff"] for s in stats]), np.array([bool(s["gain"]) for s in stats])


def _p_beats(d_mix: np.ndarray, d: np.ndarray, sign: float) -> float | None:
    """Share of worlds where the mix's Δ is better than ``d``; None when they are the same scenario (equal in
    every world, e.g. the best single lever chosen as the mix)."""
    if np.array_equal(d_mix, d):
        return None
    return float(np.mean(sign * (d_mix - d) > 0))


def _summary(fw: FreshWorlds, d: np.ndarray, best: np.ndarray | None) -> dict[str, float]:
    """Mean, 10th and 90th percentiles of the per-world Δ ``d``, and the objective as reported (with
    ``regret``, against ``best``, the best alternative's outcome in each world)."""
    sign = 1.0 if fw.ev.higher_is_better else -1.0
    if fw.ev.risk == "regret":
        assert best is not None
        objective = regret_value(sign * d, best)
    else:
        objective = sign * risk_value(sign * d, fw.ev.risk)
    return {"world_delta_mean": float(d.mean()), "world_p10": float(np.quantile(d, 0.10)),
            "world_p90": float(np.quantile(d, 0.90)), "world_objective": objective}


def _best_alternative(fw: FreshWorlds, space: Space, budget: float) -> tuple[np.ndarray, list[str]] | None:
    """With ``regret``: per fresh world the best outcome among doing nothing more (0) and the comparison set
    (signed so that more is better), and the set's keys; else None."""
    if fw.ev.risk != "regret":
        return None
    sign = 1.0 if fw.ev.higher_is_better else -1.0
    alts = comparison_set(space, fw.shipped, budget)
    gains = [sign * fw.per_world(key, sc)[0] for key, sc in alts]
    return np.nanmax(np.vstack([np.zeros(len(fw.worlds)), *gains]), axis=0), [key for key, _ in alts]


def world_fields(space: Space, fw: FreshWorlds, res: SearchResult, budget: float,
                 shipped_rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The mix, the best single lever and the shipped scenarios (their rows updated) over the fresh worlds."""
    ev = fw.ev
    sign = 1.0 if ev.higher_is_better else -1.0
    mix_sc = space.scenario(res.best_mix)
    d_mix, g_mix = fw.per_world(f"mix:{budget:.0f}", mix_sc)
    alt = _best_alternative(fw, space, budget)
    ref = alt[0] if alt is not None else None
    s = _summary(fw, d_mix, ref)
    out: dict[str, Any] = {
        "world_delta_mean": s["world_delta_mean"], "delta_world_p10": s["world_p10"],
        "delta_world_p90": s["world_p90"], "world_objective": s["world_objective"], "p_gain": float(g_mix.mean()),
        "search_world_objective": reported(res.best_score, ev.risk, ev.higher_is_better),
        "selection_world_objective": reported(res.selection_score, ev.risk, ev.higher_is_better),
    }
    if alt is not None:
        out["regret_comparison"] = alt[1]
    # the reported objective's good direction: less regret, else the KPI's
    good = -1.0 if ev.risk == "regret" else sign
    best: tuple[str, float, np.ndarray] | None = None
    by_id = {sc.id: sc for sc in fw.shipped}
    for row in shipped_rows:
        sc = by_id[row["id"]]
        d, g = fw.per_world(sc.id, sc)
        st = _summary(fw, d, ref)
        row.update({**st, "p_gain": float(g.mean()), "p_mix_beats_this": _p_beats(d_mix, d, sign)})
        if row["within_budget"] and (best is None or good * st["world_objective"] > good * best[1]):
            best = (sc.id, st["world_objective"], d)
    out.update({"best_shipped_world_id": best[0] if best else None,
                "best_shipped_world_objective": best[1] if best else None,
                "p_beats_best_shipped": _p_beats(d_mix, best[2], sign) if best else None})
    if res.single_id:
        # keyed as the comparison set keys it (:func:`~sim.optimise.robust.single_levers`): run once
        d, _ = fw.per_world(f"single:{res.single_id}:{budget:.0f}", space.scenario(res.single_mix))
        st = _summary(fw, d, ref)
        out.update({"best_single_world_delta_mean": st["world_delta_mean"],
                    "best_single_world_objective": st["world_objective"],
                    "p_beats_best_single": _p_beats(d_mix, d, sign)})
    out.update(cost_risk(mix_sc, budget, ev.seed))
    out["fresh_worlds"] = [fw.worlds[0].index, fw.worlds[-1].index]
    return out


def _pct(p: float | None) -> str:
    return "–" if p is None else f"{100 * p:.0f} %"


def world_lines(r: dict[str, Any]) -> list[str]:
    """The summary's lines on the worlds (Chinese and English): how sure, and the budget under cost uncertainty."""
    from sim.analysis.uncertainty import SURVIVES

    m = r["fresh_worlds"][1] - r["fresh_worlds"][0] + 1
    risk = {"mean": "平均 the mean over worlds", "p10": "最差10%世界 the 10th percentile over worlds (bad tail)",
            "regret": "后悔值 the 90th-percentile regret (below the best of the shipped scenarios and single levers "
                      "within budget, or doing nothing more)"}
    bias = "optimistic" if r["risk"] == "regret" else "biased upwards"
    lines = [f"在{m}个新世界中 Over {m} fresh worlds (calibrated parameter set, every measure's effect and cost drawn "
             f"from its range; never used to choose; {r['world_reps']} paired replications each) — searched in "
             f"{r['worlds']} worlds for {risk[r['risk']]}:",
             f"  Δ 平均 mean {r['world_delta_mean']:+.2f}; 10 %–90 % of worlds 世界间范围 "
             f"[{r['delta_world_p10']:+.2f}, {r['delta_world_p90']:+.2f}]; objective 目标 ({r['risk']}) "
             f"{r['world_objective']:+.2f} (search's own "
             f"{r['search_world_objective']:+.2f}, selection worlds {r['selection_world_objective']:+.2f}: "
             f"{bias})",
             f"  显著增益的世界比例 gains (paired 95 % interval on the good side) in {_pct(r['p_gain'])} of worlds"]
    if r.get("best_shipped_world_id") and r["p_beats_best_shipped"] is None:
        lines.append(f"  与预算内最佳现有方案相同 the mix is the best shipped scenario within budget over worlds "
                     f"({r['best_shipped_world_id']})")
    elif r.get("best_shipped_world_id"):
        p = r["p_beats_best_shipped"]
        verdict = ("结论经得起不确定性 the ranking survives the uncertainty" if p >= SURVIVES
                   else f"低于{100 * SURVIVES:.0f} %:排序尚不确定 below {100 * SURVIVES:.0f} %: not sure yet")
        lines.append(f"  胜过预算内最佳现有方案 beats the best shipped scenario within budget "
                     f"({r['best_shipped_world_id']}, by the same objective over worlds) in {_pct(p)} of worlds — "
                     f"{verdict}")
    if r.get("best_single_lever") and r.get("p_beats_best_single") is None:
        lines.append(f"  即最佳单项措施 the mix is the best single lever ({r['best_single_lever']})")
    elif r.get("p_beats_best_single") is not None:
        lines.append(f"  胜过最佳单项措施 beats the best single lever ({r['best_single_lever']}) in "
                     f"{_pct(r['p_beats_best_single'])} of worlds")
    lines.append(f"预算 Budget: 按所述成本 at the stated costs (the constraint) {r['max_yearly_cost_yuan']:,.0f} ≤ "
                 f"{r['budget_yuan_per_year']:,.0f} yuan/year; 成本不确定时 with cost uncertainty "
                 f"({r['cost_worlds']:,} draws): mean {r['cost_world_mean_yuan']:,.0f}, 95th percentile "
                 f"{r['cost_world_p95_yuan']:,.0f}; 超出预算的概率 exceeds the budget in "
                 f"{_pct(r['p_cost_over_budget'])} of draws")
    return lines
