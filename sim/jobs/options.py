"""The rules every job's arguments follow, written once.

A seed, a number of replications, a budget or a Dask backend means the same
whether it comes from the command line, a notebook or the planner's page, so
its allowed range is checked here, by the job, with a message that names the
option as the command line spells it (``--reps``). The command line's parser
uses the same functions to convert its strings, so both say the same thing.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.errors import InputError

#: A seed or replication number is a 32-bit field of every random-number key (sim/rng.py).
KEY_LIMIT = 2**32
#: Largest yearly budget a job accepts (yuan): the lever cost limit of a scenario file (1e11) over 10 levers.
MAX_BUDGET = 1e10
ENGINES = ("auto", "simpy", "fast")
BACKENDS = ("local", "dask")
LANGS = ("en", "zh")


def whole(value: object, option: str, lo: int = 0, hi: int = 2**63 - 1) -> int:
    """``value`` as an int from ``lo`` to ``hi``: a :class:`TypeError` for anything but a whole number (``True``,
    ``2.0`` and ``"2"`` included: the command line parses its strings first), an :class:`InputError` out of range.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{option}: a whole number, got {value!r} ({type(value).__name__})")
    n = int(value)
    if not lo <= n <= hi:
        allowed = f"{lo:,} or more" if hi >= 2**63 - 1 else f"between {lo:,} and {hi:,}"
        raise InputError(f"{option}: {allowed}, got {n:,}")
    return n


def key(value: object, option: str = "--seed") -> int:
    """A seed or a replication number: a 32-bit field of every random-number key, 0 to 2**32 − 1."""
    n = whole(value, option, -(2**63), 2**63 - 1)
    if not 0 <= n < KEY_LIMIT:
        raise InputError(f"{option}: a whole number from 0 to 2**32 − 1 = {KEY_LIMIT - 1}, got {n}")
    return n


def reps(value: object, option: str = "--reps", lo: int = 2, hi: int = 2**63 - 1) -> int:
    """A number of replications (an interval needs two, so ``lo`` is 2 unless a job says otherwise; how many
    the machine can hold is :func:`memory`'s to say)."""
    return whole(value, option, lo, hi)


def number(value: object, option: str, lo: float = -math.inf, hi: float = math.inf,
           open_lo: bool = False) -> float:
    """A finite number in [lo, hi] (``open_lo``: above ``lo``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{option}: a number, got {value!r} ({type(value).__name__})")
    x = float(value)
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
    """Refuse, before any work, a number of replications whose records would not fit in half the memory
    (:func:`sim.checks.check_memory`)."""
    from sim.checks import check_memory

    check_memory(n_reps, n_years, arms, option)


def scenario_list(scenarios: object, name: str = "scenarios") -> list[Any]:
    """``scenarios`` as a list: a list or tuple of scenarios or file names, never a single one (a string is a
    sequence of characters, each of which would be read as a file)."""
    from sim.scenario import Scenario

    if isinstance(scenarios, str | bytes | Path | Scenario) or not isinstance(scenarios, Sequence):
        raise TypeError(f"{name}: a list of scenarios or file names, got {type(scenarios).__name__} "
                        f"{scenarios.id if isinstance(scenarios, Scenario) else scenarios!r}; put a single one in a "
                        "list: [scenario]")
    return list(scenarios)
