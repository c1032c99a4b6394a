"""A session's runs: a first answer quickly, then more replications, cancelled when a control changes.

:class:`Runner` is the run panel's state, kept apart from the page so that it
can be tested without a browser. :meth:`Runner.start` cancels the run under
way and queues stages of the same comparison on the shared queue: first
:data:`FIRST_REPS` paired replications, then four times as many until the
planner's target (the last stage with the worlds of uncertainty, if asked
for). Every stage runs replications 0 … n − 1 with the same seed, so a stage's
answer is exactly what ``sim.compare`` returns for that many replications,
and each stage's interval is narrower than the one before. The page polls
:meth:`Runner.snapshot` from its own thread.
"""

from __future__ import annotations

import concurrent.futures as cf
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sim.explore import backend as be
from sim.explore.jobs import COMPARE, JobQueue

#: Paired replications of the first answer.
FIRST_REPS = 200


def stages(target: int, worlds: int) -> list[tuple[int, int]]:
    """(replications, worlds) of each stage: 200, ×4 …, the target; worlds only in the last stage.

    >>> stages(2000, 0)
    [(200, 0), (800, 0), (2000, 0)]
    >>> stages(200, 20)
    [(200, 0), (200, 20)]
    """
    first = min(FIRST_REPS, target)
    out = [(first, 0)]
    n = first * 4
    while n < target:
        out.append((n, 0))
        n *= 4
    if target > first:
        out.append((target, 0))
    if worlds:
        out[-1] = (out[-1][0], worlds) if len(out) > 1 else out[-1]
        if out[-1][1] == 0:
            out.append((out[-1][0], worlds))
    return out


@dataclass
class Snapshot:
    """What the run panel shows now."""

    status: str = "idle"  # idle, waiting, running, done, cancelled, failed
    stage: int = 0
    stages: int = 0
    reps: int = 0
    fraction: float = 0.0
    eta_s: float | None = None
    ahead: int = 0
    message: str = ""
    result: Any = None
    """The latest stage's CompareResult (kept while the next stage runs)."""
    result_reps: int = 0
    result_worlds: int = 0
    version: int = 0
    """Grows with every new result, so the page knows when to redraw."""
    figures: dict[str, Any] = field(default_factory=dict)


class Runner:
    """One session's comparisons of its mixes with the baseline."""

    def __init__(self, queue: JobQueue, owner: str = "") -> None:
        self.queue = queue
        self.owner = owner
        self._lock = threading.Lock()
        self._snap = Snapshot()
        self._control: be.Control | None = None
        self._future: cf.Future[Any] | None = None
        self._generation = 0
        self.cancelled_at: float | None = None

    def snapshot(self) -> Snapshot:
        with self._lock:
            s = Snapshot(**vars(self._snap))
        if s.status == "waiting" and self._future is not None:
            s.ahead = self.queue.ahead_of(self._future)
        return s

    def cancel(self) -> None:
        """Stop the run under way (its last finished stage stays on the page)."""
        with self._lock:
            self._generation += 1
            control = self._control
            self._control = None
            if self._snap.status in ("waiting", "running"):
                self._snap.status = "cancelled"
        if control is not None:
            self.cancelled_at = time.monotonic()
            control.cancel()

    def start(self, baseline: be.Scenario, mixes: Sequence[be.Scenario], target: int, seed: int, worlds: int = 0,
              world_reps: int = 50, figures: Sequence[str] = (), lang: str = "en") -> None:
        """Cancel the run under way and start the stages of this comparison."""
        self.cancel()
        plan = stages(target, worlds)
        with self._lock:
            gen = self._generation
            self._snap.status, self._snap.stage, self._snap.stages, self._snap.fraction = "waiting", 0, len(plan), 0.0
            self._snap.message = ""
        self._queue_stage(gen, plan, 0, baseline, list(mixes), seed, world_reps, tuple(figures), lang)

    def _queue_stage(self, gen: int, plan: list[tuple[int, int]], i: int, baseline: be.Scenario,
                     mixes: list[be.Scenario], seed: int, world_reps: int, figures: tuple[str, ...],
                     lang: str) -> None:
        reps, worlds = plan[i]

        def progress(ev: be.ProgressEvent) -> None:
            with self._lock:
                if gen == self._generation:
                    self._snap.status = "running"
                    self._snap.fraction = ev.fraction or 0.0
                    self._snap.eta_s = ev.eta_s

        control = be.Control(on_progress=progress)

        def job(c: be.Control) -> tuple[Any, dict[str, Any]]:
            result = be.compare(baseline, mixes, reps=reps, seed=seed, control=c, worlds=worlds,
                                world_reps=world_reps)
            self._publish(gen, i, reps, worlds, result, {})
            names = [*figures, *(be.WORLD_FIGURES if worlds else ())]
            figs = {}
            for name in names:  # the figures follow the numbers: the headline shows first
                c.check()
                figs[name] = be.figure(result, name, lang)
            return result, figs

        with self._lock:
            if gen != self._generation:
                return
            self._control = control
            self._snap.stage, self._snap.reps = i + 1, reps
            self._future = self.queue.submit(job, control, COMPARE, self.owner, "compare")
        fut = self._future

        def done(f: cf.Future[Any]) -> None:
            try:
                _, figs = f.result()
            except (be.Cancelled, cf.CancelledError):
                return
            except be.InputError as exc:
                self._fail(gen, str(exc))
                return
            except Exception as exc:  # a failed run must not stop the page: say what happened
                self._fail(gen, f"{type(exc).__name__}: {exc}")
                return
            with self._lock:
                if gen != self._generation:
                    return
                self._snap.figures = figs
                self._snap.version += 1
                last = i + 1 == len(plan)
                if last:
                    self._snap.status, self._snap.fraction = "done", 1.0
                    self._control = None
            if not last:
                self._queue_stage(gen, plan, i + 1, baseline, mixes, seed, world_reps, figures, lang)

        fut.add_done_callback(done)

    def _publish(self, gen: int, i: int, reps: int, worlds: int, result: Any, figs: dict[str, Any]) -> None:
        with self._lock:
            if gen != self._generation:
                return
            self._snap.result, self._snap.result_reps, self._snap.result_worlds = result, reps, worlds
            self._snap.figures = figs
            self._snap.version += 1

    def _fail(self, gen: int, message: str) -> None:
        with self._lock:
            if gen == self._generation:
                self._snap.status, self._snap.message = "failed", message
                self._control = None

    def wait(self, timeout: float = 600.0) -> Snapshot:
        """Block until the run is done, failed or cancelled (for tests and benchmarks)."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            s = self.snapshot()
            if s.status in ("done", "failed", "cancelled", "idle"):
                return s
            time.sleep(0.02)
        raise TimeoutError(f"run not finished after {timeout} s")
