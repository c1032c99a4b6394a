"""The year's end: awards, high-tech certification, talent, platforms, publicity, the fund."""

from __future__ import annotations

import numba as nb
import numpy as np

from sim import layout as L
from sim import streams as S
from sim.rng import Word, draw, poisson
from sim.rules.common import encourage_sector, end_offer, mapped, sector_rows, year_of
from sim.rules.firms import count_projects, project_slots, rd_working
from sim.rules.meeting import broker_capacity
from sim.rules.pidx import (
    ABS_FADE,
    ABS_REVIEW_HALF,
    ABS_REVIEW_TEAM,
    ABS_REVIEW_VP,
    ABS_REVIEW_YUAN,
    ABS_VP_NO_TEAM,
    ABS_VP_RESULT,
    AWARD_YUAN,
    AWARDS,
    COMMISSIONERS,
    FUND,
    HT_APPLY,
    HT_APPROVE,
    HT_REAPPLY,
    HT_RENEW,
    HT_REWARD,
    HT_VALID,
    IDLE,
    INFLOW,
    OTHER,
    PUBLICITY,
    RD_ADOPT,
    REVIEW,
    REVIEW_UP,
    SUPPORT,
    TURNOVER,
    VISIT_YEARS,
    VISITS,
    VP_PROBLEM,
    VP_RATE,
    VP_TARGET,
    VP_TENURE,
    VP_TRAIN,
)
from sim.rules.pilot import public_capacity
from sim.rules.population import firm_population
from sim.rules.sample import chosen
from sim.rules.supply import create_offer, offer_key

_HT, _LEAVE, _JOIN, _DELIST, _ADOPT, _SUPPORT = range(6)  # the year's candidate lists (_DELIST: idle, reviewed)


@nb.njit(cache=True)
def place_vice_president(P: np.ndarray, F: np.ndarray, W: np.ndarray, R: np.ndarray, y: int, t: float, j: int,
                         rk: Word) -> int:
    """The firm where placement ``j`` of year ``y`` goes (科技副总, report 三(三)三).

    Where the report says: a share ``talent.vp_targeting`` of placements is oriented to solving a firm's
    technical problem (以解决企业技术难题为导向): a firm that signed a contract within
    ``talent.vp_problem_years`` (it has a result to absorb). Of the others, a share ``absorb.vp_to_no_team``
    goes to a firm without a technical team (the plan sends experts to firms short of technical staff), the
    rest to a firm at random. A wanted firm is found by proposing firms at random (keyed draws) and accepting
    the first that fits (50 tries, then the last proposed).
    """
    n = int(W[L.W_SECTOR_START + L.N_SECTORS])
    pk = y * 100000 + j
    f = min(int(draw(rk, S.D_VP_FIRM, pk, 0) * n), n - 1)
    if P[VP_TARGET, y] > 0.0 and draw(rk, S.D_VP_PROBLEM, pk, 0) < P[VP_TARGET, y]:
        for k in range(50):
            g = f if k == 0 else min(int(draw(rk, S.D_VP_PROBLEM, pk, k) * n), n - 1)
            if F[g, L.F_LAST_USE] > 0.0 and t - F[g, L.F_LAST_USE] <= P[VP_PROBLEM, y]:
                R[L.R_VP_ON_PROBLEM, y] += 1.0
                return g
            f = g
        return f
    if P[ABS_VP_NO_TEAM, y] > 0.0 and draw(rk, S.D_VP_NEED, pk, 0) < P[ABS_VP_NO_TEAM, y]:
        for k in range(50):
            g = f if k == 0 else min(int(draw(rk, S.D_VP_FIRM, pk, k) * n), n - 1)
            if F[g, L.F_TALENT] <= 0.0:
                R[L.R_VP_ON_NO_TEAM, y] += 1.0
                return g
            f = g
    return f


@nb.njit(cache=True)
def vp_offer_key(y: int, j: int) -> int:
    """Key of the result placement ``j`` of year ``y`` brings: the university channel's keys above its arrivals'."""
    return offer_key(L.CH_WORKSTATION, (1 << 29) + y * L.MAX_VP_RESULTS + j)


