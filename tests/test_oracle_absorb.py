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
from tests.oracle import N_YEARS, Draws, firm, interpret, offer, params, record, world
from tests.oracle import firms as make_firms

Y = 9  # 2024: a policy year
T = Y + 0.5
RK = np.uint64(rep_key(0, 0))
WEIGHTS = {"absorb.weight_rd": 1.0, "absorb.weight_talent": 0.5, "absorb.weight_vp": 2.0}
SLOTS = {"absorb.slots_base": 2.0, "absorb.slots_rd": 2.0, "absorb.slots_talent": 1.0}


@pytest.fixture
def rules(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Draws]:
    """Switch the rulebook to plain Python with the chosen uniforms; returns the draw log."""

    def use(chosen: dict[int, object] | None = None, default: float | None = None) -> Draws:
        d = Draws(chosen, default, rk=rep_key(0, 0))  # type: ignore[arg-type]
        interpret(monkeypatch, d)
        return d

    return use


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
