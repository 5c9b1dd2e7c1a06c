"""Stable IDs and versioned publishing through the CLI, on the sample's customers: a no-op
re-run, a source update, readers holding the published file open, rollback, pruning, and a
publishing process killed at each step of the switch."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from conftest import ROOT, customers_project
from pipelines import versions
from pipelines.cli import main


def _run(project: Path, warehouse: Path, *extra: str) -> int:
    return main(["run", "--project", str(project), "--warehouse", str(warehouse), *extra])


def _sql(warehouse: Path, query: str, *params) -> pl.DataFrame:
    with duckdb.connect(str(warehouse / "mdm.duckdb"), read_only=True) as con:
        return con.sql(query, params=list(params)).pl()


def _current(warehouse: Path) -> pl.DataFrame:
    return _sql(warehouse, "SELECT source_system, source_key, golden_id FROM golden.xref "
                "WHERE valid_to IS NULL ORDER BY ALL")  # fmt: skip


def _edit(path: Path, change) -> None:
    """Rewrite a CSV's lines (header first) through `change(lines) -> lines`."""
    lines = path.read_text(encoding="utf-8").split("\n")
    path.write_text("\n".join(change(lines)), encoding="utf-8")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Three runs on one warehouse: the first, an unchanged re-run, and a run after one CRM
    record changed its email and one billing record was deleted."""
    project = customers_project(tmp_path_factory.mktemp("project"))
    warehouse = tmp_path_factory.mktemp("warehouse")
    assert _run(project, warehouse) == 0
    first = {
        "xref": _current(warehouse),
        "golden": _sql(warehouse, "SELECT * FROM golden.customer"),
    }
    assert _run(project, warehouse) == 0
    second = {
        "xref": _current(warehouse),
        "golden": _sql(warehouse, "SELECT * FROM golden.customer"),
    }
    # a CRM record alone in its golden record gets a new email; a billing record that shares
    # its golden record with exactly one other record leaves its source
    xref = second["xref"]
    sizes = xref.group_by("golden_id").agg(n=pl.len(), systems=pl.col("source_system"))
    alone = xref.join(sizes.filter(pl.col("n") == 1), on="golden_id").filter(
        pl.col("source_system") == "crm").row(0, named=True)  # fmt: skip
    pair = sizes.filter((pl.col("n") == 2) & pl.col("systems").list.contains("billing"))
    gone = xref.join(pair, on="golden_id").filter(pl.col("source_system") == "billing")
    gone = gone.sort("source_key").row(0, named=True)

    def new_email(lines: list[str]) -> list[str]:
        header = lines[0].split(",")
        at = header.index("Email")
        out = []
        for line in lines:
            cells = line.split(",")
            if cells[0] == alone["source_key"]:
                cells[at] = "changed.address@example.org"
            out.append(",".join(cells))
        return out

    _edit(project / "data/samples/crm/contacts.csv", new_email)
    _edit(
        project / "data/samples/billing/customers.csv",
        lambda lines: [ln for ln in lines if not ln.startswith(gone["source_key"] + ",")],
    )
    assert _run(project, warehouse) == 0
    third = {
        "xref": _current(warehouse),
        "golden": _sql(warehouse, "SELECT * FROM golden.customer"),
    }
    return {"project": project, "warehouse": warehouse, "runs": [first, second, third],
            "alone": alone, "gone": gone}  # fmt: skip


def test_a_rerun_on_unchanged_input_changes_no_id_and_writes_no_event(runs: dict) -> None:
    first, second, _ = runs["runs"]
    warehouse = runs["warehouse"]
    assert first["xref"].height > 4_000
    assert second["xref"].equals(first["xref"])
    events = _sql(warehouse, "SELECT version, event, count(*) AS n FROM audit.id_events "
                  "GROUP BY ALL ORDER BY ALL")  # fmt: skip
    # version 1 created every ID; version 2 did nothing; version 3 (the update) nothing either
    assert events.rows() == [(1, "created", first["golden"].height)]
    # the unchanged records kept their version and valid_from through the re-run
    assert second["golden"].select("golden_id", "valid_from", "version").sort("golden_id").equals(
        first["golden"].select("golden_id", "valid_from", "version").sort("golden_id"))  # fmt: skip
    assert second["golden"]["version"].unique().to_list() == [1]


def test_a_source_update_changes_the_record_not_its_id(runs: dict) -> None:
    _, second, third = runs["runs"]
    warehouse, alone, gone = runs["warehouse"], runs["alone"], runs["gone"]
    golden = third["golden"].filter(pl.col("golden_id") == alone["golden_id"]).row(0, named=True)
    assert golden["email"] == "changed.address@example.org"
    assert golden["version"] == 3
    # every record still in its source kept its golden ID
    kept = second["xref"].join(third["xref"], on=["source_system", "source_key"], suffix="_now")
    assert kept.height == second["xref"].height - 1
    assert (kept["golden_id"] == kept["golden_id_now"]).all()
    # the deleted record's row is closed; its golden record lives on with one record less
    rows = _sql(warehouse, "SELECT golden_id, valid_from, valid_to FROM golden.xref WHERE "
                "source_system = 'billing' AND source_key = ?", gone["source_key"])  # fmt: skip
    assert rows.height == 1 and rows["valid_to"][0] is not None
    assert rows["golden_id"][0] == gone["golden_id"]
    held = third["golden"].filter(pl.col("golden_id") == gone["golden_id"]).row(0, named=True)
    assert held["source_count"] == 1 and held["version"] == 3
    # "what golden ID did this record have" at a time inside version 2, as one query
    at = _sql(warehouse, "SELECT valid_from FROM golden.xref WHERE source_system = 'billing' "
              "AND source_key = ?", gone["source_key"])["valid_from"][0]  # fmt: skip
    then = _sql(warehouse, "SELECT golden_id FROM golden.xref WHERE source_system = 'billing' "
                "AND source_key = ? AND valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)",
                gone["source_key"], at, at)  # fmt: skip
    assert then["golden_id"].to_list() == [gone["golden_id"]]
    # the other golden records did not change: their version is still 1
    changed = third["golden"].filter(pl.col("version") == 3)["golden_id"].sort().to_list()
    assert changed == sorted({alone["golden_id"], gone["golden_id"]})


_READER = textwrap.dedent("""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    def state():
        runs = con.sql("SELECT count(*) FROM audit.runs").fetchall()[0][0]
        lineage = con.sql("SELECT count(*) FROM golden.lineage").fetchall()[0][0]
        return f"{runs} {lineage}"
    print(state(), flush=True)
    sys.stdin.readline()  # the publish happens here
    print(state(), flush=True)
    con.close()
    con = duckdb.connect(sys.argv[1], read_only=True)
    print(state(), flush=True)
