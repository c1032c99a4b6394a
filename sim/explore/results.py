"""The headline of a comparison as the page shows it: the library's numbers, relabelled, never recomputed.

:func:`headline` reads a :class:`~sim.results.CompareResult` and returns one
row per mix: the paired change in industrialised projects and in the report's
转化 indicator (results introduced and converted, 引进转化) with their 95 %
intervals, with worlds their 5–95 % range, the fiscal cost per year (the
window's total beside it, labelled as such) and the cost per extra project,
and which other mixes it cannot be told apart from (the ranking's tie sets).
A test checks these numbers equal ``sim.compare``'s.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from sim.explore.i18n import t

#: The report's 转化 indicator: results introduced and converted (a contract signed).
CONVERSION = "introduced_converted"
HEADLINE = "industrialised"
#: Fewer worlds than this give no 5–95 % range worth showing.
MIN_WORLDS = 20


def headline(result: Any) -> pd.DataFrame:
    """One row per compared mix (best first), numeric columns in the library's units (fiscal cost per year)."""
    details = result.details.set_index(["scenario", "kpi"])
    summary = result.summary
    first, last = result.window
    years = last - first + 1
    rows = []
    for sid, row in summary.iterrows():
        ind, conv, cost = (details.loc[(sid, k)] for k in (HEADLINE, CONVERSION, "fiscal_cost"))
        rows.append({
            "scenario": sid, "rank": int(row["rank"]),
            "d_ind": ind["diff"], "d_ind_lo": ind["lo"], "d_ind_hi": ind["hi"],
            "d_conv": conv["diff"], "d_conv_lo": conv["lo"], "d_conv_hi": conv["hi"],
            "world_p05": row["world_p05"], "world_p95": row["world_p95"], "worlds": int(row["worlds"]),
            "d_cost_myuan_year": cost["diff"] / years, "d_cost_myuan_total": cost["diff"], "years": years,
            "myuan_per_extra": row["myuan_per_extra_industrialised"],
        })
    out = pd.DataFrame(rows).set_index("scenario")
    out["ties"] = [", ".join(_ties(result.ranking, sid)) for sid in out.index]
    return out


def _ties(ranking: pd.DataFrame, sid: str) -> list[str]:
    """The mixes that cannot be told apart from ``sid`` (same tie set of the ranking)."""
    r = ranking.set_index("scenario")
    g = r.loc[sid, "group"]
    return [s for s in r.index if s != sid and r.loc[s, "group"] == g]


def _interval(m: float, lo: float, hi: float, digits: int = 1) -> str:
    return f"{m:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}]"


def headline_html(h: pd.DataFrame, lang: str, names: dict[str, str]) -> str:
    """The headline table as HTML in the page's language (cells carry ``data-*`` attributes for tests)."""
    worlds = int(h["worlds"].max()) if len(h) else 0
    cols = [t("scenario", lang), t("d_ind", lang), t("d_conv", lang)]
    if worlds:
        cols.append(t("world_range", lang))
    years = int(h["years"].max()) if len(h) else 0
    cols += [t("cost_total", lang), f"<small>{t('cost_window', lang, years=years)}</small>", t("per_project", lang),
             t("told_apart", lang)]
    out = ["<table class='convsim-headline'><thead><tr>", *(f"<th>{c}</th>" for c in cols), "</tr></thead><tbody>"]
    for sid, r in h.iterrows():
        ties = [s for s in str(r["ties"]).split(", ") if s]
        if len(h) == 1:
            apart = "–"
        elif not ties:
            apart = t("can_tell", lang)
        else:
            apart = t("cannot_tell", lang, others=", ".join(names.get(s, s) for s in ties))
        cells = [f"<td>{names.get(str(sid), sid)}</td>",
                 f"<td data-kpi='industrialised' data-mean='{float(r['d_ind'])!r}'>"
                 f"{_interval(r['d_ind'], r['d_ind_lo'], r['d_ind_hi'])}</td>",
                 f"<td data-kpi='introduced_converted' data-mean='{float(r['d_conv'])!r}'>"
                 f"{_interval(r['d_conv'], r['d_conv_lo'], r['d_conv_hi'])}</td>"]
        if worlds:
            cells.append(f"<td>{r['world_p05']:+.1f} … {r['world_p95']:+.1f}</td>")
        cells += [f"<td data-kpi='fiscal_cost_year' data-mean='{float(r['d_cost_myuan_year'])!r}'>"
                  f"{r['d_cost_myuan_year'] * 100:,.0f}</td>",
                  f"<td><small>{r['d_cost_myuan_total'] * 100:,.0f}</small></td>",
                  f"<td>{r['myuan_per_extra'] * 100:,.0f}</td>" if pd.notna(r["myuan_per_extra"]) else "<td>–</td>",
                  f"<td>{apart}</td>"]
        out += ["<tr>", *cells, "</tr>"]
    out.append("</tbody></table>")
    if 0 < worlds < MIN_WORLDS:
        out.append(f"<p class='convsim-warn'>⚠ {t('few_worlds', lang)}</p>")
    return "".join(out)
