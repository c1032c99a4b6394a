"""The rules mean what their Python source says: interpreted and compiled runs give the same record.

With ``NUMBA_DISABLE_JIT=1`` every rule, the keyed random numbers and both
engines run as plain Python (the way to step through a rule in a debugger,
README "Looking inside one run"). That run must give, to the last bit, the
record the compiled code gives — otherwise the compiler, not the rulebook,
would be deciding the results. It runs in a subprocess because Numba reads
the switch once, at import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.engines.fast import run_fast
from sim.table import build_table
from tests.conftest import lever, variant

_CHILD = """
import json, sys
import numpy as np
import numba
assert numba.config.DISABLE_JIT
from sim.engines.fast import run_fast
from sim.engines.reference import run_reference
from sim.scenario import scenario_from_dict
from sim.table import build_table
job = json.loads(open(sys.argv[1], encoding="utf-8").read())
out = []
for data in job["scenarios"]:
    table = build_table(scenario_from_dict(data))
    for seed, rep in job["keys"]:
        out.append(run_reference(table, seed, rep))
        out.append(run_fast(table, seed, [rep])[0][0])
np.save(sys.argv[2], np.array(out))
"""

KEYS = [(3, 2), (11, 0)]


@pytest.mark.slow
def test_interpreted_rules_give_the_compiled_record(baseline, tmp_path: Path) -> None:
    scenarios = [baseline,
                 variant(baseline, levers=[lever("pilot.public_slots", "add", 6.0),
                                           lever("finance.venture_prob", "set", 0.3, lid="venture"),
                                           lever("meeting.brokers", "add", 8.0, lid="brokers")])]
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"scenarios": [s.model_dump(mode="json") for s in scenarios], "keys": KEYS}),
                   encoding="utf-8")
    out = tmp_path / "records.npy"
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    # -W error: the interpreted run must not leak numpy's wrap-around warnings (sim/rng.py filters them)
    subprocess.run([sys.executable, "-W", "error", "-c", _CHILD, str(job), str(out)], check=True, env=env,
                   cwd=Path(__file__).resolve().parents[1], timeout=600)
    interpreted = np.load(out)
    k = 0
    for sc in scenarios:
        table = build_table(sc)
        for seed, rep in KEYS:
            compiled = run_fast(table, seed, [rep])[0][0]
            assert np.array_equal(interpreted[k], compiled), f"reference engine, {sc.scenario.id}, key {seed, rep}"
            assert np.array_equal(interpreted[k + 1], compiled), f"fast engine, {sc.scenario.id}, key {seed, rep}"
            k += 2
