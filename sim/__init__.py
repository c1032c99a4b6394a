"""convsim: a policy simulator for the conversion of research results in Suizhou (随州).

The public API (documented in :mod:`sim.api` and the README's "Python API")::

    import sim
    base = sim.load_scenario("scenarios/baseline.toml")
    records = sim.run(base, reps=20)
    result = sim.compare(base, [sim.load_scenario("scenarios/g4_intermediaries.toml")], reps=50)

The package reads top-down (tests/test_layers.py keeps it so): the front ends
``cli`` (the ``convsim`` command) and the planner's page; ``api`` gathers the
jobs of ``jobs`` (every job a function with typed arguments that returns a
result object; ``jobs.control`` holds the progress-and-cancel handle they
share); ``analysis`` (KPIs, paired statistics, comparison, report),
``optimise``, ``calibration`` and ``sweep`` do the work; the run layer
(``experiment``: how to run replications, the only caller of the engines;
``executor``: how to parallelise; ``store``: where results go) calls the
``engines`` (the SimPy reference engine and the compiled fast engine), which
call the ``rules`` (with ``rng``/``streams``, the model's rulebook); at the
bottom the model data: ``params``, ``scenario``, ``derived``, ``table``,
``layout``, ``budget``.
Files the package ships (scenarios, calibration, font) are found by
:mod:`sim.resources`.

Importing the package has no side effect: the public names are imported on
first use (so ``import sim`` stays fast), and the compiled-code cache is set up
when compiled code is first defined (:mod:`sim._cache`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.version import __version__ as __version__

#: The public API, written here only: every job of :mod:`sim.jobs` and the result objects, gathered in
#: :mod:`sim.api`.
__all__ = [
    "CalibrationResult",
    "Cancelled",
    "CompareResult",
    "Control",
    "DiscoveryResult",
    "InputError",
    "LeversResult",
    "OptimiseConfig",
    "OptimiseResult",
    "ProgressEvent",
    "RunResult",
    "Scenario",
    "SweepResult",
    "TargetsResult",
    "TraceResult",
    "background",
    "best_mix",
    "calibrate",
    "compare",
    "derive",
    "discover",
    "explore",
    "kpis",
    "levers",
    "load_scenario",
    "optimise",
    "run",
    "run_scenario",
    "run_sweep",
    "summarise",
    "targets",
    "trace",
    "trace_scenario",
]

if TYPE_CHECKING:
    from sim.api import (
        CalibrationResult,
        Cancelled,
        CompareResult,
        Control,
        DiscoveryResult,
        InputError,
        LeversResult,
        OptimiseConfig,
        OptimiseResult,
        ProgressEvent,
        RunResult,
        Scenario,
        SweepResult,
        TargetsResult,
        TraceResult,
        background,
        best_mix,
        calibrate,
        compare,
        derive,
        discover,
        kpis,
        levers,
        load_scenario,
        optimise,
        run,
        run_scenario,
        run_sweep,
        summarise,
        targets,
        trace,
        trace_scenario,
    )


def __getattr__(name: str) -> Any:
    """Import the public names on first use (PEP 562)."""
    if name in __all__:
        import importlib

        if name == "explore":  # the planner's page: a package that is also callable (``sim.explore()``)
            return importlib.import_module("sim.explore")
        return getattr(importlib.import_module("sim.api"), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public API (not imported yet: PEP 562), the module's dunder attributes and its loaded submodules."""
    from types import ModuleType

    own = {n for n, v in globals().items() if n.startswith("__") or isinstance(v, ModuleType)}
    return sorted(own | set(__all__))
