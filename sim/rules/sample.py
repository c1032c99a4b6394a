"""Which of a list of candidates change this year: one keyed count, then a keyed partial shuffle."""

from __future__ import annotations

import numba as nb
import numpy as np

from sim.rng import Word, binomial, draw


@nb.njit(cache=True)
def chosen(cand: np.ndarray, m: int, p: float, rk: Word, decision: int, y: int) -> int:
    """Which of the ``m`` candidates ``cand[:m]`` change this year, each with probability ``p``.

    Instead of one coin per candidate, one keyed draw gives how many change
    (Binomial(m, p), the same distribution as m independent coins) and a keyed
    partial Fisher–Yates shuffle picks which: the chosen ones are moved to
    ``cand[:k]`` and ``k`` is returned. Work and draws grow with the changes, not
    with the firms. Keys: ``(decision, 0, year)`` for the count and
    ``(decision, j + 1, year)`` for the j-th pick. A higher ``p`` keeps every firm
    a lower one chose and adds more (the count is monotone in ``p`` for the same
    draw, and the picks do not depend on the count).
    """
    if m <= 0 or p <= 0.0:  # nobody changes, whatever the draw: skip it (draws are pure, so nothing else moves)
        return 0
    k = binomial(draw(rk, decision, 0, y), m, p)
    for j in range(k):
        r = j + min(int(draw(rk, decision, j + 1, y) * (m - j)), m - j - 1)
        f = cand[r]
        cand[r] = cand[j]
        cand[j] = f
    return k
