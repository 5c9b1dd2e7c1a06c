"""Stable golden IDs on tiny hand-built runs: each scenario's IDs and its exact events."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import numpy as np
import polars as pl

from matching import identity

T1 = datetime(2026, 11, 1, tzinfo=UTC)
T2 = datetime(2026, 11, 2, tzinfo=UTC)


def _minter():
    counter = itertools.count(1)
    return lambda k: [f"NEW-{next(counter)}" for _ in range(k)]


def _keys(*keys: str) -> pl.DataFrame:
    return pl.DataFrame(
        {"source_system": ["crm"] * len(keys), "source_key": list(keys)},
        schema={"source_system": pl.String, "source_key": pl.String},
    )


def _previous(mapping: dict[str, str]) -> pl.DataFrame:
    """The previous version's current xref: source key -> golden ID."""
    return (
        _keys(*mapping)
        .cast(pl.String)
        .with_columns(golden_id=pl.Series(list(mapping.values()), dtype=pl.String))
    )


def _ages(**created_version: int) -> pl.DataFrame:
    return pl.DataFrame({"golden_id": list(created_version),
                         "created_version": list(created_version.values())},
                        schema={"golden_id": pl.String, "created_version": pl.Int64})  # fmt: skip


def _events(result: identity.Identity) -> list[tuple]:
    return [(e, g, tuple(o), tuple(k)) for e, g, o, k in result.events.iter_rows()]


def test_a_first_run_creates_one_id_per_cluster() -> None:
    result = identity.assign(_keys("1", "2", "3"), np.array([0, 0, 1]), _previous({}),
                             _ages(), _minter())  # fmt: skip
    assert result.golden_ids.to_list() == ["NEW-1", "NEW-2"]
    assert _events(result) == [("created", "NEW-1", (), ()), ("created", "NEW-2", (), ())]
    assert result.retired.is_empty()


def test_a_rerun_on_unchanged_clusters_changes_no_id_and_writes_no_event() -> None:
    previous = _previous({"1": "A", "2": "A", "3": "B"})
    # the clusters come back with other labels: IDs follow the records, not the labels
    result = identity.assign(_keys("1", "2", "3"), np.array([1, 1, 0]), previous,
                             _ages(A=1, B=1), _minter())  # fmt: skip
    assert result.golden_ids.to_list() == ["B", "A"]
    assert result.events.is_empty() and result.retired.is_empty() and result.created.len() == 0


def test_a_merge_keeps_the_older_id_and_retires_the_other_into_it() -> None:
    # A holds more records, B is older: the merged cluster keeps B
    previous = _previous({"1": "A", "2": "A", "3": "B"})
    result = identity.assign(_keys("1", "2", "3"), np.array([0, 0, 0]), previous,
                             _ages(A=2, B=1), _minter())  # fmt: skip
    assert result.golden_ids.to_list() == ["B"]
    assert _events(result) == [
        ("merged", "B", ("A",), ("crm:1", "crm:2")),
        ("retired", "A", ("B",), ("crm:1", "crm:2")),
    ]
    assert result.retired.rows() == [("A", "B")]


def test_of_ids_as_old_the_merge_keeps_the_one_bringing_most_records() -> None:
    # "B" would come first by its letters; "A" brings two records of the three
    previous = _previous({"1": "B", "2": "A", "3": "A"})
    result = identity.assign(_keys("1", "2", "3"), np.array([0, 0, 0]), previous,
                             _ages(A=3, B=3), _minter())  # fmt: skip
    assert result.golden_ids.to_list() == ["A"]
    assert result.retired.rows() == [("B", "A")]
    # as many records each: the ID holding the smallest record key
    previous = _previous({"1": "Z", "2": "A"})
    result = identity.assign(_keys("1", "2"), np.array([0, 0]), previous, _ages(A=3, Z=3),
                             _minter())  # fmt: skip
    assert result.golden_ids.to_list() == ["Z"]


def test_a_split_keeps_the_id_on_the_larger_part_and_mints_for_the_rest() -> None:
    previous = _previous({"1": "A", "2": "A", "3": "A"})
    result = identity.assign(_keys("1", "2", "3"), np.array([1, 0, 1]), previous, _ages(A=1),
                             _minter())  # fmt: skip
    assert result.golden_ids.to_list() == ["NEW-1", "A"]
    assert _events(result) == [("split", "NEW-1", ("A",), ("crm:2",))]
    assert result.retired.is_empty()


def test_an_even_split_leaves_the_id_with_the_part_holding_the_smallest_key() -> None:
    previous = _previous({"1": "A", "2": "A", "3": "A", "4": "A"})
    labels = np.array([1, 0, 1, 0])  # {2, 4} and {1, 3}: the part with crm:1 keeps A
    result = identity.assign(_keys("1", "2", "3", "4"), labels, previous, _ages(A=1), _minter())
    assert result.golden_ids.to_list() == ["NEW-1", "A"]
    assert _events(result) == [("split", "NEW-1", ("A",), ("crm:2", "crm:4"))]


