"""Record pairs as the pipeline publishes and reads them: scored pairs named by source keys,
the review queue, and a steward's labelled pairs."""

from __future__ import annotations

import polars as pl

from matching import explain
from matching.evaluate import with_sides

from .contracts import Project


def labelled_pairs(project: Project, path: str | None, records: pl.DataFrame):
    """A steward's labelled pairs as record rows (`left`, `right`, `match`), and how many
    labelled pairs name a record this run does not hold (reported, not used)."""
    if path is None:
        return None, 0
    file = project.folder / path
    if not file.exists():
        raise FileNotFoundError(f"matching.yaml labels: {file} does not exist")
    labels = pl.read_csv(file, infer_schema=False)
    expected = ["left_system", "left_key", "right_system", "right_key", "match"]
    if labels.columns != expected:
        raise ValueError(f"{file}: columns must be {', '.join(expected)}")
    rows = records.select("source_system", "source_key").with_row_index("row")
    labels = with_sides(labels, rows, "row", "row").rename({"left_row": "left",
                                                             "right_row": "right"})  # fmt: skip
    match = pl.col("match").str.to_lowercase().is_in(["true", "1", "yes", "match"])
    known = labels.filter(pl.col("left").is_not_null() & pl.col("right").is_not_null())
    found = known.select(pl.col("left").cast(pl.Int64), pl.col("right").cast(pl.Int64),
                         match=match)  # fmt: skip
    return found, labels.height - known.height


def review_queue(entity: str, pairs: pl.DataFrame, xref: pl.DataFrame, settings) -> pl.DataFrame:
    """The pairs between the review threshold and the match threshold, for a steward: both
    records, their golden IDs now, the probability and the reasons for and against."""
    low, high = settings.review_threshold, settings.threshold
    band = pairs.filter(pl.col("probability").is_between(low, high, closed="left"))
    band = with_sides(band, xref, "golden_id", "golden_id")
    return band.select(
        pl.lit(entity).alias("entity"), "left_system", "left_key", "left_golden_id",
        "right_system", "right_key", "right_golden_id", "probability", "weight",
        reasons=explain.reasons(band), status=pl.lit("pending"),
    ).sort("probability", descending=True)  # fmt: skip


def named_pairs(records: pl.DataFrame, scored: pl.LazyFrame) -> pl.LazyFrame:
    """Scored pairs named by their records' source keys instead of row numbers; a query, so
    that millions of pairs are streamed to a file (`sink_parquet`), not held in memory. A
    pair's sides are row positions: the names are gathered, not joined."""
    system, key = records["source_system"], records["source_key"]
    names = {f"{side}_{part}": pl.lit(values).gather(pl.col(side))
             for side in ("left", "right") for part, values in (("system", system),
                                                                ("key", key))}  # fmt: skip
    return (
        scored.with_columns(**names)
        .drop("left", "right")
        .with_columns(pl.col("rules", "party").cast(pl.String))
    )
