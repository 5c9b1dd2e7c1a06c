"""Golden ID stability under source churn (issue #8): how many IDs change when 1% of the records
of every source change between two runs on the same warehouse.

The generated project of `--entities` (default 100,000; cached under
``benchmarks/.cache/gen-<entities>`` by ``benchmarks/scale.py``) is copied to a temporary
folder, never edited in place. Then:

1. ``mdm run`` on the copy publishes version 1; its current cross-reference is read;
2. every source CSV of the copy is perturbed: `--share` (default 1%) of each file's rows, drawn
   with a seeded numpy Generator (`--seed`, default 7), in a fixed mix:

   - half are **edited** as a source update would: customers get a new email (the same local
     part with two digits, at the same provider), a new phone (its last two digits, in the same
     format) or a new address (a move: the street, house number, postcode and city of another
     customer of the same country), one of those the record has, and a later last-modified
     stamp; accounts get a new label in their name ("Main" -> "Holiday home") or another
     status (always the status where an ERP name is cut before its label); contracts get a new
     amount (2-10% up or down), a new end date (a fixed term renewed for a year; an open-ended
     one given notice to the end of the extract's latest year) or another status;
   - a quarter are **deleted**;
   - a quarter are **copied as new records**: a new key of the file's format and one keying
     error (two letters swapped, one dropped or replaced) in a name or text field; the truth
     files give the copy its original's entity, and lose the deleted records;

3. ``mdm run`` again on the same warehouse publishes version 2, inheriting version 1's IDs.

Two metrics, per entity, over the records with a current cross-reference row in both runs:

(a) **kept clusters**: among records whose predicted cluster kept exactly its members (the
    records sharing its golden ID after run 1 are the records sharing its golden ID after
    run 2), the share whose golden ID changed. Nothing moved, so it must be 0.
(b) **truth churn**: among records whose true entity gained or lost no record (edits do not
    change membership), the share whose golden ID changed, by cause: the old ID was retired
    into another in a merge, the record moved into an ID minted by a split, or it moved
    between two IDs that both live on (other). Edited records count here: it measures what a
    user of the IDs sees, ID-assignment churn and the matching changes the perturbation causes
    (an edited email splitting a record off its cluster) alike.

Also printed: the records edited / deleted / added per file, both runs' wall times and the
version-2 ID events by kind. Markdown tables on stdout, one JSON line on stderr::

    .venv/bin/python benchmarks/stability.py [--entities 100000] [--share 0.01] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import string
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
from scale import project
from timed import timed

from pipelines.generator.vocab import ACCOUNT_LABELS

ROOT = Path(__file__).resolve().parent.parent
MDM = [sys.executable, "-m", "pipelines.cli"]
ENTITIES = ("customer", "account", "contract")
EVENTS = ("created", "split", "merged", "retired")
RECORD = ["entity", "record"]  # a source record: its entity and "system:key"

# A rendered edit: (the row's new values, the kind of edit).
Edit = tuple[dict[str, str | None], str]
Editor = Callable[[pl.DataFrame, dict, np.random.Generator], Edit]


@dataclass(frozen=True)
class Source:
    """One source CSV of the project and how to perturb it."""

    path: str
    separator: str
    system: str
    entity: str
    key: str
    key_format: tuple[str, str, int]  # prefix, alphabet, width (checked against the file)
    edit: Editor
    text: tuple[str, ...]  # where a new record's typo goes: the first one the row fills
    references: tuple[str, ...] = ()  # columns holding other files' keys
    stamp: tuple[str, str] | None = None  # last-modified column and its format


@dataclass
class Change:
    """What one file's perturbation did."""

    path: str
    rows: int
    edited: int = 0
    deleted: list[str] = field(default_factory=list)
    added: list[tuple[str, str]] = field(default_factory=list)  # (new key, key of the original)
    kinds: Counter = field(default_factory=Counter)


# --- edits -----------------------------------------------------------------------------------


def _other(values: list[str], current: str | None, rng: np.random.Generator) -> str:
    """Another value of a column's valid set (as the file uses them)."""
    return str(rng.choice([v for v in values if v != current]))


