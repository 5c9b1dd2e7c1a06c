"""Survivorship, confidence, golden IDs and the golden/xref/lineage frames, by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.process import cpdist

from matching.golden import build, confidence, mint_ids
from matching.sides import Sides
from matching.survive import Survivorship, survive

RECORDS = pl.DataFrame(
    {
        "source_system": ["crm", "billing", "erp", "crm", "billing"],
        "source_key": ["a", "b", "c", "d", "e"],
        "source_updated_at": [dt.datetime(2020, 1, 1), dt.datetime(2024, 1, 1),
                              dt.datetime(2023, 1, 1), None, dt.datetime(2021, 1, 1)],
        "email": ["x@y.com", "z@y.com", None, "q@q.com", None],
        "city": ["Leeds", "Leeds", "York", None, None],
    }
)  # fmt: skip
TRUST = Survivorship(("erp", "billing", "crm"), {"city": ("frequency", "recency")})


def test_survivorship_picks_by_rule_chain_and_names_the_deciding_rule() -> None:
    clustered = RECORDS.with_columns(cluster=pl.Series([0, 0, 0, 1, 2]))
    winners, lineage = survive(clustered, ["email", "city"], TRUST)
    assert winners.sort("cluster").rows() == [
        (0, "z@y.com", "Leeds"),  # billing outranks crm for email (erp has none)
        (1, "q@q.com", None),
        (2, None, None),  # no candidate: no value and no lineage row
    ]
    keys = clustered["source_key"]
    got = {(r["cluster"], r["attribute"]): (keys[r["row"]], r["rule"])
           for r in lineage.iter_rows(named=True)}  # fmt: skip
    assert got == {
        (0, "email"): ("b", "source_trust"),
        # two records say Leeds (frequency ties between them), the newer one wins
        (0, "city"): ("b", "recency"),
        (1, "email"): ("d", "only_value"),
    }


def test_ties_no_rule_separates_fall_back_to_the_smallest_key() -> None:
    frame = pl.DataFrame({
        "cluster": [0, 0], "source_system": ["crm", "crm"], "source_key": ["k2", "k1"],
        "source_updated_at": [None, None], "email": ["b@x.com", "a@x.com"],
    }, schema_overrides={"source_updated_at": pl.Datetime("us")})  # fmt: skip
    winners, lineage = survive(frame, ["email"], Survivorship())
    assert winners["email"].to_list() == ["a@x.com"]
    assert lineage.row(0, named=True)["rule"] == "tie_break"


def test_confidence_is_the_weakest_edge_of_the_maximum_spanning_tree() -> None:
    # cluster {0,1,2}: edges 0-1 (0.99), 1-2 (0.95), 0-2 (0.92): the tree keeps 0.99 and 0.95
    scored = pl.DataFrame({"left": [0, 1, 0, 3], "right": [1, 2, 2, 4],
                           "probability": [0.99, 0.95, 0.92, 0.5]})  # fmt: skip
    labels = np.array([0, 0, 0, 1, 2])
    assert confidence(5, labels, scored, 0.9).round(6).tolist() == [0.95, 1.0, 1.0]


def test_golden_ids_are_opaque_distinct_and_prefixed() -> None:
    ids = mint_ids(5_000, "CUS", np.random.default_rng(1))
    assert len(set(ids)) == 5_000
    assert all(i.startswith("CUS-") and len(i) == 16 for i in ids)
    assert not any(c in i[4:] for i in ids for c in "ILOU")
    # an ID ever minted is never minted again, even by a generator that draws it
    again = mint_ids(5_000, "CUS", np.random.default_rng(1), taken=ids[:100])
    assert again.len() == 5_000 and not again.is_in(ids[:100].implode()).any()
    assert again.is_in(ids.implode()).sum() == 4_900


def test_build_golden_xref_and_lineage() -> None:
    scored = pl.DataFrame({"left": [0, 1], "right": [1, 2], "probability": [0.97, 0.93]})
    labels = np.array([0, 0, 0, 1, 2])
    golden, xref, lineage = build(
        RECORDS, labels, scored, threshold=0.9, attributes=["email", "city"],
        survivorship=TRUST, golden_ids=pl.Series(["CUS-A", "CUS-B", "CUS-C"]),
    )  # fmt: skip
    assert golden.sort("golden_id").select("golden_id", "email", "city", "source_count").rows() == [
        ("CUS-A", "z@y.com", "Leeds", 3), ("CUS-B", "q@q.com", None, 1), ("CUS-C", None, None, 1),
    ]  # fmt: skip
    assert golden.sort("golden_id")["confidence"].round(6).to_list() == [0.93, 1.0, 1.0]
    rows = xref.sort("source_key").select("source_key", "golden_id", "match_probability").rows()
    assert rows == [
        ("a", "CUS-A", 0.97), ("b", "CUS-A", 0.97), ("c", "CUS-A", 0.93), ("d", "CUS-B", 1.0),
        ("e", "CUS-C", 1.0),
    ]  # fmt: skip
    lineage = lineage.collect()
    assert lineage.height == 3 and set(lineage["golden_id"]) == {"CUS-A", "CUS-B"}
    assert lineage.sort("golden_id", "attribute").select(
        "golden_id", "attribute", "source_key", "rule"
    ).rows() == [("CUS-A", "city", "b", "recency"), ("CUS-A", "email", "b", "source_trust"),
                 ("CUS-B", "email", "d", "only_value")]  # fmt: skip


names = st.text(alphabet="abcdefghij ", max_size=12)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(names, names), min_size=1, max_size=20))
def test_similarities_are_symmetric_and_in_unit_range(pairs: list[tuple[str, str]]) -> None:
    values = pl.DataFrame({"a": [p[0] for p in pairs], "b": [p[1] for p in pairs]})
    rows = np.arange(len(pairs))
    sides = Sides(values, rows, rows)
    for scorer, scale in ((JaroWinkler.normalized_similarity, 1.0), (fuzz.token_sort_ratio, 100)):
        forward = sides.similarity("a", scorer, other="b") / scale
        backward = sides.similarity("b", scorer, other="a") / scale
        assert np.allclose(forward, backward)
        assert ((forward >= 0) & (forward <= 1)).all()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(["ann", "anna", "bob", "", "bobby"])),
                min_size=1, max_size=8),
       st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), min_size=1, max_size=40),
       st.booleans())  # fmt: skip
def test_each_distinct_pair_of_values_scores_as_every_pair_would(
    values: list[str | None], pairs: list[tuple[int, int]], cross: bool
) -> None:
    # value pairs repeat on purpose: `similarity` scores each distinct pair once and spreads it
    frame = pl.DataFrame({"a": values, "b": values[::-1]}, schema={"a": pl.String, "b": pl.String})
    left = np.array([p[0] % len(values) for p in pairs])
    right = np.array([p[1] % len(values) for p in pairs])
    sides = Sides(frame, left, right)
    other = "b" if cross else None
    got = sides.similarity("a", JaroWinkler.normalized_similarity, other=other)
    a = [frame["a"][int(i)] or "" for i in left]
    b = [frame["b" if cross else "a"][int(i)] or "" for i in right]
    assert np.array_equal(got, cpdist(a, b, scorer=JaroWinkler.normalized_similarity))
