"""Before calibration: the baseline's 2018–2022 within a factor of two of the report's figures."""

import numpy as np

from sim.analysis.kpi import kpis
from sim.experiment import run_records

REPORT = {"meetings": 500, "contracts": 200, "subsidised": 80, "awards": 24}


def test_baseline_order_of_magnitude(baseline_table) -> None:
    rec = run_records(baseline_table, seed=1, reps=range(60))
    k = kpis(rec, 2018, 2022)
    print("\n2018–2022, baseline (60 replications)   model mean  [5 %, 95 %]   report")
    for key, target in REPORT.items():
        v = k[key].to_numpy()
        print(f"  {key:<12} {v.mean():>28.1f}  [{np.quantile(v, 0.05):.0f}, {np.quantile(v, 0.95):.0f}]"
              f"   {target}")
        assert target / 2 <= v.mean() <= target * 2, key
