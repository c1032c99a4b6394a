"""The planner's comparison: paired statistics, honest verdicts, equal budgets, the report."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis.compare import HEADLINE, compare, paired
from sim.budget import write_variants
from sim.cli import main
from sim.scenario import load_scenario
from tests.conftest import BASELINE, ROOT, lever, variant

SCEN = ROOT / "scenarios"


@pytest.mark.slow
def test_compare_cli_writes_report_with_consistent_numbers(tmp_path: Path, capsys) -> None:
    out = tmp_path / "report"
    code = main(["compare", str(SCEN / "g2_platforms.toml"), str(SCEN / "g4_intermediaries.toml"),
                 str(SCEN / "eq_talent.toml"), "--reps", "40", "--worlds", "0", "--report", str(out), "--quiet"])
    assert code == 0
    text = capsys.readouterr().out
    assert "g4_intermediaries" in text and "Δ industrialised" in text
    pw = pd.read_csv(out / "pairwise.csv", index_col="scenario")
    assert set(pw.index) == {"baseline", "g2_platforms", "g4_intermediaries", "eq_talent"}
    a, b = "g4_intermediaries", "baseline"
    assert pw.loc[a, b] == pytest.approx(1 - pw.loc[b, a])
    for f in ("report.html", "summary.csv", "ranking.csv", "pairwise.csv", "forest.png", "funnel.png", "fans.png",
              "cost_effectiveness.png", "bottlenecks.png"):
        assert (out / f).stat().st_size > 1000 or f.endswith(".csv"), f
    wide = pd.read_csv(out / "summary.csv")  # one row per scenario
    assert list(wide["scenario"]) == list(pd.read_csv(out / "ranking.csv")["scenario"])
    assert {"delta", "delta_lo", "delta_hi", "p_better", "verdict", "world_p05", "p_gain"} <= set(wide.columns)
    assert wide["world_p05"].isna().all() and (wide["worlds"] == 0).all()
    s = pd.read_csv(out / "details.csv")  # one row per scenario and KPI
    assert set(s["scenario"]) == {"g2_platforms", "g4_intermediaries", "eq_talent"}
    assert {"kpi", "diff", "lo", "hi", "p_beat", "cost_per_extra_industrialisation_myuan", "rank"} <= set(s.columns)
    assert np.allclose(s["diff"], s["mean"] - s["base_mean"], rtol=1e-9, atol=1e-9)
    assert np.all(s["lo"] <= s["diff"] + 1e-12) and np.all(s["diff"] <= s["hi"] + 1e-12)
    assert (s["reps"] == 40).all() and (s["window"] == "2023-2027").all()
    head = s[s.kpi == HEADLINE].set_index("scenario")
    # cost per extra industrialisation = Δ fiscal cost / Δ industrialised, only for gains
    cost = s[s.kpi == "fiscal_cost"].set_index("scenario")
    for sid in head.index:
        if head.loc[sid, "gain"]:
            assert head.loc[sid, "cost_per_extra_industrialisation_myuan"] == pytest.approx(
                cost.loc[sid, "diff"] / head.loc[sid, "diff"])
        else:
            assert np.isnan(head.loc[sid, "cost_per_extra_industrialisation_myuan"])
    page = (out / "report.html").read_text(encoding="utf-8")
    # the page names scenarios by their names; the ids stay in the CSVs
    g4 = load_scenario(SCEN / "g4_intermediaries.toml").scenario.name_en
    assert "data:image/png;base64" in page and g4 in page and "g4_intermediaries" not in page


def test_common_random_numbers_narrow_the_interval_fivefold(baseline) -> None:
    small = variant(baseline, levers=[lever("pilot.public_slots", "add", 1.0)])
    c = compare(baseline, [(small, "small")], reps=150, seed=3)
    row = c.summary[(c.summary.kpi == HEADLINE)].iloc[0]
    ratio = row["unpaired_half_width"] / row["half_width"]
    print(f"\npaired half-width {row['half_width']:.3f}, unpaired {row['unpaired_half_width']:.3f}, ratio {ratio:.1f}")
    assert ratio >= 5


def test_equal_budget_variants_cost_the_same_and_are_in_sync(tmp_path: Path) -> None:
    base = load_scenario(BASELINE)
    costs = {}
    for p in sorted(SCEN.glob("eq_*.toml")):
        sc = load_scenario(p)
        costs[sc.id] = [sc.yearly_cost(y) for y in range(2023, 2028)]
    assert len(costs) == 5
    flat = np.array(list(costs.values()))
    assert np.all(np.abs(flat / flat.mean() - 1) < 0.01)
    # the shipped files are exactly what `convsim variants` writes
    for f in ("baseline.toml", "g1_awareness.toml", "g2_platforms.toml", "g3_talent.toml", "g4_intermediaries.toml",
              "g5_finance.toml"):
        (tmp_path / f).write_text((SCEN / f).read_text(encoding="utf-8"), encoding="utf-8")
    groups = [load_scenario(tmp_path / f) for f in sorted(tmp_path.glob("g*.toml"))]
    for p in write_variants(tmp_path, groups, base.params, 3_000_000.0):
        assert p.read_text(encoding="utf-8") == (SCEN / p.name).read_text(encoding="utf-8"), p.name


def test_every_group_lever_is_costed_and_sourced() -> None:
    for p in sorted(SCEN.glob("g*.toml")):
        sc = load_scenario(p)
        assert sc.levers, p
        for lv in sc.levers:
            assert lv.cost_source[:3] in ("DOC", "DER", "ASM"), (p.name, lv.id)
            assert lv.report_ref.startswith("三("), (p.name, lv.id)
            assert lv.rationale_en and lv.rationale_zh and lv.name_zh and lv.name_en


def test_a_difference_crossing_zero_is_never_a_gain() -> None:
    rng = np.random.default_rng(0)
    for _ in range(300):
        a = rng.normal(10, 2, 50)
        b = a + rng.normal(rng.normal(0, 0.5), 1.0, 50)
        st = paired(a, b, True)
        crosses = st["lo"] <= 0 <= st["hi"]
        assert not (crosses and (st["gain"] or st["loss"]))
        assert st["gain"] == (st["lo"] > 0)
        low = paired(a, b, False)
        assert low["gain"] == (low["hi"] < 0)


def test_identical_scenarios_are_indistinguishable_and_no_gain(baseline) -> None:
    same = variant(baseline, levers=[lever("pilot.public_slots", "add", 0.0)])
    twin_a = variant(baseline, levers=[lever("meeting.brokers", "add", 4.0)])
    twin_b = variant(baseline, levers=[lever("meeting.brokers", "add", 4.0, lid="same_again")])
    same.scenario.id, twin_a.scenario.id, twin_b.scenario.id = "no_change", "twin_a", "twin_b"
    c = compare(baseline, [(same, "a"), (twin_a, "b"), (twin_b, "c")], reps=30, seed=1)
    s = c.summary.set_index(["scenario", "kpi"])
    assert s.loc[("no_change", HEADLINE), "diff"] == 0 and not s.loc[("no_change", HEADLINE), "gain"]
    r = c.ranking.set_index("scenario")
    assert s.loc[("twin_a", HEADLINE), "diff"] == s.loc[("twin_b", HEADLINE), "diff"]
    later = "twin_a" if r.loc["twin_a", "rank"] > r.loc["twin_b", "rank"] else "twin_b"
    assert abs(r.loc["twin_a", "rank"] - r.loc["twin_b", "rank"]) == 1
    assert bool(r.loc[later, "tied_with_previous"])
    assert r.loc["twin_a", "group"] == r.loc["twin_b", "group"]


def test_precision_adds_replications_until_reached(baseline) -> None:
    more = variant(baseline, levers=[lever("meeting.brokers", "add", 4.0)])
    c = compare(baseline, [(more, "x")], precision=1.5, seed=2, batch=40)
    row = c.summary[c.summary.kpi == HEADLINE].iloc[0]
    assert row["half_width"] <= 1.5 and c.reps >= 40 and row["n"] == c.reps


def test_chinese_labels_have_glyphs_in_the_report_font() -> None:
    from matplotlib.ft2font import FT2Font

    from sim.analysis.compare import label
    from sim.analysis.paired import REPORTED
    from sim.resources import cjk_font_path

    font = FT2Font(str(cjk_font_path()))
    cmap = font.get_charmap()
    texts = [label(k, "zh") for k in REPORTED] + ["配对差异及95%置信区间", "累计产业化项目", "瓶颈在哪里", "随州"]
    for p in SCEN.glob("*.toml"):
        sc = load_scenario(p)
        texts += [sc.scenario.name_zh] + [lv.name_zh for lv in sc.levers]
    missing = {ch for t in texts for ch in t if ord(ch) > 0x2E80 and ord(ch) not in cmap}
    assert not missing, missing


@pytest.mark.slow
def test_compare_without_arguments_runs_every_shipped_scenario(tmp_path: Path, capsys) -> None:
    out = tmp_path / "all"
    assert main(["compare", "--baseline", str(BASELINE), "--reps", "8", "--worlds", "0", "--report", str(out),
                 "--quiet", "--lang", "zh"]) == 0
    shipped = {load_scenario(p).id for p in SCEN.glob("*.toml")} - {"baseline"}
    assert len(shipped) == 11
    s = pd.read_csv(out / "summary.csv")
    assert set(s["scenario"]) == shipped
    text = capsys.readouterr().out
    assert "基线" in text and all(sid in text for sid in shipped)
    assert '<html lang="zh">' in (out / "report.html").read_text(encoding="utf-8")


def test_compare_refuses_a_different_calendar(tmp_path: Path, capsys) -> None:
    f = tmp_path / "longer.toml"
    f.write_text('[scenario]\nid = "longer"\nname_en = "x"\nname_zh = "x"\nbase = "' + str(BASELINE)
                 + '"\n[params.time]\nhorizon_year = 2030\n', encoding="utf-8")
    assert main(["compare", str(f), "--baseline", str(BASELINE), "--reps", "2", "--report", str(tmp_path / "r"),
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "longer.toml" in err and "params.time" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()


def test_compare_bad_input(tmp_path: Path, capsys) -> None:
    assert main(["compare", str(tmp_path / "missing.toml"), "--baseline", str(BASELINE), "--reps", "2",
                 "--report", str(tmp_path / "r"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "missing.toml" in err and "file not found" in err and not (tmp_path / "r").exists()
    assert main(["compare", "--baseline", str(BASELINE), "--reps", "2", "--precision", "1",
                 "--report", str(tmp_path / "r")]) == 2
    assert "exclude each other" in capsys.readouterr().err
