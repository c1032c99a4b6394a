"""The planner's report: figures, a self-contained HTML page and the CSV tables.

Every figure is a function ``fig_<name>(c, lang) -> Figure`` that only builds
the figure (see :mod:`sim.analysis.figures`: no global figure manager, no global state);
:func:`write_report` saves them. Scenarios are named by their names in the
chosen language (``--lang``), never by their ids; the ids stay in the CSVs,
where other tools join on them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.analysis.compare import HEADLINE, Comparison, label, names, pairwise, scenario_summary
from sim.analysis.figures import (
    ACCENT,
    BASE,
    GAIN,
    LOSS,
    UNCLEAR,
    cjk_font,
    dot_rows,
    figure_builder,
    new_figure,
    png_bytes,
    short_labels,
)
from sim.analysis.paired import t_interval
from sim.store import atomic_folder

__all__ = ["FIGURES", "cjk_font", "fig_bottlenecks", "fig_cost", "fig_fans", "fig_forest", "fig_funnel",
           "names", "short_names", "summary_table", "write_report"]


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def short_names(c: Comparison, lang: str = "en", width: int = 34) -> dict[str, str]:
    """Names for figure labels: the part before the first colon when that alone tells scenarios apart, wrapped.

    "(4) Intermediaries and IP: brokers, …" becomes "(4) Intermediaries and IP";
    the equal-budget variants share their prefix and keep the whole name.
    """
    return short_labels(names(c, lang), lang, width)


def _verdict_colors(d: pd.DataFrame) -> list[str]:
    return [GAIN if g else (LOSS if lo else UNCLEAR) for g, lo in zip(d["gain"], d["loss"], strict=True)]


def _verdict_legend(fig: Figure, lang: str) -> None:
    handles = [Line2D([], [], color=col, marker="o", lw=1.6, label=txt) for col, txt in (
        (GAIN, _t(lang, "改善:95% 区间全在零以上", "gain: whole 95 % interval above zero")),
        (UNCLEAR, _t(lang, "无明确改善:区间跨零", "no clear gain: interval crosses zero")),
        (LOSS, _t(lang, "变差:区间全在不利一侧", "loss: whole interval on the bad side")))]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=8, frameon=False)


def _rows(c: Comparison, key: str) -> pd.DataFrame:
    """The summary rows of ``key``, scenarios in ranking order (best first)."""
    s = c.summary
    return s[s.kpi == key].set_index("scenario").loc[list(c.ranking["scenario"])]


def _window(c: Comparison) -> str:
    return f"{c.window[0]}–{c.window[1]}"


@figure_builder
def fig_forest(c: Comparison, lang: str = "en") -> Figure:
    """Paired difference from the baseline with its 95 % interval: industrialised projects and the overall rate."""
    order = list(c.ranking["scenario"])
    short = short_names(c, lang)
    keys = [(HEADLINE, 1.0, _t(lang, "项", "projects")),
            ("rate_overall", 100.0, _t(lang, "百分点", "percentage points"))]
    fig, axes = new_figure(12.0, 0.45 * len(order) + 2.2, 1, 2, sharey=True)
    for ax, (key, scale, u) in zip(axes[0], keys, strict=True):
        d = _rows(c, key)
        dot_rows(ax, d["diff"].to_numpy() * scale, d["lo"].to_numpy() * scale, d["hi"].to_numpy() * scale,
                 _verdict_colors(d))
        ax.axvline(0, color=BASE, lw=0.8)
        ax.set_xlabel(_t(lang, f"较基线的变化({u})", f"change from the baseline ({u})"))
        ax.set_title(label(key, lang))
    axes[0][0].set_yticks(range(len(order)), [short[s] for s in order], fontsize=8)
    fig.suptitle(_t(lang, f"各方案与基线的配对差异,{_window(c)},95% 区间(仅蒙特卡洛噪声)",
                    f"Paired difference from the baseline, {_window(c)}, 95 % interval (Monte Carlo noise only)"))
    _verdict_legend(fig, lang)
    return fig


#: The funnel's stages after the offers (offers are the same in every scenario but the awareness levers').
STAGES = (("meetings", "对接", "Meetings"), ("contracts", "签约", "Contracts"), ("pilots", "中试", "Pilot tests"),
          (HEADLINE, "产业化", "Industrialised"))


@figure_builder
def fig_funnel(c: Comparison, lang: str = "en") -> Figure:
    """The funnel stage by stage: each scenario's paired difference from the baseline at every stage."""
    order = list(c.ranking["scenario"])
    short = short_names(c, lang)
    fig, axes = new_figure(13.0, 0.45 * len(order) + 2.4, 1, len(STAGES), sharey=True)
    for j, (key, zh, en) in enumerate(STAGES):
        ax = axes[0][j]
        d = _rows(c, key)
        base = float(d["base_mean"].iloc[0])
        dot_rows(ax, d["diff"].to_numpy(), d["lo"].to_numpy(), d["hi"].to_numpy(), _verdict_colors(d))
        ax.axvline(0, color=BASE, lw=0.8)
        # the relative change beside each dot: does a policy's push survive down the funnel?
        for y, m in enumerate(d["diff"].to_numpy()):
            if np.isfinite(m) and base > 0:
                pct = round(100 * m / base)
                text = "±0%" if pct == 0 else f"{pct:+d}%".replace("-", "\u2212")
                ax.annotate(text, (1.0, y), xycoords=("axes fraction", "data"),
                            xytext=(-2, 0), textcoords="offset points", ha="right", va="center", fontsize=7,
                            color="#555555")
        arrow = " →" if j < len(STAGES) - 1 else ""
        ax.set_title(f"{j + 1}. {_t(lang, zh, en)}{arrow}\n{_t(lang, '基线', 'baseline')} {base:,.0f}")
        ax.set_xlabel(_t(lang, "较基线的变化(个)", "change from the baseline (count)"))
        lo, hi = np.nanmin(np.append(d["lo"].to_numpy(), 0.0)), np.nanmax(np.append(d["hi"].to_numpy(), 0.0))
        ax.set_xlim(lo - 0.05 * (hi - lo + 1e-9), hi + 0.3 * (hi - lo + 1e-9))  # room for the % labels
    axes[0][0].set_yticks(range(len(order)), [short[s] for s in order], fontsize=8)
    fig.suptitle(_t(lang, f"转化漏斗逐阶段:{_window(c)} 累计数量较基线的变化(95% 区间;右侧为相对基线的百分比)",
                    f"The funnel stage by stage: change from the baseline in counts over {_window(c)} "
                    "(95 % intervals; relative change at the right)"))
    _verdict_legend(fig, lang)
    return fig


