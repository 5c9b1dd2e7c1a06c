"""Normalisers: each turns a raw column into the form comparisons and blocking use.

All are vectorised Polars expressions, except where a well-kept library only works per string
(anyascii, cleanco): those run once per *distinct* value, never per row.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

import jellyfish
import numpy as np
import phonenumbers
import polars as pl
from anyascii import anyascii
from cleanco.clean import prepare_default_terms

# Letters NFKD cannot decompose into a base letter and a mark.
_FOLDS = {
    "ß": "ss", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ı": "i",
    "İ": "I", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "þ": "th", "Þ": "Th",
}  # fmt: skip
_GENERATION = r"\b(jr|junior|sr|senior|ii|iii|iv)\b"
# Placeholder values source systems hold instead of a value.
_JUNK_TEXT = ["n/a", "na", "-", "?", "unknown", "none", "null", "xxx", "xx", "x", "tbc", "test"]
_JUNK_EMAIL_LOCAL = r"^(no|none|noemail|nomail|test|x|xx|xxx|na|n/a|unknown|dummy|invalid)$"


def fold(col: pl.Expr) -> pl.Expr:
    """Lower-case ASCII: accents dropped ("Müller" -> "muller"), ß -> ss, ı -> i."""
    return col.map_batches(_fold, return_dtype=pl.String, is_elementwise=True)


def _fold(values: pl.Series) -> pl.Series:
    # Unicode decomposition costs ten times lower-casing, and nearly nine values in ten are
    # ASCII already (the same byte and character length): only the others are decomposed
    out = values.str.to_lowercase()
    other = values.str.len_bytes() != values.str.len_chars()
    if not other.any():
        return out
    decomposed = pl.select(pl.lit(values.filter(other)).str.normalize("NFKD")
                           .str.replace_all(r"\p{M}", "")
                           .str.replace_many(list(_FOLDS), list(_FOLDS.values()))
                           .str.to_lowercase()).to_series()  # fmt: skip
    return out.scatter(other.arg_true(), decomposed)


def transliterate(series: pl.Series) -> pl.Series:
    """`fold`, then anyascii for what is still not ASCII (Cyrillic, Greek, ...), per value."""
    folded = pl.select(fold(pl.lit(series))).to_series()
    rest = folded.filter(folded.str.contains(r"[^\x00-\x7f]")).unique()
    if rest.len() == 0:
        return folded
    table = dict(zip(rest.to_list(), [anyascii(v).lower() for v in rest.to_list()], strict=True))
    return folded.replace(table)


def sounds(series: pl.Series) -> pl.Series:
    """Metaphone key of each (ASCII, lower-case) name, computed once per distinct name: "smith"
    and "smyth" -> "SM0", "mueller" and "muller" -> "MLR". A blocking key: names a typo or a
    spelling apart still meet."""
    return per_distinct(series, _metaphones)


def _metaphones(names: pl.Series) -> pl.Series:
    keys = [jellyfish.metaphone(v) or None if v is not None else None for v in names.to_list()]
    return pl.Series(keys, dtype=pl.String)


def words(col: pl.Expr) -> pl.Expr:
    """Letters and digits only, single-spaced: "O'Brien-Smith " -> "o brien smith"."""
    return col.str.replace_all(r"[^a-z0-9]+", " ").str.strip_chars()


@functools.cache
def _nickname_pairs() -> pl.DataFrame:
    """Every (name, name) pair the `nicknames` package relates: a name and its nickname
    (William, Bill) either way round, and two nicknames of one name (Bill, Will)."""
    from nicknames import NickNamer

    rows = [(c, n) for c, nicks in NickNamer().nickname_lookup.items() for n in nicks]
    base = pl.DataFrame(rows, schema=["a", "b"], orient="row")
    siblings = base.join(base, on="a", suffix="_2").select(a="b", b="b_2")
    pairs = pl.concat([base, base.select(a="b", b="a"), siblings])
    pairs = pairs.filter(pl.col("a") != pl.col("b"))
    return pairs.unique().with_columns(_nickname=pl.lit(True))


def nicknames(a: pl.Series, b: pl.Series) -> np.ndarray:
    """Per pair: one name is a nickname or diminutive of the other, or both of one name."""
    pairs = pl.DataFrame({"a": a, "b": b}).with_row_index("_i")
    found = pairs.join(_nickname_pairs(), on=["a", "b"], how="left").sort("_i")
    return found["_nickname"].fill_null(False).to_numpy()


_JUNK_PATTERN = "(?i)^(?:" + "|".join(re.escape(v) for v in _JUNK_TEXT) + ")$"


def blank_junk(col: pl.Expr) -> pl.Expr:
    """Null for empty strings and placeholders ("n/a", "unknown", "-"). One chain over `col`:
    an expression that used `col` twice (a test, then the value) made Polars evaluate it twice,
    and these nest (a name is blanked before and after folding)."""
    return col.str.strip_chars().str.replace(_JUNK_PATTERN, "").replace("", None)


def person_name(col: pl.Expr) -> pl.Expr:
    """Comparable person-name text: folded words without generation suffixes."""
    text = words(fold(blank_junk(col))).str.replace_all(_GENERATION, "")
    text = text.str.replace_all(r"\s+", " ")
    return blank_junk(text)  # after folding, so "ÑA" and "n/a" end alike


def per_distinct(values: pl.Series, normalise: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """`normalise` computed once per distinct value and mapped back: two million customer
    records hold some 60,000 given names and 3,000 towns."""
    distinct = values.unique()
    table = pl.DataFrame({"value": distinct, "out": normalise(distinct)})
    return (
        values.to_frame("value")
        .join(table, on="value", how="left", nulls_equal=True, maintain_order="left")
        .get_column("out")
        .alias(values.name)
    )


def generation(col: pl.Expr) -> pl.Expr:
    """The generation a name states: "junior", "senior" or null ("John Smith Jr" -> junior)."""
    text = words(fold(col))
    return (
        pl.when(text.str.contains(r"\b(jr|junior|ii|iii|iv)\b"))
        .then(pl.lit("junior"))
        .when(text.str.contains(r"\b(sr|senior)\b"))
        .then(pl.lit("senior"))
        .otherwise(None)
    )


_LONG_LEGAL_FORMS = re.compile(
    r"\b(gesellschaft mit beschrankter haftung|public limited company|aktiengesellschaft"
    r"|besloten vennootschap|naamloze vennootschap|societe anonyme|ug \(?haftungsbeschrankt\)?"
    r"|societe a responsabilite limitee)"
)


@functools.cache
def _legal_form_suffix() -> str:
    """cleanco's legal-form terms (its term data, every country) as one regex anchored at the
    end of a name, blind to the dots, commas and hyphens inside a term ("s.a.r.l." is "sarl"):
    Polars applies it to a whole column at once, where cleanco's own `basename` walks its 321
    terms in Python for every name (two minutes for the 611,000 company names of 1M entities).
    """
    gap = "[.,-]*"
    alternatives = {
        r"\s+".join(gap.join(re.escape(c) for c in part) + gap for part in parts)
        for _, parts in prepare_default_terms()
    }
    return r"(?:\s+(?:" + "|".join(sorted(alternatives, key=len, reverse=True)) + r"))+\W*$"


def organization_name(series: pl.Series) -> pl.Series:
    """Company name without legal form, "The" or punctuation: "The Acme Ltd." -> "acme".

    Legal forms are cleanco's terms (`_legal_form_suffix`), stripped from the end of the name
    until none is left ("acme ab ltd"); a few long spelt-out forms cleanco misses go first.
    """
    text = fold(blank_junk(pl.col("name")))
    for _ in range(3):  # stripping one form can expose another
        text = text.str.replace_all(_LONG_LEGAL_FORMS.pattern, " ").str.strip_chars()
        text = text.str.replace(_legal_form_suffix(), "")
        text = text.str.replace_all(r"[^a-z0-9]+", " ").str.strip_chars()
        text = text.str.replace(r"^the ", "")
    out = pl.DataFrame({"name": series}).select(blank_junk(text))
    return out.to_series().alias(series.name)


def email(col: pl.Expr) -> pl.Expr:
    """Lower-case address with provider rules: gmail ignores dots and +tags in the local part,
    googlemail.com is gmail.com. Placeholders and malformed addresses become null."""
    return col.map_batches(_emails, return_dtype=pl.String)


def _emails(values: pl.Series) -> pl.Series:
    # step by step, each step a column: one expression reusing a part evaluates it each time
    text = blank_junk(pl.col("v")).str.to_lowercase().str.replace_all(r"\s", "")
    frame = pl.DataFrame({"v": values}).select(text=text)
    parts = pl.col("text").str.split_exact("@", 1)
    frame = frame.with_columns(
        local=parts.struct.field("field_0").str.replace(r"\+.*$", ""),
        domain=parts.struct.field("field_1").replace("googlemail.com", "gmail.com"),
    )
    gmail = pl.col("domain") == "gmail.com"
    frame = frame.with_columns(
        local=pl.when(gmail).then(pl.col("local").str.replace_all(".", "", literal=True))
        .otherwise(pl.col("local"))
    )  # fmt: skip
    valid = pl.col("text").str.contains(r"^[^@\s]+@[a-z0-9.-]+\.[a-z]{2,}$") & ~pl.col(
        "local"
    ).str.contains(_JUNK_EMAIL_LOCAL)
    return frame.select(pl.when(valid).then(pl.col("local") + "@" + pl.col("domain"))).to_series()


def calling_codes(countries: list[str]) -> dict[str, str]:
    """Country calling code per ISO country, from phonenumbers' metadata."""
    return {c: str(phonenumbers.country_code_for_region(c)) for c in countries}


