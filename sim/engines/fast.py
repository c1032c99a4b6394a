"""The fast engine: the same rulebook in a compiled event loop, for many replications.

One replication is a Numba ``nopython`` loop over an array-based calendar
queue of events ordered by (time, scheduling number). It calls exactly the rule
functions of :mod:`sim.rules` that the SimPy engine calls, at the same
moments and in the same order, and mirrors the SimPy engine's resource
semantics: a broker or pilot slot released hands itself to the head of a
FIFO queue; capacity added at the year's end serves queued offers at once.
Same parameters and seed ⇒ the same record as :mod:`sim.engines.reference`
(tested replication by replication).

Replications run in parallel threads (``prange``, the GIL released); each
replication depends only on its own key, so results do not depend on the
number of threads. Only the outcome records are kept, never the events.
"""

from __future__ import annotations

import time

import numba as nb
import numpy as np

from sim import layout as L
from sim import rules
from sim._numba_start import start_numba
from sim.engines._borrow import borrow, keep
from sim.rng import REP_BITS, SEED_BITS, Word, rep_key
from sim.table import Table

EV_YEAR, EV_SLOT, EV_ARRIVAL, EV_SEARCH, EV_RETRY, EV_NEGO, EV_PILOT, EV_FIN, EV_RAMP = range(9)


# ---- the event calendar --------------------------------------------------------------------
# A calendar queue (Brown 1988, "Calendar queues: a fast O(1) priority queue implementation
# for the simulation event set problem"): time is cut into buckets of 1/B year, B a power of
# two, and bucket b's events live in list b mod B, sorted by (time, scheduling number). The
# next event is the head of the first list, from the current bucket on, whose head lies in
# the current bucket; events a year or more ahead wait in their list until their lap comes.
# Popping in (time, scheduling number) order gives exactly the order a heap gives.
#
# Events scheduled during a step are first *staged* (a straight-line helper) and the loop
# files them into the calendar at the end of the step, in the order they were scheduled.
# The filing and popping loops live in the event loop itself, not in helpers: a helper with
# a loop that receives arrays makes Numba count references to them (atomic adds) on every
# call, measured at ≈ 10 % of the engine's time.

_KIND_SHIFT = 40
_PAYLOAD = (1 << 40) - 1


@nb.njit(cache=True, inline="always")
def _stage(SK: np.ndarray, SV: np.ndarray, ns: int, seq: int, t: float, kind: int, a: int) -> tuple[int, int]:
    """Schedule event ``kind`` for ``a`` at ``t``; returns the new (staged count, next scheduling number)."""
    SK[ns, 0] = t
    SK[ns, 1] = float(seq)
    SV[ns] = (kind << _KIND_SHIFT) | a
    return ns + 1, seq + 1


@nb.njit(cache=True, inline="always")
def _serve(P: np.ndarray, O: np.ndarray, R: np.ndarray, j: int, t: float, t_enter: np.ndarray, broker: bool,
           n_years: int, horizon: float, rk: Word, SK: np.ndarray, SV: np.ndarray, ns: int,
           seq: int) -> tuple[int, int]:
    """Offer ``j``, waiting since ``t_enter[j]``, gets a broker or a public pilot slot at ``t``: schedule its end."""
    d = rules.start_service(P, O, R, j, t, t - t_enter[j], broker, n_years, horizon, rk)
    return _stage(SK, SV, ns, seq, t + d, EV_SEARCH if broker else EV_PILOT, j)


@nb.njit(cache=True, inline="always")
def _dequeue(q: np.ndarray, head: int, length: int, qcap: int) -> tuple[int, int, int]:
    """Take the first offer of a FIFO ring buffer: returns (offer, new head, new length)."""
    return q[head], (head + 1) % qcap, length - 1


@nb.njit(cache=True, inline="always")
def _enqueue(q: np.ndarray, head: int, length: int, qcap: int, i: int) -> int:
    """Put offer ``i`` at the end of a FIFO ring buffer: returns the new length."""
    q[(head + length) % qcap] = i
    return length + 1


