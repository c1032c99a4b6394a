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

The command line is a thin layer over these functions: same checks, same
records, same files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.checks import check_memory, check_reps, check_scenarios, check_seed, check_window
from sim.derived import derive
from sim.errors import InputError
from sim.jobs.control import as_control
from sim.progress import Progress, progress_for
from sim.scenario import Scenario
from sim.scenario import load_scenario as _load

if TYPE_CHECKING:
    import pandas as pd

    from sim.analysis.worlds import World
    from sim.results import CompareResult, SweepResult
    from sim.sweep.spec import Sweep

__all__ = [
    "InputError",
    "best_mix",
    "calibrate",
    "compare",
    "derive",
    "kpis",
    "load_scenario",
    "run",
    "run_sweep",
    "summarise",
    "trace",
]


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (with the files it builds on); one-line :class:`InputError` if wrong.

    >>> import sim
    >>> sim.load_scenario("scenarios/g4_intermediaries.toml").id
    'g4_intermediaries'
    """
    return _load(path)


def _scenario(sc: Scenario | str | Path) -> Scenario:
    return sc if isinstance(sc, Scenario) else _load(sc)


def run(scenario: Scenario | str | Path, reps: int = 100, seed: int = 0, engine: str = "auto",
        progress: bool | Progress | None = False) -> pd.DataFrame:
    """Run replications 0 … reps − 1 of a scenario: the tidy records, one row per replication and year.

    Columns: ``rep``, ``year`` and every counter of the model (meetings,
    contracts, pilots, industrialised, money by budget line, waits, …; see
    ``sim.layout.RECORD_ROWS``). ``records.attrs`` holds the scenario id, the
    seed and the policy period, which :func:`kpis` uses as its default window.
    Same scenario, seed and replication numbers ⇒ the same records, on any
    engine and any machine.

    >>> import sim
    >>> rec = sim.run("scenarios/baseline.toml", reps=2)
    >>> sorted(rec["rep"].unique().tolist()), int(rec["year"].max())
    ([0, 1], 2027)
    """
    from sim.experiment import resolve_engine, run_records
    from sim.table import build_table

    sc = _scenario(scenario)
    reps, seed = check_reps(reps), check_seed(seed)
    check_memory(reps, sc.params.n_years)
    table = build_table(sc, sc.source)
    with progress_for(progress, reps, f"{sc.id} ({resolve_engine(engine, reps)})") as tick:
        records = run_records(table, seed, range(reps), engine, progress=tick)
    t = sc.params.time
    records.attrs.update({"scenario": sc.id, "seed": seed, "policy_start_year": t.policy_start_year,
                          "start_year": t.start_year, "horizon_year": t.horizon_year})
    return records


def trace(scenario: Scenario | str | Path, rep: int = 0, seed: int = 0) -> pd.DataFrame:
    """Every step of every offer in one replication: time, offer, channel, event, detail (``convsim trace``)."""
    from sim.experiment import trace_run
    from sim.table import build_table

    sc = _scenario(scenario)
    return trace_run(build_table(sc, sc.source), check_seed(seed), check_seed(rep, "rep"))


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


def compare(baseline: Scenario | str | Path, scenarios: Sequence[Scenario | str | Path], reps: int = 500,
            seed: int = 0, precision: float | None = None, max_reps: int = 20000, engine: str = "auto",
            progress: bool | Progress | None = False, on_total: Callable[[int], None] | None = None,
            kpi: str = "industrialised", worlds: int = 0, world_reps: int = 50,
            posterior: str | Path | None = None, backend: str = "local",
            scheduler: str | None = None) -> CompareResult:
    """Run the baseline and every scenario on common random numbers and compare them, paired.

    ``worlds`` > 0 also runs every scenario in that many worlds of uncertainty
    (:mod:`sim.analysis.worlds`: a calibrated parameter set from ``posterior``
    — default ``calibration/posterior.csv``, else ``calibration/ensemble.csv``
    beside the scenarios — and a draw of every lever's effect and cost from
    its range), ``world_reps`` paired replications each; the result's summary
    then holds world_p05, world_p95, p_gain, p_best and mean_rank.

    ``kpi``: the indicator the ranking follows (any KPI, e.g. ``introduced_converted`` or a rate);
    a horizon beyond 2027 also judges the runs over the whole policy period (``comparison.long``).

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
    import math

    from sim.analysis.compare import compare as _compare
    from sim.results import CompareResult

    base = _scenario(baseline)
    arms = [_scenario(s) for s in check_scenarios(scenarios)]
    seed = check_seed(seed)
    if not arms:
        raise InputError("compare: give at least one scenario besides the baseline")
    if precision is not None and not (math.isfinite(precision) and precision > 0):
        raise InputError(f"precision: a finite number above 0, got {precision}")
    if precision is None:
        check_reps(reps, least=2)  # an interval needs two
    check_memory(reps if precision is None else check_reps(max_reps, "max_reps", 2), base.params.n_years,
                 len(arms) + 1, "reps" if precision is None else "max_reps")
    ids = [a.id for a in arms]
    if base.id in ids or len(set(ids)) != len(ids):
        raise InputError(f"compare: scenario ids must be unique and differ from the baseline's ({', '.join(ids)})")
    if not 0 <= worlds <= 10_000:
        raise InputError(f"worlds: 0 to 10,000, got {worlds}")
    if worlds and not 2 <= world_reps <= 100_000:
        raise InputError(f"world_reps: 2 to 100,000 replications per world, got {world_reps}")
    drawn = _worlds(base, worlds, seed, posterior)
    if drawn:
        from sim.analysis.uncertainty import world_tasks

        tasks = world_tasks(base, arms, drawn, world_reps, seed, engine)
    n = (reps if precision is None else min(200, max_reps)) * (len(arms) + 1)
    n += worlds * world_reps * (len(arms) + 1)
    control = as_control(progress)
    if control is not None:
        control.start(n, "rep", f"compare {len(arms) + 1} scenarios")
    with progress_for(progress, n, f"compare {len(arms) + 1} scenarios") as tick:
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
                     progress=tick, total_hint=total, kpi=kpi)
        if drawn:
            from sim.analysis.uncertainty import compare_worlds

            if on_total is not None or bar_ is not None or control is not None:
                total(c.reps * (len(arms) + 1) + worlds * world_reps * (len(arms) + 1))
            c.worlds = compare_worlds(base, arms, drawn, tasks, c.kpi, backend, scheduler, progress=tick)
    return CompareResult(c)


