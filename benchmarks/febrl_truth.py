"""Derive a FEBRL project's ground truth from its record IDs.

FEBRL encodes the true entity in each rec_id: ``rec-552-org`` (the original) and
``rec-552-dup-3`` (one of its duplicates) are the same person, entity 552. The pipeline never
sees this: keys are identifiers, not evidence; the truth file exists only to score the result.

For every source contract of the project folder (its file, key column and source system, as
the contract says), writes ``truth/truth_customer.csv`` (``source_system, source_key,
entity_id``, one row per record, sources in contract order, records in file order), the layout
``mdm evaluate`` reads. Run from anywhere::

    .venv/bin/python benchmarks/febrl_truth.py benchmarks/febrl3           # rewrite the file
    .venv/bin/python benchmarks/febrl_truth.py benchmarks/febrl4 --check   # exit 1 if stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

from pipelines.contracts import load_project

TRUTH = Path("truth") / "truth_customer.csv"
REC_ID = r"^rec-(\d+)-(?:org|dup-\d+)$"


def truth(project: Path) -> pl.DataFrame:
    """One row per record of every source of `project`: its key and the entity inside it."""
    frames = []
    for contract in load_project(project).sources:
        keys = pl.read_csv(contract.server.path, infer_schema=False, columns=[contract.key])
        keys = keys[contract.key].str.strip_chars()
        bad = keys.filter(~keys.str.contains(REC_ID))
        if bad.len():
            sample = bad.head(5).to_list()
            raise ValueError(f"{contract.server.path}: rec_id not rec-<n>-org|dup-<k>: {sample}")
        frames.append(pl.DataFrame({
            "source_system": contract.source_system,
            "source_key": keys,
            "entity_id": keys.str.extract(REC_ID, 1),
        }))  # fmt: skip
    return pl.concat(frames)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path, help="a FEBRL project folder")
    parser.add_argument("--check", action="store_true", help="compare with the file, write nothing")
    args = parser.parse_args(argv)
    frame, out = truth(args.project), args.project / TRUTH
    if args.check:
        current = pl.read_csv(out, infer_schema=False) if out.exists() else None
        same = current is not None and current.equals(frame)
        print(f"{out}: {'up to date' if same else 'out of date'}")
        return 0 if same else 1
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(out)
    print(f"wrote {out}: {frame.height:,} records, {frame['entity_id'].n_unique():,} entities")
    return 0


if __name__ == "__main__":
    sys.exit(main())