@nb.njit(cache=True)
def _hold_event(P: np.ndarray, F: np.ndarray, O: np.ndarray, W: np.ndarray, R: np.ndarray, ys: int, slot: int,
                t: float, n_years: int, rk: Word, SK: np.ndarray, SV: np.ndarray, ns: int,
                seq: int) -> tuple[int, int]:
    """A matchmaking event (对接会) in ``slot`` of year ``ys``: its results are pitched, each meets a firm or not.

    Not inlined into the loop, unlike the other events' rules: events are about 1 % of all
    events, and a second inlined copy of the offer and meeting rules would add compile time
    for nothing. Returns the new (staged count, next scheduling number).
    """
    first = int(W[L.W_N_OFFERS])
    for kk in range(rules.offers_at_event(P, ys)):
        key = rules.event_offer_key(ys, slot, kk)
        if not rules.pitch_is_new(P, W, R, key, ys, rk):
            continue
        i = rules.create_offer(P, O, W, R, key, L.CH_EVENT, t, n_years, rk)
        rules.use_pool(W, L.CH_EVENT, ys)
        rules.open_search(O, W, i)
    last = int(W[L.W_N_OFFERS])
    for i in range(first, last):
        met = rules.decide_meeting(P, F, O, W, R, i, t, L.MM_EVENT, n_years, rk)
        if met:
            ns, seq = _stage(SK, SV, ns, seq, t + rules.negotiation_time(P, O, i, t, n_years, rk), EV_NEGO, i)
        elif not rules.meeting_exhausted(P, O, R, i, t, n_years):
            ns, seq = _stage(SK, SV, ns, seq, t + rules.retry_gap(P, O, i, t, n_years, rk), EV_RETRY, i)
    return ns, seq


@nb.njit(cache=True, inline="always")
def _next_accepted(P: np.ndarray, W: np.ndarray, R: np.ndarray, ch: int, k: int, t: float, n_years: int,
                   horizon: float, rk: Word) -> tuple[int, float]:
    """Candidate ``k`` of channel ``ch`` comes at ``t``: the first candidate from it that thinning accepts.

    The SimPy engine handles every candidate as an event that may do nothing;
    here rejected candidates are skipped in a tight loop. Acceptance depends on
    the candidate's time and on the channel's pool, which only this channel's
    own arrivals use (this is called after the previous one was counted), and
    times are summed in the same order, so the accepted arrivals are the same
    to the last bit.
    """
    while t < horizon and not rules.candidate_accepted(P, W, R, ch, k, t, n_years, rk):
        t = t + rules.candidate_gap(P, ch, k + 1, rk)
        k += 1
    return k, t


