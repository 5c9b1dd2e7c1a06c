"""Bad input, one planted defect per run (issue #4): a small copy of the default project with a
single defect in one source file, run through the CLI into a fresh warehouse.

Each case asserts its exact outcome: the run stops before publishing with a message naming
source, file and rule, or the defective record is quarantined with its rule and line, or the
defective field is nulled and counted while the record still resolves. Every case also checks
the accounting invariant against a record count made here, independently of the pipeline's
DuckDB reader: per source, current `golden.xref` rows + this run's `audit.quarantine` rows ==
the records of the file (records as Python's strict `csv` reader delimits them, quoted newlines
allowed, plus every physical line a record it cannot parse spans).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from conftest import CUSTOMERS_ONLY, ROOT
from pipelines.cli import main
from pipelines.graph import instance_for

RECORDS = 150  # the first records of each sample extract: small runs, same defects
SOURCES = {  # system -> (source asset name, file as the contract declares it, delimiter)
    "crm": ("crm_contacts", "data/samples/crm/contacts.csv", ","),
    "billing": ("billing_customers", "data/samples/billing/customers.csv", ","),
    "erp": ("erp_partners", "data/samples/erp/partners.csv", ";"),
}
KEYS = {"crm": "Id", "billing": "cust_no", "erp": "PARTNER"}  # each the file's first column
BILLING_FILE = SOURCES["billing"][1]
INJECTION_NAME = "'); DROP TABLE golden.customer; --"
INJECTION_EMAIL = "=cmd|' /C calc'!A0"


# ---------------------------------------------------------------------------------------------
# the project, the run, and an independent record count


def copy_project(target: Path) -> Path:
    """The default project's customer part (its contracts, ownership, matching settings, the
    three systems' sample folders) in `target`, each customer extract cut to its first RECORDS
    records."""
    target.mkdir(parents=True)
    shutil.copytree(ROOT / "contracts", target / "contracts", ignore=CUSTOMERS_ONLY)
    for name in ("ownership.yaml", "matching.yaml"):
        shutil.copy2(ROOT / name, target / name)
    for system in SOURCES:
        shutil.copytree(ROOT / "data/samples" / system, target / "data/samples" / system)
    for _, file, _ in SOURCES.values():
        # the committed samples have no quoted newlines (one record per line; the baseline
        # test counts them)
        path = target / file
        lines = path.read_bytes().split(b"\n")
        path.write_bytes(b"\n".join(lines[: RECORDS + 1]) + b"\n")
    return target


@dataclass
class Run:
    project: Path
    warehouse: Path
    code: int
    out: str
    err: str

    @property
    def published(self) -> bool:
        return (self.warehouse / "mdm.duckdb").exists()

    def sql(self, query: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.warehouse / "mdm.duckdb"), read_only=True) as con:
            return con.execute(query, params or []).fetchall()

    def ledger(self, query: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.warehouse / "ledger.duckdb"), read_only=True) as con:
            return con.execute(query, params or []).fetchall()

    @property
    def run_id(self) -> str:
        return self.ledger("SELECT run_id FROM audit.runs ORDER BY started_at DESC LIMIT 1")[0][0]

    def quarantine(self) -> list[dict]:
        """This run's audit.quarantine rows, from the published database when there is one."""
        query = (
            "SELECT source, file, source_system, source_key, line, row_number, rule, excerpt "
            "FROM audit.quarantine WHERE run_id = ? ORDER BY source, line, row_number, rule"
        )
        read = self.sql if self.published else self.ledger
        names = ["source", "file", "source_system", "source_key", "line", "row_number", "rule",
                 "excerpt"]  # fmt: skip
        return [dict(zip(names, row, strict=True)) for row in read(query, [self.run_id])]

    def golden_of(self, system: str, key: str) -> dict:
        """The golden customer that holds one source record (which must hold exactly one)."""
        rows = self.sql(
            "SELECT g.* FROM golden.xref x JOIN golden.customer g USING (golden_id) "
            "WHERE x.source_system = ? AND x.source_key = ? AND x.valid_to IS NULL",
            [system, key],
        )
        assert len(rows) == 1, f"{system} {key}: {len(rows)} current xref rows"
        with duckdb.connect(str(self.warehouse / "mdm.duckdb"), read_only=True) as con:
            columns = [c[0] for c in con.execute("DESCRIBE golden.customer").fetchall()]
        return dict(zip(columns, rows[0], strict=True))


