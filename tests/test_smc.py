"""Calibration by ABC-SMC (sim.calibration, `convsim calibrate --method smc`): recovery, resume, seeds, bad input.

Tiny settings (a few parameters, populations of 20–40, 2–5 replications) so the file runs in about a minute.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import tomli_w

from sim.calibration import model, smc
from sim.calibration.predictive import read_posterior
from sim.calibration.priors import load_calibration
from sim.cli import main
from sim.errors import InputError
from sim.experiment import Run
from tests.conftest import BASELINE, ROOT

PRIORS = [
    {"param": "contract.base_logit", "min": -2.2, "max": -0.8, "why": "ASM test"},
    {"param": "subsidy.claim_prob", "min": 0.2, "max": 0.7, "why": "ASM test"},
]


def write_spec(folder: Path, priors: list[dict[str, Any]] | None = None, **smc_: Any) -> Path:
    """A calibration file in ``folder`` on the baseline scenario, tiny by default."""
    meta = {"id": "tiny", "name_en": "tiny", "name_zh": "小", "scenario": str(BASELINE), "population": 20,
            "generations": 3, "reps": 2, "seed": 3, "min_epsilon": 0.0, "min_acceptance": 0.0}
    meta.update(smc_)
    path = folder / "smc.toml"
    path.write_text(tomli_w.dumps({"smc": meta, "priors": priors or PRIORS}), encoding="utf-8")
    return path


def populations(out: Path) -> list[pd.DataFrame]:
    """Every generation's particles and weights, as stored in the history."""
    cal_gens = smc.read_generations(out / smc.DB)
    import pyabc

    h = pyabc.History(f"sqlite:///{out / smc.DB}", create=False)
    return [h.get_distribution(m=0, t=g.t)[0].assign(w=h.get_distribution(m=0, t=g.t)[1]) for g in cal_gens]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """Three generations in one go: the reference for the resume and seed tests."""
    d = tmp_path_factory.mktemp("smc_ref")
    cal = load_calibration(write_spec(d))
    gens = smc.run_smc(cal, d / "out")
    assert [g.t for g in gens] == [0, 1, 2]
    return d / "out", smc.posterior(cal, d / "out" / smc.DB)


@pytest.mark.slow
def test_same_seed_same_posterior(tmp_path: Path, uninterrupted: tuple[Path, pd.DataFrame]) -> None:
    cal = load_calibration(write_spec(tmp_path))
    smc.run_smc(cal, tmp_path / "out")
    pd.testing.assert_frame_equal(smc.posterior(cal, tmp_path / "out" / smc.DB), uninterrupted[1], check_exact=True)
    (tmp_path / "other").mkdir()
    other = load_calibration(write_spec(tmp_path / "other", seed=4))
    smc.run_smc(other, tmp_path / "other" / "out", generations=1)
    first = smc.posterior(cal, tmp_path / "out" / smc.DB, t=0)["contract.base_logit"]
    assert not np.allclose(smc.posterior(other, tmp_path / "other" / "out" / smc.DB)["contract.base_logit"], first)


