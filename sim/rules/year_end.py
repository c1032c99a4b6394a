"""The year's end: awards, high-tech certification, talent, platforms, publicity, the fund."""

from __future__ import annotations

import numba as nb
import numpy as np

from sim import layout as L
from sim import streams as S
from sim.rng import poisson, uniform
from sim.rules.common import encourage_sector, refresh_awareness
from sim.rules.meeting import broker_capacity
from sim.rules.pidx import (
    AWARD_YUAN,
    AWARDS,
    COMMISSIONERS,
    DELIST,
    FUND,
    HT_APPLY,
    HT_APPROVE,
    HT_REWARD,
    IDLE,
    INFLOW,
    OTHER,
    PUBLICITY,
    RD_ADOPT,
    TURNOVER,
    VP_RATE,
    VP_TENURE,
)
from sim.rules.pilot import public_capacity


@nb.njit(cache=True)
def year_end(P: np.ndarray, F: np.ndarray, W: np.ndarray, R: np.ndarray, k: int, n_years: int, seed: int,
             rep: int) -> None:
    """31 December of year ``k − 1`` (time ``t = k``), in this fixed order:

    1. industrialisation awards (up to ``awards_per_year`` of the year's
       successes, while the fund lasts); 2. high-tech applications, approvals and
       rewards; 3. talent turnover and inflow, new vice-president placements;
    4. new R&D institutions and delisting of idle ones; 5. publicity raises
    awareness; 6. other technology contracts; 7. stocks are recorded; 8. the
    fund's remainder is recorded and the next year's fund is put in.
    """
    y = k - 1
    t = float(k)
    n = F.shape[0]
    # 1. awards
    n_awards = min(int(P[AWARDS, y]), int(W[L.W_IND_THIS_YEAR]))
    for _ in range(n_awards):
        if W[L.W_FUND] >= P[AWARD_YUAN, y]:
            W[L.W_FUND] -= P[AWARD_YUAN, y]
            R[L.R_AWARDS, y] += 1.0
            R[L.R_M_AWARDS, y] += P[AWARD_YUAN, y]
    W[L.W_IND_THIS_YEAR] = 0.0
    # 2. high-tech certification
    for f in range(n):
        if F[f, L.F_HIGHTECH] <= 0.0 and (F[f, L.F_RD] > 0.0 or F[f, L.F_TALENT] > 0.0):
            if uniform(seed, rep, S.D_HT_APPLY, f, y) < P[HT_APPLY, y]:
                R[L.R_HT_APPLIED, y] += 1.0
                if uniform(seed, rep, S.D_HT_APPROVE, f, y) < P[HT_APPROVE, y]:
                    F[f, L.F_HIGHTECH] = 1.0
                    R[L.R_HT_NEW, y] += 1.0
                    if W[L.W_FUND] >= P[HT_REWARD, y]:
                        W[L.W_FUND] -= P[HT_REWARD, y]
                        R[L.R_M_HIGHTECH, y] += P[HT_REWARD, y]
    # 3. talent
    for f in range(n):
        if F[f, L.F_TALENT] > 0.0:
            if uniform(seed, rep, S.D_TURNOVER, f, y) < P[TURNOVER, y]:
                F[f, L.F_TALENT] = 0.0
        elif uniform(seed, rep, S.D_INFLOW, f, y) < P[INFLOW, y]:
            F[f, L.F_TALENT] = 1.0
    n_vp = poisson(uniform(seed, rep, S.D_VP_COUNT, 0, y), P[VP_RATE, y])
    for j in range(n_vp):
        f = min(int(uniform(seed, rep, S.D_VP_FIRM, y * 100000 + j, 0) * n), n - 1)
        F[f, L.F_VP_UNTIL] = t + P[VP_TENURE, y]
    # 4. platforms
    for f in range(n):
        if F[f, L.F_RD] > 0.0:
            if t - F[f, L.F_LAST_USE] > P[IDLE, y] and uniform(seed, rep, S.D_DELIST, f, y) < P[DELIST, y]:
                F[f, L.F_RD] = 0.0
                R[L.R_DELISTED, y] += 1.0
        elif uniform(seed, rep, S.D_RD_ADOPT, f, y) < P[RD_ADOPT, y]:
            F[f, L.F_RD] = 1.0
            F[f, L.F_LAST_USE] = t
    # 5. publicity
    pub = P[PUBLICITY, y]
    if pub > 0.0:
        for s in range(L.N_SECTORS):
            encourage_sector(F, W, s, pub)
    refresh_awareness(F, W)  # the year's feedbacks written into the firms; sums and maxima exact again
    # 6. contracts of other kinds (not from outside research results)
    R[L.R_OTHER_CONTRACTS, y] += poisson(uniform(seed, rep, S.D_OTHER_CONTRACTS, 0, y), P[OTHER, y])
    # 7. stocks
    aware = 0.0
    for f in range(n):
        R[L.R_HT_STOCK, y] += F[f, L.F_HIGHTECH]
        R[L.R_FIRMS_RD, y] += F[f, L.F_RD]
        R[L.R_FIRMS_TALENT, y] += F[f, L.F_TALENT]
        R[L.R_FIRMS_VP, y] += 1.0 if F[f, L.F_VP_UNTIL] > t else 0.0
        aware += F[f, L.F_AWARE]
    R[L.R_AWARENESS, y] = aware / n
    R[L.R_COMMISSIONERS, y] = P[COMMISSIONERS, y]
    R[L.R_BROKER_CAP, y] = broker_capacity(P, y)
    R[L.R_PILOT_CAP, y] = public_capacity(P, y)
    # 8. the fund
    R[L.R_M_FUND_LEFT, y] = W[L.W_FUND]
    W[L.W_FUND] -= W[L.W_FUND]
    if k < n_years:
        W[L.W_FUND] += P[FUND, k]


@nb.njit(cache=True)
def finalise(O: np.ndarray, W: np.ndarray, R: np.ndarray, n_years: int) -> None:
    """At the horizon, count the offers still in the pipeline by stage."""
    last = n_years - 1
    for i in range(int(W[L.W_N_OFFERS])):
        if int(O[i, L.O_STAGE]) != L.ST_DONE:
            R[L.R_TERM + L.RE_NONE, last] += 1.0
            R[L.R_WIP + int(O[i, L.O_STAGE]), last] += 1.0
