"""A contract's `type: custom` rules: one Great Expectations expectation each, its arguments
checked by the expectation itself (pydantic) when the definitions are built, without data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import yaml

from ..contracts import ContractProperty
from ..contracts.schema import did_you_mean
from .gx import expectation_classes
from .suite import NONE_FAILING, CheckRule, Expectation

if TYPE_CHECKING:
    from .rules import Translator

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


def _pydantic_errors(exc: Exception) -> str:
    """An expectation's argument errors, one per argument (a Union type reports one per arm)."""
    errors = exc.errors() if hasattr(exc, "errors") else []
    first: dict[str, str] = {}
    for e in errors:
        loc = ".".join(str(p) for p in e.get("loc", ()) if p != "__root__")
        extra = e.get("type") == "value_error.extra"
        first.setdefault(loc, "is not an argument of it" if extra else str(e.get("msg")))
    return "; ".join(f"{loc}: {msg}" if loc else msg for loc, msg in first.items()) or str(exc)


def custom_rule(
    t: Translator, q: Mapping[str, Any], place: str, prop: ContractProperty | None
) -> None:
    """One Great Expectations expectation, run in the asset's validation; it passes when the
    expectation succeeds."""
    severity = t.severity(q, place)
    engine = q.get("engine")
    if engine != "great-expectations":
        t.fail(f"{place}.engine", f"custom rules run on great-expectations, not {engine!r}; "
               "for SQL write a type: sql rule")  # fmt: skip
        return
    expectation = implementation(t, q.get("implementation"), f"{place}.implementation", prop)
    if expectation is None or severity is None:
        return
    columns = expectation_columns(t, expectation, f"{place}.implementation.kwargs")
    if columns is None:
        return
    subject = f"{prop.name} " if prop is not None else ""
    own = ("column", prop.name if prop is not None else None)  # named by the subject already
    args = ", ".join(f"{k}={v!r}" for k, v in expectation.kwargs.items() if (k, v) != own)
    t.add(
        CheckRule(
            name=t.rule_name(q, prop, "custom"),
            place=place,
            rule=f"{subject}{expectation.type}({args}) succeeds",
            expectations=(expectation,),
            threshold=NONE_FAILING,  # not used: the expectation decides
            blocking=severity == "error",
            severity=severity,
            columns=columns,
            measure="custom",
            show_values=not any(t.sensitive(c) for c in columns),
            description=str(q.get("description") or "").strip(),
        )
    )


def implementation(
    t: Translator, implementation: Any, place: str, prop: ContractProperty | None
) -> Expectation | None:
    """{type, kwargs} (or the same as YAML/JSON text, or just the expectation's name) as an
    `Expectation` whose arguments Great Expectations accepts."""
    spec = implementation
    if isinstance(spec, str):
        try:
            spec = yaml.safe_load(spec)
        except yaml.YAMLError as exc:
            t.fail(place, f"is not YAML or JSON: {str(exc).splitlines()[0]}")
            return None
        spec = {"type": spec} if isinstance(spec, str) else spec
    if not isinstance(spec, Mapping):
        t.fail(place, "must name an expectation and its arguments: {type: "
               "expect_column_values_to_be_between, kwargs: {min_value: 0}}")  # fmt: skip
        return None
    extra = [k for k in spec if k not in ("type", "expectation_type", "kwargs")]
    names = [k for k in ("type", "expectation_type") if k in spec]
    if extra or len(names) != 1:
        where = f"{place}.{extra[0]}" if extra else place
        t.fail(where, "takes type (or expectation_type) and kwargs")
        return None
    cls = expectation_classes().get(str(spec[names[0]]))
    if cls is None:
        known = sorted(k for k in expectation_classes() if k.startswith("expect_"))
        hint = did_you_mean(str(spec[names[0]]), known)
        t.fail(f"{place}.{names[0]}", f"{spec[names[0]]!r} is not a Great Expectations "
               f"expectation{hint}")  # fmt: skip
        return None
    kind = cls.expectation_type  # type: ignore[attr-defined]
    if kind in _UNSUPPORTED_EXPECTATIONS:
        t.fail(f"{place}.{names[0]}", f"{kind} {_UNSUPPORTED_EXPECTATIONS[kind]}")
        return None
    kwargs = spec.get("kwargs") or {}
    if not isinstance(kwargs, Mapping):
        t.fail(f"{place}.kwargs", f"must be a mapping of arguments, not {kwargs!r}")
        return None
    kwargs = dict(kwargs)
    reserved = [k for k in kwargs if k in _RESERVED_KWARGS]
    if reserved:
        t.fail(f"{place}.kwargs.{reserved[0]}", _RESERVED_KWARGS[reserved[0]])
        return None
    if kwargs.get("condition_parser") not in (None, "great_expectations"):
        # pandas conditions are DataFrame.query expressions: Python evaluated on the data
        t.fail(f"{place}.kwargs.condition_parser", "only great_expectations conditions "
               "run here")  # fmt: skip
        return None
    takes_column = "column" in getattr(cls, "__fields__", {})
    if prop is not None and takes_column and "column" not in kwargs:
        kwargs["column"] = prop.name
    try:  # the expectation validates its own arguments (pydantic), without any data
        cls(**kwargs)
    except (ValueError, TypeError) as exc:
        t.fail(f"{place}.kwargs", f"{kind} rejects these arguments: {_pydantic_errors(exc)}")
        return None
    return Expectation(kind, kwargs)


def expectation_columns(
    t: Translator, expectation: Expectation, place: str
) -> tuple[str, ...] | None:
    """The contract columns an expectation reads; None (and a problem) for any other."""
    kwargs = expectation.kwargs
    named = [(k, kwargs[k]) for k in ("column", "column_A", "column_B") if k in kwargs]
    named += [(f"column_list[{i}]", c) for i, c in enumerate(kwargs.get("column_list") or ())]
    for key, column in named:
        if column not in t.columns:
            hint = did_you_mean(str(column), t.columns)
            t.fail(f"{place}.{key}", f"{column!r} is not a property of the contract{hint}")
            return None
    return tuple(dict.fromkeys(c for _, c in named))
