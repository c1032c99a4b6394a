"""The rulebook: every probability, duration and value draw of the model.

Each rule is a small ``@numba.njit`` function over the shared state arrays
(``sim.layout``) and the per-year parameter table ``P`` (``sim.table``). Both
engines call exactly these functions: the SimPy engine from its processes, the
compiled engine from its event loop. An engine only decides *when* a rule runs
and keeps the queues of scarce resources; *what happens* is decided here.

Conventions: ``t`` is the current time in years since 1 January of the start
year; ``y`` a year index; ``i`` an offer row; ``f`` a firm row. Every random
number comes from :func:`sim.rng.uniform` keyed by a stream of
:mod:`sim.streams`.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from sim import layout as L
from sim import streams as S
from sim.rng import categorical_rows, exponential, lognormal, normal_ppf, poisson, uniform
from sim.table import PIDX

# Parameter rows, frozen into compiled code as constants.
_N_ABOVE = PIDX["firms.n_above_size"]
_SECTOR_SHARE = PIDX["firms.sector_share[0]"]
_COUNTY_SHARE = PIDX["firms.county_share[0]"]
_RD_SHARE = PIDX["firms.rd_institution_share"]
_TALENT_SHARE = PIDX["firms.talent_share"]
_AWARE_MED = PIDX["firms.awareness_median"]
_AWARE_SD = PIDX["firms.awareness_logit_sd"]
_LIQUID = PIDX["firms.liquid_share"]
_COLLATERAL = PIDX["firms.collateral_share"]
_IMITATOR = PIDX["firms.imitator_share"]
_EVENTS = PIDX["supply.events_per_year"]
_PER_EVENT = PIDX["supply.offers_per_event"]
_PLATFORM = PIDX["supply.platform_offers_per_year"]
_WORKST = PIDX["supply.workstations"]
_PER_WORKST = PIDX["supply.offers_per_workstation_year"]
_AGENCIES = PIDX["supply.agencies"]
_PER_AGENCY = PIDX["supply.offers_per_agency_year"]
_PER_COMM = PIDX["supply.offers_per_commissioner_year"]
_INSTITUTES = PIDX["supply.institutes"]
_PER_INST = PIDX["supply.offers_per_institute_year"]
_TRL_SHARE = PIDX["supply.trl_share[0]"]
_INST_TRL = PIDX["supply.institute_trl_bonus"]
_MATURE = PIDX["supply.maturation_share"]
_VALUE_MED = PIDX["supply.value_median_yuan"]
_VALUE_SD = PIDX["supply.value_log_sd"]
_PATENT = PIDX["supply.patent_share"]
_BROKERS = PIDX["meeting.brokers"]
_SEARCH_MED = PIDX["meeting.broker_service_median_years"]
_SEARCH_SD = PIDX["meeting.broker_service_log_sd"]
_BROKER_QCAP = PIDX["meeting.broker_queue_cap"]
_MU_BROKER = PIDX["meeting.efficiency_broker"]
_MU_ALONE = PIDX["meeting.efficiency_unassisted"]
_MU_EVENT = PIDX["meeting.efficiency_event"]
_ALPHA = PIDX["meeting.alpha"]
_ATTEMPTS = PIDX["meeting.attempts"]
_RETRY_MED = PIDX["meeting.retry_median_years"]
_NEGO_MED = PIDX["contract.negotiation_median_years"]
_NEGO_SD = PIDX["contract.negotiation_log_sd"]
_B0 = PIDX["contract.base_logit"]
_B_RD = PIDX["contract.b_rd_institution"]
_B_TALENT = PIDX["contract.b_talent"]
_B_VP = PIDX["contract.b_vice_president"]
_B_EVAL = PIDX["contract.b_evaluation"]
_B_PATENT = PIDX["contract.b_patent"]
_B_VALUE = PIDX["contract.b_value"]
_B_SUBSIDY = PIDX["contract.b_subsidy"]
_EVAL = PIDX["contract.evaluation_level"]
_IMIT_PROB = PIDX["contract.imitation_prob"]
_IP = PIDX["contract.ip_protection"]
_DISCOURAGE = PIDX["contract.imitation_discouragement"]
_FUND = PIDX["subsidy.fund_yuan_per_year"]
_CITY_RATE = PIDX["subsidy.city_rate"]
_COUNTY_RATE = PIDX["subsidy.county_rate"]
_CLAIM = PIDX["subsidy.claim_prob"]
_CAP = PIDX["subsidy.cap_per_project_yuan"]
_AWARDS = PIDX["subsidy.awards_per_year"]
_AWARD_YUAN = PIDX["subsidy.award_yuan"]
_HT_REWARD = PIDX["subsidy.hightech_reward_yuan"]
_TRL_READY = PIDX["pilot.trl_ready"]
_SLOTS = PIDX["pilot.public_slots"]
_PILOT_QCAP = PIDX["pilot.public_queue_cap"]
_INHOUSE = PIDX["pilot.inhouse_prob"]
_PILOT_MED = PIDX["pilot.duration_median_years"]
_PILOT_SD = PIDX["pilot.duration_log_sd"]
_OUT_DUR = PIDX["pilot.outside_duration_factor"]
_COST_MULT = PIDX["pilot.cost_multiple_median"]
_COST_SD = PIDX["pilot.cost_log_sd"]
_PUB_COST = PIDX["pilot.public_cost_factor"]
_OUT_COST = PIDX["pilot.outside_cost_factor"]
_PILOT_FIN = PIDX["pilot.finance_prob"]
_INSURANCE = PIDX["pilot.insurance_share"]
_PILOT_OK = PIDX["pilot.success_base"]
_PUB_UP = PIDX["pilot.public_uplift"]
_PILOT_TAL = PIDX["pilot.talent_uplift"]
_TRL_UP = PIDX["pilot.trl_uplift"]
_INVEST = PIDX["finance.invest_multiple_median"]
_INVEST_SD = PIDX["finance.invest_log_sd"]
_OWN = PIDX["finance.own_funds_prob"]
_GUAR = PIDX["finance.guarantee_approval"]
_IPLOAN = PIDX["finance.ip_pledge_approval"]
_VENTURE = PIDX["finance.venture_prob"]
_HT_PRIOR = PIDX["finance.hightech_priority"]
_FIN_WAIT = PIDX["finance.wait_median_years"]
_FIN_SD = PIDX["finance.wait_log_sd"]
_ROUNDS = PIDX["finance.rounds"]
_FIN_RETRY = PIDX["finance.retry_median_years"]
_RAMP_MED = PIDX["industry.rampup_median_years"]
_RAMP_SD = PIDX["industry.rampup_log_sd"]
_IND_OK = PIDX["industry.success_base"]
_IND_TAL = PIDX["industry.talent_uplift"]
_ROLE = PIDX["industry.role_model_boost"]
_VP_RATE = PIDX["talent.vice_presidents_per_year"]
_VP_TENURE = PIDX["talent.vice_president_tenure_years"]
_TURNOVER = PIDX["talent.turnover"]
_INFLOW = PIDX["talent.inflow"]
_PUBLICITY = PIDX["talent.publicity_rate"]
_RD_ADOPT = PIDX["platforms.rd_adoption_rate"]
_DELIST = PIDX["platforms.delist_prob_idle"]
_IDLE = PIDX["platforms.idle_years"]
_HT_INIT = PIDX["hightech.initial_stock"]
_HT_APPLY = PIDX["derived.hightech_apply"]
_HT_APPROVE = PIDX["hightech.approval"]
_OTHER = PIDX["hightech.other_contracts_per_year"]
_COMMISSIONERS = PIDX["derived.commissioners"]
_CEILING0 = PIDX["derived.ceiling.event"]

KEY_STRIDE = 1 << 40  # offer key = channel · 2**40 + serial within the channel


@nb.njit(cache=True)
def year_of(t: float, n_years: int) -> int:
    """Year index of time ``t``, clipped to the simulated years."""
    y = int(math.floor(t))
    if y < 0:
        return 0
    if y >= n_years:
        return n_years - 1
    return y


@nb.njit(cache=True)
def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@nb.njit(cache=True)
def add_interval(R: np.ndarray, row: int, t0: float, t1: float, horizon: float) -> None:
    """Add the length of [t0, t1] ∩ [0, horizon] to ``R[row]``, split by calendar year."""
    if t1 > horizon:
        t1 = horizon
    t = t0
    while t < t1:
        y = int(math.floor(t))
        end = min(float(y + 1), t1)
        R[row, y] += end - t
        t = end


# ---- the firm population --------------------------------------------------------

@nb.njit(cache=True)
def init_firms(P: np.ndarray, F: np.ndarray, seed: int, rep: int) -> None:
    """Draw every firm's sector, county and capacities at 1 January of the start year."""
    n = F.shape[0]
    n_above = int(P[_N_ABOVE, 0])
    mu = math.log(P[_AWARE_MED, 0] / (1.0 - P[_AWARE_MED, 0]))
    for f in range(n):
        F[f, L.F_SECTOR] = categorical_rows(uniform(seed, rep, S.D_FIRM_SECTOR, f, 0), P, _SECTOR_SHARE,
                                            L.N_SECTORS, 0)
        F[f, L.F_COUNTY] = categorical_rows(uniform(seed, rep, S.D_FIRM_COUNTY, f, 0), P, _COUNTY_SHARE,
                                            L.N_COUNTIES, 0)
        # science-based SMEs below designated size are less likely to run an R&D institution (ASM: half)
        rd_p = P[_RD_SHARE, 0] * (1.0 if f < n_above else 0.5)
        F[f, L.F_RD] = 1.0 if uniform(seed, rep, S.D_FIRM_RD, f, 0) < rd_p else 0.0
        F[f, L.F_TALENT] = 1.0 if uniform(seed, rep, S.D_FIRM_TALENT, f, 0) < P[_TALENT_SHARE, 0] else 0.0
        z = normal_ppf(uniform(seed, rep, S.D_FIRM_AWARE, f, 0))
        F[f, L.F_AWARE] = _sigmoid(mu + P[_AWARE_SD, 0] * z)
        F[f, L.F_LIQUID] = 1.0 if uniform(seed, rep, S.D_FIRM_LIQUID, f, 0) < P[_LIQUID, 0] else 0.0
        F[f, L.F_COLLATERAL] = 1.0 if uniform(seed, rep, S.D_FIRM_COLLATERAL, f, 0) < P[_COLLATERAL, 0] else 0.0
        F[f, L.F_IMITATOR] = 1.0 if uniform(seed, rep, S.D_FIRM_IMITATOR, f, 0) < P[_IMITATOR, 0] else 0.0
        F[f, L.F_HIGHTECH] = 0.0
        F[f, L.F_VP_UNTIL] = -1.0
        F[f, L.F_LAST_USE] = 0.0
    # The initial high-tech stock: the firms with R&D institutions whose keyed draw is smallest.
    score = np.empty(n)
    for f in range(n):
        score[f] = uniform(seed, rep, S.D_FIRM_HIGHTECH, f, 0) + (0.0 if F[f, L.F_RD] > 0 else 2.0)
    order = np.argsort(score, kind="mergesort")
    k = min(int(P[_HT_INIT, 0]), n)
    for j in range(k):
        F[order[j], L.F_HIGHTECH] = 1.0
    # Store firms sector by sector (stable), so that a sector is one block of rows.
    by_sector = np.argsort(F[:, L.F_SECTOR], kind="mergesort")
    F[:, :] = F[by_sector, :]


