"""Keyed random numbers: every draw is a pure function of its key.

A draw is ``uniform(seed, replication, decision, entity, occurrence)``. It is
computed in two steps, so that the costly part is shared:

1. the *replication key* ``rk = rep_key(seed, replication)``: the 32-bit seed
   and the 32-bit replication number packed into one 64-bit word and put
   through the splitmix64 output function (a bijection, so distinct
   (seed, replication) pairs never share a key). Each engine computes it once
   per replication and hands it to every rule (the rules' argument ``rk``).
2. the draw ``draw(rk, decision, entity, occurrence)``: the three fields packed
   into one 64-bit word (layout below, collision-free by construction), and one
   splitmix64 step: ``mix(rk + packed · γ)`` with γ the golden-ratio gamma. For
   a fixed replication this is exactly output number ``packed`` of the
   splitmix64 generator seeded with ``rk`` (Steele, Lea & Flood 2014), so
   neighbouring occurrences are consecutive splitmix64 outputs.

Key layout (bit 63 … bit 0): ``decision`` 7 bits | ``entity`` 33 bits |
``occurrence`` 24 bits. Limits: decision < 128, entity < 2**33 (≈ 8.6 billion:
firm indices, channels, offer keys ``channel · 2**30 + serial``), occurrence
< 2**24 (≈ 16.8 million: attempts, years, rounds, candidates of a channel),
seed and replication < 2**32. A field outside its range raises ``ValueError``:
it would otherwise share bits with a neighbour field, and two different keys
would silently give the same number.

The same key gives the same number in any engine, process, thread or run
order, and a policy that changes one decision leaves every other draw
untouched (common random numbers). There is no generator object and no
global state. ``tests/test_rng.py`` checks uniformity and independence over
adjacent keys in every field.

With ``NUMBA_DISABLE_JIT=1`` the hash runs on Python integers (masked to 64
bits) and gives the same numbers as the compiled code, so a rule can be
stepped through in a debugger.

Transforms turn one uniform into one draw of the wanted distribution, so one
key always means one draw. Accuracy: the normal quantile is Acklam's rational
approximation, relative error below 1.2e-9 over (0, 1) (a lognormal value is
off by less than 1e-9 of itself for log-scale deviations up to 1; far below
any quantity the model reports); exponential and Poisson are exact inverse
CDFs up to rounding; the binomial is an exact inverse CDF summed from its mode.
"""

from __future__ import annotations

import math
from typing import Any

import numba as nb
import numpy as np
from numba.core import config as numba_config

from sim._cache import use_package_cache

use_package_cache()  # before the first compiled function: Numba picks its cache folder at the definition

DECISION_BITS = 7
ENTITY_BITS = 33
OCCURRENCE_BITS = 24
SEED_BITS = 32
REP_BITS = 32
_ENTITY_SHIFT = OCCURRENCE_BITS
_DECISION_SHIFT = OCCURRENCE_BITS + ENTITY_BITS
_TWO_M52 = 1.0 / 4503599627370496.0
_MASK = (1 << 64) - 1
_GOLDEN_INT = 0x9E3779B97F4A7C15
_M1_INT = 0xBF58476D1CE4E5B9
_M2_INT = 0x94D049BB133111EB

Word = Any  # a 64-bit word: np.uint64 in compiled code, a Python int masked to 64 bits when interpreted
INTERPRETED = bool(getattr(numba_config, "DISABLE_JIT", False))  # read once, at import, like Numba does


def _key_error(decision: int, entity: int, occurrence: int) -> ValueError:
    return ValueError(f"random-number key out of range: decision {decision} (< 2**{DECISION_BITS}), "
                      f"entity {entity} (< 2**{ENTITY_BITS}), occurrence {occurrence} (< 2**{OCCURRENCE_BITS})")


