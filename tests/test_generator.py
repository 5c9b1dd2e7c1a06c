"""Structure of the generator's output: determinism, truth coverage, keys, foreign keys,
identifiers, formats. (Corruption rates are checked independently in test_generator_rates.)"""

from __future__ import annotations

import ast
import filecmp
import json
from pathlib import Path

import phonenumbers
import polars as pl
import pytest
from stdnum import iban
from stdnum.eu import vat as eu_vat
from stdnum.gb import vat as gb_vat

from conftest import ROOT, read
from pipelines.cli import main
from pipelines.generator import RateError, Rates, generate, vocab, with_overrides
from pipelines.generator.run import SOURCE_DATASETS, TRUTH_DATASETS

CUSTOMERS = ("crm/contacts", "billing/customers", "erp/partners")
ACCOUNTS = ("crm/accounts", "billing/accounts", "erp/contract_accounts")


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path, generated: Path) -> None:
    generate(3_000, 5, tmp_path / "again")
    files = _files(generated)
    assert files == _files(tmp_path / "again")
    match, mismatch, errors = filecmp.cmpfiles(generated, tmp_path / "again", files, shallow=False)
    assert mismatch == [] and errors == [] and len(match) == len(files) == 15
    generate(3_000, 6, tmp_path / "other")
    assert not filecmp.cmp(
        generated / "crm/contacts.csv", tmp_path / "other/crm/contacts.csv", shallow=False
    )


def test_committed_sample_is_what_the_generator_writes(tmp_path: Path) -> None:
    sample = ROOT / "data" / "samples"
    manifest = json.loads((sample / "manifest.json").read_text())
    assert manifest["entities"] == 2_000
    generate(manifest["entities"], manifest["seed"], tmp_path, rates=Rates(**manifest["rates"]))
    files = _files(tmp_path)
    assert files == _files(sample)
    _, mismatch, errors = filecmp.cmpfiles(sample, tmp_path, files, shallow=False)
    assert mismatch == [] and errors == [], "run `make sample` to regenerate data/samples"
    assert manifest["rates"] == Rates().model_dump(), "the sample must use the default rates"
    size = sum((sample / f).stat().st_size for f in files)
    assert size < 5_000_000


def test_truth_covers_every_record_exactly_once(generated: Path) -> None:
    for entity, datasets in (
        ("customer", CUSTOMERS),
        ("account", ACCOUNTS),
        ("contract", ("erp/contracts",)),
    ):
        truth = read(generated, f"truth/truth_{entity}")
        assert truth.select("source_system", "source_key").is_duplicated().sum() == 0
        records = pl.concat(
            [
                read(generated, d).select(
                    source_system=pl.lit(SOURCE_DATASETS[d][0]),
                    source_key=pl.col(SOURCE_DATASETS[d][1]),
                )
                for d in datasets
            ]
        )
        assert records.is_duplicated().sum() == 0
        assert records.height == truth.height
        assert records.join(truth, on=["source_system", "source_key"], how="anti").height == 0
        assert truth.join(records, on=["source_system", "source_key"], how="anti").height == 0
    entities = read(generated, "truth/truth_customer")["entity_id"].n_unique()
    assert entities == 3_000


def test_keys_are_unique_per_system_and_say_nothing_about_the_entity(generated: Path) -> None:
    for system in ("crm", "billing", "erp"):
        keys = pl.concat(
            [
                read(generated, d)[SOURCE_DATASETS[d][1]]
                for d in SOURCE_DATASETS
                if SOURCE_DATASETS[d][0] == system
            ]
        )
        assert keys.is_duplicated().sum() == 0
    truth = read(generated, "truth/truth_customer").filter(pl.col("source_system") == "erp")
    in_key_order = truth.sort("source_key")["entity_id"]
    same_neighbour = (in_key_order == in_key_order.shift(1)).sum()
    # ERP holds few duplicates of one entity; neighbours by key must almost never share it
    assert same_neighbour / truth.height < 0.01


