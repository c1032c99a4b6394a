"""The report's HTML page: a plain-language summary from the numbers, the tables, and the jinja2 template.

The page is rendered from ``templates/report.html.j2`` (shipped inside the
package) with autoescaping, so scenario and lever names can hold any character.
Every sentence of the summary is generated from the comparison, in the
language of ``--lang``; nothing on the page is written by hand per run.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.compare import HEADLINE, Comparison, label, names, pairwise, unit
from sim.analysis.paired import REPORTED
from sim.labels import size_text
from sim.version import __version__

#: Indicators summed over the window that the page shows per year (budgets are yearly).
YEARLY = ("fiscal_cost",)
#: Units in the reader's language.
UNITS_ZH = {"projects": "项", "share": "百分点", "M yuan": "百万元", "years": "年", "contracts": "项",
            "meetings": "次", "results": "项"}


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def unit_text(key: str, lang: str) -> str:
    """The unit of ``key`` as printed on the page (shares as percentage points)."""
    u = unit(key)
    if lang == "zh":
        return UNITS_ZH.get(u, u)
    return "pp" if u == "share" else u


def _num(v: float, u: str, signed: bool = True) -> str:
    if not np.isfinite(v):
        return "–"
    if u == "share":
        v = 100 * v
    return f"{v:+.2f}" if signed else f"{v:.2f}"


def _join(items: list[str], lang: str) -> str:
    if lang == "zh":
        return "、".join(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _quoted(ids: list[str], nm: dict[str, str], lang: str) -> str:
    """Names in quotes (they hold commas themselves), joined."""
    return _join([f"「{nm[s]}」" if lang == "zh" else f"“{nm[s]}”" for s in ids], lang)


def verdict(row: pd.Series, lang: str) -> str:
    """"gain" only when the whole 95 % interval is on the good side of zero; "loss" likewise; else no clear gain."""
    if row["gain"]:
        return _t(lang, "改善", "gain")
    if row["loss"]:
        return _t(lang, "变差", "loss")
    return _t(lang, "无明确改善", "no clear gain")


def caveat(c: Comparison, lang: str) -> str:
    """What the intervals cover, and what they do not."""
    if c.worlds is not None:
        n = len(c.worlds.worlds)
        return _t(
            lang,
            f"两种区间。排名表中的 95% 区间只反映蒙特卡洛噪声:{c.reps} 次配对重复,均在模型参数的默认值下计算。"
            f"下表把每个方案放到 {n} 个情景世界中:每个世界取一组与报告 2018–2022 年数据相符的"
            "校准参数,并从每项措施效果和成本的合理范围内抽样;它显示这些未知因素对结论的影响。"
            "模型结构本身的不确定性不在任何区间之内。",
            f"Two kinds of interval. The 95 % intervals of the ranking cover Monte Carlo noise only: {c.reps} paired "
            f"replications at the model's default parameters. The table below runs every scenario in {n} worlds, "
            "each a calibrated parameter set that reproduces the report's 2018–2022 figures "
            "and a draw of every measure's effect and cost from its plausible range: it shows how far these "
            "unknowns move the answer. Uncertainty about the model's structure itself is in no interval.")
    return _t(
        lang,
        f"区间只反映蒙特卡洛噪声:{c.reps} 次配对重复(共同随机数)之间的随机差异,且均在模型参数的默认值下计算。"
        "许多默认值是假设(见 MODEL.md 中的 ASM),措施的效果和成本也是假设;这些不确定性不在区间之内。"
        "排名在其他假设下是否成立,见 README「How sure are we?」中的三项扫描(敏感性、稳健性、校准后的参数集)。",
        f"The intervals cover Monte Carlo noise only: the chance differences among {c.reps} paired replications "
        "(common random numbers), all at the model's default parameters. Many defaults are assumptions (ASM in "
        "MODEL.md), and so are the levers' effects and costs; none of that uncertainty is inside these intervals. "
        "Whether the ranking survives other assumptions is measured by the three sweeps in the README's "
        "'How sure are we?' (sensitivity, robustness, calibrated parameter sets).")


def summary_sentences(c: Comparison, lang: str = "en") -> list[str]:
    """A short plain-language summary: which measures win, by how much, how sure, at what cost."""
    nm = names(c, lang)
    head = c.summary[c.summary.kpi == HEADLINE].set_index("scenario")
    rank = c.ranking.set_index("scenario")
    base = float(head["base_mean"].iloc[0])
    gains = [s for s in c.ranking["scenario"] if head.loc[s, "gain"]]
    losses = [s for s in c.ranking["scenario"] if head.loc[s, "loss"]]
    unclear = [s for s in c.ranking["scenario"] if s not in gains and s not in losses]
    w = f"{c.window[0]}–{c.window[1]}"
    out = [_t(lang, f"{w} 年,现状基线预计实现约 {base:.1f} 个产业化项目;{len(c.arms)} 个方案中有 {len(gains)} 个"
                    "确定能增加产业化项目(95% 区间全部在零以上)。",
              f"Over {w} the status quo industrialises about {base:.1f} projects; {len(gains)} of the "
              f"{len(c.arms)} scenarios add projects beyond doubt (the whole 95 % interval above zero).")]
    best = c.ranking.iloc[0]["scenario"]
    b = head.loc[best]
    pct = 100 * b["diff"] / base if base > 0 else np.nan
    if b["gain"]:
        out.append(_t(lang, f"增加最多的是「{nm[best]}」:多 {b['diff']:.1f} 个(95% 区间 {b['lo']:.1f} 至 "
                            f"{b['hi']:.1f}),即 {pct:+.0f}%。",
                      f"Most: “{nm[best]}”, {b['diff']:+.1f} projects (95 % interval {b['lo']:+.1f} to "
                      f"{b['hi']:+.1f}), {pct:+.0f} %."))
        ties = [s for s in c.ranking["scenario"] if s != best and rank.loc[s, "group"] == rank.loc[best, "group"]]
        if ties:
            tn = _quoted(ties, nm, lang)
            out.append(_t(lang, f"{tn}与它差异不显著,无法区分高下。",
                          f"{tn} cannot be told apart from it (their paired difference crosses zero)."))
        nxt = [s for s in gains if s != best and s not in ties][:2]
        if nxt:
            parts = [_t(lang, f"「{nm[s]}」{head.loc[s, 'diff']:+.1f} 个({head.loc[s, 'lo']:.1f} 至 "
                              f"{head.loc[s, 'hi']:.1f})",
                        f"“{nm[s]}” {head.loc[s, 'diff']:+.1f} ({head.loc[s, 'lo']:+.1f} to {head.loc[s, 'hi']:+.1f})")
                     for s in nxt]
            out.append(_t(lang, f"其次:{_join(parts, lang)}。", f"Next: {_join(parts, lang)}."))
    per = head.loc[gains, "cost_per_extra_industrialisation_myuan"].dropna().sort_values()
    if len(per):
        cheap, dear = per.index[0], per.index[-1]
        s = _t(lang, f"每多一个产业化项目的财政成本:最低为「{nm[cheap]}」{per.iloc[0]:.2f} 百万元",
               f"Fiscal cost per extra industrialised project: lowest for “{nm[cheap]}”, {per.iloc[0]:.2f} M yuan")
        if dear != cheap:
            s += _t(lang, f",最高为「{nm[dear]}」{per.iloc[-1]:.2f} 百万元",
                    f"; highest for “{nm[dear]}”, {per.iloc[-1]:.2f} M yuan")
        if best in per.index and best not in (cheap, dear):
            s += _t(lang, f";增加最多的方案为 {per[best]:.2f} 百万元", f"; the leader costs {per[best]:.2f} M yuan")
        out.append(s + _t(lang, "(措施成本加新增补贴奖励,点估计)。",
                          " (lever costs plus extra subsidies and awards; point estimates)."))
    if unclear:
        out.append(_t(lang, f"无明确改善(区间跨零):{_quoted(unclear, nm, lang)}。",
                      f"No clear gain (interval crosses zero): {_quoted(unclear, nm, lang)}."))
    if losses:
        out.append(_t(lang, f"产业化项目反而减少:{_quoted(losses, nm, lang)}。",
                      f"Fewer industrialised projects: {_quoted(losses, nm, lang)}."))
    out.append(_t(lang, f"以上区间只包含 {c.reps} 次重复的蒙特卡洛噪声,且是在默认参数下;参数、措施效果和成本的不确定性"
                        "见排名之后的“结论有多可靠”一节。",
                  f"These intervals hold only the Monte Carlo noise of {c.reps} replications, at the default "
                  "parameters; for the uncertainty in the parameters and in the levers' effects and costs, see "
                  "'How sure are we?' after the ranking."))
    return out


def probability(p: float) -> str:
    """A probability to three decimals, without claiming certainty: ``> 0.999`` rather than ``1.000``."""
    if not np.isfinite(p):
        return "–"
    if p >= 0.9995:
        return "> 0.999"
    if p < 0.0005:
        return "< 0.001"
    return f"{p:.3f}"


def years(c: Comparison) -> int:
    """Years of the comparison's window: a fiscal cost over the window divided by this is its yearly cost."""
    return c.window[1] - c.window[0] + 1


