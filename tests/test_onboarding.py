"""Onboarding a source needs no code: a fourth system is one contract file plus its team.

A generated project (CRM, billing, ERP) gets a web shop's customer export, built here from the
true entities with the shop's own column names, key format, date format, name layout, country
names, phone format, tab delimiter and corruptions. The only other things written are
`contracts/webshop_customers.odcs.yaml` and the shop's team in `ownership.yaml`; then
`mdm run` must place the shop's records with the other records of their real customer.
"""

from __future__ import annotations

import random
import time
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from matching import normalize as norm
from matching.evaluate import evaluate
from matching.standardize import standardize
from pipelines.cli import main
from pipelines.contracts import contract_files, load_project
from pipelines.generator import generate
from pipelines.generator.project import write_project
from pipelines.ingest import land

ENTITIES = 1_500
SEED = 7  # the seed of the committed sample (README)
SHOP_SEED = 20_240_501  # the web shop's own random stream: its records and corruptions
SHOP_PERSONS = 240
SHOP_ORGANIZATIONS = 30
SHOP_SECOND_ACCOUNTS = 8  # persons who registered twice (a new account, no email given)

# The shop's own rates, applied to its records.
NAME_TYPO = 0.05
MISSING_EMAIL = 0.10
MISSING_PHONE = 0.08
ACCENTS_STRIPPED = 0.30
BIRTH_DATE_GIVEN = 0.55
VAT_GIVEN = 0.50

# A German shop: it writes country names in German, phones as 00<code> and dates US style
# (its platform's default locale).
LAND = {
    "DE": "Deutschland",
    "FR": "Frankreich",
    "NL": "Niederlande",
    "GB": "Vereinigtes Königreich",
}
CALLING_CODE = {"GB": "44", "DE": "49", "FR": "33", "NL": "31"}
BORN_FORMAT = "%m/%d/%Y"
LAST_ORDER_FORMAT = "%m/%d/%Y %I:%M %p"

COLUMNS = [
    "customer_ref", "kind", "display_name", "mail", "mobile", "born", "street_and_no", "zip",
    "town", "land", "vat_number", "last_order",
]  # fmt: skip

CONTRACT = """\
# The web shop's customer export: one row per private or business shop account.
apiVersion: v3.2.0
kind: DataContract
id: webshop-customers
name: webshop_customers
version: 1.0.0
status: active
domain: customer
tags: [source, customer]
description:
  purpose: Shop accounts as the web shop holds them, landed as-is for master-data matching.
  usage: Input of raw/webshop_customers and staged/customer; never read directly by analysts.
  limitations: >-
    A person's name is one upper-case field, given name first; country names are German;
    dates are US style (month first); customers may register twice.

team:
  name: webshop

servers:
  - server: landing
    type: local
    description: The nightly export of the shop platform, relative to the project folder.
    path: webshop/customers.tsv
    format: csv
    encoding: UTF-8
    customProperties:
      - property: mdm.delimiter
        value: "\\t"

schema:
  - name: customers
    physicalName: customers
    physicalType: file
    description: One row per shop account.
    quality:
      - metric: rowCount
        mustBeGreaterThan: 0
        dimension: completeness
        severity: error
    properties:
      - name: customer_ref
        description: Shop account number, WS- and 6 digits.
        logicalType: string
        logicalTypeOptions:
          pattern: "^WS-[0-9]{6}$"
        primaryKey: true
        primaryKeyPosition: 1
        required: true
        unique: true
        quality:
          - {metric: nullValues, mustBe: 0, dimension: completeness, severity: error}
          - {metric: duplicateValues, mustBe: 0, dimension: uniqueness, severity: error}
      - name: kind
        description: private or business account.
        logicalType: string
        required: true
        quality:
          - metric: invalidValues
            arguments:
              validValues: [private, business]
            mustBe: 0
            dimension: conformity
            severity: warning
      - name: display_name
        description: >-
          Private accounts "GIVEN FAMILY" in capitals (+ " JR"/" SR"); business accounts the
          company name as registered.
        logicalType: string
        required: true
        classification: restricted
        tags: [pii]
      - name: mail
        logicalType: string
        logicalTypeOptions:
          format: email
        classification: restricted
        tags: [pii]
        quality:
          - metric: nullValues
            mustBeLessThan: 30
            unit: percent
            dimension: completeness
            severity: warning
      - name: mobile
        description: International with 00 and spaces (0049 151 02432823).
        logicalType: string
        classification: restricted
        tags: [pii]
      - name: born
        description: Date of birth, mm/dd/yyyy (optional at sign-up).
        logicalType: string
        logicalTypeOptions:
          pattern: "^[0-9]{2}/[0-9]{2}/[0-9]{4}$"
        classification: restricted
        tags: [pii]
      - name: street_and_no
        description: Street and house number as the customer typed them.
        logicalType: string
        classification: confidential
        tags: [pii]
      - name: zip
        logicalType: string
        classification: confidential
        tags: [pii]
      - name: town
        logicalType: string
      - name: land
        description: Country name in German.
        logicalType: string
        quality:
          - metric: invalidValues
            arguments:
              validValues: [Deutschland, Frankreich, Niederlande, Vereinigtes Königreich]
            mustBe: 0
            dimension: conformity
            severity: warning
      - name: vat_number
        description: VAT number of a business account, when given at checkout.
        logicalType: string
        classification: restricted
        tags: [pii]
      - name: last_order
        description: Time of the last order, mm/dd/yyyy hh:mm AM/PM.
        logicalType: string
        required: true

customProperties:
  - property: mdm.role
    value: source
  - property: mdm.mapping
    value:
      entity: customer
      source_system: webshop
      key: customer_ref
      fields:
        party_type:
          column: kind
          values: {private: person, business: organization}
        full_name: {column: display_name, when: {kind: private}, layout: given_family}
        organization_name: {column: display_name, when: {kind: business}}
        email: {column: mail}
        phone: {column: mobile}
        address_line: {column: street_and_no}
        city: {column: town}
        postcode: {column: zip}
        country:
          column: land
          values:
            Deutschland: DE
            Frankreich: FR
            Niederlande: NL
            Vereinigtes Königreich: GB
        birth_date: {column: born, formats: ["%m/%d/%Y"]}
        tax_id: {column: vat_number}
        source_updated_at: {column: last_order, formats: ["%m/%d/%Y %I:%M %p"]}
"""