if INTERPRETED:
    # Plain Python on Python integers: products are masked to 64 bits, which is exactly the
    # wrap-around of the compiled uint64 code (and ~5x faster than numpy uint64 scalars).

    def _mix(z: Word) -> Word:
        """The splitmix64 output function (Steele, Lea & Flood 2014; Stafford's Mix13)."""
        z = ((z ^ (z >> 30)) * _M1_INT) & _MASK
        z = ((z ^ (z >> 27)) * _M2_INT) & _MASK
        return z ^ (z >> 31)

    def rep_key(seed: int, rep: int) -> Word:
        """The key of one replication of one seed: hashed once, shared by all of its draws."""
        seed, rep = int(seed), int(rep)  # numpy integers would overflow below
        if seed < 0 or seed >> SEED_BITS or rep < 0 or rep >> REP_BITS:
            raise ValueError(f"seed {seed} and replication {rep} must lie in [0, 2**32)")
        return _mix((((seed << REP_BITS) | rep) + _GOLDEN_INT) & _MASK)

    def draw(rk: Word, decision: int, entity: int, occurrence: int) -> float:
        """The uniform number in (0, 1) for one key of replication ``rk``; never exactly 0 or 1."""
        if entity < 0 or entity >> ENTITY_BITS or occurrence < 0 or occurrence >> OCCURRENCE_BITS:
            raise _key_error(decision, entity, occurrence)
        packed = (int(decision) << _DECISION_SHIFT) | (int(entity) << _ENTITY_SHIFT) | int(occurrence)
        z = _mix((int(rk) + packed * _GOLDEN_INT) & _MASK)
        return (float(z >> 12) + 0.5) * _TWO_M52  # (k + ½) / 2**52: exact, never 0 or 1

else:
    _GOLDEN = np.uint64(_GOLDEN_INT)
    _M1 = np.uint64(_M1_INT)
    _M2 = np.uint64(_M2_INT)

    @nb.njit(cache=True, inline="always")
    def _mix(z: Word) -> Word:
        """The splitmix64 output function (Steele, Lea & Flood 2014; Stafford's Mix13)."""
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))

    @nb.njit(cache=True)
    def rep_key(seed: int, rep: int) -> Word:
        """The key of one replication of one seed: hashed once, shared by all of its draws."""
        if seed < 0 or seed >> SEED_BITS or rep < 0 or rep >> REP_BITS:
            raise ValueError("seed and replication must lie in [0, 2**32)")
        return _mix((np.uint64(seed) << np.uint64(REP_BITS) | np.uint64(rep)) + _GOLDEN)

    @nb.njit(cache=True, inline="always")
    def draw(rk: Word, decision: int, entity: int, occurrence: int) -> float:
        """The uniform number in (0, 1) for one key of replication ``rk``; never exactly 0 or 1."""
        if (entity >> ENTITY_BITS) | (occurrence >> OCCURRENCE_BITS):  # one test; negatives shift to −1
            raise ValueError("random-number key out of range: entity < 2**33 and occurrence < 2**24")
        packed = (np.uint64(decision) << np.uint64(_DECISION_SHIFT)) | (np.uint64(entity) << np.uint64(_ENTITY_SHIFT)) \
            | np.uint64(occurrence)
        z = _mix(np.uint64(rk) + packed * _GOLDEN)
        return (float(z >> np.uint64(12)) + 0.5) * _TWO_M52  # (k + ½) / 2**52: exact, never 0 or 1


@nb.njit(cache=True)
def uniform(seed: int, rep: int, decision: int, entity: int, occurrence: int) -> float:
    """The uniform number in (0, 1) for one full key (``rep_key`` and ``draw`` in one call)."""
    return draw(rep_key(seed, rep), decision, entity, occurrence)