@nb.njit(cache=True)
def vp_brings_result(P: np.ndarray, F: np.ndarray, O: np.ndarray, W: np.ndarray, R: np.ndarray, f: int, y: int,
                     j: int, t: float, n_years: int, rk: Word) -> int:
    """A placed vice-president may bring a result of their university to host firm ``f`` (report 三(三)三).

    With ``absorb.vp_result_prob`` (a keyed draw per placement; only the first ``MAX_VP_RESULTS`` placements
    of a year) a result of the university channel (workstations) arrives now, in the host's sector and
    demand-led (it answers the host's need: fit 1 at the contract), and meets the host directly: no search,
    no broker. A host already carrying all the projects it can turns it away (the offer ends as no match,
    counted in ``meetings_turned_away_firm_full``). The offer, its meeting and these counts fall in the year
    that begins (the result arrives on 1 January, ``t``). Returns the offer's row if it met the host, else −1;
    the engine then starts its negotiation.
    """
    if j >= L.MAX_VP_RESULTS or draw(rk, S.D_VP_RESULT, y * 100000 + j, 0) >= P[ABS_VP_RESULT, y]:
        return -1
    i = create_offer(P, O, W, R, vp_offer_key(y, j), L.CH_WORKSTATION, t, n_years, rk)
    yr = year_of(t, n_years)  # it arrives on 1 January: counted in the new year, as its offer is
    O[i, L.O_SECTOR] = F[f, L.F_SECTOR]
    O[i, L.O_DEMAND_LED] = 1.0
    R[L.R_VP_RESULTS, yr] += 1.0
    if F[f, L.F_PROJECTS] >= project_slots(P, F, f, yr):
        R[L.R_FIRM_FULL, yr] += 1.0
        end_offer(O, R, i, t, L.RE_NO_MATCH, n_years)
        return -1
    O[i, L.O_FIRM] = f
    O[i, L.O_FIRM_ID] = F[f, L.F_ID]
    O[i, L.O_NEXT_LIVE] = W[L.W_LIVE_HEAD]  # on the list of projects under way, as at any meeting
    W[L.W_LIVE_HEAD] = i + 1
    O[i, L.O_T_MEET] = t
    O[i, L.O_STAGE] = L.ST_NEGOTIATION
    O[i, L.O_ATTEMPT] = 1.0
    F[f, L.F_PROJECTS] += 1.0
    R[L.R_MEETINGS, yr] += 1.0
    return i


@nb.njit(cache=True)
def visit_count(P: np.ndarray, y: int) -> int:
    """The exchange visits made at the end of year ``y``: ``contract.visits_per_year`` rounded to whole visits."""
    return int(P[VISITS, y] + 0.5)


@nb.njit(cache=True)
def exchange_visits(P: np.ndarray, F: np.ndarray, W: np.ndarray, R: np.ndarray, y: int, t: float, rk: Word) -> None:
    """Exchange visits between universities and firms (组织高校院所与企业实地参观交流, report 三(一)二).

    :func:`visit_count` visits at the end of year ``y`` (time ``t``), each to a different firm above designated
    size alive then, drawn uniformly: the city organises visits with the firms on its list of firms above
    designated size (the measure's cost and its ceiling are counted per such firm), not by their awareness. The
    ``j``-th visit's firm is the ``j``-th pick of a keyed partial Fisher–Yates shuffle of those firms in row order
    (``D_VISIT``, entity ``j``, occurrence ``y``); with more visits than firms every firm is visited once. A
    visited firm's need is known for ``contract.visit_known_years`` from ``t`` (a later visit extends it, never
    shortens it): a negotiation with it that ends before then fits a known need
    (:func:`sim.rules.contract.decide_contract`).
    """
    n = int(W[L.W_SECTOR_START + L.N_SECTORS])
    cand = np.empty(max(n, 1), dtype=np.int64)
    m = 0
    for f in range(n):  # written at the end of the list, counted only if above designated size (no branch)
        cand[m] = f
        m += F[f, L.F_SME] <= 0.0
    until = t + P[VISIT_YEARS, y]
    for j in range(min(visit_count(P, y), m)):
        r = j + min(int(draw(rk, S.D_VISIT, j, y) * (m - j)), m - j - 1)
        f = cand[r]
        cand[r] = cand[j]
        cand[j] = f
        F[f, L.F_VISIT_UNTIL] = max(F[f, L.F_VISIT_UNTIL], until)
        R[L.R_VISITS, y] += 1.0