def edit_customer(
    frame: pl.DataFrame, row: dict, rng: np.random.Generator, *, email: str, phone: str,
    address: tuple[str, ...], country: str,
) -> Edit:  # fmt: skip
    """A new email, phone or address (a move), whichever the record has; drawn evenly."""
    kinds = ["address"]
    if row[email] and "@" in row[email]:
        kinds.append("email")
    if row[phone] and re.search(r"[0-9]{2}$", row[phone]):  # not junk such as "n/a"
        kinds.append("phone")
    kind = str(rng.choice(kinds))
    if kind == "email":
        local, domain = row[email].rsplit("@", 1)
        return {email: f"{local}{rng.integers(10, 100)}@{domain}"}, kind
    if kind == "phone":
        last = (int(row[phone][-2:]) + int(rng.integers(1, 100))) % 100
        return {phone: f"{row[phone][:-2]}{last:02d}"}, kind
    # a move: a real address of the same country, so every column keeps its local format
    neighbours = frame.filter(pl.col(country).eq_missing(row[country]))
    donor = neighbours.row(int(rng.integers(neighbours.height)), named=True)
    return {c: donor[c] for c in address}, kind


def _labels() -> list[tuple[str, tuple[str, ...]]]:
    """(label, its group) for every account label, longest first: "Second home" before "Home"."""
    pairs = [(label, group) for group in ACCOUNT_LABELS.values() for label in group]
    return sorted(pairs, key=lambda p: -len(p[0]))


def relabel(name: str, template: str, rng: np.random.Generator) -> str | None:
    """`name` with its account label (written as `template` at its end) replaced by another of
    the same group, in the same case; None when no label is found (e.g. a cut ERP name)."""
    for label, group in _labels():
        suffix = template.format(label)
        if name.casefold().endswith(suffix.casefold()):
            new = template.format(_other(list(group), label, rng))
            return name[: -len(suffix)] + (new.upper() if name[-len(suffix) :].isupper() else new)
    return None


def edit_account(
    frame: pl.DataFrame, row: dict, rng: np.random.Generator, *, name: str, label: str,
    status: str, width: int | None = None,
) -> Edit:  # fmt: skip
    """A new label in the account's name or another status, half and half."""
    if rng.random() < 0.5 and (renamed := relabel(row[name], label, rng)) is not None:
        return {name: renamed[:width]}, "name"
    values = frame[status].drop_nulls().unique().sort().to_list()
    return {status: _other(values, row[status], rng)}, "status"


OPEN_END = "99991231"  # SAP's "no end date"


def _german_amount(amount: float) -> str:
    return f"{amount:,.2f}".translate(str.maketrans(",.", ".,"))


def _plus_a_year(yyyymmdd: str) -> str:
    day = datetime.strptime(yyyymmdd, "%Y%m%d").date()
    later = day.replace(year=day.year + 1, day=28 if (day.month, day.day) == (2, 29) else day.day)
    return later.strftime("%Y%m%d")


def edit_contract(frame: pl.DataFrame, row: dict, rng: np.random.Generator) -> Edit:
    """A new amount, end date or status, a third each."""
    kind = str(rng.choice(["amount", "end date", "status"]))
    if kind == "amount":
        amount = float(row["AMOUNT"].replace(".", "").replace(",", "."))
        factor = 1 + rng.choice([-1, 1]) * rng.uniform(0.02, 0.10)
        return {"AMOUNT": _german_amount(amount * factor)}, kind
    if kind == "end date":
        if row["ENDDA"] in (None, OPEN_END):
            latest_start = frame["BEGDA"].max()  # the extract's "now"
            return {"ENDDA": f"{latest_start[:4]}1231"}, kind
        return {"ENDDA": _plus_a_year(row["ENDDA"])}, kind
    values = frame["STATUS"].drop_nulls().unique().sort().to_list()
    return {"STATUS": _other(values, row["STATUS"], rng)}, kind


# --- the sources -----------------------------------------------------------------------------

DIGITS = string.digits
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase

