"""Worlds of uncertainty: draws keyed and reproducible, effects within their ranges, statistics over worlds by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.analysis.uncertainty import _pairwise, _summary, survives, value_of_information
from sim.analysis.worlds import draw_worlds, read_posterior, scenario_in_world, triangular
from sim.cli import main
from tests.conftest import BASELINE, ROOT

SCEN = ROOT / "scenarios"


def test_triangular_quantiles_by_hand() -> None:
    assert triangular(0.0, 1.0, 2.0, 4.0) == pytest.approx(1.0)
    assert triangular(1.0, 1.0, 2.0, 4.0) == pytest.approx(4.0)
    assert triangular(1 / 3, 1.0, 2.0, 4.0) == pytest.approx(2.0)  # F(mode) = (2-1)/(4-1)
    u = (np.arange(20000) + 0.5) / 20000
    x = np.array([triangular(v, 1.0, 2.0, 4.0) for v in u])
    assert x.mean() == pytest.approx((1 + 2 + 4) / 3, rel=1e-3)
    assert triangular(0.7, 3.0, 3.0, 3.0) == 3.0  # no range: the value itself


def test_worlds_are_keyed_reproducible_and_shared_by_every_scenario() -> None:
    post = read_posterior(ROOT / "calibration" / "ensemble.csv")
    a, b = draw_worlds(6, 7, post), draw_worlds(6, 7, post)
    assert [w.params for w in a] == [w.params for w in b]
    assert a[0].quantiles("certified_brokers") == b[0].quantiles("certified_brokers")
    assert a[0].quantiles("certified_brokers") != a[1].quantiles("certified_brokers")
    assert a[0].quantiles("certified_brokers") != draw_worlds(1, 8, post)[0].quantiles("certified_brokers")
    g4 = sim.load_scenario(SCEN / "g4_intermediaries.toml")
    five = sim.load_scenario(SCEN / "all_five.toml")
    for w in a[:3]:
        x, y = scenario_in_world(g4, w), scenario_in_world(five, w)
        lv_g4 = next(lv for lv in x.levers if lv.id == "certified_brokers")
        lv_5 = next(lv for lv in y.levers if lv.id == "certified_brokers")
        assert lv_g4.value == lv_5.value  # the same measure has the same luck in every scenario
        orig = next(lv for lv in g4.levers if lv.id == "certified_brokers")
        assert orig.effect_low <= lv_g4.value <= orig.effect_high
        for param, v in w.params.items():
            g, n = param.split(".")
            assert getattr(getattr(x.params, g), n) == pytest.approx(v)


def test_a_bad_posterior_is_one_line(tmp_path: Path) -> None:
    f = tmp_path / "p.csv"
    f.write_text("meeting.brokerz,weight\n1,1\n", encoding="utf-8")
    with pytest.raises(sim.InputError, match="brokerz"):
        read_posterior(f)
    f.write_text("meeting.brokers,weight\n8,-1\n", encoding="utf-8")
    with pytest.raises(sim.InputError, match="weights"):
        read_posterior(f)
    with pytest.raises(sim.InputError, match="not found"):
        read_posterior(tmp_path / "none.csv")


def _per_world() -> pd.DataFrame:
    # three worlds, two scenarios: A gains 5, 1, −1; B gains 3, 2, 1 (worlds' paired intervals invented)
    rows = [(0, "a", 5.0, True), (0, "b", 3.0, True), (1, "a", 1.0, False), (1, "b", 2.0, True),
            (2, "a", -1.0, False), (2, "b", 1.0, True)]
    df = pd.DataFrame(rows, columns=["world", "scenario", "diff", "gain"])
    df["rank"] = df.groupby("world")["diff"].rank(ascending=False, method="min")
    return df


def test_statistics_over_worlds_by_hand() -> None:
    pw = _per_world()
    s = _summary(pw, ["a", "b"])
    assert s.loc["a", "p_gain"] == pytest.approx(1 / 3) and s.loc["b", "p_gain"] == 1.0
    assert s.loc["a", "p_best"] == pytest.approx(1 / 3) and s.loc["b", "p_best"] == pytest.approx(2 / 3)
    assert s.loc["a", "mean_rank"] == pytest.approx(5 / 3) and s.loc["b", "mean_rank"] == pytest.approx(4 / 3)
    assert list(s.index) == ["b", "a"]  # ordered by mean rank
    assert s.loc["a", "world_mean"] == pytest.approx(5 / 3)
    assert s.loc["a", "world_p05"] == pytest.approx(np.quantile([5.0, 1.0, -1.0], 0.05))
    p = _pairwise(pw, 1.0, ["base", "a", "b"])
    assert p.loc["a", "b"] == pytest.approx(1 / 3) and p.loc["b", "a"] == pytest.approx(2 / 3)
    assert p.loc["a", "base"] == pytest.approx(2 / 3) and p.loc["base", "b"] == 0.0
    sv = survives(s, p).set_index("scenario")
    assert sv.loc["b", "next"] == "a" and sv.loc["b", "p_beats_next"] == pytest.approx(2 / 3)
    assert not sv.loc["b", "survives"] and sv.loc["a", "next"] == "base"


def test_value_of_information_finds_the_input_that_moves_the_margin() -> None:
    rng = np.random.default_rng(0)
    n = 40
    x, noise = rng.random(n), rng.random(n)
    rows = []
    for w in range(n):
        rows += [{"world": w, "scenario": "a", "diff": 10 + 8 * x[w]}, {"world": w, "scenario": "b", "diff": 9.0}]
    pw = pd.DataFrame(rows)
    inputs = pd.DataFrame({"effect:lever_x": x, "meeting.brokers": noise, "cost:constant": 0.5},
                          index=pd.Index(range(n), name="world"))
    summary = pd.DataFrame(index=["a", "b"])
    v = value_of_information(pw, inputs, summary, 1.0)
    assert v.loc[0, "input"] == "effect:lever_x" and v.loc[0, "rho_margin"] == pytest.approx(1.0)
    assert "cost:constant" not in set(v["input"])  # did not vary: says nothing
    assert v.attrs["leader"] == "a" and v.attrs["runner_up"] == "b"


@pytest.mark.slow
def test_compare_in_worlds_writes_both_intervals_and_is_reproducible(tmp_path: Path, capsys) -> None:
    args = [str(SCEN / "g4_intermediaries.toml"), str(SCEN / "g1_awareness.toml"), "--baseline", str(BASELINE),
            "--reps", "6", "--worlds", "5", "--world-reps", "4", "--quiet"]
    assert main(["compare", *args, "--report", str(tmp_path / "a")]) == 0
    text = capsys.readouterr().out
    assert "Over 5 worlds" in text and "P(gain)" in text
    s = pd.read_csv(tmp_path / "a" / "summary.csv")
    assert len(s) == 2 and {"world_p05", "world_p95", "p_gain", "p_best", "mean_rank"} <= set(s.columns)
    assert s["p_gain"].between(0, 1).all() and s["p_best"].between(0, 1).all()
    assert np.isclose(s["p_best"].sum(), 1.0)
    assert (s["world_p05"] <= s["world_p95"]).all()
    for f in ("worlds.png", "voi.png", "worlds.csv", "voi.csv", "pairwise_worlds.csv"):
        assert (tmp_path / "a" / f).is_file(), f
    page = (tmp_path / "a" / "report.html").read_text(encoding="utf-8")
    assert "How sure are we?" in page and "What to measure next" in page
    assert main(["compare", *args, "--report", str(tmp_path / "b")]) == 0
    first, again = (pd.read_csv(tmp_path / d / "worlds.csv") for d in ("a", "b"))
    pd.testing.assert_frame_equal(first, again)


@pytest.mark.slow
def test_comparison_and_worlds_are_identical_on_dask(tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    base, g4 = BASELINE, SCEN / "g4_intermediaries.toml"
    local = sim.compare(base, [g4], reps=4, worlds=3, world_reps=4, seed=3)
    dask = sim.compare(base, [g4], reps=4, worlds=3, world_reps=4, seed=3, backend="dask")
    assert local.comparison.worlds is not None and dask.comparison.worlds is not None
    pd.testing.assert_frame_equal(local.comparison.worlds.per_world, dask.comparison.worlds.per_world)
    # the main arms run on the cluster too (one task per scenario and batch), with the same records
    pd.testing.assert_frame_equal(local.summary, dask.summary)
    pd.testing.assert_frame_equal(local.comparison.baseline.frame(), dask.comparison.baseline.frame())


def test_regret_and_goal_over_the_worlds_of_a_comparison(tmp_path: Path) -> None:
    from sim.analysis.robustness import Goal, robustness

    base, g4, g1 = BASELINE, SCEN / "g4_intermediaries.toml", SCEN / "g1_awareness.toml"
    r = sim.compare(base, [g4, g1], reps=4, worlds=4, world_reps=4, seed=3, goal="10%")
    w = r.comparison.worlds
    assert w is not None and w.robustness is not None and w.goal == Goal(0.1, True)
    # the table is the robustness module's own reading of the per-world differences
    pd.testing.assert_frame_equal(w.robustness, robustness(w.per_world, 1.0, w.goal).reindex(w.summary.index))
    assert (w.robustness["regret_mean"] >= 0).all() and (w.robustness["regret_max"] >= w.robustness["regret_p90"]).all()
    assert set(r.summary.columns) >= {"regret_mean", "regret_p90", "p_goal"}
    page = (r.write_report(tmp_path / "rep") / "report.html").read_text(encoding="utf-8")
    assert "Robustness: regret and satisficing" in page and "Worlds meeting the goal (+10 %)" in page
    assert "Regret (how far below" in r.text()
    with pytest.raises(sim.InputError, match="--goal"):
        sim.compare(base, [g4], reps=4, worlds=0, goal="10%")


def test_few_worlds_are_flagged_and_the_page_claims_no_certainty(tmp_path: Path) -> None:
    from sim.analysis.page import probability

    assert probability(1.0) == "> 0.999" and probability(0.0) == "< 0.001" and probability(0.5) == "0.500"
    r = sim.compare(BASELINE, [SCEN / "g4_intermediaries.toml"], reps=4, worlds=2, world_reps=3, seed=1)
    page = (r.write_report(tmp_path / "rep") / "report.html").read_text(encoding="utf-8")
    assert "Few worlds" in page and "only 2 worlds" in page and "Tie group" in page
    assert f"Model version: convsim {sim.__version__}" in page and ">1.000<" not in page
    assert "only 2 worlds" in r.text()
    many = sim.compare(BASELINE, [SCEN / "g4_intermediaries.toml"], reps=4, worlds=20, world_reps=2, seed=1)
    assert "Few worlds" not in (many.write_report(tmp_path / "rep20") / "report.html").read_text(encoding="utf-8")
