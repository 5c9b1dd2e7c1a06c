"""Survivorship: one value per golden record and attribute, with the rule that chose it.

Each attribute has an ordered list of rules; candidates are the cluster's non-null values:
- `source_trust`: the most trusted source system wins (order from settings);
- `recency`: the most recently updated record wins;
- `frequency`: the value most records agree on wins.
Remaining ties go to the smallest (source_system, source_key), so the result is deterministic.
The lineage row names the first rule that separated the winner from every other candidate
(`only_value` when there was one candidate, `tie_break` when no rule did).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

RULES = ("source_trust", "recency", "frequency")
DEFAULT_RULES = ("source_trust", "recency", "frequency")


@dataclass(frozen=True)
class Survivorship:
    source_trust: tuple[str, ...] = ()  # most trusted first; unknown systems rank last
    rules: dict[str, tuple[str, ...]] = field(default_factory=dict)  # attribute -> rule chain

    def chain(self, attribute: str) -> tuple[str, ...]:
        return self.rules.get(attribute, DEFAULT_RULES)


def _rank_columns(settings: Survivorship, attribute: str) -> list[tuple[str, pl.Expr]]:
    trust = {s: i for i, s in enumerate(settings.source_trust)}
    keys = {
        "source_trust": pl.col("source_system").replace_strict(
            trust, default=len(trust), return_dtype=pl.Int64
        ),
        "recency": -pl.col("source_updated_at").cast(pl.Int64).fill_null(-(2**62)),
        "frequency": -pl.len().over("cluster", attribute).cast(pl.Int64),
    }
    return [(rule, keys[rule]) for rule in settings.chain(attribute)]


def survive(
    records: pl.DataFrame, attributes: list[str], settings: Survivorship
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(one row per cluster with the surviving attributes, lineage rows).

    `records` needs `cluster`, `source_system`, `source_key`, `source_updated_at` and the
    attributes. Lineage: cluster, attribute, source_system, source_key, rule.
    """
    winners = records.select("cluster").unique().sort("cluster")
    lineage = []
    for attribute in attributes:
        ranked = _rank_columns(settings, attribute)
        candidates = records.filter(pl.col(attribute).is_not_null()).with_columns(
            **{f"_r_{rule}": key for rule, key in ranked}
        )
        order = [f"_r_{rule}" for rule, _ in ranked] + ["source_system", "source_key"]
        best = candidates.sort(["cluster", *order]).group_by("cluster", maintain_order=True)
        first = best.first()
        # the deciding rule: the first whose best key no other candidate shares
        counts = candidates.join(
            first.select("cluster", *[pl.col(c).alias(f"{c}_best") for c in order[:-2]]),
            on="cluster",
        )
        decided = []
        same = pl.lit(True)
        for rule, _ in ranked:
            same = same & (pl.col(f"_r_{rule}") == pl.col(f"_r_{rule}_best"))
            decided.append(same.sum().alias(f"_n_{rule}"))
        stats = counts.group_by("cluster").agg(pl.len().alias("_n"), *decided)
        rule_expr = pl.when(pl.col("_n") == 1).then(pl.lit("only_value"))
        for rule, _ in ranked:
            rule_expr = rule_expr.when(pl.col(f"_n_{rule}") == 1).then(pl.lit(rule))
        stats = stats.select("cluster", rule=rule_expr.otherwise(pl.lit("tie_break")))
        chosen = first.select("cluster", attribute, "source_system", "source_key").join(
            stats, on="cluster"
        )
        winners = winners.join(chosen.select("cluster", attribute), on="cluster", how="left")
        lineage.append(
            chosen.select(
                "cluster",
                pl.lit(attribute).alias("attribute"),
                "source_system",
                "source_key",
                "rule",
            )
        )
    return winners, pl.concat(lineage) if lineage else pl.DataFrame()
