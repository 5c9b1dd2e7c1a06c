from __future__ import annotations

import contextlib
import csv
import io
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl
import pytest
import yaml

from pipelines.cli import main
from pipelines.contracts import load_project
from pipelines.generator import generate

ROOT = Path(__file__).resolve().parent.parent
# copytree's `ignore` for the repository's contracts/ that keeps the customer contracts only: a
# project that resolves customers alone (accounts and contracts would reference customers that
# a cut-down extract no longer holds)
CUSTOMERS_ONLY = shutil.ignore_patterns("*account*", "*_contract*")


def read(folder: Path, name: str) -> pl.DataFrame:
    """A generated CSV as text columns, with the separator its system uses."""
    sep = ";" if name.startswith("erp/") else ","
    return pl.read_csv(folder / f"{name}.csv", separator=sep, infer_schema=False)


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 entities, default rates: small enough for every structural test."""
    out = tmp_path_factory.mktemp("generated")
    generate(3_000, 5, out)
    return out


def cells(path: Path) -> set[str]:
    """Every value of every table, view or Parquet file at `path`, as text."""
    with duckdb.connect(str(path) if path.suffix == ".duckdb" else ":memory:",
                        read_only=path.suffix == ".duckdb") as con:  # fmt: skip
        if path.suffix == ".parquet":
            con.execute(f"CREATE VIEW main.file AS SELECT * FROM read_parquet('{path}')")
        names = con.sql("SELECT schema_name, table_name FROM duckdb_tables() UNION ALL "
                        "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal"
                        ).fetchall()  # fmt: skip
        found: set[str] = set()
        for schema, table in names:
            for row in con.sql(f'SELECT COLUMNS(*)::VARCHAR FROM "{schema}"."{table}"').fetchall():
                found.update(v for v in row if v is not None)
        return found


def mdm(*args: str) -> tuple[int, str]:
    """`mdm ARGS` in this process: its exit code and what it printed (stdout and stderr)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(list(args))
    return code, out.getvalue()


SAMPLE_KEY = "test-warehouse-key"  # MDM_SECRET while `sample_runs` stands


@pytest.fixture(scope="session")
def sample_runs(tmp_path_factory: pytest.TempPathFactory):
    """The repository's project run twice into one warehouse (two kept versions) with
    MDM_SECRET set to SAMPLE_KEY for the rest of the session, and what the second run printed.
    Shared by the classification and ledger tests, which only read it (a test that changes a
    warehouse makes its own)."""
    warehouse = tmp_path_factory.mktemp("sample-warehouse")
    before = os.environ.get("MDM_SECRET")
    os.environ["MDM_SECRET"] = SAMPLE_KEY
    printed = ""
    for _ in range(2):
        code, printed = mdm("run", "--project", str(ROOT), "--warehouse", str(warehouse))
        assert code == 0, printed
    yield {"warehouse": warehouse, "printed": printed}
    if before is None:
        del os.environ["MDM_SECRET"]
    else:
        os.environ["MDM_SECRET"] = before


def copy_project(target: Path, *, data: bool = False) -> Path:
    """The repository's project (contracts, ownership, match settings) in `target`, with the
    sample extracts the source contracts read when `data`."""
    shutil.copytree(ROOT / "contracts", target / "contracts")
    for name in ("ownership.yaml", "matching.yaml"):
        shutil.copy(ROOT / name, target / name)
    if data:
        for contract in load_project(ROOT).sources:
            to = target / contract.server.declared_path
            to.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(contract.server.path, to)
    return target


def edit_contract(project: Path, name: str, edit: Callable[[dict], None]) -> Path:
    """Rewrite the contract `name` of `project` through `edit(document)`."""
    path = project / "contracts" / f"{name}.odcs.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), "utf-8")
    return path


def edit_text(project: Path, name: str, old: str, new: str) -> Path:
    """Replace the one occurrence of `old` in the contract file `name` (text, comments kept)."""
    path = project / "contracts" / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {name}"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def customers_project(folder: Path) -> Path:
    """The repository's customer contracts, ownership, match settings and the sample's extracts
    in `folder`: a project that resolves customers alone (quick to run)."""
    shutil.copytree(ROOT / "contracts", folder / "contracts", ignore=CUSTOMERS_ONLY)
    for item in ("ownership.yaml", "matching.yaml"):
        shutil.copy(ROOT / item, folder / item)
    for system in ("crm", "billing", "erp"):
        shutil.copytree(ROOT / "data/samples" / system, folder / "data/samples" / system)
    return folder


def blank_emails(path: Path, share: float) -> int:
    """Blank every 1/share-th non-empty Email of a CSV extract (drift to be caught)."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    column = rows[0].index("Email")
    blanked = 0
    for i, row in enumerate(rows[1:]):
        if row[column] and i % int(1 / share) == 0:
            row[column], blanked = "", blanked + 1
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return blanked
