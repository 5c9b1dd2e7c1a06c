"""Comparisons: for each candidate pair and field, an agreement *level* (Fellegi-Sunter).

Levels run from 0 (disagree) up to the best agreement; -1 means a side is null (no evidence).
Similarities are computed column-wise with `rapidfuzz.process.cpdist` over whole batches of
pairs; exact agreement is a vectorised equality. Each comparison documents its levels:

    given:  -1 null | 0 else | 1 Jaro-Winkler >= 0.75 or an initial | 2 a nickname of the
            other (Bill, William) | 3 JW >= 0.88 | 4 exact
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, JaroWinkler

from . import checkdigits
from . import normalize as norm
from .sides import Sides

NULL = -1
_FAR_DAYS = 730  # birth dates further apart than this, without a typo, are two people


@dataclass(frozen=True)
class Comparison:
    """A compared field and its agreement levels (0 upwards). `m_prior`/`u_prior`, where
    given, are what the level shares are believed to be among matches and non-matches before
    any data is seen; estimation adds them as pseudo-counts, so a small source cannot make
    the model unlearn that a different IBAN speaks against a match (`score.PRIOR_PAIRS`)."""

    name: str
    levels: tuple[str, ...]  # level names from 0 upwards
    m_prior: tuple[float, ...] | None = None
    u_prior: tuple[float, ...] | None = None


PERSON = (
    Comparison("name_given", ("else", "similar", "nickname", "close", "exact")),
    Comparison("name_family", ("else", "similar", "close", "exact")),
    # "far": years apart and no typo explains it (a father and son), "different" otherwise
    Comparison("birth_date", ("far", "different", "typo", "exact")),
    Comparison("generation", ("different", "same")),
    Comparison("tax_id", ("different", "typo", "exact")),  # national or tax ID, where held
    Comparison("email", ("different", "typo", "exact")),
    Comparison("phone", ("different", "exact")),
    Comparison("postcode", ("different", "area", "exact")),
    Comparison("address", ("different", "similar", "close", "exact")),
    Comparison("city", ("different", "similar", "same")),
)
ORGANIZATION = (
    Comparison("organization", ("else", "similar", "close", "exact")),
    # "different": both numbers pass their check digits (two registered companies); "unchecked":
    # one fails (a typo) or has no known check
    Comparison("tax_id", ("different", "unchecked", "exact")),
    Comparison("email", ("different", "typo", "exact")),
    Comparison("phone", ("different", "exact")),
    Comparison("postcode", ("different", "area", "exact")),
    Comparison("address", ("different", "similar", "close", "exact")),
    Comparison("city", ("different", "similar", "same")),
)
# Children are compared within their parent: the parent's golden ID is the first comparison.
ACCOUNT = (
    Comparison("customer", ("different", "same"), (0.05, 0.95), (0.999, 0.001)),
    Comparison("iban", ("different", "typo", "exact"), (0.02, 0.03, 0.95), (0.998, 0.0019, 0.0001)),
    # the name without the holder's words ("cottage")
    Comparison("label", ("else", "similar", "exact"), (0.03, 0.12, 0.85), (0.8, 0.05, 0.15)),
    Comparison(
        "opened_at",
        ("far", "months", "days", "exact"),
        (0.02, 0.33, 0.2, 0.45),
        (0.98, 0.015, 0.003, 0.002),
    ),  # fmt: skip
    Comparison("currency", ("different", "same"), (0.01, 0.99), (0.3, 0.7)),
)
# Contracts are compared only within their golden account: a contract has no identifier that
# holds across systems (as an IBAN does for an account), and two contracts on two accounts with
# the same product, dates and amount are two sites on one tariff, not one contract. The shared
# account is still evidence, and weighed as such: it is what makes two contracts' agreement
# mean as much among 70,000 contracts as among 1,400 (the prior is per random pair).
CONTRACT = (
    Comparison("account", ("different", "same"), (0.05, 0.95), (0.999, 0.001)),
    Comparison("product", ("different", "same"), (0.02, 0.98), (0.9, 0.1)),
    # start and end together: an end date is the start plus the term, not separate evidence
    Comparison(
        "term",
        ("different", "start_close", "close", "exact"),
        (0.03, 0.02, 0.35, 0.6),
        (0.995, 0.001, 0.002, 0.002),
    ),  # fmt: skip
    Comparison("amount", ("different", "close", "exact"), (0.03, 0.22, 0.75), (0.98, 0.015, 0.005)),
    Comparison("currency", ("different", "same"), (0.01, 0.99), (0.3, 0.7)),
)


@dataclass(frozen=True)
class Context:
    """Pairs whose comparisons reach at least the given levels (`requires`: comparison,
    lowest level), scored with the context's own prior and u (`matching.score`): where the
    comparisons it fixes agree, the others stop being independent evidence."""

    name: str
    requires: tuple[tuple[str, int], ...]

    @property
    def fixed(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.requires)

    def holds(self, levels: dict[str, np.ndarray]) -> np.ndarray:
        out = np.ones(len(levels[self.requires[0][0]]), bool)
        for name, lowest in self.requires:
            out &= levels[name] >= lowest  # null (-1) never reaches a level
        return out


# One family name (or a similar one: a typo, a double name) at one street address, or on one
# phone line: a household. Its members who are not one person (twins, a father and son) share
# a birthday or a given name far more often than strangers do.
CONTEXTS: dict[str, tuple[Context, ...]] = {
    "person": (
        Context("household", (("name_family", 1), ("address", 1))),
        Context("shared_line", (("name_family", 1), ("phone", 1))),
    ),
}
COMPARISONS = {"person": PERSON, "organization": ORGANIZATION, "account": ACCOUNT,
               "contract": CONTRACT}  # fmt: skip
# The record columns each kind's comparisons read: scoring reads only these of the staged
# records (at 1M entities, every column of 2M customer records held 1.2 GB).
_PLACE = ("m_email", "m_phone", "m_postcode", "m_address", "m_city")
COMPARED_COLUMNS: dict[str, tuple[str, ...]] = {
    "person": ("m_given", "m_family", "birth_date", "m_generation", "m_tax_id", *_PLACE),
    "organization": ("m_organization", "m_tax_id", *_PLACE),
    "account": ("customer_golden_id", "m_iban", "m_label", "opened_at", "currency"),
    "contract": ("account_golden_id", "product", "start_date", "end_date", "amount", "currency"),
}


def _levels(sim: np.ndarray, exact: np.ndarray, cuts: tuple[float, ...], null: np.ndarray):
    """0..len(cuts) by similarity cut-offs (ascending), len(cuts)+1 when exact, -1 when null."""
    level = np.zeros(len(sim), np.int8)
    for i, cut in enumerate(cuts, start=1):
        level[sim >= cut] = i
    level[exact] = len(cuts) + 1
    level[null] = NULL
    return level


def _initial(col: str) -> tuple[str, pl.Expr]:
    return f"{col}:initial", pl.col(col).str.slice(0, 1)


def _names(sides: Sides) -> dict[str, np.ndarray]:
    jw = JaroWinkler.normalized_similarity
    given, family = sides.similarity("m_given", jw), sides.similarity("m_family", jw)
    # given and family exchanged in one record: both cross comparisons close, and far closer
    # than the direct ones. Which cross side counts as "given" must not depend on pair order,
    # so the weaker agreement is scored as the given name. Where the direct ones sum to 1.7 or
    # more, no exchange can be closer (a cross sum is at most 2): those are not computed.
    maybe = given + family < 1.7
    cross_given = sides.similarity("m_given", jw, other="m_family", where=maybe, fill=0.0)
    cross_family = sides.similarity("m_family", jw, other="m_given", where=maybe, fill=0.0)
    cross = cross_given + cross_family
    swapped = (cross >= 1.7) & (cross > given + family + 0.3)
    # a legacy layout that also changed the given name ("Gillian Lodge" / "LODGE Adele"): one
    # cross comparison exact while neither direct one is close
    swapped |= (np.maximum(cross_given, cross_family) == 1.0) & (np.maximum(given, family) < 0.8)
    low, high = np.minimum(cross_given, cross_family), np.maximum(cross_given, cross_family)
    given = np.where(swapped, low, given)
    family = np.where(swapped, high, family)
    exact_given = np.where(swapped, low == 1.0, sides.exact("m_given"))
    exact_family = np.where(swapped, high == 1.0, sides.exact("m_family"))
    lengths = sides.records["m_given"].str.len_chars().fill_null(0).to_numpy()
    initial = (lengths[sides.left] == 1) | (lengths[sides.right] == 1)
    initial &= sides.exact(_initial("m_given"))
    given = np.where(initial, np.maximum(given, 0.75), given)
    level = _levels(given, exact_given, (0.75, 0.88), sides.nulls("m_given"))
    level = np.where(level >= 2, level + 1, level).astype(np.int8)  # room for "nickname"
    maybe_nickname = np.flatnonzero((level <= 1) & (level != NULL) & ~swapped)
    if len(maybe_nickname):
        g1, g2 = sides.strings("m_given", maybe_nickname)
        nickname = norm.nicknames(pl.Series(g1.tolist(), dtype=pl.String),
                                  pl.Series(g2.tolist(), dtype=pl.String))  # fmt: skip
        level[maybe_nickname[nickname]] = 2
    return {
        "name_given": level,
        "name_family": _levels(family, exact_family, (0.80, 0.92), sides.nulls("m_family")),
    }


_BIRTH_TEXT = ("birth_date:text", pl.col("birth_date").dt.strftime("%Y%m%d"))


def _birth_date(sides: Sides) -> np.ndarray:
    a, b = sides.numbers("birth_date")  # days
    exact, null = sides.exact("birth_date"), sides.nulls("birth_date")
    # a swap of two digits is one edit
    one_edit = sides.similarity(_BIRTH_TEXT, OSA.distance, where=~exact & ~null, fill=2.0) <= 1
    date = pl.col("birth_date").dt
    year = sides.numbers(("birth_date:year", date.year()))
    month = sides.numbers(("birth_date:month", date.month()))
    day = sides.numbers(("birth_date:day", date.day()))
    transposed = (year[0] == year[1]) & (month[0] == day[1]) & (day[0] == month[1])
    typo = one_edit | transposed
    apart = np.abs(a - b)
    level = np.where(typo, 2, np.where(apart > _FAR_DAYS, 0, 1)).astype(np.int8)
    level[exact] = 3
    level[null] = NULL
    return level


def _edit_levels(sides: Sides, column: str) -> np.ndarray:
    """2 exact, 1 one edit apart (a typo or two swapped neighbours), 0 different, -1 null."""
    null = sides.nulls(column)
    typo = sides.similarity(column, OSA.distance, where=~null, fill=2.0) <= 1
    level = np.where(typo, 1, 0).astype(np.int8)
    level[sides.exact(column)] = 2
    level[null] = NULL
    return level


def _exact_level(sides: Sides, column: str) -> np.ndarray:
    level = sides.exact(column).astype(np.int8)
    level[sides.nulls(column)] = NULL
    return level


def _postcode(sides: Sides) -> np.ndarray:
    area = sides.exact(("m_postcode:area", pl.col("m_postcode").str.slice(0, 3)))
    level = np.where(area, 1, 0).astype(np.int8)
    level[sides.exact("m_postcode")] = 2
    level[sides.nulls("m_postcode")] = NULL
    return level


def _token_levels(sides: Sides, column: str, cuts) -> np.ndarray:
    sim = sides.similarity(column, fuzz.token_sort_ratio) / 100.0
    return _levels(sim, sides.exact(column), cuts, sides.nulls(column))


def _vat_levels(sides: Sides) -> np.ndarray:
    level = np.where(sides.exact("m_tax_id"), 2, 0).astype(np.int8)
    differ = np.flatnonzero(level == 0)
    a, b = (codes[differ] for codes in sides.codes("m_tax_id"))
    valid = sides.derived("m_tax_id", checkdigits.vat_valid, np.concatenate([a, b]))
    both = (valid[: len(differ)] == 1.0) & (valid[len(differ) :] == 1.0)  # NaN: no known check
    level[differ[~both]] = 1
    level[sides.nulls("m_tax_id")] = NULL
    return level


def _days_apart(sides: Sides, column: str) -> np.ndarray:
    """Days between the two sides' dates; NaN where a side is null."""
    a, b = sides.numbers(column)
    return np.abs(a - b)


