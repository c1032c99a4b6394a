"""Two checks a reviewer of the model asks for first: each measure alone, and the report's own figures.

:func:`levers` runs every lever of the five group scenarios (the report's
section 三) alone against the status quo, paired, with its evidence and range
beside its effect. :func:`targets` sets the status quo's 2018–2022 against
every figure the report gives for those years (``calibration/targets.toml``),
at the default parameters or under a calibrated posterior.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sim.errors import InputError
from sim.jobs import options
from sim.jobs.control import Control
from sim.jobs.run import as_scenario
from sim.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd

    from sim.table import Table

#: The columns of ``targets.csv`` at the default parameters.
TARGET_COLUMNS = ["target", "report_value", "low", "high", "model_mean", "model_p05", "model_p95", "within"]


@dataclass
class LeversResult:
    """One row per lever: its paired effect on industrialised projects, with its evidence and range."""

    table: pd.DataFrame
    reps: int
    seed: int
    #: parameters of the baseline set for this run (``params`` of :func:`levers`; empty: the file's own)
    params: dict[str, float] = field(default_factory=dict)

    def text(self) -> str:
        from sim.analysis.levers import lever_text

        text = lever_text(self.table, self.reps, self.seed)
        if self.params:
            text = ("Baseline with " + ", ".join(f"{k} = {v:g}" for k, v in self.params.items()) + "\n" + text)
        return text

    def write(self, folder: str | Path) -> Path:
        """``levers.csv`` into ``folder`` (replacing an earlier ``convsim levers`` output atomically)."""
        from sim.store import atomic_folder

        with atomic_folder(folder, kind="levers") as tmp:
            self.table.to_csv(tmp / "levers.csv", index=False)
        return Path(folder)


def with_params(base: Scenario, params: Mapping[str, float] | None) -> Scenario:
    """``base`` with some parameters set (``--set``); an unknown name or a value out of range is one line."""
    from sim.derived import derive

    if not params:
        return base
    try:
        return derive(base, id=base.id, name_en=base.scenario.name_en, name_zh=base.scenario.name_zh, params=params)
    except InputError as exc:
        msg = str(exc).replace("derive: key 'params.", "--set '", 1)
        if msg.startswith("<derived from"):
            msg = "--set: " + msg.split(": ", 1)[1]
        raise InputError(msg) from None


def levers(baseline: Scenario | str | Path = "scenarios/baseline.toml", reps: int = 200, seed: int = 0,
           engine: str = "auto", control: Control | None = None,
           params: Mapping[str, float] | None = None) -> LeversResult:
    """Every lever of the group files beside ``baseline``, each alone, paired with the baseline.

    ``params`` (``"group.name"`` → value, as ``convsim levers --set``) changes the baseline, and so every lever's
    starting point: e.g. ``{"meeting.brokers": 4}`` asks what each measure buys in a city with four brokers.
    """
    from sim.analysis.levers import lever_table, single_lever_scenarios
    from sim.table import build_table

    base, source = as_scenario(baseline)
    base = with_params(base, params)
    reps, seed = options.reps(reps), options.key(seed)
    options.choice(engine, "--engine", options.ENGINES)
    build_table(base, source)
    singles = single_lever_scenarios(base, Path(source).parent)
    for s in singles:
        build_table(s.scenario, s.source)
    options.memory(reps, base.params.n_years, len(singles) + 1)
    if control is not None:
        control.start(reps * (len(singles) + 1), "rep", f"levers: {len(singles)} + baseline")
    df = lever_table(base, singles, reps, seed, engine, control, source)
    return LeversResult(df, reps, seed, {k: float(v) for k, v in (params or {}).items()})


def _records(table: Table, seed: int, n: int, engine: str, control: Control | None,
             say: Callable[[str], None] | None, desc: str) -> pd.DataFrame:
    """Replications 0 … n − 1 at the scenario's own parameters, the memory checked and the engine readied first."""
    from sim.experiment import RunPlan, resolve_engine, results

    options.memory(n, table.n_years, 1)
    eng = resolve_engine(engine, n)
    _ready(eng, table, say)
    if control is not None:
        control.start(n, "rep", f"{desc} ({eng})")
    return results(RunPlan.single(table, range(n), seed, engine=eng), progress=control)[0]


