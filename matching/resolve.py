"""Entity resolution of staged records in three steps: candidates, score, cluster.

Records are resolved by *kind*, each with its own comparisons, blocking rules and
Fellegi-Sunter model: customers as persons and organisations apart (a person never matches a
company); accounts and contracts within their parent (the parent's golden ID, from
`matching.hierarchy.link`, is a blocking key and the first comparison).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl

from . import normalize as norm
from .blocking import Blocked, BlockingRule, block, found_by
from .cluster import Guarded, guarded_components
from .compare import COMPARED_COLUMNS, COMPARISONS, CONTEXTS, compare_sides
from .frequency import term_frequencies
from .score import Model, context_levels, estimate_u, score_pairs, train
from .sides import Sides


def _sorted_pair(a: str, b: str) -> pl.Expr:
    lo = pl.min_horizontal(pl.col(a), pl.col(b))
    hi = pl.max_horizontal(pl.col(a), pl.col(b))
    return pl.concat_str([lo, hi], separator=" ")


def _sound(column: str) -> pl.Expr:
    return pl.col(column).map_batches(norm.sounds, return_dtype=pl.String)


# The comparisons each blocking rule forces to agree: left out of that rule's training session.
FORCED: dict[str, frozenset[str]] = {
    "email": frozenset({"email"}),
    "phone": frozenset({"phone"}),
    "name": frozenset({"name_given", "name_family", "organization"}),
    "family_postcode": frozenset({"name_family", "postcode", "city"}),
    "given_birth": frozenset({"name_given", "birth_date"}),
    "family_birth": frozenset({"name_family", "birth_date"}),
    "birth_postcode": frozenset({"birth_date", "postcode", "city"}),
    "address": frozenset({"postcode", "address", "city"}),
    "tax_id": frozenset({"tax_id"}),
    "national_id": frozenset({"tax_id"}),
    "name_start_city": frozenset({"city"}),
    "given_postcode": frozenset({"name_given", "postcode", "city"}),
    "birth_city": frozenset({"birth_date", "city"}),
    "birth_address": frozenset({"birth_date", "address"}),
    "address_city": frozenset({"address", "city"}),
    "given_address": frozenset({"name_given", "address"}),
    "sounds": frozenset(),
    "customer": frozenset({"customer"}),
    "customer_label": frozenset({"customer", "label"}),
    "iban": frozenset({"iban"}),
    "account": frozenset({"account"}),
}
TRAINING_SESSIONS = {
    "person": ("name", "birth_postcode", "email"),
    "organization": ("name", "tax_id", "address"),
    "account": ("customer", "iban"),
    "contract": ("account",),
}
# Evidence that tells two people of one household apart (a different given name, birth dates
# decades apart, Jr and Sr) is learned only from pairs that share a *personal* identifier. In
# blocks built on names or addresses, twins and fathers and sons agree on everything else, so
# EM would count them as matches and learn that such conflicts are common among duplicates.
TAUGHT_BY: dict[str, tuple[str, ...]] = {
    "name_given": ("email",),
    "birth_date": ("email",),
    "generation": ("email",),
}
KINDS = {"customer": ("person", "organization"), "account": ("account",),
         "contract": ("contract",)}  # fmt: skip

BLOCKING: dict[str, list[BlockingRule]] = {
    "person": [
        BlockingRule("email", (pl.col("m_email"),)),
        BlockingRule("phone", (pl.col("m_phone"),)),
        # the same full name. Blocks of more than 10 are namesakes: at 1M entities 857k of the
        # 4M person pairs for 388 of 1.09M true ones no other rule found (0.04%), and growing
        # as N squared with the records (a name shared by 4 at 1M is shared by 20 at 5M)
        BlockingRule("name", (_sorted_pair("m_given", "m_family"),), max_block=10),
        BlockingRule("family_postcode", (pl.col("m_family"), pl.col("m_postcode"))),
        BlockingRule("given_birth", (pl.col("m_given"), pl.col("birth_date"))),
        BlockingRule("family_birth", (pl.col("m_family"), pl.col("birth_date"))),
        BlockingRule("birth_postcode", (pl.col("birth_date"), pl.col("m_postcode"))),
        BlockingRule("address", (pl.col("m_postcode"), pl.col("m_address"))),
        BlockingRule("national_id", (pl.col("m_tax_id"),)),
        BlockingRule("given_postcode", (pl.col("m_given"), pl.col("m_postcode"))),
        # blocks of more than 10: 35k pairs at 1M entities, not one of them a true pair
        BlockingRule("birth_city", (pl.col("birth_date"), pl.col("m_city")), max_block=10),
        BlockingRule("birth_address", (pl.col("birth_date"), pl.col("m_address"))),
        # a postcode typo must not hide a shared street address
        BlockingRule("address_city", (pl.col("m_address"), pl.col("m_city"))),
        BlockingRule("given_address", (pl.col("m_given"), pl.col("m_address"))),
        # both names misspelt ("Jon Smyth" / "John Smith") and nothing else shared exactly.
        # Blocks of more than 10: 63% of this rule's pairs at 1M entities (1.7M found by it
        # alone) for 52 of 1.56M true pairs, and growing as N squared with the records.
        BlockingRule("sounds", (_sound("m_given"), _sound("m_family")), max_block=10),
    ],
    "organization": [
        BlockingRule("email", (pl.col("m_email"),)),
        BlockingRule("phone", (pl.col("m_phone"),)),
        BlockingRule("tax_id", (pl.col("m_tax_id"),)),
        BlockingRule("name", (pl.col("m_organization"),)),
        # a name's first word in one town: blocks of more than 10 held 1.8M pairs found by
        # this rule alone at 1M entities, for 449 true pairs
        BlockingRule(
            "name_start_city",
            (
                pl.col("m_organization").str.split(" ").list.first(),
                pl.col("m_city"),
            ),
            max_block=10,
        ),  # fmt: skip
        BlockingRule("address", (pl.col("m_postcode"), pl.col("m_address"))),
    ],
    "account": [
        BlockingRule("customer", (pl.col("customer_golden_id"),)),
        BlockingRule("customer_label", (pl.col("customer_golden_id"), pl.col("m_label"))),
        BlockingRule("iban", (pl.col("m_iban"),)),
    ],
    "contract": [
        BlockingRule("account", (pl.col("account_golden_id"),)),
    ],
}


@dataclass(frozen=True)
class Settings:
    threshold: float = 0.9  # match probability at or above which a pair joins a cluster
    review_threshold: float = 0.5  # from here up to `threshold`: a steward decides
    conflict: float = 0.01  # two records whose pair scored below this never share a cluster
    conflict_bits: float = 6.64  # ... nor, unless merged directly, one field 100:1 against
    max_block: int = 50
    pair_budget: int = 50_000_000
    random_pairs: int = 200_000  # record pairs sampled to estimate u
    chunk_pairs: int = 2_000_000  # pairs compared and scored at a time: bounds scoring's memory
    seed: int = 0


def _random_pairs(rows: np.ndarray, k: int, rng: np.random.Generator):
    left = rng.choice(rows, k)
    right = rng.choice(rows, k)
    keep = left != right
    return left[keep], right[keep]


def _blocking_columns(kind: str) -> list[str]:
    return sorted({c for rule in BLOCKING[kind] for part in rule.parts
                   for c in part.meta.root_names()})  # fmt: skip


def blocking_columns(entity: str) -> list[str]:
    """The staged columns `candidates` reads for `entity`: the kind and the rules' keys."""
    kind = ["party_type"] if entity == "customer" else []
    return list(dict.fromkeys([*kind, *(c for k in KINDS[entity] for c in _blocking_columns(k))]))


