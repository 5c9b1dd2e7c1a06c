"""`mdm generate`: three source systems' extracts of one synthetic customer base, with truth.

Entities are generated in fixed-size chunks, each from its own random stream
(`SeedSequence([seed, chunk])`), so memory stays bounded as N grows and the same seed always
gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from . import accounts, contracts, customers, records, systems
from .rates import Rates
from .writer import DatasetWriter

CHUNK_ENTITIES = 50_000  # fixed: part of the output's identity for a given seed
GENERATOR_VERSION = 1

SOURCE_DATASETS = {  # dataset -> (system, key column)
    "crm/contacts": ("crm", "Id"),
    "billing/customers": ("billing", "cust_no"),
    "erp/partners": ("erp", "PARTNER"),
    "crm/accounts": ("crm", "Id"),
    "billing/accounts": ("billing", "acct_no"),
    "erp/contract_accounts": ("erp", "VKONT"),
    "erp/contracts": ("erp", "VERTRAG"),
}
TRUTH_DATASETS = (
    "truth/truth_customer",
    "truth/truth_account",
    "truth/truth_contract",
    "truth/truth_tags",
    "truth/entities_customer",
    "truth/entities_account",
    "truth/entities_contract",
)
_CUSTOMER_RENDER: dict[str, Callable[[pl.DataFrame, Rates], pl.DataFrame]] = {
    "crm/contacts": lambda r, rates: systems.crm_contacts(r),
    "billing/customers": systems.billing_customers,
    "erp/partners": systems.erp_partners,
}
_DISPLAY = {
    "crm/contacts": pl.coalesce(
        pl.concat_str([pl.col("FirstName"), pl.col("LastName")], separator=" "),
        pl.col("CompanyName"),
    ),
    "billing/customers": pl.col("name"),
    "erp/partners": pl.coalesce(
        pl.concat_str([pl.col("NAME_FIRST"), pl.col("NAME_LAST")], separator=" "),
        pl.col("NAME1"),
    ),
}
_ACCOUNT_RENDER = {
    "crm": ("crm/accounts", accounts.crm_accounts),
    "billing": ("billing/accounts", accounts.billing_accounts),
    "erp": ("erp/contract_accounts", accounts.erp_contract_accounts),
}


@dataclass
class _Counters:
    entity: int = 1
    account: int = 1
    contract: int = 1
    orphans: dict[str, int] = field(default_factory=dict)
    emails: customers.Registry = field(default_factory=customers.Registry)
    companies: customers.Registry = field(default_factory=customers.Registry)


def _tag_rows(frame: pl.DataFrame, kind: str) -> pl.DataFrame:
    return frame.filter(pl.col("tags").list.len() > 0).select(
        "source_system", "source_key", kind=pl.lit(kind), tags=pl.col("tags").list.join(";")
    )


def _orphan_keys(space: systems.KeySpace, mask: np.ndarray, counters: _Counters, name: str):
    first = counters.orphans.get(name, 0)
    counters.orphans[name] = first + int(mask.sum())
    return space.absent(int(mask.sum()), first)


def _with_orphans(
    frame: pl.DataFrame,
    column: str,
    u: str,
    space: systems.KeySpace,
    counters: _Counters,
    name: str,
    rate: float,
) -> tuple[pl.DataFrame, np.ndarray]:
    mask = (frame[u] < rate).to_numpy()
    values = frame[column].to_numpy().copy()
    values[mask] = _orphan_keys(space, mask, counters, name).to_numpy()
    return frame.with_columns(pl.Series(column, values, dtype=pl.String)), mask


def _chunk(
    rng: np.random.Generator,
    n: int,
    counters: _Counters,
    spaces: dict[str, systems.KeySpace],
    rates: Rates,
) -> dict[str, pl.DataFrame]:
    out: dict[str, pl.DataFrame] = {}
    ents = customers.generate(rng, counters.entity, n, rates, counters.emails, counters.companies)
    counters.entity += n
    recs = records.corrupt(rng, ents, rates)

    index = []
    for dataset, render in _CUSTOMER_RENDER.items():
        system, key = SOURCE_DATASETS[dataset]
        part = recs.filter(pl.col("system") == system)
        part = part[rng.permutation(part.height)]
        keys = spaces[dataset].take(part.height)
        rendered = render(part, rates)
        out[dataset] = rendered.insert_column(0, keys.alias(key))
        index.append(
            part.with_columns(
                source_key=keys, _display=rendered.select(_DISPLAY[dataset]).to_series()
            )
        )
    recs = pl.concat(index, how="vertical_relaxed").rename({"system": "source_system"})
    out["truth/truth_customer"] = recs.select("source_system", "source_key", "entity_id")
    tags = [_tag_rows(recs, "corruption"), _hard_negative_rows(ents, recs)]

    acc = accounts.real_accounts(rng, ents, counters.account)
    counters.account += acc.height
    acc_recs = accounts.account_records(
        rng,
        acc,
        recs.select(
            pl.col("_row"), pl.col("source_system").alias("system"), "source_key", "_display"
        ),
        rates,
    )
    acc_recs = accounts.with_iban_typos(acc_recs, rates).with_columns(
        _owner_type=pl.Series(ents["party_type"].to_numpy()[acc_recs["_owner_row"].to_numpy()]),
        _customer_ref=pl.col("_customer_key"),
    )
    acc_index = []
    for system, (dataset, render) in _ACCOUNT_RENDER.items():
        part = acc_recs.filter(pl.col("system") == system)
        part = part[rng.permutation(part.height)]
        customer_space = spaces[
            {"crm": "crm/contacts", "billing": "billing/customers", "erp": "erp/partners"}[system]
        ]
        part, orphan = _with_orphans(
            part,
            "_customer_ref",
            "_orphan",
            customer_space,
            counters,
            dataset,
            rates.orphan_reference,
        )
        keys = spaces[dataset].take(part.height)
        out[dataset] = render(part).insert_column(0, keys.alias(SOURCE_DATASETS[dataset][1]))
        acc_index.append(part.with_columns(source_key=keys, _orphaned=pl.Series(orphan)))
    acc_recs = pl.concat(acc_index).rename({"system": "source_system"})
    out["truth/truth_account"] = acc_recs.select(
        "source_system", "source_key", entity_id=pl.col("account_id")
    )
    account_tags = pl.concat_list(
        pl.when(pl.col("_orphaned")).then(pl.lit("customer_ref")),
    ).list.drop_nulls()
    tags.append(_tag_rows(acc_recs.with_columns(tags=account_tags), "orphan"))
    corrupt_tags = pl.concat_list(
        pl.when(pl.col("_iban_typo_applied") & accounts.iban_shown(pl.col("source_system"))).then(
            pl.lit("iban_typo")
        ),
        pl.when(pl.col("_duplicate")).then(pl.lit("duplicate_record")),
        pl.when(pl.col("_status_conflict") < 0.05).then(pl.lit("status_conflict")),
    ).list.drop_nulls()
    tags.append(_tag_rows(acc_recs.with_columns(tags=corrupt_tags), "corruption"))

    erp_acc = acc_recs.filter(pl.col("source_system") == "erp")
    held = np.unique(
        acc.with_row_index("_i")
        .join(erp_acc.select("account_id").unique(), on="account_id")["_i"]
        .to_numpy()
    )
    con = contracts.real_contracts(
        rng,
        acc,
        held,
        counters.contract,
        (ents["party_type"] == "organization").to_numpy()[acc["_owner_row"].to_numpy()],
    )
    counters.contract += con.height
    con_recs = contracts.contract_records(rng, con, rates)
    # each record points at one ERP record of its account, and at that record's own partner
    refs = erp_acc.select("account_id", _account_ref="source_key", _customer_ref="_customer_key")
    con_recs = con_recs.with_row_index("_i").join(refs, on="account_id")
    con_recs = con_recs.with_columns(_u=pl.Series(rng.random(con_recs.height)))
    con_recs = con_recs.sort("_i", "_u").unique("_i", keep="first", maintain_order=True)
    con_recs = con_recs[rng.permutation(con_recs.height)]
    con_recs, orphan_a = _with_orphans(
        con_recs,
        "_account_ref",
        "_orphan_a",
        spaces["erp/contract_accounts"],
        counters,
        "erp/contracts:account",
        rates.orphan_reference,
    )
    con_recs, orphan_c = _with_orphans(
        con_recs,
        "_customer_ref",
        "_orphan_c",
        spaces["erp/partners"],
        counters,
        "erp/contracts:customer",
        rates.orphan_reference,
    )
    keys = spaces["erp/contracts"].take(con_recs.height)
    out["erp/contracts"] = contracts.erp_contracts(con_recs).insert_column(0, keys.alias("VERTRAG"))
    con_recs = con_recs.with_columns(
        source_system=pl.lit("erp"),
        source_key=keys,
        _oa=pl.Series(orphan_a),
        _oc=pl.Series(orphan_c),
    )
    out["truth/truth_contract"] = con_recs.select(
        "source_system", "source_key", entity_id=pl.col("contract_id")
    )
    tags.append(
        _tag_rows(
            con_recs.with_columns(
                tags=pl.concat_list(
                    pl.when(pl.col("_oa")).then(pl.lit("account_ref")),
                    pl.when(pl.col("_oc")).then(pl.lit("customer_ref")),
                ).list.drop_nulls()
            ),
            "orphan",
        )
    )
    tags.append(
        _tag_rows(
            con_recs.with_columns(
                tags=pl.concat_list(
                    pl.when(pl.col("_duplicate")).then(pl.lit("duplicate_record"))
                ).list.drop_nulls()
            ),
            "corruption",
        )
    )
    out["truth/truth_tags"] = pl.concat(tags)
    out["truth/entities_customer"] = _customer_truth(ents)
    out["truth/entities_account"] = acc.select(
        "account_id", "customer_entity_id", "label", "iban", "opened_at", "currency", "status"
    )
    out["truth/entities_contract"] = con.select(
        "contract_id",
        "account_id",
        "customer_entity_id",
        "product_code",
        "start_date",
        "end_date",
        "amount",
        "currency",
        "status",
    )
    return out


def _hard_negative_rows(ents: pl.DataFrame, recs: pl.DataFrame) -> pl.DataFrame:
    """Every record of both sides of a planted hard-negative pair, with the partner entity and
    the distinguishing evidence the record itself carries."""
    partners = ents.filter(pl.col("hard_negative").is_not_null()).select(
        "entity_id", "hard_negative", partner=pl.col("partner_entity_id")
    )
    pairs = pl.concat(
        [
            partners,
            partners.select(
                entity_id="partner", hard_negative="hard_negative", partner="entity_id"
            ),
        ]
    )
    kind = pl.col("hard_negative")
    has_birth = pl.col("_birth").is_not_null() & (
        pl.col("_junk_field").fill_null("") != "birth_date"
    )
    evidence = (
        pl.concat_list(
            pl.when(kind == "twin").then(pl.lit("given_name")),
            pl.when(kind.is_in(["namesake", "jr_sr"]) & has_birth).then(pl.lit("birth_date")),
            pl.when((kind == "jr_sr") & pl.col("_suffix").is_not_null()).then(pl.lit("suffix")),
            pl.when((kind == "lookalike_organization") & pl.col("_tax_shown")).then(
                pl.lit("tax_id")
            ),
        )
        .list.drop_nulls()
        .list.join("+")
    )
    return (
        recs.drop("hard_negative")
        .join(pairs, on="entity_id")
        .select(
            "source_system",
            "source_key",
            kind=pl.lit("hard_negative"),
            tags=kind
            + ";partner="
            + pl.col("partner").cast(pl.String)
            + ";evidence="
            + pl.when(evidence == "").then(pl.lit("none")).otherwise(evidence),
        )
    )


def _customer_truth(ents: pl.DataFrame) -> pl.DataFrame:
    types = records._street_type_table()
    line = records._street_line
    e = ents.join(types, on=["country", "street_type"], how="left", maintain_order="left").join(
        types.rename(
            {
                "_type_full": "_old_type_full",
                "_type_short": "_old_type_short",
                "_type_pos": "_old_type_pos",
                "street_type": "old_street_type",
            }
        ),
        on=["country", "old_street_type"],
        how="left",
        maintain_order="left",
    )
    moved = pl.col("_moved")
    return e.select(
        "entity_id",
        "party_type",
        "country",
        "gender",
        "given_name",
        "family_name",
        "maiden_name",
        "generation",
        "organization_name",
        "email",
        "phone",
        street=line("street_name", "_type", pl.lit(False)),
        house_number="house_number",
        flat="flat",
        postcode="postcode",
        city="city",
        birth_date="birth_date",
        tax_id="tax_id",
        moved=moved,
        old_street=pl.when(moved).then(line("old_street_name", "_old_type", pl.lit(False))),
        old_house_number=pl.when(moved).then(pl.col("old_house_number")),
        old_postcode=pl.when(moved).then(pl.col("old_postcode")),
        old_city=pl.when(moved).then(pl.col("old_city")),
        hard_negative="hard_negative",
        partner_entity_id=pl.when(pl.col("partner_entity_id") > 0).then(
            pl.col("partner_entity_id")
        ),
    )


def generate(
    entities: int,
    seed: int,
    out: Path,
    fmt: str = "csv",
    rates: Rates | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Write the extracts and truth for `entities` customer entities to `out`; returns row
    counts per dataset (also written to `out/manifest.json`)."""
    if entities < 1:
        raise ValueError("--entities must be at least 1")
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"--format must be csv or parquet, not {fmt!r}")
    rates = rates or Rates()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    writers = {
        name: DatasetWriter(
            out,
            name,
            fmt,
            systems.SEPARATOR[name.split("/")[0]] if name in SOURCE_DATASETS else ",",
        )
        for name in (*SOURCE_DATASETS, *TRUTH_DATASETS)
    }
    spaces = systems.key_spaces()
    counters = _Counters()
    done = 0
    try:
        for chunk, start in enumerate(range(0, entities, CHUNK_ENTITIES)):
            n = min(CHUNK_ENTITIES, entities - start)
            rng = np.random.default_rng(np.random.SeedSequence([seed, chunk]))
            for name, frame in _chunk(rng, n, counters, spaces, rates).items():
                writers[name].write(frame)
            done += n
            if progress:
                progress(done, entities)
    finally:
        for w in writers.values():
            w.close()
    counts = {name: w.rows for name, w in writers.items()}
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "entities": entities,
        "seed": seed,
        "format": fmt,
        "rates": rates.model_dump(),
        "rows": counts,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return counts
