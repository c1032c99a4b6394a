"""Negotiation → a registered technology contract, imitation, and the subsidy (补贴)."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from sim import layout as L
from sim import streams as S
from sim.rng import Word, draw, lognormal
from sim.rules.common import discourage_sector, end_offer, firm_gone, sigmoid, year_of
from sim.rules.pidx import (
    B0,
    B_EVAL,
    B_NEED_FIT,
    B_PATENT,
    B_RD,
    B_SUBSIDY,
    B_TALENT,
    B_VALUE,
    B_VP,
    CAP,
    CITY_RATE,
    CLAIM,
    CLAIM_PUB,
    COUNTY_RATE,
    DISCOURAGE,
    EVAL,
    IMIT_PROB,
    INST_EVAL,
    IP,
    NEED_FIT,
    NEGO_MED,
    NEGO_SD,
    VALUE_MED,
)


@nb.njit(cache=True, inline="always")
def negotiation_time(P: np.ndarray, O: np.ndarray, i: int, t: float, n_years: int, rk: Word) -> float:
    """Duration of the negotiation after a meeting."""
    y = year_of(t, n_years)
    u = draw(rk, S.D_NEGOTIATION_TIME, int(O[i, L.O_KEY]), 0)
    return lognormal(u, P[NEGO_MED, y], P[NEGO_SD, y])


@nb.njit(cache=True, inline="always")
def decide_contract(P: np.ndarray, F: np.ndarray, O: np.ndarray, W: np.ndarray, R: np.ndarray, i: int,
                    t: float, n_years: int, rk: Word) -> int:
    """Negotiation ends: the firm copies the result, signs a contract, or walks away.

    Returns 1 for a registered technology contract (subsidy claimed and paid
    here), 0 otherwise (the offer is closed with its reason).

    The logit holds the result's fit to the firm's need: 1 for a demand-led
    result or for a firm whose need an exchange visit pinned down (the
    negotiation ends within ``contract.visit_known_years`` of the last visit,
    report 三(一)二; see :func:`sim.rules.year_end.exchange_visits`), else the
    share of the other meetings where the need was known beforehand
    (``contract.need_fit``), the evaluation
    level (city-wide ``contract.evaluation_level``, plus
    ``contract.institute_evaluation`` for results from the three institutes,
    whose patent-value evaluation 三(二)二 names), and the subsidy
    the firm *expects*. A firm knows of and claims the subsidy with
    ``claim_prob``, and publicity brings a share of the others to claim
    (``subsidy.claim_publicity``, 三(一)一: 享受成果转化补贴); a firm that does
    not claim expects nothing. A claiming firm expects the city's rate (and the
    county top-up, paid only with it) if the year's fund still holds its city
    subsidy when it decides, and nothing once the fund cannot pay it: the
    expectation is the payment the contract would bring at that moment. So
    publicity, the fund's size and its exhaustion change decisions, not only
    payouts. The city's 20 % and the county top-up are the firm's money for the
    pilot.
    """
    if firm_gone(O, R, i, t, n_years):  # the firm met exited during the negotiation
        return 0
    y = year_of(t, n_years)
    key = int(O[i, L.O_KEY])
    f = int(O[i, L.O_FIRM])
    s = int(O[i, L.O_SECTOR])
    if F[f, L.F_IMITATOR] > 0.0:
        p_copy = P[IMIT_PROB, y] * (1.0 - P[IP, y])
        if draw(rk, S.D_IMITATE, key, 0) < p_copy:
            R[L.R_IMITATIONS, y] += 1.0
            discourage_sector(F, W, s, f, P[DISCOURAGE, y])
            end_offer(O, R, i, t, L.RE_IMITATED, n_years)
            return 0
    county = int(F[f, L.F_COUNTY])
    value = O[i, L.O_VALUE]
    # The claim is decided before the deal: whether the firm counts on the subsidy is what moves it.
    p_claim = P[CLAIM, y] + (1.0 - P[CLAIM, y]) * P[CLAIM_PUB, y]
    claims = draw(rk, S.D_SUBSIDY_CLAIM, key, 0) < p_claim
    amount = min(P[CITY_RATE, y] * value, P[CAP, y])
    top = min(P[COUNTY_RATE, y] * value, P[CAP, y]) if L.COUNTY_TOPUP[county] else 0.0  # paid only with the city's
    # Nothing is spent between the decision and the payment, so the firm's expectation is exactly what it gets.
    paid = claims and amount > 0.0 and W[L.W_FUND] >= amount
    rate = amount / value + top / value if paid else 0.0
    vp = 1.0 if F[f, L.F_VP_UNTIL] > t else 0.0
    # Visits are made at year ends, never after now: a need known until later than now was pinned down already.
    fit = 1.0 if (O[i, L.O_DEMAND_LED] > 0.0) | (F[f, L.F_VISIT_UNTIL] > t) else P[NEED_FIT, y]
    # The institutes evaluate the results that pass through them, not every negotiation in the city.
    evaluation = P[EVAL, y]
    if int(O[i, L.O_CHANNEL]) == L.CH_INSTITUTE:
        evaluation = min(1.0, evaluation + P[INST_EVAL, y])
    x = (P[B0, y] + P[B_RD, y] * F[f, L.F_RD_WORKING] + P[B_TALENT, y] * F[f, L.F_TALENT]
         + P[B_VP, y] * vp + P[B_EVAL, y] * evaluation + P[B_PATENT, y] * O[i, L.O_PATENT]
         - P[B_VALUE, y] * math.log(O[i, L.O_VALUE] / P[VALUE_MED, y]) + P[B_SUBSIDY, y] * rate
         + P[B_NEED_FIT, y] * fit)
    if draw(rk, S.D_CONTRACT, key, 0) >= sigmoid(x):
        end_offer(O, R, i, t, L.RE_NO_DEAL, n_years)
        return 0
    O[i, L.O_T_CONTRACT] = t
    O[i, L.O_STAGE] = L.ST_PILOT
    F[f, L.F_LAST_USE] = t
    R[L.R_CONTRACTS, y] += 1.0
    R[L.R_CONTRACT_VALUE, y] += value
    R[L.R_CONTRACTS_COUNTY + county, y] += 1.0
    R[L.R_CONTRACTS_SECTOR + s, y] += 1.0
    R[L.R_M_FIRM_RD, y] += value
    # Subsidy (成果转化补贴): claimed by some, paid from the city fund while it lasts.
    if paid:
        W[L.W_FUND] -= amount
        O[i, L.O_SUBSIDY] = amount
        R[L.R_SUBSIDISED, y] += 1.0
        R[L.R_M_SUBSIDY_CITY, y] += amount
        if L.COUNTY_TOPUP[county]:
            O[i, L.O_SUBSIDY] += top
            R[L.R_M_SUBSIDY_COUNTY, y] += top
    elif claims and amount > 0.0:
        R[L.R_SUBSIDY_DENIED, y] += 1.0
    return 1