SOURCES = (
    Source("billing/customers.csv", ",", "billing", "customer", "cust_no", ("", DIGITS, 8),
           partial(edit_customer, email="email", phone="tel",
                   address=("addr1", "addr2", "town", "postcode"), country="country"),
           text=("name",), stamp=("updated_at", "%d/%m/%Y %H:%M")),
    Source("billing/accounts.csv", ",", "billing", "account", "acct_no", ("BA", DIGITS, 9),
           partial(edit_account, name="acct_name", label="({})", status="status"),
           text=("acct_name",), references=("cust_no",)),
    Source("crm/contacts.csv", ",", "crm", "customer", "Id", ("0035J", BASE62, 10),
           partial(edit_customer, email="Email", phone="Phone",
                   address=("MailingStreet", "MailingCity", "MailingPostalCode"),
                   country="MailingCountry"),
           text=("LastName", "CompanyName"),
           stamp=("LastModifiedDate", "%Y-%m-%dT%H:%M:%S%.3fZ")),
    Source("crm/accounts.csv", ",", "crm", "account", "Id", ("0015J", BASE62, 10),
           partial(edit_account, name="Name", label=" - {}", status="Status"),
           text=("Name",), references=("ContactId",)),
    Source("erp/partners.csv", ";", "erp", "customer", "PARTNER", ("00", DIGITS, 8),
           partial(edit_customer, email="SMTP_ADDR", phone="TEL_NUMBER",
                   address=("STREET", "HOUSE_NUM1", "POST_CODE1", "CITY1"), country="COUNTRY"),
           text=("NAME_LAST", "NAME1"), stamp=("CHANGED_AT", "%Y%m%d%H%M%S")),
    Source("erp/contract_accounts.csv", ";", "erp", "account", "VKONT", ("8", DIGITS, 11),
           partial(edit_account, name="VKBEZ", label=" {}", status="STATUS", width=40),
           text=("VKBEZ",), references=("GPART",)),
    Source("erp/contracts.csv", ";", "erp", "contract", "VERTRAG", ("4", DIGITS, 9),
           edit_contract, text=("PROD_DESC",), references=("VKONT", "GPART")),
)  # fmt: skip


# --- perturbation ----------------------------------------------------------------------------


def read_source(folder: Path, source: Source) -> pl.DataFrame:
    # every cell as text, as the pipeline lands it; polars writes back the same bytes
    # (minimal quoting, "\n" line ends), so only the perturbed rows differ
    return pl.read_csv(folder / source.path, separator=source.separator, infer_schema=False)


def typo(text: str, rng: np.random.Generator) -> str:
    """One keying error after the first character: two neighbours swapped, a letter dropped or
    replaced; never longer, so a width-limited field stays in its width."""
    letters = [i for i, c in enumerate(text) if i > 0 and c.isalpha()]
    if not letters:
        return text[:-1] if len(text) > 1 else text + "x"
    i = int(rng.choice(letters))
    kind = rng.choice(["swap", "drop", "replace"])
    if kind == "swap" and i + 1 < len(text) and text[i] != text[i + 1]:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == "replace":
        pool = [c for c in string.ascii_lowercase if c != text[i].lower()]
        new = str(rng.choice(pool))
        return text[:i] + (new.upper() if text[i].isupper() else new) + text[i + 1 :]
    return text[:i] + text[i + 1 :]


def new_keys(source: Source, n: int, taken: set[str], rng: np.random.Generator) -> list[str]:
    """`n` keys of the file's format that no record holds and no record refers to."""
    prefix, alphabet, width = source.key_format
    chars = np.array(list(alphabet))
    keys: list[str] = []
    while len(keys) < n:
        key = prefix + "".join(rng.choice(chars, width))
        if key not in taken:
            taken.add(key)
            keys.append(key)
    return keys


def later_stamp(frame: pl.DataFrame, column: str, fmt: str) -> str:
    """A day after the file's latest change: an update made after this extract."""
    latest = frame[column].str.to_datetime(fmt, strict=False).max()
    return pl.Series([latest + timedelta(days=1)]).dt.strftime(fmt)[0]


def _check_keys(frame: pl.DataFrame, source: Source) -> None:
    prefix, alphabet, width = source.key_format
    pattern = f"^{re.escape(prefix)}[{re.escape(alphabet)}]{{{width}}}$"
    if not frame[source.key].str.contains(pattern).all():
        raise SystemExit(f"{source.path}: keys do not all match {pattern}")


def edit_rows(
    frame: pl.DataFrame, source: Source, at: np.ndarray, stamp: dict, rng: np.random.Generator,
    change: Change,
) -> list[dict]:  # fmt: skip
    """The rows at `at`, each updated by the source's edit (and stamped, where it has a stamp)."""
    rows = []
    for i in at:
        row = frame.row(int(i), named=True)
        values, kind = source.edit(frame, row, rng)
        rows.append({**row, **values, **stamp})
        change.kinds[kind] += 1
    return rows


