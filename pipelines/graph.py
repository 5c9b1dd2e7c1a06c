"""The Dagster definitions of one MDM project folder (DESIGN.md: a deployment is a folder)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import yaml

from . import eventlog, recording, versions
from .analytics import analytics_asset, analytics_check
from .assets import build_assets, golden_contract, owners, project_entities
from .checks import build_checks
from .contracts import load_project
from .drift import drift_checks
from .executor import threaded_executor
from .integrity import build_pipeline_checks
from .memory import STEP_HOOKS
from .publish import publish_asset, version_asset, version_check
from .settings import load_settings
from .warehouse import WarehouseResource

JOB = "mdm"
SCHEDULE = "mdm_daily"
DAILY_AT = "0 2 * * *"  # 02:00 UTC: the golden contracts promise a publish a day (slaProperties)


def build_definitions(
    project_dir: Path | str, warehouse: str | None = None, keep_versions: int | None = None
) -> dg.Definitions:
    """Assets, their contract checks, the main job and the warehouse resource for `project_dir`.

    A contract rule the project cannot evaluate raises `ContractError` here (load time).

    With no `warehouse`, the resource reads MDM_WAREHOUSE at run time (as `dagster dev` runs).
    `keep_versions`: published versions kept for rollback (default `versions.KEEP`).
    """
    project = load_project(project_dir)
    settings = load_settings(Path(project_dir))
    assets = build_assets(project, settings)
    entities = project_entities(project)
    if entities:  # a project of sources alone lands and checks them, and publishes nothing
        assets += [version_asset(project, entities), analytics_asset(project, entities),
                   publish_asset(project, entities, settings.cost)]  # fmt: skip
    checks = build_checks(project, [key for a in assets for key in a.keys])
    checks += build_pipeline_checks(project)
    if entities:
        checks += [version_check(project, entities), analytics_check(project, entities)]
        checks += [drift_checks(golden_contract(project, e), owners(project,
                   golden_contract(project, e).team)) for e in entities]  # fmt: skip
    job = dg.define_asset_job(
        JOB,
        selection=dg.AssetSelection.all(),
        executor_def=threaded_executor,  # steps on threads, one heavy at a time
        hooks=STEP_HOOKS,  # what a step freed is free for the next one (pipelines/memory.py)
        description="Land, standardise, match and publish every entity of the project.",
    )
    path = warehouse if warehouse is not None else dg.EnvVar("MDM_WAREHOUSE")
    daily = dg.ScheduleDefinition(
        name=SCHEDULE, job=job, cron_schedule=DAILY_AT, execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.STOPPED,  # a deployment turns it on
        description="Runs the whole job once a day (off until turned on in the UI).",
    )  # fmt: skip
    return dg.Definitions(
        assets=assets,
        asset_checks=checks,
        jobs=[job],
        schedules=[daily],
        # the runs the UI or the schedule launch reach the ledger and get their report too
        sensors=recording.sensors(job, Path(project_dir), warehouse),
        resources={
            "warehouse": WarehouseResource(
                path=path, keep_versions=versions.KEEP if keep_versions is None else keep_versions
            )
        },  # fmt: skip
    )


def dagster_home(warehouse: Path | str) -> Path:
    """`<warehouse>/.dagster`, with the instance's dagster.yaml: telemetry off, freshness
    policies (the golden contracts' SLA) evaluated, and the event log that keeps its databases
    open (`pipelines.eventlog`) where Dagster keeps them, set again when the warehouse moved.
    Any other setting a deployment wrote there is left as it is."""
    home = Path(warehouse).resolve() / ".dagster"
    home.mkdir(parents=True, exist_ok=True)
    path = home / "dagster.yaml"
    config = yaml.safe_load(path.read_text()) if path.exists() else None
    config = config or {"telemetry": {"enabled": False}, "freshness": {"enabled": True}}
    wanted = eventlog.config(home / "history" / "runs")  # Dagster's default place for them
    events = config.get("event_log_storage")
    if events is None or (events.get("module") == wanted["module"] and events != wanted):
        config["event_log_storage"] = wanted
    text = yaml.safe_dump(config, sort_keys=False)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return home


def instance_for(warehouse: Path) -> dg.DagsterInstance:
    """The persistent Dagster instance of a warehouse (`dagster_home`), which `make ui` opens
    too, so the UI shows the runs the CLI made."""
    return dg.DagsterInstance.from_config(str(dagster_home(warehouse)))
