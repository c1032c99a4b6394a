"""``convsim discover``: under which combinations of uncertain inputs does a recommendation fail (PRIM)?"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sim.cli.common import Watched, check_out, say_replacing
from sim.cli.options import AT_LEAST_TWO, add_common, checked, worlds_type
from sim.jobs import options


def cmd_discover(a: argparse.Namespace) -> int:
    from sim.analysis.discovery import check_threshold
    from sim.jobs.compare import compare, scenario_files
    from sim.jobs.discover import discover

    check_threshold(a.threshold)
    paths = [Path(p) for p in a.scenarios] if a.scenarios else scenario_files(a.baseline)
    out = Path(a.out) if a.out else Path("runs") / "discover"
    state = check_out(out, "--out", ("discover",))
    with Watched(a.quiet) as control:
        res = compare(a.baseline, paths, reps=2, seed=a.seed, engine=a.engine, progress=control, kpi=a.kpi,
                      worlds=a.worlds, world_reps=a.world_reps, posterior=a.posterior, backend=a.backend,
                      scheduler=a.scheduler)
    found = discover(res, a.outcome, a.threshold, a.boxes)
    say_replacing(state, out, a.quiet)
    found.write(out, a.lang)
    print(found.text(a.lang))
    print(f"\nboxes: {out / 'boxes.csv'}  figure: {out / 'discovery.png'}  worlds: {out / 'worlds.csv'}")
    return 0


def add_parsers(sub: Any) -> None:
    from sim.cli.options import RANKABLE

    d = sub.add_parser("discover", help="scenario discovery (PRIM) over worlds of uncertainty: the combinations of "
                       "inputs under which the leader loses, a scenario shows no gain, or one falls below another")
    d.add_argument("scenarios", nargs="*", help="scenario files (default: every .toml beside the baseline)")
    d.add_argument("--baseline", default="scenarios/baseline.toml", help="baseline file (default "
                   "scenarios/baseline.toml)")
    d.add_argument("--outcome", default="leader-loses", help="leader-loses (default), no-gain:<scenario id> or "
                   "below:<scenario id>:<scenario id>")
    d.add_argument("--kpi", default="industrialised", choices=RANKABLE, metavar="KEY",
                   help="the KPI the outcome is judged on (default industrialised)")
    d.add_argument("--worlds", type=worlds_type(10_000), default=100,
                   help="worlds of uncertainty to search (default 100; PRIM needs a few dozen at least)")
    d.add_argument("--world-reps", type=AT_LEAST_TWO, default=50, help="paired replications per world (default 50)")
    d.add_argument("--posterior", default=None, help="calibrated parameter sets (default calibration/posterior.csv "
                   "beside the scenario folder)")
    d.add_argument("--threshold", type=checked(options.number, 0.0, 1.0, True, kind=float), default=0.8,
                   help="density a box should reach (default 0.8)")
    d.add_argument("--boxes", type=checked(options.whole, 1, 20), default=3, help="boxes at most (default 3)")
    d.add_argument("--backend", choices=("local", "dask"), default="local", help="local or dask (default local)")
    d.add_argument("--scheduler", help="Dask scheduler address (default: a local cluster)")
    d.add_argument("--out", help="output folder (default runs/discover)")
    add_common(d, lang=True)
    d.set_defaults(func=cmd_discover)
