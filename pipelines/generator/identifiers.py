"""Vectorised identifiers: source-system keys, VAT numbers and IBANs with valid check digits.

Keys are a bijective scramble of a per-system counter, so they are unique, look like the keys of
the system they stand for, and say nothing about which entity a record belongs to.
"""

from __future__ import annotations

import numpy as np
import polars as pl

_BASE62 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", np.uint8)


def scramble(counter: np.ndarray, modulus: int, multiplier: int, offset: int) -> np.ndarray:
    """A bijection of [0, modulus) when multiplier is coprime to modulus: unique, unordered."""
    c = counter.astype(object) if modulus > 2**31 else counter.astype(np.int64)
    return ((c * multiplier + offset) % modulus).astype(np.int64)


def digits(values: np.ndarray, width: int) -> pl.Series:
    """Zero-padded decimal strings of `values` (non-negative, < 10**width)."""
    return pl.Series(values, dtype=pl.Int64).cast(pl.String).str.zfill(width)


def base62(values: np.ndarray, width: int) -> pl.Series:
    """Fixed-width base-62 strings, as Salesforce-like CRM IDs use."""
    out = np.empty((len(values), width), np.uint8)
    v = values.astype(np.int64).copy()
    for i in range(width - 1, -1, -1):
        out[:, i] = _BASE62[v % 62]
        v //= 62
    return pl.Series(out.view(f"S{width}").ravel()).cast(pl.String)


def _digit_matrix(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    return rng.integers(0, 10, size=(n, width), dtype=np.int64)


def _join_digits(m: np.ndarray) -> pl.Series:
    return pl.Series((m.astype(np.uint8) + ord("0")).view(f"S{m.shape[1]}").ravel()).cast(pl.String)


def _mod97(m: np.ndarray) -> np.ndarray:
    """Remainder mod 97 of the decimal numbers whose digits are the rows of `m`."""
    r = np.zeros(len(m), np.int64)
    for j in range(m.shape[1]):
        r = (r * 10 + m[:, j]) % 97
    return r


def vat_numbers(rng: np.random.Generator, countries: np.ndarray) -> pl.Series:
    """A valid EU/UK VAT number per row, for its country (GB, DE, FR, NL)."""
    n = len(countries)
    out = np.empty(n, dtype=object)
    for country, make in (("GB", _vat_gb), ("DE", _vat_de), ("FR", _vat_fr), ("NL", _vat_nl)):
        idx = np.flatnonzero(countries == country)
        if len(idx):
            out[idx] = make(rng, len(idx)).to_numpy()
    return pl.Series(out, dtype=pl.String)


def _vat_gb(rng: np.random.Generator, n: int) -> pl.Series:
    # 7 digits weighted 8..2 plus a two-digit check making the sum divisible by 97
    m = _digit_matrix(rng, n, 9)
    m[:, 0] = rng.integers(1, 10, n)
    total = (m[:, :7] * np.arange(8, 1, -1)).sum(axis=1)
    check = (-total) % 97
    m[:, 7], m[:, 8] = check // 10, check % 10
    return "GB" + _join_digits(m)


def _vat_de(rng: np.random.Generator, n: int) -> pl.Series:
    # ISO 7064 MOD 11,10 over 8 digits
    m = _digit_matrix(rng, n, 9)
    m[:, 0] = rng.integers(1, 10, n)
    p = np.full(n, 10, np.int64)
    for j in range(8):
        s = (m[:, j] + p) % 10
        s[s == 0] = 10
        p = (2 * s) % 11
    m[:, 8] = (11 - p) % 10
    return "DE" + _join_digits(m)


def _vat_fr(rng: np.random.Generator, n: int) -> pl.Series:
    # SIREN with a Luhn check digit, prefixed by the key (12 + 3 * (SIREN mod 97)) mod 97
    m = _digit_matrix(rng, n, 9)
    m[:, 0] = rng.integers(3, 9, n)
    total = np.zeros(n, np.int64)
    for j in range(8):
        d = m[:, j] * (2 if j % 2 == 1 else 1)
        total += d // 10 + d % 10
    m[:, 8] = (10 - total % 10) % 10
    key = (12 + 3 * _mod97(m)) % 97
    return "FR" + digits(key, 2) + _join_digits(m)


def _vat_nl(rng: np.random.Generator, n: int) -> pl.Series:
    # eight digits weighted 9..2, check digit = sum mod 11 (redrawn where that is 10), then B01..B99
    m = _digit_matrix(rng, n, 9)
    todo = np.arange(n)
    while len(todo):
        m[todo, :8] = _digit_matrix(rng, len(todo), 8)
        check = (m[todo, :8] * np.arange(9, 1, -1)).sum(axis=1) % 11
        m[todo, 8] = check % 10
        todo = todo[check == 10]
    branch = rng.integers(1, 100, n)
    return "NL" + _join_digits(m) + "B" + digits(branch, 2)


_IBAN_BANKS = {
    # country: (bank identifiers, national part layout after the bank identifier)
    "GB": ("NWBK", "BARC", "LOYD", "HBUK", "MIDL"),
    "DE": ("10070000", "37040044", "50010517", "43060967", "12030000"),
    "FR": ("30004", "30003", "20041", "10278", "30002"),
    "NL": ("INGB", "ABNA", "RABO", "SNSB", "TRIO"),
}


def _letters_to_digits(s: str) -> list[int]:
    out: list[int] = []
    for ch in s:
        out.extend(int(c) for c in (ch if ch.isdigit() else str(ord(ch) - 55)))
    return out


def ibans(rng: np.random.Generator, countries: np.ndarray) -> pl.Series:
    """A valid IBAN (ISO 13616 mod-97 check digits) per row, for its country."""
    n = len(countries)
    out = np.empty(n, dtype=object)
    for country, banks in _IBAN_BANKS.items():
        idx = np.flatnonzero(countries == country)
        if not len(idx):
            continue
        k = len(idx)
        bank = rng.integers(0, len(banks), k)
        if country == "GB":  # bank(4) sort code(6) account(8)
            national = _digit_matrix(rng, k, 14)
        elif country == "DE":  # BLZ(8) account(10)
            national = _digit_matrix(rng, k, 10)
        elif country == "FR":  # bank(5) branch(5) account(11) RIB key(2)
            national = _digit_matrix(rng, k, 18)
        else:  # NL bank(4) account(10)
            national = _digit_matrix(rng, k, 10)
        bban_parts = []
        for b in range(len(banks)):
            sel = bank == b
            if not sel.any():
                continue
            bank_digits = np.array(_letters_to_digits(banks[b]), np.int64)
            if country == "FR":
                nat = national[sel]
                branch = nat[:, :5] @ (10 ** np.arange(4, -1, -1))
                account = nat[:, 5:16] @ (10 ** np.arange(10, -1, -1))
                rib = 97 - (89 * int(banks[b]) + 15 * branch + 3 * account) % 97
                nat[:, 16], nat[:, 17] = rib // 10, rib % 10
                national[sel] = nat
            # mod 97 of bban + country letters + "00", then check = 98 - remainder
            tail = np.array(_letters_to_digits(country) + [0, 0], np.int64)
            whole = np.hstack(
                [np.tile(bank_digits, (sel.sum(), 1)), national[sel], np.tile(tail, (sel.sum(), 1))]
            )
            check = 98 - _mod97(whole)
            bban_parts.append((np.flatnonzero(sel), banks[b], check, national[sel]))
        for rows, bank_code, check, nat in bban_parts:
            out[idx[rows]] = (country + digits(check, 2) + bank_code + _join_digits(nat)).to_numpy()
    return pl.Series(out, dtype=pl.String)
