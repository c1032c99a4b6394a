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


@pytest.mark.slow
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


def test_every_notebook_is_paired_with_an_ipynb_and_syncing_leaves_it_unchanged(tmp_path: Path) -> None:
    """jupytext.toml pairs the scripts with .ipynb notebooks (what Jupyter Lab opens); a sync must write the
    notebook and leave the script in git as it is (no version stamp in its header)."""
    jupytext = pytest.importorskip("jupytext")
    from jupytext.cli import jupytext as jupytext_cli

    (tmp_path / "notebooks").mkdir()
    (tmp_path / "jupytext.toml").write_bytes((ROOT / "jupytext.toml").read_bytes())
    for path in NOTEBOOKS:
        assert jupytext.read(path).metadata["jupytext"]["formats"] == "ipynb,py:percent", path.name
        copy = tmp_path / "notebooks" / path.name
        copy.write_bytes(path.read_bytes())
        jupytext_cli(["--sync", "--quiet", str(copy)])
        assert copy.with_suffix(".ipynb").is_file(), f"{path.name}: no paired notebook written"
        assert copy.read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), f"syncing changed {path.name}"