def new_records(
    frame: pl.DataFrame, source: Source, at: np.ndarray, stamp: dict, taken: set[str],
    rng: np.random.Generator, change: Change,
) -> list[dict]:  # fmt: skip
    """Copies of the rows at `at` under new keys, with a typo in their first filled text."""
    keys = new_keys(source, len(at), taken, rng)
    rows = []
    for i, key in zip(at, keys, strict=True):
        row = frame.row(int(i), named=True)
        column = next((c for c in source.text if row[c]), None)
        error = {column: typo(row[column], rng)} if column else {}
        rows.append({**row, source.key: key, **error, **stamp})
        change.added.append((key, row[source.key]))
    return rows


def perturb_file(
    folder: Path, source: Source, share: float, referenced: set[str], rng: np.random.Generator
) -> Change:
    """Edit, delete and copy `share` of the file's rows (half, a quarter, a quarter)."""
    frame = read_source(folder, source)
    _check_keys(frame, source)
    n = round(share * frame.height)
    n_edit, n_delete = n // 2, n // 4
    picked = rng.choice(frame.height, n, replace=False)
    edit_at, delete_at, copy_at = np.split(picked, [n_edit, n_edit + n_delete])
    change = Change(source.path, frame.height, edited=n_edit)
    change.deleted = frame[source.key].gather(delete_at).to_list()
    stamp = {}
    if source.stamp:
        column, fmt = source.stamp
        stamp = {column: later_stamp(frame, column, fmt)}
    edited = edit_rows(frame, source, edit_at, stamp, rng, change)
    taken = set(frame[source.key]) | referenced
    added = new_records(frame, source, copy_at, stamp, taken, rng, change)

    # edited rows stay in place; new records come last, as an extract appends them
    kept = np.ones(frame.height, dtype=bool)
    kept[np.concatenate([edit_at, delete_at])] = False
    untouched = frame.with_row_index("_at").filter(pl.Series(kept))
    edited_rows = pl.DataFrame(edited, schema=frame.schema).with_columns(
        _at=pl.Series(edit_at, dtype=pl.UInt32)
    )
    in_place = pl.concat([untouched, edited_rows.select(untouched.columns)]).sort("_at")
    out = pl.concat([in_place.drop("_at"), pl.DataFrame(added, schema=frame.schema)])
    out.write_csv(folder / source.path, separator=source.separator)
    return change


def update_truth(folder: Path, source: Source, change: Change) -> None:
    """Deleted records leave the truth; a new record joins its original's entity."""
    path = folder / "truth" / f"truth_{source.entity}.csv"
    truth = pl.read_csv(path, infer_schema=False)
    mine = pl.col("source_system") == source.system
    kept = truth.filter(~(mine & pl.col("source_key").is_in(change.deleted)))
    originals = pl.DataFrame(
        change.added, schema={"source_key": pl.String, "original": pl.String}, orient="row"
    )
    added = originals.join(
        truth.filter(mine).select(original="source_key", entity_id="entity_id"), on="original"
    ).select(source_system=pl.lit(source.system), source_key="source_key", entity_id="entity_id")
    pl.concat([kept, added]).write_csv(path)


def perturb(folder: Path, share: float, rng: np.random.Generator) -> list[Change]:
    # a new key must not be one an orphan reference already points at
    referenced: set[str] = set()
    for source in SOURCES:
        if source.references:
            frame = read_source(folder, source)
            referenced.update(*(frame[c].drop_nulls() for c in source.references))
    changes = []
    for source in SOURCES:
        changes.append(perturb_file(folder, source, share, referenced, rng))
        update_truth(folder, source, changes[-1])
    return changes


# --- runs and what they published ------------------------------------------------------------


def run_pipeline(folder: Path, warehouse: Path) -> dict:
    """`mdm run` as its own process: wall seconds, peak RSS, the version it published."""
    run = timed([*MDM, "run", "--project", str(folder), "--warehouse", str(warehouse)], cwd=ROOT)
    records = re.search(r"\(([\d,]+)\); quarantined: ([\d,]+)", run.stdout)
    return {
        "version": int(re.search(r"version (\d+)\)", run.stdout).group(1)),
        "wall_s": run.wall_s,
        "peak_gb": run.peak_rss_kb / 1024**2,
        "records_in": int(records.group(1).replace(",", "")),
        "quarantined": int(records.group(2).replace(",", "")),
        # deletions leave accounts and contracts referring to records that are gone
        "by_rule": rules.group(1) if (rules := re.search(r"by rule: (.*)", run.stdout)) else "",
    }


def _query(warehouse: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(warehouse / "mdm.duckdb"), read_only=True) as con:
        return con.sql(sql).pl()


