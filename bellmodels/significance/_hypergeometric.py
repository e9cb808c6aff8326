"""Exact hypergeometric draws for any count up to 2**53, in constant expected time.

numpy's ``Generator.hypergeometric`` (and ``multivariate_hypergeometric``) refuse populations of
10^9 or more, because their ratio-of-uniforms sampler compares differences of log-factorials
of the size of ``N log N`` -- at N ~ 10^15 those are ~3e16, where float64 has no digit after the
decimal point. This module draws with the same algorithm, **HRUA** (E. Stadlober, "The ratio of
uniforms approach for generating discrete random variates", J. Comput. Appl. Math. 31, 181
(1990); E. Stadlober, "Sampling from Poisson, binomial and hypergeometric distributions: ratio
of uniforms as a simple and fast alternative", Bericht 303, Math. Stat. Sektion, Forschungsgesellschaft
Joanneum, Graz (1989)), but computes its acceptance ratio ``log f(k) - log f(m)`` (``m`` the
mode) directly as a difference, by Stirling's series with ``log1p`` (the approach of
C. Loader, "Fast and accurate computation of binomial probabilities" (2000)), so its absolute
error is ~1e-15 times ``|k - m|`` whatever the population: the draw is exact up to that
rounding, as numpy's is below 10^9. Unlike numpy's HRUA the proposal is not truncated at 16
standard deviations. The mode is computed in Python integers.

The expected number of proposals per draw is below 2 (Stadlober 1990, the table-mountain hat);
each proposal costs a dozen floating-point operations, so a draw takes microseconds for any
population.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> k = hypergeometric(rng, 3 * 10**14, 7 * 10**14, 10**12)   # a mean of 3e11, SD ~ 4.6e5
>>> abs(k - 3 * 10**11) < 10 * 460_000
True
"""

from __future__ import annotations

import math

import numpy as np

_D1 = 2.0 * math.sqrt(2.0 / math.e)  # 1.7155277699214135, Stadlober's table-mountain constants
_D2 = 3.0 - 2.0 * math.sqrt(3.0 / math.e)  # 0.8989161620588988
_NUMPY_LIMIT = 10**9  # numpy's hypergeometric accepts ngood, nbad below this


def _stirling_error(y: float) -> float:
    """``lgamma(y) - ((y - 1/2) log y - y + log(2 pi) / 2)`` for ``y >= 1``, to ~1e-16."""
    if y < 30.0:
        return math.lgamma(y) - ((y - 0.5) * math.log(y) - y + 0.5 * math.log(2.0 * math.pi))
    inv = 1.0 / y
    inv2 = inv * inv
    return inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 / 1680)))


def _log_factorial_step(x: int, d: int) -> tuple[float, float]:
    """``log((x + d)! / x!)`` split as ``(smooth part, Y')`` for ``x, x + d >= 0``; see below.

    With ``Y = x + 1`` and ``Y' = x + d + 1``: ``log Gamma(Y') - log Gamma(Y) = (Y - 1/2)
    log1p(d / Y) + d log Y' - d + stirling_error(Y') - stirling_error(Y)``. The term
    ``d log Y'`` is left to the caller (``Y'`` is returned), which combines the four of them
    as logarithms of ratios: they cancel to O(d), and a log of a ratio keeps the digits.
    """
    y = float(x + 1)
    yd = float(x + d + 1)
    smooth = (y - 0.5) * math.log1p(d / y) - d + _stirling_error(yd) - _stirling_error(y)
    return smooth, yd


def _log_ratio(mode: int, k: int, small: int, sample: int, large: int) -> float:
    """``log f(k) - log f(mode)`` of the hypergeometric pmf ``f``, with ``d = k - mode``.

    ``f(k) ∝ 1 / (k! (small - k)! (sample - k)! (large - sample + k)!)``.
    """
    d = k - mode
    if d == 0:
        return 0.0
    terms = [
        _log_factorial_step(mode, d),
        _log_factorial_step(small - mode, -d),
        _log_factorial_step(sample - mode, -d),
        _log_factorial_step(large - sample + mode, d),
    ]
    smooth = terms[0][0] + terms[1][0] + terms[2][0] + terms[3][0]
    # d (log Y'_1 - log Y'_2 - log Y'_3 + log Y'_4), as logs of ratios (near 1 at large N)
    logs = math.log(terms[0][1] / terms[1][1]) + math.log(terms[3][1] / terms[2][1])
    return -(smooth + d * logs)


def _hrua(rng: np.random.Generator, good: int, bad: int, nsample: int) -> int:
    """Stadlober's HRUA draw (see the module docstring), exact for any sizes up to 2**53."""
    popsize = good + bad
    sample = min(nsample, popsize - nsample)
    small, large = min(good, bad), max(good, bad)
    p = small / popsize
    a = sample * p + 0.5
    var = (popsize - sample) * sample * p * (1.0 - p) / max(popsize - 1, 1)
    h = _D1 * math.sqrt(var + 0.5) + _D2
    mode = (sample + 1) * (small + 1) // (popsize + 2)  # Python integers: exact
    b = min(sample, small) + 1  # support is 0..min(sample, small) (large >= sample here)
    while True:
        u, v = rng.random(2)
        if u == 0.0:
            continue
        x = a + h * (v - 0.5) / u
        if x < 0.0 or x >= b:
            continue
        k = int(x)
        t = _log_ratio(mode, k, small, sample, large)
        if u * (4.0 - u) - 3.0 <= t:  # fast acceptance (log u <= u - 1 bounds)
            break
        if u * (u - t) >= 1.0:  # fast rejection
            continue
        if 2.0 * math.log(u) <= t:
            break
    if good > bad:
        k = sample - k
    if sample < nsample:
        k = good - k
    return k


def hypergeometric(rng: np.random.Generator, good: int, bad: int, nsample: int) -> int:
    """Number of ``good`` items among ``nsample`` drawn without replacement from ``good + bad``.

    numpy's sampler below its 10^9 limit (so small tables keep their seeded draws), else
    :func:`_hrua`. Exact in both ranges; reproducible from the generator's state.

    >>> rng = np.random.default_rng(1)
    >>> hypergeometric(rng, 5, 0, 3), hypergeometric(rng, 0, 5, 3), hypergeometric(rng, 4, 4, 8)
    (3, 0, 4)
    """
    good, bad, nsample = int(good), int(bad), int(nsample)
    if min(good, bad, nsample) < 0 or nsample > good + bad:
        raise ValueError(f"need 0 <= nsample <= good + bad, got {good}, {bad}, {nsample}")
    if nsample == 0 or good == 0:
        return 0
    if bad == 0:
        return nsample
    if good < _NUMPY_LIMIT and bad < _NUMPY_LIMIT:
        return int(rng.hypergeometric(good, bad, nsample))
    return _hrua(rng, good, bad, nsample)


__all__ = ["hypergeometric"]
