"""The simulator as ABC sees it: parameters in, the report's figures (target means) out, and a distance.

* :func:`window_scenario`: the calibrated scenario with some parameters set,
  simulated only to the end of the report's window (2022), or to the last year
  an observed figure needs: nothing after it enters a target, so later years
  are not run.
* :func:`observed_bands`: figures published after the report (or any year of
  the run's horizon) as extra targets, ``convsim calibrate --observed FILE``:
  keyed ``kpi@first-last#id``, so that one may score the same KPI and years as
  a report target and both count.
* :func:`targets`: the report's figures for 2018–2022 as (low, high) bands per
  target key (``calibration/targets.toml`` through :mod:`sim.analysis.targets`):
  the KPI for a target over the whole window, ``kpi@first-last`` for a shorter
  one (T8's applications in 2022: ``hightech_applications@2022-2022``); a
  target the report gives as a lower bound (``score = "at_least"``: T11) as
  (low, ∞), scored on its shortfall only.
* :func:`summaries`: the mean of every target KPI over ``reps`` replications.
  The seed of a parameter set is a hash of (master seed, its values), so a set
  always gives the same summaries, and two sets never share random numbers.
* :func:`distance`: the largest of each target's distance from the centre of
  its band in units of the band's half-width. A parameter set whose every mean
  lies within every band has distance ≤ 1; a distance of 2 means that some
  target lies one half-width outside its band.
* A floor (low, ∞) scores 0 at or above ``low`` and 1 + the shortfall in
  tenths of ``low`` below it: any threshold below 1 asks for the floor and no
  margin above it (T11, "several hundred million yuan": at least 200 M).
* :func:`scoring_bands`: the bands as the distance reads them. A band whose top
  is a cap the model cannot pass (T7: 24–25 awards of the 25 that 5 a year
  allow) is scored from the cap down: 0 at the cap, 1 at the band's low end.
  Read as a two-sided band, its centre (24.5) would make the cap itself the
  band's edge, and a threshold below 1 would reject every parameter set that
  grants all 25 awards, though the report's band allows them.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.errors import InputError
from sim.experiment import MeanRecords, Run, RunPlan, results
from sim.params import Params
from sim.scenario import Scenario, scenario_from_dict

if TYPE_CHECKING:
    from sim.analysis.observed import Observed

#: The report's window ("five years").
WINDOW = (2018, 2022)


def target_key(kpi: str, first: int, last: int) -> str:
    """The summary statistic's name of a target: the KPI over the whole window, ``kpi@first-last`` otherwise."""
    return kpi if (first, last) == WINDOW else f"{kpi}@{first}-{last}"


def split_key(key: str) -> tuple[str, int, int]:
    """(kpi, first year, last year) of a summary statistic's name (:func:`target_key`, or an observed figure's
    ``kpi@first-last#id``)."""
    kpi, _, span = key.partition("#")[0].partition("@")
    if not span:
        return kpi, *WINDOW
    first, _, last = span.partition("-")
    return kpi, int(first), int(last)


def targets() -> dict[str, tuple[float, float]]:
    """Key → (low, high): every figure of the report a mean must reach (T2–T9, T8's applications, T11).

    Keys: :func:`target_key`.

    The ``mean`` targets of ``calibration/targets.toml``, each over its own years; one the report gives as a
    lower bound (``score = "at_least"``) as (low, ∞): only a shortfall counts (:func:`band_distances`).
    """
    from sim.analysis.targets import load_targets

    return {target_key(t.kpi, t.first_year, t.last_year): (t.low, math.inf if t.score == "at_least" else t.high)
            for t in load_targets() if t.check == "mean"}


