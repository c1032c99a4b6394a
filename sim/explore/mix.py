"""The mix a planner builds: which measures, how strong, from when, with which assumed effect.

A :class:`Catalogue` holds every measure of the report's section 三 as written
in the five group scenarios (g1–g5). A :class:`Mix` says, for each measure,
whether it is on, its *intensity* (1 = as written in its group file, up to
its ``max_intensity``; size and cost scale as in the optimiser), its start
year and, optionally, the planner's own value of its effect. :meth:`Mix.scenario`
turns it into an ordinary validated :class:`~sim.scenario.Scenario`, and
:meth:`Mix.toml` into a self-contained scenario file that `convsim validate`
accepts and `convsim compare` runs to the same numbers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sim.explore import backend as be


@dataclass(frozen=True)
class Measure:
    """One measure of the catalogue: its lever as written, and whether it moves in whole units."""

    lever: be.Lever
    whole: bool

    @property
    def id(self) -> str:
        return self.lever.id

    @property
    def k_max(self) -> float:
        """The largest intensity (whole-number levers: the most whole units it allows)."""
        if self.whole:
            return math.floor(self.lever.intensity_max * self.lever.value + 1e-9) / self.lever.value
        return self.lever.intensity_max

    @property
    def k_step(self) -> float:
        """The intensity's step: one unit for whole-number levers, else a twentieth."""
        return 1.0 / self.lever.value if self.whole else 0.05

    def snap(self, k: float) -> float:
        k = min(max(k, 0.0), self.k_max)
        if self.whole:
            return math.floor(k * self.lever.value + 1e-9) / self.lever.value
        return k


class Catalogue:
    """The measures of the five group scenarios, grouped (一)–(五), and the baseline they act on."""

    def __init__(self, scenario_dir: Path) -> None:
        self.scenario_dir = scenario_dir
        self.baseline = be.load_scenario(scenario_dir / "baseline.toml")
        self.measures: list[Measure] = []
        for name in be.GROUP_FILES:
            for lv in be.load_scenario(scenario_dir / name).levers:
                self.measures.append(Measure(lv, be.whole_number(lv)))
        self.by_id = {m.id: m for m in self.measures}
        t = self.baseline.params.time
        self.first_year, self.last_year = t.policy_start_year, t.horizon_year

    def shipped(self) -> list[Path]:
        """The shipped scenario files (the baseline first)."""
        files = sorted(self.scenario_dir.glob("*.toml"))
        return sorted(files, key=lambda p: p.name != "baseline.toml")

    def group(self, g: str) -> list[Measure]:
        return [m for m in self.measures if m.lever.group == g]


@dataclass(frozen=True)
class Setting:
    """What the planner chose for one measure."""

    on: bool = False
    intensity: float = 1.0
    start_year: int | None = None
    effect: float | None = None
    """The planner's value of the effect at intensity 1 (None: the file's ``value``)."""


