"""matching.evaluate: hand-counted examples, a naive pair-enumerating reference (hypothesis),
invariances, error cases, and a 2,000,000-record timing run (slow)."""

from __future__ import annotations

import random
import time
from collections.abc import Hashable, Mapping

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.evaluate import Evaluation, evaluate

SCORES = (
    "pairwise_precision",
    "pairwise_recall",
    "pairwise_f1",
    "bcubed_precision",
    "bcubed_recall",
    "bcubed_f1",
)


def _truth(rows: Mapping[str, object]) -> pl.DataFrame:
    """A one-system truth frame from {source_key: entity_id}."""
    return pl.DataFrame(
        {
            "source_system": ["crm"] * len(rows),
            "source_key": list(rows),
            "entity_id": list(rows.values()),
        },
        schema={"source_system": pl.String, "source_key": pl.String, "entity_id": pl.Int64},
    )


def _pred(rows: Mapping[str, str]) -> pl.DataFrame:
    """A one-system prediction frame (golden.xref shape) from {source_key: golden_id}."""
    return pl.DataFrame(
        {
            "source_system": ["crm"] * len(rows),
            "source_key": list(rows),
            "golden_id": list(rows.values()),
        },
        schema={"source_system": pl.String, "source_key": pl.String, "golden_id": pl.String},
    )


def _f1(p: float, r: float) -> float:
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


# --- hand-counted examples ------------------------------------------------------------------

TRUTH = {"a": 1, "b": 1, "c": 2, "d": 2, "e": 3}
PRED = {"a": "X", "b": "X", "c": "X", "d": "Y"}  # e is missing -> its own singleton cluster


def test_hand_counted_example() -> None:
    # Scored partition: X={a,b,c}, Y={d}, {e}. Entities: 1={a,b}, 2={c,d}, 3={e}.
    # Predicted pairs: C(3,2)=3 (ab, ac, bc). True pairs: C(2,2)+C(2,2)=2 (ab, cd).
    # TP = ab = 1; FP = ac, bc = 2; FN = cd = 1.
    # Pairwise P = 1/3, R = 1/2, F1 = 2*(1/6)/(5/6) = 2/5.
    # B-cubed precision per record (share of my cluster in my entity):
    #   a 2/3, b 2/3, c 1/3, d 1/1, e 1/1 -> (11/3)/5 = 11/15.
    # B-cubed recall per record (share of my entity in my cluster):
    #   a 2/2, b 2/2, c 1/2, d 1/2, e 1/1 -> 4/5.
    # B-cubed F1 = 2*(11/15)*(4/5) / (11/15 + 4/5) = 88/115.
    ev = evaluate(_pred(PRED), _truth(TRUTH))
    assert (ev.true_positive_pairs, ev.false_positive_pairs, ev.false_negative_pairs) == (1, 2, 1)
    assert (ev.predicted_pairs, ev.true_pairs) == (3, 2)
    assert ev.pairwise_precision == pytest.approx(1 / 3)
    assert ev.pairwise_recall == pytest.approx(1 / 2)
    assert ev.pairwise_f1 == pytest.approx(2 / 5)
    assert ev.bcubed_precision == pytest.approx(11 / 15)
    assert ev.bcubed_recall == pytest.approx(4 / 5)
    assert ev.bcubed_f1 == pytest.approx(88 / 115)
    assert ev.truth_records == 5
    assert ev.evaluated_records == 4
    assert ev.missing_records == 1
    assert ev.extra_records == 0
    assert ev.true_entities == 3
    assert ev.predicted_clusters == 3  # X, Y and e's singleton
    assert ev.largest_cluster == 3


def test_to_dict_and_frozen() -> None:
    ev = evaluate(_pred(PRED), _truth(TRUTH))
    d = ev.to_dict()
    assert d["true_positive_pairs"] == 1
    assert d["bcubed_recall"] == pytest.approx(4 / 5)
    assert set(d) == {f.name for f in ev.__dataclass_fields__.values()}
    with pytest.raises(AttributeError):
        ev.pairwise_f1 = 0.0  # type: ignore[misc]


