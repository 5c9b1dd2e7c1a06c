"""Contract rules as Dagster asset checks, evaluated with Great Expectations 1.x (sql: DuckDB).

Every contract becomes the checks of one asset: a source contract checks
``raw/<source_system>_<object_name>`` (every column text, as landed), the golden contract checks
``golden/<entity>`` (typed columns), each read from its Parquet intermediate. The rules are
translated once, when the definitions are built; a rule this module cannot evaluate is a
`ContractError` then, naming the contract file and the rule's place
(``contracts/billing_customers.odcs.yaml: schema[0].properties[3].quality[1]: ...``).

What becomes a check (check name, Great Expectations expectation; blocking or not):

- every ``required: true`` column exists (``schema``; expect_column_to_exist, and for typed data
  such as golden tables each column's Parquet type against its logicalType) - blocking;
- ``required: true`` (``<col>_not_null``; expect_column_values_to_not_be_null) - blocking;
- ``unique: true`` or a one-column ``primaryKey`` (``<col>_unique``;
  expect_column_values_to_be_unique) - blocking; a primary key of several columns
  (``primary_key_unique``; expect_compound_columns_to_be_unique) - blocking;
- a text column's ``logicalType`` (``<col>_type``): integer, number, boolean, timestamp and time
  by expect_column_values_to_match_regex, date by expect_column_values_to_match_strftime_format
  (its ``logicalTypeOptions.format``, default yyyy-MM-dd; so 30/02 fails); string: no check -
  warning;
- ``logicalTypeOptions.pattern`` (``<col>_pattern``; expect_column_values_to_match_regex, a
  search as in JSON schema) - warning;
- ``minLength``/``maxLength`` (``<col>_length``; expect_column_value_lengths_to_be_between) -
  warning;
- ``minimum``/``maximum``/``exclusiveMinimum``/``exclusiveMaximum`` of integer and number
  (``<col>_range``; expect_column_values_to_be_between, on a text column's numeric value) -
  warning;
- the ODCS library metrics, blocking when ``severity: error``:
  ``nullValues`` (``<col>_nullValues``; expect_column_values_to_not_be_null),
  ``missingValues`` (``<col>_missingValues``; expect_column_values_to_not_be_in_set, plus
  expect_column_values_to_not_be_null when the list holds null),
  ``invalidValues`` (``<col>_invalidValues``; expect_column_values_to_be_in_set for
  ``validValues``, expect_column_values_to_match_regex for ``pattern``),
  ``duplicateValues`` (``<col>_duplicateValues``; expect_column_values_to_be_unique; on the
  schema object with ``arguments.properties``: ``duplicateValues``,
  expect_compound_columns_to_be_unique) and
  ``rowCount`` (``rowCount``; expect_table_row_count_to_be_between, for its observed value);
- ``type: sql`` rules (the rule's ``name``, else ``<col>_sql`` / ``sql``, then ``_2``, ...;
  DuckDB, not Great Expectations), blocking when ``severity: error``: the ``query`` returns one
  number, compared with the rule's operator as a metric's count is (``unit`` other than rows is
  a load-time error). ``${table}`` / ``${object}`` / ``{object}`` stand for the asset's data,
  on a property ``${column}`` / ``${property}`` / ``{property}`` for its column; each becomes a
  quoted identifier (the data is the relation ``<layer>_<name>``, e.g.
  ``raw_billing_customers``), never a value. Each query runs in a fresh in-memory DuckDB where
  the asset's Parquet file is registered as an Arrow dataset (scanned lazily, only the columns
  the query names) and file, network and extension access are then switched off and locked: the
  query can read that data and nothing else. No row, several rows or columns, a text, null or a
  SQL error fail the check, with the reason (quoted data values redacted) in its metadata;
- ``type: custom`` rules with ``engine: great-expectations`` (the rule's ``name``, else
  ``<col>_custom`` / ``custom``), blocking when ``severity: error``: ``implementation`` names one
  expectation, ``{type: expect_column_values_to_be_between, kwargs: {min_value: 0}}`` (also as
  YAML/JSON text, with ``expectation_type``, or by class name, ExpectColumnValuesToBeBetween); on
  a property ``column`` defaults to it. It joins the asset's one validation and passes when the
  expectation succeeds; its metadata shows the expectation, its arguments, GE's unexpected count
  and percent (of non-null values), and failing keys as for the metrics.

Pass or fail is decided here, not by Great Expectations: each expectation measures (failing
rows, or the row count), and the rule's ODCS operator (``mustBe``, ``mustNotBe``,
``mustBeGreaterThan``, ``mustBeGreaterOrEqualTo``, ``mustBeLessThan``,
``mustBeLessOrEqualTo``, ``mustBeBetween`` and ``mustNotBeBetween``, both bounds inclusive) is
applied to that count, or with ``unit: percent`` to ``100 * failing / rows`` (all rows of the
asset, nulls included). Implicit rules (required, unique, primary key, logical type, pattern,
length, range) must have no failing row. Counting follows Great Expectations: nulls are neither
invalid, missing (unless ``missingValues`` lists null) nor duplicated; ``duplicateValues``
counts every row whose value occurs more than once. Logical-type options not listed above
(``format: email``, ``multipleOf``, date bounds) are descriptive and not checked.

Blocking: ``severity: error`` and the implicit required / unique / primary-key rules (and
``schema``) make the check blocking (`AssetCheckSpec(blocking=True)`, results of severity
ERROR): downstream assets do not run when it fails. ``warning``, ``info`` or no severity is a
warning: reported with severity WARN, never blocking. A contract's explicit rule replaces the
implicit one of the same meaning on that column (``nullValues`` replaces ``<col>_not_null``,
``duplicateValues`` replaces ``<col>_unique``), so the contract decides the tolerance and the
severity, e.g. that a few null keys are quarantined and only more than 1% stop the run.

Not evaluated, hence load-time errors: a metric at the wrong level, missing or unexpected
arguments, a regex Python cannot compile, a threshold that is not a number, ``unit`` other than
rows/percent, a percent ``rowCount`` and a severity other than error/warning/info; a sql query
that DuckDB cannot parse or that is not ONE SELECT (or WITH ... SELECT) statement (COPY, CREATE,
ATTACH, SET, INSTALL, two statements: parsed by `duckdb` ``extract_statements``, never run), an
unknown ``${...}`` placeholder and ``${column}`` on the schema object; a custom rule on another
engine, an expectation Great Expectations does not have (or one this project cannot run: those
issuing their own query or comparing the table's whole column list), arguments the expectation
rejects (it is built when the contract loads: its pydantic validation speaks) or sets itself
(``meta``, ``result_format``, ...), a non-GE ``condition_parser``, and a column the contract
does not declare. Great Expectations is imported to load a contract only when it has a custom
rule (the import costs ~5 s). ``type: text`` rules are documentation and make no check
(`pipelines.assets` lists them in the asset's metadata).

Each asset's checks are ONE `dg.multi_asset_check`: it reads only the columns its selected
rules need (plus the key column and the ``_record``/``_line`` locators the landing adds), and
runs ONE validation with the whole suite (sql rules beside it, one DuckDB query each). Each
result's metadata carries the expectation(s) it ran (or the query, its value and time), the
failing count and percent, the operator and threshold, and up to 20 failing keys (the contract's
key for sources; the primary key, ``golden_id``, for golden) and record numbers; never a value
of a PII-tagged or classified column (failing values are shown only for unclassified columns
other than the key).

Owners: Dagster 1.13's `AssetCheckSpec` has no ``owners`` (and its snapshot keeps no spec
metadata), so a check's owners - the contract team's owners from ownership.yaml, the same as
its asset's - are carried where Dagster keeps them: the check's description (shown in the UI),
the spec metadata (``owners``, ``team``, read by code such as ``mdm owners``), the op tag
``mdm/team`` of the check's step, and each result's metadata.
"""

