"""Supply of research results (成果供给): channels, thinning, events, their pools, and an offer's attributes.

**Finite pools.** Each channel (events included) can reach, each year, a pool of results relevant to the
city's sectors, about ``supply.pool_multiple`` (m) times today's yearly flow; the pool renews every year (new
research). Every result the channel brings uses one, and the chance that a further candidate is a result the
firms have not seen is the share of the year's pool still unused. A channel at k times today's effort then
brings (1 − e^(−k/m)) / (1 − e^(−1/m)) times today's results in a year: exactly today's flow at k = 1 (the
stated rates keep their meaning; the effort is the stated rate × :func:`pool_gain`), 1.82× at k = 2 and
3.04× at k = 4 for m = 5. The pool is sized from the scenario's rates *without* its levers
(:func:`sim.table.pool_sizes`), so a measure that pushes a channel meets a pool it did not grow. A channel
with no flow today has no pool (nothing to size it from) and no limit.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from sim import layout as L
from sim import streams as S
from sim.rng import Word, categorical_rows, draw, exponential, lognormal
from sim.rules.common import KEY_STRIDE, year_of
from sim.rules.pidx import (
    AGENCIES,
    CEILING0,
    COMMISSIONERS,
    DEMAND_LED,
    EVENTS,
    INST_TRL,
    INSTITUTES,
    MATURE,
    PATENT,
    PER_AGENCY,
    PER_COMM,
    PER_EVENT,
    PER_INST,
    PER_WORKST,
    PLATFORM,
    POOL0,
    POOL_GAIN,
    SECTOR_SHARE,
    TRL_SHARE,
    VALUE_MED,
    VALUE_SD,
    WORKST,
)

_SLOT_ORDER = np.array(L.EVENT_SLOT_ORDER, dtype=np.int64)


@nb.njit(cache=True, inline="always")
def channel_rate(P: np.ndarray, channel: int, y: int) -> float:
    """Offers a year through a continuous channel (all but events) in year ``y``."""
    if channel == L.CH_PLATFORM:
        return P[PLATFORM, y]
    if channel == L.CH_WORKSTATION:
        return P[WORKST, y] * P[PER_WORKST, y]
    if channel == L.CH_AGENCY:
        return P[AGENCIES, y] * P[PER_AGENCY, y]
    if channel == L.CH_COMMISSIONER:
        return P[COMMISSIONERS, y] * P[PER_COMM, y]
    if channel == L.CH_INSTITUTE:
        return P[INSTITUTES, y] * P[PER_INST, y]
    return 0.0


@nb.njit(cache=True, inline="always")
def candidate_gap(P: np.ndarray, channel: int, k: int, rk: Word) -> float:
    """Time to candidate ``k`` of a channel at its ceiling rate (before thinning)."""
    return exponential(draw(rk, S.D_ARRIVAL_GAP, channel, k), P[CEILING0 + channel, 0])


@nb.njit(cache=True, inline="always")
def pool_gain(P: np.ndarray, channel: int, y: int) -> float:
    """Effort per unit of stated rate: 1 / (m (1 − e^(−1/m))) (:func:`sim.table.pool_gain`, in the table), so
    that today's effort brings today's flow from a pool it depletes (1 for a channel without a pool)."""
    return P[POOL_GAIN, y] if P[POOL0 + channel, y] > 0.0 else 1.0


@nb.njit(cache=True, inline="always")
def pool_left(P: np.ndarray, W: np.ndarray, channel: int, y: int) -> float:
    """Share of the channel's pool of year ``y`` not yet used (1 without a pool)."""
    pool = P[POOL0 + channel, y]
    if pool <= 0.0:
        return 1.0
    used = W[L.W_POOL_USED + channel] if int(W[L.W_POOL_YEAR + channel]) == y else 0.0
    return max(0.0, 1.0 - used / pool)


@nb.njit(cache=True, inline="always")
def use_pool(W: np.ndarray, channel: int, y: int) -> None:
    """A result of the channel's pool of year ``y`` is used (a count of an earlier year starts again at 0)."""
    if int(W[L.W_POOL_YEAR + channel]) != y:
        W[L.W_POOL_YEAR + channel] = y
        W[L.W_POOL_USED + channel] = 0.0
    W[L.W_POOL_USED + channel] += 1.0


@nb.njit(cache=True, inline="always")
def candidate_accepted(P: np.ndarray, W: np.ndarray, R: np.ndarray, channel: int, k: int, t: float, n_years: int,
                       rk: Word) -> bool:
    """Thinning: candidate ``k`` becomes an offer with probability rate(t) × gain × pool left / ceiling.

    A policy that raises a channel's rate adds offers without moving the
    existing ones, so every other offer keeps its identity and its luck. A
    candidate that an unlimited pool would have made an offer is counted in
    ``offers_lost_to_pool``. The pool's count changes only when this channel
    brings an offer, so the compiled engine may decide a candidate when the
    previous one arrives.
    """
    y = year_of(t, n_years)
    effort = channel_rate(P, channel, y) * pool_gain(P, channel, y)
    u = draw(rk, S.D_THIN, channel, k) * P[CEILING0 + channel, 0]
    if u < effort * pool_left(P, W, channel, y):
        return True
    if u < effort:
        R[L.R_POOL_LOST, y] += 1.0
    return False


