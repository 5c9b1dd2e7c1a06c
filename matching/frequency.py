"""Term frequencies: how many records hold the value a pair agrees on exactly.

Exact agreement on a rare value is stronger evidence than on a common one; `matching.score`
weighs such a pair against the value's share of the records instead of the exact level's u.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .sides import Sides

# Exact agreement on a rare value is stronger evidence than on a common one ("Zielinski" and
# "Smith"): for these comparisons, a pair agreeing exactly on value v is weighed against how
# often v occurs among the kind's records (its term frequency), not against how often random
# pairs agree on any value (`score` replaces u of the exact level by it). The column is the one
# whose equality the exact level is; the frequency grows rarer with the data, as the prior does.
TERM_FREQUENCY: dict[str, dict[str, str]] = {
    "person": {"name_given": "m_given", "name_family": "m_family", "email": "m_email",
               "phone": "m_phone", "tax_id": "m_tax_id", "address": "m_address",
               "postcode": "m_postcode", "city": "m_city"},
    "organization": {"organization": "m_organization", "email": "m_email", "phone": "m_phone",
                     "tax_id": "m_tax_id", "address": "m_address", "postcode": "m_postcode",
                     "city": "m_city"},
    "account": {"customer": "customer_golden_id", "iban": "m_iban"},
    "contract": {"account": "account_golden_id"},
}  # fmt: skip


@dataclass(frozen=True)
class TermFrequencies:
    """Per `TERM_FREQUENCY` comparison, how many of the kind's `records` hold the value a pair
    agrees on (NaN where the pair does not agree on one value)."""

    counts: dict[str, np.ndarray]
    records: int


def term_frequencies(sides: Sides, rows: np.ndarray, party: str) -> TermFrequencies:
    """The term frequencies of the pairs of `sides` among `rows` (the party's records), where
    both sides hold the same value: a swapped name, a null or a disagreement has none."""
    counts = {}
    for name, column in TERM_FREQUENCY.get(party, {}).items():
        codes = sides.record_codes(column)
        held = codes[rows]
        per_value = np.bincount(held[held >= 0], minlength=int(codes.max(initial=-1)) + 2).astype(
            float
        )
        a, b = sides.codes(column)
        counts[name] = np.where((a == b) & (a >= 0), per_value[np.maximum(a, 0)], np.nan)
    return TermFrequencies(counts, len(rows))
