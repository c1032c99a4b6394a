"""Scenarios: base parameters plus costed policy levers, read from TOML.

A scenario file has three parts::

    [scenario]            # id, names and description in Chinese and English
    [params.<group>]      # overrides of parameter defaults (sim.params)
    [[levers]]            # policy levers: what changes, by how much, from when, at what cost

A *lever* is one of the report's recommendations made concrete: it names the
parameter it acts on, a mode (``add``, ``multiply`` or ``set``), a size, the
first year it acts (phased in linearly over ``phase_in_years``) and its yearly
cost in yuan with the source of that cost.

Every problem in a file is reported as :class:`InputError`: one line naming the
file, the key and what is allowed.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from sim.errors import InputError
from sim.params import GROUPS, Params

LEVER_GROUPS = ("awareness", "platforms", "talent", "intermediaries", "finance")
LEVER_GROUPS_ZH = ("增强企业创新意识", "加强创新平台建设", "加大人才培养使用", "完善中介服务体系", "强化财政金融保障")
#: Parameters a lever may not touch: they fix the calendar, the initial firm
#: population or the keyed-stream layout, which must be the same in every
#: scenario for paired comparisons.
FROZEN_GROUPS = ("time", "firms")
FROZEN_PARAMS = ("supply.thinning_ceiling", "hightech.initial_stock", "hightech.validity_years")
#: The five group scenarios of the report's section 三, one file each, in the report's order (一)–(五).
GROUP_FILES: tuple[str, ...] = ("g1_awareness.toml", "g2_platforms.toml", "g3_talent.toml",
                                "g4_intermediaries.toml", "g5_finance.toml")


class Lever(BaseModel):
    """One costed policy lever (政策杠杆)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    name_en: str = Field(min_length=1)
    name_zh: str = Field(min_length=1)
    group: Literal["awareness", "platforms", "talent", "intermediaries", "finance"]
    param: str = Field(min_length=3, description="parameter acted on, as group.name")
    mode: Literal["add", "multiply", "set"]
    value: float
    effect_source: str = Field(min_length=5, pattern=r"^(DOC|DER|ASM)\b",
                               description="where the size comes from: DOC/DER/ASM tag and reference")
    effect_low: float = Field(description="low end of the plausible size, in the units of value")
    effect_high: float = Field(description="high end of the plausible size, in the units of value")
    cost_low: float | None = Field(None, ge=0, le=1e11, description="low end of an assumed (ASM) yearly cost, yuan")
    cost_high: float | None = Field(None, ge=0, le=1e11, description="high end of an assumed (ASM) yearly cost, yuan")
    start_year: int | None = Field(None, ge=2000, le=2100, description="default: time.policy_start_year")
    phase_in_years: int = Field(1, ge=1, le=20)
    yearly_cost_yuan: float = Field(ge=0, le=1e11)
    cost_source: str = Field(min_length=3, description="DOC/DER/ASM tag and reference")
    rationale_en: str = ""
    rationale_zh: str = ""
    report_ref: str = ""
    max_intensity: float | None = Field(None, ge=1, le=10, description="largest intensity `convsim optimise` may "
                                        "choose (1 = the lever as written; default 1)")
    max_intensity_source: str = Field("", description="DOC/DER/ASM tag and reason for max_intensity")
    cost_exponent: float | None = Field(None, ge=0.5, le=3, description="cost at intensity k is "
                                        "yearly_cost_yuan × k ** cost_exponent (default 1: linear)")

    @model_validator(mode="after")
    def _known_param(self) -> Lever:
        group, _, name = self.param.partition(".")
        if group not in GROUPS or name not in Params.model_fields[group].annotation.model_fields:  # type: ignore[union-attr]
            raise ValueError(f"unknown parameter {self.param!r}")
        if group in FROZEN_GROUPS or self.param in FROZEN_PARAMS:
            raise ValueError(f"parameter {self.param!r} is fixed across scenarios and cannot be a lever")
        ann = Params.model_fields[group].annotation.model_fields[name].annotation  # type: ignore[union-attr]
        if ann not in (int, float):
            raise ValueError(f"parameter {self.param!r} is not a number")
        if not math.isfinite(self.value):
            raise ValueError("value must be finite")
        return self._check_ranges()

    def _check_ranges(self) -> Lever:
        """The plausible range of the effect (and of an assumed cost) must hold the central value."""
        if not (math.isfinite(self.effect_low) and math.isfinite(self.effect_high)):
            raise ValueError(f"lever {self.id!r}: effect_low and effect_high must be finite")
        if not self.effect_low <= self.value <= self.effect_high:
            raise ValueError(f"lever {self.id!r}: effect range {self.effect_low:g}–{self.effect_high:g} must hold "
                             f"value {self.value:g} (effect_low ≤ value ≤ effect_high)")
        if self.cost_source.startswith("ASM") and (self.cost_low is None or self.cost_high is None):
            raise ValueError(f"lever {self.id!r}: an assumed cost (cost_source ASM) needs cost_low and cost_high, "
                             "the plausible range of yearly_cost_yuan")
        if (self.cost_low is None) != (self.cost_high is None):
            raise ValueError(f"lever {self.id!r}: give both cost_low and cost_high, or neither")
        if self.cost_low is not None and self.cost_high is not None \
                and not self.cost_low <= self.yearly_cost_yuan <= self.cost_high:
            raise ValueError(f"lever {self.id!r}: cost range {self.cost_low:,.0f}–{self.cost_high:,.0f} must hold "
                             f"yearly_cost_yuan {self.yearly_cost_yuan:,.0f}")
        if self.max_intensity is not None and len(self.max_intensity_source) < 3:
            raise ValueError(f"lever {self.id!r}: max_intensity needs max_intensity_source "
                             "(DOC/DER/ASM tag and reason)")
        if self.mode == "multiply" and self.value < 1 and 1 + (self.value - 1) * (self.max_intensity or 1) <= 0:
            raise ValueError(f"lever {self.id!r}: at max_intensity the factor 1 + (value − 1) × intensity must stay "
                             "above 0")
        return self

    @property
    def intensity_max(self) -> float:
        """The largest intensity the optimiser may choose (1 when the file states none)."""
        return self.max_intensity if self.max_intensity is not None else 1.0

    def cost_at(self, intensity: float) -> float:
        """Yearly cost (yuan) at ``intensity`` (1 = as written): linear unless ``cost_exponent`` says otherwise."""
        if intensity <= 0:
            return 0.0
        return self.yearly_cost_yuan * intensity ** (self.cost_exponent or 1.0)


