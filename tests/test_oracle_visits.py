"""Oracle tests of exchange visits (组织高校院所与企业实地参观交流, report 三(一)二; MODEL.md 1.3 step 3 and the
year's end step 4).

Hand-made firms and chosen uniforms: how many visits a year, which firms the keyed shuffle picks (firms above
designated size only, each at most once a year), how long a visited firm's need stays known, and that a
negotiation with a visited firm fits a known need (fit 1) only while it does, the other firms keeping
``contract.need_fit``.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable

import numpy as np
import pytest

from sim import layout as L
from sim import streams as S
from sim.rng import draw, rep_key
from sim.rules import contract
from tests.oracle import N_YEARS, Draws, firm, offer, params, record, world
from tests.oracle import firms as make_firms
from tests.test_oracle_absorb import QUIET
from tests.test_oracle_rules import contract_logit

Y = 6
T = float(Y + 1)  # the end of year Y
RK = np.uint64(rep_key(0, 0))
# the module, not the rule of the same name that the package sim.rules exports
year_end = importlib.import_module("sim.rules.year_end")


def sme(sector: int) -> np.ndarray:
    row = firm(sector)
    row[L.F_SME] = 1.0
    return row


def mixed_firms() -> np.ndarray:
    """Rows 0, 2, 3, 5 are above designated size; rows 1 and 4 are science-based SMEs (never visited)."""
    return make_firms(firm(0), sme(0), firm(0), firm(0), sme(1), firm(1))


# ---- the contract: a visited firm's negotiation fits a known need (MODEL.md 1.3 step 3) --------------------------

@pytest.mark.parametrize(("until", "t", "fit"), [(T + 2.0, T + 0.3, 1.0), (T + 2.0, T + 1.99, 1.0),
                                                 (T + 2.0, T + 2.01, 0.1), (0.0, T + 0.3, 0.1)])
def test_a_visited_firm_fits_a_known_need_until_the_visit_expires(rules: Callable[..., Draws], until: float,
                                                                   t: float, fit: float) -> None:
    """Visited at T with a need known for 2 years: negotiations ending before T + 2 fit (1); after it, and for a
    firm never visited, the fit is contract.need_fit (0.1 by default)."""
    P = params()
    chance = 1 / (1 + math.exp(-contract_logit(P, 0, 0, 0, 0, 250_000.0, 0.0, fit=fit)))  # not claimed
    for u, signed in ((chance - 1e-9, 1), (chance + 1e-9, 0)):
        F = make_firms(firm(0, county=3))
        F[0, L.F_VISIT_UNTIL] = until
        W, O, R = world(F), offer(t_arrive=T - 0.2), record()
        O[0, L.O_T_MEET] = T - 0.1
        rules({S.D_CONTRACT: u, S.D_SUBSIDY_CLAIM: 0.9})
        assert contract.decide_contract(P, F, O, W, R, 0, t, N_YEARS, RK) == signed


def test_a_visit_changes_no_other_firms_fit(rules: Callable[..., Draws]) -> None:
    """Firm 0 was visited, firm 1 was not: the same result sells to firm 0 with fit 1 and to firm 1 with 0.1."""
    P = params()
    t = T + 0.5
    for row, fit in ((0, 1.0), (1, 0.1)):
        chance = 1 / (1 + math.exp(-contract_logit(P, 0, 0, 0, 0, 250_000.0, 0.0, fit=fit)))
        for u, signed in ((chance - 1e-9, 1), (chance + 1e-9, 0)):
            F = make_firms(firm(0, county=3), firm(0, county=3))
            F[0, L.F_VISIT_UNTIL] = T + 2.0
            W, O, R = world(F), offer(firm_row=row), record()
            rules({S.D_CONTRACT: u, S.D_SUBSIDY_CLAIM: 0.9})
            assert contract.decide_contract(P, F, O, W, R, 0, t, N_YEARS, RK) == signed


# ---- the visits at the year's end (MODEL.md 1.3, the year's end step 4) -------------------------------------------

@pytest.mark.parametrize(("per_year", "n_visits"), [(2.4, 2), (2.5, 3), (0.4, 0)])
def test_the_number_of_visits_is_the_yearly_count_rounded(rules: Callable[..., Draws], per_year: float,
                                                          n_visits: int) -> None:
    P = params({"contract.visits_per_year": per_year})
    F = mixed_firms()
    W, R = world(F), record()
    d = rules({S.D_VISIT: 0.5})
    year_end.exchange_visits(P, F, W, R, Y, T, RK)
    assert R[L.R_VISITS, Y] == n_visits and R.sum() == n_visits
    assert d.log == [(S.D_VISIT, j, Y) for j in range(n_visits)]
    assert (F[:, L.F_VISIT_UNTIL] > 0).sum() == n_visits


def test_the_visited_firms_are_the_keyed_shuffles_picks_above_designated_size(rules: Callable[..., Draws]) -> None:
    """Candidates (rows above designated size, in row order) [0, 2, 3, 5]. Visit 0 with u = 0.6 takes position
    0 + ⌊0.6·4⌋ = 2 — row 3 — and swaps it to the front: [3, 2, 0, 5]; visit 1 with u = 0.9 takes position
    1 + ⌊0.9·3⌋ = 3 — row 5. Both needs are known for contract.visit_known_years (3 here) from T."""
    P = params({"contract.visits_per_year": 2.0, "contract.visit_known_years": 3.0})
    F = mixed_firms()
    W, R = world(F), record()
    rules({S.D_VISIT: lambda j, y: (0.6, 0.9)[j]})
    year_end.exchange_visits(P, F, W, R, Y, T, RK)
    assert list(F[:, L.F_VISIT_UNTIL]) == [0.0, 0.0, 0.0, T + 3.0, 0.0, T + 3.0]


def test_more_visits_than_firms_visit_every_firm_above_designated_size_once(rules: Callable[..., Draws]) -> None:
    P = params({"contract.visits_per_year": 10.0})
    F = mixed_firms()
    W, R = world(F), record()
    d = rules({S.D_VISIT: 0.99})
    year_end.exchange_visits(P, F, W, R, Y, T, RK)
    assert R[L.R_VISITS, Y] == 4 and d.count(S.D_VISIT) == 4
    assert list(F[:, L.F_VISIT_UNTIL]) == [T + 2.0, 0.0, T + 2.0, T + 2.0, 0.0, T + 2.0]


def test_a_later_visit_extends_a_known_need_and_never_shortens_it(rules: Callable[..., Draws]) -> None:
    """Row 0's need is known until T + 0.5 (visited earlier): visited again, until T + 2. Row 2's is known until
    T + 5 (an earlier, longer-lived visit): visited again, it keeps T + 5."""
    P = params({"contract.visits_per_year": 2.0})
    F = mixed_firms()
    F[0, L.F_VISIT_UNTIL], F[2, L.F_VISIT_UNTIL] = T + 0.5, T + 5.0
    W, R = world(F), record()
    rules({S.D_VISIT: 0.01})  # each visit takes the first candidate left: rows 0, then 2
    year_end.exchange_visits(P, F, W, R, Y, T, RK)
    assert list(F[:, L.F_VISIT_UNTIL]) == [T + 2.0, 0.0, T + 5.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize("per_year", [0.0, 2.0])
def test_the_year_end_makes_the_visits_and_draws_nothing_without_them(rules: Callable[..., Draws],
                                                                      per_year: float) -> None:
    """With no visits (today) the year's end draws no D_VISIT at all, so the baseline's draws are unchanged."""
    P = params({**QUIET, "contract.visits_per_year": per_year})
    F = mixed_firms()
    W, R = world(F), record()
    d = rules(default=0.5)
    year_end.year_end(P, F, np.zeros((1, L.N_OCOL)), W, R, Y + 1, N_YEARS, RK)
    assert d.count(S.D_VISIT) == per_year and R[L.R_VISITS, Y] == per_year
    assert (F[:, L.F_VISIT_UNTIL] == T + 2.0).sum() == per_year


def test_the_compiled_rule_visits_the_firms_the_real_keyed_draws_pick() -> None:
    """The compiled rule with the real keyed generator: the firms visited are those a plain-Python shuffle with
    the same draws (D_VISIT, entity j, occurrence the year) picks, and another replication picks others."""
    P = params({"contract.visits_per_year": 5.0})
    n = 40
    F = make_firms(*[firm(0) if f % 3 else sme(0) for f in range(n)])
    W = world(F)
    picked = set()
    for rep in range(3):
        rk = np.uint64(rep_key(7, rep))
        G, R = F.copy(), record()
        year_end.exchange_visits(P, G, W, R, Y, T, rk)
        cand = [f for f in range(n) if f % 3]
        want = []
        for j in range(5):
            r = j + min(int(draw(rk, S.D_VISIT, j, Y) * (len(cand) - j)), len(cand) - j - 1)
            cand[j], cand[r] = cand[r], cand[j]
            want.append(cand[j])
        assert sorted(np.flatnonzero(G[:, L.F_VISIT_UNTIL] == T + 2.0)) == sorted(want)
        picked.add(tuple(sorted(want)))
    assert len(picked) > 1
