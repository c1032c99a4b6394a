"""The worlds in the report: both intervals side by side, and what to measure next.

Figures are built like the report's (:mod:`sim.analysis.figures`: a
``Figure`` without global matplotlib state, names in the chosen language).
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.compare import Comparison, label
from sim.analysis.figures import dot_rows, figure_builder, new_figure, short_labels
from sim.analysis.uncertainty import SURVIVES, named_inputs, survives
from sim.labels import param_label

#: Fewer worlds than this and the text says its spreads over worlds are rough (as the page does).
FEW_WORLDS = 20


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _names(c: Comparison, lang: str) -> dict[str, str]:
    return {a.scenario.id: (a.scenario.scenario.name_zh if lang == "zh" else a.scenario.scenario.name_en)
            for a in c.arms}


@figure_builder
def fig_worlds(c: Comparison, lang: str = "en") -> Figure:
    """Per scenario: the Monte Carlo 95 % interval at the defaults and the 5–95 % range over worlds."""
    w = c.worlds
    assert w is not None
    order = list(w.summary.index)
    short = short_labels(_names(c, lang), lang)
    at_defaults = c.summary[c.summary["kpi"] == w.kpi].set_index("scenario").reindex(order)
    fig, axes = new_figure(11.0, 0.5 * len(order) + 2.4, 1, 2, sharey=True)
    ax = axes[0][0]
    dot_rows(ax, at_defaults["diff"].to_numpy(), at_defaults["lo"].to_numpy(), at_defaults["hi"].to_numpy(),
             ["#1f77b4"] * len(order))
    ax.set_title(_t(lang, "默认参数:95% 区间(蒙特卡洛噪声)", "At the defaults: 95 % interval (Monte Carlo noise)"))
    ax = axes[0][1]
    dot_rows(ax, w.summary["world_mean"].to_numpy(), w.summary["world_p05"].to_numpy(),
             w.summary["world_p95"].to_numpy(), ["#d62728"] * len(order))
    ax.set_title(_t(lang, f"{len(w.worlds)} 个情景世界:5–95% 范围", f"Over {len(w.worlds)} worlds: 5–95 % range"))
    for ax in axes[0]:
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_xlabel(_t(lang, f"较基线的变化:{label(w.kpi, lang)}", f"change from the baseline: {label(w.kpi, lang)}"))
    axes[0][0].set_yticks(range(len(order)), [short[s] for s in order], fontsize=8)
    for y, sid in enumerate(order):
        row = w.summary.loc[sid]
        axes[0][1].annotate(_t(lang, f"增益 {row['p_gain']:.0%} · 最优 {row['p_best']:.0%}",
                               f"gain {row['p_gain']:.0%} · best {row['p_best']:.0%}"),
                            (1.0, y), xycoords=("axes fraction", "data"), xytext=(4, 0), textcoords="offset points",
                            va="center", fontsize=7, color="#555555")
    fig.suptitle(_t(lang, "参数与措施效果不确定时的差异",
                    "The difference when parameters and the measures' effects are uncertain"))
    return fig


@figure_builder
def fig_voi(c: Comparison, lang: str = "en", top: int = 12) -> Figure:
    """What to measure next: the inputs whose uncertainty moves the leader's margin most."""
    w = c.worlds
    assert w is not None
    v = w.voi.head(top).iloc[::-1]
    fig, axes = new_figure(10.0, 0.45 * len(v) + 1.8)
    ax = axes[0][0]
    colors = {"parameter": "#1f77b4", "effect": "#2ca02c", "cost": "#ff7f0e", "placebo": "#bbbbbb"}
    ax.barh(range(len(v)), v["rho_margin"].fillna(0.0), color=[colors[k] for k in v["kind"]])
    # the names alone (wrapped): the list beside the figure gives each key
    ax.set_yticks(range(len(v)), [textwrap.fill(input_name(i, lang, lever_names(c))[0], 24 if lang == "zh" else 48)
                                  for i in v["input"]], fontsize=8)
    ax.axvline(0, color="grey", lw=0.8)
    floor = float(w.voi.attrs.get("floor", np.nan))
    if np.isfinite(floor):  # below the noise floor no input can be told from chance
        for x in (-floor, floor):
            ax.axvline(x, color="black", ls="--", lw=0.8)
    leader, runner = str(w.voi.attrs.get("leader")), str(w.voi.attrs.get("runner_up"))
    nm = _names(c, lang)
    xlabel = _t(lang, f"与领先幅度的秩相关({nm.get(leader, leader)} 减 {nm.get(runner, runner)})",
                f"rank correlation with the leader's margin ({nm.get(leader, leader)} minus "
                f"{nm.get(runner, runner)})")
    ax.set_xlabel(textwrap.fill(xlabel, 40 if lang == "zh" else 80), fontsize=8)
    fig.suptitle(_t(lang, "下一步该测量什么:对决策影响最大的不确定输入",
                    "What to measure next: the uncertain inputs that move the decision most"))
    for kind, col in colors.items():
        ax.bar([0], [0], color=col, label={"parameter": _t(lang, "模型参数", "model parameter"),
                                           "effect": _t(lang, "措施效果", "measure's effect"),
                                           "cost": _t(lang, "措施成本", "measure's cost"),
                                           "placebo": _t(lang, "安慰剂(打乱的副本)", "placebo (permuted copy)")}[kind])
    ax.legend(fontsize=7, loc="lower right")
    return fig


