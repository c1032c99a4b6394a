"""The rulebook: every probability, duration and value draw of the model.

Each rule is a small ``@numba.njit`` function over the shared state arrays
(``sim.layout``) and the per-year parameter table ``P`` (``sim.table``). Both
engines call exactly these functions: the SimPy engine from its processes, the
compiled engine from its event loop. An engine only decides *when* a rule runs
and keeps the queues of scarce resources; *what happens* is decided here.

Conventions: ``t`` is the current time in years since 1 January of the start
year; ``y`` a year index; ``i`` an offer row; ``f`` a firm row. Every random
number comes from :func:`sim.rng.uniform` keyed by a stream of
:mod:`sim.streams`.

The rulebook is one package with a module per stage of the pipeline, in the
order an offer meets them: ``firms``, ``supply``, ``meeting``, ``contract``,
``pilot``, ``finance``, ``industry``, ``year_end`` (with ``population``: firms
entering and exiting, and ``sample``: which candidates change); ``service`` starts a
broker's or a pilot slot's work; ``common`` holds shared
helpers and ``pidx`` the parameter rows. Everything is re-exported here, so
engines call ``rules.decide_meeting(...)`` and never reach into a module.

*Inlined rules.* The rules an offer meets on its way (arrival, meeting,
contract, pilot, finance, industrialisation, and their helpers) are declared
``inline="always"``: Numba compiles them into the fast engine's event loop
instead of calling them. A call passes each state array as a structure of
seven to nine machine words and counts references to it, and the rules are
short, so a call cost about as much as the rule's own work (inlining them made
the engine ≈ 1.15× faster with records bit for bit the same: BENCHMARKS.md).
Rules the year's end
calls, once a year, stay ordinary functions: inlining them would only lengthen
the compile. An inlined rule is still an ordinary compiled function to Python,
so the SimPy engine and the tests call it as before. The other side of it: an
inlined function that takes arrays still has Numba count references to them
each time it runs, so loops over firms (the year's end, the population step)
use no such helper; they read a sector's awareness map once and apply it with
the scalar ``mapped``, and call a rule only in the rare case it acts on
(a certificate that expires).
"""

from __future__ import annotations

from sim.rules.common import (
    KEY_STRIDE,
    add_interval,
    discourage_sector,
    encourage_sector,
    end_offer,
    refresh_awareness,
    sector_rows,
    year_of,
)
from sim.rules.contract import decide_contract, negotiation_time
from sim.rules.finance import finance_outcome, seek_finance
from sim.rules.firms import init_firms, init_world
from sim.rules.industry import decide_industrialised, rampup_time
from sim.rules.meeting import (
    broker_capacity,
    broker_mode,
    decide_meeting,
    meeting_exhausted,
    open_search,
    pick_firm,
    retry_gap,
    search_time,
)
from sim.rules.pilot import choose_pilot, decide_pilot, pilot_time, public_capacity
from sim.rules.service import start_service
from sim.rules.supply import (
    candidate_accepted,
    candidate_gap,
    channel_rate,
    create_offer,
    event_offer_key,
    event_slots,
    events_in_year,
    offer_key,
    offers_at_event,
    pitch_is_new,
    slot_time,
    use_pool,
)
from sim.rules.year_end import finalise, year_end

__all__ = [
    "KEY_STRIDE",
    "add_interval",
    "broker_capacity",
    "broker_mode",
    "candidate_accepted",
    "candidate_gap",
    "channel_rate",
    "choose_pilot",
    "create_offer",
    "decide_contract",
    "decide_industrialised",
    "decide_meeting",
    "decide_pilot",
    "discourage_sector",
    "encourage_sector",
    "end_offer",
    "event_offer_key",
    "event_slots",
    "events_in_year",
    "finalise",
    "finance_outcome",
    "init_firms",
    "init_world",
    "meeting_exhausted",
    "negotiation_time",
    "offer_key",
    "offers_at_event",
    "open_search",
    "pick_firm",
    "pilot_time",
    "pitch_is_new",
    "public_capacity",
    "rampup_time",
    "refresh_awareness",
    "retry_gap",
    "search_time",
    "sector_rows",
    "seek_finance",
    "slot_time",
    "start_service",
    "use_pool",
    "year_end",
    "year_of",
]