@nb.njit(cache=True, inline="always")
def pitch_is_new(P: np.ndarray, W: np.ndarray, R: np.ndarray, key: int, y: int, rk: Word) -> bool:
    """Falling yield of repeated events: a result pitched at an event is one the firms have not seen with
    probability gain × the share of the events' pool left this year (capped at 1); the others are no offers."""
    p = pool_gain(P, L.CH_EVENT, y) * pool_left(P, W, L.CH_EVENT, y)
    if p >= 1.0 or draw(rk, S.D_POOL_PITCH, key, 0) < p:
        return True
    R[L.R_POOL_LOST, y] += 1.0
    return False


@nb.njit(cache=True, inline="always")
def offer_key(channel: int, serial: int) -> int:
    """An offer's stable key: its channel and its serial number within the channel."""
    return channel * KEY_STRIDE + serial


@nb.njit(cache=True)
def event_offer_key(y: int, slot: int, k: int) -> int:
    """Key of the ``k``-th result pitched at the event in ``slot`` of year ``y``."""
    return offer_key(L.CH_EVENT, (y * L.EVENT_SLOTS + slot) * L.MAX_OFFERS_PER_EVENT + k)


@nb.njit(cache=True)
def slot_time(y: int, slot: int) -> float:
    """When the event in ``slot`` of year ``y`` is held (mid-slot)."""
    return y + (slot + 0.5) / L.EVENT_SLOTS


@nb.njit(cache=True)
def event_slots(P: np.ndarray, y: int) -> np.ndarray:
    """Slots used by the year's events, in time order: the first ``events_in_year`` of the fixed order."""
    return np.sort(_SLOT_ORDER[:events_in_year(P, y)])


@nb.njit(cache=True)
def events_in_year(P: np.ndarray, y: int) -> int:
    """Number of matchmaking events held in year ``y``."""
    return min(L.EVENT_SLOTS, int(math.floor(P[EVENTS, y] + 0.5)))


@nb.njit(cache=True)
def offers_at_event(P: np.ndarray, y: int) -> int:
    """Results pitched at one matchmaking event in year ``y``."""
    return min(L.MAX_OFFERS_PER_EVENT, int(P[PER_EVENT, y]))


@nb.njit(cache=True, inline="always")
def create_offer(P: np.ndarray, O: np.ndarray, W: np.ndarray, R: np.ndarray, key: int, channel: int,
                 t: float, n_years: int, rk: Word) -> int:
    """A research result arrives: draw its sector, maturity, value and patent; return its row.

    Institute-channel results carry the institutes' two roles of report 三(二)二: a share is
    *demand-led* — developed by a university team to answer a need the institutes collected from a
    firm (企业出题、高校答题): more mature (+1 TRL) and fitting a known need; and a share of the
    results the institutes select for the city is matured (熟化) before transfer (+1 TRL).
    """
    i = int(W[L.W_N_OFFERS])
    W[L.W_N_OFFERS] += 1.0
    y = year_of(t, n_years)
    for c in range(L.N_OCOL):  # a scalar loop: a row slice would build an array view on every call
        O[i, c] = 0.0
    O[i, L.O_KEY] = key
    O[i, L.O_CHANNEL] = channel
    if channel == L.CH_INSTITUTE:
        # the three institutes serve special vehicles, mushroom (agri-food) and emergency
        O[i, L.O_SECTOR] = int(draw(rk, S.D_OFFER_SECTOR, key, 0) * 3.0)
    else:
        O[i, L.O_SECTOR] = categorical_rows(draw(rk, S.D_OFFER_SECTOR, key, 0), P, SECTOR_SHARE,
                                            L.N_SECTORS, y)
    trl = 3 + categorical_rows(draw(rk, S.D_OFFER_TRL, key, 0), P, TRL_SHARE, 6, y)
    O[i, L.O_DEMAND_LED] = 0.0
    if channel == L.CH_INSTITUTE:
        trl += int(P[INST_TRL, y])
        if draw(rk, S.D_OFFER_MATURE, key, 0) < P[MATURE, y]:
            trl += 1
        if draw(rk, S.D_OFFER_DEMAND_LED, key, 0) < P[DEMAND_LED, y]:
            O[i, L.O_DEMAND_LED] = 1.0
            trl += 1
            R[L.R_OFFERS_DEMAND_LED, y] += 1.0
    O[i, L.O_TRL] = min(trl, 9)
    O[i, L.O_VALUE] = lognormal(draw(rk, S.D_OFFER_VALUE, key, 0), P[VALUE_MED, y], P[VALUE_SD, y])
    O[i, L.O_PATENT] = 1.0 if draw(rk, S.D_OFFER_PATENT, key, 0) < P[PATENT, y] else 0.0
    O[i, L.O_FIRM] = -1.0
    O[i, L.O_T_ARRIVE] = t
    O[i, L.O_STAGE] = L.ST_MEETING
    O[i, L.O_REASON] = L.RE_NONE
    R[L.R_OFFERS, y] += 1.0
    R[L.R_OFFERS_CH + channel, y] += 1.0
    return i
