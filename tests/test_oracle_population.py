"""Oracle tests of the firm population dynamics (MODEL.md 1.3 step (2), 3.3).

Each test chooses the uniforms the rules see (``tests.oracle.Draws``), builds a few firms and projects by
hand, computes what MODEL.md says happens — exits by type, SMEs graduating, entrants drawn like the
initial firms, the firms stored sector by sector again, projects following their firm or marked when it
exited, certificates expiring after three years and renewed, a project of an exited firm ending at its
next step — and compares.
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
from sim.rules import contract, finance, industry, pilot
from sim.rules.common import sum_awareness
from sim.table import PIDX
from tests.oracle import (
    N_YEARS,
    Draws,
    firm,
    offer,
    params,
    record,
    world,
)
from tests.oracle import firms as make_firms

population = importlib.import_module("sim.rules.population")
year_end = importlib.import_module("sim.rules.year_end")

SEED, REP = 0, 0
RK = np.uint64(rep_key(SEED, REP))  # the replication's key the engines hand to every rule
Y = 6  # the end of 2021 (t = 7)
T = float(Y + 1)


def binomial_u(k: int, m: int, prob: float) -> float:
    """A uniform whose Binomial(m, prob) inverse CDF is ``k``."""
    return float((stats.binom.cdf(k - 1, m, prob) + stats.binom.cdf(k, m, prob)) / 2)


def with_room(F: np.ndarray, spare: int) -> np.ndarray:
    """Firm rows followed by ``spare`` empty rows (room for entrants)."""
    return np.vstack([F, np.zeros((spare, L.N_FCOL))])


def typed(row: np.ndarray, fid: int, sme: int = 0) -> np.ndarray:
    row = row.copy()
    row[L.F_ID], row[L.F_SME] = fid, sme
    return row


def test_exits_graduation_entries_and_the_firms_stored_again(rules: Callable[..., Draws]) -> None:
    """Exits by type (how many: Binomial, which: the keyed shuffle), graduation of SMEs that stayed, entrants
    Binomial(cap, rate · alive before the exits / cap) drawn like initial firms keyed by their serial numbers;
    then the firms alive stored sector by sector (old rows in order, then the sector's entrants) and every
    project under way pointed to its firm's new row, or marked if its firm exited."""
    P = params({"firms.exit_rate_above": 0.3, "firms.exit_rate_sme": 0.3, "firms.sme_graduation_rate": 0.5,
                "firms.entry_rate_above": 0.5, "firms.entry_rate_sme": 0.2, "derived.entry_cap_above": 4.0,
                "derived.entry_cap_sme": 3.0, "platforms.title_only_share": 0.5})
    F6 = make_firms(typed(firm(0, aware=0.2, hightech=1), 0), typed(firm(0, aware=0.4), 1, sme=1),
                    typed(firm(1, aware=0.3, hightech=1), 2), typed(firm(1, aware=0.6), 3, sme=1),
                    typed(firm(2, aware=0.5, rd=1, last_use=6.5), 4), typed(firm(2, aware=0.1), 5, sme=1))
    W = world(F6)
    W[L.W_NEXT_FIRM_ID] = 6
    # a pending role-model map in sector 0 (a ↦ 0.5·a + 0.25): it must be written into the firms before rows move
    W[L.W_AWARE_MUL + 0], W[L.W_AWARE_ADD + 0] = 0.5, 0.25
    F = with_room(F6, 4)
    O = np.zeros((5, L.N_OCOL))
    # offer 0: its firm (row 2) exits; 1: its firm moves (row 4 → 5); 2: over, its firm (row 5) exits; 3: unmet;
    # 4: over, its firm moves (row 1 → 1)
    O[:, L.O_FIRM] = [2, 4, 5, -1, 1]
    O[:, L.O_STAGE] = [L.ST_NEGOTIATION, L.ST_PILOT, L.ST_DONE, L.ST_MEETING, L.ST_DONE]
    W[L.W_N_OFFERS] = 5
    # the offers met are on the list of projects the year's end follows (links hold 1 + row): 0 → 1 → 2 → 4
    W[L.W_LIVE_HEAD], O[0, L.O_NEXT_LIVE], O[1, L.O_NEXT_LIVE], O[2, L.O_NEXT_LIVE] = 1, 2, 3, 5
    R = record()
    sector_u = {6: 0.40, 7: 0.05, 8: 0.20}  # cumulative shares .15 .37 .45 .55 1 → sectors 2, 0, 1
    rd_u = {6: 0.1, 7: 0.9, 8: 0.9}         # rd_institution_share 0.4: only entrant 6 has an R&D institution
    d = rules({
        S.D_EXIT_ABOVE: lambda e, o: {0: binomial_u(1, 3, 0.3), 1: 0.5}[e],   # above [0 2 4]: position 1 → row 2
        S.D_EXIT_SME: lambda e, o: {0: binomial_u(1, 3, 0.3), 1: 0.9}[e],     # SMEs [1 3 5]: position 2 → row 5
        S.D_SME_GRADUATE: lambda e, o: {0: binomial_u(1, 2, 0.5), 1: 0.2}[e],  # stayed [1 3]: row 1 graduates
        S.D_ENTRY_ABOVE: binomial_u(2, 4, 1.5 / 4),  # mean 0.5 · 3 alive before the exits, cap 4: two enter
        S.D_ENTRY_SME: binomial_u(1, 3, 0.6 / 3),    # mean 0.2 · 3, cap 3: one enters
        S.D_FIRM_SECTOR: lambda e, o: sector_u[e], S.D_FIRM_COUNTY: 0.5, S.D_FIRM_RD: lambda e, o: rd_u[e],
        S.D_RD_WORKING: lambda e, o: {6: 0.9}[e], S.D_FIRM_TALENT: 0.1, S.D_FIRM_AWARE: 0.7,
        S.D_FIRM_LIQUID: 0.9, S.D_FIRM_COLLATERAL: 0.1, S.D_FIRM_IMITATOR: 0.9})
    population.firm_population(P, F, O, W, R, Y, T, RK)
    # every entrant's draws keyed by its serial number, occurrence 0
    assert {(dd, e, o) for dd, e, o in d.log if dd == S.D_FIRM_SECTOR} == {(S.D_FIRM_SECTOR, e, 0) for e in (6, 7, 8)}
    # new order: sector 0 [firm 0, firm 1 (graduated), entrant 7]; sector 1 [firm 3, entrant 8]; sector 2 [firm 4,
    # entrant 6]
    assert list(F[:7, L.F_ID]) == [0, 1, 7, 3, 8, 4, 6] and not F[7:].any()
    assert list(F[:7, L.F_SECTOR]) == [0, 0, 0, 1, 1, 2, 2]
    assert list(F[:7, L.F_SME]) == [0, 0, 0, 1, 1, 0, 0]
    assert list(W[L.W_SECTOR_START:L.W_SECTOR_START + L.N_SECTORS + 1]) == [0, 3, 5, 7, 7, 7]
    assert W[L.W_NEXT_FIRM_ID] == 9
    # entrants drawn like initial firms: county ⌊…⌋ at u = 0.5 → 曾都 .35 .55 → 随县 (1); team (0.1 < 0.3),
    # awareness logit-normal, no liquidity, collateral, no imitator, not high-tech, no vice-president
    aware = 1.0 / (1.0 + math.exp(-(math.log(0.3 / 0.7) + float(stats.norm.ppf(0.7)))))
    for row, fid in ((2, 7), (4, 8), (6, 6)):
        got = F[row]
        assert got[L.F_COUNTY] == 1 and got[L.F_TALENT] == 1 and got[L.F_LIQUID] == 0, fid
        assert got[L.F_COLLATERAL] == 1 and got[L.F_IMITATOR] == 0 and got[L.F_HIGHTECH] == 0, fid
        assert got[L.F_VP_UNTIL] == -1 and got[L.F_AWARE] == pytest.approx(aware, rel=1e-6), fid
        assert got[L.F_RD] == (fid == 6) and got[L.F_RD_WORKING] == (fid == 6), fid
        assert got[L.F_LAST_USE] == (T if fid == 6 else 0.0), fid  # a new R&D institution is idle from its founding
    # awareness: sector 0's map written into its firms (stored values; every map now the identity); the sums and
    # maxima are left to the year end's step 8, which recomputes them from the rows as sum_awareness does
    assert list(F[:7, L.F_AWARE]) == pytest.approx([0.35, 0.45, aware, 0.6, aware, 0.5, aware])
    assert (W[L.W_AWARE_MUL:L.W_AWARE_MUL + L.N_SECTORS] == 1).all()
    assert (W[L.W_AWARE_ADD:L.W_AWARE_ADD + L.N_SECTORS] == 0).all()
    sum_awareness(F, W)
    assert W[L.W_AWARE_SUM:L.W_AWARE_SUM + 3] == pytest.approx([0.8 + aware, 0.6 + aware, 0.5 + aware])
    assert W[L.W_AWARE_MAX:L.W_AWARE_MAX + 3] == pytest.approx([max(0.45, aware), max(0.6, aware), max(0.5, aware)])
    # the project under way whose firm exited is marked (it will end at its next step), counted, and keeps its
    # firm's last row; the other follows its firm; done offers (their firm never read again) and the unmet one are
    # left as they are, and only the project still under way stays on the list
    assert list(O[:, L.O_FIRM_GONE]) == [1, 0, 0, 0, 0] and list(O[:, L.O_FIRM]) == [2, 5, 5, -1, 1]
    assert W[L.W_LIVE_HEAD] == 2 and O[1, L.O_NEXT_LIVE] == 0
    counts = {"firms_exited_above_size": 1, "firms_exited_tech_sme": 1, "tech_sme_graduated": 1,
              "firms_entered_above_size": 2, "firms_entered_tech_sme": 1, "hightech_exited": 1,
              "projects_of_exited_firms": 1}
    for name, want in counts.items():
        assert R[L.RECORD_ROWS.index(name), Y] == want, name
    assert R.sum() == sum(counts.values())


def test_nothing_moves_without_exits_or_entries(rules: Callable[..., Draws]) -> None:
    """With no exit and no entrant the rows stay where they are (and the awareness maps stay pending)."""
    P = params({"firms.exit_rate_above": 0.0, "firms.exit_rate_sme": 0.0, "firms.sme_graduation_rate": 0.0,
                "firms.entry_rate_above": 0.0, "firms.entry_rate_sme": 0.0})
    F = make_firms(typed(firm(0, aware=0.2), 0), typed(firm(1, aware=0.3), 1, sme=1))
    W = world(F)
    W[L.W_AWARE_MUL + 1] = 0.5
    F0, W0 = F.copy(), W.copy()
    d = rules()
    population.firm_population(P, F, np.zeros((1, L.N_OCOL)), W, record(), Y, T, RK)
    assert np.array_equal(F, F0) and np.array_equal(W, W0) and d.log == []


def test_entrants_never_exceed_the_cap_and_follow_the_mean(rules: Callable[..., Draws]) -> None:
    """Binomial(cap, mean / cap): the count at u → 1 is the cap; above the cap's mean the probability is 1."""
    P = params({"firms.entry_rate_above": 0.1, "derived.entry_cap_above": 7.0})
    rk = RK
    rules({S.D_ENTRY_ABOVE: 1 - 1e-15})
    assert population.entrants(P, 40, PIDX["firms.entry_rate_above"], PIDX["derived.entry_cap_above"], rk,
                               S.D_ENTRY_ABOVE, Y) == 7
    rules({S.D_ENTRY_ABOVE: 0.5})
    k = population.entrants(P, 40, PIDX["firms.entry_rate_above"], PIDX["derived.entry_cap_above"], rk,
                            S.D_ENTRY_ABOVE, Y)
    assert k == int(stats.binom.ppf(0.5, 7, 4.0 / 7.0))
    P[PIDX["firms.entry_rate_above"]] = 1.0  # mean 40 > cap 7: every one of the cap enters
    assert population.entrants(P, 40, PIDX["firms.entry_rate_above"], PIDX["derived.entry_cap_above"], rk,
                               S.D_ENTRY_ABOVE, Y) == 7


@pytest.mark.parametrize(("rd", "talent", "u_re", "u_ok", "renewed"), [
    (1, 0, 0.5, 0.5, True),     # re-applies and is renewed: a new certificate dated now
    (0, 1, 0.5, 0.99, False),   # re-applies, refused: leaves the stock
    (1, 0, 0.97, None, False),  # does not re-apply (reapply_prob 0.95): leaves the stock
    (0, 0, None, None, False),  # no longer eligible (neither R&D institution nor team): cannot re-apply
])
def test_certificates_expire_after_three_years_and_may_be_renewed(rules: Callable[..., Draws], rd: int,
                                                                    talent: int, u_re: float | None,
                                                                    u_ok: float | None, renewed: bool) -> None:
    """国科发火〔2016〕32号: valid three years from the certificate's date; a renewal is a re-application
    (counted among applications) approved with renewal_approval (MODEL.md 1.3 step (3))."""
    P = params({"hightech.validity_years": 3.0, "hightech.reapply_prob": 0.95, "hightech.renewal_approval": 0.9})
    F = make_firms(typed(firm(0, rd=rd, talent=talent, hightech=1), 41),   # certificate of t = 4: expires at t = 7
                   typed(firm(0, rd=1, hightech=1), 42),                   # certificate of t = 5: still valid
                   typed(firm(0, rd=1), 43))                               # none
    F[0, L.F_HT_SINCE], F[1, L.F_HT_SINCE] = T - 3.0, T - 2.0
    R = record()
    chosen: dict[int, object] = {}
    if u_re is not None:
        chosen[S.D_HT_REAPPLY] = lambda e, o: {(41, Y): u_re}[(e, o)]
    if u_ok is not None:
        chosen[S.D_HT_RENEW] = lambda e, o: {(41, Y): u_ok}[(e, o)]
    rules(chosen)
    for f in range(3):
        year_end.renew_certificate(P, F, R, f, Y, T, RK)
    assert R[L.R_HT_EXPIRED, Y] == 1
    assert R[L.R_HT_REAPPLIED, Y] == R[L.R_HT_APPLIED, Y] == (u_re is not None and u_re < 0.95)
    assert R[L.R_HT_RENEWED, Y] == renewed
    assert list(F[:, L.F_HIGHTECH]) == [renewed, 1, 0]
    assert F[0, L.F_HT_SINCE] == (T if renewed else T - 3.0) and F[1, L.F_HT_SINCE] == T - 2.0


def test_initial_certificates_expire_by_their_drawn_age(rules: Callable[..., Draws]) -> None:
    """An initial certificate dated −2 (granted two years before the start) expires at the first year's end."""
    P = params({"hightech.validity_years": 3.0, "hightech.reapply_prob": 0.0})
    F = make_firms(typed(firm(0, rd=1, hightech=1), 0), typed(firm(0, rd=1, hightech=1), 1))
    F[:, L.F_HT_SINCE] = [-2.0, -1.0]
    R = record()
    rules({S.D_HT_REAPPLY: 0.5})
    for f in range(2):
        year_end.renew_certificate(P, F, R, f, 0, 1.0, RK)
    assert list(F[:, L.F_HIGHTECH]) == [0, 1] and R[L.R_HT_EXPIRED, 0] == 1 and R[L.R_HT_RENEWED, 0] == 0


# ---- a project of a firm that exited ends at its next step (MODEL.md 1.3, sim/rules/common.firm_gone) ---------


def gone_offer(stage: int) -> np.ndarray:
    O = offer(stage=stage, route=L.PR_PUBLIC)
    O[0, L.O_FIRM_GONE] = 1.0
    return O


def test_the_negotiation_of_a_firm_that_exited_ends_without_a_draw(rules: Callable[..., Draws]) -> None:
    d = rules()
    F = make_firms(firm(0))
    O, R = gone_offer(L.ST_NEGOTIATION), record()
    assert contract.decide_contract(params(), F, O, world(F), R, 0, T + 0.3, N_YEARS, RK) == 0
    assert O[0, L.O_REASON] == L.RE_FIRM_EXIT and O[0, L.O_STAGE] == L.ST_DONE and O[0, L.O_T_END] == T + 0.3
    assert R[L.R_TERM + L.RE_FIRM_EXIT, Y + 1] == 1 and R.sum() == 1 and d.log == []


def test_the_pilot_of_a_firm_that_exited_ends_at_its_end(rules: Callable[..., Draws]) -> None:
    rules()
    O, R = gone_offer(L.ST_PILOT), record()
    assert pilot.decide_pilot(params(), make_firms(firm(0)), O, R, 0, T + 0.5, N_YEARS, RK) == 0
    assert O[0, L.O_REASON] == L.RE_FIRM_EXIT and R[L.R_PILOT_OK].sum() == 0 and R.sum() == 1


@pytest.mark.parametrize("ok", [True, False])
def test_a_search_for_money_ends_the_project_of_a_firm_that_exited(rules: Callable[..., Draws], ok: bool) -> None:
    """Refused: the project ends at once (firm exit). Granted: nothing is lent or invested; the ramp-up has length
    0, so the project ends as firm exit at the same time, one step later (the engines follow ``ok``)."""
    rules()
    P = params()
    O, R = gone_offer(L.ST_FINANCE), record()
    O[0, L.O_INVEST] = 1e6
    finance.finance_outcome(O, R, 0, T + 0.4, T + 0.1, ok, N_YEARS)
    assert R[L.R_WAIT_FINANCE, Y + 1] == pytest.approx(0.3) and R[L.R_N_FINANCE, Y + 1] == 1
    assert R[L.R_FINANCED].sum() == 0 and R[L.R_M_FIRM_RD].sum() == 0
    if not ok:
        assert O[0, L.O_REASON] == L.RE_FIRM_EXIT and O[0, L.O_STAGE] == L.ST_DONE
        return
    assert O[0, L.O_STAGE] == L.ST_FINANCE
    assert industry.rampup_time(P, O, 0, T + 0.4, N_YEARS, RK) == 0.0
    F = make_firms(firm(0))
    assert industry.decide_industrialised(P, F, O, world(F), R, 0, T + 0.4, N_YEARS, RK) == 0
    assert O[0, L.O_REASON] == L.RE_FIRM_EXIT and R[L.R_INDUSTRIALISED].sum() == 0


def test_a_ramp_up_under_way_when_the_firm_exits_ends_at_its_end(rules: Callable[..., Draws]) -> None:
    d = rules()
    F = make_firms(firm(0))
    O, R = gone_offer(L.ST_RAMPUP), record()
    W = world(F)
    assert industry.decide_industrialised(params(), F, O, W, R, 0, T + 0.9, N_YEARS, RK) == 0
    assert O[0, L.O_REASON] == L.RE_FIRM_EXIT and W[L.W_IND_THIS_YEAR] == 0 and d.log == []