@pytest.mark.slow
def test_continued_run_keeps_finished_generations(tmp_path: Path, uninterrupted: tuple[Path, pd.DataFrame]) -> None:
    cal = load_calibration(write_spec(tmp_path))
    out = tmp_path / "out"
    assert [g.t for g in smc.run_smc(cal, out, generations=2)] == [0, 1]
    before = populations(out)
    sims_before = [g.simulations for g in smc.read_generations(out / smc.DB)]
    gens = smc.run_smc(cal, out)  # continues: generation 2 only
    assert [g.t for g in gens] == [0, 1, 2]
    after = populations(out)
    for a, b in zip(before, after[:2], strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert [g.simulations for g in gens[:2]] == sims_before
    pd.testing.assert_frame_equal(smc.posterior(cal, out / smc.DB), uninterrupted[1], check_exact=True)


@pytest.mark.slow
def test_killed_run_resumes_from_last_generation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 uninterrupted: tuple[Path, pd.DataFrame]) -> None:
    spec = write_spec(tmp_path)
    out = tmp_path / "out"
    calls = {"n": 0}
    real = smc.score

    def dies_in_generation_2(keys: Any, bands: Any, run: Run, mean: Any, window: Any = None) -> Any:
        calls["n"] += 1
        if run.key[0] == 2 and calls["n"] % 7 == 0:
            raise KeyboardInterrupt  # Ctrl-C in the middle of generation 2
        return real(keys, bands, run, mean, window)

    monkeypatch.setattr(smc, "score", dies_in_generation_2)
    assert main(["calibrate", str(spec), "--method", "smc", "--out", str(out), "--quiet"]) == 130
    assert [g.t for g in smc.read_generations(out / smc.DB)] == [0, 1]
    counted: list[int] = []

    def counting(keys: Any, bands: Any, run: Run, mean: Any, window: Any = None) -> Any:
        counted.append(run.key[0])
        return real(keys, bands, run, mean, window)

    monkeypatch.setattr(smc, "score", counting)
    assert main(["calibrate", str(spec), "--out", str(out), "--quiet", "--predictive-sets", "5",
                 "--predictive-reps", "2"]) == 0
    gens = smc.read_generations(out / smc.DB)
    assert [g.t for g in gens] == [0, 1, 2]
    assert set(counted) == {2} and len(counted) >= gens[2].simulations  # generations 0 and 1 were not run again
    post = pd.read_csv(out / "posterior.csv")
    pd.testing.assert_frame_equal(post, uninterrupted[1], check_exact=False, rtol=1e-9)
    assert list(post.columns) == ["contract.base_logit", "subsidy.claim_prob", "weight"]
    assert abs(post["weight"].sum() - 1) < 1e-9
    for f in ("posterior_predictive.csv", "posterior_predictive.png", "posterior_marginals.png", "generations.csv"):
        assert (out / f).is_file()
    table = pd.read_csv(out / "generations.csv")  # the effective sample size of every generation is reported
    assert list(table["generation"]) == [0, 1, 2] and table["ess"].iloc[0] == pytest.approx(20)
    assert table["ess_truncated"].iloc[-1] == pytest.approx(1 / (post["weight"] ** 2).sum(), rel=1e-5)  # 6 digits
    assert (table["ess_truncated"] >= table["ess"] - 1e-3).all()


@pytest.mark.slow
def test_parameter_recovery_real_model(tmp_path: Path) -> None:
    """Targets simulated at known values: the 90 % posterior interval of each parameter covers its value."""
    priors = [*PRIORS, {"param": "meeting.efficiency_broker", "min": 0.03, "max": 0.09, "why": "ASM test"}]
    truth = {"contract.base_logit": -1.5, "subsidy.claim_prob": 0.45, "meeting.efficiency_broker": 0.06}
    # six generations: at four the threshold is still 3.4 half-widths and the contract logit trades off against
    # the brokers' efficiency (ρ −0.86) across most of its prior; at six (ε 1.9) both are pinned down
    cal = load_calibration(write_spec(tmp_path, priors, population=40, generations=6, reps=4, seed=11))
    sim = model.summaries(cal.scenario, truth, reps=60, seed=12345, keys=["meetings", "contracts", "subsidised"])
    bands = {k: (v * 0.93, v * 1.07) for k, v in sim.items()}
    smc.run_smc(cal, tmp_path / "out", bands=bands)
    post = smc.posterior(cal, tmp_path / "out" / smc.DB)
    for name, value in truth.items():
        lo, hi = _weighted_quantiles(post[name].to_numpy(), post["weight"].to_numpy(), (0.05, 0.95))
        assert lo <= value <= hi, (name, value, lo, hi)
        prior = next(p for p in priors if p["param"] == name)
        assert hi - lo < 0.9 * (prior["max"] - prior["min"]) or name == "meeting.efficiency_broker"


def _weighted_quantiles(x: np.ndarray, w: np.ndarray, qs: tuple[float, ...]) -> list[float]:
    order = np.argsort(x)
    cw = np.cumsum(w[order]) / w.sum()
    return [float(x[order][np.searchsorted(cw, q)]) for q in qs]


