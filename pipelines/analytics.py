"""The broad audience's copy of a version: `analytics.duckdb` and `export/analytics/`.

`analytics.<table>` mirrors `golden.<table>` column for column, with the same `golden_id`, and
each classified column masked as its golden contract declares (`pipelines.masking`). It is
built inside the version the run is building, from that version's exports, before anything is
published: `publish` switches both databases at once. Access is by file permission: the
full-detail database and exports are readable by their owner group only (0640, folders 0750),
the analytics ones by everyone (0644, 0755); the warehouse key is 0600.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow.parquet as pq

from . import masking, versions
from .assets import golden_contract, owners
from .contracts import GoldenContract, Project
from .executor import HEAVY
from .publish import _stamp, views
from .warehouse import (
    COPY_COMPRESSION,
    PRIVATE_DIR,
    WarehouseResource,
    export_name,
    quoted,
    sql_literal,
)

# Tables stand in the database's `main` schema: a reader who opens analytics.duckdb has it as
# the catalog `analytics`, so `analytics.customer` names the table (a schema called analytics
# too would make that name ambiguous to DuckDB)
SCHEMA = "main"
CATALOG = "analytics"
FOLDER = "analytics"  # export/analytics/
PRIVATE = 0o640
PUBLIC, PUBLIC_DIR = 0o644, 0o755
# tables without classified values (keys, IDs, rules), copied as they are: views over a copy
# of their Parquet export (at a million entities 24M lineage rows; loading the 4M xref rows
# into DuckDB and exporting them again took 4.4 of the step's 20 s)
COPIED = ("golden.xref", "golden.lineage", "golden.ids")


def mirrored(table: str) -> str:
    """`golden.customer` -> `main.customer`, which readers of analytics.duckdb call
    `analytics.customer`."""
    return f"{SCHEMA}.{table.split('.', 1)[1]}"


def shown(table: str) -> str:
    """`main.customer` -> `analytics.customer`, as readers name it."""
    return f"{CATALOG}.{table.split('.', 1)[1]}"


def _select(contract: GoldenContract, source: Path, repeated: set[str]) -> str:
    """The masked SELECT of one golden table's export (identifiers from the contract, quoted;
    the HMAC keys are parameters). A hashed column in `repeated` is hashed once per distinct
    value and joined back (`_repeated`)."""
    masked, table = contract.masked, f"read_parquet({sql_literal(source)})"
    columns, joins = [], []
    for name in pq.read_schema(source).names:  # every column the golden table has, in order
        column, mask = quoted_column(name), masked.get(name)
        own = f"_golden.{column}"
        if mask is None:
            columns.append(f"{own} AS {column}")
        elif mask.method == "hash" and name in repeated:
            hashed = f"_hashed{len(joins)}"
            joins.append(f"LEFT JOIN ({masking.distinct_hashes(column, table)}) AS {hashed} "
                         f"ON {own} = {hashed}.value")  # fmt: skip
            columns.append(f"{hashed}.hash AS {column}")
        else:
            kind = contract.property_named(name).logical_type
            columns.append(masking.expression(own, mask, kind, name=column))
    return f"SELECT {', '.join(columns)} FROM {table} AS _golden {' '.join(joins)}"


# A hashed column with fewer distinct values than this share of its rows is hashed per distinct
# value: at 1M entities, HMAC of 1M given names (41k distinct) 0.63 s, of the distinct ones
# joined back 0.28 s; of 1M full names (550k distinct) 0.79 s against 1.13 s
_REPEATED = 0.1


def _repeated(con: duckdb.DuckDBPyConnection, contract: GoldenContract, source: Path) -> set[str]:
    """The hashed columns of `source` whose values repeat (given names, birth dates), by an
    estimate of their distinct values: one scan of those columns."""
    present = set(pq.read_schema(source).names)
    hashed = [n for n, m in contract.masked.items() if m.method == "hash" and n in present]
    if not hashed:
        return set()
    counts = ", ".join(f"approx_count_distinct({quoted_column(n)})" for n in hashed)
    rows, *distinct = con.sql(f"SELECT count(*), {counts} FROM "
                              f"read_parquet({sql_literal(source)})").fetchall()[0]  # fmt: skip
    return {n for n, d in zip(hashed, distinct, strict=True) if d < _REPEATED * rows}


def quoted_column(name: str) -> str:
    if not name.isidentifier():
        raise ValueError(f"invalid column name {name!r}")
    return f'"{name}"'


def build(version: versions.Version, contracts: list[GoldenContract], key: bytes) -> dict:
    """Write `version`'s analytics.duckdb and export/analytics/ from its golden exports: each
    masked table written once, as its Parquet export, with a view over it in the database (as
    `mdm.duckdb` holds the full-detail ones). Returns rows per table."""
    golden = version.export / "golden"
    out = version.export / FOLDER
    out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    with duckdb.connect(str(version.path / versions.ANALYTICS)) as con:
        con.execute("SET preserve_insertion_order = false")
        for contract in contracts:
            table = mirrored(contract.table)
            target = out / export_name(shown(table))
            source = golden / export_name(contract.table)
            select = _select(contract, source, _repeated(con, contract, source))
            con.execute(f"COPY ({select}) "
                        f"TO {sql_literal(target)} (FORMAT parquet, {COPY_COMPRESSION})",
                        masking.pads(key) if _hashes(contract) else None)  # fmt: skip
            _view(con, table, target)
        for table in COPIED:
            source = golden / export_name(table)
            if source.exists():
                target = out / export_name(shown(mirrored(table)))
                shutil.copyfile(source, target)  # a copy: a link would share the 0640 mode
                _view(con, mirrored(table), target)
        for sql in views(tuple(c.entity for c in contracts)).values():
            # the same view over the masked tables (its `name` is then masked too), naming
            # them without a catalog: they resolve in the view's own, whatever a reader
            # attaches the file as
            con.execute(sql.replace("golden.", ""))
            name = mirrored(sql.split("CREATE VIEW ", 1)[1].split()[0])
            con.execute(f"COPY {quoted(name)} TO {sql_literal(out / export_name(shown(name)))} "
                        f"(FORMAT parquet, {COPY_COMPRESSION})")  # fmt: skip
        for (name,) in con.sql(
            "SELECT view_name FROM duckdb_views() WHERE NOT internal"
        ).fetchall():
            table = mirrored(f"x.{name}")
            rows[shown(table)] = con.sql(f"SELECT count(*) FROM {quoted(table)}").fetchall()[0][0]
    protect(version)
    return rows


def _view(con: duckdb.DuckDBPyConnection, table: str, target: Path) -> None:
    con.execute(f"CREATE VIEW {quoted(table)} AS SELECT * FROM read_parquet({sql_literal(target)})")


def _hashes(contract: GoldenContract) -> bool:
    """Whether the contract's SELECT binds the HMAC keys (DuckDB refuses unused parameters)."""
    return any(m.method == "hash" for m in contract.masked.values())


