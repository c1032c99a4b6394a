"""Deriving scenarios: a scenario with a parameter changed, a lever added, scaled or removed.

An analyst's what-if is one call on an existing scenario; the result is a new,
fully validated :class:`~sim.scenario.Scenario` (the original is untouched),
so a derived scenario is checked exactly as a file would be::

    >>> import sim
    >>> base = sim.load_scenario("scenarios/baseline.toml")
    >>> more_brokers = sim.derive(base, id="brokers12", params={"meeting.brokers": 12})
    >>> more_brokers.params.meeting.brokers
    12.0
    >>> g4 = sim.load_scenario("scenarios/g4_intermediaries.toml")
    >>> half = sim.derive(g4, scale={"certified_brokers": 0.5})
    >>> [lv.value for lv in half.levers if lv.id == "certified_brokers"]
    [4.0]

Scaling a lever multiplies its effect as the equal-budget variants do (an
``add`` lever's size, a ``multiply`` lever's distance from 1, a ``set``
lever's distance from the base value) and its yearly cost by the same factor
(ASM: effect proportional to money within the range considered).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from sim.errors import InputError
from sim.params import Params
from sim.scenario import Lever, Scenario, scenario_from_dict


def derive(sc: Scenario, *, id: str | None = None, name_en: str | None = None, name_zh: str | None = None,
           params: Mapping[str, float] | None = None, add_levers: Iterable[Lever | Mapping[str, Any]] = (),
           scale: Mapping[str, float] | None = None, drop: Iterable[str] = ()) -> Scenario:
    """A new scenario from ``sc``: parameters set, levers scaled, dropped or added, all in one call.

    ``params`` maps ``"group.name"`` (see ``convsim params``) to a value;
    ``scale`` maps a lever id to a factor (0 switches it off, 2 doubles it);
    ``drop`` names levers to remove; ``add_levers`` are levers (objects or
    dictionaries with the keys of a ``[[levers]]`` table). The id defaults to
    ``<id>_derived``. Anything invalid is an :class:`~sim.errors.InputError`
    naming the key, as for a file.
    """
    data = copy.deepcopy(sc.model_dump(mode="python"))
    meta = data["scenario"]
    meta["id"] = id or f"{sc.id}_derived"[:64]
    meta["name_en"] = name_en or f"{sc.scenario.name_en} (derived)"
    meta["name_zh"] = name_zh or f"{sc.scenario.name_zh}(派生)"
    meta["group"] = "custom"
    for key, value in (params or {}).items():
        group, _, name = key.partition(".")
        if group not in data["params"] or name not in data["params"][group]:
            raise InputError(f"derive: key 'params.{key}': unknown parameter; see `convsim params` for the list")
        old = data["params"][group][name]
        data["params"][group][name] = type(old)(value) if isinstance(old, int | float) else value
    ids = {lv["id"] for lv in data["levers"]}
    for lid in [*(scale or {}), *drop]:
        if lid not in ids:
            raise InputError(f"derive: lever {lid!r}: not in scenario {sc.id!r} (levers: {', '.join(sorted(ids))})")
    dropped = set(drop)
    levers = []
    for lv, raw in zip(sc.levers, data["levers"], strict=True):
        if lv.id in dropped:
            continue
        if scale and lv.id in scale:
            raw = scaled_lever(lv, float(scale[lv.id]), sc.params).model_dump(mode="python")
        levers.append(raw)
    for new in add_levers:
        levers.append(new.model_dump(mode="python") if isinstance(new, Lever) else dict(new))
    data["levers"] = levers
    return scenario_from_dict(data, f"<derived from {sc.id}>")


def scaled_lever(lv: Lever, factor: float, params: Params) -> Lever:
    """``lv`` with its effect and its yearly cost multiplied by ``factor`` (see the module's docstring)."""
    if not factor >= 0:
        raise InputError(f"derive: scale[{lv.id!r}]: the factor must be a number ≥ 0, got {factor}")
    def size(x: float) -> float:  # the value, or either end of its plausible range, scaled alike
        if lv.mode == "add":
            return x * factor
        if lv.mode == "multiply":
            return 1.0 + (x - 1.0) * factor
        group, name = lv.param.split(".")
        base = float(getattr(getattr(params, group), name))
        return base + (x - base) * factor

    update: dict[str, Any] = {"value": size(lv.value), "yearly_cost_yuan": lv.yearly_cost_yuan * factor,
                              "effect_low": size(lv.effect_low), "effect_high": size(lv.effect_high)}
    if lv.cost_low is not None and lv.cost_high is not None:
        update.update(cost_low=lv.cost_low * factor, cost_high=lv.cost_high * factor)
    return lv.model_copy(update=update)
