"""What the analyst gets back: result objects with tables (pandas) and figures (matplotlib).

:class:`CompareResult` wraps a paired comparison: ``.summary`` has one row per
scenario (the headline difference with its 95 % interval, P(better), the
verdict, and the other KPIs' differences), ``.details`` every KPI of every
scenario, ``.ranking`` and ``.pairwise`` the ranking and P(row beats column);
``.figure(name)`` and the ``plot_*`` methods return the report's figures as
:class:`matplotlib.figure.Figure` objects (shown inline in Jupyter, never
changing the caller's matplotlib settings). :class:`SweepResult` gives a
sweep's design, summary and sensitivity tables and its folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from sim.analysis.compare import Comparison

#: The report's figures, by name (``CompareResult.figure(name)``).
FIGURE_NAMES = ("forest", "funnel", "fans", "cost", "bottlenecks")


@dataclass
class CompareResult:
    """Scenarios compared with a baseline on common random numbers (see :func:`sim.compare`)."""

    comparison: Comparison
    precision: float | None = None
    """The ``precision`` asked for (replications were added until every half-width was at most this)."""
    max_reps: int | None = None
    _pairwise: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def reps(self) -> int:
        """Paired replications per scenario."""
        return self.comparison.reps

    @property
    def window(self) -> tuple[int, int]:
        """First and last calendar year compared."""
        return self.comparison.window

    @property
    def summary(self) -> pd.DataFrame:
        """One row per scenario, best first: Δ of the ranking KPI [95 %], P(better), verdict, other KPIs' Δ,
        M yuan per extra project and, with worlds, the spread over worlds (world_p05 … mean_rank)."""
        from sim.analysis.compare import scenario_summary

        return scenario_summary(self.comparison)

    @property
    def details(self) -> pd.DataFrame:
        """Every compared KPI of every scenario: paired difference, interval, P(better), gain/loss."""
        return self.comparison.summary

    @property
    def ranking(self) -> pd.DataFrame:
        """Scenarios ranked by the headline gain; ``group`` joins those that cannot be told apart."""
        return self.comparison.ranking

    @property
    def pairwise(self) -> pd.DataFrame:
        """P(row scenario industrialises more than column scenario), paired."""
        if self._pairwise is None:
            from sim.analysis.compare import pairwise

            self._pairwise = pairwise(self.comparison)
        return self._pairwise

    def figure(self, name: str, lang: str = "en") -> Figure:
        """One of the report's figures (``FIGURE_NAMES``) as a matplotlib Figure."""
        from sim.analysis import report

        if name not in FIGURE_NAMES:
            raise ValueError(f"unknown figure {name!r}; one of {', '.join(FIGURE_NAMES)}")
        fig: Figure = getattr(report, f"fig_{name}")(self.comparison, lang)
        return fig

    def plot_forest(self, lang: str = "en") -> Figure:
        """Paired differences from the baseline with their 95 % intervals."""
        return self.figure("forest", lang)

    def plot_funnel(self, lang: str = "en") -> Figure:
        """The pipeline stage by stage."""
        return self.figure("funnel", lang)

    def plot_fans(self, lang: str = "en") -> Figure:
        """Cumulative industrialisations over the years, with their spread."""
        return self.figure("fans", lang)

    def plot_cost(self, lang: str = "en") -> Figure:
        """Gain against fiscal cost."""
        return self.figure("cost", lang)

    def plot_bottlenecks(self, lang: str = "en") -> Figure:
        """Brokers and public pilot bases: use and waits."""
        return self.figure("bottlenecks", lang)

    def plot_worlds(self, lang: str = "en") -> Figure:
        """Both intervals: Monte Carlo at the defaults, and the range over worlds (needs ``worlds`` > 0)."""
        from sim.analysis.worlds_report import fig_worlds

        self._need_worlds()
        return fig_worlds(self.comparison, lang)

    def plot_voi(self, lang: str = "en") -> Figure:
        """What to measure next: the inputs that move the leader's margin most (needs ``worlds`` > 0)."""
        from sim.analysis.worlds_report import fig_voi

        self._need_worlds()
        return fig_voi(self.comparison, lang)

    def _need_worlds(self) -> None:
        if self.comparison.worlds is None:
            raise ValueError("this comparison ran no worlds: sim.compare(..., worlds=N)")

    def write_report(self, folder: str | Path, lang: str = "en") -> Path:
        """The HTML report, figures and CSV tables in ``folder`` (a new or empty folder, or an earlier report)."""
        from sim.analysis.report import write_report
        from sim.store import check_output_dir

        check_output_dir(folder, "folder", ("compare",))
        return write_report(self.comparison, folder, lang)

    def write(self, folder: str | Path, lang: str = "en") -> Path:
        """The HTML report, figures and CSV tables in ``folder``; the same as :meth:`write_report`."""
        return self.write_report(folder, lang)

    def text(self, lang: str = "en") -> str:
        """What ``convsim compare`` prints: the ranking, how it holds up over the worlds, the long window."""
        from sim.analysis.paired import HEADLINE
        from sim.analysis.terminal import ranking_text

        c = self.comparison
        zh = lang == "zh"
        lines = [f"{'基线' if zh else 'Baseline'}: {c.baseline.scenario.id}; {c.window[0]}–{c.window[1]}; "
                 f"{c.reps} paired replications each, seed {c.seed}"]
        if self.precision is not None:
            worst = c.summary.loc[c.summary["kpi"] == HEADLINE, "half_width"].max()
            lines.append(f"--precision {self.precision}: reached with {c.reps} replications per scenario"
                         if worst <= self.precision else f"--precision {self.precision}: stopped at --max-reps "
                         f"{self.max_reps}")
        lines.append(ranking_text(c, lang))
        if c.worlds is not None:
            from sim.analysis.worlds_report import worlds_text

            lines.append("\n" + worlds_text(c, lang))
        if c.long is not None:
            lines.append("\n" + ranking_text(c.long, lang))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return (f"<p>{len(self.comparison.arms)} scenario(s) vs {self.comparison.baseline.scenario.id}, "
                f"{self.window[0]}–{self.window[1]}, {self.reps} paired replications</p>"
                + self.summary.to_html(float_format=lambda v: f"{v:.3g}"))


@dataclass
class SweepResult:
    """A finished sweep on disk (see :func:`sim.run_sweep`)."""

    folder: Path
    manifest: dict[str, Any]

    def _csv(self, name: str, **kw: Any) -> pd.DataFrame:
        path = self.folder / name
        return pd.read_csv(path, **kw) if path.is_file() else pd.DataFrame()

    @property
    def design(self) -> pd.DataFrame:
        """Point → factor values."""
        return self._csv("design.csv", index_col="point")

    @property
    def summary(self) -> pd.DataFrame:
        """Per point: the KPI's mean and 95 % interval, every other KPI's mean."""
        return self._csv("summary.csv")

    @property
    def sensitivity(self) -> pd.DataFrame:
        """Sobol indices (sobol design) or standardised regression coefficients (grid, lhs)."""
        return self._csv("sensitivity.csv")

    @property
    def robustness(self) -> pd.DataFrame:
        """With ``compare``: each scenario's paired gain summarised over the points."""
        return self._csv("robustness_summary.csv")

    def records(self) -> pd.DataFrame:
        """Every record row of every point and scenario (``point`` and ``arm`` columns added)."""
        from sim.sweep.folder import read_points

        return read_points(self.folder)[1]
