"""Erasure (`mdm erase`): a person leaves every table, export and kept version, the ledger and
the intermediates; a tombstone keeps a later run from bringing them back while the sources
still hold them; the audit row holds no personal data."""

from __future__ import annotations

import stat
from pathlib import Path

import duckdb
import pytest

from conftest import ROOT, cells, mdm
from pipelines import versions
from pipelines.publish import audit


def _run(warehouse: Path) -> str:
    code, printed = mdm("run", "--project", str(ROOT), "--warehouse", str(warehouse))
    assert code == 0, printed
    return printed


def _one(database: Path, sql: str, *params):
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def _counts(database: Path) -> tuple[int, int, int]:
    tables = ("customer", "account", "contract")
    sql = "SELECT " + ", ".join(f"(SELECT count(*) FROM golden.{t})" for t in tables)
    return _one(database, sql)[0]


def _person(database: Path) -> dict:
    """A person with several source records, accounts and contracts: their golden IDs, source
    keys and identifying values (what must vanish)."""
    (golden_id,) = _one(
        database,
        """
        SELECT c.golden_id FROM golden.customer c
        JOIN golden.account a ON a.customer_golden_id = c.golden_id
        JOIN golden.contract k ON k.account_golden_id = a.golden_id
        WHERE c.party_type = 'person' AND c.source_count >= 3
        GROUP BY c.golden_id ORDER BY count(DISTINCT k.golden_id) DESC, c.golden_id LIMIT 1""",
    )[0]
    accounts = [r[0] for r in _one(database, "SELECT golden_id FROM golden.account WHERE "
                                   "customer_golden_id = ?", golden_id)]  # fmt: skip
    contracts = [r[0] for r in _one(database, "SELECT golden_id FROM golden.contract WHERE "
                                    "customer_golden_id = ?", golden_id)]  # fmt: skip
    ids = [golden_id, *accounts, *contracts]
    keys = [k for (k,) in _one(database, "SELECT DISTINCT source_key FROM golden.xref "
                               "WHERE list_contains(?, golden_id)", ids)]  # fmt: skip
    values = [v for row in _one(database, "SELECT full_name, email, phone, address_line, tax_id "
                                "FROM golden.customer WHERE golden_id = ?", golden_id)
              for v in row if v]  # fmt: skip
    accounts_of = "SELECT iban, account_name FROM golden.account WHERE customer_golden_id = ?"
    values += [v for row in _one(database, accounts_of, golden_id) for v in row if v]
    return {"id": golden_id, "accounts": accounts, "contracts": contracts, "ids": ids,
            "keys": keys, "values": values}  # fmt: skip


def _found(warehouse: Path, needles: list[str]) -> dict[str, list[str]]:
    """Every file of the warehouse (all of it, private or not) holding one of `needles`."""
    hits = {}
    for path in sorted(warehouse.rglob("*")):
        if path.is_symlink() or not path.is_file() or path.name == ".lock":
            continue
        if path.suffix in (".duckdb", ".parquet"):
            text = "\n".join(cells(path))
        else:
            text = path.read_bytes().decode("utf-8", errors="replace")
        found = [n for n in needles if n in text]
        if found:
            hits[str(path.relative_to(warehouse))] = found
    return hits


