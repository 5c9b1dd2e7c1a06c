"""The warehouse folder: intermediates, and the published versions (`pipelines.versions`):
each an immutable DuckDB database with its Parquet exports, `mdm.duckdb` a link to the current
one, so a reader sees either the previous version or the new one, never half of each.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pyarrow.parquet as pq
from polars.io.plugins import register_io_source

from . import versions

# Intermediates live one run: fast to write beats small (`write`), and no column statistics
# (min/max of every string column: a quarter of writing the staged customers; nothing reads
# an intermediate by a range of values its row groups are sorted by)
INTERMEDIATE = {"compression": "lz4", "statistics": False}
# Exports are read by others for as long as they stand: zstd, at its fastest level (at 1M
# entities 24M lineage rows: 6.6 s and 327 MB at Polars' default level, 4.9 s and 307 MB here)
EXPORT = {"compression": "zstd", "compression_level": 1}
# the same, in DuckDB's COPY options
COPY_COMPRESSION = f"COMPRESSION zstd, COMPRESSION_LEVEL {EXPORT['compression_level']}"
PRIVATE_DIR = 0o750  # full-detail folders: the owner group may read, nobody else
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def quoted(name: str) -> str:
    """A schema-qualified table name, validated and quoted (names come from code and contracts,
    never from data values)."""
    parts = name.split(".")
    if len(parts) != 2 or not all(_IDENTIFIER.match(p) for p in parts):
        raise ValueError(f"invalid table name {name!r}: expected schema.table in lower case")
    return ".".join(f'"{p}"' for p in parts)


class WarehouseResource(dg.ConfigurableResource):
    """Where a run reads and writes: `--warehouse DIR` / `MDM_WAREHOUSE`."""

    path: str
    # published versions kept for `mdm rollback` (the current one always is)
    keep_versions: int = versions.KEEP

    @property
    def root(self) -> Path:
        return Path(self.path).resolve()

    def intermediate(self, *parts: str) -> Path:
        """A Parquet file for one asset's output (one writer per file)."""
        base = self.root / "intermediate"
        path = base.joinpath(*parts).with_suffix(".parquet")
        path.parent.mkdir(parents=True, exist_ok=True)
        if base.stat().st_mode & 0o777 != PRIVATE_DIR:
            # full detail, staged records and pairs alike: the owner group's (analytics.py)
            os.chmod(base, PRIVATE_DIR)
        return path

    def write(self, frame: pl.DataFrame, *parts: str, exported: bool = False) -> Path:
        """Write one asset's output as the intermediate `parts`. LZ4, not Polars' default
        zstd: intermediates are read back within the run, and at 1M entities zstd's extra
        compression cost ~15 s of writing for files that live one run. `exported`: a table
        published from this one file, written as its export will be (`EXPORT`), which the
        version then copies instead of encoding it again."""
        path = self.intermediate(*parts)
        frame.write_parquet(path, **(EXPORT if exported else INTERMEDIATE))
        return path

    def sink(self, frame: pl.LazyFrame, *parts: str, exported: bool = False) -> Path:
        """Stream the query `frame` into the intermediate `parts` (as `write` compresses)."""
        path = self.intermediate(*parts)
        frame.sink_parquet(path, **(EXPORT if exported else INTERMEDIATE))
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
        """What readers open: a link to the published version's database."""
        return self.root / versions.DATABASE

    def published_version(self) -> versions.Version | None:
        return versions.current(self.root)

    def next_version_number(self) -> int:
        return versions.next_number(self.root)

    def build(
        self,
        version: versions.Version,
        published: dict[str, list[Path]],
        tables: dict[str, Callable[[], pl.DataFrame]] | None = None,
        views: dict[str, str] | None = None,
    ) -> dict[str, int]:
        """Write the new `version`: `published` (schema.table -> the intermediate Parquet files
        it is published from: every table the run produced) as one Parquet export each under
        its export/golden/, with a view over it in the version's database; `tables`
        (schema.table -> a function reading its frame: the ledger's small tables) loaded into
        the database and exported; `views` (schema.view -> its CREATE VIEW, SQL from code)
        created over them and exported as their rows. The database holds no copy of the run's
        tables: loading them into DuckDB took as long as matching the customers (at a million
        entities 13 s, most of it DuckDB choosing each column's compression, for a second
        copy of 3M golden records and 4.7M xref rows beside their exports). Nothing is visible
        to readers until the version is switched in. Returns the row count of every table and
        view."""
        export = version.export / "golden"
        export.mkdir(parents=True, exist_ok=True)
        counts: dict[str, int] = {}
        # two exports at a time, what a view reads first, then the biggest (at 1M entities the
        # 24M lineage rows take as long as all the others together)
        read = {t for sql in (views or {}).values() for t in _reads(sql, published)}
        order = sorted(
            published, key=lambda n: (n not in read, -sum(f.stat().st_size for f in published[n]))
        )
        with ThreadPoolExecutor(max_workers=2) as writer:
            written = {
                name: writer.submit(_export_files, published[name], export / export_name(name))
                for name in order
            }
            with duckdb.connect(str(version.database)) as con:
                con.execute("SET preserve_insertion_order = false")  # a view's rows, exported
                for name in [*published, *(tables or {}), *(views or {})]:
                    con.execute(f'CREATE SCHEMA IF NOT EXISTS "{name.split(".")[0]}"')
                for name, read in (tables or {}).items():
                    frame = read()
                    con.register("_frame", frame.to_arrow())
                    con.execute(f"CREATE TABLE {quoted(name)} AS SELECT * FROM _frame")
                    con.unregister("_frame")
                    _export(frame, export / export_name(name))
                    counts[name] = frame.height
                # each view as soon as what it reads is there: the golden tables' view
                # (customer_360) is exported while the lineage is still being written
                waiting = dict(views or {})
                named = {future: name for name, future in written.items()}
                for done in as_completed(named):
                    target, name = done.result(), named[done]
                    # the path inside the version: a reader of this version keeps its files
                    # when later versions are published
                    con.execute(f"CREATE VIEW {quoted(name)} AS SELECT * FROM "
                                f"read_parquet({sql_literal(target)})")  # fmt: skip
                    counts[name] = pq.ParquetFile(target).metadata.num_rows
                    for view, sql in list(waiting.items()):
                        if all(t in counts for t in _reads(sql, published)):
                            del waiting[view]
                            counts[view] = _export_view(con, view, sql, export)
                for view, sql in waiting.items():  # views over the ledger's tables alone
                    counts[view] = _export_view(con, view, sql, export)
        return counts


