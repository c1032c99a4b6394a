"""``convsim levers`` and ``convsim targets``: each measure of the report alone, and the report's own figures.

Two checks a reviewer of the model asks for first. ``levers``: every lever of the five group scenarios
(the report's section 三) alone against the status quo, paired, with its evidence and range beside its
effect. ``targets``: the status quo's 2018–2022 against every figure the report gives for those years
(``calibration/targets.toml``). Both check their options and output folder before any simulation and
write through :func:`sim.store.atomic_folder`, like every other command.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli import _check_memory, _check_out, _progress, _report_compile, _say_replacing
from sim.errors import InputError
from sim.scenario import load_scenario
from sim.table import build_table


def cmd_levers(a: argparse.Namespace) -> int:
    """Every lever of every group scenario alone against the baseline, paired; levers.csv."""
    from sim.analysis.levers import lever_table, lever_text, single_lever_scenarios
    from sim.experiment import resolve_engine
    from sim.store import atomic_folder

    base_path = Path(a.baseline)
    baseline = load_scenario(base_path)
    build_table(baseline, str(base_path))
    singles = single_lever_scenarios(baseline, base_path.parent)
    for s in singles:
        build_table(s.scenario, s.source)
    out = Path(a.out) if a.out else Path("runs") / "levers"
    state = _check_out(out, "--out", ("levers",))
    _check_memory(a.reps, baseline.params.n_years, len(singles) + 1)
    _report_compile(resolve_engine(a.engine, a.reps), build_table(baseline), a.quiet)
    with _progress(a.reps * (len(singles) + 1), f"levers: {len(singles)} + baseline", a.quiet) as bar:
        df = lever_table(baseline, singles, a.reps, a.seed, a.engine, bar.update, str(base_path))
    _say_replacing(state, out, a.quiet)
    with atomic_folder(out, kind="levers") as tmp:
        df.to_csv(tmp / "levers.csv", index=False)
    print(lever_text(df, a.reps, a.seed))
    print(f"\nlevers: {out / 'levers.csv'}")
    return 0


def cmd_targets(a: argparse.Namespace) -> int:
    """The baseline's 2018–2022 against every figure of the report (calibration/targets.toml); targets.csv."""
    from sim.analysis.targets import WINDOW, evaluate, load_targets, targets_text
    from sim.experiment import resolve_engine, run_records
    from sim.scenario import with_horizon
    from sim.store import atomic_folder

    if a.posterior is None and a.sets is not None:
        raise InputError("--sets: only with --posterior")
    targets = load_targets()
    sc = load_scenario(a.scenario)
    t = sc.params.time
    if t.start_year != WINDOW[0] or t.horizon_year < WINDOW[1]:
        raise InputError(f"{a.scenario}: key 'params.time': the report's figures are for {WINDOW[0]}–{WINDOW[1]}; "
                         f"this scenario simulates {t.start_year}–{t.horizon_year}")
    sc = with_horizon(sc, WINDOW[1], a.scenario)  # later years cannot change 2018–2022: not simulated
    table = build_table(sc, a.scenario)
    out = Path(a.out) if a.out else Path("runs") / "targets"
    state = _check_out(out, "--out", ("targets",))
    if a.posterior is not None:
        return _targets_posterior(a, sc, table, out, state)
    a.reps = a.reps if a.reps is not None else 300
    _check_memory(a.reps, table.n_years, 1)
    engine = resolve_engine(a.engine, a.reps)
    _report_compile(engine, table, a.quiet)
    with _progress(a.reps, f"targets {sc.id} ({engine})", a.quiet) as bar:
        records = run_records(table, a.seed, range(a.reps), engine, progress=bar.update)
    res = evaluate(records, targets)
    _say_replacing(state, out, a.quiet)
    with atomic_folder(out, kind="targets") as tmp:
        res[["target", "report_value", "low", "high", "model_mean", "model_p05", "model_p95", "within"]].to_csv(
            tmp / "targets.csv", index=False)
    print(targets_text(res, a.reps, a.seed))
    print(f"\ntargets: {out / 'targets.csv'}")
    return 0


def _targets_posterior(a: argparse.Namespace, sc, table, out: Path, state) -> int:  # type: ignore[no-untyped-def]
    """``targets --posterior FILE``: every target under the calibrated posterior (posterior predictive check)."""
    from sim.calibration.figures import predictive
    from sim.calibration.predictive import predictive_table, predictive_text, read_posterior
    from sim.cli_calibrate import PNG_TAG
    from sim.store import atomic_folder

    post = read_posterior(a.posterior)
    sets = a.sets if a.sets is not None else 200
    reps = a.reps if a.reps is not None else 10
    _check_memory(sets * reps, table.n_years, 1, "--sets × --reps")
    _report_compile("fast", table, a.quiet)
    res = predictive_table(sc, post, sets=sets, reps=reps, seed=a.seed, progress=not a.quiet)
    _say_replacing(state, out, a.quiet)
    with atomic_folder(out, kind="targets") as tmp:
        res.to_csv(tmp / "targets.csv", index=False, float_format="%.6g")
        from sim.analysis.figures import style

        with style():
            predictive(res).savefig(tmp / "targets.png", dpi=120, format="png", metadata={"Software": PNG_TAG})
    print(predictive_text(res).replace("Posterior predictive check", f"{a.posterior}: posterior predictive check"))
    print(f"\ntargets: {out / 'targets.csv'}  figure: {out / 'targets.png'}")
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The parsers of `convsim levers` and `convsim targets` (called by :func:`sim.cli.build_parser`)."""
    from sim.cli import _at_least_two, _key

    lv = sub.add_parser("levers", help="every lever of the group scenarios alone against the baseline (paired)")
    lv.add_argument("--baseline", default="scenarios/baseline.toml",
                    help="baseline file; the group files g1–g5 are read beside it (default scenarios/baseline.toml)")
    lv.add_argument("--reps", type=_at_least_two, default=200, help="paired replications, at least 2 (default 200)")
    lv.add_argument("--out", help="output folder (default runs/levers)")
    tg = sub.add_parser("targets", help="the baseline's 2018–2022 against the report's figures (calibration targets)")
    tg.add_argument("--scenario", default="scenarios/baseline.toml", help="scenario (default scenarios/baseline.toml)")
    tg.add_argument("--reps", type=_at_least_two, default=None,
                    help="replications, at least 2 (default 300; with --posterior: per parameter set, default 10)")
    tg.add_argument("--posterior", help="calibrated parameter sets (CSV: one column per parameter and weight, e.g. "
                    "calibration/posterior.csv): the targets under the posterior (sets drawn by weight)")
    tg.add_argument("--sets", type=_at_least_two, default=None,
                    help="with --posterior: parameter sets drawn by weight (default 200)")
    tg.add_argument("--out", help="output folder (default runs/targets)")
    for q, func in ((lv, cmd_levers), (tg, cmd_targets)):
        q.add_argument("--seed", type=_key, default=0, help="master seed (default 0)")
        q.add_argument("--engine", choices=("auto", "simpy", "fast"), default="auto")
        q.add_argument("--quiet", action="store_true", help="no progress bar")
        q.set_defaults(func=func)