@nb.njit(cache=True, inline="always")
def sector_rows(W: np.ndarray, s: int) -> tuple[int, int]:
    """First and one-past-last firm row of sector ``s``."""
    return int(W[L.W_SECTOR_START + s]), int(W[L.W_SECTOR_START + s + 1])


@nb.njit(cache=True)
def refresh_awareness(F: np.ndarray, W: np.ndarray) -> None:
    """Recompute each sector's summed awareness (the matching function's demand D) and its maximum."""
    for s in range(L.N_SECTORS):
        W[L.W_AWARE_SUM + s] = 0.0
        W[L.W_AWARE_MAX + s] = 0.0
    for f in range(F.shape[0]):
        s = int(F[f, L.F_SECTOR])
        W[L.W_AWARE_SUM + s] += F[f, L.F_AWARE]
        if F[f, L.F_AWARE] > W[L.W_AWARE_MAX + s]:
            W[L.W_AWARE_MAX + s] = F[f, L.F_AWARE]


@nb.njit(cache=True)
def refresh_sector(F: np.ndarray, W: np.ndarray, s: int) -> None:
    """Recompute one sector's awareness sum and maximum (after a feedback touched only it).

    Sums the sector's rows in the same order as :func:`refresh_awareness`, so
    the result is the same to the last bit.
    """
    lo, hi = sector_rows(W, s)
    total = 0.0
    top = 0.0
    for f in range(lo, hi):
        total += F[f, L.F_AWARE]
        if F[f, L.F_AWARE] > top:
            top = F[f, L.F_AWARE]
    W[L.W_AWARE_SUM + s] = total
    W[L.W_AWARE_MAX + s] = top