class Named(BaseModel):
    """What identifies a scenario or a sweep: a short id and its names in English and Chinese."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    name_en: str = Field(min_length=1)
    name_zh: str = Field(min_length=1)


class ScenarioMeta(Named):
    """Who a scenario is and what it stands for."""

    description_en: str = ""
    description_zh: str = ""
    group: Literal["baseline", "awareness", "platforms", "talent", "intermediaries", "finance",
                   "combined", "equal_budget", "custom"] = "custom"
    base: str | None = Field(None, description="scenario file this one builds on (relative to this file): "
                             "its parameters and levers come first")


class Scenario(BaseModel):
    """A scenario: base parameters and levers."""

    model_config = ConfigDict(extra="forbid", strict=True)

    scenario: ScenarioMeta
    params: Params = Field(default_factory=Params)
    levers: list[Lever] = Field(default_factory=list)
    #: where the scenario came from (its file, or how it was derived), for messages and manifests
    _source: str = PrivateAttr("<scenario>")

    @property
    def source(self) -> str:
        """The file this scenario was read from, or how it was made."""
        return self._source

    @model_validator(mode="after")
    def _unique_levers(self) -> Scenario:
        ids = [lv.id for lv in self.levers]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"lever ids must be unique; repeated: {', '.join(sorted(dup))}")
        for i, lv in enumerate(self.levers):
            start = lv.start_year if lv.start_year is not None else self.params.time.policy_start_year
            if start < self.params.time.policy_start_year:
                # a lever acting in the calibration window would change what is checked against the report,
                # and its cost would fall outside every comparison's window
                raise ValueError(f"levers[{i}].start_year: lever {lv.id!r} starts in {start}, before the policy period "
                                 f"starts (time.policy_start_year = {self.params.time.policy_start_year}); "
                                 "policies act from the policy start on")
            if start > self.params.time.horizon_year:
                raise ValueError(f"levers[{i}].start_year: lever {lv.id!r} starts in {start}, after the horizon "
                                 f"{self.params.time.horizon_year}")
        return self

    @property
    def id(self) -> str:
        return self.scenario.id

    def yearly_cost(self, year: int) -> float:
        """Total cost of all levers in one calendar year (yuan)."""
        total = 0.0
        for lv in self.levers:
            start = lv.start_year if lv.start_year is not None else self.params.time.policy_start_year
            if year >= start:
                total += lv.yearly_cost_yuan
        return total


def _walk(loc: tuple[Any, ...], root: Any = None) -> tuple[Any, Any]:
    """Follow a location through a schema (default: the scenario's): (model reached, FieldInfo of the last key)."""
    model: Any = root or Scenario
    info = None
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return None, None
        info = fields[part]
        ann = info.annotation
        args = getattr(ann, "__args__", None)
        model = args[0] if args and hasattr(args[0], "model_fields") else ann
    return model, info


def _allowed(loc: tuple[Any, ...], root: Any = None) -> str:
    """What keys are allowed where the last key of ``loc`` stands."""
    model, _ = _walk(loc[:-1], root)
    fields = getattr(model, "model_fields", None)
    return ", ".join(fields) if fields else ""


def _range_text(loc: tuple[Any, ...], root: Any = None) -> str:
    _, info = _walk(loc, root)
    if info is None:
        return ""
    lo = hi = None
    for m in info.metadata:
        lo = getattr(m, "ge", lo)
        hi = getattr(m, "le", hi)
    if lo is None and hi is None:
        return ""
    return f" (allowed range {'-inf' if lo is None else f'{lo:g}'} to {'inf' if hi is None else f'{hi:g}'})"


def one_line(path: Path, err: ValidationError, root: Any = None) -> str:
    """A validation error as one line: file, key, what is allowed (``root``: the schema, default the scenario's)."""
    e = err.errors()[0]
    loc = tuple(e["loc"])
    key = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[") or "(top level)"
    if e["type"] == "extra_forbidden":
        what = f"unknown key; allowed here: {_allowed(loc, root)}"
    elif e["type"] == "missing":
        what = "required key is missing"
    else:
        what = e["msg"].removeprefix("Value error, ")
        # a check across several keys names its key at the start of its message ("factors[1]: …")
        head = re.match(r"^([\w.\[\]]+): (.*)$", what)
        if head and not loc:
            key, what = head.group(1), head.group(2)
        ctx = e.get("ctx") or {}
        if "ge" in ctx or "le" in ctx:
            what += _range_text(loc, root)
        if "input" in e and e["type"] != "value_error":
            what += f"; got {e['input']!r}"
    more = f" (and {len(err.errors()) - 1} more problem(s))" if len(err.errors()) > 1 else ""
    return f"{path}: key '{key}': {what}{more}"


def load_scenario(path: str | Path, _chain: tuple[Path, ...] = ()) -> Scenario:
    """Read and validate a scenario file; raise :class:`InputError` with one clear line.

    ``_chain`` holds the files that build on this one (``scenario.base``), to refuse cycles.
    """
    from sim.checks import read_toml_input

    p = Path(path)
    data = read_toml_input(p, "a scenario .toml file")
    base = (data.get("scenario") or {}).get("base") if isinstance(data.get("scenario"), dict) else None
    if base is not None:
        if not isinstance(base, str):
            raise InputError(f"{p}: key 'scenario.base': must be a file name (string)")
        base_path = (p.parent / base).resolve()
        chain = (*_chain, p.resolve())
        if base_path in chain:
            raise InputError(f"{p}: key 'scenario.base': a scenario cannot build on itself "
                             f"({' → '.join(c.name for c in (*chain, base_path))})")
        try:
            parent = load_scenario(base_path, chain)
        except InputError as exc:
            raise InputError(f"{p}: key 'scenario.base': {exc}") from None
        data = merge_with_base(parent, data)
    return scenario_from_dict(data, p)


def merge_with_base(parent: Scenario, data: dict[str, Any]) -> dict[str, Any]:
    """The child's data on top of its base: parameters overridden key by key, levers appended."""
    merged = parent.model_dump(mode="python")
    params = merged["params"]
    child_params = data.get("params", {})
    if isinstance(child_params, dict):
        for g, kv in child_params.items():
            if isinstance(kv, dict) and isinstance(params.get(g), dict):
                params[g] = {**params[g], **kv}
            else:
                params[g] = kv
    out = dict(data)
    out["params"] = params
    child = data.get("levers", [])
    # anything but a list is left for validation to refuse in one line
    out["levers"] = merged["levers"] + child if isinstance(child, list) else child
    return out


def scenario_from_dict(data: dict[str, Any], path: str | Path = "<scenario>") -> Scenario:
    """Validate a scenario given as a dictionary (as TOML would give it)."""
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as err:
        raise InputError(one_line(Path(path), err)) from None
    sc._source = str(path)
    return sc


def with_horizon(sc: Scenario, horizon: int, source: str = "<scenario>") -> Scenario:
    """The scenario simulated to ``horizon`` (its last year), validated again (``--horizon``).

    A longer horizon judges slow measures (R&D institutions, talent) over 2023–2032 as well as 2023–2027.
    """
    data = sc.model_dump(mode="python")
    data["params"]["time"]["horizon_year"] = horizon
    try:
        out = Scenario.model_validate(data)
        out._source = sc.source
        return out
    except ValidationError as err:
        raise InputError(f"--horizon {horizon}: " + one_line(Path(source), err)) from None


def baseline_scenario() -> Scenario:
    """The status quo with every parameter at its default and no levers."""
    return Scenario(scenario=ScenarioMeta(id="defaults", name_en="Defaults", name_zh="默认参数",
                                          group="baseline", base=None))
