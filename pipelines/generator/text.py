"""Vectorised text corruptions as Polars expressions: typos, accent loss, case."""

from __future__ import annotations

import numpy as np
import polars as pl

LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz"))

# Letters that accent folding cannot reach by Unicode decomposition alone.
_SPECIAL_FOLDS = {
    "ß": "ss", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
    "ı": "i", "İ": "I", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D",
}  # fmt: skip
# German transliteration writes the umlaut as a following "e" instead of dropping it.
_GERMAN_TRANSLITERATION = {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"}


def strip_accents(col: pl.Expr) -> pl.Expr:
    """Drop diacritics as legacy systems do: "Müller" -> "Muller", "Straße" -> "Strasse"."""
    out = col.str.normalize("NFKD").str.replace_all(r"\p{M}", "")
    return out.str.replace_many(list(_SPECIAL_FOLDS), list(_SPECIAL_FOLDS.values()))


def transliterate_german(col: pl.Expr) -> pl.Expr:
    """Write umlauts the ASCII way German systems do: "Müller" -> "Mueller"."""
    replaced = col.str.replace_many(
        list(_GERMAN_TRANSLITERATION), list(_GERMAN_TRANSLITERATION.values())
    )
    return strip_accents(replaced)


def typo(
    col: pl.Expr, kind: pl.Expr, position: pl.Expr, letter: pl.Expr, other_letter: pl.Expr
) -> pl.Expr:
    """One keyboard edit of `col`: 0 substitute, 1 insert, 2 delete, 3 swap two neighbours.

    `position` is uniform in [0, 1); `letter` and `other_letter` are distinct lowercase letters.
    The edit always changes the text: a substitution never writes the letter already there and a
    swap of two equal letters becomes a deletion, so "one edit" is exactly what a reader can
    measure. Texts shorter than two characters are left alone.
    """
    n = col.str.len_chars().cast(pl.Int64)
    at = (position * n).floor().cast(pl.Int64)  # any character
    pair = (position * (n - 1)).floor().cast(pl.Int64)  # the first of two neighbours
    here = col.str.slice(at, 1)
    upper = here != here.str.to_lowercase()
    new = pl.when(here.str.to_lowercase() == letter).then(other_letter).otherwise(letter)
    new = pl.when(upper).then(new.str.to_uppercase()).otherwise(new)
    head, tail = col.str.slice(0, at), col.str.slice(at + 1)
    first, second = col.str.slice(pair, 1), col.str.slice(pair + 1, 1)
    deleted = head + tail
    swapped = col.str.slice(0, pair) + second + first + col.str.slice(pair + 2)
    edited = (
        pl.when(kind == 0)
        .then(head + new + tail)
        .when(kind == 1)
        .then(head + new + col.str.slice(at))
        .when((kind == 2) | (first == second))
        .then(deleted)
        .otherwise(swapped)
    )
    return pl.when(n >= 2).then(edited).otherwise(col)


def typo_columns(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Random draws for `typo` over n rows, as columns to add to a frame."""
    first = rng.integers(0, 26, n)
    second = (first + rng.integers(1, 26, n)) % 26
    return {
        "_typo_kind": rng.integers(0, 4, n).astype(np.int8),
        "_typo_pos": rng.random(n),
        "_typo_letter": LETTERS[first],
        "_typo_other": LETTERS[second],
    }


def apply_typo(col: str) -> pl.Expr:
    """`typo` of column `col` using the columns from `typo_columns`."""
    return typo(
        pl.col(col),
        pl.col("_typo_kind"),
        pl.col("_typo_pos"),
        pl.col("_typo_letter"),
        pl.col("_typo_other"),
    )