def caps(base: Scenario) -> dict[str, float]:
    """KPI → the most it can reach over the report's window in ``base``: the awards, ``awards_per_year`` a year.

    The year-end rule grants at most ⌊awards_per_year⌋ awards a year (``sim/rules/year_end.py``), read per year
    from the scenario's parameter table (so a lever that changes it before 2023 counts).
    """
    from sim.table import PIDX, build_table

    table = build_table(window_scenario(base, {}))
    years = table.years
    inside = (years >= WINDOW[0]) & (years <= WINDOW[1])
    return {"awards": float(np.floor(table.P[PIDX["subsidy.awards_per_year"], inside]).sum())}


def scoring_bands(bands: Mapping[str, tuple[float, float]],
                  capped: Mapping[str, float]) -> dict[str, tuple[float, float]]:
    """The bands as :func:`distance` scores them: a band reaching a KPI's cap is mirrored about the cap.

    (low, high) with high ≥ cap becomes (low, 2·cap − low): its centre is the cap and its half-width
    cap − low, so the distance is (cap − mean) / (cap − low): 0 at the cap, 1 at ``low``. "Within" is
    unchanged (the mean cannot pass the cap), and a threshold ε < 1 asks for a margin above ``low`` only.
    """
    out = dict(bands)
    for key, cap in capped.items():
        if key in out:
            lo, hi = out[key]
            if math.isfinite(hi) and lo < cap <= hi:
                out[key] = (lo, 2 * cap - lo)
    return out


def last_year(keys: Sequence[str]) -> int:
    """The last year the summary statistics ``keys`` need simulated (the report's window at least)."""
    return max([WINDOW[1], *(split_key(k)[2] for k in keys)])


def window_scenario(base: Scenario, values: Mapping[str, float], last: int = WINDOW[1]) -> Scenario:
    """``base`` with each ``values[param]`` set, simulated to the end of the report's window only (or to
    ``last``, the last year an observed figure needs: :func:`last_year`)."""
    data = base.model_dump(mode="python")
    for param, v in values.items():
        g, n = param.split(".", 1)
        kind = Params.model_fields[g].annotation.model_fields[n].annotation  # type: ignore[union-attr]
        data["params"][g][n] = int(round(v)) if kind is int else float(v)
    t = data["params"]["time"]
    if t["start_year"] != WINDOW[0] or t["horizon_year"] < WINDOW[1]:
        raise InputError(f"{base.id}: calibration compares 2018–2022 with the report; the scenario must start in "
                         f"{WINDOW[0]} and run to {WINDOW[1]} at least")
    if t["horizon_year"] < last:
        raise InputError(f"{base.id}: a target needs {last} simulated; the scenario runs to {t['horizon_year']}")
    t["horizon_year"] = last
    data["levers"] = [lv for lv in data["levers"] if (lv.get("start_year") or t["policy_start_year"]) <= last]
    return scenario_from_dict(data, f"<{base.id} for calibration>")


def particle_seed(seed: int, values: Mapping[str, float], purpose: str = "") -> int:
    """The simulation seed of one parameter set: a hash of the master seed and its values (32 bits, the engines').

    ``purpose`` (hashed in when given) separates uses: the posterior predictive check passes ``"predictive"``, so
    its replications never reuse the random numbers a calibration selected the set on, whatever the seeds.
    """
    h = hashlib.blake2b(digest_size=4)
    h.update(struct.pack("<q", seed))
    if purpose:
        h.update(purpose.encode())
    for name in sorted(values):
        h.update(name.encode())
        h.update(struct.pack("<d", float(values[name])))
    return int.from_bytes(h.digest(), "little")


def particle_run(base: Scenario, values: Mapping[str, float], reps: Iterable[int], seed: int, key: Any = None,
                 purpose: str = "") -> Run:
    """The run of one parameter set: ``base`` at ``values`` (placed by :func:`place_at_values` where it runs) on
    replications ``reps``, with the set's own seed (:func:`particle_seed`)."""
    reps = reps if isinstance(reps, range) else tuple(reps)
    return Run(base, reps, key, seed=particle_seed(seed, values, purpose), at=dict(values))


