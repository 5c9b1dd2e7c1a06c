"""Contract rules as asset checks (pipelines/checks.py): which checks the repository's contracts
make and which of them block, load-time errors for rules the project cannot evaluate, and real
Great Expectations validations: the committed sample passes every check; a planted duplicate key
fails the blocking check with the key (and no PII) in its metadata; a warning is reported
without blocking; percent thresholds decide on the share of rows."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest
import yaml

from conftest import ROOT
from pipelines.assets import asset_teams, build_assets
from pipelines.checks import (
    AssetSuite,
    Threshold,
    asset_suites,
    build_checks,
    validate_suite,
)
from pipelines.contracts import ContractError, Project, load_project
from pipelines.graph import JOB, build_definitions
from pipelines.settings import load_settings
from pipelines.warehouse import WarehouseResource

RAW_BILLING = dg.AssetKey(["raw", "billing_customers"])
STAGED = dg.AssetKey(["staged", "customer"])

# --- helpers ----------------------------------------------------------------------------------


def _copy_project(target: Path, *, data: bool) -> Path:
    """The repository's project (contracts, ownership, match settings) in `target`, with the
    sample extracts the source contracts read when `data`."""
    shutil.copytree(ROOT / "contracts", target / "contracts")
    for name in ("ownership.yaml", "matching.yaml"):
        shutil.copy(ROOT / name, target / name)
    if data:
        for contract in load_project(ROOT).sources:
            to = target / contract.server.declared_path
            to.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(contract.server.path, to)
    return target


def _edit_contract(project: Path, name: str, edit: Callable[[dict], None]) -> Path:
    path = project / "contracts" / f"{name}.odcs.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), "utf-8")
    return path


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
        "LastModifiedDate_pattern": False, "Id_nullValues": True, "Id_duplicateValues": True,
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
PIPELINE_CHECKS = {
    "golden/customer": {"every_record_accounted_for": True},
    "golden/account": {"every_record_accounted_for": True, "references_resolve": True},
    "golden/contract": {"every_record_accounted_for": True, "references_resolve": True},
    "staged/account": {"no_broken_references": False},
    "staged/contract": {"no_broken_references": False},
    "version": {"version_is_complete_and_consistent": True},
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


def test_definitions_carry_one_multi_check_per_asset_with_owners() -> None:
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


UNSUPPORTED = {
    "sql rule": (
        _quality(3, {"type": "sql", "query": "SELECT count(*) FROM {object}", "mustBe": 0}),
        "schema[0].properties[3].quality[0].type",
        "sql rules are not evaluated",
    ),
    "custom rule": (
        _quality(3, {"type": "custom", "engine": "soda", "implementation": "x"}),
        "schema[0].properties[3].quality[0].type",
        "custom rules are not evaluated",
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
    project = _copy_project(tmp_path, data=False)
    path = _edit_contract(project, "billing_customers", edit)
    with pytest.raises(ContractError) as raised:
        build_definitions(project, str(tmp_path / "w"))
    problems = [p for p in raised.value.problems if p.place == place]
    assert problems, str(raised.value)
    assert problems[0].file == str(path) and message in problems[0].message, str(raised.value)
    assert f"{path}: {place}: " in str(raised.value)


def test_text_rules_are_documentation_and_make_no_check(tmp_path: Path) -> None:
    project = _copy_project(tmp_path, data=False)
    _edit_contract(project, "billing_customers",
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
    project = _copy_project(tmp_path / "project", data=False)

    def tolerate(document: dict) -> None:
        key = document["schema"][0]["properties"][0]
        key["quality"][0] = {"metric": "nullValues", "mustBeLessThan": 1, "unit": "percent",
                             "severity": "error"}  # fmt: skip

    _edit_contract(project, "billing_customers", tolerate)
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
    project = _copy_project(tmp_path / "project", data=False)

    def typed(document: dict) -> None:
        props = document["schema"][0]["properties"]
        props[7] = {"name": "country", "logicalType": "integer",
                    "logicalTypeOptions": {"minimum": 1, "maximum": 9}}  # fmt: skip
        props[12] = {"name": "updated_at", "logicalType": "date", "required": True,
                     "logicalTypeOptions": {"format": "dd/MM/yyyy"}}  # fmt: skip

    _edit_contract(project, "billing_customers", typed)
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
    project_dir = _copy_project(tmp_path / "project", data=True)
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
    project_dir = _copy_project(tmp_path / "project", data=True)
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
    project = _copy_project(tmp_path / "project", data=False)

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

    _edit_contract(project, "billing_customers", rules)  # fmt: skip
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
