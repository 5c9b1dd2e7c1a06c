"""A contract's `type: sql` rules: a query DuckDB runs on the asset's data. Its placeholders
become quoted identifiers (the asset's relation, the rule's column), never values, and the
query must parse as one SELECT before a run can start."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import duckdb

from ..contracts import ContractProperty
from .suite import CheckRule, quoted

if TYPE_CHECKING:
    from .rules import Translator

# A sql rule's placeholders: ${name} (ODCS), and the bare {object} / {property} some tools write.
_PLACEHOLDER = re.compile(r"\$\{\s*([A-Za-z_]\w*)\s*\}|\{(object|property)\}")
_TABLE_WORDS = ("table", "object")  # the asset's data
_COLUMN_WORDS = ("column", "property")  # the rule's property


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


def sql_rule(
    t: Translator, q: Mapping[str, Any], place: str, prop: ContractProperty | None
) -> None:
    """A query DuckDB runs on the asset's data; its one number is compared like a metric."""
    severity = t.severity(q, place)
    threshold = t.threshold(q, place, no_percent="a query's value is compared as it is; "
                            "leave unit out")  # fmt: skip
    query = q.get("query")
    if not isinstance(query, str) or not query.strip():
        t.fail(f"{place}.query", f"must be a SELECT query, not {query!r}")
        return
    sql = placeholders(t, query, f"{place}.query", prop)
    problem = _statement_problem(sql) if sql is not None else None
    if problem:
        t.fail(f"{place}.query", problem)
    if severity is None or threshold is None or sql is None or problem:
        return
    value = list(threshold.value) if isinstance(threshold.value, tuple) else threshold.value
    subject = f"{prop.name} " if prop is not None else ""
    t.add(
        CheckRule(
            name=t.rule_name(q, prop, "sql"),
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


def placeholders(
    t: Translator, query: str, place: str, prop: ContractProperty | None
) -> str | None:
    """`query` with ${table} and ${column} as quoted identifiers of the asset's relation and
    the rule's property: only names are pasted into SQL, never values."""
    wrong: list[str] = []

    def name(match: re.Match[str]) -> str:
        word = match.group(1) or match.group(2)
        if word in _TABLE_WORDS:
            return quoted(t.relation)
        if word in _COLUMN_WORDS and prop is not None:
            return quoted(prop.name)
        wrong.append(match.group())
        return match.group()

    sql = _PLACEHOLDER.sub(name, query)
    if not wrong:
        return sql
    word = _PLACEHOLDER.fullmatch(wrong[0])
    if word and (word.group(1) or word.group(2)) in _COLUMN_WORDS:
        t.fail(place, f"{wrong[0]} stands for the rule's property, and a rule on the "
               "schema object has none: name the column in the query")  # fmt: skip
    else:
        t.fail(place, f"{wrong[0]} is not a placeholder; use ${{table}} for the asset's "
               "data or, on a property, ${column}")  # fmt: skip
    return None
