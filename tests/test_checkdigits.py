"""Check digits: IBANs against Python's big-integer arithmetic, VAT numbers against
python-stdnum, number for number; real identifiers pass and one wrong digit fails."""

from __future__ import annotations

import re

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import checkdigits


@settings(max_examples=200, deadline=None)
@given(st.lists(st.from_regex(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{0,32}|[A-Z0-9]{0,36}", fullmatch=True),
                max_size=20))  # fmt: skip
def test_iban_check_is_mod_97_of_the_rearranged_number(values: list[str]) -> None:
    def reference(v: str) -> bool:  # Python's big integers, the ISO 13616 way
        if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", v):
            return False
        return int("".join(str(int(c, 36)) for c in v[4:] + v[:4])) % 97 == 1

    got = checkdigits.iban_valid(pl.Series(values, dtype=pl.String)).to_list()
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
    got = checkdigits.vat_valid(pl.Series(values, dtype=pl.String)).to_list()
    assert got == [checkdigits._vat_checks(v) if v[:2].isalpha() else None for v in values]


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
    got = checkdigits.vat_valid(pl.Series([*valid, *wrong, None, "123456789"])).to_list()
    assert got == [True] * len(valid) + [False] * len(wrong) + [None, None]
    modules = {"GB": gb, "DE": de, "FR": fr, "NL": nl}
    assert all(modules[v[:2]].is_valid(v) for v in valid)


def test_iban_check_accepts_real_ibans_and_rejects_one_wrong_digit() -> None:
    from stdnum import iban

    real = ["DE52120300000269017057", "GB78BARC21866423024297", "FR7630002584702224966897561",
            "NL93INGB9513558235"]  # fmt: skip
    typo = [v[:10] + str((int(v[10]) + 1) % 10) + v[11:] for v in real]
    got = checkdigits.iban_valid(pl.Series([*real, *typo, None])).to_list()
    assert got == [True] * 4 + [False] * 4 + [False]
    assert all(iban.is_valid(v) for v in real) and not any(iban.is_valid(v) for v in typo)
