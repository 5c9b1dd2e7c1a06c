"""Runs the Dagster UI or the daily schedule launch reach the ledger and get their report, as
`mdm run`'s do: the two run-status sensors record them; a run the CLI launched and recorded
itself is not recorded twice."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from conftest import customers_project
from pipelines import ledger, report, usage
from pipelines.cli import main
from pipelines.graph import JOB, build_definitions, instance_for


def _sensed(defs: dg.Definitions, name: str, instance, result, kind: dg.DagsterEventType):
    """What sensor `name` does about the run of `result`, as the daemon would call it."""
    event = next(e for e in result.all_events if e.event_type == kind)
    context = dg.build_run_status_sensor_context(
        sensor_name=name, dagster_event=event, dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id),
    )  # fmt: skip
    if kind == dg.DagsterEventType.RUN_FAILURE:
        context = context.for_run_failure()
    return defs.resolve_sensor_def(name)(context)


@pytest.fixture(scope="module")
def launched(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One run as the UI's run worker executes it (no CLI), and one the CLI made."""
    project = customers_project(tmp_path_factory.mktemp("project"))
    warehouse = tmp_path_factory.mktemp("warehouse")
    defs = build_definitions(project, str(warehouse))
    instance = instance_for(warehouse)
    result = defs.resolve_job_def(JOB).execute_in_process(instance=instance)
    assert result.success
    before = ledger.read(warehouse, "audit.runs").height
    skipped = _sensed(defs, "mdm_record_finished_runs", instance, result,
                      dg.DagsterEventType.RUN_SUCCESS)  # fmt: skip
    return {"project": project, "warehouse": warehouse, "defs": defs, "instance": instance,
            "result": result, "before": before, "skipped": skipped}  # fmt: skip


def test_the_sensor_records_a_run_the_ui_launched(launched: dict) -> None:
    warehouse, run_id = launched["warehouse"], launched["result"].run_id
    assert launched["before"] == 0  # nothing recorded it while it ran
    assert launched["skipped"] is None
    runs = ledger.read(warehouse, "audit.runs").to_dicts()
    assert len(runs) == 1
    run = runs[0]
    assert run["run_id"] == run_id and run["status"] == "published" and run["version"] == 1
    assert run["records_in"] == 4_213 and json.loads(run["golden"])["customer"] > 1_900
    # what the run worker's hooks wrote about the CPU it used is in the row, then cleared
    stages = json.loads(run["stages"])
    assert all(s["cpu"] is not None and s["cpu"] >= 0 for s in stages.values())
    assert 1 < run["cpu_seconds"] < 120 and 0.1 < run["peak_rss_gb"] < 8
    # the run's own start and end, not when the sensor got to it
    stats = launched["instance"].get_run_stats(run_id)
    assert run["started_at"].timestamp() == pytest.approx(stats.start_time, abs=0.01)
    assert run["finished_at"].timestamp() == pytest.approx(stats.end_time, abs=0.01)
    assert run["wall_seconds"] == pytest.approx(stats.end_time - stats.start_time, abs=0.01)
    assert run["cost"] > 0 and run["cost_per_1k_records"] > 0
    assert not usage.spent_path(warehouse, run_id).exists()
    assert report.path_for(warehouse, run_id).is_file()
    published = ledger.read(warehouse, "audit.publications").to_dicts()
    assert [(p["run_id"], p["version"]) for p in published] == [(run_id, 1)]


def test_a_run_the_cli_recorded_is_not_recorded_again(launched: dict) -> None:
    warehouse, instance = launched["warehouse"], launched["instance"]
    assert main(["run", "--project", str(launched["project"]), "--warehouse", str(warehouse)]) == 0
    cli_run = instance.get_runs(limit=1)[0]
    event = next(
        r.dagster_event for r in instance.all_logs(cli_run.run_id)
        if r.dagster_event and r.dagster_event.event_type == dg.DagsterEventType.RUN_SUCCESS
    )  # fmt: skip
    context = dg.build_run_status_sensor_context(
        sensor_name="mdm_record_finished_runs", dagster_event=event, dagster_instance=instance,
        dagster_run=cli_run,
    )  # fmt: skip
    skipped = launched["defs"].resolve_sensor_def("mdm_record_finished_runs")(context)
    assert isinstance(skipped, dg.SkipReason) and "mdm run" in skipped.skip_message
    assert ledger.read(warehouse, "audit.runs").height == 2  # the UI's run and the CLI's


def test_the_failure_sensor_records_a_failed_run(launched: dict, tmp_path: Path) -> None:
    project = customers_project(tmp_path / "project")
    warehouse = tmp_path / "warehouse"
    defs = build_definitions(project, str(warehouse))
    (project / "data/samples/crm/contacts.csv").unlink()  # the extract is gone by run time
    instance = instance_for(warehouse)
    result = defs.resolve_job_def(JOB).execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    _sensed(defs, "mdm_record_failed_runs", instance, result, dg.DagsterEventType.RUN_FAILURE)
    (run,) = ledger.read(warehouse, "audit.runs").to_dicts()
    assert run["status"] == "failed" and run["version"] is None
    assert "raw__crm_contacts" in run["message"]
    page = report.path_for(warehouse, result.run_id).read_text()
    assert "nothing published" in page and "this run published no version" in page


def test_both_sensors_are_on_by_default(launched: dict) -> None:
    sensors = {s.name: s for s in launched["defs"].sensors}
    assert set(sensors) == {"mdm_record_finished_runs", "mdm_record_failed_runs"}
    assert all(s.default_status == dg.DefaultSensorStatus.RUNNING for s in sensors.values())
