"""Blocking: candidate pairs from several keys, as self-joins, with block-size caps.

A blocking rule is a value: a name and the expressions whose equality puts two records in
one block (`BlockingRule("email", [pl.col("m_email")])`). Rows with a null in any part are
not blocked by that rule. A block larger than `max_block` is skipped and reported: it says
less about identity than its size costs (a common surname in a big city). Before any join,
the pair count is estimated from block sizes; above `pair_budget` the run stops, since only a
misconfigured key produces that.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl


@dataclass(frozen=True)
class BlockingRule:
    name: str
    parts: tuple[pl.Expr, ...]
    # a weak key's own, lower cap on its blocks: a phonetic code of two names is shared by
    # ever more strangers as the records grow, and its pairs with them (`cap`)
    max_block: int | None = None

    def cap(self, max_block: int) -> int:
        """The largest block this rule pairs up under the run's `max_block`."""
        return max_block if self.max_block is None else min(max_block, self.max_block)

    def key(self) -> pl.Expr:
        """A 64-bit hash of the parts, null where a part is null. Two keys colliding would
        only put two more records in one block: a few more pairs scored, none lost."""
        present = pl.all_horizontal([p.is_not_null() for p in self.parts])
        parts = pl.struct([p.alias(f"part{i}") for i, p in enumerate(self.parts)])
        return pl.when(present).then(parts.hash())


@dataclass(frozen=True)
class Blocked:
    # left, right (record indices, left < right), rules: the names of the rules that found
    # the pair, sorted and comma-joined, a Categorical (a few hundred distinct sets among
    # millions of pairs: 4 bytes a pair, where a list of strings cost ~40)
    pairs: pl.DataFrame
    report: pl.DataFrame  # rule, blocks, capped_blocks, capped_records, pairs


class PairBudgetExceeded(RuntimeError):
    """The blocking keys would produce more candidate pairs than the budget allows."""


