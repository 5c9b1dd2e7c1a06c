"""The warehouse folder: intermediates, the published DuckDB database and its Parquet exports.

Publishing builds a complete new database file next to `mdm.duckdb` and renames it over the old
one, so a reader sees either the previous version or the new one, never half of each.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pyarrow.parquet as pq
from polars.io.plugins import register_io_source

DATABASE = "mdm.duckdb"
# Intermediates live one run: fast to write beats small (`write`), and no column statistics
# (min/max of every string column: a quarter of writing the staged customers; nothing reads
# an intermediate by a range of values its row groups are sorted by)
INTERMEDIATE = {"compression": "lz4", "statistics": False}
# Exports are read by others for as long as they stand: zstd, at its fastest level (at 1M
# entities 24M lineage rows: 6.6 s and 327 MB at Polars' default level, 4.9 s and 307 MB here)
EXPORT = {"compression": "zstd", "compression_level": 1}
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

    def write(self, frame: pl.DataFrame, *parts: str) -> Path:
        """Write one asset's output as the intermediate `parts`. LZ4, not Polars' default
        zstd: intermediates are read back within the run, and at 1M entities zstd's extra
        compression cost ~15 s of writing for files that live one run."""
        path = self.intermediate(*parts)
        frame.write_parquet(path, **INTERMEDIATE)
        return path

    def sink(self, frame: pl.LazyFrame, *parts: str) -> Path:
        """Stream the query `frame` into the intermediate `parts` (as `write` compresses)."""
        path = self.intermediate(*parts)
        frame.sink_parquet(path, **INTERMEDIATE)
        return path

    def write_chunks(self, frames: Iterable[pl.DataFrame], schema: pl.Schema, *parts: str) -> Path:
        """Write `frames` (each with `schema`) one after another as the intermediate `parts`,
        so that a result bigger than memory never has to be whole in it."""
        path = self.intermediate(*parts)
        chunks = iter(frames)

        def source(*_) -> Iterator[pl.DataFrame]:  # Polars asks once, for every row
            yield from chunks

        # Polars' streaming writer, fed by `frames`: twice as fast as PyArrow's ParquetWriter
        # (1M entities: 4.4 -> 1.9 s for 4.8M scored pairs), the same bounded memory
        register_io_source(source, schema=schema).sink_parquet(path, **INTERMEDIATE)
        return path

    @property
    def database(self) -> Path:
        return self.root / DATABASE

    def publish(
        self,
        tables: dict[str, pl.DataFrame],
        run_id: str,
        views: dict[str, str] | None = None,
        parquet: dict[str, list[Path]] | None = None,
    ) -> tuple[Path, dict[str, int]]:
        """Write `tables` (schema.table -> frame) and `views` (schema.view -> its CREATE VIEW,
        SQL from code) into a new database and swap it in; replace the Parquet exports under
        export/golden/ the same way (a view is exported as its rows). `parquet` (schema.table
        -> intermediate files) are the bulky tables (pairs, lineage: tens of millions of rows
        at a million entities): their export is written from the files and the database holds
        a view over it, instead of a copy that took longer to load than the run to match.
        Returns the database and the row count of each view and Parquet-backed table."""
        self.root.mkdir(parents=True, exist_ok=True)
        export = self.root / "export" / "golden"
        export.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".{DATABASE}.{run_id}.tmp"
        staging.unlink(missing_ok=True)
        counts: dict[str, int] = {}
        # The exports are written by a second thread while DuckDB loads the tables: each
        # leaves a core mostly idle (DuckDB compresses a column at a time)
        with ThreadPoolExecutor(max_workers=1) as writer:
            backed = {name: writer.submit(_export_files, files, export / _export_name(name),
                                          run_id)
                      for name, files in (parquet or {}).items()}  # fmt: skip
            written = {name: writer.submit(_export_tmp, frame, export / _export_name(name),
                                           run_id)
                       for name, frame in tables.items()}  # fmt: skip
            with duckdb.connect(str(staging)) as con:
                # rows keep no order in SQL; keeping the frames' cost a third of the load (at
                # 1M entities 13.3 -> 8.5 s for the golden tables and xref) and a larger file
                con.execute("SET preserve_insertion_order = false")
                for name in [*tables, *backed]:
                    con.execute(f'CREATE SCHEMA IF NOT EXISTS "{name.split(".")[0]}"')
                for name, frame in tables.items():
                    con.register("_frame", frame.to_arrow())
                    con.execute(f"CREATE TABLE {_quoted(name)} AS SELECT * FROM _frame")
                    con.unregister("_frame")
                for name, future in backed.items():
                    target = future.result()
                    con.execute(f"CREATE VIEW {_quoted(name)} AS SELECT * FROM "
                                f"read_parquet({_literal(target)})")  # fmt: skip
                    counts[name] = pq.ParquetFile(target).metadata.num_rows
                for name, sql in (views or {}).items():
                    con.execute(sql)
                    frame = con.sql(f"SELECT * FROM {_quoted(name)}").pl()
                    written[name] = writer.submit(_export_tmp, frame, export / _export_name(name),
                                                  run_id)  # fmt: skip
                    counts[name] = frame.height
            ready = {export / _export_name(name): f.result() for name, f in written.items()}
        os.replace(staging, self.database)
        for target, tmp in ready.items():
            os.replace(tmp, target)
        return self.database, counts


def _export_name(table: str) -> str:
    return f"{table.replace('.', '_')}.parquet"


def _literal(path: Path) -> str:
    """A path as an SQL string literal (a warehouse path from configuration, never data)."""
    return "'" + str(path).replace("'", "''") + "'"


def _export_tmp(frame: pl.DataFrame, target: Path, run_id: str) -> Path:
    """`frame` written next to its export `target`, to be renamed over it."""
    tmp = target.with_suffix(f".{run_id}.tmp")
    frame.write_parquet(tmp, **EXPORT)
    return tmp


def _export_files(files: list[Path], target: Path, run_id: str) -> Path:
    """`files` as the one Parquet file `target`, swapped in: a copy of a single file, else
    their rows streamed into one file (columns a file lacks are null)."""
    tmp = target.with_suffix(f".{run_id}.tmp")
    if len(files) == 1:
        shutil.copyfile(files[0], tmp)
    else:
        frames = [pl.scan_parquet(f) for f in files]
        pl.concat(frames, how="diagonal_relaxed").sink_parquet(tmp, **EXPORT)
    os.replace(tmp, target)
    return target
