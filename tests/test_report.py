"""The planner's report: figures that name scenarios in the chosen language, a valid page that says what it means,
and no change to the caller's Matplotlib."""

from __future__ import annotations

import html
import io
import re
import tomllib
import warnings
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from sim.analysis.compare import HEADLINE, Comparison, compare
from sim.analysis.figures import save_figure, wrap
from sim.analysis.kpi import display_width
from sim.analysis.page import caveat, render_html, summary_sentences
from sim.analysis.report import (
    BOTTLENECKS,
    FIGURES,
    STAGES,
    fig_bottlenecks,
    fig_cost,
    fig_fans,
    fig_forest,
    fig_funnel,
    names,
    short_names,
    write_report,
)
from sim.derived import derive
from sim.scenario import load_scenario
from tests.conftest import BASELINE, ROOT

SCEN = ROOT / "scenarios"
PICKED = ("g2_platforms", "g4_intermediaries", "eq_intermediaries", "eq_talent")  # eq_talent scaled: no clear gain
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def comp() -> Comparison:
    """A small comparison, built once: four scenarios (one with no clear gain), 12 replications.

    The talent variant enters at a tenth of its size (sim.derive), an effect too small for 12 replications to
    show: the fixture needs one scenario without a clear gain, and at full size it shows one.
    """
    arms = [(load_scenario(SCEN / f"{s}.toml"), s) for s in PICKED]
    talent = arms[-1][0]
    arms[-1] = (derive(talent, id=talent.id, scale={lv.id: 0.1 for lv in talent.levers}), arms[-1][1])
    return compare(load_scenario(BASELINE), arms, reps=12, seed=0)


def texts(fig: Figure) -> list[str]:
    """Every visible text of a figure, tick labels included."""
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


def scenario_axes_labels(fig: Figure) -> list[list[str]]:
    """The y tick labels of every axes that has any (the scenario rows)."""
    out = []
    for ax in fig.axes:
        labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
        if labels and not all(re.fullmatch(r"[−\-\d.,]+", x) for x in labels):
            out.append(labels)
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_figure_names_scenarios_in_the_chosen_language(comp: Comparison, lang: str) -> None:
    short = short_names(comp, lang)
    other = short_names(comp, "zh" if lang == "en" else "en")
    ids = list(PICKED) + (["baseline"] if lang == "zh" else [])  # in English "baseline" is also a word
    for name, fn in FIGURES.items():
        fig = fn(comp, lang)
        assert isinstance(fig, Figure), name
        words = texts(fig)
        joined = "\n".join(words)
        for sid in ids:  # no id anywhere, e.g. "g4_intermediaries"
            assert sid not in joined, (name, sid)
        for sid in PICKED:
            assert short[sid] in words, (name, lang, sid)
            if short[sid] != other[sid]:
                assert other[sid] not in words, (name, lang, sid)
        title = fig.get_suptitle()
        assert bool(HAN.search(title)) == (lang == "zh"), (name, title)


def test_figures_draw_one_row_or_panel_per_scenario(comp: Comparison) -> None:
    n = len(PICKED)
    order = [short_names(comp)[s] for s in comp.ranking["scenario"]]
    for fn, panels in ((fig_forest, 2), (fig_funnel, 4)):
        fig = fn(comp)
        rows = scenario_axes_labels(fig)
        assert rows == [order], fn.__name__  # shared y: labelled once, best first
        assert len(fig.axes) == panels
    assert len(scenario_axes_labels(fig_cost(comp))[0]) == n
    bottle = scenario_axes_labels(fig_bottlenecks(comp))
    assert len(bottle) == 2 and all(len(r) == n + 1 for r in bottle)  # the baseline first, then every scenario
    assert bottle[0][0] == short_names(comp)[comp.baseline.scenario.id]
    fans = fig_fans(comp)
    assert sorted(ax.get_title() for ax in fans.axes if ax.get_title()) == sorted(order)


def test_bottleneck_figure_tells_scenarios_apart(comp: Comparison) -> None:
    """More brokers (group 4) turn fewer results away than the baseline; the pilot bases (group 2) cut the wait."""
    f = {a.scenario.id: a.frame() for a in [comp.baseline, *comp.arms]}
    assert f["g4_intermediaries"]["broker_turned_away"].mean() < 0.5 * f["baseline"]["broker_turned_away"].mean()
    assert f["g2_platforms"]["wait_pilot"].mean() < 0.8 * f["baseline"]["wait_pilot"].mean()


def dots(fig: Figure) -> list[dict[int, float]]:
    """Per axes of a dot-row figure: row → x of the dot (the mean) drawn on that row."""
    return [{int(round(ln.get_ydata()[0])): float(ln.get_xdata()[0]) for ln in ax.get_lines() if ln.get_marker() == "o"}
            for ax in fig.axes]


