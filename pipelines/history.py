"""An entity's golden IDs against the published version: what that version said (its
cross-reference with history, golden table and ID registry, read from its Parquet exports) and
what this run changes (`matching.identity`), as the golden asset writes it for the version
asset to publish."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg
import numpy as np
import polars as pl

from matching import golden as golden_lib
from matching import identity

from .versions import Version
from .warehouse import WarehouseResource

_STAMP = pl.Datetime("us", "UTC")
XREF = {"source_system": pl.String, "source_key": pl.String, "golden_id": pl.String,
        "match_probability": pl.Float64, "valid_from": _STAMP, "valid_to": _STAMP}  # fmt: skip
IDS = identity.REGISTRY


@dataclass(frozen=True)
class Prior:
    """One entity in the published version (empty frames before the first publish)."""

    version: int | None
    xref: pl.DataFrame  # XREF: every row, history included
    golden: pl.DataFrame  # the golden table
    ids: pl.DataFrame  # IDS: every ID ever minted for the entity

    @property
    def current(self) -> pl.DataFrame:
        return self.xref.filter(pl.col("valid_to").is_null())


def prior(base: Version | None, entity: str) -> Prior:
    if base is None:
        return Prior(None, pl.DataFrame(schema=XREF), pl.DataFrame(), pl.DataFrame(schema=IDS))
    export = base.export / "golden"

    def rows(name: str, schema: dict) -> pl.DataFrame:
        path = export / f"{name}.parquet"
        if not path.exists():  # a version from before the table existed
            return pl.DataFrame(schema=schema)
        found = pl.scan_parquet(path).filter(pl.col("entity") == entity)
        return found.select(list(schema)).collect().cast(schema)

    golden = export / f"golden_{entity}.parquet"
    return Prior(
        base.number,
        rows("golden_xref", XREF),
        pl.read_parquet(golden) if golden.exists() else pl.DataFrame(),
        rows("golden_ids", IDS),
    )


def run_started(context: dg.AssetExecutionContext) -> datetime:
    """The start of the run: every row a version stamps carries this one time, whichever
    entity and step wrote it."""
    record = context.instance.get_run_record_by_id(context.run.run_id)
    started = record.start_time if record is not None else None
    return datetime.fromtimestamp(started, UTC) if started else datetime.now(UTC)


@dataclass(frozen=True)
class Stable:
    identity: identity.Identity
    at: datetime
    version: int  # the number of the version this run builds


def assign(
    prefix: str,
    keys: pl.DataFrame,
    labels: np.ndarray,
    before: Prior,
    at: datetime,
    version: int,
) -> Stable:
    """Each cluster's golden ID against `before` (new ones minted with `prefix`), for the
    version numbered `version` whose run started `at`."""
    rng = np.random.default_rng()
    taken = before.ids["golden_id"]
    found = identity.assign(keys, labels, before.current, before.ids,
                            lambda k: golden_lib.mint_ids(k, prefix, rng, taken=taken))  # fmt: skip
    return Stable(found, at, version)


def write(
    warehouse: WarehouseResource,
    entity: str,
    stable: Stable,
    before: Prior,
    xref: pl.DataFrame,
    run_id: str,
) -> tuple[pl.DataFrame, dict]:
    """Write the entity's cross-reference (current rows, closed rows), ID registry, ID events
    and the run's stamps; returns the current rows and metadata for the golden asset."""
    tagged = pl.lit(entity).alias("entity")
    rows, closed = identity.xref_history(before.xref, xref, stable.at)
    registry = identity.registry(before.ids, stable.identity, stable.at, stable.version)
    events = stable.identity.events.select(
        pl.lit(run_id).alias("run_id"), pl.lit(stable.version, pl.Int64).alias("version"),
        pl.lit(stable.at, _STAMP).alias("occurred_at"), tagged, pl.all(),
    )  # fmt: skip
    for name, frame in {"xref": rows, "xref_closed": closed}.items():
        warehouse.write(frame.select(tagged, pl.all()), "golden", f"{name}_{entity}")
    warehouse.write(registry.select(tagged, pl.all()), "golden", f"ids_{entity}")
    warehouse.write(events, "golden", f"id_events_{entity}")
    stamp = {"base": before.version, "version": stable.version, "at": stable.at.isoformat()}
    warehouse.intermediate("golden", f"stamp_{entity}").with_suffix(".json").write_text(
        json.dumps(stamp)
    )
    counts = events["event"].value_counts()
    by_kind = {k: 0 for k in ("created", "merged", "split", "retired")}
    by_kind |= dict(counts.iter_rows())
    return rows, {
        "base_version": before.version if before.version is not None else 0,
        "building_version": stable.version,
        "xref_rows_closed": closed.height
        - before.xref.filter(pl.col("valid_to").is_not_null()).height,  # fmt: skip
        **{f"id_events_{k}": v for k, v in by_kind.items()},
    }
