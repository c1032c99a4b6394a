"""The points of a sweep: a table with one row per point and one column per factor.

* ``grid``: every combination of the listed values (full factorial);
* ``lhs``: a Latin hypercube of ``samples`` points over the factors' ranges
  (``scipy.stats.qmc``), good for response surfaces with few points;
* ``sobol``: Saltelli's scheme for first-order and total Sobol indices
  (``SALib``), ``samples × (factors + 2)`` points;
* ``table``: the rows of a CSV file (``points_file``), e.g. a calibrated
  parameter ensemble.

Whole-number parameters (capacities, counts) are rounded to the nearest whole
number. The table depends only on the spec (and ``design_seed``), so the same
file always gives the same points, and a resumed sweep finds them again.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

from sim.params import Params
from sim.scenario import Scenario, scenario_from_dict
from sim.sweep.spec import Sweep, SweepSpec, is_whole


def salib_problem(spec: SweepSpec) -> dict[str, Any]:
    """The factors as SALib describes a problem."""
    return {"num_vars": len(spec.factors), "names": [f.param for f in spec.factors],
            "bounds": [[f.min, f.max] for f in spec.factors]}


def design(sw: Sweep) -> pd.DataFrame:
    """One row per point (index ``point`` = 0, 1, …), one column per factor."""
    spec = sw.spec
    s = spec.sweep
    names = [f.param for f in spec.factors]
    if s.design == "grid":
        rows = np.array(list(itertools.product(*[f.values or [] for f in spec.factors])), dtype=float)
    elif s.design == "table":
        assert sw.table is not None
        rows = sw.table[names].to_numpy(dtype=float)
    elif s.design == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(s.design_seed)).random(s.samples)
        lo = np.array([f.min for f in spec.factors], dtype=float)
        hi = np.array([f.max for f in spec.factors], dtype=float)
        rows = qmc.scale(unit, lo, hi)
    else:
        from SALib.sample import sobol

        rows = sobol.sample(salib_problem(spec), s.samples, calc_second_order=False, seed=s.design_seed)
    df = pd.DataFrame(rows, columns=names)
    for f in spec.factors:
        if is_whole(f.param):
            df[f.param] = np.round(df[f.param])
    df.index.name = "point"
    return df


def point_values(points: pd.DataFrame, k: int) -> dict[str, float]:
    """Factor values of point ``k``."""
    return {str(c): float(v) for c, v in points.iloc[k].items()}


def point_scenario(sw: Sweep, values: dict[str, float], arm: int = 0) -> Scenario:
    """Arm ``arm`` of the sweep (0: its scenario) with each factor's parameter set to ``values[param]``."""
    base = sw.arms[arm]
    data = base.model_dump(mode="python")
    for param, v in values.items():
        g, n = param.split(".", 1)
        kind = Params.model_fields[g].annotation.model_fields[n].annotation  # type: ignore[union-attr]
        data["params"][g][n] = int(round(v)) if kind is int else float(v)
    return scenario_from_dict(data, sw.arm_paths[arm])