def phone(col: pl.Expr, country: pl.Expr, codes: dict[str, str]) -> pl.Expr:
    """E.164 from the usual written forms: "+44 20 7946 0958", "0044 ...", "020 7946 0958"
    (national, trunk 0, the record's country), "(020) 7946-0958". Placeholders
    ("0000000000", too few digits) become null."""
    both = pl.struct(col.alias("phone"), country.alias("country"))
    return both.map_batches(lambda s: _phones(s, codes), return_dtype=pl.String)


def _phones(values: pl.Series, codes: dict[str, str]) -> pl.Series:
    # step by step, each step a column (see `_emails`)
    frame = values.struct.unnest().select(
        # "+49 (0)151 ...": the bracketed trunk 0 is not dialled after the country code
        raw=blank_junk(pl.col("phone")).str.replace(r"^(\+|00)(\d+)\s*\(0\)", "$1$2"),
        cc=pl.col("country").replace_strict(codes, default=None),
    )
    frame = frame.with_columns(digits=pl.col("raw").str.replace_all(r"\D", ""))
    digits = pl.col("digits")
    frame = frame.with_columns(
        e164=pl.when(pl.col("raw").str.starts_with("+"))
        .then("+" + digits)
        .when(digits.str.starts_with("00"))
        .then("+" + digits.str.slice(2))
        .otherwise("+" + pl.col("cc") + digits.str.replace(r"^0", ""))
    )  # fmt: skip
    same_digit = "^(" + "|".join(f"{d}+" for d in range(10)) + ")$"
    placeholder = digits.str.contains(same_digit) | digits.is_in(["1234567890", "123456789"])
    ok = (digits.str.len_chars() >= 7) & ~placeholder & (pl.col("e164").str.len_chars() <= 16)
    return frame.select(pl.when(ok).then(pl.col("e164"))).to_series()


