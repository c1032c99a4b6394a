"""The pilot test (中试): in-house, at a public base or outside; cost, finance gate, success."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from sim import layout as L
from sim import streams as S
from sim.rng import draw, lognormal, rep_key
from sim.rules.common import end_offer, year_of
from sim.rules.pidx import (
    COST_MULT,
    COST_SD,
    INHOUSE,
    INSURANCE,
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


@nb.njit(cache=True)
def public_capacity(P: np.ndarray, y: int) -> int:
    """Pilot-test slots at public bases in year ``y``."""
    return int(math.floor(P[SLOTS, y]))


@nb.njit(cache=True)
def choose_pilot(P: np.ndarray, F: np.ndarray, O: np.ndarray, R: np.ndarray, i: int, t: float,
                 n_years: int, free: bool, queue_len: int, seed: int, rep: int) -> int:
    """Does the result need a pilot test, and where? Returns a route, or -1 if abandoned.

    Mature results (TRL ≥ ``pilot.trl_ready``) skip the pilot. Firms with an R&D
    institution and a technical team may test in-house; otherwise a public base
    if it has room (a free slot or a short queue), else an outside base. A firm
    without own funds passes the finance gate only with some probability.
    """
    rk = rep_key(seed, rep)  # the replication's key, hashed once for all this rule's draws
    y = year_of(t, n_years)
    key = int(O[i, L.O_KEY])
    f = int(O[i, L.O_FIRM])
    if O[i, L.O_TRL] >= P[TRL_READY, y]:
        O[i, L.O_ROUTE] = L.PR_NONE
        return L.PR_NONE
    if F[f, L.F_RD] > 0.0 and F[f, L.F_TALENT] > 0.0 and draw(rk, S.D_PILOT_INHOUSE, key, 0) < \
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
    if F[f, L.F_LIQUID] <= 0.0:
        p_fin = P[PILOT_FIN, y] + (1.0 - P[PILOT_FIN, y]) * P[INSURANCE, y]
        if draw(rk, S.D_PILOT_FINANCE, key, 0) >= p_fin:
            end_offer(O, R, i, t, L.RE_PILOT_NO_FINANCE, n_years)
            return -1
    cost = O[i, L.O_VALUE] * factor * lognormal(draw(rk, S.D_PILOT_COST, key, 0), P[COST_MULT, y],
                                                P[COST_SD, y])
    O[i, L.O_ROUTE] = route
    O[i, L.O_PILOT_COST] = cost
    R[L.R_PILOTS + route - 1, y] += 1.0
    R[L.R_M_PILOT_COST, y] += cost
    R[L.R_M_FIRM_RD, y] += cost
    return route


@nb.njit(cache=True)
def pilot_time(P: np.ndarray, O: np.ndarray, i: int, t: float, n_years: int, seed: int, rep: int) -> float:
    """Duration of the pilot test once it starts."""
    rk = rep_key(seed, rep)  # the replication's key, hashed once for all this rule's draws
    y = year_of(t, n_years)
    d = lognormal(draw(rk, S.D_PILOT_TIME, int(O[i, L.O_KEY]), 0), P[PILOT_MED, y], P[PILOT_SD, y])
    if int(O[i, L.O_ROUTE]) == L.PR_OUTSIDE:
        d *= P[OUT_DUR, y]
    return d


@nb.njit(cache=True)
def decide_pilot(P: np.ndarray, F: np.ndarray, O: np.ndarray, R: np.ndarray, i: int, t: float, n_years: int,
                 seed: int, rep: int) -> int:
    """The pilot ends: success (1) or failure (0, the offer is closed)."""
    rk = rep_key(seed, rep)  # the replication's key, hashed once for all this rule's draws
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
