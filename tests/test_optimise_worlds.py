"""convsim optimise --worlds: the objective over worlds, a toy where mean and p10 disagree, determinism,
resume (bit-identical), the budget, draws at the parameters' limits, cost risk, bad options, end to end."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import optuna
import pytest

from sim.analysis.worlds import World, draw_worlds, lever_in_world, scenario_in_world
from sim.cli import main
from sim.optimise.evaluate import Evaluator, Request
from sim.optimise.robust import WorldEvaluator, capped, cost_risk, in_world, risk_value
from sim.optimise.search import DONE, Search, SearchConfig
from sim.optimise.space import Space
from sim.scenario import Scenario, baseline_scenario, load_scenario
from sim.table import build_table
from tests.conftest import BASELINE
from tests.test_optimise import GROUPS, SCEN, _toy_space

#: Per-world weight of each toy lever: ``a`` pays 4 in four worlds of five and −1 in the fifth (mean 3, bad
#: tail −1); ``b`` pays 2 everywhere. Gain = Σ wᵢ(world) √kᵢ.
N_WORLDS = 20


def _w(lever: str, world: int) -> float:
    if lever == "a":
        return -1.0 if world % 5 == 0 else 4.0
    return {"b": 2.0, "c": 0.0, "hurts": -1.0, "slots": 0.0}[lever]


class ToyWorlds(WorldEvaluator):
    """A world evaluator whose gain is known in closed form (plus small keyed noise), no simulation."""

    def __init__(self, space: Space, risk: str, n: int = N_WORLDS) -> None:
        worlds = [World(i, -1, {}, 0) for i in range(n)]
        select = [World(500_000 + i, -1, {}, 0) for i in range(n)]
        super().__init__(space.baseline, "industrialised", 0, worlds, select, risk)
        self.costs = {d.id: d.lever.yearly_cost_yuan for d in space.dims}
        self.calls: list[tuple[int, int]] = []

    def deltas(self, requests: Sequence[Request]) -> list[np.ndarray]:
        return [self.toy(sc, world, reps) for sc, world, reps in requests]

    def toy(self, sc: Scenario, world: int, reps: Sequence[int]) -> np.ndarray:
        reps = list(reps)
        self.calls.append((world, len(reps)))
        self.reps_run += len(reps)
        g = sum(_w(lv.id, world % 500_000) * math.sqrt(lv.yearly_cost_yuan / self.costs[lv.id]) for lv in sc.levers)
        noise = np.array([np.random.default_rng([world, r]).normal(0, 0.05) for r in reps])
        return g + noise


def _search(tmp: Path, risk: str, trials: int = 60, name: str = "w.db", ev: Evaluator | None = None) -> Search:
    sp = _toy_space()
    return Search(sp, ev or ToyWorlds(sp, risk), SearchConfig(1e6, 9, trials, 0, "industrialised", f"-toy-{risk}"),
                  tmp / name)


def test_risk_value() -> None:
    g = np.array([5.0, 1.0, 3.0, np.nan, 2.0, 4.0])
    assert risk_value(g, "mean") == pytest.approx(3.0)
    assert risk_value(g, "p10") == pytest.approx(np.quantile([1.0, 2.0, 3.0, 4.0, 5.0], 0.1))
    with pytest.raises(ValueError, match="risk"):
        risk_value(g, "p5")


def test_mean_and_p10_prefer_different_mixes() -> None:
    """Unit level: the objective itself. Mix A (mean-optimal: k_a ∝ 9, k_b ∝ 4) against mix B (all on b)."""
    worlds = range(N_WORLDS)
    ka, kb = 9 / 13, 4 / 13
    gains_a = np.array([_w("a", w) * math.sqrt(ka) + _w("b", w) * math.sqrt(kb) for w in worlds])
    gains_b = np.array([_w("b", w) * 1.0 for w in worlds])
    assert risk_value(gains_a, "mean") > risk_value(gains_b, "mean")
    assert risk_value(gains_a, "p10") < risk_value(gains_b, "p10")


@pytest.mark.slow
@pytest.mark.parametrize("risk", ["mean", "p10"])
def test_toy_search_over_worlds_picks_the_right_optimum(risk: str, tmp_path: Path) -> None:
    s = _search(tmp_path, risk)
    r = s.run()
    m = r.best_mix
    if risk == "mean":  # optimum k_a = 9/13, k_b = 4/13: value √13
        assert m["a"] > m["b"] > 0 and r.best_score >= 0.95 * math.sqrt(13)
    else:  # the bad tail: a loses in a fifth of the worlds, so all the money goes to b
        assert m["a"] == 0 and m["b"] >= 0.95 and r.best_score >= 0.95 * 2.0
    for t in s.study.get_trials(states=DONE):
        assert t.user_attrs["max_yearly_cost"] <= 1e6


def test_successive_halving_over_worlds_and_replications() -> None:
    sp = _toy_space()
    ev = ToyWorlds(sp, "mean", 20)
    rungs = ev.rungs(30)
    assert [(len(r.worlds), r.reps, r.step) for r in rungs] == [(7, 10, 1), (20, 10, 3), (20, 30, 9)]
    diffs: dict[int, np.ndarray] = {}
    for r in rungs:
        ev.gather(sp.scenario({"b": 1.0}), diffs, r)
    assert sum(n for _, n in ev.calls) == 20 * 30  # every replication once, none repeated
    assert all(len(d) == 30 for d in diffs.values()) and set(diffs) == set(range(20))


@pytest.mark.slow
def test_same_seed_same_result_with_worlds(tmp_path: Path) -> None:
    a = _search(tmp_path, "p10", 30, "a.db").run()
    b = _search(tmp_path, "p10", 30, "b.db").run()
    assert a == b


class CutWorlds(ToyWorlds):
    """Ctrl-C on the n-th evaluation of a world."""

    def __init__(self, space: Space, n: int) -> None:
        super().__init__(space, "p10")
        self.n = n

    def toy(self, sc: Scenario, world: int, reps: Sequence[int]) -> np.ndarray:
        self.n -= 1
        if self.n == 0:
            raise KeyboardInterrupt
        return super().toy(sc, world, reps)


@pytest.mark.slow
@pytest.mark.parametrize("share", [0.5, 0.7])  # cut early (in the planned trials) or late (in TPE's)
def test_resumed_search_with_worlds_is_identical(share: float, tmp_path: Path) -> None:
    whole = _search(tmp_path, "p10", 40, "whole.db")
    rw = whole.run()
    assert isinstance(whole.ev, ToyWorlds)
    sp = _toy_space()
    first = _search(tmp_path, "p10", 40, "cut.db", CutWorlds(sp, int(share * len(whole.ev.calls))))
    with pytest.raises(KeyboardInterrupt):
        first.run()
    assert 0 < first.done() < 40
    again = _search(tmp_path, "p10", 40, "cut.db")
    ra = again.run()

    def finished(s: Search) -> list[tuple[object, ...]]:
        return [(t.params, t.value, t.state, t.user_attrs["tag"]) for t in s.study.get_trials(states=DONE)]

    assert finished(again) == finished(whole)
    assert dataclasses.replace(ra, reps_run=0) == dataclasses.replace(rw, reps_run=0)
    assert 1 <= len(again.study.get_trials(states=(optuna.trial.TrialState.FAIL,))) <= 4  # the batch cut short


def test_mix_in_a_world_is_the_worlds_draw_scaled_by_intensity() -> None:
    sp = Space([load_scenario(SCEN / f) for f in GROUPS], load_scenario(BASELINE))
    w = draw_worlds(1, 7, None)[0]
    for lid, k in (("exchange_visits", 2.0), ("promotion_events", 0.75), ("ip_protection", 0.5)):
        d = sp.by_id[lid]
        k = d.snap(k)
        lv = in_world(sp.scenario({lid: k}), w).levers[-1]
        one = lever_in_world(d.lever, w)  # the world's draw at intensity 1
        before = float(getattr(getattr(sp.baseline.params, d.lever.param.split(".")[0]), d.lever.param.split(".")[1]))
        expect = {"add": k * one.value, "multiply": 1 + (one.value - 1) * k,
                  "set": before + (one.value - before) * k}[d.lever.mode]
        assert lv.value == pytest.approx(expect, rel=1e-6), lid
        share = d.lever.cost_at(k) / d.lever.yearly_cost_yuan
        assert lv.yearly_cost_yuan == pytest.approx(one.yearly_cost_yuan * share, rel=1e-4), lid


def test_draws_beyond_a_parameters_range_are_capped() -> None:
    """Events at their maximum (24 a year) in worlds where the lever's effect is drawn high stay at 24."""
    sp = Space([load_scenario(SCEN / f) for f in GROUPS], load_scenario(BASELINE))
    mix = sp.scenario({"promotion_events": sp.by_id["promotion_events"].k_max})
    raised = 0
    for w in draw_worlds(30, 0, None):
        raw = scenario_in_world(mix, w)
        sc = capped(raw)
        build_table(sc)  # never refused
        lv, lv_raw = sc.levers[-1], raw.levers[-1]
        assert lv.value <= lv_raw.value and lv.yearly_cost_yuan == lv_raw.yearly_cost_yuan
        if lv.value < lv_raw.value:
            raised += 1
            assert 8 + lv.value == pytest.approx(24.0)
        else:
            assert capped(raw) is raw or lv.value == lv_raw.value
    assert raised > 0


