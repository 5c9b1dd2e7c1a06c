"""The publish asset: every entity's checked golden version into mdm.duckdb, atomically, with
the analyst views over them and the run's audit tables."""

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from . import ledger
from .assets import golden_contract, owners
from .contracts import Project
from .warehouse import WarehouseResource

PUBLISHED = {  # intermediate name -> published table, per entity
    "golden": "golden.{entity}",
    "xref": "golden.xref",
    "review": "match.review_queue",
}
# The bulky tables (at a million entities: 8M customer pairs, 24M lineage rows), published as
# views over their Parquet exports (`WarehouseResource.publish`)
PUBLISHED_AS_PARQUET = {
    "lineage": "golden.lineage",
    "pairs": "match.pairs_{entity}",
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


def published_tables(entities: tuple[str, ...], read) -> dict[str, pl.DataFrame]:
    """schema.table -> frame for `entities`; `read(name, entity)` reads one intermediate.
    The cross-reference of every entity shares one table, as does the review queue."""
    tables: dict[str, list[pl.DataFrame]] = {}
    for entity in entities:
        for name, table in PUBLISHED.items():
            tables.setdefault(table.format(entity=entity), []).append(read(name, entity))
    return {name: pl.concat(frames, how="vertical_relaxed") for name, frames in tables.items()}


def published_files(entities: tuple[str, ...], path) -> dict[str, list]:
    """schema.table -> the intermediate files of `entities` it is published from;
    `path(name, entity)` names one."""
    files: dict[str, list] = {}
    for entity in entities:
        for name, table in PUBLISHED_AS_PARQUET.items():
            files.setdefault(table.format(entity=entity), []).append(path(name, entity))
    return files


def views(entities: tuple[str, ...]) -> dict[str, str]:
    """The analyst views the published entities allow (schema.view -> CREATE VIEW)."""
    if {"customer", "account", "contract"} <= set(entities):
        return {"golden.customer_360": CUSTOMER_360}
    return {}


def publish_asset(project: Project, entities: tuple[str, ...]) -> dg.AssetsDefinition:
    team = golden_contract(project, entities[0]).team if entities else None

    @dg.asset(
        key=dg.AssetKey(["publish"]),
        deps=[dg.AssetKey(["golden", e]) for e in entities],
        group_name="publish",
        owners=owners(project, team) if team else None,
        kinds={"duckdb", "parquet"},
        description="Publishes the checked golden version of every entity into mdm.duckdb "
        "atomically (a new file renamed over the old one) with Parquet exports and the "
        "golden.customer_360 view; runs only when no blocking check failed.",
    )
    def publish(context: AssetExecutionContext, warehouse: WarehouseResource):
        tables = published_tables(entities, lambda name, entity: pl.read_parquet(
            warehouse.intermediate("golden", f"{name}_{entity}")))  # fmt: skip
        # the version carries the ledger up to itself: earlier runs, and this run's quarantine
        run_id = context.run.run_id
        quarantine = pl.concat(
            [pl.read_parquet(warehouse.intermediate("quarantine", e)) for e in entities]
        )
        tables["audit.quarantine"] = pl.concat([
            ledger.read(warehouse.root, "audit.quarantine"),
            quarantine.with_columns(run_id=pl.lit(run_id)).select(list(ledger.QUARANTINE_SCHEMA))
            .cast(ledger.QUARANTINE_SCHEMA),
        ])  # fmt: skip
        tables["audit.runs"] = ledger.read(warehouse.root, "audit.runs")
        tables["audit.check_results"] = ledger.read(warehouse.root, "audit.check_results")
        files = published_files(entities, lambda name, entity: warehouse.intermediate(
            "golden", f"{name}_{entity}"))  # fmt: skip
        path, counts = warehouse.publish(tables, run_id, views(entities), parquet=files)
        return dg.MaterializeResult(metadata={
            "database": dg.MetadataValue.path(str(path)),
            **{f"rows {name}": frame.height for name, frame in tables.items()},
            **{f"rows {name}": n for name, n in counts.items()},
        })  # fmt: skip

    return publish
