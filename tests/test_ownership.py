"""ownership.yaml: parsed into typed teams; every error names the file and the place."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from pipelines.ownership import OwnershipError, load_ownership


def _write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "ownership.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def teams() -> dict:
    """The repository's ownership.yaml as a plain document, to break in each test."""
    return yaml.safe_load((ROOT / "ownership.yaml").read_text(encoding="utf-8"))


def test_repository_ownership_loads() -> None:
    ownership = load_ownership(ROOT / "ownership.yaml")
    assert set(ownership.teams) == {"crm", "billing", "erp", "mdm"}
    assert ownership.team("crm").owners == ("crm-data@example.com", "team:crm")
    assert ownership.team("mdm").stewards == (
        "sanne.de.vries@example.com",
        "tom.hughes@example.com",
    )
    assert ownership.team("erp").escalation == ("erp-platform-lead@example.com",)


def test_bad_owner_is_named_with_file_and_place(tmp_path: Path, teams: dict) -> None:
    teams["teams"]["crm"]["owners"] = ["crm-data@example.com", "bob"]
    path = _write(tmp_path, teams)
    with pytest.raises(OwnershipError) as caught:
        load_ownership(path)
    assert str(caught.value) == (
        f"{path}: teams.crm.owners[1]: 'bob' is neither an email nor team:<name>"
    )


@pytest.mark.parametrize("owner", ["team:", "team: crm", "crm@", "@example.com"])
def test_owner_forms_dagster_rejects_are_rejected(tmp_path: Path, teams: dict, owner: str) -> None:
    teams["teams"]["erp"]["owners"] = [owner]
    with pytest.raises(OwnershipError, match=r"teams\.erp\.owners\[0\]: .* is neither an email"):
        load_ownership(_write(tmp_path, teams))


def test_missing_stewards_is_named(tmp_path: Path, teams: dict) -> None:
    del teams["teams"]["billing"]["stewards"]
    path = _write(tmp_path, teams)
    with pytest.raises(OwnershipError) as caught:
        load_ownership(path)
    assert caught.value.problems == (f"{path}: teams.billing.stewards: is required",)


def test_empty_escalation_and_team_owner_as_steward_are_both_reported(
    tmp_path: Path, teams: dict
) -> None:
    teams["teams"]["erp"]["escalation"] = []
    teams["teams"]["mdm"]["stewards"] = ["team:mdm"]  # stewards are people: emails only
    path = _write(tmp_path, teams)
    with pytest.raises(OwnershipError) as caught:
        load_ownership(path)
    assert caught.value.problems == (
        f"{path}: teams.erp.escalation: needs at least one entry",
        f"{path}: teams.mdm.stewards[0]: 'team:mdm' is not an email address",
    )


def test_misspelt_key_is_named(tmp_path: Path, teams: dict) -> None:
    teams["teams"]["crm"]["steward"] = teams["teams"]["crm"].pop("stewards")
    with pytest.raises(OwnershipError) as caught:
        load_ownership(_write(tmp_path, teams))
    message = str(caught.value)
    assert "teams.crm.steward: is not a known field" in message
    assert "teams.crm.stewards: is required" in message


def test_unknown_team_lookup_names_the_file_and_the_known_teams() -> None:
    ownership = load_ownership(ROOT / "ownership.yaml")
    with pytest.raises(OwnershipError) as caught:
        ownership.team("sales")
    assert str(caught.value) == (
        f"{ROOT / 'ownership.yaml'}: teams: no team 'sales'; the known teams are"
        " billing, crm, erp, mdm"
    )


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "ownership.yaml"
    path.write_text("teams:\n  crm:\n    owners: [a@example.com\n", encoding="utf-8")
    with pytest.raises(OwnershipError, match=rf"^{path}: line \d+: not valid YAML"):
        load_ownership(path)
