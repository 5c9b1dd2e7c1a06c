"""The sample-data generator's corruption and hard-negative rates, measured independently.

`generate(10_000, 11, dir)` runs once per module. Every rate is counted from the generated source
records themselves, compared with the clean values of their entity (`truth/entities_customer.csv`;
`truth/truth_customer.csv` says which entity a record belongs to). `truth_tags.csv` -- the
generator's own account of what it did -- is never read, and neither are the generator's
implementation modules: the parsers below follow the README's "Sample data" section. Only the
vocabularies (`pipelines.generator.vocab`) are imported, to know what a nickname, legal form,
street abbreviation, generation suffix, look-alike qualifier or junk placeholder is, and
`Rates()` for the defaults.

Tolerance: `tol(p, n) = max(4 * sqrt(p * (1 - p) / n), 0.005)`, plus an allowance, documented
where it is used, when a known interaction of two corruptions biases an independent count.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import phonenumbers
import polars as pl
import pytest
from anyascii import anyascii
from rapidfuzz.distance import OSA

from pipelines.generator import Rates, generate
from pipelines.generator.vocab import (
    COUNTRY_NAMES,
    GENERATION_SUFFIXES,
    JUNK,
    LEGAL_FORMS,
    LOOKALIKE_QUALIFIERS,
    NICKNAMES,
    STREET_TYPES,
)

ENTITIES = 10_000
SEED = 11
RATES = Rates()

# README, "What the data looks like": records per entity 1-4 at 30% / 42% / 18% / 10%.
RECORDS_PER_ENTITY = {1: 0.30, 2: 0.42, 3: 0.18, 4: 0.10}
MEAN_RECORDS_PER_ENTITY = 2.08


# ------------------------------------------------------------------------------------------------
# Tolerance
# ------------------------------------------------------------------------------------------------


def tol(p: float, n: int) -> float:
    """Four binomial standard errors of a share `p` measured on `n` trials, at least 0.005."""
    return max(4 * math.sqrt(p * (1 - p) / max(n, 1)), 0.005)


def assert_rate(
    what: str, hits: int, n: int, expected: float, *, below: float = 0.0, above: float = 0.0
) -> None:
    """`hits / n` is `expected` within `tol`, widened by `below` / `above` (documented bias)."""
    assert n > 0, f"{what}: no trials to measure on"
    measured = hits / n
    t = tol(expected, n)
    lo, hi = expected - t - below, expected + t + above
    assert lo <= measured <= hi, (
        f"{what}: measured {measured:.4f} ({hits}/{n}), expected {expected:.4f} "
        f"(accepted [{lo:.4f}, {hi:.4f}])"
    )


# ------------------------------------------------------------------------------------------------
# Text folding
# ------------------------------------------------------------------------------------------------

# German records may transliterate instead of dropping the accent (Müller -> Mueller).
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


@cache
def fold(text: str) -> str:
    """Case and accents folded: `Müller` -> `muller`, `Straße` -> `strasse`."""
    return anyascii(text).casefold()


@cache
def fold_de(text: str) -> str:
    """Case and accents folded the German way: `Müller` -> `mueller`."""
    return anyascii(text.translate(_GERMAN)).casefold()


@cache
def dist(a: str, b: str) -> int:
    """Edits (OSA: substitute, insert, delete, swap) between `a` and `b`, case/accents folded."""
    return min(OSA.distance(fold(a), fold(b)), OSA.distance(fold_de(a), fold_de(b)))


@cache
def cased_dist(a: str, b: str) -> int:
    """Edits between `a` and `b` with accents folded but case kept: `LTD` is 2 from `Ltd`.

    No German transliteration here: `UG (haftungsbeschraenkt)` is a legal-form spelling of its
    own, not `UG (haftungsbeschränkt)` with its accent stripped.
    """
    return OSA.distance(anyascii(a), anyascii(b))


def accents_only_differ(a: str, b: str) -> bool:
    return dist(a, b) == 0


def accented(text: str) -> bool:
    """`text` has a non-ASCII letter that survives upper-casing (`ß` does not: `STRASSE`)."""
    return any(not ch.isascii() and ch not in "ßẞ" for ch in text)


# ------------------------------------------------------------------------------------------------
# Per-system parsers (written from the README's table of the three systems)
# ------------------------------------------------------------------------------------------------

_SUFFIXES = frozenset(s.casefold() for forms in GENERATION_SUFFIXES.values() for s in forms)
_COUNTRY_BY_NAME = {name: code for code, names in COUNTRY_NAMES.items() for name in names}

# Birth-date formats per system: its own first, then its second ("alt") format.
DATE_FORMATS = {
    "crm": ("%Y-%m-%d", "%d %b %Y"),
    "billing": ("%d/%m/%Y", "%d.%m.%Y"),
    "erp": ("%Y%m%d", "%d.%m.%Y"),
}
JUNK_DATES = frozenset(dt.date.fromisoformat(d) for d in JUNK["birth_date"])
JUNK_VALUES = frozenset(
    v.casefold() for kind, values in JUNK.items() if kind != "birth_date" for v in values
)


def parse_date(raw: str | None, system: str) -> tuple[dt.date | None, bool]:
    """(birth date, written in the system's second format); None if empty or unparseable."""
    if raw:
        for alt, fmt in enumerate(DATE_FORMATS[system]):
            try:
                return dt.datetime.strptime(raw, fmt).date(), bool(alt)
            except ValueError:
                continue
    return None, False


def strip_suffix(name: str) -> str:
    """`Smith Jr` -> `Smith`, `SMITH, John Sr.` -> `SMITH, John`."""
    tokens = name.split()
    if len(tokens) >= 2 and tokens[-1].casefold() in _SUFFIXES:
        return " ".join(tokens[:-1])
    return name


def name_readings(layout: str, first: str, last: str, full: str) -> list[tuple[str, str]]:
    """Every (given, family) reading of a person record's name in its layout's natural order.

    `fields` (CRM, ERP): separate given and family fields. `last_first` (billing): `Smith, John`.
    `first_last` (billing): `John Smith`, and `legacy` (ERP `NAME1`): `SMITH JOHN`; family names
    may hold spaces (`van der Berg`), so these give one reading per split point.
    """
    if layout == "fields":
        return [(strip_suffix(first), strip_suffix(last))]
    name = strip_suffix(full)
    if layout == "last_first":
        family, _, given = name.partition(",")
        return [(given.strip(), family.strip())]
    tokens = name.split()
    splits = [(" ".join(tokens[:i]), " ".join(tokens[i:])) for i in range(1, len(tokens))]
    splits = splits or [(name, "")]
    if layout == "first_last":
        return splits
    return [(given, family) for family, given in splits]  # legacy: SURNAME GIVEN


_NUMBER_FIRST = re.compile(r"^(\d+[A-Za-z]?)\s+(\S.*)$")
_NUMBER_LAST = re.compile(r"^(.*\S)\s+(\d+[A-Za-z]?)$")


def split_house_number(line: str | None) -> tuple[str | None, str | None]:
    """`12 High St` / `Goethestraße 12` -> (street, house number)."""
    if not line:
        return None, None
    if m := _NUMBER_FIRST.match(line):
        return m.group(2), m.group(1)
    if m := _NUMBER_LAST.match(line):
        return m.group(1), m.group(2)
    return line, None


@cache
def _street_type_forms(country: str) -> tuple[tuple[str, str, str, bool], ...]:
    """(position, form casefolded, full type, is the abbreviation), longest form first."""
    forms = set()
    for full, abbr, position in STREET_TYPES[country]:
        for spelling in {full, anyascii(full), anyascii(full.translate(_GERMAN))}:
            forms.add((position, spelling.casefold(), full, False))
        forms.add((position, abbr.casefold(), full, True))
    return tuple(sorted(forms, key=lambda f: -len(f[1])))


@cache
def split_street(street: str, country: str) -> tuple[str, str | None, bool]:
    """(street without its type, full type or None, whether the type is abbreviated).

    GB types are a last word (`High Street`, `High St`), FR a first word (`Rue X`, `R. X`), DE
    and NL a compound ending (`Goethestraße`, `Goethestr.`).
    """
    words = street.split()
    low = street.casefold()
    for position, form, full, abbreviated in _street_type_forms(country):
        if position == "suffix" and len(words) >= 2 and words[-1].casefold() == form:
            return " ".join(words[:-1]), full, abbreviated
        if position == "prefix" and len(words) >= 2 and words[0].casefold() == form:
            return " ".join(words[1:]), full, abbreviated
        if position == "compound" and low.endswith(form) and len(low) > len(form):
            return street[: len(street) - len(form)].rstrip(), full, abbreviated
    return street, None, False


def norm_postcode(postcode: str | None) -> str:
    return re.sub(r"\s+", "", postcode or "").upper()


def email_key(email: str) -> tuple[str, str]:
    """(local part, domain), normalised for case, `+tag`, and gmail/googlemail dots."""
    local, _, domain = email.strip().casefold().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        domain = "gmail.com"
        local = local.replace(".", "")
    return local, domain


def is_junk(value: str | None) -> bool:
    return value is not None and value.strip().casefold() in JUNK_VALUES


# ------------------------------------------------------------------------------------------------
# Loading: one row per customer record, with its entity's clean values
# ------------------------------------------------------------------------------------------------


def _read(folder: Path, name: str) -> pl.DataFrame:
    sep = ";" if name.startswith("erp/") else ","
    return pl.read_csv(folder / f"{name}.csv", separator=sep, infer_schema=False)


def _unified_records(folder: Path) -> pl.DataFrame:
    """The three systems' customer records in one frame of text columns."""
    none = pl.lit(None, pl.String)
    crm = _read(folder, "crm/contacts").select(
        pl.lit("crm").alias("system"),
        pl.col("Id").alias("key"),
        pl.when(pl.col("RecordType") == "PersonAccount")
        .then(pl.lit("person"))
        .otherwise(pl.lit("organization"))
        .alias("record_type"),
        pl.lit("fields").alias("layout"),
        pl.col("FirstName").alias("first"),
        pl.col("LastName").alias("last"),
        none.alias("full_name"),
        pl.col("CompanyName").alias("org_name"),
        pl.col("MailingStreet").alias("street_line"),
        none.alias("house_number"),
        pl.col("MailingPostalCode").alias("postcode"),
        pl.col("MailingCity").alias("city"),
        pl.col("MailingCountry").replace_strict(_COUNTRY_BY_NAME, default=None).alias("country"),
        pl.col("Phone").alias("phone"),
        pl.col("Email").alias("email"),
        pl.col("Birthdate").alias("birth_raw"),
    )
    billing = _read(folder, "billing/customers").select(
        pl.lit("billing").alias("system"),
        pl.col("cust_no").alias("key"),
        pl.when(pl.col("cust_type") == "P")
        .then(pl.lit("person"))
        .otherwise(pl.lit("organization"))
        .alias("record_type"),
        pl.when(pl.col("name").str.contains(","))
        .then(pl.lit("last_first"))
        .otherwise(pl.lit("first_last"))
        .alias("layout"),
        none.alias("first"),
        none.alias("last"),
        pl.col("name").alias("full_name"),
        pl.col("name").alias("org_name"),
        pl.concat_str("addr1", "addr2", separator=" ", ignore_nulls=True).alias("street_line"),
        none.alias("house_number"),
        pl.col("postcode"),
        pl.col("town").alias("city"),
        pl.col("country"),
        pl.col("tel").alias("phone"),
        pl.col("email"),
        pl.col("dob").alias("birth_raw"),
    )
    erp = _read(folder, "erp/partners").select(
        pl.lit("erp").alias("system"),
        pl.col("PARTNER").alias("key"),
        pl.when(pl.col("BU_TYPE") == "1")
        .then(pl.lit("person"))
        .otherwise(pl.lit("organization"))
        .alias("record_type"),
        pl.when(pl.col("NAME_FIRST").is_null() & pl.col("NAME_LAST").is_null())
        .then(pl.lit("legacy"))
        .otherwise(pl.lit("fields"))
        .alias("layout"),
        pl.col("NAME_FIRST").alias("first"),
        pl.col("NAME_LAST").alias("last"),
        pl.col("NAME1").alias("full_name"),
        pl.col("NAME1").alias("org_name"),
        pl.col("STREET").alias("street_line"),
        pl.col("HOUSE_NUM1").alias("house_number"),
        pl.col("POST_CODE1").alias("postcode"),
        pl.col("CITY1").alias("city"),
        pl.col("COUNTRY").alias("country"),
        pl.col("TEL_NUMBER").alias("phone"),
        pl.col("SMTP_ADDR").alias("email"),
        pl.col("BIRTHDT").alias("birth_raw"),
    )
    return pl.concat([crm, billing, erp])


@dataclass
class Data:
    folder: Path  # the generated output
    entities: pl.DataFrame  # truth/entities_customer.csv
    records: pl.DataFrame  # one row per customer record, parsed, with the entity's t_* values

    def persons(self) -> pl.DataFrame:
        return self.records.filter(pl.col("t_party_type") == "person")

    def organizations(self) -> pl.DataFrame:
        return self.records.filter(pl.col("t_party_type") == "organization")


def _same_address(
    street: str | None,
    house_number: str | None,
    postcode: str | None,
    t_street: str | None,
    t_house_number: str | None,
    t_postcode: str | None,
    country: str,
) -> bool:
    if not t_street:
        return False
    if norm_postcode(postcode) and norm_postcode(postcode) == norm_postcode(t_postcode):
        return True
    if not street or (house_number or "").casefold() != (t_house_number or "").casefold():
        return False
    return accents_only_differ(split_street(street, country)[0], split_street(t_street, country)[0])


def _person_name(row: dict) -> dict:
    """Which rendered value is the given and which the family name, and what happened to them."""
    given_t, family_t, maiden_t = row["t_given_name"], row["t_family_name"], row["t_maiden_name"]
    nicknames = NICKNAMES.get(given_t, ())

    def given_cost(value: str) -> int:
        return min([dist(value, given_t)] + [dist(value, n) for n in nicknames])

    def family_cost(value: str) -> int:
        return min([dist(value, family_t)] + ([dist(value, maiden_t)] if maiden_t else []))

    readings = name_readings(
        row["layout"], row["first"] or "", row["last"] or "", row["full_name"] or ""
    )
    best = None
    for given, family in readings:
        for swapped, (g, f) in ((False, (given, family)), (True, (family, given))):
            key = (given_cost(g) + family_cost(f), swapped)
            if best is None or key < best[0]:
                best = (key, g, f, swapped)
    _, given, family, swapped = best
    to_nickname = min((dist(given, n) for n in nicknames), default=99)
    to_maiden = dist(family, maiden_t) if maiden_t else 99
    return {
        "given": given,
        "family": family,
        "swapped": swapped,
        "given_edits": given_cost(given),
        "family_edits": family_cost(family),
        "nickname": to_nickname <= 1 and to_nickname < dist(given, given_t),
        "maiden": to_maiden <= 1 and to_maiden < dist(family, family_t),
    }


def _org_candidates(name: str, country: str) -> tuple[str, list[tuple[str, str]]]:
    """(canonical legal form, [(spelling, its legal form or "" when omitted)]) of a true name.

    The canonical spelling comes first, so it wins ties; `The` may be added or dropped.
    """
    group = max(
        (forms for forms in LEGAL_FORMS[country] if name.endswith(" " + forms[0])),
        key=lambda forms: len(forms[0]),
        default=None,
    )
    base = name[: -len(group[0]) - 1] if group else name
    bases = [base, base[4:] if base.startswith("The ") else "The " + base]
    spellings = list(group) if group else []
    out = [(f"{b} {form}", form) for form in spellings for b in bases]
    return (group[0] if group else ""), out + [(b, "") for b in bases]


def _org_name(row: dict) -> dict:
    name = row["org_name"] or ""
    canonical, candidates = _org_candidates(row["t_organization_name"], row["t_country"])
    edits = min(dist(name, text) for text, _ in candidates)
    # The legal form is read case-sensitively ("LTD" is a variant of "Ltd"), accents folded.
    exact = [(cased_dist(name, t), i) for i, (t, _) in enumerate(candidates)]
    _, best = min(exact)
    text, form = candidates[best]
    return {
        "org_edits": edits,
        "org_match": text if dist(name, text) == 0 else None,
        "legal_form_variant": form != canonical,
        "upper_case": name == name.upper(),
    }


def _address(row: dict) -> dict:
    country = row["t_country"]
    street, number = split_house_number(row["street_line"])
    number = row["house_number"] or number
    here = (street, number, row["postcode"])
    at_current = _same_address(
        *here, row["t_street"], row["t_house_number"], row["t_postcode"], country
    )
    at_old = not at_current and _same_address(
        *here, row["t_old_street"], row["t_old_house_number"], row["t_old_postcode"], country
    )
    core, street_type, abbreviated = split_street(street or "", country)
    true_street = row["t_old_street"] if at_old else row["t_street"]
    true_core, true_type, _ = split_street(true_street or "", country)
    return {
        "at_current": at_current,
        "at_old": at_old,
        "street_core": core,
        "true_street_core": true_core,
        "true_street_has_type": true_type is not None,
        "street_abbreviated": street_type is not None and abbreviated,
        "street_junk": is_junk(row["street_line"]),
        "true_city": row["t_old_city"] if at_old else row["t_city"],
    }


def _accents(row: dict, parsed: dict) -> dict:
    """Fields that equal the truth up to accents, where the truth has accents to lose."""
    pairs = []
    if row["t_party_type"] == "person":
        pairs += [(parsed["given"], row["t_given_name"]), (parsed["family"], row["t_family_name"])]
    elif parsed["org_match"]:
        pairs.append((row["org_name"], parsed["org_match"]))
    if parsed["at_current"] or parsed["at_old"]:
        pairs += [
            (parsed["street_core"], parsed["true_street_core"]),
            (row["city"] or "", parsed["true_city"] or ""),
        ]
    shown = [value for value, true in pairs if accented(true) and accents_only_differ(value, true)]
    ascii_ = [value.isascii() for value in shown]
    return {
        "accent_eligible": bool(shown),
        "accents_stripped": bool(shown) and all(ascii_),
        "accents_mixed": any(ascii_) and not all(ascii_),
    }


def _contact(row: dict) -> dict:
    email = row["email"]
    email_ok = bool(email) and not is_junk(email) and "@" in email
    local = email_key(email)[0] if email_ok else ""
    birth, birth_alt = parse_date(row["birth_raw"], row["system"])
    birth_junk = birth in JUNK_DATES
    fields = [row[c] for c in ("first", "last", "full_name", "org_name", "street_line")]
    fields += [row[c] for c in ("house_number", "postcode", "city", "phone", "email")]
    return {
        "email_ok": email_ok,
        "email_local_edits": OSA.distance(local, email_key(row["t_email"])[0])
        if email_ok
        else None,
        "email_variant": email_ok
        and email != row["t_email"]
        and email_key(email) == email_key(row["t_email"]),
        "birth": birth,
        "birth_alt": birth_alt,
        "birth_junk": birth_junk,
        "junk": birth_junk or any(is_junk(v) for v in fields),
    }


def load(folder: Path) -> Data:
    """Read a generated folder and parse every customer record against its entity's truth."""
    entities = _read(folder, "truth/entities_customer")
    truth = _read(folder, "truth/truth_customer").rename(
        {"source_system": "system", "source_key": "key"}
    )
    records = _unified_records(folder).join(truth, on=["system", "key"], how="left")
    assert records["entity_id"].null_count() == 0, "a customer record is missing from the truth"
    prefixed = entities.rename({c: f"t_{c}" for c in entities.columns if c != "entity_id"})
    records = records.join(prefixed, on="entity_id", how="left")

    parsed = []
    for row in records.iter_rows(named=True):
        out: dict = {}
        if row["t_party_type"] == "person":
            out |= _person_name(row)
            out |= {"org_edits": None, "org_match": None}
        else:
            out |= _org_name(row)
        out |= _address(row)
        out |= _accents(row, out)
        out |= _contact(row)
        parsed.append(out)
    columns = [
        "given", "family", "swapped", "given_edits", "family_edits", "nickname", "maiden",
        "org_edits", "legal_form_variant", "upper_case", "at_current", "at_old",
        "true_street_has_type", "street_abbreviated", "street_junk", "accent_eligible",
        "accents_stripped", "accents_mixed", "email_ok", "email_local_edits", "email_variant",
        "birth", "birth_alt", "birth_junk", "junk",
    ]  # fmt: skip
    frame = pl.DataFrame(
        {c: [p.get(c) for p in parsed] for c in columns},
        schema_overrides={"birth": pl.Date, "given": pl.String, "family": pl.String},
        strict=False,
    )
    records = pl.concat([records, frame], how="horizontal")
    return Data(folder=folder, entities=entities, records=records)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Data:
    out = tmp_path_factory.mktemp("rates")
    generate(ENTITIES, SEED, out)
    return load(out)


# ------------------------------------------------------------------------------------------------
# Population
# ------------------------------------------------------------------------------------------------


def test_organization_share_of_entities(data: Data) -> None:
    n = data.entities.height
    orgs = data.entities.filter(pl.col("party_type") == "organization").height
    assert_rate("organisation share of entities", orgs, n, RATES.organization_share)
    disagree = data.records.filter(pl.col("record_type") != pl.col("t_party_type"))
    assert disagree.is_empty(), f"record type differs from the entity's: {disagree.head(3)}"


def _records_per_entity(data: Data) -> pl.DataFrame:
    return data.records.group_by("entity_id").agg(
        pl.len().alias("records"), pl.col("system").n_unique().alias("systems")
    )


def test_records_per_entity(data: Data) -> None:
    per = _records_per_entity(data)
    n = data.entities.height
    assert per.height == n, f"{n - per.height} of {n} entities have no customer record"
    counts = Counter(per["records"].to_list())
    assert set(counts) <= set(RECORDS_PER_ENTITY), f"records per entity outside 1-4: {counts}"
    for k, share in RECORDS_PER_ENTITY.items():
        assert_rate(f"entities with {k} record(s)", counts[k], n, share)
    mean = per["records"].mean()
    sd = per["records"].std()
    t = 4 * sd / math.sqrt(n)
    assert abs(mean - MEAN_RECORDS_PER_ENTITY) <= t, (
        f"records per entity: mean {mean:.4f} over {n} entities, expected "
        f"{MEAN_RECORDS_PER_ENTITY} ± {t:.4f}"
    )


def test_within_system_duplicates(data: Data) -> None:
    per = _records_per_entity(data)
    four = per.filter(pl.col("records") == 4)
    assert (four["systems"] < 4).all(), "a 4-record entity without a within-system duplicate"
    some = per.filter(pl.col("records").is_between(2, 3))
    dup = some.filter(pl.col("systems") < pl.col("records")).height
    assert_rate(
        "within-system duplicate (entities with 2-3 records)",
        dup,
        some.height,
        RATES.within_system_duplicate,
    )


# ------------------------------------------------------------------------------------------------
# Names
# ------------------------------------------------------------------------------------------------


def test_given_name_typo(data: Data) -> None:
    # One edit from the true given name or from one of its nicknames, in whichever field the
    # layout or a swap put it: a typo on a nickname counts, a nickname alone does not.
    persons = data.persons()
    hits = persons.filter(pl.col("given_edits") == 1).height
    assert_rate("given-name typo (person records)", hits, persons.height, RATES.given_typo)


def test_family_name_typo(data: Data) -> None:
    # One edit from the true family name or from the maiden name (a typo on a maiden name).
    persons = data.persons()
    hits = persons.filter(pl.col("family_edits") == 1).height
    assert_rate("family-name typo (person records)", hits, persons.height, RATES.family_typo)


def test_organization_name_typo(data: Data) -> None:
    # One edit from the nearest of the true name's spellings (legal-form variants, `The`).
    orgs = data.organizations()
    hits = orgs.filter(pl.col("org_edits") == 1).height
    assert_rate(
        "organisation-name typo (organisation records)", hits, orgs.height, RATES.organization_typo
    )


def test_nickname(data: Data) -> None:
    # A typo on top of a nickname still counts (within one edit of a nickname and nearer to it
    # than to the true name), so that interaction needs no allowance.
    eligible = data.persons().filter(pl.col("t_given_name").is_in(list(NICKNAMES)))
    hits = eligible.filter(pl.col("nickname")).height
    assert_rate(
        "nickname (person records whose given name has one)", hits, eligible.height, RATES.nickname
    )


def test_swapped_names(data: Data) -> None:
    # Swapped when reading the given name from the family slot (and vice versa) takes fewer
    # edits to explain than the layout's natural reading; ties go to the natural reading.
    persons = data.persons()
    hits = persons.filter(pl.col("swapped")).height
    assert_rate("swapped given/family (person records)", hits, persons.height, RATES.swapped_names)


def test_legacy_layout(data: Data) -> None:
    erp = data.persons().filter(pl.col("system") == "erp")
    hits = erp.filter(pl.col("layout") == "legacy").height
    assert_rate("legacy SURNAME GIVEN (ERP persons)", hits, erp.height, RATES.legacy_layout)
    legacy = erp.filter(pl.col("layout") == "legacy")
    lower = legacy.filter(pl.col("full_name") != pl.col("full_name").str.to_uppercase())
    assert lower.is_empty(), f"legacy NAME1 not upper case: {lower['full_name'].head(3).to_list()}"


def test_last_first_layout(data: Data) -> None:
    billing = data.persons().filter(pl.col("system") == "billing")
    hits = billing.filter(pl.col("layout") == "last_first").height
    assert_rate(
        "'LAST, First' layout (billing persons)", hits, billing.height, RATES.last_first_layout
    )


def test_accents_stripped(data: Data) -> None:
    eligible = data.records.filter(pl.col("accent_eligible"))
    hits = eligible.filter(pl.col("accents_stripped")).height
    mixed = eligible.filter(pl.col("accents_mixed")).height
    assert_rate(
        "accents stripped (records whose true name/street/city has accents)",
        hits,
        eligible.height,
        RATES.accents_stripped,
    )
    assert mixed <= 0.01 * eligible.height, (
        f"{mixed}/{eligible.height} records strip accents from some fields but not others"
    )


def test_legal_form_variant(data: Data) -> None:
    # All-upper-case names (20% of ERP organisation records) cannot tell "LTD" from "Ltd", so
    # they are left out. A German record that transliterates the canonical
    # `UG (haftungsbeschränkt)` reads as the variant `UG (haftungsbeschraenkt)` (~0.2%).
    orgs = data.organizations().filter(~pl.col("upper_case"))
    hits = orgs.filter(pl.col("legal_form_variant")).height
    assert_rate(
        "legal-form variant (organisation records, not upper case)",
        hits,
        orgs.height,
        RATES.legal_form_variant,
    )


def test_most_organization_duplicates_differ_in_legal_form_or_the(data: Data) -> None:
    # The bar: "legal-form or 'The' variants in most organisation duplicates". An entity
    # counts when its records do not all write the name's legal form and leading "The" alike.
    orgs = data.organizations().with_columns(
        the=pl.col("org_name").str.to_lowercase().str.starts_with("the "),
        form=pl.col("legal_form_variant"),
    )
    per_entity = orgs.group_by("entity_id").agg(
        records=pl.len(), forms=pl.col("form").n_unique(), thes=pl.col("the").n_unique()
    )
    duplicated = per_entity.filter(pl.col("records") >= 2)
    varied = duplicated.filter((pl.col("forms") > 1) | (pl.col("thes") > 1)).height
    share = varied / duplicated.height
    assert duplicated.height > 500
    assert share > 0.5, f"only {share:.3f} of {duplicated.height} organisation duplicates vary"


def test_maiden_name(data: Data) -> None:
    # A record "has the maiden name" when its family name is nearer the maiden name than the
    # married one, within one edit (a typo on the maiden name still counts).
    per = (
        data.persons()
        .filter(pl.col("t_maiden_name").is_not_null())
        .group_by("entity_id")
        .agg(pl.len().alias("records"), pl.col("maiden").any())
        .filter(pl.col("records") >= 2)
    )
    hits = per.filter(pl.col("maiden")).height
    assert_rate("maiden name (married women with 2+ records)", hits, per.height, RATES.maiden_name)


# ------------------------------------------------------------------------------------------------
# Addresses
# ------------------------------------------------------------------------------------------------


def test_street_abbreviated(data: Data) -> None:
    # A junk placeholder may have replaced the street after it was abbreviated.
    eligible = data.records.filter(
        pl.col("at_current") & pl.col("true_street_has_type") & ~pl.col("street_junk")
    )
    hits = eligible.filter(pl.col("street_abbreviated")).height
    assert_rate(
        "street abbreviated (records at the current address, street with a type)",
        hits,
        eligible.height,
        RATES.street_abbreviated,
    )


def test_moved(data: Data) -> None:
    per = data.records.group_by("entity_id").agg(
        pl.len().alias("records"), pl.col("at_old").any(), pl.col("t_moved").first()
    )
    wrong = per.filter(pl.col("at_old") & (pl.col("t_moved") != "true"))
    assert wrong.is_empty(), f"records at an old address of an entity that never moved: {wrong}"
    several = per.filter(pl.col("records") >= 2)
    hits = several.filter(pl.col("at_old")).height
    assert_rate("moved (entities with 2+ records)", hits, several.height, RATES.moved)


# ------------------------------------------------------------------------------------------------
# Contact points, birth dates, junk
# ------------------------------------------------------------------------------------------------


def test_email_typo(data: Data) -> None:
    # Local parts compared after normalising case, +tags and gmail dots (the email variants). A
    # typo that only moves a dot of a gmail address vanishes there: ~1% of typos, within tol.
    with_email = data.records.filter(pl.col("email_ok"))
    hits = with_email.filter(pl.col("email_local_edits") == 1).height
    assert_rate(
        "email typo (records with a non-junk email)", hits, with_email.height, RATES.email_typo
    )


def test_email_variant(data: Data) -> None:
    # A variant with a typo on top is no longer equal after normalising: 3% of 10%, within tol.
    with_email = data.records.filter(pl.col("email_ok"))
    hits = with_email.filter(pl.col("email_variant")).height
    assert_rate(
        "email variant (records with a non-junk email)",
        hits,
        with_email.height,
        RATES.email_variant,
    )


def test_birth_date_error(data: Data) -> None:
    # A date that parses in neither of the system's formats counts as an error too.
    with_date = data.persons().filter(pl.col("birth_raw").is_not_null() & ~pl.col("birth_junk"))
    true = pl.col("t_birth_date").str.to_date("%Y-%m-%d")
    wrong = with_date.filter(pl.col("birth").is_null() | (pl.col("birth") != true))
    assert_rate(
        "birth-date error (person records with a non-junk birth date)",
        wrong.height,
        with_date.height,
        RATES.birth_date_error,
    )


def test_birth_date_alt_format(data: Data) -> None:
    with_date = data.persons().filter(pl.col("birth").is_not_null() & ~pl.col("birth_junk"))
    hits = with_date.filter(pl.col("birth_alt")).height
    assert_rate(
        "birth date in the system's second format (person records with a birth date)",
        hits,
        with_date.height,
        RATES.date_alt_format,
    )


def test_junk_placeholders(data: Data) -> None:
    hits = data.records.filter(pl.col("junk")).height
    assert_rate("junk placeholder (records)", hits, data.records.height, RATES.junk)


def test_missing_email(data: Data) -> None:
    n = data.records.height
    hits = data.records.filter(pl.col("email").is_null()).height
    assert_rate("missing email (records)", hits, n, RATES.missing_email)


def test_missing_phone(data: Data) -> None:
    n = data.records.height
    hits = data.records.filter(pl.col("phone").is_null()).height
    assert_rate("missing phone (records)", hits, n, RATES.missing_phone)


def test_missing_birth_date(data: Data) -> None:
    persons = data.persons()
    crm_erp = persons.filter(pl.col("system") != "billing")
    hits = crm_erp.filter(pl.col("birth_raw").is_null()).height
    assert_rate(
        "missing birth date (CRM and ERP persons)", hits, crm_erp.height, RATES.missing_birth_date
    )
    billing = persons.filter(pl.col("system") == "billing")
    hits = billing.filter(pl.col("birth_raw").is_null()).height
    assert_rate(
        "missing birth date (billing persons)",
        hits,
        billing.height,
        RATES.missing_birth_date_billing,
    )


def _e164(raw: str, region: str | None) -> str | None:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def test_phones_parse_to_the_true_number(data: Data) -> None:
    """Every non-junk phone, whatever its format, parses to the entity's own E.164 number."""
    phones = data.records.filter(pl.col("phone").is_not_null())
    rows = phones.select("phone", "country", "t_country", "t_phone").iter_rows()
    checked = wrong = 0
    examples = []
    for raw, country, t_country, t_phone in rows:
        if is_junk(raw):
            continue
        checked += 1
        if _e164(raw, country or t_country) != t_phone:
            wrong += 1
            examples.append((raw, country, t_phone))
    share = (checked - wrong) / checked
    assert share >= 0.99, (
        f"phones parsing to the entity's E.164: {share:.4f} ({checked - wrong}/{checked}), "
        f"expected >= 0.99; e.g. {examples[:5]}"
    )


# ------------------------------------------------------------------------------------------------
# Hard negatives, found from the entities' true values
# ------------------------------------------------------------------------------------------------


def _true_persons(data: Data) -> pl.DataFrame:
    return data.entities.filter(pl.col("party_type") == "person").with_columns(
        pl.col("birth_date").str.to_date("%Y-%m-%d").alias("born")
    )


def _pairs(frame: pl.DataFrame, on: list[str]) -> pl.DataFrame:
    """Every unordered pair of rows agreeing on `on`; the other side's columns end in `_r`."""
    return frame.join(frame, on=on, how="inner", suffix="_r").filter(
        pl.col("entity_id").cast(pl.Int64) < pl.col("entity_id_r").cast(pl.Int64)
    )


def _planted(pairs: pl.DataFrame) -> int:
    """How many entities the pairs add to the population: nodes minus connected components.

    A planted hard negative is one new entity beside the one it imitates (README, Rates: the share
    of entities planted as the partner of another), so a pair counts 1, and a group of k entities
    that all resemble each other counts k - 1 (e.g. two sons planted for one father).
    """
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for a, b in pairs.select("entity_id", "entity_id_r").iter_rows():
        parent[root(a)] = root(b)
    return len(parent) - len({root(x) for x in parent})


def _twin_pairs(data: Data) -> pl.DataFrame:
    on = ["family_name", "street", "house_number", "postcode", "birth_date"]
    return _pairs(_true_persons(data), on).filter(pl.col("given_name") != pl.col("given_name_r"))


def test_twins(data: Data) -> None:
    persons = _true_persons(data).height
    pairs = _twin_pairs(data)
    assert_rate("twins (persons planted as a twin)", _planted(pairs), persons, RATES.twin)


def test_twins_visible_in_source_records(data: Data) -> None:
    """Both twins have records sharing the family name (case/accents folded) and postcode."""
    keys: dict[str, set[tuple[str, str]]] = defaultdict(set)
    rows = data.persons().select("entity_id", "family", "postcode").iter_rows()
    for entity, family, postcode in rows:
        if family and postcode:
            keys[entity] |= {(fold(family), norm_postcode(postcode))}
            keys[entity] |= {(fold_de(family), norm_postcode(postcode))}
    pairs = _twin_pairs(data).select("entity_id", "entity_id_r").rows()
    assert pairs, "no twin pairs among the entities"
    seen = [a for a, b in pairs if keys[a] & keys[b]]
    share = len(seen) / len(pairs)
    # A pair goes unseen only when no record of one twin shows the family name uncorrupted (typo,
    # swap, junk) at the shared postcode (not moved): a few percent of pairs.
    assert share >= 0.90, (
        f"twin pairs whose records share family name and postcode: {share:.4f} "
        f"({len(seen)}/{len(pairs)}), expected >= 0.90"
    )


def test_father_and_son(data: Data) -> None:
    persons = _true_persons(data)
    on = ["given_name", "family_name", "street", "house_number", "postcode"]
    years = (pl.col("born") - pl.col("born_r")).dt.total_days().abs() / 365.2425
    pairs = _pairs(persons, on).filter(years.is_between(20, 39))
    assert_rate(
        "father/son (persons planted as father or son)",
        _planted(pairs),
        persons.height,
        RATES.jr_sr,
    )


def test_namesakes(data: Data) -> None:
    persons = _true_persons(data)
    pairs = _pairs(persons, ["given_name", "family_name"]).filter(
        (pl.col("birth_date") != pl.col("birth_date_r"))
        & pl.any_horizontal(
            pl.col(c) != pl.col(f"{c}_r") for c in ("street", "house_number", "postcode")
        )
    )
    # Zipf-weighted names make natural namesakes on top of the planted ones: allow up to +0.02.
    assert_rate(
        "namesakes (persons planted as a namesake, natural ones included)",
        _planted(pairs),
        persons.height,
        RATES.namesake,
        above=0.02,
    )


def _name_without_legal_form(name: str, country: str) -> str:
    forms = [f[0] for f in LEGAL_FORMS[country] if name.endswith(" " + f[0])]
    return name[: -len(max(forms, key=len)) - 1] if forms else name


def test_lookalike_organizations(data: Data) -> None:
    """`Northwind Logistics Holdings Ltd` beside `Northwind Logistics Ltd`, at another address.

    The extra word must be one of the country's look-alike qualifiers (`Holdings`, `Nord`, ...):
    with any extra word, brand-only names (`Quantum Ltd`) pair with the many brand + trade names
    (`Quantum Foods Ltd`) and nearly half the organisations would count. The longer name is the
    planted one, so each longer name counts once, however many shorter namesakes it has.
    """
    orgs = data.entities.filter(pl.col("party_type") == "organization")
    rows = orgs.select("entity_id", "organization_name", "country").iter_rows()
    bases, shorter = [], []
    for _, name, country in rows:
        base = _name_without_legal_form(name, country)
        head, _, last = base.rpartition(" ")
        bases.append(base)
        shorter.append(head if head and last in LOOKALIKE_QUALIFIERS[country] else None)
    orgs = orgs.with_columns(pl.Series("base", bases), pl.Series("shorter", shorter))
    address = ("street", "house_number", "postcode")
    pairs = orgs.join(orgs, left_on="shorter", right_on="base", suffix="_r").filter(
        pl.any_horizontal(pl.col(c) != pl.col(f"{c}_r") for c in address)
    )
    assert_rate(
        "look-alike organisations (organisations planted as a look-alike)",
        pairs["entity_id"].n_unique(),
        orgs.height,
        RATES.lookalike_organization,
    )


# ------------------------------------------------------------------------------------------------
# Accounts, contracts and phone formats
# ------------------------------------------------------------------------------------------------


def test_account_duplicates_within_billing(data: Data) -> None:
    truth = _read(data.folder, "truth/truth_account").filter(pl.col("source_system") == "billing")
    per_account = truth.group_by("entity_id").len()
    extra = int((per_account["len"] - 1).sum())
    assert_rate("second billing record of an account", extra, truth.height, RATES.account_duplicate)


def test_contract_duplicates_in_the_erp(data: Data) -> None:
    truth = _read(data.folder, "truth/truth_contract")
    per_contract = truth.group_by("entity_id").len()
    doubled = int((per_contract["len"] == 2).sum())
    assert per_contract["len"].max() <= 2
    assert_rate("contracts held twice", doubled, per_contract.height, RATES.contract_duplicate)


def _iban_valid(text: str) -> bool:
    compact = re.sub(r"\s", "", text).upper()
    digits = "".join(str(int(ch, 36)) for ch in compact[4:] + compact[:4])
    return int(digits) % 97 == 1


def test_iban_typos(data: Data) -> None:
    shown = pl.concat(
        [
            _read(data.folder, "billing/accounts")["iban"],
            _read(data.folder, "erp/contract_accounts")["IBAN"],
        ]
    ).drop_nulls()
    invalid = sum(not _iban_valid(v) for v in shown)
    assert_rate("IBANs failing their check digits", invalid, shown.len(), RATES.iban_typo)


def test_orphan_references(data: Data) -> None:
    customer_keys = {
        "crm": set(_read(data.folder, "crm/contacts")["Id"]),
        "billing": set(_read(data.folder, "billing/customers")["cust_no"]),
        "erp": set(_read(data.folder, "erp/partners")["PARTNER"]),
    }
    refs = [
        (_read(data.folder, "crm/accounts")["ContactId"], customer_keys["crm"]),
        (_read(data.folder, "billing/accounts")["cust_no"], customer_keys["billing"]),
        (_read(data.folder, "erp/contract_accounts")["GPART"], customer_keys["erp"]),
        (_read(data.folder, "erp/contracts")["GPART"], customer_keys["erp"]),
        (
            _read(data.folder, "erp/contracts")["VKONT"],
            set(_read(data.folder, "erp/contract_accounts")["VKONT"]),
        ),
    ]
    dangling = sum(sum(v not in keys for v in column) for column, keys in refs)
    total = sum(column.len() for column, _ in refs)
    assert_rate("foreign keys pointing nowhere", dangling, total, RATES.orphan_reference)


# Each system's own phone layout (README, "The three systems"): international with spaces,
# national with a trunk 0 and spaces, E.164 without spaces.
_OWN_PHONE_FORMAT = {
    "crm": re.compile(r"^\+\d{2} \d+( \d+)+$"),
    "billing": re.compile(r"^0[1-9]\d*( \d+)+$"),  # not 00: that is the international prefix
    "erp": re.compile(r"^\+\d{10,13}$"),
}


def test_phone_alternative_formats(data: Data) -> None:
    hits = n = 0
    for name, column, system in (
        ("crm/contacts", "Phone", "crm"),
        ("billing/customers", "tel", "billing"),
        ("erp/partners", "TEL_NUMBER", "erp"),
    ):
        phones = [p for p in _read(data.folder, name)[column].drop_nulls() if not is_junk(p)]
        n += len(phones)
        hits += sum(not _OWN_PHONE_FORMAT[system].match(p) for p in phones)
    assert_rate("phones in another system's format", hits, n, RATES.phone_alt_format)
