"""Calibration by sequential approximate Bayesian computation (ABC-SMC), stored in pyabc's history.

Population Monte Carlo ABC (Beaumont et al. 2009; Toni et al. 2009):
generation 0 draws ``population`` parameter sets from the uniform priors;
each later generation draws sets from a proposal fitted to the previous one
(one multivariate normal on the logit scale of the priors, fitted to the
weighted generation: :mod:`sim.calibration.kernel`), simulates each, and keeps
it when its distance to the report's figures (:func:`sim.calibration.model.distance`)
is at most that generation's threshold ε, until ``population`` are kept;
importance weights (prior density / proposal density) correct for the
proposal. ε₀ = ∞ (the prior sample); ε_t is the weighted ``alpha``-quantile of
generation t − 1's distances, never below ``min_epsilon``; the run stops after
the generation whose ε reaches ``min_epsilon`` (1: every particle's means lie
in every band) — with ``min_ess``, the first generation at that ε whose
truncated effective sample size reaches it — after ``generations``
generations, or when fewer than ``min_acceptance`` of the simulated sets are kept.

**Candidates in parallel, the same population on any workers.** Candidate
``i`` of generation ``t`` draws its parameter set from a random generator of
its own, keyed by (seed, t, i), and its simulation seed is a hash of (seed, its
values) (:func:`sim.calibration.model.particle_seed`): a candidate is a pure
function of its key. Candidates are evaluated in batches on the executor
(:mod:`sim.executor`: this process, a pool of processes, or Dask) and accepted
in index order until ``population`` are kept; the generation is then exactly
the one a single process evaluating candidates 0, 1, 2, … one at a time would
have kept, and its ``simulations`` the number that process would have run
(the candidates up to the last one kept). A batch's candidates beyond that one
are simulated and discarded: the price of running side by side. The batch size
changes only that waste, never a result.

**Resumable.** The generations are stored in pyabc's history, an SQLite
database in the output folder (``abc.db``), one finished generation per
transaction. Each generation's threshold and proposal are computed from the
database alone, so a run killed at any moment continues from its last finished
generation and gives the same posterior as a run never interrupted. pyabc
serves as the store (and its reader, ``pyabc.History``); the generation loop is
this module's, so that no random number comes from NumPy's global state.
Not identical between runs: wall times and dates stored in the database.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration import model
from sim.calibration.kernel import LogitNormalProposal
from sim.calibration.priors import Calibration
from sim.errors import InputError
from sim.experiment import MeanRecords, Run, RunPlan
from sim.extras import require
from sim.scenario import Scenario
from sim.store import atomic_file, check_output_dir, database_is_whole, write_marker

DB = "abc.db"
MANIFEST = "manifest.json"
#: Files an SMC calibration folder may hold (see :mod:`sim.store`): the database with SQLite's side files,
#: the manifest, results and temporary files of atomic writes.
OWN_PATTERNS = (DB, f"{DB}-journal", f"{DB}-wal", f"{DB}-shm", MANIFEST, "posterior.csv", "generations.csv",
                "posterior_predictive.csv", "posterior_predictive.png", "posterior_marginals.png", ".*.tmp*")
Say = Callable[[str], None]
#: How a history encodes parameters (part of a run's digest: a history of another scheme is not continued).
SCHEME = ("uniform priors, logit-normal proposal fitted to the generation's truncated weights, capped bands, "
          "floors score 0, v7")


def _key(name: str) -> str:
    """A parameter's name inside pyabc (no dots)."""
    return name.replace(".", "__")


#: A name of the model in the history (pyabc's runs may compare several models; this one has one).
MODEL = "convsim"


def candidate_rng(seed: int, t: int, i: int) -> np.random.Generator:
    """The random generator of candidate ``i`` of generation ``t``: keyed by (seed, t, i), nothing else."""
    key = hashlib.blake2b(f"convsim-smc:{seed}:{t}:{i}".encode(), digest_size=16).digest()
    return np.random.default_rng(int.from_bytes(key, "little"))


@dataclass(frozen=True)
class Candidates:
    """What the candidates of one generation are drawn from and how they are simulated and scored.

    ``proposal``: the fitted proposal of generations 1, 2, …; None in generation 0 (the uniform priors).
    """

    scenario: Scenario
    names: tuple[str, ...]
    lows: tuple[float, ...]
    highs: tuple[float, ...]
    proposal: LogitNormalProposal | None
    seed: int
    t: int
    reps: int
    keys: tuple[str, ...]
    bands: tuple[tuple[str, float, float], ...]
    threads: int | None = None


