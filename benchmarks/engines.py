"""Benchmark: the fast engine against its previous version, the SimPy engines, and the start time.

Run: ``python benchmarks/engines.py [--baseline REV] [--rounds N] [--fast-reps N] [--ref-reps N]``.

* *This engine against the engine of commit REV* (default ``fe556b8``, the
  commit before issue 9's work): REV is exported with ``git archive`` into a
  temporary folder and both versions run the baseline in fresh one-thread
  processes, alternately, ``--rounds`` times (the machine is shared: only
  figures of the same run are compared). Each process loads its compiled
  code, then times the same ``--fast-reps`` replications three times and
  keeps the fastest; reported are each version's best replications/s, ns per
  event, and the median of the per-round ratios.
* ``--workload FILE``: in that comparison this version runs FILE instead of
  its baseline (e.g. ``benchmarks/workload_fe556b8.toml``, the firm population
  of the model as it was at ``fe556b8``), so that the two engines are compared
  on the same model once the baseline itself has grown.
* *Start*: ``convsim run scenarios/baseline.toml --reps 1`` as a whole process
  (warm cache), both versions alternately: wall and CPU time (user + system,
  from the process's start) until its result is printed, and until it exits.
* The SimPy reference engine with compiled rules (same process) and with
  interpreted rules (``NUMBA_DISABLE_JIT=1``: a SimPy model in plain Python
  whose keyed hash runs on Python integers), one-core vs all-core speed-up,
  compile time (from scratch and from the on-disk cache, fresh processes), and
  time per replication for a city with 2×, 4× and 8× the firms and offers.

Writes the figures to ``benchmarks/results/engines.json``. A measurement, never a test.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
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


_ONE_CORE = """
import json, sys, time
import numba
from sim.scenario import load_scenario
from sim.table import build_table
from sim.engines.fast import run_fast
t = build_table(load_scenario(sys.argv[1]))
run_fast(t, 0, [0])
numba.set_num_threads(1)
reps = range(int(sys.argv[2]))
best, best_cpu, events = float("inf"), float("inf"), 0.0
for _ in range(3):
    t0, c0 = time.perf_counter(), time.process_time()
    _, ev = run_fast(t, 1, reps)
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    best, best_cpu, events = min(best, dt), min(best_cpu, dc), float(ev.sum())
print(json.dumps({"reps_per_s": len(reps) / best, "ns_per_event": 1e9 * best / events,
                  "reps_per_cpu_s": len(reps) / best_cpu, "events_per_rep": events / len(reps)}))
