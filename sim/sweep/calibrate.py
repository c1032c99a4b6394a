"""Calibration by rejection (ABC): keep the sweep points that reproduce the report's figures.

A calibration sweep draws parameter sets from ranges around the assumed values
(the priors, usually a Latin hypercube) and runs each over the report's period
2018–2022. A point is *accepted* when the mean of every target KPI over its
replications lies within the report's range (:func:`~sim.analysis.targets.report_targets`, T2–T9 of
``calibration/README.md``), widened by ``tolerance`` (0.1 = 10 % beyond either
end). The accepted points are the calibrated ensemble: ``accepted.csv`` has one
column per factor and is a ``table`` design for any later sweep, so a policy
comparison can be repeated over every parameter set the data allow
(approximate Bayesian computation by rejection, Pritchard et al. 1999, with
uniform priors and a 0/1 kernel).

Observed figures (``--observed FILE``, :mod:`sim.analysis.observed`) are
further targets: each figure's KPI over its year or window (any years the
sweep simulated), its mean over a point's replications, scored as the report's
(the band, or the value, widened by ``tolerance``); columns ``observed:<id>``
and ``miss_observed:<id>``.

Writes into the sweep folder: ``calibration.csv`` (every point: factors,
target means, each target's relative miss, the largest miss, accepted),
``accepted.csv`` and ``calibration.png`` (priors and accepted values per
factor, Chinese and English labels).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.figures import figure_builder, new_figure, save_figure
from sim.analysis.kpi import KPI_BY_KEY
from sim.analysis.targets import report_targets
from sim.scenario import InputError
from sim.store import atomic_file
from sim.sweep.analysis import replace_csv
from sim.sweep.spec import Sweep

if TYPE_CHECKING:
    from sim.analysis.observed import Observed

WINDOW = (2018, 2022)


def check_window(sw: Sweep) -> None:
    """The report's figures are for 2018–2022: a calibration sweep must summarise that window."""
    if (sw.first_year, sw.last_year) != WINDOW:
        raise InputError(f"{sw.path}: key 'sweep.first_year': calibration compares with the report's figures for "
                         f"{WINDOW[0]}–{WINDOW[1]}; set first_year = {WINDOW[0]} and last_year = {WINDOW[1]} "
                         f"(the sweep has {sw.first_year}–{sw.last_year})")


def miss(mean: float, lo: float, hi: float) -> float:
    """How far ``mean`` lies outside [lo, hi], relative to the nearer end (0 inside)."""
    if mean < lo:
        return (lo - mean) / abs(lo)
    if mean > hi:
        return (mean - hi) / abs(hi)
    return 0.0


def check_observed(sw: Sweep, figures: list[Observed], path: str | Path) -> None:
    """Before any point runs: every figure's years lie within the years the sweep simulates."""
    first, last = sw.scenario.params.first_year, sw.scenario.params.time.horizon_year
    for f in figures:
        if f.window[0] < first or f.window[1] > last:
            raise InputError(f"{path}: figure {f.id}: {f.window[0]}–{f.window[1]} lies outside the years the sweep "
                             f"simulates, {first}–{last}")


def observed_means(sw: Sweep, out: Path, figures: list[Observed]) -> pd.DataFrame:
    """Per point (index), each figure's KPI over its years, averaged over the point's replications (columns: the
    figures' ids), from the records of the sweep's scenario."""
    from sim.sweep.analysis import point_kpis
    from sim.sweep.folder import read_points

    _, records, _ = read_points(out)
    rec = records[records["arm"] == sw.scenario.id]
    cols: dict[str, pd.Series] = {}
    for window in dict.fromkeys(f.window for f in figures):
        means = point_kpis(rec, *window).groupby(level="point").mean()
        for f in figures:
            if f.window == window:
                cols[f.id] = means[f.kpi]
    return pd.DataFrame(cols)


