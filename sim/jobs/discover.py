"""Scenario discovery over the worlds of a comparison (``convsim discover``, ``sim.discover``).

:func:`discover` takes a comparison run with worlds of uncertainty and finds,
with PRIM (:mod:`sim.analysis.discovery`), the combinations of uncertain
inputs — parameters, the measures' effects and costs — under which an outcome
of concern happens: the leader loses its place, a scenario shows no gain, one
scenario falls below another. It returns a :class:`DiscoveryResult` with the
boxes, a sentence per box in Chinese or English, a figure and ``.write``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sim.errors import InputError
from sim.jobs import options

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from sim.analysis.discovery import Box
    from sim.results import CompareResult


@dataclass
class DiscoveryResult:
    """The boxes of uncertain inputs in which the outcome happens, and the worlds they were found in."""

    comparison: CompareResult
    outcome: str
    what_en: str
    what_zh: str
    happens: pd.Series
    """Per world: whether the outcome happens."""
    inputs: pd.DataFrame
    """Per world: every uncertain input (parameters; effects and costs as quantiles of their range)."""
    boxes: list[Box]
    threshold: float

    def what(self, lang: str = "en") -> str:
        return self.what_zh if lang == "zh" else self.what_en

    @property
    def table(self) -> pd.DataFrame:
        """One row per restricted input of each box: low, high, coverage, density, mass."""
        from sim.analysis.discovery import boxes_table

        return boxes_table(self.boxes)

    def sentences(self, lang: str = "en") -> list[str]:
        from sim.analysis.discovery import bounds
        from sim.analysis.worlds_report import lever_names

        lim = bounds(self.inputs)
        levers = lever_names(self.comparison.comparison)
        return [b.sentence(self.what(lang), lim, lang, levers) for b in self.boxes]

    def text(self, lang: str = "en") -> str:
        n, k = len(self.happens), int(self.happens.sum())
        head = (f"情景发现({len(self.happens)} 个世界):{self.what_zh} 出现在 {k} 个世界中。" if lang == "zh" else
                f"Scenario discovery over {n} worlds: {self.what_en} in {k} of them.")
        if not self.boxes:
            tail = ("没有找到集中出现此情况的输入组合(或从未出现/总是出现)。" if lang == "zh" else
                    "No combination of inputs concentrates it (or it never or always happens).")
            return head + "\n" + tail
        return "\n".join([head, *(f"{i}. {s}" for i, s in enumerate(self.sentences(lang), start=1))])

    def figure(self, lang: str = "en") -> Figure:
        from sim.analysis.discovery import fig_boxes
        from sim.analysis.worlds_report import lever_names

        return fig_boxes(self.boxes, self.inputs, self.what(lang), lang, lever_names(self.comparison.comparison))

    def write(self, folder: str | Path, lang: str = "en") -> Path:
        """``boxes.csv``, ``worlds.csv`` (inputs and outcome per world), ``discovery.png`` and ``summary.txt``."""
        from sim.analysis.figures import save_figure
        from sim.store import atomic_folder

        with atomic_folder(folder, kind="discover") as tmp:
            self.table.to_csv(tmp / "boxes.csv", index=False)
            self.inputs.assign(outcome=self.happens).to_csv(tmp / "worlds.csv")
            save_figure(self.figure(lang), tmp / "discovery.png", dpi=120)
            (tmp / "summary.txt").write_text(self.text(lang) + "\n", encoding="utf-8")
            (tmp / "discovery.json").write_text(json.dumps(
                {"outcome": self.outcome, "threshold": self.threshold, "worlds": len(self.happens),
                 "cases": int(self.happens.sum()), "boxes": len(self.boxes)}, indent=1), encoding="utf-8")
        return Path(folder)


def discover(comparison: CompareResult, outcome: str = "leader-loses", threshold: float = 0.8,
             max_boxes: int = 3) -> DiscoveryResult:
    """The boxes of inputs in which ``outcome`` happens over the worlds of ``comparison`` (run with worlds).

    ``outcome``: ``leader-loses``, ``no-gain:<scenario id>`` or ``below:<id>:<id>``; ``threshold``: the
    density a box should reach (PRIM keeps, on its peeling trajectory, the box of largest coverage at
    that density).
    """
    from sim.analysis.discovery import check_threshold, find_boxes
    from sim.analysis.discovery import outcome as outcome_of
    from sim.analysis.paired import higher_is_better
    from sim.analysis.worlds import world_inputs

    c = comparison.comparison
    if c.worlds is None:
        raise InputError("discover: the comparison ran no worlds (compare with worlds=N, N ≥ 10)")
    threshold = check_threshold(threshold)
    max_boxes = options.whole(max_boxes, "--boxes", 1, 20)
    w = c.worlds
    sign = 1.0 if higher_is_better(w.kpi) else -1.0
    happens, en, zh = outcome_of(w.per_world, w.summary, outcome, sign)
    lever_ids = sorted({lv.id for a in c.arms for lv in a.scenario.levers})
    inputs = world_inputs(w.worlds, lever_ids)
    return DiscoveryResult(comparison, outcome, en, zh, happens, inputs.loc[happens.index],
                           find_boxes(inputs, happens, threshold, max_boxes), threshold)
