"""Classification and masking: analytics.duckdb and export/analytics/ mirror the golden tables
with every classified column masked as the golden contracts declare, the keyed hash is
HMAC-SHA256 with the warehouse key, the files' modes separate full detail from broad access,
and nothing the broad audience can read holds a restricted or confidential value."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import stat
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from conftest import ROOT, SAMPLE_KEY, cells, copy_project, edit_contract
from pipelines import analytics, masking
from pipelines.contracts import ContractError, load_project

KEY = SAMPLE_KEY


def _hmac(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[: masking.HASH_DIGITS]


@pytest.mark.parametrize("key", [b"k", b"a-key-of-exactly-64-bytes".ljust(64, b"."), b"x" * 100])
def test_the_keyed_hash_is_hmac_sha256(key: bytes) -> None:
    values = ["jane.doe@example.com", "Zoë Ångström", "", "+447700900123", None]
    frame = pl.DataFrame({"v": values})  # noqa: F841 (read by DuckDB's replacement scan)
    got = duckdb.execute(f"SELECT {masking.keyed_hash('v')} FROM frame", masking.pads(key))
    hashed = [r[0] for r in got.fetchall()]
    assert hashed == [_hmac(key, v) if v is not None else None for v in values]


def test_keyed_hashes_keep_order_and_run_side_by_side() -> None:
    """Two steps may hash at once (two extracts landing, each checking its tombstones): each
    call has its own DuckDB connection, the process's default one refuses a second caller."""
    from concurrent.futures import ThreadPoolExecutor

    values = pl.Series([f"crm\x1f{i}" for i in range(300_000)] + [None])
    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(lambda _: masking.keyed_hashes(KEY.encode(), values), range(2))
    assert first.equals(second) and first.null_count() == 1
    assert [first[i] for i in (0, 299_999)] == [
        _hmac(KEY.encode(), values[i]) for i in (0, 299_999)
    ]


def test_partial_and_redact_masks() -> None:
    frame = pl.DataFrame({  # noqa: F841 (read by DuckDB's replacement scan)
        "t": ["12 High Street", "SW1A", "abcde", None],
        "d": [date(1980, 5, 17), date(2001, 12, 31), None, date(1999, 1, 1)],
    })  # fmt: skip
    partial, keep4 = masking.Mask("partial"), masking.Mask("partial", 4)
    redact = masking.Mask("redact")
    sql = ", ".join([
        masking.expression('"t"', partial, "string").replace(' AS "t"', " AS a"),
        masking.expression('"t"', keep4, "string").replace(' AS "t"', " AS b"),
        masking.expression('"d"', partial, "date").replace(' AS "d"', " AS c"),
        masking.expression('"d"', redact, "date").replace(' AS "d"', " AS e"),
    ])  # fmt: skip
    out = duckdb.sql(f"SELECT {sql} FROM frame").pl()
    assert out["a"].to_list() == ["12***", "***", "ab***", None]
    assert out["b"].to_list() == ["12 H***", "***", "***", None]
    assert out["c"].to_list() == [date(1980, 1, 1), date(2001, 1, 1), None, date(1999, 1, 1)]
    assert out["e"].null_count() == 4 and out.schema["e"] == pl.Date


def test_the_warehouse_key_is_made_once_private_or_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(masking.SECRET_ENV, raising=False)
    first = masking.warehouse_key(tmp_path)
    assert len(first) == 64 and masking.warehouse_key(tmp_path) == first
    assert stat.S_IMODE((tmp_path / ".secret").stat().st_mode) == 0o600
    monkeypatch.setenv(masking.SECRET_ENV, "from-the-environment")
    assert masking.warehouse_key(tmp_path) == b"from-the-environment"


def _masking_value(document: dict) -> dict:
    return next(p for p in document["customProperties"] if p["property"] == "mdm.masking")


def _drop_confidential(document: dict) -> None:
    del _masking_value(document)["value"]["confidential"]


