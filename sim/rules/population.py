"""The firm population at the year's end: firms exit, science-based SMEs graduate, new firms enter.

Two types of firm: above designated size (规上) and science-based SMEs below it (科技型中小企业),
``F[f, F_SME]``. At every year's end, in this order (MODEL.md 1.3, 3.3):

1. *exits*: each firm alive leaves with its type's ``firms.exit_rate_*`` (how many: Binomial, which:
   a keyed partial shuffle, :func:`sim.rules.year_end.chosen`); its high-tech certificate, R&D
   institution and vice-president leave with it, and its offers are marked: a project under way ends
   at its next step with the reason *firm exit* (:func:`sim.rules.common.firm_gone`);
2. *graduation*: each SME that stayed grows above designated size with ``firms.sme_graduation_rate``
   (it keeps every attribute);
3. *entries*: Binomial(cap, rate · alive / cap) entrants of each type — mean ``firms.entry_rate_*`` ×
   the type's firms alive before the exits, never more than the cap (``derived.entry_cap_*``, sized in
   ``sim/table.py`` so that it practically never binds and the firm arrays never overflow) — drawn like
   the initial firms (:func:`sim.rules.firms.draw_firm`, keyed by their serial numbers);
4. the firms alive are stored again sector by sector (rows of the same sector in their old order, then
   the sector's entrants), and every offer under way is pointed to its firm's new row.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from sim import layout as L
from sim import streams as S
from sim.rng import Word, binomial, draw
from sim.rules.common import mapped
from sim.rules.firms import draw_firm
from sim.rules.pidx import ENTRY_ABOVE, ENTRY_CAP_ABOVE, ENTRY_CAP_SME, ENTRY_SME, EXIT_ABOVE, EXIT_SME, GRADUATE
from sim.rules.sample import chosen


@nb.njit(cache=True)
def entrants(P: np.ndarray, alive: int, rate_row: int, cap_row: int, rk: Word, decision: int, y: int) -> int:
    """How many firms of one type enter at year ``y``'s end: Binomial(cap, rate · alive / cap), key (decision, 0, y)."""
    cap = int(P[cap_row, y])
    mean = P[rate_row, y] * alive
    if cap <= 0 or mean <= 0.0:
        return 0
    return binomial(draw(rk, decision, 0, y), cap, min(1.0, mean / cap))


@nb.njit(cache=True)
def move_rows(F: np.ndarray, W: np.ndarray, dest: np.ndarray, n: int, total: int) -> None:
    """Move row ``f`` of ``F`` to row ``dest[f]`` for every ``f < total`` with ``dest[f] ≥ 0``, in place.

    ``dest`` keeps the order of the old rows ``[0, n)`` (it increases over the rows kept) and sends the
    entrants ``[n, total)`` anywhere. The entrants are set aside first; then an old row moving up is
    copied in ascending order and one moving down in descending order, so every row is read before
    its place is written over (the row that held that place has moved already, or has left). Every old
    row kept gets its sector's pending awareness map written into it (``awareness`` is then its stored
    value; the caller makes the maps the identity); the entrants' drawn values are under no map.
    """
    n_new = total - n
    entrants = np.empty((max(n_new, 1), L.N_FCOL))
    for e in range(n_new):
        for c in range(L.N_FCOL):
            entrants[e, c] = F[n + e, c]
    # The move is written out in both loops rather than in a helper: an inlined helper that takes the arrays
    # makes Numba count references to them for every row. Rows before the first exit stay where they are:
    # only their map is written.
    for f in range(n):
        d = dest[f]
        if 0 <= d <= f:
            s = int(F[f, L.F_SECTOR])
            a = mapped(W[L.W_AWARE_MUL + s], W[L.W_AWARE_ADD + s], F[f, L.F_AWARE])
            if d != f:
                for c in range(L.N_FCOL):
                    F[d, c] = F[f, c]
            F[d, L.F_AWARE] = a
    for f in range(n - 1, -1, -1):
        d = dest[f]
        if d > f:
            s = int(F[f, L.F_SECTOR])
            a = mapped(W[L.W_AWARE_MUL + s], W[L.W_AWARE_ADD + s], F[f, L.F_AWARE])
            for c in range(L.N_FCOL):
                F[d, c] = F[f, c]
            F[d, L.F_AWARE] = a
    for e in range(n_new):
        d = dest[n + e]
        for c in range(L.N_FCOL):
            F[d, c] = entrants[e, c]


@nb.njit(cache=True)
def follow_firms(O: np.ndarray, W: np.ndarray, R: np.ndarray, dest: np.ndarray, y: int) -> None:
    """Every project under way follows its firm to its new row, so an offer's firm is the same firm in every scenario.

    The offers of a firm that exited are marked: a project under way ends at its next step (and keeps the
    firm's last row). Only the offers met and not done have a firm to follow: a meeting puts its offer on a
    list linked through ``O_NEXT_LIVE`` (:func:`sim.rules.meeting.decide_meeting`), and this walk drops
    the offers done since and those whose firm left. Work grows with the projects under way, not with all
    the offers since the start (a done offer's firm is never read again).
    """
    head = 0  # the list's links hold 1 + an offer's row, 0 at the end (sim/layout.py)
    link = int(W[L.W_LIVE_HEAD])
    for _ in range(int(W[L.W_N_OFFERS])):  # each offer is on the list at most once: a bound, never a loop
        if link <= 0:
            break
        i = link - 1
        link = int(O[i, L.O_NEXT_LIVE])
        # the offer follows its firm to its new row; it leaves the list if it is done or its firm has left
        # (written here, not in a helper: a call per offer would count references to three arrays)
        if int(O[i, L.O_STAGE]) == L.ST_DONE:
            continue
        f = int(O[i, L.O_FIRM])
        if f >= 0:  # f < 0: met no firm (a sector without awareness, practically never): nothing to follow
            if dest[f] < 0:
                O[i, L.O_FIRM_GONE] = 1.0
                R[L.R_PROJECTS_FIRM_EXIT, y] += 1.0
                continue
            O[i, L.O_FIRM] = dest[f]
        O[i, L.O_NEXT_LIVE] = head
        head = i + 1
    W[L.W_LIVE_HEAD] = head


