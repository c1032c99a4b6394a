"""Scenario discovery: PRIM finds a box planted in hand-made worlds; `convsim discover` on real worlds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.analysis.discovery import bounds, find_boxes, outcome
from sim.cli import main
from sim.errors import InputError
from tests.conftest import BASELINE, ROOT

pytest.importorskip("ema_workbench")


def planted() -> tuple[pd.DataFrame, pd.Series]:
    """300 worlds; the outcome happens exactly when effect:brokers < 0.3 and pilot success > 0.6."""
    g = np.random.default_rng(7)
    x = pd.DataFrame({"effect:brokers": g.random(300), "pilot.success": g.random(300), "cost:fund": g.random(300)},
                     index=pd.Index(range(300), name="world"))
    y = pd.Series((x["effect:brokers"] < 0.3) & (x["pilot.success"] > 0.6), index=x.index)
    return x, y


def test_prim_recovers_a_planted_box() -> None:
    x, y = planted()
    boxes = find_boxes(x, y, threshold=0.8)
    assert boxes, "no box found"
    b = boxes[0]
    assert set(b.limits) == {"effect:brokers", "pilot.success"}  # the irrelevant input is not restricted
    # at density ≥ 0.8 the box of largest coverage reaches a little beyond the planted one
    assert b.limits["effect:brokers"][1] == pytest.approx(0.3, abs=0.05)
    assert b.limits["pilot.success"][0] == pytest.approx(0.6, abs=0.1)
    assert b.density >= 0.8 and b.coverage >= 0.8
    tight = find_boxes(x, y, threshold=0.97)[0]  # asking for a purer box recovers the planted one closely
    assert tight.limits["effect:brokers"][1] == pytest.approx(0.3, abs=0.03)
    assert tight.limits["pilot.success"][0] == pytest.approx(0.6, abs=0.03) and tight.density >= 0.97
    assert b.cases == round(b.density * b.worlds) and b.cases <= int(y.sum())
    text = b.sentence("the leader loses", bounds(x), "en")
    hi_b, lo_p = b.limits["effect:brokers"][1], b.limits["pilot.success"][0]
    assert text.startswith(f"When effect of “brokers” (effect:brokers) ≤ {hi_b:.3g} of its range and "
                           f"pilot.success ≥ {lo_p:.3g}, the leader loses:")
    assert f"it happens in {b.cases} of the {b.worlds} worlds" in text and f"density {b.density:.0%}" in text
    assert "措施效果:brokers" in b.sentence("领先者失去位置", bounds(x), "zh")


def test_no_box_when_the_outcome_never_or_always_happens() -> None:
    x, y = planted()
    assert find_boxes(x, y & False) == [] and find_boxes(x, y | True) == []


def test_outcomes_read_off_the_per_world_table() -> None:
    per_world = pd.DataFrame({"world": [0, 0, 1, 1], "scenario": ["A", "B", "A", "B"],
                              "diff": [5.0, 3.0, 1.0, 4.0]})
    summary = pd.DataFrame(index=["A", "B"])
    assert outcome(per_world, summary, "leader-loses")[0].tolist() == [False, True]
    assert outcome(per_world, summary, "below:A:B")[0].tolist() == [False, True]
    assert outcome(per_world.assign(diff=[-1.0, 3.0, 2.0, 4.0]), summary, "no-gain:A")[0].tolist() == [True, False]
    with pytest.raises(InputError, match="--outcome"):
        outcome(per_world, summary, "no-gain:C")


def test_discover_over_the_worlds_of_a_comparison(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scen = ROOT / "scenarios"
    r = sim.compare(BASELINE, [scen / "g4_intermediaries.toml", scen / "g2_platforms.toml"], reps=2, worlds=30,
                    world_reps=4, seed=1)
    d = sim.discover(r, "below:g4_intermediaries:g2_platforms")
    assert len(d.happens) == 30 and d.inputs.index.equals(d.happens.index)
    w = r.comparison.worlds
    assert w is not None
    wide = w.per_world.pivot(index="world", columns="scenario", values="diff")
    assert d.happens.tolist() == (wide["g4_intermediaries"] < wide["g2_platforms"]).tolist()
    out = d.write(tmp_path / "disc")
    assert {p.name for p in out.iterdir()} >= {"boxes.csv", "worlds.csv", "discovery.png", "summary.txt"}
    with pytest.raises(InputError, match="no worlds"):
        sim.discover(sim.compare(BASELINE, [scen / "g4_intermediaries.toml"], reps=2, worlds=0))
    code = main(["discover", str(scen / "g4_intermediaries.toml"), str(scen / "g1_awareness.toml"), "--baseline",
                 str(BASELINE), "--worlds", "12", "--world-reps", "3", "--out", str(tmp_path / "cli"), "--quiet",
                 "--lang", "zh"])
    assert code == 0 and "情景发现" in capsys.readouterr().out
    assert (tmp_path / "cli" / "boxes.csv").is_file()
    assert main(["discover", "--outcome", "nonsense", "--worlds", "12", "--baseline", str(BASELINE), "--out",
                 str(tmp_path / "bad"), "--quiet"]) == 2
    assert not (tmp_path / "bad").exists()
