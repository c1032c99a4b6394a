"""The search space: every paid lever of the five group scenarios, at an intensity.

A lever's *intensity* ``k`` is 0 (off), 1 (as written in its group file) or
anything up to the file's ``max_intensity``. At intensity ``k``:

- ``add`` adds ``k × value``;
- ``multiply`` multiplies by ``1 + (value − 1) × k`` (the extra effect is
  proportional to money, the rule of the equal-budget variants and of the
  phase-in; MODEL.md §3.7 says why not ``value ** k``);
- ``set`` moves the parameter from its baseline value ``b`` to ``b + (value − b) × k``;
- the yearly cost is ``yearly_cost_yuan × k ** cost_exponent`` (linear by default).

Levers that add to a whole-number parameter (brokers, pilot lines, agencies,
events) are bought in whole units: their intensity is ``units / value`` and
their cost ``units × cost per unit``, so a capacity is never paid for in part.
Levers declared at zero cost (paid per project; their cost is measured as
extra payouts in the comparison) cannot be bought with a budget and are left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.budget import WHOLE_NUMBER_PARAMS
from sim.params import Params
from sim.scenario import InputError, Lever, Scenario, ScenarioMeta
from sim.table import build_table

#: Intensities below this count as off.
TINY = 1e-9
#: A mix: lever id → intensity (levers not named are off).
Mix = dict[str, float]


def max_cost(sc: Scenario) -> float:
    """A scenario's largest yearly lever cost over its policy years (yuan)."""
    t = sc.params.time
    return max((sc.yearly_cost(y) for y in range(t.policy_start_year, t.horizon_year + 1)), default=0.0)


@dataclass(frozen=True)
class Dim:
    """One lever of the search space."""

    lever: Lever
    source: str  # group scenario id
    whole: bool  # bought in whole units of ``lever.value``

    @property
    def id(self) -> str:
        return self.lever.id

    @property
    def max_units(self) -> int:
        """For a whole-number lever: the most units the maximum intensity allows."""
        return int(math.floor(self.lever.intensity_max * self.lever.value + 1e-9))

    @property
    def k_max(self) -> float:
        return self.max_units / self.lever.value if self.whole else self.lever.intensity_max

    def snap(self, k: float) -> float:
        """The intensity clipped to [0, max] and, for whole-number levers, rounded down to whole units."""
        k = min(max(k, 0.0), self.k_max)
        if self.whole:
            return math.floor(k * self.lever.value + 1e-9) / self.lever.value
        return k if k > TINY else 0.0

    def cost(self, k: float) -> float:
        return self.lever.cost_at(k)


