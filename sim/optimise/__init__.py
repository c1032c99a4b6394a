"""convsim optimise: the best mix of the group scenarios' levers for a yearly budget.

Modules: space (intensities, costs), evaluate (paired KPI), search (Optuna), report (files), command (CLI).
"""
