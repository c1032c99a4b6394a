"""The command line as a user runs it: run writes records and manifest; trace writes the event table."""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from sim._cache import fast_engine_cached
from sim.cli import main
from sim.layout import RECORD_ROWS
from tests.conftest import BASELINE


def test_run_writes_records_and_manifest(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["run", str(BASELINE), "--reps", "3", "--seed", "4", "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    for label in ("Meetings", "Contracts", "Industrialised / offered", "City subsidy paid", "2018–2022",
                  "2023–2027"):
        assert label in text
    rec = pd.read_parquet(out / "records.parquet")
    assert len(rec) == 3 * 13 and set(RECORD_ROWS) <= set(rec.columns)
    assert sorted(rec["year"].unique()) == list(range(2015, 2028))
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["seed"] == 4 and m["replications"] == 3
    assert m["engine"] == ("fast" if fast_engine_cached() else "simpy")  # auto, 3 reps: fast only if compiled
    assert m["scenario_id"] == "baseline" and len(m["scenario_sha256"]) == 64
    assert m["parameters"]["subsidy"]["city_rate"] == 0.2 and "numba" in m["versions"]
    # rerunning the same command reproduces the records exactly
    out2 = tmp_path / "run2"
    assert main(["run", str(BASELINE), "--reps", "3", "--seed", "4", "--out", str(out2), "--quiet"]) == 0
    assert pd.read_parquet(out2 / "records.parquet").equals(rec)


def test_trace_one_replication(tmp_path: Path) -> None:
    out = tmp_path / "trace.csv"
    assert main(["trace", str(BASELINE), "--rep", "2", "--out", str(out)]) == 0
    tr = pd.read_csv(out)
    assert {"time_years", "date", "offer_key", "channel", "event", "detail"} <= set(tr.columns)
    assert np.all(np.diff(tr["time_years"]) >= 0)
    ends = tr[tr["event"] == "end"].groupby("offer_key").size()
    assert ends.max() == 1  # an offer ends once
    arrivals = tr[tr["event"] == "arrive"]["offer_key"]
    assert arrivals.is_unique and set(ends.index) <= set(arrivals)
    assert "industrialised" in set(tr["detail"])


def test_params_listing_has_a_source_for_every_default(capsys) -> None:
    assert main(["params", "--markdown"]) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("| `")]
    assert len(lines) > 100
    for ln in lines:
        source = ln.split("|")[5].strip()
        assert source[:3] in ("DOC", "DER", "ASM"), ln
