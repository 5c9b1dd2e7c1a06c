"""The warehouse instance's event log (`pipelines.eventlog`): Dagster's SQLite databases, kept
open by the process that writes them, and read the same by Dagster's own storage (the UI's).
No `from __future__ import annotations`: Dagster reads the op's context annotation."""

import subprocess
import sys
from pathlib import Path

import dagster as dg
import yaml
from dagster._core.storage.event_log import SqliteEventLogStorage

from pipelines import eventlog
from pipelines.graph import dagster_home, instance_for


@dg.op
def count_rows(context: dg.OpExecutionContext) -> int:
    context.log.info("counted")
    return 3


@dg.job
def tiny():
    count_rows()


def test_an_instance_of_a_warehouse_stores_events_in_open_databases(tmp_path: Path) -> None:
    instance = instance_for(tmp_path)
    storage = instance.event_log_storage
    assert isinstance(storage, eventlog.WarehouseEventLog)
    result = tiny.execute_in_process(instance=instance)
    assert result.success
    stored = instance.all_logs(result.run_id)
    assert len(stored) >= 8  # run start/success, step start/output/success, the op's log line
    # the run's database and the index stay open for the next event; they close with the instance
    assert {result.run_id, "index"} <= set(storage._engines)
    # Dagster's own storage (what `dagster dev` would use without our dagster.yaml) reads the
    # same rows, from another process, while this one still holds the databases open
    base = tmp_path / ".dagster" / "history" / "runs"
    code = (
        "import sys; from dagster._core.storage.event_log import SqliteEventLogStorage as S; "
        f"print(len(S({str(base)!r}).get_logs_for_run({result.run_id!r})))"
    )
    read = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(read.stdout) == len(stored)
    assert len(SqliteEventLogStorage(str(base)).get_logs_for_run(result.run_id)) == len(stored)
    instance.dispose()
    assert storage._engines == {}


def test_only_a_few_databases_stay_open(tmp_path: Path) -> None:
    instance = instance_for(tmp_path)
    runs = [tiny.execute_in_process(instance=instance).run_id for _ in range(eventlog.KEEP_OPEN)]
    storage = instance.event_log_storage
    assert len(storage._engines) == eventlog.KEEP_OPEN  # the index and the 7 latest runs
    assert runs[0] not in storage._engines and runs[-1] in storage._engines
    assert len(instance.all_logs(runs[0])) >= 8  # a closed one opens again when read
    assert runs[0] in storage._engines and len(storage._engines) == eventlog.KEEP_OPEN
    instance.dispose()


def test_dagster_yaml_keeps_other_settings_and_follows_a_moved_warehouse(tmp_path: Path) -> None:
    home = dagster_home(tmp_path / "w")
    config = yaml.safe_load((home / "dagster.yaml").read_text())
    assert config["telemetry"] == {"enabled": False} and config["freshness"] == {"enabled": True}
    assert config["event_log_storage"] == eventlog.config(home / "history" / "runs")
    # a deployment's own setting stays; a warehouse moved elsewhere points at its new place
    config["run_monitoring"] = {"enabled": True}
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    (tmp_path / "w").rename(tmp_path / "moved")
    moved = dagster_home(tmp_path / "moved")
    config = yaml.safe_load((moved / "dagster.yaml").read_text())
    assert config["run_monitoring"] == {"enabled": True}
    assert config["event_log_storage"]["config"]["base_dir"] == str(moved / "history" / "runs")
    # an event log a deployment chose (another module) is left alone
    other = {"module": "dagster_postgres.event_log", "class": "PostgresEventLogStorage",
             "config": {"postgres_url": "postgresql://127.0.0.1/dagster"}}  # fmt: skip
    config["event_log_storage"] = other
    (moved / "dagster.yaml").write_text(yaml.safe_dump(config))
    dagster_home(tmp_path / "moved")
    assert yaml.safe_load((moved / "dagster.yaml").read_text())["event_log_storage"] == other
