"""Shared helpers of the rulebook: calendar, bookkeeping, sector blocks and awareness sums."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from sim import layout as L

KEY_STRIDE = 1 << 40  # offer key = channel · 2**40 + serial within the channel



@nb.njit(cache=True)
def year_of(t: float, n_years: int) -> int:
    """Year index of time ``t``, clipped to the simulated years."""
    y = int(math.floor(t))
    if y < 0:
        return 0
    if y >= n_years:
        return n_years - 1
    return y


@nb.njit(cache=True)
def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@nb.njit(cache=True)
def add_interval(R: np.ndarray, row: int, t0: float, t1: float, horizon: float) -> None:
    """Add the length of [t0, t1] ∩ [0, horizon] to ``R[row]``, split by calendar year."""
    if t1 > horizon:
        t1 = horizon
    t = t0
    while t < t1:
        y = int(math.floor(t))
        end = min(float(y + 1), t1)
        R[row, y] += end - t
        t = end


@nb.njit(cache=True, inline="always")
def sector_rows(W: np.ndarray, s: int) -> tuple[int, int]:
    """First and one-past-last firm row of sector ``s``."""
    return int(W[L.W_SECTOR_START + s]), int(W[L.W_SECTOR_START + s + 1])


@nb.njit(cache=True)
def refresh_awareness(F: np.ndarray, W: np.ndarray) -> None:
    """Recompute each sector's summed awareness (the matching function's demand D) and its maximum."""
    for s in range(L.N_SECTORS):
        W[L.W_AWARE_SUM + s] = 0.0
        W[L.W_AWARE_MAX + s] = 0.0
    for f in range(F.shape[0]):
        s = int(F[f, L.F_SECTOR])
        W[L.W_AWARE_SUM + s] += F[f, L.F_AWARE]
        if F[f, L.F_AWARE] > W[L.W_AWARE_MAX + s]:
            W[L.W_AWARE_MAX + s] = F[f, L.F_AWARE]


@nb.njit(cache=True)
def refresh_sector(F: np.ndarray, W: np.ndarray, s: int) -> None:
    """Recompute one sector's awareness sum and maximum (after a feedback touched only it).

    Sums the sector's rows in the same order as :func:`refresh_awareness`, so
    the result is the same to the last bit.
    """
    lo, hi = sector_rows(W, s)
    total = 0.0
    top = 0.0
    for f in range(lo, hi):
        total += F[f, L.F_AWARE]
        if F[f, L.F_AWARE] > top:
            top = F[f, L.F_AWARE]
    W[L.W_AWARE_SUM + s] = total
    W[L.W_AWARE_MAX + s] = top


@nb.njit(cache=True)
def end_offer(O: np.ndarray, R: np.ndarray, i: int, t: float, reason: int, n_years: int) -> None:
    """Close an offer with its terminal reason."""
    O[i, L.O_REASON] = reason
    O[i, L.O_STAGE] = L.ST_DONE
    O[i, L.O_T_END] = t
    R[L.R_TERM + reason, year_of(t, n_years)] += 1.0
