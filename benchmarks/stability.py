"""Golden ID stability under source churn (issue #8): how many IDs change when 1% of the records
of every source change between two runs on the same warehouse.

The generated project of `--entities` (default 100,000; cached under
``benchmarks/.cache/gen-<entities>`` by ``benchmarks/scale.py``) is copied to a temporary
folder, never edited in place. Then:

1. ``mdm run`` on the copy publishes version 1; its current cross-reference is read;
2. every source CSV of the copy is perturbed: `--share` (default 1%) of each file's rows, drawn
   with a seeded numpy Generator (`--seed`, default 7), in a fixed mix:

   - half are **edited** as a source update would: customers get a new email (the same local
     part with two digits, at the same provider), a new phone (its last two digits, in the same
     format) or a new address (a move: the street, house number, postcode and city of another
     customer of the same country), one of those the record has, and a later last-modified
     stamp; accounts get a new label in their name ("Main" -> "Holiday home") or another
     status (always the status where an ERP name is cut before its label); contracts get a new
     amount (2-10% up or down), a new end date (a fixed term renewed for a year; an open-ended
     one given notice to the end of the extract's latest year) or another status;
   - a quarter are **deleted**;
   - a quarter are **copied as new records**: a new key of the file's format and one keying
     error (two letters swapped, one dropped or replaced) in a name or text field; the truth
     files give the copy its original's entity, and lose the deleted records;

3. ``mdm run`` again on the same warehouse publishes version 2, inheriting version 1's IDs.

Two metrics, per entity, over the records with a current cross-reference row in both runs:

(a) **kept clusters**: among records whose predicted cluster kept exactly its members (the
    records sharing its golden ID after run 1 are the records sharing its golden ID after
    run 2), the share whose golden ID changed. Nothing moved, so it must be 0.
(b) **truth churn**: among records whose true entity gained or lost no record (edits do not
    change membership), the share whose golden ID changed, by cause: the old ID was retired
    into another in a merge, the record moved into an ID minted by a split, or it moved
    between two IDs that both live on (other). Edited records count here: it measures what a
    user of the IDs sees, ID-assignment churn and the matching changes the perturbation causes
    (an edited email splitting a record off its cluster) alike.

Also printed: the records edited / deleted / added per file, both runs' wall times and the
version-2 ID events by kind. Markdown tables on stdout, one JSON line on stderr::

    .venv/bin/python benchmarks/stability.py [--entities 100000] [--share 0.01] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
from perturb import perturb
from scale import project
from timed import timed

ROOT = Path(__file__).resolve().parent.parent
MDM = [sys.executable, "-m", "pipelines.cli"]
ENTITIES = ("customer", "account", "contract")
EVENTS = ("created", "split", "merged", "retired")
RECORD = ["entity", "record"]  # a source record: its entity and "system:key"

# --- runs and what they published ------------------------------------------------------------


def run_pipeline(folder: Path, warehouse: Path) -> dict:
    """`mdm run` as its own process: wall seconds, peak RSS, the version it published."""
    run = timed([*MDM, "run", "--project", str(folder), "--warehouse", str(warehouse)], cwd=ROOT)
    records = re.search(r"\(([\d,]+)\); quarantined: ([\d,]+)", run.stdout)
    return {
        "version": int(re.search(r"version (\d+)\)", run.stdout).group(1)),
        "wall_s": run.wall_s,
        "peak_gb": run.peak_rss_kb / 1024**2,
        "records_in": int(records.group(1).replace(",", "")),
        "quarantined": int(records.group(2).replace(",", "")),
        # deletions leave accounts and contracts referring to records that are gone
        "by_rule": rules.group(1) if (rules := re.search(r"by rule: (.*)", run.stdout)) else "",
    }


def _query(warehouse: Path, sql: str, *params) -> pl.DataFrame:
    with duckdb.connect(str(warehouse / "mdm.duckdb"), read_only=True) as con:
        return con.sql(sql, params=list(params)).pl()


def read_xref(warehouse: Path) -> pl.DataFrame:
    """The published current cross-reference of every entity: entity, record, golden_id."""
    return _query(warehouse, "SELECT entity, source_system || ':' || source_key AS record, "
                             "golden_id FROM golden.xref WHERE valid_to IS NULL")  # fmt: skip


def read_events(warehouse: Path, version: int) -> pl.DataFrame:
    return _query(warehouse, "SELECT entity, event, golden_id, other_ids, source_keys "
                             "FROM audit.id_events WHERE version = ?", version)  # fmt: skip


def read_truth(folder: Path) -> pl.DataFrame:
    """Every entity's truth: entity, record, entity_id."""
    return pl.concat(
        pl.read_csv(folder / "truth" / f"truth_{e}.csv", infer_schema=False).select(
            entity=pl.lit(e), record=pl.concat_str("source_system", "source_key", separator=":"),
            entity_id="entity_id",
        )
        for e in ENTITIES
    )  # fmt: skip


