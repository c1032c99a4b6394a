"""Common random numbers: a late-stage lever leaves early-stage outcomes untouched."""

import numpy as np
import pytest

from sim import layout as L
from sim.engines.reference import Replication
from sim.table import build_table
from tests.conftest import lever, variant

EARLY = (L.O_KEY, L.O_CHANNEL, L.O_SECTOR, L.O_TRL, L.O_VALUE, L.O_PATENT, L.O_FIRM_ID, L.O_T_ARRIVE, L.O_T_MEET,
         L.O_T_CONTRACT, L.O_SUBSIDY)


def _offers(table, rep):
    r = Replication(table, 2024, rep)
    r.run()
    O = r.O[: int(r.W[L.W_N_OFFERS])]
    return O[np.argsort(O[:, L.O_KEY], kind="stable")]


def _early_outcome(O):
    """Meeting and contract outcome of every offer: no-match, no-deal, imitated, or contracted."""
    reason = O[:, L.O_REASON].copy()
    contracted = O[:, L.O_T_CONTRACT] > 0
    reason[contracted] = -1
    return reason


@pytest.mark.slow
def test_pilot_capacity_lever_keeps_meetings_and_contracts(baseline) -> None:
    # Role-model feedback lets a late success raise awareness and so change later meetings, and a firm's
    # project cap lets a pilot that ends sooner free a place for a later meeting; with both switched off a
    # pilot lever must not touch any offer's meeting or contract.
    base = variant(baseline, params={"industry": {"role_model_boost": 0.0},
                                     "absorb": {"slots_base": 1000.0}})
    more = variant(base, levers=[lever("pilot.public_slots", "add", 6)])
    tb, tm = build_table(base), build_table(more)
    changed_later = 0
    for rep in range(30):
        a, b = _offers(tb, rep), _offers(tm, rep)
        assert np.array_equal(a[:, EARLY], b[:, EARLY])
        assert np.array_equal(_early_outcome(a), _early_outcome(b))
        changed_later += int(not np.array_equal(a[:, L.O_REASON], b[:, L.O_REASON]))
    assert changed_later > 0, "the lever should change some later outcomes"


def test_with_feedback_offers_before_the_lever_are_identical(baseline) -> None:
    more = variant(baseline, levers=[lever("pilot.public_slots", "add", 6)])
    tb, tm = build_table(baseline), build_table(more)
    start = 2023 - tb.first_year
    for rep in range(20):
        a, b = _offers(tb, rep), _offers(tm, rep)
        assert np.array_equal(a[:, L.O_KEY], b[:, L.O_KEY])
        early = a[:, L.O_T_ARRIVE] < start
        # an offer's identity and attributes never depend on the policy
        assert np.array_equal(a[:, :L.O_FIRM], b[:, :L.O_FIRM])
        # before the lever acts, every offer met and contracted exactly as in the baseline
        met_before = early & (a[:, L.O_T_MEET] < start)
        assert np.array_equal(a[met_before][:, EARLY], b[met_before][:, EARLY])
