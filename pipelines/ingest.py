"""Landing a source extract: read it as its contract describes, strictly, and account for
every record.

CSV goes through DuckDB's reader in strict mode with the header's columns as text: a record
with the wrong number of columns, an unterminated quote or bytes the declared encoding cannot
decode is *rejected* (kept, with its line and the rule it broke, for audit.quarantine), and the
rest of the file lands. A file that cannot be used at all (missing, unreadable, empty, a header
without the contract's required columns) stops the run with an `IngestError` naming source,
file and rule.

A source whose contract declares a retention period (`Retention`: ODCS slaProperties
``property: retention``) lands only the rows dated within it: a row whose date column, read as
its logicalType says, is older than the period before the run is dropped - a policy, not a
defect, so it is counted (`Landed.expired`) and not quarantined. A row whose date is empty or
unreadable lands (the contract's type check reports it) and is counted as undated.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb
import polars as pl

from .contracts import Retention, SourceContract

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
# A timestamp as ISO 8601 writes it (the text pipelines/checks/ accepts for logicalType
# timestamp): a date, optionally a time to the minute, second or fraction, and a UTC offset or Z.
_ISO_TIMESTAMP = (
    r"^(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})(?:[T ](?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:[.,](?P<fraction>[0-9]+))?)?"
    r"(?P<zone>Z|(?P<sign>[+-])(?P<zone_hour>[0-9]{2})(?::?(?P<zone_minute>[0-9]{2}))?)?)?$"
)


class IngestError(RuntimeError):
    """A source file the run cannot use; the message names source, file and rule."""


@dataclass(frozen=True)
class Expired:
    """What a source's retention period did when it landed."""

    retention: Retention
    cutoff: datetime  # UTC: the run's time minus the period; a row dated before it is dropped
    dropped: int  # rows past retention: not landed, not quarantined
    undated: int  # rows without a readable date: landed all the same

    def metadata(self) -> dict[str, str | int]:
        """The raw asset's account of it."""
        return {
            "retention": str(self.retention),
            "rows_past_retention": self.dropped,
            "retention_cutoff": self.cutoff.isoformat(),
            "retention_undated": self.undated,
        }


@dataclass(frozen=True)
class Landed:
    records: pl.DataFrame  # every column text, plus _record (1-based ordinal in the file)
    rejects: pl.DataFrame  # line, rule, detail, excerpt
    # None when the contract declares no retention period; else what it dropped: the file's
    # records are records + rejects + expired.dropped
    expired: Expired | None = None


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
    if contract.retention is not None and contract.retention.column not in needed:
        needed.append(contract.retention.column)  # rows are dated by it
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


def land(contract: SourceContract, now: datetime | None = None) -> Landed:
    """The extract of `contract` as text columns, and the records that could not be read;
    rows past the contract's retention period at `now` (default: the current time) dropped."""
    server = contract.server
    if not server.path.exists():
        raise _fail(contract, "file_missing", "no such file")
    if server.format == "parquet":
        try:
            native = pl.read_parquet(server.path)
        except Exception as exc:  # noqa: BLE001 - any reader failure means an unusable file
            raise _fail(contract, "unreadable", f"not a readable Parquet file: {exc}") from None
        missing = [p.name for p in contract.properties if p.required and p.name not in native]
        if contract.retention is not None and contract.retention.column not in native:
            missing.append(contract.retention.column)
        if missing:
            raise _fail(contract, "missing_required_column", f"column(s) {missing} are absent")
        frame = native.with_columns(pl.all().cast(pl.String)).with_row_index("_record", offset=1)
        empty = pl.DataFrame(schema={"line": pl.Int64, "rule": pl.String, "detail": pl.String,
                                     "excerpt": pl.String})  # fmt: skip
        # a typed Parquet date column is read as it is typed, not from its text
        records, expired = _expire(frame, contract.retention, now, native)
        return Landed(records, empty, expired)
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
    landed, expired = _expire(records.with_row_index("_record", offset=1), contract.retention, now)
    return Landed(landed, _one_row_per_line(rejects), expired)


