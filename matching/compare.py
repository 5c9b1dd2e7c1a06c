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
from rapidfuzz.process import cpdist

from . import normalize as norm

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


def _sides(records: pl.DataFrame, column: str, left: np.ndarray, right: np.ndarray):
    col = records[column]
    return col.gather(left), col.gather(right)


def _similarity(a: pl.Series, b: pl.Series, scorer) -> np.ndarray:
    """Normalised similarity in [0, 1] per pair; 0 where a side is null."""
    out = cpdist(a.fill_null("").to_list(), b.fill_null("").to_list(), scorer=scorer, workers=-1)
    return np.asarray(out, dtype=np.float64)


def _nulls(a: pl.Series, b: pl.Series) -> np.ndarray:
    return (a.is_null() | b.is_null()).to_numpy()


def _levels(sim: np.ndarray, exact: np.ndarray, cuts: tuple[float, ...], null: np.ndarray):
    """0..len(cuts) by similarity cut-offs (ascending), len(cuts)+1 when exact, -1 when null."""
    level = np.zeros(len(sim), np.int8)
    for i, cut in enumerate(cuts, start=1):
        level[sim >= cut] = i
    level[exact] = len(cuts) + 1
    level[null] = NULL
    return level


def _exact(a: pl.Series, b: pl.Series) -> np.ndarray:
    return (a == b).fill_null(False).to_numpy()


def _names(records: pl.DataFrame, left: np.ndarray, right: np.ndarray) -> dict[str, np.ndarray]:
    g1, g2 = _sides(records, "m_given", left, right)
    f1, f2 = _sides(records, "m_family", left, right)
    jw = JaroWinkler.normalized_similarity
    given, family = _similarity(g1, g2, jw), _similarity(f1, f2, jw)
    cross_given, cross_family = _similarity(g1, f2, jw), _similarity(f1, g2, jw)
    # given and family exchanged in one record: both cross comparisons close, and far closer
    # than the direct ones. Which cross side counts as "given" must not depend on pair order,
    # so the weaker agreement is scored as the given name.
    cross = cross_given + cross_family
    swapped = (cross >= 1.7) & (cross > given + family + 0.3)
    # a legacy layout that also changed the given name ("Gillian Lodge" / "LODGE Adele"): one
    # cross comparison exact while neither direct one is close
    swapped |= (np.maximum(cross_given, cross_family) == 1.0) & (np.maximum(given, family) < 0.8)
    low, high = np.minimum(cross_given, cross_family), np.maximum(cross_given, cross_family)
    given = np.where(swapped, low, given)
    family = np.where(swapped, high, family)
    exact_given = np.where(swapped, low == 1.0, _exact(g1, g2))
    exact_family = np.where(swapped, high == 1.0, _exact(f1, f2))
    initial = (g1.str.len_chars() == 1) | (g2.str.len_chars() == 1)
    initial &= g1.str.slice(0, 1) == g2.str.slice(0, 1)
    given = np.where(initial.fill_null(False).to_numpy(), np.maximum(given, 0.75), given)
    level = _levels(given, exact_given, (0.75, 0.88), _nulls(g1, g2))
    level = np.where(level >= 2, level + 1, level).astype(np.int8)  # room for "nickname"
    level[(level <= 1) & (level != NULL) & ~swapped & norm.nicknames(g1, g2)] = 2
    return {
        "name_given": level,
        "name_family": _levels(family, exact_family, (0.80, 0.92), _nulls(f1, f2)),
    }


