"""How to parallelise: one executor interface for this machine and for a Dask cluster.

The run layer (:func:`sim.experiment.execute`) cuts a job's run plan into
*tasks* — runs of a scenario on blocks of replications — and hands them, with
the function that runs one, to an executor; results come back as each task
finishes. Three executors, one interface (:class:`concurrent.futures.Executor`):

- **local** (:class:`InlineExecutor`): tasks run one after another in this
  process. Each task already uses every core (the fast engine runs
  replications in parallel threads), so nothing is gained by running tasks
  side by side here, and running them in order lets every finished task be
  saved before the next starts.
- **processes** (:func:`process_pool`): a pool of worker processes on this
  machine, started with ``spawn`` (a fresh interpreter: no copy of the
  parent's threads, locks or open databases). For jobs made of many small
  evaluations — the optimiser's trials, the calibration's particles — whose
  replications are too few to keep every core busy one evaluation at a time.
  Each worker's Numba engine gets ``cores / workers`` threads, so workers ×
  threads never exceeds the cores.
- **dask**: Dask's own ``concurrent.futures`` executor
  (``Client.get_executor``), one task per worker core, on a cluster given by
  its scheduler address or on a local cluster started for the job.

The long jobs take the command line's ``--backend local|dask`` and
``--workers N``; :func:`job_backend` maps ``local`` with two or more workers
to ``processes``.

Because every random number is keyed by (seed, replication, decision, …),
the records never depend on the executor, the number of workers or the order
in which tasks finish.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import re
import signal
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sim.errors import InputError

T = TypeVar("T")
R = TypeVar("R")

#: How long to wait for a Dask scheduler before saying it cannot be reached (seconds).
SCHEDULER_TIMEOUT_S = 5
BACKENDS = ("local", "processes", "dask")
#: What the command line offers (``processes`` is ``local`` with ``--workers`` 2 or more).
JOB_BACKENDS = ("local", "dask")


class InlineExecutor(cf.Executor):
    """Runs a task when it is asked for, in this process (see the module's docstring for why)."""

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> cf.Future[R]:
        fut: cf.Future[R] = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as exc:  # Ctrl-C (KeyboardInterrupt) is not caught: it stops the work
            fut.set_exception(exc)
        return fut


def check_scheduler_address(address: str) -> None:
    """A scheduler address is ``[tcp|tls|ucx|ws|wss]://host:port``, ``host:port`` or ``inproc://…``."""
    ok = re.fullmatch(r"((tcp|tls|ucx|ws|wss)://)?[\w.\-\[\]:]+:\d{1,5}|inproc://.+", address) is not None
    if not ok:
        raise InputError(f"--scheduler {address!r}: expected a Dask scheduler address such as "
                         "tcp://host:8786 or host:8786")


def job_backend(backend: str, workers: int | None) -> str:
    """The executor a long job runs on: ``local`` with two or more ``workers`` is a pool of processes."""
    if backend not in JOB_BACKENDS:
        raise InputError(f"--backend {backend!r}: one of {', '.join(JOB_BACKENDS)}")
    if workers is not None and workers < 1:
        raise InputError(f"--workers must be 1 or more, got {workers}")
    return "processes" if backend == "local" and (workers or 1) > 1 else backend


def check_job_options(backend: str, scheduler: str | None, workers: int | None) -> None:
    """``--backend``, ``--scheduler`` and ``--workers`` of a long job, checked before any work."""
    job_backend(backend, workers)
    if scheduler is not None:
        if backend != "dask":
            raise InputError("--scheduler: only with --backend dask")
        check_scheduler_address(scheduler)
        if workers is not None:
            raise InputError("--workers: the workers of a Dask cluster given by --scheduler are the cluster's own")


def engine_threads(workers: int) -> int:
    """Numba threads for each of ``workers`` processes sharing this machine's cores (at least 1)."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def limit_threads(threads: int | None) -> None:
    """Run the fast engine on at most ``threads`` threads in the calling thread (None: leave as is).

    :func:`numba.set_num_threads` holds for the thread that calls it, which is the thread that then runs
    the engine (a Dask worker's task thread, a pool process's main thread).
    """
    if threads is None:
        return
    import numba

    numba.set_num_threads(max(1, min(threads, int(numba.config.NUMBA_NUM_THREADS))))  # type: ignore[attr-defined]


def _start_worker(threads: int) -> None:
    """A pool process's first step: its share of the cores, and Ctrl-C left to the parent (which stops the pool;
    a worker interrupted in the middle of a task would only send back a traceback).

    Numba reads ``NUMBA_NUM_THREADS`` when it is imported: set before that, the process never starts more
    threads than its share (this process is the pool's own, so the variable concerns nothing else).
    """
    import sys

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if "numba" not in sys.modules:
        os.environ["NUMBA_NUM_THREADS"] = str(threads)
    else:
        limit_threads(threads)


@contextmanager
def process_pool(workers: int) -> Iterator[cf.ProcessPoolExecutor]:
    """``workers`` processes on this machine (``spawn``), each with :func:`engine_threads` Numba threads.

    On the way out after an error or Ctrl-C, queued tasks are cancelled and the workers stopped at once
    (a task half-done in a worker has nothing to save: the job keeps only what came back).
    """
    ex = cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                initializer=_start_worker, initargs=(engine_threads(workers),))
    try:
        yield ex
    except BaseException:
        ex.shutdown(wait=False, cancel_futures=True)
        # ProcessPoolExecutor has no public way to stop running tasks before Python 3.14
        for proc in list(getattr(ex, "_processes", {}).values()):
            proc.terminate()
        raise
    ex.shutdown(wait=True)


@contextmanager
def executor(backend: str = "local", scheduler: str | None = None, workers: int | None = None,
             processes: bool = True) -> Iterator[cf.Executor]:
    """The executor of ``backend``; for Dask, connected (or a local cluster started) before any work.

    ``processes``: for a local Dask cluster, whether its workers are processes (else threads of this one);
    for ``backend="processes"``, ``workers`` is the size of the pool (default: one per core).
    An unreachable scheduler is an :class:`InputError` after
    :data:`SCHEDULER_TIMEOUT_S` seconds, before anything is written.
    """
    if backend == "local":
        yield InlineExecutor()
        return
    if backend == "processes":
        with process_pool(workers or os.cpu_count() or 1) as pool:
            yield pool
        return
    if backend != "dask":
        raise InputError(f"--backend {backend!r}: one of {', '.join(BACKENDS)}")
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise InputError("--backend dask needs Dask: pip install -e '.[dask]'") from None
    cluster = None
    if scheduler:
        check_scheduler_address(scheduler)
        try:
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise InputError(f"--scheduler {scheduler}: no Dask scheduler answered within {SCHEDULER_TIMEOUT_S} s "
                             f"({type(exc).__name__}); nothing was written") from None
    else:
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                               processes=processes, dashboard_address=None)
        client = Client(cluster)
    try:
        yield client.get_executor(pure=False)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def slots(ex: cf.Executor) -> int:
    """How many tasks ``ex`` runs at once: 1 here, the pool's processes, or the Dask cluster's worker threads."""
    if isinstance(ex, InlineExecutor):
        return 1
    # neither executor says so publicly: the pool's size, the cluster's threads as its client reports them
    if isinstance(ex, cf.ProcessPoolExecutor):
        return int(getattr(ex, "_max_workers", os.cpu_count() or 1))
    client = getattr(ex, "_client", None)
    if client is not None:
        return max(1, sum(client.nthreads().values()))
    return os.cpu_count() or 1


def map_ordered(ex: cf.Executor, fn: Callable[[T], R], tasks: Iterable[T]) -> list[R]:
    """``[fn(task) for task in tasks]``, every task submitted at once, results in the tasks' order.

    For a batch whose results are used together (a batch of trials, of particles): the order of the
    results is the order of the tasks, never the order in which workers finish. If one task fails, the
    rest are cancelled and its exception raised.
    """
    futures = [ex.submit(fn, task) for task in tasks]
    try:
        return [fut.result() for fut in futures]
    finally:
        for fut in futures:
            fut.cancel()


def ordered(ex: cf.Executor, fn: Callable[[T], R], tasks: Iterable[T]) -> Generator[R, None, None]:
    """``fn(task)`` for every task, in the tasks' order, each as soon as it and those before it are done.

    With the inline executor a task runs only when its result is asked for (so a progress bar moves with
    the work); with any other executor every task is submitted at once. Stopping early cancels the rest.
    """
    if isinstance(ex, InlineExecutor):
        for task in tasks:
            yield ex.submit(fn, task).result()
        return
    futures = [ex.submit(fn, task) for task in tasks]
    try:
        for fut in futures:
            yield fut.result()
    finally:
        for fut in futures:
            fut.cancel()


def as_finished(ex: cf.Executor, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[tuple[T, R]]:
    """``(task, fn(task))`` for every task, each as soon as it is done.

    With the inline executor a task runs only when the previous result has
    been taken (so the caller saves it first); with any other executor every
    task is submitted at once and results come back in any order.
    """
    if isinstance(ex, InlineExecutor):
        for task in tasks:
            yield task, ex.submit(fn, task).result()
        return
    futures = {ex.submit(fn, task): task for task in tasks}
    try:
        for fut in cf.as_completed(futures):
            yield futures[fut], fut.result()
    finally:
        for fut in futures:
            fut.cancel()
