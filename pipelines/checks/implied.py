"""Rules a contract's schema implies without a quality rule: required and primary-key columns
not null and unique, a landed text column readable as its logical type, and the pattern,
length and range options of a logical type."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..contracts import ContractProperty, date_format
from .suite import (
    NONE_FAILING,
    CheckRule,
    Expectation,
    check_name,
    is_number,
    sensitive,
    structural,
)

if TYPE_CHECKING:
    from .rules import Translator

# A text column's value for a logical type; nulls are not checked (that is `required`).
_TEXT_TYPE_REGEX = {
    "integer": r"^[+-]?[0-9]+$",
    "number": r"^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?$",
    "boolean": r"^(true|false|True|False|TRUE|FALSE|0|1)$",
    "timestamp": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?"
    r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?$",
    "time": r"^[0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?$",
}


def implicit(
    t: Translator, j: int, prop: ContractProperty, explicit: set[str], *, single_key: bool
) -> None:
    place = f"schema[0].properties[{j}]"
    col = prop.name
    if (prop.required or prop.primary_key) and "nullValues" not in explicit:
        t.add(
            structural(
                check_name(col, "not_null"), f"{place}.required", f"{col} required (no nulls)",
                [Expectation("expect_column_values_to_not_be_null", {"column": col})], [col],
            )
        )  # fmt: skip
    if (prop.unique or (prop.primary_key and single_key)) and "duplicateValues" not in explicit:
        t.add(
            structural(
                check_name(col, "unique"),
                f"{place}.{'unique' if prop.unique else 'primaryKey'}", f"{col} unique",
                [Expectation("expect_column_values_to_be_unique", {"column": col})], [col],
            )
        )  # fmt: skip
    options = prop.logical_type_options
    if t.text:
        text_type(t, place, prop)
    if "pattern" in options:
        pattern = t.regex(options["pattern"], f"{place}.logicalTypeOptions.pattern")
        if pattern is not None:
            _warning(t, prop, "pattern", f"{place}.logicalTypeOptions.pattern",
                     f"{col} matches {pattern}",
                     Expectation("expect_column_values_to_match_regex",
                                 {"column": col, "regex": pattern}))  # fmt: skip
    lengths = {k: options[k] for k in ("minLength", "maxLength") if k in options}
    if lengths:
        bad = [k for k, v in lengths.items() if not isinstance(v, int) or isinstance(v, bool)]
        for k in bad:
            t.fail(f"{place}.logicalTypeOptions.{k}", f"must be an integer, not {options[k]!r}")
        if not bad:
            _warning(t, prop, "length", f"{place}.logicalTypeOptions",
                     f"{col} length " + ", ".join(f"{k} {v}" for k, v in lengths.items()),
                     Expectation("expect_column_value_lengths_to_be_between",
                                 {"column": col, "min_value": lengths.get("minLength"),
                                  "max_value": lengths.get("maxLength")}))  # fmt: skip
    bounds = {
        k: options[k]
        for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
        if k in options
    }
    if bounds and prop.logical_type in ("integer", "number"):
        range_rule(t, place, prop, bounds)


def _warning(
    t: Translator, prop: ContractProperty, kind: str, place: str, rule: str,
    expectation: Expectation, **more: Any,
) -> None:  # fmt: skip
    """A rule a logical type's options imply: no row may fail it, and a failure warns."""
    t.add(CheckRule(name=check_name(prop.name, kind), place=place, rule=rule,
                    expectations=(expectation,), threshold=NONE_FAILING, blocking=False,
                    severity="warning", columns=(prop.name,), show_values=not sensitive(prop),
                    **more))  # fmt: skip


def text_type(t: Translator, place: str, prop: ContractProperty) -> None:
    """A text column's values against its logical type (no check for string)."""
    col, logical = prop.name, prop.logical_type
    expectation: Expectation | None = None
    if logical in ("date", "timestamp", "time") and "format" in prop.logical_type_options:
        fmt = strftime(t, prop.logical_type_options["format"], f"{place}.logicalTypeOptions.format")
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
        _warning(t, prop, "type", f"{place}.logicalType", f"{col} reads as {logical}", expectation)


def strftime(t: Translator, fmt: Any, place: str) -> str | None:
    out, why = date_format(fmt, polars=False)
    if out is None:
        t.fail(place, why)
    return out


def range_rule(
    t: Translator, place: str, prop: ContractProperty, bounds: Mapping[str, Any]
) -> None:
    bad = [k for k, v in bounds.items() if not is_number(v)]
    for k in bad:
        t.fail(f"{place}.logicalTypeOptions.{k}", f"must be a number, not {bounds[k]!r}")
    if bad:
        return
    col = prop.name
    target = f"{col}__number" if t.text else col
    kwargs: dict[str, Any] = {"column": target}
    if "exclusiveMinimum" in bounds:
        kwargs.update(min_value=bounds["exclusiveMinimum"], strict_min=True)
    elif "minimum" in bounds:
        kwargs.update(min_value=bounds["minimum"])
    if "exclusiveMaximum" in bounds:
        kwargs.update(max_value=bounds["exclusiveMaximum"], strict_max=True)
    elif "maximum" in bounds:
        kwargs.update(max_value=bounds["maximum"])
    _warning(t, prop, "range", f"{place}.logicalTypeOptions",
             f"{col} " + ", ".join(f"{k} {v}" for k, v in bounds.items()),
             Expectation("expect_column_values_to_be_between", kwargs),
             numeric_column=col if t.text else None)  # fmt: skip
