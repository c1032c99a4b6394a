"""A quick start: `convsim run` imports only what it needs, and its pandas-free path gives the same numbers.

The start time itself is measured in benchmarks/engines.py (BENCHMARKS.md), not asserted here; this
checks what makes it short: no pandas, SciPy's linear algebra, cffi or matplotlib on the run path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis.kpi import kpi_arrays, kpis, summarise, summary_rows
from sim.experiment import RecordArrays
from sim.layout import RECORD_ROWS
from tests.conftest import BASELINE, ROOT

#: Modules a one-replication `convsim run` must not import (each costs 0.05–0.2 s at start).
HEAVY = ("pandas", "scipy.linalg", "cffi", "matplotlib", "pyabc", "optuna", "dask")

_PROBE = """
import json, sys
from sim.cli import main
code = main(["run", sys.argv[1], "--reps", "2", "--engine", "fast", "--out", sys.argv[2], "--quiet"])
print(json.dumps({"code": code, "loaded": [m for m in json.loads(sys.argv[3]) if m in sys.modules]}))
"""


def test_run_command_imports_no_heavy_library(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.run([sys.executable, "-c", _PROBE, str(BASELINE), str(tmp_path / "run"), json.dumps(HEAVY)],
                       capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout.strip().splitlines()[-1])
    assert res["code"] == 0 and res["loaded"] == []
    # the records it wrote with pyarrow alone read back as the tidy table, two replications of 13 years
    rec = pd.read_parquet(tmp_path / "run" / "records.parquet")
    assert list(rec.columns) == ["rep", "year", *RECORD_ROWS] and len(rec) == 2 * 13
    assert rec["rep"].dtype == np.int32 and rec["year"].dtype == np.int32


def test_cli_module_import_is_light() -> None:
    code = f"import json, sys, sim.cli; print(json.dumps([m for m in {[*HEAVY, 'numba', 'pyarrow']!r} "\
           "if m in sys.modules]))"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == []


def _awkward_records(seed: int = 3) -> RecordArrays:
    """Records whose sums round differently in different orders (and a NaN and an infinity)."""
    g = np.random.default_rng(seed)
    n, years = 7, np.arange(2015, 2028)
    shape = (n, len(RECORD_ROWS), len(years))
    values = g.lognormal(10.0, 3.0, shape) * g.choice([1.0, 1e-9, 1e9], shape)
    values[g.random(shape) < 0.05] = 0.0
    values[2, 5, 10] = np.nan
    values[4, 7, 9] = np.inf
    return RecordArrays(np.array([5, 0, 3, 9, 1, 2, 8], dtype=np.int32), years.astype(np.int32), values)


@pytest.mark.filterwarnings("ignore:invalid value encountered in subtract:RuntimeWarning")  # quantiles with an inf
def test_kpis_without_pandas_equal_the_pandas_ones_to_the_bit() -> None:
    rec = _awkward_records()
    frame = rec.frame()
    for first, last in ((2018, 2022), (2023, 2027), (2015, 2015)):
        reps, cols = kpi_arrays(rec, first, last)
        ref = kpis(frame, first, last)
        assert reps.tolist() == ref.index.tolist() == sorted(rec.reps.tolist())
        assert list(cols) == list(ref.columns)
        for k, v in cols.items():
            assert np.array_equal(v, ref[k].to_numpy(), equal_nan=True), k
        rows = summary_rows(cols)
        s = summarise(ref)
        for k, r in rows.items():
            for field in ("mean", "lo", "hi", "n"):
                assert np.array_equal(r[field], s.loc[k, field], equal_nan=True), (k, field)


def test_records_written_with_pyarrow_read_back_as_the_frame(tmp_path: Path) -> None:
    rec = _awkward_records(5)
    rec.write_parquet(tmp_path / "r.parquet")
    back = pd.read_parquet(tmp_path / "r.parquet")
    assert back.equals(rec.frame())
    rec.frame().to_parquet(tmp_path / "p.parquet", index=False)  # what pandas writes reads back the same
    assert pd.read_parquet(tmp_path / "p.parquet").equals(back)
