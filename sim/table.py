"""The parameter table: a scenario flattened to numbers for compiled rules.

``P[i, y]`` is parameter ``i`` in simulated year ``y`` (0 = ``time.start_year``)
after every lever has been applied, so rules never need to know about
levers. Lists (shares) become one row per element (``firms.sector_share[2]``).
A few derived rows follow the parameters: the number of commissioners each
year, the thinning ceilings of the arrival channels and the brokers at work
(``meeting.brokers`` plus the brokers of transfer agencies added since the
first year).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.layout import EVENT_SLOTS, MAX_OFFERS_PER_EVENT, MAX_VP_RESULTS
from sim.params import CAPACITIES, CHANNELS, GROUPS, Params, parameter_rows
from sim.scenario import InputError, Scenario


def _param_names() -> list[str]:
    names: list[str] = []
    defaults = Params()
    for g in GROUPS:
        group = getattr(defaults, g)
        for f in type(group).model_fields:
            v = getattr(group, f)
            if isinstance(v, list):
                names.extend(f"{g}.{f}[{i}]" for i in range(len(v)))
            else:
                names.append(f"{g}.{f}")
    return names


PARAM_NAMES: tuple[str, ...] = (*_param_names(), "derived.commissioners", "derived.hightech_apply",
                                 *(f"derived.ceiling.{c}" for c in CHANNELS),
                                 *(f"derived.pool.{c}" for c in CHANNELS), "derived.pool_gain", "derived.brokers",
                                 "derived.entry_cap_above", "derived.entry_cap_sme")
PIDX: dict[str, int] = {n: i for i, n in enumerate(PARAM_NAMES)}
N_PARAMS = len(PARAM_NAMES)
#: The most firm rows a replication may hold (alive firms plus room for every possible entrant): a scenario whose
#: bound exceeds it is an input error (60 MB of firm state per replication).
MAX_FIRM_ROWS = 500_000


def _commissioners(p: Params, years: np.ndarray, growth: np.ndarray) -> np.ndarray:
    """Commissioner stock: geometric path 35 (2015) → 324 (2022) (DOC), then ``growth`` a year."""
    s = p.supply
    c15, c22 = max(s.commissioners_2015, 1e-9), s.commissioners_2022
    out = np.empty(len(years))
    level = c22
    for i, y in enumerate(years):
        if y <= 2022:
            out[i] = c15 * (c22 / c15) ** ((y - 2015) / 7.0)
        else:
            level = level * (1.0 + growth[i])
            out[i] = level
    if p.supply.commissioners_2015 <= 0:
        out[years <= 2022] = c22
    return out


def channel_rates(P: np.ndarray) -> np.ndarray:
    """Offers per year by channel (except events) for every year: shape (channels, years)."""
    def row(name: str) -> np.ndarray:
        return P[PIDX[name]]
    rates = np.zeros((len(CHANNELS), P.shape[1]))
    rates[1] = row("supply.platform_offers_per_year")
    rates[2] = row("supply.workstations") * row("supply.offers_per_workstation_year")
    rates[3] = row("supply.agencies") * row("supply.offers_per_agency_year")
    rates[4] = row("derived.commissioners") * row("supply.offers_per_commissioner_year")
    rates[5] = row("supply.institutes") * row("supply.offers_per_institute_year")
    return rates


_DEFAULT_RATES: np.ndarray | None = None


def pool_gain(m: np.ndarray | float) -> np.ndarray | float:
    """The factor on a channel's stated rate that makes its yearly offers, drawn from a pool of ``m`` × today's
    flow, equal that flow when the channel works as today: 1 / (m (1 − e^(−1/m))) (sim/rules/supply.py)."""
    return 1.0 / (m * -np.expm1(-1.0 / np.asarray(m, dtype=float)))


def channel_efforts(P: np.ndarray, free: np.ndarray) -> np.ndarray:
    """What thinning must reach, by channel and year: each channel's rate in ``P`` (a scenario's table) × the
    pool's gain (:func:`pool_gain`) where the channel has a pool, sized from ``free`` (the same scenario
    without its levers); :func:`build_table` refuses an effort above the ceiling."""
    m = P[PIDX["supply.pool_multiple"]]
    return channel_rates(P) * np.where(pool_sizes(free, m) > 0, pool_gain(m), 1.0)


def pool_sizes(free: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Each channel's yearly pool of relevant results, about ``m`` × today's flow: the flow of the scenario
    without its levers (``free``) / (1 − e^(−1/m)), the size at which today's effort, depleting the pool as it
    goes, still brings today's flow in expectation.

    Shape (channels, years); events count the results pitched (events held × results per event).
    """
    rates = channel_rates(free)
    events = np.minimum(EVENT_SLOTS, np.floor(free[PIDX["supply.events_per_year"]] + 0.5))
    rates[0] = events * np.minimum(MAX_OFFERS_PER_EVENT, np.floor(free[PIDX["supply.offers_per_event"]]))
    return rates / -np.expm1(-1.0 / m)


