"""The ``convsim`` command line: run scenarios, trace one replication, list parameters.

Every input problem (missing file, malformed TOML, unknown key, wrong type,
value out of range) ends with one line on stderr naming the file, the key
and what is allowed, exit status 2, and nothing written.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from sim import __version__
from sim.errors import InputError
from sim.scenario import Scenario, load_scenario
from sim.store import State, check_output_dir, check_output_file
from sim.table import Table, build_table

if TYPE_CHECKING:
    from sim.sweep.spec import Sweep


def _load(path: str) -> tuple[Scenario, Table]:
    sc = load_scenario(path)
    return sc, build_table(sc, path)


def _progress(total: int, desc: str, quiet: bool):  # type: ignore[no-untyped-def]
    from sim.progress import bar

    return bar(total, desc, quiet)


def _report_compile(engine: str, table: Table, quiet: bool) -> None:
    """Load (or compile, the first time) the fast engine and say how long it took."""
    if engine != "fast":
        return
    from sim.experiment import engine_ready

    secs = engine_ready(engine, table)
    if not quiet:
        print(f"fast engine ready in {secs:.1f} s (the first run on a machine compiles it, ≈ 40 s; "
              "later runs load it from the on-disk cache)", file=sys.stderr)


def _check_out(path: Path, option: str = "--out", kinds: tuple[str, ...] | None = None) -> State:
    """Check the output folder before any work (see :mod:`sim.store`); returns what will happen to it."""
    return check_output_dir(path, option, kinds)


def _say_replacing(state: State, path: Path, quiet: bool) -> None:
    if state == "replace" and not quiet:
        print(f"convsim: replacing the earlier convsim output in {path}", file=sys.stderr)


#: Copies of a replication's records a run holds at once (stacking, the table, Parquet); with 8-byte values and
#: one row per record row, used to refuse a --reps the machine cannot hold.
RECORD_COPIES = 4


def _check_memory(reps: int, n_years: int, arms: int, option: str = "--reps") -> None:
    """Refuse, before any work, a number of replications whose records would not fit in half the memory."""
    import os

    from sim.layout import RECORD_ROWS

    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return
    per_rep_year = len(RECORD_ROWS) * 8 * RECORD_COPIES
    need = reps * n_years * arms * per_rep_year
    if need > total / 2:
        most = int(total / 2 / (n_years * arms * per_rep_year))
        raise InputError(f"{option} {reps}: the records would need about {need / 2**30:,.1f} GiB of memory and this "
                         f"machine has {total / 2**30:,.1f} GiB; at most {most:,} here")


def cmd_run(a: argparse.Namespace) -> int:
    # NumPy and pyarrow only, no pandas (≈ 0.2 s of import): a one-replication run starts in under a second
    # with a warm cache (tests/test_start.py checks what this path imports; BENCHMARKS.md has the time)
    from sim.analysis.kpi import kpi_arrays, kpi_table_text, summary_rows
    from sim.experiment import manifest, resolve_engine, run_record_arrays, write_run

    sc, table = _load(a.scenario)
    out = Path(a.out) if a.out else Path("runs") / sc.id
    state = _check_out(out)
    _check_memory(a.reps, table.n_years, 1)
    engine = resolve_engine(a.engine, a.reps)
    _report_compile(engine, table, a.quiet)
    with _progress(a.reps, f"{sc.id} ({engine})", a.quiet) as bar:
        records = run_record_arrays(table, a.seed, range(a.reps), engine, progress=bar.update)
    # records first: a reader that stops early (`| head`) must not cost the run its results
    _say_replacing(state, out, a.quiet)
    write_run(out, records, manifest(sc, a.scenario, a.seed, a.reps, engine))
    start, policy, horizon = sc.params.time.start_year, sc.params.time.policy_start_year, \
        sc.params.time.horizon_year
    windows = {f"{start}–{min(policy - 1, horizon)}": (start, min(policy - 1, horizon))}
    if horizon >= policy:
        windows[f"{policy}–{horizon}"] = (policy, horizon)
    summaries = {name: summary_rows(kpi_arrays(records, lo, hi)[1]) for name, (lo, hi) in windows.items()}
    title = sc.scenario.name_zh if a.lang == "zh" else sc.scenario.name_en
    one = a.reps < 2
    if a.lang == "zh":
        print(f"{title} — {a.reps} 次重复,随机种子 {a.seed},引擎 {engine};"
              + ("单次重复的值(区间至少需要 2 次重复)" if one else "各次重复的均值 [90% 区间]"))
    else:
        print(f"{title} — {a.reps} replications, seed {a.seed}, engine {engine}; "
              + ("one replication's values (an interval needs at least 2)" if one
                 else "mean [90 % interval] over replications"))
    print(kpi_table_text(summaries, a.lang, targets="report" if start == 2018 else None, intervals=not one))
    print(f"\nrecords: {out / 'records.parquet'}  manifest: {out / 'manifest.json'}")
    return 0


def _ranking_text(c, lang: str) -> str:  # type: ignore[no-untyped-def]
    from sim.analysis.compare import HEADLINE

    s = c.summary
    zh = lang == "zh"
    names = {a.scenario.id: (a.scenario.scenario.name_zh if zh else a.scenario.scenario.name_en) for a in c.arms}
    ranked = f"Δ {c.kpi} [95 %]"
    other = ("Δ industrialised", HEADLINE) if c.kpi != HEADLINE else ("Δ introduced+conv.", "introduced_converted")
    head = (f"{'#':>3} {'scenario':<22} {ranked:>26} {'P(better)':>9} {'verdict':<14}"
            f" {other[0]:>16} {'Δ ind/offered':>13} {'Δ years to prod.':>16} {'Δ fiscal M¥':>12}"
            f" {'M¥ per extra':>12}  name")
    lines = [f"{c.window[0]}–{c.window[1]}, ranked by {c.kpi}", head, "-" * len(head)]
    get = s.set_index(["scenario", "kpi"])
    for _, r in c.ranking.iterrows():
        sid = r["scenario"]
        h = get.loc[(sid, c.kpi)]
        verdict = "gain" if h["gain"] else ("loss" if h["loss"] else "no clear gain")
        if r["tied_with_previous"]:
            verdict += " ≈↑"
        per = get.loc[(sid, HEADLINE), "cost_per_extra_industrialisation_myuan"]
        lines.append(
            f"{r['rank']:>3} {sid:<22} {h['diff']:>+8.3g} [{h['lo']:>+7.3g}, {h['hi']:>+7.3g}] {h['p_beat']:>9.2f}"
            f" {verdict:<14} {get.loc[(sid, other[1]), 'diff']:>+16.2f}"
            f" {100 * get.loc[(sid, 'rate_overall'), 'diff']:>+11.2f}pp"
            f" {get.loc[(sid, 'time_to_production'), 'diff']:>+16.3f} {get.loc[(sid, 'fiscal_cost'), 'diff']:>+12.2f}"
            f" {'–' if per != per else f'{per:.2f}':>12}  {names[sid]}")
    lines.append("≈↑ = indistinguishable from the scenario ranked above (paired 95 % interval crosses zero); "
                 "'gain' only when the whole interval is above zero.")
    return "\n".join(lines)


def _at_horizon(sc: Scenario, horizon: int | None, source: str) -> Scenario:
    """The scenario with ``--horizon`` as its last simulated year (unchanged without the option)."""
    if horizon is None:
        return sc
    from sim.scenario import with_horizon

    return with_horizon(sc, horizon, source)


def cmd_compare(a: argparse.Namespace) -> int:
    from sim import api
    from sim.analysis.report import write_report

    if a.reps is not None and a.precision is not None:
        raise InputError("--reps and --precision exclude each other: give one")
    base_path = Path(a.baseline)
    if a.scenarios:
        paths = [Path(p) for p in a.scenarios]
    else:
        d = base_path.parent
        if not d.is_dir():
            raise InputError(f"{d}: no scenario folder; give scenario files or --baseline in a scenario folder")
        paths = sorted(p for p in d.glob("*.toml") if p.resolve() != base_path.resolve())
        if not paths:
            raise InputError(f"{d}: no scenario files besides the baseline")
    baseline = _at_horizon(load_scenario(base_path), a.horizon, str(base_path))
    build_table(baseline, str(base_path))
    scenarios = []
    for p in paths:
        sc = _at_horizon(load_scenario(p), a.horizon, str(p))
        build_table(sc, str(p))
        scenarios.append((sc, str(p)))
    ids = [sc.id for sc, _ in scenarios]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise InputError(f"{', '.join(sorted(dup))}: scenario ids must be unique among the files compared")
    report = Path(a.report) if a.report else Path("runs") / "compare"
    state = _check_out(report, "--report")
    reps = a.reps if a.reps is not None else (None if a.precision is not None else 500)
    n_arms = len(scenarios) + 1
    _check_memory(reps or a.max_reps, baseline.params.n_years, n_arms, "--reps" if reps else "--max-reps")
    if a.posterior is not None:
        from sim.analysis.worlds import read_posterior

        read_posterior(a.posterior)
    if a.scheduler is not None:
        if a.backend != "dask":
            raise InputError("--scheduler: only with --backend dask")
        from sim.executor import check_scheduler_address

        check_scheduler_address(a.scheduler)
    from sim.experiment import resolve_engine

    _report_compile(resolve_engine(a.engine, reps or 200), build_table(baseline, str(base_path)), a.quiet)
    with _progress(((reps or 200) + a.worlds * a.world_reps) * n_arms, f"compare {n_arms} scenarios", a.quiet) as bar:
        def hint(total: int) -> None:
            bar.total = total
            bar.refresh()
        c = api.compare(baseline, [sc for sc, _ in scenarios], reps=reps or 0, seed=a.seed, engine=a.engine,
                        precision=a.precision, max_reps=a.max_reps, progress=bar.update, on_total=hint,
                        kpi=a.kpi, worlds=a.worlds, world_reps=a.world_reps, posterior=a.posterior,
                        backend=a.backend, scheduler=a.scheduler).comparison
    _say_replacing(state, report, a.quiet)
    out = write_report(c, report, a.lang)  # before printing: a reader that stops early must not cost the report
    zh = a.lang == "zh"
    print(f"{'基线' if zh else 'Baseline'}: {baseline.id}; {c.window[0]}–{c.window[1]}; {c.reps} paired "
          f"replications each, seed {a.seed}")
    if a.precision is not None:
        from sim.analysis.compare import HEADLINE

        worst = c.summary.loc[c.summary["kpi"] == HEADLINE, "half_width"].max()
        print(f"--precision {a.precision}: reached with {c.reps} replications per scenario"
              if worst <= a.precision else f"--precision {a.precision}: stopped at --max-reps {a.max_reps}")
    print(_ranking_text(c, a.lang))
    if c.worlds is not None:
        from sim.analysis.worlds_report import worlds_text

        print("\n" + worlds_text(c, a.lang))
    if c.long is not None:
        print("\n" + _ranking_text(c.long, a.lang))
    print(f"\nreport: {out / 'report.html'}  summary: {out / 'summary.csv'}  figures: {out}/*.png")
    return 0


def is_trace_file(path: Path) -> bool:
    """Whether ``path`` is a trace convsim wrote (its columns are a trace's), so it may be overwritten."""
    from sim.layout import TRACE_COLUMNS

    try:
        if path.suffix == ".csv":
            with path.open(encoding="utf-8") as f:
                return f.readline().strip() == ",".join(TRACE_COLUMNS)
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names) == list(TRACE_COLUMNS)
    except Exception:  # anything unreadable is not a trace of ours
        return False


