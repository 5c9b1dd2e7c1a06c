"""Evaluating rules of an asset: one Great Expectations validation over the asset's Parquet
(only the columns those rules test), sql rules each in a locked, in-memory DuckDB, and the
ODCS operator deciding pass or fail; results carry failing counts and key samples, never the
values of classified columns."""

from __future__ import annotations

import functools
import math
import re
import threading
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from .. import memory
from .gx import expectation_classes, quiet_great_expectations
from .suite import AssetSuite, CheckRule, is_number, relation

if TYPE_CHECKING:
    import pandas as pd


SAMPLE_SIZE = 20  # failing keys (and record numbers) shown per check
_ONE_VALIDATION = threading.Lock()  # see `_validate`
LOCATORS = ("_record", "_line")  # internal columns the landing adds that locate a row
SQL_TIMEOUT_SECONDS = 600  # a sql rule's query, at most (it then fails its check)


@functools.cache
def import_in_background() -> None:
    """Start importing Great Expectations (~5 s of Python) on a thread of its own, once per
    process. The landing calls it: its extracts' contract checks come next, and while the
    extracts are read (Polars, outside Python's lock) the import has the lock to itself. Started
    with the process instead, it took turns with Dagster's start-up for the lock: the run began
    ~5 s later, and the first check got Great Expectations no sooner."""
    threading.Thread(target=_import, daemon=True, name="import great_expectations").start()


def _import() -> None:
    quiet_great_expectations()
    memory.settled()  # its ~300,000 objects out of the collections at every step's end


_QUOTED = re.compile(r"'(?:[^']|'')*'")  # a quoted literal in a DuckDB error message
# Parquet types a typed column may have for each logical type (golden tables are typed).
_ARROW_TYPES = {
    "string": lambda t: pa.types.is_string(t) or pa.types.is_large_string(t),
    "integer": pa.types.is_integer,
    "number": lambda t: pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t),
    "boolean": pa.types.is_boolean,
    "date": pa.types.is_date,
    "timestamp": pa.types.is_timestamp,
    "time": pa.types.is_time,
    "object": pa.types.is_struct,
    "map": pa.types.is_map,
    "array": lambda t: pa.types.is_list(t) or pa.types.is_large_list(t),
}


def _context(gx: Any) -> Any:
    """An ephemeral, in-memory context: progress bars off (the supported switch in GE 1.x is
    the project config's ``progress_bars``), no usage statistics."""
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        analytics_enabled=False,
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _plain(value: Any) -> Any:
    """A JSON-able Python value (numpy scalars, NaN -> None)."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _type_mismatches(
    suite: AssetSuite, schema: pa.Schema, columns: Iterable[str]
) -> dict[str, str]:
    """Typed columns whose Parquet type does not fit the contract's logicalType."""
    out: dict[str, str] = {}
    for col in columns:
        if col not in schema.names:
            continue
        arrow = schema.field(col).type
        logical = suite.schema_types.get(col, "")
        if suite.text and (pa.types.is_string(arrow) or pa.types.is_large_string(arrow)):
            continue  # landed text; its values are checked by <col>_type
        fits = _ARROW_TYPES.get(logical)
        if fits is not None and not fits(arrow):
            out[col] = f"{arrow} is not {logical}"
    return out


def _load(path: Path, schema: pa.Schema, columns: Sequence[str]) -> pd.DataFrame:
    import pandas as pd

    wanted = [c for c in dict.fromkeys(columns) if c in schema.names]
    if not wanted:  # only the row count is needed: an index of that length, read from metadata
        rows = pq.ParquetFile(path).metadata.num_rows
        return pd.DataFrame(index=pd.RangeIndex(rows))
    # one chunk per column: Great Expectations filters its frame once per expectation, and
    # Arrow takes rows from one contiguous array at twice the speed of one per row group
    frame = pq.read_table(path, columns=wanted).combine_chunks().to_pandas()
    # Great Expectations compares int64 and float64 columns as arrays and any other number type
    # (uint32 counts, int32 versions) one Python value at a time: ~7 s per million-row run
    narrow = {c: "int64" if t.kind in "iu" else "float64" for c, t in frame.dtypes.items()
              if t.kind in "iuf" and t.itemsize < 8}  # fmt: skip
    return frame.astype(narrow) if narrow else frame


class _NotANumber(ValueError):
    """A sql rule's query ran but did not return one number."""


