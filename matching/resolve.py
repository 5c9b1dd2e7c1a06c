"""Entity resolution of staged records: block, compare, score, cluster.

Persons and organisations are resolved apart (a person never matches a company), each with its
own comparisons, blocking rules and Fellegi-Sunter model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from .blocking import BlockingRule, block
from .cluster import components
from .compare import COMPARISONS, compare
from .score import Model, estimate_u, predict, train


def _sorted_pair(a: str, b: str) -> pl.Expr:
    lo = pl.min_horizontal(pl.col(a), pl.col(b))
    hi = pl.max_horizontal(pl.col(a), pl.col(b))
    return pl.concat_str([lo, hi], separator=" ")


# The comparisons each blocking rule forces to agree: left out of that rule's training session.
FORCED: dict[str, frozenset[str]] = {
    "email": frozenset({"email"}),
    "phone": frozenset({"phone"}),
    "name": frozenset({"name_given", "name_family", "organization"}),
    "family_postcode": frozenset({"name_family", "postcode", "city"}),
    "given_birth": frozenset({"name_given", "birth_date"}),
    "family_birth": frozenset({"name_family", "birth_date"}),
    "birth_postcode": frozenset({"birth_date", "postcode", "city"}),
    "address": frozenset({"postcode", "address", "city"}),
    "tax_id": frozenset({"tax_id"}),
    "name_start_city": frozenset({"city"}),
}
TRAINING_SESSIONS = {
    "person": ("name", "birth_postcode", "email"),
    "organization": ("name", "tax_id", "address"),
}

BLOCKING: dict[str, list[BlockingRule]] = {
    "person": [
        BlockingRule("email", (pl.col("m_email"),)),
        BlockingRule("phone", (pl.col("m_phone"),)),
        BlockingRule("name", (_sorted_pair("m_given", "m_family"),)),
        BlockingRule("family_postcode", (pl.col("m_family"), pl.col("m_postcode"))),
        BlockingRule("given_birth", (pl.col("m_given"), pl.col("birth_date"))),
        BlockingRule("family_birth", (pl.col("m_family"), pl.col("birth_date"))),
        BlockingRule("birth_postcode", (pl.col("birth_date"), pl.col("m_postcode"))),
        BlockingRule("address", (pl.col("m_postcode"), pl.col("m_address"))),
    ],
    "organization": [
        BlockingRule("email", (pl.col("m_email"),)),
        BlockingRule("phone", (pl.col("m_phone"),)),
        BlockingRule("tax_id", (pl.col("m_tax_id"),)),
        BlockingRule("name", (pl.col("m_organization"),)),
        BlockingRule(
            "name_start_city",
            (
                pl.col("m_organization").str.split(" ").list.first(),
                pl.col("m_city"),
            ),
        ),  # fmt: skip
        BlockingRule("address", (pl.col("m_postcode"), pl.col("m_address"))),
    ],
}


@dataclass(frozen=True)
class Settings:
    threshold: float = 0.9  # match probability at or above which a pair joins a cluster
    max_block: int = 50
    pair_budget: int = 50_000_000
    random_pairs: int = 200_000  # record pairs sampled to estimate u
    seed: int = 0


@dataclass(frozen=True)
class Resolution:
    pairs: pl.DataFrame  # left, right (row numbers in records), party, levels, weight, probability
    cluster: np.ndarray  # cluster label per record row
    models: dict[str, Model]
    blocking: pl.DataFrame  # per party and rule: blocks, capped blocks, pairs


def _random_pairs(rows: np.ndarray, k: int, rng: np.random.Generator):
    left = rng.choice(rows, k)
    right = rng.choice(rows, k)
    keep = left != right
    return left[keep], right[keep]


def resolve(records: pl.DataFrame, settings: Settings = Settings()) -> Resolution:
    """Resolve `records` (staged, with `m_*` columns) into clusters."""
    rng = np.random.default_rng(settings.seed)
    parts, reports, models = [], [], {}
    party = records["party_type"].to_numpy()
    for kind, comparisons in COMPARISONS.items():
        rows = np.flatnonzero(party == kind)
        if len(rows) < 2:
            continue
        subset = records[rows]
        blocked = block(
            subset, BLOCKING[kind], max_block=settings.max_block, pair_budget=settings.pair_budget
        )
        reports.append(blocked.report.with_columns(party=pl.lit(kind)))
        left = rows[blocked.pairs["left"].to_numpy()]
        right = rows[blocked.pairs["right"].to_numpy()]
        levels = compare(records, left, right, kind)
        rl, rr = _random_pairs(rows, min(settings.random_pairs, len(rows) ** 2), rng)
        u = estimate_u(comparisons, compare(records, rl, rr, kind))
        rules = blocked.pairs["rules"]
        sessions = []
        for rule in TRAINING_SESSIONS[kind]:
            mask = rules.list.contains(rule).to_numpy()
            sessions.append(({k: v[mask] for k, v in levels.items()}, FORCED[rule]))
        model = train(comparisons, sessions, u, levels, len(rows))
        weight, probability = predict(model, levels)
        models[kind] = model
        parts.append(pl.DataFrame({
            "left": left, "right": right, "party": kind,
            **{f"level_{k}": v for k, v in levels.items()},
            "weight": weight, "probability": probability,
        }).with_columns(rules=blocked.pairs["rules"]))  # fmt: skip
    pairs = pl.concat(parts, how="diagonal_relaxed") if parts else pl.DataFrame()
    strong = pairs.filter(pl.col("probability") >= settings.threshold) if parts else pairs
    cluster = components(
        records.height,
        strong["left"].to_numpy() if parts else np.array([], np.int64),
        strong["right"].to_numpy() if parts else np.array([], np.int64),
    )
    return Resolution(pairs, cluster, models, pl.concat(reports) if reports else pl.DataFrame())
