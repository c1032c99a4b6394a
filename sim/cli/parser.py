"""The ``convsim`` parser: every command's options, gathered from the command modules."""

from __future__ import annotations

import argparse

from sim.cli import compare, discover, explore, files, measures, optimise, run, sweep
from sim.cli.options import Parser
from sim.version import __version__


def build_parser() -> argparse.ArgumentParser:
    """The parser of every ``convsim`` command."""
    p = Parser(prog="convsim", description="Policy simulator for research-result conversion "
                                           "in Suizhou (随州科技成果转化政策模拟).")
    p.add_argument("--version", action="version", version=f"convsim {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    for module in (run, compare, discover, measures, sweep, optimise, files, explore):
        module.add_parsers(sub)
    return p