@dataclass
class Mix:
    """A planner's mix on top of a base scenario's parameters (the baseline's, or a loaded file's)."""

    catalogue: Catalogue
    settings: dict[str, Setting] = field(default_factory=dict)
    params: Any = None
    """The base parameters (``Params``); None: the baseline's."""
    extra: list[be.Lever] = field(default_factory=list)
    """Levers of a loaded file that are not in the catalogue, kept as they are."""
    name: str = "mix"

    # -- editing ---------------------------------------------------------------------------------------
    def setting(self, lever_id: str) -> Setting:
        return self.settings.get(lever_id, Setting())

    def set(self, lever_id: str, **changes: Any) -> None:
        """Change one measure's setting (``on``, ``intensity``, ``start_year``, ``effect``)."""
        m = self.catalogue.by_id[lever_id]
        s = replace(self.setting(lever_id), **changes)
        if "intensity" in changes:
            s = replace(s, intensity=m.snap(float(changes["intensity"])))
        self.settings[lever_id] = s

    def copy(self) -> Mix:
        return Mix(self.catalogue, dict(self.settings), self.params, list(self.extra), self.name)

    @property
    def on(self) -> list[str]:
        """The ids of the measures switched on (intensity above 0), in the catalogue's order."""
        return [m.id for m in self.catalogue.measures if self.setting(m.id).on and self.setting(m.id).intensity > 0]

    def outside_range(self, lever_id: str) -> bool:
        """Whether the planner's effect lies outside the plausible range stated with the measure."""
        s, lv = self.setting(lever_id), self.catalogue.by_id[lever_id].lever
        return s.effect is not None and not lv.effect_low <= s.effect <= lv.effect_high

    # -- what the mix is -------------------------------------------------------------------------------
    def _params(self) -> Any:
        return self.params if self.params is not None else self.catalogue.baseline.params

    def params_or_default(self) -> Any:
        """The parameters the mix runs with (a loaded file's, else the baseline's)."""
        return self._params()

    def levers(self) -> list[be.Lever]:
        """The mix's levers: each catalogue lever at its intensity, from its start year, with its effect."""
        out = []
        for lid in self.on:
            lv, s = self.catalogue.by_id[lid].lever, self.setting(lid)
            if s.effect is not None and s.effect != lv.value:
                if not math.isfinite(s.effect):
                    raise be.InputError(f"{lid}: the effect must be a finite number, got {s.effect}")
                where = "inside" if lv.effect_low <= s.effect <= lv.effect_high else "OUTSIDE"
                lv = lv.model_copy(update={
                    "value": float(s.effect), "effect_low": min(lv.effect_low, s.effect),
                    "effect_high": max(lv.effect_high, s.effect),
                    "effect_source": f"ASM planner's value {s.effect:g}, {where} the stated range "
                                     f"{lv.effect_low:g}–{lv.effect_high:g} "
                                     f"(stated: {lv.value:g}; {lv.effect_source})"})
            sized = be.resized(lv, s.intensity, self._params())
            start = s.start_year if s.start_year is not None else lv.start_year
            update: dict[str, Any] = {"start_year": start}
            if sized.value != self.catalogue.by_id[lid].lever.value:
                # the shipped text is written for the shipped size; this one says the size it has
                why_en, why_zh = f"intensity {s.intensity:.3g}", f"强度{s.intensity:.3g}"
                if s.effect is not None and s.effect != self.catalogue.by_id[lid].lever.value:
                    why_en += f", the planner's effect {s.effect:g}"
                    why_zh += f",规划者设定的效果{s.effect:g}"
                update["rationale_en"], update["rationale_zh"] = be.sized_rationale(
                    self.catalogue.by_id[lid].lever, sized, self._params(), why_en, why_zh)
            out.append(sized.model_copy(update=update))
        return [*self.extra, *out]

    def scenario(self, scenario_id: str | None = None) -> be.Scenario:
        """The mix as a validated scenario (:class:`~sim.errors.InputError` naming the measure if not)."""
        sid = scenario_id or self.name
        en, zh = mix_names(sid)
        meta = {"id": sid, "name_en": en, "name_zh": zh, "group": "custom",
                "description_en": self.description("en"), "description_zh": self.description("zh")}
        data = {"scenario": meta, "params": self._params().model_dump(mode="python"),
                "levers": [lv.model_dump(mode="python") for lv in self.levers()]}
        sc = be.scenario_from_dict(data, f"<mix {sid}>")
        be.check_table(sc)
        return sc

    def description(self, lang: str) -> str:
        parts = []
        for lid in self.on:
            s = self.setting(lid)
            start = s.start_year if s.start_year is not None else self.catalogue.first_year
            parts.append(f"{lid}×{s.intensity:.3g}@{start}" + (f" effect={s.effect:g}" if s.effect is not None else ""))
        head = "由convsim explore生成:" if lang == "zh" else "Built with convsim explore: "
        return head + (", ".join(parts) or ("(无措施)" if lang == "zh" else "(no measure)"))

    def yearly_costs(self) -> dict[int, float]:
        """The mix's lever cost in every policy year (yuan)."""
        levers = self.levers()
        out: dict[int, float] = {}
        for y in range(self.catalogue.first_year, self.catalogue.last_year + 1):
            out[y] = sum(lv.yearly_cost_yuan for lv in levers
                         if y >= (lv.start_year if lv.start_year is not None else self.catalogue.first_year))
        return out

    def toml(self, scenario_id: str | None = None) -> str:
        """A self-contained scenario file of the mix: parameters that differ from the defaults, and the levers."""
        sc = self.scenario(scenario_id)
        meta = sc.scenario.model_dump(mode="python")
        meta.pop("base", None)
        text = be.scenario_toml(meta, sc.levers, "Written by `convsim explore`: a planner's mix of the report's "
                                "measures on top of the baseline.\nRun it with `convsim compare` beside "
                                "scenarios/baseline.toml; edit freely.")
        defaults = be.default_params().model_dump(mode="python")
        tables = []
        for group, values in sc.params.model_dump(mode="python").items():
            changed = {k: v for k, v in values.items() if defaults[group][k] != v}
            if changed:
                tables.append(f"[params.{group}]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in changed.items()))
        if not tables:
            return text
        # parameters go before the first lever so the file reads scenario, params, levers
        head, sep, rest = text.partition("\n[[levers]]")
        return head.rstrip("\n") + "\n\n" + "\n".join(tables) + (sep + rest if sep else "")

    # -- from a scenario ---------------------------------------------------------------------------------
    @classmethod
    def from_scenario(cls, catalogue: Catalogue, sc: be.Scenario) -> Mix:
        """The mix a scenario stands for: each catalogue lever at the intensity its cost gives (its size, for
        levers paid per project) and, if its size differs from that intensity's, with the planner's effect
        (the optimiser's ``best.toml``, an equal-budget variant, an exported mix); other levers are kept as
        they are."""
        mix = cls(catalogue, params=sc.params)
        for lv in sc.levers:
            m = catalogue.by_id.get(lv.id)
            found = _intensity(m.lever, lv, sc.params) if m is not None else None
            if m is None or found is None or not 0 <= found[0] <= m.k_max + 1e-9:
                mix.extra.append(lv)
                continue
            k, effect = found
            mix.settings[lv.id] = Setting(on=k > 0, intensity=m.snap(k) if m.whole else k, start_year=lv.start_year,
                                          effect=effect)
        return mix


def mix_names(sid: str) -> tuple[str, str]:
    """English and Chinese names of a mix by its id: ``mix`` is the planner's current mix, ``mix_<n>`` a kept one."""
    if sid.startswith("mix_") and sid[4:].isdigit():
        return f"Kept mix {sid[4:]}", f"保留组合{sid[4:]}"
    if sid == "mix":
        return "Planner's mix", "规划组合"
    return sid, sid


def _intensity(ref: be.Lever, lv: be.Lever, params: Any) -> tuple[float, float | None] | None:
    """The intensity of ``lv`` relative to ``ref`` and the effect at intensity 1 it implies if not ``ref``'s
    (None when they act on different parameters or in different ways)."""
    if (ref.param, ref.mode) != (lv.param, lv.mode):
        return None
    g, n = ref.param.split(".")
    base = {"add": 0.0, "multiply": 1.0}.get(ref.mode, float(getattr(getattr(params, g), n)))
    if ref.yearly_cost_yuan > 0:  # the cost says how much was bought (the optimiser floors it to the fen)
        k = float(f"{(lv.yearly_cost_yuan / ref.yearly_cost_yuan) ** (1 / (ref.cost_exponent or 1.0)):.6g}")
    elif ref.value != base:
        k = (lv.value - base) / (ref.value - base)
    else:
        return None
    if k <= 0:
        return (0.0, None)
    effect = base + (lv.value - base) / k
    return k, (None if math.isclose(effect, ref.value, rel_tol=1e-6, abs_tol=1e-9) else effect)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    s = re.sub(r"[\n\r\t]", " ", str(v)).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + s + '"'
