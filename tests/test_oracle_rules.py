"""Oracle tests of the rulebook (sim/rules/): each rule does what MODEL.md says, on a hand-made state.

Every test chooses the uniforms a rule sees (``tests.oracle.Draws`` replaces
the keyed draw), builds a few firms and one offer by hand, computes the
expected outcome from MODEL.md (sections 1.3, 3.1, 3.3, 3.6) and the rule's
docstring, and compares. Rules run as plain Python, so the whole file takes
seconds; inverse CDFs are compared at a relative 1e-6.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats

from sim import layout as L
from sim import streams as S
from sim.rng import rep_key
from sim.rules import (
    common,
    contract,
    finance,
    firms,
    industry,
    meeting,
    pilot,
    service,
    supply,
)
from sim.table import PIDX
from tests.oracle import (
    HORIZON,
    N_YEARS,
    REL,
    Draws,
    effective_awareness,
    exponential_median,
    firm,
    lognormal,
    offer,
    p,
    params,
    record,
    world,
)
from tests.oracle import firms as make_firms

year_end = importlib.import_module("sim.rules.year_end")  # the package re-exports a function of that name

Y = 9  # 2024: a policy year
T = Y + 0.5
SEED, REP = 0, 0
RK = np.uint64(rep_key(SEED, REP))  # the replication's key the engines hand to every rule


def sector_firms() -> np.ndarray:
    """Three firms in sector 0 (awareness 0.2, 0.5, 0.9) and two in sector 1 (0.3, 0.4)."""
    return make_firms(firm(0, aware=0.2), firm(0, aware=0.5), firm(0, aware=0.9), firm(1, aware=0.3),
                      firm(1, aware=0.4))


# ---- common: calendar, bookkeeping, awareness maps (MODEL.md 1.2, 3.6) ------------------------


def test_year_of_clips_to_the_simulated_years(rules: Callable[..., Draws]) -> None:
    rules()
    assert [common.year_of(t, 13) for t in (9.5, 0.0, -0.1, 12.999, 13.0, 40.0)] == [9, 0, 0, 12, 12, 12]


def test_add_interval_splits_by_calendar_year_and_clips_at_the_horizon(rules: Callable[..., Draws]) -> None:
    rules()
    R = record()
    common.add_interval(R, L.R_BROKER_BUSY, 2.5, 4.25, HORIZON)
    common.add_interval(R, L.R_BROKER_BUSY, 12.5, 14.0, HORIZON)
    expected = np.zeros(N_YEARS)
    expected[[2, 3, 4, 12]] = [0.5, 1.0, 0.25, 0.5]
    assert R[L.R_BROKER_BUSY] == pytest.approx(expected, abs=1e-12)
    assert R.sum() == pytest.approx(expected.sum())


def test_a_role_model_closes_a_share_of_every_sector_firms_gap(rules: Callable[..., Draws]) -> None:
    """MODEL.md 1.3 step 7 and 3.6: every firm of the sector a ↦ a + boost·(1 − a); other sectors untouched."""
    rules()
    F = sector_firms()
    W = world(F)
    common.encourage_sector(F, W, 0, 0.1)
    want = np.array([0.2 + 0.1 * 0.8, 0.5 + 0.1 * 0.5, 0.9 + 0.1 * 0.1, 0.3, 0.4])
    assert effective_awareness(F, W) == pytest.approx(want, rel=1e-12)
    assert W[L.W_AWARE_SUM] == pytest.approx(want[:3].sum()) and W[L.W_AWARE_MAX] == pytest.approx(want[2])
    assert W[L.W_AWARE_SUM + 1] == pytest.approx(0.7) and W[L.W_AWARE_MAX + 1] == pytest.approx(0.4)
    common.refresh_awareness(F, W)
    assert F[:, L.F_AWARE] == pytest.approx(want, rel=1e-12)
    assert W[L.W_AWARE_MUL:L.W_AWARE_MUL + 2] == pytest.approx([1.0, 1.0])
    assert W[L.W_AWARE_ADD:L.W_AWARE_ADD + 2] == pytest.approx([0.0, 0.0])


def test_an_imitation_discourages_every_other_firm_of_the_sector(rules: Callable[..., Draws]) -> None:
    """MODEL.md 1.3 step 3: every other firm of the sector loses a share of its awareness; the copier does not."""
    rules()
    F = sector_firms()
    W = world(F)
    common.discourage_sector(F, W, 0, 1, 0.5)
    want = np.array([0.1, 0.5, 0.45, 0.3, 0.4])
    assert effective_awareness(F, W) == pytest.approx(want, rel=1e-12)
    assert W[L.W_AWARE_SUM] == pytest.approx(1.05) and W[L.W_AWARE_MAX] == pytest.approx(0.5)
    common.discourage_sector(F, W, 0, 0, 0.5)  # now firm 0 copies: the others halve again
    want = np.array([0.1, 0.25, 0.225, 0.3, 0.4])
    assert effective_awareness(F, W) == pytest.approx(want, rel=1e-12)
    assert W[L.W_AWARE_SUM] == pytest.approx(want[:3].sum()) and W[L.W_AWARE_MAX] == pytest.approx(0.25)
    assert W[L.W_AWARE_SUM + 1] == pytest.approx(0.7)


def test_end_offer_closes_with_one_reason_counted_in_its_year(rules: Callable[..., Draws]) -> None:
    rules()
    O, R = offer(), record()
    common.end_offer(O, R, 0, T, L.RE_NO_DEAL, N_YEARS)
    assert O[0, L.O_REASON] == L.RE_NO_DEAL and O[0, L.O_STAGE] == L.ST_DONE and O[0, L.O_T_END] == T
    assert R[L.R_TERM + L.RE_NO_DEAL, Y] == 1 and R.sum() == 1


# ---- firms at the start (MODEL.md 3.1) ----------------------------------------------------------


def test_init_firms_draws_every_attribute_from_its_share(rules: Callable[..., Draws]) -> None:
    """Sector and county by their shares, R&D (SMEs at half the rate) that works or holds a title only
    (title_only_share; drawn only for firms with one), team, logit-normal awareness, liquidity, collateral,
    imitator; the initial high-tech firms are those with R&D and the smallest draw; firms are then stored sector
    by sector in firm order (MODEL.md 3.1)."""
    P = params({"firms.n_above_size": 3, "firms.n_tech_sme": 2, "hightech.initial_stock": 2,
                "platforms.title_only_share": 0.4})
    working_u = {0: 0.41, 2: 0.39, 4: 0.9}      # R&D firms only; title only below 0.4 → working 1, 0, 1
    sector_u = [0.90, 0.10, 0.20, 0.12, 0.50]   # cumulative shares .15 .37 .45 .55 1 → 4 0 1 0 3
    county_u = [0.99, 0.10, 0.40, 0.60, 0.90]   # cumulative .35 .55 .83 .97 1 → 4 0 1 2 3
    rd_u = [0.30, 0.50, 0.10, 0.30, 0.15]       # 0.4 for firms 0–2, 0.2 for SMEs 3–4 → 1 0 1 0 1
    talent_u = [0.20, 0.60, 0.60, 0.29, 0.31]   # < 0.3 → 1 0 0 1 0
    aware_u = [0.5, 0.1, 0.9, 0.3, 0.7]
    liquid_u = [0.1, 0.5, 0.29, 0.31, 0.9]      # < 0.3 → 1 0 1 0 0
    coll_u = [0.5, 0.6, 0.58, 0.59, 0.1]        # < 0.589 → 1 0 1 0 1
    imit_u = [0.07, 0.09, 0.5, 0.01, 0.5]       # < 0.08 → 1 0 0 1 0
    ht_u = [0.7, 0.01, 0.2, 0.05, 0.5]          # R&D firms 0, 2, 4: the two smallest are 2 and 4
    rules({S.D_FIRM_SECTOR: lambda e, o: sector_u[e], S.D_FIRM_COUNTY: lambda e, o: county_u[e],
           S.D_FIRM_RD: lambda e, o: rd_u[e], S.D_FIRM_TALENT: lambda e, o: talent_u[e],
           S.D_FIRM_AWARE: lambda e, o: aware_u[e], S.D_FIRM_LIQUID: lambda e, o: liquid_u[e],
           S.D_FIRM_COLLATERAL: lambda e, o: coll_u[e], S.D_FIRM_IMITATOR: lambda e, o: imit_u[e],
           S.D_FIRM_HIGHTECH: lambda e, o: ht_u[e], S.D_RD_WORKING: lambda e, o: working_u[e],
           S.D_HT_AGE: lambda e, o: {2: 0.5, 4: 0.9}[e]})  # certificates dated −⌊0.5·3⌋ = −1 and −⌊0.9·3⌋ = −2
    F = np.zeros((7, L.N_FCOL))  # two spare rows: room for entrants, left empty
    firms.init_firms(P, F, RK)
    mu = math.log(0.3 / 0.7)
    aware = [1.0 / (1.0 + math.exp(-(mu + 1.0 * stats.norm.ppf(u)))) for u in aware_u]
    by_firm = {  # firm: sector, county, rd, talent, liquid, collateral, imitator, high-tech
        0: (4, 4, 1, 1, 1, 1, 1, 0), 1: (0, 0, 0, 0, 0, 0, 0, 0), 2: (1, 1, 1, 0, 1, 1, 0, 1),
        3: (0, 2, 0, 1, 0, 0, 1, 0), 4: (3, 3, 1, 0, 0, 1, 0, 1)}
    order = [1, 3, 2, 4, 0]  # stored by sector, firm order within a sector
    for row, f in enumerate(order):
        sec, cty, rd, tal, liq, col, imi, ht = by_firm[f]
        got = F[row]
        assert (got[L.F_SECTOR], got[L.F_COUNTY], got[L.F_RD], got[L.F_TALENT]) == (sec, cty, rd, tal), f
        assert (got[L.F_LIQUID], got[L.F_COLLATERAL], got[L.F_IMITATOR], got[L.F_HIGHTECH]) == (liq, col, imi, ht), f
        assert got[L.F_AWARE] == pytest.approx(aware[f], rel=REL)
        assert got[L.F_VP_UNTIL] < 0 and got[L.F_LAST_USE] == 0
        assert got[L.F_RD_WORKING] == {0: 1, 2: 0, 4: 1}.get(f, 0), f
        assert got[L.F_SME] == (f >= 3) and got[L.F_ID] == f  # firms 3 and 4 are the science-based SMEs
        assert got[L.F_HT_SINCE] == {2: -1.0, 4: -2.0}.get(f, 0.0), f
    assert not F[5:].any()


def test_init_world_puts_in_the_first_years_fund_and_the_sector_sums(rules: Callable[..., Draws]) -> None:
    rules()
    P = params({"firms.n_above_size": 3, "firms.n_tech_sme": 2})
    P[PIDX["subsidy.fund_yuan_per_year"], 0] = 1234.0
    F = sector_firms()
    W = np.full(L.N_W, 7.0)
    firms.init_world(P, F, W)
    assert W[L.W_FUND] == 1234.0 and W[L.W_N_OFFERS] == 0 and W[L.W_IND_THIS_YEAR] == 0
    assert W[L.W_NEXT_FIRM_ID] == 5  # the first entrant's serial number
    assert list(W[L.W_SECTOR_START:L.W_SECTOR_START + L.N_SECTORS + 1]) == [0, 3, 5, 5, 5, 5]
    assert W[L.W_AWARE_SUM:L.W_AWARE_SUM + 2] == pytest.approx([1.6, 0.7])
    assert W[L.W_AWARE_MAX:L.W_AWARE_MAX + 2] == pytest.approx([0.9, 0.4])
    assert effective_awareness(F, W) == pytest.approx([0.2, 0.5, 0.9, 0.3, 0.4])
    assert np.all(W[L.W_OPEN:L.W_OPEN + L.N_SECTORS] == 0)


# ---- supply (MODEL.md 1.3 step 1) -------------------------------------------------------------


def test_channel_rates_are_the_products_of_their_parameters(rules: Callable[..., Draws]) -> None:
    rules()
    P = params({"supply.platform_offers_per_year": 41.0, "supply.workstations": 20.0,
                "supply.offers_per_workstation_year": 2.5, "supply.agencies": 6.0, "supply.offers_per_agency_year": 3.0,
                "derived.commissioners": 300.0, "supply.offers_per_commissioner_year": 0.2, "supply.institutes": 4.0,
                "supply.offers_per_institute_year": 6.0})
    want = {L.CH_EVENT: 0.0, L.CH_PLATFORM: 41.0, L.CH_WORKSTATION: 50.0, L.CH_AGENCY: 18.0,
            L.CH_COMMISSIONER: 60.0, L.CH_INSTITUTE: 24.0}
    for ch, rate in want.items():
        assert supply.channel_rate(P, ch, Y) == pytest.approx(rate), ch


def test_candidates_arrive_at_the_ceiling_rate_and_are_thinned_to_the_years_rate(
        rules: Callable[..., Draws]) -> None:
    """Poisson candidates at the ceiling rate; candidate k is kept with probability rate(t) × the pool's gain /
    ceiling while the year's pool is unused (tests/test_oracle_pools.py: as it is used)."""
    P = params()
    ceiling = p(P, "derived.ceiling.platform")
    m = p(P, "supply.pool_multiple", Y)
    share = p(P, "supply.platform_offers_per_year", Y) / (m * -math.expm1(-1 / m)) / ceiling
    assert 0 < share < 1
    rules({S.D_ARRIVAL_GAP: 0.5, S.D_THIN: lambda e, o: share - 1e-9 if o == 4 else share + 1e-9})
    # exponential at u = 0.5: its median, ln 2 / rate, whichever tail the inverse CDF maps u to
    assert supply.candidate_gap(P, L.CH_PLATFORM, 4, RK) == pytest.approx(math.log(2) / ceiling, rel=REL)
    W, R = np.zeros(L.N_W), np.zeros((L.N_ROWS, N_YEARS))
    assert supply.candidate_accepted(P, W, R, L.CH_PLATFORM, 4, T, N_YEARS, RK)
    assert not supply.candidate_accepted(P, W, R, L.CH_PLATFORM, 5, T, N_YEARS, RK)
    assert R[L.R_POOL_LOST].sum() == 0  # rejected by thinning, not by the pool