@nb.njit(cache=True)
def review_chance(P: np.ndarray, F: np.ndarray, f: int, y: int, t: float) -> float:
    """The chance that firm ``f``'s reviewed title-only institution improves (starts to work).

    ``platforms.review_upgrade`` for a firm without a team or a vice-president whose institution has been idle
    just ``platforms.idle_years``; plus ``absorb.review_team_bonus`` with a technical team and
    ``absorb.review_vp_bonus`` with a vice-president in post (at most 1); halved for every
    ``absorb.review_idle_half_life_years`` it has been idle beyond that (an institution long unused is rarely
    revived).
    """
    p = P[REVIEW_UP, y]
    if F[f, L.F_TALENT] > 0.0:
        p += P[ABS_REVIEW_TEAM, y]
    if F[f, L.F_VP_UNTIL] > t:
        p += P[ABS_REVIEW_VP, y]
    over = max(t - F[f, L.F_LAST_USE] - P[IDLE, y], 0.0)
    return min(p, 1.0) * 0.5 ** (over / P[ABS_REVIEW_HALF, y])


@nb.njit(cache=True)
def review_platform(P: np.ndarray, F: np.ndarray, R: np.ndarray, f: int, y: int, t: float, rk: Word) -> None:
    """The performance review of an idle R&D institution, judged on conversion (report 三(二)三).

    将科技成果转化作为重要指标: an institution with no contract for ``platforms.idle_years`` is reviewed
    (with ``platforms.review_prob_idle`` a year, chosen in :func:`year_end`). A working one is kept;
    a title-only one (重申报、轻发展) either improves — its firm invests ``absorb.review_upgrade_yuan``
    in equipment and staff (软硬件投入, counted as the firm's R&D money) and the institution starts to
    work — with :func:`review_chance`, which depends on the firm (its team, a vice-president, how long the
    institution has been idle), or is delisted (及时摘牌). The draw is keyed by the firm's serial number.
    """
    if F[f, L.F_RD_WORKING] > 0.0:
        return
    if draw(rk, S.D_REVIEW, int(F[f, L.F_ID]), y) < review_chance(P, F, f, y, t):
        F[f, L.F_RD_WORKING] = 1.0
        R[L.R_RD_UPGRADED, y] += 1.0
        R[L.R_M_FIRM_RD, y] += P[ABS_REVIEW_YUAN, y]
    else:
        F[f, L.F_RD] = 0.0
        R[L.R_DELISTED, y] += 1.0


@nb.njit(cache=True, inline="always")
def certificate_expires(hightech: float, since: float, t: float, valid_years: float) -> bool:
    """Does a firm's high-tech certificate (``hightech``, dated ``since``) reach its validity at ``t``?

    Scalars only, so that the year end's pass over the firms can test it inline without counting references.
    """
    return (hightech > 0.0) & (t - since >= valid_years)


@nb.njit(cache=True)  # called only for a certificate that expires: the list pass tests that itself
def renew_certificate(P: np.ndarray, F: np.ndarray, R: np.ndarray, f: int, y: int, t: float, rk: Word) -> None:
    """Firm ``f``'s certificate, if it reaches ``hightech.validity_years``, expires; the firm may renew it (重新认定).

    高新技术企业认定管理办法 (国科发火〔2016〕32号): the qualification is valid three years from the
    certificate's date. A firm still eligible (an R&D institution, even title-only, or a team) re-applies
    with ``hightech.reapply_prob`` — a re-application is an application like a first one — and is approved
    with ``hightech.renewal_approval``: a new certificate dated now. Otherwise the firm leaves the stock
    (it may apply again as a new applicant in later years). Draws keyed by the firm's serial number.
    """
    if not certificate_expires(F[f, L.F_HIGHTECH], F[f, L.F_HT_SINCE], t, P[HT_VALID, y]):
        return
    R[L.R_HT_EXPIRED, y] += 1.0
    fid = int(F[f, L.F_ID])
    if (F[f, L.F_RD] > 0.0 or F[f, L.F_TALENT] > 0.0) and draw(rk, S.D_HT_REAPPLY, fid, y) < P[HT_REAPPLY, y]:
        R[L.R_HT_APPLIED, y] += 1.0
        R[L.R_HT_REAPPLIED, y] += 1.0
        if draw(rk, S.D_HT_RENEW, fid, y) < P[HT_RENEW, y]:
            F[f, L.F_HT_SINCE] = t
            R[L.R_HT_RENEWED, y] += 1.0
            return
    F[f, L.F_HIGHTECH] = 0.0


