"""Column layouts of the state arrays that both engines share.

The model's state is a handful of float64 arrays so that the same compiled
rules can read and write it from the SimPy engine and from the compiled
engine alike:

* ``F[firm, F_*]`` — one row per firm;
* ``O[offer, O_*]`` — one row per research result offered (an *offer*);
* ``W[W_*]`` — world scalars (the fund, per-sector sums and counters);
* ``R[R_*, year]`` — the outcome record: every row a series over the years.

Indices are plain module constants, which Numba freezes into compiled code.
"""

from __future__ import annotations

import numpy as np

from sim.params import CHANNELS, COUNTIES, SECTORS, TOPUP_COUNTIES

N_SECTORS = len(SECTORS)
N_COUNTIES = len(COUNTIES)
N_CHANNELS = len(CHANNELS)

#: Counties that add their own subsidy on top of the city's (随县, 广水, 曾都), as a mask by county.
COUNTY_TOPUP = np.array([c in TOPUP_COUNTIES for c in range(N_COUNTIES)])

# Channels (成果供给渠道); order is part of the keyed-stream contract.
CH_EVENT, CH_PLATFORM, CH_WORKSTATION, CH_AGENCY, CH_COMMISSIONER, CH_INSTITUTE = range(6)

#: Matchmaking events sit on a fixed grid of slots per year; ``n`` events use the
#: first ``n`` slots of this order, so adding events keeps earlier ones in place.
EVENT_SLOTS = 24
EVENT_SLOT_ORDER = (0, 12, 6, 18, 3, 15, 9, 21, 1, 13, 7, 19, 4, 16, 10, 22, 2, 14, 8, 20, 5, 17, 11, 23)
MAX_OFFERS_PER_EVENT = 128
#: Placements of a year that may bring a result (vice-presidents, year_end.py); later ones bring none (the
#: default places ≈ 15 a year). Their offers' keys and the offer table's room are sized by it.
MAX_VP_RESULTS = 256

# ---- firms -----------------------------------------------------------------
F_SECTOR = 0
F_COUNTY = 1
F_RD = 2             # has an R&D institution (研发机构)
F_TALENT = 3         # has a technical team
F_VP_UNTIL = 4       # a vice-president (科技副总) is placed until this time
F_AWARE = 5          # awareness: propensity to seek outside technology
F_LIQUID = 6
F_COLLATERAL = 7
F_IMITATOR = 8
F_HIGHTECH = 9       # certified high-tech enterprise (高企)
F_LAST_USE = 10      # time of the firm's last contract (platform activity)
F_RD_WORKING = 11    # its R&D institution works (1) or holds a title only (0; 重申报、轻发展)
F_SME = 12           # a science-based SME below designated size (1) or a firm above designated size (0)
F_ID = 13            # the firm's serial number (initial firms 0 … n − 1, entrants after): keys its own draws
F_HT_SINCE = 14      # date (years) of its current high-tech certificate, valid hightech.validity_years from then
F_PROJECTS = 15      # projects under way (met, not done) at the last year's end plus those it took since
F_AWARE_BASE = 16    # its awareness as drawn at its founding: what awareness fades back to without renewal
F_VISIT_UNTIL = 17   # an exchange visit pinned the firm's need down: known until this time (0: never visited)
N_FCOL = 18

# ---- offers ----------------------------------------------------------------
O_KEY = 0
O_CHANNEL = 1
O_SECTOR = 2
O_TRL = 3
O_VALUE = 4
O_PATENT = 5
O_FIRM = 6
O_T_ARRIVE = 7
O_T_MEET = 8
O_T_CONTRACT = 9
O_T_PILOT_END = 10
O_T_FINANCED = 11
O_T_END = 12
O_STAGE = 13
O_REASON = 14
O_ROUTE = 15
O_ATTEMPT = 16
O_SUBSIDY = 17
O_PILOT_COST = 18
O_INVEST = 19
O_DEMAND_LED = 20    # developed to answer a firm's stated need (企业出题、高校答题)
O_FIRM_GONE = 21     # its firm has exited (closed, left the stock): a project under way ends at its next step
O_NEXT_LIVE = 22     # 1 + the next offer in the list of projects under way (met; population.py), 0 at its end
O_FIRM_ID = 23       # the serial number of the firm met (F_ID; O_FIRM is its row, which moves at year ends)
N_OCOL = 24

