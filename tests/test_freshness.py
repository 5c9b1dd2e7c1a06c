"""The golden contracts' SLA (slaProperties frequency and latency) as Dagster freshness
policies on the golden assets, and the daily schedule, read from the definitions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

from conftest import ROOT, copy_project, edit_contract
from pipelines.contracts import ContractError, load_project
from pipelines.graph import SCHEDULE, build_definitions, instance_for


def test_golden_assets_carry_their_contract_sla_as_a_freshness_policy(tmp_path: Path) -> None:
    graph = build_definitions(ROOT, warehouse=str(tmp_path)).resolve_asset_graph()
    policies = {k.to_user_string(): graph.get(k).freshness_policy
                for k in graph.get_all_asset_keys()}  # fmt: skip
    for entity in ("customer", "account", "contract"):
        policy = policies.pop(f"golden/{entity}")
        # published daily (warn after a day without a publish), a change in within 4 hours
        assert policy.fail_window.to_timedelta() == timedelta(hours=28)
        assert policy.warn_window.to_timedelta() == timedelta(hours=24)
    assert set(policies.values()) == {None}  # the intermediate steps promise nothing


def test_a_daily_schedule_runs_the_job_and_is_off_until_turned_on(tmp_path: Path) -> None:
    schedule = build_definitions(ROOT, warehouse=str(tmp_path)).resolve_schedule_def(SCHEDULE)
    assert (schedule.job_name, schedule.cron_schedule, schedule.execution_timezone) == (
        "mdm", "0 2 * * *", "UTC"
    )  # fmt: skip
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED


def test_a_warehouse_instance_evaluates_freshness(tmp_path: Path) -> None:
    assert instance_for(tmp_path).get_settings("freshness") == {"enabled": True}


def _sla(value, unit):
    def edit(document: dict) -> None:
        document["slaProperties"][0].update(value=value, unit=unit)

    return edit


@pytest.mark.parametrize(
    ("value", "unit", "place", "message"),
    [
        (1, "fortnight", "slaProperties[0].unit",
         "frequency needs a unit of min, h, d or w, not 'fortnight'"),
        (0, "d", "slaProperties[0].value", "frequency needs a positive number, not 0"),
        ("daily", "d", "slaProperties[0].value", "frequency needs a positive number, not 'daily'"),
    ],
)  # fmt: skip
def test_an_sla_the_project_cannot_read_fails_at_load(
    tmp_path: Path, value, unit: str, place: str, message: str
) -> None:
    project = copy_project(tmp_path)
    path = edit_contract(project, "golden_account", _sla(value, unit))
    with pytest.raises(ContractError) as raised:
        load_project(project)
    assert f"{path}: {place}: {message}" in str(raised.value)
