"""Scenario families: all five groups together, and equal-budget variants.

An *equal-budget variant* of a recommendation group spends the same extra
yuan a year as every other group's variant, so groups can be compared per
yuan. Each lever's size is scaled with its cost (ASM: effect proportional to
money within the range considered). Levers whose size must be a whole number
(brokers, pilot slots, events) are rounded first, and the continuous levers of
the group absorb the remainder, so the total is the budget exactly. Levers
declared at zero cost (paid per project, their cost measured in the
comparison) cannot be bought with a budget and are left out.

``convsim variants`` writes these files into ``scenarios/``; a test checks the
shipped files are what the generator writes.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.params import CAPACITIES, Params
from sim.scenario import LEVER_GROUPS, LEVER_GROUPS_ZH, Lever, Scenario, ScenarioMeta, load_scenario

#: Parameters that only take whole numbers where a lever adds to them.
WHOLE_NUMBER_PARAMS = (*CAPACITIES, "supply.events_per_year", "supply.offers_per_event")
#: Default extra budget of the equal-budget variants, yuan a year (ASM: about a third of today's fund).
DEFAULT_BUDGET = 3_000_000.0


def _base_value(params: Params, name: str) -> float:
    g, f = name.split(".")
    return float(getattr(getattr(params, g), f))


def _size(lv: Lever, x: float, f: float, params: Params) -> float:
    """A size ``x`` of the lever (its value or either end of its range) scaled with money by ``f``."""
    if lv.mode == "add":
        return x * f
    if lv.mode == "multiply":
        return 1.0 + (x - 1.0) * f
    base = _base_value(params, lv.param)
    return base + (x - base) * f


def _scaled(lv: Lever, f: float, params: Params) -> Lever:
    """The lever at ``f`` times its cost: size, plausible effect range and cost range scale alike."""
    value = _size(lv, lv.value, f, params)
    note = f" [Equal-budget variant: size {value:.4g}, cost × {f:.3g}.]"
    note_zh = f"[等额投入方案:规模{value:.4g},成本×{f:.3g}。]"
    update: dict[str, Any] = {
        "value": value, "yearly_cost_yuan": lv.yearly_cost_yuan * f,
        "effect_low": _size(lv, lv.effect_low, f, params), "effect_high": _size(lv, lv.effect_high, f, params),
        "rationale_en": lv.rationale_en + note, "rationale_zh": lv.rationale_zh + note_zh}
    if lv.cost_low is not None and lv.cost_high is not None:
        update.update(cost_low=lv.cost_low * f, cost_high=lv.cost_high * f)
    return lv.model_copy(update=update)


def equal_budget(group_sc: Scenario, budget: float, params: Params) -> list[Lever]:
    """The group's levers resized so that their yearly costs add up to ``budget``."""
    paid = [lv for lv in group_sc.levers if lv.yearly_cost_yuan > 0]
    total = sum(lv.yearly_cost_yuan for lv in paid)
    if total <= 0:
        raise ValueError(f"scenario {group_sc.id} has no lever with a cost")
    f0 = budget / total
    whole = [lv for lv in paid if lv.param in WHOLE_NUMBER_PARAMS and lv.mode == "add"]
    cont = [lv for lv in paid if lv not in whole]
    out: dict[str, Lever] = {}
    spent = 0.0
    for lv in whole:
        size = max(1.0, float(round(lv.value * f0)))
        g = size / lv.value
        new = _scaled(lv, g, params)
        new = new.model_copy(update={"value": size, "rationale_en": new.rationale_en.replace(f"{new.value:.4g}",
                                                                                             f"{size:g}")})
        out[lv.id] = new
        spent += new.yearly_cost_yuan
    rest = sum(lv.yearly_cost_yuan for lv in cont)
    f1 = (budget - spent) / rest if rest > 0 else 0.0
    if f1 < 0 or (rest == 0 and not math.isclose(spent, budget, rel_tol=0.01)):
        raise ValueError(f"budget {budget:.0f} cannot be met for {group_sc.id}")
    for lv in cont:
        out[lv.id] = _scaled(lv, f1, params)
    return [out[lv.id] for lv in paid]


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else ("inf" if v > 0 else "-inf")
    return json.dumps(str(v), ensure_ascii=False)


