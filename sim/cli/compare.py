"""``convsim compare``: the main job — every scenario against the status quo, and the HTML report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sim.cli.common import Watched, check_out, report_compile, say_replacing
from sim.cli.options import AT_LEAST_TWO, FINITE_POSITIVE, FOLLOW_UP, RANKABLE, YEAR, add_common, worlds_type
from sim.errors import InputError


def cmd_compare(a: argparse.Namespace) -> int:
    from sim.experiment import resolve_engine
    from sim.jobs.compare import at_horizon, compare, scenario_files
    from sim.jobs.run import as_scenario
    from sim.table import build_table

    if a.reps is not None and a.precision is not None:
        raise InputError("--reps and --precision exclude each other: give one")
    if a.scheduler is not None and a.backend != "dask":
        raise InputError("--scheduler: only with --backend dask")
    paths = [Path(p) for p in a.scenarios] if a.scenarios else scenario_files(a.baseline)
    base, base_src = as_scenario(a.baseline)
    base = at_horizon(base, a.horizon, base_src)
    table = build_table(base, base_src)
    scenarios = [at_horizon(sc, a.horizon, src) for sc, src in map(as_scenario, paths)]
    for sc in scenarios:
        build_table(sc, sc.source)
    report = Path(a.report) if a.report is not None else Path("runs") / "compare"
    state = check_out(report, "--report", ("compare",))
    reps = a.reps if a.reps is not None else (None if a.precision is not None else 500)
    from sim.jobs import options

    options.memory(reps or a.max_reps, base.params.n_years + a.follow_up, len(scenarios) + 1,
                   "--reps" if reps else "--max-reps")
    if a.posterior is not None:
        from sim.analysis.worlds import read_posterior

        read_posterior(a.posterior)
    options.backend(a.backend, a.scheduler)
    report_compile(resolve_engine(a.engine, reps or 200), table, a.quiet)
    with Watched(a.quiet) as control:
        res = compare(base, scenarios, reps=reps or 0, seed=a.seed, engine=a.engine, precision=a.precision,
                      max_reps=a.max_reps, progress=control, kpi=a.kpi, worlds=a.worlds, world_reps=a.world_reps,
                      posterior=a.posterior, backend=a.backend, scheduler=a.scheduler, goal=a.goal,
                      follow_up=a.follow_up)
    say_replacing(state, report, a.quiet)
    out = res.write(report, a.lang)  # before printing: a reader that stops early must not cost the report
    print(res.text(a.lang))
    print(f"\nreport: {out / 'report.html'}  summary: {out / 'summary.csv'}  figures: {out}/*.png")
    return 0


def add_parsers(sub: Any) -> None:
    c = sub.add_parser("compare", help="compare scenarios with the baseline on common random numbers (main job)")
    c.add_argument("scenarios", nargs="*", help="scenario files (default: every .toml beside the baseline)")
    c.add_argument("--baseline", default="scenarios/baseline.toml", help="baseline file (default "
                   "scenarios/baseline.toml)")
    c.add_argument("--reps", type=AT_LEAST_TWO, default=None,
                   help="paired replications per scenario, at least 2 (default 500)")
    c.add_argument("--precision", type=FINITE_POSITIVE, default=None,
                   help="add replications until every 95 %% half-width of Δ industrialised is at most this (> 0)")
    c.add_argument("--max-reps", type=AT_LEAST_TWO, default=20000, help="cap for --precision (default 20000)")
    c.add_argument("--report", help="report folder (default runs/compare)")
    c.add_argument("--kpi", default="industrialised", choices=RANKABLE, metavar="KEY",
                   help="rank by this KPI (default industrialised; any KPI of `convsim run`, e.g. "
                   "introduced_converted, rate_contract, rate_industrialised, rate_overall, cohort_industrialised_5y, "
                   "or fiscal_cost)")
    c.add_argument("--horizon", type=YEAR, default=None,
                   help="last simulated year (default the baseline's, 2027); beyond 2027 the policy period is "
                   "also judged as a whole (e.g. 2023–2032)")
    c.add_argument("--follow-up", type=FOLLOW_UP, default=6, metavar="YEARS",
                   help="years every run goes on past the horizon so that the window's cohorts of offers and "
                   "contracts are followed 5 years (the cohort KPIs, docs/kpis.md); 0 leaves their 3- and 5-year "
                   "shares censored and runs faster (default 6)")
    c.add_argument("--worlds", type=worlds_type(10_000), default=40,
                   help="also compare in N worlds of uncertainty: a calibrated parameter set and a draw of every "
                   "lever's effect and cost from its range (default 40; 0 = the defaults only)")
    c.add_argument("--world-reps", type=AT_LEAST_TWO, default=50, help="paired replications per world (default 50)")
    c.add_argument("--goal", default=None, help="with --worlds: a goal each scenario should meet in a world, as a "
                   "percentage above the baseline (e.g. 20%%) or an amount of the KPI (e.g. 5); the report gives the "
                   "share of worlds that meet it beside each scenario's regret")
    c.add_argument("--posterior", default=None, help="calibrated parameter sets, CSV with an optional weight column "
                   "(default calibration/posterior.csv, else calibration/ensemble.csv, beside the scenario folder)")
    c.add_argument("--backend", choices=("local", "dask"), default="local",
                   help="local (this machine, all cores) or dask (a task per scenario and batch of replications, "
                   "and per world and scenario; same results)")
    c.add_argument("--scheduler", help="Dask scheduler address (default: a local cluster)")
    add_common(c, lang=True)
    c.set_defaults(func=cmd_compare)
