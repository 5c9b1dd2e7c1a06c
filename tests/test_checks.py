"""Contract rules as asset checks (pipelines/checks/): which checks the repository's contracts
make and which of them block, load-time errors for rules the project cannot evaluate, and real
Great Expectations validations: the committed sample passes every check; a planted duplicate key
fails the blocking check with the key (and no PII) in its metadata; a warning is reported
without blocking; percent thresholds decide on the share of rows. `type: sql` rules run in a
sandboxed DuckDB (one number, compared like a metric; no file access; only SELECT loads) and
`type: custom` Great Expectations rules run in the asset's validation."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest

import pipelines.checks.evaluate as checks_evaluation
from conftest import ROOT, copy_project, edit_contract
from pipelines.assets import asset_teams, build_assets
from pipelines.checks import (
    AssetSuite,
    Threshold,
    asset_suites,
    build_checks,
    suite_checks,
    validate_suite,
)
from pipelines.contracts import ContractError, Project, load_project
from pipelines.graph import JOB, build_definitions
from pipelines.settings import load_settings
from pipelines.warehouse import WarehouseResource

RAW_BILLING = dg.AssetKey(["raw", "billing_customers"])
STAGED = dg.AssetKey(["staged", "customer"])

# --- helpers ----------------------------------------------------------------------------------


def _edit_rows(path: Path, edit: Callable[[list[list[str]]], None], sep: str = ",") -> None:
    """Edit a sample CSV as rows of fields (none of the edited samples quote fields)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = [line.split(sep) for line in lines]
    edit(rows)
    path.write_text("\n".join(sep.join(r) for r in rows) + "\n", encoding="utf-8")


def _leaves(value: Any) -> Iterator[Any]:
    value = getattr(value, "value", value)  # MetadataValue -> its value
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def _assert_no_pii(evaluations: list[Any], pii_values: set[str]) -> None:
    """No value of a PII column is a text value in any check's metadata, or inside one (values
    of 8+ characters, so that short codes cannot collide by chance with keys). Numbers (counts,
    record numbers) are not compared: a house number "12" is not leaked by record 12."""
    assert pii_values
    leaves = {
        e.check_name: [v for v in _leaves(dict(e.metadata)) if isinstance(v, str)]
        for e in evaluations
    }
    for name, values in leaves.items():
        assert not set(values) & pii_values, (name, set(values) & pii_values)
    text = "\x00".join(v for values in leaves.values() for v in values)
    assert [v for v in pii_values if len(v) >= 8 and v in text] == []


def _pii_of_sources(project: Project) -> set[str]:
    values: set[str] = set()
    for contract in project.sources:
        server = contract.server
        frame = pl.read_csv(server.path, separator=server.delimiter or ",", infer_schema=False)
        for column in contract.pii:
            values |= {v for v in frame[column].drop_nulls().to_list() if v.strip()}
    return values


