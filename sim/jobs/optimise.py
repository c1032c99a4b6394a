"""The budget question as one job: check every input, search each budget, re-estimate, write the files.

:class:`OptimiseConfig` is what a planner asks (a yearly budget, the KPI to
raise, how hard to search, optionally the worlds of uncertainty);
:func:`optimise` answers it and returns an :class:`OptimiseResult`. The
command line (``convsim optimise``), the Python API (``sim.best_mix``) and the
planner's page all call :func:`optimise`; none of them goes through another.

Everything is checked before any replication runs; a problem is one
:class:`~sim.errors.InputError` line. The output folder is refused unless it
is new, empty or made by ``convsim optimise`` (recognised by its
``optimise.json``); nothing else in it is ever deleted or overwritten. The
search is resumable: every finished trial is in the folder's Optuna journal,
and the same call continues an interrupted search (a cancelled one too).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import InputError
from sim.jobs import options
from sim.jobs.control import Control
from sim.scenario import GROUP_FILES, Scenario, load_scenario
from sim.version import __version__

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from sim.analysis.worlds import World
    from sim.optimise.evaluate import Evaluator
    from sim.optimise.space import Space

MARKER = "optimise.json"
DB = "study.optuna.log"
#: Files this job writes into its folder (and so may replace there).
OWN_FILES = (MARKER, DB, f"{DB}.lock", "best.toml", "best.csv", "result.json", "summary.txt",
             "frontier.csv", "frontier.png", "frontier.json")

Say = Callable[[str], None]


@dataclass(frozen=True)
class OptimiseConfig:
    """What to optimise and how hard to search (the options of ``convsim optimise``)."""

    budget: float
    """Yuan a year; no year's lever cost may exceed it."""
    kpi: str = "industrialised"
    reps: int = 240
    """Paired replications of a mix that survives every rung of successive halving (rungs reps/9, reps/3, reps)."""
    confirm_reps: int = 1000
    """Fresh replications of the re-estimate at the stated values."""
    trials: int = 150
    seed: int = 0
    baseline: Path = Path("scenarios/baseline.toml")
    """Baseline file; the group scenarios g1–g5 and the shipped scenarios are read from its folder."""
    out: Path = Path("runs/optimise")
    frontier: tuple[float, ...] = ()
    """More budgets (yuan a year): the best mix at each, ``frontier.csv`` and ``.png``."""
    worlds: int = 0
    risk: str = "mean"
    world_reps: int | None = None
    confirm_worlds: int | None = None
    posterior: Path | None = None
    batch: int = 1
    """Trials asked and evaluated together; part of the result's identity (the same seed and batch give the same
    result on any workers). 1, the default, is the one-at-a-time search the published figures were made with;
    more lets ``workers`` evaluate a batch's trials side by side."""
    backend: str = "local"
    """``local`` (this process, or ``workers`` local processes) or ``dask``."""
    scheduler: str | None = None
    workers: int | None = None

    def checked(self) -> OptimiseConfig:
        """The configuration with its world defaults filled in; :class:`InputError` on anything out of range."""
        from sim.analysis.paired import COMPARED
        from sim.optimise.robust import CONFIRM_WORLDS, MIN_P10_WORLDS, RISKS, WORLD_REPS

        if not math.isfinite(self.budget) or self.budget <= 0:
            raise InputError(f"--budget must be a positive number of yuan a year, got {self.budget!r}")
        for b in self.frontier:
            if not math.isfinite(b) or b <= 0:
                raise InputError(f"--frontier: every budget must be a positive number of yuan, got {b!r}")
        if self.kpi not in COMPARED:
            raise InputError(f"--kpi: unknown KPI {self.kpi!r}; allowed: {', '.join(COMPARED)}")
        if not 9 <= self.reps <= 100_000:
            raise InputError(f"--reps must be from 9 to 100000 (three rungs of successive halving), got {self.reps}")
        if not 2 <= self.confirm_reps <= 100_000:
            raise InputError(f"--confirm-reps must be from 2 to 100000, got {self.confirm_reps}")
        if not 1 <= self.trials <= 1_000_000:
            raise InputError(f"--trials must be from 1 to 1000000, got {self.trials}")
        options.key(self.seed)
        from sim.executor import check_job_options

        check_job_options(self.backend, self.scheduler, self.workers)
        if not 1 <= self.batch <= 256:
            raise InputError(f"--batch must be from 1 to 256 trials, got {self.batch}")
        if self.risk not in RISKS:
            raise InputError(f"--risk must be one of {', '.join(RISKS)}, got {self.risk!r}")
        if not 0 <= self.worlds <= 10_000:
            raise InputError(f"--worlds must be from 0 (the stated values only) to 10000, got {self.worlds}")
        if self.worlds == 0:
            given = [o for o, v in (("--world-reps", self.world_reps), ("--confirm-worlds", self.confirm_worlds),
                                    ("--posterior", self.posterior)) if v is not None]
            if given:
                raise InputError(f"{given[0]}: only with --worlds N (N ≥ 1)")
            if self.risk != "mean":
                raise InputError(f"--risk {self.risk}: only with --worlds N (N ≥ {MIN_P10_WORLDS})")
            return self
        if self.risk in ("p10", "regret") and self.worlds < MIN_P10_WORLDS:
            q = "10th percentile" if self.risk == "p10" else "90th-percentile regret"
            raise InputError(f"--risk {self.risk} needs --worlds {MIN_P10_WORLDS} or more (the {q} of fewer "
                             f"worlds is little more than the worst one), got --worlds {self.worlds}")
        if self.world_reps is not None and not 3 <= self.world_reps <= 100_000:
            raise InputError(f"--world-reps must be from 3 to 100000 (three rungs of successive halving), "
                             f"got {self.world_reps}")
        if self.confirm_worlds is not None and not 2 <= self.confirm_worlds <= 10_000:
            raise InputError(f"--confirm-worlds must be from 2 to 10000, got {self.confirm_worlds}")
        return dataclasses.replace(
            self, world_reps=self.world_reps if self.world_reps is not None else WORLD_REPS,
            confirm_worlds=self.confirm_worlds if self.confirm_worlds is not None else max(CONFIRM_WORLDS,
                                                                                           self.worlds))

    @property
    def budgets(self) -> list[float]:
        """The main budget and the frontier's, each once, smallest first."""
        return sorted({self.budget, *self.frontier})


