"""Key performance indicators (KPIs) from a run's records, and their summaries.

A KPI is computed per replication over a window of calendar years, so that
its spread over replications is the Monte Carlo uncertainty. The ``rate_*``
KPIs are ratios of flows in the window (e.g. industrialised in the window /
contracts signed in the window); the ``cohort_*`` KPIs follow the results
offered (or contracts signed) in the window's years to where they got, within
k years or by the horizon (docs/kpis.md says which answers which question).

The formulas live once, in :func:`kpi_columns`, over the window's column sums.
:func:`kpis` feeds it from the tidy pandas table; :func:`kpi_arrays` from a
run's :class:`~sim.experiment.RecordArrays` without pandas (``convsim run``,
whose start it keeps under a second), summing in the same order and with the
same compensated summation as pandas' ``groupby().sum()``, so both give the
same numbers to the last bit (tests/test_start.py).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.layout import RECORD_ROWS

if TYPE_CHECKING:
    import pandas as pd

    from sim.experiment import RecordArrays


@dataclass(frozen=True)
class KPI:
    """One indicator: its column, labels, unit and whether more is better (for rankings)."""

    key: str
    en: str
    zh: str
    unit: str
    better: bool = True


KPIS: tuple[KPI, ...] = (
    KPI("offers", "Results offered", "对接成果供给", "results"),
    KPI("meetings", "Meetings (firm–university)", "校企对接", "meetings"),
    KPI("contracts", "Contracts (results converted)", "成果转化合同", "contracts"),
    KPI("all_contracts", "Technology contracts, all kinds", "技术合同(全部)", "contracts"),
    KPI("subsidised", "Subsidised projects", "获补贴项目", "projects"),
    KPI("pilots", "Pilot tests started", "中试项目", "projects"),
    KPI("pilots_public", "  of which at public bases", "其中公共中试基地", "projects"),
    KPI("industrialised", "Industrialised projects", "实现产业化项目", "projects"),
    KPI("introduced_converted", "Results introduced and converted (T3)", "引进转化成果", "results"),
    KPI("awards", "Industrialisation awards", "产业化奖励", "projects"),
    KPI("rate_contract", "Contracted / offered", "签约率(合同/供给)", "share"),
    KPI("rate_industrialised", "Industrialised / contracted", "产业化率(产业化/合同)", "share"),
    KPI("rate_overall", "Industrialised / offered", "总转化率(产业化/供给)", "share"),
    KPI("time_to_production", "Time from offer to production", "从成果到量产时间", "years", better=False),
    KPI("yuan_subsidy_city", "City subsidy paid", "市级补贴", "M yuan", better=False),
    KPI("yuan_subsidy_county", "County top-up paid", "县级二次补贴", "M yuan", better=False),
    KPI("yuan_awards", "Industrialisation awards paid", "产业化奖励资金", "M yuan", better=False),
    KPI("yuan_hightech_rewards", "High-tech rewards paid", "高企奖励资金", "M yuan", better=False),
    KPI("yuan_pilot_matching", "Matching funds to pilot bases", "中试基地配套资金", "M yuan", better=False),
    KPI("yuan_fund_use", "City fund used", "专项资金使用", "M yuan", better=False),
    KPI("yuan_pilot_cost", "Pilot-test spending", "中试投入", "M yuan"),
    KPI("yuan_loans", "Loans for industrialisation", "产业化贷款", "M yuan"),
    KPI("yuan_firm_rd", "Firm spending induced (incl. production investment)", "带动企业投入(含产业化投资)", "M yuan"),
    KPI("yuan_rd_induced", "Firm R&D induced (contracts + pilot tests)", "带动企业研发投入", "M yuan"),
    KPI("hightech_stock", "High-tech firms (end of window)", "高新技术企业(期末)", "firms"),
    KPI("hightech_applications", "High-tech applications (renewals included)", "高企申报数(含重新认定)", "firms"),
    KPI("tech_sme_stock", "Science-based SMEs (end of window)", "科技型中小企业(期末)", "firms"),
    KPI("above_size_stock", "Firms above designated size (end of window)", "规上企业(期末)", "firms"),
    KPI("projects_lost_to_exit", "Projects ended by their firm's exit", "因企业退出终止的项目", "projects",
        better=False),
    KPI("broker_utilisation", "Broker utilisation", "技术经纪人利用率", "share"),
    KPI("pilot_utilisation", "Public pilot-base utilisation", "公共中试基地利用率", "share"),
    KPI("wait_pilot", "Mean wait for a public pilot slot", "中试排队时间", "years", better=False),
    KPI("wait_broker", "Mean wait for a broker", "技术经纪人排队时间", "years", better=False),
    KPI("broker_turned_away", "Results turned away: every broker busy", "经纪人满负荷未受理的成果", "results",
        better=False),
    KPI("pilot_turned_away", "Pilots sent outside: public bases full", "公共中试基地已满转外地中试", "projects",
        better=False),
)
#: Cohort shares (sim.layout's cohort rows; docs/kpis.md): key → (cohort, stage, span), with its labels.
#: ``cohort_*``: of the results offered in the window's years; ``cohort_signed_*``: of the contracts signed in them.
COHORT_KPIS: dict[str, tuple[str, str, str]] = {
    "cohort_contracted_3y": ("offers", "contracted", "3y"),
    "cohort_contracted_5y": ("offers", "contracted", "5y"),
    "cohort_contracted_horizon": ("offers", "contracted", "horizon"),
    "cohort_industrialised_3y": ("offers", "industrialised", "3y"),
    "cohort_industrialised_5y": ("offers", "industrialised", "5y"),
    "cohort_industrialised_horizon": ("offers", "industrialised", "horizon"),
    "cohort_signed_industrialised_3y": ("contracts", "industrialised", "3y"),
    "cohort_signed_industrialised_5y": ("contracts", "industrialised", "5y"),
    "cohort_signed_industrialised_horizon": ("contracts", "industrialised", "horizon"),
}
_SPAN_EN = {"3y": "≤ 3 y", "5y": "≤ 5 y", "horizon": "by horizon"}
_STAGE_EN = {"contracted": "contract", "industrialised": "production"}
_SPAN_ZH = {"3y": "3年内", "5y": "5年内", "horizon": "至模拟期末"}
_COHORT_ZH = {"offers": "供给成果", "contracts": "签约项目", "contracted": "签约", "industrialised": "产业化"}
KPIS = (*KPIS, *(
    KPI(key, f"Cohort {'offered' if c == 'offers' else 'signed'}→{_STAGE_EN[st]} {_SPAN_EN[w]}",
        f"{_COHORT_ZH[c]}队列{_SPAN_ZH[w]}{_COHORT_ZH[st]}比例", "share") for key, (c, st, w) in COHORT_KPIS.items()),
    KPI("cohort_time_to_production", "Cohort years: offer → production",
        "供给成果队列从成果到量产时间", "years", better=False),
    KPI("cohort_signed_time_to_production", "Cohort years: contract → production",
        "签约项目队列从签约到量产时间", "years", better=False),
)
KPI_BY_KEY = {k.key: k for k in KPIS}

def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b, NaN where b ≤ 0 (no flow in the denominator: the rate is undefined, not 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(a / np.where(b > 0, b, np.nan), dtype=float)


def kpi_columns(g: Callable[[str], np.ndarray], end: Callable[[str], np.ndarray]) -> dict[str, np.ndarray]:
    """Every KPI, one value per replication, from ``g(row)``: record row ``row`` summed over the window,
    and ``end(row)``: its value in the window's last year (both in replication order)."""
    out: dict[str, np.ndarray] = {}
    out["offers"] = g("offers")
    out["meetings"] = g("meetings")
    out["contracts"] = g("contracts")
    out["all_contracts"] = g("contracts") + g("other_contracts")
    out["subsidised"] = g("subsidised")
    out["pilots"] = g("pilots_inhouse") + g("pilots_public") + g("pilots_outside")
    out["pilots_public"] = g("pilots_public")
    out["industrialised"] = g("industrialised")
    # 引进转化 (report 一(三)1, T3): results from universities and institutes introduced and converted, i.e.
    # contracts on outside results. Every offer of the model is such a result (Suizhou has no undergraduate
    # university, report 二(一)), so it counts every contract; other technology contracts (T4) are not in it.
    out["introduced_converted"] = g("contracts")
    out["awards"] = g("awards")
    out["rate_contract"] = _ratio(g("contracts"), g("offers"))
    out["rate_industrialised"] = _ratio(g("industrialised"), g("contracts"))
    out["rate_overall"] = _ratio(g("industrialised"), g("offers"))
    out["time_to_production"] = _ratio(g("time_to_production_years"), g("industrialised"))
    for k in ("yuan_subsidy_city", "yuan_subsidy_county", "yuan_awards", "yuan_hightech_rewards",
              "yuan_pilot_matching", "yuan_pilot_cost", "yuan_loans", "yuan_firm_rd"):
        out[k] = g(k) / 1e6
    out["yuan_fund_use"] = (out["yuan_subsidy_city"] + out["yuan_awards"] + out["yuan_hightech_rewards"]
                            + out["yuan_pilot_matching"])
    # R&D the conversions induced (T11): what firms paid for results and spent on pilot tests; the investment
    # in production capacity that follows is not R&D
    out["yuan_rd_induced"] = (g("contract_value_yuan") + g("yuan_pilot_cost")) / 1e6
    out["hightech_stock"] = end("hightech_stock")
    out["hightech_applications"] = g("hightech_applications")
    # the firm population: stocks at the window's end, projects lost to firms' exits in it
    out["tech_sme_stock"] = end("firms_tech_sme")
    out["above_size_stock"] = end("firms_above_size")
    out["projects_lost_to_exit"] = g("end_firm_exit")
    out["broker_utilisation"] = _ratio(g("broker_busy_years"), g("broker_capacity_years"))
    out["pilot_utilisation"] = _ratio(g("pilot_busy_years"), g("pilot_capacity_years"))
    out["wait_pilot"] = _ratio(g("wait_pilot_years"), g("served_pilot_public"))
    # utilisation saturates near 100 % at a bottleneck; who is turned away still tells scenarios apart
    out["wait_broker"] = _ratio(g("wait_broker_years"), g("served_broker"))
    out["broker_turned_away"] = g("unassisted_broker_full")
    out["pilot_turned_away"] = g("outside_pilot_base_full")
    # cohort shares: the window's cohorts pooled (ratio of sums, one value per replication); a k-year share
    # needs every cohort of the window followed k + 1 years from its year's start, and the last is followed
    # least: shorter, it is censored, NaN (never a share of partly followed cohorts)
    followup = end("cohort_followup_years")
    for key, (cohort, stage, span) in COHORT_KPIS.items():
        share = _ratio(g(f"cohort_{cohort}_{stage}_{span}"), g(f"cohort_{cohort}"))
        if span != "horizon":
            share = np.where(followup >= int(span[:-1]) + 1, share, np.nan)
        out[key] = share
    out["cohort_time_to_production"] = _ratio(g("cohort_offers_time_to_production_years"),
                                              g("cohort_offers_industrialised_horizon"))
    out["cohort_signed_time_to_production"] = _ratio(g("cohort_contracts_time_to_production_years"),
                                                     g("cohort_contracts_industrialised_horizon"))
    return out