@nb.njit(cache=True)
def firm_population(P: np.ndarray, F: np.ndarray, O: np.ndarray, W: np.ndarray, R: np.ndarray, y: int,
                    t: float, rk: Word) -> None:
    """Exits, graduation and entries at the end of year ``y`` (time ``t``); see the module's docstring."""
    n = int(W[L.W_SECTOR_START + L.N_SECTORS])
    # the lists are built without branching on each firm's type: every firm is written at the end of both
    # and counted in its own (a branch the processor could not predict costs more than the write)
    above = np.empty(n, dtype=np.int64)
    sme = np.empty(n, dtype=np.int64)
    n_above = 0
    n_sme = 0
    for f in range(n):
        is_sme = F[f, L.F_SME] > 0.0
        sme[n_sme] = f
        above[n_above] = f
        n_sme += is_sme
        n_above += not is_sme
    gone = np.zeros(n, dtype=np.bool_)
    # 1. exits
    k_above = chosen(above, n_above, P[EXIT_ABOVE, y], rk, S.D_EXIT_ABOVE, y)
    k_sme = chosen(sme, n_sme, P[EXIT_SME, y], rk, S.D_EXIT_SME, y)
    for j in range(k_above):
        gone[above[j]] = True
        R[L.R_HT_EXITED, y] += F[above[j], L.F_HIGHTECH]
    for j in range(k_sme):
        gone[sme[j]] = True
        R[L.R_HT_EXITED, y] += F[sme[j], L.F_HIGHTECH]
    R[L.R_EXITED_ABOVE, y] += k_above
    R[L.R_EXITED_SME, y] += k_sme
    n_gone = k_above + k_sme
    # 2. graduation: the SMEs that stayed, in row order
    stayed = 0
    for f in range(n):
        sme[stayed] = f
        stayed += (F[f, L.F_SME] > 0.0) & (not gone[f])
    for j in range(chosen(sme, stayed, P[GRADUATE, y], rk, S.D_SME_GRADUATE, y)):
        F[sme[j], L.F_SME] = 0.0
        R[L.R_SME_GRADUATED, y] += 1.0
    # 3. entries, on the firms alive before the exits
    e_above = entrants(P, n_above, ENTRY_ABOVE, ENTRY_CAP_ABOVE, rk, S.D_ENTRY_ABOVE, y)
    e_sme = entrants(P, n_sme, ENTRY_SME, ENTRY_CAP_SME, rk, S.D_ENTRY_SME, y)
    if n_gone == 0 and e_above + e_sme == 0:
        return
    total = n + e_above + e_sme  # the entrants take the spare rows after the firms alive
    for e in range(e_above + e_sme):
        fid = int(W[L.W_NEXT_FIRM_ID])
        W[L.W_NEXT_FIRM_ID] += 1.0
        draw_firm(P, F, n + e, fid, 0.0 if e < e_above else 1.0, y, t, rk)
    R[L.R_ENTERED_ABOVE, y] += e_above
    R[L.R_ENTERED_SME, y] += e_sme
    # 4. store the firms alive sector by sector again, keeping row order: the rows alive are sorted by sector
    # already, so each sector's new block is its firms that stayed, in order, then its entrants, in order
    dest = np.empty(total, dtype=np.int64)  # new row of each old row and entrant, −1 for a firm that exited
    r = 0
    for s in range(L.N_SECTORS):
        lo = int(W[L.W_SECTOR_START + s])
        hi = int(W[L.W_SECTOR_START + s + 1])
        W[L.W_SECTOR_START + s] = r
        for f in range(lo, hi):
            dest[f] = -1 if gone[f] else r
            r += not gone[f]
        for f in range(n, total):
            if int(F[f, L.F_SECTOR]) == s:
                dest[f] = r
                r += 1
    W[L.W_SECTOR_START + L.N_SECTORS] = r
    kept = r
    # rows move with their sector's pending awareness map written into them (entrants' drawn awareness is
    # under no map); the sectors' awareness sums and maxima are recomputed from the rows at step 8 of the
    # year's end (sim/rules/year_end.py), and nothing before it reads them
    move_rows(F, W, dest, n, total)
    for s in range(L.N_SECTORS):
        W[L.W_AWARE_MUL + s] = 1.0
        W[L.W_AWARE_ADD + s] = 0.0
    for r in range(kept, total):
        for c in range(L.N_FCOL):
            F[r, c] = 0.0
    follow_firms(O, W, R, dest, y)
