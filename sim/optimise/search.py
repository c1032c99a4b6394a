"""The search: Optuna's TPE over lever intensities under a yearly budget, with racing.

A *trial* proposes an intensity for every lever of the space; a mix that
costs more than the budget in some year is repaired (every intensity scaled
by the largest common factor that fits, whole units rounded down) before any
replication runs, so no infeasible mix is ever simulated. Replications are
spent by successive halving (Optuna's ``SuccessiveHalvingPruner``, reduction
factor 3): every mix gets ``reps / 9`` paired replications, the best third of
mixes at that rung ``reps / 3``, the best third of those all ``reps``. All
mixes run on the same replication numbers, so their rankings at a rung are
themselves paired comparisons.

The first trials are not sampled but planned (a warm start): each lever alone
at the largest intensity the budget affords (these are never pruned: they
also give the best single lever), the shipped scenarios that fit the budget,
and two greedy mixes built from the single levers' gain per yuan. TPE
(seeded, multivariate) proposes the rest, over the :data:`SCREEN` levers with
the best single gain per yuan (screening: a lever that does little alone at
the whole budget is left at 0; TPE in 21 dimensions with ≈ 200 trials would
mostly spread money thin). The study lives in a journal file (Optuna's JournalStorage), so an
interrupted search resumes where it stopped (finished trials are kept; a
trial cut short is marked failed and not counted). A resumed search is the
uninterrupted one, trial for trial — after Ctrl-C and after SIGKILL or a power
loss alike: TPE is seeded by (seed, number of finished trials, place in the
batch), so a proposal depends only on the finished trials; planned mixes are
queued one at a time in the plan's order (the one cut short first); the pruner
does not see trials cut short (:class:`FinishedOnly`). A killed process cannot
mark its trials: they stay *running* (or *waiting*) in the journal, and TPE's
constant liar (Optuna ≥ 5's default, set here explicitly) would steer every later
proposal away from those "zombies". So a search opening its journal marks every
unfinished trial failed first — it holds the folder's writer lock, so no live
process owns them — and re-evaluates the untold rest of a batch that was cut
between its tells, with the same parameters, before asking anything new
(:meth:`Search._left_by_a_kill`).

**Batches.** Trials are asked ``batch`` at a time (Optuna's ask/tell) and
evaluated side by side on the evaluator's executor (:mod:`sim.executor`),
rung by rung: every live trial of the batch runs its rung, then each, in the
order asked, reports and is judged by the pruner (which sees the finished
trials only, so not its batch mates); the survivors run the next rung; the
trials are then told in the order asked. The proposals of a batch are made
without the results of its other trials, so **the batch size is part of a
search's identity** (it is in the study's name unless it is 1, the one-at-a-time
search): the same seed and batch give the same trials, values and result on
any number of workers and on any executor; another batch size gives another
(equally valid) search. A batch ends early where a trial would need a result of
the same batch (the greedy mixes and TPE's screening need every single lever's).

With worlds (:mod:`sim.optimise.robust`) the evaluator's rungs are worlds ×
replications and its objective the mean or 10th percentile over worlds; the
search is otherwise the same.

The best few distinct mixes that survived every rung (:data:`FINALISTS`) are
then run on a second set of replication numbers (``reps … 2·reps − 1``), and the
best there is chosen: one more guard against picking a mix for its lucky noise.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna

from sim.optimise.evaluate import REDUCTION, Evaluator, rep_rungs
from sim.optimise.space import Mix, Space
from sim.scenario import Scenario

DONE = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
#: How many levers (best single gain per yuan first) TPE searches over.
SCREEN = 8
#: A lever that would get less than this share of the budget is dropped from a proposed mix (ASM: a budget
#: office does not run a measure on crumbs; it also keeps the chosen mix readable).
MIN_SHARE = 0.05
#: Grid of intensities TPE proposes for continuous levers.
STEP = 0.05
#: Mixes re-run on the selection replications before one is chosen.
FINALISTS = 5
#: Trials asked and evaluated together (see the module's docstring: part of the result's identity).
BATCH = 4
#: User attributes of a trial: the batch it was asked in (the number of that batch's first trial) and its place
BATCH_ATTR, PLACE_ATTR = "batch", "place"


@dataclass(frozen=True)
class SearchConfig:
    """What a search is asked: budget (yuan a year), replications per surviving mix (per world, with worlds),
    trials, seed, KPI."""

    budget: float
    reps: int
    trials: int
    seed: int
    kpi: str
    #: what else identifies the study (the worlds, the risk, the posterior file); empty at the stated values
    tag: str = ""
    #: trials asked and evaluated together (:data:`BATCH`); 1 is the one-at-a-time search
    batch: int = BATCH

    @property
    def study_name(self) -> str:
        size = f"-batch{self.batch}" if self.batch != 1 else ""
        return f"budget{self.budget:.0f}-{self.kpi}-seed{self.seed}-reps{self.reps}{self.tag}{size}"


@dataclass(frozen=True)
class SearchResult:
    """The outcome: the best mix, the best single lever, and what the search did."""

    best_mix: Mix
    best_score: float
    selection_score: float
    best_trial: int
    best_tag: str
    single_id: str
    single_mix: Mix
    single_score: float
    complete: int
    pruned: int
    reps_run: int


@dataclass
class _Outcome:
    """One trial of a batch: its mix's key, its scenario (None when it repeats a mix already finished or asked
    earlier in the batch), the values it reported at each step, and how it ended."""

    trial: optuna.Trial
    key: tuple[tuple[str, float], ...]
    tag: str
    scenario: Scenario | None
    steps: dict[int, float]
    value: float | None
    pruned: bool
    copy_of: _Outcome | None = None


def rungs(reps: int) -> list[tuple[int, int]]:
    """Replications at each rung (at the stated values) and the rung's step (resource units of reps / 9)."""
    return [(r.reps, r.step) for r in rep_rungs(reps)]


