"""Do a steward's labels help? (issue #6): F1 on the entities no label touched, without and
with labels drawn from the review queue.

Runs the pipeline on a generator project folder (one that has no matching.yaml of its own),
draws `--pairs` customer pairs at random from the published `match.review_queue`, labels them
from the generator's truth, writes them to ``<project>/labels/customer_pairs.csv`` and a
``<project>/matching.yaml`` naming them, runs again, and scores both runs on the customers of
every entity none of whose records is in a labelled pair. Usage::

    .venv/bin/python benchmarks/labels.py /tmp/p100 [--pairs 500] [--seed 1]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import polars as pl

from matching.evaluate import evaluate, with_sides

ROOT = Path(__file__).resolve().parent.parent
LABELS = Path("labels") / "customer_pairs.csv"


def _run(project: Path) -> Path:
    warehouse = Path(tempfile.mkdtemp(prefix="labels_"))
    command = [sys.executable, "-m", "pipelines.cli", "run", "--project", str(project),
               "--warehouse", str(warehouse)]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    return warehouse


def _customers(warehouse: Path, query: str) -> pl.DataFrame:
    with duckdb.connect(str(warehouse / "mdm.duckdb"), read_only=True) as con:
        return con.sql(query).pl()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path, help="a folder `mdm generate` wrote")
    parser.add_argument("--pairs", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    settings = args.project / "matching.yaml"
    if settings.exists():
        print(f"{settings} exists: this benchmark writes its own", file=sys.stderr)
        return 2
    truth = pl.read_csv(args.project / "truth" / "truth_customer.csv", infer_schema=False)
    before = _run(args.project)
    queue = _customers(before, "SELECT * FROM match.review_queue WHERE entity = 'customer'")
    drawn = with_sides(queue, truth, "entity_id", "entity").sample(args.pairs, seed=args.seed)
    labels = drawn.select("left_system", "left_key", "right_system", "right_key",
                          match=pl.col("left_entity") == pl.col("right_entity"))  # fmt: skip
    (args.project / LABELS).parent.mkdir(exist_ok=True)
    labels.write_csv(args.project / LABELS)
    settings.write_text(f"customer:\n  labels: {LABELS.as_posix()}\n")
    try:
        after = _run(args.project)
    finally:
        settings.unlink()
    touched = pl.concat([
        labels.select(source_system="left_system", source_key="left_key"),
        labels.select(source_system="right_system", source_key="right_key"),
    ])  # fmt: skip
    entities = truth.join(touched, on=["source_system", "source_key"])["entity_id"].unique()
    rest = truth.filter(~pl.col("entity_id").is_in(entities.implode()))
    matches = int(labels["match"].sum())
    print(f"{labels.height} labelled pairs ({matches} matches) from a review queue of "
          f"{queue.height}; scored on {rest.height:,} records no label touched")  # fmt: skip
    print("| run | precision | recall | F1 | overall F1 |")
    print("|---|---|---|---|---|")
    for name, warehouse in (("without labels", before), ("with labels", after)):
        xref = _customers(warehouse, "SELECT source_system, source_key, golden_id FROM "
                          "golden.xref WHERE entity = 'customer' AND valid_to IS NULL")  # fmt: skip
        overall = evaluate(xref, truth)
        part = evaluate(xref.join(rest.select("source_system", "source_key"),
                                  on=["source_system", "source_key"]), rest)  # fmt: skip
        print(f"| {name} | {part.pairwise_precision:.4f} | {part.pairwise_recall:.4f} | "
              f"{part.pairwise_f1:.4f} | {overall.pairwise_f1:.4f} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