TEAM = """\
  webshop:
    description: E-commerce team; owns the web shop's customer export.
    owners: ["webshop-data@example.com", "team:webshop"]
    stewards: ["ines.garcia@example.com"]
    escalation: ["ecommerce-lead@example.com"]
"""


# --- the web shop's extract, from the true entities ------------------------------------------


def _typo(word: str, rng: random.Random) -> str:
    """One edit (substitute, insert, delete or swap) inside `word`, never its first letter."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    letter = rng.choice("aeinorstlu")
    edit = rng.choice(("substitute", "insert", "delete", "swap"))
    if edit == "substitute":
        return word[:i] + letter + word[i + 1 :]
    if edit == "insert":
        return word[:i] + letter + word[i:]
    if edit == "delete":
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _mobile(e164: str, country: str) -> str:
    """+4915102432823 -> 0049 151 02432823: the shop's own phone format."""
    code = CALLING_CODE[country]
    national = e164.removeprefix("+" + code)
    return f"00{code} {national[:3]} {national[3:]}"


def _street_and_no(entity: dict[str, str | None]) -> str:
    street, number = entity["street"] or "", entity["house_number"] or ""
    return f"{number} {street}" if entity["country"] in ("GB", "FR") else f"{street} {number}"


def _last_order(rng: random.Random) -> str:
    moment = datetime(2023, 1, 1) + timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
    return moment.strftime(LAST_ORDER_FORMAT)