def _run_sql(suite: AssetSuite, rule: CheckRule, path: Path) -> dg.AssetCheckResult:
    """One sql rule on the Parquet file `path`. Whatever goes wrong in the contract's query (a
    SQL error, no row, a text) fails this check with the reason; the other checks still run."""
    started = time.perf_counter()
    extra: dict[str, Any] = {"query": rule.query, "relation": relation(suite.contract)}
    try:
        value = _query_value(path, relation(suite.contract), rule.sql)
    except _NotANumber as exc:
        passed, extra["error"] = False, str(exc)
    except Exception as exc:  # any failure of the query is this check's finding
        passed, extra["error"] = False, _redacted(f"{type(exc).__name__}: {exc}", rule.sql)
    else:
        passed, extra["value"] = rule.threshold.holds(value), value
    extra["elapsed_seconds"] = round(time.perf_counter() - started, 4)
    return _result(suite, rule, passed=passed, extra=extra)


def _query_value(path: Path, relation: str, sql: str) -> float | int:
    """The one number `sql` returns over the Parquet file `path`, registered as `relation` in a
    fresh in-memory DuckDB that then has no file or network access: the query reads the
    asset's data, lazily and only the columns it names, and nothing else."""
    with duckdb.connect(":memory:") as con:
        con.register(relation, pads.dataset(path, format="parquet"))
        # after the registration, which keeps working: no files, URLs, extensions or Python
        # objects from here on, and no SET can undo it
        for setting in ("enable_external_access", "autoinstall_known_extensions",
                        "autoload_known_extensions"):  # fmt: skip
            con.execute(f"SET {setting} = false")
        con.execute("SET lock_configuration = true")
        # a runaway query (a cross join of the asset with itself) fails its check, not the run
        timer = threading.Timer(SQL_TIMEOUT_SECONDS, con.interrupt)
        timer.start()
        try:
            return _one_number(con.sql(sql))
        except duckdb.InterruptException:
            raise _NotANumber(f"did not finish within {SQL_TIMEOUT_SECONDS} s") from None
        finally:
            timer.cancel()


def _one_number(result: duckdb.DuckDBPyRelation) -> float | int:
    """The one number of a query's result, or `_NotANumber` saying what it was instead."""
    if len(result.columns) != 1:
        names = ", ".join(result.columns)
        raise _NotANumber(f"returned {len(result.columns)} columns ({names}); a check needs "
                          "one number")  # fmt: skip
    rows = result.limit(2).fetchall()  # a third row is never computed
    if len(rows) != 1:
        raise _NotANumber(f"returned {'no row' if not rows else 'several rows'}; a check "
                          "needs exactly one")  # fmt: skip
    value = rows[0][0]
    if isinstance(value, Decimal):
        value = float(value)
    if not is_number(value):  # the type is named, never the value itself
        what = "null" if value is None else f"a {result.types[0]}"
        if isinstance(value, float):
            what = "NaN or infinity"
        raise _NotANumber(f"returned {what}, not a number")
    return value


def _redacted(message: str, sql: str) -> str:
    """A DuckDB error message without the quoted values it may carry from the data ("Could not
    convert string 'x@y.com' to INT32"); literals written in the query itself stay."""
    return _QUOTED.sub(lambda m: m.group() if m.group() in sql else "'...'", message)


def validate_suite(
    suite: AssetSuite, path: Path, names: Iterable[str] | None = None
) -> list[dg.AssetCheckResult]:
    """Run the rules called `names` (default: all) of `suite` on the Parquet file `path`: ONE
    Great Expectations validation for every rule but the sql ones, which DuckDB runs one by one
    on the same file; one `AssetCheckResult` per rule, in the suite's order."""
    selected = set(names) if names is not None else {r.name for r in suite.rules}
    rules = [r for r in suite.rules if r.name in selected]
    if not path.exists():
        return [_result(suite, r, passed=False, extra={"error": f"no data at {path}"})
                for r in rules]  # fmt: skip
    done = {r.name: _run_sql(suite, r, path) for r in rules if r.measure == "sql"}
    validated = [r for r in rules if r.measure != "sql"]
    if validated:  # sql rules alone need neither the frame nor Great Expectations (~5 s import)
        done.update((r.check_name, r) for r in _validate(suite, path, validated))
    return [done[r.name] for r in rules]


