"""What following the window's cohorts past the horizon costs ``compare``, and that it changes no window KPI.

Runs ``compare`` on every shipped scenario twice in one process, with ``follow_up=0`` (runs end at the
horizon, cohort k-year shares censored) and with the default follow-up (runs go on 6 years), after one
untimed warm-up; prints both wall times, their ratio, and whether every KPI of the window that is not a
cohort share is identical (bit for bit) between the two.

Run: ``python benchmarks/compare_followup.py [reps]`` (default 200). A measurement, not a test.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from sim.analysis.kpi import COHORT_KPIS
from sim.analysis.paired import FOLLOW_UP
from sim.jobs.compare import compare, scenario_files

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    base = ROOT / "scenarios" / "baseline.toml"
    arms = scenario_files(base)
    compare(base, arms[:1], reps=4, worlds=0, engine="fast")  # compiled code loaded before timing
    out = {}
    for follow in (0, FOLLOW_UP):
        t0 = time.perf_counter()
        res = compare(base, arms, reps=reps, worlds=0, engine="fast", follow_up=follow)
        out[follow] = (time.perf_counter() - t0, res.comparison)
    (t_no, c_no), (t_yes, c_yes) = out[0], out[FOLLOW_UP]
    cohort = set(COHORT_KPIS) | {"cohort_time_to_production", "cohort_signed_time_to_production"}
    same = True
    for a, b in zip([c_no.baseline, *c_no.arms], [c_yes.baseline, *c_yes.arms], strict=True):
        fa, fb = a.frame(), b.frame()
        cols = [k for k in fa.columns if k not in cohort]
        same &= all(np.array_equal(fa[k].to_numpy(), fb[k].to_numpy(), equal_nan=True) for k in cols)
    print(f"{len(arms)} scenarios + baseline, {reps} replications each, fast engine")
    print(f"follow-up 0 years: {t_no:.1f} s; {FOLLOW_UP} years: {t_yes:.1f} s; ratio {t_yes / t_no:.2f}")
    print(f"window KPIs other than cohort shares identical: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
