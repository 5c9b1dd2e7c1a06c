"""The warehouse folder: intermediates, the published DuckDB database and its Parquet exports.

Publishing builds a complete new database file next to `mdm.duckdb` and renames it over the old
one, so a reader sees either the previous version or the new one, never half of each.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

DATABASE = "mdm.duckdb"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def _quoted(name: str) -> str:
    """A schema-qualified table name, validated and quoted (names come from code and contracts,
    never from data values)."""
    parts = name.split(".")
    if len(parts) != 2 or not all(_IDENTIFIER.match(p) for p in parts):
        raise ValueError(f"invalid table name {name!r}: expected schema.table in lower case")
    return ".".join(f'"{p}"' for p in parts)


class WarehouseResource(dg.ConfigurableResource):
    """Where a run reads and writes: `--warehouse DIR` / `MDM_WAREHOUSE`."""

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path).resolve()

    def intermediate(self, *parts: str) -> Path:
        """A Parquet file for one asset's output (one writer per file)."""
        path = self.root.joinpath("intermediate", *parts).with_suffix(".parquet")
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def database(self) -> Path:
        return self.root / DATABASE

    def publish(
        self, tables: dict[str, pl.DataFrame], run_id: str, views: dict[str, str] | None = None
    ) -> tuple[Path, dict[str, int]]:
        """Write `tables` (schema.table -> frame) and `views` (schema.view -> its CREATE VIEW,
        SQL from code) into a new database and swap it in; replace the Parquet exports under
        export/golden/ the same way (a view is exported as its rows). Returns the database
        and each view's row count."""
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".{DATABASE}.{run_id}.tmp"
        staging.unlink(missing_ok=True)
        exports = dict(tables)
        with duckdb.connect(str(staging)) as con:
            for name, frame in tables.items():
                schema = name.split(".")[0]
                con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                con.register("_frame", frame.to_arrow())
                con.execute(f"CREATE TABLE {_quoted(name)} AS SELECT * FROM _frame")
                con.unregister("_frame")
            for name, sql in (views or {}).items():
                con.execute(sql)
                exports[name] = con.sql(f"SELECT * FROM {_quoted(name)}").pl()
        os.replace(staging, self.database)
        export = self.root / "export" / "golden"
        export.mkdir(parents=True, exist_ok=True)
        for name, frame in exports.items():
            target = export / f"{name.replace('.', '_')}.parquet"
            tmp = target.with_suffix(f".{run_id}.tmp")
            frame.write_parquet(tmp)
            os.replace(tmp, target)
        return self.database, {name: exports[name].height for name in views or {}}
