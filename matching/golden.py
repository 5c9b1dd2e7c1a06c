"""Golden records: one row per cluster, its surviving attributes, confidence, cross-reference
and lineage."""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree

from .survive import Survivorship, survive

_BASE32 = np.frombuffer(b"ABCDEFGHJKMNPQRSTVWXYZ0123456789", np.uint8)  # no I, L, O, U


def mint_ids(
    n: int, prefix: str, rng: np.random.Generator, taken: pl.Series | None = None, width: int = 12
) -> pl.Series:
    """`n` opaque, distinct IDs like "CUS-7KQ2M9XH4T1B", never derived from any source key,
    none of them in `taken` (the IDs ever minted: a retired ID is never reissued)."""
    out = pl.Series("golden_id", [], pl.String)
    while out.len() < n:
        draw = _BASE32[rng.integers(0, 32, (n - out.len(), width))]
        fresh = prefix + "-" + pl.Series(draw.view(f"S{width}").ravel()).cast(pl.String)
        if taken is not None:
            fresh = fresh.filter(~fresh.is_in(taken.implode()))
        out = pl.concat([out, fresh.rename("golden_id")]).unique(maintain_order=True)
    return out


def confidence(n: int, labels: np.ndarray, scored: pl.DataFrame, threshold: float) -> np.ndarray:
    """Per cluster label: the weakest match probability holding the cluster together, i.e.
    the weakest edge of its maximum spanning tree over pairs at or above `threshold`
    (1.0 for a single record)."""
    strong = scored.filter(pl.col("probability") >= threshold)
    out = np.ones(labels.max() + 1 if len(labels) else 0)
    if strong.height == 0:
        return out
    left, right = strong["left"].to_numpy(), strong["right"].to_numpy()
    # a maximum spanning tree is a minimum one over (1 - p); the epsilon keeps p = 1 edges
    cost = 1.0 - strong["probability"].to_numpy() + 1e-12
    tree = minimum_spanning_tree(coo_matrix((cost, (left, right)), shape=(n, n))).tocoo()
    worst = (
        pl.DataFrame({"c": labels[tree.row], "cost": tree.data})
        .group_by("c")
        .agg(pl.col("cost").max())
    )
    out[worst["c"].to_numpy()] = np.clip(1.0 - worst["cost"].to_numpy() + 1e-12, 0.0, 1.0)
    return out


def build(
    records: pl.DataFrame,
    labels: np.ndarray,
    scored: pl.DataFrame,
    *,
    threshold: float,
    attributes: list[str],
    survivorship: Survivorship,
    golden_ids: pl.Series,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.LazyFrame]:
    """(golden, xref, lineage) for `records` clustered by `labels`.

    `golden_ids[c]` is the ID of cluster label c. xref: source_system, source_key, golden_id,
    match_probability (the record's strongest pair inside its cluster; 1.0 alone). lineage
    (golden_id, attribute, source_system, source_key, rule) is a query over frames already
    held, to be streamed to its file: it is the largest (an attribute of every golden record).
    """
    n = records.height
    with_cluster = records.with_columns(cluster=pl.Series(labels))
    winners, lineage = survive(with_cluster, attributes, survivorship)
    # clusters are labels, and golden IDs, sizes and confidences arrays by label: gathered,
    # not joined (joins copied every surviving attribute; 1M entities: ~1 s of 10)
    cluster = winners["cluster"].to_numpy()
    inside = scored.filter(pl.col("probability") >= threshold)  # what holds clusters together
    golden = winners.select(
        golden_ids.gather(cluster).alias("golden_id"),
        *attributes,
        pl.Series("source_count", np.bincount(labels)[cluster], dtype=pl.UInt32),
        pl.Series("confidence", confidence(n, labels, inside, threshold)[cluster]),
    )
    # each record's strongest pair inside its cluster (a record in no such pair: 1.0)
    best = np.full(n, np.nan)
    for side in ("left", "right"):
        np.fmax.at(best, inside[side].to_numpy(), inside["probability"].to_numpy())
    xref = records.select(
        "source_system", "source_key",
        golden_id=golden_ids.gather(labels),
        match_probability=pl.Series(np.where(np.isnan(best), 1.0, best)),
    )  # fmt: skip
    return golden, xref, _named(lineage, golden_ids, records)


def _named(lineage: pl.DataFrame, golden_ids: pl.Series, records: pl.DataFrame) -> pl.LazyFrame:
    """`lineage` (cluster, attribute, row, rule) with the golden ID and the record's system
    and key, as a query (streamed to its file, never every row's strings at once). Clusters
    and rows are positions: the names are gathered, not joined."""
    return lineage.lazy().select(
        golden_id=pl.lit(golden_ids).gather(pl.col("cluster")),
        attribute="attribute",
        source_system=pl.lit(records["source_system"]).gather(pl.col("row")),
        source_key=pl.lit(records["source_key"]).gather(pl.col("row")),
        rule="rule",
    )  # fmt: skip
