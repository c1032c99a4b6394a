"""convsim optimise: the best mix of the group scenarios' levers for a yearly budget.

Modules: space (intensities, costs), evaluate (paired KPI), robust (over worlds), search (Optuna), report (files),
world_confirm (fresh worlds, budget risk), command (CLI).
"""
