"""sim.executor: the pool of local processes, the long jobs' options, results in the order asked."""

from __future__ import annotations

import os

import pytest

from sim.errors import InputError
from sim.executor import (
    InlineExecutor,
    check_job_options,
    engine_threads,
    executor,
    job_backend,
    map_ordered,
    ordered,
    slots,
)


def _numba_threads(_: int) -> tuple[int, str | None]:
    import numba

    return numba.get_num_threads(), os.environ.get("NUMBA_NUM_THREADS")


def _square_or_fail(x: int) -> int:
    if x < 0:
        raise ValueError(f"negative {x}")
    return x * x


def test_job_backend_and_options() -> None:
    assert job_backend("local", None) == job_backend("local", 1) == "local"
    assert job_backend("local", 2) == "processes" and job_backend("dask", 2) == "dask"
    for bad, needle in (((("cluster", None, None)), "--backend"), (("local", "tcp://h:8786", None), "--scheduler"),
                        (("dask", "not an address", None), "--scheduler"), (("local", None, 0), "--workers"),
                        (("dask", "tcp://h:8786", 2), "--workers")):
        with pytest.raises(InputError, match=needle):
            check_job_options(*bad)
    check_job_options("dask", "tcp://h:8786", None)
    assert engine_threads(1) == (os.cpu_count() or 1) and engine_threads(64) == 1


def test_process_pool_shares_the_cores_and_keeps_the_order() -> None:
    """Each of N processes gets cores / N Numba threads; results come back in the order asked."""
    with executor("processes", workers=2) as ex:
        assert slots(ex) == 2
        seen = map_ordered(ex, _numba_threads, range(4))
        assert set(seen) == {(engine_threads(2), str(engine_threads(2)))}
        assert map_ordered(ex, _square_or_fail, range(10)) == [x * x for x in range(10)]
        assert list(ordered(ex, _square_or_fail, [3, 1, 2])) == [9, 1, 4]
        with pytest.raises(ValueError, match="negative -1"):
            map_ordered(ex, _square_or_fail, [1, -1, 2])
    inline = InlineExecutor()
    assert slots(inline) == 1 and list(ordered(inline, _square_or_fail, [2, 3])) == [4, 9]
