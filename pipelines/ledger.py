"""The run ledger, `<warehouse>/ledger.duckdb`: every run, failed ones included, with its check
results and quarantined records. Written by the process that ran the job, after the run, so it
records runs that published nothing; each published version carries a copy up to itself.

DuckDB lets no process write a file another one has open, even read-only: a session left open
on the ledger must not lose a run's record. Rows that cannot be written then wait as Parquet
in `<warehouse>/ledger.pending/` and are written first by the next append; `read` includes
them meanwhile."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

LEDGER = "ledger.duckdb"
PENDING = "ledger.pending"

RUNS_SCHEMA = {
    "run_id": pl.String, "started_at": pl.Datetime("us", "UTC"),
    "finished_at": pl.Datetime("us", "UTC"), "status": pl.String, "project": pl.String,
    "message": pl.String, "records_in": pl.Int64, "quarantined": pl.Int64,
    "golden_records": pl.Int64, "version": pl.Int64,
    # what the run was: its code and contracts (JSON: contract id -> version)
    "code_version": pl.String, "contract_versions": pl.String,
    # what it used: seconds and CPU seconds in all and per step (JSON: step -> {wall, cpu}),
    # the process's peak memory
    "wall_seconds": pl.Float64, "cpu_seconds": pl.Float64, "stages": pl.String,
    "peak_rss_gb": pl.Float64,
    # what it did (JSON: source -> rows landed; entity -> golden records; kind -> ID events)
    "rows_in": pl.String, "candidate_pairs": pl.Int64, "comparisons": pl.Int64,
    "auto_merges": pl.Int64, "review_pairs": pl.Int64, "golden": pl.String,
    "id_events": pl.String,
    # what it cost: CPU hours and a month of its version's storage, at matching.yaml's prices
    "storage_gb": pl.Float64, "cost": pl.Float64, "cost_per_1k_records": pl.Float64,
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
# every erasure (`mdm erase`), without what it erased: `subject` is a keyed hash of the request
ERASURES_SCHEMA = {
    "erasure_id": pl.String, "erased_at": pl.Datetime("us", "UTC"), "subject": pl.String,
    "source_records": pl.Int64, "golden_records": pl.Int64, "versions": pl.Int64,
    "files": pl.Int64, "reason": pl.String,
}  # fmt: skip
TABLES = {"audit.runs": RUNS_SCHEMA, "audit.check_results": CHECKS_SCHEMA,
          "audit.quarantine": QUARANTINE_SCHEMA,
          "audit.publications": PUBLICATIONS_SCHEMA,
          "audit.erasures": ERASURES_SCHEMA}  # fmt: skip


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
    code_version: str | None = None
    contract_versions: str | None = None
    wall_seconds: float | None = None
    cpu_seconds: float | None = None
    stages: str | None = None
    peak_rss_gb: float | None = None
    rows_in: str | None = None
    candidate_pairs: int | None = None
    comparisons: int | None = None
    auto_merges: int | None = None
    review_pairs: int | None = None
    golden: str | None = None
    id_events: str | None = None
    storage_gb: float | None = None
    cost: float | None = None
    cost_per_1k_records: float | None = None


def _type(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Datetime):
        return "TIMESTAMPTZ"
    return {pl.String: "VARCHAR", pl.Int64: "BIGINT", pl.Boolean: "BOOLEAN",
            pl.Float64: "DOUBLE"}[dtype]  # fmt: skip


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
) -> bool:
    """Add one run, its check results, its quarantined records and, when it switched the
    published version, that `publication` (PUBLICATIONS_SCHEMA) to the ledger. False when
    another process has the ledger open: the rows wait in ledger.pending/."""
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
    return _insert(warehouse, frames)


def record_publication(warehouse: Path, publication: dict) -> bool:
    """Add one switch of the published version made outside a run (`mdm rollback`)."""
    frame = pl.DataFrame([publication], schema=PUBLICATIONS_SCHEMA)
    return _insert(warehouse, {"audit.publications": frame})


def record_erasure(warehouse: Path, erasure: dict) -> bool:
    """Add one erasure's audit row (ERASURES_SCHEMA)."""
    return _insert(warehouse, {"audit.erasures": pl.DataFrame([erasure], schema=ERASURES_SCHEMA)})


def _insert(warehouse: Path, frames: dict[str, pl.DataFrame]) -> bool:
    """Write `frames` (and any rows waiting from earlier) into the ledger; False when another
    process holds it open, the rows then waiting in ledger.pending/."""
    warehouse = Path(warehouse)
    warehouse.mkdir(parents=True, exist_ok=True)
    pending = warehouse / PENDING
    waiting = sorted(b for b in pending.glob("*") if not b.name.endswith(".tmp"))
    try:
        con = duckdb.connect(str(warehouse / LEDGER))
    except duckdb.IOException:  # "Could not set lock on file": a session has it open
        _park(warehouse, frames)
        return False
    with con:
        con.execute("BEGIN")
        con.execute('CREATE SCHEMA IF NOT EXISTS "audit"')
        for name, schema in TABLES.items():
            con.execute(_ddl(name, schema))
            schema_name, table = name.split(".")
            # a ledger written by an older release lacks the newer columns
            for column, dtype in schema.items():
                con.execute(f'ALTER TABLE "{schema_name}"."{table}" ADD COLUMN IF NOT EXISTS '
                            f'"{column}" {_type(dtype)}')  # fmt: skip
            parked = [pl.read_parquet(f) for b in waiting if (f := b / f"{name}.parquet").exists()]
            for frame in [*parked, frames.get(name)]:
                if frame is not None and frame.height:
                    con.register("_frame", frame.to_arrow())
                    con.execute(f'INSERT INTO "{schema_name}"."{table}" BY NAME '
                                "SELECT * FROM _frame")  # fmt: skip
                    con.unregister("_frame")
        con.execute("COMMIT")
    # quarantined rows quote source lines (personal data): the owner group's, like mdm.duckdb
    os.chmod(warehouse / LEDGER, 0o640)
    for batch in waiting:
        shutil.rmtree(batch)
    return True


def _park(warehouse: Path, frames: dict[str, pl.DataFrame]) -> None:
    """`frames` as one batch of ledger.pending/, named to sort in the order written."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    batch = warehouse / PENDING / f"{stamp}-{os.getpid()}"
    tmp = batch.with_suffix(".tmp")  # renamed when whole: a half-written batch never counts
    tmp.mkdir(parents=True)
    os.chmod(warehouse / PENDING, 0o750)  # quarantined rows quote source lines, like the ledger
    for name, frame in frames.items():
        if frame.height:
            frame.write_parquet(tmp / f"{name}.parquet")
    os.replace(tmp, batch)


def read(warehouse: Path, table: str) -> pl.DataFrame:
    """A ledger table, with its rows still waiting in ledger.pending/ (empty with its schema
    when there is no ledger yet)."""
    pending = Path(warehouse) / PENDING
    parked = [pl.read_parquet(f) for f in sorted(pending.glob(f"*/{table}.parquet"))
              if not f.parent.name.endswith(".tmp")] if pending.is_dir() else []  # fmt: skip
    frames = [_stored(warehouse, table), *parked]
    return pl.concat([f.select(list(TABLES[table])).cast(TABLES[table]) for f in frames])


def _stored(warehouse: Path, table: str) -> pl.DataFrame:
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