import difflib
import functools
import logging
import math
import re
import threading
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import yaml
from dagster import AssetCheckExecutionContext

from .contracts import (
    Contract,
    ContractError,
    ContractProperty,
    GoldenContract,
    Problem,
    Project,
    SourceContract,
    StagedContract,
)
from .warehouse import WarehouseResource

if TYPE_CHECKING:
    import pandas as pd

SAMPLE_SIZE = 20  # failing keys (and record numbers) shown per check
SQL_TIMEOUT_SECONDS = 600  # a sql rule's query, at most (it then fails its check)
LOCATORS = ("_record", "_line")  # internal columns the landing adds that locate a row
OPERATORS = (
    "mustBe",
    "mustNotBe",
    "mustBeGreaterThan",
    "mustBeGreaterOrEqualTo",
    "mustBeLessThan",
    "mustBeLessOrEqualTo",
    "mustBeBetween",
    "mustNotBeBetween",
)
SEVERITIES = ("error", "warning", "info")
PROPERTY_METRICS = ("nullValues", "missingValues", "invalidValues", "duplicateValues")
SCHEMA_METRICS = ("rowCount", "duplicateValues")
VISIBLE_CLASSIFICATIONS = (None, "", "public")  # columns whose failing values may be shown

# A text column's value for a logical type; nulls are not checked (that is `required`).
_TEXT_TYPE_REGEX = {
    "integer": r"^[+-]?[0-9]+$",
    "number": r"^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?$",
    "boolean": r"^(true|false|True|False|TRUE|FALSE|0|1)$",
    "timestamp": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?"
    r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?$",
    "time": r"^[0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?$",
}
# JDK DateTimeFormatter letters (ODCS date formats) -> strftime, longest first.
_JAVA_DATE_TOKENS = (
    ("yyyy", "%Y"), ("yy", "%y"), ("MMMM", "%B"), ("MMM", "%b"), ("MM", "%m"), ("dd", "%d"),
    ("HH", "%H"), ("mm", "%M"), ("ss", "%S"), ("SSSSSS", "%f"), ("SSS", "%f"),
)  # fmt: skip
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
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_]+")
# A sql rule's placeholders: ${name} (ODCS), and the bare {object} / {property} some tools write.
_PLACEHOLDER = re.compile(r"\$\{\s*([A-Za-z_]\w*)\s*\}|\{(object|property)\}")
_TABLE_WORDS = ("table", "object")  # the asset's data
_COLUMN_WORDS = ("column", "property")  # the rule's property
_QUOTED = re.compile(r"'(?:[^']|'')*'")  # a quoted literal in a DuckDB error message
# Custom expectations this project cannot run as a custom rule, and why.
_UNSUPPORTED_EXPECTATIONS = dict.fromkeys(
    ("unexpected_rows_expectation", "expect_query_results_to_match_comparison",
     "expect_table_row_count_to_equal_other_table"),
    "runs a query or reads another table; write a type: sql rule instead",
) | dict.fromkeys(
    ("expect_table_columns_to_match_set", "expect_table_columns_to_match_ordered_list",
     "expect_table_column_count_to_equal", "expect_table_column_count_to_be_between"),
    "compares the table's whole column list, but a validation here reads only the columns its "
    "rules name; the schema check covers the contract's columns",
)  # fmt: skip
# Expectation arguments this project sets itself (meta routes results to checks, result_format
# is the suite's), or that would mean something else in a contract.
_RESERVED_KWARGS = {
    "id": "is set by Great Expectations",
    "meta": "is set by this project (it routes each result to its check)",
    "result_format": "is set by this project for the whole validation",
    "rendered_content": "is set by Great Expectations",
    "windows": "is not used here",
    "batch_id": "is set by Great Expectations",
    "severity": "is the rule's own severity (error, warning, info), not an argument",
}


# --- the translated rules ----------------------------------------------------------------------


@dataclass(frozen=True)
class Expectation:
    """One Great Expectations expectation, by type (``expect_...``) and arguments."""

    type: str
    kwargs: Mapping[str, Any]


@dataclass(frozen=True)
class Threshold:
    """An ODCS operator and its value, applied to a count of rows or to a percent."""

    operator: str
    value: float | tuple[float, float]
    unit: Literal["rows", "percent"] = "rows"

    def holds(self, measured: float) -> bool:
        v = self.value
        if self.operator in ("mustBeBetween", "mustNotBeBetween"):
            lo, hi = v  # type: ignore[misc]
            inside = lo <= measured <= hi
            return inside if self.operator == "mustBeBetween" else not inside
        x = float(v)  # type: ignore[arg-type]
        return {
            "mustBe": measured == x,
            "mustNotBe": measured != x,
            "mustBeGreaterThan": measured > x,
            "mustBeGreaterOrEqualTo": measured >= x,
            "mustBeLessThan": measured < x,
            "mustBeLessOrEqualTo": measured <= x,
        }[self.operator]

    def __str__(self) -> str:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return f"{self.operator} {value} {self.unit}"


