"""The planner's scenario explorer: a page in the browser (``convsim explore``) or in Jupyter (``sim.explore()``).

A planner builds a mix of the report's measures, runs it paired against the
status quo on the fast engine, sees the answer with its uncertainty, questions
the assumptions, asks the optimiser for the best mix within a budget, and
takes the mix away as a scenario file. Built with Panel (HoloViz), which
serves the same application as a web server and inside a notebook.

Modules: :mod:`~sim.explore.backend` (every call into the simulator),
:mod:`~sim.explore.mix` (the mix and its scenario file), :mod:`~sim.explore.run`
(a session's staged, cancellable runs), :mod:`~sim.explore.jobs` (the one queue
all sessions share), :mod:`~sim.explore.engine` (the one-off compile),
:mod:`~sim.explore.optimiser`, :mod:`~sim.explore.results` (the headline
table), :mod:`~sim.explore.i18n` (words in Chinese and English),
:mod:`~sim.explore.app` (the page) and :mod:`~sim.explore.server` (the command).
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any


def explore(lang: str = "zh", scenario_dir: str | Path | None = None, out_dir: str | Path | None = None) -> Any:
    """The explorer in a Jupyter notebook: the last expression of a cell displays it.

    >>> import sim
    >>> page = sim.explore(lang="en")  # doctest: +SKIP
    """
    import panel as pn

    from sim.explore.app import Explorer

    if lang not in ("zh", "en"):
        raise ValueError(f"lang: 'zh' or 'en', got {lang!r}")
    pn.extension()
    app = Explorer(lang, Path(scenario_dir) if scenario_dir else None, Path(out_dir) if out_dir else None)
    return app.servable()


class _CallableModule(types.ModuleType):
    """``sim.explore`` is both this package and the notebook function: importing the package makes
    ``sim.explore`` the package (Python binds a submodule to its parent's attribute), so calling it calls
    :func:`explore`."""

    def __call__(self, lang: str = "zh", scenario_dir: str | Path | None = None,
                 out_dir: str | Path | None = None) -> Any:
        return explore(lang, scenario_dir, out_dir)


sys.modules[__name__].__class__ = _CallableModule
