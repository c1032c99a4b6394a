"""Was the model right? Its forecast set against figures the city publishes after the report.

The calibration uses the report's 2018–2022 figures. Each year the city
publishes new ones (high-tech enterprises, science-based SMEs, firms above
designated size, R&D spending, technology contracts). An *observed figures*
file (``calibration/observed.toml``) lists them, one ``[[observed]]`` table
each::

    [[observed]]
    id = "hightech_2024"          # a short name of your choosing
    kpi = "hightech_stock"        # any KPI of `convsim run` (a stock is read at the year's end)
    year = 2024                   # or first_year / last_year for a window (flows are summed over it)
    value = 190.0                 # or low / high: a band (a figure given as a range)
    tolerance = 10.0              # optional, with value: the band value ± tolerance (needed to calibrate on it)
    source = "随州市2024年国民经济和社会发展统计公报"   # where the figure was published

:func:`evaluate_observed` gives, for each figure, the model's predictive mean
and 90 % interval for that year or window (over replications, or over
parameter sets drawn from a posterior and their replications), whether the
interval covers the figure and by how much the mean misses it.

``convsim calibrate --observed FILE`` scores the same figures as extra
targets (:func:`sim.calibration.model.observed_bands`): each needs a band,
``low``/``high`` or ``value`` with a ``tolerance``.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.errors import InputError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Columns of the table :func:`evaluate_observed` returns.
COLUMNS = ("id", "kpi", "first_year", "last_year", "observed", "low", "high", "model_mean", "model_p05", "model_p95",
           "covered", "miss", "miss_relative", "source")


class Observed(BaseModel):
    """One published figure: a KPI in a year (or a window), a value or a band, and its source."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str = Field(min_length=1, max_length=40)
    kpi: str = Field(min_length=1)
    year: int | None = Field(None, ge=2018, le=2060)
    first_year: int | None = Field(None, ge=2018, le=2060)
    last_year: int | None = Field(None, ge=2018, le=2060)
    value: float | None = None
    low: float | None = None
    high: float | None = None
    tolerance: float | None = Field(None, ge=0)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Observed:
        from sim.analysis.kpi import KPI_BY_KEY

        if self.kpi not in KPI_BY_KEY:
            raise ValueError(f"figure {self.id}: unknown kpi {self.kpi!r}")
        if (self.year is None) == (self.first_year is None and self.last_year is None):
            raise ValueError(f"figure {self.id}: give `year`, or `first_year` and `last_year`")
        if self.year is None and (self.first_year is None or self.last_year is None):
            raise ValueError(f"figure {self.id}: a window needs both `first_year` and `last_year`")
        if self.first_year is not None and self.last_year is not None and self.first_year > self.last_year:
            raise ValueError(f"figure {self.id}: first_year after last_year")
        if (self.value is None) == (self.low is None and self.high is None):
            raise ValueError(f"figure {self.id}: give `value`, or `low` and `high` (a band)")
        if self.value is None and (self.low is None or self.high is None or self.low > self.high):
            raise ValueError(f"figure {self.id}: a band needs `low` ≤ `high`")
        if self.tolerance is not None and self.value is None:
            raise ValueError(f"figure {self.id}: `tolerance` goes with `value` (a band has `low` and `high`)")
        for v in (self.value, self.low, self.high, self.tolerance):
            if v is not None and not math.isfinite(v):
                raise ValueError(f"figure {self.id}: values must be finite numbers")
        return self

    @property
    def window(self) -> tuple[int, int]:
        if self.year is not None:
            return self.year, self.year
        assert self.first_year is not None and self.last_year is not None
        return self.first_year, self.last_year

    @property
    def band(self) -> tuple[float, float]:
        """(low, high): the band as given, or value ± tolerance (a single point without a tolerance)."""
        if self.value is not None:
            tol = self.tolerance or 0.0
            return self.value - tol, self.value + tol
        assert self.low is not None and self.high is not None
        return self.low, self.high


class ObservedFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    observed: list[Observed] = Field(min_length=1)