""")


def test_a_reader_holding_the_database_open_never_blocks_a_publish(runs: dict) -> None:
    warehouse, project = runs["warehouse"], runs["project"]
    reader = subprocess.Popen([sys.executable, "-c", _READER, str(warehouse / "mdm.duckdb")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        before = reader.stdout.readline().split()
        assert _run(project, warehouse) == 0  # publishes while the reader has the file open
        reader.stdin.write("\n")
        reader.stdin.flush()
        during, after = reader.stdout.readline().split(), reader.stdout.readline().split()
    finally:
        reader.kill()
    # the open session still sees its version, Parquet-backed views included; a new one the new
    assert during == before
    assert int(after[0]) == int(before[0]) + 1 and after[1] == before[1]


def test_rollback_restores_a_kept_version_and_the_next_run_builds_on_it(runs: dict, capsys) -> None:
    warehouse, project = runs["warehouse"], runs["project"]
    now = versions.current(warehouse).number
    runs_then = _sql(warehouse, "SELECT count(*) AS n FROM audit.runs")["n"][0]
    assert main(["rollback", "--warehouse", str(warehouse)]) == 0
    assert versions.current(warehouse).number == now - 1
    assert _sql(warehouse, "SELECT count(*) AS n FROM audit.runs")["n"][0] == runs_then - 1
    assert main(["rollback", "--to", "99", "--warehouse", str(warehouse)]) == 2
    assert "no version 99 is kept" in capsys.readouterr().err
    assert main(["versions", "--warehouse", str(warehouse)]) == 0
    listed = capsys.readouterr().out
    assert f"*{now - 1:>8}" in listed and f" {now:>8}" in listed
    # the next run builds on the restored version, under a number never used before
    assert _run(project, warehouse, "--keep-versions", "2") == 0
    built = versions.current(warehouse)
    assert built.number == now + 1 and built.info()["base"] == now - 1
    # two versions kept: the published one and the newest before it
    assert [v.number for v in versions.kept(warehouse)] == [now, now + 1]
    with duckdb.connect(str(warehouse / "ledger.duckdb"), read_only=True) as con:
        actions = con.sql("SELECT action, version, previous_version FROM audit.publications "
                          "ORDER BY switched_at").fetchall()  # fmt: skip
    assert actions[-2:] == [("rollback", now - 1, now), ("publish", now + 1, now - 1)]


def test_resolve_follows_a_retired_id_to_the_one_holding_its_records(runs: dict, capsys) -> None:
    warehouse = runs["warehouse"]
    alive = runs["runs"][2]["golden"]["golden_id"][0]
    assert main(["resolve", alive, "--warehouse", str(warehouse)]) == 0
    assert f"{alive} (customer): current" in capsys.readouterr().out
    assert main(["resolve", "CUS-NEVERISSUED", "--warehouse", str(warehouse)]) == 2


# Each point kills the publishing process (SIGKILL: no clean-up runs) at one step of writing
# and switching a version; the published tables must be wholly the old version or the new.
_CRASH = textwrap.dedent("""
    import os, signal, sys, types
    from pipelines import publish, versions, warehouse
    from pipelines.cli import main

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    point = sys.argv[1]
    if point == "mid_build":  # the version's database and exports half written
        warehouse._export_files = die
    elif point == "before_switch":  # built and audited
        versions.switch = die
    elif point == "mid_switch":  # the new link made, not yet renamed over `current`
        names = {n: getattr(os, n) for n in dir(os) if not n.startswith("_")}
        versions.os = types.SimpleNamespace(**{**names, "replace": die})
    elif point == "after_switch":  # published, not yet marked nor pruned
        versions.mark_published = die
    sys.exit(main(["run", "--project", sys.argv[2], "--warehouse", sys.argv[3]]))
