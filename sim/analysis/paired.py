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
#: Cohort KPIs of the comparison (sim.analysis.kpi.COHORT_KPIS), paired like every KPI: each replication's
#: share over the window's pooled cohorts (a ratio of sums), then the difference replication by replication.
#: Per-replication ratios rather than one ratio of sums over all replications with the delta method: the pairing
#: (common random numbers) lives in the replication, a window's cohorts hold hundreds of offers (the ratio's
#: small-sample bias is of order 1/n, far below its spread) and every other rate is judged the same way.
#: Needs the run followed past the window (``compare(follow_up=...)``); without it the k-year shares are NaN.
COHORT_COMPARED: dict[str, bool] = {
    "cohort_contracted_5y": True,
    "cohort_industrialised_5y": True,
    "cohort_signed_industrialised_5y": True,
    "cohort_time_to_production": False,
}
#: Every KPI ``compare``'s summary holds (the comparison's and the cohorts').
SUMMARISED: dict[str, bool] = {**COMPARED, **COHORT_COMPARED}
#: The report's columns, one per measure: the report's 转化 (引进转化, ``introduced_converted``: in the model
#: every contract is on an outside result, so the contracts column would repeat it) beside 产业化
#: (``industrialised``), then the cohort shares and the stages.
REPORTED: tuple[str, ...] = ("introduced_converted", "industrialised", "cohort_contracted_5y",
                             "cohort_industrialised_5y", "cohort_signed_industrialised_5y", "meetings", "pilots",
                             "rate_contract", "rate_industrialised", "rate_overall", "time_to_production",
                             "fiscal_cost")
#: The headline measures shown side by side, each with the ranking it gives: the report's 转化 (results
#: introduced and converted), 产业化 (industrialised projects, what compare ranks by unless told) and the
#: cohort conversion rate (of the results offered in the window, the share industrialised within 5 years).
HEADLINES: tuple[str, ...] = ("introduced_converted", "industrialised", "cohort_industrialised_5y")
HEADLINE = "industrialised"
#: Years a comparison's runs go on past the horizon so that the window's last cohort is followed the longest
#: k of the cohort KPIs (plus its own year); the window's flow KPIs are unchanged by it (records before the
#: horizon do not depend on it: benchmarks/compare_followup.py measures this and the cost).
FOLLOW_UP = 6
#: Length of the main comparison window (2023–2027): the report's horizon of five policy years. A longer horizon
#: adds a second, long window (e.g. 2023–2032) for slow measures (R&D institutions, talent).
SHORT_YEARS = 5


def higher_is_better(key: str) -> bool:
    """Direction of a KPI for rankings: more industrialisations is better, more fiscal cost or waiting is not."""
    if key in SUMMARISED:
        return SUMMARISED[key]
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


#: The parameter of the city's yearly conversion fund: a lever that adds money to it is paid for as the money is
#: paid out, not as declared (see :func:`lever_cost_myuan`).
FUND = "subsidy.fund_yuan_per_year"


def lever_cost_myuan(sc: Scenario, first: int, last: int) -> float:
    """Declared yearly costs of a scenario's levers summed over the window, M yuan, except money added to the
    city's fund.

    A lever such as 加大财政投入 adds money to the fund; its declared cost *is* that money. The fiscal cost
    already counts every payout from the fund (subsidies, awards, matching funds), and what the fund does not
    pay out lapses at the year's end, back to the treasury; counting the declared money too would charge each
    yuan paid out twice. So such a lever costs here what its money pays out (its budget, for the optimiser, is
    still the money declared: the city must set it aside either way).
    """
    total = 0.0
    for y in range(first, last + 1):
        total += sc.yearly_cost(y) - sum(lv.yearly_cost_yuan for lv in sc.levers
                                         if lv.param == FUND and y >= _start(sc, lv))
    return total / 1e6


def _start(sc: Scenario, lv: Any) -> int:
    return lv.start_year if lv.start_year is not None else sc.params.time.policy_start_year


def window_kpis(rec: pd.DataFrame, first: int, last: int, lever_cost: float) -> pd.DataFrame:
    """The KPIs of every replication over ``first``–``last``, with the payouts and the fiscal cost (M yuan).

    ``fiscal_cost`` = the levers' declared costs over the window (``lever_cost``, without money added to the
    city's fund: :func:`lever_cost_myuan`) + every payout: city and county subsidies, awards, high-tech rewards
    and pilot matching funds.
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
