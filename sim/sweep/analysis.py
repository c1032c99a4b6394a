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
* ``sweep.png`` — the headline KPI against each factor (Chinese and English labels).

The sensitivity is computed on each point's mean over replications, so with
few replications per point the Monte Carlo noise inflates the part no factor
explains; the summary's intervals show how large that noise is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.analysis.kpi import KPI_BY_KEY, KPIS, kpis
from sim.sweep.design import salib_problem
from sim.sweep.spec import Sweep


def point_kpis(records: pd.DataFrame, first: int, last: int) -> pd.DataFrame:
    """Per-replication KPIs of every point: index (point, rep)."""
    parts = {k: kpis(g, first, last) for k, g in records.groupby("point", sort=True)}
    return pd.concat(parts, names=["point", "rep"])


def summary(points: pd.DataFrame, pk: pd.DataFrame, headline: str) -> pd.DataFrame:
    """One row per point: factors, headline mean and 95 % interval, other KPIs' means."""
    g = pk.groupby(level="point")
    mean = g.mean()
    n = g[headline].count()
    sd = g[headline].std(ddof=1)
    half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
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


def figure(sw: Sweep, summ: pd.DataFrame, path: Path) -> None:
    """The headline KPI (mean and 95 % interval) against each factor."""
    from sim.analysis.report import _plt

    plt = _plt()
    headline = sw.spec.sweep.kpi
    k = KPI_BY_KEY[headline]
    names = [f.param for f in sw.spec.factors]
    ncol = min(3, len(names))
    nrow = (len(names) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.4 * nrow), squeeze=False)
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
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_analysis(sw: Sweep, out: Path) -> None:
    """Write summary.csv, sensitivity.csv and sweep.png from every point's records."""
    from sim.sweep.runner import read_points

    points, records, _ = read_points(out)
    pk = point_kpis(records, sw.first_year, sw.last_year)
    summ = summary(points, pk, sw.spec.sweep.kpi)
    sens = sensitivity(sw, points, summ[f"{sw.spec.sweep.kpi}_mean"].to_numpy(dtype=float))
    for name, df in (("summary.csv", summ), ("sensitivity.csv", sens)):
        tmp = out / f".{name}.tmp"
        df.to_csv(tmp, index=name == "summary.csv")
        tmp.replace(out / name)
    tmp_png = out / ".sweep.png.tmp.png"
    figure(sw, summ, tmp_png)
    tmp_png.replace(out / "sweep.png")