def _name(space: Space, lever_id: str) -> str:
    d = space.by_id[lever_id]
    return f"n_{d.id}" if d.whole else f"k_{d.id}"


def mix_key(mix: Mix) -> tuple[tuple[str, float], ...]:
    """A mix as a hashable key (levers that are on, intensities to 9 decimals)."""
    return tuple(sorted((i, round(k, 9)) for i, k in mix.items() if k > 0))


def mix_params(space: Space, mix: Mix) -> dict[str, float | int]:
    """Optuna parameters that propose ``mix`` (for planned trials)."""
    out: dict[str, float | int] = {}
    for d in space.dims:
        k = mix.get(d.id, 0.0)
        out[_name(space, d.id)] = int(round(k * d.lever.value)) if d.whole else float(k)
    return out


def shipped_mix(space: Space, sc: Scenario) -> Mix | None:
    """A shipped scenario as intensities of the space's levers, or None if it has a lever outside the space."""
    mix: Mix = {}
    for lv in sc.levers:
        d = space.by_id.get(lv.id)
        if d is None or d.lever.param != lv.param or d.lever.mode != lv.mode:
            return None
        if d.whole:
            mix[lv.id] = lv.value / d.lever.value
        else:
            mix[lv.id] = (lv.yearly_cost_yuan / d.lever.yearly_cost_yuan) ** (1.0 / (d.lever.cost_exponent or 1.0))
    return mix


def _rates(space: Space, singles: dict[str, tuple[Mix, float]]) -> dict[str, float]:
    """Gain per yuan of each single lever that gains at all."""
    rate = {}
    for lid, (mix, score) in singles.items():
        cost = space.max_yearly_cost(mix)
        if score > 0 and cost > 0:
            rate[lid] = score / cost
    return rate


def screened(space: Space, singles: dict[str, tuple[Mix, float]]) -> list[str]:
    """The levers TPE searches: the :data:`SCREEN` best by single gain per yuan, in the space's order."""
    rate = _rates(space, singles)
    keep = set(sorted(rate, key=lambda i: -rate[i])[:SCREEN])
    return [d.id for d in space.dims if d.id in keep] or [d.id for d in space.dims]