def cmd_trace(a: argparse.Namespace) -> int:
    from sim.experiment import trace_run
    from sim.store import atomic_file

    sc, table = _load(a.scenario)
    out = Path(a.out) if a.out else Path("runs") / f"{sc.id}-trace-rep{a.rep}.csv"
    if out.suffix not in (".csv", ".parquet"):
        raise InputError(f"{out}: --out must end in .csv or .parquet")
    check_output_file(out, "--out", is_trace_file)
    trace = trace_run(table, a.seed, a.rep)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(out) as tmp:
        if out.suffix == ".csv":
            trace.to_csv(tmp, index=False)
        else:
            trace.to_parquet(tmp, index=False)
    n_offers = trace["offer_key"].nunique()
    print(f"{len(trace)} events of {n_offers} offers, replication {a.rep}, seed {a.seed} → {out}")
    return 0


def _run_sweep(a: argparse.Namespace, sw: Sweep, out: Path) -> bool:
    """Run (or resume) a sweep with a progress bar; False if interrupted (finished points are kept)."""
    from sim.sweep import run_sweep

    bar = None

    def start(runs: int, todo: int) -> None:
        nonlocal bar
        if not a.quiet:
            done = runs - todo
            arms = f" × {len(sw.arms)} scenarios" if len(sw.arms) > 1 else ""
            print(f"sweep {sw.id}: {runs // len(sw.arms)} points{arms} × {sw.spec.sweep.reps} replications, design "
                  f"{sw.spec.sweep.design}, backend {a.backend}"
                  + (f"; resuming: {done} of {runs} runs already in {out}" if done else ""), file=sys.stderr)
        bar = _progress(todo * sw.spec.sweep.reps, "sweep", a.quiet)

    if a.backend == "local":
        from sim.sweep.design import design, point_scenario, point_values
        from sim.table import build_table

        _report_compile("fast", build_table(point_scenario(sw, point_values(design(sw), 0))), a.quiet)
    try:
        run_sweep(sw, out, backend=a.backend, scheduler=a.scheduler, workers=a.workers, fresh=a.fresh,
                  progress=lambda n: bar.update(n) if bar is not None else None, on_start=start)
    except KeyboardInterrupt:
        if bar is not None:
            bar.close()
        print(f"convsim: interrupted; every finished point is saved in {out}; run the same command again "
              "to resume", file=sys.stderr)
        return False
    if bar is not None:
        bar.close()
    return True


