"""Meetings (对接): brokers, the congestion-aware matching function, the firm met."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from sim import layout as L
from sim import streams as S
from sim.rng import Word, draw, exponential, lognormal
from sim.rules.common import end_offer, mapped, sector_rows, year_of
from sim.rules.firms import capacity_factor, capacity_factor_max, project_slots
from sim.rules.pidx import (
    ALPHA,
    ATTEMPTS,
    BROKER_QCAP,
    BROKERS,
    MU_ALONE,
    MU_BROKER,
    MU_EVENT,
    RETRY_MED,
    SEARCH_MED,
    SEARCH_SD,
)


@nb.njit(cache=True, inline="always")
def open_search(O: np.ndarray, W: np.ndarray, i: int) -> None:
    """The offer joins its sector's pool of results looking for a firm (supply S)."""
    W[L.W_OPEN + int(O[i, L.O_SECTOR])] += 1.0


@nb.njit(cache=True)
def broker_capacity(P: np.ndarray, y: int) -> int:
    """Brokers at work in year ``y``."""
    return int(math.floor(P[BROKERS, y]))


@nb.njit(cache=True, inline="always")
def broker_mode(P: np.ndarray, R: np.ndarray, t: float, n_years: int, free: bool, queue_len: int) -> int:
    """A result goes to a broker unless every broker is busy and the queue is full (then unassisted).

    A result turned away from existing brokers is counted (``R_BALK_BROKER``).
    """
    y = year_of(t, n_years)
    if P[BROKERS, y] < 1.0:
        return L.MM_UNASSISTED
    if free or queue_len < P[BROKER_QCAP, y]:
        return L.MM_BROKER
    R[L.R_BALK_BROKER, y] += 1.0
    return L.MM_UNASSISTED


@nb.njit(cache=True, inline="always")
def search_time(P: np.ndarray, O: np.ndarray, i: int, t: float, n_years: int, rk: Word) -> float:
    """How long a broker (or the result's owner alone) searches for a firm."""
    y = year_of(t, n_years)
    u = draw(rk, S.D_SEARCH_TIME, int(O[i, L.O_KEY]), int(O[i, L.O_ATTEMPT]))
    return lognormal(u, P[SEARCH_MED, y], P[SEARCH_SD, y])


@nb.njit(cache=True, inline="always")
def retry_gap(P: np.ndarray, O: np.ndarray, i: int, t: float, n_years: int, rk: Word) -> float:
    """Wait before a result not met is offered again."""
    y = year_of(t, n_years)
    u = draw(rk, S.D_RETRY_GAP, int(O[i, L.O_KEY]), int(O[i, L.O_ATTEMPT]))
    return exponential(u, 1.0 / P[RETRY_MED, y] * math.log(2.0))


@nb.njit(cache=True, inline="always")
def pick_firm(P: np.ndarray, F: np.ndarray, W: np.ndarray, s: int, y: int, t: float, rk: Word, key: int,
              att: int) -> int:
    """The firm of sector ``s`` met: drawn with probability proportional to awareness × capacity factor.

    The capacity factor (firms.py:capacity_factor) is 1 plus a weight for a working R&D institution, a
    technical team and a vice-president in post: at equal awareness the firm that can absorb a result is
    the likelier one to be found (the report's bottleneck). Rejection sampling: a firm of the sector is
    proposed uniformly and accepted with probability weight / (the sector's highest awareness × the
    largest capacity factor), a bound on every firm's weight; each try has its own keyed pair of draws.
    Exact, and O(1) expected work however many firms the sector has (the acceptance rate falls at most by
    the largest factor, a constant). After 10,000 rejected tries (practically never) the first aware firm
    is taken.
    """
    lo, hi = sector_rows(W, s)
    top = W[L.W_AWARE_MAX + s] * capacity_factor_max(P, y)
    if hi <= lo or top <= 0.0:
        return -1
    n = hi - lo
    base = att * 100000
    mul = W[L.W_AWARE_MUL + s]  # every firm proposed is of sector s: its map is read once
    add = W[L.W_AWARE_ADD + s]
    for k in range(10000):
        f = lo + min(int(draw(rk, S.D_FIRM_PICK, key, base + 2 * k) * n), n - 1)
        weight = mapped(mul, add, F[f, L.F_AWARE]) * capacity_factor(P, F, f, y, t)
        if draw(rk, S.D_FIRM_PICK, key, base + 2 * k + 1) * top < weight:
            return f
    for f in range(lo, hi):
        if mapped(mul, add, F[f, L.F_AWARE]) > 0.0:
            return f
    return -1


