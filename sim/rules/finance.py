"""Money for industrialisation: own funds, guarantee loans, IP pledges, venture money."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from sim import layout as L
from sim import streams as S
from sim.rng import Word, draw, exponential, lognormal
from sim.rules.common import end_offer, year_of
from sim.rules.pidx import (
    FIN_RETRY,
    FIN_SD,
    FIN_WAIT,
    GUAR,
    HT_PRIOR,
    INVEST,
    INVEST_SD,
    IPLOAN,
    OWN,
    ROUNDS,
    VENTURE,
)


@nb.njit(cache=True, inline="always")
def seek_finance(P: np.ndarray, F: np.ndarray, O: np.ndarray, R: np.ndarray, i: int, t: float, n_years: int,
                 rk: Word) -> tuple[bool, float]:
    """The firm looks for the money to produce: returns (financed, search time in years).

    Own funds first (liquid firms), then in each round a guarantee loan (needs
    collateral), an IP-pledge loan (needs a patent) and venture money
    (high-tech firms), each with its own wait and approval; a round refused
    everywhere is followed by a pause and another round, up to
    ``finance.rounds``. Terms are set by the firm's status when the search
    starts.
    """
    y = year_of(t, n_years)
    key = int(O[i, L.O_KEY])
    f = int(O[i, L.O_FIRM])
    O[i, L.O_STAGE] = L.ST_FINANCE
    O[i, L.O_INVEST] = O[i, L.O_VALUE] * lognormal(draw(rk, S.D_INVEST, key, 0), P[INVEST, y],
                                                   P[INVEST_SD, y])
    if F[f, L.F_LIQUID] > 0.0 and draw(rk, S.D_OWN_FUNDS, key, 0) < P[OWN, y]:
        return True, 0.0
    ht = P[HT_PRIOR, y] if F[f, L.F_HIGHTECH] > 0.0 else 0.0
    wait = 0.0
    rounds = int(P[ROUNDS, y])
    for r in range(rounds):
        for src in range(3):
            if src == 0:
                if F[f, L.F_COLLATERAL] <= 0.0:
                    continue
                p = P[GUAR, y] + ht
            elif src == 1:
                if O[i, L.O_PATENT] <= 0.0:
                    continue
                p = P[IPLOAN, y] + ht
            else:
                if F[f, L.F_HIGHTECH] <= 0.0:
                    continue
                p = P[VENTURE, y]
            occ = 4 * r + src
            wait += lognormal(draw(rk, S.D_FIN_WAIT, key, occ), P[FIN_WAIT, y], P[FIN_SD, y])
            if draw(rk, S.D_FIN_APPROVE, key, occ) < p:
                R[L.R_M_LOANS, y] += O[i, L.O_INVEST] if src < 2 else 0.0
                return True, wait
        if r + 1 < rounds:
            wait += exponential(draw(rk, S.D_FIN_RETRY, key, r), math.log(2.0) / P[FIN_RETRY, y])
    return False, wait


@nb.njit(cache=True, inline="always")
def finance_outcome(O: np.ndarray, R: np.ndarray, i: int, t: float, t_start: float, ok: bool,
                    n_years: int) -> None:
    """Record the end of the search for money started at ``t_start``.

    If the firm exited during the search, the project ends: refused, here (reason *firm exit*); granted,
    nothing is lent or invested and the ramp-up (of length 0, :func:`sim.rules.industry.rampup_time`)
    ends it at once — the engines follow ``ok``, so the end is one step later at the same time.
    """
    y = year_of(t, n_years)
    R[L.R_WAIT_FINANCE, y] += t - t_start
    R[L.R_N_FINANCE, y] += 1.0
    if O[i, L.O_FIRM_GONE] > 0.0:
        if not ok:
            end_offer(O, R, i, t, L.RE_FIRM_EXIT, n_years)
        return
    if ok:
        O[i, L.O_T_FINANCED] = t
        O[i, L.O_STAGE] = L.ST_RAMPUP
        R[L.R_FINANCED, y] += 1.0
        R[L.R_M_FIRM_RD, y] += O[i, L.O_INVEST]
    else:
        end_offer(O, R, i, t, L.RE_NO_FINANCE, n_years)
