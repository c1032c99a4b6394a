"""The docs say what the code does: MODEL.md's parameter table, README's sweep example."""

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


def test_readme_sweep_example_is_a_valid_sweep_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import re

    from sim.sweep import load_sweep
    from sim.sweep.design import design

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(\[sweep\].*?)```", text, re.S)
    assert block is not None, "README lost its sweep example"
    spec = tmp_path / "sweeps" / "example.toml"
    spec.parent.mkdir()
    spec.write_text(block.group(1), encoding="utf-8")
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    sw = load_sweep(spec)
    assert len(design(sw)) == 3 and len(sw.arms) == 2
