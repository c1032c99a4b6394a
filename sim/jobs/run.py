"""One scenario's replications (``convsim run``) and one replication's event trace (``convsim trace``).

:func:`run_scenario` runs replications 0 … reps − 1 and returns a
:class:`RunResult`: the records (one row per replication and year), the
manifest that reproduces them, and the KPI summaries of the calibration
window (2018–2022, against the report's figures) and of the policy period.
:func:`trace_scenario` follows every offer of one replication through the
reference engine, event by event.

The run path imports neither pandas nor Matplotlib, so a short run starts in
well under a second once the engine is compiled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import InputError
from sim.jobs import options
from sim.jobs.control import Control, as_control
from sim.progress import Progress
from sim.scenario import Scenario, load_scenario

if TYPE_CHECKING:
    import pandas as pd

    from sim.experiment import RecordArrays


def as_scenario(sc: Scenario | str | Path) -> tuple[Scenario, str]:
    """The scenario and where it came from (a file path, or the scenario's own ``source``)."""
    if isinstance(sc, Scenario):
        return sc, sc.source
    if not isinstance(sc, str | Path):
        raise InputError(f"expected a scenario or a scenario file, got {type(sc).__name__}")
    from sim.resources import scenario_file

    path = scenario_file(sc)  # a default ``scenarios/…`` run from a folder without one: the shipped copy
    return load_scenario(path), str(path)


@dataclass
class RunResult:
    """The records of one scenario's replications and what reproduces them."""

    scenario: Scenario
    source: str
    seed: int
    reps: int
    engine: str
    arrays: RecordArrays
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def records(self) -> pd.DataFrame:
        """The tidy records: ``rep``, ``year`` and every counter, one row per replication and year."""
        rec = self.arrays.frame()
        t = self.scenario.params.time
        rec.attrs.update({"scenario": self.scenario.id, "seed": self.seed, "policy_start_year": t.policy_start_year,
                          "start_year": t.start_year, "horizon_year": t.horizon_year})
        return rec

    def windows(self) -> dict[str, tuple[int, int]]:
        """The calibration window (the years before the policies) and the policy period, by label."""
        t = self.scenario.params.time
        start, policy, horizon = t.start_year, t.policy_start_year, t.horizon_year
        out = {f"{start}–{min(policy - 1, horizon)}": (start, min(policy - 1, horizon))}
        if horizon >= policy:
            out[f"{policy}–{horizon}"] = (policy, horizon)
        return out

    def summaries(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Window → KPI → unit, mean and 90 % interval over replications."""
        from sim.analysis.kpi import kpi_arrays, summary_rows

        return {name: summary_rows(kpi_arrays(self.arrays, lo, hi)[1]) for name, (lo, hi) in self.windows().items()}

    def text(self, lang: str = "en") -> str:
        """The KPI table ``convsim run`` prints, beside the report's figures for 2018–2022."""
        from sim.analysis.kpi import kpi_table_text
        from sim.analysis.targets import report_targets

        sc = self.scenario
        title = sc.scenario.name_zh if lang == "zh" else sc.scenario.name_en
        one = self.reps < 2
        if lang == "zh":
            head = (f"{title} — {self.reps} 次重复,随机种子 {self.seed},引擎 {self.engine};"
                    + ("单次重复的值(区间至少需要 2 次重复)" if one else "各次重复的均值 [90% 区间]"))
        else:
            head = (f"{title} — {self.reps} replications, seed {self.seed}, engine {self.engine}; "
                    + ("one replication's values (an interval needs at least 2)" if one
                       else "mean [90 % interval] over replications"))
        targets = report_targets() if sc.params.time.start_year == 2018 else None
        return head + "\n" + kpi_table_text(self.summaries(), lang, targets=targets, intervals=not one)

    def write(self, folder: str | Path) -> Path:
        """``records.parquet`` and ``manifest.json`` into ``folder``, replacing an earlier run there atomically."""
        from sim.experiment import write_run

        return write_run(folder, self.arrays, self.manifest)


def run_scenario(scenario: Scenario | str | Path, reps: int = 100, seed: int = 0, engine: str = "auto",
                 progress: Progress | Control | None = None) -> RunResult:
    """Run replications 0 … reps − 1 of a scenario on ``engine`` (``auto``: fast when it pays).

    Same scenario, seed and replication numbers ⇒ the same records, on any engine and any machine.
    ``progress``: a callback counting replications, or a :class:`~sim.jobs.Control` (which also cancels
    between chunks of replications).
    """
    from sim.experiment import RunPlan, manifest, resolve_engine, results
    from sim.table import build_table

    sc, source = as_scenario(scenario)
    reps = options.reps(reps, "--reps", lo=1)
    seed = options.key(seed)
    options.choice(engine, "--engine", options.ENGINES)
    table = build_table(sc, source)
    options.memory(reps, table.n_years, 1)
    eng = resolve_engine(engine, reps)
    control = as_control(progress)
    if control is not None:
        control.start(reps, "rep", f"{sc.id} ({eng})")
    plan = RunPlan.single(table, range(reps), seed, engine=eng, output="arrays")
    arrays = results(plan, progress=progress)[0]
    return RunResult(sc, source, seed, reps, eng, arrays, manifest(sc, source, seed, reps, eng))


@dataclass
class TraceResult:
    """Every step of every offer in one replication: time, offer, channel, event, detail."""

    scenario: Scenario
    seed: int
    rep: int
    frame: pd.DataFrame

    @property
    def offers(self) -> int:
        return int(self.frame["offer_key"].nunique())

    def write(self, path: str | Path) -> Path:
        """The trace as ``.csv`` or ``.parquet`` (by the suffix), replacing only a trace convsim wrote."""
        from sim.store import atomic_file

        out = Path(path)
        check_trace_path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(out) as tmp:
            if out.suffix == ".csv":
                self.frame.to_csv(tmp, index=False)
            else:
                self.frame.to_parquet(tmp, index=False)
        return out


def is_trace_file(path: Path) -> bool:
    """Whether ``path`` is a trace convsim wrote (its columns are a trace's), so it may be overwritten."""
    from sim.layout import TRACE_COLUMNS

    columns = [TRACE_COLUMNS[0], "date", *TRACE_COLUMNS[1:]]  # the trace's table puts the date second
    try:
        if path.suffix == ".csv":
            with path.open(encoding="utf-8") as f:
                return f.readline().strip() == ",".join(columns)
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names) == columns
    except Exception:  # anything unreadable is not a trace of ours
        return False


def check_trace_path(out: Path) -> None:
    """A trace goes to a ``.csv`` or ``.parquet`` file that is new or a trace convsim wrote."""
    from sim.store import check_output_file

    if out.suffix not in (".csv", ".parquet"):
        raise InputError(f"{out}: --out must end in .csv or .parquet")
    check_output_file(out, "--out", is_trace_file)


def trace_scenario(scenario: Scenario | str | Path, rep: int = 0, seed: int = 0) -> TraceResult:
    """The event trace of replication ``rep`` (the SimPy reference engine, event by event)."""
    from sim.experiment import RunPlan, results
    from sim.table import build_table

    sc, source = as_scenario(scenario)
    rep, seed = options.key(rep, "--rep"), options.key(seed)
    plan = RunPlan.single(build_table(sc, source), (rep,), seed, engine="simpy", output="trace")
    return TraceResult(sc, seed, rep, results(plan)[0])
