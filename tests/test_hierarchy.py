"""The entity hierarchy on tiny hand-built frames: references translated through the parents'
cross-reference, broken references quarantined with the reference named, accounts resolved
within their golden customer (and following it when customers merge), contracts within their
account, mapping options children need, and the integrity rule the golden tables obey."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pytest
from pydantic import ValidationError

from conftest import ROOT
from matching.hierarchy import Parent, dangling, holder_label, link, through_account, with_labels
from matching.mapping import FieldRule, SourceMapping
from matching.resolve import Settings, candidates, cluster, score
from matching.standardize import standardize
from pipelines.assets import project_entities
from pipelines.contracts import load_project
from pipelines.integrity import build_pipeline_checks, dangling_references
from pipelines.warehouse import WarehouseResource

NO_QUARANTINE = pl.DataFrame(
    schema={"source_system": pl.String, "source_key": pl.String, "rule": pl.String}
)

ACCOUNT_MAPPING = {
    "account_name": FieldRule(column="name"),
    "customer_ref": FieldRule(column="owner"),
    "iban": FieldRule(column="iban"),
    "opened_at": FieldRule(column="opened"),
    "currency": FieldRule(constant="EUR"),
}


def _accounts(system: str, rows: list[tuple]) -> pl.DataFrame:
    mapping = SourceMapping(entity="account", source_system=system, key="id",
                            fields=ACCOUNT_MAPPING)  # fmt: skip
    frame = pl.DataFrame(rows, schema=["id", "owner", "name", "iban", "opened"], orient="row")
    return standardize(frame, mapping).records


# Two systems. The CRM's contact c1 (Ann Lee) holds a home and a garage account; the billing
# system's customer k1 is the same Ann Lee, holding the same home account (with its IBAN, and
# opened two days apart, as systems record it); c2 is someone else with a home of his own.
CRM = _accounts("crm", [
    ("a1", "c1", "Ann Lee - Home", None, "2020-01-01"),
    ("a2", "c1", "Ann Lee - Garage", None, "2021-05-01"),
    ("a3", "c2", "Bob Ray - Home", None, "2020-01-01"),
])  # fmt: skip
BILLING = _accounts("billing", [
    ("b1", "k1", "LEE, Ann (Home)", "DE52 1203 0000 0269 0170 57", "2020-01-03"),
    ("b2", "k9", "Nobody (Home)", None, "2020-01-01"),
])  # fmt: skip
CUSTOMERS = pl.DataFrame({
    "source_system": ["crm", "crm", "billing"], "source_key": ["c1", "c2", "k1"],
    "given_name": ["Ann", "Bob", None], "family_name": ["Lee", "Ray", None],
    "full_name": [None, None, "LEE, Ann"], "organization_name": [None, None, None],
})  # fmt: skip


def _customer_xref(golden_ids: list[str]) -> pl.DataFrame:
    return CUSTOMERS.select("source_system", "source_key").with_columns(
        golden_id=pl.Series(golden_ids)
    )


def _resolve_accounts(golden_ids: list[str]) -> dict[str, tuple[str, int]]:
    """source_key -> (customer golden ID, account cluster) with the customers resolved as given."""
    records = pl.concat([CRM, BILLING], how="vertical_relaxed")
    parents = {"customer": Parent("customer", _customer_xref(golden_ids), NO_QUARANTINE)}
    linked = link(records, "account", parents)
    staged = with_labels(linked.records, CUSTOMERS)
    pairs = candidates(staged, Settings(), "account").pairs
    scored, _ = score(staged, pairs, Settings(), "account")
    labels = cluster(staged.height, scored, Settings().threshold).labels
    return {
        key: (customer, int(label))
        for key, customer, label in zip(
            staged["source_key"], staged["customer_golden_id"], labels, strict=True
        )
    }


def test_a_merge_of_customers_moves_their_accounts_and_merges_the_shared_one() -> None:
    merged = _resolve_accounts(["G1", "G2", "G1"])  # c1 and k1 are one golden customer
    assert merged["a1"][0] == merged["b1"][0] == merged["a2"][0] == "G1"
    assert merged["a3"][0] == "G2"
    # the home account both systems hold is one golden account; the garage and Bob's home not
    assert merged["a1"][1] == merged["b1"][1]
    assert len({merged[k][1] for k in ("a1", "a2", "a3")}) == 3
    apart = _resolve_accounts(["G1", "G2", "G3"])  # the same records, customers not merged
    assert apart["b1"][0] == "G3"
    assert len({apart[k][1] for k in ("a1", "a2", "a3", "b1")}) == 4


def test_an_orphan_account_is_quarantined_naming_its_reference() -> None:
    records = pl.concat([CRM, BILLING], how="vertical_relaxed")
    parents = {"customer": Parent("customer", _customer_xref(["G1", "G2", "G1"]), NO_QUARANTINE)}
    linked = link(records, "account", parents)
    assert linked.records.height == 4
    assert linked.quarantine.rows() == [
        (
            "billing",
            "b2",
            "orphan_reference",
            "customer_ref 'k9' matches no billing customer record",
        )
    ]


def _contracts(rows: list[tuple]) -> pl.DataFrame:
    mapping = SourceMapping(
        entity="contract", source_system="erp", key="id",
        fields={
            "account_ref": FieldRule(column="acc"), "customer_ref": FieldRule(column="cust"),
            "product": FieldRule(column="product"),
            "start_date": FieldRule(column="start", formats=("%Y%m%d",)),
            "end_date": FieldRule(column="end", formats=("%Y%m%d",), missing=("99991231",)),
            "amount": FieldRule(column="amount", decimal=","),
        },
    )  # fmt: skip
    frame = pl.DataFrame(rows, schema=["id", "acc", "cust", "product", "start", "end", "amount"],
                         orient="row")  # fmt: skip
    return standardize(frame, mapping).records


def test_broken_contract_references_name_every_broken_one_and_the_quarantined_parent() -> None:
    contracts = _contracts([
        ("k1", "v1", "p1", "EL", "20200101", "99991231", "10,00"),
        ("k2", "v8", "p1", "EL", "20200101", "99991231", "10,00"),   # account orphaned upstream
        ("k3", "v9", "p9", "EL", "20200101", "99991231", "10,00"),   # both references broken
        ("k4", None, "p1", "EL", "20200101", "99991231", "10,00"),   # no account at all
        ("k5", "v1", None, "EL", "20200101", "99991231", "10,00"),   # customer is optional
    ])  # fmt: skip
    parents = {
        "account": Parent(
            "account",
            pl.DataFrame({"source_system": ["erp"], "source_key": ["v1"], "golden_id": ["A1"]}),
            pl.DataFrame(
                {"source_system": ["erp"], "source_key": ["v8"], "rule": ["orphan_reference"]}
            ),
        ),  # fmt: skip
        "customer": Parent(
            "customer",
            pl.DataFrame({"source_system": ["erp"], "source_key": ["p1"], "golden_id": ["C1"]}),
            NO_QUARANTINE,
        ),
    }
    linked = link(contracts, "contract", parents)
    assert sorted(linked.records["source_key"]) == ["k1", "k5"]
    assert linked.records.filter(pl.col("source_key") == "k1")["account_golden_id"].item() == "A1"
    held = {key: (rule, detail) for _, key, rule, detail in linked.quarantine.iter_rows()}
    assert held == {
        "k2": ("parent_quarantined",
               "account_ref 'v8': the erp account record it names is quarantined "
               "(orphan_reference)"),
        "k3": ("orphan_reference",
               "account_ref 'v9' matches no erp account record; "
               "customer_ref 'p9' matches no erp customer record"),
        "k4": ("reference_missing", "account_ref is empty"),
    }  # fmt: skip


def test_contract_mapping_options_decimal_comma_and_open_ends() -> None:
    records = _contracts([
        ("k1", "v1", "p1", "EL", "20200101", "99991231", "3.467,26"),
        ("k2", "v1", "p1", "EL", "20200101", "20210101", "198,84"),
        ("k3", "v1", "p1", "EL", "2020-01-01", "", "abc"),
    ])  # fmt: skip
    assert records["amount"].to_list() == [3467.26, 198.84, None]
    assert records["end_date"].cast(pl.String).to_list() == [None, "2021-01-01", None]
    assert records["start_date"].null_count() == 1  # an undeclared format is a field defect
    mapping = SourceMapping(entity="contract", source_system="erp", key="id",
                            fields={"account_ref": FieldRule(column="acc")})  # fmt: skip
    assert mapping.fields["account_ref"].column == "acc"
    with pytest.raises(ValidationError, match="must map"):
        SourceMapping(entity="account", source_system="crm", key="id", fields={})
    with pytest.raises(ValidationError, match="decimal applies only"):
        fields = {"customer_ref": FieldRule(column="c"),
                  "account_name": FieldRule(column="n", decimal=",")}  # fmt: skip
        SourceMapping(entity="account", source_system="crm", key="id", fields=fields)


def test_contracts_resolve_within_their_account_despite_migration_noise() -> None:
    records = _contracts([
        ("k1", "v1", "p1", "EL-FIX", "20200101", "20220101", "99,50"),
        ("k2", "v1", "p1", "EL-FIX", "20200102", None, "100,00"),  # migrated copy
        ("k3", "v1", "p1", "GAS", "20200101", "20220101", "45,10"),  # another product
        ("k4", "v2", "p2", "EL-FIX", "20200101", "20220101", "99,50"),  # another account
    ])  # fmt: skip
    parents = {
        "account": Parent("account", pl.DataFrame({
            "source_system": ["erp", "erp"], "source_key": ["v1", "v2"],
            "golden_id": ["A1", "A2"]}), NO_QUARANTINE),
        "customer": Parent("customer", pl.DataFrame({
            "source_system": ["erp", "erp"], "source_key": ["p1", "p2"],
            "golden_id": ["C1", "C2"]}), NO_QUARANTINE),
    }  # fmt: skip
    linked = link(records, "contract", parents).records
    accounts = pl.DataFrame({"golden_id": ["A1", "A2"], "customer_golden_id": ["C1", "C1"]})
    staged, disagree = through_account(linked, accounts)
    # the account decides the customer; k4's own reference named another: reported, not used
    assert staged["customer_golden_id"].to_list() == ["C1"] * 4 and disagree == 1
    pairs = candidates(staged, Settings(), "contract").pairs
    scored, _ = score(staged, pairs, Settings(), "contract")
    labels = cluster(staged.height, scored, Settings().threshold).labels
    assert labels[0] == labels[1] and len(set(labels[[0, 2, 3]].tolist())) == 3


def test_the_label_is_the_name_without_the_holder() -> None:
    frame = pl.DataFrame({
        "name": ["Ute Weller - Cottage", "BUTCHER, Denis (Garage)", "IRONBRIDGE LEBENSMITT",
                 "Smith & Co Ltd (Distribution centre)", None],
        "holder": ["Ute Weller", "BUTCHER, Denis", "Ironbridge Lebensmittel GmbH",
                   "Smith & Co Ltd", "Ann"],
    })  # fmt: skip
    assert holder_label(frame, "name", "holder").to_list() == [
        "cottage",
        "garage",
        None,
        "distribution centre",
        None,
    ]


def test_dangling_references_are_found_and_the_check_rule_fails_on_them() -> None:
    customers = pl.DataFrame({"golden_id": ["C1", "C2"]})
    accounts = pl.DataFrame({"golden_id": ["A1", "A2", "A3"],
                             "customer_golden_id": ["C1", "C2", "C9"]})  # fmt: skip
    contracts = pl.DataFrame({
        "golden_id": ["K1", "K2", "K3"], "account_golden_id": ["A1", "A8", "A2"],
        "customer_golden_id": ["C1", "C1", "C1"],  # K3's customer is not its account's (C2)
    })  # fmt: skip
    assert dangling(accounts, "customer_golden_id", customers)["golden_id"].to_list() == ["A3"]
    tables = {"customer": customers, "account": accounts, "contract": contracts}
    bad = dangling_references("contract", tables.__getitem__).sort("golden_id")
    assert bad.rows() == [
        ("account_golden_id", "K2", "A8"),
        ("customer_golden_id (not the account's)", "K3", "C1"),
    ]
    assert dangling_references("account", tables.__getitem__)["golden_id"].to_list() == ["A3"]
    clean = {**tables, "account": accounts.head(2),
             "contract": contracts.head(1)}  # fmt: skip
    assert dangling_references("contract", clean.__getitem__).height == 0
    assert np.array_equal(dangling_references("account", clean.__getitem__).shape, (0, 3))


def _pipeline_checks() -> dict[tuple[str, str], dg.AssetChecksDefinition]:
    checks = {}
    for check in build_pipeline_checks(load_project(ROOT)):
        (spec,) = check.check_specs
        checks[(spec.asset_key.to_user_string(), spec.name)] = check
    return checks


def test_the_integrity_checks_fail_on_a_planted_dangling_reference(tmp_path: Path) -> None:
    warehouse = WarehouseResource(path=str(tmp_path))
    tables = {
        "customer": pl.DataFrame({"golden_id": ["C1", "C2"]}),
        "account": pl.DataFrame({"golden_id": ["A1", "A2"], "customer_golden_id": ["C1", "C2"]}),
        "contract": pl.DataFrame({"golden_id": ["K1"], "account_golden_id": ["A1"],
                                  "customer_golden_id": ["C1"]}),
    }  # fmt: skip
    for name, frame in tables.items():
        frame.write_parquet(warehouse.intermediate("golden", f"golden_{name}"))
    checks = _pipeline_checks()
    account = checks[("golden/account", "references_resolve")]
    contract = checks[("golden/contract", "references_resolve")]
    assert account(warehouse=warehouse).passed and contract(warehouse=warehouse).passed
    assert account.check_specs and all(s.blocking for s in account.check_specs)
    # plant: an account of a customer that is not in golden.customer, a contract of no account
    tables["account"].with_columns(customer_golden_id=pl.Series(["C1", "C-GONE"])).write_parquet(
        warehouse.intermediate("golden", "golden_account")
    )
    tables["contract"].with_columns(account_golden_id=pl.lit("A-GONE")).write_parquet(
        warehouse.intermediate("golden", "golden_contract")
    )
    failed = account(warehouse=warehouse)
    assert not failed.passed and failed.metadata["dangling_references"].value == 1
    assert "| customer_golden_id | 1 | A2 |" in failed.metadata["by_reference"].value
    failed = contract(warehouse=warehouse)
    assert not failed.passed and failed.metadata["dangling_references"].value == 1


def test_the_broken_references_warning_counts_per_source(tmp_path: Path) -> None:
    warehouse = WarehouseResource(path=str(tmp_path))
    pl.DataFrame({
        "source": ["crm_accounts", "crm_accounts", "billing_accounts", "billing_accounts"],
        "source_key": ["a2", "a1", "b1", "b2"],
        "rule": ["orphan_reference", "orphan_reference", "reference_missing", "key_missing"],
    }).write_parquet(warehouse.intermediate("quarantine", "account"))  # fmt: skip
    result = _pipeline_checks()[("staged/account", "no_broken_references")](warehouse=warehouse)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["broken_references"].value == 3  # a missing key is not a reference
    table = result.metadata["by_source"].value
    assert "| billing_accounts | reference_missing | 1 | b1 |" in table
    assert "| crm_accounts | orphan_reference | 2 | a1, a2 |" in table


@pytest.mark.parametrize(
    ("removed", "message"),
    [
        (["golden_contract.odcs.yaml"], "sources map to contract but no golden contract"),
        (["erp_contracts.odcs.yaml"], "a golden contract contract, but no source contract maps"),
        (["crm_contacts.odcs.yaml", "billing_customers.odcs.yaml", "erp_partners.odcs.yaml",
          "golden_customer.odcs.yaml", "staged_customer.odcs.yaml"],
         "sources map to account but none to its parent customer"),
        (["crm_contacts.odcs.yaml"],
         "customer_ref names customer records of system 'crm', but no source contract maps"),
    ],
)  # fmt: skip
def test_a_project_whose_hierarchy_is_incomplete_fails_at_load(
    tmp_path: Path, removed: list[str], message: str
) -> None:
    project = tmp_path / "project"
    shutil.copytree(ROOT / "contracts", project / "contracts")
    shutil.copy(ROOT / "ownership.yaml", project / "ownership.yaml")
    for name in removed:
        (project / "contracts" / name).unlink()
    with pytest.raises(ValueError, match=re.escape(message)):
        project_entities(load_project(project))


def test_a_project_of_customers_and_accounts_alone_resolves_both() -> None:
    project = load_project(ROOT)
    kept = tuple(c for c in project.contracts if c.entity != "contract")
    assert project_entities(dataclasses.replace(project, contracts=kept)) == ("customer", "account")
    assert project_entities(project) == ("customer", "account", "contract")


def test_match_settings_per_entity_and_the_review_band(tmp_path: Path) -> None:
    from pipelines.settings import SettingsError, load_settings

    settings = load_settings(ROOT)
    assert settings.account.survivorship.source_trust == ["erp", "billing", "crm"]
    assert settings.contract.to_matching().review_threshold == 0.5
    (tmp_path / "matching.yaml").write_text(
        "account:\n  threshold: 0.8\n  review_threshold: 0.85\n"
    )
    with pytest.raises(SettingsError, match="review_threshold 0.85 is above threshold 0.8"):
        load_settings(tmp_path)
    (tmp_path / "matching.yaml").write_text("contract:\n  treshold: 0.8\n")
    with pytest.raises(SettingsError, match="contract.treshold"):
        load_settings(tmp_path)
    (tmp_path / "matching.yaml").write_text("customer:\n  chunk_pairs: 500000\n")
    assert load_settings(tmp_path).customer.to_matching().chunk_pairs == 500_000
    assert load_settings(ROOT).customer.to_matching().chunk_pairs == 2_000_000
