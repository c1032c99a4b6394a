"""Every lever names the published evaluations its effect was checked against, and each exists in docs/sources.md.

A lever's ``effect_source`` ends with ``[evidence: E…]``: the rows of docs/sources.md §6 (published evaluations
of comparable measures) that bear on it, or E0 (searched, nothing comparable found). The tag stays honest: a
lever whose evidence gives no size in its own unit stays ASM.
"""

from __future__ import annotations

import re

from sim.scenario import load_scenario
from tests.conftest import ROOT

TAG = re.compile(r"\[evidence: (E\d+(?:, E\d+)*)\]$")


def _rows() -> dict[str, str]:
    """Id → the row's text, from the table of docs/sources.md §6."""
    text = (ROOT / "docs" / "sources.md").read_text(encoding="utf-8")
    section = text.split("## 6. Published evaluations of comparable measures", 1)[1]
    return {m.group(1): m.group(0) for m in re.finditer(r"^\| (E\d+) \|.*$", section, flags=re.M)}


def test_every_lever_names_evaluations_that_exist_in_sources() -> None:
    rows = _rows()
    assert "E0" in rows and len(rows) > 1
    seen: set[str] = set()
    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        for lv in load_scenario(path).levers:
            m = TAG.search(lv.effect_source)
            assert m is not None, f"{path.name}: lever {lv.id} names no [evidence: E…] entry"
            for ref in m.group(1).split(", "):
                assert ref in rows, f"{path.name}: lever {lv.id} names {ref}, which docs/sources.md §6 lacks"
                seen.add(ref)
                # the row says which lever it bears on (E0 lists the levers with nothing comparable)
                assert f"`{lv.id}`" in rows[ref] or ref in ("E13", "E16"), (lv.id, ref)
    assert seen == set(rows) - {"E13", "E16"}  # every entry but the two that bear on no lever is used


def test_a_lever_checked_against_evidence_without_a_size_stays_asm() -> None:
    for path in sorted((ROOT / "scenarios").glob("g*.toml")):
        for lv in load_scenario(path).levers:
            refs = TAG.search(lv.effect_source)
            assert refs is not None
            if refs.group(1) != "E0":  # the evidence bears on the mechanism but gives no size in the lever's unit
                assert lv.effect_source.startswith(("ASM", "DER")), (path.name, lv.id)