def _raw_and_staged(project_dir: Path, warehouse: Path) -> dg.ExecuteInProcessResult:
    """Materialize every raw asset with its contract checks, then staged/customer."""
    project = load_project(project_dir)
    assets = build_assets(project, load_settings(project_dir))
    keys = [k for a in assets for k in a.keys if k.path[0] == "raw"] + [STAGED]
    chosen = [a for a in assets if set(a.keys) & set(keys)]
    checks = build_checks(project, keys)
    return dg.materialize(
        [*chosen, *checks],
        resources={"warehouse": WarehouseResource(path=str(warehouse))},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def _materialized(result: dg.ExecuteInProcessResult) -> set[dg.AssetKey]:
    return {e.asset_key for e in result.get_asset_materialization_events()}


def _by_name(result: dg.ExecuteInProcessResult, asset: dg.AssetKey) -> dict[str, Any]:
    return {e.check_name: e for e in result.get_asset_check_evaluations() if e.asset_key == asset}


# --- translation of the repository's contracts ------------------------------------------------

# Every check per asset: True when blocking. Explicit nullValues/duplicateValues rules replace
# the implicit not_null/unique checks of the same column.
REPO_CHECKS = {
    "raw/billing_customers": {
        "schema": True, "cust_no_pattern": False, "cust_type_not_null": True,
        "name_not_null": True, "country_pattern": False, "dob_pattern": False,
        "updated_at_not_null": True, "updated_at_pattern": False, "cust_no_nullValues": True,
        "cust_no_duplicateValues": True, "cust_type_invalidValues": False,
        "email_nullValues": False, "rowCount": True,
    },
    "raw/crm_contacts": {
        "schema": True, "Id_pattern": False, "RecordType_not_null": True,
        "Birthdate_pattern": False, "LastModifiedDate_not_null": True,
        "LastModifiedDate_type": False, "Id_nullValues": True, "Id_duplicateValues": True,
        "RecordType_invalidValues": False, "Email_nullValues": False, "rowCount": True,
    },
    "raw/erp_partners": {
        "schema": True, "PARTNER_pattern": False, "BU_TYPE_not_null": True,
        "TITLE_pattern": False, "COUNTRY_pattern": False, "BIRTHDT_pattern": False,
        "CHANGED_AT_not_null": True, "CHANGED_AT_pattern": False, "PARTNER_nullValues": True,
        "PARTNER_duplicateValues": True, "BU_TYPE_invalidValues": False,
        "SMTP_ADDR_nullValues": False, "rowCount": True,
    },
    "golden/customer": {
        "schema": True, "golden_id_pattern": False, "party_type_not_null": True,
        "phone_pattern": False, "country_pattern": False, "source_count_not_null": True,
        "source_count_range": False, "confidence_not_null": True, "confidence_range": False,
        "valid_from_not_null": True, "version_not_null": True, "version_range": False,
        "golden_id_nullValues": True, "golden_id_duplicateValues": True,
        "party_type_invalidValues": True, "rowCount": True,
    },
    "staged/customer": {
        "schema": True, "source_system_not_null": True, "source_key_not_null": True,
        "party_type_not_null": True, "party_type_invalidValues": True,
        "email_invalidValues": False, "phone_invalidValues": False,
        "country_invalidValues": False, "country_nullValues": False, "rowCount": True,
        "duplicateValues": True,
    },
    "raw/billing_accounts": {
        "schema": True, "acct_no_pattern": False, "open_date_pattern": False,
        "ccy_pattern": False, "acct_no_nullValues": True, "acct_no_duplicateValues": True,
        "cust_no_nullValues": False, "status_invalidValues": False, "rowCount": True,
    },
    "raw/crm_accounts": {
        "schema": True, "Id_pattern": False, "CreatedDate_pattern": False,
        "CurrencyIsoCode_pattern": False, "Id_nullValues": True, "Id_duplicateValues": True,
        "ContactId_nullValues": False, "Type_invalidValues": False,
        "Status_invalidValues": False, "rowCount": True,
    },
    "raw/erp_contract_accounts": {
        "schema": True, "VKONT_pattern": False, "ERDAT_pattern": False, "WAERS_pattern": False,
        "VKONT_nullValues": True, "VKONT_duplicateValues": True, "GPART_nullValues": False,
        "STATUS_invalidValues": False, "rowCount": True,
    },
    "raw/erp_contracts": {
        "schema": True, "VERTRAG_pattern": False, "PRODUCT_not_null": True,
        "BEGDA_pattern": False, "AMOUNT_pattern": False, "WAERS_pattern": False,
        "VERTRAG_nullValues": True, "VERTRAG_duplicateValues": True, "VKONT_nullValues": False,
        "STATUS_invalidValues": False, "rowCount": True,
    },
    "golden/account": {
        "schema": True, "golden_id_pattern": False, "customer_golden_id_pattern": False,
        "iban_pattern": False, "currency_pattern": False, "source_count_not_null": True,
        "source_count_range": False, "confidence_not_null": True, "confidence_range": False,
        "valid_from_not_null": True, "version_not_null": True, "version_range": False,
        "golden_id_nullValues": True, "golden_id_duplicateValues": True,
        "customer_golden_id_nullValues": True, "status_invalidValues": True, "rowCount": True,
    },
    "golden/contract": {
        "schema": True, "golden_id_pattern": False, "account_golden_id_pattern": False,
        "customer_golden_id_pattern": False, "amount_range": False, "currency_pattern": False,
        "source_count_not_null": True, "source_count_range": False, "confidence_not_null": True,
        "confidence_range": False, "valid_from_not_null": True, "version_not_null": True,
        "version_range": False, "golden_id_nullValues": True, "golden_id_duplicateValues": True,
        "account_golden_id_nullValues": True, "customer_golden_id_nullValues": True,
        "status_invalidValues": True, "rowCount": True,
    },
    "staged/account": {
        "schema": True, "source_system_not_null": True, "source_key_not_null": True,
        "customer_golden_id_not_null": True, "iban_pattern": False,
        "status_invalidValues": False, "currency_invalidValues": False, "rowCount": True,
        "duplicateValues": True,
    },
    "staged/contract": {
        "schema": True, "source_system_not_null": True, "source_key_not_null": True,
        "account_golden_id_not_null": True, "customer_golden_id_not_null": True,
        "amount_range": False, "start_date_nullValues": False, "status_invalidValues": False,
        "rowCount": True, "duplicateValues": True,
    },
}  # fmt: skip
# the pipeline's own checks (pipelines/integrity.py), beside the contracts' suites
# drift against the previous version: warnings, never blocking (pipelines/drift.py)
DRIFT = dict.fromkeys(
    (
        "drift_golden_count",
        "drift_match_rate",
        "drift_largest_cluster",
        "drift_id_churn",
        "drift_null_rate",
        "drift_match_probabilities",
    ),
    False,
)
PIPELINE_CHECKS = {
    "golden/customer": {"every_record_accounted_for": True, **DRIFT},
    "golden/account": {"every_record_accounted_for": True, "references_resolve": True, **DRIFT},
    "golden/contract": {"every_record_accounted_for": True, "references_resolve": True, **DRIFT},
    "staged/account": {"no_broken_references": False},
    "staged/contract": {"no_broken_references": False},
    "version": {"version_is_complete_and_consistent": True},
    "analytics": {"classified_values_are_masked": True},
}
# the committed sample's planted orphans: warned about, quarantined, the run goes on
SAMPLE_WARNINGS = [("staged/account", "no_broken_references"),
                   ("staged/contract", "no_broken_references")]  # fmt: skip


@pytest.fixture(scope="module")
def repo_suites() -> dict[str, AssetSuite]:
    return {s.asset_key.to_user_string(): s for s in asset_suites(load_project(ROOT))}


def test_repository_contracts_translate_to_these_checks(
    repo_suites: dict[str, AssetSuite],
) -> None:
    got = {asset: {r.name: r.blocking for r in suite.rules} for asset, suite in repo_suites.items()}
    assert got == REPO_CHECKS
    billing = repo_suites["raw/billing_customers"]
    assert billing.key_column == "cust_no" and billing.location == ("raw", "billing_customers")
    assert repo_suites["golden/customer"].key_column == "golden_id"
    expectations = {r.name: [e.type for e in r.expectations] for r in billing.rules}
    assert expectations["schema"] == ["expect_column_to_exist"] * 4
    assert expectations["cust_no_duplicateValues"] == ["expect_column_values_to_be_unique"]
    assert expectations["cust_type_invalidValues"] == ["expect_column_values_to_be_in_set"]
    assert expectations["dob_pattern"] == ["expect_column_values_to_match_regex"]
    assert expectations["rowCount"] == ["expect_table_row_count_to_be_between"]
    email = billing.rule("email_nullValues")
    assert email.threshold == Threshold("mustBeLessThan", 30, "percent")
    assert (email.severity, email.blocking) == ("warning", False)
    rule = billing.rule("cust_no_duplicateValues")
    assert rule.place == "schema[0].properties[0].quality[1]" and rule.severity == "error"
    golden = repo_suites["golden/customer"]
    assert golden.rule("confidence_range").expectations[0].kwargs == {
        "column": "confidence", "min_value": 0, "max_value": 1,
    }  # fmt: skip


def test_definitions_carry_a_gate_and_a_warnings_check_per_asset_with_owners() -> None:
    defs = build_definitions(ROOT, "unused")
    ownership = load_project(ROOT).ownership
    teams = asset_teams(load_project(ROOT))
    seen: dict[str, dict[str, bool]] = {}
    for checks in defs.asset_checks or ():
        specs = list(checks.check_specs)
        assets = {s.asset_key.to_user_string() for s in specs}
        assert len(assets) == 1  # one validation per asset, never several assets in one
        asset = assets.pop()
        owners = list(ownership.team(teams[asset]).owners)
        assert checks.op.tags["mdm/team"] == teams[asset]
        suite = specs[0].asset_key.to_python_identifier()
        if checks.op.name == f"{suite}_contract":  # the gate: blocking rules only
            assert all(s.blocking for s in specs)
        elif checks.op.name == f"{suite}_contract_warnings":
            assert not any(s.blocking for s in specs)
        for spec in specs:
            assert spec.metadata["owners"] == owners and spec.metadata["team"] == teams[asset]
            assert f"Owners: {', '.join(owners)}" in (spec.description or "")
            assert spec.metadata["contract"].endswith(".odcs.yaml")
        seen.setdefault(asset, {}).update({s.name: s.blocking for s in specs})
    expected = {k: dict(v) for k, v in REPO_CHECKS.items()}
    for asset, checks in PIPELINE_CHECKS.items():
        expected.setdefault(asset, {}).update(checks)
    assert seen == expected
    # the job runs the checks: every check key is in the asset graph next to its asset
    graph = defs.resolve_asset_graph()
    assert len(graph.asset_check_keys) == sum(len(v) for v in expected.values())


def test_warnings_never_hold_a_step_and_blocking_rules_gate_it() -> None:
    from dagster._core.execution.api import create_execution_plan

    job = build_definitions(ROOT, "unused").resolve_job_def(JOB)
    deps = create_execution_plan(job).get_all_step_deps()
    warnings = {k for k in deps if k.endswith("_contract_warnings")}
    assert len(warnings) == 13  # every contract of the sample has warnings
    assert not any(upstream & warnings for upstream in deps.values())
    assert deps["candidates__customer"] == {"staged__customer", "staged__customer_contract"}


# --- rules the project cannot evaluate ---------------------------------------------------------


def _quality(prop: int, *rules: dict) -> Callable[[dict], None]:
    def edit(document: dict) -> None:
        document["schema"][0]["properties"][prop].setdefault("quality", []).extend(rules)

    return edit


def _schema_quality(*rules: dict) -> Callable[[dict], None]:
    def edit(document: dict) -> None:
        document["schema"][0].setdefault("quality", []).extend(rules)

    return edit


def _pattern(document: dict) -> None:
    document["schema"][0]["properties"][7]["logicalTypeOptions"]["pattern"] = "^([A-Z]{2}$"


def _sql(query: str, **rule: Any) -> dict:
    """A sql rule; mustBe 0 unless `rule` gives an operator."""
    default = {} if any(k.startswith("must") for k in rule) else {"mustBe": 0}
    return {"type": "sql", "query": query, **default, **rule}


def _gx(implementation: Any, **rule: Any) -> dict:
    return {"type": "custom", "engine": "great-expectations", "implementation": implementation,
            **rule}  # fmt: skip


UNSUPPORTED = {
    "sql that is not a SELECT": (
        _schema_quality(_sql("COPY (SELECT * FROM ${table}) TO '/tmp/out.csv'")),
        "schema[0].quality[1].query",
        "must be one SELECT (or WITH ... SELECT) statement, not COPY",
    ),
    "sql DuckDB cannot parse": (
        _quality(3, _sql("SELEC count(*) FROM ${table}")),
        "schema[0].properties[3].quality[0].query",
        "is not SQL DuckDB can parse: Parser Error: syntax error",
    ),
    "sql property placeholder on the schema": (
        _schema_quality(_sql("SELECT count(*) FROM ${table} WHERE ${column} IS NULL")),
        "schema[0].quality[1].query",
        "${column} stands for the rule's property",
    ),
    "sql unknown placeholder": (
        _quality(3, _sql("SELECT count(*) FROM ${dataset}")),
        "schema[0].properties[3].quality[0].query",
        "${dataset} is not a placeholder",
    ),
    "sql percent": (
        _quality(3, _sql("SELECT count(*) FROM ${table}", unit="percent")),
        "schema[0].properties[3].quality[0].unit",
        "compared as it is",
    ),
    "custom rule on another engine": (
        _quality(3, {"type": "custom", "engine": "soda", "implementation": "x"}),
        "schema[0].properties[3].quality[0].engine",
        "custom rules run on great-expectations, not 'soda'",
    ),
    "unknown expectation": (
        _quality(3, _gx({"type": "expect_column_values_to_be_postcodes"})),
        "schema[0].properties[3].quality[0].implementation.type",
        "'expect_column_values_to_be_postcodes' is not a Great Expectations expectation",
    ),
    "arguments the expectation rejects": (
        _quality(5, _gx("{type: expect_column_values_to_be_between, kwargs: {min_value: low}}")),
        "schema[0].properties[5].quality[0].implementation.kwargs",
        "expect_column_values_to_be_between rejects these arguments: min_value: value is not a "
        "valid float",
    ),
    "an argument the expectation does not take": (
        _quality(
            5,
            _gx(
                {
                    "expectation_type": "expect_column_values_to_not_be_null",
                    "kwargs": {"value_set": ["x"]},
                }
            ),
        ),
        "schema[0].properties[5].quality[0].implementation.kwargs",
        "value_set: is not an argument of it",
    ),
    "a column the contract does not declare": (
        _schema_quality(
            _gx({"type": "ExpectColumnValuesToNotBeNull", "kwargs": {"column": "balance"}})
        ),
        "schema[0].quality[1].implementation.kwargs.column",
        "'balance' is not a property of the contract",
    ),
    "a table-structure expectation": (
        _schema_quality(
            _gx({"type": "expect_table_column_count_to_equal", "kwargs": {"value": 13}})
        ),
        "schema[0].quality[1].implementation.type",
        "reads only the columns its rules name",
    ),
    "invalidValues without arguments": (
        _quality(5, {"metric": "invalidValues", "mustBe": 0}),
        "schema[0].properties[5].quality[0].arguments",
        "validValues",
    ),
    "missingValues without its list": (
        _quality(3, {"metric": "missingValues", "mustBeLessThan": 5, "unit": "percent"}),
        "schema[0].properties[3].quality[0].arguments",
        "arguments.missingValues",
    ),
    "unknown argument": (
        _quality(3, {"metric": "nullValues", "arguments": {"values": [1]}, "mustBe": 0}),
        "schema[0].properties[3].quality[0].arguments.values",
        "nullValues takes no arguments",
    ),
    "percent row count": (
        _schema_quality({"metric": "rowCount", "mustBeGreaterThan": 5, "unit": "percent"}),
        "schema[0].quality[1].unit",
        "a row count has no percent",
    ),
    "property metric on the schema": (
        _schema_quality({"metric": "nullValues", "mustBe": 0}),
        "schema[0].quality[1].metric",
        "cannot be evaluated on the schema object",
    ),
    "row count on a property": (
        _quality(3, {"metric": "rowCount", "mustBeGreaterThan": 0}),
        "schema[0].properties[3].quality[0].metric",
        "cannot be evaluated on a property",
    ),
    "reversed between": (
        _quality(3, {"metric": "nullValues", "mustBeBetween": [10, 1]}),
        "schema[0].properties[3].quality[0].mustBeBetween",
        "smallest first",
    ),
    "text threshold": (
        _quality(3, {"metric": "nullValues", "mustBe": "none"}),
        "schema[0].properties[3].quality[0].mustBe",
        "must be a number",
    ),
    "unknown unit": (
        _quality(3, {"metric": "nullValues", "mustBeLessThan": 3, "unit": "lines"}),
        "schema[0].properties[3].quality[0].unit",
        "rows or percent",
    ),
    "unknown severity": (
        _quality(3, {"metric": "nullValues", "mustBe": 0, "severity": "critical"}),
        "schema[0].properties[3].quality[0].severity",
        "error blocks the run",
    ),
    "broken regex": (
        _pattern,
        "schema[0].properties[7].logicalTypeOptions.pattern",
        "not a regular expression",
    ),
}


@pytest.mark.parametrize("case", sorted(UNSUPPORTED))
def test_a_rule_the_project_cannot_evaluate_fails_at_load(tmp_path: Path, case: str) -> None:
    edit, place, message = UNSUPPORTED[case]
    project = copy_project(tmp_path, data=False)
    path = edit_contract(project, "billing_customers", edit)
    with pytest.raises(ContractError) as raised:
        build_definitions(project, str(tmp_path / "w"))
    problems = [p for p in raised.value.problems if p.place == place]
    assert problems, str(raised.value)
    assert problems[0].file == str(path) and message in problems[0].message, str(raised.value)
    assert f"{path}: {place}: " in str(raised.value)


def test_text_rules_are_documentation_and_make_no_check(tmp_path: Path) -> None:
    project = copy_project(tmp_path, data=False)
    edit_contract(project, "billing_customers",
                   _quality(3, {"type": "text", "description": "Streets are real."}))  # fmt: skip
    suites = {s.asset_key: s for s in asset_suites(load_project(project))}
    assert {r.name for r in suites[RAW_BILLING].rules} == set(REPO_CHECKS["raw/billing_customers"])


# --- operators and percent thresholds ----------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "value", "passing", "failing"),
    [
        ("mustBe", 0, [0], [1]),
        ("mustNotBe", 3, [2, 4], [3]),
        ("mustBeGreaterThan", 5, [6], [5, 4]),
        ("mustBeGreaterOrEqualTo", 5, [5, 6], [4]),
        ("mustBeLessThan", 5, [4.99], [5, 6]),
        ("mustBeLessOrEqualTo", 5, [5, 1], [5.01]),
        ("mustBeBetween", (2, 4), [2, 3, 4], [1, 5]),
        ("mustNotBeBetween", (2, 4), [1, 5], [2, 3, 4]),
    ],
)
def test_odcs_operators(operator: str, value: Any, passing: list, failing: list) -> None:
    threshold = Threshold(operator, value)
    assert all(threshold.holds(x) for x in passing)
    assert not any(threshold.holds(x) for x in failing)