@nb.njit(cache=True)
def run_one(P_own: np.ndarray, n_firms: int, n_years: int, max_offers: int, seed: int, rep: int,
            stats: np.ndarray) -> np.ndarray:
    """One replication; returns the record ``R[row, year]``. ``stats[0]`` += events processed."""
    F_own = np.empty((n_firms, L.N_FCOL))  # rows are written before they are read: drawn (draw_firm) or cleared
    O_own = np.empty((max_offers, L.N_OCOL))  # create_offer clears each row it uses
    W_own = np.zeros(L.N_W)
    R_own = np.zeros((L.N_ROWS, n_years))
    # Rules get borrowed views (sim/engines/_borrow.py: no atomic reference counting on each
    # call); the owners stay alive until keep() at the end.
    P = borrow(P_own)
    F = borrow(F_own)
    O = borrow(O_own)
    W = borrow(W_own)
    R = borrow(R_own)
    horizon = float(n_years)
    rk = rep_key(seed, rep)  # the replication's key, hashed once here and handed to every rule
    rules.init_firms(P, F, rk)
    rules.init_world(P, F, W)

    # events pending at once: at most one per offer plus the channels', the year's and the slot's
    cap = max_offers + 64
    SK_own = np.empty((cap, 2))  # staged events: (time, scheduling number) …
    SV_own = np.empty(cap, dtype=np.int64)  # … and kind · 2**40 + payload
    SK = borrow(SK_own)  # borrowed: the inlined helpers would count references to them on every event
    SV = borrow(SV_own)
    ns = 0
    seq = 0
    per_year = 64  # buckets a year: about one event per bucket
    while per_year < max_offers / n_years:
        per_year *= 2
    mask = per_year - 1
    head = np.full(per_year, -1, dtype=np.int64)  # first entry of each list, −1 if empty
    Et = np.empty(cap)  # entry time
    Es = np.empty(cap, dtype=np.int64)  # entry scheduling number
    Ev = np.empty(cap, dtype=np.int64)  # entry kind · 2**40 + payload
    Eb = np.empty(cap, dtype=np.int64)  # entry bucket, floor(time · per_year)
    En = np.empty(cap, dtype=np.int64)  # next entry in the list, −1 at the end
    spare = np.arange(cap)  # unused entries (a stack)
    n_spare = cap
    n = 0  # events in the calendar
    cur = 0  # the current bucket: no event lies in an earlier one
    # FIFO queues (ring buffers) for brokers and public pilot slots. Their head, length and busy
    # count stay scalars of this loop, passed to and returned by _dequeue/_enqueue: keeping them
    # in arrays measured 8 % slower.
    qb_own = np.empty(max_offers + 1, dtype=np.int64)
    qp_own = np.empty(max_offers + 1, dtype=np.int64)
    qb = borrow(qb_own)
    qp = borrow(qp_own)
    qb_head = 0
    qb_len = 0
    qp_head = 0
    qp_len = 0
    qcap = max_offers + 1
    caps_b = np.empty(n_years, dtype=np.int64)
    caps_p = np.empty(n_years, dtype=np.int64)
    for y in range(n_years):
        caps_b[y] = rules.broker_capacity(P, y)
        caps_p[y] = rules.public_capacity(P, y)
    busy_b = 0
    busy_p = 0
    # per-offer engine state, always written before it is read
    t_enter_own = np.empty(max_offers)
    mode = np.empty(max_offers, dtype=np.int64)
    fin_t0_own = np.empty(max_offers)
    fin_ok_own = np.empty(max_offers, dtype=np.bool_)
    t_enter = borrow(t_enter_own)
    fin_t0 = borrow(fin_t0_own)
    fin_ok = borrow(fin_ok_own)
    cand = np.zeros(L.N_CHANNELS, dtype=np.int64)
    # matchmaking-event calendar: every (year, slot) in time order
    slot_y = np.empty(n_years * L.EVENT_SLOTS, dtype=np.int64)
    slot_s = np.empty(n_years * L.EVENT_SLOTS, dtype=np.int64)
    n_slots = 0
    for y in range(n_years):
        for s in rules.event_slots(P, y):
            slot_y[n_slots] = y
            slot_s[n_slots] = s
            n_slots += 1

    # the processes' first steps at t = 0
    if n_years > 1:
        ns, seq = _stage(SK, SV, ns, seq, 0.0 + (1.0 - 0.0), EV_YEAR, 1)
    if n_slots > 0:
        ns, seq = _stage(SK, SV, ns, seq, 0.0 + (rules.slot_time(slot_y[0], slot_s[0]) - 0.0), EV_SLOT, 0)
    for ch in range(1, L.N_CHANNELS):
        k0, t0 = _next_accepted(P, W, R, ch, 0, 0.0 + rules.candidate_gap(P, ch, 0, rk), n_years, horizon,
                                rk)
        cand[ch] = k0
        ns, seq = _stage(SK, SV, ns, seq, t0, EV_ARRIVAL, ch)

    processed = 0
    while True:
        # file the staged events, in the order they were scheduled
        for q in range(ns):
            te = SK[q, 0]
            se = int(SK[q, 1])
            n_spare -= 1
            e = spare[n_spare]
            b = int(te * per_year)
            Et[e] = te
            Es[e] = se
            Ev[e] = SV[q]
            Eb[e] = b
            prev = -1
            c = head[b & mask]
            while c >= 0 and (Et[c] < te or (Et[c] == te and Es[c] < se)):
                prev = c
                c = En[c]
            En[e] = c
            if prev < 0:
                head[b & mask] = e
            else:
                En[prev] = e
        n += ns
        ns = 0
        if n == 0:
            break
        # the next event: the first list head, from the current bucket on, lying in the current bucket
        e = head[cur & mask]
        empty = 0
        while e < 0 or Eb[e] != cur:
            cur += 1
            empty += 1
            if empty > mask:  # a whole lap without events: jump straight to the earliest one
                cur = -1
                for lst in range(per_year):
                    if head[lst] >= 0 and (cur < 0 or Eb[head[lst]] < cur):
                        cur = Eb[head[lst]]
                empty = 0
            e = head[cur & mask]
        t = Et[e]
        kind = Ev[e] >> _KIND_SHIFT
        a = Ev[e] & _PAYLOAD
        if t >= horizon:
            break
        head[cur & mask] = En[e]
        spare[n_spare] = e
        n_spare += 1
        n -= 1
        processed += 1
        y = rules.year_of(t, n_years)
        # Events that start a broker search or a pilot, or schedule one step of an offer, are
        # handled inline below in the same order as the SimPy processes take them.
        start_search = -1
        if kind == EV_YEAR:
            k = a
            first = int(W[L.W_N_OFFERS])
            rules.year_end(P, F, O, W, R, k, n_years, rk)
            for i in range(first, int(W[L.W_N_OFFERS])):  # results vice-presidents brought: met, to negotiate
                if int(O[i, L.O_STAGE]) == L.ST_NEGOTIATION:
                    ns, seq = _stage(SK, SV, ns, seq, t + rules.negotiation_time(P, O, i, t, n_years, rk), EV_NEGO, i)
            while busy_b < caps_b[k] and qb_len > 0:
                j, qb_head, qb_len = _dequeue(qb, qb_head, qb_len, qcap)
                busy_b += 1
                ns, seq = _serve(P, O, R, j, t, t_enter, True, n_years, horizon, rk, SK, SV, ns, seq)
            while busy_p < caps_p[k] and qp_len > 0:
                j, qp_head, qp_len = _dequeue(qp, qp_head, qp_len, qcap)
                busy_p += 1
                ns, seq = _serve(P, O, R, j, t, t_enter, False, n_years, horizon, rk, SK, SV, ns, seq)
            if k + 1 < n_years:
                ns, seq = _stage(SK, SV, ns, seq, t + ((k + 1) - t), EV_YEAR, k + 1)
        elif kind == EV_SLOT:
            ns, seq = _hold_event(P, F, O, W, R, slot_y[a], slot_s[a], t, n_years, rk, SK, SV, ns, seq)
            if a + 1 < n_slots:
                ns, seq = _stage(SK, SV, ns, seq, t + (rules.slot_time(slot_y[a + 1], slot_s[a + 1]) - t), EV_SLOT,
                                a + 1)
        elif kind == EV_ARRIVAL:
            ch = a
            kc = cand[ch]  # accepted by _next_accepted when it was scheduled
            i = rules.create_offer(P, O, W, R, rules.offer_key(ch, kc), ch, t, n_years, rk)
            rules.use_pool(W, ch, rules.year_of(t, n_years))
            rules.open_search(O, W, i)
            start_search = i
            k2, t2 = _next_accepted(P, W, R, ch, kc + 1, t + rules.candidate_gap(P, ch, kc + 1, rk), n_years,
                                    horizon, rk)
            cand[ch] = k2
            ns, seq = _stage(SK, SV, ns, seq, t2, EV_ARRIVAL, ch)
        elif kind == EV_RETRY:
            rules.open_search(O, W, a)
            start_search = a
        elif kind == EV_SEARCH:
            i = a
            if mode[i] == L.MM_BROKER:
                busy_b -= 1
                if qb_len > 0 and busy_b < caps_b[y]:
                    j, qb_head, qb_len = _dequeue(qb, qb_head, qb_len, qcap)
                    busy_b += 1
                    ns, seq = _serve(P, O, R, j, t, t_enter, True, n_years, horizon, rk, SK, SV, ns, seq)
            met = rules.decide_meeting(P, F, O, W, R, i, t, mode[i], n_years, rk)
            if met:
                d = rules.negotiation_time(P, O, i, t, n_years, rk)
                ns, seq = _stage(SK, SV, ns, seq, t + d, EV_NEGO, i)
            elif not rules.meeting_exhausted(P, O, R, i, t, n_years):
                d = rules.retry_gap(P, O, i, t, n_years, rk)
                ns, seq = _stage(SK, SV, ns, seq, t + d, EV_RETRY, i)
        elif kind == EV_NEGO:
            i = a
            if rules.decide_contract(P, F, O, W, R, i, t, n_years, rk):
                free = busy_p < caps_p[y]
                route = rules.choose_pilot(P, F, O, W, R, i, t, n_years, free, qp_len, rk)
                if route == L.PR_NONE:
                    te, ke = _start_finance(P, F, O, R, i, t, n_years, rk, fin_t0, fin_ok)
                    if ke >= 0:
                        ns, seq = _stage(SK, SV, ns, seq, te, ke, i)
                elif route == L.PR_PUBLIC:
                    t_enter[i] = t
                    if free:
                        busy_p += 1
                        ns, seq = _serve(P, O, R, i, t, t_enter, False, n_years, horizon, rk, SK, SV, ns, seq)
                    else:
                        qp_len = _enqueue(qp, qp_head, qp_len, qcap, i)
                elif route > 0:  # in-house or outside: no queue
                    ns, seq = _stage(SK, SV, ns, seq, t + rules.pilot_time(P, O, i, t, n_years, rk), EV_PILOT, i)
        elif kind == EV_PILOT:
            i = a
            if int(O[i, L.O_ROUTE]) == L.PR_PUBLIC:
                busy_p -= 1
                if qp_len > 0 and busy_p < caps_p[y]:
                    j, qp_head, qp_len = _dequeue(qp, qp_head, qp_len, qcap)
                    busy_p += 1
                    ns, seq = _serve(P, O, R, j, t, t_enter, False, n_years, horizon, rk, SK, SV, ns, seq)
            if rules.decide_pilot(P, F, O, R, i, t, n_years, rk):
                te, ke = _start_finance(P, F, O, R, i, t, n_years, rk, fin_t0, fin_ok)
                if ke >= 0:
                    ns, seq = _stage(SK, SV, ns, seq, te, ke, i)
        elif kind == EV_FIN:
            te, ke = _finance_done(P, O, R, a, t, n_years, rk, fin_t0, fin_ok)
            if ke >= 0:
                ns, seq = _stage(SK, SV, ns, seq, te, ke, a)
        elif kind == EV_RAMP:
            rules.decide_industrialised(P, F, O, W, R, a, t, n_years, rk)

        if start_search >= 0:
            i = start_search
            free = busy_b < caps_b[y]
            m = rules.broker_mode(P, R, t, n_years, free, qb_len)
            if m == L.MM_BROKER:
                t_enter[i] = t
                mode[i] = L.MM_BROKER
                if free:
                    busy_b += 1
                    ns, seq = _serve(P, O, R, i, t, t_enter, True, n_years, horizon, rk, SK, SV, ns, seq)
                else:
                    qb_len = _enqueue(qb, qb_head, qb_len, qcap, i)
            else:
                mode[i] = L.MM_UNASSISTED
                ns, seq = _stage(SK, SV, ns, seq, t + rules.search_time(P, O, i, t, n_years, rk), EV_SEARCH, i)

    rules.year_end(P, F, O, W, R, n_years, n_years, rk)
    rules.finalise(O, W, R, n_years)
    stats[0] += processed
    keep(P_own, F_own, O_own, W_own, t_enter_own, fin_t0_own, fin_ok_own, SK_own, SV_own, qb_own, qp_own)
    return R_own


