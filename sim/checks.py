"""Checks of the Python API's arguments, before any work.

The command line checks its options with argparse and one-line
:class:`~sim.errors.InputError`\\ s; these functions give the functions of
:mod:`sim.api` the same checks, so a notebook gets the same answer as the
command — at once, naming the argument — instead of a traceback from deep
inside, a silently shortened window, or a process that grows until the
system kills it:

- the rules every job's numbers follow (replications, seeds, budgets) are
  :mod:`sim.jobs.options`, which the jobs and the command line share;
- :func:`check_memory`: the records of that many replications must fit in
  half the machine's memory;
- :func:`check_window`: a KPI window lies within the years the records hold;
"""

from __future__ import annotations

import numbers
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

#: Copies of a replication's records a run holds at once (stacking, the table, Parquet); with 8-byte values and
#: one row per record row, used to refuse a number of replications the machine cannot hold.
RECORD_COPIES = 4


def _whole(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: a whole number, got {value!r} ({type(value).__name__})")
    return int(value)


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


# -- input files ---------------------------------------------------------------------------------------------------


def read_text_input(path: str | Path, what: str) -> str:
    """The text of the input file ``path`` (``what``: e.g. "a scenario .toml file"); every way reading it can fail —
    missing, a folder, no permission, a name too long, not UTF-8 — is one :class:`InputError` line."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{p}: file not found (expected {what})") from None
    except IsADirectoryError:
        raise InputError(f"{p}: not a file but a folder (expected {what})") from None
    except UnicodeDecodeError:
        raise InputError(f"{p}: not UTF-8 text (expected {what})") from None
    except OSError as exc:  # permission denied, a name too long, an I/O error
        raise InputError(f"{p}: cannot read it ({exc.strerror or exc}; expected {what})") from None


def read_toml_input(path: str | Path, what: str) -> dict[str, Any]:
    """:func:`read_text_input`, parsed as TOML: malformed or absurdly nested TOML is one line too."""
    import tomllib

    p = Path(path)
    text = read_text_input(p, what)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{p}: malformed TOML: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise InputError(f"{p}: TOML nested too deeply to read (arrays or tables within each other thousands of "
                         "levels deep)") from None


# -- posterior files -----------------------------------------------------------------------------------------------


def _whole_number_parameters() -> set[str]:
    from sim.params import GROUPS, Params

    out = set()
    for g in GROUPS:
        group = Params.model_fields[g].annotation
        for name, f in group.model_fields.items():  # type: ignore[union-attr]
            if f.annotation is int:
                out.add(f"{g}.{name}")
    return out


def check_posterior(df: pd.DataFrame, path: str | Path) -> None:
    """A posterior's values beyond their ranges: weights finite with a finite positive sum, whole-number
    parameters whole, no calendar columns (``time.*`` would move each world's calendar, not its behaviour)."""
    import numpy as np

    p = Path(path)
    calendar = [c for c in df.columns if str(c).startswith("time.")]
    if calendar:
        raise InputError(f"{p}: column {calendar[0]!r} is a calendar parameter; a posterior holds behaviour "
                         "parameters only (the calendar is the scenario's)")
    w = df["weight"].to_numpy(dtype=float)
    if not np.isfinite(w).all():
        row = int(np.flatnonzero(~np.isfinite(w))[0])
        raise InputError(f"{p}: row {row + 1}: weights must be finite numbers ≥ 0, got {float(w[row])!r}")
    with np.errstate(over="ignore"):
        total = float(w.sum())
    if not (np.isfinite(total) and total > 0):
        raise InputError(f"{p}: the weights sum to {total!r}; they must sum to a finite number above 0 "
                         "(scale them down)")
    for c in sorted(set(df.columns) & _whole_number_parameters()):
        v = df[c].to_numpy(dtype=float)
        bad = np.flatnonzero(v != np.round(v))
        if len(bad):
            raise InputError(f"{p}: row {bad[0] + 1}, column {c}: {float(v[bad[0]])!r} is not a whole number, and "
                             f"{c} counts whole things")


# -- the environment a command runs in -----------------------------------------------------------------------------


def check_environment() -> None:
    """What a command needs from its environment, before any work: a working directory that still exists, a usable
    ``NUMBA_NUM_THREADS``; and a console that cannot print a character shows an escape instead of failing."""
    import sys

    try:
        os.getcwd()
    except FileNotFoundError:
        raise InputError("the working directory no longer exists (deleted or moved away); change to a folder "
                         "that exists and run the command again") from None
    threads = os.environ.get("NUMBA_NUM_THREADS")
    if threads is not None and threads.strip() != "":
        try:
            ok = int(threads) >= 1
        except ValueError:
            ok = False
        if not ok:
            raise InputError(f"NUMBA_NUM_THREADS={threads!r}: must be a whole number of threads, 1 or more (or "
                             "unset: all cores)")
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and (getattr(stream, "encoding", "") or "").lower().replace("-", "") != "utf8":
            reconfigure(errors="backslashreplace")  # e.g. --lang zh on an ASCII console: escapes, not a crash
