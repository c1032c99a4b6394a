"""Where Numba keeps this package's compiled code: one folder per version of the package's source.

Numba's own cache checks only the file a compiled function lives in, so a
change to a rule in ``sim/rules/`` would leave the fast engine's cached loop
(in ``sim/engines/fast.py``) calling the old rule. Keying the cache folder by a
hash of every source file compiled code can depend on (all but the layers above
the run layer) makes any such edit start a fresh cache:
``~/.cache/convsim/numba-<digest>`` (``$XDG_CACHE_HOME`` if set; the temp
folder if the home is read-only).

Nothing happens at ``import sim``. Numba fixes a function's cache folder when
the function is *defined* (``@njit(cache=True)`` runs at the import of its
module), so the modules that define compiled code — :mod:`sim.rng`,
:mod:`sim.rules`, :mod:`sim._numba_start`, the engines after them — call
:func:`use_package_cache` before their first definition. It adds a cache
locator to Numba that serves only functions defined in this package's files:
the process's environment and Numba's settings stay untouched, so a notebook's
own ``@njit(cache=True)`` functions keep Numba's usual cache. A
``NUMBA_CACHE_DIR`` set by the user is respected as it is: the locator then
steps aside and Numba puts everything there.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any


@functools.cache
def _package() -> Path:
    from sim.resources import package_folder

    return package_folder().resolve()


#: The packages and modules above the run layer (front ends, jobs, analysis, optimiser, calibration, sweeps):
#: compiled code can never reach them — tests/test_layers.py forbids the engines, the rules and the model data
#: to import them — so an edit there must not throw the compiled engine away (a minute's compile).
ABOVE_COMPILED_CODE = ("cli", "explore", "jobs", "analysis", "optimise", "calibration", "sweep", "api.py",
                       "results.py")


def source_digest(root: Path | None = None) -> str:
    """A short hash of every ``.py`` file compiled code can depend on (names and contents): the package but the
    layers of :data:`ABOVE_COMPILED_CODE`."""
    root = root or _package()
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        if p.relative_to(root).parts[0] in ABOVE_COMPILED_CODE:
            continue
        h.update(str(p.relative_to(root)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


@functools.cache
def package_cache() -> str:
    """The package's own cache folder, created on first use; ``""`` if no writable place exists (Numba's
    default locations then serve)."""
    name = f"numba-{source_digest()}"
    for base in (Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "convsim",
                 Path(tempfile.gettempdir()) / "convsim"):
        try:  # a read-only home must not stop the simulator: fall back to the temp folder
            (base / name).mkdir(parents=True, exist_ok=True)
            return str(base / name)
        except OSError:
            continue
    return ""


def cache_folder() -> str:
    """Where this package's compiled code is cached: the user's ``NUMBA_CACHE_DIR``, else :func:`package_cache`."""
    return os.environ.get("NUMBA_CACHE_DIR") or package_cache()


def _inside_package(py_file: str) -> bool:
    try:
        return Path(py_file).resolve().is_relative_to(_package())
    except OSError:
        return False


_installed = False


def use_package_cache() -> None:
    """Make Numba cache this package's compiled functions in :func:`cache_folder` (idempotent).

    Call before the first ``@njit(cache=True)`` of a module: the folder of a
    function is chosen when it is defined.
    """
    global _installed
    if _installed:
        return
    from numba.core import caching, config

    # the locator classes kept their names until Numba 0.61 made them public
    impl: Any = getattr(caching, "CacheImpl", None) or caching._CacheImpl  # type: ignore[attr-defined]
    base: Any = caching._CacheLocator
    mixin: Any = caching._SourceFileBackedLocatorMixin

    class PackageCacheLocator(mixin, base):  # type: ignore[misc, valid-type]
        """Numba's user-provided-folder locator, for this package's files only, with the keyed folder."""

        def __init__(self, py_func: Any, py_file: str) -> None:
            self._py_file = py_file
            self._lineno = py_func.__code__.co_firstlineno
            self._cache_path = os.path.join(package_cache(), self.get_suitable_cache_subpath(py_file))

        def get_cache_path(self) -> str:
            return self._cache_path

        @classmethod
        def from_function(cls, py_func: Any, py_file: str) -> Any:
            if getattr(config, "CACHE_DIR", "") or not _inside_package(py_file) or not package_cache():
                return None  # the user's NUMBA_CACHE_DIR, or not our function: Numba's own locators decide
            return super().from_function(py_func, py_file)

    impl._locator_classes.insert(0, PackageCacheLocator)
    _installed = True


def fast_engine_cached() -> bool:
    """Whether the fast engine's compiled code is in the cache (checked without importing Numba).

    Numba files a cached function as ``<folder>/<module dir>_<hash>/<module>.<function>-<line>.<python>.nbi``.
    """
    folder = cache_folder()
    return bool(folder) and any(Path(folder).glob("*/fast.run_batch-*.nbi"))
