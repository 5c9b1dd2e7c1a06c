"""A fixed, seeded perturbation of a generated project's source files, as the sources of a real
company change between two runs (`benchmarks/stability.py`): a share of each file's rows edited
as a source update would edit them, deleted, or copied as new records with one keying error,
and the truth files updated to match."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.generator.vocab import ACCOUNT_LABELS

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