def _worlds(base: Scenario, n: int, seed: int, posterior: str | Path | None) -> list[World]:
    """The worlds of a comparison (checked before any work): parameter sets from the posterior file."""
    from sim.analysis.worlds import default_posterior, draw_worlds, read_posterior

    if n == 0:
        return []
    path = Path(posterior) if posterior is not None else default_posterior(_repository_of(base))
    return draw_worlds(n, seed, read_posterior(path) if path is not None else None)


def _repository_of(sc: Scenario) -> Path:
    """The folder holding the scenario's folder (where calibration/ sits beside scenarios/), or the cwd."""
    src = Path(sc.source)
    return src.resolve().parent.parent if src.is_file() else Path.cwd()


def run_sweep(spec: str | Path, out: str | Path | None = None, backend: str = "local", scheduler: str | None = None,
          workers: int | None = None, fresh: bool = False, progress: bool | Progress | None = False,
          on_start: Callable[[int, int], None] | None = None, reps: int | None = None) -> SweepResult:
    """Run (or resume) a parameter sweep file; the result reads the folder it wrote (default runs/sweep-<id>).

    Every finished point is on disk; calling again with the same file resumes
    with the missing points and gives the same files as one uninterrupted run.
    ``on_start(runs, runs_to_do)`` is told the size of the work before it starts;
    ``reps`` overrides the file's replications per point (e.g. a quick look).
    """
    import json

    from sim.results import SweepResult
    from sim.store import check_output_dir
    from sim.sweep import load_sweep
    from sim.sweep.runner import check_points

    sw = load_sweep(spec)
    if reps is not None:
        if not 2 <= reps <= 1_000_000:
            raise InputError(f"reps: 2 to 1,000,000 replications per point, got {reps}")
        sw.spec = sw.spec.model_copy(update={"sweep": sw.spec.sweep.model_copy(update={"reps": reps})})
    folder = Path(out) if out is not None else Path("runs") / f"sweep-{sw.id}"
    check_output_dir(folder, "out", ("sweep",))
    check_points(sw)
    _run_points(sw, folder, backend, scheduler, workers, fresh, progress, on_start)
    return SweepResult(folder, json.loads((folder / "manifest.json").read_text(encoding="utf-8")))