# Stages an offer can be in.
ST_MEETING, ST_NEGOTIATION, ST_PILOT, ST_FINANCE, ST_RAMPUP, ST_DONE = range(6)
STAGE_NAMES = ("meeting", "negotiation", "pilot", "finance", "rampup", "done")

# Terminal reasons (every offer ends in exactly one, or is in progress).
RE_NONE = 0
RE_NO_MATCH = 1
RE_NO_DEAL = 2
RE_IMITATED = 3
RE_PILOT_NO_FINANCE = 4
RE_PILOT_FAILED = 5
RE_NO_FINANCE = 6
RE_IND_FAILED = 7
RE_INDUSTRIALISED = 8
RE_FIRM_EXIT = 9     # the firm met exited while the project was under way
REASON_NAMES = ("in_progress", "no_match", "no_deal", "imitated", "pilot_no_finance", "pilot_failed",
                "no_finance", "industrialisation_failed", "industrialised", "firm_exit")
REASON_NAMES_ZH = ("进行中", "未对接成功", "未达成合同", "被仿制", "中试缺资金", "中试失败",
                   "产业化缺资金", "产业化失败", "实现产业化", "企业退出")

# Pilot routes.
PR_NONE, PR_INHOUSE, PR_PUBLIC, PR_OUTSIDE = range(4)
ROUTE_NAMES = ("none", "inhouse", "public", "outside")

# Meeting modes.
MM_EVENT, MM_BROKER, MM_UNASSISTED = range(3)

# ---- world scalars -----------------------------------------------------------
W_FUND = 0
W_AWARE_SUM = 1                      # N_SECTORS entries
W_OPEN = W_AWARE_SUM + N_SECTORS     # open offers in meeting, per sector
W_IND_THIS_YEAR = W_OPEN + N_SECTORS
W_N_OFFERS = W_IND_THIS_YEAR + 1
# Firms are stored sector by sector: sector s is rows [W[W_SECTOR_START + s], W[W_SECTOR_START + s + 1]).
W_SECTOR_START = W_N_OFFERS + 1
W_AWARE_MAX = W_SECTOR_START + N_SECTORS + 1   # highest awareness in each sector
# A firm's awareness is W[W_AWARE_MUL + s] · F[f, F_AWARE] + W[W_AWARE_ADD + s] for its sector s,
# so a feedback that moves a whole sector changes two numbers, not every firm (see common.py).
W_AWARE_MUL = W_AWARE_MAX + N_SECTORS
W_AWARE_ADD = W_AWARE_MUL + N_SECTORS
# The firms alive are rows [0, W[W_SECTOR_START + N_SECTORS]); rows after them are spare room for entrants.
W_NEXT_FIRM_ID = W_AWARE_ADD + N_SECTORS   # serial number the next entrant gets
# The offers whose firm row the population step must keep up to date: a list linked through O_NEXT_LIVE
# from W_LIVE_HEAD of the offers met (pushed at the meeting), cleared of done ones each year end. Both hold
# 1 + an offer's row, so that 0 — what a cleared array holds — is the end of the list (never a loop).
W_LIVE_HEAD = W_NEXT_FIRM_ID + 1
# Each channel's yearly pool of relevant results (sim/rules/supply.py): results used this year, and the year the
# count belongs to (a count of an earlier year reads as 0, so no process has to reset it at the new year)
W_POOL_USED = W_LIVE_HEAD + 1            # N_CHANNELS entries
W_POOL_YEAR = W_POOL_USED + N_CHANNELS   # N_CHANNELS entries
N_W = W_POOL_YEAR + N_CHANNELS

# ---- outcome record rows (each a series over years) --------------------------
_rows: list[str] = []


def _row(name: str) -> int:
    _rows.append(name)
    return len(_rows) - 1


def _rows_block(prefix: str, names: tuple[str, ...]) -> int:
    first = len(_rows)
    for n in names:
        _rows.append(f"{prefix}{n}")
    return first


