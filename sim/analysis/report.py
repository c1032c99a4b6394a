"""The planner's report: figures (PNG), a self-contained HTML page and a CSV summary.

Figures carry Chinese and English labels. Matplotlib's own fonts have no
Chinese glyphs, so the report registers Noto Sans CJK from the
``cvttf-notosanscjk-regular`` package (a dependency), which renders on a fresh
install without any system font.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.compare import COMPARED, HEADLINE, Comparison, label, pairwise, unit
from sim.layout import REASON_NAMES
from sim.store import atomic_folder

_FONT_READY = False


def cjk_font() -> str:
    """Register the bundled CJK font with Matplotlib and return its family name."""
    global _FONT_READY
    import cvttf_NotoSansCJK_Regular as noto
    from matplotlib import font_manager

    path = noto.get_TTF_path()
    name = font_manager.FontProperties(fname=path).get_name()
    if not _FONT_READY:
        font_manager.fontManager.addfont(path)
        _FONT_READY = True
    return name


def _plt():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["font.family"] = [cjk_font(), "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    return plt


def _name(arm_sc, lang: str) -> str:  # type: ignore[no-untyped-def]
    return arm_sc.scenario.name_zh if lang == "zh" else arm_sc.scenario.name_en


def _short(sid: str) -> str:
    return sid


def fig_forest(c: Comparison, path: Path, lang: str) -> None:
    plt = _plt()
    s = c.summary
    keys = [HEADLINE, "rate_overall"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 0.45 * len(c.arms) + 2), sharey=True)
    order = list(c.ranking["scenario"])[::-1]
    for ax, key in zip(axes, keys, strict=True):
        d = s[s.kpi == key].set_index("scenario").loc[order]
        scale = 100.0 if unit(key) == "share" else 1.0
        y = np.arange(len(order))
        colors = ["tab:green" if g else ("tab:red" if lo else "tab:gray") for g, lo in zip(d["gain"], d["loss"],
                                                                                           strict=True)]
        for yi, (m, lo, hi, col) in enumerate(zip(d["diff"] * scale, d["lo"] * scale, d["hi"] * scale, colors,
                                                  strict=True)):
            ax.errorbar([m], [yi], xerr=[[m - lo], [hi - m]], fmt="o", color=col, capsize=3)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(y, order)
        u = "percentage points 百分点" if unit(key) == "share" else unit(key)
        ax.set_xlabel(f"{label(key, 'zh')} / {label(key, 'en')}\nΔ 较基线 vs baseline ({u})")
    axes[0].set_title("配对差异及95%置信区间 / Paired difference from baseline, 95 % interval")
    fig.text(0.01, 0.005, "绿色=显著改善 green = significant gain; 灰色=与零无显著差异 gray = interval crosses zero; "
             "红色=显著变差 red = significant loss", fontsize=8)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def fig_funnel(c: Comparison, path: Path, lang: str) -> None:
    plt = _plt()
    stages = [("offers", "成果供给 Offered"), ("meetings", "对接 Meetings"), ("contracts", "合同 Contracts"),
              ("pilots", "中试 Pilots"), ("industrialised", "产业化 Industrialised")]
    fig, ax = plt.subplots(figsize=(11, 6))
    x = np.arange(len(stages))
    base = c.baseline.frame()
    ax.plot(x, [base[k].mean() for k, _ in stages], "k-o", lw=3, label=f"基线 Baseline: {c.baseline.scenario.id}")
    cmap = plt.get_cmap("tab20")
    for i, arm in enumerate(c.arms):
        f = arm.frame()
        ax.plot(x, [f[k].mean() for k, _ in stages], "-o", color=cmap(i % 20), lw=1.2, ms=4, label=arm.scenario.id)
    ax.set_yscale("log")
    ax.set_xticks(x, [s for _, s in stages])
    ax.set_ylabel(f"{c.window[0]}–{c.window[1]} 累计项目数 / projects over the window (log)")
    ax.set_title("转化漏斗:各阶段项目数 / The conversion funnel, stage by stage (mean over replications)")
    ax.legend(fontsize=7, ncol=2, loc="lower left")
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def fig_fans(c: Comparison, path: Path, lang: str) -> None:
    plt = _plt()
    years = np.arange(c.window[0], c.window[1] + 1)
    n = len(c.arms)
    cols = 4
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.8 * rows), sharey=True, squeeze=False)
    base = c.baseline.cum()
    bq = np.quantile(base, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    for k, arm in enumerate(c.arms):
        ax = axes[k // cols][k % cols]
        q = np.quantile(arm.cum(), [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
        ax.fill_between(years, q[0], q[4], color="tab:blue", alpha=0.2, lw=0)
        ax.fill_between(years, q[1], q[3], color="tab:blue", alpha=0.35, lw=0)
        ax.plot(years, q[2], color="tab:blue", lw=1.8, label="方案 scenario")
        ax.plot(years, bq[2], "k--", lw=1.2, label="基线 baseline")
        ax.fill_between(years, bq[0], bq[4], color="gray", alpha=0.12, lw=0)
        ax.set_title(arm.scenario.id, fontsize=9)
        ax.set_xticks(years, [str(y) for y in years])
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for k in range(n, rows * cols):
        axes[k // cols][k % cols].axis("off")
    axes[0][0].legend(fontsize=7)
    fig.suptitle("累计产业化项目(中位数,50%与90%区间)/ Cumulative industrialised projects "
                 "(median, 50 % and 90 % bands)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def fig_cost(c: Comparison, path: Path, lang: str) -> None:
    plt = _plt()
    s = c.summary
    d = s[s.kpi == HEADLINE].set_index("scenario")
    cost = s[s.kpi == "fiscal_cost"].set_index("scenario")
    years = c.window[1] - c.window[0] + 1
    fig, ax = plt.subplots(figsize=(10, 6))
    for sid in d.index:
        xc = cost.loc[sid, "diff"] / years
        color = "tab:green" if d.loc[sid, "gain"] else "tab:gray"
        ax.errorbar(xc, d.loc[sid, "diff"], yerr=[[d.loc[sid, "diff"] - d.loc[sid, "lo"]],
                                                 [d.loc[sid, "hi"] - d.loc[sid, "diff"]]],
                    fmt="o", color=color, capsize=3)
        ax.annotate(sid, (xc, d.loc[sid, "diff"]), fontsize=7, xytext=(4, 3), textcoords="offset points")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("年均财政成本增量(百万元)/ Extra fiscal cost per year (M yuan): levers + extra payouts")
    ax.set_ylabel(f"产业化项目增量 {c.window[0]}–{c.window[1]} / Extra industrialised projects")
    ax.set_title("成本效果 / Cost-effectiveness (95 % intervals)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def fig_bottlenecks(c: Comparison, path: Path, lang: str) -> None:
    plt = _plt()
    arms = [c.baseline, *c.arms]
    ids = [a.scenario.id for a in arms]
    panels = [("broker_utilisation", "技术经纪人利用率 / Broker utilisation", 100.0, "%"),
              ("pilot_utilisation", "公共中试基地利用率 / Public pilot-base utilisation", 100.0, "%"),
              ("wait_pilot", "公共中试排队时间 / Wait for a public pilot slot", 12.0, "months 月")]
    fig, axes = plt.subplots(1, 3, figsize=(15, 0.35 * len(ids) + 2), sharey=True)
    y = np.arange(len(ids))
    for ax, (key, title, scale, u) in zip(axes, panels, strict=True):
        vals = [a.frame()[key].mean() * scale for a in arms]
        ax.barh(y, vals, color=["black"] + ["tab:blue"] * (len(ids) - 1))
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(u)
        ax.grid(alpha=0.3, axis="x")
    axes[0].set_yticks(y, ids)
    axes[0].invert_yaxis()
    fig.suptitle(f"瓶颈在哪里 / Where the bottleneck is ({c.window[0]}–{c.window[1]}, mean)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


FIGURES = {"forest.png": fig_forest, "funnel.png": fig_funnel, "fans.png": fig_fans,
           "cost_effectiveness.png": fig_cost, "bottlenecks.png": fig_bottlenecks}


def summary_table(c: Comparison) -> pd.DataFrame:
    """The machine-readable summary: one row per scenario and KPI."""
    s = c.summary.merge(c.ranking[["scenario", "rank", "group", "tied_with_previous"]], on="scenario")
    s["reps"] = c.reps
    s["seed"] = c.seed
    s["window"] = f"{c.window[0]}-{c.window[1]}"
    return s


def _fmt(v: float, u: str) -> str:
    if not np.isfinite(v):
        return "–"
    if u == "share":
        return f"{100 * v:+.2f} pp"
    return f"{v:+.2f}"


def _html(c: Comparison, lang: str, figs: dict[str, bytes]) -> str:
    s = c.summary
    zh = lang == "zh"
    name = {a.scenario.id: (a.scenario.scenario.name_zh if zh else a.scenario.scenario.name_en) for a in c.arms}
    e = html.escape
    out = ["<!doctype html><html lang='" + ("zh" if zh else "en") + "'><head><meta charset='utf-8'>",
           "<title>convsim — 政策比较 / policy comparison</title>",
           "<style>body{font-family:'Noto Sans CJK SC','Noto Sans CJK TC',sans-serif;margin:2em;max-width:1200px}"
           "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;"
           "text-align:right}td:first-child,th:first-child,td:nth-child(2){text-align:left}"
           ".gain{background:#e4f5e4}.loss{background:#f8e0e0}img{max-width:100%}</style></head><body>",
           "<h1>随州科技成果转化政策比较 / Suizhou conversion policies compared</h1>",
           f"<p>{c.window[0]}–{c.window[1]}; {c.reps} {'次重复' if zh else 'replications'} "
           f"({'配对、共同随机数' if zh else 'paired, common random numbers'}); seed {c.seed}; "
           f"{'基线' if zh else 'baseline'}: <b>{e(c.baseline.scenario.id)}</b>. "
           + ("差异为方案减基线,95%置信区间;只有区间完全在有利一侧才算改善。" if zh else
              "Differences are scenario minus baseline with 95 % intervals; a difference counts as a gain only "
              "when its whole interval lies on the good side of zero.") + "</p>"]
    out.append("<h2>" + ("排名(按产业化项目增量)" if zh else "Ranking by extra industrialised projects") + "</h2>")
    out.append("<table><tr><th>#</th><th>" + ("方案" if zh else "scenario") + "</th><th>Δ</th><th>95 %</th>"
               "<th>" + ("组" if zh else "group") + "</th><th>" + ("每增加一个产业化项目的财政成本(百万元)" if zh else
                                                                 "fiscal cost per extra industrialisation (M yuan)")
               + "</th></tr>")
    per = s[s.kpi == HEADLINE].set_index("scenario")["cost_per_extra_industrialisation_myuan"]
    for _, r in c.ranking.iterrows():
        cls = "gain" if r["gain"] else ""
        tie = (" ≈ " + ("与上一名无显著差异" if zh else "indistinguishable from the one above")) \
            if r["tied_with_previous"] else ""
        pc = per.get(r["scenario"], np.nan)
        out.append(f"<tr class='{cls}'><td>{r['rank']}</td><td>{e(r['scenario'])} — {e(name[r['scenario']])}</td>"
                   f"<td>{r['diff']:+.2f}</td><td>[{r['lo']:+.2f}, {r['hi']:+.2f}]</td><td>{r['group']}{e(tie)}</td>"
                   f"<td>{'–' if not np.isfinite(pc) else f'{pc:.2f}'}</td></tr>")
    out.append("</table>")
    out.append("<h2>" + ("各指标配对差异" if zh else "Paired differences by KPI") + "</h2><table><tr><th>"
               + ("方案" if zh else "scenario") + "</th>" + "".join(
                   f"<th>{e(label(k, lang))}<br>({e(unit(k))})</th>" for k in COMPARED) + "</tr>")
    for sid in c.ranking["scenario"]:
        row = [f"<td>{e(sid)}</td>"]
        for k in COMPARED:
            r = s[(s.scenario == sid) & (s.kpi == k)].iloc[0]
            cls = "gain" if r["gain"] else ("loss" if r["loss"] else "")
            row.append(f"<td class='{cls}' title='P(better)={r['p_beat']:.2f}'>{_fmt(r['diff'], r['unit'])}<br>"
                       f"<small>[{_fmt(r['lo'], r['unit'])}, {_fmt(r['hi'], r['unit'])}]</small></td>")
        out.append("<tr>" + "".join(row) + "</tr>")
    out.append("</table>")
    pw = pairwise(c)
    order = [c.baseline.scenario.id, *c.ranking["scenario"]]
    out.append("<h2>" + ("两两比较:行方案的产业化项目多于列方案的概率" if zh else
                         "Pairwise: probability that the row scenario industrialises more than the column")
               + "</h2><table><tr><th></th>" + "".join(f"<th>{e(s_)}</th>" for s_ in order) + "</tr>")
    for r_ in order:
        cells = "".join("<td>–</td>" if r_ == c_ else f"<td>{pw.loc[r_, c_]:.2f}</td>" for c_ in order)
        out.append(f"<tr><td>{e(r_)}</td>{cells}</tr>")
    out.append("</table>")
    titles = {"forest.png": ("配对差异", "Paired differences"), "funnel.png": ("转化漏斗", "Funnel"),
              "fans.png": ("累计产业化项目", "Cumulative industrialisations"),
              "cost_effectiveness.png": ("成本效果", "Cost-effectiveness"),
              "bottlenecks.png": ("瓶颈", "Bottlenecks")}
    for f, data in figs.items():
        t = titles[f]
        out.append(f"<h2>{t[0]} / {t[1]}</h2><img alt='{f}' src='data:image/png;base64,"
                   f"{base64.b64encode(data).decode()}'>")
    out.append("<h2>" + ("方案与措施" if zh else "Scenarios and their levers") + "</h2>")
    for a in c.arms:
        out.append(f"<h3>{e(a.scenario.id)} — {e(name[a.scenario.id])}</h3><ul>")
        for lv in a.scenario.levers:
            nm = lv.name_zh if zh else lv.name_en
            why = lv.rationale_zh if zh else lv.rationale_en
            out.append(f"<li><b>{e(nm)}</b> ({e(lv.param)} {e(lv.mode)} {lv.value:g}, "
                       f"{lv.yearly_cost_yuan / 1e6:.2f} M yuan/yr — {e(lv.cost_source)}; {e(lv.report_ref)}): "
                       f"{e(why)}</li>")
        out.append("</ul>")
    out.append("<p><small>" + ("终止原因" if zh else "Terminal reasons tracked") + ": "
               + ", ".join(REASON_NAMES) + "</small></p></body></html>")
    return "\n".join(out)


def write_report(c: Comparison, out_dir: str | Path, lang: str = "en") -> Path:
    """Write figures, ``report.html`` and ``summary.csv`` to ``out_dir`` (atomically).

    With a long window (``c.long``), ``summary.csv`` holds both windows (column ``window``) and
    ``ranking_long.csv`` the ranking over the long one; figures and the page show the main window.
    """
    with atomic_folder(out_dir, kind="compare", option="--report") as tmp:
        figs: dict[str, bytes] = {}
        for fname, fn in FIGURES.items():
            fn(c, tmp / fname, lang)
            figs[fname] = (tmp / fname).read_bytes()
        tables = [summary_table(c)] + ([summary_table(c.long)] if c.long is not None else [])
        pd.concat(tables, ignore_index=True).to_csv(tmp / "summary.csv", index=False)  # one block per window
        c.ranking.to_csv(tmp / "ranking.csv", index=False)
        if c.long is not None:  # the same runs over the whole policy period (horizon beyond 2027)
            c.long.ranking.to_csv(tmp / "ranking_long.csv", index=False)
        pairwise(c).to_csv(tmp / "pairwise.csv", index_label="scenario")
        (tmp / "report.html").write_text(_html(c, lang, figs), encoding="utf-8")
    return Path(out_dir)
