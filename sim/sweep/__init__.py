"""Parameter sweeps (参数扫描): one scenario at many points, saved point by point, resumable.

* :mod:`sim.sweep.spec` — the sweep file and its validation;
* :mod:`sim.sweep.design` — the points (grid, Latin hypercube, Saltelli/Sobol);
* :mod:`sim.sweep.runner` — running the points locally or on Dask, resuming;
* :mod:`sim.sweep.analysis` — summary, sensitivity indices and the figure.
"""

from sim.sweep.folder import read_points
from sim.sweep.runner import run_sweep
from sim.sweep.spec import Sweep, load_sweep

__all__ = ["Sweep", "load_sweep", "read_points", "run_sweep"]
