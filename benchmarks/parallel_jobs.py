"""Benchmark: the optimiser and the ABC-SMC calibration on 1 worker, 2 local processes and a 2-worker Dask cluster.

Run: ``python benchmarks/parallel_jobs.py [--trials N] [--reps N] [--population N] [--smc-reps N] [--rounds N]``.

* *Optimiser*: a search over the shipped group scenarios' levers (``scenarios/g1…g5``, baseline
  ``scenarios/baseline.toml``), budget 3 M yuan a year, ``--trials`` trials in batches of 4, ``--reps``
  replications at the last rung, then the selection of the finalists; a new study file each time.
* *Calibration*: ``calibration/smc.toml`` with ``--population`` particles of ``--smc-reps`` replications,
  two generations (the prior sample, then one generation at the median distance).

Each job runs in this process (the inline executor: the engine's replications on every core), on a pool of 2
local processes (``--workers 2``: each process's engine on one core) and on a local Dask cluster of 2 worker
processes, one thread each; ``--rounds`` rounds, the order rotated each round. Every time is wall time of the
whole job, including starting the pool or the cluster (the processes load the compiled engine from the
cache). Speed-ups are ratios of times measured in the same round; the results of every run are checked
identical to the first (what the job's tests also check). The start-up alone (pool or cluster started, the
engine loaded in every worker) is timed first. The machine's load average is printed before
and after each run: the cores may be shared. Writes ``benchmarks/results/parallel_jobs.json``.
A measurement, never a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import tomli_w
from _results import write_results  # benchmarks/_results.py (run as a script: its folder is on the path)

ROOT = Path(__file__).resolve().parents[1]
WHERE = ("1 worker (inline)", "2 local processes", "Dask LocalCluster, 2 workers")
GROUPS = ("g1_awareness.toml", "g2_platforms.toml", "g3_talent.toml", "g4_intermediaries.toml", "g5_finance.toml")


@contextmanager
def place(where: str) -> Iterator[tuple[str, str | None, int | None]]:
    """(backend, scheduler, workers) of one of :data:`WHERE`; the Dask cluster is started here (and timed)."""
    if where == WHERE[0]:
        yield "local", None, None
    elif where == WHERE[1]:
        yield "local", None, 2
    else:
        from dask.distributed import LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            yield "dask", cluster.scheduler_address, None


def optimise(backend: str, scheduler: str | None, workers: int | None, trials: int, reps: int) -> Any:
    """A small search (see the module's docstring); its result and its finished trials."""
    import optuna

    from sim.executor import executor, job_backend
    from sim.optimise.evaluate import Evaluator
    from sim.optimise.search import DONE, Search, SearchConfig
    from sim.optimise.space import Space
    from sim.scenario import load_scenario

    base_path = ROOT / "scenarios" / "baseline.toml"
    baseline = load_scenario(base_path)
    space = Space([load_scenario(ROOT / "scenarios" / g) for g in GROUPS], baseline, str(base_path))
    ev = Evaluator(baseline, "industrialised", 0)
    kind = job_backend(backend, workers)
    with tempfile.TemporaryDirectory() as d, executor(kind, scheduler, workers) as ex:
        ev.use(ex, 1 if kind == "dask" else None)
        s = Search(space, ev, SearchConfig(3e6, reps, trials, 0, "industrialised", batch=4), Path(d) / "s.log")
        r = s.run()
        done = [(t.params, t.value, t.state == optuna.trial.TrialState.PRUNED) for t in s.study.get_trials(states=DONE)]
    return r.best_mix, r.best_score, r.selection_score, done


def calibrate(backend: str, scheduler: str | None, workers: int | None, population: int, reps: int) -> Any:
    """Two generations of a small calibration; the posterior and each generation's simulations."""
    from sim.calibration import smc
    from sim.calibration.priors import load_calibration

    spec = tomllib.loads((ROOT / "calibration" / "smc.toml").read_text(encoding="utf-8"))
    spec["smc"].update({"population": population, "reps": reps, "scenario": str(ROOT / "scenarios" / "baseline.toml")})
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "smc.toml"
        path.write_text(tomli_w.dumps(spec), encoding="utf-8")
        cal = load_calibration(path)
        gens = smc.run_smc(cal, Path(d) / "out", generations=2, backend=backend, scheduler=scheduler,
                           workers=workers)
        post = smc.posterior(cal, Path(d) / "out" / smc.DB)
    return post, [g.simulations for g in gens]


def _warm(_: int) -> int:
    """A worker's first task: load the compiled engine and run one replication of the baseline."""
    from sim.engines.fast import run_fast
    from sim.scenario import load_scenario
    from sim.table import build_table

    run_fast(build_table(load_scenario(ROOT / "scenarios" / "baseline.toml")), 0, [0])
    return os.getpid()


def start_up(backend: str, scheduler: str | None, workers: int | None) -> int:
    """Start the executor and have each worker load the engine (what every job pays before its first batch)."""
    from sim.executor import executor, job_backend, map_ordered, slots

    with executor(job_backend(backend, workers), scheduler, workers) as ex:
        return len(set(map_ordered(ex, _warm, range(4 * slots(ex)))))


def same(a: Any, b: Any) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, pd.DataFrame):
        return a.equals(b)
    return bool(a == b)


