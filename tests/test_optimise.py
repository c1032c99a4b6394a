"""convsim optimise: intensities, budget, search on a toy objective, determinism, resume, the command end to end."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
import pytest

from sim.cli import main
from sim.optimise.evaluate import Evaluator, Request
from sim.optimise.search import Search, SearchConfig, rungs
from sim.optimise.space import Space, resized
from sim.scenario import InputError, Scenario, baseline_scenario, load_scenario, scenario_from_dict
from tests.conftest import BASELINE

SCEN = BASELINE.parent
GROUPS = ("g1_awareness.toml", "g2_platforms.toml", "g3_talent.toml", "g4_intermediaries.toml", "g5_finance.toml")


def _lever(lid: str, param: str, mode: str, value: float, cost: float, mx: float = 3.0) -> dict[str, Any]:
    return {"id": lid, "name_en": lid, "name_zh": lid, "group": "finance", "param": param, "mode": mode,
            "value": value, "effect_source": "ASM test", "effect_low": min(value, 0.0) if mode == "add" else
            min(value, 1.0), "effect_high": max(value, 0.0) if mode == "add" else max(value, 1.0),
            "yearly_cost_yuan": cost, "cost_source": "ASM test", "cost_low": cost, "cost_high": cost,
            "max_intensity": mx, "max_intensity_source": "ASM test"}


def _toy_space() -> Space:
    """Three continuous levers of 1 M yuan each at intensity 1, one whole-number lever, one that hurts."""
    g = scenario_from_dict({"scenario": {"id": "toy", "name_en": "t", "name_zh": "t", "group": "finance"},
                            "levers": [_lever("a", "finance.guarantee_approval", "add", 0.05, 1e6),
                                       _lever("b", "finance.ip_pledge_approval", "add", 0.1, 1e6),
                                       _lever("c", "finance.venture_prob", "set", 0.1, 1e6),
                                       _lever("hurts", "pilot.insurance_share", "set", 0.3, 1e6),
                                       _lever("slots", "pilot.public_slots", "add", 2.0, 1e6)]})
    return Space([g], baseline_scenario())


#: Toy objective: sum of WEIGHT[i] · sqrt(intensity of lever i).
WEIGHT = {"a": 3.0, "b": 2.0, "c": 1.0, "hurts": -1.0, "slots": 0.0}


class ToyEvaluator(Evaluator):
    """Gain = Σ wᵢ √kᵢ (intensity read back from each lever's cost), plus small keyed noise per replication."""

    def __init__(self, space: Space) -> None:
        super().__init__(space.baseline, "industrialised", 0)
        self.costs = {d.id: d.lever.yearly_cost_yuan for d in space.dims}

    def deltas(self, requests: Sequence[Request]) -> list[np.ndarray]:
        return [self.toy(sc, reps) for sc, _, reps in requests]

    def toy(self, sc: Scenario, reps: Sequence[int]) -> np.ndarray:
        self.reps_run += len(reps)
        g = sum(WEIGHT[lv.id] * math.sqrt(lv.yearly_cost_yuan / self.costs[lv.id]) for lv in sc.levers)
        noise = np.array([np.random.default_rng(r).normal(0, 0.05) for r in reps])
        return g + noise


def _toy_optimum(budget: float) -> float:
    """max Σ wᵢ √kᵢ s.t. Σ kᵢ · 1 M ≤ budget (positive weights only): kᵢ ∝ wᵢ², value = √(B Σ wᵢ²)."""
    w = np.array([WEIGHT["a"], WEIGHT["b"], WEIGHT["c"]])
    k = (budget / 1e6) * w**2 / (w**2).sum()
    assert np.all(k <= 3)
    return float((w * np.sqrt(k)).sum())


def _search(tmp: Path, trials: int, seed: int = 0, budget: float = 2e6, name: str = "s.db",
            ev: Evaluator | None = None) -> Search:
    sp = _toy_space()
    return Search(sp, ev or ToyEvaluator(sp), SearchConfig(budget, 27, trials, seed, "industrialised"), tmp / name)


def test_intensity_rules() -> None:
    base = baseline_scenario().params
    add = scenario_from_dict({"scenario": {"id": "x", "name_en": "x", "name_zh": "x"},
                              "levers": [_lever("m", "talent.turnover", "multiply", 0.7, 5e5, 2.0)]}).levers[0]
    assert resized(add, 2.0, base).value == pytest.approx(1 + (0.7 - 1) * 2)
    assert resized(add, 2.0, base).yearly_cost_yuan == pytest.approx(1e6)
    s = scenario_from_dict({"scenario": {"id": "x", "name_en": "x", "name_zh": "x"},
                            "levers": [_lever("s", "contract.ip_protection", "set", 0.6, 5e5, 2.0)]}).levers[0]
    assert resized(s, 0.5, base).value == pytest.approx(0.3 + (0.6 - 0.3) * 0.5)
    sp = _toy_space()
    slots = sp.by_id["slots"]
    assert slots.whole and slots.max_units == 6
    assert slots.snap(0.74) == 0.5  # 1.48 slots → 1 slot, paid for one
    assert sp.levers({"slots": 0.74})[0].value == 1.0
    assert sp.max_yearly_cost({"slots": 0.74}) == pytest.approx(5e5)


def test_lever_schema_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (SCEN / "g3_talent.toml").read_text(encoding="utf-8")
    cases = {"max_intensity = 2.0": ("max_intensity = 20.0", "allowed range 1 to 10"),
             'max_intensity_source = "ASM turnover': ('max_intensity_sauce = "ASM turnover', "unknown key")}
    for i, (old, (new, needle)) in enumerate(cases.items()):
        f = tmp_path / f"bad{i}.toml"
        f.write_text(text.replace(old, new).replace('base = "baseline.toml"', f'base = "{BASELINE}"'),
                     encoding="utf-8")
        assert main(["validate", str(f)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and needle in err, err
    with pytest.raises(InputError, match="above 0"):
        scenario_from_dict({"scenario": {"id": "x", "name_en": "x", "name_zh": "x"},
                            "levers": [_lever("m", "talent.turnover", "multiply", 0.7, 5e5, 4.0)]})


def test_shipped_maxima_are_valid_and_sourced() -> None:
    sp = Space([load_scenario(SCEN / f) for f in GROUPS], load_scenario(BASELINE))
    sp.check_maxima()
    paid = [lv for f in GROUPS for lv in load_scenario(SCEN / f).levers if lv.yearly_cost_yuan > 0]
    assert len(sp.dims) == len(paid) == 26  # every paid lever; the zero-cost finance levers cannot be bought
    for d in sp.dims:
        assert d.lever.max_intensity is not None and d.lever.max_intensity_source.startswith(("ASM", "DOC", "DER"))


def test_repair_never_exceeds_the_budget() -> None:
    sp = Space([load_scenario(SCEN / f) for f in GROUPS], load_scenario(BASELINE))
    rng = np.random.default_rng(1)
    for budget in (2e5, 1e6, 3e6, 1e7):
        for _ in range(30):
            raw = {d.id: float(rng.uniform(0, d.k_max)) * (rng.random() < 0.5) for d in sp.dims}
            m = sp.repair(raw, budget)
            assert sp.max_yearly_cost(m) <= budget
            assert sum(lv.yearly_cost_yuan for lv in sp.levers(m)) <= budget
            for d in sp.dims:
                assert 0 <= m[d.id] <= d.k_max
                if d.whole:
                    assert m[d.id] * d.lever.value == pytest.approx(round(m[d.id] * d.lever.value))


@pytest.mark.slow
def test_toy_search_finds_the_known_optimum_within_budget(tmp_path: Path) -> None:
    s = _search(tmp_path, trials=80)
    r = s.run()
    best = _toy_optimum(2e6)
    assert r.best_score >= 0.97 * best, (r.best_score, best, r.best_mix)
    assert r.best_mix["hurts"] == 0 and r.best_mix["a"] > r.best_mix["b"] > r.best_mix["c"]
    assert r.single_id == "a"
    for t in s.study.get_trials(states=(optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)):
        assert t.user_attrs["max_yearly_cost"] <= 2e6
    assert r.pruned > 0  # successive halving cut some mixes short


@pytest.mark.slow
def test_same_seed_same_result(tmp_path: Path) -> None:
    a = _search(tmp_path, trials=30, name="a.db").run()
    b = _search(tmp_path, trials=30, name="b.db").run()
    assert a.best_mix == b.best_mix and a.best_score == b.best_score


class Interrupting(ToyEvaluator):
    """Raises KeyboardInterrupt on its n-th call, as Ctrl-C would between chunks."""

    def __init__(self, space: Space, n: int) -> None:
        super().__init__(space)
        self.n = n

    def toy(self, sc: Scenario, reps: Sequence[int]) -> np.ndarray:
        self.n -= 1
        if self.n == 0:
            raise KeyboardInterrupt
        return super().toy(sc, reps)


def test_interrupted_search_resumes(tmp_path: Path) -> None:
    first = _search(tmp_path, trials=12)
    first.run()
    before = [(t.number, t.params, t.value) for t in first.study.trials]
    assert first.done() == 12
    more = _search(tmp_path, trials=24)
    assert more.done() == 12  # the file's trials are reused
    more.run()
    after = [(t.number, t.params, t.value) for t in more.study.trials]
    assert after[:12] == before and more.done() == 24
    # Ctrl-C inside a trial: the trial is marked failed, the finished ones are kept, the same call resumes
    sp = _toy_space()
    cut = Search(sp, Interrupting(sp, 20), SearchConfig(2e6, 27, 30, 0, "industrialised"), tmp_path / "cut.db")
    with pytest.raises(KeyboardInterrupt):
        cut.run()
    kept = cut.done()
    assert 0 < kept < 30
    again = _search(tmp_path, trials=30, name="cut.db")
    assert again.done() == kept
    again.run()
    assert again.done() == 30
    assert 1 <= len(again.study.get_trials(states=(optuna.trial.TrialState.FAIL,))) <= 4  # the batch cut short


@pytest.mark.slow
def test_resumed_search_is_identical_to_an_uninterrupted_one(tmp_path: Path) -> None:
    """TPE is seeded by the finished trials, planned mixes are queued one at a time and the pruner ignores a
    trial cut short: the resumed study holds the same finished trials, in the same order, and the same result."""
    import dataclasses

    whole = _search(tmp_path, trials=40, name="whole.db")
    rw = whole.run()
    for cut in (10, 60):  # in the planned trials, in TPE's
        sp = _toy_space()
        first = Search(sp, Interrupting(sp, cut), SearchConfig(2e6, 27, 40, 0, "industrialised"),
                       tmp_path / f"cut{cut}.db")
        with pytest.raises(KeyboardInterrupt):
            first.run()
        again = _search(tmp_path, trials=40, name=f"cut{cut}.db")
        ra = again.run()
        done = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
        assert ([(t.params, t.value, t.state) for t in again.study.get_trials(states=done)]
                == [(t.params, t.value, t.state) for t in whole.study.get_trials(states=done)])
        assert dataclasses.replace(ra, reps_run=0) == dataclasses.replace(rw, reps_run=0)


def test_rungs() -> None:
    assert rungs(300) == [(34, 1), (102, 3), (300, 9)]
    assert rungs(9) == [(1, 1), (3, 3), (9, 9)]


@pytest.mark.slow
def test_optimise_command_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "opt"
    args = ["optimise", "--budget", "3000000", "--reps", "9", "--trials", "24", "--confirm-reps", "20", "--out",
            str(out), "--baseline", str(BASELINE), "--frontier", "1000000", "--quiet"]
    assert main(args) == 0
    r = json.loads((out / "result.json").read_text(encoding="utf-8"))
    for key in ("budget_yuan_per_year", "max_yearly_cost_yuan", "kpi", "delta_mean", "delta_lo", "delta_hi",
                "best_shipped_id", "best_shipped_delta_mean", "diff_vs_best_shipped_lo", "diff_vs_best_shipped_hi"):
        assert key in r, key
    assert r["max_yearly_cost_yuan"] <= 3_000_000 and r["kpi"] == "industrialised"
    assert r["delta_lo"] <= r["delta_mean"] <= r["delta_hi"]
    assert r["fresh_replications"][0] >= 1_000_000
    lines = (out / "best.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "lever,intensity,yuan_per_year" and len(lines) > 1
    assert sum(float(ln.split(",")[2]) for ln in lines[1:]) <= 3_000_000
    capsys.readouterr()
    assert main(["validate", str(out / "best.toml")]) == 0
    sc = load_scenario(out / "best.toml")
    assert max(sc.yearly_cost(y) for y in range(2023, 2028)) <= 3_000_000
    for f in ("summary.txt", "frontier.csv", "frontier.png", "optimise.json", "study.optuna.log"):
        assert (out / f).is_file(), f
    text = (out / "summary.txt").read_text(encoding="utf-8")
    assert "最优措施组合" in text and "Best mix" in text
    # the same command again resumes: every trial is already in the study
    assert main(args) == 0
    assert json.loads((out / "result.json").read_text(encoding="utf-8"))["delta_mean"] == r["delta_mean"]


@pytest.mark.parametrize(("extra", "needle"), [(["--frontier", "1e6,abc"], "--frontier"),
                                               (["--budget", "-5"], "--budget"),
                                               (["--kpi", "happiness"], "unknown KPI"),
                                               (["--reps", "5"], "--reps"),
                                               (["--scheduler", "tcp://h:8786"], "--scheduler"),
                                               (["--backend", "dask", "--scheduler", "nowhere"], "--scheduler")])
def test_bad_options(extra: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o"
    args = ["optimise", "--budget", "3000000", "--out", str(out), "--baseline", str(BASELINE), "--quiet", *extra]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err and err.startswith("convsim: error:"), err
    assert not out.exists()


def test_refuses_a_folder_it_did_not_make(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    assert main(["optimise", "--budget", "3000000", "--out", str(out), "--baseline", str(BASELINE), "--quiet"]) == 2
    assert "not made by `convsim optimise`" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def _real_search(tmp: Path, name: str, ex: Any = None, threads: int | None = None) -> tuple[Any, list[Any], Any]:
    """A tiny search on the simulator (the toy space's levers, 9 replications, 8 trials in batches of 4), on
    ``ex``; its result, its finished trials and the KPI frame of 20 fresh replications of the best mix."""
    sp = _toy_space()
    ev = Evaluator(sp.baseline, "industrialised", 0)
    if ex is not None:
        ev.use(ex, threads)
    s = Search(sp, ev, SearchConfig(2e6, 9, 8, 0, "industrialised", batch=4), tmp / name)
    r = s.run()
    done = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    trials = [(t.params, t.value, t.state, dict(t.intermediate_values)) for t in s.study.get_trials(states=done)]
    fresh = ev.frame(sp.scenario(r.best_mix), range(1_000_000, 1_000_020))
    return r, trials, fresh


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, list[Any], Any]:
    return _real_search(tmp_path_factory.mktemp("opt_one"), "one.log")


@pytest.mark.parametrize("where", ["processes", "dask"])
def test_same_search_on_any_workers(where: str, tmp_path: Path, one_worker: tuple[Any, list[Any], Any]) -> None:
    """The same seed and batch: the same trials, values, pruning and result in this process, on 2 local
    processes and on a 2-worker Dask cluster (and the same fresh replications, cut into parts there)."""
    from sim.executor import executor

    if where == "processes":
        with executor("processes", workers=2) as ex:
            got = _real_search(tmp_path, "p.log", ex)
    else:
        from dask.distributed import LocalCluster

        with (LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster,
              executor("dask", cluster.scheduler_address) as ex):
            got = _real_search(tmp_path, "d.log", ex, threads=1)
    assert got[0] == one_worker[0] and got[1] == one_worker[1]
    pd.testing.assert_frame_equal(got[2], one_worker[2], check_exact=True)
    assert len(got[1]) == 8


def test_batch_is_part_of_the_study(tmp_path: Path) -> None:
    """Batches of 4 and one at a time are two studies in one file (neither resumes the other's trials)."""
    a = _search(tmp_path, trials=8, name="b.db")
    a.run()
    sp = _toy_space()
    one = Search(sp, ToyEvaluator(sp), SearchConfig(2e6, 27, 8, 0, "industrialised", batch=1), tmp_path / "b.db")
    assert one.cfg.study_name != a.cfg.study_name and one.done() == 0
    one.run()
    assert one.done() == 8 and a.done() == 8


def test_a_budget_that_buys_no_lever_is_said_plainly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The smallest purchase is one whole unit of a whole-number lever or an intensity of 1e-4 of a continuous one
    (the finest the optimiser writes): a budget below every lever's is refused, naming the cheapest, before any
    work; a frontier point likewise."""
    from sim.jobs.optimise import STEP

    base = str(BASELINE)
    assert main(["optimise", "--budget", "1", "--baseline", base, "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--budget: 1 yuan a year buys no lever at all" in err and f"intensity {STEP:g}" in err
    assert not (tmp_path / "o").exists()
    assert main(["optimise", "--budget", "3e6", "--frontier", "5,1e6", "--baseline", base, "--out",
                 str(tmp_path / "f"), "--quiet"]) == 2
    assert "--frontier: 5 yuan a year buys no lever at all" in capsys.readouterr().err
    assert not (tmp_path / "f").exists()
