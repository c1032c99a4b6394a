"""The report reads like the page: resized levers say their size, inputs and levers by their human names,
one "how sure" section after the ranking, yearly costs beside yearly budgets (in the report and on the page)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import sim
from sim.analysis.discovery import Box
from sim.analysis.page import context, render_html
from sim.analysis.uncertainty import named_inputs
from sim.analysis.worlds_report import input_label, lever_names, worlds_text
from sim.explore.mix import Catalogue, Mix
from sim.explore.results import headline, headline_html
from sim.labels import PARAM_LABELS, param_label
from sim.params import Params
from tests.conftest import BASELINE, ROOT

SCEN = ROOT / "scenarios"
GROUPS = ("awareness", "platforms", "talent", "intermediaries", "finance")


def _levers(path: Path) -> dict[str, Any]:
    return {lv.id: lv for lv in sim.load_scenario(path).levers}


# -- resized levers state their own size ----------------------------------------------------------------------
def test_equal_budget_levers_state_the_size_they_have_not_the_group_files() -> None:
    eq = _levers(SCEN / "eq_intermediaries.toml")
    brokers, agencies = eq["certified_brokers"], eq["transfer_agencies"]
    assert brokers.value == 7 and agencies.value == pytest.approx(2.475)
    assert brokers.rationale_en.startswith("Technology brokers: 7 more (8 → 15).")
    assert brokers.rationale_zh.startswith("技术经纪人数量增加7 (8 → 15)")
    assert agencies.rationale_en.startswith("Technology transfer agencies: 2.475 more (7 → 9.475).")
    for lv in (brokers, agencies):  # the group file's words ("Eight more…", "Three more…") are not repeated
        assert not re.search(r"\b(Eight|Three)\b", lv.rationale_en), lv.rationale_en
        assert "新增8名" not in lv.rationale_zh and "新增3家" not in lv.rationale_zh
    name = sim.load_scenario(SCEN / "eq_intermediaries.toml").scenario.name_en
    assert name == "Equal budget (3 M yuan a year): intermediary services"  # a name, not the group's key
    for g in GROUPS:  # every resized lever of every variant: its text names its size, not the group file's text
        group = _levers(SCEN / f"g{GROUPS.index(g) + 1}_{g}.toml")
        for lid, lv in _levers(SCEN / f"eq_{g}.toml").items():
            orig = group[lid]
            assert orig.rationale_en not in lv.rationale_en and orig.rationale_zh not in lv.rationale_zh, lid
            assert "equal-budget variant" in lv.rationale_en and "等额投入方案" in lv.rationale_zh, lid
            assert lv.param not in lv.rationale_en.split(".")[0], lid  # the human name, not the key


def test_a_mix_at_another_intensity_states_its_size() -> None:
    mix = Mix(Catalogue(SCEN))
    mix.set("certified_brokers", on=True, intensity=0.5)
    mix.set("ip_protection", on=True)  # at its shipped size: the shipped words stay
    lv = {x.id: x for x in mix.levers()}
    assert lv["certified_brokers"].value == 4
    assert lv["certified_brokers"].rationale_en.startswith("Technology brokers: 4 more (8 → 12).")
    assert "intensity 0.5" in lv["certified_brokers"].rationale_en
    assert "Eight" not in lv["certified_brokers"].rationale_en
    assert lv["ip_protection"].rationale_en == Catalogue(SCEN).by_id["ip_protection"].lever.rationale_en


def test_an_optimised_mix_lever_states_its_size() -> None:
    from sim.optimise.space import resized

    g4 = sim.load_scenario(SCEN / "g4_intermediaries.toml")
    brokers = next(lv for lv in g4.levers if lv.id == "certified_brokers")
    half = resized(brokers, 0.5, g4.params, "g4_intermediaries.toml")
    assert half.value == 4 and half.rationale_en.startswith("Technology brokers: 4 more (8 → 12).")
    assert "optimised mix, intensity 0.5" in half.rationale_en and "Eight" not in half.rationale_en
    assert half.rationale_zh.startswith("技术经纪人数量增加4 (8 → 12)") and "新增8名" not in half.rationale_zh
    same = resized(brokers, 1.0, g4.params, "g4_intermediaries.toml")  # at its size its own words are right
    assert same.rationale_en.startswith(brokers.rationale_en)


# -- human names -----------------------------------------------------------------------------------------------
def test_every_lever_parameter_and_every_calibrated_parameter_has_a_name_in_both_languages() -> None:
    keys = {lv.param for p in SCEN.glob("*.toml") for lv in sim.load_scenario(p).levers}
    keys |= set(pd.read_csv(ROOT / "calibration" / "posterior.csv", nrows=1).columns) - {"weight"}
    fields = {f"{g}.{n}" for g, m in Params.model_fields.items() for n in getattr(m.annotation, "model_fields", {})}
    assert set(PARAM_LABELS) <= fields  # no name for a parameter that does not exist
    for k in sorted(keys):
        assert param_label(k, "zh") != k and param_label(k, "en") != k, k
    assert param_label("meeting.broker_queue_cap", "en") == "meeting.broker_queue_cap"  # no name: the key


def test_discovery_boxes_name_inputs_and_measures() -> None:
    box = Box({"meeting.efficiency_broker": (0.03, 0.05), "effect:certified_brokers": (0.0, 0.4)}, 0.7, 0.9, 0.2,
              10, 9)
    bounds = {"meeting.efficiency_broker": (0.02, 0.09), "effect:certified_brokers": (0.0, 1.0)}
    names = {"certified_brokers": ("大力培育技术经纪人队伍", "Train a corps of certified technology brokers")}
    en = box.sentence("the leader loses", bounds, "en", names)
    zh = box.sentence("领先方案失去领先", bounds, "zh", names)
    assert "matching efficiency with a broker (meeting.efficiency_broker) between 0.03 and 0.05" in en
    assert "effect of “Train a corps of certified technology brokers” (effect:certified_brokers) ≤ 0.4" in en
    assert "经纪人撮合效率 (meeting.efficiency_broker)" in zh and "措施效果:大力培育技术经纪人队伍" in zh
    assert input_label("cost:unknown_lever", "en") == "cost of “unknown_lever” (cost:unknown_lever)"


# -- a comparison with worlds, rendered ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def compared() -> Any:
    return sim.compare(BASELINE, [SCEN / "eq_intermediaries.toml", SCEN / "g1_awareness.toml"], reps=6, worlds=3,
                       world_reps=4, seed=3)


@pytest.fixture(scope="module")
def pages(compared: Any) -> dict[str, str]:
    c = compared.comparison
    figs = {"worlds.png": b"W", "voi.png": b"V", "funnel.png": b"F"}  # placeholders: the page places them
    return {lang: render_html(c, lang, figs, embed_font=False) for lang in ("en", "zh")}


def _headings(page: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<h2[^>]*>(.*?)</h2>", page, flags=re.S)]


def test_one_how_sure_section_after_the_ranking_holding_the_worlds(pages: dict[str, str]) -> None:
    for lang, (sure, ranking) in (("en", ("How sure are we?", "Ranking by extra industrialised projects")),
                                  ("zh", ("结论有多可靠", "排名(按产业化项目增量)"))):
        page = pages[lang]
        heads = _headings(page)
        assert heads.count(sure) == 1 and not [h for h in heads if h != sure and h.startswith(sure[:4])], heads
        assert heads.index(ranking) < heads.index(sure), heads
        section = page.split(f">{sure}</h2>")[1].split("<h2")[0]
        for what in ("data:image/png;base64,Vw==", "data:image/png;base64,Vg==", "caveat"):
            assert what in section, (lang, what)  # the worlds figure, what to measure next, what intervals cover
        assert page.count("data:image/png;base64,Vw==") == 1  # the worlds figure once, in that section
        assert "<td>1.00</td>" not in page and "<td>0.00</td>" not in page  # no certainty claimed pairwise
        summary = page.split("</section>")[0]
        assert "How sure:" not in summary and "有多确定" not in summary


def test_inputs_and_levers_by_their_names_in_the_report_and_the_printed_text(compared: Any,
                                                                            pages: dict[str, str]) -> None:
    c = compared.comparison
    w = c.worlds
    assert w is not None and len(w.voi)
    page = pages["en"]
    what_next = page.split("What to measure next</h3>")[1].split("</ul>")[0]
    named = named_inputs(w.voi)  # the page lists only inputs above the noise floor
    assert len(named)
    for key in named["input"].head(8):
        assert f"<code>{key}</code>" in what_next  # the key in small print …
    items = re.findall(r"<li>(.*?) <small>", what_next)
    assert items and not any(re.fullmatch(r"[a-z_]+\.[a-z_]+|(effect|cost):[a-z_]+", i) for i in items), items
    assert "Technology brokers: 7 more (8 → 15)" in page and "<code>meeting.brokers add 7</code>" in page
    text = worlds_text(c, "en")
    top = text.splitlines()[-1]
    first = str(named["input"].iloc[0])
    assert f"{input_label(first, 'en', lever_names(c))} (ρ" in top and f": {first} (ρ" not in top


def test_costs_are_yearly_beside_the_window_total(compared: Any, pages: dict[str, str]) -> None:
    c = compared.comparison
    ctx = context(c, "en", {})
    cost = c.summary[c.summary.kpi == "fiscal_cost"].set_index("scenario")["diff"]
    n = c.window[1] - c.window[0] + 1
    names = {a.scenario.scenario.name_en: a.scenario.id for a in c.arms}
    for row in ctx["ranking"]:
        total = cost[names[row["name"]]]
        assert float(row["cost_year"]) == pytest.approx(total / n, abs=0.006)
        assert float(row["cost_total"]) == pytest.approx(total, abs=0.006)
    assert "Δ fiscal cost (M yuan a year)" in pages["en"] and f"{n}-year total (M yuan)" in pages["en"]
    assert "财政成本增量(百万元/年)" in pages["zh"] and f"{n} 年合计(百万元)" in pages["zh"]
    kpi_cost = [k for k in ctx["kpis"] if k["label"].startswith("Fiscal cost")]
    assert kpi_cost and kpi_cost[0]["unit"] == "M yuan a year"


def test_the_printed_ranking_gives_the_yearly_cost_and_claims_no_certainty(compared: Any) -> None:
    from sim.analysis.terminal import ranking_text

    c = compared.comparison
    n = c.window[1] - c.window[0] + 1
    cost = c.summary.query("kpi == 'fiscal_cost'").set_index("scenario")["diff"]
    p = c.summary.query(f"kpi == '{c.kpi}'").set_index("scenario")["p_beat"]
    lines = ranking_text(c, "en").splitlines()
    assert "Δ fiscal M¥/yr" in lines[1]
    for sid in cost.index:
        row = next(line for line in lines[3:] if line.split()[1:2] == [sid])
        assert f"{cost[sid] / n:+.2f}" in row.split()  # a year's cost, not the window's total
        if p[sid] >= 0.9995:
            assert "> 0.999" in row and " 1.00 " not in row


def test_the_page_headline_gives_the_yearly_cost_and_the_window_total(compared: Any) -> None:
    h = headline(compared)
    n = compared.window[1] - compared.window[0] + 1
    cost = compared.comparison.summary.query("kpi == 'fiscal_cost'").set_index("scenario")["diff"]
    for sid, r in h.iterrows():
        assert r["d_cost_myuan_year"] == pytest.approx(cost[sid] / n)
        assert r["d_cost_myuan_total"] == pytest.approx(cost[sid])
    html = headline_html(h, "en", {})
    assert "Δ fiscal cost (10k yuan a year)" in html and f"{n}-year total (10k yuan)" in html


def test_the_pages_value_of_information_table_names_inputs(tmp_path: Path) -> None:
    from sim.explore.app import Explorer

    voi = pd.DataFrame({"input": ["meeting.efficiency_broker", "effect:certified_brokers", "cost:ip_protection"],
                        "rho_margin": [0.61, -0.42, float("nan")]})
    for lang, words in (("en", ("matching efficiency with a broker", "effect of “Train a corps of certified "
                                "technology brokers”", "cost of “Stronger IP and trade-secret protection”")),
                        ("zh", ("经纪人撮合效率", "措施效果:大力培育技术经纪人队伍",
                                "措施成本:加强知识产权和商业秘密保护"))):
        html = Explorer(lang, SCEN, tmp_path)._voi_html(voi)
        for w in words:
            assert w in html, (lang, w)
        for key in voi["input"]:
            assert f"<code>{key}</code>" in html
        assert "+0.61" in html and "–" in html
