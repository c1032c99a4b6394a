"""``convsim levers`` (each measure of the report alone) and ``convsim targets`` (the report's own figures)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sim.cli.common import Watched, check_out, report_compile, say, say_replacing
from sim.cli.options import AT_LEAST_TWO, add_common


def cmd_levers(a: argparse.Namespace) -> int:
    """Every lever of every group scenario alone against the baseline, paired; levers.csv."""
    from sim.experiment import resolve_engine
    from sim.jobs.measures import levers, with_params
    from sim.jobs.run import as_scenario
    from sim.table import build_table

    base, source = as_scenario(a.baseline)
    params = parse_set(a.set)
    base = with_params(base, params)  # checked before any work
    out = Path(a.out) if a.out else Path("runs") / "levers"
    state = check_out(out, "--out", ("levers",))
    report_compile(resolve_engine(a.engine, a.reps), build_table(base, source), a.quiet)
    with Watched(a.quiet) as control:
        res = levers(a.baseline, a.reps, a.seed, a.engine, control, params)
    say_replacing(state, out, a.quiet)
    res.write(out)
    print(res.text())
    print(f"\nlevers: {out / 'levers.csv'}")
    return 0


def parse_set(items: list[str] | None) -> dict[str, float]:
    """``--set group.name=value`` options as a mapping (a malformed one is an input error naming it)."""
    from sim.errors import InputError

    out: dict[str, float] = {}
    for item in items or []:
        key, eq, value = item.partition("=")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            raise InputError(f"--set {item!r}: expected group.name=number, e.g. meeting.brokers=4") from None
        if not eq or "." not in key:
            raise InputError(f"--set {item!r}: expected group.name=number, e.g. meeting.brokers=4")
    return out


def cmd_targets(a: argparse.Namespace) -> int:
    """The baseline's 2018–2022 against every figure of the report (calibration/targets.toml); targets.csv."""
    from sim.errors import InputError
    from sim.jobs.measures import targets
    from sim.jobs.run import as_scenario

    if a.posterior is None and a.sets is not None:
        raise InputError("--sets: only with --posterior")
    sc, _ = as_scenario(a.scenario)
    out = Path(a.out) if a.out else Path("runs") / "targets"
    state = check_out(out, "--out", ("targets",))
    with Watched(a.quiet) as control:
        res = targets(sc, a.reps, a.seed, a.engine, a.posterior, a.sets, control, say(a.quiet), a.observed)
    say_replacing(state, out, a.quiet)
    res.write(out)
    print(res.text())
    if a.observed is not None:
        print(f"\nobserved: {out / 'observed.csv'}  figure: {out / 'observed.png'}")
        return 0
    figure = f"  figure: {out / 'targets.png'}" if a.posterior is not None else ""
    print(f"\ntargets: {out / 'targets.csv'}{figure}")
    return 0


def add_parsers(sub: Any) -> None:
    lv = sub.add_parser("levers", help="every lever of the group scenarios alone against the baseline (paired)")
    lv.add_argument("--baseline", default="scenarios/baseline.toml",
                    help="baseline file; the group files g1–g5 are read beside it (default scenarios/baseline.toml)")
    lv.add_argument("--reps", type=AT_LEAST_TWO, default=200, help="paired replications, at least 2 (default 200)")
    lv.add_argument("--set", action="append", metavar="GROUP.NAME=VALUE",
                    help="change a parameter of the baseline, and so every lever's starting point (repeatable; "
                    "e.g. --set meeting.brokers=4: what each measure buys in a city with four brokers; names: "
                    "`convsim params`)")
    lv.add_argument("--out", help="output folder (default runs/levers)")
    tg = sub.add_parser("targets", help="the baseline's 2018–2022 against the report's figures (calibration targets)")
    tg.add_argument("--scenario", default="scenarios/baseline.toml", help="scenario (default scenarios/baseline.toml)")
    tg.add_argument("--reps", type=AT_LEAST_TWO, default=None,
                    help="replications, at least 2 (default 300; with --posterior: per parameter set, default 10)")
    tg.add_argument("--posterior", help="calibrated parameter sets (CSV: one column per parameter and weight, e.g. "
                    "calibration/posterior.csv): the targets under the posterior (sets drawn by weight)")
    tg.add_argument("--sets", type=AT_LEAST_TWO, default=None,
                    help="with --posterior: parameter sets drawn by weight (default 200)")
    tg.add_argument("--observed", help="figures published after the report (TOML, e.g. calibration/observed.toml): "
                    "each against the model's 90 %% predictive interval for its year, covered or missed and by how "
                    "much (with --posterior: under the posterior)")
    tg.add_argument("--out", help="output folder (default runs/targets)")
    for q, func in ((lv, cmd_levers), (tg, cmd_targets)):
        add_common(q)
        q.set_defaults(func=func)
