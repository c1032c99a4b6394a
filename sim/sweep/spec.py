"""A sweep file: which parameters to vary, over what values, on which scenario.

A parameter sweep (参数扫描) runs one scenario at many *points*, each point
the scenario with some parameters set to other values, every point with the
same replication numbers (common random numbers, so differences between
points are paired). A sweep file has a ``[sweep]`` table and one
``[[factors]]`` table per parameter varied::

    [sweep]
    id = "bottlenecks"
    name_en = "Brokers and public pilot slots"
    name_zh = "技术经纪人与公共中试工位"
    scenario = "../scenarios/baseline.toml"   # relative to this file
    design = "grid"          # grid | lhs (Latin hypercube) | sobol (Saltelli, for Sobol indices)
    reps = 100               # replications per point
    kpi = "industrialised"   # the indicator summarised, ranked and analysed
    compare = ["../scenarios/g4_intermediaries.toml"]   # optional: scenarios compared with `scenario` at every point

    [[factors]]
    param = "meeting.brokers"
    values = [5, 10, 20]     # grid: the values; lhs and sobol: min and max instead

A factor sets the parameter's value in every simulated year (levers of the
scenario still act on top of it). With ``compare``, every listed scenario runs
at every point too, and the sweep reports each one's paired difference from
``scenario`` point by point: how a ranking holds up when assumptions change. Every problem is an :class:`InputError`
naming the file and the key.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.analysis.kpi import KPI_BY_KEY
from sim.params import CAPACITIES, Params, parameter_rows
from sim.scenario import InputError, Named, Scenario, load_scenario, one_line

_RANGES = {r["parameter"]: (r["min"], r["max"]) for r in parameter_rows()}
#: Parameters a sweep may not vary: they fix the calendar, so points would not share years.
FROZEN_GROUPS = ("time",)
def is_whole(param: str) -> bool:
    """Does ``param`` take whole numbers only (an ``int`` field, or a capacity)?"""
    g, n = param.split(".", 1)
    field = Params.model_fields[g].annotation.model_fields[n]  # type: ignore[union-attr]
    return param in CAPACITIES or field.annotation is int


class Factor(BaseModel):
    """One parameter varied: by listed values (grid) or over a range (lhs, sobol)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    param: str = Field(min_length=3, description="parameter varied, as group.name (see convsim params)")
    values: list[float] | None = Field(None, min_length=1, max_length=1000)
    min: float | None = None
    max: float | None = None

    @field_validator("values", "min", "max")
    @classmethod
    def _finite(cls, v: float | list[float] | None) -> float | list[float] | None:
        for x in (v if isinstance(v, list) else [v]):
            if x is not None and not math.isfinite(x):
                raise ValueError(f"must be a finite number, got {x}")
        return v

    @model_validator(mode="after")
    def _known(self) -> Factor:
        if self.param not in _RANGES:
            raise ValueError(f"unknown parameter {self.param!r}; see `convsim params` for the list")
        if self.param.split(".", 1)[0] in FROZEN_GROUPS:
            raise ValueError(f"{self.param} fixes the calendar and cannot be swept")
        lo, hi = _RANGES[self.param]
        for v in [*(self.values or []), *(x for x in (self.min, self.max) if x is not None)]:
            if (lo is not None and v < lo) or (hi is not None and v > hi):
                raise ValueError(f"{v:g} is outside {self.param}'s allowed range {lo} to {hi}")
        if self.min is not None and self.max is not None and not self.min < self.max:
            raise ValueError(f"min ({self.min:g}) must be below max ({self.max:g})")
        return self


