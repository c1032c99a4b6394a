"""A long job's progress and cancellation: one :class:`Control` per job.

Every long job (compare, worlds, sweep, calibrate, optimise) counts its work
in units (replications, trials, particles) and reports each step to the
``Control`` it was given. The same object is the job's cancellation handle: a
front end (the command line's Ctrl-C, the planner's page, a notebook) calls
:meth:`Control.cancel`, and the job stops at its next step by raising
:class:`Cancelled` — after removing whatever it had begun to write, so a
cancelled job leaves the output folder as it was (or, for the jobs that
resume, with only finished steps in it).

``Control`` is callable with a number of finished units, so it can be passed
wherever the library takes a ``progress`` callback (``Callable[[int], None]``).

:func:`background` runs a job in a thread and returns a
:class:`concurrent.futures.Future`; the engines release the GIL while they
run, so the caller's thread (a web server's event loop, a notebook) stays free.
"""

from __future__ import annotations

import concurrent.futures as cf
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class Cancelled(Exception):  # noqa: N818 -- the job was cancelled; it is not an error of the job's
    """The job was cancelled through its :class:`Control`; nothing half-written remains."""


@dataclass(frozen=True)
class ProgressEvent:
    """One step of a job: how much is done, how fast, and how long the rest should take."""

    desc: str
    done: int
    total: int | None
    unit: str
    elapsed_s: float
    rate: float
    """Units per second since the job started (0 before the first unit)."""
    eta_s: float | None
    """Seconds left at the current rate (``None`` while the total or the rate is unknown)."""

    @property
    def fraction(self) -> float | None:
        return None if not self.total else min(1.0, self.done / self.total)


Listener = Callable[[ProgressEvent], None]


class Control:
    """Progress callback and cancellation handle of one job.

    >>> c = Control()
    >>> c.start(10, "rep", "compare")
    >>> c(4); c.done
    4
    >>> c.cancel(); c.cancelled
    True
    >>> c(1)
    Traceback (most recent call last):
    ...
    sim.jobs.control.Cancelled: compare cancelled after 5 of 10 rep
    """

    def __init__(self, on_progress: Listener | None = None) -> None:
        self._listeners: list[Listener] = [on_progress] if on_progress is not None else []
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self.desc = "job"
        self.unit = "rep"
        self.total: int | None = None
        self.done = 0
        self._t0 = time.monotonic()

    # -- what front ends call --------------------------------------------------------------
    def listen(self, listener: Listener) -> None:
        """Also tell ``listener`` of every step."""
        self._listeners.append(listener)

    def cancel(self) -> None:
        """Ask the job to stop at its next step (safe from any thread)."""
        self._cancel.set()

    @property
    def watched(self) -> bool:
        """Whether anyone listens (a front end showing progress)."""
        return bool(self._listeners)

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    # -- what jobs call --------------------------------------------------------------------
    def start(self, total: int | None, unit: str = "rep", desc: str | None = None) -> None:
        """A (new) stage of work begins: ``total`` units of ``unit``; the count starts again."""
        with self._lock:
            self.total, self.unit, self.done = total, unit, 0
            if desc is not None:
                self.desc = desc
            self._t0 = time.monotonic()
        self._emit()
        self.check()

    def set_total(self, total: int) -> None:
        """The amount of work changed (e.g. a precision target asked for more replications)."""
        with self._lock:
            self.total = total
        self._emit()

    def advance(self, n: int = 1) -> None:
        """``n`` more units are finished; raises :class:`Cancelled` if the job was cancelled."""
        with self._lock:
            self.done += n
        self._emit()
        self.check()

    __call__ = advance

    def check(self) -> None:
        """Raise :class:`Cancelled` if the job was cancelled (call between steps)."""
        if self._cancel.is_set():
            total = f" of {self.total}" if self.total is not None else ""
            raise Cancelled(f"{self.desc} cancelled after {self.done}{total} {self.unit}")

    def event(self) -> ProgressEvent:
        """The job's progress now."""
        with self._lock:
            done, total = self.done, self.total
            elapsed = time.monotonic() - self._t0
        rate = done / elapsed if done and elapsed > 0 else 0.0
        eta = (max(0, total - done) / rate) if (total is not None and rate > 0) else None
        return ProgressEvent(self.desc, done, total, self.unit, elapsed, rate, eta)

    def _emit(self) -> None:
        if self._listeners:
            ev = self.event()
            for listener in self._listeners:
                listener(ev)


class StageBar:
    """A listener for :class:`Control`: a tqdm bar on stderr for each stage of a job (a new bar when the
    stage's description changes); ``quiet`` shows nothing. Call :meth:`close` when the job ends."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self._bar: Any = None
        self._desc: str | None = None
        self._done = 0

    def __call__(self, ev: ProgressEvent) -> None:
        if self.quiet:
            return
        from sim.progress import bar

        if self._bar is None or ev.desc != self._desc or ev.done < self._done:
            self.close()
            self._bar = bar(ev.total, ev.desc, unit=ev.unit)
            self._desc, self._done = ev.desc, 0
        if ev.total is not None and self._bar.total != ev.total:
            self._bar.total = ev.total
            self._bar.refresh()
        if ev.done > self._done:
            self._bar.update(ev.done - self._done)
            self._done = ev.done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def as_control(progress: Any) -> Control | None:
    """The :class:`Control` behind a ``progress`` argument, if it is one."""
    return progress if isinstance(progress, Control) else None


def background(fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> cf.Future[R]:
    """Run ``fn(*args, **kwargs)`` in a daemon thread; its :class:`~concurrent.futures.Future`.

    Pass a :class:`Control` in the job's own arguments to watch or cancel it;
    a cancelled job's future ends with :class:`Cancelled`.
    """
    fut: cf.Future[R] = cf.Future()

    def work() -> None:
        if not fut.set_running_or_notify_cancel():
            return
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # the future carries it to whoever waits
            fut.set_exception(exc)

    threading.Thread(target=work, name=f"convsim-{getattr(fn, '__name__', 'job')}", daemon=True).start()
    return fut
