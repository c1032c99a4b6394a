"""The analyst's Python API: everything the ``convsim`` command does, as functions.

Exported from the package itself (``import sim``)::

    import sim
    base = sim.load_scenario("scenarios/baseline.toml")
    g4 = sim.load_scenario("scenarios/g4_intermediaries.toml")
    records = sim.run(base, reps=20)           # tidy DataFrame, one row per replication and year
    sim.kpis(records)                          # one row per replication: the KPIs of 2023–2027
    result = sim.compare(base, [g4], reps=50)  # paired, on common random numbers
    result.summary                             # one row per scenario
    result.plot_forest()                       # a matplotlib Figure

Every job is a function of :mod:`sim.jobs` with typed arguments that returns a
result object; this module gathers them under the names the README documents.
The command line (:mod:`sim.cli`) and the planner's page call the same jobs:
same checks, same records, same files.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

# re-exported names are imported `as` themselves; the public list is ``sim.__all__`` (sim/__init__.py)
from sim.checks import check_window
from sim.derived import derive as derive
from sim.errors import InputError as InputError
from sim.jobs.calibrate import CalibrationResult as CalibrationResult
from sim.jobs.calibrate import calibrate as calibrate
from sim.jobs.compare import compare as compare
from sim.jobs.control import Cancelled as Cancelled
from sim.jobs.control import Control as Control
from sim.jobs.control import ProgressEvent as ProgressEvent
from sim.jobs.control import background as background
from sim.jobs.discover import DiscoveryResult as DiscoveryResult
from sim.jobs.discover import discover as discover
from sim.jobs.measures import LeversResult as LeversResult
from sim.jobs.measures import TargetsResult as TargetsResult
from sim.jobs.measures import levers as levers
from sim.jobs.measures import targets as targets
from sim.jobs.optimise import OptimiseConfig as OptimiseConfig
from sim.jobs.optimise import OptimiseResult as OptimiseResult
from sim.jobs.optimise import optimise as optimise
from sim.jobs.run import RunResult as RunResult
from sim.jobs.run import TraceResult as TraceResult
from sim.jobs.run import as_scenario
from sim.jobs.run import run_scenario as run_scenario
from sim.jobs.run import trace_scenario as trace_scenario
from sim.jobs.sweep import run_sweep as run_sweep
from sim.progress import Progress, progress_for
from sim.results import CompareResult as CompareResult
from sim.results import SweepResult as SweepResult
from sim.scenario import Scenario as Scenario
from sim.scenario import load_scenario as _load

if TYPE_CHECKING:
    import pandas as pd


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (with the files it builds on); one-line :class:`InputError` if wrong.

    >>> import sim
    >>> sim.load_scenario("scenarios/g4_intermediaries.toml").id
    'g4_intermediaries'
    """
    return _load(path)


def run(scenario: Scenario | str | Path, reps: int = 100, seed: int = 0, engine: str = "auto",
        progress: bool | Progress | Control | None = False) -> pd.DataFrame:
    """Run replications 0 … reps − 1 of a scenario: the tidy records, one row per replication and year.

    Columns: ``rep``, ``year`` and every counter of the model (meetings,
    contracts, pilots, industrialised, money by budget line, waits, …; see
    ``sim.layout.RECORD_ROWS``). ``records.attrs`` holds the scenario id, the
    seed and the policy period, which :func:`kpis` uses as its default window.
    Same scenario, seed and replication numbers ⇒ the same records, on any
    engine and any machine. (:func:`sim.jobs.run.run_scenario` returns the
    whole :class:`~sim.jobs.run.RunResult`: manifest, summaries, ``.write``.)

    >>> import sim
    >>> rec = sim.run("scenarios/baseline.toml", reps=2)
    >>> sorted(rec["rep"].unique().tolist()), int(rec["year"].max())
    ([0, 1], 2027)
    """
    sc, _ = as_scenario(scenario)
    with progress_for(progress, reps, f"{sc.id} ({engine})") as tick:
        return run_scenario(sc, reps, seed, engine, tick).records