def read_xref(warehouse: Path) -> pl.DataFrame:
    """The published current cross-reference of every entity: entity, record, golden_id."""
    return _query(warehouse, "SELECT entity, source_system || ':' || source_key AS record, "
                             "golden_id FROM golden.xref WHERE valid_to IS NULL")  # fmt: skip


def read_events(warehouse: Path, version: int) -> pl.DataFrame:
    return _query(warehouse, "SELECT entity, event, golden_id, other_ids, source_keys "
                             f"FROM audit.id_events WHERE version = {int(version)}")  # fmt: skip


def read_truth(folder: Path) -> pl.DataFrame:
    """Every entity's truth: entity, record, entity_id."""
    return pl.concat(
        pl.read_csv(folder / "truth" / f"truth_{e}.csv", infer_schema=False).select(
            entity=pl.lit(e), record=pl.concat_str("source_system", "source_key", separator=":"),
            entity_id="entity_id",
        )
        for e in ENTITIES
    )  # fmt: skip


# --- metrics ---------------------------------------------------------------------------------


def members(frame: pl.DataFrame, group: str) -> pl.DataFrame:
    """entity, `group`, members: the sorted records of each group (a set, comparable by ==)."""
    return frame.group_by("entity", group).agg(members=pl.col("record").sort())


