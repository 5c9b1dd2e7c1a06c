"""The project home: CLI entry point, workspace, ownership file, CI entry."""

from __future__ import annotations

import subprocess
import sys

import yaml

from conftest import ROOT


def test_console_script_lists_commands() -> None:
    mdm = ROOT / ".venv" / "bin" / "mdm"
    cmd = [str(mdm)] if mdm.exists() else [sys.executable, "-m", "pipelines.cli"]
    out = subprocess.run([*cmd, "--help"], capture_output=True, text=True, check=True).stdout
    assert "generate" in out and "write synthetic CRM, billing and ERP extracts" in out


def test_dagster_code_location_loads() -> None:
    import dagster as dg

    from pipelines.definitions import defs

    assert isinstance(defs, dg.Definitions)
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    assert workspace["load_from"][0]["python_module"]["module_name"] == "pipelines.definitions"


def test_ownership_names_owners_stewards_and_escalation_per_team() -> None:
    teams = yaml.safe_load((ROOT / "ownership.yaml").read_text())["teams"]
    assert set(teams) == {"crm", "billing", "erp", "mdm"}
    for name, team in teams.items():
        assert team["owners"] and team["stewards"] and team["escalation"], name
        for owner in team["owners"]:
            assert owner.startswith("team:") or "@" in owner, owner


def test_ci_runs_the_readme_test_command() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert "make test" in script and "set -euo pipefail" in script
    assert "make test" in (ROOT / "README.md").read_text()


def test_mdm_owners_names_each_assets_team_and_matches_the_graph(capsys) -> None:
    from pipelines.assets import asset_teams
    from pipelines.cli import main
    from pipelines.contracts import load_project
    from pipelines.graph import build_definitions

    assert main(["owners", "golden/customer"]) == 0
    out = capsys.readouterr().out
    assert "team: mdm" in out and "stewards: sanne.de.vries@example.com" in out
    assert main(["owners", "no/such"]) == 2
    project = load_project(ROOT)
    graph = build_definitions(ROOT, "unused").resolve_asset_graph()
    for key, team in asset_teams(project).items():
        node = graph.get(dg_key(key))
        assert sorted(node.owners) == sorted(project.ownership.team(team).owners), key
        assert project.ownership.team(team).stewards, key  # every asset has a steward


def dg_key(user_string: str):
    import dagster as dg

    return dg.AssetKey(user_string.split("/"))
