"""Data contracts: the repository's contracts are valid ODCS and map the real sample layout;
broken contracts fail at load time naming the file, the place and what is wrong."""

from __future__ import annotations

import csv
import functools
import json
import shutil
from importlib.resources import files
from pathlib import Path

import polars as pl
import pytest
import yaml
from jsonschema import Draft201909Validator
from open_data_contract_standard.model import OpenDataContractStandard

from conftest import ROOT, copy_project, edit_contract, edit_text
from pipelines.contracts import (
    ContractError,
    GoldenContract,
    Project,
    SourceContract,
    load_project,
    load_project_contracts,
)
from pipelines.generator import generate
from pipelines.generator.project import write_project
from pipelines.lint import lint_project
from pipelines.ownership import load_ownership

CONTRACT_FILES = sorted((ROOT / "contracts").glob("*.odcs.yaml"))
SOURCES = {  # dataset -> (contract file, sample file, key, delimiter, entity, team)
    "crm_contacts": (
        "crm_contacts.odcs.yaml", "data/samples/crm/contacts.csv", "Id", ",", "customer", "crm"),
    "billing_customers": ("billing_customers.odcs.yaml", "data/samples/billing/customers.csv",
                          "cust_no", ",", "customer", "billing"),
    "erp_partners": ("erp_partners.odcs.yaml", "data/samples/erp/partners.csv", "PARTNER", ";",
                     "customer", "erp"),
    "crm_accounts": (
        "crm_accounts.odcs.yaml", "data/samples/crm/accounts.csv", "Id", ",", "account", "crm"),
    "billing_accounts": ("billing_accounts.odcs.yaml", "data/samples/billing/accounts.csv",
                         "acct_no", ",", "account", "billing"),
    "erp_contract_accounts": ("erp_contract_accounts.odcs.yaml",
                              "data/samples/erp/contract_accounts.csv", "VKONT", ";", "account",
                              "erp"),
    "erp_contracts": ("erp_contracts.odcs.yaml", "data/samples/erp/contracts.csv", "VERTRAG", ";",
                      "contract", "erp"),
}  # fmt: skip
GOLDEN_COLUMNS = [
    "golden_id", "party_type", "given_name", "family_name", "full_name", "organization_name",
    "email", "phone", "address_line", "city", "postcode", "country", "birth_date", "tax_id",
    "source_count", "confidence", "valid_from", "version",
]  # fmt: skip


@functools.cache
def _project() -> Project:
    return load_project(ROOT)


def _sources() -> dict[str, SourceContract]:
    return {c.dataset: c for c in _project().sources}


def _header(contract: SourceContract) -> list[str]:
    with contract.server.path.open(encoding=contract.server.encoding, newline="") as f:
        return next(csv.reader(f, delimiter=contract.server.delimiter or ","))


# --- the repository's contracts ---------------------------------------------------------------


def test_repository_holds_a_contract_per_source_dataset_golden_and_staged_table() -> None:
    assert [p.name for p in CONTRACT_FILES] == sorted(
        [f for f, *_ in SOURCES.values()]
        + [f"{role}_{entity}.odcs.yaml" for role in ("golden", "staged")
           for entity in ("customer", "account", "contract")]
    )  # fmt: skip


def _assert_valid_odcs(path: Path) -> None:
    """`path` is valid against the ODCS JSON schema and the ODCS pydantic model, v3.2.0."""
    schema = json.loads((files("open_data_contract_standard") / "schema.json").read_text())
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = [e.message for e in Draft201909Validator(schema).iter_errors(document)]
    assert errors == [], path
    model = OpenDataContractStandard.model_validate(document)
    assert model.apiVersion == "v3.2.0" and model.kind == "DataContract"
    assert model.team is not None and not isinstance(model.team, list)


@pytest.mark.parametrize("path", CONTRACT_FILES, ids=lambda p: p.name)
def test_contract_is_valid_against_the_odcs_json_schema_and_model(path: Path) -> None:
    _assert_valid_odcs(path)


