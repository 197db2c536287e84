"""Deterministic random sources: one independent stream per patient, so output depends only on the seed.

Every patient ``i`` gets ``Random("benhan-demo/<seed>/patient/<i>")`` (string seeds are hashed with
SHA-512 by :mod:`random`, stable across processes and Python runs), which lets workers generate any
slice of the population in any order and still produce byte-identical resources.
"""

from __future__ import annotations

import math
import random
import uuid
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from itertools import accumulate
from typing import Generic, TypeVar

T = TypeVar("T")


def patient_rng(seed: int, index: int) -> random.Random:
    """The random stream of patient number ``index`` (0-based)."""
    return random.Random(f"benhan-demo/{seed}/patient/{index}")


def named_rng(seed: int, name: str) -> random.Random:
    """A random stream for one shared part of the data set (facility, staff, ...)."""
    return random.Random(f"benhan-demo/{seed}/{name}")


def new_id(rng: random.Random) -> str:
    """A version-4 UUID drawn from ``rng`` (deterministic, unlike :func:`uuid.uuid4`)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class Weighted(Generic[T]):
    """Weighted choice with precomputed cumulative weights (O(log n) per draw)."""

    __slots__ = ("_cum", "_items", "_total")

    def __init__(self, pairs: Iterable[tuple[T, float]]) -> None:
        items: list[T] = []
        weights: list[float] = []
        for item, weight in pairs:
            if weight > 0:
                items.append(item)
                weights.append(float(weight))
        if not items:
            raise ValueError("Weighted needs at least one positive weight")
        self._items = items
        self._cum = list(accumulate(weights))
        self._total = self._cum[-1]

    def pick(self, rng: random.Random) -> T:
        return self._items[bisect_right(self._cum, rng.random() * self._total)]

    @property
    def items(self) -> Sequence[T]:
        return self._items

    def share(self, item: T) -> float:
        """The probability of ``item``."""
        i = self._items.index(item)
        return (self._cum[i] - (self._cum[i - 1] if i else 0.0)) / self._total


def clamp(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


def normal(rng: random.Random, mean: float, sd: float, low: float | None = None,
           high: float | None = None) -> float:
    """A normal draw clipped to ``[low, high]``."""
    value = rng.gauss(mean, sd)
    if low is not None and value < low:
        value = low
    if high is not None and value > high:
        value = high
    return value


def lognormal_mean(rng: random.Random, mean: float, sd: float) -> float:
    """A log-normal draw with the given arithmetic mean and standard deviation (e.g. length of stay)."""
    sigma2 = math.log(1 + (sd / mean) ** 2)
    return rng.lognormvariate(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))


def poisson_count(rng: random.Random, expected: float) -> int:
    """A Poisson draw (Knuth's method for small means, normal approximation above 30)."""
    if expected <= 0:
        return 0
    if expected > 30:
        return max(0, round(rng.gauss(expected, math.sqrt(expected))))
    limit = math.exp(-expected)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def affine_permutation(seed: int, modulus: int, salt: str) -> tuple[int, int]:
    """``(a, b)`` such that ``i -> (a*i + b) % modulus`` is a bijection: unique serial numbers without a set.

    ``modulus`` is a power of ten, so ``a`` must be odd and not a multiple of 5.
    """
    rng = named_rng(seed, salt)
    a = rng.randrange(modulus // 10, modulus)
    while a % 2 == 0 or a % 5 == 0:
        a += 1
    return a % modulus, rng.randrange(modulus)
