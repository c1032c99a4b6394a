"""Every notebook runs from top to bottom in a real Jupyter kernel and writes its figures.

The notebooks are jupytext percent scripts; each is converted to a notebook and
executed by nbclient with few replications (``CONVSIM_NOTEBOOK_REPS``), its
figures going to a temporary folder (``CONVSIM_NOTEBOOK_OUT``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_a_kernel(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("CONVSIM_NOTEBOOK_REPS", "6")
    monkeypatch.setenv("CONVSIM_NOTEBOOK_OUT", str(tmp_path))
    nb = jupytext.read(path)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=900,
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    figures = sorted(tmp_path.glob(f"{path.stem[:2]}_*.png"))
    assert figures, f"{path.name} wrote no figure"
    assert all(f.stat().st_size > 5000 for f in figures)


def test_there_are_notebooks_for_each_story() -> None:
    stems = {p.stem for p in NOTEBOOKS}
    assert {"01_baseline_vs_report", "02_compare_measures", "03_sweeps_sensitivity", "04_how_sure",
            "05_budget_mix"} <= stems