def _date_levels(sides: Sides, column: str, days: tuple[int, ...]) -> np.ndarray:
    """Exact is the top level; below it, one level per day window (widest first)."""
    apart = _days_apart(sides, column)
    level = np.zeros(len(apart), np.int8)
    for i, window in enumerate(days, start=1):
        level[apart <= window] = i
    level[apart == 0] = len(days) + 1
    level[np.isnan(apart)] = NULL
    return level


def _label(sides: Sides) -> np.ndarray:
    # a label cut short by a system's field length ("DISTRIBUTION CEN") is still similar
    sim = sides.similarity("m_label", JaroWinkler.normalized_similarity)
    a, b = sides.gathered("m_label")
    shorter = np.minimum(a.str.len_chars().fill_null(0).to_numpy(),
                         b.str.len_chars().fill_null(0).to_numpy())  # fmt: skip
    prefix = (a.str.starts_with(b) | b.str.starts_with(a)).fill_null(False).to_numpy()
    sim = np.where(prefix & (shorter >= 2), np.maximum(sim, 0.9), sim)
    return _levels(sim, sides.exact("m_label"), (0.88,), sides.nulls("m_label"))


def _term(sides: Sides, days: int = 3) -> np.ndarray:
    """A contract's term: start within `days` (close) or equal (exact), and the ends agreeing
    the same way; an open end (null) on either side neither confirms nor denies."""
    start = _days_apart(sides, "start_date")
    end = _days_apart(sides, "end_date")
    a, b = sides.numbers("end_date")
    both_open = np.isnan(a) & np.isnan(b)
    one_open = np.isnan(end) & ~both_open
    level = np.zeros(len(start), np.int8)
    level[start <= days] = 1
    level[(start <= days) & ((end <= days) | one_open | both_open)] = 2
    level[(start == 0) & ((end == 0) | both_open)] = 3
    level[np.isnan(start)] = NULL
    return level


