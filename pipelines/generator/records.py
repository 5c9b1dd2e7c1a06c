"""Source records of customer entities: which systems hold each entity, and the corruptions
each record suffers before a system writes it in its own layout (see `systems`).

The output is one row per source record in a system-neutral shape (given, family, street, ...)
plus a `tags` list naming every corruption applied, which becomes `truth_tags.csv`.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from . import vocab
from .customers import TODAY
from .rates import Rates
from .text import apply_typo, strip_accents, transliterate_german, typo_columns

SYSTEMS = ("crm", "billing", "erp")
SYSTEM_WEIGHTS = np.array([0.40, 0.33, 0.27])  # which system an entity is most likely found in
TAX_ID_SHOWN = {"crm": 0.30, "billing": 0.70, "erp": 0.80}
JUNK_FIELDS = ("email", "phone", "postcode", "street", "birth_date")


def _pick(rng: np.random.Generator, options: tuple[str, ...], n: int) -> np.ndarray:
    return rng.choice(np.array(options, dtype=object), n)


def assign_systems(rng: np.random.Generator, record_count: np.ndarray, rates: Rates) -> tuple:
    """(entity row, system) per record; an entity's records spread over distinct systems first,
    and `within_system_duplicate` of multi-record entities have two records in one system."""
    n = len(record_count)
    gumbel = np.log(SYSTEM_WEIGHTS) - np.log(-np.log(rng.random((n, 3))))
    order = np.argsort(-gumbel, axis=1)
    spare = rng.integers(0, 3, n)
    dup = (record_count >= 2) & (rng.random(n) < rates.within_system_duplicate)
    spread = np.column_stack([order, spare])
    doubled = np.column_stack([order[:, :1], order])
    seq = np.where(dup[:, None], doubled, spread)
    row = np.repeat(np.arange(n), record_count)
    rec_no = np.arange(len(row)) - np.repeat(np.cumsum(record_count) - record_count, record_count)
    return row, rec_no, np.array(SYSTEMS)[seq[row, rec_no]]


def _nickname_table() -> pl.DataFrame:
    names = list(vocab.NICKNAMES)
    return pl.DataFrame(
        {"given_name": names, "_nicknames": [list(vocab.NICKNAMES[k]) for k in names]},
        schema={"given_name": pl.String, "_nicknames": pl.List(pl.String)},
    )


def _legal_form_table() -> pl.DataFrame:
    rows = [
        (c, forms[0], list(forms[1:]) + [""])
        for c in vocab.COUNTRIES
        for forms in vocab.LEGAL_FORMS[c]
    ]
    c, canon, variants = zip(*rows, strict=True)
    return pl.DataFrame(
        {"country": c, "legal_form_name": canon, "_legal_variants": variants},
        schema={
            "country": pl.String,
            "legal_form_name": pl.String,
            "_legal_variants": pl.List(pl.String),
        },
    )


def _street_type_table() -> pl.DataFrame:
    rows = [
        (c, i, full, short, pos)
        for c in vocab.COUNTRIES
        for i, (full, short, pos) in enumerate(vocab.STREET_TYPES[c])
    ]
    return pl.DataFrame(
        rows,
        schema={
            "country": pl.String,
            "street_type": pl.Int64,
            "_type_full": pl.String,
            "_type_short": pl.String,
            "_type_pos": pl.String,
        },
        orient="row",
    )


def _street_line(name: str, kind: str, abbreviated: pl.Expr) -> pl.Expr:
    """Street without house number as the country writes it, full or abbreviated type."""
    t = pl.when(abbreviated).then(pl.col(f"{kind}_short")).otherwise(pl.col(f"{kind}_full"))
    pos = pl.col(f"{kind}_pos")
    return (
        pl.when(pos == "prefix")
        .then(t + " " + pl.col(name))
        .when(pos == "compound")
        .then(pl.col(name) + t)
        .otherwise(pl.col(name) + " " + t)
    )


def corrupt(rng: np.random.Generator, entities: pl.DataFrame, rates: Rates) -> pl.DataFrame:
    """One row per source record of `entities`, corrupted, with its `system` and `tags`."""
    count = entities["_record_count"].to_numpy()
    row, rec_no, system = assign_systems(rng, count, rates)
    n = len(row)
    # one record of a moved entity carries the old address; a married woman's maiden name, when
    # shown, sits on that same stale record if there is one (old records predate the marriage)
    stale_rec = rng.integers(0, count)  # per entity
    maiden_shown = rng.random(len(count)) < rates.maiden_name
    r = entities[row].with_columns(
        system=pl.Series(system),
        _row=pl.Series(row),
        _rec_no=pl.Series(rec_no),
        _stale=pl.Series(stale_rec[row] == rec_no),
    )
    u = {
        name: rng.random(n)
        for name in (
            "nick",
            "gtypo",
            "ftypo",
            "otypo",
            "swap",
            "accent",
            "translit",
            "abbr",
            "emiss",
            "evar",
            "etypo",
            "pmiss",
            "palt",
            "bmiss",
            "berr",
            "balt",
            "junk",
            "legal",
            "the",
            "tax",
            "suffix",
            "layout",
            "upper",
            "taxfmt",
            "updated",
            "nickpick",
            "legalpick",
            "country_name",
            "salutation",
            "flatpos",
        )
    }
    first_typo, second_typo = typo_columns(rng, n), typo_columns(rng, n)
    person = pl.col("party_type") == "person"
    r = r.with_columns(**{k: pl.Series(v) for k, v in u.items()}).with_columns(
        _moved_rec=pl.col("_moved") & pl.col("_stale"),
        _maiden_rec=person
        & pl.col("maiden_name").is_not_null()
        & (pl.col("_record_count") >= 2)
        & pl.Series(maiden_shown[row])
        & pl.col("_stale"),
    )
    r = r.join(_nickname_table(), on="given_name", how="left", maintain_order="left")
    r = r.join(
        _legal_form_table(), on=["country", "legal_form_name"], how="left", maintain_order="left"
    )
    r = r.join(
        _street_type_table(), on=["country", "street_type"], how="left", maintain_order="left"
    )
    r = r.join(
        _street_type_table()
        .rename({c: "_old" + c for c in ("_type_full", "_type_short", "_type_pos")})
        .rename({"street_type": "old_street_type"}),
        on=["country", "old_street_type"],
        how="left",
        maintain_order="left",
    )
    pick = lambda lst, u: lst.list.get((pl.col(u) * lst.list.len()).floor().cast(pl.Int64))  # noqa: E731
    nick = person & pl.col("_nicknames").is_not_null() & (pl.col("nick") < rates.nickname)
    r = r.with_columns(
        _nick=nick,
        _given=pl.when(nick)
        .then(pick(pl.col("_nicknames"), "nickpick"))
        .otherwise(pl.col("given_name")),
        _family=pl.when(pl.col("_maiden_rec"))
        .then(pl.col("maiden_name"))
        .otherwise(pl.col("family_name")),
    )
    # --- names
    r = r.with_columns(**{k: pl.Series(v) for k, v in first_typo.items()})
    gtypo = person & (pl.col("gtypo") < rates.given_typo)
    r = r.with_columns(
        _given=pl.when(gtypo).then(apply_typo("_given")).otherwise(pl.col("_given")), _gtypo=gtypo
    )
    r = r.with_columns(**{k: pl.Series(v) for k, v in second_typo.items()})
    ftypo = person & (pl.col("ftypo") < rates.family_typo)
    r = r.with_columns(
        _family=pl.when(ftypo).then(apply_typo("_family")).otherwise(pl.col("_family")),
        _ftypo=ftypo,
    )
    legal_variant = (~person) & (pl.col("legal") < rates.legal_form_variant)
    drop_the = pl.col("has_the") & (pl.col("the") < 0.5)
    add_the = (~pl.col("has_the")) & (pl.col("country") == "GB") & (pl.col("the") < 0.03)
    otypo = (~person) & (pl.col("otypo") < rates.organization_typo)
    r = r.with_columns(
        _core=pl.when(otypo).then(apply_typo("core")).otherwise(pl.col("core")),
        _otypo=otypo,
        _legal_variant=legal_variant,
        _the=pl.when(drop_the)
        .then(pl.lit(""))
        .when(add_the | pl.col("has_the"))
        .then(pl.lit("The "))
        .otherwise(pl.lit("")),
        _the_variant=(~person) & (drop_the | add_the),
        _legal=pl.when(legal_variant)
        .then(pick(pl.col("_legal_variants"), "legalpick"))
        .otherwise(pl.col("legal_form_name")),
    )
    swap = person & (pl.col("swap") < rates.swapped_names)
    r = r.with_columns(
        _given=pl.when(swap).then(pl.col("_family")).otherwise(pl.col("_given")),
        _family=pl.when(swap).then(pl.col("_given")).otherwise(pl.col("_family")),
        _swap=swap,
        _org=pl.when(person)
        .then(None)
        .otherwise(
            pl.concat_str(
                [pl.col("_the"), pl.col("_core"), pl.lit(" "), pl.col("_legal")]
            ).str.strip_chars()
        ),
    )
    junior = _pick(rng, vocab.GENERATION_SUFFIXES["junior"], n)
    senior = _pick(rng, vocab.GENERATION_SUFFIXES["senior"], n)
    generation = pl.col("generation")
    shown = pl.col("suffix") < pl.when(generation == "junior").then(0.4).otherwise(0.2)
    r = r.with_columns(
        _suffix=pl.when(generation.is_null() | ~shown)
        .then(None)
        .when(generation == "junior")
        .then(pl.Series(junior, dtype=pl.String))
        .otherwise(pl.Series(senior, dtype=pl.String))
    )
    # --- address (the stale record shows the old one)
    moved = pl.col("_moved_rec")
    abbr = pl.col("abbr") < rates.street_abbreviated
    r = r.with_columns(
        _street=pl.when(moved)
        .then(_street_line("old_street_name", "_old_type", abbr))
        .otherwise(_street_line("street_name", "_type", abbr)),
        _abbr=abbr,
        _house=pl.when(moved).then(pl.col("old_house_number")).otherwise(pl.col("house_number")),
        _flat=pl.when(moved).then(None).otherwise(pl.col("flat")),
        _postcode=pl.when(moved).then(pl.col("old_postcode")).otherwise(pl.col("postcode")),
        _city=pl.when(moved).then(pl.col("old_city")).otherwise(pl.col("city")),
    )
    # --- accents: German systems often transliterate umlauts, others just drop them
    accent = pl.col("accent") < rates.accents_stripped
    translit = accent & (pl.col("country") == "DE") & (pl.col("translit") < 0.6)
    texts = ["_given", "_family", "_org", "_street", "_city"]
    r = r.with_columns(
        **{
            c: pl.when(translit)
            .then(transliterate_german(pl.col(c)))
            .when(accent)
            .then(strip_accents(pl.col(c)))
            .otherwise(pl.col(c))
            for c in texts
        },
        _accent=accent,
    )
    r = _contact_points(r, rates)
    r = _dates(r, rates)
    return _junk_and_tags(rng, r, rates)


def _contact_points(r: pl.DataFrame, rates: Rates) -> pl.DataFrame:
    person = pl.col("party_type") == "person"
    local = pl.col("email").str.split_exact("@", 1).struct.field("field_0")
    domain = pl.col("email").str.split_exact("@", 1).struct.field("field_1")
    gmail = domain == "gmail.com"
    # provider rules a matcher must know: gmail ignores dots and +tags, googlemail is gmail
    variant = pl.col("evar") < rates.email_variant
    v = (pl.col("evar") / rates.email_variant * 4).floor() if rates.email_variant else pl.lit(0)
    r = r.with_columns(_local=local, _domain=domain)
    varied_local = (
        pl.when(gmail & (v == 0))
        .then(local.str.replace_all(".", "", literal=True))
        .when(gmail & (v == 1))
        .then(local + "+" + pl.lit("shop"))
        .otherwise(local)
    )
    varied_domain = pl.when(gmail & (v == 2)).then(pl.lit("googlemail.com")).otherwise(domain)
    r = r.with_columns(
        _local=pl.when(variant).then(varied_local).otherwise(pl.col("_local")),
        _domain=pl.when(variant).then(varied_domain).otherwise(pl.col("_domain")),
        _capitalise=variant & (~gmail | (v == 3)),
        _evar=variant,
    )
    r = r.with_columns(_typo_pos=pl.col("etypo") / max(rates.email_typo, 1e-12))
    etypo = pl.col("etypo") < rates.email_typo
    typoed = apply_typo("_local")
    email = pl.when(etypo).then(typoed).otherwise(pl.col("_local")) + "@" + pl.col("_domain")
    email = pl.when(pl.col("_capitalise")).then(email.str.to_titlecase()).otherwise(email)
    emiss = pl.col("emiss") < rates.missing_email
    # a different mailbox of the same organisation (accounts@ vs info@) is a real variant
    return r.with_columns(
        _email=pl.when(emiss).then(None).otherwise(email),
        _emiss=emiss,
        _etypo=etypo & ~emiss,
        _pmiss=pl.col("pmiss") < rates.missing_phone,
        _palt=pl.col("palt") < rates.phone_alt_format,
        _tax_shown=(~person) & (pl.col("tax") < pl.col("system").replace_strict(TAX_ID_SHOWN)),
    )


def _dates(r: pl.DataFrame, rates: Rates) -> pl.DataFrame:
    person = pl.col("party_type") == "person"
    missing_rate = (
        pl.when(pl.col("system") == "billing")
        .then(rates.missing_birth_date_billing)
        .otherwise(rates.missing_birth_date)
    )
    bmiss = person & (pl.col("bmiss") < missing_rate)
    berr = person & ~bmiss & (pl.col("berr") < rates.birth_date_error)
    b = pl.col("birth_date")
    y, m, d = b.dt.year(), b.dt.month(), b.dt.day()
    kind = (pl.col("berr") / max(rates.birth_date_error, 1e-12) * 4).floor()
    # day/month swapped where that is a real date, else a typo in the day, month or year
    swap_ok = (d <= 12) & (d != m)
    day_typo = pl.when(d < 28).then(d + 1 + (kind == 1).cast(pl.Int8) * 9).otherwise(d - 10)
    day_typo = pl.when(day_typo > 28).then(day_typo - 19).otherwise(day_typo)
    erred = (
        pl.when((kind == 0) & swap_ok)
        .then(pl.date(y, d, m))
        .when(kind <= 1)
        .then(pl.date(y, m, day_typo.clip(1, 28)))
        .when(kind == 2)
        .then(pl.date(y + pl.when(y % 10 < 9).then(1).otherwise(-1), m, d.clip(1, 28)))
        .otherwise(pl.date(y, pl.when(m < 12).then(m + 1).otherwise(m - 1), d.clip(1, 28)))
    )
    start = dt.datetime(2016, 1, 1)
    span_s = int((dt.datetime(TODAY.year, TODAY.month, TODAY.day) - start).total_seconds())
    updated = pl.lit(start) + pl.duration(seconds=(pl.col("updated") * span_s).cast(pl.Int64))
    # the stale record of a moved entity was last touched long ago
    stale = pl.col("_moved_rec") | pl.col("_maiden_rec")
    updated = (
        pl.when(stale)
        .then(
            pl.lit(start) + pl.duration(seconds=(pl.col("updated") * span_s * 0.3).cast(pl.Int64))
        )
        .otherwise(updated)
    )
    return r.with_columns(
        _birth=pl.when(bmiss).then(None).when(berr).then(erred).otherwise(b),
        _bmiss=bmiss,
        _berr=berr,
        _balt=pl.col("balt") < rates.date_alt_format,
        _updated=updated.dt.truncate("1s"),
    )


# record flag -> the tag truth_tags.csv gives it
_TAGS = (
    ("_nick", "nickname"),
    ("_gtypo", "given_typo"),
    ("_ftypo", "family_typo"),
    ("_swap", "swapped_names"),
    ("_maiden_rec", "maiden_name"),
    ("_otypo", "organization_typo"),
    ("_legal_variant", "legal_form_variant"),
    ("_the_variant", "the_variant"),
    ("_accent", "accents_stripped"),
    ("_abbr", "street_abbreviated"),
    ("_moved_rec", "old_address"),
    ("_emiss", "missing_email"),
    ("_etypo", "email_typo"),
    ("_pmiss", "missing_phone"),
    ("_berr", "birth_date_error"),
)


def _junk_and_tags(rng: np.random.Generator, r: pl.DataFrame, rates: Rates) -> pl.DataFrame:
    n = r.height
    person = (r["party_type"] == "person").to_numpy()
    field = rng.integers(0, len(JUNK_FIELDS) - 1, n)
    field = np.where(person & (rng.random(n) < 0.2), len(JUNK_FIELDS) - 1, field)
    junk_field = np.where(r["junk"].to_numpy() < rates.junk, np.array(JUNK_FIELDS)[field], None)
    value = np.empty(n, dtype=object)
    for kind, options in (
        ("email", "email"),
        ("phone", "phone"),
        ("postcode", "postcode"),
        ("street", "text"),
        ("birth_date", "birth_date"),
    ):
        sel = junk_field == kind
        value[sel] = _pick(rng, vocab.JUNK[options], int(sel.sum()))
    r = r.with_columns(
        _junk_field=pl.Series(junk_field.tolist(), dtype=pl.String),
        _junk_value=pl.Series(value.tolist(), dtype=pl.String),
    )
    tags = pl.concat_list(
        *(pl.when(pl.col(flag)).then(pl.lit(name)) for flag, name in _TAGS),
        pl.when(pl.col("_evar") & ~pl.col("_emiss")).then(pl.lit("email_variant")),
        pl.when((pl.col("party_type") == "person") & pl.col("_bmiss")).then(
            pl.lit("missing_birth_date")
        ),
        pl.when(pl.col("_junk_field").is_not_null()).then("junk_" + pl.col("_junk_field")),
    ).list.drop_nulls()
    return r.with_columns(tags=tags)
