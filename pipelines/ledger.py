"""The run ledger, `<warehouse>/ledger.duckdb`: every run, failed ones included, with its check
results and quarantined records. Written by the process that ran the job, after the run, so it
records runs that published nothing; each published version carries a copy up to itself."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

LEDGER = "ledger.duckdb"

RUNS_SCHEMA = {
    "run_id": pl.String, "started_at": pl.Datetime("us", "UTC"),
    "finished_at": pl.Datetime("us", "UTC"), "status": pl.String, "project": pl.String,
    "message": pl.String, "records_in": pl.Int64, "quarantined": pl.Int64,
    "golden_records": pl.Int64, "version": pl.Int64,
}  # fmt: skip
CHECKS_SCHEMA = {
    "run_id": pl.String, "asset": pl.String, "check_name": pl.String, "passed": pl.Boolean,
    "severity": pl.String, "blocking": pl.Boolean, "metadata": pl.String,
}  # fmt: skip
QUARANTINE_SCHEMA = {
    "run_id": pl.String, "source": pl.String, "file": pl.String, "source_system": pl.String,
    "source_key": pl.String, "line": pl.Int64, "row_number": pl.Int64, "rule": pl.String,
    "detail": pl.String, "excerpt": pl.String,
}  # fmt: skip
# every switch of the published version: a run's publish, or `mdm rollback`
PUBLICATIONS_SCHEMA = {
    "switched_at": pl.Datetime("us", "UTC"), "action": pl.String, "version": pl.Int64,
    "previous_version": pl.Int64, "run_id": pl.String,
}  # fmt: skip
TABLES = {"audit.runs": RUNS_SCHEMA, "audit.check_results": CHECKS_SCHEMA,
          "audit.quarantine": QUARANTINE_SCHEMA,
          "audit.publications": PUBLICATIONS_SCHEMA}  # fmt: skip


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    started_at: datetime
    finished_at: datetime
    status: str  # published | failed | blocked
    project: str
    message: str
    records_in: int | None = None
    quarantined: int | None = None
    golden_records: int | None = None
    version: int | None = None  # the version it published


def _type(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Datetime):
        return "TIMESTAMPTZ"
    return {pl.String: "VARCHAR", pl.Int64: "BIGINT", pl.Boolean: "BOOLEAN"}[dtype]


def _ddl(name: str, schema: dict[str, pl.DataType]) -> str:
    cols = ", ".join(f'"{c}" {_type(t)}' for c, t in schema.items())
    schema_name, table = name.split(".")
    return f'CREATE TABLE IF NOT EXISTS "{schema_name}"."{table}" ({cols})'


def append(
    warehouse: Path,
    run: RunRecord,
    checks: Iterable[dict],
    quarantine: pl.DataFrame | None,
    publication: dict | None = None,
) -> None:
    """Add one run, its check results, its quarantined records and, when it switched the
    published version, that `publication` (PUBLICATIONS_SCHEMA) to the ledger."""
    frames = {
        "audit.runs": pl.DataFrame([run.__dict__], schema=RUNS_SCHEMA),
        "audit.check_results": pl.DataFrame(
            [
                {
                    **c,
                    "run_id": run.run_id,
                    "metadata": json.dumps(c.get("metadata", {}), default=str),
                }
                for c in checks
            ],
            schema=CHECKS_SCHEMA,
        ),  # fmt: skip
        "audit.quarantine": (
            quarantine.with_columns(run_id=pl.lit(run.run_id))
            .select(list(QUARANTINE_SCHEMA))
            .cast(QUARANTINE_SCHEMA)  # fmt: skip
            if quarantine is not None and quarantine.height
            else pl.DataFrame(schema=QUARANTINE_SCHEMA)
        ),
        "audit.publications": pl.DataFrame(
            [publication] if publication else [], schema=PUBLICATIONS_SCHEMA
        ),
    }
    _insert(warehouse, frames)


def record_publication(warehouse: Path, publication: dict) -> None:
    """Add one switch of the published version made outside a run (`mdm rollback`)."""
    frame = pl.DataFrame([publication], schema=PUBLICATIONS_SCHEMA)
    _insert(warehouse, {"audit.publications": frame})


def _insert(warehouse: Path, frames: dict[str, pl.DataFrame]) -> None:
    Path(warehouse).mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(Path(warehouse) / LEDGER)) as con:
        con.execute('CREATE SCHEMA IF NOT EXISTS "audit"')
        for name, schema in TABLES.items():
            con.execute(_ddl(name, schema))
            schema_name, table = name.split(".")
            # a ledger written by an older release lacks the newer columns
            for column, dtype in schema.items():
                con.execute(f'ALTER TABLE "{schema_name}"."{table}" ADD COLUMN IF NOT EXISTS '
                            f'"{column}" {_type(dtype)}')  # fmt: skip
            frame = frames.get(name)
            if frame is not None and frame.height:
                con.register("_frame", frame.to_arrow())
                con.execute(f'INSERT INTO "{schema_name}"."{table}" BY NAME SELECT * FROM _frame')
                con.unregister("_frame")


def read(warehouse: Path, table: str) -> pl.DataFrame:
    """A ledger table (empty with its schema when the ledger does not exist yet)."""
    path = Path(warehouse) / LEDGER
    if not path.exists():
        return pl.DataFrame(schema=TABLES[table])
    schema_name, name = table.split(".")
    with duckdb.connect(str(path), read_only=True) as con:
        found = con.sql("SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND "
                        "table_name = ?", params=[schema_name, name]).fetchall()[0][0]  # fmt: skip
        if not found:
            return pl.DataFrame(schema=TABLES[table])
        frame = con.sql(f'SELECT * FROM "{schema_name}"."{name}"').pl()
    # a ledger written by an older release lacks the newer columns until its next append
    missing = {c: pl.lit(None, t) for c, t in TABLES[table].items() if c not in frame.columns}
    return frame.with_columns(**missing).select(list(TABLES[table])).cast(TABLES[table])
