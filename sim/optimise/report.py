"""The chosen mix re-estimated on fresh replications, compared, and written out.

The search's own estimate of its best mix is biased upwards (the best of many
noisy estimates: the optimiser's curse), so every figure reported here comes
from fresh replication numbers (:data:`~sim.optimise.evaluate.FRESH_FIRST`
on), paired with the baseline, the best single lever and every shipped
scenario on those same numbers.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.analysis.compare import label
from sim.analysis.figures import figure_builder, new_figure, save_figure
from sim.analysis.paired import paired
from sim.budget import scenario_toml
from sim.optimise.evaluate import FRESH_FIRST, Evaluator
from sim.optimise.search import SearchResult
from sim.optimise.space import Mix, Space, max_cost
from sim.scenario import LEVER_GROUPS, LEVER_GROUPS_ZH, Scenario, ScenarioMeta
from sim.store import atomic_file

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from sim.optimise.world_confirm import FreshWorlds


@dataclass
class Fresh:
    """Fresh replications shared by every budget: the baseline's and each shipped scenario's KPI."""

    ev: Evaluator
    reps: int
    shipped: list[Scenario]
    progress: Callable[[int], None] | None = None
    _frames: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def numbers(self) -> range:
        return range(FRESH_FIRST, FRESH_FIRST + self.reps)

    def frame(self, key: str, sc: Scenario) -> pd.DataFrame:
        """Every KPI of ``sc`` on the fresh replications (run once per key)."""
        if key not in self._frames:
            self._frames[key] = self.ev.frame(sc, self.numbers, key, self.progress)
        return self._frames[key]

    def base(self) -> np.ndarray:
        return self.values("<baseline>", self.ev.baseline)

    def values(self, key: str, sc: Scenario) -> np.ndarray:
        return self.frame(key, sc)[self.ev.kpi].to_numpy(dtype=float)

    def payouts(self, key: str) -> dict[str, float]:
        """Extra subsidies, awards and rewards paid (M yuan over the window) by ``key`` vs the baseline."""
        st = paired(self._frames["<baseline>"]["payouts"].to_numpy(), self._frames[key]["payouts"].to_numpy(), False)
        return {"mean": st["diff"], "lo": st["lo"], "hi": st["hi"]}

    def stats(self, a: np.ndarray, b: np.ndarray) -> dict[str, float]:
        st = paired(a, b, self.ev.higher_is_better)
        return {"mean": st["diff"], "lo": st["lo"], "hi": st["hi"]}


def confirm(space: Space, fresh: Fresh, res: SearchResult, budget: float,
            fw: FreshWorlds | None = None) -> dict[str, Any]:
    """The best mix, the best single lever and the shipped scenarios within the budget, on fresh replications
    (and, with ``fw``, in fresh worlds: :func:`~sim.optimise.world_confirm.world_fields`)."""
    sign = 1.0 if fresh.ev.higher_is_better else -1.0
    base = fresh.base()
    mix = fresh.values(f"mix:{budget:.0f}", space.scenario(res.best_mix))
    d = fresh.stats(base, mix)
    out: dict[str, Any] = {
        "budget_yuan_per_year": budget, "max_yearly_cost_yuan": space.max_yearly_cost(res.best_mix),
        "kpi": fresh.ev.kpi, "delta_mean": d["mean"], "delta_lo": d["lo"], "delta_hi": d["hi"],
        "extra_payouts_myuan": fresh.payouts(f"mix:{budget:.0f}"),
        # with worlds the search's own figures are over worlds (world_fields), not at the stated values
        "search_delta_mean": None if fw else sign * res.best_score,
        "selection_delta_mean": None if fw else sign * res.selection_score,
    }
    rows: list[dict[str, Any]] = []
    for sc in fresh.shipped:
        cost = max_cost(sc)
        v = fresh.values(sc.id, sc)
        s = fresh.stats(base, v)
        vs = fresh.stats(v, mix)
        rows.append({"id": sc.id, "max_yearly_cost_yuan": cost, "within_budget": cost <= budget * (1 + 1e-9),
                     "delta_mean": s["mean"], "delta_lo": s["lo"], "delta_hi": s["hi"],
                     "diff_mix_minus_this_mean": vs["mean"], "diff_lo": vs["lo"], "diff_hi": vs["hi"]})
    within = [r for r in rows if r["within_budget"]]
    best = max(within, key=lambda r: sign * r["delta_mean"]) if within else None
    out.update({"best_shipped_id": best["id"] if best else None,
                "best_shipped_delta_mean": best["delta_mean"] if best else None,
                "diff_vs_best_shipped_mean": best["diff_mix_minus_this_mean"] if best else None,
                "diff_vs_best_shipped_lo": best["diff_lo"] if best else None,
                "diff_vs_best_shipped_hi": best["diff_hi"] if best else None})
    if res.single_id:
        single = fresh.values(f"single:{budget:.0f}", space.scenario(res.single_mix))
        s, vs = fresh.stats(base, single), fresh.stats(single, mix)
        out.update({"best_single_lever": res.single_id, "best_single_intensity": res.single_mix[res.single_id],
                    "best_single_yearly_cost_yuan": space.max_yearly_cost(res.single_mix),
                    "best_single_delta_mean": s["mean"], "best_single_delta_lo": s["lo"],
                    "best_single_delta_hi": s["hi"], "diff_vs_best_single_mean": vs["mean"],
                    "diff_vs_best_single_lo": vs["lo"], "diff_vs_best_single_hi": vs["hi"]})
    if fw is not None:
        from sim.optimise.world_confirm import world_fields

        out.update(world_fields(space, fw, res, budget, rows))
    out["shipped"] = rows
    out["mix"] = {k: v for k, v in res.best_mix.items() if v > 0}
    out["search"] = {"trial": res.best_trial, "tag": res.best_tag, "trials_complete": res.complete,
                     "trials_pruned": res.pruned}
    out["fresh_replications"] = [fresh.numbers.start, fresh.numbers.stop - 1]
    return out


def _write_text(path: Path, text: str) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _nan_to_none(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _nan_to_none(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_nan_to_none(v) for v in x]
    return x


def write_json(path: Path, data: dict[str, Any]) -> None:
    _write_text(path, json.dumps(_nan_to_none(data), ensure_ascii=False, indent=2) + "\n")


def best_toml(space: Space, mix: Mix, result: dict[str, Any], out_dir: Path, baseline_path: Path) -> str:
    """A scenario file of the mix on top of the baseline (levers resized, texts and sources kept)."""
    b = result["budget_yuan_per_year"]
    kpi = result["kpi"]
    meta = ScenarioMeta(
        id=f"best_{b:.0f}"[:64], group="custom",
        base=os.path.relpath(baseline_path.resolve(), out_dir.resolve()),
        name_en=f"Best mix found for {b / 1e6:g} M yuan a year ({label(kpi)})",
        name_zh=f"每年{b / 1e4:g}万元预算下的最优措施组合({label(kpi, 'zh')})",
        description_en=(f"Found by `convsim optimise`; at most {result['max_yearly_cost_yuan']:,.0f} yuan in any year. "
                        f"Δ {kpi} 2023–horizon vs the baseline on fresh replications: {result['delta_mean']:+.2f} "
                        f"[{result['delta_lo']:+.2f}, {result['delta_hi']:+.2f}]."),
        description_zh=(f"由 convsim optimise 求得;每年支出不超过{result['max_yearly_cost_yuan']:,.0f}元。"
                        f"与基线相比(新重复样本):{result['delta_mean']:+.2f}"
                        f"[{result['delta_lo']:+.2f}, {result['delta_hi']:+.2f}]。"),
    ).model_dump(mode="python")
    header = ("Written by `convsim optimise`: the best mix of the group scenarios' levers found for a yearly budget.\n"
              "Each lever is its group file's lever at an intensity (size and cost scaled, MODEL.md §3.7);\n"
              "edit freely.")
    return scenario_toml(meta, [lv for lv in space.levers(mix, note=True)], header)


def write_best(space: Space, res: SearchResult, result: dict[str, Any], out_dir: Path, baseline_path: Path) -> None:
    """``best.toml``, ``best.csv``, ``result.json`` and ``summary.txt`` of one budget."""
    _write_text(out_dir / "best.toml", best_toml(space, res.best_mix, result, out_dir, baseline_path))
    with atomic_file(out_dir / "best.csv") as tmp, tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["lever", "intensity", "yuan_per_year"])
        for d in space.dims:
            k = res.best_mix.get(d.id, 0.0)
            if k > 0:
                w.writerow([d.id, f"{k:.6g}", f"{d.cost(k):.2f}"])
    write_json(out_dir / "result.json", result)
    _write_text(out_dir / "summary.txt", summary_text(space, res.best_mix, result))


def _effect(space: Space, lever_id: str, k: float) -> str:
    d = space.by_id[lever_id]
    lv = space.levers({lever_id: k})[0]
    before = float(getattr(getattr(space.baseline.params, lv.param.split(".")[0]), lv.param.split(".")[1]))
    if lv.mode == "add":
        return f"{lv.param} {before:g} → {before + lv.value:.4g}" + (" (whole units)" if d.whole else "")
    if lv.mode == "multiply":
        return f"{lv.param} × {lv.value:.4g} ({before:g} → {before * lv.value:.4g})"
    return f"{lv.param} {before:g} → {lv.value:.4g}"


def summary_text(space: Space, mix: Mix, r: dict[str, Any]) -> str:
    """The mix in Chinese and English: which levers, how much, what they do, why, and how sure."""
    kpi = r["kpi"]
    b = r["budget_yuan_per_year"]
    n = r["fresh_replications"][1] - r["fresh_replications"][0] + 1
    lines = [f"每年预算{b:,.0f}元的最优措施组合 / Best mix for a budget of {b:,.0f} yuan a year",
             f"指标 KPI: {label(kpi, 'zh')} / {label(kpi)}, 2023–horizon, paired with the baseline",
             f"每年支出 Spends at most: {r['max_yearly_cost_yuan']:,.0f} yuan/year",
             f"Δ 与基线相比 vs baseline ({n} fresh replications 新重复样本, 95 %"
             f"{', at the stated values 按所述参数与措施效果' if r.get('worlds') else ''}): {r['delta_mean']:+.2f} "
             f"[{r['delta_lo']:+.2f}, {r['delta_hi']:+.2f}]"]
    if r.get("search_delta_mean") is not None:
        lines.append(f"  搜索内估计 search's own estimate {r['search_delta_mean']:+.2f}, on the selection replications "
                     f"{r['selection_delta_mean']:+.2f} (chosen on these, so biased upwards: the optimiser's curse "
                     "优化者诅咒; quote the fresh figure)")
    if r.get("best_shipped_id"):
        lines.append(f"与预算内最佳现有方案相比 vs best shipped scenario within budget ({r['best_shipped_id']}, Δ "
                     f"{r['best_shipped_delta_mean']:+.2f}): {r['diff_vs_best_shipped_mean']:+.2f} "
                     f"[{r['diff_vs_best_shipped_lo']:+.2f}, {r['diff_vs_best_shipped_hi']:+.2f}]")
    else:
        lines.append("预算内没有现有方案 / no shipped scenario costs this little")
    if r.get("best_single_lever"):
        lines.append(f"与最佳单项措施相比 vs best single lever ({r['best_single_lever']} at intensity "
                     f"{r['best_single_intensity']:.3g}, Δ {r['best_single_delta_mean']:+.2f}): "
                     f"{r['diff_vs_best_single_mean']:+.2f} [{r['diff_vs_best_single_lo']:+.2f}, "
                     f"{r['diff_vs_best_single_hi']:+.2f}]")
    if r.get("worlds"):
        from sim.optimise.world_confirm import world_lines

        lines += world_lines(r)
    pay = r["extra_payouts_myuan"]
    years = r["window"][1] - r["window"][0] + 1 if "window" in r else 5
    lines.append(f"另需 Also paid from the existing fund and county budgets (subsidies, awards, high-tech rewards "
                 f"on the extra projects; not in the budget): {pay['mean']:+.2f} M yuan over the window "
                 f"[{pay['lo']:+.2f}, {pay['hi']:+.2f}], ≈ {pay['mean'] / years:+.2f} M a year")
    lines += ["", "措施 Levers (intensity 1 = as in the group scenario 强度1=对策方案原规模):"]
    for d in space.dims:
        k = mix.get(d.id, 0.0)
        if k <= 0:
            continue
        lv = d.lever
        gi = LEVER_GROUPS.index(lv.group)
        lines += [f"- {lv.name_zh} / {lv.name_en}  [{LEVER_GROUPS_ZH[gi]} / {lv.group}; {lv.report_ref}]",
                  f"  强度 intensity {k:.3g} (max {d.k_max:g}); {d.cost(k):,.0f} 元/yuan a year; "
                  f"{_effect(space, d.id, k)}",
                  f"  为什么 why: {lv.rationale_zh} / {lv.rationale_en}",
                  f"  成本来源 cost source: {lv.cost_source}"]
    return "\n".join(lines) + "\n"


def write_frontier(rows: list[dict[str, Any]], shipped: list[dict[str, Any]], out_dir: Path, kpi: str) -> None:
    """``frontier.csv`` (one row per budget) and ``frontier.png`` (gain against budget, shipped scenarios as points)."""
    cols = ["budget_yuan_per_year", "max_yearly_cost_yuan", "delta_mean", "delta_lo", "delta_hi",
            "search_delta_mean", "best_single_lever", "best_single_delta_mean", "best_shipped_id",
            "best_shipped_delta_mean", "diff_vs_best_shipped_lo", "diff_vs_best_shipped_hi", "mix"]
    worlds = bool(rows[0].get("worlds"))
    if worlds:
        cols[-1:-1] = ["world_delta_mean", "delta_world_p10", "delta_world_p90", "world_objective", "p_gain",
                       "best_shipped_world_id", "p_beats_best_shipped", "p_beats_best_single", "cost_world_p95_yuan",
                       "p_cost_over_budget"]
    with atomic_file(out_dir / "frontier.csv") as tmp, tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in rows:
            w.writerow([" ".join(f"{k}={v:.3g}" for k, v in r["mix"].items()) if c == "mix" else r.get(c)
                        for c in cols])
    with atomic_file(out_dir / "frontier.png") as tmp:
        save_figure(fig_frontier(rows, shipped, kpi), tmp, dpi=130)


@figure_builder
def fig_frontier(rows: list[dict[str, Any]], shipped: list[dict[str, Any]], kpi: str, lang: str = "both") -> Figure:
    """Gain against yearly budget (the best mix with its 95 % interval, over worlds its 10–90 % band, the best
    single lever) and the shipped scenarios as points; labels in ``lang`` (``"zh"``, ``"en"`` or both)."""

    def t(zh: str, en: str) -> str:
        return zh if lang == "zh" else en if lang == "en" else f"{zh} / {en}"

    worlds = bool(rows[0].get("worlds"))
    fig, axes = new_figure(8, 5.2)
    ax = axes[0, 0]
    x = np.array([r["budget_yuan_per_year"] for r in rows]) / 1e6
    y = np.array([r["delta_mean"] for r in rows])
    err = np.array([[r["delta_mean"] - r["delta_lo"] for r in rows], [r["delta_hi"] - r["delta_mean"] for r in rows]])
    ax.errorbar(x, y, yerr=err, marker="o", color="C0", capsize=3,
                label=t("最优组合(95 %", "best mix (95 %") + (t(",设定值)", ", stated values)") if worlds else ")"))
    if worlds:
        ax.fill_between(x, [r["delta_world_p10"] for r in rows], [r["delta_world_p90"] for r in rows], color="C0",
                        alpha=0.15, label=t("最优组合,新世界间10–90 %", "best mix over fresh worlds (10–90 %)"))
    ys = [r.get("best_single_delta_mean") for r in rows]
    if all(v is not None for v in ys):
        ax.plot(x, np.array(ys, dtype=float), "s--", color="C2", label=t("最佳单项措施", "best single lever"))
    for s in shipped:
        ax.scatter(s["max_yearly_cost_yuan"] / 1e6, s["delta_mean"], color="C3", marker="^", zorder=3)
        ax.annotate(s["id"], (s["max_yearly_cost_yuan"] / 1e6, s["delta_mean"]), fontsize=7, xytext=(4, 2),
                    textcoords="offset points")
    ax.scatter([], [], color="C3", marker="^", label=t("现有方案", "shipped scenarios"))
    ax.axhline(0, color="grey", lw=0.6)
    ax.set_xlabel(t("每年预算(百万元)", "Yearly budget (M yuan)"))
    ax.set_ylabel(f"Δ {label(kpi, 'zh')}" if lang == "zh" else f"Δ {label(kpi)}" if lang == "en"
                  else f"Δ {label(kpi, 'zh')} / {label(kpi)}")
    ax.set_title(t("成本–收益前沿(相对基线,新的配对重复)",
                   "Cost–gain frontier (vs baseline, fresh paired replications)"), fontsize=11)
    ax.legend(fontsize=8, loc="lower right")
    return fig
