"""The fast engine reproduces the SimPy engine's record exactly, replication by replication.

One scenario per stage family (meeting, contract, pilot, finance) besides the
baseline, 200 seeds each. Exact equality holds everywhere (MODEL.md, "Ties"),
so no test here falls back to a statistical comparison.
"""

import numpy as np
import pytest

from sim.engines.fast import run_fast
from sim.engines.reference import run_reference
from sim.layout import RECORD_ROWS
from sim.table import build_table
from tests.conftest import lever, variant

SEEDS = range(200)

SCENARIOS = {
    "baseline": ({}, []),
    "meeting_brokers": ({}, [lever("meeting.brokers", "add", 8.0)]),
    "contract_ip_evaluation": ({}, [lever("contract.ip_protection", "set", 0.8, lid="ip"),
                                    lever("contract.evaluation_level", "add", 0.5, lid="eval"),
                                    lever("contract.institute_evaluation", "set", 0.4, lid="inst_eval")]),
    "pilot_capacity": ({}, [lever("pilot.public_slots", "add", 6.0), lever("pilot.insurance_share", "set", 0.5,
                                                                             lid="insurance")]),
    "finance_loans": ({"finance": {"rounds": 3}}, [lever("finance.guarantee_approval", "add", 0.15),
                                                   lever("finance.venture_prob", "set", 0.3, lid="venture")]),
    "report_measures": ({"subsidy": {"fund_yuan_per_year": 6_000_000.0}}, [
        lever("supply.demand_led_share", "set", 0.5, lid="demand"), lever("supply.maturation_share", "set", 0.5,
                                                                          lid="mature"),
        lever("supply.agencies", "add", 3.0, lid="agencies"), lever("contract.need_fit", "add", 0.3, lid="fit"),
        lever("subsidy.claim_publicity", "set", 0.5, lid="claims"),
        lever("subsidy.pilot_matching_share", "set", 0.5, lid="matching"),
        lever("pilot.public_slots", "add", 4.0, lid="slots")]),
    # firm population dynamics at high rates: many exits (projects of exited firms end at their next step),
    # entries, graduations, certificates that expire every year; the firm rows are stored again every year
    "firm_turnover": ({"firms": {"entry_rate_above": 0.3, "exit_rate_above": 0.25, "entry_rate_sme": 0.5,
                                 "exit_rate_sme": 0.3, "sme_graduation_rate": 0.2},
                       "hightech": {"validity_years": 1, "reapply_prob": 0.6}},
                      [lever("hightech.renewal_approval", "set", 0.3, lid="renewals"),
                       lever("platforms.support_rate", "set", 0.3, lid="support")]),
    # exchange visits: many visited firms, whose needs stay known across year ends while firms enter and exit
    # small pools that the pushed channels and many events use up within the year (sim/rules/supply.py)
    "saturated_pools": ({"supply": {"pool_multiple": 1.5}},
                        [lever("supply.platform_offers_per_year", "multiply", 2.0, lid="platform"),
                         lever("supply.events_per_year", "add", 16.0, lid="events"),
                         lever("supply.agencies", "add", 3.0, lid="agencies")]),
    "exchange_visits": ({"contract": {"visit_known_years": 3.0}, "firms": {"exit_rate_above": 0.1}},
                        [lever("contract.visits_per_year", "add", 60.0, lid="visits")]),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_fast_equals_reference(name: str, baseline) -> None:
    params, levers = SCENARIOS[name]
    table = build_table(variant(baseline, params=params, levers=levers))
    mismatches = []
    for seed in SEEDS:
        rep = seed % 7
        fast, _ = run_fast(table, seed, [rep])
        ref = run_reference(table, seed, rep)
        if not np.array_equal(fast[0], ref):
            rows = [RECORD_ROWS[i] for i in np.where((fast[0] != ref).any(axis=1))[0]]
            mismatches.append((seed, rows[:5]))
    assert not mismatches, mismatches[:5]


def test_results_do_not_depend_on_threads_or_batching(baseline_table) -> None:
    import numba

    reps = list(range(24))
    whole, _ = run_fast(baseline_table, 42, reps)
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one, _ = run_fast(baseline_table, 42, reps)
    finally:
        numba.set_num_threads(old)
    pieces = np.concatenate([run_fast(baseline_table, 42, reps[i:i + 5])[0] for i in range(0, 24, 5)])
    reversed_ = run_fast(baseline_table, 42, reps[::-1])[0][::-1]
    assert np.array_equal(whole, one) and np.array_equal(whole, pieces) and np.array_equal(whole, reversed_)