@dataclass(frozen=True)
class Candidate:
    """One evaluated candidate: its index, parameter values, summary statistics and distance."""

    index: int
    values: dict[str, float]
    summaries: dict[str, float]
    distance: float


def propose(job: Candidates, i: int) -> dict[str, float]:
    """Candidate ``i``'s parameter set (parameter → value), drawn from its own keyed generator."""
    rng = candidate_rng(job.seed, job.t, i)
    if job.proposal is None:
        lo, hi = np.array(job.lows), np.array(job.highs)
        return dict(zip(job.names, (lo + (hi - lo) * rng.random(len(job.names))).tolist(), strict=True))
    return job.proposal.draw(rng)


def candidate_plan(job: Candidates, indices: range, batch: int = 1) -> RunPlan:
    """The run plan of candidates ``indices``: each proposed here (a pure function of its key), simulated
    where the plan runs (``batch`` consecutive candidates per task: fewer, larger tasks cost less to send)
    and scored there by :func:`score`; keyed ``(t, i)``."""
    runs = tuple(model.particle_run(job.scenario, propose(job, i), range(job.reps), job.seed, (job.t, i))
                 for i in indices)
    plan = model.set_plan(runs, job.keys, threads=job.threads, batch=batch)
    return replace(plan, reduce=partial(score, job.keys, job.bands))


def score(keys: tuple[str, ...], bands: tuple[tuple[str, float, float], ...], run: Run, mean: MeanRecords,
          window: tuple[int, int] | None = None) -> tuple[dict[str, float], float]:
    """A candidate's summary statistics and distance to the bands, from its run's mean records."""
    x = model.target_summaries(keys, run, mean, window)
    return x, model.distance(x, {k: (lo, hi) for k, lo, hi in bands})


def _proposal(cal: Calibration, db: Path, t: int) -> LogitNormalProposal:
    """The proposal of generation ``t`` ≥ 1: a normal on the logit scale of the priors (:mod:`.kernel`), fitted
    to generation t − 1 as the database holds it."""
    import pyabc

    q = LogitNormalProposal({p.param: (p.min, p.max) for p in cal.spec.priors}, cal.spec.smc.proposal_scale,
                            cal.spec.smc.proposal_df)
    df, w = pyabc.History(f"sqlite:///{db}", create=False, _id=1).get_distribution(m=0, t=t - 1)
    # fitted to the truncated weights: a generation resting on a few heavy particles would otherwise give a
    # proposal collapsed onto them, whose next generation rests on a few again; any proposal keeps the weights
    # (prior / its density) correct, so the truncation biases nothing but the proposal's shape
    q.fit(pd.DataFrame({n: df[_key(n)].to_numpy(dtype=float) for n in cal.names}),
          truncate_weights(np.asarray(w, dtype=float)))
    return q


def importance_weights(cal: Calibration, q: LogitNormalProposal | None, kept: list[Candidate]) -> np.ndarray:
    """Prior density / proposal density of every kept candidate, normalised (1/N each in generation 0)."""
    if q is None:
        return np.full(len(kept), 1.0 / len(kept))
    prior = 1.0 / math.prod(p.max - p.min for p in cal.spec.priors)
    dens = np.asarray(q.pdf(pd.DataFrame([c.values for c in kept], columns=list(cal.names))), dtype=float)
    w = prior / dens
    return w / w.sum()


def _quiet_pyabc() -> None:
    """pyabc logs every generation at INFO; our own line per generation says what matters."""
    import pyabc  # noqa: F401  (its loggers are set up on import)

    for name in ("ABC", "pyabc", "Sampler", "History", "Epsilon", "Distance", "Acceptor", "Transitions"):
        logging.getLogger(name).setLevel(logging.WARNING)


@dataclass
class Generation:
    """One finished generation, as the database holds it."""

    t: int
    epsilon: float
    particles: int
    simulations: int
    acceptance_rate: float
    ess: float
    ess_truncated: float