def place_at_values(run: Run, last: int = WINDOW[1]) -> Scenario:
    """A parameter set's run: the scenario at the set's values, to the end of the report's window (or to
    ``last``, the last year an observed figure needs: :func:`last_year`)."""
    if not isinstance(run.model, Scenario):
        raise ValueError("a parameter set's run is of a scenario")
    return window_scenario(run.model, run.at, last)


def target_summaries(keys: tuple[str, ...], run: Run, mean: MeanRecords,
                     window: tuple[int, int] | None = None) -> dict[str, float]:
    """A run plan's reduction to the targets ``keys`` (names of :func:`target_key`): the mean of each over the
    run's replications, from the mean records (see :func:`summaries`)."""
    coef = linear_kpis(keys, mean.first_year, mean.n_years)
    return {key: float(np.sum(coef[j] * mean.values)) for j, key in enumerate(keys)}


def set_plan(runs: tuple[Run, ...], keys: tuple[str, ...], **how: Any) -> RunPlan:
    """The run plan of parameter sets' runs (:func:`particle_run`) reduced to the means of the targets ``keys``
    (every run has its set's own seed: the plan's is not used)."""
    return RunPlan(runs, 0, "fast", output="mean", place=partial(place_at_values, last=last_year(keys)),
                   reduce=partial(target_summaries, keys), **how)


def summaries(base: Scenario, values: Mapping[str, float], reps: int, seed: int,
              keys: list[str] | None = None) -> dict[str, float]:
    """Mean over replications 0 … reps − 1 of every target KPI, 2018–2022, at parameter values ``values``.

    ``keys``: names of :func:`target_key` (a KPI over 2018–2022, or ``kpi@first-last`` over a shorter window).
    Every target KPI is a linear function of the records (a sum over the window, or the last year's value),
    so the mean of a KPI over replications is that function of the mean records: the run layer averages the
    engine's arrays (``output="mean"``) and :func:`linear_kpis` maps them, without building the records table
    and every KPI of :func:`sim.analysis.kpi.kpis` for each particle (which took half of a particle's time).
    """
    keys = keys if keys is not None else list(targets())
    plan = set_plan((particle_run(base, values, range(reps), seed),), tuple(keys))
    return dict(results(plan)[0])


_LINEAR: dict[tuple[tuple[str, ...], int, int], np.ndarray] = {}


def linear_kpis(keys: tuple[str, ...], first_year: int, n_years: int) -> np.ndarray:
    """Coefficients ``C[k, row, year]`` with target ``keys[k]`` = Σ C · records, read off ``kpis``.

    A key is a KPI over 2018–2022 or ``kpi@first-last`` over those years (:func:`split_key`). ``kpis`` is
    evaluated once per window on a unit record per (row, year) (every one a replication of its own) and on
    random records to check the map is linear; a KPI that is not (a ratio) is refused, not approximated.
    """
    cache = (keys, first_year, n_years)
    if cache in _LINEAR:
        return _LINEAR[cache]
    from sim.analysis.kpi import kpis
    from sim.experiment import record_frame
    from sim.layout import RECORD_ROWS

    rows = len(RECORD_ROWS)
    years = np.arange(first_year, first_year + n_years)
    units = record_frame(enumerate(np.eye(rows * n_years).reshape(rows * n_years, rows, n_years)), years)
    rng = np.random.default_rng(0)
    trial = rng.random((3, rows, n_years)) * 100
    trial_frame = record_frame(enumerate(trial), years)
    split = [split_key(key) for key in keys]
    unit_k = {w: kpis(units, *w) for w in {(f, lst) for _, f, lst in split}}
    trial_k = {w: kpis(trial_frame, *w) for w in unit_k}
    coef = np.stack([unit_k[(f, lst)][kpi].to_numpy(dtype=float).reshape(rows, n_years) for kpi, f, lst in split])
    for j, (kpi, f, lst) in enumerate(split):
        got = np.einsum("ry,nry->n", coef[j], trial)
        if not np.allclose(got, trial_k[(f, lst)][kpi].to_numpy(dtype=float), rtol=1e-9, atol=1e-9):
            raise ValueError(f"KPI {keys[j]!r} is not linear in the records; calibration cannot score its mean")
    _LINEAR[cache] = coef
    return coef


