"""Long jobs take one Control: progress as they go, cancel at the next step, nothing half-written, resume.

Each job is cancelled from its own progress listener right after its first tick (as a front end's
cancel button would, from another thread, between two steps): it raises Cancelled, leaves no
result file behind, and a second call with the same arguments completes with the answer an
uninterrupted call gives.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import tomli_w

import sim
from sim.jobs import Cancelled, Control, ProgressEvent, background
from tests.conftest import BASELINE, ROOT

G4 = ROOT / "scenarios" / "g4_intermediaries.toml"


def cancel_after_first_tick() -> tuple[Control, list[ProgressEvent]]:
    """A Control that cancels itself once the job reports its first finished unit."""
    seen: list[ProgressEvent] = []
    box: dict[str, Control] = {}

    def listen(ev: ProgressEvent) -> None:
        seen.append(ev)
        if ev.done > 0:
            box["c"].cancel()

    box["c"] = Control(listen)
    return box["c"], seen


def test_control_counts_rates_and_cancels_between_steps() -> None:
    events: list[ProgressEvent] = []
    c = Control(events.append)
    c.start(4, "rep", "job")
    c(1)
    c(2)
    assert (c.done, c.total) == (3, 4) and events[-1].fraction == 0.75 and events[-1].rate > 0
    assert events[-1].eta_s is not None and events[-1].eta_s >= 0
    c.cancel()
    with pytest.raises(Cancelled, match="job cancelled after 4 of 4 rep"):
        c(1)


def test_compare_cancelled_after_its_first_tick_then_completes_as_uninterrupted() -> None:
    control, seen = cancel_after_first_tick()
    with pytest.raises(Cancelled):
        sim.compare(BASELINE, [G4], reps=64, seed=5, engine="fast", progress=control)
    assert seen[0].done == 0 and seen[0].total == 128 and any(ev.done > 0 for ev in seen)
    assert max(ev.done for ev in seen) < 128  # it stopped early
    again = sim.compare(BASELINE, [G4], reps=64, seed=5, engine="fast", progress=Control())
    ref = sim.compare(BASELINE, [G4], reps=64, seed=5, engine="fast")
    pd.testing.assert_frame_equal(again.summary, ref.summary)


def test_compare_runs_in_the_background_and_is_cancelled_from_another_thread() -> None:
    started = threading.Event()
    control = Control(lambda ev: started.set() if ev.done else None)
    fut = background(sim.compare, BASELINE, [G4], reps=2000, seed=1, engine="fast", progress=control)
    assert started.wait(120)
    control.cancel()
    with pytest.raises(Cancelled):
        fut.result(timeout=60)


def test_best_mix_cancelled_leaves_no_answer_and_resumes_to_the_uninterrupted_one(tmp_path: Path) -> None:
    kw: dict[str, Any] = {"reps": 9, "trials": 6, "confirm_reps": 10, "seed": 2, "baseline": BASELINE}
    control, seen = cancel_after_first_tick()
    out = tmp_path / "opt"
    with pytest.raises(Cancelled):
        sim.best_mix(3_000_000, out=out, progress=control, **kw)
    assert seen and seen[-1].unit == "trial" and seen[-1].done == 1
    answers = ("best.toml", "best.csv", "result.json", "summary.txt")
    assert not [f for f in answers if (out / f).exists()]  # the finished trial is in the journal, no answer yet
    assert not [p.name for p in out.iterdir() if ".tmp" in p.name]
    resumed = sim.best_mix(3_000_000, out=out, **kw)
    whole = sim.best_mix(3_000_000, out=tmp_path / "whole", **kw)
    for key in ("mix", "delta_mean", "delta_lo", "delta_hi", "best_shipped_id"):
        assert resumed[key] == whole[key], key
    assert resumed.best().levers and resumed.best_scenario_file.is_file()


def test_calibrate_smc_cancelled_keeps_only_finished_generations_and_resumes(tmp_path: Path) -> None:
    pytest.importorskip("pyabc")
    spec = tmp_path / "smc.toml"
    meta = {"id": "tiny", "name_en": "tiny", "name_zh": "小", "scenario": str(BASELINE), "population": 12,
            "generations": 2, "reps": 2, "seed": 3, "min_epsilon": 0.0, "min_acceptance": 0.0}
    priors = [{"param": "contract.base_logit", "min": -2.2, "max": -0.8, "why": "ASM test"}]
    spec.write_text(tomli_w.dumps({"smc": meta, "priors": priors}), encoding="utf-8")
    control, _ = cancel_after_first_tick()
    out = tmp_path / "cal"
    with pytest.raises(Cancelled):
        sim.calibrate(spec, out=out, predictive_sets=3, predictive_reps=2, progress=control)
    from sim.calibration import smc

    # cancelled during generation 0: no generation was finished, so none is stored
    assert not (out / smc.DB).exists() or smc.read_generations(out / smc.DB) == []
    assert not (out / "posterior.csv").exists()
    res = sim.calibrate(spec, out=out, predictive_sets=3, predictive_reps=2)
    ref = sim.calibrate(spec, out=tmp_path / "ref", predictive_sets=3, predictive_reps=2)
    assert res.method == "smc" and res.posterior is not None and ref.posterior is not None
    pd.testing.assert_frame_equal(res.posterior, ref.posterior, check_exact=True)


def test_sweep_cancelled_keeps_finished_points_and_resumes(tmp_path: Path) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text(tomli_w.dumps({
        "sweep": {"id": "tiny", "name_en": "tiny", "name_zh": "小", "scenario": BASELINE.as_posix(),
                  "design": "grid", "reps": 4, "seed": 1, "kpi": "industrialised"},
        "factors": [{"param": "meeting.brokers", "values": [4.0, 8.0, 12.0]}]}), encoding="utf-8")
    control, _ = cancel_after_first_tick()
    out = tmp_path / "sw"
    with pytest.raises(Cancelled):
        sim.run_sweep(spec, out=out, progress=control)
    assert not (out / "summary.csv").exists()
    res = sim.run_sweep(spec, out=out)
    ref = sim.run_sweep(spec, out=tmp_path / "ref")
    pd.testing.assert_frame_equal(res.summary, ref.summary)
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["points"] == 3
