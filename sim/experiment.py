"""Experiments: many replications of a scenario, and their records on disk.

A run's records are a tidy table, one row per (replication, calendar year)
and one column per record row of :mod:`sim.layout`. On disk a run is a folder
with ``records.parquet`` (Apache Parquet via pyarrow: typed, compressed,
readable from any tool) and ``manifest.json`` (scenario, resolved parameters,
levers, seed, engine, package versions), written to a temporary folder and
renamed into place so an interrupted run never leaves half a result
(:mod:`sim.store`: convsim never replaces a folder it did not write).

The engines' output is first held as :class:`RecordArrays` (NumPy only);
``convsim run`` writes and summarises it without pandas, whose import alone
takes ≈ 0.2 s of a one-second start; ``output="records"`` gives the pandas
table every analysis uses.

**The run layer.** Every job hands the run layer one :class:`RunPlan` — *what* to
run: a list of :class:`Run` (a scenario, already placed in its world, or its
parameter table, on a block of replication numbers), the window the results are
read over; *how*: engine, seed, what comes back, threads per task, runs per task
— and :func:`execute` alone calls the engines, here or on an executor of
:mod:`sim.executor` (local processes or a Dask cluster). Compare's arms, the
worlds, the sweep points, the optimiser's trials, the calibration's particles
and its predictive check, ``run`` and ``trace`` all go through it. Because every
random number is keyed by (seed, replication, …), a plan's results never depend
on the executor, the number of workers or the order in which tasks finish.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from sim.layout import RECORD_ROWS
from sim.scenario import Scenario
from sim.store import atomic_folder
from sim.table import Table, build_table
from sim.version import __version__

if TYPE_CHECKING:
    import concurrent.futures as cf

    import pandas as pd

ENGINES = ("simpy", "fast")
#: ``engine="auto"`` uses the SimPy engine up to this many replications unless the fast engine's
#: compiled code is already cached (compiling it, ≈ 40 s, pays off only for more replications).
AUTO_SIMPY_MAX = 4


def resolve_engine(engine: str, reps: int) -> str:
    """The engine ``auto`` stands for: the fast engine when its compiled code is cached or for more
    than ``AUTO_SIMPY_MAX`` replications, else SimPy. Both give the same records."""
    if engine == "auto":
        from sim._cache import fast_engine_cached

        return "fast" if reps > AUTO_SIMPY_MAX or fast_engine_cached() else "simpy"
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; available: auto, {', '.join(ENGINES)}")
    return engine


@dataclass(frozen=True)
class RecordArrays:
    """A run's records as arrays: ``values[k, row, y]`` is record row ``row`` of replication ``reps[k]``
    in calendar year ``years[y]`` (rows as :data:`sim.layout.RECORD_ROWS`)."""

    reps: np.ndarray  # int32, one per replication, in run order
    years: np.ndarray  # int32 calendar years
    values: np.ndarray  # float64 (replications, rows, years)

    @classmethod
    def stack(cls, records: Iterable[tuple[int, np.ndarray]], years: np.ndarray) -> RecordArrays:
        """Per-replication records ``(rep, R[row, year])`` stacked in the order given."""
        items = list(records)
        values = np.stack([R for _, R in items]) if items else np.zeros((0, len(RECORD_ROWS), len(years)))
        return cls(np.array([rep for rep, _ in items], dtype=np.int32), years.astype(np.int32), values)

    def columns(self) -> dict[str, np.ndarray]:
        """The tidy table's columns: ``rep``, ``year``, then one per record row; one row per (replication, year)."""
        n, n_rows, n_years = self.values.shape
        flat = self.values.transpose(0, 2, 1).reshape(n * n_years, n_rows)
        cols = {"rep": np.repeat(self.reps, n_years), "year": np.tile(self.years, n)}
        cols.update({name: flat[:, k] for k, name in enumerate(RECORD_ROWS)})
        return cols

    def frame(self) -> pd.DataFrame:
        """The tidy run table (pandas)."""
        import pandas as pd

        if self.values.shape[0] == 0:
            return pd.DataFrame(columns=["rep", "year", *RECORD_ROWS])
        n, n_rows, n_years = self.values.shape
        df = pd.DataFrame(self.values.transpose(0, 2, 1).reshape(n * n_years, n_rows), columns=list(RECORD_ROWS))
        df.insert(0, "year", np.tile(self.years, n))
        df.insert(0, "rep", np.repeat(self.reps, n_years))
        return df

    def write_parquet(self, path: Path) -> None:
        """Write the tidy table as Parquet with pyarrow alone (same columns and types as
        ``frame().to_parquet(path, index=False)``; ``pd.read_parquet`` gives back :meth:`frame`)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        # arrays built from their buffers: pa.array() and pa.table() would import pandas to check their input
        cols = {k: np.ascontiguousarray(v) for k, v in self.columns().items()}
        arrays = [pa.Array.from_buffers(pa.from_numpy_dtype(v.dtype), len(v), [None, pa.py_buffer(v)])
                  for v in cols.values()]
        pq.write_table(pa.Table.from_arrays(arrays, names=list(cols)), path)


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "not installed"


def record_frame(records: Iterable[tuple[int, np.ndarray]], years: np.ndarray) -> pd.DataFrame:
    """Stack per-replication records ``R[row, year]`` into the tidy run table."""
    return RecordArrays.stack(records, years).frame()


@contextmanager
def interrupt_between_chunks() -> Iterator[Callable[[], None]]:
    """Hold Ctrl-C while compiled code runs; yield a check that raises it between chunks.

    A SIGINT that arrives inside a Numba call makes the call return with an
    exception set, which Python reports as a ``SystemError`` and a traceback.
    Here the signal is only noted, and the caller's check raises a clean
    ``KeyboardInterrupt`` at the next chunk boundary (a fraction of a second
    later). Outside the main thread (e.g. a Dask worker) nothing changes.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield lambda: None
        return
    pending: list[int] = []
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN:  # started with Ctrl-C ignored (e.g. a background job): keep it so
        yield lambda: None
        return

    def note(signum: int, frame: object) -> None:
        pending.append(signum)

    def check() -> None:
        if pending:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, note)
    try:
        yield check
    finally:
        signal.signal(signal.SIGINT, previous)
    check()