def postcode(col: pl.Expr) -> pl.Expr:
    """Upper-case, no spaces: "gu14 1al" -> "GU141AL"; placeholders ("00000") -> null."""
    text = blank_junk(col).str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "")
    # blanked again once stripped: ":NA" is "NA", which a second pass would blank (idempotence)
    text = blank_junk(text)
    junk = text.str.contains(r"^(0+|X+)$") | text.is_null()
    return pl.when(~junk).then(text)


# How source systems name countries they do not write as ISO codes (the matcher's own table).
_COUNTRY_NAMES = {
    "united kingdom": "GB", "uk": "GB", "u k": "GB", "great britain": "GB", "england": "GB",
    "scotland": "GB", "wales": "GB", "britain": "GB", "gb": "GB",
    "germany": "DE", "deutschland": "DE", "bundesrepublik deutschland": "DE",
    "allemagne": "DE", "duitsland": "DE",
    "france": "FR", "frankreich": "FR", "frankrijk": "FR", "republique francaise": "FR",
    "netherlands": "NL", "the netherlands": "NL", "nederland": "NL", "holland": "NL",
    "niederlande": "NL", "pays bas": "NL",
    "ireland": "IE", "belgium": "BE", "belgique": "BE", "belgie": "BE", "spain": "ES",
    "espana": "ES", "italy": "IT", "italia": "IT", "austria": "AT", "osterreich": "AT",
    "switzerland": "CH", "schweiz": "CH", "suisse": "CH", "united states": "US", "usa": "US",
    "vereinigtes konigreich": "GB", "grossbritannien": "GB", "royaume uni": "GB",
    "verenigd koninkrijk": "GB", "groot brittannie": "GB", "nederlande": "NL",
}  # fmt: skip


def country(col: pl.Expr) -> pl.Expr:
    """ISO 3166-1 alpha-2 from a code or a common name ("Deutschland" -> "DE")."""
    text = words(fold(blank_junk(col)))
    code = text.str.to_uppercase()
    named = text.replace_strict(_COUNTRY_NAMES, default=None)
    return (
        pl.when(named.is_not_null()).then(named).when(code.str.contains(r"^[A-Z]{2}$")).then(code)
    )


_STREET_TYPES = {
    "st": "street", "str": "strasse", "rd": "road", "ave": "avenue", "av": "avenue",
    "ln": "lane", "dr": "drive", "cl": "close", "gdns": "gardens", "cres": "crescent",
    "pl": "place", "terr": "terrace", "r": "rue", "bd": "boulevard", "bld": "boulevard",
    "ch": "chemin", "imp": "impasse", "all": "allee", "rte": "route", "wg": "weg",
    "pln": "plein", "gr": "gracht", "sngl": "singel", "w": "weg", "al": "allee",
}  # fmt: skip


def address_line(col: pl.Expr) -> pl.Expr:
    """Folded street line with street-type abbreviations spelt out ("Goethestr. 12" ->
    "goethestrasse 12", "12 High St" -> "12 high street"); flats and punctuation dropped."""
    text = fold(blank_junk(col))
    text = text.str.replace_all(r"\b(flat|apt|app|whg|apartment|appartement)\.?\s*\d+\w*,?", " ")
    # compound German/Dutch abbreviations glued to the name: "goethestr." -> "goethestrasse"
    text = text.str.replace_all(r"(\w)str\.?(\s|$)", "${1}strasse$2")
    text = text.str.replace_all(r"(\w)straat\b", "${1}straat")
    text = words(text)
    tokens = text.str.split(" ").list.eval(pl.element().replace(_STREET_TYPES))
    return blank_junk(tokens.list.join(" "))