def test_cost_risk() -> None:
    sp = Space([load_scenario(SCEN / f) for f in GROUPS], load_scenario(BASELINE))
    sc = sp.scenario({"certified_brokers": 1.0})  # 1.2 M a year stated, 0.6–2.4 M range (mode 1.2 M)
    r = cost_risk(sc, 1.2e6, 0, n=500)
    assert 0.5 < r["p_cost_over_budget"] < 1 and r["cost_world_p95_yuan"] > 1.2e6
    assert r == cost_risk(sc, 1.2e6, 0, n=500)
    assert cost_risk(sc, 2.4e6, 0, n=500)["p_cost_over_budget"] == 0.0
    assert cost_risk(baseline_scenario(), 1.0, 0, n=10)["cost_world_p95_yuan"] == 0.0


@pytest.mark.parametrize(("extra", "needle"), [(["--risk", "p5"], "--risk"),
                                               (["--worlds", "-3"], "--worlds"),
                                               (["--worlds", "many"], "--worlds"),
                                               (["--worlds", "5", "--risk", "p10"], "--risk p10 needs"),
                                               (["--risk", "p10"], "--risk p10: only with --worlds"),
                                               (["--posterior", "x.csv"], "--posterior: only with --worlds"),
                                               (["--worlds", "3", "--world-reps", "2"], "--world-reps"),
                                               (["--worlds", "3", "--posterior", "nowhere.csv"], "nowhere.csv")])