@nb.njit(cache=True)
def _start_finance(P: np.ndarray, F: np.ndarray, O: np.ndarray, R: np.ndarray, i: int, t: float, n_years: int,
                   rk: Word, fin_t0: np.ndarray, fin_ok: np.ndarray) -> tuple[float, int]:
    """The firm starts looking for money; returns (when, event kind) to schedule, kind −1 for nothing."""
    ok, wait = rules.seek_finance(P, F, O, R, i, t, n_years, rk)
    fin_t0[i] = t
    fin_ok[i] = ok
    if wait > 0.0:
        return t + wait, EV_FIN
    return _finance_done(P, O, R, i, t, n_years, rk, fin_t0, fin_ok)


@nb.njit(cache=True)
def _finance_done(P: np.ndarray, O: np.ndarray, R: np.ndarray, i: int, t: float, n_years: int, rk: Word,
                  fin_t0: np.ndarray, fin_ok: np.ndarray) -> tuple[float, int]:
    """The search for money ends; returns the ramp-up's end to schedule if financed, else kind −1."""
    rules.finance_outcome(O, R, i, t, fin_t0[i], fin_ok[i], n_years)
    if fin_ok[i]:
        return t + rules.rampup_time(P, O, i, t, n_years, rk), EV_RAMP
    return 0.0, -1