def run_pipeline(project: Path, warehouse: Path) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["run", "--project", str(project), "--warehouse", str(warehouse)])
    return Run(project, warehouse, code, out.getvalue(), err.getvalue())


def count_records(path: Path, delimiter: str) -> int:
    """Data records of a CSV file, counted without the pipeline's reader: records as a strict
    `csv` reader delimits them (a quoted newline stays inside its record), and for a record it
    cannot parse (a stray or unterminated quote), every physical line that record spans."""
    # latin-1 maps every byte to one character, so the structure (delimiters, quotes, newlines)
    # survives whatever the file's real encoding is; split on \n only (str.splitlines would
    # also split on \x85, \x1c, ... that are bytes of UTF-8 characters)
    text = path.read_bytes().decode("latin-1")
    lines = re.findall(r"[^\n]*\n|[^\n]+$", text)[1:]  # no header line, no data
    reader = csv.reader(iter(lines), delimiter=delimiter, strict=True)
    records = 0
    while True:
        before = reader.line_num
        try:
            row = next(reader)
        except StopIteration:
            return records
        except csv.Error:
            records += reader.line_num - before
            continue
        records += 1 if row else 0  # a blank line is no record


def assert_accounted(run: Run) -> None:
    """The accounting invariant, and no bare traceback whatever happened."""
    assert "Traceback" not in run.err and "Traceback" not in run.out, run.err
    status, message = run.ledger(
        "SELECT status, message FROM audit.runs WHERE run_id = ?", [run.run_id]
    )[0]
    if not run.published:
        # stopped: nothing published, and the ledger says why
        assert run.code == 1 and status in ("failed", "blocked") and message, (status, message)
        assert not (run.warehouse / "export").exists()
        return
    assert run.code == 0 and status == "published", (run.code, status, run.err)
    expected = {s: count_records(run.project / f, d) for s, (_, f, d) in SOURCES.items()}
    xref = dict(run.sql(
        "SELECT source_system, count(*) FROM golden.xref "
        "WHERE entity = 'customer' AND valid_to IS NULL GROUP BY source_system"
    ))  # fmt: skip
    quarantined: dict[str, int] = {}
    for row in run.quarantine():
        quarantined[row["source_system"]] = quarantined.get(row["source_system"], 0) + 1
    accounted = {s: xref.get(s, 0) + quarantined.get(s, 0) for s in SOURCES}
    assert accounted == expected, {"xref": xref, "quarantine": quarantined, "file": expected}
    # the version's copy of this run's quarantine is the ledger's
    in_ledger = run.ledger("SELECT count(*) FROM audit.quarantine WHERE run_id = ?", [run.run_id])
    assert in_ledger[0][0] == sum(quarantined.values())


def assert_stopped(run: Run, status: str, *parts: str) -> None:
    """Exit 1, nothing published, the run recorded with `status` (failed: a step raised;
    blocked: a blocking check failed), and the CLI and the ledger name every one of `parts`."""
    assert run.code == 1, run.out + run.err
    assert not run.published
    assert f"mdm run: {status}, nothing published" in run.err, run.err
    assert run.ledger("SELECT status FROM audit.runs") == [(status,)]
    (message,) = run.ledger("SELECT message FROM audit.runs WHERE run_id = ?", [run.run_id])[0]
    for part in parts:
        assert part in run.err, (part, run.err)
        assert part in message, (part, message)
    assert_accounted(run)


def nulled_values(warehouse: Path) -> dict[str, int]:
    """The `nulled_field_values` metadata of the run's staged/customer materialisation."""
    with instance_for(warehouse) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(["staged", "customer"]))
    assert event is not None and event.asset_materialization is not None
    return dict(event.asset_materialization.metadata["nulled_field_values"].value)


