"""Erasure (the right to be forgotten): `mdm erase`.

A request names a golden record (`--golden-id`, retired IDs followed to the current one) or
one source record (`--source SYSTEM --key KEY`, which stands for the golden record holding
it). What is erased:

- the golden record, every ID retired into it, and what it holds: a customer's accounts and
  their contracts, an account's contracts (each with their own records);
- every source record resolved to any of them now, and the record named, even quarantined.

From every place the pipeline writes: each kept version's `mdm.duckdb` and `analytics.duckdb`
(tables, the views over Parquet, and the Parquet under its `export/`), the ledger (quarantined
rows, record keys in check metadata) and rows waiting in `ledger.pending/`; the last run's
intermediates (staged records, pairs: scratch files that live one run) and unfinished builds
are deleted. Every file is written anew without the rows - never a delete inside the old file,
whose freed pages could still hold them - and renamed over the old one: a rollback can never
bring the person back, and a new connection never sees them (a session open before keeps
what it opened until it reconnects).

What stays: a tombstone per source record, a keyed hash (HMAC with the warehouse key) of its
system and key, not the data, in `<warehouse>/tombstones.parquet`: the next runs drop a record
a source still holds when it lands, counted as suppressed. And one row in `audit.erasures`:
when, how many records, versions and files, the reason given, and a keyed hash of the request,
never a key, ID or value.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq

from . import ledger, masking, versions
from .warehouse import COPY_COMPRESSION, sql_literal

TOMBSTONES = "tombstones.parquet"
TOMBSTONE_SCHEMA = {"tombstone": pl.String, "erased_at": pl.Datetime("us", "UTC")}
# Where a table names a golden ID, a record, a list of IDs or of "system:key" records
_ID_COLUMNS = ("golden_id", "customer_golden_id", "account_golden_id", "left_golden_id",
               "right_golden_id", "retired_into")  # fmt: skip
_RECORD_COLUMNS = (("source_system", "source_key"), ("left_system", "left_key"),
                   ("right_system", "right_key"))  # fmt: skip
_SEP = "\x1f"  # between a record's system and key in the sets the queries are given
_CASCADE = {"customer": ("account", "contract"), "account": ("contract",), "contract": ()}


class NotFound(LookupError):
    """The request names nothing the published version holds."""


@dataclass
class Erased:
    """What one erasure removed (the CLI and the audit row say only how many)."""

    records: set[tuple[str, str]] = field(default_factory=set)  # (system, key)
    golden: dict[str, int] = field(default_factory=dict)  # entity -> golden records erased now
    versions: int = 0
    files: int = 0
    tombstones: int = 0  # held after this erasure


def subjects(database: Path, golden_id: str | None, source: tuple[str, str] | None):
    """(golden IDs, source records) the request stands for in the published `database`:
    the golden record (current, or the one a retired ID went into), what it holds down the
    hierarchy, and all their current records; plus the named record itself."""
    with duckdb.connect(str(database), read_only=True) as con:
        named: set[tuple[str, str]] = {source} if source else set()
        if golden_id is not None:
            found = con.execute(
                "WITH RECURSIVE chain(golden_id, onto) AS ("
                " SELECT golden_id, retired_into FROM golden.ids WHERE golden_id = ?"
                " UNION ALL SELECT i.golden_id, i.retired_into FROM golden.ids i"
                " JOIN chain c ON i.golden_id = c.onto)"
                " SELECT golden_id FROM chain WHERE onto IS NULL",
                [golden_id],
            ).fetchall()
            if not found:
                raise NotFound(f"no golden ID {golden_id} in {database}")
            ids = {found[0][0]}
        else:
            ids = {r[0] for r in con.execute(
                "SELECT golden_id FROM golden.xref WHERE source_system = ? AND source_key = ? "
                "AND valid_to IS NULL", list(source)).fetchall()}  # fmt: skip
            known = con.execute("SELECT count(*) FROM audit.quarantine WHERE source_system = ? "
                                "AND source_key = ?", list(source)).fetchall()[0][0]  # fmt: skip
            if not ids and not known:
                raise NotFound(f"no record {source[0]}:{source[1]} in {database}")
        ids = _held(con, ids)
        members = con.execute(
            "SELECT DISTINCT source_system, source_key FROM golden.xref "
            "WHERE valid_to IS NULL AND list_contains(?, golden_id)",
            [sorted(ids)],
        ).fetchall()
    return ids, named | {(s, k) for s, k in members}


def _held(con: duckdb.DuckDBPyConnection, ids: set[str]) -> set[str]:
    """`ids` and what they hold: a customer's accounts, their contracts."""
    tables = {t for (t,) in con.sql("SELECT table_name FROM information_schema.tables "
                                    "WHERE table_schema = 'golden'").fetchall()}  # fmt: skip
    for parent, table in (("customer_golden_id", "account"), ("account_golden_id", "contract"),
                          ("customer_golden_id", "contract")):  # fmt: skip
        if table in tables:
            sql = f'SELECT golden_id FROM golden."{table}" WHERE list_contains(?, {parent})'
            ids |= {r[0] for r in con.execute(sql, [sorted(ids)]).fetchall()}
    return ids