def test_perfect_prediction_scores_one() -> None:
    pred = {k: f"G{v}" for k, v in TRUTH.items()}
    ev = evaluate(_pred(pred), _truth(TRUTH))
    for name in SCORES:
        assert getattr(ev, name) == 1.0, name
    assert (ev.true_positive_pairs, ev.false_positive_pairs, ev.false_negative_pairs) == (2, 0, 0)
    assert ev.predicted_clusters == ev.true_entities == 3
    assert ev.largest_cluster == 2


def test_all_singletons() -> None:
    # No predicted pairs: pairwise precision is 1.0 by convention (nothing claimed), recall 0/2.
    # B-cubed: precision 1 for every record; recall a 1/2, b 1/2, c 1/2, d 1/2, e 1 -> 3/5.
    ev = evaluate(_pred({k: k for k in TRUTH}), _truth(TRUTH))
    assert ev.predicted_pairs == 0
    assert ev.pairwise_precision == 1.0
    assert ev.pairwise_recall == 0.0
    assert ev.pairwise_f1 == 0.0
    assert ev.bcubed_precision == 1.0
    assert ev.bcubed_recall == pytest.approx(3 / 5)
    assert ev.bcubed_f1 == pytest.approx(_f1(1.0, 3 / 5))
    assert ev.predicted_clusters == 5
    assert ev.largest_cluster == 1


def test_all_true_singletons_and_no_predicted_pairs_is_perfect() -> None:
    # 0/0 on both sides: nothing to find and nothing claimed -> 1.0 everywhere.
    truth = {"a": 1, "b": 2, "c": 3}
    ev = evaluate(_pred({"a": "X", "b": "Y", "c": "Z"}), _truth(truth))
    assert (ev.predicted_pairs, ev.true_pairs) == (0, 0)
    for name in SCORES:
        assert getattr(ev, name) == 1.0, name


def test_one_big_cluster_over_true_singletons() -> None:
    # Predicted pairs 3, true pairs 0: precision 0/3, recall 0/0 = 1 by convention, F1 0.
    # B-cubed precision 1/3 per record; recall 1 per record.
    ev = evaluate(_pred({"a": "X", "b": "X", "c": "X"}), _truth({"a": 1, "b": 2, "c": 3}))
    assert ev.pairwise_precision == 0.0
    assert ev.pairwise_recall == 1.0
    assert ev.pairwise_f1 == 0.0
    assert ev.bcubed_precision == pytest.approx(1 / 3)
    assert ev.bcubed_recall == 1.0


def test_missing_truth_records_become_singletons() -> None:
    truth = {"a": 1, "b": 1, "c": 1, "d": 2}
    full = evaluate(_pred({"a": "X", "b": "X", "c": "X", "d": "Y"}), _truth(truth))
    assert full.pairwise_recall == 1.0
    assert full.bcubed_recall == 1.0
    # Drop c: the scored partition is {a,b}, {c}, {d}. True pairs still C(3,2)=3 (ab, ac, bc),
    # TP = ab = 1 -> recall 1/3 (not 1/1, as it would be if c were silently ignored).
    # Precision stays 1 (1 predicted pair, correct).
    # B-cubed recall: a 2/3, b 2/3, c 1/3, d 1 -> (8/3)/4 = 2/3. B-cubed precision 1.
    dropped = evaluate(_pred({"a": "X", "b": "X", "d": "Y"}), _truth(truth))
    assert dropped.missing_records == 1
    assert dropped.evaluated_records == 3
    assert dropped.truth_records == 4
    assert dropped.true_pairs == 3
    assert dropped.true_positive_pairs == 1
    assert dropped.pairwise_precision == 1.0
    assert dropped.pairwise_recall == pytest.approx(1 / 3)
    assert dropped.pairwise_f1 == pytest.approx(_f1(1.0, 1 / 3))
    assert dropped.bcubed_precision == 1.0
    assert dropped.bcubed_recall == pytest.approx(2 / 3)
    assert dropped.predicted_clusters == 3