@dataclass
class OptimiseResult:
    """The answer: the best mix for the budget, judged on fresh replications, and the files it was written to.

    ``result`` is ``result.json``: the mix's Δ of the KPI with its 95 % interval, the best shipped scenario
    within the budget and the paired difference from it (and, with worlds, the spread over fresh worlds).
    """

    folder: Path
    result: dict[str, Any]
    summary_text: str
    frontier_rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def best_scenario_file(self) -> Path:
        """``best.toml``: the mix as a scenario file that ``convsim validate`` accepts and ``compare`` runs."""
        return self.folder / "best.toml"

    @property
    def mix(self) -> dict[str, float]:
        """Lever id → intensity of the best mix."""
        return dict(self.result.get("mix", {}))

    def best(self) -> Scenario:
        """The best mix as a scenario."""
        return load_scenario(self.best_scenario_file)

    @property
    def frontier(self) -> pd.DataFrame | None:
        """One row per budget (``frontier.csv``), or ``None`` without ``frontier`` budgets."""
        if not self.frontier_rows:
            return None
        import pandas as pd

        return pd.read_csv(self.folder / "frontier.csv")

    def plot_frontier(self, lang: str = "en") -> Figure:
        """Gain against yearly budget, the shipped scenarios as points (a matplotlib ``Figure``)."""
        from sim.optimise.report import fig_frontier

        if not self.frontier_rows:
            raise ValueError("no frontier: give frontier budgets")
        return fig_frontier(self.frontier_rows, self.result.get("shipped", []), self.result.get("kpi",
                                                                                               "industrialised"), lang)

    def __getitem__(self, key: str) -> Any:
        return self.result[key]


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
        from sim.store import claim

        claim(out)  # one writer: a second optimiser on the same folder is refused, naming the first


#: The finest intensity of a continuous lever the optimiser buys and writes (its repair rounds down to it);
#: a lever bought in whole units needs one unit.
STEP = 1e-4


def _step(dim: Any) -> float:
    """The smallest purchase of a lever: one whole unit, or :data:`STEP` of a continuous intensity."""
    return float(1.0 / dim.lever.value) if dim.whole else STEP


@dataclass
class _Inputs:
    """Everything read and checked before the first replication."""

    cfg: OptimiseConfig
    base_path: Path
    baseline: Scenario
    space: Space
    shipped: list[Scenario]
    posterior_path: Path | None
    posterior: Any
    ev: Evaluator


