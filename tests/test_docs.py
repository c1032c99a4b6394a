"""The docs say what the code does: MODEL.md's parameter table, the user guide's sweep example, every option.

The user guide (``docs/``) has one page per command; each page must name every option the
command's parser accepts, so a new option cannot ship undocumented.
"""

import argparse
import re

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


def test_sweep_page_example_is_a_valid_sweep_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sim.sweep import load_sweep
    from sim.sweep.design import design

    text = (ROOT / "docs" / "sweep.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(\[sweep\].*?)```", text, re.S)
    assert block is not None, "docs/sweep.md lost its sweep example"
    spec = tmp_path / "sweeps" / "example.toml"
    spec.parent.mkdir()
    spec.write_text(block.group(1), encoding="utf-8")
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    sw = load_sweep(spec)
    assert len(design(sw)) == 3 and len(sw.arms) == 2


#: The user guide's page for each command (params, validate and variants share one).
PAGES = {"run": "run.md", "trace": "trace.md", "compare": "compare.md", "levers": "levers.md",
         "targets": "targets.md", "sweep": "sweep.md", "calibrate": "calibrate.md", "optimise": "optimise.md",
         "params": "params.md", "validate": "params.md", "variants": "params.md", "discover": "discover.md",
         "explore": "explorer.md"}


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    from sim.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_every_command_has_a_page_in_the_user_guide_listed_in_its_index() -> None:
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    for name in _subcommands():
        assert name in PAGES, f"convsim {name} has no page in docs/ (add it to PAGES and docs/index.md)"
        assert (ROOT / "docs" / PAGES[name]).is_file(), PAGES[name]
        assert f"({PAGES[name]})" in index, f"docs/index.md does not link {PAGES[name]}"


def test_every_option_of_every_command_is_on_its_page() -> None:
    missing = []
    for name, parser in _subcommands().items():
        page = (ROOT / "docs" / PAGES[name]).read_text(encoding="utf-8")
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            # an option by its long form (`--reps`), a positional argument by its name (`scenario`)
            names = [s for s in action.option_strings if s.startswith("--")] or [action.dest]
            for s in names:
                if not re.search(rf"`{re.escape(s)}[` ]", page):  # `--reps N` or `--reps`, not `--reps-x`
                    missing.append(f"convsim {name} {s} (docs/{PAGES[name]})")
    assert not missing, "options missing from the user guide: " + ", ".join(missing)
