"""The page: one :class:`Explorer` per browser session (or notebook cell), built with Panel.

The page has a side panel (budget and the mix's yearly cost, the run's
controls and progress) and five tabs: the mix builder, the results, the
assumptions, the optimiser and the downloads. Its state lives in plain
objects (:class:`~sim.explore.mix.Mix`, :class:`~sim.explore.run.Runner`,
:class:`~sim.explore.optimiser.Optimiser`); the widgets only edit and show
them, and a periodic callback in the session's own thread brings the
background runs' progress and answers onto the page.
"""

from __future__ import annotations

import html
import io
import itertools
import shutil
import uuid
import zipfile
from pathlib import Path
from typing import Any

import panel as pn

from sim.explore import backend as be
from sim.explore.engine import ENGINE
from sim.explore.i18n import t
from sim.explore.jobs import shared_queue
from sim.explore.mix import Catalogue, Mix, mix_names
from sim.explore.optimiser import Optimiser
from sim.explore.results import headline, headline_html
from sim.explore.run import Runner

#: Mixes kept side by side with the current one.
MAX_KEPT = 3
POLL_MS = 200
CSS = """
.convsim-headline {border-collapse: collapse; font-size: 14px}
.convsim-headline th, .convsim-headline td {border: 1px solid #ccc; padding: 4px 8px; text-align: right}
.convsim-headline td:first-child {text-align: left}
.convsim-costs td, .convsim-costs th {padding: 2px 6px; text-align: right}
.convsim-over {color: #b00020; font-weight: bold}
.convsim-warn {color: #b06000}
"""
_SESSIONS = itertools.count(1)