def scoring_columns(entity: str) -> list[str]:
    """The staged columns `score` reads for `entity`: the kind, the keys (a steward's labels
    name records by them) and what the comparisons compare."""
    compared = [c for kind in KINDS[entity] for c in COMPARED_COLUMNS[kind]]
    kind = ["party_type"] if entity == "customer" else []
    return list(dict.fromkeys([*kind, "source_system", "source_key", *compared]))


def kinds(records: pl.DataFrame, entity: str) -> np.ndarray:
    """The kind of each record: its party type for a customer, else the entity itself."""
    if entity == "customer":
        return records["party_type"].to_numpy()
    return np.full(records.height, entity, dtype=object)


def candidates(
    records: pl.DataFrame, settings: Settings = Settings(), entity: str = "customer"
) -> Blocked:
    """Candidate pairs (`left`, `right` record rows, `party`, `rules`: Categoricals) and the
    blocking report; kinds are blocked apart (a person is never paired with an organisation)."""
    party = kinds(records, entity)
    pairs, reports = [], []
    for kind in KINDS[entity]:
        rows = np.flatnonzero(party == kind)
        if len(rows) < 2:
            continue
        # only the columns the rules read: a slice of every column cost GBs at 1M entities
        used = _blocking_columns(kind)
        blocked = block(records.select(used)[rows], BLOCKING[kind],
                        max_block=settings.max_block, pair_budget=settings.pair_budget)  # fmt: skip
        reports.append(blocked.report.with_columns(party=pl.lit(kind)))
        pairs.append(blocked.pairs.with_columns(
            left=pl.Series(rows[blocked.pairs["left"].to_numpy()]),
            right=pl.Series(rows[blocked.pairs["right"].to_numpy()]),
            party=pl.lit(kind, pl.Categorical),
        ))  # fmt: skip
    empty = pl.DataFrame(schema={"left": pl.Int64, "right": pl.Int64, "rules": pl.Categorical,
                                 "party": pl.Categorical})  # fmt: skip
    return Blocked(
        pl.concat(pairs, how="vertical_relaxed") if pairs else empty,
        pl.concat(reports) if reports else pl.DataFrame(),
    )


