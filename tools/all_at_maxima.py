"""Every measure of the report at once, each at its declared maximum: how far can the city go?

Run: ``python -m tools.all_at_maxima [--reps N] [--seed S]`` (≈ 1 min at 100 replications on 2 cores).

Builds one scenario from the baseline with every lever of the five group scenarios (g1–g5): a paid lever at
its ``max_intensity`` (the optimiser's largest size, :class:`sim.optimise.space.Space`), a lever paid per
project (no yearly cost, so outside the optimiser's space) as written. It is compared with the baseline on
common random numbers (:func:`sim.compare`), and the figures that show where the system saturates are printed
beside the headline: the offers per channel, the meetings a full firm turned away and the results no broker
could take. MODEL.md ("All measures at their maxima") quotes its output.
"""

from __future__ import annotations

import argparse
import time

import sim
from sim.jobs.optimise import GROUP_FILES
from sim.optimise.space import Space
from sim.scenario import ScenarioMeta

#: Record rows that show where the system saturates (sums over the window, mean over replications).
ROWS = ("offers", "offers_event", "offers_platform", "offers_workstation", "offers_agency", "offers_commissioner",
        "offers_institute", "offers_brought_by_vice_presidents", "meetings", "meetings_turned_away_firm_full",
        "unassisted_broker_full", "outside_pilot_base_full")
#: KPIs compared (the report's 转化, 产业化, the cohort share, the stages before).
KPIS = ("introduced_converted", "industrialised", "contracts", "pilots")


def all_at_maxima(root: str = "scenarios") -> sim.Scenario:
    """The baseline with every group lever at its largest size."""
    baseline = sim.load_scenario(f"{root}/baseline.toml")
    groups = [sim.load_scenario(f"{root}/{f}") for f in GROUP_FILES]
    space = Space(groups, baseline)
    paid = space.levers({d.id: d.k_max for d in space.dims})
    unpaid = [lv for g in groups for lv in g.levers if lv.yearly_cost_yuan <= 0]
    meta = ScenarioMeta(id="all_at_maxima", name_en="All measures at their maxima", name_zh="全部措施取上限",
                        group="custom", base=None)
    return baseline.model_copy(update={"scenario": meta, "levers": [*baseline.levers, *paid, *unpaid]})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    baseline = sim.load_scenario("scenarios/baseline.toml")
    top = all_at_maxima()
    print(f"{len(top.levers) - len(baseline.levers)} levers at their maxima; lever cost "
          f"{top.yearly_cost(2027) / 1e6:.1f} M yuan a year")
    start = time.perf_counter()
    c = sim.compare(baseline, [top], reps=args.reps, seed=args.seed)
    r = c.summary.loc["all_at_maxima"]
    first, last = c.window
    print(f"{args.reps} paired replications, seed {args.seed}, {first}–{last}, {time.perf_counter() - start:.0f} s: "
          f"Δ {r['kpi']} {r['delta']:+.1f} [{r['delta_lo']:+.1f}, {r['delta_hi']:+.1f}] "
          f"({100 * r['delta'] / r['base']:+.0f} % of {r['base']:.1f}); Δ introduced & converted "
          f"{r['delta_introduced_converted']:+.1f}; Δ 5-year cohort share industrialised "
          f"{100 * r['delta_cohort_industrialised_5y']:+.2f} points (followed {c.comparison.follow_up} years "
          "past the horizon)")
    arms = {}
    for label, sc in (("baseline", baseline), ("all at maxima", top)):
        rec = sim.run(sc, reps=args.reps, seed=args.seed)
        k = sim.kpis(rec, first, last).mean()
        w = rec[(rec["year"] >= first) & (rec["year"] <= last)].groupby("rep").sum(numeric_only=True).mean()
        arms[label] = (k, w)
    (kb, wb), (kt, wt) = arms["baseline"], arms["all at maxima"]
    print(f"{'':36s} {'baseline':>10s} {'maxima':>10s} {'change':>8s}")
    for key in KPIS:
        print(f"  {key:34s} {kb[key]:10.3f} {kt[key]:10.3f} {100 * (kt[key] / kb[key] - 1):+7.0f} %")
    for key in ROWS:
        change = f"{100 * (wt[key] / wb[key] - 1):+7.0f} %" if wb[key] else f"{'':>9s}"
        print(f"  {key:34s} {wb[key]:10.1f} {wt[key]:10.1f} {change}")


if __name__ == "__main__":
    main()
