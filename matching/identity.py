"""Stable golden IDs: a run's clusters inherit the IDs of the previous version's clusters.

Matchers number their clusters afresh on every run; a golden ID is worth storing only if it
survives re-runs, source updates and model changes. The rules, applied as joins and group-bys
over the records (never a loop over clusters):

- Each previous ID goes to the new cluster holding most of its records (its larger part; a tie
  goes to the part holding the smallest record key, so the choice is reproducible).
- A new cluster that is the larger part of one previous ID keeps that ID. One that absorbs
  several (a merge) keeps the oldest of them (of IDs as old, the one bringing most records);
  the others are retired into it.
- A new cluster that is nobody's larger part gets a new ID: a *split* when some of its records
  had an ID before, a *creation* when none had.
- A previous ID none of whose records is left in any source is retired with no successor.

Every change is an event: created | merged | split | retired. A record moving between two IDs
that both live on is no ID event; the cross-reference's history (`xref_history`) keeps it.
A re-run on unchanged input maps every cluster to its own previous ID: no event, no change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl

KEYS = ["source_system", "source_key"]
EVENTS = {"event": pl.String, "golden_id": pl.String, "other_ids": pl.List(pl.String),
          "source_keys": pl.List(pl.String)}  # fmt: skip
_EVENT_ORDER = ("created", "split", "merged", "retired")
_STAMP = pl.Datetime("us", "UTC")
# golden.ids: every ID ever minted for an entity
REGISTRY = {"golden_id": pl.String, "status": pl.String, "created_at": _STAMP,
            "created_version": pl.Int64, "retired_at": _STAMP, "retired_version": pl.Int64,
            "retired_into": pl.String}  # fmt: skip


@dataclass(frozen=True)
class Identity:
    golden_ids: pl.Series  # cluster label -> its golden ID
    created: pl.Series  # the IDs minted in this run (creations and splits)
    retired: pl.DataFrame  # golden_id, retired_into (null: its records left every source)
    events: pl.DataFrame  # EVENTS: one row per ID event


def _record() -> pl.Expr:
    """A record's key as one string, "system:key", as events list the keys they moved."""
    return pl.concat_str(KEYS, separator=":").alias("record")


def assign(
    keys: pl.DataFrame,
    labels: np.ndarray,
    previous: pl.DataFrame,
    ages: pl.DataFrame,
    mint: Callable[[int], Sequence[str]],
) -> Identity:
    """The golden ID of each cluster of `labels` (cluster label per row of `keys`).

    `keys`: source_system, source_key per record. `previous`: the previous version's current
    cross-reference (source_system, source_key, golden_id); empty on a first run. `ages`:
    golden_id, created_version — the smaller, the older (an ID missing from it counts as the
    oldest). `mint(k)` returns k new, unused IDs.
    """
    n_clusters = int(labels.max()) + 1 if len(labels) else 0
    records = keys.select(KEYS).with_columns(cluster=pl.Series(labels, dtype=pl.Int64))
    before = records.join(previous.select(*KEYS, old="golden_id"), on=KEYS, how="inner")
    before = before.with_columns(_record())
    parts = before.group_by("old", "cluster").agg(n=pl.len(), first=pl.col("record").min())
    # each previous ID's larger part; a tie goes to the part with the smallest record key
    destination = (
        parts.sort(["old", "n", "first"], descending=[False, True, False])
        .unique(subset="old", keep="first")
        .join(ages.select(old="golden_id", age="created_version"), on="old", how="left")
        .with_columns(pl.col("age").fill_null(0))
    )  # fmt: skip
    # a cluster that is the larger part of several IDs keeps the oldest; of IDs as old (all
    # those of a first version), the one bringing most records (fewest records change ID),
    # then the one holding the smallest record key: never the ID's own random letters
    heirs = destination.sort(
        ["cluster", "age", "n", "first"], descending=[False, False, True, False]
    ).unique(subset="cluster", keep="first")
    ids = np.full(n_clusters, None, dtype=object)
    ids[heirs["cluster"].to_numpy()] = heirs["old"].to_numpy()
    orphans = np.flatnonzero(np.equal(ids, None))  # clusters no previous ID goes to
    created = pl.Series("golden_id", mint(len(orphans)), dtype=pl.String)
    ids[orphans] = created.to_numpy()
    golden_ids = pl.Series("golden_id", ids, dtype=pl.String)

    heir_of = heirs.select("cluster", heir="old")
    merged = destination.join(heir_of, on="cluster").filter(pl.col("old") != pl.col("heir"))
    gone = previous.select("golden_id").unique().join(
        parts.select(golden_id="old").unique(), on="golden_id", how="anti"
    )  # fmt: skip
    retired = pl.concat([
        merged.select(golden_id="old", retired_into="heir"),
        gone.with_columns(retired_into=pl.lit(None, pl.String)),
    ]).sort("golden_id")  # fmt: skip

    new = pl.DataFrame({"cluster": orphans.astype(np.int64), "golden_id": created})
    events = _events(previous, before, new, merged, retired)
    return Identity(golden_ids, created, retired, events)


