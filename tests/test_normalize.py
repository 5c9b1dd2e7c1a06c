"""Normalisers: hand-checked examples, and idempotence as a property."""

from __future__ import annotations

import re

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import normalize as norm


def _apply(expr_fn, values: list[str | None]) -> list[str | None]:
    return (
        pl.DataFrame({"v": values}, schema={"v": pl.String})
        .select(expr_fn(pl.col("v")).alias("v"))["v"]
        .to_list()
    )


def test_person_names_fold_accents_case_punctuation_and_generation() -> None:
    names = ["Müller Jr.", " n/a ", "O'Brien-Smith", "Yılmaz", "ØRSTED"]
    assert _apply(norm.person_name, names) == [
        "muller", None, "o brien smith", "yilmaz", "orsted",
    ]  # fmt: skip
    assert _apply(norm.generation, ["John Smith Jr", "Smith SENIOR", "Juniper", "Henry II"]) == [
        "junior", "senior", None, "junior",
    ]  # fmt: skip


def test_emails_follow_provider_rules_and_drop_placeholders() -> None:
    got = _apply(norm.email, [
        "John.Smith+shop@GoogleMail.com", "j.smith@web.de", "n/a", "x@x.com", "no-at-sign",
        "Anne.Marie+tag@outlook.com",
    ])  # fmt: skip
    assert got == [
        "johnsmith@gmail.com", "j.smith@web.de", None, None, None, "anne.marie@outlook.com",
    ]  # fmt: skip


def test_phones_become_e164_from_every_written_form() -> None:
    frame = pl.DataFrame({
        "phone": ["+44 20 7946 0958", "020 7946 0958", "0044 2079460958", "(020) 7946-0958",
                  "06 12 34 56 78", "0000000000", "12345", None],
        "country": ["GB", "GB", "GB", "GB", "FR", "GB", "GB", "GB"],
    })  # fmt: skip
    codes = norm.calling_codes(["GB", "FR"])
    got = frame.select(norm.phone(pl.col("phone"), pl.col("country"), codes).alias("p"))["p"]
    assert got.to_list() == [
        "+442079460958", "+442079460958", "+442079460958", "+442079460958", "+33612345678",
        None, None, None,
    ]  # fmt: skip


def test_countries_postcodes_and_addresses() -> None:
    assert _apply(norm.country, ["GB", "United Kingdom", "UK", "Deutschland", "Atlantis"]) == [
        "GB", "GB", "GB", "DE", None,
    ]  # fmt: skip
    assert _apply(norm.postcode, ["gu14 1al", "00000", "2704 CJ", "n/a"]) == [
        "GU141AL", None, "2704CJ", None,
    ]  # fmt: skip
    assert _apply(norm.address_line, [
        "12 High St", "Goethestr. 12", "Flat 3, 12 High Street", "R. de la Paix 4", "unknown",
    ]) == [
        "12 high street", "goethestrasse 12", "12 high street", "rue de la paix 4", None,
    ]  # fmt: skip


def test_organisation_names_lose_legal_form_the_and_punctuation() -> None:
    names = pl.Series([
        "The Acme Ltd.", "Schmidt GmbH & Co. KG",
        "Müller Bau Gesellschaft mit beschränkter Haftung",
        "Köhler Optik UG (haftungsbeschränkt)", None, "n/a", "Perret & Blondel S.A.R.L.",
        "SMITH & JONES LIMITED", "Bedrock BV", "Bedrock Besloten Vennootschap",
    ])  # fmt: skip
    assert norm.organization_name(names).to_list() == [
        "acme", "schmidt", "muller bau", "kohler optik", None, None, "perret blondel",
        "smith jones", "bedrock", "bedrock",
    ]  # fmt: skip


def test_transliteration_reaches_scripts_accent_folding_cannot() -> None:
    assert norm.transliterate(pl.Series(["Смирнов", "Müller", None])).to_list() == [
        "smirnov", "muller", None,
    ]  # fmt: skip


text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@settings(max_examples=60, deadline=None)
@given(st.lists(text, min_size=1, max_size=5))
def test_normalisers_are_idempotent(values: list[str]) -> None:
    for fn in (norm.person_name, norm.email, norm.postcode, norm.address_line):
        once = _apply(fn, values)
        assert _apply(fn, once) == once, fn.__name__
    once = norm.organization_name(pl.Series(values, dtype=pl.String))
    assert norm.organization_name(once).to_list() == once.to_list()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.from_regex(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{0,32}|[A-Z0-9]{0,36}", fullmatch=True),
                max_size=20))  # fmt: skip
def test_iban_check_is_mod_97_of_the_rearranged_number(values: list[str]) -> None:
    def reference(v: str) -> bool:  # Python's big integers, the ISO 13616 way
        if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", v):
            return False
        return int("".join(str(int(c, 36)) for c in v[4:] + v[:4])) % 97 == 1

    got = norm.iban_valid(pl.Series(values, dtype=pl.String)).to_list()
    assert got == [reference(v) for v in values]


_VAT = (
    r"(GB|XI|DE|FR|NL)[0-9]{9}|GB[0-9]{12}|(GB|FR|NL)[0-9A-Z]{1,13}|FR[0-9]{11}"
    r"|NL[0-9]{9}B[0-9]{2}|(BE|AT|ES|IT|XX)[0-9A-Z]{8,12}|[0-9]{9,11}|[a-zÄéΩ]{2}[0-9]{3}"
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.from_regex(_VAT, fullmatch=True), max_size=30))
def test_vat_check_digits_are_stdnum_s(values: list[str]) -> None:
    """The array checks of GB, DE, FR and NL numbers say what python-stdnum says, number for
    number; other shapes and countries are stdnum's own answer."""
    got = norm.vat_valid(pl.Series(values, dtype=pl.String)).to_list()
    assert got == [norm._vat_checks(v) if v[:2].isalpha() else None for v in values]


def test_vat_check_accepts_valid_numbers_of_each_array_scheme() -> None:
    from stdnum.de import vat as de
    from stdnum.fr import tva as fr
    from stdnum.gb import vat as gb
    from stdnum.nl import btw as nl

    # GB restarted at 100 000 000 (55), a Monaco FR number (000), NL by BSN and by mod 97
    valid = ["GB980780684", "GB100000034", "DE136695976", "FR40303265045", "FR34000123456",
             "NL004495445B01", "NL000099998B57"]  # fmt: skip
    wrong = [v[:-1] + str((int(v[-1]) + 1) % 10) for v in valid[:5]]
    wrong += ["NL004495446B01", "NL000099999B57"]  # a BSN digit: the suffix does not count
    got = norm.vat_valid(pl.Series([*valid, *wrong, None, "123456789"])).to_list()
    assert got == [True] * len(valid) + [False] * len(wrong) + [None, None]
    modules = {"GB": gb, "DE": de, "FR": fr, "NL": nl}
    assert all(modules[v[:2]].is_valid(v) for v in valid)


def test_iban_check_accepts_real_ibans_and_rejects_one_wrong_digit() -> None:
    from stdnum import iban

    real = ["DE52120300000269017057", "GB78BARC21866423024297", "FR7630002584702224966897561",
            "NL93INGB9513558235"]  # fmt: skip
    typo = [v[:10] + str((int(v[10]) + 1) % 10) + v[11:] for v in real]
    got = norm.iban_valid(pl.Series([*real, *typo, None])).to_list()
    assert got == [True] * 4 + [False] * 4 + [False]
    assert all(iban.is_valid(v) for v in real) and not any(iban.is_valid(v) for v in typo)
