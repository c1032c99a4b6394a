"""The pilot test (中试): in-house, at a public base or outside; cost, finance gate, success."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from sim import layout as L
from sim import streams as S
from sim.rng import Word, draw, lognormal
from sim.rules.common import end_offer, firm_gone, sigmoid, year_of
from sim.rules.pidx import (
    COST_MULT,
    COST_SD,
    FIN_ELAST,
    FIN_REF,
    INHOUSE,
    INSURANCE,
    MATCHING,
    OUT_COST,
    OUT_DUR,
    PILOT_FIN,
    PILOT_MED,
    PILOT_OK,
    PILOT_QCAP,
    PILOT_SD,
    PILOT_TAL,
    PUB_COST,
    PUB_UP,
    SLOTS,
    TRL_READY,
    TRL_UP,
)


@nb.njit(cache=True, inline="always")
def public_capacity(P: np.ndarray, y: int) -> int:
    """Pilot-test slots at public bases in year ``y``."""
    return int(math.floor(P[SLOTS, y]))


@nb.njit(cache=True, inline="always")
def pilot_finance_prob(P: np.ndarray, y: int, own_cost: float) -> float:
    """Chance that a firm without own funds finds the money for a pilot costing it ``own_cost`` yuan.

    ``pilot.finance_prob`` at the reference cost; the odds fall in proportion to
    (own cost / reference)^elasticity, so a cheaper pilot (a public base, matching
    funds, a subsidy received) passes more often and a free one always. Conversion
    financing insurance then brings a share of the refused through (三(五)二).
    """
    p0 = P[PILOT_FIN, y]
    if own_cost <= 0.0 or p0 >= 1.0:
        p = 1.0
    elif p0 <= 0.0:
        p = 0.0
    else:
        x = math.log(p0 / (1.0 - p0)) - P[FIN_ELAST, y] * math.log(own_cost / P[FIN_REF, y])
        p = sigmoid(x)
    return p + (1.0 - p) * P[INSURANCE, y]


@nb.njit(cache=True, inline="always")
def choose_pilot(P: np.ndarray, F: np.ndarray, O: np.ndarray, W: np.ndarray, R: np.ndarray, i: int, t: float,
                 n_years: int, free: bool, queue_len: int, rk: Word) -> int:
    """Does the result need a pilot test, and where? Returns a route, or -1 if abandoned.

    Mature results (TRL ≥ ``pilot.trl_ready``) skip the pilot. Firms with a working
    R&D institution and a technical team may test in-house; otherwise a public base
    if it has room (a free slot or a short queue), else an outside base. The
    route sets the cost (public bases share equipment; outside ones are dearer).
    At a public base the city fund pays matching funds (配套资金, 三(五)一) of
    ``subsidy.pilot_matching_share`` of the cost while it holds them. A firm
    without own funds then passes the finance gate with a probability that falls
    with the cost it bears: the pilot's cost less the matching funds and the
    conversion subsidy it received (city and county, 一(一)2).
    """
    y = year_of(t, n_years)
    key = int(O[i, L.O_KEY])
    f = int(O[i, L.O_FIRM])
    if O[i, L.O_TRL] >= P[TRL_READY, y]:
        O[i, L.O_ROUTE] = L.PR_NONE
        return L.PR_NONE
    if F[f, L.F_RD_WORKING] > 0.0 and F[f, L.F_TALENT] > 0.0 and draw(rk, S.D_PILOT_INHOUSE, key, 0) < \
            P[INHOUSE, y]:
        route = L.PR_INHOUSE
        factor = 1.0
    elif public_capacity(P, y) > 0 and (free or queue_len < P[PILOT_QCAP, y]):
        route = L.PR_PUBLIC
        factor = P[PUB_COST, y]
    else:
        if public_capacity(P, y) > 0:
            R[L.R_BALK_PILOT, y] += 1.0
        route = L.PR_OUTSIDE
        factor = P[OUT_COST, y]
    cost = O[i, L.O_VALUE] * factor * lognormal(draw(rk, S.D_PILOT_COST, key, 0), P[COST_MULT, y],
                                                P[COST_SD, y])
    matching = 0.0
    if route == L.PR_PUBLIC and P[MATCHING, y] > 0.0 and W[L.W_FUND] >= P[MATCHING, y] * cost:
        matching = P[MATCHING, y] * cost
    if F[f, L.F_LIQUID] <= 0.0:
        own = cost - matching - O[i, L.O_SUBSIDY]
        if draw(rk, S.D_PILOT_FINANCE, key, 0) >= pilot_finance_prob(P, y, own):
            end_offer(O, R, i, t, L.RE_PILOT_NO_FINANCE, n_years)
            return -1
    if matching > 0.0:
        W[L.W_FUND] -= matching
        R[L.R_M_MATCHING, y] += matching
    O[i, L.O_ROUTE] = route
    O[i, L.O_PILOT_COST] = cost
    R[L.R_PILOTS + route - 1, y] += 1.0
    R[L.R_M_PILOT_COST, y] += cost
    R[L.R_M_FIRM_RD, y] += cost
    return route


@nb.njit(cache=True, inline="always")
def pilot_time(P: np.ndarray, O: np.ndarray, i: int, t: float, n_years: int, rk: Word) -> float:
    """Duration of the pilot test once it starts."""
    y = year_of(t, n_years)
    d = lognormal(draw(rk, S.D_PILOT_TIME, int(O[i, L.O_KEY]), 0), P[PILOT_MED, y], P[PILOT_SD, y])
    if int(O[i, L.O_ROUTE]) == L.PR_OUTSIDE:
        d *= P[OUT_DUR, y]
    return d


@nb.njit(cache=True, inline="always")
def decide_pilot(P: np.ndarray, F: np.ndarray, O: np.ndarray, R: np.ndarray, i: int, t: float, n_years: int,
                 rk: Word) -> int:
    """The pilot ends: success (1) or failure (0, the offer is closed); a firm that exited ends it (0)."""
    if firm_gone(O, R, i, t, n_years):
        return 0
    y = year_of(t, n_years)
    f = int(O[i, L.O_FIRM])
    talent = F[f, L.F_TALENT] > 0.0 or F[f, L.F_VP_UNTIL] > t
    p = P[PILOT_OK, y] + P[TRL_UP, y] * (O[i, L.O_TRL] - 3.0)
    if int(O[i, L.O_ROUTE]) == L.PR_PUBLIC:
        p += P[PUB_UP, y]
    if talent:
        p += P[PILOT_TAL, y]
    O[i, L.O_T_PILOT_END] = t
    if draw(rk, S.D_PILOT_SUCCESS, int(O[i, L.O_KEY]), 0) >= p:
        end_offer(O, R, i, t, L.RE_PILOT_FAILED, n_years)
        return 0
    R[L.R_PILOT_OK, y] += 1.0
    O[i, L.O_STAGE] = L.ST_FINANCE
    return 1
