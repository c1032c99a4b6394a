"""Jobs on the project's files: check scenario, sweep and calibration files; rewrite the equal-budget variants.

:func:`validate` reads a file the way the job that runs it would and says in
one line what it holds, or raises :class:`~sim.errors.InputError` naming the
file, the key and what is allowed. :func:`write_variants` rewrites
``all_five.toml`` and the equal-budget scenarios from the five group files.
"""

from __future__ import annotations

from pathlib import Path

from sim.jobs import options
from sim.jobs.calibrate import is_smc_file
from sim.scenario import GROUP_FILES, load_scenario


def _is_sweep_file(path: str | Path) -> bool:
    """A sweep (or rejection calibration) file has a ``[sweep]`` table; anything unreadable is left to the
    scenario loader to report."""
    import tomllib

    try:
        return "sweep" in tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return False


def validate(path: str | Path) -> str:
    """What the file holds, in one line, once every check passed (an :class:`InputError` otherwise)."""
    from sim.table import build_table

    if is_smc_file(path):
        from sim.calibration.priors import load_calibration

        cal = load_calibration(path)
        return (f"ABC-SMC calibration {cal.id}, {len(cal.names)} parameters, "
                f"{cal.spec.smc.population} particles × {cal.spec.smc.reps} replications")
    if _is_sweep_file(path):
        from sim.sweep import load_sweep
        from sim.sweep.runner import check_points

        sw = load_sweep(path)
        points = check_points(sw)
        return (f"sweep {sw.id}, {len(points)} point(s) × {len(sw.arms)} scenario(s) × "
                f"{sw.spec.sweep.reps} replications")
    sc = load_scenario(path)
    table = build_table(sc, str(path))
    return f"{sc.id}, {len(sc.levers)} lever(s), {table.n_years} simulated years"


def write_variants(folder: str | Path, budget: float = 3_000_000.0) -> list[tuple[Path, int, float]]:
    """Rewrite ``all_five.toml`` and the equal-budget scenarios in ``folder``; (file, levers, yuan a year) each."""
    from sim.budget import write_variants as _write
    from sim.table import build_table

    budget = options.budget(budget)
    d = Path(folder)
    groups = [load_scenario(d / f) for f in GROUP_FILES]
    base = load_scenario(d / "baseline.toml")
    out = []
    for p in _write(d, groups, base.params, budget):
        sc = load_scenario(p)
        build_table(sc, str(p))
        out.append((p, len(sc.levers), sc.yearly_cost(base.params.time.horizon_year)))
    return out
