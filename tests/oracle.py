"""Helpers for the oracle tests: rules run as plain Python on a hand-made state with chosen uniforms.

An oracle test states what MODEL.md says a rule does, computes the expected
outcome itself (scipy for inverse CDFs, plain arithmetic for the rest) and
compares. It never reuses numbers the code produced, and never depends on the
keyed generator's hashing: the draw function each rule module imports
(``draw(rk, decision, entity, occurrence)``, ``rk`` the replication key of
``sim.rng.rep_key(seed, rep)``) is replaced by :class:`Draws`, which returns
the uniforms the test chose, stream by stream, logs every draw and checks that
it was keyed by the replication's key (``rep_key`` itself stays the real one). Rules run as their
pure-Python form (``py_func``; under ``NUMBA_DISABLE_JIT=1`` they already
are), so a test takes milliseconds and a stubbed draw reaches nested rules too.
Inverse CDFs are compared with a relative tolerance of 1e-6, so a faster
approximate quantile in ``sim/rng.py`` still passes; exponential waits are
checked at u = 0.5 (their median), which holds whichever tail an inverse CDF
maps u to. If ``sim/rng.py``'s draw function changes its name or signature,
:func:`interpret` and :class:`Draws` are the one place to adapt.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim import layout as L
from sim import streams as S
from sim.layout import RECORD_ROWS
from sim.scenario import baseline_scenario
from sim.table import PIDX, build_table

RULE_MODULES = ("common", "firms", "supply", "meeting", "contract", "service", "pilot", "finance", "industry",
                "sample", "population", "year_end")
STREAM_NAMES = {v: k for k, v in S.STREAMS.items()}
REL = 1e-6  # tolerance for anything that goes through an inverse CDF

Value = float | list[float] | Callable[[int, int], float]

_TABLE = build_table(baseline_scenario())
N_YEARS = _TABLE.n_years
HORIZON = float(N_YEARS)


class Draws:
    """The uniforms rules see: chosen per stream, as a number, a list (consumed in order) or f(entity, occurrence).

    A draw from a stream the test did not choose fails the test (unless a
    ``default`` is given): a rule must draw only the streams its decision needs.
    With ``rk`` given, a draw keyed by another replication key fails too.
    """

    def __init__(self, chosen: dict[int, Value] | None = None, default: float | None = None,
                 rk: int | None = None) -> None:
        self.chosen: dict[int, Any] = {k: (list(v) if isinstance(v, list) else v) for k, v in (chosen or {}).items()}
        self.default = default
        self.rk = None if rk is None else int(rk)
        self.log: list[tuple[int, int, int]] = []

    def __call__(self, rk: int, decision: int, entity: int, occurrence: int) -> float:
        d, e, o = int(decision), int(entity), int(occurrence)
        if self.rk is not None and int(rk) != self.rk:
            raise AssertionError(f"draw from {STREAM_NAMES.get(d, d)} keyed by {int(rk)}, not the replication's key")
        self.log.append((d, e, o))
        v = self.chosen.get(d, self.default)
        if v is None:
            raise AssertionError(f"unexpected draw from stream {STREAM_NAMES.get(d, d)} (entity {e}, occurrence {o})")
        if isinstance(v, list):
            if not v:
                raise AssertionError(f"more draws from {STREAM_NAMES.get(d, d)} than the test chose")
            u = float(v.pop(0))
        elif callable(v):
            u = float(v(e, o))
        else:
            u = float(v)
        assert 0.0 < u < 1.0, u
        return u

    def streams(self) -> list[int]:
        """Streams drawn, in order."""
        return [d for d, _, _ in self.log]

    def count(self, decision: int) -> int:
        return sum(1 for d, _, _ in self.log if d == decision)


def interpret(monkeypatch: pytest.MonkeyPatch, draws: Draws) -> None:
    """Make every rule module call pure-Python rules and ``draws`` instead of the keyed ``draw``."""
    mods = [importlib.import_module(f"sim.rules.{m}") for m in RULE_MODULES]
    for mod in [*mods, importlib.import_module("sim.rules")]:
        for attr, obj in list(vars(mod).items()):
            py = getattr(obj, "py_func", None)
            if py is not None:
                monkeypatch.setattr(mod, attr, py)
        if hasattr(mod, "draw"):
            monkeypatch.setattr(mod, "draw", draws)


def params(over: dict[str, float] | None = None) -> np.ndarray:
    """The default parameter table (every year) with some rows set to other values."""
    P = _TABLE.P.copy()
    for name, v in (over or {}).items():
        P[PIDX[name], :] = v
    if {"meeting.brokers", "meeting.brokers_per_agency", "supply.agencies"} & set(over or {}) \
            and "derived.brokers" not in (over or {}):
        # MODEL.md 1.2: the brokers at work are meeting.brokers plus brokers_per_agency for every agency added
        # since the first year
        for y in range(N_YEARS):
            added = max(p(P, "supply.agencies", y) - p(P, "supply.agencies", 0), 0.0)
            P[PIDX["derived.brokers"], y] = p(P, "meeting.brokers", y) + p(P, "meeting.brokers_per_agency", y) * added
    return P


def p(P: np.ndarray, name: str, y: int = 0) -> float:
    return float(P[PIDX[name], y])


def firm(sector: int = 0, county: int = 0, rd: int = 0, talent: int = 0, vp_until: float = -1.0,
         aware: float = 0.5, liquid: int = 0, collateral: int = 0, imitator: int = 0, hightech: int = 0,
         last_use: float = 0.0, working: int | None = None) -> np.ndarray:
    """One firm; its R&D institution (if any) works unless ``working=0`` (title only, MODEL.md 1.2)."""
    row = np.zeros(L.N_FCOL)
    row[L.F_RD_WORKING] = rd if working is None else working
    assert row[L.F_RD_WORKING] <= rd, "only a firm with an R&D institution can have a working one"
    row[L.F_SECTOR], row[L.F_COUNTY], row[L.F_RD], row[L.F_TALENT] = sector, county, rd, talent
    row[L.F_VP_UNTIL], row[L.F_AWARE], row[L.F_LIQUID], row[L.F_COLLATERAL] = vp_until, aware, liquid, collateral
    row[L.F_IMITATOR], row[L.F_HIGHTECH], row[L.F_LAST_USE] = imitator, hightech, last_use
    return row


def firms(*rows: np.ndarray) -> np.ndarray:
    F = np.array(rows, dtype=float)
    assert np.all(np.diff(F[:, L.F_SECTOR]) >= 0), "firms must be stored sector by sector"
    return F


def world(F: np.ndarray, fund: float = 10_000_000.0) -> np.ndarray:
    """World scalars for firms ``F`` (stored sector by sector), computed here, not by the rulebook."""
    W = np.zeros(L.N_W)
    W[L.W_FUND] = fund
    for s in range(L.N_SECTORS):
        in_s = F[:, L.F_SECTOR] == s
        W[L.W_SECTOR_START + s + 1] = W[L.W_SECTOR_START + s] + in_s.sum()
        W[L.W_AWARE_SUM + s] = F[in_s, L.F_AWARE].sum()
        W[L.W_AWARE_MAX + s] = F[in_s, L.F_AWARE].max() if in_s.any() else 0.0
        W[L.W_AWARE_MUL + s] = 1.0
    return W


def offer(key: int = 1 << 40, channel: int = L.CH_PLATFORM, sector: int = 0, trl: int = 5,
          value: float = 250_000.0, patent: int = 0, firm_row: int = 0, t_arrive: float = 5.0,
          stage: int = L.ST_MEETING, attempt: int = 0, route: int = L.PR_NONE, n: int = 1) -> np.ndarray:
    """An offer table holding one offer in row 0 (and ``n − 1`` empty rows)."""
    O = np.zeros((n, L.N_OCOL))
    O[0, L.O_KEY], O[0, L.O_CHANNEL], O[0, L.O_SECTOR], O[0, L.O_TRL] = key, channel, sector, trl
    O[0, L.O_VALUE], O[0, L.O_PATENT], O[0, L.O_FIRM], O[0, L.O_T_ARRIVE] = value, patent, firm_row, t_arrive
    O[0, L.O_STAGE], O[0, L.O_ATTEMPT], O[0, L.O_ROUTE] = stage, attempt, route
    return O


def record() -> np.ndarray:
    return np.zeros((L.N_ROWS, N_YEARS))


def lognormal(u: float, median: float, log_sd: float) -> float:
    """A lognormal draw by its definition: median · exp(σ · Φ⁻¹(u))."""
    return median * math.exp(log_sd * float(stats.norm.ppf(u)))


def exponential_median(u: float, median: float) -> float:
    """An exponential draw with the given median: −ln(1 − u) · median / ln 2."""
    return -math.log(1.0 - u) * median / math.log(2.0)


def effective_awareness(F: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Every firm's awareness under its sector's pending map (MODEL.md 3.6)."""
    s = F[:, L.F_SECTOR].astype(int)
    return W[L.W_AWARE_MUL + s] * F[:, L.F_AWARE] + W[L.W_AWARE_ADD + s]


