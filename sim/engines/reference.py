"""The SimPy reference engine: the executable specification, one replication at a time.

Each research result (an *offer*) is a SimPy process that walks the pipeline:
meeting (对接) → negotiation → pilot test (中试) → finance → ramp-up. Brokers
and public pilot-base slots are ``simpy.Resource`` objects with FIFO queues;
arrivals, matchmaking events and the year's end are processes of their own.
*What* happens at each step is decided by the compiled rules in
:mod:`sim.rules`, the same functions the fast engine calls, so the two engines
produce the same record for the same seed.

Ties: the model never schedules two things at the same instant except on
purpose — the year's end at whole years, and all the results pitched at one
matchmaking event, which are handled one after another in the order of their
keys. Every other time is a sum of continuous draws. (See MODEL.md, "Ties".)

Capacity that grows under a policy (more brokers, more pilot slots) is a
``Resource`` sized for the largest capacity, with the slots not yet available
held by blocker requests that the year's end releases.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from sim import layout as L
from sim import rules
from sim._numba_start import start_numba
from sim.layout import TRACE_COLUMNS
from sim.params import CHANNELS
from sim.rng import rep_key
from sim.table import Table

if TYPE_CHECKING:
    import pandas as pd

Proc = Generator[simpy.events.Event, Any, None]


class Replication:
    """One replication of one scenario: state arrays, SimPy environment and processes."""

    def __init__(self, table: Table, seed: int, rep: int, trace: bool = False) -> None:
        self.table = table
        self.P = table.P
        self.n_years = table.n_years
        self.horizon = float(table.n_years)
        self.seed = int(seed)
        self.rep = int(rep)
        self.rk = np.uint64(rep_key(self.seed, self.rep))  # the replication's key, hashed once, handed to every rule
        self.F = np.zeros((table.n_firms, L.N_FCOL))
        self.O = np.zeros((table.max_offers, L.N_OCOL))
        self.W = np.zeros(L.N_W)
        self.R = np.zeros((L.N_ROWS, table.n_years))
        self.trace_rows: list[tuple[float, int, str, str, str]] | None = [] if trace else None
        self.env = simpy.Environment()
        caps_b = [int(rules.broker_capacity(self.P, y)) for y in range(self.n_years)]
        caps_p = [int(rules.public_capacity(self.P, y)) for y in range(self.n_years)]
        self.brokers = simpy.Resource(self.env, capacity=max(1, max(caps_b)))
        self.pilot_base = simpy.Resource(self.env, capacity=max(1, max(caps_p)))
        # Slots beyond this year's capacity are held by blockers from t = 0.
        self._blocked_brokers = [self.brokers.request() for _ in range(int(self.brokers.capacity) - caps_b[0])]
        self._blocked_slots = [self.pilot_base.request() for _ in range(int(self.pilot_base.capacity) - caps_p[0])]
        self._caps_b, self._caps_p = caps_b, caps_p

    # ---- bookkeeping -----------------------------------------------------------------
    def log(self, i: int, what: str, detail: str = "") -> None:
        if self.trace_rows is not None:
            self.trace_rows.append((self.env.now, int(self.O[i, L.O_KEY]), CHANNELS[int(self.O[i, L.O_CHANNEL])],
                                    what, detail))

    def run(self) -> np.ndarray:
        """Simulate to the horizon and return the outcome record ``R[row, year]``."""
        P, F, W = self.P, self.F, self.W
        rules.init_firms(P, F, self.rk)
        rules.init_world(P, F, W)
        env = self.env
        env.process(self.calendar())
        env.process(self.matchmaking_events())
        for ch in range(1, L.N_CHANNELS):
            env.process(self.arrivals(ch))
        env.run(until=self.horizon)
        rules.year_end(P, F, self.O, W, self.R, self.n_years, self.n_years, self.rk)
        rules.finalise(self.O, W, self.R, self.n_years)
        return self.R

    # ---- calendar processes ----------------------------------------------------------
    def calendar(self) -> Proc:
        """The year's end at every whole year before the horizon; capacity grows here."""
        for k in range(1, self.n_years):
            yield self.env.timeout(k - self.env.now)
            first = int(self.W[L.W_N_OFFERS])
            rules.year_end(self.P, self.F, self.O, self.W, self.R, k, self.n_years, self.rk)
            for i in range(first, int(self.W[L.W_N_OFFERS])):  # results vice-presidents brought to their hosts
                self.log(i, "arrive", "vice-president")
                if int(self.O[i, L.O_STAGE]) == L.ST_NEGOTIATION:
                    self.log(i, "meeting", "vice-president")
                    self.env.process(self.offer(i))
                else:
                    self.log(i, "end", "no_match")
            for _ in range(self._caps_b[k] - self._caps_b[k - 1]):
                self.brokers.release(self._blocked_brokers.pop())
            for _ in range(self._caps_p[k] - self._caps_p[k - 1]):
                self.pilot_base.release(self._blocked_slots.pop())

    def matchmaking_events(self) -> Proc:
        """University–firm matchmaking events (校企对接活动) on the year's calendar of slots."""
        P, O, W = self.P, self.O, self.W
        for y in range(self.n_years):
            for slot in rules.event_slots(P, y):
                yield self.env.timeout(rules.slot_time(y, slot) - self.env.now)
                t = self.env.now
                batch = []
                for k in range(rules.offers_at_event(P, y)):
                    key = rules.event_offer_key(y, slot, k)
                    if not rules.pitch_is_new(P, W, self.R, key, y, self.rk):
                        continue
                    i = rules.create_offer(P, O, W, self.R, key, L.CH_EVENT, t, self.n_years, self.rk)
                    rules.use_pool(W, L.CH_EVENT, y)
                    rules.open_search(O, W, i)
                    self.log(i, "arrive", f"event slot {slot}")
                    batch.append(i)
                for i in batch:
                    met = rules.decide_meeting(P, self.F, O, W, self.R, i, t, L.MM_EVENT, self.n_years,
                                               self.rk)
                    self.log(i, "meeting" if met else "no_meeting", "event")
                    if met or not rules.meeting_exhausted(P, O, self.R, i, t, self.n_years):
                        self.env.process(self.offer(i))
                    else:
                        self.log(i, "end", "no_match")

    def arrivals(self, channel: int) -> Proc:
        """Results arriving through one continuous channel, thinned from its ceiling rate."""
        P, O, W = self.P, self.O, self.W
        k = 0
        while True:
            yield self.env.timeout(rules.candidate_gap(P, channel, k, self.rk))
            t = self.env.now
            if rules.candidate_accepted(P, W, self.R, channel, k, t, self.n_years, self.rk):
                key = rules.offer_key(channel, k)
                i = rules.create_offer(P, O, W, self.R, key, channel, t, self.n_years, self.rk)
                rules.use_pool(W, channel, rules.year_of(t, self.n_years))
                rules.open_search(O, W, i)
                self.log(i, "arrive")
                self.env.process(self.offer(i))
            k += 1

    # ---- one offer's path -------------------------------------------------------------
    def serve(self, i: int, broker: bool) -> Proc:
        """Queue (FIFO) for a broker or a public pilot slot, then hold it for the service time."""
        env = self.env
        t0 = env.now
        with (self.brokers if broker else self.pilot_base).request() as req:
            yield req
            d = rules.start_service(self.P, self.O, self.R, i, env.now, env.now - t0, broker, self.n_years,
                                    self.horizon, self.rk)
            self.log(i, "broker_start" if broker else "pilot_start", f"waited {env.now - t0:.4f}")
            yield env.timeout(d)

    def offer(self, i: int) -> Proc:
        """One result's path from its search for a firm to production (or its end)."""
        env, P, F, O, W, R = self.env, self.P, self.F, self.O, self.W, self.R
        ny, rk = self.n_years, self.rk
        while O[i, L.O_FIRM] < 0:
            if O[i, L.O_ATTEMPT] > 0:
                yield env.timeout(rules.retry_gap(P, O, i, env.now, ny, rk))
                rules.open_search(O, W, i)
                self.log(i, "retry")
            free = self.brokers.count < self.brokers.capacity
            mode = rules.broker_mode(P, R, env.now, ny, free, len(self.brokers.queue))
            if mode == L.MM_BROKER:
                yield from self.serve(i, broker=True)
            else:
                yield env.timeout(rules.search_time(P, O, i, env.now, ny, rk))
            met = rules.decide_meeting(P, F, O, W, R, i, env.now, mode, ny, rk)
            self.log(i, "meeting" if met else "no_meeting", ("event", "broker", "unassisted")[mode])
            if not met and rules.meeting_exhausted(P, O, R, i, env.now, ny):
                self.log(i, "end", "no_match")
                return
        yield env.timeout(rules.negotiation_time(P, O, i, env.now, ny, rk))
        if not rules.decide_contract(P, F, O, W, R, i, env.now, ny, rk):
            self.log(i, "end", L.REASON_NAMES[int(O[i, L.O_REASON])])
            return
        self.log(i, "contract", f"value {O[i, L.O_VALUE]:.0f} subsidy {O[i, L.O_SUBSIDY]:.0f}")
        free = self.pilot_base.count < self.pilot_base.capacity
        route = rules.choose_pilot(P, F, O, W, R, i, env.now, ny, free, len(self.pilot_base.queue), rk)
        if route < 0:
            self.log(i, "end", "pilot_no_finance")
            return
        if route != L.PR_NONE:
            self.log(i, "pilot_route", L.ROUTE_NAMES[route])
            if route == L.PR_PUBLIC:
                yield from self.serve(i, broker=False)
            else:
                yield env.timeout(rules.pilot_time(P, O, i, env.now, ny, rk))
            if not rules.decide_pilot(P, F, O, R, i, env.now, ny, rk):
                self.log(i, "end", L.REASON_NAMES[int(O[i, L.O_REASON])])  # pilot_failed or firm_exit
                return
            self.log(i, "pilot_success")
        t0 = env.now
        ok, wait = rules.seek_finance(P, F, O, R, i, env.now, ny, rk)
        if wait > 0.0:
            yield env.timeout(wait)
        rules.finance_outcome(O, R, i, env.now, t0, ok, ny)
        if not ok:
            self.log(i, "end", L.REASON_NAMES[int(O[i, L.O_REASON])])  # no_finance or firm_exit
            return
        self.log(i, "financed", f"invest {O[i, L.O_INVEST]:.0f}")
        yield env.timeout(rules.rampup_time(P, O, i, env.now, ny, rk))
        rules.decide_industrialised(P, F, O, W, R, i, env.now, ny, rk)
        self.log(i, "end", L.REASON_NAMES[int(O[i, L.O_REASON])])  # industrialised, _failed or firm_exit

    def trace_table(self) -> pd.DataFrame:
        """The event trace as a table: one row per step of every offer."""
        import pandas as pd

        rows = self.trace_rows or []
        df = pd.DataFrame(rows, columns=list(TRACE_COLUMNS))
        df.insert(1, "date", pd.Timestamp(f"{self.table.first_year}-01-01")
                  + pd.to_timedelta(df["time_years"] * 365.25, unit="D"))
        return df


def run_reference(table: Table, seed: int, rep: int) -> np.ndarray:
    """One replication with the SimPy engine; returns the record ``R[row, year]``."""
    start_numba()
    return Replication(table, seed, rep).run()


def trace_reference(table: Table, seed: int, rep: int) -> tuple[np.ndarray, pd.DataFrame]:
    """One replication with its full event trace."""
    start_numba()
    r = Replication(table, seed, rep, trace=True)
    rec = r.run()
    return rec, r.trace_table()
