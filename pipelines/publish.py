"""Write-audit-publish: the `version` asset builds the run's complete new version (golden
tables, cross-reference with history, ID registry and events, lineage, pairs, audit tables,
exports) where no reader looks; its blocking check audits what was built; only then does the
`publish` asset switch `mdm.duckdb` to it, atomically (`pipelines.versions`)."""

import json
from datetime import UTC, datetime
from functools import partial

import dagster as dg
import duckdb
import polars as pl
from dagster import AssetExecutionContext

from . import drift, ledger, report, usage, versions
from .assets import golden_contract, owners
from .contracts import Project
from .executor import HEAVY
from .settings import CostSettings
from .warehouse import WarehouseResource, quoted

# intermediate name -> published table, per entity. Every one is a view in the version's
# database over its Parquet export (`WarehouseResource.build`): the cross-reference of every
# entity shares one table (with its history: rows closed by this run or before), as do the
# review queue, the lineage, the ID registry (every golden ID ever issued) and the ID events
# (the published version's, then this run's)
PUBLISHED = {
    "golden": "golden.{entity}",
    "xref": "golden.xref",
    "xref_closed": "golden.xref",
    "lineage": "golden.lineage",
    "pairs": "match.pairs_{entity}",
    "review": "match.review_queue",
    "ids": "golden.ids",
    "id_events": "audit.id_events",
}

# One row per golden customer with what it holds. Amounts in different currencies are never
# added up: the total is given when the customer's contracts share one currency, and the map
# holds the total per currency always.
CUSTOMER_360 = """
CREATE VIEW golden.customer_360 AS
WITH accounts AS (
    SELECT customer_golden_id,
           count(*) AS accounts,
           count(*) FILTER (WHERE status = 'active') AS active_accounts
    FROM golden.account GROUP BY customer_golden_id
), contracts AS (
    SELECT customer_golden_id,
           count(*) AS contracts,
           count(*) FILTER (WHERE status = 'active') AS active_contracts
    FROM golden.contract GROUP BY customer_golden_id
), per_currency AS (
    SELECT customer_golden_id, coalesce(currency, 'unknown') AS currency, sum(amount) AS value
    FROM golden.contract GROUP BY ALL
), value AS (
    SELECT customer_golden_id,
           CASE WHEN count(*) = 1 THEN any_value(currency) ELSE 'mixed' END AS contract_currency,
           CASE WHEN count(*) = 1 THEN round(sum(value), 2) END AS total_contract_value,
           map_from_entries(list({'k': currency, 'v': round(value, 2)} ORDER BY currency))
               AS contract_value_by_currency
    FROM per_currency GROUP BY customer_golden_id
)
SELECT c.golden_id AS customer_golden_id,
       c.party_type,
       coalesce(c.organization_name, c.full_name) AS name,
       c.country,
       coalesce(a.accounts, 0) AS accounts,
       coalesce(a.active_accounts, 0) AS active_accounts,
       coalesce(k.contracts, 0) AS contracts,
       coalesce(k.active_contracts, 0) AS active_contracts,
       v.total_contract_value,
       v.contract_currency,
       v.contract_value_by_currency
FROM golden.customer AS c
LEFT JOIN accounts AS a ON a.customer_golden_id = c.golden_id
LEFT JOIN contracts AS k ON k.customer_golden_id = c.golden_id
LEFT JOIN value AS v ON v.customer_golden_id = c.golden_id
"""


def published_files(entities: tuple[str, ...], path) -> dict[str, list]:
    """schema.table -> the intermediate files of `entities` it is published from;
    `path(name, entity)` names one."""
    files: dict[str, list] = {}
    for entity in entities:
        for name, table in PUBLISHED.items():
            files.setdefault(table.format(entity=entity), []).append(path(name, entity))
    return files