def _load(cfg: OptimiseConfig) -> _Inputs:
    from sim.analysis.worlds import draw_worlds, posterior_for, read_posterior
    from sim.optimise.evaluate import Evaluator
    from sim.optimise.robust import SELECT_WORLD_FIRST, WorldEvaluator, in_world
    from sim.optimise.space import Space
    from sim.resources import scenario_file
    from sim.table import build_table

    check_out(cfg.out)
    base_path = scenario_file(cfg.baseline)
    baseline = load_scenario(base_path)
    d = base_path.parent
    missing = [f for f in GROUP_FILES if not (d / f).is_file()]
    if missing:
        raise InputError(f"{d}: the group scenarios {', '.join(missing)} must lie beside the baseline")
    groups = [load_scenario(d / f) for f in GROUP_FILES]
    shipped = [load_scenario(p) for p in sorted(d.glob("*.toml")) if p.resolve() != base_path.resolve()]
    posterior_path: Path | None = None
    posterior = None
    if cfg.worlds:
        posterior_path = posterior_for(baseline, cfg.posterior)
        posterior = read_posterior(posterior_path) if posterior_path is not None else None
    build_table(baseline, str(base_path))
    space = Space(groups, baseline, str(base_path))
    space.check_maxima()
    for b in cfg.budgets:
        if not any(space.single(dim.id, b)[dim.id] >= _step(dim) for dim in space.dims):
            cheapest = min(space.dims, key=lambda d: space.max_yearly_cost({d.id: _step(d)}))
            cost = space.max_yearly_cost({cheapest.id: _step(cheapest)})
            what = "--budget" if b == cfg.budget else "--frontier"
            raise InputError(f"{what}: {b:,.0f} yuan a year buys no lever at all (the smallest purchase, "
                             f"{'one unit' if cheapest.whole else f'intensity {STEP:g}'} of {cheapest.id}, costs "
                             f"{cost:,.0f} yuan a year)")
    ev: Evaluator
    if cfg.worlds == 0:
        ev = Evaluator(baseline, cfg.kpi, cfg.seed)
    else:
        search: list[World] = draw_worlds(cfg.worlds, cfg.seed, posterior)
        select = draw_worlds(cfg.worlds, cfg.seed, posterior, SELECT_WORLD_FIRST)
        for w in [*search, *select]:  # a parameter set the model refuses is an input error, before any replication
            build_table(in_world(baseline, w), f"{posterior_path}: parameter set {w.param_set} (world {w.index})")
        ev = WorldEvaluator(baseline, cfg.kpi, cfg.seed, search, select, cfg.risk)
    return _Inputs(cfg, base_path, baseline, space, shipped, posterior_path, posterior, ev)


def _study_tag(inp: _Inputs) -> str:
    """What, besides budget, KPI, seed and replications, makes a study: the worlds (so a changed option or
    posterior file starts a new study in the same folder instead of mixing trials)."""
    if inp.cfg.worlds == 0:
        return ""
    p = inp.posterior_path
    digest = hashlib.sha256(p.read_bytes()).hexdigest()[:10] if p is not None else "none"
    return f"-worlds{inp.cfg.worlds}-{inp.cfg.risk}-posterior{digest}"


def _judge(inp: _Inputs, budget: float) -> Evaluator:
    """The evaluator of one budget's search: with ``--risk regret`` measuring regret against that budget's
    comparison set (:func:`sim.optimise.robust.comparison_set`), else the shared one."""
    if inp.cfg.risk != "regret":
        return inp.ev
    from sim.optimise.robust import WorldEvaluator, comparison_set

    assert isinstance(inp.ev, WorldEvaluator)
    return inp.ev.against(comparison_set(inp.space, inp.shipped, budget))


def _claim(out: Path) -> None:
    """Mark the folder as this job's (once): other jobs then recognise it and what in it is convsim's."""
    from sim.optimise.report import write_json
    from sim.store import TEMP_PATTERN, write_marker

    out.mkdir(parents=True, exist_ok=True)
    if not (out / MARKER).exists():
        write_json(out / MARKER, {"made_by": "convsim optimise", "version": __version__,
                                  "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
                                  "files": list(OWN_FILES)})
        write_marker(out, "optimise", patterns=[*OWN_FILES, TEMP_PATTERN])


def optimise(cfg: OptimiseConfig, control: Control | None = None, say: Say | None = None) -> OptimiseResult:
    """Search the best mix of the group scenarios' levers for ``cfg.budget`` (and each frontier budget).

    ``control`` counts trials, then fresh replications, and cancels at the next trial or batch with
    :class:`~sim.jobs.Cancelled` (every finished trial stays in the journal: the same call resumes).
    ``say`` is told what happens (engine ready, resuming) in plain words.
    """
    from sim.store import writer

    t0 = time.perf_counter()
    cfg = cfg.checked()
    inp = _load(cfg)
    ctl = control if control is not None else Control()
    _claim(cfg.out)
    from sim.executor import executor, job_backend

    kind = job_backend(cfg.backend, cfg.workers)
    with writer(cfg.out), executor(kind, cfg.scheduler, cfg.workers) as ex:  # the claim: let go when it ends
        inp.ev.use(ex, 1 if kind == "dask" else None)  # a Dask worker core runs one task single-threaded
        return _search_and_confirm(cfg, inp, ctl, say, t0)