def _amount(sides: Sides) -> np.ndarray:
    # a migrated copy may hold the amount rounded to whole units
    a, b = sides.numbers("amount")
    apart = np.abs(a - b)
    larger = np.fmax(np.abs(a), np.abs(b))
    level = (apart <= np.fmax(1.0, 0.01 * larger)).astype(np.int8)  # NaN compares False
    level[a == b] = 2
    level[np.isnan(a) | np.isnan(b)] = NULL
    return level


def _compare_account(sides: Sides) -> dict[str, np.ndarray]:
    return {
        "customer": _exact_level(sides, "customer_golden_id"),
        "iban": _edit_levels(sides, "m_iban"),
        "label": _label(sides),
        "opened_at": _date_levels(sides, "opened_at", (62, 7)),
        "currency": _exact_level(sides, "currency"),
    }


def _compare_contract(sides: Sides) -> dict[str, np.ndarray]:
    return {
        "account": _exact_level(sides, "account_golden_id"),
        "product": _exact_level(sides, "product"),
        "term": _term(sides),
        "amount": _amount(sides),
        "currency": _exact_level(sides, "currency"),
    }


def compare(
    records: pl.DataFrame, left: np.ndarray, right: np.ndarray, party: str
) -> dict[str, np.ndarray]:
    """Agreement levels of every comparison for `party`: "person" or "organization" (customer
    records), "account" or "contract"."""
    return compare_sides(Sides(records, left, right), party)