def views(entities: tuple[str, ...]) -> dict[str, str]:
    """The analyst views the published entities allow (schema.view -> CREATE VIEW)."""
    if {"customer", "account", "contract"} <= set(entities):
        return {"golden.customer_360": CUSTOMER_360}
    return {}


def _stamp(warehouse: WarehouseResource, entity: str) -> dict:
    path = warehouse.intermediate("golden", f"stamp_{entity}").with_suffix(".json")
    return json.loads(path.read_text())


def _stamps(warehouse: WarehouseResource, entities: tuple[str, ...]) -> dict:
    """The base version, version number and time every golden asset of the run built on:
    one for all, and the base still the published one (else a rollback or another run
    published meanwhile, and the IDs were inherited from a version that is no longer it)."""
    stamps = [_stamp(warehouse, e) for e in entities]
    if any(s != stamps[0] for s in stamps):
        raise RuntimeError(f"the golden assets of this run built on different versions: {stamps}")
    published = warehouse.published_version()
    if (published.number if published else None) != stamps[0]["base"]:
        raise RuntimeError(
            f"the published version changed during this run (from {stamps[0]['base']} to "
            f"{published.number if published else None}: a rollback, or another run): run again"
        )
    return stamps[0]


def _quarantine(warehouse: WarehouseResource, entities, run_id: str) -> pl.DataFrame:
    held = pl.concat([pl.read_parquet(warehouse.intermediate("quarantine", e)) for e in entities])
    return pl.concat([
        ledger.read(warehouse.root, "audit.quarantine"),
        held.with_columns(run_id=pl.lit(run_id)).select(list(ledger.QUARANTINE_SCHEMA))
        .cast(ledger.QUARANTINE_SCHEMA),
    ])  # fmt: skip


def _check_summary(context: AssetExecutionContext) -> dict:
    """The run's check results so far (every check of the assets the version holds)."""
    records = context.instance.all_logs(
        context.run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    )
    evaluations = [r.dagster_event.event_specific_data for r in records]
    failed = [f"{e.asset_key.to_user_string()}:{e.check_name}" for e in evaluations
              if not e.passed]  # fmt: skip
    return {"checks": len(evaluations), "passed": len(evaluations) - len(failed),
            "failed_warnings": sorted(failed)}  # fmt: skip


def version_asset(project: Project, entities: tuple[str, ...]) -> dg.AssetsDefinition:
    team = golden_contract(project, entities[0]).team

    @dg.asset(
        key=dg.AssetKey(["version"]),
        deps=[dg.AssetKey(["golden", e]) for e in entities],
        group_name="publish",
        owners=owners(project, team),
        op_tags=HEAVY,
        kinds={"duckdb", "parquet"},
        description="Builds this run's complete new version (versions/vNNNNNN: mdm.duckdb and "
        "its Parquet exports) where no reader looks; its blocking check audits it before "
        "`publish` switches mdm.duckdb to it.",
    )
    def version(context: AssetExecutionContext, warehouse: WarehouseResource):
        stamp = _stamps(warehouse, entities)
        built = versions.prepare(warehouse.root, stamp["version"])

        def golden(name: str, entity: str):
            return warehouse.intermediate("golden", f"{name}_{entity}")

        # the version carries the ledger up to itself: earlier runs, and this run's quarantine
        run_id = context.run.run_id
        tables = {"audit.quarantine": partial(_quarantine, warehouse, entities, run_id)}
        for name in ("audit.runs", "audit.check_results", "audit.publications", "audit.erasures"):
            tables[name] = partial(ledger.read, warehouse.root, name)
        files = published_files(entities, golden)
        if stamp["base"] is not None:  # the events so far, then this run's
            earlier = versions.folder(warehouse.root, stamp["base"]) / versions.EXPORT / "golden"
            if (earlier / "audit_id_events.parquet").exists():
                files["audit.id_events"].insert(0, earlier / "audit_id_events.parquet")
        rows = warehouse.build(built, files, tables, views(entities))
        info = {
            "version": built.number, "base": stamp["base"], "run_id": run_id,
            "as_of": stamp["at"], "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "golden": {e: rows[f"golden.{e}"] for e in entities}, "rows": rows,
            # what the next run's drift checks compare with (`pipelines.drift`)
            "profiles": {e: json.loads(drift.profile_path(warehouse, e).read_text())
                         for e in entities},
            **_check_summary(context),
        }  # fmt: skip
        (built.path / versions.INFO).write_text(json.dumps(info, indent=1))
        return dg.MaterializeResult(metadata={
            "version": built.number,
            "base_version": stamp["base"] or 0,
            "database": dg.MetadataValue.path(str(built.database)),
            **{f"rows {name}": n for name, n in rows.items()},
        })  # fmt: skip

    return version