def _birth_date(records: pl.DataFrame, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    a, b = _sides(records, "birth_date", left, right)
    sa, sb = a.dt.strftime("%Y%m%d"), b.dt.strftime("%Y%m%d")
    one_edit = _similarity(sa, sb, OSA.distance) <= 1  # a swap of two digits is one edit
    transposed = (
        (a.dt.year() == b.dt.year()) & (a.dt.month() == b.dt.day()) & (a.dt.day() == b.dt.month())
    )
    typo = one_edit | transposed.fill_null(False).to_numpy()
    apart = (a.cast(pl.Int32) - b.cast(pl.Int32)).abs().fill_null(0).to_numpy()
    level = np.where(typo, 2, np.where(apart > _FAR_DAYS, 0, 1)).astype(np.int8)
    level[_exact(a, b)] = 3
    level[_nulls(a, b)] = NULL
    return level


def _email(records: pl.DataFrame, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return _edit_levels(records, "m_email", left, right)


def _edit_levels(records, column, left, right) -> np.ndarray:
    """2 exact, 1 one edit apart (a typo or two swapped neighbours), 0 different, -1 null."""
    a, b = _sides(records, column, left, right)
    typo = _similarity(a, b, OSA.distance) <= 1
    level = np.where(typo, 1, 0).astype(np.int8)
    level[_exact(a, b)] = 2
    level[_nulls(a, b)] = NULL
    return level


def _exact_level(records, column, left, right) -> np.ndarray:
    a, b = _sides(records, column, left, right)
    level = _exact(a, b).astype(np.int8)
    level[_nulls(a, b)] = NULL
    return level


def _postcode(records, left, right) -> np.ndarray:
    a, b = _sides(records, "m_postcode", left, right)
    area = (a.str.slice(0, 3) == b.str.slice(0, 3)).fill_null(False).to_numpy()
    level = np.where(area, 1, 0).astype(np.int8)
    level[_exact(a, b)] = 2
    level[_nulls(a, b)] = NULL
    return level


def _token_levels(records, column, left, right, cuts) -> np.ndarray:
    a, b = _sides(records, column, left, right)
    sim = _similarity(a, b, fuzz.token_sort_ratio) / 100.0
    return _levels(sim, _exact(a, b), cuts, _nulls(a, b))


def _vat_levels(records, left, right) -> np.ndarray:
    a, b = _sides(records, "m_tax_id", left, right)
    level = np.where(_exact(a, b), 2, 0).astype(np.int8)
    differ = np.flatnonzero(level == 0)
    valid = norm.vat_valid(pl.concat([a.gather(differ), b.gather(differ)])).to_numpy()
    both = (valid[: len(differ)] == True) & (valid[len(differ) :] == True)  # noqa: E712 (nulls)
    level[differ[~both]] = 1
    level[_nulls(a, b)] = NULL
    return level


def _generation(records, left, right) -> np.ndarray:
    # only a stated generation on both sides is evidence: "Jr" vs "Sr" pushes apart
    return _exact_level(records, "m_generation", left, right)


def _date_levels(records, column, left, right, days: tuple[int, ...]) -> np.ndarray:
    """Exact is the top level; below it, one level per day window (widest first)."""
    apart = _days_apart(records, column, left, right)
    level = np.zeros(len(apart), np.int8)
    for i, window in enumerate(days, start=1):
        level[apart <= window] = i
    level[apart == 0] = len(days) + 1
    level[np.isnan(apart)] = NULL
    return level


def _label(records, left, right) -> np.ndarray:
    # a label cut short by a system's field length ("DISTRIBUTION CEN") is still similar
    a, b = _sides(records, "m_label", left, right)
    sim = _similarity(a, b, JaroWinkler.normalized_similarity)
    shorter = np.minimum(a.str.len_chars().fill_null(0).to_numpy(),
                         b.str.len_chars().fill_null(0).to_numpy())  # fmt: skip
    prefix = (a.str.starts_with(b) | b.str.starts_with(a)).fill_null(False).to_numpy()
    sim = np.where(prefix & (shorter >= 2), np.maximum(sim, 0.9), sim)
    return _levels(sim, _exact(a, b), (0.88,), _nulls(a, b))


def _days_apart(records, column, left, right) -> np.ndarray:
    """Days between the two sides' dates; NaN where a side is null."""
    a, b = _sides(records, column, left, right)
    return (a.cast(pl.Int32) - b.cast(pl.Int32)).abs().cast(pl.Float64).fill_null(np.nan).to_numpy()


def _term(records, left, right, days: int = 3) -> np.ndarray:
    """A contract's term: start within `days` (close) or equal (exact), and the ends agreeing
    the same way; an open end (null) on either side neither confirms nor denies."""
    start = _days_apart(records, "start_date", left, right)
    end = _days_apart(records, "end_date", left, right)
    a, b = _sides(records, "end_date", left, right)
    both_open = (a.is_null() & b.is_null()).to_numpy()
    one_open = np.isnan(end) & ~both_open
    level = np.zeros(len(start), np.int8)
    level[start <= days] = 1
    level[(start <= days) & ((end <= days) | one_open | both_open)] = 2
    level[(start == 0) & ((end == 0) | both_open)] = 3
    level[np.isnan(start)] = NULL
    return level


def _amount(records, left, right) -> np.ndarray:
    # a migrated copy may hold the amount rounded to whole units
    a, b = _sides(records, "amount", left, right)
    apart = (a - b).abs().fill_null(np.nan).to_numpy()
    larger = np.fmax(a.abs().fill_null(np.nan).to_numpy(), b.abs().fill_null(np.nan).to_numpy())
    level = (apart <= np.fmax(1.0, 0.01 * larger)).astype(np.int8)  # NaN compares False
    level[_exact(a, b)] = 2
    level[_nulls(a, b)] = NULL
    return level


def _compare_account(records, left, right) -> dict[str, np.ndarray]:
    return {
        "customer": _exact_level(records, "customer_golden_id", left, right),
        "iban": _edit_levels(records, "m_iban", left, right),
        "label": _label(records, left, right),
        "opened_at": _date_levels(records, "opened_at", left, right, (62, 7)),
        "currency": _exact_level(records, "currency", left, right),
    }


def _compare_contract(records, left, right) -> dict[str, np.ndarray]:
    return {
        "account": _exact_level(records, "account_golden_id", left, right),
        "product": _exact_level(records, "product", left, right),
        "term": _term(records, left, right),
        "amount": _amount(records, left, right),
        "currency": _exact_level(records, "currency", left, right),
    }


def compare(
    records: pl.DataFrame, left: np.ndarray, right: np.ndarray, party: str
) -> dict[str, np.ndarray]:
    """Agreement levels of every comparison for `party`: "person" or "organization" (customer
    records), "account" or "contract"."""
    if party == "account":
        return _compare_account(records, left, right)
    if party == "contract":
        return _compare_contract(records, left, right)
    out: dict[str, np.ndarray] = {}
    if party == "person":
        out.update(_names(records, left, right))
        out["birth_date"] = _birth_date(records, left, right)
        out["generation"] = _generation(records, left, right)
        out["tax_id"] = _edit_levels(records, "m_tax_id", left, right)
    else:
        out["organization"] = _token_levels(records, "m_organization", left, right, (0.70, 0.88))
        out["tax_id"] = _vat_levels(records, left, right)
    out["email"] = _email(records, left, right)
    out["phone"] = _exact_level(records, "m_phone", left, right)
    out["postcode"] = _postcode(records, left, right)
    out["address"] = _token_levels(records, "m_address", left, right, (0.60, 0.85))
    a, b = _sides(records, "m_city", left, right)
    out["city"] = _levels(_similarity(a, b, JaroWinkler.normalized_similarity), _exact(a, b),
                          (0.9,), _nulls(a, b))  # fmt: skip
    # One shared address is one fact: where the street address agrees, an agreeing postcode
    # and town say nothing more (counting them would add one household's address up three
    # times); where they disagree, that still counts against.
    same_address = out["address"] >= 2
    out["postcode"][same_address & (out["postcode"] == 2)] = NULL
    out["city"][same_address & (out["city"] >= 1)] = NULL
    return out
