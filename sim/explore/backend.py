"""Every call the explorer makes into the simulator, in one place.

The page never imports the rest of :mod:`sim` directly: it goes through the
functions here, so that a change of the library's interface is adjusted in
this one module.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import InputError
from sim.jobs.control import Cancelled, Control, ProgressEvent, background
from sim.labels import param_label, sized_rationale
from sim.scenario import LEVER_GROUPS, LEVER_GROUPS_ZH, Lever, Scenario, ScenarioMeta

if TYPE_CHECKING:
    import pandas as pd

    from sim.params import Params
    from sim.results import CompareResult

__all__ = ["LEVER_GROUPS", "LEVER_GROUPS_ZH", "Cancelled", "Control", "InputError", "Lever", "ProgressEvent",
           "Scenario", "ScenarioMeta", "background", "param_label", "sized_rationale"]

#: The report's five recommendation groups, as scenario files in the scenario folder, in the report's order.
GROUP_FILES = ("g1_awareness.toml", "g2_platforms.toml", "g3_talent.toml", "g4_intermediaries.toml",
               "g5_finance.toml")
#: Figures of every comparison, and those that need worlds.
FIGURES = ("funnel", "fans", "cost", "bottlenecks", "forest")
WORLD_FIGURES = ("worlds", "voi")


def default_scenario_dir() -> Path:
    """``scenarios/`` of the working folder when it holds a baseline, else the shipped scenarios (package data)."""
    from sim.resources import shipped_scenarios

    here = Path.cwd() / "scenarios"
    if (here / "baseline.toml").is_file():
        return here
    return shipped_scenarios()


def load_scenario(path: str | Path) -> Scenario:
    import sim

    return sim.load_scenario(path)


def load_uploaded(path: Path, scenario_dir: Path) -> Scenario:
    """An uploaded scenario file; a ``scenario.base`` that does not resolve beside the upload is looked up by
    its file name among the shipped scenarios (an optimiser's ``best.toml`` names its base by a relative path)."""
    from sim.scenario import merge_with_base, scenario_from_dict

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path.name}: malformed TOML: {exc}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path.name}: not UTF-8 text") from None
    meta = data.get("scenario")
    base = meta.get("base") if isinstance(meta, dict) else None
    if base is None:
        return scenario_from_dict(data, path.name)
    if not isinstance(base, str):
        raise InputError(f"{path.name}: key 'scenario.base': must be a file name (string)")
    shipped = scenario_dir / Path(base).name
    if not shipped.is_file():
        raise InputError(f"{path.name}: key 'scenario.base': {base!r} is not one of the shipped scenarios "
                         f"({', '.join(sorted(p.name for p in scenario_dir.glob('*.toml')))})")
    data = merge_with_base(load_scenario(shipped), data)
    data["scenario"] = {k: v for k, v in data["scenario"].items() if k != "base"}
    return scenario_from_dict(data, path.name)


def scenario_from_dict(data: dict[str, Any], source: str) -> Scenario:
    from sim.scenario import scenario_from_dict as _from

    return _from(data, source)


def check_table(sc: Scenario) -> None:
    """Build the scenario's parameter table, the check `convsim validate` makes beyond the schema."""
    from sim.table import build_table

    build_table(sc, sc.source)


def resized(lv: Lever, k: float, params: Params) -> Lever:
    """A lever at intensity ``k`` (size by the rule of its mode, cost by its cost curve), as the optimiser does."""
    from sim.optimise.space import resized as _resized

    return _resized(lv, k, params)


def whole_number(lv: Lever) -> bool:
    """Whether the lever adds whole units (brokers, agencies, events): its intensity moves in steps of 1/value."""
    from sim.budget import WHOLE_NUMBER_PARAMS

    return lv.mode == "add" and lv.param in WHOLE_NUMBER_PARAMS


def scenario_toml(meta: dict[str, Any], levers: list[Lever], header: str) -> str:
    from sim.budget import scenario_toml as _toml

    return _toml(meta, levers, header)