@dataclass(frozen=True)
class _Blocks:
    """One rule's blocks: record rows sorted by key, where each block starts, its size."""

    rows: np.ndarray
    starts: np.ndarray
    sizes: np.ndarray

    @classmethod
    def of(cls, keys: pl.Series) -> _Blocks:
        rows = np.flatnonzero(keys.is_not_null().to_numpy())
        values = keys.to_numpy()[rows]
        # Polars' sort, on both cores (NumPy's takes twice as long on one); in no particular
        # order within a block: a block's pairs are sorted again in `_union`
        order = pl.Series(values).arg_sort().to_numpy()
        rows, values = rows[order], values[order]
        starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]]) if len(rows) else rows
        return cls(rows, starts, np.diff(np.r_[starts, len(rows)]))

    def pair_count(self, max_block: int) -> int:
        kept = self.sizes[self.sizes <= max_block].astype(np.int64)
        return int((kept * (kept - 1) // 2).sum())

    def pairs(self, max_block: int) -> np.ndarray:
        """Every pair within each block of 2..max_block records, as left << 32 | right."""
        kept = (self.sizes >= 2) & (self.sizes <= max_block)
        sizes, starts = self.sizes[kept], self.starts[kept]
        # member p of a block of s pairs with the s-1-p members after it
        member = np.repeat(starts, sizes) + _ranks(sizes)
        after = np.repeat(sizes, sizes) - 1 - _ranks(sizes)
        first = np.repeat(member, after)
        second = first + 1 + _ranks(after)
        a, b = self.rows[first].astype(np.uint64), self.rows[second].astype(np.uint64)
        return (np.minimum(a, b) << np.uint64(32)) | np.maximum(a, b)


def found_by(rules: pl.Series, rule: str) -> np.ndarray:
    """Per pair, whether blocking rule `rule` found it (`rules`: `Blocked.pairs["rules"]`)."""
    sets = rules.unique()  # a few hundred: only these are read as text
    hits = sets.filter(sets.cast(pl.String).str.split(",").list.contains(rule))
    if len(hits) == 0:
        return np.zeros(len(rules), bool)
    return rules.is_in(hits.implode()).to_numpy()


def _ranks(counts: np.ndarray) -> np.ndarray:
    """0, 1, .. counts[i]-1 for each i, concatenated."""
    ends = np.cumsum(counts)
    return np.arange(ends[-1] if len(ends) else 0) - np.repeat(ends - counts, counts)


def _blocks(records: pl.DataFrame, rules: list[BlockingRule]) -> list[_Blocks]:
    keys = records.select(**{f"rule{i}": r.key() for i, r in enumerate(rules)})
    # two rules at a time: a rule's sort keeps both cores busy, the array work around it one
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(_Blocks.of, keys.get_columns()))


def estimate_pairs(records: pl.DataFrame, rules: list[BlockingRule], max_block: int) -> int:
    """Upper bound of candidate pairs (before de-duplication across rules), from block sizes."""
    return sum(b.pair_count(r.cap(max_block)) for r, b in zip(rules, _blocks(records, rules),
                                                              strict=True))  # fmt: skip


def _union(found: list[pl.DataFrame]) -> tuple[np.ndarray, np.ndarray]:
    """Each pair code found by any rule once, ascending, with the bits of the rules that found
    it OR-ed. By one sort and a segmented reduce: at 5M entities the rules find ~75M pairs, and
    a hash group-by over them took most of the candidate step's 19 GB."""
    together = pl.concat(found).sort("pair")
    found.clear()
    code = together["pair"].to_numpy()
    bits = together["bit"].to_numpy()
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    return code[starts], np.bitwise_or.reduceat(bits, starts) if len(starts) else bits


def _over_budget(rules: list[BlockingRule], per_rule: list[int], pair_budget: int) -> str:
    """Why blocking stops: the estimate, and the rule(s) making most of it, by name."""
    total = sum(per_rule)
    ranked = sorted(zip(per_rule, (r.name for r in rules), strict=True), reverse=True)
    # the rules that make the bulk: the biggest, and any other making a tenth or more
    worst = [(n, name) for i, (n, name) in enumerate(ranked) if i == 0 or n * 10 >= total]
    blame = "; ".join(f"rule {name!r} alone makes {n:,} ({n / total:.0%})" for n, name in worst)
    return (f"blocking would make about {total:,} candidate pairs, over the budget of "
            f"{pair_budget:,} (pair_budget): {blame}: its key is too coarse, or its blocks "
            "too large (max_block)")  # fmt: skip


def block(
    records: pl.DataFrame,
    rules: list[BlockingRule],
    *,
    max_block: int = 50,
    pair_budget: int = 50_000_000,
) -> Blocked:
    """Candidate pairs of `records` (indexed by row number) under any of `rules`. Blocks are
    found by sorting each rule's key hashes and their pairs enumerated with array arithmetic;
    the pair count is known from the block sizes before any pair is made."""
    blocks = _blocks(records, rules)
    per_rule = [b.pair_count(r.cap(max_block)) for r, b in zip(rules, blocks, strict=True)]
    if sum(per_rule) > pair_budget:
        raise PairBudgetExceeded(_over_budget(rules, per_rule, pair_budget))
    found, report = [], []
    for i, (rule, rule_blocks) in enumerate(zip(rules, blocks, strict=True)):
        codes = rule_blocks.pairs(rule.cap(max_block))
        found.append(pl.DataFrame({"pair": codes, "bit": np.full(len(codes), 1 << i, np.uint32)}))
        capped = rule_blocks.sizes > rule.cap(max_block)
        report.append({
            "rule": rule.name, "blocks": len(rule_blocks.sizes), "capped_blocks": int(capped.sum()),
            "capped_records": int(rule_blocks.sizes[capped].sum()), "pairs": len(codes),
        })  # fmt: skip
    code, bits = _union(found)
    masks = pl.Series(bits).unique().sort().to_numpy()  # a few hundred sets of rules
    which = np.searchsorted(masks, bits)
    names = pl.Series([",".join(sorted(r.name for i, r in enumerate(rules) if int(m) >> i & 1))
                       for m in masks], dtype=pl.Categorical)  # fmt: skip
    pairs = pl.DataFrame({
        "left": (code >> np.uint64(32)).astype(np.int64),
        "right": (code & np.uint64(0xFFFFFFFF)).astype(np.int64),
        "rules": names.gather(which),
    })  # fmt: skip
    return Blocked(pairs, pl.DataFrame(report))
