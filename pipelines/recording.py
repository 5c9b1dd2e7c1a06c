"""Recording a run, whoever launched it: its row in the ledger (`audit.runs`, with its checks,
quarantined records and publication) and its HTML report.

`mdm run` records the runs it launches as soon as they end. Runs that the Dagster UI or the
daily schedule launch are recorded by two run-status sensors, on success and on failure, which
the daemon of `dagster dev` (`make ui`) runs: the same row and the same report. What a run
used (CPU per step, peak memory) is written by its steps' hooks in the process that ran it
(`usage.mark`), so whichever process records the run reads the same figures. The CLI tags its
runs (`RECORDED_BY`) so that a daemon watching the same instance does not record them twice.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from . import report, usage
from .ledger import append
from .outcome import Outcome, collect, run_events

RECORDED_BY = "mdm/recorded_by"  # run tag: who records the run, when not the sensors


def record(
    instance: dg.DagsterInstance,
    run_id: str,
    project: Path,
    warehouse: Path,
    started_at,
    finished_at=None,
) -> tuple[Outcome, bool, str | None]:
    """Record run `run_id`: (its outcome, whether the ledger took the rows now rather than
    parking them in ledger.pending/, why the report could not be written or None)."""
    outcome = collect(run_events(instance, run_id), warehouse)
    publication = {"switched_at": datetime.now(UTC), "action": "publish",
                   "version": outcome.version, "previous_version": outcome.base_version,
                   "run_id": run_id} if outcome.version else None  # fmt: skip
    recorded = append(
        warehouse,
        usage.run_record(run_id, outcome, instance, project, warehouse, started_at, finished_at),
        outcome.checks,
        outcome.quarantine,
        publication,
    )
    problem = None
    try:
        report.write(warehouse, run_id)
    except Exception as exc:  # noqa: BLE001 - the run is recorded; only its page is missing
        problem = f"{type(exc).__name__}: {exc}"
    usage.spent_path(warehouse, run_id).unlink(missing_ok=True)
    return outcome, recorded, problem


def sensors(
    job: dg.UnresolvedAssetJobDefinition, project: Path, warehouse: str | None
) -> list[dg.SensorDefinition]:
    """The sensors that record the runs of `job` the CLI did not launch (on by default:
    a run nobody records is a run nobody can account for)."""

    def _record(context) -> dg.SkipReason | None:
        run = context.dagster_run
        if run.tags.get(RECORDED_BY):
            return dg.SkipReason(f"run {run.run_id} is recorded by {run.tags[RECORDED_BY]}")
        root = Path(warehouse if warehouse is not None else os.environ["MDM_WAREHOUSE"])
        stats = context.instance.get_run_stats(run.run_id)
        started = datetime.fromtimestamp(stats.start_time or stats.launch_time or 0, UTC)
        ended = datetime.fromtimestamp(stats.end_time, UTC) if stats.end_time else None
        outcome, recorded, problem = record(context.instance, run.run_id, project, root.resolve(),
                                            started, ended)  # fmt: skip
        context.log.info(f"run {run.run_id} recorded in the ledger ({outcome.status}"
                         + ("" if recorded else "; waiting in ledger.pending/") + ")"
                         + (f"; its report could not be written: {problem}" if problem else
                            f"; report {report.path_for(root, run.run_id)}"))  # fmt: skip
        return None

    common = {"monitored_jobs": [job], "default_status": dg.DefaultSensorStatus.RUNNING,
              "minimum_interval_seconds": 30}  # fmt: skip
    finished = dg.run_status_sensor(
        run_status=dg.DagsterRunStatus.SUCCESS, name="mdm_record_finished_runs",
        description="Writes each finished run of the job (launched from the UI or the "
        "schedule) to the ledger (audit.runs) and its HTML report.", **common,
    )(_record)  # fmt: skip
    failed = dg.run_failure_sensor(
        name="mdm_record_failed_runs",
        description="Writes each failed run of the job (launched from the UI or the "
        "schedule) to the ledger (audit.runs) and its HTML report.", **common,
    )(_record)  # fmt: skip
    return [finished, failed]