@nb.njit(cache=True)
def year_end(P: np.ndarray, F: np.ndarray, O: np.ndarray, W: np.ndarray, R: np.ndarray, k: int, n_years: int,
             rk: Word) -> None:
    """31 December of year ``k − 1`` (time ``t = k``), in this fixed order:

    1. industrialisation awards (up to ``awards_per_year`` of the year's
       successes, while the fund lasts); 2. the firm population: exits,
       graduation, entries (sim/rules/population.py; the projects of firms that
       exit are marked), every firm's projects under way counted anew;
       3. high-tech certificates that expire and their renewal, then new
       applications, approvals and rewards; 4. talent turnover and
       inflow, new vice-president placements (each may bring a result that
       meets its host: the engine starts its negotiation), exchange visits
       (each pins down one firm's need); 5. R&D institutions: support,
       review on conversion, new ones; 6. publicity raises awareness; 7. other
       technology contracts; 8. awareness not renewed fades, stocks are recorded; 9. the fund's remainder is
       recorded and the next year's fund is put in (MODEL.md 1.3).
    """
    y = k - 1
    t = float(k)
    # 1. awards
    n_awards = min(int(P[AWARDS, y]), int(W[L.W_IND_THIS_YEAR]))
    for _ in range(n_awards):
        if W[L.W_FUND] >= P[AWARD_YUAN, y]:
            W[L.W_FUND] -= P[AWARD_YUAN, y]
            R[L.R_AWARDS, y] += 1.0
            R[L.R_M_AWARDS, y] += P[AWARD_YUAN, y]
    W[L.W_IND_THIS_YEAR] = 0.0
    # 2. firms exit, SMEs graduate, new firms enter: the steps below see the firms alive after it
    firm_population(P, F, O, W, R, y, t, rk)
    count_projects(F, O, W)  # the projects each firm carries into the new year (places freed during the year)
    n = int(W[L.W_SECTOR_START + L.N_SECTORS])
    # Who may change this year, from the states before any change (each firm is considered once
    # per step, as a per-firm coin would): five lists of firm rows, in row order. In the same pass, step 3's
    # certificates that expire and their renewal (after the firm's entries are made: a firm that fails to
    # renew is not a new applicant this year; renewals are keyed by firm, so the pass's order is immaterial).
    # Each firm is written at the end of every list and counted only in those it belongs to: no branch
    # on the firm's (random) state, which the processor could not predict.
    lists = np.empty((6, n), dtype=np.int64)
    n_ht = n_leave = n_join = n_delist = n_adopt = n_support = 0
    idle = P[IDLE, y]
    valid = P[HT_VALID, y]
    for f in range(n):
        rd = F[f, L.F_RD] > 0.0
        talent = F[f, L.F_TALENT] > 0.0
        lists[_HT, n_ht] = f
        n_ht += (F[f, L.F_HIGHTECH] <= 0.0) & (rd | talent)
        lists[_LEAVE, n_leave] = f
        n_leave += talent
        lists[_JOIN, n_join] = f
        n_join += not talent
        lists[_ADOPT, n_adopt] = f
        n_adopt += not rd
        lists[_SUPPORT, n_support] = f
        n_support += rd & (F[f, L.F_RD_WORKING] <= 0.0)
        lists[_DELIST, n_delist] = f
        n_delist += rd & (t - F[f, L.F_LAST_USE] > idle)
        # renew_certificate's own test, made here: an inlined rule that takes arrays makes Numba count
        # references to them on every firm (measured: 8x this pass's time), a call made only when a
        # certificate expires costs nothing the rest of the time
        if certificate_expires(F[f, L.F_HIGHTECH], F[f, L.F_HT_SINCE], t, valid):
            renew_certificate(P, F, R, f, y, t, rk)
    # 3. high-tech certification (the renewals are done, above): new applicants (firms not certified when the
    # lists were made, so not those that just failed to renew) and each one's approval
    for j in range(chosen(lists[_HT], n_ht, P[HT_APPLY, y], rk, S.D_HT_APPLY, y)):
        f = lists[_HT, j]
        R[L.R_HT_APPLIED, y] += 1.0
        if draw(rk, S.D_HT_APPROVE, f, y) < P[HT_APPROVE, y]:
            F[f, L.F_HIGHTECH] = 1.0
            F[f, L.F_HT_SINCE] = t
            R[L.R_HT_NEW, y] += 1.0
            if W[L.W_FUND] >= P[HT_REWARD, y]:
                W[L.W_FUND] -= P[HT_REWARD, y]
                R[L.R_M_HIGHTECH, y] += P[HT_REWARD, y]
    # 4. talent: teams that leave, firms that gain one, vice-president placements
    for j in range(chosen(lists[_LEAVE], n_leave, P[TURNOVER, y], rk, S.D_TURNOVER, y)):
        F[lists[_LEAVE, j], L.F_TALENT] = 0.0
    for j in range(chosen(lists[_JOIN], n_join, P[INFLOW, y], rk, S.D_INFLOW, y)):
        F[lists[_JOIN, j], L.F_TALENT] = 1.0
    if P[VP_TRAIN, y] > 0.0:  # a vice-president placed in the year trains a team (技术指导培训, 三(三)三)
        for f in range(n):
            if ((F[f, L.F_TALENT] <= 0.0) & (F[f, L.F_VP_UNTIL] > t - 1.0)) \
                    and draw(rk, S.D_VP_TRAINING, f, y) < P[VP_TRAIN, y]:  # the first test: one branch, rarely taken
                F[f, L.F_TALENT] = 1.0
    n_vp = poisson(draw(rk, S.D_VP_COUNT, 0, y), P[VP_RATE, y]) if n > 0 else 0
    for j in range(n_vp):
        f = place_vice_president(P, F, W, R, y, t, j, rk)
        F[f, L.F_VP_UNTIL] = t + P[VP_TENURE, y]
        if k < n_years:  # at the horizon nothing is simulated after: no result is brought
            vp_brings_result(P, F, O, W, R, f, y, j, t, n_years, rk)
    # exchange visits pin down the needs of the firms visited (no draw without visits: the baseline is unchanged)
    if visit_count(P, y) > 0:
        exchange_visits(P, F, W, R, y, t, rk)
    # 5. platforms (研发机构)
    # support turns title-only ones into working ones (引导企业加强平台软硬件投入), then the review judged on
    # conversion reaches idle ones (see review_platform), then new ones are founded (title-only or working)
    for j in range(chosen(lists[_SUPPORT], n_support, P[SUPPORT, y], rk, S.D_RD_SUPPORT, y)):
        F[lists[_SUPPORT, j], L.F_RD_WORKING] = 1.0
        R[L.R_RD_UPGRADED, y] += 1.0
    for j in range(chosen(lists[_DELIST], n_delist, P[REVIEW, y], rk, S.D_DELIST, y)):
        review_platform(P, F, R, lists[_DELIST, j], y, t, rk)
    for j in range(chosen(lists[_ADOPT], n_adopt, P[RD_ADOPT, y], rk, S.D_RD_ADOPT, y)):
        f = lists[_ADOPT, j]
        F[f, L.F_RD] = 1.0
        F[f, L.F_RD_WORKING] = rd_working(P, 1.0, rk, f, y + 1, y)
        F[f, L.F_LAST_USE] = t
    # 6. publicity
    pub = P[PUBLICITY, y]
    if pub > 0.0:
        for s in range(L.N_SECTORS):
            encourage_sector(F, W, s, pub)
    # (the year's feedbacks are written into the firms, and the sectors' sums and maxima made exact, in step 8)
    # 7. contracts of other kinds (not from outside research results)
    R[L.R_OTHER_CONTRACTS, y] += poisson(draw(rk, S.D_OTHER_CONTRACTS, 0, y), P[OTHER, y])
    # 8. stocks; in the same pass every sector's pending awareness map is written into its firms and each
    # sector's awareness sum and maximum recomputed (as refresh_awareness does, in the same row order)
    # The firms are stored sector by sector, so each sector's block is summed in locals: the compiler keeps
    # them in registers (W's cells, written once per sector, may alias F's, and a running sum kept there would
    # be stored and loaded again for every firm). Same order of additions as row by row: the same sums.
    # The stocks are summed in locals too (the record's cells for year y are still 0: only this pass writes
    # them; sums of 0s and 1s are exact in any grouping).
    aware = ht = rd_n = working = talent_n = vp = sme_n = 0.0
    fade = P[ABS_FADE, y]
    for s in range(L.N_SECTORS):
        lo, hi = sector_rows(W, s)
        mul = W[L.W_AWARE_MUL + s]
        add = W[L.W_AWARE_ADD + s]
        s_sum = 0.0
        s_max = 0.0
        for f in range(lo, hi):
            a = mapped(mul, add, F[f, L.F_AWARE])  # awareness(F, W, f), the sector's map read once
            # awareness fades toward the firm's own level at founding unless renewed by contact: a contract in
            # the past year or a vice-president in post (publicity renews it by its own push, step 6)
            if (fade > 0.0) & (a > F[f, L.F_AWARE_BASE]) & (t - F[f, L.F_LAST_USE] > 1.0) & (F[f, L.F_VP_UNTIL] <= t):
                a -= fade * (a - F[f, L.F_AWARE_BASE])
            F[f, L.F_AWARE] = a
            s_sum += a
            if a > s_max:
                s_max = a
            ht += F[f, L.F_HIGHTECH]
            rd_n += F[f, L.F_RD]
            working += F[f, L.F_RD_WORKING]
            talent_n += F[f, L.F_TALENT]
            vp += 1.0 if F[f, L.F_VP_UNTIL] > t else 0.0
            sme_n += 1.0 if F[f, L.F_SME] > 0.0 else 0.0
            aware += a
        W[L.W_AWARE_SUM + s] = s_sum
        W[L.W_AWARE_MAX + s] = s_max
    R[L.R_HT_STOCK, y] += ht
    R[L.R_FIRMS_RD, y] += rd_n
    R[L.R_FIRMS_RD_WORKING, y] += working
    R[L.R_FIRMS_TALENT, y] += talent_n
    R[L.R_FIRMS_VP, y] += vp
    R[L.R_FIRMS_ALIVE_SME, y] += sme_n
    R[L.R_FIRMS_ALIVE_ABOVE, y] += n - sme_n
    for s in range(L.N_SECTORS):
        W[L.W_AWARE_MUL + s] = 1.0
        W[L.W_AWARE_ADD + s] = 0.0
    R[L.R_AWARENESS, y] = aware / n if n > 0 else 0.0
    R[L.R_COMMISSIONERS, y] = P[COMMISSIONERS, y]
    R[L.R_BROKER_CAP, y] = broker_capacity(P, y)
    R[L.R_PILOT_CAP, y] = public_capacity(P, y)
    # 9. the fund
    R[L.R_M_FUND_LEFT, y] = W[L.W_FUND]
    W[L.W_FUND] -= W[L.W_FUND]
    if k < n_years:
        W[L.W_FUND] += P[FUND, k]