R_OFFERS = _row("offers")
R_OFFERS_CH = _rows_block("offers_", CHANNELS)
R_MEETINGS = _row("meetings")
R_MEETINGS_EVENT = _row("meetings_at_events")
R_CONTRACTS = _row("contracts")
R_CONTRACT_VALUE = _row("contract_value_yuan")
R_IMITATIONS = _row("imitations")
R_SUBSIDISED = _row("subsidised")
R_SUBSIDY_DENIED = _row("subsidy_denied_fund_empty")
R_PILOTS = _rows_block("pilots_", ("inhouse", "public", "outside"))
R_PILOT_OK = _row("pilots_succeeded")
R_FINANCED = _row("financed")
R_INDUSTRIALISED = _row("industrialised")
R_AWARDS = _row("awards")
R_OTHER_CONTRACTS = _row("other_contracts")
R_TERM = _rows_block("end_", REASON_NAMES)
R_WIP = _rows_block("wip_", STAGE_NAMES[:5])
R_CONTRACTS_COUNTY = _rows_block("contracts_", COUNTIES)
R_IND_COUNTY = _rows_block("industrialised_", COUNTIES)
R_CONTRACTS_SECTOR = _rows_block("contracts_", SECTORS)
R_IND_SECTOR = _rows_block("industrialised_", SECTORS)
R_M_SUBSIDY_CITY = _row("yuan_subsidy_city")
R_M_SUBSIDY_COUNTY = _row("yuan_subsidy_county")
R_M_AWARDS = _row("yuan_awards")
R_M_HIGHTECH = _row("yuan_hightech_rewards")
R_M_FUND_LEFT = _row("yuan_fund_unspent")
R_M_PILOT_COST = _row("yuan_pilot_cost")
R_M_LOANS = _row("yuan_loans")
R_M_FIRM_RD = _row("yuan_firm_rd")
R_WAIT_BROKER = _row("wait_broker_years")
R_N_BROKER = _row("served_broker")
R_WAIT_PILOT = _row("wait_pilot_years")
R_N_PILOT_PUBLIC = _row("served_pilot_public")
R_WAIT_FINANCE = _row("wait_finance_years")
R_N_FINANCE = _row("finance_searches")
R_TTP = _row("time_to_production_years")
R_BROKER_BUSY = _row("broker_busy_years")
R_BROKER_CAP = _row("broker_capacity_years")
R_PILOT_BUSY = _row("pilot_busy_years")
R_PILOT_CAP = _row("pilot_capacity_years")
R_BALK_BROKER = _row("unassisted_broker_full")
R_BALK_PILOT = _row("outside_pilot_base_full")
R_HT_STOCK = _row("hightech_stock")
R_HT_APPLIED = _row("hightech_applications")
R_HT_NEW = _row("hightech_new")
R_COMMISSIONERS = _row("commissioners")
R_FIRMS_RD = _row("firms_with_rd")
R_FIRMS_TALENT = _row("firms_with_talent")
R_FIRMS_VP = _row("firms_with_vice_president")
R_DELISTED = _row("rd_delisted")
R_AWARENESS = _row("mean_awareness")
R_M_MATCHING = _row("yuan_pilot_matching")      # matching funds (配套资金) the city fund paid to pilot bases
R_OFFERS_DEMAND_LED = _row("offers_demand_led")
R_FIRMS_RD_WORKING = _row("firms_with_working_rd")
R_RD_UPGRADED = _row("rd_upgraded")             # title-only institutions that started to work (support, review)
R_VP_ON_PROBLEM = _row("vp_placed_on_problem")  # placements in a firm with a technical problem
# firm population dynamics: flows at the year's end and stocks after it
R_FIRMS_ALIVE_ABOVE = _row("firms_above_size")          # firms above designated size (规上) alive at the year's end
R_FIRMS_ALIVE_SME = _row("firms_tech_sme")              # science-based SMEs (科技型中小企业) alive at the year's end
R_ENTERED_ABOVE = _row("firms_entered_above_size")
R_ENTERED_SME = _row("firms_entered_tech_sme")
R_EXITED_ABOVE = _row("firms_exited_above_size")
R_EXITED_SME = _row("firms_exited_tech_sme")
R_SME_GRADUATED = _row("tech_sme_graduated")            # science-based SMEs that grew above designated size
R_HT_EXPIRED = _row("hightech_expired")                 # certificates reaching the end of their validity
R_HT_REAPPLIED = _row("hightech_reapplications")        # of those, firms that re-applied (counted in applications)
R_HT_RENEWED = _row("hightech_renewed")                 # re-applications approved: a new three-year certificate
R_HT_EXITED = _row("hightech_exited")                   # certified firms that exited (their certificate with them)
R_PROJECTS_FIRM_EXIT = _row("projects_of_exited_firms")  # projects under way when their firm exited
R_FIRM_FULL = _row("meetings_turned_away_firm_full")     # meetings that failed: the firm met carried all it could
R_VP_RESULTS = _row("offers_brought_by_vice_presidents")  # results a placed vice-president brought to the host firm
R_VP_ON_NO_TEAM = _row("vp_placed_without_team")        # placements in a firm without a technical team