def changed(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    keys = set(after) | set(before)
    return {k: after.get(k, 0) - before.get(k, 0) for k in keys if after.get(k) != before.get(k)}


def raw_value(run: Run, system: str, key: str, column: str) -> str | None:
    name, _, _ = SOURCES[system]
    frame = pl.read_parquet(run.warehouse / "intermediate" / "raw" / f"{name}.parquet")
    return frame.filter(pl.col(KEYS[system]) == key)[column].item()


# ---------------------------------------------------------------------------------------------
# planting defects


def source_path(project: Path, system: str) -> Path:
    return project / SOURCES[system][1]


def rewrite_line(project: Path, system: str, line: int, edit: Callable[[bytes], bytes]) -> bytes:
    """Replace physical line `line` (1-based, the header is line 1); return the new line."""
    path = source_path(project, system)
    lines = path.read_bytes().split(b"\n")
    lines[line - 1] = edit(lines[line - 1])
    path.write_bytes(b"\n".join(lines))
    return lines[line - 1]


def set_field(project: Path, system: str, key: str, column: str, value: str) -> int:
    """Set `column` of the record with key `key` (first column) to `value`, written as a CSV
    writer quotes it; return the record's line number."""
    _, _, delimiter = SOURCES[system]
    path = source_path(project, system)
    lines = path.read_text(encoding="utf-8").split("\n")
    header = next(csv.reader([lines[0]], delimiter=delimiter))
    for number, text in enumerate(lines[1:], start=2):
        fields = next(csv.reader([text], delimiter=delimiter), [])
        if fields and fields[0] == key:
            fields[header.index(column)] = value
            buffer = io.StringIO()
            # the terminator must be \n: the writer quotes values holding its characters
            csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerow(fields)
            lines[number - 1] = buffer.getvalue().removesuffix("\n")
            path.write_text("\n".join(lines), encoding="utf-8")
            return number
    raise AssertionError(f"no {system} record {key}")


def field_of(project: Path, system: str, key: str, column: str) -> str:
    _, _, delimiter = SOURCES[system]
    with source_path(project, system).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter=delimiter):
            if next(iter(row.values())) == key:
                return row[column]
    raise AssertionError(f"no {system} record {key}")


# ---------------------------------------------------------------------------------------------
# fixtures


@dataclass
class Baseline:
    template: Path  # the unmodified small project, copied by every case
    run: Run
    nulled: dict[str, int]
    checks: bool  # whether the pipeline evaluates contract rules as asset checks
    tables: set[tuple[str, str]]

    def singleton(self, system: str, party: str = "person") -> str:
        """A record that is a golden customer on its own: what survives is its own value."""
        return self.run.sql(
            "SELECT x.source_key FROM golden.xref x JOIN golden.customer g USING (golden_id) "
            "WHERE x.source_system = ? AND g.source_count = 1 AND g.party_type = ? "
            "AND x.valid_to IS NULL ORDER BY x.source_key LIMIT 1",
            [system, party],
        )[0][0]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    root = tmp_path_factory.mktemp("baseline")
    template = copy_project(root / "project")
    run = run_pipeline(template, root / "warehouse")
    assert run.code == 0, run.err
    checks = run.ledger("SELECT count(*) FROM audit.check_results")[0][0] > 0
    tables = set(run.sql("SELECT table_schema, table_name FROM information_schema.tables"))
    return Baseline(template, run, nulled_values(run.warehouse), checks, tables)


@pytest.fixture
def project(baseline: Baseline, tmp_path: Path) -> Path:
    return Path(shutil.copytree(baseline.template, tmp_path / "project"))


def run_case(project: Path) -> Run:
    return run_pipeline(project, project.parent / "warehouse")


# ---------------------------------------------------------------------------------------------
# the unmodified copy


def test_unmodified_copy_publishes_every_record(baseline: Baseline) -> None:
    run = baseline.run
    assert run.code == 0 and run.published
    assert run.quarantine() == []
    counts = {s: count_records(run.project / f, d) for s, (_, f, d) in SOURCES.items()}
    assert counts == {"crm": RECORDS, "billing": RECORDS, "erp": RECORDS}
    assert_accounted(run)


# ---------------------------------------------------------------------------------------------
# files the run cannot use: stopped before publishing, the message names source, file and rule


def test_missing_required_column_stops_the_run(project: Path) -> None:
    path = source_path(project, "billing")
    path.write_bytes(path.read_bytes().replace(b"cust_no,", b"customer_no,", 1))
    run = run_case(project)
    assert_stopped(run, "failed", "billing_customers", BILLING_FILE, "missing_required_column",
                   "['cust_no']")  # fmt: skip