def default_params() -> Params:
    from sim.params import Params

    return Params()


def compare(baseline: Scenario, mixes: Sequence[Scenario], reps: int, seed: int, control: Control,
            worlds: int = 0, world_reps: int = 50, follow_up: int = 6) -> CompareResult:
    """The paired comparison on the fast engine, cancellable through ``control``; ``follow_up``: years the runs
    go on past the horizon for the cohort rates (0: censored, faster)."""
    import sim

    return sim.compare(baseline, list(mixes), reps=reps, seed=seed, progress=control, worlds=worlds,
                       world_reps=world_reps, engine="fast", follow_up=follow_up)


def headline_table(result: CompareResult) -> pd.DataFrame:
    """The headline measures side by side, one row per scenario: for the report's 转化 (``introduced_converted``),
    产业化 (``industrialised``) and the cohort conversion rate (``cohort_industrialised_5y``, a share) the paired
    difference from the baseline (``<key>``), its 95 % interval (``<key>_lo``, ``<key>_hi``) and the rank that
    measure alone gives (``<key>_rank``; NaN for a cohort rate censored for want of follow-up)."""
    import pandas as pd

    from sim.analysis.paired import HEADLINES

    c = result.comparison
    s = c.summary.set_index(["kpi", "scenario"])
    order = list(c.ranking["scenario"])
    out = pd.DataFrame(index=pd.Index(order, name="scenario"))
    for key in HEADLINES:
        rows = s.loc[key].reindex(order)
        out[key], out[f"{key}_lo"], out[f"{key}_hi"] = rows["diff"], rows["lo"], rows["hi"]
        r = c.rankings.get(key)
        out[f"{key}_rank"] = r.set_index("scenario")["rank"].reindex(order).astype(float) if r is not None \
            else float("nan")
    return out


def figure(result: CompareResult, name: str, lang: str) -> Any:
    """One of the comparison's figures (a matplotlib Figure) in ``lang``."""
    return getattr(result, f"plot_{name}")(lang=lang)


def voi_table(result: CompareResult) -> Any:
    """The value-of-information table of a comparison with worlds (None without worlds)."""
    w = result.comparison.worlds
    return None if w is None else w.voi


def input_name(name: str, lang: str, levers: dict[str, tuple[str, str]]) -> tuple[str, str]:
    """(human name, key) of an uncertain input of the value-of-information table (as the report names it)."""
    from sim.analysis.worlds_report import input_name as _input_name

    return _input_name(name, lang, levers)


def size_text(lv: Lever, params: Params, lang: str) -> str:
    """What a lever does at its size, from the status quo's value, in ``lang`` (as the report says it)."""
    from sim.labels import size_text as _size_text

    return _size_text(lv, params, lang)


def write_report(result: CompareResult, folder: Path, lang: str) -> Path:
    return result.write_report(folder, lang)


def engine_cached() -> bool:
    from sim._cache import fast_engine_cached

    return fast_engine_cached()


def prepare_engine(baseline: Scenario) -> float:
    """Load (or compile, the first time on a machine) the fast engine; seconds it took."""
    from sim.experiment import engine_ready
    from sim.table import build_table

    return engine_ready("fast", build_table(baseline, baseline.source))


def best_mix(budget: float, out: Path, baseline: Path, trials: int, reps: int, confirm_reps: int, seed: int,
             frontier: Sequence[float] | None, control: Control) -> dict[str, Any]:
    """The optimiser's best mix for a yearly budget, written to ``out`` (resumable), as a dictionary
    (``result.json``); ``control`` watches it and cancels it after the trial under way."""
    import sim

    control.check()
    result = sim.best_mix(budget, out=out, baseline=baseline, trials=trials, reps=reps, confirm_reps=confirm_reps,
                          seed=seed, frontier=list(frontier) if frontier else None, progress=control)
    return dict(result.result)


def model_version() -> str:
    import sim

    return str(sim.__version__)
