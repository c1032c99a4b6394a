"""Where Numba keeps compiled code: one folder per version of the package's source.

Numba's own cache checks only the file a compiled function lives in, so a
change to a rule in ``sim/rules/`` would leave the fast engine's cached loop
(in ``sim/engines/fast.py``) calling the old rule. Keying the cache folder by a
hash of every source file of the package makes any edit start a fresh cache.
A ``NUMBA_CACHE_DIR`` set by the user is respected as it is.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def source_digest(root: Path | None = None) -> str:
    """A short hash of every ``.py`` file of the package (names and contents)."""
    root = root or Path(__file__).resolve().parent
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        h.update(str(p.relative_to(root)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def configure() -> str:
    """Point Numba's cache at ``~/.cache/convsim/numba-<digest>`` unless the user chose a folder."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return os.environ["NUMBA_CACHE_DIR"]
    name = f"numba-{source_digest()}"
    folder = ""
    for base in (Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "convsim",
                 Path(tempfile.gettempdir()) / "convsim"):
        try:  # a read-only home must not stop the simulator: fall back to the temp folder
            (base / name).mkdir(parents=True, exist_ok=True)
            folder = str(base / name)
            break
        except OSError:
            continue
    if not folder:
        return ""  # no writable place: Numba compiles in memory, without a cache
    os.environ["NUMBA_CACHE_DIR"] = folder
    try:  # numba already imported: its config was read; set it directly
        import sys

        if "numba" in sys.modules:
            sys.modules["numba"].config.CACHE_DIR = folder
    except AttributeError:
        pass
    return folder


def fast_engine_cached() -> bool:
    """Whether the fast engine's compiled code is in the on-disk cache (checked without importing Numba).

    Numba files a cached function as ``<folder>/<module dir>_<hash>/<module>.<function>-<line>.<python>.nbi``.
    """
    folder = os.environ.get("NUMBA_CACHE_DIR", "")
    return bool(folder) and any(Path(folder).glob("*/fast.run_batch-*.nbi"))
