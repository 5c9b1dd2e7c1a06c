"""Fellegi-Sunter scoring: m and u per comparison level, a match weight and probability per pair.

u (how often a level occurs among non-matches) comes from random record pairs, which are almost
all non-matches; m (how often among matches) and the match prior come from expectation-
maximisation over the candidate pairs, without labels. A null level (-1) is no evidence.
Disagreement carries weight too: m/u < 1 pushes a pair apart (different birth dates).

Fellegi-Sunter assumes the comparisons are independent among non-matches. Inside a household
they are not: two records that share a family name and a street address are, when they are
not one person, twins, a father and son, a couple, and those agree on a birth date or a given
name far more often than two random people do. A `compare.Context` names such a setting; its
pairs get their own prior (the share of them that match) and their own m and u for the other
comparisons, estimated by EM over the context's candidate pairs, starting from (and drawn
towards) the model's. Where no household members exist (FEBRL), EM finds every context pair a
match and the context adds nothing: the comparisons it fixes count as anywhere else.

Exact agreement on a value is weighed by how rare the value is (`frequency.TERM_FREQUENCY`):
u of the exact level becomes the value's share of the records, so "Zielinski" says more than
"Smith", and an email shared by two of two million records more than by two of two thousand.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import polars as pl

from .compare import NULL, Comparison, Context
from .frequency import TermFrequencies

_SMOOTH = 1e-4  # keeps every level possible: no level is proof by itself
# The weight, in pairs, of a comparison's declared m/u priors: negligible against the hundreds
# of thousands of random pairs and the many candidate pairs of a real source, decisive for a
# source of a dozen records, where EM and random pairs alone would learn noise.
PRIOR_PAIRS = 50.0


@dataclass(frozen=True)
class Setting:
    """A context's estimates: the share of its candidate pairs that match, and m and u among
    its matches and non-matches for every comparison the context does not fix."""

    context: Context
    share: float
    m: dict[str, np.ndarray]
    u: dict[str, np.ndarray]
    pairs: int

    @property
    def empty(self) -> bool:
        """Fewer than one of its pairs is a non-match, by EM's count."""
        return (1.0 - self.share) * self.pairs < 1.0


@dataclass(frozen=True)
class Model:
    """Estimated parameters for one party type."""

    comparisons: tuple[Comparison, ...]
    m: dict[str, np.ndarray]
    u: dict[str, np.ndarray]
    prior: float  # probability that two random records match
    iterations: int
    settings: tuple[Setting, ...] = ()

    def weights(self) -> dict[str, np.ndarray]:
        """log2(m/u) per comparison level: the evidence each level carries."""
        return {c.name: np.log2(self.m[c.name] / self.u[c.name]) for c in self.comparisons}

    def context_weights(self) -> dict[str, dict[str, np.ndarray]]:
        """Per context, log2(m/u) per level of each comparison it leaves free."""
        return {
            s.context.name: {name: np.log2(s.m[name] / u) for name, u in s.u.items()}
            for s in self.settings
        }

    def where(self, levels: dict[str, np.ndarray]) -> list[tuple[Setting, np.ndarray]]:
        """Each fitted context with the pairs it scores (the first context that holds)."""
        taken = np.zeros(len(next(iter(levels.values()))), bool)
        out = []
        for s in self.settings:
            mask = s.context.holds(levels) & ~taken
            taken |= mask
            out.append((s, mask))
        return out


def _frequencies(
    levels: np.ndarray,
    n_levels: int,
    weights: np.ndarray | None = None,
    prior: tuple[float, ...] | None = None,
):
    seen = levels != NULL
    w = np.ones(len(levels)) if weights is None else weights
    counts = np.bincount(levels[seen].astype(np.int64), weights=w[seen], minlength=n_levels)
    if prior is not None:
        counts = counts + PRIOR_PAIRS * np.asarray(prior, dtype=np.float64)
    counts = counts + _SMOOTH * max(counts.sum(), 1.0)
    return counts / counts.sum()


def estimate_u(comparisons: tuple[Comparison, ...], random_levels: dict[str, np.ndarray]):
    """u per comparison from the levels of random record pairs."""
    return {c.name: _frequencies(random_levels[c.name], len(c.levels), prior=c.u_prior)
            for c in comparisons}  # fmt: skip