@nb.njit(cache=True)
def init_world(P: np.ndarray, F: np.ndarray, W: np.ndarray) -> None:
    """The world at t = 0: a full fund for the first year, nobody in the pipeline."""
    W[:] = 0.0
    W[L.W_FUND] = P[_FUND, 0]
    for f in range(F.shape[0]):
        W[L.W_SECTOR_START + int(F[f, L.F_SECTOR]) + 1] += 1.0
    for s in range(L.N_SECTORS):
        W[L.W_SECTOR_START + s + 1] += W[L.W_SECTOR_START + s]
    refresh_awareness(F, W)


# ---- supply of results ------------------------------------------------------------

@nb.njit(cache=True)
def channel_rate(P: np.ndarray, channel: int, y: int) -> float:
    """Offers a year through a continuous channel (all but events) in year ``y``."""
    if channel == L.CH_PLATFORM:
        return P[_PLATFORM, y]
    if channel == L.CH_WORKSTATION:
        return P[_WORKST, y] * P[_PER_WORKST, y]
    if channel == L.CH_AGENCY:
        return P[_AGENCIES, y] * P[_PER_AGENCY, y]
    if channel == L.CH_COMMISSIONER:
        return P[_COMMISSIONERS, y] * P[_PER_COMM, y]
    if channel == L.CH_INSTITUTE:
        return P[_INSTITUTES, y] * P[_PER_INST, y]
    return 0.0


@nb.njit(cache=True)
def candidate_gap(P: np.ndarray, channel: int, k: int, seed: int, rep: int) -> float:
    """Time to candidate ``k`` of a channel at its ceiling rate (before thinning)."""
    return exponential(uniform(seed, rep, S.D_ARRIVAL_GAP, channel, k), P[_CEILING0 + channel, 0])


@nb.njit(cache=True)
def candidate_accepted(P: np.ndarray, channel: int, k: int, t: float, n_years: int, seed: int,
                       rep: int) -> bool:
    """Thinning: candidate ``k`` becomes an offer with probability rate(t) / ceiling.

    A policy that raises a channel's rate adds offers without moving the
    existing ones, so every other offer keeps its identity and its luck.
    """
    rate = channel_rate(P, channel, year_of(t, n_years))
    return uniform(seed, rep, S.D_THIN, channel, k) * P[_CEILING0 + channel, 0] < rate


@nb.njit(cache=True)
def events_in_year(P: np.ndarray, y: int) -> int:
    """Number of matchmaking events held in year ``y``."""
    return min(L.EVENT_SLOTS, int(math.floor(P[_EVENTS, y] + 0.5)))


@nb.njit(cache=True)
def offers_at_event(P: np.ndarray, y: int) -> int:
    """Results pitched at one matchmaking event in year ``y``."""
    return min(L.MAX_OFFERS_PER_EVENT, int(P[_PER_EVENT, y]))


