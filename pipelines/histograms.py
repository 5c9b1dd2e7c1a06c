"""The two distributions an operator reads a matching run by, shared by the asset metadata and
the run report: golden records by cluster size, and scored pairs by match weight.

A pair's match weight is its log2 Bayes factor (bits of evidence, `match.pairs_<entity>.weight`);
a healthy run is bimodal, non-matches far below zero and matches far above, with few pairs in the
band between the review and the match threshold. Each weight bin splits its pairs by the
decision their probability got: merged, to review, or apart.
"""

from __future__ import annotations

import polars as pl

BANDS = ("apart", "review", "merged")


def cluster_sizes(sizes: pl.Series, largest: int = 10) -> pl.DataFrame:
    """Golden records per cluster size (`source_count`), sizes above `largest` in one row
    (`cluster_size` as text: "1", ..., "10+")."""
    capped = sizes.clip(upper_bound=largest)
    counts = capped.value_counts().sort(capped.name)
    total, top = max(sizes.len(), 1), sizes.max() or 0
    labels = [f"{s}+" if s == largest and top > largest else str(s) for s in counts[capped.name]]
    return pl.DataFrame(
        {"cluster_size": labels, "golden_records": counts["count"],
         "share": [round(n / total, 4) for n in counts["count"]]},
        schema={"cluster_size": pl.String, "golden_records": pl.Int64, "share": pl.Float64},
    )  # fmt: skip


def match_weights(
    pairs: pl.LazyFrame,
    threshold: float,
    review_threshold: float,
    width: float = 5.0,
    low: float = -20.0,
    high: float = 40.0,
) -> pl.DataFrame:
    """Scored pairs (`weight`, `probability`) per weight bin of `width` bits, the outermost bins
    holding everything below `low` or from `high` up; one column per decision band (`BANDS`).
    `weight` is each bin's lower edge as text ("< -20", "-20", ..., ">= 40")."""
    edge = (pl.col("weight").clip(low - width, high) / width).floor() * width
    band = (
        pl.when(pl.col("probability") >= threshold)
        .then(pl.lit("merged"))
        .when(pl.col("probability") >= review_threshold)
        .then(pl.lit("review"))
        .otherwise(pl.lit("apart"))
    )
    counts = (
        pairs.select(edge.alias("edge"), band.alias("band"))
        .group_by("edge", "band")
        .len()
        .collect()
    )
    edges = [low - width + i * width for i in range(int((high - low) / width) + 2)]
    grid = pl.DataFrame({"edge": edges}, schema={"edge": pl.Float64})
    wide = grid.join(
        counts.pivot("band", index="edge", values="len") if counts.height else grid,
        on="edge", how="left",
    )  # fmt: skip
    wide = wide.with_columns(
        pl.col(b).fill_null(0).cast(pl.Int64) if b in wide.columns
        else pl.lit(0, pl.Int64).alias(b)
        for b in BANDS
    ).sort("edge")  # fmt: skip
    label = [
        f"< {low:g}" if e < low else f">= {high:g}" if e >= high else f"{e:g}" for e in wide["edge"]
    ]
    return wide.select(pl.Series("weight", label), *BANDS).with_columns(
        pairs=pl.sum_horizontal(*BANDS)
    )
