"""A blocking contract failure publishes nothing: the previous version and its exports stay
byte-identical, the assets after the failed check do not run, and the ledger says why."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
from dagster import AssetKey

from conftest import ROOT
from pipelines.cli import main
from pipelines.graph import instance_for


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}  # fmt: skip


def test_blocking_failure_leaves_the_published_version_untouched(tmp_path: Path, capsys) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for item in ("contracts", "ownership.yaml", "matching.yaml"):
        src = ROOT / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, project / item)
    for system in ("crm", "billing", "erp"):
        shutil.copytree(ROOT / "data/samples" / system, project / "data/samples" / system)
    warehouse = tmp_path / "warehouse"
    assert main(["run", "--project", str(project), "--warehouse", str(warehouse)]) == 0
    before_db = (warehouse / "mdm.duckdb").read_bytes()
    before_exports = _files(warehouse / "export")

    # 40 billing records lose their key: 3% of the file, over the contract's 1% (error)
    billing = project / "data/samples/billing/customers.csv"
    lines = billing.read_text(encoding="utf-8").split("\n")
    for i in range(1, 41):
        lines[i] = "," + lines[i].split(",", 1)[1]
    billing.write_text("\n".join(lines), encoding="utf-8")
    capsys.readouterr()
    assert main(["run", "--project", str(project), "--warehouse", str(warehouse)]) == 1
    err = capsys.readouterr().err
    assert "blocked, nothing published" in err
    assert "raw/billing_customers:cust_no_nullValues failed (40 failing)" in err
    assert "billing_customers.odcs.yaml: schema[0].properties[0].quality[0]" in err

    assert (warehouse / "mdm.duckdb").read_bytes() == before_db
    assert _files(warehouse / "export") == before_exports
    instance = instance_for(warehouse)
    runs = instance.get_runs()  # newest first
    assert len(runs) == 2
    blocked_run = runs[0].run_id
    with duckdb.connect(str(warehouse / "ledger.duckdb"), read_only=True) as con:
        rows = con.sql("SELECT status, message FROM audit.runs ORDER BY started_at").fetchall()
        failed = con.sql(
            "SELECT asset, check_name FROM audit.check_results WHERE NOT passed AND blocking"
        ).fetchall()
    assert [r[0] for r in rows] == ["published", "blocked"]
    assert "cust_no_nullValues" in rows[1][1]
    assert failed == [("raw/billing_customers", "cust_no_nullValues")]
    # nothing after the failed check ran in the blocked run
    latest = instance.get_latest_materialization_event
    for key in (["staged", "customer"], ["golden", "customer"], ["publish"]):
        assert latest(AssetKey(key)).run_id == runs[1].run_id, key
    assert latest(AssetKey(["raw", "billing_customers"])).run_id == blocked_run