def _expire(
    records: pl.DataFrame,
    retention: Retention | None,
    now: datetime | None,
    native: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, Expired | None]:
    """`records` without the rows `retention` dates before `now` minus its period."""
    if retention is None:
        return records, None
    now = datetime.now(UTC) if now is None else now
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    # calendar arithmetic: a month before 31 March is 28 (or 29) February
    cutoff = pl.select(pl.lit(now, pl.Datetime("us", "UTC")).dt.offset_by(retention.offset))
    cutoff_at: datetime = cutoff.item()
    source = records if native is None else native
    dated = _dated(source[retention.column], retention)
    limit: date | datetime = cutoff_at.date() if retention.logical_type == "date" else cutoff_at
    past = (dated < limit).fill_null(False)
    kept = records.filter(~past)
    expired = Expired(
        retention=retention,
        cutoff=cutoff_at,
        dropped=records.height - kept.height,
        undated=int(dated.null_count()),
    )
    return kept, expired


def _dated(values: pl.Series, retention: Retention) -> pl.Series:
    """The retention column as a date (logicalType date) or a UTC timestamp, null where its
    value is empty or does not read as its logicalType (and logicalTypeOptions.format) says."""
    frame, column, zone = values.to_frame("v"), pl.col("v"), retention.timezone
    if retention.logical_type == "date":
        if values.dtype == pl.Date:
            return values
        if isinstance(values.dtype, pl.Datetime):
            return values.dt.date()
        fmt = retention.parse_format or "%Y-%m-%d"
        return values.cast(pl.String).str.to_date(fmt, strict=False)
    if values.dtype == pl.Date:
        local = column.cast(pl.Datetime("us"))
    elif isinstance(values.dtype, pl.Datetime) and values.dtype.time_zone is not None:
        return values.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    elif isinstance(values.dtype, pl.Datetime):
        local = column.dt.cast_time_unit("us")
    elif retention.parse_format is not None:
        fmt = retention.parse_format
        local = column.cast(pl.String).str.to_datetime(fmt, strict=False, time_unit="us")
    else:
        return _iso_timestamp(values.cast(pl.String), zone)
    return frame.select(_in_utc(local, zone)).to_series()


def _in_utc(local: pl.Expr, zone: str) -> pl.Expr:
    """Wall-clock times of `zone` in UTC (a time the clock skips is null, as unreadable)."""
    return local.dt.replace_time_zone(
        zone, ambiguous="earliest", non_existent="null"
    ).dt.convert_time_zone("UTC")


def _iso_timestamp(text: pl.Series, zone: str) -> pl.Series:
    """ISO 8601 text as UTC timestamps: an offset honoured (Z is UTC), `zone` where there is
    none; null for anything else, an impossible date or time included. (In steps: one
    expression would extract the parts again for every use.)"""
    parts = text.str.extract_groups(_ISO_TIMESTAMP).struct.unnest()
    numbers = ["hour", "minute", "second", "zone_hour", "zone_minute"]
    parts = parts.with_columns(
        pl.col("date").str.to_date("%Y-%m-%d", strict=False),
        pl.col(numbers).cast(pl.Int64).fill_null(0),
        micros=pl.col("fraction").str.slice(0, 6).str.pad_end(6, "0").cast(pl.Int64).fill_null(0),
        sign=pl.when(pl.col("sign") == "-").then(-1).otherwise(1),
    )
    possible = pl.col("date").is_not_null() & (pl.col("hour") < 24) & (pl.col("minute") < 60)
    possible &= (pl.col("second") < 60) & (pl.col("zone_hour") < 24) & (pl.col("zone_minute") < 60)
    local = pl.col("date").cast(pl.Datetime("us")) + pl.duration(
        hours="hour", minutes="minute", seconds="second", microseconds="micros"
    )
    offset = pl.duration(
        minutes=pl.col("sign") * (pl.col("zone_hour") * 60 + pl.col("zone_minute"))
    )
    parts = parts.with_columns(local=pl.when(possible).then(local), offset=offset)
    return parts.select(
        pl.when(pl.col("zone").is_null())
        .then(_in_utc(pl.col("local"), zone))
        .otherwise((pl.col("local") - pl.col("offset")).dt.replace_time_zone("UTC"))
    ).to_series()


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