def in_both_runs(before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """entity, record, golden_id (run 1), golden_id_2 (run 2), changed."""
    return before.join(after, on=RECORD, suffix="_2").with_columns(
        changed=pl.col("golden_id") != pl.col("golden_id_2")
    )


def kept_clusters(both: pl.DataFrame, before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """(a) Per entity, the records whose cluster kept exactly its members, and how many of
    them changed ID (must be none); with every record's churn beside it."""
    first = members(before, "golden_id").rename({"members": "members_1"})
    second = members(after, "golden_id").rename(
        {"golden_id": "golden_id_2", "members": "members_2"}
    )
    records = both.join(first, on=["entity", "golden_id"]).join(
        second, on=["entity", "golden_id_2"]
    )
    kept = pl.col("members_1") == pl.col("members_2")
    return records.group_by("entity").agg(
        records=pl.len(),
        changed_any=pl.col("changed").sum(),
        kept=kept.sum(),
        kept_changed=(kept & pl.col("changed")).sum(),
    )


def stable_entities(truth_before: pl.DataFrame, truth_after: pl.DataFrame) -> pl.DataFrame:
    """entity, entity_id of the true entities that gained or lost no record."""
    first = members(truth_before, "entity_id").rename({"members": "members_1"})
    second = members(truth_after, "entity_id").rename({"members": "members_2"})
    return (
        first.join(second, on=["entity", "entity_id"])
        .filter(pl.col("members_1") == pl.col("members_2"))
        .select("entity", "entity_id")
    )


def truth_churn(
    both: pl.DataFrame, truth_before: pl.DataFrame, truth_after: pl.DataFrame,
    events: pl.DataFrame,
) -> pl.DataFrame:  # fmt: skip
    """(b) Per entity, the records of untouched true entities, how many changed ID and why."""
    stable = stable_entities(truth_before, truth_after)
    records = both.join(truth_before, on=RECORD).join(stable, on=["entity", "entity_id"],
                                                      how="semi")  # fmt: skip
    merged_away = events.filter(
        pl.col("event") == "retired", pl.col("other_ids").list.len() > 0
    ).select("entity", "golden_id", merged=pl.lit(True))
    split_into = (
        events.filter(pl.col("event") == "split")
        .explode("source_keys")
        .select("entity", golden_id_2="golden_id", record="source_keys", split=pl.lit(True))
    )
    # a record whose old ID was retired could not keep it, so that cause comes first
    causes = (
        records.filter("changed")
        .join(merged_away, on=["entity", "golden_id"], how="left")
        .join(split_into, on=["entity", "golden_id_2", "record"], how="left")
        .select(
            "entity",
            cause=pl.when("merged").then(pl.lit("merge"))
            .when("split").then(pl.lit("split"))
            .otherwise(pl.lit("other")),
        )
    )  # fmt: skip
    counts = causes.pivot("cause", index="entity", values="cause", aggregate_function="len")
    return (
        records.group_by("entity")
        .agg(records=pl.len(), changed=pl.col("changed").sum())
        .join(counts, on="entity", how="left")
    )


def event_counts(events: pl.DataFrame) -> pl.DataFrame:
    return events.pivot("event", index="entity", values="event", aggregate_function="len")


# --- report ----------------------------------------------------------------------------------


def _markdown(head: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _by_entity(frame: pl.DataFrame) -> dict[str, dict]:
    rows = {row["entity"]: row for row in frame.iter_rows(named=True)}
    return {e: rows[e] for e in ENTITIES if e in rows}


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.4%}" if whole else "-"


def _runs_table(runs: list[dict]) -> str:
    return _markdown(
        ["run", "version", "wall s", "peak GB", "records in", "quarantined", "by rule"],
        [[i + 1, r["version"], f"{r['wall_s']:.1f}", f"{r['peak_gb']:.2f}",
          f"{r['records_in']:,}", f"{r['quarantined']:,}", r["by_rule"]]
         for i, r in enumerate(runs)],
    )  # fmt: skip


def _perturbation_table(changes: list[dict]) -> str:
    return _markdown(
        ["file", "rows", "edited", "deleted", "added", "edits by kind"],
        [[c["path"], f"{c['rows']:,}", c["edited"], c["deleted"], c["added"],
          ", ".join(f"{k} {n}" for k, n in sorted(c["kinds"].items()))] for c in changes],
    )  # fmt: skip


def _kept_table(kept: dict[str, dict]) -> str:
    return _markdown(
        ["entity", "records in both runs", "ID changed (any record)", "share",
         "records in kept clusters", "of which ID changed", "share (must be 0)"],
        [[e, f"{k['records']:,}", f"{k['changed_any']:,}", _share(k["changed_any"], k["records"]),
          f"{k['kept']:,}", k["kept_changed"], _share(k["kept_changed"], k["kept"])]
         for e, k in kept.items()],
    )  # fmt: skip


def _churn_table(churn: dict[str, dict]) -> str:
    return _markdown(
        ["entity", "records of untouched true entities", "ID changed", "share",
         "old ID merged away", "moved into a split", "other (between living IDs)"],
        [[e, f"{c['records']:,}", f"{c['changed']:,}", _share(c["changed"], c["records"]),
          c.get("merge") or 0, c.get("split") or 0, c.get("other") or 0]
         for e, c in churn.items()],
    )  # fmt: skip


def _events_table(events: dict[str, dict]) -> str:
    return _markdown(
        ["entity", *EVENTS],
        [[e, *[(events.get(e) or {}).get(k) or 0 for k in EVENTS]] for e in ENTITIES],
    )


def report(result: dict) -> str:
    return "\n\n".join([
        "### Runs", _runs_table(result["runs"]),
        f"### Perturbation ({result['share']:.2%} of each file's rows, seed {result['seed']})",
        _perturbation_table(result["perturbation"]),
        "### (a) Records whose cluster kept exactly its members", _kept_table(result["kept"]),
        "### (b) Records whose true entity gained or lost no record",
        _churn_table(result["truth_churn"]),
        "### Version-2 ID events", _events_table(result["events"]),
    ])  # fmt: skip


def measure(entities: int, share: float, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    cached = project(entities)
    work = Path(tempfile.mkdtemp(prefix="stability-"))
    try:
        folder, warehouse = work / "project", work / "warehouse"
        shutil.copytree(cached, folder)  # the cache stays as generated
        truth_before = read_truth(folder)
        first = run_pipeline(folder, warehouse)
        xref_before = read_xref(warehouse)
        changes = perturb(folder, share, rng)
        truth_after = read_truth(folder)
        second = run_pipeline(folder, warehouse)
        xref_after = read_xref(warehouse)
        events = read_events(warehouse, second["version"])
    finally:
        shutil.rmtree(work, ignore_errors=True)

    both = in_both_runs(xref_before, xref_after)
    return {
        "entities": entities, "share": share, "seed": seed, "runs": [first, second],
        "perturbation": [{"path": c.path, "rows": c.rows, "edited": c.edited,
                          "deleted": len(c.deleted), "added": len(c.added), "kinds": c.kinds}
                         for c in changes],
        "kept": _by_entity(kept_clusters(both, xref_before, xref_after)),
        "truth_churn": _by_entity(truth_churn(both, truth_before, truth_after, events)),
        "events": _by_entity(event_counts(events)),
    }  # fmt: skip


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000, help="generated project size")
    parser.add_argument("--share", type=float, default=0.01, help="of each file's rows perturbed")
    parser.add_argument("--seed", type=int, default=7, help="of the perturbation")
    args = parser.parse_args(argv)
    result = measure(args.entities, args.share, args.seed)
    print(json.dumps(result, default=str), file=sys.stderr, flush=True)
    print(report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
