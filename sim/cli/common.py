"""What every command shares: a progress bar that follows a job's :class:`~sim.jobs.Control`, and notes on stderr."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from sim.jobs.control import Control, StageBar


def say(quiet: bool) -> Any:
    """A function that prints a note on stderr (or nothing under ``--quiet``)."""
    if quiet:
        return None
    return lambda msg: print(msg, file=sys.stderr)


class Watched:
    """``with Watched(quiet) as control:`` a job's :class:`Control` with a bar on stderr, closed at the end."""

    def __init__(self, quiet: bool) -> None:
        self.bar = StageBar(quiet)
        self.control = Control(self.bar)

    def __enter__(self) -> Control:
        return self.control

    def __exit__(self, *exc: object) -> None:
        self.bar.close()


def report_compile(engine: str, scenario_table: Any, quiet: bool) -> None:
    """Load (or compile, the first time) the fast engine and say how long it took."""
    if engine != "fast":
        return
    from sim.experiment import engine_ready

    secs = engine_ready(engine, scenario_table)
    if not quiet:
        print(f"fast engine ready in {secs:.1f} s (the first run on a machine compiles it, ≈ 60 s; "
              "later runs load it from the on-disk cache)", file=sys.stderr)


def check_out(path: Path, option: str = "--out", kinds: tuple[str, ...] | None = None) -> str:
    """Check an output folder before any work (see :mod:`sim.store`); what will happen to it."""
    from sim.store import check_output_dir

    return str(check_output_dir(path, option, kinds))


def say_replacing(state: str, path: Path, quiet: bool) -> None:
    if state == "replace":  # said even under --quiet: an earlier result is about to go
        print(f"convsim: replacing the earlier convsim output in {path}", file=sys.stderr)
