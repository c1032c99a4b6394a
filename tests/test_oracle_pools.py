"""Oracle tests of the finite yearly pools of relevant results (sim/rules/supply.py, MODEL.md 3.3.1).

Each channel's pool is about ``supply.pool_multiple`` (m) × today's yearly flow: the flow without levers
/ (1 − e^(−1/m)). A candidate is kept with probability rate × gain × (1 − used / pool) / ceiling, gain =
1 / (m (1 − e^(−1/m))); a result pitched at an event is new with probability gain × (1 − used / pool), capped
at 1. A channel at k times today's effort then brings (1 − e^(−k/m)) / (1 − e^(−1/m)) times today's flow.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from sim import layout as L
from sim import streams as S
from sim.engines.fast import run_fast
from sim.rng import rep_key
from sim.rules import supply
from sim.table import PIDX, build_table
from tests.conftest import lever, variant
from tests.oracle import N_YEARS, Draws, p, params

Y = 9  # 2024
T = Y + 0.5
RK = np.uint64(rep_key(0, 0))


def _gain(m: float) -> float:
    return 1.0 / (m * (1.0 - math.exp(-1.0 / m)))


def test_pools_are_sized_from_todays_flow_and_levers_do_not_grow_them(baseline) -> None:
    m = baseline.params.supply.pool_multiple
    base = build_table(baseline).P
    q = 1.0 - math.exp(-1.0 / m)
    assert base[PIDX["derived.pool.platform"], Y] == pytest.approx(40.0 / q)
    events = 8 * 10  # 8 events a year, 10 results pitched at each (DOC, ASM)
    assert base[PIDX["derived.pool.event"], Y] == pytest.approx(events / q)
    commissioners = base[PIDX["derived.commissioners"]] * base[PIDX["supply.offers_per_commissioner_year"]]
    assert base[PIDX["derived.pool.commissioner"]] == pytest.approx(commissioners / q)  # follows 35 → 324
    pushed = build_table(variant(baseline, levers=[lever("supply.platform_offers_per_year", "multiply", 2.0),
                                                   lever("supply.events_per_year", "add", 8.0, lid="ev")])).P
    assert pushed[PIDX["supply.platform_offers_per_year"], Y] == pytest.approx(80.0)
    assert pushed[PIDX["derived.pool.platform"]] == pytest.approx(base[PIDX["derived.pool.platform"]])
    assert pushed[PIDX["derived.pool.event"]] == pytest.approx(base[PIDX["derived.pool.event"]])


def test_a_candidate_is_kept_with_the_share_of_the_pool_left(rules: Callable[..., Draws]) -> None:
    P = params()
    ceiling = p(P, "derived.ceiling.platform")
    pool = p(P, "derived.pool.platform", Y)
    effort = p(P, "supply.platform_offers_per_year", Y) * _gain(p(P, "supply.pool_multiple", Y))
    W, R = np.zeros(L.N_W), np.zeros((L.N_ROWS, N_YEARS))
    W[L.W_POOL_YEAR + L.CH_PLATFORM], W[L.W_POOL_USED + L.CH_PLATFORM] = Y, 0.75 * pool  # a quarter left
    kept = 0.25 * effort / ceiling
    rules({S.D_THIN: lambda e, o: {1: kept - 1e-9, 2: kept + 1e-9, 3: effort / ceiling - 1e-9,
                                   4: effort / ceiling + 1e-9}[o]})
    assert supply.candidate_accepted(P, W, R, L.CH_PLATFORM, 1, T, N_YEARS, RK)
    assert not supply.candidate_accepted(P, W, R, L.CH_PLATFORM, 2, T, N_YEARS, RK)  # lost to the pool
    assert not supply.candidate_accepted(P, W, R, L.CH_PLATFORM, 3, T, N_YEARS, RK)  # lost to the pool
    assert not supply.candidate_accepted(P, W, R, L.CH_PLATFORM, 4, T, N_YEARS, RK)  # thinned
    assert R[L.R_POOL_LOST, Y] == 2 and R[L.R_POOL_LOST].sum() == 2
    # the same count stamped with last year reads as a fresh pool
    W[L.W_POOL_YEAR + L.CH_PLATFORM] = Y - 1
    assert supply.candidate_accepted(P, W, R, L.CH_PLATFORM, 3, T, N_YEARS, RK)
    W[L.W_POOL_YEAR + L.CH_PLATFORM], W[L.W_POOL_USED + L.CH_PLATFORM] = Y, 2 * pool  # more than the pool
    assert not supply.candidate_accepted(P, W, R, L.CH_PLATFORM, 1, T, N_YEARS, RK)


def test_using_the_pool_counts_per_channel_and_starts_again_each_year(rules: Callable[..., Draws]) -> None:
    rules()
    W = np.zeros(L.N_W)
    for _ in range(3):
        supply.use_pool(W, L.CH_AGENCY, Y)
    supply.use_pool(W, L.CH_EVENT, Y)
    assert W[L.W_POOL_USED + L.CH_AGENCY] == 3 and W[L.W_POOL_USED + L.CH_EVENT] == 1
    assert W[L.W_POOL_USED + L.CH_PLATFORM] == 0
    supply.use_pool(W, L.CH_AGENCY, Y + 1)
    assert W[L.W_POOL_USED + L.CH_AGENCY] == 1 and W[L.W_POOL_YEAR + L.CH_AGENCY] == Y + 1
    P = params()
    left = supply.pool_left(P, W, L.CH_AGENCY, Y + 1)
    assert left == pytest.approx(1 - 1 / p(P, "derived.pool.agency", Y + 1))
    assert supply.pool_left(P, W, L.CH_AGENCY, Y + 2) == 1.0  # nothing used yet in a later year


def test_an_events_pitch_is_new_with_the_share_left_times_the_gain(rules: Callable[..., Draws]) -> None:
    P = params()
    pool, g = p(P, "derived.pool.event", Y), _gain(p(P, "supply.pool_multiple", Y))
    W, R = np.zeros(L.N_W), np.zeros((L.N_ROWS, N_YEARS))
    W[L.W_POOL_YEAR + L.CH_EVENT] = Y
    W[L.W_POOL_USED + L.CH_EVENT] = 0.0
    assert g > 1  # an unused pool: every pitch is new, no draw needed
    d = rules({S.D_POOL_PITCH: 0.999999})
    assert supply.pitch_is_new(P, W, R, 7, Y, RK) and not d.log
    W[L.W_POOL_USED + L.CH_EVENT] = 0.6 * pool
    prob = g * 0.4
    rules({S.D_POOL_PITCH: lambda e, o: prob - 1e-9 if e == 1 else prob + 1e-9})
    assert supply.pitch_is_new(P, W, R, 1, Y, RK)
    assert not supply.pitch_is_new(P, W, R, 2, Y, RK)
    assert R[L.R_POOL_LOST, Y] == 1


def test_a_pushed_channel_brings_what_the_pool_allows(baseline) -> None:
    """Whole runs (compiled engine): today's flow unchanged in expectation, a channel at 2.5 × its effort
    brings (1 − e^(−2.5/m)) / (1 − e^(−1/m)) × today's, and without a limit it brings 2.5 × (Poisson means)."""
    reps = range(60)
    years = slice(8, 13)  # 2023–2027, the policy years

    def platform_offers(sc) -> float:
        R, _ = run_fast(build_table(sc), 0, reps)
        return float(np.asarray(R)[:, L.R_OFFERS_CH + L.CH_PLATFORM, years].mean())

    m = baseline.params.supply.pool_multiple
    push = [lever("supply.platform_offers_per_year", "multiply", 2.5)]
    today = platform_offers(baseline)
    pushed = platform_offers(variant(baseline, levers=push))
    unlimited = platform_offers(variant(baseline, params={"supply": {"pool_multiple": 1e6}}, levers=push))
    assert today == pytest.approx(40.0, rel=0.03)  # 60 × 5 years × 40: standard error ≈ 0.9 %
    assert pushed == pytest.approx(40.0 * (1 - math.exp(-2.5 / m)) / (1 - math.exp(-1 / m)), rel=0.03)
    assert unlimited == pytest.approx(100.0, rel=0.03)
    assert pushed < 0.9 * unlimited
