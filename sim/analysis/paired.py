"""Paired statistics: the difference of two arms run on the same replications, and its interval.

Two scenarios run with the same seed and replication numbers share every
draw a policy does not touch (common random numbers), so their difference is
taken replication by replication and its Student-t interval is far narrower
than that of two independent means. Every comparison in convsim — the main
comparison, the worlds of uncertainty, the optimiser's judgement of a mix, a
sweep's robustness — computes its intervals here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

from sim.analysis.kpi import KPI_BY_KEY, kpis

if TYPE_CHECKING:
    import pandas as pd

    from sim.experiment import Run
    from sim.scenario import Scenario

#: KPIs of the comparison and whether more is better.
COMPARED: dict[str, bool] = {
    "industrialised": True,
    "introduced_converted": True,
    "contracts": True,
    "meetings": True,
    "pilots": True,
    "rate_contract": True,
    "rate_industrialised": True,
    "rate_overall": True,
    "time_to_production": False,
    "fiscal_cost": False,
}
HEADLINE = "industrialised"
#: Length of the main comparison window (2023–2027): the report's horizon of five policy years. A longer horizon
#: adds a second, long window (e.g. 2023–2032) for slow measures (R&D institutions, talent).
SHORT_YEARS = 5
def higher_is_better(key: str) -> bool:
    """Direction of a KPI for rankings: more industrialisations is better, more fiscal cost or waiting is not."""
    if key in COMPARED:
        return COMPARED[key]
    return KPI_BY_KEY[key].better


def t_half_width(sd: Any, n: Any) -> Any:
    """Half-width of the 95 % Student-t interval of a mean of ``n`` values with standard deviation ``sd``.

    Element-wise for arrays and pandas Series (a Series keeps its index).
    """
    return stats.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(n)


def t_interval(v: np.ndarray) -> tuple[float, float, float]:
    """Mean of the finite values of ``v`` and its 95 % Student-t interval (the mean thrice for one value)."""
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return np.nan, np.nan, np.nan
    m = float(v.mean())
    if len(v) < 2:
        return m, m, m
    half = float(t_half_width(float(v.std(ddof=1)), len(v)))
    return m, m - half, m + half


def lever_cost_myuan(sc: Scenario, first: int, last: int) -> float:
    """Declared yearly costs of a scenario's levers summed over the window, M yuan."""
    return sum(sc.yearly_cost(y) for y in range(first, last + 1)) / 1e6


def window_kpis(rec: pd.DataFrame, first: int, last: int, lever_cost: float) -> pd.DataFrame:
    """The KPIs of every replication over ``first``–``last``, with the payouts and the fiscal cost (M yuan).

    ``fiscal_cost`` = the levers' declared costs over the window (``lever_cost``) + every payout:
    city and county subsidies, awards, high-tech rewards and pilot matching funds.
    """
    k = kpis(rec, first, last)
    k["payouts"] = (k["yuan_subsidy_city"] + k["yuan_subsidy_county"] + k["yuan_awards"] + k["yuan_hightech_rewards"]
                    + k["yuan_pilot_matching"])
    k["fiscal_cost"] = lever_cost + k["payouts"]
    return k


def run_kpis(run: Run, rec: pd.DataFrame, window: tuple[int, int] | None) -> pd.DataFrame:
    """A run plan's reduction to KPIs (:class:`sim.experiment.RunPlan`): :func:`window_kpis` of one run's
    records over the plan's window, the levers of the run's scenario (as placed in its world) charged over it."""
    from sim.scenario import Scenario

    if window is None or not isinstance(run.model, Scenario):
        raise ValueError("KPIs of a run need the plan's window and the run's scenario")
    first, last = window
    return window_kpis(rec, first, last, lever_cost_myuan(run.model, first, last))


def paired(a: np.ndarray, b: np.ndarray, higher_is_better: bool) -> dict[str, float]:
    """Paired statistics of ``b − a`` (scenario minus baseline), replication by replication."""
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    n = len(a)
    d = b - a
    mean = float(d.mean()) if n else np.nan
    sd = float(d.std(ddof=1)) if n > 1 else np.nan
    se = sd / np.sqrt(n) if n > 1 else np.nan
    tq = float(stats.t.ppf(0.975, n - 1)) if n > 1 else np.nan
    half = tq * se
    unpaired = tq * np.sqrt(a.var(ddof=1) / n + b.var(ddof=1) / n) if n > 1 else np.nan
    sign = 1.0 if higher_is_better else -1.0
    varied = bool(se > 0)
    # P(better) from the same Student t as the interval, so "gain" (whole interval above zero) and
    # P(better) > 0.975 always say the same thing
    p_beat = float(stats.t.cdf(sign * mean / se, n - 1)) if varied else np.nan
    lo, hi = (mean - half, mean + half) if varied else (np.nan, np.nan)
    # a difference that never varied over the replications (or too few of them) has no interval: no verdict
    gain = varied and bool((lo > 0) if higher_is_better else (hi < 0))
    loss = varied and bool((hi < 0) if higher_is_better else (lo > 0))
    return {"base_mean": float(a.mean()) if n else np.nan, "mean": float(b.mean()) if n else np.nan,
            "diff": mean, "lo": lo, "hi": hi, "half_width": half if varied else 0.0,
            "unpaired_half_width": float(unpaired), "p_beat": p_beat,
            "share_better": float(np.mean(sign * d > 0)) if n else np.nan,
            "gain": gain, "loss": loss, "n": n}
