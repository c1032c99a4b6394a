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
# # 5. Which mix for a given budget (给定预算下的最优组合)
#
# The planners' question: with a yearly budget, which measures, and how much of each?
# `sim.optimise` searches the intensities of every paid lever of the five groups (0 = off,
# 1 = as in the report's scenario, up to a stated maximum) so that no year costs more than
# the budget, then re-estimates the best mix on fresh replications and compares it, paired,
# with the shipped scenarios that cost no more.

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import sim

ROOT = Path.cwd().parent if Path.cwd().name == "notebooks" else Path.cwd()
REPS = int(os.environ.get("CONVSIM_NOTEBOOK_REPS", "240"))
OUT = Path(os.environ.get("CONVSIM_NOTEBOOK_OUT", ROOT / "runs" / "notebooks"))
OUT.mkdir(parents=True, exist_ok=True)
quick = REPS < 50  # the tests run this notebook with few replications and trials

result = sim.best_mix(3_000_000, out=OUT / "optimise-3M", reps=9 if quick else REPS, trials=12 if quick else 150,
                      confirm_reps=10 if quick else 1000, baseline=ROOT / "scenarios" / "baseline.toml")
{k: result[k] for k in ("delta_mean", "delta_lo", "delta_hi", "best_shipped_id", "diff_vs_best_shipped_lo",
                        "max_yearly_cost_yuan")}

# %% [markdown]
# ## The mix: how much of each lever, and what it costs a year

# %%
mix = pd.read_csv(OUT / "optimise-3M" / "best.csv")
fig, ax = plt.subplots(figsize=(7, 0.4 * len(mix) + 1.5))
ax.barh(mix["lever"], mix["yuan_per_year"] / 1e6)
ax.set_xlabel("M yuan a year")
ax.set_title("Best mix for 3 M yuan a year: yearly cost by lever")
fig.tight_layout()
fig.savefig(OUT / "05_mix.png", dpi=100)
mix

# %% [markdown]
# The mix is a scenario file (`best.toml`) that `convsim run` and `convsim compare` accept:
# a planner can read it, edit it and compare it again.

# %%
print((OUT / "optimise-3M" / "summary.txt").read_text(encoding="utf-8")[:1500])

# %% [markdown]
# ## How sure? The mix over worlds of uncertainty (不确定性下的稳健组合)
#
# At the stated values every measure does exactly what its file says and costs exactly that.
# With `worlds`, every mix is judged in the same worlds — a calibrated parameter set and a
# draw of every measure's effect and cost from its range — and the search maximises the mean
# over worlds (`risk="mean"`) or the 10th percentile (`risk="p10"`, the bad tail; needs 10
# worlds or more). The winner is then re-estimated in fresh worlds never used to choose it,
# against the shipped scenarios, and the budget is checked under cost uncertainty: the
# constraint holds at the stated costs; the result says how often the mix's yearly cost would
# exceed the budget if costs come out as drawn.

# %%
robust = sim.best_mix(3_000_000, out=OUT / "optimise-3M-worlds", reps=9 if quick else REPS,
                      trials=12 if quick else 150, confirm_reps=10 if quick else 1000,
                      worlds=3 if quick else 20, risk="mean" if quick else "p10",
                      world_reps=3 if quick else None, confirm_worlds=3 if quick else None,
                      baseline=ROOT / "scenarios" / "baseline.toml")
{k: robust[k] for k in ("mix", "world_delta_mean", "delta_world_p10", "delta_world_p90", "p_gain",
                        "best_shipped_world_id", "p_beats_best_shipped", "p_cost_over_budget",
                        "cost_world_p95_yuan")}

# %% [markdown]
# Every shipped scenario over the same fresh worlds: its mean Δ, the 10–90 % range over
# worlds, and the share of worlds in which the mix does better.

# %%
shipped = pd.DataFrame(robust["shipped"]).set_index("id")
shipped[["max_yearly_cost_yuan", "within_budget", "world_delta_mean", "world_p10", "world_p90",
         "p_mix_beats_this"]].sort_values("world_delta_mean", ascending=False)