def ceilings(factor: float) -> np.ndarray:
    """Thinning ceilings by channel: the *default* rates' maximum over years × ``factor``.

    They depend on the schema defaults and on ``supply.thinning_ceiling`` only
    (which no lever may change), never on a scenario's rates, so scenarios
    compared with each other draw the same candidate arrivals (common random numbers).
    """
    global _DEFAULT_RATES
    if _DEFAULT_RATES is None:
        _DEFAULT_RATES = channel_rates(raw_table(Params(), [])).max(axis=1)
    return _DEFAULT_RATES * factor


def raw_table(p: Params, levers: list) -> np.ndarray:
    """Parameter × year values of ``p`` with ``levers`` applied, before any check (see :func:`build_table`)."""
    n_years = p.n_years
    years = np.arange(p.first_year, p.first_year + n_years)
    P = np.zeros((N_PARAMS, n_years))
    for g in GROUPS:
        group = getattr(p, g)
        for f in type(group).model_fields:
            v = getattr(group, f)
            if isinstance(v, list):
                for i, x in enumerate(v):
                    P[PIDX[f"{g}.{f}[{i}]"], :] = float(x)
            else:
                P[PIDX[f"{g}.{f}"], :] = float(v)
    for lv in levers:
        i = PIDX[lv.param]
        start = lv.start_year if lv.start_year is not None else p.time.policy_start_year
        for y_idx, y in enumerate(years):
            if y < start:
                continue
            frac = min(1.0, (y - start + 1) / lv.phase_in_years)
            base = P[i, y_idx]
            if lv.mode == "add":
                P[i, y_idx] = base + frac * lv.value
            elif lv.mode == "multiply":
                P[i, y_idx] = base * (1.0 + frac * (lv.value - 1.0))
            else:
                P[i, y_idx] = base + frac * (lv.value - base)
    growth = P[PIDX["supply.commissioner_growth_after_2022"]]
    P[PIDX["derived.commissioners"]] = _commissioners(p, years, growth)
    base = P[PIDX["hightech.apply_prob"]]
    g = P[PIDX["hightech.apply_growth"]]
    P[PIDX["derived.hightech_apply"]] = np.minimum(1.0, base * (1.0 + g) ** (np.minimum(years, 2022) - 2018))
    # an agency is intermediary capacity: agencies added after the first year bring their brokers (三(四)二)
    agencies = P[PIDX["supply.agencies"]]
    P[PIDX["derived.brokers"]] = P[PIDX["meeting.brokers"]] + P[PIDX["meeting.brokers_per_agency"]] * np.maximum(
        agencies - agencies[0], 0.0)
    _entry_caps(P, p)
    return P


def entry_cap(mean: float) -> int:
    """The most entrants of one type a year may bring when ``mean`` are expected on the expected path.

    Entrants are Binomial(cap, rate · alive / cap) (sim/rules/population.py): mean rate · alive, never more than
    the cap, so the firm arrays can be sized once. The cap, 2 · mean + 12 · √mean + 20, leaves room for a
    population twice its expected size and twelve standard deviations of chance: it never binds in practice.
    """
    return int(math.floor(2.0 * mean + 12.0 * math.sqrt(mean) + 20.0))


def _entry_caps(P: np.ndarray, p: Params) -> None:
    """Fill ``derived.entry_cap_*``: caps from the expected path of the two firm types, year by year."""
    def row(name: str) -> np.ndarray:
        return P[PIDX[name]]
    above, sme = float(p.firms.n_above_size), float(p.firms.n_tech_sme)
    for y in range(P.shape[1]):  # the year's end of year y, in the order of sim/rules/population.py
        m_above = row("firms.entry_rate_above")[y] * above
        m_sme = row("firms.entry_rate_sme")[y] * sme
        P[PIDX["derived.entry_cap_above"], y] = entry_cap(m_above)
        P[PIDX["derived.entry_cap_sme"], y] = entry_cap(m_sme)
        sme_left = sme * (1.0 - row("firms.exit_rate_sme")[y])
        graduates = sme_left * row("firms.sme_graduation_rate")[y]
        above = above * (1.0 - row("firms.exit_rate_above")[y]) + graduates + m_above
        sme = sme_left - graduates + m_sme


