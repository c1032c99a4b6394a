"""What a sweep says: the indicator at every point, which factors matter, and a figure.

* ``summary.csv`` — one row per point: the factor values, the headline KPI's
  mean with its 95 % interval over replications, and the mean of every other
  KPI over the sweep's window;
* ``sensitivity.csv`` — for a ``sobol`` design, first-order (S1) and total
  (ST) Sobol indices of the headline KPI with 95 % bootstrap intervals
  (SALib: how much of the variance across points each factor explains alone
  and with its interactions); for ``grid`` and ``lhs``, standardised
  regression coefficients (SRC: the change in the KPI, in standard
  deviations, per standard deviation of the factor) and the R² of that
  linear fit;
* ``sweep.png`` — the headline KPI against each factor (Chinese and English labels);
* with ``compare`` (several scenarios at every point): ``robustness.csv`` —
  each compared scenario's paired difference from the sweep's scenario at
  every point, with its 95 % interval; ``robustness_summary.csv`` — per
  scenario, the mean difference over points, its 5–95 % range across points,
  the share of points where the gain is significant, the share where it is
  the best scenario and its mean rank; ``robustness.png`` — the differences
  across points, scenario by scenario. Summary, sensitivity and ``sweep.png``
  describe the sweep's own scenario.

The sensitivity is computed on each point's mean over replications, so with
few replications per point the Monte Carlo noise inflates the part no factor
explains; the summary's intervals show how large that noise is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.figures import figure_builder, new_figure, save_figure, short_labels
from sim.analysis.kpi import KPI_BY_KEY, KPIS, kpis
from sim.analysis.paired import t_half_width
from sim.store import atomic_file
from sim.sweep.design import salib_problem
from sim.sweep.spec import Sweep


def point_kpis(records: pd.DataFrame, first: int, last: int) -> pd.DataFrame:
    """Per-replication KPIs of every point (records of one scenario): index (point, rep)."""
    parts = {k: kpis(g.drop(columns="arm", errors="ignore"), first, last)
             for k, g in records.groupby("point", sort=True)}
    return pd.concat(parts, names=["point", "rep"])


def summary(points: pd.DataFrame, pk: pd.DataFrame, headline: str) -> pd.DataFrame:
    """One row per point: factors, headline mean and 95 % interval, other KPIs' means."""
    g = pk.groupby(level="point")
    mean = g.mean()
    n = g[headline].count()
    sd = g[headline].std(ddof=1)
    half = t_half_width(sd, n)
    out = points.copy()
    out[f"{headline}_mean"] = mean[headline]
    out[f"{headline}_low95"] = mean[headline] - half
    out[f"{headline}_high95"] = mean[headline] + half
    out["reps"] = n
    for k in KPIS:
        if k.key != headline and k.key in mean:
            out[k.key] = mean[k.key]
    return out


def sensitivity(sw: Sweep, points: pd.DataFrame, y: np.ndarray) -> pd.DataFrame:
    """Sobol indices (sobol design) or standardised regression coefficients (grid, lhs) of ``y``."""
    names = [f.param for f in sw.spec.factors]
    if sw.spec.sweep.design == "sobol":
        from SALib.analyze import sobol

        res = sobol.analyze(salib_problem(sw.spec), y, calc_second_order=False, num_resamples=500,
                            seed=sw.spec.sweep.design_seed)
        return pd.DataFrame({"factor": names, "method": "sobol", "S1": res["S1"], "S1_conf95": res["S1_conf"],
                             "ST": res["ST"], "ST_conf95": res["ST_conf"]})
    x = points[names].to_numpy(dtype=float)
    sx = x.std(axis=0)
    sy = y.std()
    varying = sx > 0
    src = np.full(len(names), np.nan)
    r2 = np.nan
    if varying.any() and sy > 0:
        z = (x[:, varying] - x[:, varying].mean(axis=0)) / sx[varying]
        zy = (y - y.mean()) / sy
        coef, *_ = np.linalg.lstsq(z, zy, rcond=None)
        src[varying] = coef
        r2 = 1.0 - float(np.sum((zy - z @ coef) ** 2) / np.sum(zy ** 2))
    return pd.DataFrame({"factor": names, "method": "src", "SRC": src, "R2": r2})


