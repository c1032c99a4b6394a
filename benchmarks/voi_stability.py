"""How many worlds does value of information need for a stable list of named inputs?

Runs the report's five groups against the baseline in ``MAX`` worlds for each of ``SETS`` independent world
sets (seeds), with few replications per world, then judges the first N worlds of each set for every N of
``SIZES`` (a world's draws are keyed by its seed and index, so the first N of a larger set are the N-world
set). For each N it prints the noise floor, how many inputs are named, how many placebos rise above the
floor, and the stability of the named list: the mean Jaccard similarity of the lists of every two sets
(1 = the same inputs named; two empty lists count as agreeing, and the named count says so).

Run: ``python benchmarks/voi_stability.py [world_reps]`` (default 10). A measurement, not a test.
"""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

import numpy as np

from sim.analysis.uncertainty import named_inputs, over_worlds, value_of_information
from sim.analysis.worlds import world_inputs
from sim.jobs.compare import compare

ROOT = Path(__file__).resolve().parents[1]
SIZES = (20, 40, 80, 160)
SETS = (1, 2, 3)
MAX = max(SIZES)


def main() -> int:
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    groups = [ROOT / "scenarios" / f for f in ("g1_awareness.toml", "g2_platforms.toml", "g3_talent.toml",
                                                "g4_intermediaries.toml", "g5_finance.toml")]
    named: dict[int, list[set[str]]] = {n: [] for n in SIZES}
    stats: dict[int, list[tuple[float, int]]] = {n: [] for n in SIZES}
    for seed in SETS:
        t0 = time.perf_counter()
        res = compare(ROOT / "scenarios" / "baseline.toml", groups, reps=2, seed=seed, worlds=MAX, world_reps=reps,
                      follow_up=0, engine="fast")
        w = res.comparison.worlds
        assert w is not None
        ids = list(w.summary.index)
        lever_ids = sorted({lv.id for a in res.comparison.arms for lv in a.scenario.levers})
        print(f"world set {seed}: {MAX} worlds × {reps} replications in {time.perf_counter() - t0:.0f} s")
        for n in SIZES:
            sub = w.per_world[w.per_world["world"] < n][["world", "scenario", "diff", "gain"]]
            per_world, summary, _ = over_worlds(sub, "baseline", ids, True)
            voi = value_of_information(per_world, world_inputs(w.worlds[:n], lever_ids), summary, 1.0, seed=seed)
            named[n].append(set(named_inputs(voi)["input"]))
            stats[n].append((float(voi.attrs["floor"]), int(voi.attrs["placebos_above"])))
    print(f"{'worlds':>6} {'floor |ρ|':>9} {'named (per set)':>16} {'placebos above':>14} {'stability':>9}")
    for n in SIZES:
        pairs = list(itertools.combinations(named[n], 2))
        jac = np.mean([1.0 if not (a | b) else len(a & b) / len(a | b) for a, b in pairs])
        floor = np.mean([f for f, _ in stats[n]])
        print(f"{n:>6} {floor:>9.2f} {'/'.join(str(len(s)) for s in named[n]):>16} "
              f"{sum(p for _, p in stats[n]):>14} {jac:>9.2f}")
    for n in SIZES:
        print(n, [sorted(s) for s in named[n]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