def firm_rows(P: np.ndarray, p: Params) -> int:
    """Firm rows a replication needs: the initial firms plus the most entrants every year's end may bring.

    Exits only free rows and graduation moves none, so the firms alive never exceed it.
    """
    caps = P[PIDX["derived.entry_cap_above"]] + P[PIDX["derived.entry_cap_sme"]]
    return int(p.n_firms + caps.sum())


@dataclass(frozen=True)
class Table:
    """A scenario ready to run: the per-year parameter table and its context."""

    P: np.ndarray
    n_years: int
    n_firms: int  # firm rows the engines allocate: the initial firms plus room for every possible entrant
    first_year: int
    max_offers: int

    @property
    def years(self) -> np.ndarray:
        """Calendar year of every column of the record."""
        return np.arange(self.first_year, self.first_year + self.n_years)


def build_table(sc: Scenario, source: str = "<scenario>") -> Table:
    """Apply levers and check the result still lies in every parameter's range."""
    p = sc.params
    P = raw_table(p, sc.levers)
    ceil = ceilings(p.supply.thinning_ceiling)
    for c in range(len(CHANNELS)):
        P[PIDX[f"derived.ceiling.{CHANNELS[c]}"]] = ceil[c]
    _check_ranges(P, sc, source)
    free = raw_table(p, [])
    pools = pool_sizes(free, P[PIDX["supply.pool_multiple"]])
    for c in range(len(CHANNELS)):
        P[PIDX[f"derived.pool.{CHANNELS[c]}"]] = pools[c]
    # computed once here, not for every candidate arrival in the engines' hot loop
    P[PIDX["derived.pool_gain"]] = pool_gain(P[PIDX["supply.pool_multiple"]])
    rates = channel_efforts(P, free)  # rate × the pool's gain: what thinning must reach
    for c in range(1, len(CHANNELS)):
        worst = rates[c].max()
        if worst > ceil[c] * (1 + 1e-12):
            # blame the levers only if the parameters alone stay below the ceiling
            own = channel_efforts(free, free)[c].max()
            key = "params.supply" if own > ceil[c] * (1 + 1e-12) else "levers"
            raise InputError(f"{source}: key '{key}': channel '{CHANNELS[c]}' reaches an effort of {worst:.4g} "
                             f"offers/year (rate × the pool's gain), above its thinning ceiling {ceil[c]:.4g} "
                             "(supply.thinning_ceiling × default rate; "
                             "raise params.supply.thinning_ceiling or lower the rate)")
    n_rows = firm_rows(P, p)
    if n_rows > MAX_FIRM_ROWS:
        raise InputError(f"{source}: key 'params.firms': the firm population could reach {n_rows} firms by the "
                         f"horizon (initial firms plus the most entrants the entry rates allow), above the model's "
                         f"limit of {MAX_FIRM_ROWS}; lower firms.n_above_size, firms.n_tech_sme or the entry rates")
    n_years = p.n_years
    lam = float(ceil[1:].sum()) * n_years
    max_offers = int(lam + 12.0 * np.sqrt(lam) + 100)
    max_offers += n_years * 24 * int(P[PIDX["supply.offers_per_event"]].max() + 1)
    max_offers += n_years * MAX_VP_RESULTS  # results brought by vice-presidents (sim/rules/year_end.py)
    return Table(P=P, n_years=n_years, n_firms=n_rows, first_year=p.first_year, max_offers=max_offers)


def _check_ranges(P: np.ndarray, sc: Scenario, source: str) -> None:
    for row in parameter_rows():
        name = row["parameter"]
        if name not in PIDX:
            continue
        vals = P[PIDX[name]]
        lo, hi = row["min"], row["max"]
        bad = (lo is not None and vals.min() < lo) or (hi is not None and vals.max() > hi)
        if bad:
            lever = next((lv.id for lv in sc.levers if lv.param == name), "?")
            raise InputError(f"{source}: key 'levers.{lever}': makes {name} leave its allowed range "
                             f"{lo} to {hi} (reaches {vals.min():.6g}…{vals.max():.6g})")
    for name in ("supply.offers_per_event", "pilot.trl_ready", "meeting.attempts", "finance.rounds"):
        v = P[PIDX[name]]
        if not np.all(v == np.round(v)):
            lever = next((lv.id for lv in sc.levers if lv.param == name), "?")
            raise InputError(f"{source}: key 'levers.{lever}': {name} must stay a whole number")
    for name in CAPACITIES:
        v = P[PIDX[name]]
        if np.any(np.diff(np.floor(v)) < 0):
            lever = next((lv.id for lv in sc.levers if lv.param == name), "?")
            raise InputError(f"{source}: key 'levers.{lever}': {name} may only grow over time "
                             "(capacity is added, never removed)")