def test_empty_prediction_is_all_singletons() -> None:
    ev = evaluate(_pred({}), _truth(TRUTH))
    singletons = evaluate(_pred({k: k for k in TRUTH}), _truth(TRUTH))
    assert ev.missing_records == 5
    assert ev.evaluated_records == 0
    for name in SCORES:
        assert getattr(ev, name) == pytest.approx(getattr(singletons, name)), name
    assert ev.predicted_clusters == 5
    assert ev.largest_cluster == 1


def test_extra_predicted_records_are_excluded_and_counted() -> None:
    # f and g are not in the truth. g sits in cluster X, but X still counts 3 scored records.
    pred = {**PRED, "f": "Z", "g": "X"}
    ev = evaluate(_pred(pred), _truth(TRUTH))
    base = evaluate(_pred(PRED), _truth(TRUTH))
    assert ev.extra_records == 2
    assert ev.evaluated_records == 4
    for name in SCORES:
        assert getattr(ev, name) == pytest.approx(getattr(base, name)), name
    assert ev.predicted_clusters == base.predicted_clusters == 3  # Z holds no scored record
    assert ev.largest_cluster == 3


def test_multi_column_key() -> None:
    # The same source_key in two systems is two records.
    truth = pl.DataFrame(
        {
            "sys": ["crm", "erp", "crm", "erp"],
            "id": [1, 1, 2, 2],
            "entity": ["p", "p", "q", "r"],
        }
    )
    # crm/1+erp/1 right (TP 1); crm/2+erp/2 wrongly merged (FP 1). True pairs 1, predicted 2.
    pred = pl.DataFrame(
        {"sys": ["erp", "crm", "erp", "crm"], "id": [1, 1, 2, 2], "cluster": [10, 10, 20, 20]}
    )
    ev = evaluate(pred, truth, key=("sys", "id"), predicted_col="cluster", truth_col="entity")
    assert (ev.true_positive_pairs, ev.predicted_pairs, ev.true_pairs) == (1, 2, 1)
    assert ev.pairwise_precision == pytest.approx(1 / 2)
    assert ev.pairwise_recall == 1.0
    # B-cubed precision: 1, 1, 1/2, 1/2 -> 3/4; recall 1 each.
    assert ev.bcubed_precision == pytest.approx(3 / 4)
    assert ev.bcubed_recall == 1.0
    assert ev.missing_records == ev.extra_records == 0
    # Keyed on `id` alone, the keys would be duplicated.
    with pytest.raises(ValueError, match="duplicated"):
        evaluate(pred, truth, key="id", predicted_col="cluster", truth_col="entity")


def test_same_label_column_name_in_both_inputs() -> None:
    truth = pl.DataFrame({"k": [1, 2, 3], "cluster": [1, 1, 2]})
    ev = evaluate(truth, truth, key="k", predicted_col="cluster", truth_col="cluster")
    assert ev.pairwise_f1 == 1.0


@pytest.mark.parametrize(
    "ids",
    [
        pl.Series([7, 7, 7, 8], dtype=pl.Int32),
        pl.Series([7, 7, 7, 8], dtype=pl.UInt64),
        pl.Series(["7", "7", "7", "8"], dtype=pl.Categorical),
        pl.Series([b"7", b"7", b"7", b"8"], dtype=pl.Binary),
    ],
)
def test_id_types_need_not_match(ids: pl.Series) -> None:
    # Cluster ids of another type than the entity ids (Int64): only the grouping matters.
    pred = _pred(PRED).with_columns(ids.alias("golden_id"))
    ev = evaluate(pred, _truth(TRUTH))
    assert ev.to_dict() == pytest.approx(evaluate(_pred(PRED), _truth(TRUTH)).to_dict())


# --- errors ---------------------------------------------------------------------------------