@pytest.mark.parametrize("priors, smc_, what", [
    ([{"param": "contract.nonsense", "min": 0, "max": 1, "why": "x"}], {}, "unknown parameter"),
    ([{"param": "subsidy.claim_prob", "min": 0.5, "max": 0.2, "why": "x"}], {}, "must be below"),
    ([{"param": "subsidy.claim_prob", "min": 0.5, "max": 1.5, "why": "x"}], {}, "outside"),
    ([{"param": "subsidy.claim_prob", "min": 0.2, "max": 0.5}], {}, "required key is missing"),
    ([{"param": "time.horizon_year", "min": 2020, "max": 2030, "why": "x"}], {}, "calendar"),
    (PRIORS, {"population": 0}, "population"),
    (PRIORS, {"colour": "red"}, "unknown key"),
])
def test_bad_priors_file_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            priors: list[dict[str, Any]], smc_: dict[str, Any], what: str) -> None:
    spec = write_spec(tmp_path, priors, **smc_)
    assert main(["calibrate", str(spec), "--method", "smc", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and what in err and "smc.toml" in err, err
    assert not (tmp_path / "out").exists()


def test_malformed_and_missing_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[smc\nid = 1", encoding="utf-8")
    for f in (bad, tmp_path / "missing.toml"):
        assert main(["calibrate", str(f), "--method", "smc", "--out", str(tmp_path / "out")]) == 2
        assert capsys.readouterr().err.count("\n") == 1
    with pytest.raises(InputError, match="rejection"):
        load_calibration(ROOT / "calibration" / "priors.toml")


def test_out_folder_and_export_are_checked_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine", encoding="utf-8")
    assert main(["calibrate", str(spec), "--out", str(mine)]) == 2
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "posterior.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    assert main(["calibrate", str(spec), "--out", str(tmp_path / "out"), "--export", str(exp)]) == 2
    assert "posterior.csv" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() and (exp / "posterior.csv").read_text() == "a,b\n1,2\n"


def test_distance_is_at_most_one_inside_every_band() -> None:
    bands = {"a": (10.0, 20.0), "b": (0.0, 1.0)}
    assert model.distance({"a": 15, "b": 0.5}, bands) == 0
    assert model.distance({"a": 10, "b": 1.0}, bands) == 1
    assert model.distance({"a": 25, "b": 0.5}, bands) == 2  # one half-width outside


def test_floor_scores_zero_at_or_above_and_only_shortfalls_count() -> None:
    """A lower bound of the report (T11 "at least 200 M"): 0 at or above it, above 1 below it, whatever the excess."""
    bands = {"yuan_rd_induced": (200.0, math.inf), "meetings": (500.0, 600.0)}
    d = [model.band_distances({"yuan_rd_induced": v, "meetings": 550}, bands)["yuan_rd_induced"]
         for v in (200.0, 270.0, 5000.0, 199.0, 180.0)]
    assert d[:3] == [0.0, 0.0, 0.0] and 1 < d[3] < d[4]
    assert d[4] == pytest.approx(1 + 20 / 20)  # shortfall in tenths of the floor
    assert model.distance({"yuan_rd_induced": 900.0, "meetings": 550}, bands) == 0


def test_report_targets_in_the_distance() -> None:
    """Every mean target of targets.toml is scored: T8's 2022 applications over 2022, T11 as a lower bound."""
    from sim.analysis.targets import load_targets

    bands = model.targets()
    assert bands["hightech_applications@2022-2022"] == (85.0, 105.0)
    assert bands["yuan_rd_induced"] == (200.0, math.inf)  # one-sided: the report's "several hundred million"
    assert bands["hightech_stock"] == (165.0, 190.0)
    ids = model.target_ids()
    assert ids["hightech_applications@2022-2022"] == "T8_applications" and ids["yuan_rd_induced"] == "T11"
    assert set(ids.values()) == {t.id for t in load_targets() if t.check == "mean"}
    assert model.split_key("hightech_applications@2022-2022") == ("hightech_applications", 2022, 2022)
    assert model.split_key("meetings") == ("meetings", *model.WINDOW)


def test_read_posterior_checks_columns(tmp_path: Path) -> None:
    f = tmp_path / "p.csv"
    f.write_text("contract.base_logit,weight\n-1.5,1\n", encoding="utf-8")
    assert len(read_posterior(f)) == 1
    f.write_text("contract.base_logit,weight\n-1.5,-1\n", encoding="utf-8")
    with pytest.raises(InputError, match="weight"):
        read_posterior(f)
    f.write_text("nonsense,weight\n1,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="nonsense"):
        read_posterior(f)


def test_the_run_goes_on_at_the_final_threshold_until_the_sample_is_usable(tmp_path: Path) -> None:
    """min_ess: at ε = min_epsilon the run stops only once the truncated ESS reaches min_ess (or at the
    generations' cap, or when too few candidates are kept); without it, at the first generation at min_epsilon."""
    def gen(t: int, eps: float, ess: float, rate: float = 0.1) -> smc.Generation:
        return smc.Generation(t, eps, 20, 200, rate, ess, ess)

    cal = load_calibration(write_spec(tmp_path, population=20, generations=6, min_epsilon=0.8, min_ess=12,
                                      min_acceptance=0.02))
    start = [gen(0, math.inf, 20), gen(1, 2.0, 15)]
    assert not smc.finished(cal, start)
    assert not smc.finished(cal, [*start, gen(2, 0.8, 11.9)])
    assert smc.finished(cal, [*start, gen(2, 0.8, 11.9), gen(3, 0.8, 12.0)])
    assert smc.finished(cal, [*start, gen(2, 0.8, 5), gen(3, 0.8, 5), gen(4, 0.8, 5), gen(5, 0.8, 5)])  # the cap
    assert smc.finished(cal, [*start, gen(2, 0.8, 5, rate=0.0)])  # too few kept
    for sub in ("p", "q"):
        (tmp_path / sub).mkdir()
    plain = load_calibration(write_spec(tmp_path / "p", population=20, generations=6, min_epsilon=0.8))
    assert smc.finished(plain, [*start, gen(2, 0.8, 1.0)])
    assert cal.digest() == load_calibration(write_spec(tmp_path / "q", population=20, generations=6,
                                                        min_epsilon=0.8, min_ess=40)).digest()  # raising it continues


def test_the_proposal_is_fitted_to_the_truncated_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The next generation's proposal is fitted to the last generation's weights as truncated (so a few heavy
    particles do not collapse it): with a truncation that flattens every weight, its centre is the plain mean."""
    from scipy.special import logit

    cal = load_calibration(write_spec(tmp_path, generations=2))
    smc.run_smc(cal, tmp_path / "out")
    db = tmp_path / "out" / smc.DB
    monkeypatch.setattr(smc, "truncate_weights", lambda w: np.full(len(w), 1.0 / len(w)))
    q = smc._proposal(cal, db, 2)
    gen = smc.posterior(cal, db, 1)
    for k, prior in enumerate(cal.spec.priors):
        z = logit((gen[prior.param].to_numpy() - prior.min) / (prior.max - prior.min))
        assert q.mean[k] == pytest.approx(z.mean(), rel=1e-9)


def test_shipped_posterior() -> None:
    """calibration/posterior.csv: ≥ 200 weighted sets of every parameter of smc.toml, inside the priors."""
    cal = load_calibration(ROOT / "calibration" / "smc.toml")
    post = read_posterior(ROOT / "calibration" / "posterior.csv")
    assert len(post) >= 200 and list(post.columns) == [*cal.names, "weight"]
    assert abs(post["weight"].sum() - 1) < 1e-6
    for p in cal.spec.priors:
        assert post[p.param].between(p.min, p.max).all()
    pred = pd.read_csv(ROOT / "calibration" / "posterior_predictive.csv")
    assert pred["within"].all(), pred
    gens = pd.read_csv(ROOT / "calibration" / "generations.csv")  # the run that made it, generation by generation
    eps, floor = gens["epsilon"], cal.spec.smc.min_epsilon
    first = int(np.argmax(eps.to_numpy() == floor))  # the first generation at the final threshold
    assert eps.iloc[-1] == floor and (eps.iloc[:first] > floor).all() and (eps.iloc[first:] == floor).all()
    # it went on at the final threshold only while the sample was not yet usable (min_ess)
    assert (gens["ess_truncated"].iloc[first:-1] < cal.spec.smc.min_ess).all()
    ess = 1 / (post["weight"] ** 2).sum()
    assert gens["ess_truncated"].iloc[-1] == pytest.approx(ess, rel=1e-4) and len(post) == cal.spec.smc.population
    assert ess >= cal.spec.smc.min_ess >= 50  # a usable posterior: the weights do not rest on a few sets (55 shipped)


def test_targets_under_a_posterior(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "posterior.csv"
    f.write_text("contract.base_logit,subsidy.claim_prob,weight\n-1.6,0.4,0.5\n-1.5,0.45,0.5\n", encoding="utf-8")
    out = tmp_path / "tg"
    assert main(["targets", "--scenario", str(BASELINE), "--posterior", str(f), "--sets", "2", "--reps", "2",
                 "--out", str(out), "--quiet"]) == 0
    res = pd.read_csv(out / "targets.csv")
    assert {"T2", "T3", "T4", "T9", "T11"} <= set(res["target"])
    assert {"mean", "rep_p05", "rep_p95", "set_p05", "set_p95", "within"} <= set(res.columns)
    assert (out / "targets.png").is_file() and "posterior predictive" in capsys.readouterr().out
    assert main(["targets", "--sets", "3", "--out", str(tmp_path / "x")]) == 2
    assert "--sets" in capsys.readouterr().err and not (tmp_path / "x").exists()


def test_capped_band_is_scored_from_the_cap(baseline: Any) -> None:
    """T7's 24–25 awards end at the cap of 25 (5 a year): 25 scores 0, 24 scores 1, 24.2 scores 0.8."""
    caps = model.caps(baseline)
    assert caps == {"awards": 5 * int(baseline.params.subsidy.awards_per_year)}
    bands = model.scoring_bands({"awards": (24.0, 25.0), "meetings": (500.0, 600.0)}, caps)
    assert bands["meetings"] == (500.0, 600.0)
    d = [model.band_distances({"awards": v, "meetings": 550}, bands)["awards"] for v in (25.0, 24.2, 24.0, 23.5)]
    assert d == pytest.approx([0.0, 0.8, 1.0, 1.5])
    assert model.scoring_bands({"awards": (10.0, 20.0)}, caps) == {"awards": (10.0, 20.0)}  # cap not in the band


def test_draws_follow_the_weights_and_never_repeat_random_numbers(baseline: Any) -> None:
    from sim.calibration.predictive import draw_sets, posterior_records

    post = pd.DataFrame({"subsidy.claim_prob": [0.3, 0.4, 0.5, 0.6], "weight": [0.5, 0.25, 0.2, 0.05]})
    counts = draw_sets(post, 40, seed=5)["subsidy.claim_prob"].value_counts()
    for v, w in zip(post["subsidy.claim_prob"], post["weight"], strict=True):
        assert np.floor(40 * w) <= counts.get(v, 0) <= np.ceil(40 * w)  # systematic resampling
    one = pd.DataFrame({"subsidy.claim_prob": [0.42], "weight": [1.0]})
    records, chosen = posterior_records(baseline, one, sets=2, reps=2, seed=1)
    assert len(chosen) == 2 and sorted(records["rep"].unique()) == [0, 1, 2, 3]
    from sim.analysis.kpi import kpis

    k = kpis(records, *model.WINDOW)["meetings"]
    assert not np.array_equal(k.loc[[0, 1]].to_numpy(), k.loc[[2, 3]].to_numpy())  # the second draw is new
    # and neither reuses the replications a calibration at the same seed selected the set on
    kept = model.summaries(baseline, {"subsidy.claim_prob": 0.42}, reps=2, seed=1, keys=["meetings"])["meetings"]
    assert kept not in (k.loc[[0, 1]].mean(), k.loc[[2, 3]].mean())


@pytest.mark.slow
def test_run_stops_at_min_epsilon(tmp_path: Path) -> None:
    """ε never goes below min_epsilon; the run stops after the generation at it; its particles are within it."""
    cal = load_calibration(write_spec(tmp_path, min_epsilon=3.0, generations=8))
    out = tmp_path / "out"
    gens = smc.run_smc(cal, out)
    eps = [g.epsilon for g in gens]
    assert eps[-1] == 3.0 and all(e > 3.0 for e in eps[:-1]) and len(gens) < 8, eps
    import pyabc

    dist = pyabc.History(f"sqlite:///{out / smc.DB}", create=False).get_weighted_distances()["distance"]
    assert (dist <= 3.0).all()


@pytest.mark.parametrize("df", [None, 4.0])
def test_proposal_is_a_density_inside_the_priors(df: float | None) -> None:
    """The logit-normal (or logit-t) proposal: draws inside the priors; its pdf integrates to 1 over them and
    gives a region the share of the draws that fall in it (so prior / pdf is the importance weight of its draws)."""
    from sim.calibration.kernel import LogitNormalProposal

    bounds = {"a": (0.0, 1.0), "b": (-2.0, 3.0)}
    rng = np.random.default_rng(0)
    gen = pd.DataFrame({"a": rng.beta(2, 5, 300), "b": -2 + 5 * rng.beta(5, 2, 300)})
    q = LogitNormalProposal(bounds, scale=1.5, df=df)
    q.fit(gen, rng.random(300))
    x = q.rvs(20_000, np.random.default_rng(1))
    assert ((x["a"] > 0) & (x["a"] < 1) & (x["b"] > -2) & (x["b"] < 3)).all()
    n = 500  # midpoint rule on a 500 × 500 grid of the priors' box
    a, b = np.meshgrid((np.arange(n) + 0.5) / n, -2 + 5 * (np.arange(n) + 0.5) / n)
    grid = pd.DataFrame({"a": a.ravel(), "b": b.ravel()})
    dens = np.asarray(q.pdf(grid)) * (1 / n) * (5 / n)
    # the t's tails put mass within a grid step of the bounds, where the midpoint rule misses some of it
    assert dens.sum() == pytest.approx(1.0, abs=1e-3 if df is None else 5e-3)
    region = ((grid["a"] < 0.3) & (grid["b"] > 0.5)).to_numpy()
    share = float(((x["a"] < 0.3) & (x["b"] > 0.5)).mean())
    assert share == pytest.approx(dens[region].sum(), abs=0.02)  # 20,000 draws: standard error 0.0035
    assert q.pdf(x.iloc[0]) == pytest.approx(float(np.asarray(q.pdf(x.iloc[:1]))[0]))
    assert q.draw(np.random.default_rng(7)) == q.draw(np.random.default_rng(7))
    one = q.draw(np.random.default_rng(8))  # a single draw is the first row of a batch from the same generator
    assert list(one.values()) == pytest.approx(q.rvs(1, np.random.default_rng(8)).iloc[0].tolist())


def test_the_t_proposal_has_heavier_tails_and_bounded_weights() -> None:
    """Far from the fitted centre (near a prior's bound) the t proposal keeps more density than the normal fitted
    to the same generation, so the importance weight prior / proposal there stays far smaller."""
    from sim.calibration.kernel import LogitNormalProposal

    gen = pd.DataFrame({"a": np.linspace(0.3, 0.7, 50)})
    normal, t = LogitNormalProposal({"a": (0.0, 1.0)}), LogitNormalProposal({"a": (0.0, 1.0)}, df=4.0)
    w = np.ones(50)
    normal.fit(gen, w)
    t.fit(gen, w)
    edge = pd.Series({"a": 0.02})
    assert float(t.pdf(edge)) > 100 * float(normal.pdf(edge))
    assert float(t.pdf(pd.Series({"a": 0.5}))) < float(normal.pdf(pd.Series({"a": 0.5})))


def test_summaries_are_the_kpi_means(baseline: Any) -> None:
    """The calibration's linear map from the engine's arrays gives kpis()'s means over the replications."""
    from sim.analysis.kpi import kpis
    from sim.experiment import run_records
    from sim.table import build_table

    values = {"contract.base_logit": -1.4, "hightech.approval": 0.5}
    keys = list(model.targets())
    assert "hightech_applications@2022-2022" in keys  # T8's applications in 2022, a window of its own
    got = model.summaries(baseline, values, reps=3, seed=7, keys=keys)
    table = build_table(model.window_scenario(baseline, values))
    records = run_records(table, model.particle_seed(7, values), range(3), engine="fast")
    for key in keys:
        kpi, first, last = model.split_key(key)
        want = kpis(records, first, last)[kpi]
        assert got[key] == pytest.approx(float(want.mean()), rel=1e-12), key
    whole = kpis(records, *model.WINDOW)["hightech_applications"].mean()
    assert got["hightech_applications@2022-2022"] < whole  # one year, not the five
    with pytest.raises(ValueError, match="not linear"):
        model.linear_kpis(("rate_contract",), int(table.first_year), int(table.n_years))


def test_truncated_weights() -> None:
    """Ionides' truncation: weights above √N × the mean are capped, the others keep their ratios; ESS rises."""
    w = np.array([50.0, 1.0, 2.0, 3.0] + [1.0] * 96)
    t = smc.truncate_weights(w)
    assert t.sum() == pytest.approx(1) and t[0] == pytest.approx(0.1 / (0.1 + 102 / 152))  # cap 0.1; rest 102/152
    assert t[2] / t[1] == pytest.approx(2) and t[3] / t[1] == pytest.approx(3)
    assert 1 / (t**2).sum() > 1 / ((w / w.sum()) ** 2).sum()
    assert np.allclose(smc.truncate_weights(np.ones(10)), 0.1)


def test_candidates_are_keyed_not_drawn_in_turn(baseline: Any) -> None:
    """A candidate's parameter set depends on (seed, generation, index) only: the same alone or in a batch."""
    cal_like = smc.Candidates(baseline, ("a", "b"), (0.0, -2.0), (1.0, 3.0), None, 3, 0, 2, ("meetings",),
                              (("meetings", 0.0, 1.0),))
    alone = smc.propose(cal_like, 5)
    assert smc.propose(cal_like, 5) == alone and smc.propose(cal_like, 4) != alone
    assert smc.propose(smc.Candidates(**{**cal_like.__dict__, "t": 1}), 5) != alone
    assert 0 <= alone["a"] <= 1 and -2 <= alone["b"] <= 3


@pytest.fixture(scope="module")
def two_generations(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame, list[smc.Generation]]:
    """Two generations in this process: the reference of the worker tests."""
    d = tmp_path_factory.mktemp("smc_one")
    cal = load_calibration(write_spec(d, reps=2, population=16))
    gens = smc.run_smc(cal, d / "out", generations=2)
    return d, smc.posterior(cal, d / "out" / smc.DB), gens


@pytest.mark.parametrize("where", ["processes", "dask"])
def test_same_posterior_on_any_workers(tmp_path: Path, where: str,
                                       two_generations: tuple[Path, pd.DataFrame, list[smc.Generation]]) -> None:
    """1 worker, 2 local processes and a 2-worker Dask cluster: the same particles, weights and simulations."""
    cal = load_calibration(write_spec(tmp_path, reps=2, population=16))
    if where == "processes":
        gens = smc.run_smc(cal, tmp_path / "out", generations=2, workers=2)
    else:
        from dask.distributed import LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
            gens = smc.run_smc(cal, tmp_path / "out", generations=2, backend="dask",
                               scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(smc.posterior(cal, tmp_path / "out" / smc.DB), two_generations[1],
                                  check_exact=True)
    assert [(g.epsilon, g.simulations) for g in gens] == [(g.epsilon, g.simulations) for g in two_generations[2]]
    assert gens[1].simulations > 16  # generation 1 rejected some candidates: acceptance in index order was tested


def test_predictive_records_do_not_depend_on_the_workers(baseline: Any) -> None:
    from sim.calibration.predictive import posterior_records

    post = pd.DataFrame({"subsidy.claim_prob": [0.3, 0.5], "weight": [0.5, 0.5]})
    one, chosen = posterior_records(baseline, post, sets=3, reps=2, seed=1)
    two, chosen2 = posterior_records(baseline, post, sets=3, reps=2, seed=1, workers=2)
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    pd.testing.assert_frame_equal(chosen, chosen2)