def run_records(table: Table, seed: int, reps: Iterable[int], engine: str = "auto",
                progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """The tidy records (pandas) of replications ``reps`` of a prepared scenario: the plan of one table, for a
    notebook or a test (the library's jobs build their own :class:`RunPlan`)."""
    return results(RunPlan.single(table, reps, seed, engine=engine), progress=progress)[0]


def _records(table: Table, seed: int, reps: Iterable[int], engine: str = "auto",
             progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    return _run_arrays(table, seed, reps, engine, progress).frame()


def _run_arrays(table: Table, seed: int, reps: Iterable[int], engine: str = "auto",
                      progress: Callable[[int], None] | None = None) -> RecordArrays:
    """Run replications ``reps`` of a prepared scenario and return their records as arrays.

    Both engines give the same records for the same replication numbers; the
    fast engine runs them in chunks over all cores so the progress bar moves.
    """
    reps = list(reps)
    engine = resolve_engine(engine, len(reps))
    out: list[tuple[int, np.ndarray]] = []
    if engine == "simpy":
        from sim.engines.reference import run_reference

        for rep in reps:
            out.append((rep, run_reference(table, seed, rep)))
            if progress is not None:
                progress(1)
    else:
        import numba

        from sim.engines.fast import run_fast

        chunk = max(8, 16 * numba.get_num_threads())
        with interrupt_between_chunks() as check:
            for start in range(0, len(reps), chunk):
                part = reps[start:start + chunk]
                recs, _ = run_fast(table, seed, part)
                check()
                out.extend(zip(part, recs, strict=True))
                if progress is not None:
                    progress(len(part))
    return RecordArrays.stack(out, table.years)


def _mean_records(table: Table, seed: int, reps: Iterable[int]) -> np.ndarray:
    """The mean over replications ``reps`` of the raw records ``[row, year]`` (fast engine, in one call).

    For a caller that needs only linear functions of the records (the calibration's targets): no
    table of records is built. Ctrl-C is honoured when the call returns.
    """
    from sim.engines.fast import run_fast

    with interrupt_between_chunks() as check:
        recs, _ = run_fast(table, seed, list(reps))
        check()
    return np.asarray(recs.mean(axis=0))


def engine_ready(engine: str, table: Table) -> float:
    """Make sure the compiled engine is loaded (compiling it the first time on a machine); seconds it took."""
    if engine != "fast":
        return 0.0
    from sim.engines.fast import compile_time

    return compile_time(table)


def _trace(table: Table, seed: int, rep: int) -> pd.DataFrame:
    """Every step of every offer in one replication (the reference engine's trace)."""
    from sim.engines import reference

    return reference.trace_reference(table, seed, rep)[1]


#: What a plan's runs give back: the tidy records (pandas), :class:`RecordArrays`, the mean records over the
#: replications (:class:`MeanRecords`, fast engine, no table built), or the event trace of one replication.
Output = Literal["records", "arrays", "mean", "trace"]
OUTPUTS: tuple[str, ...] = ("records", "arrays", "mean", "trace")


@dataclass(frozen=True)
class Run:
    """One unit of a :class:`RunPlan`: one scenario on a block of replication numbers.

    ``model`` is the scenario — already placed in its world, at its sweep point or at a particle's parameter
    values by the job that built the plan — or its parameter table when the job has built it already.
    ``key`` is the job's own label (arm, (world, arm), (point, arm), candidate…), handed back with the result.
    ``seed`` overrides the plan's seed for this run (a calibration particle's own seed). ``at``: where the
    plan's ``place`` puts the scenario before it runs (a world, a particle's parameter values), so that the
    placing — which can take longer than it is worth sending — happens on the worker.
    """

    model: Scenario | Table
    reps: range | tuple[int, ...]
    key: Any = None
    source: str | None = None
    seed: int | None = None
    at: Any = None

    def table(self) -> Table:
        """The parameter table this run simulates."""
        if isinstance(self.model, Table):
            return self.model
        return build_table(self.model, self.source) if self.source is not None else build_table(self.model)


@dataclass(frozen=True)
class MeanRecords:
    """The mean over a run's replications of the raw records ``values[row, year]`` (rows as
    :data:`sim.layout.RECORD_ROWS`, years ``first_year …``)."""

    values: np.ndarray
    first_year: int
    n_years: int


#: A plan's reduction, applied where the run ran (a worker): ``reduce(run, output, window)``, ``run`` as it ran
#: (placed). Like ``place``, a module-level function (or a :func:`functools.partial` of one), so that it can be
#: sent to a process.
Reduce = Callable[[Run, Any, "tuple[int, int] | None"], Any]
#: A plan's placing of a run's scenario (in its world, at its parameter values), where the run runs.
Place = Callable[[Run], "Scenario | Table"]


@dataclass(frozen=True)
class RunPlan:
    """One run configuration: what to run and how, handed by every job to :func:`execute`.

    What: ``runs`` (scenarios × worlds × blocks of replications, one :class:`Run` each) and ``window``, the
    calendar years the job reads (given to ``reduce``; the runs themselves always simulate the scenario's
    whole horizon, so that records stay identical whatever the window).
    How: ``engine`` (``auto``, ``simpy``, ``fast``; ``auto`` resolved per run from its replications), ``seed``,
    ``output`` (:data:`OUTPUTS`), ``place`` (puts each run's scenario at its ``at`` first), ``reduce`` (turns a
    run's output into what the job keeps, on the worker, so only that travels back), ``threads`` (Numba
    threads per task; None: the worker's own — a Dask worker core runs one task single-threaded), ``batch``
    (runs sent to a worker as one task: fewer, larger tasks cost less to send) and ``in_order`` (results in
    the runs' order, else as they finish).
    """

    runs: tuple[Run, ...]
    seed: int
    engine: str = "auto"
    output: Output = "records"
    window: tuple[int, int] | None = None
    reduce: Reduce | None = None
    place: Place | None = None
    threads: int | None = None
    batch: int = 1
    in_order: bool = True

    def __post_init__(self) -> None:
        if self.output not in OUTPUTS:
            raise ValueError(f"output {self.output!r}: one of {', '.join(OUTPUTS)}")
        if self.engine not in ("auto", *ENGINES):
            raise ValueError(f"unknown engine {self.engine!r}; available: auto, {', '.join(ENGINES)}")
        if self.batch < 1:
            raise ValueError(f"batch must be 1 or more, got {self.batch}")
        if self.output == "trace" and any(len(r.reps) != 1 for r in self.runs):
            raise ValueError("a trace is of one replication per run")

    @classmethod
    def single(cls, model: Scenario | Table, reps: Iterable[int], seed: int, source: str | None = None,
               **how: Any) -> RunPlan:
        """The plan of one scenario (or table) on replications ``reps``."""
        return cls((Run(model, _reps(reps), None, source),), seed, **how)

    @property
    def replications(self) -> int:
        """Replications the plan runs in all (what a progress bar counts)."""
        return sum(len(r.reps) for r in self.runs)


def _reps(reps: Iterable[int]) -> range | tuple[int, ...]:
    return reps if isinstance(reps, range) else tuple(int(r) for r in reps)


def _run_one(plan: RunPlan, run: Run, progress: Callable[[int], None] | None) -> Any:
    """One run of ``plan``: the engines are called here and nowhere else."""
    if plan.place is not None:
        run = replace(run, model=plan.place(run))
    table = run.table()
    seed = plan.seed if run.seed is None else run.seed
    out: Any
    if plan.output == "trace":
        out = _trace(table, seed, run.reps[0])
    elif plan.output == "mean":
        out = MeanRecords(_mean_records(table, seed, run.reps), int(table.first_year), int(table.n_years))
    elif plan.output == "records":
        out = _records(table, seed, run.reps, plan.engine, progress)
    else:
        out = _run_arrays(table, seed, run.reps, plan.engine, progress)
    if progress is not None and plan.output in ("mean", "trace"):
        progress(len(run.reps))
    return out if plan.reduce is None else plan.reduce(run, out, plan.window)


def _run_task(how: RunPlan, runs: tuple[Run, ...], progress: Callable[[int], None] | None = None) -> list[Any]:
    """One task of a plan on whichever worker gets it: ``runs`` in order, with the plan's settings ``how``."""
    from sim.executor import limit_threads

    limit_threads(how.threads)
    return [_run_one(how, run, progress) for run in runs]


def execute(plan: RunPlan, executor: cf.Executor | None = None,
            progress: Callable[[int], None] | None = None) -> Generator[tuple[Run, Any], None, None]:
    """Run ``plan``; yields ``(run, result)`` for every run, in the runs' order or as they finish
    (``plan.in_order``). The only function that calls the engines.

    ``executor``: where the tasks run (:func:`sim.executor.executor`); None runs them here, one after another,
    each over every core. ``progress`` counts replications: here it moves within a run (between chunks of
    the fast engine, which is also where Ctrl-C or a cancellation is taken), elsewhere when a run comes back.
    With this process's executor a task runs only when its result is asked for, so a job that stops reading
    (it has enough particles, it was cancelled) simulates nothing more; closing the iterator cancels the
    tasks not yet started.
    """
    from functools import partial

    from sim.executor import InlineExecutor, as_finished, ordered

    ex = executor if executor is not None else InlineExecutor()
    here = isinstance(ex, InlineExecutor)
    how = replace(plan, runs=())
    tasks = [plan.runs[i:i + plan.batch] for i in range(0, len(plan.runs), plan.batch)]
    fn = partial(_run_task, how, progress=progress if here else None)
    inner: Iterator[Any]
    done: Iterator[tuple[tuple[Run, ...], list[Any]]]
    if plan.in_order or here:
        each: Generator[list[Any], None, None] = ordered(ex, fn, tasks)
        inner, done = each, zip(tasks, each, strict=True)
    else:
        inner = done = as_finished(ex, fn, tasks)
    try:
        for task, got in done:
            for run, result in zip(task, got, strict=True):
                if progress is not None and not here:
                    progress(len(run.reps))
                yield run, result
    finally:
        close = getattr(inner, "close", None)
        if close is not None:
            close()  # cancels the tasks not yet started


def results(plan: RunPlan, executor: cf.Executor | None = None,
            progress: Callable[[int], None] | None = None) -> list[Any]:
    """Every run's result of :func:`execute`, in the runs' order (whatever order they finish in)."""
    got = {id(run): result for run, result in execute(plan, executor, progress)}
    return [got[id(run)] for run in plan.runs]


def package_versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0], "platform": platform.platform(), "convsim": __version__}
    for pkg in ("numpy", "numba", "simpy", "scipy", "pandas", "pyarrow", "pydantic"):
        out[pkg] = _version(pkg)
    return out


