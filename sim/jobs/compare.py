"""The main job: every scenario against the status quo, paired, and over the worlds of uncertainty.

:func:`compare` runs the baseline and every scenario on common random numbers
(the same seed and replication numbers, so every draw a policy does not touch
is shared) and, with ``worlds`` > 0, again in that many worlds of uncertainty
(a calibrated parameter set and a draw of every lever's effect and cost). It
returns a :class:`~sim.results.CompareResult`: tables, figures, the text the
command line prints and ``.write(folder)`` for the HTML report.

:func:`scenario_files` finds the scenarios of a comparison when none are
named: every scenario file beside the baseline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sim.errors import InputError
from sim.jobs import options
from sim.jobs.control import Control, as_control
from sim.jobs.run import as_scenario
from sim.progress import Progress, progress_for
from sim.scenario import Scenario

if TYPE_CHECKING:
    from sim.analysis.worlds import World
    from sim.results import CompareResult


def scenario_files(baseline: str | Path) -> list[Path]:
    """Every ``.toml`` beside the baseline (the baseline itself excepted), sorted by name."""
    from sim.resources import scenario_file

    base = scenario_file(baseline)
    d = base.parent
    if not d.is_dir():
        raise InputError(f"{d}: no scenario folder; give scenario files or --baseline in a scenario folder")
    paths = sorted(p for p in d.glob("*.toml") if p.resolve() != base.resolve())
    if not paths:
        raise InputError(f"{d}: no scenario files besides the baseline")
    return paths


def at_horizon(sc: Scenario, horizon: int | None, source: str) -> Scenario:
    """The scenario with ``horizon`` as its last simulated year (unchanged for ``None``)."""
    if horizon is None:
        return sc
    from sim.scenario import with_horizon

    return with_horizon(sc, options.whole(horizon, "--horizon", 2018, 2060), source)


def compare(baseline: Scenario | str | Path, scenarios: Sequence[Scenario | str | Path], reps: int = 500,
            seed: int = 0, precision: float | None = None, max_reps: int = 20000, engine: str = "auto",
            progress: bool | Progress | Control | None = False, on_total: Callable[[int], None] | None = None,
            kpi: str = "industrialised", worlds: int = 0, world_reps: int = 50,
            posterior: str | Path | None = None, backend: str = "local", scheduler: str | None = None,
            horizon: int | None = None, goal: str | float | None = None, follow_up: int = 6) -> CompareResult:
    """Run the baseline and every scenario on common random numbers and compare them, paired.

    ``worlds`` > 0 also runs every scenario in that many worlds of uncertainty
    (:mod:`sim.analysis.worlds`: a calibrated parameter set from ``posterior``
    — default ``calibration/posterior.csv``, else ``calibration/ensemble.csv``
    beside the scenarios — and a draw of every lever's effect and cost from
    its range), ``world_reps`` paired replications each; the result's summary
    then holds world_p05, world_p95, p_gain, p_best and mean_rank.

    Over worlds the result also holds each scenario's regret (how far below the best choice of each world it
    falls: mean, 90th percentile, largest; on the KPI and per million yuan) and, with ``goal`` (``"20%"``
    above the baseline, or ``5`` more in the KPI's unit), the share of worlds that meet it
    (:mod:`sim.analysis.robustness`).

    ``kpi``: the indicator the ranking follows (any KPI, e.g. ``introduced_converted`` or a rate);
    a ``horizon`` beyond 2027 also judges the runs over the whole policy period (``comparison.long``).
    ``follow_up``: years the runs go on past the horizon so that the window's cohorts of offers and contracts
    are followed 5 years (the cohort KPIs); 0 leaves the k-year cohort shares censored (NaN) and saves run time.

    ``precision`` (instead of a fixed ``reps``): add replications until every
    scenario's 95 % half-width of Δ industrialised is at most this;
    ``on_total(n)`` is told when the number of replications to run grows.

    ``progress``: ``True`` for a bar, a callback counting replications, or a
    :class:`sim.jobs.Control` — then ``Control.cancel()`` from another thread
    stops the comparison at its next chunk with :class:`sim.jobs.Cancelled`.

    >>> import sim
    >>> r = sim.compare("scenarios/baseline.toml", ["scenarios/g4_intermediaries.toml"], reps=20)
    >>> list(r.summary.index), bool(r.summary["delta"].iloc[0] > 0)
    (['g4_intermediaries'], True)
    """
    from sim.analysis.compare import RANKABLE
    from sim.analysis.compare import compare as _compare
    from sim.results import CompareResult
    from sim.table import build_table

    scenarios = options.scenario_list(scenarios)
    base, base_src = as_scenario(baseline)
    base = at_horizon(base, horizon, base_src)
    arms = []
    for s in scenarios:
        sc, src = as_scenario(s)
        arms.append(at_horizon(sc, horizon, src))
    if not arms:
        raise InputError("compare: give at least one scenario besides the baseline")
    if precision is not None:
        options.number(precision, "--precision", 0.0, open_lo=True)
        max_reps = options.reps(max_reps, "--max-reps")
    else:
        reps = options.reps(reps, "--reps")
    seed = options.key(seed)
    options.choice(engine, "--engine", options.ENGINES)
    options.choice(kpi, "--kpi", RANKABLE)
    ids = [a.id for a in arms]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise InputError(f"{', '.join(dup)}: scenario ids must be unique among the files compared")
    if base.id in ids:
        raise InputError(f"compare: scenario ids must differ from the baseline's ({base.id})")
    worlds = options.whole(worlds, "--worlds", 0, 10_000)
    follow_up = options.whole(follow_up, "--follow-up", 0, 30)
    target = None
    if goal is not None:
        from sim.analysis.robustness import Goal

        if not worlds:
            raise InputError("--goal: only with --worlds N (N ≥ 1): it is met or not in each world")
        target = Goal.parse(goal)
    if worlds:
        world_reps = options.reps(world_reps, "--world-reps", 2, 100_000)
    options.backend(backend, scheduler)
    for sc in [base, *arms]:
        build_table(sc, sc.source)
    n_arms = len(arms) + 1
    options.memory(reps if precision is None else max_reps, base.params.n_years + follow_up, n_arms,
                   "--reps" if precision is None else "--max-reps")
    drawn = _worlds(base, worlds, seed, posterior)
    if drawn:
        from sim.analysis.uncertainty import world_plan

        plan = world_plan(base, arms, drawn, world_reps, seed, engine)
    n = (reps if precision is None else min(200, max_reps)) * n_arms + worlds * world_reps * n_arms
    control = as_control(progress)
    if control is not None:
        control.start(n, "rep", f"compare {n_arms} scenarios")
    from contextlib import nullcontext

    from sim.executor import executor

    with (executor(backend, scheduler) if backend != "local" else nullcontext(None)) as ex, \
            progress_for(progress, n, f"compare {n_arms} scenarios") as tick:
        bar_ = getattr(tick, "__self__", None) if progress is True else None

        def total(k: int) -> None:
            if on_total is not None:
                on_total(k)
            if control is not None:
                control.set_total(k)
            if bar_ is not None:
                bar_.total = k
                bar_.refresh()

        c = _compare(base, arms, reps=reps, seed=seed, engine=engine, precision=precision, max_reps=max_reps,
                     progress=tick, total_hint=total, kpi=kpi, executor=ex, follow_up=follow_up)
        if drawn:
            from sim.analysis.uncertainty import compare_worlds

            total(c.reps * n_arms + worlds * world_reps * n_arms)
            c.worlds = compare_worlds(base, arms, drawn, plan, c.kpi, backend, scheduler, progress=tick, ex=ex,
                                      goal=target)
    return CompareResult(c, precision=precision, max_reps=max_reps if precision is not None else None)


def _worlds(base: Scenario, n: int, seed: int, posterior: str | Path | None) -> list[World]:
    """The worlds of a comparison (checked before any work): parameter sets from the posterior file."""
    from sim.analysis.worlds import draw_worlds, posterior_for, read_posterior

    if n == 0:
        if posterior is not None:
            read_posterior(Path(posterior))  # a bad file is a bad input even when no world uses it
        return []
    path = posterior_for(base, posterior)
    return draw_worlds(n, seed, read_posterior(path) if path is not None else None)
