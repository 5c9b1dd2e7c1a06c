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

import numpy as np
import polars as pl

RULES = ("source_trust", "recency", "frequency")
DEFAULT_RULES = ("source_trust", "recency", "frequency")


@dataclass(frozen=True)
class Survivorship:
    source_trust: tuple[str, ...] = ()  # most trusted first; unknown systems rank last
    rules: dict[str, tuple[str, ...]] = field(default_factory=dict)  # attribute -> rule chain

    def chain(self, attribute: str) -> tuple[str, ...]:
        return self.rules.get(attribute, DEFAULT_RULES)


_STATIC = {"source_trust": pl.col("_trust"), "recency": pl.col("_recency")}  # the record's
_FREQUENCY = "frequency"


def _ordered(
    candidates: pl.DataFrame, chain: tuple[str, ...], attribute: str
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The candidates' order (by cluster, the chain's ranks, then `_tie`; smaller wins) and
    each rule's rank per candidate, in chain order.

    A value's frequency is a window over cluster and value, the costly rank, and it decides
    only where the rules before it leave the best candidates tied: it is counted in those
    clusters alone (elsewhere it ranks 0, below an already decided winner)."""
    if chain[:1] == (_FREQUENCY,):  # it decides in every cluster: count them all
        candidates = candidates.with_columns(_r_frequency=_frequency(attribute))
    ranked = [r for r in chain if f"_r_{r}" in candidates.columns]
    order = candidates.select(pl.arg_sort_by(["cluster", *(f"_r_{r}" for r in ranked), "_tie"]))
    order = order.to_series().to_numpy()
    ranks = {r: candidates[f"_r_{r}"].to_numpy() for r in ranked}
    if len(ranked) < len(chain):  # frequency, after other rules
        clusters = candidates["cluster"].to_numpy()[order]
        starts = np.flatnonzero(np.r_[True, clusters[1:] != clusters[:-1]])
        sizes = np.diff(np.r_[starts, len(order)])
        tied = sizes > 1
        for rule in chain[: chain.index(_FREQUENCY)]:
            in_order = ranks[rule][order]
            tied &= in_order[starts] == in_order[np.minimum(starts + 1, len(order) - 1)]
        member = np.repeat(tied, sizes)
        ranks[_FREQUENCY] = np.zeros(candidates.height, np.int64)
        if member.any():
            rows = order[member]  # whole clusters, in cluster order
            tied_part = candidates[rows].with_columns(_r_frequency=_frequency(attribute))
            ranks[_FREQUENCY][rows] = tied_part["_r_frequency"].to_numpy()
            again = ["cluster", *(f"_r_{r}" for r in chain), "_tie"]
            order = order.copy()  # Polars' array is read-only
            order[member] = rows[tied_part.select(pl.arg_sort_by(again)).to_series().to_numpy()]
    return order, [ranks[r] for r in chain]


def _frequency(attribute: str) -> pl.Expr:
    """Minus how many of the cluster's candidates hold the value (more wins)."""
    return -pl.len().over("cluster", attribute).cast(pl.Int64)


def survive(
    records: pl.DataFrame, attributes: list[str], settings: Survivorship
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(one row per cluster with the surviving attributes, lineage rows).

    `records` needs `cluster`, `source_system`, `source_key`, `source_updated_at` and the
    attributes. Lineage: cluster, attribute, row (the winning record's row in `records`),
    rule; attribute and rule are Categoricals (at 1M entities, 10M lineage rows naming their
    record by system and key held ~1 GB; `matching.golden.build` names them lazily).

    Per attribute, the candidates are sorted once by cluster and the rules' ranks (integers;
    the (source_system, source_key) tie-break is precomputed as one integer rank), and each
    cluster's first candidate wins; which rule decided is counted with array arithmetic over
    the sorted groups, not with joins.
    """
    # ascending (source_system, source_key): the deterministic last resort
    tie = np.empty(records.height, np.int64)
    tie[records.select(pl.arg_sort_by("source_system", "source_key")).to_series().to_numpy()] = (
        np.arange(records.height)
    )
    trust = {s: i for i, s in enumerate(settings.source_trust)}
    records = records.with_columns(
        _tie=pl.Series(tie),
        _trust=pl.col("source_system").replace_strict(trust, default=len(trust),
                                                      return_dtype=pl.Int64),
        _recency=-pl.col("source_updated_at").cast(pl.Int64).fill_null(-(2**62)),
    ).with_row_index("_row")  # fmt: skip
    clusters = records["cluster"].unique().sort()
    winners = {"cluster": clusters}
    lineage = []
    for attribute in attributes:
        chain = settings.chain(attribute)
        # narrow, then filter, then rank: the ranks of the candidates only (nulls group apart,
        # so a value's frequency is the same with them or without)
        candidates = (
            records.select("cluster", attribute, "_row", "_tie", "_trust", "_recency")
            .filter(pl.col(attribute).is_not_null())
            .select("cluster", attribute, "_row", "_tie",
                    *[_STATIC[rule].alias(f"_r_{rule}") for rule in chain if rule in _STATIC])
        )  # fmt: skip
        # the winner's value per cluster, null where the cluster has none
        winners[attribute] = pl.repeat(None, len(clusters), dtype=records.schema[attribute],
                                       eager=True).alias(attribute)  # fmt: skip
        if candidates.height == 0:
            continue
        order, ranks = _ordered(candidates, chain, attribute)
        sorted_cluster = candidates["cluster"].to_numpy()[order]
        starts = np.flatnonzero(np.r_[True, sorted_cluster[1:] != sorted_cluster[:-1]])
        sizes = np.diff(np.r_[starts, len(order)])
        names = ["only_value", "tie_break", *chain]
        rule = np.where(sizes == 1, 0, 1)  # an index into `names`
        undecided = sizes > 1
        same = np.ones(len(order), bool)  # agrees with the winner on every rule so far
        for i, rank in enumerate(ranks, start=2):
            in_order = rank[order]
            same &= in_order == np.repeat(in_order[starts], sizes)
            alone = np.add.reduceat(same, starts) == 1
            rule[undecided & alone] = i
            undecided &= ~alone
        chosen = candidates[order[starts]].select("cluster", attribute, "_row")
        winners[attribute] = winners[attribute].scatter(
            np.searchsorted(clusters.to_numpy(), chosen["cluster"].to_numpy()), chosen[attribute]
        )
        lineage.append(chosen.select(
            "cluster", pl.lit(attribute, pl.Categorical).alias("attribute"),
            pl.col("_row").alias("row"),
            rule=pl.Series(names, dtype=pl.Categorical).gather(rule),
        ))  # fmt: skip
    return pl.DataFrame(winners), pl.concat(lineage) if lineage else pl.DataFrame()
