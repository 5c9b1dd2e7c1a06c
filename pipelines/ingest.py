"""Landing a source extract: read it as its contract describes, strictly, and account for
every record.

CSV goes through DuckDB's reader in strict mode with the header's columns as text: a record
with the wrong number of columns, an unterminated quote or bytes the declared encoding cannot
decode is *rejected* (kept, with its line and the rule it broke, for audit.quarantine), and the
rest of the file lands. A file that cannot be used at all (missing, unreadable, empty, a header
without the contract's required columns) stops the run with an `IngestError` naming source,
file and rule.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass

import duckdb
import polars as pl

from .contracts import SourceContract

_DUCKDB_ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "latin-1": "latin-1",
                     "iso-8859-1": "latin-1", "utf-16": "utf-16"}  # fmt: skip
_REJECT_RULES = {
    "MISSING COLUMNS": "wrong_column_count",
    "TOO MANY COLUMNS": "wrong_column_count",
    "UNQUOTED VALUE": "unterminated_quote",
    "INVALID ENCODING": "invalid_encoding",
    "INVALID UNICODE": "invalid_encoding",
    "LINE SIZE OVER MAXIMUM": "line_too_long",
}
MAX_LINE_BYTES = 8_000_000  # a record longer than this is rejected, not read
RAW_EXCERPT = 200  # characters of a rejected line kept for the steward


class IngestError(RuntimeError):
    """A source file the run cannot use; the message names source, file and rule."""


@dataclass(frozen=True)
class Landed:
    records: pl.DataFrame  # every column text, plus _record (1-based ordinal in the file)
    rejects: pl.DataFrame  # line, rule, detail, excerpt


def _fail(contract: SourceContract, rule: str, detail: str) -> IngestError:
    return IngestError(
        f"source {contract.dataset}: file {contract.server.declared_path}: {rule}: {detail}"
    )


def _header(contract: SourceContract, encoding: str, delimiter: str) -> list[str]:
    path = contract.server.path
    try:
        with path.open("rb") as raw:
            first = raw.readline(MAX_LINE_BYTES)
    except OSError as exc:
        raise _fail(contract, "unreadable", exc.strerror or str(exc)) from None
    if not first.strip():
        raise _fail(contract, "empty_file", "the file has no header line")
    try:
        text = codecs.decode(first, encoding).lstrip("\ufeff")
    except (UnicodeDecodeError, LookupError) as exc:
        raise _fail(contract, "invalid_encoding", f"the header is not {encoding}: {exc}") from None
    return next(csv.reader(io.StringIO(text), delimiter=delimiter))


def _check_columns(contract: SourceContract, header: list[str], delimiter: str) -> None:
    needed = [p.name for p in contract.properties if p.required]
    needed += [c for c in contract.mapping.source_columns() if c not in needed]
    missing = [c for c in needed if c not in header]
    if not missing:
        return
    hint = ""
    if len(header) == 1:
        other = [d for d in (",", ";", "\t", "|") if d != delimiter and d in header[0]]
        if other:
            hint = f"; the header has one column: is the delimiter {other[0]!r}, not {delimiter!r}?"
    raise _fail(
        contract, "missing_required_column",
        f"column(s) {missing} required by the contract are not in the header {header}{hint}",
    )  # fmt: skip


def land(contract: SourceContract) -> Landed:
    """The extract of `contract` as text columns, and the records that could not be read."""
    server = contract.server
    if not server.path.exists():
        raise _fail(contract, "file_missing", "no such file")
    if server.format == "parquet":
        try:
            frame = pl.read_parquet(server.path).with_columns(pl.all().cast(pl.String))
        except Exception as exc:  # noqa: BLE001 - any reader failure means an unusable file
            raise _fail(contract, "unreadable", f"not a readable Parquet file: {exc}") from None
        missing = [p.name for p in contract.properties if p.required and p.name not in frame]
        if missing:
            raise _fail(contract, "missing_required_column", f"column(s) {missing} are absent")
        empty = pl.DataFrame(schema={"line": pl.Int64, "rule": pl.String, "detail": pl.String,
                                     "excerpt": pl.String})  # fmt: skip
        return Landed(frame.with_row_index("_record", offset=1), empty)
    if server.path.stat().st_size == 0:
        raise _fail(contract, "empty_file", "the file has no bytes")
    delimiter = server.delimiter or ","
    encoding = _DUCKDB_ENCODINGS.get(server.encoding.lower())
    if encoding is None:
        known = sorted(set(_DUCKDB_ENCODINGS))
        raise _fail(contract, "unsupported_encoding", f"{server.encoding!r}; supported: {known}")
    header = _header(contract, encoding, delimiter)
    _check_columns(contract, header, delimiter)
    columns = {name: "VARCHAR" for name in header}
    if len(columns) != len(header):
        raise _fail(contract, "duplicate_column", f"the header repeats a column: {header}")
    query = (
        "SELECT * FROM read_csv($path, delim=$delim, quote='\"', escape='\"', header=true, "
        "auto_detect=false, columns=$columns, strict_mode=true, store_rejects=true, "
        "rejects_table='_rejects', rejects_scan='_scans', encoding=$encoding, "
        "max_line_size=$max_line, null_padding=false)"
    )
    params = {"path": str(server.path), "delim": delimiter, "columns": columns,
              "encoding": encoding, "max_line": MAX_LINE_BYTES}  # fmt: skip
    # (DuckDB 2.0.1 with parallel=false loses the reject of an unterminated quote at the end
    # of a file; the default parallel reader keeps it and the record order)
    with duckdb.connect() as con:
        try:
            records = con.sql(query, params=params).pl()
        except duckdb.Error as exc:
            raise _fail(contract, "unreadable", str(exc).splitlines()[0]) from None
        rejects = con.sql(
            "SELECT line, error_type, error_message, csv_line FROM _rejects ORDER BY line"
        ).pl()
    return Landed(records.with_row_index("_record", offset=1), _one_row_per_line(rejects))


def _one_row_per_line(rejects: pl.DataFrame) -> pl.DataFrame:
    """DuckDB reports one reject per failing column of a record; the quarantine holds one row
    per physical line the reader could not use (a record an unterminated quote ran on for
    several lines is several lines of the file)."""
    rules = pl.col("error_type").replace_strict(_REJECT_RULES, default="unparseable_record")
    per_record = rejects.group_by("line", maintain_order=True).agg(
        rule=rules.first(),
        detail=pl.col("error_message").unique(maintain_order=True).str.join("; "),
        text=pl.col("csv_line").first(),
    )
    spans = per_record.with_columns(
        n=pl.col("text").str.strip_suffix("\n").str.count_matches("\n") + 1,
        first=pl.col("line").cast(pl.Int64),
    )
    lines = spans.with_columns(offset=pl.int_ranges(0, pl.col("n"))).explode("offset")
    return lines.select(
        line=pl.col("first") + pl.col("offset"),
        rule="rule",
        detail=pl.when(pl.col("offset") == 0)
        .then(pl.col("detail"))
        .otherwise(
            pl.lit("continues the unreadable record at line ") + pl.col("first").cast(pl.String)
        ),
        excerpt=pl.col("text")
        .str.strip_suffix("\n")
        .str.split("\n")
        .list.get(pl.col("offset"), null_on_oob=True)
        .str.slice(0, RAW_EXCERPT),
    )