def test_bad_world_options(extra: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o"
    args = ["optimise", "--budget", "3000000", "--out", str(out), "--baseline", str(BASELINE), "--quiet", *extra]
    with pytest.raises(SystemExit) as e:
        raise SystemExit(main(args))
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err, err
    assert not out.exists()


@pytest.mark.slow
def test_optimise_with_worlds_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "opt"
    args = ["optimise", "--budget", "3000000", "--reps", "9", "--trials", "12", "--confirm-reps", "10", "--worlds",
            "3", "--world-reps", "3", "--confirm-worlds", "4", "--out", str(out), "--baseline", str(BASELINE),
            "--frontier", "2000000", "--quiet"]
    assert main(args) == 0
    r = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert r["worlds"] == 3 and r["risk"] == "mean" and r["world_reps"] == 3 and r["confirm_worlds"] == 4
    assert r["fresh_worlds"] == [1_000_000, 1_000_003] and r["posterior"].endswith("posterior.csv")
    assert r["delta_world_p10"] <= r["world_delta_mean"] <= r["delta_world_p90"]
    for key in ("p_gain", "p_beats_best_shipped", "p_cost_over_budget"):
        assert 0 <= r[key] <= 1, key
    assert r["max_yearly_cost_yuan"] <= 3_000_000 and r["cost_world_p95_yuan"] > 0
    assert r["search_delta_mean"] is None and r["search_world_objective"] is not None
    assert all("p_mix_beats_this" in row for row in r["shipped"])
    text = (out / "summary.txt").read_text(encoding="utf-8")
    assert "fresh worlds" in text and "超出预算的概率" in text
    head = (out / "frontier.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "delta_world_p10" in head and "p_cost_over_budget" in head
    capsys.readouterr()
    assert main(["validate", str(out / "best.toml")]) == 0
    # the same command resumes: every trial is in the study, the same result
    assert main(args) == 0
    again = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert {k: v for k, v in again.items() if k != "wall_seconds"} == {k: v for k, v in r.items()
                                                                         if k != "wall_seconds"}
    # on two local processes (search, selection and fresh worlds cut into parts there): the same result
    two = tmp_path / "two"
    assert main([*(str(two) if a == str(out) else a for a in args), "--workers", "2"]) == 0
    on_two = json.loads((two / "result.json").read_text(encoding="utf-8"))
    assert {k: v for k, v in on_two.items() if k != "wall_seconds"} == {k: v for k, v in r.items()
                                                                          if k != "wall_seconds"}
