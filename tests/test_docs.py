"""MODEL.md's parameter table is the code's: every parameter, default and source."""

from sim.params import parameter_rows
from tests.conftest import ROOT


def test_model_md_lists_every_parameter_with_its_default_and_source() -> None:
    text = (ROOT / "MODEL.md").read_text(encoding="utf-8")
    for r in parameter_rows():
        row = next((ln for ln in text.splitlines() if ln.startswith(f"| `{r['parameter']}` |")), None)
        assert row is not None, f"{r['parameter']} missing from MODEL.md (regenerate: convsim params --markdown)"
        cells = [c.strip() for c in row.split("|")]
        assert cells[3] == str(r["default"]), (r["parameter"], cells[3], r["default"])
        assert r["source"] in cells[5], r["parameter"]