def test_the_repository_project_lints_clean() -> None:
    report = lint_project(ROOT)
    assert report.files == tuple(CONTRACT_FILES) and report.problems == ()


def test_loader_returns_three_source_mappings_and_the_golden_table() -> None:
    project = _project()
    sources = _sources()
    assert set(sources) == set(SOURCES)
    for dataset, (file, sample, key, delimiter, entity, team) in SOURCES.items():
        contract = sources[dataset]
        assert contract.file.name == file
        assert contract.team == team == contract.source_system
        assert contract.entity == entity and contract.key == key
        assert contract.server.path == ROOT / sample
        assert contract.server.format == "csv" and contract.server.delimiter == delimiter
        assert contract.server.encoding == "UTF-8"
        key_property = contract.property_named(key)
        assert key_property.primary_key and key_property.required and key_property.unique
        rules = {q["metric"]: (q["mustBeLessThan"], q["unit"]) for q in key_property.quality}
        assert rules == {"nullValues": (1, "percent"), "duplicateValues": (1, "percent")}
    tables = {c.entity: c.table for c in project.golden}
    assert tables == {e: f"golden.{e}" for e in ("customer", "account", "contract")}
    (golden,) = [c for c in project.golden if c.entity == "customer"]
    assert isinstance(golden, GoldenContract)
    assert (golden.table, golden.entity, golden.team) == ("golden.customer", "customer", "mdm")
    assert [p.name for p in golden.properties] == GOLDEN_COLUMNS
    assert golden.property_named("golden_id").primary_key
    # slaProperties as written: golden tables are published daily, within 4 hours
    assert [(s["property"], s["value"], s["unit"]) for s in golden.sla] == [
        ("frequency", 1, "d"), ("latency", 4, "h"),
    ]  # fmt: skip
    (retention,) = sources["crm_contacts"].sla
    assert retention["element"] == "contacts.LastModifiedDate"


@pytest.mark.parametrize("dataset", SOURCES)
def test_contract_properties_are_exactly_the_sample_header(dataset: str) -> None:
    contract = _sources()[dataset]
    header = _header(contract)
    assert [p.name for p in contract.properties] == header
    assert set(contract.mapping.source_columns()) <= set(header)


@pytest.mark.parametrize("dataset", SOURCES)
def test_mapping_parses_every_date_and_code_in_the_sample(dataset: str) -> None:
    contract = _sources()[dataset]
    frame = pl.read_csv(
        contract.server.path, separator=contract.server.delimiter or ",", infer_schema=False
    )
    for name, rule in contract.mapping.fields.items():
        assert rule.column is not None or rule.columns is not None, name
        raw = frame[rule.column] if rule.column else None
        if rule.formats:
            assert raw is not None
            raw = raw.filter(~raw.is_in(list(rule.missing or ())))
            column = pl.col(raw.name)
            parse = column.str.to_date if name == "birth_date" else column.str.to_datetime
            parsed = raw.to_frame().select(
                pl.coalesce([parse(f, strict=False) for f in rule.formats])
            )
            unparsed = raw.filter(raw.is_not_null() & parsed.to_series().is_null())
            assert unparsed.len() == 0, (name, unparsed.head(3).to_list())
        if rule.values:
            assert raw is not None
            assert set(raw.drop_nulls().unique()) == set(rule.values), name


def test_mappings_express_each_systems_layout() -> None:
    crm, billing, erp = (
        _sources()[s].mapping.fields for s in ("crm_contacts", "billing_customers", "erp_partners")
    )
    assert crm["given_name"].column == "FirstName"
    assert crm["family_name"].columns == ("LastName", "Suffix")
    assert crm["organization_name"].when == {"RecordType": ("Business",)}
    assert crm["country"].column == "MailingCountry" and crm["country"].values is None
    assert crm["birth_date"].formats == ("%Y-%m-%d", "%d %b %Y")
    assert billing["full_name"].model_dump(exclude_defaults=True) == {
        "column": "name",
        "when": {"cust_type": ("P",)},
        "layout": "auto",
    }
    assert billing["organization_name"].when == {"cust_type": ("B",)}
    assert billing["party_type"].values == {"P": "person", "B": "organization"}
    assert billing["birth_date"].formats == ("%d/%m/%Y", "%d.%m.%Y")
    assert (erp["given_name"].column, erp["family_name"].column) == ("NAME_FIRST", "NAME_LAST")
    assert erp["full_name"].model_dump(exclude_defaults=True) == {
        "column": "NAME1",
        "when": {"BU_TYPE": ("1",)},
        "layout": "family_given",
    }
    assert erp["organization_name"].when == {"BU_TYPE": ("2",)}
    assert erp["address_line"].columns == ("STREET", "HOUSE_NUM1")
    assert erp["birth_date"].formats == ("%Y%m%d", "%d.%m.%Y")
    assert erp["source_updated_at"].formats == ("%Y%m%d%H%M%S",)


