"""The posterior predictive check: the model at the calibrated parameter sets against the report's figures.

``sets`` parameter sets are drawn from a posterior (``posterior.csv``: one
column per parameter and ``weight``) with probability proportional to their
weights; each runs ``reps`` replications over 2018–2022 with a seed of its own
(a hash of ``seed`` and its values: other random numbers than the calibration
used). For every target the table gives the predictive mean (over all sets and
replications), the 90 % predictive interval of one replication (what one
more "2018–2022" could look like) and the 90 % interval of the sets' means
(parameter uncertainty alone), and whether the mean lies within the report's band.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration import model
from sim.errors import InputError
from sim.params import parameter_rows
from sim.scenario import Scenario

_RANGES = {r["parameter"]: (r["min"], r["max"]) for r in parameter_rows()}


def read_posterior(path: str | Path) -> pd.DataFrame:
    """Read and check a posterior file: known parameters in their ranges, non-negative weights."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: file not found (expected a posterior CSV: one column per parameter and weight)")
    try:
        df = pd.read_csv(p)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: not a readable CSV ({str(exc).splitlines()[0]})") from None
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
            raise InputError(f"{p}: row {row + 1}, column {c}: {str(df[c].iloc[row])!r} is not a number in "
                             f"the allowed range {lo} to {hi}")
        df[c] = col.astype(float)
    if not df["weight"].sum() > 0:
        raise InputError(f"{p}: the weights sum to 0")
    return df


def draw_sets(post: pd.DataFrame, sets: int, seed: int) -> pd.DataFrame:
    """``sets`` rows of ``post`` drawn with replacement, with probability proportional to ``weight``."""
    w = post["weight"].to_numpy(dtype=float)
    idx = np.random.default_rng(seed).choice(len(post), size=sets, replace=True, p=w / w.sum())
    return post.drop(columns="weight").iloc[idx].reset_index(drop=True)


def predictive_table(scenario: Scenario, post: pd.DataFrame, sets: int = 100, reps: int = 10, seed: int = 1,
                     progress: bool = False) -> pd.DataFrame:
    """One row per target: band, predictive mean, 90 % intervals (one replication; sets' means), within."""
    from sim.analysis.kpi import kpis
    from sim.experiment import run_records
    from sim.table import build_table

    bands = model.targets()
    chosen = draw_sets(post, sets, seed)
    per_rep: list[pd.DataFrame] = []
    means: list[pd.Series] = []
    bar = None
    if progress:
        from sim.progress import bar as new_bar

        bar = new_bar(sets, "posterior predictive", unit="set")
    try:
        for k in range(sets):
            values = {str(c): float(v) for c, v in chosen.iloc[k].items()}
            table = build_table(model.window_scenario(scenario, values))
            rec = run_records(table, model.particle_seed(seed, values), range(reps), engine="fast")
            kk = kpis(rec, *model.WINDOW)[list(bands)]
            per_rep.append(kk)
            means.append(kk.mean())
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    allrep = pd.concat(per_rep, ignore_index=True)
    setm = pd.DataFrame(means)
    ids = model.target_ids()
    rows = []
    for key, (lo, hi) in bands.items():
        v = allrep[key].dropna().to_numpy(dtype=float)
        m = setm[key].dropna().to_numpy(dtype=float)
        mean = float(np.mean(v))
        rows.append({"target": ids[key], "kpi": key, "low": lo, "high": hi, "mean": mean,
                     "rep_p05": float(np.quantile(v, 0.05)), "rep_p95": float(np.quantile(v, 0.95)),
                     "set_p05": float(np.quantile(m, 0.05)), "set_p95": float(np.quantile(m, 0.95)),
                     "share_sets_within": float(np.mean((m >= lo) & (m <= hi))),
                     "within": bool(lo <= mean <= hi)})
    out = pd.DataFrame(rows)
    out.attrs.update({"sets": sets, "reps": reps, "seed": seed})
    return out


def predictive_text(table: pd.DataFrame) -> str:
    """The table as printed: one line per target."""
    a = table.attrs
    lines = [f"Posterior predictive check, 2018–2022: {a.get('sets')} parameter sets drawn by weight × "
             f"{a.get('reps')} replications, seed {a.get('seed')}", "",
             f"{'target':<7}{'kpi':<20}{'band':>18}{'mean':>10}{'90 % one replication':>24}"
             f"{'90 % over sets':>22}{'sets within':>13}  within"]
    for _, r in table.iterrows():
        band = f"{r['low']:.4g}–{r['high']:.4g}" if np.isfinite(r["high"]) else f"≥ {r['low']:.4g}"
        lines.append(f"{r['target']:<7}{r['kpi']:<20}{band:>18}{r['mean']:>10.4g}"
                     f"{f'[{r.rep_p05:.4g}, {r.rep_p95:.4g}]':>24}{f'[{r.set_p05:.4g}, {r.set_p95:.4g}]':>22}"
                     f"{100 * r['share_sets_within']:>12.0f}%  {'yes' if r['within'] else 'NO'}")
    lines += ["", f"{int(table['within'].sum())} of {len(table)} targets within their band (predictive mean)"]
    return "\n".join(lines)