#: Lever id → (Chinese, English) name, for the inputs "effect:<lever>" and "cost:<lever>".
LeverNames = dict[str, tuple[str, str]]


def lever_names(c: Comparison) -> LeverNames:
    """The names of every lever of the comparison's scenarios (the first scenario naming a lever wins)."""
    out: LeverNames = {}
    for a in c.arms:
        for lv in a.scenario.levers:
            out.setdefault(lv.id, (lv.name_zh, lv.name_en))
    return out


def input_name(name: str, lang: str, levers: LeverNames | None = None) -> tuple[str, str]:
    """(human name, key) of an uncertain input: a parameter's name, or "effect/cost of <the measure>"."""
    kind, _, rest = name.partition(":")
    if kind in ("effect", "cost") and rest:
        zh, en = (levers or {}).get(rest, (rest, rest))
        if kind == "effect":
            return _t(lang, f"措施效果:{zh}", f"effect of “{en}”"), name
        return _t(lang, f"措施成本:{zh}", f"cost of “{en}”"), name
    if kind == "placebo" and rest:  # a permuted copy of an input: it sets the noise floor
        inner = input_name(rest, lang, levers)[0]
        return _t(lang, f"安慰剂(打乱的副本):{inner}", f"placebo (a shuffled copy): {inner}"), name
    return param_label(name, lang), name


def input_label(name: str, lang: str, levers: LeverNames | None = None) -> str:
    """An uncertain input as plain text: its human name with the key after it (the key alone if it has no name)."""
    human, key = input_name(name, lang, levers)
    return key if human == key else f"{human} ({key})"


def world_columns(c: Comparison) -> pd.DataFrame:
    """Per scenario: world_p05, world_p95, p_gain, p_best, mean_rank (NaN without worlds)."""
    cols = ["world_mean", "world_p05", "world_p95", "p_gain", "p_best", "mean_rank"]
    if c.worlds is None:
        return pd.DataFrame(np.nan, index=[a.scenario.id for a in c.arms], columns=cols)
    return c.worlds.summary[cols]