# ---- hand-made records for the analysis (engines replaced) ----

YEARS = np.arange(2015, 2028)


def frame(rows: dict[tuple[int, int], dict[str, float]], reps: list[int]) -> pd.DataFrame:
    """Records as the engines write them (rep, year, every record row), zero except the given cells."""
    out = []
    for r in reps:
        for y in YEARS:
            row: dict[str, Any] = {"rep": r, "year": int(y), **dict.fromkeys(RECORD_ROWS, 0.0)}
            row.update(rows.get((r, int(y)), {}))
            out.append(row)
    return pd.DataFrame(out)


def noise(rep: int) -> float:
    """A fixed standard-normal-like sequence (van der Corput points through Φ⁻¹): deterministic, sd ≈ 1."""
    u, f, r = 0.0, 0.5, rep + 1
    while r:
        u += f * (r % 2)
        r //= 2
        f /= 2
    return float(stats.norm.ppf(u))


class FakeRuns:
    """Stands in for the engines: records of replication r for an arm told apart by its extra brokers k.

    Headline: industrialised in 2025 = 10 + r mod 5 + k + spread_k · noise(r). Money per line grows with k.
    """

    def __init__(self, spread: dict[int, float]) -> None:
        self.spread = spread
        self.calls: dict[int, list[int]] = {}

    def __call__(self, table: Any, seed: int, reps: Any, engine: str = "auto",
                 progress: Callable[[int], None] | None = None) -> pd.DataFrame:
        k = int(round(table.P[PIDX["meeting.brokers"], -1] - 8.0))
        reps = list(reps)
        self.calls.setdefault(k, []).extend(reps)
        cells = {}
        for r in reps:
            cells[(r, 2025)] = {"industrialised": 10 + r % 5 + k + self.spread[k] * noise(r), "contracts": 40 + k,
                                "offers": 400, "meetings": 100 + k, "yuan_subsidy_city": 1e6 + k * 1e5,
                                "yuan_subsidy_county": 5e5 + k * 2e5, "yuan_awards": 5e5 * k,
                                "yuan_hightech_rewards": 88_000.0 * k, "time_to_production_years": 30.0}
            cells[(r, 2022)] = {"industrialised": 1000.0, "yuan_subsidy_city": 1e9}  # outside the window
        if progress is not None:
            progress(len(reps))
        return frame(cells, reps)


def half_width(values: np.ndarray) -> float:
    n = len(values)
    return float(stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / math.sqrt(n))