@nb.njit(cache=True, inline="always")
def decide_meeting(P: np.ndarray, F: np.ndarray, O: np.ndarray, W: np.ndarray, R: np.ndarray, i: int,
                   t: float, mode: int, n_years: int, rk: Word) -> int:
    """Does the result meet a firm? Matching M = μ·D^α·S^(1−α) with congestion.

    D is the sector's summed awareness, S the results of the sector now
    searching; the chance for one result is M/S = μ·(D/S)^α. A demand-led
    result (developed to answer a firm's need) always meets. The firm met is
    drawn in proportion to awareness × capacity (:func:`pick_firm`); a firm
    that already carries as many projects as it can (firms.py:project_slots)
    turns the result away and the meeting fails (``R_FIRM_FULL``). Returns 1
    if met (firm stored, its project count raised), else 0.
    """
    y = year_of(t, n_years)
    s = int(O[i, L.O_SECTOR])
    key = int(O[i, L.O_KEY])
    att = int(O[i, L.O_ATTEMPT])
    supply = max(W[L.W_OPEN + s], 1.0)
    demand = W[L.W_AWARE_SUM + s]
    W[L.W_OPEN + s] -= 1.0
    if mode == L.MM_EVENT:
        mu = P[MU_EVENT, y]
    elif mode == L.MM_BROKER:
        mu = P[MU_BROKER, y]
    else:
        mu = P[MU_ALONE, y]
    p = mu * (demand / supply) ** P[ALPHA, y] if demand > 0.0 else 0.0
    if O[i, L.O_DEMAND_LED] > 0.0 and demand > 0.0:
        p = 1.0  # a result developed to a firm's stated need: the asking firm is known (企业出题、高校答题)
    O[i, L.O_ATTEMPT] = att + 1
    if draw(rk, S.D_MEET, key, att) >= p:
        return 0
    firm = pick_firm(P, F, W, s, y, t, rk, key, att)
    if firm >= 0 and F[firm, L.F_PROJECTS] >= project_slots(P, F, firm, y):
        # The firm the search found carries all the projects it can: it turns the result away and the meeting
        # fails (the result tries again after a pause, an attempt used). It does not pass to another firm: a
        # search finds one interested firm (the matching function's meeting), and a full firm is the
        # absorptive-capacity bottleneck the report names, not a queue the broker can route around.
        R[L.R_FIRM_FULL, y] += 1.0
        return 0
    O[i, L.O_FIRM] = firm
    O[i, L.O_FIRM_ID] = F[firm, L.F_ID] if firm >= 0 else -1.0
    O[i, L.O_NEXT_LIVE] = W[L.W_LIVE_HEAD]  # on the list of projects whose firm the year's end keeps track of
    W[L.W_LIVE_HEAD] = i + 1
    O[i, L.O_T_MEET] = t
    O[i, L.O_STAGE] = L.ST_NEGOTIATION
    if firm >= 0:
        F[firm, L.F_PROJECTS] += 1.0
    R[L.R_MEETINGS, y] += 1.0
    if mode == L.MM_EVENT:
        R[L.R_MEETINGS_EVENT, y] += 1.0
    return 1


@nb.njit(cache=True, inline="always")
def meeting_exhausted(P: np.ndarray, O: np.ndarray, R: np.ndarray, i: int, t: float, n_years: int) -> bool:
    """After a failed meeting: True (and the offer ends as no-match) if no attempt is left."""
    y = year_of(t, n_years)
    if O[i, L.O_ATTEMPT] >= P[ATTEMPTS, y]:
        end_offer(O, R, i, t, L.RE_NO_MATCH, n_years)
        return True
    return False