"""


def _cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor()
    return next((ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Model name")), "")


def export_commit(rev: str) -> Path:
    """The source tree of commit ``rev`` of this repository, exported once into the temp folder and reused.

    A fixed folder keeps Numba's on-disk cache of that version (it is keyed by the source's path).
    """
    into = Path(tempfile.gettempdir()) / f"convsim-at-{rev}"
    if not (into / "sim").is_dir():
        into.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def _child_env(tree: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(tree), NUMBA_NUM_THREADS="1")
    env.pop("NUMBA_CACHE_DIR", None)  # each tree keeps its own cache (sim/_cache.py)
    return env


def one_core(tree: Path, reps: int, scenario: Path | None = None) -> dict[str, float]:
    """Best replications/s (of three timings of the same replications) of the fast engine of ``tree``, one thread.

    ``scenario``: the scenario file to run (default: the tree's own baseline).
    """
    path = scenario if scenario is not None else tree / "scenarios" / "baseline.toml"
    out = subprocess.run([sys.executable, "-c", _ONE_CORE, str(path), str(reps)],
                         capture_output=True, text=True, check=True, env=_child_env(tree), cwd=tree)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _cpu_so_far(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` has used so far (Linux ``/proc``; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime: fields 14, 15


def start_time(tree: Path, out_dir: Path) -> tuple[float, float, float, float]:
    """``convsim run scenarios/baseline.toml --reps 1`` of ``tree`` as a whole process (warm cache): wall and CPU
    seconds (user + system, from its start) until its result is printed (the line after its KPI table),
    then wall and CPU seconds until it has exited (Python's shutdown included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-m", "sim.cli", "run", "scenarios/baseline.toml", "--reps", "1", "--quiet",
                          "--out", str(out_dir)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         env=_child_env(tree), cwd=tree)
    assert p.stdout is not None
    shown = cpu_shown = float("nan")
    for line in p.stdout:
        if line.startswith("records:"):  # the line after the table: the result is on the screen
            shown, cpu_shown = time.perf_counter() - t0, _cpu_so_far(p.pid)
    if p.wait() != 0:
        raise RuntimeError(f"convsim run failed in {tree}")
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return shown, cpu_shown, wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def versus(rev: str, rounds: int, reps: int, workload: Path | None = None) -> dict[str, object]:
    """This tree against commit ``rev``: one-core rates and start times, measured alternately.

    ``workload``: a scenario file this tree runs instead of its baseline (commit ``rev`` always runs its own
    baseline), to compare the engines on the same model when the baseline itself has grown since ``rev``.
    """
    res: dict[str, object] = {"baseline_commit": rev, "workload_now": str(workload.name) if workload else "baseline"}
    with tempfile.TemporaryDirectory() as tmp:
        old = export_commit(rev)
        trees = {"previous": old, "now": ROOT}
        for name, tree in trees.items():  # compile (or load) each version once before timing
            one_core(tree, 1)
            start_time(tree, Path(tmp) / f"run-{name}")  # one folder each: versions may mark their output apart
        rates: dict[str, list[dict[str, float]]] = {k: [] for k in trees}
        starts: dict[str, list[tuple[float, float, float, float]]] = {k: [] for k in trees}
        for _ in range(rounds):
            for name, tree in trees.items():
                rates[name].append(one_core(tree, reps, workload if name == "now" else None))
                starts[name].append(start_time(tree, Path(tmp) / f"run-{name}"))
    ratios = sorted(n["reps_per_s"] / p["reps_per_s"] for n, p in zip(rates["now"], rates["previous"], strict=True))
    cpu_ratios = sorted(n["reps_per_cpu_s"] / p["reps_per_cpu_s"]
                        for n, p in zip(rates["now"], rates["previous"], strict=True))
    res["ratio_now_over_previous_cpu_time_median_of_rounds"] = cpu_ratios[len(cpu_ratios) // 2]
    res["ratio_now_over_previous_cpu_time_each_round"] = cpu_ratios
    for name in trees:
        best = max(rates[name], key=lambda r: r["reps_per_s"])
        res[f"{name}_fast_reps_per_s_1core"] = best["reps_per_s"]
        res[f"{name}_fast_ns_per_event"] = best["ns_per_event"]
        res[f"{name}_fast_reps_per_cpu_s_1core"] = max(r["reps_per_cpu_s"] for r in rates[name])
        res[f"{name}_fast_events_per_replication"] = best["events_per_rep"]
        res[f"{name}_fast_reps_per_s_1core_each_round"] = [r["reps_per_s"] for r in rates[name]]
        for k, label in enumerate(("wall_to_result", "cpu_to_result", "wall_to_exit", "cpu_to_exit")):
            res[f"{name}_start_{label}_s_best"] = min(r[k] for r in starts[name])
            res[f"{name}_start_{label}_s_each_round"] = [r[k] for r in starts[name]]
    res["ratio_now_over_previous_1core_median_of_rounds"] = ratios[len(ratios) // 2]
    res["ratio_now_over_previous_1core_each_round"] = ratios
    res["ratio_now_over_previous_1core_best_over_best"] = (res["now_fast_reps_per_s_1core"]  # type: ignore[operator]
                                                           / res["previous_fast_reps_per_s_1core"])
    return res


def _print_and_write(res: dict[str, object], name: str) -> None:
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
    write_results(name, res)



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ref-reps", type=int, default=30)
    ap.add_argument("--fast-reps", type=int, default=1000)
    ap.add_argument("--interpreted-reps", type=int, default=5,
                    help="replications of the reference engine with interpreted rules (0 = skip)")
    ap.add_argument("--skip-compile", action="store_true", help="skip the compile-time measurement")
    ap.add_argument("--baseline", default="fe556b8", help="commit to compare with (default: before issue 9)")
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds of the comparison (0 = skip)")
    ap.add_argument("--versus-reps", type=int, default=300, help="replications per timing in the comparison")
    ap.add_argument("--versus-only", action="store_true", help="only the comparison with --baseline")
    ap.add_argument("--workload", type=Path, default=None,
                    help="scenario this version runs in the comparison instead of its baseline (e.g. "
                         "benchmarks/workload_fe556b8.toml: the model of fe556b8 on this engine)")
    a = ap.parse_args()
    base = load_scenario(ROOT / "scenarios" / "baseline.toml")
    table = build_table(base)
    res: dict[str, object] = {"date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
                              "machine": platform.platform(), "cores": os.cpu_count(),
                              "numba_threads": numba.get_num_threads(), "numba": numba.__version__,
                              "cpu": _cpu_model()}
    if a.rounds > 0:
        res.update(versus(a.baseline, a.rounds, a.versus_reps, a.workload.resolve() if a.workload else None))
    if a.versus_only:
        name = "engines_versus" + ("" if a.baseline == "fe556b8" else f"_{a.baseline}")
        _print_and_write(res, name if a.workload is None else f"{name}_{a.workload.stem}")
        return

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

    _print_and_write(res, "engines")

if __name__ == "__main__":
    main()