def _log_likelihood_ratio(levels, comparisons, m, u) -> np.ndarray:
    total = np.zeros(len(next(iter(levels.values()))))
    for c in comparisons:
        lv = levels[c.name]
        seen = lv != NULL
        ratio = np.log2(m[c.name] / u[c.name])
        total[seen] += ratio[lv[seen]]
    return total


def _logit(p: float) -> float:
    return float(np.log2(p / (1 - p)))


def _probability(bits: np.ndarray) -> np.ndarray:
    """The probability whose log2-odds are `bits`."""
    return 1.0 / (1.0 + np.exp2(-np.clip(bits, -60, 60)))


@dataclass(frozen=True)
class _Patterns:
    """The distinct comparison vectors of a set of pairs, each with how many pairs share it:
    EM over 300,000 candidate pairs is EM over a few thousand weighted patterns, with the
    same estimates in a fraction of the time."""

    levels: dict[str, np.ndarray]
    counts: np.ndarray
    known: np.ndarray | None  # a fixed posterior (a context's, in the second round) splits one

    @property
    def total(self) -> float:
        return float(self.counts.sum())


def _patterns(levels: dict[str, np.ndarray], known: np.ndarray | None = None) -> _Patterns:
    names = sorted(levels)
    assert len(names) <= 13, "a pattern key holds 3 bits per comparison and 22 for `known`"
    key = np.zeros(len(levels[names[0]]), np.int64)
    for name in names:  # levels run from -1 (null) to at most 6
        key = key * 8 + (levels[name].astype(np.int64) + 1)
    if known is not None:
        code = np.where(np.isnan(known), 0, 1 + np.round(np.nan_to_num(known) * 2**20))
        key = key * (2**21 + 2) + code.astype(np.int64)
    # a hash group-by, sorted by key afterwards: np.unique's sort of millions of keys cost
    # more than EM itself, and the patterns come out in np.unique's order all the same
    grouped = (
        pl.DataFrame({"key": key})
        .with_row_index("first")
        .group_by("key")
        .agg(pl.col("first").min(), counts=pl.len())
        .sort("key")
    )
    first = grouped["first"].to_numpy()
    counts = grouped["counts"].to_numpy()
    return _Patterns({k: v[first] for k, v in levels.items()}, counts.astype(np.float64),
                     None if known is None else known[first])  # fmt: skip


def _em(
    comparisons: tuple[Comparison, ...],
    patterns: _Patterns,
    u: dict[str, np.ndarray],
    *,
    max_iterations: int,
    tolerance: float,
) -> tuple[dict[str, np.ndarray], float, int]:
    """EM for m and the candidate-pair prior with u fixed, over `comparisons` only. Where a
    pattern's posterior is known (a context's, in the second round of training), that is its
    posterior, not EM's guess."""
    prior = 0.5
    m = {}
    for c in comparisons:  # start from the prior, or "agreement is likelier among matches"
        start = np.asarray(c.m_prior) if c.m_prior else np.linspace(1.0, 4.0, len(c.levels)) ** 2
        m[c.name] = start / start.sum()
    levels, counts, known = patterns.levels, patterns.counts, patterns.known
    iterations = 0
    while iterations < max_iterations:
        iterations += 1
        posterior = _probability(_logit(prior) + _log_likelihood_ratio(levels, comparisons, m, u))
        if known is not None:
            posterior = np.where(np.isnan(known), posterior, known)
        new_prior = float(np.clip((counts * posterior).sum() / patterns.total, 1e-4, 0.99))
        new_m = {c.name: _frequencies(levels[c.name], len(c.levels), counts * posterior,
                                      c.m_prior) for c in comparisons}  # fmt: skip
        change = max(abs(new_prior - prior), *(np.abs(new_m[k] - m[k]).max() for k in m))
        m, prior = new_m, new_prior
        if change < tolerance:
            break
    return m, prior, iterations


# A training session: the levels of one blocking rule's pairs and the comparisons it forces.
Session = tuple[dict[str, np.ndarray], frozenset[str]]


