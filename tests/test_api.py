"""The Python API as an analyst uses it: the README's section runs as written; docstring examples hold."""

from __future__ import annotations

import doctest
import re

import matplotlib
import pandas as pd
import pytest

import sim
from tests.conftest import ROOT


def test_readme_api_section_runs_as_written(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Python API"):text.index("## Notebooks")]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) >= 2
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)  # the README's own example
    out = capsys.readouterr().out
    assert "g4_intermediaries" in out and "brokers12" in out
    result = namespace["result"]
    assert isinstance(result, sim.CompareResult)
    assert list(result.summary.index) == list(result.ranking["scenario"])
    assert {"delta", "delta_lo", "delta_hi", "p_better", "verdict"} <= set(result.summary.columns)


@pytest.mark.parametrize("module", ["sim.api", "sim.derived"])
def test_docstring_examples(module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    monkeypatch.chdir(ROOT)
    res = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert res.attempted > 0 and res.failed == 0


def test_run_records_are_tidy_and_kpis_default_to_the_policy_period() -> None:
    rec = sim.run(ROOT / "scenarios" / "baseline.toml", reps=3, seed=2)
    assert list(rec.columns[:2]) == ["rep", "year"] and len(rec) == 3 * rec["year"].nunique()
    k = sim.kpis(rec)
    manual = rec[(rec["year"] >= 2023) & (rec["year"] <= 2027)].groupby("rep")["industrialised"].sum()
    pd.testing.assert_series_equal(k["industrialised"], manual.astype(k["industrialised"].dtype), check_names=False)
    assert sim.kpis(rec, 2018, 2022)["contracts"].sum() == rec[rec["year"].between(2018, 2022)]["contracts"].sum()


def test_derive_changes_only_what_it_is_told() -> None:
    g4 = sim.load_scenario(ROOT / "scenarios" / "g4_intermediaries.toml")
    d = sim.derive(g4, id="x", params={"meeting.brokers": 10}, scale={"certified_brokers": 0.5},
                   drop=["ip_protection"])
    assert d.params.meeting.brokers == 10 and g4.params.meeting.brokers != 10
    before = {lv.id: lv for lv in g4.levers}
    after = {lv.id: lv for lv in d.levers}
    assert "ip_protection" not in after and set(after) == set(before) - {"ip_protection"}
    assert after["certified_brokers"].value == before["certified_brokers"].value / 2
    assert after["certified_brokers"].yearly_cost_yuan == before["certified_brokers"].yearly_cost_yuan / 2
    assert after["transfer_agencies"] == before["transfer_agencies"]
    with pytest.raises(sim.InputError, match=r"meeting\.brokerz"):
        sim.derive(g4, params={"meeting.brokerz": 1})
    with pytest.raises(sim.InputError, match="no_such_lever"):
        sim.derive(g4, scale={"no_such_lever": 2})
    with pytest.raises(sim.InputError, match="allowed range"):
        sim.derive(g4, params={"subsidy.city_rate": 3.0})


def test_compare_result_plots_without_touching_matplotlib_settings() -> None:
    backend, rc = matplotlib.get_backend(), dict(matplotlib.rcParams)
    r = sim.compare(ROOT / "scenarios" / "baseline.toml", [ROOT / "scenarios" / "g4_intermediaries.toml"], reps=10)
    from matplotlib.figure import Figure

    for name in ("forest", "funnel", "fans", "cost", "bottlenecks"):
        assert isinstance(r.figure(name), Figure)
    assert matplotlib.get_backend() == backend
    assert {k: v for k, v in matplotlib.rcParams.items() if k != "backend"} == \
        {k: v for k, v in rc.items() if k != "backend"}


def test_api_checks_its_arguments() -> None:
    base = ROOT / "scenarios" / "baseline.toml"
    with pytest.raises(sim.InputError, match="reps"):
        sim.compare(base, [ROOT / "scenarios" / "g4_intermediaries.toml"], reps=1)
    with pytest.raises(sim.InputError, match="precision"):
        sim.compare(base, [ROOT / "scenarios" / "g4_intermediaries.toml"], precision=float("nan"))
    with pytest.raises(sim.InputError, match="at least one"):
        sim.compare(base, [])
    with pytest.raises(sim.InputError, match="file not found"):
        sim.run("scenarios/nope.toml")


@pytest.mark.slow
def test_optimise_as_a_function_writes_and_returns_the_result(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "opt"
    r = sim.best_mix(3_000_000, out=out, reps=9, trials=12, confirm_reps=10,
                     baseline=ROOT / "scenarios" / "baseline.toml")
    assert r["max_yearly_cost_yuan"] <= 3_000_000 and r["kpi"] == "industrialised"
    assert (out / "best.toml").is_file() and sim.load_scenario(out / "best.toml").levers
    with pytest.raises(sim.InputError):
        sim.best_mix(-1, out=tmp_path / "bad")
