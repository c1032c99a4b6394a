"""The optimiser panel's state: a best-mix search for a yearly budget, in the background, resumable.

The search writes to ``<output folder>/optimise-<budget>``, the optimiser's own
resumable folder. It runs on the shared queue in chunks of :data:`CHUNK`
trials, each chunk one job that resumes the search where the last stopped
(the optimiser's study does not depend on how its trials were split), so a
comparison another planner asks for runs between two chunks instead of after
the whole search, the page shows the trials done, and a cancelled search
stops after its chunk; asking again for the same budget continues it. Only the
last chunk re-estimates the best mix on ``confirm_reps`` fresh replications;
the others do so on the fewest allowed. Its ``best.toml`` loads into the
builder.
"""

from __future__ import annotations

import concurrent.futures as cf
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.explore import backend as be
from sim.explore.jobs import OPTIMISE, JobQueue
from sim.explore.mix import Catalogue

#: Trials per queue job.
CHUNK = 10
#: Fresh replications of the re-estimate after a chunk that is not the last (the optimiser's minimum).
INTERIM_CONFIRM = 2


@dataclass
class OptSnapshot:
    status: str = "idle"  # idle, waiting, running, done, failed
    elapsed: float = 0.0
    trials_done: int = 0
    trials: int = 0
    ahead: int = 0
    message: str = ""
    result: dict[str, Any] | None = None
    best_toml: Path | None = None
    frontier_png: Path | None = None
    version: int = 0


class Optimiser:
    """One session's best-mix searches."""

    def __init__(self, queue: JobQueue, catalogue: Catalogue, out_dir: Path, owner: str = "") -> None:
        self.queue, self.catalogue, self.out_dir, self.owner = queue, catalogue, out_dir, owner
        self._lock = threading.Lock()
        self._snap = OptSnapshot()
        self._t0: float | None = None
        self._future: cf.Future[Any] | None = None
        self._control: be.Control | None = None

    def snapshot(self) -> OptSnapshot:
        with self._lock:
            s = OptSnapshot(**vars(self._snap))
            if s.status == "running" and self._t0 is not None:
                s.elapsed = time.monotonic() - self._t0
        if s.status == "waiting" and self._future is not None:
            s.ahead = self.queue.ahead_of(self._future)
        return s

    def folder(self, budget: float) -> Path:
        return self.out_dir / f"optimise-{budget:.0f}"

    def cancel(self) -> None:
        """Stop the search after its chunk under way (its finished trials stay in its folder)."""
        if self._control is not None:
            self._control.cancel()

    def start(self, budget: float, trials: int, reps: int, seed: int = 0,
              frontier: Sequence[float] = ()) -> None:
        """Queue a search for ``budget`` yuan a year (the previous search of this session is cancelled)."""
        self.cancel()
        control = be.Control()
        with self._lock:
            self._snap.status, self._snap.message = "waiting", ""
            self._snap.trials_done, self._snap.trials = 0, trials
            self._control = control
            self._t0 = None
        self._queue_chunk(control, budget, min(CHUNK, trials), trials, reps, seed, tuple(frontier))

    def _queue_chunk(self, control: be.Control, budget: float, upto: int, trials: int, reps: int, seed: int,
                     frontier: tuple[float, ...]) -> None:
        out = self.folder(budget)
        last = upto >= trials

        def job(c: be.Control) -> dict[str, Any]:
            with self._lock:
                self._snap.status = "running"
                if self._t0 is None:
                    self._t0 = time.monotonic()
            self.out_dir.mkdir(parents=True, exist_ok=True)
            return be.best_mix(budget, out=out, baseline=self.catalogue.scenario_dir / "baseline.toml",
                               trials=upto, reps=reps, confirm_reps=max(200, 4 * reps) if last else INTERIM_CONFIRM,
                               seed=seed, frontier=frontier, control=c)

        with self._lock:
            if control is not self._control or control.cancelled:
                return
            self._future = fut = self.queue.submit(job, control, OPTIMISE, self.owner, "optimise")

        def done(f: cf.Future[Any]) -> None:
            with self._lock:
                if control is not self._control:
                    return
                try:
                    result = f.result()
                except be.Cancelled:
                    self._snap.status = "idle"
                    return
                except BaseException as exc:  # shown on the page; the server keeps running
                    self._snap.status, self._snap.message = "failed", str(exc) or type(exc).__name__
                    return
                self._snap.trials_done = upto
                if last:
                    self._snap.result = result
                    self._snap.status = "done"
                    self._snap.best_toml = out / "best.toml"
                    png = out / "frontier.png"
                    self._snap.frontier_png = png if png.is_file() else None
                    self._snap.version += 1
                    return
            self._queue_chunk(control, budget, min(upto + CHUNK, trials), trials, reps, seed, frontier)

        fut.add_done_callback(done)

    def wait(self, timeout: float = 600.0) -> OptSnapshot:
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            s = self.snapshot()
            if s.status in ("done", "failed", "idle"):
                return s
            time.sleep(0.05)
        raise TimeoutError(f"optimisation not finished after {timeout} s")