def _billing_frame(rows: int, **columns: list[str | None]) -> pl.DataFrame:
    """`rows` valid billing records as landed (text, with _record); `columns` overrides."""
    data: dict[str, list[Any]] = {
        "_record": list(range(1, rows + 1)),
        "cust_no": [f"{10_000_000 + i}" for i in range(rows)],
        "cust_type": ["P"] * rows,
        "name": [f"Person Number{i}" for i in range(rows)],
        "email": [f"person{i}@example.com" for i in range(rows)],
        "dob": ["04/03/1978"] * rows,
        "country": ["GB"] * rows,
        "updated_at": ["19/03/2021 03:42"] * rows,
    }
    data.update(columns)
    return pl.DataFrame(data, schema_overrides={"_record": pl.UInt32})


def _results(suite: AssetSuite, frame: pl.DataFrame, path: Path) -> dict[str, Any]:
    frame.write_parquet(path)
    return {r.check_name: r for r in validate_suite(suite, path)}


def test_percent_thresholds_decide_on_the_share_of_rows(
    tmp_path: Path, repo_suites: dict[str, AssetSuite]
) -> None:
    suite = repo_suites["raw/billing_customers"]  # email nullValues mustBeLessThan 30 percent
    emails = [f"p{i}@example.com" for i in range(200)]
    below = _results(suite, _billing_frame(200, email=[None] * 59 + emails[59:]),
                     tmp_path / "below.parquet")["email_nullValues"]  # fmt: skip
    above = _results(suite, _billing_frame(200, email=[None] * 61 + emails[61:]),
                     tmp_path / "above.parquet")["email_nullValues"]  # fmt: skip
    assert below.passed and below.metadata["failing_count"].value == 59
    assert below.metadata["failing_percent"].value == 29.5
    assert not above.passed and above.metadata["measured"].value == 30.5
    assert above.severity == dg.AssetCheckSeverity.WARN  # a warning rule
    assert above.metadata["unit"].value == "percent"
    assert above.metadata["expectation"].value == "expect_column_values_to_not_be_null"