def with_decisions(pairs: pl.DataFrame, labels: pl.DataFrame, party: np.ndarray) -> pl.DataFrame:
    """Candidate pairs plus every labelled pair (`left`, `right`, `match`) blocking missed,
    each with its label (`match`, null where none): a steward's decision is always scored."""
    lo, hi = pl.min_horizontal("left", "right"), pl.max_horizontal("left", "right")
    labels = labels.select(left=lo, right=hi, match=pl.col("match").cast(pl.Boolean)).unique(
        ["left", "right"], keep="last"
    )
    labels = labels.filter(pl.Series(party[labels["left"].to_numpy()] ==
                                     party[labels["right"].to_numpy()]))  # fmt: skip
    missed = labels.join(pairs.select("left", "right"), on=["left", "right"], how="anti")
    extra = missed.select(
        "left", "right", rules=pl.lit("label", pl.Categorical),
        party=pl.Series(party[missed["left"].to_numpy()], dtype=pl.Categorical),
    )  # fmt: skip
    out = pl.concat([pairs, extra.cast(pairs.schema)], how="vertical")
    return out.join(labels, on=["left", "right"], how="left")


def scored_schema(entity: str, labelled: bool = False) -> pl.Schema:
    """The columns of `entity`'s scored pairs, the same in every chunk: each kind's levels and
    bits (null where a comparison is not the pair's kind's), then weight and probability."""
    names = [n for kind in KINDS[entity]
             for n in [*(c.name for c in COMPARISONS[kind]),
                       *(c.name for c in CONTEXTS.get(kind, ()))]]  # fmt: skip
    names = list(dict.fromkeys(names))
    return pl.Schema({
        "left": pl.Int64, "right": pl.Int64, "rules": pl.Categorical(), "party": pl.Categorical(),
        **({"match": pl.Boolean} if labelled else {}),
        **{f"level_{n}": pl.Int8 for n in names}, **{f"weight_{n}": pl.Float32 for n in names},
        "weight": pl.Float64, "probability": pl.Float64,
    })  # fmt: skip


