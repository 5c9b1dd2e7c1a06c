"""Fellegi-Sunter scoring: m and u per comparison level, a match weight and probability per pair.

u (how often a level occurs among non-matches) comes from random record pairs, which are almost
all non-matches; m (how often among matches) and the match prior come from expectation-
maximisation over the candidate pairs, without labels. A null level (-1) is no evidence.
Disagreement carries weight too: m/u < 1 pushes a pair apart (different birth dates).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .compare import NULL, Comparison

_SMOOTH = 1e-4  # keeps every level possible: no level is proof by itself
# The weight, in pairs, of a comparison's declared m/u priors: negligible against the hundreds
# of thousands of random pairs and the many candidate pairs of a real source, decisive for a
# source of a dozen records, where EM and random pairs alone would learn noise.
PRIOR_PAIRS = 50.0


@dataclass(frozen=True)
class Model:
    """Estimated parameters for one party type."""

    comparisons: tuple[Comparison, ...]
    m: dict[str, np.ndarray]
    u: dict[str, np.ndarray]
    prior: float  # share of candidate pairs that match
    iterations: int

    def weights(self) -> dict[str, np.ndarray]:
        """log2(m/u) per comparison level: the evidence each level carries."""
        return {c.name: np.log2(self.m[c.name] / self.u[c.name]) for c in self.comparisons}


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


def _em(
    comparisons: tuple[Comparison, ...],
    levels: dict[str, np.ndarray],
    u: dict[str, np.ndarray],
    *,
    max_iterations: int,
    tolerance: float,
    known: np.ndarray | None = None,
) -> tuple[dict[str, np.ndarray], float, int]:
    """EM for m and the candidate-pair prior with u fixed, over `comparisons` only. Where
    `known` holds 1 or 0 (a labelled pair), that is the pair's posterior, not EM's guess."""
    prior = 0.5
    m = {}
    for c in comparisons:  # start from the prior, or "agreement is likelier among matches"
        start = np.asarray(c.m_prior) if c.m_prior else np.linspace(1.0, 4.0, len(c.levels)) ** 2
        m[c.name] = start / start.sum()
    iterations = 0
    while iterations < max_iterations:
        iterations += 1
        odds = np.log2(prior / (1 - prior)) + _log_likelihood_ratio(levels, comparisons, m, u)
        posterior = 1.0 / (1.0 + np.exp2(-np.clip(odds, -60, 60)))
        if known is not None:
            posterior = np.where(np.isnan(known), posterior, known)
        new_prior = float(np.clip(posterior.mean(), 1e-4, 0.99))
        new_m = {c.name: _frequencies(levels[c.name], len(c.levels), posterior, c.m_prior)
                 for c in comparisons}  # fmt: skip
        change = max(abs(new_prior - prior), *(np.abs(new_m[k] - m[k]).max() for k in m))
        m, prior = new_m, new_prior
        if change < tolerance:
            break
    return m, prior, iterations


def train(
    comparisons: tuple[Comparison, ...],
    sessions: list[tuple[dict[str, np.ndarray], frozenset[str]]]
    | list[tuple[dict[str, np.ndarray], frozenset[str], np.ndarray | None]],
    u: dict[str, np.ndarray],
    all_levels: dict[str, np.ndarray],
    n_records: int,
    *,
    max_iterations: int = 50,
    tolerance: float = 1e-5,
) -> Model:
    """m by EM, one session per blocking rule (as Splink does), then the prior.

    Each session holds the candidate pairs of one blocking rule and leaves out the comparisons
    that rule forces to agree (they carry no information there); every comparison's m is the
    mean over the sessions that estimated it. The prior is the probability that two random
    records match: the fixed point of N = sum of match probabilities over all candidate pairs,
    prior = N / (n(n-1)/2), which holds when blocking finds almost every match.
    """
    estimates: dict[str, list[np.ndarray]] = {c.name: [] for c in comparisons}
    iterations = 0
    for session in sessions:
        levels, excluded = session[0], session[1]
        known = session[2] if len(session) > 2 else None
        used = tuple(c for c in comparisons if c.name not in excluded)
        m, _, it = _em(used, levels, u, max_iterations=max_iterations, tolerance=tolerance,
                       known=known)  # fmt: skip
        iterations += it
        for name, value in m.items():
            estimates[name].append(value)
    missing = tuple(c for c in comparisons if not estimates[c.name])
    if missing:  # no blocking rule's pairs left these free: estimate them over every pair
        m, _, it = _em(comparisons, all_levels, u, max_iterations=max_iterations,
                       tolerance=tolerance)  # fmt: skip
        iterations += it
        for c in missing:
            estimates[c.name].append(m[c.name])
    m_final = {name: np.mean(values, axis=0) for name, values in estimates.items()}
    all_pairs = n_records * (n_records - 1) / 2
    llr = _log_likelihood_ratio(all_levels, comparisons, m_final, u)
    matches = float(n_records) / 2  # start: every record has one duplicate
    for _ in range(100):
        prior = min(max(matches / all_pairs, 1e-12), 0.5)
        odds = np.log2(prior / (1 - prior)) + llr
        new = float((1.0 / (1.0 + np.exp2(-np.clip(odds, -60, 60)))).sum())
        if abs(new - matches) < 1e-3 * max(matches, 1.0):
            break
        matches = new
    return Model(comparisons, m_final, u, prior, iterations)


def contributions(model: Model, levels: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per comparison, the bits each pair's level adds to its match weight (0 for no
    evidence): the "why" of every decision. They sum, with the prior, to the weight."""
    out = {}
    for name, per_level in model.weights().items():
        lv = levels[name]
        out[name] = np.where(lv == NULL, 0.0, per_level[np.maximum(lv, 0)]).astype(np.float32)
    return out


def predict(model: Model, levels: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(match weight in bits, match probability) per pair."""
    weight = np.log2(model.prior / (1 - model.prior)) + _log_likelihood_ratio(
        levels, model.comparisons, model.m, model.u
    )
    return weight, 1.0 / (1.0 + np.exp2(-np.clip(weight, -60, 60)))