NONE_FAILING = Threshold("mustBe", 0, "rows")


@dataclass(frozen=True)
class CheckRule:
    """One contract rule as one asset check."""

    name: str  # the Dagster check name
    place: str  # where the rule is in the contract file
    rule: str  # what it demands, for people: "cust_no duplicateValues mustBe 0 rows"
    expectations: tuple[Expectation, ...]
    threshold: Threshold
    blocking: bool
    severity: str  # error / warning / info as the contract says; implicit rules: "error"
    columns: tuple[str, ...] = ()  # data columns the rule reads
    # failing: the count of failing rows; row_count; schema; sql: the value of `sql` (DuckDB);
    # custom: the expectation's own success
    measure: Literal["failing", "row_count", "schema", "sql", "custom"] = "failing"
    show_values: bool = False  # failing values may appear in metadata (never PII)
    description: str = ""
    numeric_column: str | None = None  # a text column checked on its numeric value
    query: str = ""  # a sql rule's query as the contract writes it
    sql: str = ""  # ... with its placeholders replaced by quoted identifiers: what DuckDB runs


@dataclass(frozen=True)
class AssetSuite:
    """Every rule of one contract, on the asset that holds its data."""

    contract: Contract
    asset_key: dg.AssetKey
    location: tuple[str, str]  # WarehouseResource.intermediate(*location)
    key_column: str | None  # failing rows are shown by this column's values
    text: bool  # the data is all text (a landed source)
    rules: tuple[CheckRule, ...]
    owners: tuple[str, ...] = ()
    team: str = ""
    schema_types: Mapping[str, str] = field(default_factory=dict)  # column -> logicalType

    def rule(self, name: str) -> CheckRule:
        return next(r for r in self.rules if r.name == name)


def _check_name(*parts: str) -> str:
    name = "_".join(_NAME_CHARS.sub("_", p).strip("_") for p in parts if p)
    return name if not name[:1].isdigit() else f"c_{name}"


def _quoted(name: str) -> str:
    """A DuckDB identifier for any name (a sql rule's placeholders become these, never values)."""
    return '"' + name.replace('"', '""') + '"'


def _asset_key(contract: Contract) -> dg.AssetKey:
    """The asset whose data the contract checks."""
    if isinstance(contract, SourceContract):
        return dg.AssetKey(["raw", contract.dataset])
    if isinstance(contract, StagedContract):
        return dg.AssetKey(["staged", contract.entity])
    assert isinstance(contract, GoldenContract)
    return dg.AssetKey(["golden", contract.entity])


def _relation(contract: Contract) -> str:
    """What a sql rule's ${table} names: the asset's key joined by _ (raw_billing_customers,
    golden_customer); a query may also use that name itself."""
    return _check_name(*_asset_key(contract).path)


def _statement_problem(sql: str) -> str | None:
    """Why `sql` is not one SELECT statement, parsed (never run) by a fresh DuckDB."""
    try:
        with duckdb.connect() as con:
            statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        return f"is not SQL DuckDB can parse: {str(exc).splitlines()[0]}"
    kinds = [s.type.name for s in statements]
    if kinds != ["SELECT"]:
        what = " + ".join(kinds) if kinds else "nothing"
        return f"must be one SELECT (or WITH ... SELECT) statement, not {what}"
    return None


@functools.cache
def _expectation_classes() -> dict[str, type]:
    """Great Expectations' expectations by type (expect_...) and by class name; imports Great
    Expectations, so only called for custom rules and validations."""
    gx = _quiet_great_expectations()
    base = gx.expectations.Expectation
    out: dict[str, type] = {}
    for name in dir(gx.expectations):
        cls = getattr(gx.expectations, name)
        if isinstance(cls, type) and issubclass(cls, base) and cls.expectation_type:
            out[cls.expectation_type] = out[name] = cls
    return out


def _pydantic_errors(exc: Exception) -> str:
    """An expectation's argument errors, one per argument (a Union type reports one per arm)."""
    errors = exc.errors() if hasattr(exc, "errors") else []
    first: dict[str, str] = {}
    for e in errors:
        loc = ".".join(str(p) for p in e.get("loc", ()) if p != "__root__")
        extra = e.get("type") == "value_error.extra"
        first.setdefault(loc, "is not an argument of it" if extra else str(e.get("msg")))
    return "; ".join(f"{loc}: {msg}" if loc else msg for loc, msg in first.items()) or str(exc)