def protect(version: versions.Version) -> None:
    """File modes of a built version: full detail for the owner group, analytics for all."""
    for folder in (version.path, version.export):
        os.chmod(folder, PUBLIC_DIR)
    for path, mode, folder_mode in (
        (version.export / "golden", PRIVATE, PRIVATE_DIR),
        (version.export / FOLDER, PUBLIC, PUBLIC_DIR),
    ):
        if path.is_dir():
            os.chmod(path, folder_mode)
            for file in path.iterdir():
                os.chmod(file, mode)
    for name, mode in ((versions.DATABASE, PRIVATE), (versions.ANALYTICS, PUBLIC),
                       (versions.INFO, PUBLIC)):  # fmt: skip
        if (version.path / name).exists():
            os.chmod(version.path / name, mode)


def _building(warehouse: WarehouseResource, entity: str) -> versions.Version:
    """The version this run is building (its golden steps' stamp)."""
    number = _stamp(warehouse, entity)["version"]
    return versions.Version(number, versions.folder(warehouse.root, number))


def analytics_asset(project: Project, entities: tuple[str, ...]) -> dg.AssetsDefinition:
    contracts = [golden_contract(project, e) for e in entities]

    @dg.asset(
        key=dg.AssetKey(["analytics"]),
        deps=[dg.AssetKey(["version"])],
        group_name="publish",
        owners=owners(project, contracts[0].team),
        op_tags=HEAVY,
        kinds={"duckdb", "parquet"},
        description="Builds the version's analytics.duckdb and export/analytics/: every golden "
        "table with its classified columns masked as the golden contracts declare (keyed "
        "hash, partial, redact), for broad access; published with the version.",
    )
    def analytics(warehouse: WarehouseResource) -> dg.MaterializeResult:
        version = _building(warehouse, contracts[0].entity)
        rows = build(version, contracts, masking.warehouse_key(warehouse.root))
        masked = {shown(mirrored(c.table)): {n: m.method for n, m in c.masked.items()}
                  for c in contracts}  # fmt: skip
        return dg.MaterializeResult(metadata={
            "version": version.number,
            "database": dg.MetadataValue.path(str(version.path / versions.ANALYTICS)),
            "masked_columns": dg.MetadataValue.json(masked),
            **{f"rows {name}": n for name, n in rows.items()},
        })  # fmt: skip

    return analytics