def kpis(records: pd.DataFrame, first: int, last: int) -> pd.DataFrame:
    """Per-replication KPIs over calendar years ``first``–``last`` (inclusive)."""
    import pandas as pd

    w = records[(records["year"] >= first) & (records["year"] <= last)]
    g = w.groupby("rep", sort=True).sum(numeric_only=True)
    end = records[records["year"] == last].set_index("rep").sort_index().reindex(g.index)
    return pd.DataFrame(kpi_columns(lambda c: g[c].to_numpy(), lambda c: end[c].to_numpy()), index=g.index)


def window_sums(rec: RecordArrays, first: int, last: int) -> np.ndarray:
    """Record rows summed over the years ``first``–``last``: ``[replication, row]``.

    Summed year by year with Kahan's compensation, exactly as pandas' ``groupby().sum()`` does (its
    ``group_sum``: NaN values skipped; a NaN compensation, from an infinite value, reset to 0), so
    :func:`kpi_arrays` equals :func:`kpis` to the last bit.
    """
    total = np.zeros(rec.values.shape[:2])
    comp = np.zeros_like(total)
    for y in np.flatnonzero((rec.years >= first) & (rec.years <= last)):
        v = rec.values[:, :, y]
        seen = ~np.isnan(v)
        d = v - comp
        t_ = total + d
        with np.errstate(invalid="ignore"):  # inf − inf: the NaN pandas resets
            c = (t_ - total) - d
        c[np.isnan(c)] = 0.0
        total = np.where(seen, t_, total)
        comp = np.where(seen, c, comp)
    return total