def _ready(engine: str, table: Table, say: Callable[[str], None] | None) -> None:
    from sim.experiment import engine_ready

    secs = engine_ready(engine, table)
    if say is not None and engine == "fast":
        say(f"fast engine ready in {secs:.1f} s (the first run on a machine compiles it, ≈ 60 s; "
            "later runs load it from the on-disk cache)")


@dataclass
class TargetsResult:
    """Every target of the report against the model: at the defaults, or under a posterior (``posterior``)."""

    table: pd.DataFrame
    reps: int
    seed: int
    posterior: Path | None = None
    observed: Path | None = None
    """With an observed-figures file: ``table`` holds each figure against the model (``records`` its runs)."""
    records: pd.DataFrame | None = None

    def text(self, lang: str = "en") -> str:
        if self.observed is not None:
            from sim.analysis.observed import observed_text

            where = f", {self.posterior}" if self.posterior is not None else ""
            head = (f"{self.observed}: observed figures against the model ({self.reps} replications{where}, "
                    f"seed {self.seed})")
            return head + "\n" + observed_text(self.table, lang)
        if self.posterior is None:
            from sim.analysis.targets import targets_text

            return targets_text(self.table, self.reps, self.seed)
        from sim.calibration.predictive import predictive_text

        return predictive_text(self.table).replace("Posterior predictive check",
                                                   f"{self.posterior}: posterior predictive check")

    def write(self, folder: str | Path) -> Path:
        """``targets.csv`` (and, under a posterior, ``targets.png``) into ``folder``, atomically."""
        from sim.store import atomic_folder

        with atomic_folder(folder, kind="targets") as tmp:
            if self.observed is not None:
                from sim.analysis.figures import save_figure
                from sim.analysis.observed import fig_observed

                assert self.records is not None
                self.table.to_csv(tmp / "observed.csv", index=False, float_format="%.6g")
                save_figure(fig_observed(self.records, self.table), tmp / "observed.png", dpi=120)
            elif self.posterior is None:
                self.table[TARGET_COLUMNS].to_csv(tmp / "targets.csv", index=False)
            else:
                from sim.analysis.figures import save_figure
                from sim.calibration.figures import predictive

                self.table.to_csv(tmp / "targets.csv", index=False, float_format="%.6g")
                save_figure(predictive(self.table), tmp / "targets.png", dpi=120)
        return Path(folder)


