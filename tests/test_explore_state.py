"""The explorer's state without a browser: the mix and its scenario file, staged runs, the shared queue."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

import sim
from sim.cli import main
from sim.explore import backend as be
from sim.explore.i18n import STRINGS, browser_lang
from sim.explore.jobs import COMPARE, OPTIMISE, PREPARE, JobQueue
from sim.explore.mix import Catalogue, Mix
from sim.explore.results import headline, headline_html
from sim.explore.run import Runner, stages
from sim.scenario import LEVER_GROUPS

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue(SCENARIOS)


def test_catalogue_holds_every_measure_of_the_five_groups(catalogue: Catalogue) -> None:
    group_levers = [lv.id for f in be.GROUP_FILES for lv in sim.load_scenario(SCENARIOS / f).levers]
    assert [m.id for m in catalogue.measures] == group_levers
    for g in LEVER_GROUPS:
        assert catalogue.group(g), g
    for m in catalogue.measures:
        assert m.lever.name_zh and m.lever.name_en and m.lever.report_ref.startswith("三"), m.id
        assert m.k_max >= 1 or m.lever.max_intensity is None


def test_whole_number_levers_move_in_whole_units(catalogue: Catalogue) -> None:
    mix = Mix(catalogue)
    mix.set("certified_brokers", on=True, intensity=0.8)  # 8 brokers × 0.8 = 6.4 → 6 brokers
    assert mix.setting("certified_brokers").intensity == pytest.approx(6 / 8)
    mix.set("certified_brokers", intensity=99)  # capped at max_intensity
    assert mix.setting("certified_brokers").intensity == pytest.approx(3.0)
    brokers = next(lv for lv in mix.levers() if lv.id == "certified_brokers")
    assert brokers.value == 24.0


def test_yearly_cost_follows_intensity_and_start_year(catalogue: Catalogue) -> None:
    mix = Mix(catalogue)
    mix.set("certified_brokers", on=True, intensity=0.5, start_year=2025)
    mix.set("promotion_events", on=True)
    brokers = catalogue.by_id["certified_brokers"].lever.yearly_cost_yuan
    events = catalogue.by_id["promotion_events"].lever.yearly_cost_yuan
    assert mix.yearly_costs() == {2023: events, 2024: events, 2025: events + brokers / 2, 2026: events + brokers / 2,
                                  2027: events + brokers / 2}
    mix.set("promotion_events", on=False)
    assert mix.yearly_costs()[2023] == 0.0


def test_exported_mix_validates_and_reads_back(catalogue: Catalogue, tmp_path: Path) -> None:
    mix = Mix(catalogue)
    mix.set("certified_brokers", on=True, intensity=0.75, start_year=2025)
    mix.set("conversion_insurance", on=True, intensity=1.5)
    mix.set("venture_equity", on=True, effect=0.25)
    path = tmp_path / "mix.toml"
    path.write_text(mix.toml("planner_mix"), encoding="utf-8")
    assert main(["validate", str(path)]) == 0
    back = sim.load_scenario(path)
    built = mix.scenario("planner_mix")
    assert back.model_dump() == built.model_dump()
    again = Mix.from_scenario(catalogue, back)
    assert again.on == mix.on and not again.extra
    for lid in mix.on:
        assert again.setting(lid).intensity == pytest.approx(mix.setting(lid).intensity)
        assert again.setting(lid).start_year == mix.setting(lid).start_year


def test_a_shipped_scenario_loads_as_the_same_levers(catalogue: Catalogue) -> None:
    for name in ("g4_intermediaries.toml", "eq_finance.toml", "all_five.toml"):
        sc = sim.load_scenario(SCENARIOS / name)
        mix = Mix.from_scenario(catalogue, sc)
        rebuilt = {lv.id: (lv.param, lv.value, lv.start_year) for lv in mix.scenario("x").levers}
        original = {lv.id: (lv.param, pytest.approx(lv.value), lv.start_year) for lv in sc.levers}
        assert rebuilt == original, name


def test_an_effect_outside_its_range_is_allowed_and_marked(catalogue: Catalogue) -> None:
    mix = Mix(catalogue)
    mix.set("conversion_insurance", on=True, effect=0.95)
    assert mix.outside_range("conversion_insurance")
    lv = mix.scenario().levers[0]
    assert lv.value == 0.95 and "OUTSIDE" in lv.effect_source and lv.effect_source.startswith("ASM")
    mix.set("conversion_insurance", effect=0.6)
    assert not mix.outside_range("conversion_insurance")
    mix.set("equity_incentives", on=True, intensity=2.0, effect=0.3)  # factor 1 + (0.3 − 1) × 2 < 0
    with pytest.raises(be.InputError, match="equity_incentives"):
        mix.scenario()


def test_an_uploaded_best_toml_finds_its_base_among_the_shipped(catalogue: Catalogue, tmp_path: Path) -> None:
    text = (SCENARIOS / "g4_intermediaries.toml").read_text(encoding="utf-8")
    up = tmp_path / "best.toml"
    up.write_text(text.replace('base = "baseline.toml"', 'base = "../../scenarios/baseline.toml"'), encoding="utf-8")
    sc = be.load_uploaded(up, SCENARIOS)
    g4 = sim.load_scenario(SCENARIOS / "g4_intermediaries.toml")
    assert [lv.id for lv in sc.levers] == [lv.id for lv in g4.levers]
    bad = tmp_path / "bad.toml"
    bad.write_text("[scenario\nid = 1", encoding="utf-8")
    with pytest.raises(be.InputError, match=r"bad\.toml: malformed TOML"):
        be.load_uploaded(bad, SCENARIOS)
    odd = tmp_path / "odd.toml"
    odd.write_text('[scenario]\nid = "odd"\nname_en = "o"\nname_zh = "o"\nbase = "nowhere.toml"\n', encoding="utf-8")
    with pytest.raises(be.InputError, match="not one of the shipped scenarios"):
        be.load_uploaded(odd, SCENARIOS)


def test_stages_start_small_and_end_at_the_target() -> None:
    assert stages(2000, 0) == [(200, 0), (800, 0), (2000, 0)]
    assert stages(200, 0) == [(200, 0)]
    assert stages(50, 0) == [(50, 0)]
    assert stages(1000, 40) == [(200, 0), (800, 0), (1000, 40)]
    assert stages(200, 10) == [(200, 0), (200, 10)]


def test_browser_language_and_both_languages_have_every_string() -> None:
    assert browser_lang("zh-CN,zh;q=0.9,en;q=0.8") == "zh"
    assert browser_lang("de-DE,en;q=0.5") == "en"
    assert browser_lang("fr", default="en") == "en"
    for key, (zh, en) in STRINGS.items():
        assert zh and en, key


def test_queue_runs_one_job_at_a_time_comparisons_first() -> None:
    q = JobQueue()
    gate = threading.Event()
    order: list[str] = []
    running = [0]
    most = [0]

    def job(name: str, wait: bool = False) -> Any:
        def fn(c: be.Control) -> str:
            running[0] += 1
            most[0] = max(most[0], running[0])
            if wait:
                gate.wait(5)
            order.append(name)
            running[0] -= 1
            return name
        return fn

    first = q.submit(job("prepare", wait=True), be.Control(), PREPARE)
    time.sleep(0.05)
    opt = q.submit(job("optimise"), be.Control(), OPTIMISE)
    cmp1 = q.submit(job("compare1"), be.Control(), COMPARE)
    dropped = be.Control()
    cmp2 = q.submit(job("compare2"), dropped, COMPARE)
    assert q.ahead_of(opt) == 3
    dropped.cancel()
    gate.set()
    assert opt.result(5) == "optimise" and first.result(5) == "prepare" and cmp1.result(5) == "compare1"
    with pytest.raises(be.Cancelled):
        cmp2.result(5)
    assert order == ["prepare", "compare1", "optimise"]
    assert most[0] == 1


def test_a_new_run_cancels_the_one_under_way(monkeypatch: pytest.MonkeyPatch, catalogue: Catalogue) -> None:
    calls: list[int] = []

    def slow_compare(baseline: Any, mixes: Any, reps: int, seed: int, control: be.Control, **kw: Any) -> Any:
        calls.append(seed)
        control.start(10_000, "rep", "compare")
        for _ in range(10_000):
            time.sleep(0.001)
            control(1)  # raises Cancelled once the run is cancelled
        raise AssertionError("not cancelled")

    monkeypatch.setattr(be, "compare", slow_compare)
    runner = Runner(JobQueue())
    mix = Mix(catalogue)
    mix.set("certified_brokers", on=True)
    runner.start(catalogue.baseline, [mix.scenario()], target=200, seed=1)
    t0 = time.monotonic()
    while runner.snapshot().status != "running":
        assert time.monotonic() - t0 < 10
        time.sleep(0.01)
    monkeypatch.setattr(be, "compare", lambda *a, **k: (_ for _ in ()).throw(be.InputError("reps: bad")))
    runner.start(catalogue.baseline, [mix.scenario()], target=200, seed=2)
    snap = runner.wait(10)
    assert calls == [1]
    assert snap.status == "failed" and snap.message == "reps: bad"


def test_the_page_shows_the_numbers_of_sim_compare(catalogue: Catalogue) -> None:
    mix = Mix(catalogue)
    mix.set("certified_brokers", on=True)
    mix.set("promotion_events", on=True, intensity=0.5)
    other = Mix(catalogue)
    other.set("venture_equity", on=True)
    runner = Runner(JobQueue())
    mixes = [other.scenario("mix_1"), mix.scenario("mix")]
    runner.start(catalogue.baseline, mixes, target=12, seed=3)
    snap = runner.wait(600)
    assert snap.status == "done", snap.message
    page = headline(snap.result)
    lib = sim.compare(catalogue.baseline, mixes, reps=12, seed=3, engine="fast")
    d = lib.details.set_index(["scenario", "kpi"])
    for sid in ("mix", "mix_1"):
        assert page.loc[sid, "d_ind"] == d.loc[(sid, "industrialised"), "diff"]
        assert (page.loc[sid, "d_ind_lo"], page.loc[sid, "d_ind_hi"]) == (d.loc[(sid, "industrialised"), "lo"],
                                                                         d.loc[(sid, "industrialised"), "hi"])
        assert page.loc[sid, "d_conv"] == d.loc[(sid, "introduced_converted"), "diff"]
    html = headline_html(page, "zh", {"mix": "mix", "mix_1": "mix_1"})
    assert f"data-mean='{float(page.loc['mix', 'd_ind'])!r}'" in html and "产业化项目增量" in html


def test_sim_explore_gives_the_page_for_a_notebook(tmp_path: Path) -> None:
    page = sim.explore(lang="en", out_dir=tmp_path)
    assert type(page).__name__ == "Column"
    import sim.explore as package  # binding the package to sim.explore keeps it callable

    assert callable(package) and type(sim.explore("zh", out_dir=tmp_path)).__name__ == "Column"
    with pytest.raises(ValueError, match="lang"):
        sim.explore(lang="fr")
    assert not any(tmp_path.iterdir())  # nothing written before the planner does something


def test_explore_command_refuses_bad_options(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["explore", "--port", "70000", "--no-browser"]) == 2
    assert "--port: 0 to 65535" in capsys.readouterr().err
    assert main(["explore", "--scenarios", str(tmp_path), "--no-browser"]) == 2
    assert "no baseline.toml" in capsys.readouterr().err


def test_the_optimiser_panel_finds_a_mix_that_loads_into_the_builder(catalogue: Catalogue, tmp_path: Path) -> None:
    from sim.explore.optimiser import Optimiser

    opt = Optimiser(JobQueue(), catalogue, tmp_path)
    opt.start(2_000_000.0, trials=12, reps=9)  # two chunks: 10 trials, then 2 more resumed
    snap = opt.wait(600)
    assert snap.status == "done", snap.message
    assert snap.result is not None and snap.result["mix"] and snap.best_toml is not None
    assert snap.trials_done == 12
    assert snap.result["search"]["trials_complete"] + snap.result["search"]["trials_pruned"] == 12
    assert snap.result["fresh_replications"][1] - snap.result["fresh_replications"][0] + 1 == 200
    best = Mix.from_scenario(catalogue, be.load_uploaded(snap.best_toml, SCENARIOS))
    assert set(best.on) == set(snap.result["mix"]) and not best.extra
    assert max(best.yearly_costs().values()) <= 2_000_000.0 * (1 + 1e-9)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["optimise-2000000"]


@pytest.mark.parametrize("module", ["sim.explore.run", "sim.explore.i18n"])
def test_docstring_examples(module: str) -> None:
    import doctest
    import importlib

    res = doctest.testmod(importlib.import_module(module))
    assert res.attempted > 0 and res.failed == 0
