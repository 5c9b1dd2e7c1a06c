"""The entity hierarchy, customer -> account -> contract: references and what they tell matching.

A child record names its parent by a source key of its own system (`customer_ref` on an
account, `account_ref` and `customer_ref` on a contract). `link` translates each reference
through the parent entity's cross-reference into the parent's golden ID, which is both the
child's relationship and its strongest match signal. A reference that cannot be translated is
a row defect, and the record goes to quarantine with a reason naming the reference:

- `orphan_reference`: no record of the parent entity in that system has that key;
- `parent_quarantined`: the parent record exists but was itself quarantined (a contract of an
  orphaned account), so the child has nothing to belong to;
- `reference_missing`: a reference the entity requires is empty.

Because a child's parent is looked up in the current run's cross-reference, children follow
their parents: when two customers merge, their accounts carry the merged customer's ID.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from . import normalize as norm
from .mapping import REQUIRED_REFERENCES

PARENT_OF = {"customer_ref": "customer", "account_ref": "account"}


@dataclass(frozen=True)
class Parent:
    """What a child entity needs to know of one parent entity."""

    entity: str
    xref: pl.DataFrame  # source_system, source_key, golden_id: every resolved parent record
    quarantined: pl.DataFrame  # source_system, source_key, rule: parent records held back


@dataclass(frozen=True)
class Linked:
    records: pl.DataFrame  # the children with a `<parent>_golden_id` column per reference
    quarantine: pl.DataFrame  # source_system, source_key, rule, detail


def _golden_column(reference: str) -> str:
    return f"{PARENT_OF[reference]}_golden_id"


def link(records: pl.DataFrame, entity: str, parents: dict[str, Parent]) -> Linked:
    """Translate every reference of `records` (staged `entity` records) to golden IDs.

    Returns the records whose every reference resolved (or is an empty optional one), each
    with `<parent>_golden_id`, and one quarantine row for every other record, whose `detail`
    lists each broken reference.
    """
    frame = records
    rules, details = [], []
    for reference, required in REQUIRED_REFERENCES[entity].items():
        parent = parents[PARENT_OF[reference]]
        golden, held = _golden_column(reference), f"_held_{reference}"
        frame = frame.join(
            parent.xref.select("source_system", pl.col("source_key").alias(reference),
                               pl.col("golden_id").alias(golden)),
            on=["source_system", reference], how="left",
        ).join(
            parent.quarantined.drop_nulls("source_key")
            .unique(["source_system", "source_key"], keep="first")
            .select("source_system", pl.col("source_key").alias(reference),
                    pl.col("rule").alias(held)),
            on=["source_system", reference], how="left",
        )  # fmt: skip
        given, found = pl.col(reference).is_not_null(), pl.col(golden).is_not_null()
        rule = (
            pl.when(~given & required).then(pl.lit("reference_missing"))
            .when(given & ~found & pl.col(held).is_not_null()).then(pl.lit("parent_quarantined"))
            .when(given & ~found).then(pl.lit("orphan_reference"))
        )  # fmt: skip
        what = f"{parent.entity} record"
        detail = (
            pl.when(~given & required).then(pl.lit(f"{reference} is empty"))
            .when(given & ~found & pl.col(held).is_not_null())
            .then(pl.format(f"{reference} '{{}}': the {{}} {what} it names is quarantined ({{}})",
                            reference, "source_system", held))
            .when(given & ~found)
            .then(pl.format(f"{reference} '{{}}' matches no {{}} {what}", reference,
                            "source_system"))
        )  # fmt: skip
        n = len(rules)
        frame = frame.with_columns(rule.alias(f"_rule{n}"), detail.alias(f"_detail{n}")).drop(held)
        rules.append(pl.col(f"_rule{n}"))
        details.append(pl.col(f"_detail{n}"))
    if not rules:
        empty = {"source_system": pl.String, "source_key": pl.String, "rule": pl.String,
                 "detail": pl.String}  # fmt: skip
        return Linked(records, pl.DataFrame(schema=empty))
    frame = frame.with_columns(
        _rule=pl.coalesce(rules), _detail=pl.concat_str(details, separator="; ", ignore_nulls=True)
    )
    broken = pl.col("_rule").is_not_null()
    quarantine = frame.filter(broken).select(
        "source_system", "source_key", rule="_rule", detail="_detail"
    )
    scratch = ["_rule", "_detail", *[f"_rule{i}" for i in range(len(rules))],
               *[f"_detail{i}" for i in range(len(rules))]]  # fmt: skip
    return Linked(frame.filter(~broken).drop(scratch), quarantine)


def _tokens(text: pl.Expr) -> pl.Expr:
    # `words` leaves single spaces between words: only an empty text would split into ""
    return norm.words(norm.fold(text)).replace("", None).str.split(" ")


def holder_label(records: pl.DataFrame, name: str, holder: str) -> pl.Series:
    """What names the record among its holder's: the words of column `name` that are not words
    of column `holder` ("Ute Weller - Cottage" held by "Ute Weller" -> "cottage").

    Systems name accounts after their holder plus a label; two accounts of one customer differ
    only in the label. A last word that begins a holder word is dropped too: the system cut the
    name short inside the holder's name ("IRONBRIDGE LEBENSMITT"). Null when nothing is left.
    """
    words = records.select(
        _n=_tokens(pl.col(name)),
        # the holder's words between spaces: a word of it is " word ", a word's start " wo"
        _h=pl.lit(" ") + norm.words(norm.fold(pl.col(holder))).fill_null("") + pl.lit(" "),
    ).with_row_index("_i")
    # each name word with its row and position: exploded rows stay in row order, so the
    # positions are counted with arrays (a window per row cost a fifth of the labels)
    counts = words["_n"].list.len().fill_null(0).to_numpy()
    position = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    last = position == np.repeat(counts - 1, counts)
    named = words.explode("_n").drop_nulls("_n").with_columns(_last=pl.Series(last))
    # a word of the holder's, or the last word and the start of one of the holder's: a
    # substring test against the row's own holder text (joins of every word with every holder
    # word of its row took two thirds of the labels)
    held = pl.col("_h").str.contains(pl.lit(" ") + pl.col("_n") + pl.lit(" "), literal=True)
    cut = pl.col("_last") & pl.col("_h").str.contains(pl.lit(" ") + pl.col("_n"), literal=True)
    named = named.filter(~(held | cut))
    # still in row and word order: joined per row as they come, then placed by row
    label = named.group_by("_i", maintain_order=True).agg(pl.col("_n").str.join(" "))
    out = pl.repeat(None, records.height, dtype=pl.String, eager=True)
    return out.scatter(label["_i"], label["_n"]).rename(f"{name}_label")


_LABEL_ROWS = 250_000  # accounts labelled at a time

# what `with_labels` reads of the customer records
HOLDER_COLUMNS = ["source_system", "source_key", "given_name", "family_name", "full_name",
                  "organization_name"]  # fmt: skip


def with_labels(accounts: pl.DataFrame, customers: pl.DataFrame) -> pl.DataFrame:
    """`accounts` (linked) with `m_label`: the account name without the words of the customer
    record it references (`customers`: staged customer records)."""
    names = HOLDER_COLUMNS[2:]
    # narrow before `unique`, which would copy every column of millions of customers
    holders = customers.select("source_system", "source_key", *names).unique(
        ["source_system", "source_key"], keep="first"
    ).select(
        "source_system",
        pl.col("source_key").alias("customer_ref"),
        _holder=pl.concat_str(names, separator=" ", ignore_nulls=True),
    )  # fmt: skip
    # only the name and its holder's: a join copies every column it carries
    joined = accounts.select("source_system", "customer_ref", "account_name").join(
        holders, on=["source_system", "customer_ref"], how="left", maintain_order="left"
    )
    # a label depends on its own row alone: in slices, the exploded words of 2M accounts
    # were the staged step's peak at 1M entities
    labels = [holder_label(joined.slice(i, _LABEL_ROWS), "account_name", "_holder")
              for i in range(0, joined.height, _LABEL_ROWS)]  # fmt: skip
    label = pl.concat(labels) if labels else pl.Series("account_name_label", [], pl.String)
    return accounts.with_columns(m_label=label)


def through_account(contracts: pl.DataFrame, accounts: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """Contracts whose `customer_golden_id` is their golden account's customer (`accounts`:
    golden_id, customer_golden_id), and how many records' own customer reference named
    another golden customer: the account decides, the disagreement is reported."""
    owner = accounts.select(
        pl.col("golden_id").alias("account_golden_id"), pl.col("customer_golden_id").alias("_own")
    )
    joined = contracts.join(owner, on="account_golden_id", how="left")
    disagree = joined.select(
        (
            pl.col("customer_golden_id").is_not_null()
            & (pl.col("customer_golden_id") != pl.col("_own"))
        ).sum()
    ).item()
    return joined.with_columns(customer_golden_id=pl.col("_own")).drop("_own"), int(disagree)


def dangling(children: pl.DataFrame, column: str, parents: pl.DataFrame) -> pl.DataFrame:
    """Rows of `children` whose `column` names no `golden_id` of `parents` (null included):
    a golden record pointing at a parent that does not exist."""
    return children.join(
        parents.select(pl.col("golden_id").alias(column)), on=column, how="anti", nulls_equal=False
    )
