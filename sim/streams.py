"""Named random-number streams: one per decision of the model.

A draw's key is ``(seed, replication, decision, entity, occurrence)``. The
decision numbers below are part of the model's contract: renumbering one
changes every result, so new decisions are appended, never inserted. The
entity is a firm index, an offer key or a channel; the occurrence counts
repeated decisions of the same entity (an attempt, a year, a round).
"""

from __future__ import annotations

# firms at t = 0 (entity: firm index)
D_FIRM_SECTOR = 1
D_FIRM_COUNTY = 2
D_FIRM_RD = 3
D_FIRM_TALENT = 4
D_FIRM_AWARE = 5
D_FIRM_LIQUID = 6
D_FIRM_COLLATERAL = 7
D_FIRM_IMITATOR = 8
D_FIRM_HIGHTECH = 9
# arrivals (entity: channel; occurrence: candidate number)
D_ARRIVAL_GAP = 20
D_THIN = 21
# offers (entity: offer key)
D_OFFER_SECTOR = 30
D_OFFER_TRL = 31
D_OFFER_VALUE = 32
D_OFFER_PATENT = 33
D_OFFER_MATURE = 34
# meeting (occurrence: attempt)
D_SEARCH_TIME = 40
D_MEET = 41
D_FIRM_PICK = 42
D_RETRY_GAP = 43
# contract
D_NEGOTIATION_TIME = 50
D_IMITATE = 51
D_CONTRACT = 52
D_SUBSIDY_CLAIM = 53
# pilot
D_PILOT_INHOUSE = 60
D_PILOT_FINANCE = 61
D_PILOT_TIME = 62
D_PILOT_COST = 63
D_PILOT_SUCCESS = 64
# finance (occurrence: 4 × round + source)
D_OWN_FUNDS = 70
D_FIN_WAIT = 71
D_FIN_APPROVE = 72
D_FIN_RETRY = 73
D_INVEST = 74
# industrialisation
D_RAMPUP = 80
D_IND_SUCCESS = 81
# year end (entity: firm index; occurrence: year)
D_TURNOVER = 90
D_INFLOW = 91
D_HT_APPLY = 92
D_HT_APPROVE = 93
D_DELIST = 94
D_RD_ADOPT = 95
D_VP_COUNT = 96
D_VP_FIRM = 97
D_OTHER_CONTRACTS = 98

# measures of the report acting as it describes them (appended, never renumbered: renumbering
# would change every draw keyed by a later stream)
D_OFFER_DEMAND_LED = 100   # entity: offer key — an institute result developed to a firm's need
D_VP_PROBLEM = 101         # entity: placement; occurrence: try — is the firm proposed one with a technical problem?
D_RD_WORKING = 102         # entity: firm — does its R&D institution work, or hold a title only (重申报、轻发展)?
D_RD_SUPPORT = 103         # entity: firm; occurrence: year — support turns a title-only institution into a working one
D_REVIEW = 104             # entity: firm; occurrence: year — performance review of an idle institution
D_VP_TRAINING = 105        # entity: firm; occurrence: year — a vice-president leaves a trained technical team
# firm population dynamics. Entrants draw their attributes from the D_FIRM_* streams above,
# keyed by their own serial number (entity ≥ the initial firms'), exactly as the initial firms do.
D_EXIT_ABOVE = 106         # count and picks (chosen(); occurrence: year) — firms above designated size that exit
D_EXIT_SME = 107           # count and picks — science-based SMEs that exit
D_SME_GRADUATE = 108       # count and picks — science-based SMEs that grow above designated size
D_ENTRY_ABOVE = 109        # entity 0; occurrence: year — how many firms above designated size enter
D_ENTRY_SME = 110          # entity 0; occurrence: year — how many science-based SMEs enter
D_HT_AGE = 111             # entity: firm serial — age of an initial certificate at the start
D_HT_REAPPLY = 112         # entity: firm serial; occurrence: year — a firm whose certificate expires re-applies
D_HT_RENEW = 113           # entity: firm serial; occurrence: year — the re-application is approved
# firms' absorptive capacity and what vice-presidents bring (numbered from 120 down the free range's top)
D_VP_NEED = 120            # entity: placement — does a placement not aimed at a problem go to a firm without a team?
D_VP_RESULT = 121          # entity: placement — does the vice-president bring a result of their university?
D_VISIT = 122              # entity: visit number j; occurrence: year — which firm the j-th exchange visit goes to
D_POOL_PITCH = 123         # entity: event offer key — is a result pitched at an event one the firms have not seen?

STREAMS: dict[str, int] = {k: v for k, v in globals().items() if k.startswith("D_")}

# A decision number is a 7-bit field of the random-number key (sim/rng.py): larger ones would collide.
if not all(0 <= v < 128 for v in STREAMS.values()):  # pragma: no cover - a programming error, caught at import
    raise ValueError("decision numbers must lie in [0, 128): they are a 7-bit field of the random-number key")