def test_pii_columns_are_classified() -> None:
    contracts = {c.name: c for c in _project().contracts}
    expected = {
        "crm_contacts": {"FirstName", "LastName", "Email", "Phone", "MailingStreet", "Birthdate"},
        "billing_customers": {"name", "email", "tel", "addr1", "postcode", "dob", "vat_no"},
        "erp_partners": {"NAME_FIRST", "NAME_LAST", "NAME1", "SMTP_ADDR", "BIRTHDT", "TAXNUM"},
        "golden_customer": {"given_name", "family_name", "email", "phone", "birth_date"},
    }
    for name, columns in expected.items():
        pii = contracts[name].pii
        assert columns <= set(pii), name
        assert set(pii.values()) <= {"restricted", "confidential"}, name
    assert "golden_id" not in contracts["golden_customer"].pii
    assert contracts["crm_contacts"].pii["Birthdate"] == "restricted"


# --- broken contracts -------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the repository's project folder (contracts + ownership) to break."""
    shutil.copytree(ROOT / "contracts", tmp_path / "contracts")
    shutil.copy(ROOT / "ownership.yaml", tmp_path / "ownership.yaml")
    return tmp_path


def _problems(project: Path) -> list[str]:
    with pytest.raises(ContractError) as caught:
        load_project(project)
    return [str(p) for p in caught.value.problems]


def test_misspelt_nested_field_is_caught_by_the_schema(project: Path) -> None:
    path = edit_text(
        project,
        "erp_partners.odcs.yaml",
        "      - name: CITY1\n        logicalType: string",
        "      - name: CITY1\n        logicalTyp: string",
    )
    # the pydantic model alone lets it through: this is why the JSON schema is checked too
    OpenDataContractStandard.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    # one problem: not also "needs a logicalType", which the misspelling explains
    assert _problems(project) == [
        f"{path}: schema[0].properties[9].logicalTyp: is not a field ODCS allows here"
        " (did you mean 'logicalType'?)"
    ]


def test_an_operator_on_a_custom_rule_is_not_allowed_and_not_suggested_back(
    project: Path,
) -> None:
    """ODCS knows mustBeLessThan, but not on a custom rule: no "did you mean" the same word."""
    rule = (
        "        description: An empty extract is a failed export, not a company without"
        " customers.\n"
    )
    path = edit_text(
        project,
        "billing_customers.odcs.yaml",
        rule,
        rule + "      - type: custom\n        engine: great-expectations\n"
        "        implementation: expect_table_row_count_to_be_between\n"
        "        mustBeLessThan: 5\n",
    )
    assert _problems(project) == [
        f"{path}: schema[0].quality[1].mustBeLessThan: is not allowed here: custom rules take no"
        " operator (their expectation decides)"
    ]


def test_a_field_odcs_has_elsewhere_is_not_suggested_back(project: Path) -> None:
    path = edit_text(project, "golden_customer.odcs.yaml", "status: active\n",
                 "status: active\nlogicalType: string\n")  # fmt: skip
    assert _problems(project) == [
        f"{path}: logicalType: is an ODCS field, but not one allowed here"
    ]