def compare_sides(sides: Sides, party: str) -> dict[str, np.ndarray]:
    """`compare` over pairs already gathered (`matching.sides`), so that term frequencies and
    levels share the records' encodings."""
    if party == "account":
        return _compare_account(sides)
    if party == "contract":
        return _compare_contract(sides)
    out: dict[str, np.ndarray] = {}
    if party == "person":
        out.update(_names(sides))
        out["birth_date"] = _birth_date(sides)
        # only a stated generation on both sides is evidence: "Jr" vs "Sr" pushes apart
        out["generation"] = _exact_level(sides, "m_generation")
        out["tax_id"] = _edit_levels(sides, "m_tax_id")
    else:
        out["organization"] = _token_levels(sides, "m_organization", (0.70, 0.88))
        out["tax_id"] = _vat_levels(sides)
    out["email"] = _edit_levels(sides, "m_email")
    out["phone"] = _exact_level(sides, "m_phone")
    out["postcode"] = _postcode(sides)
    out["address"] = _token_levels(sides, "m_address", (0.60, 0.85))
    city = sides.similarity("m_city", JaroWinkler.normalized_similarity)
    out["city"] = _levels(city, sides.exact("m_city"), (0.9,), sides.nulls("m_city"))
    # One shared address is one fact: where the street address agrees, an agreeing postcode
    # and town say nothing more (counting them would add one household's address up three
    # times); where they disagree, that still counts against.
    same_address = out["address"] >= 2
    out["postcode"][same_address & (out["postcode"] == 2)] = NULL
    out["city"][same_address & (out["city"] >= 1)] = NULL
    return out