def _unknown_method(document: dict) -> None:
    _masking_value(document)["value"]["restricted"] = "encrypt"


def _partial_number(document: dict) -> None:
    prop = next(p for p in document["schema"][0]["properties"] if p["name"] == "confidence")
    prop["classification"] = "confidential"


def _keep_on_hash(document: dict) -> None:
    _masking_value(document)["value"]["restricted"] = {"method": "hash", "keep": 3}


def _on_a_source(document: dict) -> None:
    document["customProperties"].append({"property": "mdm.masking", "value": {"x": "hash"}})


@pytest.mark.parametrize(
    ("contract", "edit", "place", "message"),
    [
        ("golden_customer", _drop_confidential, "schema[0].properties[8]",
         "'address_line' is pii, classified 'confidential', and mdm.masking declares no method"),
        ("golden_customer", _unknown_method, "customProperties[1].value.restricted",
         "unknown masking method 'encrypt'"),
        ("golden_customer", _partial_number, "schema[0].properties[15]",
         "partial masking applies to string or date columns, not 'confidence' (number)"),
        ("golden_account", _keep_on_hash, "customProperties[1].value.restricted.keep",
         "keep is a whole number >= 0, for partial only"),
        ("crm_contacts", _on_a_source, "customProperties[2]", "mdm.masking applies to golden"),
    ],
)  # fmt: skip
def test_a_masking_declaration_the_project_cannot_apply_fails_at_load(
    tmp_path: Path, contract: str, edit, place: str, message: str
) -> None:
    project = copy_project(tmp_path)
    edit_contract(project, contract, edit)
    with pytest.raises(ContractError) as raised:
        load_project(project)
    text = str(raised.value)
    assert f"contracts/{contract}.odcs.yaml: {place}: {message}" in text, text


@pytest.fixture(scope="module")
def published(sample_runs: dict) -> dict:
    return sample_runs


def _tables(database: Path) -> dict[str, pl.DataFrame]:
    with duckdb.connect(str(database), read_only=True) as con:
        names = con.sql("SELECT schema_name, table_name FROM duckdb_tables() UNION ALL "
                        "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal"
                        ).fetchall()  # fmt: skip
        return {f"{s}.{t}": con.sql(f'SELECT * FROM "{s}"."{t}"').pl() for s, t in names}


def test_analytics_mirrors_every_golden_table_with_classified_columns_masked(
    published: dict,
) -> None:
    warehouse = published["warehouse"]
    golden = _tables(warehouse / "mdm.duckdb")
    analytics = _tables(warehouse / "analytics.duckdb")
    project = load_project(ROOT)
    mirrored = {"customer", "account", "contract", "xref", "lineage", "ids", "customer_360"}
    assert {n.split(".")[1] for n in analytics} == mirrored
    for name in mirrored:
        full, masked = golden[f"golden.{name}"], analytics[f"main.{name}"]
        assert masked.columns == full.columns and masked.height == full.height, name
    key = KEY.encode()
    for contract in project.golden:
        full = golden[contract.table].sort("golden_id")
        masked = analytics[f"main.{contract.entity}"].sort("golden_id")
        assert masked["golden_id"].to_list() == full["golden_id"].to_list()
        for column in full.columns:
            mask = contract.masked.get(column)
            if mask is None:  # unclassified: the same values
                assert masked[column].equals(full[column]), column
            elif mask.method == "hash":  # HMAC-SHA256 of the value's text with MDM_SECRET
                text = full[column].cast(pl.String)
                want = [None if v is None else _hmac(key, v) for v in text.to_list()]
                assert masked[column].to_list() == want, column
            else:
                assert mask.method == "partial", column
                both = pl.DataFrame({"f": full[column], "m": masked[column]}).drop_nulls()
                assert both.height > 0 and (both["f"] != both["m"]).all(), column
                assert both["m"].str.ends_with("***").all(), column
    assert contract.masked or contract.entity == "contract"
    # the 360 view of the masked tables names people by their hashed name
    view = analytics["main.customer_360"].join(
        analytics["main.customer"], left_on="customer_golden_id", right_on="golden_id"
    )
    persons = view.filter(pl.col("party_type") == "person")
    assert persons.height > 1000 and (persons["name"] == persons["full_name"]).all()