def test_event_calendar_keys_and_sizes(rules: Callable[..., Draws]) -> None:
    """24 slots a year, n events use the first n of the fixed order, mid-slot times, stable keys."""
    rules()
    P = params({"supply.events_per_year": 3.0, "supply.offers_per_event": 200.0})
    assert list(supply.event_slots(P, Y)) == [0, 6, 12]
    assert supply.offers_at_event(P, Y) == L.MAX_OFFERS_PER_EVENT
    P[PIDX["supply.events_per_year"], Y] = 7.5
    assert supply.events_in_year(P, Y) == 8
    P[PIDX["supply.events_per_year"], Y] = 30.0
    assert supply.events_in_year(P, Y) == 24
    assert supply.slot_time(2, 6) == pytest.approx(2 + 6.5 / 24)
    assert supply.offer_key(3, 17) == 3 * 2**30 + 17  # channel · 2**30 + serial (sim/rng.py key layout)
    assert supply.event_offer_key(2, 6, 5) == (2 * 24 + 6) * 128 + 5
    keys = {supply.event_offer_key(y, s, k) for y in range(3) for s in range(24) for k in range(128)}
    assert len(keys) == 3 * 24 * 128


def test_create_offer_draws_sector_maturity_value_and_patent(rules: Callable[..., Draws]) -> None:
    P = params()
    d = rules({S.D_OFFER_SECTOR: 0.40, S.D_OFFER_TRL: 0.50, S.D_OFFER_MATURE: 0.01, S.D_OFFER_DEMAND_LED: 0.01,
               S.D_OFFER_VALUE: 0.8, S.D_OFFER_PATENT: 0.59})
    O, W, R = np.zeros((3, L.N_OCOL)), np.zeros(L.N_W), record()
    W[L.W_N_OFFERS] = 1
    i = supply.create_offer(P, O, W, R, 77, L.CH_PLATFORM, T, N_YEARS, RK)
    assert i == 1 and W[L.W_N_OFFERS] == 2
    o = O[1]
    assert o[L.O_KEY] == 77 and o[L.O_CHANNEL] == L.CH_PLATFORM and o[L.O_T_ARRIVE] == T
    assert o[L.O_SECTOR] == 2          # cumulative sector shares .15 .37 .45 …: 0.40 → sector 2
    assert o[L.O_TRL] == 5              # cumulative TRL shares .15 .40 .65 …: 0.50 → TRL 5
    assert o[L.O_VALUE] == pytest.approx(lognormal(0.8, 250_000.0, 0.9), rel=REL)
    assert o[L.O_PATENT] == 1 and o[L.O_FIRM] == -1 and o[L.O_STAGE] == L.ST_MEETING and o[L.O_REASON] == 0
    assert R[L.R_OFFERS, Y] == 1 and R[L.R_OFFERS_CH + L.CH_PLATFORM, Y] == 1 and R.sum() == 2
    # maturation and demand-led results act on what the institutes select, not on every channel (MODEL.md 1.3)
    assert o[L.O_DEMAND_LED] == 0 and S.D_OFFER_MATURE not in d.streams() and S.D_OFFER_DEMAND_LED not in d.streams()


def test_institutes_pitch_to_their_three_sectors_with_a_trl_bonus_capped_at_9(rules: Callable[..., Draws]) -> None:
    """MODEL.md 1.3 step 1: an institute result is demand-led with demand_led_share (+1 TRL, marked and counted)
    and matured with maturation_share (+1 TRL), on top of the institutes' TRL bonus; TRL is capped at 9."""
    P = params({"supply.maturation_share": 0.5, "supply.demand_led_share": 0.3})
    rules({S.D_OFFER_SECTOR: 0.7, S.D_OFFER_TRL: [0.5, 0.99, 0.5], S.D_OFFER_MATURE: [0.2, 0.2, 0.51],
           S.D_OFFER_DEMAND_LED: [0.29, 0.31, 0.31], S.D_OFFER_VALUE: 0.5, S.D_OFFER_PATENT: 0.9})
    O, W, R = np.zeros((3, L.N_OCOL)), np.zeros(L.N_W), record()
    supply.create_offer(P, O, W, R, 5, L.CH_INSTITUTE, T, N_YEARS, RK)
    assert O[0, L.O_SECTOR] == 2 and O[0, L.O_TRL] == 5 + 1 + 1 + 1  # bonus 1, matured +1, demand-led +1
    assert O[0, L.O_DEMAND_LED] == 1 and R[L.R_OFFERS_DEMAND_LED, Y] == 1
    assert O[0, L.O_PATENT] == 0 and O[0, L.O_VALUE] == pytest.approx(250_000.0, rel=REL)
    supply.create_offer(P, O, W, R, 6, L.CH_INSTITUTE, T, N_YEARS, RK)
    assert O[1, L.O_TRL] == 9 and O[1, L.O_DEMAND_LED] == 0  # TRL 8 + 1 + 1, capped; not demand-led
    supply.create_offer(P, O, W, R, 7, L.CH_INSTITUTE, T, N_YEARS, RK)
    assert O[2, L.O_TRL] == 5 + 1 and O[2, L.O_DEMAND_LED] == 0  # the bonus only
    assert R[L.R_OFFERS_DEMAND_LED].sum() == 1 and R[L.R_OFFERS_CH + L.CH_INSTITUTE, Y] == 3


# ---- meeting (MODEL.md 1.3 step 2) ------------------------------------------------------------


def test_broker_mode_and_capacity(rules: Callable[..., Draws]) -> None:
    """A broker unless every broker is busy and the queue is full; a turned-away result is counted."""
    rules()
    P = params({"meeting.brokers": 8.7, "meeting.broker_queue_cap": 6.0})
    R = record()
    assert meeting.broker_capacity(P, Y) == 8
    assert meeting.broker_mode(P, R, T, N_YEARS, True, 50) == L.MM_BROKER
    assert meeting.broker_mode(P, R, T, N_YEARS, False, 5) == L.MM_BROKER
    assert R.sum() == 0
    assert meeting.broker_mode(P, R, T, N_YEARS, False, 6) == L.MM_UNASSISTED
    assert R[L.R_BALK_BROKER, Y] == 1
    none = params({"meeting.brokers": 0.5})
    assert meeting.broker_mode(none, R, T, N_YEARS, True, 0) == L.MM_UNASSISTED
    assert R[L.R_BALK_BROKER].sum() == 1  # no broker at all: nobody was turned away