@nb.njit(cache=True)
def create_offer(P: np.ndarray, O: np.ndarray, W: np.ndarray, R: np.ndarray, key: int, channel: int,
                 t: float, n_years: int, seed: int, rep: int) -> int:
    """A research result arrives: draw its sector, maturity, value and patent; return its row."""
    i = int(W[L.W_N_OFFERS])
    W[L.W_N_OFFERS] += 1.0
    y = year_of(t, n_years)
    O[i, :] = 0.0
    O[i, L.O_KEY] = key
    O[i, L.O_CHANNEL] = channel
    if channel == L.CH_INSTITUTE:
        # the three institutes serve special vehicles, mushroom (agri-food) and emergency
        O[i, L.O_SECTOR] = int(uniform(seed, rep, S.D_OFFER_SECTOR, key, 0) * 3.0)
    else:
        O[i, L.O_SECTOR] = categorical_rows(uniform(seed, rep, S.D_OFFER_SECTOR, key, 0), P, _SECTOR_SHARE,
                                            L.N_SECTORS, y)
    trl = 3 + categorical_rows(uniform(seed, rep, S.D_OFFER_TRL, key, 0), P, _TRL_SHARE, 6, y)
    if channel == L.CH_INSTITUTE:
        trl += int(P[_INST_TRL, y])
    if uniform(seed, rep, S.D_OFFER_MATURE, key, 0) < P[_MATURE, y]:
        trl += 1
    O[i, L.O_TRL] = min(trl, 9)
    O[i, L.O_VALUE] = lognormal(uniform(seed, rep, S.D_OFFER_VALUE, key, 0), P[_VALUE_MED, y], P[_VALUE_SD, y])
    O[i, L.O_PATENT] = 1.0 if uniform(seed, rep, S.D_OFFER_PATENT, key, 0) < P[_PATENT, y] else 0.0
    O[i, L.O_FIRM] = -1.0
    O[i, L.O_T_ARRIVE] = t
    O[i, L.O_STAGE] = L.ST_MEETING
    O[i, L.O_REASON] = L.RE_NONE
    R[L.R_OFFERS, y] += 1.0
    R[L.R_OFFERS_CH + channel, y] += 1.0
    return i


# ---- meeting (对接) ------------------------------------------------------------------

@nb.njit(cache=True)
def open_search(O: np.ndarray, W: np.ndarray, i: int) -> None:
    """The offer joins its sector's pool of results looking for a firm (supply S)."""
    W[L.W_OPEN + int(O[i, L.O_SECTOR])] += 1.0


@nb.njit(cache=True)
def broker_mode(P: np.ndarray, t: float, n_years: int, free: bool, queue_len: int) -> int:
    """A result goes to a broker unless every broker is busy and the queue is full (then unassisted)."""
    if P[_BROKERS, year_of(t, n_years)] < 1.0:
        return L.MM_UNASSISTED
    if free or queue_len < P[_BROKER_QCAP, year_of(t, n_years)]:
        return L.MM_BROKER
    return L.MM_UNASSISTED


@nb.njit(cache=True)
def search_time(P: np.ndarray, O: np.ndarray, i: int, t: float, n_years: int, seed: int, rep: int) -> float:
    """How long a broker (or the result's owner alone) searches for a firm."""
    y = year_of(t, n_years)
    u = uniform(seed, rep, S.D_SEARCH_TIME, int(O[i, L.O_KEY]), int(O[i, L.O_ATTEMPT]))
    return lognormal(u, P[_SEARCH_MED, y], P[_SEARCH_SD, y])


@nb.njit(cache=True)
def retry_gap(P: np.ndarray, O: np.ndarray, i: int, t: float, n_years: int, seed: int, rep: int) -> float:
    """Wait before a result not met is offered again."""
    y = year_of(t, n_years)
    u = uniform(seed, rep, S.D_RETRY_GAP, int(O[i, L.O_KEY]), int(O[i, L.O_ATTEMPT]))
    return exponential(u, 1.0 / P[_RETRY_MED, y] * math.log(2.0))


@nb.njit(cache=True)
def pick_firm(F: np.ndarray, W: np.ndarray, s: int, seed: int, rep: int, key: int, att: int) -> int:
    """The firm of sector ``s`` met, drawn with probability proportional to its awareness.

    Rejection sampling: a firm of the sector is proposed uniformly and accepted
    with probability awareness / (the sector's highest awareness); each try has
    its own keyed pair of draws. Exact, and O(1) expected work however many
    firms the sector has. After 10,000 rejected tries (practically never) the
    first aware firm is taken.
    """
    lo, hi = sector_rows(W, s)
    top = W[L.W_AWARE_MAX + s]
    if hi <= lo or top <= 0.0:
        return -1
    n = hi - lo
    base = att * 100000
    for k in range(10000):
        f = lo + min(int(uniform(seed, rep, S.D_FIRM_PICK, key, base + 2 * k) * n), n - 1)
        if uniform(seed, rep, S.D_FIRM_PICK, key, base + 2 * k + 1) * top < F[f, L.F_AWARE]:
            return f
    for f in range(lo, hi):
        if F[f, L.F_AWARE] > 0.0:
            return f
    return -1


