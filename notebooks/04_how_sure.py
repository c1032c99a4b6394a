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
# # 4. How sure are we? (结论有多可靠)
#
# A comparison at the default parameters covers simulation noise only. Many parameters
# are assumptions (ASM); calibration keeps the parameter sets that reproduce the report's
# 2018–2022 figures (`calibration/ensemble.csv`). Here every scenario is compared with
# the baseline at each of those sets: does the ranking survive?

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import sim

ROOT = Path.cwd().parent if Path.cwd().name == "notebooks" else Path.cwd()
REPS = int(os.environ.get("CONVSIM_NOTEBOOK_REPS", "100"))
OUT = Path(os.environ.get("CONVSIM_NOTEBOOK_OUT", ROOT / "runs" / "notebooks"))
OUT.mkdir(parents=True, exist_ok=True)

ensemble = pd.read_csv(ROOT / "calibration" / "ensemble.csv")
ensemble.describe().loc[["count", "min", "mean", "max"]]

# %% [markdown]
# ## The calibrated parameter sets
# How far calibration narrowed each assumption (each panel: the accepted values).

# %%
fig, axes = plt.subplots(1, len(ensemble.columns), figsize=(3 * len(ensemble.columns), 2.6))
for ax, col in zip(axes, ensemble.columns, strict=True):
    ax.hist(ensemble[col], bins=8, color="tab:blue")
    ax.set_title(col, fontsize=8)
fig.tight_layout()
fig.savefig(OUT / "04_ensemble.png", dpi=100)

# %% [markdown]
# ## Every scenario at every calibrated set

# %%
robust = sim.run_sweep(ROOT / "sweeps" / "robustness_calibrated.toml", out=OUT / "sweep-robustness-calibrated",
                       reps=max(REPS, 2), fresh=True)
robust.robustness

# %%
per_point = pd.read_csv(robust.folder / "robustness.csv")
groups = list(robust.robustness.sort_values("mean_rank", ascending=False)["scenario"])
fig, ax = plt.subplots(figsize=(7, 4))
ax.boxplot([per_point.loc[per_point["scenario"] == g, "diff_mean"] for g in groups], vert=False)
ax.set_yticks(range(1, len(groups) + 1), groups)
ax.axvline(0, color="grey", lw=0.8)
ax.set_xlabel("extra industrialised 2023–2027 vs the baseline, across calibrated parameter sets")
fig.tight_layout()
fig.savefig(OUT / "04_robustness.png", dpi=100)

# %% [markdown]
# ## The same question inside every comparison: worlds
# `sim.compare(..., worlds=N)` runs every scenario in N worlds — a calibrated parameter set
# and a draw of every measure's effect and cost from its range — and says how often each
# scenario gains, how often it is best, and which unknowns move the decision most.

# %%
S = ROOT / "scenarios"
result = sim.compare(S / "baseline.toml", [S / "g2_platforms.toml", S / "g4_intermediaries.toml",
                                          S / "all_five.toml"], reps=max(REPS, 2), worlds=8,
                     world_reps=max(REPS // 2, 2))
result.summary[["name_en", "delta", "world_p05", "world_p95", "p_gain", "p_best", "mean_rank"]]

# %%
fig = result.plot_worlds()
fig.savefig(OUT / "04_worlds.png", dpi=100)
fig

# %%
fig = result.plot_voi()
fig.savefig(OUT / "04_voi.png", dpi=100)
result.comparison.worlds.voi.head(8)