def test_search_time_and_retry_gap(rules: Callable[..., Draws]) -> None:
    """Search time lognormal (median, log sd) keyed by the attempt; retry pause exponential with its median."""
    P = params()
    d = rules({S.D_SEARCH_TIME: 0.8, S.D_RETRY_GAP: 0.5})
    O = offer(key=99, attempt=1)
    assert meeting.search_time(P, O, 0, T, N_YEARS, RK) == pytest.approx(lognormal(0.8, 0.025, 0.5), rel=REL)
    assert meeting.retry_gap(P, O, 0, T, N_YEARS, RK) == pytest.approx(0.25, rel=REL)  # its median
    assert d.log == [(S.D_SEARCH_TIME, 99, 1), (S.D_RETRY_GAP, 99, 1)]


def test_pick_firm_is_proportional_to_awareness_by_rejection(rules: Callable[..., Draws]) -> None:
    """A uniformly proposed firm of the sector is accepted with probability awareness / the sector's top.

    With every capacity weight 0 the weight is awareness alone (the capacity factor: tests/test_oracle_absorb.py).
    """
    P = params({"absorb.weight_rd": 0.0, "absorb.weight_talent": 0.0, "absorb.weight_vp": 0.0})
    F = sector_firms()
    W = world(F)
    # try 1: proposes firm 0 (0.1·3 → 0), accepts if 0.5·0.9 < 0.2: no; try 2: firm 1, 0.45 < 0.5: yes
    d = rules({S.D_FIRM_PICK: [0.1, 0.5, 0.5, 0.5]})
    assert meeting.pick_firm(P, F, W, 0, Y, T, RK, 42, 1) == 1
    assert len(set(d.log)) == 4  # every try has its own keyed pair of draws
    rules({S.D_FIRM_PICK: [0.99, 0.999]})  # sector 1: proposes its second firm (row 4); 0.3996 < 0.4
    assert meeting.pick_firm(P, F, W, 1, Y, T, RK, 42, 0) == 4
    rules()
    assert meeting.pick_firm(P, F, W, 2, Y, T, RK, 42, 0) == -1  # an empty sector


@pytest.mark.parametrize(("mode", "mu_name"), [(L.MM_BROKER, "meeting.efficiency_broker"),
                                               (L.MM_EVENT, "meeting.efficiency_event"),
                                               (L.MM_UNASSISTED, "meeting.efficiency_unassisted")])
def test_meeting_probability_is_the_matching_function(rules: Callable[..., Draws], mode: int, mu_name: str) -> None:
    """P(meet) = μ_mode · (D/S)^α, D the sector's summed awareness, S its searching results (this one included)."""
    P = params({"meeting.alpha": 0.7})
    F = sector_firms()
    chance = p(P, mu_name) * (1.6 / 4.0) ** 0.7
    for u, met in ((chance - 1e-9, True), (chance + 1e-9, False)):
        W = world(F)
        W[L.W_OPEN] = 4.0
        O, R = offer(key=5, attempt=0), record()
        rules({S.D_MEET: u, S.D_FIRM_PICK: [0.99, 0.1]})
        assert meeting.decide_meeting(P, F, O, W, R, 0, T, mode, N_YEARS, RK) == int(met)
        assert W[L.W_OPEN] == 3.0 and O[0, L.O_ATTEMPT] == 1
        if met:
            assert O[0, L.O_FIRM] == 2 and O[0, L.O_T_MEET] == T and O[0, L.O_STAGE] == L.ST_NEGOTIATION
            # the firm's serial is kept, and the offer goes on the list of projects the year's end follows
            assert O[0, L.O_FIRM_ID] == F[2, L.F_ID] and W[L.W_LIVE_HEAD] == 1 and O[0, L.O_NEXT_LIVE] == 0
            assert R[L.R_MEETINGS, Y] == 1 and R[L.R_MEETINGS_EVENT, Y] == (1 if mode == L.MM_EVENT else 0)
        else:
            assert O[0, L.O_STAGE] == L.ST_MEETING and R.sum() == 0


def test_no_awareness_no_meeting_and_attempts_run_out(rules: Callable[..., Draws]) -> None:
    P = params({"meeting.attempts": 2})
    F = make_firms(firm(0, aware=0.0))
    W = world(F)
    O, R = offer(), record()
    rules({S.D_MEET: 1e-12})
    assert meeting.decide_meeting(P, F, O, W, R, 0, T, L.MM_EVENT, N_YEARS, RK) == 0
    assert not meeting.meeting_exhausted(P, O, R, 0, T, N_YEARS)  # attempt 1 of 2 used
    O[0, L.O_ATTEMPT] = 2
    assert meeting.meeting_exhausted(P, O, R, 0, T, N_YEARS)
    assert O[0, L.O_REASON] == L.RE_NO_MATCH and R[L.R_TERM + L.RE_NO_MATCH, Y] == 1


def test_a_demand_led_result_always_meets(rules: Callable[..., Draws]) -> None:
    """MODEL.md 1.3 step 2: a demand-led result always meets (the asking firm is known) — whatever the draw —
    as long as the sector has an aware firm; an ordinary result at the same draw does not."""
    P = params()
    F = sector_firms()
    for demand_led, met in ((1, 1), (0, 0)):
        W, O, R = world(F), offer(key=5), record()
        W[L.W_OPEN] = 4.0
        O[0, L.O_DEMAND_LED] = demand_led
        rules({S.D_MEET: 1 - 1e-12, S.D_FIRM_PICK: [0.99, 0.1]})
        assert meeting.decide_meeting(P, F, O, W, R, 0, T, L.MM_UNASSISTED, N_YEARS, RK) == met
        assert R[L.R_MEETINGS, Y] == met and O[0, L.O_FIRM] == (2 if met else 0)


def test_transfer_agencies_bring_brokers() -> None:
    """MODEL.md 1.2: brokers at work = meeting.brokers + brokers_per_agency for every agency added since the first
    year (agencies are intermediary capacity). Built through the scenario, as the engines see it."""
    from sim.scenario import baseline_scenario
    from sim.table import build_table
    from tests.conftest import lever, variant

    sc = variant(baseline_scenario(), params={"meeting": {"brokers_per_agency": 2.0}},
                 levers=[lever("supply.agencies", "add", 3.0, start=2023)])
    P = build_table(sc).P
    assert meeting.broker_capacity(P, 2022 - 2015) == 8
    assert meeting.broker_capacity(P, Y) == 8 + 2 * 3
    assert supply.channel_rate(P, L.CH_AGENCY, Y) == pytest.approx(10 * 4.0)  # and their results


def test_open_search_adds_the_offer_to_its_sectors_pool(rules: Callable[..., Draws]) -> None:
    rules()
    O, W = offer(sector=3), np.zeros(L.N_W)
    meeting.open_search(O, W, 0)
    assert W[L.W_OPEN + 3] == 1 and W.sum() == 1


# ---- contract, imitation and subsidy (MODEL.md 1.3 steps 3–4) ----------------------------------


def contract_logit(P: np.ndarray, rd: int, talent: int, vp: int, patent: int, value: float, rate: float,
                   fit: float | None = None) -> float:
    """MODEL.md 1.3 step 3: ``rd`` a *working* R&D institution; ``fit`` 1 for a demand-led result, else
    contract.need_fit."""
    fit = p(P, "contract.need_fit") if fit is None else fit
    return (p(P, "contract.base_logit") + p(P, "contract.b_rd_institution") * rd + p(P, "contract.b_talent") * talent
            + p(P, "contract.b_vice_president") * vp + p(P, "contract.b_evaluation") * p(P, "contract.evaluation_level")
            + p(P, "contract.b_patent") * patent - p(P, "contract.b_value") * math.log(value / 250_000.0)
            + p(P, "contract.b_subsidy") * rate + p(P, "contract.b_need_fit") * fit)


def claim_prob(P: np.ndarray) -> float:
    """MODEL.md 1.3 step 4: claim_prob, and publicity brings a share claim_publicity of the others."""
    return p(P, "subsidy.claim_prob") + (1 - p(P, "subsidy.claim_prob")) * p(P, "subsidy.claim_publicity")


def test_negotiation_time_is_lognormal(rules: Callable[..., Draws]) -> None:
    P = params()
    d = rules({S.D_NEGOTIATION_TIME: 0.3})
    got = contract.negotiation_time(P, offer(key=11), 0, T, N_YEARS, RK)
    assert got == pytest.approx(lognormal(0.3, 0.15, 0.5), rel=REL) and d.log == [(S.D_NEGOTIATION_TIME, 11, 0)]


def test_an_imitator_copies_with_probability_imitation_times_unprotected(rules: Callable[..., Draws]) -> None:
    P = params()
    p_copy = 0.5 * (1 - 0.3)
    F = make_firms(firm(0, aware=0.4), firm(0, aware=0.6, imitator=1), firm(1, aware=0.5))
    W = world(F)
    O, R = offer(firm_row=1), record()
    rules({S.D_IMITATE: p_copy - 1e-9})
    assert contract.decide_contract(P, F, O, W, R, 0, T, N_YEARS, RK) == 0
    assert O[0, L.O_REASON] == L.RE_IMITATED and R[L.R_IMITATIONS, Y] == 1 and R[L.R_CONTRACTS].sum() == 0
    assert effective_awareness(F, W) == pytest.approx([0.4 * 0.98, 0.6, 0.5], rel=1e-12)
    # just above the copy probability the imitator negotiates like anyone else
    O, R, W = offer(firm_row=1), record(), world(F)
    rules({S.D_IMITATE: p_copy + 1e-9, S.D_CONTRACT: 0.999999, S.D_SUBSIDY_CLAIM: 0.9})
    assert contract.decide_contract(P, F, O, W, R, 0, T, N_YEARS, RK) == 0
    assert O[0, L.O_REASON] == L.RE_NO_DEAL and R[L.R_IMITATIONS].sum() == 0


