"""`mdm contracts lint` (pipelines/lint.py) and the governance metadata on the assets (issue #9,
"Governance as code"): every problem of every contract in one go, each one clear line naming the
file and the place, rules translated as the definitions translate them, exit codes; and each
asset built from a contract shows that contract, its team, classification and SLAs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml

from conftest import ROOT, edit_text
from pipelines import contracts as contracts_module
from pipelines.cli import main
from pipelines.contracts import contract_files
from pipelines.graph import build_definitions

NAMES = [p.name for p in contract_files(ROOT)]
ROW_COUNT_RULE = """        severity: error
        description: A publish with no customers is a failed run.
"""  # golden_customer's one schema-level rule: rules added after it are schema[0].quality[1]
BILLING_ROW_COUNT_RULE = """        severity: error
        description: An empty extract is a failed export, not a company without customers.
"""
# the YAML parser's own words, which differ between libyaml (what the lock installs) and Python
UNCLOSED_LIST = {
    "CSafeLoader": "did not find expected ',' or ']'",
    "SafeLoader": "expected ',' or ']', but got ':'",
}[contracts_module._YAML_LOADER.__name__]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the repository's project folder (contracts, ownership, match settings)."""
    shutil.copytree(ROOT / "contracts", tmp_path / "contracts")
    for name in ("ownership.yaml", "matching.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def _lint(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    code = main(["contracts", "lint", *args])
    out, err = capsys.readouterr()
    assert err == ""
    return code, out.splitlines()


def _ok(folder: Path, *but: str) -> list[str]:
    """`path: OK` for every contract file of `folder` except those named."""
    return [f"{folder / 'contracts' / n}: OK" for n in NAMES if n not in but]


def test_the_repository_lints_clean(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = _lint(capsys)  # the default project: the repository root
    assert lines == [*_ok(ROOT), "13 contracts, 0 problems"]
    assert code == 0


BAD_CONTRACTS = {  # case -> file, text, broken text, the one line lint prints for the file
    "invalid YAML": (
        "billing_customers.odcs.yaml", "tags: [source, customer]\n", "tags: [source, customer\n",
        f"line 12, column 12: not valid YAML: {UNCLOSED_LIST} (while parsing a flow sequence at "
        "line 11, column 7)",
    ),
    "a text where a boolean belongs": (
        "crm_contacts.odcs.yaml",
        "      - name: RecordType\n        description: PersonAccount for a person, Business for"
        " an organisation.\n        logicalType: string\n        required: true\n",
        "      - name: RecordType\n        description: PersonAccount for a person, Business for"
        ' an organisation.\n        logicalType: string\n        required: "yes"\n',
        "schema[0].properties[1].required: 'yes' is not of type 'boolean'",
    ),
    "a number where a text belongs": (
        "erp_partners.odcs.yaml", "version: 1.0.0\n", "version: 1\n",
        "version: 1 is not of type 'string' (quote it in YAML: '1')",
    ),
    "a misspelt field": (
        "erp_partners.odcs.yaml",
        "      - name: CITY1\n        logicalType: string",
        "      - name: CITY1\n        logicalTyp: string",
        # one problem: not also "needs a logicalType"
        "schema[0].properties[9].logicalTyp: is not a field ODCS allows here (did you mean "
        "'logicalType'?)",
    ),
    "a property without a logicalType": (
        "erp_partners.odcs.yaml",
        "      - name: CITY1\n        logicalType: string",
        "      - name: CITY1\n        logicalTypeOptions: {maxLength: 40}",
        # one problem: not also each type's options the schema then tries
        "schema[0].properties[9]: needs a logicalType",
    ),
    "a sql rule's ${column} on the schema object": (
        "golden_customer.odcs.yaml", ROW_COUNT_RULE,
        ROW_COUNT_RULE + "      - type: sql\n        query: SELECT count(*) FROM ${table} WHERE "
        "${column} IS NULL\n        mustBe: 0\n",
        "schema[0].quality[1].query: ${column} stands for the rule's property, and a rule on the "
        "schema object has none: name the column in the query",
    ),
    "a library rule naming a column the contract lacks": (
        "golden_customer.odcs.yaml", ROW_COUNT_RULE,
        ROW_COUNT_RULE + "      - metric: duplicateValues\n        arguments:\n          "
        "properties: [email, phone_number]\n        mustBe: 0\n",
        "schema[0].quality[1].arguments.properties: 'phone_number' is not a property",
    ),
    "an operator on a custom rule": (
        "billing_customers.odcs.yaml", BILLING_ROW_COUNT_RULE,
        BILLING_ROW_COUNT_RULE + "      - type: custom\n        engine: great-expectations\n"
        "        implementation: expect_table_row_count_to_be_between\n"
        "        mustBeLessThan: 5\n",
        "schema[0].quality[1].mustBeLessThan: is not allowed here: custom rules take no operator "
        "(their expectation decides)",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_CONTRACTS)
def test_a_bad_contract_is_one_clear_line_naming_file_and_place(
    project: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    name, old, new, problem = BAD_CONTRACTS[case]
    path = edit_text(project, name, old, new)
    code, lines = _lint(capsys, "--project", str(project))
    at = NAMES.index(name)
    expected = _ok(project)
    expected[at] = f"{path}: {problem}"
    assert lines == [*expected, "13 contracts, 1 problem"]
    assert code == 1


def test_every_problem_of_every_file_is_reported_in_one_go(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken file hides nothing of another, nor does a broken ownership.yaml: the contracts
    are still checked against the teams it names."""
    billing = edit_text(
        project, "billing_customers.odcs.yaml", "  name: billing\n", "  name: bill\n"
    )
    edit_text(project, "billing_customers.odcs.yaml", "version: 1.0.0\n", "version: 1\n")
    crm = edit_text(project, "crm_contacts.odcs.yaml", "  name: crm\n", "  name: crm: sales\n")
    accounts = edit_text(
        project, "crm_accounts.odcs.yaml", "id: crm-accounts\n", "id: crm-contacts\n"
    )
    golden = edit_text(project, "golden_customer.odcs.yaml", ROW_COUNT_RULE,
                   ROW_COUNT_RULE + "      - metric: rowCount\n        mustBe: many\n")  # fmt: skip
    ownership = project / "ownership.yaml"
    text = ownership.read_text(encoding="utf-8")
    ownership.write_text(text.replace('"crm-data@example.com"', '"crm-data"'), encoding="utf-8")
    code, lines = _lint(capsys, "--project", str(project))
    yaml_problem = {
        "CSafeLoader": "mapping values are not allowed in this context",
        "SafeLoader": "mapping values are not allowed here",
    }[contracts_module._YAML_LOADER.__name__]
    problems = {
        billing: [
            f"{billing}: version: 1 is not of type 'string' (quote it in YAML: '1')",
        ],
        crm: [f"{crm}: line 31, column 12: not valid YAML: {yaml_problem}"],
        golden: [
            f"{golden}: schema[0].quality[1].mustBe: must be a number to compare a count with, "
            "not 'many'",
        ],
    }
    # crm_accounts takes crm_contacts's id, but crm_contacts does not load: no duplicate yet
    expected = []
    for line in _ok(project):
        expected += problems.get(Path(line.removesuffix(": OK")), [line])
    expected += [
        f"{ownership}: teams.crm.owners[0]: 'crm-data' is neither an email nor team:<name>",
        "13 contracts, 4 problems",
    ]
    assert lines == expected
    assert code == 1

    # with the YAML fixed, the team (unknown to ownership.yaml) and the duplicate id show
    edit_text(project, "billing_customers.odcs.yaml", "version: 1\n", "version: 1.0.0\n")
    edit_text(project, "crm_contacts.odcs.yaml", "  name: crm: sales\n", "  name: crm\n")
    code, lines = _lint(capsys, "--project", str(project))
    contacts = project / "contracts" / "crm_contacts.odcs.yaml"
    assert [line for line in lines if not line.endswith(": OK")] == [
        f"{billing}: team.name: contract 'billing_customers' names team 'bill', which "
        f"{ownership} does not define; the known teams are billing, crm, erp, mdm",
        f"{contacts}: id: 'crm-contacts' is already used by {accounts}; it must be unique",
        *problems[golden],
        f"{ownership}: teams.crm.owners[0]: 'crm-data' is neither an email nor team:<name>",
        "13 contracts, 4 problems",
    ]
    assert code == 1


def test_a_project_whose_contracts_do_not_form_a_graph_is_a_problem(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Once every contract is clean, the definitions are built as `mdm run` builds them."""
    (project / "contracts" / "golden_account.odcs.yaml").unlink()
    code, lines = _lint(capsys, "--project", str(project))
    folder = project / "contracts"
    assert lines == [
        *[f"{folder / n}: OK" for n in NAMES if n != "golden_account.odcs.yaml"],
        f"{folder}: (project): sources map to account but no golden contract (mdm.role: golden, "
        f"physicalName golden.account) is in {folder}",
        "12 contracts, 1 problem",
    ]
    assert code == 1


def test_matching_settings_the_run_cannot_use_are_a_problem(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "matching.yaml").write_text("customer:\n  threshold: 2\n", encoding="utf-8")
    code, lines = _lint(capsys, "--project", str(project))
    assert lines[-2:] == [
        f"{project / 'matching.yaml'}: customer.threshold: Input should be less than 1",
        "13 contracts, 1 problem",
    ]
    assert code == 1


def test_no_project_folder_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["contracts", "lint", "--project", str(tmp_path / "nowhere")]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"mdm contracts lint: no project folder {tmp_path / 'nowhere'}\n"


def test_an_empty_contracts_folder_is_a_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(ROOT / "ownership.yaml", tmp_path / "ownership.yaml")
    code, lines = _lint(capsys, "--project", str(tmp_path))
    assert lines == [
        f"{tmp_path / 'contracts'}: (folder): holds no *.odcs.yaml files",
        "0 contracts, 1 problem",
    ]
    assert code == 1


def test_linting_imports_great_expectations_only_for_a_custom_rule(project: Path) -> None:
    """The command stays quick (the import costs ~5 s) unless a rule needs Great Expectations."""
    code = (
        "import sys; from pipelines.cli import main; "
        "code = main(['contracts', 'lint', '--project', sys.argv[1]]); "
        "print(code, 'great_expectations' in sys.modules)"
    )

    def lint() -> str:
        run = subprocess.run([sys.executable, "-c", code, str(project)], cwd=ROOT,
                             capture_output=True, text=True, check=True)  # fmt: skip
        return run.stdout.splitlines()[-1]

    assert lint() == "0 False"
    edit_text(project, "billing_customers.odcs.yaml", BILLING_ROW_COUNT_RULE,
          BILLING_ROW_COUNT_RULE + "      - type: custom\n        engine: great-expectations\n"
          "        implementation: {type: expect_column_values_to_not_be_null, "
          "kwargs: {column: email}}\n")  # fmt: skip
    assert lint() == "0 True"  # the rule is translated (its expectation built) to lint it


# --- governance metadata on the assets ---------------------------------------------------------


def test_assets_built_from_a_contract_show_it_in_their_definition_metadata(
    tmp_path: Path,
) -> None:
    defs = build_definitions(ROOT, warehouse=str(tmp_path))
    graph = defs.resolve_asset_graph()
    metadata = {k.to_user_string(): dict(graph.get(k).metadata) for k in graph.get_all_asset_keys()}

    raw = metadata["raw/crm_contacts"]
    assert raw == {
        "contract": "crm-contacts",
        "contract_version": "1.0.0",
        "contract_file": dg.MetadataValue.path("contracts/crm_contacts.odcs.yaml"),
        "team": "crm",
        "classification": "restricted: 7, confidential: 3, pii: 10",
        "sla": dg.MetadataValue.json([
            {"property": "retention", "value": 20, "unit": "y",
             "element": "contacts.LastModifiedDate"},
        ]),
    }  # fmt: skip
    golden = {
        "contract": "golden-customer",
        "contract_version": "1.0.0",
        "contract_file": dg.MetadataValue.path("contracts/golden_customer.odcs.yaml"),
        "team": "mdm",
        "classification": "restricted: 7, confidential: 2, pii: 9",
        "sla": dg.MetadataValue.json([
            {"property": "frequency", "value": 1, "unit": "d"},
            {"property": "latency", "value": 4, "unit": "h"},
        ]),
        "documented_rules": dg.MetadataValue.md(
            "- **table**: Records are one customer only when the evidence says they are the "
            "same person or organisation; members of one household, namesakes and a father and "
            "son stay apart."
        ),
    }  # fmt: skip
    for stage in ("candidates", "scored", "clusters", "golden"):
        assert metadata[f"{stage}/customer"] == golden, stage
    staged = metadata["staged/customer"]
    assert (staged["contract"], staged["contract_file"].path, staged["sla"].data) == (
        "staged-customer", "contracts/staged_customer.odcs.yaml", []
    )  # fmt: skip

    # every asset built from a contract names it, and that contract says so itself
    documents = {
        yaml.safe_load(p.read_text(encoding="utf-8"))["id"]: p for p in contract_files(ROOT)
    }
    for asset, shown in metadata.items():
        if asset in ("version", "analytics", "publish"):
            assert "contract" not in shown, asset
            continue
        document = yaml.safe_load(documents[shown["contract"]].read_text(encoding="utf-8"))
        assert shown["contract_file"].path == f"contracts/{documents[shown['contract']].name}"
        assert shown["contract_version"] == document["version"], asset
        assert shown["team"] == document["team"]["name"], asset
        items = document.get("slaProperties", [])
        assert [s["property"] for s in shown["sla"].data] == [s["property"] for s in items]


def test_a_staged_contract_without_the_record_columns_is_a_problem(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Staging writes source_system and source_key on every record; a staged contract without
    them is a load-time problem, not a crash when the checks are built."""
    path = edit_text(project, "staged_customer.odcs.yaml",
                 "      - name: source_key\n        logicalType: string\n        required: true\n",
                 "")  # fmt: skip
    code, lines = _lint(capsys, "--project", str(project))
    assert code == 1
    assert (
        f"{path}: schema[0].properties: a staged contract needs the property 'source_key'" in lines
    )


@pytest.mark.parametrize(
    "folder", sorted(p for p in (ROOT / "benchmarks").glob("febrl*") if p.is_dir()), ids=str
)
def test_the_benchmark_projects_lint_clean(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = _lint(capsys, "--project", str(folder))
    assert code == 0 and lines[-1].endswith(" contracts, 0 problems"), lines