def _ranking_rows(c: Comparison, lang: str) -> list[dict[str, Any]]:
    nm = names(c, lang)
    s = c.summary.set_index(["scenario", "kpi"])
    rows = []
    for _, r in c.ranking.iterrows():
        h = s.loc[(r["scenario"], HEADLINE)]
        f = s.loc[(r["scenario"], "fiscal_cost")]
        pc = h["cost_per_extra_industrialisation_myuan"]
        rows.append({"rank": int(r["rank"]), "name": nm[r["scenario"]], "diff": f"{h['diff']:+.2f}",
                     "interval": f"[{_num(h['lo'], 'projects')}, {_num(h['hi'], 'projects')}]",
                     "p_beat": probability(h["p_beat"]),
                     "verdict": verdict(h, lang), "cls": "gain" if h["gain"] else ("loss" if h["loss"] else ""),
                     "group": int(r["group"]), "tied": bool(r["tied_with_previous"]),
                     "cost_year": _num(f["diff"] / years(c), "M yuan"), "cost_total": _num(f["diff"], "M yuan"),
                     "per": _num(pc, "M yuan", signed=False)})
    return rows


def _kpi_rows(c: Comparison, lang: str) -> list[dict[str, Any]]:
    nm = names(c, lang)
    s = c.summary.set_index(["scenario", "kpi"])
    rows = []
    for sid in c.ranking["scenario"]:
        cells = []
        for k in REPORTED:
            r = s.loc[(sid, k)]
            u = str(r["unit"])
            p = probability(r["p_beat"])
            per = years(c) if k in YEARLY else 1  # budgets are yearly: so is a cost beside them
            # a headline measure (转化, 产业化, the cohort rate) carries the rank it alone gives
            rank = c.rankings.get(k)
            ranked = "" if rank is None else f" (#{int(rank.set_index('scenario').loc[sid, 'rank'])})"
            cells.append({"diff": _num(r["diff"] / per, u) + ranked, "lo": _num(r["lo"] / per, u),
                          "hi": _num(r["hi"] / per, u),
                          "cls": "gain" if r["gain"] else ("loss" if r["loss"] else ""),
                          "title": f"P({_t(lang, '更好', 'better')}) = {p}; {verdict(r, lang)}"})
        rows.append({"name": nm[sid], "cells": cells})
    return rows