@nb.njit(cache=True)
def decide_meeting(P: np.ndarray, F: np.ndarray, O: np.ndarray, W: np.ndarray, R: np.ndarray, i: int,
                   t: float, mode: int, n_years: int, seed: int, rep: int) -> int:
    """Does the result meet a firm? Matching M = μ·D^α·S^(1−α) with congestion.

    D is the sector's summed awareness, S the results of the sector now
    searching; the chance for one result is M/S = μ·(D/S)^α. The firm met is
    drawn in proportion to awareness. Returns 1 if met (firm stored), else 0.
    """
    y = year_of(t, n_years)
    s = int(O[i, L.O_SECTOR])
    key = int(O[i, L.O_KEY])
    att = int(O[i, L.O_ATTEMPT])
    supply = max(W[L.W_OPEN + s], 1.0)
    demand = W[L.W_AWARE_SUM + s]
    W[L.W_OPEN + s] -= 1.0
    if mode == L.MM_EVENT:
        mu = P[_MU_EVENT, y]
    elif mode == L.MM_BROKER:
        mu = P[_MU_BROKER, y]
    else:
        mu = P[_MU_ALONE, y]
    p = mu * (demand / supply) ** P[_ALPHA, y] if demand > 0.0 else 0.0
    O[i, L.O_ATTEMPT] = att + 1
    if uniform(seed, rep, S.D_MEET, key, att) >= p:
        return 0
    firm = pick_firm(F, W, s, seed, rep, key, att)
    O[i, L.O_FIRM] = firm
    O[i, L.O_T_MEET] = t
    O[i, L.O_STAGE] = L.ST_NEGOTIATION
    R[L.R_MEETINGS, y] += 1.0
    if mode == L.MM_EVENT:
        R[L.R_MEETINGS_EVENT, y] += 1.0
    return 1


@nb.njit(cache=True)
def meeting_exhausted(P: np.ndarray, O: np.ndarray, R: np.ndarray, i: int, t: float, n_years: int) -> bool:
    """After a failed meeting: True (and the offer ends as no-match) if no attempt is left."""
    y = year_of(t, n_years)
    if O[i, L.O_ATTEMPT] >= P[_ATTEMPTS, y]:
        end_offer(O, R, i, t, L.RE_NO_MATCH, n_years)
        return True
    return False


@nb.njit(cache=True)
def end_offer(O: np.ndarray, R: np.ndarray, i: int, t: float, reason: int, n_years: int) -> None:
    """Close an offer with its terminal reason."""
    O[i, L.O_REASON] = reason
    O[i, L.O_STAGE] = L.ST_DONE
    O[i, L.O_T_END] = t
    R[L.R_TERM + reason, year_of(t, n_years)] += 1.0


# ---- negotiation → contract -----------------------------------------------------------

@nb.njit(cache=True)
def negotiation_time(P: np.ndarray, O: np.ndarray, i: int, t: float, n_years: int, seed: int,
                     rep: int) -> float:
    """Duration of the negotiation after a meeting."""
    y = year_of(t, n_years)
    u = uniform(seed, rep, S.D_NEGOTIATION_TIME, int(O[i, L.O_KEY]), 0)
    return lognormal(u, P[_NEGO_MED, y], P[_NEGO_SD, y])


@nb.njit(cache=True)
def _topup(county: int) -> bool:
    return county == 0 or county == 1 or county == 2


@nb.njit(cache=True)
def decide_contract(P: np.ndarray, F: np.ndarray, O: np.ndarray, W: np.ndarray, R: np.ndarray, i: int,
                    t: float, n_years: int, seed: int, rep: int) -> int:
    """Negotiation ends: the firm copies the result, signs a contract, or walks away.

    Returns 1 for a registered technology contract (subsidy claimed and paid
    here), 0 otherwise (the offer is closed with its reason).
    """
    y = year_of(t, n_years)
    key = int(O[i, L.O_KEY])
    f = int(O[i, L.O_FIRM])
    s = int(O[i, L.O_SECTOR])
    if F[f, L.F_IMITATOR] > 0.0:
        p_copy = P[_IMIT_PROB, y] * (1.0 - P[_IP, y])
        if uniform(seed, rep, S.D_IMITATE, key, 0) < p_copy:
            R[L.R_IMITATIONS, y] += 1.0
            d = P[_DISCOURAGE, y]
            lo, hi = sector_rows(W, s)
            for g in range(lo, hi):
                if g != f:
                    F[g, L.F_AWARE] *= 1.0 - d
            refresh_sector(F, W, s)
            end_offer(O, R, i, t, L.RE_IMITATED, n_years)
            return 0
    county = int(F[f, L.F_COUNTY])
    rate = P[_CITY_RATE, y] + (P[_COUNTY_RATE, y] if _topup(county) else 0.0)
    vp = 1.0 if F[f, L.F_VP_UNTIL] > t else 0.0
    x = (P[_B0, y] + P[_B_RD, y] * F[f, L.F_RD] + P[_B_TALENT, y] * F[f, L.F_TALENT]
         + P[_B_VP, y] * vp + P[_B_EVAL, y] * P[_EVAL, y] + P[_B_PATENT, y] * O[i, L.O_PATENT]
         - P[_B_VALUE, y] * math.log(O[i, L.O_VALUE] / P[_VALUE_MED, y]) + P[_B_SUBSIDY, y] * rate)
    if uniform(seed, rep, S.D_CONTRACT, key, 0) >= _sigmoid(x):
        end_offer(O, R, i, t, L.RE_NO_DEAL, n_years)
        return 0
    value = O[i, L.O_VALUE]
    O[i, L.O_T_CONTRACT] = t
    O[i, L.O_STAGE] = L.ST_PILOT
    F[f, L.F_LAST_USE] = t
    R[L.R_CONTRACTS, y] += 1.0
    R[L.R_CONTRACT_VALUE, y] += value
    R[L.R_CONTRACTS_COUNTY + county, y] += 1.0
    R[L.R_CONTRACTS_SECTOR + s, y] += 1.0
    R[L.R_M_FIRM_RD, y] += value
    # Subsidy (成果转化补贴): claimed by some, paid from the city fund while it lasts.
    if uniform(seed, rep, S.D_SUBSIDY_CLAIM, key, 0) < P[_CLAIM, y]:
        amount = min(P[_CITY_RATE, y] * value, P[_CAP, y])
        if amount > 0.0 and W[L.W_FUND] >= amount:
            W[L.W_FUND] -= amount
            O[i, L.O_SUBSIDY] = amount
            R[L.R_SUBSIDISED, y] += 1.0
            R[L.R_M_SUBSIDY_CITY, y] += amount
            if _topup(county):
                R[L.R_M_SUBSIDY_COUNTY, y] += min(P[_COUNTY_RATE, y] * value, P[_CAP, y])
        elif amount > 0.0:
            R[L.R_SUBSIDY_DENIED, y] += 1.0
    return 1


