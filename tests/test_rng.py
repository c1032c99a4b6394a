"""Keyed random numbers: pure functions of their key, uniform, independent over adjacent keys, well transformed."""

import numba as nb
import numpy as np
import pytest
from scipy import stats

from sim.rng import (
    ENTITY_BITS,
    OCCURRENCE_BITS,
    binomial,
    categorical,
    draw,
    exponential,
    lognormal,
    normal_ppf,
    poisson,
    rep_key,
    uniform,
)

N = 1 << 16


@nb.njit(cache=True)
def _stream(seed: int, rep: int, decision: int, entity: int, occurrence: int, field: int, n: int) -> np.ndarray:
    """``n`` uniforms at adjacent keys; ``field`` steps 0 the occurrence, 1 the entity, 2 the decision, 3 the rep."""
    out = np.empty(n)
    rk = rep_key(seed, rep)
    for k in range(n):
        if field == 0:
            out[k] = draw(rk, decision, entity, occurrence + k)
        elif field == 1:
            out[k] = draw(rk, decision, entity + k, occurrence)
        elif field == 2:
            out[k] = draw(rk, (decision + k) % 128, entity + k // 128, occurrence)
        else:
            out[k] = draw(rep_key(seed, rep + k), decision, entity, occurrence)
    return out


def test_same_key_same_number_and_keys_differ() -> None:
    a = uniform(1, 2, 3, 4, 5)
    assert a == uniform(1, 2, 3, 4, 5) == draw(rep_key(1, 2), 3, 4, 5)
    others = {uniform(1, 2, 3, 4, 6), uniform(1, 2, 3, 5, 5), uniform(1, 2, 4, 4, 5), uniform(1, 3, 3, 4, 5),
              uniform(2, 2, 3, 4, 5)}
    assert a not in others and len(others) == 5
    # the largest fields are still distinct keys (no field spills into its neighbour)
    top = uniform(2**32 - 1, 2**32 - 1, 127, 2**ENTITY_BITS - 1, 2**OCCURRENCE_BITS - 1)
    assert 0.0 < top < 1.0 and top != uniform(2**32 - 1, 2**32 - 1, 127, 2**ENTITY_BITS - 1, 2**OCCURRENCE_BITS - 2)


@pytest.mark.parametrize("key", [(0, 0, 1, -1, 0), (0, 0, 1, 2**ENTITY_BITS, 0), (0, 0, 1, 0, 2**OCCURRENCE_BITS),
                                 (0, 0, 1, 0, -1), (2**32, 0, 1, 0, 0), (0, -1, 1, 0, 0)])
def test_out_of_range_fields_are_errors(key: tuple[int, int, int, int, int]) -> None:
    with pytest.raises(ValueError):
        uniform(*key)


@pytest.mark.parametrize("field", [0, 1, 2, 3])
def test_keyed_stream_is_uniform_and_adjacent_keys_are_independent(field: int) -> None:
    """Adjacent keys along each field: uniform margins, no serial dependence, balanced bits."""
    u = _stream(7, 3, 40, 12345, 17, field, N)
    assert u.min() > 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-4
    # uniformity in 256 cells, and independence of neighbours: (u_k, u_k+1) and (u_k, u_k+2) in 16 × 16 cells
    counts = np.bincount((u * 256).astype(int), minlength=256)
    assert stats.chisquare(counts).pvalue > 1e-4
    for lag in (1, 2):
        cells = (u[:-lag] * 16).astype(int) * 16 + (u[lag:] * 16).astype(int)
        assert stats.chisquare(np.bincount(cells, minlength=256)).pvalue > 1e-4
        assert abs(np.corrcoef(u[:-lag], u[lag:])[0, 1]) < 4.5 / np.sqrt(N)
    # every one of the 52 bits is 1 half the time, and flips half the time between neighbours
    bits = (u * 2.0**52).astype(np.uint64)  # u = (k + 1/2) / 2**52
    for b in range(52):
        x = (bits >> np.uint64(b)) & np.uint64(1)
        assert abs(x.mean() - 0.5) < 4.5 * 0.5 / np.sqrt(N), b
        assert abs((x[1:] ^ x[:-1]).mean() - 0.5) < 4.5 * 0.5 / np.sqrt(N), b


def test_normal_ppf_accuracy() -> None:
    """Acklam's approximation: relative error below 1.2e-9 everywhere in (0, 1)."""
    p = np.concatenate([np.linspace(1e-12, 1 - 1e-12, 20001), np.logspace(-300, -1, 300), [0.5, 0.975, 0.02425]])
    ours = np.array([normal_ppf(x) for x in p])
    exact = stats.norm.ppf(p)
    assert np.all(np.abs(ours - exact) <= 1.2e-9 * np.abs(exact) + 1e-15)


def test_binomial_is_the_exact_inverse_cdf() -> None:
    u = np.linspace(0.0005, 0.9995, 400)
    for n, p in ((808, 0.18), (808, 0.01), (60, 0.5), (50_000, 0.3), (3, 0.99), (0, 0.5), (10, 0.0), (10, 1.0)):
        ours = np.array([binomial(x, n, p) for x in u])
        assert np.array_equal(ours, stats.binom.ppf(u, n, p).astype(int)), (n, p)


def test_transforms() -> None:
    u = _stream(3, 0, 9, 0, 0, 1, 20000)
    x = np.array([lognormal(v, 250_000.0, 0.9) for v in u])
    assert abs(np.median(x) / 250_000.0 - 1) < 0.05
    e = np.array([exponential(v, 2.0) for v in u])
    assert stats.kstest(e, "expon", args=(0, 0.5)).pvalue > 1e-4
    k = np.array([poisson(v, 14.6) for v in u])
    assert abs(k.mean() - 14.6) < 0.2 and abs(k.var() - 14.6) < 1.0
    w = np.array([0.1, 0.0, 0.6, 0.3])
    c = np.array([categorical(v, w) for v in u])
    assert not np.any(c == 1)
    assert np.allclose(np.bincount(c, minlength=4) / len(c), w, atol=0.015)