def test_wrong_logical_type_value_names_the_place(project: Path) -> None:
    path = edit_text(
        project,
        "billing_customers.odcs.yaml",
        "      - name: town\n        logicalType: string",
        "      - name: town\n        logicalType: text",
    )
    (problem,) = _problems(project)
    assert problem.startswith(f"{path}: schema[0].properties[5].logicalType: 'text' is not one of")


def test_unknown_team_names_contract_and_team(project: Path) -> None:
    path = edit_text(project, "crm_contacts.odcs.yaml", "  name: crm\n", "  name: sales\n")
    assert _problems(project) == [
        f"{path}: team.name: contract 'crm_contacts' names team 'sales', which"
        f" {project / 'ownership.yaml'} does not define; the known teams are"
        " billing, crm, erp, mdm"
    ]


def test_missing_team_is_an_error_not_a_default_owner(project: Path) -> None:
    path = edit_text(project, "golden_customer.odcs.yaml", "team:\n  name: mdm\n", "team:\n")
    assert _problems(project) == [
        f"{path}: team.name: is required: the team of ownership.yaml",
    ]


def test_mapping_column_absent_from_the_schema_is_an_error(project: Path) -> None:
    path = edit_text(project, "erp_partners.odcs.yaml", "{column: CITY1}", "{column: CITY}")
    assert _problems(project) == [
        f"{path}: customProperties[1].value.fields.city.column: column 'CITY' is not a"
        " property of the contract's schema (did you mean 'CITY1'?)"
    ]


def test_mapping_condition_column_absent_from_the_schema_is_an_error(project: Path) -> None:
    path = edit_text(
        project, "billing_customers.odcs.yaml", "when: {cust_type: B}", "when: {type: B}"
    )
    (problem,) = _problems(project)
    assert problem.startswith(
        f"{path}: customProperties[1].value.fields.organization_name.when.type: column 'type'"
    )


def test_unknown_canonical_field_is_an_error(project: Path) -> None:
    path = edit_text(
        project, "crm_contacts.odcs.yaml", "        city: {column", "        cty: {column"
    )
    (problem,) = _problems(project)
    assert problem.startswith(
        f"{path}: customProperties[1].value.fields.cty: 'cty' is not a field of the canonical"
        " customer (did you mean 'city'?)"
    )


def test_key_that_is_not_a_primary_key_is_an_error(project: Path) -> None:
    path = edit_text(
        project,
        "billing_customers.odcs.yaml",
        "        primaryKey: true\n        primaryKeyPosition: 1\n        required: true\n",
        "        required: false\n",
    )
    assert _problems(project) == [
        f"{path}: schema[0].properties[0].primaryKey: 'cust_no' is the mapping's key"
        " (customProperties[1].value.key) and must be primaryKey: true",
        f"{path}: schema[0].properties[0].required: 'cust_no' is the mapping's key"
        " (customProperties[1].value.key) and must be required: true",
    ]


def test_unquoted_code_in_a_mapping_gets_a_hint(project: Path) -> None:
    path = edit_text(
        project, "erp_partners.odcs.yaml", 'when: {BU_TYPE: "2"}', "when: {BU_TYPE: 2}"
    )
    assert _problems(project) == [
        f"{path}: customProperties[1].value.fields.organization_name.when.BU_TYPE:"
        " Input should be a valid string (quote it in YAML: '2')"
    ]


def test_misspelt_mdm_property_is_not_silently_ignored(project: Path) -> None:
    path = edit_text(
        project, "crm_contacts.odcs.yaml", "property: mdm.mapping", "property: mdm.maping"
    )
    assert _problems(project) == [
        f"{path}: customProperties[1].property: 'mdm.maping' is not an mdm property"
        " (did you mean 'mdm.mapping'?); the mdm properties are mdm.role, mdm.mapping,"
        " mdm.masking, mdm.drift, mdm.delimiter",
        f"{path}: customProperties: a source needs the custom property mdm.mapping",
    ]


