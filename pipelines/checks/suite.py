"""The translated rules: what a contract's rules become (`CheckRule`: expectations, operator
and threshold, severity) and the suite of one contract's asset (`AssetSuite`), with the names
and quoting both the translation and the evaluation use."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import dagster as dg

from ..contracts import Contract, ContractProperty, GoldenContract, SourceContract, StagedContract

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

_NAME_CHARS = re.compile(r"[^A-Za-z0-9_]+")


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


def structural(
    name: str, place: str, rule: str, expectations: list[Expectation], columns, **more: Any
) -> CheckRule:
    """A rule the contract's structure implies (required columns, not null, unique, the primary
    key): no failing row, blocking, severity error."""
    return CheckRule(name=name, place=place, rule=rule, expectations=tuple(expectations),
                     threshold=NONE_FAILING, blocking=True, severity="error",
                     columns=tuple(columns), **more)  # fmt: skip


def check_name(*parts: str) -> str:
    name = "_".join(_NAME_CHARS.sub("_", p).strip("_") for p in parts if p)
    return name if not name[:1].isdigit() else f"c_{name}"


def quoted(name: str) -> str:
    """A DuckDB identifier for any name (a sql rule's placeholders become these, never values)."""
    return '"' + name.replace('"', '""') + '"'


def asset_key(contract: Contract) -> dg.AssetKey:
    """The asset whose data the contract checks."""
    if isinstance(contract, SourceContract):
        return dg.AssetKey(["raw", contract.dataset])
    if isinstance(contract, StagedContract):
        return dg.AssetKey(["staged", contract.entity])
    assert isinstance(contract, GoldenContract)
    return dg.AssetKey(["golden", contract.entity])


def relation(contract: Contract) -> str:
    """What a sql rule's ${table} names: the asset's key joined by _ (raw_billing_customers,
    golden_customer); a query may also use that name itself."""
    return check_name(*asset_key(contract).path)


def sensitive(prop: ContractProperty) -> bool:
    return prop.pii or prop.classification not in VISIBLE_CLASSIFICATIONS


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
