"""The ``convsim`` command line: parse, call a job of :mod:`sim.jobs`, print what it returns.

One module per group of commands: :mod:`~sim.cli.run` (``run``, ``trace``),
:mod:`~sim.cli.compare`, :mod:`~sim.cli.measures` (``levers``, ``targets``),
:mod:`~sim.cli.sweep` (``sweep``, ``calibrate``), :mod:`~sim.cli.optimise` and
:mod:`~sim.cli.files` (``params``, ``validate``, ``variants``). Nothing below
this package sees argparse.

Every input problem (missing file, malformed TOML, unknown key, wrong type,
value out of range) ends with one line on stderr naming the file, the key and
what is allowed, exit status 2, and nothing written; a file that cannot be
written (a full disk, an I/O error) one line and exit status 74 (EX_IOERR);
Ctrl-C ends with 130.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sim.cli.options import RANKABLE
from sim.cli.parser import build_parser
from sim.errors import InputError

__all__ = ["RANKABLE", "build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``convsim`` with ``argv`` (default the process's arguments); the exit status."""
    args = build_parser().parse_args(argv)
    from sim.checks import check_environment
    from sim.jobs.control import Cancelled
    from sim.store import EX_IOERR, WriteError, report_os_error

    try:
        check_environment()
        return int(args.func(args))
    except InputError as exc:
        print(f"convsim: error: {exc}", file=sys.stderr)
        return 2
    except WriteError as exc:
        print(f"convsim: error: {exc}", file=sys.stderr)
        return EX_IOERR
    except (KeyboardInterrupt, Cancelled):
        print("convsim: interrupted; nothing was written", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into head & co.: not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # no check caught it: stdout on a full device, an I/O error
        return report_os_error(exc)
