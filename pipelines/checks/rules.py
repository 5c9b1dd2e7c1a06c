"""Contract rules translated into checks: what each ODCS quality rule, schema property and
logical type of a contract becomes (`CheckRule`: its expectations, operator and threshold,
severity), once, when the definitions are built. A rule that cannot be evaluated is a
`ContractError` naming the contract file and the rule's place. The vocabulary is described in
`pipelines.checks`; the rules a schema implies are `implied`, sql rules `sql`, custom
(Great Expectations) rules `custom`, library metrics are translated here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Literal

from ..contracts import (
    Contract,
    ContractError,
    ContractProperty,
    Problem,
    Project,
    SourceContract,
    StagedContract,
)
from . import custom, implied, sql
from .suite import (
    OPERATORS,
    PROPERTY_METRICS,
    SCHEMA_METRICS,
    SEVERITIES,
    AssetSuite,
    CheckRule,
    Expectation,
    Threshold,
    asset_key,
    check_name,
    is_number,
    relation,
    sensitive,
    structural,
)


class Translator:
    """Turns one contract into its `CheckRule`s, collecting every problem before raising."""

    def __init__(self, contract: Contract):
        self.contract = contract
        self.file = str(contract.file)
        self.problems: list[Problem] = []
        self.rules: list[CheckRule] = []
        self.text = isinstance(contract, SourceContract)
        self.columns = {p.name: j for j, p in enumerate(contract.properties)}
        self.relation = relation(contract)

    def sensitive(self, column: str) -> bool:
        return sensitive(self.contract.properties[self.columns[column]])

    def fail(self, place: str, message: str) -> None:
        self.problems.append(Problem(self.file, place, message))

    def add(self, rule: CheckRule, alternative: str = "") -> None:
        taken = {r.name for r in self.rules}
        name = rule.name
        if name in taken and alternative:
            name = check_name(rule.name, alternative)
        n = 2
        while name in taken:
            name, n = check_name(rule.name, str(n)), n + 1
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
                and all(is_number(v) for v in value)
                and value[0] <= value[1]
            )
            if not ok:
                self.fail(f"{place}.{op}", f"must be two numbers, smallest first, not {value!r}")
                return None
            value = (float(value[0]), float(value[1]))
        elif not is_number(value):
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
                structural(
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
            implied.implicit(
                self, j, prop, explicit.get(prop.name, set()), single_key=len(keys) == 1
            )
        if len(keys) > 1:
            names = tuple(p.name for p in keys)
            self.add(
                structural(
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

    def quality(self, q: Mapping[str, Any], place: str, prop: ContractProperty | None) -> None:
        kind = q.get("type", "library")
        if kind == "text":
            return  # documentation for people; nothing to evaluate
        if kind == "sql":
            sql.sql_rule(self, q, place, prop)
            return
        if kind == "custom":
            custom.custom_rule(self, q, place, prop)
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
        name = check_name(prop.name, metric) if prop is not None else metric
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
                and not sensitive(prop)
                and metric in ("invalidValues", "missingValues"),
                description=str(q.get("description") or "").strip(),
            ),
            alternative=str(label),
        )

    def rule_name(self, q: Mapping[str, Any], prop: ContractProperty | None, kind: str) -> str:
        """The rule's own `name` as a check name, else <col>_<kind> (or <kind> on the schema)."""
        given = check_name(str(q.get("name") or ""))
        return given or check_name(prop.name if prop is not None else "", kind)

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
    return Translator(contract).translate()


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
        key = asset_key(contract)
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
        if key_column is not None and sensitive(contract.property_named(key_column)):
            key_column = None  # a PII key is never shown; record numbers are
        suites.append(
            AssetSuite(
                contract=contract,
                asset_key=key,
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