def worlds_text(c: Comparison, lang: str = "en") -> str:
    """The lines the command prints: each scenario over worlds, and which orderings survive the uncertainty."""
    w = c.worlds
    if w is None:
        return ""
    nm = _names(c, lang)
    sv = survives(w.summary, w.pairwise).set_index("scenario")
    lines = [_t(lang, f"{len(w.worlds)} 个情景世界(参数集 × 措施效果与成本的抽样),每个 {w.reps} 次配对重复:",
                f"Over {len(w.worlds)} worlds (parameter sets × draws of the measures' effects and costs), "
                f"{w.reps} paired replications each:"),
             f"{'scenario':<24} {'mean Δ':>8} {'5–95 % over worlds':>20} {'P(gain)':>8} {'P(best)':>8} "
             f"{'mean rank':>9}  P(beats next)"]
    for sid, r in w.summary.iterrows():
        s = sv.loc[str(sid)]
        nxt = nm.get(str(s["next"]), _t(lang, "基线", "the baseline"))
        mark = "✓" if s["survives"] else "?"
        lines.append(f"{sid:<24} {r['world_mean']:>+8.2f} [{r['world_p05']:>+8.2f}, {r['world_p95']:>+8.2f}] "
                     f"{r['p_gain']:>8.2f} {r['p_best']:>8.2f} {r['mean_rank']:>9.2f}  {s['p_beats_next']:.2f} vs "
                     f"{nxt} {mark}")
    if len(w.worlds) < FEW_WORLDS:
        lines.append(_t(lang, f"注意:只有 {len(w.worlds)} 个世界,以上范围、P(最优)和排序判断都很粗略;"
                              "请用 --worlds 40 或更多。",
                        f"Note: only {len(w.worlds)} worlds; the ranges, P(best) and the orderings above are rough; "
                        "use --worlds 40 or more."))
    lines.append(_t(lang, f"✓ = 在至少 {SURVIVES:.0%} 的世界中优于下一名(在不确定性下仍成立);? = 不确定。",
                    f"✓ = beats the next in at least {SURVIVES:.0%} of worlds (survives the uncertainty); "
                    "? = the order is not sure."))
    if w.robustness is not None:
        lines += ["", _t(lang, "遗憾值(与各世界中最优选择的差距,越小越稳健)" + ("与目标达成率:" if w.goal else ":"),
                         "Regret (how far below the best choice of each world; smaller holds up better)"
                         + (" and the share of worlds meeting the goal:" if w.goal else ":")),
                  f"{'scenario':<24} {'mean':>8} {'90th pct':>9} {'largest':>8} {'per M¥ mean':>12}"
                  + (f"  {'goal ' + w.goal.label():>14}" if w.goal else "")]
        for sid, r in w.robustness.iterrows():
            goal = f"  {r['p_goal']:>14.0%}" if w.goal else ""
            lines.append(f"{sid:<24} {r['regret_mean']:>8.2f} {r['regret_p90']:>9.2f} {r['regret_max']:>8.2f} "
                         f"{r['regret_per_myuan_mean']:>12.3g}{goal}")
        least = w.robustness["regret_p90"].idxmin()
        lines.append(_t(lang, f"90% 分位遗憾值最小:{nm.get(str(least), least)}",
                        f"Smallest 90th-percentile regret: {nm.get(str(least), least)}"))
    if len(w.voi):
        named = named_inputs(w.voi)
        floor = float(w.voi.attrs.get("floor", np.nan))
        top = ", ".join(f"{input_label(i, lang, lever_names(c))} (ρ {r:+.2f})" for i, r in
                        zip(named["input"].head(3), named["rho_margin"].head(3), strict=True))
        if top:
            lines.append(_t(lang, f"对领先幅度影响最大的不确定输入(高于噪声下限 |ρ| {floor:.2f}):{top}",
                            f"Inputs that move the leader's margin most (above the noise floor |ρ| {floor:.2f}): "
                            f"{top}"))
        else:
            lines.append(_t(lang, f"没有不确定输入高于噪声下限(|ρ| {floor:.2f},{len(w.worlds)} 个世界)",
                            f"No uncertain input is above the noise floor (|ρ| {floor:.2f} over {len(w.worlds)} "
                            "worlds)"))
    return "\n".join(lines)


