"""Start Numba's compiler without the optional libraries this package never uses in compiled code.

The first compiled call of a process (compiling, or loading from the on-disk
cache) makes Numba initialise its CPU target, which imports every module of
its own that registers implementations. Two of them import optional
libraries at that moment:

- ``numba.np.arraymath`` imports ``scipy.linalg.cython_blas`` to learn
  whether a BLAS is there (``_check_blas``); importing ``scipy.linalg`` costs
  ≈ 0.15 s (it clones NumPy's namespace and so imports ``numpy.f2py``);
- ``numba.core.typing.cffi_utils`` imports ``cffi`` and builds an ``FFI``
  (≈ 0.06 s, pycparser's lexer tables).

Our compiled code calls neither BLAS (no ``np.dot``, ``np.linalg``) nor cffi
functions. :func:`start_numba` runs that initialisation once, with the two
modules marked absent in ``sys.modules`` (Python's documented way to make an
import fail), then removes the marks: afterwards both import normally, and a
later compiled ``np.dot`` still finds SciPy's BLAS (Numba looks it up again
when it types a BLAS call). The one lasting effect is Numba's flag
``arraymath._HAVE_BLAS``, read only to choose between BLAS and a plain loop
in ``np.correlate``/``np.convolve``, which this package does not use.
Nothing here changes what any compiled function computes. The modules are
hidden only while this is the process's one Python thread, so no other thread
can meet the hidden import; otherwise Numba starts as usual.
"""

from __future__ import annotations

import sys
import threading

import numba as nb

from sim._cache import use_package_cache

use_package_cache()  # before _probe below: Numba picks a function's cache folder at its definition

#: Modules Numba's target initialisation imports only for features this package does not compile.
OPTIONAL = ("scipy.linalg", "cffi")
_started = False


@nb.njit(cache=True)
def _probe() -> int:
    """A trivial compiled function: calling it initialises Numba's CPU target (loaded from the cache)."""
    return 1


def start_numba() -> None:
    """Initialise Numba's CPU target once per process, without importing :data:`OPTIONAL` (see the module)."""
    global _started
    if _started:
        return
    alone = threading.active_count() == 1  # no other thread may import while a module is marked absent
    hidden = [m for m in OPTIONAL if m not in sys.modules] if alone else []
    for m in hidden:
        sys.modules[m] = None  # type: ignore[assignment]
    try:
        _probe()
    finally:
        for m in hidden:
            if m in sys.modules and sys.modules[m] is None:
                del sys.modules[m]
    _started = True
