"""Properties of the generator's vocabularies (pipelines/generator/vocab.py)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator

import pytest

from pipelines.generator import vocab

COUNTRIES = ("GB", "DE", "FR", "NL")
GENDERS = ("F", "M")
LOADERS = (vocab.family_names, vocab.cities, vocab.street_names)


def _all_given_names() -> set[str]:
    return {n for c in COUNTRIES for g in GENDERS for n in vocab.given_names(c, g)}


def _country_given_names(country: str) -> set[str]:
    return set(vocab.given_names(country, "F")) | set(vocab.given_names(country, "M"))


def _is_subsequence(short: str, full: str) -> bool:
    """True if the letters of `short` occur in `full` in order (how abbreviations are made)."""
    letters = iter(full)
    return all(ch in letters for ch in short)


def _vocab_tuples() -> Iterator[tuple[str, tuple]]:
    """Every tuple of values the module exposes, labelled, for the no-duplicates check."""
    for c in COUNTRIES:
        for g in GENDERS:
            yield f"given_names({c},{g})", vocab.given_names(c, g)
        for loader in LOADERS:
            yield f"{loader.__name__}({c})", loader(c)
        yield f"STREET_TYPES[{c}] full", tuple(t[0] for t in vocab.STREET_TYPES[c])
        yield f"STREET_TYPES[{c}] abbreviated", tuple(t[1] for t in vocab.STREET_TYPES[c])
        yield f"LEGAL_FORMS[{c}] canonical", tuple(f[0] for f in vocab.LEGAL_FORMS[c])
        for form in vocab.LEGAL_FORMS[c]:
            yield f"LEGAL_FORMS[{c}] {form[0]}", form
        yield f"INDUSTRY_WORDS[{c}]", vocab.INDUSTRY_WORDS[c]
        yield f"LOOKALIKE_QUALIFIERS[{c}]", vocab.LOOKALIKE_QUALIFIERS[c]
        yield f"EMAIL_PROVIDERS[{c}] domains", tuple(d for d, _ in vocab.EMAIL_PROVIDERS[c])
        yield f"COUNTRY_NAMES[{c}]", vocab.COUNTRY_NAMES[c]
        for g in GENDERS:
            yield f"SALUTATIONS[{c}][{g}]", vocab.SALUTATIONS[c][g]
    for name, nicks in vocab.NICKNAMES.items():
        yield f"NICKNAMES[{name}]", nicks
    for key, values in vocab.GENERATION_SUFFIXES.items():
        yield f"GENERATION_SUFFIXES[{key}]", values
    for key, values in vocab.JUNK.items():
        yield f"JUNK[{key}]", values
    for key, values in vocab.ACCOUNT_LABELS.items():
        yield f"ACCOUNT_LABELS[{key}]", values
    yield "BRAND_WORDS", vocab.BRAND_WORDS
    yield "ORG_EMAIL_LOCALS", vocab.ORG_EMAIL_LOCALS
    yield "PRODUCTS codes", tuple(p[0] for p in vocab.PRODUCTS)
    yield "PRODUCTS descriptions", tuple(p[1] for p in vocab.PRODUCTS)
    yield "PRODUCTS short descriptions", tuple(p[2] for p in vocab.PRODUCTS)
    for p in vocab.PRODUCTS:
        yield f"PRODUCTS {p[0]} terms", p[5]


EXPORTED = (
    "COUNTRIES", "COUNTRY_WEIGHTS", "COUNTRY_NAMES", "CURRENCY", "given_names", "family_names",
    "cities", "street_names", "STREET_TYPES", "NICKNAMES", "LEGAL_FORMS", "LEGAL_FORM_WEIGHTS",
    "INDUSTRY_WORDS", "BRAND_WORDS", "LOOKALIKE_QUALIFIERS", "ORG_EMAIL_LOCALS",
    "EMAIL_PROVIDERS", "ORG_EMAIL_TLD", "SALUTATIONS", "GENERATION_SUFFIXES", "JUNK",
    "ACCOUNT_LABELS", "PRODUCTS", "HERITAGE_LOCALES", "heritage_given_names",
    "heritage_family_names",
)  # fmt: skip


def test_module_exports_the_documented_names() -> None:
    public = {
        name
        for name, value in vars(vocab).items()
        if not name.startswith("_")
        and getattr(value, "__module__", vocab.__name__) == vocab.__name__
        and not isinstance(value, type(vocab))
    }
    assert public - {"annotations"} == set(EXPORTED)


def test_countries_and_weights() -> None:
    assert vocab.COUNTRIES == COUNTRIES
    assert len(vocab.COUNTRY_WEIGHTS) == len(COUNTRIES)
    assert math.isclose(sum(vocab.COUNTRY_WEIGHTS), 1.0)
    assert all(w > 0 for w in vocab.COUNTRY_WEIGHTS)


@pytest.mark.parametrize(
    "mapping",
    [
        vocab.COUNTRY_NAMES,
        vocab.CURRENCY,
        vocab.STREET_TYPES,
        vocab.LEGAL_FORMS,
        vocab.LEGAL_FORM_WEIGHTS,
        vocab.INDUSTRY_WORDS,
        vocab.LOOKALIKE_QUALIFIERS,
        vocab.EMAIL_PROVIDERS,
        vocab.ORG_EMAIL_TLD,
        vocab.SALUTATIONS,
    ],
)
def test_per_country_mappings_cover_exactly_the_countries(mapping: dict) -> None:
    assert tuple(mapping) == COUNTRIES


def test_country_names_and_currency() -> None:
    assert vocab.COUNTRY_NAMES["GB"][0] == "United Kingdom"
    assert vocab.COUNTRY_NAMES["DE"][0] == "Germany"
    assert vocab.COUNTRY_NAMES["FR"][0] == "France"
    assert vocab.COUNTRY_NAMES["NL"][0] == "Netherlands"
    for names in vocab.COUNTRY_NAMES.values():
        assert 2 <= len(names) - 1 <= 4
    assert vocab.CURRENCY == {"GB": "GBP", "DE": "EUR", "FR": "EUR", "NL": "EUR"}


@pytest.mark.parametrize("country", COUNTRIES)
@pytest.mark.parametrize("gender", GENDERS)
def test_given_names(country: str, gender: str) -> None:
    names = vocab.given_names(country, gender)
    assert len(names) >= 80
    other = "M" if gender == "F" else "F"
    assert not set(names) & set(vocab.given_names(country, other))
    for name in names:
        assert len(name) >= 2
        assert not any(ch.isspace() for ch in name), name
        assert all(part.isalpha() for part in name.split("-")), name


def test_given_names_keep_hyphenated_and_drop_ambiguous_and_abbreviated() -> None:
    de_male = vocab.given_names("DE", "M")
    assert "Karl-Heinz" in de_male  # hyphenated double names are one token
    assert "Hans Peter" not in de_male and "Hans-J." not in de_male
    # Faker's nl_NL lists these under both genders
    nl = _country_given_names("NL")
    assert not {"Robin", "Sam", "Senna"} & nl


def test_given_names_rejects_unknown_inputs() -> None:
    with pytest.raises(ValueError):
        vocab.given_names("US", "F")
    with pytest.raises(ValueError):
        vocab.given_names("GB", "X")


@pytest.mark.parametrize("country", COUNTRIES)
def test_family_names(country: str) -> None:
    names = vocab.family_names(country)
    assert len(names) >= 300
    for name in names:
        assert len(name) >= 2
        assert name == name.strip()
        assert "," not in name and "." not in name, name
        assert name.split()[-1] not in {"II", "III"}, name


def test_family_names_keep_dutch_particles() -> None:
    assert any(n.startswith("van ") for n in vocab.family_names("NL"))
    assert "The Elder" not in vocab.family_names("NL")


@pytest.mark.parametrize("country", COUNTRIES)
def test_cities_and_street_names(country: str) -> None:
    assert len(set(vocab.cities(country))) >= 120
    assert len(set(vocab.street_names(country))) >= 120
    for value in vocab.cities(country) + vocab.street_names(country):
        assert value and value == value.strip()
    # a digit in a street base would read as a house number ("1e Exloërmond" is a real village)
    for value in vocab.street_names(country):
        assert not any(ch.isdigit() for ch in value), value


def test_curated_cities_keep_accents() -> None:
    assert "Orléans" in vocab.cities("FR")
    assert "Manchester" in vocab.cities("GB")
    assert any(any(ch in "äöüß" for ch in s) for s in vocab.street_names("DE"))
    assert any(any(ch in "éèêàâçîôû" for ch in s) for s in vocab.street_names("FR"))


@pytest.mark.parametrize("country", COUNTRIES)
def test_street_types(country: str) -> None:
    types = vocab.STREET_TYPES[country]
    expected = {"GB": "suffix", "DE": "compound", "FR": "prefix", "NL": "compound"}[country]
    assert 1 <= len(types) <= 10
    for full, short, position in types:
        assert position in {"suffix", "compound", "prefix"}
        assert position == expected
        assert short != full
        assert _is_subsequence(short.rstrip(".").casefold(), full.casefold()), (short, full)
        assert not any(ch.isspace() for ch in full + short)
    full_types = {t[0].casefold() for t in types}
    # a base that is itself a type would produce "Church Street Road"-like lines
    for base in vocab.street_names(country):
        assert base.casefold() not in full_types, base


def test_street_type_counts() -> None:
    for country in ("GB", "FR", "NL"):
        assert 6 <= len(vocab.STREET_TYPES[country]) <= 10
    # German has few real abbreviations; at least these
    assert {("straße", "str."), ("platz", "pl.")} <= {t[:2] for t in vocab.STREET_TYPES["DE"]}


def test_nicknames() -> None:
    assert len(vocab.NICKNAMES) >= 150
    known = _all_given_names()
    for name, nicks in vocab.NICKNAMES.items():
        assert name in known, f"{name} is not in any country's given_names()"
        assert nicks, name
        for nick in nicks:
            assert nick.casefold() != name.casefold(), name
            assert not any(ch.isspace() for ch in nick), nick
            assert nick[0].isupper() and nick.replace("-", "").isalpha(), nick


@pytest.mark.parametrize("country", COUNTRIES)
def test_nicknames_cover_every_country(country: str) -> None:
    names = _country_given_names(country)
    assert sum(key in names for key in vocab.NICKNAMES) >= 40


def test_nickname_examples() -> None:
    assert {"Bill", "Will"} <= set(vocab.NICKNAMES["William"])
    assert "Bob" in vocab.NICKNAMES["Robert"]
    assert "Fritz" in vocab.NICKNAMES["Friedrich"]
    assert "Kees" in vocab.NICKNAMES["Cornelis"]
    assert "Fred" in vocab.NICKNAMES["Frédéric"]


@pytest.mark.parametrize("country", COUNTRIES)
def test_legal_forms(country: str) -> None:
    forms = vocab.LEGAL_FORMS[country]
    weights = vocab.LEGAL_FORM_WEIGHTS[country]
    assert len(forms) == len(weights) >= 2
    assert all(len(form) >= 2 for form in forms)
    assert math.isclose(sum(weights), 1.0)
    assert all(w > 0 for w in weights)
    assert list(weights) == sorted(weights, reverse=True)  # most common first


def test_legal_form_examples() -> None:
    assert vocab.LEGAL_FORMS["GB"][0][:2] == ("Ltd", "Limited")
    assert vocab.LEGAL_FORMS["DE"][0][0] == "GmbH"
    assert "B.V." in {f[0] for f in vocab.LEGAL_FORMS["NL"]}
    assert "SARL" in {f[0] for f in vocab.LEGAL_FORMS["FR"]}


@pytest.mark.parametrize("country", COUNTRIES)
def test_company_words(country: str) -> None:
    industry = vocab.INDUSTRY_WORDS[country]
    qualifiers = vocab.LOOKALIKE_QUALIFIERS[country]
    assert len(industry) >= 40
    assert len(qualifiers) >= 10
    assert not set(industry) & set(qualifiers)


def test_brand_words() -> None:
    assert len(vocab.BRAND_WORDS) >= 120
    for word in vocab.BRAND_WORDS:
        assert word.isalpha() and word[0].isupper(), word
    assert not set(vocab.BRAND_WORDS) & _all_given_names()


@pytest.mark.parametrize("country", COUNTRIES)
def test_email_providers(country: str) -> None:
    providers = vocab.EMAIL_PROVIDERS[country]
    domains = [d for d, _ in providers]
    assert "gmail.com" in domains
    assert math.isclose(sum(w for _, w in providers), 1.0)
    assert all(w > 0 for _, w in providers)
    assert all("." in d and d == d.lower() and "@" not in d for d in domains)


def test_org_email() -> None:
    assert vocab.ORG_EMAIL_TLD == {"GB": "co.uk", "DE": "de", "FR": "fr", "NL": "nl"}
    assert {"info", "contact", "accounts"} <= set(vocab.ORG_EMAIL_LOCALS)
    assert all(local.isalpha() and local == local.lower() for local in vocab.ORG_EMAIL_LOCALS)


def test_salutations_and_suffixes() -> None:
    for country in COUNTRIES:
        assert set(vocab.SALUTATIONS[country]) == set(GENDERS)
        assert all(vocab.SALUTATIONS[country][g] for g in GENDERS)
    assert vocab.SALUTATIONS["GB"]["M"] == ("Mr",)
    assert vocab.SALUTATIONS["DE"]["F"] == ("Frau",)
    assert set(vocab.GENERATION_SUFFIXES) == {"junior", "senior"}


def test_junk() -> None:
    assert set(vocab.JUNK) == {"text", "email", "phone", "postcode", "birth_date"}
    for value in vocab.JUNK["birth_date"]:
        assert dt.date.fromisoformat(value).year <= 1901
    assert all("@" in v for v in vocab.JUNK["email"] if v != "n/a")


def test_account_labels() -> None:
    assert set(vocab.ACCOUNT_LABELS) == {"person", "organization"}
    assert all(len(labels) >= 8 for labels in vocab.ACCOUNT_LABELS.values())


def test_products() -> None:
    assert len(vocab.PRODUCTS) >= 16
    for code, description, short, low, high, terms in vocab.PRODUCTS:
        assert code and description and short
        assert 0 < low < high, code
        assert terms and all(t >= 0 for t in terms), code
    assert any(p[0].startswith(("EL-BIZ", "GAS-BIZ")) for p in vocab.PRODUCTS)


def test_no_vocabulary_tuple_has_duplicates() -> None:
    checked = 0
    for label, values in _vocab_tuples():
        assert isinstance(values, tuple), label
        duplicates = sorted({v for v in values if values.count(v) > 1})
        assert not duplicates, f"{label}: {duplicates}"
        checked += 1
    assert checked > 100


def test_loaders_are_deterministic() -> None:
    for country in COUNTRIES:
        for loader in LOADERS:
            first = loader(country)
            loader.cache_clear()
            assert loader(country) == first
        for gender in GENDERS:
            first = vocab.given_names(country, gender)
            vocab.given_names.cache_clear()
            assert vocab.given_names(country, gender) == first


def test_heritage_names_widen_the_name_space() -> None:
    given = {n for loc in vocab.HERITAGE_LOCALES for g in "FM"
             for n in vocab.heritage_given_names(loc, g)}  # fmt: skip
    families = {n for loc in vocab.HERITAGE_LOCALES for n in vocab.heritage_family_names(loc)}
    assert len(given) > 3000 and len(families) > 5000
    assert all(" " not in n for n in given)
    assert "Yılmaz" in vocab.heritage_family_names("tr_TR")  # letters accent folding must reach
    with pytest.raises(ValueError, match="heritage locale"):
        vocab.heritage_family_names("xx_XX")
