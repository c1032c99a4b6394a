"""Parameter sweeps (``convsim sweep``) and the rejection calibration over a sweep.

A sweep runs a design of points (grid, Latin hypercube or Sobol) in parameter
space, each with the same replications, and writes one Parquet part per point
as it finishes, so an interrupted sweep resumes with the missing points and
ends with the same files as an uninterrupted one. Points run on the local
machine or on a Dask cluster with identical results.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sim.errors import InputError
from sim.jobs import options
from sim.jobs.control import Control, as_control
from sim.progress import Progress

if TYPE_CHECKING:
    import pandas as pd

    from sim.results import SweepResult
    from sim.sweep.spec import Sweep


def load_checked(spec: str | Path, out: str | Path | None, prefix: str, backend: str, scheduler: str | None,
                 workers: int | None, reps: int | None = None) -> tuple[Sweep, Path]:
    """The sweep file and its output folder (default ``runs/<prefix>-<id>``), every option checked before work."""
    from sim.store import check_output_dir
    from sim.sweep import load_sweep
    from sim.sweep.runner import check_points

    options.backend(backend, scheduler)
    if workers is not None:
        if backend != "dask":
            raise InputError("--workers: only with --backend dask")
        options.whole(workers, "--workers", 1, 4096)
    sw = load_sweep(spec)
    if reps is not None:
        reps = options.reps(reps, "--reps", 2, 1_000_000)
        sw.spec = sw.spec.model_copy(update={"sweep": sw.spec.sweep.model_copy(update={"reps": reps})})
    folder = Path(out) if out is not None else Path("runs") / f"{prefix}-{sw.id}"
    check_output_dir(folder, "--out", ("sweep",))
    check_points(sw)
    return sw, folder


def run_points(sw: Sweep, folder: Path, backend: str = "local", scheduler: str | None = None,
               workers: int | None = None, fresh: bool = False, progress: bool | Progress | Control | None = False,
               on_start: Callable[[int, int], None] | None = None) -> None:
    """Run the sweep's missing points; ``progress=True`` opens a bar once the amount of work is known."""
    from sim.progress import bar
    from sim.sweep.runner import run_sweep as _run

    own = None
    control = as_control(progress)

    def start(runs: int, todo: int) -> None:
        nonlocal own
        if on_start is not None:
            on_start(runs, todo)
        if control is not None:
            control.start(todo * sw.spec.sweep.reps, "rep", f"sweep {sw.id}")
        elif progress is True:
            own = bar(todo * sw.spec.sweep.reps, f"sweep {sw.id}")

    def tick(n: int) -> None:
        if callable(progress):
            progress(n)
        elif own is not None:
            own.update(n)

    try:
        _run(sw, folder, backend=backend, scheduler=scheduler, workers=workers, fresh=fresh, progress=tick,
             on_start=start)
    finally:
        if own is not None:
            own.close()


def run_sweep(spec: str | Path, out: str | Path | None = None, backend: str = "local", scheduler: str | None = None,
              workers: int | None = None, fresh: bool = False, progress: bool | Progress | Control | None = False,
              on_start: Callable[[int, int], None] | None = None, reps: int | None = None) -> SweepResult:
    """Run (or resume) a parameter sweep file; the result reads the folder it wrote (default runs/sweep-<id>).

    Every finished point is on disk; calling again with the same file resumes
    with the missing points and gives the same files as one uninterrupted run
    (a sweep cancelled through its :class:`~sim.jobs.Control` too).
    ``on_start(runs, runs_to_do)`` is told the size of the work before it starts;
    ``reps`` overrides the file's replications per point (e.g. a quick look).
    """
    from sim.results import SweepResult

    sw, folder = load_checked(spec, out, "sweep", backend, scheduler, workers, reps)
    run_points(sw, folder, backend, scheduler, workers, fresh, progress, on_start)
    return SweepResult(folder, json.loads((folder / "manifest.json").read_text(encoding="utf-8")))


def calibrate_rejection(spec: str | Path, out: str | Path | None = None, tolerance: float = 0.0,
                        backend: str = "local", scheduler: str | None = None, workers: int | None = None,
                        fresh: bool = False, progress: bool | Progress | Control | None = False,
                        on_start: Callable[[int, int], None] | None = None,
                        observed: str | Path | None = None) -> pd.DataFrame:
    """Run a calibration sweep over 2018–2022 and score every point against the report's figures (and the
    observed figures of the file ``observed``, :mod:`sim.analysis.observed`, as further targets).

    Returns one row per point: its parameter values, each target's miss and
    ``accepted`` (every target within its range widened by ``tolerance``);
    ``calibration.csv``, ``accepted.csv`` and ``calibration.png`` are written
    to the folder (default runs/calibrate-<id>).
    """
    from sim.analysis.observed import load_observed
    from sim.sweep.calibrate import check_observed, check_window, write_calibration

    tolerance = options.number(tolerance, "--tolerance", 0.0, 10.0)
    sw, folder = load_checked(spec, out, "calibrate", backend, scheduler, workers)
    check_window(sw)
    figures = load_observed(observed) if observed is not None else []
    check_observed(sw, figures, observed or "")
    run_points(sw, folder, backend, scheduler, workers, fresh, progress, on_start)
    return write_calibration(sw, folder, tolerance, figures)