def _close(word: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _sensitive(prop: ContractProperty) -> bool:
    return prop.pii or prop.classification not in VISIBLE_CLASSIFICATIONS


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class _Translator:
    """Turns one contract into its `CheckRule`s, collecting every problem before raising."""

    def __init__(self, contract: Contract):
        self.contract = contract
        self.file = str(contract.file)
        self.problems: list[Problem] = []
        self.rules: list[CheckRule] = []
        self.text = isinstance(contract, SourceContract)
        self.columns = {p.name: j for j, p in enumerate(contract.properties)}
        self.relation = _relation(contract)

    def sensitive(self, column: str) -> bool:
        return _sensitive(self.contract.properties[self.columns[column]])

    def fail(self, place: str, message: str) -> None:
        self.problems.append(Problem(self.file, place, message))

    def add(self, rule: CheckRule, alternative: str = "") -> None:
        taken = {r.name for r in self.rules}
        name = rule.name
        if name in taken and alternative:
            name = _check_name(rule.name, alternative)
        n = 2
        while name in taken:
            name, n = _check_name(rule.name, str(n)), n + 1
        self.rules.append(rule if name == rule.name else replace(rule, name=name))

    # -- operators, units, severity

    def threshold(
        self, q: Mapping[str, Any], place: str, *, no_percent: str = ""
    ) -> Threshold | None:
        given = [op for op in OPERATORS if op in q]
        if len(given) != 1:
            what = "no operator" if not given else f"{len(given)} operators ({', '.join(given)})"
            self.fail(place, f"needs exactly one of {', '.join(OPERATORS)}, not {what}")
            return None
        op = given[0]
        value = q[op]
        if op in ("mustBeBetween", "mustNotBeBetween"):
            ok = (
                isinstance(value, list | tuple)
                and len(value) == 2
                and all(_number(v) for v in value)
                and value[0] <= value[1]
            )
            if not ok:
                self.fail(f"{place}.{op}", f"must be two numbers, smallest first, not {value!r}")
                return None
            value = (float(value[0]), float(value[1]))
        elif not _number(value):
            self.fail(f"{place}.{op}", f"must be a number to compare a count with, not {value!r}")
            return None
        unit = q.get("unit", "rows")
        if unit not in ("rows", "percent"):
            self.fail(f"{place}.unit", f"must be rows or percent, not {unit!r}")
            return None
        if unit == "percent" and no_percent:
            self.fail(f"{place}.unit", no_percent)
            return None
        return Threshold(op, value, unit)

    def severity(self, q: Mapping[str, Any], place: str) -> str | None:
        severity = q.get("severity", "warning")
        if severity not in SEVERITIES:
            self.fail(
                f"{place}.severity",
                f"must be {', '.join(SEVERITIES)} (error blocks the run), not {severity!r}",
            )
            return None
        return severity

    def regex(self, pattern: Any, place: str) -> str | None:
        if not isinstance(pattern, str) or not pattern:
            self.fail(place, f"must be a regular expression, not {pattern!r}")
            return None
        try:
            re.compile(pattern)
        except re.error as exc:
            self.fail(place, f"is not a regular expression Python can use: {exc}")
            return None
        return pattern

    def values(self, values: Any, place: str, *, allow_null: bool) -> list[Any] | None:
        if not isinstance(values, list) or not values:
            self.fail(place, f"must be a non-empty list of values, not {values!r}")
            return None
        out: list[Any] = []
        for i, v in enumerate(values):
            if v is None and allow_null:
                out.append(None)
            elif isinstance(v, bool) and self.text:
                self.fail(f"{place}[{i}]", f"YAML reads this as {v}; quote it: '{v}'")
                return None
            elif isinstance(v, str | int | float):
                out.append(str(v) if self.text else v)
            else:
                self.fail(f"{place}[{i}]", f"must be a text or number value, not {v!r}")
                return None
        return out

    # -- the contract

    def translate(self) -> list[CheckRule]:
        contract = self.contract
        explicit = self.explicit_metrics()
        required = [p for p in contract.properties if p.required]
        if required:
            self.add(
                CheckRule(
                    name="schema",
                    place="schema[0].properties",
                    rule="required columns exist"
                    + ("" if self.text else "; typed columns match their logicalType"),
                    expectations=tuple(
                        Expectation("expect_column_to_exist", {"column": p.name}) for p in required
                    ),
                    threshold=NONE_FAILING,
                    blocking=True,
                    severity="error",
                    columns=tuple(p.name for p in required),
                    measure="schema",
                    description="Every required column of the contract is in the data.",
                )
            )
        keys = [p for p in contract.properties if p.primary_key]
        for j, prop in enumerate(contract.properties):
            self.implicit(j, prop, explicit.get(prop.name, set()), single_key=len(keys) == 1)
        if len(keys) > 1:
            names = tuple(p.name for p in keys)
            self.add(
                CheckRule(
                    name="primary_key_unique",
                    place="schema[0].properties",
                    rule=f"primary key ({', '.join(names)}) unique",
                    expectations=(
                        Expectation(
                            "expect_compound_columns_to_be_unique", {"column_list": list(names)}
                        ),
                    ),  # fmt: skip
                    threshold=NONE_FAILING,
                    blocking=True,
                    severity="error",
                    columns=names,
                )
            )
        for j, prop in enumerate(contract.properties):
            for k, q in enumerate(prop.quality):
                self.quality(q, f"schema[0].properties[{j}].quality[{k}]", prop)
        for k, q in enumerate(contract.quality):
            self.quality(q, f"schema[0].quality[{k}]", None)
        if self.problems:
            raise ContractError(self.problems)
        return self.rules

    def explicit_metrics(self) -> dict[str, set[str]]:
        """Library metrics each property states itself (they replace implicit rules)."""
        out: dict[str, set[str]] = {}
        for prop in self.contract.properties:
            for q in prop.quality:
                if q.get("type", "library") == "library" and isinstance(q.get("metric"), str):
                    out.setdefault(prop.name, set()).add(q["metric"])
        return out

    def implicit(
        self, j: int, prop: ContractProperty, explicit: set[str], *, single_key: bool
    ) -> None:
        place = f"schema[0].properties[{j}]"
        col = prop.name
        if (prop.required or prop.primary_key) and "nullValues" not in explicit:
            self.add(
                CheckRule(
                    name=_check_name(col, "not_null"),
                    place=f"{place}.required",
                    rule=f"{col} required (no nulls)",
                    expectations=(
                        Expectation("expect_column_values_to_not_be_null", {"column": col}),
                    ),
                    threshold=NONE_FAILING,
                    blocking=True,
                    severity="error",
                    columns=(col,),
                )
            )
        if (prop.unique or (prop.primary_key and single_key)) and "duplicateValues" not in explicit:
            self.add(
                CheckRule(
                    name=_check_name(col, "unique"),
                    place=f"{place}.{'unique' if prop.unique else 'primaryKey'}",
                    rule=f"{col} unique",
                    expectations=(
                        Expectation("expect_column_values_to_be_unique", {"column": col}),
                    ),
                    threshold=NONE_FAILING,
                    blocking=True,
                    severity="error",
                    columns=(col,),
                )
            )
        options = prop.logical_type_options
        show = not _sensitive(prop)
        warn = {"threshold": NONE_FAILING, "blocking": False, "severity": "warning"}
        if self.text:
            self.text_type(place, prop, show, warn)
        if "pattern" in options:
            pattern = self.regex(options["pattern"], f"{place}.logicalTypeOptions.pattern")
            if pattern is not None:
                self.add(
                    CheckRule(
                        name=_check_name(col, "pattern"),
                        place=f"{place}.logicalTypeOptions.pattern",
                        rule=f"{col} matches {pattern}",
                        expectations=(
                            Expectation(
                                "expect_column_values_to_match_regex",
                                {"column": col, "regex": pattern},
                            ),
                        ),  # fmt: skip
                        columns=(col,),
                        show_values=show,
                        **warn,
                    )
                )
        lengths = {k: options[k] for k in ("minLength", "maxLength") if k in options}
        if lengths:
            bad = [k for k, v in lengths.items() if not isinstance(v, int) or isinstance(v, bool)]
            for k in bad:
                self.fail(
                    f"{place}.logicalTypeOptions.{k}", f"must be an integer, not {options[k]!r}"
                )
            if not bad:
                self.add(
                    CheckRule(
                        name=_check_name(col, "length"),
                        place=f"{place}.logicalTypeOptions",
                        rule=f"{col} length " + ", ".join(f"{k} {v}" for k, v in lengths.items()),
                        expectations=(
                            Expectation(
                                "expect_column_value_lengths_to_be_between",
                                {
                                    "column": col,
                                    "min_value": lengths.get("minLength"),
                                    "max_value": lengths.get("maxLength"),
                                },
                            ),
                        ),  # fmt: skip
                        columns=(col,),
                        show_values=show,
                        **warn,
                    )
                )
        bounds = {
            k: options[k]
            for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
            if k in options
        }
        if bounds and prop.logical_type in ("integer", "number"):
            self.range_rule(place, prop, bounds, show, warn)

    def text_type(
        self, place: str, prop: ContractProperty, show: bool, warn: Mapping[str, Any]
    ) -> None:
        """A text column's values against its logical type (no check for string)."""
        col, logical = prop.name, prop.logical_type
        expectation: Expectation | None = None
        if logical in ("date", "timestamp", "time") and "format" in prop.logical_type_options:
            fmt = self.strftime(
                prop.logical_type_options["format"], f"{place}.logicalTypeOptions.format"
            )
            if fmt is not None:
                expectation = Expectation(
                    "expect_column_values_to_match_strftime_format",
                    {"column": col, "strftime_format": fmt},
                )
        elif logical == "date":
            expectation = Expectation(
                "expect_column_values_to_match_strftime_format",
                {"column": col, "strftime_format": "%Y-%m-%d"},
            )
        elif logical in _TEXT_TYPE_REGEX:
            expectation = Expectation(
                "expect_column_values_to_match_regex",
                {"column": col, "regex": _TEXT_TYPE_REGEX[logical]},
            )
        if expectation is not None:
            self.add(
                CheckRule(
                    name=_check_name(col, "type"),
                    place=f"{place}.logicalType",
                    rule=f"{col} reads as {logical}",
                    expectations=(expectation,),
                    columns=(col,),
                    show_values=show,
                    **warn,
                )
            )

    def strftime(self, fmt: Any, place: str) -> str | None:
        if not isinstance(fmt, str) or not fmt:
            self.fail(place, f"must be a date format such as yyyy-MM-dd, not {fmt!r}")
            return None
        out, i = "", 0
        while i < len(fmt):
            if fmt[i] == "'":  # a quoted literal, e.g. 'T'
                end = fmt.find("'", i + 1)
                if end < 0:
                    self.fail(place, f"unterminated quote in {fmt!r}")
                    return None
                out += fmt[i + 1 : end].replace("%", "%%")
                i = end + 1
                continue
            token = next((t for t in _JAVA_DATE_TOKENS if fmt.startswith(t[0], i)), None)
            if token:
                out, i = out + token[1], i + len(token[0])
            elif fmt[i].isalpha():
                self.fail(place, f"the letter {fmt[i]!r} in {fmt!r} is not a date field this "
                          "project reads (yyyy, yy, MMM, MM, dd, HH, mm, ss, SSS)")  # fmt: skip
                return None
            else:
                out, i = out + fmt[i].replace("%", "%%"), i + 1
        return out

    def range_rule(
        self,
        place: str,
        prop: ContractProperty,
        bounds: Mapping[str, Any],
        show: bool,
        warn: Mapping[str, Any],
    ) -> None:
        bad = [k for k, v in bounds.items() if not _number(v)]
        for k in bad:
            self.fail(f"{place}.logicalTypeOptions.{k}", f"must be a number, not {bounds[k]!r}")
        if bad:
            return
        col = prop.name
        target = f"{col}__number" if self.text else col
        kwargs: dict[str, Any] = {"column": target}
        if "exclusiveMinimum" in bounds:
            kwargs.update(min_value=bounds["exclusiveMinimum"], strict_min=True)
        elif "minimum" in bounds:
            kwargs.update(min_value=bounds["minimum"])
        if "exclusiveMaximum" in bounds:
            kwargs.update(max_value=bounds["exclusiveMaximum"], strict_max=True)
        elif "maximum" in bounds:
            kwargs.update(max_value=bounds["maximum"])
        self.add(
            CheckRule(
                name=_check_name(col, "range"),
                place=f"{place}.logicalTypeOptions",
                rule=f"{col} " + ", ".join(f"{k} {v}" for k, v in bounds.items()),
                expectations=(Expectation("expect_column_values_to_be_between", kwargs),),
                columns=(col,),
                show_values=show,
                numeric_column=col if self.text else None,
                **warn,
            )
        )

    def quality(self, q: Mapping[str, Any], place: str, prop: ContractProperty | None) -> None:
        kind = q.get("type", "library")
        if kind == "text":
            return  # documentation for people; nothing to evaluate
        if kind == "sql":
            self.sql_rule(q, place, prop)
            return
        if kind == "custom":
            self.custom_rule(q, place, prop)
            return
        metric = q.get("metric")
        if kind != "library" or not isinstance(metric, str):
            self.fail(place, f"needs a library metric, not type {kind!r} / metric {metric!r}")
            return
        level = PROPERTY_METRICS if prop is not None else SCHEMA_METRICS
        if metric not in level:
            where = "a property" if prop is not None else "the schema object"
            self.fail(f"{place}.metric", f"{metric!r} cannot be evaluated on {where}; "
                      f"the metrics there are {', '.join(level)}")  # fmt: skip
            return
        severity = self.severity(q, place)
        no_percent = "a row count has no percent; use rows" if metric == "rowCount" else ""
        threshold = self.threshold(q, place, no_percent=no_percent)
        arguments = q.get("arguments") or {}
        if not isinstance(arguments, Mapping):
            self.fail(f"{place}.arguments", f"must be a mapping, not {arguments!r}")
            return
        built = self.metric(metric, arguments, place, prop)
        if severity is None or threshold is None or built is None:
            return
        expectations, columns, measure = built
        subject = f"{prop.name} " if prop is not None else ""
        name = _check_name(prop.name, metric) if prop is not None else metric
        label = q.get("id") or q.get("name") or ""
        self.add(
            CheckRule(
                name=name,
                place=place,
                rule=f"{subject}{metric} {threshold}",
                expectations=expectations,
                threshold=threshold,
                blocking=severity == "error",
                severity=severity,
                columns=columns,
                measure=measure,
                show_values=prop is not None
                and not _sensitive(prop)
                and metric in ("invalidValues", "missingValues"),
                description=str(q.get("description") or "").strip(),
            ),
            alternative=str(label),
        )

    def sql_rule(self, q: Mapping[str, Any], place: str, prop: ContractProperty | None) -> None:
        """A query DuckDB runs on the asset's data; its one number is compared like a metric."""
        severity = self.severity(q, place)
        threshold = self.threshold(q, place, no_percent="a query's value is compared as it is; "
                                   "leave unit out")  # fmt: skip
        query = q.get("query")
        if not isinstance(query, str) or not query.strip():
            self.fail(f"{place}.query", f"must be a SELECT query, not {query!r}")
            return
        sql = self.placeholders(query, f"{place}.query", prop)
        problem = _statement_problem(sql) if sql is not None else None
        if problem:
            self.fail(f"{place}.query", problem)
        if severity is None or threshold is None or sql is None or problem:
            return
        value = list(threshold.value) if isinstance(threshold.value, tuple) else threshold.value
        subject = f"{prop.name} " if prop is not None else ""
        self.add(
            CheckRule(
                name=self.rule_name(q, prop, "sql"),
                place=place,
                rule=f"{subject}sql value {threshold.operator} {value}",
                expectations=(),
                threshold=threshold,
                blocking=severity == "error",
                severity=severity,
                measure="sql",
                description=str(q.get("description") or "").strip(),
                query=query,
                sql=sql,
            )
        )

    def placeholders(self, query: str, place: str, prop: ContractProperty | None) -> str | None:
        """`query` with ${table} and ${column} as quoted identifiers of the asset's relation and
        the rule's property: only names are pasted into SQL, never values."""
        wrong: list[str] = []

        def name(match: re.Match[str]) -> str:
            word = match.group(1) or match.group(2)
            if word in _TABLE_WORDS:
                return _quoted(self.relation)
            if word in _COLUMN_WORDS and prop is not None:
                return _quoted(prop.name)
            wrong.append(match.group())
            return match.group()

        sql = _PLACEHOLDER.sub(name, query)
        if not wrong:
            return sql
        word = _PLACEHOLDER.fullmatch(wrong[0])
        if word and (word.group(1) or word.group(2)) in _COLUMN_WORDS:
            self.fail(place, f"{wrong[0]} stands for the rule's property, and a rule on the "
                      "schema object has none: name the column in the query")  # fmt: skip
        else:
            self.fail(place, f"{wrong[0]} is not a placeholder; use ${{table}} for the asset's "
                      "data or, on a property, ${column}")  # fmt: skip
        return None

    def rule_name(self, q: Mapping[str, Any], prop: ContractProperty | None, kind: str) -> str:
        """The rule's own `name` as a check name, else <col>_<kind> (or <kind> on the schema)."""
        given = _check_name(str(q.get("name") or ""))
        return given or _check_name(prop.name if prop is not None else "", kind)

    def custom_rule(self, q: Mapping[str, Any], place: str, prop: ContractProperty | None) -> None:
        """One Great Expectations expectation, run in the asset's validation; it passes when the
        expectation succeeds."""
        severity = self.severity(q, place)
        engine = q.get("engine")
        if engine != "great-expectations":
            self.fail(f"{place}.engine", f"custom rules run on great-expectations, not {engine!r}; "
                      "for SQL write a type: sql rule")  # fmt: skip
            return
        expectation = self.implementation(q.get("implementation"), f"{place}.implementation", prop)
        if expectation is None or severity is None:
            return
        columns = self.expectation_columns(expectation, f"{place}.implementation.kwargs")
        if columns is None:
            return
        subject = f"{prop.name} " if prop is not None else ""
        own = ("column", prop.name if prop is not None else None)  # named by the subject already
        args = ", ".join(f"{k}={v!r}" for k, v in expectation.kwargs.items() if (k, v) != own)
        self.add(
            CheckRule(
                name=self.rule_name(q, prop, "custom"),
                place=place,
                rule=f"{subject}{expectation.type}({args}) succeeds",
                expectations=(expectation,),
                threshold=NONE_FAILING,  # not used: the expectation decides
                blocking=severity == "error",
                severity=severity,
                columns=columns,
                measure="custom",
                show_values=not any(self.sensitive(c) for c in columns),
                description=str(q.get("description") or "").strip(),
            )
        )

    def implementation(
        self, implementation: Any, place: str, prop: ContractProperty | None
    ) -> Expectation | None:
        """{type, kwargs} (or the same as YAML/JSON text, or just the expectation's name) as an
        `Expectation` whose arguments Great Expectations accepts."""
        spec = implementation
        if isinstance(spec, str):
            try:
                spec = yaml.safe_load(spec)
            except yaml.YAMLError as exc:
                self.fail(place, f"is not YAML or JSON: {str(exc).splitlines()[0]}")
                return None
            spec = {"type": spec} if isinstance(spec, str) else spec
        if not isinstance(spec, Mapping):
            self.fail(place, "must name an expectation and its arguments: {type: "
                      "expect_column_values_to_be_between, kwargs: {min_value: 0}}")  # fmt: skip
            return None
        extra = [k for k in spec if k not in ("type", "expectation_type", "kwargs")]
        names = [k for k in ("type", "expectation_type") if k in spec]
        if extra or len(names) != 1:
            where = f"{place}.{extra[0]}" if extra else place
            self.fail(where, "takes type (or expectation_type) and kwargs")
            return None
        cls = _expectation_classes().get(str(spec[names[0]]))
        if cls is None:
            known = sorted(k for k in _expectation_classes() if k.startswith("expect_"))
            hint = _close(str(spec[names[0]]), known)
            self.fail(f"{place}.{names[0]}", f"{spec[names[0]]!r} is not a Great Expectations "
                      f"expectation{hint}")  # fmt: skip
            return None
        kind = cls.expectation_type  # type: ignore[attr-defined]
        if kind in _UNSUPPORTED_EXPECTATIONS:
            self.fail(f"{place}.{names[0]}", f"{kind} {_UNSUPPORTED_EXPECTATIONS[kind]}")
            return None
        kwargs = spec.get("kwargs") or {}
        if not isinstance(kwargs, Mapping):
            self.fail(f"{place}.kwargs", f"must be a mapping of arguments, not {kwargs!r}")
            return None
        kwargs = dict(kwargs)
        reserved = [k for k in kwargs if k in _RESERVED_KWARGS]
        if reserved:
            self.fail(f"{place}.kwargs.{reserved[0]}", _RESERVED_KWARGS[reserved[0]])
            return None
        if kwargs.get("condition_parser") not in (None, "great_expectations"):
            # pandas conditions are DataFrame.query expressions: Python evaluated on the data
            self.fail(f"{place}.kwargs.condition_parser", "only great_expectations conditions "
                      "run here")  # fmt: skip
            return None
        takes_column = "column" in getattr(cls, "__fields__", {})
        if prop is not None and takes_column and "column" not in kwargs:
            kwargs["column"] = prop.name
        try:  # the expectation validates its own arguments (pydantic), without any data
            cls(**kwargs)
        except (ValueError, TypeError) as exc:
            self.fail(f"{place}.kwargs", f"{kind} rejects these arguments: {_pydantic_errors(exc)}")
            return None
        return Expectation(kind, kwargs)

    def expectation_columns(self, expectation: Expectation, place: str) -> tuple[str, ...] | None:
        """The contract columns an expectation reads; None (and a problem) for any other."""
        kwargs = expectation.kwargs
        named = [(k, kwargs[k]) for k in ("column", "column_A", "column_B") if k in kwargs]
        named += [(f"column_list[{i}]", c) for i, c in enumerate(kwargs.get("column_list") or ())]
        for key, column in named:
            if column not in self.columns:
                hint = _close(str(column), self.columns)
                self.fail(f"{place}.{key}", f"{column!r} is not a property of the contract{hint}")
                return None
        return tuple(dict.fromkeys(c for _, c in named))

    def metric(
        self,
        metric: str,
        arguments: Mapping[str, Any],
        place: str,
        prop: ContractProperty | None,
    ) -> tuple[tuple[Expectation, ...], tuple[str, ...], Literal["failing", "row_count"]] | None:
        allowed = {
            "nullValues": (),
            "missingValues": ("missingValues",),
            "invalidValues": ("validValues", "pattern"),
            "duplicateValues": () if prop is not None else ("properties",),
            "rowCount": (),
        }[metric]
        extra = [a for a in arguments if a not in allowed]
        if extra:
            takes = f"takes {', '.join(allowed)}" if allowed else "takes no arguments"
            self.fail(f"{place}.arguments.{extra[0]}", f"{metric} {takes}")
            return None
        args = f"{place}.arguments"
        if metric == "rowCount":
            return (Expectation("expect_table_row_count_to_be_between", {"min_value": 0}),), (
            ), "row_count"  # fmt: skip
        if prop is None:  # schema-level duplicateValues: a compound key
            names = arguments.get("properties")
            if not isinstance(names, list) or not names:
                self.fail(f"{args}.properties", "duplicateValues on the schema needs the list "
                          "of properties whose combination must be unique")  # fmt: skip
                return None
            unknown = [n for n in names if n not in self.columns]
            if unknown:
                self.fail(f"{args}.properties", f"{unknown[0]!r} is not a property")
                return None
            compound = Expectation("expect_compound_columns_to_be_unique",
                                   {"column_list": list(names)})  # fmt: skip
            return (compound,), tuple(names), "failing"
        col = prop.name
        if metric == "nullValues":
            return (
                (Expectation("expect_column_values_to_not_be_null", {"column": col}),),
                (col,),
                "failing",
            )
        if metric == "duplicateValues":
            return (
                (Expectation("expect_column_values_to_be_unique", {"column": col}),),
                (col,),
                "failing",
            )
        if metric == "missingValues":
            if "missingValues" not in arguments:
                self.fail(args, "missingValues needs arguments.missingValues: the values that "
                          "count as missing, e.g. [null, '', 'N/A']")  # fmt: skip
                return None
            values = self.values(arguments["missingValues"], f"{args}.missingValues",
                                 allow_null=True)  # fmt: skip
            if values is None:
                return None
            present = [v for v in values if v is not None]
            out: list[Expectation] = []
            if present:
                out.append(
                    Expectation("expect_column_values_to_not_be_in_set",
                                {"column": col, "value_set": present})
                )  # fmt: skip
            if None in values:  # nulls and listed values are different rows: counts add up
                out.append(Expectation("expect_column_values_to_not_be_null", {"column": col}))
            return tuple(out), (col,), "failing"
        # invalidValues
        has = [a for a in ("validValues", "pattern") if a in arguments]
        if len(has) != 1:
            self.fail(args, "invalidValues needs exactly one of arguments.validValues (a list) "
                      "or arguments.pattern (a regular expression)")  # fmt: skip
            return None
        if has[0] == "pattern":
            pattern = self.regex(arguments["pattern"], f"{args}.pattern")
            if pattern is None:
                return None
            return (Expectation("expect_column_values_to_match_regex",
                                {"column": col, "regex": pattern}),), (col,), "failing"  # fmt: skip
        values = self.values(arguments["validValues"], f"{args}.validValues", allow_null=False)
        if values is None:
            return None
        return (Expectation("expect_column_values_to_be_in_set",
                            {"column": col, "value_set": values}),), (col,), "failing"  # fmt: skip


def contract_rules(contract: Contract) -> list[CheckRule]:
    """The check rules of one contract; `ContractError` naming file and place for each rule
    that cannot be evaluated."""
    return _Translator(contract).translate()


def asset_suites(project: Project) -> list[AssetSuite]:
    """One suite per contract: sources on raw/<system>_<object>, golden on golden/<entity>.

    Every contract is translated before anything is raised, so one `ContractError` lists every
    rule the project cannot evaluate."""
    suites: list[AssetSuite] = []
    problems: list[Problem] = []
    for contract in project.contracts:
        try:
            rules = contract_rules(contract)
        except ContractError as exc:
            problems.extend(exc.problems)
            continue
        team = project.ownership.team(contract.team)
        asset_key = _asset_key(contract)
        if isinstance(contract, SourceContract):
            key_column: str | None = contract.key
            location, text = ("raw", contract.dataset), True
        elif isinstance(contract, StagedContract):
            key_column = "source_key"  # with source_system: shown as the record's key
            location, text = ("staged", contract.entity), False
        else:
            keys = [p.name for p in contract.properties if p.primary_key]
            key_column = keys[0] if len(keys) == 1 else None
            location, text = ("golden", f"golden_{contract.entity}"), False
        if key_column is not None and _sensitive(contract.property_named(key_column)):
            key_column = None  # a PII key is never shown; record numbers are
        suites.append(
            AssetSuite(
                contract=contract,
                asset_key=asset_key,
                location=location,
                key_column=key_column,
                text=text,
                rules=tuple(rules),
                owners=tuple(team.owners),
                team=contract.team,
                schema_types={p.name: p.logical_type for p in contract.properties},
            )
        )
    if problems:
        raise ContractError(problems)
    return suites


# --- evaluation --------------------------------------------------------------------------------


def _quiet_great_expectations() -> Any:
    """Import Great Expectations (~5 s, so only inside a check) with its logs quiet."""
    for name in ("great_expectations", "great_expectations.core", "great_expectations.validator"):
        logging.getLogger(name).setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
        from great_expectations.execution_engine import pandas_execution_engine as engine
    # GE hashes every row of every in-memory batch for a fingerprint it only reports in the
    # batch markers (nothing reads it back): at 1M entities that cost ~70 s a run, more than
    # the validations. The data validated is the asset's Parquet file, named in the metadata.
    engine.hash_pandas_dataframe = _no_fingerprint
    return gx


def _no_fingerprint(frame: Any) -> str:
    return f"not computed ({len(frame):,} rows)"


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


def _load(path: Path, schema: pa.Schema, columns: Sequence[str]) -> "pd.DataFrame":
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
    extra: dict[str, Any] = {"query": rule.query, "relation": _relation(suite.contract)}
    try:
        value = _query_value(path, _relation(suite.contract), rule.sql)
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
    if not _number(value):  # the type is named, never the value itself
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

    gx = _quiet_great_expectations()
    context = _context(gx)  # before the suite: GE binds a suite to the current context
    expectation_suite = gx.ExpectationSuite(name=f"{suite.asset_key.to_user_string()} contract")
    missing: dict[str, list[str]] = {}
    for rule in rules:
        missing[rule.name] = [c for c in rule.columns if c not in present]
        if missing[rule.name] and rule.measure != "schema":
            continue  # reported as failed below, without running
        for i, exp in enumerate(rule.expectations):
            cls = _expectation_classes()[exp.type]
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
    locate: "pd.DataFrame",
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
    locate: "pd.DataFrame",
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
    suite: AssetSuite, rule: CheckRule, results: Sequence[Any], locate: "pd.DataFrame"
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
    suite: AssetSuite, rule: CheckRule, results: Sequence[Any], locate: "pd.DataFrame"
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


# --- Dagster definitions -----------------------------------------------------------------------


def _spec(suite: AssetSuite, rule: CheckRule) -> dg.AssetCheckSpec:
    kind = "blocking" if rule.blocking else "warning"
    text = rule.description or rule.rule
    description = (
        f"{text} [{rule.rule}; {kind}; {suite.contract.file.name} {rule.place}]"
        f" Owners: {', '.join(suite.owners)}."
    )
    return dg.AssetCheckSpec(
        rule.name,
        asset=suite.asset_key,
        description=description,
        blocking=rule.blocking,
        metadata={
            "contract": str(suite.contract.file),
            "place": rule.place,
            "rule": rule.rule,
            "severity": rule.severity,
            "expectations": [e.type for e in rule.expectations],
            **({"query": rule.query} if rule.measure == "sql" else {}),
            "team": suite.team,
            "owners": list(suite.owners),
        },
    )


def suite_checks(suite: AssetSuite) -> dg.AssetChecksDefinition:
    """One multi-asset check for every rule of `suite`: one Great Expectations validation, and a
    DuckDB query per sql rule."""

    @dg.multi_asset_check(
        specs=[_spec(suite, r) for r in suite.rules],
        name=f"{suite.asset_key.to_python_identifier()}_contract",
        description=f"{suite.contract.name}: every rule of {suite.contract.file.name}, "
        "in one Great Expectations validation (sql rules: DuckDB). "
        f"Owners: {', '.join(suite.owners)}.",
        can_subset=True,
        op_tags={"mdm/team": suite.team},
    )
    def contract_checks(
        context: AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[dg.AssetCheckResult]:
        names = [k.name for k in context.selected_asset_check_keys]
        started = time.perf_counter()
        results = validate_suite(suite, warehouse.intermediate(*suite.location), names)
        failed = [r.check_name for r in results if not r.passed]
        context.log.info(
            f"{suite.asset_key.to_user_string()}: {len(results)} contract checks in "
            f"{time.perf_counter() - started:.2f} s; failed: {', '.join(failed) or 'none'}"
        )
        yield from results

    return contract_checks


def build_checks(
    project: Project, asset_keys: Iterable[dg.AssetKey] | None = None
) -> list[dg.AssetChecksDefinition]:
    """The contract checks of `project`, one multi-asset check per contract whose asset is in
    `asset_keys` (default: all). Every contract's rules are translated, so a rule the project
    cannot evaluate raises `ContractError` even when its asset is not built yet."""
    suites = asset_suites(project)
    built = set(asset_keys) if asset_keys is not None else None
    return [suite_checks(s) for s in suites if s.rules and (built is None or s.asset_key in built)]


__all__ = [
    "AssetSuite",
    "CheckRule",
    "Expectation",
    "Threshold",
    "asset_suites",
    "build_checks",
    "contract_rules",
    "suite_checks",
    "validate_suite",
]
