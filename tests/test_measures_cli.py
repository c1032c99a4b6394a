"""`convsim levers`, `convsim targets`, `compare --kpi/--horizon` and the 引进转化 KPI, as a user runs them."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from sim.analysis.compare import RANKABLE, compare
from sim.analysis.kpi import KPI_BY_KEY
from sim.analysis.levers import COLUMNS, single_lever_scenarios
from sim.analysis.targets import evaluate, load_targets, report_targets
from sim.cli import RANKABLE as CLI_RANKABLE
from sim.cli import main
from sim.errors import InputError
from sim.experiment import run_records
from sim.scenario import Scenario, with_horizon
from sim.table import build_table
from tests.conftest import BASELINE, ROOT, lever, variant

TARGET_COLUMNS = ["target", "report_value", "low", "high", "model_mean", "model_p05", "model_p95", "within"]


def test_levers_writes_one_row_per_lever_of_every_group_file(tmp_path: Path, capsys) -> None:
    out = tmp_path / "lv"
    assert main(["levers", "--reps", "3", "--engine", "fast", "--out", str(out), "--quiet"]) == 0
    df = pd.read_csv(out / "levers.csv")
    assert list(df.columns) == list(COLUMNS)
    singles = single_lever_scenarios(Scenario.model_validate(
        {"scenario": {"id": "b", "name_en": "b", "name_zh": "b"}}), ROOT / "scenarios")
    assert list(df["lever"]) == [s.lever.id for s in singles]
    assert set(df["group"]) == {"awareness", "platforms", "talent", "intermediaries", "finance"}
    assert df["report_ref"].str.startswith("三(").all()
    assert (df["effect_low"] <= df["effect_high"]).all()
    assert df["effect_source"].str[:3].isin(["DOC", "DER", "ASM"]).all()
    assert (out / ".convsim-output.json").is_file()
    text = capsys.readouterr().out
    assert "Δ industrialised 2023–2027" in text and "policy_publicity" in text
    # every section 三 item the shipped group files name has a row
    for ref in ("三(一)一", "三(一)二", "三(一)三", "三(二)一", "三(二)二", "三(二)三", "三(三)一", "三(三)二",
                "三(三)三", "三(三)四", "三(四)一", "三(四)二", "三(四)三", "三(五)一", "三(五)二"):
        assert ref in set(df["report_ref"]), ref


def test_levers_set_changes_the_baseline_every_lever_starts_from(tmp_path: Path, capsys) -> None:
    """`--set meeting.brokers=4`: every lever alone on a baseline with four brokers, the same as running the
    baseline file edited by hand; the certified brokers buy more where brokers are scarcer."""
    from sim.jobs.measures import levers

    out = tmp_path / "lv4"
    assert main(["levers", "--reps", "20", "--engine", "fast", "--out", str(out), "--quiet",
                 "--set", "meeting.brokers=4"]) == 0
    assert capsys.readouterr().out.startswith("Baseline with meeting.brokers = 4\n")
    four = pd.read_csv(out / "levers.csv").set_index("lever")
    edited = tmp_path / "scen"
    edited.mkdir()
    for f in (ROOT / "scenarios").glob("*.toml"):
        (edited / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    base = edited / "baseline.toml"
    base.write_text(base.read_text(encoding="utf-8") + "\n[params.meeting]\nbrokers = 4.0\n", encoding="utf-8")
    by_hand = levers(base, reps=20, engine="fast").table.set_index("lever")
    pd.testing.assert_series_equal(four["delta_mean"], by_hand["delta_mean"])
    eight = levers(ROOT / "scenarios" / "baseline.toml", reps=20, engine="fast").table.set_index("lever")
    assert four.loc["certified_brokers", "delta_mean"] > eight.loc["certified_brokers", "delta_mean"]


@pytest.mark.parametrize(("item", "words"), [
    ("meeting.nonsense=1", "--set 'meeting.nonsense': unknown parameter"),
    ("meeting.brokers=-3", "--set: key 'params.meeting.brokers'"),
    ("brokers=4", "expected group.name=number"),
    ("meeting.brokers=many", "expected group.name=number"),
])
def test_levers_set_refuses_bad_parameters_before_any_work(tmp_path: Path, capsys, item: str, words: str) -> None:
    assert main(["levers", "--reps", "2", "--out", str(tmp_path / "lv"), "--quiet", "--set", item]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and words in err, err
    assert not (tmp_path / "lv").exists()


def test_levers_and_targets_refuse_a_folder_they_did_not_write_before_any_work(tmp_path: Path, capsys) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep", encoding="utf-8")
    for cmd in ("levers", "targets"):
        assert main([cmd, "--reps", "2", "--out", str(mine), "--quiet"]) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and "did not write" in err
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_targets_writes_every_target_with_the_model_beside_it(tmp_path: Path, capsys) -> None:
    out = tmp_path / "tg"
    assert main(["targets", "--reps", "4", "--engine", "fast", "--out", str(out), "--quiet"]) == 0
    df = pd.read_csv(out / "targets.csv")
    assert list(df.columns) == TARGET_COLUMNS
    assert [t.id for t in load_targets()] == list(df["target"])
    assert {"T2", "T3", "T4", "T5", "T6", "T7", "T7_candidates", "T8", "T9", "T11"} <= set(df["target"])
    assert (df["model_p05"] <= df["model_mean"]).all() and (df["model_mean"] <= df["model_p95"]).all()
    assert "targets within their band" in capsys.readouterr().out


def test_targets_file_drives_calibration_and_mean_checks() -> None:
    targets = {t.id: t for t in load_targets()}
    assert targets["T3"].kpi == "introduced_converted" and (targets["T3"].low, targets["T3"].high) == (160, 200)
    assert report_targets()["introduced_converted"] == (160.0, 200.0)
    assert "hightech_applications" not in report_targets()  # a 2022-only target is not scored over 2018–2022
    rec = run_records(build_table(with_horizon(Scenario.model_validate(
        {"scenario": {"id": "b", "name_en": "b", "name_zh": "b"}}), 2022)), 0, range(3), "simpy")
    res = evaluate(rec).set_index("target")
    for tid, t in targets.items():
        r = res.loc[tid]
        if t.check == "mean":
            assert r["within"] == (t.low <= r["model_mean"] <= t.high)
        else:
            assert r["within"] == (r["share_reaching_low"] >= t.share)
    assert math.isinf(res.loc["T7_candidates", "high"])


def test_a_broken_targets_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "t.toml"
    bad.write_text((ROOT / "calibration" / "targets.toml").read_text(encoding="utf-8").replace(
        'kpi = "meetings"', 'kpi = "meetingz"'), encoding="utf-8")
    with pytest.raises(InputError, match="unknown kpi 'meetingz'"):
        load_targets(bad)


def test_introduced_converted_counts_contracts_on_outside_results(baseline_table) -> None:
    from sim.analysis.kpi import kpis

    rec = run_records(baseline_table, 1, range(3), "simpy")
    k = kpis(rec, 2018, 2022)
    assert (k["introduced_converted"] == k["contracts"]).all()
    assert (k["all_contracts"] > k["introduced_converted"]).all()  # T4 also holds other technology contracts


def _named(sc: Scenario, sid: str) -> Scenario:
    return sc.model_copy(update={"scenario": sc.scenario.model_copy(update={"id": sid})})


def test_compare_ranks_by_any_kpi_and_judges_a_long_horizon_too(baseline) -> None:
    assert tuple(CLI_RANKABLE) == RANKABLE and "rate_overall" in RANKABLE and "introduced_converted" in RANKABLE
    more = _named(variant(baseline, levers=[lever("meeting.brokers", "add", 6.0)]), "brokers")
    dear = _named(variant(baseline, levers=[lever("pilot.public_slots", "add", 4.0, cost=3e6)]), "pilots")
    long_base = with_horizon(baseline, 2032)
    c = compare(long_base, [(with_horizon(more, 2032), "a"), (with_horizon(dear, 2032), "b")], reps=12, seed=5,
                kpi="fiscal_cost")
    assert c.window == (2023, 2027) and c.long is not None and c.long.window == (2023, 2032)
    # fiscal cost: less is better, so the cheaper scenario ranks first
    assert list(c.ranking["scenario"]) == ["brokers", "pilots"]
    s = c.long.summary.set_index(["scenario", "kpi"])
    assert s.loc[("brokers", "introduced_converted"), "diff"] > c.summary.set_index(["scenario", "kpi"]).loc[
        ("brokers", "introduced_converted"), "diff"]  # ten years gain more than five
    short = compare(baseline, [(more, "a")], reps=3, seed=5)
    assert short.long is None and short.window == (2023, 2027)
    for key in ("rate_contract", "rate_industrialised", "rate_overall", "wait_pilot"):
        c2 = compare(baseline, [(more, "a")], reps=3, seed=5, kpi=key)
        assert c2.ranking.iloc[0]["scenario"] == "brokers" and key in set(c2.summary["kpi"])
        assert KPI_BY_KEY[key].better == (key != "wait_pilot")


@pytest.mark.slow
def test_compare_cli_kpi_and_horizon(tmp_path: Path, capsys) -> None:
    g4 = str(ROOT / "scenarios" / "g4_intermediaries.toml")
    out = tmp_path / "cmp"
    assert main(["compare", g4, "--baseline", str(BASELINE), "--reps", "3", "--worlds", "0", "--kpi", "rate_overall",
                 "--horizon", "2032", "--report", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "2023–2027, ranked by rate_overall" in text and "2023–2032, ranked by rate_overall" in text
    s = pd.read_csv(out / "details.csv")
    assert set(s["window"]) == {"2023-2027", "2023-2032"} and (out / "ranking_long.csv").is_file()
    for args in (["--kpi", "nonsense"], ["--horizon", "2100"]):
        with pytest.raises(SystemExit) as ex:
            main(["compare", g4, "--reps", "3", *args, "--report", str(tmp_path / "x")])
        assert ex.value.code == 2
    # a horizon the levers cannot live with is the scenario's error, one line, before any work
    assert main(["compare", g4, "--reps", "3", "--horizon", "2022", "--report", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "--kpi" in err and "--horizon 2022" in err and not (tmp_path / "x").exists()


def test_nothing_a_user_reads_points_outside_the_repository() -> None:
    files = [ROOT / "README.md", ROOT / "MODEL.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "calibration").glob("*"),
             *(ROOT / "scenarios").glob("*.toml"), *(ROOT / "sim").rglob("*.py")]
    for f in files:
        if f.is_file() and f.suffix in (".md", ".toml", ".py"):
            text = f.read_text(encoding="utf-8")
            for needle in ("/shared", "FACTS.md", "PRIORS", "DESIGN.md", "report_zh"):
                assert needle not in text, (f, needle)


def test_model_md_lists_every_lever_as_the_scenario_files_say() -> None:
    from sim.analysis.levers import lever_markdown

    assert lever_markdown(ROOT / "scenarios") in (ROOT / "MODEL.md").read_text(encoding="utf-8"), \
        "regenerate MODEL.md §3.7.1 with sim.analysis.levers.lever_markdown"