# What the audits share, each grouping of the cross-reference's millions of rows made once: TEMP
# tables (the version's database is opened read-only). A record with history has several rows;
# a first run's records have one each, so `_history` is empty then.
_SCRATCH = {
    "_several": """SELECT entity, source_system, source_key FROM golden.xref
                   GROUP BY ALL HAVING count(*) > 1""",
    "_history": """SELECT * FROM golden.xref SEMI JOIN _several
                   USING (entity, source_system, source_key)""",
    "_in_use": "SELECT DISTINCT entity, golden_id FROM golden.xref WHERE valid_to IS NULL",
}

# What a version must hold before it may be published, each as a query returning the rows
# that break it (SQL from code; table names from code), over the version and `_SCRATCH`
AUDITS = {
    # two current rows of one record are two rows of a record with several
    "one_current_xref_row_per_record": """
        SELECT entity, source_system, source_key FROM _history WHERE valid_to IS NULL
        GROUP BY ALL HAVING count(*) > 1""",
    "xref_intervals_never_overlap": """
        SELECT a.entity, a.source_system, a.source_key FROM _history a JOIN _history b
        USING (entity, source_system, source_key)
        WHERE a.valid_from < coalesce(b.valid_to, 'infinity'::TIMESTAMPTZ)
          AND b.valid_from < coalesce(a.valid_to, 'infinity'::TIMESTAMPTZ)
          AND NOT (a.golden_id = b.golden_id AND a.valid_from = b.valid_from)""",
    "golden_ids_are_active": """
        SELECT x.entity, x.golden_id FROM _in_use x
        LEFT JOIN golden.ids i USING (entity, golden_id)
        WHERE i.status IS DISTINCT FROM 'active'""",
    "retired_ids_point_at_known_ids": """
        SELECT i.entity, i.golden_id FROM golden.ids i
        LEFT JOIN golden.ids j ON j.entity = i.entity AND j.golden_id = i.retired_into
        WHERE i.retired_into IS NOT NULL AND j.golden_id IS NULL""",
    "id_registry_has_no_duplicates": """
        SELECT entity, golden_id FROM golden.ids GROUP BY ALL HAVING count(*) > 1""",
}


_GOLDEN_AUDIT = """
    SELECT coalesce(g.golden_id, x.golden_id) AS golden_id
    FROM {table} g
    FULL JOIN (SELECT golden_id FROM _in_use WHERE entity = ?) x USING (golden_id)
    WHERE g.golden_id IS NULL OR x.golden_id IS NULL"""


def _golden_audits(entities: tuple[str, ...]) -> dict[str, tuple[str, list]]:
    """Per entity: every golden record held by a current xref row, every current row's ID a
    golden record."""
    return {
        f"golden_{e}_matches_xref": (_GOLDEN_AUDIT.format(table=quoted(f"golden.{e}")), [e])
        for e in entities
    }


