"""Progress bars for long work: rate and time left, on stderr (tqdm; in a notebook, its widget)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Progress = Callable[[int], None]


def bar(total: int | None, desc: str, quiet: bool = False, unit: str = "rep") -> Any:
    """A tqdm bar counting ``unit``s out of ``total``; ``quiet`` hides it."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=quiet, file=sys.stderr, dynamic_ncols=True, smoothing=0.1)


@contextmanager
def progress_for(progress: bool | Progress | None, total: int, desc: str) -> Iterator[Progress | None]:
    """The callback to count progress with: the caller's own, a new bar (``True``) or none."""
    if progress is True:
        with bar(total, desc) as b:
            yield b.update
    elif callable(progress):
        yield progress
    else:
        yield None