def read_generations(db: Path) -> list[Generation]:
    """The finished generations in ``db`` (empty if there is none)."""
    import pyabc

    if not database_is_whole(db):  # missing, or emptied by a power cut: start again; damaged: one line
        return []
    h = pyabc.History(f"sqlite:///{db}", create=False)
    if h.n_populations == 0:
        return []
    pops = h.get_all_populations()
    pops = pops[pops["t"] >= 0]
    out = []
    for _, r in pops.iterrows():
        t = int(r["t"])
        w = h.get_weighted_distances(t)["w"].to_numpy(dtype=float)
        n = int(r["particles"])
        out.append(Generation(t, float(r["epsilon"]), n, int(r["samples"]), n / max(1, int(r["samples"])),
                              float(1.0 / np.sum((w / w.sum()) ** 2)), float(1.0 / np.sum(truncate_weights(w) ** 2))))
    return out


def next_epsilon(cal: Calibration, db: Path, t: int) -> float:
    """Threshold of generation ``t``: ∞ for 0; else the weighted alpha-quantile of t − 1's distances."""
    import pyabc
    from pyabc.weighted_statistics import weighted_quantile

    if t == 0:
        return math.inf
    wd = pyabc.History(f"sqlite:///{db}", create=False).get_weighted_distances(t - 1)
    w = wd["w"].to_numpy(dtype=float)
    q = float(weighted_quantile(points=wd["distance"].to_numpy(dtype=float), weights=w / w.sum(),
                                alpha=cal.spec.smc.alpha))
    return max(q, cal.spec.smc.min_epsilon)


def finished(cal: Calibration, gens: list[Generation]) -> bool:
    """Whether the run has stopped: enough generations, ε reached with a usable sample, or too few kept.

    Reaching ``min_epsilon`` usually takes a large step in ε, and the generation that takes it can rest on a
    few heavy particles (its proposal was fitted to a wider target). With ``min_ess`` the run then goes on at
    the same ε: each further generation's proposal is fitted to a sample of that very target, so its weights
    even out (a standard rejuvenation step of population Monte Carlo), and the run stops at the first
    generation whose truncated ESS reaches ``min_ess``."""
    s = cal.spec.smc
    if not gens:
        return False
    last = gens[-1]
    return (len(gens) >= s.generations
            or (last.epsilon <= s.min_epsilon and last.ess_truncated >= s.min_ess)
            or (last.t > 0 and last.acceptance_rate < s.min_acceptance))


def digest(cal: Calibration, bands: dict[str, tuple[float, float]]) -> str:
    """Identity of a run: the calibration file's digest and the bands it is scored against."""
    return hashlib.sha256(json.dumps([cal.digest(), sorted(bands.items()), SCHEME]).encode()).hexdigest()[:16]


def prepare(cal: Calibration, out: Path, bands: dict[str, tuple[float, float]],
            fresh: bool = False) -> list[Generation]:
    """Create or reopen the output folder; returns the generations already finished there."""
    key = digest(cal, bands)
    manifest = {"kind": "smc", "calibration_id": cal.id, "digest": key, "file": str(cal.path),
                "spec": cal.spec.model_dump(mode="json"), "targets": {k: list(v) for k, v in bands.items()}}
    check_output_dir(out, "--out", ("calibrate",))
    old = out / MANIFEST
    if old.is_file() and not fresh:
        have = json.loads(old.read_text(encoding="utf-8"))
        if have.get("digest") != key:
            raise InputError(f"{out}: --out holds a calibration made from another file, scenario or targets "
                             f"(digest {have.get('digest')} ≠ {key}); give --fresh to replace it, or another --out")
        return read_generations(out / DB)
    if out.exists() and any(out.iterdir()):
        from sim.store import remove_output

        remove_output(out)
    out.mkdir(parents=True, exist_ok=True)
    from sim.experiment import package_versions

    manifest["versions"] = package_versions()
    write_marker(out, "calibrate", [MANIFEST], OWN_PATTERNS)
    with atomic_file(out / MANIFEST) as tmp:
        tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return []