def test_a_new_record_alone_is_a_new_entity_and_one_joining_keeps_the_id() -> None:
    previous = _previous({"1": "A"})
    result = identity.assign(_keys("1", "2", "3"), np.array([0, 0, 1]), previous, _ages(A=1),
                             _minter())  # fmt: skip
    assert result.golden_ids.to_list() == ["A", "NEW-1"]
    assert _events(result) == [("created", "NEW-1", (), ())]


def test_an_id_whose_records_all_left_their_sources_is_retired_without_successor() -> None:
    previous = _previous({"1": "A", "2": "B", "3": "B"})
    result = identity.assign(_keys("1"), np.array([0]), previous, _ages(A=1, B=1), _minter())
    assert result.golden_ids.to_list() == ["A"]
    assert _events(result) == [("retired", "B", (), ("crm:2", "crm:3"))]
    assert result.retired.rows() == [("B", None)]


def test_a_record_moving_between_two_living_ids_is_no_id_event() -> None:
    previous = _previous({"1": "A", "2": "A", "3": "A", "4": "B", "5": "B"})
    labels = np.array([0, 0, 1, 1, 1])  # crm:3 moves from A to B; both live on
    result = identity.assign(_keys(*"12345"), labels, previous, _ages(A=1, B=1), _minter())
    assert result.golden_ids.to_list() == ["A", "B"]
    assert result.events.is_empty()


def _xref(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={
        "source_system": pl.String, "source_key": pl.String, "golden_id": pl.String,
        "match_probability": pl.Float64, "valid_from": pl.Datetime("us", "UTC"),
        "valid_to": pl.Datetime("us", "UTC"),
    }, orient="row")  # fmt: skip


def test_xref_history_keeps_unchanged_rows_and_closes_changed_and_deleted_ones() -> None:
    t0 = datetime(2026, 10, 1, tzinfo=UTC)
    previous = _xref([
        ("crm", "1", "A", 1.0, T1, None),  # keeps A
        ("crm", "2", "A", 0.9, T1, None),  # moves to B
        ("crm", "3", "C", 1.0, T1, None),  # deleted from its source
        ("crm", "1", "Z", 1.0, t0, T1),  # history from before
    ])  # fmt: skip
    current = pl.DataFrame(
        {
            "source_system": ["crm"] * 3,
            "source_key": ["1", "2", "4"],
            "golden_id": ["A", "B", "D"],
            "match_probability": [0.99, 0.95, 1.0],
        }
    )
    rows, closed = identity.xref_history(previous, current, T2)
    assert rows.sort("source_key").rows() == [
        ("crm", "1", "A", 0.99, T1, None),
        ("crm", "2", "B", 0.95, T2, None),
        ("crm", "4", "D", 1.0, T2, None),
    ]
    assert closed.sort("source_key", "valid_from").rows() == [
        ("crm", "1", "Z", 1.0, t0, T1),
        ("crm", "2", "A", 0.9, T1, T2),
        ("crm", "3", "C", 1.0, T1, T2),
    ]


def test_an_unchanged_golden_record_keeps_its_version_and_a_changed_one_gets_the_new() -> None:
    previous = pl.DataFrame({"golden_id": ["A", "B"], "email": ["a@x.org", "b@x.org"],
                             "source_count": [2, 1]}).with_columns(
        valid_from=pl.lit(T1, pl.Datetime("us", "UTC")), version=pl.lit(1, pl.Int64))  # fmt: skip
    golden = pl.DataFrame(
        {
            "golden_id": ["A", "B", "C"],
            "email": ["a@x.org", "b@new.org", None],
            "source_count": [2, 1, 1],
        }
    )
    out = identity.carry_versions(golden, previous, T2, 2)
    assert out.select("golden_id", "valid_from", "version").rows() == [
        ("A", T1, 1), ("B", T2, 2), ("C", T2, 2),
    ]  # fmt: skip
    # the model's confidence moves in its last digits when anything changes: not a change
    moved = golden.with_columns(confidence=pl.Series([0.97, 0.5, 1.0]))
    before = previous.with_columns(confidence=pl.Series([0.96, 0.5]))
    assert identity.carry_versions(moved, before, T2, 2)["version"].to_list() == [1, 2, 2]
    # a column the previous version did not have changes every record
    wider = golden.with_columns(phone=pl.lit("+441"))
    assert identity.carry_versions(wider, previous, T2, 2)["version"].to_list() == [2, 2, 2]


def test_the_registry_records_creation_and_retirement() -> None:
    previous_ids = identity.registry(
        pl.DataFrame(schema=identity.REGISTRY),
        identity.assign(
            _keys("1", "2"), np.array([0, 1]), _previous({}), _ages(), lambda k: ["A", "B"][:k]
        ),  # fmt: skip
        T1,
        1,
    )
    merged = identity.assign(_keys("1", "2"), np.array([0, 0]), _previous({"1": "A", "2": "B"}),
                             previous_ids, _minter())  # fmt: skip
    ids = identity.registry(previous_ids, merged, T2, 2).sort("golden_id")
    assert ids.rows() == [
        ("A", "active", T1, 1, None, None, None),
        ("B", "retired", T1, 1, T2, 2, "A"),
    ]