def _pairwise(c: Comparison, lang: str) -> dict[str, Any]:
    nm = names(c, lang)
    pw = pairwise(c)
    order = [c.baseline.scenario.id, *c.ranking["scenario"]]
    tags = {sid: str(i) for i, sid in enumerate(order)}  # 0 = baseline, then the rank
    rows = [{"tag": tags[r], "name": nm[r],
             "cells": ["–" if r == k else probability(pw.loc[r, k]) for k in order]}
            for r in order]
    return {"tags": [tags[s] for s in order], "rows": rows}


def _levers(c: Comparison, lang: str) -> list[dict[str, Any]]:
    nm = names(c, lang)
    out = []
    for sid in c.ranking["scenario"]:
        sc = {a.scenario.id: a.scenario for a in c.arms}[sid]
        out.append({"name": nm[sid], "levers": [
            {"name": lv.name_zh if lang == "zh" else lv.name_en,
             "size": _size_unless_said(lv, sc.params, lang), "key": f"{lv.param} {lv.mode} {lv.value:g}",
             "detail": f"{lv.yearly_cost_yuan / 1e6:.2f} {_t(lang, '百万元/年', 'M yuan a year')} "
                       f"({lv.cost_source}); {lv.report_ref}",
             "why": lv.rationale_zh if lang == "zh" else lv.rationale_en} for lv in sc.levers]})
    return out


def _size_unless_said(lv: Any, params: Any, lang: str) -> str:
    """What the lever does at its size, unless its own text already opens with it (a resized lever's does)."""
    size = size_text(lv, params, lang)
    why = lv.rationale_zh if lang == "zh" else lv.rationale_en
    return "" if why.lower().startswith(size.lower()) else size