def test_duplicate_keys_raise_naming_them() -> None:
    dup_pred = pl.concat([_pred(PRED), _pred({"c": "Y"})])
    with pytest.raises(ValueError, match=r"predicted has 1 duplicated key.*\('crm', 'c'\)"):
        evaluate(dup_pred, _truth(TRUTH))
    dup_truth = pl.concat([_truth(TRUTH), _truth({"a": 1, "b": 2})])
    with pytest.raises(ValueError, match=r"truth has 2 duplicated.*\('crm', 'a'\).*'b'"):
        evaluate(_pred(PRED), dup_truth)


def test_duplicate_extra_predicted_keys_raise() -> None:
    # Duplicated even though the key is not in the truth (it would be excluded anyway).
    dup_pred = pl.concat([_pred(PRED), _pred({"zz": "Y"}), _pred({"zz": "Z"})])
    with pytest.raises(ValueError, match=r"predicted has 1 duplicated.*'zz'"):
        evaluate(dup_pred, _truth(TRUTH))


def test_same_key_in_both_is_not_a_duplicate() -> None:
    ev = evaluate(_pred({"a": "X"}), _truth({"a": 1}))
    assert ev.evaluated_records == 1
    assert ev.pairwise_f1 == ev.bcubed_f1 == 1.0


def test_many_duplicates_are_summarised() -> None:
    truth = pl.DataFrame({"k": list(range(10)) * 2, "entity_id": [0] * 20})
    with pytest.raises(ValueError, match=r"10 duplicated.*0, 1, 2, 3, 4 \(and 5 more\)"):
        evaluate(truth.rename({"entity_id": "golden_id"}), truth, key="k")


