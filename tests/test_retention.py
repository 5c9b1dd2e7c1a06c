"""Retention (issue #9): a source contract's ODCS ``slaProperties`` item ``property: retention``
drops, at ingest, the rows whose date column is older than the period before the run.

A small copy of the default project whose CRM contacts (or billing customers) are a handful of
rows written here, dated around the cutoff, empty and unreadable; the landing function is called
with a fixed `now`, so each case is exact: which rows land, how many were dropped, how many were
undated. One materialisation of the raw assets checks the metadata. Every bad declaration is a
load-time `ContractError` naming the file and the place.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
import polars as pl
import pytest
import yaml

from conftest import ROOT, copy_project, edit_contract
from pipelines.assets import build_assets
from pipelines.contracts import ContractError, SourceContract, load_contract, load_project
from pipelines.ingest import land
from pipelines.ownership import load_ownership
from pipelines.settings import load_settings
from pipelines.warehouse import WarehouseResource

CONTACTS = "data/samples/crm/contacts.csv"
CUSTOMERS = "data/samples/billing/customers.csv"
LAST_MODIFIED = 15  # the index of LastModifiedDate in crm_contacts' schema
UPDATED_AT = 12  # and of updated_at in billing_customers'
BERLIN = ZoneInfo("Europe/Berlin")


# --- the project ------------------------------------------------------------------------------


def _retained(
    index: int, logical_type: str, options: dict | None = None, **retention: Any
) -> Callable[[dict], None]:
    """An edit typing property `index` `logical_type` and declaring a retention period by it
    (`retention`: the slaProperties item's fields besides `property`)."""

    def edit(document: dict) -> None:
        prop = document["schema"][0]["properties"][index]
        prop["logicalType"] = logical_type
        prop.pop("logicalTypeOptions", None)
        if options:
            prop["logicalTypeOptions"] = options
        document["slaProperties"] = [{"property": "retention", **retention}]

    return edit


def _write_rows(project: Path, file: str, column: str, dates: list[str | None]) -> None:
    """`file` with the header of the committed sample and one row per date, keyed 1, 2, ...:
    the sample's first row with its key and `column` replaced (None writes an empty field)."""
    sample = ROOT / file
    delimiter = ";" if "/erp/" in file else ","
    with sample.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header, first = next(reader), next(reader)
    at = header.index(column)
    rows = []
    for key, value in enumerate(dates, start=1):
        row = list(first)
        row[0], row[at] = _key(file, key), value or ""
        rows.append(row)
    path = project / file
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
        writer.writerows([header, *rows])


def _key(file: str, n: int) -> str:
    return f"0035J{n:010d}" if file == CONTACTS else f"{10_000_000 + n}"


def _source(project: Path, name: str) -> SourceContract:
    """The source contract `contracts/<name>.odcs.yaml` of `project`, loaded alone."""
    path = project / "contracts" / f"{name}.odcs.yaml"
    contract = load_contract(path, load_ownership(project / "ownership.yaml"), project)
    assert isinstance(contract, SourceContract)
    return contract


def _kept(records: pl.DataFrame, file: str) -> list[int]:
    """The row numbers (1-based, as written) of the landed records."""
    if file == CONTACTS:
        return [int(k.removeprefix("0035J")) for k in records["Id"]]
    return [int(k) - 10_000_000 for k in records["cust_no"]]


# --- what is dropped --------------------------------------------------------------------------


def test_rows_dated_before_the_cutoff_are_dropped_and_the_rest_counted(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    edit_contract(project, "crm_contacts", _retained(
        LAST_MODIFIED, "timestamp", value=10, unit="years", element="contacts.LastModifiedDate",
    ))  # fmt: skip
    dates = [
        "2016-11-28T11:59:59.999Z",  # 1: a millisecond before the cutoff: dropped
        "2016-11-28T12:00:00.000Z",  # 2: the cutoff itself is not older: kept
        "2016-11-28T12:30:00+01:00",  # 3: 11:30 UTC: dropped
        "2005-01-01T00:00:00.000Z",  # 4: dropped
        "2025-06-01T08:00:00.000Z",  # 5: kept
        None,  # 6: no date: kept, undated
        "last spring",  # 7: kept, undated
        "2020-02-30T00:00:00.000Z",  # 8: no such day: kept, undated
        "2016-11-28",  # 9: midnight UTC: dropped
        "2016-11-28 13:00",  # 10: kept
    ]
    _write_rows(project, CONTACTS, "LastModifiedDate", dates)
    contacts = _source(project, "crm_contacts")
    assert str(contacts.retention) == "10 years by LastModifiedDate"

    landed = land(contacts, now=datetime(2026, 11, 28, 12, 0, tzinfo=UTC))

    assert _kept(landed.records, CONTACTS) == [2, 5, 6, 7, 8, 10]
    assert landed.records["_record"].to_list() == [2, 5, 6, 7, 8, 10]  # ordinals in the file
    assert landed.rejects.height == 0
    expired = landed.expired
    assert expired is not None
    assert expired.cutoff == datetime(2016, 11, 28, 12, 0, tzinfo=UTC)
    assert (expired.dropped, expired.undated) == (4, 3)
    assert landed.records.height + landed.rejects.height + expired.dropped == len(dates)
    assert expired.metadata() == {
        "retention": "10 years by LastModifiedDate",
        "rows_past_retention": 4,
        "retention_cutoff": "2016-11-28T12:00:00+00:00",
        "retention_undated": 3,
    }


def test_a_month_is_a_calendar_month(tmp_path: Path) -> None:
    """A month before 31 March is 28 February, not 30 days before (1 March)."""
    project = copy_project(tmp_path)
    edit_contract(project, "crm_contacts", _retained(
        LAST_MODIFIED, "timestamp", value=1, unit="m", element="LastModifiedDate",
    ))  # fmt: skip
    dates = ["2026-02-28T09:59:59Z", "2026-02-28T10:00:00Z", "2026-03-01T00:00:00Z"]
    _write_rows(project, CONTACTS, "LastModifiedDate", dates)
    landed = land(_source(project, "crm_contacts"), now=datetime(2026, 3, 31, 10, tzinfo=UTC))
    assert _kept(landed.records, CONTACTS) == [2, 3]
    assert landed.expired is not None and landed.expired.dropped == 1
    assert landed.expired.cutoff == datetime(2026, 2, 28, 10, tzinfo=UTC)
    assert str(landed.expired.retention) == "1 month by LastModifiedDate"


@pytest.mark.parametrize(
    ("now", "unit", "cutoff", "dropped", "kept"),
    [
        # a month back from 31 March: the last day of February; its rows are not older
        (datetime(2026, 3, 31, 10, tzinfo=UTC), "month", "2026-02-28", "27/02/2026",
         ["28/02/2026", "01/03/2026"]),
        # a year back from a leap day: 28 February
        (datetime(2028, 2, 29, 23, 59, tzinfo=UTC), "yr", "2027-02-28", "27/02/2027",
         ["28/02/2027", "01/03/2027"]),
        # across a year end, in days
        (datetime(2027, 1, 3, 1, tzinfo=UTC), "days", "2026-12-27", "26/12/2026",
         ["27/12/2026", "02/01/2027"]),
    ],
)  # fmt: skip
def test_a_date_column_is_read_in_its_declared_format_and_compared_by_day(
    tmp_path: Path, now: datetime, unit: str, cutoff: str, dropped: str, kept: list[str]
) -> None:
    project = copy_project(tmp_path)
    amount = 7 if unit == "days" else 1
    edit_contract(project, "billing_customers", _retained(
        UPDATED_AT, "date", {"format": "dd/MM/yyyy"}, value=amount, unit=unit,
        element="updated_at",
    ))  # fmt: skip
    dates = [dropped, *kept, "31/02/2026", "2026-01-01", None]  # the last three: undated
    _write_rows(project, CUSTOMERS, "updated_at", dates)
    landed = land(_source(project, "billing_customers"), now=now)
    assert _kept(landed.records, CUSTOMERS) == [2, 3, 4, 5, 6]
    expired = landed.expired
    assert expired is not None and (expired.dropped, expired.undated) == (1, 3)
    assert expired.cutoff.date().isoformat() == cutoff


def test_a_timestamp_without_an_offset_is_read_in_its_declared_zone(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    options = {"format": "dd/MM/yyyy HH:mm", "defaultTimezone": "Europe/London"}
    edit_contract(project, "billing_customers", _retained(
        UPDATED_AT, "timestamp", options, value=30, unit="d", element="customers.updated_at",
    ))  # fmt: skip
    # the cutoff is 1 July 12:00 UTC, 13:00 in London (summer time)
    dates = ["01/07/2026 12:59", "01/07/2026 13:00", "30/06/2026 23:00", "2026-07-01 14:00"]
    _write_rows(project, CUSTOMERS, "updated_at", dates)
    landed = land(_source(project, "billing_customers"), datetime(2026, 7, 31, 12, tzinfo=UTC))
    assert _kept(landed.records, CUSTOMERS) == [2, 4]
    assert landed.expired is not None
    assert (landed.expired.dropped, landed.expired.undated) == (2, 1)


def test_a_typed_parquet_column_is_read_as_typed(tmp_path: Path) -> None:
    project = copy_project(tmp_path)

    def parquet(document: dict) -> None:
        _retained(LAST_MODIFIED, "timestamp", value=2, unit="days", element="LastModifiedDate")(
            document
        )
        server = document["servers"][0]
        server.update(path="data/contacts.parquet", format="parquet")
        server.pop("customProperties")  # the csv delimiter

    edit_contract(project, "crm_contacts", parquet)
    _write_rows(project, CONTACTS, "LastModifiedDate", [None] * 4)
    frame = pl.read_csv(project / CONTACTS, infer_schema=False).with_columns(
        LastModifiedDate=pl.Series(
            [
                datetime(2026, 1, 8, 0, 59, tzinfo=BERLIN),
                datetime(2026, 1, 8, 1, tzinfo=BERLIN),
                None,
                datetime(2025, 1, 1, tzinfo=BERLIN),
            ],
            dtype=pl.Datetime("ms", "Europe/Berlin"),
        )
    )
    frame.write_parquet(project / "data/contacts.parquet")
    # the cutoff is 8 January 00:00 UTC, 01:00 in Berlin
    landed = land(_source(project, "crm_contacts"), datetime(2026, 1, 10, tzinfo=UTC))
    assert _kept(landed.records, CONTACTS) == [2, 3]
    assert landed.records.schema["LastModifiedDate"] == pl.String
    assert landed.expired is not None
    assert (landed.expired.dropped, landed.expired.undated) == (2, 1)


def test_a_source_without_retention_lands_every_row(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    edit_contract(project, "crm_contacts", lambda d: d.pop("slaProperties", None))
    _write_rows(project, CONTACTS, "LastModifiedDate", ["1990-01-01T00:00:00.000Z"] * 3)
    landed = land(_source(project, "crm_contacts"))
    assert landed.records.height == 3 and landed.expired is None


def test_the_raw_asset_reports_what_its_retention_period_dropped(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    edit_contract(project, "crm_contacts", _retained(
        LAST_MODIFIED, "timestamp", value=10, unit="y", element="LastModifiedDate",
    ))  # fmt: skip
    now = datetime.now(UTC)
    old = (now - timedelta(days=11 * 366)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    new = (now - timedelta(days=300)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    _write_rows(project, CONTACTS, "LastModifiedDate", [old, new, old, "garbage", new, old])
    _write_rows(project, CUSTOMERS, "updated_at", ["01/01/1990 00:00"] * 2)

    loaded = load_project(project)
    wanted = {dg.AssetKey(["raw", "crm_contacts"]), dg.AssetKey(["raw", "billing_customers"])}
    assets = [a for a in build_assets(loaded, load_settings(project)) if set(a.keys) & wanted]
    warehouse = WarehouseResource(path=str(tmp_path / "warehouse"))
    started = datetime.now(UTC)
    result = dg.materialize(assets, resources={"warehouse": warehouse},
                            instance=dg.DagsterInstance.ephemeral())  # fmt: skip
    events = result.get_asset_materialization_events()
    metadata = {e.asset_key.path[-1]: _values(e.materialization.metadata) for e in events}

    contacts = metadata["crm_contacts"]
    assert contacts["dagster/row_count"] == 3 and contacts["rejected_records"] == 0
    assert contacts["retention"] == "10 years by LastModifiedDate"
    assert contacts["rows_past_retention"] == 3 and contacts["retention_undated"] == 1
    cutoff = datetime.fromisoformat(contacts["retention_cutoff"])
    earliest = pl.select(pl.lit(started).dt.offset_by("-10y")).item()
    assert earliest <= cutoff <= earliest + (datetime.now(UTC) - started)
    assert pl.read_parquet(warehouse.intermediate("raw", "crm_contacts")).height == 3
    # a source without a retention period reports nothing about one
    customers = metadata["billing_customers"]
    assert customers["dagster/row_count"] == 2
    assert not {k for k in customers if "retention" in k}


def _values(metadata: dict[str, Any]) -> dict[str, Any]:
    return {k: getattr(v, "value", v) for k, v in metadata.items()}


def test_the_committed_sample_is_within_every_declared_retention_period() -> None:
    """The repository's sources land every sample row (the sample's dates are recent)."""
    for contract in load_project(ROOT).sources:
        landed = land(contract)
        if landed.expired is not None:
            assert landed.expired.dropped == 0, (contract.dataset, landed.expired)
            assert landed.expired.undated == 0, (contract.dataset, landed.expired)


# --- bad declarations -------------------------------------------------------------------------


def _retention_item(**fields: Any) -> Callable[[dict], None]:
    def edit(document: dict) -> None:
        _retained(LAST_MODIFIED, "timestamp")(document)
        document["slaProperties"] = [{"property": "retention", **fields}]

    return edit


def _two_periods(document: dict) -> None:
    _retention_item(value=10, unit="y", element="LastModifiedDate")(document)
    document["slaProperties"] += [
        {"property": "latency", "value": 1, "unit": "d"},
        {"property": "retention", "value": 7, "unit": "y", "element": "LastModifiedDate"},
    ]


def _string_column(document: dict) -> None:
    _retention_item(value=10, unit="y", element="LastModifiedDate")(document)
    document["schema"][0]["properties"][LAST_MODIFIED]["logicalType"] = "string"


def _bad_format(document: dict) -> None:
    _retention_item(value=10, unit="y", element="LastModifiedDate")(document)
    options = {"format": "yyyy-MM-dd'T'HH:mm:ss.SSSX"}
    document["schema"][0]["properties"][LAST_MODIFIED]["logicalTypeOptions"] = options


@pytest.mark.parametrize(
    ("edit", "place", "message"),
    [
        (_retention_item(value=10, unit="weeks", element="LastModifiedDate"),
         "slaProperties[0].unit", "unknown unit 'weeks'; the units are d, day, days, m, month, "
         "months, y, yr, year, years"),
        (_retention_item(value=10, element="LastModifiedDate"), "slaProperties[0].unit",
         "needs a unit; the units are d, day"),
        (_retention_item(value=0, unit="y", element="LastModifiedDate"),
         "slaProperties[0].value", "must be a positive whole number, not 0"),
        (_retention_item(value=-7, unit="y", element="LastModifiedDate"),
         "slaProperties[0].value", "must be a positive whole number, not -7"),
        (_retention_item(value=1.5, unit="y", element="LastModifiedDate"),
         "slaProperties[0].value", "must be a positive whole number, not 1.5"),
        (_retention_item(value="ten", unit="y", element="LastModifiedDate"),
         "slaProperties[0].value", "must be a number (of days, months or years), not 'ten'"),
        (_retention_item(value=True, unit="y", element="LastModifiedDate"),
         "slaProperties[0].value", "must be a number (of days, months or years), not True"),
        (_retention_item(value=10, unit="y", element="LastModifiedDat"),
         "slaProperties[0].element", "'LastModifiedDat' names no property: <property> or "
         "contacts.<property>, one property of the schema (did you mean 'LastModifiedDate'?)"),
        (_retention_item(value=10, unit="y", element="accounts.LastModifiedDate"),
         "slaProperties[0].element",
         "'accounts.LastModifiedDate' names schema object 'accounts', not 'contacts'"),
        (_retention_item(value=10, unit="y"), "slaProperties[0].element",
         "needs the column rows are dated by"),
        (_retention_item(value=10, unit="y", element="Birthdate"), "slaProperties[0].element",
         "'Birthdate' is a 'string' (schema[0].properties[13].logicalType); rows are dated by "
         "a date or timestamp property"),
        (_string_column, "slaProperties[0].element", "'LastModifiedDate' is a 'string'"),
        (_two_periods, "slaProperties[2].property",
         "a second retention period (slaProperties[0] is one)"),
        (_bad_format, f"schema[0].properties[{LAST_MODIFIED}].logicalTypeOptions.format",
         "the letter 'X' in \"yyyy-MM-dd'T'HH:mm:ss.SSSX\" is not a date field"),
    ],
)  # fmt: skip
def test_a_bad_retention_declaration_is_one_error_naming_file_and_place(
    tmp_path: Path, edit: Callable[[dict], None], place: str, message: str
) -> None:
    project = copy_project(tmp_path)
    path = edit_contract(project, "crm_contacts", edit)
    ownership = load_ownership(project / "ownership.yaml")
    with pytest.raises(ContractError) as caught:
        load_contract(path, ownership, project)
    assert len(caught.value.problems) == 1, str(caught.value)
    problem = caught.value.problems[0]
    assert (problem.file, problem.place) == (str(path), place), str(caught.value)
    assert problem.message.startswith(message), problem.message
    assert str(caught.value).startswith(f"{path}: {place}: ")


def test_retention_is_for_source_contracts_only(tmp_path: Path) -> None:
    project = copy_project(tmp_path)

    def edit(document: dict) -> None:
        document.setdefault("slaProperties", []).append(
            {"property": "retention", "value": 10, "unit": "y", "element": "valid_from"}
        )

    path = edit_contract(project, "golden_customer", edit)
    index = len(yaml.safe_load(path.read_text(encoding="utf-8"))["slaProperties"]) - 1
    with pytest.raises(ContractError) as caught:
        load_contract(path, load_ownership(project / "ownership.yaml"), project)
    assert str(caught.value) == (
        f"{path}: slaProperties[{index}].property: a retention period is for source contracts only"
    )
