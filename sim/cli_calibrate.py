"""``convsim calibrate FILE --method smc``: calibration by ABC-SMC from the command line.

Checks the file and the output folder before any work, runs (or resumes) the
generations with a line per generation on stderr, writes the posterior, the
generations table, the marginals figure and the posterior predictive check
into the output folder, and with ``--export DIR`` copies those four results
into DIR (e.g. ``calibration/``) with the generations table, replacing there only files convsim wrote.
Ctrl-C stops at once with exit status 130; every finished generation is in the
folder's database and the same command continues from it.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from sim.errors import InputError

#: Files --export writes: the posterior, its generations (threshold, acceptance, effective sample size), the
#: predictive table and the two figures.
EXPORTED = ("posterior.csv", "generations.csv", "posterior_predictive.csv", "posterior_predictive.png",
            "posterior_marginals.png")
#: Written into every PNG convsim's calibration makes, so --export recognises its own figures.
PNG_TAG = "convsim calibrate --method smc"


def is_ours(path: Path) -> bool:
    """Whether ``path`` is a calibration result convsim wrote (so --export may replace it)."""
    try:
        if path.suffix == ".png":
            return PNG_TAG.encode() in path.read_bytes()[:4096]
        with path.open(encoding="utf-8") as f:
            head = f.readline().strip()
        if path.name == "posterior.csv":
            return head.endswith(",weight")
        if path.name == "generations.csv":
            return head.startswith("generation,epsilon,")
        return head.startswith("target,kpi,low,high,mean,")
    except (OSError, UnicodeDecodeError):
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
    """Copy the results from the output folder into ``folder``, each file atomically."""
    from sim.store import atomic_file

    folder.mkdir(parents=True, exist_ok=True)
    for name in EXPORTED:
        with atomic_file(folder / name) as tmp:
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


def cmd_calibrate_smc(a: argparse.Namespace) -> int:
    """Run (or resume) an ABC-SMC calibration; print the generations and the predictive check."""
    from sim.calibration import smc
    from sim.calibration.figures import marginals
    from sim.calibration.predictive import predictive_text
    from sim.calibration.priors import load_calibration
    from sim.executor import check_job_options
    from sim.store import check_output_dir

    cal = load_calibration(a.spec)
    out = Path(a.out) if a.out else Path("runs") / f"calibrate-{cal.id}"
    check_output_dir(out, "--out", ("calibrate",))
    check_job_options(a.backend, a.scheduler, a.workers)
    if a.export:
        check_export(Path(a.export))
    say = (lambda m: None) if a.quiet else smc.stderr
    if not a.quiet:
        s = cal.spec.smc
        say(f"calibrate {cal.id} (ABC-SMC, pyabc): {len(cal.names)} parameters, {s.population} particles × "
            f"{s.reps} replications, at most {s.generations} generations, stop at ε ≤ {s.min_epsilon:g}; "
            f"history {out / smc.DB}")
    try:
        gens = smc.run_smc(cal, out, fresh=a.fresh, say=say, progress=not a.quiet, backend=a.backend,
                           scheduler=a.scheduler, workers=a.workers)
        post = smc.write_results(cal, out, gens)
        save_png(marginals(cal, post), out / "posterior_marginals.png")
        table = write_predictive(cal, out, post, a.predictive_sets, a.predictive_reps, cal.spec.smc.seed + 1,
                                 a.quiet, a.backend, a.scheduler, a.workers)
    except KeyboardInterrupt:
        print(f"convsim: interrupted; every finished generation is kept in {out / smc.DB}; run the same command "
              "again to continue", file=sys.stderr)
        return 130
    if a.export:
        export(out, Path(a.export))
    last = gens[-1]
    print(smc.generations_table(gens).to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    print(f"\nposterior: {len(post)} parameter sets (generation {last.t}, ε = {last.epsilon:.4g}, "
          f"{sum(g.simulations for g in gens)} simulations)\n")
    print(predictive_text(table))
    where = f"{out}/" + (f" and {a.export}/" if a.export else "")
    print(f"\nwritten {where}: {', '.join(EXPORTED)} (and {smc.DB} in {out}/)")
    return 0


def add_smc_options(k: argparse.ArgumentParser, positive, nonneg) -> None:  # type: ignore[no-untyped-def]
    """The options of ``convsim calibrate`` that only ``--method smc`` uses."""
    k.add_argument("--method", choices=("auto", "rejection", "smc"), default="auto",
                   help="rejection (a sweep file, e.g. calibration/priors.toml) or smc (ABC-SMC with pyabc, a file "
                   "with [smc] and [[priors]], e.g. calibration/smc.toml); auto: by the file (default)")
    k.add_argument("--export", help="smc: also write posterior.csv, generations.csv, posterior_predictive.csv/.png "
                   "and posterior_marginals.png into this folder (replacing only files convsim wrote)")
    k.add_argument("--predictive-sets", type=positive, default=200,
                   help="smc: parameter sets drawn from the posterior for the predictive check (default 200)")
    k.add_argument("--predictive-reps", type=positive, default=10,
                   help="smc: replications per set in the predictive check (default 10)")