def _validate(
    suite: AssetSuite, path: Path, rules: Sequence[CheckRule]
) -> list[dg.AssetCheckResult]:
    """`rules` (no sql rule) on the Parquet file `path` as ONE Great Expectations validation."""
    schema = pq.read_schema(path)
    present = set(schema.names)
    locators = [c for c in LOCATORS if c in present]
    index_columns = ([suite.key_column] if suite.key_column in present else []) + locators
    tested = list(dict.fromkeys(c for r in rules for c in r.columns))
    loaded = _load(path, schema, [*index_columns, *tested])
    locate = loaded[index_columns]
    # Great Expectations copies every column of its frame for each expectation (its null
    # filter): the key and locator columns go to it only when a rule tests them
    frame = loaded[[c for c in loaded.columns if c in tested]]
    del loaded
    for rule in rules:
        if rule.numeric_column and rule.numeric_column in frame.columns:
            import pandas as pd

            column = frame[rule.numeric_column]
            frame[f"{rule.numeric_column}__number"] = pd.to_numeric(column, errors="coerce")

    # one validation at a time: Great Expectations keeps its current context in a global,
    # and the executor runs steps (checks among them) on threads (pipelines/executor.py)
    with _ONE_VALIDATION:
        gx = quiet_great_expectations()
        context = _context(gx)  # before the suite: GE binds a suite to the current context
        name = f"{suite.asset_key.to_user_string()} contract"
        expectation_suite = gx.ExpectationSuite(name=name)
        missing: dict[str, list[str]] = {}
        for rule in rules:
            missing[rule.name] = [c for c in rule.columns if c not in present]
            if missing[rule.name] and rule.measure != "schema":
                continue  # reported as failed below, without running
            for i, exp in enumerate(rule.expectations):
                cls = expectation_classes()[exp.type]
                expectation_suite.add_expectation(
                    cls(**exp.kwargs, meta={"check": rule.name, "part": i})
                )
        outcome: dict[str, list[Any]] = {r.name: [] for r in rules}
        if expectation_suite.expectations:
            batch = (
                context.data_sources.add_pandas("mdm")
                .add_dataframe_asset(suite.asset_key.to_python_identifier())
                .add_batch_definition_whole_dataframe("whole")
                .get_batch(batch_parameters={"dataframe": frame})
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                validation = batch.validate(
                    expectation_suite,
                    result_format={
                        "result_format": "SUMMARY",
                        "partial_unexpected_count": SAMPLE_SIZE,
                        # Row labels only: asking GE for key columns here
                        # (unexpected_index_column_names) makes it build a dict per failing row,
                        # ~100x slower when many rows fail; the keys are looked up below instead.
                        "return_unexpected_index_query": False,
                    },
                )
            for result in validation.results:
                outcome[result.expectation_config.meta["check"]].append(result)
    return [
        _evaluate(suite, rule, outcome[rule.name], missing[rule.name], schema, locate)
        for rule in rules
    ]


def _evaluate(
    suite: AssetSuite,
    rule: CheckRule,
    results: Sequence[Any],
    missing: Sequence[str],
    schema: pa.Schema,
    locate: pd.DataFrame,
) -> dg.AssetCheckResult:
    """One rule's result from its expectations' results; `locate` holds the key and locator
    columns of every row, for the failing keys."""
    rows = len(locate)
    errors = [
        str(r.exception_info.get("exception_message"))
        for r in results
        if (r.exception_info or {}).get("raised_exception")
    ]
    extra: dict[str, Any] = {}
    if rule.measure == "schema":
        mismatches = _type_mismatches(suite, schema, suite.schema_types)
        failing = sum(not r.success for r in results) + len(mismatches)
        extra["missing_columns"] = dg.MetadataValue.json(list(missing))
        if mismatches:
            extra["type_mismatches"] = dg.MetadataValue.json(mismatches)
        measured: float = failing
        errors = []  # a missing column is the finding, not an error
    elif missing:
        extra["missing_columns"] = dg.MetadataValue.json(list(missing))
        return _result(suite, rule, passed=False, extra=extra)
    elif rule.measure == "custom":
        return _custom_result(suite, rule, results, errors, locate)
    elif rule.measure == "row_count":
        observed = results[0].result.get("observed_value") if results else None
        failing, measured = 0, int(observed if observed is not None else rows)
    else:
        failing = sum(int(r.result.get("unexpected_count") or 0) for r in results)
        percent = 100.0 * failing / rows if rows else 0.0
        measured = percent if rule.threshold.unit == "percent" else failing
        extra["failing_percent"] = round(percent, 4)
        extra.update(_sample_metadata(suite, rule, results, locate))
    if errors:
        extra["error"] = "; ".join(errors)
    passed = not errors and rule.threshold.holds(measured)
    if rule.measure != "row_count":
        extra["failing_count"] = failing
    extra.update(measured=round(measured, 4), rows=rows)
    return _result(suite, rule, passed=passed, extra=extra)


def _custom_result(
    suite: AssetSuite,
    rule: CheckRule,
    results: Sequence[Any],
    errors: Sequence[str],
    locate: pd.DataFrame,
) -> dg.AssetCheckResult:
    """A custom rule passes when its expectation succeeds; the metadata shows what Great
    Expectations reports of it, the arguments (the contract's, not data) and failing keys."""
    reported = (results[0].result or {}) if results else {}
    extra: dict[str, Any] = {
        "expectation_kwargs": dg.MetadataValue.json(dict(rule.expectations[0].kwargs)),
        "rows": len(locate),
    }
    if reported.get("unexpected_count") is not None:
        extra["unexpected_count"] = int(reported["unexpected_count"])
    if reported.get("unexpected_percent") is not None:  # GE's share: of the non-null values
        extra["unexpected_percent"] = round(float(reported["unexpected_percent"]), 4)
    if rule.show_values and reported.get("observed_value") is not None:
        extra["observed_value"] = _plain(reported["observed_value"])  # e.g. a mean; never PII
    extra.update(_sample_metadata(suite, rule, results, locate))
    if errors:
        extra["error"] = "; ".join(errors)
    passed = bool(results) and not errors and bool(results[0].success)
    return _result(suite, rule, passed=passed, extra=extra)


def _sample_metadata(
    suite: AssetSuite, rule: CheckRule, results: Sequence[Any], locate: pd.DataFrame
) -> dict[str, Any]:
    keys, records, values = _samples(suite, rule, results, locate)
    extra: dict[str, Any] = {}
    if suite.key_column and keys:
        extra["failing_keys"] = dg.MetadataValue.json(keys)
        extra["key_column"] = suite.key_column
    if records:
        extra["failing_records"] = dg.MetadataValue.json(records)
    if values:
        extra["failing_values"] = dg.MetadataValue.json(values)
    return extra


def _samples(
    suite: AssetSuite, rule: CheckRule, results: Sequence[Any], locate: pd.DataFrame
) -> tuple[list[Any], list[Any], list[Any]]:
    """Up to SAMPLE_SIZE failing keys, record numbers and (for columns that may be shown)
    values. Great Expectations gives the failing rows' labels; their key and locator values are
    read from `locate`, never the tested column's values unless the rule may show them."""
    labels: list[Any] = []
    values: list[Any] = []
    for result in results:
        labels.extend(result.result.get("partial_unexpected_index_list") or ())
        if rule.show_values and suite.key_column not in rule.columns:
            shown = map(_plain, result.result.get("partial_unexpected_list") or ())
            values.extend(v for v in shown if v is not None)
    rows = locate.loc[sorted(set(labels))[:SAMPLE_SIZE]]  # in row order
    keys = rows[suite.key_column].map(_plain).tolist() if suite.key_column in rows else []
    records = [_plain(v) for c in LOCATORS if c in rows for v in rows[c]]
    return _first(keys), _first(records), _first(values)


def _first(values: Iterable[Any]) -> list[Any]:
    """The first SAMPLE_SIZE distinct values, in order."""
    return list(dict.fromkeys(values))[:SAMPLE_SIZE]


def _result(
    suite: AssetSuite, rule: CheckRule, *, passed: bool, extra: Mapping[str, Any]
) -> dg.AssetCheckResult:
    metadata: dict[str, Any] = {}
    if rule.expectations:
        metadata["expectation"] = ", ".join(dict.fromkeys(e.type for e in rule.expectations))
    else:
        metadata["engine"] = "duckdb"  # a sql rule
    if rule.measure != "custom":  # a custom rule's expectation decides by itself
        value = rule.threshold.value
        metadata["operator"] = rule.threshold.operator
        metadata["threshold"] = (
            dg.MetadataValue.json(list(value)) if isinstance(value, tuple) else value
        )
    if rule.measure not in ("custom", "sql"):
        metadata["unit"] = rule.threshold.unit
    metadata |= {
        "rule": rule.rule,
        "severity": rule.severity,
        "blocking": rule.blocking,
        "contract": str(suite.contract.file),
        "place": rule.place,
        "owners": dg.MetadataValue.json(list(suite.owners)),
        **extra,
    }
    return dg.AssetCheckResult(
        asset_key=suite.asset_key,
        check_name=rule.name,
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR if rule.blocking else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
    )