@figure_builder
def figure(sw: Sweep, summ: pd.DataFrame) -> Figure:
    """The headline KPI (mean and 95 % interval) against each factor."""
    headline = sw.spec.sweep.kpi
    k = KPI_BY_KEY[headline]
    names = [f.param for f in sw.spec.factors]
    ncol = min(3, len(names))
    nrow = (len(names) + ncol - 1) // ncol
    fig, axes = new_figure(max(4.2 * ncol, 8.0), 3.4 * nrow + 0.4, nrow, ncol)  # wide enough for the title
    m = summ[f"{headline}_mean"].to_numpy()
    err = np.vstack([m - summ[f"{headline}_low95"].to_numpy(), summ[f"{headline}_high95"].to_numpy() - m])
    for j, name in enumerate(names):
        ax = axes[j // ncol][j % ncol]
        x = summ[name].to_numpy(dtype=float)
        ax.errorbar(x, m, yerr=err, fmt="o", ms=3, alpha=0.6, color="#4477aa", ecolor="#99aacc")
        means = summ.groupby(name)[f"{headline}_mean"].mean()
        if len(means) <= 12:  # few distinct values (a grid): join the means over the other factors
            ax.plot(means.index, means.to_numpy(), "-", color="#cc3311", lw=1.5, label="平均 / mean over others")
            ax.legend(fontsize=7)
        ax.set_xlabel(name, fontsize=9)
        ax.set_ylabel(f"{k.zh} / {k.en}", fontsize=8)
    for j in range(len(names), nrow * ncol):
        axes[j // ncol][j % ncol].axis("off")
    fig.suptitle(f"{sw.spec.sweep.name_zh} / {sw.spec.sweep.name_en}\n{k.zh} / {k.en}, "
                 f"{sw.first_year}–{sw.last_year} (均值与 95 % 区间 / mean and 95 % interval)", fontsize=10)
    return fig


def robustness(sw: Sweep, points: pd.DataFrame, pk_by_arm: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame,
                                                                                             pd.DataFrame]:
    """Paired differences of every compared scenario from the reference, point by point, and their summary."""
    headline = sw.spec.sweep.kpi
    ref = pk_by_arm[sw.scenario.id][headline]
    rows = []
    for arm in sw.arms[1:]:
        d = (pk_by_arm[arm.id][headline] - ref).groupby(level="point")
        mean, sd, n = d.mean(), d.std(ddof=1), d.count()
        half = t_half_width(sd, n)
        for k in points.index:
            rows.append({"point": k, "scenario": arm.id, "diff_mean": mean[k], "diff_low95": mean[k] - half[k],
                         "diff_high95": mean[k] + half[k], "reps": int(n[k]),
                         **{c: points.loc[k, c] for c in points.columns}})
    per_point = pd.DataFrame(rows)
    wide = per_point.pivot(index="point", columns="scenario", values="diff_mean")
    ranks = wide.rank(axis=1, ascending=False, method="average")
    best = wide.eq(wide.max(axis=1), axis=0)
    best = best.div(best.sum(axis=1), axis=0)  # a tie for first shares the point
    summ = pd.DataFrame({
        "scenario": wide.columns,
        "diff_mean": wide.mean().to_numpy(),
        "diff_p5": wide.quantile(0.05).to_numpy(),
        "diff_p95": wide.quantile(0.95).to_numpy(),
        "share_significant_gain": [float((per_point.loc[per_point["scenario"] == c, "diff_low95"] > 0).mean())
                                   for c in wide.columns],
        "share_best": best.mean().to_numpy(),
        "mean_rank": ranks.mean().to_numpy(),
    }).sort_values("mean_rank", kind="stable").reset_index(drop=True)
    return per_point, summ


@figure_builder
def robustness_figure(sw: Sweep, per_point: pd.DataFrame, summ: pd.DataFrame) -> Figure:
    """Each compared scenario's paired difference at every point (box over points), best mean rank on top."""
    k = KPI_BY_KEY[sw.spec.sweep.kpi]
    order = list(summ["scenario"])[::-1]
    data = [per_point.loc[per_point["scenario"] == c, "diff_mean"].to_numpy() for c in order]
    n_points = per_point["point"].nunique()
    fig, axes = new_figure(9.0, 0.6 * len(order) + 2.0)
    ax = axes[0][0]
    ax.boxplot(data, orientation="horizontal", whis=(5, 95), showfliers=True)
    arms = {a.id: a.scenario for a in sw.arms}
    zh = short_labels({i: a.name_zh for i, a in arms.items()}, "zh", 30)
    en = short_labels({i: a.name_en for i, a in arms.items()}, "en", 40)
    ax.set_yticks(range(1, len(order) + 1), [f"{zh[c]}\n{en[c]}" for c in order], fontsize=8)
    ax.axvline(0.0, color="grey", lw=0.8)
    base = arms[sw.scenario.id]
    ax.set_xlabel(f"{k.zh}:与「{base.name_zh}」之差 / {k.en}: difference from “{base.name_en}”", fontsize=8)
    ax.set_title(f"{sw.spec.sweep.name_zh} / {sw.spec.sweep.name_en}\n"
                 f"{n_points} 个参数点上的配对差异 / paired difference at {n_points} points, "
                 f"{sw.first_year}–{sw.last_year} (箱 box 25–75 %, 须 whiskers 5–95 %)", fontsize=9)
    return fig


def replace_csv(out: Path, name: str, df: pd.DataFrame, index: bool) -> None:
    """Write ``df`` as ``out/name``, replacing the old file in one step."""
    with atomic_file(out / name) as tmp:
        df.to_csv(tmp, index=index)


def write_analysis(sw: Sweep, out: Path) -> None:
    """Write summary.csv, sensitivity.csv and sweep.png (and the robustness files) from the records."""
    from sim.sweep.folder import read_points

    points, records, _ = read_points(out)
    pk_by_arm = {a.id: point_kpis(records[records["arm"] == a.id], sw.first_year, sw.last_year) for a in sw.arms}
    summ = summary(points, pk_by_arm[sw.scenario.id], sw.spec.sweep.kpi)
    sens = sensitivity(sw, points, summ[f"{sw.spec.sweep.kpi}_mean"].to_numpy(dtype=float))
    replace_csv(out, "summary.csv", summ, index=True)
    replace_csv(out, "sensitivity.csv", sens, index=False)
    with atomic_file(out / "sweep.png") as tmp:
        save_figure(figure(sw, summ), tmp, dpi=120)
    if len(sw.arms) > 1:
        per_point, rob = robustness(sw, points, pk_by_arm)
        replace_csv(out, "robustness.csv", per_point, index=False)
        replace_csv(out, "robustness_summary.csv", rob, index=False)
        with atomic_file(out / "robustness.png") as tmp:
            save_figure(robustness_figure(sw, per_point, rob), tmp, dpi=120)


def result_text(sw: Sweep, out: Path) -> str:
    """What the command line prints after a sweep: the KPI's range, the sensitivity, the robustness."""
    summ = pd.read_csv(out / "summary.csv", index_col="point")
    sens = pd.read_csv(out / "sensitivity.csv")
    k = sw.spec.sweep.kpi
    col = summ[f"{k}_mean"]
    best = int(np.argmax(col.to_numpy()))
    factors = ", ".join(f"{f.param} = {summ[f.param].iloc[best]:g}" for f in sw.spec.factors)
    lines = [f"{k} {sw.first_year}–{sw.last_year} ({sw.scenario.id}): from {col.min():.1f} to {col.max():.1f} "
             f"across {len(summ)} points; highest at point {summ.index[best]} ({factors})",
             sens.to_string(index=False, float_format=lambda x: f"{x:.3f}")]
    written = "summary.csv, sensitivity.csv, sweep.png"
    if len(sw.arms) > 1:
        rob = pd.read_csv(out / "robustness_summary.csv")
        lines += ["", f"paired difference from {sw.scenario.id} across the {len(summ)} points (mean, 5–95 % range "
                  "over points, share of points with a significant gain, share best, mean rank):",
                  rob.to_string(index=False, float_format=lambda x: f"{x:.3f}")]
        written += ", robustness.csv, robustness_summary.csv, robustness.png"
    lines.append(f"written {out}/: {written}, records/ (one Parquet file per point and scenario)")
    return "\n".join(lines)
