"""Customer entities: the true person or organisation behind the source records, with the
planted hard negatives (namesakes, twins, father/son, look-alike companies).

Everything is drawn as whole arrays per chunk; hard negatives are made by copying the attributes
that make two different entities look alike from a base entity onto its partner.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from . import pools, vocab
from .identifiers import digits, scramble, vat_numbers
from .rates import Rates
from .text import strip_accents

EPOCH = dt.date(1970, 1, 1)
TODAY = dt.date(2026, 11, 1)  # the generated extracts are "as of" this date, whatever day it runs
RECORD_COUNT_WEIGHTS = (0.30, 0.42, 0.18, 0.10)  # 1, 2, 3, 4 source records: mean 2.08

# National significant numbers: (leading digits options, random digits, group lengths).
_PHONE_PLANS: dict[str, dict[str, tuple[tuple[str, ...], int, tuple[int, ...]]]] = {
    "GB": {"mobile": (("77", "78", "79"), 8, (4, 6)), "fixed": (("207", "208"), 7, (2, 4, 4))},
    "DE": {"mobile": (("151", "152", "176"), 8, (3, 8)), "fixed": (("30",), 8, (2, 8))},
    "FR": {
        "mobile": (
            ("60", "61", "62", "64", "65", "66", "67", "68", "73", "74", "75", "76", "77", "78"),
            7,
            (1, 2, 2, 2, 2),
        ),
        "fixed": (("1",), 8, (1, 2, 2, 2, 2)),
    },
    "NL": {"mobile": (("61", "62", "63", "64", "65"), 7, (1, 8)), "fixed": (("20",), 7, (2, 7))},
}
# UK mobile ranges that belong to Guernsey, Jersey and the Isle of Man, not to GB
_CROWN_DEPENDENCY_MOBILE = (
    "7781",
    "7839",
    "7911",
    "7509",
    "7700",
    "7797",
    "7829",
    "7937",
    "7524",
    "7624",
    "7924",
)
COUNTRY_CALLING_CODE = {"GB": "44", "DE": "49", "FR": "33", "NL": "31"}


def _days(d: dt.date) -> int:
    return (d - EPOCH).days


def _by_country(country: np.ndarray):
    for c in vocab.COUNTRIES:
        idx = np.flatnonzero(country == c)
        if len(idx):
            yield c, idx


HERITAGE_SHARE = 0.15  # of persons: names from outside the country's own locale


class Registry:
    """Values a run has handed out, such as emails and company names: a mail provider or a
    companies register keeps them unique, so the generator must too."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def clashes(self, values: pl.Series) -> np.ndarray:
        """True where a value is taken by an earlier chunk or earlier in this one."""
        repeated = ~values.is_first_distinct().to_numpy()
        taken = self._taken
        earlier = np.fromiter((v in taken for v in values), bool, len(values))
        return repeated | earlier

    def take(self, values: pl.Series) -> None:
        self._taken.update(values.drop_nulls())


def _names(rng: np.random.Generator, country: np.ndarray, gender: np.ndarray) -> tuple:
    n = len(country)
    given = np.empty(n, dtype=object)
    family = np.empty(n, dtype=object)
    heritage = rng.random(n) < HERITAGE_SHARE
    for c, idx in _by_country(country):
        family[idx] = pools.family_names(c).sample(rng, len(idx))
        for g in ("F", "M"):
            sel = idx[gender[idx] == g]
            given[sel] = pools.given_names(c, g).sample(rng, len(sel))
    # one origin per person: given and family name from the same locale
    origin = rng.integers(0, len(vocab.HERITAGE_LOCALES), n)
    for i, locale in enumerate(vocab.HERITAGE_LOCALES):
        rows = heritage & (origin == i)
        family[rows] = pools.heritage_family_names(locale).sample(rng, int(rows.sum()))
        for g in ("F", "M"):
            sel = np.flatnonzero(rows & (gender == g))
            given[sel] = pools.heritage_given_names(locale, g).sample(rng, len(sel))
    return given, family


