"""``convsim explore``: the planner's page in the browser (the command's logic is :mod:`sim.explore.server`)."""

from __future__ import annotations

from typing import Any


def add_parsers(sub: Any) -> None:
    from sim.explore.server import add_arguments, command  # light: Panel is imported when the server starts

    e = sub.add_parser("explore", help="the planner's scenario explorer in the browser (build a mix, run it, see "
                       "the answer, question an assumption, ask for the best mix)")
    add_arguments(e)
    e.set_defaults(func=command)