@figure_builder
def fig_fans(c: Comparison, lang: str = "en") -> Figure:
    """Cumulative industrialised projects year by year: each scenario's fan over the baseline's median."""
    order = list(c.ranking["scenario"])
    arms = {a.scenario.id: a for a in c.arms}
    short = short_names(c, lang, width=38)
    years = np.arange(c.window[0], c.window[1] + 1)
    cols = min(4, len(order))
    rows = int(np.ceil(len(order) / cols))
    fig, axes = new_figure(3.3 * cols + 0.5, 2.7 * rows + 1.0, rows, cols, sharey=True)
    bq = np.quantile(c.baseline.cum(), [0.05, 0.5, 0.95], axis=0)
    for k, sid in enumerate(order):
        ax = axes[k // cols][k % cols]
        q = np.quantile(arms[sid].cum(), [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
        ax.fill_between(years, q[0], q[4], color=ACCENT, alpha=0.2, lw=0, label=_t(lang, "90% 区间", "90 % band"))
        ax.fill_between(years, q[1], q[3], color=ACCENT, alpha=0.35, lw=0, label=_t(lang, "50% 区间", "50 % band"))
        ax.plot(years, q[2], color=ACCENT, lw=1.8, label=_t(lang, "方案中位数", "scenario median"))
        ax.plot(years, bq[1], "--", color=BASE, lw=1.2, label=_t(lang, "基线中位数", "baseline median"))
        ax.set_title(short[sid], fontsize=8)
        ax.set_xticks(years, [str(y) for y in years], fontsize=7)
        ax.grid(alpha=0.3)
    for k in range(len(order), rows * cols):
        axes[k // cols][k % cols].axis("off")
    for r in range(rows):
        axes[r][0].set_ylabel(_t(lang, "累计项目", "projects, cumulative"))
    h, lab = axes[0][0].get_legend_handles_labels()
    fig.legend(h, lab, loc="outside lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(_t(lang, f"累计产业化项目 {_window(c)}(各重复的中位数、50% 与 90% 区间)",
                    f"Cumulative industrialised projects {_window(c)} (median, 50 % and 90 % of replications)"))
    return fig


@figure_builder
def fig_cost(c: Comparison, lang: str = "en") -> Figure:
    """Fiscal cost per extra industrialised project, ranked cheapest first; scenarios with no clear gain below."""
    full = short_names(c, lang, width=44)
    head = _rows(c, HEADLINE)
    cost = _rows(c, "fiscal_cost")
    per = head["cost_per_extra_industrialisation_myuan"]
    ranked = list(per[per.notna()].sort_values().index) + list(per[per.isna()].index)
    fig, axes = new_figure(11.0, 0.45 * len(ranked) + 1.8)
    ax = axes[0][0]
    vals = per.loc[ranked].to_numpy(dtype=float)
    finite = vals[np.isfinite(vals)]
    span = float(np.max(np.abs(finite))) if len(finite) else 1.0
    for y, sid in enumerate(ranked):
        v = vals[y]
        dc, dp = float(cost.loc[sid, "diff"]), float(head.loc[sid, "diff"])
        if np.isfinite(v):
            ax.barh(y, v, color=GAIN, height=0.6)
            note = _t(lang, f"{v:.2f} = {dc:+.1f} 百万元 / {dp:+.1f} 项",
                      f"{v:.2f} = {dc:+.1f} M yuan / {dp:+.1f} projects")
            x, ha = max(v, 0.0), "left"  # a saving (v < 0) is labelled at zero, clear of its bar
        else:
            note = _t(lang, f"无明确改善(产业化 {dp:+.1f} 项,成本 {dc:+.1f} 百万元)",
                      f"no clear gain ({dp:+.1f} projects for {dc:+.1f} M yuan)")
            x, ha = 0.0, "left"
        ax.annotate(note, (x, y), xytext=(4, 0), textcoords="offset points", ha=ha, va="center", fontsize=8,
                    color=BASE if np.isfinite(v) else "#666666")
    ax.axvline(0, color=BASE, lw=0.8)
    ax.set_xlim(min(0.0, float(np.min(finite)) * 1.1) if len(finite) else 0.0, span * 1.7)  # room for the notes
    ax.set_yticks(range(len(ranked)), [full[s] for s in ranked], fontsize=8)
    ax.set_ylim(len(ranked) - 0.5, -0.5)
    ax.grid(alpha=0.3, axis="x")
    ax.set_xlabel(_t(lang, f"每多一个产业化项目的财政成本(百万元;{_window(c)} 措施成本 + 新增补贴奖励)",
                     f"fiscal cost per extra industrialised project (M yuan; levers + extra payouts, {_window(c)})"))
    fig.suptitle(_t(lang, "成本效果:每多一个产业化项目花多少钱(越短越划算;仅对有明确改善的方案)",
                    "Cost-effectiveness: what one extra industrialised project costs (shorter is better; "
                    "only scenarios with a clear gain)"))
    return fig


#: Bottleneck panels: KPI key, scale, zh and en titles, zh and en units.
BOTTLENECKS = (
    ("broker_turned_away", 1.0, "技术经纪人满负荷、未受理的成果", "Results turned away: every broker busy",
     "个", "results"),
    ("broker_utilisation", 100.0, "技术经纪人利用率", "Broker utilisation", "%", "%"),
    ("wait_pilot", 12.0, "公共中试基地排队时间", "Wait for a public pilot-base slot", "月", "months"),
    ("pilot_turned_away", 1.0, "公共中试基地已满、转到外地的中试", "Pilots sent outside: public bases full",
     "项", "projects"),
)


@figure_builder
def fig_bottlenecks(c: Comparison, lang: str = "en") -> Figure:
    """Brokers and public pilot bases per scenario: who is turned away, how busy, how long the wait."""
    arms = [c.baseline, *[{a.scenario.id: a for a in c.arms}[s] for s in c.ranking["scenario"]]]
    short = short_names(c, lang)
    fig, axes = new_figure(13.0, 0.36 * len(arms) * 2 + 2.4, 2, 2, sharey=True)
    for j, (key, scale, zh, en, uzh, uen) in enumerate(BOTTLENECKS):
        ax = axes[j // 2][j % 2]
        stats = np.array([t_interval(a.frame()[key].to_numpy(dtype=float) * scale) for a in arms])
        dot_rows(ax, stats[:, 0], stats[:, 1], stats[:, 2], [BASE] + [ACCENT] * (len(arms) - 1))
        if np.isfinite(stats[0, 0]):
            ax.axvline(stats[0, 0], color=BASE, lw=0.8, ls="--")
        ax.set_title(_t(lang, zh, en))
        ax.set_xlabel(_t(lang, f"{_window(c)} 平均({uzh})" if key != "broker_turned_away" and
                         key != "pilot_turned_away" else f"{_window(c)} 合计({uzh})",
                         f"{'total' if key.endswith('turned_away') else 'mean'}, {_window(c)} ({uen})"))
        if key.endswith("turned_away") or key == "wait_pilot":
            ax.set_xlim(left=0.0)
    labels = [short[a.scenario.id] for a in arms]
    for r in range(2):
        axes[r][0].set_yticks(range(len(arms)), labels, fontsize=8)
    fig.suptitle(_t(lang, f"瓶颈在哪里:技术经纪人(上)与公共中试基地(下),各方案 {_window(c)}"
                    "(均值与 95% 区间;虚线 = 基线)",
                    f"Where the bottleneck is: brokers (top) and public pilot bases (bottom), {_window(c)} "
                    "(mean and 95 % interval over replications; dashed = baseline)"))
    return fig


#: File name → figure function; the order is the page's.
FIGURES = {"forest.png": fig_forest, "funnel.png": fig_funnel, "cost_effectiveness.png": fig_cost,
           "fans.png": fig_fans, "bottlenecks.png": fig_bottlenecks}


def summary_table(c: Comparison) -> pd.DataFrame:
    """The machine-readable summary: one row per scenario and KPI."""
    s = c.summary.merge(c.ranking[["scenario", "rank", "group", "tied_with_previous"]], on="scenario")
    s["reps"] = c.reps
    s["seed"] = c.seed
    s["window"] = f"{c.window[0]}-{c.window[1]}"
    return s


def write_report(c: Comparison, out_dir: str | Path, lang: str = "en") -> Path:
    """Write the figures (PNG), ``report.html`` and the CSV tables to ``out_dir`` (atomically).

    With a long window (``c.long``), ``summary.csv`` holds both windows (column ``window``) and
    ``ranking_long.csv`` the ranking over the long one; figures and the page show the main window.
    """
    from sim.analysis.page import render_html

    with atomic_folder(out_dir, kind="compare", option="--report") as tmp:
        figs: dict[str, bytes] = {}
        figures = dict(FIGURES)
        if c.worlds is not None:
            from sim.analysis.worlds_report import fig_voi, fig_worlds

            figures.update({"worlds.png": fig_worlds, "voi.png": fig_voi})
        for fname, fn in figures.items():
            figs[fname] = png_bytes(fn(c, lang))
            (tmp / fname).write_bytes(figs[fname])
        # summary.csv: one row per scenario (the ranking KPI, with the spread over worlds); details.csv: every KPI
        scenario_summary(c).to_csv(tmp / "summary.csv", index_label="scenario")
        tables = [summary_table(c)] + ([summary_table(c.long)] if c.long is not None else [])
        pd.concat(tables, ignore_index=True).to_csv(tmp / "details.csv", index=False)  # one block per window
        if c.worlds is not None:
            c.worlds.per_world.to_csv(tmp / "worlds.csv", index=False)
            c.worlds.pairwise.to_csv(tmp / "pairwise_worlds.csv", index_label="scenario")
            c.worlds.voi.to_csv(tmp / "voi.csv", index=False)
        c.ranking.to_csv(tmp / "ranking.csv", index=False)
        if c.long is not None:  # the same runs over the whole policy period (horizon beyond 2027)
            c.long.ranking.to_csv(tmp / "ranking_long.csv", index=False)
        pairwise(c).to_csv(tmp / "pairwise.csv", index_label="scenario")
        (tmp / "report.html").write_text(render_html(c, lang, figs), encoding="utf-8")
    return Path(out_dir)
