"""Worlds of uncertainty: the comparison repeated where the assumptions are drawn, not fixed.

A comparison at the default parameters covers Monte Carlo noise only. Two
more kinds of uncertainty decide how sure a planner can be:

- **parameters** — the model's assumed (ASM) parameters, narrowed by
  calibration to the report's 2018–2022 figures: a weighted ensemble of
  parameter sets (``calibration/posterior.csv`` when it exists, else the
  rejection ensemble ``calibration/ensemble.csv``);
- **effects and costs of the measures** — every lever carries a plausible
  range (``effect_low`` … ``effect_high``; ``cost_low`` … ``cost_high`` for
  assumed costs); nothing calibrates them, so their whole range is sampled.

A **world** is one parameter set drawn from the ensemble (by its weights) and
one draw of every lever's effect and cost from its range (a triangular
distribution with its mode at the lever's stated value). Every scenario is
run in the same worlds on the same replication numbers, so differences are
paired within each world; across worlds they show how far the answer depends
on what nobody knows yet. A lever's draw is keyed by the seed, the world and
the lever's id — the same measure gets the same luck in every scenario that
holds it (g4 and all_five alike), and in any comparison.

Draws use :class:`numpy.random.SeedSequence` keyed by (seed, world, purpose):
never global random state, the same worlds on any machine and backend.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.scenario import Lever, Scenario

#: Where the calibrated parameter sets are looked for, in this order (relative to the repository).
POSTERIOR_FILES = ("calibration/posterior.csv", "calibration/ensemble.csv")
_PARAM_SET, _LEVER = 1, 2  # purposes of a keyed draw


@dataclass(frozen=True)
class World:
    """One world: a parameter set and a quantile per lever for its effect and its cost."""

    index: int
    param_set: int
    params: dict[str, float]
    _seed: int = field(repr=False)

    def quantiles(self, lever_id: str) -> tuple[float, float]:
        """The (effect, cost) quantiles of lever ``lever_id`` in this world, in (0, 1)."""
        key = int.from_bytes(hashlib.sha256(lever_id.encode()).digest()[:8], "little")
        u = np.random.default_rng(np.random.SeedSequence([self._seed, self.index, _LEVER, key])).random(2)
        return float(u[0]), float(u[1])


def read_posterior(path: str | Path) -> tuple[pd.DataFrame, np.ndarray]:
    """(parameter sets, normalised weights) from a CSV: one column per parameter, an optional ``weight``
    (checked by :func:`sim.calibration.predictive.read_posterior`: known parameters within their ranges)."""
    from sim.calibration.predictive import read_posterior as checked

    df = checked(path, weight_required=False)
    weights = df.pop("weight").to_numpy(float)
    return df, weights / weights.sum()


def default_posterior(root: Path) -> Path | None:
    """The first of :data:`POSTERIOR_FILES` that exists below ``root``."""
    return next((root / f for f in POSTERIOR_FILES if (root / f).is_file()), None)


def repository_of(sc: Scenario) -> Path:
    """The folder holding the scenario's folder (where calibration/ sits beside scenarios/), or the cwd."""
    src = Path(sc.source)
    return src.resolve().parent.parent if src.is_file() else Path.cwd()


def posterior_for(sc: Scenario, posterior: str | Path | None = None) -> Path | None:
    """The posterior file of a comparison: ``posterior`` if given, else the default beside ``sc``'s folder."""
    return Path(posterior) if posterior is not None else default_posterior(repository_of(sc))


def draw_worlds(n: int, seed: int, posterior: tuple[pd.DataFrame, np.ndarray] | None, first: int = 0) -> list[World]:
    """``n`` worlds numbered from ``first``: parameter sets drawn by weight (none: the defaults), lever quantiles
    keyed per lever. World ``w`` is the same whatever ``n`` and ``first`` (the optimiser draws its search,
    selection and fresh worlds as disjoint ranges of numbers)."""
    worlds = []
    for w in range(first, first + n):
        if posterior is None:
            worlds.append(World(w, -1, {}, seed))
            continue
        sets, weights = posterior
        rng = np.random.default_rng(np.random.SeedSequence([seed, w, _PARAM_SET]))
        k = int(rng.choice(len(sets), p=weights))
        worlds.append(World(w, k, {str(c): float(v) for c, v in sets.iloc[k].items()}, seed))
    return worlds


def triangular(u: float, low: float, mode: float, high: float) -> float:
    """The ``u`` quantile of a triangular distribution on [low, high] with its mode at ``mode``."""
    if high <= low:
        return mode
    f = (mode - low) / (high - low)
    if u < f:
        return low + float(np.sqrt(u * (high - low) * (mode - low)))
    return high - float(np.sqrt((1.0 - u) * (high - low) * (high - mode)))


def lever_in_world(lv: Lever, world: World) -> Lever:
    """The lever with its effect (and an assumed cost) drawn from its range in this world."""
    qe, qc = world.quantiles(lv.id)
    update = {"value": triangular(qe, lv.effect_low, lv.value, lv.effect_high)}
    if lv.cost_low is not None and lv.cost_high is not None:
        update["yearly_cost_yuan"] = triangular(qc, lv.cost_low, lv.yearly_cost_yuan, lv.cost_high)
    return lv.model_copy(update=update)


def scenario_in_world(sc: Scenario, world: World) -> Scenario:
    """``sc`` with the world's parameter set and its levers' drawn effects and costs (validated)."""
    from sim.derived import derive

    levers = [lever_in_world(lv, world) for lv in sc.levers]
    try:
        out = derive(sc, id=sc.id, name_en=sc.scenario.name_en, name_zh=sc.scenario.name_zh, params=world.params,
                     drop=[lv.id for lv in sc.levers], add_levers=levers)
    except InputError as exc:
        raise InputError(f"{sc.source}: world {world.index} (parameter set {world.param_set}): {exc}") from None
    out._source = sc.source
    return out


def world_inputs(worlds: list[World], lever_ids: list[str]) -> pd.DataFrame:
    """One row per world: its parameter values and every lever's effect and cost quantile (for value of information)."""
    rows = []
    for w in worlds:
        row: dict[str, float] = {"world": w.index, **w.params}
        for lid in lever_ids:
            qe, qc = w.quantiles(lid)
            row[f"effect:{lid}"] = qe
            row[f"cost:{lid}"] = qc
        rows.append(row)
    return pd.DataFrame(rows).set_index("world")