def test_wrong_delimiter_stops_the_run_with_a_hint(project: Path) -> None:
    path = source_path(project, "billing")
    path.write_text(path.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")
    run = run_case(project)
    assert_stopped(run, "failed", "billing_customers", BILLING_FILE, "missing_required_column",
                   "the header has one column: is the delimiter ';', not ','?")  # fmt: skip


def test_missing_file_stops_the_run(project: Path) -> None:
    source_path(project, "crm").unlink()
    run = run_case(project)
    assert_stopped(run, "failed", "crm_contacts", SOURCES["crm"][1], "file_missing")


def test_unreadable_file_stops_the_run(project: Path) -> None:
    # tests may run as root, for whom no file mode makes a file unreadable: a directory where
    # the extract should be cannot be read by anyone
    path = source_path(project, "crm")
    path.unlink()
    path.mkdir()
    run = run_case(project)
    assert_stopped(run, "failed", "crm_contacts", SOURCES["crm"][1], "unreadable", "Is a directory")


def test_empty_file_stops_the_run(project: Path) -> None:
    source_path(project, "crm").write_bytes(b"")
    run = run_case(project)
    assert_stopped(run, "failed", "crm_contacts", SOURCES["crm"][1], "empty_file")


def test_header_only_file_is_stopped_by_the_row_count_rule(
    baseline: Baseline, project: Path
) -> None:
    path = source_path(project, "crm")
    path.write_bytes(path.read_bytes().split(b"\n")[0] + b"\n")
    assert count_records(path, ",") == 0
    assert baseline.checks, "the contract checks must be built for this case"
    run = run_case(project)
    # the landing step reads a header-only file fine (no records, no rejects); the contract's
    # `rowCount mustBeGreaterThan 0` (severity error) blocks the run
    assert_stopped(run, "blocked", "raw/crm_contacts:rowCount")
    (passed,) = run.ledger(
        "SELECT passed FROM audit.check_results WHERE asset = 'raw/crm_contacts' "
        "AND check_name = 'rowCount'"
    )[0]
    assert passed is False


# ---------------------------------------------------------------------------------------------
# records the reader cannot parse: quarantined with rule and line, the run publishes


def assert_rejected(run: Run, system: str, line: int, rule: str, text: bytes) -> None:
    """Exactly one quarantine row, for file line `line` of `system`, with `rule`."""
    name, file, _ = SOURCES[system]
    assert run.code == 0, run.err
    rows = run.quarantine()
    for row in rows:  # an unterminated quote takes the line's newline into the record
        row["excerpt"] = row["excerpt"] and row["excerpt"].removesuffix("\n")
    assert rows == [{
        "source": name, "file": file, "source_system": system, "source_key": None,
        "line": line, "row_number": None, "rule": rule,
        "excerpt": text.decode("utf-8", errors="replace")[:200],
    }]  # fmt: skip
    assert_accounted(run)


def test_line_with_too_many_columns_is_quarantined(project: Path) -> None:
    text = rewrite_line(project, "billing", 11, lambda line: line + b",surplus")
    run = run_case(project)
    assert_rejected(run, "billing", 11, "wrong_column_count", text)
    key = text.split(b",")[0].decode()
    assert run.sql("SELECT count(*) FROM golden.xref WHERE source_key = ?", [key]) == [(0,)]


def test_line_with_too_few_columns_is_quarantined(project: Path) -> None:
    text = rewrite_line(project, "billing", 21, lambda line: line.rsplit(b",", 1)[0])
    run = run_case(project)
    assert_rejected(run, "billing", 21, "wrong_column_count", text)


def test_line_with_three_surplus_columns_is_one_quarantined_record(project: Path) -> None:
    text = rewrite_line(project, "billing", 11, lambda line: line + b",a,b,c")
    run = run_case(project)
    assert_rejected(run, "billing", 11, "wrong_column_count", text)


def test_line_with_two_missing_columns_is_one_quarantined_record(project: Path) -> None:
    text = rewrite_line(project, "billing", 21, lambda line: line.rsplit(b",", 2)[0])
    run = run_case(project)
    assert_rejected(run, "billing", 21, "wrong_column_count", text)


def open_quote_in_name(line: bytes) -> bytes:
    fields = line.split(b",")
    assert not fields[2].startswith(b'"'), line  # an unquoted name, so the quote is stray
    fields[2] = b'"' + fields[2]
    return b",".join(fields)


def test_unterminated_quote_on_the_last_line_is_quarantined(project: Path) -> None:
    last = RECORDS + 1
    text = rewrite_line(project, "billing", last, open_quote_in_name)
    run = run_case(project)
    assert_rejected(run, "billing", last, "unterminated_quote", text)


def test_unterminated_quote_inside_the_file_loses_no_record(project: Path) -> None:
    rewrite_line(project, "billing", 41, open_quote_in_name)
    run = run_case(project)
    assert run.code == 0, run.err
    rules = {(r["line"], r["rule"]) for r in run.quarantine()}
    assert (41, "unterminated_quote") in rules
    assert_accounted(run)


def test_invalid_encoding_in_one_line_is_quarantined(project: Path) -> None:
    def latin1_city(line: bytes) -> bytes:
        fields = line.split(b";")
        assert len(fields) == 16, line
        fields[9] = "München".encode("latin-1")
        return b";".join(fields)

    lines = source_path(project, "erp").read_bytes().split(b"\n")
    number = next(n for n, line in enumerate(lines, start=1) if n > 30 and line.isascii())
    text = rewrite_line(project, "erp", number, latin1_city)
    run = run_case(project)
    # the reader shows the byte it cannot decode as "?"
    shown = text.decode("latin-1").replace("ü", "?").encode()
    assert_rejected(run, "erp", number, "invalid_encoding", shown)


def test_latin1_file_declared_utf8_quarantines_each_undecodable_record_once(
    project: Path,
) -> None:
    path = source_path(project, "erp")
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1", errors="replace"))
    undecodable = set()
    for number, line in enumerate(path.read_bytes().split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            undecodable.add(number)
    assert len(undecodable) > 20  # accented names, streets and cities
    run = run_case(project)
    assert run.code == 0, run.err
    rows = [r for r in run.quarantine() if r["source_system"] == "erp"]
    assert {r["rule"] for r in rows} == {"invalid_encoding"}
    assert {r["line"] for r in rows} == undecodable
    assert len(rows) == len(undecodable)
    assert_accounted(run)


def test_quoted_newline_is_one_record(baseline: Baseline, project: Path) -> None:
    key = baseline.singleton("billing")
    set_field(project, "billing", key, "addr1", "12 High St\nSecond floor")
    path = source_path(project, "billing")
    assert path.read_bytes().count(b"\n") == RECORDS + 2  # one more physical line ...
    assert count_records(path, ",") == RECORDS  # ... but not one more record
    run = run_case(project)
    assert run.code == 0, run.err
    assert run.quarantine() == []
    assert "12 High St\nSecond floor" in run.golden_of("billing", key)["address_line"]
    assert_accounted(run)


# ---------------------------------------------------------------------------------------------
# row defects after landing: no key, a repeated key


def test_null_key_is_quarantined_within_the_contracts_tolerance(project: Path) -> None:
    rewrite_line(project, "billing", 6, lambda line: b"," + line.split(b",", 1)[1])
    run = run_case(project)
    assert run.code == 0, run.err
    assert run.quarantine() == [{
        "source": "billing_customers", "file": BILLING_FILE, "source_system": "billing",
        "source_key": None, "line": None, "row_number": 5, "rule": "key_missing",
        "excerpt": None,
    }]  # fmt: skip
    assert_accounted(run)


def test_duplicate_key_is_quarantined_within_the_contracts_tolerance(project: Path) -> None:
    # both copies of a repeated key count: 2 of these 150 records is over the default 1%, so
    # this contract declares a looser tolerance, as a contract may (DESIGN.md)
    contract = project / "contracts/billing_customers.odcs.yaml"
    text = contract.read_text(encoding="utf-8")
    rule = "- metric: duplicateValues\n            mustBeLessThan: 1\n"
    assert text.count(rule) == 1
    contract.write_text(text.replace(rule, rule.replace(": 1\n", ": 5\n")), encoding="utf-8")
    lines = source_path(project, "billing").read_bytes().split(b"\n")
    key = lines[3].split(b",")[0]
    rewrite_line(project, "billing", 51, lambda line: key + b"," + line.split(b",", 1)[1])
    run = run_case(project)
    assert run.code == 0, run.err
    assert run.quarantine() == [{
        "source": "billing_customers", "file": BILLING_FILE, "source_system": "billing",
        "source_key": key.decode(), "line": None, "row_number": 50, "rule": "key_duplicate",
        "excerpt": None,
    }]  # fmt: skip
    assert_accounted(run)


def test_null_key_crosses_the_default_contract_threshold(baseline: Baseline, project: Path) -> None:
    assert baseline.checks, "the contract checks must be built for this case"
    for line_no in (6, 7):  # 2 of 150 records: 1.3%, over the contract's 1%
        rewrite_line(project, "billing", line_no, lambda line: b"," + line.split(b",", 1)[1])
    run = run_case(project)
    assert_stopped(run, "blocked", "raw/billing_customers:cust_no_nullValues", "(2 failing)")


def test_duplicate_key_crosses_the_default_contract_threshold(
    baseline: Baseline, project: Path
) -> None:
    assert baseline.checks, "the contract checks must be built for this case"
    lines = source_path(project, "billing").read_bytes().split(b"\n")
    key = lines[3].split(b",")[0]
    rewrite_line(project, "billing", 51, lambda line: key + b"," + line.split(b",", 1)[1])
    # every copy counts: the key now appears twice, 2 of 150 records (1.3%)
    run = run_case(project)
    assert_stopped(run, "blocked", "raw/billing_customers:cust_no_duplicateValues")
    (metadata,) = run.ledger(
        "SELECT metadata FROM audit.check_results WHERE check_name = 'cust_no_duplicateValues'"
    )[0]
    assert json.loads(metadata)["failing_count"] == 2


# ---------------------------------------------------------------------------------------------
# field defects: nulled and counted, the record still resolves


def test_impossible_date_is_nulled_and_counted(baseline: Baseline, project: Path) -> None:
    key = baseline.singleton("billing")
    set_field(project, "billing", key, "dob", "31/02/1990")
    run = run_case(project)
    assert run.code == 0, run.err
    assert run.quarantine() == []
    assert run.golden_of("billing", key)["birth_date"] is None
    assert changed(nulled_values(run.warehouse), baseline.nulled) == {
        "billing_customers.birth_date": 1
    }
    assert raw_value(run, "billing", key, "dob") == "31/02/1990"  # the raw value is kept
    assert_accounted(run)


def test_unmapped_party_type_code_is_nulled_and_counted(baseline: Baseline, project: Path) -> None:
    key = baseline.singleton("billing", "organization")
    set_field(project, "billing", key, "cust_type", "Q")  # contract maps only P and B
    run = run_case(project)
    assert run.code == 0, run.err
    assert run.quarantine() == []
    assert run.golden_of("billing", key)["party_type"] in ("person", "organization")
    assert changed(nulled_values(run.warehouse), baseline.nulled) == {
        "billing_customers.party_type": 1
    }
    assert_accounted(run)


def test_value_of_100_kb_resolves(baseline: Baseline, project: Path) -> None:
    key = baseline.singleton("billing")
    given = "J" * 100_000
    set_field(project, "billing", key, "name", f"Smith, {given}")
    run = run_case(project)
    assert run.code == 0, run.err
    assert run.quarantine() == []
    golden = run.golden_of("billing", key)
    assert (golden["given_name"], golden["family_name"]) == (given, "Smith")
    assert_accounted(run)


# ---------------------------------------------------------------------------------------------
# injection-looking values: data, never code


@pytest.fixture(scope="module")
def injection(baseline: Baseline, tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, str, str]:
    root = tmp_path_factory.mktemp("injection")
    project = Path(shutil.copytree(baseline.template, root / "project"))
    key = baseline.singleton("crm")
    set_field(project, "crm", key, "LastName", INJECTION_NAME)
    set_field(project, "crm", key, "Email", INJECTION_EMAIL)
    return run_case(project), key, field_of(project, "crm", key, "FirstName")


def test_injection_looking_values_are_stored_verbatim(
    baseline: Baseline, injection: tuple[Run, str, str]
) -> None:
    run, key, first = injection
    assert run.code == 0, run.err
    assert run.quarantine() == []
    golden = run.golden_of("crm", key)
    assert golden["family_name"] == INJECTION_NAME
    assert golden["full_name"] == f"{first} {INJECTION_NAME}"
    # not an email address: nulled in the golden record, kept verbatim as landed
    assert golden["email"] is None
    assert raw_value(run, "crm", key, "Email") == INJECTION_EMAIL
    # no statement ran: every table is there and golden.customer is queryable
    tables = set(run.sql("SELECT table_schema, table_name FROM information_schema.tables"))
    assert tables == baseline.tables
    assert run.sql("SELECT count(*) FROM golden.customer")[0][0] > 0
    exported = pl.read_parquet(run.warehouse / "export/golden/golden_customer.parquet")
    assert exported.filter(pl.col("family_name") == INJECTION_NAME).height == 1
    assert_accounted(run)


def test_malformed_email_is_counted_as_a_nulled_value(
    baseline: Baseline, injection: tuple[Run, str, str]
) -> None:
    run, _, _ = injection
    assert changed(nulled_values(run.warehouse), baseline.nulled) == {"crm_contacts.email": 1}