@nb.njit(cache=True)
def finalise(O: np.ndarray, W: np.ndarray, R: np.ndarray, n_years: int) -> None:
    """At the horizon, count the offers still in the pipeline by stage, and fill the cohort rows."""
    last = n_years - 1
    times = np.empty(len(L.COHORT_OFFER_STAGES))
    for i in range(int(W[L.W_N_OFFERS])):
        if int(O[i, L.O_STAGE]) != L.ST_DONE:
            R[L.R_TERM + L.RE_NONE, last] += 1.0
            R[L.R_WIP + int(O[i, L.O_STAGE]), last] += 1.0
        cohort_record(O, R, i, n_years, times)
    for y in range(n_years):
        R[L.R_COHORT_FOLLOWUP, y] = float(n_years - y)


@nb.njit(cache=True)
def stage_times(O: np.ndarray, i: int, out: np.ndarray) -> None:
    """When offer ``i`` reached each stage of ``L.COHORT_OFFER_STAGES`` (years), −1 if it has not.

    Read from its state, not only its times, since a time of 0 is a real date: it met a firm unless it is
    still waiting to or ended unmatched (a firm's exit ends only a project that met one); it signed if it
    has a contract date (negotiations take time, so never at 0); it passed the pilot stage if its test
    ended without failing (a firm that exited before the test's end ends it before a date is written), or,
    when no test was chosen, if it went on to finance (a mature result skips the test at signing; one
    whose firm could not pay for a test ended before its route was set); it was financed if it has a
    financing date, and industrialised if that is how it ended.
    """
    for s in range(len(L.COHORT_OFFER_STAGES)):
        out[s] = -1.0
    stage = int(O[i, L.O_STAGE])
    reason = int(O[i, L.O_REASON])
    if stage == L.ST_MEETING or (stage == L.ST_DONE and reason == L.RE_NO_MATCH):
        return
    out[0] = O[i, L.O_T_MEET]
    if O[i, L.O_T_CONTRACT] <= 0.0:
        return
    out[1] = O[i, L.O_T_CONTRACT]
    if int(O[i, L.O_ROUTE]) == L.PR_NONE:
        passed = stage == L.ST_FINANCE or stage == L.ST_RAMPUP or (stage == L.ST_DONE
                                                                  and reason != L.RE_PILOT_NO_FINANCE)
        t_pilot = O[i, L.O_T_CONTRACT]
    else:
        passed = O[i, L.O_T_PILOT_END] > 0.0 and reason != L.RE_PILOT_FAILED
        t_pilot = O[i, L.O_T_PILOT_END]
    if not passed:
        return
    out[2] = t_pilot
    if O[i, L.O_T_FINANCED] <= 0.0:
        return
    out[3] = O[i, L.O_T_FINANCED]
    if stage == L.ST_DONE and reason == L.RE_INDUSTRIALISED:
        out[4] = O[i, L.O_T_END]