def test_a_declared_key_tolerance_replaces_the_implicit_rule(tmp_path: Path) -> None:
    """DESIGN: a contract may declare the share of null keys above which the run stops."""
    project = copy_project(tmp_path / "project", data=False)

    def tolerate(document: dict) -> None:
        key = document["schema"][0]["properties"][0]
        key["quality"][0] = {"metric": "nullValues", "mustBeLessThan": 1, "unit": "percent",
                             "severity": "error"}  # fmt: skip

    edit_contract(project, "billing_customers", tolerate)
    suite = next(s for s in asset_suites(load_project(project)) if s.asset_key == RAW_BILLING)
    assert "cust_no_not_null" not in {r.name for r in suite.rules}
    keys = [f"{10_000_000 + i}" for i in range(200)]
    one = _results(suite, _billing_frame(200, cust_no=[None] + keys[1:]), tmp_path / "1.parquet")
    three = _results(suite, _billing_frame(200, cust_no=[None] * 3 + keys[3:]),
                     tmp_path / "3.parquet")  # fmt: skip
    assert one["cust_no_nullValues"].passed  # 0.5 % of the keys are null
    failed = three["cust_no_nullValues"]  # 1.5 %
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
    assert failed.metadata["failing_records"].value == [1, 2, 3]
    assert failed.metadata["blocking"].value is True


