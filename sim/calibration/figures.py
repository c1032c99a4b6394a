"""Figures of an ABC-SMC calibration: posterior marginals and the posterior predictive check.

Built as :class:`matplotlib.figure.Figure` objects with the helpers of
:mod:`sim.analysis.figures` (no global figure manager, no change to Matplotlib's settings);
labels in Chinese and English.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.figures import figure_builder, new_figure
from sim.analysis.kpi import KPI_BY_KEY
from sim.calibration.priors import Calibration


def _default(cal: Calibration, param: str) -> float:
    g, n = param.split(".", 1)
    return float(getattr(getattr(cal.scenario.params, g), n))


@figure_builder
def marginals(cal: Calibration, post: pd.DataFrame) -> Figure:
    """Each parameter's weighted posterior histogram over its uniform prior, with the default value."""
    names = cal.names
    ncol = min(4, len(names))
    nrow = (len(names) + ncol - 1) // ncol
    fig, axes = new_figure(3.4 * ncol, 2.7 * nrow + 0.6, nrow, ncol)
    w = post["weight"].to_numpy(dtype=float)
    for j, pr in enumerate(cal.spec.priors):
        ax = axes[j // ncol][j % ncol]
        bins = np.linspace(pr.min, pr.max, 21)
        ax.axhspan(0, 1 / (pr.max - pr.min), color="#dddddd", label="先验 / prior")
        ax.hist(post[pr.param], bins=bins, weights=w, density=True, color="#cc3311", alpha=0.75,
                label="后验 / posterior")
        ax.axvline(_default(cal, pr.param), color="black", lw=1, ls="--", label="默认值 / default")
        ax.set_xlim(pr.min, pr.max)
        ax.set_xlabel(pr.param, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_yticks([])
    axes[0][0].legend(fontsize=6, loc="upper left")
    for j in range(len(names), nrow * ncol):
        axes[j // ncol][j % ncol].axis("off")
    fig.suptitle(f"后验边缘分布 / Posterior marginals: {len(post)} 组参数 / parameter sets (ABC-SMC, "
                 f"calibration/{cal.path.name})", fontsize=9)
    return fig


@figure_builder
def predictive(table: pd.DataFrame, lang: str = "en") -> Figure:
    """Each target: the report's band, the posterior predictive 90 % interval and mean, normalised to the band.

    Every row of ``table`` (from :func:`sim.calibration.predictive.predictive_table`) is drawn on its own
    scale: 0 and 1 are the band's ends, so all targets share one axis.
    """
    n = len(table)
    fig, axes = new_figure(8.5, 0.55 * n + 1.6)
    ax = axes[0][0]
    for i, (_, r) in enumerate(table.iterrows()):
        lo, hi = float(r["low"]), float(r["high"])
        width = hi - lo if np.isfinite(hi) and hi > lo else max(abs(lo), 1.0)

        def s(v: float, lo: float = lo, width: float = width) -> float:
            return (v - lo) / width

        y = n - 1 - i
        ax.add_patch(_band(y))
        ax.plot([s(r["rep_p05"]), s(r["rep_p95"])], [y, y], color="#0077bb", lw=1.5,
                label="90 % 预测区间(单次重复)/ 90 % predictive interval (one replication)" if i == 0 else None)
        ax.plot([s(r["set_p05"]), s(r["set_p95"])], [y, y], color="#cc3311", lw=5, alpha=0.8,
                label="90 % 区间(参数不确定性)/ 90 % interval over parameter sets" if i == 0 else None)
        ax.plot([s(r["mean"])], [y], "o", color="black", ms=4, label="预测均值 / predictive mean" if i == 0 else None)
        ax.text(1.65, y, f"{r['mean']:.4g}  [{r['rep_p05']:.4g}, {r['rep_p95']:.4g}]  "
                f"({'在区间内 / within' if r['within'] else '不在 / outside'})", va="center", fontsize=7)
    labels = []
    for _, r in table.iterrows():
        meta = KPI_BY_KEY.get(str(r["kpi"]))
        name = (meta.zh if lang == "zh" else meta.en) if meta else str(r["kpi"])
        band = f"{r['low']:.4g}–{r['high']:.4g}" if np.isfinite(r["high"]) else f"≥ {r['low']:.4g}"
        labels.append(f"{r['target']} {name}\n{'报告' if lang == 'zh' else 'report'} {band}")
    ax.set_yticks(range(n - 1, -1, -1), labels, fontsize=7)
    ax.set_xlim(-1.2, 3.4)
    ax.set_xticks([0, 1], ["区间下限 / band low", "区间上限 / band high"], fontsize=7)
    ax.set_ylim(-0.8, n - 0.2)
    ax.legend(fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=1, frameon=False)
    fig.suptitle("后验预测检验 2018–2022 / Posterior predictive check against the report's figures (grey: report's "
                 "band)", fontsize=9)
    return fig


def _band(y: float):  # type: ignore[no-untyped-def]
    from matplotlib.patches import Rectangle

    return Rectangle((0, y - 0.35), 1, 0.7, color="#dddddd", zorder=0)