def _check_sweep_options(a: argparse.Namespace, sw: Sweep, out: Path) -> None:
    """Output folder and Dask options, before any work (a sweep folder is resumed, or replaced with --fresh)."""
    from sim.executor import check_scheduler_address
    from sim.sweep.runner import check_points

    _check_out(out, "--out", ("sweep",))
    if a.scheduler is not None:
        if a.backend != "dask":
            raise InputError("--scheduler: only with --backend dask")
        check_scheduler_address(a.scheduler)
    if a.workers is not None and a.backend != "dask":
        raise InputError("--workers: only with --backend dask")
    check_points(sw)


def cmd_sweep(a: argparse.Namespace) -> int:
    from sim.sweep import load_sweep
    from sim.sweep.analysis import result_text

    sw = load_sweep(a.spec)
    out = Path(a.out) if a.out else Path("runs") / f"sweep-{sw.id}"
    _check_sweep_options(a, sw, out)
    if not _run_sweep(a, sw, out):
        return 130
    print(result_text(sw, out))
    return 0


def cmd_calibrate(a: argparse.Namespace) -> int:
    from sim.sweep import load_sweep

    if a.method == "smc" or (a.method == "auto" and _has_table(a.spec, "smc")):
        from sim.cli_calibrate import cmd_calibrate_smc

        return cmd_calibrate_smc(a)
    from sim.sweep.calibrate import calibration_text, check_window, write_calibration

    sw = load_sweep(a.spec)
    check_window(sw)
    out = Path(a.out) if a.out else Path("runs") / f"calibrate-{sw.id}"
    _check_sweep_options(a, sw, out)
    if not _run_sweep(a, sw, out):
        return 130
    scored = write_calibration(sw, out, a.tolerance)
    print(calibration_text(sw, scored, out, a.tolerance))
    return 0


