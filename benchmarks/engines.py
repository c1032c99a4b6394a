"""Benchmark: the fast engine against the SimPy reference engine, in one process.

Run: ``python benchmarks/engines.py [--ref-reps N] [--fast-reps N]``. Prints
replications/s of both engines on one core and their ratio, and, for context,
the reference engine with its rules interpreted (``NUMBA_DISABLE_JIT=1``, in a
subprocess: a SimPy model running as plain Python), events/s of the
fast engine, the one-core vs all-core speed-up, compile time (from scratch and
from the on-disk cache, each in a fresh process), and time per replication for
a city with 2×, 4× and 8× the firms and offers. Writes the figures to
``benchmarks/results/engines.json``. A measurement, never a test.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numba
from _results import write_results  # benchmarks/_results.py (run as a script: its folder is on the path)

from sim.engines.fast import run_fast
from sim.engines.reference import run_reference
from sim.scenario import Scenario, load_scenario, scenario_from_dict
from sim.table import build_table

ROOT = Path(__file__).resolve().parents[1]
_COMPILE = """
import time
t0 = time.perf_counter()
from sim.scenario import load_scenario
from sim.table import build_table
from sim.engines.fast import run_fast
t = build_table(load_scenario({path!r}))
run_fast(t, 0, [0])
print(time.perf_counter() - t0)
"""


def scaled(sc: Scenario, k: int) -> Scenario:
    """The city with ``k`` × the firms and ``k`` × the offers of every channel."""
    d = sc.model_dump(mode="python")
    f, s = d["params"]["firms"], d["params"]["supply"]
    f["n_above_size"] *= k
    f["n_tech_sme"] *= k
    s["thinning_ceiling"] *= k
    s["offers_per_event"] *= k
    for key in ("platform_offers_per_year", "offers_per_workstation_year", "offers_per_agency_year",
                "offers_per_commissioner_year", "offers_per_institute_year"):
        s[key] *= k
    return scenario_from_dict(d)


_INTERPRETED = """
import time
from sim.scenario import load_scenario
from sim.table import build_table
from sim.engines.reference import run_reference
t = build_table(load_scenario({path!r}))
t0 = time.perf_counter()
for rep in range({reps}):
    run_reference(t, 1, rep)
print({reps} / (time.perf_counter() - t0))
"""


def interpreted_reference_rate(reps: int) -> float:
    """Replications/s of the SimPy engine with every rule run as plain Python (no compiled code at all)."""
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    code = _INTERPRETED.format(path=str(ROOT / "scenarios" / "baseline.toml"), reps=reps)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return float(out.stdout.strip().splitlines()[-1])


def compile_seconds(cache_dir: str) -> float:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", _COMPILE.format(path=str(ROOT / "scenarios" / "baseline.toml"))],
                         capture_output=True, text=True, check=True, env=env)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ref-reps", type=int, default=30)
    ap.add_argument("--fast-reps", type=int, default=1000)
    ap.add_argument("--interpreted-reps", type=int, default=5,
                    help="replications of the reference engine with interpreted rules (0 = skip)")
    ap.add_argument("--skip-compile", action="store_true", help="skip the compile-time measurement")
    a = ap.parse_args()
    base = load_scenario(ROOT / "scenarios" / "baseline.toml")
    table = build_table(base)
    res: dict[str, object] = {"date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
                              "machine": platform.platform(), "cores": os.cpu_count(),
                              "numba_threads": numba.get_num_threads(), "numba": numba.__version__}

    run_fast(table, 0, [0])  # compiled rules loaded before timing either engine
    t0 = time.perf_counter()
    for rep in range(a.ref_reps):
        run_reference(table, 1, rep)
    ref_rate = a.ref_reps / (time.perf_counter() - t0)

    all_threads = numba.get_num_threads()
    numba.set_num_threads(1)
    t0 = time.perf_counter()
    _, events = run_fast(table, 1, range(a.fast_reps))
    dt1 = time.perf_counter() - t0
    numba.set_num_threads(all_threads)
    t0 = time.perf_counter()
    run_fast(table, 1, range(a.fast_reps))
    dtn = time.perf_counter() - t0
    fast_rate = a.fast_reps / dt1
    res.update({
        "reference_reps_per_s_1core": ref_rate,
        "fast_reps_per_s_1core": fast_rate,
        "fast_reps_per_s_all_cores": a.fast_reps / dtn,
        "ratio_fast_over_reference_1core": fast_rate / ref_rate,
        "fast_events_per_s_1core": float(events.sum()) / dt1,
        "fast_events_per_replication": float(events.mean()),
        "speedup_all_cores_over_1": dt1 / dtn,
    })

    if a.interpreted_reps > 0:
        interp = interpreted_reference_rate(a.interpreted_reps)
        res["reference_interpreted_reps_per_s_1core"] = interp
        res["ratio_fast_over_interpreted_reference_1core"] = fast_rate / interp

    scaling = {}
    numba.set_num_threads(1)
    for k in (1, 2, 4, 8):
        t = build_table(scaled(base, k))
        run_fast(t, 0, [0])
        n = max(40, a.fast_reps // (2 * k))
        best = float("inf")
        for _ in range(3):  # best of three: the 8× city's few replications are otherwise noisy
            t0 = time.perf_counter()
            _, ev = run_fast(t, 2, range(n))
            best = min(best, (time.perf_counter() - t0) / n)
        scaling[k] = {"ms_per_rep": 1e3 * best, "events_per_rep": float(ev.mean())}
    numba.set_num_threads(all_threads)
    ks = sorted(scaling)
    res["scaling"] = scaling
    res["scaling_growth_per_doubling"] = [scaling[b]["ms_per_rep"] / (2 * scaling[a_]["ms_per_rep"])
                                          for a_, b in itertools.pairwise(ks)]

    if not a.skip_compile:
        with tempfile.TemporaryDirectory() as cache:
            res["compile_s_from_scratch"] = compile_seconds(cache)
            res["compile_s_from_cache"] = compile_seconds(cache)

    for k, v in res.items():
        if isinstance(v, float):
            print(f"{k:>36}: {v:,.4g}")
        elif k == "scaling":
            for kk, vv in v.items():  # type: ignore[union-attr]
                label = f"scale {kk}×"
                print(f"{label:>36}: {vv['ms_per_rep']:.3f} ms/rep, {vv['events_per_rep']:,.0f} events")
        elif k == "scaling_growth_per_doubling":
            print(f"{k:>36}: {', '.join(f'{x:.3f}' for x in v)}  (1.0 = linear)")  # type: ignore[union-attr]
        else:
            print(f"{k:>36}: {v}")
    write_results("engines", res)


if __name__ == "__main__":
    main()
