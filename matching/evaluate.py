"""Score a clustering against ground truth: pairwise and B-cubed precision, recall and F1.

`predicted` maps each record to a cluster id (e.g. ``golden.xref``: ``source_system,
source_key, golden_id``); `truth` maps each record to its true entity (e.g.
``truth_customer.csv``: ``source_system, source_key, entity_id``). A record is identified by
one or more key columns. Everything is computed from the contingency counts ``n_ij`` (records
of true entity ``i`` in predicted cluster ``j``) with a few hash group-bys, never by enumerating
pairs, so the cost is linear in the records (two million take a couple of seconds on two
cores). Pair counts are exact Int64 integers.

Which records are scored:

* every truth record is scored (``N = truth_records``);
* a truth record missing from `predicted` counts as a singleton (its own predicted cluster),
  so a pipeline that drops records loses recall and is never rewarded for it;
* a predicted record absent from `truth` is excluded from the scores, and counted in
  ``extra_records``.

Conventions for empty denominators (0/0):

* pairwise precision is 1.0 when no pairs are predicted (nothing claimed, nothing wrong);
* pairwise recall is 1.0 when there are no true pairs (nothing to find);
* an F1 is 0.0 when precision + recall is 0, otherwise their harmonic mean;
* B-cubed is always defined: `truth` must be non-empty (an empty truth is a ValueError).

Example::

    >>> truth = pl.DataFrame({"id": list("abcde"), "entity_id": [1, 1, 2, 2, 3]})
    >>> pred = pl.DataFrame({"id": list("abcd"), "golden_id": ["X", "X", "X", "Y"]})
    >>> ev = evaluate(pred, truth, key="id")
    >>> (ev.true_positive_pairs, ev.predicted_pairs, ev.true_pairs)
    (1, 3, 2)
    >>> ev.missing_records, ev.predicted_clusters, ev.largest_cluster
    (1, 3, 3)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

__all__ = ["Evaluation", "evaluate", "hard_negatives", "true_pairs", "with_sides"]

# Internal column names; inputs are renamed to these, so user column names never collide.
_T = "__truth_label"
_P = "__predicted_label"
_N = "__n"
_K = "__key"
_IN_T = "__in_truth"
_IN_P = "__in_predicted"
_SHOWN_DUPLICATES = 5


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The scores of one clustering against ground truth, and the counts behind them.

    Scores are over all ``truth_records`` (missing ones as singletons); see the module
    docstring for the 0/0 conventions.
    """

    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    true_positive_pairs: int  # sum_ij C(n_ij, 2): pairs together in both
    false_positive_pairs: int  # predicted_pairs - true_positive_pairs
    false_negative_pairs: int  # true_pairs - true_positive_pairs
    predicted_pairs: int  # sum_j C(b_j, 2)
    true_pairs: int  # sum_i C(a_i, 2)
    truth_records: int  # N, the records scored
    evaluated_records: int  # truth records found in the prediction
    missing_records: int  # truth records absent from the prediction (scored as singletons)
    extra_records: int  # predicted records absent from the truth (excluded, counted)
    true_entities: int
    predicted_clusters: int  # clusters of the scored records, missing ones as singletons
    largest_cluster: int  # size of the largest of those clusters (in scored records)

    def to_dict(self) -> dict[str, int | float]:
        """All fields as a plain dict, e.g. for logging or Dagster metadata."""
        return dataclasses.asdict(self)


def _ratio(numerator: int, denominator: int) -> float:
    """``numerator / denominator``, with 0/0 taken as 1.0 (nothing claimed or nothing to find)."""
    return 1.0 if denominator == 0 else numerator / denominator


def _f1(precision: float, recall: float) -> float:
    """Harmonic mean, 0.0 when both are 0."""
    total = precision + recall
    return 0.0 if total == 0 else 2 * precision * recall / total


def _pairs(col: str) -> pl.Expr:
    """C(n, 2) in Int64 (exact: C(10^9, 2) < 2^63)."""
    n = pl.col(col).cast(pl.Int64)
    return n * (n - 1) // 2


def _select(
    df: pl.DataFrame, name: str, key: tuple[str, ...], label: str, internal: str
) -> pl.DataFrame:
    """The key and label columns under internal names; checks presence, label type, nulls."""
    missing = [c for c in (*key, label) if c not in df.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}; it has {df.columns}")
    if df.schema[label].is_nested() or df.schema[label] == pl.Object:
        raise ValueError(f"{name} column {label!r} is {df.schema[label]}; ids must be scalars")
    out = df.select(
        *(pl.col(c).alias(f"{_K}{i}") for i, c in enumerate(key)), pl.col(label).alias(internal)
    )
    for column, nulls in zip((*key, label), out.null_count().row(0), strict=True):
        if nulls:
            raise ValueError(f"{name} has {nulls} null value(s) in column {column!r}")
    return out