def manifest(sc: Scenario, source: str | Path | None, seed: int, reps: int, engine: str,
             extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything needed to reproduce a run."""
    digest = None
    if source is not None and Path(source).is_file():
        digest = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    m: dict[str, Any] = {
        "scenario_id": sc.id,
        "scenario_name_en": sc.scenario.name_en,
        "scenario_name_zh": sc.scenario.name_zh,
        "scenario_file": str(source) if source is not None else None,
        "scenario_sha256": digest,
        "seed": seed,
        "replications": reps,
        "engine": engine,
        "parameters": json.loads(sc.params.model_dump_json()),
        "levers": [json.loads(lv.model_dump_json()) for lv in sc.levers],
        "versions": package_versions(),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": {"records": "records.parquet"},
    }
    if extra:
        m.update(extra)
    return m


def write_run(out_dir: str | Path, records: pd.DataFrame | RecordArrays, man: dict[str, Any]) -> Path:
    """Write records (a tidy table or :class:`RecordArrays`) and manifest to ``out_dir`` atomically."""
    with atomic_folder(out_dir, kind="run") as tmp:
        if isinstance(records, RecordArrays):
            records.write_parquet(tmp / "records.parquet")
        else:
            records.to_parquet(tmp / "records.parquet", index=False)
        (tmp / "manifest.json").write_text(json.dumps(man, ensure_ascii=False, indent=2, allow_nan=True),
                                           encoding="utf-8")
    return Path(out_dir)


def read_run(run_dir: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a run folder written by :func:`write_run`."""
    import pandas as pd

    d = Path(run_dir)
    return pd.read_parquet(d / "records.parquet"), json.loads((d / "manifest.json").read_text(encoding="utf-8"))
