"""The three source systems and how each writes a customer: its own key format, columns,
name layout, date, phone and country conventions.

- crm: a Salesforce-like CRM. 18-character IDs, FirstName/LastName, one MailingStreet line,
  English country names, ISO dates, international phone format.
- billing: a billing system. Numeric customer numbers, a single `name` field ("John Smith" or
  "SMITH, John"), dd/mm/yyyy dates, national phone format, few birth dates.
- erp: an SAP-like ERP. Ten-digit partner numbers, semicolon-separated, street and house number
  apart, yyyymmdd dates, a legacy "SURNAME GIVEN" layout in NAME1 for older person records.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from . import vocab
from .identifiers import base62, digits, scramble
from .rates import Rates

SEPARATOR = {"crm": ",", "billing": ",", "erp": ";"}
DATE_FORMATS = {  # primary, alternative (rates.date_alt_format)
    "crm": ("%Y-%m-%d", "%d %b %Y"),
    "billing": ("%d/%m/%Y", "%d.%m.%Y"),
    "erp": ("%Y%m%d", "%d.%m.%Y"),
}
_CALLING = {"GB": "44", "DE": "49", "FR": "33", "NL": "31"}


@dataclass
class KeySpace:
    """Keys of one source dataset: a counter scrambled into the system's key format."""

    kind: str  # "base62" (CRM), or decimal
    prefix: str
    width: int
    multiplier: int
    offset: int
    next: int = 0

    @property
    def modulus(self) -> int:
        return 62**self.width if self.kind == "base62" else 10**self.width

    def take(self, n: int) -> pl.Series:
        keys = self.format(np.arange(self.next, self.next + n, dtype=np.int64))
        self.next += n
        return keys

    def absent(self, n: int, first: int) -> pl.Series:
        """Well-formed keys no record holds: counters from the top of the key space."""
        return self.format(self.modulus // 2 - 1 - np.arange(first, first + n, dtype=np.int64))

    def format(self, counter: np.ndarray) -> pl.Series:
        value = scramble(counter, self.modulus, self.multiplier, self.offset)
        body = base62(value, self.width) if self.kind == "base62" else digits(value, self.width)
        return self.prefix + body


def key_spaces() -> dict[str, KeySpace]:
    """Fresh key spaces for every generated dataset (one generation run)."""
    return {
        "crm/contacts": KeySpace("base62", "0035J", 10, 387_420_489, 91_224_761),
        "crm/accounts": KeySpace("base62", "0015J", 10, 244_140_625, 7_771_003),
        "billing/customers": KeySpace("decimal", "", 8, 7_919_343, 10_293_847),
        "billing/accounts": KeySpace("decimal", "BA", 9, 48_828_127, 120_000_017),
        "erp/partners": KeySpace("decimal", "00", 8, 5_764_801, 3_346_421),
        "erp/contract_accounts": KeySpace("decimal", "8", 11, 1_977_326_743, 4_000_000_007),
        "erp/contracts": KeySpace("decimal", "4", 9, 282_475_249, 99_991),
    }


def render_date(col: pl.Expr, system: str, alternative: pl.Expr) -> pl.Expr:
    primary, other = DATE_FORMATS[system]
    return pl.when(alternative).then(col.dt.strftime(other)).otherwise(col.dt.strftime(primary))


def _phone(system: str) -> pl.Expr:
    """The phone as the system writes it: its own format, or (rates.phone_alt_format) another."""
    cc = pl.col("country").replace_strict(_CALLING)
    grouped, nsn = pl.col("phone_grouped"), pl.col("phone_nsn")
    first = grouped.str.split(" ").list.first()
    formats = [
        "+" + cc + " " + grouped,  # international
        "0" + grouped,  # national
        "+" + cc + nsn,  # E.164
        "00" + cc + " " + nsn,  # international with the 00 prefix
        "(0" + first + ") " + grouped.str.slice(first.str.len_chars() + 1),  # area in brackets
        "0" + nsn,  # national, no spaces
    ]
    own = {"crm": 0, "billing": 1, "erp": 2}[system]
    alt = (pl.col("palt") / 1.0 * 5 * 997).floor().cast(pl.Int64) % 5
    alt = alt + (alt >= own).cast(pl.Int64)  # any format but the system's own
    out = pl.when(~pl.col("_palt")).then(formats[own])
    for i, f in enumerate(formats):
        out = out.when(alt == i).then(f)
    return pl.when(pl.col("_pmiss")).then(None).otherwise(out.otherwise(formats[own]))


def _tax_id() -> pl.Expr:
    t = pl.col("tax_id")
    spaced = t.str.slice(0, 2) + " " + t.str.slice(2, 3) + " " + t.str.slice(5)
    u = pl.col("taxfmt")
    shown = pl.when(u < 0.2).then(spaced).when(u < 0.35).then(t.str.slice(2)).otherwise(t)
    return pl.when(pl.col("_tax_shown")).then(shown).otherwise(None)


def _junk(column: pl.Expr, field: str) -> pl.Expr:
    return pl.when(pl.col("_junk_field") == field).then(pl.col("_junk_value")).otherwise(column)


def _junk_date(column: pl.Expr, system: str) -> pl.Expr:
    junk = pl.col("_junk_value").str.to_date("%Y-%m-%d", strict=False)
    as_text = junk.dt.strftime(DATE_FORMATS[system][0])
    return pl.when(pl.col("_junk_field") == "birth_date").then(as_text).otherwise(column)


def _street_line() -> pl.Expr:
    number_first = pl.col("country").is_in(["GB", "FR"])
    return (
        pl.when(number_first)
        .then(pl.col("_house") + " " + pl.col("_street"))
        .otherwise(pl.col("_street") + " " + pl.col("_house"))
    )


def _country_name() -> pl.Expr:
    canonical = pl.col("country").replace_strict({c: v[0] for c, v in vocab.COUNTRY_NAMES.items()})
    variants = pl.col("country").replace_strict(
        {c: list(v[1:]) for c, v in vocab.COUNTRY_NAMES.items()}, return_dtype=pl.List(pl.String)
    )
    u = pl.col("country_name")
    pick = variants.list.get(((u / 0.15) * variants.list.len()).floor().cast(pl.Int64))
    return pl.when(u < 0.15).then(pick).otherwise(canonical)


def _salutation() -> pl.Expr:
    options = {
        f"{c}{g}": list(vocab.SALUTATIONS[c][g]) for c in vocab.COUNTRIES for g in ("F", "M")
    }
    lst = (pl.col("country") + pl.col("gender")).replace_strict(
        options, return_dtype=pl.List(pl.String), default=None
    )
    u = pl.col("salutation")
    chosen = lst.list.get(((u / 0.7) * lst.list.len()).floor().cast(pl.Int64))
    return pl.when((pl.col("party_type") == "person") & (u < 0.7)).then(chosen).otherwise(None)


def _suffix_text() -> pl.Expr:
    """ " Jr" where the record shows a generation suffix, else nothing."""
    return (
        pl.when(pl.col("_suffix").is_not_null()).then(" " + pl.col("_suffix")).otherwise(pl.lit(""))
    )


def crm_contacts(r: pl.DataFrame) -> pl.DataFrame:
    person = pl.col("party_type") == "person"
    return r.select(
        RecordType=pl.when(person).then(pl.lit("PersonAccount")).otherwise(pl.lit("Business")),
        Salutation=_salutation(),
        FirstName=pl.when(person).then(pl.col("_given")),
        LastName=pl.when(person).then(pl.col("_family")),
        Suffix=pl.col("_suffix"),
        CompanyName=pl.col("_org"),
        Email=_junk(pl.col("_email"), "email"),
        Phone=_junk(_phone("crm"), "phone"),
        # the CRM keeps a flat in front of the street line when the user typed it there
        MailingStreet=_junk(
            pl.when(pl.col("_flat").is_not_null() & (pl.col("flatpos") < 0.6))
            .then(pl.col("_flat") + ", " + _street_line())
            .otherwise(_street_line()),
            "street",
        ),
        MailingCity=pl.col("_city"),
        MailingPostalCode=_junk(pl.col("_postcode"), "postcode"),
        MailingCountry=_country_name(),
        Birthdate=_junk_date(render_date(pl.col("_birth"), "crm", pl.col("_balt")), "crm"),
        VAT_Number__c=_tax_id(),
        LastModifiedDate=pl.col("_updated").dt.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    )


def billing_customers(r: pl.DataFrame, rates: Rates) -> pl.DataFrame:
    person = pl.col("party_type") == "person"
    last_first = pl.col("layout") < rates.last_first_layout
    loud = pl.col("upper") < 0.3
    family = pl.when(loud).then(pl.col("_family").str.to_uppercase()).otherwise(pl.col("_family"))
    suffix = _suffix_text()
    name = (
        pl.when(last_first)
        .then(family + ", " + pl.col("_given") + suffix)
        .otherwise(pl.col("_given") + " " + pl.col("_family") + suffix)
    )
    return r.select(
        cust_type=pl.when(person).then(pl.lit("P")).otherwise(pl.lit("B")),
        name=pl.when(person).then(name).otherwise(pl.col("_org")),
        addr1=_junk(_street_line(), "street"),
        addr2=pl.col("_flat"),
        town=pl.col("_city"),
        postcode=_junk(pl.col("_postcode"), "postcode"),
        country=pl.col("country"),
        tel=_junk(_phone("billing"), "phone"),
        email=_junk(pl.col("_email"), "email"),
        dob=_junk_date(render_date(pl.col("_birth"), "billing", pl.col("_balt")), "billing"),
        vat_no=_tax_id(),
        updated_at=pl.col("_updated").dt.strftime("%d/%m/%Y %H:%M"),
    )


def erp_partners(r: pl.DataFrame, rates: Rates) -> pl.DataFrame:
    person = pl.col("party_type") == "person"
    legacy = person & (pl.col("layout") < rates.legacy_layout)
    suffix = _suffix_text()
    legacy_name = (pl.col("_family") + " " + pl.col("_given") + suffix).str.to_uppercase()
    org = (
        pl.when(pl.col("upper") < 0.2)
        .then(pl.col("_org").str.to_uppercase())
        .otherwise(pl.col("_org"))
    )
    title = {"F": "0001", "M": "0002"}
    return r.select(
        BU_TYPE=pl.when(person).then(pl.lit("1")).otherwise(pl.lit("2")),
        TITLE=pl.when(person)
        .then(pl.col("gender").replace_strict(title, default=None))
        .otherwise(pl.lit("0003")),
        NAME_FIRST=pl.when(person & ~legacy).then(pl.col("_given")),
        NAME_LAST=pl.when(person & ~legacy).then(pl.col("_family") + suffix),
        NAME1=pl.when(legacy).then(legacy_name).when(~person).then(org),
        STREET=_junk(pl.col("_street"), "street"),
        HOUSE_NUM1=pl.when(pl.col("_junk_field") == "street")
        .then(None)
        .otherwise(pl.col("_house")),
        POST_CODE1=_junk(pl.col("_postcode"), "postcode"),
        CITY1=pl.col("_city"),
        COUNTRY=pl.col("country"),
        TEL_NUMBER=_junk(_phone("erp"), "phone"),
        SMTP_ADDR=_junk(pl.col("_email"), "email"),
        BIRTHDT=_junk_date(render_date(pl.col("_birth"), "erp", pl.col("_balt")), "erp"),
        TAXNUM=_tax_id(),
        CHANGED_AT=pl.col("_updated").dt.strftime("%Y%m%d%H%M%S"),
    )
