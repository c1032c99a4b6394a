"""The posterior predictive check: the model at the calibrated parameter sets against the report's figures.

``sets`` parameter sets are drawn from a posterior (``posterior.csv``: one
column per parameter and ``weight``) in proportion to their weights, by
systematic resampling (one uniform number: a set of weight w is drawn
⌊sets·w⌋ or ⌈sets·w⌉ times, never left to the luck of independent draws).
Each draw runs ``reps`` replications over 2018–2022; draw ``k`` of a set uses
its replications ``k·reps … k·reps + reps − 1`` under a seed that hashes
(``seed``, its values, "predictive"): a set drawn twice gets new random numbers
the second time, and none are those the calibration kept the set on (its seed
hashes no "predictive"), even at the same ``seed``. So the pooled replications
are a sample of the posterior predictive distribution: parameters from the
posterior, then one new 2018–2022 of the model at them.

For every target the table gives the predictive mean (over all draws and
replications: the posterior's expected value of the KPI), the 90 % predictive
interval of one replication (what one more "2018–2022" could look like), the
90 % interval of the draws' means (parameter uncertainty, plus the noise of
``reps`` replications), and whether the mean lies within the report's band.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration import model
from sim.checks import check_posterior
from sim.errors import InputError
from sim.params import parameter_rows
from sim.scenario import Scenario

_RANGES = {r["parameter"]: (r["min"], r["max"]) for r in parameter_rows()}


def read_posterior(path: str | Path, weight_required: bool = True) -> pd.DataFrame:
    """Read and check a posterior file: known parameters in their ranges, non-negative weights.

    ``weight_required=False`` also reads an unweighted ensemble (every row weight 1), as the worlds of
    ``convsim compare`` do with the rejection ensemble.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: file not found (expected a posterior CSV: one column per parameter and weight)")
    try:
        df = pd.read_csv(p)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    if not weight_required and "weight" not in df.columns:
        df["weight"] = 1.0
    if "weight" not in df.columns or len(df.columns) < 2 or len(df) < 1:
        raise InputError(f"{p}: a posterior needs a `weight` column, one column per parameter and at least one row")
    for c in df.columns:
        col = pd.to_numeric(df[c], errors="coerce")
        if c == "weight":
            lo, hi = 0.0, None
        elif c in _RANGES:
            lo, hi = _RANGES[c]
        else:
            raise InputError(f"{p}: column {c!r} is not a parameter (see `convsim params`) nor `weight`")
        bad = col.isna() | ((col < lo) if lo is not None else False) | ((col > hi) if hi is not None else False)
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            if c == "weight":
                raise InputError(f"{p}: row {row + 1}: weights must be numbers ≥ 0, got {str(df[c].iloc[row])!r}")
            raise InputError(f"{p}: row {row + 1}, column {c}: {str(df[c].iloc[row])!r} is not a number in "
                             f"the allowed range {lo} to {hi}")
        df[c] = col.astype(float)
    check_posterior(df, p)
    if not df["weight"].sum() > 0:
        raise InputError(f"{p}: the weights sum to 0")
    return df


def draw_sets(post: pd.DataFrame, sets: int, seed: int) -> pd.DataFrame:
    """``sets`` rows of ``post`` in proportion to ``weight``, by systematic resampling (Kitagawa 1996).

    One uniform number u: row i is drawn once for every point (u + k) / sets, k = 0 … sets − 1, that falls
    in its share of the cumulative weights, so ⌊sets·w⌋ or ⌈sets·w⌉ times; the draws are then shuffled
    (same ``seed``) so that any leading subset is a fair sample too.
    """
    w = post["weight"].to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    cum = np.cumsum(w / w.sum())
    cum[-1] = 1.0
    idx = np.searchsorted(cum, (rng.random() + np.arange(sets)) / sets, side="right")
    idx = rng.permutation(np.minimum(idx, len(post) - 1))
    return post.drop(columns="weight").iloc[idx].reset_index(drop=True)


