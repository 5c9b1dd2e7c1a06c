"""Contracts: the products each account holds, recorded in the ERP against an ERP contract
account and ERP business partner; a migration left some contracts in the ERP twice."""

from __future__ import annotations

import numpy as np
import polars as pl

from . import vocab
from .customers import TODAY
from .rates import Rates

_CONSUMER_MAX = 500.0  # products whose monthly amount can exceed this are for businesses


def real_contracts(
    rng: np.random.Generator,
    accounts: pl.DataFrame,
    erp_accounts: np.ndarray,
    first_id: int,
    owner_is_org: np.ndarray,
) -> pl.DataFrame:
    """True contracts of the accounts held in the ERP (`erp_accounts`: their row numbers)."""
    count = rng.choice(4, len(erp_accounts), p=[0.2, 0.5, 0.2, 0.1])
    acc = np.repeat(erp_accounts, count)
    k = len(acc)
    products = vocab.PRODUCTS
    consumer = np.array([i for i, p in enumerate(products) if p[4] <= _CONSUMER_MAX])
    business = np.array([i for i, p in enumerate(products) if p[4] > _CONSUMER_MAX])
    org = owner_is_org[acc]
    product = np.where(
        org & (rng.random(k) < 0.7) & (len(business) > 0),
        business[rng.integers(0, max(len(business), 1), k)] if len(business) else 0,
        consumer[rng.integers(0, len(consumer), k)],
    )
    low = np.array([p[3] for p in products])[product]
    high = np.array([p[4] for p in products])[product]
    amount = np.round(low + (high - low) * rng.random(k), 2)
    terms = [p[5] for p in products]
    term = np.array(
        [terms[i][j % len(terms[i])] for i, j in zip(product, rng.integers(0, 12, k), strict=True)]
    )
    opened = accounts["opened_at"].to_numpy()[acc]
    today = np.datetime64(TODAY)
    start = opened + rng.integers(0, 3 * 365, k).astype("timedelta64[D]")
    start = np.minimum(start, today - np.timedelta64(1, "D"))
    end = start + (term * 30.44).astype("timedelta64[D]")
    open_ended = term == 0
    status = np.where(open_ended | (end > today), "active", "ended")
    status = np.where(rng.random(k) < 0.03, "cancelled", status)
    return pl.DataFrame(
        {
            "contract_id": np.arange(first_id, first_id + k, dtype=np.int64),
            "account_id": accounts["account_id"].to_numpy()[acc],
            "customer_entity_id": accounts["customer_entity_id"].to_numpy()[acc],
            "product_code": pl.Series([products[i][0] for i in product], dtype=pl.String),
            "_product": product,
            "start_date": pl.Series(start.astype("datetime64[D]")),
            "end_date": pl.Series(np.where(open_ended, np.datetime64("NaT"), end)).cast(pl.Date),
            "amount": amount,
            "currency": accounts["currency"].to_numpy()[acc],
            "status": status,
        }
    ).with_columns(pl.col("start_date").cast(pl.Date))


def contract_records(rng: np.random.Generator, contracts: pl.DataFrame, rates: Rates):
    """One row per ERP contract record; `contract_duplicate` of contracts appear twice."""
    k = contracts.height
    dup = rng.random(k) < rates.contract_duplicate
    rows = np.concatenate([np.arange(k), np.flatnonzero(dup)])
    recs = contracts[rows].with_columns(
        _duplicate=pl.Series(np.arange(len(rows)) >= k),
        **{
            f"_{f}": pl.Series(rng.random(len(rows)))
            for f in (
                "desc",
                "shift",
                "round",
                "thousands",
                "open_style",
                "pick",
                "orphan_a",
                "orphan_c",
            )
        },
    )
    return recs


def erp_contracts(r: pl.DataFrame) -> pl.DataFrame:
    products = vocab.PRODUCTS
    desc = pl.Series([p[1] for p in products])
    short = pl.Series([p[2] for p in products])
    dup = pl.col("_duplicate")
    description = (
        pl.when(dup & (pl.col("_desc") < 0.5))
        .then(pl.col("_product").replace_strict(dict(enumerate(short))))
        .otherwise(pl.col("_product").replace_strict(dict(enumerate(desc))))
    )
    start = (
        pl.when(dup & (pl.col("_shift") < 0.3))
        .then(pl.col("start_date") + pl.duration(days=1))
        .otherwise(pl.col("start_date"))
    )
    # open-ended: SAP's 9999-12-31, or (a migrated record) nothing at all
    end = pl.when(pl.col("end_date").is_not_null()).then(pl.col("end_date").dt.strftime("%Y%m%d"))
    end = end.when(dup & (pl.col("_open_style") < 0.5)).then(None).otherwise(pl.lit("99991231"))
    amount = (
        pl.when(dup & (pl.col("_round") < 0.2))
        .then(pl.col("amount").round(0))
        .otherwise(pl.col("amount"))
    )
    whole = amount.floor().cast(pl.Int64)
    cents = ((amount - whole) * 100).round(0).cast(pl.Int64).cast(pl.String).str.zfill(2)
    thousands = (
        pl.when(whole >= 1000)
        .then((whole // 1000).cast(pl.String) + "." + (whole % 1000).cast(pl.String).str.zfill(3))
        .otherwise(whole.cast(pl.String))
    )
    plain = whole.cast(pl.String) + "," + cents
    status = {"active": "AKTIV", "ended": "BEENDET", "cancelled": "STORNO"}
    return r.select(
        VKONT=pl.col("_account_ref"),
        GPART=pl.col("_customer_ref"),
        PRODUCT=pl.col("product_code"),
        PROD_DESC=description,
        BEGDA=start.dt.strftime("%Y%m%d"),
        ENDDA=end,
        AMOUNT=pl.when(dup & (pl.col("_thousands") < 0.3))
        .then(thousands + "," + cents)
        .otherwise(plain),
        WAERS=pl.col("currency"),
        STATUS=pl.col("status").replace_strict(status),
    )
