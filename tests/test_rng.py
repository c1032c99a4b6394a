"""Keyed random numbers: pure functions of their key, uniform, and well transformed."""

import numpy as np
from scipy import stats

from sim.rng import categorical, lognormal, normal_ppf, poisson, uniform


def test_same_key_same_number_and_keys_differ() -> None:
    a = uniform(1, 2, 3, 4, 5)
    assert a == uniform(1, 2, 3, 4, 5)
    others = {uniform(1, 2, 3, 4, 6), uniform(1, 2, 3, 5, 5), uniform(1, 2, 4, 4, 5), uniform(1, 3, 3, 4, 5),
              uniform(2, 2, 3, 4, 5)}
    assert a not in others and len(others) == 5


def test_uniform_is_uniform_and_open_interval() -> None:
    u = np.array([uniform(7, 0, 1, e, 0) for e in range(20000)])
    assert u.min() > 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 0.001
    # neighbouring occurrences are not correlated
    v = np.array([uniform(7, 0, 1, e, 1) for e in range(20000)])
    assert abs(np.corrcoef(u, v)[0, 1]) < 0.03


def test_normal_ppf_matches_scipy() -> None:
    p = np.concatenate([np.linspace(1e-12, 1 - 1e-12, 2001), [1e-300, 0.5, 0.975]])
    ours = np.array([normal_ppf(x) for x in p])
    assert np.allclose(ours, stats.norm.ppf(p), rtol=1e-12, atol=1e-12)


def test_transforms() -> None:
    u = np.array([uniform(3, 0, 9, e, 0) for e in range(20000)])
    x = np.array([lognormal(v, 250_000.0, 0.9) for v in u])
    assert abs(np.median(x) / 250_000.0 - 1) < 0.05
    k = np.array([poisson(v, 14.6) for v in u])
    assert abs(k.mean() - 14.6) < 0.2 and abs(k.var() - 14.6) < 1.0
    w = np.array([0.1, 0.0, 0.6, 0.3])
    c = np.array([categorical(v, w) for v in u])
    assert not np.any(c == 1)
    assert np.allclose(np.bincount(c, minlength=4) / len(c), w, atol=0.015)