def cmd_params(a: argparse.Namespace) -> int:
    from sim.params import parameter_rows

    rows = parameter_rows()
    if a.markdown:
        print("| parameter | unit | default | range | source |")
        print("|---|---|---|---|---|")
        for r in rows:
            rng = f"{r['min'] if r['min'] is not None else ''} – {r['max'] if r['max'] is not None else ''}"
            note = f" — {r['meaning']}" if r["meaning"] else ""
            print(f"| `{r['parameter']}` | {r['unit']} | {r['default']} | {rng} | {r['source']}{note} |")
    else:
        for r in rows:
            print(f"{r['parameter']:<45} {r['default']!s:>14} {r['unit']:<24} {r['source']}")
    return 0


def _has_table(path: str, table: str) -> bool:
    """Whether the TOML file has ``[table]`` (anything unreadable is left to the loaders to report)."""
    import tomllib

    try:
        return table in tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False


def _is_sweep_file(path: str) -> bool:
    """A sweep (or calibration) file has a ``[sweep]`` table; anything unreadable is left to the scenario loader."""
    import tomllib

    try:
        return "sweep" in tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False


def cmd_validate(a: argparse.Namespace) -> int:
    for path in a.files:
        if _has_table(path, "smc"):
            from sim.calibration.priors import load_calibration

            cal = load_calibration(path)
            print(f"{path}: ok — ABC-SMC calibration {cal.id}, {len(cal.names)} parameters, "
                  f"{cal.spec.smc.population} particles × {cal.spec.smc.reps} replications")
            continue
        if _is_sweep_file(path):
            from sim.sweep import load_sweep
            from sim.sweep.runner import check_points

            sw = load_sweep(path)
            points = check_points(sw)
            print(f"{path}: ok — sweep {sw.id}, {len(points)} point(s) × {len(sw.arms)} scenario(s) × "
                  f"{sw.spec.sweep.reps} replications")
            continue
        sc, table = _load(path)
        print(f"{path}: ok — {sc.id}, {len(sc.levers)} lever(s), {table.n_years} simulated years")
    return 0