def test_each_dot_sits_on_its_scenarios_row_at_its_value(comp: Comparison) -> None:
    """The labels are only half a dot chart: on the forest and the funnel the dot of row i is the paired difference
    of the i-th scenario of the ranking (rate in percentage points), every scenario drawn; on the bottleneck panels
    row 0 is the baseline's mean and then each scenario's, in the panel's unit (months, %)."""
    order = list(comp.ranking["scenario"])
    s = comp.summary.set_index(["scenario", "kpi"])["diff"]
    panels = [(HEADLINE, 1.0), ("rate_overall", 100.0)], [(key, 1.0) for key, _, _ in STAGES]
    for fn, keys in zip((fig_forest, fig_funnel), panels, strict=True):
        got = dots(fn(comp))
        assert len(got) == len(keys), fn.__name__
        for drawn, (key, scale) in zip(got, keys, strict=True):
            want = {i: s[(sid, key)] * scale for i, sid in enumerate(order) if np.isfinite(s[(sid, key)])}
            assert len(want) == len(order), (fn.__name__, key)  # every difference is finite here
            assert drawn == pytest.approx(want), (fn.__name__, key)
    arms = {a.scenario.id: a for a in [comp.baseline, *comp.arms]}
    rows = [comp.baseline.scenario.id, *order]
    got = dots(fig_bottlenecks(comp))
    assert len(got) == len(BOTTLENECKS)
    for drawn, (key, scale, *_) in zip(got, BOTTLENECKS, strict=True):
        means = [float(arms[sid].frame()[key].mean()) * scale for sid in rows]
        assert drawn == pytest.approx({i: m for i, m in enumerate(means) if np.isfinite(m)}), key


def test_cost_figure_ranks_gains_by_cost_per_extra_project(comp: Comparison) -> None:
    head = comp.summary[comp.summary.kpi == HEADLINE].set_index("scenario")
    per = head["cost_per_extra_industrialisation_myuan"]
    expected = list(per.dropna().sort_values().index) + list(per[per.isna()].index)
    labels = scenario_axes_labels(fig_cost(comp))[0]
    full = short_names(comp, width=44)
    assert labels == [full[s] for s in expected]


@pytest.mark.slow
def test_figures_leave_matplotlib_as_the_caller_had_it(comp: Comparison, tmp_path: Path) -> None:
    backend = matplotlib.get_backend()  # resolves a lazy default first, so the copy below is the real state
    before = dict(matplotlib.rcParams)
    figs = [fn(comp, lang) for fn in FIGURES.values() for lang in ("en", "zh")]
    write_report(comp, tmp_path / "r", "zh")
    assert matplotlib.get_backend() == backend
    assert dict(matplotlib.rcParams) == before
    # and a figure renders its Chinese outside the report's settings (the font is pinned on every text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with matplotlib.rc_context({"font.family": ["DejaVu Sans"]}):
            buf = io.BytesIO()
            figs[-1].savefig(buf, format="png")
    assert buf.getvalue()[:4] == b"\x89PNG"
    save_figure(figs[0], tmp_path / "f.png")
    assert dict(matplotlib.rcParams) == before