class SweepMeta(Named):
    """The ``[sweep]`` table."""

    description: str = ""
    scenario: str = Field(min_length=1, description="scenario file, relative to the sweep file")
    compare: list[str] = Field(default_factory=list, max_length=50,
                               description="scenario files compared with `scenario` at every point (paired)")
    design: Literal["grid", "lhs", "sobol", "table"] = "grid"
    points_file: str | None = Field(None, description="table: CSV of points, one column per factor "
                                    "(relative to the sweep file), e.g. a calibrated ensemble")
    samples: int = Field(16, ge=1, le=100_000, description="lhs: points; sobol: base sample N (a power of two)")
    reps: int = Field(100, ge=2, le=1_000_000, description="replications per point")
    seed: int = Field(0, ge=0, lt=2**32, description="master seed of the simulation (the same at every point)")
    design_seed: int = Field(0, ge=0, le=2**31, description="seed of the lhs / sobol sampler")
    kpi: str = Field("industrialised", description="indicator summarised and analysed (a KPI key)")
    first_year: int | None = Field(None, ge=2000, le=2100, description="window start (default: policy start)")
    last_year: int | None = Field(None, ge=2000, le=2100, description="window end (default: horizon)")

    @model_validator(mode="after")
    def _kpi_known(self) -> SweepMeta:
        if self.kpi not in KPI_BY_KEY:
            raise ValueError(f"unknown KPI {self.kpi!r}; one of {', '.join(KPI_BY_KEY)}")
        return self


#: The most runs (points × scenarios) a sweep may have: each is built and range-checked before any runs (about
#: 1.5 ms each, so at most half a minute), and a grid is listed in memory.
MAX_RUNS = 20_000


class SweepSpec(BaseModel):
    """A whole sweep file."""

    model_config = ConfigDict(extra="forbid", strict=True)

    sweep: SweepMeta
    factors: list[Factor] = Field(min_length=1, max_length=50)

    def points(self) -> int:
        """The number of points the design has (0 for a ``table`` design, whose file says it), without building it."""
        n = self.sweep.samples
        if self.sweep.design == "grid":
            return math.prod(len(f.values or []) for f in self.factors)
        if self.sweep.design == "sobol":
            return n * (len(self.factors) + 2)
        return n if self.sweep.design == "lhs" else 0

    @model_validator(mode="after")
    def _consistent(self) -> SweepSpec:
        if self.sweep.design == "sobol":
            n = self.sweep.samples
            if n & (n - 1):
                raise ValueError(f"sweep.samples: design 'sobol' needs a power of two (got {n})")
            if len(self.factors) < 2:
                raise ValueError("factors: Sobol indices need at least two factors")
        if (self.sweep.design == "table") != (self.sweep.points_file is not None):
            raise ValueError("sweep.points_file: give it with design 'table', and only then")
        runs = self.points() * (1 + len(self.sweep.compare))
        if runs > MAX_RUNS:
            raise ValueError(f"sweep: the design has {self.points():,} points × {1 + len(self.sweep.compare)} "
                             f"scenario(s) = {runs:,} runs; at most {MAX_RUNS:,} (every run is built and checked "
                             "before any starts): use fewer values, fewer samples or a Latin hypercube")
        seen = set()
        for k, f in enumerate(self.factors):
            if f.param in seen:
                raise ValueError(f"factors[{k}].param: {f.param} is varied twice")
            seen.add(f.param)
            if self.sweep.design == "grid" and f.values is None:
                raise ValueError(f"factors[{k}]: {f.param}: a grid needs `values`")
            if self.sweep.design in ("lhs", "sobol") and (f.min is None or f.max is None):
                raise ValueError(f"factors[{k}]: {f.param}: design {self.sweep.design!r} needs `min` and `max`")
        return self