@pytest.mark.parametrize(("county", "topup"), [(0, True), (1, True), (2, True), (3, False), (4, False)])
def test_contract_logit_and_the_subsidy_with_the_county_top_up(rules: Callable[..., Draws], county: int,
                                                               topup: bool) -> None:
    """Logit of R&D, team, vice-president, evaluation, patent, value and subsidy rate (city + county top-up in
    曾都, 随县, 广水); a claim is paid 20 % of the value from the fund, the top-up 10 % in those three counties."""
    P = params()
    value = 500_000.0
    F = make_firms(firm(0, county=county, rd=1, talent=0, vp_until=T + 1, aware=0.5, imitator=0))
    rate = 0.2 + (0.1 if topup else 0.0)
    chance = 1 / (1 + math.exp(-contract_logit(P, 1, 0, 1, 1, value, rate)))
    for u, signed in ((chance - 1e-9, True), (chance + 1e-9, False)):
        W = world(F, fund=1_000_000.0)
        O, R = offer(value=value, patent=1, sector=0, key=8), record()
        d = rules({S.D_CONTRACT: u, S.D_SUBSIDY_CLAIM: claim_prob(P) - 1e-9})
        assert contract.decide_contract(P, F, O, W, R, 0, T, N_YEARS, RK) == int(signed)
        assert S.D_IMITATE not in d.streams()  # not an imitator: no copying decision
        if not signed:
            assert O[0, L.O_REASON] == L.RE_NO_DEAL and R[L.R_CONTRACTS].sum() == 0 and W[L.W_FUND] == 1_000_000
            continue
        assert O[0, L.O_STAGE] == L.ST_PILOT and O[0, L.O_T_CONTRACT] == T and F[0, L.F_LAST_USE] == T
        assert R[L.R_CONTRACTS, Y] == 1 and R[L.R_CONTRACT_VALUE, Y] == value
        assert R[L.R_CONTRACTS_COUNTY + county, Y] == 1 and R[L.R_CONTRACTS_SECTOR + 0, Y] == 1
        # the subsidy received (city and county, MODEL.md 1.2) is the firm's money for the pilot; the fund pays
        # the city's share
        assert W[L.W_FUND] == pytest.approx(900_000.0)
        assert O[0, L.O_SUBSIDY] == pytest.approx(100_000.0 + (50_000.0 if topup else 0.0))
        assert R[L.R_SUBSIDISED, Y] == 1 and R[L.R_M_SUBSIDY_CITY, Y] == pytest.approx(100_000.0)
        assert R[L.R_M_SUBSIDY_COUNTY, Y] == pytest.approx(50_000.0 if topup else 0.0)
        assert R[L.R_M_FIRM_RD, Y] == pytest.approx(value)


def test_an_expired_vice_president_no_longer_helps_the_contract(rules: Callable[..., Draws]) -> None:
    """The vice-president term counts only while the placement lasts (F_VP_UNTIL > t)."""
    P = params()
    # not claimed (draw 0.9): the firm expects no subsidy
    with_vp = 1 / (1 + math.exp(-contract_logit(P, 0, 0, 1, 0, 250_000.0, 0.0)))
    without = 1 / (1 + math.exp(-contract_logit(P, 0, 0, 0, 0, 250_000.0, 0.0)))
    u = (with_vp + without) / 2  # signs with a placed VP, not without
    for vp_until, signed in ((T + 0.01, 1), (T - 0.01, 0)):
        F = make_firms(firm(0, county=3, vp_until=vp_until))
        W, O, R = world(F), offer(), record()
        rules({S.D_CONTRACT: u, S.D_SUBSIDY_CLAIM: 0.9})
        assert contract.decide_contract(P, F, O, W, R, 0, T, N_YEARS, RK) == signed, vp_until


def test_the_subsidy_is_paid_only_while_the_fund_holds_it(rules: Callable[..., Draws]) -> None:
    """MODEL.md 1.3 step 4: paid 'if the year's fund still holds it' — never overspent; a refusal is counted."""
    P = params()
    F = make_firms(firm(0, county=1))
    for fund, paid in ((99_999.0, False), (100_000.0, True), (1.0, False)):
        W = world(F, fund=fund)
        O, R = offer(value=500_000.0), record()
        rules({S.D_CONTRACT: 1e-9, S.D_SUBSIDY_CLAIM: 0.1})
        assert contract.decide_contract(P, F, O, W, R, 0, T, N_YEARS, RK) == 1
        if paid:
            assert W[L.W_FUND] == pytest.approx(0.0) and R[L.R_SUBSIDISED, Y] == 1
            assert R[L.R_SUBSIDY_DENIED].sum() == 0
        else:
            assert W[L.W_FUND] == fund and O[0, L.O_SUBSIDY] == 0 and R[L.R_SUBSIDISED].sum() == 0
            assert R[L.R_M_SUBSIDY_CITY].sum() == 0 and R[L.R_SUBSIDY_DENIED, Y] == 1
        assert W[L.W_FUND] >= 0


def test_the_subsidy_cap_and_an_unclaimed_subsidy(rules: Callable[..., Draws]) -> None:
    P = params({"subsidy.cap_per_project_yuan": 60_000.0})
    F = make_firms(firm(0, county=2))
    W, O, R = world(F, fund=1e6), offer(value=500_000.0), record()
    rules({S.D_CONTRACT: 1e-9, S.D_SUBSIDY_CLAIM: 0.1})
    contract.decide_contract(P, F, O, W, R, 0, T, N_YEARS, RK)
    assert R[L.R_M_SUBSIDY_CITY, Y] == pytest.approx(60_000.0) and W[L.W_FUND] == pytest.approx(940_000.0)
    assert R[L.R_M_SUBSIDY_COUNTY, Y] == pytest.approx(50_000.0)  # 10 % of 500 k is below the cap
    W, O, R = world(F, fund=1e6), offer(value=500_000.0), record()
    assert claim_prob(P) == pytest.approx(0.42)  # no publicity by default: claim_prob alone
    rules({S.D_CONTRACT: 1e-9, S.D_SUBSIDY_CLAIM: 0.42 + 1e-9})  # not claimed
    assert contract.decide_contract(P, F, O, W, R, 0, T, N_YEARS, RK) == 1
    assert W[L.W_FUND] == 1e6 and R[L.R_SUBSIDISED].sum() == 0 and R[L.R_SUBSIDY_DENIED].sum() == 0
    assert O[0, L.O_SUBSIDY] == 0


def test_publicity_brings_a_share_of_the_others_to_claim(rules: Callable[..., Draws]) -> None:
    """MODEL.md 1.3 step 4 (measure 三(一)一): claim_publicity 0.5 brings half of the 58 % who would not claim:
    a claim with probability 0.42 + 0.58 · 0.5 = 0.71; the subsidy received is the firm's money (O_SUBSIDY)."""
    P = params({"subsidy.claim_publicity": 0.5})
    F = make_firms(firm(0, county=3))
    for u, claimed in ((0.71 - 1e-9, True), (0.71 + 1e-9, False)):
        W, O, R = world(F, fund=1e6), offer(value=500_000.0), record()
        rules({S.D_CONTRACT: 1e-9, S.D_SUBSIDY_CLAIM: u})
        assert contract.decide_contract(P, F, O, W, R, 0, T, N_YEARS, RK) == 1
        assert R[L.R_SUBSIDISED, Y] == int(claimed)
        assert O[0, L.O_SUBSIDY] == pytest.approx(100_000.0 if claimed else 0.0)  # 高新区: no county top-up
        assert W[L.W_FUND] == pytest.approx(1e6 - (100_000.0 if claimed else 0.0))


@pytest.mark.parametrize(("claim_u", "fund", "county", "rate"), [
    (0.42 - 1e-9, 1e6, 3, 0.2),          # claims, the fund pays: the city's 20 %
    (0.42 - 1e-9, 1e6, 1, 0.3),          # and the county's 10 % in 随县
    (0.42 + 1e-9, 1e6, 1, 0.0),          # does not claim: expects nothing
    (0.42 - 1e-9, 99_999.0, 1, 0.0),     # claims, but the fund can no longer pay its 100 k: nothing (no top-up)
    (0.42 - 1e-9, 100_000.0, 3, 0.2),    # the fund holds exactly its subsidy
])
def test_the_contract_sees_the_subsidy_the_firm_expects(rules: Callable[..., Draws], claim_u: float, fund: float,
                                                        county: int, rate: float) -> None:
    """MODEL.md 1.3 step 3 (ASM expectation rule): the claim is drawn before the decision; only a claiming firm
    counts on the subsidy, and only if the year's fund still holds its city subsidy when it decides — then the
    city's rate and, in the three top-up counties, the county's."""
    P = params()
    value = 500_000.0
    chance = 1 / (1 + math.exp(-contract_logit(P, 0, 0, 0, 0, value, rate)))
    no_subsidy = 1 / (1 + math.exp(-contract_logit(P, 0, 0, 0, 0, value, 0.0)))
    for u, signed in ((chance - 1e-9, 1), (chance + 1e-9, 0)):
        F = make_firms(firm(0, county=county))
        W, O, R = world(F, fund=fund), offer(value=value), record()
        rules({S.D_CONTRACT: u, S.D_SUBSIDY_CLAIM: claim_u})
        assert contract.decide_contract(P, F, O, W, R, 0, T, N_YEARS, RK) == signed
        if signed:
            assert R[L.R_SUBSIDISED, Y] == int(rate > 0) and O[0, L.O_SUBSIDY] == pytest.approx(value * rate)
    if rate > 0:
        assert chance > no_subsidy  # the expected subsidy moves the decision, not only the payout


def test_an_exhausted_fund_and_publicity_change_the_decision(rules: Callable[..., Draws]) -> None:
    """The same firm and draws sign with a full fund and walk away with an empty one; publicity
    (subsidy.claim_publicity 0.5: a claim below 0.71) turns a non-claimer at 0.6 into a signer."""
    value = 500_000.0
    P = params()
    with_sub = 1 / (1 + math.exp(-contract_logit(P, 0, 0, 0, 0, value, 0.2)))
    without = 1 / (1 + math.exp(-contract_logit(P, 0, 0, 0, 0, value, 0.0)))
    u = (with_sub + without) / 2
    F = make_firms(firm(0, county=3))
    for fund, signed in ((1e6, 1), (0.0, 0)):
        W, O, R = world(F, fund=fund), offer(value=value), record()
        rules({S.D_CONTRACT: u, S.D_SUBSIDY_CLAIM: 0.1})
        assert contract.decide_contract(P, F, O, W, R, 0, T, N_YEARS, RK) == signed
        assert R[L.R_SUBSIDY_DENIED].sum() == 0  # a firm that walked away was never refused a payment
    for pub, signed in ((0.0, 0), (0.5, 1)):
        Pp = params({"subsidy.claim_publicity": pub})
        W, O, R = world(F, fund=1e6), offer(value=value), record()
        rules({S.D_CONTRACT: u, S.D_SUBSIDY_CLAIM: 0.6})
        assert contract.decide_contract(Pp, F, O, W, R, 0, T, N_YEARS, RK) == signed