def observed_bands(figures: Sequence[Observed], path: str | Path, base: Scenario) -> dict[str, tuple[float, float]]:
    """Observed figures (:mod:`sim.analysis.observed`) as extra targets: key ``kpi@first-last#id`` → (low, high).

    Each must be a band (``low``/``high``, or ``value`` with a ``tolerance``: the distance counts a miss in
    half-widths, and a single point has none), on a KPI linear in the records (a count, a sum or a year-end
    stock; :func:`linear_kpis`), in years from 2018 to the scenario's horizon. One :class:`InputError` line
    naming ``path`` and the figure otherwise.
    """
    horizon = base.params.time.horizon_year
    out: dict[str, tuple[float, float]] = {}
    for f in figures:
        first, last = f.window
        lo, hi = f.band
        if not hi > lo:
            raise InputError(f"{path}: figure {f.id}: a calibration target needs a band: give `tolerance` with "
                             f"`value` (the band value ± tolerance), or `low` and `high`")
        if last > horizon:
            raise InputError(f"{path}: figure {f.id}: {last} lies beyond the scenario's horizon ({horizon}); "
                             f"allowed years {WINDOW[0]}–{horizon}")
        key = f"{f.kpi}@{first}-{last}#{f.id}"
        try:
            linear_kpis((key,), WINDOW[0], last - WINDOW[0] + 1)
        except ValueError:
            raise InputError(f"{path}: figure {f.id}: kpi {f.kpi!r} is a ratio; a calibration target must be a "
                             "count, a sum or a year-end stock (its mean over replications is then the mean "
                             "records' value)") from None
        out[key] = (lo, hi)
    return out


def band_distances(x: Mapping[str, float], bands: Mapping[str, tuple[float, float]]) -> dict[str, float]:
    """Each target's distance from its band's centre, in half-widths (≤ 1 inside the band); for a floor (low, ∞)
    0 at or above it and above 1 below it."""
    out = {}
    for key, (lo, hi) in bands.items():
        v = float(x[key])
        if not math.isfinite(v):
            out[key] = math.inf
        elif math.isfinite(hi):
            half = (hi - lo) / 2 or 1e-12
            out[key] = abs(v - (lo + hi) / 2) / half
        else:  # a floor only (a lower bound of the report): 0 at or above it, 1 + the shortfall in tenths of it below
            out[key] = 0.0 if v >= lo else 1.0 + (lo - v) / (0.1 * abs(lo) or 1.0)
    return out


def distance(x: Mapping[str, float], bands: Mapping[str, tuple[float, float]]) -> float:
    """The largest band distance over every target (≤ 1 ⇔ every mean within its band)."""
    return float(max(band_distances(x, bands).values()))


def centres(bands: Mapping[str, tuple[float, float]]) -> dict[str, float]:
    """The band centres, stored as pyabc's "observed" summary statistics (for the record)."""
    return {k: (lo + hi) / 2 if math.isfinite(hi) else lo for k, (lo, hi) in bands.items()}


def as_array(x: Mapping[str, float], keys: list[str]) -> np.ndarray:
    """Summary statistics as a vector in ``keys`` order."""
    return np.array([float(x[k]) for k in keys])



def target_ids() -> dict[str, str]:
    """Key (:func:`target_key`) → the report's target id (T2 …) of every target scored."""
    from sim.analysis.targets import load_targets

    ids = {target_key(t.kpi, t.first_year, t.last_year): t.id for t in load_targets() if t.check == "mean"}
    return {k: ids.get(k, k) for k in targets()}
