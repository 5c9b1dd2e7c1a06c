"""Vocabulary pools: each vocabulary list as an array with sampling weights, built once.

Real name and place frequencies are heavy-tailed ("Smith", "London"), which is what makes
term-frequency adjustment matter; a Zipf weight over a fixed shuffle of each list gives that
without claiming any real name's real frequency.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from . import vocab

_VOCAB_SHUFFLE_SEED = 20261127  # fixed: the pools do not depend on the user's --seed


@dataclass(frozen=True)
class Pool:
    values: np.ndarray  # object array of str
    weights: np.ndarray  # probabilities, same length

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.values[self.sample_index(rng, n)]

    def sample_index(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(len(self.values), size=n, p=self.weights)


def _zipf_pool(values: tuple[str, ...], exponent: float) -> Pool:
    """Values in a fixed shuffled order, Zipf-weighted by rank."""
    shuffle = np.random.default_rng(_VOCAB_SHUFFLE_SEED)
    ordered = [values[i] for i in shuffle.permutation(len(values))]
    weights = 1.0 / np.arange(1, len(ordered) + 1) ** exponent
    return Pool(np.array(ordered, dtype=object), weights / weights.sum())


# Small exponents keep the head realistic: the commonest surname of a country is about 1% of
# people, not 5%, so namesakes arise at scale without swamping a sample.
@cache
def given_names(country: str, gender: str) -> Pool:
    return _zipf_pool(vocab.given_names(country, gender), 0.5)


@cache
def family_names(country: str) -> Pool:
    return _zipf_pool(vocab.family_names(country), 0.3)


@cache
def heritage_given_names(locale: str, gender: str) -> Pool:
    return _zipf_pool(vocab.heritage_given_names(locale, gender), 0.5)


@cache
def heritage_family_names(locale: str) -> Pool:
    return _zipf_pool(vocab.heritage_family_names(locale), 0.3)


@cache
def cities(country: str) -> Pool:
    return _zipf_pool(vocab.cities(country), 1.0)


@cache
def street_names(country: str) -> Pool:
    return _zipf_pool(vocab.street_names(country), 0.5)


@cache
def industry_words(country: str) -> Pool:
    return _zipf_pool(vocab.INDUSTRY_WORDS[country], 0.5)


@cache
def brand_words() -> Pool:
    return _zipf_pool(vocab.BRAND_WORDS, 0.3)


@cache
def street_type_weights(country: str) -> np.ndarray:
    """Street types are listed most common first (-straße dominates -allee)."""
    weights = 1.0 / np.arange(1, len(vocab.STREET_TYPES[country]) + 1) ** 1.2
    return weights / weights.sum()


@cache
def city_codes(country: str) -> np.ndarray:
    """A postcode prefix per city of `country`, aligned with `cities(country).values`.

    GB: a two-letter postcode area; DE, FR, NL: a two-digit leading code. Distinct per city as
    far as the code space allows, fixed across runs.
    """
    names = cities(country).values
    shuffle = np.random.default_rng(_VOCAB_SHUFFLE_SEED + 1)
    if country == "GB":
        letters = np.array(list("ABCDEFGHJKLMNOPRSTUWY"))
        codes = [a + b for a in letters for b in letters]
        picks = shuffle.permutation(len(codes))[: len(names)]
        return np.array([codes[i] for i in picks], dtype=object)
    low, high = (1, 96) if country == "FR" else (10, 100)
    span = np.arange(low, high)
    picks = np.concatenate([shuffle.permutation(span) for _ in range(len(names) // len(span) + 1)])
    return np.array([f"{c:02d}" for c in picks[: len(names)]], dtype=object)