@nb.njit(cache=True, parallel=True, nogil=True)
def run_batch(P: np.ndarray, n_firms: int, n_years: int, max_offers: int, seed: int,
              reps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Replications ``reps`` in parallel; returns records ``[len(reps), rows, years]`` and events per rep."""
    out = np.zeros((reps.shape[0], L.N_ROWS, n_years))
    events = np.zeros(reps.shape[0])
    for j in nb.prange(reps.shape[0]):
        st = np.zeros(1)
        out[j] = run_one(P, n_firms, n_years, max_offers, seed, reps[j], st)
        events[j] = st[0]
    return out, events


def run_fast(table: Table, seed: int, reps: np.ndarray | list[int] | range) -> tuple[np.ndarray, np.ndarray]:
    """Run replications with the fast engine; returns (records, events processed per replication)."""
    r = np.asarray(list(reps), dtype=np.int64)
    # checked here, not in the compiled loop: an exception raised inside a parallel loop would not say which key
    if not 0 <= seed < 2**SEED_BITS or (r.size and (r.min() < 0 or r.max() >= 2**REP_BITS)):
        raise ValueError(f"seed ({seed}) and replication numbers must lie in [0, 2**32)")
    start_numba()
    return run_batch(np.ascontiguousarray(table.P), table.n_firms, table.n_years, table.max_offers, int(seed), r)


def compile_time(table: Table) -> float:
    """Seconds to compile (or load from the on-disk cache) and run one replication."""
    t0 = time.perf_counter()
    run_fast(table, 0, [0])
    return time.perf_counter() - t0