def _record(entity: dict[str, str | None], rng: random.Random, *, second: bool) -> dict:
    """One shop account of `entity`: its clean values, then the shop's corruptions."""
    person = entity["party_type"] == "person"
    if person:
        given, family = entity["given_name"] or "", entity["family_name"] or ""
        if rng.random() < NAME_TYPO:
            if rng.random() < 0.5:
                given = _typo(given, rng)
            else:
                family = _typo(family, rng)
        suffix = {"junior": " JR", "senior": " SR"}.get(entity["generation"] or "", "")
        name = f"{given} {family}{suffix}".upper()
    else:
        name = entity["organization_name"] or ""
        if rng.random() < NAME_TYPO:
            name = " ".join(_typo(w, rng) if j == 0 else w for j, w in enumerate(name.split()))
    street, town = _street_and_no(entity), entity["city"] or ""
    if rng.random() < ACCENTS_STRIPPED:
        name, street, town = _strip_accents(name), _strip_accents(street), _strip_accents(town)
    email = entity["email"]
    if second or rng.random() < MISSING_EMAIL:
        email = None
    phone = entity["phone"]
    mobile = None if phone is None or rng.random() < MISSING_PHONE else phone
    born = entity["birth_date"] if person and rng.random() < BIRTH_DATE_GIVEN else None
    vat = entity["tax_id"] if not person and rng.random() < VAT_GIVEN else None
    return {
        "kind": "private" if person else "business",
        "display_name": name,
        "mail": email,
        "mobile": _mobile(mobile, entity["country"] or "") if mobile else None,
        "born": datetime.strptime(born, "%Y-%m-%d").strftime(BORN_FORMAT) if born else None,
        "street_and_no": street,
        "zip": entity["postcode"],
        "town": town,
        "land": LAND[entity["country"] or ""],
        "vat_number": vat,
        "last_order": _last_order(rng),
    }


def write_webshop(project: Path) -> pl.DataFrame:
    """Write `project/webshop/customers.tsv`; return its truth (source_system, source_key,
    entity_id)."""
    rng = random.Random(SHOP_SEED)
    entities = pl.read_csv(project / "truth" / "entities_customer.csv", infer_schema=False)
    by_id = {e["entity_id"]: e for e in entities.iter_rows(named=True)}
    persons = sorted(entities.filter(pl.col("party_type") == "person")["entity_id"], key=int)
    organizations = sorted(
        entities.filter(pl.col("party_type") == "organization")["entity_id"], key=int
    )
    chosen = rng.sample(persons, SHOP_PERSONS) + rng.sample(organizations, SHOP_ORGANIZATIONS)
    accounts = [(e, False) for e in chosen]
    accounts += [(e, True) for e in rng.sample(chosen[:SHOP_PERSONS], SHOP_SECOND_ACCOUNTS)]
    rng.shuffle(accounts)
    # Scrambled account numbers: they say nothing about the customer.
    numbers = rng.sample(range(1, 1_000_000), len(accounts))
    rows, truth = [], []
    for number, (entity_id, second) in zip(numbers, accounts, strict=True):
        key = f"WS-{number:06d}"
        rows.append({"customer_ref": key, **_record(by_id[entity_id], rng, second=second)})
        truth.append({"source_system": "webshop", "source_key": key, "entity_id": entity_id})
    folder = project / "webshop"
    folder.mkdir()
    frame = pl.DataFrame(rows, schema=dict.fromkeys(COLUMNS, pl.String))
    frame.write_csv(folder / "customers.tsv", separator="\t")
    return pl.DataFrame(truth)


def _assert_read_as_meant(records: pl.DataFrame, shop_truth: pl.DataFrame, project: Path) -> None:
    """The staged shop records say what the shop meant: its dates month first, its German
    country names, its 00-prefixed phones, its emails, and its names given name first."""
    entities = pl.read_csv(project / "truth" / "entities_customer.csv", infer_schema=False)
    person = pl.col("party_type") == "person"
    true = entities.select(
        "entity_id",
        true_party=pl.col("party_type"),
        true_country=pl.col("country"),
        true_phone=pl.col("phone"),
        true_email=pl.col("email").str.to_lowercase(),
        true_birth=pl.col("birth_date").str.to_date("%Y-%m-%d"),
        true_given=pl.when(person).then(norm.person_name(pl.col("given_name"))),
        true_family=pl.when(person).then(norm.person_name(pl.col("family_name"))),
    )
    read = records.join(shop_truth, on="source_key").join(true, on="entity_id")
    assert read.height == shop_truth.height
    wrong = {
        "party_type": read.filter(pl.col("party_type") != pl.col("true_party")).height,
        "country": read.filter(pl.col("country") != pl.col("true_country")).height,
        "phone": read.filter(pl.col("phone") != pl.col("true_phone")).height,
        "email": read.filter(pl.col("email") != pl.col("true_email")).height,
        "birth_date": read.filter(pl.col("birth_date") != pl.col("true_birth")).height,
    }
    assert not any(wrong.values()), f"values read wrongly: {wrong}"
    shown = pl.read_csv(project / "webshop" / "customers.tsv", separator="\t", infer_schema=False)
    assert read["birth_date"].null_count() == shown["born"].null_count()
    assert read["phone"].null_count() == shown["mobile"].null_count()
    assert read["email"].null_count() == shown["mail"].null_count()
    persons = read.filter(person)
    assert persons["given_name"].null_count() == 0 and persons["family_name"].null_count() == 0
    # Only the shop's typos and stripped accents may differ (folding undoes most accents).
    as_meant = persons.filter(
        (pl.col("m_given") == pl.col("true_given")) & (pl.col("m_family") == pl.col("true_family"))
    ).height
    assert as_meant >= 0.9 * persons.height, f"names read as meant: {as_meant}/{persons.height}"