def _addresses(rng: np.random.Generator, country: np.ndarray, city: np.ndarray | None = None):
    """Street base, street type index, house number, city index and postcode per row.

    `city` fixes the city index (a namesake living in the same town) where it is >= 0.
    """
    n = len(country)
    street = np.empty(n, dtype=object)
    street_type = np.zeros(n, np.int64)
    city_idx = np.zeros(n, np.int64) if city is None else city.copy()
    postcode = np.empty(n, dtype=object)
    house = rng.integers(1, 180, n)
    house_letter = np.where(rng.random(n) < 0.04, rng.choice(np.array(["a", "b", "c"]), n), "")
    for c, idx in _by_country(country):
        street[idx] = pools.street_names(c).sample(rng, len(idx))
        weights = pools.street_type_weights(c)
        street_type[idx] = rng.choice(len(weights), len(idx), p=weights)
        fresh = idx if city is None else idx[city_idx[idx] < 0]
        city_idx[fresh] = pools.cities(c).sample_index(rng, len(fresh))
        code = pools.city_codes(c)[city_idx[idx]]
        k = len(idx)
        if c == "GB":
            inward = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
            postcode[idx] = (
                pl.Series(code, dtype=pl.String)
                + pl.Series(rng.integers(1, 20, k)).cast(pl.String)
                + " "
                + pl.Series(rng.integers(0, 10, k)).cast(pl.String)
                + pl.Series(rng.choice(inward, k))
                + pl.Series(rng.choice(inward, k))
            ).to_numpy()
        elif c == "NL":
            letters = np.array(list("ABCEGHJKLMNPRTVWXZ"))
            postcode[idx] = (
                pl.Series(code, dtype=pl.String)
                + digits(rng.integers(0, 100, k), 2)
                + " "
                + pl.Series(rng.choice(letters, k))
                + pl.Series(rng.choice(letters, k))
            ).to_numpy()
        else:  # DE, FR: five digits
            postcode[idx] = (
                pl.Series(code, dtype=pl.String) + digits(rng.integers(0, 1000, k), 3)
            ).to_numpy()
    city_names = np.empty(n, dtype=object)
    for c, idx in _by_country(country):
        city_names[idx] = pools.cities(c).values[city_idx[idx]]
    house_number = (pl.Series(house).cast(pl.String) + pl.Series(house_letter)).to_numpy()
    return {
        "street_name": street,
        "street_type": street_type,
        "house_number": house_number,
        "city_index": city_idx,
        "city": city_names,
        "postcode": postcode,
    }


