# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Exploring convsim: the status quo and one lever
#
# A notebook in percent format (open it in Jupyter with jupytext, or in VS Code, or run it
# with `python notebooks/explore_baseline.py`). The tests execute it, so it stays working.
#
# 1. Run the baseline and look at the report's period next to the report's figures.
# 2. Follow one replication's offers through the pipeline.
# 3. Add one lever and compare, paired on common random numbers.

# %%
import os
from pathlib import Path

import numpy as np

from sim.analysis.compare import compare
from sim.analysis.kpi import REPORT_TARGETS, kpis, summarise
from sim.engines.reference import trace_reference
from sim.experiment import run_records
from sim.scenario import load_scenario, scenario_from_dict
from sim.table import build_table

ROOT = Path(__file__).resolve().parents[1] if "__file__" in globals() else Path.cwd().parent
REPS = int(os.environ.get("CONVSIM_NOTEBOOK_REPS", "300"))
baseline = load_scenario(ROOT / "scenarios" / "baseline.toml")
table = build_table(baseline)

# %% [markdown]
# ## 1. The baseline against the report (2018–2022)

# %%
records = run_records(table, seed=0, reps=range(REPS))
summary = summarise(kpis(records, 2018, 2022))
for key, (lo, hi) in REPORT_TARGETS.items():
    s = summary.loc[key]
    print(f"{s['en']:<40} model {s['mean']:10.1f} [{s['lo']:.1f}, {s['hi']:.1f}]   report {lo:g}–{hi:g}")

# %% [markdown]
# ## 2. One replication, offer by offer
# The trace has one row per step of every offer; here, how offers ended.

# %%
_, trace = trace_reference(table, seed=0, rep=0)
ends = trace[trace["event"] == "end"]["detail"].value_counts()
print(ends.to_string())
print("offers that reached production:", int(ends.get("industrialised", 0)))

# %% [markdown]
# ## 3. One lever: four more public pilot-base slots from 2023

# %%
data = baseline.model_dump(mode="python")
data["scenario"]["id"] = "more_pilot_slots"
data["levers"] = [{"id": "pilot_slots", "name_en": "4 more pilot slots", "name_zh": "中试能力增加4个",
                   "group": "platforms", "param": "pilot.public_slots", "mode": "add", "value": 4.0,
                   "yearly_cost_yuan": 3_000_000, "cost_source": "ASM as in g2_platforms.toml"}]
lever = scenario_from_dict(data)
c = compare(baseline, [(lever, "notebook")], reps=REPS, seed=0)
row = c.summary[c.summary.kpi == "industrialised"].iloc[0]
print(f"extra industrialised 2023–27: {row['diff']:+.2f} [{row['lo']:+.2f}, {row['hi']:+.2f}], "
      f"paired half-width {row['half_width']:.2f} vs unpaired {row['unpaired_half_width']:.2f}")
assert np.isfinite(row["diff"])
