"""Optional dependencies: libraries only one job needs, installed with an extra of the package.

``pip install convsim`` installs what running, comparing, sweeping and
optimising need; the ABC-SMC calibration's pyabc (with its ≈ 50 dependencies:
Dask, IPython, Redis, scikit-learn, ...) comes with ``pip install
"convsim[calibrate]"``. A job that needs a missing one stops before any work
with a one-line message naming the extra.
"""

from __future__ import annotations

import importlib.util

from sim.errors import InputError

#: The extra of ``pyproject.toml`` that installs each optional module.
EXTRAS = {"pyabc": "calibrate"}


def require(module: str, job: str) -> None:
    """Raise :class:`InputError` naming the extra to install when ``module`` is not installed."""
    if importlib.util.find_spec(module) is None:
        raise InputError(f"{job} needs {module}, which is not installed: pip install \"convsim[{EXTRAS[module]}]\"")
