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
# # 3. Bottlenecks and sensitivity (瓶颈与敏感性)
#
# In the status quo, brokers (技术经纪人) are nearly always busy and the public pilot
# bases (中试基地) always full. A grid sweep varies both; every point runs on the same
# random numbers, so points differ only by the parameters.

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt

import sim

ROOT = Path.cwd().parent if Path.cwd().name == "notebooks" else Path.cwd()
REPS = int(os.environ.get("CONVSIM_NOTEBOOK_REPS", "200"))
OUT = Path(os.environ.get("CONVSIM_NOTEBOOK_OUT", ROOT / "runs" / "notebooks"))
OUT.mkdir(parents=True, exist_ok=True)

grid = sim.run_sweep(ROOT / "sweeps" / "bottlenecks.toml", out=OUT / "sweep-bottlenecks", reps=max(REPS, 2),
                     fresh=True)
table = grid.summary
table.head()

# %% [markdown]
# ## Industrialised projects 2023–2027 over brokers × public pilot slots

# %%
x, y = grid.design.columns[:2]
heat = table.pivot_table(index=y, columns=x, values="industrialised_mean")
fig, ax = plt.subplots(figsize=(6, 4))
im = ax.imshow(heat.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
ax.set_xticks(range(len(heat.columns)), [f"{v:g}" for v in heat.columns])
ax.set_yticks(range(len(heat.index)), [f"{v:g}" for v in heat.index])
ax.set_xlabel(x)
ax.set_ylabel(y)
fig.colorbar(im, label="industrialised 2023–2027 (mean)")
fig.tight_layout()
fig.savefig(OUT / "03_bottlenecks.png", dpi=100)

# %% [markdown]
# ## What the headline hangs on
# Standardised regression coefficients over the grid: how much one standard deviation of
# each factor moves the number of industrialised projects. (`sweeps/sensitivity.toml`
# computes Sobol indices over six assumed parameters; it takes about a minute.)

# %%
grid.sensitivity
