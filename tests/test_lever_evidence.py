"""Every lever carries its evidence: an effect source (DOC/DER/ASM) and a plausible range, and a range for an
assumed cost. A lever without them is an input error (one line, the lever named)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from sim.budget import variant_texts
from sim.errors import InputError
from sim.scenario import load_scenario, scenario_from_dict
from tests.conftest import ROOT, lever

GROUP_FILES = ("g1_awareness.toml", "g2_platforms.toml", "g3_talent.toml", "g4_intermediaries.toml",
               "g5_finance.toml")


def _with(**changes: object) -> dict:
    lv = lever("meeting.brokers", "add", 4.0, cost=1e6)
    lv.update(changes)
    return {"scenario": {"id": "x", "name_en": "x", "name_zh": "x"}, "levers": [lv]}


@pytest.mark.parametrize(("changes", "words"), [
    ({"effect_source": None}, "effect_source"),
    ({"effect_source": "because"}, "effect_source"),
    ({"effect_low": 5.0}, "must hold value 4"),
    ({"effect_high": 3.0}, "must hold value 4"),
    ({"cost_low": None, "cost_high": None}, "needs cost_low and cost_high"),
    ({"cost_high": 5e5}, "must hold yearly_cost_yuan"),
])
def test_a_lever_without_evidence_or_range_is_an_input_error(changes: dict, words: str) -> None:
    data = _with(**changes)
    for k, v in changes.items():
        if v is None:
            del data["levers"][0][k]
    with pytest.raises(InputError, match=r"levers\[0\]") as exc:
        scenario_from_dict(data)
    assert words in str(exc.value) and "\n" not in str(exc.value)


def test_every_shipped_lever_has_a_source_and_a_range_holding_its_value() -> None:
    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        for lv in load_scenario(path).levers:
            assert lv.effect_source[:3] in ("DOC", "DER", "ASM"), (path.name, lv.id)
            assert lv.effect_low <= lv.value <= lv.effect_high, (path.name, lv.id)
            assert lv.effect_low < lv.effect_high, (path.name, lv.id)  # a range, not a point
            if lv.cost_source.startswith("ASM"):
                assert lv.cost_low is not None and lv.cost_high is not None
                assert lv.cost_low <= lv.yearly_cost_yuan <= lv.cost_high and lv.cost_low < lv.cost_high


def test_new_keys_stand_directly_after_value_in_every_group_file() -> None:
    for name in GROUP_FILES:
        text = (ROOT / "scenarios" / name).read_text(encoding="utf-8")
        for block in text.split("[[levers]]")[1:]:
            keys = [ln.split(" = ")[0] for ln in block.strip().splitlines() if " = " in ln]
            i = keys.index("value")
            assert keys[i + 1:i + 4] == ["effect_source", "effect_low", "effect_high"], (name, keys)


def test_variants_carry_the_ranges_scaled_with_the_money(tmp_path: Path) -> None:
    groups = [load_scenario(ROOT / "scenarios" / f) for f in GROUP_FILES]
    base = load_scenario(ROOT / "scenarios" / "baseline.toml")
    texts = variant_texts(groups, base.params, 3_000_000.0)
    src = {lv.id: lv for sc in groups for lv in sc.levers}
    all_five = tomllib.loads(texts["all_five.toml"])["levers"]
    for lv in all_five:  # all five: the group files' levers unchanged
        for k in ("effect_source", "effect_low", "effect_high", "cost_low", "cost_high"):
            assert lv.get(k) == getattr(src[lv["id"]], k), (lv["id"], k)
    for name, text in texts.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "baseline.toml").write_text((ROOT / "scenarios" / "baseline.toml").read_text(encoding="utf-8"),
                                            encoding="utf-8")
    eq = load_scenario(tmp_path / "eq_talent.toml")
    for lv in eq.levers:
        orig = src[lv.id]
        f = lv.yearly_cost_yuan / orig.yearly_cost_yuan
        assert lv.effect_low <= lv.value <= lv.effect_high
        assert lv.cost_low == pytest.approx(orig.cost_low * f) and lv.cost_high == pytest.approx(orig.cost_high * f)
        if lv.mode == "add":
            assert lv.effect_high == pytest.approx(orig.effect_high * f)
