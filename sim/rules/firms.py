"""The firm population (需求侧) at the start, and the world it lives in."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from sim import layout as L
from sim import streams as S
from sim.rng import Word, categorical_rows, draw, normal_ppf
from sim.rules.common import refresh_awareness, sigmoid
from sim.rules.pidx import (
    AWARE_MED,
    AWARE_SD,
    COLLATERAL,
    COUNTY_SHARE,
    FUND,
    HT_INIT,
    HT_VALID,
    IMITATOR,
    LIQUID,
    N_ABOVE,
    N_SME,
    RD_SHARE,
    SECTOR_SHARE,
    TALENT_SHARE,
    TITLE_ONLY,
)


@nb.njit(cache=True)
def rd_working(P: np.ndarray, has_rd: float, rk: Word, f: int, occurrence: int, y: int) -> float:
    """Does a (new) R&D institution work, or hold a title only (重申报、轻发展, report 二(二)二)? 1.0 or 0.0."""
    if has_rd <= 0.0:
        return 0.0
    return 1.0 if draw(rk, S.D_RD_WORKING, f, occurrence) >= P[TITLE_ONLY, y] else 0.0


@nb.njit(cache=True)
def draw_firm(P: np.ndarray, F: np.ndarray, row: int, fid: int, sme: float, y: int, t: float, rk: Word) -> None:
    """Draw firm ``fid``'s sector, county and capacities into ``F[row]`` with year ``y``'s parameters.

    The same rule for the initial firms (``fid`` = their index, ``y`` = 0) and for entrants (their serial
    number, the year of the year's end): every draw is keyed by the firm's serial number, occurrence 0.
    Science-based SMEs below designated size are less likely to run an R&D institution (ASM: half).
    """
    for c in range(L.N_FCOL):  # a scalar loop: a row slice would build an array view on every call
        F[row, c] = 0.0
    F[row, L.F_SECTOR] = categorical_rows(draw(rk, S.D_FIRM_SECTOR, fid, 0), P, SECTOR_SHARE, L.N_SECTORS, y)
    F[row, L.F_COUNTY] = categorical_rows(draw(rk, S.D_FIRM_COUNTY, fid, 0), P, COUNTY_SHARE, L.N_COUNTIES, y)
    rd_p = P[RD_SHARE, y] * (0.5 if sme > 0.0 else 1.0)
    F[row, L.F_RD] = 1.0 if draw(rk, S.D_FIRM_RD, fid, 0) < rd_p else 0.0
    F[row, L.F_RD_WORKING] = rd_working(P, F[row, L.F_RD], rk, fid, 0, y)
    F[row, L.F_TALENT] = 1.0 if draw(rk, S.D_FIRM_TALENT, fid, 0) < P[TALENT_SHARE, y] else 0.0
    mu = math.log(P[AWARE_MED, y] / (1.0 - P[AWARE_MED, y]))
    z = normal_ppf(draw(rk, S.D_FIRM_AWARE, fid, 0))
    F[row, L.F_AWARE] = sigmoid(mu + P[AWARE_SD, y] * z)
    F[row, L.F_LIQUID] = 1.0 if draw(rk, S.D_FIRM_LIQUID, fid, 0) < P[LIQUID, y] else 0.0
    F[row, L.F_COLLATERAL] = 1.0 if draw(rk, S.D_FIRM_COLLATERAL, fid, 0) < P[COLLATERAL, y] else 0.0
    F[row, L.F_IMITATOR] = 1.0 if draw(rk, S.D_FIRM_IMITATOR, fid, 0) < P[IMITATOR, y] else 0.0
    F[row, L.F_HIGHTECH] = 0.0
    F[row, L.F_VP_UNTIL] = -1.0
    # an entrant's R&D institution is new: idle counts from its founding (as for one founded later, year_end.py)
    F[row, L.F_LAST_USE] = t if F[row, L.F_RD] > 0.0 else 0.0
    F[row, L.F_SME] = sme
    F[row, L.F_ID] = fid


@nb.njit(cache=True)
def initial_firms(P: np.ndarray) -> int:
    """Firms at the start: above designated size, then science-based SMEs."""
    return int(P[N_ABOVE, 0]) + int(P[N_SME, 0])


@nb.njit(cache=True)
def init_firms(P: np.ndarray, F: np.ndarray, rk: Word) -> None:
    """Draw every firm's sector, county and capacities at 1 January of the start year.

    Rows ``[0, n)`` hold the ``n`` initial firms (``F`` may be longer: room for entrants).
    """
    n = initial_firms(P)
    n_above = int(P[N_ABOVE, 0])
    for f in range(n):
        draw_firm(P, F, f, f, 0.0 if f < n_above else 1.0, 0, 0.0, rk)
    # The initial high-tech stock: the firms with R&D institutions whose keyed draw is smallest
    # (the first k of a stable sort by score: all below the k-th score, then ties by firm index).
    score = np.empty(n)
    for f in range(n):
        score[f] = draw(rk, S.D_FIRM_HIGHTECH, f, 0) + (0.0 if F[f, L.F_RD] > 0 else 2.0)
    k = min(int(P[HT_INIT, 0]), n)
    if k > 0:
        cut = np.partition(score, k - 1)[k - 1]
        taken = 0
        for f in range(n):
            if score[f] < cut:
                F[f, L.F_HIGHTECH] = 1.0
                taken += 1
        for f in range(n):
            if taken < k and score[f] == cut:
                F[f, L.F_HIGHTECH] = 1.0
                taken += 1
    # Their certificates were granted at one of the last ``validity`` year ends (uniformly): dated 0, −1, … years.
    valid = int(P[HT_VALID, 0])
    for f in range(n):
        if F[f, L.F_HIGHTECH] > 0.0:
            F[f, L.F_HT_SINCE] = -float(min(int(draw(rk, S.D_HT_AGE, f, 0) * valid), valid - 1))
    # Store firms sector by sector, in firm order within a sector (a counting sort), so that a
    # sector is one block of rows.
    start = np.zeros(L.N_SECTORS + 1, dtype=np.int64)
    for f in range(n):
        start[int(F[f, L.F_SECTOR]) + 1] += 1
    for s in range(L.N_SECTORS):
        start[s + 1] += start[s]
    by_sector = np.empty((n, L.N_FCOL))
    for f in range(n):  # column by column: a row slice would build two array views per firm
        s = int(F[f, L.F_SECTOR])
        for c in range(L.N_FCOL):
            by_sector[start[s], c] = F[f, c]
        start[s] += 1
    for f in range(n):
        for c in range(L.N_FCOL):
            F[f, c] = by_sector[f, c]


@nb.njit(cache=True)
def init_world(P: np.ndarray, F: np.ndarray, W: np.ndarray) -> None:
    """The world at t = 0: a full fund for the first year, nobody in the pipeline, the initial firms alive."""
    W[:] = 0.0
    W[L.W_FUND] = P[FUND, 0]
    n = initial_firms(P)
    W[L.W_NEXT_FIRM_ID] = n
    for s in range(L.N_SECTORS):
        W[L.W_AWARE_MUL + s] = 1.0  # firms hold their awareness as drawn: the identity map
    for f in range(n):
        W[L.W_SECTOR_START + int(F[f, L.F_SECTOR]) + 1] += 1.0
    for s in range(L.N_SECTORS):
        W[L.W_SECTOR_START + s + 1] += W[L.W_SECTOR_START + s]
    refresh_awareness(F, W)
