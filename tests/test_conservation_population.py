"""The firm population and the high-tech stock add up, year by year, in whole replications.

alive(y) = alive(y − 1) + entries − exits (± graduation) per type; high-tech stock(y) = stock(y − 1) + new
certificates + renewals − expiries − exits of certified firms; every project ends in exactly one terminal state
or is in progress, those of exited firms included; the firm arrays never run out of room.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim import layout as L
from sim.engines.reference import Replication
from sim.scenario import Scenario
from sim.table import PIDX, build_table
from tests.conftest import variant

TURNOVER = {"firms": {"entry_rate_above": 0.3, "exit_rate_above": 0.25, "entry_rate_sme": 0.5, "exit_rate_sme": 0.3,
                      "sme_graduation_rate": 0.2},
            "hightech": {"validity_years": 1, "reapply_prob": 0.6}}


def row(R: np.ndarray, name: str) -> np.ndarray:
    return R[L.RECORD_ROWS.index(name)]


@pytest.mark.parametrize("name", ["baseline", "turnover"])
def test_the_firm_population_and_the_certificates_add_up(name: str, baseline: Scenario) -> None:
    sc = baseline if name == "baseline" else variant(baseline, params=TURNOVER)
    table = build_table(sc)
    p = sc.params
    flagged_total = 0
    for rep in range(6):
        r = Replication(table, 5, rep)
        R = r.run()
        # firms alive by type: the year's flows between two year-end stocks
        above0, sme0 = p.firms.n_above_size, p.firms.n_tech_sme
        above = np.concatenate([[above0], row(R, "firms_above_size")])
        sme = np.concatenate([[sme0], row(R, "firms_tech_sme")])
        grad = row(R, "tech_sme_graduated")
        assert np.array_equal(np.diff(above), row(R, "firms_entered_above_size") - row(R, "firms_exited_above_size")
                              + grad)
        assert np.array_equal(np.diff(sme), row(R, "firms_entered_tech_sme") - row(R, "firms_exited_tech_sme") - grad)
        n_alive = int(r.W[L.W_SECTOR_START + L.N_SECTORS])
        assert n_alive == above[-1] + sme[-1] <= table.n_firms
        assert set(np.unique(r.F[:n_alive, L.F_SME])) <= {0.0, 1.0}  # every firm is of one type
        assert (r.F[:n_alive, L.F_SME] == 1).sum() == sme[-1]
        assert not r.F[n_alive:].any()  # rows after the firms alive are empty room
        assert len(set(r.F[:n_alive, L.F_ID])) == n_alive  # serial numbers are unique
        assert np.all(np.diff(r.F[:n_alive, L.F_SECTOR]) >= 0)  # stored sector by sector
        # entrants never reach the cap (it practically never binds)
        assert np.all(row(R, "firms_entered_above_size") < table.P[PIDX["derived.entry_cap_above"]])
        assert np.all(row(R, "firms_entered_tech_sme") < table.P[PIDX["derived.entry_cap_sme"]])
        # the high-tech stock
        stock = np.concatenate([[p.hightech.initial_stock], row(R, "hightech_stock")])
        flows = (row(R, "hightech_new") + row(R, "hightech_renewed") - row(R, "hightech_expired")
                 - row(R, "hightech_exited"))
        assert np.array_equal(np.diff(stock), flows)
        assert np.all(row(R, "hightech_renewed") <= row(R, "hightech_reapplications"))
        assert np.all(row(R, "hightech_reapplications") <= row(R, "hightech_expired"))
        assert np.all(row(R, "hightech_new") <= row(R, "hightech_applications") - row(R, "hightech_reapplications"))
        assert stock[-1] == r.F[:n_alive, L.F_HIGHTECH].sum()
        # projects: one terminal reason each, or in progress; those of exited firms end as firm exit or are under way
        O = r.O[: int(r.W[L.W_N_OFFERS])]
        done = O[:, L.O_STAGE] == L.ST_DONE
        assert np.all(O[done, L.O_REASON] > 0) and np.all(O[~done, L.O_REASON] == 0)
        assert R[L.R_TERM:L.R_TERM + len(L.REASON_NAMES)].sum() == R[L.R_OFFERS].sum() == len(O)
        flagged = O[:, L.O_FIRM_GONE] > 0  # offers whose firm exited (under way then, or already over)
        ended = O[:, L.O_REASON] == L.RE_FIRM_EXIT
        assert np.all(flagged[ended]) and R[L.R_TERM + L.RE_FIRM_EXIT].sum() == ended.sum()
        # every project under way when its firm exited has ended as firm exit or is still under way
        assert row(R, "projects_of_exited_firms").sum() == ended.sum() + (flagged & ~done).sum()
        # an offer met whose firm is alive points to it: a row of the firms alive
        live = ~flagged & (O[:, L.O_FIRM] >= 0)
        assert np.all(O[live, L.O_FIRM] < n_alive)
        flagged_total += int(flagged.sum())
        assert np.all(R >= 0.0)
    assert flagged_total > 0  # the scenario exercises projects of exited firms


def test_a_population_beyond_the_hard_cap_is_an_input_error(baseline: Scenario) -> None:
    from sim.errors import InputError

    big = variant(baseline, params={"firms": {"n_above_size": 100000, "n_tech_sme": 100000, "entry_rate_above": 0.5,
                                              "entry_rate_sme": 0.5}})
    with pytest.raises(InputError, match=r"params\.firms.*limit"):
        build_table(big)


def test_the_trace_names_every_end_by_its_terminal_reason(baseline: Scenario) -> None:
    """`convsim trace` labels a project of an exited firm `firm_exit`, whichever step it ended at."""
    from sim.engines.reference import trace_reference

    R, trace = trace_reference(build_table(variant(baseline, params=TURNOVER)), 5, 0)
    ends = trace[trace["event"] == "end"]["detail"]
    assert set(ends) <= set(L.REASON_NAMES)
    for reason, name in enumerate(L.REASON_NAMES[1:], start=1):
        assert (ends == name).sum() == R[L.R_TERM + reason].sum(), name
    assert (ends == "firm_exit").sum() > 0
