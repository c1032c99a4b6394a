"""Shared helpers of the rulebook: calendar, bookkeeping, sector blocks and awareness sums."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from sim import layout as L
from sim._cache import use_package_cache

use_package_cache()  # the rulebook's first module: Numba picks a function's cache folder at its definition

KEY_STRIDE = 1 << 30  # offer key = channel · 2**30 + serial within the channel (an rng entity: < 2**33)



@nb.njit(cache=True, inline="always")
def year_of(t: float, n_years: int) -> int:
    """Year index of time ``t``, clipped to the simulated years."""
    y = int(math.floor(t))
    if y < 0:
        return 0
    if y >= n_years:
        return n_years - 1
    return y


@nb.njit(cache=True, inline="always")
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


# ---- awareness (认识) ---------------------------------------------------------------------
# Feedbacks move a whole sector's awareness at once: a success raises every firm's awareness by
# a share of its gap to 1 (role model), an imitation lowers every other firm's by a share
# (discouragement), publicity raises everyone's at the year's end. All are affine maps, so a
# sector keeps one pending map a ↦ mul · a + add over its firms' stored values, and its sum and
# maximum are mapped with it: O(1) per feedback instead of a pass over the sector (which made
# run time grow faster than the city). The year's end writes the maps into the firms and
# recomputes sums and maxima exactly.


@nb.njit(cache=True, inline="always")
def mapped(mul: float, add: float, stored: float) -> float:
    """A stored awareness under a sector's pending map ``a ↦ mul · a + add``."""
    return mul * stored + add


@nb.njit(cache=True, inline="always")
def awareness(F: np.ndarray, W: np.ndarray, f: int) -> float:
    """Firm ``f``'s awareness now: its stored value under its sector's pending map."""
    s = int(F[f, L.F_SECTOR])
    return mapped(W[L.W_AWARE_MUL + s], W[L.W_AWARE_ADD + s], F[f, L.F_AWARE])


@nb.njit(cache=True)
def write_awareness_maps(F: np.ndarray, W: np.ndarray) -> None:
    """Write every sector's pending map into its firms (the firms alive) and make each map the identity."""
    n = int(W[L.W_SECTOR_START + L.N_SECTORS])
    for f in range(n):  # mapped, not awareness(F, W, f): an inlined helper taking arrays counts references per firm
        s = int(F[f, L.F_SECTOR])
        F[f, L.F_AWARE] = mapped(W[L.W_AWARE_MUL + s], W[L.W_AWARE_ADD + s], F[f, L.F_AWARE])
    for s in range(L.N_SECTORS):
        W[L.W_AWARE_MUL + s] = 1.0
        W[L.W_AWARE_ADD + s] = 0.0


@nb.njit(cache=True)
def sum_awareness(F: np.ndarray, W: np.ndarray) -> None:
    """Each sector's awareness sum and maximum over its firms' stored values, in row order (maps: identity)."""
    n = int(W[L.W_SECTOR_START + L.N_SECTORS])
    for s in range(L.N_SECTORS):
        W[L.W_AWARE_SUM + s] = 0.0
        W[L.W_AWARE_MAX + s] = 0.0
    for f in range(n):
        s = int(F[f, L.F_SECTOR])
        W[L.W_AWARE_SUM + s] += F[f, L.F_AWARE]
        if F[f, L.F_AWARE] > W[L.W_AWARE_MAX + s]:
            W[L.W_AWARE_MAX + s] = F[f, L.F_AWARE]


@nb.njit(cache=True)
def refresh_awareness(F: np.ndarray, W: np.ndarray) -> None:
    """Write every sector's pending map into its firms; recompute each sector's awareness sum and maximum.

    The sum is the matching function's demand D; the maximum bounds the
    rejection sampler that picks the firm met. Only the firms alive (the first rows) count.
    """
    write_awareness_maps(F, W)
    sum_awareness(F, W)


@nb.njit(cache=True)
def encourage_sector(F: np.ndarray, W: np.ndarray, s: int, boost: float) -> None:
    """Every firm of sector ``s`` closes a share ``boost`` of its gap to full awareness: a ↦ a + boost·(1 − a)."""
    keep = 1.0 - boost
    lo, hi = sector_rows(W, s)
    W[L.W_AWARE_MUL + s] *= keep
    W[L.W_AWARE_ADD + s] = W[L.W_AWARE_ADD + s] * keep + boost
    W[L.W_AWARE_SUM + s] = W[L.W_AWARE_SUM + s] * keep + boost * (hi - lo)
    W[L.W_AWARE_MAX + s] = W[L.W_AWARE_MAX + s] * keep + boost  # an increasing map keeps the maximum's firm


@nb.njit(cache=True)
def discourage_sector(F: np.ndarray, W: np.ndarray, s: int, spared: int, d: float) -> None:
    """After an imitation (模仿), every firm of sector ``s`` but ``spared`` loses a share ``d`` of its awareness.

    The sector's map shrinks by 1 − d and the spared firm's stored value is
    re-based so its own awareness does not move. The maximum stays exact: it
    is either the spared firm's awareness or the old maximum shrunk.
    """
    keep = 1.0 - d
    a_spared = awareness(F, W, spared)
    mul = W[L.W_AWARE_MUL + s] * keep
    if mul < 1e-200:  # practically never: write the map into the firms before it underflows
        refresh_awareness(F, W)
        mul = keep
    add = W[L.W_AWARE_ADD + s] * keep
    W[L.W_AWARE_MUL + s] = mul
    W[L.W_AWARE_ADD + s] = add
    F[spared, L.F_AWARE] = (a_spared - add) / mul
    W[L.W_AWARE_SUM + s] = (W[L.W_AWARE_SUM + s] - a_spared) * keep + a_spared
    W[L.W_AWARE_MAX + s] = max(W[L.W_AWARE_MAX + s] * keep, a_spared)


@nb.njit(cache=True, inline="always")
def end_offer(O: np.ndarray, R: np.ndarray, i: int, t: float, reason: int, n_years: int) -> None:
    """Close an offer with its terminal reason."""
    O[i, L.O_REASON] = reason
    O[i, L.O_STAGE] = L.ST_DONE
    O[i, L.O_T_END] = t
    R[L.R_TERM + reason, year_of(t, n_years)] += 1.0


@nb.njit(cache=True)
def firm_gone(O: np.ndarray, R: np.ndarray, i: int, t: float, n_years: int) -> bool:
    """Has offer ``i``'s firm exited since the last step? Then the project ends here (reason *firm exit*).

    A firm exits at a year's end (sim/rules/population.py), which marks its projects under way; each ends
    at its next step: the negotiation's, the pilot's, the search for finance's or the ramp-up's end.
    """
    if O[i, L.O_FIRM_GONE] > 0.0:
        end_offer(O, R, i, t, L.RE_FIRM_EXIT, n_years)
        return True
    return False