def train(
    comparisons: tuple[Comparison, ...],
    sessions: list[Session],
    u: dict[str, np.ndarray],
    all_levels: dict[str, np.ndarray],
    n_records: int,
    *,
    contexts: tuple[Context, ...] = (),
    max_iterations: int = 50,
    tolerance: float = 1e-5,
) -> Model:
    """m by EM, one session per blocking rule (as Splink does), then the prior.

    Each session holds the candidate pairs of one blocking rule and leaves out the comparisons
    that rule forces to agree (they carry no information there); every comparison's m is the
    mean over the sessions that estimated it. The prior is the probability that two random
    records match: the fixed point of N = sum of match probabilities over all candidate pairs,
    prior = N / (n(n-1)/2), which holds when blocking finds almost every match. Then each of
    `contexts` is fitted over the pairs of `all_levels` in it.

    With contexts, m is learned twice. The first time, EM in a session blocked on birth date
    and postcode takes twins for matches (they agree on everything it compares but a name and
    an email) and learns that matches often differ in their emails. The second time, a
    session's pairs inside a context take their posterior from the first model's context.
    """
    model = _train(comparisons, [(levels, excluded, None) for levels, excluded in sessions], u,
                   all_levels, n_records, contexts, max_iterations, tolerance)  # fmt: skip
    if not model.settings:
        return model
    refined = []
    for levels, excluded in sessions:
        inside = np.zeros(len(next(iter(levels.values()))), bool)
        for setting in model.settings:
            inside |= setting.context.holds(levels)
        known = np.where(inside, predict(model, levels)[1], np.nan)
        refined.append((levels, excluded, known))
    second = _train(comparisons, refined, u, all_levels, n_records, contexts, max_iterations,
                    tolerance)  # fmt: skip
    return dataclasses.replace(second, iterations=model.iterations + second.iterations)


def _train(comparisons, sessions, u, all_levels, n_records, contexts, max_iterations,
           tolerance) -> Model:  # fmt: skip
    estimates: dict[str, list[np.ndarray]] = {c.name: [] for c in comparisons}
    iterations = 0
    for levels, excluded, known in sessions:  # `known`: posteriors fixed in advance, or None
        used = tuple(c for c in comparisons if c.name not in excluded)
        m, _, it = _em(used, _patterns(levels, known), u, max_iterations=max_iterations,
                       tolerance=tolerance)  # fmt: skip
        iterations += it
        for name, value in m.items():
            estimates[name].append(value)
    every = _patterns(all_levels)
    missing = tuple(c for c in comparisons if not estimates[c.name])
    if missing:  # no blocking rule's pairs left these free: estimate them over every pair
        m, _, it = _em(comparisons, every, u, max_iterations=max_iterations,
                       tolerance=tolerance)  # fmt: skip
        iterations += it
        for c in missing:
            estimates[c.name].append(m[c.name])
    m_final = {name: np.mean(values, axis=0) for name, values in estimates.items()}
    all_pairs = n_records * (n_records - 1) / 2
    llr = _log_likelihood_ratio(every.levels, comparisons, m_final, u)
    matches = float(n_records) / 2  # start: every record has one duplicate
    for _ in range(100):
        prior = min(max(matches / all_pairs, 1e-12), 0.5)
        new = float((every.counts * _probability(_logit(prior) + llr)).sum())
        if abs(new - matches) < 1e-3 * max(matches, 1.0):
            break
        matches = new
    settings = []
    for context in contexts:
        mask = context.holds(all_levels)
        if mask.any():
            inside = _patterns({k: v[mask] for k, v in all_levels.items()})
            settings.append(_fit(context, comparisons, inside, m_final, u, max_iterations,
                                 tolerance))  # fmt: skip
    return Model(comparisons, m_final, u, prior, iterations, tuple(settings))


