"""Borrowed array views: the fast engine's way round Numba's atomic reference counting.

Numba counts references to every array a compiled function receives: an
atomic increment when the function starts and a decrement when the array is
last used. Numba's optimiser removes most such pairs, but not in functions
with several exits or calls that may raise, which is every rule; on the
benchmark machine each pair cost ≈ 14 ns and reference counting was a third
of the fast engine's time (``perf``, BENCHMARKS.md).

A *borrowed view* is an ordinary Numba array over the same memory without an
owner record (its meminfo pointer is null, as for ``numba.carray`` over a
raw pointer): counting its references is a no-op. The fast engine passes
borrowed views of its state arrays to the rules and keeps the owning arrays
alive until the replication ends (:func:`keep`), so a view never outlives its
memory. Rules are unchanged and see the same array types.

Only public Numba API is used (``numba.carray`` and an ``@intrinsic`` that
reads an array's data pointer). Interpreted (``NUMBA_DISABLE_JIT=1``), a
borrowed view is the array itself.
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np
from numba import types
from numba.extending import intrinsic

from sim.rng import INTERPRETED

if INTERPRETED:

    def borrow(a: np.ndarray) -> np.ndarray:
        """The array itself: interpreted code counts no references."""
        return a

else:

    @intrinsic
    def _data_pointer(typingctx: Any, a: Any) -> Any:
        """A typed pointer to the first element of array ``a`` (C-contiguous)."""
        sig = types.CPointer(a.dtype)(a)

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            return context.make_array(signature.args[0])(context, builder, value=args[0]).data

        return sig, codegen

    @nb.njit(cache=True, inline="always")
    def borrow(a: np.ndarray) -> np.ndarray:
        """A view of C-contiguous ``a`` without an owner: valid while ``a`` is alive (see :func:`keep`)."""
        return nb.carray(_data_pointer(a), a.shape)  # type: ignore[call-arg]


@nb.njit(cache=True)
def keep(*arrays: np.ndarray) -> None:
    """Does nothing; called at the end of a replication so its owning arrays live until then."""