def scenario_toml(meta: dict[str, Any], levers: list[Lever], header: str) -> str:
    """A scenario file (scenario table and levers; parameters come from its base)."""
    lines = [f"# {ln}" if ln else "#" for ln in header.splitlines()]
    lines += ["", "[scenario]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in meta.items() if v is not None]
    for lv in levers:
        lines += ["", "[[levers]]"]
        for k, v in lv.model_dump(mode="python").items():
            if v is None or v == "":
                continue
            lines.append(f"{k} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"


GENERATED = "# Generated by `convsim variants`"


def variant_texts(groups: list[Scenario], params: Params, budget: float) -> dict[str, str]:
    """File name → text of ``all_five.toml`` and one ``eq_<group>.toml`` per group (nothing written)."""
    texts: dict[str, str] = {}
    header = ("Generated by `convsim variants` from the five group scenarios (g1–g5); do not edit by hand.\n"
              "Lever texts and sources are those of the group files.")
    all_levers = [lv for sc in groups for lv in sc.levers]
    meta = ScenarioMeta(id="all_five", base="baseline.toml", group="combined",
                        name_en="All five recommendation groups together",
                        name_zh="五类对策同时实施",
                        description_en="Every lever of scenarios g1–g5 at once.",
                        description_zh="同时实施(一)至(五)各项措施。").model_dump(mode="python")
    texts["all_five.toml"] = scenario_toml(meta, all_levers, header)
    for sc in groups:
        gi = LEVER_GROUPS.index(sc.scenario.group)
        try:
            levers = equal_budget(sc, budget, params)
        except ValueError as exc:
            raise InputError(f"--budget {budget:,.0f}: {exc}") from None
        m = ScenarioMeta(id=f"eq_{sc.scenario.group}", base="baseline.toml", group="equal_budget",
                         name_en=f"Equal budget ({budget / 1e6:g} M yuan/year): {sc.scenario.group}",
                         name_zh=f"等额投入(每年{budget / 1e4:g}万元):{LEVER_GROUPS_ZH[gi]}",
                         description_en=f"The paid levers of {sc.id}, resized to cost {budget:,.0f} yuan a year "
                                        "in total (sizes scaled with cost).",
                         description_zh=f"{sc.id}中有成本的措施按每年{budget / 1e4:g}万元总投入等比例调整规模。"
                         ).model_dump(mode="python")
        texts[f"eq_{sc.scenario.group}.toml"] = scenario_toml(m, levers, header + f"\nBudget: {budget:,.0f} "
                                                                                   "yuan a year.")
    return texts


def write_variants(scenario_dir: Path, groups: list[Scenario], params: Params, budget: float) -> list[Path]:
    """Write ``all_five.toml`` and one ``eq_<group>.toml`` per group into ``scenario_dir``, all or nothing.

    Every file is first written under a temporary name and loaded as a scenario (with its parameter table
    built), so a budget that would give an invalid lever is an :class:`InputError` before anything is
    replaced; an existing file is replaced only if `convsim variants` wrote it (its first line says so).
    """
    from sim.table import build_table

    texts = variant_texts(groups, params, budget)
    for name in texts:
        target = scenario_dir / name
        if target.exists() and not _generated(target):
            raise InputError(f"{target}: exists and was not written by `convsim variants`; convsim never "
                             "overwrites it: move it or use another --dir")
    temps: dict[Path, Path] = {}
    try:
        for name, text in texts.items():
            tmp = scenario_dir / f".{name}.{os.getpid()}.tmp.toml"
            temps[scenario_dir / name] = tmp
            tmp.write_text(text, encoding="utf-8")
            try:
                build_table(load_scenario(tmp), name)
            except InputError as exc:
                raise InputError(f"--budget {budget:,.0f} gives an invalid {name}: {exc}") from None
        for target, tmp in temps.items():
            os.replace(tmp, target)
    finally:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)
    return list(temps)


def _generated(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as f:
            return f.readline().startswith(GENERATED)
    except (OSError, UnicodeDecodeError):
        return False
