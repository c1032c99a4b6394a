"""Check that an engine change leaves every record value unchanged (bit for bit).

Run: ``python benchmarks/records_identity.py save FILE`` before the change, then
``python benchmarks/records_identity.py check FILE`` after it. Runs the fast engine on
every shipped scenario and a high-turnover configuration (the ``firm_turnover`` scenario of
tests/test_engine_agreement.py), 200 replications × 2 seeds, and compares every value
(``np.array_equal`` on the raw float64 records, NaN never expected). A tool, not a test.

Rows added after the save (appended at the end of ``sim.layout.RECORD_ROWS``, as the cohort rows are)
are not in the saved file: ``check`` compares the saved rows, names how many new rows it left out, and
fails if a saved row went missing or the years differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from sim.engines.fast import run_fast
from sim.scenario import Scenario, load_scenario
from sim.table import build_table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.conftest import variant  # noqa: E402  (the scenario helper of the test suite)
from tests.test_engine_agreement import SCENARIOS  # noqa: E402

SEEDS = (11, 2026)
REPS = range(200)


def scenarios() -> dict[str, Scenario]:
    """Every shipped scenario and the high-turnover configuration."""
    base = load_scenario(ROOT / "scenarios" / "baseline.toml")
    params, levers = SCENARIOS["firm_turnover"]
    out = {p.stem: load_scenario(p) for p in sorted((ROOT / "scenarios").glob("*.toml"))}
    return {**out, "firm_turnover": variant(base, params=params, levers=levers)}


def records() -> dict[str, np.ndarray]:
    """Records ``[rep, row, year]`` of every configuration and seed, keyed ``name/seed``."""
    out = {}
    for name, sc in scenarios().items():
        table = build_table(sc)
        for seed in SEEDS:
            out[f"{name}/{seed}"], _ = run_fast(table, seed, REPS)
    return out


def main() -> int:
    if len(sys.argv) != 3 or sys.argv[1] not in ("save", "check"):
        print("usage: records_identity.py save|check FILE", file=sys.stderr)
        return 2
    path = Path(sys.argv[2])
    now = records()
    if sys.argv[1] == "save":
        np.savez_compressed(path, **now)
        print(f"saved {len(now)} record sets to {path}")
        return 0
    before = np.load(path)
    bad = 0
    for key, rec in now.items():
        old = before[key]
        # rows are only ever appended, so the saved rows are the first ones of today's records
        rows = old.shape[1]
        same = (rec.shape[0] == old.shape[0] and rec.shape[2] == old.shape[2] and rec.shape[1] >= rows
                and np.array_equal(rec[:, :rows].view(np.int64), old.view(np.int64)))
        added = f" ({rec.shape[1] - rows} rows added since the save, not compared)" if rec.shape[1] > rows else ""
        print(f"{key}: {rec.shape[0]} replications, {old.size} values: {'identical' if same else 'DIFFERENT'}"
              f"{added}")
        bad += not same
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
