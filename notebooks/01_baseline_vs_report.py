# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 1. The status quo against the report (现状与报告数据对照)
#
# Suizhou's 2023 report gives figures for 2018–2022: about 200 results introduced and
# converted, 500+ firm–university contacts, 80 subsidised projects, 24 industrialisation
# awards, more than 170 high-tech firms. Does the model's status quo reproduce them — and
# where does an offered research result end up?

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt

import sim
from sim.analysis.kpi import KPI_BY_KEY
from sim.analysis.targets import report_targets

ROOT = Path.cwd().parent if Path.cwd().name == "notebooks" else Path.cwd()
REPS = int(os.environ.get("CONVSIM_NOTEBOOK_REPS", "300"))
OUT = Path(os.environ.get("CONVSIM_NOTEBOOK_OUT", ROOT / "runs" / "notebooks"))
OUT.mkdir(parents=True, exist_ok=True)

base = sim.load_scenario(ROOT / "scenarios" / "baseline.toml")
records = sim.run(base, reps=REPS, seed=0)
past = sim.summarise(records, 2018, 2022)
past.loc[list(report_targets()), ["mean", "lo", "hi"]]

# %% [markdown]
# ## The model's 90 % range beside the report's figure
# Each bar is the report's range (the calibration target); the dot and line are the
# model's mean and 90 % interval over replications. A dot inside its bar is a target met.

# %%
keys = list(report_targets())
fig, axes = plt.subplots(1, len(keys), figsize=(2.2 * len(keys), 3.2))
for ax, key in zip(axes, keys, strict=True):
    lo, hi = report_targets()[key]
    ax.axhspan(lo, hi, color="tab:green", alpha=0.25, label="report")
    row = past.loc[key]
    ax.errorbar([0], [row["mean"]], yerr=[[row["mean"] - row["lo"]], [row["hi"] - row["mean"]]], fmt="o",
                color="black", capsize=4, label="model")
    ax.set_title(KPI_BY_KEY[key].en, fontsize=8)
    ax.set_xticks([])
axes[0].legend(fontsize=7)
fig.suptitle(f"Status quo 2018–2022: model ({REPS} replications) vs the report")
fig.tight_layout()
fig.savefig(OUT / "01_targets.png", dpi=100)

# %% [markdown]
# ## Where the offers go
# One replication traced offer by offer: how far each result gets in the pipeline
# (meeting 对接 → contract → pilot 中试 → finance → industrialised).

# %%
trace = sim.trace(base, rep=0)
last = trace.sort_values("time_years").groupby("offer_key")["event"].last()
ends = last.value_counts()
ax = ends.plot.barh(figsize=(6, 3.5), title="Last step reached by each offer, one replication")
ax.figure.tight_layout()
ax.figure.savefig(OUT / "01_offer_fates.png", dpi=100)
ends.head(10)

# %% [markdown]
# ## The policy years ahead, with nothing changed
# 2023–2027 under today's policies: the baseline every measure is compared with.

# %%
ahead = sim.summarise(records)
ahead.loc[["contracts", "industrialised", "rate_overall", "time_to_production"], ["mean", "lo", "hi"]]
