"""``convsim params``, ``convsim validate`` and ``convsim variants``: the model's parameters and the project's files."""

from __future__ import annotations

import argparse
from typing import Any

from sim.cli.options import BUDGET


def cmd_params(a: argparse.Namespace) -> int:
    from sim.params import parameter_rows

    rows = parameter_rows()
    if a.markdown:
        print("| parameter | unit | default | range | source |")
        print("|---|---|---|---|---|")
        for r in rows:
            rng = f"{r['min'] if r['min'] is not None else ''} – {r['max'] if r['max'] is not None else ''}"
            note = f" — {r['meaning']}" if r["meaning"] else ""
            print(f"| `{r['parameter']}` | {r['unit']} | {r['default']} | {rng} | {r['source']}{note} |")
    else:
        for r in rows:
            print(f"{r['parameter']:<45} {r['default']!s:>14} {r['unit']:<24} {r['source']}")
    return 0


def cmd_validate(a: argparse.Namespace) -> int:
    from sim.jobs.files import validate

    for path in a.files:
        print(f"{path}: ok — {validate(path)}")
    return 0


def cmd_variants(a: argparse.Namespace) -> int:
    from sim.jobs.files import write_variants

    for path, n_levers, yuan in write_variants(a.dir, a.budget):
        print(f"{path}: {n_levers} lever(s), {yuan:,.0f} yuan/year")
    return 0


def add_parsers(sub: Any) -> None:
    q = sub.add_parser("params", help="list every parameter with unit, default and source")
    q.add_argument("--markdown", action="store_true", help="as a Markdown table")
    q.set_defaults(func=cmd_params)

    w = sub.add_parser("variants", help="(re)write all_five.toml and the equal-budget scenarios from g1–g5")
    w.add_argument("--dir", default="scenarios", help="scenario folder (default scenarios)")
    w.add_argument("--budget", type=BUDGET, default=3_000_000.0,
                   help="extra yuan a year per group, above 0 (default 3 M)")
    w.set_defaults(func=cmd_variants)

    v = sub.add_parser("validate", help="check scenario, sweep and calibration files without running them")
    v.add_argument("files", nargs="+", help="scenario or sweep files (.toml)")
    v.set_defaults(func=cmd_validate)
