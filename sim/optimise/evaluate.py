"""Paired evaluation of mixes against the baseline on common random numbers.

Every mix runs on the baseline's seed and the same replication numbers, so
replication ``r`` of a mix and of the baseline share every draw the levers do
not touch; the per-replication difference of the KPI is the paired Δ.
The search uses replications ``0, 1, …``; the final re-estimate uses numbers
from :data:`FRESH_FIRST` on, never seen while choosing (the optimiser's curse).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.analysis.paired import COMPARED, lever_cost_myuan, window_kpis
from sim.experiment import run_records
from sim.scenario import Scenario
from sim.table import build_table

#: First replication number of the fresh re-estimate; the search uses numbers below it.
FRESH_FIRST = 1_000_000
#: The world key of the stated values (default parameters, every lever at its stated effect and cost).
CENTRAL = -1
#: Successive-halving reduction factor: each rung keeps the best third and triples the replications.
REDUCTION = 3


@dataclass(frozen=True)
class Rung:
    """One rung of successive halving: the worlds a mix is judged in, replications in each, Optuna's step."""

    step: int
    worlds: tuple[int, ...]
    reps: int


def rep_rungs(reps: int) -> list[Rung]:
    """Successive halving over replications: ``reps / 9``, ``reps / 3`` and ``reps``, at the stated values."""
    unit = math.ceil(reps / REDUCTION**2)
    return [Rung(1, (CENTRAL,), min(reps, unit)), Rung(REDUCTION, (CENTRAL,), min(reps, unit * REDUCTION)),
            Rung(REDUCTION**2, (CENTRAL,), reps)]


class Evaluator:
    """Runs scenarios on given replication numbers and returns one KPI per replication."""

    def __init__(self, baseline: Scenario, kpi: str, seed: int, engine: str = "fast") -> None:
        if kpi not in COMPARED:
            raise ValueError(f"unknown KPI {kpi!r}")
        self.baseline = baseline
        self.kpi = kpi
        self.higher_is_better = COMPARED[kpi]
        self.seed = seed
        self.engine = engine
        t = baseline.params.time
        self.window = (t.policy_start_year, t.horizon_year)
        self._base: dict[int, float] = {}
        self.reps_run = 0

    def frame(self, sc: Scenario, reps: Sequence[int], source: str = "<mix>",
              progress: Callable[[int], None] | None = None) -> pd.DataFrame:
        """Every KPI of ``sc`` (and ``payouts``, M yuan) in each replication of ``reps``, over the policy window."""
        reps = list(reps)
        rec = run_records(build_table(sc, source), self.seed, reps, self.engine, progress)
        self.reps_run += len(reps)
        first, last = self.window
        return window_kpis(rec, first, last, lever_cost_myuan(sc, first, last)).reindex(reps)

    def values(self, sc: Scenario, reps: Sequence[int], source: str = "<mix>",
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        """The KPI of ``sc`` in each replication of ``reps`` (window: policy start to horizon)."""
        return self.frame(sc, reps, source, progress)[self.kpi].to_numpy(dtype=float)

    def base(self, reps: Sequence[int]) -> np.ndarray:
        """The baseline's KPI in each replication (computed once per replication number)."""
        todo = [r for r in reps if r not in self._base]
        if todo:
            for r, v in zip(todo, self.values(self.baseline, todo, "<baseline>"), strict=True):
                self._base[r] = float(v)
        return np.array([self._base[r] for r in reps])

    def delta(self, sc: Scenario, reps: Sequence[int]) -> np.ndarray:
        """Per-replication paired difference, scenario minus baseline."""
        return self.values(sc, reps) - self.base(reps)

    def score(self, d: np.ndarray) -> float:
        """Mean paired Δ signed so that more is better (for KPIs where less is better, −Δ)."""
        m = float(np.nanmean(d)) if np.isfinite(d).any() else float("nan")
        return m if self.higher_is_better else -m

    # -- what the search asks: rungs, per-world differences, the objective, the selection score --------------
    def rungs(self, reps: int) -> list[Rung]:
        """Successive halving over replications at the stated values (:func:`rep_rungs`)."""
        return rep_rungs(reps)

    def world_delta(self, sc: Scenario, world: int, reps: Sequence[int]) -> np.ndarray:
        """Per-replication paired Δ of ``sc`` in ``world`` (here only :data:`CENTRAL`: the stated values)."""
        if world != CENTRAL:
            raise ValueError("this evaluator has no worlds")
        return self.delta(sc, reps)

    def objective(self, diffs: dict[int, np.ndarray]) -> float:
        """What the search maximises, from the per-world differences gathered so far: the signed mean Δ."""
        return self.score(diffs[CENTRAL])

    def gather(self, sc: Scenario, diffs: dict[int, np.ndarray], rung: Rung) -> float:
        """Extend ``diffs`` (world → per-replication Δ, replications 0, 1, …) to the rung; its objective."""
        for w in rung.worlds:
            have = diffs.get(w, np.empty(0))
            if rung.reps > len(have):
                diffs[w] = np.concatenate([have, self.world_delta(sc, w, range(len(have), rung.reps))])
        return self.objective({w: diffs[w] for w in rung.worlds})

    def selection_score(self, sc: Scenario, reps: int) -> float:
        """The objective on the selection replications ``reps … 2·reps − 1``, never used by the search itself."""
        return self.score(self.delta(sc, range(reps, 2 * reps)))