# --- metrics ---------------------------------------------------------------------------------


def members(frame: pl.DataFrame, group: str) -> pl.DataFrame:
    """entity, `group`, members: the sorted records of each group (a set, comparable by ==)."""
    return frame.group_by("entity", group).agg(members=pl.col("record").sort())


def in_both_runs(before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """entity, record, golden_id (run 1), golden_id_2 (run 2), changed."""
    return before.join(after, on=RECORD, suffix="_2").with_columns(
        changed=pl.col("golden_id") != pl.col("golden_id_2")
    )


def kept_clusters(both: pl.DataFrame, before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """(a) Per entity, the records whose cluster kept exactly its members, and how many of
    them changed ID (must be none); with every record's churn beside it."""
    first = members(before, "golden_id").rename({"members": "members_1"})
    second = members(after, "golden_id").rename(
        {"golden_id": "golden_id_2", "members": "members_2"}
    )
    records = both.join(first, on=["entity", "golden_id"]).join(
        second, on=["entity", "golden_id_2"]
    )
    kept = pl.col("members_1") == pl.col("members_2")
    return records.group_by("entity").agg(
        records=pl.len(),
        changed_any=pl.col("changed").sum(),
        kept=kept.sum(),
        kept_changed=(kept & pl.col("changed")).sum(),
    )


def stable_entities(truth_before: pl.DataFrame, truth_after: pl.DataFrame) -> pl.DataFrame:
    """entity, entity_id of the true entities that gained or lost no record."""
    first = members(truth_before, "entity_id").rename({"members": "members_1"})
    second = members(truth_after, "entity_id").rename({"members": "members_2"})
    return (
        first.join(second, on=["entity", "entity_id"])
        .filter(pl.col("members_1") == pl.col("members_2"))
        .select("entity", "entity_id")
    )


def truth_churn(
    both: pl.DataFrame, truth_before: pl.DataFrame, truth_after: pl.DataFrame,
    events: pl.DataFrame,
) -> pl.DataFrame:  # fmt: skip
    """(b) Per entity, the records of untouched true entities, how many changed ID and why."""
    stable = stable_entities(truth_before, truth_after)
    records = both.join(truth_before, on=RECORD).join(stable, on=["entity", "entity_id"],
                                                      how="semi")  # fmt: skip
    merged_away = events.filter(
        pl.col("event") == "retired", pl.col("other_ids").list.len() > 0
    ).select("entity", "golden_id", merged=pl.lit(True))
    split_into = (
        events.filter(pl.col("event") == "split")
        .explode("source_keys")
        .select("entity", golden_id_2="golden_id", record="source_keys", split=pl.lit(True))
    )
    # a record whose old ID was retired could not keep it, so that cause comes first
    causes = (
        records.filter("changed")
        .join(merged_away, on=["entity", "golden_id"], how="left")
        .join(split_into, on=["entity", "golden_id_2", "record"], how="left")
        .select(
            "entity",
            cause=pl.when("merged").then(pl.lit("merge"))
            .when("split").then(pl.lit("split"))
            .otherwise(pl.lit("other")),
        )
    )  # fmt: skip
    counts = causes.pivot("cause", index="entity", values="cause", aggregate_function="len")
    return (
        records.group_by("entity")
        .agg(records=pl.len(), changed=pl.col("changed").sum())
        .join(counts, on="entity", how="left")
    )


def event_counts(events: pl.DataFrame) -> pl.DataFrame:
    return events.pivot("event", index="entity", values="event", aggregate_function="len")


# --- report ----------------------------------------------------------------------------------


def _markdown(head: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _by_entity(frame: pl.DataFrame) -> dict[str, dict]:
    rows = {row["entity"]: row for row in frame.iter_rows(named=True)}
    return {e: rows[e] for e in ENTITIES if e in rows}


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.4%}" if whole else "-"


def _runs_table(runs: list[dict]) -> str:
    return _markdown(
        ["run", "version", "wall s", "peak GB", "records in", "quarantined", "by rule"],
        [[i + 1, r["version"], f"{r['wall_s']:.1f}", f"{r['peak_gb']:.2f}",
          f"{r['records_in']:,}", f"{r['quarantined']:,}", r["by_rule"]]
         for i, r in enumerate(runs)],
    )  # fmt: skip


def _perturbation_table(changes: list[dict]) -> str:
    return _markdown(
        ["file", "rows", "edited", "deleted", "added", "edits by kind"],
        [[c["path"], f"{c['rows']:,}", c["edited"], c["deleted"], c["added"],
          ", ".join(f"{k} {n}" for k, n in sorted(c["kinds"].items()))] for c in changes],
    )  # fmt: skip


def _kept_table(kept: dict[str, dict]) -> str:
    return _markdown(
        ["entity", "records in both runs", "ID changed (any record)", "share",
         "records in kept clusters", "of which ID changed", "share (must be 0)"],
        [[e, f"{k['records']:,}", f"{k['changed_any']:,}", _share(k["changed_any"], k["records"]),
          f"{k['kept']:,}", k["kept_changed"], _share(k["kept_changed"], k["kept"])]
         for e, k in kept.items()],
    )  # fmt: skip


def _churn_table(churn: dict[str, dict]) -> str:
    return _markdown(
        ["entity", "records of untouched true entities", "ID changed", "share",
         "old ID merged away", "moved into a split", "other (between living IDs)"],
        [[e, f"{c['records']:,}", f"{c['changed']:,}", _share(c["changed"], c["records"]),
          c.get("merge") or 0, c.get("split") or 0, c.get("other") or 0]
         for e, c in churn.items()],
    )  # fmt: skip


def _events_table(events: dict[str, dict]) -> str:
    return _markdown(
        ["entity", *EVENTS],
        [[e, *[(events.get(e) or {}).get(k) or 0 for k in EVENTS]] for e in ENTITIES],
    )


def report(result: dict) -> str:
    return "\n\n".join([
        "### Runs", _runs_table(result["runs"]),
        f"### Perturbation ({result['share']:.2%} of each file's rows, seed {result['seed']})",
        _perturbation_table(result["perturbation"]),
        "### (a) Records whose cluster kept exactly its members", _kept_table(result["kept"]),
        "### (b) Records whose true entity gained or lost no record",
        _churn_table(result["truth_churn"]),
        "### Version-2 ID events", _events_table(result["events"]),
    ])  # fmt: skip


def measure(entities: int, share: float, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    cached = project(entities)
    work = Path(tempfile.mkdtemp(prefix="stability-"))
    try:
        folder, warehouse = work / "project", work / "warehouse"
        shutil.copytree(cached, folder)  # the cache stays as generated
        truth_before = read_truth(folder)
        first = run_pipeline(folder, warehouse)
        xref_before = read_xref(warehouse)
        changes = perturb(folder, share, rng)
        truth_after = read_truth(folder)
        second = run_pipeline(folder, warehouse)
        xref_after = read_xref(warehouse)
        events = read_events(warehouse, second["version"])
    finally:
        shutil.rmtree(work, ignore_errors=True)

    both = in_both_runs(xref_before, xref_after)
    return {
        "entities": entities, "share": share, "seed": seed, "runs": [first, second],
        "perturbation": [{"path": c.path, "rows": c.rows, "edited": c.edited,
                          "deleted": len(c.deleted), "added": len(c.added), "kinds": c.kinds}
                         for c in changes],
        "kept": _by_entity(kept_clusters(both, xref_before, xref_after)),
        "truth_churn": _by_entity(truth_churn(both, truth_before, truth_after, events)),
        "events": _by_entity(event_counts(events)),
    }  # fmt: skip


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000, help="generated project size")
    parser.add_argument("--share", type=float, default=0.01, help="of each file's rows perturbed")
    parser.add_argument("--seed", type=int, default=7, help="of the perturbation")
    args = parser.parse_args(argv)
    result = measure(args.entities, args.share, args.seed)
    print(json.dumps(result, default=str), file=sys.stderr, flush=True)
    print(report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
