"""An ABC-SMC calibration file: the scenario, the run's settings and one uniform prior per parameter.

A calibration file (e.g. ``calibration/smc.toml``) has an ``[smc]`` table and
one ``[[priors]]`` table per calibrated parameter::

    [smc]
    id = "smc"
    name_en = "Calibration by ABC-SMC"
    name_zh = "序贯蒙特卡洛近似贝叶斯校准"
    scenario = "../scenarios/baseline.toml"   # relative to this file
    population = 250      # particles per generation
    generations = 8       # at most this many generations
    reps = 10             # replications per particle (the summary statistics are their means)
    seed = 0              # one seed for everything: priors, kernels, simulations
    min_epsilon = 0.8     # stop after the generation whose threshold is this (1 = every mean in every band)
    proposal_scale = 1.5  # proposal covariance: this × the last generation's weighted one (logit scale)

    [[priors]]
    param = "contract.base_logit"
    min = -2.2
    max = -0.9
    why = "ASM: …"        # why this range (shown in calibration/README.md)

Every prior is uniform on [min, max]; the range must lie within the
parameter's allowed range and every corner must build a valid scenario.
Every problem is one :class:`~sim.errors.InputError` line naming the file and the key.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.checks import read_toml_input
from sim.errors import InputError
from sim.params import parameter_rows
from sim.scenario import Named, Scenario, load_scenario, one_line

_RANGES = {r["parameter"]: (r["min"], r["max"]) for r in parameter_rows()
           if not isinstance(r["default"], list)}
#: Parameters that cannot be calibrated: they fix the calendar.
FROZEN_GROUPS = ("time",)


class Prior(BaseModel):
    """One calibrated parameter: uniform on [min, max], with the reason for the range."""

    model_config = ConfigDict(extra="forbid", strict=True)

    param: str = Field(min_length=3, description="parameter, as group.name (see convsim params)")
    min: float
    max: float
    why: str = Field(min_length=1, description="why this range (an assumption, ASM, and its grounds)")

    @field_validator("min", "max", mode="before")
    @classmethod
    def _number(cls, v: Any) -> Any:
        return float(v) if isinstance(v, int) and not isinstance(v, bool) else v

    @field_validator("min", "max")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError(f"must be a finite number, got {v}")
        return v

    @model_validator(mode="after")
    def _known(self) -> Prior:
        if self.param not in _RANGES:
            raise ValueError(f"unknown parameter {self.param!r}; see `convsim params` for the list")
        if self.param.split(".", 1)[0] in FROZEN_GROUPS:
            raise ValueError(f"{self.param} fixes the calendar and cannot be calibrated")
        if not self.min < self.max:
            raise ValueError(f"min ({self.min:g}) must be below max ({self.max:g})")
        lo, hi = _RANGES[self.param]
        for v in (self.min, self.max):
            if (lo is not None and v < lo) or (hi is not None and v > hi):
                raise ValueError(f"{v:g} is outside {self.param}'s allowed range {lo} to {hi}")
        return self


class SMCMeta(Named):
    """The ``[smc]`` table."""

    description: str = ""
    scenario: str = Field(min_length=1, description="scenario file, relative to the calibration file")
    population: int = Field(250, ge=10, le=100_000, description="particles per generation")
    generations: int = Field(8, ge=1, le=100, description="most generations")
    reps: int = Field(10, ge=1, le=10_000, description="replications per particle")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="master seed (priors, kernels and simulations)")
    alpha: float = Field(0.5, gt=0, lt=1, description="next threshold: this weighted quantile of the distances")
    min_epsilon: float = Field(1.0, ge=0, le=1e6, description="stop after the generation with this threshold")
    min_acceptance: float = Field(0.01, ge=0, lt=1, description="stop when fewer particles than this are accepted")
    min_ess: float = Field(0.0, ge=0, le=100_000, description="once ε has reached min_epsilon, go on at that ε "
                           "until the last generation's (truncated) effective sample size is at least this")
    proposal_scale: float = Field(1.5, gt=0, le=10, description="the proposal's covariance: this multiple of the "
                                  "last generation's weighted covariance on the logit scale (sim.calibration.kernel)")
    proposal_df: float | None = Field(None, ge=1, le=1000, description="degrees of freedom of a Student t proposal "
                                      "on the logit scale (heavier tails than the normal); none: the normal")


class SMCSpec(BaseModel):
    """A whole calibration file."""

    model_config = ConfigDict(extra="forbid", strict=True)

    smc: SMCMeta
    priors: list[Prior] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _unique(self) -> SMCSpec:
        seen: set[str] = set()
        for k, p in enumerate(self.priors):
            if p.param in seen:
                raise ValueError(f"priors[{k}].param: {p.param} is calibrated twice")
            seen.add(p.param)
        return self


@dataclass(frozen=True)
class Calibration:
    """A validated calibration file and the scenario it calibrates."""

    spec: SMCSpec
    scenario: Scenario
    path: Path

    @property
    def id(self) -> str:
        return self.spec.smc.id

    @property
    def names(self) -> list[str]:
        """The calibrated parameters, in the file's order."""
        return [p.param for p in self.spec.priors]

    def digest(self) -> str:
        """Identity of what is computed: the spec and the resolved scenario (not comments or file names).

        The stopping rules ``generations``, ``min_acceptance`` and ``min_ess`` are left out: raising them
        continues a run.
        """
        spec = self.spec.model_dump(mode="json")
        for k in ("generations", "min_acceptance", "min_ess"):
            spec["smc"].pop(k)
        key = {"spec": spec, "scenario": self.scenario.model_dump(mode="json")}
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def load_calibration(path: str | Path) -> Calibration:
    """Read and validate a calibration file; every corner of the priors is built as a scenario."""
    p = Path(path)
    data: dict[str, Any] = read_toml_input(p, "a calibration .toml file with [smc] and [[priors]]")
    if "sweep" in data and "smc" not in data:
        raise InputError(f"{p}: a sweep file (rejection ABC); use `convsim calibrate FILE --method rejection`")
    try:
        spec = SMCSpec.model_validate(data)
    except ValidationError as err:
        raise InputError(one_line(p, err, SMCSpec)) from None
    try:
        scenario = load_scenario(p.parent / spec.smc.scenario)
    except InputError as exc:
        raise InputError(f"{p}: key 'smc.scenario': {exc}") from None
    cal = Calibration(spec, scenario, p)
    _check_corners(cal)
    return cal


def _check_corners(cal: Calibration) -> None:
    """Each prior's ends, one at a time, must give a scenario that builds (levers stay in range)."""
    from sim.calibration.model import window_scenario
    from sim.table import build_table

    for k, pr in enumerate(cal.spec.priors):
        for v in (pr.min, pr.max):
            try:
                build_table(window_scenario(cal.scenario, {pr.param: v}), str(cal.path))
            except InputError as exc:
                raise InputError(f"{cal.path}: key 'priors[{k}]': {pr.param} = {v:g} gives an invalid scenario: "
                                 f"{exc}") from None