def test_great_expectations_prints_no_progress_bars_or_logs(
    tmp_path: Path, repo_suites: dict[str, AssetSuite], capfd: pytest.CaptureFixture[str]
) -> None:
    results = _results(repo_suites["raw/billing_customers"], _billing_frame(50),
                       tmp_path / "ok.parquet")  # fmt: skip
    assert all(r.passed for r in results.values()), [n for n, r in results.items() if not r.passed]
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_text_columns_are_checked_against_their_logical_type(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project", data=False)

    def typed(document: dict) -> None:
        props = document["schema"][0]["properties"]
        props[7] = {"name": "country", "logicalType": "integer",
                    "logicalTypeOptions": {"minimum": 1, "maximum": 9}}  # fmt: skip
        props[12] = {"name": "updated_at", "logicalType": "date", "required": True,
                     "logicalTypeOptions": {"format": "dd/MM/yyyy"}}  # fmt: skip

    edit_contract(project, "billing_customers", typed)
    suite = next(s for s in asset_suites(load_project(project)) if s.asset_key == RAW_BILLING)
    frame = _billing_frame(
        4,
        country=["1", "x", "12", None],
        updated_at=["31/12/2020", "30/02/2021", "2021-01-01", "01/01/2021"],
    )
    results = _results(suite, frame, tmp_path / "typed.parquet")
    assert results["country_type"].metadata["failing_count"].value == 1  # "x"
    assert results["country_type"].metadata["failing_values"].value == ["x"]
    assert results["country_range"].metadata["failing_count"].value == 1  # 12 > 9
    assert results["updated_at_type"].metadata["failing_count"].value == 2  # no 30 Feb
    assert results["updated_at_type"].metadata["failing_keys"].value == ["10000001", "10000002"]
    assert not any(results[n].passed for n in ("country_type", "country_range"))


# --- Dagster runs ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    warehouse = tmp_path_factory.mktemp("checks_warehouse")
    job = build_definitions(ROOT, str(warehouse)).resolve_job_def(JOB)
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    return warehouse, result


def test_every_check_passes_on_the_committed_sample(sample_run: tuple[Path, Any]) -> None:
    warehouse, result = sample_run
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    got = {(e.asset_key.to_user_string(), e.check_name) for e in evaluations}
    expected = {(a, n) for a, names in {**REPO_CHECKS}.items() for n in names}
    expected |= {(a, n) for a, names in PIPELINE_CHECKS.items() for n in names}
    assert got == expected
    failed = sorted((e.asset_key.to_user_string(), e.check_name) for e in evaluations
                    if not e.passed)  # fmt: skip
    assert failed == SAMPLE_WARNINGS
    for e in evaluations:
        if e.check_name in PIPELINE_CHECKS.get(e.asset_key.to_user_string(), {}):
            continue
        assert e.metadata["expectation"].value.startswith("expect_")
        assert "owners" in e.metadata and "threshold" in e.metadata
    # nothing of a PII column is shown, though some checks list failing keys (null emails)
    project = load_project(ROOT)
    golden_pii = set()
    for contract in project.golden:
        table = pl.read_parquet(warehouse / f"intermediate/golden/golden_{contract.entity}.parquet")
        golden_pii |= {str(v) for c in contract.pii for v in table[c].drop_nulls()}
    _assert_no_pii(evaluations, _pii_of_sources(project) | golden_pii)
    emails = next(e for e in evaluations if e.check_name == "email_nullValues").metadata
    assert len(emails["failing_keys"].value) == 20  # a sample: 180 billing rows have no email


def test_a_planted_duplicate_key_fails_the_blocking_check(tmp_path: Path) -> None:
    project_dir = copy_project(tmp_path / "project", data=True)
    billing = project_dir / "data/samples/billing/customers.csv"
    planted: dict[str, str] = {}

    def duplicate(rows: list[list[str]]) -> None:
        planted["key"] = rows[1][0]
        # records 5..11 repeat the 1st record's key: 8 of 1,346 copies of one key (0.6%) is
        # under the contract's 1%, so the contract is tightened below to mustBe 0
        for i in range(5, 12):
            rows[i][0] = rows[1][0]

    _edit_rows(billing, duplicate)
    contract = project_dir / "contracts/billing_customers.odcs.yaml"
    text = contract.read_text()
    rule = "- metric: duplicateValues\n            mustBeLessThan: 1\n            unit: percent\n"
    assert text.count(rule) == 1
    contract.write_text(text.replace(rule, "- metric: duplicateValues\n            mustBe: 0\n"))
    result = _raw_and_staged(project_dir, tmp_path / "w")
    assert not result.success
    checks = _by_name(result, RAW_BILLING)
    failed = checks["cust_no_duplicateValues"]
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
    metadata = failed.metadata
    assert metadata["failing_keys"].value == [planted["key"]]
    assert metadata["failing_records"].value == [1, *range(5, 12)]
    assert metadata["failing_count"].value == 8
    assert metadata["expectation"].value == "expect_column_values_to_be_unique"
    assert (metadata["operator"].value, metadata["threshold"].value) == ("mustBe", 0)
    assert metadata["place"].value == "schema[0].properties[0].quality[1]"
    assert [n for n, e in checks.items() if not e.passed] == ["cust_no_duplicateValues"]
    assert STAGED not in _materialized(result)
    project = load_project(project_dir)
    _assert_no_pii(result.get_asset_check_evaluations(), _pii_of_sources(project))


def test_a_failed_warning_is_reported_and_does_not_block(tmp_path: Path) -> None:
    project_dir = copy_project(tmp_path / "project", data=True)
    billing = project_dir / "data/samples/billing/customers.csv"
    planted: dict[str, str] = {}

    def defects(rows: list[list[str]]) -> None:
        header = rows[0]
        rows[3][header.index("cust_type")] = "X"  # not P or B: invalidValues, a warning
        rows[4][header.index("dob")] = "1978-03-04"  # not the contract's pattern (PII column)
        planted.update(type_key=rows[3][0], dob_key=rows[4][0])

    _edit_rows(billing, defects)
    result = _raw_and_staged(project_dir, tmp_path / "w")
    assert result.success
    assert STAGED in _materialized(result)
    checks = _by_name(result, RAW_BILLING)
    assert sorted(n for n, e in checks.items() if not e.passed) == [
        "cust_type_invalidValues", "dob_pattern",
    ]  # fmt: skip
    invalid = checks["cust_type_invalidValues"]
    assert invalid.severity == dg.AssetCheckSeverity.WARN
    assert invalid.metadata["failing_keys"].value == [planted["type_key"]]
    assert invalid.metadata["failing_values"].value == ["X"]  # not PII: shown
    dob = checks["dob_pattern"]
    assert dob.severity == dg.AssetCheckSeverity.WARN
    assert dob.metadata["failing_keys"].value == [planted["dob_key"]]
    assert "failing_values" not in dob.metadata  # dob is PII: its values never appear
    _assert_no_pii(result.get_asset_check_evaluations(), _pii_of_sources(load_project(project_dir)))


def test_golden_schema_check_finds_missing_columns_and_wrong_types(
    sample_run: tuple[Path, Any], repo_suites: dict[str, AssetSuite], tmp_path: Path
) -> None:
    warehouse, _ = sample_run
    golden = pl.read_parquet(warehouse / "intermediate/golden/golden_customer.parquet")
    broken = golden.drop("version").with_columns(pl.col("source_count").cast(pl.String))
    results = _results(repo_suites["golden/customer"], broken, tmp_path / "golden.parquet")
    schema = results["schema"]
    assert not schema.passed and schema.severity == dg.AssetCheckSeverity.ERROR
    assert schema.metadata["missing_columns"].value == ["version"]
    assert list(schema.metadata["type_mismatches"].value) == ["source_count"]
    assert schema.metadata["failing_count"].value == 2
    assert not results["version_not_null"].passed  # its column is missing: failed, not crashed
    assert results["version_not_null"].metadata["missing_columns"].value == ["version"]
    assert results["golden_id_duplicateValues"].passed and results["rowCount"].passed


def test_library_metrics_count_failing_rows_and_name_their_keys(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project", data=False)

    def rules(document: dict) -> None:
        schema = document["schema"][0]
        props = schema["properties"]
        schema["quality"].append(
            {
                "metric": "duplicateValues",
                "mustBe": 0,
                "severity": "error",
                "arguments": {"properties": ["cust_type", "country"]},
            }
        )
        props[5]["quality"] = [  # town
            {
                "metric": "missingValues",
                "arguments": {"missingValues": [None, "n/a"]},
                "mustBeLessOrEqualTo": 2,
            },
            {"metric": "invalidValues", "arguments": {"pattern": "^[A-Z]"}, "mustBe": 0},
        ]
        props[2]["logicalTypeOptions"] = {"maxLength": 12}  # name

    edit_contract(project, "billing_customers", rules)  # fmt: skip
    suite = next(s for s in asset_suites(load_project(project)) if s.asset_key == RAW_BILLING)
    frame = _billing_frame(
        5,
        town=["Leeds", None, "n/a", "york", "n/a"],
        country=["GB", "FR", "DE", "NL", "GB"],
        name=["Ann Lee", "Bo Li", "Christopher Robinson", "Di Wu", "Ed Ng"],
    )
    results = _results(suite, frame, tmp_path / "metrics.parquet")
    keys = {n: r.metadata["failing_keys"].value for n, r in results.items() if not r.passed}
    assert keys == {
        "town_missingValues": ["10000001", "10000002", "10000004"],  # null, n/a, n/a: 3 > 2
        "town_invalidValues": ["10000002", "10000003", "10000004"],  # "n/a", "york"
        "name_length": ["10000002"],
        "duplicateValues": ["10000000", "10000004"],  # (P, GB) twice
    }
    missing = results["town_missingValues"].metadata
    assert missing["expectation"].value == (
        "expect_column_values_to_not_be_in_set, expect_column_values_to_not_be_null"
    )
    assert missing["failing_count"].value == 3 and missing["failing_values"].value == ["n/a"]
    assert "failing_values" not in results["name_length"].metadata  # name is PII
    assert results["duplicateValues"].severity == dg.AssetCheckSeverity.ERROR


def _only_schema_rule(rule: dict) -> Callable[[dict], None]:
    def edit(document: dict) -> None:
        document["schema"][0]["quality"] = [rule]

    return edit


TOWN = 5  # billing_customers' town: no rule of its own in the repository's contract
TOWNS = ["Leeds", "York", "Hull", "Bath"]
# metric -> (the rule, its check, passing data, failing data, what the failing data measures)
EVERY_METRIC = {
    "nullValues": (_quality(TOWN, {"metric": "nullValues", "mustBe": 0}), "town_nullValues",
                   {"town": TOWNS}, {"town": ["Leeds", None, None, "Bath"]}, 2),
    "nullValues in percent": (
        _quality(TOWN, {"metric": "nullValues", "mustBeLessThan": 30, "unit": "percent"}),
        "town_nullValues", {"town": [None, "York", "Hull", "Bath"]},
        {"town": [None, None, "Hull", "Bath"]}, 50.0),
    "missingValues": (
        _quality(TOWN, {"metric": "missingValues", "arguments": {"missingValues": ["n/a", ""]},
                        "mustBeLessOrEqualTo": 1}),
        "town_missingValues", {"town": ["n/a", "York", None, "Bath"]},
        {"town": ["n/a", "", "Hull", "Bath"]}, 2),
    "invalidValues with validValues": (
        _quality(TOWN, {"metric": "invalidValues", "arguments": {"validValues": ["Leeds", "York"]},
                        "mustBe": 0}),
        "town_invalidValues", {"town": ["Leeds", "York", None, "Leeds"]},
        {"town": ["Leeds", "Hull", "York", "Paris"]}, 2),
    "invalidValues with a pattern": (
        _quality(TOWN, {"metric": "invalidValues", "arguments": {"pattern": "^[A-Z][a-z]+$"},
                        "mustBe": 0}),
        "town_invalidValues", {"town": TOWNS}, {"town": ["leeds", "York", "HULL", "Bath"]}, 2),
    "duplicateValues": (_quality(TOWN, {"metric": "duplicateValues", "mustBe": 0}),
                        "town_duplicateValues", {"town": TOWNS},
                        {"town": ["Leeds", "Leeds", "York", "Hull"]}, 2),
    "duplicateValues of several columns": (
        _schema_quality({"metric": "duplicateValues", "mustBe": 0,
                         "arguments": {"properties": ["cust_type", "town"]}}),
        "duplicateValues", {"town": ["Leeds", "Leeds", "York", "Hull"],
                            "cust_type": ["P", "B", "P", "P"]},
        {"town": ["Leeds", "Leeds", "York", "Hull"], "cust_type": ["P", "P", "P", "B"]}, 2),
    "rowCount": (_only_schema_rule({"metric": "rowCount", "mustBeBetween": [1, 3]}), "rowCount",
                 {"town": TOWNS[:3]}, {"town": TOWNS}, 4),
}  # fmt: skip


@pytest.mark.parametrize("metric", EVERY_METRIC)
def test_every_library_metric_passes_good_data_and_fails_bad(tmp_path: Path, metric: str) -> None:
    edit, check, good, bad, measured = EVERY_METRIC[metric]
    suite = _suite(tmp_path, "billing_customers", edit)
    results = {}
    for name, columns in (("good", good), ("bad", bad)):
        frame = _billing_frame(len(columns["town"]), **columns)
        results[name] = _run(suite, frame, tmp_path / f"{name}.parquet", check)[check]
    assert results["good"].passed and not results["bad"].passed
    meta = _meta(results["bad"])
    if metric == "rowCount":
        assert meta["measured"] == measured
    elif isinstance(measured, float):
        assert meta["failing_percent"] == measured
    else:
        assert meta["failing_count"] == measured


# --- sql and custom rules ----------------------------------------------------------------------


def _suite(tmp_path: Path, contract: str, *edits: Callable[[dict], None]) -> AssetSuite:
    """The suite of one repository contract after `edits`, without data or a pipeline run."""
    project = copy_project(tmp_path / "project", data=False)
    for edit in edits:
        edit_contract(project, contract, edit)
    return next(s for s in asset_suites(load_project(project)) if s.contract.name == contract)


def _run(suite: AssetSuite, frame: pl.DataFrame, path: Path, *names: str) -> dict[str, Any]:
    frame.write_parquet(path)
    return {r.check_name: r for r in validate_suite(suite, path, names)}


def _meta(result: Any) -> dict[str, Any]:
    return {k: getattr(v, "value", v) for k, v in result.metadata.items()}


def test_a_sql_rule_on_the_schema_compares_its_number_and_blocks_by_severity(
    tmp_path: Path,
) -> None:
    suite = _suite(tmp_path, "billing_customers", _schema_quality(
        _sql("SELECT count(*) FROM ${table} WHERE country <> 'GB'", severity="error",
             name="UK only", description="Billing serves UK customers."),
        _sql("SELECT count(*) FROM raw_billing_customers WHERE cust_type = 'B'",
             mustBeLessOrEqualTo=1),
    ))  # fmt: skip
    uk = suite.rule("UK_only")
    assert (uk.place, uk.blocking, uk.severity) == ("schema[0].quality[1]", True, "error")
    assert uk.sql == """SELECT count(*) FROM "raw_billing_customers" WHERE country <> 'GB'"""
    assert suite.rule("sql").place == "schema[0].quality[2]" and not suite.rule("sql").blocking
    ok = _run(suite, _billing_frame(6), tmp_path / "ok.parquet", "UK_only", "sql")
    assert ok["UK_only"].passed and _meta(ok["UK_only"])["value"] == 0
    assert ok["sql"].passed and _meta(ok["sql"])["value"] == 0
    frame = _billing_frame(6, country=["GB", "FR", "GB", "DE", "GB", "GB"],
                           cust_type=["P", "B", "B", "P", "P", "P"])  # fmt: skip
    bad = _run(suite, frame, tmp_path / "bad.parquet", "UK_only", "sql")
    failed = _meta(bad["UK_only"])
    assert not bad["UK_only"].passed and bad["UK_only"].severity == dg.AssetCheckSeverity.ERROR
    assert (failed["value"], failed["operator"], failed["threshold"]) == (2, "mustBe", 0)
    assert failed["query"] == "SELECT count(*) FROM ${table} WHERE country <> 'GB'"
    assert failed["relation"] == "raw_billing_customers" and failed["engine"] == "duckdb"
    assert failed["blocking"] is True and 0 <= failed["elapsed_seconds"] < 30
    assert "error" not in failed and "expectation" not in failed
    assert not bad["sql"].passed and _meta(bad["sql"])["value"] == 2  # two B > 1
    assert bad["sql"].severity == dg.AssetCheckSeverity.WARN


def test_a_failing_blocking_sql_check_stops_what_depends_on_its_asset(tmp_path: Path) -> None:
    suite = _suite(tmp_path, "billing_customers", _schema_quality(
        _sql("SELECT count(*) FROM ${table} WHERE country <> 'GB'", severity="error"),
    ))  # fmt: skip
    only_sql = replace(suite, rules=(suite.rule("sql"),))  # no Great Expectations: quick

    @dg.asset(key=RAW_BILLING)
    def landed(warehouse: WarehouseResource) -> None:
        frame = _billing_frame(4, country=["GB", "FR", "GB", "GB"])
        frame.write_parquet(warehouse.intermediate("raw", "billing_customers"))

    @dg.asset(deps=[RAW_BILLING])
    def downstream() -> None:
        pass

    result = dg.materialize(
        [landed, downstream, *suite_checks(only_sql)],
        resources={"warehouse": WarehouseResource(path=str(tmp_path / "w"))},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    check = _by_name(result, RAW_BILLING)["sql"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert check.metadata["value"].value == 1
    assert _materialized(result) == {RAW_BILLING}  # downstream did not run
    assert not result.success


def test_a_sql_rule_on_a_property_reads_its_column(tmp_path: Path) -> None:
    share = "SELECT 100.0 * count(*) FILTER (WHERE ${column} IS NULL) / count(*) FROM ${table}"
    suite = _suite(tmp_path, "billing_customers", _quality(
        9,  # email (PII: only numbers come back)
        _sql(share, mustBeBetween=[0, 25]),
        _sql("SELECT count(DISTINCT {property}) FROM {object}", mustNotBeBetween=[1, 6]),
    ))  # fmt: skip
    rule = suite.rule("email_sql")
    assert rule.place == "schema[0].properties[9].quality[1]"
    assert rule.sql == share.replace("${column}", '"email"').replace(
        "${table}", '"raw_billing_customers"'
    )
    assert suite.rule("email_sql_2").place == "schema[0].properties[9].quality[2]"
    emails = [f"person{i}@example.com" for i in range(8)]
    ok = _run(suite, _billing_frame(8, email=[None, *emails[1:]]), tmp_path / "ok.parquet",
              "email_sql", "email_sql_2")  # fmt: skip
    assert ok["email_sql"].passed and _meta(ok["email_sql"])["value"] == 12.5
    assert ok["email_sql_2"].passed and _meta(ok["email_sql_2"])["value"] == 7
    bad = _run(suite, _billing_frame(8, email=[None] * 3 + emails[3:]), tmp_path / "bad.parquet",
               "email_sql", "email_sql_2")  # fmt: skip
    assert not bad["email_sql"].passed and _meta(bad["email_sql"])["value"] == 37.5
    assert _meta(bad["email_sql"])["threshold"] == [0, 25]
    assert not bad["email_sql_2"].passed and _meta(bad["email_sql_2"])["value"] == 5
    _assert_no_pii([*ok.values(), *bad.values()], set(emails))


def test_a_sql_rule_that_does_not_return_one_number_fails_with_the_reason(
    tmp_path: Path,
) -> None:
    queries = {
        "cast": "SELECT max(cust_no::INTEGER) FROM ${table}",
        "columns": "SELECT count(*), max(_record) FROM ${table}",
        "no_row": "SELECT count(*) FROM ${table} GROUP BY country HAVING count(*) > 100",
        "rows": "SELECT count(*) FROM ${table} GROUP BY cust_type",
        "text": "SELECT max(name) FROM ${table}",
        "null": "SELECT max(_record) FROM ${table} WHERE false",
        "no_column": "SELECT count(*) FROM ${table} WHERE balance > 0",
    }
    rules = [_sql(q, name=n) for n, q in queries.items()]
    suite = _suite(tmp_path, "billing_customers", _schema_quality(*rules))
    keys = [f"{10_000_000 + i}" for i in range(4)]
    frame = _billing_frame(4, cust_no=[*keys[:3], "K-77"], cust_type=["P", "B", "P", "P"])
    results = _run(suite, frame, tmp_path / "data.parquet", *queries, "cust_no_nullValues")
    errors = {n: _meta(results[n])["error"] for n in queries if not results[n].passed}
    assert set(errors) == set(queries)
    assert errors["cast"].startswith("ConversionException: Conversion Error: Could not convert")
    assert "K-77" not in errors["cast"]  # a value of the data: redacted from the message
    assert errors["columns"] == (
        "returned 2 columns (count_star(), max(_record)); a check needs one number"
    )
    assert errors["no_row"] == "returned no row; a check needs exactly one"
    assert errors["rows"] == "returned several rows; a check needs exactly one"
    assert errors["text"] == "returned a VARCHAR, not a number"  # never the name itself (PII)
    assert errors["null"] == "returned null, not a number"
    assert errors["no_column"].startswith("BinderException") and "balance" in errors["no_column"]
    assert all("value" not in _meta(results[n]) for n in queries)
    assert results["cust_no_nullValues"].passed  # the other checks ran as usual
    _assert_no_pii(list(results.values()), {f"Person Number{i}" for i in range(4)})


def test_a_sql_rule_cannot_read_files_or_urls(tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("password\nhunter2-secret\n", encoding="utf-8")
    data = tmp_path / "data.parquet"
    out = tmp_path / "out.csv"
    queries = {
        "csv": f"SELECT count(*) FROM read_csv('{secret}')",
        "text": f"SELECT length(content) FROM read_text('{secret}')",
        "own_file": f"SELECT count(*) FROM read_parquet('{data}')",  # only through ${table}
        "glob": "SELECT count(*) FROM glob('/*')",
        "url": "SELECT count(*) FROM read_parquet('https://example.invalid/x.parquet')",
        "copy": f"SELECT * FROM query('COPY (SELECT 1) TO ''{out}''')",
    }
    rules = [_sql(q, name=n) for n, q in queries.items()]
    suite = _suite(tmp_path, "billing_customers", _schema_quality(*rules))
    results = _run(suite, _billing_frame(3), data, *queries)
    assert not any(r.passed for r in results.values())
    errors = {n: _meta(r)["error"] for n, r in results.items()}
    for name in ("csv", "text", "own_file", "glob", "url"):
        assert "disabled by configuration" in errors[name], errors[name]
    assert "Expected a single SELECT statement" in errors["copy"]
    assert "hunter2" not in str([_meta(r) for r in results.values()])
    assert not out.exists()


def test_a_runaway_sql_rule_fails_its_check_when_its_time_is_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checks_evaluation, "SQL_TIMEOUT_SECONDS", 0.5)
    endless = _sql("SELECT count(*) FROM ${table}, range(100000000000)", name="endless")
    suite = _suite(tmp_path, "billing_customers", _schema_quality(endless))
    started = time.perf_counter()
    results = _run(suite, _billing_frame(3), tmp_path / "data.parquet", "endless", "rowCount")
    assert time.perf_counter() - started < 10
    assert _meta(results["endless"])["error"] == "did not finish within 0.5 s"
    assert not results["endless"].passed and results["rowCount"].passed


def test_only_a_single_select_statement_loads(tmp_path: Path) -> None:
    out, db = tmp_path / "out.csv", tmp_path / "other.duckdb"
    statements = {
        f"COPY (SELECT * FROM ${{table}}) TO '{out}'": "COPY",
        "CREATE TABLE kept AS SELECT * FROM ${table}": "CREATE",
        f"ATTACH '{db}' AS other": "ATTACH",
        "INSERT INTO ${table} VALUES (1)": "INSERT",
        "SELECT 1; SELECT 2": "SELECT + SELECT",
        "INSTALL httpfs": "LOAD",
        "SET enable_external_access = true": "SET",
        "PRAGMA version": "PRAGMA",
    }
    project = copy_project(tmp_path / "project", data=False)
    path = edit_contract(project, "billing_customers",
                          _schema_quality(*(_sql(q) for q in statements)))  # fmt: skip
    with pytest.raises(ContractError) as raised:
        asset_suites(load_project(project))
    found = {p.place: p.message for p in raised.value.problems}
    assert {p.file for p in raised.value.problems} == {str(path)}
    assert found == {
        f"schema[0].quality[{i}].query": "must be one SELECT (or WITH ... SELECT) statement, "
        f"not {kind}"
        for i, kind in enumerate(statements.values(), start=1)
    }
    assert not out.exists() and not db.exists()  # parsed, never run


def test_a_custom_expectation_runs_in_the_asset_validation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite = _suite(tmp_path, "golden_contract", _quality(
        7,  # amount, a number column of golden/contract
        _gx({"type": "expect_column_values_to_be_between", "kwargs": {"min_value": 0}},
            severity="error"),
    ))  # fmt: skip
    rule = suite.rule("amount_custom")
    assert (rule.place, rule.blocking, rule.columns) == (
        "schema[0].properties[7].quality[0]", True, ("amount",),
    )  # fmt: skip
    assert dict(rule.expectations[0].kwargs) == {"min_value": 0, "column": "amount"}
    contexts: list[Any] = []  # Great Expectations contexts made: one per validation
    real_context = checks_evaluation._context

    def counted(gx: Any) -> Any:
        contexts.append(gx)
        return real_context(gx)

    monkeypatch.setattr(checks_evaluation, "_context", counted)
    keys = [f"G{i:04d}" for i in range(6)]
    good = pl.DataFrame({"golden_id": keys, "amount": [10.0, 0.0, 3.5, None, 7.0, 1.0]})
    ok = _run(suite, good, tmp_path / "ok.parquet", "amount_custom", "golden_id_duplicateValues")
    assert len(contexts) == 1  # one validation for the custom and the library rule
    assert ok["amount_custom"].passed and ok["golden_id_duplicateValues"].passed
    assert _meta(ok["amount_custom"])["unexpected_count"] == 0
    bad = good.with_columns(amount=pl.Series([10.0, -5.0, 3.5, None, -0.5, 1.0]))
    failed = _run(suite, bad, tmp_path / "bad.parquet", "amount_custom")["amount_custom"]
    metadata = _meta(failed)
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
    assert metadata["expectation"] == "expect_column_values_to_be_between"
    assert metadata["expectation_kwargs"] == {"min_value": 0, "column": "amount"}
    assert (metadata["unexpected_count"], metadata["unexpected_percent"]) == (2, 40.0)  # of 5
    assert metadata["failing_keys"] == ["G0001", "G0004"] and metadata["key_column"] == "golden_id"
    assert metadata["failing_values"] == [-5.0, -0.5]  # amount is not classified: shown
    assert "operator" not in metadata and "threshold" not in metadata  # GE decides
    assert metadata["rule"] == "amount expect_column_values_to_be_between(min_value=0) succeeds"


def test_custom_expectations_as_text_or_class_names_never_show_pii(tmp_path: Path) -> None:
    suite = _suite(
        tmp_path,
        "billing_customers",
        _quality(1, _gx("{expectation_type: ExpectColumnValuesToBeInSet, "
                        "kwargs: {value_set: [P, B]}}", name="known types")),
        _quality(2, _gx('{"type": "expect_column_value_lengths_to_be_between", '
                        '"kwargs": {"max_value": 12}}')),
    )  # fmt: skip
    assert suite.rule("known_types").expectations[0].type == "expect_column_values_to_be_in_set"
    names = ["Ann Lee", "Christopher Robinson", "Bo Li", "Di Wu"]
    frame = _billing_frame(4, cust_type=["P", "B", "P", "X"], name=names)
    results = _run(suite, frame, tmp_path / "data.parquet", "known_types", "name_custom")
    types, name = _meta(results["known_types"]), _meta(results["name_custom"])
    assert not results["known_types"].passed and types["failing_keys"] == ["10000003"]
    assert types["failing_values"] == ["X"] and types["failing_records"] == [4]
    assert not results["name_custom"].passed and name["failing_keys"] == ["10000001"]
    assert name["unexpected_count"] == 1 and "failing_values" not in name  # name is PII
    assert results["name_custom"].severity == dg.AssetCheckSeverity.WARN  # no severity: warning
    _assert_no_pii(list(results.values()), set(names))


def test_great_expectations_is_imported_to_load_a_contract_only_for_a_custom_rule(
    tmp_path: Path,
) -> None:
    """Loading the definitions stays quick (the import costs ~5 s) unless a rule needs it."""
    project = copy_project(tmp_path / "project", data=False)
    code = (
        "import sys; from pipelines.checks import asset_suites; "
        "from pipelines.contracts import load_project; "
        "asset_suites(load_project(sys.argv[1])); print('great_expectations' in sys.modules)"
    )

    def imported() -> str:
        run = subprocess.run([sys.executable, "-c", code, str(project)], cwd=ROOT,
                             capture_output=True, text=True, check=True)  # fmt: skip
        return run.stdout.strip()

    assert imported() == "False"
    edit_contract(project, "billing_customers",
                   _quality(5, _gx("expect_column_values_to_not_be_null")))  # fmt: skip
    assert imported() == "True"
