"""Benchmark of the SimPy reference engine: replications and events per second.

Run: ``python benchmarks/reference_engine.py [--reps N]``. Prints the figures and
writes them as JSON under ``benchmarks/results/``. A measurement, never a test.
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

from _results import write_results  # benchmarks/_results.py (run as a script: its folder is on the path)

from sim.engines.reference import Replication
from sim.scenario import load_scenario
from sim.table import build_table

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reps", type=int, default=50)
    a = ap.parse_args()
    table = build_table(load_scenario(ROOT / "scenarios" / "baseline.toml"))
    t0 = time.perf_counter()
    Replication(table, 0, 0).run()  # compile (or load the cached compiled rules)
    warm = time.perf_counter() - t0
    events = 0
    t0 = time.perf_counter()
    for rep in range(a.reps):
        r = Replication(table, 1, rep)
        r.run()
        events += next(r.env._eid)  # SimPy numbers every scheduled event; the next number is the count
    dt = time.perf_counter() - t0
    res = {
        "engine": "simpy",
        "replications": a.reps,
        "seconds": dt,
        "replications_per_s": a.reps / dt,
        "simpy_events_per_s": events / dt,
        "events_per_replication": events / a.reps,
        "first_replication_s_incl_compile_or_cache_load": warm,
        "machine": platform.platform(),
        "processor": platform.processor(),
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    for k, v in res.items():
        print(f"{k:>48}: {v:.4g}" if isinstance(v, float) else f"{k:>48}: {v}")
    write_results("reference_engine", res)


if __name__ == "__main__":
    main()