@pytest.mark.parametrize(("channel", "inst", "level"), [
    (L.CH_INSTITUTE, 0.3, 0.5),     # the institutes evaluate the results that pass through them
    (L.CH_PLATFORM, 0.3, 0.2),      # not a negotiation of another channel: the city-wide level only
    (L.CH_INSTITUTE, 0.0, 0.2),     # none today
    (L.CH_INSTITUTE, 0.9, 1.0),     # the sum is capped at 1
])
def test_institute_evaluation_acts_on_the_institutes_results_only(rules: Callable[..., Draws], channel: int,
                                                                  inst: float, level: float) -> None:
    """MODEL.md 1.3 step 3: contract.institute_evaluation adds to the evaluation level of institute results."""
    P = params({"contract.institute_evaluation": inst})
    base = contract_logit(P, 0, 0, 0, 0, 250_000.0, 0.0) - p(P, "contract.b_evaluation") * 0.2
    chance = 1 / (1 + math.exp(-(base + p(P, "contract.b_evaluation") * level)))
    for u, signed in ((chance - 1e-9, 1), (chance + 1e-9, 0)):
        F = make_firms(firm(0, county=3))
        W, O, R = world(F), offer(channel=channel), record()
        rules({S.D_CONTRACT: u, S.D_SUBSIDY_CLAIM: 0.9})
        assert contract.decide_contract(P, F, O, W, R, 0, T, N_YEARS, RK) == signed


@pytest.mark.parametrize(("working", "demand_led"), [(1, 0), (0, 0), (0, 1), (1, 1)])
def test_only_a_working_rd_institution_and_need_fit_enter_the_contract_logit(
        rules: Callable[..., Draws], working: int, demand_led: int) -> None:
    """MODEL.md 1.3 step 3: a title-only R&D institution brings no absorptive capacity; the need fit is 1 for a
    demand-led result, else contract.need_fit (0.1 by default)."""
    P = params()
    fit = 1.0 if demand_led else 0.1
    chance = 1 / (1 + math.exp(-contract_logit(P, working, 0, 0, 0, 250_000.0, 0.0, fit=fit)))  # not claimed
    for u, signed in ((chance - 1e-9, 1), (chance + 1e-9, 0)):
        F = make_firms(firm(0, county=3, rd=1, working=working))
        W, O, R = world(F), offer(), record()
        O[0, L.O_DEMAND_LED] = demand_led
        rules({S.D_CONTRACT: u, S.D_SUBSIDY_CLAIM: 0.9})
        assert contract.decide_contract(P, F, O, W, R, 0, T, N_YEARS, RK) == signed


# ---- pilot test (MODEL.md 1.3 step 5) ---------------------------------------------------------


def test_mature_results_skip_the_pilot_without_a_draw(rules: Callable[..., Draws]) -> None:
    P = params()
    rules()
    F, O, R = make_firms(firm(0, rd=1, talent=1)), offer(trl=6), record()
    W = world(F)
    assert pilot.choose_pilot(P, F, O, W, R, 0, T, N_YEARS, True, 0, RK) == L.PR_NONE
    assert O[0, L.O_ROUTE] == L.PR_NONE and R.sum() == 0 and W[L.W_FUND] == 10_000_000.0


@pytest.mark.parametrize(("rd_team", "u_inhouse", "free", "queue", "slots", "route", "balk"), [
    (True, 0.49, False, 9, 3.0, L.PR_INHOUSE, 0),
    (True, 0.51, True, 9, 3.0, L.PR_PUBLIC, 0),
    (False, None, False, 2, 3.0, L.PR_PUBLIC, 0),
    (False, None, False, 3, 3.0, L.PR_OUTSIDE, 1),
    (False, None, True, 0, 0.0, L.PR_OUTSIDE, 0),
])
def test_pilot_route_and_cost(rules: Callable[..., Draws], rd_team: bool, u_inhouse: float | None, free: bool,
                              queue: int, slots: float, route: int, balk: int) -> None:
    """In-house (a working R&D institution and a team, with a probability), else a public base with room (a free
    slot or a queue shorter than its cap), else outside (counted as turned away only if public bases exist). The
    cost is value × route factor × lognormal multiple."""
    P = params({"pilot.public_slots": slots})
    F = make_firms(firm(0, rd=int(rd_team), talent=int(rd_team), liquid=1))
    W = world(F)
    O, R = offer(trl=4, value=200_000.0), record()
    chosen: dict[int, object] = {S.D_PILOT_COST: 0.7}
    if u_inhouse is not None:
        chosen[S.D_PILOT_INHOUSE] = u_inhouse
    d = rules(chosen)
    assert pilot.choose_pilot(P, F, O, W, R, 0, T, N_YEARS, free, queue, RK) == route
    factor = {L.PR_INHOUSE: 1.0, L.PR_PUBLIC: 0.6, L.PR_OUTSIDE: 1.5}[route]
    cost = 200_000.0 * factor * lognormal(0.7, 6.0, 0.5)
    assert O[0, L.O_ROUTE] == route and O[0, L.O_PILOT_COST] == pytest.approx(cost, rel=REL)
    assert R[L.R_PILOTS + route - 1, Y] == 1 and R[L.R_PILOTS:L.R_PILOTS + 3].sum() == 1
    assert R[L.R_M_PILOT_COST, Y] == pytest.approx(cost, rel=REL)
    assert R[L.R_M_FIRM_RD, Y] == pytest.approx(cost, rel=REL)
    assert R[L.R_BALK_PILOT, Y] == balk
    assert S.D_PILOT_FINANCE not in d.streams()  # a liquid firm pays itself
    assert W[L.W_FUND] == 10_000_000.0 and R[L.R_M_MATCHING].sum() == 0  # no matching funds by default


def test_a_title_only_rd_institution_does_not_test_in_house(rules: Callable[..., Draws]) -> None:
    """MODEL.md 1.3 step 5: in-house pilots need a *working* R&D institution (and a team)."""
    P = params()
    F = make_firms(firm(0, rd=1, working=0, talent=1, liquid=1))
    W, O, R = world(F), offer(trl=4), record()
    d = rules({S.D_PILOT_COST: 0.5, S.D_PILOT_INHOUSE: 0.01})
    assert pilot.choose_pilot(P, F, O, W, R, 0, T, N_YEARS, True, 0, RK) == L.PR_PUBLIC
    assert S.D_PILOT_INHOUSE not in d.streams()


def gate(P: np.ndarray, own_cost: float) -> float:
    """MODEL.md 1.3 step 5: the odds of finding the money are finance_prob's at the reference cost and fall in
    proportion to (cost borne / reference)^elasticity; insurance brings a share of the refused through."""
    p0, ref = p(P, "pilot.finance_prob"), p(P, "pilot.finance_reference_yuan")
    el = p(P, "pilot.finance_cost_elasticity")
    odds = p0 / (1 - p0) * (own_cost / ref) ** (-el) if own_cost > 0 else math.inf
    chance = 1.0 if odds == math.inf else odds / (1 + odds)
    return chance + (1 - chance) * p(P, "pilot.insurance_share")


# value such that a public-base pilot at the median cost multiple (u = 0.5: Φ⁻¹ = 0 exactly) costs 1.5 M,
# the finance reference: 1.5 M / (0.6 × 6)
REF_VALUE = 1_500_000.0 / 3.6


@pytest.mark.parametrize(("over", "subsidy", "fund", "own", "matching"), [
    ({}, 0.0, 1e7, 1_500_000.0, 0.0),                                      # at the reference: finance_prob
    ({"pilot.insurance_share": 0.4}, 0.0, 1e7, 1_500_000.0, 0.0),          # insurance: 0.5 + 0.5 · 0.4
    ({}, 750_000.0, 1e7, 750_000.0, 0.0),                                  # a subsidy received halves the cost
    ({"subsidy.pilot_matching_share": 0.3}, 0.0, 1e7, 1_050_000.0, 450_000.0),  # matching funds at a public base
    ({"subsidy.pilot_matching_share": 0.3}, 0.0, 449_999.0, 1_500_000.0, 0.0),  # the fund no longer holds them
    ({"subsidy.pilot_matching_share": 0.3}, 100_000.0, 1e7, 950_000.0, 450_000.0),  # both
    ({"pilot.finance_cost_elasticity": 2.0}, 1_000_000.0, 1e7, 500_000.0, 0.0),  # odds ∝ cost^−2
])
def test_the_pilot_finance_gate_falls_with_the_cost_the_firm_bears(
        rules: Callable[..., Draws], over: dict[str, float], subsidy: float, fund: float, own: float,
        matching: float) -> None:
    """A firm without own funds passes the gate with the probability of :func:`gate` at the cost it bears: the
    pilot's cost less the matching funds (paid from the fund only at a public base, while the fund holds them)
    and the subsidy received. Refused: *pilot: no finance*, nothing paid, no pilot recorded."""
    P = params(over)
    chance = gate(P, own)
    cost = REF_VALUE * 0.6 * 6.0
    assert cost == pytest.approx(1_500_000.0)
    for u, passed in ((chance - 1e-9, True), (chance + 1e-9, False)):
        F = make_firms(firm(0, liquid=0))
        W, O, R = world(F, fund=fund), offer(trl=4, value=REF_VALUE), record()
        O[0, L.O_SUBSIDY] = subsidy
        rules({S.D_PILOT_FINANCE: u, S.D_PILOT_COST: 0.5})
        got = pilot.choose_pilot(P, F, O, W, R, 0, T, N_YEARS, True, 0, RK)
        if passed:
            assert got == L.PR_PUBLIC and O[0, L.O_PILOT_COST] == pytest.approx(cost, rel=REL)
            assert W[L.W_FUND] == pytest.approx(fund - matching) and R[L.R_M_MATCHING, Y] == pytest.approx(matching)
            assert R[L.R_PILOTS + L.PR_PUBLIC - 1, Y] == 1
        else:
            assert got == -1 and O[0, L.O_REASON] == L.RE_PILOT_NO_FINANCE
            assert R[L.R_TERM + L.RE_PILOT_NO_FINANCE, Y] == 1 and R[L.R_PILOTS:L.R_PILOTS + 3].sum() == 0
            assert R[L.R_M_PILOT_COST].sum() == 0 and W[L.W_FUND] == fund and R[L.R_M_MATCHING].sum() == 0


