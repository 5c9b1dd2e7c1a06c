"""The run ledger never loses a run's record to a session holding ledger.duckdb open."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines import ledger

_HOLD = textwrap.dedent("""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    print("open", flush=True)
    sys.stdin.readline()
""")


def _run(run_id: str) -> ledger.RunRecord:
    now = datetime.now(UTC)
    return ledger.RunRecord(run_id, now, now, "published", "/p", "published", 10, 0, 5, 1)


def test_rows_wait_while_a_session_holds_the_ledger_and_join_at_the_next_append(
    tmp_path: Path,
) -> None:
    assert ledger.append(tmp_path, _run("first"), [], None)
    reader = subprocess.Popen([sys.executable, "-c", _HOLD, str(tmp_path / ledger.LEDGER)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert reader.stdout.readline().strip() == "open"
        checks = [{"asset": "raw/x", "check_name": "c", "passed": True, "severity": "ERROR",
                   "blocking": True, "metadata": {}}]  # fmt: skip
        assert not ledger.append(tmp_path, _run("second"), checks, None)
        # waiting, and read with the rest meanwhile
        assert len(list((tmp_path / ledger.PENDING).iterdir())) == 1
        # quarantined rows quote source lines: private to the owner group, like the ledger
        assert (tmp_path / ledger.PENDING).stat().st_mode & 0o777 == 0o750
        assert ledger.read(tmp_path, "audit.runs")["run_id"].to_list() == ["first", "second"]
        assert ledger.read(tmp_path, "audit.check_results")["run_id"].to_list() == ["second"]
    finally:
        reader.communicate("\n")
    assert ledger.append(tmp_path, _run("third"), [], None)
    assert not list((tmp_path / ledger.PENDING).iterdir())
    with duckdb.connect(str(tmp_path / ledger.LEDGER), read_only=True) as con:
        runs = con.sql("SELECT run_id FROM audit.runs ORDER BY started_at").fetchall()
        checks = con.sql("SELECT run_id, check_name FROM audit.check_results").fetchall()
    assert runs == [("first",), ("second",), ("third",)]
    assert checks == [("second", "c")]
