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
    ABS_SLOTS,
    ABS_SLOTS_RD,
    ABS_SLOTS_TALENT,
    ABS_W_RD,
    ABS_W_TALENT,
    ABS_W_VP,
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
    F[row, L.F_AWARE_BASE] = F[row, L.F_AWARE]
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


# ---- absorptive capacity (吸收能力), the report's bottleneck ---------------------------------------------
# A firm's capacity is what it has to take a result up: a working R&D institution (a title-only one has none,
# 二(二)二), a technical team, a vice-president in post. It shapes whom a result meets (meeting.py:pick_firm)
# and bounds the projects a firm carries at once.


@nb.njit(cache=True, inline="always")
def capacity_factor(P: np.ndarray, F: np.ndarray, f: int, y: int, t: float) -> float:
    """Firm ``f``'s weight beside its awareness when a result meets it: 1 + w_rd + w_talent + w_vp as it has them."""
    c = 1.0
    if F[f, L.F_RD_WORKING] > 0.0:
        c += P[ABS_W_RD, y]
    if F[f, L.F_TALENT] > 0.0:
        c += P[ABS_W_TALENT, y]
    if F[f, L.F_VP_UNTIL] > t:
        c += P[ABS_W_VP, y]
    return c


@nb.njit(cache=True, inline="always")
def capacity_factor_max(P: np.ndarray, y: int) -> float:
    """The largest capacity factor any firm can have in year ``y`` (bounds the rejection sampler)."""
    return 1.0 + P[ABS_W_RD, y] + P[ABS_W_TALENT, y] + P[ABS_W_VP, y]


@nb.njit(cache=True, inline="always")
def project_slots(P: np.ndarray, F: np.ndarray, f: int, y: int) -> float:
    """Projects under way firm ``f`` can carry at once: a base, more with a working R&D institution and a team."""
    n = P[ABS_SLOTS, y]
    if F[f, L.F_RD_WORKING] > 0.0:
        n += P[ABS_SLOTS_RD, y]
    if F[f, L.F_TALENT] > 0.0:
        n += P[ABS_SLOTS_TALENT, y]
    return n


@nb.njit(cache=True)
def count_projects(F: np.ndarray, O: np.ndarray, W: np.ndarray) -> None:
    """Every firm's projects under way (``F_PROJECTS``), counted anew from the list of projects met and not done.

    Called at the year's end after the firm population has moved the projects to their firms' new rows and
    dropped those done or whose firm left (population.py:follow_firms), so the list holds exactly the
    projects under way. During the year a meeting adds one to its firm's count; a project that ends frees
    its place at the next year's end (the firm plans its technical staff for the year). Work grows with the
    projects under way, not with all offers.
    """
    n = int(W[L.W_SECTOR_START + L.N_SECTORS])
    for f in range(n):
        F[f, L.F_PROJECTS] = 0.0
    link = int(W[L.W_LIVE_HEAD])
    for _ in range(int(W[L.W_N_OFFERS])):  # each offer is on the list at most once: a bound, never a loop
        if link <= 0:
            break
        i = link - 1
        link = int(O[i, L.O_NEXT_LIVE])
        f = int(O[i, L.O_FIRM])
        if int(O[i, L.O_STAGE]) != L.ST_DONE and O[i, L.O_FIRM_GONE] <= 0.0 and f >= 0:
            F[f, L.F_PROJECTS] += 1.0
