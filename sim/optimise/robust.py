"""Mixes judged over worlds of uncertainty (``convsim optimise --worlds N --risk mean|p10|regret``).

A world (:mod:`sim.analysis.worlds`) is one calibrated parameter set and one
draw of every lever's effect and cost from its range, keyed by (seed, world,
lever id). A mix's levers are its group files' levers at an intensity; in a
world each takes the world's draw for that lever, scaled by the intensity as
its mechanism says (:func:`~sim.optimise.space.resized` scales the stated size
and both ends of its range alike, so drawing from the scaled range is the
world's draw scaled: ``add`` k × x, ``multiply`` 1 + (x − 1) × k, ``set`` k of
the way). The same lever therefore has the same luck in every mix, in the best
single lever and in the shipped scenarios that hold it.

A draw is **capped at its parameter's allowed range** (e.g. 24 promotion events a
year): a mix near a lever's maximum intensity, in a world where the lever's
effect is drawn high, would otherwise ask for more than the model (and the
city) can hold. Capping only ever binds for such mixes; its yearly cost is the
world's drawn cost all the same (the money is spent, the extra buys nothing).

The search's objective is the **mean** or the **10th percentile** (``p10``: the
bad tail, numpy's linear interpolation between order statistics) over the
search worlds of each world's mean paired Δ against the baseline (signed so
that more is better), or the **90th-percentile regret** (``regret``, minimised:
the search maximises its negative). A mix's regret in a world is the best
outcome among the *comparison set* in that world minus the mix's own: the
comparison set is doing nothing more (gain 0), every shipped scenario within
the budget at its stated costs and every single lever at the largest
intensity the budget affords (:func:`comparison_set`), as fixed alternatives a
planner could pick instead. Regret is measured *against* that set, the mix not
in it, so it is negative where the mix beats every alternative (a choice
that is itself in the set has regret ≥ 0, exactly its ``regret`` of
:mod:`sim.analysis.robustness`); the search therefore keeps improving past the
point where the mix beats them all. Each alternative runs once per (world,
replication), on the same replication numbers as every trial (common random
numbers), and is kept: its cost is that of as many extra trials run to the
last rung. Every mix runs in the same worlds on the same
replication numbers, so differences between mixes are paired within each
world. Successive halving runs over worlds × replications: a third of the worlds
with a third of the replications, then every world with a third of the
replications, then every world with all of them (≈ 1/9, 1/3 and all of the work).

Three disjoint sets of worlds, never mixed: the search worlds (numbers
0 … N − 1), the selection worlds that pick among the finalists
(:data:`SELECT_WORLD_FIRST` on), and the fresh worlds of the re-estimate
(:data:`FRESH_WORLD_FIRST` on), so the reported figures are not those used to
choose (the optimiser's curse applies to worlds as much as to replications).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence
from functools import partial

import numpy as np
import pandas as pd

from sim.analysis.worlds import World, lever_in_world, scenario_in_world
from sim.experiment import Run
from sim.optimise.evaluate import CENTRAL, REDUCTION, Evaluator, Rung
from sim.optimise.space import Space, max_cost
from sim.params import parameter_rows
from sim.scenario import Lever, Scenario
from sim.table import PIDX, ceilings, channel_efforts, channel_rates, raw_table

#: What the search may optimise over worlds.
RISKS = ("mean", "p10", "regret")
#: Quantile of the ``p10`` objective.
P10 = 0.10
#: Quantile of the ``regret`` objective (as ``regret_p90`` of ``convsim compare --worlds``).
REGRET_Q = 0.90
#: World numbers of the selection worlds (finalists) and of the fresh worlds (re-estimate).
SELECT_WORLD_FIRST = 500_000
FRESH_WORLD_FIRST = 1_000_000
#: Cost draws for the budget risk of a mix (ASM: 2,000 gives the 95th percentile of the yearly cost to
#: about ±1 % of its value; cost draws need no simulation).
COST_WORLDS = 2000
#: Paired replications per world of a mix that survives every rung, and in each fresh world (ASM: as
#: ``convsim compare --world-reps``; the Monte Carlo error of a world's mean Δ is then small beside the spread
#: between worlds).
WORLD_REPS = 50
#: Fresh worlds of the re-estimate, at least (ASM: as ``convsim compare --worlds``; shares of worlds to ±8 %).
CONFIRM_WORLDS = 40
#: Fewest worlds for ``--risk p10`` and ``--risk regret`` (ASM: below 10 the 10th or 90th percentile is an
#: interpolation towards the smallest or largest world).
MIN_P10_WORLDS = 10


def risk_value(gains: np.ndarray, risk: str) -> float:
    """The objective over worlds of per-world gains (already signed so that more is better)."""
    g = np.asarray(gains, dtype=float)
    g = g[np.isfinite(g)]
    if g.size == 0:
        return float("nan")
    if risk == "mean":
        return float(g.mean())
    if risk == "p10":
        return float(np.quantile(g, P10))
    raise ValueError(f"risk must be one of {RISKS}, got {risk!r}")


def regret_value(gains: np.ndarray, best: np.ndarray) -> float:
    """The 90th percentile over worlds of ``best − gains`` (both signed so that more is better; a world where
    either is missing is left out)."""
    r = np.asarray(best, dtype=float) - np.asarray(gains, dtype=float)
    r = r[np.isfinite(r)]
    return float(np.quantile(r, REGRET_Q)) if r.size else float("nan")


def reported(value: float, risk: str, higher_is_better: bool) -> float:
    """The search's objective (more is better) as reported: for ``mean`` and ``p10`` in the KPI's own
    direction, for ``regret`` the 90th-percentile regret itself (in the KPI's unit; less is better)."""
    if risk == "regret":
        return -value
    return value if higher_is_better else -value


def single_levers(space: Space, budget: float) -> list[tuple[str, Scenario]]:
    """Every lever alone at the largest intensity ``budget`` affords (those it affords at all), keyed
    ``single:<lever id>:<budget>``."""
    out = []
    for d in space.dims:
        mix = space.single(d.id, budget)
        if mix[d.id] > 0:
            out.append((f"single:{d.id}:{budget:.0f}", space.scenario(mix)))
    return out


def comparison_set(space: Space, shipped: Sequence[Scenario], budget: float) -> list[tuple[str, Scenario]]:
    """The alternatives the ``regret`` objective measures a mix against: every shipped scenario whose largest
    yearly cost at its stated costs is within ``budget`` (keyed by its id), then :func:`single_levers`."""
    within = [(sc.id, sc) for sc in shipped if max_cost(sc) <= budget * (1 + 1e-9)]
    return [*within, *single_levers(space, budget)]


_RANGES = {r["parameter"]: (r["min"], r["max"]) for r in parameter_rows()}


def _shrink(sc: Scenario, ids: set[str], t: float) -> list[Lever]:
    """The levers of ``sc``, those in ``ids`` with their effect shrunk by ``t`` (1 = as drawn, 0 = none): ``add``
    t × value, ``multiply`` 1 + (value − 1) × t, ``set`` t of the way from the value before it."""
    now = {lv.param: float(getattr(getattr(sc.params, lv.param.split(".")[0]), lv.param.split(".")[1]))
           for lv in sc.levers}
    out = []
    for lv in sc.levers:
        before = now[lv.param]
        if lv.id in ids:
            if lv.mode == "add":
                value = lv.value * t
            elif lv.mode == "multiply":
                value = 1.0 + (lv.value - 1.0) * t
            else:
                value = before + (lv.value - before) * t
            lv = lv.model_copy(update={"value": value})
        now[lv.param] = (before + lv.value if lv.mode == "add" else before * lv.value if lv.mode == "multiply"
                         else lv.value)
        out.append(lv)
    return out


def _largest(ok: Callable[[float], bool]) -> float:
    """The largest t in [0, 1] with ``ok(t)`` (``ok`` monotone: true at 0), by bisection."""
    if ok(1.0):
        return 1.0
    a, b = 0.0, 1.0
    for _ in range(50):
        mid = 0.5 * (a + b)
        a, b = (mid, b) if ok(mid) else (a, mid)
    return a


def _with(sc: Scenario, levers: list[Lever]) -> Scenario:
    out = sc.model_copy(update={"levers": levers})
    out._source = sc.source
    return out


def _over(sc: Scenario, levers: list[Lever]) -> tuple[list[str], list[int]]:
    """The parameters ``levers`` push out of their allowed range, and the channels whose effort (rate × the
    pool's gain) they push above the thinning ceiling (what :func:`sim.table.build_table` would refuse)."""
    P = raw_table(sc.params, levers)
    params = [p for p in {lv.param for lv in levers}
              if (_RANGES[p][0] is not None and P[PIDX[p]].min() < _RANGES[p][0])
              or (_RANGES[p][1] is not None and P[PIDX[p]].max() > _RANGES[p][1])]
    ceil = ceilings(sc.params.supply.thinning_ceiling)
    rates = channel_efforts(P, raw_table(sc.params, []))  # rate × the pool's gain, as build_table checks it
    return params, [c for c in range(1, len(ceil)) if rates[c].max() > ceil[c] * (1 + 1e-12)]


def capped(sc: Scenario) -> Scenario:
    """``sc`` with the levers that push a parameter out of its allowed range, or a channel's offers above its
    thinning ceiling, shrunk together (one common factor per parameter or channel) to the limit."""
    params, channels = _over(sc, sc.levers)
    if not params and not channels:
        return sc
    for p in params:
        ids = {lv.id for lv in sc.levers if lv.param == p}
        sc = _shrunk_until(sc, ids, partial(_param_inside, p))
    for c in _over(sc, sc.levers)[1]:
        full = channel_rates(raw_table(sc.params, sc.levers))[c].max()
        # the levers that feed this channel: without them its offers fall
        ids = {lv.id for lv in sc.levers
               if channel_rates(raw_table(sc.params, _shrink(sc, {lv.id}, 0.0)))[c].max() < full}
        sc = _shrunk_until(sc, ids, partial(_channel_below, c))
    return sc


def _param_inside(param: str, sc: Scenario) -> bool:
    return param not in _over(sc, sc.levers)[0]


def _channel_below(channel: int, sc: Scenario) -> bool:
    return channel not in _over(sc, sc.levers)[1]


def _shrunk_until(sc: Scenario, ids: set[str], ok: Callable[[Scenario], bool]) -> Scenario:
    """``sc`` with the levers ``ids`` shrunk by the largest common factor in [0, 1] for which ``ok`` holds."""
    def at(t: float) -> Scenario:
        return _with(sc, _shrink(sc, ids, t))

    return at(_largest(lambda t: ok(at(t))))


def in_world(sc: Scenario, world: World) -> Scenario:
    """``sc`` in ``world``: its parameter set, every lever's drawn effect and cost, capped at the ranges."""
    return capped(scenario_in_world(sc, world))


def place_in_world(run: Run) -> Scenario:
    """A trial run's scenario in its world (:func:`in_world`), or at the stated values when ``run.at`` is None;
    runs on whichever worker gets the run."""
    if not isinstance(run.model, Scenario):
        raise ValueError("a trial run is of a scenario")
    return run.model if run.at is None else in_world(run.model, run.at)


class WorldEvaluator(Evaluator):
    """Paired Δ in each world; the objective is :func:`risk_value` over the search worlds, or minus
    :func:`regret_value` against a comparison set (:meth:`against`)."""

    place = staticmethod(place_in_world)

    def __init__(self, baseline: Scenario, kpi: str, seed: int, worlds: list[World], select: list[World],
                 risk: str, engine: str = "fast") -> None:
        super().__init__(baseline, kpi, seed, engine)
        if risk not in RISKS:
            raise ValueError(f"risk must be one of {RISKS}, got {risk!r}")
        if not worlds:
            raise ValueError("a world evaluator needs at least one world")
        self.risk = risk
        self.search_worlds = tuple(w.index for w in worlds)
        self.select_worlds = tuple(w.index for w in select)
        self.worlds: dict[int, World] = {w.index: w for w in [*worlds, *select]}
        #: the alternatives of the ``regret`` objective (key, scenario); set by :meth:`against`
        self.comparison: tuple[tuple[str, Scenario], ...] = ()
        #: each alternative's paired Δ, by (key, world, replication): run once, shared by every budget
        self._ref: dict[tuple[str, int, int], float] = {}

    def against(self, comparison: Sequence[tuple[str, Scenario]]) -> WorldEvaluator:
        """This evaluator measuring regret against ``comparison`` (one budget's :func:`comparison_set`); it
        shares the baseline's and the alternatives' values, the worlds and the executor with this one."""
        out = copy.copy(self)
        out.comparison = tuple(comparison)
        return out

    def add_worlds(self, worlds: list[World]) -> None:
        """Make more worlds known (the fresh worlds of the re-estimate)."""
        self.worlds.update({w.index: w for w in worlds})

    def run(self, sc: Scenario, world: int, reps: Sequence[int], source: str, key: int) -> Run:
        """The :class:`~sim.experiment.Run` of ``sc`` in ``world`` (:data:`CENTRAL`: the stated values), placed
        in its world by :func:`place_in_world` where it runs."""
        where = None if world == CENTRAL else self.worlds[world]
        label = source if where is None else f"{source} (world {world})"
        return Run(sc, tuple(reps), key, label, at=where)

    def world_frame(self, sc: Scenario, world: int, reps: Sequence[int], source: str = "<mix>",
                    progress: Callable[[int], None] | None = None) -> pd.DataFrame:
        """Every KPI of ``sc`` in ``world`` on replications ``reps``."""
        return self.frames([(sc, world, reps, source)], progress)[0]

    def rungs(self, reps: int) -> list[Rung]:
        """A third of the worlds × a third of the replications, every world × a third, every world × ``reps``."""
        w = self.search_worlds
        part = w[:math.ceil(len(w) / REDUCTION)]
        r1 = math.ceil(reps / REDUCTION)
        return [Rung(1, part, r1), Rung(REDUCTION, w, r1), Rung(REDUCTION**2, w, reps)]

    def objective(self, diffs: dict[int, np.ndarray], first: int = 0) -> float:
        gains = np.array([self.score(d) for d in diffs.values()])
        if self.risk != "regret":
            return risk_value(gains, self.risk)
        reps = {w: range(first, first + len(d)) for w, d in diffs.items()}
        return -regret_value(gains, self.best_alternative(reps))

    def best_alternative(self, reps: Mapping[int, Sequence[int]]) -> np.ndarray:
        """Per world of ``reps`` (in its order): the best outcome among doing nothing more (0) and the
        comparison set, each alternative's mean paired Δ on that world's replications ``reps[w]``, signed so
        that more is better. What is not yet known runs in one batch, once per (alternative, world,
        replication)."""
        if not self.comparison:
            raise ValueError("the regret objective needs a comparison set (WorldEvaluator.against)")
        requests: list[tuple[Scenario, int, Sequence[int]]] = []
        keys: list[tuple[str, int, list[int]]] = []
        for key, sc in self.comparison:
            for w, r in reps.items():
                need = [i for i in r if (key, w, i) not in self._ref]
                if need:
                    requests.append((sc, w, need))
                    keys.append((key, w, need))
        for (key, w, need), d in zip(keys, self.deltas(requests) if requests else [], strict=True):
            self._ref.update({(key, w, i): float(v) for i, v in zip(need, d, strict=True)})
        best = []
        for w, r in reps.items():
            scores = [self.score(np.array([self._ref[(key, w, i)] for i in r])) for key, _ in self.comparison]
            best.append(float(np.nanmax([0.0, *scores])))
        return np.array(best)

    def selection_worlds(self) -> tuple[int, ...]:
        """The selection worlds (numbers from :data:`SELECT_WORLD_FIRST`)."""
        return self.select_worlds


def cost_risk(sc: Scenario, budget: float, seed: int, n: int = COST_WORLDS) -> dict[str, float]:
    """The scenario's largest yearly lever cost over ``n`` cost draws (the fresh worlds' draws, no simulation):
    mean, 95th percentile and the share of draws above ``budget``."""
    t = sc.params.time
    years = range(t.policy_start_year, t.horizon_year + 1)
    yearly = np.zeros((n, len(years)))
    for lv in sc.levers:
        if lv.cost_low is None or lv.cost_high is None:
            costs = np.full(n, lv.yearly_cost_yuan)
        else:
            costs = np.array([lever_in_world(lv, World(FRESH_WORLD_FIRST + i, -1, {}, seed)).yearly_cost_yuan
                              for i in range(n)])
        start = lv.start_year if lv.start_year is not None else t.policy_start_year
        for j, y in enumerate(years):
            if y >= start:
                yearly[:, j] += costs
    peak = yearly.max(axis=1) if len(years) else np.zeros(n)
    return {"cost_world_mean_yuan": float(peak.mean()), "cost_world_p95_yuan": float(np.quantile(peak, 0.95)),
            "p_cost_over_budget": float(np.mean(peak > budget * (1 + 1e-9))), "cost_worlds": n}
