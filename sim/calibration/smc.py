"""Calibration by sequential approximate Bayesian computation (ABC-SMC) with pyabc.

Population Monte Carlo ABC (Beaumont et al. 2009; Toni et al. 2009) as pyabc
implements it: generation 0 draws ``population`` parameter sets from the
uniform priors; each later generation draws sets from a proposal fitted to
the previous one (one multivariate normal on the logit scale of the priors,
fitted to the weighted generation: :mod:`sim.calibration.kernel`), simulates
each, and keeps it when its distance to the report's figures (:func:`sim.calibration.model.distance`)
is at most that generation's threshold ε, until ``population`` are kept;
importance weights correct for the perturbation. ε₀ = ∞ (the prior sample);
ε_t is the weighted ``alpha``-quantile of generation t − 1's distances, never
below ``min_epsilon``; the run stops after the generation whose ε reaches
``min_epsilon`` (1: every particle's means lie in every band), after
``generations`` generations, or when fewer than ``min_acceptance`` of the
simulated sets are kept.

**Resumable.** pyabc's history is an SQLite database in the output folder
(``abc.db``), written once per finished generation in one transaction. Every
generation is run by a fresh pyabc object loaded from that database, its
threshold computed from the database and its random numbers seeded by
(seed, generation): so a run killed at any moment continues from its last
finished generation, and gives the same posterior as a run never interrupted.

**Reproducible.** pyabc draws from NumPy's global random state; each
generation seeds it with a hash of (seed, generation), and every parameter
set's simulation seed is a hash of (seed, its values). With pyabc's
single-core sampler (the only one used: the simulator itself runs its
replications on every core) the same file and seed give the same posterior
to the last bit. Not identical between runs: wall times and dates stored in
the database.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration import model
from sim.calibration.priors import Calibration
from sim.errors import InputError
from sim.extras import require
from sim.store import atomic_file, check_output_dir, database_is_whole, write_marker

DB = "abc.db"
MANIFEST = "manifest.json"
#: Files an SMC calibration folder may hold (see :mod:`sim.store`): the database with SQLite's side files,
#: the manifest, results and temporary files of atomic writes.
OWN_PATTERNS = (DB, f"{DB}-journal", f"{DB}-wal", f"{DB}-shm", MANIFEST, "posterior.csv", "generations.csv",
                "posterior_predictive.csv", "posterior_predictive.png", "posterior_marginals.png", ".*.tmp*")
Say = Callable[[str], None]
#: How a history encodes parameters (part of a run's digest: a history of another scheme is not continued).
SCHEME = "uniform priors, logit-normal proposal fitted to the weighted generation, capped bands, floors score 0, v6"


def _key(name: str) -> str:
    """A parameter's name inside pyabc (no dots)."""
    return name.replace(".", "__")


def generation_seed(seed: int, t: int) -> int:
    """NumPy's seed for generation ``t``: a hash of (seed, t), 32 bits."""
    return int.from_bytes(hashlib.blake2b(f"convsim-smc:{seed}:{t}".encode(), digest_size=4).digest(), "little")


class Simulator:
    """pyabc's model: a parameter set (pyabc names) → the target means over ``reps`` replications."""

    def __init__(self, cal: Calibration, bands: dict[str, tuple[float, float]],
                 counter: Callable[[], None] | None = None) -> None:
        self.cal = cal
        self.keys = list(bands)
        self.counter = counter

    def __call__(self, pars: dict[str, float]) -> dict[str, float]:
        values = {n: float(pars[_key(n)]) for n in self.cal.names}
        if self.counter is not None:
            self.counter()
        return model.summaries(self.cal.scenario, values, self.cal.spec.smc.reps, self.cal.spec.smc.seed, self.keys)


def _abc(cal: Calibration, bands: dict[str, tuple[float, float]], epsilon: float,
         counter: Callable[[], None] | None) -> Any:
    """A fresh pyabc ABCSMC object for one generation at threshold ``epsilon``."""
    import pyabc

    priors = pyabc.Distribution(**{_key(p.param): pyabc.RV("uniform", p.min, p.max - p.min)
                                   for p in cal.spec.priors})
    return pyabc.ABCSMC(Simulator(cal, bands, counter), priors, lambda x, _x0: model.distance(x, bands),
                        population_size=cal.spec.smc.population, sampler=pyabc.sampler.SingleCoreSampler(),
                        eps=pyabc.epsilon.ConstantEpsilon(epsilon), transitions=_proposal(cal))


def _proposal(cal: Calibration) -> Any:
    """The proposal of generations 1, 2, …: a normal on the logit scale of the priors (:mod:`.kernel`)."""
    from sim.calibration.kernel import LogitNormalProposal

    return LogitNormalProposal({_key(p.param): (p.min, p.max) for p in cal.spec.priors}, cal.spec.smc.proposal_scale)


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
    """Whether the run has stopped: enough generations, ε reached, or too few particles kept."""
    s = cal.spec.smc
    if not gens:
        return False
    last = gens[-1]
    return (len(gens) >= s.generations or last.epsilon <= s.min_epsilon
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
            generations: int | None = None) -> list[Generation]:
    """Run (or resume) the calibration to its end; returns every generation. Writes ``out/abc.db``.

    ``bands``: the targets (default the report's, :func:`sim.calibration.model.targets`; a band reaching a
    cap is scored from the cap, :func:`sim.calibration.model.scoring_bands`); ``generations``:
    stop after this many generations in all (default the file's), e.g. to continue a run later.
    ``progress``: ``True`` for a bar per generation, or a callback told of every simulation (a
    :class:`sim.jobs.Control` cancels at the next simulation; the generation under way is not written).
    """
    require("pyabc", "ABC-SMC calibration (--method smc)")
    out = Path(out)
    bands = model.scoring_bands(bands if bands is not None else model.targets(), model.caps(cal.scenario))
    gens = prepare(cal, out, bands, fresh)
    db = out / DB
    url = f"sqlite:///{db}"
    _quiet_pyabc()
    if say is not None and gens:
        say(f"resuming {cal.id}: {len(gens)} generation(s) already in {db}")
    while not finished(cal, gens) and (generations is None or len(gens) < generations):
        t = len(gens)
        eps = next_epsilon(cal, db, t)
        bar = None
        counter: Callable[[], None] | None = None
        if callable(progress):
            counter = functools.partial(progress, 1)
        elif progress:
            from sim.progress import bar as new_bar

            bar = new_bar(0, f"generation {t} (ε = {eps:.3g})", unit="sim")
            counter = bar.update
        abc = _abc(cal, bands, eps, counter)
        start = time.perf_counter()
        try:
            if t == 0 and not (db.is_file() and _has_run(db)):
                abc.new(url, model.centres(bands))
            else:
                abc.load(url, 1)
            np.random.seed(generation_seed(cal.spec.smc.seed, t))
            abc.run(max_nr_populations=1)
        finally:
            if bar is not None:
                bar.close()
        gens = read_generations(db)
        g = gens[-1]
        if say is not None:
            say(f"generation {g.t}: ε = {g.epsilon:.4g}, accepted {g.particles} of {g.simulations} "
                f"({100 * g.acceptance_rate:.1f} %), ESS {g.ess:.0f} ({g.ess_truncated:.0f} truncated), "
                f"{time.perf_counter() - start:.0f} s")
    return gens


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