class Explorer:
    """One planner's page: the mix, its runs, the optimiser, the downloads."""

    def __init__(self, lang: str = "zh", scenario_dir: Path | None = None, out_dir: Path | None = None) -> None:
        self.lang = lang
        self.catalogue = Catalogue(scenario_dir or be.default_scenario_dir())
        self.session = f"s{next(_SESSIONS)}-{uuid.uuid4().hex[:6]}"
        self.out_dir = (out_dir or Path("runs") / "explore").resolve()
        self.mix = Mix(self.catalogue)
        self.kept: list[Mix] = []
        self.queue = shared_queue()
        self.runner = Runner(self.queue, self.session)
        self.optimiser = Optimiser(self.queue, self.catalogue, self.out_dir, self.session)
        self.last_names: dict[str, str] = {}
        self._shown_version = -1
        self._shown_opt = -1
        self.message = pn.pane.Alert("", alert_type="danger", visible=False, css_classes=["convsim-message"])
        self.root = pn.Column(sizing_mode="stretch_width", css_classes=["convsim-root"])
        self._build()
        ENGINE.prepare(self.queue, self.catalogue.baseline)

    # -- layout ----------------------------------------------------------------------------------------
    def _build(self) -> None:
        L = self.lang
        self.lang_select = pn.widgets.RadioButtonGroup(options={"中文": "zh", "English": "en"}, value=L,
                                                       css_classes=["convsim-lang"])
        self.lang_select.param.watch(lambda e: self.set_lang(e.new), "value")
        self.engine_note = pn.pane.Markdown("", css_classes=["convsim-engine"])
        header = pn.Row(pn.pane.Markdown(f"## {t('title', L)}\n{t('subtitle', L)}  \n"
                                         f"<small>{t('model_version', L, v=be.model_version())}</small>"),
                        pn.Spacer(), self.lang_select, sizing_mode="stretch_width")
        self.tabs = pn.Tabs((t("tab_build", L), self._builder()), (t("tab_results", L), self._results_view()),
                            (t("tab_assumptions", L), self._assumptions_view()),
                            (t("tab_optimise", L), self._optimiser_view()),
                            (t("tab_download", L), self._downloads_view()), dynamic=True,
                            sizing_mode="stretch_width")
        self.root.objects = [header,
                             self.engine_note, self.message,
                             pn.Row(self._side_panel(), self.tabs, sizing_mode="stretch_width")]
        self._shown_version = -1
        self._shown_opt = -1
        self._refresh_costs()

    def set_lang(self, lang: str) -> None:
        """Show the page in another language; the mix, the runs and the answers stay."""
        if lang == self.lang:
            return
        self.lang = lang
        active = self.tabs.active
        self._build()
        self.tabs.active = active
        snap = self.runner.snapshot()
        if snap.result is not None:  # the figures are drawn again in the new language
            self._show_result(snap, redraw=True)

    def _side_panel(self) -> pn.Column:
        L = self.lang
        self.budget = pn.widgets.FloatInput(label=t("budget", L), value=300.0, start=0.0, step=10.0, width=220,
                                            css_classes=["convsim-budget"])
        self.budget.param.watch(lambda e: self._refresh_costs(), "value")
        self.costs = pn.pane.HTML("", css_classes=["convsim-costs"], stylesheets=[CSS])
        self.reps = pn.widgets.IntInput(label=t("reps", L), value=1000, start=2, end=100_000, step=100, width=220,
                                        css_classes=["convsim-reps"])
        self.seed = pn.widgets.IntInput(label=t("seed", L), value=0, start=0, end=2**32 - 1, width=220,
                                        css_classes=["convsim-seed"])
        self.worlds_on = pn.widgets.Checkbox(label=t("worlds", L), value=False, css_classes=["convsim-worlds"])
        self.n_worlds = pn.widgets.IntInput(label=t("n_worlds", L), value=40, start=2, end=10_000, width=220)
        for w in (self.reps, self.seed, self.worlds_on, self.n_worlds):
            w.param.watch(lambda e: self.control_changed(), "value")
        self.run_button = pn.widgets.Button(label=t("run", L), color="primary", width=220,
                                            css_classes=["convsim-run"])
        self.run_button.on_click(lambda e: self.run())
        self.cancel_button = pn.widgets.Button(label=t("cancel", L), width=220, css_classes=["convsim-cancel"])
        self.cancel_button.on_click(lambda e: self.runner.cancel())
        self.progress = pn.indicators.Progress(value=0, max=1000, width=220, bar_color="primary",
                                               css_classes=["convsim-progress"])
        self.status = pn.pane.Markdown(t("status_idle", L), css_classes=["convsim-status"], width=220)
        self.keep_button = pn.widgets.Button(label=t("keep", L), width=220, css_classes=["convsim-keep"])
        self.keep_button.on_click(lambda e: self.keep())
        self.clear_button = pn.widgets.Button(label=t("clear_kept", L), width=220)
        self.clear_button.on_click(lambda e: self.clear_kept())
        self.kept_note = pn.pane.Markdown("", width=220)
        self._refresh_kept()
        return pn.Column(self.budget, self.costs, pn.layout.Divider(), self.reps, self.seed, self.worlds_on,
                         self.n_worlds, self.run_button, self.cancel_button, self.progress, self.status,
                         pn.layout.Divider(), self.keep_button, self.clear_button, self.kept_note, width=250)

    def _builder(self) -> pn.Column:
        L = self.lang
        shipped = {p.stem: p for p in self.catalogue.shipped()}
        self.start_select = pn.widgets.Select(label=t("start_from", L), options=list(shipped), value="baseline",
                                              width=260, css_classes=["convsim-start"])
        load = pn.widgets.Button(label=t("load", L), width=90, align="end", css_classes=["convsim-load"])
        load.on_click(lambda e: self.load_file(shipped[self.start_select.value]))
        self.upload = pn.widgets.FileInput(accept=".toml", css_classes=["convsim-upload"])
        self.upload.param.watch(lambda e: self.load_upload(self.upload.filename or "upload.toml", e.new), "value")
        self.measures = pn.Column(sizing_mode="stretch_width")
        self._fill_measures()
        return pn.Column(pn.Row(self.start_select, load, pn.Column(pn.pane.Markdown(t("upload", L), margin=(0, 5)),
                                                                    self.upload)),
                         self.measures, sizing_mode="stretch_width")

    def _fill_measures(self) -> None:
        L = self.lang
        self._size_panes: dict[str, pn.pane.HTML] = {}
        cards: list[Any] = []
        for gi, g in enumerate(be.LEVER_GROUPS, start=1):
            rows = []
            for m in self.catalogue.group(g):
                lv, s = m.lever, self.mix.setting(m.id)
                name = f"{lv.name_zh} · {lv.name_en}" if L == "zh" else f"{lv.name_en} · {lv.name_zh}"
                box = pn.widgets.Checkbox(label=f"{name} [{lv.report_ref}]", value=s.on, width=520,
                                          css_classes=["convsim-lever", f"convsim-lever-{m.id}"])
                row = pn.Row(box, sizing_mode="stretch_width")
                box.param.watch(lambda e, i=m.id, r=row: self._switch(i, r, e.new), "value")
                if s.on:
                    row.extend(self._lever_controls(m.id))
                rows.append(row)
            cards.append(pn.Card(*rows, title=t(f"group_{gi}", L), collapsed=False, sizing_mode="stretch_width"))
        extra = [f"`{lv.id}`" for lv in self.mix.extra]
        if extra:
            cards.append(pn.pane.Markdown(("文件中的其他措施(保持不变):" if L == "zh" else
                                           "Other levers of the loaded file (kept as they are): ") + ", ".join(extra)))
        self.measures.objects = cards

    def _lever_controls(self, lever_id: str) -> list[Any]:
        """Intensity and start year of a measure that is on (built only then: a page of every measure's
        controls takes seconds to build)."""
        L, m = self.lang, self.catalogue.by_id[lever_id]
        s = self.mix.setting(lever_id)
        k = pn.widgets.FloatSlider(label=t("intensity", L), start=0.0, end=max(m.k_max, m.k_step), step=m.k_step,
                                   value=s.intensity, width=200, css_classes=[f"convsim-k-{lever_id}"])
        years = list(range(self.catalogue.first_year, self.catalogue.last_year + 1))
        start = s.start_year if s.start_year is not None else (m.lever.start_year or self.catalogue.first_year)
        y = pn.widgets.Select(label=t("start_year", L), options=years, value=start, width=90,
                              css_classes=[f"convsim-year-{lever_id}"])
        k.param.watch(lambda e: self.edit(lever_id, intensity=e.new), "value")
        y.param.watch(lambda e: self.edit(lever_id, start_year=e.new), "value")
        size = pn.pane.HTML(self._size_html(lever_id), css_classes=[f"convsim-size-{lever_id}"], width=260)
        self._size_panes[lever_id] = size
        return [k, y, size]

    def _sized(self, lever_id: str) -> be.Lever:
        """The lever as the mix runs it (intensity and the planner's effect applied), else as shipped."""
        try:
            return next(lv for lv in self.mix.levers() if lv.id == lever_id)
        except (be.InputError, StopIteration):
            return self.catalogue.by_id[lever_id].lever

    def _size_html(self, lever_id: str) -> str:
        """What a measure does at the size it has ("technology brokers: 4 more (8 → 12)")."""
        return f"<small>{html.escape(be.size_text(self._sized(lever_id), self.mix.params_or_default(), self.lang))}" \
               "</small>"

    def _switch(self, lever_id: str, row: pn.Row, on: bool) -> None:
        self.edit(lever_id, on=on)
        row.objects = [row.objects[0], *(self._lever_controls(lever_id) if on else [])]

    def _results_view(self) -> pn.Column:
        self.answer = pn.pane.HTML("", css_classes=["convsim-answer"], sizing_mode="stretch_width",
                                   stylesheets=[CSS])
        self.answer_note = pn.pane.Markdown("", css_classes=["convsim-answer-note"])
        self.figures = pn.Tabs(dynamic=False, sizing_mode="stretch_width")
        # one "how sure" section, after the ranking it qualifies: what the intervals cover, and the worlds
        self.sure_note = pn.pane.Markdown(t("sure_none", self.lang), css_classes=["convsim-sure"])
        self.sure_figure = pn.Column(sizing_mode="stretch_width")
        return pn.Column(pn.pane.Markdown(f"### {t('headline', self.lang)}"), self.answer, self.answer_note,
                         pn.pane.Markdown(f"### {t('sure_title', self.lang)}"), self.sure_note, self.sure_figure,
                         self.figures, sizing_mode="stretch_width")

    def _assumptions_view(self) -> pn.Column:
        self.assumptions = pn.Column(sizing_mode="stretch_width")
        self.voi = pn.Column(pn.pane.Markdown(t("voi_none", self.lang)), sizing_mode="stretch_width")
        self._fill_assumptions()
        return pn.Column(self.assumptions, pn.pane.Markdown(f"### {t('voi_title', self.lang)}"), self.voi,
                         sizing_mode="stretch_width")

    def _fill_assumptions(self) -> None:
        L = self.lang
        rows: list[Any] = []
        for lid in self.mix.on:
            lv, s = self.catalogue.by_id[lid].lever, self.mix.setting(lid)
            name = lv.name_zh if L == "zh" else lv.name_en
            value = pn.widgets.FloatInput(label=t("your_value", L), value=s.effect if s.effect is not None
                                          else lv.value, width=140, css_classes=[f"convsim-effect-{lid}"])
            value.param.watch(lambda e, i=lid: self.edit(i, effect=e.new), "value")
            flag = f" <span class='convsim-over'>⚠ {t('outside', L)}</span>" if self.mix.outside_range(lid) else ""
            what = html.escape(be.size_text(self._sized(lid), self.mix.params_or_default(), L))
            text = (f"**{name}** [{lv.report_ref}] — {what} <small><code>{lv.param} {lv.mode}</code></small>  \n"
                    f"{t('stated', L)}: {lv.value:g}; {t('range', L)}: {lv.effect_low:g}–{lv.effect_high:g}{flag}  \n"
                    f"{t('source', L)}: {lv.effect_source}")
            rows.append(pn.Row(pn.pane.Markdown(text, sizing_mode="stretch_width", stylesheets=[CSS],
                                                css_classes=[f"convsim-assumption-{lid}"]), value,
                               sizing_mode="stretch_width"))
        self.assumptions.objects = rows or [pn.pane.Markdown(t("no_assumptions", L))]

    def _optimiser_view(self) -> pn.Column:
        L = self.lang
        self.opt_trials = pn.widgets.IntInput(label=t("opt_trials", L), value=40, start=5, end=2000, width=160,
                                              css_classes=["convsim-opt-trials"])
        self.opt_reps = pn.widgets.IntInput(label=t("opt_reps", L), value=90, start=9, end=100_000, width=160,
                                            css_classes=["convsim-opt-reps"])
        self.opt_frontier = pn.widgets.TextInput(label=t("opt_frontier", L), value="", width=300)
        go = pn.widgets.Button(label=t("opt_run", L), color="primary", css_classes=["convsim-opt-run"])
        go.on_click(lambda e: self.optimise())
        self.opt_status = pn.pane.Markdown("", css_classes=["convsim-opt-status"])
        self.opt_result = pn.Column(sizing_mode="stretch_width")
        note = t("opt_no_cancel", L)
        stop = pn.widgets.Button(label=t("opt_stop", L), css_classes=["convsim-opt-stop"])
        stop.on_click(lambda e: self.optimiser.cancel())
        return pn.Column(pn.pane.Markdown(f"{t('opt_intro', L)}  \n<small>{note}</small>"),
                         pn.Row(self.opt_trials, self.opt_reps, self.opt_frontier), pn.Row(go, stop), self.opt_status,
                         self.opt_result, sizing_mode="stretch_width")

    def _downloads_view(self) -> pn.Column:
        L = self.lang
        mix_dl = pn.widgets.FileDownload(callback=self._mix_file, filename="mix.toml", label=t("dl_mix", L),
                                         color="primary", css_classes=["convsim-dl-mix"], width=400)
        self.report_dl = pn.widgets.FileDownload(callback=self._report_file, filename="convsim-report.zip",
                                                 label=t("dl_report", L), css_classes=["convsim-dl-report"],
                                                 width=400)
        self.summary_dl = pn.widgets.FileDownload(callback=lambda: self._csv("summary"), filename="summary.csv",
                                                  label=t("dl_summary", L), width=400,
                                                  css_classes=["convsim-dl-summary"])
        self.details_dl = pn.widgets.FileDownload(callback=lambda: self._csv("details"), filename="details.csv",
                                                  label=t("dl_details", L), width=400)
        self.dl_note = pn.pane.Markdown(t("dl_need_run", L))
        return pn.Column(mix_dl, self.dl_note, self.report_dl, self.summary_dl, self.details_dl)

    # -- state changes ---------------------------------------------------------------------------------
    def say(self, text: str) -> None:
        """Show a message (an error in the page's language); empty hides it."""
        self.message.object = text
        self.message.visible = bool(text)

    def control_changed(self) -> None:
        """Any control changed: the run under way no longer answers the question on the page."""
        self.runner.cancel()

    def edit(self, lever_id: str, **changes: Any) -> None:
        self.mix.set(lever_id, **changes)
        self.control_changed()
        self.say("")
        self._refresh_costs()
        if lever_id in self._size_panes:
            self._size_panes[lever_id].object = self._size_html(lever_id)
        if "on" in changes or "effect" in changes:
            self._fill_assumptions()

    def _refresh_costs(self) -> None:
        L = self.lang
        try:
            costs = self.mix.yearly_costs()
        except be.InputError as exc:
            self.costs.object = f"<p class='convsim-over'>{t('error', L, msg=exc)}</p>"
            return
        budget = (self.budget.value or 0.0) * 1e4
        rows = "".join(f"<tr><td>{y}</td><td class='{'convsim-over' if c > budget * (1 + 1e-9) else ''}'>"
                       f"{c / 1e4:,.1f}</td></tr>" for y, c in costs.items())
        over = any(c > budget * (1 + 1e-9) for c in costs.values())
        verdict = (f"<span class='convsim-over'>{t('over_budget', L)}</span>" if over else t("within_budget", L))
        self.costs.object = (f"<table class='convsim-costs'><tr><th>{t('year', L)}</th><th>{t('cost_year', L)}</th>"
                             f"</tr>{rows}</table><p>{verdict}</p>")

    def load_file(self, path: Path) -> None:
        try:
            sc = be.load_scenario(path)
        except be.InputError as exc:
            self.say(t("error", self.lang, msg=exc))
            return
        self._load(sc, path.name)

    def load_upload(self, filename: str, data: bytes | None) -> None:
        """An uploaded scenario file: checked in full before it replaces the mix; the server never stops."""
        if not data:
            return
        folder = self.out_dir / "uploads" / self.session
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / Path(filename).name
        path.write_bytes(data)
        try:
            sc = be.load_uploaded(path, self.catalogue.scenario_dir)
            be.check_table(sc)
        except be.InputError as exc:
            self.say(t("error", self.lang, msg=exc))
            return
        except Exception as exc:  # anything else a broken file triggers is still the file's fault
            self.say(t("error", self.lang, msg=f"{Path(filename).name}: {type(exc).__name__}: {exc}"))
            return
        self._load(sc, Path(filename).name)

    def _load(self, sc: be.Scenario, name: str) -> None:
        self.control_changed()
        self.mix = Mix.from_scenario(self.catalogue, sc)
        self._fill_measures()
        self._fill_assumptions()
        self._refresh_costs()
        self.message.alert_type = "success"
        self.say(t("loaded", self.lang, name=name))
        self.message.alert_type = "success"

    def keep(self) -> None:
        if len(self.kept) >= MAX_KEPT:
            self.kept.pop(0)
        self.kept.append(self.mix.copy())
        self._refresh_kept()

    def clear_kept(self) -> None:
        self.kept = []
        self._refresh_kept()

    def _refresh_kept(self) -> None:
        if self.kept:
            self.kept_note.object = f"**{t('kept', self.lang)}**: " + ", ".join(
                f"mix_{i}" for i in range(1, len(self.kept) + 1))
        else:
            self.kept_note.object = ""

    def mixes(self) -> list[be.Scenario]:
        """The scenarios of a run: the kept mixes (mix_1 …) and the current one (mix)."""
        out = [m.scenario(f"mix_{i}") for i, m in enumerate(self.kept, start=1) if m.on or m.extra]
        out.append(self.mix.scenario("mix"))
        return out

    def run(self) -> None:
        """Start the comparison of the mixes with the baseline (the run under way is cancelled)."""
        self.message.alert_type = "danger"
        if not self.mix.on and not self.mix.extra:
            self.say(t("no_measure", self.lang))
            return
        try:
            mixes = self.mixes()
        except be.InputError as exc:
            self.say(t("error", self.lang, msg=exc))
            return
        self.say("")
        self.runner.start(self.catalogue.baseline, mixes, target=int(self.reps.value or 200),
                          seed=int(self.seed.value or 0), worlds=int(self.n_worlds.value or 2) if self.worlds_on.value
                          else 0, figures=be.FIGURES, lang=self.lang)
        self.poll()

    def optimise(self) -> None:
        self.message.alert_type = "danger"
        try:
            text = (self.opt_frontier.value or "").replace("，", ",")
            frontier = [float(x) * 1e4 for x in text.split(",") if x.strip()]
        except ValueError:
            self.say(t("error", self.lang, msg=f"{t('opt_frontier', self.lang)}: {self.opt_frontier.value!r}"))
            return
        self.say("")
        self.optimiser.start((self.budget.value or 0.0) * 1e4, int(self.opt_trials.value or 40),
                             int(self.opt_reps.value or 90),
                             seed=int(self.seed.value or 0), frontier=frontier)
        self.poll()

    # -- the session's periodic look at the background jobs ---------------------------------------------
    def poll(self) -> None:
        L = self.lang
        if ENGINE.ready or ENGINE.started is None:
            self.engine_note.object = ""
        elif ENGINE.error:
            self.engine_note.object = t("error", L, msg=ENGINE.error)
        else:
            self.engine_note.object = f"{t('engine_preparing', L, s=ENGINE.elapsed())}"
        snap = self.runner.snapshot()
        self.progress.value = int(1000 * snap.fraction)
        if snap.status == "waiting" and not ENGINE.ready and not ENGINE.error:
            self.status.object = f"{t('engine_preparing', L, s=ENGINE.elapsed())}"
        elif snap.status == "waiting":
            self.status.object = t("status_waiting", L, n=snap.ahead)
        elif snap.status == "running":
            self.status.object = t("status_running", L, i=snap.stage, k=snap.stages, reps=snap.reps)
        elif snap.status == "done":
            self.status.object = t("status_done", L, reps=snap.result_reps)
        elif snap.status == "cancelled":
            self.status.object = t("status_cancelled", L)
        elif snap.status == "failed":
            self.status.object = t("status_failed", L, msg=snap.message)
        if snap.version != self._shown_version and snap.result is not None:
            self._show_result(snap)
        self._poll_optimiser()

    def _show_result(self, snap: Any, redraw: bool = False) -> None:
        L = self.lang
        self._shown_version = snap.version
        result = snap.result
        h = headline(result)
        self.last_names = {sid: mix_names(str(sid))[self.lang == "zh"] for sid in h.index}
        self.answer.object = headline_html(h, L, self.last_names)
        w = t("with_worlds", L, n=snap.result_worlds) if snap.result_worlds else ""
        self.answer_note.object = t("answer_reps", L, reps=snap.result_reps, seed=result.comparison.seed
                                    if hasattr(result.comparison, "seed") else self.seed.value, w=w)
        figs = dict(snap.figures)
        if redraw:
            figs = {name: be.figure(result, name, L) for name in figs}
        def pane(n: str, f: Any) -> Any:
            return pn.pane.Matplotlib(f, dpi=90, tight=True, format="png", name=t(f"fig_{n}", L),
                                      sizing_mode="stretch_width", max_width=900)

        if figs:
            self.figures.objects = [pane(n, f) for n, f in figs.items() if n not in be.WORLD_FIGURES]
            self.sure_figure.objects = [pane(n, f) for n, f in figs.items() if n == "worlds"]
        self.sure_note.object = (t("sure_worlds", L, reps=snap.result_reps, n=snap.result_worlds)
                                 if snap.result_worlds else t("sure_mc", L, reps=snap.result_reps))
        voi = be.voi_table(result)
        if voi is not None and len(voi):
            self.voi.objects = [pn.pane.HTML(self._voi_html(voi.head(12)), css_classes=["convsim-voi"],
                                             stylesheets=[CSS])]
        self.dl_note.object = ""

    def _voi_html(self, voi: Any) -> str:
        """The value-of-information table: each input by its human name, the key in small print beside it."""
        L = self.lang
        levers = {m: (c.lever.name_zh, c.lever.name_en) for m, c in self.catalogue.by_id.items()}
        rows = []
        for _, r in voi.iterrows():
            human, key = be.input_name(str(r["input"]), L, levers)
            rho = r["rho_margin"]
            rows.append(f"<tr><td>{html.escape(human)} <small><code>{html.escape(key)}</code></small></td>"
                        f"<td>{'–' if rho != rho else f'{rho:+.2f}'}</td></tr>")
        return (f"<table class='convsim-headline convsim-voi-table'><thead><tr><th>{t('voi_input', L)}</th>"
                f"<th>{t('voi_rho', L)}</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")

    def _poll_optimiser(self) -> None:
        L = self.lang
        o = self.optimiser.snapshot()
        if o.status == "waiting":
            self.opt_status.object = t("opt_waiting", L, n=o.ahead)
        elif o.status == "running":
            self.opt_status.object = t("opt_running", L, s=o.elapsed, done=o.trials_done, n=o.trials)
        elif o.status == "failed":
            self.opt_status.object = t("opt_failed", L, msg=o.message)
        elif o.status == "done":
            self.opt_status.object = ""
        if o.version == self._shown_opt or o.result is None:
            return
        self._shown_opt = o.version
        r = o.result
        kpi = t("d_ind", L) if r["kpi"] == "industrialised" else r["kpi"]
        lines = [f"**{t('opt_done', L)}** {kpi} {r['delta_mean']:+.2f} [{r['delta_lo']:+.2f}, "
                 f"{r['delta_hi']:+.2f}], ≤ {r['max_yearly_cost_yuan'] / 1e4:,.0f} "
                 f"{'万元/年' if L == 'zh' else '×10k yuan a year'}"]
        for lid, k in sorted(r.get("mix", {}).items()):
            lv = self.catalogue.by_id[lid].lever if lid in self.catalogue.by_id else None
            label = (lv.name_zh if L == "zh" else lv.name_en) if lv else lid
            size = ""
            if lv is not None:  # what the measure does at the size found, not at its shipped size
                params = self.mix.params_or_default()
                size = f" — {be.size_text(be.resized(lv, k, params), params, L)}"
            lines.append(f"- {label}: {t('intensity', L)} {k:.3g}{size}")
        if r.get("best_shipped_id"):
            lines.append(f"\nvs {r['best_shipped_id']}: {r['diff_vs_best_shipped_mean']:+.2f} "
                         f"[{r['diff_vs_best_shipped_lo']:+.2f}, {r['diff_vs_best_shipped_hi']:+.2f}]")
        load = pn.widgets.Button(label=t("opt_load", L), css_classes=["convsim-opt-load"])
        load.on_click(lambda e: self._load_best())
        items: list[Any] = [pn.pane.Markdown("\n".join(lines)), load]
        if o.frontier_png is not None and o.frontier_png.is_file():
            items.append(pn.pane.PNG(str(o.frontier_png), width=700))
        self.opt_result.objects = items

    def _load_best(self) -> None:
        o = self.optimiser.snapshot()
        if o.best_toml is not None:
            try:
                self._load(be.load_uploaded(o.best_toml, self.catalogue.scenario_dir), "best.toml")
            except be.InputError as exc:
                self.say(t("error", self.lang, msg=exc))

    # -- downloads -------------------------------------------------------------------------------------
    def _mix_file(self) -> io.BytesIO | None:
        try:
            return io.BytesIO(self.mix.toml("mix").encode("utf-8"))
        except be.InputError as exc:
            self.say(t("error", self.lang, msg=exc))
            return None

    def _result(self) -> Any:
        return self.runner.snapshot().result

    def _csv(self, which: str) -> io.BytesIO | None:
        result = self._result()
        if result is None:
            self.say(t("dl_need_run", self.lang))
            return None
        table = result.summary if which == "summary" else result.details
        return io.BytesIO(table.to_csv().encode("utf-8"))

    def _report_file(self) -> io.BytesIO | None:
        result = self._result()
        if result is None:
            self.say(t("dl_need_run", self.lang))
            return None
        folder = self.out_dir / "reports" / f"{self.session}-{uuid.uuid4().hex[:6]}"
        try:
            be.write_report(result, folder, self.lang)
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                for p in sorted(folder.rglob("*")):
                    if p.is_file():
                        z.write(p, p.relative_to(folder).as_posix())
        finally:
            shutil.rmtree(folder, ignore_errors=True)  # the zip is the download; the folder was ours
        buf.seek(0)
        return buf

    # -- Panel ---------------------------------------------------------------------------------------------
    def servable(self) -> pn.Column:
        """The page, with its periodic look at the background jobs attached to the session."""
        cb = pn.state.add_periodic_callback(self.poll, period=POLL_MS)

        def closed(ctx: Any) -> None:
            cb.stop()
            self.runner.cancel()

        pn.state.on_session_destroyed(closed)
        return self.root


def create_app(lang: str | None = None, scenario_dir: Path | None = None, out_dir: Path | None = None) -> pn.Column:
    """A new page for one session (the server calls this once per browser tab)."""
    from sim.explore.i18n import browser_lang

    asked = (pn.state.session_args or {}).get("lang", [b""])[0].decode() if pn.state.curdoc else ""
    if asked in ("zh", "en"):  # a link may name the language: http://host:port/?lang=en
        lang = asked
    if lang is None:
        headers = getattr(pn.state, "headers", None) or {}
        lang = browser_lang(headers.get("Accept-Language"))
    return Explorer(lang, scenario_dir, out_dir).servable()