def cmd_variants(a: argparse.Namespace) -> int:
    from sim.budget import write_variants

    d = Path(a.dir)
    groups = [load_scenario(d / f) for f in ("g1_awareness.toml", "g2_platforms.toml", "g3_talent.toml",
                                              "g4_intermediaries.toml", "g5_finance.toml")]
    base = load_scenario(d / "baseline.toml")
    for p in write_variants(d, groups, base.params, a.budget):
        sc, _ = _load(str(p))
        print(f"{p}: {len(sc.levers)} lever(s), {sc.yearly_cost(base.params.time.horizon_year):,.0f} yuan/year")
    return 0


def cmd_optimise(a: argparse.Namespace) -> int:
    from sim.optimise.command import run

    return run(a)


def _whole(v: str, lo: int) -> int:
    try:
        n = int(v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {v!r}") from None
    if not lo <= n < 2**63:
        raise argparse.ArgumentTypeError(f"must be between {lo} and 2**63−1, got {n}")
    return n


def _share(v: str) -> float:
    try:
        x = float(v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 10, got {v!r}") from None
    if not 0.0 <= x <= 10.0:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 10, got {v!r}")
    return x


def _positive(v: str) -> int:
    return _whole(v, 1)


def _nonneg_max(most: int) -> Callable[[str], int]:
    def check(v: str) -> int:
        n = _whole(v, 0)
        if n > most:
            raise argparse.ArgumentTypeError(f"must be between 0 and {most:,}, got {n}")
        return n

    return check


def _at_least_two(v: str) -> int:
    """Replications of a comparison: an interval needs at least two."""
    return _whole(v, 2)


def _finite_positive(v: str) -> float:
    try:
        x = float(v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number above 0, got {v!r}") from None
    if not (math.isfinite(x) and x > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number above 0, got {v!r}")
    return x


def _budget(v: str) -> float:
    x = _finite_positive(v)
    if x > MAX_BUDGET:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_BUDGET:,.0f} yuan a year, got {v!r}")
    return x


#: Largest yearly budget `variants` accepts (yuan): the lever cost limit of a scenario file (1e11) over 10 levers.
MAX_BUDGET = 1e10


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: the message and where to find help, no usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _nonneg(v: str) -> int:
    return _whole(v, 0)


def _year(v: str) -> int:
    """A horizon year: a whole number the time parameters allow (checked with the scenario)."""
    n = _whole(v, 2018)
    if n > 2060:
        raise argparse.ArgumentTypeError(f"must be at most 2060, got {n}")
    return n


#: Keys `compare --kpi` accepts (every KPI and the fiscal cost); listed here so the parser needs no heavy import.
RANKABLE = ("offers", "meetings", "contracts", "all_contracts", "subsidised", "pilots", "pilots_public",
            "industrialised", "introduced_converted", "awards", "rate_contract", "rate_industrialised",
            "rate_overall", "time_to_production", "yuan_subsidy_city", "yuan_subsidy_county", "yuan_awards",
            "yuan_hightech_rewards", "yuan_pilot_matching", "yuan_fund_use", "yuan_pilot_cost", "yuan_loans",
            "yuan_firm_rd", "yuan_rd_induced", "hightech_stock", "hightech_applications", "tech_sme_stock",
            "above_size_stock", "projects_lost_to_exit", "broker_utilisation",
            "pilot_utilisation", "wait_pilot", "wait_broker", "broker_turned_away", "pilot_turned_away",
            "fiscal_cost")


def _key(v: str) -> int:
    """A seed or replication number: a 32-bit field of every random-number key (sim/rng.py)."""
    n = _whole(v, 0)
    if n >= 2**32:
        raise argparse.ArgumentTypeError(f"must be below 2**32 = {2**32}, got {n}")
    return n


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="convsim", description="Policy simulator for research-result conversion "
                                "in Suizhou (随州科技成果转化政策模拟).")
    p.add_argument("--version", action="version", version=f"convsim {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run replications of one scenario and print its KPIs")
    r.add_argument("scenario", help="scenario file (.toml)")
    r.add_argument("--reps", type=_positive, default=100, help="replications (default 100)")
    r.add_argument("--seed", type=_key, default=0, help="master seed (default 0)")
    r.add_argument("--engine", choices=("auto", "simpy", "fast"), default="auto",
                   help="simpy (reference), fast (compiled, all cores) or auto: fast if its compiled code "
                   "is cached or for more than 4 replications, else simpy (default auto)")
    r.add_argument("--out", help="output folder (default runs/<scenario id>)")
    r.add_argument("--lang", choices=("en", "zh"), default="en", help="labels in English or Chinese")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(func=cmd_run)

    c = sub.add_parser("compare", help="compare scenarios with the baseline on common random numbers (main job)")
    c.add_argument("scenarios", nargs="*", help="scenario files (default: every .toml beside the baseline)")
    c.add_argument("--baseline", default="scenarios/baseline.toml", help="baseline file (default "
                   "scenarios/baseline.toml)")
    c.add_argument("--reps", type=_at_least_two, default=None,
                   help="paired replications per scenario, at least 2 (default 500)")
    c.add_argument("--precision", type=_finite_positive, default=None,
                   help="add replications until every 95 %% half-width of Δ industrialised is at most this (> 0)")
    c.add_argument("--max-reps", type=_at_least_two, default=20000, help="cap for --precision (default 20000)")
    c.add_argument("--seed", type=_key, default=0, help="master seed (default 0)")
    c.add_argument("--engine", choices=("auto", "simpy", "fast"), default="auto")
    c.add_argument("--report", help="report folder (default runs/compare)")
    c.add_argument("--kpi", default="industrialised", choices=RANKABLE, metavar="KEY",
                   help="rank by this KPI (default industrialised; any KPI of `convsim run`, e.g. "
                   "introduced_converted, rate_contract, rate_industrialised, rate_overall, or fiscal_cost)")
    c.add_argument("--horizon", type=_year, default=None,
                   help="last simulated year (default the baseline's, 2027); beyond 2027 the policy period is "
                   "also judged as a whole (e.g. 2023–2032)")
    c.add_argument("--worlds", type=_nonneg_max(10_000), default=40,
                   help="also compare in N worlds of uncertainty: a calibrated parameter set and a draw of every "
                   "lever's effect and cost from its range (default 40; 0 = the defaults only)")
    c.add_argument("--world-reps", type=_at_least_two, default=50, help="paired replications per world (default 50)")
    c.add_argument("--posterior", default=None, help="calibrated parameter sets, CSV with an optional weight column "
                   "(default calibration/posterior.csv, else calibration/ensemble.csv, beside the scenario folder)")
    c.add_argument("--backend", choices=("local", "dask"), default="local",
                   help="where the worlds run: local (all cores) or dask (one task per world and scenario)")
    c.add_argument("--scheduler", help="Dask scheduler address (default: a local cluster)")
    c.add_argument("--lang", choices=("en", "zh"), default="en", help="language of tables and the page")
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    c.set_defaults(func=cmd_compare)

    t = sub.add_parser("trace", help="write the event trace of one replication (every offer's path)")
    t.add_argument("scenario", help="scenario file (.toml)")
    t.add_argument("--rep", type=_key, default=0, help="replication number (default 0)")
    t.add_argument("--seed", type=_key, default=0, help="master seed (default 0)")
    t.add_argument("--out", help="output file, .csv or .parquet (default runs/<id>-trace-rep<K>.csv)")
    t.set_defaults(func=cmd_trace)

    s = sub.add_parser("sweep", help="run a parameter sweep (grid, Latin hypercube or Sobol); resumes if interrupted")
    s.add_argument("spec", help="sweep file (.toml), e.g. sweeps/bottlenecks.toml")
    s.add_argument("--out", help="output folder (default runs/sweep-<id>)")
    s.add_argument("--backend", choices=("local", "dask"), default="local",
                   help="local (this machine, all cores) or dask (one task per point; default local)")
    s.add_argument("--scheduler", help="Dask scheduler address (default: a local cluster, one worker per core)")
    s.add_argument("--workers", type=_positive, default=None, help="workers of the local Dask cluster")
    s.add_argument("--fresh", action="store_true", help="replace an output folder made from another spec")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=cmd_sweep)

    k = sub.add_parser("calibrate", help="calibrate to the report's 2018–2022 figures: ABC-SMC (--method smc, "
                       "a posterior) or rejection over a sweep (an ensemble); resumes if interrupted")
    k.add_argument("spec", help="calibration file (.toml): calibration/smc.toml (smc) or calibration/priors.toml "
                   "(rejection)")
    k.add_argument("--out", help="output folder (default runs/calibrate-<id>)")
    from sim.cli_calibrate import add_smc_options

    add_smc_options(k, _positive, _nonneg)
    k.add_argument("--tolerance", type=_share, default=0.0,
                   help="accept a target missed by at most this share of the nearer end of its range (default 0)")
    for arg, kw in (("--backend", {"choices": ("local", "dask"), "default": "local"}), ("--scheduler", {}),
                    ("--workers", {"type": _positive, "default": None})):
        k.add_argument(arg, **kw)  # type: ignore[arg-type]
    k.add_argument("--fresh", action="store_true", help="replace an output folder made from another spec")
    k.add_argument("--quiet", action="store_true", help="no progress bar")
    k.set_defaults(func=cmd_calibrate)

    q = sub.add_parser("params", help="list every parameter with unit, default and source")
    q.add_argument("--markdown", action="store_true", help="as a Markdown table")
    q.set_defaults(func=cmd_params)

    w = sub.add_parser("variants", help="(re)write all_five.toml and the equal-budget scenarios from g1–g5")
    w.add_argument("--dir", default="scenarios", help="scenario folder (default scenarios)")
    w.add_argument("--budget", type=_budget, default=3_000_000.0,
                   help="extra yuan a year per group, above 0 (default 3 M)")
    w.set_defaults(func=cmd_variants)

    v = sub.add_parser("validate", help="check scenario, sweep and calibration files without running them")
    v.add_argument("files", nargs="+", help="scenario or sweep files (.toml)")
    v.set_defaults(func=cmd_validate)

    o = sub.add_parser("optimise", help="search the best mix of the group scenarios' levers for a yearly budget "
                       "(Optuna TPE, successive halving, fresh re-estimate); resumes if interrupted")
    o.add_argument("--budget", type=float, required=True, help="yuan a year; no year's lever cost may exceed it")
    o.add_argument("--kpi", default="industrialised", help="KPI to improve, as in `convsim compare` (default "
                   "industrialised, 2023–horizon)")
    o.add_argument("--reps", type=_positive, default=240, help="paired replications of a mix that survives every "
                   "rung of successive halving (rungs reps/9, reps/3, reps; default 240; with --worlds: --world-reps)")
    o.add_argument("--confirm-reps", type=_positive, default=1000, help="fresh replications of the re-estimate "
                   "at the stated values (default 1000)")
    o.add_argument("--trials", type=_positive, default=150, help="mixes tried per budget (default 150)")
    o.add_argument("--seed", type=_nonneg, default=0, help="master seed of the simulation and the sampler (default 0)")
    o.add_argument("--baseline", default="scenarios/baseline.toml", help="baseline file; the group scenarios "
                   "g1–g5 and the shipped scenarios are read from its folder (default scenarios/baseline.toml)")
    o.add_argument("--out", default="runs/optimise", help="output folder (default runs/optimise)")
    o.add_argument("--frontier", help="budgets B1,B2,… (yuan a year): best mix at each, frontier.csv and .png")
    o.add_argument("--worlds", type=int, default=0,
                   help="judge every mix in N worlds of uncertainty (a calibrated parameter set and a draw of every "
                   "lever's effect and cost), the same N for every mix (default 0: the stated values only)")
    o.add_argument("--risk", default="mean", help="with --worlds: maximise the mean over worlds, or p10, the 10th "
                   "percentile (the bad tail; needs --worlds 10 or more) (default mean)")
    o.add_argument("--world-reps", type=int, default=None, help="with --worlds: paired replications per world of a "
                   "mix that survives every rung, and per fresh world (default 50)")
    o.add_argument("--confirm-worlds", type=int, default=None, help="with --worlds: fresh worlds of the "
                   "re-estimate (default 40, or --worlds if more)")
    o.add_argument("--posterior", default=None, help="with --worlds: calibrated parameter sets, CSV with an optional "
                   "weight column (default calibration/posterior.csv, else calibration/ensemble.csv, beside the "
                   "scenario folder)")
    o.add_argument("--quiet", action="store_true", help="no progress bar")
    o.set_defaults(func=cmd_optimise)

    e = sub.add_parser("explore", help="the planner's scenario explorer in the browser (build a mix, run it, see "
                       "the answer, ask for the best mix)")
    from sim.explore.server import add_arguments, command

    add_arguments(e)
    e.set_defaults(func=command)

    from sim.cli_measures import add_parsers

    add_parsers(sub)  # convsim levers, convsim targets
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except InputError as exc:
        print(f"convsim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("convsim: interrupted; nothing was written", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into head & co.: not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