def _events(previous, before, new, merged, retired) -> pl.DataFrame:
    """created / split rows for the minted IDs, merged rows per heir, retired rows per ID."""
    moved_in = before.join(new, on="cluster").group_by("golden_id").agg(
        other_ids=pl.col("old").unique().sort(), source_keys=pl.col("record").sort()
    )  # fmt: skip
    minted = new.join(moved_in, on="golden_id", how="left").select(
        event=pl.when(pl.col("other_ids").is_null()).then(pl.lit("created"))
        .otherwise(pl.lit("split")),
        golden_id="golden_id",
        other_ids=pl.col("other_ids").fill_null(pl.lit([], pl.List(pl.String))),
        source_keys=pl.col("source_keys").fill_null(pl.lit([], pl.List(pl.String))),
    )  # fmt: skip
    absorbed = before.join(merged.select("old", "heir"), on="old").group_by("heir").agg(
        other_ids=pl.col("old").unique().sort(), source_keys=pl.col("record").sort()
    )  # fmt: skip
    merges = absorbed.select(event=pl.lit("merged"), golden_id="heir", other_ids="other_ids",
                             source_keys="source_keys")  # fmt: skip
    leaving = previous.join(retired.select("golden_id"), on="golden_id", how="semi")
    held = leaving.with_columns(_record()).group_by("golden_id").agg(
        source_keys=pl.col("record").sort()
    )  # fmt: skip
    retirements = retired.join(held, on="golden_id", how="left").select(
        event=pl.lit("retired"),
        golden_id="golden_id",
        other_ids=pl.when(pl.col("retired_into").is_null())
        .then(pl.lit([], pl.List(pl.String)))
        .otherwise(pl.concat_list("retired_into")),
        source_keys="source_keys",
    )  # fmt: skip
    events = pl.concat([minted, merges, retirements]).cast(EVENTS)
    # by kind, then ID: a sort by ID per kind (sorting by kind and ID at once took three times
    # as long: a first run at 1M entities has 2.9M events)
    return pl.concat([events.filter(pl.col("event") == kind).sort("golden_id")
                      for kind in _EVENT_ORDER])  # fmt: skip


