"""Publish executed copies of the notebooks: ``docs/notebooks/<name>.ipynb``, with their outputs.

The notebooks live in git as jupytext percent scripts (``notebooks/*.py``, no outputs; see
``jupytext.toml``). This tool converts each script to a notebook, executes it in a Jupyter kernel with
nbclient — with few replications (``--reps``, handed to the notebooks as ``CONVSIM_NOTEBOOK_REPS``; below
50 they also take their quick settings) and their figure files written to a temporary folder — and writes
the executed copy to ``docs/notebooks/``, so a reader sees every table and figure without running
anything. Each copy's metadata (``convsim``) records the SHA-256 digest of the script it was executed
from, the convsim version, the replications and the date; ``tests/test_published_notebooks.py`` fails
when a copy is missing or its script has changed since (outputs are never compared: they are Monte Carlo
figures of a tiny run).

Run from the repository's root::

    python -m tools.publish_notebooks             # every notebook
    python -m tools.publish_notebooks 02_compare_measures --reps 40
    python -m tools.publish_notebooks --check     # which copies are missing or stale (exit 1 if any)

A notebook that fails leaves its published copy as it was (each copy is written to a temporary file and
renamed into place); the tool says which cell failed and exits with status 1. Bad arguments: one line,
exit status 2.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PUBLISHED = ROOT / "docs" / "notebooks"
#: Replications the published copies are executed with (below 50 the notebooks take their quick settings).
REPS = 40
#: Longest a single cell may run (seconds) before the notebook counts as failed.
CELL_TIMEOUT_S = 1800
#: Largest text output kept in a published copy (characters); longer outputs are cut, saying so.
MAX_TEXT = 20_000


def sources() -> dict[str, Path]:
    """Every notebook script, by name (the file's stem)."""
    return {p.stem: p for p in sorted(NOTEBOOKS.glob("*.py"))}


def digest(path: Path) -> str:
    """SHA-256 of a notebook script's bytes: what a published copy records and the test compares."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def published(name: str) -> Path:
    """Where the executed copy of notebook ``name`` goes."""
    return PUBLISHED / f"{name}.ipynb"


def stale() -> dict[str, str]:
    """Every notebook whose published copy is missing or was executed from another version of its script:
    name → why."""
    import nbformat

    out = {}
    for name, src in sources().items():
        path = published(name)
        if not path.is_file():
            out[name] = f"no published copy {path.relative_to(ROOT)}"
            continue
        meta = nbformat.read(path, as_version=4).metadata.get("convsim", {})
        if meta.get("source_sha256") != digest(src):
            out[name] = f"{src.relative_to(ROOT)} changed since {path.relative_to(ROOT)} was executed"
    return out


def _trim(nb: Any) -> None:
    """Keep a copy small: no execution timings, long text outputs cut (figures are already PNG)."""
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and len(out.get("text", "")) > MAX_TEXT:
                out["text"] = out["text"][:MAX_TEXT] + "\n… (cut: the published copy keeps outputs short)\n"
            data = out.get("data", {})
            if "image/png" in data:
                data.pop("text/plain", None)  # "<Figure size …>" beside the image says nothing
            if "text/html" in data and len(data["text/html"]) > MAX_TEXT:
                data.pop("text/html")  # a long table: its text/plain form is kept


def publish(name: str, reps: int = REPS) -> float:
    """Execute notebook ``name`` and write its published copy; returns the seconds it took."""
    import jupytext
    import nbclient
    import nbformat

    from sim.store import atomic_file
    from sim.version import __version__

    src = sources()[name]
    nb = jupytext.read(src)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="convsim-publish-") as figures:
        # the kernel inherits this process's environment: the notebooks read their settings from it
        env = {"CONVSIM_NOTEBOOK_REPS": str(reps), "CONVSIM_NOTEBOOK_OUT": figures}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            # --matplotlib=inline is ``%matplotlib inline`` at the kernel's start: a Figure built without pyplot
            # (every figure of the package) then shows as a PNG when a cell ends with it, as it does in Jupyter
            # once pyplot has been imported
            client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT_S,
                                             record_timing=False, extra_arguments=["--matplotlib=inline"],
                                             resources={"metadata": {"path": str(src.parent)}})
            client.execute()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    seconds = time.perf_counter() - start
    _trim(nb)
    nb.metadata.pop("jupytext", None)  # a published copy is not paired with anything
    nb.metadata["convsim"] = {
        "source": src.relative_to(ROOT).as_posix(), "source_sha256": digest(src), "convsim_version": __version__,
        "notebook_reps": reps, "executed_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(seconds, 1),
    }
    PUBLISHED.mkdir(parents=True, exist_ok=True)
    with atomic_file(published(name)) as tmp:
        nbformat.write(nb, str(tmp))
    return seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.publish_notebooks",
                                 description="Execute the notebooks and publish their copies in docs/notebooks/.")
    ap.add_argument("names", nargs="*", help="notebooks to publish (file stems); default every one")
    ap.add_argument("--reps", type=int, default=REPS, help=f"replications handed to the notebooks (default {REPS})")
    ap.add_argument("--check", action="store_true", help="only list the copies that are missing or stale")
    a = ap.parse_args(argv)
    known = sources()
    unknown = [n for n in a.names if n not in known]
    if unknown:
        print(f"publish_notebooks: unknown notebook {', '.join(unknown)}; one of {', '.join(known)}", file=sys.stderr)
        return 2
    if a.reps < 2:
        print(f"publish_notebooks: --reps must be 2 or more, got {a.reps}", file=sys.stderr)
        return 2
    if a.check:
        bad = stale()
        for name, why in bad.items():
            print(f"{name}: {why}")
        if not bad:
            print(f"every published notebook is up to date ({len(known)})")
        return 1 if bad else 0
    import nbclient.exceptions

    total = 0.0
    failed = []
    for name in a.names or list(known):
        try:
            secs = publish(name, a.reps)
        except nbclient.exceptions.CellExecutionError as exc:
            first = str(exc).strip().splitlines()
            print(f"{name}: failed, its published copy left as it was: {first[-1] if first else exc}",
                  file=sys.stderr)
            failed.append(name)
            continue
        total += secs
        print(f"{name}: {secs:.0f} s → {published(name).relative_to(ROOT)} "
              f"({published(name).stat().st_size / 1024:.0f} KiB)", flush=True)
    print(f"published {len(a.names or known) - len(failed)} notebook(s) in {total:.0f} s with --reps {a.reps}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