def audit(con: duckdb.DuckDBPyConnection, entities: tuple[str, ...]) -> dict[str, list[tuple]]:
    """Every audit of the version open in `con` (AUDITS, and golden records against the
    cross-reference per entity) with the rows that break it: none, and it may be published."""
    for name, sql in _SCRATCH.items():
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
    audits = {k: (sql, []) for k, sql in AUDITS.items()} | _golden_audits(entities)
    return {name: con.execute(sql, params).fetchall() for name, (sql, params) in audits.items()}


def version_check(project: Project, entities: tuple[str, ...]) -> dg.AssetChecksDefinition:
    contract = golden_contract(project, entities[0])
    who = owners(project, contract.team)

    @dg.asset_check(
        asset=dg.AssetKey(["version"]),
        name="version_is_complete_and_consistent",
        blocking=True,
        description="The built version holds every table with the rows the run produced, one "
        "current cross-reference row per record, history intervals that never overlap, only "
        f"active golden IDs in use, and retired IDs that point at known ones. Owners: "
        f"{', '.join(who)}",
        metadata={"owners": who, "team": contract.team, "contract": str(contract.file)},
        op_tags={"mdm/team": contract.team},
    )
    def audited(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        stamp = _stamp(warehouse, entities[0])
        built = versions.folder(warehouse.root, stamp["version"])
        info = json.loads((built / versions.INFO).read_text())
        failing: dict[str, int] = {}
        samples: dict[str, list] = {}
        with duckdb.connect(str(built / versions.DATABASE), read_only=True) as con:
            for name, expected in info["rows"].items():
                found = con.sql(f"SELECT count(*) FROM {quoted(name)}").fetchall()[0][0]
                if found != expected:
                    failing[f"rows {name}"] = abs(found - expected)
            for name, rows in audit(con, entities).items():
                if rows:
                    failing[name] = len(rows)
                    samples[name] = [list(map(str, r)) for r in rows[:5]]
        return dg.AssetCheckResult(
            passed=not failing,
            metadata={
                "version": stamp["version"],
                "failing": dg.MetadataValue.json(failing),
                "failing_keys_sample": dg.MetadataValue.json(samples),
            },  # fmt: skip
        )

    return audited


def publish_asset(
    project: Project, entities: tuple[str, ...], prices: CostSettings
) -> dg.AssetsDefinition:
    team = golden_contract(project, entities[0]).team

    @dg.asset(
        key=dg.AssetKey(["publish"]),
        deps=[dg.AssetKey(["version"]), dg.AssetKey(["analytics"])],
        group_name="publish",
        owners=owners(project, team),
        kinds={"duckdb"},
        description="Switches mdm.duckdb, analytics.duckdb and export/ to the version this "
        "run built, "
        "atomically, once its audit passed; keeps the last published versions for "
        "`mdm rollback`. Runs only when no blocking check failed.",
    )
    def publish(context: AssetExecutionContext, warehouse: WarehouseResource):
        stamp = _stamps(warehouse, entities)
        built = versions.Version(stamp["version"], versions.folder(warehouse.root,
                                                                   stamp["version"]))  # fmt: skip
        versions.switch(warehouse.root, built)
        versions.mark_published(built)
        pruned = versions.prune(warehouse.root, warehouse.keep_versions)
        storage, spent = usage.folder_gb(built.path), usage.cpu_seconds()
        return dg.MaterializeResult(metadata={
            # the run so far (audit.runs has the final figures): CPU, the version's storage
            "run_cpu_seconds": spent,
            "version_gb": storage,
            "run_cost_usd": usage.cost(spent, storage, prices.cpu_hour, prices.gb_month),
            "version": built.number,
            "database": dg.MetadataValue.path(str(warehouse.database)),
            "versions_kept": len(versions.kept(warehouse.root)),
            "versions_pruned": dg.MetadataValue.json(pruned),
            # written by `mdm run` once the run is in the ledger
            "run_report": dg.MetadataValue.path(str(report.path_for(warehouse.root,
                                                                    context.run.run_id))),
        })  # fmt: skip

    return publish