def xref_history(
    previous: pl.DataFrame, current: pl.DataFrame, at: datetime
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(current rows, closed rows) of the cross-reference after a run at `at`.

    `previous`: the previous version's rows (source_system, source_key, golden_id,
    match_probability, valid_from, valid_to), history included. `current`: this run's
    source_system, source_key, golden_id, match_probability. A record that keeps its ID keeps
    its row and `valid_from`; one whose ID changed, or that left its source, has its row closed
    (`valid_to` = `at`) and, when still present, a new row from `at`.
    """
    stamp = pl.lit(at, _STAMP)
    earlier = previous.filter(pl.col("valid_to").is_null()).select(
        *KEYS, old="golden_id", old_p="match_probability", since="valid_from"
    )
    # one join: a record of this run, of the previous version, or of both
    joined = current.join(earlier, on=KEYS, how="full", coalesce=True)
    here, there = pl.col("golden_id").is_not_null(), pl.col("old").is_not_null()
    kept = pl.col("old") == pl.col("golden_id")
    rows = joined.filter(here).select(
        *current.columns,
        valid_from=pl.when(kept).then(pl.col("since")).otherwise(stamp).cast(_STAMP),
        valid_to=pl.lit(None, _STAMP),
    )  # fmt: skip
    ended = joined.filter(there & ~kept.fill_null(False)).select(
        *KEYS, golden_id="old", match_probability="old_p", valid_from="since", valid_to=stamp
    )  # fmt: skip
    closed = pl.concat([
        previous.filter(pl.col("valid_to").is_not_null()).select(rows.columns),
        ended,
    ]).cast(rows.schema)  # fmt: skip
    return rows, closed


def carry_versions(
    golden: pl.DataFrame,
    previous: pl.DataFrame,
    at: datetime,
    version: int,
    volatile: tuple[str, ...] = ("confidence",),
) -> pl.DataFrame:
    """`golden` with `valid_from` and `version`: a record whose every column equals its
    previous version's keeps that version's stamps; a changed or new one gets (`at`,
    `version`). Consumers read what changed since version V as `WHERE version > V`.

    `volatile` columns are refreshed without making a change: a cluster's confidence is the
    model's, re-estimated every run from all the records, and moves in its last digits when
    any record anywhere changes."""
    stamps = {"valid_from": pl.lit(at, _STAMP), "version": pl.lit(version, pl.Int64)}
    compared = [c for c in golden.columns if c != "golden_id" and c not in volatile]
    if previous.is_empty() or not set(compared) <= set(previous.columns):
        # a first version, or a record layout that changed (a column added): all new
        return golden.with_columns(**stamps)
    earlier = previous.select(
        "golden_id", *[pl.col(c).alias(f"{c}__before") for c in compared],
        _from="valid_from", _version="version",
    )  # fmt: skip
    joined = golden.join(earlier, on="golden_id", how="left", maintain_order="left")
    same = pl.all_horizontal(
        pl.col("_version").is_not_null(),
        *[pl.col(c).eq_missing(pl.col(f"{c}__before").cast(golden.schema[c])) for c in compared],
    )
    return joined.select(
        *golden.columns,
        valid_from=pl.when(same).then(pl.col("_from").cast(_STAMP)).otherwise(stamps["valid_from"]),
        version=pl.when(same).then(pl.col("_version").cast(pl.Int64))
        .otherwise(stamps["version"]),
    )  # fmt: skip


def registry(
    previous: pl.DataFrame, identity: Identity, at: datetime, version: int
) -> pl.DataFrame:
    """Every golden ID ever minted (golden_id, status active | retired, created_at,
    created_version, retired_at, retired_version, retired_into), `previous` updated by this
    run's `identity`: `mdm resolve` follows `retired_into` to the ID that holds the records now."""
    stamp = pl.lit(at, _STAMP)
    schema = REGISTRY
    created = identity.created.to_frame().select(
        "golden_id", status=pl.lit("active"), created_at=stamp,
        created_version=pl.lit(version, pl.Int64), retired_at=pl.lit(None, _STAMP),
        retired_version=pl.lit(None, pl.Int64), retired_into=pl.lit(None, pl.String),
    )  # fmt: skip
    retiring = identity.retired.select("golden_id", into="retired_into", now=pl.lit(True))
    updated = (
        previous.select(list(schema)).cast(schema)
        .join(retiring, on="golden_id", how="left")
        .with_columns(
            status=pl.when("now").then(pl.lit("retired")).otherwise("status"),
            retired_at=pl.when("now").then(stamp).otherwise("retired_at"),
            retired_version=pl.when("now").then(pl.lit(version, pl.Int64))
            .otherwise("retired_version"),
            retired_into=pl.when("now").then("into").otherwise("retired_into"),
        )
        .select(list(schema))
    )  # fmt: skip
    return pl.concat([updated, created.cast(schema)])
