"""The run layer's one run configuration (``RunPlan``) and its entry point (``execute``).

A plan's results depend on what it runs — scenarios, replication numbers, seeds — and never on how it
is cut into tasks, in which order they come back, or where a scenario is placed (here or on a worker).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.executor import InlineExecutor
from sim.experiment import MeanRecords, RecordArrays, Run, RunPlan, execute, results
from sim.scenario import Scenario
from sim.table import Table
from tests.conftest import variant


def _more_brokers(run: Run) -> Scenario:
    """A plan's ``place``: the run's scenario with ``run.at`` brokers."""
    assert isinstance(run.model, Scenario)
    return variant(run.model, params={"meeting": {"brokers": float(run.at)}})


def _rows_and_brokers(run: Run, rec: pd.DataFrame, window: tuple[int, int] | None) -> tuple[Any, int, float]:
    """A plan's ``reduce``: what a worker would send back — the run's key, its rows, the brokers it ran with."""
    assert isinstance(run.model, Scenario) and window == (2023, 2024)
    return run.key, len(rec), run.model.params.meeting.brokers


def test_a_plan_cut_into_tasks_or_runs_gives_the_same_records(baseline_table: Table) -> None:
    whole = results(RunPlan.single(baseline_table, range(4), seed=5, engine="fast"))[0]
    blocks: list[range | tuple[int, ...]] = [range(0, 1), (1, 2), range(3, 4)]
    runs = tuple(Run(baseline_table, r, k) for k, r in enumerate(blocks))
    for batch, in_order in ((1, True), (2, False), (3, True)):
        parts = results(RunPlan(runs, 5, "fast", batch=batch, in_order=in_order), InlineExecutor())
        pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)
    # a run's own seed wins over the plan's
    own = results(RunPlan((Run(baseline_table, range(4), seed=5),), 99, "fast"))[0]
    pd.testing.assert_frame_equal(own, whole)
    other = results(RunPlan.single(baseline_table, range(4), seed=6, engine="fast"))[0]
    assert not other.equals(whole)


def test_outputs_are_views_of_the_same_replications(baseline_table: Table) -> None:
    arrays = results(RunPlan.single(baseline_table, range(3), 2, engine="fast", output="arrays"))[0]
    mean = results(RunPlan.single(baseline_table, range(3), 2, engine="fast", output="mean"))[0]
    assert isinstance(arrays, RecordArrays) and isinstance(mean, MeanRecords)
    assert np.array_equal(mean.values, arrays.values.mean(axis=0))
    assert (mean.first_year, mean.n_years) == (int(arrays.years[0]), len(arrays.years))
    trace = results(RunPlan.single(baseline_table, (1,), 2, engine="simpy", output="trace"))[0]
    assert isinstance(trace, pd.DataFrame) and len(trace) > 0


def test_place_and_reduce_run_where_the_run_runs(baseline: Scenario) -> None:
    runs = tuple(Run(baseline, range(2), ("brokers", b), at=b) for b in (4, 12))
    plan = RunPlan(runs, 1, "fast", window=(2023, 2024), place=_more_brokers, reduce=_rows_and_brokers)
    got = results(plan)
    n_years = baseline.params.n_years
    assert got == [(("brokers", 4), 2 * n_years, 4.0), (("brokers", 12), 2 * n_years, 12.0)]
    # the runs handed back are the plan's own, not the placed copies
    assert [run for run, _ in execute(plan)] == list(runs)


def test_progress_counts_every_replication_once(baseline_table: Table) -> None:
    ticks: list[int] = []
    runs = tuple(Run(baseline_table, range(k, k + 3), k) for k in (0, 3))
    results(RunPlan(runs, 0, "fast"), progress=ticks.append)
    assert sum(ticks) == 6
    ticks.clear()
    results(RunPlan(runs, 0, "fast", output="mean", batch=2, in_order=False), progress=ticks.append)
    assert sum(ticks) == 6


def test_stopping_early_runs_nothing_more(baseline_table: Table) -> None:
    """With this process's executor a task runs only when asked for: a job that has enough stops the rest."""
    seen: list[int] = []
    runs = tuple(Run(baseline_table, (k,), k) for k in range(5))
    plan = RunPlan(runs, 0, "fast", output="mean")
    for run, _ in execute(plan, progress=lambda n: seen.append(n)):
        if run.key == 1:
            break
    assert len(seen) == 2


@pytest.mark.parametrize("how, message", [({"output": "table"}, "output 'table'"),
                                          ({"engine": "gpu"}, "unknown engine 'gpu'"),
                                          ({"batch": 0}, "batch must be 1 or more")])
def test_a_plan_says_what_is_wrong_with_it(baseline_table: Table, how: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RunPlan.single(baseline_table, range(2), 0, **how)
    with pytest.raises(ValueError, match="one replication per run"):
        RunPlan.single(baseline_table, range(2), 0, output="trace")