def test_no_matching_funds_outside_a_public_base_and_a_free_pilot_always_passes(rules: Callable[..., Draws]) -> None:
    """Matching funds only for public-base pilots (MODEL.md 1.3 step 5); a pilot the subsidy pays in full costs
    the firm nothing and passes the gate whatever the draw."""
    P = params({"subsidy.pilot_matching_share": 0.3})
    F = make_firms(firm(0, liquid=0))
    W, O, R = world(F), offer(trl=4, value=REF_VALUE), record()
    rules({S.D_PILOT_FINANCE: gate(P, 2.5 * 1_500_000.0) + 1e-9, S.D_PILOT_COST: 0.5})  # outside: 1.5 / 0.6 dearer
    assert pilot.choose_pilot(P, F, O, W, R, 0, T, N_YEARS, False, 3, RK) == -1
    rules({S.D_PILOT_FINANCE: gate(P, 2.5 * 1_500_000.0) - 1e-9, S.D_PILOT_COST: 0.5})
    W, O, R = world(F), offer(trl=4, value=REF_VALUE), record()
    assert pilot.choose_pilot(P, F, O, W, R, 0, T, N_YEARS, False, 3, RK) == L.PR_OUTSIDE
    assert W[L.W_FUND] == 10_000_000.0 and R[L.R_M_MATCHING].sum() == 0
    W, O, R = world(F), offer(trl=4, value=REF_VALUE), record()
    O[0, L.O_SUBSIDY] = 2_000_000.0
    rules({S.D_PILOT_FINANCE: 1 - 1e-12, S.D_PILOT_COST: 0.5})
    assert pilot.choose_pilot(P, F, O, W, R, 0, T, N_YEARS, True, 0, RK) == L.PR_PUBLIC


@pytest.mark.parametrize("route", [L.PR_INHOUSE, L.PR_PUBLIC, L.PR_OUTSIDE])
def test_pilot_duration_is_longer_outside(rules: Callable[..., Draws], route: int) -> None:
    P = params()
    rules({S.D_PILOT_TIME: 0.65})
    want = lognormal(0.65, 0.85, 0.5) * (1.3 if route == L.PR_OUTSIDE else 1.0)
    assert pilot.pilot_time(P, offer(route=route), 0, T, N_YEARS, RK) == pytest.approx(want, rel=REL)
    assert pilot.public_capacity(params({"pilot.public_slots": 4.9}), Y) == 4


@pytest.mark.parametrize(("route", "talent", "vp_until", "trl"), [
    (L.PR_PUBLIC, 1, -1.0, 5), (L.PR_INHOUSE, 0, -1.0, 3), (L.PR_OUTSIDE, 0, T + 0.1, 4),
    (L.PR_OUTSIDE, 0, T - 0.1, 5)])
def test_pilot_success_probability(rules: Callable[..., Draws], route: int, talent: int, vp_until: float,
                                   trl: int) -> None:
    """success_base + trl_uplift·(TRL − 3) + public_uplift (public base) + talent_uplift (team or a placed VP)."""
    P = params()
    chance = 0.4 + 0.05 * (trl - 3) + (0.15 if route == L.PR_PUBLIC else 0) + (0.1 if talent or vp_until > T else 0)
    F = make_firms(firm(0, talent=talent, vp_until=vp_until))
    for u, ok in ((chance - 1e-9, True), (chance + 1e-9, False)):
        O, R = offer(route=route, trl=trl, stage=L.ST_PILOT), record()
        rules({S.D_PILOT_SUCCESS: u})
        assert pilot.decide_pilot(P, F, O, R, 0, T, N_YEARS, RK) == int(ok)
        assert O[0, L.O_T_PILOT_END] == T
        if ok:
            assert O[0, L.O_STAGE] == L.ST_FINANCE and R[L.R_PILOT_OK, Y] == 1
        else:
            assert O[0, L.O_REASON] == L.RE_PILOT_FAILED and R[L.R_PILOT_OK].sum() == 0


# ---- finance for industrialisation (MODEL.md 1.3 step 6) --------------------------------------

FIN = {S.D_INVEST: 0.6}


def invest(value: float = 300_000.0) -> float:
    return value * lognormal(0.6, 5.0, 0.5)


def test_own_funds_first_for_liquid_firms(rules: Callable[..., Draws]) -> None:
    P = params()
    F, O, R = make_firms(firm(0, liquid=1, collateral=1)), offer(value=300_000.0), record()
    d = rules({**FIN, S.D_OWN_FUNDS: 0.69})
    assert finance.seek_finance(P, F, O, R, 0, T, N_YEARS, RK) == (True, 0.0)
    assert O[0, L.O_INVEST] == pytest.approx(invest(), rel=REL) and O[0, L.O_STAGE] == L.ST_FINANCE
    assert R[L.R_M_LOANS].sum() == 0 and S.D_FIN_APPROVE not in d.streams()


def test_guarantee_loans_go_to_firms_with_collateral(rules: Callable[..., Draws]) -> None:
    """MODEL.md 1.3 step 6: guarantee loans need collateral. A firm with collateral (no patent, not high-tech,
    own funds refused) is approved at guarantee_approval after one wait; the loan is recorded."""
    P = params()
    F, O, R = make_firms(firm(0, liquid=1, collateral=1)), offer(value=300_000.0, patent=0), record()
    d = rules({**FIN, S.D_OWN_FUNDS: 0.71, S.D_FIN_WAIT: 0.4, S.D_FIN_APPROVE: 0.69})
    ok, wait = finance.seek_finance(P, F, O, R, 0, T, N_YEARS, RK)
    assert ok and wait == pytest.approx(lognormal(0.4, 0.2, 0.6), rel=REL)
    assert R[L.R_M_LOANS, Y] == pytest.approx(invest(), rel=REL)
    assert d.count(S.D_FIN_APPROVE) == 1
    # without collateral the same firm gets no guarantee loan at all (no wait, no approval drawn)
    F[0, L.F_COLLATERAL] = 0
    O, R = offer(value=300_000.0, patent=0), record()
    d = rules({**FIN, S.D_OWN_FUNDS: 0.71, S.D_FIN_RETRY: 0.5})
    ok, _ = finance.seek_finance(P, F, O, R, 0, T, N_YEARS, RK)
    assert not ok and d.count(S.D_FIN_APPROVE) == 0 and R[L.R_M_LOANS].sum() == 0


def test_ip_pledge_needs_a_patent_and_refusals_go_another_round(rules: Callable[..., Draws]) -> None:
    """No collateral, a patent: one IP-pledge try a round at ip_pledge_approval; refused in round 1, a pause
    (exponential, median retry_median_years), then round 2."""
    P = params()
    F, O, R = make_firms(firm(0, liquid=0, collateral=0)), offer(value=300_000.0, patent=1), record()
    d = rules({**FIN, S.D_FIN_WAIT: [0.3, 0.7], S.D_FIN_APPROVE: [0.41, 0.39], S.D_FIN_RETRY: 0.5})
    ok, wait = finance.seek_finance(P, F, O, R, 0, T, N_YEARS, RK)
    want = lognormal(0.3, 0.2, 0.6) + exponential_median(0.5, 0.5) + lognormal(0.7, 0.2, 0.6)
    assert ok and wait == pytest.approx(want, rel=REL)
    assert R[L.R_M_LOANS, Y] == pytest.approx(invest(), rel=REL)
    assert len({(dd, e, o) for dd, e, o in d.log if dd == S.D_FIN_APPROVE}) == 2  # two distinct keyed draws


def test_refused_in_every_round_is_no_finance(rules: Callable[..., Draws]) -> None:
    P = params({"finance.rounds": 3})
    F, O, R = make_firms(firm(0, collateral=1)), offer(patent=1), record()
    d = rules({**FIN, S.D_FIN_WAIT: 0.5, S.D_FIN_APPROVE: 0.95, S.D_FIN_RETRY: 0.5})
    ok, wait = finance.seek_finance(P, F, O, R, 0, T, N_YEARS, RK)
    assert not ok and d.count(S.D_FIN_APPROVE) == 6 and d.count(S.D_FIN_RETRY) == 2
    assert wait == pytest.approx(6 * 0.2 + 2 * 0.5, rel=REL)  # median waits; pauses at u = 0.5 are the median
    assert R[L.R_M_LOANS].sum() == 0


def test_high_tech_firms_get_credit_priority_and_venture_money(rules: Callable[..., Draws]) -> None:
    """High-tech: guarantee and IP-pledge approval + hightech_priority; venture money (no loan recorded) only
    for high-tech firms, tried after the loans, at venture_prob."""
    P = params({"finance.venture_prob": 0.3})
    F, O, R = make_firms(firm(0, collateral=1, hightech=1)), offer(patent=0), record()
    rules({**FIN, S.D_FIN_WAIT: 0.5, S.D_FIN_APPROVE: 0.79})
    assert finance.seek_finance(P, F, O, R, 0, T, N_YEARS, RK)[0]  # 0.79 < 0.7 + 0.1
    F, O, R = make_firms(firm(0, collateral=0, hightech=1)), offer(patent=1), record()
    d = rules({**FIN, S.D_FIN_WAIT: 0.5, S.D_FIN_APPROVE: [0.51, 0.29]})  # IP pledge 0.4 + 0.1 refused; venture ok
    ok, wait = finance.seek_finance(P, F, O, R, 0, T, N_YEARS, RK)
    assert ok and wait == pytest.approx(0.4, rel=REL) and R[L.R_M_LOANS].sum() == 0
    assert d.count(S.D_FIN_WAIT) == 2
    # venture money is for high-tech firms only
    F, O, R = make_firms(firm(0, collateral=0, hightech=0)), offer(patent=0), record()
    d = rules({**FIN, S.D_FIN_RETRY: 0.5})
    assert not finance.seek_finance(P, F, O, R, 0, T, N_YEARS, RK)[0]
    assert d.count(S.D_FIN_APPROVE) == 0


def test_finance_outcome_records_the_search(rules: Callable[..., Draws]) -> None:
    rules()
    O, R = offer(stage=L.ST_FINANCE), record()
    O[0, L.O_INVEST] = 1.5e6
    finance.finance_outcome(O, R, 0, T, T - 0.25, True, N_YEARS)
    assert R[L.R_WAIT_FINANCE, Y] == pytest.approx(0.25) and R[L.R_N_FINANCE, Y] == 1 and R[L.R_FINANCED, Y] == 1
    assert R[L.R_M_FIRM_RD, Y] == 1.5e6 and O[0, L.O_STAGE] == L.ST_RAMPUP and O[0, L.O_T_FINANCED] == T
    O, R = offer(stage=L.ST_FINANCE), record()
    finance.finance_outcome(O, R, 0, T, T - 0.5, False, N_YEARS)
    assert O[0, L.O_REASON] == L.RE_NO_FINANCE and R[L.R_FINANCED].sum() == 0 and R[L.R_N_FINANCE, Y] == 1


# ---- industrialisation (MODEL.md 1.3 step 7) --------------------------------------------------