def test_values_that_repeat_are_hashed_once_each_and_alike(published: dict, tmp_path: Path) -> None:
    # a hashed column whose values repeat is hashed per distinct value and joined back: the
    # same hashes, row for row, as hashing every row (the sample's columns are too varied for
    # the build to choose it: here every hashed column takes each path)
    contract = next(c for c in load_project(ROOT).golden if c.entity == "customer")
    source = published["warehouse"] / "export" / "golden" / "golden_customer.parquet"
    hashed = {n for n, m in contract.masked.items() if m.method == "hash"}
    with duckdb.connect() as con:
        once, each = (con.sql(analytics._select(contract, source, repeated),
                              params=masking.pads(KEY.encode())).pl().sort("golden_id")
                      for repeated in (hashed, set()))  # fmt: skip
    assert once.equals(each) and once.height > 1000
    assert once["given_name"].to_list() == [
        None if v is None else _hmac(KEY.encode(), v)
        for v in pl.read_parquet(source).sort("golden_id")["given_name"].to_list()
    ]
    # the estimate picks the columns whose values repeat: 3 given names over 400 customers
    few = tmp_path / "few.parquet"
    pl.DataFrame({
        "given_name": ["Ann", "Bob", None, "Eve"] * 100,
        "email": [f"{i}@example.org" for i in range(400)],
    }).write_parquet(few)  # fmt: skip
    with duckdb.connect() as con:
        assert analytics._repeated(con, contract, few) == {"given_name"}


def _restricted_values(warehouse: Path) -> set[str]:
    """Every value of a restricted or confidential column, in the golden tables and in the
    landed sources, long enough that finding it elsewhere is no coincidence, and never also a
    value of an unclassified column."""
    project = load_project(ROOT)
    secret, public = set(), set()
    raw = warehouse / "intermediate" / "raw"  # gone when an erasure ran on this warehouse
    frames = [(c, pl.read_parquet(raw / f"{c.dataset}.parquet")) for c in project.sources
              if (raw / f"{c.dataset}.parquet").exists()]  # fmt: skip
    with duckdb.connect(str(warehouse / "mdm.duckdb"), read_only=True) as con:
        frames += [(c, con.sql(f"SELECT * FROM {c.table}").pl()) for c in project.golden]
    for contract, frame in frames:
        for prop in contract.properties:
            if prop.name not in frame.columns:
                continue
            values = set(frame[prop.name].cast(pl.String).drop_nulls().to_list())
            if prop.classification in ("restricted", "confidential"):
                secret |= values
            else:
                public |= values
    # placeholders a source writes in a classified column ("unknown") are words, not people
    return {v for v in secret - public if len(v) >= 6 and not (v.isalpha() and v.islower())}