def timed(job: Callable[..., Any], where: str, *args: Any) -> tuple[float, Any, tuple[float, float]]:
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    with place(where) as (backend, scheduler, workers):
        out = job(backend, scheduler, workers, *args)
    secs = time.perf_counter() - t0
    return secs, out, (load0, os.getloadavg()[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=48)
    ap.add_argument("--reps", type=int, default=81)
    ap.add_argument("--population", type=int, default=200)
    ap.add_argument("--smc-reps", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    from sim.engines.fast import compile_time
    from sim.scenario import load_scenario
    from sim.table import build_table

    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    ready = compile_time(build_table(load_scenario(ROOT / "scenarios" / "baseline.toml")))
    print(f"compiled engine ready in {ready:.1f} s")
    print(f"load average before: {os.getloadavg()}")
    jobs: dict[str, tuple[Callable[..., Any], tuple[Any, ...]]] = {
        "start-up": (start_up, ()),
        f"optimise ({a.trials} trials in batches of 4, {a.reps} reps)": (optimise, (a.trials, a.reps)),
        f"calibrate ({a.population} particles x {a.smc_reps} reps, 2 generations)": (calibrate,
                                                                                  (a.population, a.smc_reps)),
    }
    figures: dict[str, Any] = {"cores": os.cpu_count(), "args": vars(a), "runs": []}
    times: dict[tuple[str, str], list[float]] = {(j, w): [] for j in jobs for w in WHERE}
    first: dict[str, Any] = {}
    for k in range(a.rounds):
        order = WHERE[k % 3:] + WHERE[:k % 3]  # rotated: no place always runs first or last
        for where in order:
            for name, (job, args) in jobs.items():
                if name == "start-up" and where == WHERE[0]:
                    times[(name, where)].append(0.0)
                    continue
                secs, out, load = timed(job, where, *args)
                ok = name == "start-up" or same(out, first.setdefault(name, out))
                print(f"round {k} | {name} | {where}: {secs:.1f} s (load {load[0]:.2f} -> {load[1]:.2f})"
                      + ("" if name == "start-up" else f", {'identical' if ok else 'DIFFERENT'} result"))
                if not ok:
                    raise SystemExit(f"{name}: {where} gave another result")
                times[(name, where)].append(secs)
                figures["runs"].append({"job": name, "where": where, "round": k, "seconds": secs, "load": load})
    print("\nspeed-up over 1 worker (time on 1 worker / time here, per round, same round; "
          "'after start-up': the start-up of that round subtracted)")
    for name in list(jobs)[1:]:
        for w in WHERE[1:]:
            whole = [one / here for one, here in zip(times[(name, WHERE[0])], times[(name, w)], strict=True)]
            warm = [one / (here - up) for one, here, up in zip(times[(name, WHERE[0])], times[(name, w)],
                                                               times[("start-up", w)], strict=True)]
            one, here, up = (statistics.median(times[key]) for key in ((name, WHERE[0]), (name, w), ("start-up", w)))
            print(f"{name} | {w}: {statistics.median(whole):.2f}x whole job ({', '.join(f'{r:.2f}' for r in whole)}); "
                  f"{statistics.median(warm):.2f}x after start-up ({', '.join(f'{r:.2f}' for r in warm)}); "
                  f"median times: 1 worker {one:.1f} s, here {here:.1f} s, of which start-up {up:.1f} s")
            figures[f"{name} | {w}"] = {"speedup_whole": whole, "speedup_after_start_up": warm}
    print(f"load average after: {os.getloadavg()}")
    write_results("parallel_jobs", figures)


if __name__ == "__main__":
    main()
