"""`mdm explain`: a golden record or a pair decision, explained from the published tables.

Reads `mdm.duckdb` read-only; every query takes values as parameters, never as SQL text.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from matching import explain

ENTITIES = ("customer", "account", "contract")


class NotFound(LookupError):
    """The golden ID or source record is not in the published cross-reference."""


def _sql(con: duckdb.DuckDBPyConnection, query: str, *params: object) -> pl.DataFrame:
    return con.sql(query, params=list(params)).pl()


def _has_review_queue(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.sql("SELECT count(*) FROM information_schema.tables WHERE table_schema = "
                    "'match' AND table_name = 'review_queue'").fetchall()  # fmt: skip
    return bool(found[0][0])


def _entity(value: str) -> str:
    """An entity name from the data, checked before it names a table."""
    if value not in ENTITIES:
        raise ValueError(f"unknown entity {value!r} in golden.xref")
    return value


def _pair_lines(pairs: pl.DataFrame, top: int) -> list[str]:
    reasons = explain.reasons(pairs, top=top)
    return [
        f"  {row['left_system']} {row['left_key']} ~ {row['right_system']} {row['right_key']}"
        f"  p={row['probability']:.4f}  {why}"
        for row, why in zip(pairs.iter_rows(named=True), reasons, strict=True)
    ]


def golden_record(database: Path, golden_id: str) -> list[str]:
    """Its surviving values with their source and rule, its member records, and the pairs
    that bound them (the strongest evidence of each)."""
    with duckdb.connect(str(database), read_only=True) as con:
        members = _sql(con, "SELECT entity, source_system, source_key, match_probability "
                       "FROM golden.xref WHERE golden_id = ? AND valid_to IS NULL "
                       "ORDER BY source_system, source_key", golden_id)  # fmt: skip
        if members.height == 0:
            chain = _chain(con, golden_id)
            if chain.height:
                raise NotFound(f"{golden_id} was retired in version "
                               f"{chain['retired_version'][0]}; `mdm resolve {golden_id}` "
                               "gives the ID that holds its records now")  # fmt: skip
            raise NotFound(f"no golden record {golden_id!r} in {database}")
        entity = _entity(members["entity"][0])
        record = _sql(con, f'SELECT * FROM golden."{entity}" WHERE golden_id = ?', golden_id)
        lineage = _sql(con, "SELECT attribute, source_system, source_key, rule FROM "
                       "golden.lineage WHERE golden_id = ?", golden_id)  # fmt: skip
        keys = list(zip(members["source_system"], members["source_key"], strict=True))
        pairs = _sql(con, f'SELECT * FROM match."pairs_{entity}" WHERE '
                     "list_contains(?, [left_system, left_key]) AND "
                     "list_contains(?, [right_system, right_key]) ORDER BY probability DESC",
                     [list(k) for k in keys], [list(k) for k in keys])  # fmt: skip
    row = record.row(0, named=True)
    lines = [
        f"{golden_id} ({entity}): {row['source_count']} source record(s), "
        f"confidence {row['confidence']:.4f}",
        "",
        "values (attribute = value  <- source, rule):",
    ]
    source = {r["attribute"]: r for r in lineage.iter_rows(named=True)}
    for attribute, value in row.items():
        if attribute in ("golden_id", "source_count", "confidence", "valid_from", "version"):
            continue
        origin = source.get(attribute)
        where = (f"  <- {origin['source_system']} {origin['source_key']}, {origin['rule']}"
                 if origin else "")  # fmt: skip
        lines.append(f"  {attribute} = {value}{where}")
    lines += ["", "member records (source, key, strongest match probability):"]
    lines += [f"  {s} {k}  {p:.4f}" for _, s, k, p in members.iter_rows()]
    if pairs.height:
        lines += ["", "pairs between members (strongest evidence first):"]
        lines += _pair_lines(pairs, top=4)
    return lines


# golden.ids from one ID along retired_into (a cycle is impossible by construction: an ID
# retires into one that lives on; the depth bound only keeps a damaged table from looping)
_CHAIN = """
WITH RECURSIVE chain AS (
    SELECT *, 0 AS step FROM golden.ids WHERE golden_id = ?
    UNION ALL
    SELECT i.*, c.step + 1 FROM golden.ids i JOIN chain c
    ON i.golden_id = c.retired_into AND i.entity = c.entity WHERE c.step < 1000
)
SELECT * FROM chain ORDER BY step
"""


def _chain(con: duckdb.DuckDBPyConnection, golden_id: str) -> pl.DataFrame:
    return _sql(con, _CHAIN, golden_id)


def resolve(database: Path, golden_id: str) -> list[str]:
    """The chain of merges from `golden_id` to the ID that holds its records now, and that
    ID's member records."""
    with duckdb.connect(str(database), read_only=True) as con:
        chain = _chain(con, golden_id)
        if chain.height == 0:
            raise NotFound(f"no golden ID {golden_id!r} was ever issued in {database}")
        last = chain.row(-1, named=True)
        members = _sql(con, "SELECT source_system, source_key FROM golden.xref WHERE "
                       "golden_id = ? AND valid_to IS NULL ORDER BY ALL",
                       last["golden_id"])  # fmt: skip
    lines = []
    for row in chain.iter_rows(named=True):
        if row["status"] == "retired" and row["retired_into"]:
            lines.append(
                f"{row['golden_id']} merged into {row['retired_into']} in version "
                f"{row['retired_version']} ({row['retired_at']:%Y-%m-%d %H:%M} UTC)"
            )
    if last["status"] == "active":
        lines.append(f"{last['golden_id']} ({last['entity']}): current, "
                     f"{members.height} source record(s): "
                     + ", ".join(f"{s}:{k}" for s, k in members.iter_rows()))  # fmt: skip
    else:
        lines.append(f"{last['golden_id']} ({last['entity']}) was retired in version "
                     f"{last['retired_version']}: its records left every source")  # fmt: skip
    return lines