class Sweep:
    """A validated sweep: its spec, the scenarios it varies (arms), and where it came from.

    The first arm is ``sweep.scenario`` (the reference); the others are the
    ``sweep.compare`` files, each compared with the reference at every point.
    """

    def __init__(self, spec: SweepSpec, arms: list[Scenario], path: Path, text: str,
                 table: pd.DataFrame | None = None, arm_paths: list[Path] | None = None) -> None:
        self.spec = spec
        #: the scenario file of each arm, to name the file that holds a lever a point pushes out of range
        self.arm_paths = arm_paths or [path] * len(arms)
        self.table = table
        self.arms = arms
        self.scenario = arms[0]
        self.path = path
        self.text = text
        ids = [a.id for a in arms]
        if len(set(ids)) != len(ids):
            raise InputError(f"{path}: key 'sweep.compare': two scenarios share an id ({', '.join(ids)})")
        for k, a in enumerate(arms[1:]):
            if a.params.time != arms[0].params.time:
                raise InputError(f"{path}: key 'sweep.compare[{k}]': scenario {a.id!r} has another calendar "
                                 "(params.time) than the sweep's scenario; compared scenarios must share it")
        p = self.scenario.params
        self.first_year = spec.sweep.first_year or min(p.time.policy_start_year, p.time.horizon_year)
        self.last_year = spec.sweep.last_year or p.time.horizon_year
        if not p.first_year <= self.first_year <= self.last_year <= p.time.horizon_year:
            raise InputError(f"{path}: key 'sweep.first_year': the window {self.first_year}–{self.last_year} "
                             f"must lie within the simulated years {p.first_year}–{p.time.horizon_year}")

    @property
    def id(self) -> str:
        return self.spec.sweep.id

    def digest(self) -> str:
        """Identity of what is computed: the spec and the resolved scenario (not file names or comments)."""
        key = {"spec": self.spec.model_dump(mode="json"), "arms": [a.model_dump(mode="json") for a in self.arms],
               "table": None if self.table is None else self.table.to_csv()}
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def load_sweep(path: str | Path) -> Sweep:
    """Read and validate a sweep file and the scenario it names; raise :class:`InputError` with one line."""
    from sim.checks import read_text_input, read_toml_input

    p = Path(path)
    data: dict[str, Any] = read_toml_input(p, "a sweep .toml file")
    text = read_text_input(p, "a sweep .toml file")
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as err:
        raise InputError(one_line(p, err, SweepSpec)) from None
    arms, arm_paths = [], []
    for key, name in [("sweep.scenario", spec.sweep.scenario),
                      *((f"sweep.compare[{k}]", c) for k, c in enumerate(spec.sweep.compare))]:
        try:
            arms.append(load_scenario(p.parent / name))
        except InputError as exc:
            raise InputError(f"{p}: key '{key}': {exc}") from None
        arm_paths.append(p.parent / name)
    table = _read_points_file(p, spec) if spec.sweep.points_file is not None else None
    return Sweep(spec, arms, p, text, table, arm_paths)


def _read_points_file(p: Path, spec: SweepSpec) -> pd.DataFrame:
    """The points of a ``table`` design, checked: every factor a column, every value in its range."""
    assert spec.sweep.points_file is not None
    f = p.parent / spec.sweep.points_file
    where = f"{p}: key 'sweep.points_file'"
    if not f.is_file():
        raise InputError(f"{where}: {f}: file not found (expected a CSV with one column per factor)")
    try:
        df = pd.read_csv(f)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{where}: {f}: not a readable CSV ({exc})") from None
    names = [fa.param for fa in spec.factors]
    missing = [n for n in names if n not in df.columns]
    if missing:
        raise InputError(f"{where}: {f}: no column for {', '.join(missing)} (columns: {', '.join(df.columns)})")
    if not 1 <= len(df) <= 100_000:
        raise InputError(f"{where}: {f}: needs 1 to 100,000 rows (has {len(df)})")
    out = df[names].reset_index(drop=True)
    for n in names:
        col = pd.to_numeric(out[n], errors="coerce")
        lo, hi = _RANGES[n]
        bad = col.isna() | ((col < lo) if lo is not None else False) | ((col > hi) if hi is not None else False)
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise InputError(f"{where}: {f}: row {row + 1}, column {n}: {str(out[n].iloc[row])!r} is not a number "
                             f"in the allowed range {lo} to {hi}")
        out[n] = col.astype(float)
    return out
