"""The funnel always adds up, money never exceeds the fund, no count is negative."""

import numpy as np

from sim import layout as L
from sim.engines.reference import Replication


def test_funnel_money_and_signs(baseline_table) -> None:
    t = baseline_table
    fund = t.P[__import__("sim.table", fromlist=["PIDX"]).PIDX["subsidy.fund_yuan_per_year"]]
    for rep in range(40):
        r = Replication(t, 11, rep)
        R = r.run()
        O = r.O[: int(r.W[L.W_N_OFFERS])]
        # every offer: exactly one terminal reason, or in progress at the horizon
        done = O[:, L.O_STAGE] == L.ST_DONE
        assert np.all(O[done, L.O_REASON] > 0) and np.all(O[~done, L.O_REASON] == 0)
        assert R[L.R_TERM:L.R_TERM + len(L.REASON_NAMES)].sum() == R[L.R_OFFERS].sum() == len(O)
        assert R[L.R_WIP:L.R_WIP + 5].sum() == R[L.R_TERM + L.RE_NONE].sum() == (~done).sum()
        # funnel stages never grow downstream
        assert R[L.R_MEETINGS].sum() <= R[L.R_OFFERS].sum()
        assert R[L.R_CONTRACTS].sum() <= R[L.R_MEETINGS].sum()
        assert R[L.R_INDUSTRIALISED].sum() <= R[L.R_FINANCED].sum() <= R[L.R_CONTRACTS].sum()
        assert R[L.R_TERM + L.RE_INDUSTRIALISED].sum() == R[L.R_INDUSTRIALISED].sum()
        # money paid from the city fund never exceeds the year's fund
        paid = R[L.R_M_SUBSIDY_CITY] + R[L.R_M_AWARDS] + R[L.R_M_HIGHTECH]
        assert np.all(paid <= fund + 1e-6)
        assert np.allclose(paid + R[L.R_M_FUND_LEFT], fund)
        assert np.all(R[L.R_AWARDS] <= 5)
        assert np.all(R >= 0.0)