def run_smc(cal: Calibration, out: str | Path, fresh: bool = False, say: Say | None = None,
            progress: bool | Callable[[int], None] = False, bands: dict[str, tuple[float, float]] | None = None,
            generations: int | None = None, backend: str = "local", scheduler: str | None = None,
            workers: int | None = None) -> list[Generation]:
    """Run (or resume) the calibration to its end; returns every generation. Writes ``out/abc.db``.

    ``bands``: the targets (default the report's, :func:`sim.calibration.model.targets`; a band reaching a
    cap is scored from the cap, :func:`sim.calibration.model.scoring_bands`); ``generations``:
    stop after this many generations in all (default the file's), e.g. to continue a run later.
    ``backend``, ``scheduler``, ``workers``: where the candidates are simulated (:func:`sim.executor.job_backend`:
    this process, ``workers`` local processes, or Dask); the posterior is the same on each.
    ``progress``: ``True`` for a bar per generation, or a callback told of every batch of simulations (a
    :class:`sim.jobs.Control` cancels after the batch under way; the generation under way is not written).
    """
    require("pyabc", "ABC-SMC calibration (--method smc)")
    from sim.executor import check_job_options, executor, job_backend, slots

    check_job_options(backend, scheduler, workers)
    out = Path(out)
    bands = model.scoring_bands(bands if bands is not None else model.targets(), model.caps(cal.scenario))
    gens = prepare(cal, out, bands, fresh)
    db = out / DB
    _quiet_pyabc()
    if say is not None and gens:
        say(f"resuming {cal.id}: {len(gens)} generation(s) already in {db}")
    kind = job_backend(backend, workers)
    with executor(kind, scheduler, workers) as ex:
        parts = slots(ex)
        while not finished(cal, gens) and (generations is None or len(gens) < generations):
            t = len(gens)
            eps = next_epsilon(cal, db, t)
            start = time.perf_counter()
            waste = _run_generation(cal, db, bands, t, eps, ex, parts, None if kind == "local" else 1,
                                    gens[-1].acceptance_rate if gens else 1.0, progress)
            gens = read_generations(db)
            g = gens[-1]
            if say is not None:
                extra = f", {waste} more simulated in parallel and not needed" if waste else ""
                say(f"generation {g.t}: ε = {g.epsilon:.4g}, accepted {g.particles} of {g.simulations} "
                    f"({100 * g.acceptance_rate:.1f} %{extra}), ESS {g.ess:.0f} ({g.ess_truncated:.0f} truncated), "
                    f"{time.perf_counter() - start:.0f} s")
    return gens


#: Most candidates in one batch, as a multiple of the population (a batch is sized to the acceptance rate).
MAX_BATCH = 20


def _run_generation(cal: Calibration, db: Path, bands: dict[str, tuple[float, float]], t: int, eps: float,
                    ex: Any, parts: int, threads: int | None, last_rate: float,
                    progress: bool | Callable[[int], None]) -> int:
    """Evaluate candidates 0, 1, … of generation ``t`` in batches until ``population`` are kept; store the
    generation in ``db``. Returns how many candidates were simulated beyond the last one kept.

    Each batch is sized so that, at the acceptance rate seen so far (the last generation's before any), it
    should keep the particles still missing; on ``parts`` workers it is split into ``parts`` tasks of
    consecutive candidates, in this process into one task per candidate, run one at a time and stopped at
    the last particle needed (so one worker simulates no candidate in vain).
    """
    from contextlib import closing

    from sim.experiment import execute

    s = cal.spec.smc
    q = _proposal(cal, db, t) if t > 0 else None
    job = Candidates(cal.scenario, tuple(cal.names), tuple(p.min for p in cal.spec.priors),
                     tuple(p.max for p in cal.spec.priors), q, s.seed, t, s.reps, tuple(bands),
                     tuple((k, lo, hi) for k, (lo, hi) in bands.items()), threads)
    kept: list[Candidate] = []
    needed_up_to = 0  # candidates a one-at-a-time run would have simulated
    start = ran = 0  # the next batch's first candidate; candidates simulated
    bar = None
    if progress is True:
        from sim.progress import bar as new_bar

        bar = new_bar(0, f"generation {t} (ε = {eps:.3g})", unit="sim")
    tick = progress if callable(progress) else None
    try:
        while len(kept) < s.population:
            rate = len(kept) / ran if ran and kept else max(last_rate, 1e-3)
            size = min(MAX_BATCH * s.population, math.ceil((s.population - len(kept)) / rate))
            step = 1 if parts == 1 else math.ceil(size / parts)
            plan = candidate_plan(job, range(start, start + size), step)
            n = 0
            with closing(execute(plan, ex)) as results:
                for run, (x, d) in results:
                    _, i = run.key
                    if len(kept) < s.population:
                        needed_up_to = i + 1
                        if d <= eps:
                            kept.append(Candidate(i, dict(run.at), x, d))
                    n += 1
                    if n % step and n < len(plan.runs):
                        continue  # the rest of this task's candidates first
                    done = (n - 1) % step + 1
                    ran += done
                    if bar is not None:
                        bar.update(done)
                    if tick is not None:
                        tick(done)
                    if len(kept) == s.population:
                        break
            start += size
    finally:
        if bar is not None:
            bar.close()
    _store(cal, db, bands, t, eps, kept, importance_weights(cal, q, kept), needed_up_to)
    return ran - needed_up_to