#: Figure file → (zh, en) heading and (zh, en) how to read it.
FIGURE_TEXT = {
    "worlds.png": (("各情景世界中的差异", "The difference over the worlds"),
                   ("左:默认参数下的 95% 区间(蒙特卡洛噪声);"
                    "右:各情景世界中均值差异的 5–95% 范围,以及增益和最优的世界占比。",
                    "Left: the 95 % interval at the default parameters (Monte Carlo noise); right: the 5–95 % range of "
                    "the mean difference over worlds, with the share of worlds where the scenario gains and is best.")),
    "voi.png": (("下一步该测量什么", "What to measure next"),
                ("各不确定输入与领先方案领先幅度的秩相关:绝对值越大,调查或试点把它弄清楚对决策越有帮助。",
                 "Rank correlation of each uncertain input with the leader's margin over the runner-up: the larger "
                 "it is, the more a survey or a pilot study of that input would sharpen the decision.")),
    "forest.png": (("配对差异", "Paired differences"),
                   ("每行一个方案,按产业化项目增量排序;点为均值,线为 95% 区间。绿色 = 区间全在零以上。",
                    "One row per scenario, ranked by extra industrialised projects; dot = mean, line = 95 % "
                    "interval. Green = the whole interval above zero.")),
    "funnel.png": (("转化漏斗,逐阶段", "The funnel, stage by stage"),
                   ("从对接到产业化,每个阶段各方案较基线多(少)多少;右侧百分比显示增量是否传到下游。",
                    "How many more (or fewer) meetings, contracts, pilot tests and industrialised projects each "
                    "scenario gives than the baseline; the percentages at the right show whether a push at one "
                    "stage carries down the funnel.")),
    "cost_effectiveness.png": (("成本效果", "Cost-effectiveness"),
                               ("每多一个产业化项目的财政成本,最划算的在上;无明确改善的方案列在下方,不计算成本。",
                                "Fiscal cost of one extra industrialised project, cheapest on top; scenarios "
                                "without a clear gain are listed below without a cost per project.")),
    "fans.png": (("累计产业化项目", "Cumulative industrialisations"),
                 ("逐年累计;蓝色带容纳 50% 与 90% 的重复:一个可能的未来会落在哪里,不是均值的置信区间。",
                  "Year by year; the blue bands hold 50 % and 90 % of replications: where one possible future "
                  "falls, not an interval for the mean.")),
    "bottlenecks.png": (("瓶颈", "Bottlenecks"),
                        ("技术经纪人和公共中试基地:多少成果因满负荷被拒、利用率、排队时间;虚线为基线。",
                         "Brokers and public pilot bases: how many results are turned away because they are full, "
                         "how busy they are, how long the wait; dashed line = baseline.")),
}


def context(c: Comparison, lang: str, figs: dict[str, bytes]) -> dict[str, Any]:
    """Everything the template shows, already formatted and in ``lang``."""
    nm = names(c, lang)
    return {
        "lang": lang, "zh": lang == "zh", "window": f"{c.window[0]}–{c.window[1]}", "reps": c.reps,
        "version": __version__,
        "seed": c.seed, "baseline": nm[c.baseline.scenario.id], "summary": summary_sentences(c, lang),
        "caveat": caveat(c, lang), "ranking": _ranking_rows(c, lang),
        "kpis": [{"label": label(k, lang), "unit": unit_text(k, lang) + (_t(lang, "/年", " a year") if k in YEARLY
                                                                          else "")} for k in REPORTED],
        "years": years(c),
        "kpi_rows": _kpi_rows(c, lang), "pairwise": _pairwise(c, lang), "scenarios": _levers(c, lang),
        "worlds": _worlds(c, lang),
        "figures": [_figure(f, data, lang) for f, data in figs.items() if f not in HOW_SURE_FIGURES],
        "sure_figures": {f.partition(".")[0]: _figure(f, data, lang) for f, data in figs.items()
                         if f in HOW_SURE_FIGURES},
    }


#: Figures shown inside the one "How sure are we?" section (after the ranking), not among the others.
HOW_SURE_FIGURES = ("worlds.png", "voi.png")


def _figure(f: str, data: bytes, lang: str) -> dict[str, str]:
    return {"file": f, "title": FIGURE_TEXT[f][0][0 if lang == "zh" else 1],
            "how": FIGURE_TEXT[f][1][0 if lang == "zh" else 1],
            "src": "data:image/png;base64," + base64.b64encode(data).decode()}


