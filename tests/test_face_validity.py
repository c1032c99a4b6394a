"""Face validity over a few hundred replications: the model responds as a planner expects."""

import numpy as np
import pytest

from sim import layout as L
from sim.engines.reference import run_reference
from sim.table import build_table
from tests.conftest import lever, variant

REPS = 120


def _totals(sc, rows, reps=REPS, seed=99):
    t = build_table(sc)
    out = np.zeros((reps, len(rows)))
    for rep in range(reps):
        R = run_reference(t, seed, rep)
        out[rep] = [R[r].sum() for r in rows]
    return out


@pytest.mark.slow
def test_no_fund_no_subsidies(baseline) -> None:
    sc = variant(baseline, params={"subsidy": {"fund_yuan_per_year": 0.0}})
    x = _totals(sc, [L.R_SUBSIDISED, L.R_M_SUBSIDY_CITY, L.R_AWARDS, L.R_M_HIGHTECH, L.R_CONTRACTS], reps=30)
    assert np.all(x[:, :4] == 0) and x[:, 4].sum() > 0


@pytest.mark.slow
def test_no_public_pilot_capacity_no_public_pilots(baseline) -> None:
    sc = variant(baseline, params={"pilot": {"public_slots": 0.0}})
    x = _totals(sc, [L.R_PILOTS + 1, L.R_PILOT_BUSY, L.R_PILOTS + 2], reps=30)
    assert np.all(x[:, :2] == 0) and x[:, 2].sum() > 0


@pytest.mark.slow
def test_more_pilot_capacity_never_lowers_industrialisations(baseline) -> None:
    more = variant(baseline, levers=[lever("pilot.public_slots", "add", 6)])
    a = _totals(baseline, [L.R_INDUSTRIALISED, L.R_PILOTS + 1])
    b = _totals(more, [L.R_INDUSTRIALISED, L.R_PILOTS + 1])
    d = b[:, 0] - a[:, 0]
    se = d.std(ddof=1) / np.sqrt(len(d))
    print(f"\nindustrialised: baseline {a[:, 0].mean():.2f}, +6 slots {b[:, 0].mean():.2f}, "
          f"paired diff {d.mean():.2f} ± {se:.2f}; public pilots {a[:, 1].mean():.1f} → {b[:, 1].mean():.1f}")
    assert d.mean() > -3 * se
    assert b[:, 1].mean() > a[:, 1].mean()


@pytest.mark.slow
def test_twice_the_brokers_more_meetings(baseline) -> None:
    double = variant(baseline, params={"meeting": {"brokers": 2 * baseline.params.meeting.brokers}})
    a = _totals(baseline, [L.R_MEETINGS])[:, 0]
    b = _totals(double, [L.R_MEETINGS])[:, 0]
    d = b - a
    se = d.std(ddof=1) / np.sqrt(len(d))
    print(f"\nmeetings: baseline {a.mean():.1f}, twice the brokers {b.mean():.1f}, "
          f"paired diff {d.mean():.1f} ± {se:.1f}")
    assert d.mean() > 3 * se