def test_rampup_time_is_lognormal(rules: Callable[..., Draws]) -> None:
    rules({S.D_RAMPUP: 0.2})
    got = industry.rampup_time(params(), offer(), 0, T, N_YEARS, RK)
    assert got == pytest.approx(lognormal(0.2, 1.0, 0.5), rel=REL)


@pytest.mark.parametrize(("talent", "vp_until"), [(0, -1.0), (1, -1.0), (0, T + 0.5)])
def test_industrialisation_success_and_the_role_model(rules: Callable[..., Draws], talent: int,
                                                      vp_until: float) -> None:
    """success_base + talent_uplift (team or a placed VP); a success raises every sector firm's awareness."""
    P = params()
    chance = p(P, "industry.success_base") + (p(P, "industry.talent_uplift") if talent or vp_until > T else 0.0)
    for u, ok in ((chance - 1e-9, True), (chance + 1e-9, False)):
        F = make_firms(firm(2, county=4, talent=talent, vp_until=vp_until, aware=0.5), firm(2, aware=0.2),
                       firm(3, aware=0.3))
        W = world(F)
        O, R = offer(sector=2, firm_row=0, t_arrive=T - 3.0, stage=L.ST_RAMPUP), record()
        rules({S.D_IND_SUCCESS: u})
        assert industry.decide_industrialised(P, F, O, W, R, 0, T, N_YEARS, RK) == int(ok)
        if ok:
            assert O[0, L.O_REASON] == L.RE_INDUSTRIALISED and R[L.R_INDUSTRIALISED, Y] == 1
            assert R[L.R_IND_COUNTY + 4, Y] == 1 and R[L.R_IND_SECTOR + 2, Y] == 1
            assert R[L.R_TTP, Y] == pytest.approx(3.0) and W[L.W_IND_THIS_YEAR] == 1
            assert effective_awareness(F, W) == pytest.approx([0.51, 0.216, 0.3], rel=1e-12)
        else:
            assert O[0, L.O_REASON] == L.RE_IND_FAILED and R[L.R_INDUSTRIALISED].sum() == 0
            assert W[L.W_IND_THIS_YEAR] == 0 and effective_awareness(F, W) == pytest.approx([0.5, 0.2, 0.3])


# ---- a scarce resource starts work ------------------------------------------------------------


def test_start_service_records_wait_and_busy_time(rules: Callable[..., Draws]) -> None:
    P = params()
    rules({S.D_SEARCH_TIME: 0.999, S.D_PILOT_TIME: 0.5})
    O, R = offer(key=3), record()
    t = Y + 0.99
    d = service.start_service(P, O, R, 0, t, 0.3, True, N_YEARS, HORIZON, RK)
    assert d == pytest.approx(lognormal(0.999, 0.025, 0.5), rel=REL)
    assert R[L.R_WAIT_BROKER, Y] == pytest.approx(0.3) and R[L.R_N_BROKER, Y] == 1
    assert R[L.R_BROKER_BUSY, Y] == pytest.approx(0.01) and R[L.R_BROKER_BUSY, Y + 1] == pytest.approx(d - 0.01)
    O, R = offer(key=3, route=L.PR_PUBLIC), record()
    d = service.start_service(P, O, R, 0, HORIZON - 0.5, 0.0, False, N_YEARS, HORIZON, RK)
    assert d == pytest.approx(0.85, rel=REL) and R[L.R_N_PILOT_PUBLIC, N_YEARS - 1] == 1
    assert R[L.R_PILOT_BUSY].sum() == pytest.approx(0.5)  # clipped at the horizon


# ---- the year's end (MODEL.md 1.3 "The year's end") -------------------------------------------


#: The firm population held still (no entries, exits or graduation; certificates valid beyond the horizon), for
#: tests of the other steps of the year's end.
STILL = {"firms.entry_rate_above": 0.0, "firms.exit_rate_above": 0.0, "firms.entry_rate_sme": 0.0,
         "firms.exit_rate_sme": 0.0, "firms.sme_graduation_rate": 0.0, "hightech.validity_years": 50.0}


def binomial_u(k: int, m: int, prob: float) -> float:
    """A uniform whose Binomial(m, prob) inverse CDF is ``k``: the middle of (F(k − 1), F(k)]."""
    return float((stats.binom.cdf(k - 1, m, prob) + stats.binom.cdf(k, m, prob)) / 2)


def test_chosen_draws_how_many_change_then_which(rules: Callable[..., Draws]) -> None:
    """The year's end draws how many of m candidates change (Binomial(m, p) by inverse CDF, key (decision, 0, y))
    and then which by a keyed partial Fisher–Yates shuffle (pick j at position j + ⌊u·(m − j)⌋ of what is left,
    key (decision, j + 1, y)); the chosen are moved to the front."""
    m, prob, y = 6, 0.3, 7
    k = 3
    picks = {1: 0.9, 2: 0.0001, 3: 0.5}  # j = 0: position 5; j = 1: position 1; j = 2: 2 + ⌊0.5·4⌋ = 4
    d = rules({S.D_TURNOVER: lambda e, o: binomial_u(k, m, prob) if e == 0 else picks[e]})
    cand = np.array([10, 11, 12, 13, 14, 15, -7], dtype=np.int64)
    assert year_end.chosen(cand, m, prob, rep_key(SEED, REP), S.D_TURNOVER, y) == k
    # [10 11 12 13 14 15] → swap 0↔5: [15 11 12 13 14 10] → 1↔1 → swap 2↔4: [15 11 14 13 12 10]
    assert list(cand[:k]) == [15, 11, 14] and sorted(cand[:m]) == list(range(10, 16)) and cand[m] == -7
    assert d.log == [(S.D_TURNOVER, 0, y), (S.D_TURNOVER, 1, y), (S.D_TURNOVER, 2, y), (S.D_TURNOVER, 3, y)]
    # the count is the Binomial inverse CDF on both sides of a step, and nobody is drawn when none change
    for u, want in ((stats.binom.cdf(2, m, prob) - 1e-9, 2), (stats.binom.cdf(2, m, prob) + 1e-9, 3)):
        rules({S.D_TURNOVER: lambda e, o, u=u: u if e == 0 else 0.5})
        assert year_end.chosen(np.arange(m, dtype=np.int64), m, prob, rep_key(SEED, REP), S.D_TURNOVER, y) == want
    d = rules({S.D_TURNOVER: lambda e, o: 0.1 if e == 0 else 0.5})
    assert year_end.chosen(np.arange(m, dtype=np.int64), m, 0.01, rep_key(SEED, REP), S.D_TURNOVER, y) == 0
    assert d.log == [(S.D_TURNOVER, 0, y)]


