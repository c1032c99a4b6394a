"""``convsim run`` (one scenario's replications and its KPIs) and ``convsim trace`` (one replication's events)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sim.cli.common import Watched, check_out, report_compile, say_replacing
from sim.cli.options import KEY, POSITIVE, add_common


def cmd_run(a: argparse.Namespace) -> int:
    # NumPy and pyarrow only, no pandas (≈ 0.2 s of import): a one-replication run starts in under a second
    # with a warm cache (tests/test_start.py checks what this path imports; BENCHMARKS.md has the time)
    from sim.experiment import resolve_engine
    from sim.jobs import options
    from sim.jobs.run import as_scenario, run_scenario
    from sim.table import build_table

    sc, source = as_scenario(a.scenario)
    out = Path(a.out) if a.out is not None else Path("runs") / sc.id
    state = check_out(out, "--out", ("run",))
    options.memory(a.reps, sc.params.n_years, 1)
    report_compile(resolve_engine(a.engine, a.reps), build_table(sc, source), a.quiet)
    with Watched(a.quiet) as control:
        res = run_scenario(sc, a.reps, a.seed, a.engine, control)
    # records first: a reader that stops early (`| head`) must not cost the run its results
    say_replacing(state, out, a.quiet)
    res.write(out)
    print(res.text(a.lang))
    print(f"\nrecords: {out / 'records.parquet'}  manifest: {out / 'manifest.json'}")
    return 0


def cmd_trace(a: argparse.Namespace) -> int:
    from sim.jobs.run import as_scenario, check_trace_path, trace_scenario

    sc, _ = as_scenario(a.scenario)
    out = Path(a.out) if a.out is not None else Path("runs") / f"{sc.id}-trace-rep{a.rep}.csv"
    check_trace_path(out)
    res = trace_scenario(sc, a.rep, a.seed)
    res.write(out)
    print(f"{len(res.frame)} events of {res.offers} offers, replication {a.rep}, seed {a.seed} → {out}")
    return 0


def add_parsers(sub: Any) -> None:
    r = sub.add_parser("run", help="run replications of one scenario and print its KPIs")
    r.add_argument("scenario", help="scenario file (.toml)")
    r.add_argument("--reps", type=POSITIVE, default=100, help="replications (default 100)")
    r.add_argument("--out", help="output folder (default runs/<scenario id>)")
    add_common(r, lang=True)
    r.set_defaults(func=cmd_run)

    t = sub.add_parser("trace", help="write the event trace of one replication (every offer's path)")
    t.add_argument("scenario", help="scenario file (.toml)")
    t.add_argument("--rep", type=KEY, default=0, help="replication number (default 0)")
    t.add_argument("--out", help="output file, .csv or .parquet (default runs/<id>-trace-rep<K>.csv)")
    add_common(t, engine=False, quiet=False)
    t.set_defaults(func=cmd_trace)
