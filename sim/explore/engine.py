"""The fast engine's one-off preparation, shared by every session of the process.

On a fresh machine the compiled engine is built once (about a minute); the
page opens at once and says so, with the time elapsed, while the planner
keeps building a mix. The preparation is the queue's first job, so a run
asked for meanwhile simply waits behind it. The compile runs in a child
process: compiling is mostly Python code holding the GIL, which would stall
the server's event loop and so the page; the server then loads the compiled
code from the on-disk cache in about a second.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from sim.explore import backend as be
from sim.explore.jobs import PREPARE, JobQueue


class EngineStatus:
    """Whether the engine is ready, and since when it has been prepared."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.started: float | None = None
        self.ready = False
        self.error = ""
        self.seconds = 0.0

    def prepare(self, queue: JobQueue, baseline: be.Scenario) -> None:
        """Queue the preparation once (nothing to do if another session already did)."""
        with self._lock:
            if self.started is not None:
                return
            self.started = time.monotonic()

        def job(control: be.Control) -> float:
            if not be.engine_cached() and Path(baseline.source).is_file():
                subprocess.run([sys.executable, "-m", "sim.explore.engine", str(baseline.source)], check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            return be.prepare_engine(baseline)

        fut = queue.submit(job, be.Control(), PREPARE, kind="prepare")

        def done(f: object) -> None:
            with self._lock:
                try:
                    self.seconds = fut.result()
                    self.ready = True
                except Exception as exc:  # shown on the page; runs will report their own failure
                    self.error = f"{type(exc).__name__}: {exc}"

        fut.add_done_callback(done)

    def elapsed(self) -> float:
        return 0.0 if self.started is None else time.monotonic() - self.started


ENGINE = EngineStatus()


if __name__ == "__main__":  # the child process that compiles the engine into the on-disk cache
    be.prepare_engine(be.load_scenario(sys.argv[1]))