def _fit(context, comparisons, patterns: _Patterns, m, u, max_iterations, tolerance) -> Setting:
    """EM for a context's match share, m and u. m starts at the model's and u uninformed, and
    each is drawn towards the model's by `PRIOR_PAIRS` pseudo-pairs. m is free too: with m
    fixed, matches that differ from the model's m in a context (FEBRL's households) are
    better explained by a "non-match" class that imitates them, and EM finds one."""
    free = tuple(c for c in comparisons if c.name not in context.fixed)
    levels, counts, n = patterns.levels, patterns.counts, patterns.total
    share = 0.5
    cm = {c.name: m[c.name] for c in free}
    cu = {c.name: np.full(len(c.levels), 1.0 / len(c.levels)) for c in free}
    for _ in range(max_iterations):
        posterior = _probability(_logit(share) + _log_likelihood_ratio(levels, free, cm, cu))
        new_share = float(np.clip((counts * posterior).sum() / n, 0.5 / n, 1 - 0.5 / n))
        new_m = {c.name: _frequencies(levels[c.name], len(c.levels), counts * posterior,
                                      tuple(m[c.name])) for c in free}  # fmt: skip
        new_u = {c.name: _frequencies(levels[c.name], len(c.levels), counts * (1 - posterior),
                                      tuple(u[c.name])) for c in free}  # fmt: skip
        change = max(abs(new_share - share), *(np.abs(new_u[k] - cu[k]).max() for k in cu),
                     *(np.abs(new_m[k] - cm[k]).max() for k in cm))  # fmt: skip
        share, cm, cu = new_share, new_m, new_u
        if change < tolerance:
            break
    return Setting(context, share, cm, cu, int(n))


def _bits(
    model: Model, levels: dict[str, np.ndarray], tf: TermFrequencies | None = None
) -> dict[str, np.ndarray]:
    out = {}
    for name, per_level in model.weights().items():
        lv = levels[name]
        out[name] = np.where(lv == NULL, 0.0, per_level[np.maximum(lv, 0)])
    for name, count in (tf.counts if tf else {}).items():
        # Exact agreement on a value: u is the value's share of the records, not how often
        # any value agrees. The share is drawn towards the level's u by PRIOR_PAIRS
        # pseudo-records, so in a source of five accounts a customer holding three of them
        # still counts as a shared customer.
        top = len(model.m[name]) - 1
        exact = (levels[name] == top) & ~np.isnan(count)
        share = (count[exact] + PRIOR_PAIRS * model.u[name][top]) / (tf.records + PRIOR_PAIRS)
        out[name][exact] = np.log2(model.m[name][top] / share)
    context_weights = model.context_weights()
    for setting, mask in model.where(levels):
        shared = np.full(int(mask.sum()), _logit(setting.share) - _logit(model.prior))
        if setting.empty:
            # EM found not one non-match in the context (FEBRL has no households): its share
            # is only a bound, and there is no dependence to correct, so the fixed comparisons
            # count as they do anywhere else, never more
            shared = np.minimum(shared, sum(out[c][mask] for c in setting.context.fixed))
        out[setting.context.name] = np.zeros(len(mask))
        out[setting.context.name][mask] = shared
        for c in setting.context.fixed:
            out[c][mask] = 0.0
        for c, per_level in context_weights[setting.context.name].items():
            lv = levels[c][mask]
            out[c][mask] = np.where(lv == NULL, 0.0, per_level[np.maximum(lv, 0)])
    return out


def score_pairs(
    model: Model, levels: dict[str, np.ndarray], tf: TermFrequencies | None = None
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Per pair, each comparison's bits (`contributions`), the match weight and the match
    probability, from one pass over the pairs."""
    bits = _bits(model, levels, tf)
    weight = _logit(model.prior) + sum(bits.values())
    return {k: v.astype(np.float32) for k, v in bits.items()}, weight, _probability(weight)


def contributions(
    model: Model, levels: dict[str, np.ndarray], tf: TermFrequencies | None = None
) -> dict[str, np.ndarray]:
    """Per comparison, the bits each pair's level adds to its match weight (0 for no
    evidence): the "why" of every decision. They sum, with the prior, to the weight.
    A pair in a context gets, under the context's name, what its fixed comparisons add
    together in that context (they add nothing more themselves), and the context's weights
    for the rest. `tf` (`frequency.term_frequencies`) weighs exact agreement on a value by how
    rare the value is, outside contexts."""
    return score_pairs(model, levels, tf)[0]


def context_levels(model: Model, levels: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per context, 0 ("shared") where it scores the pair, else null: explanations name it."""
    return {s.context.name: np.where(mask, 0, NULL).astype(np.int8)
            for s, mask in model.where(levels)}  # fmt: skip


def predict(
    model: Model, levels: dict[str, np.ndarray], tf: TermFrequencies | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(match weight in bits, match probability) per pair (`tf`: as for `contributions`)."""
    _, weight, probability = score_pairs(model, levels, tf)
    return weight, probability
