"""``convsim sweep`` (a parameter sweep) and ``convsim calibrate`` (ABC-SMC or rejection); both resume."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sim.cli.common import Watched, report_compile, say
from sim.cli.options import POSITIVE, TOLERANCE, add_backend, add_common


def _sweep_start(a: argparse.Namespace, spec: str, out: Path) -> Any:
    """``on_start``: the size of the work, and what is already done, before the first point runs."""
    from sim.sweep import load_sweep

    sw = load_sweep(spec)
    if a.backend == "local":
        from sim.sweep.design import design, point_scenario, point_values
        from sim.table import build_table

        report_compile("fast", build_table(point_scenario(sw, point_values(design(sw), 0))), a.quiet)

    def start(runs: int, todo: int) -> None:
        if not a.quiet:
            done = runs - todo
            arms = f" × {len(sw.arms)} scenarios" if len(sw.arms) > 1 else ""
            print(f"sweep {sw.id}: {runs // len(sw.arms)} points{arms} × {sw.spec.sweep.reps} replications, design "
                  f"{sw.spec.sweep.design}, backend {a.backend}"
                  + (f"; resuming: {done} of {runs} runs already in {out}" if done else ""), file=sys.stderr)

    return start


def _interrupted(out: Path, what: str) -> int:
    print(f"convsim: interrupted; every finished {what} is saved in {out}; run the same command again to resume",
          file=sys.stderr)
    return 130


def cmd_sweep(a: argparse.Namespace) -> int:
    from sim.jobs.control import Cancelled
    from sim.jobs.sweep import load_checked, run_points
    from sim.sweep.analysis import result_text

    sw, out = load_checked(a.spec, a.out, "sweep", a.backend, a.scheduler, a.workers)
    start = _sweep_start(a, a.spec, out)
    try:
        with Watched(a.quiet) as control:
            run_points(sw, out, a.backend, a.scheduler, a.workers, a.fresh, control, start)
    except (KeyboardInterrupt, Cancelled):
        return _interrupted(out, "point")
    print(result_text(sw, out))
    return 0


def cmd_calibrate(a: argparse.Namespace) -> int:
    from sim.jobs.calibrate import calibrate, is_smc_file
    from sim.jobs.control import Cancelled

    smc = a.method == "smc" or (a.method == "auto" and is_smc_file(a.spec))
    start = None
    if not smc:
        from sim.jobs.sweep import load_checked

        _, out = load_checked(a.spec, a.out, "calibrate", a.backend, a.scheduler, a.workers)
        start = _sweep_start(a, a.spec, out)
    else:
        from sim.calibration.priors import load_calibration

        out = Path(a.out) if a.out else Path("runs") / f"calibrate-{load_calibration(a.spec).id}"
    try:
        with Watched(a.quiet) as control:
            res = calibrate(a.spec, a.out, a.method, a.tolerance, a.backend, a.scheduler, a.workers, a.fresh,
                            a.export, a.predictive_sets, a.predictive_reps,
                            progress=control if not a.quiet else None, say=say(a.quiet), on_start=start,
                            observed=a.observed)
    except (KeyboardInterrupt, Cancelled):
        return _interrupted(out, "generation" if smc else "point")
    print(res.text())
    return 0


def add_parsers(sub: Any) -> None:
    s = sub.add_parser("sweep", help="run a parameter sweep (grid, Latin hypercube or Sobol); resumes if interrupted")
    s.add_argument("spec", help="sweep file (.toml), e.g. sweeps/bottlenecks.toml")
    s.add_argument("--out", help="output folder (default runs/sweep-<id>)")
    add_backend(s, "one task per point")
    s.add_argument("--fresh", action="store_true", help="replace an output folder made from another spec")
    add_common(s, seed=False, engine=False)
    s.set_defaults(func=cmd_sweep)

    k = sub.add_parser("calibrate", help="calibrate to the report's 2018–2022 figures: ABC-SMC (--method smc, "
                       "a posterior) or rejection over a sweep (an ensemble); resumes if interrupted")
    k.add_argument("spec", help="calibration file (.toml): calibration/smc.toml (smc) or calibration/priors.toml "
                   "(rejection)")
    k.add_argument("--out", help="output folder (default runs/calibrate-<id>)")
    k.add_argument("--method", choices=("auto", "rejection", "smc"), default="auto",
                   help="rejection (a sweep file, e.g. calibration/priors.toml) or smc (ABC-SMC with pyabc, a file "
                   "with [smc] and [[priors]], e.g. calibration/smc.toml); auto: by the file (default)")
    k.add_argument("--export", help="smc: also write posterior.csv, generations.csv, posterior_predictive.csv/.png "
                   "and posterior_marginals.png into this folder (replacing only files convsim wrote)")
    k.add_argument("--predictive-sets", type=POSITIVE, default=200,
                   help="smc: parameter sets drawn from the posterior for the predictive check (default 200)")
    k.add_argument("--predictive-reps", type=POSITIVE, default=10,
                   help="smc: replications per set in the predictive check (default 10)")
    k.add_argument("--observed", help="figures published after the report (calibration/observed.toml's format) as "
                   "extra targets: each a band (low and high, or value with tolerance) of a KPI in a year or window "
                   "of the scenario's horizon")
    k.add_argument("--tolerance", type=TOLERANCE, default=0.0,
                   help="accept a target missed by at most this share of the nearer end of its range (default 0)")
    add_backend(k, "one task per point of a rejection calibration, or ABC-SMC's candidates",
                "workers of the local Dask cluster; smc: local processes without --backend dask")
    k.add_argument("--fresh", action="store_true", help="replace an output folder made from another spec")
    add_common(k, seed=False, engine=False)
    k.set_defaults(func=cmd_calibrate)
