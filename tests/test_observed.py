"""Observed figures after the report: `convsim targets --observed` on a hand-made file (one covered, one missed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.analysis.observed import evaluate_observed, load_observed
from sim.cli import main
from sim.errors import InputError
from tests.conftest import BASELINE, ROOT


def records(values: dict[int, list[float]]) -> pd.DataFrame:
    """Hand-made records: hightech_stock per year (one list entry per replication), everything else 0."""
    from sim.layout import RECORD_ROWS

    rows = []
    for year, per_rep in values.items():
        for rep, v in enumerate(per_rep):
            rows.append({"rep": rep, "year": year, **dict.fromkeys(RECORD_ROWS, 0.0), "hightech_stock": v})
    return pd.DataFrame(rows)


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "observed.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_a_covered_and_a_missed_figure_by_hand(tmp_path: Path) -> None:
    rec = records({2024: [float(v) for v in range(100, 121)], 2025: [200.0] * 21})
    figs = load_observed(write(tmp_path, """
[[observed]]
id = "covered"
kpi = "hightech_stock"
year = 2024
value = 105.0
source = "test"

[[observed]]
id = "missed"
kpi = "hightech_stock"
year = 2025
low = 150.0
high = 160.0
source = "test"

[[observed]]
id = "overlap"
kpi = "hightech_stock"
year = 2024
low = 115.0
high = 130.0
source = "test"
"""))
    t = evaluate_observed(rec, figs).set_index("id")
    # 2024: 100 … 120, mean 110, 5 % and 95 % quantiles 101 and 119 (linear): 105 is inside
    assert t.at["covered", "model_mean"] == 110.0 and t.at["covered", "model_p05"] == pytest.approx(101.0)
    assert t.at["covered", "model_p95"] == pytest.approx(119.0) and bool(t.at["covered", "covered"])
    assert t.at["covered", "miss"] == pytest.approx(-5.0)
    assert t.at["covered", "miss_relative"] == pytest.approx(-5 / 105)
    # 2025: always 200 against a band 150–160: missed by 40 (to the nearer end)
    assert not bool(t.at["missed", "covered"]) and t.at["missed", "miss"] == pytest.approx(-40.0)
    # a band reaching into the interval [101, 119] is covered (some value it allows is a likely outcome), though
    # it is not inside it; the mean 110 misses its nearer end, 115, by 5
    assert bool(t.at["overlap", "covered"]) and t.at["overlap", "miss"] == pytest.approx(5.0)


def test_bad_files_are_refused_with_the_key(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown kpi"):
        load_observed(write(tmp_path, '[[observed]]\nid="a"\nkpi="nope"\nyear=2024\nvalue=1.0\nsource="s"\n'))
    with pytest.raises(InputError, match="give `value`"):
        load_observed(write(tmp_path, '[[observed]]\nid="a"\nkpi="meetings"\nyear=2024\nsource="s"\n'))
    with pytest.raises(InputError, match="colour"):
        load_observed(write(tmp_path, '[[observed]]\nid="a"\nkpi="meetings"\nyear=2024\nvalue=1.0\nsource="s"\n'
                                      'colour="red"\n'))
    with pytest.raises(InputError, match="not found"):
        load_observed(tmp_path / "none.toml")
    with pytest.raises(InputError, match="outside the simulated years"):
        evaluate_observed(records({2024: [1.0, 2.0]}), load_observed(write(
            tmp_path, '[[observed]]\nid="a"\nkpi="hightech_stock"\nyear=2030\nvalue=1.0\nsource="s"\n')))


def test_targets_observed_runs_the_model_to_the_figures_years(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    obs = write(tmp_path, (ROOT / "calibration" / "observed.toml").read_text(encoding="utf-8") + """
[[observed]]
id = "far_future"
kpi = "hightech_stock"
year = 2029
value = 100000.0
source = "a figure the model cannot reach"
""")
    res = sim.targets(BASELINE, reps=6, seed=2, observed=obs)
    t = res.table.set_index("id")
    assert res.records is not None and int(res.records["year"].max()) == 2029
    assert not bool(t.at["far_future", "covered"]) and t.at["far_future", "miss"] > 0
    # the model's 2022 high-tech stock is the same number `convsim targets` reads for T8
    k = sim.kpis(res.records, 2022, 2022)["hightech_stock"]
    assert t.at["hightech_2022", "model_mean"] == pytest.approx(float(np.mean(k)))
    code = main(["targets", "--scenario", str(BASELINE), "--observed", str(obs), "--reps", "6", "--out",
                 str(tmp_path / "out"), "--quiet"])
    assert code == 0 and "far_future" in capsys.readouterr().out
    assert {p.name for p in (tmp_path / "out").iterdir()} >= {"observed.csv", "observed.png"}