def _version_ids(con: duckdb.DuckDBPyConnection, records: list[str], ids: set[str]) -> list[str]:
    """The golden IDs one version gives the erased records (any time in its history), what
    they hold, and every ID retired into any of them: a version older than the published one
    may have grouped the records under other IDs."""
    sql = ("SELECT DISTINCT golden_id FROM golden.xref "
           "WHERE list_contains(?, source_system || chr(31) || source_key)")  # fmt: skip
    found = {r[0] for r in con.execute(sql, [records]).fetchall()}
    found = _held(con, found | ids)
    ancestors = con.execute(
        "WITH RECURSIVE up(golden_id) AS (SELECT unnest(?::VARCHAR[]) UNION "
        " SELECT i.golden_id FROM golden.ids i JOIN up ON i.retired_into = up.golden_id)"
        " SELECT golden_id FROM up", [sorted(found)]).fetchall()  # fmt: skip
    return sorted(found | {r[0] for r in ancestors})


def _keep(columns: Iterable[str]) -> tuple[str, str | None]:
    """(WHERE condition keeping a row, SELECT list) for a table with `columns`; parameters:
    $ids (erased golden IDs), $records ("system<US>key" of erased records), $keys (their keys,
    for text that quotes them). Only column names from this module go into the SQL."""
    columns = list(columns)
    gone = [f'list_contains($ids, "{c}")' for c in _ID_COLUMNS if c in columns]
    gone += [f'list_contains($records, "{s}" || chr(31) || "{k}")'
             for s, k in _RECORD_COLUMNS if s in columns and k in columns]  # fmt: skip
    if "other_ids" in columns:
        gone.append("list_has_any($ids, other_ids)")
    where = "NOT (" + " OR ".join(f"coalesce({g}, false)" for g in gone) + ")" if gone else "true"
    select = []
    for c in columns:
        if c == "source_keys":  # an ID event's records as "system:key"
            select.append("list_filter(source_keys, lambda k: NOT list_contains($pairs, k)) "
                          "AS source_keys")  # fmt: skip
        elif c == "metadata":  # a check result's sampled failing keys
            select.append("list_reduce(list_prepend(metadata, $keys), lambda text, key: "
                          "replace(text, key, '[erased]')) AS metadata")  # fmt: skip
        else:
            select.append(f'"{c}"')
    return where, ", ".join(select)


def _params(ids: list[str], records: set[tuple[str, str]]) -> dict:
    return {
        "ids": ids,
        "records": sorted(f"{s}{_SEP}{k}" for s, k in records),
        "pairs": sorted(f"{s}:{k}" for s, k in records),
        "keys": sorted({k for _, k in records}),
    }


def _used(sql: str, params: dict) -> dict:
    """The parameters `sql` names (DuckDB refuses unused named parameters)."""
    return {k: v for k, v in params.items() if f"${k}" in sql}


def _rewrite_parquet(path: Path, params: dict) -> None:
    """`path` written anew without the erased rows, renamed over the old file."""
    where, select = _keep(pq.read_schema(path).names)
    tmp = path.with_name(f".{path.name}.erasing")
    options = f"FORMAT parquet, {COPY_COMPRESSION}"
    sql = (f"COPY (SELECT {select} FROM read_parquet({sql_literal(path)}) WHERE {where}) TO "
           f"{sql_literal(tmp)} ({options})")  # fmt: skip
    with duckdb.connect() as con:  # not the process's default connection: see keyed_hashes
        con.execute(sql, _used(sql, params))
    os.chmod(tmp, os.stat(path).st_mode & 0o777)
    os.replace(tmp, path)


def _rewrite_database(path: Path, params: dict) -> None:
    """The DuckDB file `path` copied table by table without the erased rows (its views as
    they were: over Parquet rewritten beside it), then renamed over the old file."""
    tmp = path.with_name(f".{path.name}.erasing")
    tmp.unlink(missing_ok=True)
    with duckdb.connect(":memory:") as con:
        con.execute(f"ATTACH {sql_literal(path)} AS src (READ_ONLY)")
        con.execute(f"ATTACH {sql_literal(tmp)} AS dst")
        tables = con.sql("SELECT schema_name, table_name FROM duckdb_tables() "
                         "WHERE database_name = 'src'").fetchall()  # fmt: skip
        for schema in {s for s, _ in tables} | {s for (s,) in con.sql(
                "SELECT DISTINCT schema_name FROM duckdb_views() WHERE database_name = 'src' "
                "AND NOT internal").fetchall()}:  # fmt: skip
            con.execute(f'CREATE SCHEMA IF NOT EXISTS dst."{schema}"')
        for schema, table in tables:
            name = f'"{schema}"."{table}"'
            columns = [d[0] for d in con.sql(f"SELECT * FROM src.{name} LIMIT 0").description]
            where, select = _keep(columns)
            sql = f"CREATE TABLE dst.{name} AS SELECT {select} FROM src.{name} WHERE {where}"
            con.execute(sql, _used(sql, params))
        # in the order they were made: a view over another view comes after it
        views = con.sql("SELECT sql FROM duckdb_views() WHERE database_name = 'src' "
                        "AND NOT internal ORDER BY view_oid").fetchall()  # fmt: skip
        con.execute("USE dst")
        for (sql,) in views:  # names inside resolve in dst, as they did in src
            con.execute(sql)
    os.chmod(tmp, os.stat(path).st_mode & 0o777)
    os.replace(tmp, path)