class Scoring:
    """Comparison levels, match weight and probability for every candidate pair, produced
    chunk by chunk: iterating yields frames of at most `settings.chunk_pairs` pairs, each with
    `schema`, kind after kind in candidate order. `models` holds each kind's model once its
    first chunk is out.

    A kind's pairs are compared in chunks (the per-pair arrays of one chunk at a time; the
    records are encoded once for all), their levels kept (a byte per comparison and pair),
    the model trained on all of them, and then each chunk is scored and handed on: memory
    grows with the levels, not with the scored frame (34 columns a pair at 1M entities).

    `labels` (`left`, `right` record rows, `match`), where given, are a steward's decisions:
    they decide their own pairs (probability 1 or 0, so a "no" is also a conflict the
    clustering guard respects; `weight` keeps the model's own) and, through
    `labelled_settings`, the match threshold. They do not train m: labels drawn from the
    review band are its hardest pairs, and as a training session they moved m away from the
    rest of the data (F1 on the entities no label touched fell, benchmarks/RESULTS.md).
    `progress(pairs_done, note)`, where given, hears after each chunk compared (counted as
    half its pairs' work) and each chunk scored."""

    def __init__(
        self,
        records: pl.DataFrame,
        pairs: pl.DataFrame,
        settings: Settings = Settings(),
        entity: str = "customer",
        labels: pl.DataFrame | None = None,
        progress: Callable[[int, str], object] | None = None,
    ):
        self.records, self.settings, self.entity, self.progress = (
            records, settings, entity, progress)  # fmt: skip
        self.party = kinds(records, entity)
        if labels is not None and labels.height:
            pairs = with_decisions(pairs, labels, self.party)
        self.pairs = pairs
        self.schema = scored_schema(entity, "match" in pairs.columns)
        self.models: dict[str, Model] = {}
        # one encoding of the records for every kind: persons and organizations share most
        # compared columns (email, phone, address, ...), each encoded once, not once per kind
        self._records = Sides(records, np.empty(0, np.int64), np.empty(0, np.int64))
        compared = {c for kind in KINDS[entity] for c in COMPARED_COLUMNS[kind]}
        self._records.encode(c for c in records.columns
                             if c in compared and records.schema[c] == pl.String)  # fmt: skip

    def __iter__(self) -> Iterator[pl.DataFrame]:
        rng = np.random.default_rng(self.settings.seed)
        done = 0
        for kind in KINDS[self.entity]:
            subset = self.pairs.filter(pl.col("party") == kind)
            if subset.height:
                yield from self._kind(kind, subset, rng, done)
                done += subset.height

    def _chunks(self, n: int) -> list[slice]:
        size = max(self.settings.chunk_pairs, 1)
        return [slice(i, min(i + size, n)) for i in range(0, n, size)]

    def _note(self, done: int, note: str) -> None:
        if self.progress:
            self.progress(done, note)

    def _kind(self, kind: str, subset: pl.DataFrame, rng, done: int) -> Iterator[pl.DataFrame]:
        comparisons, n = COMPARISONS[kind], subset.height
        rows = np.flatnonzero(self.party == kind)
        sides = self._records.pairs(subset["left"].to_numpy(), subset["right"].to_numpy())
        parts = []
        for chunk in self._chunks(n):
            parts.append(compare_sides(sides.pairs(sides.left[chunk], sides.right[chunk]), kind))
            self._note(done + chunk.stop // 2, f"{kind} pairs compared")
        levels = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        del parts
        rl, rr = _random_pairs(rows, min(self.settings.random_pairs, len(rows) ** 2), rng)
        u = estimate_u(comparisons, compare_sides(sides.pairs(rl, rr), kind))
        sessions = []
        for rule in TRAINING_SESSIONS[kind]:
            mask = found_by(subset["rules"], rule)
            if mask.any():
                # a comparison learns only from the sessions allowed to teach it
                excluded = FORCED[rule] | {c for c, only in TAUGHT_BY.items() if rule not in only}
                sessions.append(({k: v[mask] for k, v in levels.items()}, excluded))
        model = train(comparisons, sessions, u, levels, len(rows),
                      contexts=CONTEXTS.get(kind, ()))  # fmt: skip
        del sessions
        self.models[kind] = model
        label = subset["match"].cast(pl.Float64).to_numpy() if "match" in subset.columns else None
        for chunk in self._chunks(n):
            part = sides.pairs(sides.left[chunk], sides.right[chunk])
            chunk_levels = {k: v[chunk] for k, v in levels.items()}
            bits, weight, probability = score_pairs(model, chunk_levels, term_frequencies(
                part, rows, kind))  # fmt: skip
            if label is not None:
                probability = np.where(np.isnan(label[chunk]), probability, label[chunk])
            self._note(done + (n + chunk.stop) // 2, f"{kind} pairs scored")
            chunk_levels |= context_levels(model, chunk_levels)
            frame = subset[chunk].with_columns(
                **{f"level_{k}": pl.Series(v) for k, v in chunk_levels.items()},
                **{f"weight_{k}": pl.Series(v) for k, v in bits.items()},
                weight=pl.Series(weight), probability=pl.Series(probability),
            )  # fmt: skip
            missing = {c: pl.lit(None, t) for c, t in self.schema.items() if c not in frame.columns}
            yield frame.with_columns(**missing).select(self.schema.names()).cast(self.schema)


def score(
    records: pl.DataFrame,
    pairs: pl.DataFrame,
    settings: Settings = Settings(),
    entity: str = "customer",
    labels: pl.DataFrame | None = None,
    progress: Callable[[int, str], object] | None = None,
) -> tuple[pl.DataFrame, dict[str, Model]]:
    """Every candidate pair scored (`Scoring`'s chunks in one frame), and the models."""
    scoring = Scoring(records, pairs, settings, entity, labels, progress)
    chunks = list(scoring)
    scored = pl.concat(chunks) if chunks else pl.DataFrame(schema=scoring.schema)
    return scored, scoring.models


def labelled_settings(scored: pl.DataFrame, settings: Settings) -> Settings:
    """`settings` with the match threshold the steward's labels choose, where they can.

    Labels drawn from the review band say how often its pairs really match. Merging a band pair
    is right when it is more likely a match than not; so, walking down from the threshold
    through the labelled band pairs by the model's own probability (before its label decided
    it), the new threshold is where the labelled matches above it outnumber the non-matches by
    the most. No labelled pair in the band, or no such point: the threshold stays.
    """
    if "match" not in scored.columns:
        return settings
    band = scored.filter(pl.col("match").is_not_null()).with_columns(
        model=1.0 / (1.0 + (2.0 ** -pl.col("weight")))  # `probability` holds the label
    ).filter(pl.col("model").is_between(settings.review_threshold, settings.threshold,
                                        closed="left"))  # fmt: skip
    if band.height == 0:
        return settings
    band = band.sort("model", descending=True)
    gain = np.cumsum(np.where(band["match"].to_numpy(), 1, -1))
    best = int(np.argmax(gain))
    if gain[best] <= 0:
        return settings
    return dataclasses.replace(settings, threshold=float(band["model"][best]))


def cluster(
    n_records: int,
    scored: pl.DataFrame | pl.LazyFrame,
    threshold: float,
    conflict: float = 0.01,
    conflict_bits: float = 6.64,
) -> Guarded:
    """Clusters of the pairs at or above `threshold` (connected components), never holding two
    records the model found apart (matching.cluster.guarded_components): their own pair scored
    below `conflict`, or below `threshold` with one comparison alone weighing at least
    `conflict_bits` against it (birth dates decades apart, two different valid IBANs). A pair
    the model merges itself is never a conflict: strong disagreement is a weight, not a veto.
    `scored` may be a query (a scan of the scored pairs' file): only the pairs that decide are
    collected, not every comparison's bits of every pair."""
    scored = scored.lazy()
    bits = [c for c in scored.collect_schema().names() if c.startswith("weight_")]
    against = pl.min_horizontal(pl.col(bits).fill_null(0.0)) if bits else pl.lit(0.0)
    strong, apart = pl.collect_all([
        scored.filter(pl.col("probability") >= threshold).select("left", "right", "probability"),
        scored.filter(
            (pl.col("probability") < conflict)
            | ((pl.col("probability") < threshold) & (against <= -conflict_bits))
        ).select("left", "right"),
    ])  # fmt: skip
    return guarded_components(
        n_records, strong["left"].to_numpy(), strong["right"].to_numpy(),
        strong["probability"].to_numpy(), apart["left"].to_numpy(), apart["right"].to_numpy(),
    )  # fmt: skip
