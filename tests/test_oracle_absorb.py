"""Oracle tests of firms' absorptive capacity (the report's bottleneck, MODEL.md 1.3 step 2 and 3.3.2).

Hand-made firms and chosen uniforms: whom a result meets (awareness × capacity factor, by an exact rejection
sampler), the bound on the projects a firm carries at once, and the year end's count of projects under way.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from sim import layout as L
from sim import streams as S
from sim.rng import rep_key
from sim.rules import firms, meeting
from tests.oracle import N_YEARS, Draws, firm, offer, params, record, world
from tests.oracle import firms as make_firms

Y = 9  # 2024: a policy year
T = Y + 0.5
RK = np.uint64(rep_key(0, 0))
WEIGHTS = {"absorb.weight_rd": 1.0, "absorb.weight_talent": 0.5, "absorb.weight_vp": 2.0}
SLOTS = {"absorb.slots_base": 2.0, "absorb.slots_rd": 2.0, "absorb.slots_talent": 1.0}


def capable_firms() -> np.ndarray:
    """Sector 0: a firm with nothing (awareness 0.5); one with a working institution and a vice-president in
    post (0.5); one with a team and a title-only institution (0.8); one whose vice-president left (0.4)."""
    return make_firms(firm(0, aware=0.5), firm(0, aware=0.5, rd=1, vp_until=T + 1.0),
                      firm(0, aware=0.8, rd=1, working=0, talent=1), firm(0, aware=0.4, vp_until=T - 0.1))


def test_the_firm_met_is_drawn_by_awareness_times_capacity(rules: Callable[..., Draws]) -> None:
    """Weights: 0.5·1, 0.5·(1 + 1 + 2), 0.8·(1 + 0.5) (a title-only institution counts for nothing), 0.4·1 (a
    vice-president whose tenure ended counts for nothing); the bound is the top awareness × the largest factor,
    0.8 · (1 + 1 + 0.5 + 2) = 3.6. A proposed firm is accepted just below weight / bound, rejected just above."""
    P = params(WEIGHTS)
    F = capable_firms()
    W = world(F)
    top = 0.8 * 4.5
    for row, weight in ((0, 0.5), (1, 2.0), (2, 1.2), (3, 0.4)):
        propose = (row + 0.5) / 4
        rules({S.D_FIRM_PICK: [propose, weight / top - 1e-9]})
        assert meeting.pick_firm(P, F, W, 0, Y, T, RK, 7, 0) == row
        other = (row + 1.5) / 4 if row < 3 else 0.5 / 4  # a rejection, then the next try proposes another firm
        d = rules({S.D_FIRM_PICK: [propose, weight / top + 1e-9, other, 1e-9]})
        assert meeting.pick_firm(P, F, W, 0, Y, T, RK, 7, 0) == (row + 1) % 4
        assert len(set(d.log)) == 4


def test_the_sampler_is_exact_with_the_real_draws() -> None:
    """Over many keyed picks (the real generator, plain Python) each firm's share is its weight's share."""
    P = params(WEIGHTS)
    F = capable_firms()
    W = world(F)
    pick = meeting.pick_firm.py_func
    n = 6000
    counts = np.bincount([pick(P, F, W, 0, Y, T, RK, key, 0) for key in range(n)], minlength=4)
    weights = np.array([0.5, 2.0, 1.2, 0.4])
    share = weights / weights.sum()
    sd = np.sqrt(share * (1 - share) / n)
    assert np.all(np.abs(counts / n - share) < 4 * sd), (counts / n, share)


def test_project_slots_grow_with_a_working_institution_and_a_team() -> None:
    P = params(SLOTS)
    F = make_firms(firm(0), firm(0, rd=1), firm(0, rd=1, working=0), firm(0, talent=1), firm(0, rd=1, talent=1))
    assert [firms.project_slots.py_func(P, F, f, Y) for f in range(5)] == [2.0, 4.0, 2.0, 3.0, 5.0]


@pytest.mark.parametrize(("carried", "met"), [(2.0, 1), (3.0, 0), (4.0, 0)])
def test_a_full_firm_turns_the_meeting_away(rules: Callable[..., Draws], carried: float, met: int) -> None:
    """A firm with a team (3 places) met by a result: with 2 projects under way it takes it (now 3); with 3 or
    more the meeting fails — an attempt used, the result leaves the searching pool, counted as turned away."""
    P = params({**SLOTS, **WEIGHTS})
    F = make_firms(firm(0, aware=0.9, talent=1))
    F[0, L.F_PROJECTS] = carried
    W = world(F)
    W[L.W_OPEN] = 1.0
    O, R = offer(key=5), record()
    rules({S.D_MEET: 1e-9, S.D_FIRM_PICK: [1e-9, 1e-9]})
    assert meeting.decide_meeting(P, F, O, W, R, 0, T, L.MM_BROKER, N_YEARS, RK) == met
    assert O[0, L.O_ATTEMPT] == 1 and W[L.W_OPEN] == 0.0
    assert R[L.R_FIRM_FULL, Y] == 1 - met and R[L.R_MEETINGS, Y] == met
    assert F[0, L.F_PROJECTS] == carried + met
    assert O[0, L.O_STAGE] == (L.ST_NEGOTIATION if met else L.ST_MEETING)
    assert W[L.W_LIVE_HEAD] == met  # only a meeting puts the offer on the list of projects under way


def test_the_year_end_counts_projects_under_way() -> None:
    """Projects on the list that are not done and whose firm did not exit count for their firm; others not."""
    F = make_firms(firm(0), firm(0), firm(1))
    F[:, L.F_PROJECTS] = 9.0  # stale counts from the year: replaced
    W = world(F)
    O = np.zeros((5, L.N_OCOL))
    # offers 0…4: firm 0 under way, firm 0 under way, firm 1 done, firm 1 gone, firm 2 under way; offer 4
    # is not on the list (never met): it never counts
    for i, (f, stage, gone) in enumerate(((0, L.ST_PILOT, 0), (0, L.ST_NEGOTIATION, 0), (1, L.ST_DONE, 0),
                                          (1, L.ST_FINANCE, 1), (2, L.ST_RAMPUP, 0))):
        O[i, L.O_FIRM], O[i, L.O_STAGE], O[i, L.O_FIRM_GONE] = f, stage, gone
    W[L.W_N_OFFERS] = 5
    W[L.W_LIVE_HEAD] = 4  # the list 3 → 2 → 1 → 0 (links hold 1 + the row)
    O[3, L.O_NEXT_LIVE], O[2, L.O_NEXT_LIVE], O[1, L.O_NEXT_LIVE], O[0, L.O_NEXT_LIVE] = 3, 2, 1, 0
    firms.count_projects.py_func(F, O, W)
    assert F[:, L.F_PROJECTS].tolist() == [2.0, 0.0, 0.0]


# ---- vice-presidents (科技副总): where they go and what they bring (MODEL.md 3.3.2) ----------------------------

VP_Y = 4
VP_T = float(VP_Y + 1)
PK = VP_Y * 100000  # placement j's entity: y · 100000 + j
NEW = VP_Y + 1  # a result brought arrives on 1 January: it, its meeting and its end count in the new year


def test_a_placement_not_aimed_at_a_problem_goes_to_a_firm_without_a_team(rules: Callable[..., Draws]) -> None:
    """Rows 0–3 have a team, row 4 none: proposals 0.1 (row 0), then 0.3, 0.5 (rows 1, 2), then 0.9 (row 4)."""
    P = params({"talent.vp_targeting": 0.0, "absorb.vp_to_no_team": 0.6})
    F = make_firms(*(firm(0, talent=1) for _ in range(4)), firm(0))
    W, R = world(F), record()
    rules({S.D_VP_FIRM: lambda e, o: [0.1, 0.3, 0.5, 0.9][o], S.D_VP_NEED: 0.59})
    assert meeting_year_end().place_vice_president(P, F, W, R, VP_Y, VP_T, 0, RK) == 4
    assert R[L.R_VP_ON_NO_TEAM, VP_Y] == 1
    R = record()
    d = rules({S.D_VP_FIRM: 0.1, S.D_VP_NEED: 0.61})  # the other 40 %: the firm proposed, at random
    assert meeting_year_end().place_vice_president(P, F, W, R, VP_Y, VP_T, 0, RK) == 0
    assert R.sum() == 0 and d.log == [(S.D_VP_FIRM, PK, 0), (S.D_VP_NEED, PK, 0)]


def meeting_year_end():  # type: ignore[no-untyped-def]
    import importlib

    return importlib.import_module("sim.rules.year_end")


OFFER_DRAWS = {S.D_OFFER_SECTOR: 0.99, S.D_OFFER_TRL: 0.5, S.D_OFFER_VALUE: 0.5, S.D_OFFER_PATENT: 0.5}


@pytest.mark.parametrize(("u", "carried", "met"), [(0.29, 0.0, True), (0.29, 2.0, False), (0.31, 0.0, None)])
def test_a_vice_president_brings_a_result_that_meets_the_host(rules: Callable[..., Draws], u: float, carried: float,
                                                              met: bool | None) -> None:
    """With absorb.vp_result_prob (0.3) the placement brings a result of the university channel in the host's
    sector (sector 2, whatever the offer's own sector draw), demand-led, met by the host at once (no search);
    a host carrying all it can (2 places: no institution, no team) turns it away: the offer ends as no match.
    Placed at the end of year 4, the result arrives at t = 5: everything is counted in year 5."""
    ye = meeting_year_end()
    P = params({**SLOTS, "absorb.vp_result_prob": 0.3})
    F = make_firms(firm(0), firm(2, aware=0.1))
    F[1, L.F_PROJECTS] = carried
    F[1, L.F_ID] = 77
    W, R = world(F), record()
    O = np.zeros((2, L.N_OCOL))
    rules({S.D_VP_RESULT: u, **OFFER_DRAWS})
    i = ye.vp_brings_result(P, F, O, W, R, 1, VP_Y, 3, VP_T, N_YEARS, RK)
    if met is None:  # no result brought: nothing created
        assert i == -1 and W[L.W_N_OFFERS] == 0 and R.sum() == 0
        return
    assert W[L.W_N_OFFERS] == 1 and R[L.R_VP_RESULTS, NEW] == 1 and R[L.R_OFFERS_CH + L.CH_WORKSTATION, NEW] == 1
    assert O[0, L.O_KEY] == L.CH_WORKSTATION * (1 << 30) + (1 << 29) + VP_Y * L.MAX_VP_RESULTS + 3
    assert O[0, L.O_SECTOR] == 2 and O[0, L.O_DEMAND_LED] == 1 and O[0, L.O_T_ARRIVE] == VP_T
    if met:
        assert i == 0 and O[0, L.O_FIRM] == 1 and O[0, L.O_FIRM_ID] == 77 and O[0, L.O_STAGE] == L.ST_NEGOTIATION
        assert O[0, L.O_T_MEET] == VP_T and F[1, L.F_PROJECTS] == 1 and R[L.R_MEETINGS, NEW] == 1
        assert W[L.W_LIVE_HEAD] == 1  # on the list of projects under way
        assert W[L.W_OPEN + 2] == 0  # it never searched
    else:
        assert i == -1 and O[0, L.O_STAGE] == L.ST_DONE and O[0, L.O_REASON] == L.RE_NO_MATCH
        assert R[L.R_FIRM_FULL, NEW] == 1 and R[L.R_MEETINGS, NEW] == 0 and F[1, L.F_PROJECTS] == 2


def test_only_the_first_placements_of_a_year_bring_results(rules: Callable[..., Draws]) -> None:
    P = params({"absorb.vp_result_prob": 1.0})
    F = make_firms(firm(0))
    W, R = world(F), record()
    d = rules()
    assert meeting_year_end().vp_brings_result(P, F, np.zeros((1, L.N_OCOL)), W, R, 0, VP_Y, L.MAX_VP_RESULTS,
                                               VP_T, N_YEARS, RK) == -1
    assert d.log == [] and R.sum() == 0


# ---- the platform review: improve (a chance, a cost) or be delisted (MODEL.md 3.3.2) --------------------------

REVIEW = {"platforms.review_upgrade": 0.4, "platforms.idle_years": 3.0, "absorb.review_team_bonus": 0.2,
          "absorb.review_vp_bonus": 0.1, "absorb.review_idle_half_life_years": 2.0,
          "absorb.review_upgrade_yuan": 300_000.0}


@pytest.mark.parametrize(("kw", "chance"), [
    ({}, 0.4),                                             # idle exactly idle_years, nothing else
    ({"talent": 1}, 0.6),                                  # + a team
    ({"talent": 1, "vp_until": VP_T + 1.0}, 0.7),          # + a vice-president in post
    ({"vp_until": VP_T - 0.5}, 0.4),                       # a vice-president who left counts for nothing
    ({"last_use": VP_T - 5.0}, 0.4 * 0.5),                 # idle 2 years beyond: one half-life
    ({"talent": 1, "last_use": VP_T - 7.0}, 0.6 * 0.25),   # idle 4 years beyond: two half-lives
])
def test_a_reviewed_title_only_institution_improves_with_a_chance_that_depends_on_the_firm(
        rules: Callable[..., Draws], kw: dict[str, float], chance: float) -> None:
    """Improves if the draw (keyed by the firm's serial and the year) falls below the chance: the firm pays
    absorb.review_upgrade_yuan (its R&D money) and the institution works; otherwise it is delisted."""
    ye = meeting_year_end()
    P = params(REVIEW)
    args = {"last_use": VP_T - 3.0, **kw}
    for u, improved in ((chance - 1e-9, True), (chance + 1e-9, False)):
        F = make_firms(firm(0, rd=1, working=0, **args))  # type: ignore[arg-type]
        F[0, L.F_ID] = 41
        R = record()
        d = rules({S.D_REVIEW: u})
        assert ye.review_chance(P, F, 0, VP_Y, VP_T) == pytest.approx(chance, rel=1e-12)
        ye.review_platform(P, F, R, 0, VP_Y, VP_T, RK)
        assert d.log == [(S.D_REVIEW, 41, VP_Y)]
        if improved:
            assert F[0, L.F_RD] == 1 and F[0, L.F_RD_WORKING] == 1 and R[L.R_RD_UPGRADED, VP_Y] == 1
            assert R[L.R_M_FIRM_RD, VP_Y] == 300_000.0 and R[L.R_DELISTED].sum() == 0
        else:
            assert F[0, L.F_RD] == 0 and R[L.R_DELISTED, VP_Y] == 1 and R[L.R_M_FIRM_RD].sum() == 0


def test_a_reviewed_working_institution_is_kept_and_costs_nothing(rules: Callable[..., Draws]) -> None:
    F = make_firms(firm(0, rd=1, last_use=0.0))
    R = record()
    d = rules()
    meeting_year_end().review_platform(params(REVIEW), F, R, 0, VP_Y, VP_T, RK)
    assert F[0, L.F_RD_WORKING] == 1 and R.sum() == 0 and d.log == []


# ---- awareness fades without renewal (MODEL.md 3.3.2) ---------------------------------------------------------

QUIET = {"firms.entry_rate_above": 0.0, "firms.exit_rate_above": 0.0, "firms.entry_rate_sme": 0.0,
         "firms.exit_rate_sme": 0.0, "firms.sme_graduation_rate": 0.0, "hightech.validity_years": 50.0,
         "derived.hightech_apply": 0.0, "talent.vice_presidents_per_year": 0.0, "talent.turnover": 0.0,
         "talent.inflow": 0.0, "talent.vp_training": 0.0, "platforms.rd_adoption_rate": 0.0,
         "hightech.other_contracts_per_year": 0.0, "absorb.awareness_fade": 0.25}


@pytest.mark.parametrize("pub", [0.0, 0.1])
def test_awareness_fades_toward_its_base_unless_renewed(rules: Callable[..., Draws], pub: float) -> None:
    """At the year's end t = 5, after publicity's push (a ↦ a + pub·(1 − a)), a firm without contact loses 25 % of
    its awareness above its level at founding; a contract within the past year or a vice-president in post
    renews it; awareness at or below the base does not move. Sums and maxima are those of the new values."""
    ye = meeting_year_end()
    P = params({**QUIET, "talent.publicity_rate": pub})
    t = 5.0
    F = make_firms(firm(0, aware=0.6), firm(0, aware=0.6, last_use=t - 0.5), firm(0, aware=0.6, vp_until=t + 1),
                   firm(0, aware=0.6, last_use=t - 1.5), firm(1, aware=0.1))
    F[:, L.F_AWARE_BASE] = [0.2, 0.2, 0.2, 0.2, 0.3]
    W, R = world(F), record()
    rules(default=0.5)
    ye.year_end(P, F, np.zeros((1, L.N_OCOL)), W, R, 5, N_YEARS, RK)
    pushed = [a + pub * (1 - a) for a in (0.6, 0.6, 0.6, 0.6, 0.1)]
    faded = [pushed[0] - 0.25 * (pushed[0] - 0.2), pushed[1], pushed[2], pushed[3] - 0.25 * (pushed[3] - 0.2),
             pushed[4] if pushed[4] <= 0.3 else pushed[4] - 0.25 * (pushed[4] - 0.3)]
    assert F[:, L.F_AWARE] == pytest.approx(faded, rel=1e-12)
    assert W[L.W_AWARE_SUM] == pytest.approx(sum(faded[:4])) and W[L.W_AWARE_MAX] == pytest.approx(max(faded[:4]))
    assert R[L.R_AWARENESS, 4] == pytest.approx(sum(faded) / 5)


def test_a_firm_keeps_its_awareness_at_founding_as_its_base(rules: Callable[..., Draws]) -> None:
    P = params()
    F = np.zeros((1, L.N_FCOL))
    rules(default=0.7)
    firms.draw_firm(P, F, 0, 3, 0.0, 0, 0.0, RK)
    assert F[0, L.F_AWARE_BASE] == F[0, L.F_AWARE] > 0
