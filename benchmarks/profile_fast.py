"""Where the fast engine's time goes: time per event kind, measured inside the compiled loop.

Run: ``python benchmarks/profile_fast.py [--reps N]``. The script builds an
instrumented copy of ``sim/engines/fast.py`` in a temporary folder (the engine
itself stays free of timing code): a monotonic clock (``clock_gettime`` through
ctypes, ≈ 40 ns a call) is read around the handling of every event and the time
is added to the event's kind; filing and popping events in the calendar count
as "outside events". It fails loudly if the engine no longer has the anchors it
edits. Writes ``benchmarks/results/profile_fast.json``. For time per compiled
*function* (rules, maths library, reference counting) see ``profile_rules.py``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np
from _results import write_results  # benchmarks/_results.py (run as a script: its folder is on the path)

from sim.engines.fast import run_fast
from sim.scenario import load_scenario
from sim.table import build_table

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("year_end", "event_slot", "arrival", "search_done", "retry", "negotiation_done", "pilot_done",
         "finance_done", "rampup_done")

_CLOCK = '''
import ctypes

_clock_gettime = ctypes.CDLL(None).clock_gettime
_clock_gettime.argtypes = [ctypes.c_int, ctypes.c_void_p]
_clock_gettime.restype = ctypes.c_int


@nb.njit
def _now_ns(buf):
    _clock_gettime(1, buf.ctypes.data)
    return buf[0] * 1000000000 + buf[1]
'''

_EDITS = (
    ("from sim.table import Table\n", "from sim.table import Table\n" + _CLOCK),
    ("            stats: np.ndarray) -> np.ndarray:", "            stats: np.ndarray, tk: np.ndarray) -> np.ndarray:"),
    ("    processed = 0\n", "    processed = 0\n    tb = np.zeros(2, dtype=np.int64)\n"),
    ("        processed += 1\n", "        processed += 1\n        t_start = _now_ns(tb)\n"),
    ("    rules.year_end(P, F, O, W, R, n_years, n_years, rk)\n    rules.finalise(",
     "        tk[kind] += _now_ns(tb) - t_start\n        tk[20 + kind] += 1\n"
     "    rules.year_end(P, F, O, W, R, n_years, n_years, rk)\n    rules.finalise("),
)


def instrumented(folder: Path):  # type: ignore[no-untyped-def]
    src = (ROOT / "sim" / "engines" / "fast.py").read_text(encoding="utf-8").replace("cache=True", "cache=False")
    for old, new in _EDITS:
        if old not in src:
            raise SystemExit(f"profile_fast: the engine changed; anchor not found: {old!r}")
        src = src.replace(old, new, 1)
    path = folder / "fast_profiled.py"
    path.write_text(src, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("fast_profiled", path)
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["fast_profiled"] = mod
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reps", type=int, default=200)
    a = ap.parse_args()
    t = build_table(load_scenario(ROOT / "scenarios" / "baseline.toml"))
    with tempfile.TemporaryDirectory() as d:
        fp = instrumented(Path(d))
        tk = np.zeros(40, dtype=np.int64)
        st = np.zeros(1)
        fp.run_one(t.P, t.n_firms, t.n_years, t.max_offers, 1, 0, st, tk)  # compile
        tk[:] = 0
        t0 = time.perf_counter()
        for r in range(a.reps):
            fp.run_one(t.P, t.n_firms, t.n_years, t.max_offers, 1, r, st, tk)
        total_ms = 1e3 * (time.perf_counter() - t0) / a.reps
    # the plain engine on the same replications, one thread: what the clock reads cost
    numba.set_num_threads(1)
    run_fast(t, 1, range(a.reps))  # load or compile
    t0 = time.perf_counter()
    run_fast(t, 1, range(a.reps))
    plain_ms = 1e3 * (time.perf_counter() - t0) / a.reps
    rows = {}
    print(f"{'event kind':<18}{'events/rep':>12}{'ns/event':>12}{'ms/rep':>10}{'share':>8}")
    for k, name in enumerate(KINDS):
        n = tk[20 + k] / a.reps
        if n == 0:
            continue
        ms = tk[k] / a.reps / 1e6
        rows[name] = {"events_per_rep": n, "ns_per_event": tk[k] / tk[20 + k], "ms_per_rep": ms}
        print(f"{name:<18}{n:>12.1f}{tk[k] / tk[20 + k]:>12.1f}{ms:>10.3f}{ms / total_ms:>8.1%}")
    inside = sum(r["ms_per_rep"] for r in rows.values())
    print(f"{'(outside events)':<18}{'':>12}{'':>12}{total_ms - inside:>10.3f}{(total_ms - inside) / total_ms:>8.1%}"
          "   init, final year end, filing and popping events, allocation, clock reads")
    print(f"{'total':<18}{'':>12}{'':>12}{total_ms:>10.3f}  (instrumented; the plain engine: {plain_ms:.3f} ms, "
          f"so the clock reads add {total_ms / plain_ms - 1:.0%}, mostly to the events' own times)")
    write_results("profile_fast", {"total_ms_per_rep": total_ms, "plain_ms_per_rep": plain_ms, "kinds": rows})


if __name__ == "__main__":
    main()
