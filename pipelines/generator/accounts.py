"""Accounts: each customer's real accounts, held by one or more of the systems the customer is
in (the same real account in several), each record pointing at a customer record of its own
system by that system's key."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from . import vocab
from .customers import EPOCH
from .identifiers import ibans
from .rates import Rates
from .records import SYSTEMS

ACCOUNT_SYSTEM_SHARE = np.array([0.60, 0.90, 0.75])  # crm, billing, erp: where the owner is
STATUSES = ("active", "closed", "suspended")
IBAN_SHOWN = {"crm": 0.0, "billing": 0.92, "erp": 0.75}  # the CRM holds no bank details
STATUS_CODES = {
    "crm": {"active": "Active", "closed": "Closed", "suspended": "Suspended"},
    "billing": {"active": "A", "closed": "C", "suspended": "S"},
    "erp": {"active": "ACTV", "closed": "CLSD", "suspended": "SUSP"},
}


def real_accounts(rng: np.random.Generator, entities: pl.DataFrame, first_id: int) -> pl.DataFrame:
    """The true accounts of `entities` (one row per real account)."""
    org = (entities["party_type"] == "organization").to_numpy()
    n = len(org)
    count = np.where(
        org,
        rng.choice(5, n, p=[0.10, 0.45, 0.25, 0.12, 0.08]),
        rng.choice(4, n, p=[0.15, 0.68, 0.14, 0.03]),
    )
    owner = np.repeat(np.arange(n), count)
    k = len(owner)
    nth = np.arange(k) - np.repeat(np.cumsum(count) - count, count)
    country = entities["country"].to_numpy()[owner]
    labels = np.empty(k, dtype=object)
    start = rng.integers(0, 100, n)[owner]
    for kind, is_org in (("organization", True), ("person", False)):
        sel = org[owner] == is_org
        options = np.array(vocab.ACCOUNT_LABELS[kind], dtype=object)
        labels[sel] = options[(start[sel] + nth[sel]) % len(options)]
    low, high = (dt.date(2005, 1, 1) - EPOCH).days, (dt.date(2026, 6, 30) - EPOCH).days
    currency = pl.Series(country).replace_strict(vocab.CURRENCY).to_numpy()
    currency = np.where(org[owner] & (rng.random(k) < 0.03), "USD", currency)
    return pl.DataFrame(
        {
            "account_id": np.arange(first_id, first_id + k, dtype=np.int64),
            "_owner_row": owner,
            "customer_entity_id": entities["entity_id"].to_numpy()[owner],
            "label": pl.Series(labels, dtype=pl.String),
            "iban": ibans(rng, country),
            "opened_at": pl.Series(rng.integers(low, high, k)).cast(pl.Int32).cast(pl.Date),
            "currency": pl.Series(currency, dtype=pl.String),
            "status": rng.choice(np.array(STATUSES), k, p=[0.85, 0.10, 0.05]),
            "country": country,
        }
    )


def account_records(
    rng: np.random.Generator,
    accounts: pl.DataFrame,
    customers: pl.DataFrame,
    rates: Rates,
) -> pl.DataFrame:
    """One row per source account record: (account, system, customer key it points to).

    `customers` holds the customer records: `_row` (entity row in the chunk), `system`,
    `source_key`, `_display` (the name as that system shows it).
    """
    owner = accounts["_owner_row"].to_numpy()
    n_ent = int(customers["_row"].max()) + 1 if customers.height else 0
    present = np.zeros((n_ent, 3), bool)
    sys_idx = customers["system"].replace_strict({s: i for i, s in enumerate(SYSTEMS)}).to_numpy()
    present[customers["_row"].to_numpy(), sys_idx] = True
    k = len(owner)
    held = present[owner] & (rng.random((k, 3)) < ACCOUNT_SYSTEM_SHARE)
    # an account no system kept by chance stays in the first system its owner is in
    fallback = np.argmax(present[owner], axis=1)
    none = ~held.any(axis=1)
    held[np.flatnonzero(none), fallback[none]] = True
    acc, sys = np.nonzero(held)
    dup = (sys == 1) & (rng.random(len(acc)) < rates.account_duplicate)
    acc = np.concatenate([acc, acc[dup]])
    sys = np.concatenate([sys, sys[dup]])
    recs = accounts[acc].with_columns(
        system=pl.Series(np.array(SYSTEMS)[sys]),
        _account_record=pl.Series(np.arange(len(acc))),
        _duplicate=pl.Series(np.arange(len(acc)) >= len(acc) - dup.sum()),
    )
    # point at one of the owner's customer records in that system (there may be two)
    chosen = recs.select("_account_record", "_owner_row", "system").join(
        customers.select(pl.col("_row").alias("_owner_row"), "system", "source_key", "_display"),
        on=["_owner_row", "system"],
    )
    chosen = chosen.with_columns(_u=pl.Series(rng.random(chosen.height)))
    chosen = chosen.sort("_account_record", "_u").unique("_account_record", keep="first")
    recs = recs.join(
        chosen.select("_account_record", pl.col("source_key").alias("_customer_key"), "_display"),
        on="_account_record",
    ).sort("_account_record")
    u = {
        f: pl.Series(rng.random(recs.height))
        for f in (
            "iban_miss",
            "iban_fmt",
            "iban_typo",
            "status_conflict",
            "date_shift",
            "shift_days",
            "orphan",
            "typo_pos",
            "letter",
        )
    }
    return recs.with_columns(**{f"_{k}": v for k, v in u.items()})


def _status(system: str) -> pl.Expr:
    # a few systems disagree on the status (a closure not yet synced)
    conflict = pl.col("_status_conflict") < 0.05
    other = pl.when(pl.col("status") == "active").then(pl.lit("closed")).otherwise(pl.lit("active"))
    return (
        pl.when(conflict)
        .then(other)
        .otherwise(pl.col("status"))
        .replace_strict(STATUS_CODES[system])
    )


def iban_shown(system: pl.Expr) -> pl.Expr:
    return pl.col("_iban_miss") < system.replace_strict(IBAN_SHOWN)


def _iban(system: str, grouped_share: float) -> pl.Expr:
    iban = pl.col("_iban_shown")
    grouped = iban.str.extract_all(".{1,4}").list.join(" ")
    u = pl.col("_iban_fmt")
    shown = (
        pl.when(u < 0.03)
        .then(iban.str.to_lowercase())
        .when(u < grouped_share)
        .then(grouped)
        .otherwise(iban)
    )
    return pl.when(iban_shown(pl.lit(system))).then(shown).otherwise(None)


def with_iban_typos(recs: pl.DataFrame, rates: Rates) -> pl.DataFrame:
    """A mistyped digit in `iban_typo` of records: the check digits then fail, as in real data."""
    iban = pl.col("iban")
    at = 4 + (pl.col("_typo_pos") * (iban.str.len_chars() - 4)).floor().cast(pl.Int64)
    here = iban.str.slice(at, 1)
    digit = (pl.col("_letter") * 9).floor().cast(pl.Int64)
    new = (
        pl.when(here == digit.cast(pl.String))
        .then((digit + 1).cast(pl.String))
        .otherwise(digit.cast(pl.String))
    )
    typo = (pl.col("_iban_typo") < rates.iban_typo) & here.str.contains(r"^\d$")
    return recs.with_columns(
        _iban_shown=pl.when(typo)
        .then(iban.str.slice(0, at) + new + iban.str.slice(at + 1))
        .otherwise(iban),
        _iban_typo_applied=typo,
    )


def crm_accounts(r: pl.DataFrame) -> pl.DataFrame:
    created = (
        pl.when(pl.col("_date_shift") < 0.6)
        .then(pl.col("opened_at") - pl.duration(days=(pl.col("_shift_days") * 45).cast(pl.Int64)))
        .otherwise(pl.col("opened_at"))
    )
    org = pl.col("_owner_type") == "organization"
    return r.select(
        ContactId=pl.col("_customer_ref"),
        Name=pl.col("_display") + " - " + pl.col("label"),
        Type=pl.when(org).then(pl.lit("Business")).otherwise(pl.lit("Residential")),
        Status=_status("crm"),
        CreatedDate=created.dt.strftime("%Y-%m-%d"),
        CurrencyIsoCode=pl.col("currency"),
    )


def billing_accounts(r: pl.DataFrame) -> pl.DataFrame:
    return r.select(
        cust_no=pl.col("_customer_ref"),
        acct_name=pl.col("_display") + " (" + pl.col("label") + ")",
        iban=_iban("billing", 0.7),
        status=_status("billing"),
        open_date=pl.col("opened_at").dt.strftime("%d/%m/%Y"),
        ccy=pl.col("currency"),
    )


def erp_contract_accounts(r: pl.DataFrame) -> pl.DataFrame:
    opened = (
        pl.when(pl.col("_date_shift") < 0.15)
        .then(
            pl.col("opened_at") + pl.duration(days=1 + (pl.col("_shift_days") * 5).cast(pl.Int64))
        )
        .otherwise(pl.col("opened_at"))
    )
    return r.select(
        GPART=pl.col("_customer_ref"),
        VKBEZ=(pl.col("_display") + " " + pl.col("label")).str.to_uppercase().str.slice(0, 40),
        IBAN=_iban("erp", 0.0),
        ERDAT=opened.dt.strftime("%Y%m%d"),
        WAERS=pl.col("currency"),
        STATUS=_status("erp"),
    )