def _duplicates(records: pl.DataFrame, count: str, name: str, key: tuple[str, ...]) -> None:
    """ValueError naming the keys seen more than once in one input (at most a few shown)."""
    dups = records.filter(pl.col(count) > 1)
    if not dups.height:
        return
    keys = [f"{_K}{i}" for i in range(len(key))]
    shown = ", ".join(
        repr(row[0] if len(row) == 1 else row)
        for row in dups.select(keys).sort(keys).head(_SHOWN_DUPLICATES).rows()
    )
    more = dups.height - _SHOWN_DUPLICATES
    raise ValueError(
        f"{name} has {dups.height} duplicated key(s) on {list(key)}: {shown}"
        + (f" (and {more} more)" if more > 0 else "")
    )


def evaluate(
    predicted: pl.DataFrame,
    truth: pl.DataFrame,
    *,
    key: str | Sequence[str] = ("source_system", "source_key"),
    predicted_col: str = "golden_id",
    truth_col: str = "entity_id",
) -> Evaluation:
    """Score `predicted` (record -> cluster id) against `truth` (record -> entity id).

    Pairwise: TP = sum_ij C(n_ij, 2), precision = TP / sum_j C(b_j, 2),
    recall = TP / sum_i C(a_i, 2). B-cubed: precision = (1/N) sum_ij n_ij^2 / b_j,
    recall = (1/N) sum_ij n_ij^2 / a_i. Here ``a_i``/``b_j`` are true-entity/predicted-cluster
    sizes over the scored records. Missing truth records are singletons, extra predicted
    records are excluded (see the module docstring). Ids may be of any scalar type, and the
    two label columns need not share one.

    Raises ValueError when a column is absent, a key or id is null, an id is nested (list,
    struct), a key is duplicated in either input (the message names them), the key columns'
    types differ between the inputs, or `truth` is empty.

    Example::

        >>> truth = pl.DataFrame({"id": [1, 2, 3], "entity_id": [7, 7, 8]})
        >>> evaluate(truth.rename({"entity_id": "golden_id"}), truth, key="id").pairwise_f1
        1.0
    """
    keys: tuple[str, ...] = (key,) if isinstance(key, str) else tuple(key)
    if not keys:
        raise ValueError("key must name at least one column")
    if len(set(keys)) != len(keys):
        raise ValueError(f"key names a column twice: {list(keys)}")
    pred = _select(predicted, "predicted", keys, predicted_col, _P)
    true = _select(truth, "truth", keys, truth_col, _T)
    for i, column in enumerate(keys):
        p_type, t_type = pred.dtypes[i], true.dtypes[i]
        if p_type != t_type:
            raise ValueError(
                f"key column {column!r} is {p_type} in predicted but {t_type} in truth; "
                "cast one of them first"
            )
    n_records = true.height
    if n_records == 0:
        raise ValueError("truth is empty: there is nothing to evaluate")

    # One group-by over both inputs stacked, instead of a join plus a duplicate check per
    # input (each hashes every key): per key, how often each input holds it, and its ids.
    # With no duplicates each group has at most one id per side, so max() is that id.
    key_cols = [f"{_K}{i}" for i in range(len(keys))]
    p_dtype, t_dtype = pred.schema[_P], true.schema[_T]
    stacked = pl.concat(
        [
            true.lazy().with_columns(pl.lit(None, p_dtype).alias(_P)),
            pred.lazy().with_columns(pl.lit(None, t_dtype).alias(_T)).select(*key_cols, _T, _P),
        ]
    )
    records = (
        stacked.group_by(key_cols)
        .agg(
            pl.col(_T).max(),
            pl.col(_P).max(),
            pl.col(_T).count().alias(_IN_T),
            pl.col(_P).count().alias(_IN_P),
        )
        .collect()
    )
    _duplicates(records, _IN_P, "predicted", keys)
    _duplicates(records, _IN_T, "truth", keys)

    # Contingency table over the truth records: one row per (true entity, predicted cluster).
    # A null predicted id means "missing from predicted": the cell (i, null) holds the m_i
    # such records of entity i, each really its own singleton cluster.
    cells = (
        records.lazy()
        .filter(pl.col(_IN_T) == 1)
        .group_by(_T, _P)
        .agg(pl.len().cast(pl.Int64).alias(_N))
        .collect()
    )
    found = pl.col(_P).is_not_null()
    n = pl.col(_N)
    # sum_j n_ij^2 over an entity's cells, its singletons contributing 1 each.
    squares = pl.when(found).then(n * n).otherwise(n)

    per_entity = cells.group_by(_T).agg(n.sum().alias("a"), squares.sum().alias("s"))
    entity_stats = per_entity.select(
        _pairs("a").sum().alias("true_pairs"),
        (pl.col("s") / pl.col("a")).sum().alias("recall_sum"),
    ).row(0, named=True)

    matched = cells.filter(found)
    per_cluster = matched.group_by(_P).agg(n.sum().alias("b"), (n * n).sum().alias("s"))
    cluster_stats = per_cluster.select(
        _pairs("b").sum().alias("predicted_pairs"),
        (pl.col("s") / pl.col("b")).sum().alias("precision_sum"),
        pl.col("b").max().alias("largest"),
        pl.len().alias("clusters"),
    ).row(0, named=True)
    tp = int(matched.select(_pairs(_N).sum()).item() or 0)
    missing = int(cells.filter(~found).select(n.sum()).item() or 0)

    true_pairs = int(entity_stats["true_pairs"] or 0)
    predicted_pairs = int(cluster_stats["predicted_pairs"] or 0)
    evaluated = n_records - missing
    largest = int(cluster_stats["largest"] or 0)
    if missing:
        largest = max(largest, 1)

    pairwise_precision = _ratio(tp, predicted_pairs)
    pairwise_recall = _ratio(tp, true_pairs)
    # Each missing record is its own cluster: n^2 / b = 1 toward B-cubed precision. The min()
    # only absorbs float rounding of a sum that is exactly N at most.
    precision_sum = float(cluster_stats["precision_sum"] or 0.0) + missing
    bcubed_precision = min(1.0, precision_sum / n_records)
    bcubed_recall = min(1.0, float(entity_stats["recall_sum"] or 0.0) / n_records)
    return Evaluation(
        pairwise_precision=pairwise_precision,
        pairwise_recall=pairwise_recall,
        pairwise_f1=_f1(pairwise_precision, pairwise_recall),
        bcubed_precision=bcubed_precision,
        bcubed_recall=bcubed_recall,
        bcubed_f1=_f1(bcubed_precision, bcubed_recall),
        true_positive_pairs=tp,
        false_positive_pairs=predicted_pairs - tp,
        false_negative_pairs=true_pairs - tp,
        predicted_pairs=predicted_pairs,
        true_pairs=true_pairs,
        truth_records=n_records,
        evaluated_records=evaluated,
        missing_records=missing,
        extra_records=pred.height - evaluated,
        true_entities=per_entity.height,
        predicted_clusters=int(cluster_stats["clusters"]) + missing,
        largest_cluster=largest,
    )


