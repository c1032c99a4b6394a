"""Plain-text tables for the terminal: what ``convsim compare`` prints."""

from __future__ import annotations

import math

from sim.analysis.compare import Comparison
from sim.analysis.page import probability, years
from sim.analysis.paired import HEADLINE, HEADLINES

#: Column titles of the headline measures (sim.analysis.paired.HEADLINES), each followed by its rank.
_HEAD = {"introduced_converted": ("Δ 转化 introduced", "Δ 引进转化"),
         "industrialised": ("Δ 产业化 industr.", "Δ 产业化"),
         "cohort_industrialised_5y": ("Δ cohort→prod 5y", "Δ 队列5年产业化率")}


def _rank(c: Comparison, key: str, sid: str) -> str:
    r = c.rankings.get(key)
    return "–" if r is None else str(r.set_index("scenario")["rank"].astype(int)[sid])


def ranking_text(c: Comparison, lang: str = "en") -> str:
    """The ranking as ``convsim compare`` prints it: one line per scenario, best first.

    Beside the ranking KPI: the report's 转化 (results introduced and converted), 产业化 (industrialised
    projects) and the cohort conversion rate (of the results offered in the window, the share in production
    within 5 years), each with the rank it alone would give (#).
    """
    s = c.summary
    zh = lang == "zh"
    names = {a.scenario.id: (a.scenario.scenario.name_zh if zh else a.scenario.scenario.name_en) for a in c.arms}
    ranked = f"Δ {c.kpi} [95 %]"
    heads = "".join(f" {_HEAD[k][1 if zh else 0]:>17} {'#':>2}" for k in HEADLINES)
    head = (f"{'#':>3} {'scenario':<22} {ranked:>26} {'P(better)':>9} {'verdict':<14}{heads}"
            f" {'Δ years to prod.':>16} {'Δ fiscal M¥/yr':>14} {'M¥ per extra':>12}  name")
    lines = [f"{c.window[0]}–{c.window[1]}, ranked by {c.kpi}", head, "-" * len(head)]
    get = s.set_index(["scenario", "kpi"])
    n_years = years(c)  # budgets are yearly: so is the cost printed beside them
    for _, r in c.ranking.iterrows():
        sid = r["scenario"]
        h = get.loc[(sid, c.kpi)]
        verdict = "gain" if h["gain"] else ("loss" if h["loss"] else "no clear gain")
        if r["tied_with_previous"]:
            verdict += " ≈↑"
        per = get.loc[(sid, HEADLINE), "cost_per_extra_industrialisation_myuan"]
        cells = ""
        for k in HEADLINES:
            d = float(get.loc[(sid, k), "diff"])
            v = "–" if math.isnan(d) else (f"{100 * d:+.2f}pp" if k.startswith("cohort_") else f"{d:+.2f}")
            cells += f" {v:>17} {_rank(c, k, sid):>2}"
        cost_year = get.loc[(sid, "fiscal_cost"), "diff"] / n_years
        lines.append(
            f"{r['rank']:>3} {sid:<22} {h['diff']:>+8.3g} [{h['lo']:>+7.3g}, {h['hi']:>+7.3g}]"
            f" {probability(h['p_beat']):>9} {verdict:<14}{cells}"
            f" {get.loc[(sid, 'time_to_production'), 'diff']:>+16.3f} {cost_year:>+14.2f}"
            f" {'–' if per != per else f'{per:.2f}':>12}  {names[sid]}")
    lines.append("≈↑ = indistinguishable from the scenario ranked above (paired 95 % interval crosses zero); "
                 "'gain' only when the whole interval is above zero. 转化 = results introduced and converted "
                 "(the report's 引进转化), 产业化 = industrialised projects, cohort→prod 5y = of the results offered "
                 "in the window, the share in production within 5 years (pp); # = the rank by that measure alone; "
                 "Δ fiscal M¥/yr = the extra fiscal cost a year, averaged over the window; M¥ per extra = the window's "
                 "extra fiscal cost per extra industrialised project.")
    if "cohort_industrialised_5y" not in c.rankings:
        lines.append(f"cohort rates censored: the runs followed the window {c.follow_up} years past the horizon "
                     "(--follow-up 6 follows its last cohort 5 years)")
    return "\n".join(lines)