def _search_and_confirm(cfg: OptimiseConfig, inp: _Inputs, ctl: Control, say: Say | None,
                        t0: float) -> OptimiseResult:
    """Search each budget (resuming the journal), re-estimate the winners on fresh replications, write the files."""
    from sim.experiment import engine_ready
    from sim.optimise.report import Fresh, confirm, max_cost, write_best, write_frontier, write_json
    from sim.optimise.search import Search, SearchConfig
    from sim.table import build_table

    secs = engine_ready("fast", build_table(inp.baseline, str(inp.base_path)))
    if say is not None:
        say(f"fast engine ready in {secs:.1f} s")
    reps = cfg.reps if cfg.worlds == 0 else int(cfg.world_reps or 0)
    tag = _study_tag(inp)
    searches = [Search(inp.space, _judge(inp, b), SearchConfig(b, reps, cfg.trials, cfg.seed, cfg.kpi, tag,
                                                               cfg.batch),
                       cfg.out / DB, inp.shipped) for b in cfg.budgets]
    done = sum(min(s.done(), cfg.trials) for s in searches)
    if done and say is not None:
        say(f"resuming: {done} of {cfg.trials * len(searches)} trials already in {cfg.out / DB}")
    ctl.start(cfg.trials * len(searches), "trial", "optimise")
    if done:
        ctl.advance(done)
    results = {s.cfg.budget: s.run(progress=ctl) for s in searches}
    shipped = inp.shipped
    # the comparison needs the scenarios within the budget; the frontier's figure shows them all
    if not cfg.frontier:
        shipped = [sc for sc in shipped if max_cost(sc) <= cfg.budget * (1 + 1e-9)]
    arms = 1 + 2 * len(cfg.budgets) + len(shipped)
    world_arms = arms
    if cfg.risk == "regret":  # the fresh worlds also run every single lever of the comparison set
        from sim.optimise.robust import single_levers

        world_arms += sum(len(single_levers(inp.space, b)) - 1 for b in cfg.budgets)
    world_reps = int(cfg.world_reps or 0)
    confirm_worlds = int(cfg.confirm_worlds or 0)
    ctl.start(cfg.confirm_reps * arms + (confirm_worlds * world_reps * world_arms if cfg.worlds else 0), "rep",
              "fresh replications")
    fresh = Fresh(inp.ev, cfg.confirm_reps, shipped, ctl)
    fw = None
    world_meta: dict[str, Any] = {}
    if cfg.worlds:
        from sim.analysis.worlds import draw_worlds
        from sim.optimise.robust import FRESH_WORLD_FIRST, WorldEvaluator
        from sim.optimise.world_confirm import FreshWorlds

        assert isinstance(inp.ev, WorldEvaluator)
        fw = FreshWorlds(inp.ev, draw_worlds(confirm_worlds, cfg.seed, inp.posterior, FRESH_WORLD_FIRST),
                         world_reps, shipped, ctl)
        world_meta = {"worlds": cfg.worlds, "risk": cfg.risk, "world_reps": world_reps,
                      "confirm_worlds": confirm_worlds,
                      "posterior": str(inp.posterior_path) if inp.posterior_path is not None else None}
    confirmed = {b: {**world_meta, **confirm(inp.space, fresh, results[b], b, fw)} for b in cfg.budgets}
    meta = {"seed": cfg.seed, "search_reps": reps, "confirm_reps": cfg.confirm_reps, "trials": cfg.trials,
            "batch": cfg.batch,
            "baseline": str(inp.base_path), "window": list(inp.ev.window), "version": __version__,
            "wall_seconds": round(time.perf_counter() - t0, 1)}
    main = confirmed[cfg.budget]
    main.update(meta)
    ctl.check()  # a cancel during the last batch: nothing of this answer is written
    write_best(inp.space, results[cfg.budget], main, cfg.out, inp.base_path)
    rows: list[dict[str, Any]] = []
    if cfg.frontier:
        rows = [confirmed[b] for b in cfg.budgets]
        write_frontier(rows, main["shipped"], cfg.out, cfg.kpi)
        write_json(cfg.out / "frontier.json", {"budgets": rows, **meta})
    result: dict[str, Any] = json.loads((cfg.out / "result.json").read_text(encoding="utf-8"))
    return OptimiseResult(cfg.out, result, (cfg.out / "summary.txt").read_text(encoding="utf-8"), rows)
