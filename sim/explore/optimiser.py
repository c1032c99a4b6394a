"""The optimiser panel's state: a best-mix search for a yearly budget, in the background, resumable.

The search runs on the shared queue behind waiting comparisons and writes to
``<output folder>/optimise-<budget>`` (the optimiser's own resumable folder:
asking again for the same budget continues the search). Its ``best.toml``
loads into the builder. Whether a running search can be cancelled depends on
whether the optimiser accepts a :class:`~sim.jobs.Control` (checked once).
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


@dataclass
class OptSnapshot:
    status: str = "idle"  # idle, waiting, running, done, failed
    elapsed: float = 0.0
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
        self.cancellable = be.best_mix_takes_control()
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
        if self._control is not None:
            self._control.cancel()

    def start(self, budget: float, trials: int, reps: int, seed: int = 0,
              frontier: Sequence[float] = ()) -> None:
        """Queue a search for ``budget`` yuan a year (the previous search of this session is cancelled)."""
        self.cancel()
        out = self.folder(budget)
        control = be.Control()

        def job(c: be.Control) -> dict[str, Any]:
            with self._lock:
                self._snap.status = "running"
                self._t0 = time.monotonic()
            self.out_dir.mkdir(parents=True, exist_ok=True)
            return be.best_mix(budget, out=out, baseline=self.catalogue.scenario_dir / "baseline.toml",
                               trials=trials, reps=reps, confirm_reps=max(200, 4 * reps), seed=seed,
                               frontier=frontier, control=c)

        with self._lock:
            self._snap.status, self._snap.message = "waiting", ""
            self._control = control
            self._future = fut = self.queue.submit(job, control, OPTIMISE, self.owner, "optimise")

        def done(f: cf.Future[Any]) -> None:
            with self._lock:
                if f is not self._future:
                    return
                try:
                    self._snap.result = f.result()
                    self._snap.status = "done"
                    self._snap.best_toml = out / "best.toml"
                    png = out / "frontier.png"
                    self._snap.frontier_png = png if png.is_file() else None
                    self._snap.version += 1
                except be.Cancelled:
                    self._snap.status = "idle"
                except BaseException as exc:  # shown on the page; the server keeps running
                    self._snap.status, self._snap.message = "failed", str(exc) or type(exc).__name__

        fut.add_done_callback(done)

    def wait(self, timeout: float = 600.0) -> OptSnapshot:
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            s = self.snapshot()
            if s.status in ("done", "failed", "idle"):
                return s
            time.sleep(0.05)
        raise TimeoutError(f"optimisation not finished after {timeout} s")