def _store(cal: Calibration, db: Path, bands: dict[str, tuple[float, float]], t: int, eps: float,
           kept: list[Candidate], weights: np.ndarray, simulations: int) -> None:
    """Append generation ``t`` to the history in one transaction (the run's record is created before
    generation 0)."""
    import pyabc
    from pyabc.population import Particle, Population

    url = f"sqlite:///{db}"
    if t == 0 and not (db.is_file() and _has_run(db)):
        h = pyabc.History(url)
        h.store_initial_data(None, {"scheme": SCHEME, "population": cal.spec.smc.population},
                             model.centres(bands), {}, [MODEL], json.dumps({"name": "largest band distance"}),
                             json.dumps({"name": "weighted quantile", "alpha": cal.spec.smc.alpha}),
                             json.dumps({"name": "constant", "size": cal.spec.smc.population}))
    h = pyabc.History(url, create=False, _id=1)
    particles = [Particle(m=0, parameter=pyabc.Parameter({_key(n): v for n, v in c.values.items()}),
                          weight=float(w), sum_stat=dict(c.summaries), distance=c.distance)
                 for c, w in zip(kept, weights, strict=True)]
    h.append_population(t, eps, Population(particles), simulations, [MODEL])


def _has_run(db: Path) -> bool:
    import pyabc

    try:
        return len(pyabc.History(f"sqlite:///{db}", create=False).all_runs()) > 0
    except Exception:  # an empty or half-created database file: start anew
        return False


def truncate_weights(w: np.ndarray) -> np.ndarray:
    """Truncated importance sampling (Ionides 2008): no weight above √N × the mean weight, then normalised.

    One candidate drawn far in the proposal's tail, where its density is small, can take a large share of
    the weight by luck (on the final model one of 300 took 19 %, the ESS fell to 22). Capping the weights at
    √N times their mean bounds that variance at a bias that vanishes as N grows; the capped weight is
    redistributed only through the normalisation. Weights below the cap are unchanged relative to each other.
    """
    w = np.asarray(w, dtype=float) / float(np.sum(w))
    return (t := np.minimum(w, math.sqrt(len(w)) / len(w))) / float(t.sum())


def posterior(cal: Calibration, db: Path, t: int | None = None) -> pd.DataFrame:
    """The parameter sets of generation ``t`` (default the last): one column per parameter and ``weight``.

    ``weight``: pyabc's importance weights, truncated (:func:`truncate_weights`) and normalised.
    """
    import pyabc

    h = pyabc.History(f"sqlite:///{db}", create=False)
    df, w = h.get_distribution(m=0, t=t)
    post = pd.DataFrame({n: df[_key(n)].to_numpy(dtype=float) for n in cal.names})
    post["weight"] = truncate_weights(np.asarray(w, dtype=float))
    return post


def generations_table(gens: list[Generation]) -> pd.DataFrame:
    """One row per generation: threshold, particles, simulations, acceptance rate, effective sample size (of
    pyabc's weights, and of the truncated weights the posterior is written with)."""
    return pd.DataFrame([g.__dict__ for g in gens]).rename(columns={"t": "generation"})


def write_results(cal: Calibration, out: Path, gens: list[Generation]) -> pd.DataFrame:
    """Write ``posterior.csv``, ``generations.csv`` and ``posterior_marginals.png``; returns the posterior."""
    from sim.analysis.figures import save_figure
    from sim.calibration.figures import marginals

    post = posterior(cal, out / DB)
    with atomic_file(out / "posterior.csv") as tmp:
        post.to_csv(tmp, index=False, float_format="%.10g")
    with atomic_file(out / "generations.csv") as tmp:
        generations_table(gens).to_csv(tmp, index=False, float_format="%.6g")
    with atomic_file(out / "posterior_marginals.png") as tmp:
        save_figure(marginals(cal, post), tmp, dpi=120)
    return post


def stderr(msg: str) -> None:
    """Progress lines go to stderr."""
    print(msg, file=sys.stderr, flush=True)
