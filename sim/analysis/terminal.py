"""Plain-text tables for the terminal: what ``convsim compare`` prints."""

from __future__ import annotations

from sim.analysis.compare import Comparison
from sim.analysis.paired import HEADLINE


def ranking_text(c: Comparison, lang: str = "en") -> str:
    """The ranking as ``convsim compare`` prints it: one line per scenario, best first."""
    s = c.summary
    zh = lang == "zh"
    names = {a.scenario.id: (a.scenario.scenario.name_zh if zh else a.scenario.scenario.name_en) for a in c.arms}
    ranked = f"Δ {c.kpi} [95 %]"
    other = ("Δ industrialised", HEADLINE) if c.kpi != HEADLINE else ("Δ introduced+conv.", "introduced_converted")
    head = (f"{'#':>3} {'scenario':<22} {ranked:>26} {'P(better)':>9} {'verdict':<14}"
            f" {other[0]:>16} {'Δ ind/offered':>13} {'Δ years to prod.':>16} {'Δ fiscal M¥':>12}"
            f" {'M¥ per extra':>12}  name")
    lines = [f"{c.window[0]}–{c.window[1]}, ranked by {c.kpi}", head, "-" * len(head)]
    get = s.set_index(["scenario", "kpi"])
    for _, r in c.ranking.iterrows():
        sid = r["scenario"]
        h = get.loc[(sid, c.kpi)]
        verdict = "gain" if h["gain"] else ("loss" if h["loss"] else "no clear gain")
        if r["tied_with_previous"]:
            verdict += " ≈↑"
        per = get.loc[(sid, HEADLINE), "cost_per_extra_industrialisation_myuan"]
        lines.append(
            f"{r['rank']:>3} {sid:<22} {h['diff']:>+8.3g} [{h['lo']:>+7.3g}, {h['hi']:>+7.3g}] {h['p_beat']:>9.2f}"
            f" {verdict:<14} {get.loc[(sid, other[1]), 'diff']:>+16.2f}"
            f" {100 * get.loc[(sid, 'rate_overall'), 'diff']:>+11.2f}pp"
            f" {get.loc[(sid, 'time_to_production'), 'diff']:>+16.3f} {get.loc[(sid, 'fiscal_cost'), 'diff']:>+12.2f}"
            f" {'–' if per != per else f'{per:.2f}':>12}  {names[sid]}")
    lines.append("≈↑ = indistinguishable from the scenario ranked above (paired 95 % interval crosses zero); "
                 "'gain' only when the whole interval is above zero.")
    return "\n".join(lines)