# ---- pilot test (中试) -------------------------------------------------------------------

@nb.njit(cache=True)
def public_capacity(P: np.ndarray, y: int) -> int:
    """Pilot-test slots at public bases in year ``y``."""
    return int(math.floor(P[_SLOTS, y]))


@nb.njit(cache=True)
def broker_capacity(P: np.ndarray, y: int) -> int:
    """Brokers at work in year ``y``."""
    return int(math.floor(P[_BROKERS, y]))


@nb.njit(cache=True)
def choose_pilot(P: np.ndarray, F: np.ndarray, O: np.ndarray, R: np.ndarray, i: int, t: float,
                 n_years: int, free: bool, queue_len: int, seed: int, rep: int) -> int:
    """Does the result need a pilot test, and where? Returns a route, or -1 if abandoned.

    Mature results (TRL ≥ ``pilot.trl_ready``) skip the pilot. Firms with an R&D
    institution and a technical team may test in-house; otherwise a public base
    if it has room (a free slot or a short queue), else an outside base. A firm
    without own funds passes the finance gate only with some probability.
    """
    y = year_of(t, n_years)
    key = int(O[i, L.O_KEY])
    f = int(O[i, L.O_FIRM])
    if O[i, L.O_TRL] >= P[_TRL_READY, y]:
        O[i, L.O_ROUTE] = L.PR_NONE
        return L.PR_NONE
    if F[f, L.F_RD] > 0.0 and F[f, L.F_TALENT] > 0.0 and uniform(seed, rep, S.D_PILOT_INHOUSE, key, 0) < \
            P[_INHOUSE, y]:
        route = L.PR_INHOUSE
        factor = 1.0
    elif public_capacity(P, y) > 0 and (free or queue_len < P[_PILOT_QCAP, y]):
        route = L.PR_PUBLIC
        factor = P[_PUB_COST, y]
    else:
        if public_capacity(P, y) > 0:
            R[L.R_BALK_PILOT, y] += 1.0
        route = L.PR_OUTSIDE
        factor = P[_OUT_COST, y]
    if F[f, L.F_LIQUID] <= 0.0:
        p_fin = P[_PILOT_FIN, y] + (1.0 - P[_PILOT_FIN, y]) * P[_INSURANCE, y]
        if uniform(seed, rep, S.D_PILOT_FINANCE, key, 0) >= p_fin:
            end_offer(O, R, i, t, L.RE_PILOT_NO_FINANCE, n_years)
            return -1
    cost = O[i, L.O_VALUE] * factor * lognormal(uniform(seed, rep, S.D_PILOT_COST, key, 0), P[_COST_MULT, y],
                                                P[_COST_SD, y])
    O[i, L.O_ROUTE] = route
    O[i, L.O_PILOT_COST] = cost
    R[L.R_PILOTS + route - 1, y] += 1.0
    R[L.R_M_PILOT_COST, y] += cost
    R[L.R_M_FIRM_RD, y] += cost
    return route


@nb.njit(cache=True)
def pilot_time(P: np.ndarray, O: np.ndarray, i: int, t: float, n_years: int, seed: int, rep: int) -> float:
    """Duration of the pilot test once it starts."""
    y = year_of(t, n_years)
    d = lognormal(uniform(seed, rep, S.D_PILOT_TIME, int(O[i, L.O_KEY]), 0), P[_PILOT_MED, y], P[_PILOT_SD, y])
    if int(O[i, L.O_ROUTE]) == L.PR_OUTSIDE:
        d *= P[_OUT_DUR, y]
    return d


@nb.njit(cache=True)
def decide_pilot(P: np.ndarray, F: np.ndarray, O: np.ndarray, R: np.ndarray, i: int, t: float, n_years: int,
                 seed: int, rep: int) -> int:
    """The pilot ends: success (1) or failure (0, the offer is closed)."""
    y = year_of(t, n_years)
    f = int(O[i, L.O_FIRM])
    talent = F[f, L.F_TALENT] > 0.0 or F[f, L.F_VP_UNTIL] > t
    p = P[_PILOT_OK, y] + P[_TRL_UP, y] * (O[i, L.O_TRL] - 3.0)
    if int(O[i, L.O_ROUTE]) == L.PR_PUBLIC:
        p += P[_PUB_UP, y]
    if talent:
        p += P[_PILOT_TAL, y]
    O[i, L.O_T_PILOT_END] = t
    if uniform(seed, rep, S.D_PILOT_SUCCESS, int(O[i, L.O_KEY]), 0) >= p:
        end_offer(O, R, i, t, L.RE_PILOT_FAILED, n_years)
        return 0
    R[L.R_PILOT_OK, y] += 1.0
    O[i, L.O_STAGE] = L.ST_FINANCE
    return 1


