"""How to parallelise: one executor interface for this machine and for a Dask cluster.

Work is a list of *tasks* — (scenario or point, replications) — and a
function that runs one; results come back as each task finishes. Two
executors, one interface (:class:`concurrent.futures.Executor`):

- **local** (:class:`InlineExecutor`): tasks run one after another in this
  process. Each task already uses every core (the fast engine runs
  replications in parallel threads), so nothing is gained by running tasks
  side by side here, and running them in order lets every finished task be
  saved before the next starts.
- **dask**: Dask's own ``concurrent.futures`` executor
  (``Client.get_executor``), one task per worker core, on a cluster given by
  its scheduler address or on a local cluster started for the job.

Because every random number is keyed by (seed, replication, decision, …),
the records never depend on the executor, the number of workers or the order
in which tasks finish.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sim.errors import InputError

T = TypeVar("T")
R = TypeVar("R")

#: How long to wait for a Dask scheduler before saying it cannot be reached (seconds).
SCHEDULER_TIMEOUT_S = 5
BACKENDS = ("local", "dask")


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


@contextmanager
def executor(backend: str = "local", scheduler: str | None = None, workers: int | None = None,
             processes: bool = True) -> Iterator[cf.Executor]:
    """The executor of ``backend``; for Dask, connected (or a local cluster started) before any work.

    An unreachable scheduler is an :class:`InputError` after
    :data:`SCHEDULER_TIMEOUT_S` seconds, before anything is written.
    """
    if backend == "local":
        yield InlineExecutor()
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
