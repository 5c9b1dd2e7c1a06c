"""Drift checks: two runs on the sample's customers, the second with a fifth of the CRM's
emails blanked, warn about that attribute's null rate with the previous and current values;
an unchanged re-run raises none."""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg
import pytest

from conftest import blank_emails, copy_project, customers_project, edit_contract
from pipelines import ledger, report
from pipelines.cli import main
from pipelines.contracts import ContractError, load_project
from pipelines.drift import LIMITS, compare, psi
from pipelines.graph import instance_for
from pipelines.plots import number


def _drift_results(warehouse: Path) -> dict[str, dg.AssetCheckEvaluation]:
    """The drift checks of the warehouse's latest run."""
    instance = instance_for(warehouse)
    run = instance.get_runs(limit=1)[0]
    records = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    found = (r.dagster_event.event_specific_data for r in records)
    return {e.check_name: e for e in found if e.check_name.startswith("drift_")}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    project = customers_project(tmp_path_factory.mktemp("project"))
    warehouse = tmp_path_factory.mktemp("warehouse")
    args = ["run", "--project", str(project), "--warehouse", str(warehouse)]
    assert main(args) == 0
    first = _drift_results(warehouse)
    assert main(args) == 0
    unchanged = _drift_results(warehouse)
    blanked = blank_emails(project / "data/samples/crm/contacts.csv", 0.2)
    assert main(args) == 0  # drift warns, never blocks
    return {"first": first, "unchanged": unchanged, "drifted": _drift_results(warehouse),
            "blanked": blanked, "warehouse": warehouse}  # fmt: skip


def test_every_drift_check_passes_without_change(runs: dict) -> None:
    assert set(runs["first"]) == {f"drift_{m}" for m in LIMITS}
    assert all(e.passed for e in runs["first"].values())  # nothing to compare with yet
    assert runs["first"]["drift_golden_count"].metadata["note"].value == "no earlier version"
    assert all(e.passed for e in runs["unchanged"].values())
    count = runs["unchanged"]["drift_golden_count"].metadata
    assert count["previous"].value == count["current"].value > 1_000


def test_blanked_emails_warn_naming_the_attribute_with_both_values(runs: dict) -> None:
    drifted = runs["drifted"]
    nulls = drifted["drift_null_rate"]
    assert not nulls.passed and nulls.severity == dg.AssetCheckSeverity.WARN
    assert "crm.email" in nulls.metadata["attributes"].value
    values = nulls.metadata["values"].value["crm.email"]
    assert values["current"] - values["previous"] == pytest.approx(0.2, abs=0.03)
    assert runs["blanked"] > 200


def test_the_drifted_runs_report_shows_the_warning_with_both_values(runs: dict) -> None:
    latest = ledger.read(runs["warehouse"], "audit.runs").sort("started_at")["run_id"][-1]
    page = report.path_for(runs["warehouse"], latest).read_text(encoding="utf-8")
    row = re.search(r"<tr><td>customer</td><td>null_rate</td>(.*?)</tr>", page)
    assert row and '<td class="warn">WARN</td>' in row[1]
    values = runs["drifted"]["drift_null_rate"].metadata["values"].value["crm.email"]
    assert f"crm.email: {number(values['previous'])} -&gt; {number(values['current'])}" in row[1]
    assert page.count('<td class="warn">WARN</td>') == 1  # the emails, nothing else


def test_psi_and_limits() -> None:
    assert psi([10, 10], [10, 10]) == 0 and psi([100, 1], [1, 100]) > 1
    base = {"golden_records": 100, "source_records": 150, "match_rate": 1 / 3,
            "largest_cluster": 4, "id_events": {}, "null_rate": {"email": 0.1},
            "probabilities": [50, 50]}  # fmt: skip
    grown = {**base, "golden_records": 120, "largest_cluster": 7,
             "id_events": {"merged": 3}, "null_rate": {"email": 0.3}}  # fmt: skip
    failed = {m for m, (ok, _) in compare(base, grown, LIMITS).items() if not ok}
    assert failed == {"golden_count", "largest_cluster", "id_churn", "null_rate"}


def test_a_golden_contract_sets_its_own_limits(tmp_path: Path) -> None:
    project = copy_project(tmp_path)

    def limits(value):
        def edit(document: dict) -> None:
            document["customProperties"].append({"property": "mdm.drift", "value": value})

        return edit

    edit_contract(project, "golden_customer", limits({"null_rate": 0.3}))
    customer = next(c for c in load_project(project).golden if c.entity == "customer")
    assert customer.drift == {"null_rate": 0.3}
    path = edit_contract(copy_project(tmp_path / "bad"), "golden_customer",
                         limits({"nul_rate": 0.3}))  # fmt: skip
    with pytest.raises(ContractError) as raised:
        load_project(tmp_path / "bad")
    problem = f"{path}: customProperties[2].value.nul_rate: is not a drift measure"
    assert problem in str(raised.value)