def calibrate(spec: str | Path, out: str | Path | None = None, tolerance: float = 0.0, backend: str = "local",
              scheduler: str | None = None, workers: int | None = None, fresh: bool = False,
              progress: bool | Progress | None = False,
              on_start: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Run a calibration sweep over 2018–2022 and score every point against the report's figures.

    Returns one row per point: its parameter values, each target's miss and
    ``accepted`` (every target within its range widened by ``tolerance``);
    ``calibration.csv``, ``accepted.csv`` and ``calibration.png`` are written
    to the folder (default runs/calibrate-<id>).
    """
    from sim.store import check_output_dir
    from sim.sweep import load_sweep
    from sim.sweep.calibrate import check_window, write_calibration
    from sim.sweep.runner import check_points

    if not 0.0 <= tolerance <= 10.0:
        raise InputError(f"tolerance: a number from 0 to 10, got {tolerance}")
    sw = load_sweep(spec)
    check_window(sw)
    folder = Path(out) if out is not None else Path("runs") / f"calibrate-{sw.id}"
    check_output_dir(folder, "out", ("sweep",))
    check_points(sw)
    _run_points(sw, folder, backend, scheduler, workers, fresh, progress, on_start)
    return write_calibration(sw, folder, tolerance)


def _run_points(sw: Sweep, folder: Path, backend: str, scheduler: str | None, workers: int | None, fresh: bool,
                progress: bool | Progress | None, on_start: Callable[[int, int], None] | None) -> None:
    """Run the sweep's missing points; ``progress=True`` opens a bar once the amount of work is known."""
    from sim.progress import bar
    from sim.sweep.runner import run_sweep

    own = None

    def start(runs: int, todo: int) -> None:
        nonlocal own
        if on_start is not None:
            on_start(runs, todo)
        if progress is True:
            own = bar(todo * sw.spec.sweep.reps, f"sweep {sw.id}")

    def tick(n: int) -> None:
        if callable(progress):
            progress(n)
        elif own is not None:
            own.update(n)

    try:
        run_sweep(sw, folder, backend=backend, scheduler=scheduler, workers=workers, fresh=fresh, progress=tick,
                  on_start=start)
    finally:
        if own is not None:
            own.close()


def best_mix(budget: float, out: str | Path = "runs/optimise", kpi: str = "industrialised", reps: int = 240,
             confirm_reps: int = 1000, trials: int = 150, seed: int = 0,
             baseline: str | Path = "scenarios/baseline.toml", frontier: Sequence[float] | None = None,
             progress: bool = False, worlds: int = 0, risk: str = "mean", world_reps: int | None = None,
             confirm_worlds: int | None = None, posterior: str | Path | None = None) -> dict[str, Any]:
    """The best mix of the group scenarios' levers for a yearly budget (``convsim optimise``, same options).

    Writes ``best.toml``, ``best.csv``, ``result.json`` and a bilingual ``summary.txt`` to ``out``
    (resumable: the same call continues an interrupted search) and returns ``result.json`` as a
    dictionary: the mix's Δ of ``kpi`` on fresh replications with its interval, the best shipped
    scenario within the budget and the paired difference from it.

    ``worlds`` > 0 judges every mix in that many worlds of uncertainty and maximises ``risk``
    (``"mean"`` or ``"p10"``, the 10th percentile over worlds); the result then also holds
    ``world_delta_mean``, ``delta_world_p10``, ``delta_world_p90``, ``p_gain``,
    ``p_beats_best_shipped``, ``p_beats_best_single`` (fresh worlds) and the budget's risk under cost
    uncertainty (``p_cost_over_budget``, ``cost_world_p95_yuan``).
    """
    import json

    from sim.cli import build_parser
    from sim.optimise.command import run as _run

    argv = ["optimise", "--budget", repr(float(budget)), "--kpi", kpi, "--reps", str(reps), "--confirm-reps",
            str(confirm_reps), "--trials", str(trials), "--seed", str(seed), "--baseline", str(baseline),
            "--out", str(out)]
    if frontier:
        argv += ["--frontier", ",".join(repr(float(b)) for b in frontier)]
    if worlds or risk != "mean":
        argv += ["--worlds", str(worlds), "--risk", risk]
    for opt, v in (("--world-reps", world_reps), ("--confirm-worlds", confirm_worlds), ("--posterior", posterior)):
        if v is not None:
            argv += [opt, str(v)]
    if not progress:
        argv.append("--quiet")
    try:
        args = build_parser().parse_args(argv)
    except SystemExit:
        raise InputError(f"optimise: invalid arguments {argv[1:]}") from None
    if _run(args) == 130:
        raise KeyboardInterrupt
    result: dict[str, Any] = json.loads((Path(out) / "result.json").read_text(encoding="utf-8"))
    return result