def _phones(rng: np.random.Generator, country: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """National significant number and its usual grouping ("7700 900123") per row."""
    n = len(country)
    nsn = np.empty(n, dtype=object)
    grouped = np.empty(n, dtype=object)
    mobile = rng.random(n) < 0.65
    for c, idx in _by_country(country):
        for kind, sel in (("mobile", idx[mobile[idx]]), ("fixed", idx[~mobile[idx]])):
            if not len(sel):
                continue
            leads, width, groups = _PHONE_PLANS[c][kind]
            s = pl.Series(rng.choice(np.array(leads), len(sel))) + digits(
                rng.integers(0, 10**width, len(sel)), width
            )
            foreign = s.str.slice(0, 4).is_in(_CROWN_DEPENDENCY_MOBILE).to_numpy()
            while c == "GB" and foreign.any():
                redrawn = s.to_numpy()
                redrawn[foreign] = (
                    "7"
                    + rng.choice(np.array(["7", "8", "9"]), foreign.sum())
                    + (digits(rng.integers(0, 10**width, foreign.sum()), width).to_numpy())
                )
                s = pl.Series(redrawn, dtype=pl.String)
                foreign = s.str.slice(0, 4).is_in(_CROWN_DEPENDENCY_MOBILE).to_numpy()
            parts, start = [], 0
            for g in groups:
                parts.append(s.str.slice(start, g))
                start += g
            nsn[sel] = s.to_numpy()
            joined = parts[0]
            for part in parts[1:]:
                joined = joined + " " + part
            grouped[sel] = joined.to_numpy()
    return nsn, grouped


_FLAT_LABEL = {"GB": "Flat", "DE": "Whg.", "FR": "Apt", "NL": "App."}
FLAT_SHARE = 0.08  # of persons: a flat or apartment number on top of the street address


def _flats(rng: np.random.Generator, country: np.ndarray, person: np.ndarray) -> np.ndarray:
    label = pl.Series(country).replace_strict(_FLAT_LABEL)
    text = (label + " " + pl.Series(rng.integers(1, 40, len(country))).cast(pl.String)).to_numpy()
    return np.where(person & (rng.random(len(country)) < FLAT_SHARE), text, None)


def _birth_days(rng: np.random.Generator, n: int) -> np.ndarray:
    year = np.clip(rng.normal(1972, 16, n), 1931, 2006)
    start = _days(dt.date(1931, 1, 1))
    end = _days(dt.date(2006, 12, 31))
    days = start + ((year - 1931) * 365.25).astype(np.int64) + rng.integers(0, 365, n)
    return np.clip(days, start, end)


def _organization_cores(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    n = len(country)
    core = np.empty(n, dtype=object)
    pattern = rng.choice(5, n, p=(0.30, 0.30, 0.12, 0.13, 0.15))
    brand = pools.brand_words().sample(rng, n)
    for c, idx in _by_country(country):
        k = len(idx)
        fam = pools.family_names(c).sample(rng, k)
        fam2 = pools.family_names(c).sample(rng, k)
        industry = pools.industry_words(c).sample(rng, k)
        town = pools.cities(c).sample(rng, k)
        p = pattern[idx]
        initial = rng.choice(np.array(list("ABCDEFGHJKLMNPRSTW"), dtype=object), k)
        core[idx] = np.select(
            [p == 0, p == 1, p == 2, p == 3],
            [
                fam + " " + industry,  # Schmidt Logistik
                brand[idx] + " " + industry,  # Northwind Logistics
                fam + " & " + fam2,  # Smith & Jones
                initial + ". " + fam + " " + industry,  # J. Smith Plumbing
            ],
            town + " " + industry,  # Leeds Plumbing
        )
    return core


def _legal_forms(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    form = np.zeros(len(country), np.int64)
    for c, idx in _by_country(country):
        weights = np.array(vocab.LEGAL_FORM_WEIGHTS[c])
        form[idx] = rng.choice(len(weights), len(idx), p=weights / weights.sum())
    return form


def generate(
    rng: np.random.Generator,
    first_id: int,
    n: int,
    rates: Rates,
    registry: Registry,
    company_registry: Registry,
) -> pl.DataFrame:
    """`n` customer entities with ids from `first_id`, their true attributes, and internal
    columns (prefixed `_`) the record stage needs."""
    country = rng.choice(np.array(vocab.COUNTRIES), n, p=np.array(vocab.COUNTRY_WEIGHTS))
    is_org = rng.random(n) < rates.organization_share
    gender = np.where(rng.random(n) < 0.5, "F", "M").astype(object)
    given, family = _names(rng, country, gender)
    maiden_draw = _names(rng, country, gender)[1]
    birth = _birth_days(rng, n)
    married = (
        ~is_org
        & (gender == "F")
        & (birth <= _days(dt.date(2001, 1, 1)))
        & (rng.random(n) < rates.married_share)
        & (maiden_draw != family)
    )
    address = _addresses(rng, country)
    old_address = _addresses(rng, country, np.where(rng.random(n) < 0.4, address["city_index"], -1))
    nsn, grouped = _phones(rng, country)
    email_pattern = rng.integers(0, 6, n)
    email_number = np.where(rng.random(n) < 0.55, rng.integers(1, 9999, n), -1)
    email_provider = np.empty(n, dtype=object)
    for c, idx in _by_country(country):
        domains, weights = zip(*vocab.EMAIL_PROVIDERS[c], strict=True)
        email_provider[idx] = rng.choice(np.array(domains, dtype=object), len(idx), p=weights)
    flat = _flats(rng, country, ~is_org)
    core = _organization_cores(rng, country)
    core = _unique_cores(rng, core, address["city"], is_org, company_registry)
    legal_form = _legal_forms(rng, country)
    has_the = (country == "GB") & (rng.random(n) < 0.2)
    org_local = rng.choice(np.array(vocab.ORG_EMAIL_LOCALS, dtype=object), n)
    tax_id = vat_numbers(rng, country).to_numpy()
    record_count = rng.choice(np.arange(1, 5), n, p=np.array(RECORD_COUNT_WEIGHTS))
    moved = (record_count >= 2) & (rng.random(n) < rates.moved)

    e = {
        "country": country,
        "is_org": is_org,
        "gender": gender,
        "given_name": given,
        "family_name": family,
        "maiden_name": np.where(married, maiden_draw, None),
        "birth_days": birth,
        "phone_nsn": nsn,
        "phone_grouped": grouped,
        "email_pattern": email_pattern,
        "email_number": email_number,
        "email_provider": email_provider,
        "core": core,
        "legal_form": legal_form,
        "has_the": has_the,
        "org_local": org_local,
        "flat": flat,
        "tax_id": tax_id,
        **address,
        **{f"old_{k}": v for k, v in old_address.items()},
    }
    hard = _plant_hard_negatives(rng, e, rates)
    lookalike = hard["kind"] == "lookalike_organization"
    e["core"] = _unique_cores(rng, e["core"], e["city"], lookalike, company_registry)
    frame = _derive(e, first_id, hard)
    frame = _unique_emails(frame, e, first_id, hard, registry)
    return frame.with_columns(_record_count=pl.Series(record_count), _moved=pl.Series(moved))


def _unique_cores(
    rng: np.random.Generator,
    core: np.ndarray,
    city: np.ndarray,
    claim: np.ndarray,
    registry: Registry,
) -> np.ndarray:
    """Company names unique in the run, as a companies register keeps them: a name already taken
    gets the town, then a brand word; rows not in `claim` are left alone."""
    core = core.copy()
    idx = np.flatnonzero(claim)
    brand = pools.brand_words().sample(rng, len(idx))
    has_town = np.array([t in c for c, t in zip(core[idx], city[idx], strict=True)], bool)
    for suffix in (np.where(has_town, brand, city[idx]), brand):
        clash = registry.clashes(pl.Series(core[idx], dtype=pl.String))
        core[idx[clash]] = core[idx[clash]] + " " + suffix[clash]
    registry.take(pl.Series(core[idx], dtype=pl.String))
    return core


def _unique_emails(
    frame: pl.DataFrame, e: dict, first_id: int, hard: dict, registry: Registry
) -> pl.DataFrame:
    """An address a provider already gave out gets a number only this entity has."""
    clash = registry.clashes(frame["email"])
    if clash.any():
        own = scramble(np.arange(first_id, first_id + len(clash)), 10**7, 7_654_321, 1_234_567)
        e["email_number"] = np.where(clash, 10**7 + own, e["email_number"])
        frame = _derive(e, first_id, hard)
    registry.take(frame["email"])
    return frame


def _partners(rng: np.random.Generator, candidates: np.ndarray, shares: list[float]):
    """Split `candidates` into disjoint partner sets of the given shares, plus the rest."""
    shuffled = rng.permutation(candidates)
    counts = [int(round(s * len(candidates))) for s in shares]
    sets, start = [], 0
    for k in counts:
        sets.append(shuffled[start : start + k])
        start += k
    return sets, shuffled[start:]


def _bases(rng: np.random.Generator, partners: np.ndarray, pool: np.ndarray, country: np.ndarray):
    """A base entity from `pool` of the same country for each partner (-1 where none)."""
    base = np.full(len(partners), -1, np.int64)
    for c in vocab.COUNTRIES:
        need = np.flatnonzero(country[partners] == c)
        have = pool[country[pool] == c]
        if len(need) and len(have):
            # each base gets one partner of a kind where it can: no father with two sons of
            # the same name, no triplets posing as twins
            base[need] = rng.choice(have, len(need), replace=len(need) > len(have))
    return base


def _plant_hard_negatives(rng: np.random.Generator, e: dict, rates: Rates) -> dict:
    """Overwrite partner entities so each looks like its base; returns kind/partner arrays."""
    n = len(e["country"])
    kind = np.full(n, None, dtype=object)
    partner = np.full(n, -1, np.int64)
    generation = np.full(n, None, dtype=object)
    persons = np.flatnonzero(~e["is_org"])
    orgs = np.flatnonzero(e["is_org"])
    (namesake, twin, jr_sr), person_pool = _partners(
        rng, persons, [rates.namesake, rates.twin, rates.jr_sr]
    )
    (lookalike,), org_pool = _partners(rng, orgs, [rates.lookalike_organization])
    male_pool = person_pool[e["gender"][person_pool] == "M"]
    address_keys = ["street_name", "street_type", "house_number", "city_index", "city", "postcode"]

    def link(p: np.ndarray, pool: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
        b = _bases(rng, p, pool, e["country"])
        p, b = p[b >= 0], b[b >= 0]
        kind[p] = name
        partner[p] = b
        return p, b

    p, b = link(namesake, person_pool, "namesake")
    for key in ("gender", "given_name", "family_name"):
        e[key][p] = e[key][b]
    same_town = rng.random(len(p)) < 0.5
    e["maiden_name"][p] = None
    e["flat"][p] = None
    moved_in = _addresses(rng, e["country"][p], np.where(same_town, e["city_index"][b], -1))
    for key in address_keys:
        e[key][p] = moved_in[key]
    e["birth_days"][p] = _differ(rng, e["birth_days"][b], 400, 9000)
    e["email_number"][p] = rng.integers(10, 9999, len(p))

    p, b = link(twin, person_pool, "twin")
    for key in ["family_name", "birth_days", "maiden_name", "flat", *address_keys]:
        e[key][p] = e[key][b]
    e["gender"][p] = np.where(rng.random(len(p)) < 0.5, e["gender"][b], _other(e["gender"][b]))
    e["given_name"][p] = _names(rng, e["country"][p], e["gender"][p])[0]
    clash = e["given_name"][p] == e["given_name"][b]
    while clash.any():
        e["given_name"][p[clash]] = _names(rng, e["country"][p[clash]], e["gender"][p[clash]])[0]
        clash = e["given_name"][p] == e["given_name"][b]
    e["maiden_name"][p] = np.where(e["gender"][p] == "F", e["maiden_name"][p], None)
    shared_line = rng.random(len(p)) < 0.5
    for key in ("phone_nsn", "phone_grouped"):
        e[key][p] = np.where(shared_line, e[key][b], e[key][p])

    p, b = link(jr_sr, male_pool, "jr_sr")
    for key in ["given_name", "family_name", "flat", *address_keys]:
        e[key][p] = e[key][b]
    e["gender"][p] = "M"
    e["maiden_name"][p] = None
    gap = rng.integers(20 * 365, 38 * 365, len(p))
    younger = e["birth_days"][b] + gap
    e["birth_days"][p] = np.where(
        younger <= _days(dt.date(2006, 12, 31)), younger, e["birth_days"][b] - gap
    )
    e["email_number"][p] = rng.integers(10, 9999, len(p))
    p_younger = e["birth_days"][p] > e["birth_days"][b]
    generation[p] = np.where(p_younger, "junior", "senior")
    generation[b] = np.where(p_younger, "senior", "junior")
    shared_line = rng.random(len(p)) < 0.3
    for key in ("phone_nsn", "phone_grouped"):
        e[key][p] = np.where(shared_line, e[key][b], e[key][p])

    p, b = link(lookalike, org_pool, "lookalike_organization")
    qualifier = np.empty(len(p), dtype=object)
    for c, idx in _by_country(e["country"][p]):
        qualifier[idx] = rng.choice(np.array(vocab.LOOKALIKE_QUALIFIERS[c], dtype=object), len(idx))
    e["core"][p] = e["core"][b] + " " + qualifier
    e["legal_form"][p] = np.where(rng.random(len(p)) < 0.7, e["legal_form"][b], e["legal_form"][p])
    e["has_the"][p] = e["has_the"][b]
    same_town = rng.random(len(p)) < 0.5
    moved_in = _addresses(rng, e["country"][p], np.where(same_town, e["city_index"][b], -1))
    for key in address_keys:
        e[key][p] = moved_in[key]
    return {"kind": kind, "partner": partner, "generation": generation}


def _other(gender: np.ndarray) -> np.ndarray:
    return np.where(gender == "F", "M", "F").astype(object)


def _differ(rng: np.random.Generator, days: np.ndarray, low: int, high: int) -> np.ndarray:
    """A different birth date, `low`..`high` days away, kept inside the adult range."""
    shift = rng.integers(low, high, len(days)) * np.where(rng.random(len(days)) < 0.5, -1, 1)
    moved = days + shift
    bad = (moved > _days(dt.date(2006, 12, 31))) | (moved < _days(dt.date(1931, 1, 1)))
    return np.where(bad, days - shift, moved)


def _ascii_lower(column: str) -> pl.Expr:
    """The letters and digits of a name as an email address or domain would hold them."""
    return strip_accents(pl.col(column)).str.to_lowercase().str.replace_all(r"[^a-z0-9]", "")


def _strings(name: str, values: np.ndarray) -> pl.Series:
    # polars cannot cast an object array holding None; a list it can
    return pl.Series(name, values.tolist(), dtype=pl.String)


def _derive(e: dict, first_id: int, hard: dict) -> pl.DataFrame:
    """Strings that depend on other attributes (emails, full names) and the truth columns."""
    n = len(e["country"])
    entity_id = np.arange(first_id, first_id + n, dtype=np.int64)
    partner_id = np.where(hard["partner"] >= 0, hard["partner"] + first_id, -1)
    legal = np.empty(n, dtype=object)
    for c, idx in _by_country(e["country"]):
        forms = np.array([f[0] for f in vocab.LEGAL_FORMS[c]], dtype=object)
        legal[idx] = forms[e["legal_form"][idx]]
    f = pl.DataFrame(
        {
            "entity_id": entity_id,
            "party_type": np.where(e["is_org"], "organization", "person"),
            "country": e["country"],
            **{k: _strings(k, v) for k, v in e.items() if v.dtype == object},
            **{k: v for k, v in e.items() if v.dtype != object and k != "country"},
            "legal_form_name": pl.Series(legal, dtype=pl.String),
            "hard_negative": _strings("hard_negative", hard["kind"]),
            "generation": _strings("generation", hard["generation"]),
            "partner_entity_id": partner_id,
        }
    )
    person = pl.col("party_type") == "person"
    g, fam = _ascii_lower("given_name"), _ascii_lower("family_name")
    number = (
        pl.when(pl.col("email_number") >= 0)
        .then(pl.col("email_number").cast(pl.String))
        .otherwise(pl.lit(""))
    )
    local = (
        pl.when(pl.col("email_pattern") == 0)
        .then(g + "." + fam)
        .when(pl.col("email_pattern") == 1)
        .then(g + fam)
        .when(pl.col("email_pattern") == 2)
        .then(g.str.slice(0, 1) + "." + fam)
        .when(pl.col("email_pattern") == 3)
        .then(g + "_" + fam)
        .when(pl.col("email_pattern") == 4)
        .then(fam + "." + g)
        .otherwise(g.str.slice(0, 1) + fam)
    ) + number
    org_full = (
        pl.when(pl.col("has_the")).then(pl.lit("The ")).otherwise(pl.lit(""))
        + pl.col("core")
        + " "
        + pl.col("legal_form_name")
    )
    tld = pl.col("country").replace_strict(vocab.ORG_EMAIL_TLD)
    org_email = pl.col("org_local") + "@" + _ascii_lower("core") + "." + tld
    plus = pl.lit("+")
    cc = pl.col("country").replace_strict(COUNTRY_CALLING_CODE)
    days = lambda c: pl.col(c).cast(pl.Int32).cast(pl.Date)  # noqa: E731
    return f.with_columns(
        organization_name=pl.when(person).then(None).otherwise(org_full),
        email=pl.when(person).then(local + "@" + pl.col("email_provider")).otherwise(org_email),
        phone=plus + cc + pl.col("phone_nsn"),
        birth_date=pl.when(person).then(days("birth_days")).otherwise(None),
        tax_id=pl.when(person).then(None).otherwise(pl.col("tax_id")),
        given_name=pl.when(person).then(pl.col("given_name")).otherwise(None),
        family_name=pl.when(person).then(pl.col("family_name")).otherwise(None),
        maiden_name=pl.when(person).then(pl.col("maiden_name")).otherwise(None),
        gender=pl.when(person).then(pl.col("gender")).otherwise(None),
    )