def erase(
    root: Path,
    golden_id: str | None = None,
    source: tuple[str, str] | None = None,
    reason: str = "",
) -> Erased:
    """Erase what the request stands for from the warehouse at `root` (hold its lock)."""
    root = Path(root)
    published = versions.current(root)
    if published is None:
        raise NotFound(f"nothing is published in {root}")
    ids, records = subjects(published.database, golden_id, source)
    done = Erased(records=records)
    with duckdb.connect(str(published.database), read_only=True) as con:
        sql = ("SELECT entity, count(DISTINCT golden_id) FROM golden.ids "
               "WHERE list_contains(?, golden_id) GROUP BY ALL")  # fmt: skip
        done.golden = dict(con.execute(sql, [sorted(ids)]).fetchall())
    # the tombstones first: an erasure interrupted from here on (run it again: the published
    # version, rewritten last, still names the person) lets no run bring the records back
    done.tombstones = _bury(root, records)
    _forget_elsewhere(root, _params(sorted(ids), records), done)
    pairs = sorted(f"{s}{_SEP}{k}" for s, k in records)
    kept = versions.kept(root)
    for version in sorted(kept, key=lambda v: v.number == published.number):
        with duckdb.connect(str(version.database), read_only=True) as con:
            version_ids = _version_ids(con, pairs, ids)
        params = _params(version_ids, records)
        for path in sorted(version.export.rglob("*.parquet")):
            _rewrite_parquet(path, params)
            done.files += 1
        for name in (versions.DATABASE, versions.ANALYTICS):
            if (version.path / name).exists():
                _rewrite_database(version.path / name, params)
                done.files += 1
        done.versions += 1
    _audit(root, golden_id, source, reason, done)
    return done


def _forget_elsewhere(root: Path, params: dict, done: Erased) -> None:
    """The ledger, its waiting rows, the last run's intermediates, unfinished builds."""
    if (root / ledger.LEDGER).exists():
        _rewrite_database(root / ledger.LEDGER, params)
        done.files += 1
    for path in sorted((root / ledger.PENDING).rglob("*.parquet")):
        _rewrite_parquet(path, params)
        done.files += 1
    shutil.rmtree(root / "intermediate", ignore_errors=True)
    versions.remove_unfinished(root)


def tombstone_hashes(key: bytes, records: Iterable[tuple[str, str]]) -> list[str]:
    """The tombstones of `records`: keyed hashes of system and key (the same SQL as masking)."""
    texts = pl.Series([f"{s}{_SEP}{k}" for s, k in records], dtype=pl.String)
    return masking.keyed_hashes(key, texts).to_list()


def _bury(root: Path, records: set[tuple[str, str]]) -> int:
    """Add the records' tombstones to the warehouse's; the number held."""
    path = root / TOMBSTONES
    new = pl.DataFrame({"tombstone": tombstone_hashes(masking.warehouse_key(root), records),
                        "erased_at": datetime.now(UTC)}, schema=TOMBSTONE_SCHEMA)  # fmt: skip
    held = pl.concat([pl.read_parquet(path), new]) if path.exists() else new
    held = held.unique("tombstone", keep="first", maintain_order=True)
    tmp = path.with_name(f".{path.name}.tmp")
    held.write_parquet(tmp)
    os.chmod(tmp, 0o640)
    os.replace(tmp, path)
    return held.height


def suppressed(root: Path, system: str, keys: pl.Series) -> pl.Series:
    """Which of a source's `keys` were erased (a tombstone holds their hash): a boolean mask.
    All False, without hashing anything, when the warehouse has no tombstones."""
    path = Path(root) / TOMBSTONES
    if not path.exists():
        return pl.Series(values=[False] * len(keys), dtype=pl.Boolean)
    buried = pl.read_parquet(path)["tombstone"]
    records = system + _SEP + keys.cast(pl.String)
    hashes = masking.keyed_hashes(masking.warehouse_key(root), records)
    return hashes.is_in(buried.implode()).fill_null(False)


def _audit(root, golden_id, source, reason: str, done: Erased) -> None:
    request = f"golden:{golden_id}" if golden_id else f"source:{source[0]}{_SEP}{source[1]}"
    subject = tombstone_hashes(masking.warehouse_key(root), [("request", request)])[0]
    row = {
        "erasure_id": str(uuid.uuid4()), "erased_at": datetime.now(UTC), "subject": subject,
        "source_records": len(done.records), "golden_records": sum(done.golden.values()),
        "versions": done.versions, "files": done.files, "reason": reason,
    }  # fmt: skip
    ledger.record_erasure(root, row)
