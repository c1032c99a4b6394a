"""convsim: a policy simulator for the conversion of research results in Suizhou (随州).

The public API (documented in :mod:`sim.api` and the README's "Python API")::

    import sim
    base = sim.load_scenario("scenarios/baseline.toml")
    records = sim.run(base, reps=20)
    result = sim.compare(base, [sim.load_scenario("scenarios/g4_intermediaries.toml")], reps=50)

The package is laid out by job: ``params``/``scenario``/``derived``/``table``
(inputs), ``rng``/``streams``/``rules`` (the model's rulebook), ``engines``
(the SimPy reference engine and the compiled fast engine), the run layer
(``experiment``: how to run replications; ``executor``: how to parallelise;
``store``: where results go), ``budget`` (scenario families), ``analysis``
(KPIs, paired comparison, report), ``sweep`` (parameter sweeps, calibration),
``api``/``results`` (the Python API) and ``cli`` (the ``convsim`` command).
Names are imported on first use, so ``import sim`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim._cache import configure as _configure_cache

__version__ = "0.1.0"
NUMBA_CACHE = _configure_cache()

__all__ = [
    "CompareResult",
    "InputError",
    "Scenario",
    "SweepResult",
    "best_mix",
    "calibrate",
    "compare",
    "derive",
    "explore",
    "kpis",
    "load_scenario",
    "run",
    "run_sweep",
    "summarise",
    "trace",
]

if TYPE_CHECKING:
    from sim.api import best_mix, calibrate, compare, derive, kpis, load_scenario, run, run_sweep, summarise, trace
    from sim.errors import InputError
    from sim.results import CompareResult, SweepResult
    from sim.scenario import Scenario

_HOMES = {"InputError": "sim.errors", "Scenario": "sim.scenario", "CompareResult": "sim.results",
          "SweepResult": "sim.results", "explore": "sim.explore"}


def __getattr__(name: str) -> Any:
    """Import the public names on first use (PEP 562)."""
    if name in __all__:
        import importlib

        return getattr(importlib.import_module(_HOMES.get(name, "sim.api")), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
