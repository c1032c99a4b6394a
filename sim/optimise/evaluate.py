"""Paired evaluation of mixes against the baseline on common random numbers.

Every mix runs on the baseline's seed and the same replication numbers, so
replication ``r`` of a mix and of the baseline share every draw the levers do
not touch; the per-replication difference of the KPI is the paired Δ.
The search uses replications ``0, 1, …``; the final re-estimate uses numbers
from :data:`FRESH_FIRST` on, never seen while choosing (the optimiser's curse).

**On the executor.** What the evaluator asks the engine is one run plan
(:class:`sim.experiment.RunPlan`) per batch — runs of a scenario (and a world),
replication numbers, the seed; placed in their worlds and reduced to KPIs by
module-level functions (:func:`trial_kpis`) — so a batch can go to any
executor of :mod:`sim.executor`: this process, a pool of processes or a Dask
cluster. Every replication is keyed by (seed, replication), so an item
split into parts, run anywhere and in any order, gives the same values; the
results are put back in the order asked.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.analysis.paired import COMPARED, run_kpis
from sim.executor import InlineExecutor
from sim.experiment import Place, Run, RunPlan, execute
from sim.scenario import Scenario

#: First replication number of the fresh re-estimate; the search uses numbers below it.
FRESH_FIRST = 1_000_000
#: The world key of the stated values (default parameters, every lever at its stated effect and cost).
CENTRAL = -1
#: Most replications in one part of a batch (so that a progress bar moves, even in this process).
PART = 256
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


def trial_kpis(run: Run, rec: pd.DataFrame, window: tuple[int, int] | None) -> pd.DataFrame:
    """A trial plan's reduction: every KPI (and ``payouts``, M yuan) of the run's scenario in each of its
    replications, in their order, over the plan's window (runs where the run ran)."""
    return run_kpis(run, rec, window).reindex(list(run.reps))


#: A request for paired differences: (scenario, world key, replication numbers).
Request = tuple[Scenario, int, Sequence[int]]