def targets(scenario: Scenario | str | Path = "scenarios/baseline.toml", reps: int | None = None, seed: int = 0,
            engine: str = "auto", posterior: str | Path | None = None, sets: int | None = None,
            control: Control | None = None, say: Callable[[str], None] | None = None,
            observed: str | Path | None = None) -> TargetsResult:
    """The scenario's 2018–2022 against every figure of the report.

    With ``posterior`` (a CSV of calibrated parameter sets and weights): ``sets`` sets drawn by weight
    (default 200), ``reps`` replications each (default 10) — the posterior predictive check.
    Without: ``reps`` replications (default 300) at the scenario's parameters.
    ``say`` is told how long the compiled engine took to load (or compile, the first time on a machine).

    ``observed``: a file of figures published after the report (:mod:`sim.analysis.observed`): the scenario
    runs to the last year they need and each figure is set against the model's 90 % predictive interval
    (under the posterior when one is given: ``sets`` worlds drawn by weight, ``reps`` replications each).
    """
    if observed is not None:
        return _observed(scenario, Path(observed), reps, seed, engine, posterior, sets, control, say)
    from sim.analysis.targets import WINDOW, evaluate, load_targets
    from sim.scenario import with_horizon
    from sim.table import build_table

    if posterior is None and sets is not None:
        raise InputError("--sets: only with --posterior")
    seed = options.key(seed)
    options.choice(engine, "--engine", options.ENGINES)
    wanted = load_targets()
    sc, source = as_scenario(scenario)
    t = sc.params.time
    if t.start_year != WINDOW[0] or t.horizon_year < WINDOW[1]:
        raise InputError(f"{source}: key 'params.time': the report's figures are for {WINDOW[0]}–{WINDOW[1]}; "
                         f"this scenario simulates {t.start_year}–{t.horizon_year}")
    sc = with_horizon(sc, WINDOW[1], source)  # later years cannot change 2018–2022: not simulated
    table = build_table(sc, source)
    if posterior is not None:
        from sim.calibration.predictive import predictive_table, read_posterior

        post = read_posterior(posterior)
        n_sets = options.reps(sets if sets is not None else 200, "--sets")
        n_reps = options.reps(reps if reps is not None else 10)
        options.memory(n_sets * n_reps, table.n_years, 1, "--sets × --reps")
        _ready("fast", table, say)
        # the predictive check draws its own bar (tqdm) when a front end watches; it cannot be cancelled midway
        watched = control is not None and control.watched
        res = predictive_table(sc, post, sets=n_sets, reps=n_reps, seed=seed, progress=watched)
        return TargetsResult(res, n_reps, seed, Path(posterior))
    n = options.reps(reps if reps is not None else 300)
    records = _records(table, seed, n, engine, control, say, f"targets {sc.id}")
    return TargetsResult(evaluate(records, wanted), n, seed)


def _observed(scenario: Scenario | str | Path, path: Path, reps: int | None, seed: int, engine: str,
              posterior: str | Path | None, sets: int | None, control: Control | None,
              say: Callable[[str], None] | None) -> TargetsResult:
    """Every observed figure of ``path`` against the scenario's runs (see :func:`targets`)."""
    import pandas as pd

    from sim.analysis.observed import evaluate_observed, last_year, load_observed
    from sim.experiment import Run, RunPlan, results
    from sim.scenario import with_horizon
    from sim.table import build_table

    seed = options.key(seed)
    options.choice(engine, "--engine", options.ENGINES)
    figures = load_observed(path)
    sc, source = as_scenario(scenario)
    horizon = max(last_year(figures), sc.params.time.horizon_year)
    sc = with_horizon(sc, horizon, source)
    first = min(f.window[0] for f in figures)
    if first < sc.params.time.start_year:
        raise InputError(f"{path}: figures from {first}, before the first simulated year {sc.params.time.start_year}")
    table = build_table(sc, source)
    if posterior is None:
        if sets is not None:
            raise InputError("--sets: only with --posterior")
        n = options.reps(reps if reps is not None else 300)
        records = _records(table, seed, n, engine, control, say, f"observed figures, {sc.id}")
        return TargetsResult(evaluate_observed(records, figures), n, seed, None, path, records)
    from sim.analysis.worlds import draw_worlds, read_posterior, scenario_in_world

    n_sets = options.reps(sets if sets is not None else 200, "--sets")
    n = options.reps(reps if reps is not None else 10)
    options.memory(n_sets * n, table.n_years, 1, "--sets × --reps")
    worlds = draw_worlds(n_sets, seed, read_posterior(Path(posterior)))
    tables = [build_table(scenario_in_world(sc, w), f"{posterior}: parameter set {w.param_set}") for w in worlds]
    _ready("fast", table, say)
    if control is not None:
        control.start(n_sets * n, "rep", f"observed figures under {posterior}")
    # world k runs replications k·reps … k·reps + reps − 1: a set drawn twice never repeats its random numbers
    plan = RunPlan(tuple(Run(t, range(k * n, (k + 1) * n), k) for k, t in enumerate(tables)), seed, "fast")
    parts = results(plan, progress=control)
    records = pd.concat(parts, ignore_index=True)
    return TargetsResult(evaluate_observed(records, figures), n, seed, Path(posterior), path, records)
