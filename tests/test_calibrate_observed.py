"""convsim calibrate --observed: figures published after the report as extra calibration targets.

What is specified (docs/calibrate.md, ``sim.calibration.model.observed_bands``): a figure of the observed-figures
file (``calibration/observed.toml``'s format) is a band (``low``/``high``, or ``value`` ± ``tolerance``) on a KPI
over a year or window of the scenario's horizon; ABC-SMC's distance scores it with the report's targets on the
model's output for those years (the run is simulated as far as the last figure needs), and the rejection
calibration accepts a point only when its mean lies in the band too. A figure far from the prior predictive pulls
the posterior towards the parameter values that reach it: the number of meetings in 2024 grows with the brokers'
matching efficiency (about 90 a year at 0.03, 180 at 0.09), so a published 200 ± 10 moves the accepted
efficiency up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tomli_w

from sim.analysis.observed import load_observed
from sim.calibration import model
from sim.cli import main
from sim.errors import InputError
from sim.jobs.calibrate import calibrate
from sim.scenario import load_scenario
from tests.conftest import BASELINE

PARAM = "meeting.efficiency_broker"
#: More meetings in 2024 than any broker efficiency of the prior gives (≈ 90 at 0.03 … 180 at 0.09).
FAR = {"id": "meetings_2024", "kpi": "meetings", "year": 2024, "value": 200.0, "tolerance": 10.0,
       "source": "hand-made for the test"}


def _observed(folder: Path, *figures: dict[str, Any]) -> Path:
    path = folder / "observed.toml"
    path.write_text(tomli_w.dumps({"observed": list(figures)}), encoding="utf-8")
    return path


def test_figures_become_bands_keyed_by_kpi_years_and_id(tmp_path: Path) -> None:
    base = load_scenario(BASELINE)
    band = {"id": "hightech_2025", "kpi": "hightech_stock", "year": 2025, "low": 230.0, "high": 250.0,
            "source": "s"}
    window = {"id": "meet", "kpi": "meetings", "first_year": 2018, "last_year": 2022, "low": 500.0,
              "high": 600.0, "source": "s"}
    path = _observed(tmp_path, FAR, band, window)
    bands = model.observed_bands(load_observed(path), path, base)
    assert bands == {"meetings@2024-2024#meetings_2024": (190.0, 210.0),
                     "hightech_stock@2025-2025#hightech_2025": (230.0, 250.0),
                     "meetings@2018-2022#meet": (500.0, 600.0)}
    assert model.last_year(list(bands)) == 2025 and model.last_year(["meetings"]) == 2022
    # the model's output for those years: the run goes on to 2025; a report window's figure is the report target's
    x = model.summaries(base, {PARAM: 0.06}, 2, 0, ["meetings", *bands])
    assert x["meetings@2018-2022#meet"] == x["meetings"]
    assert x["meetings@2024-2024#meetings_2024"] > 0 and x["hightech_stock@2025-2025#hightech_2025"] > 0


@pytest.mark.parametrize(("figure", "needle"), [
    ({**FAR, "tolerance": None}, "needs a band"),
    ({**FAR, "kpi": "rate_contract", "value": 0.3, "tolerance": 0.05}, "is a ratio"),
    ({**FAR, "year": 2030}, "beyond the scenario's horizon"),
])
def test_a_figure_that_cannot_be_a_target_is_refused(figure: dict[str, Any], needle: str, tmp_path: Path) -> None:
    path = _observed(tmp_path, {k: v for k, v in figure.items() if v is not None})
    with pytest.raises(InputError, match=needle):
        model.observed_bands(load_observed(path), path, load_scenario(BASELINE))


def test_a_tolerance_goes_with_a_value(tmp_path: Path) -> None:
    path = _observed(tmp_path, {**{k: v for k, v in FAR.items() if k not in ("value", "tolerance")}, "low": 1.0,
                                "high": 2.0, "tolerance": 1.0})
    with pytest.raises(InputError, match="`tolerance` goes with `value`"):
        load_observed(path)


def _spec(folder: Path) -> Path:
    meta = {"id": "tiny", "name_en": "tiny", "name_zh": "小", "scenario": str(BASELINE), "population": 20,
            "generations": 3, "reps": 2, "seed": 5, "min_epsilon": 0.0, "min_acceptance": 0.0}
    path = folder / "smc.toml"
    path.write_text(tomli_w.dumps({"smc": meta, "priors": [{"param": PARAM, "min": 0.03, "max": 0.09,
                                                            "why": "ASM test"}]}), encoding="utf-8")
    return path


def _mean(post: Any) -> float:
    return float(np.average(post[PARAM], weights=post["weight"]))


@pytest.mark.slow
def test_an_observed_figure_pulls_the_smc_posterior(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    plain = calibrate(spec, tmp_path / "plain", predictive_sets=2, predictive_reps=1)
    pulled = calibrate(spec, tmp_path / "pulled", predictive_sets=2, predictive_reps=1,
                       observed=_observed(tmp_path, FAR))
    assert plain.posterior is not None and pulled.posterior is not None
    # the prior's mean is 0.06 and the report's meetings of 2018–2022 (500–600) keep the plain posterior near it;
    # 200 meetings in 2024 need the top of the range: the posterior moves up, a compromise between the two
    # (measured: 0.059 plain, 0.078 with the figure)
    assert _mean(pulled.posterior) > _mean(plain.posterior) + 0.01 and _mean(pulled.posterior) > 0.07
    # the figure is part of the run's identity: the plain run's folder refuses it
    with pytest.raises(InputError, match="another file, scenario or targets"):
        calibrate(spec, tmp_path / "plain", observed=_observed(tmp_path, FAR))


def _sweep(folder: Path) -> Path:
    meta = {"id": "tinyrej", "name_en": "t", "name_zh": "t", "scenario": str(BASELINE), "design": "grid",
            "reps": 2, "kpi": "contracts", "first_year": 2018, "last_year": 2022}
    path = folder / "priors.toml"
    path.write_text(tomli_w.dumps({"sweep": meta, "factors": [{"param": PARAM,
                                                               "values": [0.03, 0.045, 0.06, 0.075, 0.09]}]}),
                    encoding="utf-8")
    return path


@pytest.mark.slow
def test_an_observed_figure_narrows_the_rejection_ensemble(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = _sweep(tmp_path)
    plain = calibrate(spec, tmp_path / "plain", tolerance=10.0).scored
    assert plain is not None and plain["accepted"].all()  # the report's bands widened tenfold: every point
    # 200 ± 10 meetings in 2024 widened by 20 %: 152 … 252, which only the top efficiencies reach
    out = tmp_path / "pulled"
    assert main(["calibrate", str(spec), "--out", str(out), "--tolerance", "0.2", "--observed",
                 str(_observed(tmp_path, FAR)), "--quiet"]) == 0
    assert "observed meetings_2024 (2024)" in capsys.readouterr().out
    import pandas as pd

    scored = pd.read_csv(out / "calibration.csv")
    assert "miss_observed:meetings_2024" in scored.columns
    m = scored["observed:meetings_2024"]
    assert m.is_monotonic_increasing  # more efficient brokers, more meetings
    kept = scored.loc[scored["miss_observed:meetings_2024"] <= 0.2, PARAM]
    assert list(kept) == list(scored.loc[(m >= 152) & (m <= 252), PARAM]) and kept.min() >= 0.06


@pytest.mark.parametrize("method", ["smc", "rejection"])
def test_a_bad_observed_file_is_one_line_and_nothing_is_written(method: str, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    spec = _spec(tmp_path) if method == "smc" else _sweep(tmp_path)
    # a year beyond the horizon (what the sweep simulates), or a single value the distance cannot score
    bad = _observed(tmp_path, {**FAR, "year": 2031} if method == "rejection"
                    else {k: v for k, v in FAR.items() if k != "tolerance"})
    out = tmp_path / "out"
    assert main(["calibrate", str(spec), "--out", str(out), "--observed", str(bad), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "observed.toml" in err and "meetings_2024" in err, err
    assert not out.exists()


def test_the_calibration_run_keeps_the_levers_that_start_by_the_last_year_a_figure_needs() -> None:
    """Scored up to 2024, a scenario's levers starting in 2023 (the policy year) and 2024 act; one starting in
    2025 cannot change any figure up to 2024 and is left out, as are all of them when only 2018–2022 is scored."""
    g4 = load_scenario(BASELINE.parent / "g4_intermediaries.toml")
    first, *rest = g4.levers
    sc = g4.model_copy(update={"levers": [first.model_copy(update={"start_year": 2025}),
                                          rest[0].model_copy(update={"start_year": 2024}), *rest[1:]]})
    sc._source = g4.source
    assert model.window_scenario(sc, {}).levers == []
    run = model.window_scenario(sc, {}, 2024)
    assert run.params.time.horizon_year == 2024
    assert [lv.id for lv in run.levers] == [lv.id for lv in g4.levers[1:]]