def _reads(sql: str, tables: Iterable[str]) -> list[str]:
    """Which of `tables` the view `sql` names (golden.customer, not golden.customer_360)."""
    return [t for t in tables if re.search(rf"\b{re.escape(t)}\b", sql)]


def _export_view(con: duckdb.DuckDBPyConnection, name: str, sql: str, export: Path) -> int:
    """Create the view `name` (its CREATE VIEW `sql`) and export its rows; their count."""
    con.execute(sql)
    target = export / export_name(name)
    con.execute(f"COPY {quoted(name)} TO {sql_literal(target)} (FORMAT parquet, "
                f"{COPY_COMPRESSION})")  # fmt: skip
    return pq.ParquetFile(target).metadata.num_rows


def export_name(table: str) -> str:
    return f"{table.replace('.', '_')}.parquet"


def sql_literal(path: Path) -> str:
    """A path as an SQL string literal (a warehouse path from configuration, never data)."""
    return "'" + str(path).replace("'", "''") + "'"


def _export(frame: pl.DataFrame, target: Path) -> Path:
    frame.write_parquet(target, **EXPORT)
    return target


def _export_files(files: list[Path], target: Path) -> Path:
    """`files` as the one Parquet file `target`: a copy of a single file, else their rows
    streamed into one file (columns a file lacks are null)."""
    if len(files) == 1:
        shutil.copyfile(files[0], target)
    else:
        frames = [pl.scan_parquet(f) for f in files]
        pl.concat(frames, how="diagonal_relaxed").sink_parquet(target, **EXPORT)
    return target
