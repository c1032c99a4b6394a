"""Where every benchmark writes its figures: ``benchmarks/results/<name>.json`` (the latest run is committed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def write_results(name: str, figures: dict[str, Any]) -> Path:
    """Write ``figures`` as ``results/<name>.json`` (arrays as lists) and say where."""
    out = RESULTS / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(figures, indent=2, default=lambda x: x.tolist() if isinstance(x, np.ndarray) else str(x))
    out.write_text(text, encoding="utf-8")
    print(f"written {out}")
    return out