@nb.njit(cache=True)
def cohort_record(O: np.ndarray, R: np.ndarray, i: int, n_years: int, t: np.ndarray) -> None:
    """Add offer ``i`` to its offer cohort (year of arrival) and, if it signed, to its contract cohort.

    A stage counts toward a k-year row if reached at most k years after entering the cohort, and only in
    cohorts the run follows for k years from the cohort year's end (``n_years − y ≥ k + 1``): a cohort
    followed less long leaves its k-year rows at 0, as ``cohort_followup_years`` tells the reader.
    ``t`` is scratch room for the stage times.
    """
    nk = len(L.COHORT_K)
    span = L.N_COHORT_SPANS
    stage_times(O, i, t)
    t0 = O[i, L.O_T_ARRIVE]
    y = year_of(t0, n_years)
    R[L.R_COH_OFFERS, y] += 1.0
    for s in range(len(L.COHORT_OFFER_STAGES)):
        if t[s] < 0.0:
            break
        for j in range(nk):
            if n_years - y >= L.COHORT_K[j] + 1 and t[s] - t0 <= L.COHORT_K[j]:
                R[L.R_COH_OFFERS_STAGE + span * s + j, y] += 1.0
        R[L.R_COH_OFFERS_STAGE + span * s + nk, y] += 1.0
    last = len(L.COHORT_OFFER_STAGES) - 1
    if t[last] >= 0.0:
        R[L.R_COH_OFFERS_TTP, y] += t[last] - t0
    if t[1] < 0.0:
        return
    t0 = t[1]
    y = year_of(t0, n_years)
    R[L.R_COH_CONTRACTS, y] += 1.0
    first = len(L.COHORT_OFFER_STAGES) - len(L.COHORT_CONTRACT_STAGES)
    for s in range(len(L.COHORT_CONTRACT_STAGES)):
        if t[first + s] < 0.0:
            break
        for j in range(nk):
            if n_years - y >= L.COHORT_K[j] + 1 and t[first + s] - t0 <= L.COHORT_K[j]:
                R[L.R_COH_CONTRACTS_STAGE + span * s + j, y] += 1.0
        R[L.R_COH_CONTRACTS_STAGE + span * s + nk, y] += 1.0
    if t[last] >= 0.0:
        R[L.R_COH_CONTRACTS_TTP, y] += t[last] - t0
