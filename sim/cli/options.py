"""The options of ``convsim``: one-line errors, and option types that follow the jobs' own rules.

An option's type converts the string and checks it with the same function of
:mod:`sim.jobs.options` the job itself uses, so a value out of range gets the
same message from the command line as from a notebook.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, NoReturn

from sim.errors import InputError
from sim.jobs import options

#: Keys ``compare --kpi`` accepts (every KPI and the fiscal cost); listed here so the parser needs no heavy import
#: (a test checks it equals :data:`sim.analysis.compare.RANKABLE`).
RANKABLE = ("offers", "meetings", "contracts", "all_contracts", "subsidised", "pilots", "pilots_public",
            "industrialised", "introduced_converted", "awards", "rate_contract", "rate_industrialised",
            "rate_overall", "time_to_production", "yuan_subsidy_city", "yuan_subsidy_county", "yuan_awards",
            "yuan_hightech_rewards", "yuan_pilot_matching", "yuan_fund_use", "yuan_pilot_cost", "yuan_loans",
            "yuan_firm_rd", "yuan_rd_induced", "hightech_stock", "hightech_applications", "tech_sme_stock",
            "above_size_stock", "projects_lost_to_exit", "broker_utilisation",
            "pilot_utilisation", "wait_pilot", "wait_broker", "broker_turned_away", "pilot_turned_away",
            "cohort_contracted_3y", "cohort_contracted_5y", "cohort_contracted_horizon", "cohort_industrialised_3y",
            "cohort_industrialised_5y", "cohort_industrialised_horizon", "cohort_signed_industrialised_3y",
            "cohort_signed_industrialised_5y", "cohort_signed_industrialised_horizon", "cohort_time_to_production",
            "cohort_signed_time_to_production", "fiscal_cost")


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: the message and where to find help, no usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def checked(rule: Callable[..., Any], *args: Any, kind: type = int) -> Callable[[str], Any]:
    """An argparse type: the string read as a ``kind`` (int or float), then checked by a rule of
    :mod:`sim.jobs.options` (its message without the option's name, which argparse adds)."""

    def convert(text: str) -> Any:
        try:
            value = kind(text.strip())
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        try:
            return rule(value, "", *args)
        except InputError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix(": ")) from None

    convert.__name__ = getattr(rule, "__name__", "value")
    return convert


# the option types of every command
KEY = checked(options.key)
"""A seed or a replication number: 0 to 2**32 − 1."""
NONNEG = checked(options.whole, 0)
POSITIVE = checked(options.whole, 1)
AT_LEAST_TWO = checked(options.reps, 2)
"""Replications of a comparison: an interval needs at least two."""
FINITE_POSITIVE = checked(options.number, 0.0, float("inf"), True, kind=float)
BUDGET = checked(options.budget, kind=float)
TOLERANCE = checked(options.number, 0.0, 10.0, kind=float)
YEAR = checked(options.whole, 2018, 2060)
FOLLOW_UP = checked(options.whole, 0, 30)
"""A horizon year (the time parameters check it again with the scenario)."""


def worlds_type(most: int) -> Callable[[str], int]:
    return checked(options.whole, 0, most)


def add_common(p: argparse.ArgumentParser, *, seed: bool = True, engine: bool = True, lang: bool = False,
               quiet: bool = True) -> None:
    """The options many commands share, spelt and checked the same way everywhere."""
    if seed:
        p.add_argument("--seed", type=KEY, default=0, help="master seed (default 0)")
    if engine:
        p.add_argument("--engine", choices=options.ENGINES, default="auto",
                       help="simpy (reference), fast (compiled, all cores) or auto: fast if its compiled code "
                       "is cached or for more than 4 replications, else simpy (default auto)")
    if lang:
        p.add_argument("--lang", choices=options.LANGS, default="en", help="labels in English or Chinese")
    if quiet:
        p.add_argument("--quiet", action="store_true", help="no progress bar")


def add_backend(p: argparse.ArgumentParser, what: str,
                workers: str = "workers of the local Dask cluster") -> None:
    """``--backend``, ``--scheduler`` and ``--workers``: where the work runs."""
    p.add_argument("--backend", choices=options.BACKENDS, default="local",
                   help=f"local (this machine, all cores) or dask ({what}; default local)")
    p.add_argument("--scheduler", help="Dask scheduler address (default: a local cluster, one worker per core)")
    p.add_argument("--workers", type=POSITIVE, default=None, help=workers)