def greedy(space: Space, singles: dict[str, tuple[Mix, float]], budget: float, cap_share: float = 1.0) -> Mix:
    """Fill the budget lever by lever in order of the single levers' gain per yuan.

    Each lever takes at most its single intensity and at most ``cap_share`` of the budget.
    """
    rate = _rates(space, singles)
    left = budget
    out: Mix = {}
    for lid in sorted(rate, key=lambda i: -rate[i]):
        k = min(singles[lid][0][lid], space.single(lid, min(left, cap_share * budget))[lid])
        if k <= 0:
            continue
        out[lid] = k
        left = budget - space.max_yearly_cost(out)
    return space.repair(out, budget)


class FinishedOnly(optuna.pruners.BasePruner):
    """A pruner that sees only finished trials (and the one being judged): the rung values of a trial cut short
    by Ctrl-C, or left running by a killed process, do not count, so a resumed search prunes as an
    uninterrupted one would."""

    def __init__(self, inner: optuna.pruners.BasePruner) -> None:
        self.inner = inner

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        view = _FinishedView(study, trial.number, trial.user_attrs.get(BATCH_ATTR))
        return self.inner.prune(view, trial)  # type: ignore[arg-type]


class _FinishedView:
    """A study whose ``get_trials`` leaves out unfinished trials other than ``current``, and ``current``'s batch
    mates (unfinished while it is judged — unless the batch is the rest of one cut between its tells, re-run after
    a kill: its told trials must not count either); all else delegated."""

    def __init__(self, study: optuna.Study, current: int, batch: Any = None) -> None:
        self._study, self._current, self._batch = study, current, batch

    def get_trials(self, deepcopy: bool = True, states: Any = None) -> list[optuna.trial.FrozenTrial]:
        return [t for t in self._study.get_trials(deepcopy=deepcopy, states=states)
                if t.number == self._current or (t.state in DONE and (
                    self._batch is None or t.user_attrs.get(BATCH_ATTR) != self._batch))]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._study, name)


def storage_of(path: str | Path) -> optuna.storages.JournalStorage:
    """The study's file: Optuna's journal storage, an append-only log of every trial.

    Resume works as with Optuna's SQLite storage (the log is replayed), but the
    study is read from memory: the SQLite storage re-read every trial from disk
    several times per trial (≈ 3.5× the journal's overhead at 80 trials, growing
    with the square of the trials) and committed every parameter with an fsync.
    """
    from optuna.storages.journal import JournalFileBackend

    from sim.store import claim, prepare_journal

    # one writer: what the journal holds unfinished is then a killed process's, never a live one's
    claim(Path(path).parent)
    prepare_journal(Path(path))  # a record cut by a kill, a stale lock: made safe before Optuna reads it
    return optuna.storages.JournalStorage(JournalFileBackend(str(Path(path).resolve())))