def load_observed(path: str | Path) -> list[Observed]:
    """Read and check an observed-figures file; one-line :class:`InputError` naming the file and the key."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
        figures = ObservedFile.model_validate(data).observed
    except FileNotFoundError:
        raise InputError(f"{p}: observed-figures file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{p}: malformed TOML: {exc}") from None
    except ValidationError as err:
        from sim.scenario import one_line

        raise InputError(one_line(p, err, ObservedFile)) from None
    ids = [f.id for f in figures]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise InputError(f"{p}: figure ids must be unique ({', '.join(dup)})")
    return figures


def last_year(figures: list[Observed]) -> int:
    """The last year any figure needs simulated."""
    return max(f.window[1] for f in figures)


def evaluate_observed(records: pd.DataFrame, figures: list[Observed]) -> pd.DataFrame:
    """Each figure against the model: the predictive mean and 90 % interval of its KPI over the figure's year or
    window (one value per replication of ``records``), covered or not, and the miss (observed − mean; for a band,
    the distance to its nearer end, 0 inside)."""
    from sim.analysis.kpi import kpis

    rows = []
    cache: dict[tuple[int, int], pd.DataFrame] = {}
    first_sim, last_sim = int(records["year"].min()), int(records["year"].max())
    for f in figures:
        lo_y, hi_y = f.window
        if lo_y < first_sim or hi_y > last_sim:
            raise InputError(f"figure {f.id}: {lo_y}–{hi_y} lies outside the simulated years {first_sim}–{last_sim}")
        if f.window not in cache:
            cache[f.window] = kpis(records, lo_y, hi_y)
        v = cache[f.window][f.kpi].dropna().to_numpy(dtype=float)
        mean, p05, p95 = float(np.mean(v)), float(np.quantile(v, 0.05)), float(np.quantile(v, 0.95))
        low, high = f.band
        covered = bool(high >= p05 and low <= p95)
        miss = 0.0 if low <= mean <= high else (low - mean if mean < low else high - mean)
        ref = f.value if f.value is not None else (low + high) / 2
        rows.append({"id": f.id, "kpi": f.kpi, "first_year": lo_y, "last_year": hi_y, "observed": f.value,
                     "low": low, "high": high, "model_mean": mean, "model_p05": p05, "model_p95": p95,
                     "covered": covered, "miss": miss, "miss_relative": miss / abs(ref) if ref else np.nan,
                     "source": f.source})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def observed_text(table: pd.DataFrame, lang: str = "en") -> str:
    """One line per figure, as ``convsim targets --observed`` prints it."""
    zh = lang == "zh"
    head = f"{'figure':<18} {'kpi':<22} {'years':>9} {'observed':>14} {'model mean':>11} {'[5 %, 95 %]':>22}  " + \
        ("覆盖  偏差" if zh else "covered  miss")
    lines = [head]
    for _, r in table.iterrows():
        obs = f"{r['observed']:.5g}" if r["observed"] == r["observed"] and r["observed"] is not None \
            else f"{r['low']:.4g}–{r['high']:.4g}"
        yrs = str(r["first_year"]) if r["first_year"] == r["last_year"] else f"{r['first_year']}–{r['last_year']}"
        lines.append(f"{r['id']:<18} {r['kpi']:<22} {yrs:>9} {obs:>14} {r['model_mean']:>11.4g} "
                     f"[{r['model_p05']:>9.4g}, {r['model_p95']:>9.4g}]  {'yes' if r['covered'] else 'NO':<7}  "
                     f"{r['miss']:+.4g}")
    n = int(table["covered"].sum())
    lines.append(f"\n{n} / {len(table)} 个观测值落在模型 90% 预测区间内" if zh else
                 f"\n{n} of {len(table)} observed figures inside the model's 90 % predictive interval")
    return "\n".join(lines)


def fig_observed(records: pd.DataFrame, table: pd.DataFrame, lang: str = "en") -> Figure:
    """Per KPI: the model's yearly path (mean and 90 % band over replications) and the observed figures."""
    from sim.analysis.figures import figure_builder, new_figure
    from sim.analysis.kpi import KPI_BY_KEY, kpis

    @figure_builder
    def build() -> Figure:
        keys = list(dict.fromkeys(table["kpi"]))
        fig, axes = new_figure(8, 2.6 * len(keys), nrows=len(keys))
        years = sorted(int(y) for y in records["year"].unique())
        for ax, key in zip(axes[:, 0], keys, strict=True):
            per_year = np.array([kpis(records, y, y)[key].to_numpy(dtype=float) for y in years])
            ax.plot(years, np.nanmean(per_year, axis=1), color="C0", label="模型均值" if lang == "zh" else "model mean")
            ax.fill_between(years, np.nanquantile(per_year, 0.05, axis=1), np.nanquantile(per_year, 0.95, axis=1),
                            color="C0", alpha=0.2, label="模型 90% 区间" if lang == "zh" else "model 90 %")
            for _, r in table[(table["kpi"] == key) & (table["first_year"] == table["last_year"])].iterrows():
                y, lo, hi = int(r["first_year"]), float(r["low"]), float(r["high"])
                ax.errorbar([y], [(lo + hi) / 2], yerr=[[(hi - lo) / 2], [(hi - lo) / 2]], fmt="o",
                            color="C3" if not r["covered"] else "C2", capsize=3)
            meta = KPI_BY_KEY[key]
            ax.set_title(meta.zh if lang == "zh" else meta.en)
            ax.set_xlabel("年份" if lang == "zh" else "year")
        axes[0, 0].legend(fontsize=8)
        return fig

    return build()
