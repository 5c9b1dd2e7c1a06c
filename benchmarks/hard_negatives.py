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

from matching.evaluate import hard_negatives

SAMPLE_TRUTH = Path(__file__).resolve().parent.parent / "data" / "samples" / "truth"


def hard_negative_pairs(warehouse: Path, truth_dir: Path) -> pl.DataFrame:
    """Per kind and evidence: record pairs, how many merged, and the share."""
    tags = pl.read_csv(truth_dir / "truth_tags.csv", infer_schema=False)
    truth = pl.read_csv(truth_dir / "truth_customer.csv", infer_schema=False)
    with duckdb.connect(str(warehouse / "mdm.duckdb"), read_only=True) as con:
        xref = con.sql("SELECT source_system, source_key, golden_id FROM golden.xref "
                       "WHERE entity = 'customer' AND valid_to IS NULL").pl()  # fmt: skip
    return hard_negatives(xref, truth, tags).with_columns(pl.col("share").round(3))


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
