"""Explanations a steward can read: which comparisons decided a pair, and by how much.

A scored pair carries, per comparison, its agreement level (`level_<comparison>`) and the bits
that level adds to the match weight (`weight_<comparison>`, `matching.score.contributions`).
`reasons` turns them into text, strongest first: "name_family exact +9.6; birth_date far -8.1".
"""

from __future__ import annotations

import polars as pl

from .compare import COMPARISONS, CONTEXTS

LEVEL_NAMES = pl.DataFrame(
    [
        (kind, c.name, i, name)
        for kind, comparisons in COMPARISONS.items()
        for c in comparisons
        for i, name in enumerate(c.levels)
    ]
    # a context (`compare.Context`) is one level: the pair is in it; its bits replace those of
    # the comparisons it fixes ("household shared +14.4" instead of the family name and address)
    + [(kind, context.name, 0, "shared") for kind, cs in CONTEXTS.items() for context in cs],
    schema={"party": pl.String, "comparison": pl.String, "level": pl.Int8, "level_name": pl.String},
    orient="row",
)


def evidence(pairs: pl.DataFrame) -> pl.DataFrame:
    """One row per pair (`_pair`, its row number) and comparison with evidence: comparison,
    level, level_name, bits."""
    weights = [c for c in pairs.columns if c.startswith("weight_")]
    names = [c.removeprefix("weight_") for c in weights]
    indexed = pairs.select("party", *weights, *[f"level_{n}" for n in names]).with_row_index(
        "_pair"
    )
    bits = indexed.unpivot(index=["_pair", "party"], on=weights, variable_name="comparison",
                           value_name="bits")  # fmt: skip
    levels = indexed.unpivot(index="_pair", on=[f"level_{n}" for n in names],
                             variable_name="comparison", value_name="level")  # fmt: skip
    long = bits.with_columns(pl.col("comparison").str.strip_prefix("weight_")).join(
        levels.with_columns(pl.col("comparison").str.strip_prefix("level_")),
        on=["_pair", "comparison"],
    )
    long = long.filter(pl.col("level").is_not_null() & (pl.col("level") >= 0))
    return long.with_columns(pl.col("level").cast(pl.Int8)).join(
        LEVEL_NAMES, on=["party", "comparison", "level"], how="left"
    )


def reasons(pairs: pl.DataFrame, top: int = 4) -> pl.Series:
    """Per pair, its `top` strongest pieces of evidence either way, as text."""
    long = evidence(pairs).sort(["_pair", pl.col("bits").abs()], descending=[False, True])
    text = (
        long.group_by("_pair", maintain_order=True)
        .head(top)
        .group_by("_pair", maintain_order=True)
        .agg(
            pl.format(
                "{} {} {}",
                "comparison",
                "level_name",
                pl.when(pl.col("bits") >= 0).then(pl.lit("+")).otherwise(pl.lit(""))
                + pl.col("bits").round(1).cast(pl.String),
            ).str.join("; ")
        )
    )
    out = pl.DataFrame({"_pair": range(pairs.height)}, schema={"_pair": pl.UInt32})
    return out.join(text, on="_pair", how="left")["comparison"].rename("reasons")