def _phrases(text: str, longest: int) -> set[str]:
    """Every run of up to `longest` words of `text` (words: what lies between spaces, inside
    the strings a log, a JSON document or SQLite's pages hold), joined by one space: a
    classified value anywhere in the text is one of them (a set, not a substring search per
    value: megabytes of event log against ten thousand values)."""
    found: set[str] = set()
    for segment in re.split(r'["\\\x00-\x1f{}\[\]]+', text):
        words = segment.split()
        for n in range(1, longest + 1):
            found.update(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    # a value at the end of a sentence or in parentheses
    return found | {p.strip(".,;:!?()'`") for p in found}


def _broadly_readable(warehouse: Path) -> list[Path]:
    """Every file anybody may read: readable by others, in folders others may enter (below
    the warehouse folder, which is shared however its owner made it)."""
    found = []
    for folder, dirs, files in os.walk(warehouse, followlinks=False):
        if Path(folder) != warehouse and not os.stat(folder).st_mode & stat.S_IXOTH:
            dirs.clear()
            continue
        for name in files:
            path = Path(folder) / name
            if not path.is_symlink() and path.stat().st_mode & stat.S_IROTH:
                found.append(path)
    return found


def test_nothing_the_broad_audience_can_read_holds_a_classified_value(published: dict) -> None:
    warehouse = published["warehouse"]
    secret = _restricted_values(warehouse)
    assert len(secret) > 10_000  # names, emails, phones, streets, IBANs of the sample
    readable = _broadly_readable(warehouse)
    names = {p.name for p in readable}
    assert {"analytics.duckdb", "analytics_customer.parquet", "version.json"} <= names
    assert not names & {"mdm.duckdb", "golden_customer.parquet", "ledger.duckdb", ".secret"}
    longest = max(len(v.split()) for v in secret)
    scanned = 0
    for path in readable:
        if path.suffix in (".duckdb", ".parquet"):  # every cell, as text
            assert not cells(path) & secret, path
        else:  # logs, the Dagster instance (check and asset metadata), JSON, markers
            text = path.read_bytes().decode("utf-8", errors="replace")
            assert not _phrases(text, longest) & secret, path
        scanned += 1
    assert scanned >= 10
    printed = published["printed"]  # the run's own report
    assert "analytics.duckdb" in printed and not _phrases(printed, longest) & secret


def test_full_detail_is_the_owner_groups_and_analytics_everyones(published: dict) -> None:
    warehouse = published["warehouse"]
    current = warehouse / "current"

    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    assert mode(current / "mdm.duckdb") == 0o640
    assert mode(current / "export" / "golden") == 0o750
    assert {mode(p) for p in (current / "export" / "golden").iterdir()} == {0o640}
    assert mode(current / "analytics.duckdb") == 0o644
    assert {mode(p) for p in (current / "export" / "analytics").iterdir()} == {0o644}
    assert mode(warehouse / "ledger.duckdb") == 0o640
    if (warehouse / "intermediate").exists():  # an erasure deletes it
        assert mode(warehouse / "intermediate") == 0o750
    assert not (warehouse / ".secret").exists()  # MDM_SECRET was set
    # what analysts open: analytics.customer, by the file's own catalog name
    with duckdb.connect(str(warehouse / "analytics.duckdb"), read_only=True) as con:
        rows = con.sql("SELECT count(*) FROM analytics.customer").fetchall()[0][0]
    with duckdb.connect(str(warehouse / "mdm.duckdb"), read_only=True) as con:
        assert rows == con.sql("SELECT count(*) FROM golden.customer").fetchall()[0][0] > 1000


def test_the_blocking_check_counts_values_left_unmasked(published: dict) -> None:
    """A contract that classifies `country` (published unmasked in this version) makes the
    version's check count every customer with a country, by column, without values."""
    from dataclasses import replace

    from pipelines import analytics, versions

    customer = next(c for c in load_project(ROOT).golden if c.entity == "customer")
    assert analytics._unmasked(versions.current(published["warehouse"]), [customer]) == {}
    country = replace(customer.property_named("country"), classification="restricted")
    leaky = replace(customer, properties=tuple(country if p.name == "country" else p
                                               for p in customer.properties))  # fmt: skip
    failing = analytics._unmasked(versions.current(published["warehouse"]), [leaky])
    with duckdb.connect(str(published["warehouse"] / "mdm.duckdb"), read_only=True) as con:
        having = con.sql("SELECT count(country) FROM golden.customer").fetchall()[0][0]
    assert failing == {"golden.customer.country": having} and having > 1000


def test_the_scan_finds_a_value_planted_in_text() -> None:
    secret = {"Flat 3, 12 High Street", "jane.doe@example.com"}
    text = '{"msg": "failed for Flat 3, 12 High Street\\u0000and jane.doe@example.com."}'
    assert _phrases(text, 5) & secret == secret
    assert _phrases('["jane.doe@example.com"]', 5) & secret == {"jane.doe@example.com"}