class Space:
    """The paid levers of the group scenarios and the baseline they act on."""

    def __init__(self, groups: list[Scenario], baseline: Scenario, baseline_source: str = "<baseline>") -> None:
        self.baseline = baseline
        self.baseline_source = baseline_source
        self.dims: list[Dim] = []
        for sc in groups:
            for lv in sc.levers:
                if lv.yearly_cost_yuan <= 0:
                    continue
                whole = lv.mode == "add" and lv.param in WHOLE_NUMBER_PARAMS
                if whole and (lv.value <= 0 or lv.value != round(lv.value)):
                    raise InputError(f"{sc.id}: key 'levers.{lv.id}.value': a lever on {lv.param} buys whole units "
                                     "and must add a positive whole number")
                self.dims.append(Dim(lv, sc.id, whole))
        ids = [d.id for d in self.dims]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise InputError(f"lever ids must be unique across the group scenarios; repeated: {', '.join(sorted(dup))}")
        params = [d.lever.param for d in self.dims]
        # levers that add to one parameter compose (their sizes add up); any other pair would depend on their order
        dup = {p for p in params if params.count(p) > 1
               and any(d.lever.mode != "add" for d in self.dims if d.lever.param == p)}
        if dup:
            raise InputError(f"two levers act on the same parameter ({', '.join(sorted(dup))}); "
                             "the optimiser needs one lever per parameter unless all of them add")
        if not self.dims:
            raise InputError("the group scenarios have no lever with a yearly cost: nothing to optimise")
        self.by_id = {d.id: d for d in self.dims}

    def check_maxima(self) -> None:
        """Each lever alone at its maximum intensity must give a valid parameter table (ranges, ceilings)."""
        for d in self.dims:
            try:
                build_table(self.scenario({d.id: d.k_max}), f"{d.source}.toml")
            except InputError as exc:
                raise InputError(f"lever {d.id!r} at max_intensity {d.lever.intensity_max:g}: {exc}") from None

    def snap(self, mix: Mix) -> Mix:
        """Every lever of the space, snapped (clipped; whole units rounded down)."""
        unknown = set(mix) - set(self.by_id)
        if unknown:
            raise KeyError(f"unknown lever(s): {', '.join(sorted(unknown))}")
        return {d.id: d.snap(mix.get(d.id, 0.0)) for d in self.dims}

    def yearly_costs(self, mix: Mix) -> dict[int, float]:
        """Cost of the (snapped) mix in every policy year (yuan): a lever costs from its first year on."""
        p = self.baseline.params.time
        out = {}
        for y in range(p.policy_start_year, p.horizon_year + 1):
            total = 0.0
            for d in self.dims:
                start = d.lever.start_year if d.lever.start_year is not None else p.policy_start_year
                if y >= start:
                    total += d.cost(d.snap(mix.get(d.id, 0.0)))
            out[y] = total
        return out

    def max_yearly_cost(self, mix: Mix) -> float:
        return max(self.yearly_costs(mix).values(), default=0.0)

    def repair(self, mix: Mix, budget: float) -> Mix:
        """A feasible mix: the snapped mix, or, if it costs more than ``budget`` in some year, every
        intensity scaled by the largest common factor that fits (whole units rounded down)."""
        m = self.snap(mix)
        if self.max_yearly_cost(m) <= budget:
            return m
        lo, hi = 0.0, 1.0
        for _ in range(60):  # bisection on the common factor
            mid = 0.5 * (lo + hi)
            if self.max_yearly_cost(self.snap({i: k * mid for i, k in m.items()})) <= budget:
                lo = mid
            else:
                hi = mid
        # continuous intensities rounded down to 1e-4: readable files, still within the budget
        out = self.snap({i: (k * lo if self.by_id[i].whole else math.floor(k * lo * 1e4) / 1e4) for i, k in m.items()})
        assert self.max_yearly_cost(out) <= budget
        return out

    def single(self, lever_id: str, budget: float) -> Mix:
        """One lever alone at the largest intensity the budget affords (all others off)."""
        d = self.by_id[lever_id]
        lo, hi = 0.0, d.k_max
        if self.max_yearly_cost({lever_id: hi}) <= budget:
            return self.snap({lever_id: hi})
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if self.max_yearly_cost({lever_id: d.snap(mid)}) <= budget:
                lo = mid
            else:
                hi = mid
        return self.snap({lever_id: lo})

    def levers(self, mix: Mix, note: bool = False) -> list[Lever]:
        """The levers of a mix, resized to their intensities (levers at 0 left out)."""
        out = []
        base = self.baseline.params
        for d in self.dims:
            k = d.snap(mix.get(d.id, 0.0))
            if k <= 0:
                continue
            out.append(resized(d.lever, k, base, d.source if note else None))
        return out

    def scenario(self, mix: Mix, meta: ScenarioMeta | None = None) -> Scenario:
        """The baseline with the mix's levers added."""
        meta = meta or ScenarioMeta(id="mix", name_en="Mix", name_zh="组合", group="custom", base=None)
        return self.baseline.model_copy(update={"scenario": meta,
                                                "levers": [*self.baseline.levers, *self.levers(mix)]})


def _base_value(params: Params, name: str) -> float:
    g, f = name.split(".")
    return float(getattr(getattr(params, g), f))


def resized(lv: Lever, k: float, params: Params, source: str | None = None) -> Lever:
    """``lv`` at intensity ``k``: its size (and its plausible range) by the rule of its mode
    (:func:`sim.derived.scaled_lever`), its cost (and its range) by its cost curve."""
    from sim.derived import scaled_lever

    sized = scaled_lever(lv, k, params)
    value = sized.value
    if lv.mode == "add" and lv.param in WHOLE_NUMBER_PARAMS:
        value = float(round(value))
    value = float(f"{value:.10g}")  # printable numbers: 10 significant digits for the size
    cost = math.floor(lv.cost_at(k) * 100) / 100  # rounded down to the fen
    update: dict[str, object] = {"value": value, "effect_low": min(sized.effect_low, value),
                                 "effect_high": max(sized.effect_high, value), "yearly_cost_yuan": cost,
                                 "max_intensity": None, "max_intensity_source": "", "cost_exponent": None}
    if lv.cost_low is not None and lv.cost_high is not None:
        f = cost / lv.yearly_cost_yuan if lv.yearly_cost_yuan > 0 else 0.0
        update.update(cost_low=min(lv.cost_low * f, cost), cost_high=max(lv.cost_high * f, cost))
    if source is not None and value != lv.value:
        # the source's words are written for its size: the text says the size this lever has
        from sim.labels import sized_rationale

        update["rationale_en"], update["rationale_zh"] = sized_rationale(
            lv, lv.model_copy(update={"value": value}), params,
            f"optimised mix, intensity {k:.3g} of lever {lv.id} of {source}",
            f"优化组合,强度为{source}中该措施的{k:.3g}倍")
    elif source is not None:
        update["rationale_en"] = f"{lv.rationale_en} [Optimised mix: lever {lv.id} of {source} at its size.]"
        update["rationale_zh"] = f"{lv.rationale_zh}[优化组合:{source}中该措施,规模不变。]"
        if k != 1:
            update["cost_source"] = f"{lv.cost_source} (× intensity {k:.3g})"
    return lv.model_copy(update=update)
