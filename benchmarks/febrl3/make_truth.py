"""Derive FEBRL dataset3's ground truth from its record IDs.

FEBRL encodes the true entity in each rec_id: ``rec-552-org`` (the original) and
``rec-552-dup-3`` (one of its duplicates) are the same person, entity 552. The pipeline never
sees this: keys are identifiers, not evidence; the truth file exists only to score the result.

Writes ``truth/truth_customer.csv`` (``source_system, source_key, entity_id``, one row per
record, in the data file's order), the layout ``mdm evaluate --truth`` reads. Run from anywhere::

    .venv/bin/python benchmarks/febrl3/make_truth.py            # rewrite the committed file
    .venv/bin/python benchmarks/febrl3/make_truth.py --check    # exit 1 if it is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "dataset3.csv"
TRUTH = HERE / "truth" / "truth_customer.csv"
SOURCE_SYSTEM = "febrl"  # the contract's mdm.mapping source_system
REC_ID = r"^rec-(\d+)-(?:org|dup-\d+)$"


def truth(data: Path = DATA) -> pl.DataFrame:
    """One row per record of `data`: its key and the entity number inside it."""
    keys = pl.read_csv(data, infer_schema=False, columns=["rec_id"])["rec_id"].str.strip_chars()
    bad = keys.filter(~keys.str.contains(REC_ID))
    if bad.len():
        sample = bad.head(5).to_list()
        raise ValueError(f"{data}: rec_id not of the form rec-<n>-org|dup-<k>: {sample}")
    return pl.DataFrame({
        "source_system": SOURCE_SYSTEM,
        "source_key": keys,
        "entity_id": keys.str.extract(REC_ID, 1),
    })  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="FEBRL csv (default: dataset3)")
    parser.add_argument("--out", type=Path, default=TRUTH, help="truth csv to write")
    parser.add_argument("--check", action="store_true", help="compare with --out, write nothing")
    args = parser.parse_args(argv)
    frame = truth(args.data)
    if args.check:
        current = pl.read_csv(args.out, infer_schema=False) if args.out.exists() else None
        same = current is not None and current.equals(frame)
        print(f"{args.out}: {'up to date' if same else 'out of date'}")
        return 0 if same else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(args.out)
    print(f"wrote {args.out}: {frame.height:,} records, {frame['entity_id'].n_unique():,} entities")
    return 0


if __name__ == "__main__":
    sys.exit(main())