def _resolution(generated: Path, child: str, column: str, parent: str, entity: str):
    """Child records with the entity their foreign key reaches (null when it reaches nothing)."""
    system, key = SOURCE_DATASETS[child]
    parent_key = SOURCE_DATASETS[parent][1]
    truth = read(generated, f"truth/truth_{entity}").filter(pl.col("source_system") == system)
    parents = (
        read(generated, parent)
        .select(pl.col(parent_key).alias(column))
        .join(
            truth.select(pl.col("source_key").alias(column), parent_entity="entity_id"), on=column
        )
    )
    return read(generated, child).select(key, column).join(parents, on=column, how="left")


def test_foreign_keys_resolve_to_the_right_entity_except_planted_orphans(generated: Path) -> None:
    tags = read(generated, "truth/truth_tags").filter(pl.col("kind") == "orphan")
    accounts = pl.concat([read(generated, "truth/entities_account")]).select(
        "account_id", "customer_entity_id"
    )
    contracts = read(generated, "truth/entities_contract")
    cases = [
        (d, SOURCE_DATASETS[d][1], p, "customer_ref", "customer", "account")
        for d, p in zip(ACCOUNTS, CUSTOMERS, strict=True)
    ] + [
        ("erp/contracts", "GPART", "erp/partners", "customer_ref", "customer", "contract"),
        ("erp/contracts", "VKONT", "erp/contract_accounts", "account_ref", "account", "contract"),
    ]
    planted_total = 0
    for child, _, parent, tag, parent_entity, child_entity in cases:
        column = {
            "crm/accounts": "ContactId",
            "billing/accounts": "cust_no",
            "erp/contract_accounts": "GPART",
        }.get(child, _)
        resolved = _resolution(generated, child, column, parent, parent_entity)
        system, key = SOURCE_DATASETS[child]
        planted = set(
            tags.filter((pl.col("source_system") == system) & pl.col("tags").str.contains(tag))[
                "source_key"
            ]
        )
        planted &= set(resolved[key])
        dangling = set(resolved.filter(pl.col("parent_entity").is_null())[key])
        assert dangling == planted, f"{child}.{column}"
        planted_total += len(planted)
        # a resolving reference reaches a record of the right real entity
        truth = read(generated, f"truth/truth_{child_entity}").filter(
            pl.col("source_system") == system
        )
        checked = resolved.drop_nulls("parent_entity").join(
            truth.select(pl.col("source_key").alias(key), "entity_id"), on=key
        )
        owners, owner_id, owner = (
            (accounts, "account_id", "customer_entity_id")
            if child_entity == "account"
            else (
                contracts,
                "contract_id",
                "customer_entity_id" if parent_entity == "customer" else "account_id",
            )
        )
        checked = checked.join(
            owners.select(owner_id, owner), left_on="entity_id", right_on=owner_id
        )
        assert checked.height == resolved.height - len(dangling)
        assert (checked["parent_entity"] == checked[owner]).all(), f"{child}.{column}"
    n_refs = sum(read(generated, c).height for c, *_ in cases)
    assert 0.002 < planted_total / n_refs < 0.01


def test_identifiers_carry_valid_check_digits(generated: Path) -> None:
    entities = read(generated, "truth/entities_customer")
    taxes = entities.drop_nulls("tax_id")
    assert taxes.height == (entities["party_type"] == "organization").sum()
    for country, tax in taxes.select("country", "tax_id").iter_rows():
        assert (gb_vat if country == "GB" else eu_vat).is_valid(tax), tax
    for number in read(generated, "truth/entities_account")["iban"]:
        assert iban.is_valid(number), number
    for country, phone in entities.select("country", "phone").iter_rows():
        parsed = phonenumbers.parse(phone)
        assert phonenumbers.is_valid_number(parsed), phone
        assert phonenumbers.region_code_for_number(parsed) == country, phone