# Cohorts, filled at the horizon by ``finalise`` from every offer's times (so both engines agree by
# construction). Column ``y`` of a cohort row is the cohort of year ``y``: the offers that arrived in it
# (``cohort_offers_*``) or the contracts signed in it (``cohort_contracts_*``), however late their later
# stages came. ``*_{k}y`` counts the cohort's members that reached a stage within k years of entering the
# cohort (arrival, or contract); ``*_horizon`` those that reached it by the horizon. A cohort's k-year
# counts are complete only if the run follows every member k years: ``cohort_followup_years`` (the years
# from the cohort year's start to the horizon) must be at least k + 1, else the k-year counts are censored
# and left 0 (see COHORT_K and docs/kpis.md).
#: Follow-up lengths (years) of the cohort rows.
COHORT_K: tuple[int, ...] = (3, 5)
#: Later stages of an offer cohort, in pipeline order ("piloted": pilot test passed, or none was needed).
COHORT_OFFER_STAGES: tuple[str, ...] = ("met", "contracted", "piloted", "financed", "industrialised")
#: Later stages of a contract cohort.
COHORT_CONTRACT_STAGES: tuple[str, ...] = COHORT_OFFER_STAGES[2:]
_COHORT_SPANS = (*(f"{k}y" for k in COHORT_K), "horizon")
R_COHORT_FOLLOWUP = _row("cohort_followup_years")
R_COH_OFFERS = _row("cohort_offers")
#: ``R_COH_OFFERS_STAGE + len(_COHORT_SPANS) · stage + span`` (span: the k of COHORT_K in order, then the horizon).
R_COH_OFFERS_STAGE = _rows_block("cohort_offers_", tuple(f"{s}_{w}" for s in COHORT_OFFER_STAGES
                                                          for w in _COHORT_SPANS))
R_COH_OFFERS_TTP = _row("cohort_offers_time_to_production_years")  # arrival → production, by the horizon
R_COH_CONTRACTS = _row("cohort_contracts")
R_COH_CONTRACTS_STAGE = _rows_block("cohort_contracts_", tuple(f"{s}_{w}" for s in COHORT_CONTRACT_STAGES
                                                                for w in _COHORT_SPANS))
R_COH_CONTRACTS_TTP = _row("cohort_contracts_time_to_production_years")  # contract → production
# flows added after the cohort rows (appended: the rows before keep their indices)
R_VISITS = _row("exchange_visits")                      # exchange visits made at the year's end (one firm each)
R_POOL_LOST = _row("offers_lost_to_pool")               # candidates an unlimited pool would have made offers
N_COHORT_SPANS = len(_COHORT_SPANS)
#: Record rows before the cohort rows: the rows whose values must not change when cohorts are added.
N_FLOW_ROWS = R_COHORT_FOLLOWUP

RECORD_ROWS: tuple[str, ...] = tuple(_rows)
N_ROWS = len(RECORD_ROWS)

#: Columns of a trace (``convsim trace``): one row per step of an offer.
TRACE_COLUMNS = ("time_years", "offer_key", "channel", "event", "detail")