def test_year_end_in_order(rules: Callable[..., Draws]) -> None:
    """Awards while the fund lasts, high-tech applications/approvals/rewards (eligible: an R&D institution, even
    title-only, or a team), talent turnover and inflow, training by a vice-president, placements (a share oriented
    to a firm with a technical problem), R&D institutions (support, review of idle ones, new ones title-only or
    working), publicity, other contracts, stocks, then the fund's remainder is recorded and the next year's fund
    put in (not carried over). Who may change is judged on the states at the start of the year's end; how many
    change is a binomial draw and which a keyed partial Fisher–Yates shuffle (see the test above)."""
    k, y = 5, 4
    t = float(k)
    P = params({**STILL, "subsidy.awards_per_year": 5.0, "subsidy.award_yuan": 500_000.0,
                "subsidy.hightech_reward_yuan": 88_000.0, "derived.hightech_apply": 0.2, "hightech.approval": 0.4,
                "talent.turnover": 0.2,
                "talent.inflow": 0.1, "talent.vice_presidents_per_year": 2.0, "talent.vice_president_tenure_years":
                2.0, "talent.vp_training": 0.5, "talent.vp_targeting": 0.5, "talent.vp_problem_years": 1.0,
                "platforms.support_rate": 0.1, "platforms.review_prob_idle": 0.5, "platforms.review_upgrade": 0.5,
                "platforms.idle_years": 3.0, "platforms.rd_adoption_rate": 0.1, "platforms.title_only_share": 0.5,
                "talent.publicity_rate": 0.1, "hightech.other_contracts_per_year": 10.0,
                "absorb.awareness_fade": 0.0})  # fading awareness: tests/test_oracle_absorb.py
    P[PIDX["subsidy.fund_yuan_per_year"], k] = 7_000_000.0
    F = make_firms(
        firm(0, rd=1, hightech=1, aware=0.5, last_use=4.5),  # 0: high-tech already; R&D in use
        firm(0, rd=1, working=0, aware=0.2, last_use=0.5, vp_until=t - 1),  # 1: title-only, idle: applies,
        #                               approved, rewarded; reviewed and delisted; its vice-president left a year ago
        firm(1, talent=1, aware=0.4),  # 2: applies (team), approved, not rewarded (fund short); loses its team
        firm(1, aware=0.6, last_use=2.0),  # 3: no R&D, no team: not eligible; gains a team; proposed for the
        #                                    oriented placement, but its contract is 3 years old: no problem
        firm(2, rd=1, working=0, aware=0.0, last_use=3.0),  # 4: title-only, not idle: does not apply; supported;
        #                                                    a vice-president at random
        firm(2, aware=0.3, vp_until=t + 1, last_use=4.6),   # 5: VP placed a year ago trains a team; contract
        #                              0.4 years ago: a technical problem, gets the oriented VP; founds a title-only R&D
        firm(3, rd=1, aware=0.1, last_use=0.5),             # 6: working, idle: applies, approved, rewarded;
        #                                                     reviewed and kept
    )
    n = 7
    F[:, L.F_ID] = np.arange(n)  # serial numbers: the review's draw is keyed by the firm's
    W = world(F, fund=1_200_000.0)
    W[L.W_IND_THIS_YEAR] = 7
    R = record()
    vp = 100000 * y  # placement j's entity: y · 100000 + j
    # candidate lists in row order: high-tech [1 2 4 6], teams leaving [2], joining [0 1 3 4 5 6], title-only [1 4],
    # idle R&D [1 6], without R&D [2 3 5]
    rules({
        # 3 of 4 apply; picks: 0.8 → position 3 (firm 6), 0.7 → 1 + ⌊2.1⌋ = 3 (firm 1), 0.75 → 2 + ⌊1.5⌋ = 3 (firm 2)
        S.D_HT_APPLY: lambda e, o: {0: binomial_u(3, 4, 0.2), 1: 0.8, 2: 0.7, 3: 0.75}[e],
        S.D_HT_APPROVE: lambda e, o: {6: 0.39, 1: 0.1, 2: 0.2}[e],
        S.D_TURNOVER: lambda e, o: {0: binomial_u(1, 1, 0.2), 1: 0.5}[e],
        S.D_INFLOW: lambda e, o: {0: binomial_u(1, 6, 0.1), 1: 0.4}[e],  # ⌊0.4 · 6⌋ = 2: firm 3
        S.D_VP_TRAINING: lambda e, o: {5: 0.4}[e],  # only firm 5: no team, a vice-president during the year
        S.D_VP_COUNT: 0.5,  # Poisson(2) at its median: 2 placements
        S.D_VP_FIRM: lambda e, o: {vp: 0.5, vp + 1: 0.6}[e],  # ⌊0.5 · 7⌋ = 3, ⌊0.6 · 7⌋ = 4
        S.D_VP_PROBLEM: lambda e, o: {(vp, 0): 0.3, (vp, 1): 0.75, (vp + 1, 0): 0.6}[(e, o)],  # oriented; not
        S.D_VP_NEED: lambda e, o: {vp + 1: 0.5}[e],  # < absorb.vp_to_no_team (1): to a firm without a team
        S.D_VP_RESULT: 0.9,  # ≥ absorb.vp_result_prob: neither brings a result (tests/test_oracle_absorb.py)
        S.D_RD_SUPPORT: lambda e, o: {0: binomial_u(1, 2, 0.1), 1: 0.75}[e],   # position 1: firm 4
        S.D_DELIST: lambda e, o: {0: binomial_u(2, 2, 0.5), 1: 0.3, 2: 0.3}[e],  # both idle ones reviewed
        # firm 1 title-only, no team, idle 1.5 years beyond idle_years: 0.6 ≥ 0.5 · 0.5^(1.5/3) → delisted
        S.D_REVIEW: lambda e, o: {1: 0.6}[e],
        S.D_RD_ADOPT: lambda e, o: {0: binomial_u(1, 3, 0.1), 1: 0.8}[e],  # ⌊0.8 · 3⌋ = 2: firm 5
        S.D_RD_WORKING: lambda e, o: {(5, y + 1): 0.3}[(e, o)],  # < title_only_share: title only
        S.D_OTHER_CONTRACTS: 0.5})
    year_end.year_end(P, F, np.zeros((1, L.N_OCOL)), W, R, k, N_YEARS, RK)
    # 1. awards: min(5, 7) wanted, the fund holds two of 0.5 M
    assert R[L.R_AWARDS, y] == 2 and R[L.R_M_AWARDS, y] == 1_000_000.0 and W[L.W_IND_THIS_YEAR] == 0
    # 2. high-tech: three apply and are approved; the 200 k left pays two rewards of 88 k
    assert R[L.R_HT_APPLIED, y] == 3 and R[L.R_HT_NEW, y] == 3 and R[L.R_M_HIGHTECH, y] == 176_000.0
    assert list(F[:, L.F_HIGHTECH]) == [1, 1, 1, 0, 0, 0, 1]
    # 3. talent: firm 2 loses its team, firm 3 gains one, firm 5 is trained by its vice-president;
    # placements: Poisson(2) at u = 0.5 is 2; the oriented one skips firm 3 (its contract is too old) for firm 5,
    # the other goes to a firm without a team: the first proposed, firm 4, has none
    assert int(stats.poisson.ppf(0.5, 2.0)) == 2
    assert list(F[:, L.F_TALENT]) == [0, 0, 0, 1, 0, 1, 0]
    assert list(F[:, L.F_VP_UNTIL]) == [-1, t - 1, -1, -1, t + 2, t + 2, -1]
    assert R[L.R_VP_ON_PROBLEM, y] == 1 and R[L.R_VP_ON_NO_TEAM, y] == 1 and R[L.R_VP_RESULTS, y] == 0
    # 4. R&D institutions: firm 4 supported (works now), firm 1 reviewed and delisted, firm 6 reviewed and kept,
    # firm 5 founds a title-only one (and is not idle)
    assert list(F[:, L.F_RD]) == [1, 0, 0, 0, 1, 1, 1]
    assert list(F[:, L.F_RD_WORKING]) == [1, 0, 0, 0, 1, 0, 1]
    assert R[L.R_DELISTED, y] == 1 and R[L.R_RD_UPGRADED, y] == 1 and F[5, L.F_LAST_USE] == t
    assert R[L.R_M_FIRM_RD, y] == 0  # support (firm 4) costs the firm nothing here; no review improved one
    # 5. publicity: every firm closes 10 % of its gap to 1, written into the firms
    aware = [0.55, 0.28, 0.46, 0.64, 0.1, 0.37, 0.19]
    assert F[:, L.F_AWARE] == pytest.approx(aware, rel=1e-12)
    assert W[L.W_AWARE_SUM:L.W_AWARE_SUM + 4] == pytest.approx([0.83, 1.1, 0.47, 0.19])
    # 6. other contracts: Poisson(10) at u = 0.5
    assert R[L.R_OTHER_CONTRACTS, y] == stats.poisson.ppf(0.5, 10.0)
    # 7. stocks
    assert R[L.R_HT_STOCK, y] == 4 and R[L.R_FIRMS_RD, y] == 4 and R[L.R_FIRMS_RD_WORKING, y] == 3
    assert R[L.R_FIRMS_ALIVE_ABOVE, y] == 7 and R[L.R_FIRMS_ALIVE_SME, y] == 0  # nobody entered or left
    assert R[L.R_FIRMS_TALENT, y] == 2 and R[L.R_FIRMS_VP, y] == 2
    assert R[L.R_AWARENESS, y] == pytest.approx(sum(aware) / n)
    assert R[L.R_BROKER_CAP, y] == 8 and R[L.R_PILOT_CAP, y] == 3
    assert R[L.R_COMMISSIONERS, y] == p(P, "derived.commissioners", y)
    # 8. the fund: 1.2 M − 1 M − 176 k left and recorded; next year's fund replaces it
    assert R[L.R_M_FUND_LEFT, y] == pytest.approx(24_000.0) and W[L.W_FUND] == 7_000_000.0
    paid = R[L.R_M_AWARDS, y] + R[L.R_M_HIGHTECH, y]
    assert paid + R[L.R_M_FUND_LEFT, y] == pytest.approx(1_200_000.0)


def test_without_the_measures_the_year_end_leaves_rd_institutions_alone(rules: Callable[..., Draws]) -> None:
    """Defaults (MODEL.md 3.8): no support and no performance review today, so an idle title-only institution
    keeps its title and nothing is drawn for it; a firm's team is trained only while a vice-president is there."""
    P = params({**STILL, "derived.hightech_apply": 0.0, "talent.vice_presidents_per_year": 0.0, "talent.turnover": 0.0,
                "talent.inflow": 0.0, "platforms.rd_adoption_rate": 0.0, "hightech.other_contracts_per_year": 0.0})
    F = make_firms(firm(0, rd=1, working=0, last_use=0.5, vp_until=8.0), firm(0, vp_until=9.5))
    W, R = world(F), record()
    d = rules({S.D_VP_TRAINING: lambda e, o: {1: 0.099}[e]}, default=1e-9)  # vp_training 0.1: firm 1 trained
    year_end.year_end(P, F, np.zeros((1, L.N_OCOL)), W, R, 9, N_YEARS, RK)
    assert list(F[:, L.F_RD]) == [1, 0] and list(F[:, L.F_RD_WORKING]) == [0, 0] and R[L.R_DELISTED].sum() == 0
    assert list(F[:, L.F_TALENT]) == [0, 1]  # firm 0's vice-president left at 8, before the year began
    for stream in (S.D_RD_SUPPORT, S.D_DELIST, S.D_RD_ADOPT, S.D_HT_APPLY, S.D_TURNOVER, S.D_INFLOW):
        assert all(e == 0 for dd, e, _ in d.log if dd == stream)  # at most the count, which is 0
    assert S.D_REVIEW not in d.streams() and S.D_VP_PROBLEM not in d.streams()


def test_no_award_when_the_fund_is_short_and_no_fund_after_the_horizon(rules: Callable[..., Draws]) -> None:
    P = params({**STILL, "derived.hightech_apply": 0.0, "talent.vice_presidents_per_year": 0.0,
                "hightech.other_contracts_per_year": 0.0})
    F = make_firms(firm(0))
    W = world(F, fund=499_999.0)
    W[L.W_IND_THIS_YEAR] = 3
    R = record()
    rules(default=0.5)
    year_end.year_end(P, F, np.zeros((1, L.N_OCOL)), W, R, N_YEARS, N_YEARS, RK)
    assert R[L.R_AWARDS].sum() == 0 and R[L.R_M_FUND_LEFT, N_YEARS - 1] == 499_999.0 and W[L.W_FUND] == 0


def test_awards_go_to_at_most_the_years_successes(rules: Callable[..., Draws]) -> None:
    """Up to awards_per_year awards among the year's successes: two successes, two awards of 0.5 M."""
    P = params({**STILL, "derived.hightech_apply": 0.0, "talent.vice_presidents_per_year": 0.0})
    F = make_firms(firm(0))
    W = world(F, fund=10_000_000.0)
    W[L.W_IND_THIS_YEAR] = 2
    R = record()
    rules(default=0.5)
    year_end.year_end(P, F, np.zeros((1, L.N_OCOL)), W, R, 3, N_YEARS, RK)
    assert R[L.R_AWARDS, 2] == 2 and R[L.R_M_AWARDS, 2] == 1_000_000.0
    assert R[L.R_M_FUND_LEFT, 2] == 9_000_000.0 and W[L.W_IND_THIS_YEAR] == 0


def test_finalise_counts_offers_in_progress_by_stage(rules: Callable[..., Draws]) -> None:
    rules()
    O = np.zeros((5, L.N_OCOL))
    O[:, L.O_STAGE] = [L.ST_DONE, L.ST_PILOT, L.ST_PILOT, L.ST_MEETING, L.ST_RAMPUP]
    W, R = np.zeros(L.N_W), record()
    W[L.W_N_OFFERS] = 4  # the fifth row is not an offer yet
    year_end.finalise(O, W, R, N_YEARS)
    last = N_YEARS - 1
    assert R[L.R_TERM + L.RE_NONE, last] == 3
    assert R[L.R_WIP + L.ST_PILOT, last] == 2 and R[L.R_WIP + L.ST_MEETING, last] == 1
    assert R[L.R_WIP + L.ST_RAMPUP, last] == 0 and R[:L.N_FLOW_ROWS].sum() == 6  # cohort rows: test_oracle_cohorts