@pytest.mark.parametrize(
    ("predicted", "truth", "kwargs", "message"),
    [
        (_pred(PRED), _truth(TRUTH), {"predicted_col": "nope"}, "predicted lacks column"),
        (_pred(PRED), _truth(TRUTH), {"key": ("source_key", "x")}, "lacks column"),
        (_pred(PRED), _truth(TRUTH), {"key": ()}, "at least one column"),
        (_pred(PRED), _truth(TRUTH), {"key": ("source_key", "source_key")}, "twice"),
        (_pred(PRED), _truth({}), {}, "truth is empty"),
        (
            _pred(PRED).with_columns(pl.lit(None, pl.String).alias("golden_id")),
            _truth(TRUTH),
            {},
            "null value",
        ),
        (
            _pred(PRED).with_columns(pl.concat_list("golden_id")),
            _truth(TRUTH),
            {},
            "must be scalars",
        ),
        (
            _pred(PRED),
            _truth(TRUTH).with_columns(pl.col("source_key").cast(pl.Categorical)),
            {},
            "cast one of them",
        ),
    ],
)
def test_invalid_inputs_raise(
    predicted: pl.DataFrame, truth: pl.DataFrame, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        evaluate(predicted, truth, **kwargs)  # type: ignore[arg-type]


# --- naive reference and properties ---------------------------------------------------------


def naive(truth: Mapping[int, int], pred: Mapping[int, Hashable]) -> dict[str, float]:
    """Enumerate every pair of truth records; missing ones are singletons, extras ignored."""
    records = list(truth)
    cluster = {r: pred.get(r, ("missing", r)) for r in records}
    tp = fp = fn = 0
    for i in range(len(records)):
        for j in range(i + 1, len(records)):
            x, y = records[i], records[j]
            same_true = truth[x] == truth[y]
            same_pred = cluster[x] == cluster[y]
            tp += same_true and same_pred
            fp += same_pred and not same_true
            fn += same_true and not same_pred
    p = 1.0 if tp + fp == 0 else tp / (tp + fp)
    r = 1.0 if tp + fn == 0 else tp / (tp + fn)
    b_p = b_r = 0.0
    for x in records:
        same_cluster = [y for y in records if cluster[y] == cluster[x]]
        same_entity = [y for y in records if truth[y] == truth[x]]
        both = [y for y in same_cluster if truth[y] == truth[x]]
        b_p += len(both) / len(same_cluster)
        b_r += len(both) / len(same_entity)
    b_p /= len(records)
    b_r /= len(records)
    return {
        "pairwise_precision": p,
        "pairwise_recall": r,
        "pairwise_f1": _f1(p, r),
        "bcubed_precision": b_p,
        "bcubed_recall": b_r,
        "bcubed_f1": _f1(b_p, b_r),
        "true_positive_pairs": tp,
        "false_positive_pairs": fp,
        "false_negative_pairs": fn,
    }


@st.composite
def cases(draw: st.DrawFn) -> tuple[dict[int, int], dict[int, int]]:
    """Truth over <= 30 records, a prediction that misses some and adds some extras."""
    truth_keys = draw(st.lists(st.integers(0, 40), min_size=1, max_size=30, unique=True))
    n_entities = draw(st.integers(1, 8))
    truth = {k: draw(st.integers(0, n_entities - 1)) for k in truth_keys}
    kept = [k for k in truth_keys if draw(st.integers(0, 4))]  # ~1 in 5 missing
    extras = draw(st.lists(st.integers(41, 60), max_size=5, unique=True))
    n_clusters = draw(st.integers(1, 10))
    pred = {k: draw(st.integers(0, n_clusters - 1)) for k in kept + extras}
    return truth, pred


def _frames(
    truth: Mapping[int, int], pred: Mapping[int, Hashable]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(predicted, truth) frames keyed on an integer `k`."""
    t = pl.DataFrame(
        {"k": list(truth), "entity_id": list(truth.values())},
        schema={"k": pl.Int64, "entity_id": pl.Int64},
    )
    p = pl.DataFrame({"k": list(pred), "golden_id": [str(v) for v in pred.values()]})
    return p.cast({"k": pl.Int64, "golden_id": pl.String}), t


@settings(max_examples=300, deadline=None)
@given(cases())
def test_matches_naive_reference(case: tuple[dict[int, int], dict[int, int]]) -> None:
    truth, pred = case
    p, t = _frames(truth, pred)
    ev = evaluate(p, t, key="k")
    expected = naive(truth, pred)
    for name, value in expected.items():
        assert getattr(ev, name) == pytest.approx(value), name
    assert ev.truth_records == len(truth)
    assert ev.missing_records == sum(k not in pred for k in truth)
    assert ev.extra_records == sum(k not in truth for k in pred)
    assert ev.evaluated_records == ev.truth_records - ev.missing_records
    assert ev.true_entities == len(set(truth.values()))
    scored = [pred.get(k, ("missing", k)) for k in truth]
    assert ev.predicted_clusters == len(set(scored))
    assert ev.largest_cluster == max(scored.count(c) for c in set(scored))


@settings(max_examples=200, deadline=None)
@given(cases(), st.randoms(use_true_random=False))
def test_invariant_under_relabelling_and_row_order(
    case: tuple[dict[int, int], dict[int, int]], rnd: random.Random
) -> None:
    truth, pred = case
    base = evaluate(*_frames(truth, pred), key="k")
    # Injective relabelling of cluster and entity ids, to other values and types.
    clusters = sorted(set(pred.values()))
    new_ids = rnd.sample(range(1000), len(clusters))
    cluster_map = {c: f"G-{n}" for c, n in zip(clusters, new_ids, strict=True)}
    entities = sorted(set(truth.values()))
    entity_map = dict(zip(entities, rnd.sample(range(1000), len(entities)), strict=True))
    truth2 = {k: entity_map[v] for k, v in truth.items()}
    pred2 = {k: cluster_map[v] for k, v in pred.items()}
    p, t = _frames(truth2, pred2)
    seed = rnd.randrange(2**32)
    p = p.sample(fraction=1.0, shuffle=True, seed=seed)
    t = t.sample(fraction=1.0, shuffle=True, seed=seed + 1)
    # Float sums may run in another order: scores agree to rounding, counts exactly.
    assert evaluate(p, t, key="k").to_dict() == pytest.approx(base.to_dict())


@settings(max_examples=200, deadline=None)
@given(cases())
def test_scores_in_unit_interval(case: tuple[dict[int, int], dict[int, int]]) -> None:
    ev = evaluate(*_frames(*case), key="k")
    for name in SCORES:
        assert 0.0 <= getattr(ev, name) <= 1.0, name
    assert ev.true_positive_pairs <= min(ev.predicted_pairs, ev.true_pairs)
    assert min(ev.false_positive_pairs, ev.false_negative_pairs) >= 0


def test_returns_evaluation() -> None:
    assert isinstance(evaluate(_pred(PRED), _truth(TRUTH)), Evaluation)


# --- scale ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_two_million_records_in_seconds() -> None:
    n = 2_000_000
    rng = np.random.default_rng(7)
    entity = rng.integers(0, n // 2, size=n)  # ~2 records per entity, some large
    systems = np.array(["crm", "billing", "erp"])[rng.integers(0, 3, size=n)]
    truth = pl.DataFrame(
        {"source_system": systems, "source_key": np.arange(n), "entity_id": entity}
    ).with_columns(pl.col("source_key").cast(pl.String))
    # Prediction: the truth with 5% of records moved to a random cluster, 1% dropped,
    # plus 10,000 records not in the truth.
    golden = np.where(rng.random(n) < 0.05, rng.integers(0, n // 2, size=n), entity)
    keep = rng.random(n) >= 0.01
    pred = pl.concat(
        [
            truth.select("source_system", "source_key")
            .with_columns(golden_id=golden)
            .filter(pl.Series(keep)),
            pl.DataFrame(
                {
                    "source_system": ["crm"] * 10_000,
                    "source_key": [f"x{i}" for i in range(10_000)],
                    "golden_id": np.arange(10_000),
                }
            ),
        ]
    ).with_columns(pl.col("golden_id").cast(pl.String))

    start = time.perf_counter()
    ev = evaluate(pred, truth)
    elapsed = time.perf_counter() - start
    print(f"\nevaluate() on {n:,} truth records: {elapsed:.2f} s")

    assert elapsed < 10.0
    assert ev.truth_records == n
    assert ev.missing_records == int((~keep).sum())
    assert ev.extra_records == 10_000
    assert ev.evaluated_records == int(keep.sum())
    assert ev.true_entities == len(np.unique(entity))
    # Exact integer check of the true pairs against numpy.
    sizes = np.bincount(entity).astype(np.int64)
    assert ev.true_pairs == int((sizes * (sizes - 1) // 2).sum())
    assert 0.9 < ev.pairwise_precision <= 1.0
    assert 0.85 < ev.bcubed_recall < 1.0


def test_hard_negatives_counts_record_pairs_of_planted_partners() -> None:
    from matching.evaluate import hard_negatives

    truth = pl.DataFrame({"source_system": ["s"] * 5, "source_key": list("abcde"),
                          "entity_id": ["1", "1", "2", "3", "4"]})  # fmt: skip
    tags = pl.DataFrame({
        "source_system": ["s"] * 5, "source_key": list("abcde"), "kind": ["hard_negative"] * 5,
        "tags": ["twin;partner=2;evidence=given_name", "twin;partner=2;evidence=given_name",
                 "twin;partner=1;evidence=given_name", "namesake;partner=4;evidence=birth_date",
                 "namesake;partner=3;evidence=none"],
    })  # fmt: skip
    # twins 1 (a, b) and 2 (c): a and c merged, b apart; namesakes 3 and 4 merged, one side
    # without a birth date (no evidence)
    xref = truth.select("source_system", "source_key",
                        golden_id=pl.Series(["G1", "G2", "G1", "G3", "G3"]))  # fmt: skip
    got = hard_negatives(xref, truth, tags).rows()
    assert got == [("namesake", False, 1, 1, 1.0), ("twin", True, 2, 1, 0.5)]