def test_invalid_ibans_are_exactly_the_tagged_typos(generated: Path) -> None:
    tagged = set(
        read(generated, "truth/truth_tags").filter(pl.col("tags").str.contains("iban_typo"))[
            "source_key"
        ]
    )
    invalid = set()
    for name, column in (("billing/accounts", "iban"), ("erp/contract_accounts", "IBAN")):
        frame = read(generated, name).drop_nulls(column)
        key = SOURCE_DATASETS[name][1]
        invalid |= {k for k, v in frame.select(key, column).iter_rows() if not iban.is_valid(v)}
    assert invalid == tagged
    assert len(invalid) > 0


def test_parquet_holds_the_same_records(tmp_path: Path, generated: Path) -> None:
    generate(3_000, 5, tmp_path, fmt="parquet")
    for name in (*SOURCE_DATASETS, *TRUTH_DATASETS):
        from_parquet = pl.read_parquet(tmp_path / f"{name}.parquet")
        assert from_parquet.equals(read(generated, name)), name


def test_chunks_keep_keys_unique_and_ids_consecutive(tmp_path: Path, monkeypatch) -> None:
    import pipelines.generator.run as module

    monkeypatch.setattr(module, "CHUNK_ENTITIES", 700)
    generate(2_000, 3, tmp_path)
    entities = read(tmp_path, "truth/entities_customer")["entity_id"].cast(pl.Int64)
    assert entities.to_list() == list(range(1, 2_001))
    for name, (_, key) in SOURCE_DATASETS.items():
        assert read(tmp_path, name)[key].is_duplicated().sum() == 0, name
    accounts = read(tmp_path, "truth/entities_account")["account_id"].cast(pl.Int64)
    assert accounts.to_list() == list(range(1, accounts.len() + 1))


def test_rate_overrides_change_the_data(tmp_path: Path) -> None:
    generate(1_000, 2, tmp_path, rates=with_overrides(Rates(), ["missing_email=1", "twin=0"]))
    emails = read(tmp_path, "crm/contacts")["Email"].drop_nulls()
    assert emails.is_in(list(vocab.JUNK["email"])).all()  # only junk placeholders remain
    tags = read(tmp_path, "truth/truth_tags")
    assert tags.filter(pl.col("tags").str.starts_with("twin;")).height == 0
    with pytest.raises(RateError, match="given_typo"):
        with_overrides(Rates(), ["given_tpyo=0.1"])
    with pytest.raises(RateError, match="between 0 and 1"):
        with_overrides(Rates(), ["given_typo=1.5"])


def test_cli_generates_and_rejects_bad_rates(tmp_path: Path, capsys) -> None:
    assert (
        main(
            [
                "generate",
                "--entities",
                "300",
                "--seed",
                "4",
                "--out",
                str(tmp_path),
                "--rate",
                "junk=0.05",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "crm/contacts" in out
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["rates"]["junk"] == 0.05 and manifest["entities"] == 300
    assert main(["generate", "--entities", "10", "--out", str(tmp_path), "--rate", "x=1"]) == 2
    assert "--rate 'x=1'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "generate" in capsys.readouterr().out
    with pytest.raises(ValueError, match="at least 1"):
        generate(0, 1, tmp_path)


def test_matching_never_imports_the_generator() -> None:
    for path in (ROOT / "matching").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(("pipelines", "faker")), f"{path}: imports {name}"


def test_no_dependency_is_gpl() -> None:
    import importlib.metadata as md

    lock = (ROOT / "requirements.lock").read_text().splitlines()
    pinned = [line.split("==")[0] for line in lock if "==" in line and not line.startswith("#")]
    assert len(pinned) > 50
    for name in pinned:
        meta = md.metadata(name)
        text = " ".join(
            [meta.get("License-Expression") or "", meta.get("License") or ""]
            + (meta.get_all("Classifier") or [])
        )
        if "GPL" in text.upper():
            assert "LGPL" in text.upper() or "LESSER" in text.upper(), f"{name}: {text[:200]}"
    license_text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in license_text and "Version 2.0" in license_text
    assert not any("://" in line for line in lock), "the lock must not name an index"
