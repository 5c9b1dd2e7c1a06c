"""Contract rules translated into checks: what each ODCS quality rule, schema property and
logical type of a contract becomes (`CheckRule`: its expectations, operator and threshold,
severity), once, when the definitions are built. A rule that cannot be evaluated is a
`ContractError` naming the contract file and the rule's place. The vocabulary is described in
`pipelines.checks`."""

from __future__ import annotations

import difflib
import functools
import logging
import math
import re
import threading
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import dagster as dg
import duckdb
import yaml

from ..contracts import (
    Contract,
    ContractError,
    ContractProperty,
    GoldenContract,
    Problem,
    Project,
    SourceContract,
    StagedContract,
    date_format,
)

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
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_]+")
# A sql rule's placeholders: ${name} (ODCS), and the bare {object} / {property} some tools write.
_PLACEHOLDER = re.compile(r"\$\{\s*([A-Za-z_]\w*)\s*\}|\{(object|property)\}")
_TABLE_WORDS = ("table", "object")  # the asset's data
_COLUMN_WORDS = ("column", "property")  # the rule's property
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


_IMPORTING = threading.Lock()


def _quiet_great_expectations() -> Any:
    """Import Great Expectations (~5 s, so only inside a check) with its logs quiet."""
    for name in ("great_expectations", "great_expectations.core", "great_expectations.validator"):
        logging.getLogger(name).setLevel(logging.ERROR)
    # one thread at a time: `catch_warnings` saves and restores the process's filters, and two
    # overlapping saves would leave "ignore" in force after both (the landing starts the import
    # on a thread of its own, a check may need it meanwhile)
    with _IMPORTING, warnings.catch_warnings():
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


def _structural(
    name: str, place: str, rule: str, expectations: list[Expectation], columns, **more: Any
) -> CheckRule:
    """A rule the contract's structure implies (required columns, not null, unique, the primary
    key): no failing row, blocking, severity error."""
    return CheckRule(name=name, place=place, rule=rule, expectations=tuple(expectations),
                     threshold=NONE_FAILING, blocking=True, severity="error",
                     columns=tuple(columns), **more)  # fmt: skip


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
                _structural(
                    "schema", "schema[0].properties",
                    "required columns exist"
                    + ("" if self.text else "; typed columns match their logicalType"),
                    [Expectation("expect_column_to_exist", {"column": p.name}) for p in required],
                    [p.name for p in required],
                    measure="schema",
                    description="Every required column of the contract is in the data.",
                )
            )  # fmt: skip
        keys = [p for p in contract.properties if p.primary_key]
        for j, prop in enumerate(contract.properties):
            self.implicit(j, prop, explicit.get(prop.name, set()), single_key=len(keys) == 1)
        if len(keys) > 1:
            names = tuple(p.name for p in keys)
            self.add(
                _structural(
                    "primary_key_unique", "schema[0].properties",
                    f"primary key ({', '.join(names)}) unique",
                    [Expectation("expect_compound_columns_to_be_unique",
                                 {"column_list": list(names)})],
                    names,
                )
            )  # fmt: skip
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
                _structural(
                    _check_name(col, "not_null"), f"{place}.required", f"{col} required (no nulls)",
                    [Expectation("expect_column_values_to_not_be_null", {"column": col})], [col],
                )
            )  # fmt: skip
        if (prop.unique or (prop.primary_key and single_key)) and "duplicateValues" not in explicit:
            self.add(
                _structural(
                    _check_name(col, "unique"),
                    f"{place}.{'unique' if prop.unique else 'primaryKey'}", f"{col} unique",
                    [Expectation("expect_column_values_to_be_unique", {"column": col})], [col],
                )
            )  # fmt: skip
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
        out, why = date_format(fmt, polars=False)
        if out is None:
            self.fail(place, why)
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