@nb.njit(cache=True)
def normal_ppf(p: float) -> float:
    """Standard normal quantile: Acklam's rational approximation (relative error < 1.2e-9).

    A degree-5/5 rational function in the centre (0.02425 ≤ p ≤ 0.97575,
    95 % of draws: no logarithm) and in sqrt(−2 log p) in the tails.
    """
    if p < 0.02425:
        q = math.sqrt(-2.0 * math.log(p))
        return ((((((-7.784894002430293e-03 * q - 3.223964580411365e-01) * q - 2.400758277161838e+00) * q
                   - 2.549732539343734e+00) * q + 4.374664141464968e+00) * q + 2.938163982698783e+00)
                / ((((7.784695709041462e-03 * q + 3.224671290700398e-01) * q + 2.445134137142996e+00) * q
                    + 3.754408661907416e+00) * q + 1.0))
    if p > 0.97575:
        q = math.sqrt(-2.0 * math.log(1.0 - p))
        return -((((((-7.784894002430293e-03 * q - 3.223964580411365e-01) * q - 2.400758277161838e+00) * q
                    - 2.549732539343734e+00) * q + 4.374664141464968e+00) * q + 2.938163982698783e+00)
                 / ((((7.784695709041462e-03 * q + 3.224671290700398e-01) * q + 2.445134137142996e+00) * q
                     + 3.754408661907416e+00) * q + 1.0))
    q = p - 0.5
    r = q * q
    return ((((((-3.969683028665376e+01 * r + 2.209460984245205e+02) * r - 2.759285104469687e+02) * r
               + 1.383577518672690e+02) * r - 3.066479806614716e+01) * r + 2.506628277459239e+00) * q
            / (((((-5.447609879822406e+01 * r + 1.615858368580409e+02) * r - 1.556989798598866e+02) * r
                 + 6.680131188771972e+01) * r - 1.328068155288572e+01) * r + 1.0))


@nb.njit(cache=True)
def lognormal(u: float, median: float, log_sd: float) -> float:
    """Lognormal draw with the given median and log-scale standard deviation."""
    return median * math.exp(log_sd * normal_ppf(u))


@nb.njit(cache=True)
def exponential(u: float, rate: float) -> float:
    """Exponential waiting time with the given rate (per year): −log(u) / rate, u in (0, 1)."""
    return -math.log(u) / rate


@nb.njit(cache=True)
def poisson(u: float, mean: float) -> int:
    """Poisson count by sequential search of the CDF (fine for means below ~500)."""
    if mean <= 0.0:
        return 0
    k = 0
    p = math.exp(-mean)
    cdf = p
    while u > cdf and k < 100000:
        k += 1
        p *= mean / k
        cdf += p
        if p == 0.0 and cdf < u:
            break
    return k


@nb.njit(cache=True)
def binomial(u: float, n: int, p: float) -> int:
    """Binomial(n, p) count by inverse CDF: the smallest k with P(X ≤ k) ≥ u.

    The probabilities are built outward from the mode (log-gamma there, then
    ratios), so nothing underflows however large ``n · p`` is; terms below
    1e-18 of the mode's are dropped (their total is far below one ulp of u),
    and the sum is normalised. Work is O(standard deviation).
    """
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    q = 1.0 - p
    m = min(int((n + 1) * p), n)
    log_pm = (math.lgamma(n + 1.0) - math.lgamma(m + 1.0) - math.lgamma(n - m + 1.0)
              + m * math.log(p) + (n - m) * math.log(q))
    pm = math.exp(log_pm)
    # the lowest k kept, with P(lo), and the total probability kept
    lo = m
    p_lo = pm
    total = pm
    while lo > 0:
        nxt = p_lo * (lo * q / ((n - lo + 1) * p))  # P(lo − 1) from P(lo)
        if nxt < pm * 1e-18:
            break
        lo -= 1
        p_lo = nxt
        total += nxt
    hi = m
    term = pm
    while hi < n:
        term *= (n - hi) * p / ((hi + 1) * q)  # P(hi + 1) from P(hi)
        if term < pm * 1e-18:
            break
        hi += 1
        total += term
    target = u * total
    term = p_lo
    cdf = p_lo
    k = lo
    while cdf < target and k < hi:
        term *= (n - k) * p / ((k + 1) * q)
        k += 1
        cdf += term
    return k


@nb.njit(cache=True, inline="always")
def categorical_rows(u: float, M: np.ndarray, row0: int, n: int, col: int) -> int:
    """Index ``0 … n−1`` drawn with probability proportional to ``M[row0:row0 + n, col]`` (no copy)."""
    total = 0.0
    for i in range(n):
        total += M[row0 + i, col]
    target = u * total
    acc = 0.0
    last = 0
    for i in range(n):
        w = M[row0 + i, col]
        if w > 0.0:
            last = i
            acc += w
            if target < acc:
                return i
    return last


@nb.njit(cache=True)
def categorical(u: float, weights: np.ndarray) -> int:
    """Index drawn with probability proportional to ``weights`` (non-negative)."""
    return categorical_rows(u, weights.reshape((weights.shape[0], 1)), 0, weights.shape[0], 0)
