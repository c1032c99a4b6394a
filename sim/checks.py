"""Checks of the Python API's arguments, before any work.

The command line checks its options with argparse and one-line
:class:`~sim.errors.InputError`\\ s; these functions give the functions of
:mod:`sim.api` the same checks, so a notebook gets the same answer as the
command — at once, naming the argument — instead of a traceback from deep
inside, a silently shortened window, or a process that grows until the
system kills it:

- :func:`check_reps` and :func:`check_seed`: whole numbers (not ``True``,
  not ``2.5``) in range; a seed or replication number is a 32-bit field of
  every random-number key (:mod:`sim.rng`);
- :func:`check_memory`: the records of that many replications must fit in
  half the machine's memory;
- :func:`check_window`: a KPI window lies within the years the records hold;
- :func:`check_scenarios`: a list of scenarios is a list, not one file name
  (a string is a sequence of characters, each of which would be read as a file).
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

#: Seeds and replication numbers are 32-bit fields of every random-number key.
KEY_LIMIT = 2**32
#: Copies of a replication's records a run holds at once (stacking, the table, Parquet); with 8-byte values and
#: one row per record row, used to refuse a number of replications the machine cannot hold.
RECORD_COPIES = 4


def _whole(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: a whole number, got {value!r} ({type(value).__name__})")
    return int(value)


def check_reps(reps: Any, name: str = "reps", least: int = 1, most: int | None = None) -> int:
    """``reps`` as an int: a whole number from ``least`` (to ``most``); TypeError or InputError naming ``name``."""
    n = _whole(reps, name)
    if n < least or (most is not None and n > most):
        upper = f" to {most:,}" if most is not None else " or more"
        raise InputError(f"{name}: {least}{upper} replications, got {n:,}")
    return n


def check_seed(seed: Any, name: str = "seed") -> int:
    """``seed`` as an int: a whole number from 0 to 2**32 − 1 (a field of every random-number key)."""
    n = _whole(seed, name)
    if not 0 <= n < KEY_LIMIT:
        raise InputError(f"{name}: a whole number from 0 to 2**32 − 1 = {KEY_LIMIT - 1}, got {n}")
    return n


def memory_bytes() -> int | None:
    """The machine's physical memory in bytes (None where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(reps: int, n_years: int, arms: int = 1, name: str = "reps") -> None:
    """Refuse, before any work, a number of replications whose records would not fit in half the memory."""
    from sim.layout import RECORD_ROWS

    total = memory_bytes()
    if total is None:
        return
    per_rep_year = len(RECORD_ROWS) * 8 * RECORD_COPIES
    need = reps * n_years * arms * per_rep_year
    if need > total / 2:
        most = int(total / 2 / (n_years * arms * per_rep_year))
        raise InputError(f"{name} {reps:,}: the records would need about {need / 2**30:,.1f} GiB of memory and this "
                         f"machine has {total / 2**30:,.1f} GiB; at most {most:,} here")


def check_window(records: pd.DataFrame, first: Any, last: Any) -> tuple[int, int]:
    """``(first, last)`` as ints, both within the years ``records`` hold and in order; InputError otherwise."""
    lo, hi = int(records["year"].min()), int(records["year"].max())
    a, b = _whole(first, "first"), _whole(last, "last")
    if a > b:
        raise InputError(f"the window {a}–{b} is empty (first after last)")
    if a < lo or b > hi:
        raise InputError(f"the window {a}–{b} reaches beyond the records, which hold the years {lo}–{hi}; a KPI "
                         "over years not simulated would be a sum over fewer years than asked")
    return a, b


def check_scenarios(scenarios: Any, name: str = "scenarios") -> list[Any]:
    """``scenarios`` as a list: a list or tuple of scenarios or file names, never a single one."""
    from sim.scenario import Scenario

    if isinstance(scenarios, str | bytes | Path | Scenario) or not isinstance(scenarios, Sequence):
        raise TypeError(f"{name}: a list of scenarios or file names, got {type(scenarios).__name__} "
                        f"{scenarios.id if isinstance(scenarios, Scenario) else scenarios!r}; put a single one in a "
                        "list: [scenario]")
    return list(scenarios)
