"""A sweep's folder: where its design, manifest and each point's records live, and how to read them back.

A sweep writes ``manifest.json`` and ``design.csv`` first, then one Parquet
part per point and scenario (``records/point=NNNNN/arm=<id>/part.parquet``)
as each finishes, then the analysis. The runner writes this layout and the
analysis reads it; both take its names from here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from sim.store import TEMP_PATTERN

MANIFEST = "manifest.json"
#: What a sweep folder may hold besides the files of its first write (see :mod:`sim.store`): its parts,
#: their temporary files after a hard kill, the analysis and the calibration written when points are done.
OWN_PATTERNS = ("records/point=*/arm=*/part.parquet", "records/point=*/arm=*/.part.*.tmp.parquet",
                "summary.csv", "sensitivity.csv", "robustness.csv", "robustness_summary.csv", "sweep.png",
                "robustness.png", "calibration.csv", "accepted.csv", "calibration.png", TEMP_PATTERN)


def part_path(out: Path, point: int, arm: str) -> Path:
    """Where the records of scenario ``arm`` at point ``point`` live."""
    return out / "records" / f"point={point:05d}" / f"arm={arm}" / "part.parquet"


def read_points(out: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """(design, records with ``point`` and ``arm`` columns, manifest) of a finished sweep folder."""
    out = Path(out)
    man = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    points = pd.read_csv(out / "design.csv", index_col="point")
    parts = []
    for k in points.index:
        for arm in man["arms"]:
            df = pd.read_parquet(part_path(out, int(k), arm))
            df.insert(0, "arm", arm)
            df.insert(0, "point", int(k))
            parts.append(df)
    return points, pd.concat(parts, ignore_index=True), man
