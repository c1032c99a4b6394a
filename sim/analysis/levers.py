"""One lever at a time: every lever of every group scenario alone against the baseline (``convsim levers``).

A planner's first question about the report's section 三 is measure by measure: what does *this* measure
buy, on its own, in Suizhou's situation? Each lever of the five group scenarios (g1–g5) becomes a scenario
of its own — the baseline plus that lever — and all of them run on the baseline's seed and replication
numbers (common random numbers), so each difference is paired. The table carries the lever's evidence
(effect source and plausible range, cost source and cost) beside its paired effect on industrialisations
2023–2027, so a reader sees at once how much each result rests on an assumption.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.errors import InputError
from sim.scenario import GROUP_FILES, Lever, Scenario, ScenarioMeta, load_scenario

#: Columns of levers.csv, in order.
COLUMNS: tuple[str, ...] = ("lever", "group", "report_ref", "effect_source", "effect_low", "effect_high",
                            "cost_source", "yuan_per_year", "delta_mean", "delta_lo", "delta_hi")


@dataclass(frozen=True)
class Single:
    """One lever alone on the baseline: the scenario to run and where the lever came from."""

    lever: Lever
    scenario: Scenario
    source: str


def single_lever_scenarios(baseline: Scenario, scenario_dir: Path) -> list[Single]:
    """Every lever of the group files in ``scenario_dir``, each as the baseline plus that lever alone."""
    out: list[Single] = []
    seen: set[str] = set()
    for name in GROUP_FILES:
        path = scenario_dir / name
        group = load_scenario(path)
        for lv in group.levers:
            if lv.id in seen:
                raise InputError(f"{path}: key 'levers.{lv.id}': lever ids must be unique across the group files")
            seen.add(lv.id)
            meta = ScenarioMeta(id=lv.id, name_en=lv.name_en, name_zh=lv.name_zh, group="custom",
                                description_en=f"{baseline.id} + lever {lv.id} of {group.id} alone", base=None)
            sc = Scenario(scenario=meta, params=baseline.params, levers=[lv])
            out.append(Single(lv, sc, f"{path} (lever {lv.id})"))
    return out


def lever_table(baseline: Scenario, singles: list[Single], reps: int, seed: int, engine: str = "auto",
                progress: Callable[[int], None] | None = None, baseline_source: str = "<baseline>") -> pd.DataFrame:
    """Run every single-lever scenario paired with the baseline; one row per lever (columns :data:`COLUMNS`)."""
    from sim.analysis.compare import HEADLINE, compare

    c = compare(baseline, [(s.scenario, s.source) for s in singles], reps=reps, seed=seed, engine=engine,
                progress=progress, baseline_source=baseline_source)
    head = c.summary[c.summary.kpi == HEADLINE].set_index("scenario")
    rows = []
    for s in singles:
        lv, d = s.lever, head.loc[s.scenario.id]
        rows.append({"lever": lv.id, "group": lv.group, "report_ref": lv.report_ref,
                     "effect_source": lv.effect_source, "effect_low": lv.effect_low, "effect_high": lv.effect_high,
                     "cost_source": lv.cost_source, "yuan_per_year": lv.yearly_cost_yuan,
                     "delta_mean": d["diff"], "delta_lo": d["lo"], "delta_hi": d["hi"]})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def lever_text(df: pd.DataFrame, reps: int, seed: int, window: tuple[int, int] = (2023, 2027)) -> str:
    """What ``convsim levers`` prints: one line per lever, in the report's order."""
    from sim.analysis.kpi import pad

    lines = [f"Each lever alone against the baseline: Δ industrialised {window[0]}–{window[1]}, paired 95 % interval "
             f"({reps} replications, seed {seed})", "",
             f"{'lever':<28} {'ref':<8} {'group':<15} {'Δ mean':>7} {'[95 %]':>17} {'M¥/yr':>6}  effect source"]
    for _, r in df.iterrows():
        flag = "  ← harm" if r["delta_hi"] < 0 else ("" if r["delta_lo"] > 0 else "  (no clear gain)")
        lines.append(f"{r['lever']:<28} {pad(r['report_ref'], 8)} {r['group']:<15} {r['delta_mean']:>+7.2f} "
                     f"[{r['delta_lo']:>+7.2f}, {r['delta_hi']:>+7.2f}] {r['yuan_per_year'] / 1e6:>6.2f}  "
                     f"{r['effect_source'][:60]}{flag}")
    return "\n".join(lines)


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:g}"


def lever_markdown(scenario_dir: Path) -> str:
    """MODEL.md's table of every lever of g1–g5: mechanism, effect source and range, cost and its source."""
    lines = ["| lever | report | mechanism (parameter, mode, size; what it means) | effect source | effect range "
             "| yuan/year | cost source (range) |",
             "|---|---|---|---|---|---|---|"]
    for name in GROUP_FILES:
        for lv in load_scenario(scenario_dir / name).levers:
            cost_rng = f" ({_num(lv.cost_low)}–{_num(lv.cost_high)})" if lv.cost_low is not None \
                and lv.cost_high is not None else ""
            lines.append(f"| `{lv.id}` | {lv.report_ref} | `{lv.param}` {lv.mode} {_num(lv.value)}: {lv.rationale_en} "
                         f"| {lv.effect_source} | {_num(lv.effect_low)}–{_num(lv.effect_high)} "
                         f"| {_num(lv.yearly_cost_yuan)} | {lv.cost_source}{cost_rng} |")
    return "\n".join(lines)
