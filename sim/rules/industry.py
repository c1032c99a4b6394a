"""Industrialisation (产业化): ramp-up, success, and role models for the sector."""

from __future__ import annotations

import numba as nb
import numpy as np

from sim import layout as L
from sim import streams as S
from sim.rng import Word, draw, lognormal
from sim.rules.common import encourage_sector, end_offer, firm_gone, year_of
from sim.rules.pidx import IND_OK, IND_TAL, RAMP_MED, RAMP_SD, ROLE


@nb.njit(cache=True, inline="always")
def rampup_time(P: np.ndarray, O: np.ndarray, i: int, t: float, n_years: int, rk: Word) -> float:
    """Ramp-up from financing to steady production (none if the firm exited during the search for money)."""
    if O[i, L.O_FIRM_GONE] > 0.0:
        return 0.0
    y = year_of(t, n_years)
    return lognormal(draw(rk, S.D_RAMPUP, int(O[i, L.O_KEY]), 0), P[RAMP_MED, y], P[RAMP_SD, y])


@nb.njit(cache=True, inline="always")
def decide_industrialised(P: np.ndarray, F: np.ndarray, O: np.ndarray, W: np.ndarray, R: np.ndarray, i: int,
                          t: float, n_years: int, rk: Word) -> int:
    """Ramp-up ends: production succeeds (1) or fails (0). A success is a role model for its sector.

    A project whose firm exited ends here with reason *firm exit* (0).
    """
    if firm_gone(O, R, i, t, n_years):
        return 0
    y = year_of(t, n_years)
    f = int(O[i, L.O_FIRM])
    s = int(O[i, L.O_SECTOR])
    p = P[IND_OK, y]
    if F[f, L.F_TALENT] > 0.0 or F[f, L.F_VP_UNTIL] > t:
        p += P[IND_TAL, y]
    if draw(rk, S.D_IND_SUCCESS, int(O[i, L.O_KEY]), 0) >= p:
        end_offer(O, R, i, t, L.RE_IND_FAILED, n_years)
        return 0
    end_offer(O, R, i, t, L.RE_INDUSTRIALISED, n_years)
    R[L.R_INDUSTRIALISED, y] += 1.0
    R[L.R_IND_COUNTY + int(F[f, L.F_COUNTY]), y] += 1.0
    R[L.R_IND_SECTOR + s, y] += 1.0
    R[L.R_TTP, y] += t - O[i, L.O_T_ARRIVE]
    W[L.W_IND_THIS_YEAR] += 1.0
    boost = P[ROLE, y]
    if boost > 0.0:
        encourage_sector(F, W, s, boost)
    return 1
