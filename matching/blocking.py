"""Blocking: candidate pairs from several keys, as self-joins, with block-size caps.

A blocking rule is a value: a name and the expressions whose equality puts two records in
one block (`BlockingRule("email", [pl.col("m_email")])`). Rows with a null in any part are
not blocked by that rule. A block larger than `max_block` is skipped and reported: it says
less about identity than its size costs (a common surname in a big city). Before any join,
the pair count is estimated from block sizes; above `pair_budget` the run stops, since only a
misconfigured key produces that.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class BlockingRule:
    name: str
    parts: tuple[pl.Expr, ...]

    def key(self) -> pl.Expr:
        return pl.concat_str([p.cast(pl.String) for p in self.parts], separator="\x1f")


@dataclass(frozen=True)
class Blocked:
    pairs: pl.DataFrame  # left, right (record indices, left < right), rules (list of names)
    report: pl.DataFrame  # rule, blocks, capped_blocks, capped_records, pairs


class PairBudgetExceeded(RuntimeError):
    """The blocking keys would produce more candidate pairs than the budget allows."""


def estimate_pairs(records: pl.DataFrame, rules: list[BlockingRule], max_block: int) -> int:
    """Upper bound of candidate pairs (before de-duplication across rules), from block sizes."""
    total = 0
    for rule in rules:
        sizes = records.select(k=rule.key()).drop_nulls().group_by("k").len()["len"]
        sizes = sizes.filter(sizes <= max_block)
        total += int((sizes * (sizes - 1) // 2).sum())
    return total


def block(
    records: pl.DataFrame,
    rules: list[BlockingRule],
    *,
    max_block: int = 50,
    pair_budget: int = 50_000_000,
) -> Blocked:
    """Candidate pairs of `records` (indexed by row number) under any of `rules`."""
    estimate = estimate_pairs(records, rules, max_block)
    if estimate > pair_budget:
        raise PairBudgetExceeded(
            f"blocking would make about {estimate:,} candidate pairs, over the budget of "
            f"{pair_budget:,}: a blocking key is too coarse"
        )
    indexed = records.with_row_index("_rid")
    found, report = [], []
    for rule in rules:
        keyed = indexed.select("_rid", k=rule.key()).drop_nulls("k")
        sizes = keyed.group_by("k").len()
        capped = sizes.filter(pl.col("len") > max_block)
        keyed = keyed.join(capped.select("k"), on="k", how="anti")
        pairs = (
            keyed.join(keyed, on="k", suffix="_r")
            .filter(pl.col("_rid") < pl.col("_rid_r"))
            .select(left="_rid", right="_rid_r", rule=pl.lit(rule.name))
        )
        found.append(pairs)
        report.append({
            "rule": rule.name, "blocks": sizes.height, "capped_blocks": capped.height,
            "capped_records": int(capped["len"].sum()), "pairs": pairs.height,
        })  # fmt: skip
    union = pl.concat(found).group_by("left", "right").agg(rules=pl.col("rule").unique().sort())
    return Blocked(union.sort("left", "right"), pl.DataFrame(report))