def _worlds(c: Comparison, lang: str) -> dict[str, Any] | None:
    """The rows of the 'How sure are we?' section: each scenario over worlds, and what to measure next."""
    if c.worlds is None:
        return None
    from sim.analysis.uncertainty import named_inputs, survives
    from sim.analysis.worlds_report import FEW_WORLDS, input_name, lever_names

    w = c.worlds
    nm = names(c, lang)
    sv = survives(w.summary, w.pairwise).set_index("scenario")
    rows = []
    beats = {str(k): float(v) for k, v in sv["p_beats_next"].items()}
    for key, r in w.summary.iterrows():
        sid = str(key)
        nxt = str(sv.at[sid, "next"])
        rows.append({"name": nm[sid], "mean": f"{r['world_mean']:+.1f}",
                     "range": f"{r['world_p05']:+.1f} … {r['world_p95']:+.1f}", "p_gain": f"{r['p_gain']:.0%}",
                     "p_best": f"{r['p_best']:.0%}", "rank": f"{r['mean_rank']:.1f}",
                     "beats_next": f"{beats[sid]:.0%}", "next": nm.get(nxt, nxt),
                     "survives": bool(sv.at[sid, "survives"])})
    levers = lever_names(c)
    named = named_inputs(w.voi)  # only inputs above the noise floor are named
    voi = [{"input": input_name(i, lang, levers)[0], "key": i, "rho": f"{r:+.2f}"}
           for i, r in zip(named["input"].head(8), named["rho_margin"].head(8), strict=True)]
    leader, runner = str(w.voi.attrs.get("leader")), str(w.voi.attrs.get("runner_up"))
    robust = []
    if w.robustness is not None:
        for key, r in w.robustness.sort_values("regret_p90").iterrows():
            robust.append({"name": nm[str(key)], "mean": f"{r['regret_mean']:.1f}", "p90": f"{r['regret_p90']:.1f}",
                           "max": f"{r['regret_max']:.1f}",
                           "per_myuan": "–" if r["regret_per_myuan_mean"] != r["regret_per_myuan_mean"]
                           else f"{r['regret_per_myuan_mean']:.3g}",
                           "goal": f"{r['p_goal']:.0%}" if w.goal is not None else ""})
    return {"n": len(w.worlds), "reps": w.reps, "rows": rows, "voi": voi, "leader": nm.get(leader, leader),
            "runner": nm.get(runner, runner), "robust": robust, "few": len(w.worlds) < FEW_WORLDS,
            "goal": w.goal.label() if w.goal is not None else None}


def font_face(text: str) -> str:
    """A CSS ``@font-face`` embedding the bundled CJK font, cut down to the characters of ``text``.

    A planner's computer may have no Chinese font the page names (a fresh Linux
    has none): the page then carries its own, subset with fontTools (a
    Matplotlib dependency) to a few hundred kilobytes.
    """
    import io

    from fontTools import subset

    from sim.resources import cjk_font_path

    opts = subset.Options()
    opts.name_IDs = ["*"]
    font = subset.load_font(str(cjk_font_path()), opts)
    try:
        sub = subset.Subsetter(opts)
        sub.populate(text="".join(sorted(set(text))))
        sub.subset(font)
        buf = io.BytesIO()
        font.save(buf)
    finally:
        font.close()  # the font file stays open otherwise
    data = base64.b64encode(buf.getvalue()).decode()
    return (f'@font-face {{ font-family: "{EMBEDDED_FONT}"; '
            f'src: url(data:font/otf;base64,{data}) format("opentype"); }}')


#: The family name of the embedded font on the page.
EMBEDDED_FONT = "convsim Noto Sans CJK"


def render_html(c: Comparison, lang: str, figs: dict[str, bytes], embed_font: bool = True) -> str:
    """The report page, from the package's jinja2 template (with the CJK font it needs embedded)."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("sim.analysis", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=True,
                             lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    template = env.get_template("report.html.j2")
    ctx = context(c, lang, figs)
    page = template.render(**ctx, font_css="", font_family=EMBEDDED_FONT)
    if not embed_font:
        return page
    # the figures are base64 (ASCII), so the page's own characters are what the font must hold
    return template.render(**ctx, font_css=font_face(page), font_family=EMBEDDED_FONT)