""")


def test_a_run_killed_while_publishing_leaves_the_old_version_or_the_new(tmp_path: Path) -> None:
    project = customers_project(tmp_path / "project")
    warehouse = tmp_path / "warehouse"
    assert _run(project, warehouse) == 0
    # one warehouse through every point in turn: each run finds the last one's leftovers
    for point, publishes in [("mid_build", False), ("before_switch", False),
                             ("mid_switch", False), ("after_switch", True)]:  # fmt: skip
        before = versions.current(warehouse).number
        killed = subprocess.run([sys.executable, "-c", _CRASH, point, str(project),
                                 str(warehouse)], cwd=ROOT, capture_output=True)  # fmt: skip
        assert killed.returncode == -9, (point, killed.stderr[-2000:])
        now = versions.current(warehouse).number
        assert now > before if publishes else now == before, point
        # every published table reads whole, from one version
        counts = _sql(warehouse, "SELECT (SELECT count(*) FROM audit.runs) AS runs, "
                      "(SELECT count(*) FROM golden.customer) AS golden, "
                      "(SELECT count(*) FROM golden.lineage) AS lineage")  # fmt: skip
        # a version carries the ledger of the runs before it: version 1 none, the killed
        # run's the first run (a killed run records nothing)
        assert counts["runs"][0] == (1 if publishes else 0), point
        assert counts["golden"][0] > 1_000 and counts["lineage"][0] > 10_000, point
    # the next run clears the unfinished builds and publishes; the killed run's published
    # version stays kept for rollback
    assert _run(project, warehouse) == 0
    kept = versions.kept(warehouse)
    assert [v.number for v in kept] == [1, now, now + 1]
    assert all(v.published for v in kept)
    assert sorted(p.name for p in (warehouse / "versions").iterdir()) == [v.path.name for v in kept]


def test_a_version_is_stamped_with_its_run_start(runs: dict) -> None:
    info = versions.current(runs["warehouse"]).info()
    stamps = _sql(runs["warehouse"], "SELECT max(valid_from) AS t FROM golden.xref")["t"][0]
    assert datetime.fromisoformat(info["as_of"]) >= stamps


def test_one_writer_at_a_time_holds_the_warehouse(runs: dict, capsys) -> None:
    warehouse, project = runs["warehouse"], runs["project"]
    published = versions.current(warehouse).number
    with versions.exclusive(warehouse, "a steward's rollback"):
        assert _run(project, warehouse) == 2
        assert main(["rollback", "--warehouse", str(warehouse)]) == 2
    err = capsys.readouterr().err
    assert err.count("is in use by a steward's rollback (pid") == 2
    assert versions.current(warehouse).number == published
    # released with its holder: the next writer goes ahead
    with versions.exclusive(warehouse, "the next writer"):
        pass


def test_the_version_audit_finds_each_defect_it_guards_against(tmp_path: Path) -> None:
    from pipelines.publish import audit

    con = duckdb.connect(str(tmp_path / "bad.duckdb"))
    con.execute("CREATE SCHEMA golden")
    con.execute("CREATE TABLE golden.customer AS SELECT * FROM (VALUES ('A'), ('B'), ('Z')) "
                "t(golden_id)")  # fmt: skip
    t1, t2, t3 = "2026-11-01", "2026-11-02", "2026-11-03"
    con.execute("""CREATE TABLE golden.xref AS SELECT entity, source_system, source_key,
        golden_id, valid_from::TIMESTAMPTZ AS valid_from, valid_to::TIMESTAMPTZ AS valid_to
        FROM (VALUES
        ('customer', 'crm', '1', 'A', ?, NULL),  -- two current rows for crm:1
        ('customer', 'crm', '1', 'B', ?, NULL),
        ('customer', 'crm', '2', 'A', ?, ?),     -- history overlapping its current row
        ('customer', 'crm', '2', 'C', ?, NULL),  -- C: retired, still in use; no golden record
        ('customer', 'crm', '3', 'A', ?, NULL)
        ) t(entity, source_system, source_key, golden_id, valid_from, valid_to)""",
                [t1, t2, t1, t3, t2, t1])  # fmt: skip
    con.execute("""CREATE TABLE golden.ids AS SELECT * FROM (VALUES
        ('customer', 'A', 'active', NULL), ('customer', 'B', 'active', NULL),
        ('customer', 'C', 'retired', 'A'), ('customer', 'D', 'retired', 'Q'),
        ('customer', 'A', 'active', NULL)
        ) t(entity, golden_id, status, retired_into)""")  # fmt: skip
    found = audit(con, ("customer",))
    assert found["one_current_xref_row_per_record"] == [("customer", "crm", "1")]
    assert sorted(found["xref_intervals_never_overlap"]) == [
        ("customer", "crm", "1"), ("customer", "crm", "1"),
        ("customer", "crm", "2"), ("customer", "crm", "2"),
    ]  # fmt: skip
    assert found["golden_ids_are_active"] == [("customer", "C")]
    assert found["retired_ids_point_at_known_ids"] == [("customer", "D")]
    assert found["id_registry_has_no_duplicates"] == [("customer", "A")]
    assert sorted(found["golden_customer_matches_xref"]) == [("C",), ("Z",)]
