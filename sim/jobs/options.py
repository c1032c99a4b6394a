"""The rules every job's arguments follow, written once.

A seed, a number of replications, a budget or a Dask backend means the same
whether it comes from the command line, a notebook or the planner's page, so
its allowed range is checked here, by the job, with a message that names the
option as the command line spells it (``--reps``). The command line's parser
uses the same functions to convert its strings, so both say the same thing.
"""

from __future__ import annotations

import math
import os

from sim.errors import InputError

#: A seed or replication number is a 32-bit field of every random-number key (sim/rng.py).
KEY_LIMIT = 2**32
#: Largest yearly budget a job accepts (yuan): the lever cost limit of a scenario file (1e11) over 10 levers.
MAX_BUDGET = 1e10
ENGINES = ("auto", "simpy", "fast")
BACKENDS = ("local", "dask")
LANGS = ("en", "zh")
#: Copies of a replication's records a run holds at once (stacking, the table, Parquet); with 8-byte values and
#: one row per record row, used to refuse a number of replications the machine cannot hold.
RECORD_COPIES = 4


def whole(value: object, option: str, lo: int = 0, hi: int = 2**63 - 1) -> int:
    """``value`` as a whole number from ``lo`` to ``hi`` (a string is parsed; a bool or a fraction is refused)."""
    if isinstance(value, bool):
        raise InputError(f"{option}: expected a whole number, got {value!r}")
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise InputError(f"{option}: expected a whole number, got {value!r}") from None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise InputError(f"{option}: expected a whole number, got {value!r}")
    if not lo <= value <= hi:
        raise InputError(f"{option}: must be between {lo:,} and {hi:,}, got {value:,}")
    return value


def key(value: object, option: str = "--seed") -> int:
    """A seed or a replication number: 0 to 2**32 − 1."""
    return whole(value, option, 0, KEY_LIMIT - 1)


def reps(value: object, option: str = "--reps", lo: int = 2, hi: int = 2**63 - 1) -> int:
    """A number of replications (an interval needs two, so ``lo`` is 2 unless a job says otherwise; how many
    the machine can hold is :func:`memory`'s to say)."""
    return whole(value, option, lo, hi)


def number(value: object, option: str, lo: float = -math.inf, hi: float = math.inf,
           open_lo: bool = False) -> float:
    """A finite number in [lo, hi] (``open_lo``: above ``lo``)."""
    if isinstance(value, bool):
        raise InputError(f"{option}: expected a number, got {value!r}")
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"{option}: expected a number, got {value!r}") from None
    below = x <= lo if open_lo else x < lo
    if not math.isfinite(x) or below or x > hi:
        side = "above" if open_lo else "from"
        upper = "" if hi == math.inf else f" to {hi:,g}"
        raise InputError(f"{option}: expected a finite number {side} {lo:,g}{upper}, got {value!r}")
    return x


def budget(value: object, option: str = "--budget") -> float:
    """Yuan a year, above 0 and at most :data:`MAX_BUDGET`."""
    return number(value, option, 0.0, MAX_BUDGET, open_lo=True)


def choice(value: object, option: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InputError(f"{option}: one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def backend(name: str, scheduler: str | None = None, workers: int | None = None) -> None:
    """``--backend``, ``--scheduler`` and ``--workers`` together: a scheduler only for Dask, a sane address."""
    from sim.executor import check_scheduler_address

    choice(name, "--backend", BACKENDS)
    if scheduler is not None:
        if name != "dask":
            raise InputError("--scheduler: only with --backend dask")
        check_scheduler_address(scheduler)
    if workers is not None:
        whole(workers, "--workers", 1, 4096)


def memory(n_reps: int, n_years: int, arms: int, option: str = "--reps") -> None:
    """Refuse, before any work, a number of replications whose records would not fit in half the memory."""
    from sim.layout import RECORD_ROWS

    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return
    per_rep_year = len(RECORD_ROWS) * 8 * RECORD_COPIES
    need = n_reps * n_years * arms * per_rep_year
    if need > total / 2:
        most = int(total / 2 / (n_years * arms * per_rep_year))
        raise InputError(f"{option} {n_reps}: the records would need about {need / 2**30:,.1f} GiB of memory and "
                         f"this machine has {total / 2**30:,.1f} GiB; at most {most:,} here")
