"""The report's figures for 2018–2022 (calibration targets), read from ``calibration/targets.toml``.

The report (Suizhou Science and Technology Bureau, 2023-01-03; docs/sources.md) gives a handful of figures
for its "five years" 2018–2022: matchmaking contacts, results introduced and converted (引进转化),
technology contracts, subsidised projects and money, industrialisation awards, high-tech enterprises,
fund use and induced R&D. They live in a data file, not in code, so a reader can see each one beside its
section of the report and the band we allow around it, and so that ``convsim run``, ``convsim calibrate``
and ``convsim targets`` all read the same figures.

Two kinds of check: ``mean`` (the mean over replications lies in ``[low, high]``) and ``share_at_least``
(at least ``share`` of the replications reach ``low``: the 24 awards of T7 need 24 candidates).
How the ABC-SMC calibration scores a ``mean`` target is its ``score``: ``band`` (the distance from the band's
centre) or ``at_least`` (only a shortfall below ``low`` counts: a figure the report gives as a lower bound).
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.errors import InputError
from sim.resources import targets_path

if TYPE_CHECKING:
    import pandas as pd

#: Where the targets live: the repository's calibration folder.
TARGETS_FILE = targets_path()
#: The report's "five years".
WINDOW = (2018, 2022)


class Target(BaseModel):
    """One figure of the report and the band the model must reach."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str = Field(min_length=1, max_length=32)
    kpi: str = Field(min_length=1)
    report_ref: str = Field(min_length=1)
    report_text: str = Field(min_length=1)
    report_value: float | None = None
    low: float
    high: float = math.inf
    share: float | None = Field(None, gt=0, le=1)
    tolerance: str = Field(min_length=1)
    check: Literal["mean", "share_at_least"]
    #: How calibration scores the target (sim/calibration/model.py): "band", from the band's centre in half-widths;
    #: "at_least", 0 at or above ``low`` and only a shortfall counts (the report's figure is a lower bound; ``high``
    #: is then still checked by ``convsim targets``, not scored).
    score: Literal["band", "at_least"] = "band"
    first_year: int = WINDOW[0]
    last_year: int = WINDOW[1]
    unit: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Target:
        from sim.analysis.kpi import KPI_BY_KEY

        if self.kpi not in KPI_BY_KEY:
            raise ValueError(f"target {self.id}: unknown kpi {self.kpi!r}")
        if not self.low <= self.high:
            raise ValueError(f"target {self.id}: low {self.low} above high {self.high}")
        if (self.check == "share_at_least") != (self.share is not None):
            raise ValueError(f"target {self.id}: `share` goes with check = 'share_at_least' and only with it")
        if self.score == "at_least" and self.check != "mean":
            raise ValueError(f"target {self.id}: score = 'at_least' goes with check = 'mean' only")
        if not WINDOW[0] <= self.first_year <= self.last_year <= WINDOW[1]:
            raise ValueError(f"target {self.id}: years must lie within {WINDOW[0]}–{WINDOW[1]}")
        return self


class TargetsFile(BaseModel):
    """The whole targets file."""

    model_config = ConfigDict(extra="forbid", strict=True)

    targets: list[Target] = Field(min_length=1)


def load_targets(path: str | Path | None = None) -> list[Target]:
    """Read and validate the targets file (default ``calibration/targets.toml``)."""
    p = Path(path) if path is not None else TARGETS_FILE
    from sim.checks import read_toml_input

    data = read_toml_input(p, "a targets file: convsim reads the report's figures from it")
    try:
        return TargetsFile.model_validate(data).targets
    except ValidationError as err:
        from sim.scenario import one_line

        raise InputError(one_line(p, err, TargetsFile)) from None


@cache
def report_targets() -> dict[str, tuple[float, float]]:
    """KPI → (low, high) of every ``mean`` target over the whole window 2018–2022 (what ``convsim run`` prints
    beside the model and the rejection calibration accepts on; ABC-SMC also scores the shorter windows,
    :func:`sim.calibration.model.targets`)."""
    return {t.kpi: (t.low, t.high) for t in load_targets()
            if t.check == "mean" and (t.first_year, t.last_year) == WINDOW}


def evaluate(records: pd.DataFrame, targets: list[Target] | None = None) -> pd.DataFrame:
    """Every target against the model: report value, band, model mean and 5–95 % range, within or not.

    Columns: ``target, report_value, low, high, model_mean, model_p05, model_p95, within``, then ``kpi``,
    ``report_ref`` and ``share_reaching_low`` (the share of replications at or above ``low``).
    """
    import pandas as pd

    from sim.analysis.kpi import kpis

    rows = []
    cache_k: dict[tuple[int, int], pd.DataFrame] = {}
    for t in targets if targets is not None else load_targets():
        win = (t.first_year, t.last_year)
        if win not in cache_k:
            cache_k[win] = kpis(records, *win)
        v = cache_k[win][t.kpi].dropna().to_numpy(dtype=float)
        mean = float(np.mean(v))
        reach = float(np.mean(v >= t.low))
        within = (t.low <= mean <= t.high) if t.check == "mean" else reach >= (t.share or 1.0)
        rows.append({"target": t.id, "report_value": t.report_value, "low": t.low, "high": t.high,
                     "model_mean": mean, "model_p05": float(np.quantile(v, 0.05)),
                     "model_p95": float(np.quantile(v, 0.95)), "within": bool(within), "kpi": t.kpi,
                     "report_ref": t.report_ref, "share_reaching_low": reach})
    return pd.DataFrame(rows)


def targets_text(res: pd.DataFrame, reps: int, seed: int) -> str:
    """What ``convsim targets`` prints: one line per target."""
    lines = [f"The report's figures for 2018–2022 against the model ({reps} replications, seed {seed})", "",
             f"{'target':<16} {'report':>9} {'band':>17} {'model mean':>11} {'[5 %, 95 %]':>20}  within  kpi"]
    for _, r in res.iterrows():
        band = f"{r['low']:.4g}–{r['high']:.4g}" if math.isfinite(r["high"]) else f"≥ {r['low']:.4g}"
        rep = "–" if r["report_value"] is None or not np.isfinite(r["report_value"]) else f"{r['report_value']:.5g}"
        extra = f" ({100 * r['share_reaching_low']:.0f} % of runs ≥ {r['low']:g})" \
            if r["target"].endswith("candidates") else ""
        lines.append(f"{r['target']:<16} {rep:>9} {band:>17} {r['model_mean']:>11.4g} "
                     f"[{r['model_p05']:>8.4g}, {r['model_p95']:>8.4g}]  {'yes' if r['within'] else 'NO':<6}  "
                     f"{r['kpi']} ({r['report_ref']}){extra}")
    n_ok = int(res["within"].sum())
    lines += ["", f"{n_ok} of {len(res)} targets within their band"]
    return "\n".join(lines)