class _Checker(HTMLParser):
    """Collects the visible text and checks that every element is closed in order."""

    VOID = frozenset({"meta", "img", "br", "link", "hr", "input"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []
        self.imgs = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.imgs += 1
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] not in ("style", "script"):
            self.text.append(data)


def parse(page: str) -> _Checker:
    p = _Checker()
    p.feed(page)
    p.close()
    assert page.startswith("<!doctype html>")
    assert not p.errors and not p.stack, (p.errors, p.stack)
    return p


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_is_valid_and_reads_summary_ranking_then_how_sure(comp: Comparison, lang: str) -> None:
    page = render_html(comp, lang, {"forest.png": b"\x89PNG", "funnel.png": b"\x89PNG"}, embed_font=False)
    p = parse(page)
    text = re.sub(r"\s+", " ", " ".join(p.text))
    assert p.imgs == 2 and f'<html lang="{lang}">' in page
    sentences = summary_sentences(comp, lang)
    for s in [*sentences, caveat(comp, lang)]:
        assert re.sub(r"\s+", " ", s) in text
    # the caveat belongs to the one "how sure" section, after the ranking it qualifies
    assert text.index(sentences[0]) < text.index("排名" if lang == "zh" else "Ranking") < text.index(
        caveat(comp, lang))
    nm = names(comp, lang)
    other = names(comp, "zh" if lang == "en" else "en")
    for sid in [comp.baseline.scenario.id, *PICKED]:
        assert nm[sid] in text and other[sid] not in text
        assert sid not in text or (sid == "baseline" and lang == "en"), sid


def test_summary_and_verdicts_say_gain_only_when_the_interval_is_above_zero(comp: Comparison) -> None:
    head = comp.summary[comp.summary.kpi == HEADLINE].set_index("scenario")
    gains = int(head["gain"].sum())
    assert 0 < gains < len(PICKED), "the fixture should hold a gain and a scenario without a clear one"
    summ = " ".join(summary_sentences(comp, "en"))
    assert f"{gains} of the {len(PICKED)} scenarios add projects beyond doubt" in summ
    unclear = [names(comp)[s] for s in head.index if not head.loc[s, "gain"]]
    assert "No clear gain" in summ and all(n in summ for n in unclear)
    assert "Monte Carlo noise" in summ and "default parameters" in summ
    cheapest = head["cost_per_extra_industrialisation_myuan"].idxmin()
    assert f"lowest for “{names(comp)[cheapest]}”" in summ
    p = parse(render_html(comp, "en", {}, embed_font=False))
    rows = " ".join(p.text)
    for sid, r in head.iterrows():  # P(better) above 0.975 exactly when the whole interval is above zero
        assert (r["p_beat"] > 0.975) == bool(r["gain"]) == (r["lo"] > 0), sid
    assert rows.count("no clear gain") >= len(unclear)
    zh = " ".join(summary_sentences(comp, "zh"))
    assert "蒙特卡洛" in zh and "无明确改善" in zh and not re.search(r"[a-z]{4,}", zh.replace("MODEL", ""))


def test_report_folder_holds_named_figures_tables_and_a_page_with_its_own_font(comp: Comparison,
                                                                              tmp_path: Path) -> None:
    out = write_report(comp, tmp_path / "zh", "zh")
    for f in FIGURES:
        assert (out / f).read_bytes()[:4] == b"\x89PNG"
    page = (out / "report.html").read_text(encoding="utf-8")
    p = parse(page)
    assert p.imgs == len(FIGURES)
    assert "@font-face" in page and "data:font/otf;base64," in page  # Chinese renders without a system font
    assert "结论摘要" in page and "区间涵盖什么" in page and "gain" not in " ".join(p.text)
    assert html.escape(names(comp, "zh")["g4_intermediaries"]) in page


def test_the_template_ships_inside_the_package() -> None:
    assert (resources.files("sim.analysis") / "templates" / "report.html.j2").is_file()
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "templates/*.j2" in meta["tool"]["setuptools"]["package-data"]["sim.analysis"]
    assert any(d.startswith("jinja2") for d in meta["project"]["dependencies"])


def test_wrap_counts_chinese_as_two_columns() -> None:
    for text, width in (("(四)完善中介服务体系:技术经纪人、技术转移机构、专业推介活动、知识产权保护", 20),
                        ("(4) Intermediaries and IP: brokers, transfer agencies, promotion events", 24)):
        lines = wrap(text, width).split("\n")
        assert len(lines) > 1 and all(display_width(x) <= width for x in lines)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert np.isclose(len(wrap("abc def", 3).split("\n")), 2)


def test_sweep_and_calibration_figures_leave_matplotlib_alone(tmp_path: Path) -> None:
    """The sweep's figures use the same builder: Figure objects, no pyplot, rcParams as they were."""
    import pandas as pd

    from sim.sweep import analysis as sweep_analysis
    from sim.sweep import calibrate, load_sweep

    spec = tmp_path / "s.toml"
    spec.write_text(f'[sweep]\nid = "t"\nname_en = "t"\nname_zh = "测试"\nscenario = "{BASELINE.as_posix()}"\n'
                    f'design = "grid"\nreps = 2\nkpi = "industrialised"\n'
                    f'compare = ["{(SCEN / "g4_intermediaries.toml").as_posix()}"]\n'
                    '[[factors]]\nparam = "meeting.brokers"\nvalues = [4.0, 8.0]\n', encoding="utf-8")
    sw = load_sweep(spec)
    backend = matplotlib.get_backend()
    before = dict(matplotlib.rcParams)
    summ = pd.DataFrame({"meeting.brokers": [4.0, 8.0], "industrialised_mean": [40.0, 50.0],
                         "industrialised_low95": [38.0, 48.0], "industrialised_high95": [42.0, 52.0]})
    per_point = pd.DataFrame({"point": [0, 1], "scenario": ["g4_intermediaries"] * 2, "diff_mean": [9.0, 12.0]})
    rob = pd.DataFrame({"scenario": ["g4_intermediaries"]})
    scored = summ.assign(accepted=[True, False])
    figs = [sweep_analysis.figure(sw, summ), sweep_analysis.robustness_figure(sw, per_point, rob),
            calibrate.figure(sw, scored)]
    assert all(isinstance(f, Figure) for f in figs)
    assert matplotlib.get_backend() == backend and dict(matplotlib.rcParams) == before
    labels = " ".join(texts(figs[1]))
    assert "g4_intermediaries" not in labels and "(四)完善中介服务体系" in labels


def test_figures_and_page_survive_a_scenario_that_changes_nothing(baseline) -> None:  # type: ignore[no-untyped-def]
    """No gain anywhere, a difference that never varies (no interval) and no public pilot base: nothing breaks."""
    from tests.conftest import lever, variant

    same = variant(baseline, levers=[lever("pilot.public_slots", "add", 0.0)])
    none = variant(baseline, params={"pilot": {"public_slots": 0.0}})
    same.scenario.id, none.scenario.id = "no_change", "no_slots"
    c = compare(baseline, [(same, "a"), (none, "b")], reps=3, seed=0)
    for fn in FIGURES.values():
        for lang in ("en", "zh"):
            assert isinstance(fn(c, lang), Figure)
    summ = " ".join(summary_sentences(c))
    assert "0 of the 2 scenarios add projects beyond doubt" in summ and "Most:" not in summ
    parse(render_html(c, "zh", {}, embed_font=False))