def posterior_records(scenario: Scenario, post: pd.DataFrame, sets: int = 100, reps: int = 10, seed: int = 1,
                      progress: bool = False, backend: str = "local", scheduler: str | None = None,
                      workers: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Records of ``sets`` parameter sets drawn by weight, ``reps`` replications each, 2018–2022.

    Returns (records, chosen sets); draw ``k`` runs replications ``k·reps … k·reps + reps − 1`` of its set's
    seed (column ``rep``), so a set drawn twice never repeats its random numbers, and every row of the
    KPIs is one replication. The sets run on the executor of ``backend``, ``scheduler`` and ``workers``
    (:func:`sim.executor.job_backend`); the records do not depend on it.
    """
    from sim.executor import executor, job_backend
    from sim.experiment import RunPlan, execute

    chosen = draw_sets(post, sets, seed)
    kind = job_backend(backend, workers)
    runs = tuple(model.particle_run(scenario, {str(c): float(v) for c, v in chosen.iloc[k].items()},
                                    range(k * reps, k * reps + reps), seed, k, "predictive") for k in range(sets))
    plan = RunPlan(runs, seed, "fast", place=model.place_at_values, threads=1 if kind == "dask" else None)
    parts = []
    bar = None
    if progress:
        from sim.progress import bar as new_bar

        bar = new_bar(sets, "posterior predictive", unit="set")
    try:
        with executor(kind, scheduler, workers) as ex:
            for _, rec in execute(plan, ex):
                parts.append(rec)
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return pd.concat(parts, ignore_index=True), chosen


def predictive_table(scenario: Scenario, post: pd.DataFrame, sets: int = 100, reps: int = 10, seed: int = 1,
                     progress: bool = False, backend: str = "local", scheduler: str | None = None,
                     workers: int | None = None) -> pd.DataFrame:
    """Every target of ``calibration/targets.toml`` under the posterior: one row per target.

    Columns: ``target, kpi, low, high, mean`` (over every set and replication), ``rep_p05, rep_p95`` (90 %
    predictive interval of one replication), ``set_p05, set_p95`` (90 % interval of the sets' means),
    ``share_sets_within`` (sets whose mean lies in the band) and ``within`` (the check of ``convsim targets``
    on the pooled replications: the mean in the band, or the share reaching the floor).
    """
    from sim.analysis.kpi import kpis
    from sim.analysis.targets import evaluate, load_targets

    records, _ = posterior_records(scenario, post, sets, reps, seed, progress, backend, scheduler, workers)
    targets = load_targets()
    res = evaluate(records, targets)
    rows = []
    for t, (_, r) in zip(targets, res.iterrows(), strict=True):
        k = kpis(records, t.first_year, t.last_year)[t.kpi]
        m = k.groupby(k.index // reps).mean().to_numpy(dtype=float)
        inside = (m >= t.low) & (m <= t.high) if t.check == "mean" else \
            k.ge(t.low).groupby(k.index // reps).mean().to_numpy() >= (t.share or 1.0)
        rows.append({"target": t.id, "kpi": t.kpi, "low": t.low, "high": t.high, "mean": r["model_mean"],
                     "rep_p05": r["model_p05"], "rep_p95": r["model_p95"],
                     "set_p05": float(np.quantile(m, 0.05)), "set_p95": float(np.quantile(m, 0.95)),
                     "share_sets_within": float(np.mean(inside)), "within": bool(r["within"])})
    out = pd.DataFrame(rows)
    out.attrs.update({"sets": sets, "reps": reps, "seed": seed})
    return out


def predictive_text(table: pd.DataFrame) -> str:
    """The table as printed: one line per target."""
    a = table.attrs
    lines = [f"Posterior predictive check, 2018–2022: {a.get('sets')} parameter sets drawn by weight × "
             f"{a.get('reps')} replications, seed {a.get('seed')}", "",
             f"{'target':<17}{'kpi':<23}{'band':>18}{'mean':>10}{'90 % one replication':>24}"
             f"{'90 % over sets':>22}{'sets within':>13}  within"]
    for _, r in table.iterrows():
        band = f"{r['low']:.4g}–{r['high']:.4g}" if np.isfinite(r["high"]) else f"≥ {r['low']:.4g}"
        lines.append(f"{r['target']:<17}{r['kpi']:<23}{band:>18}{r['mean']:>10.4g}"
                     f"{f'[{r.rep_p05:.4g}, {r.rep_p95:.4g}]':>24}{f'[{r.set_p05:.4g}, {r.set_p95:.4g}]':>22}"
                     f"{100 * r['share_sets_within']:>12.0f}%  {'yes' if r['within'] else 'NO'}")
    lines += ["", f"{int(table['within'].sum())} of {len(table)} targets within their band (over every set and "
              "replication: the mean in the band; for a floor, the share of replications reaching it)"]
    return "\n".join(lines)
