"""Checks the pipeline itself owes, whatever the contracts say: every source record accounted
for, and every golden child pointing at golden parents that exist."""

from __future__ import annotations

import dagster as dg
import polars as pl

from matching.hierarchy import dangling

from .assets import (
    PARENTS,
    broken_references,
    golden_contract,
    markdown,
    owners,
    project_entities,
)
from .contracts import Project
from .warehouse import WarehouseResource

_SAMPLE = 5


def _check_kwargs(
    project: Project, entity: str, description: str, stage: str = "golden", blocking: bool = True
) -> dict:
    contract = golden_contract(project, entity)
    who = owners(project, contract.team)
    return {
        "asset": dg.AssetKey([stage, entity]),
        "blocking": blocking,
        "description": f"{description} Owners: {', '.join(who)}",
        "metadata": {"owners": who, "team": contract.team, "contract": str(contract.file)},
        "op_tags": {"mdm/team": contract.team},
    }


def _accounting_check(project: Project, entity: str) -> dg.AssetChecksDefinition:
    sources = [c for c in project.sources if c.entity == entity]

    @dg.asset_check(
        name="every_record_accounted_for",
        **_check_kwargs(project, entity, f"Every {entity} record of every source (as landed, "
                        "plus every line the reader rejected) is a row of the cross-reference or "
                        "of the quarantine, exactly once."),
    )  # fmt: skip
    def accounting(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        xref = pl.read_parquet(warehouse.intermediate("golden", f"xref_{entity}"))
        quarantine = pl.read_parquet(warehouse.intermediate("quarantine", entity))
        rows, passed = [], True
        for contract in sources:
            name = contract.dataset
            landed = pl.scan_parquet(warehouse.intermediate("raw", name)).select(pl.len())
            rejected = pl.scan_parquet(warehouse.intermediate("rejects", name)).select(pl.len())
            arrived = landed.collect().item() + rejected.collect().item()
            resolved = xref.filter(pl.col("source_system") == contract.source_system).height
            held = quarantine.filter(pl.col("source") == name).height
            ok = arrived == resolved + held
            passed &= ok
            rows.append({"source": name, "records": arrived, "in_xref": resolved,
                         "quarantined": held, "balanced": ok})  # fmt: skip
        duplicated = int(xref.select("source_system", "source_key").is_duplicated().sum())
        passed &= duplicated == 0
        return dg.AssetCheckResult(
            passed=passed,
            metadata={
                "per_source": dg.MetadataValue.md(markdown(pl.DataFrame(rows))),
                "duplicated_xref_keys": duplicated,
            },
        )

    return accounting


def dangling_references(entity: str, read) -> pl.DataFrame:
    """Every reference of golden `entity` records to a golden parent that does not exist, and
    every contract whose customer is not its account's: `reference`, `golden_id`, `points_to`.
    `read(entity)` reads a golden table."""
    table = read(entity)
    found = []
    for parent in PARENTS[entity]:
        column = f"{parent}_golden_id"
        bad = dangling(table, column, read(parent))
        found.append(bad.select(reference=pl.lit(column), golden_id="golden_id",
                                points_to=pl.col(column)))  # fmt: skip
    if entity == "contract":
        owner = read("account").select(pl.col("golden_id").alias("account_golden_id"),
                                       pl.col("customer_golden_id").alias("_owner"))  # fmt: skip
        mixed = table.join(owner, on="account_golden_id").filter(
            pl.col("customer_golden_id") != pl.col("_owner")
        )
        found.append(mixed.select(
            reference=pl.lit("customer_golden_id (not the account's)"),
            golden_id="golden_id", points_to="customer_golden_id",
        ))  # fmt: skip
    return pl.concat(found) if found else pl.DataFrame()


def _references_check(project: Project, entity: str) -> dg.AssetChecksDefinition:
    parents = " and ".join(f"golden {p}" for p in PARENTS[entity])

    @dg.asset_check(
        name="references_resolve",
        **_check_kwargs(project, entity, f"Every golden {entity} points to an existing "
                        f"{parents} of this run (a contract's customer is its account's)."),
    )  # fmt: skip
    def references(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        def read(name: str) -> pl.DataFrame:
            # the IDs alone: whole golden tables (every attribute) took most of the check
            path = warehouse.intermediate("golden", f"golden_{name}")
            ids = [c for c in pl.read_parquet_schema(path) if c.endswith("golden_id")]
            return pl.read_parquet(path, columns=ids)

        bad = dangling_references(entity, read)
        summary = bad.group_by("reference").agg(
            records=pl.len(), sample=pl.col("golden_id").sort().head(_SAMPLE).str.join(", ")
        )
        return dg.AssetCheckResult(
            passed=bad.height == 0,
            metadata={
                "dangling_references": bad.height,
                **({"by_reference": dg.MetadataValue.md(markdown(summary))} if bad.height else {}),
            },
        )

    return references


def _orphans_check(project: Project, entity: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        name="no_broken_references",
        **_check_kwargs(project, entity, f"No {entity} record references a parent record that "
                        "does not exist or is quarantined. Such records are quarantined with "
                        "the reference named and the run goes on; this warns, per source, with "
                        "counts and sample keys.", stage="staged", blocking=False),
    )  # fmt: skip
    def orphans(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        quarantine = pl.read_parquet(warehouse.intermediate("quarantine", entity))
        broken = broken_references(quarantine)
        return dg.AssetCheckResult(
            passed=broken.height == 0,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "broken_references": int(broken["records"].sum()) if broken.height else 0,
                **({"by_source": dg.MetadataValue.md(markdown(broken))} if broken.height else {}),
            },
        )

    return orphans


def build_pipeline_checks(project: Project) -> list[dg.AssetChecksDefinition]:
    """The accounting invariant per entity; broken references and referential integrity per
    child entity."""
    checks = []
    for entity in project_entities(project):
        checks.append(_accounting_check(project, entity))
        if PARENTS[entity]:
            checks += [_orphans_check(project, entity), _references_check(project, entity)]
    return checks
