"""Under which conditions does a recommendation fail? Scenario discovery with PRIM over the worlds.

Every world of a comparison is one combination of the uncertain inputs (a
calibrated parameter set, and each measure's effect and cost drawn from its
range); in each world an *outcome of concern* happens or not — the leader over
worlds is not the best in that world, a scenario shows no gain, one scenario
falls below another. The Patient Rule Induction Method (Friedman & Fisher
1999, "Bump hunting in high-dimensional data", Statistics and Computing 9:
123–143; as used for scenario discovery by Bryant & Lempert 2010, Technological
Forecasting and Social Change 77: 34–49) peels the input space down to *boxes*
— a few inputs each held to a range — where the outcome is concentrated:

- **coverage**: the share of all worlds with the outcome that lie in the box;
- **density**: the share of worlds in the box that have the outcome.

convsim uses the EMA Workbench's PRIM (``ema_workbench.analysis.prim``, BSD
licence), installed with the ``discover`` extra. Effects and costs enter as
their quantile in the measure's plausible range (0 = the low end, 1 = the
high end), parameters as their values.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.errors import InputError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from sim.analysis.worlds_report import LeverNames

#: The outcomes :func:`outcome` understands.
OUTCOMES = ("leader-loses", "no-gain:<scenario>", "below:<scenario>:<scenario>")


@dataclass
class Box:
    """One box: the inputs it restricts (``limits``: input → (low, high)), its coverage, density and size."""

    limits: dict[str, tuple[float, float]]
    coverage: float
    density: float
    mass: float
    worlds: int
    """Worlds inside the box."""
    cases: int
    """Worlds inside the box where the outcome happens."""

    def sentence(self, what: str, bounds: dict[str, tuple[float, float]], lang: str = "en",
                 levers: LeverNames | None = None) -> str:
        """The box in plain words: where ``what`` happens, with its coverage and density (inputs by their
        human names, ``levers`` naming the measures; the key after each)."""
        from sim.analysis.worlds_report import input_label

        parts = []
        for name, (lo, hi) in self.limits.items():
            blo, bhi = bounds[name]
            q = name.startswith(("effect:", "cost:"))
            unit_en, unit_zh = (" of its range", "(在其区间中的分位)") if q else ("", "")
            label = input_label(name, lang, levers)
            if lo <= blo:
                parts.append(f"{label} ≤ {hi:.3g}{unit_zh}" if lang == "zh" else f"{label} ≤ {hi:.3g}{unit_en}")
            elif hi >= bhi:
                parts.append(f"{label} ≥ {lo:.3g}{unit_zh}" if lang == "zh" else f"{label} ≥ {lo:.3g}{unit_en}")
            else:
                parts.append(f"{label} 在 {lo:.3g} 与 {hi:.3g} 之间{unit_zh}" if lang == "zh"
                             else f"{label} between {lo:.3g} and {hi:.3g}{unit_en}")
        if lang == "zh":
            cond = ",且".join(parts) if parts else "(无限制)"
            return (f"当 {cond} 时,{what}:该区域内 {self.cases}/{self.worlds} 个世界出现此情况"
                    f"(密度 {self.density:.0%}),覆盖全部此类世界的 {self.coverage:.0%}。")
        cond = " and ".join(parts) if parts else "(no restriction)"
        return (f"When {cond}, {what}: it happens in {self.cases} of the {self.worlds} worlds in this box "
                f"(density {self.density:.0%}), which hold {self.coverage:.0%} of all worlds where it happens.")


def outcome(per_world: pd.DataFrame, summary: pd.DataFrame, spec: str, sign: float = 1.0) -> tuple[pd.Series, str,
                                                                                                       str]:
    """Whether the outcome ``spec`` happens in each world; with its description in English and Chinese.

    ``leader-loses``: the scenario first over worlds is not the best in that world. ``no-gain:S``: scenario
    S gains nothing over the baseline there (Δ ≤ 0 in the KPI's good direction). ``below:A:B``: A does worse
    than B there.
    """
    wide = sign * per_world.pivot(index="world", columns="scenario", values="diff")
    kind, _, rest = spec.partition(":")
    if spec == "leader-loses":
        leader = str(summary.index[0])
        best = wide.idxmax(axis=1)
        return best != leader, f"“{leader}” is not the best choice", f"“{leader}”不再是最优选择"
    if kind == "no-gain" and rest in wide.columns:
        return wide[rest] <= 0, f"“{rest}” shows no gain", f"“{rest}”没有增益"
    a, _, b = rest.partition(":")
    if kind == "below" and a in wide.columns and b in wide.columns and a != b:
        return wide[a] < wide[b], f"“{a}” does worse than “{b}”", f"“{a}”不如“{b}”"
    raise InputError(f"--outcome {spec!r}: one of {', '.join(OUTCOMES)}, with scenario ids of the comparison "
                     f"({', '.join(map(str, wide.columns))})")


def find_boxes(inputs: pd.DataFrame, happens: pd.Series, threshold: float = 0.8, max_boxes: int = 3,
               min_coverage: float = 0.1) -> list[Box]:
    """PRIM's boxes, one after another on the worlds not yet covered, while a box covers enough.

    On each peeling trajectory the box kept is the one with the largest coverage among those whose
    density reaches ``threshold`` (else the densest); inputs that never varied are left out.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from ema_workbench.analysis import prim
    except ImportError:
        raise InputError("scenario discovery needs the EMA Workbench: pip install 'convsim[discover]'") from None
    x = inputs.loc[happens.index]
    x = x.loc[:, x.std(ddof=0) > 0].astype(float)
    y = happens.to_numpy(dtype=bool)
    if x.shape[1] == 0 or not y.any() or y.all():
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = prim.Prim(x.reset_index(drop=True), y, threshold=threshold, peel_alpha=0.05, mass_min=0.05)
        boxes: list[Box] = []
        for _ in range(max_boxes):
            try:
                box = p.find_box()
            except Exception:  # PRIM stops when nothing is left to peel: no further box
                break
            if box is None:
                break
            traj = box.peeling_trajectory
            dense = traj[traj["density"] >= threshold]
            i = int(dense["coverage"].idxmax()) if len(dense) else int(traj["density"].idxmax())
            box.select(i)
            row = traj.loc[i]
            if float(row["coverage"]) < min_coverage:
                break
            lims = box.box_lims[i]
            full = box.box_lims[0]
            limits = {str(c): (float(lims.at[0, c]), float(lims.at[1, c])) for c in x.columns
                      if (lims.at[0, c], lims.at[1, c]) != (full.at[0, c], full.at[1, c])}
            boxes.append(Box(limits, float(row["coverage"]), float(row["density"]), float(row["mass"]),
                             int(row["n"]), int(row["k"])))
    return boxes


def bounds(inputs: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Each input's smallest and largest value over the worlds (what a box's limit is compared with)."""
    return {str(c): (float(inputs[c].min()), float(inputs[c].max())) for c in inputs.columns}


def fig_boxes(boxes: list[Box], inputs: pd.DataFrame, what: str, lang: str = "en",
              levers: LeverNames | None = None) -> Figure:
    """Each box's restricted inputs as bars over their range across the worlds (0 = lowest, 1 = highest)."""
    from sim.analysis.figures import figure_builder, new_figure
    from sim.analysis.worlds_report import input_label

    @figure_builder
    def build() -> Figure:
        rows: list[tuple[Box | None, str]] = [(b, name) for b in boxes for name in b.limits] or [(None, "")]
        fig, axes = new_figure(8, 1.2 + 0.45 * len(rows))
        ax = axes[0, 0]
        lim = bounds(inputs)
        labels = []
        for k, (b, name) in enumerate(rows):
            if b is None:
                continue
            lo, hi = b.limits[name]
            blo, bhi = lim[name]
            span = (bhi - blo) or 1.0
            n = boxes.index(b) + 1
            ax.barh(k, (hi - lo) / span, left=(lo - blo) / span, color=f"C{n - 1}", alpha=0.7)
            labels.append(f"{n}: {input_label(name, lang, levers)}")
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlim(0, 1)
        ax.invert_yaxis()
        ax.set_xlabel("在各世界取值范围中的位置(0 = 最低,1 = 最高)" if lang == "zh"
                      else "Position in the range over the worlds (0 = lowest, 1 = highest)")
        ax.set_title(("情景发现:" if lang == "zh" else "Scenario discovery: ") + what)
        return fig

    return build()


def boxes_table(boxes: list[Box]) -> pd.DataFrame:
    """One row per restricted input of each box (for ``boxes.csv``)."""
    rows: list[dict[str, Any]] = []
    for n, b in enumerate(boxes, start=1):
        for name, (lo, hi) in b.limits.items():
            rows.append({"box": n, "input": name, "low": lo, "high": hi, "coverage": b.coverage,
                         "density": b.density, "mass": b.mass, "worlds_in_box": b.worlds, "cases_in_box": b.cases})
    cols = ["box", "input", "low", "high", "coverage", "density", "mass", "worlds_in_box", "cases_in_box"]
    return pd.DataFrame(rows, columns=cols).astype({"box": int}) if rows else pd.DataFrame(columns=cols)


def check_threshold(threshold: float) -> float:
    if not (isinstance(threshold, int | float) and 0 < threshold <= 1 and np.isfinite(threshold)):
        raise InputError(f"--threshold: a density from above 0 to 1, got {threshold!r}")
    return float(threshold)