class Evaluator:
    """Runs scenarios on given replication numbers and returns one KPI per replication."""

    #: where a worker places a run's scenario before it runs (None: as given; module-level, so that it can be
    #: sent to a process)
    place: Place | None = None

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
        self._base: dict[tuple[int, int], float] = {}
        self.reps_run = 0
        self.executor: cf.Executor = InlineExecutor()
        #: Numba threads per task (None: the worker's own; 1 on a Dask cluster, one task per worker core)
        self.threads: int | None = None

    def use(self, ex: cf.Executor, threads: int | None = None) -> None:
        """Run every batch of work on ``ex`` from now on (see :mod:`sim.executor`)."""
        self.executor, self.threads = ex, threads

    def run(self, sc: Scenario, world: int, reps: Sequence[int], source: str, key: int) -> Run:
        """The :class:`~sim.experiment.Run` of ``sc`` in ``world`` (here only :data:`CENTRAL`: the stated
        values)."""
        if world != CENTRAL:
            raise ValueError("this evaluator has no worlds")
        return Run(sc, tuple(reps), key, source)

    def frames(self, items: Sequence[tuple[Scenario, int, Sequence[int], str]],
               progress: Callable[[int], None] | None = None) -> list[pd.DataFrame]:
        """Every KPI of each (scenario, world, replications, source) item, in the items' order.

        One batch on the executor: the items are cut into parts of consecutive replications so that there
        are at least as many parts as the executor has workers, none of more than :data:`PART` replications.
        """
        from sim.executor import slots

        total = sum(len(r) for _, _, r, _ in items)
        if not total:
            return [pd.DataFrame() for _ in items]
        size = min(PART, max(1, math.ceil(total / slots(self.executor))))
        runs: list[Run] = []
        for j, (sc, world, reps, source) in enumerate(items):
            reps = list(reps)
            for start in range(0, len(reps), size):
                runs.append(self.run(sc, world, reps[start:start + size], source, j))
        plan = RunPlan(tuple(runs), self.seed, self.engine, window=self.window, reduce=trial_kpis, place=self.place,
                       threads=self.threads)
        got: list[list[pd.DataFrame]] = [[] for _ in items]
        # a part's progress is counted when it comes back, even in this process (as the search always did)
        for run, f in execute(plan, self.executor):
            got[run.key].append(f)
            if progress is not None:
                progress(len(run.reps))
        self.reps_run += total
        return [pd.concat(g) if g else pd.DataFrame() for g in got]

    def frame(self, sc: Scenario, reps: Sequence[int], source: str = "<mix>",
              progress: Callable[[int], None] | None = None) -> pd.DataFrame:
        """Every KPI of ``sc`` (and ``payouts``, M yuan) in each replication of ``reps``, over the policy window."""
        return self.frames([(sc, CENTRAL, reps, source)], progress)[0]

    def values(self, sc: Scenario, reps: Sequence[int], source: str = "<mix>",
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        """The KPI of ``sc`` in each replication of ``reps`` (window: policy start to horizon)."""
        return self.frame(sc, reps, source, progress)[self.kpi].to_numpy(dtype=float)

    def deltas(self, requests: Sequence[Request]) -> list[np.ndarray]:
        """Per-replication paired Δ (scenario minus baseline) of every request, run as one batch; the baseline's
        values are computed once per (world, replication) and kept."""
        todo: dict[int, dict[int, None]] = {}  # world → replications the baseline still needs (in order, once)
        for _, world, reps in requests:
            need = todo.setdefault(world, {})
            need.update((r, None) for r in reps if (world, r) not in self._base)
        base_items = [(self.baseline, world, list(need), "<baseline>") for world, need in todo.items() if need]
        frames = self.frames([*base_items, *((sc, world, reps, "<mix>") for sc, world, reps in requests)])
        for (_, world, reps, _), f in zip(base_items, frames, strict=False):
            for r, v in zip(reps, f[self.kpi].to_numpy(dtype=float), strict=True):
                self._base[(world, r)] = float(v)
        out = []
        for (_, world, reps), f in zip(requests, frames[len(base_items):], strict=True):
            base = np.array([self._base[(world, r)] for r in reps])
            out.append(f[self.kpi].to_numpy(dtype=float) - base if len(base) else np.empty(0))
        return out

    def delta(self, sc: Scenario, reps: Sequence[int]) -> np.ndarray:
        """Per-replication paired difference, scenario minus baseline, at the stated values."""
        return self.deltas([(sc, CENTRAL, reps)])[0]

    def score(self, d: np.ndarray) -> float:
        """Mean paired Δ signed so that more is better (for KPIs where less is better, −Δ)."""
        m = float(np.nanmean(d)) if np.isfinite(d).any() else float("nan")
        return m if self.higher_is_better else -m

    # -- what the search asks: rungs, per-world differences, the objective, the selection score --------------
    def rungs(self, reps: int) -> list[Rung]:
        """Successive halving over replications at the stated values (:func:`rep_rungs`)."""
        return rep_rungs(reps)

    def world_delta(self, sc: Scenario, world: int, reps: Sequence[int]) -> np.ndarray:
        """Per-replication paired Δ of ``sc`` in ``world``."""
        return self.deltas([(sc, world, reps)])[0]

    def objective(self, diffs: dict[int, np.ndarray], first: int = 0) -> float:
        """What the search maximises, from the per-world differences gathered so far (each on replications
        ``first``, ``first + 1``, …): the signed mean Δ."""
        return self.score(diffs[CENTRAL])

    def gather_many(self, asks: Sequence[tuple[Scenario, dict[int, np.ndarray], Rung]]) -> list[float]:
        """For each (scenario, diffs, rung): extend ``diffs`` (world → per-replication Δ, replications 0, 1, …)
        to the rung, all in one batch; the objective of each, in the order asked."""
        requests: list[Request] = []
        where: list[tuple[int, int]] = []
        for j, (sc, diffs, rung) in enumerate(asks):
            for w in rung.worlds:
                have = len(diffs.get(w, ()))
                if rung.reps > have:
                    requests.append((sc, w, range(have, rung.reps)))
                    where.append((j, w))
        for (j, w), d in zip(where, self.deltas(requests), strict=True):
            diffs = asks[j][1]
            diffs[w] = np.concatenate([diffs.get(w, np.empty(0)), d])
        return [self.objective({w: diffs[w] for w in rung.worlds}) for _, diffs, rung in asks]

    def gather(self, sc: Scenario, diffs: dict[int, np.ndarray], rung: Rung) -> float:
        """Extend ``diffs`` (world → per-replication Δ, replications 0, 1, …) to the rung; its objective."""
        return self.gather_many([(sc, diffs, rung)])[0]

    def selection_worlds(self) -> tuple[int, ...]:
        """The worlds of the selection (here the stated values only)."""
        return (CENTRAL,)

    def selection_scores(self, scs: Sequence[Scenario], reps: int) -> list[float]:
        """The objective of each scenario on the selection replications ``reps … 2·reps − 1`` (and in the
        selection worlds), never used by the search itself; one batch."""
        worlds = self.selection_worlds()
        numbers = range(reps, 2 * reps)
        d = iter(self.deltas([(sc, w, numbers) for sc in scs for w in worlds]))
        return [self.objective({w: next(d) for w in worlds}, reps) for _ in scs]

    def selection_score(self, sc: Scenario, reps: int) -> float:
        """The objective on the selection replications of one scenario (:meth:`selection_scores`)."""
        return self.selection_scores([sc], reps)[0]
