"""Scarce resources at work: a broker's search or a public pilot test begins."""

from __future__ import annotations

import numba as nb
import numpy as np

from sim import layout as L
from sim.rng import Word
from sim.rules.common import add_interval, year_of
from sim.rules.meeting import search_time
from sim.rules.pilot import pilot_time


# Inlined: it sits in the fast engine's hot loop, where the extra call cost 2 % of the run time (measured).
@nb.njit(cache=True, inline="always")
def start_service(P: np.ndarray, O: np.ndarray, R: np.ndarray, i: int, t: float, waited: float, broker: bool,
                  n_years: int, horizon: float, rk: Word) -> float:
    """Offer ``i`` gets a broker (``broker``) or a public pilot slot at ``t`` after ``waited`` years.

    Records the wait, the service and the busy time (clipped to the horizon);
    returns how long the slot is held.
    """
    y = year_of(t, n_years)
    if broker:
        R[L.R_WAIT_BROKER, y] += waited
        R[L.R_N_BROKER, y] += 1.0
        d = search_time(P, O, i, t, n_years, rk)
        add_interval(R, L.R_BROKER_BUSY, t, t + d, horizon)
    else:
        R[L.R_WAIT_PILOT, y] += waited
        R[L.R_N_PILOT_PUBLIC, y] += 1.0
        d = pilot_time(P, O, i, t, n_years, rk)
        add_interval(R, L.R_PILOT_BUSY, t, t + d, horizon)
    return d
