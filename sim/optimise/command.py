"""``convsim optimise``: check every input, search each budget, re-estimate, write the files.

Everything the user gives is checked before any replication runs; a problem
is one :class:`~sim.scenario.InputError` line (exit 2). The output folder is
refused unless it is new, empty or made by ``convsim optimise`` (recognised by
its ``optimise.json``); nothing else in it is ever deleted or overwritten.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim import __version__
from sim.analysis.compare import COMPARED
from sim.scenario import InputError, Scenario, load_scenario

GROUP_FILES = ("g1_awareness.toml", "g2_platforms.toml", "g3_talent.toml", "g4_intermediaries.toml",
               "g5_finance.toml")
MARKER = "optimise.json"
DB = "study.optuna.log"
#: Files this command writes into its folder (and so may replace there).
OWN_FILES = (MARKER, DB, f"{DB}.lock", "best.toml", "best.csv", "result.json", "summary.txt",
             "frontier.csv", "frontier.png", "frontier.json")


def parse_budgets(text: str) -> list[float]:
    """``"1e6,3000000,5e6"`` → budgets in yuan a year; InputError on anything else."""
    out = []
    for part in text.split(","):
        try:
            b = float(part.strip())
        except ValueError:
            raise InputError(f"--frontier: expected yuan amounts separated by commas, got {part.strip()!r}") from None
        if not math.isfinite(b) or b <= 0:
            raise InputError(f"--frontier: every budget must be a positive number of yuan, got {part.strip()!r}")
        out.append(b)
    return out


def check_out(out: Path) -> None:
    """Refuse a file, or a non-empty folder that ``convsim optimise`` did not make (and the places
    :func:`sim.store.check_output_dir` refuses: the working directory, below a file, unwritable)."""
    from sim.store import check_output_dir

    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: --out must be a folder, and this is an existing file")
    if not (out.is_dir() and any(out.iterdir())):
        check_output_dir(out, "--out", ("optimise",))  # new or empty: where it is must be writable, not the cwd
    else:
        marker = out / MARKER
        try:
            ok = json.loads(marker.read_text(encoding="utf-8")).get("made_by") == "convsim optimise"
        except (OSError, ValueError, AttributeError):
            ok = False
        if not ok:
            raise InputError(f"{out}: --out is a non-empty folder not made by `convsim optimise`; "
                             "give a new or empty folder")


def _load_inputs(a: argparse.Namespace) -> tuple[Path, Scenario, list[Scenario], list[Scenario]]:
    base_path = Path(a.baseline)
    baseline = load_scenario(base_path)
    d = base_path.parent
    missing = [f for f in GROUP_FILES if not (d / f).is_file()]
    if missing:
        raise InputError(f"{d}: the group scenarios {', '.join(missing)} must lie beside the baseline")
    groups = [load_scenario(d / f) for f in GROUP_FILES]
    shipped = [load_scenario(p) for p in sorted(d.glob("*.toml")) if p.resolve() != base_path.resolve()]
    return base_path, baseline, groups, shipped


def run(a: argparse.Namespace) -> int:
    """The ``optimise`` subcommand (arguments as parsed by :func:`sim.cli.build_parser`)."""
    t0 = time.perf_counter()
    if not math.isfinite(a.budget) or a.budget <= 0:
        raise InputError(f"--budget must be a positive number of yuan a year, got {a.budget!r}")
    if a.kpi not in COMPARED:
        raise InputError(f"--kpi: unknown KPI {a.kpi!r}; allowed: {', '.join(COMPARED)}")
    if not 9 <= a.reps <= 100_000:
        raise InputError(f"--reps must be from 9 to 100000 (three rungs of successive halving), got {a.reps}")
    if not 2 <= a.confirm_reps <= 100_000:
        raise InputError(f"--confirm-reps must be from 2 to 100000, got {a.confirm_reps}")
    budgets = sorted({a.budget, *(parse_budgets(a.frontier) if a.frontier else [])})
    _check_world_options(a)
    from sim.executor import check_job_options

    check_job_options(a.backend, a.scheduler, a.workers)
    if not 1 <= a.batch <= 256:
        raise InputError(f"--batch must be from 1 to 256 trials, got {a.batch}")
    out = Path(a.out)
    check_out(out)
    base_path, baseline, groups, shipped = _load_inputs(a)
    posterior = _posterior(a, baseline)

    from sim.optimise.space import Space
    from sim.table import build_table

    build_table(baseline, str(base_path))
    space = Space(groups, baseline, str(base_path))
    space.check_maxima()
    for b in budgets:
        if not any(space.single(d.id, b)[d.id] > 0 for d in space.dims):
            raise InputError(f"budget {b:,.0f} yuan a year buys no lever at all")
    ev = _evaluator(a, baseline, posterior)

    # -- inputs are good: claim the folder, then simulate ----------------------------------------------------------
    out.mkdir(parents=True, exist_ok=True)
    from sim.optimise.report import write_json

    if not (out / MARKER).exists():
        write_json(out / MARKER, {"made_by": "convsim optimise", "version": __version__,
                                  "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
                                  "files": list(OWN_FILES)})
        from sim.store import write_marker

        # the store's marker too: other commands recognise the folder as convsim's and what in it is convsim's
        write_marker(out, "optimise", patterns=[*OWN_FILES, "frontier-*", ".*.tmp*"])
    from sim.executor import executor, job_backend

    kind = job_backend(a.backend, a.workers)
    try:
        with executor(kind, a.scheduler, a.workers) as ex:
            ev.use(ex, 1 if kind == "dask" else None)  # a Dask worker core runs one task single-threaded
            return _search_all(a, out, budgets, base_path, baseline, space, shipped, posterior, ev, t0)
    except KeyboardInterrupt:
        print(f"convsim: interrupted; every finished trial is kept in {out / DB}; run the same command again "
              "to resume", file=sys.stderr)
        return 130


def _check_world_options(a: argparse.Namespace) -> None:
    """``--risk``, ``--world-reps``, ``--confirm-worlds`` and ``--posterior`` against ``--worlds``."""
    from sim.optimise.robust import CONFIRM_WORLDS, MIN_P10_WORLDS, RISKS, WORLD_REPS

    if a.risk not in RISKS:
        raise InputError(f"--risk must be one of {', '.join(RISKS)}, got {a.risk!r}")
    if not 0 <= a.worlds <= 10_000:
        raise InputError(f"--worlds must be from 0 (the stated values only) to 10000, got {a.worlds}")
    if a.worlds == 0:
        given = [o for o, v in (("--world-reps", a.world_reps), ("--confirm-worlds", a.confirm_worlds),
                                ("--posterior", a.posterior)) if v is not None]
        if given:
            raise InputError(f"{given[0]}: only with --worlds N (N ≥ 1)")
        if a.risk != "mean":
            raise InputError(f"--risk {a.risk}: only with --worlds N (N ≥ {MIN_P10_WORLDS})")
        return
    if a.risk == "p10" and a.worlds < MIN_P10_WORLDS:
        raise InputError(f"--risk p10 needs --worlds {MIN_P10_WORLDS} or more (the 10th percentile of fewer worlds "
                         f"is little more than the worst one), got --worlds {a.worlds}")
    if a.world_reps is not None and not 3 <= a.world_reps <= 100_000:
        raise InputError(f"--world-reps must be from 3 to 100000 (three rungs of successive halving), "
                         f"got {a.world_reps}")
    if a.confirm_worlds is not None and not 2 <= a.confirm_worlds <= 10_000:
        raise InputError(f"--confirm-worlds must be from 2 to 10000, got {a.confirm_worlds}")
    a.world_reps = a.world_reps if a.world_reps is not None else WORLD_REPS
    a.confirm_worlds = a.confirm_worlds if a.confirm_worlds is not None else max(CONFIRM_WORLDS, a.worlds)


def _posterior(a: argparse.Namespace, baseline: Scenario) -> tuple[Path | None, Any]:
    """The calibrated parameter sets of the worlds (``--posterior``, else the repository's), read and checked."""
    if a.worlds == 0:
        return None, None
    from sim.analysis.worlds import default_posterior, read_posterior
    from sim.api import _repository_of

    path = Path(a.posterior) if a.posterior is not None else default_posterior(_repository_of(baseline))
    return path, (read_posterior(path) if path is not None else None)


def _evaluator(a: argparse.Namespace, baseline: Scenario, posterior: tuple[Path | None, Any]) -> Any:
    from sim.optimise.evaluate import Evaluator

    if a.worlds == 0:
        return Evaluator(baseline, a.kpi, a.seed)
    from sim.analysis.worlds import draw_worlds
    from sim.optimise.robust import SELECT_WORLD_FIRST, WorldEvaluator, in_world
    from sim.table import build_table

    search = draw_worlds(a.worlds, a.seed, posterior[1])
    select = draw_worlds(a.worlds, a.seed, posterior[1], SELECT_WORLD_FIRST)
    for w in [*search, *select]:  # a parameter set the model refuses is an input error, before any replication
        build_table(in_world(baseline, w), f"{posterior[0]}: parameter set {w.param_set} (world {w.index})")
    return WorldEvaluator(baseline, a.kpi, a.seed, search, select, a.risk)


def _study_tag(a: argparse.Namespace, posterior: tuple[Path | None, Any]) -> str:
    """What, besides budget, KPI, seed and replications, makes a study: the worlds (so a changed option or
    posterior file starts a new study in the same folder instead of mixing trials)."""
    if a.worlds == 0:
        return ""
    import hashlib

    digest = hashlib.sha256(posterior[0].read_bytes()).hexdigest()[:10] if posterior[0] is not None else "none"
    return f"-worlds{a.worlds}-{a.risk}-posterior{digest}"


def _search_all(a: argparse.Namespace, out: Path, budgets: list[float], base_path: Path, baseline: Scenario,
                space: Any, shipped: list[Scenario], posterior: tuple[Path | None, Any], ev: Any, t0: float) -> int:
    from tqdm.auto import tqdm

    from sim.engines.fast import compile_time
    from sim.optimise.report import Fresh, confirm, write_best, write_frontier, write_json
    from sim.optimise.search import Search, SearchConfig
    from sim.table import build_table

    secs = compile_time(build_table(baseline, str(base_path)))
    if not a.quiet:
        print(f"fast engine ready in {secs:.1f} s", file=sys.stderr)
    reps = a.reps if a.worlds == 0 else a.world_reps
    tag = _study_tag(a, posterior)
    searches = [Search(space, ev, SearchConfig(b, reps, a.trials, a.seed, a.kpi, tag, a.batch), out / DB, shipped)
                for b in budgets]
    done = sum(min(s.done(), a.trials) for s in searches)
    if done and not a.quiet:
        print(f"resuming: {done} of {a.trials * len(searches)} trials already in {out / DB}", file=sys.stderr)
    results = {}
    with tqdm(total=a.trials * len(searches), initial=done, desc="optimise", unit="trial", disable=a.quiet,
              file=sys.stderr, dynamic_ncols=True, smoothing=0.05) as bar:
        for s in searches:
            bar.set_postfix_str(f"budget {s.cfg.budget / 1e6:g} M")
            results[s.cfg.budget] = s.run(progress=bar.update)
    if not a.frontier:  # the comparison needs the scenarios within the budget; the frontier's figure shows them all
        from sim.optimise.report import max_cost

        shipped = [sc for sc in shipped if max_cost(sc) <= a.budget * (1 + 1e-9)]
    arms = 1 + 2 * len(budgets) + len(shipped)
    n_fresh = a.confirm_reps * arms + (a.confirm_worlds * a.world_reps * arms if a.worlds else 0)
    world_meta: dict[str, Any] = {}
    with tqdm(total=n_fresh, desc="fresh replications", unit="rep", disable=a.quiet, file=sys.stderr,
              dynamic_ncols=True) as bar:
        fresh = Fresh(ev, a.confirm_reps, shipped, bar.update)
        fw = None
        if a.worlds:
            from sim.analysis.worlds import draw_worlds
            from sim.optimise.robust import FRESH_WORLD_FIRST
            from sim.optimise.world_confirm import FreshWorlds

            fw = FreshWorlds(ev, draw_worlds(a.confirm_worlds, a.seed, posterior[1], FRESH_WORLD_FIRST),
                             a.world_reps, shipped, bar.update)
            world_meta = {"worlds": a.worlds, "risk": a.risk, "world_reps": a.world_reps,
                          "confirm_worlds": a.confirm_worlds,
                          "posterior": str(posterior[0]) if posterior[0] is not None else None}
        confirmed = {b: {**world_meta, **confirm(space, fresh, results[b], b, fw)} for b in budgets}
    meta = {"seed": a.seed, "search_reps": reps, "confirm_reps": a.confirm_reps, "trials": a.trials, "batch": a.batch,
            "baseline": str(base_path), "window": list(ev.window), "version": __version__,
            "wall_seconds": round(time.perf_counter() - t0, 1)}
    main = confirmed[a.budget]
    main.update(meta)
    write_best(space, results[a.budget], main, out, base_path)
    if a.frontier:
        rows = [confirmed[b] for b in budgets]
        write_frontier(rows, main["shipped"], out, a.kpi)
        write_json(out / "frontier.json", {"budgets": rows, **meta})
    print((out / "summary.txt").read_text(encoding="utf-8"))
    files = "best.toml, best.csv, result.json, summary.txt" + (", frontier.csv, frontier.png" if a.frontier else "")
    print(f"files: {out}/ {files} (study: {out / DB}); {time.perf_counter() - t0:.0f} s")
    return 0
