"""One queue for the runs of every session: one job at a time on the engine, which uses every core.

Several tabs or colleagues share the machine: each submits its jobs here and
the single worker thread runs them one after the other, so two comparisons
never fight for the cores. Comparisons (a planner waiting for an answer) go
before optimisations (long searches) that have not started yet. A job is
cancelled through its :class:`~sim.jobs.Control`: a waiting job is dropped, a
running one stops at its next chunk. The worker is a daemon thread; the
engines release the GIL, so the web server's event loop stays free.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sim.explore.backend import Cancelled, Control

#: Priorities: lower runs first among waiting jobs.
PREPARE, COMPARE, OPTIMISE = 0, 1, 2


@dataclass(order=True)
class Job:
    priority: int
    order: int
    fn: Callable[[Control], Any] = field(compare=False)
    control: Control = field(compare=False)
    future: cf.Future[Any] = field(compare=False)
    owner: str = field(compare=False, default="")
    kind: str = field(compare=False, default="")


class JobQueue:
    """A priority queue of jobs with one worker thread (started on the first job)."""

    def __init__(self) -> None:
        self._jobs: list[Job] = []
        self._cv = threading.Condition()
        self._count = itertools.count()
        self._worker: threading.Thread | None = None
        self.running: Job | None = None

    def submit(self, fn: Callable[[Control], Any], control: Control, priority: int = COMPARE, owner: str = "",
               kind: str = "") -> cf.Future[Any]:
        """Queue ``fn(control)``; its future ends with :class:`Cancelled` if the job is cancelled."""
        fut: cf.Future[Any] = cf.Future()
        with self._cv:
            self._jobs.append(Job(priority, next(self._count), fn, control, fut, owner, kind))
            self._jobs.sort()
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="convsim-explore-queue", daemon=True)
                self._worker.start()
            self._cv.notify()
        return fut

    def ahead_of(self, fut: cf.Future[Any]) -> int:
        """How many jobs run before this waiting one (0 if it runs or has finished)."""
        with self._cv:
            for i, job in enumerate(self._jobs):
                if job.future is fut:
                    return i + (self.running is not None)
        return 0

    def waiting(self) -> int:
        with self._cv:
            return len(self._jobs)

    def _work(self) -> None:
        while True:
            with self._cv:
                while not self._jobs:
                    self._cv.wait()
                job = self._jobs.pop(0)
                self.running = job
            try:
                if job.control.cancelled:
                    job.future.set_exception(Cancelled(f"{job.kind or 'job'} cancelled before it started"))
                    continue
                if not job.future.set_running_or_notify_cancel():
                    continue
                try:
                    job.future.set_result(job.fn(job.control))
                except BaseException as exc:  # the future carries it to the session that waits
                    job.future.set_exception(exc)
            finally:
                with self._cv:
                    self.running = None


_QUEUE: JobQueue | None = None
_LOCK = threading.Lock()


def shared_queue() -> JobQueue:
    """The process's one queue, shared by every session."""
    global _QUEUE
    with _LOCK:
        if _QUEUE is None:
            _QUEUE = JobQueue()
        return _QUEUE