def analytics_check(project: Project, entities: tuple[str, ...]) -> dg.AssetChecksDefinition:
    contracts = [golden_contract(project, e) for e in entities]
    who = owners(project, contracts[0].team)

    @dg.asset_check(
        asset=dg.AssetKey(["analytics"]),
        name="classified_values_are_masked",
        blocking=True,
        description="Every analytics table has its golden table's rows and columns, and no "
        "masked column holds a value equal to its full-detail one. Owners: " + ", ".join(who),
        metadata={"owners": who, "team": contracts[0].team, "contract": str(contracts[0].file)},
        op_tags={"mdm/team": contracts[0].team},
    )
    def masked(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        version = _building(warehouse, contracts[0].entity)
        failing = _unmasked(version, contracts)
        return dg.AssetCheckResult(
            passed=not failing,
            metadata={"version": version.number, "failing": dg.MetadataValue.json(failing)},
        )

    return masked


def _unmasked(version: versions.Version, contracts: list[GoldenContract]) -> dict[str, int]:
    """Per table and column, how many rows break the mirror (counts only, never values)."""
    failing: dict[str, int] = {}
    with duckdb.connect(str(version.path / versions.ANALYTICS), read_only=True) as con:
        con.execute(f"ATTACH {sql_literal(version.database)} AS full_detail (READ_ONLY)")
        for contract in contracts:
            table = contract.table.split(".", 1)[1]
            ours, theirs = quoted(mirrored(contract.table)), f'full_detail.golden."{table}"'
            same = [n for (n,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_catalog = ? "
                "AND table_schema = 'golden' AND table_name = ? ORDER BY ordinal_position",
                ["full_detail", table]).fetchall()]  # fmt: skip
            mine = [d[0] for d in con.sql(f"SELECT * FROM {ours} LIMIT 0").description]
            if mine != same:
                failing[f"{contract.table} columns"] = len(set(mine) ^ set(same)) or 1
            counts = con.sql(f"SELECT (SELECT count(*) FROM {ours}) - "
                             f"(SELECT count(*) FROM {theirs})").fetchall()[0][0]  # fmt: skip
            if counts:
                failing[f"{contract.table} rows"] = abs(counts)
            masked = list(contract.masked)
            if not masked:
                continue
            # every masked column compared in one join of the two tables
            equal = [f"count(*) FILTER (WHERE CAST(a.{c} AS VARCHAR) = CAST(g.{c} AS VARCHAR))"
                     for c in map(quoted_column, masked)]  # fmt: skip
            leaked = con.sql(f"SELECT {', '.join(equal)} FROM {ours} a "
                             f"JOIN {theirs} g USING (golden_id)").fetchall()[0]  # fmt: skip
            for column, count in zip(masked, leaked, strict=True):
                if count:
                    failing[f"{contract.table}.{column}"] = count
    return failing
