"""The exploration notebooks run from top to bottom."""

import runpy

import pytest

from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("CONVSIM_NOTEBOOK_REPS", "20")
    monkeypatch.chdir(path.parent)
    runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    assert "extra industrialised 2023–27" in out and "Meetings" in out and "offers that reached production" in out
