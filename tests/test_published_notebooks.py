"""The executed copies of the notebooks in docs/notebooks/ are there and were made from today's scripts.

``python -m tools.publish_notebooks`` executes every notebook and records in each copy the SHA-256 of
the script it ran; a script changed since its copy was published makes this test fail until the copy is
published again. Outputs are not compared (Monte Carlo figures of a tiny run).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT
from tools import publish_notebooks as pub

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_notebook_has_a_published_copy_of_its_current_script(path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    copy = ROOT / "docs" / "notebooks" / f"{path.stem}.ipynb"
    assert copy.is_file(), f"no published copy of {path.name}: run python -m tools.publish_notebooks {path.stem}"
    nb = nbformat.read(copy, as_version=4)
    meta = nb.metadata.get("convsim", {})
    assert meta.get("source") == f"notebooks/{path.name}"
    assert meta.get("source_sha256") == pub.digest(path), (
        f"{path.name} changed since {copy.name} was executed: run python -m tools.publish_notebooks {path.stem}")
    assert meta.get("convsim_version"), "the copy does not say which convsim made it"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.get("execution_count") for c in code), "the copy was not executed to the end"
    outputs = [o for c in code for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "the copy shows no figure"


def test_a_changed_script_or_a_missing_copy_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check the test and ``--check`` rely on: a copy of another script's digest, or none, is stale."""
    nbformat = pytest.importorskip("nbformat")
    src = tmp_path / "notebooks"
    src.mkdir()
    (src / "a.py").write_text("# %%\n1 + 1\n", encoding="utf-8")
    (src / "b.py").write_text("# %%\n2 + 2\n", encoding="utf-8")
    docs = tmp_path / "docs" / "notebooks"
    docs.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.metadata["convsim"] = {"source_sha256": pub.digest(src / "a.py")}
    nbformat.write(nb, str(docs / "a.ipynb"))
    monkeypatch.setattr(pub, "ROOT", tmp_path)
    monkeypatch.setattr(pub, "NOTEBOOKS", src)
    monkeypatch.setattr(pub, "PUBLISHED", docs)
    assert list(pub.stale()) == ["b"]
    (src / "a.py").write_text("# %%\n1 + 2\n", encoding="utf-8")
    assert sorted(pub.stale()) == ["a", "b"]
    assert pub.main(["--check"]) == 1
    assert pub.main(["nope"]) == 2