def _parse(record: str) -> tuple[str, str]:
    system, sep, key = record.partition(":")
    if not sep or not system or not key:
        raise ValueError(f"{record!r}: a record is SYSTEM:KEY, e.g. crm:0035J000006Alj7")
    return system, key


def pair(database: Path, first: str, second: str, entity: str | None = None) -> list[str]:
    """One decision: the pair's probability, every comparison's level and bits, and what came
    of it (one golden record, the review queue, or apart)."""
    (s1, k1), (s2, k2) = _parse(first), _parse(second)
    with duckdb.connect(str(database), read_only=True) as con:
        ids = {}
        for system, key in ((s1, k1), (s2, k2)):
            found = _sql(con, "SELECT entity, golden_id FROM golden.xref WHERE source_system = ? "
                         "AND source_key = ? AND valid_to IS NULL"
                         + (" AND entity = ?" if entity else ""),
                         system, key, *([entity] if entity else []))  # fmt: skip
            if found.height != 1:
                raise NotFound(f"{system}:{key} is not one current record of golden.xref "
                               f"({found.height} found; quarantined records are in "
                               "audit.quarantine)")  # fmt: skip
            ids[(system, key)] = found.row(0)
        (e1, g1), (e2, g2) = ids[(s1, k1)], ids[(s2, k2)]
        e1, e2 = _entity(e1), _entity(e2)
        if e1 != e2:
            return [f"{first} is a record of {e1}, {second} of {e2}: never compared"]
        pairs = _sql(con, f'SELECT * FROM match."pairs_{e1}" WHERE (left_system = ? AND '
                     "left_key = ? AND right_system = ? AND right_key = ?) OR (left_system = ? "
                     "AND left_key = ? AND right_system = ? AND right_key = ?)",
                     s1, k1, s2, k2, s2, k2, s1, k1)  # fmt: skip
        queued = _has_review_queue(con) and _sql(
            con, "SELECT count(*) AS n FROM match.review_queue WHERE entity = ? AND "
            "((left_system = ? AND left_key = ? AND right_system = ? AND right_key = ?) OR "
            "(left_system = ? AND left_key = ? AND right_system = ? AND right_key = ?))",
            e1, s1, k1, s2, k2, s2, k2, s1, k1,
        )["n"][0] > 0  # fmt: skip
    together = f"both in {g1}" if g1 == g2 else f"apart: {g1} and {g2}"
    if pairs.height == 0:
        return [f"{first} ~ {second} ({e1}): never compared, no blocking rule put them "
                f"together; {together}"]  # fmt: skip
    row = pairs.row(0, named=True)
    verdict = "in the review queue" if queued else ("merged" if g1 == g2 else "not merged")
    lines = [
        f"{first} ~ {second} ({e1}, {row['party']}): match probability "
        f"{row['probability']:.4f}, weight {row['weight']:+.1f} bits; {verdict}; {together}",
        f"  blocked by: {row['rules']}",
        "",
        "evidence (comparison, level, bits):",
    ]
    detail = explain.evidence(pairs.head(1)).sort(pl.col("bits").abs(), descending=True)
    for c in detail.iter_rows(named=True):
        lines.append(f"  {c['comparison']:<14} {c['level_name']:<12} {c['bits']:+6.1f}")
    absent = sorted(set(explain.LEVEL_NAMES.filter(pl.col("party") == row["party"])["comparison"])
                    - set(detail["comparison"]))  # fmt: skip
    if absent:
        lines.append(f"  no evidence (a side is empty): {', '.join(absent)}")
    if g1 == g2 and row["probability"] < 0.5:
        lines.append("  (held together through other records: see mdm explain --golden-id)")
    return lines