def test_every_broken_contract_is_reported_at_once(project: Path) -> None:
    crm = edit_text(project, "crm_contacts.odcs.yaml", "  name: crm\n", "  name: sales\n")
    erp = edit_text(project, "erp_partners.odcs.yaml", "format: csv", "format: xlsx")
    assert _problems(project) == [
        f"{crm}: team.name: contract 'crm_contacts' names team 'sales', which"
        f" {project / 'ownership.yaml'} does not define; the known teams are"
        " billing, crm, erp, mdm",
        f"{erp}: servers[0].format: must be csv or parquet, not 'xlsx'",
        f"{erp}: servers[0].customProperties[0].value: a delimiter applies to csv files only",
    ]


def test_loading_contracts_needs_an_ownership_the_team_is_in(project: Path) -> None:
    ownership = load_ownership(project / "ownership.yaml")
    contracts = load_project_contracts(project, ownership)
    assert sorted(c.team for c in contracts) == sorted(
        [team for *_, team in SOURCES.values()] + ["mdm"] * 6
    )


# --- a project folder beside generated data ---------------------------------------------------


def _documents(folder: Path) -> dict[str, dict]:
    return {
        p.name: yaml.safe_load(p.read_text(encoding="utf-8"))
        for p in sorted((folder / "contracts").glob("*.odcs.yaml"))
    }


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_write_project_differs_from_the_repository_only_in_server_paths(
    tmp_path: Path, fmt: str
) -> None:
    generate(30, 3, tmp_path, fmt=fmt)
    write_project(tmp_path)
    project = load_project(tmp_path)
    assert {c.dataset: c.server.path for c in project.sources} == {
        dataset: tmp_path / sample.removeprefix("data/samples/").replace(".csv", f".{fmt}")
        for dataset, (_, sample, *_) in SOURCES.items()
    }
    assert (tmp_path / "ownership.yaml").read_bytes() == (ROOT / "ownership.yaml").read_bytes()

    written, repository = _documents(tmp_path), _documents(ROOT)
    assert written.keys() == repository.keys()
    for name, document in repository.items():
        for server in document.get("servers", []):
            server["path"] = server["path"].removeprefix("data/samples/")
            if fmt == "parquet":  # parquet has no delimiter
                server["path"] = server["path"].replace(".csv", ".parquet")
                server["format"] = "parquet"
                del server["customProperties"]
        assert written[name] == document, name
    if fmt == "csv":  # comments and layout survive: the text differs in the path line alone
        for path in CONTRACT_FILES:
            ours = (tmp_path / "contracts" / path.name).read_text(encoding="utf-8")
            body = ours.split("\n", 2)[2]  # after the two-line provenance header
            assert body == path.read_text(encoding="utf-8").replace("data/samples/", "")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_generated_project_is_valid_odcs_and_lints_clean(tmp_path: Path, fmt: str) -> None:
    generate(30, 3, tmp_path, fmt=fmt)
    write_project(tmp_path)
    files = sorted((tmp_path / "contracts").glob("*.odcs.yaml"))
    assert [p.name for p in files] == [p.name for p in CONTRACT_FILES]
    for path in files:
        _assert_valid_odcs(path)
    report = lint_project(tmp_path)
    assert report.files == tuple(files) and report.problems == ()


def test_write_project_needs_the_generated_data(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="neither csv nor parquet"):
        write_project(tmp_path)


def test_a_project_is_parsed_once_until_one_of_its_files_changes(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    first = load_project(project)
    assert load_project(project) is first  # the same bytes: not validated again
    edit_contract(project, "golden_customer", lambda document: document.update(version="1.0.1"))
    changed = load_project(project)
    assert changed is not first
    assert next(c for c in changed.golden if c.entity == "customer").version == "1.0.1"
    (project / "contracts" / "golden_account.odcs.yaml").unlink()  # a file gone is a change too
    assert {c.entity for c in load_project(project).golden} == {"customer", "contract"}


def test_a_relative_project_folder_is_another_project_in_another_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("one", "two"):
        copy_project(tmp_path / name)
    monkeypatch.chdir(tmp_path / "one")
    first = load_project(".")
    monkeypatch.chdir(tmp_path / "two")  # the same bytes, another folder
    second = load_project(".")
    assert second is not first  # one key for both would hand folder one's project to two
