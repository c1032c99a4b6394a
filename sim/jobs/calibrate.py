"""Calibration to the report's 2018–2022 figures: ABC-SMC (a posterior) or rejection over a sweep.

``observed``: a file of figures published after the report (``calibration/observed.toml``'s format,
:mod:`sim.analysis.observed`), scored as further targets, so that each year's statistics update the posterior.

:func:`calibrate` checks the file and the output folder before any work, runs
(or resumes) the generations, writes the posterior, the generations table,
the marginals figure and the posterior predictive check into the output
folder, and with ``export_to`` copies those results into another folder
(e.g. ``calibration/``), replacing there only files convsim wrote. A cancel
or Ctrl-C stops at once; every finished generation is in the folder's
database and the same call continues from it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sim.errors import InputError
from sim.jobs import options
from sim.jobs.control import Control, as_control

if TYPE_CHECKING:
    import pandas as pd

#: Files --export writes: the posterior, its generations (threshold, acceptance, effective sample size), the
#: predictive table and the two figures.
EXPORTED = ("posterior.csv", "generations.csv", "posterior_predictive.csv", "posterior_predictive.png",
            "posterior_marginals.png")
#: Written into every PNG convsim's calibration makes, so --export recognises its own figures.
PNG_TAG = "convsim calibrate --method smc"


def is_ours(path: Path) -> bool:
    """Whether ``path`` is a figure convsim's calibration made (tagged inside), so --export may replace it.

    A table is never recognised by its header (a user's posterior has the same one): only by the record of the
    files convsim wrote (:func:`sim.store.written_by_convsim`), which :func:`sim.store.check_output_file` reads.
    """
    try:
        return path.suffix == ".png" and PNG_TAG.encode() in path.read_bytes()[:4096]
    except OSError:
        return False


def save_png(fig, path: Path) -> None:  # type: ignore[no-untyped-def]
    """Save a figure as PNG, atomically, tagged as convsim's."""
    from sim.analysis.figures import style
    from sim.store import atomic_file

    with atomic_file(path) as tmp, style():
        fig.savefig(tmp, dpi=120, format="png", metadata={"Software": PNG_TAG})


def check_export(folder: Path) -> None:
    """Before any work: ``folder`` is a folder (or can be made) and holds no file of these names convsim did not
    write."""
    from sim.store import check_output_file

    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: --export must be a folder, and this is an existing file")
    for name in EXPORTED:
        check_output_file(folder / name, "--export", is_ours)


def export(out: Path, folder: Path) -> None:
    """Copy the results from the output folder into ``folder``: all of them, or (full disk, Ctrl-C) none."""
    from sim.store import atomic_files

    with atomic_files(folder, EXPORTED) as tmps:
        for name, tmp in tmps.items():
            shutil.copyfile(out / name, tmp)


def write_predictive(cal, out: Path, post, sets: int, reps: int, seed: int, quiet: bool,  # type: ignore[no-untyped-def]
                     backend: str = "local", scheduler: str | None = None, workers: int | None = None):
    """Run the posterior predictive check; write its table and figure to ``out``."""
    from sim.calibration.figures import predictive
    from sim.calibration.predictive import predictive_table
    from sim.store import atomic_file

    table = predictive_table(cal.scenario, post, sets=sets, reps=reps, seed=seed, progress=not quiet,
                             backend=backend, scheduler=scheduler, workers=workers)
    with atomic_file(out / "posterior_predictive.csv") as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
    save_png(predictive(table), out / "posterior_predictive.png")
    return table


@dataclass
class CalibrationResult:
    """A finished calibration and the folder holding it.

    ABC-SMC (``method == "smc"``): ``posterior`` (weighted parameter sets), ``generations`` (threshold,
    acceptance, effective sample size per generation) and ``predictive`` (every target under the posterior).
    Rejection over a sweep (``method == "rejection"``): ``scored``, one row per point with each target's miss
    and ``accepted``.
    """

    method: str
    folder: Path
    scored: pd.DataFrame | None = None
    posterior: pd.DataFrame | None = None
    generations: pd.DataFrame | None = None
    predictive: pd.DataFrame | None = None
    simulations: int = 0
    exported_to: Path | None = None
    text_body: str = ""

    def text(self) -> str:
        """What ``convsim calibrate`` prints."""
        return self.text_body


def is_smc_file(path: str | Path) -> bool:
    """An ABC-SMC calibration file has an ``[smc]`` table (anything unreadable is left to the loaders)."""
    import tomllib

    try:
        return "smc" in tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return False


def calibrate(spec: str | Path, out: str | Path | None = None, method: str = "auto", tolerance: float = 0.0,
              backend: str = "local", scheduler: str | None = None, workers: int | None = None,
              fresh: bool = False, export_to: str | Path | None = None, predictive_sets: int = 200,
              predictive_reps: int = 10, progress: bool | Control | None = False,
              say: Callable[[str], None] | None = None,
              on_start: Callable[[int, int], None] | None = None,
              observed: str | Path | None = None) -> CalibrationResult:
    """Calibrate to the report's 2018–2022 figures: ABC-SMC (a posterior) or rejection over a sweep (an ensemble).

    ``method="auto"`` follows the file: a file with ``[smc]`` and ``[[priors]]`` (``calibration/smc.toml``) runs
    ABC-SMC; a sweep file (``calibration/priors.toml``) runs the rejection calibration. Both resume: calling
    again with the same file continues from the last finished generation or point (also after a cancel through
    a :class:`~sim.jobs.Control` passed as ``progress``); ``on_start(runs, runs_to_do)`` is told the size of a
    rejection calibration's work before it starts. ``export_to``: ABC-SMC only, also write the posterior
    and its checks there, replacing only files convsim wrote. ``observed``: a file of observed figures
    (``calibration/observed.toml``'s format) whose figures join the report's as targets: in ABC-SMC's distance
    (each needs a band: ``low``/``high``, or ``value`` with ``tolerance``), in the rejection's acceptance.
    """
    from sim.jobs.sweep import calibrate_rejection

    options.choice(method, "--method", ("auto", "rejection", "smc"))
    if method == "smc" or (method == "auto" and is_smc_file(spec)):
        return calibrate_smc(spec, out, fresh, export_to, predictive_sets, predictive_reps, progress, say,
                             backend, scheduler, workers, observed)
    if export_to is not None:
        raise InputError("--export: only with an ABC-SMC calibration (--method smc)")
    scored = calibrate_rejection(spec, out, tolerance, backend, scheduler, workers, fresh, progress, on_start,
                                 observed)
    from sim.analysis.observed import load_observed
    from sim.sweep import load_sweep
    from sim.sweep.calibrate import calibration_text

    sw = load_sweep(spec)
    folder = Path(out) if out is not None else Path("runs") / f"calibrate-{sw.id}"
    figures = load_observed(observed) if observed is not None else None
    return CalibrationResult("rejection", folder, scored=scored,
                             text_body=calibration_text(sw, scored, folder, tolerance, figures))


def calibrate_smc(spec: str | Path, out: str | Path | None = None, fresh: bool = False,
                  export_to: str | Path | None = None, predictive_sets: int = 200, predictive_reps: int = 10,
                  progress: bool | Control | None = False,
                  say: Callable[[str], None] | None = None, backend: str = "local", scheduler: str | None = None,
                  workers: int | None = None, observed: str | Path | None = None) -> CalibrationResult:
    """Run (or resume) an ABC-SMC calibration, then its posterior predictive check.

    ``backend``, ``scheduler``, ``workers``: where the candidates (and the predictive check's sets) are
    simulated — this process, ``workers`` local processes, or Dask; the posterior is the same on each.
    ``observed``: observed figures as further targets (:func:`sim.calibration.model.observed_bands`); they are
    part of the run's identity (another file starts another run, refused in a folder holding the first).
    """
    from sim.calibration import model, smc
    from sim.calibration.priors import load_calibration
    from sim.extras import require
    from sim.store import check_output_dir

    require("pyabc", "ABC-SMC calibration (--method smc)")  # before anything is said or written
    from sim.calibration.figures import marginals
    from sim.calibration.predictive import predictive_text

    predictive_sets = options.whole(predictive_sets, "--predictive-sets", 1, 1_000_000)
    predictive_reps = options.whole(predictive_reps, "--predictive-reps", 1, 1_000_000)
    cal = load_calibration(spec)
    bands = model.targets()
    if observed is not None:
        from sim.analysis.observed import load_observed

        extra = model.observed_bands(load_observed(observed), observed, cal.scenario)
        bands.update(extra)
    folder = Path(out) if out is not None else Path("runs") / f"calibrate-{cal.id}"
    check_output_dir(folder, "--out", ("calibrate",))
    from sim.executor import check_job_options

    check_job_options(backend, scheduler, workers)
    if export_to is not None:
        check_export(Path(export_to))
    if say is not None:
        s = cal.spec.smc
        say(f"calibrate {cal.id} (ABC-SMC, pyabc): {len(cal.names)} parameters, {s.population} particles × "
            f"{s.reps} replications, at most {s.generations} generations, stop at ε ≤ {s.min_epsilon:g}; "
            f"history {folder / smc.DB}"
            + (f"; {len(bands) - len(model.targets())} observed figure(s) from {observed} as extra targets"
               if observed is not None else ""))
    control = as_control(progress)
    if control is not None:
        control.start(None, "sim", f"calibrate {cal.id}")
    gens = smc.run_smc(cal, folder, fresh=fresh, say=say, progress=progress if progress is not None else False,
                       bands=bands, backend=backend, scheduler=scheduler, workers=workers)
    post = smc.write_results(cal, folder, gens)
    save_png(marginals(cal, post), folder / "posterior_marginals.png")
    table = write_predictive(cal, folder, post, predictive_sets, predictive_reps, cal.spec.smc.seed + 1,
                             quiet=not (progress is True or (control is not None and control.watched)),
                             backend=backend, scheduler=scheduler, workers=workers)
    if export_to is not None:
        export(folder, Path(export_to))
    last = gens[-1]
    sims = sum(g.simulations for g in gens)
    where = f"{folder}/" + (f" and {export_to}/" if export_to is not None else "")
    body = "\n".join([
        smc.generations_table(gens).to_string(index=False, float_format=lambda x: f"{x:.4g}"),
        f"\nposterior: {len(post)} parameter sets (generation {last.t}, ε = {last.epsilon:.4g}, {sims} simulations)\n",
        predictive_text(table),
        f"\nwritten {where}: {', '.join(EXPORTED)} (and {smc.DB} in {folder}/)"])
    return CalibrationResult("smc", folder, posterior=post, generations=smc.generations_table(gens),
                             predictive=table, simulations=sims,
                             exported_to=Path(export_to) if export_to is not None else None, text_body=body)
