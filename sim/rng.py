"""Keyed random numbers: every draw is a pure function of its key.

A draw is ``uniform(seed, replication, decision, entity, occurrence)``: the
splitmix64 finaliser is applied to the key fields one after the other, so the
same key gives the same number in any engine, process, thread or run order,
and a policy that changes one decision leaves every other draw untouched
(common random numbers). There is no generator object and no global state.

With ``NUMBA_DISABLE_JIT=1`` the same functions run as plain Python (numpy
uint64 scalars wrap exactly as compiled code does), so a rule can be stepped
through in a debugger and still gives the same numbers.

The inverse-CDF transforms (normal, lognormal, exponential, Poisson,
categorical) turn one uniform into one draw of the wanted distribution, so one
key always means one draw.
"""

from __future__ import annotations

import math
import warnings

import numba as nb
import numpy as np
from numba.core import config as numba_config

if getattr(numba_config, "DISABLE_JIT", False):  # set at run time from NUMBA_DISABLE_JIT
    # Interpreted rules (NUMBA_DISABLE_JIT=1, for stepping through them in a debugger): numpy
    # warns when a uint64 product wraps around, but wrapping modulo 2**64 is the hash itself.
    warnings.filterwarnings("ignore", message="overflow encountered", category=RuntimeWarning, module=__name__)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_TWO_M53 = 1.0 / 9007199254740992.0


@nb.njit(cache=True, inline="always")
def _mix(z: np.uint64) -> np.uint64:
    """The splitmix64 output function (Steele, Lea & Flood 2014)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@nb.njit(cache=True)
def uniform(seed: int, rep: int, decision: int, entity: int, occurrence: int) -> float:
    """The uniform number in (0, 1) for one key; never exactly 0 or 1."""
    z = _mix(np.uint64(seed) + _GOLDEN)
    z = _mix(z ^ (np.uint64(rep) + _GOLDEN))
    z = _mix(z ^ (np.uint64(decision) * _GOLDEN))
    z = _mix(z ^ (np.uint64(entity) + _M1))
    z = _mix(z ^ (np.uint64(occurrence) + _M2))
    return (float(z >> _S11) + 0.5) * _TWO_M53


@nb.njit(cache=True)
def normal_ppf(p: float) -> float:
    """Standard normal quantile, Wichura's AS241 (relative error about 1e-16)."""
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        num = (((((((2509.0809287301226727 * r + 33430.575583588128105) * r
                    + 67265.770927008700853) * r + 45921.953931549871457) * r
                  + 13731.693765509461125) * r + 1971.5909503065514427) * r
                + 133.14166789178437745) * r + 3.387132872796366608)
        den = (((((((5226.495278852545925 * r + 28729.085735721942674) * r
                    + 39307.89580009271061) * r + 21213.794301586595867) * r
                  + 5394.1960214247511077) * r + 687.1870074920579083) * r
                + 42.313330701600911252) * r + 1.0)
        return q * num / den
    r = p if q < 0.0 else 1.0 - p
    r = math.sqrt(-math.log(r))
    if r <= 5.0:
        r -= 1.6
        num = (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r
                    + 0.24178072517745061177) * r + 1.27045825245236838258) * r
                  + 3.64784832476320460504) * r + 5.7694972214606914055) * r
                + 4.6303378461565452959) * r + 1.42343711074968357734)
        den = (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r
                    + 0.0151986665636164571966) * r + 0.14810397642748007459) * r
                  + 0.68976733498510000455) * r + 1.6763848301838038494) * r
                + 2.05319162663775882187) * r + 1.0)
    else:
        r -= 5.0
        num = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r
                    + 0.0012426609473880784386) * r + 0.026532189526576123093) * r
                  + 0.29656057182850489123) * r + 1.7848265399172913358) * r
                + 5.4637849111641143699) * r + 6.6579046435011037772)
        den = (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r
                    + 1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r
                  + 0.0148753612908506148525) * r + 0.13692988092273580531) * r
                + 0.59983220655588793769) * r + 1.0)
    x = num / den
    return -x if q < 0.0 else x


@nb.njit(cache=True)
def lognormal(u: float, median: float, log_sd: float) -> float:
    """Lognormal draw with the given median and log-scale standard deviation."""
    return median * math.exp(log_sd * normal_ppf(u))


@nb.njit(cache=True)
def exponential(u: float, rate: float) -> float:
    """Exponential waiting time with the given rate (per year)."""
    return -math.log1p(-u) / rate


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