class Search:
    """One budget's study: planned trials, then TPE, with successive halving."""

    def __init__(self, space: Space, ev: Evaluator, cfg: SearchConfig, db: str | Path,
                 shipped: list[Scenario] | None = None) -> None:
        self.space, self.ev, self.cfg = space, ev, cfg
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        pruner = FinishedOnly(optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=REDUCTION,
                                                                     min_early_stopping_rate=0))
        self.study = optuna.create_study(study_name=cfg.study_name, storage=storage_of(db),
                                         direction="maximize",
                                         sampler=self._sampler(), pruner=pruner, load_if_exists=True)
        self.plan: list[tuple[str, Mix]] = [(f"single:{d.id}", space.single(d.id, cfg.budget)) for d in space.dims
                                            if space.single(d.id, cfg.budget)[d.id] > 0]
        for sc in shipped or []:
            m = shipped_mix(space, sc)
            if m is not None and space.max_yearly_cost(m) <= cfg.budget * (1 + 1e-9):
                self.plan.append((f"shipped:{sc.id}", space.repair(m, cfg.budget)))
        self._n_singles = sum(tag.startswith("single:") for tag, _ in self.plan)
        self._singles_done: dict[str, tuple[Mix, float]] | None = None
        self._planned = False
        #: finished mixes: their intermediate values and final value (None if pruned)
        self._seen: dict[tuple[tuple[str, float], ...], tuple[dict[int, float], float | None]] = {}
        for t in self.study.get_trials(deepcopy=False, states=DONE):
            if "mix" in t.user_attrs:  # Optuna files a pruned trial's last report as its value: not a result
                value = t.value if t.state == optuna.trial.TrialState.COMPLETE else None
                self._seen[mix_key(t.user_attrs["mix"])] = (dict(t.intermediate_values), value)
        self._redo = self._left_by_a_kill()

    def _sampler(self, done: int = 0, place: int = 0) -> optuna.samplers.TPESampler:
        """TPE seeded by (seed, finished trials so far, place in the batch): a proposal depends on the finished
        trials only, never on how many sessions it took to finish them (a resumed search proposes what an
        uninterrupted one would); trials of one batch draw differently."""
        key = [self.cfg.seed, done] if place == 0 else [self.cfg.seed, done, place]
        seed = int(np.random.SeedSequence(key).generate_state(1)[0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            # constant liar: a batch's later trials are proposed away from its earlier ones, still running (the
            # default since Optuna 5, fixed here so that a result does not depend on the installed version)
            return optuna.samplers.TPESampler(seed=seed, multivariate=True, n_startup_trials=10,
                                              constant_liar=True)

    def _left_by_a_kill(self) -> list[optuna.trial.FrozenTrial]:
        """Mark failed the trials a killed process left running or waiting; return the untold rest of a batch
        cut between its tells (to be re-run first, with the same parameters), in the order asked.

        Only this process writes the journal (:func:`storage_of` claims its folder), so no live process owns them.
        A batch is told only once all its trials are evaluated, in the order asked; so if any trial of the last
        batch was told, its untold places are exactly what an uninterrupted search would tell next.
        """
        stale = self.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,
                                                               optuna.trial.TrialState.WAITING))
        for t in stale:
            self.study._storage.set_trial_state_values(t._trial_id, optuna.trial.TrialState.FAIL)
        done = self.study.get_trials(deepcopy=False, states=DONE)
        batches = [t.user_attrs[BATCH_ATTR] for t in done if BATCH_ATTR in t.user_attrs]
        if not batches:
            return []
        last = max(batches)
        told = {t.user_attrs.get(PLACE_ATTR) for t in done if t.user_attrs.get(BATCH_ATTR) == last}
        untold: dict[int, optuna.trial.FrozenTrial] = {}
        for t in self.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.FAIL,)):
            place = t.user_attrs.get(PLACE_ATTR)
            if t.user_attrs.get(BATCH_ATTR) == last and place is not None and place not in told \
                    and "mix" in t.user_attrs:
                untold[int(place)] = t  # the latest trial of a place (a redo cut short too is redone again)
        return [untold[p] for p in sorted(untold)]

    # -- bookkeeping -------------------------------------------------------------------------------------------
    def done(self) -> int:
        return len(self.study.get_trials(deepcopy=False, states=DONE))

    def _enqueue(self, tag: str, mix: Mix) -> None:
        self.study.enqueue_trial(mix_params(self.space, mix), user_attrs={"tag": tag})

    def _singles(self) -> dict[str, tuple[Mix, float]]:
        if self._singles_done is not None:
            return self._singles_done
        out = {}
        for t in self.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
            tag = str(t.user_attrs.get("tag", ""))
            if tag.startswith("single:") and t.value is not None:
                out[tag.removeprefix("single:")] = (dict(t.user_attrs["mix"]), float(t.value))
        if len(out) == self._n_singles:
            self._singles_done = out  # complete trials never change: no need to read them again
        return out

    def _plan_next(self, pending: set[str]) -> bool:
        """Queue the next planned mix not yet finished nor ``pending`` (asked in this batch), one at a time and in
        the plan's order (a planned trial cut short by Ctrl-C is queued again first, as an uninterrupted search
        would run it). False when the next trial needs a single lever still pending: the batch ends there."""
        singles_pending = any(t.startswith("single:") for t in pending)
        if self._planned:
            return True
        if self.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,)):
            return True
        finished = {str(t.user_attrs.get("tag")) for t in self.study.get_trials(deepcopy=False, states=DONE)}
        for tag, mix in self.plan:
            if tag not in finished and tag not in pending:
                self._enqueue(tag, mix)
                return True
        if singles_pending:  # the greedy mixes and TPE's screening are built from every single lever's result
            return False
        singles = self._singles()
        for tag, share in (("greedy", 1.0), ("greedy_spread", 1 / 3)):
            if tag not in finished and tag not in pending:
                self._enqueue(tag, greedy(self.space, singles, self.cfg.budget, share))
                return True
        if all(tag in finished for tag, _ in self.plan) and {"greedy", "greedy_spread"} <= finished:
            self._planned = True  # everything planned is finished
        return True

    # -- one batch of trials -----------------------------------------------------------------------------------
    def _propose(self, trial: optuna.Trial) -> tuple[str, Mix]:
        """The trial's mix (parameters suggested, repaired to the budget) and its tag; stored on the trial."""
        raw: Mix = {}
        tag = str(trial.user_attrs.get("tag", "tpe"))
        searched = set(screened(self.space, self._singles())) if tag == "tpe" else set(self.space.by_id)
        for d in self.space.dims:
            if d.id not in searched:
                continue
            if d.whole:
                raw[d.id] = trial.suggest_int(f"n_{d.id}", 0, d.max_units) / d.lever.value
            else:
                raw[d.id] = trial.suggest_float(f"k_{d.id}", 0.0, d.k_max)
        if tag == "tpe":  # proposals on a grid of STEP, and no crumbs
            raw = {i: (k if self.space.by_id[i].whole else round(k / STEP) * STEP) for i, k in raw.items()}
            small = {i for i, k in raw.items() if self.space.by_id[i].cost(k) < MIN_SHARE * self.cfg.budget}
            mix = self.space.repair({i: k for i, k in raw.items() if i not in small}, self.cfg.budget)
            mix = {i: (0.0 if self.space.by_id[i].cost(k) < MIN_SHARE * self.cfg.budget else k)
                   for i, k in mix.items()}
        else:
            mix = self.space.repair(raw, self.cfg.budget)
        trial.set_user_attr("mix", mix)
        trial.set_user_attr("max_yearly_cost", self.space.max_yearly_cost(mix))
        if "tag" not in trial.user_attrs:
            trial.set_user_attr("tag", tag)
        return tag, mix

    def _ask(self, n: int) -> list[optuna.Trial]:
        """Up to ``n`` trials, in order; fewer where the next would need a result of this batch."""
        if self._redo:
            return self._ask_redo()
        asked: list[optuna.Trial] = []
        pending: set[str] = set()
        done = self.done()
        try:
            for place in range(n):
                if not self._plan_next(pending):
                    break
                self.study.sampler = self._sampler(done, place)
                trial = self.study.ask()
                asked.append(trial)
                trial.set_user_attr(BATCH_ATTR, asked[0].number)
                trial.set_user_attr(PLACE_ATTR, place)
                pending.add(self._propose(trial)[0])
        except BaseException:
            for trial in asked:
                self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
            raise
        return asked

    def _ask_redo(self) -> list[optuna.Trial]:
        """The untold rest of a batch cut by a kill, asked again with the parameters, tag, batch and place each
        had (so it is judged as then: not against its told batch mates)."""
        asked: list[optuna.Trial] = []
        try:
            for old in self._redo:
                self.study.enqueue_trial(dict(old.params), user_attrs={
                    k: old.user_attrs[k] for k in ("tag", BATCH_ATTR, PLACE_ATTR)}, skip_if_exists=False)
                asked.append(self.study.ask())
                self._propose(asked[-1])
            self._redo = []
        except BaseException:
            for trial in asked:
                self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
            raise
        return asked

    def _evaluate(self, asked: list[optuna.Trial]) -> list[_Outcome]:
        """Run the batch rung by rung; each trial reports and is judged, in the order asked, after every rung."""
        outs: list[_Outcome] = []
        first: dict[tuple[tuple[str, float], ...], _Outcome] = {}
        for trial in asked:
            mix = dict(trial.user_attrs["mix"])
            key = mix_key(mix)
            if key in self._seen:  # the same mix again (TPE's grid, whole units): its replications would be the same
                steps, value = self._seen[key]
                outs.append(_Outcome(trial, key, str(trial.user_attrs["tag"]), None, dict(steps), value,
                                     value is None))
            elif key in first:  # the same mix twice in this batch: the second takes the first's outcome
                outs.append(_Outcome(trial, key, str(trial.user_attrs["tag"]), None, {}, None, False, first[key]))
            else:
                out = _Outcome(trial, key, str(trial.user_attrs["tag"]), self.space.scenario(mix), {}, None, False)
                first[key] = out
                outs.append(out)
        diffs: dict[int, dict[int, np.ndarray]] = {id(o): {} for o in outs}
        for rung in self.ev.rungs(self.cfg.reps):
            live = [o for o in outs if o.scenario is not None and not o.pruned]
            values = self.ev.gather_many([(o.scenario, diffs[id(o)], rung) for o in live])  # type: ignore[misc]
            for o, v in zip(live, values, strict=True):
                o.trial.report(v, rung.step)
                o.steps[rung.step] = v
                o.value = v
                if not o.tag.startswith("single:") and rung.step < REDUCTION**2 and o.trial.should_prune():
                    o.pruned, o.value = True, None
        for o in outs:
            if o.copy_of is not None:
                o.steps, o.value, o.pruned = dict(o.copy_of.steps), o.copy_of.value, o.copy_of.pruned
            if o.scenario is None:  # a repeat reports the values it takes over
                for step, v in o.steps.items():
                    o.trial.report(v, step)
        return outs

    def run(self, progress: Callable[[int], None] | None = None) -> SearchResult:
        """Run trials until ``cfg.trials`` are finished (complete or pruned); resume what the file holds."""
        while self.done() < self.cfg.trials:
            asked = self._ask(min(self.cfg.batch, self.cfg.trials - self.done()))
            told = 0
            try:
                outs = self._evaluate(asked)
                for o in outs:
                    if o.pruned:
                        self.study.tell(o.trial, state=optuna.trial.TrialState.PRUNED)
                    else:
                        self.study.tell(o.trial, o.value)
                    told += 1
                    self._seen[o.key] = (o.steps, None if o.pruned else o.value)
                    if progress is not None:
                        progress(1)
            except BaseException:
                for trial in asked[told:]:
                    self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
                raise
        return self.result()

    def result(self) -> SearchResult:
        complete = self.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        pruned = self.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.PRUNED,))
        if not complete:
            raise RuntimeError("no trial completed")
        cands: list[optuna.trial.FrozenTrial] = []
        seen = set()
        for t in sorted(complete, key=lambda t: (-float(t.value or 0.0), t.number)):
            key = mix_key(t.user_attrs["mix"])
            if key not in seen:
                seen.add(key)
                cands.append(t)
            if len(cands) == FINALISTS:
                break
        sel = self.ev.selection_scores([self.space.scenario(dict(t.user_attrs["mix"])) for t in cands], self.cfg.reps)
        scores = {t.number: v for t, v in zip(cands, sel, strict=True)}
        best = max(cands, key=lambda t: (scores[t.number], -t.number))
        # its place among the finished trials (Optuna's number also counts trials cut short by Ctrl-C)
        order = sorted(t.number for t in (*complete, *pruned))
        singles = self._singles()
        if singles:
            sid = max(singles, key=lambda i: singles[i][1])
            smix, sscore = singles[sid]
        else:
            sid, smix, sscore = "", {}, float("nan")
        return SearchResult(best_mix=dict(best.user_attrs["mix"]), best_score=float(best.value or 0.0),
                            selection_score=scores[best.number],
                            best_trial=order.index(best.number), best_tag=str(best.user_attrs.get("tag", "")),
                            single_id=sid,
                            single_mix=smix, single_score=sscore, complete=len(complete), pruned=len(pruned),
                            reps_run=self.ev.reps_run)