def kpi_arrays(rec: RecordArrays, first: int, last: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """:func:`kpis` without pandas: (replication numbers in ascending order, KPI → one value per replication)."""
    order = np.argsort(rec.reps, kind="stable")
    sums = window_sums(rec, first, last)[order]
    row = {name: k for k, name in enumerate(RECORD_ROWS)}
    ly = np.flatnonzero(rec.years == last)
    at_end = rec.values[order][:, :, ly[0]] if ly.size else np.full(sums.shape, np.nan)
    return rec.reps[order], kpi_columns(lambda c: sums[:, row[c]], lambda c: at_end[:, row[c]])


def summary_rows(columns: Mapping[str, np.ndarray], level: float = 0.90) -> dict[str, dict[str, Any]]:
    """KPI → labels, unit, mean and central ``level`` interval over replications (NaN left out), and n."""
    lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
    rows = {}
    for col, values in columns.items():
        v = np.asarray(values, dtype=float)
        v = v[~np.isnan(v)]
        meta = KPI_BY_KEY.get(col)
        rows[col] = {
            "en": meta.en if meta else col,
            "zh": meta.zh if meta else col,
            "unit": meta.unit if meta else "",
            "mean": float(np.mean(v)) if len(v) else np.nan,
            "lo": float(np.quantile(v, lo)) if len(v) else np.nan,
            "hi": float(np.quantile(v, hi)) if len(v) else np.nan,
            "n": len(v),
        }
    return rows


def summarise(k: pd.DataFrame, level: float = 0.90) -> pd.DataFrame:
    """Mean and central interval of each KPI over replications."""
    import pandas as pd

    rows = summary_rows({col: k[col].to_numpy(dtype=float) for col in k.columns}, level)
    return pd.DataFrame([{"kpi": key, **r} for key, r in rows.items()]).set_index("kpi")


def _fmt(x: float, unit: str) -> str:
    if not np.isfinite(x):
        return "–"
    if unit == "share":
        return f"{100 * x:.1f}%"
    if unit in ("years", "M yuan"):
        return f"{x:.2f}"
    return f"{x:.1f}"


def display_width(text: str) -> int:
    """Columns a string takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    """``text`` left-aligned in ``width`` terminal columns."""
    return text + " " * max(0, width - display_width(text))


def kpi_table_text(summaries: Mapping[str, Mapping[str, Mapping[str, Any]]], lang: str = "en",
                   targets: Mapping[str, tuple[float, float]] | None = None, intervals: bool = True) -> str:
    """A plain-text table: one row per KPI, one column (mean [90 % interval]) per window.

    ``targets``: KPI → (low, high) of the report's figures, printed in a last column
    (:func:`sim.analysis.targets.report_targets`).

    ``summaries``: window → KPI → ``unit``, ``mean``, ``lo``, ``hi`` (:func:`summary_rows`).
    ``intervals=False`` prints the means alone (one replication has no interval).
    """
    label_w = 38
    cols = list(summaries)
    head = f"{pad('KPI / 指标', label_w)}{'unit':>8}  " + "  ".join(f"{c:>28}" for c in cols)
    if targets:
        head += f"  {'report 2018–22':>16}"
    lines = [head, "-" * len(head)]
    first = summaries[cols[0]]
    for key in first:
        meta = KPI_BY_KEY.get(key)
        label = (meta.zh if lang == "zh" else meta.en) if meta else key
        unit = first[key]["unit"]
        cells = []
        for c in cols:
            s = summaries[c][key]
            cells.append(f"{_fmt(s['mean'], unit)} [{_fmt(s['lo'], unit)}, {_fmt(s['hi'], unit)}]" if intervals
                         else _fmt(s["mean"], unit))
        line = f"{pad(label, label_w)}{unit:>8}  " + "  ".join(f"{c:>28}" for c in cells)
        if targets:
            t = targets.get(key)
            line += f"  {(_fmt(t[0], unit) + '–' + _fmt(t[1], unit)) if t else '':>16}"
        lines.append(line)
    return "\n".join(lines)