def with_sides(pairs: pl.DataFrame, records: pl.DataFrame, column: str, name: str) -> pl.DataFrame:
    """`pairs` (``left_system, left_key, right_system, right_key``) with `records`' `column`
    (keyed by ``source_system, source_key``) for each side, as ``left_<name>``/``right_<name>``
    (null where a side is not in `records`)."""
    values = records.select("source_system", "source_key", column)
    for side in ("left", "right"):
        pairs = pairs.join(
            values.rename({"source_system": f"{side}_system", "source_key": f"{side}_key",
                           column: f"{side}_{name}"}),
            on=[f"{side}_system", f"{side}_key"], how="left",
        )  # fmt: skip
    return pairs


def true_pairs(pairs: pl.DataFrame, truth: pl.DataFrame) -> tuple[int, int]:
    """(pairs, of which true matches) for record pairs named by `left_system, left_key,
    right_system, right_key` (e.g. ``match.review_queue``), against `truth` (``source_system,
    source_key, entity_id``). A pair with a record outside the truth counts as not a match."""
    ids = truth.with_columns(pl.col("entity_id").cast(pl.String))
    sides = with_sides(pairs.select("left_system", "left_key", "right_system", "right_key"), ids,
                       "entity_id", "entity")  # fmt: skip
    same = (pl.col("left_entity") == pl.col("right_entity")).fill_null(False)
    return sides.height, int(sides.select(same.sum()).item())


def hard_negatives(xref: pl.DataFrame, truth: pl.DataFrame, tags: pl.DataFrame) -> pl.DataFrame:
    """How often planted hard negatives were merged: per kind and evidence, record pairs,
    merged pairs and their share.

    `tags` holds the generator's ``hard_negative`` rows (``source_system, source_key, tags``
    with ``<kind>;partner=<entity>;evidence=<a+b|none>``); every pair of records of two partner
    entities is one pair, `evidence` true when both records carry a value that tells them apart.
    """
    records = (
        tags.filter(pl.col("kind") == "hard_negative")
        .select(
            "source_system", "source_key",
            hard_negative=pl.col("tags").str.extract(r"^([a-z_]+)"),
            partner=pl.col("tags").str.extract(r"partner=(\d+)"),
            evidence=pl.col("tags").str.extract(r"evidence=([a-z_+]+)").str.split("+"),
        )
        .join(truth.select("source_system", "source_key", pl.col("entity_id").cast(pl.String)),
              on=["source_system", "source_key"])
        .join(xref.select("source_system", "source_key", "golden_id"),
              on=["source_system", "source_key"])
    )  # fmt: skip
    pairs = records.join(
        records, left_on=["partner", "hard_negative"], right_on=["entity_id", "hard_negative"],
        suffix="_b",
    ).filter(pl.col("entity_id") < pl.col("partner"))  # fmt: skip
    shared = pl.col("evidence").list.set_intersection(pl.col("evidence_b"))
    pairs = pairs.with_columns(
        merged=pl.col("golden_id") == pl.col("golden_id_b"),
        evidence=shared.list.set_difference(["none"]).list.len() > 0,
    )
    return (
        pairs.group_by("hard_negative", "evidence")
        .agg(pairs=pl.len(), merged=pl.col("merged").sum(), share=pl.col("merged").mean())
        .sort("hard_negative", "evidence")
    )