# ---- finance for industrialisation -------------------------------------------------------

@nb.njit(cache=True)
def seek_finance(P: np.ndarray, F: np.ndarray, O: np.ndarray, R: np.ndarray, i: int, t: float, n_years: int,
                 seed: int, rep: int) -> float:
    """The firm looks for the money to produce: returns the search time, sign = outcome.

    Own funds first (liquid firms), then in each round a guarantee loan (needs
    collateral), an IP-pledge loan (needs a patent) and venture money
    (high-tech firms), each with its own wait and approval; a round refused
    everywhere is followed by a pause and another round, up to
    ``finance.rounds``. Terms are set by the firm's status when the search
    starts. Returns +wait if financed, −wait − 1 if the firm gives up.
    """
    y = year_of(t, n_years)
    key = int(O[i, L.O_KEY])
    f = int(O[i, L.O_FIRM])
    O[i, L.O_STAGE] = L.ST_FINANCE
    O[i, L.O_INVEST] = O[i, L.O_VALUE] * lognormal(uniform(seed, rep, S.D_INVEST, key, 0), P[_INVEST, y],
                                                   P[_INVEST_SD, y])
    if F[f, L.F_LIQUID] > 0.0 and uniform(seed, rep, S.D_OWN_FUNDS, key, 0) < P[_OWN, y]:
        return 0.0
    ht = P[_HT_PRIOR, y] if F[f, L.F_HIGHTECH] > 0.0 else 0.0
    wait = 0.0
    rounds = int(P[_ROUNDS, y])
    for r in range(rounds):
        for src in range(3):
            if src == 0:
                if F[f, L.F_COLLATERAL] <= 0.0:
                    continue
                p = P[_GUAR, y] + ht
            elif src == 1:
                if O[i, L.O_PATENT] <= 0.0:
                    continue
                p = P[_IPLOAN, y] + ht
            else:
                if F[f, L.F_HIGHTECH] <= 0.0:
                    continue
                p = P[_VENTURE, y]
            occ = 4 * r + src
            wait += lognormal(uniform(seed, rep, S.D_FIN_WAIT, key, occ), P[_FIN_WAIT, y], P[_FIN_SD, y])
            if uniform(seed, rep, S.D_FIN_APPROVE, key, occ) < p:
                R[L.R_M_LOANS, y] += O[i, L.O_INVEST] if src < 2 else 0.0
                return wait
        if r + 1 < rounds:
            wait += exponential(uniform(seed, rep, S.D_FIN_RETRY, key, r), math.log(2.0) / P[_FIN_RETRY, y])
    return -wait - 1.0


@nb.njit(cache=True)
def finance_outcome(O: np.ndarray, R: np.ndarray, i: int, t: float, t_start: float, ok: bool,
                    n_years: int) -> None:
    """Record the end of the search for money started at ``t_start``."""
    y = year_of(t, n_years)
    R[L.R_WAIT_FINANCE, y] += t - t_start
    R[L.R_N_FINANCE, y] += 1.0
    if ok:
        O[i, L.O_T_FINANCED] = t
        O[i, L.O_STAGE] = L.ST_RAMPUP
        R[L.R_FINANCED, y] += 1.0
        R[L.R_M_FIRM_RD, y] += O[i, L.O_INVEST]
    else:
        end_offer(O, R, i, t, L.RE_NO_FINANCE, n_years)


# ---- industrialisation (产业化) ------------------------------------------------------------

@nb.njit(cache=True)
def rampup_time(P: np.ndarray, O: np.ndarray, i: int, t: float, n_years: int, seed: int, rep: int) -> float:
    """Ramp-up from financing to steady production."""
    y = year_of(t, n_years)
    return lognormal(uniform(seed, rep, S.D_RAMPUP, int(O[i, L.O_KEY]), 0), P[_RAMP_MED, y], P[_RAMP_SD, y])


@nb.njit(cache=True)
def decide_industrialised(P: np.ndarray, F: np.ndarray, O: np.ndarray, W: np.ndarray, R: np.ndarray, i: int,
                          t: float, n_years: int, seed: int, rep: int) -> int:
    """Ramp-up ends: production succeeds (1) or fails (0). A success is a role model for its sector."""
    y = year_of(t, n_years)
    f = int(O[i, L.O_FIRM])
    s = int(O[i, L.O_SECTOR])
    p = P[_IND_OK, y]
    if F[f, L.F_TALENT] > 0.0 or F[f, L.F_VP_UNTIL] > t:
        p += P[_IND_TAL, y]
    if uniform(seed, rep, S.D_IND_SUCCESS, int(O[i, L.O_KEY]), 0) >= p:
        end_offer(O, R, i, t, L.RE_IND_FAILED, n_years)
        return 0
    end_offer(O, R, i, t, L.RE_INDUSTRIALISED, n_years)
    R[L.R_INDUSTRIALISED, y] += 1.0
    R[L.R_IND_COUNTY + int(F[f, L.F_COUNTY]), y] += 1.0
    R[L.R_IND_SECTOR + s, y] += 1.0
    R[L.R_TTP, y] += t - O[i, L.O_T_ARRIVE]
    W[L.W_IND_THIS_YEAR] += 1.0
    boost = P[_ROLE, y]
    if boost > 0.0:
        lo, hi = sector_rows(W, s)
        for g in range(lo, hi):
            F[g, L.F_AWARE] += boost * (1.0 - F[g, L.F_AWARE])
        refresh_sector(F, W, s)
    return 1