def score(sw: Sweep, summ: pd.DataFrame, tolerance: float, figures: list[Observed] | None = None,
          observed: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every point's target means, relative misses, largest miss and acceptance.

    ``summ`` is the sweep's ``summary.csv``: per point, the factors and the mean
    of every KPI over the sweep's window (which :func:`check_window` made 2018–2022);
    ``observed`` (:func:`observed_means`) the points' means of ``figures``, scored as further targets.
    """
    means = summ.rename(columns={f"{sw.spec.sweep.kpi}_mean": sw.spec.sweep.kpi})
    out = summ[[f.param for f in sw.spec.factors]].copy()
    worst = np.zeros(len(out))
    for key, (lo, hi) in report_targets().items():
        out[key] = means[key].to_numpy()
        m = np.array([miss(v, lo, hi) for v in out[key]])
        out[f"miss_{key}"] = m
        worst = np.maximum(worst, m)
    for f in figures or []:
        assert observed is not None
        lo, hi = f.band
        out[f"observed:{f.id}"] = observed[f.id].reindex(out.index).to_numpy(dtype=float)
        m = np.array([miss(v, lo, hi) if np.isfinite(v) else np.inf for v in out[f"observed:{f.id}"]])
        out[f"miss_observed:{f.id}"] = m
        worst = np.maximum(worst, m)
    out["worst_miss"] = worst
    out["accepted"] = worst <= tolerance
    return out


@figure_builder
def figure(sw: Sweep, scored: pd.DataFrame) -> Figure:
    """Prior (all points) and accepted values of each factor."""
    names = [f.param for f in sw.spec.factors]
    ncol = min(3, len(names))
    nrow = (len(names) + ncol - 1) // ncol
    fig, axes = new_figure(max(4.2 * ncol, 9.0), 3.0 * nrow + 0.4, nrow, ncol)  # wide enough for the title
    acc = scored[scored["accepted"]]
    for j, name in enumerate(names):
        ax = axes[j // ncol][j % ncol]
        bins = np.linspace(scored[name].min(), scored[name].max(), 16)
        ax.hist(scored[name], bins=bins, density=True, color="#bbccee", label="先验 / prior (all points)")
        if len(acc):
            ax.hist(acc[name], bins=bins, density=True, color="#cc3311", alpha=0.7, label="接受 / accepted")
        default = _default(sw, name)
        ax.axvline(default, color="black", lw=1, ls="--", label="默认值 / default")
        ax.set_xlabel(name, fontsize=9)
        ax.set_ylabel("密度 / density", fontsize=8)
    axes[0][0].legend(fontsize=7)
    for j in range(len(names), nrow * ncol):
        axes[j // ncol][j % ncol].axis("off")
    fig.suptitle(f"校准:与报告 2018–2022 年数据相符的参数 / Calibration: parameters that reproduce the report, "
                 f"2018–2022\n{len(acc)} / {len(scored)} 点被接受 / points accepted: all {len(report_targets())} "
                 "targets within the report's ranges (见 / see calibration/README.md)", fontsize=9)
    return fig


def _default(sw: Sweep, param: str) -> float:
    g, n = param.split(".", 1)
    return float(getattr(getattr(sw.scenario.params, g), n))


def write_calibration(sw: Sweep, out: Path, tolerance: float, figures: list[Observed] | None = None) -> pd.DataFrame:
    """Score a finished calibration sweep (with ``figures``, observed figures as further targets); write
    calibration.csv, accepted.csv and calibration.png."""
    obs = observed_means(sw, out, figures) if figures else None
    scored = score(sw, pd.read_csv(out / "summary.csv", index_col="point"), tolerance, figures, obs)
    names = [f.param for f in sw.spec.factors]
    replace_csv(out, "calibration.csv", scored, index=True)
    replace_csv(out, "accepted.csv", scored.loc[scored["accepted"], names], index=False)
    with atomic_file(out / "calibration.png") as tmp:
        save_figure(figure(sw, scored), tmp, dpi=120)
    return scored


def calibration_text(sw: Sweep, scored: pd.DataFrame, out: Path, tolerance: float,
                     figures: list[Observed] | None = None) -> str:
    """What the command line prints: how many points pass each target, and the accepted ranges."""
    lines = [f"calibration {sw.id}: {int(scored['accepted'].sum())} of {len(scored)} points reproduce every target "
             f"(tolerance {tolerance:.0%} beyond the report's ranges, 2018–2022)", "",
             "target                                   range            points within"]
    for key, (lo, hi) in report_targets().items():
        ok = int((scored[f"miss_{key}"] <= tolerance).sum())
        lines.append(f"{KPI_BY_KEY[key].en:<40} {lo:>7.4g}–{hi:<7.4g} {ok:>8} / {len(scored)}")
    for fig in figures or []:
        lo, hi = fig.band
        ok = int((scored[f"miss_observed:{fig.id}"] <= tolerance).sum())
        first, last = fig.window
        name = f"observed {fig.id} ({first}{'' if first == last else f'–{last}'})"
        lines.append(f"{name:<40} {lo:>7.4g}–{hi:<7.4g} {ok:>8} / {len(scored)}")
    acc = scored[scored["accepted"]]
    if len(acc):
        lines += ["", "accepted values (min – max; default):"]
        for f in sw.spec.factors:
            lines.append(f"  {f.param:<36} {acc[f.param].min():.4g} – {acc[f.param].max():.4g}; "
                         f"{_default(sw, f.param):.4g}")
    lines.append(f"written {out}/: calibration.csv, accepted.csv (a `table` design for later sweeps), "
                 "calibration.png")
    return "\n".join(lines)
