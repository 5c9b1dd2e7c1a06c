"""How often the pipeline merges the generator's planted hard negatives (issue #6).

For every pair of entities the generator planted as a hard negative (twins, father and son,
namesakes, look-alike companies; `truth_tags.csv`, kind `hard_negative`), every pair of their
source records is one row: merged when the published `golden.xref` gives both the same golden
ID. "evidence" says whether both records carry the value that tells the two apart (different
birth dates, a generation suffix, different given names, different tax IDs), as the truth
records it per record. Usage::

    .venv/bin/python benchmarks/hard_negatives.py WAREHOUSE [TRUTH_DIR]   # default: the sample
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import polars as pl

SAMPLE_TRUTH = Path(__file__).resolve().parent.parent / "data" / "samples" / "truth"


def hard_negative_pairs(warehouse: Path, truth_dir: Path) -> pl.DataFrame:
    """Per kind and evidence: record pairs, how many merged, and the share."""
    tags = pl.read_csv(truth_dir / "truth_tags.csv", infer_schema=False)
    truth = pl.read_csv(truth_dir / "truth_customer.csv", infer_schema=False)
    records = (
        tags.filter(pl.col("kind") == "hard_negative")
        .with_columns(
            kind=pl.col("tags").str.extract(r"^([a-z_]+)"),
            partner=pl.col("tags").str.extract(r"partner=(\d+)"),
            evidence=pl.col("tags").str.extract(r"evidence=([a-z_+]+)").str.split("+"),
        )
        .join(truth, on=["source_system", "source_key"])
    )
    with duckdb.connect(str(warehouse / "mdm.duckdb"), read_only=True) as con:
        xref = con.sql("SELECT source_system, source_key, golden_id FROM golden.xref "
                       "WHERE entity = 'customer' AND valid_to IS NULL").pl()  # fmt: skip
    records = records.join(xref, on=["source_system", "source_key"])
    pairs = records.join(
        records, left_on=["partner", "kind"], right_on=["entity_id", "kind"], suffix="_b"
    ).filter(pl.col("entity_id") < pl.col("partner"))
    shared = pl.col("evidence").list.set_intersection(pl.col("evidence_b"))
    pairs = pairs.with_columns(
        merged=pl.col("golden_id") == pl.col("golden_id_b"),
        evidence=shared.list.set_difference(["none"]).list.len() > 0,
    )
    return (
        pairs.group_by("kind", "evidence")
        .agg(pairs=pl.len(), merged=pl.col("merged").sum(), share=pl.col("merged").mean().round(3))
        .sort("kind", "evidence")
    )


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    truth_dir = Path(argv[1]) if len(argv) > 1 else SAMPLE_TRUTH
    with pl.Config(tbl_rows=20):
        print(hard_negative_pairs(Path(argv[0]), truth_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
