"""Staging: a source frame (text columns, as landed) -> the canonical model, standardised.

`standardize` applies a `SourceMapping`, then derives the normalised `m_*` columns matching
uses. Row defects (no key, a repeated key) go to the quarantine frame with the rule they broke;
field defects (a date no declared format parses, a code with no mapping) null the field and
are counted, and the record still resolves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from . import checkdigits
from . import normalize as norm
from .mapping import CANONICAL_FIELDS, DATE_FIELDS, NUMBER_FIELDS, FieldRule, SourceMapping

# Systems write 1900-01-01 (or 1901-01-01, or an earlier year) when they have no birth date.
_PLACEHOLDER_BIRTH = (dt.date(1900, 1, 1), dt.date(1901, 1, 1))
_EARLIEST_REAL_BIRTH = dt.date(1900, 1, 1)


@dataclass(frozen=True)
class Staged:
    records: pl.DataFrame  # canonical columns + m_* match columns, one row per good record
    quarantine: pl.DataFrame  # source_system, source_key, row_number, rule, detail
    field_defects: dict[str, int] = field(default_factory=dict)  # canonical field -> nulled


def _source_value(rule: FieldRule) -> pl.Expr:
    if rule.constant is not None:
        value = pl.lit(rule.constant)
    elif rule.column is not None:
        value = pl.col(rule.column)
    else:
        parts = [norm.blank_junk(pl.col(c)) for c in rule.columns or ()]
        value = pl.concat_str(parts, separator=rule.separator, ignore_nulls=True)
    value = norm.blank_junk(value.cast(pl.String))
    if rule.missing:
        value = pl.when(~value.is_in(list(rule.missing))).then(value)
    for column, allowed in (rule.when or {}).items():
        value = pl.when(pl.col(column).is_in(list(allowed))).then(value)
    return value


def _parsed(name: str, rule: FieldRule, raw: pl.Expr) -> pl.Expr:
    if rule.values is not None:
        return raw.replace_strict(rule.values, default=None, return_dtype=pl.String)
    if name in NUMBER_FIELDS:
        thousands = "." if rule.decimal == "," else ","
        plain = raw.str.replace_all(thousands, "", literal=True)
        if rule.decimal == ",":
            plain = plain.str.replace(",", ".", literal=True)
        return plain.str.replace_all(" ", "", literal=True).cast(pl.Float64, strict=False)
    if name in DATE_FIELDS:
        formats = rule.formats or ("%Y-%m-%d",)
        if name == "source_updated_at":
            # an offset (%z) is honoured and the result kept in UTC without a zone, so sources
            # with and without offsets combine
            tries = [
                raw.str.to_datetime(
                    f, strict=False, time_unit="us", time_zone="UTC"
                ).dt.replace_time_zone(None)
                if "%z" in f
                else raw.str.to_datetime(f, strict=False, time_unit="us")
                for f in formats
            ]
            return pl.coalesce(tries)
        return pl.coalesce([raw.str.to_date(f, strict=False) for f in formats])
    return raw


def _row_defects(frame: pl.DataFrame, mapping: SourceMapping) -> tuple[pl.DataFrame, pl.DataFrame]:
    key = norm.blank_junk(pl.col(mapping.key).cast(pl.String))
    # the record's ordinal in its file, when the landing step numbered it
    if "_record" in frame.columns:
        frame = frame.with_columns(_row_number=pl.col("_record").cast(pl.Int64))
    else:
        frame = frame.with_row_index("_row_number", offset=1)
    frame = frame.with_columns(_key=key)
    missing = pl.col("_key").is_null()
    repeated = ~missing & ~pl.col("_key").is_first_distinct()
    bad = frame.filter(missing | repeated).select(
        source_system=pl.lit(mapping.source_system),
        source_key=pl.col("_key"),
        row_number=pl.col("_row_number"),
        rule=pl.when(missing).then(pl.lit("key_missing")).otherwise(pl.lit("key_duplicate")),
        detail=pl.when(missing)
        .then(pl.lit(f"no value in key column {mapping.key}"))
        .otherwise(pl.lit(f"key repeats an earlier row's {mapping.key}")),
    )
    return frame.filter(~(missing | repeated)), bad


def standardize(frame: pl.DataFrame, mapping: SourceMapping) -> Staged:
    """Map `frame` (one source dataset) onto the canonical model and add match columns."""
    good, quarantine = _row_defects(frame, mapping)
    fields = CANONICAL_FIELDS[mapping.entity]
    raw = {name: _source_value(rule) for name, rule in mapping.fields.items()}
    good = good.with_columns(**{f"_raw_{k}": v for k, v in raw.items()})
    parsed = {k: _parsed(k, mapping.fields[k], pl.col(f"_raw_{k}")) for k in raw}
    good = good.with_columns(**parsed)
    defects = {
        k: int(good.select((pl.col(f"_raw_{k}").is_not_null() & pl.col(k).is_null()).sum()).item())
        for k in raw
    }
    absent = {k: pl.lit(None, _DTYPE.get(k, pl.String)) for k in fields if k not in raw}
    records = good.with_columns(**absent).select(
        pl.lit(mapping.source_system).alias("source_system"),
        pl.col("_key").alias("source_key"),
        *[pl.col(k) for k in fields],
    )
    records, more = _FINISH[mapping.entity](records, mapping)
    for name, count in more.items():
        defects[name] = defects.get(name, 0) + count
    return Staged(records, quarantine.cast({"row_number": pl.Int64}), defects)


_DTYPE: dict[str, pl.DataType] = {
    **{k: pl.Date() for k in DATE_FIELDS},
    "source_updated_at": pl.Datetime("us"),
    **{k: pl.Float64() for k in NUMBER_FIELDS},
}


def _customer(records: pl.DataFrame, mapping: SourceMapping) -> tuple[pl.DataFrame, dict]:
    records = _match_columns(_complete(records, mapping))
    # a malformed email (not a placeholder, which is simply missing) is a field defect
    given = norm.blank_junk(pl.col("_email_given")).is_not_null()
    malformed = int(records.select((given & pl.col("m_email").is_null()).sum()).item())
    defects = {"email": malformed} if "email" in mapping.fields else {}
    return records.drop("_email_given"), defects


def _account(records: pl.DataFrame, mapping: SourceMapping) -> tuple[pl.DataFrame, dict]:
    compact = norm.blank_junk(pl.col("iban")).str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "")
    records = records.with_columns(
        m_iban=compact,
        currency=norm.blank_junk(pl.col("currency")).str.to_uppercase(),
    )
    valid = checkdigits.iban_valid(records["m_iban"])
    records = records.with_columns(iban=pl.when(pl.lit(valid)).then(pl.col("m_iban")))
    # a mistyped IBAN (its check digits fail) is nulled for the golden record but still
    # compared: one wrong digit is evidence of the same account
    invalid = int(records.select(pl.col("m_iban").is_not_null() & pl.col("iban").is_null())
                  .sum().item())  # fmt: skip
    return records, ({"iban": invalid} if "iban" in mapping.fields else {})


def _contract(records: pl.DataFrame, mapping: SourceMapping) -> tuple[pl.DataFrame, dict]:
    return records.with_columns(
        product=norm.blank_junk(pl.col("product")).str.to_uppercase(),
        currency=norm.blank_junk(pl.col("currency")).str.to_uppercase(),
    ), {}


_FINISH = {"customer": _customer, "account": _account, "contract": _contract}


def _split_full_name(layout: str | None) -> tuple[pl.Expr, pl.Expr]:
    """(given, family) from full_name where given and family are both empty."""
    full = pl.col("full_name").str.strip_chars()
    tokens = full.str.split(" ")
    given_first = (tokens.list.first(), tokens.list.slice(1).list.join(" "))
    family_first = (tokens.list.last(), tokens.list.slice(0, tokens.list.len() - 1).list.join(" "))
    if layout == "family_given":
        return family_first
    comma = full.str.split_exact(",", 1)
    before, after = comma.struct.field("field_0"), comma.struct.field("field_1")
    has_comma = full.str.contains(",")
    given = pl.when(has_comma).then(after.str.strip_chars()).otherwise(given_first[0])
    family = pl.when(has_comma).then(before.str.strip_chars()).otherwise(given_first[1])
    return given, family


def _complete(records: pl.DataFrame, mapping: SourceMapping) -> pl.DataFrame:
    rule = mapping.fields.get("full_name")
    given, family = _split_full_name(rule.layout if rule else None)
    no_parts = pl.col("given_name").is_null() & pl.col("family_name").is_null()
    person = pl.col("organization_name").is_null() | pl.col("given_name").is_not_null()
    records = records.with_columns(
        given_name=pl.when(no_parts).then(given).otherwise(pl.col("given_name")),
        family_name=pl.when(no_parts).then(family).otherwise(pl.col("family_name")),
        party_type=pl.coalesce(
            pl.col("party_type"),
            pl.when(person).then(pl.lit("person")).otherwise(pl.lit("organization")),
        ),
        # a few dozen spellings over millions of records: each read once
        country=pl.coalesce(
            pl.lit(norm.per_distinct(records["country"], _country)), pl.lit(mapping.default_country)
        ),  # fmt: skip
    )
    return records.with_columns(
        full_name=pl.when(pl.col("party_type") == "person").then(
            pl.coalesce(
                pl.concat_str(
                    ["given_name", "family_name"], separator=" ", ignore_nulls=True
                ).replace("", None),
                pl.col("full_name"),
            )
        ),
        birth_date=pl.when(
            (pl.col("birth_date") >= _EARLIEST_REAL_BIRTH)
            & ~pl.col("birth_date").is_in(list(_PLACEHOLDER_BIRTH))
        ).then(pl.col("birth_date")),
    )


def _person_name(names: pl.Series) -> pl.Series:
    # scripts accent folding cannot reach (Cyrillic, Greek) are transliterated
    return pl.select(norm.person_name(pl.lit(norm.transliterate(names)))).to_series()


def _generation(names: pl.Series) -> pl.Series:
    return pl.select(norm.generation(pl.lit(names))).to_series()


def _country(names: pl.Series) -> pl.Series:
    return pl.select(norm.country(pl.lit(names))).to_series()


def _city(names: pl.Series) -> pl.Series:
    return pl.select(norm.words(norm.fold(norm.blank_junk(pl.lit(names))))).to_series()


def _match_columns(records: pl.DataFrame) -> pl.DataFrame:
    """Normalised columns that blocking and comparisons read (`m_*`). Names and towns repeat
    across records, so they are normalised once per distinct value."""
    countries = records["country"].drop_nulls().unique().to_list()
    codes = norm.calling_codes([c for c in countries if len(c) == 2])
    person = pl.col("party_type") == "person"
    # a generation ("Jr") stated in a name field; a word never spans two fields, and a
    # person's full name is by now its given and family names (`_complete`): not read again
    # (two million nearly distinct full names: 1.9 s at 1M entities)
    stated = [norm.per_distinct(records[c], _generation) for c in ("given_name", "family_name")]
    junior = pl.any_horizontal([pl.lit(s) == "junior" for s in stated])
    senior = pl.any_horizontal([pl.lit(s) == "senior" for s in stated])
    records = records.with_columns(
        _email_given=pl.col("email"),
        m_given=pl.when(person).then(pl.lit(norm.per_distinct(records["given_name"],
                                                               _person_name))),
        m_family=pl.when(person).then(pl.lit(norm.per_distinct(records["family_name"],
                                                                _person_name))),
        m_generation=pl.when(person & junior).then(pl.lit("junior"))
        .when(person & senior).then(pl.lit("senior")),
        m_email=norm.email(pl.col("email")),
        m_phone=norm.phone(pl.col("phone"), pl.col("country"), codes),
        m_postcode=norm.postcode(pl.col("postcode")),
        m_city=pl.lit(norm.per_distinct(records["city"], _city)),
        m_address=norm.address_line(pl.col("address_line")),
        m_tax_id=_tax_id(),
    )  # fmt: skip
    org = norm.organization_name(records["organization_name"])
    return records.with_columns(
        m_organization=pl.when(~person).then(pl.lit(org)),
        # the address as written (lower case), not the gmail-folded matching form
        email=pl.when(pl.col("m_email").is_not_null()).then(
            pl.col("email").str.strip_chars().str.to_lowercase()
        ),
        phone=pl.col("m_phone"),
    )


def _tax_id() -> pl.Expr:
    """Compact VAT/tax number with its country prefix ("DE 123 456789" -> "DE123456789")."""
    text = norm.blank_junk(pl.col("tax_id")).str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "")
    prefixed = text.str.contains(r"^[A-Z]{2}")
    return pl.when(prefixed).then(text).otherwise(pl.col("country") + text)