# --- the test ---------------------------------------------------------------------------------


def test_a_fourth_source_is_onboarded_with_a_contract_and_a_team(tmp_path: Path) -> None:
    started = time.perf_counter()
    project, warehouse = tmp_path / "project", tmp_path / "warehouse"
    generate(ENTITIES, SEED, project)
    write_project(project)
    shipped = {p.name for p in contract_files(project)}

    shop_truth = write_webshop(project)
    (project / "contracts" / "webshop_customers.odcs.yaml").write_text(CONTRACT, encoding="utf-8")
    ownership = project / "ownership.yaml"
    text = ownership.read_text(encoding="utf-8")
    ownership.write_text(text.rstrip("\n") + "\n" + TEAM, encoding="utf-8")

    # The folder loads with the shop as a fourth source, owned by its own team.
    loaded = load_project(project)
    assert {p.name for p in contract_files(project)} == shipped | {"webshop_customers.odcs.yaml"}
    shop = next(c for c in loaded.sources if c.source_system == "webshop")
    assert shop.team == "webshop" and shop.server.delimiter == "\t"
    assert loaded.ownership.team("webshop").stewards
    assert shop.pii["display_name"] == "restricted" and shop.pii["zip"] == "confidential"
    # Every value the shop writes is read: no date, code or country name is left unparsed.
    landed = land(shop)
    assert landed.rejects.height == 0
    staged = standardize(landed.records, shop.mapping)
    assert staged.records.height == shop_truth.height and staged.quarantine.height == 0
    assert not any(staged.field_defects.values()), staged.field_defects
    _assert_read_as_meant(staged.records, shop_truth, project)

    assert main(["run", "--project", str(project), "--warehouse", str(warehouse)]) == 0

    with duckdb.connect(str(warehouse / "mdm.duckdb"), read_only=True) as con:
        xref = con.sql("SELECT source_system, source_key, golden_id FROM golden.xref").pl()

    # Every shop record is in the cross-reference exactly once.
    in_xref = xref.filter(pl.col("source_system") == "webshop")
    assert in_xref["source_key"].is_duplicated().sum() == 0
    assert set(in_xref["source_key"]) == set(shop_truth["source_key"])

    # The shop's records join the golden customer holding most of their entity's other records.
    truth = pl.read_csv(project / "truth" / "truth_customer.csv", infer_schema=False)
    truth = pl.concat([truth, shop_truth])
    placed = xref.join(truth, on=["source_system", "source_key"])
    majority = (
        placed.filter(pl.col("source_system") != "webshop")
        .group_by("entity_id", "golden_id")
        .len()
        .sort(["entity_id", "len", "golden_id"], descending=[False, True, False])
        .unique("entity_id", keep="first", maintain_order=True)
        .select("entity_id", majority_id="golden_id")
    )
    shop_placed = placed.filter(pl.col("source_system") == "webshop").join(majority, on="entity_id")
    assert shop_placed.height == shop_truth.height  # every shop entity has other records
    joined = int((shop_placed["golden_id"] == shop_placed["majority_id"]).sum())
    share = joined / shop_placed.height

    # The other systems' records still resolve.
    scores = evaluate(xref, truth)
    elapsed = time.perf_counter() - started
    summary = (
        f"webshop records with their entity's golden customer: {joined}/{shop_placed.height}"
        f" = {share:.3f}; pairwise F1 {scores.pairwise_f1:.4f} (precision"
        f" {scores.pairwise_precision:.4f}, recall {scores.pairwise_recall:.4f});"
        f" {elapsed:.1f} s"
    )
    print(summary)
    assert share >= 0.95, summary
    assert scores.missing_records == 0, summary
    assert scores.pairwise_f1 >= 0.94, summary