@pytest.fixture(scope="module")
def erased(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Two published versions, then the erasure of one person with accounts and contracts.
    Erasure rewrites the warehouse, so it gets one of its own rather than `sample_runs`, which
    the ledger and classification tests must read as it was published, whichever order the
    tests run in (a copy would not do: analytics.duckdb's views name their Parquet by absolute
    path, the original's)."""
    warehouse = tmp_path_factory.mktemp("erasure")
    for _ in range(2):
        _run(warehouse)
    database = warehouse / "mdm.duckdb"
    person = _person(database)
    before = {v.number: _counts(v.database) for v in versions.kept(warehouse)}
    assert len(before) == 2 and set(person["keys"]) <= cells(database)  # they are there
    code, printed = mdm("erase", "--golden-id", person["id"], "--warehouse", str(warehouse),
                         "--reason", "data subject request")  # fmt: skip
    assert code == 0, printed
    return {"warehouse": warehouse, "person": person, "before": before, "printed": printed}


def test_the_person_is_gone_from_every_file_of_every_kept_version(erased: dict) -> None:
    warehouse, person = erased["warehouse"], erased["person"]
    assert _found(warehouse, person["ids"] + person["keys"] + person["values"]) == {}
    assert not (warehouse / "intermediate").exists()  # the last run's scratch files
    held = (1, len(person["accounts"]), len(person["contracts"]))
    for version in versions.kept(warehouse):
        before = erased["before"][version.number]
        assert _counts(version.database) == tuple(b - h for b, h in zip(before, held, strict=True))
        with duckdb.connect(str(version.database), read_only=True) as con:
            found = audit(con, ("customer", "account", "contract"))
        failing = {name: rows for name, rows in found.items() if rows}
        assert failing == {}, version.number  # what a publish requires still holds
    printed = erased["printed"]
    assert f"{len(person['keys'])} source record(s)" in printed
    held = f"account {len(person['accounts'])}, contract {len(person['contracts'])}, customer 1"
    assert held in printed
    assert "from 2 version(s)" in printed


def test_the_audit_row_and_the_tombstones_hold_no_personal_data(erased: dict) -> None:
    warehouse, person = erased["warehouse"], erased["person"]
    rows = _one(warehouse / "ledger.duckdb", "SELECT source_records, golden_records, versions, "
                "reason, length(subject) FROM audit.erasures")  # fmt: skip
    assert rows == [(len(person["keys"]), len(person["ids"]), 2, "data subject request", 16)]
    tombstones = warehouse / "tombstones.parquet"
    assert stat.S_IMODE(tombstones.stat().st_mode) == 0o640
    assert len(cells(tombstones)) == len(person["keys"]) + 1  # the hashes, and one time


def test_a_rollback_cannot_bring_the_person_back(erased: dict) -> None:
    warehouse, person = erased["warehouse"], erased["person"]
    code, printed = mdm("rollback", "--warehouse", str(warehouse))
    assert code == 0, printed
    assert _one(warehouse / "mdm.duckdb", "SELECT count(*) FROM golden.xref WHERE "
                "list_contains(?, golden_id)", person["ids"]) == [(0,)]  # fmt: skip
    code, printed = mdm("rollback", "--to", "2", "--warehouse", str(warehouse))
    assert code == 0, printed


def test_the_next_run_suppresses_the_records_the_sources_still_hold(erased: dict) -> None:
    warehouse, person = erased["warehouse"], erased["person"]
    printed = _run(warehouse)
    assert f"erased earlier, suppressed: {len(person['keys'])}" in printed
    database = warehouse / "mdm.duckdb"
    assert _one(database, "SELECT count(*) FROM golden.xref WHERE list_contains(?, source_key)",
                person["keys"]) == [(0,)]  # fmt: skip
    held = (1, len(person["accounts"]), len(person["contracts"]))
    assert _counts(database) == tuple(b - h for b, h in zip(erased["before"][2], held, strict=True))
    # every source row is still accounted for: landed, rejected, past retention or suppressed
    assert _one(warehouse / "ledger.duckdb", "SELECT records_in FROM audit.runs ORDER BY "
                "started_at DESC LIMIT 1")[0][0] == 9_555  # fmt: skip
    assert _found(warehouse, person["values"]) == {}


def test_erasing_an_account_takes_its_contracts_and_leaves_its_customer(erased: dict) -> None:
    warehouse = erased["warehouse"]
    database = warehouse / "mdm.duckdb"
    account, customer = _one(
        database,
        """
        SELECT a.golden_id, a.customer_golden_id FROM golden.account a
        JOIN golden.contract k ON k.account_golden_id = a.golden_id
        GROUP BY ALL ORDER BY count(*) DESC, a.golden_id LIMIT 1""",
    )[0]
    records = ("SELECT source_system, source_key FROM golden.xref WHERE golden_id = ? "
               "AND valid_to IS NULL ORDER BY ALL LIMIT 1")  # fmt: skip
    system, key = _one(database, records, account)[0]
    contracts = _one(database, "SELECT count(*) FROM golden.contract WHERE account_golden_id = ?",
                     account)[0][0]  # fmt: skip
    before = _counts(database)
    code, printed = mdm("erase", "--source", system, key, "--warehouse", str(warehouse))
    assert code == 0, printed
    assert _counts(database) == (before[0], before[1] - 1, before[2] - contracts)
    assert _one(database, "SELECT count(*) FROM golden.customer WHERE golden_id = ?",
                customer) == [(1,)]  # fmt: skip


def test_an_erasure_of_nothing_known_is_refused(erased: dict, tmp_path: Path) -> None:
    code, printed = mdm("erase", "--golden-id", "CUS-NEVERISSUED", "--warehouse",
                         str(erased["warehouse"]))  # fmt: skip
    assert code == 2 and "no golden ID CUS-NEVERISSUED" in printed
    code, printed = mdm("erase", "--source", "crm", "nobody", "--warehouse",
                         str(erased["warehouse"]))  # fmt: skip
    assert code == 2 and "no record crm:nobody" in printed
    code, printed = mdm("erase", "--golden-id", "CUS-X", "--warehouse", str(tmp_path))
    assert code == 2 and "nothing is published" in printed