def trace(scenario: Scenario | str | Path, rep: int = 0, seed: int = 0) -> pd.DataFrame:
    """Every step of every offer in one replication: time, offer, channel, event, detail (``convsim trace``)."""
    return trace_scenario(scenario, rep, seed).frame


def kpis(records: pd.DataFrame, first: int | None = None, last: int | None = None) -> pd.DataFrame:
    """The KPIs of each replication over the years ``first`` … ``last`` (default: the policy period).

    One row per replication: offers, meetings, contracts, subsidised, pilots,
    industrialised, the three conversion rates, time to production, money by
    budget line (see ``convsim run`` for their meaning).
    """
    from sim.analysis.kpi import kpis as _kpis

    first = first if first is not None else int(records.attrs.get("policy_start_year", records["year"].min()))
    last = last if last is not None else int(records.attrs.get("horizon_year", records["year"].max()))
    return _kpis(records, *check_window(records, first, last))


def summarise(records: pd.DataFrame, first: int | None = None, last: int | None = None,
              level: float = 0.90) -> pd.DataFrame:
    """Mean and central ``level`` interval over replications of every KPI (the table ``convsim run`` prints)."""
    from sim.analysis.kpi import summarise as _summarise

    return _summarise(kpis(records, first, last), level)




def best_mix(budget: float, out: str | Path = "runs/optimise", kpi: str = "industrialised", reps: int = 240,
             confirm_reps: int = 1000, trials: int = 150, seed: int = 0,
             baseline: str | Path = "scenarios/baseline.toml", frontier: Sequence[float] | None = None,
             progress: bool | Control | None = False, worlds: int = 0, risk: str = "mean",
             world_reps: int | None = None, confirm_worlds: int | None = None,
             posterior: str | Path | None = None) -> OptimiseResult:
    """The best mix of the group scenarios' levers for a yearly budget (``convsim optimise``, same options).

    Writes ``best.toml``, ``best.csv``, ``result.json`` and a bilingual ``summary.txt`` to ``out``
    (resumable: the same call continues an interrupted or cancelled search) and returns an
    :class:`~sim.jobs.optimise.OptimiseResult`: ``.result`` is ``result.json`` (the mix's Δ of ``kpi`` on
    fresh replications with its interval, the best shipped scenario within the budget and the paired
    difference from it), ``.best()`` the mix as a scenario, ``.plot_frontier()`` the frontier's figure.

    ``worlds`` > 0 judges every mix in that many worlds of uncertainty and optimises ``risk``
    (``"mean"``, ``"p10"``, the 10th percentile over worlds, or ``"regret"``, the 90th-percentile regret
    against the shipped scenarios and single levers within the budget); the result then also holds
    ``world_delta_mean``, ``delta_world_p10``, ``delta_world_p90``, ``p_gain``,
    ``p_beats_best_shipped``, ``p_beats_best_single`` (fresh worlds) and the budget's risk under cost
    uncertainty (``p_cost_over_budget``, ``cost_world_p95_yuan``).

    ``progress``: ``True`` for bars on stderr, or a :class:`~sim.jobs.Control` to watch and cancel the
    search from another thread (it stops after the trial under way with :class:`~sim.jobs.Cancelled`).
    """
    cfg = OptimiseConfig(budget=budget, kpi=kpi, reps=reps, confirm_reps=confirm_reps, trials=trials, seed=seed,
                         baseline=Path(baseline), out=Path(out), frontier=tuple(frontier or ()), worlds=worlds,
                         risk=risk, world_reps=world_reps, confirm_worlds=confirm_worlds,
                         posterior=Path(posterior) if posterior is not None else None)
    if isinstance(progress, Control):
        return optimise(cfg, progress)
    if progress is True:
        from sim.jobs.control import StageBar

        bar = StageBar(quiet=False)
        try:
            return optimise(cfg, Control(bar))
        finally:
            bar.close()
    return optimise(cfg)