# ---- the year's end ---------------------------------------------------------------------

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
    n_awards = min(int(P[_AWARDS, y]), int(W[L.W_IND_THIS_YEAR]))
    for _ in range(n_awards):
        if W[L.W_FUND] >= P[_AWARD_YUAN, y]:
            W[L.W_FUND] -= P[_AWARD_YUAN, y]
            R[L.R_AWARDS, y] += 1.0
            R[L.R_M_AWARDS, y] += P[_AWARD_YUAN, y]
    W[L.W_IND_THIS_YEAR] = 0.0
    # 2. high-tech certification
    for f in range(n):
        if F[f, L.F_HIGHTECH] <= 0.0 and (F[f, L.F_RD] > 0.0 or F[f, L.F_TALENT] > 0.0):
            if uniform(seed, rep, S.D_HT_APPLY, f, y) < P[_HT_APPLY, y]:
                R[L.R_HT_APPLIED, y] += 1.0
                if uniform(seed, rep, S.D_HT_APPROVE, f, y) < P[_HT_APPROVE, y]:
                    F[f, L.F_HIGHTECH] = 1.0
                    R[L.R_HT_NEW, y] += 1.0
                    if W[L.W_FUND] >= P[_HT_REWARD, y]:
                        W[L.W_FUND] -= P[_HT_REWARD, y]
                        R[L.R_M_HIGHTECH, y] += P[_HT_REWARD, y]
    # 3. talent
    for f in range(n):
        if F[f, L.F_TALENT] > 0.0:
            if uniform(seed, rep, S.D_TURNOVER, f, y) < P[_TURNOVER, y]:
                F[f, L.F_TALENT] = 0.0
        elif uniform(seed, rep, S.D_INFLOW, f, y) < P[_INFLOW, y]:
            F[f, L.F_TALENT] = 1.0
    n_vp = poisson(uniform(seed, rep, S.D_VP_COUNT, 0, y), P[_VP_RATE, y])
    for j in range(n_vp):
        f = min(int(uniform(seed, rep, S.D_VP_FIRM, y * 100000 + j, 0) * n), n - 1)
        F[f, L.F_VP_UNTIL] = t + P[_VP_TENURE, y]
    # 4. platforms
    for f in range(n):
        if F[f, L.F_RD] > 0.0:
            if t - F[f, L.F_LAST_USE] > P[_IDLE, y] and uniform(seed, rep, S.D_DELIST, f, y) < P[_DELIST, y]:
                F[f, L.F_RD] = 0.0
                R[L.R_DELISTED, y] += 1.0
        elif uniform(seed, rep, S.D_RD_ADOPT, f, y) < P[_RD_ADOPT, y]:
            F[f, L.F_RD] = 1.0
            F[f, L.F_LAST_USE] = t
    # 5. publicity
    pub = P[_PUBLICITY, y]
    if pub > 0.0:
        for f in range(n):
            F[f, L.F_AWARE] += pub * (1.0 - F[f, L.F_AWARE])
    refresh_awareness(F, W)
    # 6. contracts of other kinds (not from outside research results)
    R[L.R_OTHER_CONTRACTS, y] += poisson(uniform(seed, rep, S.D_OTHER_CONTRACTS, 0, y), P[_OTHER, y])
    # 7. stocks
    aware = 0.0
    for f in range(n):
        R[L.R_HT_STOCK, y] += F[f, L.F_HIGHTECH]
        R[L.R_FIRMS_RD, y] += F[f, L.F_RD]
        R[L.R_FIRMS_TALENT, y] += F[f, L.F_TALENT]
        R[L.R_FIRMS_VP, y] += 1.0 if F[f, L.F_VP_UNTIL] > t else 0.0
        aware += F[f, L.F_AWARE]
    R[L.R_AWARENESS, y] = aware / n
    R[L.R_COMMISSIONERS, y] = P[_COMMISSIONERS, y]
    R[L.R_BROKER_CAP, y] = broker_capacity(P, y)
    R[L.R_PILOT_CAP, y] = public_capacity(P, y)
    # 8. the fund
    R[L.R_M_FUND_LEFT, y] = W[L.W_FUND]
    W[L.W_FUND] -= W[L.W_FUND]
    if k < n_years:
        W[L.W_FUND] += P[_FUND, k]


@nb.njit(cache=True)
def finalise(O: np.ndarray, W: np.ndarray, R: np.ndarray, n_years: int) -> None:
    """At the horizon, count the offers still in the pipeline by stage."""
    last = n_years - 1
    for i in range(int(W[L.W_N_OFFERS])):
        if int(O[i, L.O_STAGE]) != L.ST_DONE:
            R[L.R_TERM + L.RE_NONE, last] += 1.0
            R[L.R_WIP + int(O[i, L.O_STAGE]), last] += 1.0
