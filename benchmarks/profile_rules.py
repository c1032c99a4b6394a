"""Profile: where the fast engine's time goes, function by function (Linux ``perf``).

Run: ``python benchmarks/profile_rules.py [--reps N]``. A child process
compiles the fast engine into an empty cache (so the compiled object code is at
hand), writes a ``/tmp/perf-<pid>.map`` that names every compiled function and
Numba's reference-count helpers, and runs ``N`` baseline replications on one
thread while ``perf record`` samples it. The samples are grouped as: the event
loop (calendar, queues, dispatch, and the rules compiled into it: those
declared ``inline="always"``, see ``sim/rules/__init__.py``), Numba's reference counting (``NRT_incref`` /
``NRT_decref``: atomic adds around calls that pass arrays), each rule
function, the random-number transforms, and the C maths library. Rules that
Numba or LLVM inlined into the loop are counted in the loop, so the rule share is a
lower bound. Prints a table and writes ``benchmarks/results/profile_rules.json``.

It complements ``profile_fast.py`` (time per *event kind*) and answers what
bounds the engine: the share spent inside the rules is mostly work the model
itself asks for, but it also holds the cost of *calling* a rule (its arrays
passed as structures, reference counting), which inlining the rule removes
(BENCHMARKS.md, issue 9, fourth session).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from _results import write_results  # benchmarks/_results.py (run as a script: its folder is on the path)

ROOT = Path(__file__).resolve().parents[1]
ENGINE = {"run_one", "_serve", "_next_accepted", "_start_finance", "_finance_done", "run_batch"}
RNG = {"normal_ppf", "lognormal", "exponential", "poisson", "binomial", "categorical_rows", "uniform", "draw",
       "rep_key"}
LIBM = re.compile(r"(log1p|exp|pow|log|sqrt)")


def demangle(sym: str) -> str:
    """``_ZN3sim5rules6supply12create_offerB4v201…`` → ``sim.rules.supply.create_offer``."""
    if not sym.startswith("_ZN"):
        return sym
    parts, i = [], 3
    while i < len(sym) and sym[i].isdigit():
        j = i
        while sym[j].isdigit():
            j += 1
        n = int(sym[i:j])
        parts.append(sym[j:j + n])
        i = j + n
    return ".".join(parts) or sym


def group(name: str, dso: str) -> tuple[str, str]:
    """(group, label) of one sampled symbol."""
    if name in ("NRT_incref", "NRT_decref", "nrt_atomic_add", "nrt_atomic_sub"):
        return "reference counting (NRT)", name
    short = name.rsplit(".", 1)[-1]
    if name.startswith("sim.engines.fast."):
        return "event loop with its inlined rules (calendar, queues, dispatch)", short
    if name.startswith("sim.rng.") and short in RNG:
        return "random-number transforms", short
    if name.startswith("sim.rules."):
        return "rules", name.removeprefix("sim.rules.")
    if name.startswith(("numba.misc.", "numba.np.")):
        return "rules", "Numba's numpy code called by rules (np.partition in init_firms, np.sort of event slots)"
    if "libm" in dso or LIBM.fullmatch(name.split("@")[0].lstrip("_").removeprefix("ieee754_").split("_fma")[0]):
        return "C maths library (log, exp, pow)", name.split("@")[0]
    return "other", name


# ---- the child: compile, name the code, run when told ----------------------------------------

def child(reps: int, scenario: str) -> None:
    import gc

    import numba
    from numba.core import dispatcher
    from numba.core.runtime import nrt

    from sim.engines.fast import run_fast
    from sim.scenario import load_scenario
    from sim.table import build_table

    table = build_table(load_scenario(scenario))
    run_fast(table, 0, [0])
    numba.set_num_threads(1)
    lines = []
    obj_path = Path(tempfile.mkdtemp()) / "lib.o"
    for obj in gc.get_objects():
        if not isinstance(obj, dispatcher.Dispatcher):
            continue
        for cres in obj.overloads.values():
            lib = cres.library
            try:
                obj_path.write_bytes(lib._get_compiled_object())
            except RuntimeError:
                continue  # loaded from a cache: no object code at hand
            nm = subprocess.run(["nm", "-S", "--defined-only", str(obj_path)], capture_output=True, text=True,
                                check=True).stdout
            syms = {}
            for ln in nm.splitlines():
                p = ln.split()
                if len(p) == 4 and p[2] in "tTW":
                    syms[p[3]] = (int(p[0], 16), int(p[1], 16))
            ref = cres.fndesc.llvm_func_name
            if ref not in syms:
                continue
            base = lib.get_pointer_to_function(ref) - syms[ref][0]
            lines += [f"{base + off:x} {size:x} {demangle(name)}" for name, (off, size) in syms.items()]
    for name in ("nrt_atomic_add", "nrt_atomic_sub", "NRT_incref", "NRT_decref"):
        lines.append(f"{nrt.rtsys.library.get_pointer_to_function(name):x} 10 {name}")
    Path(f"/tmp/perf-{os.getpid()}.map").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"ready {os.getpid()} {len(lines)}", flush=True)
    sys.stdin.readline()
    t0 = time.perf_counter()
    _, events = run_fast(table, 1, range(reps))
    dt = time.perf_counter() - t0
    print(f"done {dt} {float(events.mean())}", flush=True)


# ---- the parent: sample the child, group the samples -----------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reps", type=int, default=3000)
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.toml"),
                    help="scenario file to run (default: the baseline)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(a.reps, a.scenario)
        return
    if not shutil.which("perf"):
        sys.exit("profile_rules.py needs Linux perf (package linux-tools / perf) on the PATH")
    with tempfile.TemporaryDirectory() as work:
        env = dict(os.environ, NUMBA_CACHE_DIR=str(Path(work) / "cache"), NUMBA_NUM_THREADS="1")
        proc = subprocess.Popen([sys.executable, __file__, "--child", "--reps", str(a.reps), "--scenario", a.scenario],
                                stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, env=env)
        assert proc.stdin and proc.stdout
        ready = proc.stdout.readline().split()
        pid = ready[1]
        data = str(Path(work) / "perf.data")
        perf = subprocess.Popen(["perf", "record", "-F", "4999", "-p", pid, "-o", data], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        proc.stdin.write("go\n")
        proc.stdin.flush()
        done = proc.stdout.readline().split()
        perf.send_signal(signal.SIGINT)
        perf.wait()
        proc.wait()
        report = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "dso,sym", "--stdio",
                                 "-F", "overhead,dso,sym"], capture_output=True, text=True, check=True).stdout
        Path(f"/tmp/perf-{pid}.map").unlink(missing_ok=True)
    seconds, events = float(done[1]), float(done[2])
    shares: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for ln in report.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\S+(?: tid \d+)?)\s+\[\.\]\s+(.+?)\s*$", ln)
        if m:
            g, label = group(m.group(3), m.group(2))
            shares[g][label] += float(m.group(1))
    total = sum(sum(v.values()) for v in shares.values())
    ms = 1e3 * seconds / a.reps
    print(f"{a.reps} replications of {Path(a.scenario).name} on 1 thread: {ms:.2f} ms/replication, "
          f"{events:,.0f} events/replication "
          f"(sampling slows the run by a few per cent)\n")
    res: dict[str, object] = {"date_utc": datetime.now(UTC).isoformat(timespec="seconds"), "reps": a.reps,
                              "scenario": Path(a.scenario).name,
                              "ms_per_rep": ms, "events_per_rep": events, "groups": {}}
    for g, labels in sorted(shares.items(), key=lambda kv: -sum(kv[1].values())):
        gs = 100.0 * sum(labels.values()) / total
        print(f"{gs:5.1f} %  {g}")
        top = sorted(labels.items(), key=lambda kv: -kv[1])
        for label, v in top[:12]:
            print(f"         {100.0 * v / total:5.1f} %  {label}")
        res["groups"][g] = {"share": gs, "functions": {k: 100.0 * v / total for k, v in top}}  # type: ignore[index]
    write_results("profile_rules", res)


if __name__ == "__main__":
    main()
