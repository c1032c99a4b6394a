"""Running a sweep: every point's replications, saved point by point, resumable.

The output folder is a partitioned Parquet dataset with a manifest::

    runs/sweep-<id>/
        manifest.json                     # the spec, its digest, seed, design, versions
        design.csv                        # point → factor values
        records/point=00000/arm=baseline/part.parquet   # one file per finished (point, scenario):
        records/point=00001/arm=baseline/part.parquet   # rep × year records
        summary.csv, sensitivity.csv, sweep.png   # written when every point is done
        robustness.csv, robustness.png            # with `compare`: each scenario's paired gain

Each point's file is written to a temporary name and renamed, so a point is
either wholly there or absent. Interrupted (Ctrl-C, a lost worker, a power
cut), the same command finds the folder, checks the manifest's digest
against the spec and runs only the missing points; a folder made by another
spec is refused unless ``--fresh`` is given. Because every random number is
keyed by (seed, replication, …), the records do not depend on the order in
which points finish, on the backend or on the number of workers.

Backends (:mod:`sim.executor`): ``local`` runs points one after another, each
over all cores with the fast engine; ``dask`` sends one task per point to a
Dask cluster through its ``concurrent.futures`` executor (a scheduler address,
or a local cluster of one single-threaded worker per
core) and writes the results as they come back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from sim.executor import executor
from sim.experiment import Run, RunPlan, execute, package_versions
from sim.scenario import InputError
from sim.store import MARKER, atomic_file, atomic_folder, part_is_whole, remove_output, writer
from sim.sweep.design import design, point_scenario, point_values
from sim.sweep.folder import MANIFEST, OWN_PATTERNS, part_path
from sim.sweep.spec import Sweep
from sim.table import build_table


def _write_part(out: Path, point: int, arm: str, records: pd.DataFrame) -> None:
    path = part_path(out, point, arm)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as tmp:
        records.to_parquet(tmp, index=False)


Task = tuple[int, int]  # (point, arm)


def check_points(sw: Sweep) -> pd.DataFrame:
    """The sweep's design, with every (point, scenario) built: a point that pushes a parameter out of its
    range is an :class:`InputError` naming the point and the scenario file, before anything runs."""
    points = design(sw)
    for k in range(len(points)):
        values = point_values(points, k)
        for a in range(len(sw.arms)):
            try:
                build_table(point_scenario(sw, values, a), str(sw.arm_paths[a]))
            except InputError as exc:
                at = ", ".join(f"{n} = {v:g}" for n, v in values.items())
                raise InputError(f"{sw.path}: point {k} ({at}) pushes scenario {sw.arms[a].id!r} out of range: "
                                 f"{exc}") from None
    return points


def prepare(sw: Sweep, out: Path, fresh: bool = False) -> tuple[pd.DataFrame, list[Task]]:
    """Create or reopen the output folder; returns the design and the (point, arm) runs still to do.

    Every run's scenario is built first, so a point that pushes a parameter
    out of its range is an input error before anything runs.
    """
    points = check_points(sw)
    man_path = out / MANIFEST
    if out.exists():
        if not out.is_dir():
            raise InputError(f"{out}: --out must be a folder, and this is an existing file")
        if not man_path.is_file() or not (out / MARKER).is_file():
            if any(out.iterdir()):
                raise InputError(f"{out}: --out is a folder that holds something other than a convsim sweep; "
                                 "convsim never deletes or overwrites it: choose an empty or new folder")
        else:
            old = json.loads(man_path.read_text(encoding="utf-8"))
            if old.get("digest") != sw.digest():
                if not fresh:
                    raise InputError(f"{out}: holds a sweep made from another spec or scenario (digest "
                                     f"{old.get('digest')} ≠ {sw.digest()}); use --fresh to replace it, "
                                     "or another --out")
                remove_output(out)
    if not man_path.is_file():
        man = {
            "sweep_id": sw.id, "name_en": sw.spec.sweep.name_en, "name_zh": sw.spec.sweep.name_zh,
            "digest": sw.digest(), "spec_file": str(sw.path), "spec": sw.spec.model_dump(mode="json"),
            "scenario_id": sw.scenario.id, "arms": [a.id for a in sw.arms],
            "scenarios": [a.model_dump(mode="json") for a in sw.arms],
            "design": sw.spec.sweep.design, "points": len(points), "reps_per_point": sw.spec.sweep.reps,
            "seed": sw.spec.sweep.seed, "window": [sw.first_year, sw.last_year], "engine": "fast",
            "versions": package_versions(), "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "files": {"design": "design.csv", "records": "records/point=NNNNN/arm=<scenario id>/part.parquet",
                      "summary": "summary.csv", "sensitivity": "sensitivity.csv", "figure": "sweep.png",
                      "robustness": "robustness.csv" if len(sw.arms) > 1 else None},
        }
        with atomic_folder(out, kind="sweep", patterns=OWN_PATTERNS) as tmp:
            (tmp / MANIFEST).write_text(json.dumps(man, ensure_ascii=False, indent=2), encoding="utf-8")
            points.to_csv(tmp / "design.csv")
    todo = [(k, a) for k in range(len(points)) for a in range(len(sw.arms))
            if not part_is_whole(part_path(out, k, sw.arms[a].id))]
    return points, todo


def point_plan(sw: Sweep, points: pd.DataFrame, todo: list[Task], threads: int | None = None) -> RunPlan:
    """The run plan of the (point, scenario) runs ``todo``: each scenario at its point on replications
    0 … reps − 1 (fast engine), keyed ``(point, arm)``, back as each finishes (saved at once)."""
    runs = tuple(Run(point_scenario(sw, point_values(points, k), a), range(sw.spec.sweep.reps), (k, a),
                     str(sw.arm_paths[a])) for k, a in todo)
    return RunPlan(runs, sw.spec.sweep.seed, "fast", threads=threads, in_order=False)


def run_sweep(sw: Sweep, out: str | Path, backend: str = "local", scheduler: str | None = None,
              workers: int | None = None, fresh: bool = False, dask_processes: bool = True,
              progress: Callable[[int], None] | None = None,
              on_start: Callable[[int, int], None] | None = None) -> Path:
    """Run every point not yet on disk, then write the summary, sensitivity and figure.

    ``on_start(runs, runs_to_do)`` is told the size of the work (points × scenarios) before it starts.
    """
    from sim.sweep.analysis import write_analysis

    out = Path(out)
    with executor(backend, scheduler, workers, dask_processes) as ex:
        with writer(out, "--out"):  # a second command writing the same folder is refused at once
            points, todo = prepare(sw, out, fresh)
            if on_start is not None:
                on_start(len(points) * len(sw.arms), len(todo))
            threads = None if backend == "local" else 1  # a Dask worker core runs one task single-threaded
            for run, records in execute(point_plan(sw, points, todo, threads), ex, progress):
                point, arm = run.key
                _write_part(out, point, sw.arms[arm].id, records)
            write_analysis(sw, out)
    return out
