"""The year's end: awards, high-tech certification, talent, platforms, publicity, the fund."""

from __future__ import annotations

import numba as nb
import numpy as np

from sim import layout as L
from sim import streams as S
from sim.rng import poisson, uniform
from sim.rules.common import encourage_sector, refresh_awareness
from sim.rules.firms import rd_working
from sim.rules.meeting import broker_capacity
from sim.rules.pidx import (
    AWARD_YUAN,
    AWARDS,
    COMMISSIONERS,
    FUND,
    HT_APPLY,
    HT_APPROVE,
    HT_REWARD,
    IDLE,
    INFLOW,
    OTHER,
    PUBLICITY,
    RD_ADOPT,
    REVIEW,
    REVIEW_UP,
    SUPPORT,
    TURNOVER,
    VP_PROBLEM,
    VP_RATE,
    VP_TARGET,
    VP_TENURE,
    VP_TRAIN,
)
from sim.rules.pilot import public_capacity


@nb.njit(cache=True)
def place_vice_president(P: np.ndarray, F: np.ndarray, R: np.ndarray, y: int, t: float, j: int, seed: int,
                         rep: int) -> int:
    """The firm where placement ``j`` of year ``y`` goes (科技副总, report 三(三)三).

    A share ``talent.vp_targeting`` of placements is oriented to solving a firm's technical problem
    (以解决企业技术难题为导向): a firm that signed a contract within ``talent.vp_problem_years`` (it has a
    result to absorb), found by proposing firms at random (keyed draws) and accepting the first with such a
    problem (50 tries, then the last proposed). The others go to a firm at random, as today.
    """
    n = F.shape[0]
    f = min(int(uniform(seed, rep, S.D_VP_FIRM, y * 100000 + j, 0) * n), n - 1)
    if P[VP_TARGET, y] <= 0.0 or uniform(seed, rep, S.D_VP_PROBLEM, y * 100000 + j, 0) >= P[VP_TARGET, y]:
        return f
    for k in range(50):
        g = f if k == 0 else min(int(uniform(seed, rep, S.D_VP_PROBLEM, y * 100000 + j, k) * n), n - 1)
        if F[g, L.F_LAST_USE] > 0.0 and t - F[g, L.F_LAST_USE] <= P[VP_PROBLEM, y]:
            R[L.R_VP_ON_PROBLEM, y] += 1.0
            return g
        f = g
    return f


@nb.njit(cache=True)
def review_platform(P: np.ndarray, F: np.ndarray, R: np.ndarray, f: int, y: int, t: float, seed: int,
                    rep: int) -> None:
    """A firm's R&D institution at the year's end (report 三(二)三, both halves).

    Support for the firm's own platform (引导企业加强平台软硬件投入) turns a title-only institution into a
    working one with ``platforms.support_rate``. The performance review, judged on conversion
    (将科技成果转化作为重要指标), reaches an idle institution (no contract for ``platforms.idle_years``)
    with ``platforms.review_prob_idle``: a working one is kept; a title-only one either starts to work —
    its firm invests to keep the title (``platforms.review_upgrade``) — or is delisted (及时摘牌).
    """
    if F[f, L.F_RD_WORKING] <= 0.0 and uniform(seed, rep, S.D_RD_SUPPORT, f, y) < P[SUPPORT, y]:
        F[f, L.F_RD_WORKING] = 1.0
        R[L.R_RD_UPGRADED, y] += 1.0
    if t - F[f, L.F_LAST_USE] > P[IDLE, y] and uniform(seed, rep, S.D_DELIST, f, y) < P[REVIEW, y] \
            and F[f, L.F_RD_WORKING] <= 0.0:
        if uniform(seed, rep, S.D_REVIEW, f, y) < P[REVIEW_UP, y]:
            F[f, L.F_RD_WORKING] = 1.0
            R[L.R_RD_UPGRADED, y] += 1.0
        else:
            F[f, L.F_RD] = 0.0
            R[L.R_DELISTED, y] += 1.0


@nb.njit(cache=True)
def year_end(P: np.ndarray, F: np.ndarray, W: np.ndarray, R: np.ndarray, k: int, n_years: int, seed: int,
             rep: int) -> None:
    """31 December of year ``k − 1`` (time ``t = k``), in this fixed order:

    1. industrialisation awards (up to ``awards_per_year`` of the year's
       successes, while the fund lasts); 2. high-tech applications, approvals and
       rewards; 3. talent turnover and inflow, new vice-president placements;
    4. R&D institutions: support, review on conversion, new ones; 5. publicity raises
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
        elif F[f, L.F_VP_UNTIL] > t - 1.0 and uniform(seed, rep, S.D_VP_TRAINING, f, y) < P[VP_TRAIN, y]:
            F[f, L.F_TALENT] = 1.0  # a vice-president placed this year trained a technical team (技术指导培训)
    n_vp = poisson(uniform(seed, rep, S.D_VP_COUNT, 0, y), P[VP_RATE, y])
    for j in range(n_vp):
        f = place_vice_president(P, F, R, y, t, j, seed, rep)
        F[f, L.F_VP_UNTIL] = t + P[VP_TENURE, y]
    # 4. platforms (研发机构): support, review judged on conversion, new institutions
    for f in range(n):
        if F[f, L.F_RD] > 0.0:
            review_platform(P, F, R, f, y, t, seed, rep)
        elif uniform(seed, rep, S.D_RD_ADOPT, f, y) < P[RD_ADOPT, y]:
            F[f, L.F_RD] = 1.0
            F[f, L.F_RD_WORKING] = rd_working(P, 1.0, seed, rep, f, y + 1, y)
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
        R[L.R_FIRMS_RD_WORKING, y] += F[f, L.F_RD_WORKING]
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
