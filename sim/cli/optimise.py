"""``convsim optimise``: the best mix of the report's measures for a yearly budget (resumable)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sim.cli.common import Watched, say
from sim.cli.options import KEY, POSITIVE
from sim.errors import InputError


def parse_budgets(text: str) -> tuple[float, ...]:
    """``"1e6,3000000,5e6"`` → budgets in yuan a year; InputError on anything else."""
    out = []
    for part in text.split(","):
        try:
            out.append(float(part.strip()))
        except ValueError:
            raise InputError(f"--frontier: expected yuan amounts separated by commas, got {part.strip()!r}") from None
    return tuple(out)


def cmd_optimise(a: argparse.Namespace) -> int:
    from sim.jobs.control import Cancelled
    from sim.jobs.optimise import DB, OptimiseConfig, optimise

    cfg = OptimiseConfig(budget=a.budget, kpi=a.kpi, reps=a.reps, confirm_reps=a.confirm_reps, trials=a.trials,
                         seed=a.seed, baseline=Path(a.baseline), out=Path(a.out),
                         frontier=parse_budgets(a.frontier) if a.frontier else (), worlds=a.worlds, risk=a.risk,
                         world_reps=a.world_reps, confirm_worlds=a.confirm_worlds,
                         posterior=Path(a.posterior) if a.posterior is not None else None, batch=a.batch,
                         backend=a.backend, scheduler=a.scheduler, workers=a.workers)
    try:
        with Watched(a.quiet) as control:
            res = optimise(cfg, control, say(a.quiet))
    except (KeyboardInterrupt, Cancelled):
        if (cfg.out / DB).exists():
            print(f"convsim: interrupted; every finished trial is kept in {cfg.out / DB}; run the same command "
                  "again to resume", file=sys.stderr)
            return 130
        raise
    print(res.summary_text)
    files = "best.toml, best.csv, result.json, summary.txt" + (", frontier.csv, frontier.png" if a.frontier else "")
    print(f"files: {cfg.out}/ {files} (study: {cfg.out / DB}); {res.result.get('wall_seconds', 0):.0f} s")
    return 0


def add_parsers(sub: Any) -> None:
    o = sub.add_parser("optimise", help="search the best mix of the group scenarios' levers for a yearly budget "
                       "(Optuna TPE, successive halving, fresh re-estimate); resumes if interrupted")
    o.add_argument("--budget", type=float, required=True, help="yuan a year; no year's lever cost may exceed it")
    o.add_argument("--kpi", default="industrialised", help="KPI to improve, as in `convsim compare` (default "
                   "industrialised, 2023–horizon)")
    o.add_argument("--reps", type=POSITIVE, default=240, help="paired replications of a mix that survives every "
                   "rung of successive halving (rungs reps/9, reps/3, reps; default 240; with --worlds: --world-reps)")
    o.add_argument("--confirm-reps", type=POSITIVE, default=1000, help="fresh replications of the re-estimate "
                   "at the stated values (default 1000)")
    o.add_argument("--trials", type=POSITIVE, default=150, help="mixes tried per budget (default 150)")
    o.add_argument("--seed", type=KEY, default=0, help="master seed of the simulation and the sampler (default 0)")
    o.add_argument("--baseline", default="scenarios/baseline.toml", help="baseline file; the group scenarios "
                   "g1–g5 and the shipped scenarios are read from its folder (default scenarios/baseline.toml)")
    o.add_argument("--out", default="runs/optimise", help="output folder (default runs/optimise)")
    o.add_argument("--frontier", help="budgets B1,B2,… (yuan a year): best mix at each, frontier.csv and .png")
    o.add_argument("--worlds", type=int, default=0,
                   help="judge every mix in N worlds of uncertainty (a calibrated parameter set and a draw of every "
                   "lever's effect and cost), the same N for every mix (default 0: the stated values only)")
    o.add_argument("--risk", default="mean", help="with --worlds: maximise the mean over worlds, or p10, the 10th "
                   "percentile (the bad tail), or minimise regret, its 90th percentile against the shipped scenarios "
                   "and single levers within the budget (p10 and regret need --worlds 10 or more) (default mean)")
    o.add_argument("--world-reps", type=int, default=None, help="with --worlds: paired replications per world of a "
                   "mix that survives every rung, and per fresh world (default 50)")
    o.add_argument("--confirm-worlds", type=int, default=None, help="with --worlds: fresh worlds of the "
                   "re-estimate (default 40, or --worlds if more)")
    o.add_argument("--posterior", default=None, help="with --worlds: calibrated parameter sets, CSV with an optional "
                   "weight column (default calibration/posterior.csv, else calibration/ensemble.csv, beside the "
                   "scenario folder)")
    o.add_argument("--batch", type=POSITIVE, default=1, help="trials asked and evaluated together (default 1, the "
                   "one-at-a-time search); part of the result's identity: the same seed and batch give the same "
                   "result on any workers; use more (e.g. 4) with --workers or Dask")
    o.add_argument("--backend", choices=("local", "dask"), default="local",
                   help="where the trials run: local (this machine; --workers N: N processes) or dask")
    o.add_argument("--scheduler", help="Dask scheduler address (default: a local cluster)")
    o.add_argument("--workers", type=POSITIVE, default=None,
                   help="local processes, or workers of the local Dask cluster (default: one process; Dask: one "
                   "per core)")
    o.add_argument("--quiet", action="store_true", help="no progress bar")
    o.set_defaults(func=cmd_optimise)
